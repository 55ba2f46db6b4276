/*
 * AES-256-GCM on AES-NI and PCLMULQDQ (crypto/aes_gcm_x86.c through
 * crypto/crypto.c) against known answers and against mbedTLS itself (the
 * system libmbedtls, called directly), and the portable path
 * (crypto_simd_force_off) against the same answers: lengths 0..~4100 with
 * every residue mod 128, random stream split points, in place, forgeries
 * refused on both paths, streams wiped, the vector window bracketing every
 * SIMD call. On a CPU without AES-NI/PCLMULQDQ the SIMD tests are skipped,
 * and say so.
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
#include "mbedtls/gcm.h"

#define MAX_LEN 4200
#define MAX_AAD 700

/* ---- Helpers ------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

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

static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = strlen(s) / 2;

	assert_true(n <= cap);
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
	return n;
}

/* Use the SIMD path (skip the test, visibly, where the CPU lacks it). */
static void need_simd(void)
{
	crypto_simd_force_off(false);
	if (!crypto_simd_active()) {
		print_message("      no AES-NI/PCLMULQDQ/SSE4.1 on this CPU: "
			      "SIMD AES-GCM test skipped\n");
		skip();
	}
}

static void use_mbedtls(void)
{
	crypto_simd_force_off(true);
	assert_false(crypto_simd_active());
}

static int teardown(void **state)
{
	(void)state;
	crypto_simd_force_off(false);
	crypto_simd_register(NULL);
	return 0;
}

/* The reference: mbedTLS's GCM, called directly. */
static void ref_encrypt(const uint8_t *key, const uint8_t *iv, const uint8_t *aad,
			size_t aad_len, const uint8_t *pt, size_t len, uint8_t *ct,
			uint8_t tag[16])
{
	mbedtls_gcm_context g;

	mbedtls_gcm_init(&g);
	assert_int_equal(mbedtls_gcm_setkey(&g, MBEDTLS_CIPHER_ID_AES, key, 256), 0);
	assert_int_equal(mbedtls_gcm_crypt_and_tag(&g, MBEDTLS_GCM_ENCRYPT, len, iv, 12,
						   aad, aad_len, pt, ct, 16, tag), 0);
	mbedtls_gcm_free(&g);
}

/* Random piece lengths for a stream of len bytes: multiples of 16 (0
 * included) and whatever is left as the last. */
static size_t split(size_t *pieces, size_t max, size_t len)
{
	size_t n = 0, left = len;

	while (left != 0 && n + 1 < max) {
		size_t p;

		switch (rnd() % 4) {
		case 0:
			p = 0;
			break;
		case 1:
			p = 16 * (rnd() % 4);
			break;
		case 2:
			p = 16 * (rnd() % 20);
			break;
		default:
			p = 16 * (rnd() % (left / 16 + 1));
			break;
		}
		if (p > left - left % 16)
			p = left - left % 16;
		if (p == 0 && left < 16)
			break;
		pieces[n++] = p;
		left -= p;
	}
	pieces[n++] = left;
	return n;
}

static void stream_run(bool encrypt, const uint8_t *key, const uint8_t *iv,
		       const uint8_t *aad, size_t aad_len, const uint8_t *in,
		       size_t len, uint8_t *out, const size_t *pieces, size_t n,
		       uint8_t tag[16], int want_verify)
{
	struct crypto_gcm_stream s;
	size_t off = 0;

	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, encrypt, aad, aad_len),
			 CRYPTO_OK);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(crypto_aes256gcm_stream_update(&s, in + off, pieces[i],
								out + off), CRYPTO_OK);
		off += pieces[i];
	}
	assert_int_equal(off, len);
	if (encrypt)
		assert_int_equal(crypto_aes256gcm_stream_finish(&s, tag), CRYPTO_OK);
	else
		assert_int_equal(crypto_aes256gcm_stream_verify(&s, tag), want_verify);
}

/* ---- Known answers ------------------------------------------------------------------ */

struct kat {
	const char *what, *key, *iv, *aad, *pt, *ct, *tag;
};

static const char tc15_pt[] =
	"d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	"1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255";
static const char tc15_ct[] =
	"522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	"8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad";
