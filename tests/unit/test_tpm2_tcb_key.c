/*
 * The TCB's TPM-resident identity keys (tcb/tpm2_tcb_key.c).
 *
 * swtpm 0.7.1 replayed (tpm2_tcb_key_swtpm.h, recorded with fixed nonces,
 * ephemeral keys and PCR values by tests/tools/tpm2_tcb_key_record, which
 * also checked against the TPM what the replay takes from the recording:
 * each key created twice is the same key; the AK's signature over each
 * Certify's attest verifies; the Sign signature verifies with the key;
 * ECDH_ZGen's answer is crypto_ecdh_p384 of the ephemeral scalar and the
 * key; and the TPM refused Sign with the empty password with
 * TPM_RC_AUTH_UNAVAILABLE (0x12f: no userWithAuth), PolicyPCR with the PCR
 * digest of before PCR 9 changed with TPM_RC_VALUE (0x1c4), and Sign after
 * PolicyPCR of the changed PCRs with TPM_RC_POLICY_FAIL (0x99d)). The
 * Names and Qualified Names computed here are swtpm's own (it returned
 * them in CreatePrimary and in the attest).
 *
 * The code must build exactly the recorded commands and accept exactly the
 * recorded responses; and refuse every truncation (against guard pages),
 * trailing byte, wrong tag, public area other than the template, wrong
 * Name, attest with a wrong magic, type, extraData, name or Qualified
 * Name, altered response HMAC, and a TPM that answers malformed
 * parameters under a valid HMAC.
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
#include "tcb/tpm2_tcb_key.h"
#include "guarded.h"
#include "tpm2_tcb_key_swtpm.h"

#define HASH      TPM2_SESSION_HASH_LEN
#define PCR_MASK  0x3ffu
#define PCR_COUNT 10
#define NAME_LEN  TPM2_TCB_KEY_NAME_LEN
/* In a CreatePrimary response: header, handle, parameterSize, outPublic.size. */
#define AREA_AT   (TPM2_HEADER_LEN + 4 + 4 + 2)
/* In a Certify response: header, parameterSize, certifyInfo.size. */
#define ATTEST_AT (TPM2_HEADER_LEN + 4 + 2)

static uint8_t cmd[TPM2_BUFFER_MAX];
static char err[200];

/* The recorder's qualifying data. */
static const uint8_t q_sign[TPM2_TCB_QUALIFYING_MAX] = { [0] = 0x51, [47] = 0x52 };
static const uint8_t q_agree[16] = { 0x61, 0x62, 0x63 };

static void policy_of_recording(uint8_t pcr_digest[HASH], uint8_t policy[HASH])
{
	assert_int_equal(tpm2_policy_pcr_digest(PCR_MASK,
						(const uint8_t (*)[HASH])rec_pcr_values,
						PCR_COUNT, pcr_digest, policy), 0);
}

#define assert_built(len, rec) do { \
	assert_int_equal((len), sizeof(rec)); \
	assert_memory_equal(cmd, (rec), sizeof(rec)); \
} while (0)

static int parse_create(const uint8_t *rsp, size_t len, enum tpm2_tcb_key_kind kind,
			const uint8_t policy[HASH], struct tpm2_tcb_key *key, uint32_t *rc)
{
	return tpm2_parse_create_tcb_key(rsp, len, kind, policy, key, rc, err, sizeof(err));
}

/* --- CreatePrimary ---------------------------------------------------------------- */

static void created(enum tpm2_tcb_key_kind kind, struct tpm2_tcb_key *key)
{
	uint8_t digest[HASH], policy[HASH];
	uint32_t rc = 99;

	policy_of_recording(digest, policy);
	if (kind == TPM2_TCB_KEY_SIGN) {
		assert_built(tpm2_build_create_tcb_key(cmd, sizeof(cmd), kind, policy),
			     rec_create_sign_again_cmd);
		assert_int_equal(parse_create(rec_create_sign_again_rsp,
					      sizeof(rec_create_sign_again_rsp), kind,
					      policy, key, &rc), 0);
	} else {
		assert_built(tpm2_build_create_tcb_key(cmd, sizeof(cmd), kind, policy),
			     rec_create_agree_again_cmd);
		assert_int_equal(parse_create(rec_create_agree_again_rsp,
					      sizeof(rec_create_agree_again_rsp), kind,
					      policy, key, &rc), 0);
	}
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	assert_string_equal(err, "");
	assert_int_equal(key->kind, kind);
}

/* The template on the wire: the fields of tcb/tpm2_tcb_key.h. */
static void test_template_bytes(void **state)
{
	static const uint8_t sign_head[] = {
		0x00, 0x23, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x32, 0x00, 0x30,
	};
	static const uint8_t sign_tail[] = {
		0x00, 0x10, 0x00, 0x18, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x10,
		0x00, 0x00, 0x00, 0x00, /* unique: empty x and y */
	};
	static const uint8_t agree_head[] = {
		0x00, 0x23, 0x00, 0x0c, 0x00, 0x02, 0x00, 0x32, 0x00, 0x30,
	};
	static const uint8_t agree_tail[] = {
		0x00, 0x10, 0x00, 0x19, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x10,
		0x00, 0x00, 0x00, 0x00,
	};
	/* header, endorsement, one password session, empty inSensitive,
	 * inPublic.size */
	const size_t at = TPM2_HEADER_LEN + 4 + 4 + 9 + 6 + 2;
	uint8_t digest[HASH], policy[HASH];
	size_t len;

	(void)state;
	policy_of_recording(digest, policy);
	len = tpm2_build_create_tcb_key(cmd, sizeof(cmd), TPM2_TCB_KEY_SIGN, policy);
	assert_built(len, rec_create_sign_cmd);
	assert_int_equal(load_be32(cmd + TPM2_HEADER_LEN), TPM2_RH_ENDORSEMENT);
	assert_int_equal(load_be16(cmd + at - 2), 72);
	assert_memory_equal(cmd + at, sign_head, sizeof(sign_head));
	assert_memory_equal(cmd + at + 10, policy, HASH);
	assert_memory_equal(cmd + at + 10 + HASH, sign_tail, sizeof(sign_tail));
	/* outsideInfo empty, no creationPCR: nothing else. */
	assert_int_equal(len, at + 72 + 2 + 4);
	/* The attributes: no userWithAuth, no adminWithPolicy, not restricted. */
	assert_int_equal(TPM2_TCB_SIGN_ATTRIBUTES & 0x000100c0, 0);
	assert_int_equal(TPM2_TCB_AGREE_ATTRIBUTES & 0x000100c0, 0);

	len = tpm2_build_create_tcb_key(cmd, sizeof(cmd), TPM2_TCB_KEY_AGREE, policy);
	assert_built(len, rec_create_agree_cmd);
	assert_memory_equal(cmd + at, agree_head, sizeof(agree_head));
	assert_memory_equal(cmd + at + 10 + HASH, agree_tail, sizeof(agree_tail));
	/* Two templates, two commands: two keys. */
	assert_memory_not_equal(rec_create_sign_cmd, rec_create_agree_cmd,
				sizeof(rec_create_sign_cmd));
	/* Another policy is another template. */
	policy[0] ^= 1;
	tpm2_build_create_tcb_key(cmd, sizeof(cmd), TPM2_TCB_KEY_SIGN, policy);
	assert_memory_not_equal(cmd, rec_create_sign_cmd, sizeof(rec_create_sign_cmd));
	/* No room, no such kind. */
	assert_int_equal(tpm2_build_create_tcb_key(cmd, sizeof(rec_create_sign_cmd) - 1,
						   TPM2_TCB_KEY_SIGN, policy), 0);
	assert_int_equal(tpm2_build_create_tcb_key(cmd, sizeof(cmd),
						   (enum tpm2_tcb_key_kind)2, policy), 0);
}

