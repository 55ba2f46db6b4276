/*
 * The PCR-bound NV index (tcb/tpm2_nv.c) and the salted policy session it
 * runs on (tcb/tpm2_session.c).
 *
 * Known answers from outside this code: the PolicyPCR authPolicy of PCRs
 * 0-9 (SHA-384) with the recorded values, as swtpm's trial session
 * computed it (tests/tools/tpm2_nv_check.py PORT: StartAuthSession(TRIAL),
 * PolicyPCR, PolicyGetDigest; tpm2-tools 5.4's tpm2_policypcr refuses
 * more than 8 PCRs), and the index's Name before and after its first
 * write as tpm2_nvreadpublic printed it (tpm2_nvdefine 0x01004353 -C o -s
 * 1536 -a "policywrite|policyread|no_da" -L policy -g sha384 on a second
 * swtpm whose PCRs tpm2_pcrextend had set to the same values; and on the
 * recording's swtpm after the write).
 *
 * Then the life of the index with swtpm 0.7.1 replayed (tpm2_nv_swtpm.h,
 * recorded with fixed nonces, ephemeral keys and PCR values by
 * tests/tools/tpm2_nv_record, which also saw the TPM refuse what the
 * replay only shows refused: a wrong command HMAC with TPM_RC_BAD_AUTH
 * (0x9a2: the index has TPMA_NV_NO_DA), PolicyPCR with the digest of
 * before PCR 9 changed with TPM_RC_VALUE (0x1c4), NV_Read after PolicyPCR
 * of the changed PCRs with TPM_RC_POLICY_FAIL (0x99d); and
 * tpm2_nv_check.py re-derived the session key, NV_Write's command HMAC
 * over both Names, and both decryptions with Python's cryptography): the
 * code must build exactly the recorded commands and accept exactly the
 * recorded responses. And the refusals: every flipped bit, truncation
 * (against guard pages), trailing byte, wrong tag, index or Name, altered
 * HMAC, and a TPM that answers another size under a valid HMAC.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/byteorder.h"
#include "tcb/tpm2_nv.h"
#include "guarded.h"
#include "tpm2_nv_swtpm.h"
#include "hex.h"

#define HASH       TPM2_SESSION_HASH_LEN
#define NV_INDEX   0x01004353
#define NV_ATTRS   (TPM2_NVA_POLICYWRITE | TPM2_NVA_POLICYREAD | TPM2_NVA_NO_DA)
#define NV_SIZE    1536
#define PCR_MASK   0x3ffu
#define PCR_COUNT  10
#define DATA_LEN   192
#define DATA_AT    192

/* swtpm's trial session over rec_pcr_values; tpm2_nvreadpublic's Names. */
#define POLICY_HEX "31b5bd128c1709e56ff7fa7880e9b730c32f6b2a1de4a331" \
		   "dd4406e86fc43e1cfea85b9033edb0c272bba835086ec522"
#define NAME_HEX   "000c92407ace7c252efdb713cdb98b427a15e911066c6865" \
		   "863d8a7e91db08b29a11f74940b99f1af78e6b35b973cc40ca2b"
#define WRITTEN_NAME_HEX "000ca9b410684b17242dce437f772f167e470d3588aabecf" \
		   "2a9e63d7267e2e06b71dae99e07b6196a04261d4c37e4dd44d08"

static uint8_t cmd[TPM2_BUFFER_MAX];
static char err[200];

static void nonce(uint8_t out[HASH], uint8_t v)
{
	memset(out, v, HASH);
}

static const uint8_t (*recorded_pcrs(void))[TPM2_SHA384_LEN]
{
	return (const uint8_t (*)[TPM2_SHA384_LEN])rec_pcr_values;
}

static void assert_public(const struct tpm2_nv_public *a, const struct tpm2_nv_public *b)
{
	assert_int_equal(a->index, b->index);
	assert_int_equal(a->attributes, b->attributes);
	assert_int_equal(a->size, b->size);
	assert_memory_equal(a->policy, b->policy, sizeof(a->policy));
}

/* The parsers, their messages into err. */
static int parse_public(const uint8_t *rsp, size_t len, uint32_t index,
			struct tpm2_nv_public *pub, uint32_t *rc)
{
	return tpm2_parse_nv_read_public_full(rsp, len, index, pub, rc, err, sizeof(err));
}

static int parse_write(const uint8_t *rsp, size_t len, struct tpm2_session *s,
		       uint32_t *rc)
{
	return tpm2_parse_nv_write_policy(rsp, len, s, rc, err, sizeof(err));
}

static int parse_read(const uint8_t *rsp, size_t len, struct tpm2_session *s,
		      uint8_t *out, size_t want, uint32_t *rc)
{
	return tpm2_parse_nv_read_policy(rsp, len, s, out, want, rc, err, sizeof(err));
}

/* A builder's length and bytes are the recording's. */
#define assert_built(len, rec) do { \
	assert_int_equal((len), sizeof(rec)); \
	assert_memory_equal(cmd, (rec), sizeof(rec)); \
} while (0)

/* --- Known answers ------------------------------------------------------------------ */

static void test_policy_known_answer(void **state)
{
	uint8_t digest[HASH], policy[HASH], want[HASH];

	(void)state;
	assert_int_equal(tpm2_policy_pcr_digest(PCR_MASK, recorded_pcrs(), PCR_COUNT,
						digest, policy), 0);
	assert_hex(policy, HASH, POLICY_HEX);
	crypto_sha384(rec_pcr_values, sizeof(rec_pcr_values), want);
	assert_memory_equal(digest, want, HASH);
	/* The same values in another order are another policy. */
	uint8_t swapped[PCR_COUNT][HASH];

	memcpy(swapped, rec_pcr_values, sizeof(swapped));
	memcpy(swapped[0], rec_pcr_values + HASH, HASH);
	memcpy(swapped[1], rec_pcr_values, HASH);
	assert_int_equal(tpm2_policy_pcr_digest(PCR_MASK, (const uint8_t (*)[HASH])swapped,
						PCR_COUNT, digest, policy), 0);
	assert_memory_not_equal(policy, want, HASH);
	unhex(POLICY_HEX, want, HASH);
	assert_memory_not_equal(policy, want, HASH);
}

