#include "hv/vmx/vmcs_setup.h"
#include "hv/boot_defs.h"
#include "hv/cpu.h"
#include "hv/cpu_tables.h"
#include "hv/exit_policy.h"
#include "hv/memory.h"
#include "hv/power.h"
#include "hv/spec_barrier.h"
#include "hv/vcpu.h"
#include "hv/vmx/vmcs.h"
#include "hv/vmx/vmx.h"
#include "hv/vmx/vmx_caps.h"
#include <custos/guest_abi.h>

/* Controls we set (SDM 25.6); all others stay at their allowed-0 value. */
#define PIN_EXTERNAL_INTERRUPT   (1u << 0)
#define PIN_NMI                  (1u << 3)
#define PIN_PREEMPTION_TIMER     (1u << 6)
#define PROC_HLT                 (1u << 7)
#define PROC_MWAIT               (1u << 10)
#define PROC_RDPMC               (1u << 11)
#define PROC_CR8_LOAD            (1u << 19)
#define PROC_CR8_STORE           (1u << 20)
#define PROC_UNCONDITIONAL_IO    (1u << 24)
#define PROC_MSR_BITMAPS         (1u << 28)
#define PROC_MONITOR             (1u << 29)
#define PROC_SECONDARY           (1u << 31)
#define PROC2_EPT                (1u << 1)
#define PROC2_VPID               (1u << 5)
#define PROC2_UNRESTRICTED       (1u << 7)
#define EXIT_SAVE_DEBUG          (1u << 2)
#define EXIT_HOST_64BIT          (1u << 9)
#define EXIT_ACK_INTERRUPT       (1u << 15)
#define EXIT_SAVE_PAT            (1u << 18)
#define EXIT_LOAD_PAT            (1u << 19)
#define EXIT_SAVE_EFER           (1u << 20)
#define EXIT_LOAD_EFER           (1u << 21)
#define ENTRY_LOAD_DEBUG         (1u << 2)
#define ENTRY_64BIT_GUEST        (1u << 9)
#define ENTRY_LOAD_PAT           (1u << 14)
#define ENTRY_LOAD_EFER          (1u << 15)

#define MSR_IA32_PAT       0x277
#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101

#define CR0_MP 0x2ull
#define CR0_ET 0x10ull
#define GUEST_CR0 (CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG)
#define GUEST_CR4 (CR4_PAE | (1ull << 9) | (1ull << 10)) /* + OSFXSR, OSXMMEXCPT */
#define CR4_OSXSAVE (1ull << 18)
#define GUEST_EFER 0xd00ull /* LME | LMA | NXE */
#define DEFAULT_PAT 0x0007040600070406ull

static struct {
	uint32_t pin, proc, proc2, exit, entry;
	unsigned timer_shift;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t msr_bitmap_pa;
} ctl;

/* Apply a capability MSR (allowed-0 in the low half, allowed-1 in the high
 * half, SDM A.3) to the bits we want; panic if one of 'required' is refused. */
static uint32_t adjust(uint32_t msr, uint32_t wanted, uint32_t required,
		       const char *what)
{
	uint64_t cap = rdmsr(msr);
	uint32_t v = (wanted | (uint32_t)cap) & (uint32_t)(cap >> 32);

	if ((v & required) != required)
		panic("VMX %s controls: required bits %#x not allowed",
		      what, required & ~v);
	return v;
}

void vmcs_setup_init(void)
{
	uint32_t pin = PIN_EXTERNAL_INTERRUPT | PIN_NMI | PIN_PREEMPTION_TIMER;
	/* CR8 exiting without a TPR shadow: every MOV to or from CR8 exits
	 * and is emulated on the vCPU's own TPR (SDM 26.1.3, 25.6.2). */
	uint32_t proc = PROC_HLT | PROC_MWAIT | PROC_RDPMC | PROC_CR8_LOAD |
			PROC_CR8_STORE | PROC_UNCONDITIONAL_IO | PROC_MSR_BITMAPS |
			PROC_MONITOR | PROC_SECONDARY;
	uint32_t proc2 = PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED;
	uint32_t exit = EXIT_SAVE_DEBUG | EXIT_HOST_64BIT | EXIT_ACK_INTERRUPT |
			EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER |
			EXIT_LOAD_EFER;
	uint32_t entry = ENTRY_LOAD_DEBUG | ENTRY_64BIT_GUEST | ENTRY_LOAD_PAT |
			 ENTRY_LOAD_EFER;

	ctl.pin = adjust(MSR_IA32_VMX_TRUE_PINBASED_CTLS, pin, pin, "pin-based");
	ctl.proc = adjust(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, proc, proc, "processor-based");
	ctl.proc2 = adjust(MSR_IA32_VMX_PROCBASED_CTLS2, proc2, proc2, "secondary");
	ctl.exit = adjust(MSR_IA32_VMX_TRUE_EXIT_CTLS, exit, exit, "VM-exit");
	ctl.entry = adjust(MSR_IA32_VMX_TRUE_ENTRY_CTLS, entry, entry, "VM-entry");
	ctl.timer_shift = rdmsr(MSR_IA32_VMX_MISC) & 0x1f;
	ctl.cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	ctl.cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	ctl.cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	ctl.cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);

	ctl.msr_bitmap_pa = memory_alloc_tcb_frame();
	msr_bitmap_build(phys_to_virt(ctl.msr_bitmap_pa), spec_barrier_caps());
}

