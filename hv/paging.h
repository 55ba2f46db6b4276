/* The hypervisor's own page tables (not guests': those are EPT). */
#ifndef CUSTOS_HV_PAGING_H
#define CUSTOS_HV_PAGING_H

#include "hv/bootenv.h"

/*
 * Replace the boot-time 4 GiB identity map with the final one: the managed
 * RAM of bootenv_check() (write-back, no-execute), the image with per-section
 * rights (text read-execute, rodata read-only, data read-write), the MMIO
 * ranges the hypervisor drives (uncached), frame 0 and the stack guard page
 * left unmapped. Needs memory_init() first: tables come from TCB frames.
 */
void paging_init(const struct bootenv *env);

/* Make the boot-time 2 MiB page holding 'pa' (below 4 GiB) uncached, for
 * MMIO the hypervisor drives before paging_init() (the local APIC). */
void paging_early_uncached(uint64_t pa);

#endif
