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

/* Load hold_in's vectors, call fn(arg), store the vectors to hold_out and
 * return fn's result. fn is built with -mgeneral-regs-only, so whatever
 * changes a vector register in between is not the guest's own code: the
 * TCB's work on its behalf (lcdrive's seal and resume). */
long hold_vec_call(long (*fn)(void *), void *arg, bool avx);

/*
 * Was the guest descheduled during a hold? The TSC keeps running while other
 * VMs run, so a hold that took much longer than an undisturbed hold of the
 * same length is counted as preempted. The undisturbed cost is measured with
 * short holds (too short to be preempted, mostly; the minimum of several is
 * kept) as a fixed part plus a part per spin iteration, since a long hold may
 * never run undisturbed when the slice is shorter than the hold. A hold is
 * preempted if it overran that by half of itself, or by half a slice when the
 * TCB tells the slice length (but at least an eighth of itself: noise). A
 * preemption the TCB resumes at once (no other VM ready) costs too little to
 * see, which is fine: nothing else ran on the CPU in between.
 */
struct preempt_meter {
	uint64_t spin;         /* iterations per hold */
	uint64_t expected;     /* TSC cycles of an undisturbed hold */
	uint64_t tsc_per_tick; /* from the boot info; 0 if not given */
	uint64_t count;        /* holds counted as preempted */
};

/* Needs hold_in filled (it runs holds). tsc_per_tick: bi->tsc_per_tick. */
void preempt_calibrate(struct preempt_meter *m, uint64_t spin,
		       uint64_t tsc_per_tick, bool avx);
/* Time one hold of m->spin iterations; true if it counts as preempted. */
bool preempt_timed_hold(struct preempt_meter *m, bool avx);

#endif
