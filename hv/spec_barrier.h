/*
 * Speculative side channels between VMs, the mechanism half
 * (hv/spec_policy.h decides, docs/vm-exits.md explains): reads what the
 * CPU offers once at boot, then issues the barriers on every switch to a
 * VM of another owner.
 */
#ifndef CUSTOS_HV_SPEC_BARRIER_H
#define CUSTOS_HV_SPEC_BARRIER_H

#include <custos/types.h>

struct spec_caps;

/* Read CPUID (and IA32_ARCH_CAPABILITIES where it exists) and log what
 * switches will issue and what guests may use. Once, before any VM. */
void spec_barrier_init(void);

const struct spec_caps *spec_barrier_caps(void);

/* The CPU is about to run a VM other than the one whose state it last
 * held: issue what spec_switch_barriers decides for this pair. */
void spec_barrier_switch(bool same_owner);

struct spec_barrier_stats {
	uint64_t owner_changes;          /* switches between different owners */
	uint64_t ibpb, l1d_flush, verw;  /* barriers issued */
};

const struct spec_barrier_stats *spec_barrier_stats(void);

/* One log line of the counts: "spec: N switches between owners; IBPB n,
 * L1D flush n, VERW n". */
void spec_barrier_report(void);

#endif
