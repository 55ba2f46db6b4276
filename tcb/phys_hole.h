/*
 * Finding room in physical memory at boot, before the frame table exists
 * (the table's own storage has to be placed somewhere first).
 */
#ifndef CUSTOS_TCB_PHYS_HOLE_H
#define CUSTOS_TCB_PHYS_HOLE_H

#include <custos/types.h>

/*
 * Find the lowest address A >= min_addr, aligned to 'align' (a power of two),
 * such that [A, A+size) lies wholly inside one of the 'usable' ranges and
 * overlaps none of the 'excluded' ranges. Ranges may be unsorted and may
 * overlap each other; lengths of zero are ignored; no arithmetic may wrap.
 * Returns 0 and stores A in *out, or -1 if there is no such place.
 */
int phys_find_hole(const struct phys_range *usable, size_t n_usable,
		   const struct phys_range *excluded, size_t n_excluded,
		   uint64_t size, uint64_t align, uint64_t min_addr,
		   uint64_t *out);

#endif
