/*
 * libFuzzer target for the TCB keys' response parsers (tcb/tpm2_tcb_key.c):
 * the whole input, from an odd address in a heap block of exactly its
 * length, as the answer to CreatePrimary of either key, to Certify, as a
 * TPMS_ATTEST on its own, and as the answer to Sign and to ECDH_ZGen on the
 * policy session recorded with swtpm (tests/unit/tpm2_tcb_key_swtpm.h), so
 * that the seeds, which verify, lead the fuzzer past the HMAC. A refusal
 * says why, hands back a response code that is success, "malformed" or
 * that of a 10-byte error response, and leaves the caller's outputs as
 * they were; the session's nonceTPM moves only with a response whose HMAC
 * verified; an acceptance holds what it promises (the key's Name is that
 * of the template with its point, the attest passes the verifier's check,
 * a verified HMAC).
 *
 * Seeds (tests/fuzz/corpus/tpm2_tcb_key/): the recorded responses.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/tpm2_tcb_key.h"
#include "tests/unit/tpm2_tcb_key_swtpm.h"
#include "fuzz_util.h"

#define HASH     TPM2_SESSION_HASH_LEN
#define PCR_MASK 0x3ffu

static const uint8_t q_sign[TPM2_TCB_QUALIFYING_MAX] = { [0] = 0x51, [47] = 0x52 };
static uint8_t cmd[TPM2_BUFFER_MAX], policy[HASH];
static struct tpm2_tcb_key sign_key, agree_key;
/* The recorded session with Sign, then ECDH_ZGen, in flight. */
static struct tpm2_session sign_flight, zgen_flight;

static void set_up_keys(void)
{
	uint8_t digest[HASH];

	require(crypto_init() == CRYPTO_OK);
	require(tpm2_policy_pcr_digest(PCR_MASK,
				       (const uint8_t (*)[TPM2_SHA384_LEN])rec_pcr_values,
				       10, digest, policy) == 0);
	require(tpm2_parse_create_tcb_key(rec_create_sign_again_rsp,
					  sizeof(rec_create_sign_again_rsp),
					  TPM2_TCB_KEY_SIGN, policy, &sign_key, NULL, NULL,
					  0) == 0);
	require(tpm2_parse_create_tcb_key(rec_create_agree_again_rsp,
					  sizeof(rec_create_agree_again_rsp),
					  TPM2_TCB_KEY_AGREE, policy, &agree_key, NULL, NULL,
					  0) == 0);
}

static void set_up(void)
{
	uint8_t eph[TPM2_P384_LEN], n[HASH], point[TPM2_P384_POINT_LEN], sig[2 * HASH];
	struct tpm2_salt_key salt;
	struct tpm2_session s;

	set_up_keys();
	require(tpm2_parse_create_salt_key(rec_create_salt_rsp, sizeof(rec_create_salt_rsp),
					   &salt, NULL, 0) == 0);
	memset(eph, 0x11, sizeof(eph));
	memset(n, 0x30, sizeof(n));
	require(tpm2_build_start_session(cmd, sizeof(cmd), &s, &salt, eph, n,
					 TPM2_SE_POLICY) > 0);
	require(tpm2_parse_start_session(rec_start_rsp, sizeof(rec_start_rsp), &s,
					 NULL, 0) == 0);
	memset(n, 0x31, sizeof(n));
	require(tpm2_build_tcb_sign(cmd, sizeof(cmd), &s, &sign_key, rec_sign_digest, n) > 0);
	sign_flight = s;
	require(tpm2_parse_tcb_sign(rec_sign_rsp, sizeof(rec_sign_rsp), &s, sig, NULL, NULL,
				    0) == 0);
	memset(eph, 0x21, sizeof(eph));
	require(crypto_p384_public(eph, point) == CRYPTO_OK);
	memset(n, 0x32, sizeof(n));
	require(tpm2_build_tcb_ecdh_zgen(cmd, sizeof(cmd), &s, &agree_key, point, n) > 0);
	zgen_flight = s;
}

/* err says why exactly when ret says no; the response code is coherent. */
static void check(int ret, const char *err, size_t err_len, uint32_t rc, size_t size)
{
	require(ret == 0 || ret == -1);
	require(memchr(err, 0, err_len) != NULL);
	require(ret == 0 ? err[0] == '\0' : err[0] != '\0');
	require(ret == -1 || rc == TPM2_RC_SUCCESS);
	require(rc == TPM2_RC_SUCCESS || rc == TPM2_RC_MALFORMED || size == TPM2_HEADER_LEN);
}

