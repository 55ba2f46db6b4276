/*
 * Salted HMAC sessions (tcb/tpm2_session.c).
 *
 * KDFa and KDFe against known answers computed independently (Python's
 * hmac/hashlib, straight from Part 1's formulas). Then an exchange with
 * swtpm 0.7.1 replayed (tpm2_session_swtpm.h, recorded with fixed nonces
 * and ephemeral key by tests/tools/tpm2_session_record, which also saw
 * the TPM accept every session command, PCR 16 read back as the
 * authorised extend made it, and an encrypted outPublic decrypt to the
 * plain one; a separate Python check with the cryptography package
 * re-derived the session key from the recording, verified the HMACs and
 * decrypted GetRandom's bytes to rec_random_plain): the code must build
 * exactly the recorded commands and accept exactly the recorded
 * responses. And the refusals: every flipped bit of a response, every
 * truncation (against guard pages), a replayed response, attributes the
 * command did not send, a handle that is not an HMAC session's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/tpm2_session.h"
#include "guarded.h"
#include "tpm2_session_swtpm.h"
#include "hex.h"

#define PCR 16
#define HASH TPM2_SESSION_HASH_LEN

static uint8_t cmd[TPM2_BUFFER_MAX];
static char err[200];

static void nonce(uint8_t out[HASH], uint8_t v)
{
	memset(out, v, HASH);
}

/* --- KDFs -------------------------------------------------------------------- */

/* K = 00 01 .. 2f, U = a0..af repeated, V = 30 repeated. */
static void kdf_inputs(uint8_t k[HASH], uint8_t u[HASH], uint8_t v[HASH])
{
	for (int i = 0; i < HASH; i++) {
		k[i] = (uint8_t)i;
		u[i] = (uint8_t)(0xa0 + i % 16);
		v[i] = 0x30;
	}
}

static void test_kdfa_known_answers(void **state)
{
	uint8_t k[HASH], u[HASH], v[HASH], out[96];

	(void)state;
	kdf_inputs(k, u, v);
	assert_int_equal(tpm2_kdfa_sha384(k, HASH, "ATH", u, HASH, v, HASH, out, 48), 0);
	assert_hex(out, 48, "ffe6e2987d7870d9dddff6686d38cc0db665c1d36228cb48"
			    "238ddf333c5d0fcda4e42b8541d55de3fbccacb9b5a885fa");
	/* 256 bits: the count in the input, not a cut of the 384-bit one. */
	assert_int_equal(tpm2_kdfa_sha384(k, HASH, "CFB", u, HASH, v, HASH, out, 32), 0);
	assert_hex(out, 32, "a6243a990ecceb15e89e3b53dcf0d750"
			    "07ca78c621ab631a2a34a435a1ebf075");
	/* Two blocks, a short context, an empty one. */
	assert_int_equal(tpm2_kdfa_sha384(k, HASH, "XY", u, 16, NULL, 0, out, 96), 0);
	assert_hex(out, 96, "f4a81fecb7423d645fa61f7b5be37fab0bf684f49e77ab15"
			    "e32beef2084bae6669c1f3aa810de1ec0faf1c3531486e4e"
			    "b8f4db950bc280887b14ff8bcc8a05f4475f4bac6e52e779"
			    "68ee7ec71acfefe298f9ad392b653c435c98c39616e0d20a");
	/* Out of its range. */
	assert_int_equal(tpm2_kdfa_sha384(k, HASH, "ATH", u, HASH, v, HASH, out, 0), -1);
	assert_int_equal(tpm2_kdfa_sha384(k, HASH, "ATH", u, HASH, v, HASH, out, 97), -1);
	assert_int_equal(tpm2_kdfa_sha384(k, HASH, "0123456789abcdef", u, 1, v, 1,
					  out, 8), -1);
}

static void test_kdfe_known_answer(void **state)
{
	uint8_t k[HASH], u[HASH], v[HASH], out[HASH];

	(void)state;
	kdf_inputs(k, u, v);
	tpm2_kdfe_sha384(k, "SECRET", u, v, out);
	assert_hex(out, 48, "5d88bbabf278ba46e028eb309efb2606ba756f93835e5649"
			    "b3b9db86e45884ae19b96a98e21eb616e9c1fe694b9fb21e");
}

/* --- The recorded exchange --------------------------------------------------------- */

static void create_salt_key(struct tpm2_salt_key *key)
{
	assert_int_equal(tpm2_parse_create_salt_key(rec_create_salt_rsp,
						    sizeof(rec_create_salt_rsp),
						    key, err, sizeof(err)), 0);
}

