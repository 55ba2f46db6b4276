/*
 * A VM's console: the bytes it wrote to its virtual COM1, kept in TCB memory
 * for its owner to read (invariant 4: never on the platform's serial line).
 * A fixed ring: when it is full the oldest bytes are overwritten and counted
 * as lost, so a chatty guest can never make the TCB allocate or block.
 */
#ifndef CUSTOS_TCB_CONSOLE_RING_H
#define CUSTOS_TCB_CONSOLE_RING_H

#include <custos/types.h>

#define CONSOLE_RING_SIZE 4096u /* a power of two */

struct console_ring {
	uint64_t written; /* bytes ever put */
	uint64_t read;    /* bytes ever consumed (or lost) */
	uint64_t lost;    /* bytes overwritten before anyone read them */
	char buf[CONSOLE_RING_SIZE];
};

void console_ring_init(struct console_ring *r);
void console_ring_put(struct console_ring *r, char c);
/* Copy up to n unread bytes into out, oldest first; returns the count. */
size_t console_ring_read(struct console_ring *r, char *out, size_t n);
size_t console_ring_unread(const struct console_ring *r);
/* Forget everything, zeroing the contents (VM teardown). */
void console_ring_scrub(struct console_ring *r);

#endif
