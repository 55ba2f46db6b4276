/* The hypervisor's view of physical memory: the frame table and the direct map. */
#ifndef CUSTOS_HV_MEMORY_H
#define CUSTOS_HV_MEMORY_H

#include <custos/types.h>
#include "boot/multiboot2.h"
#include "tcb/frame_table.h"

/* Linker-script symbols (boot/linker.ld). */
extern char __image_start[], __image_end[], __text_end[], __rodata_end[];
extern char boot_stack_guard[];

/* Build the frame table from the memory map: usable RAM above 1 MiB is
 * managed; the image, the modules and the table itself belong to the TCB. */
void memory_init(const struct mb2_info *info);

struct frame_table *memory_frames(void);

/* Allocate one zeroed TCB frame; panics when memory is exhausted (boot only). */
uint64_t memory_alloc_tcb_frame(void);

/* Give the frames of a consumed boot module back to the free pool (zeroed);
 * returns how many. */
uint64_t memory_release_module(const struct mb2_module *m);

/* All RAM is identity-mapped (hv/paging.c), so this is a plain cast. */
static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

#endif
