/*
 * Unit tests for sealed VM state (tcb/seal.c, docs/seal.md): round trips
 * through memory sinks and sources, the blob layout re-derived here with
 * the one-shot AES-GCM (so the byte-exact spec is what is tested, not just
 * "the reader agrees with the writer"), a fresh IV per seal, tampering with
 * every region, the wrong key, truncation and extension, calls out of
 * order, failing callbacks, bad page lists on both sides.
 *
 * Run as `test_seal --write DIR` it instead writes the fuzzer's seeds
 * (tests/fuzz/corpus/seal/, the input format of tests/fuzz/fuzz_seal.c)
 * and exits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/seal.h"
#include "seed_file.h"

/* ---- memory sink and source ------------------------------------------------ */

#define BLOB_CAP (3u << 20)

struct mem {
	uint8_t *buf;
	uint64_t len;       /* source: blob length; sink: highest byte written + 1 */
	uint64_t next;      /* sink: where the next write must go (in order, no gaps) */
	int calls;
	int fail_at;        /* fail the call with this index (-1: never) */
	bool out_of_order;  /* sink: a write not at next */
};

static bool mem_sink(void *ctx, uint64_t off, const void *data, size_t len)
{
	struct mem *m = ctx;

	if (m->calls++ == m->fail_at)
		return false;
	if (off != m->next)
		m->out_of_order = true;
	assert_true(off + len <= BLOB_CAP);
	memcpy(m->buf + off, data, len);
	m->next = off + len;
	if (m->next > m->len)
		m->len = m->next;
	return true;
}

static bool mem_source(void *ctx, uint64_t off, void *data, size_t len)
{
	struct mem *m = ctx;

	if (m->calls++ == m->fail_at)
		return false;
	if (off > m->len || len > m->len - off)
		return false;
	memcpy(data, m->buf + off, len);
	return true;
}

static struct mem mem_new(void)
{
	struct mem m = { .buf = calloc(1, BLOB_CAP), .fail_at = -1 };

	assert_non_null(m.buf);
	return m;
}

/* ---- a VM state --------------------------------------------------------------------- */

#define MAX_PAGES 8

struct vmstate {
	struct seal_header h;
	uint8_t key[SEAL_KEY_LEN];
	uint8_t context[SEAL_CONTEXT_MAX];
	uint64_t gpas[MAX_PAGES];
	uint8_t pages[MAX_PAGES][SEAL_PAGE_SIZE];
};

static struct vmstate *vm_new(uint32_t page_count, uint32_t context_len)
{
	struct vmstate *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	assert_true(page_count <= MAX_PAGES);
	v->h.vm_id = 7;
	v->h.version = 3;
	memset(v->h.owner, 0x0a, SEAL_OWNER_LEN);
	memset(v->h.measurement, 0x0b, SEAL_MEASURE_LEN);
	v->h.mem_size = 16 * SEAL_PAGE_SIZE;
	v->h.page_count = page_count;
	v->h.context_len = context_len;
	for (size_t i = 0; i < SEAL_KEY_LEN; i++)
		v->key[i] = (uint8_t)(0x40 + i);
	for (size_t i = 0; i < context_len; i++)
		v->context[i] = (uint8_t)(i * 31 + 5);
	for (uint32_t i = 0; i < page_count; i++) {
		v->gpas[i] = (1 + 2 * (uint64_t)i) * SEAL_PAGE_SIZE; /* 0x1000, 0x3000, ... */
		for (size_t j = 0; j < SEAL_PAGE_SIZE; j++)
			v->pages[i][j] = (uint8_t)(i * 7 + j * 13 + 1);
	}
	return v;
}

/* Seal v into m, the page list in pieces of split GPAs (0: one call). */
static int seal_vm(struct vmstate *v, struct mem *m, uint32_t split)
{
	struct seal_writer w;
	int rc;

	rc = seal_write_begin(&w, v->key, &v->h, mem_sink, m);
	if (rc == SEAL_OK)
		rc = seal_write_context(&w, v->context, v->h.context_len);
	for (uint32_t done = 0; rc == SEAL_OK && done < v->h.page_count;) {
		uint32_t n = split ? split : v->h.page_count;

		if (n > v->h.page_count - done)
			n = v->h.page_count - done;
		rc = seal_write_page_list(&w, v->gpas + done, n);
		done += n;
	}
	for (uint32_t i = 0; rc == SEAL_OK && i < v->h.page_count; i++)
		rc = seal_write_page(&w, v->pages[i]);
	if (rc == SEAL_OK)
		rc = seal_write_end(&w);
	return rc;
}

/* The whole open sequence, driven by the header (as the TCB does); what was
 * read goes to out. *stage_out says which call failed (0 header, 1 begin,
 * 2 context, 3 list, 4 page, 5 end). */
static int open_vm(const uint8_t *key, struct mem *m, struct vmstate *out,
		   int *stage_out)
{
	struct seal_reader r;
	char err[160];
	int rc, stage = 0;

	memset(&out->h, 0, sizeof(out->h));
	rc = seal_read_header(mem_source, m, m->len, &out->h, err, sizeof(err));
	if (rc == SEAL_OK) {
		assert_string_equal(err, "");
		stage = 1;
		rc = seal_read_begin(&r, key, &out->h, mem_source, m);
	} else {
		assert_true(err[0] != '\0');
	}
	if (rc == SEAL_OK) {
		stage = 2;
		rc = seal_read_context(&r, out->context, out->h.context_len);
	}
	if (rc == SEAL_OK) {
		stage = 3;
		rc = seal_read_page_list(&r, out->gpas, out->h.page_count);
	}
	for (uint32_t i = 0; rc == SEAL_OK && i < out->h.page_count; i++) {
		stage = 4;
		rc = seal_read_page(&r, out->pages[i]);
	}
	if (rc == SEAL_OK) {
		stage = 5;
		rc = seal_read_end(&r);
	}
	if (stage_out)
		*stage_out = stage;
	return rc;
}

