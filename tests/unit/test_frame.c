/*
 * Tests of the serial-line session framing (wire/frame.c): CRC-32C known
 * answers, encode/decode round trips, every split point of a multi-frame
 * stream, garbage, flipped bits, lost bytes and truncation (the frame is
 * dropped and the next good one is found), the payload limit, and
 * duplicates passed up as they came. Also the TPGVM's client of the
 * relay's storage frames (tpgvm/storage.c) against a fake relay.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <custos/frame.h>

/* Everything the sink saw, copied (payload pointers die with the call). */
#define MAX_SEEN 64
struct seen {
	size_t n;
	struct frame f[MAX_SEEN];
	uint8_t data[MAX_SEEN][FRAME_MAX_PAYLOAD];
};

static void collect(void *ctx, const struct frame *f)
{
	struct seen *s = ctx;

	assert_true(s->n < MAX_SEEN);
	assert_true(f->len <= FRAME_MAX_PAYLOAD);
	s->f[s->n] = *f;
	memcpy(s->data[s->n], f->payload, f->len);
	s->f[s->n].payload = s->data[s->n];
	s->n++;
}

static struct seen *new_seen(void)
{
	struct seen *s = calloc(1, sizeof(*s));

	assert_non_null(s);
	return s;
}

/* A test stream: several frames of each type, lengths 0, 1, 300, max. */
struct stream {
	uint8_t bytes[8 * FRAME_MAX_LEN];
	size_t len;
	size_t frames;
	size_t start[8];
};

static const uint16_t stream_lens[] = { 0, 5, 300, 1, FRAME_MAX_PAYLOAD, 17, 906, 5 };
static const uint8_t stream_types[] = {
	FRAME_HELLO, FRAME_OPEN, FRAME_DATA, FRAME_DATA, FRAME_DATA, FRAME_CLOSE,
	FRAME_STORE, FRAME_STORED,
};

static uint8_t payload_byte(size_t frame, size_t i)
{
	return (uint8_t)(frame * 31 + i * 7 + (i >> 8));
}

static void make_stream(struct stream *st)
{
	uint8_t pl[FRAME_MAX_PAYLOAD];

	st->len = 0;
	st->frames = ARRAY_SIZE(stream_lens);
	for (size_t k = 0; k < st->frames; k++) {
		for (size_t i = 0; i < stream_lens[k]; i++)
			pl[i] = payload_byte(k, i);
		st->start[k] = st->len;
		st->len += frame_encode(stream_types[k], (uint16_t)(k * 0x101), pl,
					stream_lens[k], st->bytes + st->len,
					sizeof(st->bytes) - st->len);
		assert_int_equal(st->len, st->start[k] + FRAME_HDR_LEN + stream_lens[k]);
	}
}

/* Frame number k of make_stream() was seen as s->f[i]. */
static void assert_stream_frame(const struct seen *s, size_t i, size_t k)
{
	assert_true(i < s->n);
	assert_int_equal(s->f[i].type, stream_types[k]);
	assert_int_equal(s->f[i].sid, k * 0x101);
	assert_int_equal(s->f[i].len, stream_lens[k]);
	for (size_t j = 0; j < stream_lens[k]; j++)
		assert_int_equal(s->f[i].payload[j], payload_byte(k, j));
}

static void feed(struct frame_decoder *d, const uint8_t *p, size_t n,
		 struct seen *s)
{
	frame_decoder_feed(d, p, n, collect, s);
}

/* ---- CRC and encoder ------------------------------------------------------ */

static void test_crc32c_known_answers(void **state)
{
	static const uint8_t zeros[32];

	(void)state;
	assert_int_equal(frame_crc32c(0, "123456789", 9), 0xE3069283u);
	assert_int_equal(frame_crc32c(0, "", 0), 0);
	/* RFC 3720 B.4: 32 bytes of zeros. */
	assert_int_equal(frame_crc32c(0, zeros, sizeof(zeros)), 0x8A9136AAu);
	/* Incremental equals one-shot. */
	assert_int_equal(frame_crc32c(frame_crc32c(0, "1234", 4), "56789", 5),
			 0xE3069283u);
}

static void test_encode_layout(void **state)
{
	uint8_t out[64];
	size_t n;

	(void)state;
	n = frame_encode(FRAME_DATA, 0x0203, "hi", 2, out, sizeof(out));
	assert_int_equal(n, FRAME_HDR_LEN + 2);
	assert_int_equal(out[0], 0xC5);
	assert_int_equal(out[1], 0x7A);
	assert_int_equal(out[2], 0x12);
	assert_int_equal(out[3], 0x03);
	assert_int_equal(out[4], 0x02);
	assert_int_equal(out[5], 2);
	assert_int_equal(out[6], 0);
	assert_int_equal(out[7] | out[8] << 8 | out[9] << 16 | (uint32_t)out[10] << 24,
			 frame_crc32c(0, "hi", 2));
	assert_int_equal(out[11] | out[12] << 8 | out[13] << 16 | (uint32_t)out[14] << 24,
			 frame_crc32c(0, out, 11));
	assert_memory_equal(out + 15, "hi", 2);
}

static void test_encode_refuses(void **state)
{
	static uint8_t big[FRAME_MAX_PAYLOAD + 1];
	static uint8_t out[FRAME_MAX_LEN + 16];

	(void)state;
	assert_int_equal(frame_encode(FRAME_DATA, 1, big, sizeof(big), out, sizeof(out)), 0);
	assert_int_equal(frame_encode(0, 1, NULL, 0, out, sizeof(out)), 0);
	assert_int_equal(frame_encode(7, 1, NULL, 0, out, sizeof(out)), 0);
	assert_int_equal(frame_encode(FRAME_STORE, 1, NULL, 0, out, sizeof(out)),
			 FRAME_HDR_LEN);
	assert_int_equal(frame_encode(FRAME_DATA, 1, big, 10, out, FRAME_HDR_LEN + 9), 0);
	assert_int_equal(frame_encode(FRAME_DATA, 1, NULL, 1, out, sizeof(out)), 0);
	assert_int_equal(frame_encode(FRAME_DATA, 1, big, FRAME_MAX_PAYLOAD, out,
				      sizeof(out)), FRAME_MAX_LEN);
}

