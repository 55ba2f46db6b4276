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

#include "hv/vcpu.h"
#include "tcb/vm.h"

/* The platform in its power-on state, with the vCPU's first state. */
void virq_reset(struct vm *vm, uint64_t now);

/* Right before entering vm's vCPU v (current): inject or ask for a
 * window. Returns budget cut to end at the platform's next timer event. */
uint64_t virq_before_entry(struct vm *vm, struct vcpu *v, uint64_t now,
			   uint64_t budget);

/* An idle VM (halted with RFLAGS.IF set): whether its platform has an
 * interrupt for it now; *deadline lowered to its next timer event. */
bool virq_wakes(struct vm *vm, uint64_t now, uint64_t *deadline);

#endif