static void test_policy_refusals(void **state)
{
	uint8_t digest[HASH], policy[HASH];

	(void)state;
	memset(digest, 0xee, sizeof(digest));
	memset(policy, 0xee, sizeof(policy));
	/* A count that is not the mask's, no PCR, a PCR past 23. */
	assert_int_equal(tpm2_policy_pcr_digest(PCR_MASK, recorded_pcrs(), 9, digest,
						policy), -1);
	assert_int_equal(tpm2_policy_pcr_digest(PCR_MASK, recorded_pcrs(), 11, digest,
						policy), -1);
	assert_int_equal(tpm2_policy_pcr_digest(0, recorded_pcrs(), 0, digest, policy), -1);
	assert_int_equal(tpm2_policy_pcr_digest(1u << 24, recorded_pcrs(), 1, digest,
						policy), -1);
	assert_int_equal(digest[0], 0xee);
	assert_int_equal(policy[HASH - 1], 0xee);
}

static void test_nv_name_known_answer(void **state)
{
	struct tpm2_nv_public pub = { NV_INDEX, NV_ATTRS, { 0 }, NV_SIZE };
	uint8_t name[TPM2_NV_NAME_LEN];

	(void)state;
	unhex(POLICY_HEX, pub.policy, HASH);
	tpm2_nv_name(&pub, name);
	assert_hex(name, sizeof(name), NAME_HEX);
	pub.attributes |= TPM2_NVA_WRITTEN;
	tpm2_nv_name(&pub, name);
	assert_hex(name, sizeof(name), WRITTEN_NAME_HEX);
}

static void test_rc_classes(void **state)
{
	(void)state;
	assert_true(tpm2_rc_is_nv_undefined(0x18b));  /* NV_ReadPublic's, recorded */
	assert_true(tpm2_rc_is_nv_undefined(0x28b));  /* nvIndex as handle 2 */
	assert_false(tpm2_rc_is_nv_undefined(0x08b)); /* blames nothing */
	assert_false(tpm2_rc_is_nv_undefined(0x98b)); /* a session handle */
	assert_false(tpm2_rc_is_nv_undefined(0x1cb)); /* a parameter: not TPM_RC_HANDLE */
	assert_false(tpm2_rc_is_nv_undefined(0x38b));
	assert_false(tpm2_rc_is_nv_undefined(TPM2_RC_NV_DEFINED));
	assert_false(tpm2_rc_is_nv_undefined(TPM2_RC_SUCCESS));
	assert_false(tpm2_rc_is_nv_undefined(TPM2_RC_MALFORMED));
	assert_false(tpm2_rc_is_nv_undefined(0x1018b));
	assert_true(tpm2_rc_is_policy_mismatch(0x1c4));  /* PolicyPCR, recorded */
	assert_true(tpm2_rc_is_policy_mismatch(0x99d));  /* NV_Read, recorded */
	assert_false(tpm2_rc_is_policy_mismatch(0x184));
	assert_false(tpm2_rc_is_policy_mismatch(0x9a2)); /* a wrong HMAC */
	assert_false(tpm2_rc_is_policy_mismatch(TPM2_RC_MALFORMED));
}

/* --- The recorded life of the index ---------------------------------------------------- */

struct replay {
	struct tpm2_salt_key key;
	struct tpm2_session s;
	struct tpm2_nv_public pub;
	uint8_t pcr_digest[HASH], policy[HASH];
};

static void start_session(struct replay *r, uint8_t eph_byte, uint8_t nonce_byte,
			  const uint8_t *rec_cmd, size_t cmd_len,
			  const uint8_t *rec_rsp, size_t rsp_len)
{
	uint8_t eph[TPM2_P384_LEN], n[HASH];

	memset(eph, eph_byte, sizeof(eph));
	nonce(n, nonce_byte);
	assert_int_equal(tpm2_build_start_session(cmd, sizeof(cmd), &r->s, &r->key, eph,
						  n, TPM2_SE_POLICY), cmd_len);
	assert_memory_equal(cmd, rec_cmd, cmd_len);
	assert_int_equal(tpm2_parse_start_session(rec_rsp, rsp_len, &r->s, err,
						  sizeof(err)), 0);
	assert_int_equal(r->s.handle >> 24, 0x03);
	assert_int_equal(r->s.type, TPM2_SE_POLICY);
}

static void session_started(struct replay *r)
{
	memset(r, 0, sizeof(*r));
	assert_int_equal(tpm2_policy_pcr_digest(PCR_MASK, recorded_pcrs(), PCR_COUNT,
						r->pcr_digest, r->policy), 0);
	assert_built(tpm2_build_create_salt_key(cmd, sizeof(cmd)), rec_create_salt_cmd);
	assert_int_equal(tpm2_parse_create_salt_key(rec_create_salt_rsp,
						    sizeof(rec_create_salt_rsp), &r->key,
						    err, sizeof(err)), 0);
	start_session(r, 0x11, 0x30, rec_start_cmd, sizeof(rec_start_cmd),
		      rec_start_rsp, sizeof(rec_start_rsp));
}

