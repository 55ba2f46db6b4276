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

/* Allocate the root table. owner must be a VM owner (frame_owner_is_vm). */
int ept_init(struct ept *e, struct frame_table *ft, frame_owner_t owner);

/*
 * Map the 4 KiB guest page at gpa to host frame pfn with perms (a non-zero
 * subset of EPT_RWX; write without read is invalid per SDM 29.3.3.1).
 * Refused, changing nothing, unless frame_owner(ft, pfn) == e->owner and gpa
 * is page-aligned, below EPT_GPA_LIMIT and not mapped yet. Intermediate
 * tables are allocated as needed (TCB frames); if that fails, tables already
 * allocated for this call may remain (they are empty and freed by destroy).
 */
int ept_map(struct ept *e, struct frame_table *ft, uint64_t gpa, uint64_t pfn,
	    unsigned perms);

/*
 * Give [gpa, gpa + size) fresh frames: allocate each from the free pool for
 * e->owner (zeroed by the frame table) and map it with perms. All or nothing:
 * on failure every frame and mapping this call made is released again and
 * the error is returned.
 */
int ept_populate(struct ept *e, struct frame_table *ft, uint64_t gpa,
		 uint64_t size, unsigned perms);

/* Host-physical address and perms of guest page gpa; false if unmapped. */
bool ept_translate(const struct ept *e, uint64_t gpa, uint64_t *hpa,
		   unsigned *perms);

/*
 * Tear down: release every mapped frame (owner -> free, zeroed by the frame
 * table) and every table frame (TCB -> free). Afterwards e is empty
 * (root_pa 0). Safe on an EPT that was never initialised.
 */
void ept_destroy(struct ept *e, struct frame_table *ft);

/*
 * Check the invariants: every table frame is owned by the TCB, every leaf
 * maps a frame owned by e->owner, no frame is mapped twice, no reserved or
 * unexpected bits are set, counts match. For tests and debug self-checks.
 */
bool ept_check(const struct ept *e, const struct frame_table *ft);

/* The VMCS EPT pointer: WB, 4-level walk, root (SDM 25.6.11). */
uint64_t ept_pointer(const struct ept *e);

#endif
