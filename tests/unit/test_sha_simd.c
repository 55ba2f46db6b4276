/*
 * SHA-256 on SHA-NI (crypto/sha256_x86.c through crypto/crypto.c) and in
 * portable C (crypto/sha256_c.c, the path crypto_simd_force_off() and
 * every CPU without SHA-NI take) against known answers (FIPS 180-4 / NIST
 * examples: empty, "abc", the 448- and 896-bit messages, a million 'a's)
 * and against mbedTLS itself (the system libmbedtls, called directly):
 * every length 0..300 one-shot, in random pieces and split in two at
 * every point, random lengths up to 8 KiB with random split points, a few
 * lengths of megabytes, unaligned buffers; the context wiped by final,
 * streams keeping their path, and the vector window bracketing every SIMD
 * call exactly once, never nested. On a CPU without SHA-NI the SIMD tests
 * are skipped, and say so.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "mbedtls/sha256.h"

#define MAX_LEN 8192

static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint32_t rnd(void)
{
	/* xorshift64*: reproducible runs */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static void fill(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)rnd();
}

static void unhex(const char *s, uint8_t out[32])
{
	assert_int_equal(strlen(s), 64);
	for (size_t i = 0; i < 32; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* Use the SIMD path (skip the test, visibly, where the CPU lacks it). */
static void need_simd(void)
{
	crypto_simd_force_off(false);
	if (!crypto_sha256_simd_active()) {
		print_message("      no SHA-NI/SSE4.1/SSSE3 on this CPU: SIMD SHA-256 test skipped\n");
		skip();
	}
}

/* The portable path: crypto/sha256_c.c, its plain build. */
static void use_c(void)
{
	crypto_simd_force_off(true);
	crypto_sha256_bmi2_force_off(true);
	assert_false(crypto_sha256_simd_active());
	assert_false(crypto_sha256_bmi2_active());
}

/* Its build for BMI2 (skipped, visibly, where the CPU lacks BMI2). */
static void use_c_bmi2(void)
{
	crypto_simd_force_off(true);
	crypto_sha256_bmi2_force_off(false);
	if (!crypto_sha256_bmi2_active()) {
		print_message("      no BMI2 on this CPU: SHA-256 C test of its BMI2 build skipped\n");
		skip();
	}
}

static int teardown(void **state)
{
	(void)state;
	crypto_simd_force_off(false);
	crypto_sha256_bmi2_force_off(false);
	crypto_simd_register(NULL);
	return 0;
}

static void ref(const uint8_t *p, size_t len, uint8_t out[32])
{
	assert_int_equal(mbedtls_sha256_ret(p, len, out, 0), 0);
}

/* Streamed in the given pieces (their sum is len). */
static void streamed(const uint8_t *p, const size_t *pieces, size_t n, uint8_t out[32])
{
	struct crypto_sha256_ctx c;

	crypto_sha256_init(&c);
	for (size_t i = 0; i < n; i++) {
		crypto_sha256_update(&c, p, pieces[i]);
		p += pieces[i];
	}
	crypto_sha256_final(&c, out);
}

/* Random pieces of a stream of len bytes: small, block-sized, large, empty. */
static size_t split(size_t *pieces, size_t max, size_t len)
{
	size_t n = 0, left = len;

	while (left != 0 && n + 1 < max) {
		size_t p;

		switch (rnd() % 5) {
		case 0:
			p = 0;
			break;
		case 1:
			p = rnd() % 8;
			break;
		case 2:
			p = 64 * (rnd() % 3) + rnd() % 2;
			break;
		case 3:
			p = rnd() % 200;
			break;
		default:
			p = rnd() % (left + 1);
			break;
		}
		if (p > left)
			p = left;
		pieces[n++] = p;
		left -= p;
	}
	pieces[n++] = left;
	return n;
}

/* ---- Known answers ------------------------------------------------------------- */

static void kat(void)
{
	static const char msg448[] =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char msg896[] =
		"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		"hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
	const struct { const char *msg; size_t len; const char *hex; } v[] = {
		{ "", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ msg448, 56, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ msg896, 112, "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	static uint8_t million[1000000];
	const size_t pieces[] = { 1, 63, 64, 999, 65536, 4096 * 3, 0 };
	struct crypto_sha256_ctx c;
	uint8_t d[32], want[32];
	size_t off = 0;

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unhex(v[i].hex, want);
		crypto_sha256(v[i].msg, v[i].len, d);
		assert_memory_equal(d, want, 32);
		crypto_sha256_init(&c);
		for (size_t j = 0; j < v[i].len; j++)
			crypto_sha256_update(&c, v[i].msg + j, 1);
		crypto_sha256_final(&c, d);
		assert_memory_equal(d, want, 32);
	}
	/* a million 'a's, one-shot and in pieces */
	memset(million, 'a', sizeof(million));
	unhex("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", want);
	crypto_sha256(million, sizeof(million), d);
	assert_memory_equal(d, want, 32);
	crypto_sha256_init(&c);
	for (size_t i = 0; off < sizeof(million); i = (i + 1) % (sizeof(pieces) / sizeof(pieces[0]))) {
		size_t n = pieces[i] < sizeof(million) - off ? pieces[i] : sizeof(million) - off;

		crypto_sha256_update(&c, million + off, n);
		off += n;
	}
	crypto_sha256_final(&c, d);
	assert_memory_equal(d, want, 32);
}

static void test_kat_simd(void **state)
{
	(void)state;
	need_simd();
	kat();
}

static void test_kat_c(void **state)
{
	(void)state;
	use_c();
	kat();
}

static void test_kat_c_bmi2(void **state)
{
	(void)state;
	use_c_bmi2();
	kat();
}

/* The boot self-test, on each path. */
static void test_selftest_both_paths(void **state)
{
	char err[160];

	(void)state;
	use_c();
	assert_int_equal(crypto_selftest_quick(err, sizeof(err)), CRYPTO_OK);
	need_simd();
	assert_int_equal(crypto_selftest_quick(err, sizeof(err)), CRYPTO_OK);
}

/* ---- Against mbedTLS ----------------------------------------------------------------- */

static uint8_t msg[MAX_LEN + 16];

static void every_length_to_300(void)
{
	size_t pieces[64], n;
	uint8_t want[32], d[32];

	for (size_t len = 0; len <= 300; len++) {
		/* also at every alignment mod 16 */
		const uint8_t *p = msg + len % 16;

		fill(msg, len + 16);
		ref(p, len, want);
		crypto_sha256(p, len, d);
		assert_memory_equal(d, want, 32);
		n = split(pieces, 64, len);
		streamed(p, pieces, n, d);
		assert_memory_equal(d, want, 32);
		/* every split point into two */
		for (size_t at = 0; at <= len; at++) {
			const size_t two[2] = { at, len - at };

			streamed(p, two, 2, d);
			assert_memory_equal(d, want, 32);
		}
	}
}

static void random_lengths(void)
{
	size_t pieces[64], n;
	uint8_t want[32], d[32];

	for (int round = 0; round < 400; round++) {
		size_t len = rnd() % (MAX_LEN + 1);
		const uint8_t *p = msg + rnd() % 16;

		fill(msg, sizeof(msg));
		ref(p, len, want);
		crypto_sha256(p, len, d);
		assert_memory_equal(d, want, 32);
		n = split(pieces, 64, len);
		streamed(p, pieces, n, d);
		assert_memory_equal(d, want, 32);
	}
}

/* Megabytes: one-shot, in pages (as the TCB measures a VM), and in random
 * pieces up to 100 KB at odd offsets. */
static void large_lengths(void)
{
	static uint8_t big[(5u << 20) + 64];
	const size_t lens[] = { 1u << 20, (1u << 20) + 1, (3u << 20) - 17, (5u << 20) + 55 };
	struct crypto_sha256_ctx c;
	uint8_t want[32], d[32];

	fill(big, sizeof(big));
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		const uint8_t *p = big + i * 3;
		size_t len = lens[i];

		ref(p, len, want);
		crypto_sha256(p, len, d);
		assert_memory_equal(d, want, 32);
		crypto_sha256_init(&c);
		for (size_t off = 0; off < len; off += 4096)
			crypto_sha256_update(&c, p + off, len - off < 4096 ? len - off : 4096);
		crypto_sha256_final(&c, d);
		assert_memory_equal(d, want, 32);
		crypto_sha256_init(&c);
		for (size_t off = 0, n; off < len; off += n) {
			n = rnd() % 100000;
			if (n > len - off)
				n = len - off;
			crypto_sha256_update(&c, p + off, n);
		}
		crypto_sha256_final(&c, d);
		assert_memory_equal(d, want, 32);
	}
}

static void test_differential_simd(void **state)
{
	(void)state;
	need_simd();
	every_length_to_300();
	random_lengths();
	large_lengths();
}

static void test_differential_c(void **state)
{
	(void)state;
	use_c();
	every_length_to_300();
	random_lengths();
	large_lengths();
}

static void test_differential_c_bmi2(void **state)
{
	(void)state;
	use_c_bmi2();
	every_length_to_300();
	random_lengths();
	large_lengths();
}

/* ---- Wiping, paths, the window ------------------------------------------------------ */

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void final_wipes(void)
{
	struct crypto_sha256_ctx c;
	uint8_t d[32];

	memset(msg, 0x5a, 100);
	crypto_sha256_init(&c);
	crypto_sha256_update(&c, msg, 100); /* 36 bytes left in the buffer */
	assert_false(all_zero(&c, sizeof(c)));
	crypto_sha256_final(&c, d);
	assert_true(all_zero(&c, sizeof(c)));
}

static void test_final_wipes_simd(void **state)
{
	(void)state;
	need_simd();
	final_wipes();
}

static void test_final_wipes_c(void **state)
{
	(void)state;
	use_c();
	final_wipes();
}

/* A stream keeps the path it began on, either way. */
static void test_stream_keeps_its_path(void **state)
{
	struct crypto_sha256_ctx a, b;
	uint8_t want[32], da[32], db[32];

	(void)state;
	need_simd();
	fill(msg, 1000);
	ref(msg, 1000, want);
	crypto_sha256_init(&a);          /* SHA-NI */
	crypto_sha256_update(&a, msg, 333);
	crypto_simd_force_off(true);
	crypto_sha256_init(&b);          /* C */
	crypto_sha256_update(&b, msg, 500);
	crypto_sha256_update(&a, msg + 333, 667);
	crypto_simd_force_off(false);
	crypto_sha256_update(&b, msg + 500, 500);
	crypto_sha256_final(&a, da);
	crypto_sha256_final(&b, db);
	assert_memory_equal(da, want, 32);
	assert_memory_equal(db, want, 32);
}

static int window_depth, window_max_depth, window_begins, window_ends;

static void window_begin(void)
{
	window_begins++;
	if (++window_depth > window_max_depth)
		window_max_depth = window_depth;
}

static void window_end(void)
{
	window_ends++;
	window_depth--;
}

/* One begin/end pair for a one-shot, none for init, one for each update
 * and for final; none on the C path. */
static void test_window_brackets_every_call(void **state)
{
	const struct crypto_simd_window w = { window_begin, window_end };
	struct crypto_sha256_ctx c;
	uint8_t d[32], want[32];

	(void)state;
	need_simd();
	window_depth = window_max_depth = window_begins = window_ends = 0;
	crypto_simd_register(&w);
	fill(msg, 5000);
	crypto_sha256(msg, 5000, d);
	assert_int_equal(window_begins, 1);
	ref(msg, 5000, want);
	assert_memory_equal(d, want, 32);
	crypto_sha256(NULL, 0, d);
	assert_int_equal(window_begins, 2);
	crypto_sha256_init(&c);
	assert_int_equal(window_begins, 2);
	crypto_sha256_update(&c, msg, 4096);
	crypto_sha256_update(&c, msg + 4096, 0);
	crypto_sha256_update(&c, msg + 4096, 904);
	assert_int_equal(window_begins, 5);
	crypto_sha256_final(&c, d);
	assert_int_equal(window_begins, 6);
	assert_memory_equal(d, want, 32);
	assert_int_equal(window_ends, window_begins);
	assert_int_equal(window_depth, 0);
	assert_int_equal(window_max_depth, 1);

	/* the portable path opens no window */
	crypto_simd_force_off(true);
	crypto_sha256(msg, 5000, d);
	crypto_sha256_init(&c);
	crypto_sha256_update(&c, msg, 5000);
	crypto_sha256_final(&c, d);
	assert_memory_equal(d, want, 32);
	assert_int_equal(window_begins, 6);
	crypto_simd_force_off(false);

	/* a window without both functions is no window (the host then needs
	 * none: a process owns its registers) */
	{
		const struct crypto_simd_window half = { window_begin, NULL };

		crypto_simd_register(&half);
		crypto_sha256(msg, 5000, d);
		assert_memory_equal(d, want, 32);
		assert_int_equal(window_begins, 6);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_kat_simd, teardown),
		cmocka_unit_test_teardown(test_kat_c, teardown),
		cmocka_unit_test_teardown(test_kat_c_bmi2, teardown),
		cmocka_unit_test_teardown(test_selftest_both_paths, teardown),
		cmocka_unit_test_teardown(test_differential_simd, teardown),
		cmocka_unit_test_teardown(test_differential_c, teardown),
		cmocka_unit_test_teardown(test_differential_c_bmi2, teardown),
		cmocka_unit_test_teardown(test_final_wipes_simd, teardown),
		cmocka_unit_test_teardown(test_final_wipes_c, teardown),
		cmocka_unit_test_teardown(test_stream_keeps_its_path, teardown),
		cmocka_unit_test_teardown(test_window_brackets_every_call, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