static void defined(struct replay *r)
{
	struct tpm2_nv_public got;
	uint32_t rc = 0;

	session_started(r);
	assert_built(tpm2_build_nv_read_public(cmd, sizeof(cmd), NV_INDEX),
		     rec_public_undefined_cmd);
	assert_int_equal(parse_public(rec_public_undefined_rsp,
				      sizeof(rec_public_undefined_rsp), NV_INDEX, &got,
				      &rc), -1);
	assert_int_equal(rc, 0x18b);
	assert_true(tpm2_rc_is_nv_undefined(rc));
	assert_string_equal(err, "NV_ReadPublic failed: TPM_RC_HANDLE (0x18b, handle 1)");

	r->pub = (struct tpm2_nv_public){ NV_INDEX, NV_ATTRS, { 0 }, NV_SIZE };
	memcpy(r->pub.policy, r->policy, HASH);
	assert_built(tpm2_build_nv_define_space(cmd, sizeof(cmd), &r->pub), rec_define_cmd);
	rc = 99;
	assert_int_equal(tpm2_parse_nv_define_space(rec_define_rsp, sizeof(rec_define_rsp),
						    &rc, err, sizeof(err)), 0);
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	assert_built(tpm2_build_nv_read_public(cmd, sizeof(cmd), NV_INDEX), rec_public_cmd);
	assert_int_equal(parse_public(rec_public_rsp, sizeof(rec_public_rsp), NV_INDEX,
				      &got, &rc), 0);
	assert_public(&got, &r->pub);
}

static void policy_pcr(struct replay *r, const uint8_t pcr_digest[HASH],
		       const uint8_t *rec_cmd, size_t cmd_len, const uint8_t *rec_rsp,
		       size_t rsp_len, uint32_t want_rc)
{
	uint32_t rc = 99;

	assert_int_equal(tpm2_build_policy_pcr(cmd, sizeof(cmd), r->s.handle, PCR_MASK,
					       pcr_digest), cmd_len);
	assert_memory_equal(cmd, rec_cmd, cmd_len);
	assert_int_equal(tpm2_parse_policy_pcr(rec_rsp, rsp_len, &rc, err, sizeof(err)),
			 want_rc == TPM2_RC_SUCCESS ? 0 : -1);
	assert_int_equal(rc, want_rc);
}

static void write_in_flight(struct replay *r)
{
	uint8_t n[HASH];

	defined(r);
	policy_pcr(r, r->pcr_digest, rec_policy_write_cmd, sizeof(rec_policy_write_cmd),
		   rec_policy_write_rsp, sizeof(rec_policy_write_rsp), TPM2_RC_SUCCESS);
	nonce(n, 0x31);
	assert_built(tpm2_build_nv_write_policy(cmd, sizeof(cmd), &r->s, &r->pub,
						rec_data, DATA_LEN, DATA_AT, n),
		     rec_write_cmd);
}

static void written(struct replay *r)
{
	struct tpm2_nv_public got;
	uint32_t rc = 99;

	write_in_flight(r);
	assert_int_equal(tpm2_parse_nv_write_policy(rec_write_rsp, sizeof(rec_write_rsp),
						    &r->s, &rc, err, sizeof(err)), 0);
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	/* The first write set TPMA_NV_WRITTEN: the TPM says so of its index. */
	r->pub.attributes |= TPM2_NVA_WRITTEN;
	assert_built(tpm2_build_nv_read_public(cmd, sizeof(cmd), NV_INDEX),
		     rec_public_written_cmd);
	assert_int_equal(parse_public(rec_public_written_rsp,
				      sizeof(rec_public_written_rsp), NV_INDEX, &got,
				      &rc), 0);
	assert_public(&got, &r->pub);
}

static void read_in_flight(struct replay *r)
{
	uint8_t n[HASH];

	written(r);
	policy_pcr(r, r->pcr_digest, rec_policy_read_cmd, sizeof(rec_policy_read_cmd),
		   rec_policy_read_rsp, sizeof(rec_policy_read_rsp), TPM2_RC_SUCCESS);
	nonce(n, 0x32);
	assert_built(tpm2_build_nv_read_policy(cmd, sizeof(cmd), &r->s, &r->pub,
					       DATA_LEN, DATA_AT, n),
		     rec_read_cmd);
}

static void read_back(struct replay *r)
{
	uint8_t out[DATA_LEN];
	uint32_t rc = 99;

	read_in_flight(r);
	assert_int_equal(parse_read(rec_read_rsp, sizeof(rec_read_rsp), &r->s, out,
				    sizeof(out), &rc), 0);
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	assert_memory_equal(out, rec_data, DATA_LEN);
}

/* PolicyPCR and an NV_Read whose last HMAC byte was flipped on the way. */
static void bad_hmac_refused(struct replay *r)
{
	uint8_t n[HASH], out[DATA_LEN];
	uint32_t rc = 0;
	size_t len;

	read_back(r);
	policy_pcr(r, r->pcr_digest, rec_policy_bad_hmac_cmd,
		   sizeof(rec_policy_bad_hmac_cmd), rec_policy_bad_hmac_rsp,
		   sizeof(rec_policy_bad_hmac_rsp), TPM2_RC_SUCCESS);
	nonce(n, 0x33);
	len = tpm2_build_nv_read_policy(cmd, sizeof(cmd), &r->s, &r->pub, DATA_LEN,
					DATA_AT, n);
	cmd[len - 1 - 4] ^= 0x01;
	assert_built(len, rec_bad_hmac_cmd);
	memset(out, 0xee, sizeof(out));
	assert_int_equal(parse_read(rec_bad_hmac_rsp, sizeof(rec_bad_hmac_rsp), &r->s,
				    out, sizeof(out), &rc), -1);
	assert_int_equal(rc, 0x9a2);
	assert_string_equal(err, "NV_Read failed: TPM_RC_BAD_AUTH (0x9a2, session 1)");
	assert_int_equal(out[0], 0xee);
	assert_int_equal(r->s.cc, 0);
}

