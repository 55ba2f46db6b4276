/* The hypervisor's own page tables (not guests': those are EPT). */
#ifndef CUSTOS_HV_PAGING_H
#define CUSTOS_HV_PAGING_H

#include "boot/multiboot2.h"

/*
 * Replace the boot-time 4 GiB identity map with the final one: all RAM the
 * memory map reports (write-back, no-execute), the image with per-section
 * rights (text read-execute, rodata read-only, data read-write), the MMIO
 * ranges the hypervisor drives (uncached), frame 0 and the stack guard page
 * left unmapped. Needs memory_init() first: tables come from TCB frames.
 */
void paging_init(const struct mb2_info *info);

#endif
