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

#include "crypto/crypto.h"

/* ---- helpers ---------------------------------------------------------------- */

static void unhex(const char *hex, uint8_t *out, size_t len)
{
	assert_int_equal(strlen(hex), 2 * len);
	for (size_t i = 0; i < len; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void assert_hex(const uint8_t *buf, size_t len, const char *hex)
{
	uint8_t want[256];

	assert_true(len <= sizeof(want));
	unhex(hex, want, len);
	assert_memory_equal(buf, want, len);
}

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
	for (int role = CRYPTO_ROLE_STATION; role <= CRYPTO_ROLE_TPGVM_TLS; role++) {
		assert_int_equal(crypto_role_oid((enum crypto_role)role, &oid, &len), CRYPTO_OK);
		oid_to_dotted(oid, len, dotted, sizeof(dotted));
		snprintf(want, sizeof(want), "%s.%d", CUSTOS_OID_ARC, role);
		assert_string_equal(dotted, want);
		assert_string_not_equal(crypto_role_name((enum crypto_role)role), "unknown-role");
	}
	assert_string_equal(crypto_role_name(CRYPTO_ROLE_STATION), "signing-station");
	assert_int_equal(crypto_role_oid((enum crypto_role)0, &oid, &len), CRYPTO_E_INVAL);
	assert_int_equal(crypto_role_oid((enum crypto_role)6, &oid, &len), CRYPTO_E_INVAL);
	assert_string_equal(crypto_role_name((enum crypto_role)9), "unknown-role");
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
		cmocka_unit_test(test_gcm_round_trip_and_in_place),
		cmocka_unit_test(test_gcm_tampering),
		cmocka_unit_test(test_p384_keys),
		cmocka_unit_test(test_ecdsa_rfc6979_test_message),
		cmocka_unit_test(test_ecdsa_round_trip_and_tampering),
		cmocka_unit_test(test_ecdh),
		cmocka_unit_test(test_role_oids_and_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