static void test_exchange_replays(void **state)
{
	struct replay r;
	uint8_t digest[HASH], policy[HASH], n[HASH], out[DATA_LEN];
	uint8_t pcrs[PCR_COUNT][HASH];
	uint32_t rc = 0;

	(void)state;
	bad_hmac_refused(&r);
	/* A new session (the old one is flushed after a failure), PCR 9
	 * changed. */
	start_session(&r, 0x12, 0x35, rec_start_after_cmd, sizeof(rec_start_after_cmd),
		      rec_start_after_rsp, sizeof(rec_start_after_rsp));
	memset(digest, 0x99, sizeof(digest));
	assert_built(tpm2_build_pcr_extend_sha384(cmd, sizeof(cmd), 9, digest),
		     rec_extend9_cmd);
	assert_int_equal(tpm2_parse_pcr_extend(rec_extend9_rsp, sizeof(rec_extend9_rsp),
					       err, sizeof(err)), 0);
	/* The digest of before: the TPM compares it with its PCRs. */
	policy_pcr(&r, r.pcr_digest, rec_policy_stale_cmd, sizeof(rec_policy_stale_cmd),
		   rec_policy_stale_rsp, sizeof(rec_policy_stale_rsp), 0x1c4);
	assert_true(tpm2_rc_is_policy_mismatch(0x1c4));
	assert_non_null(strstr(err, "PolicyPCR failed: TPM_RC_VALUE"));
	/* Today's: PolicyPCR holds, the policy is not the index's. */
	memcpy(pcrs, rec_pcr_values, sizeof(pcrs));
	memcpy(pcrs[9], rec_pcr9_after, HASH);
	assert_int_equal(tpm2_policy_pcr_digest(PCR_MASK, (const uint8_t (*)[HASH])pcrs,
						PCR_COUNT, digest, policy), 0);
	assert_memory_not_equal(policy, r.policy, HASH);
	policy_pcr(&r, digest, rec_policy_now_cmd, sizeof(rec_policy_now_cmd),
		   rec_policy_now_rsp, sizeof(rec_policy_now_rsp), TPM2_RC_SUCCESS);
	nonce(n, 0x36);
	assert_built(tpm2_build_nv_read_policy(cmd, sizeof(cmd), &r.s, &r.pub, DATA_LEN,
					       DATA_AT, n),
		     rec_read_refused_cmd);
	assert_int_equal(parse_read(rec_read_refused_rsp, sizeof(rec_read_refused_rsp),
				    &r.s, out, sizeof(out), &rc), -1);
	assert_int_equal(rc, 0x99d);
	assert_true(tpm2_rc_is_policy_mismatch(rc));
	tpm2_session_forget(&r.s);
}

/* What crossed the bus was never the data. */
static void test_data_encrypted_on_the_bus(void **state)
{
	struct replay r;

	(void)state;
	read_back(&r);
	assert_null(memmem(rec_write_cmd, sizeof(rec_write_cmd), rec_data, 8));
	assert_null(memmem(rec_read_rsp, sizeof(rec_read_rsp), rec_data, 8));
	assert_null(memmem(rec_write_cmd, sizeof(rec_write_cmd), rec_data + 100, 8));
	/* NV_Write's data field: the size in the clear, the bytes not. */
	assert_int_equal(load_be16(rec_write_cmd + 10 + 8 + 4 + 105), DATA_LEN);
}

/* A stale Name (TPMA_NV_WRITTEN not kept) is another cpHash: not the
 * command the TPM accepted. */
static void test_name_follows_written(void **state)
{
	struct replay r;
	uint8_t n[HASH];
	size_t len;

	(void)state;
	written(&r);
	policy_pcr(&r, r.pcr_digest, rec_policy_read_cmd, sizeof(rec_policy_read_cmd),
		   rec_policy_read_rsp, sizeof(rec_policy_read_rsp), TPM2_RC_SUCCESS);
	r.pub.attributes &= ~TPM2_NVA_WRITTEN;
	nonce(n, 0x32);
	len = tpm2_build_nv_read_policy(cmd, sizeof(cmd), &r.s, &r.pub, DATA_LEN, DATA_AT,
					n);
	assert_int_equal(len, sizeof(rec_read_cmd));
	/* The same command but for its HMAC (the last 48 bytes before the
	 * parameters). */
	assert_memory_equal(cmd, rec_read_cmd, len - 4 - HASH);
	assert_memory_not_equal(cmd + len - 4 - HASH, rec_read_cmd + len - 4 - HASH, HASH);
}

/* --- Refusals ------------------------------------------------------------------------- */

