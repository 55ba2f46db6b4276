/*
 * Guest-virtual (linear) to guest-physical translation through the guest's
 * own page tables, for a backend that must read the instruction a VM exit
 * came from (SVM without NRIPS or decode assists; docs/svm.md).
 *
 * The guest controls every byte read here: its CR3, every table entry,
 * where the tables are. So every table and data read goes through the
 * caller's callback, which says no for anything outside the VM's own
 * memory; reserved bits, non-canonical addresses and pages that do not
 * allow the access are errors, never guesses. A walk is at most four
 * reads. Paging modes: none (CR0.PG = 0: linear = physical, 32-bit) and
 * 4-level long mode (AMD APM Vol. 2 5.3; SDM Vol. 3A 4.5); legacy 32-bit
 * and PAE paging and 5-level paging (CR4.LA57, which the TCB keeps 0) are
 * refused as unsupported.
 *
 * Portable, no libc: host-tested (tests/unit/test_guest_va.c) and fuzzed
 * (tests/fuzz/fuzz_guest_insn.c).
 */
#ifndef CUSTOS_TCB_GUEST_VA_H
#define CUSTOS_TCB_GUEST_VA_H

#include <custos/types.h>

/* Copy len bytes of guest-physical memory at gpa into buf; false (nothing
 * promised about buf) if any of them is not the VM's memory. The same shape
 * as struct hc_env's read_guest (tcb/hypercall.h). */
typedef bool (*guest_read_fn)(void *ctx, uint64_t gpa, void *buf, size_t len);

/* The guest's paging state, as the exit left it in its VMCB/VMCS. */
struct guest_paging {
	uint64_t cr0, cr3, cr4, efer;
	/* The guest's physical-address width (CPUID 0x80000008 EAX[7:0] as
	 * the guest sees it); outside 32..52 it counts as 52. */
	unsigned maxphyaddr;
	guest_read_fn read;
	void *ctx;
};

/* The access being made, a bit set (0: a supervisor data read). */
#define GVA_WRITE 1u
#define GVA_FETCH 2u
#define GVA_USER  4u /* at CPL 3 */

enum gva_status {
	GVA_OK = 0,
	GVA_NONCANONICAL,     /* not a valid linear address for the mode */
	GVA_NOT_PRESENT,      /* an entry on the walk has P = 0 */
	GVA_RESERVED_BIT,     /* an entry on the walk has a reserved bit set */
	GVA_DENIED,           /* mapped, but not for this access */
	GVA_UNREADABLE,       /* a table or the data is not the VM's memory */
	GVA_UNSUPPORTED_MODE, /* legacy 32-bit, PAE or 5-level paging */
};

/* The guest-physical address of gva for the access. *gpa is written only
 * with GVA_OK. */
enum gva_status gva_translate(const struct guest_paging *p, uint64_t gva,
			      unsigned access, uint64_t *gpa);

/* len bytes at gva into buf, translated page by page (a read may cross
 * pages, each translated and checked for the access on its own). On an
 * error, buf holds an unspecified prefix of the bytes. */
enum gva_status gva_read(const struct guest_paging *p, uint64_t gva,
			 unsigned access, void *buf, size_t len);

/* "not present", ...: for log lines. */
const char *gva_status_name(enum gva_status s);

#endif
