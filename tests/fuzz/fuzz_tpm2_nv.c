/*
 * libFuzzer target for the NV index's response parsers (tcb/tpm2_nv.c):
 * the whole input, from an odd address in a heap block of exactly its
 * length, as the answer to NV_ReadPublic, NV_DefineSpace, PolicyPCR, and
 * NV_Write and NV_Read on the policy session recorded with swtpm
 * (tests/unit/tpm2_nv_swtpm.h), so that the seeds, which verify, lead the
 * fuzzer past the HMAC. A refusal says why, hands back a response code
 * that is success, "malformed" or that of a 10-byte error response, and
 * leaves the caller's outputs as they were; the session's nonceTPM moves
 * only with a response whose HMAC verified; an acceptance holds what it
 * promises (the Name of the area returned, a verified HMAC, exactly the
 * bytes asked).
 *
 * Seeds (tests/fuzz/corpus/tpm2_nv/): the recorded responses.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/tpm2_nv.h"
#include "tests/unit/tpm2_nv_swtpm.h"
#include "fuzz_util.h"

#define HASH     TPM2_SESSION_HASH_LEN
#define NV_INDEX 0x01004353
#define PCR_MASK 0x3ffu
#define DATA_LEN 192
#define DATA_AT  192

static uint8_t cmd[TPM2_BUFFER_MAX];
static struct tpm2_nv_public defined, written;
/* The recorded session with NV_Write, then NV_Read, in flight. */
static struct tpm2_session write_flight, read_flight;

static void set_up(void)
{
	uint8_t eph[TPM2_P384_LEN], n[HASH], digest[HASH];
	struct tpm2_salt_key key;
	struct tpm2_session s;

	require(crypto_init() == CRYPTO_OK);
	require(tpm2_parse_create_salt_key(rec_create_salt_rsp, sizeof(rec_create_salt_rsp),
					   &key, NULL, 0) == 0);
	memset(eph, 0x11, sizeof(eph));
	memset(n, 0x30, sizeof(n));
	require(tpm2_build_start_session(cmd, sizeof(cmd), &s, &key, eph, n,
					 TPM2_SE_POLICY) > 0);
	require(tpm2_parse_start_session(rec_start_rsp, sizeof(rec_start_rsp), &s,
					 NULL, 0) == 0);
	defined = (struct tpm2_nv_public){ NV_INDEX, TPM2_NVA_POLICYWRITE |
					   TPM2_NVA_POLICYREAD | TPM2_NVA_NO_DA,
					   { 0 }, 1536 };
	require(tpm2_policy_pcr_digest(PCR_MASK,
				       (const uint8_t (*)[TPM2_SHA384_LEN])rec_pcr_values,
				       10, digest, defined.policy) == 0);
	memset(n, 0x31, sizeof(n));
	require(tpm2_build_nv_write_policy(cmd, sizeof(cmd), &s, &defined, rec_data,
					   DATA_LEN, DATA_AT, n) > 0);
	write_flight = s;
	require(tpm2_parse_nv_write_policy(rec_write_rsp, sizeof(rec_write_rsp), &s, NULL,
					   NULL, 0) == 0);
	written = defined;
	written.attributes |= TPM2_NVA_WRITTEN;
	memset(n, 0x32, sizeof(n));
	require(tpm2_build_nv_read_policy(cmd, sizeof(cmd), &s, &written, DATA_LEN,
					  DATA_AT, n) > 0);
	read_flight = s;
}

/* err says why exactly when rc says no; the response code is coherent. */
static void check(int ret, const char *err, size_t err_len, uint32_t rc, size_t size)
{
	require(ret == 0 || ret == -1);
	require(memchr(err, 0, err_len) != NULL);
	require(ret == 0 ? err[0] == '\0' : err[0] != '\0');
	require(ret == -1 || rc == TPM2_RC_SUCCESS);
	require(rc == TPM2_RC_SUCCESS || rc == TPM2_RC_MALFORMED || size == TPM2_HEADER_LEN);
}

static bool same_public(const struct tpm2_nv_public *a, const struct tpm2_nv_public *b)
{
	return a->index == b->index && a->attributes == b->attributes &&
	       a->size == b->size && memcmp(a->policy, b->policy, HASH) == 0;
}

static void read_public(const uint8_t *d, size_t size)
{
	struct tpm2_nv_public pub = { 0xa5a5a5a5, 0x5a5a5a5a, { 0xa5 }, 0xa5a5 };
	const struct tpm2_nv_public before = pub;
	uint8_t name[TPM2_NV_NAME_LEN];
	uint32_t rc = 12345;
	char err[200];
	int ret = tpm2_parse_nv_read_public_full(d, size, NV_INDEX, &pub, &rc, err,
						 sizeof(err));

	check(ret, err, sizeof(err), rc, size);
	if (ret != 0) {
		require(same_public(&pub, &before));
		return;
	}
	/* The Name the TPM gave, the response's last field, is the area's. */
	tpm2_nv_name(&pub, name);
	require(pub.index == NV_INDEX && size > sizeof(name) &&
		memcmp(d + size - sizeof(name), name, sizeof(name)) == 0);
}

static void define_space(const uint8_t *d, size_t size)
{
	uint32_t rc = 12345;
	char err[200];
	int ret = tpm2_parse_nv_define_space(d, size, &rc, err, sizeof(err));

	check(ret, err, sizeof(err), rc, size);
}

static void policy_pcr(const uint8_t *d, size_t size)
{
	uint32_t rc = 12345;
	char err[200];
	int ret = tpm2_parse_policy_pcr(d, size, &rc, err, sizeof(err));

	check(ret, err, sizeof(err), rc, size);
	require(ret != 0 || size == TPM2_HEADER_LEN);
}

static bool hmac_verifies(const struct tpm2_session *base, const uint8_t *d, size_t size)
{
	struct tpm2_session s = *base;
	const uint8_t *params;
	size_t len;

	return tpm2_session_parse(d, size, &s, 0, NULL, &params, &len, NULL, 0) == 0;
}

static void nv_write(const uint8_t *d, size_t size)
{
	struct tpm2_session s = write_flight;
	uint32_t rc = 12345;
	char err[200];
	int ret = tpm2_parse_nv_write_policy(d, size, &s, &rc, err, sizeof(err));

	check(ret, err, sizeof(err), rc, size);
	require(s.cc == 0);
	if (ret == 0)
		require(hmac_verifies(&write_flight, d, size));
	else if (memcmp(s.nonce_tpm, write_flight.nonce_tpm, HASH) != 0)
		require(hmac_verifies(&write_flight, d, size));
}

static void nv_read(const uint8_t *d, size_t size, size_t want)
{
	struct tpm2_session s = read_flight;
	uint8_t out[DATA_LEN + 1];
	uint32_t rc = 12345;
	char err[200];
	int ret;

	memset(out, 0xee, sizeof(out));
	ret = tpm2_parse_nv_read_policy(d, size, &s, out, want, &rc, err, sizeof(err));
	check(ret, err, sizeof(err), rc, size);
	require(out[want] == 0xee);
	if (ret == 0)
		return;
	for (size_t i = 0; i < want; i++)
		require(out[i] == 0xee);
	if (memcmp(s.nonce_tpm, read_flight.nonce_tpm, HASH) != 0)
		require(hmac_verifies(&read_flight, d, size));
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
	read_public(d, size);
	define_space(d, size);
	policy_pcr(d, size);
	nv_write(d, size);
	nv_read(d, size, DATA_LEN);
	nv_read(d, size, 1);
	free(block);
	return 0;
}