static void test_create_replays(void **state)
{
	struct tpm2_tcb_key sign, sign2, agree, agree2;
	uint8_t digest[HASH], policy[HASH], area[TPM2_TCB_KEY_PUBLIC_LEN], name[NAME_LEN];

	(void)state;
	policy_of_recording(digest, policy);
	assert_int_equal(parse_create(rec_create_sign_rsp, sizeof(rec_create_sign_rsp),
				      TPM2_TCB_KEY_SIGN, policy, &sign, NULL), 0);
	created(TPM2_TCB_KEY_SIGN, &sign2);
	assert_int_equal(parse_create(rec_create_agree_rsp, sizeof(rec_create_agree_rsp),
				      TPM2_TCB_KEY_AGREE, policy, &agree, NULL), 0);
	created(TPM2_TCB_KEY_AGREE, &agree2);
	/* The same seed and template: the same key, each time. */
	assert_memory_equal(sign.pub, sign2.pub, sizeof(sign.pub));
	assert_memory_equal(sign.name, sign2.name, NAME_LEN);
	assert_memory_equal(agree.pub, agree2.pub, sizeof(agree.pub));
	assert_memory_not_equal(sign.pub, agree.pub, sizeof(sign.pub));
	assert_int_equal(sign.pub[0], 0x04);
	assert_int_equal(sign.handle >> 24, 0x80);
	/* A verifier's public area and Name from the point are the TPM's. */
	tpm2_tcb_key_public_area(TPM2_TCB_KEY_SIGN, policy, sign.pub, area);
	assert_int_equal(load_be16(rec_create_sign_rsp + AREA_AT - 2), sizeof(area));
	assert_memory_equal(area, rec_create_sign_rsp + AREA_AT, sizeof(area));
	tpm2_tcb_key_name(TPM2_TCB_KEY_SIGN, policy, sign.pub, name);
	assert_memory_equal(name, sign.name, NAME_LEN);
	assert_memory_equal(name, rec_create_sign_rsp + sizeof(rec_create_sign_rsp) - 5 -
			    NAME_LEN, NAME_LEN);
	tpm2_tcb_key_name(TPM2_TCB_KEY_AGREE, policy, agree.pub, name);
	assert_memory_equal(name, agree.name, NAME_LEN);
	/* The sign key's point under the other template: another Name. */
	tpm2_tcb_key_name(TPM2_TCB_KEY_AGREE, policy, sign.pub, name);
	assert_memory_not_equal(name, sign.name, NAME_LEN);
}

static void assert_create_refused(const uint8_t *rsp, size_t len, const char *want)
{
	struct tpm2_tcb_key key, before;
	uint8_t digest[HASH], policy[HASH];
	uint32_t rc;

	policy_of_recording(digest, policy);
	memset(&key, 0xa5, sizeof(key));
	before = key;
	assert_int_equal(parse_create(rsp, len, TPM2_TCB_KEY_SIGN, policy, &key, &rc), -1);
	assert_true(err[0] != '\0');
	if (want)
		assert_non_null(strstr(err, want));
	assert_memory_equal(&key, &before, sizeof(key));
}

