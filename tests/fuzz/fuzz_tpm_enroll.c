/*
 * libFuzzer target for the enrollment module's parser (tcb/tpm_enroll.c):
 * the input as a module, from a heap block of exactly its length. An
 * accepted module is re-read here from the raw bytes (tcb/tpm_enroll.h's
 * layout): every field where the parser says, every length in range, and
 * the fields filling the input exactly.
 *
 * Seeds (tests/fuzz/corpus/tpm_enroll/): modules of `custos-ca enroll`'s
 * layout.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/tpm_enroll.h"
#include "fuzz_util.h"

static void check(const uint8_t *d, size_t size, const struct tpm_enrollment *e)
{
	size_t off = 12, n;

	require(memcmp(d, "CUSTENR1", 8) == 0 && le(d + 8, 4) == 1);
	require(le(d + off, 2) == 50 && e->ak_name == d + off + 2);
	off += 52;
	n = le(d + off, 2);
	require(n >= 1 && n <= 256 && e->blob == d + off + 2 && e->blob_len == n);
	off += 2 + n;
	n = le(d + off, 2);
	require(n >= 1 && n <= 512 && e->secret == d + off + 2 && e->secret_len == n);
	off += 2 + n;
	require(e->aad_len == off && e->nonce == d + off);
	off += 12;
	n = le(d + off, 2);
	require(n >= 1 && n <= 2048 && e->cert_enc == d + off + 2 && e->cert_len == n);
	off += 2 + n;
	require(e->tag == d + off && off + 16 == size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *block = malloc(size ? size : 1);
	struct tpm_enrollment e;
	char err[160];
	int rc;

	require(block != NULL);
	memcpy(block, data, size);
	memset(err, 'x', sizeof(err));
	rc = tpm_enrollment_parse(block, size, &e, err, sizeof(err));
	require(rc == 0 || rc == -1);
	require(memchr(err, 0, sizeof(err)) != NULL);
	require(tpm_enrollment_parse(block, size, &e, NULL, 0) == rc);
	if (rc == 0)
		check(block, size, &e);
	free(block);
	return 0;
}