/* ---- Decoder ---------------------------------------------------------------- */

static void test_round_trip_whole_stream(void **state)
{
	static struct stream st;
	static struct frame_decoder d;
	struct seen *s = new_seen();

	(void)state;
	make_stream(&st);
	frame_decoder_init(&d);
	feed(&d, st.bytes, st.len, s);
	assert_int_equal(s->n, st.frames);
	for (size_t k = 0; k < st.frames; k++)
		assert_stream_frame(s, k, k);
	assert_int_equal(d.have, 0);
	assert_int_equal(d.stats.skipped + d.stats.bad_header + d.stats.bad_payload, 0);
	free(s);
}

/* Two chunks, split at every byte; then byte by byte. */
static void test_every_split(void **state)
{
	static struct stream st;
	static struct frame_decoder d;
	struct seen *s = new_seen();

	(void)state;
	make_stream(&st);
	for (size_t cut = 0; cut <= st.len; cut++) {
		memset(s, 0, sizeof(*s));
		frame_decoder_init(&d);
		feed(&d, st.bytes, cut, s);
		feed(&d, st.bytes + cut, st.len - cut, s);
		assert_int_equal(s->n, st.frames);
		for (size_t k = 0; k < st.frames; k++)
			assert_stream_frame(s, k, k);
	}
	memset(s, 0, sizeof(*s));
	frame_decoder_init(&d);
	for (size_t i = 0; i < st.len; i++)
		feed(&d, st.bytes + i, 1, s);
	assert_int_equal(s->n, st.frames);
	free(s);
}

static void test_garbage_before_and_between(void **state)
{
	static struct stream st;
	static struct frame_decoder d;
	static uint8_t buf[sizeof(st.bytes) * 2];
	/* Noise that includes sync bytes and a sync marker with a bad header. */
	static const uint8_t noise[] = { 0x00, 0xC5, 0xC5, 0x7A, 0x12, 0xff, 0xC5,
					 0x7A, 0x7A, 0x55, 0xC5 };
	struct seen *s = new_seen();
	size_t n = 0;

	(void)state;
	make_stream(&st);
	for (size_t k = 0; k < st.frames; k++) {
		size_t end = k + 1 < st.frames ? st.start[k + 1] : st.len;

		memcpy(buf + n, noise, sizeof(noise) - (k % 3));
		n += sizeof(noise) - (k % 3);
		memcpy(buf + n, st.bytes + st.start[k], end - st.start[k]);
		n += end - st.start[k];
	}
	frame_decoder_init(&d);
	feed(&d, buf, n, s);
	assert_int_equal(s->n, st.frames);
	for (size_t k = 0; k < st.frames; k++)
		assert_stream_frame(s, k, k);
	assert_true(d.stats.skipped > 0);
	free(s);
}

/* A flipped bit anywhere in frame k loses exactly that frame: the decoder
 * finds frame k+1 and everything after it. */
static void test_flipped_bits(void **state)
{
	static struct stream st, bad;
	static struct frame_decoder d;
	struct seen *s = new_seen();
	const size_t k = 2; /* the 300-byte DATA frame */
	size_t flen = FRAME_HDR_LEN + stream_lens[k];

	(void)state;
	make_stream(&st);
	for (size_t i = 0; i < flen; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			bad = st;
			bad.bytes[st.start[k] + i] ^= (uint8_t)(1u << bit);
			memset(s, 0, sizeof(*s));
			frame_decoder_init(&d);
			feed(&d, bad.bytes, bad.len, s);
			assert_int_equal(s->n, st.frames - 1);
			for (size_t j = 0, seen = 0; j < st.frames; j++)
				if (j != k)
					assert_stream_frame(s, seen++, j);
		}
	}
	free(s);
}

/* A frame cut short (the line lost its tail), then good frames: the cut
 * frame's header claims bytes that belong to the frames after it. They are
 * found once that claim is filled (here by a second copy of the stream), or
 * at once when the caller declares the line quiet (frame_decoder_resync). */
static void test_truncated_then_good(void **state)
{
	static struct stream st;
	static struct frame_decoder d;
	static uint8_t buf[2 * sizeof(st.bytes)];
	struct seen *s = new_seen();
	const size_t k = 4; /* the maximal frame */

	(void)state;
	make_stream(&st);
	for (size_t keep = 1; keep < FRAME_HDR_LEN + stream_lens[k]; keep += 37) {
		size_t n = st.start[k] + keep, tail = st.len - st.start[k + 1];

		memcpy(buf, st.bytes, n);
		memcpy(buf + n, st.bytes + st.start[k + 1], tail);
		n += tail;
		memset(s, 0, sizeof(*s));
		frame_decoder_init(&d);
		feed(&d, buf, n, s);
		frame_decoder_resync(&d, collect, s);
		assert_int_equal(s->n, st.frames - 1);
		for (size_t j = 0; j < k; j++)
			assert_stream_frame(s, j, j);
		assert_stream_frame(s, k, k + 1);
		assert_int_equal(d.have, 0);

		memset(s, 0, sizeof(*s));
		frame_decoder_init(&d);
		feed(&d, buf, n, s);
		feed(&d, st.bytes, st.len, s);
		assert_int_equal(s->n, 2 * st.frames - 1);
		assert_stream_frame(s, k, k + 1);
		for (size_t j = 0; j < st.frames; j++)
			assert_stream_frame(s, st.frames + j - 1, j);
	}
	free(s);
}

