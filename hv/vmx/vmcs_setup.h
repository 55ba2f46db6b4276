/* Filling a fresh VMCS for a 64-bit guest (SDM Vol. 3C chapter 25, 27). */
#ifndef CUSTOS_HV_VMCS_SETUP_H
#define CUSTOS_HV_VMCS_SETUP_H

#include <custos/types.h>
#include "hv/vcpu_context.h"

struct vmcs_guest_start {
	uint64_t rip, rsp, cr3;
	uint16_t sel_code, sel_data, gdt_limit; /* struct vcpu_start's */
	uint64_t ept_pointer;
	uint16_t vpid;
	bool owns_com2; /* the TPGVM: its COM2 does not exit (exit_policy.h) */
};

/* Compute the VM-execution/exit/entry controls once at boot from the TRUE
 * capability MSRs; panics if a control we need cannot be set. Also builds
 * the shared MSR bitmap and the two pairs of I/O bitmaps. */
void vmcs_setup_init(void);

/* VMCLEAR + VMPTRLD the region at vmcs_pa, then write every field: controls,
 * host state and the initial guest state of guest_abi.h. */
void vmcs_setup_guest(uint64_t vmcs_pa, uint32_t revision,
		      const struct vmcs_guest_start *start);

/* The current VMCS's guest state as the state words of a sealed context
 * (hv/vcpu_context.h), and back. */
void vmcs_read_state(uint64_t w[VCPU_CONTEXT_STATE_WORDS]);
void vmcs_write_state(const uint64_t w[VCPU_CONTEXT_STATE_WORDS]);

/* Preemption-timer value for a slice of 'tsc' TSC cycles. */
uint32_t vmcs_timer_value(uint64_t tsc);

/* Interrupt-window exiting on the current VMCS on or off (SDM 25.6.2). */
void vmcs_intr_window(bool on);

#endif
