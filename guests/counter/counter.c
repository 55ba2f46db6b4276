/*
 * counter: a long-running, CPU-bound guest. Increments a 64-bit counter kept
 * in memory (a global, volatile so every increment really is a load and a
 * store) and prints it every `every` increments; the value going up steadily
 * across preemptions shows the VM is scheduled and its memory kept.
 *
 * It also keeps a value of its own in CR8 (the TPR), another after each
 * print, and checks at the next print that it is still there: across
 * preemptions and, for a tenant VM, across stop (seal) and start.
 *
 * Output lines:
 *   counter: start (vm <id>, <mem> MiB)
 *   counter: vm name '<name>' cmdline '<cmdline>'
 *   counter: <value>        (decimal, every `every` increments: every, 2*every, ...)
 *   counter: done           (after `limit` value lines; then hc_exit(0))
 *   counter: CR8 CHANGED: set 0x<x>, reads 0x<y>   (then hc_exit(1))
 *
 * cmdline: every=N (default 1000000; 0 means 1), limit=K (default 0: forever).
 */
#include "guests/runtime/guest.h"

static volatile uint64_t counter;

int guest_main(const struct custos_boot_info *bi)
{
	guest_init(bi, "counter");
	uint64_t every = cmdline_u64(bi, "every", 1000000);
	uint64_t limit = cmdline_u64(bi, "limit", 0);
	if (every == 0)
		every = 1;

	uint64_t cr8 = 0; /* every VM starts with CR8 = 0 */

	for (uint64_t prints = 0;;) {
		/* A countdown instead of counter % every: no division per step. */
		for (uint64_t left = every; left; left--)
			counter = counter + 1;
		uint64_t now = read_cr8();
		if (now != cr8) {
			con_printf("counter: CR8 CHANGED: set 0x%lx, reads 0x%lx\n",
				   cr8, now);
			hc_exit(1);
		}
		con_printf("counter: %lu\n", counter);
		cr8 = 1 + (counter / every) % 15;
		write_cr8(cr8);
		if (limit && ++prints == limit) {
			con_printf("counter: done\n");
			hc_exit(0);
		}
	}
}