static void test_public_refusals(void **state)
{
	struct tpm2_nv_public pub, before;
	uint8_t rsp[sizeof(rec_public_rsp) + 1];
	struct guarded g;
	uint32_t rc;

	(void)state;
	memset(&pub, 0xa5, sizeof(pub));
	before = pub;
	/* Every bit: the header, a field, or the Name over them all. */
	for (size_t i = 0; i < sizeof(rec_public_rsp); i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(rsp, rec_public_rsp, sizeof(rec_public_rsp));
			rsp[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(parse_public(rsp, sizeof(rec_public_rsp),
						      NV_INDEX, &pub, &rc), -1);
			assert_true(err[0] != '\0');
			assert_memory_equal(&pub, &before, sizeof(pub));
		}
	}
	/* The Name's last byte. */
	memcpy(rsp, rec_public_rsp, sizeof(rec_public_rsp));
	rsp[sizeof(rec_public_rsp) - 1] ^= 1;
	assert_int_equal(parse_public(rsp, sizeof(rec_public_rsp), NV_INDEX, &pub, &rc),
			 -1);
	assert_string_equal(err,
			    "NV_ReadPublic response: nvName is not the Name of the public area");
	assert_int_equal(rc, TPM2_RC_SUCCESS); /* the TPM said success; the body lied */
	/* Another index than asked. */
	assert_int_equal(parse_public(rec_public_rsp, sizeof(rec_public_rsp),
				      NV_INDEX + 1, &pub, &rc), -1);
	assert_non_null(strstr(err, "nvIndex 0x01004353, expected 0x01004354"));
	/* nameAlg SHA-256. */
	memcpy(rsp, rec_public_rsp, sizeof(rec_public_rsp));
	rsp[10 + 2 + 4 + 1] = 0x0b;
	assert_int_equal(parse_public(rsp, sizeof(rec_public_rsp), NV_INDEX, &pub, &rc),
			 -1);
	assert_non_null(strstr(err, "nameAlg 0x000b, expected 0x000c"));
	/* A wrong tag; the header checks before anything else. */
	memcpy(rsp, rec_public_rsp, sizeof(rec_public_rsp));
	rsp[1] = 0x02;
	assert_int_equal(parse_public(rsp, sizeof(rec_public_rsp), NV_INDEX, &pub, &rc),
			 -1);
	assert_int_equal(rc, TPM2_RC_MALFORMED);
	assert_non_null(strstr(err, "tag 0x8002"));
	/* A trailing byte, the size field saying so. */
	memcpy(rsp, rec_public_rsp, sizeof(rec_public_rsp));
	rsp[sizeof(rsp) - 1] = 0;
	rsp[5]++;
	assert_int_equal(parse_public(rsp, sizeof(rsp), NV_INDEX, &pub, &rc), -1);
	assert_non_null(strstr(err, "left over in the response"));
	/* Every truncation, against either guard. */
	guarded_init(&g, sizeof(rec_public_rsp));
	for (size_t len = 0; len < sizeof(rec_public_rsp); len++) {
		for (int end = 0; end < 2; end++) {
			const uint8_t *p = guarded_fill(&g, rec_public_rsp, len, end);

			assert_int_equal(parse_public(p, len, NV_INDEX, &pub, &rc), -1);
		}
	}
	guarded_free(&g);
	assert_memory_equal(&pub, &before, sizeof(pub));
	/* rc may be left out. */
	assert_int_equal(parse_public(rec_public_rsp, sizeof(rec_public_rsp), NV_INDEX,
				      &pub, NULL), 0);
}

/* Refused at every length short of the whole, and with one byte more. */
static void assert_truncations_refused(const uint8_t *rsp, size_t len,
				       int (*parse)(const uint8_t *, size_t, uint32_t *,
						    char *, size_t))
{
	uint8_t longer[TPM2_BUFFER_MAX];
	struct guarded g;
	uint32_t rc;

	guarded_init(&g, len);
	for (size_t n = 0; n < len; n++)
		for (int end = 0; end < 2; end++)
			assert_int_equal(parse(guarded_fill(&g, rsp, n, end), n, &rc, err,
					       sizeof(err)), -1);
	guarded_free(&g);
	memcpy(longer, rsp, len);
	longer[len] = 0;
	longer[5]++;
	assert_int_equal(parse(longer, len + 1, &rc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "left over"));
	assert_int_equal(rc, TPM2_RC_SUCCESS);
}

static void test_define_refusals(void **state)
{
	uint8_t rsp[sizeof(rec_define_rsp)];
	uint32_t rc;

	(void)state;
	assert_truncations_refused(rec_define_rsp, sizeof(rec_define_rsp),
				   tpm2_parse_nv_define_space);
	/* A parameter area, a nonce, an hmac: a password session has none. */
	for (size_t at = 13; at < sizeof(rsp); at++) {
		if (at == 16)  /* sessionAttributes: continueSession may be set */
			continue;
		memcpy(rsp, rec_define_rsp, sizeof(rsp));
		rsp[at] ^= 0x01;
		assert_int_equal(tpm2_parse_nv_define_space(rsp, sizeof(rsp), &rc, err,
							    sizeof(err)), -1);
	}
	/* The tag of a response without sessions. */
	memcpy(rsp, rec_define_rsp, sizeof(rsp));
	rsp[1] = 0x01;
	assert_int_equal(tpm2_parse_nv_define_space(rsp, sizeof(rsp), &rc, err,
						    sizeof(err)), -1);
	/* The index exists already: the TPM says so. */
	static const uint8_t defined_rsp[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x4c,
	};
	assert_int_equal(tpm2_parse_nv_define_space(defined_rsp, sizeof(defined_rsp), &rc,
						    err, sizeof(err)), -1);
	assert_int_equal(rc, TPM2_RC_NV_DEFINED);
	assert_false(tpm2_rc_is_nv_undefined(rc));
}

static void test_policy_pcr_refusals(void **state)
{
	uint8_t rsp[sizeof(rec_policy_write_rsp)];
	uint32_t rc;

	(void)state;
	assert_truncations_refused(rec_policy_write_rsp, sizeof(rec_policy_write_rsp),
				   tpm2_parse_policy_pcr);
	memcpy(rsp, rec_policy_write_rsp, sizeof(rsp));
	rsp[1] = 0x02; /* a sessions tag: PolicyPCR ran without one */
	assert_int_equal(tpm2_parse_policy_pcr(rsp, sizeof(rsp), &rc, err, sizeof(err)),
			 -1);
	assert_int_equal(rc, TPM2_RC_MALFORMED);
	/* The recorded refusal, its code handed back. */
	assert_int_equal(tpm2_parse_policy_pcr(rec_policy_stale_rsp,
					       sizeof(rec_policy_stale_rsp), &rc, err,
					       sizeof(err)), -1);
	assert_int_equal(rc, 0x1c4);
}

