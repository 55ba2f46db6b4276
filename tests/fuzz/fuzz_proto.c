/*
 * libFuzzer target for the tenant protocol codec (tpgvm/proto.c).
 *
 * Input: byte 0 seeds the chunking, byte 1 picks the reader's buffer size
 * (the full PROTO_HDR_LEN + PROTO_MAX_BODY, or a small one that some
 * messages do not fit); the rest is a byte stream from an untrusted peer.
 *
 *  - proto_parse on the whole stream, from a heap block of exactly its
 *    length at an odd address: an accepted message is checked against
 *    docs/protocol.md re-read from the raw bytes here, re-encodes to the
 *    same bytes, and the verdict does not depend on the error buffer;
 *  - the stream reader, fed the stream in one piece and again in
 *    pseudo-random chunks (down to single bytes), into a heap buffer of
 *    exactly its capacity: both runs must agree message for message and on
 *    where the stream failed; each message is the stream's bytes where it
 *    stands; a bad header fails as soon as it is complete, never waiting
 *    for its body; a refused stream has a one-line reason.
 * Any disagreement aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <custos/proto.h>
#include <custos/report.h>
#include "fuzz_util.h"

#define MAX_MSGS 64u

static void check_err(const char *err, size_t len)
{
	size_t n = strnlen(err, len);

	require(n > 0 && n < len);
	for (size_t i = 0; i < n; i++)
		require(err[i] >= 0x20 && err[i] < 0x7f);
}

/* An accepted whole message, checked against the spec from its bytes. */
static void check_msg(const uint8_t *d, size_t size, const struct proto_msg *m)
{
	static uint8_t enc[PROTO_HDR_LEN + PROTO_MAX_BODY];
	uint64_t blen = le(d, 4), type = le(d + 4, 2);

	require(size >= PROTO_HDR_LEN && size - PROTO_HDR_LEN == blen);
	require(le(d + 6, 2) == 0);
	require(m->type == type && m->len == blen && m->body == d + PROTO_HDR_LEN);
	switch (type) {
	case PROTO_ATTEST_REQ:
		require(blen >= REPORT_NONCE_MIN && blen <= REPORT_NONCE_MAX);
		break;
	case PROTO_ATTEST_RESP:
		require(blen >= 1 && blen <= REPORT_MAX_SIZE);
		break;
	case PROTO_ERROR:
		require(blen >= 4 && blen <= 4 + PROTO_ERROR_TEXT_MAX);
		require(le(m->body, 4) >= 1 && le(m->body, 4) <= 3);
		for (size_t i = 4; i < blen; i++)
			require(m->body[i] >= 0x20 && m->body[i] <= 0x7e);
		break;
	default:
		require(0);
	}
	require(proto_encode(m->type, m->body, m->len, enc, sizeof(enc)) == size);
	require(memcmp(enc, d, size) == 0);
	/* One byte short of room: refused. */
	require(proto_encode(m->type, m->body, m->len, enc, size - 1) == 0);
}

static void fuzz_parse(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size + 1);
	const uint8_t *p;
	struct proto_msg m;
	char err[160];
	int rc;

	require(copy != NULL);
	p = copy + 1; /* odd address, block ends with the message */
	memcpy(copy + 1, data, size);
	rc = proto_parse(p, size, &m, err, sizeof(err));
	require(proto_parse(p, size, &m, NULL, 0) == rc);
	if (rc == 0)
		check_msg(p, size, &m);
	else
		check_err(err, sizeof(err));
	free(copy);
}

struct result {
	size_t n;                 /* messages */
	size_t end[MAX_MSGS];     /* stream offset after each */
	uint32_t crc[MAX_MSGS];   /* a digest of each */
	bool failed;
	size_t consumed;          /* input taken in all */
};

static uint32_t digest(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = (h ^ *p++) * 16777619u;
	return h;
}

static void run_reader(struct result *res, const uint8_t *s, size_t len,
		       size_t cap, uint32_t seed)
{
	uint8_t *buf = malloc(cap ? cap : 1);
	struct proto_reader r;
	size_t off = 0, start = 0;
	char err[160];

	require(buf != NULL);
	memset(res, 0, sizeof(*res));
	proto_reader_init(&r, buf, cap);
	while (off < len && !res->failed) {
		size_t chunk = len - off;

		if (seed) {
			seed = seed * 1103515245u + 12345u;
			chunk = 1 + (seed >> 16) % (seed & 0x100 ? 3 : 700);
			if (chunk > len - off)
				chunk = len - off;
		}
		while (chunk && !res->failed) {
			struct proto_msg m;
			size_t used = (size_t)-1;
			enum proto_read_status st;

			st = proto_reader_feed(&r, s + off, chunk, &used, &m, err,
					       sizeof(err));
			require(used <= chunk && r.have <= cap);
			off += used;
			chunk -= used;
			if (st == PROTO_READ_MORE) {
				require(chunk == 0);
			} else if (st == PROTO_READ_MSG) {
				/* Exactly the stream's bytes since the last one. */
				require(PROTO_HDR_LEN + (size_t)m.len == off - start);
				require(m.body == buf + PROTO_HDR_LEN);
				require(memcmp(buf, s + start, off - start) == 0);
				check_msg(buf, off - start, &m);
				if (res->n < MAX_MSGS) {
					res->end[res->n] = off;
					res->crc[res->n] = digest(buf, off - start);
				}
				res->n++;
				start = off;
			} else {
				uint16_t type;
				uint32_t blen;

				require(st == PROTO_READ_ERROR);
				check_err(err, sizeof(err));
				res->failed = true;
				/* A refused header (or one too big for the
				 * buffer) fails when it is complete. */
				if (cap >= PROTO_HDR_LEN &&
				    (proto_parse_header(s + start, &type, &blen, NULL, 0) ||
				     PROTO_HDR_LEN + (size_t)blen > cap))
					require(off == start + PROTO_HDR_LEN);
				/* And it stays failed. */
				require(proto_reader_feed(&r, s + off, len - off, &used,
							  &m, NULL, 0) == PROTO_READ_ERROR);
			}
		}
	}
	res->consumed = off;
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct result whole, chunked;
	size_t cap;
	uint32_t seed;

	if (size > 256 * 1024)
		return 0;
	fuzz_parse(data, size);
	if (size < 2)
		return 0;
	seed = (uint32_t)data[0] * 2654435761u | 1u;
	cap = data[1] & 0x80 ? PROTO_HDR_LEN + PROTO_MAX_BODY
			     : (size_t)(data[1] & 0x7f) * 3;
	run_reader(&whole, data + 2, size - 2, cap, 0);
	run_reader(&chunked, data + 2, size - 2, cap, seed);
	require(whole.n == chunked.n && whole.failed == chunked.failed);
	require(whole.consumed == chunked.consumed);
	for (size_t i = 0; i < whole.n && i < MAX_MSGS; i++)
		require(whole.end[i] == chunked.end[i] && whole.crc[i] == chunked.crc[i]);
	return 0;
}
