/*
 * Tests of the tenant protocol codec (tpgvm/proto.c, docs/protocol.md):
 * header layout, round trips of every type at its limits, every rejection
 * with its message, truncation against guard pages, the encoders' refusals
 * and error-text sanitising, and the stream reader fed byte by byte, in
 * random chunks, two messages in one feed, and hostile headers (rejected
 * as soon as the header is complete, never waiting for the body).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <custos/proto.h>
#include <custos/report.h>
#include "guarded.h"
#include "xorshift.h"

static char err[256];
static struct proto_msg msg;

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A raw header, written by hand (not by the code under test). */
static void raw_header(uint8_t *h, uint32_t len, uint16_t type, uint16_t reserved)
{
	put32(h, len);
	h[4] = (uint8_t)type;
	h[5] = (uint8_t)(type >> 8);
	h[6] = (uint8_t)reserved;
	h[7] = (uint8_t)(reserved >> 8);
}

static uint8_t body_byte(size_t i, unsigned seed)
{
	return (uint8_t)(seed * 13 + i * 7 + (i >> 8));
}

/* A valid message of the given type and body length into buf; its size. */
static size_t make_msg(uint8_t *buf, size_t cap, uint16_t type, size_t blen,
		       unsigned seed)
{
	static uint8_t body[PROTO_MAX_BODY];
	size_t n;

	assert_true(blen <= sizeof(body));
	for (size_t i = 0; i < blen; i++)
		body[i] = body_byte(i, seed);
	if (type == PROTO_ERROR) {
		assert_true(blen >= 4);
		put32(body, 1 + seed % 3);
		for (size_t i = 4; i < blen; i++)
			body[i] = (uint8_t)(0x20 + (seed + i) % 95);
	}
	n = proto_encode(type, body, blen, buf, cap);
	assert_int_equal(n, PROTO_HDR_LEN + blen);
	return n;
}

/* proto_parse must refuse buf with a message containing needle, leaving
 * msg untouched. */
static void reject(const uint8_t *buf, size_t len, const char *needle)
{
	struct proto_msg sentinel;

	memset(&msg, 0xa5, sizeof(msg));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	memset(err, 'x', sizeof(err));
	if (proto_parse(buf, len, &msg, err, sizeof(err)) != -1)
		fail_msg("accepted; expected \"%s\"", needle);
	assert_non_null(memchr(err, 0, sizeof(err)));
	assert_null(strchr(err, '\n'));
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
	assert_memory_equal(&msg, &sentinel, sizeof(msg));
}