#define TC_KEY "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"

static const struct kat kats[] = {
	/* The GCM specification (McGrew-Viega), AES-256 test cases 13-16. */
	{ "GCM spec 13 (empty)", "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
	{ "GCM spec 14", "0000000000000000000000000000000000000000000000000000000000000000",
	  "000000000000000000000000", "", "00000000000000000000000000000000",
	  "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919" },
	{ "GCM spec 15", TC_KEY, "cafebabefacedbaddecaf888", "", tc15_pt, tc15_ct,
	  "b094dac5d93471bdec1a502270e3cc6c" },
	{ "GCM spec 16 (60 bytes, AAD)", TC_KEY, "cafebabefacedbaddecaf888",
	  "feedfacedeadbeeffeedfacedeadbeefabaddad2",
	  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	  "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
	/* NIST CAVP gcmEncryptExtIV256.rsp (96-bit IVs): no data, AAD only... */
	{ "CAVP AAD 16", "78dc4e0aaf52d935c3c01eea57428f00ca1fd475f5da86a49c8dd73d68c8e223",
	  "d79cf22d504cc793c3fb6c8a", "b96baa8c1c75a671bfb2d08d06be5f36", "", "",
	  "3e5d486aa2e30b22e040b85723a06e76" },
	{ "CAVP AAD 20", "886cff5f3e6b8d0e1ad0a38fcdb26de97e8acbe79f6bed66959a598fa5047d65",
	  "3a8efa1cd74bbab5448f9945", "519fee519d25c7a304d6c6aa1897ee1eb8c59655", "", "",
	  "f6d47505ec96c98a42dc3ae719877b87" },
	{ "CAVP AAD 48", "f4069bb739d07d0cafdcbc609ca01597f985c43db63bbaaa0debbb04d384e49c",
	  "d25ff30fdc3d464fe173e805",
	  "3e1449c4837f0892f9d55127c75c4b25d69be334baf5f19394d2d8bb460cbf21"
	  "20e14736d0f634aa792feca20e455f11", "", "", "805ec2931c2181e5bfb74fa0a975f0cf" },
	/* ...and one block of data with 20 bytes of AAD. */
	{ "CAVP 16+20", "83688deb4af8007f9b713b47cfa6c73e35ea7a3aa4ecdb414dded03bf7a0fd3a",
	  "0b459724904e010a46901cf3", "794a14ccd178c8ebfd1379dc704c5e208f9d8424",
	  "33d893a2114ce06fc15d55e454cf90c3", "cc66bee423e3fcd4c0865715e9586696",
	  "0fb291bd3dba94a1dfd8b286cfb97ac5" },
};

static void run_kats(void)
{
	for (size_t k = 0; k < sizeof(kats) / sizeof(kats[0]); k++) {
		const struct kat *t = &kats[k];
		uint8_t key[32], iv[12], aad[64], pt[64], ct[64], want_ct[64], tag[16],
			want_tag[16], out[64];
		size_t aad_len, len, pieces[8];

		print_message("      %s\n", t->what);
		assert_int_equal(unhex(t->key, key, sizeof(key)), 32);
		assert_int_equal(unhex(t->iv, iv, sizeof(iv)), 12);
		aad_len = unhex(t->aad, aad, sizeof(aad));
		len = unhex(t->pt, pt, sizeof(pt));
		assert_int_equal(unhex(t->ct, want_ct, sizeof(want_ct)), len);
		assert_int_equal(unhex(t->tag, want_tag, sizeof(want_tag)), 16);

		memset(ct, 0xaa, sizeof(ct));
		assert_int_equal(crypto_aes256gcm_encrypt(key, iv, aad_len ? aad : NULL, aad_len,
							  pt, len, ct, tag), CRYPTO_OK);
		assert_memory_equal(ct, want_ct, len);
		assert_memory_equal(tag, want_tag, 16);
		assert_int_equal(crypto_aes256gcm_decrypt(key, iv, aad, aad_len, ct, len, out,
							  want_tag), CRYPTO_OK);
		assert_memory_equal(out, pt, len);

		/* Streamed: in one piece, and block by block. */
		pieces[0] = len;
		stream_run(true, key, iv, aad, aad_len, pt, len, ct, pieces, 1, tag, 0);
		assert_memory_equal(ct, want_ct, len);
		assert_memory_equal(tag, want_tag, 16);
		{
			size_t n = 0;

			for (size_t off = 0; off < len; off += 16)
				pieces[n++] = len - off < 16 ? len - off : 16;
			memcpy(out, want_ct, len);
			stream_run(false, key, iv, aad, aad_len, out, len, out, pieces, n,
				   want_tag, CRYPTO_OK);
			assert_memory_equal(out, pt, len);
		}
	}
}

static void test_kat_simd(void **state)
{
	(void)state;
	need_simd();
	run_kats();
}

static void test_kat_mbedtls(void **state)
{
	(void)state;
	use_mbedtls();
	run_kats();
}

static void test_selftest_both_paths(void **state)
{
	char err[128];

	(void)state;
	use_mbedtls();
	assert_int_equal(crypto_selftest_quick(err, sizeof(err)), CRYPTO_OK);
	need_simd();
	assert_int_equal(crypto_selftest_quick(err, sizeof(err)), CRYPTO_OK);
}

/* ---- Differential: against mbedTLS ------------------------------------------------ */

static uint8_t key[32], iv[12], aad[MAX_AAD], pt[MAX_LEN], ct[MAX_LEN], ref[MAX_LEN],
	out[MAX_LEN];

static void one_shot_case(size_t len, size_t aad_len)
{
	uint8_t tag[16], ref_tag[16];

	fill(key, sizeof(key));
	fill(iv, sizeof(iv));
	fill(aad, aad_len);
	fill(pt, len);
	ref_encrypt(key, iv, aad, aad_len, pt, len, ref, ref_tag);

	assert_int_equal(crypto_aes256gcm_encrypt(key, iv, aad, aad_len, pt, len, ct, tag),
			 CRYPTO_OK);
	if (memcmp(ct, ref, len) != 0 || memcmp(tag, ref_tag, 16) != 0)
		fail_msg("one-shot differs from mbedTLS: len %zu, aad %zu", len, aad_len);
	/* In place, both ways. */
	memcpy(out, pt, len);
	assert_int_equal(crypto_aes256gcm_encrypt(key, iv, aad, aad_len, out, len, out, tag),
			 CRYPTO_OK);
	if (len != 0)
		assert_memory_equal(out, ref, len);
	assert_memory_equal(tag, ref_tag, 16);
	assert_int_equal(crypto_aes256gcm_decrypt(key, iv, aad, aad_len, out, len, out, tag),
			 CRYPTO_OK);
	if (len != 0)
		assert_memory_equal(out, pt, len);
}

static void test_differential_one_shot(void **state)
{
	(void)state;
	need_simd();
	/* Every length up to 3 groups of 8 blocks and then some. */
	for (size_t len = 0; len <= 400; len++)
		one_shot_case(len, rnd() % 70);
	for (int i = 0; i < 400; i++)
		one_shot_case(rnd() % (MAX_LEN - 99), rnd() % 4 == 0 ? rnd() % MAX_AAD : rnd() % 40);
	for (size_t aad_len = 0; aad_len <= 300; aad_len++)
		one_shot_case(rnd() % 64, aad_len);
}

static void test_differential_stream_splits(void **state)
{
	(void)state;
	need_simd();
	for (int i = 0; i < 400; i++) {
		size_t len = i < 40 ? (size_t)i * 37 : rnd() % (MAX_LEN - 99);
		size_t aad_len = rnd() % 100, pieces[64], n;
		uint8_t tag[16], ref_tag[16], tag_mb[16];
		bool in_place = i % 2 == 0;

		fill(key, sizeof(key));
		fill(iv, sizeof(iv));
		fill(aad, aad_len);
		fill(pt, len);
		ref_encrypt(key, iv, aad, aad_len, pt, len, ref, ref_tag);

		n = split(pieces, 64, len);
		if (in_place)
			memcpy(ct, pt, len);
		need_simd();
		stream_run(true, key, iv, aad, aad_len, in_place ? ct : pt, len, ct, pieces, n,
			   tag, 0);
		if (memcmp(ct, ref, len) != 0 || memcmp(tag, ref_tag, 16) != 0)
			fail_msg("stream differs from mbedTLS: len %zu in %zu pieces", len, n);

		/* The portable path with the same pieces gives the same. */
		use_mbedtls();
		stream_run(true, key, iv, aad, aad_len, pt, len, out, pieces, n, tag_mb, 0);
		if (len != 0)
			assert_memory_equal(out, ref, len);
		assert_memory_equal(tag_mb, ref_tag, 16);

		/* Decrypt in other pieces, on either path. */
		n = split(pieces, 64, len);
		if (i % 3 == 0)
			use_mbedtls();
		else
			need_simd();
		memcpy(out, ref, len);
		stream_run(false, key, iv, aad, aad_len, out, len, out, pieces, n, ref_tag,
			   CRYPTO_OK);
		if (len != 0)
			assert_memory_equal(out, pt, len);
	}
}

/* ---- Forgeries, refusals, wiping, the window ----------------------------------------- */

static void forgeries(void)
{
	const size_t len = 300, aad_len = 33;
	uint8_t tag[16], bad_tag[16], bad_aad[33];

	fill(key, sizeof(key));
	fill(iv, sizeof(iv));
	fill(aad, aad_len);
	fill(pt, len);
	assert_int_equal(crypto_aes256gcm_encrypt(key, iv, aad, aad_len, pt, len, ct, tag),
			 CRYPTO_OK);
	for (int i = 0; i < 64; i++) {
		size_t pieces[1] = { len };

		/* A flipped bit in the tag, the ciphertext or the AAD. */
		memcpy(bad_tag, tag, 16);
		memcpy(ref, ct, len);
		memcpy(bad_aad, aad, aad_len);
		switch (i % 3) {
		case 0:
			bad_tag[rnd() % 16] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:
			ref[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		default:
			bad_aad[rnd() % aad_len] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		}
		memset(out, 0x55, len);
		assert_int_equal(crypto_aes256gcm_decrypt(key, iv, bad_aad, aad_len, ref, len,
							  out, bad_tag), CRYPTO_E_VERIFY);
		for (size_t j = 0; j < len; j++)
			assert_int_equal(out[j], 0); /* no plaintext of a forgery */
		stream_run(false, key, iv, bad_aad, aad_len, ref, len, out, pieces, 1,
			   bad_tag, CRYPTO_E_VERIFY);
		/* Wrong length, too. */
		assert_int_equal(crypto_aes256gcm_decrypt(key, iv, aad, aad_len, ct, len - 1,
							  out, tag), CRYPTO_E_VERIFY);
	}
	assert_int_equal(crypto_aes256gcm_decrypt(key, iv, aad, aad_len, ct, len, out, tag),
			 CRYPTO_OK);
	assert_memory_equal(out, pt, len);
}

static void test_forgeries_simd(void **state)
{
	(void)state;
	need_simd();
	forgeries();
}

static void test_forgeries_mbedtls(void **state)
{
	(void)state;
	use_mbedtls();
	forgeries();
}

static bool all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void stream_refusals(void)
{
	struct crypto_gcm_stream s;
	uint8_t tag[16];

	fill(key, sizeof(key));
	fill(iv, sizeof(iv));
	fill(pt, 64);
	/* Nothing after a piece that is not a multiple of 16 (crypto.h). */
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, NULL, 0), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt, 17, ct), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt + 17, 16, ct + 17),
			 CRYPTO_E_INVAL);
	assert_true(all_zero(&s, sizeof(s)));
	assert_int_equal(crypto_aes256gcm_stream_finish(&s, tag), CRYPTO_E_INVAL);

	/* Abort and finish wipe everything: keys, H powers, partial block. */
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, pt, 5), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt, 33, ct), CRYPTO_OK);
	assert_false(all_zero(&s, sizeof(s)));
	crypto_aes256gcm_stream_abort(&s);
	assert_true(all_zero(&s, sizeof(s)));
	crypto_aes256gcm_stream_abort(&s); /* again: harmless */
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt, 16, ct), CRYPTO_E_INVAL);

	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, NULL, 0), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt, 40, ct), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_finish(&s, tag), CRYPTO_OK);
	assert_true(all_zero(&s, sizeof(s)));

	/* verify on an encrypting stream, finish on a decrypting one. */
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, NULL, 0), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_verify(&s, tag), CRYPTO_E_INVAL);
	assert_true(all_zero(&s, sizeof(s)));
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, false, NULL, 0), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_finish(&s, tag), CRYPTO_E_INVAL);
	assert_true(all_zero(&s, sizeof(s)));
}