static void test_create_refusals(void **state)
{
	const size_t len = sizeof(rec_create_sign_rsp);
	uint8_t rsp[sizeof(rec_create_sign_rsp) + 1], digest[HASH], policy[HASH];
	struct tpm2_tcb_key key;
	struct guarded g;
	uint32_t rc;

	(void)state;
	policy_of_recording(digest, policy);
	/* Every bit of the public area (a field of the template, or the
	 * Name over it) and of the Name. */
	for (size_t i = AREA_AT - 2; i < len; i++) {
		if (i == AREA_AT + TPM2_TCB_KEY_PUBLIC_LEN)
			i = len - 5 - NAME_LEN - 2; /* past the creation fields */
		if (i == len - 5)
			break;
		for (int bit = 0; bit < 8; bit++) {
			memcpy(rsp, rec_create_sign_rsp, len);
			rsp[i] ^= (uint8_t)(1u << bit);
			assert_create_refused(rsp, len, NULL);
		}
	}
	/* Attributes with userWithAuth: not the template. */
	memcpy(rsp, rec_create_sign_rsp, len);
	rsp[AREA_AT + 7] |= 0x40;
	assert_create_refused(rsp, len, "objectAttributes 0x00040072, expected 0x00040032");
	/* Another policy. */
	memcpy(rsp, rec_create_sign_rsp, len);
	rsp[AREA_AT + 10 + 5] ^= 0x10;
	assert_create_refused(rsp, len, "authPolicy is not the one sent");
	/* Another scheme (ECDH) for the signing key. */
	memcpy(rsp, rec_create_sign_rsp, len);
	rsp[AREA_AT + 10 + HASH + 3] = 0x19;
	assert_create_refused(rsp, len, "scheme 0x0019, expected 0x0018");
	/* A coordinate of 47 bytes (the size says so; the area then ends a
	 * byte early). */
	memcpy(rsp, rec_create_sign_rsp, len);
	rsp[AREA_AT + 10 + HASH + 10 + 1] = 47;
	assert_create_refused(rsp, len, "unique.x of 47 bytes (must be 48..48)");
	/* The name of another area. */
	memcpy(rsp, rec_create_sign_rsp, len);
	rsp[len - 6] ^= 1;
	assert_create_refused(rsp, len, "the name is not that of the public area");
	/* The other kind's response, or the other kind asked. */
	assert_int_equal(parse_create(rec_create_agree_rsp, sizeof(rec_create_agree_rsp),
				      TPM2_TCB_KEY_SIGN, policy, &key, &rc), -1);
	assert_non_null(strstr(err, "objectAttributes 0x00020032, expected 0x00040032"));
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	assert_int_equal(parse_create(rec_create_sign_rsp, len, (enum tpm2_tcb_key_kind)7,
				      policy, &key, &rc), -1);
	assert_int_equal(rc, TPM2_RC_MALFORMED);
	/* Another policy asked than the TPM used. */
	policy[47] ^= 1;
	assert_int_equal(parse_create(rec_create_sign_rsp, len, TPM2_TCB_KEY_SIGN, policy,
				      &key, &rc), -1);
	policy[47] ^= 1;
	/* A handle that is not a transient object's. */
	memcpy(rsp, rec_create_sign_rsp, len);
	rsp[TPM2_HEADER_LEN] = 0x81;
	assert_create_refused(rsp, len, "handle 0x81");
	/* A wrong tag. */
	memcpy(rsp, rec_create_sign_rsp, len);
	rsp[1] = 0x01;
	assert_create_refused(rsp, len, "tag 0x8001");
	/* A trailing byte, the size field saying so. */
	memcpy(rsp, rec_create_sign_rsp, len);
	rsp[len] = 0;
	rsp[5]++;
	assert_create_refused(rsp, len + 1, "left over in the response");
	/* Every truncation, against either guard. */
	guarded_init(&g, len);
	for (size_t n = 0; n < len; n++)
		for (int end = 0; end < 2; end++)
			assert_create_refused(guarded_fill(&g, rec_create_sign_rsp, n, end), n,
					      NULL);
	guarded_free(&g);
	/* An error response: its code handed back. */
	static const uint8_t hierarchy_rsp[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x85,
	};
	assert_int_equal(parse_create(hierarchy_rsp, sizeof(hierarchy_rsp),
				      TPM2_TCB_KEY_SIGN, policy, &key, &rc), -1);
	assert_int_equal(rc, 0x185);
}

/* --- Certify --------------------------------------------------------------------- */

static void test_certify_replays(void **state)
{
	struct tpm2_tcb_key sign, agree;
	struct tpm2_tcb_certify c;
	uint8_t digest[HASH];
	struct tpm2_ak ak;
	uint32_t rc = 99;

	(void)state;
	assert_built(tpm2_build_create_ak(cmd, sizeof(cmd)), rec_create_ak_cmd);
	assert_int_equal(tpm2_parse_create_ak(rec_create_ak_rsp, sizeof(rec_create_ak_rsp),
					      &ak, err, sizeof(err)), 0);
	created(TPM2_TCB_KEY_SIGN, &sign);
	created(TPM2_TCB_KEY_AGREE, &agree);

	assert_built(tpm2_build_certify_tcb_key(cmd, sizeof(cmd), &sign, ak.handle, q_sign,
						sizeof(q_sign)),
		     rec_certify_sign_cmd);
	assert_int_equal(tpm2_parse_certify_tcb_key(rec_certify_sign_rsp,
						    sizeof(rec_certify_sign_rsp), &sign,
						    q_sign, sizeof(q_sign), &c, &rc, err,
						    sizeof(err)), 0);
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	assert_int_equal(c.attest_len, load_be16(rec_certify_sign_rsp + ATTEST_AT - 2));
	assert_memory_equal(c.attest, rec_certify_sign_rsp + ATTEST_AT, c.attest_len);
	crypto_sha384(c.attest, c.attest_len, digest);
	assert_int_equal(crypto_ecdsa_p384_verify(ak.pub, digest, HASH, c.sig), CRYPTO_OK);
	c.sig[5] ^= 1;
	assert_int_not_equal(crypto_ecdsa_p384_verify(ak.pub, digest, HASH, c.sig),
			     CRYPTO_OK);

	assert_built(tpm2_build_certify_tcb_key(cmd, sizeof(cmd), &agree, ak.handle, q_agree,
						sizeof(q_agree)),
		     rec_certify_agree_cmd);
	assert_int_equal(tpm2_parse_certify_tcb_key(rec_certify_agree_rsp,
						    sizeof(rec_certify_agree_rsp), &agree,
						    q_agree, sizeof(q_agree), &c, NULL, err,
						    sizeof(err)), 0);
	crypto_sha384(c.attest, c.attest_len, digest);
	assert_int_equal(crypto_ecdsa_p384_verify(ak.pub, digest, HASH, c.sig), CRYPTO_OK);
	/* The verifier's check alone, with the Name from the point. */
	assert_int_equal(tpm2_check_certify_attest(c.attest, c.attest_len, agree.name,
						   q_agree, sizeof(q_agree), err,
						   sizeof(err)), 0);
	/* One key's certification is not the other's. */
	assert_int_equal(tpm2_check_certify_attest(c.attest, c.attest_len, sign.name,
						   q_agree, sizeof(q_agree), err,
						   sizeof(err)), -1);
	assert_string_equal(err, "Certify response: attest.certify.name is not the key's");
}

static void test_certify_builder_limits(void **state)
{
	struct tpm2_tcb_key sign;
	static const uint8_t q[TPM2_TCB_QUALIFYING_MAX + 1];
	size_t len;

	(void)state;
	created(TPM2_TCB_KEY_SIGN, &sign);
	assert_int_equal(tpm2_build_certify_tcb_key(cmd, sizeof(cmd), &sign, 0x80000000, q,
						    sizeof(q)), 0);
	assert_int_equal(tpm2_build_certify_tcb_key(cmd, sizeof(cmd), &sign, 0x80000000,
						    NULL, 1), 0);
	assert_int_equal(tpm2_build_certify_tcb_key(cmd, sizeof(rec_certify_sign_cmd) - 1,
						    &sign, 0x80000000, q_sign,
						    sizeof(q_sign)), 0);
	len = tpm2_build_certify_tcb_key(cmd, sizeof(cmd), &sign, 0x80000000, NULL, 0);
	assert_int_equal(len, sizeof(rec_certify_sign_cmd) - sizeof(q_sign));
	/* Two handles, two password sessions of 9 bytes, empty data, NULL scheme. */
	assert_int_equal(load_be32(cmd + 10), sign.handle);
	assert_int_equal(load_be32(cmd + 18), 18);
	assert_int_equal(load_be16(cmd + len - 4), 0);
	assert_int_equal(load_be16(cmd + len - 2), TPM2_ALG_NULL);
}

