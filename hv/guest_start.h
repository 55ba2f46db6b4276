/*
 * The state a vCPU starts in, as include/custos/guest_abi.h promises it: 64-bit
 * mode, flat segments, the TCB's page tables, RIP at the image's entry.
 * Written once, as the state words of a sealed context (hv/vcpu_context.h),
 * which each backend loads into its control block (hv/arch.h), so the two
 * backends cannot start a guest differently.
 */
#ifndef CUSTOS_HV_GUEST_START_H
#define CUSTOS_HV_GUEST_START_H

#include "hv/arch.h"

/* s's registers and the rest of the ABI's initial state into w. cr4_extra:
 * CR4 bits the TCB adds for this CPU (OSXSAVE when it enabled XSAVE). */
void guest_start_state(const struct vcpu_start *s, uint64_t cr4_extra,
		       uint64_t w[VCPU_CONTEXT_STATE_WORDS]);

#endif