static void test_max_payload_and_oversize(void **state)
{
	static uint8_t buf[2 * FRAME_MAX_LEN + 64];
	static uint8_t pl[FRAME_MAX_PAYLOAD];
	static struct frame_decoder d;
	struct seen *s = new_seen();
	size_t n;

	(void)state;
	memset(pl, 0xC5, sizeof(pl)); /* sync bytes inside the payload */
	n = frame_encode(FRAME_DATA, 7, pl, sizeof(pl), buf, sizeof(buf));
	/* A header claiming 1025 bytes, its CRCs correct: refused, not waited on. */
	buf[n] = 0xC5;
	buf[n + 1] = 0x7A;
	buf[n + 2] = 0x12;
	buf[n + 3] = 7;
	buf[n + 4] = 0;
	buf[n + 5] = (FRAME_MAX_PAYLOAD + 1) & 0xff;
	buf[n + 6] = (FRAME_MAX_PAYLOAD + 1) >> 8;
	memset(buf + n + 7, 0, 4);
	{
		uint32_t c = frame_crc32c(0, buf + n, 11);

		for (int i = 0; i < 4; i++)
			buf[n + 11 + i] = (uint8_t)(c >> (8 * i));
	}
	n += FRAME_HDR_LEN;
	n += frame_encode(FRAME_CLOSE, 7, NULL, 0, buf + n, sizeof(buf) - n);
	frame_decoder_init(&d);
	feed(&d, buf, n, s);
	assert_int_equal(s->n, 2);
	assert_int_equal(s->f[0].len, FRAME_MAX_PAYLOAD);
	assert_memory_equal(s->f[0].payload, pl, sizeof(pl));
	assert_int_equal(s->f[1].type, FRAME_CLOSE);
	assert_int_equal(d.stats.bad_header, 1);
	free(s);
}

/* Unknown version or type with a correct CRC: not a frame. */
static void test_unknown_version_or_type(void **state)
{
	static struct frame_decoder d;
	struct seen *s = new_seen();
	uint8_t buf[3 * FRAME_HDR_LEN];

	(void)state;
	for (int v = 0; v < 2; v++) {
		frame_encode(FRAME_DATA, 1, NULL, 0, buf, sizeof(buf));
		buf[2] = v ? 0x22 : 0x17; /* version 2; type 7 */
		{
			uint32_t c = frame_crc32c(0, buf, 11);

			for (int i = 0; i < 4; i++)
				buf[11 + i] = (uint8_t)(c >> (8 * i));
		}
		frame_encode(FRAME_HELLO, 0, NULL, 0, buf + FRAME_HDR_LEN, FRAME_HDR_LEN);
		memset(s, 0, sizeof(*s));
		frame_decoder_init(&d);
		feed(&d, buf, 2 * FRAME_HDR_LEN, s);
		assert_int_equal(s->n, 1);
		assert_int_equal(s->f[0].type, FRAME_HELLO);
	}
	free(s);
}

static void test_duplicates_passed_up(void **state)
{
	static struct frame_decoder d;
	struct seen *s = new_seen();
	uint8_t buf[3 * (FRAME_HDR_LEN + 3)];
	size_t n = frame_encode(FRAME_DATA, 3, "abc", 3, buf, sizeof(buf));

	(void)state;
	memcpy(buf + n, buf, n);
	memcpy(buf + 2 * n, buf, n);
	frame_decoder_init(&d);
	feed(&d, buf, 3 * n, s);
	assert_int_equal(s->n, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(s->f[i].sid, 3);
		assert_memory_equal(s->f[i].payload, "abc", 3);
	}
	free(s);
}

/* Pure noise of any size leaves the decoder bounded and still working. */
static void test_noise_then_frame(void **state)
{
	static struct frame_decoder d;
	static uint8_t noise[50000];
	struct seen *s = new_seen();
	uint8_t buf[FRAME_HDR_LEN + 2];
	uint32_t x = 12345;

	(void)state;
	for (size_t i = 0; i < sizeof(noise); i++) {
		x = x * 1103515245u + 12345u;
		noise[i] = (i % 5 == 0) ? 0xC5 : (i % 5 == 1) ? 0x7A : (uint8_t)(x >> 16);
	}
	frame_decoder_init(&d);
	feed(&d, noise, sizeof(noise), s);
	assert_true(d.have < FRAME_MAX_LEN);
	/* Enough zero bytes to flush any header the noise may have begun. */
	memset(noise, 0, FRAME_MAX_LEN);
	feed(&d, noise, FRAME_MAX_LEN, s);
	s->n = 0;
	feed(&d, buf, frame_encode(FRAME_DATA, 9, "ok", 2, buf, sizeof(buf)), s);
	assert_int_equal(s->n, 1);
	assert_memory_equal(s->f[0].payload, "ok", 2);
	free(s);
}

/* ---- The TPGVM's storage client (tpgvm/storage.c) against a fake relay --
 * storage.c is portable apart from the transport it is handed and the
 * clock, both defined here: the STORE frames it queues are recorded, the
 * clock is ours. */
#include "tpgvm/storage.c"

static struct {
	uint64_t now;
	bool full;               /* the output queue has no room */
	size_t n;                /* STORE frames queued */
	uint16_t id[64];
	uint8_t req[64][FRAME_MAX_PAYLOAD];
	size_t len[64];
} fake;