/* attest with byte at flipped by mask is refused with want in err. */
static void assert_attest_refused(const uint8_t *attest, size_t len, const uint8_t *name,
				  size_t at, uint8_t mask, const char *want)
{
	uint8_t a[TPM2_ATTEST_MAX];

	memcpy(a, attest, len);
	a[at] ^= mask;
	assert_int_equal(tpm2_check_certify_attest(a, len, name, q_sign, sizeof(q_sign), err,
						   sizeof(err)), -1);
	if (want)
		assert_non_null(strstr(err, want));
}

static void test_attest_refusals(void **state)
{
	const uint8_t *attest = rec_certify_sign_rsp + ATTEST_AT;
	const size_t len = load_be16(rec_certify_sign_rsp + ATTEST_AT - 2);
	/* magic, type, qualifiedSigner, extraData, clockInfo, firmwareVersion */
	const size_t names_at = 4 + 2 + 2 + NAME_LEN + 2 + sizeof(q_sign) + 17 + 8;
	struct tpm2_tcb_key sign;
	uint8_t a[TPM2_ATTEST_MAX + 1];
	struct guarded g;

	(void)state;
	created(TPM2_TCB_KEY_SIGN, &sign);
	assert_int_equal(len, names_at + 2 * (2 + NAME_LEN));
	assert_attest_refused(attest, len, sign.name, 0, 0x01,
			      "attest.magic 0xfe544347, expected 0xff544347");
	assert_attest_refused(attest, len, sign.name, 5, 0x01,
			      "attest.type 0x8016, expected 0x8017");
	assert_attest_refused(attest, len, sign.name, 9, 0x01,
			      "qualifiedSigner is not a SHA-384 name");
	assert_attest_refused(attest, len, sign.name, 4 + 2 + 2 + NAME_LEN + 2 + 47, 0x01,
			      "attest.extraData is not the qualifying data sent");
	assert_attest_refused(attest, len, sign.name, names_at + 2 + 20, 0x01,
			      "attest.certify.name is not the key's");
	assert_attest_refused(attest, len, sign.name, names_at + 2 + NAME_LEN + 2 + 47, 0x01,
			      "attest.certify.qualifiedName is not the key's");
	/* Every bit that is judged: all but the AK's Qualified Name's digest
	 * and the TPM's clock and firmware version. */
	for (size_t i = 0; i < len; i++) {
		if (i >= 10 && i < 10 + HASH)
			continue;
		if (i >= names_at - 25 && i < names_at)
			continue;
		for (int bit = 0; bit < 8; bit++)
			assert_attest_refused(attest, len, sign.name, i, (uint8_t)(1u << bit),
					      NULL);
	}
	/* Other qualifying data than the TPM's, shorter or none. */
	assert_int_equal(tpm2_check_certify_attest(attest, len, sign.name, q_agree,
						   sizeof(q_agree), err, sizeof(err)), -1);
	assert_non_null(strstr(err, "attest.extraData of 48 bytes (must be 16..16)"));
	assert_int_equal(tpm2_check_certify_attest(attest, len, sign.name, NULL, 0, err,
						   sizeof(err)), -1);
	assert_int_equal(tpm2_check_certify_attest(attest, len, sign.name, NULL, 1, err,
						   sizeof(err)), -1);
	/* A byte after it; every truncation. */
	memcpy(a, attest, len);
	a[len] = 0;
	assert_int_equal(tpm2_check_certify_attest(a, len + 1, sign.name, q_sign,
						   sizeof(q_sign), err, sizeof(err)), -1);
	assert_string_equal(err, "Certify response: 1 bytes left over in attest");
	guarded_init(&g, len);
	for (size_t n = 0; n < len; n++)
		for (int end = 0; end < 2; end++)
			assert_int_equal(tpm2_check_certify_attest(guarded_fill(&g, attest, n, end),
								   n, sign.name, q_sign,
								   sizeof(q_sign), err,
								   sizeof(err)), -1);
	guarded_free(&g);
}

static int parse_certify(const uint8_t *rsp, size_t len, const struct tpm2_tcb_key *key,
			 struct tpm2_tcb_certify *c, uint32_t *rc)
{
	return tpm2_parse_certify_tcb_key(rsp, len, key, q_sign, sizeof(q_sign), c, rc, err,
					  sizeof(err));
}

