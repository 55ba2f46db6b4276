/*
 * libFuzzer target for the sealed-blob reader (tcb/seal.c, docs/seal.md),
 * linked with the real host crypto layer (a per-target rule in the
 * Makefile: the fuzz library has no crypto) and a fixed key.
 *
 * Input: one mode byte, then a blob.
 *   mode bit 0 clear: the blob as it is. Without the key the fuzzer cannot
 *     make a tag, so this exercises the header checks, the decryption and
 *     the page-list refusal (which checks the tag before answering).
 *     Verdict: SEAL_OK only for an authentic blob, never SEAL_E_IO or
 *     SEAL_E_USAGE.
 *   mode bit 0 set: header, body *plaintext*, 16 ignored bytes. If the
 *     header passes seal_read_header, the harness encrypts the body with
 *     the fixed key (IV and AAD from the header) and puts the real tag at
 *     the end: the reader then sees an authentic blob with fuzzer-chosen
 *     contents, and must accept it exactly when the page list is
 *     ascending, page-aligned and below mem_size and the padding is zero
 *     (checked here from the plaintext), returning what was encrypted;
 *     otherwise SEAL_E_MALFORMED (never AUTH). An accepted state is sealed
 *     again with the writer and must open again.
 * The reader is driven the way the TCB drives it: by what the header says,
 * the page list in pieces of a size taken from the header's IV byte.
 * The source callback requires that the reader never reads outside the
 * blob length it was given.
 *
 * Seeds (tests/fuzz/corpus/seal/) come from `test_seal --write DIR`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/seal.h"
#include "fuzz_util.h"

#define MAX_INPUT (1u << 20)

static uint8_t key[SEAL_KEY_LEN];
static uint8_t context[SEAL_CONTEXT_MAX];

struct blob {
	uint8_t *data;
	uint64_t len;
};

static bool source(void *ctx, uint64_t off, void *data, size_t len)
{
	struct blob *b = ctx;

	require(off <= b->len && len <= b->len - off);
	memcpy(data, b->data + off, len);
	return true;
}

static bool sink(void *ctx, uint64_t off, const void *data, size_t len)
{
	struct blob *b = ctx;

	require(off <= b->len && len <= b->len - off);
	memcpy(b->data + off, data, len);
	return true;
}

/* What the reader handed out, for comparing. */
struct opened {
	struct seal_header h;
	uint64_t *gpas;
	uint8_t *pages; /* page_count * 4096, or NULL: not kept */
};

/* The whole open sequence, driven by the header. */
static int open_blob(struct blob *b, struct opened *o)
{
	struct seal_reader r;
	uint32_t step;
	int rc;

	o->gpas = NULL;
	o->pages = NULL;
	rc = seal_read_header(source, b, b->len, &o->h, NULL, 0);
	if (rc != SEAL_OK)
		return rc;
	require(b->len == seal_blob_size(o->h.page_count, o->h.context_len));
	o->gpas = calloc(o->h.page_count + 1, sizeof(uint64_t));
	o->pages = malloc((size_t)o->h.page_count * SEAL_PAGE_SIZE + 1);
	require(o->gpas && o->pages);
	rc = seal_read_begin(&r, key, &o->h, source, b);
	if (rc != SEAL_OK)
		return rc;
	rc = seal_read_context(&r, context, o->h.context_len);
	step = o->h.iv[0] % 5 + 1;
	for (uint32_t done = 0; rc == SEAL_OK && done < o->h.page_count; done += step) {
		uint32_t n = o->h.page_count - done < step ? o->h.page_count - done : step;

		rc = seal_read_page_list(&r, o->gpas + done, n);
	}
	for (uint32_t i = 0; rc == SEAL_OK && i < o->h.page_count; i++)
		rc = seal_read_page(&r, o->pages + (size_t)i * SEAL_PAGE_SIZE);
	if (rc == SEAL_OK)
		rc = seal_read_end(&r);
	else
		seal_read_abort(&r); /* harmless on a dead reader */
	return rc;
}

static void opened_free(struct opened *o)
{
	free(o->gpas);
	free(o->pages);
}

static uint64_t pad16(uint64_t n)
{
	return (n + 15) & ~(uint64_t)15;
}

