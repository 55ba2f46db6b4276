/*
 * Tests of the crypto layer (crypto/crypto.c, crypto/selftest.c,
 * crypto/pki_host.c) on the host, against Debian's libmbedtls: the
 * known-answer self-test, the error paths of every primitive (bad tags,
 * flipped bits, off-curve points, out-of-range scalars), round trips with
 * fresh keys, the role OIDs, and X.509 chains issued by the PKI helpers:
 * the right role is accepted, anything else refused with a reason, and
 * `openssl verify` agrees that the certificates are well-formed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/pki_host.h"
#include "hex.h"

/* ---- helpers ---------------------------------------------------------------- */

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

/* ---- self-test and basics ------------------------------------------------------- */

static void test_selftest_passes(void **state)
{
	char err[128] = "untouched";

	(void)state;
	assert_int_equal(crypto_selftest(err, sizeof(err)), CRYPTO_OK);
	assert_string_equal(err, "");
	/* And with nowhere to put a message. */
	assert_int_equal(crypto_selftest(NULL, 0), CRYPTO_OK);
	assert_int_equal(crypto_selftest_quick(err, sizeof(err)), CRYPTO_OK);
	assert_string_equal(err, "");
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(crypto_strerror(CRYPTO_OK), "ok");
	assert_string_equal(crypto_strerror(CRYPTO_E_VERIFY), "verification failed");
	assert_string_equal(crypto_strerror(CRYPTO_E_RNG), "no randomness");
	assert_string_equal(crypto_strerror(42), "unknown crypto error");
}

static void test_random(void **state)
{
	static uint8_t big[5000], big2[5000];

	(void)state;
	assert_int_equal(crypto_init(), CRYPTO_OK);
	assert_int_equal(crypto_init(), CRYPTO_OK); /* idempotent */
	assert_int_equal(crypto_random(big, 0), CRYPTO_OK);
	assert_int_equal(crypto_random(NULL, 0), CRYPTO_OK);
	assert_int_equal(crypto_random(NULL, 1), CRYPTO_E_INVAL);
	/* More than one DRBG request's worth (1024 bytes). */
	assert_int_equal(crypto_random(big, sizeof(big)), CRYPTO_OK);
	assert_int_equal(crypto_random(big2, sizeof(big2)), CRYPTO_OK);
	assert_memory_not_equal(big, big2, sizeof(big));
	assert_false(all_zero(big + sizeof(big) - 64, 64));
	/* The host's entropy source itself. */
	memset(big, 0, 64);
	assert_int_equal(crypto_platform_entropy(big, 64), 0);
	assert_false(all_zero(big, 64));
}

static void test_wipe(void **state)
{
	uint8_t b[33];

	(void)state;
	memset(b, 0x77, sizeof(b));
	crypto_wipe(b, sizeof(b));
	assert_true(all_zero(b, sizeof(b)));
	crypto_wipe(NULL, 0);
	crypto_wipe(b, 0);
}

/* ---- hashes, HMAC, HKDF ----------------------------------------------------------- */

static void test_sha384_empty_and_pieces(void **state)
{
	static uint8_t data[1000];
	struct crypto_sha384_ctx c;
	uint8_t one[48], parts[48];

	(void)state;
	crypto_sha384("", 0, one);
	assert_hex(one, 48,
		   "38b060a751ac96384cd9327eb1b1e36a21fdb71114be0743"
		   "4c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b");
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 131 + 7);
	crypto_sha384(data, sizeof(data), one);
	for (size_t step = 1; step < 300; step += 37) {
		crypto_sha384_init(&c);
		for (size_t off = 0; off < sizeof(data); off += step)
			crypto_sha384_update(&c, data + off,
					     off + step > sizeof(data) ? sizeof(data) - off : step);
		crypto_sha384_final(&c, parts);
		assert_memory_equal(one, parts, 48);
	}
	uint8_t d256[32];
	crypto_sha256("", 0, d256);
	assert_hex(d256, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_hmac_errors(void **state)
{
	uint8_t mac[48];

	(void)state;
	assert_int_equal(crypto_hmac_sha384(NULL, 1, "x", 1, mac), CRYPTO_E_INVAL);
	assert_int_equal(crypto_hmac_sha384("k", 1, NULL, 1, mac), CRYPTO_E_INVAL);
	assert_int_equal(crypto_hmac_sha384("k", 1, "x", 1, NULL), CRYPTO_E_INVAL);
	/* An empty key and empty message are valid HMAC inputs. */
	assert_int_equal(crypto_hmac_sha384(NULL, 0, NULL, 0, mac), CRYPTO_OK);
}

static void test_hkdf_vectors_and_limits(void **state)
{
	static uint8_t out[255 * 48 + 1];
	uint8_t ikm[16], info[20], zeros[48];

	(void)state;
	/* Wycheproof hkdf_sha384_test.json tcId 5: empty salt. */
	unhex("4055536896c406d5fe14a6cd6b999bff", ikm, 16);
	unhex("2094768a8816f7df070d6e08b7ad93755dc9024b", info, 20);
	assert_int_equal(crypto_hkdf_sha384(NULL, 0, ikm, 16, info, 20, out, 42), CRYPTO_OK);
	assert_hex(out, 42, "14a650a903d54e0de9962f5462deb135071cd1e3051ecacd65d378b6181b41e1"
			    "e1ab3b5d2143b710c728");
	/* tcId 21/22: an empty salt is a salt of 48 zero bytes. */
	unhex("5943c65bc33bf05a205b04be8ae0ab2e", ikm, 16);
	unhex("be082f301a03f87787a80fbea88941214d50c42b", info, 20);
	memset(zeros, 0, sizeof(zeros));
	assert_int_equal(crypto_hkdf_sha384(zeros, 48, ikm, 16, info, 20, out, 32), CRYPTO_OK);
	assert_hex(out, 32, "6f93965b7399bdcaef06c151056ba14b7392a1521af1145e0c1d05e34b6f19f3");
	/* Lengths: 1 .. 255 * 48 allowed, 0 and more refused. */
	assert_int_equal(crypto_hkdf_sha384(NULL, 0, ikm, 16, NULL, 0, out, 255 * 48), CRYPTO_OK);
	assert_int_equal(crypto_hkdf_sha384(NULL, 0, ikm, 16, NULL, 0, out, 255 * 48 + 1),
			 CRYPTO_E_INVAL);
	assert_int_equal(crypto_hkdf_sha384(NULL, 0, ikm, 16, NULL, 0, out, 0), CRYPTO_E_INVAL);
	assert_int_equal(crypto_hkdf_sha384(NULL, 0, ikm, 16, NULL, 0, NULL, 1), CRYPTO_E_INVAL);
	assert_int_equal(crypto_hkdf_sha384(NULL, 1, ikm, 16, NULL, 0, out, 1), CRYPTO_E_INVAL);
}

/* ---- AES-256-GCM --------------------------------------------------------------------- */

/* NIST SP 800-38A F.3.13 (CFB128-AES128) and F.3.17 (CFB128-AES256), the
 * latter cut to 19 bytes: CFB needs no whole blocks. */
static void test_aes_cfb_vectors(void **state)
{
	uint8_t key128[16], key256[32], iv[16], buf[32], pt[32];

	(void)state;
	unhex("2b7e151628aed2a6abf7158809cf4f3c", key128, 16);
	unhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
	      key256, 32);
	unhex("000102030405060708090a0b0c0d0e0f", iv, 16);
	unhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51",
	      pt, 32);
	memcpy(buf, pt, 32);
	assert_int_equal(crypto_aes_cfb(true, key128, 16, iv, buf, 32), CRYPTO_OK);
	assert_hex(buf, 32, "3b3fd92eb72dad20333449f8e83cfb4a"
			    "c8a64537a0b3a93fcde3cdad9f1ce58b");
	assert_int_equal(crypto_aes_cfb(false, key128, 16, iv, buf, 32), CRYPTO_OK);
	assert_memory_equal(buf, pt, 32);
	memcpy(buf, pt, 19);
	assert_int_equal(crypto_aes_cfb(true, key256, 32, iv, buf, 19), CRYPTO_OK);
	assert_hex(buf, 19, "dc7e84bfda79164b7ecd8486985d386039ffed");
	assert_int_equal(crypto_aes_cfb(false, key256, 32, iv, buf, 19), CRYPTO_OK);
	assert_memory_equal(buf, pt, 19);
	/* The IV is the caller's: not advanced. */
	assert_hex(iv, 16, "000102030405060708090a0b0c0d0e0f");
}