static bool fake_store(uint16_t id, const uint8_t *payload, size_t len)
{
	if (fake.full)
		return false;
	assert_true(fake.n < 64 && len <= FRAME_MAX_PAYLOAD);
	fake.id[fake.n] = id;
	memcpy(fake.req[fake.n], payload, len);
	fake.len[fake.n] = len;
	fake.n++;
	return true;
}

static const struct transport fake_transport = { .store = fake_store };

uint64_t tpgvm_now(void)
{
	return fake.now;
}

/* The TSC rate of Bochs at the platform tests' ips (the TCB tells it). */
#define TEST_TSC_HZ 2000000ull

static void storage_reset(void **state)
{
	(void)state;
	memset(ops, 0, sizeof(ops));
	memset(&fake, 0, sizeof(fake));
	fake.now = 1000;
	timebase_set(TEST_TSC_HZ);
	storage_init(&fake_transport);
}

/* The last STORE queued: op, name, offset, data length. */
static void assert_req(uint8_t op, const char *name, uint32_t off, size_t dlen)
{
	const uint8_t *r;
	size_t nl = strlen(name);

	assert_true(fake.n > 0);
	r = fake.req[fake.n - 1];
	assert_int_equal(r[0], op);
	assert_int_equal(r[1], nl);
	assert_memory_equal(r + 2, name, nl);
	assert_int_equal(r[2 + nl] | r[3 + nl] << 8 | r[4 + nl] << 16 |
			 (uint32_t)r[5 + nl] << 24, off);
	assert_int_equal(fake.len[fake.n - 1], 6 + nl + dlen);
}

/* The relay answers the last STORE. */
static void answer(uint8_t status, uint32_t total, const uint8_t *data, size_t n)
{
	uint8_t a[5 + STORAGE_CHUNK + 8];

	a[0] = status;
	for (int i = 0; i < 4; i++)
		a[1 + i] = (uint8_t)(total >> (8 * i));
	if (n)
		memcpy(a + 5, data, n);
	storage_on_stored(fake.id[fake.n - 1], a, 5 + n);
}

/* A relay holding blobs in memory (docs/relay.md, "Storage": PUT into the
 * part, no holes; COMMIT renames; GET reads up to STORAGE_CHUNK bytes from
 * the offset), which answers every STORE queued since it last did. It
 * reads them in order, as the real one does, but its answers may arrive
 * in reverse: each carries its id. */
static struct {
	uint8_t part[1 << 16], blob[1 << 16];
	size_t part_len, blob_len, served;
	uint8_t ans[64][5 + STORAGE_CHUNK];
	size_t ans_len[64];
} rel;

static void relay_serve(bool reverse)
{
	size_t from = rel.served, to = fake.n;

	for (size_t i = from; i < to; i++) {
		const uint8_t *r = fake.req[i];
		size_t nl = r[1], dlen = fake.len[i] - 6 - nl;
		uint32_t off = r[2 + nl] | r[3 + nl] << 8 | r[4 + nl] << 16 |
			       (uint32_t)r[5 + nl] << 24;
		uint8_t *a = rel.ans[i % 64];
		size_t n = 0;

		memset(a, 0, 5);
		switch (r[0]) {
		case ST_PUT:
			if (off > rel.part_len) {
				/* the real relay writes it, leaving a gap for a lost
				 * PUT; here nothing is lost, so a gap is a bug */
				a[0] = STORED_BAD;
				break;
			}
			memcpy(rel.part + off, r + 6 + nl, dlen);
			if (off + dlen > rel.part_len)
				rel.part_len = off + dlen;
			break;
		case ST_COMMIT:
			assert_int_equal(off, rel.part_len);
			memcpy(rel.blob, rel.part, rel.part_len);
			rel.blob_len = rel.part_len;
			break;
		case ST_GET:
			if (off > rel.blob_len) {
				a[0] = STORED_BAD;
				break;
			}
			n = rel.blob_len - off < STORAGE_CHUNK ? rel.blob_len - off : STORAGE_CHUNK;
			memcpy(a + 5, rel.blob + off, n);
			for (int b = 0; b < 4; b++)
				a[1 + b] = (uint8_t)(rel.blob_len >> (8 * b));
			break;
		default:
			fail();
		}
		rel.ans_len[i % 64] = 5 + n;
	}
	for (size_t k = 0; k < to - from; k++) {
		size_t i = reverse ? to - 1 - k : from + k;
		storage_on_stored(fake.id[i], rel.ans[i % 64], rel.ans_len[i % 64]);
	}
	rel.served = to;
}

/* Steps and serves until the operation's piece (or the whole) is done. */
static enum storage_result stream_run(int h, size_t *len, bool reverse)
{
	enum storage_result r;

	for (unsigned i = 0; i < 100; i++) {
		size_t before = fake.n;

		while (storage_step())
			;
		assert_true(fake.n - before <= STORAGE_WINDOW + 1);
		relay_serve(reverse);
		r = storage_poll(h, len, NULL);
		if (r != STORAGE_PENDING)
			return r;
	}
	fail();
	return STORAGE_FAILED;
}

/* A blob through a bounded window both ways: a streamed put of pieces,
 * up to STORAGE_WINDOW requests out, answers in any order, COMMIT after
 * the last; a streamed get of pieces at any offset, cut at the end. */