/* A session as started in the recording. */
static void start(struct tpm2_session *s)
{
	struct tpm2_salt_key key;
	uint8_t eph[TPM2_P384_LEN], n[HASH];

	create_salt_key(&key);
	memset(eph, 0x11, sizeof(eph));
	nonce(n, 0x20);
	assert_int_equal(tpm2_build_start_session(cmd, sizeof(cmd), s, &key, eph, n,
						  TPM2_SE_HMAC),
			 sizeof(rec_start_cmd));
	assert_memory_equal(cmd, rec_start_cmd, sizeof(rec_start_cmd));
	assert_int_equal(tpm2_parse_start_session(rec_start_rsp, sizeof(rec_start_rsp),
						  s, err, sizeof(err)), 0);
}

/* The session with the recording's GetRandom in flight. */
static void random_in_flight(struct tpm2_session *s)
{
	uint8_t n[HASH];

	start(s);
	nonce(n, 0x21);
	assert_int_equal(tpm2_build_get_random_enc(cmd, sizeof(cmd), s, 32, n),
			 sizeof(rec_random_cmd));
	assert_memory_equal(cmd, rec_random_cmd, sizeof(rec_random_cmd));
}

/* ... and then its PCR_Extend. */
static void extend_in_flight(struct tpm2_session *s)
{
	uint8_t n[HASH], digest[TPM2_SHA384_LEN], out[32];
	size_t got;

	random_in_flight(s);
	assert_int_equal(tpm2_parse_get_random_enc(rec_random_rsp, sizeof(rec_random_rsp),
						   s, out, 32, &got, err, sizeof(err)), 0);
	memset(digest, 0x5a, sizeof(digest));
	nonce(n, 0x22);
	assert_int_equal(tpm2_build_pcr_extend_hmac(cmd, sizeof(cmd), s, PCR, digest, n),
			 sizeof(rec_extend_cmd));
	assert_memory_equal(cmd, rec_extend_cmd, sizeof(rec_extend_cmd));
}

static void test_salt_key(void **state)
{
	struct tpm2_salt_key key;
	uint8_t name[TPM2_SESSION_NAME_LEN];

	(void)state;
	assert_int_equal(tpm2_build_create_salt_key(cmd, sizeof(cmd)),
			 sizeof(rec_create_salt_cmd));
	assert_memory_equal(cmd, rec_create_salt_cmd, sizeof(rec_create_salt_cmd));
	assert_int_equal(tpm2_build_create_salt_key(cmd, sizeof(rec_create_salt_cmd) - 1), 0);
	create_salt_key(&key);
	assert_int_equal(key.handle >> 24, 0x80);
	assert_int_equal(key.pub[0], 0x04);
	/* The name is SHA-384 over outPublic's contents (after its size). */
	name[0] = 0x00;
	name[1] = 0x0c;
	crypto_sha384(rec_create_salt_rsp + 20,
		      (size_t)rec_create_salt_rsp[18] << 8 | rec_create_salt_rsp[19],
		      name + 2);
	assert_memory_equal(key.name, name, sizeof(name));
	assert_memory_equal(key.pub + 1, rec_create_salt_rsp + 20 + 24, TPM2_P384_LEN);
}

static void test_exchange_replays(void **state)
{
	struct tpm2_session s;
	uint8_t pcr[TPM2_SHA384_LEN], want[2 * TPM2_SHA384_LEN];

	(void)state;
	extend_in_flight(&s);
	assert_int_equal(s.handle >> 24, 0x02);
	assert_int_equal(tpm2_parse_pcr_extend_hmac(rec_extend_rsp, sizeof(rec_extend_rsp),
						    &s, err, sizeof(err)), 0);
	/* The TPM took the extend: PCR 16 = SHA-384(zeros || digest). */
	assert_int_equal(tpm2_build_pcr_read_sha384(cmd, sizeof(cmd), PCR),
			 sizeof(rec_read_cmd));
	assert_memory_equal(cmd, rec_read_cmd, sizeof(rec_read_cmd));
	assert_int_equal(tpm2_parse_pcr_read_sha384(rec_read_rsp, sizeof(rec_read_rsp),
						    PCR, pcr, err, sizeof(err)), 0);
	memset(want, 0, TPM2_SHA384_LEN);
	memset(want + TPM2_SHA384_LEN, 0x5a, TPM2_SHA384_LEN);
	crypto_sha384(want, sizeof(want), want);
	assert_memory_equal(pcr, want, TPM2_SHA384_LEN);
	tpm2_session_forget(&s);
}

