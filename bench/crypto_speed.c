/*
 * crypto_speed: throughput of the crypto layer's own code on the host
 * (crypto/crypto.h, the host build), for bench/crypto_speed.py, which runs
 * it beside `openssl speed` and prints the ratios.
 *
 *   crypto_speed [SECONDS]   each measurement for about SECONDS (0.3)
 *   crypto_speed --work MODE BYTES   run MODE over BYTES once and nothing
 *                            else (for counting instructions under
 *                            valgrind: see bench/crypto_speed.py)
 *
 * Measurements (MB = 10^6 bytes, as openssl speed counts):
 *   gcm-stream-{simd,mbedtls}   AES-256-GCM encrypting streams of 1 MiB in
 *                               64 KiB updates (begin, 16 updates, finish)
 *   gcm-oneshot-{simd,mbedtls}  crypto_aes256gcm_encrypt of 16 KiB
 *   gcm-decrypt-simd            crypto_aes256gcm_decrypt of 16 KiB
 *   sha256-{simd,c}             crypto_sha256 of 16 KiB
 *   sha256-pages-{simd,c}       crypto_sha256_init, updates of 4 KiB (a page,
 *                               as the TCB measures a VM's image) over 1 MiB,
 *                               final
 *   sha256-mbedtls              mbedTLS's SHA-256 of 16 KiB, called directly
 *                               (the path without SHA-NI before
 *                               crypto/sha256_c.c)
 *   sha256-pages-mbedtls        mbedTLS's SHA-256 in the same 4 KiB updates
 *   sha384                      crypto_sha384 of 16 KiB
 *   sha384-pages                the same 4 KiB updates with crypto_sha384_*
 * "simd" is the AES-NI/PCLMULQDQ path (crypto_simd_active()) or, for
 * SHA-256, the SHA-NI path (crypto_sha256_simd_active()); "mbedtls" for
 * AES-GCM and "c" for SHA-256 the portable path (crypto_simd_force_off).
 * Time is the process's CPU time (openssl speed divides by CPU time too),
 * read once a MiB of work.
 * Prints one line each:
 *   NAME MB/s
 * and asserts nothing about time.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "mbedtls/sha256.h"

#define STREAM_LEN (1u << 20)
#define UPDATE_LEN (64u << 10)
#define ONESHOT_LEN (16u << 10)

static uint8_t buf[STREAM_LEN];
static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
static const uint8_t iv[12] = { 0xca, 0xfe, 0xba, 0xbe, 0xfa, 0xce, 0xdb, 0xad,
				0xde, 0xca, 0xf8, 0x88 };
static const uint8_t aad[32] = { 0xfe, 0xed, 0xfa, 0xce };
static uint8_t tag[16];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(const char *what)
{
	fprintf(stderr, "crypto_speed: %s failed\n", what);
	exit(1);
}

/* One unit of work of each kind; returns the bytes processed. */
static __attribute__((noinline)) size_t gcm_stream(size_t len)
{
	struct crypto_gcm_stream s;

	if (crypto_aes256gcm_stream_begin(&s, key, iv, true, aad, sizeof(aad)) != CRYPTO_OK)
		fail("stream begin");
	for (size_t off = 0; off < len; off += UPDATE_LEN) {
		size_t n = len - off < UPDATE_LEN ? len - off : UPDATE_LEN;

		if (crypto_aes256gcm_stream_update(&s, buf + off, n, buf + off) != CRYPTO_OK)
			fail("stream update");
	}
	if (crypto_aes256gcm_stream_finish(&s, tag) != CRYPTO_OK)
		fail("stream finish");
	return len;
}

static __attribute__((noinline)) size_t gcm_oneshot(size_t len)
{
	if (crypto_aes256gcm_encrypt(key, iv, aad, sizeof(aad), buf, len, buf, tag) != CRYPTO_OK)
		fail("encrypt");
	return len;
}

static __attribute__((noinline)) size_t gcm_decrypt(size_t len)
{
	/* Decrypting under a wrong tag costs the same and leaves zeroes. */
	int rc = crypto_aes256gcm_decrypt(key, iv, aad, sizeof(aad), buf, len, buf, tag);

	if (rc != CRYPTO_OK && rc != CRYPTO_E_VERIFY)
		fail("decrypt");
	return len;
}

static __attribute__((noinline)) size_t sha256(size_t len)
{
	uint8_t out[CRYPTO_SHA256_LEN];

	crypto_sha256(buf, len, out);
	buf[0] ^= out[0];
	return len;
}

#define PAGE 4096u

static __attribute__((noinline)) size_t sha256_pages(size_t len)
{
	struct crypto_sha256_ctx c;
	uint8_t out[CRYPTO_SHA256_LEN];

	crypto_sha256_init(&c);
	for (size_t off = 0; off < len; off += PAGE)
		crypto_sha256_update(&c, buf + off, len - off < PAGE ? len - off : PAGE);
	crypto_sha256_final(&c, out);
	buf[0] ^= out[0];
	return len;
}

