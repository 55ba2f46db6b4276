/*
 * libFuzzer target for the session response parsers (tcb/tpm2_session.c):
 * the whole input, from an odd address in a heap block of exactly its
 * length, as the answer to CreatePrimary of the salt key, StartAuthSession,
 * GetRandom (encrypted) and PCR_Extend (authorised) of the session
 * recorded with swtpm (tests/unit/tpm2_session_swtpm.h), so that the seeds,
 * which verify, lead the fuzzer past the HMAC. A refusal says why and
 * leaves the caller's outputs as they were, and the session's nonceTPM
 * moves only with a response whose HMAC verified; an acceptance of
 * GetRandom hands out at most what was asked.
 *
 * Seeds (tests/fuzz/corpus/tpm2_session/): the recorded responses.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/tpm2_session.h"
#include "tests/unit/tpm2_session_swtpm.h"
#include "fuzz_util.h"

#define HASH TPM2_SESSION_HASH_LEN

/* The recorded session with each command in flight. */
static struct tpm2_session starting, random_flight, extend_flight;

static void set_up(void)
{
	static uint8_t cmd[TPM2_BUFFER_MAX];
	struct tpm2_salt_key key;
	uint8_t eph[TPM2_P384_LEN], n[HASH], out[32], digest[TPM2_SHA384_LEN];
	size_t got;

	require(crypto_init() == CRYPTO_OK);
	require(tpm2_parse_create_salt_key(rec_create_salt_rsp, sizeof(rec_create_salt_rsp),
					   &key, NULL, 0) == 0);
	memset(eph, 0x11, sizeof(eph));
	memset(n, 0x20, sizeof(n));
	require(tpm2_build_start_session(cmd, sizeof(cmd), &starting, &key, eph, n,
					 TPM2_SE_HMAC) > 0);
	random_flight = starting;
	require(tpm2_parse_start_session(rec_start_rsp, sizeof(rec_start_rsp),
					 &random_flight, NULL, 0) == 0);
	memset(n, 0x21, sizeof(n));
	require(tpm2_build_get_random_enc(cmd, sizeof(cmd), &random_flight, 32, n) > 0);
	extend_flight = random_flight;
	require(tpm2_parse_get_random_enc(rec_random_rsp, sizeof(rec_random_rsp),
					  &extend_flight, out, 32, &got, NULL, 0) == 0);
	memset(n, 0x22, sizeof(n));
	memset(digest, 0x5a, sizeof(digest));
	require(tpm2_build_pcr_extend_hmac(cmd, sizeof(cmd), &extend_flight, 16, digest,
					   n) > 0);
}

/* err says why exactly when rc says no. */
static void check_err(int rc, const char *err, size_t len)
{
	require(rc == 0 || rc == -1);
	require(memchr(err, 0, len) != NULL);
	require(rc == 0 ? err[0] == '\0' : err[0] != '\0');
}

static void salt_key(const uint8_t *d, size_t size)
{
	struct tpm2_salt_key key, before;
	char err[200];
	int rc;

	memset(&key, 0xa5, sizeof(key));
	before = key;
	rc = tpm2_parse_create_salt_key(d, size, &key, err, sizeof(err));
	check_err(rc, err, sizeof(err));
	if (rc != 0)
		require(memcmp(&key, &before, sizeof(key)) == 0);
	else
		require(key.handle >> 24 == 0x80 && key.pub[0] == 0x04);
}

static void start(const uint8_t *d, size_t size)
{
	struct tpm2_session s = starting;
	char err[200];
	int rc = tpm2_parse_start_session(d, size, &s, err, sizeof(err));

	check_err(rc, err, sizeof(err));
	require(rc != 0 || s.handle >> 24 == 0x02);
}

static bool hmac_verifies(const struct tpm2_session *base, const uint8_t *d,
			  size_t size)
{
	struct tpm2_session s = *base;
	const uint8_t *params;
	size_t len;

	return tpm2_session_parse(d, size, &s, 0, NULL, &params, &len, NULL, 0) == 0;
}

static void get_random(const uint8_t *d, size_t size, size_t want)
{
	struct tpm2_session s = random_flight;
	uint8_t out[HASH + 1];
	size_t got = 12345;
	char err[200];
	int rc;

	memset(out, 0xee, sizeof(out));
	rc = tpm2_parse_get_random_enc(d, size, &s, out, want, &got, err, sizeof(err));
	check_err(rc, err, sizeof(err));
	require(out[want] == 0xee);
	if (rc != 0) {
		require(got == 12345 && out[0] == 0xee);
		/* The nonce follows the TPM's once the HMAC verified (the TPM's
		 * session moved on, whatever the parameters say), never before. */
		if (memcmp(s.nonce_tpm, random_flight.nonce_tpm, HASH) != 0)
			require(hmac_verifies(&random_flight, d, size));
	} else {
		require(got >= 1 && got <= want);
	}
}

static void extend(const uint8_t *d, size_t size)
{
	struct tpm2_session s = extend_flight;
	char err[200];
	int rc = tpm2_parse_pcr_extend_hmac(d, size, &s, err, sizeof(err));

	check_err(rc, err, sizeof(err));
	if (rc != 0 && memcmp(s.nonce_tpm, extend_flight.nonce_tpm, HASH) != 0)
		require(hmac_verifies(&extend_flight, d, size));
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
	salt_key(d, size);
	start(d, size);
	get_random(d, size, 32);
	get_random(d, size, 1);
	extend(d, size);
	free(block);
	return 0;
}
