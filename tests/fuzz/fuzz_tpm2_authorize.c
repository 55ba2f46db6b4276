/*
 * libFuzzer target for the PolicyAuthorize response parsers
 * (tcb/tpm2_authorize.c): the whole input, from an odd address in a heap
 * block of exactly its length, as the answer to LoadExternal of the
 * recorded CA key, VerifySignature, PolicyAuthorize and PolicyGetDigest. A
 * refusal says why, hands back a response code that is success,
 * "malformed" or that of a 10-byte error response, and leaves the caller's
 * outputs as they were; an acceptance holds what it promises (a transient
 * handle and the Name of the key asked about, an owner ticket with a
 * digest of 1..64 bytes equal to the response's, a 48-byte policy digest,
 * exactly the length each shape has).
 *
 * Seeds (tests/fuzz/corpus/tpm2_authorize/): the responses recorded with
 * swtpm (tests/unit/tpm2_authorize_swtpm.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/tpm2_authorize.h"
#include "fuzz_util.h"

#define HASH TPM2_SHA384_LEN

static uint8_t point[TPM2_P384_POINT_LEN], name[TPM2_SIGNER_NAME_LEN];

static void set_up(void)
{
	uint8_t priv[CRYPTO_P384_PRIV_LEN];

	require(crypto_init() == CRYPTO_OK);
	memset(priv, 0x2a, sizeof(priv));
	require(crypto_p384_public(priv, point) == CRYPTO_OK);
	require(tpm2_signer_name(point, name) == 0);
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

static bool all(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void load(const uint8_t *d, size_t size)
{
	struct tpm2_signer s;
	uint32_t rc = 12345;
	char err[200];
	int ret;

	memset(&s, 0xa5, sizeof(s));
	ret = tpm2_parse_load_external_signer(d, size, point, &s, &rc, err, sizeof(err));
	check(ret, err, sizeof(err), rc, size);
	if (ret != 0) {
		require(all((const uint8_t *)&s, sizeof(s), 0xa5));
		return;
	}
	/* handle, then the Name as the last field. */
	require(size == TPM2_HEADER_LEN + 4 + 2 + sizeof(name));
	require(s.handle >> 24 == 0x80 && memcmp(s.name, name, sizeof(name)) == 0);
	require(memcmp(d + size - sizeof(name), name, sizeof(name)) == 0);
}

static void verify(const uint8_t *d, size_t size)
{
	struct tpm2_ticket t;
	uint32_t rc = 12345;
	char err[200];
	int ret;

	memset(&t, 0xa5, sizeof(t));
	ret = tpm2_parse_verify_signature(d, size, &t, &rc, err, sizeof(err));
	check(ret, err, sizeof(err), rc, size);
	if (ret != 0) {
		require(all((const uint8_t *)&t, sizeof(t), 0xa5));
		return;
	}
	require(t.hierarchy == TPM2_RH_OWNER);
	require(t.digest_len >= 1 && t.digest_len <= TPM2_DIGEST_MAX);
	require(size == TPM2_HEADER_LEN + 2 + 4 + 2 + t.digest_len);
	require(memcmp(d + size - t.digest_len, t.digest, t.digest_len) == 0);
}

static void authorize(const uint8_t *d, size_t size)
{
	uint32_t rc = 12345;
	char err[200];
	int ret = tpm2_parse_policy_authorize(d, size, &rc, err, sizeof(err));

	check(ret, err, sizeof(err), rc, size);
	require(ret != 0 || size == TPM2_HEADER_LEN);
}

static void get_digest(const uint8_t *d, size_t size)
{
	uint8_t out[HASH + 1];
	uint32_t rc = 12345;
	char err[200];
	int ret;

	memset(out, 0xa5, sizeof(out));
	ret = tpm2_parse_policy_get_digest(d, size, out, &rc, err, sizeof(err));
	check(ret, err, sizeof(err), rc, size);
	require(out[HASH] == 0xa5);
	if (ret != 0) {
		require(all(out, HASH, 0xa5));
		return;
	}
	require(size == TPM2_HEADER_LEN + 2 + HASH &&
		memcmp(d + TPM2_HEADER_LEN + 2, out, HASH) == 0);
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
	load(d, size);
	verify(d, size);
	authorize(d, size);
	get_digest(d, size);
	free(block);
	return 0;
}