static void create(const uint8_t *d, size_t size, enum tpm2_tcb_key_kind kind)
{
	struct tpm2_tcb_key key, before;
	uint8_t name[TPM2_TCB_KEY_NAME_LEN];
	uint32_t rc = 12345;
	char err[200];
	int ret;

	memset(&key, 0xa5, sizeof(key));
	before = key;
	ret = tpm2_parse_create_tcb_key(d, size, kind, policy, &key, &rc, err, sizeof(err));
	check(ret, err, sizeof(err), rc, size);
	if (ret != 0) {
		require(memcmp(&key, &before, sizeof(key)) == 0);
		return;
	}
	/* The Name is the template's with the point: a verifier's. */
	tpm2_tcb_key_name(kind, policy, key.pub, name);
	require(key.kind == kind && key.handle >> 24 == 0x80 &&
		memcmp(name, key.name, sizeof(name)) == 0);
}

static void certify(const uint8_t *d, size_t size)
{
	struct tpm2_tcb_certify c, before;
	uint32_t rc = 12345;
	char err[200];
	int ret;

	memset(&c, 0xa5, sizeof(c));
	before = c;
	ret = tpm2_parse_certify_tcb_key(d, size, &sign_key, q_sign, sizeof(q_sign), &c, &rc,
					 err, sizeof(err));
	check(ret, err, sizeof(err), rc, size);
	if (ret != 0) {
		require(memcmp(&c, &before, sizeof(c)) == 0);
		return;
	}
	require(c.attest_len >= 1 && c.attest_len <= TPM2_ATTEST_MAX);
	require(tpm2_check_certify_attest(c.attest, c.attest_len, sign_key.name, q_sign,
					  sizeof(q_sign), err, sizeof(err)) == 0);
}

static void attest(const uint8_t *d, size_t size)
{
	char err[200];
	int ret = tpm2_check_certify_attest(d, size, sign_key.name, q_sign, sizeof(q_sign),
					    err, sizeof(err));

	check(ret, err, sizeof(err), TPM2_RC_SUCCESS, size);
}

static bool hmac_verifies(const struct tpm2_session *base, const uint8_t *d, size_t size)
{
	struct tpm2_session s = *base;
	const uint8_t *params;
	size_t len;

	return tpm2_session_parse(d, size, &s, 0, NULL, &params, &len, NULL, 0) == 0;
}

/* Sign (zgen false) or ECDH_ZGen: out untouched on a refusal, the nonce
 * moved only by a verified HMAC. */
static void on_session(const uint8_t *d, size_t size, bool zgen)
{
	const struct tpm2_session *base = zgen ? &zgen_flight : &sign_flight;
	struct tpm2_session s = *base;
	uint8_t out[2 * HASH + 1];
	uint32_t rc = 12345;
	char err[200];
	int ret;

	memset(out, 0xee, sizeof(out));
	ret = zgen ? tpm2_parse_tcb_ecdh_zgen(d, size, &s, out, &rc, err, sizeof(err)) :
		     tpm2_parse_tcb_sign(d, size, &s, out, &rc, err, sizeof(err));
	check(ret, err, sizeof(err), rc, size);
	require(s.cc == 0);
	require(out[zgen ? HASH : 2 * HASH] == 0xee);
	if (ret == 0) {
		require(hmac_verifies(base, d, size));
		return;
	}
	for (size_t i = 0; i < sizeof(out); i++)
		require(out[i] == 0xee);
	if (memcmp(s.nonce_tpm, base->nonce_tpm, HASH) != 0)
		require(hmac_verifies(base, d, size));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	uint8_t *block = malloc(size + 1);
	const uint8_t *d = block + 1; /* odd: no alignment to lean on */

	if (!ready) {
		set_up();
		ready = 1;
	}
	require(block != NULL);
	memcpy(block + 1, data, size);
	/* ASan sees the block's end at size + 1: an overread faults. */
	create(d, size, TPM2_TCB_KEY_SIGN);
	create(d, size, TPM2_TCB_KEY_AGREE);
	certify(d, size);
	attest(d, size);
	on_session(d, size, false);
	on_session(d, size, true);
	free(block);
	return 0;
}
