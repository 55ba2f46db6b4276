/*
 * Holding known values in registers across a stretch of time in which the
 * TCB may preempt the guest, then reading them back (secretkeeper, regspy).
 *
 * hold_run() is one asm statement: load every GPR but RSP and all 16
 * XMM/YMM registers from hold_in, spin (decrementing a counter in memory, so
 * no register is needed), store them all to hold_out. The compiler cannot
 * touch a held register in between. It lives in hold_avx.c, the only file
 * built with -mavx; callers are built with -mgeneral-regs-only and so never
 * use a vector register themselves.
 */
#ifndef GUESTS_COMMON_HOLD_H
#define GUESTS_COMMON_HOLD_H

#include <stdbool.h>
#include <stdint.h>

#define HOLD_NGPR 15 /* rax rbx rcx rdx rsi rdi rbp r8-r15 */
#define HOLD_NVEC 16

struct hold_set {
	/* ymm0-15 as 64-bit lanes: [0] [1] are the XMM part, [2] [3] the
	 * upper half (only with AVX). */
	uint64_t vec[HOLD_NVEC][4];
	uint64_t gpr[HOLD_NGPR];  /* in the order of hold_gpr_names */
};

extern struct hold_set hold_in, hold_out;
extern const char *const hold_gpr_names[HOLD_NGPR];

/* Load hold_in, spin 'spins' (>= 1) iterations, store to hold_out. Without
 * avx only the XMM parts are loaded and stored (vec[][2..3] untouched). */
void hold_run(uint64_t spins, bool avx);

/* Store the current XMM (and with avx, YMM) registers to hold_out.vec
 * without loading anything first. */
void hold_capture_vec(bool avx);

/*
 * Was the guest descheduled during a hold? The TSC keeps running while other
 * VMs run, so a hold that took much longer than the fastest one seen is
 * counted as preempted. Heuristic: a preemption that the TCB resumes at once
 * (no other VM ready) costs too little to see, and that is fine, since
 * nothing else ran on the CPU in between.
 */
struct preempt_meter {
	uint64_t min_cycles; /* the fastest hold so far; 0 = none yet */
	uint64_t count;      /* holds counted as preempted */
};

static inline bool preempt_note(struct preempt_meter *m, uint64_t cycles)
{
	if (m->min_cycles == 0 || cycles < m->min_cycles) {
		m->min_cycles = cycles ? cycles : 1;
		return false;
	}
	if (cycles / 2 > m->min_cycles) {
		m->count++;
		return true;
	}
	return false;
}

#endif
