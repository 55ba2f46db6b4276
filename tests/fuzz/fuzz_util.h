/* Helpers every fuzz target uses. */
#ifndef CUSTOS_FUZZ_UTIL_H
#define CUSTOS_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* A property the code under test must hold: a violation is a crash the
 * fuzzer reports with its input. */
static inline void require(int cond)
{
	if (!cond)
		abort();
}

/* Little-endian value of the n (<= 8) bytes at p. */
static inline uint64_t le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* An input read front to back; past its end every byte reads 0. */
struct input {
	const uint8_t *p;
	size_t left;
};

/* The next n (<= 8) bytes as a big-endian value. */
static inline uint64_t take(struct input *in, size_t n)
{
	uint64_t v = 0;

	while (n--) {
		v <<= 8;
		if (in->left) {
			v |= *in->p++;
			in->left--;
		}
	}
	return v;
}

#endif
