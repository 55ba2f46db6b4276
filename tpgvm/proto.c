/*
 * The tenant protocol codec (include/custos/proto.h, docs/protocol.md):
 * header and body checks, encoders and the incremental stream reader.
 *
 * Freestanding: only memcpy/memmove/memset from <string.h> and
 * tcb/errmsg.c. Every multi-byte field is assembled byte by byte, and a
 * header's length is checked against its type's limits before any body
 * byte is waited for or copied. Both peers are untrusted.
 */
#include <custos/proto.h>
#include <custos/report.h>

#include <string.h>

#include "tcb/errmsg.h"

#define PROTO_ERROR_CODE_LEN 4u
#define PROTO_ERROR_BODY_MAX (PROTO_ERROR_CODE_LEN + PROTO_ERROR_TEXT_MAX)

_Static_assert(PROTO_MAX_BODY >= REPORT_NONCE_MAX,
	       "PROTO_MAX_BODY below the ATTEST_REQ limit");
_Static_assert(PROTO_MAX_BODY >= REPORT_MAX_SIZE,
	       "PROTO_MAX_BODY below the ATTEST_RESP limit");
_Static_assert(PROTO_MAX_BODY >= PROTO_ERROR_BODY_MAX,
	       "PROTO_MAX_BODY below the ERROR limit");
_Static_assert((uint64_t)PROTO_HDR_LEN + PROTO_MAX_BODY <= UINT32_MAX,
	       "a whole message must fit 32 bits");

static uint16_t load_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void store_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void store_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void clear_err(char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
}

/* The body length limits of a known type; false for an unknown type. */
static bool type_limits(uint16_t type, uint32_t *min, uint32_t *max,
			const char **what)
{
	switch (type) {
	case PROTO_ATTEST_REQ:
		*min = REPORT_NONCE_MIN;
		*max = REPORT_NONCE_MAX;
		*what = "nonce";
		return true;
	case PROTO_ATTEST_RESP:
		*min = 1;
		*max = REPORT_MAX_SIZE;
		*what = "report";
		return true;
	case PROTO_ERROR:
		*min = PROTO_ERROR_CODE_LEN;
		*max = PROTO_ERROR_BODY_MAX;
		*what = "error body";
		return true;
	default:
		return false;
	}
}

/* Is a body of len bytes allowed for type? (len is a size_t so that the
 * encoders can ask before narrowing.) */
static int check_len(uint16_t type, size_t len, char *err, size_t err_len)
{
	uint32_t min, max;
	const char *what;

	if (!type_limits(type, &min, &max, &what))
		return errmsg(err, err_len, "unknown message type %u",
			      (unsigned)type);
	if (len < min || len > max)
		return errmsg(err, err_len, "%s of %zu bytes (want %u..%u)",
			      what, len, (unsigned)min, (unsigned)max);
	return 0;
}

static bool error_code_known(uint32_t code)
{
	return code == PROTO_ERR_BAD_REQUEST || code == PROTO_ERR_INTERNAL ||
	       code == PROTO_ERR_BUSY;
}

/* The structure of a body whose length check_len() has accepted. A nonce
 * and a report are opaque here (the report is verified by its reader). */
static int check_body(uint16_t type, const uint8_t *body, size_t len,
		      char *err, size_t err_len)
{
	uint32_t code;

	if (type != PROTO_ERROR)
		return 0;
	code = load_le32(body);
	if (!error_code_known(code))
		return errmsg(err, err_len, "unknown error code %u",
			      (unsigned)code);
	for (size_t i = PROTO_ERROR_CODE_LEN; i < len; i++)
		if (body[i] < 0x20 || body[i] > 0x7e)
			return errmsg(err, err_len,
				      "error text byte %zu is 0x%02x (want 0x20..0x7e)",
				      i - PROTO_ERROR_CODE_LEN, (unsigned)body[i]);
	return 0;
}

/* ---- Parsing -------------------------------------------------------------- */

int proto_parse_header(const uint8_t hdr[PROTO_HDR_LEN], uint16_t *type,
		       uint32_t *len, char *err, size_t err_len)
{
	uint32_t blen = load_le32(hdr);
	uint16_t t = load_le16(hdr + 4), reserved = load_le16(hdr + 6);

	clear_err(err, err_len);
	if (check_len(t, blen, err, err_len))
		return -1;
	if (reserved)
		return errmsg(err, err_len,
			      "reserved header field is 0x%04x (must be 0)",
			      (unsigned)reserved);
	*type = t;
	*len = blen;
	return 0;
}

