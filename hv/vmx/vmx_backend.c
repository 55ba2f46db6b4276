/*
 * The VMX backend (hv/arch.h): a vCPU's control block is its VMCS. Exits
 * are decoded from the VMCS exit fields (SDM Vol. 3C chapter 28, Vol. 3D
 * appendix C) into the shared events; what the shared code decides is
 * carried out through the VMCS here.
 */
#include "hv/arch.h"
#include "hv/cpu.h"
#include "hv/memory.h"
#include "hv/power.h"
#include "hv/vmx/vmcs.h"
#include "hv/vmx/vmcs_setup.h"
#include "hv/vmx/vmx.h"
#include "tcb/npt.h"
#include "tcb/vm.h"

#include <stdio.h>

/* Basic exit reasons, SDM Vol. 3D appendix C. */
enum vmx_exit_reason {
	VMX_EXIT_EXCEPTION_NMI = 0,
	VMX_EXIT_EXTERNAL_INTERRUPT = 1,
	VMX_EXIT_TRIPLE_FAULT = 2,
	VMX_EXIT_INTERRUPT_WINDOW = 7,
	VMX_EXIT_CPUID = 10,
	VMX_EXIT_HLT = 12,
	VMX_EXIT_VMCALL = 18,
	VMX_EXIT_VMX_FIRST = 19, /* VMCLEAR .. VMXON: 19-27 */
	VMX_EXIT_VMX_LAST = 27,
	VMX_EXIT_CR_ACCESS = 28,
	VMX_EXIT_IO = 30,
	VMX_EXIT_RDMSR = 31,
	VMX_EXIT_WRMSR = 32,
	VMX_EXIT_EPT_VIOLATION = 48,
	VMX_EXIT_EPT_MISCONFIG = 49,
	VMX_EXIT_INVEPT = 50,
	VMX_EXIT_PREEMPTION_TIMER = 52,
	VMX_EXIT_INVVPID = 53,
	VMX_EXIT_XSETBV = 55,
};

#define EXIT_REASON_ENTRY_FAILURE (1u << 31)
#define INTR_INFO_VALID        (1u << 31)
#define INTR_TYPE_EXTERNAL     (0u << 8)
#define INTR_TYPE_NMI          (2u << 8)
#define INTR_TYPE_HW_EXCEPTION (3u << 8)
#define INTR_DELIVER_ERROR     (1u << 11)
#define INTR_TYPE_MASK         (7u << 8)
#define INTR_TYPE_SOFT_INT     (4u << 8)
#define INTR_TYPE_PRIV_SOFT    (5u << 8)
#define INTR_TYPE_SOFT_EXC     (6u << 8)

/* Guest interruptibility state (SDM 25.4.2): the shadows of STI and MOV SS. */
#define BLOCKING_STI    (1u << 0)
#define BLOCKING_MOV_SS (1u << 1)
#define RFLAGS_IF       (1ull << 9)

#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_CSTAR          0xc0000083
#define MSR_FMASK          0xc0000084
#define MSR_KERNEL_GS_BASE 0xc0000102

static void vmx_init(void)
{
	vmcs_setup_init();
}

static void vmx_vcpu_load(struct vcpu *v)
{
	CHECK(vmcs_load(v->ctl_pa));
}

static void vmx_vcpu_setup(struct vcpu *v, const struct vcpu_start *s)
{
	const struct vmcs_guest_start start = {
		.rip = s->rip, .rsp = s->rsp, .cr3 = s->cr3,
		.sel_code = s->sel_code, .sel_data = s->sel_data,
		.gdt_limit = s->gdt_limit,
		.ept_pointer = s->npt_root, .vpid = s->tag,
		.owns_com2 = s->owns_com2,
	};

	vmcs_setup_guest(v->ctl_pa, vmx_vmcs_revision(), &start);
	vmx_flush_vpid(s->tag);
	v->launched = false;
	v->intr_window = false; /* the new VMCS's controls have it off */
}

