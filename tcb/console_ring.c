#include "tcb/console_ring.h"

#define RING_MASK (CONSOLE_RING_SIZE - 1)

void console_ring_init(struct console_ring *r)
{
	console_ring_scrub(r);
}

void console_ring_put(struct console_ring *r, char c)
{
	if (r->written - r->read == CONSOLE_RING_SIZE) {
		r->read++; /* drop the oldest byte to make room */
		r->lost++;
	}
	r->buf[r->written & RING_MASK] = c;
	r->written++;
}

size_t console_ring_unread(const struct console_ring *r)
{
	return (size_t)(r->written - r->read);
}

size_t console_ring_read(struct console_ring *r, char *out, size_t n)
{
	size_t count = 0;

	while (count < n && r->read < r->written) {
		out[count++] = r->buf[r->read & RING_MASK];
		r->read++;
	}
	return count;
}

void console_ring_scrub(struct console_ring *r)
{
	volatile char *p = r->buf;

	for (size_t i = 0; i < CONSOLE_RING_SIZE; i++)
		p[i] = 0;
	r->written = 0;
	r->read = 0;
	r->lost = 0;
}