static void assert_same_state(const struct vmstate *a, const struct vmstate *b)
{
	assert_memory_equal(&a->h, &b->h, sizeof(a->h));
	assert_memory_equal(a->context, b->context, a->h.context_len);
	assert_memory_equal(a->gpas, b->gpas, a->h.page_count * sizeof(uint64_t));
	assert_memory_equal(a->pages, b->pages, a->h.page_count * (size_t)SEAL_PAGE_SIZE);
}

static uint64_t rd_le(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static uint64_t pad16(uint64_t n)
{
	return (n + 15) / 16 * 16;
}

/* The body plaintext of v as docs/seal.md lays it out; returns its length. */
static size_t body_plaintext(const struct vmstate *v, uint8_t *out)
{
	size_t off = 0;

	memset(out, 0, (size_t)seal_blob_size(v->h.page_count, v->h.context_len));
	memcpy(out, v->context, v->h.context_len);
	off = pad16(v->h.context_len);
	for (uint32_t i = 0; i < v->h.page_count; i++)
		for (unsigned b = 0; b < 8; b++)
			out[off + 8 * i + b] = (uint8_t)(v->gpas[i] >> (8 * b));
	off += pad16(8 * (uint64_t)v->h.page_count);
	memcpy(out + off, v->pages, v->h.page_count * (size_t)SEAL_PAGE_SIZE);
	return off + v->h.page_count * (size_t)SEAL_PAGE_SIZE;
}

/* Build a blob from a body plaintext by hand (docs/seal.md), with the
 * one-shot AES-GCM: the header from m (already written), the body and tag
 * replaced. For blobs the writer refuses to make. */
static void forge_body(const uint8_t *key, struct mem *m, const uint8_t *pt, size_t len)
{
	assert_int_equal(m->len, SEAL_HEADER_LEN + len + SEAL_TAG_LEN);
	assert_int_equal(crypto_aes256gcm_encrypt(key, m->buf + 136, m->buf, SEAL_HEADER_LEN,
						  pt, len, m->buf + SEAL_HEADER_LEN,
						  m->buf + SEAL_HEADER_LEN + len), CRYPTO_OK);
}

/* ---- tests -------------------------------------------------------------------------- */

static void test_blob_size(void **state)
{
	(void)state;
	assert_int_equal(seal_blob_size(0, 1), 152 + 16 + 16);
	assert_int_equal(seal_blob_size(0, 16), 152 + 16 + 16);
	assert_int_equal(seal_blob_size(0, 17), 152 + 32 + 16);
	assert_int_equal(seal_blob_size(1, 16), 152 + 16 + 16 + 4096 + 16);
	assert_int_equal(seal_blob_size(2, 16), 152 + 16 + 16 + 2 * 4096 + 16);
	assert_int_equal(seal_blob_size(3, 100), 152 + 112 + 32 + 3 * 4096 + 16);
	assert_int_equal(seal_blob_size(262144, SEAL_CONTEXT_MAX),
			 152ull + SEAL_CONTEXT_MAX + 262144ull * 8 + 262144ull * 4096 + 16);
	assert_int_equal(seal_blob_size(UINT32_MAX, UINT32_MAX),
			 152ull + 0x100000000ull + 0x800000000ull + 0xffffffffull * 4096 + 16);
}

static void test_round_trip(void **state)
{
	static const uint32_t ctx_lens[] = { 1, 15, 16, 17, 1000, SEAL_CONTEXT_MAX };
	static const uint32_t page_counts[] = { 0, 1, 2, 3, 5, 8 };
	uint8_t *pt = malloc(BLOB_CAP), *back = malloc(BLOB_CAP);

	(void)state;
	assert_non_null(pt);
	assert_non_null(back);
	for (size_t a = 0; a < sizeof(ctx_lens) / sizeof(ctx_lens[0]); a++) {
		for (size_t b = 0; b < sizeof(page_counts) / sizeof(page_counts[0]); b++) {
			struct vmstate *v = vm_new(page_counts[b], ctx_lens[a]);
			struct vmstate *o = vm_new(0, 1);
			struct mem m = mem_new();
			uint64_t size = seal_blob_size(v->h.page_count, v->h.context_len);
			size_t body;
			int stage;

			assert_int_equal(seal_vm(v, &m, (uint32_t)(a % 3)), SEAL_OK);
			/* Written in order, without gaps, exactly the size. */
			assert_false(m.out_of_order);
			assert_int_equal(m.len, size);
			/* The header, byte for byte (docs/seal.md). */
			assert_memory_equal(m.buf, "CUSTSEAL", 8);
			assert_int_equal(rd_le(m.buf + 8, 4), 1);
			assert_int_equal(rd_le(m.buf + 12, 4), 7);
			assert_int_equal(rd_le(m.buf + 16, 8), 3);
			assert_memory_equal(m.buf + 24, v->h.owner, 48);
			assert_memory_equal(m.buf + 72, v->h.measurement, 48);
			assert_int_equal(rd_le(m.buf + 120, 8), 16 * 4096);
			assert_int_equal(rd_le(m.buf + 128, 4), v->h.page_count);
			assert_int_equal(rd_le(m.buf + 132, 4), v->h.context_len);
			assert_memory_equal(m.buf + 136, v->h.iv, 12);
			assert_int_equal(rd_le(m.buf + 148, 4), 0);
			/* The body and tag: AES-256-GCM of the documented plaintext
			 * with the header as AAD. */
			body = body_plaintext(v, pt);
			assert_int_equal(SEAL_HEADER_LEN + body + SEAL_TAG_LEN, size);
			assert_int_equal(crypto_aes256gcm_decrypt(v->key, v->h.iv, m.buf,
								  SEAL_HEADER_LEN,
								  m.buf + SEAL_HEADER_LEN, body, back,
								  m.buf + SEAL_HEADER_LEN + body),
					 CRYPTO_OK);
			assert_memory_equal(back, pt, body);
			/* And it opens. */
			m.calls = 0;
			assert_int_equal(open_vm(v->key, &m, o, &stage), SEAL_OK);
			assert_same_state(v, o);
			free(m.buf);
			free(v);
			free(o);
		}
	}
	free(pt);
	free(back);
}

static void test_objects_wiped_at_end(void **state)
{
	struct vmstate *v = vm_new(1, 40);
	struct mem m = mem_new();
	struct seal_writer w;
	struct seal_reader r;
	struct seal_header h;
	uint64_t gpa;
	uint8_t ctx[40], page[SEAL_PAGE_SIZE];

	(void)state;
	assert_int_equal(seal_write_begin(&w, v->key, &v->h, mem_sink, &m), SEAL_OK);
	assert_int_equal(seal_write_context(&w, v->context, 40), SEAL_OK);
	assert_int_equal(seal_write_page_list(&w, v->gpas, 1), SEAL_OK);
	assert_int_equal(seal_write_page(&w, v->pages[0]), SEAL_OK);
	assert_int_equal(seal_write_end(&w), SEAL_OK);
	for (size_t i = 0; i < sizeof(w.opaque) / 8; i++)
		assert_int_equal(w.opaque[i], 0);
	assert_int_equal(seal_write_end(&w), SEAL_E_USAGE);

	assert_int_equal(seal_read_header(mem_source, &m, m.len, &h, NULL, 0), SEAL_OK);
	assert_int_equal(seal_read_begin(&r, v->key, &h, mem_source, &m), SEAL_OK);
	assert_int_equal(seal_read_context(&r, ctx, 40), SEAL_OK);
	assert_int_equal(seal_read_page_list(&r, &gpa, 1), SEAL_OK);
	assert_int_equal(seal_read_page(&r, page), SEAL_OK);
	assert_int_equal(seal_read_end(&r), SEAL_OK);
	for (size_t i = 0; i < sizeof(r.opaque) / 8; i++)
		assert_int_equal(r.opaque[i], 0);
	assert_int_equal(seal_read_end(&r), SEAL_E_USAGE);

	/* Given up half-way: wiped, dead; a second abort is harmless. */
	m.len = m.next = 0;
	assert_int_equal(seal_write_begin(&w, v->key, &v->h, mem_sink, &m), SEAL_OK);
	assert_int_equal(seal_write_context(&w, v->context, 40), SEAL_OK);
	seal_write_abort(&w);
	for (size_t i = 0; i < sizeof(w.opaque) / 8; i++)
		assert_int_equal(w.opaque[i], 0);
	seal_write_abort(&w);
	seal_write_abort(NULL);
	assert_int_equal(seal_write_page_list(&w, v->gpas, 1), SEAL_E_USAGE);
	assert_int_equal(seal_vm(v, &m, 0), SEAL_OK);
	assert_int_equal(seal_read_header(mem_source, &m, m.len, &h, NULL, 0), SEAL_OK);
	assert_int_equal(seal_read_begin(&r, v->key, &h, mem_source, &m), SEAL_OK);
	assert_int_equal(seal_read_context(&r, ctx, 40), SEAL_OK);
	seal_read_abort(&r);
	for (size_t i = 0; i < sizeof(r.opaque) / 8; i++)
		assert_int_equal(r.opaque[i], 0);
	seal_read_abort(&r);
	seal_read_abort(NULL);
	assert_int_equal(seal_read_page_list(&r, &gpa, 1), SEAL_E_USAGE);
	free(m.buf);
	free(v);
}

static void test_fresh_iv(void **state)
{
	struct vmstate *v = vm_new(2, 64);
	struct mem m1 = mem_new(), m2 = mem_new();
	uint8_t iv1[SEAL_IV_LEN];

	(void)state;
	assert_int_equal(seal_vm(v, &m1, 0), SEAL_OK);
	memcpy(iv1, v->h.iv, SEAL_IV_LEN);
	assert_int_equal(seal_vm(v, &m2, 0), SEAL_OK);
	assert_int_equal(m1.len, m2.len);
	assert_memory_not_equal(iv1, v->h.iv, SEAL_IV_LEN);
	/* Same header but for the IV, nothing of the body or tag in common. */
	assert_memory_equal(m1.buf, m2.buf, 136);
	assert_memory_not_equal(m1.buf + 136, m2.buf + 136, 12);
	for (uint64_t off = SEAL_HEADER_LEN; off + 16 <= m1.len; off += 16)
		assert_memory_not_equal(m1.buf + off, m2.buf + off, 16);
	free(m1.buf);
	free(m2.buf);
	free(v);
}

/* One bit of the blob flipped: which code, and which call refuses it. */
struct flip {
	const char *what;
	uint64_t off;   /* byte offset in the blob; see layout below */
	uint8_t bit;
	int rc;
	int stage;      /* as open_vm: 0 header, 3 page list, 5 end */
};

static void test_tampering(void **state)
{
	/* 3 pages at 0x1000, 0x3000, 0x5000 of 64 KiB; a 40-byte context.
	 * Body: context 0..47 (pad 40..47), list 48..71 (pad 72..79), pages
	 * from 80; in the blob add 152. */
	const uint64_t B = SEAL_HEADER_LEN, list = B + 48, pages = B + 80;
	const uint64_t tag = B + 80 + 3 * SEAL_PAGE_SIZE;
	const struct flip flips[] = {
		{ "magic", 3, 0, SEAL_E_MALFORMED, 0 },
		{ "format", 8, 1, SEAL_E_MALFORMED, 0 },
		{ "vm id", 12, 0, SEAL_E_AUTH, 5 },
		{ "vm id high", 15, 7, SEAL_E_AUTH, 5 },
		{ "version 3 -> 2", 16, 0, SEAL_E_AUTH, 5 },
		{ "version 3 -> 1", 16, 1, SEAL_E_AUTH, 5 },
		{ "version high", 23, 7, SEAL_E_AUTH, 5 },
		{ "owner", 24, 0, SEAL_E_AUTH, 5 },
		{ "owner end", 71, 7, SEAL_E_AUTH, 5 },
		{ "measurement", 72, 3, SEAL_E_AUTH, 5 },
		{ "measurement end", 119, 0, SEAL_E_AUTH, 5 },
		/* 64 KiB -> 72 KiB: still sane, so only the tag catches it. */
		{ "mem size (sane)", 121, 5, SEAL_E_AUTH, 5 },
		/* 64 KiB -> 60 KiB ... not a multiple of 4 KiB: header check. */
		{ "mem size (unaligned)", 120, 0, SEAL_E_MALFORMED, 0 },
		{ "mem size (> 1 GiB)", 123, 7, SEAL_E_MALFORMED, 0 },
		/* Counts change the blob size: header check. */
		{ "page count", 128, 0, SEAL_E_MALFORMED, 0 },
		{ "page count high", 131, 7, SEAL_E_MALFORMED, 0 },
		{ "context length 40 -> 296", 133, 0, SEAL_E_MALFORMED, 0 },
		/* 40 -> 41 pads to the same 48 bytes: the size fits, the tag
		 * does not. */
		{ "context length 40 -> 41", 132, 0, SEAL_E_AUTH, 5 },
		/* Another IV is another key stream: the page list decrypts to
		 * garbage, refused at the page list (after the tag check). */
		{ "iv", 136, 0, SEAL_E_AUTH, 3 },
		{ "iv end", 147, 7, SEAL_E_AUTH, 3 },
		{ "reserved", 150, 2, SEAL_E_MALFORMED, 0 },
		{ "context", B + 0, 0, SEAL_E_AUTH, 5 },
		{ "context end", B + 39, 6, SEAL_E_AUTH, 5 },
		{ "context padding", B + 44, 1, SEAL_E_AUTH, 5 },
		/* The page list is checked as it is decrypted: a flip that
		 * breaks it is refused by seal_read_page_list, which then
		 * checks the tag to say why (AUTH: not authentic); one that
		 * keeps it well-formed is caught by the tag at the end. */
		{ "page list: unaligned", list + 0, 0, SEAL_E_AUTH, 3 },
		{ "page list: beyond memory", list + 7, 7, SEAL_E_AUTH, 3 },
		{ "page list: 0x3000 -> 0x1000 (not ascending)", list + 9, 5, SEAL_E_AUTH, 3 },
		{ "page list: 0x3000 -> 0x2000 (well-formed)", list + 9, 4, SEAL_E_AUTH, 5 },
		{ "page list padding", list + 30, 0, SEAL_E_AUTH, 5 },
		{ "first page", pages, 0, SEAL_E_AUTH, 5 },
		{ "second page", pages + SEAL_PAGE_SIZE + 100, 3, SEAL_E_AUTH, 5 },
		{ "last page end", tag - 1, 7, SEAL_E_AUTH, 5 },
		{ "tag", tag, 0, SEAL_E_AUTH, 5 },
		{ "tag end", tag + 15, 7, SEAL_E_AUTH, 5 },
	};
	struct vmstate *v = vm_new(3, 40), *o = vm_new(0, 1);
	struct mem m = mem_new();
	int stage;

	(void)state;
	assert_int_equal(seal_vm(v, &m, 0), SEAL_OK);
	assert_int_equal(m.len, tag + 16);
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		const struct flip *f = &flips[i];

		m.buf[f->off] ^= (uint8_t)(1u << f->bit);
		m.calls = 0;
		stage = -1;
		if (open_vm(v->key, &m, o, &stage) != f->rc || stage != f->stage)
			fail_msg("%s: got %s at stage %d", f->what,
				 seal_strerror(open_vm(v->key, &m, o, NULL)), stage);
		m.buf[f->off] ^= (uint8_t)(1u << f->bit);
	}
	/* Every 5th byte of the blob, one bit each: never accepted. */
	for (uint64_t off = 0; off < m.len; off += 5) {
		int rc;

		m.buf[off] ^= (uint8_t)(1u << (off % 8));
		rc = open_vm(v->key, &m, o, NULL);
		if (rc != SEAL_E_AUTH && rc != SEAL_E_MALFORMED)
			fail_msg("flip at %llu: %d", (unsigned long long)off, rc);
		m.buf[off] ^= (uint8_t)(1u << (off % 8));
	}
	/* Untouched, it still opens. */
	assert_int_equal(open_vm(v->key, &m, o, NULL), SEAL_OK);
	assert_same_state(v, o);
	free(m.buf);
	free(v);
	free(o);
}

