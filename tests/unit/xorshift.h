/* A small deterministic PRNG for randomized tests: xorshift64*, so a
 * failing seed printed by a test replays exactly. */
#ifndef CUSTOS_TESTS_XORSHIFT_H
#define CUSTOS_TESTS_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64s(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

#endif
