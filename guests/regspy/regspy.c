/*
 * regspy: looks for state that is not its own. First the state the TCB
 * started it with (the ABI says: every GPR but RSP and RDI zero, RFLAGS 0x2,
 * all XMM/YMM zero, CR2 and DR0-DR3 zero, DR6 and DR7 at their
 * architectural reset values), then, round after round, its own pattern
 * (family 0x5b5b5b) held in every GPR but RSP, all XMM/YMM registers and a
 * 64 KiB region while it may be preempted, and one of its own CR8 (TPR)
 * values, 1..7, a different one each round (it starts at 0). Any other
 * value is FOREIGN; a value of secretkeeper's family (guests/common/
 * patterns.h; for CR8 its range 8..15) is also reported as seen, wherever
 * it shows up, including anywhere in its own free memory.
 * CR0, CR3 and CR4 hold whatever the TCB set up: they are reported at entry
 * and flagged only if they change afterwards.
 *
 * Output lines:
 *   regspy: start (vm <id>, <mem> MiB)
 *   regspy: vm name '<name>' cmdline '<cmdline>'
 *   regspy: no AVX                        (AVX unusable: no YMM upper halves)
 *   regspy: dump <when> <reg> = 0x<hex>   a register dump, <when> is "entry"
 *       or "round <n>"; <reg> is rax..r15, rsp and rflags (entry only),
 *       xmm<r> (128-bit value), ymm<r>.hi (the upper 128 bits), cr0 cr2 cr3
 *       cr4 cr8 dr0 dr1 dr2 dr3 dr6 dr7. At entry, and after the first <dumps>
 *       rounds that were preempted (57 lines each with AVX, so not after all
 *       of them by default; every round is checked all the same).
 *   regspy: FOREIGN <reg> = 0x<16 hex>    <reg> as in the dump, with vector
 *       registers per 64-bit lane: xmm<r>.q0, xmm<r>.q1, ymm<r>.q2, ymm<r>.q3;
 *       or mem@0x<gpa> (a word of its own pattern region)
 *   regspy: SAW SECRETKEEPER VALUE in <reg>   (<reg> as above, or mem@0x<gpa>
 *       for a word anywhere in its free memory)
 *   regspy: round <n> clean               (every <every>-th round)
 *   regspy: done <K> rounds clean, preempted <count>    (then hc_exit(0))
 * After any FOREIGN or SAW line of a check: hc_exit(1).
 *
 * cmdline: rounds=K (default 0: forever), every=R (default 1),
 *          spin=N (spin iterations per round, default 300000),
 *          dumps=N (default 3, see above), scan=0 (skip the scans of free
 *          memory for secretkeeper values, at start and at the end).
 */
#include <stdio.h>
#include <string.h>
#include "guests/runtime/guest.h"
#include "guests/common/hold.h"
#include "guests/common/patterns.h"

#define REGION_WORDS (64 * 1024 / 8)
#define STACK_RESERVE (64 * 1024)

/* Architectural values (SDM vol. 3, 18.2.3/18.2.4): DR6 reads its reserved
 * bits as 1, DR7 bit 10 as 1. */
#define DR6_INIT 0xffff0ff0ull
#define DR7_INIT 0x400ull

static volatile uint64_t region[REGION_WORDS] __attribute__((aligned(4096)));
static uint32_t vm_id;
static unsigned foreign;

enum { CR0, CR2, CR3, CR4, CR8, DR0, DR1, DR2, DR3, DR6, DR7, NSYS };
static const char *const sys_names[NSYS] = {
	"cr0", "cr2", "cr3", "cr4", "cr8", "dr0", "dr1", "dr2", "dr3", "dr6",
	"dr7",
};

static void read_sys(uint64_t v[NSYS])
{
	__asm__ volatile("mov %%cr0, %0" : "=r"(v[CR0]));
	__asm__ volatile("mov %%cr2, %0" : "=r"(v[CR2]));
	__asm__ volatile("mov %%cr3, %0" : "=r"(v[CR3]));
	__asm__ volatile("mov %%cr4, %0" : "=r"(v[CR4]));
	v[CR8] = read_cr8();
	__asm__ volatile("mov %%dr0, %0" : "=r"(v[DR0]));
	__asm__ volatile("mov %%dr1, %0" : "=r"(v[DR1]));
	__asm__ volatile("mov %%dr2, %0" : "=r"(v[DR2]));
	__asm__ volatile("mov %%dr3, %0" : "=r"(v[DR3]));
	__asm__ volatile("mov %%dr6, %0" : "=r"(v[DR6]));
	__asm__ volatile("mov %%dr7, %0" : "=r"(v[DR7]));
}

