/*
 * libFuzzer target for the tenant protocol codec (wire/proto.c).
 *
 * Input: byte 0 seeds the chunking, byte 1 picks the reader's buffer size
 * (the full PROTO_HDR_LEN + PROTO_MAX_BODY, or a small one that some
 * messages do not fit); the rest is a byte stream from an untrusted peer.
 *
 *  - proto_parse on the whole stream, from a heap block of exactly its
 *    length at an odd address: an accepted message is checked against
 *    docs/protocol.md re-read from the raw bytes here (every type, the VM
 *    names, CREATE's fields and secrets, the INFO records), re-encodes to
 *    the same bytes, and the verdict does not depend on the error buffer;
 *    the secrets of a CREATE also pass proto_secrets_check and, rebuilt
 *    with proto_secret_add one by one, give the same bytes;
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

/* docs/protocol.md, re-read here from the raw bytes (not via the codec). */
static bool name_ok(const uint8_t *n)
{
	size_t len = 0;

	while (len < 32 && n[len]) {
		uint8_t c = n[len];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
		len++;
	}
	if (len == 0 || len == 32)
		return false;
	for (size_t i = len; i < 32; i++)
		if (n[i])
			return false;
	return true;
}

static bool secrets_ok(const uint8_t *p, size_t len);

/* Valid secrets, appended one by one with proto_secret_add: the same bytes. */
static void rebuild_secrets(const uint8_t *p, size_t len)
{
	static uint8_t out[PROTO_SECRETS_MAX];
	size_t n = 0;

	for (size_t at = 0; at < len; at += strlen((const char *)p + at) + 1)
		require(proto_secret_add(out, sizeof(out), &n,
					 (const char *)p + at) == 0);
	require(n == len && memcmp(out, p, len) == 0);
}

