/*
 * libFuzzer target for the TCB key and certificate module parsers
 * (tcb/tcb_keys.c). The input is parsed as both modules (at an odd address
 * in a heap block of exactly its length); an accepted module is re-read
 * from the raw bytes (docs/pki.md) and must agree. Any disagreement aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/tcb_keys.h"
#include "fuzz_util.h"

static void one_keys(const uint8_t *d, size_t size)
{
	static const uint8_t zero[48];
	struct tcb_keys k;
	char err[128];
	int rc = tcb_keys_parse(d, size, &k, err, sizeof(err));

	require(tcb_keys_parse(d, size, &k, NULL, 0) == rc);
	if (rc != 0) {
		require(rc == -1 && err[0] != '\0');
		return;
	}
	require(size == 108 && memcmp(d, "CUSTKEY1", 8) == 0 && le(d + 8, 4) == 1);
	require(memcmp(k.sign_priv, d + 12, 48) == 0);
	require(memcmp(k.kex_priv, d + 60, 48) == 0);
	require(memcmp(k.sign_priv, zero, 48) != 0);
	require(memcmp(k.kex_priv, zero, 48) != 0);
	require(memcmp(k.sign_priv, k.kex_priv, 48) != 0);
}

static void one_certs(const uint8_t *d, size_t size)
{
	struct tcb_certs c;
	char err[128];
	int rc = tcb_certs_parse(d, size, &c, err, sizeof(err));
	uint64_t n1, n2;

	require(tcb_certs_parse(d, size, &c, NULL, 0) == rc);
	if (rc != 0) {
		require(rc == -1 && err[0] != '\0');
		return;
	}
	require(size >= 22 && memcmp(d, "CUSTCRT1", 8) == 0 && le(d + 8, 4) == 1);
	n1 = le(d + 12, 4);
	require(n1 >= 2 && n1 <= 4096 && n1 <= size - 20);
	n2 = le(d + 16 + n1, 4);
	require(n2 >= 2 && n2 <= 4096 && size == 20 + n1 + n2);
	require(c.sign_cert == d + 16 && c.sign_cert_len == n1);
	require(c.kex_cert == d + 20 + n1 && c.kex_cert_len == n2);
	require(d[16] == 0x30 && d[20 + n1] == 0x30);
	require(n1 != n2 || memcmp(c.sign_cert, c.kex_cert, n1) != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *block = malloc(size + 1);

	if (!block)
		return 0;
	memcpy(block + 1, data, size);
	one_keys(block + 1, size);
	one_certs(block + 1, size);
	free(block);
	return 0;
}
