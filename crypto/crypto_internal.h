/* Private to crypto/: what the wrapper files share. */
#ifndef CUSTOS_CRYPTO_INTERNAL_H
#define CUSTOS_CRYPTO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/crypto.h"
#include "mbedtls/x509_crt.h"

#ifndef CRYPTO_HOST
/*
 * In the hypervisor and the TPGVM the platform defines
 * crypto_platform_entropy(). The reference is weak so that an image which
 * does not (yet) provide it still links; crypto_init() then fails with
 * CRYPTO_E_RNG instead of running without entropy.
 */
#pragma weak crypto_platform_entropy
#endif

/* Format a one-line reason into err (when there is room) and return rc,
 * for "return crypto_err_set(err, err_len, CRYPTO_E_..., ...)". */
int crypto_err_set(char *err, size_t err_len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The DRBG as an mbedTLS f_rng (ctx unused); seeds itself on first use. */
int crypto_drbg_random(void *ctx, unsigned char *out, size_t len);

/* The only algorithms a Custos certificate may use: ECDSA with SHA-384
 * over P-384 keys (chains and TLS peers alike). */
extern const mbedtls_x509_crt_profile crypto_custos_profile;

/* The certificate's key if it is a P-384 EC key, else NULL. */
const mbedtls_ecp_keypair *crypto_p384_key_of(const mbedtls_x509_crt *c);

/* Does the certificate's extendedKeyUsage list the role OID itself (not
 * just anyExtendedKeyUsage, not by having no EKU at all)? */
bool crypto_cert_has_role_oid(const mbedtls_x509_crt *c, const uint8_t *oid,
			      size_t oid_len);

/* For tests and benchmarks: true makes AES-GCM and SHA-256 take their
 * portable paths (mbedTLS; crypto/sha256_c.c) even where
 * crypto_simd_active() or crypto_sha256_simd_active() would be true
 * (streams already begun keep their path). */
void crypto_simd_force_off(bool off);

/* For tests and benchmarks: true makes SHA-256's C path run its plain
 * build where crypto_sha256_bmi2_active() would be true. */
void crypto_sha256_bmi2_force_off(bool off);

/* Is crypto_platform_entropy() there to call? */
static inline bool crypto_have_platform_entropy(void)
{
#ifdef CRYPTO_HOST
	return true;
#else
	return crypto_platform_entropy != NULL;
#endif
}

#endif
