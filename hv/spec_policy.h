/*
 * Speculative-execution side channels between VMs: what the CPU offers
 * (decided from raw CPUID and MSR values) and which barriers a switch from
 * one VM to another needs. Pure functions, unit-tested on the host with
 * CPUs no emulator here has (Bochs reports none of these features);
 * hv/spec_barrier.c applies the decisions, docs/vm-exits.md is the policy
 * in prose.
 */
#ifndef CUSTOS_HV_SPEC_POLICY_H
#define CUSTOS_HV_SPEC_POLICY_H

#include <custos/types.h>
#include "hv/exit_policy.h"

/* IA32_SPEC_CTRL bits (SDM Vol. 4 2.1; AMD: the same bits). */
#define SPEC_CTRL_IBRS  (1ull << 0)
#define SPEC_CTRL_STIBP (1ull << 1)
#define SPEC_CTRL_SSBD  (1ull << 2)

struct spec_caps {
	/* IA32_PRED_CMD.IBPB: Intel CPUID.7.0:EDX[26], AMD 80000008h:EBX[12]. */
	bool ibpb;
	/* IA32_FLUSH_CMD.L1D_FLUSH: CPUID.7.0:EDX[28]. */
	bool l1d_flush;
	/* VERW overwrites the CPU's buffers (MD_CLEAR): CPUID.7.0:EDX[10]. */
	bool md_clear;
	/* IA32_ARCH_CAPABILITIES says L1D need not be flushed before a VM
	 * entry: RDCL_NO (bit 0, no L1TF) or SKIP_L1DFL_VMENTRY (bit 3). */
	bool l1d_flush_not_needed;
	/* The IA32_SPEC_CTRL bits the CPU has; 0: no such MSR. */
	uint64_t spec_ctrl_bits;
};

/* Whether IA32_ARCH_CAPABILITIES exists (CPUID.7.0:EDX[29]), so that the
 * caller may read it before spec_caps_decode. */
bool spec_has_arch_capabilities(const struct cpuid_values *leaf7);

/* leaf7 = CPUID.(7,0); ext8 = CPUID.80000008h (zero if the CPU lacks the
 * leaf); arch_caps = IA32_ARCH_CAPABILITIES (0 if it does not exist). */
void spec_caps_decode(const struct cpuid_values *leaf7,
		      const struct cpuid_values *ext8, uint64_t arch_caps,
		      struct spec_caps *out);

/* The barriers of a switch (a bit set). */
#define BARRIER_IBPB      1u  /* WRMSR IA32_PRED_CMD <- 1 */
#define BARRIER_L1D_FLUSH 2u  /* WRMSR IA32_FLUSH_CMD <- 1 */
#define BARRIER_VERW      4u  /* VERW with a memory operand */

/*
 * What the TCB issues when the next VM to run is not the one whose state
 * the CPU last held. Between VMs of the same owner: nothing (they trust
 * each other). Between different owners: IBPB, so no branch prediction
 * the previous owner trained steers the next one; and L1D flush, which
 * also overwrites the buffers MD_CLEAR covers, or VERW where only
 * MD_CLEAR exists, so the next owner finds none of the previous one's
 * data in the L1D cache or the CPU's buffers. Each only where the CPU
 * has it.
 */
unsigned spec_switch_barriers(const struct spec_caps *caps, bool same_owner);

#endif
