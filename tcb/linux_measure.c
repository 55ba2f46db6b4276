/*
 * A Linux VM's launch measurement (tcb/linux_measure.h).
 */
#include "tcb/linux_measure.h"
#include "tcb/byteorder.h"
#include "crypto/crypto.h"

#include <string.h>

static void put_le64(struct crypto_sha384_ctx *c, uint64_t v)
{
	uint8_t b[8];

	store_le64(b, v);
	crypto_sha384_update(c, b, sizeof(b));
}

void linux_launch_measurement(const char *name, uint64_t mem_size,
			      const uint8_t kernel_digest[LINUX_COMPONENT_LEN],
			      uint64_t kernel_len,
			      const uint8_t initrd_digest[LINUX_COMPONENT_LEN],
			      uint64_t initrd_len,
			      const uint8_t cmdline_digest[LINUX_COMPONENT_LEN],
			      uint64_t cmdline_len, uint8_t out[LINUX_DIGEST_LEN])
{
	struct crypto_sha384_ctx c;
	uint8_t padded[LINUX_NAME_LEN] = { 0 };
	size_t n = 0;

	while (n < LINUX_NAME_LEN - 1 && name[n]) {
		padded[n] = (uint8_t)name[n];
		n++;
	}
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, LINUX_LAUNCH_TAG, strlen(LINUX_LAUNCH_TAG));
	crypto_sha384_update(&c, padded, sizeof(padded));
	put_le64(&c, mem_size);
	crypto_sha384_update(&c, kernel_digest, LINUX_COMPONENT_LEN);
	put_le64(&c, kernel_len);
	crypto_sha384_update(&c, initrd_digest, LINUX_COMPONENT_LEN);
	put_le64(&c, initrd_len);
	crypto_sha384_update(&c, cmdline_digest, LINUX_COMPONENT_LEN);
	put_le64(&c, cmdline_len);
	crypto_sha384_final(&c, out);
}

void linux_launch_measurement_of(const char *name, uint64_t mem_size,
				 const uint8_t *kernel, size_t kernel_len,
				 const uint8_t *initrd, size_t initrd_len,
				 const char *cmdline, size_t cmdline_len,
				 uint8_t out[LINUX_DIGEST_LEN])
{
	uint8_t dk[LINUX_COMPONENT_LEN], di[LINUX_COMPONENT_LEN], dc[LINUX_COMPONENT_LEN];

	crypto_sha256(kernel, kernel_len, dk);
	crypto_sha256(initrd_len ? (const void *)initrd : "", initrd_len, di);
	crypto_sha256(cmdline_len ? (const void *)cmdline : "", cmdline_len, dc);
	linux_launch_measurement(name, mem_size, dk, kernel_len, di, initrd_len,
				 dc, cmdline_len, out);
}