static void test_certify_refusals(void **state)
{
	const size_t len = sizeof(rec_certify_sign_rsp);
	uint8_t rsp[sizeof(rec_certify_sign_rsp) + 1];
	struct tpm2_tcb_certify c, before;
	struct tpm2_tcb_key sign;
	struct guarded g;
	uint32_t rc;

	(void)state;
	created(TPM2_TCB_KEY_SIGN, &sign);
	memset(&c, 0xa5, sizeof(c));
	before = c;
	/* The attest's magic, in the response. */
	memcpy(rsp, rec_certify_sign_rsp, len);
	rsp[ATTEST_AT] = 0x00;
	assert_int_equal(parse_certify(rsp, len, &sign, &c, &rc), -1);
	assert_non_null(strstr(err, "attest.magic 0x00544347"));
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	/* The signature's algorithm, hash, r's size. */
	const size_t sig_at = ATTEST_AT + load_be16(rec_certify_sign_rsp + ATTEST_AT - 2);

	memcpy(rsp, rec_certify_sign_rsp, len);
	rsp[sig_at + 1] = 0x14; /* TPM_ALG_RSASSA */
	assert_int_equal(parse_certify(rsp, len, &sign, &c, &rc), -1);
	assert_non_null(strstr(err, "signature.sigAlg 0x0014, expected 0x0018"));
	memcpy(rsp, rec_certify_sign_rsp, len);
	rsp[sig_at + 3] = 0x0b;
	assert_int_equal(parse_certify(rsp, len, &sign, &c, &rc), -1);
	assert_non_null(strstr(err, "signature.hash 0x000b, expected 0x000c"));
	memcpy(rsp, rec_certify_sign_rsp, len);
	rsp[sig_at + 5] = 49;
	assert_int_equal(parse_certify(rsp, len, &sign, &c, &rc), -1);
	assert_non_null(strstr(err, "signature.r of 49 bytes"));
	/* A second auth area that is not a password session's; one only. */
	memcpy(rsp, rec_certify_sign_rsp, len);
	rsp[len - 3] = 0x20;
	assert_int_equal(parse_certify(rsp, len, &sign, &c, &rc), -1);
	assert_non_null(strstr(err, "session attributes 0x20"));
	memcpy(rsp, rec_certify_sign_rsp, len - 5);
	store_be32(rsp + 2, (uint32_t)(len - 5));
	assert_int_equal(parse_certify(rsp, len - 5, &sign, &c, &rc), -1);
	assert_non_null(strstr(err, "truncated in nonceTPM.size"));
	/* Another key's Name. */
	sign.name[NAME_LEN - 1] ^= 1;
	assert_int_equal(parse_certify(rec_certify_sign_rsp, len, &sign, &c, &rc), -1);
	sign.name[NAME_LEN - 1] ^= 1;
	/* A wrong tag, a trailing byte, every truncation. */
	memcpy(rsp, rec_certify_sign_rsp, len);
	rsp[1] = 0x01;
	assert_int_equal(parse_certify(rsp, len, &sign, &c, &rc), -1);
	assert_int_equal(rc, TPM2_RC_MALFORMED);
	memcpy(rsp, rec_certify_sign_rsp, len);
	rsp[len] = 0;
	rsp[5]++;
	assert_int_equal(parse_certify(rsp, len + 1, &sign, &c, &rc), -1);
	assert_non_null(strstr(err, "left over in the response"));
	guarded_init(&g, len);
	for (size_t n = 0; n < len; n++)
		for (int end = 0; end < 2; end++)
			assert_int_equal(parse_certify(guarded_fill(&g, rec_certify_sign_rsp, n,
								    end), n, &sign, &c, &rc), -1);
	guarded_free(&g);
	assert_memory_equal(&c, &before, sizeof(c));
	/* The first Certify after start-up, as libtpms answers it. */
	static const uint8_t retry_rsp[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x09, 0x22,
	};
	assert_int_equal(parse_certify(retry_rsp, sizeof(retry_rsp), &sign, &c, &rc), -1);
	assert_int_equal(rc, 0x922);
	assert_string_equal(err, "Certify failed: TPM_RC_RETRY (0x922)");
}

/* --- Sign and ECDH_ZGen on the recorded policy session ------------------------------ */

struct replay {
	struct tpm2_tcb_key sign, agree;
	struct tpm2_salt_key salt;
	struct tpm2_session s;
	uint8_t pcr_digest[HASH], policy[HASH];
};

static void policy_pcr(struct replay *r, const uint8_t digest[HASH], const uint8_t *rec_cmd,
		       size_t cmd_len, const uint8_t *rec_rsp, size_t rsp_len,
		       uint32_t want_rc)
{
	uint32_t rc = 99;

	assert_int_equal(tpm2_build_policy_pcr(cmd, sizeof(cmd), r->s.handle, PCR_MASK,
					       digest), cmd_len);
	assert_memory_equal(cmd, rec_cmd, cmd_len);
	assert_int_equal(tpm2_parse_policy_pcr(rec_rsp, rsp_len, &rc, err, sizeof(err)),
			 want_rc == TPM2_RC_SUCCESS ? 0 : -1);
	assert_int_equal(rc, want_rc);
}

static void session_started(struct replay *r)
{
	uint8_t eph[TPM2_P384_LEN], n[HASH];

	memset(r, 0, sizeof(*r));
	policy_of_recording(r->pcr_digest, r->policy);
	created(TPM2_TCB_KEY_SIGN, &r->sign);
	created(TPM2_TCB_KEY_AGREE, &r->agree);
	assert_built(tpm2_build_create_salt_key(cmd, sizeof(cmd)), rec_create_salt_cmd);
	assert_int_equal(tpm2_parse_create_salt_key(rec_create_salt_rsp,
						    sizeof(rec_create_salt_rsp), &r->salt,
						    err, sizeof(err)), 0);
	memset(eph, 0x11, sizeof(eph));
	memset(n, 0x30, sizeof(n));
	assert_built(tpm2_build_start_session(cmd, sizeof(cmd), &r->s, &r->salt, eph, n,
					      TPM2_SE_POLICY),
		     rec_start_cmd);
	assert_int_equal(tpm2_parse_start_session(rec_start_rsp, sizeof(rec_start_rsp),
						  &r->s, err, sizeof(err)), 0);
}

static void sign_in_flight(struct replay *r)
{
	uint8_t n[HASH];

	session_started(r);
	policy_pcr(r, r->pcr_digest, rec_policy_sign_cmd, sizeof(rec_policy_sign_cmd),
		   rec_policy_sign_rsp, sizeof(rec_policy_sign_rsp), TPM2_RC_SUCCESS);
	memset(n, 0x31, sizeof(n));
	assert_built(tpm2_build_tcb_sign(cmd, sizeof(cmd), &r->s, &r->sign, rec_sign_digest,
					 n),
		     rec_sign_cmd);
}

static void signed_(struct replay *r)
{
	uint8_t sig[2 * HASH];
	uint32_t rc = 99;

	sign_in_flight(r);
	assert_int_equal(tpm2_parse_tcb_sign(rec_sign_rsp, sizeof(rec_sign_rsp), &r->s, sig,
					     &rc, err, sizeof(err)), 0);
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	assert_int_equal(crypto_ecdsa_p384_verify(r->sign.pub, rec_sign_digest, HASH, sig),
			 CRYPTO_OK);
	/* The AK did not make it: another key's signature. */
	assert_int_not_equal(crypto_ecdsa_p384_verify(r->agree.pub, rec_sign_digest, HASH,
						      sig), CRYPTO_OK);
}

static void zgen_in_flight(struct replay *r, uint8_t point[TPM2_P384_POINT_LEN])
{
	uint8_t eph[TPM2_P384_LEN], n[HASH];

	signed_(r);
	memset(eph, 0x21, sizeof(eph));
	assert_int_equal(crypto_p384_public(eph, point), CRYPTO_OK);
	policy_pcr(r, r->pcr_digest, rec_policy_zgen_cmd, sizeof(rec_policy_zgen_cmd),
		   rec_policy_zgen_rsp, sizeof(rec_policy_zgen_rsp), TPM2_RC_SUCCESS);
	memset(n, 0x32, sizeof(n));
	assert_built(tpm2_build_tcb_ecdh_zgen(cmd, sizeof(cmd), &r->s, &r->agree, point, n),
		     rec_zgen_cmd);
}

