/*
 * A VM's CPU context, kept only in TCB memory (invariant 2): the GPRs the
 * VMCS does not hold, the XSAVE state, CR2, DR0-DR3/DR6, the syscall MSRs
 * the VMCS does not switch, SPEC_CTRL, and the TPR (CR8), which the TCB
 * emulates. Everything else (RIP, RSP, RFLAGS, CR0/CR3/CR4, segments, DR7,
 * EFER, PAT, FS/GS base) lives in the VM's VMCS. docs/vm-exits.md lists
 * every piece of state and how it is kept apart.
 */
#ifndef CUSTOS_HV_VCPU_H
#define CUSTOS_HV_VCPU_H

#include <custos/types.h>

/* Order matters: hv/vmx_switch.S addresses these by offset. */
struct guest_gprs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* The registers outside the GPRs, the VMCS and the XSAVE area. */
struct vcpu_sysregs {
	uint64_t cr2;
	uint64_t dr[4];
	uint64_t dr6;
	uint64_t star, lstar, cstar, fmask, kernel_gs_base;
	/* IA32_SPEC_CTRL, the guest's own (it writes the MSR directly); 0
	 * and never touched on a CPU without it. */
	uint64_t spec_ctrl;
	/* The TPR as CR8 shows it (bits 3:0). MOV to/from CR8 exits and is
	 * emulated on this field: no guest reaches the real LAPIC's TPR. */
	uint64_t cr8;
};

struct vcpu {
	struct guest_gprs gprs;
	struct vcpu_sysregs sys;
	uint64_t vmcs_pa;     /* this VM's VMCS (a TCB frame) */
	uint64_t xsave_pa;    /* this VM's XSAVE area (a TCB frame) */
	bool launched;        /* VMLAUNCH done; VMRESUME from now on */
};

/* Enable x87/SSE/AVX state for guests on this CPU (CR4, XCR0); once at boot. */
void vcpu_cpu_init(void);
uint64_t vcpu_xcr0(void);
uint32_t vcpu_xsave_size(void);
/* What a sealed context must respect to be restored on this CPU. */
struct vcpu_context_cpu;
const struct vcpu_context_cpu *vcpu_context_cpu(void);

/* Allocate the context's frames and put it in the architectural reset-like
 * state the guest ABI promises (all zero, x87/SSE defaults). */
void vcpu_init(struct vcpu *v);

/* The same state in the frames v already has (vmcs_pa, xsave_pa kept). */
void vcpu_reset(struct vcpu *v);

/* Move the context between the physical CPU and TCB memory. Only the parts
 * that VM exits leave in the CPU are moved (see the comment in vcpu.c). */
void vcpu_save(struct vcpu *v);
void vcpu_restore(const struct vcpu *v);

/* Zero every byte of the context and release its frames. */
void vcpu_scrub(struct vcpu *v);

/* Enter the guest (hv/vmx_switch.S). Returns 0 after a VM exit, 1 if
 * VMLAUNCH/VMRESUME failed (then see VMCS_INSTRUCTION_ERROR). */
int vmx_enter(struct guest_gprs *gprs, int launched);
void vmx_exit_point(void);

#endif
