/*
 * Nested page tables for one VM, built only from the frame ownership table:
 * a guest page can be mapped only to a host frame that the table says this
 * VM owns (invariant 1 of ARCHITECTURE.md). The tables' own frames belong to
 * the TCB. 4-level, 4 KiB leaves, write-back, in one of two formats chosen
 * at npt_init:
 *  - NPT_EPT: Intel's extended page tables (SDM Vol. 3C 29.3), for VMX;
 *  - NPT_AMD64: AMD's nested page tables, which are ordinary long-mode page
 *    tables (APM Vol. 2 15.25 "Nested Paging", 5.3 "Long-Mode Page
 *    Translation"), for SVM.
 * One builder serves both: the formats differ only in how an entry is
 * encoded (tcb/npt.c), so every invariant below holds for both. The tables
 * are plain data, so this file builds and is tested on the host like the
 * rest of tcb/. docs/npt.md describes both formats.
 */
#ifndef CUSTOS_TCB_NPT_H
#define CUSTOS_TCB_NPT_H

#include <custos/types.h>
#include "tcb/frame_table.h"

#define NPT_READ  0x1u
#define NPT_WRITE 0x2u
#define NPT_EXEC  0x4u
#define NPT_RWX   (NPT_READ | NPT_WRITE | NPT_EXEC)

/* Guest-physical addresses 4-level tables cover: [0, 2^48). */
#define NPT_GPA_LIMIT (1ull << 48)

enum npt_format {
	/* EPT: present = any of R/W/X; the root pointer is the VMCS EPT
	 * pointer. A/D flags are off, so the CPU never writes the tables. */
	NPT_EPT = 0,
	/* Long mode: P, R/W, U/S (every level: nested walks are user
	 * accesses, APM 15.25), NX (needs host EFER.NXE, which boot/entry.S
	 * sets); the root pointer is the VMCB's nCR3. The CPU sets the
	 * accessed flag in entries it uses and the dirty flag in leaves it
	 * writes through (APM 5.4.2); nothing else. Write-back comes from
	 * PAT/PCD/PWT = 0, i.e. entry 0 of the host's PAT (APM 15.25). */
	NPT_AMD64 = 1,
};

enum npt_err {
	NPT_OK = 0,
	NPT_E_INVAL = -1,     /* unaligned or out-of-range gpa, bad perms or format */
	NPT_E_NOT_OWNER = -2, /* host frame not owned by this VM */
	NPT_E_MAPPED = -3,    /* gpa already mapped */
	NPT_E_NOMEM = -4,     /* no free frame for a table (or for populate) */
};

struct npt {
	uint64_t root_pa;       /* PML4, a TCB frame; 0 when not initialised */
	frame_owner_t owner;    /* the only owner whose frames may be mapped */
	enum npt_format format; /* how entries are encoded */
	uint64_t table_frames;  /* TCB frames used by the tables, root included */
	uint64_t mapped_pages;  /* leaf entries present */
};

/* Allocate the root table. owner must be a VM owner (frame_owner_is_vm),
 * format one of enum npt_format (else NPT_E_INVAL). On failure root_pa is 0
 * and the counts are 0 (destroy is then a no-op). No table ever lives in
 * host frame 0, so root_pa == 0 is unambiguous. */
int npt_init(struct npt *npt, struct frame_table *ft, frame_owner_t owner,
	     enum npt_format format);

/*
 * Map the 4 KiB guest page at gpa to host frame pfn with perms (a subset of
 * NPT_RWX that includes NPT_READ, in both formats: write without read is an
 * EPT misconfiguration (SDM 29.3.3.1), execute-only needs a VMX capability
 * Custos does not use, and a present long-mode entry is always readable).
 * Refused, changing nothing, unless frame_owner(ft, pfn) == npt->owner and
 * gpa is page-aligned, below NPT_GPA_LIMIT and not mapped yet. Intermediate
 * tables are allocated as needed (TCB frames); if that fails, tables already
 * allocated for this call may remain (they are empty and freed by destroy).
 *
 * Implementation notes (tcb/npt.c): the current implementation frees them
 * again, so a refused call changes nothing and no non-root table is ever
 * empty (npt_check relies on that). Errors are tested in the order INVAL
 * (also for tables without a root), NOT_OWNER, MAPPED, NOMEM. npt_map does
 * not look for the same frame mapped at another gpa (that would cost a walk
 * of all the tables per page); npt_check reports it.
 */