static void test_write_refusals(void **state)
{
	struct replay base;
	uint8_t rsp[sizeof(rec_write_rsp)];
	struct tpm2_session s;
	struct guarded g;
	uint32_t rc;

	(void)state;
	write_in_flight(&base);
	/* Every bit: refused, the nonce unmoved. */
	for (size_t i = 0; i < sizeof(rsp); i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(rsp, rec_write_rsp, sizeof(rsp));
			rsp[i] ^= (uint8_t)(1u << bit);
			s = base.s;
			assert_int_equal(parse_write(rsp, sizeof(rsp), &s, &rc), -1);
			assert_true(err[0] != '\0');
			assert_memory_equal(s.nonce_tpm, base.s.nonce_tpm, HASH);
		}
	}
	memcpy(rsp, rec_write_rsp, sizeof(rsp));
	rsp[sizeof(rsp) - 1] ^= 0x80;
	s = base.s;
	assert_int_equal(parse_write(rsp, sizeof(rsp), &s, &rc), -1);
	assert_string_equal(err,
			    "NV_Write response HMAC does not verify: altered on the bus?");
	/* Truncated, against both guards. */
	guarded_init(&g, sizeof(rec_write_rsp));
	for (size_t len = 0; len < sizeof(rec_write_rsp); len++) {
		for (int end = 0; end < 2; end++) {
			s = base.s;
			assert_int_equal(parse_write(guarded_fill(&g, rec_write_rsp, len,
								  end),
						     len, &s, &rc), -1);
		}
	}
	guarded_free(&g);
	/* Another command's answer: NV_Read's, with NV_Write in flight. */
	s = base.s;
	assert_int_equal(parse_write(rec_read_rsp, sizeof(rec_read_rsp), &s, &rc), -1);
	/* Accepted once; the same answer again is a replay. */
	s = base.s;
	assert_int_equal(parse_write(rec_write_rsp, sizeof(rec_write_rsp), &s, &rc), 0);
	assert_int_equal(parse_write(rec_write_rsp, sizeof(rec_write_rsp), &s, &rc), -1);
	assert_string_equal(err, "NV_Write: none in flight on the session");
	assert_int_equal(rc, TPM2_RC_MALFORMED);
}

static void test_read_refusals(void **state)
{
	struct replay base;
	uint8_t rsp[sizeof(rec_read_rsp) + 1], out[DATA_LEN + 1];
	struct tpm2_session s;
	struct guarded g;
	uint32_t rc;

	(void)state;
	read_in_flight(&base);
	for (size_t i = 0; i < sizeof(rec_read_rsp); i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(rsp, rec_read_rsp, sizeof(rec_read_rsp));
			rsp[i] ^= (uint8_t)(1u << bit);
			s = base.s;
			memset(out, 0xee, sizeof(out));
			assert_int_equal(parse_read(rsp, sizeof(rec_read_rsp), &s, out,
						    DATA_LEN, &rc), -1);
			assert_true(err[0] != '\0');
			assert_memory_equal(s.nonce_tpm, base.s.nonce_tpm, HASH);
			assert_int_equal(out[0], 0xee);
			assert_int_equal(out[DATA_LEN - 1], 0xee);
		}
	}
	/* In the data: the HMAC says so. */
	memcpy(rsp, rec_read_rsp, sizeof(rec_read_rsp));
	rsp[20] ^= 1;
	s = base.s;
	assert_int_equal(parse_read(rsp, sizeof(rec_read_rsp), &s, out, DATA_LEN, &rc), -1);
	assert_string_equal(err,
			    "NV_Read response HMAC does not verify: altered on the bus?");
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	/* Truncated; a trailing byte. */
	guarded_init(&g, sizeof(rec_read_rsp));
	for (size_t len = 0; len < sizeof(rec_read_rsp); len++) {
		for (int end = 0; end < 2; end++) {
			const uint8_t *p = guarded_fill(&g, rec_read_rsp, len, end);

			s = base.s;
			assert_int_equal(parse_read(p, len, &s, out, DATA_LEN, &rc), -1);
		}
	}
	guarded_free(&g);
	memcpy(rsp, rec_read_rsp, sizeof(rec_read_rsp));
	rsp[sizeof(rsp) - 1] = 0;
	rsp[5]++;
	s = base.s;
	assert_int_equal(parse_read(rsp, sizeof(rsp), &s, out, DATA_LEN, &rc), -1);
	assert_non_null(strstr(err, "left over"));
	/* Not the size asked (the HMAC verifies: the size is checked after
	 * it), and sizes the parser never takes. */
	s = base.s;
	memset(out, 0xee, sizeof(out));
	assert_int_equal(parse_read(rec_read_rsp, sizeof(rec_read_rsp), &s, out,
				    DATA_LEN - 1, &rc), -1);
	assert_non_null(strstr(err, "data of 192 bytes (must be 191..191)"));
	assert_int_equal(out[0], 0xee);
	s = base.s;
	assert_int_equal(parse_read(rec_read_rsp, sizeof(rec_read_rsp), &s, out, 0, &rc),
			 -1);
	assert_int_equal(parse_read(rec_read_rsp, sizeof(rec_read_rsp), &s, out,
				    TPM2_NV_READ_MAX + 1, &rc), -1);
	assert_int_equal(rc, TPM2_RC_MALFORMED);
}

/* A response the session's key authenticates, with other parameters: what
 * a TPM that answered wrongly (not an interposer: it has no key) would
 * send. */