static void test_sign_and_zgen_replay(void **state)
{
	uint8_t point[TPM2_P384_POINT_LEN], eph[TPM2_P384_LEN], z[HASH], want[HASH];
	uint8_t digest[HASH], policy[HASH], pcrs[PCR_COUNT][HASH], n[HASH], sig[2 * HASH];
	struct replay r;
	uint32_t rc = 99;

	(void)state;
	zgen_in_flight(&r, point);
	assert_int_equal(tpm2_parse_tcb_ecdh_zgen(rec_zgen_rsp, sizeof(rec_zgen_rsp), &r.s, z,
						  &rc, err, sizeof(err)), 0);
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	memset(eph, 0x21, sizeof(eph));
	assert_int_equal(crypto_ecdh_p384(eph, r.agree.pub, want), CRYPTO_OK);
	assert_memory_equal(z, want, HASH);
	/* The shared secret never crossed the bus in the clear. */
	assert_null(memmem(rec_zgen_rsp, sizeof(rec_zgen_rsp), z, 8));

	/* The recorded refusals. Sign with the empty password: no
	 * userWithAuth. */
	assert_int_equal(tpm2_response_header(rec_sign_pw_rsp, sizeof(rec_sign_pw_rsp),
					      TPM2_ST_SESSIONS, &rc, err, sizeof(err)), 0);
	assert_int_equal(rc, TPM2_RC_AUTH_UNAVAILABLE);
	assert_string_equal(tpm2_rc_name(rc), "TPM_RC_AUTH_UNAVAILABLE (0x12f)");
	/* PCR 9 changed: the old PCR digest, then Sign under today's. */
	memset(digest, 0x99, sizeof(digest));
	assert_built(tpm2_build_pcr_extend_sha384(cmd, sizeof(cmd), 9, digest),
		     rec_extend9_cmd);
	policy_pcr(&r, r.pcr_digest, rec_policy_stale_cmd, sizeof(rec_policy_stale_cmd),
		   rec_policy_stale_rsp, sizeof(rec_policy_stale_rsp), 0x1c4);
	memcpy(pcrs, rec_pcr_values, sizeof(pcrs));
	memcpy(pcrs[9], rec_pcr9_after, HASH);
	assert_int_equal(tpm2_policy_pcr_digest(PCR_MASK, (const uint8_t (*)[HASH])pcrs,
						PCR_COUNT, digest, policy), 0);
	assert_memory_not_equal(policy, r.policy, HASH);
	policy_pcr(&r, digest, rec_policy_now_cmd, sizeof(rec_policy_now_cmd),
		   rec_policy_now_rsp, sizeof(rec_policy_now_rsp), TPM2_RC_SUCCESS);
	memset(digest, 0x5a, sizeof(digest));
	memset(n, 0x33, sizeof(n));
	assert_built(tpm2_build_tcb_sign(cmd, sizeof(cmd), &r.s, &r.sign, digest, n),
		     rec_sign_refused_cmd);
	memset(sig, 0xee, sizeof(sig));
	assert_int_equal(tpm2_parse_tcb_sign(rec_sign_refused_rsp,
					     sizeof(rec_sign_refused_rsp), &r.s, sig, &rc,
					     err, sizeof(err)), -1);
	assert_int_equal(rc, 0x99d);
	assert_true(tpm2_rc_is_policy_mismatch(rc));
	assert_string_equal(err, "Sign failed: TPM_RC_POLICY_FAIL (0x99d, session 1)");
	assert_int_equal(sig[0], 0xee);
	tpm2_session_forget(&r.s);
}

/* Another key under the signing key's handle: another cpHash, an HMAC the
 * TPM would refuse. */
static void test_sign_names_the_key(void **state)
{
	struct replay r;
	uint8_t n[HASH];
	size_t len;

	(void)state;
	session_started(&r);
	policy_pcr(&r, r.pcr_digest, rec_policy_sign_cmd, sizeof(rec_policy_sign_cmd),
		   rec_policy_sign_rsp, sizeof(rec_policy_sign_rsp), TPM2_RC_SUCCESS);
	r.sign.name[NAME_LEN - 1] ^= 1;
	memset(n, 0x31, sizeof(n));
	len = tpm2_build_tcb_sign(cmd, sizeof(cmd), &r.s, &r.sign, rec_sign_digest, n);
	assert_int_equal(len, sizeof(rec_sign_cmd));
	/* The same bytes but the HMAC (before the 62 bytes of parameters). */
	assert_memory_equal(cmd, rec_sign_cmd, len - 62 - HASH);
	assert_memory_not_equal(cmd + len - 62 - HASH, rec_sign_cmd + len - 62 - HASH, HASH);
	assert_memory_equal(cmd + len - 62, rec_sign_cmd + len - 62, 62);
}

static void test_session_builder_limits(void **state)
{
	uint8_t point[TPM2_P384_POINT_LEN], n[HASH];
	struct replay r;

	(void)state;
	session_started(&r);
	memset(n, 0x31, sizeof(n));
	memcpy(point, r.agree.pub, sizeof(point));
	/* Each key for its own use only. */
	assert_int_equal(tpm2_build_tcb_sign(cmd, sizeof(cmd), &r.s, &r.agree,
					     rec_sign_digest, n), 0);
	assert_int_equal(tpm2_build_tcb_ecdh_zgen(cmd, sizeof(cmd), &r.s, &r.sign, point, n),
			 0);
	/* A point that is not uncompressed; no room. */
	point[0] = 0x02;
	assert_int_equal(tpm2_build_tcb_ecdh_zgen(cmd, sizeof(cmd), &r.s, &r.agree, point, n),
			 0);
	point[0] = 0x04;
	assert_int_equal(tpm2_build_tcb_ecdh_zgen(cmd, sizeof(rec_zgen_cmd) - 1, &r.s,
						  &r.agree, point, n), 0);
	assert_int_equal(tpm2_build_tcb_sign(cmd, sizeof(rec_sign_cmd) - 1, &r.s, &r.sign,
					     rec_sign_digest, n), 0);
	/* Only a policy session can authorise the keys. */
	r.s.type = TPM2_SE_HMAC;
	assert_int_equal(tpm2_build_tcb_sign(cmd, sizeof(cmd), &r.s, &r.sign,
					     rec_sign_digest, n), 0);
	assert_int_equal(tpm2_build_tcb_ecdh_zgen(cmd, sizeof(cmd), &r.s, &r.agree, point, n),
			 0);
	r.s.type = TPM2_SE_POLICY;
	/* One command in flight at a time. */
	assert_true(tpm2_build_tcb_sign(cmd, sizeof(cmd), &r.s, &r.sign, rec_sign_digest,
					n) > 0);
	assert_int_equal(tpm2_build_tcb_ecdh_zgen(cmd, sizeof(cmd), &r.s, &r.agree, point, n),
			 0);
	/* A response to what is not in flight. */
	uint8_t z[HASH];
	uint32_t rc = 0;

	assert_int_equal(tpm2_parse_tcb_ecdh_zgen(rec_zgen_rsp, sizeof(rec_zgen_rsp), &r.s, z,
						  &rc, err, sizeof(err)), -1);
	assert_string_equal(err, "ECDH_ZGen: none in flight on the session");
	assert_int_equal(rc, TPM2_RC_MALFORMED);
}

