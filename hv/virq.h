/*
 * Interrupts from a VM's virtual platform (vdev/) to its vCPU, through the
 * backend (hv/arch.h): before every entry a pending interrupt is injected
 * when the guest can take it, or an interrupt-window exit is asked for;
 * a slice never runs past the platform's next timer event; and a VM that
 * halted with interrupts enabled sleeps until its platform raises one
 * (docs/vm-exits.md, "Interrupts and HLT").
 */
#ifndef CUSTOS_HV_VIRQ_H
#define CUSTOS_HV_VIRQ_H

#include "hv/arch.h"
#include "hv/vcpu.h"
#include "tcb/vm.h"

/* The platform in its power-on state, with the vCPU's first state. */
void virq_reset(struct vm *vm, uint64_t now);

/* Not worth an entry: a timer event this close is taken at the next one. */
#define VIRQ_MIN_BUDGET_TSC 2000ull

/* budget, cut to end at the timer event at next. */
static inline uint64_t virq_cut_budget(uint64_t budget, uint64_t now,
				       uint64_t next)
{
	if (next > now && next - now < budget)
		budget = next - now < VIRQ_MIN_BUDGET_TSC ? VIRQ_MIN_BUDGET_TSC
							  : next - now;
	return budget;
}

/* virq_before_entry's way when the platform may have something: ask its
 * devices, inject or ask for a window, cut the budget. */
uint64_t virq_devices_before_entry(struct vm *vm, struct vcpu *v, uint64_t now,
				   uint64_t budget);

/* Right before entering vm's vCPU v (current): inject or ask for a
 * window. Returns budget cut to end at the platform's next timer event.
 * Inline, before every entry: most exits (CPUID, hypercalls) touch no
 * device, and until the next timer event nothing can then be pending
 * (quiet_until, vdev/vplatform.h): no window is wanted, and the slice
 * ends at that event at the latest. Only otherwise are the devices
 * asked (docs/vm-exits.md, "What an exit costs"). */
static inline uint64_t virq_before_entry(struct vm *vm, struct vcpu *v,
					 uint64_t now, uint64_t budget)
{
	uint64_t quiet = vm->platform.quiet_until;

	if (now < quiet) {
		arch->intr_window(v, false);
		return virq_cut_budget(budget, now, quiet);
	}
	return virq_devices_before_entry(vm, v, now, budget);
}

/* An idle VM (halted with RFLAGS.IF set): whether its platform has an
 * interrupt for it now; *deadline lowered to its next timer event. */
bool virq_wakes(struct vm *vm, uint64_t now, uint64_t *deadline);

#endif