int proto_parse(const uint8_t *buf, size_t len, struct proto_msg *out,
		char *err, size_t err_len)
{
	uint16_t type;
	uint32_t blen;

	clear_err(err, err_len);
	if (len < PROTO_HDR_LEN)
		return errmsg(err, err_len,
			      "message of %zu bytes is shorter than its %u-byte header",
			      len, PROTO_HDR_LEN);
	if (proto_parse_header(buf, &type, &blen, err, err_len))
		return -1;
	if (len - PROTO_HDR_LEN != blen)
		return errmsg(err, err_len,
			      "message of %zu bytes, but its header says %u + %u",
			      len, PROTO_HDR_LEN, (unsigned)blen);
	if (check_body(type, buf + PROTO_HDR_LEN, blen, err, err_len))
		return -1;
	out->type = type;
	out->len = blen;
	out->body = buf + PROTO_HDR_LEN;
	return 0;
}

/* ---- Encoding ------------------------------------------------------------- */

void proto_write_header(uint8_t hdr[PROTO_HDR_LEN], uint16_t type, uint32_t len)
{
	store_le32(hdr, len);
	store_le16(hdr + 4, type);
	store_le16(hdr + 6, 0);
}

size_t proto_encode(uint16_t type, const void *body, size_t len, uint8_t *buf,
		    size_t cap)
{
	if (check_len(type, len, NULL, 0) || !body || !buf ||
	    cap < PROTO_HDR_LEN || cap - PROTO_HDR_LEN < len ||
	    check_body(type, body, len, NULL, 0))
		return 0;
	proto_write_header(buf, type, (uint32_t)len);
	memcpy(buf + PROTO_HDR_LEN, body, len);
	return PROTO_HDR_LEN + len;
}

size_t proto_encode_error(uint32_t code, const char *text, uint8_t *buf,
			  size_t cap)
{
	uint8_t body[PROTO_ERROR_BODY_MAX];
	size_t n = 0;

	store_le32(body, code);
	for (; text && n < PROTO_ERROR_TEXT_MAX && text[n]; n++) {
		uint8_t c = (uint8_t)text[n];

		body[PROTO_ERROR_CODE_LEN + n] = c >= 0x20 && c <= 0x7e ? c : '?';
	}
	return proto_encode(PROTO_ERROR, body, PROTO_ERROR_CODE_LEN + n, buf,
			    cap);
}

/* ---- Stream reader -------------------------------------------------------- */

void proto_reader_init(struct proto_reader *r, uint8_t *buf, size_t cap)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->cap = cap;
}

/* Take up to want - r->have bytes of the input into the buffer. */
static void take(struct proto_reader *r, size_t want, const uint8_t **data,
		 size_t *len, size_t *used)
{
	size_t n = r->have < want ? want - r->have : 0;

	if (n > *len)
		n = *len;
	if (n) {
		memcpy(r->buf + r->have, *data, n);
		r->have += n;
		*data += n;
		*len -= n;
		*used += n;
	}
}

/* Forget the message returned last time. The reader never takes bytes past
 * the end of a message, so nothing follows it today; anything that did
 * would be moved to the front. */
static void discard_delivered(struct proto_reader *r)
{
	size_t n = PROTO_HDR_LEN + (size_t)load_le32(r->buf);

	if (n > r->have)
		n = r->have;
	memmove(r->buf, r->buf + n, r->have - n);
	r->have -= n;
	r->deliver_pending = false;
}

enum proto_read_status proto_reader_feed(struct proto_reader *r,
					 const uint8_t *data, size_t len,
					 size_t *used, struct proto_msg *msg,
					 char *err, size_t err_len)
{
	uint16_t type;
	uint32_t blen;
	size_t total;

	*used = 0;
	clear_err(err, err_len);
	if (r->deliver_pending)
		discard_delivered(r);
	if (!r->buf || r->cap < PROTO_HDR_LEN) {
		errmsg(err, err_len, "reader buffer of %zu bytes is below the %u-byte header",
		       r->cap, PROTO_HDR_LEN);
		return PROTO_READ_ERROR;
	}
	if (!data)
		len = 0;
	take(r, PROTO_HDR_LEN, &data, &len, used);
	if (r->have < PROTO_HDR_LEN)
		return PROTO_READ_MORE;
	/* The header is judged before any of its body is waited for. */
	if (proto_parse_header(r->buf, &type, &blen, err, err_len))
		return PROTO_READ_ERROR;
	total = PROTO_HDR_LEN + (size_t)blen;
	if (total > r->cap) {
		errmsg(err, err_len,
		       "message of %zu bytes does not fit the reader's %zu-byte buffer",
		       total, r->cap);
		return PROTO_READ_ERROR;
	}
	take(r, total, &data, &len, used);
	if (r->have < total)
		return PROTO_READ_MORE;
	if (proto_parse(r->buf, total, msg, err, err_len))
		return PROTO_READ_ERROR;
	r->deliver_pending = true;
	return PROTO_READ_MSG;
}