static void test_storage_streams(void **state)
{
	static uint8_t blob[12345], got[20000];
	size_t len = 0;
	uint64_t total = 0;
	int h;

	storage_reset(state);
	memset(&rel, 0, sizeof(rel));
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7 + i / 256);
	h = storage_put_stream("0011223344556677-big.sealed");
	assert_true(h >= 0);
	assert_int_equal(storage_get_stream("0011223344556677-big.sealed"), -1);
	assert_int_equal(storage_poll(h, &len, NULL), STORAGE_PIECE); /* none yet */
	assert_int_equal(storage_put_piece(h, blob, 10000, false), 0);
	assert_int_equal(storage_put_piece(h, blob, 1, false), -1); /* under way */
	while (storage_step())
		;
	assert_int_equal(fake.n, 1); /* offset 0 truncates: alone */
	relay_serve(false);
	while (storage_step())
		;
	assert_int_equal(fake.n, 1 + STORAGE_WINDOW); /* a window, not all 11 */
	assert_req(ST_PUT, "0011223344556677-big.sealed", 8 * STORAGE_CHUNK, STORAGE_CHUNK);
	assert_int_equal(stream_run(h, &len, true), STORAGE_PIECE);
	assert_int_equal(len, 10000);
	assert_int_equal(rel.blob_len, 0); /* not committed */
	assert_int_equal(storage_put_piece(h, blob + 10000, sizeof(blob) - 10000, true), 0);
	assert_int_equal(stream_run(h, &len, false), STORAGE_OK);
	assert_int_equal(len, sizeof(blob));
	assert_int_equal(rel.blob_len, sizeof(blob));
	assert_memory_equal(rel.blob, blob, sizeof(blob));
	assert_int_equal(storage_put_piece(h, blob, 1, true), -1); /* over */
	storage_release(h);

	h = storage_get_stream("0011223344556677-big.sealed");
	assert_true(h >= 0);
	assert_false(storage_stream_total(h, &total));
	assert_int_equal(storage_get_piece(h, 0, got, 0), -1); /* size unknown */
	assert_int_equal(storage_get_piece(h, 0, got, sizeof(got)), 0);
	while (storage_step())
		;
	assert_int_equal(fake.n - rel.served, 1); /* one, until the size is known */
	assert_int_equal(stream_run(h, &len, true), STORAGE_PIECE);
	assert_true(storage_stream_total(h, &total));
	assert_int_equal(total, sizeof(blob));
	assert_int_equal(len, sizeof(blob));
	assert_memory_equal(got, blob, sizeof(blob));
	memset(got, 0, sizeof(got));
	assert_int_equal(storage_get_piece(h, 12000, got, 4096), 0);
	assert_int_equal(stream_run(h, &len, false), STORAGE_PIECE);
	assert_int_equal(len, sizeof(blob) - 12000);
	assert_memory_equal(got, blob + 12000, len);
	assert_int_equal(storage_get_piece(h, 1000, got, 2000), 0);
	assert_int_equal(stream_run(h, &len, true), STORAGE_PIECE);
	assert_int_equal(len, 2000);
	assert_memory_equal(got, blob + 1000, len);
	assert_int_equal(storage_get_piece(h, sizeof(blob), got, 16), 0);
	assert_int_equal(storage_poll(h, &len, NULL), STORAGE_PIECE);
	assert_int_equal(len, 0);
	assert_int_equal(storage_get_piece(h, sizeof(blob) + 16, got, 16), -1);
	/* the blob changes under the reader: it fails */
	assert_int_equal(storage_get_piece(h, 0, got, 4000), 0);
	while (storage_step())
		;
	rel.blob_len = 11000;
	relay_serve(false);
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_FAILED);
	storage_release(h);
	/* A put that goes on at an offset (the retry of a committed seal's
	 * last piece): the part file holds what came before, the first PUT
	 * goes at that offset, not 0, and COMMIT gives the whole total. */
	memset(&rel, 0, sizeof(rel));
	fake.n = 0; /* room for its requests */
	h = storage_put_stream("0011223344556677-big.sealed");
	assert_int_equal(storage_put_piece(h, blob, 9000, false), 0);
	assert_int_equal(stream_run(h, &len, false), STORAGE_PIECE);
	storage_release(h); /* its last piece and COMMIT were lost */
	assert_int_equal(rel.blob_len, 0);
	assert_int_equal(storage_put_stream_at("0011223344556677-big.sealed",
					       1ull << 32), -1);
	h = storage_put_stream_at("0011223344556677-big.sealed", 9000);
	assert_true(h >= 0);
	assert_int_equal(storage_put_piece(h, blob + 9000, sizeof(blob) - 9000, true), 0);
	while (storage_step())
		;
	{
		const uint8_t *o = fake.req[rel.served] + 2 + 27;

		assert_int_equal(o[0] | o[1] << 8 | o[2] << 16 | (uint32_t)o[3] << 24, 9000);
	}
	assert_int_equal(stream_run(h, &len, true), STORAGE_OK);
	assert_int_equal(len, sizeof(blob));
	assert_int_equal(rel.blob_len, sizeof(blob));
	assert_memory_equal(rel.blob, blob, sizeof(blob));
	storage_release(h);
	/* a relay that restarts fails a stream half-way */
	h = storage_put_stream("0011223344556677-big.sealed");
	assert_int_equal(storage_put_piece(h, blob, 5000, true), 0);
	while (storage_step())
		;
	storage_relay_restarted();
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_FAILED);
	storage_release(h);
}

