/*
 * TSC arithmetic for the virtual timers: a * b / c without overflow for
 * any 64-bit operands (a TSC value times a clock rate needs up to 98 bits).
 * The product is 128 bits; the division is done by hand, bit by bit,
 * because the hypervisor does not link libgcc's 128-bit division.
 */
#ifndef CUSTOS_VDEV_VTIME_H
#define CUSTOS_VDEV_VTIME_H

#include <stdbool.h>
#include <stdint.h>

/* The slowest and fastest TSC the platform accepts (tcb/timebase.h's
 * range): the rates of init and load are clamped or refused outside it. */
#define VTIME_MIN_HZ 100000ull
#define VTIME_MAX_HZ 100000000000ull

/* a * b / c rounded down (or up), UINT64_MAX when it does not fit or c
 * is 0. */
static inline uint64_t vtime_muldiv(uint64_t a, uint64_t b, uint64_t c,
				    bool round_up)
{
	unsigned __int128 p = (unsigned __int128)a * b;
	uint64_t lo = (uint64_t)p, r = (uint64_t)(p >> 64), q = 0;

	if (r >= c)
		return UINT64_MAX;
	if (!r) {
		/* The product fits in 64 bits: the common case. */
		q = lo / c;
		r = lo % c;
		return round_up && r ? q + 1 : q;
	}
	for (int i = 63; i >= 0; i--) {
		/* r < c before the shift, so r * 2 + 1 < 2 * c: one
		 * subtraction brings it back below c, and the bit shifted
		 * out of r (top) only means r was >= c. */
		uint64_t top = r >> 63;

		r = r << 1 | (lo >> i & 1);
		q <<= 1;
		if (top || r >= c) {
			r -= c;
			q |= 1;
		}
	}
	if (round_up && r)
		return q == UINT64_MAX ? q : q + 1;
	return q;
}

/* base + add, UINT64_MAX when it wraps. */
static inline uint64_t vtime_add_sat(uint64_t base, uint64_t add)
{
	uint64_t sum;

	return __builtin_add_overflow(base, add, &sum) ? UINT64_MAX : sum;
}

#endif
