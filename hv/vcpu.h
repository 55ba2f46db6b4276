/*
 * A VM's CPU context, kept only in TCB memory (invariant 2): the GPRs the
 * control block does not hold, the XSAVE state, CR2, DR0-DR3/DR6, the
 * syscall MSRs the control block does not switch, SPEC_CTRL, and the TPR
 * (CR8). Everything else (RIP, RSP, RFLAGS, CR0/CR3/CR4, segments, DR7,
 * EFER, PAT, FS/GS base) lives in the VM's control block: its VMCS or VMCB
 * (hv/arch.h). docs/vm-exits.md lists every piece of state and how it is
 * kept apart.
 */
#ifndef CUSTOS_HV_VCPU_H
#define CUSTOS_HV_VCPU_H

#include <custos/types.h>

/* Order matters: the backends' world switches address these by offset. */
struct guest_gprs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};

/* The registers outside the GPRs, the control block and the XSAVE area
 * (while the vCPU is switched out; the backend's switch_out fills them). */
struct vcpu_sysregs {
	uint64_t cr2;
	uint64_t dr[4];
	uint64_t dr6;
	uint64_t star, lstar, cstar, fmask, kernel_gs_base;
	/* IA32_SPEC_CTRL, the guest's own (it writes the MSR directly); 0
	 * and never touched on a CPU without it. */
	uint64_t spec_ctrl;
	/* The TPR as CR8 shows it (bits 3:0): never the real LAPIC's. VMX:
	 * MOV to/from CR8 exits and is emulated on this field. */
	uint64_t cr8;
};

struct vcpu {
	struct guest_gprs gprs;
	struct vcpu_sysregs sys;
	uint64_t ctl_pa;      /* its control block: VMCS or VMCB (a TCB frame) */
	uint64_t xsave_pa;    /* its XSAVE area (a TCB frame) */
	bool launched;        /* VMX: VMLAUNCH done, VMRESUME from now on */
	bool intr_window;     /* VMX: interrupt-window exiting on in its VMCS
			       * (so that entries without a change write
			       * nothing) */
	const struct npt *npt; /* its VM's nested page tables (vcpu_start.npt) */
};

/* Enable x87/SSE/AVX state for guests on this CPU (CR4, XCR0); once at boot. */
void vcpu_cpu_init(void);
uint64_t vcpu_xcr0(void);
uint32_t vcpu_xsave_size(void);
/* Store or load the x87/SSE/AVX registers (every component of the guests'
 * XCR0) in a 64-byte aligned area of vcpu_xsave_size() bytes. */
void vcpu_xsave(void *area);
void vcpu_xrstor(const void *area);
/* What a sealed context must respect to be restored on this CPU. */
struct vcpu_context_cpu;
const struct vcpu_context_cpu *vcpu_context_cpu(void);

/* Allocate the context's frames and put it in the architectural reset-like
 * state the guest ABI promises (all zero, x87/SSE defaults). */
void vcpu_init(struct vcpu *v);

/* The same state in the frames v already has (ctl_pa, xsave_pa kept). */
void vcpu_reset(struct vcpu *v);

/* Move the context between the physical CPU and TCB memory. Only the parts
 * that VM exits leave in the CPU are moved (see the comment in vcpu.c);
 * what is the backend's is its switch_out/switch_in (hv/arch.h). */
void vcpu_save(struct vcpu *v);
void vcpu_restore(const struct vcpu *v);

/* Zero every byte of the context and release its frames. */
void vcpu_scrub(struct vcpu *v);

#endif