static void test_storage_put(void **state)
{
	static uint8_t blob[2000];
	size_t len = 0;
	const char *why;
	int h;

	storage_reset(state);
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 13);
	h = storage_put("0011223344556677-web.sealed", blob, sizeof(blob));
	assert_true(h >= 0);
	/* One operation per blob; bad names refused. */
	assert_int_equal(storage_put("0011223344556677-web.sealed", blob, 1), -1);
	assert_int_equal(storage_get(".hidden", blob, 1), -1);
	assert_int_equal(storage_get("a/b", blob, 1), -1);
	assert_int_equal(storage_get("", blob, 1), -1);
	assert_int_equal(storage_delete("x12345678901234567890123456789012345678901234567890123456789012345"), -1);
	/* Nothing goes while the queue is full. */
	fake.full = true;
	assert_false(storage_step());
	assert_int_equal(fake.n, 0);
	fake.full = false;
	for (uint32_t off = 0; off < sizeof(blob); off += STORAGE_CHUNK) {
		size_t n = sizeof(blob) - off < STORAGE_CHUNK ? sizeof(blob) - off : STORAGE_CHUNK;

		assert_true(storage_step());
		assert_false(storage_step()); /* one request out at a time */
		assert_req(ST_PUT, "0011223344556677-web.sealed", off, n);
		assert_memory_equal(fake.req[fake.n - 1] + 6 + 27, blob + off, n);
		assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_PENDING);
		answer(STORED_OK, 0, NULL, 0);
	}
	assert_true(storage_step());
	assert_req(ST_COMMIT, "0011223344556677-web.sealed", sizeof(blob), 0);
	/* An answer with another id is not ours. */
	storage_on_stored((uint16_t)(fake.id[fake.n - 1] + 1), (const uint8_t *)"\0\0\0\0\0", 5);
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_PENDING);
	answer(STORED_OK, 0, NULL, 0);
	assert_int_equal(storage_poll(h, &len, &why), STORAGE_OK);
	assert_int_equal(len, sizeof(blob));
	assert_int_equal(fake.n, 4);
	/* Request ids differ. */
	for (size_t i = 1; i < fake.n; i++)
		assert_int_not_equal(fake.id[i], fake.id[i - 1]);
	storage_release(h);
	/* An empty blob: one empty PUT, then COMMIT 0; a failure on the way. */
	h = storage_put("e", NULL, 0);
	assert_true(storage_step());
	assert_req(ST_PUT, "e", 0, 0);
	answer(STORED_OK, 0, NULL, 0);
	assert_true(storage_step());
	assert_req(ST_COMMIT, "e", 0, 0);
	answer(STORED_IO, 0, NULL, 0);
	assert_int_equal(storage_poll(h, NULL, &why), STORAGE_FAILED);
	assert_non_null(strstr(why, "I/O"));
	storage_release(h);
}

static void test_storage_get(void **state)
{
	static uint8_t blob[1500], buf[1600];
	size_t len = 0;
	const char *why;
	int h;

	storage_reset(state);
	for (size_t i = 0; i < sizeof(blob); i++)
		blob[i] = (uint8_t)(i * 7 + 1);
	h = storage_get("b", buf, sizeof(buf));
	assert_true(storage_step());
	assert_req(ST_GET, "b", 0, 0);
	answer(STORED_OK, 1500, blob, 900);
	assert_true(storage_step());
	assert_req(ST_GET, "b", 900, 0);
	answer(STORED_OK, 1500, blob + 900, 600);
	assert_true(storage_step());
	assert_req(ST_GET, "b", 1500, 0);
	answer(STORED_OK, 1500, NULL, 0);
	assert_int_equal(storage_poll(h, &len, NULL), STORAGE_OK);
	assert_int_equal(len, 1500);
	assert_memory_equal(buf, blob, 1500);
	storage_release(h);

	/* Larger than the buffer; total changing; more than the total; an
	 * early end; missing; a malformed answer. */
	h = storage_get("b", buf, 1000);
	storage_step();
	answer(STORED_OK, 1001, blob, 900);
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_TOO_LARGE);
	storage_release(h);
	h = storage_get("b", buf, sizeof(buf));
	storage_step();
	answer(STORED_OK, 1500, blob, 900);
	storage_step();
	answer(STORED_OK, 1400, blob, 100);
	assert_int_equal(storage_poll(h, NULL, &why), STORAGE_FAILED);
	assert_non_null(strstr(why, "changed"));
	storage_release(h);
	h = storage_get("b", buf, sizeof(buf));
	storage_step();
	answer(STORED_OK, 10, blob, 11);
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_FAILED);
	storage_release(h);
	h = storage_get("b", buf, sizeof(buf));
	storage_step();
	answer(STORED_OK, 10, blob, 5);
	storage_step();
	answer(STORED_OK, 10, NULL, 0);
	assert_int_equal(storage_poll(h, NULL, &why), STORAGE_FAILED);
	assert_non_null(strstr(why, "early"));
	storage_release(h);
	h = storage_get("b", buf, sizeof(buf));
	storage_step();
	answer(STORED_MISSING, 0, NULL, 0);
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_MISSING);
	storage_release(h);
	h = storage_get("b", buf, sizeof(buf));
	storage_step();
	storage_on_stored(fake.id[fake.n - 1], (const uint8_t *)"\0", 1);
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_FAILED);
	storage_release(h);
	/* A whole empty blob. */
	h = storage_get("b", buf, 0);
	storage_step();
	answer(STORED_OK, 0, NULL, 0);
	assert_int_equal(storage_poll(h, &len, NULL), STORAGE_OK);
	assert_int_equal(len, 0);
	storage_release(h);
}

