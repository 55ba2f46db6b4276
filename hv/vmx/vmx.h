/* VMX bring-up on the boot CPU. */
#ifndef CUSTOS_HV_VMX_H
#define CUSTOS_HV_VMX_H

#include "hv/vmx/vmx_caps.h"

/*
 * Detect VMX and every feature Custos relies on, enable it in
 * IA32_FEATURE_CONTROL if firmware left that unlocked, honour the CR0/CR4
 * fixed bits and execute VMXON. Returns NULL on success (caps filled),
 * otherwise the reason VMX cannot be used; the CPU is then left untouched.
 */
const char *vmx_enable(struct vmx_caps *caps);

/* Drop cached EPT translations of every context (SDM 30.3.3.1), and cached
 * linear translations tagged with vpid (30.3.3.3). */
void vmx_flush_ept_all(void);
void vmx_flush_vpid(uint16_t vpid);

/* Leave VMX operation (before powering off). */
void vmx_disable(void);

/* The VMCS revision identifier of this CPU (after vmx_enable). */
uint32_t vmx_vmcs_revision(void);

/* Enter the guest (hv/vmx/vmx_switch.S). Returns 0 after a VM exit, 1 if
 * VMLAUNCH/VMRESUME failed (then see VMCS_INSTRUCTION_ERROR). */
struct guest_gprs;
int vmx_enter(struct guest_gprs *gprs, int launched);
void vmx_exit_point(void);

/* The backend (hv/arch.h). */
struct arch_ops;
extern const struct arch_ops vmx_ops;

#endif
