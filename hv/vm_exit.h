/* VM-exit handling: read the exit, apply the policy, update the guest. */
#ifndef CUSTOS_HV_VM_EXIT_H
#define CUSTOS_HV_VM_EXIT_H

#include "hv/vcpu.h"
#include "tcb/vm.h"

enum exit_outcome {
	EXIT_OUTCOME_RESUME,     /* re-enter the same VM */
	EXIT_OUTCOME_PREEMPTED,  /* its slice is over */
	EXIT_OUTCOME_RESCHEDULE, /* it yielded the rest of its slice */
	EXIT_OUTCOME_DONE,       /* it halted or was stopped (state says which) */
};

struct exit_event;

/* Handle the exit that just happened on vm (its vCPU v current), as the
 * backend decoded it (hv/arch.h). */
enum exit_outcome vm_exit_handle(struct vm *vm, struct vcpu *v,
				 const struct exit_event *ev);

#ifndef CUSTOS_PRODUCTION
/* Debug mode: copy guest console lines to COM1, labelled with the VM.
 * Development builds only (hv/dev_options.h). */
void vm_exit_set_console_mirror(bool on);
#endif

/* Debug mode: print a VM's unfinished console line (when it stops). */
void vm_exit_flush_console_mirror(const struct vm *vm);

#endif