static void test_aes_cfb_refusals(void **state)
{
	uint8_t key[32] = { 0 }, iv[16] = { 0 }, buf[4] = { 0 };

	(void)state;
	assert_int_equal(crypto_aes_cfb(true, key, 24, iv, buf, 4), CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes_cfb(true, NULL, 16, iv, buf, 4), CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes_cfb(true, key, 16, NULL, buf, 4), CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes_cfb(true, key, 16, iv, NULL, 4), CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes_cfb(true, key, 16, iv, NULL, 0), CRYPTO_OK);
}

static void test_gcm_round_trip_and_in_place(void **state)
{
	uint8_t key[32], iv[12], aad[40], pt[300], buf[300], tag[16];

	(void)state;
	assert_int_equal(crypto_random(key, sizeof(key)), CRYPTO_OK);
	assert_int_equal(crypto_random(iv, sizeof(iv)), CRYPTO_OK);
	assert_int_equal(crypto_random(aad, sizeof(aad)), CRYPTO_OK);
	for (size_t len = 0; len <= sizeof(pt); len += 37) {
		assert_int_equal(crypto_random(pt, len), CRYPTO_OK);
		memcpy(buf, pt, len);
		/* In place: pt and ct the same buffer. */
		assert_int_equal(crypto_aes256gcm_encrypt(key, iv, aad, len % 41, buf, len,
							  buf, tag), CRYPTO_OK);
		if (len >= 16)
			assert_memory_not_equal(buf, pt, len);
		assert_int_equal(crypto_aes256gcm_decrypt(key, iv, aad, len % 41, buf, len,
							  buf, tag), CRYPTO_OK);
		assert_memory_equal(buf, pt, len);
	}
}

static void test_gcm_tampering(void **state)
{
	uint8_t key[32], iv[12], aad[16], pt[64], ct[64], out[64], tag[16], t2[16];

	(void)state;
	memset(key, 1, sizeof(key));
	memset(iv, 2, sizeof(iv));
	memset(aad, 3, sizeof(aad));
	memset(pt, 4, sizeof(pt));
	assert_int_equal(crypto_aes256gcm_encrypt(key, iv, aad, 16, pt, 64, ct, tag), CRYPTO_OK);

	/* Every single-bit flip of tag, ciphertext, AAD, IV or key is refused
	 * and leaves no plaintext behind. */
	for (int what = 0; what < 5; what++) {
		for (int bit = 0; bit < 128; bit += 13) {
			uint8_t *target[] = { tag, ct, aad, iv, key };
			size_t size[] = { 16, 64, 16, 12, 32 };
			size_t byte = (size_t)bit / 8 % size[what];

			memset(out, 0xcc, sizeof(out));
			target[what][byte] ^= (uint8_t)(1u << (bit % 8));
			assert_int_equal(crypto_aes256gcm_decrypt(key, iv, aad, 16, ct, 64, out,
								  tag), CRYPTO_E_VERIFY);
			assert_true(all_zero(out, sizeof(out)));
			target[what][byte] ^= (uint8_t)(1u << (bit % 8));
		}
	}
	/* A truncated message or AAD is refused too. */
	assert_int_equal(crypto_aes256gcm_decrypt(key, iv, aad, 16, ct, 63, out, tag),
			 CRYPTO_E_VERIFY);
	assert_int_equal(crypto_aes256gcm_decrypt(key, iv, aad, 15, ct, 64, out, tag),
			 CRYPTO_E_VERIFY);
	/* Untouched, it decrypts. */
	assert_int_equal(crypto_aes256gcm_decrypt(key, iv, aad, 16, ct, 64, out, tag), CRYPTO_OK);
	assert_memory_equal(out, pt, 64);
	/* Empty plaintext: a MAC over the AAD alone. */
	assert_int_equal(crypto_aes256gcm_encrypt(key, iv, aad, 16, NULL, 0, NULL, t2), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_decrypt(key, iv, aad, 16, NULL, 0, NULL, t2), CRYPTO_OK);
	aad[0] ^= 1;
	assert_int_equal(crypto_aes256gcm_decrypt(key, iv, aad, 16, NULL, 0, NULL, t2),
			 CRYPTO_E_VERIFY);
	/* Bad arguments. */
	assert_int_equal(crypto_aes256gcm_encrypt(NULL, iv, NULL, 0, pt, 1, ct, tag), CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes256gcm_encrypt(key, iv, NULL, 1, pt, 1, ct, tag), CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes256gcm_decrypt(key, iv, NULL, 0, NULL, 1, out, tag),
			 CRYPTO_E_INVAL);
}

/* ---- AES-256-GCM, streamed ------------------------------------------------------------ */

static void test_gcm_stream_equals_one_shot(void **state)
{
	static const size_t splits[][4] = {
		{ 0, 0, 0, 0 }, { 16, 16, 16, 16 }, { 32, 0, 48, 16 },
		{ 4096, 16, 0, 0 }, { 160, 320, 16, 480 }, { 0, 16, 0, 32 },
	};
	uint8_t key[32], iv[12], aad[152], pt[1000], ct[1000], st[1000], back[1000];
	uint8_t tag[16], stag[16];

	(void)state;
	assert_int_equal(crypto_random(key, sizeof(key)), CRYPTO_OK);
	assert_int_equal(crypto_random(iv, sizeof(iv)), CRYPTO_OK);
	assert_int_equal(crypto_random(aad, sizeof(aad)), CRYPTO_OK);
	assert_int_equal(crypto_random(pt, sizeof(pt)), CRYPTO_OK);
	for (size_t len = 0; len <= sizeof(pt); len += 91) {
		for (size_t k = 0; k < sizeof(splits) / sizeof(splits[0]); k++) {
			struct crypto_gcm_stream s;
			size_t aad_len = (len + k) % sizeof(aad);

			assert_int_equal(crypto_aes256gcm_encrypt(key, iv, aad, aad_len, pt, len,
								  ct, tag), CRYPTO_OK);
			/* Encrypt in the pieces of splits[k], the rest in one. */
			assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, aad,
								       aad_len), CRYPTO_OK);
			{
				size_t off = 0;

				for (size_t i = 0; i < 4 && off + splits[k][i] <= len; i++) {
					assert_int_equal(crypto_aes256gcm_stream_update(
						&s, pt + off, splits[k][i], st + off), CRYPTO_OK);
					off += splits[k][i];
				}
				assert_int_equal(crypto_aes256gcm_stream_update(
					&s, pt + off, len - off, st + off), CRYPTO_OK);
			}
			assert_int_equal(crypto_aes256gcm_stream_finish(&s, stag), CRYPTO_OK);
			assert_memory_equal(st, ct, len);
			assert_memory_equal(stag, tag, 16);
			/* Decrypt in place, in the same pieces. */
			memcpy(back, ct, len);
			assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, false, aad,
								       aad_len), CRYPTO_OK);
			{
				size_t off = 0;

				for (size_t i = 0; i < 4 && off + splits[k][i] <= len; i++) {
					assert_int_equal(crypto_aes256gcm_stream_update(
						&s, back + off, splits[k][i], back + off), CRYPTO_OK);
					off += splits[k][i];
				}
				assert_int_equal(crypto_aes256gcm_stream_update(
					&s, back + off, len - off, back + off), CRYPTO_OK);
			}
			assert_int_equal(crypto_aes256gcm_stream_verify(&s, tag), CRYPTO_OK);
			assert_memory_equal(back, pt, len);
		}
	}
}