static bool secrets_ok(const uint8_t *p, size_t len)
{
	size_t at = 0;

	if (len > PROTO_SECRETS_MAX)
		return false;
	while (at < len) {
		const uint8_t *eq = memchr(p + at, '=', len - at);
		const uint8_t *nul = memchr(p + at, 0, len - at);
		size_t k, v;

		if (!eq || !nul || nul < eq)
			return false;
		k = (size_t)(eq - (p + at));
		v = (size_t)(nul - eq - 1);
		if (k < 1 || k > 64 || v > 1024)
			return false;
		for (size_t i = 0; i < k; i++) {
			uint8_t c = p[at + i];

			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			      (c >= '0' && c <= '9') || c == '_'))
				return false;
		}
		for (const uint8_t *c = eq + 1; c < nul; c++)
			if (*c < 0x20 || *c > 0x7e)
				return false;
		/* No earlier secret has this key. */
		for (size_t o = 0; o < at;) {
			const uint8_t *e = memchr(p + o, '=', at - o);
			const uint8_t *z = memchr(p + o, 0, at - o);

			if ((size_t)(e - (p + o)) == k && memcmp(p + o, p + at, k) == 0)
				return false;
			o = (size_t)(z - p) + 1;
		}
		at = (size_t)(nul - p) + 1;
	}
	return true;
}

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
		require(le(m->body, 4) >= 1 && le(m->body, 4) <= 11);
		for (size_t i = 4; i < blen; i++)
			require(m->body[i] >= 0x20 && m->body[i] <= 0x7e);
		break;
	case PROTO_VM_CREATE: {
		const uint8_t *b = m->body;
		uint64_t mem = le(b + 32, 8), image = le(b + 40, 8),
			 init = le(b + 48, 8), initrd = le(b + 104, 8);
		uint64_t slen = le(b + 56, 4), boot = le(b + 96, 4),
			 clen = le(b + 100, 4);

		require(blen >= 112 && blen <= 112 + PROTO_SECRETS_MAX + PROTO_CMDLINE_MAX);
		require(name_ok(b));
		require(mem >= (2u << 20) && mem <= (1u << 30) && mem % (2u << 20) == 0);
		require(boot == 0 || boot == 1);
		if (boot == 1) {
			require(image >= 1 && image <= (16u << 20));
			require(initrd <= (32u << 20) && clen <= 2048);
			require(init == 0 && slen == 0);
		} else {
			require(image >= 1 && image <= (8u << 20));
			require(initrd == 0 && clen == 0);
		}
		require(init <= (1u << 20));
		require(slen + clen == blen - 112 && le(b + 60, 4) == 0);
		if (clen) {
			const uint8_t *c = b + 112 + slen;

			require(memchr(c, 0, clen) == c + clen - 1);
		}
		require(secrets_ok(b + 112, slen));
		rebuild_secrets(b + 112, slen);
		break;
	}
	case PROTO_VM_UPLOAD:
		require(blen >= 49 && blen <= 48 + PROTO_CHUNK_MAX);
		require(name_ok(m->body));
		require(le(m->body + 32, 4) >= 1 && le(m->body + 32, 4) <= 3);
		require(le(m->body + 36, 4) == 0);
		break;
	case PROTO_VM_STOP:
	case PROTO_VM_DESTROY:
	case PROTO_VM_STATUS:
	case PROTO_VM_CONSOLE:
		require(blen == 32 && name_ok(m->body));
		require(proto_vm_name_ok((const char *)m->body));
		break;
	case PROTO_VM_START: /* a name, a mode 0..2, 4 bytes of 0 */
		require(blen == 40 && name_ok(m->body));
		require(le(m->body + 32, 4) <= 2 && le(m->body + 36, 4) == 0);
		break;
	case PROTO_VM_LIST:
	case PROTO_WAIT:
		require(blen == 0);
		break;
	case PROTO_VM_INFO:
		require(blen % 216 == 0 && blen <= 216 * PROTO_VM_LIST_MAX);
		for (size_t r = 0; r < blen; r += 216) {
			const uint8_t *p = m->body + r;
			const uint8_t *nul = memchr(p + 136, 0, 64);

			require(name_ok(p) && le(p + 32, 4) <= 5 &&
			(le(p + 36, 4) & ~7u) == 0);
			require(nul != NULL);
			for (const uint8_t *c = p + 136; c < nul; c++)
				require(*c >= 0x20 && *c <= 0x7e);
		}
		break;
	case PROTO_VM_CONSOLE_DATA:
		require(blen <= PROTO_CHUNK_MAX);
		break;
	case PROTO_VM_CONSOLE_INPUT: /* a name, then 1..1024 bytes of anything */
		require(blen >= 33 && blen <= 32 + 1024 && name_ok(m->body));
		break;
	case PROTO_VM_INPUT_TAKEN:
		require(blen == 4 && le(m->body, 4) <= 1024);
		break;
	default:
		require(0);
	}
	require(proto_encode(m->type, m->body, m->len, enc, sizeof(enc)) == size);
	require(memcmp(enc, d, size) == 0);
	/* One byte short of room: refused. */
	require(proto_encode(m->type, m->body, m->len, enc, size - 1) == 0);
}

/* The helpers on raw input agree with the spec both ways. */
static void fuzz_helpers(const uint8_t *data, size_t size)
{
	char name[PROTO_VM_NAME_MAX], set[PROTO_VM_NAME_MAX], str[40];
	char err[160];
	size_t n = size < PROTO_SECRETS_MAX + 1 ? size : PROTO_SECRETS_MAX + 1;
	int rc = proto_secrets_check(data, n, err, sizeof(err));

	require((rc == 0) == secrets_ok(data, n));
	if (rc)
		check_err(err, sizeof(err));
	else
		require(err[0] == 0);
	memset(name, 0, sizeof(name));
	memcpy(name, data, size < sizeof(name) ? size : sizeof(name));
	require(proto_vm_name_ok(name) == name_ok((const uint8_t *)name));
	/* proto_vm_name_set on a C string: valid iff its padded form is. */
	memset(str, 0, sizeof(str));
	memcpy(str, data, size < sizeof(str) - 1 ? size : sizeof(str) - 1);
	memset(set, 0x77, sizeof(set));
	if (proto_vm_name_set(set, str) == 0) {
		require(strlen(str) < sizeof(set) && name_ok((const uint8_t *)set));
		require(strcmp(set, str) == 0);
	} else {
		for (size_t i = 0; i < sizeof(set); i++)
			require(set[i] == 0x77);
		if (strlen(str) < sizeof(name)) {
			memset(name, 0, sizeof(name));
			memcpy(name, str, strlen(str));
			require(!name_ok((const uint8_t *)name));
		}
	}
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
	fuzz_helpers(data, size);
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
