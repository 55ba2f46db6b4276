/*
 * crypto_kernel_speed: the hashes the TCB measures VMs with, as the
 * hypervisor builds them, on the host: linked with the kernel-config blob
 * of crypto/crypto.mk (crypto/crypto.c, crypto/sha256_c.c and mbedTLS
 * compiled with the kernel's flags and configuration; only the code model
 * differs), for bench/crypto_speed.py.
 *
 *   crypto_kernel_speed [SECONDS]   each measurement for about SECONDS (0.3)
 *   crypto_kernel_speed --work MODE BYTES   run MODE over BYTES once and
 *                                   nothing else (for callgrind)
 *
 * Modes, each a stream in 4 KiB updates (a page, as the TCB measures a
 * VM's image):
 *   sha256-c         crypto_sha256_*: without a vector window, the C path
 *                    (launch measurement v2 on a CPU without SHA-NI), its
 *                    plain build (the TPGVM's; the TCB's without BMI2)
 *   sha256-c-bmi2    the same with a (no-op) window and SHA-NI forced off:
 *                    its BMI2 build, the TCB's on a CPU with BMI2 (left
 *                    out where this CPU has none; --work exits 3)
 *   sha256-mbedtls   mbedTLS's SHA-256 (that path before crypto/sha256_c.c)
 *   sha384-mbedtls   crypto_sha384_*, mbedTLS's SHA-512 (launch measurement
 *                    v1)
 * Prints "NAME MB/s" lines (MB = 10^6 bytes per second of CPU time).
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "mbedtls/sha256.h"

#define LEN (1u << 20)
#define PAGE 4096u

static uint8_t buf[16u << 20];

static size_t piece(size_t len, size_t off)
{
	return len - off < PAGE ? len - off : PAGE;
}

static __attribute__((noinline)) void sha256_c(size_t len)
{
	struct crypto_sha256_ctx c;
	uint8_t out[CRYPTO_SHA256_LEN];

	crypto_sha256_init(&c);
	for (size_t off = 0; off < len; off += PAGE)
		crypto_sha256_update(&c, buf + off, piece(len, off));
	crypto_sha256_final(&c, out);
	buf[0] ^= out[0];
}

static __attribute__((noinline)) void sha256_mbedtls(size_t len)
{
	mbedtls_sha256_context c;
	uint8_t out[32];

	mbedtls_sha256_init(&c);
	(void)mbedtls_sha256_starts_ret(&c, 0);
	for (size_t off = 0; off < len; off += PAGE)
		(void)mbedtls_sha256_update_ret(&c, buf + off, piece(len, off));
	(void)mbedtls_sha256_finish_ret(&c, out);
	mbedtls_sha256_free(&c);
	buf[0] ^= out[0];
}

static void window_nop(void)
{
}

static const struct crypto_simd_window window = { window_nop, window_nop };

/* Does the kernel build's C path run its BMI2 build here? */
static bool have_bmi2(void)
{
	bool on;

	crypto_simd_register(&window);
	on = crypto_sha256_bmi2_active();
	crypto_simd_register(NULL);
	return on;
}

static __attribute__((noinline)) void sha256_c_bmi2(size_t len)
{
	crypto_simd_register(&window);
	crypto_simd_force_off(true);
	sha256_c(len);
	crypto_simd_force_off(false);
	crypto_simd_register(NULL);
}

static __attribute__((noinline)) void sha384_mbedtls(size_t len)
{
	struct crypto_sha384_ctx c;
	uint8_t out[CRYPTO_SHA384_LEN];

	crypto_sha384_init(&c);
	for (size_t off = 0; off < len; off += PAGE)
		crypto_sha384_update(&c, buf + off, piece(len, off));
	crypto_sha384_final(&c, out);
	buf[0] ^= out[0];
}

static const struct {
	const char *name;
	void (*work)(size_t len);
} modes[] = {
	{ "sha256-c", sha256_c },
	{ "sha256-c-bmi2", sha256_c_bmi2 },
	{ "sha256-mbedtls", sha256_mbedtls },
	{ "sha384-mbedtls", sha384_mbedtls },
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	double seconds = 0.3;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	/* no window registered: SHA-256 takes the C path, as on a CPU
	 * without SHA-NI */
	if (crypto_sha256_simd_active()) {
		fprintf(stderr, "crypto_kernel_speed: SHA-NI active without a window\n");
		return 1;
	}
	if (argc == 4 && strcmp(argv[1], "--work") == 0) {
		size_t len = strtoul(argv[3], NULL, 0);

		if (strcmp(argv[2], "sha256-c-bmi2") == 0 && !have_bmi2()) {
			fprintf(stderr, "crypto_kernel_speed: no BMI2 on this CPU\n");
			return 3;
		}
		for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
			if (strcmp(modes[i].name, argv[2]) == 0 && len <= sizeof(buf)) {
				modes[i].work(len);
				return 0;
			}
		}
		fprintf(stderr, "crypto_kernel_speed: unknown mode or too long\n");
		return 1;
	}
	if (argc == 2)
		seconds = atof(argv[1]);
	if (argc > 2 || seconds <= 0) {
		fprintf(stderr, "usage: %s [SECONDS] | --work MODE BYTES\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		double start, took;
		uint64_t bytes = 0;

		if (modes[i].work == sha256_c_bmi2 && !have_bmi2())
			continue;
		modes[i].work(LEN); /* warm up */
		start = now();
		do {
			modes[i].work(LEN);
			bytes += LEN;
		} while ((took = now() - start) < seconds);
		printf("%s %.1f\n", modes[i].name, (double)bytes / took / 1e6);
		fflush(stdout);
	}
	return 0;
}
