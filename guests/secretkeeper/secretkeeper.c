/*
 * secretkeeper: holds known "secret" values (guests/common/patterns.h,
 * family 0x5ec7e7, mixed with its VM id) in every GPR but RSP, in all 16 XMM
 * registers and the upper halves of all 16 YMM registers, in a 64 KiB
 * memory region and in CR8 (the TPR: one of 8..15, another each round), and
 * checks after every stretch in which it may have been preempted that all
 * of them still hold exactly those values. A TCB that
 * loses, mixes up or leaks (another VM's values into ours) register or
 * memory state makes it fail; regspy is its counterpart that looks for these
 * values from another VM.
 *
 * Output lines:
 *   secretkeeper: start (vm <id>, <mem> MiB)
 *   secretkeeper: vm name '<name>' cmdline '<cmdline>'
 *   secretkeeper: no AVX                  (AVX unusable: XMM only from here)
 *   secretkeeper: round <n> ok            (every <every>-th round)
 *   secretkeeper: CORRUPTED <what> expected 0x<16 hex> got 0x<16 hex>
 *       <what> is rax..r15 (no rsp), xmm<r>.q0 / xmm<r>.q1 (the two 64-bit
 *       halves of XMM r), ymm<r>.q2 / ymm<r>.q3 (the upper half of YMM r),
 *       cr8, or mem@0x<gpa>; at most 16 such lines, then hc_exit(1)
 *   secretkeeper: done <K> rounds intact, preempted <count>   (then hc_exit(0))
 * <count> is the number of rounds in which the VM was descheduled, judged
 * by how much longer the hold took than an undisturbed one (a heuristic:
 * guests/common/hold.h).
 *
 * cmdline: rounds=K (default 0: run forever), every=R (default 1),
 *          spin=N (spin iterations per round, default 300000).
 */
#include <stdio.h>
#include "guests/runtime/guest.h"
#include "guests/common/hold.h"
#include "guests/common/patterns.h"

#define REGION_WORDS (64 * 1024 / 8)
#define MAX_REPORTS 16

/* volatile: every check must really read memory. */
static volatile uint64_t region[REGION_WORDS] __attribute__((aligned(4096)));
static uint32_t vm_id;
static unsigned corruptions;

static uint64_t secret(uint32_t slot)
{
	return pattern_value(SECRETKEEPER_FAMILY, vm_id, slot);
}

static void fill(void)
{
	for (unsigned i = 0; i < HOLD_NGPR; i++)
		hold_in.gpr[i] = secret(SLOT_GPR(i));
	for (unsigned r = 0; r < HOLD_NVEC; r++)
		for (unsigned q = 0; q < 4; q++)
			hold_in.vec[r][q] = secret(SLOT_VEC(r, q));
	for (unsigned w = 0; w < REGION_WORDS; w++)
		region[w] = secret(SLOT_MEM(w));
}

static void check(const char *what, uint64_t want, uint64_t got)
{
	if (want == got)
		return;
	if (corruptions++ < MAX_REPORTS)
		con_printf("secretkeeper: CORRUPTED %s expected 0x%016lx got 0x%016lx\n",
			   what, want, got);
}

/* Compare everything the last hold stored (and the region) with what we
 * put there. */
static void check_all(bool avx)
{
	char what[32];

	for (unsigned i = 0; i < HOLD_NGPR; i++)
		check(hold_gpr_names[i], hold_in.gpr[i], hold_out.gpr[i]);
	for (unsigned r = 0; r < HOLD_NVEC; r++) {
		for (unsigned q = 0; q < (avx ? 4u : 2u); q++) {
			snprintf(what, sizeof(what), "%s%u.q%u",
				 q < 2 ? "xmm" : "ymm", r, q);
			check(what, hold_in.vec[r][q], hold_out.vec[r][q]);
		}
	}
	for (unsigned w = 0; w < REGION_WORDS; w++) {
		uint64_t got = region[w];
		if (got != secret(SLOT_MEM(w))) {
			snprintf(what, sizeof(what), "mem@0x%lx",
				 (uint64_t)(uintptr_t)&region[w]);
			check(what, secret(SLOT_MEM(w)), got);
		}
	}
}

int guest_main(const struct custos_boot_info *bi)
{
	guest_init(bi, "secretkeeper");
	vm_id = bi->vm_id;
	uint64_t rounds = cmdline_u64(bi, "rounds", 0);
	uint64_t every = cmdline_u64(bi, "every", 1);
	uint64_t spin = cmdline_u64(bi, "spin", 300000);
	if (every == 0)
		every = 1;

	bool avx = cpu_avx_usable();
	if (!avx)
		con_printf("secretkeeper: no AVX\n");
	fill();

	struct preempt_meter meter;
	preempt_calibrate(&meter, spin, bi->tsc_per_tick, avx);

	for (uint64_t n = 1;; n++) {
		write_cr8(SECRETKEEPER_CR8(n));
		preempt_timed_hold(&meter, avx);

		check("cr8", SECRETKEEPER_CR8(n), read_cr8());
		check_all(avx);
		if (corruptions)
			hc_exit(1);
		if (n % every == 0)
			con_printf("secretkeeper: round %lu ok\n", n);
		if (rounds && n == rounds) {
			con_printf("secretkeeper: done %lu rounds intact, preempted %lu\n",
				   n, meter.count);
			hc_exit(0);
		}
	}
}
