/* Private to crypto/: what the wrapper files share. */
#ifndef CUSTOS_CRYPTO_INTERNAL_H
#define CUSTOS_CRYPTO_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "crypto/crypto.h"

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
