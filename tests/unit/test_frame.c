/*
 * Tests of the serial-line session framing (tpgvm/frame.c): CRC-32C known
 * answers, encode/decode round trips, every split point of a multi-frame
 * stream, garbage, flipped bits, lost bytes and truncation (the frame is
 * dropped and the next good one is found), the payload limit, and
 * duplicates passed up as they came.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tpgvm/frame.h"

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