static void test_gcm_stream_nist_vector(void **state)
{
	/* GCM spec (McGrew-Viega) test case 16, as submitted to NIST: AES-256,
	 * 60 bytes of plaintext (a partial last block), 20 bytes of AAD. */
	uint8_t key[32], iv[12], aad[20], pt[60], out[60], tag[16];
	struct crypto_gcm_stream s;

	(void)state;
	unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key, 32);
	unhex("cafebabefacedbaddecaf888", iv, 12);
	unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad, 20);
	unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39", pt, 60);
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, aad, 20), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt, 16, out), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt + 16, 32, out + 16), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt + 48, 12, out + 48), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_finish(&s, tag), CRYPTO_OK);
	assert_hex(out, 60,
		   "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		   "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662");
	assert_hex(tag, 16, "76fc6ece0f4e1768cddf8853bb2d551b");
	/* The context is wiped: the struct is all zero now. */
	assert_true(all_zero(&s, sizeof(s)));

	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, false, aad, 20), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, out, 48, out), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, out + 48, 12, out + 48), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_verify(&s, tag), CRYPTO_OK);
	assert_memory_equal(out, pt, 60);
	assert_true(all_zero(&s, sizeof(s)));
}

static void test_gcm_stream_refusals(void **state)
{
	uint8_t key[32], iv[12], aad[8], pt[64], ct[64], tag[16];
	struct crypto_gcm_stream s;

	(void)state;
	memset(key, 1, sizeof(key));
	memset(iv, 2, sizeof(iv));
	memset(aad, 3, sizeof(aad));
	memset(pt, 4, sizeof(pt));
	assert_int_equal(crypto_aes256gcm_encrypt(key, iv, aad, 8, pt, 64, ct, tag), CRYPTO_OK);

	/* A flipped tag, ciphertext, AAD bit or another key: CRYPTO_E_VERIFY,
	 * and the context is wiped all the same. */
	for (int what = 0; what < 4; what++) {
		uint8_t *target[] = { tag, ct, aad, key };
		uint8_t out[64];

		target[what][what * 3] ^= 0x10;
		assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, false, aad, 8),
				 CRYPTO_OK);
		assert_int_equal(crypto_aes256gcm_stream_update(&s, ct, 64, out), CRYPTO_OK);
		assert_int_equal(crypto_aes256gcm_stream_verify(&s, tag), CRYPTO_E_VERIFY);
		assert_true(all_zero(&s, sizeof(s)));
		target[what][what * 3] ^= 0x10;
	}
	/* Truncated stream: refused. */
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, false, aad, 8), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, ct, 48, pt), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_verify(&s, tag), CRYPTO_E_VERIFY);

	/* An update after one of a length not a multiple of 16: CRYPTO_E_INVAL,
	 * and the stream is over (wiped; every later call refused). */
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, aad, 8), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt, 20, ct), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt + 20, 16, ct + 20),
			 CRYPTO_E_INVAL);
	assert_true(all_zero(&s, sizeof(s)));
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt, 16, ct), CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes256gcm_stream_finish(&s, tag), CRYPTO_E_INVAL);

	/* finish on a decrypting stream, verify on an encrypting one. */
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, false, aad, 8), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_finish(&s, tag), CRYPTO_E_INVAL);
	assert_true(all_zero(&s, sizeof(s)));
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, aad, 8), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_verify(&s, tag), CRYPTO_E_INVAL);
	/* After the end, nothing works until begin again. */
	assert_int_equal(crypto_aes256gcm_stream_verify(&s, tag), CRYPTO_E_INVAL);

	/* Abort half-way: wiped; a second abort is harmless. */
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, aad, 8), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, pt, 32, ct), CRYPTO_OK);
	crypto_aes256gcm_stream_abort(&s);
	assert_true(all_zero(&s, sizeof(s)));
	crypto_aes256gcm_stream_abort(&s);
	crypto_aes256gcm_stream_abort(NULL);

	/* Bad arguments. */
	assert_int_equal(crypto_aes256gcm_stream_begin(NULL, key, iv, true, NULL, 0),
			 CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, NULL, iv, true, NULL, 0),
			 CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, NULL, true, NULL, 0),
			 CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, NULL, 1),
			 CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, NULL, 0), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_update(&s, NULL, 16, ct), CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes256gcm_stream_begin(&s, key, iv, true, NULL, 0), CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_stream_finish(&s, NULL), CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes256gcm_stream_update(NULL, pt, 16, ct), CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes256gcm_stream_finish(NULL, tag), CRYPTO_E_INVAL);
	assert_int_equal(crypto_aes256gcm_stream_verify(NULL, tag), CRYPTO_E_INVAL);
}

/* ---- P-384 -------------------------------------------------------------------------------- */

/* The group order n of P-384. */
static const char p384_n[] =
	"ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973";

static void test_p384_keys(void **state)
{
	uint8_t priv[48], pub[97], pub2[97], bad[48];

	(void)state;
	assert_int_equal(crypto_p384_keygen(priv, pub), CRYPTO_OK);
	assert_int_equal(pub[0], 0x04);
	assert_int_equal(crypto_p384_public(priv, pub2), CRYPTO_OK);
	assert_memory_equal(pub, pub2, 97);

	/* CAVP CDH [P-384] COUNT = 0: dIUT -> QIUT. */
	unhex("3cc3122a68f0d95027ad38c067916ba0eb8c38894d22e1b15618b6818a661774"
	      "ad463b205da88cf699ab4d43c9cf98a1", priv, 48);
	assert_int_equal(crypto_p384_public(priv, pub), CRYPTO_OK);
	assert_hex(pub, 97,
		   "04"
		   "9803807f2f6d2fd966cdd0290bd410c0190352fbec7ff6247de1302df86f25d3"
		   "4fe4a97bef60cff548355c015dbb3e5f"
		   "ba26ca69ec2f5b5d9dad20cc9da711383a9dbe34ea3fa5a2af75b46502629ad5"
		   "4dd8b7d73a8abb06a3a3be47d650cc99");

	/* Scalars outside [1, n-1] are not keys. */
	memset(bad, 0, sizeof(bad));
	assert_int_equal(crypto_p384_public(bad, pub), CRYPTO_E_INVAL);
	assert_true(all_zero(pub, 97));
	unhex(p384_n, bad, 48);
	assert_int_equal(crypto_p384_public(bad, pub), CRYPTO_E_INVAL);
	memset(bad, 0xff, sizeof(bad));
	assert_int_equal(crypto_p384_public(bad, pub), CRYPTO_E_INVAL);
	unhex(p384_n, bad, 48); /* n - 1 is the largest key */
	bad[47] -= 1;
	assert_int_equal(crypto_p384_public(bad, pub), CRYPTO_OK);
}

