/*
 * The certificate authority's side of attestation-key enrollment
 * (custos-ca enroll, docs/tpm.md): check that an attestation key is the
 * Custos AK, check a TPM's EK certificate against its vendor's CA, make a
 * TPM2 credential (TPM2_MakeCredential done in software, TPM 2.0 Part 1
 * section 24) that only the TPM holding both that EK and that AK can
 * recover with TPM2_ActivateCredential, and wrap the AK's certificate in
 * the "tpm-enrollment" boot module under a key derived from the credential.
 *
 * Host only: the hypervisor activates credentials, it never makes them, so
 * RSA-OAEP, AES-128-CFB and HMAC-SHA-256 come from mbedTLS directly here
 * rather than from the shared crypto layer (crypto/crypto.h), which stays
 * the TCB's fixed set of algorithms.
 *
 * Every function returns 0, or -1 with a one-line reason in err (err may
 * be NULL).
 */
#ifndef CUSTOS_TOOLS_TPM_CREDENTIAL_H
#define CUSTOS_TOOLS_TPM_CREDENTIAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"

/* The Custos AK's TPMT_PUBLIC: always exactly this long (the template
 * fixes every field; only the point varies). */
#define TPM_AK_PUBLIC_LEN   120u
/* Its Name: TPM_ALG_SHA384 (0x000c) || SHA-384(TPMT_PUBLIC). */
#define TPM_AK_NAME_LEN     50u
/* The EK: RSA 2048, exponent 65537 (TCG EK template L-1). */
#define TPM_EK_MODULUS_LEN  256u
/* The credential and the seed (the EK's nameAlg, SHA-256, sizes both). */
#define TPM_CREDENTIAL_LEN  32u
#define TPM_SEED_LEN        32u
/* TPM2B_ID_OBJECT contents: u16 32 || HMAC-SHA-256 || AES-CFB(u16 32 ||
 * credential). */
#define TPM_ID_OBJECT_LEN   (2u + 32u + 2u + TPM_CREDENTIAL_LEN)
/* TPM2B_ENCRYPTED_SECRET contents: the RSA-OAEP output. */
#define TPM_ENC_SECRET_LEN  TPM_EK_MODULUS_LEN

/* Whether point is an uncompressed point (04 || X || Y) on NIST P-384,
 * not the point at infinity: what a TPM's P-384 public key must be. */
bool tpm_p384_point_valid(const uint8_t point[CRYPTO_P384_PUB_LEN]);

/*
 * Check that pub (len bytes) is exactly a TPMT_PUBLIC of the Custos AK
 * template (what tcb/tpm2_cmd.c asks the TPM for): ECC, nameAlg SHA-384,
 * attributes fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|
 * restricted|sign (0x00050072), empty policy, symmetric NULL, ECDSA with
 * SHA-384, NIST P-384, kdf NULL, x and y 48 bytes each, a point on the
 * curve. On success point (0x04 || X || Y) and name (TPM_AK_NAME_LEN
 * bytes) are filled; either may be NULL.
 */
int tpm_ak_check(const uint8_t *pub, size_t len,
		 uint8_t point[CRYPTO_P384_PUB_LEN],
		 uint8_t name[TPM_AK_NAME_LEN], char *err, size_t err_len);

/*
 * The attestation key's TPMT_PUBLIC in a platform report of len bytes:
 * report_parse() (the structure only; the TCB's signature proves nothing
 * about the key: a development TCB's key is on its boot media) and the
 * TPM evidence it must carry. *ak points into rpt.
 */
int tpm_report_ak(const uint8_t *rpt, size_t len, const uint8_t **ak,
		  size_t *ak_len, char *err, size_t err_len);

/*
 * Check the DER EK certificate ek (exactly one certificate) against the
 * EK CA certificates ca[0..n_ca) (DER, any order): the self-signed ones
 * are the trust anchors, the others intermediates the chain may use. The
 * chain must verify (signatures RSA 2048+ with SHA-256, SHA-384 or
 * SHA-512; validity dates checked against this host's clock), the EK
 * certificate must not be a CA, may only limit its keyUsage to include
 * keyEncipherment, and its key must be RSA 2048 with exponent 65537. On
 * success the modulus, big-endian, goes into modulus.
 */
int tpm_ek_cert_check(const uint8_t *ek, size_t ek_len,
		      const uint8_t *const *ca, const size_t *ca_len, size_t n_ca,
		      uint8_t modulus[TPM_EK_MODULUS_LEN], char *err,
		      size_t err_len);

/*
 * KDFa with HMAC-SHA-256 (TPM 2.0 Part 1, 11.4.10.2): bits / 8 bytes of
 * HMAC(key, [i]32 || label || 0x00 || context_u || context_v || [bits]32)
 * for i = 1, 2, ... concatenated. bits must be a non-zero multiple of 8,
 * at most 8192. label is NUL-terminated (its NUL is the 0x00 above).
 */
int tpm_kdfa_sha256(const uint8_t *key, size_t key_len, const char *label,
		    const uint8_t *context_u, size_t u_len,
		    const uint8_t *context_v, size_t v_len, unsigned bits,
		    uint8_t *out);

