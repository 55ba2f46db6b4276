/*
 * libFuzzer target: SHA-256 on SHA-NI and in portable C (crypto/crypto.c
 * over crypto/sha256_x86.c and crypto/sha256_c.c, both compiled into this
 * target with coverage and sanitizers: per-target rules in the Makefile)
 * against mbedTLS's own SHA-256 (the system libmbedtls, called directly).
 *
 * Input: a flags byte, the number of stream pieces (1 byte, mod 16) and
 * their lengths (2 bytes each, mod 700), then the message (the rest, at
 * most 64 KiB).
 *
 * Properties, on the path the CPU gives (SHA-NI where it has it) and
 * again on the C path (crypto_simd_force_off):
 *   - crypto_sha256 of the message is mbedTLS's digest;
 *   - so is a stream of the message in the given pieces (as far as they
 *     fit, the rest in one last piece), started at an offset of
 *     flags % 16 bytes into a copy (unaligned loads);
 *   - final leaves the context all zeroes;
 * and with flags bit 4, the same stream is fed again with
 * crypto_simd_force_off() switched on half-way (the stream keeps its
 * path) and a second stream begun then on the C path: both give the same
 * digest.
 *
 * Seeds: tests/fuzz/corpus/sha_simd/.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "mbedtls/sha256.h"
#include "fuzz_util.h"

#define MAX_DATA 65536
#define MAX_PIECES 16

static uint8_t copy[MAX_DATA + 16];

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool told;
	struct input in = { data, size };
	size_t pieces[MAX_PIECES + 1], n, np = 0, total = 0, len, half;
	struct crypto_sha256_ctx c, c2;
	uint8_t flags, want[32], d[32], d2[32];
	const uint8_t *msg;

	if (!told) {
		told = true;
		if (!crypto_sha256_simd_active())
			fprintf(stderr, "fuzz_sha_simd: no SHA-NI here: "
					"only the C path is compared with mbedTLS\n");
	}
	flags = (uint8_t)take(&in, 1);
	n = (size_t)take(&in, 1) % MAX_PIECES;
	for (size_t i = 0; i < n; i++)
		pieces[i] = (size_t)take(&in, 2) % 700;
	msg = in.p;
	len = in.left;
	if (len > MAX_DATA)
		return 0;
	for (size_t i = 0; i < n && total + pieces[i] <= len; i++) {
		total += pieces[i];
		np++;
	}
	pieces[np++] = len - total;

	require(mbedtls_sha256_ret(msg, len, want, 0) == 0);
	memcpy(copy + flags % 16, msg, len);
	for (int c_path = 0; c_path <= 1; c_path++) {
		crypto_simd_force_off(c_path != 0);
		crypto_sha256(msg, len, d);
		require(memcmp(d, want, 32) == 0);

		/* streamed, from an unaligned copy */
		crypto_sha256_init(&c);
		for (size_t i = 0, off = 0; i < np; off += pieces[i], i++)
			crypto_sha256_update(&c, copy + flags % 16 + off, pieces[i]);
		crypto_sha256_final(&c, d);
		require(memcmp(d, want, 32) == 0);
		require(all_zero(&c, sizeof(c)));
	}
	crypto_simd_force_off(false);

	/* the portable path switched on half-way */
	if (flags & 0x10) {
		half = np / 2;
		crypto_sha256_init(&c);
		for (size_t i = 0, off = 0; i < np; off += pieces[i], i++) {
			if (i == half) {
				crypto_simd_force_off(true);
				crypto_sha256_init(&c2);
				crypto_sha256_update(&c2, msg, off);
			}
			crypto_sha256_update(&c, msg + off, pieces[i]);
			if (i >= half)
				crypto_sha256_update(&c2, msg + off, pieces[i]);
		}
		crypto_sha256_final(&c, d);
		crypto_sha256_final(&c2, d2);
		crypto_simd_force_off(false);
		require(memcmp(d, want, 32) == 0);
		require(memcmp(d2, want, 32) == 0);
	}
	return 0;
}