uint32_t vmcs_timer_value(uint64_t tsc)
{
	uint64_t v = tsc >> ctl.timer_shift;

	return v > 0xffffffffu ? 0xffffffffu : (uint32_t)(v ? v : 1);
}

static void write_controls(const struct vmcs_guest_start *s)
{
	vmcs_write(VMCS_PIN_CONTROLS, ctl.pin);
	vmcs_write(VMCS_PROC_CONTROLS, ctl.proc);
	vmcs_write(VMCS_PROC_CONTROLS2, ctl.proc2);
	vmcs_write(VMCS_EXIT_CONTROLS, ctl.exit);
	vmcs_write(VMCS_ENTRY_CONTROLS, ctl.entry);
	vmcs_write(VMCS_EXCEPTION_BITMAP, 0); /* guests handle their own faults */
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_write(VMCS_MSR_BITMAP, ctl.msr_bitmap_pa);
	vmcs_write(VMCS_EPT_POINTER, s->ept_pointer);
	vmcs_write(VMCS_VPID, s->vpid);
	vmcs_write(VMCS_LINK_POINTER, ~0ull);
}

/* SDM 27.5: what the CPU loads on every VM exit. */
static void write_host_state(void)
{
	uint16_t sel[] = { VMCS_HOST_ES_SEL, VMCS_HOST_SS_SEL, VMCS_HOST_DS_SEL };

	vmcs_write(VMCS_HOST_CR0, read_cr0());
	vmcs_write(VMCS_HOST_CR3, read_cr3());
	vmcs_write(VMCS_HOST_CR4, read_cr4());
	vmcs_write(VMCS_HOST_CS_SEL, GDT_CODE64);
	for (size_t i = 0; i < ARRAY_SIZE(sel); i++)
		vmcs_write(sel[i], GDT_DATA);
	vmcs_write(VMCS_HOST_FS_SEL, 0);
	vmcs_write(VMCS_HOST_GS_SEL, 0);
	vmcs_write(VMCS_HOST_TR_SEL, GDT_TSS);
	vmcs_write(VMCS_HOST_FS_BASE, rdmsr(MSR_FS_BASE));
	vmcs_write(VMCS_HOST_GS_BASE, rdmsr(MSR_GS_BASE));
	vmcs_write(VMCS_HOST_TR_BASE, cpu_tables_tss_base());
	vmcs_write(VMCS_HOST_GDTR_BASE, cpu_tables_gdt_base());
	vmcs_write(VMCS_HOST_IDTR_BASE, cpu_tables_idt_base());
	vmcs_write(VMCS_HOST_SYSENTER_CS, 0);
	vmcs_write(VMCS_HOST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_HOST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_HOST_EFER, rdmsr(MSR_EFER));
	vmcs_write(VMCS_HOST_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_write(VMCS_HOST_RIP, (uint64_t)vmx_exit_point);
	/* HOST_RSP is written by vmx_enter on every entry. */
}

static void write_segment(enum vmcs_field sel, uint16_t selector, uint32_t ar)
{
	/* Selector, base, limit and access rights fields are laid out in
	 * parallel (SDM B.1.2, B.3.3, B.4.3): ES is 0x0800/0x6806/0x4800/0x4814,
	 * each next register 2 further on. */
	unsigned idx = (sel - VMCS_GUEST_ES_SEL) / 2;

	vmcs_write(sel, selector);
	vmcs_write(VMCS_GUEST_ES_BASE + 2 * idx, 0);
	vmcs_write(VMCS_GUEST_ES_LIMIT + 2 * idx, ar & 0x10000 ? 0 : 0xffffffff);
	vmcs_write(VMCS_GUEST_ES_AR + 2 * idx, ar);
}

/* The initial guest state promised in include/custos/guest_abi.h. */
static void write_guest_state(const struct vmcs_guest_start *s)
{
	/* Access rights, SDM 25.4.1: type, S, DPL, P, L, D/B, G; bit 16 unusable. */
	const uint32_t code64 = 0xa09b, data = 0xc093, unusable = 0x10000;
	uint64_t cr0 = vmx_apply_fixed(GUEST_CR0, ctl.cr0_fixed0 & ~(CR0_PE | CR0_PG),
				       ctl.cr0_fixed1);
	/* OSXSAVE exactly when the TCB itself enabled XSAVE (hv/vcpu.c). */
	uint64_t cr4 = vmx_apply_fixed(GUEST_CR4 | (read_cr4() & CR4_OSXSAVE),
				       ctl.cr4_fixed0, ctl.cr4_fixed1);

	/* The bits the TCB owns (a whitelist of the guest's: exit_policy.h).
	 * The guest reads the shadow for them; changing one is #GP. */
	vmcs_write(VMCS_CR0_MASK, cr0_guest_host_mask(ctl.cr0_fixed0, ctl.cr0_fixed1));
	vmcs_write(VMCS_CR4_MASK, cr4_guest_host_mask(ctl.cr4_fixed0, ctl.cr4_fixed1));
	vmcs_write(VMCS_CR0_SHADOW, cr0);
	vmcs_write(VMCS_CR4_SHADOW, cr4 & ~(uint64_t)CR4_VMXE);
	vmcs_write(VMCS_GUEST_CR0, cr0);
	vmcs_write(VMCS_GUEST_CR3, s->cr3);
	vmcs_write(VMCS_GUEST_CR4, cr4);
	vmcs_write(VMCS_GUEST_DR7, 0x400);
	vmcs_write(VMCS_GUEST_DEBUGCTL, 0);

	write_segment(VMCS_GUEST_CS_SEL, GUEST_SEL_CODE, code64);
	write_segment(VMCS_GUEST_ES_SEL, GUEST_SEL_DATA, data);
	write_segment(VMCS_GUEST_SS_SEL, GUEST_SEL_DATA, data);
	write_segment(VMCS_GUEST_DS_SEL, GUEST_SEL_DATA, data);
	write_segment(VMCS_GUEST_FS_SEL, GUEST_SEL_DATA, data);
	write_segment(VMCS_GUEST_GS_SEL, GUEST_SEL_DATA, data);
	write_segment(VMCS_GUEST_LDTR_SEL, 0, unusable);
	write_segment(VMCS_GUEST_TR_SEL, 0, 0x8b); /* busy 64-bit TSS */
	vmcs_write(VMCS_GUEST_TR_LIMIT, 0x67);
	vmcs_write(VMCS_GUEST_GDTR_BASE, GUEST_GDT_GPA);
	vmcs_write(VMCS_GUEST_GDTR_LIMIT, 3 * 8 - 1);
	vmcs_write(VMCS_GUEST_IDTR_BASE, 0);
	vmcs_write(VMCS_GUEST_IDTR_LIMIT, 0);

	vmcs_write(VMCS_GUEST_RIP, s->rip);
	vmcs_write(VMCS_GUEST_RSP, s->rsp);
	vmcs_write(VMCS_GUEST_RFLAGS, 0x2);
	vmcs_write(VMCS_GUEST_EFER, GUEST_EFER);
	vmcs_write(VMCS_GUEST_PAT, DEFAULT_PAT);
	vmcs_write(VMCS_GUEST_SYSENTER_CS, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_ESP, 0);
	vmcs_write(VMCS_GUEST_SYSENTER_EIP, 0);
	vmcs_write(VMCS_GUEST_INTERRUPTIBILITY, 0);
	vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 0);
	vmcs_write(VMCS_GUEST_PENDING_DBG, 0);
}

void vmcs_setup_guest(uint64_t vmcs_pa, uint32_t revision,
		      const struct vmcs_guest_start *start)
{
	*(volatile uint32_t *)phys_to_virt(vmcs_pa) = revision;
	if (!vmcs_clear(vmcs_pa) || !vmcs_load(vmcs_pa))
		panic("VMCLEAR/VMPTRLD of a new VMCS failed");
	write_controls(start);
	write_host_state();
	write_guest_state(start);
}