/* What each system register must read: CR0/CR3/CR4 as at entry, the rest
 * their initial values (CR8: 0 until the rounds set their own). */
static void expected_sys(const uint64_t at_entry[NSYS], uint64_t want[NSYS])
{
	for (int i = 0; i < NSYS; i++)
		want[i] = 0;
	want[CR0] = at_entry[CR0];
	want[CR3] = at_entry[CR3];
	want[CR4] = at_entry[CR4];
	want[DR6] = DR6_INIT;
	want[DR7] = DR7_INIT;
}

static void saw_check(const char *what, uint64_t got)
{
	if (strcmp(what, "cr8") == 0 ? cr8_is_secretkeepers(got) :
		  pattern_is_family(got, SECRETKEEPER_FAMILY)) {
		con_printf("regspy: SAW SECRETKEEPER VALUE in %s\n", what);
		foreign++;
	}
}

static void judge(const char *what, uint64_t want, uint64_t got)
{
	if (got != want) {
		con_printf("regspy: FOREIGN %s = 0x%016lx\n", what, got);
		foreign++;
	}
	saw_check(what, got);
}

static void judge_vec(const uint64_t want[HOLD_NVEC][4], bool avx)
{
	char what[16];

	for (unsigned r = 0; r < HOLD_NVEC; r++) {
		for (unsigned q = 0; q < (avx ? 4u : 2u); q++) {
			snprintf(what, sizeof(what), "%s%u.q%u",
				 q < 2 ? "xmm" : "ymm", r, q);
			judge(what, want[r][q], hold_out.vec[r][q]);
		}
	}
}

static void judge_sys(const uint64_t want[NSYS], const uint64_t got[NSYS])
{
	for (int i = 0; i < NSYS; i++)
		judge(sys_names[i], want[i], got[i]);
}

static void dump(const char *when, const uint64_t *gpr, const char *const *names,
		 unsigned ngpr, bool avx, const uint64_t sys[NSYS])
{
	for (unsigned i = 0; i < ngpr; i++)
		con_printf("regspy: dump %s %s = 0x%016lx\n", when, names[i], gpr[i]);
	for (unsigned r = 0; r < HOLD_NVEC; r++) {
		const uint64_t *v = hold_out.vec[r];
		con_printf("regspy: dump %s xmm%u = 0x%016lx%016lx\n", when, r,
			   v[1], v[0]);
		if (avx)
			con_printf("regspy: dump %s ymm%u.hi = 0x%016lx%016lx\n",
				   when, r, v[3], v[2]);
	}
	for (int i = 0; i < NSYS; i++)
		con_printf("regspy: dump %s %s = 0x%016lx\n", when, sys_names[i],
			   sys[i]);
}

/* Look for secretkeeper values in every free word of our memory: below the
 * image (boot info, page tables, GDT, free space; page 0 is not mapped) and
 * between the image and the live stack. A TCB that hands out a frame
 * without scrubbing it shows up here. */
static void scan_memory(const struct custos_boot_info *bi)
{
	uint64_t img_start = (uint64_t)(uintptr_t)__image_start;
	uint64_t img_end = (uint64_t)(uintptr_t)__image_end;
	uint64_t sp;

	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	if (bi->image_end > img_end)
		img_end = bi->image_end;
	/* Below the live stack (less a page for this frame), never past
	 * mem_size minus the stack reserve. */
	uint64_t top = (sp & ~0xfffull) - 0x1000;
	if (top > bi->mem_size - STACK_RESERVE)
		top = bi->mem_size - STACK_RESERVE;

	const uint64_t ranges[2][2] = { { 0x1000, img_start }, { img_end, top } };
	uint64_t hits = 0;
	for (int i = 0; i < 2; i++) {
		for (uint64_t a = ranges[i][0]; a + 8 <= ranges[i][1]; a += 8) {
			uint64_t v = *(volatile const uint64_t *)(uintptr_t)a;
			if (pattern_is_family(v, SECRETKEEPER_FAMILY) && hits++ < 16) {
				char what[32];
				snprintf(what, sizeof(what), "mem@0x%lx", a);
				saw_check(what, v);
			}
		}
	}
	if (hits > 16) {
		con_printf("regspy: SAW SECRETKEEPER VALUE in %lu more words\n",
			   hits - 16);
		foreign++;
	}
}

