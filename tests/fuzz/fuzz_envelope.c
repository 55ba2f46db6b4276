/*
 * libFuzzer target for the envelope parser (tcb/envelope.c): the whole
 * input as an envelope, and the whole input as a decrypted payload, each
 * from an odd address in a heap block of exactly its length (ASan catches
 * any overread, UBSan any misaligned load). Every accepted input is checked
 * against the layout of docs/envelope.md, re-read from the raw bytes here;
 * a disagreement aborts. The verdict must not depend on the error buffer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <custos/envelope.h>
#include "fuzz_util.h"

static void check_envelope(const uint8_t *d, size_t size,
			   const struct envelope *e)
{
	uint64_t cert = le(d + 12, 4), payload = le(d + 16, 4);

	require(size >= 177 + 16 + 96 && size <= (64u << 20));
	require(memcmp(d, "CUSTENV1", 8) == 0 && le(d + 8, 4) == 1);
	require(cert >= 1 && cert <= 4096 && payload >= 1);
	require(size == 177 + cert + payload + 16 + 96);
	require(d[68] == 0x04 && d[177] == 0x30);
	require(e->version == 1);
	require(e->tcb_fpr == d + 20 && e->eph_pub == d + 68 && e->iv == d + 165);
	require(e->station_cert == d + 177 && e->station_cert_len == cert);
	require(e->header_len == 177 + cert && e->ciphertext == d + 177 + cert);
	require(e->payload_len == payload);
	require(e->tag == e->ciphertext + payload);
	require(e->signed_len == size - 96 && e->signature == d + size - 96);
}

static void check_payload(const uint8_t *d, size_t size,
			  const struct envelope_payload *p)
{
	uint64_t n1, n2;

	require(size >= 14 && le(d, 2) == 1);
	n1 = le(d + 2, 4);
	require(n1 >= 1 && n1 <= size - 12);
	require(le(d + 6 + n1, 2) == 2);
	n2 = le(d + 8 + n1, 4);
	require(n2 >= 1 && size == 12 + n1 + n2);
	require(p->image == d + 6 && p->image_len == n1);
	require(p->policy == d + 12 + n1 && p->policy_len == n2);
}

static void one_envelope(const uint8_t *d, size_t size)
{
	struct envelope e, e2;
	char err[160], tiny[3];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = envelope_parse(d, size, &e, err, sizeof(err));
	require(rc == 0 || rc == -1);
	require(memchr(err, 0, sizeof(err)) != NULL);
	require(envelope_parse(d, size, &e2, NULL, 0) == rc);
	require(envelope_parse(d, size, &e2, tiny, sizeof(tiny)) == rc);
	if (rc != 0) {
		require(err[0] != '\0');
		return;
	}
	require(err[0] == '\0');
	check_envelope(d, size, &e);
}

static void one_payload(const uint8_t *d, size_t size)
{
	struct envelope_payload p;
	char err[160];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = envelope_payload_parse(d, size, &p, err, sizeof(err));
	require(rc == 0 || rc == -1);
	require(memchr(err, 0, sizeof(err)) != NULL);
	require(envelope_payload_parse(d, size, &p, NULL, 0) == rc);
	if (rc == 0)
		check_payload(d, size, &p);
	else
		require(err[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *block = malloc(size + 1);

	if (!block)
		return 0;
	memcpy(block + 1, data, size);
	one_envelope(block + 1, size);
	one_payload(block + 1, size);
	free(block);
	return 0;
}
