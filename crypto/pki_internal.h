/*
 * What the host PKI files share (crypto/pki_host.c writes certificates,
 * crypto/pki_csr.c certificate requests): mbedTLS-typed helpers, so not in
 * pki_host.h, which the tools include without mbedTLS's headers.
 */
#ifndef CUSTOS_CRYPTO_PKI_INTERNAL_H
#define CUSTOS_CRYPTO_PKI_INTERNAL_H

#include <stdbool.h>

#include "crypto/crypto.h"
#include "mbedtls/ecp.h"
#include "mbedtls/pk.h"

/* The DRBG of crypto.c as an mbedTLS f_rng. */
int pki_rng(void *ctx, unsigned char *out, size_t len);
/* pk <- the P-384 key pair of priv (the public point computed). */
int pki_pk_from_priv(mbedtls_pk_context *pk, const uint8_t priv[CRYPTO_P384_PRIV_LEN]);
/* The P-384 key in pk, or NULL if it is another kind of key. */
mbedtls_ecp_keypair *pki_p384_of(mbedtls_pk_context *pk);
/* The uncompressed point of ec. */
int pki_write_pub(const mbedtls_ecp_keypair *ec, uint8_t pub[CRYPTO_P384_PUB_LEN]);
/* A CN that needs no escaping in mbedTLS's "CN=..." name strings. */
bool pki_cn_ok(const char *cn);
/* The extendedKeyUsage extension's value for role (its OID, and the TLS
 * purpose it implies), DER, written at the end of buf[0, cap): *der
 * points into buf. 0 or an mbedTLS error. */
int pki_eku_der(enum crypto_role role, unsigned char *buf, size_t cap,
		unsigned char **der, size_t *der_len);

/* How to write one kind of mbedTLS object (a certificate, a request) as
 * DER and as PEM, each into a buffer of up to its max bytes. */
struct pki_writer {
	int (*der)(void *w, unsigned char *buf, size_t size);
	int (*pem)(void *w, unsigned char *buf, size_t size);
	size_t der_max, pem_max;
};
struct pki_cert;
/* out <- the DER and PEM of w (freshly allocated; all zero on failure).
 * 0 or an mbedTLS error. */
int pki_write_der_pem(const struct pki_writer *wr, void *w, struct pki_cert *out);

#endif