static void test_get_random_decrypts(void **state)
{
	struct tpm2_session s;
	uint8_t out[32];
	size_t got = 0;

	(void)state;
	random_in_flight(&s);
	assert_int_equal(tpm2_parse_get_random_enc(rec_random_rsp, sizeof(rec_random_rsp),
						   &s, out, 32, &got, err, sizeof(err)), 0);
	assert_int_equal(got, 32);
	assert_memory_equal(out, rec_random_plain, 32);
	/* What crossed the bus was not the bytes. */
	assert_memory_not_equal(rec_random_rsp + 16, rec_random_plain, 32);
	assert_int_equal(s.cc, 0);
}

/* The generic pair on a command with a handle and an encrypted answer
 * whose plaintext is known: CreatePrimary of the same (primary, hence
 * same) salt key again. */
static void test_encrypted_public_decrypts(void **state)
{
	static const uint32_t owner = TPM2_RH_OWNER;
	struct tpm2_session s;
	uint8_t n[HASH], plain[TPM2_BUFFER_MAX], out[TPM2_BUFFER_MAX];
	const uint8_t *params;
	size_t len, params_len, pub_len;
	uint32_t handle = 0;

	(void)state;
	extend_in_flight(&s);
	assert_int_equal(tpm2_parse_pcr_extend_hmac(rec_extend_rsp, sizeof(rec_extend_rsp),
						    &s, err, sizeof(err)), 0);
	len = tpm2_build_create_salt_key(plain, sizeof(plain));
	nonce(n, 0x23);
	len = tpm2_session_build(cmd, sizeof(cmd), &s, TPM2_CC_CREATE_PRIMARY, &owner, 1,
				 plain + 27, len - 27,
				 TPM2_SA_CONTINUE_SESSION | TPM2_SA_ENCRYPT, n);
	assert_int_equal(len, sizeof(rec_create_enc_cmd));
	assert_memory_equal(cmd, rec_create_enc_cmd, len);
	assert_int_equal(tpm2_session_parse(rec_create_enc_rsp, sizeof(rec_create_enc_rsp),
					    &s, 1, &handle, &params, &params_len,
					    err, sizeof(err)), 0);
	assert_int_equal(handle >> 24, 0x80);
	pub_len = 2 + ((size_t)rec_create_salt_rsp[18] << 8 | rec_create_salt_rsp[19]);
	memcpy(out, params, params_len);
	assert_memory_not_equal(out, rec_create_salt_rsp + 18, pub_len);
	assert_int_equal(tpm2_session_decrypt_response(&s, out + 2, pub_len - 2), 0);
	assert_memory_equal(out, rec_create_salt_rsp + 18, pub_len);
}

/* --- Refusals ------------------------------------------------------------------------- */

/* Every bit of a response flipped: refused, the session's nonce unmoved,
 * nothing written out. After the header, by the HMAC. */
static void test_every_flipped_bit_refused(void **state)
{
	struct tpm2_session s, base;
	uint8_t rsp[sizeof(rec_random_rsp)], out[32];
	size_t got;

	(void)state;
	random_in_flight(&base);
	for (size_t i = 0; i < sizeof(rsp); i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(rsp, rec_random_rsp, sizeof(rsp));
			rsp[i] ^= (uint8_t)(1u << bit);
			s = base;
			memset(out, 0xee, sizeof(out));
			got = 99;
			assert_int_equal(tpm2_parse_get_random_enc(rsp, sizeof(rsp), &s, out,
								   32, &got, err, sizeof(err)),
					 -1);
			assert_true(err[0] != '\0');
			assert_memory_equal(s.nonce_tpm, base.nonce_tpm, HASH);
			assert_int_equal(got, 99);
			assert_int_equal(out[0], 0xee);
		}
	}
	/* In the random bytes: the HMAC says so. */
	memcpy(rsp, rec_random_rsp, sizeof(rsp));
	rsp[20] ^= 1;
	s = base;
	assert_int_equal(tpm2_parse_get_random_enc(rsp, sizeof(rsp), &s, out, 32, &got,
						   err, sizeof(err)), -1);
	assert_string_equal(err, "GetRandom response HMAC does not verify: altered on the bus?");
}

static void test_extend_flipped_bits_refused(void **state)
{
	struct tpm2_session s, base;
	uint8_t rsp[sizeof(rec_extend_rsp)];

	(void)state;
	extend_in_flight(&base);
	for (size_t i = 0; i < sizeof(rsp); i++) {
		memcpy(rsp, rec_extend_rsp, sizeof(rsp));
		rsp[i] ^= 0x80;
		s = base;
		assert_int_equal(tpm2_parse_pcr_extend_hmac(rsp, sizeof(rsp), &s,
							    err, sizeof(err)), -1);
	}
}

