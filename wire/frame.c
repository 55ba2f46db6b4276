/*
 * Session framing on the TPGVM's serial line (docs/relay.md): CRC-32C,
 * the encoder and the streaming, resynchronising decoder.
 *
 * Freestanding: only memcpy/memmove/memset from <string.h>. Every
 * multi-byte field is assembled byte by byte (no alignment, no endianness
 * assumptions), and the length field is read only after the header CRC
 * that covers it has matched.
 */
#include <custos/frame.h>
#include "tcb/byteorder.h"

#include <string.h>

/* CRC-32C (Castagnoli), reflected polynomial 0x82F63B78: it detects all
 * burst errors up to 32 bits and has better distance than CRC-32 at these
 * lengths. Bitwise, without a table: a few cycles more per byte at serial
 * speeds, 1 KiB less of data in the TCB's guest. */
#define CRC32C_POLY_REFLECTED 0x82F63B78u

uint32_t frame_crc32c(uint32_t crc, const void *data, size_t len)
{
	const uint8_t *p = data;

	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (CRC32C_POLY_REFLECTED & (0u - (crc & 1u)));
	}
	return ~crc;
}

static bool type_known(uint8_t type)
{
	return type >= FRAME_OPEN && type <= FRAME_STORED;
}

/* ---- Encoder ------------------------------------------------------------- */

size_t frame_encode(uint8_t type, uint16_t sid, const void *payload,
		    size_t len, uint8_t *out, size_t out_len)
{
	if (!type_known(type) || len > FRAME_MAX_PAYLOAD ||
	    out_len < FRAME_HDR_LEN + len || (len && !payload))
		return 0;
	out[0] = FRAME_SYNC0;
	out[1] = FRAME_SYNC1;
	out[FRAME_OFF_VT] = (uint8_t)(FRAME_VERSION << 4 | type);
	store_le16(out + FRAME_OFF_SID, sid);
	store_le16(out + FRAME_OFF_LEN, (uint16_t)len);
	store_le32(out + FRAME_OFF_PCRC, frame_crc32c(0, payload, len));
	store_le32(out + FRAME_OFF_HCRC, frame_crc32c(0, out, FRAME_OFF_HCRC));
	if (len)
		memcpy(out + FRAME_HDR_LEN, payload, len);
	return FRAME_HDR_LEN + len;
}

/* ---- Decoder ------------------------------------------------------------- */

void frame_decoder_init(struct frame_decoder *d)
{
	memset(d, 0, sizeof(*d));
}

/* Forget the first n buffered bytes. */
static void drop(struct frame_decoder *d, size_t n)
{
	memmove(d->buf, d->buf + n, d->have - n);
	d->have -= n;
}

/* Where the next possible frame starts: the first sync marker, or a lone
 * first sync byte at the very end (its second byte has not come yet). */
static size_t find_sync(const struct frame_decoder *d)
{
	for (size_t p = 0; p < d->have; p++) {
		if (d->buf[p] != FRAME_SYNC0)
			continue;
		if (p + 1 == d->have || d->buf[p + 1] == FRAME_SYNC1)
			return p;
	}
	return d->have;
}

/* A whole header starts buf: is it one? The CRC comes first, so nothing of
 * the header (above all its length) is believed before it matches. */
static bool header_ok(const uint8_t *h)
{
	uint8_t vt = h[FRAME_OFF_VT];

	if (frame_crc32c(0, h, FRAME_OFF_HCRC) != load_le32(h + FRAME_OFF_HCRC))
		return false;
	return (vt >> 4) == FRAME_VERSION && type_known(vt & 0x0f) &&
	       load_le16(h + FRAME_OFF_LEN) <= FRAME_MAX_PAYLOAD;
}

/* Deliver every complete frame in buf; leave only a prefix that may still
 * become one (always shorter than FRAME_MAX_LEN). A bad candidate loses one
 * byte, not its claimed length: the damage may have been a lost byte, and
 * the next good frame may begin inside what it claimed. */
static void process(struct frame_decoder *d, frame_sink sink, void *ctx)
{
	for (;;) {
		size_t skip = find_sync(d), len;
		struct frame f;

		if (skip) {
			d->stats.skipped += skip;
			drop(d, skip);
		}
		if (d->have < FRAME_HDR_LEN)
			return;
		if (!header_ok(d->buf)) {
			d->stats.bad_header++;
			drop(d, 1);
			continue;
		}
		len = load_le16(d->buf + FRAME_OFF_LEN);
		if (d->have < FRAME_HDR_LEN + len)
			return;
		if (frame_crc32c(0, d->buf + FRAME_HDR_LEN, len) !=
		    load_le32(d->buf + FRAME_OFF_PCRC)) {
			d->stats.bad_payload++;
			drop(d, 1);
			continue;
		}
		f.type = d->buf[FRAME_OFF_VT] & 0x0f;
		f.sid = load_le16(d->buf + FRAME_OFF_SID);
		f.len = (uint16_t)len;
		f.payload = d->buf + FRAME_HDR_LEN;
		d->stats.frames++;
		sink(ctx, &f);
		drop(d, FRAME_HDR_LEN + len);
	}
}

void frame_decoder_feed(struct frame_decoder *d, const uint8_t *data,
			size_t len, frame_sink sink, void *ctx)
{
	while (len) {
		size_t n = sizeof(d->buf) - d->have;

		if (n > len)
			n = len;
		memcpy(d->buf + d->have, data, n);
		d->have += n;
		data += n;
		len -= n;
		process(d, sink, ctx);
	}
}

void frame_decoder_resync(struct frame_decoder *d, frame_sink sink, void *ctx)
{
	if (!d->have)
		return;
	d->stats.skipped++;
	drop(d, 1);
	process(d, sink, ctx);
}
