/*
 * Host-only PKI helpers for the Custos tools (CA, signing station, tenant
 * CLI): P-384 key files and certificates with Custos roles. Built only
 * into the host crypto library (libmbedtls's x509write and pk write); the
 * TCB itself only ever checks certificates (crypto_x509_verify).
 *
 * Files: keys are PEM "EC PRIVATE KEY" (SEC1), created with mode 0600;
 * nothing is ever overwritten, and every file appears whole or not at all
 * (crypto/new_file.h). Every function returns CRYPTO_OK or
 * a CRYPTO_E_* code with a one-line reason in err (if err_len > 0).
 *
 * Certificates issued here (all ECDSA-SHA-384 over P-384 keys, X.509 v3,
 * a random positive 128-bit serial, valid from now for 'days' days, subject
 * and authority key identifiers):
 *  - CA root: self-signed, subject CN=<cn>, basicConstraints CA:TRUE
 *    pathlen 0 (critical), keyUsage keyCertSign | cRLSign;
 *  - end entity: signed by the CA, subject CN=<cn>, basicConstraints
 *    CA:FALSE, extendedKeyUsage = the role's OID (crypto_role_oid()), plus
 *    id-kp-clientAuth for a tenant and id-kp-serverAuth for the TPGVM TLS
 *    server (TLS stacks insist on those), keyUsage keyAgreement for
 *    CRYPTO_ROLE_TCB_KEX and CRYPTO_ROLE_TCB_KEX_DEV and digitalSignature
 *    for every other role.
 */
#ifndef CUSTOS_CRYPTO_PKI_HOST_H
#define CUSTOS_CRYPTO_PKI_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "crypto/crypto.h"

/* A good size for the err buffers. */
#define PKI_ERR_LEN 256
/* Longest CN accepted (X.520 ub-common-name). */
#define PKI_CN_MAX 64

/* A certificate in both encodings; heap buffers, freed by pki_cert_free(). */
struct pki_cert {
	uint8_t *der;
	size_t der_len;
	char *pem;      /* NUL-terminated */
	size_t pem_len; /* without the NUL */
};
void pki_cert_free(struct pki_cert *c);

/* Generate a P-384 key and write it to path (mode 0600, refusing to
 * overwrite). priv and pub may be NULL; otherwise they receive the key. */
int pki_key_generate(const char *path, uint8_t priv[CRYPTO_P384_PRIV_LEN],
		     uint8_t pub[CRYPTO_P384_PUB_LEN], char *err, size_t err_len);
/* The PEM "EC PRIVATE KEY" of priv into pem (cap bytes, NUL-terminated;
 * PKI_KEY_PEM_MAX is enough), its length without the NUL in *len. For a
 * caller that writes the file itself (tools/cli.c: all outputs or none). */
#define PKI_KEY_PEM_MAX 1024
int pki_key_encode_pem(const uint8_t priv[CRYPTO_P384_PRIV_LEN], char *pem, size_t cap,
		       size_t *len, char *err, size_t err_len);
/* Write an existing private scalar to path the same way. */
int pki_key_write(const char *path, const uint8_t priv[CRYPTO_P384_PRIV_LEN],
		  char *err, size_t err_len);
/* Read a PEM (or DER) private key file: it must be a P-384 EC key. pub may
 * be NULL. */
int pki_key_read(const char *path, uint8_t priv[CRYPTO_P384_PRIV_LEN],
		 uint8_t pub[CRYPTO_P384_PUB_LEN], char *err, size_t err_len);

/* Issue a self-signed CA root for the key ca_priv. */
int pki_issue_root(const uint8_t ca_priv[CRYPTO_P384_PRIV_LEN], const char *cn,
		   unsigned days, struct pki_cert *out, char *err, size_t err_len);
/* Issue an end-entity certificate with role for the public key subject_pub,
 * signed by the CA whose certificate (DER) is ca_der and whose key is
 * ca_priv (checked to match the certificate). */
int pki_issue_leaf(const uint8_t ca_priv[CRYPTO_P384_PRIV_LEN],
		   const uint8_t *ca_der, size_t ca_der_len,
		   const uint8_t subject_pub[CRYPTO_P384_PUB_LEN], const char *cn,
		   enum crypto_role role, unsigned days, struct pki_cert *out,
		   char *err, size_t err_len);

/* Read a certificate file (PEM, or DER) into DER: *der is a heap buffer
 * the caller frees. Exactly one certificate must be in the file. */
int pki_cert_read(const char *path, uint8_t **der, size_t *der_len,
		  char *err, size_t err_len);

/* Create path with the given mode and write data, refusing to overwrite an
 * existing file: through a temporary file that is fsync'd and renamed
 * (crypto/new_file.h), so the file appears whole or not at all. For
 * certificates (0644) and anything else the tools write. CRYPTO_E_INVAL
 * when something exists at path. */
int pki_write_file(const char *path, const void *data, size_t len, mode_t mode,
		   char *err, size_t err_len);

/* ---- Certificate requests (crypto/pki_csr.c) ------------------------------
 * PKCS#10 requests for tenant enrollment: the tenant makes its key and a
 * request (custos enroll), the CA checks and signs it (custos-ca sign-csr),
 * and never sees the private key. */

/* Largest request accepted (ours are about 500 bytes as PEM). */
#define PKI_CSR_MAX 4096

/* A request for a certificate with role for the key priv, subject CN=cn,
 * signed with it (ECDSA-SHA-384); the role goes in an extensionRequest
 * attribute as the extendedKeyUsage the certificate would carry. */
int pki_csr_make(const uint8_t priv[CRYPTO_P384_PRIV_LEN], const char *cn,
		 enum crypto_role role, struct pki_cert *out, char *err, size_t err_len);

/* A request read and checked: a P-384 key, ECDSA-SHA-384, its
 * self-signature verifies with that key, and its subject is exactly one
 * CN that pki_issue_leaf takes. The CertificationRequestInfo (what the
 * signature covers, with the attributes) is copied out for the role check
 * (tools/csr_policy.c). Free with pki_csr_free. */
struct pki_csr {
	char cn[PKI_CN_MAX + 1];
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	uint8_t *cri;
	size_t cri_len;
};
/* data[0, len): PEM or DER, at most PKI_CSR_MAX bytes. CRYPTO_E_VERIFY
 * for a self-signature that does not verify, CRYPTO_E_INVAL for anything
 * else it refuses, with the reason in err. */
int pki_csr_read(const uint8_t *data, size_t len, struct pki_csr *out, char *err,
		 size_t err_len);
void pki_csr_free(struct pki_csr *c);

/* SHA-384 of the key's DER SubjectPublicKeyInfo: what `custos enroll` and
 * `custos-ca sign-csr` print, for the tenant and the CA to compare over
 * another channel (the same as `openssl pkey -pubout -outform DER | openssl
 * dgst -sha384`). */
void pki_key_fingerprint(const uint8_t pub[CRYPTO_P384_PUB_LEN],
			 uint8_t out[CRYPTO_SHA384_LEN]);

#endif
