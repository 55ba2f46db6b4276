/*
 * The one crypto layer of Custos, used by the hypervisor, the TPGVM and the
 * host tools alike. Implemented on mbedTLS 2.28: built freestanding from
 * Debian's source package for the hypervisor and the TPGVM, and linked
 * against the system libmbedtls on the host. Only what Custos needs, with
 * fixed algorithms (no agility to get wrong): SHA-256/384, HMAC-SHA-384,
 * HKDF-SHA-384, AES-256-GCM, AES-CFB (TPM sessions), ECDSA and ECDH on P-384, X.509 chains with
 * Custos roles, a CTR-DRBG.
 *
 * Encodings: private keys are 48-byte big-endian scalars; public keys are
 * 97-byte uncompressed points (0x04 || X || Y); signatures are 96 bytes
 * (r || s, each 48 bytes big-endian) over a SHA-384 digest.
 */
#ifndef CUSTOS_CRYPTO_H
#define CUSTOS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN   32
#define CRYPTO_SHA384_LEN   48
#define CRYPTO_P384_PRIV_LEN 48
#define CRYPTO_P384_PUB_LEN  97
#define CRYPTO_P384_SIG_LEN  96
#define CRYPTO_P384_SHARED_LEN 48
#define CRYPTO_AES256_KEY_LEN 32
#define CRYPTO_GCM_IV_LEN    12
#define CRYPTO_GCM_TAG_LEN   16

enum crypto_err {
	CRYPTO_OK = 0,
	CRYPTO_E_INVAL = -1,    /* malformed argument (bad key, bad length) */
	CRYPTO_E_VERIFY = -2,   /* signature, tag or chain does not verify */
	CRYPTO_E_NOMEM = -3,
	CRYPTO_E_RNG = -4,      /* no entropy, or the DRBG failed */
	CRYPTO_E_INTERNAL = -5, /* mbedTLS failed unexpectedly */
};

/* Short human name of an error, for log lines. */
const char *crypto_strerror(int err);

/* ---- Randomness ------------------------------------------------------------
 * A CTR-DRBG (AES-256) seeded from crypto_platform_entropy(), which the
 * platform provides: RDSEED/RDRAND in the hypervisor and the TPGVM (mixed
 * with the TPM's where there is one), the OS on the host.
 */
int crypto_init(void);
int crypto_random(void *buf, size_t len);
/* Reseed the DRBG, with extra (1..256 bytes: e.g. the TPM's GetRandom) as
 * additional input beside fresh platform entropy. */
int crypto_rng_mix(const void *extra, size_t len);
/* Fill buf with len bytes of entropy; 0 on success. */
int crypto_platform_entropy(void *buf, size_t len);

/* ---- Hashes and MACs --------------------------------------------------------- */
void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]);
void crypto_sha384(const void *data, size_t len, uint8_t out[CRYPTO_SHA384_LEN]);

/* Incremental SHA-256 (measuring data that arrives in pieces: the
 * component digests of a VM's launch measurement, docs/lifecycle.md). On
 * SHA-NI when crypto_sha256_simd_active() at init, else in portable C
 * (crypto/sha256_c.c); the same bytes either way. final wipes the
 * context. */
struct crypto_sha256_ctx {
	uint64_t opaque[16]; /* SHA-256's state, on either path, and the path */
};
void crypto_sha256_init(struct crypto_sha256_ctx *c);
void crypto_sha256_update(struct crypto_sha256_ctx *c, const void *data, size_t len);
void crypto_sha256_final(struct crypto_sha256_ctx *c, uint8_t out[CRYPTO_SHA256_LEN]);

/* Incremental SHA-384 (measuring data that arrives in pieces). */
struct crypto_sha384_ctx {
	uint64_t opaque[32]; /* holds an mbedtls_sha512_context */
};
void crypto_sha384_init(struct crypto_sha384_ctx *c);
void crypto_sha384_update(struct crypto_sha384_ctx *c, const void *data, size_t len);
void crypto_sha384_final(struct crypto_sha384_ctx *c, uint8_t out[CRYPTO_SHA384_LEN]);

