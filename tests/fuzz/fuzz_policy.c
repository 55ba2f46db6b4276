/*
 * libFuzzer target for the TPGVM policy parser (tcb/policy.c). The input,
 * at an odd address in a heap block of exactly its length, is parsed;
 * an accepted policy is re-walked here from the raw bytes (docs/envelope.md,
 * "Policy") and must agree field by field: one platform id first, 1..64
 * bytes of 0x21..0x7e, then 1..8 distinct DER SEQUENCE certificates, each
 * 1..4096 bytes, ending exactly at the end. Any disagreement aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/policy.h"
#include "fuzz_util.h"

static void check(const uint8_t *d, size_t size, const struct tpgvm_policy *p)
{
	size_t off = 12, n;

	require(size >= 12 && memcmp(d, "CUSTPOL1", 8) == 0 && le(d + 8, 4) == 1);
	require(le(d + off, 2) == 1);
	n = (size_t)le(d + off + 2, 4);
	require(n >= 1 && n <= 64 && n == p->platform_id_len);
	require(memcmp(d + off + 6, p->platform_id, n) == 0);
	require(p->platform_id[n] == '\0' && strlen(p->platform_id) == n);
	for (size_t i = 0; i < n; i++)
		require(d[off + 6 + i] > 0x20 && d[off + 6 + i] < 0x7f);
	off += 6 + n;
	require(p->tenant_ca_count >= 1 && p->tenant_ca_count <= 8);
	for (size_t k = 0; k < p->tenant_ca_count; k++) {
		require(size - off >= 6 && le(d + off, 2) == 2);
		n = (size_t)le(d + off + 2, 4);
		require(n >= 2 && n <= 4096 && n <= size - off - 6);
		require(p->tenant_ca[k].der == d + off + 6);
		require(p->tenant_ca[k].len == n && d[off + 6] == 0x30);
		for (size_t j = 0; j < k; j++)
			require(p->tenant_ca[j].len != n ||
				memcmp(p->tenant_ca[j].der, d + off + 6, n) != 0);
		off += 6 + n;
	}
	require(off == size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *block = malloc(size + 1);
	struct tpgvm_policy p, p2;
	char err[160];
	int rc;

	if (!block)
		return 0;
	memcpy(block + 1, data, size);
	memset(err, 'x', sizeof(err));
	rc = policy_parse(block + 1, size, &p, err, sizeof(err));
	require(rc == 0 || rc == -1);
	require(memchr(err, 0, sizeof(err)) != NULL);
	require(policy_parse(block + 1, size, &p2, NULL, 0) == rc);
	if (rc == 0)
		check(block + 1, size, &p);
	else
		require(err[0] != '\0');
	free(block);
	return 0;
}
