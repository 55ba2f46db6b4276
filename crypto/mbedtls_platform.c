/*
 * Platform glue for the freestanding mbedTLS (kernel build only; on the host
 * the system libmbedtls has its own).
 *
 * mbedTLS is configured with MBEDTLS_ENTROPY_HARDWARE_ALT and no platform
 * entropy (crypto/mbedtls_config_kernel.h), so its entropy collector has
 * exactly one source: mbedtls_hardware_poll() below, which asks the
 * platform's crypto_platform_entropy() (RDSEED/RDRAND, the TPM) for bytes.
 */
#ifndef CRYPTO_HOST

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "mbedtls/entropy.h"
#include "mbedtls/entropy_poll.h"
#include "mbedtls/platform_util.h"

int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len,
			  size_t *olen)
{
	(void)data;
	*olen = 0;
	if (!crypto_have_platform_entropy())
		return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
	if (crypto_platform_entropy(output, len) != 0) {
		mbedtls_platform_zeroize(output, len);
		return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
	}
	*olen = len;
	return 0;
}

#endif