/* Every bit of a session's response is refused, the nonce unmoved and the
 * output untouched; so is every truncation and a trailing byte. */
static void assert_session_rsp_refused(const struct tpm2_session *base, const uint8_t *rec,
				       size_t len, bool zgen)
{
	uint8_t rsp[TPM2_BUFFER_MAX], out[2 * HASH], before[2 * HASH];
	struct tpm2_session s;
	struct guarded g;
	uint32_t rc;
	int ret;

	memset(before, 0xee, sizeof(before));
	memset(out, 0xee, sizeof(out));
	for (size_t i = 0; i <= 2 * len; i++) {
		memcpy(rsp, rec, len);
		size_t n = len;

		if (i < len) {
			rsp[i] ^= 0x01;       /* one bit in each byte ... */
		} else if (i < 2 * len) {
			rsp[i - len] ^= 0x80; /* ... and another */
		} else {
			rsp[len] = 0;         /* a trailing byte */
			rsp[5]++;
			n = len + 1;
		}
		s = *base;
		ret = zgen ? tpm2_parse_tcb_ecdh_zgen(rsp, n, &s, out, &rc, err, sizeof(err)) :
			     tpm2_parse_tcb_sign(rsp, n, &s, out, &rc, err, sizeof(err));
		assert_int_equal(ret, -1);
		assert_true(err[0] != '\0');
		assert_memory_equal(s.nonce_tpm, base->nonce_tpm, HASH);
		assert_memory_equal(out, before, sizeof(out));
	}
	guarded_init(&g, len);
	for (size_t n = 0; n < len; n++) {
		for (int end = 0; end < 2; end++) {
			const uint8_t *p = guarded_fill(&g, rec, n, end);

			s = *base;
			ret = zgen ? tpm2_parse_tcb_ecdh_zgen(p, n, &s, out, &rc, err,
							      sizeof(err)) :
				     tpm2_parse_tcb_sign(p, n, &s, out, &rc, err, sizeof(err));
			assert_int_equal(ret, -1);
		}
	}
	guarded_free(&g);
	assert_memory_equal(out, before, sizeof(out));
}

static void test_session_refusals(void **state)
{
	uint8_t point[TPM2_P384_POINT_LEN], rsp[sizeof(rec_sign_rsp)], sig[2 * HASH];
	struct replay r;
	struct tpm2_session s;
	uint32_t rc;

	(void)state;
	sign_in_flight(&r);
	assert_session_rsp_refused(&r.s, rec_sign_rsp, sizeof(rec_sign_rsp), false);
	/* The response HMAC's last byte. */
	memcpy(rsp, rec_sign_rsp, sizeof(rsp));
	rsp[sizeof(rsp) - 1] ^= 1;
	s = r.s;
	assert_int_equal(tpm2_parse_tcb_sign(rsp, sizeof(rsp), &s, sig, &rc, err,
					     sizeof(err)), -1);
	assert_string_equal(err, "Sign response HMAC does not verify: altered on the bus?");
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	/* A byte of the signature. */
	memcpy(rsp, rec_sign_rsp, sizeof(rsp));
	rsp[30] ^= 1;
	s = r.s;
	assert_int_equal(tpm2_parse_tcb_sign(rsp, sizeof(rsp), &s, sig, &rc, err,
					     sizeof(err)), -1);
	assert_string_equal(err, "Sign response HMAC does not verify: altered on the bus?");

	zgen_in_flight(&r, point);
	assert_session_rsp_refused(&r.s, rec_zgen_rsp, sizeof(rec_zgen_rsp), true);
}

/* A response the session's key authenticates, with other parameters: what
 * a TPM that answered wrongly (not an interposer: it has no key) would
 * send. With encrypt, the first parameter's contents are encrypted as the
 * TPM would. */
static size_t forge(const struct tpm2_session *s, const uint8_t *params, size_t len,
		    uint8_t *rsp)
{
	uint8_t in[3 * HASH + 1], be[8], *p = rsp, *at, k[32];
	struct crypto_sha384_ctx c;

	p = store_be16(p, TPM2_ST_SESSIONS);
	p = store_be32(p, (uint32_t)(TPM2_HEADER_LEN + 4 + len + 2 * (2 + HASH) + 1));
	p = store_be32(p, TPM2_RC_SUCCESS);
	p = store_be32(p, (uint32_t)len);
	at = p;
	memcpy(p, params, len);
	p += len;
	memset(in + HASH, 0x77, HASH); /* the new nonceTPM */
	if (s->attrs & TPM2_SA_ENCRYPT) {
		size_t size = load_be16(at);

		assert_true(size <= len - 2);
		assert_int_equal(tpm2_kdfa_sha384(s->key, HASH, "CFB", in + HASH, HASH,
						  s->nonce_caller, HASH, k, sizeof(k)), 0);
		assert_int_equal(crypto_aes_cfb(true, k, 16, k + 16, at + 2, size),
				 CRYPTO_OK);
	}
	/* rpHash || nonceTPM || nonceCaller || attributes */
	store_be32(be, TPM2_RC_SUCCESS);
	store_be32(be + 4, s->cc);
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, be, sizeof(be));
	crypto_sha384_update(&c, at, len);
	crypto_sha384_final(&c, in);
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

/* A signature's parameters: sigAlg, hash, r of r_len bytes, s of 48. */
static size_t sig_params(uint8_t *p, uint16_t alg, uint16_t r_len)
{
	uint8_t *q = store_be16(store_be16(p, alg), TPM2_ALG_SHA384);

	q = store_be16(q, r_len);
	memset(q, 0x01, r_len);
	q = store_be16(q + r_len, HASH);
	memset(q, 0x02, HASH);
	return (size_t)(q + HASH - p);
}

