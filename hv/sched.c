#include "hv/sched.h"
#include "hv/arch.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "hv/guest.h"
#include "hv/power.h"
#include "hv/spec_barrier.h"
#include "hv/tenant.h"
#include "hv/vcpu.h"
#include "hv/virq.h"
#include "hv/vm_exit.h"

/* A slice, in TSC cycles (Bochs: instructions). */
#define SLICE_TSC 200000ull

/* The VM whose context is in the CPU right now, NULL if none. */
static struct vm *loaded;
/* Whose VM ran last (its traces outlive a teardown): none before the first. */
static struct vm_principal last_ran;
static bool ran_before;

static void switch_to(struct vm *next, struct sched_stats *stats)
{
	struct vm_principal p;

	if (loaded == next)
		return;
	if (loaded)
		vcpu_save(guest_vcpu(loaded));
	arch->vcpu_load(guest_vcpu(next));
	vcpu_restore(guest_vcpu(next));
	/* Last, right before the entry: IBPB, L1D flush or VERW when the
	 * owner changes (hv/spec_policy.h). */
	vm_principal_of(next, &p);
	spec_barrier_switch(ran_before && vm_principal_same(&last_ran, &p));
	last_ran = p;
	ran_before = true;
	loaded = next;
	stats->switches++;
}

/*
 * Enter vm until its slice ends; returns how it ended. A slice is wall time
 * on the CPU, TCB work included: everything from the first entry to the
 * return -- guest time, VM exits, the TCB handling them (a hypercall's
 * bounded step, an emulated CPUID) -- counts against the VM that caused it.
 * Counting guest time only (a preemption timer's own view) let a VM that
 * exits in a tight loop take many times the CPU of one that spins. The
 * backend's run() ends the guest's part when what is left has passed.
 */
static enum exit_outcome run_slice(struct vm *vm, struct sched_stats *stats)
{
	struct vcpu *v = guest_vcpu(vm);
	uint64_t start = rdtsc();
	enum exit_outcome out;

	vm->slices++;
	stats->slices++;
	do {
		uint64_t now = rdtsc(), used = now - start;
		if (used >= SLICE_TSC)
			return EXIT_OUTCOME_PREEMPTED;
		struct exit_event ev;

		arch->run(v, virq_before_entry(vm, v, now, SLICE_TSC - used), &ev);
		out = vm_exit_handle(vm, v, &ev);
		console_drain();
	} while (out == EXIT_OUTCOME_RESUME);
	return out;
}

/*
 * The next VM to run after prev, round-robin: a runnable one that is not
 * idle, or an idle one whose platform has an interrupt for it now (it
 * wakes). NULL when none; *deadline is then the earliest timer event of
 * the idle ones (UINT64_MAX: none is idle, nothing will ever run again).
 */
static struct vm *next_to_run(struct vm *prev, uint64_t *deadline)
{
	struct vm *vm = prev;
	uint64_t now = rdtsc();

	*deadline = UINT64_MAX;
	for (unsigned k = 0; k < VM_MAX; k++) {
		vm = vm_table_next_runnable(vm);
		if (!vm)
			return NULL;
		if (!vm->idle || virq_wakes(vm, now, deadline)) {
			vm->idle = false;
			return vm;
		}
	}
	return NULL;
}

/* Every VM waits for a timer: nothing to do until the earliest one. */
static void idle_until(uint64_t deadline, struct sched_stats *stats)
{
	stats->idle_waits++;
	while (rdtsc() < deadline) {
		console_drain();
		cpu_relax();
	}
}

void sched_run(struct sched_stats *stats)
{
	struct vm *prev = NULL;

	console_buffer_start();
	for (;;) {
		uint64_t deadline;
		struct vm *vm = next_to_run(prev, &deadline);
		if (!vm && deadline != UINT64_MAX) {
			idle_until(deadline, stats);
			continue;
		}
		if (!vm)
			break;
		switch_to(vm, stats);
		enum exit_outcome out = run_slice(vm, stats);
		if (out == EXIT_OUTCOME_PREEMPTED)
			stats->preemptions++;
		if (out == EXIT_OUTCOME_DONE && vm->tenant.active) {
			/* A tenant VM that stopped itself is frozen with its
			 * memory, for its owner to seal (HC_VM_STOP): its
			 * whole context goes to TCB memory now. */
			vm_exit_flush_console_mirror(vm);
			vcpu_save(guest_vcpu(vm));
			loaded = NULL;
			lifecycle_exited(vm);
		} else if (out == EXIT_OUTCOME_DONE) {
			vm_exit_flush_console_mirror(vm);
			guest_teardown(vm);
			loaded = NULL; /* its context is gone, nothing to save */
			/* Nobody can drive or seal tenant VMs any more. */
			if (vm->is_tpgvm)
				lifecycle_destroy_all(tenant_ops(), NULL);
		}
		prev = vm;
	}
}