/* Would a correct reader accept this body plaintext under header h? */
static bool plaintext_ok(const struct seal_header *h, const uint8_t *pt)
{
	uint64_t off = h->context_len, last = 0;

	for (; off < pad16(h->context_len); off++)
		if (pt[off] != 0)
			return false;
	for (uint32_t i = 0; i < h->page_count; i++, off += 8) {
		uint64_t g = le(pt + off, 8);

		if (g % SEAL_PAGE_SIZE || g >= h->mem_size || (i > 0 && g <= last))
			return false;
		last = g;
	}
	for (; off < pad16(h->context_len) + pad16((uint64_t)h->page_count * 8); off++)
		if (pt[off] != 0)
			return false;
	return true;
}

/* Seal what was opened again; it must open to the same. */
static void reseal(const struct opened *o)
{
	struct seal_header h = o->h;
	struct seal_writer w;
	struct opened o2;
	struct blob b;
	uint8_t *ctx_copy = malloc(h.context_len);

	require(ctx_copy != NULL);
	memcpy(ctx_copy, context, h.context_len);
	b.len = seal_blob_size(h.page_count, h.context_len);
	b.data = malloc(b.len);
	require(b.data != NULL);
	require(seal_write_begin(&w, key, &h, sink, &b) == SEAL_OK);
	require(seal_write_context(&w, ctx_copy, h.context_len) == SEAL_OK);
	require(seal_write_page_list(&w, o->gpas, h.page_count) == SEAL_OK);
	for (uint32_t i = 0; i < h.page_count; i++)
		require(seal_write_page(&w, o->pages + (size_t)i * SEAL_PAGE_SIZE) == SEAL_OK);
	require(seal_write_end(&w) == SEAL_OK);
	require(open_blob(&b, &o2) == SEAL_OK);
	require(memcmp(context, ctx_copy, h.context_len) == 0);
	require(memcmp(o2.gpas, o->gpas, h.page_count * sizeof(uint64_t)) == 0);
	require(memcmp(o2.pages, o->pages, (size_t)h.page_count * SEAL_PAGE_SIZE) == 0);
	opened_free(&o2);
	free(b.data);
	free(ctx_copy);
}

static void one_input(uint8_t mode, uint8_t *data, size_t size)
{
	struct blob b = { data, size };
	struct opened o;
	uint8_t *pt = NULL;
	bool expect_ok = false;
	int rc;

	if (mode & 1) {
		struct seal_header h;
		uint64_t body;

		if (seal_read_header(source, &b, size, &h, NULL, 0) != SEAL_OK)
			return;
		body = size - SEAL_HEADER_LEN - SEAL_TAG_LEN;
		pt = malloc(body + 1);
		require(pt != NULL);
		memcpy(pt, data + SEAL_HEADER_LEN, body);
		expect_ok = plaintext_ok(&h, pt);
		require(crypto_aes256gcm_encrypt(key, h.iv, data, SEAL_HEADER_LEN, pt, body,
						 data + SEAL_HEADER_LEN,
						 data + SEAL_HEADER_LEN + body) == CRYPTO_OK);
	}
	rc = open_blob(&b, &o);
	require(rc == SEAL_OK || rc == SEAL_E_MALFORMED || rc == SEAL_E_AUTH);
	if (mode & 1) {
		require(rc == (expect_ok ? SEAL_OK : SEAL_E_MALFORMED));
		if (rc == SEAL_OK) {
			uint64_t off = pad16(o.h.context_len) + pad16((uint64_t)o.h.page_count * 8);

			require(memcmp(context, pt, o.h.context_len) == 0);
			for (uint32_t i = 0; i < o.h.page_count; i++)
				require(o.gpas[i] == le(pt + pad16(o.h.context_len) + 8 * i, 8));
			require(memcmp(o.pages, pt + off,
				       (size_t)o.h.page_count * SEAL_PAGE_SIZE) == 0);
		}
	}
	if (rc == SEAL_OK) {
		for (uint32_t i = 0; i < o.h.page_count; i++)
			require(o.gpas[i] % SEAL_PAGE_SIZE == 0 && o.gpas[i] < o.h.mem_size &&
				(i == 0 || o.gpas[i] > o.gpas[i - 1]));
		reseal(&o);
	}
	opened_free(&o);
	free(pt);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *block;

	if (size < 1 || size > MAX_INPUT)
		return 0;
	for (unsigned i = 0; i < SEAL_KEY_LEN; i++)
		key[i] = (uint8_t)(0xa0 + i); /* test_seal --write uses the same */
	/* The blob from an odd address in a block of exactly its length. */
	block = malloc(size);
	if (!block)
		return 0;
	memcpy(block + 1, data + 1, size - 1);
	one_input(data[0], block + 1, size - 1);
	free(block);
	return 0;
}