int npt_map(struct npt *npt, struct frame_table *ft, uint64_t gpa,
	    uint64_t pfn, unsigned perms);

/*
 * Give [gpa, gpa + size) fresh frames: allocate each from the free pool for
 * npt->owner (zeroed by the frame table) and map it with perms. All or
 * nothing: on failure every frame and mapping this call made is released
 * again and the error is returned.
 *
 * size must be a non-zero multiple of 4 KiB and gpa + size <= NPT_GPA_LIMIT
 * (else NPT_E_INVAL); NPT_E_MAPPED if any page of the range is mapped. Both,
 * and "fewer free frames than pages", are found before anything is touched;
 * a later NPT_E_NOMEM (tables) also frees the tables the call allocated, so
 * the free count is exactly what it was. Cost: a walk per page of the
 * range, before and while mapping; the caller bounds size.
 */
int npt_populate(struct npt *npt, struct frame_table *ft, uint64_t gpa,
		 uint64_t size, unsigned perms);

/*
 * Unmap [gpa, gpa + size) and release its frames (owner -> free, zeroed by
 * the frame table); pages that are not mapped are skipped, tables that
 * become empty are freed (the root stays). For taking a VM's memory back
 * in bounded pieces; the caller invalidates cached translations (INVEPT;
 * on SVM a TLB flush of the VM's ASID) before frames can be reused.
 * NPT_E_INVAL for an unaligned or out-of-range range or tables without a
 * root; else NPT_OK.
 */
int npt_unpopulate(struct npt *npt, struct frame_table *ft, uint64_t gpa,
		   uint64_t size);

/* Host-physical address and perms of guest page gpa; false if unmapped.
 * *hpa includes gpa's offset within its page. Either pointer may be NULL;
 * they are written only when true is returned. The accessed and dirty
 * flags the CPU sets (NPT_AMD64) do not change the answer. */
bool npt_translate(const struct npt *npt, uint64_t gpa, uint64_t *hpa,
		   unsigned *perms);

/*
 * Tear down: release every mapped frame (owner -> free, zeroed by the frame
 * table) and every table frame (TCB -> free). Afterwards npt is empty
 * (root_pa 0). Safe on tables that were never initialised (zero-filled) and
 * on ones whose npt_init failed. The caller makes sure no logical processor
 * uses the tables any more and invalidates them (INVEPT; the ASID's TLB
 * entries on SVM) first.
 */
void npt_destroy(struct npt *npt, struct frame_table *ft);

/*
 * Check the invariants: every table frame is owned by the TCB, every leaf
 * maps a frame owned by npt->owner, no frame is mapped twice, no reserved
 * or unexpected bits are set, counts match. For tests and debug
 * self-checks.
 *
 * Precisely: the format is one of enum npt_format; every entry is 0 or
 * exactly what npt_map writes, give or take the accessed/dirty flags the
 * CPU may set in NPT_AMD64 entries (non-leaf: the format's table bits +
 * address of a TCB frame other than the root, never an empty table; leaf:
 * the format's encoding of valid perms + WB + address of an npt->owner
 * frame); table_frames and mapped_pages equal what the walk finds;
 * mapped_pages equals frame_count_owned(ft, npt->owner), so a VM frame that
 * is not mapped fails the check too; no frame (table or leaf) is referenced
 * twice. Non-leaf entries are followed only after they were validated.
 * Cost: a few walks of the tables per 4096-frame window of host frame
 * numbers they reference, plus one scan of the frame table; no memory
 * beyond ~600 bytes of stack.
 */
bool npt_check(const struct npt *npt, const struct frame_table *ft);

/*
 * The root pointer the CPU takes; 0 for tables without a root.
 *  - NPT_EPT: the VMCS EPT pointer (SDM 25.6.11): WB, 4-level walk, A/D
 *    off, the PML4's address; 0 is an invalid EPTP.
 *  - NPT_AMD64: the VMCB's nCR3 (APM 15.25), laid out like CR3 (APM
 *    5.3.2): the PML4's address, PWT = PCD = 0 (the PML4 is write-back).
 */
uint64_t npt_root_pointer(const struct npt *npt);

#endif