static size_t forge(const struct tpm2_session *s, const uint8_t *params, size_t len,
		    uint8_t *rsp)
{
	uint8_t in[3 * HASH + 1], be[8], *p = rsp;
	struct crypto_sha384_ctx c;

	p = store_be16(p, TPM2_ST_SESSIONS);
	p = store_be32(p, (uint32_t)(TPM2_HEADER_LEN + 4 + len + 2 * (2 + HASH) + 1));
	p = store_be32(p, TPM2_RC_SUCCESS);
	p = store_be32(p, (uint32_t)len);
	memcpy(p, params, len);
	p += len;
	/* rpHash || nonceTPM (new: 0x77) || nonceCaller || attributes */
	store_be32(be, TPM2_RC_SUCCESS);
	store_be32(be + 4, s->cc);
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, be, sizeof(be));
	crypto_sha384_update(&c, params, len);
	crypto_sha384_final(&c, in);
	memset(in + HASH, 0x77, HASH);
	memcpy(in + 2 * HASH, s->nonce_caller, HASH);
	in[3 * HASH] = s->attrs;
	p = store_be16(p, HASH);
	memcpy(p, in + HASH, HASH);
	p += HASH;
	*p++ = s->attrs;
	p = store_be16(p, HASH);
	assert_int_equal(crypto_hmac_sha384(s->key, HASH, in, sizeof(in), p), CRYPTO_OK);
	return (size_t)(p + HASH - rsp);
}

static void test_wrong_sizes_under_a_valid_hmac(void **state)
{
	struct replay base;
	uint8_t params[2 + DATA_LEN + 1], rsp[TPM2_BUFFER_MAX], out[DATA_LEN];
	struct tpm2_session s;
	size_t psize, len;
	uint32_t rc;

	(void)state;
	read_in_flight(&base);
	psize = load_be32(rec_read_rsp + 10);
	memcpy(params, rec_read_rsp + 14, psize);
	/* The forgery itself holds with the TPM's parameters. */
	s = base.s;
	len = forge(&s, params, psize, rsp);
	assert_int_equal(parse_read(rsp, len, &s, out, DATA_LEN, &rc), 0);
	/* One byte fewer than asked. */
	store_be16(params, DATA_LEN - 1);
	s = base.s;
	len = forge(&s, params, psize - 1, rsp);
	assert_int_equal(parse_read(rsp, len, &s, out, DATA_LEN, &rc), -1);
	assert_non_null(strstr(err, "data of 191 bytes (must be 192..192)"));
	/* A byte after the data. */
	store_be16(params, DATA_LEN);
	params[2 + DATA_LEN] = 0;
	s = base.s;
	len = forge(&s, params, psize + 1, rsp);
	assert_int_equal(parse_read(rsp, len, &s, out, DATA_LEN, &rc), -1);
	assert_string_equal(err, "NV_Read response: 1 bytes left over in parameters");
	/* NV_Write answered with a parameter. */
	write_in_flight(&base);
	s = base.s;
	len = forge(&s, params, 1, rsp);
	assert_int_equal(parse_write(rsp, len, &s, &rc), -1);
	assert_string_equal(err, "NV_Write response: 1 parameter bytes (it has none)");
}

static void test_start_policy_refusals(void **state)
{
	struct replay r;
	uint8_t rsp[sizeof(rec_start_rsp)], eph[TPM2_P384_LEN], n[HASH];

	(void)state;
	session_started(&r);
	memset(eph, 0x11, sizeof(eph));
	nonce(n, 0x30);
	/* An HMAC session's handle for a policy session. */
	assert_true(tpm2_build_start_session(cmd, sizeof(cmd), &r.s, &r.key, eph, n,
					     TPM2_SE_POLICY) > 0);
	memcpy(rsp, rec_start_rsp, sizeof(rsp));
	rsp[10] = 0x02;
	assert_int_equal(tpm2_parse_start_session(rsp, sizeof(rsp), &r.s, err, sizeof(err)),
			 -1);
	assert_string_equal(err,
			    "StartAuthSession response: handle 0x02000000 is not a policy session's");
	/* No such session type (a trial session, 0x03, is not built). */
	assert_int_equal(tpm2_build_start_session(cmd, sizeof(cmd), &r.s, &r.key, eph, n,
						  0x03), 0);
	/* The type goes on the wire. */
	assert_true(tpm2_build_start_session(cmd, sizeof(cmd), &r.s, &r.key, eph, n,
					     TPM2_SE_HMAC) > 0);
	assert_int_equal(cmd[sizeof(rec_start_cmd) - 9], TPM2_SE_HMAC);
	assert_memory_equal(cmd, rec_start_cmd, sizeof(rec_start_cmd) - 9);
}

/* The builders of NV_Write and NV_Read on r's session, with nonce 0x31. */
static size_t build_write(struct replay *r, const struct tpm2_nv_public *pub,
			  size_t cap, const uint8_t *data, size_t len, uint16_t offset)
{
	uint8_t n[HASH];

	nonce(n, 0x31);
	return tpm2_build_nv_write_policy(cmd, cap, &r->s, pub, data, len, offset, n);
}

static size_t build_read(struct replay *r, const struct tpm2_nv_public *pub,
			 size_t cap, uint16_t size, uint16_t offset)
{
	uint8_t n[HASH];

	nonce(n, 0x31);
	return tpm2_build_nv_read_policy(cmd, cap, &r->s, pub, size, offset, n);
}