static void test_ecdsa_rfc6979_test_message(void **state)
{
	uint8_t priv[48], digest[48], sig[96];

	(void)state;
	/* RFC 6979 A.2.6, SHA-384, message "test". */
	unhex("6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d8"
	      "96d5724e4c70a825f872c9ea60d2edf5", priv, 48);
	crypto_sha384("test", 4, digest);
	assert_int_equal(crypto_ecdsa_p384_sign(priv, digest, sig), CRYPTO_OK);
	assert_hex(sig, 96,
		   "8203b63d3c853e8d77227fb377bcf7b7b772e97892a80f36ab775d509d7a5feb"
		   "0542a7f0812998da8f1dd3ca3cf023db"
		   "ddd0760448d42d8a43af45af836fce4de8be06b485e9b61b827c2f13173923e0"
		   "6a739f040649a667bf3b828246baa5a5");
}

static void test_ecdsa_round_trip_and_tampering(void **state)
{
	uint8_t priv[48], pub[97], other_priv[48], other_pub[97];
	uint8_t digest[48], sig[96], bad[96];

	(void)state;
	assert_int_equal(crypto_p384_keygen(priv, pub), CRYPTO_OK);
	assert_int_equal(crypto_p384_keygen(other_priv, other_pub), CRYPTO_OK);
	crypto_sha384("message", 7, digest);
	assert_int_equal(crypto_ecdsa_p384_sign(priv, digest, sig), CRYPTO_OK);
	assert_int_equal(crypto_ecdsa_p384_verify(pub, digest, 48, sig), CRYPTO_OK);

	/* Bit flips in the signature (r and s), the digest, the key. */
	for (size_t i = 0; i < 96; i += 11) {
		memcpy(bad, sig, 96);
		bad[i] ^= 0x10;
		assert_int_equal(crypto_ecdsa_p384_verify(pub, digest, 48, bad), CRYPTO_E_VERIFY);
	}
	digest[47] ^= 1;
	assert_int_equal(crypto_ecdsa_p384_verify(pub, digest, 48, sig), CRYPTO_E_VERIFY);
	digest[47] ^= 1;
	assert_int_equal(crypto_ecdsa_p384_verify(other_pub, digest, 48, sig), CRYPTO_E_VERIFY);
	/* A digest of another length is a different message. */
	assert_int_equal(crypto_ecdsa_p384_verify(pub, digest, 32, sig), CRYPTO_E_VERIFY);

	/* r or s zero, or n: out of range. */
	memcpy(bad, sig, 96);
	memset(bad, 0, 48);
	assert_int_equal(crypto_ecdsa_p384_verify(pub, digest, 48, bad), CRYPTO_E_VERIFY);
	memcpy(bad, sig, 96);
	unhex(p384_n, bad + 48, 48);
	assert_int_equal(crypto_ecdsa_p384_verify(pub, digest, 48, bad), CRYPTO_E_VERIFY);

	/* Malformed keys: a point off the curve, a compressed prefix, zero. */
	uint8_t badpub[97];
	memcpy(badpub, pub, 97);
	badpub[96] ^= 1;
	assert_int_equal(crypto_ecdsa_p384_verify(badpub, digest, 48, sig), CRYPTO_E_VERIFY);
	memcpy(badpub, pub, 97);
	badpub[0] = 0x02;
	assert_int_equal(crypto_ecdsa_p384_verify(badpub, digest, 48, sig), CRYPTO_E_VERIFY);
	memset(badpub, 0, 97);
	assert_int_equal(crypto_ecdsa_p384_verify(badpub, digest, 48, sig), CRYPTO_E_VERIFY);
	assert_int_equal(crypto_ecdsa_p384_verify(pub, NULL, 48, sig), CRYPTO_E_VERIFY);
	assert_int_equal(crypto_ecdsa_p384_verify(pub, digest, 0, sig), CRYPTO_E_VERIFY);
	assert_int_equal(crypto_ecdsa_p384_verify(NULL, digest, 48, sig), CRYPTO_E_VERIFY);

	/* Signing with a non-key fails and leaves no signature. */
	memset(bad, 0, 48);
	memset(sig, 0x55, 96);
	assert_int_equal(crypto_ecdsa_p384_sign(bad, digest, sig), CRYPTO_E_INVAL);
	assert_true(all_zero(sig, 96));
}

static void test_ecdh(void **state)
{
	uint8_t a_priv[48], a_pub[97], b_priv[48], b_pub[97];
	uint8_t za[48], zb[48], bad[97];

	(void)state;
	assert_int_equal(crypto_p384_keygen(a_priv, a_pub), CRYPTO_OK);
	assert_int_equal(crypto_p384_keygen(b_priv, b_pub), CRYPTO_OK);
	assert_int_equal(crypto_ecdh_p384(a_priv, b_pub, za), CRYPTO_OK);
	assert_int_equal(crypto_ecdh_p384(b_priv, a_pub, zb), CRYPTO_OK);
	assert_memory_equal(za, zb, 48);
	assert_false(all_zero(za, 48));

	/* A peer point off the curve (invalid-curve attack) is refused. */
	memcpy(bad, b_pub, 97);
	bad[60] ^= 0x01;
	memset(za, 0x55, 48);
	assert_int_equal(crypto_ecdh_p384(a_priv, bad, za), CRYPTO_E_INVAL);
	assert_true(all_zero(za, 48));
	/* Coordinates >= p, the point at infinity, other encodings. */
	memset(bad + 1, 0xff, 96);
	assert_int_equal(crypto_ecdh_p384(a_priv, bad, za), CRYPTO_E_INVAL);
	memset(bad, 0, 97);
	assert_int_equal(crypto_ecdh_p384(a_priv, bad, za), CRYPTO_E_INVAL);
	memcpy(bad, b_pub, 97);
	bad[0] = 0x03;
	assert_int_equal(crypto_ecdh_p384(a_priv, bad, za), CRYPTO_E_INVAL);
	/* A bad private scalar. */
	memset(a_priv, 0, 48);
	assert_int_equal(crypto_ecdh_p384(a_priv, b_pub, za), CRYPTO_E_INVAL);
	assert_int_equal(crypto_ecdh_p384(NULL, b_pub, za), CRYPTO_E_INVAL);
}

/* ---- roles ------------------------------------------------------------------------------------ */

/* The dotted form of an OID's DER contents (arcs up to 128 bits). */
static void oid_to_dotted(const uint8_t *oid, size_t len, char *out, size_t out_len)
{
	unsigned __int128 v = 0;
	size_t pos = 0;
	int first = 1;

	out[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		v = (v << 7) | (oid[i] & 0x7f);
		if (oid[i] & 0x80)
			continue;
		char digits[48];
		int n = 0;
		unsigned __int128 x;

		if (first) {
			/* Only the 2.x form is used here (first byte >= 80). */
			assert_true(v >= 80);
			pos += (size_t)snprintf(out + pos, out_len - pos, "2");
			x = v - 80;
			first = 0;
		} else {
			x = v;
		}
		do {
			digits[n++] = (char)('0' + (int)(x % 10));
			x /= 10;
		} while (x);
		pos += (size_t)snprintf(out + pos, out_len - pos, ".");
		while (n)
			out[pos++] = digits[--n];
		out[pos] = '\0';
		v = 0;
	}
}

