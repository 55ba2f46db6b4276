/* Round-robin scheduling of VMs on one CPU with the VMX preemption timer. */
#ifndef CUSTOS_HV_SCHED_H
#define CUSTOS_HV_SCHED_H

#include <custos/types.h>

struct sched_stats {
	uint64_t slices;      /* VM entries that started a new slice */
	uint64_t preemptions; /* slices ended by the preemption timer */
	uint64_t switches;    /* context switches between two different VMs */
};

/* Run every runnable VM until none is left; each one that halts or stops
 * is torn down as soon as it does. */
void sched_run(struct sched_stats *stats);

#endif