static __attribute__((noinline)) size_t sha256_mbedtls(size_t len)
{
	uint8_t out[32];

	if (mbedtls_sha256_ret(buf, len, out, 0) != 0)
		fail("mbedtls_sha256_ret");
	buf[0] ^= out[0];
	return len;
}

static __attribute__((noinline)) size_t sha256_pages_mbedtls(size_t len)
{
	mbedtls_sha256_context c;
	uint8_t out[32];
	int rc;

	mbedtls_sha256_init(&c);
	rc = mbedtls_sha256_starts_ret(&c, 0);
	for (size_t off = 0; off < len && rc == 0; off += PAGE)
		rc = mbedtls_sha256_update_ret(&c, buf + off, len - off < PAGE ? len - off : PAGE);
	if (rc != 0 || mbedtls_sha256_finish_ret(&c, out) != 0)
		fail("mbedTLS SHA-256 stream");
	mbedtls_sha256_free(&c);
	buf[0] ^= out[0];
	return len;
}

static __attribute__((noinline)) size_t sha384_pages(size_t len)
{
	struct crypto_sha384_ctx c;
	uint8_t out[CRYPTO_SHA384_LEN];

	crypto_sha384_init(&c);
	for (size_t off = 0; off < len; off += PAGE)
		crypto_sha384_update(&c, buf + off, len - off < PAGE ? len - off : PAGE);
	crypto_sha384_final(&c, out);
	buf[0] ^= out[0];
	return len;
}

static __attribute__((noinline)) size_t sha384(size_t len)
{
	uint8_t out[CRYPTO_SHA384_LEN];

	crypto_sha384(buf, len, out);
	buf[0] ^= out[0];
	return len;
}

struct mode {
	const char *name;
	size_t (*work)(size_t len);
	size_t len;
	bool simd;
	bool sha;  /* SHA-256: SHA-NI rather than AES-NI is the SIMD path */
};

static const struct mode modes[] = {
	{ "gcm-stream-simd", gcm_stream, STREAM_LEN, true, false },
	{ "gcm-stream-mbedtls", gcm_stream, STREAM_LEN, false, false },
	{ "gcm-oneshot-simd", gcm_oneshot, ONESHOT_LEN, true, false },
	{ "gcm-oneshot-mbedtls", gcm_oneshot, ONESHOT_LEN, false, false },
	{ "gcm-decrypt-simd", gcm_decrypt, ONESHOT_LEN, true, false },
	{ "sha256-simd", sha256, ONESHOT_LEN, true, true },
	{ "sha256-c", sha256, ONESHOT_LEN, false, true },
	{ "sha256-mbedtls", sha256_mbedtls, ONESHOT_LEN, false, false },
	{ "sha256-pages-simd", sha256_pages, STREAM_LEN, true, true },
	{ "sha256-pages-c", sha256_pages, STREAM_LEN, false, true },
	{ "sha256-pages-mbedtls", sha256_pages_mbedtls, STREAM_LEN, false, false },
	{ "sha384", sha384, ONESHOT_LEN, false, false },
	{ "sha384-pages", sha384_pages, STREAM_LEN, false, false },
};

static const struct mode *find_mode(const char *name)
{
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		if (strcmp(modes[i].name, name) == 0)
			return &modes[i];
	return NULL;
}

/* Select the path; false if the SIMD one is wanted but unavailable. */
static bool select_path(const struct mode *m)
{
	crypto_simd_force_off(!m->simd);
	return !m->simd || (m->sha ? crypto_sha256_simd_active() : crypto_simd_active());
}

int main(int argc, char **argv)
{
	double seconds = 0.3;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);

	if (argc == 4 && strcmp(argv[1], "--work") == 0) {
		const struct mode *m = find_mode(argv[2]);
		size_t len = strtoul(argv[3], NULL, 0);

		if (m == NULL || len > sizeof(buf) || !select_path(m))
			fail("--work: unknown or unavailable mode, or too long");
		m->work(len);
		return 0;
	}
	if (argc == 2)
		seconds = atof(argv[1]);
	if (argc > 2 || seconds <= 0) {
		fprintf(stderr, "usage: %s [SECONDS] | --work MODE BYTES\n", argv[0]);
		return 2;
	}

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		const struct mode *m = &modes[i];
		double start, took;
		uint64_t bytes = 0;

		if (!select_path(m)) {
			printf("%s unavailable (no %s)\n", m->name,
			       m->sha ? "SHA-NI" : "AES-NI/PCLMULQDQ");
			continue;
		}
		m->work(m->len); /* warm up */
		start = now();
		do {
			/* The clock is a system call: ask it once a MiB. */
			for (size_t done = 0; done < STREAM_LEN; done += m->len)
				bytes += m->work(m->len);
		} while ((took = now() - start) < seconds);
		printf("%s %.1f\n", m->name, (double)bytes / took / 1e6);
		fflush(stdout);
	}
	crypto_simd_force_off(false);
	return 0;
}
