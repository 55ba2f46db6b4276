/*
 * The TPGVM's deadlines (docs/tpgvm.md, "Deadlines"). Every wait is given
 * in seconds of platform time, converted with the TSC rate the TCB measured
 * and wrote into our boot info (tcb/timebase.h; main.c stores it with
 * timebase_set), plus, where the TPGVM's own computation can run in
 * between, a budget of cycles for it: that computation takes cycles, not
 * seconds, and on an emulated CPU of a few MIPS one P-384 TLS handshake
 * (~1.2e8 instructions) is a minute of platform time.
 */
#ifndef CUSTOS_TPGVM_DEADLINE_H
#define CUSTOS_TPGVM_DEADLINE_H

#include "tcb/timebase.h"

/* The TSC: what every timeout of the TPGVM counts in (deadline.c; the unit
 * tests and fuzzers of storage.c bring a clock of their own). */
uint64_t tpgvm_now(void);

/* What the TPGVM may compute while a session or request waits: every
 * session's handshake at once (16 x ~1.2e8 cycles; docs/tpgvm.md), doubled
 * for the share of the CPU the other VMs take. 1.3 s at 3 GHz. */
#define TPGVM_WORK_CYCLES 4000000000ull

/* The TSC value seconds (plus work cycles) from now; saturates. */
static inline uint64_t deadline_in(uint32_t seconds, uint64_t work_cycles)
{
	uint64_t now = tpgvm_now();
	uint64_t span = timebase_span(timebase_tsc_hz(), seconds, work_cycles);

	return span > UINT64_MAX - now ? UINT64_MAX : now + span;
}

#endif