int crypto_hmac_sha384(const void *key, size_t key_len, const void *data,
		       size_t len, uint8_t out[CRYPTO_SHA384_LEN]);
/* RFC 5869 with SHA-384; out_len <= 255 * 48. */
int crypto_hkdf_sha384(const void *salt, size_t salt_len, const void *ikm,
		       size_t ikm_len, const void *info, size_t info_len,
		       uint8_t *out, size_t out_len);

/* ---- AES-256-GCM (96-bit IV, 128-bit tag) ------------------------------------
 * decrypt returns CRYPTO_E_VERIFY on a bad tag and then zeroes pt. pt and ct
 * may be the same buffer. */
int crypto_aes256gcm_encrypt(const uint8_t key[CRYPTO_AES256_KEY_LEN],
			     const uint8_t iv[CRYPTO_GCM_IV_LEN],
			     const void *aad, size_t aad_len,
			     const void *pt, size_t len, void *ct,
			     uint8_t tag[CRYPTO_GCM_TAG_LEN]);
int crypto_aes256gcm_decrypt(const uint8_t key[CRYPTO_AES256_KEY_LEN],
			     const uint8_t iv[CRYPTO_GCM_IV_LEN],
			     const void *aad, size_t aad_len,
			     const void *ct, size_t len, void *pt,
			     const uint8_t tag[CRYPTO_GCM_TAG_LEN]);

/* ---- The vector window -------------------------------------------------------
 * AES-256-GCM (one-shot and streamed) runs on AES-NI and PCLMULQDQ when the
 * CPU has them (and SSSE3, SSE4.1) and their registers may be used;
 * SHA-256 (one-shot and streamed) on the SHA extensions (SHA-NI, CPUID.7
 * EBX bit 29, with SSSE3 and SSE4.1) likewise.
 *
 * The platform's vector-register window (docs/crypto.md): begin saves whatever
 * state the XMM registers hold for someone else, end puts it back. Registered
 * once by the hypervisor; without it (the TPGVM) AES-GCM and SHA-256 use the
 * portable paths (mbedTLS; crypto/sha256_c.c). Host builds need none. The struct is copied; NULL
 * (or a NULL member) unregisters. Every call into the SIMD code is
 * bracketed by one begin() and one end(), never nested; the CPU must
 * already execute SSE (CR0.EM clear, CR4.OSFXSR set) when begin() returns.
 */
struct crypto_simd_window { void (*begin)(void); void (*end)(void); };
void crypto_simd_register(const struct crypto_simd_window *w);
bool crypto_simd_active(void); /* true when AES-GCM uses AES-NI/PCLMULQDQ */
bool crypto_sha256_simd_active(void); /* true when SHA-256 uses SHA-NI */
/* Without SHA-NI: true when SHA-256's C code runs its build for BMI2
 * (crypto/sha256_c.c; the TCB and host tools, not the TPGVM). */
bool crypto_sha256_bmi2_active(void);

/* ---- AES-CFB (128-bit feedback) ---------------------------------------------
 * Only for TPM 2.0 parameter encryption (tcb/tpm2_session.c), which the TPM
 * specification fixes to CFB: no integrity of its own (the session's HMAC
 * gives that). key_len is 16 or 32 bytes (AES-128 or AES-256); buf is
 * en- or decrypted in place; len may be 0 and need not be a multiple of 16.
 */
#define CRYPTO_AES_BLOCK_LEN 16
int crypto_aes_cfb(bool encrypt, const uint8_t *key, size_t key_len,
		   const uint8_t iv[CRYPTO_AES_BLOCK_LEN], uint8_t *buf, size_t len);

