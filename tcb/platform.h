/*
 * What tcb/ needs from whoever hosts it: the hypervisor implements this on
 * its direct map (hv/memory.c); host unit tests implement it on fake RAM.
 */
#ifndef CUSTOS_TCB_PLATFORM_H
#define CUSTOS_TCB_PLATFORM_H

#include <custos/types.h>

/* A pointer through which the TCB can read and write host-physical page
 * 'pa' (4 KiB, page-aligned). Only called for frames the table manages. */
void *tcb_phys_to_virt(uint64_t pa);

#endif