static void test_sign_under_a_valid_hmac(void **state)
{
	uint8_t params[256], rsp[TPM2_BUFFER_MAX], sig[2 * HASH];
	struct tpm2_session s;
	struct replay r;
	size_t len, n;
	uint32_t rc;

	(void)state;
	sign_in_flight(&r);
	/* The forgery holds with well-formed parameters: a short r is
	 * left-padded. */
	n = sig_params(params, TPM2_ALG_ECDSA, 47);
	s = r.s;
	len = forge(&s, params, n, rsp);
	assert_int_equal(tpm2_parse_tcb_sign(rsp, len, &s, sig, &rc, err, sizeof(err)), 0);
	assert_int_equal(sig[0], 0);
	assert_int_equal(sig[1], 0x01);
	assert_int_equal(sig[HASH], 0x02);
	/* r of 49 bytes, of none; another algorithm; a byte after s. */
	n = sig_params(params, TPM2_ALG_ECDSA, 49);
	s = r.s;
	len = forge(&s, params, n, rsp);
	memset(sig, 0xee, sizeof(sig));
	assert_int_equal(tpm2_parse_tcb_sign(rsp, len, &s, sig, &rc, err, sizeof(err)), -1);
	assert_string_equal(err, "Sign response: signature.r of 49 bytes (must be 1..48)");
	assert_int_equal(sig[0], 0xee);
	n = sig_params(params, TPM2_ALG_ECDSA, 0);
	s = r.s;
	len = forge(&s, params, n, rsp);
	assert_int_equal(tpm2_parse_tcb_sign(rsp, len, &s, sig, &rc, err, sizeof(err)), -1);
	n = sig_params(params, 0x001a /* ECSCHNORR */, 48);
	s = r.s;
	len = forge(&s, params, n, rsp);
	assert_int_equal(tpm2_parse_tcb_sign(rsp, len, &s, sig, &rc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "signature.sigAlg 0x001a, expected 0x0018"));
	n = sig_params(params, TPM2_ALG_ECDSA, 48);
	params[n++] = 0;
	s = r.s;
	len = forge(&s, params, n, rsp);
	assert_int_equal(tpm2_parse_tcb_sign(rsp, len, &s, sig, &rc, err, sizeof(err)), -1);
	assert_string_equal(err, "Sign response: 1 bytes left over in parameters");
	assert_int_equal(sig[0], 0xee);
}

/* outPoint (a TPM2B_ECC_POINT) with coordinates of x_len and y_len
 * bytes, and extra bytes after them inside it. */
static size_t point_params(uint8_t *p, uint16_t x_len, uint16_t y_len, size_t extra)
{
	uint8_t *q = store_be16(p, (uint16_t)(2 + x_len + 2 + y_len + extra));

	q = store_be16(q, x_len);
	memset(q, 0x03, x_len);
	q = store_be16(q + x_len, y_len);
	memset(q, 0x04, y_len + extra);
	return (size_t)(q + y_len + extra - p);
}

static void test_zgen_under_a_valid_hmac(void **state)
{
	uint8_t point[TPM2_P384_POINT_LEN], params[256], rsp[TPM2_BUFFER_MAX], z[HASH];
	struct tpm2_session s;
	struct replay r;
	size_t len, n;
	uint32_t rc;

	(void)state;
	zgen_in_flight(&r, point);
	/* The forgery holds with well-formed parameters; a short x is
	 * left-padded. */
	n = point_params(params, 46, 48, 0);
	s = r.s;
	len = forge(&s, params, n, rsp);
	assert_int_equal(tpm2_parse_tcb_ecdh_zgen(rsp, len, &s, z, &rc, err, sizeof(err)), 0);
	assert_int_equal(z[1], 0);
	assert_int_equal(z[2], 0x03);
	/* x of 49 bytes, y of none, a byte after y inside the point, a byte
	 * after the point: each refused, z untouched. */
	static const struct {
		uint16_t x, y;
		size_t extra;
		const char *want;
	} bad[] = {
		{ 49, 47, 0, "outPoint.x of 49 bytes (must be 1..48)" },
		{ 48, 0, 0, "outPoint.y of 0 bytes (must be 1..48)" },
		{ 48, 47, 1, "ECDH_ZGen response: 1 bytes left over in outPoint" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = point_params(params, bad[i].x, bad[i].y, bad[i].extra);
		s = r.s;
		len = forge(&s, params, n, rsp);
		memset(z, 0xee, sizeof(z));
		assert_int_equal(tpm2_parse_tcb_ecdh_zgen(rsp, len, &s, z, &rc, err,
							  sizeof(err)), -1);
		assert_non_null(strstr(err, bad[i].want));
		assert_int_equal(z[0], 0xee);
		assert_int_equal(z[HASH - 1], 0xee);
	}
	n = point_params(params, 48, 48, 0);
	params[n++] = 0;
	s = r.s;
	len = forge(&s, params, n, rsp);
	assert_int_equal(tpm2_parse_tcb_ecdh_zgen(rsp, len, &s, z, &rc, err, sizeof(err)), -1);
	assert_string_equal(err, "ECDH_ZGen response: 1 bytes left over in parameters");
	/* A point larger than P-384's. */
	n = point_params(params, 48, 48, 1);
	s = r.s;
	len = forge(&s, params, n, rsp);
	assert_int_equal(tpm2_parse_tcb_ecdh_zgen(rsp, len, &s, z, &rc, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "outPoint of 101 bytes (must be 6..100)"));
	assert_int_equal(z[0], 0xee);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_template_bytes),
		cmocka_unit_test(test_create_replays),
		cmocka_unit_test(test_create_refusals),
		cmocka_unit_test(test_certify_replays),
		cmocka_unit_test(test_certify_builder_limits),
		cmocka_unit_test(test_attest_refusals),
		cmocka_unit_test(test_certify_refusals),
		cmocka_unit_test(test_sign_and_zgen_replay),
		cmocka_unit_test(test_sign_names_the_key),
		cmocka_unit_test(test_session_builder_limits),
		cmocka_unit_test(test_session_refusals),
		cmocka_unit_test(test_sign_under_a_valid_hmac),
		cmocka_unit_test(test_zgen_under_a_valid_hmac),
	};

	if (crypto_init() != CRYPTO_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
