/*
 * Extended page tables for one VM, built only from the frame ownership table:
 * a guest page can be mapped only to a host frame that the table says this
 * VM owns (invariant 1 of ARCHITECTURE.md). The tables' own frames belong to
 * the TCB. The format is Intel's EPT (SDM Vol. 3C 29.3), 4-level, 4 KiB
 * leaves, write-back; it is plain data, so this file builds and is tested on
 * the host like the rest of tcb/.
 */
#ifndef CUSTOS_TCB_EPT_H
#define CUSTOS_TCB_EPT_H

#include <custos/types.h>
#include "tcb/frame_table.h"

#define EPT_READ  0x1u
#define EPT_WRITE 0x2u
#define EPT_EXEC  0x4u
#define EPT_RWX   (EPT_READ | EPT_WRITE | EPT_EXEC)

/* Guest-physical addresses a 4-level EPT covers: [0, 2^48). */
#define EPT_GPA_LIMIT (1ull << 48)

enum ept_err {
	EPT_OK = 0,
	EPT_E_INVAL = -1,     /* unaligned or out-of-range gpa, bad perms */
	EPT_E_NOT_OWNER = -2, /* host frame not owned by this VM */
	EPT_E_MAPPED = -3,    /* gpa already mapped */
	EPT_E_NOMEM = -4,     /* no free frame for a table (or for populate) */
};

struct ept {
	uint64_t root_pa;       /* PML4, a TCB frame; 0 when not initialised */
	frame_owner_t owner;    /* the only owner whose frames may be mapped */
	uint64_t table_frames;  /* TCB frames used by the tables, root included */
	uint64_t mapped_pages;  /* leaf entries present */
};

/* Allocate the root table. owner must be a VM owner (frame_owner_is_vm).
 * On failure root_pa is 0 and the counts are 0 (destroy is then a no-op).
 * No table ever lives in host frame 0, so root_pa == 0 is unambiguous. */
int ept_init(struct ept *e, struct frame_table *ft, frame_owner_t owner);

/*
 * Map the 4 KiB guest page at gpa to host frame pfn with perms (a subset of
 * EPT_RWX that includes EPT_READ: write without read is invalid per SDM
 * 29.3.3.1, and execute-only needs a CPU capability Custos does not use).
 * Refused, changing nothing, unless frame_owner(ft, pfn) == e->owner and gpa
 * is page-aligned, below EPT_GPA_LIMIT and not mapped yet. Intermediate
 * tables are allocated as needed (TCB frames); if that fails, tables already
 * allocated for this call may remain (they are empty and freed by destroy).
 *
 * Implementation notes (tcb/ept.c): the current implementation frees them
 * again, so a refused call changes nothing and no non-root table is ever
 * empty (ept_check relies on that). Errors are tested in the order INVAL
 * (also for an EPT without a root), NOT_OWNER, MAPPED, NOMEM. ept_map does
 * not look for the same frame mapped at another gpa (that would cost a walk
 * of the whole EPT per page); ept_check reports it.
 */
int ept_map(struct ept *e, struct frame_table *ft, uint64_t gpa, uint64_t pfn,
	    unsigned perms);

/*
 * Give [gpa, gpa + size) fresh frames: allocate each from the free pool for
 * e->owner (zeroed by the frame table) and map it with perms. All or nothing:
 * on failure every frame and mapping this call made is released again and
 * the error is returned.
 *
 * size must be a non-zero multiple of 4 KiB and gpa + size <= EPT_GPA_LIMIT
 * (else EPT_E_INVAL); EPT_E_MAPPED if any page of the range is mapped. Both,
 * and "fewer free frames than pages", are found before anything is touched;
 * a later EPT_E_NOMEM (tables) also frees the tables the call allocated, so
 * the free count is exactly what it was.
 */
int ept_populate(struct ept *e, struct frame_table *ft, uint64_t gpa,
		 uint64_t size, unsigned perms);

/*
 * Unmap [gpa, gpa + size) and release its frames (owner -> free, zeroed by
 * the frame table); pages that are not mapped are skipped, tables that
 * become empty are freed (the root stays). For taking a VM's memory back
 * in bounded pieces; the caller invalidates cached translations (INVEPT)
 * before frames can be reused. EPT_E_INVAL for an unaligned or
 * out-of-range range or an EPT without a root; else EPT_OK.
 */
int ept_unpopulate(struct ept *e, struct frame_table *ft, uint64_t gpa,
		   uint64_t size);

/* Host-physical address and perms of guest page gpa; false if unmapped.
 * *hpa includes gpa's offset within its page. Either pointer may be NULL;
 * they are written only when true is returned. */
bool ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa,
		   unsigned *perms);

/*
 * Tear down: release every mapped frame (owner -> free, zeroed by the frame
 * table) and every table frame (TCB -> free). Afterwards e is empty
 * (root_pa 0). Safe on an EPT that was never initialised (zero-filled) and
 * on one whose ept_init failed. The caller makes sure no logical processor
 * uses the EPT any more and invalidates it (INVEPT) first.
 */
void ept_destroy(struct ept *e, struct frame_table *ft);

/*
 * Check the invariants: every table frame is owned by the TCB, every leaf
 * maps a frame owned by e->owner, no frame is mapped twice, no reserved or
 * unexpected bits are set, counts match. For tests and debug self-checks.
 *
 * Precisely: every entry is 0 or exactly what ept_map writes (non-leaf:
 * R|W|X + address of a TCB frame other than the root, never an empty table;
 * leaf: valid perms + WB + address of an e->owner frame); table_frames and
 * mapped_pages equal what the walk finds; mapped_pages equals
 * frame_count_owned(ft, e->owner), so a VM frame that is not mapped fails
 * the check too; no frame (table or leaf) is referenced twice. Non-leaf
 * entries are followed only after they were validated. Cost: a few walks of
 * the EPT per 4096-frame window of host frame numbers it references, plus
 * one scan of the frame table; no memory beyond ~600 bytes of stack.
 */
bool ept_check(const struct ept *e, const struct frame_table *ft);

/* The VMCS EPT pointer: WB, 4-level walk, root (SDM 25.6.11); A/D off.
 * 0 (an invalid EPTP) for an EPT without a root. */
uint64_t ept_pointer(const struct ept *e);

#endif