static void test_swapped_fields_and_wrong_key(void **state)
{
	struct vmstate *v = vm_new(2, 100), *o = vm_new(0, 1);
	struct mem m1 = mem_new(), m2 = mem_new();
	uint8_t key2[SEAL_KEY_LEN];
	int stage;

	(void)state;
	assert_int_equal(seal_vm(v, &m1, 0), SEAL_OK);
	/* Another key: the tag does not verify. The page list decrypts to
	 * garbage first, so seal_read_page_list refuses it (stage 3), with
	 * SEAL_E_AUTH once it has checked the tag. */
	memcpy(key2, v->key, sizeof(key2));
	key2[31] ^= 1;
	assert_int_equal(open_vm(key2, &m1, o, &stage), SEAL_E_AUTH);
	assert_int_equal(stage, 3);
	/* With no page list, the tag at the end. */
	{
		struct vmstate *v0 = vm_new(0, 100);
		struct mem m0 = mem_new();

		assert_int_equal(seal_vm(v0, &m0, 0), SEAL_OK);
		v0->key[0] ^= 1;
		assert_int_equal(open_vm(v0->key, &m0, o, &stage), SEAL_E_AUTH);
		assert_int_equal(stage, 5);
		free(m0.buf);
		free(v0);
	}
	/* A newer seal of the same VM: the old header on the new body (or the
	 * other way round) does not verify. */
	v->h.version = 4;
	assert_int_equal(seal_vm(v, &m2, 0), SEAL_OK);
	memcpy(m2.buf, m1.buf, SEAL_HEADER_LEN);
	assert_int_equal(open_vm(v->key, &m2, o, NULL), SEAL_E_AUTH);
	free(m1.buf);
	free(m2.buf);
	free(v);
	free(o);
}