static uint64_t own(uint32_t slot)
{
	return pattern_value(REGSPY_FAMILY, vm_id, slot);
}

static void check_entry(const struct custos_boot_info *bi, bool avx,
			uint64_t sys[NSYS], bool scan)
{
	static const uint64_t zero_vec[HOLD_NVEC][4];
	uint64_t want_sys[NSYS];

	hold_capture_vec(avx); /* nothing has touched a vector register yet */
	read_sys(sys);
	dump("entry", guest_entry_regs, guest_entry_reg_names, ENTRY_NREGS, avx, sys);

	for (int i = 0; i < ENTRY_NREGS; i++) {
		uint64_t want = 0;
		if (i == ENTRY_RSP)
			want = bi->mem_size;
		else if (i == ENTRY_RDI)
			want = GUEST_BOOT_INFO_GPA;
		else if (i == ENTRY_RFLAGS)
			want = 0x2;
		judge(guest_entry_reg_names[i], want, guest_entry_regs[i]);
	}
	judge_vec(zero_vec, avx);
	expected_sys(sys, want_sys);
	judge_sys(want_sys, sys);
	if (scan)
		scan_memory(bi);
	if (foreign)
		hc_exit(1);
}

int guest_main(const struct custos_boot_info *bi)
{
	guest_init(bi, "regspy");
	vm_id = bi->vm_id;
	uint64_t rounds = cmdline_u64(bi, "rounds", 0);
	uint64_t every = cmdline_u64(bi, "every", 1);
	uint64_t spin = cmdline_u64(bi, "spin", 300000);
	uint64_t dumps = cmdline_u64(bi, "dumps", 3);
	bool scan = cmdline_u64(bi, "scan", 1) != 0;
	if (every == 0)
		every = 1;

	bool avx = cpu_avx_usable();
	if (!avx)
		con_printf("regspy: no AVX\n");

	uint64_t entry_sys[NSYS], want_sys[NSYS], sys[NSYS];
	check_entry(bi, avx, entry_sys, scan);
	expected_sys(entry_sys, want_sys);

	for (unsigned i = 0; i < HOLD_NGPR; i++)
		hold_in.gpr[i] = own(SLOT_GPR(i));
	for (unsigned r = 0; r < HOLD_NVEC; r++)
		for (unsigned q = 0; q < 4; q++)
			hold_in.vec[r][q] = own(SLOT_VEC(r, q));
	for (unsigned w = 0; w < REGION_WORDS; w++)
		region[w] = own(SLOT_MEM(w));

	struct preempt_meter meter;
	preempt_calibrate(&meter, spin, bi->tsc_per_tick, avx);
	for (uint64_t n = 1;; n++) {
		want_sys[CR8] = REGSPY_CR8(n);
		write_cr8(want_sys[CR8]);
		bool preempted = preempt_timed_hold(&meter, avx);
		read_sys(sys);

		if (preempted && dumps) {
			dumps--;
			char when[32];
			snprintf(when, sizeof(when), "round %lu", n);
			dump(when, hold_out.gpr, hold_gpr_names, HOLD_NGPR, avx, sys);
		}
		for (unsigned i = 0; i < HOLD_NGPR; i++)
			judge(hold_gpr_names[i], hold_in.gpr[i], hold_out.gpr[i]);
		judge_vec((const uint64_t(*)[4])hold_in.vec, avx);
		judge_sys(want_sys, sys);
		for (unsigned w = 0; w < REGION_WORDS; w++) {
			uint64_t got = region[w];
			if (got != own(SLOT_MEM(w))) {
				char what[32];
				snprintf(what, sizeof(what), "mem@0x%lx",
					 (uint64_t)(uintptr_t)&region[w]);
				judge(what, own(SLOT_MEM(w)), got);
			}
		}
		if (foreign)
			hc_exit(1);

		if (n % every == 0)
			con_printf("regspy: round %lu clean\n", n);
		if (rounds && n == rounds) {
			if (scan)
				scan_memory(bi);
			if (foreign)
				hc_exit(1);
			con_printf("regspy: done %lu rounds clean, preempted %lu\n",
				   n, meter.count);
			hc_exit(0);
		}
	}
}