static void test_builder_limits(void **state)
{
	static const uint8_t data[TPM2_NV_WRITE_MAX + 1];
	struct replay r;
	struct tpm2_nv_public pub;
	const size_t cap = sizeof(cmd);

	(void)state;
	defined(&r);
	/* NV_DefineSpace: not an index, TPMA_NV_WRITTEN, no size, no room. */
	pub = r.pub;
	pub.index = 0x81000001;
	assert_int_equal(tpm2_build_nv_define_space(cmd, cap, &pub), 0);
	pub = r.pub;
	pub.attributes |= TPM2_NVA_WRITTEN;
	assert_int_equal(tpm2_build_nv_define_space(cmd, cap, &pub), 0);
	pub = r.pub;
	pub.size = 0;
	assert_int_equal(tpm2_build_nv_define_space(cmd, cap, &pub), 0);
	assert_int_equal(tpm2_build_nv_define_space(cmd, sizeof(rec_define_cmd) - 1,
						    &r.pub), 0);
	/* PolicyPCR: an HMAC session, no PCRs, PCR 24, no room. */
	assert_int_equal(tpm2_build_policy_pcr(cmd, cap, 0x02000000, PCR_MASK,
					       r.pcr_digest), 0);
	assert_int_equal(tpm2_build_policy_pcr(cmd, cap, r.s.handle, 0, r.pcr_digest), 0);
	assert_int_equal(tpm2_build_policy_pcr(cmd, cap, r.s.handle, 1u << 24,
					       r.pcr_digest), 0);
	assert_int_equal(tpm2_build_policy_pcr(cmd, sizeof(rec_policy_write_cmd) - 1,
					       r.s.handle, PCR_MASK, r.pcr_digest), 0);
	/* NV_Write: nothing, too much, past the end, not an index, no room. */
	assert_int_equal(build_write(&r, &r.pub, cap, data, 0, 0), 0);
	assert_int_equal(build_write(&r, &r.pub, cap, data, TPM2_NV_WRITE_MAX + 1, 0), 0);
	assert_int_equal(build_write(&r, &r.pub, cap, data, 2, NV_SIZE - 1), 0);
	pub = r.pub;
	pub.index = TPM2_RH_OWNER;
	assert_int_equal(build_write(&r, &pub, cap, data, 1, 0), 0);
	assert_int_equal(build_write(&r, &r.pub, sizeof(rec_write_cmd) - 1, rec_data,
				     DATA_LEN, DATA_AT), 0);
	/* NV_Read: the same. */
	assert_int_equal(build_read(&r, &r.pub, cap, 0, 0), 0);
	assert_int_equal(build_read(&r, &r.pub, cap, TPM2_NV_READ_MAX + 1, 0), 0);
	assert_int_equal(build_read(&r, &r.pub, cap, 1, NV_SIZE), 0);
	assert_int_equal(build_read(&r, &pub, cap, 1, 0), 0);
	assert_int_equal(build_read(&r, &r.pub, sizeof(rec_read_cmd) - 1, DATA_LEN,
				    DATA_AT), 0);
	/* The last byte of the index is inside it; the largest read is built. */
	assert_true(build_read(&r, &r.pub, cap, 1, NV_SIZE - 1) > 0);
	r.s.cc = 0;
	assert_true(build_read(&r, &r.pub, cap, TPM2_NV_READ_MAX, 0) > 0);
	/* ... and then a command is in flight: one at a time. */
	assert_int_equal(build_read(&r, &r.pub, cap, 1, 0), 0);
	/* No session. */
	memset(&r.s, 0, sizeof(r.s));
	assert_int_equal(build_read(&r, &r.pub, cap, 1, 0), 0);
	/* The largest write is built too. */
	defined(&r);
	assert_true(build_write(&r, &r.pub, cap, data, TPM2_NV_WRITE_MAX, 0) > 0);
}

static void test_named_build_limits(void **state)
{
	struct replay r;
	uint8_t n[HASH], name[TPM2_NAME_MAX + 1] = { 0 };
	struct tpm2_named_handle h[3] = {
		{ NV_INDEX, name, TPM2_NV_NAME_LEN },
		{ NV_INDEX, name, TPM2_NV_NAME_LEN },
		{ NV_INDEX, name, TPM2_NV_NAME_LEN },
	};
	static const uint32_t handles[3] = { 1, 2, 3 };

	(void)state;
	session_started(&r);
	nonce(n, 0x31);
	assert_int_equal(tpm2_session_build_named(cmd, sizeof(cmd), &r.s, TPM2_CC_NV_READ,
						  h, 3, n, 4, 0, n), 0);
	assert_int_equal(tpm2_session_build(cmd, sizeof(cmd), &r.s, TPM2_CC_NV_READ,
					    handles, 3, n, 4, 0, n), 0);
	h[1].name_len = 0;
	assert_int_equal(tpm2_session_build_named(cmd, sizeof(cmd), &r.s, TPM2_CC_NV_READ,
						  h, 2, n, 4, 0, n), 0);
	h[1].name_len = TPM2_NAME_MAX + 1;
	assert_int_equal(tpm2_session_build_named(cmd, sizeof(cmd), &r.s, TPM2_CC_NV_READ,
						  h, 2, n, 4, 0, n), 0);
	h[1].name_len = TPM2_NAME_MAX;
	assert_true(tpm2_session_build_named(cmd, sizeof(cmd), &r.s, TPM2_CC_NV_READ,
					     h, 2, n, 4, 0, n) > 0);
	/* A session whose handle is not of its type builds nothing. */
	tpm2_session_forget(&r.s);
	session_started(&r);
	r.s.type = TPM2_SE_HMAC;
	assert_int_equal(tpm2_session_build_named(cmd, sizeof(cmd), &r.s, TPM2_CC_NV_READ,
						  h, 2, n, 4, 0, n), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_known_answer),
		cmocka_unit_test(test_policy_refusals),
		cmocka_unit_test(test_nv_name_known_answer),
		cmocka_unit_test(test_rc_classes),
		cmocka_unit_test(test_exchange_replays),
		cmocka_unit_test(test_data_encrypted_on_the_bus),
		cmocka_unit_test(test_name_follows_written),
		cmocka_unit_test(test_public_refusals),
		cmocka_unit_test(test_define_refusals),
		cmocka_unit_test(test_policy_pcr_refusals),
		cmocka_unit_test(test_write_refusals),
		cmocka_unit_test(test_read_refusals),
		cmocka_unit_test(test_wrong_sizes_under_a_valid_hmac),
		cmocka_unit_test(test_start_policy_refusals),
		cmocka_unit_test(test_builder_limits),
		cmocka_unit_test(test_named_build_limits),
	};

	if (crypto_init() != CRYPTO_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
