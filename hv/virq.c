#include "hv/virq.h"
#include "hv/arch.h"
#include "tcb/timebase.h"

void virq_reset(struct vm *vm, uint64_t now)
{
	vplatform_init(&vm->platform, timebase_tsc_hz(), timebase_wall_at(now), now);
	vm->idle = false;
}

uint64_t virq_devices_before_entry(struct vm *vm, struct vcpu *v, uint64_t now,
				   uint64_t budget)
{
	if (vplatform_intr_pending(&vm->platform, now)) {
		if (arch->intr_ready(v)) {
			int vector = vplatform_intr_ack(&vm->platform, now);

			if (vector >= 0)
				arch->inject_intr(v, (unsigned)vector);
			/* Another one may be waiting behind it. */
			arch->intr_window(v, vplatform_intr_pending(&vm->platform, now));
		} else {
			arch->intr_window(v, true);
		}
	} else {
		arch->intr_window(v, false);
	}
	return virq_cut_budget(budget, now,
			       vplatform_next_deadline(&vm->platform, now));
}

bool virq_wakes(struct vm *vm, uint64_t now, uint64_t *deadline)
{
	uint64_t next;

	if (vplatform_intr_pending(&vm->platform, now))
		return true;
	next = vplatform_next_deadline(&vm->platform, now);
	if (next < *deadline)
		*deadline = next;
	return false;
}
