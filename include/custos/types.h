/* Basic types shared by the hypervisor, the TCB policy code and host tests. */
#ifndef CUSTOS_TYPES_H
#define CUSTOS_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE  ((uint64_t)1 << PAGE_SHIFT)
#define PAGE_MASK  (PAGE_SIZE - 1)

/* A half-open range [base, base + len) of host-physical memory. */
struct phys_range {
	uint64_t base;
	uint64_t len;
};

/* x rounded up to a multiple of align (a power of two); false if that wraps. */
static inline bool align_up_checked(uint64_t x, uint64_t align, uint64_t *out)
{
	uint64_t rem = x & (align - 1);

	if (rem == 0) {
		*out = x;
		return true;
	}
	if (x - rem > UINT64_MAX - align)
		return false;
	*out = x - rem + align;
	return true;
}

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