static void test_truncated_and_extended(void **state)
{
	struct vmstate *v = vm_new(2, 100), *o = vm_new(0, 1);
	struct mem m = mem_new();
	uint64_t full;
	struct seal_header h;
	char err[160];

	(void)state;
	assert_int_equal(seal_vm(v, &m, 0), SEAL_OK);
	full = m.len;
	const uint64_t lens[] = { 0, 1, 151, 152, 167, 168, full - 4096, full - 16,
				  full - 1, full + 1, full + 16, full + 4096 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		int stage;

		m.len = lens[i];
		assert_int_equal(open_vm(v->key, &m, o, &stage), SEAL_E_MALFORMED);
		assert_int_equal(stage, 0);
	}
	m.len = full - 1;
	assert_int_equal(seal_read_header(mem_source, &m, m.len, &h, err, sizeof(err)),
			 SEAL_E_MALFORMED);
	assert_non_null(strstr(err, "header says"));
	/* The header read itself fails: IO. */
	m.len = full;
	m.fail_at = 0;
	m.calls = 0;
	assert_int_equal(seal_read_header(mem_source, &m, m.len, &h, err, sizeof(err)),
			 SEAL_E_IO);
	m.fail_at = -1;
	free(m.buf);
	free(v);
	free(o);
}

static void test_header_refusals(void **state)
{
	struct vmstate *v = vm_new(2, 100);
	struct mem m = mem_new();
	struct seal_writer w;
	struct seal_header h;
	char err[160];

	(void)state;
	assert_int_equal(seal_vm(v, &m, 0), SEAL_OK);
	assert_int_equal(seal_read_header(mem_source, &m, m.len, &h, err, sizeof(err)), SEAL_OK);
	/* Header values the writer refuses (and the reader would). */
	const struct {
		uint64_t version, mem_size;
		uint32_t page_count, context_len;
	} bad[] = {
		{ 1, 0, 0, 100 },
		{ 1, 4095, 0, 100 },
		{ 1, 65536 + 1, 2, 100 },
		{ 1, (1ull << 30) + 4096, 2, 100 },
		{ 1, 4096, 2, 100 },
		{ 1, 65536, 17, 100 },
		{ 1, 65536, 2, 0 },
		{ 1, 65536, 2, SEAL_CONTEXT_MAX + 1 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seal_header hb = v->h;
		struct seal_reader r;
		uint8_t raw[SEAL_HEADER_LEN];
		struct mem mb = mem_new();

		hb.version = bad[i].version;
		hb.mem_size = bad[i].mem_size;
		hb.page_count = bad[i].page_count;
		hb.context_len = bad[i].context_len;
		assert_int_equal(seal_write_begin(&w, v->key, &hb, mem_sink, &m), SEAL_E_MALFORMED);
		assert_int_equal(seal_write_context(&w, v->context, 100), SEAL_E_USAGE);
		assert_int_equal(seal_read_begin(&r, v->key, &hb, mem_source, &m),
				 SEAL_E_MALFORMED);
		/* And in a blob: the reader's header check. */
		memcpy(raw, m.buf, sizeof(raw));
		for (unsigned b = 0; b < 8; b++) {
			raw[16 + b] = (uint8_t)(hb.version >> (8 * b));
			raw[120 + b] = (uint8_t)(hb.mem_size >> (8 * b));
		}
		for (unsigned b = 0; b < 4; b++) {
			raw[128 + b] = (uint8_t)(hb.page_count >> (8 * b));
			raw[132 + b] = (uint8_t)(hb.context_len >> (8 * b));
		}
		memcpy(mb.buf, raw, sizeof(raw));
		mb.len = seal_blob_size(hb.page_count, hb.context_len);
		assert_int_equal(seal_read_header(mem_source, &mb, mb.len, &h, err, sizeof(err)),
				 SEAL_E_MALFORMED);
		assert_true(err[0] != '\0');
		free(mb.buf);
	}
	/* Bad arguments. */
	assert_int_equal(seal_read_header(NULL, &m, m.len, &h, err, sizeof(err)),
			 SEAL_E_MALFORMED);
	assert_int_equal(seal_read_header(mem_source, &m, m.len, NULL, err, sizeof(err)),
			 SEAL_E_MALFORMED);
	assert_int_equal(seal_write_begin(NULL, v->key, &v->h, mem_sink, &m), SEAL_E_USAGE);
	assert_int_equal(seal_write_begin(&w, NULL, &v->h, mem_sink, &m), SEAL_E_USAGE);
	assert_int_equal(seal_write_begin(&w, v->key, NULL, mem_sink, &m), SEAL_E_USAGE);
	assert_int_equal(seal_write_begin(&w, v->key, &v->h, NULL, &m), SEAL_E_USAGE);
	free(m.buf);
	free(v);
}

static void test_write_order(void **state)
{
	struct vmstate *v = vm_new(3, 40);
	struct seal_writer w;
	int rc;

	(void)state;
	/* Each violation, then proof that the writer is dead: even the right
	 * next call fails. */
	for (int k = 0; k < 10; k++) {
		struct mem m = mem_new();

		memset(&w, 0, sizeof(w));
		if (k == 0) {
			/* Never begun. */
			assert_int_equal(seal_write_context(&w, v->context, 40), SEAL_E_USAGE);
			assert_int_equal(seal_write_end(&w), SEAL_E_USAGE);
			free(m.buf);
			continue;
		}
		assert_int_equal(seal_write_begin(&w, v->key, &v->h, mem_sink, &m), SEAL_OK);
		switch (k) {
		case 1: /* page list before the context */
			rc = seal_write_page_list(&w, v->gpas, 3);
			break;
		case 2: /* context too short */
			rc = seal_write_context(&w, v->context, 39);
			break;
		case 3: /* context too long */
			rc = seal_write_context(&w, v->context, 41);
			break;
		case 4: /* a page before the list is complete */
			assert_int_equal(seal_write_context(&w, v->context, 40), SEAL_OK);
			assert_int_equal(seal_write_page_list(&w, v->gpas, 2), SEAL_OK);
			rc = seal_write_page(&w, v->pages[0]);
			break;
		case 5: /* too many GPAs */
			assert_int_equal(seal_write_context(&w, v->context, 40), SEAL_OK);
			assert_int_equal(seal_write_page_list(&w, v->gpas, 2), SEAL_OK);
			rc = seal_write_page_list(&w, v->gpas + 2, 2);
			break;
		case 6: /* end before the last page */
			assert_int_equal(seal_write_context(&w, v->context, 40), SEAL_OK);
			assert_int_equal(seal_write_page_list(&w, v->gpas, 3), SEAL_OK);
			assert_int_equal(seal_write_page(&w, v->pages[0]), SEAL_OK);
			rc = seal_write_end(&w);
			break;
		case 7: /* a page too many */
			assert_int_equal(seal_write_context(&w, v->context, 40), SEAL_OK);
			assert_int_equal(seal_write_page_list(&w, v->gpas, 3), SEAL_OK);
			for (int i = 0; i < 3; i++)
				assert_int_equal(seal_write_page(&w, v->pages[i]), SEAL_OK);
			rc = seal_write_page(&w, v->pages[0]);
			break;
		case 8: /* the context twice */
			assert_int_equal(seal_write_context(&w, v->context, 40), SEAL_OK);
			rc = seal_write_context(&w, v->context, 40);
			break;
		default: /* NULL pointers */
			rc = seal_write_context(&w, NULL, 40);
			break;
		}
		if (rc != SEAL_E_USAGE)
			fail_msg("case %d: %d", k, rc);
		for (size_t i = 0; i < sizeof(w.opaque) / 8; i++)
			assert_int_equal(w.opaque[i], 0);
		assert_int_equal(seal_write_context(&w, v->context, 40), SEAL_E_USAGE);
		assert_int_equal(seal_write_page_list(&w, v->gpas, 3), SEAL_E_USAGE);
		assert_int_equal(seal_write_page(&w, v->pages[0]), SEAL_E_USAGE);
		assert_int_equal(seal_write_end(&w), SEAL_E_USAGE);
		free(m.buf);
	}
	free(v);
}

static void test_read_order(void **state)
{
	struct vmstate *v = vm_new(3, 40), *o = vm_new(3, 40);
	struct mem m = mem_new();
	struct seal_reader r;
	struct seal_header h;
	int rc;

	(void)state;
	assert_int_equal(seal_vm(v, &m, 0), SEAL_OK);
	assert_int_equal(seal_read_header(mem_source, &m, m.len, &h, NULL, 0), SEAL_OK);
	for (int k = 0; k < 9; k++) {
		memset(&r, 0, sizeof(r));
		if (k == 0) {
			assert_int_equal(seal_read_context(&r, o->context, 40), SEAL_E_USAGE);
			assert_int_equal(seal_read_end(&r), SEAL_E_USAGE);
			continue;
		}
		assert_int_equal(seal_read_begin(&r, v->key, &h, mem_source, &m), SEAL_OK);
		switch (k) {
		case 1:
			rc = seal_read_page_list(&r, o->gpas, 3);
			break;
		case 2:
			rc = seal_read_context(&r, o->context, 39);
			break;
		case 3:
			assert_int_equal(seal_read_context(&r, o->context, 40), SEAL_OK);
			assert_int_equal(seal_read_page_list(&r, o->gpas, 1), SEAL_OK);
			rc = seal_read_page(&r, o->pages[0]);
			break;
		case 4:
			assert_int_equal(seal_read_context(&r, o->context, 40), SEAL_OK);
			rc = seal_read_page_list(&r, o->gpas, 4);
			break;
		case 5:
			assert_int_equal(seal_read_context(&r, o->context, 40), SEAL_OK);
			assert_int_equal(seal_read_page_list(&r, o->gpas, 3), SEAL_OK);
			assert_int_equal(seal_read_page(&r, o->pages[0]), SEAL_OK);
			rc = seal_read_end(&r);
			break;
		case 6:
			assert_int_equal(seal_read_context(&r, o->context, 40), SEAL_OK);
			assert_int_equal(seal_read_page_list(&r, o->gpas, 3), SEAL_OK);
			for (int i = 0; i < 3; i++)
				assert_int_equal(seal_read_page(&r, o->pages[i]), SEAL_OK);
			rc = seal_read_page(&r, o->pages[0]);
			break;
		case 7:
			rc = seal_read_end(&r);
			break;
		default:
			rc = seal_read_context(&r, NULL, 40);
			break;
		}
		if (rc != SEAL_E_USAGE)
			fail_msg("case %d: %d", k, rc);
		for (size_t i = 0; i < sizeof(r.opaque) / 8; i++)
			assert_int_equal(r.opaque[i], 0);
		assert_int_equal(seal_read_context(&r, o->context, 40), SEAL_E_USAGE);
		assert_int_equal(seal_read_page_list(&r, o->gpas, 3), SEAL_E_USAGE);
		assert_int_equal(seal_read_page(&r, o->pages[0]), SEAL_E_USAGE);
		assert_int_equal(seal_read_end(&r), SEAL_E_USAGE);
	}
	/* The page list in several calls is fine. */
	assert_int_equal(seal_read_begin(&r, v->key, &h, mem_source, &m), SEAL_OK);
	assert_int_equal(seal_read_context(&r, o->context, 40), SEAL_OK);
	assert_int_equal(seal_read_page_list(&r, o->gpas, 1), SEAL_OK);
	assert_int_equal(seal_read_page_list(&r, o->gpas + 1, 0), SEAL_OK);
	assert_int_equal(seal_read_page_list(&r, o->gpas + 1, 2), SEAL_OK);
	for (int i = 0; i < 3; i++)
		assert_int_equal(seal_read_page(&r, o->pages[i]), SEAL_OK);
	assert_int_equal(seal_read_end(&r), SEAL_OK);
	o->h = h;
	assert_same_state(v, o);
	free(m.buf);
	free(v);
	free(o);
}

static void test_empty_page_list(void **state)
{
	struct vmstate *v = vm_new(0, 33), *o = vm_new(0, 1);
	struct mem m = mem_new();
	struct seal_writer w;
	struct seal_reader r;
	struct seal_header h;

	(void)state;
	/* With an explicit empty list (open_vm reads one too) ... */
	assert_int_equal(seal_write_begin(&w, v->key, &v->h, mem_sink, &m), SEAL_OK);
	assert_int_equal(seal_write_context(&w, v->context, 33), SEAL_OK);
	assert_int_equal(seal_write_page_list(&w, NULL, 0), SEAL_OK);
	assert_int_equal(seal_write_end(&w), SEAL_OK);
	assert_int_equal(open_vm(v->key, &m, o, NULL), SEAL_OK);
	assert_same_state(v, o);
	/* ... or without one, both ways. */
	m.len = m.next = 0;
	assert_int_equal(seal_write_begin(&w, v->key, &v->h, mem_sink, &m), SEAL_OK);
	assert_int_equal(seal_write_context(&w, v->context, 33), SEAL_OK);
	assert_int_equal(seal_write_end(&w), SEAL_OK);
	assert_int_equal(m.len, seal_blob_size(0, 33));
	assert_int_equal(seal_read_header(mem_source, &m, m.len, &h, NULL, 0), SEAL_OK);
	assert_int_equal(seal_read_begin(&r, v->key, &h, mem_source, &m), SEAL_OK);
	assert_int_equal(seal_read_context(&r, o->context, 33), SEAL_OK);
	assert_int_equal(seal_read_end(&r), SEAL_OK);
	assert_memory_equal(o->context, v->context, 33);
	free(m.buf);
	free(v);
	free(o);
}

static void test_callback_failures(void **state)
{
	struct vmstate *v = vm_new(3, 1000), *o = vm_new(0, 1);
	struct mem m = mem_new();
	int calls, stage;

	(void)state;
	/* Count the sink's calls of a good seal, then fail each in turn. */
	assert_int_equal(seal_vm(v, &m, 0), SEAL_OK);
	calls = m.calls;
	assert_true(calls > 5);
	for (int k = 0; k < calls; k++) {
		struct mem mk = mem_new();

		mk.fail_at = k;
		assert_int_equal(seal_vm(v, &mk, 1), SEAL_E_IO);
		free(mk.buf);
	}
	/* The same for the source, from a good blob. */
	m.calls = 0;
	assert_int_equal(open_vm(v->key, &m, o, NULL), SEAL_OK);
	calls = m.calls;
	for (int k = 0; k < calls; k++) {
		m.calls = 0;
		m.fail_at = k;
		assert_int_equal(open_vm(v->key, &m, o, &stage), SEAL_E_IO);
	}
	m.fail_at = -1;
	free(m.buf);
	free(v);
	free(o);
}

static void test_bad_page_lists(void **state)
{
	struct vmstate *v = vm_new(3, 40), *o = vm_new(0, 1);
	const uint64_t M = 16 * SEAL_PAGE_SIZE;
	const uint64_t bad[][3] = {
		{ 0x1000, 0x1000, 0x2000 },     /* duplicate */
		{ 0x3000, 0x2000, 0x4000 },     /* descending */
		{ 0x1000, 0x2001, 0x4000 },     /* unaligned */
		{ 0x1000, 0x2000, M },          /* at the memory size */
		{ 0x1000, 0x2000, UINT64_MAX & ~0xfffull }, /* far beyond */
	};
	uint8_t *pt = malloc(BLOB_CAP);

	(void)state;
	assert_non_null(pt);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mem m = mem_new();
		struct seal_writer w;
		size_t len;
		int stage;

		/* The writer refuses it, in one call ... */
		assert_int_equal(seal_write_begin(&w, v->key, &v->h, mem_sink, &m), SEAL_OK);
		assert_int_equal(seal_write_context(&w, v->context, 40), SEAL_OK);
		assert_int_equal(seal_write_page_list(&w, bad[i], 3), SEAL_E_MALFORMED);
		assert_int_equal(seal_write_page(&w, v->pages[0]), SEAL_E_USAGE);
		/* ... and across calls. */
		assert_int_equal(seal_write_begin(&w, v->key, &v->h, mem_sink, &m), SEAL_OK);
		assert_int_equal(seal_write_context(&w, v->context, 40), SEAL_OK);
		assert_int_equal(seal_write_page_list(&w, bad[i], 1), SEAL_OK);
		assert_int_equal(seal_write_page_list(&w, bad[i] + 1, 2), SEAL_E_MALFORMED);

		/* A blob with that list and a valid tag, made by hand: the reader
		 * refuses it at the page list, and as authentic: MALFORMED. */
		m.len = m.next = 0;
		assert_int_equal(seal_vm(v, &m, 0), SEAL_OK);
		memcpy(v->gpas, bad[i], sizeof(bad[i]));
		len = body_plaintext(v, pt);
		forge_body(v->key, &m, pt, len);
		assert_int_equal(open_vm(v->key, &m, o, &stage), SEAL_E_MALFORMED);
		assert_int_equal(stage, 3);
		for (size_t g = 0; g < 3; g++)
			assert_int_equal(o->gpas[g], 0); /* wiped */
		free(m.buf);
		free(v);
		v = vm_new(3, 40);
	}
	/* Non-zero padding with a valid tag (no writer makes it): refused at
	 * the end, after the tag. */
	{
		struct mem m = mem_new();
		size_t len;
		int stage;

		assert_int_equal(seal_vm(v, &m, 0), SEAL_OK);
		len = body_plaintext(v, pt);
		pt[45] = 1; /* context padding */
		forge_body(v->key, &m, pt, len);
		assert_int_equal(open_vm(v->key, &m, o, &stage), SEAL_E_MALFORMED);
		assert_int_equal(stage, 5);
		len = body_plaintext(v, pt);
		pt[48 + 24 + 3] = 1; /* page list padding */
		forge_body(v->key, &m, pt, len);
		assert_int_equal(open_vm(v->key, &m, o, &stage), SEAL_E_MALFORMED);
		assert_int_equal(stage, 5);
		/* And the untouched plaintext, forged the same way, opens: the
		 * hand-made layout is the writer's. */
		len = body_plaintext(v, pt);
		forge_body(v->key, &m, pt, len);
		assert_int_equal(open_vm(v->key, &m, o, NULL), SEAL_OK);
		free(m.buf);
	}
	free(pt);
	free(v);
	free(o);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(seal_strerror(SEAL_OK), "ok");
	assert_non_null(strstr(seal_strerror(SEAL_E_AUTH), "authenticate"));
	assert_non_null(strstr(seal_strerror(SEAL_E_MALFORMED), "malformed"));
	assert_non_null(strstr(seal_strerror(SEAL_E_IO), "I/O"));
	assert_non_null(strstr(seal_strerror(SEAL_E_USAGE), "order"));
	assert_non_null(strstr(seal_strerror(SEAL_E_CRYPTO), "crypto"));
	assert_non_null(strstr(seal_strerror(42), "unknown"));
}

