/*
 * Framing of tenant sessions on the TPGVM's serial line (docs/relay.md).
 *
 * The relay and the host in between are untrusted and the line may drop,
 * duplicate or flip bytes; TLS inside the frames gives secrecy and end-to-end
 * integrity, so the framing only needs to find frame boundaries again after
 * any damage. Every header carries a CRC-32C that is checked before its
 * length is believed, and every payload its own CRC-32C.
 *
 * Portable freestanding C (wire/frame.c): compiled into the TPGVM and into
 * custos-relay.
 */
#ifndef CUSTOS_FRAME_H
#define CUSTOS_FRAME_H

#include <custos/types.h>

/* Wire layout, all integers little-endian (docs/relay.md, "Frame"). */
#define FRAME_SYNC0          0xC5u
#define FRAME_SYNC1          0x7Au
#define FRAME_VERSION        1u
#define FRAME_HDR_LEN        15u
#define FRAME_MAX_PAYLOAD    1024u
#define FRAME_MAX_LEN        (FRAME_HDR_LEN + FRAME_MAX_PAYLOAD)

/* Byte offsets inside the header. */
#define FRAME_OFF_VT         2u  /* version << 4 | type */
#define FRAME_OFF_SID        3u  /* u16 session id */
#define FRAME_OFF_LEN        5u  /* u16 payload length */
#define FRAME_OFF_PCRC       7u  /* u32 CRC-32C of the payload */
#define FRAME_OFF_HCRC       11u /* u32 CRC-32C of bytes 0..10 */

enum frame_type {
	FRAME_OPEN  = 1, /* relay -> TPGVM: a tenant connected on this session */
	FRAME_DATA  = 2, /* either way: opaque session bytes */
	FRAME_CLOSE = 3, /* either way: the session is over */
	FRAME_HELLO = 4, /* either way: I (re)started, forget every session */
	FRAME_STORE = 5, /* TPGVM -> relay: a storage request (sid = request id) */
	FRAME_STORED = 6, /* relay -> TPGVM: the answer to one STORE */
};

/* A decoded frame; payload points into the decoder and stays valid only
 * until the sink returns. */
struct frame {
	uint8_t type;
	uint16_t sid;
	uint16_t len;
	const uint8_t *payload;
};

typedef void (*frame_sink)(void *ctx, const struct frame *f);

/* Counters for the log and the tests: what the decoder threw away. */
struct frame_stats {
	uint64_t frames;      /* delivered */
	uint64_t skipped;     /* bytes discarded while hunting for a header */
	uint64_t bad_header;  /* sync seen, header CRC or fields wrong */
	uint64_t bad_payload; /* header good, payload CRC wrong */
};

/*
 * Streaming decoder: fixed memory (one maximal frame), fed arbitrary chunks.
 * Bytes wait in buf until they form a whole checked frame or are known not
 * to start one; a frame found bad is skipped by one byte only, so a good
 * frame hidden inside a damaged one's claimed payload is still found.
 */
struct frame_decoder {
	uint8_t buf[FRAME_MAX_LEN];
	size_t have;
	struct frame_stats stats;
};

uint32_t frame_crc32c(uint32_t crc, const void *data, size_t len);

void frame_decoder_init(struct frame_decoder *d);

/* Consume all of data[0..len), calling sink once per good frame in order. */
void frame_decoder_feed(struct frame_decoder *d, const uint8_t *data,
			size_t len, frame_sink sink, void *ctx);

/*
 * The line went quiet inside a frame: it was cut short (senders write whole
 * frames). Without this, the frames after a truncated one wait until its
 * claimed length has arrived. Gives up the pending candidate and looks for a
 * frame in what followed its first byte. The quiet time is the caller's
 * policy; a frame merely slow to arrive is lost (TLS sees the loss).
 */
void frame_decoder_resync(struct frame_decoder *d, frame_sink sink, void *ctx);

/* The whole frame into out; its length, or 0 if the type is unknown, the
 * payload longer than FRAME_MAX_PAYLOAD or out shorter than the frame. */
size_t frame_encode(uint8_t type, uint16_t sid, const void *payload,
		    size_t len, uint8_t *out, size_t out_len);

#endif