static void test_storage_timeout_restart_slots(void **state)
{
	uint8_t buf[16];
	const char *why;
	uint16_t late;
	int h, h2, hs[STORAGE_OPS];

	storage_reset(state);
	h = storage_get("t", buf, sizeof(buf));
	storage_step();
	late = fake.id[fake.n - 1];
	/* STORAGE_REQ_S at the TCB's rate plus the TPGVM's work budget. */
	fake.now += STORAGE_REQ_S * TEST_TSC_HZ + TPGVM_WORK_CYCLES;
	storage_step();
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_PENDING);
	fake.now += 1;
	storage_step();
	assert_int_equal(storage_poll(h, NULL, &why), STORAGE_FAILED);
	assert_non_null(strstr(why, "in time"));
	storage_release(h);
	/* On a 3 GHz TSC the same request waits 30 s plus the work budget
	 * (4e9 cycles, 1.3 s there). */
	timebase_set(3000000000ull);
	h = storage_get("t", buf, sizeof(buf));
	storage_step();
	fake.now += 94000000000ull; /* 30 x 3e9 + 4e9 */
	storage_step();
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_PENDING);
	fake.now += 1;
	storage_step();
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_FAILED);
	storage_release(h);
	timebase_set(TEST_TSC_HZ);
	/* The late answer meets a new operation on the same name: ignored. */
	h = storage_get("t", buf, sizeof(buf));
	storage_step();
	storage_on_stored(late, (const uint8_t *)"\0\3\0\0\0abc", 8);
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_PENDING);
	/* The relay restarts: whatever is in flight fails, also not yet sent. */
	h2 = storage_put("u", buf, 4);
	storage_relay_restarted();
	assert_int_equal(storage_poll(h, NULL, &why), STORAGE_FAILED);
	assert_non_null(strstr(why, "restarted"));
	assert_int_equal(storage_poll(h2, NULL, NULL), STORAGE_FAILED);
	storage_release(h);
	storage_release(h2);
	/* Slots run out; a released delete runs on and frees itself. */
	for (int i = 0; i < STORAGE_OPS; i++) {
		char name[8] = { 'n', (char)('0' + i), 0 };

		hs[i] = storage_delete(name);
		assert_true(hs[i] >= 0);
	}
	assert_int_equal(storage_get("z", buf, 1), -1);
	storage_release(hs[0]);
	assert_int_equal(storage_get("z", buf, 1), -1); /* still running */
	fake.n = 0;
	storage_step();
	assert_int_equal(fake.n, STORAGE_OPS);
	storage_on_stored(fake.id[0], (const uint8_t *)"\0\0\0\0\0", 5);
	h = storage_get("z", buf, 1);
	assert_true(h >= 0);
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_PENDING);
	for (int i = 1; i < STORAGE_OPS; i++)
		storage_release(hs[i]);
	storage_release(h);
}

/* A lost answer: PUT and GET go again after STORAGE_RESEND_S with the same
 * id (a late answer to the first sending is the answer; a second answer is
 * ignored), COMMIT does not, and resends do not stretch the request's
 * deadline. */
static void test_storage_resends_what_is_idempotent(void **state)
{
	static uint8_t blob[1000];
	uint8_t buf[16];
	const uint64_t resend = STORAGE_RESEND_S * TEST_TSC_HZ + 1;
	uint64_t sent_at;
	uint16_t first;
	int h;

	storage_reset(state);
	h = storage_put("r", blob, sizeof(blob));
	assert_true(storage_step());
	assert_req(ST_PUT, "r", 0, STORAGE_CHUNK);
	first = fake.id[fake.n - 1];
	fake.now += resend - 2;
	assert_false(storage_step()); /* not yet */
	fake.now += 2;
	assert_true(storage_step());
	assert_int_equal(fake.n, 2);
	assert_req(ST_PUT, "r", 0, STORAGE_CHUNK);
	assert_memory_equal(fake.req[1], fake.req[0], fake.len[0]);
	assert_int_equal(fake.id[1], first);
	storage_on_stored(first, (const uint8_t *)"\0\0\0\0\0", 5); /* late: taken */
	storage_on_stored(first, (const uint8_t *)"\0\0\0\0\0", 5); /* the second: not */
	assert_true(storage_step());
	assert_int_equal(fake.n, 3);
	assert_req(ST_PUT, "r", STORAGE_CHUNK, sizeof(blob) - STORAGE_CHUNK);
	assert_int_not_equal(fake.id[2], first);
	storage_on_stored(first, (const uint8_t *)"\0\0\0\0\0", 5); /* ignored */
	answer(STORED_OK, 0, NULL, 0);
	assert_true(storage_step());
	assert_req(ST_COMMIT, "r", sizeof(blob), 0);
	fake.now += 3 * resend;
	assert_false(storage_step()); /* COMMIT is sent once */
	assert_int_equal(fake.n, 4);
	answer(STORED_OK, 0, NULL, 0);
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_OK);
	storage_release(h);

	/* GET goes again too, every STORAGE_RESEND_S, until the deadline of
	 * its first sending. */
	h = storage_get("g", buf, sizeof(buf));
	sent_at = fake.now;
	assert_true(storage_step());
	for (int i = 0; i < 3; i++) {
		fake.now += resend;
		assert_true(storage_step());
		assert_req(ST_GET, "g", 0, 0);
	}
	/* Just past the first sending's deadline (the resends, up to
	 * 3 x resend later, would have put a stretched one later). */
	fake.now = sent_at + STORAGE_REQ_S * TEST_TSC_HZ + TPGVM_WORK_CYCLES + 1;
	storage_step();
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_FAILED);
	storage_release(h);
}

/* The relay's answer to the i-th STORE queued: OK, no data (a PUT's). */
static void answer_put(size_t i)
{
	storage_on_stored(fake.id[i], (const uint8_t *)"\0\0\0\0\0", 5);
}

/*
 * A streamed put on a slow or lossy line. A window of answers that takes
 * longer than STORAGE_RESEND_S (and STORAGE_REQ_S) in all, but comes
 * answer by answer, is never sent again and never fails: resending it
 * would queue more answers on a line already full. A lost answer is sent
 * again, with its id, as soon as an answer to a later request comes; a
 * resend the queue has no room for waits, not lost; and silence fails it.
 */