static void test_role_oids_and_names(void **state)
{
	const uint8_t *oid;
	size_t len;
	char dotted[96], want[96];

	(void)state;
	assert_int_equal(CRYPTO_ROLE_LAST, 8);
	for (int role = CRYPTO_ROLE_FIRST; role <= CRYPTO_ROLE_LAST; role++) {
		assert_int_equal(crypto_role_oid((enum crypto_role)role, &oid, &len), CRYPTO_OK);
		oid_to_dotted(oid, len, dotted, sizeof(dotted));
		snprintf(want, sizeof(want), "%s.%d", CUSTOS_OID_ARC, role);
		assert_string_equal(dotted, want);
		assert_string_not_equal(crypto_role_name((enum crypto_role)role), "unknown-role");
	}
	assert_string_equal(crypto_role_name(CRYPTO_ROLE_STATION), "signing-station");
	assert_int_equal(crypto_role_oid((enum crypto_role)0, &oid, &len), CRYPTO_E_INVAL);
	assert_int_equal(crypto_role_oid((enum crypto_role)9, &oid, &len), CRYPTO_E_INVAL);
	assert_string_equal(crypto_role_name(CRYPTO_ROLE_TCB_AK), "TPM-attestation-key");
	assert_string_equal(crypto_role_name(CRYPTO_ROLE_TCB_SIGN_DEV), "development-TCB-signing");
	assert_true(crypto_role_agrees_keys(CRYPTO_ROLE_TCB_KEX));
	assert_true(crypto_role_agrees_keys(CRYPTO_ROLE_TCB_KEX_DEV));
	assert_false(crypto_role_agrees_keys(CRYPTO_ROLE_TCB_SIGN));
	assert_false(crypto_role_agrees_keys(CRYPTO_ROLE_TCB_SIGN_DEV));
	assert_string_equal(crypto_role_name((enum crypto_role)9), "unknown-role");
}


/* ---- PKI helpers and certificate chains ------------------------------------------------- */

#define NROLES CRYPTO_ROLE_LAST

static struct {
	char dir[64];
	uint8_t root_priv[48];
	struct pki_cert root;
	uint8_t other_priv[48];
	struct pki_cert other_same_cn;   /* another CA with the same name */
	struct pki_cert other;           /* another CA with another name */
	uint8_t leaf_pub[NROLES + 1][97];
	struct pki_cert leaf[NROLES + 1];   /* by role, from root */
	struct pki_cert stray;              /* a station cert from other_same_cn */
} pki;

static const char *path_in(const char *name)
{
	static char buf[4][128];
	static int next;
	char *p = buf[next++ % 4];

	snprintf(p, sizeof(buf[0]), "%s/%s", pki.dir, name);
	return p;
}

static void write_pem(const char *name, const struct pki_cert *c)
{
	char err[PKI_ERR_LEN];

	unlink(path_in(name));
	assert_int_equal(pki_write_file(path_in(name), c->pem, c->pem_len, 0644, err,
					sizeof(err)), CRYPTO_OK);
}

/* Run a shell command in the temp dir; its exit status. */
static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	int n;
	va_list ap;

	n = snprintf(cmd, sizeof(cmd), "cd '%s' && (", pki.dir);
	va_start(ap, fmt);
	n += vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	snprintf(cmd + n, sizeof(cmd) - (size_t)n, ") >>log.txt 2>&1");
	int st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int pki_setup(void **state)
{
	char err[PKI_ERR_LEN];
	uint8_t priv[48];

	(void)state;
	snprintf(pki.dir, sizeof(pki.dir), "/tmp/custos-test-crypto-XXXXXX");
	if (mkdtemp(pki.dir) == NULL)
		return -1;
	if (pki_key_generate(path_in("root.key"), pki.root_priv, NULL, err, sizeof(err)) ||
	    pki_issue_root(pki.root_priv, "Custos test CA", 30, &pki.root, err, sizeof(err)) ||
	    crypto_p384_keygen(pki.other_priv, pki.leaf_pub[0]) ||
	    pki_issue_root(pki.other_priv, "Custos test CA", 30, &pki.other_same_cn, err,
			   sizeof(err)) ||
	    pki_issue_root(pki.other_priv, "Mallory CA", 30, &pki.other, err, sizeof(err))) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	for (int role = 1; role <= NROLES; role++) {
		char cn[32];

		snprintf(cn, sizeof(cn), "leaf-%d", role);
		if (crypto_p384_keygen(priv, pki.leaf_pub[role]) ||
		    pki_issue_leaf(pki.root_priv, pki.root.der, pki.root.der_len,
				   pki.leaf_pub[role], cn, (enum crypto_role)role, 7,
				   &pki.leaf[role], err, sizeof(err))) {
			fprintf(stderr, "setup: %s\n", err);
			return -1;
		}
	}
	if (pki_issue_leaf(pki.other_priv, pki.other_same_cn.der, pki.other_same_cn.der_len,
			   pki.leaf_pub[1], "leaf-1", CRYPTO_ROLE_STATION, 7, &pki.stray, err,
			   sizeof(err))) {
		fprintf(stderr, "setup: %s\n", err);
		return -1;
	}
	crypto_wipe(priv, sizeof(priv));
	return 0;
}

static int pki_teardown(void **state)
{
	char cmd[128];

	(void)state;
	for (int role = 0; role <= NROLES; role++)
		pki_cert_free(&pki.leaf[role]);
	pki_cert_free(&pki.root);
	pki_cert_free(&pki.other);
	pki_cert_free(&pki.other_same_cn);
	pki_cert_free(&pki.stray);
	if (getenv("CUSTOS_KEEP_TMP") == NULL && pki.dir[0] != '\0') {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", pki.dir);
		return system(cmd) == 0 ? 0 : -1;
	}
	return 0;
}

static int verify(const struct pki_cert *leaf, const struct pki_cert *root, int role,
		  uint8_t *pub, char *err, size_t err_len)
{
	return crypto_x509_verify(leaf->der, leaf->der_len, root->der, root->der_len,
				  (enum crypto_role)role, pub, err, err_len);
}

