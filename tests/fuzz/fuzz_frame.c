/*
 * libFuzzer target for the serial-line framing decoder (wire/frame.c).
 *
 * The first input byte picks a mode and a chunking seed:
 *  - raw: the rest of the input is the line;
 *  - built: the rest is a recipe of good frames, garbage, duplicates and
 *    truncated frames, assembled into the line with frame_encode().
 * The line is decoded in one piece and again in pseudo-random chunks
 * (down to single bytes). Checks: both decodes deliver the same frames;
 * each delivered frame re-encodes to bytes found in the line at or after
 * the previous one (so its CRCs held and nothing was invented); the
 * decoder's buffer stays bounded; and a recipe of good frames and
 * duplicates only is delivered exactly, frame for frame.
 * Any disagreement aborts.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <custos/frame.h>
#include "fuzz_util.h"

#define MAX_LINE   (64u * 1024u)
#define MAX_FRAMES 512u

struct run {
	const uint8_t *line;
	size_t line_len;
	size_t pos;            /* where the previous delivered frame ended */
	size_t n;
	uint32_t digest[MAX_FRAMES];
	uint8_t enc[FRAME_MAX_LEN];
};

static void sink(void *ctx, const struct frame *f)
{
	struct run *r = ctx;
	size_t n = frame_encode(f->type, f->sid, f->payload, f->len, r->enc,
				sizeof(r->enc));
	const uint8_t *at;

	require(n == FRAME_HDR_LEN + f->len);
	at = memmem(r->line + r->pos, r->line_len - r->pos, r->enc, n);
	require(at != NULL);
	r->pos = (size_t)(at - r->line) + n;
	if (r->n < MAX_FRAMES)
		r->digest[r->n] = frame_crc32c(0, r->enc, n);
	r->n++;
}

static void decode(struct run *r, const uint8_t *line, size_t len, uint32_t seed)
{
	static struct frame_decoder d;
	size_t off = 0;

	memset(r, 0, sizeof(*r));
	r->line = line;
	r->line_len = len;
	frame_decoder_init(&d);
	while (off < len) {
		size_t chunk = len - off;

		if (seed) {
			seed = seed * 1103515245u + 12345u;
			chunk = 1 + (seed >> 16) % (seed & 0x100 ? 3 : 2000);
			if (chunk > len - off)
				chunk = len - off;
		}
		frame_decoder_feed(&d, line + off, chunk, sink, r);
		require(d.have < FRAME_MAX_LEN);
		off += chunk;
	}
}

/* Assemble the line from a recipe; *clean is left true when the recipe
 * held only good frames and duplicates, *frames counts those. */
static size_t build(const uint8_t *p, size_t n, uint8_t *line, bool *clean,
		    size_t *frames)
{
	static uint8_t last[FRAME_MAX_LEN];
	size_t len = 0, last_len = 0;

	*clean = true;
	*frames = 0;
	while (n >= 3 && len + 2 * FRAME_MAX_LEN <= MAX_LINE) {
		uint8_t op = p[0] % 4, a = p[1], b = p[2];
		size_t take;

		p += 3;
		n -= 3;
		if (op == 0 || op == 3) { /* a frame; op 3 keeps only part of it */
			size_t plen = (size_t)b * 4 + (a & 3);

			if (plen > FRAME_MAX_PAYLOAD)
				plen = FRAME_MAX_PAYLOAD;
			take = plen < n ? plen : n;
			last_len = frame_encode((uint8_t)(1 + a % 6), (uint16_t)(a >> 2),
						p, take, last, sizeof(last));
			p += take;
			n -= take;
			if (op == 3) {
				last_len = 1 + (size_t)b * 7 % last_len;
				*clean = false;
			} else {
				(*frames)++;
			}
			memcpy(line + len, last, last_len);
			len += last_len;
		} else if (op == 1) { /* garbage from the recipe */
			take = a < n ? a : n;
			memcpy(line + len, p, take);
			len += take;
			p += take;
			n -= take;
			*clean = false;
		} else if (last_len) { /* the previous piece again */
			memcpy(line + len, last, last_len);
			len += last_len;
			*frames += *clean;
		}
	}
	return len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t line[MAX_LINE];
	static struct run whole, chunked;
	bool clean = false;
	size_t len, frames = 0;
	uint32_t seed;

	if (size < 1 || size > MAX_LINE)
		return 0;
	seed = (uint32_t)data[0] * 2654435761u | 1u;
	if (data[0] & 1) {
		len = build(data + 1, size - 1, line, &clean, &frames);
	} else {
		len = size - 1;
		memcpy(line, data + 1, len);
	}
	decode(&whole, line, len, 0);
	decode(&chunked, line, len, seed);
	require(whole.n == chunked.n);
	for (size_t i = 0; i < whole.n && i < MAX_FRAMES; i++)
		require(whole.digest[i] == chunked.digest[i]);
	if (clean)
		require(whole.n == frames);
	return 0;
}
