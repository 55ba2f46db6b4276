/*
 * counter: a long-running, CPU-bound guest. Increments a 64-bit counter kept
 * in memory (a global, volatile so every increment really is a load and a
 * store) and prints it every `every` increments; the value going up steadily
 * across preemptions shows the VM is scheduled and its memory kept.
 *
 * Output lines:
 *   counter: start (vm <id>, <mem> MiB)
 *   counter: vm name '<name>' cmdline '<cmdline>'
 *   counter: <value>        (decimal, every `every` increments: every, 2*every, ...)
 *   counter: done           (after `limit` value lines; then hc_exit(0))
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

	for (uint64_t prints = 0;;) {
		/* A countdown instead of counter % every: no division per step. */
		for (uint64_t left = every; left; left--)
			counter = counter + 1;
		con_printf("counter: %lu\n", counter);
		if (limit && ++prints == limit) {
			con_printf("counter: done\n");
			hc_exit(0);
		}
	}
}
