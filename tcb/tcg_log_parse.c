/*
 * TCG crypto-agile event log decoder (tcb/tcg_log_parse.h). The input is
 * hostile: every field is read byte by byte, every length is bounded before
 * it is used and compared with what is left in 64 bits, so nothing can wrap
 * or read past the buffer. The caller's result is filled only once the
 * whole log has been accepted.
 *
 * Built freestanding into the hypervisor and hosted into the tools, tests
 * and fuzzer; uses only memcmp/memcpy/memset and tcb/errmsg.c.
 */
#include "tcb/tcg_log_parse.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"
#include "tcb/tcg_log.h"

#include <string.h>

/* The 65-byte first event tcg_log_encode writes (docs/eventlog.md): the
 * SHA-1-layout TCG_PCClientPCREvent carrying TCG_EfiSpecIdEvent. */
static const uint8_t want_header[TCG_HEADER_LEN] = {
	0x00, 0x00, 0x00, 0x00,                         /* pcrIndex 0 */
	0x03, 0x00, 0x00, 0x00,                         /* EV_NO_ACTION */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                   /* SHA-1 digest: zero */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x21, 0x00, 0x00, 0x00,                         /* eventDataSize 33 */
	'S', 'p', 'e', 'c', ' ', 'I', 'D', ' ',         /* signature */
	'E', 'v', 'e', 'n', 't', '0', '3', 0x00,
	0x00, 0x00, 0x00, 0x00,                         /* platformClass */
	0x00, 0x02, 0x00, 0x02,                         /* 2.0 errata 0, UINT64 */
	0x01, 0x00, 0x00, 0x00,                         /* numberOfAlgorithms */
	0x0c, 0x00, 0x30, 0x00,                         /* SHA-384, 48 bytes */
	0x00,                                           /* vendorInfoSize */
};

static int check_header(const uint8_t *buf, size_t len, char *err,
			size_t err_len)
{
	if (len < TCG_HEADER_LEN)
		return errmsg(err, err_len,
			      "event log truncated: %zu bytes, shorter than its %u-byte header",
			      len, TCG_HEADER_LEN);
	if (memcmp(buf, want_header, 32) != 0 ||
	    memcmp(buf + 32, want_header + 32, 16) != 0)
		return errmsg(err, err_len,
			      "not a crypto-agile TCG event log (no Spec ID Event03 header)");
	if (memcmp(buf, want_header, TCG_HEADER_LEN) != 0)
		return errmsg(err, err_len,
			      "event log header is not the one Custos writes (one SHA-384 bank, spec 2.0, no vendor info)");
	return 0;
}

/* One TCG_PCR_EVENT2 at buf[*off]; advances *off. */
static int parse_event(const uint8_t *buf, size_t len, size_t *off,
		       size_t index, struct tcg_event *e, char *err,
		       size_t err_len)
{
	const uint8_t *p = buf + *off;
	uint64_t left = (uint64_t)len - *off;
	uint32_t count, size;
	uint16_t alg;

	if (left < TCG_EVENT2_FIXED_LEN)
		return errmsg(err, err_len,
			      "event log truncated in event %zu (%llu bytes left, an event needs at least %u)",
			      index, (unsigned long long)left, TCG_EVENT2_FIXED_LEN);
	e->pcr = load_le32(p);
	e->event_type = load_le32(p + 4);
	count = load_le32(p + 8);
	alg = load_le16(p + 12);
	size = load_le32(p + 14 + MEASURE_DIGEST_LEN);
	if (e->pcr >= TCG_PCR_COUNT)
		return errmsg(err, err_len, "event %zu: PCR %u does not exist",
			      index, e->pcr);
	if (count != 1 || alg != TCG_ALG_SHA384)
		return errmsg(err, err_len,
			      "event %zu: digests are not exactly one SHA-384 (count %u, algorithm 0x%04x)",
			      index, count, alg);
	if (size == 0 || size > MEASURE_DESC_MAX)
		return errmsg(err, err_len,
			      "event %zu: event data of %u bytes (must be 1..%u)",
			      index, size, MEASURE_DESC_MAX);
	if ((uint64_t)size > left - TCG_EVENT2_FIXED_LEN)
		return errmsg(err, err_len,
			      "event log truncated in event %zu's description",
			      index);
	p += TCG_EVENT2_FIXED_LEN;
	if (p[size - 1] != 0)
		return errmsg(err, err_len,
			      "event %zu: description is not NUL-terminated",
			      index);
	for (uint32_t i = 0; i + 1 < size; i++) {
		if (p[i] < 0x20 || p[i] > 0x7e)
			return errmsg(err, err_len,
				      "event %zu: description byte %u is not printable ASCII",
				      index, i);
	}
	memcpy(e->digest, buf + *off + 14, MEASURE_DIGEST_LEN);
	memset(e->desc, 0, sizeof(e->desc));
	memcpy(e->desc, p, size);
	*off += TCG_EVENT2_FIXED_LEN + size;
	return 0;
}

/* Walk the events; with out, also store them (only ever done after a walk
 * without out accepted the whole log, so *out is written only on success). */
static int walk(const uint8_t *buf, size_t len, struct tcg_log_parsed *out,
		char *err, size_t err_len)
{
	struct tcg_event e;
	size_t off = TCG_HEADER_LEN, n = 0;

	while (off < len) {
		if (n == MEASURE_MAX_EVENTS)
			return errmsg(err, err_len,
				      "event log has more than %u events",
				      MEASURE_MAX_EVENTS);
		if (parse_event(buf, len, &off, n, &e, err, err_len) != 0)
			return -1;
		if (out)
			out->events[n] = e;
		n++;
	}
	if (out)
		out->count = n;
	return 0;
}

int tcg_log_parse(const uint8_t *buf, size_t len, struct tcg_log_parsed *out,
		  char *err, size_t err_len)
{
	if (check_header(buf, len, err, err_len) != 0 ||
	    walk(buf, len, NULL, err, err_len) != 0)
		return -1;
	walk(buf, len, out, NULL, 0);
	if (err && err_len)
		err[0] = '\0';
	return 0;
}
