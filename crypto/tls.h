/*
 * The one TLS profile of Custos, for both ends of the tenant channel: the
 * TPGVM's server (freestanding mbedTLS) and the tenant CLI's client (the
 * system libmbedtls). Both ends configure through here, so they cannot
 * disagree about what is allowed:
 *   TLS 1.2 only; TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384 only; P-384 only
 *   (key exchange and certificates); ECDSA with SHA-384 only; extended
 *   master secret; no renegotiation, no session tickets or resumption.
 *
 * The TPGVM's certificate is self-signed, made at start for a key that never
 * leaves it: a tenant does not trust it by chain but by the platform report,
 * which carries the SHA-384 of its SubjectPublicKeyInfo (docs/report.md).
 */
#ifndef CUSTOS_CRYPTO_TLS_H
#define CUSTOS_CRYPTO_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
#include "mbedtls/x509_crt.h"

/* Defaults for endpoint (MBEDTLS_SSL_IS_SERVER / _CLIENT) with the profile
 * above and the crypto layer's DRBG. The caller adds certificates, the CA
 * chain and the authentication mode. CRYPTO_OK or an error. */
int crypto_tls_config(mbedtls_ssl_config *conf, int endpoint);

/*
 * A fresh P-384 key (from the DRBG) in key and a self-signed certificate for
 * it in crt (subject and issuer CN=cn, role CRYPTO_ROLE_TPGVM_TLS, random
 * serial, not a CA). key and crt must be initialised and empty.
 */
int crypto_tls_self_signed(mbedtls_pk_context *key, mbedtls_x509_crt *crt,
			   const char *cn);

/* Make the handshake refuse a peer certificate that does not carry role
 * (checked on the leaf, on top of the chain to the configured CA). */
void crypto_tls_require_peer_role(mbedtls_ssl_config *conf, enum crypto_role role);

/* The P-384 public key of a certificate (04 || X || Y); CRYPTO_E_INVAL if
 * its key is not P-384. */
int crypto_tls_cert_pub(const mbedtls_x509_crt *crt,
			uint8_t pub[CRYPTO_P384_PUB_LEN]);

/*
 * mbedtls_ssl_read(), and then the plaintext it returned is zeroed where
 * TLS decrypted it (the record in ssl->in_msg), so the only copy left is
 * the caller's buf: wipe that with crypto_wipe() once it is handled. Bytes
 * of the record not read yet stay until a later call takes them. mbedTLS
 * 2.28 zeroes consumed application data itself (since 2.24); this does
 * not depend on it. Both ends read through here (tpgvm/session.c, the
 * tenant CLI), so a request carrying secrets (VM_CREATE) leaves nothing
 * behind in either TLS stack. Returns what mbedtls_ssl_read() returns.
 */
int crypto_tls_read(mbedtls_ssl_context *ssl, unsigned char *buf, size_t len);

/* Short description of an mbedTLS error code for log lines ("bad record
 * MAC", "fatal alert received", ...); never NULL. */
const char *crypto_tls_strerror(int ret);

#endif