/* ---- AES-256-GCM, streamed ---------------------------------------------------
 * The same cipher over data that arrives in pieces (sealed VM state, which
 * never sits whole in memory): begin, any number of updates, then finish
 * (encrypt: the tag out) or verify (decrypt: the tag checked in constant
 * time, CRYPTO_E_VERIFY if it differs).
 *
 * mbedTLS 2.28 rule, enforced here: every update but the last must be a
 * multiple of 16 bytes long. An update after one whose length was not a
 * multiple of 16 fails with CRYPTO_E_INVAL. Updates may be of length 0;
 * in and out may be the same buffer (not otherwise overlapping).
 *
 * A decrypting stream hands out plaintext before the tag is checked: the
 * caller must treat it as untrusted (and keep it to itself) until verify
 * returns CRYPTO_OK.
 *
 * The context is wiped and its memory released at the end of the stream:
 * by finish and verify (whatever they return), by any failing call, and by
 * crypto_aes256gcm_stream_abort(), which a caller giving up half-way must
 * call (safe on a stream that has already ended). Every call on an ended
 * stream fails with CRYPTO_E_INVAL. Not for a struct that was never begun.
 * The struct must not be copied or moved while a stream runs.
 */
struct crypto_gcm_stream {
	/* an mbedtls_gcm_context or the AES-NI path's round keys, H powers
	 * and state, and ours (crypto.c asserts it fits) */
	uint64_t opaque[64];
};
int crypto_aes256gcm_stream_begin(struct crypto_gcm_stream *s,
				  const uint8_t key[CRYPTO_AES256_KEY_LEN],
				  const uint8_t iv[CRYPTO_GCM_IV_LEN], bool encrypt,
				  const void *aad, size_t aad_len);
int crypto_aes256gcm_stream_update(struct crypto_gcm_stream *s, const void *in,
				   size_t len, void *out);
/* Encrypting streams only. */
int crypto_aes256gcm_stream_finish(struct crypto_gcm_stream *s,
				   uint8_t tag[CRYPTO_GCM_TAG_LEN]);
/* Decrypting streams only. */
int crypto_aes256gcm_stream_verify(struct crypto_gcm_stream *s,
				   const uint8_t tag[CRYPTO_GCM_TAG_LEN]);
void crypto_aes256gcm_stream_abort(struct crypto_gcm_stream *s);

/* ---- P-384 ---------------------------------------------------------------- */
int crypto_p384_keygen(uint8_t priv[CRYPTO_P384_PRIV_LEN],
		       uint8_t pub[CRYPTO_P384_PUB_LEN]);
int crypto_p384_public(const uint8_t priv[CRYPTO_P384_PRIV_LEN],
		       uint8_t pub[CRYPTO_P384_PUB_LEN]);
/* Sign a SHA-384 digest (deterministic or DRBG-randomised k: either is fine). */
int crypto_ecdsa_p384_sign(const uint8_t priv[CRYPTO_P384_PRIV_LEN],
			   const uint8_t digest[CRYPTO_SHA384_LEN],
			   uint8_t sig[CRYPTO_P384_SIG_LEN]);
/* CRYPTO_OK, or CRYPTO_E_VERIFY if the signature is wrong (or the key or
 * signature is malformed: never "maybe"). */
int crypto_ecdsa_p384_verify(const uint8_t pub[CRYPTO_P384_PUB_LEN],
			     const uint8_t *digest, size_t digest_len,
			     const uint8_t sig[CRYPTO_P384_SIG_LEN]);
/* The x coordinate of priv * peer; refuses a peer point not on the curve. */
int crypto_ecdh_p384(const uint8_t priv[CRYPTO_P384_PRIV_LEN],
		     const uint8_t peer[CRYPTO_P384_PUB_LEN],
		     uint8_t shared[CRYPTO_P384_SHARED_LEN]);

/* ---- X.509 and Custos roles --------------------------------------------------
 * A certificate's role is an extendedKeyUsage purpose under Custos' OID arc
 * 2.25.112316499844282042489265998744696497416 (a UUID OID, ITU-T X.667):
 * .1 signing station, .2 TCB signing key, .3 TCB key agreement, .4 tenant,
 * .5 TPGVM TLS server, .6 and .7 the development counterparts of .2 and .3
 * (a TCB whose keys travel in the clear on the boot media: docs/pki.md).
 * CA certificates carry basicConstraints CA:TRUE and no role. Certificates
 * hold P-384 keys signed with ECDSA-SHA-384.
 *
 * Validity periods are not checked: the TCB has no trusted clock (see
 * docs/pki.md); freshness comes from the protocol (nonces), and revocation
 * from re-issuing the CA root compiled into the hypervisor.
 */