static void vmx_vcpu_release(struct vcpu *v)
{
	if (v->ctl_pa)
		CHECK(vmcs_clear(v->ctl_pa));
}

#define READ_DR6(dst) __asm__ volatile("mov %%db6, %0" : "=r"(dst))
#define WRITE_DR6(src) __asm__ volatile("mov %0, %%db6" : : "r"(src))

/* What a VM exit leaves in the CPU besides what hv/vcpu.c moves: CR2, DR6
 * and the syscall MSRs, which the VMCS does not switch. */
static void vmx_switch_out(struct vcpu *v)
{
	v->sys.cr2 = read_cr2();
	READ_DR6(v->sys.dr6);
	v->sys.star = rdmsr(MSR_STAR);
	v->sys.lstar = rdmsr(MSR_LSTAR);
	v->sys.cstar = rdmsr(MSR_CSTAR);
	v->sys.fmask = rdmsr(MSR_FMASK);
	v->sys.kernel_gs_base = rdmsr(MSR_KERNEL_GS_BASE);
}

static void vmx_switch_in(const struct vcpu *v)
{
	write_cr2(v->sys.cr2);
	WRITE_DR6(v->sys.dr6);
	wrmsr(MSR_STAR, v->sys.star);
	wrmsr(MSR_LSTAR, v->sys.lstar);
	wrmsr(MSR_CSTAR, v->sys.cstar);
	wrmsr(MSR_FMASK, v->sys.fmask);
	wrmsr(MSR_KERNEL_GS_BASE, v->sys.kernel_gs_base);
}

static void decode_exception(struct exit_event *ev)
{
	uint32_t info = (uint32_t)vmcs_read(VMCS_EXIT_INTR_INFO);

	ev->kind = (info & (7u << 8)) == INTR_TYPE_NMI ? EXIT_NMI : EXIT_EXCEPTION;
	ev->u.code = info;
}

static void decode_ept_violation(struct exit_event *ev)
{
	/* SDM Table 28-7: bit 0 read, 1 write, 2 instruction fetch. */
	ev->kind = EXIT_NPF;
	ev->u.npf.gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
	ev->u.npf.access = (ev->qual & 4) ? NPT_EXEC :
			   (ev->qual & 2) ? NPT_WRITE : NPT_READ;
}

static void decode(uint32_t reason, struct exit_event *ev)
{
	switch (reason) {
	case VMX_EXIT_PREEMPTION_TIMER: ev->kind = EXIT_PREEMPTED; return;
	case VMX_EXIT_EXTERNAL_INTERRUPT: ev->kind = EXIT_INTERRUPT; return;
	case VMX_EXIT_EXCEPTION_NMI: decode_exception(ev); return;
	case VMX_EXIT_CPUID: ev->kind = EXIT_CPUID; return;
	case VMX_EXIT_HLT: ev->kind = EXIT_HLT; return;
	case VMX_EXIT_INTERRUPT_WINDOW: ev->kind = EXIT_INTR_WINDOW; return;
	case VMX_EXIT_VMCALL: ev->kind = EXIT_HYPERCALL; return;
	case VMX_EXIT_RDMSR: ev->kind = EXIT_MSR_READ; return;
	case VMX_EXIT_WRMSR: ev->kind = EXIT_MSR_WRITE; return;
	case VMX_EXIT_XSETBV: ev->kind = EXIT_XSETBV; return;
	case VMX_EXIT_TRIPLE_FAULT: ev->kind = EXIT_SHUTDOWN; return;
	case VMX_EXIT_EPT_VIOLATION: decode_ept_violation(ev); return;
	case VMX_EXIT_EPT_MISCONFIG:
		ev->kind = EXIT_NPT_BROKEN;
		ev->u.npf.gpa = vmcs_read(VMCS_GUEST_PHYSICAL_ADDRESS);
		return;
	case VMX_EXIT_CR_ACCESS:
		ev->kind = EXIT_CR;
		cr_exit_decode(ev->qual, &ev->u.cr);
		return;
	case VMX_EXIT_IO:
		if (io_exit_decode(ev->qual, &ev->u.io)) {
			ev->kind = EXIT_IO;
			return;
		}
		break; /* a size the CPU never reports: unknown, the VM stops */
	default:
		break;
	}
	if ((reason >= VMX_EXIT_VMX_FIRST && reason <= VMX_EXIT_VMX_LAST) ||
	    reason == VMX_EXIT_INVEPT || reason == VMX_EXIT_INVVPID) {
		ev->kind = EXIT_VIRT_INSN;
		return;
	}
	ev->kind = EXIT_UNKNOWN;
	ev->u.code = reason;
}

