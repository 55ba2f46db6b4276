/* Filling a fresh VMCS for a 64-bit guest (SDM Vol. 3C chapter 25, 27). */
#ifndef CUSTOS_HV_VMCS_SETUP_H
#define CUSTOS_HV_VMCS_SETUP_H

#include <custos/types.h>

struct vmcs_guest_start {
	uint64_t rip, rsp, cr3;
	uint64_t ept_pointer;
	uint16_t vpid;
};

/* Compute the VM-execution/exit/entry controls once at boot from the TRUE
 * capability MSRs; panics if a control we need cannot be set. Also builds
 * the shared MSR bitmap. */
void vmcs_setup_init(void);

/* VMCLEAR + VMPTRLD the region at vmcs_pa, then write every field: controls,
 * host state and the initial guest state of guest_abi.h. */
void vmcs_setup_guest(uint64_t vmcs_pa, uint32_t revision,
		      const struct vmcs_guest_start *start);

/* Preemption-timer value for a slice of 'tsc' TSC cycles. */
uint32_t vmcs_timer_value(uint64_t tsc);

#endif