static void test_pki_key_files(void **state)
{
	char err[PKI_ERR_LEN];
	uint8_t priv[48], pub[97], priv2[48], pub2[97];
	struct stat st;
	FILE *f;
	char line[64];

	(void)state;
	assert_int_equal(pki_key_generate(path_in("k.key"), priv, pub, err, sizeof(err)),
			 CRYPTO_OK);
	assert_int_equal(stat(path_in("k.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	f = fopen(path_in("k.key"), "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	assert_string_equal(line, "-----BEGIN EC PRIVATE KEY-----\n");
	assert_int_equal(pki_key_read(path_in("k.key"), priv2, pub2, err, sizeof(err)), CRYPTO_OK);
	assert_memory_equal(priv, priv2, 48);
	assert_memory_equal(pub, pub2, 97);
	assert_int_equal(pki_key_read(path_in("k.key"), priv2, NULL, err, sizeof(err)), CRYPTO_OK);

	/* Never overwritten. */
	assert_int_equal(pki_key_generate(path_in("k.key"), NULL, NULL, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_non_null(strstr(err, "refusing to overwrite"));
	assert_int_equal(pki_key_write(path_in("k.key"), priv, err, sizeof(err)), CRYPTO_E_INVAL);
	assert_int_equal(pki_key_read(path_in("k.key"), priv2, pub2, err, sizeof(err)), CRYPTO_OK);
	assert_memory_equal(priv, priv2, 48);

	/* An existing scalar, written and read back. */
	assert_int_equal(pki_key_write(path_in("k2.key"), priv, err, sizeof(err)), CRYPTO_OK);
	assert_int_equal(pki_key_read(path_in("k2.key"), priv2, pub2, err, sizeof(err)), CRYPTO_OK);
	assert_memory_equal(pub, pub2, 97);
	memset(priv2, 0, sizeof(priv2));
	assert_int_equal(pki_key_write(path_in("k3.key"), priv2, err, sizeof(err)), CRYPTO_E_INVAL);
	assert_int_equal(access(path_in("k3.key"), F_OK), -1);

	/* Not keys, or not P-384 keys. */
	assert_int_equal(pki_key_read(path_in("missing.key"), priv2, pub2, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_non_null(strstr(err, "cannot read"));
	assert_int_equal(pki_write_file(path_in("junk.key"), "hello\n", 6, 0600, err, sizeof(err)),
			 CRYPTO_OK);
	assert_int_equal(pki_key_read(path_in("junk.key"), priv2, pub2, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_int_equal(sh("openssl ecparam -name prime256v1 -genkey -noout -out p256.key"), 0);
	assert_int_equal(pki_key_read(path_in("p256.key"), priv2, pub2, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_non_null(strstr(err, "not a P-384"));
	/* openssl reads ours. */
	assert_int_equal(sh("openssl ec -in k.key -noout -check"), 0);
}

/* The CA root's own key (the approvals' signer): exactly the root's, and
 * never a leaf's or a malformed certificate's. */
static void test_pki_ca_public(void **state)
{
	uint8_t pub[97], want[97], priv[48];
	char err[PKI_ERR_LEN];

	(void)state;
	memcpy(priv, pki.root_priv, sizeof(priv));
	assert_int_equal(crypto_p384_public(priv, want), CRYPTO_OK);
	assert_int_equal(crypto_x509_ca_public(pki.root.der, pki.root.der_len, pub, err,
					       sizeof(err)), CRYPTO_OK);
	assert_memory_equal(pub, want, sizeof(want));
	assert_int_equal(crypto_x509_ca_public(pki.leaf[1].der, pki.leaf[1].der_len, pub,
					       err, sizeof(err)), CRYPTO_E_INVAL);
	assert_non_null(strstr(err, "not a P-384 CA"));
	assert_int_equal(crypto_x509_ca_public(pki.root.der, pki.root.der_len - 1, pub, err,
					       sizeof(err)), CRYPTO_E_INVAL);
	assert_int_equal(crypto_x509_ca_public(NULL, 0, pub, err, sizeof(err)),
			 CRYPTO_E_INVAL);
}

static void test_pki_each_role_accepted_only_for_itself(void **state)
{
	char err[PKI_ERR_LEN];
	uint8_t pub[97];

	(void)state;
	for (int role = 1; role <= NROLES; role++) {
		memset(pub, 0, sizeof(pub));
		assert_int_equal(verify(&pki.leaf[role], &pki.root, role, pub, err, sizeof(err)),
				 CRYPTO_OK);
		assert_string_equal(err, "");
		assert_memory_equal(pub, pki.leaf_pub[role], 97);
		assert_int_equal(verify(&pki.leaf[role], &pki.root, role, NULL, NULL, 0), CRYPTO_OK);
		for (int other = 1; other <= NROLES; other++) {
			char want[96];

			if (other == role)
				continue;
			assert_int_equal(verify(&pki.leaf[role], &pki.root, other, pub, err,
						sizeof(err)), CRYPTO_E_VERIFY);
			snprintf(want, sizeof(want), "certificate lacks the %s role",
				 crypto_role_name((enum crypto_role)other));
			assert_string_equal(err, want);
		}
		assert_int_equal(verify(&pki.leaf[role], &pki.root, 0, pub, err, sizeof(err)),
				 CRYPTO_E_INVAL);
		assert_int_equal(verify(&pki.leaf[role], &pki.root, NROLES + 1, pub, err,
					sizeof(err)), CRYPTO_E_INVAL);
	}
	assert_int_equal(verify(&pki.leaf[1], &pki.root, 3, pub, err, sizeof(err)), CRYPTO_E_VERIFY);
	assert_string_equal(err, "certificate lacks the TCB-key-agreement role");
}

/* crypto_x509_roles: what a certificate names, without any chain check. */
static void test_pki_roles_mask(void **state)
{
	unsigned roles = 0xdead;
	uint8_t buf[4096];

	(void)state;
	for (int role = 1; role <= NROLES; role++) {
		assert_int_equal(crypto_x509_roles(pki.leaf[role].der, pki.leaf[role].der_len,
						   &roles), CRYPTO_OK);
		assert_int_equal(roles, CRYPTO_ROLE_BIT(role));
	}
	/* A CA has none; a certificate of another CA still names its role. */
	assert_int_equal(crypto_x509_roles(pki.root.der, pki.root.der_len, &roles), CRYPTO_OK);
	assert_int_equal(roles, 0);
	assert_int_equal(crypto_x509_roles(pki.stray.der, pki.stray.der_len, &roles), CRYPTO_OK);
	assert_int_equal(roles, CRYPTO_ROLE_BIT(CRYPTO_ROLE_STATION));
	/* Not exactly one certificate. */
	assert_true(pki.leaf[1].der_len < sizeof(buf));
	memcpy(buf, pki.leaf[1].der, pki.leaf[1].der_len);
	buf[pki.leaf[1].der_len] = 0;
	assert_int_equal(crypto_x509_roles(buf, pki.leaf[1].der_len + 1, &roles), CRYPTO_E_INVAL);
	assert_int_equal(roles, 0);
	assert_int_equal(crypto_x509_roles(buf, 10, &roles), CRYPTO_E_INVAL);
	assert_int_equal(crypto_x509_roles(NULL, 0, &roles), CRYPTO_E_INVAL);
}

static void test_pki_other_root_refused(void **state)
{
	char err[PKI_ERR_LEN];

	(void)state;
	/* A leaf of this root against another root, by the same name or not. */
	assert_int_equal(verify(&pki.leaf[1], &pki.other_same_cn, 1, NULL, err, sizeof(err)),
			 CRYPTO_E_VERIFY);
	assert_string_equal(err, "certificate is not signed by the Custos CA root");
	assert_int_equal(verify(&pki.leaf[1], &pki.other, 1, NULL, err, sizeof(err)),
			 CRYPTO_E_VERIFY);
	assert_string_equal(err, "certificate is not signed by the Custos CA root");
	/* A station certificate of an impostor CA that copies our CA's name. */
	assert_int_equal(verify(&pki.stray, &pki.root, 1, NULL, err, sizeof(err)),
			 CRYPTO_E_VERIFY);
	assert_string_equal(err, "certificate is not signed by the Custos CA root");
	assert_int_equal(verify(&pki.stray, &pki.other_same_cn, 1, NULL, err, sizeof(err)),
			 CRYPTO_OK);
}

static void test_pki_ca_in_the_wrong_place(void **state)
{
	char err[PKI_ERR_LEN];

	(void)state;
	for (int role = 1; role <= NROLES; role++) {
		assert_int_equal(verify(&pki.root, &pki.root, role, NULL, err, sizeof(err)),
				 CRYPTO_E_VERIFY);
		assert_string_equal(err, "certificate is a CA certificate, not an end-entity one");
	}
	assert_int_equal(verify(&pki.leaf[1], &pki.leaf[1], 1, NULL, err, sizeof(err)),
			 CRYPTO_E_VERIFY);
	assert_non_null(strstr(err, "CA root is not a CA certificate"));
}

static void test_pki_malformed_der(void **state)
{
	char err[PKI_ERR_LEN];
	const struct pki_cert *leaf = &pki.leaf[2];
	uint8_t buf[4096];
	size_t n = leaf->der_len;

	(void)state;
	assert_true(n <= sizeof(buf));
	/* Truncated anywhere. */
	for (size_t len = 0; len < n; len += (len < 16 ? 1 : 29)) {
		memcpy(buf, leaf->der, len);
		assert_int_not_equal(crypto_x509_verify(buf, len, pki.root.der, pki.root.der_len,
							2, NULL, err, sizeof(err)), CRYPTO_OK);
	}
	assert_int_equal(crypto_x509_verify(leaf->der, n - 1, pki.root.der, pki.root.der_len, 2,
					    NULL, err, sizeof(err)), CRYPTO_E_INVAL);
	assert_string_equal(err, "certificate is malformed (not DER X.509)");
	assert_int_equal(crypto_x509_verify(leaf->der, n, pki.root.der, pki.root.der_len - 1, 2,
					    NULL, err, sizeof(err)), CRYPTO_E_INVAL);
	assert_string_equal(err, "CA root certificate is malformed (not DER X.509)");
	assert_int_equal(crypto_x509_verify(NULL, 0, pki.root.der, pki.root.der_len, 2, NULL,
					    err, sizeof(err)), CRYPTO_E_INVAL);
	/* Trailing bytes after the certificate. */
	memcpy(buf, leaf->der, n);
	buf[n] = 0;
	assert_int_equal(crypto_x509_verify(buf, n + 1, pki.root.der, pki.root.der_len, 2, NULL,
					    err, sizeof(err)), CRYPTO_E_INVAL);
	/* No single flipped bit anywhere is accepted. */
	for (size_t i = 0; i < n; i++) {
		memcpy(buf, leaf->der, n);
		buf[i] ^= (uint8_t)(1u << (i % 8));
		int rc = crypto_x509_verify(buf, n, pki.root.der, pki.root.der_len, 2, NULL,
					    err, sizeof(err));
		if (rc == CRYPTO_OK)
			fail_msg("flipping bit %zu of byte %zu was accepted", i % 8, i);
	}
	/* A flip in the signature value: parses, does not verify. */
	memcpy(buf, leaf->der, n);
	buf[n - 1] ^= 0x01;
	assert_int_equal(crypto_x509_verify(buf, n, pki.root.der, pki.root.der_len, 2, NULL,
					    err, sizeof(err)), CRYPTO_E_VERIFY);
	assert_string_equal(err, "certificate is not signed by the Custos CA root");
}

static void test_pki_openssl_verify(void **state)
{
	(void)state;
	write_pem("root.pem", &pki.root);
	write_pem("other.pem", &pki.other_same_cn);
	write_pem("stray.pem", &pki.stray);
	for (int role = 1; role <= NROLES; role++) {
		char name[32];

		snprintf(name, sizeof(name), "leaf%d.pem", role);
		write_pem(name, &pki.leaf[role]);
		assert_int_equal(sh("openssl verify -x509_strict -CAfile root.pem %s", name), 0);
		/* And with the wrong CA it fails: the check can fail. */
		assert_int_not_equal(sh("openssl verify -CAfile other.pem %s", name), 0);
	}
	/* The TLS purposes that the TPGVM and the tenant CLI will check. */
	assert_int_equal(sh("openssl verify -purpose sslserver -CAfile root.pem leaf5.pem"), 0);
	assert_int_equal(sh("openssl verify -purpose sslclient -CAfile root.pem leaf4.pem"), 0);
	assert_int_not_equal(sh("openssl verify -purpose sslserver -CAfile root.pem leaf1.pem"), 0);
	assert_int_equal(sh("openssl verify -CAfile other.pem stray.pem"), 0);
	assert_int_not_equal(sh("openssl verify -CAfile root.pem stray.pem"), 0);
	/* The root: self-signed CA with the promised extensions. */
	assert_int_equal(sh("openssl verify -x509_strict -CAfile root.pem root.pem"), 0);
	assert_int_equal(sh("openssl x509 -in root.pem -noout -text | "
			    "grep -A1 'Basic Constraints: critical' | grep -q 'CA:TRUE, pathlen:0'"),
			 0);
	assert_int_equal(sh("openssl x509 -in root.pem -noout -text | "
			    "grep -A1 'Key Usage' | grep -q 'Certificate Sign, CRL Sign'"), 0);
	assert_int_equal(sh("openssl x509 -in leaf3.pem -noout -text | "
			    "grep -A1 'X509v3 Key Usage' | grep -q 'Key Agreement'"), 0);
	assert_int_equal(sh("openssl x509 -in leaf3.pem -noout -text | "
			    "grep -q '%s.3'", CUSTOS_OID_ARC), 0);
	assert_int_equal(sh("openssl x509 -in leaf3.pem -noout -text | "
			    "grep -A1 'Basic Constraints' | grep -q 'CA:FALSE'"), 0);
	/* The development TCB roles: their own OIDs, the same key usages. */
	assert_int_equal(sh("openssl x509 -in leaf7.pem -noout -text | "
			    "grep -A1 'X509v3 Key Usage' | grep -q 'Key Agreement'"), 0);
	assert_int_equal(sh("openssl x509 -in leaf7.pem -noout -text | "
			    "grep -q '%s.7'", CUSTOS_OID_ARC), 0);
	assert_int_equal(sh("openssl x509 -in leaf6.pem -noout -text | "
			    "grep -A1 'X509v3 Key Usage' | grep -q 'Digital Signature'"), 0);
	assert_int_equal(sh("openssl x509 -in leaf6.pem -noout -text | "
			    "grep -q '%s.6'", CUSTOS_OID_ARC), 0);
	assert_int_equal(sh("openssl x509 -in leaf3.pem -noout -text | grep -q 'NIST CURVE: P-384'"), 0);
	assert_int_equal(sh("openssl x509 -in leaf3.pem -noout -text | "
			    "grep -q 'Signature Algorithm: ecdsa-with-SHA384'"), 0);
}

/* Certificates that Custos never issues, made with openssl and signed by
 * the real root: each must be refused for the right reason. */
static void check_openssl_leaf(const char *keyopt, const char *md, const char *ext,
			       int role, int want_rc, const char *want_err)
{
	char err[PKI_ERR_LEN];
	uint8_t *der;
	size_t der_len;
	FILE *f = fopen(path_in("ext.cnf"), "w");

	assert_non_null(f);
	fprintf(f, "%s\n", ext);
	fclose(f);
	unlink(path_in("evil.pem"));
	assert_int_equal(sh("openssl req -new -newkey %s -nodes -keyout evil.key -subj /CN=evil "
			    "-out evil.csr && openssl x509 -req -in evil.csr -CA root.pem "
			    "-CAkey root.key -set_serial 7 -days 1 -%s -extfile ext.cnf "
			    "-out evil.pem", keyopt, md), 0);
	assert_int_equal(pki_cert_read(path_in("evil.pem"), &der, &der_len, err, sizeof(err)),
			 CRYPTO_OK);
	assert_int_equal(crypto_x509_verify(der, der_len, pki.root.der, pki.root.der_len,
					    (enum crypto_role)role, NULL, err, sizeof(err)),
			 want_rc);
	if (strcmp(err, want_err) != 0)
		fail_msg("%s / %s / %s: got \"%s\", want \"%s\"", keyopt, md, ext, err, want_err);
	free(der);
	unlink(path_in("evil.key"));
}

static void test_pki_foreign_certificates(void **state)
{
	char eku[160];

	(void)state;
	write_pem("root.pem", &pki.root);
	snprintf(eku, sizeof(eku), "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
		 "extendedKeyUsage=%s.1", CUSTOS_OID_ARC);
	/* The control: what Custos would issue, made by openssl, is accepted. */
	check_openssl_leaf("ec -pkeyopt ec_paramgen_curve:P-384", "sha384", eku, 1, CRYPTO_OK, "");
	check_openssl_leaf("ec -pkeyopt ec_paramgen_curve:P-256", "sha384", eku, 1,
			   CRYPTO_E_VERIFY, "certificate key is not P-384");
	check_openssl_leaf("rsa:2048", "sha384", eku, 1, CRYPTO_E_VERIFY,
			   "certificate key is not P-384");
	check_openssl_leaf("ec -pkeyopt ec_paramgen_curve:P-384", "sha256", eku, 1,
			   CRYPTO_E_VERIFY, "certificate is not signed with ECDSA-SHA-384");
	check_openssl_leaf("ec -pkeyopt ec_paramgen_curve:P-384", "sha384",
			   "basicConstraints=CA:FALSE", 1, CRYPTO_E_VERIFY,
			   "certificate lacks the signing-station role");
	check_openssl_leaf("ec -pkeyopt ec_paramgen_curve:P-384", "sha384",
			   "extendedKeyUsage=anyExtendedKeyUsage", 1, CRYPTO_E_VERIFY,
			   "certificate lacks the signing-station role");
	check_openssl_leaf("ec -pkeyopt ec_paramgen_curve:P-384", "sha384",
			   "basicConstraints=CA:TRUE", 1, CRYPTO_E_VERIFY,
			   "certificate is a CA certificate, not an end-entity one");
	snprintf(eku, sizeof(eku), "keyUsage=keyAgreement\nextendedKeyUsage=%s.1", CUSTOS_OID_ARC);
	check_openssl_leaf("ec -pkeyopt ec_paramgen_curve:P-384", "sha384", eku, 1,
			   CRYPTO_E_VERIFY, "certificate keyUsage does not allow digitalSignature");
}

static void test_pki_cert_files_and_bad_requests(void **state)
{
	char err[PKI_ERR_LEN];
	uint8_t *der;
	size_t der_len;
	struct pki_cert c;
	uint8_t priv[48], pub[97];

	(void)state;
	write_pem("root.pem", &pki.root);
	assert_int_equal(pki_cert_read(path_in("root.pem"), &der, &der_len, err, sizeof(err)),
			 CRYPTO_OK);
	assert_int_equal(der_len, pki.root.der_len);
	assert_memory_equal(der, pki.root.der, der_len);
	free(der);
	unlink(path_in("root.der"));
	assert_int_equal(pki_write_file(path_in("root.der"), pki.root.der, pki.root.der_len, 0644,
					err, sizeof(err)), CRYPTO_OK);
	assert_int_equal(pki_cert_read(path_in("root.der"), &der, &der_len, err, sizeof(err)),
			 CRYPTO_OK);
	assert_memory_equal(der, pki.root.der, der_len);
	free(der);
	assert_int_equal(sh("cat root.pem leaf1.pem > two.pem"), 0);
	assert_int_equal(pki_cert_read(path_in("two.pem"), &der, &der_len, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_null(der);
	assert_non_null(strstr(err, "more than one"));
	assert_int_equal(pki_cert_read(path_in("root.key"), &der, &der_len, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_int_equal(pki_cert_read(path_in("nope.pem"), &der, &der_len, err, sizeof(err)),
			 CRYPTO_E_INVAL);

	/* Requests the helpers refuse. */
	assert_int_equal(crypto_p384_keygen(priv, pub), CRYPTO_OK);
	assert_int_equal(pki_issue_leaf(priv, pki.root.der, pki.root.der_len, pub, "x",
					CRYPTO_ROLE_TENANT, 1, &c, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_string_equal(err, "the CA key does not belong to the CA certificate");
	assert_null(c.der);
	assert_int_equal(pki_issue_leaf(pki.root_priv, pki.leaf[1].der, pki.leaf[1].der_len, pub,
					"x", CRYPTO_ROLE_TENANT, 1, &c, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_int_equal(pki_issue_leaf(pki.root_priv, pki.root.der, pki.root.der_len, pub,
					"a,b", CRYPTO_ROLE_TENANT, 1, &c, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_int_equal(pki_issue_leaf(pki.root_priv, pki.root.der, pki.root.der_len, pub,
					"", CRYPTO_ROLE_TENANT, 1, &c, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_int_equal(pki_issue_leaf(pki.root_priv, pki.root.der, pki.root.der_len, pub,
					"x", (enum crypto_role)0, 1, &c, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_int_equal(pki_issue_leaf(pki.root_priv, pki.root.der, pki.root.der_len, pub,
					"x", CRYPTO_ROLE_TENANT, 0, &c, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	pub[96] ^= 1;
	assert_int_equal(pki_issue_leaf(pki.root_priv, pki.root.der, pki.root.der_len, pub,
					"x", CRYPTO_ROLE_TENANT, 1, &c, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_string_equal(err, "the subject key is not a P-384 public key");
	/* Two issues give different serials. */
	struct pki_cert a, b;
	pub[96] ^= 1;
	assert_int_equal(pki_issue_leaf(pki.root_priv, pki.root.der, pki.root.der_len, pub,
					"same", CRYPTO_ROLE_TENANT, 1, &a, err, sizeof(err)), CRYPTO_OK);
	assert_int_equal(pki_issue_leaf(pki.root_priv, pki.root.der, pki.root.der_len, pub,
					"same", CRYPTO_ROLE_TENANT, 1, &b, err, sizeof(err)), CRYPTO_OK);
	assert_memory_not_equal(a.der, b.der, a.der_len < b.der_len ? a.der_len : b.der_len);
	pki_cert_free(&a);
	pki_cert_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_selftest_passes),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_sha384_empty_and_pieces),
		cmocka_unit_test(test_hmac_errors),
		cmocka_unit_test(test_hkdf_vectors_and_limits),
		cmocka_unit_test(test_aes_cfb_vectors),
		cmocka_unit_test(test_aes_cfb_refusals),
		cmocka_unit_test(test_gcm_round_trip_and_in_place),
		cmocka_unit_test(test_gcm_tampering),
		cmocka_unit_test(test_gcm_stream_equals_one_shot),
		cmocka_unit_test(test_gcm_stream_nist_vector),
		cmocka_unit_test(test_gcm_stream_refusals),
		cmocka_unit_test(test_p384_keys),
		cmocka_unit_test(test_ecdsa_rfc6979_test_message),
		cmocka_unit_test(test_ecdsa_round_trip_and_tampering),
		cmocka_unit_test(test_ecdh),
		cmocka_unit_test(test_role_oids_and_names),
	};
	const struct CMUnitTest pki_tests[] = {
		cmocka_unit_test(test_pki_key_files),
		cmocka_unit_test(test_pki_each_role_accepted_only_for_itself),
		cmocka_unit_test(test_pki_ca_public),
		cmocka_unit_test(test_pki_roles_mask),
		cmocka_unit_test(test_pki_other_root_refused),
		cmocka_unit_test(test_pki_ca_in_the_wrong_place),
		cmocka_unit_test(test_pki_malformed_der),
		cmocka_unit_test(test_pki_openssl_verify),
		cmocka_unit_test(test_pki_foreign_certificates),
		cmocka_unit_test(test_pki_cert_files_and_bad_requests),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	return failed + cmocka_run_group_tests_name("pki", pki_tests, pki_setup, pki_teardown);
}