static void test_truncations_refused(void **state)
{
	struct tpm2_session s, base;
	struct guarded g;
	uint8_t out[32];
	size_t got;

	(void)state;
	guarded_init(&g, sizeof(rec_random_rsp));
	random_in_flight(&base);
	for (size_t len = 0; len < sizeof(rec_random_rsp); len++) {
		for (int end = 0; end < 2; end++) {
			const uint8_t *p = guarded_fill(&g, rec_random_rsp, len, end);

			s = base;
			assert_int_equal(tpm2_parse_get_random_enc(p, len, &s, out, 32, &got,
								   err, sizeof(err)), -1);
		}
	}
	/* A trailing byte, with the size field saying so. */
	uint8_t longer[sizeof(rec_random_rsp) + 1];

	memcpy(longer, rec_random_rsp, sizeof(rec_random_rsp));
	longer[sizeof(longer) - 1] = 0;
	longer[5]++;
	s = base;
	assert_int_equal(tpm2_parse_get_random_enc(longer, sizeof(longer), &s, out, 32,
						   &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "left over"));
	guarded_free(&g);
}

/* The previous response again (a replay on the bus): its HMAC was over the
 * old nonces. */
static void test_replay_refused(void **state)
{
	struct tpm2_session s;
	uint8_t out[32];
	size_t got;
	uint8_t n[HASH];

	(void)state;
	random_in_flight(&s);
	assert_int_equal(tpm2_parse_get_random_enc(rec_random_rsp, sizeof(rec_random_rsp),
						   &s, out, 32, &got, err, sizeof(err)), 0);
	nonce(n, 0x24);
	assert_true(tpm2_build_get_random_enc(cmd, sizeof(cmd), &s, 32, n) > 0);
	assert_int_equal(tpm2_parse_get_random_enc(rec_random_rsp, sizeof(rec_random_rsp),
						   &s, out, 32, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "HMAC does not verify"));
	/* And no command in flight: nothing to parse. */
	assert_int_equal(tpm2_parse_get_random_enc(rec_random_rsp, sizeof(rec_random_rsp),
						   &s, out, 32, &got, err, sizeof(err)), -1);
}

