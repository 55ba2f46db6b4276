/* The hypervisor's view of physical memory: the frame table and the direct map. */
#ifndef CUSTOS_HV_MEMORY_H
#define CUSTOS_HV_MEMORY_H

#include <custos/types.h>
#include "boot/multiboot2.h"
#include "hv/bootenv.h"
#include "tcb/frame_table.h"

/* The boot-time page tables (boot/entry.S) map the first 4 GiB. */
#define EARLY_MAP_END 0x100000000ull

/* Linker-script symbols (boot/linker.ld). */
extern char __image_start[], __image_end[], __text_end[], __rodata_end[];
extern char boot_stack_guard[];

/* Build the frame table: the RAM bootenv_check() carved is managed from
 * 1 MiB up; the image, the (screened) modules and the table itself belong
 * to the TCB; modules below 1 MiB are moved into TCB frames. A map without
 * room for all that stops the boot cleanly. */
void memory_init(struct mb2_info *info, const struct bootenv *env);

struct frame_table *memory_frames(void);

/* Allocate one zeroed TCB frame (boot only); stops the boot when memory is
 * exhausted. */
uint64_t memory_alloc_tcb_frame(void);

/* Give the frames of a consumed boot module back to the free pool (zeroed);
 * returns how many. */
uint64_t memory_release_module(const struct mb2_module *m);

struct npt; /* tcb/npt.h */

/* Copy len bytes of a VM's memory from gpa, page by page through its nested
 * page tables: only what they map readable, nothing else; false if any page
 * is not. */
bool memory_read_guest(const struct npt *npt, uint64_t gpa, void *buf,
		       size_t len);

/* All RAM is identity-mapped (hv/paging.c), so this is a plain cast. */
static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

#endif