static void test_storage_stream_slow_or_lossy_line(void **state)
{
	static uint8_t blob[STORAGE_WINDOW * STORAGE_CHUNK];
	const uint64_t almost = STORAGE_RESEND_S * TEST_TSC_HZ - 1;
	size_t len = 0;
	int h;

	storage_reset(state);
	h = storage_put_stream_at("s", STORAGE_CHUNK); /* no truncating PUT */
	/* slow: an answer every STORAGE_RESEND_S - 1 cycles, 8 of them */
	assert_int_equal(storage_put_piece(h, blob, sizeof(blob), false), 0);
	while (storage_step())
		;
	assert_int_equal(fake.n, STORAGE_WINDOW);
	for (size_t i = 0; i < STORAGE_WINDOW; i++) {
		fake.now += almost;
		assert_false(storage_step());
		answer_put(i);
	}
	assert_true(STORAGE_WINDOW * almost > STORAGE_REQ_S * TEST_TSC_HZ);
	assert_int_equal(fake.n, STORAGE_WINDOW);
	assert_int_equal(storage_poll(h, &len, NULL), STORAGE_PIECE);
	assert_int_equal(len, sizeof(blob));

	/* lossy: the answer to the third is lost; the fourth's comes */
	fake.n = 0;
	assert_int_equal(storage_put_piece(h, blob, sizeof(blob), false), 0);
	while (storage_step())
		;
	answer_put(0);
	answer_put(1);
	answer_put(3);
	assert_true(storage_step());
	assert_int_equal(fake.n, STORAGE_WINDOW + 1);
	assert_req(ST_PUT, "s", STORAGE_CHUNK + sizeof(blob) + 2 * STORAGE_CHUNK, STORAGE_CHUNK);
	assert_int_equal(fake.id[STORAGE_WINDOW], fake.id[2]);
	for (size_t i = 4; i < STORAGE_WINDOW; i++)
		answer_put(i); /* sent before the resend: it is not lost again */
	assert_false(storage_step());
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_PENDING);
	answer_put(STORAGE_WINDOW);
	assert_int_equal(storage_poll(h, &len, NULL), STORAGE_PIECE);

	/* a resend the output queue has no room for is kept for the next step */
	fake.n = 0;
	assert_int_equal(storage_put_piece(h, blob, sizeof(blob), false), 0);
	while (storage_step())
		;
	fake.full = true;
	fake.now += almost + 2;
	assert_false(storage_step());
	fake.full = false;
	while (storage_step())
		;
	assert_int_equal(fake.n, 2 * STORAGE_WINDOW);
	for (size_t i = 0; i < STORAGE_WINDOW; i++)
		assert_int_equal(fake.id[STORAGE_WINDOW + i], fake.id[i]);
	for (size_t i = STORAGE_WINDOW; i < 2 * STORAGE_WINDOW; i++)
		answer_put(i);
	assert_int_equal(storage_poll(h, &len, NULL), STORAGE_PIECE);

	/* silence: STORAGE_REQ_S and the work budget after the last answer */
	fake.n = 0;
	assert_int_equal(storage_put_piece(h, blob, sizeof(blob), true), 0);
	while (storage_step())
		;
	answer_put(0);
	fake.now += STORAGE_REQ_S * TEST_TSC_HZ + TPGVM_WORK_CYCLES;
	storage_step();
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_PENDING);
	fake.now += 1;
	storage_step();
	assert_int_equal(storage_poll(h, NULL, NULL), STORAGE_FAILED);
	storage_release(h);
}

static void test_storage_blob_name(void **state)
{
	uint8_t owner[48], measurement[48];
	char name[STORAGE_NAME_MAX + 1], other[STORAGE_NAME_MAX + 1];

	(void)state;
	for (int i = 0; i < 48; i++) {
		owner[i] = (uint8_t)(0xa0 + i);
		measurement[i] = (uint8_t)i;
	}
	/* SHA-256("CUSTOS-BLOB-NAME-1" || owner || measurement), its first
	 * 16 bytes (python3 hashlib) */
	storage_blob_name(owner, measurement, name);
	assert_string_equal(name, "206a4565d532eb2a9736ee67099860c3.sealed");
	assert_true(strlen(name) <= STORAGE_NAME_MAX);
	/* another measurement (a VM of the same name created again), or
	 * another owner: another name */
	measurement[47] ^= 1;
	storage_blob_name(owner, measurement, other);
	assert_string_not_equal(name, other);
	measurement[47] ^= 1;
	owner[0] ^= 1;
	storage_blob_name(owner, measurement, other);
	assert_string_not_equal(name, other);
	owner[0] ^= 1;
	/* the boot copy's: SHA-256("CUSTOS-BOOT-NAME-1" || ...) */
	storage_boot_name(owner, measurement, other);
	assert_string_equal(other, "5d1c820a53ff5f1a5b237a0c9fa1beef.boot");
	assert_true(strlen(other) <= STORAGE_NAME_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c_known_answers),
		cmocka_unit_test(test_encode_layout),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_round_trip_whole_stream),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_garbage_before_and_between),
		cmocka_unit_test(test_flipped_bits),
		cmocka_unit_test(test_truncated_then_good),
		cmocka_unit_test(test_max_payload_and_oversize),
		cmocka_unit_test(test_unknown_version_or_type),
		cmocka_unit_test(test_duplicates_passed_up),
		cmocka_unit_test(test_noise_then_frame),
		cmocka_unit_test(test_storage_put),
		cmocka_unit_test(test_storage_get),
		cmocka_unit_test(test_storage_streams),
		cmocka_unit_test(test_storage_timeout_restart_slots),
		cmocka_unit_test(test_storage_resends_what_is_idempotent),
		cmocka_unit_test(test_storage_stream_slow_or_lossy_line),
		cmocka_unit_test(test_storage_blob_name),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