/* ---- --write DIR: seeds for the fuzzer ---------------------------------------- */

/* The fuzzer's fixed key (tests/fuzz/fuzz_seal.c has the same). */
static void fuzz_key(uint8_t key[SEAL_KEY_LEN])
{
	for (unsigned i = 0; i < SEAL_KEY_LEN; i++)
		key[i] = (uint8_t)(0xa0 + i);
}

/* Input format of fuzz_seal: one mode byte, then a blob. Mode 0: the blob
 * as is. Mode 1: header, body plaintext, 16 ignored bytes (the fuzzer
 * encrypts the body and puts the real tag there). */
static int write_samples(const char *dir)
{
	static const uint32_t shapes[][2] = { { 0, 20 }, { 1, 100 }, { 2, 16 } };
	uint8_t *pt = malloc(BLOB_CAP);
	int rc = 0;

	if (!pt)
		return 1;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct vmstate *v = vm_new(shapes[i][0], shapes[i][1]);
		struct mem m = { .buf = calloc(1, BLOB_CAP), .fail_at = -1 };
		char name[64];
		size_t len;

		if (!v || !m.buf)
			return 1;
		v->h.mem_size = 4 * SEAL_PAGE_SIZE;
		fuzz_key(v->key);
		if (seal_vm(v, &m, 0) != SEAL_OK) {
			fprintf(stderr, "seal failed\n");
			return 1;
		}
		snprintf(name, sizeof(name), "blob_%up_%uc.bin", shapes[i][0], shapes[i][1]);
		rc |= write_seed(dir, name, 0, m.buf, m.len);
		len = body_plaintext(v, pt);
		memcpy(m.buf + SEAL_HEADER_LEN, pt, len);
		memset(m.buf + SEAL_HEADER_LEN + len, 0, SEAL_TAG_LEN);
		snprintf(name, sizeof(name), "plain_%up_%uc.bin", shapes[i][0], shapes[i][1]);
		rc |= write_seed(dir, name, 1, m.buf, m.len);
		free(m.buf);
		free(v);
	}
	free(pt);
	return rc;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blob_size),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_objects_wiped_at_end),
		cmocka_unit_test(test_fresh_iv),
		cmocka_unit_test(test_tampering),
		cmocka_unit_test(test_swapped_fields_and_wrong_key),
		cmocka_unit_test(test_truncated_and_extended),
		cmocka_unit_test(test_header_refusals),
		cmocka_unit_test(test_write_order),
		cmocka_unit_test(test_read_order),
		cmocka_unit_test(test_empty_page_list),
		cmocka_unit_test(test_callback_failures),
		cmocka_unit_test(test_bad_page_lists),
		cmocka_unit_test(test_strerror),
	};

	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_samples(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