static void test_stream_refusals_simd(void **state)
{
	(void)state;
	need_simd();
	stream_refusals();
}

static void test_stream_refusals_mbedtls(void **state)
{
	(void)state;
	use_mbedtls();
	stream_refusals();
}

/* A stream keeps the path it began on: forcing the portable path in the
 * middle changes nothing for it. */
static void test_stream_keeps_its_path(void **state)
{
	struct crypto_gcm_stream s;
	uint8_t tag[16], ref_tag[16];

	(void)state;
	need_simd();
	fill(key, sizeof(key));
	fill(iv, sizeof(iv));
	fill(pt, 1000);
	ref_encrypt(key, iv, NULL, 0, pt, 1000, ref, ref_tag);
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, NULL, 0), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt, 512, ct), CRYPTO_OK);
	use_mbedtls();
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt + 512, 488, ct + 512), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_finish(&s, tag), CRYPTO_OK);
	assert_memory_equal(ct, ref, 1000);
	assert_memory_equal(tag, ref_tag, 16);
}

/* The window: every SIMD call between one begin() and one end(). */
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

static void test_window_brackets_every_call(void **state)
{
	const struct crypto_simd_window w = { window_begin, window_end };
	struct crypto_gcm_stream s;
	uint8_t tag[16];

	(void)state;
	need_simd();
	crypto_simd_register(&w);
	assert_true(crypto_simd_active());
	fill(key, sizeof(key));
	fill(iv, sizeof(iv));
	fill(pt, 300);

	assert_int_equal(crypto_aes256gcm_encrypt(key, iv, NULL, 0, pt, 300, ct, tag), CRYPTO_OK);
	assert_int_equal(window_begins, 1);
	assert_int_equal(crypto_aes256gcm_decrypt(key, iv, NULL, 0, ct, 300, out, tag), CRYPTO_OK);
	assert_int_equal(window_begins, 2);
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, NULL, 0), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt, 256, ct), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt + 256, 44, ct + 256), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_finish(&s, tag), CRYPTO_OK);
	assert_int_equal(window_begins, 6);
	assert_int_equal(window_ends, window_begins);
	assert_int_equal(window_depth, 0);
	assert_int_equal(window_max_depth, 1);

	/* The portable path never opens it. */
	use_mbedtls();
	assert_int_equal(crypto_aes256gcm_encrypt(key, iv, NULL, 0, pt, 300, ct, tag), CRYPTO_OK);
	assert_int_equal(window_begins, 6);

	/* A window without both functions is no window. */
	{
		const struct crypto_simd_window half = { window_begin, NULL };

		crypto_simd_register(&half);
		need_simd(); /* the host needs none */
		assert_int_equal(crypto_aes256gcm_encrypt(key, iv, NULL, 0, pt, 300, ct, tag),
				 CRYPTO_OK);
		assert_int_equal(window_begins, 6);
	}
	crypto_simd_register(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_kat_simd, teardown),
		cmocka_unit_test_teardown(test_kat_mbedtls, teardown),
		cmocka_unit_test_teardown(test_selftest_both_paths, teardown),
		cmocka_unit_test_teardown(test_differential_one_shot, teardown),
		cmocka_unit_test_teardown(test_differential_stream_splits, teardown),
		cmocka_unit_test_teardown(test_forgeries_simd, teardown),
		cmocka_unit_test_teardown(test_forgeries_mbedtls, teardown),
		cmocka_unit_test_teardown(test_stream_refusals_simd, teardown),
		cmocka_unit_test_teardown(test_stream_refusals_mbedtls, teardown),
		cmocka_unit_test_teardown(test_stream_keeps_its_path, teardown),
		cmocka_unit_test_teardown(test_window_brackets_every_call, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