#define CUSTOS_OID_ARC "2.25.112316499844282042489265998744696497416"

enum crypto_role {
	CRYPTO_ROLE_STATION = 1,
	CRYPTO_ROLE_TCB_SIGN = 2,
	CRYPTO_ROLE_TCB_KEX = 3,
	CRYPTO_ROLE_TENANT = 4,
	CRYPTO_ROLE_TPGVM_TLS = 5,
	CRYPTO_ROLE_TCB_SIGN_DEV = 6, /* a development TCB's signing key */
	CRYPTO_ROLE_TCB_KEX_DEV = 7,  /* a development TCB's key agreement */
	/* A platform TPM's attestation key, certified after credential
	 * activation proved it lives in the TPM of a checked EK certificate
	 * (custos-ca enroll, docs/tpm.md). */
	CRYPTO_ROLE_TCB_AK = 8,
};
#define CRYPTO_ROLE_FIRST CRYPTO_ROLE_STATION
#define CRYPTO_ROLE_LAST  CRYPTO_ROLE_TCB_AK
/* The bit of a role in a crypto_x509_roles() mask. */
#define CRYPTO_ROLE_BIT(role) (1u << (unsigned)(role))

const char *crypto_role_name(enum crypto_role role);
/* The role's extendedKeyUsage OID CUSTOS_OID_ARC.<role> as DER contents (no
 * tag, no length): for writing certificates. CRYPTO_E_INVAL for an unknown
 * role. */
int crypto_role_oid(enum crypto_role role, const uint8_t **oid, size_t *oid_len);
/* Whether the role's key agrees keys (keyUsage keyAgreement: tcb-kex and
 * tcb-kex-dev) rather than signs (digitalSignature: every other role). */
bool crypto_role_agrees_keys(enum crypto_role role);

/*
 * Verify that the DER certificate 'leaf' is signed by the DER CA certificate
 * 'root' (directly: Custos chains are root -> leaf), that root is a CA, that
 * leaf is not, and that leaf carries 'role'. On success copy the leaf's
 * P-384 public key into pub (if not NULL). On failure a one-line reason goes
 * into err (wrong CA, wrong role, malformed, not P-384, ...).
 */
int crypto_x509_verify(const uint8_t *leaf, size_t leaf_len,
		       const uint8_t *root, size_t root_len,
		       enum crypto_role role, uint8_t pub[CRYPTO_P384_PUB_LEN],
		       char *err, size_t err_len);

/*
 * The P-384 public key of the DER CA certificate 'root' (exactly one
 * certificate, basicConstraints CA:TRUE): the key whose signatures the
 * TPM checks for the CA's launch approvals (tcb/tpm_approval.h). Its own
 * signature is not checked: root is the compiled-in trust anchor.
 */
int crypto_x509_ca_public(const uint8_t *root, size_t root_len,
			  uint8_t pub[CRYPTO_P384_PUB_LEN], char *err, size_t err_len);

/*
 * The Custos roles the DER certificate 'der' names in its extendedKeyUsage,
 * as a mask of CRYPTO_ROLE_BIT()s (0: none), without checking its chain or
 * signature: for deciding which role to verify a certificate with, or to
 * refuse a role outright before any signature check. CRYPTO_OK, or
 * CRYPTO_E_INVAL for bytes that are not exactly one DER certificate.
 */
int crypto_x509_roles(const uint8_t *der, size_t len, unsigned *roles);

/* Zero memory in a way the compiler may not drop. */
void crypto_wipe(void *p, size_t len);

/* Known-answer self-test of every primitive above (NIST/RFC vectors);
 * CRYPTO_OK or an error with the failing primitive named in err. */
int crypto_selftest(char *err, size_t err_len);
/* The same without the CAVP ECDSA signature that must verify (the one that
 * must not verify stays): one ECDSA verify fewer, a third less time, for
 * every boot under emulation. See crypto/selftest.c. */
int crypto_selftest_quick(char *err, size_t err_len);

#endif