/* A random generator for RSA-OAEP, mbedTLS's shape. */
typedef int (*tpm_rng_fn)(void *ctx, unsigned char *buf, size_t len);

/*
 * TPM2_MakeCredential for an EK of the TCG template L-1 (RSA 2048, nameAlg
 * SHA-256, AES-128 CFB) whose modulus is ek_modulus, and the object named
 * ak_name:
 *   encrypted_secret = RSA-OAEP-SHA-256(label "IDENTITY\0", seed) under EK
 *   symKey  = KDFa(seed, "STORAGE", ak_name, empty, 128)
 *   hmacKey = KDFa(seed, "INTEGRITY", empty, empty, 256)
 *   encIdentity = AES-128-CFB(symKey, IV 0, u16 32 || credential)
 *   id_object = u16 32 || HMAC-SHA-256(hmacKey, encIdentity || ak_name)
 *               || encIdentity
 * seed and credential are the caller's (fresh random bytes, except in
 * tests); rng feeds OAEP.
 */
int tpm_make_credential(const uint8_t ek_modulus[TPM_EK_MODULUS_LEN],
			const uint8_t ak_name[TPM_AK_NAME_LEN],
			const uint8_t credential[TPM_CREDENTIAL_LEN],
			const uint8_t seed[TPM_SEED_LEN], tpm_rng_fn rng,
			void *rng_ctx, uint8_t id_object[TPM_ID_OBJECT_LEN],
			uint8_t encrypted_secret[TPM_ENC_SECRET_LEN],
			char *err, size_t err_len);

/*
 * The "tpm-enrollment" boot module (lengths little-endian):
 *   8    magic "CUSTENR1"
 *   4    version 1
 *   2+50 the AK's Name (the TCB checks it is its own AK)
 *   2+68 the credential blob (TPM2B_ID_OBJECT contents)
 *   2+256 the encrypted secret (TPM2B_ENCRYPTED_SECRET contents)
 *   12   GCM nonce
 *   2+n  the AK certificate (DER), AES-256-GCM encrypted: n bytes
 *   16   GCM tag
 * key = HKDF-SHA-384(salt empty, ikm credential, info "CUSTOS-AK-CERT-1"),
 * AAD = every byte before the nonce. The module holds nothing secret to
 * anyone but the TPM that can activate the credential. The TCB reads it
 * with tcb/tpm_enroll.c; the reader here is the tool's own, for its tests.
 */
#define TPM_ENROLL_MAGIC     "CUSTENR1"
#define TPM_ENROLL_MAGIC_LEN 8u
#define TPM_ENROLL_VERSION   1u
#define TPM_ENROLL_KEY_INFO  "CUSTOS-AK-CERT-1"
#define TPM_ENROLL_AAD_LEN   (8u + 4u + 2u + TPM_AK_NAME_LEN + 2u + \
			      TPM_ID_OBJECT_LEN + 2u + TPM_ENC_SECRET_LEN)
/* The TCB's limit (tcb/tpm_enroll.h), which reports share for the AK's
 * certificate (REPORT_TPM_CERT_MAX). */
#define TPM_ENROLL_CERT_MAX  2048u
/* The whole module for a certificate of n bytes. */
#define TPM_ENROLL_LEN(n)    (TPM_ENROLL_AAD_LEN + CRYPTO_GCM_IV_LEN + 2u + \
			      (n) + CRYPTO_GCM_TAG_LEN)

/* Build the module into out (TPM_ENROLL_LEN(cert_len) bytes). */
int tpm_enroll_build(const uint8_t ak_name[TPM_AK_NAME_LEN],
		     const uint8_t id_object[TPM_ID_OBJECT_LEN],
		     const uint8_t encrypted_secret[TPM_ENC_SECRET_LEN],
		     const uint8_t credential[TPM_CREDENTIAL_LEN],
		     const uint8_t nonce[CRYPTO_GCM_IV_LEN],
		     const uint8_t *cert, size_t cert_len, uint8_t *out,
		     char *err, size_t err_len);

/* A parsed module: pointers into its buffer. */
struct tpm_enroll {
	const uint8_t *ak_name;          /* TPM_AK_NAME_LEN bytes */
	const uint8_t *id_object;        /* TPM_ID_OBJECT_LEN bytes */
	const uint8_t *encrypted_secret; /* TPM_ENC_SECRET_LEN bytes */
	const uint8_t *nonce;            /* CRYPTO_GCM_IV_LEN bytes */
	const uint8_t *cert_ct;          /* cert_len bytes, encrypted */
	size_t cert_len;                 /* 1..TPM_ENROLL_CERT_MAX */
	const uint8_t *tag;              /* CRYPTO_GCM_TAG_LEN bytes */
};

/* Structural parse of a module of exactly len bytes. */
int tpm_enroll_parse(const uint8_t *buf, size_t len, struct tpm_enroll *out,
		     char *err, size_t err_len);

/* Decrypt a parsed module's certificate with the activated credential into
 * cert (e->cert_len bytes); refuses a wrong credential or any change to
 * the module's bytes (the tag covers them all). */
int tpm_enroll_open(const uint8_t *buf, const struct tpm_enroll *e,
		    const uint8_t credential[TPM_CREDENTIAL_LEN], uint8_t *cert,
		    char *err, size_t err_len);

#endif
