/*
 * Boot-time hole finder. See phys_hole.h for the interface.
 *
 * Part of the TCB, built both freestanding and for the host: no libc.
 *
 * The address space is treated as [0, UINT64_MAX): a range whose end does
 * not fit in 64 bits is clamped to end at UINT64_MAX, and a hole must satisfy
 * A + size <= UINT64_MAX, so no sum is ever allowed to wrap. (This gives up
 * only the very last byte of the address space.) A size of 0 or an align
 * that is 0 or not a power of two finds nothing (-1).
 *
 * Why the candidate set below is enough: let A be the lowest valid address.
 * If A - align is below min_addr (or negative), A is min_addr aligned up.
 * Otherwise A - align is invalid, so either the usable range holding
 * [A, A + size) starts above A - align, making A that range's base aligned
 * up, or [A - align, A - align + size) overlaps an excluded range that
 * [A, A + size) does not, which then ends in (A - align, A], making A that
 * range's end aligned up. Checking each candidate costs O(n_usable +
 * n_excluded), so the whole search is quadratic, which is fine at boot.
 */
#include <custos/types.h>

#include "tcb/phys_hole.h"

/* End of a range, clamped to UINT64_MAX instead of wrapping. */
static uint64_t range_end(const struct phys_range *r)
{
	if (r->len > UINT64_MAX - r->base)
		return UINT64_MAX;
	return r->base + r->len;
}

/* Is [a, a + size) inside one usable range? Caller ensured a + size fits. */
static bool inside_usable(const struct phys_range *usable, size_t n_usable,
			  uint64_t a, uint64_t size)
{
	size_t i;

	for (i = 0; i < n_usable; i++) {
		if (usable[i].len == 0 || usable[i].base > a)
			continue;
		if (a + size <= range_end(&usable[i]))
			return true;
	}
	return false;
}

static bool overlaps_excluded(const struct phys_range *excluded,
			      size_t n_excluded, uint64_t a, uint64_t size)
{
	size_t i;

	for (i = 0; i < n_excluded; i++) {
		if (excluded[i].len == 0)
			continue;
		if (excluded[i].base < a + size && a < range_end(&excluded[i]))
			return true;
	}
	return false;
}

struct hole_query {
	const struct phys_range *usable;
	size_t n_usable;
	const struct phys_range *excluded;
	size_t n_excluded;
	uint64_t size;
	uint64_t align;
	uint64_t min_addr;
	bool found;
	uint64_t best;
};

/* Aligns 'start' up, and keeps it as the answer if it is valid and lower. */
static void try_candidate(struct hole_query *q, uint64_t start)
{
	uint64_t a;

	if (!align_up_checked(start, q->align, &a))
		return;
	if (a < q->min_addr || q->size > UINT64_MAX - a)
		return;
	if (q->found && a >= q->best)
		return;
	if (!inside_usable(q->usable, q->n_usable, a, q->size))
		return;
	if (overlaps_excluded(q->excluded, q->n_excluded, a, q->size))
		return;
	q->found = true;
	q->best = a;
}

int phys_find_hole(const struct phys_range *usable, size_t n_usable,
		   const struct phys_range *excluded, size_t n_excluded,
		   uint64_t size, uint64_t align, uint64_t min_addr,
		   uint64_t *out)
{
	struct hole_query q = {
		.usable = usable, .n_usable = n_usable,
		.excluded = excluded, .n_excluded = n_excluded,
		.size = size, .align = align, .min_addr = min_addr,
		.found = false, .best = 0,
	};
	size_t i;

	if (size == 0 || align == 0 || (align & (align - 1)) != 0)
		return -1;
	try_candidate(&q, min_addr);
	for (i = 0; i < n_usable; i++)
		if (usable[i].len != 0)
			try_candidate(&q, usable[i].base);
	for (i = 0; i < n_excluded; i++)
		if (excluded[i].len != 0 &&
		    excluded[i].len <= UINT64_MAX - excluded[i].base)
			try_candidate(&q, excluded[i].base + excluded[i].len);
	if (!q.found)
		return -1;
	*out = q.best;
	return 0;
}
