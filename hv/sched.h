/* Round-robin scheduling of VMs on one CPU with the VMX preemption timer. */
#ifndef CUSTOS_HV_SCHED_H
#define CUSTOS_HV_SCHED_H

#include <custos/types.h>

struct sched_stats {
	uint64_t slices;      /* VM entries that started a new slice */
	uint64_t preemptions; /* slices ended by the preemption timer */
	uint64_t switches;    /* context switches between two different VMs */
	uint64_t idle_waits;  /* times every VM waited for a timer */
};

/* Run every runnable VM until none is left, round robin, including tenant
 * VMs that become runnable while it runs (HC_VM_START). A boot-module VM
 * or the TPGVM that halts or stops is torn down as soon as it does (the
 * TPGVM's end destroys every tenant VM); a tenant VM is frozen with its
 * memory instead, EXITED, for its owner to seal. */
void sched_run(struct sched_stats *stats);

#endif