static void test_start_refusals(void **state)
{
	struct tpm2_salt_key key;
	struct tpm2_session s;
	uint8_t rsp[sizeof(rec_start_rsp)], eph[TPM2_P384_LEN], n[HASH];

	(void)state;
	create_salt_key(&key);
	memset(eph, 0x11, sizeof(eph));
	nonce(n, 0x20);
	/* Not an HMAC session's handle (a policy session's, 0x03). */
	assert_true(tpm2_build_start_session(cmd, sizeof(cmd), &s, &key, eph, n, TPM2_SE_HMAC) > 0);
	memcpy(rsp, rec_start_rsp, sizeof(rsp));
	rsp[10] = 0x03;
	assert_int_equal(tpm2_parse_start_session(rsp, sizeof(rsp), &s, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an HMAC session's"));
	/* ... and the failed start wiped the salt. */
	for (size_t i = 0; i < HASH; i++)
		assert_int_equal(s.key[i], 0);
	/* Short nonce, truncated, with nothing in flight. */
	for (size_t len = 0; len < sizeof(rec_start_rsp); len++) {
		assert_true(tpm2_build_start_session(cmd, sizeof(cmd), &s, &key, eph, n, TPM2_SE_HMAC) > 0);
		assert_int_equal(tpm2_parse_start_session(rec_start_rsp, len, &s, err,
							  sizeof(err)), -1);
	}
	assert_int_equal(tpm2_parse_start_session(rec_start_rsp, sizeof(rec_start_rsp),
						  &s, err, sizeof(err)), -1);
	/* An ephemeral scalar out of range; a salt key off the curve. */
	memset(eph, 0xff, sizeof(eph));
	assert_int_equal(tpm2_build_start_session(cmd, sizeof(cmd), &s, &key, eph, n, TPM2_SE_HMAC), 0);
	memset(eph, 0x11, sizeof(eph));
	key.pub[TPM2_P384_POINT_LEN - 1] ^= 1;
	assert_int_equal(tpm2_build_start_session(cmd, sizeof(cmd), &s, &key, eph, n, TPM2_SE_HMAC), 0);
}

static void test_salt_key_refusals(void **state)
{
	struct tpm2_salt_key key;
	uint8_t rsp[sizeof(rec_create_salt_rsp)];

	(void)state;
	/* The returned name must be the public area's (no HMAC protects this
	 * response: that is the salt key's weakness, tpm2_session.h). */
	memcpy(rsp, rec_create_salt_rsp, sizeof(rsp));
	rsp[sizeof(rsp) - 5 - 1] ^= 1; /* the last byte of name, before the auth area */
	assert_int_equal(tpm2_parse_create_salt_key(rsp, sizeof(rsp), &key, err,
						    sizeof(err)), -1);
	assert_non_null(strstr(err, "name"));
	/* Another template: the decrypt key's symmetric cipher (AES -> 0). */
	memcpy(rsp, rec_create_salt_rsp, sizeof(rsp));
	rsp[20 + 10 + 1] = 0;
	assert_int_equal(tpm2_parse_create_salt_key(rsp, sizeof(rsp), &key, err,
						    sizeof(err)), -1);
	assert_non_null(strstr(err, "symmetric.algorithm"));
}

static void test_attributes_must_echo(void **state)
{
	struct tpm2_session s;
	uint8_t out[32];
	size_t got;

	(void)state;
	random_in_flight(&s);
	/* As if the TPM had not encrypted: the check before the HMAC's. */
	s.attrs = TPM2_SA_CONTINUE_SESSION;
	assert_int_equal(tpm2_parse_get_random_enc(rec_random_rsp, sizeof(rec_random_rsp),
						   &s, out, 32, &got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "session attributes 0x41"));
}

static void test_error_response(void **state)
{
	static const uint8_t auth_fail[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x09, 0x8e,
	};
	struct tpm2_session s;

	(void)state;
	extend_in_flight(&s);
	assert_int_equal(tpm2_parse_pcr_extend_hmac(auth_fail, sizeof(auth_fail), &s,
						    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "PCR_Extend failed: TPM_RC_AUTH_FAIL"));
}

static void test_builder_limits(void **state)
{
	struct tpm2_session s, none;
	uint8_t n[HASH], digest[TPM2_SHA384_LEN] = { 0 };

	(void)state;
	start(&s);
	nonce(n, 0x21);
	memset(&none, 0, sizeof(none));
	assert_int_equal(tpm2_build_get_random_enc(cmd, sizeof(cmd), &none, 32, n), 0);
	assert_int_equal(tpm2_build_get_random_enc(cmd, sizeof(cmd), &s, 0, n), 0);
	assert_int_equal(tpm2_build_get_random_enc(cmd, sizeof(cmd), &s, 49, n), 0);
	assert_int_equal(tpm2_build_get_random_enc(cmd, sizeof(rec_random_cmd) - 1, &s,
						   32, n), 0);
	assert_int_equal(tpm2_build_pcr_extend_hmac(cmd, sizeof(cmd), &s, 24, digest, n), 0);
	assert_int_equal(tpm2_build_pcr_extend_hmac(cmd, sizeof(rec_extend_cmd) - 1, &s,
						    PCR, digest, n), 0);
	/* One command in flight at a time. */
	assert_true(tpm2_build_get_random_enc(cmd, sizeof(cmd), &s, 32, n) > 0);
	assert_int_equal(tpm2_build_pcr_extend_hmac(cmd, sizeof(cmd), &s, PCR, digest, n), 0);
	/* decrypt on a first parameter that is not a whole TPM2B. */
	tpm2_session_forget(&s);
	start(&s);
	assert_int_equal(tpm2_session_build(cmd, sizeof(cmd), &s, TPM2_CC_GET_RANDOM, NULL, 0,
					    (const uint8_t *)"\x00\x05\x01", 3,
					    TPM2_SA_DECRYPT, n), 0);
	tpm2_session_forget(&s);
	for (size_t i = 0; i < sizeof(s); i++)
		assert_int_equal(((uint8_t *)&s)[i], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdfa_known_answers),
		cmocka_unit_test(test_kdfe_known_answer),
		cmocka_unit_test(test_salt_key),
		cmocka_unit_test(test_exchange_replays),
		cmocka_unit_test(test_get_random_decrypts),
		cmocka_unit_test(test_encrypted_public_decrypts),
		cmocka_unit_test(test_every_flipped_bit_refused),
		cmocka_unit_test(test_extend_flipped_bits_refused),
		cmocka_unit_test(test_truncations_refused),
		cmocka_unit_test(test_replay_refused),
		cmocka_unit_test(test_start_refusals),
		cmocka_unit_test(test_salt_key_refusals),
		cmocka_unit_test(test_attributes_must_echo),
		cmocka_unit_test(test_error_response),
		cmocka_unit_test(test_builder_limits),
	};

	if (crypto_init() != CRYPTO_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