/*
 * An event whose delivery the exit interrupted (SDM 28.2.4: IDT-vectoring
 * information) is injected again at the next entry, as the CPU would have
 * finished it (SDM 27.2.4): an interrupt of the virtual platform may meet
 * an NMI or an external-interrupt exit half-way through the guest's IDT.
 * Anything injected for the entry that just happened was consumed by it.
 */
static void redeliver_interrupted_event(void)
{
	uint32_t info = (uint32_t)vmcs_read(VMCS_IDT_VECTORING_INFO);
	uint32_t type = info & INTR_TYPE_MASK;

	/* Every VM exit clears the entry field's valid bit (SDM 27.2.4). */
	if (!(info & INTR_INFO_VALID))
		return;
	/* Bit 12 (undefined here) and the NMI-unblocking bit must be 0. */
	vmcs_write(VMCS_ENTRY_INTR_INFO, info & ~(1u << 12));
	if (info & INTR_DELIVER_ERROR)
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR,
			   vmcs_read(VMCS_IDT_VECTORING_ERROR));
	if (type == INTR_TYPE_SOFT_INT || type == INTR_TYPE_PRIV_SOFT ||
	    type == INTR_TYPE_SOFT_EXC)
		vmcs_write(VMCS_ENTRY_INSTR_LEN, vmcs_read(VMCS_EXIT_INSTR_LEN));
}

static void vmx_run(struct vcpu *v, uint64_t budget, struct exit_event *ev)
{
	uint32_t reason;

	*ev = (struct exit_event){ .kind = EXIT_UNKNOWN };
	vmcs_write(VMCS_PREEMPTION_TIMER, vmcs_timer_value(budget));
	if (vmx_enter(&v->gprs, v->launched)) {
		ev->kind = EXIT_ENTRY_FAILED;
		ev->u.code = vmcs_read(VMCS_INSTRUCTION_ERROR);
		return;
	}
	v->launched = true;
	redeliver_interrupted_event();
	reason = (uint32_t)vmcs_read(VMCS_EXIT_REASON);
	ev->qual = vmcs_read(VMCS_EXIT_QUALIFICATION);
	ev->insn_len = vmcs_read(VMCS_EXIT_INSTR_LEN);
	if (reason & EXIT_REASON_ENTRY_FAILURE) {
		/* SDM 26.8: the guest state or MSR loading failed the entry. */
		ev->kind = EXIT_ENTRY_FAILED;
		ev->u.code = reason & 0xffff;
		return;
	}
	decode(reason & 0xffff, ev);
}

static void vmx_skip(struct vcpu *v, const struct exit_event *ev)
{
	uint64_t blocking = vmcs_read(VMCS_GUEST_INTERRUPTIBILITY);

	(void)v;
	vmcs_write(VMCS_GUEST_RIP, vmcs_read(VMCS_GUEST_RIP) + ev->insn_len);
	/* The shadow of an STI or MOV SS covers one instruction: the one
	 * just carried out for the guest (the HLT of "sti; hlt"). */
	if (blocking & (BLOCKING_STI | BLOCKING_MOV_SS))
		vmcs_write(VMCS_GUEST_INTERRUPTIBILITY,
			   blocking & ~(uint64_t)(BLOCKING_STI | BLOCKING_MOV_SS));
}

