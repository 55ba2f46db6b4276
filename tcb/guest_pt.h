/*
 * The page tables a guest starts with, built by the TCB inside the guest's
 * own memory (include/custos/guest_abi.h gives the layout): an identity map
 * of [0, mem_size) with 2 MiB pages, except the first 2 MiB, which use 4 KiB
 * pages so that page 0 can stay unmapped. Writable and executable (the
 * guest owns all of it and may tighten it), write-back.
 */
#ifndef CUSTOS_TCB_GUEST_PT_H
#define CUSTOS_TCB_GUEST_PT_H

#include <custos/types.h>

/* Returns a host pointer to the guest page at gpa (4 KiB, page-aligned),
 * or NULL if the guest has no such page. */
typedef void *(*guest_page_fn)(uint64_t gpa, void *ctx);

/*
 * Write the tables at GUEST_PAGE_TABLES_GPA (PML4, PDPT, PD, PT0: four
 * pages) and a GDT at GUEST_GDT_GPA. mem_size must be a multiple of
 * GUEST_MEM_ALIGN within [GUEST_MEM_MIN, GUEST_MEM_MAX]. Returns 0, or -1 if
 * mem_size is invalid or a page is missing (nothing useful is written then).
 * Returns the value for guest CR3 in *cr3.
 *
 * Implementation notes (tcb/guest_pt.c): page is asked for exactly the four
 * table pages and the GDT page, all before anything is written, so on -1
 * nothing at all was written and *cr3 is untouched. Each of the five pages
 * is zeroed first. A NULL page or cr3 is -1.
 */
int guest_pt_build(uint64_t mem_size, guest_page_fn page, void *ctx,
		   uint64_t *cr3);

#endif