static void reject_header(uint32_t len, uint16_t type, uint16_t reserved,
			  const char *needle)
{
	static uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_BODY + 16];
	uint16_t t = 0x5a5a;
	uint32_t l = 0x5a5a5a5a;

	raw_header(buf, len, type, reserved);
	memset(err, 'x', sizeof(err));
	assert_int_equal(proto_parse_header(buf, &t, &l, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("header: message \"%s\" lacks \"%s\"", err, needle);
	assert_int_equal(t, 0x5a5a);
	assert_int_equal(l, 0x5a5a5a5a);
	/* The whole message (with a body of that length where it fits) is
	 * refused for the same reason. */
	if (len <= PROTO_MAX_BODY + 16) {
		memset(buf + PROTO_HDR_LEN, 'a', len);
		put32(buf + PROTO_HDR_LEN, PROTO_ERR_BUSY);
		reject(buf, PROTO_HDR_LEN + len, needle);
	}
}

/* ---- Layout and round trips ---------------------------------------------- */

static void test_header_layout(void **state)
{
	uint8_t h[PROTO_HDR_LEN];
	uint16_t type;
	uint32_t len;
	static const uint8_t want[PROTO_HDR_LEN] = { 0x40, 0x00, 0x00, 0x00,
						     0x01, 0x00, 0x00, 0x00 };

	(void)state;
	proto_write_header(h, PROTO_ATTEST_REQ, 64);
	assert_memory_equal(h, want, sizeof(want));
	proto_write_header(h, 0x1234, 0x01020304);
	assert_int_equal(h[0], 0x04);
	assert_int_equal(h[3], 0x01);
	assert_int_equal(h[4], 0x34);
	assert_int_equal(h[5], 0x12);
	assert_int_equal(h[6] | h[7], 0);
	proto_write_header(h, PROTO_ATTEST_RESP, REPORT_MAX_SIZE);
	memset(err, 'x', sizeof(err));
	assert_int_equal(proto_parse_header(h, &type, &len, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(type, PROTO_ATTEST_RESP);
	assert_int_equal(len, REPORT_MAX_SIZE);
}

static void round_trip(uint16_t type, size_t blen, unsigned seed)
{
	static uint8_t buf[PROTO_HDR_LEN + PROTO_MAX_BODY];
	size_t n = make_msg(buf, sizeof(buf), type, blen, seed);

	assert_int_equal(buf[0] | buf[1] << 8 | buf[2] << 16 | (uint32_t)buf[3] << 24,
			 blen);
	assert_int_equal(buf[4] | buf[5] << 8, type);
	assert_int_equal(buf[6] | buf[7], 0);
	memset(err, 'x', sizeof(err));
	if (proto_parse(buf, n, &msg, err, sizeof(err)) != 0)
		fail_msg("type %u, %zu bytes refused: %s", type, blen, err);
	assert_string_equal(err, "");
	assert_int_equal(msg.type, type);
	assert_int_equal(msg.len, blen);
	assert_ptr_equal(msg.body, buf + PROTO_HDR_LEN);
	if (type != PROTO_ERROR)
		for (size_t i = 0; i < blen; i++)
			assert_int_equal(msg.body[i], body_byte(i, seed));
}

static void test_round_trips(void **state)
{
	(void)state;
	round_trip(PROTO_ATTEST_REQ, REPORT_NONCE_MIN, 1);
	round_trip(PROTO_ATTEST_REQ, 48, 2);
	round_trip(PROTO_ATTEST_REQ, REPORT_NONCE_MAX, 3);
	round_trip(PROTO_ATTEST_RESP, 1, 4);
	round_trip(PROTO_ATTEST_RESP, 3000, 5);
	round_trip(PROTO_ATTEST_RESP, REPORT_MAX_SIZE, 6);
	round_trip(PROTO_ERROR, 4, 7);
	round_trip(PROTO_ERROR, 4 + 17, 8);
	round_trip(PROTO_ERROR, 4 + PROTO_ERROR_TEXT_MAX, 9);
}

static void test_error_round_trip(void **state)
{
	uint8_t buf[PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX];
	static const uint32_t codes[] = { PROTO_ERR_BAD_REQUEST, PROTO_ERR_INTERNAL,
					  PROTO_ERR_BUSY };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		size_t n = proto_encode_error(codes[i], "no such VM: ~x", buf,
					      sizeof(buf));

		assert_int_equal(n, PROTO_HDR_LEN + 4 + 14);
		assert_int_equal(proto_parse(buf, n, &msg, err, sizeof(err)), 0);
		assert_int_equal(msg.type, PROTO_ERROR);
		assert_int_equal(msg.body[0], codes[i]);
		assert_int_equal(msg.body[1] | msg.body[2] | msg.body[3], 0);
		assert_memory_equal(msg.body + 4, "no such VM: ~x", 14);
	}
}

/* ---- Rejections ------------------------------------------------------------ */

static void test_reject_type(void **state)
{
	(void)state;
	reject_header(40, 9, 0, "unknown message type 9");
	reject_header(40, 0, 0, "unknown message type 0");
	reject_header(40, 4, 0, "unknown message type 4");
	reject_header(40, 0x10, 0, "unknown message type 16");
	reject_header(40, 0x0101, 0, "unknown message type 257");
	reject_header(40, 0xffff, 0, "unknown message type 65535");
}

static void test_reject_reserved(void **state)
{
	(void)state;
	reject_header(40, PROTO_ATTEST_REQ, 1,
		      "reserved header field is 0x0001 (must be 0)");
	reject_header(40, PROTO_ATTEST_REQ, 0x8000,
		      "reserved header field is 0x8000 (must be 0)");
	reject_header(5, PROTO_ERROR, 0x0100, "reserved header field is 0x0100");
	reject_header(1, PROTO_ATTEST_RESP, 0xffff, "reserved header field is 0xffff");
}

static void test_reject_lengths(void **state)
{
	(void)state;
	reject_header(12, PROTO_ATTEST_REQ, 0, "nonce of 12 bytes (want 32..64)");
	reject_header(0, PROTO_ATTEST_REQ, 0, "nonce of 0 bytes (want 32..64)");
	reject_header(31, PROTO_ATTEST_REQ, 0, "nonce of 31 bytes (want 32..64)");
	reject_header(65, PROTO_ATTEST_REQ, 0, "nonce of 65 bytes (want 32..64)");
	reject_header(0xffffffffu, PROTO_ATTEST_REQ, 0,
		      "nonce of 4294967295 bytes (want 32..64)");
	reject_header(0, PROTO_ATTEST_RESP, 0, "report of 0 bytes (want 1..65536)");
	reject_header(REPORT_MAX_SIZE + 1, PROTO_ATTEST_RESP, 0,
		      "report of 65537 bytes (want 1..65536)");
	reject_header(0x80000000u, PROTO_ATTEST_RESP, 0,
		      "report of 2147483648 bytes");
	reject_header(3, PROTO_ERROR, 0, "error body of 3 bytes (want 4..204)");
	reject_header(0, PROTO_ERROR, 0, "error body of 0 bytes (want 4..204)");
	reject_header(205, PROTO_ERROR, 0, "error body of 205 bytes (want 4..204)");
}

static void test_reject_size_mismatch(void **state)
{
	static uint8_t buf[PROTO_HDR_LEN + 64 + 8];
	size_t n;

	(void)state;
	n = make_msg(buf, sizeof(buf), PROTO_ATTEST_REQ, 40, 1);
	reject(buf, n + 1, "message of 49 bytes, but its header says 8 + 40");
	reject(buf, n - 1, "message of 47 bytes, but its header says 8 + 40");
	reject(buf, PROTO_HDR_LEN, "message of 8 bytes, but its header says 8 + 40");
	reject(buf, 7, "message of 7 bytes is shorter than its 8-byte header");
	reject(buf, 0, "message of 0 bytes is shorter than its 8-byte header");
}

static void test_reject_error_body(void **state)
{
	uint8_t buf[PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX];
	static const uint32_t bad_codes[] = { 0, 4, 0x100, 0x01000001, 0xffffffff };
	static const uint8_t bad_bytes[] = { 0x00, 0x0a, 0x1f, 0x7f, 0x80, 0xff };
	char want[64];
	size_t n;

	(void)state;
	n = proto_encode_error(PROTO_ERR_INTERNAL, "abcdef", buf, sizeof(buf));
	assert_int_equal(n, PROTO_HDR_LEN + 10);
	for (size_t i = 0; i < ARRAY_SIZE(bad_codes); i++) {
		put32(buf + PROTO_HDR_LEN, bad_codes[i]);
		snprintf(want, sizeof(want), "unknown error code %u", bad_codes[i]);
		reject(buf, n, want);
	}
	put32(buf + PROTO_HDR_LEN, PROTO_ERR_BUSY);
	for (size_t i = 0; i < ARRAY_SIZE(bad_bytes); i++) {
		buf[PROTO_HDR_LEN + 4 + 2] = bad_bytes[i];
		snprintf(want, sizeof(want),
			 "error text byte 2 is 0x%02x (want 0x20..0x7e)", bad_bytes[i]);
		reject(buf, n, want);
	}
	/* The edges of the printable range are fine. */
	buf[PROTO_HDR_LEN + 4 + 2] = 0x20;
	buf[PROTO_HDR_LEN + 4 + 5] = 0x7e;
	assert_int_equal(proto_parse(buf, n, &msg, err, sizeof(err)), 0);
	buf[PROTO_HDR_LEN + 4 + 5] = 0x7f;
	reject(buf, n, "error text byte 5 is 0x7f");
}

static void test_truncation_everywhere(void **state)
{
	static uint8_t buf[PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX];
	static const uint16_t types[] = { PROTO_ATTEST_REQ, PROTO_ATTEST_RESP,
					  PROTO_ERROR };
	static const size_t lens[] = { 33, 90, 4 + 50 };
	struct guarded g;

	(void)state;
	guarded_init(&g, sizeof(buf));
	for (size_t k = 0; k < ARRAY_SIZE(types); k++) {
		size_t full = make_msg(buf, sizeof(buf), types[k], lens[k], (unsigned)k);

		for (size_t n = 0; n <= full; n++)
			for (int at_end = 0; at_end < 2; at_end++) {
				uint8_t *copy = guarded_fill(&g, buf, n, at_end);
				int rc = proto_parse(copy, n, &msg, err, sizeof(err));

				if (n == full)
					assert_int_equal(rc, 0);
				else if (rc != -1)
					fail_msg("prefix of %zu bytes accepted", n);
			}
	}
	guarded_free(&g);
}

static void test_null_err(void **state)
{
	uint8_t buf[PROTO_HDR_LEN + 64];
	uint8_t shifted[PROTO_HDR_LEN + 64 + 8];
	size_t n;

	(void)state;
	n = make_msg(buf, sizeof(buf), PROTO_ATTEST_REQ, 64, 3);
	for (size_t s = 1; s < 8; s++) {
		memcpy(shifted + s, buf, n);
		assert_int_equal(proto_parse(shifted + s, n, &msg, NULL, 0), 0);
		assert_ptr_equal(msg.body, shifted + s + PROTO_HDR_LEN);
	}
	buf[6] = 1;
	assert_int_equal(proto_parse(buf, n, &msg, NULL, 0), -1);
	/* A one-byte err gets just the terminator. */
	err[0] = 'x';
	assert_int_equal(proto_parse(buf, n, &msg, err, 1), -1);
	assert_int_equal(err[0], 0);
}

/* ---- Encoders --------------------------------------------------------------- */

static void test_encode_refuses(void **state)
{
	static uint8_t body[REPORT_MAX_SIZE + 1];
	static uint8_t buf[PROTO_HDR_LEN + REPORT_MAX_SIZE + 16];
	uint8_t ebody[8] = { 1, 0, 0, 0, 'o', 'k', '\n', '!' };

	(void)state;
	memset(body, 0x41, sizeof(body));
	assert_int_equal(proto_encode(PROTO_ATTEST_REQ, body, 31, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ATTEST_REQ, body, 65, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ATTEST_RESP, body, 0, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ATTEST_RESP, body, REPORT_MAX_SIZE + 1,
				      buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ATTEST_RESP, body, (size_t)1 << 32 | 5,
				      buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(0, body, 40, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(9, body, 40, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ATTEST_REQ, NULL, 40, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ATTEST_REQ, body, 40, NULL, 100), 0);
	/* An ERROR body must itself be valid: code and text. */
	assert_int_equal(proto_encode(PROTO_ERROR, ebody, 8, buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode(PROTO_ERROR, ebody, 6, buf, sizeof(buf)),
			 PROTO_HDR_LEN + 6);
	ebody[0] = 0;
	assert_int_equal(proto_encode(PROTO_ERROR, ebody, 6, buf, sizeof(buf)), 0);
	ebody[0] = 7;
	assert_int_equal(proto_encode(PROTO_ERROR, ebody, 4, buf, sizeof(buf)), 0);
}

/* Every capacity short of the message returns 0 and writes nothing past
 * it (the buffer ends at a guard page). */
static void test_encode_small_cap(void **state)
{
	static uint8_t nonce[48];
	struct guarded g;
	size_t need = PROTO_HDR_LEN + sizeof(nonce);

	(void)state;
	guarded_init(&g, need);
	for (size_t cap = 0; cap <= need; cap++) {
		uint8_t *at = g.map + g.map_len - (size_t)sysconf(_SC_PAGESIZE) - cap;

		assert_int_equal(proto_encode(PROTO_ATTEST_REQ, nonce, sizeof(nonce),
					      at, cap), cap == need ? need : 0);
		assert_int_equal(proto_encode_error(PROTO_ERR_BUSY, "busy", at, cap),
				 cap >= PROTO_HDR_LEN + 8 ? PROTO_HDR_LEN + 8 : 0);
	}
	guarded_free(&g);
}

static void test_encode_error_sanitises(void **state)
{
	uint8_t buf[PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX + 32];
	char text[PROTO_ERROR_TEXT_MAX + 100];
	size_t n;

	(void)state;
	n = proto_encode_error(PROTO_ERR_BAD_REQUEST, "a\nb\tc\x7f" "d\x80\xff~ ",
			       buf, sizeof(buf));
	assert_int_equal(n, PROTO_HDR_LEN + 4 + 11);
	assert_memory_equal(buf + PROTO_HDR_LEN + 4, "a?b?c?d??~ ", 11);
	assert_int_equal(proto_parse(buf, n, &msg, err, sizeof(err)), 0);

	/* Cut to PROTO_ERROR_TEXT_MAX. */
	memset(text, 'z', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	n = proto_encode_error(PROTO_ERR_INTERNAL, text, buf, sizeof(buf));
	assert_int_equal(n, PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX);
	assert_int_equal(proto_parse(buf, n, &msg, err, sizeof(err)), 0);
	assert_int_equal(msg.len, 4 + PROTO_ERROR_TEXT_MAX);
	text[PROTO_ERROR_TEXT_MAX] = '\0';
	assert_int_equal(proto_encode_error(PROTO_ERR_INTERNAL, text, buf, sizeof(buf)),
			 PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX);

	/* Empty and NULL text: a bare code. */
	assert_int_equal(proto_encode_error(PROTO_ERR_BUSY, "", buf, sizeof(buf)),
			 PROTO_HDR_LEN + 4);
	assert_int_equal(proto_encode_error(PROTO_ERR_BUSY, NULL, buf, sizeof(buf)),
			 PROTO_HDR_LEN + 4);
	assert_int_equal(proto_parse(buf, PROTO_HDR_LEN + 4, &msg, err, sizeof(err)), 0);
	assert_int_equal(msg.body[0], PROTO_ERR_BUSY);

	/* An unknown code is not encoded. */
	assert_int_equal(proto_encode_error(0, "x", buf, sizeof(buf)), 0);
	assert_int_equal(proto_encode_error(4, "x", buf, sizeof(buf)), 0);
	/* Too small a buffer. */
	assert_int_equal(proto_encode_error(PROTO_ERR_BUSY, "abc", buf,
					    PROTO_HDR_LEN + 6), 0);
}

/* ---- Reader ------------------------------------------------------------------ */

#define MAX_SEEN 16

/* A stream of messages of every type, and what the reader delivered. */
struct stream {
	uint8_t bytes[4 * (PROTO_HDR_LEN + PROTO_MAX_BODY)];
	size_t len;
	size_t n;
	size_t start[MAX_SEEN];
	size_t size[MAX_SEEN];
};

static void make_stream(struct stream *st)
{
	static const uint16_t types[] = {
		PROTO_ATTEST_REQ, PROTO_ATTEST_RESP, PROTO_ERROR, PROTO_ATTEST_RESP,
		PROTO_ATTEST_REQ, PROTO_ERROR, PROTO_ATTEST_RESP,
	};
	static const size_t lens[] = { 32, 1, 4, 5000, 64, 4 + PROTO_ERROR_TEXT_MAX,
				       REPORT_MAX_SIZE };

	st->len = 0;
	st->n = ARRAY_SIZE(types);
	for (size_t k = 0; k < st->n; k++) {
		st->start[k] = st->len;
		st->size[k] = make_msg(st->bytes + st->len, sizeof(st->bytes) - st->len,
				       types[k], lens[k], (unsigned)k);
		st->len += st->size[k];
	}
}

/* Feed the stream in chunks (chunk(seed) bytes each, or 1 if seed is
 * NULL); every message must come out whole, in order, at the right point. */
static void read_stream(const struct stream *st, uint64_t *seed, size_t max_chunk)
{
	static uint8_t rbuf[PROTO_HDR_LEN + PROTO_MAX_BODY];
	struct proto_reader r;
	size_t off = 0, got = 0;

	proto_reader_init(&r, rbuf, sizeof(rbuf));
	while (off < st->len) {
		size_t chunk = seed ? 1 + xorshift64s(seed) % max_chunk : 1;
		size_t rest;

		if (chunk > st->len - off)
			chunk = st->len - off;
		rest = chunk;
		while (rest) {
			size_t used = 12345;
			enum proto_read_status s;

			s = proto_reader_feed(&r, st->bytes + off, rest, &used, &msg,
					      err, sizeof(err));
			assert_true(used <= rest);
			assert_true(r.have <= r.cap);
			off += used;
			rest -= used;
			if (s == PROTO_READ_MORE) {
				assert_int_equal(rest, 0);
				continue;
			}
			if (s != PROTO_READ_MSG)
				fail_msg("error at offset %zu: %s", off, err);
			assert_true(got < st->n);
			/* It ends exactly where the message ends. */
			assert_int_equal(off, st->start[got] + st->size[got]);
			assert_int_equal(PROTO_HDR_LEN + msg.len, st->size[got]);
			assert_memory_equal(msg.body, st->bytes + st->start[got] + PROTO_HDR_LEN,
					    msg.len);
			got++;
		}
	}
	assert_int_equal(got, st->n);
	/* Nothing left: an empty feed wants more. */
	{
		size_t used = 1;

		assert_int_equal(proto_reader_feed(&r, NULL, 0, &used, &msg, err,
						   sizeof(err)), PROTO_READ_MORE);
		assert_int_equal(used, 0);
		assert_int_equal(r.have, 0);
	}
}

static struct stream *new_stream(void)
{
	struct stream *st = calloc(1, sizeof(*st));

	assert_non_null(st);
	make_stream(st);
	return st;
}

static void test_reader_byte_by_byte(void **state)
{
	struct stream *st = new_stream();

	(void)state;
	read_stream(st, NULL, 1);
	free(st);
}

static void test_reader_random_chunks(void **state)
{
	struct stream *st = new_stream();
	static const size_t maxes[] = { 3, 17, 300, 5000, 70000, 300000 };

	(void)state;
	for (uint64_t s0 = 1; s0 <= 20; s0++)
		for (size_t m = 0; m < ARRAY_SIZE(maxes); m++) {
			uint64_t seed = s0 * 0x9e3779b97f4a7c15ull;

			read_stream(st, &seed, maxes[m]);
		}
	/* The whole stream in one feed. */
	{
		uint64_t seed = 7;

		read_stream(st, &seed, SIZE_MAX / 2);
	}
	free(st);
}

static void test_reader_back_to_back(void **state)
{
	uint8_t two[2 * (PROTO_HDR_LEN + 64)], rbuf[PROTO_HDR_LEN + 200];
	struct proto_reader r;
	size_t a, b, used;

	(void)state;
	a = make_msg(two, sizeof(two), PROTO_ATTEST_REQ, 40, 1);
	b = make_msg(two + a, sizeof(two) - a, PROTO_ATTEST_REQ, 50, 2);
	proto_reader_init(&r, rbuf, sizeof(rbuf));
	assert_int_equal(proto_reader_feed(&r, two, a + b, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MSG);
	assert_int_equal(used, a);
	assert_int_equal(msg.type, PROTO_ATTEST_REQ);
	assert_int_equal(msg.len, 40);
	assert_memory_equal(msg.body, two + PROTO_HDR_LEN, 40);
	assert_int_equal(proto_reader_feed(&r, two + a, b, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MSG);
	assert_int_equal(used, b);
	assert_int_equal(msg.len, 50);
	assert_memory_equal(msg.body, two + a + PROTO_HDR_LEN, 50);
	assert_int_equal(proto_reader_feed(&r, two, 0, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MORE);
	assert_int_equal(used, 0);
	assert_int_equal(r.have, 0);

	/* The first message's tail and the second's head in one feed. */
	proto_reader_init(&r, rbuf, sizeof(rbuf));
	assert_int_equal(proto_reader_feed(&r, two, 10, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MORE);
	assert_int_equal(used, 10);
	assert_int_equal(proto_reader_feed(&r, two + 10, a, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MSG);
	assert_int_equal(used, a - 10);
	assert_int_equal(msg.len, 40);
	assert_int_equal(proto_reader_feed(&r, two + a, 10, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MORE);
	assert_int_equal(used, 10);
	assert_int_equal(proto_reader_feed(&r, two + a + 10, b - 10, &used, &msg,
					   err, sizeof(err)), PROTO_READ_MSG);
	assert_int_equal(msg.len, 50);
	assert_memory_equal(msg.body, two + a + PROTO_HDR_LEN, 50);
}

/* Feed hdr (and a huge tail that must not be waited for): an error as soon
 * as the header is complete, having taken exactly the header; the reader
 * stays failed. */
static void reader_rejects_header(const uint8_t hdr[PROTO_HDR_LEN], size_t cap,
				  const char *needle)
{
	static uint8_t input[PROTO_HDR_LEN + 4096];
	static uint8_t rbuf[PROTO_HDR_LEN + PROTO_MAX_BODY];
	struct proto_reader r;
	size_t used;

	memset(input, 0x20, sizeof(input));
	memcpy(input, hdr, PROTO_HDR_LEN);
	proto_reader_init(&r, rbuf, cap);
	/* Byte by byte: more, until the header's last byte. */
	for (size_t i = 0; i + 1 < PROTO_HDR_LEN; i++) {
		assert_int_equal(proto_reader_feed(&r, input + i, 1, &used, &msg, err,
						   sizeof(err)), PROTO_READ_MORE);
		assert_int_equal(used, 1);
	}
	assert_int_equal(proto_reader_feed(&r, input + 7, 1, &used, &msg, err,
					   sizeof(err)), PROTO_READ_ERROR);
	if (!strstr(err, needle))
		fail_msg("reader: message \"%s\" lacks \"%s\"", err, needle);
	assert_int_equal(proto_reader_feed(&r, input + 8, 100, &used, &msg, err,
					   sizeof(err)), PROTO_READ_ERROR);
	assert_true(strstr(err, needle) != NULL);

	/* In one feed with plenty after it. */
	proto_reader_init(&r, rbuf, cap);
	assert_int_equal(proto_reader_feed(&r, input, sizeof(input), &used, &msg,
					   err, sizeof(err)), PROTO_READ_ERROR);
	assert_int_equal(used, PROTO_HDR_LEN);
	assert_int_equal(r.have, PROTO_HDR_LEN);
	assert_true(strstr(err, needle) != NULL);
}

static void test_reader_rejects_headers(void **state)
{
	uint8_t h[PROTO_HDR_LEN];
	size_t big = PROTO_HDR_LEN + PROTO_MAX_BODY;

	(void)state;
	raw_header(h, 65, PROTO_ATTEST_REQ, 0);
	reader_rejects_header(h, big, "nonce of 65 bytes (want 32..64)");
	raw_header(h, 0xffffffffu, PROTO_ATTEST_RESP, 0);
	reader_rejects_header(h, big, "report of 4294967295 bytes (want 1..65536)");
	raw_header(h, REPORT_MAX_SIZE + 1, PROTO_ATTEST_RESP, 0);
	reader_rejects_header(h, big, "report of 65537 bytes");
	raw_header(h, 205, PROTO_ERROR, 0);
	reader_rejects_header(h, big, "error body of 205 bytes");
	raw_header(h, 40, 9, 0);
	reader_rejects_header(h, big, "unknown message type 9");
	raw_header(h, 40, PROTO_ATTEST_REQ, 2);
	reader_rejects_header(h, big, "reserved header field is 0x0002");
	/* Allowed by its type but bigger than this reader's buffer. */
	raw_header(h, 3000, PROTO_ATTEST_RESP, 0);
	reader_rejects_header(h, PROTO_HDR_LEN + 2999,
			      "message of 3008 bytes does not fit the reader's 3007-byte buffer");
}

static void test_reader_bad_body(void **state)
{
	uint8_t buf[PROTO_HDR_LEN + 20], rbuf[PROTO_HDR_LEN + 300];
	struct proto_reader r;
	size_t n, used;

	(void)state;
	n = proto_encode_error(PROTO_ERR_BUSY, "later", buf, sizeof(buf));
	buf[PROTO_HDR_LEN + 4 + 1] = 0x1b;
	proto_reader_init(&r, rbuf, sizeof(rbuf));
	assert_int_equal(proto_reader_feed(&r, buf, n - 1, &used, &msg, err,
					   sizeof(err)), PROTO_READ_MORE);
	assert_int_equal(proto_reader_feed(&r, buf + n - 1, 1, &used, &msg, err,
					   sizeof(err)), PROTO_READ_ERROR);
	assert_string_equal(err, "error text byte 1 is 0x1b (want 0x20..0x7e)");
	assert_int_equal(proto_reader_feed(&r, buf, 1, &used, &msg, err,
					   sizeof(err)), PROTO_READ_ERROR);
	assert_int_equal(used, 0);

	/* A buffer too small for even a header. */
	proto_reader_init(&r, rbuf, PROTO_HDR_LEN - 1);
	assert_int_equal(proto_reader_feed(&r, buf, n, &used, &msg, err,
					   sizeof(err)), PROTO_READ_ERROR);
	assert_int_equal(used, 0);
}

/* The reader's buffer ends at a guard page and is exactly as large as the
 * largest message it gets: nothing is written past cap, in any chunking. */
static void test_reader_stays_in_cap(void **state)
{
	static uint8_t stream[3 * (PROTO_HDR_LEN + 100)];
	static uint8_t hostile[PROTO_HDR_LEN + 4096];
	size_t page = (size_t)sysconf(_SC_PAGESIZE), cap = PROTO_HDR_LEN + 100;
	struct guarded g;
	struct proto_reader r;
	size_t len = 0, used;
	uint64_t seed = 99;
	uint8_t *rbuf;

	(void)state;
	guarded_init(&g, cap);
	rbuf = g.map + g.map_len - page - cap;
	len += make_msg(stream + len, sizeof(stream) - len, PROTO_ATTEST_RESP, 100, 1);
	len += make_msg(stream + len, sizeof(stream) - len, PROTO_ATTEST_REQ, 33, 2);
	len += make_msg(stream + len, sizeof(stream) - len, PROTO_ATTEST_RESP, 100, 3);
	for (int round = 0; round < 50; round++) {
		size_t off = 0, got = 0;

		proto_reader_init(&r, rbuf, cap);
		while (off < len) {
			size_t chunk = 1 + xorshift64s(&seed) % 150;
			enum proto_read_status s;

			if (chunk > len - off)
				chunk = len - off;
			s = proto_reader_feed(&r, stream + off, chunk, &used, &msg,
					      err, sizeof(err));
			assert_int_not_equal(s, PROTO_READ_ERROR);
			got += s == PROTO_READ_MSG;
			off += used;
		}
		assert_int_equal(got, 3);
	}
	/* A body one byte over cap is refused before any of it is taken. */
	raw_header(hostile, 101, PROTO_ATTEST_RESP, 0);
	proto_reader_init(&r, rbuf, cap);
	assert_int_equal(proto_reader_feed(&r, hostile, sizeof(hostile), &used, &msg,
					   err, sizeof(err)), PROTO_READ_ERROR);
	assert_int_equal(used, PROTO_HDR_LEN);
	guarded_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_error_round_trip),
		cmocka_unit_test(test_reject_type),
		cmocka_unit_test(test_reject_reserved),
		cmocka_unit_test(test_reject_lengths),
		cmocka_unit_test(test_reject_size_mismatch),
		cmocka_unit_test(test_reject_error_body),
		cmocka_unit_test(test_truncation_everywhere),
		cmocka_unit_test(test_null_err),
		cmocka_unit_test(test_encode_refuses),
		cmocka_unit_test(test_encode_small_cap),
		cmocka_unit_test(test_encode_error_sanitises),
		cmocka_unit_test(test_reader_byte_by_byte),
		cmocka_unit_test(test_reader_random_chunks),
		cmocka_unit_test(test_reader_back_to_back),
		cmocka_unit_test(test_reader_rejects_headers),
		cmocka_unit_test(test_reader_bad_body),
		cmocka_unit_test(test_reader_stays_in_cap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