static void vmx_inject(struct vcpu *v, unsigned vector, bool error_code)
{
	uint32_t info = INTR_INFO_VALID | INTR_TYPE_HW_EXCEPTION | vector;

	(void)v;
	if (error_code) {
		info |= INTR_DELIVER_ERROR;
		vmcs_write(VMCS_ENTRY_EXCEPTION_ERROR, 0);
	}
	vmcs_write(VMCS_ENTRY_INTR_INFO, info);
}

static bool vmx_intr_ready(struct vcpu *v)
{
	(void)v;
	return (vmcs_read(VMCS_GUEST_RFLAGS) & RFLAGS_IF) &&
	       !(vmcs_read(VMCS_GUEST_INTERRUPTIBILITY) &
		 (BLOCKING_STI | BLOCKING_MOV_SS)) &&
	       !(vmcs_read(VMCS_ENTRY_INTR_INFO) & INTR_INFO_VALID);
}

static void vmx_inject_intr(struct vcpu *v, unsigned vector)
{
	(void)v;
	vmcs_write(VMCS_ENTRY_INTR_INFO,
		   INTR_INFO_VALID | INTR_TYPE_EXTERNAL | (vector & 0xff));
}

static void vmx_intr_window(struct vcpu *v, bool on)
{
	if (v->intr_window == on)
		return;
	v->intr_window = on;
	vmcs_intr_window(on);
}

static const enum vmcs_field reg_fields[] = {
	[GREG_RIP] = VMCS_GUEST_RIP, [GREG_RSP] = VMCS_GUEST_RSP,
	[GREG_CR0] = VMCS_GUEST_CR0, [GREG_CR3] = VMCS_GUEST_CR3,
	[GREG_CR4] = VMCS_GUEST_CR4, [GREG_EFER] = VMCS_GUEST_EFER,
	[GREG_RFLAGS] = VMCS_GUEST_RFLAGS, [GREG_PAT] = VMCS_GUEST_PAT,
	[GREG_TSC_OFFSET] = VMCS_TSC_OFFSET,
};

static uint64_t vmx_get(struct vcpu *v, enum guest_reg r)
{
	(void)v;
	return vmcs_read(reg_fields[r]);
}

static void vmx_set(struct vcpu *v, enum guest_reg r, uint64_t value)
{
	(void)v;
	vmcs_write(reg_fields[r], value);
}

static unsigned vmx_cpl(struct vcpu *v)
{
	(void)v;
	return (vmcs_read(VMCS_GUEST_SS_AR) >> 5) & 3; /* SS.DPL is the CPL */
}

static void vmx_state_get(struct vcpu *v, uint64_t s[VCPU_CONTEXT_STATE_WORDS])
{
	(void)v;
	vmcs_read_state(s);
}

static void vmx_state_set(struct vcpu *v, const uint64_t s[VCPU_CONTEXT_STATE_WORDS])
{
	(void)v;
	vmcs_write_state(s);
}

static void vmx_flush(const struct vm *vm)
{
	vmx_flush_ept_all();
	vmx_flush_vpid((uint16_t)vm->id);
}

const struct arch_ops vmx_ops = {
	.name = "vmx",
	.npt_format = NPT_EPT,
	.init = vmx_init,
	.vcpu_load = vmx_vcpu_load,
	.vcpu_setup = vmx_vcpu_setup,
	.vcpu_release = vmx_vcpu_release,
	.switch_out = vmx_switch_out,
	.switch_in = vmx_switch_in,
	.run = vmx_run,
	.skip = vmx_skip,
	.inject = vmx_inject,
	.intr_ready = vmx_intr_ready,
	.inject_intr = vmx_inject_intr,
	.intr_window = vmx_intr_window,
	.get = vmx_get,
	.set = vmx_set,
	.cpl = vmx_cpl,
	.state_get = vmx_state_get,
	.state_set = vmx_state_set,
	.flush = vmx_flush,
	.disable = vmx_disable,
};
