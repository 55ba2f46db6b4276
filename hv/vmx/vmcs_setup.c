#include "hv/vmx/vmcs_setup.h"
#include "hv/boot_defs.h"
#include "hv/cpu.h"
#include "hv/cpu_tables.h"
#include "hv/exit_policy.h"
#include "hv/guest_start.h"
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
#define PROC_INTR_WINDOW         (1u << 2)
#define PROC_TSC_OFFSET          (1u << 3)
#define PROC_HLT                 (1u << 7)
#define PROC_MWAIT               (1u << 10)
#define PROC_RDPMC               (1u << 11)
#define PROC_CR8_LOAD            (1u << 19)
#define PROC_CR8_STORE           (1u << 20)
#define PROC_IO_BITMAPS          (1u << 25)
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

#define CR4_OSXSAVE (1ull << 18)

static struct {
	uint32_t pin, proc, proc2, exit, entry;
	unsigned timer_shift;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t msr_bitmap_pa;
	uint64_t io_bitmap_pa[2][2]; /* [owns_com2]: bitmap A, bitmap B */
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
			PROC_CR8_STORE | PROC_IO_BITMAPS | PROC_MSR_BITMAPS |
			PROC_MONITOR | PROC_SECONDARY | PROC_TSC_OFFSET;
	uint32_t proc2 = PROC2_EPT | PROC2_VPID | PROC2_UNRESTRICTED;
	uint32_t exit = EXIT_SAVE_DEBUG | EXIT_HOST_64BIT | EXIT_ACK_INTERRUPT |
			EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER |
			EXIT_LOAD_EFER;
	uint32_t entry = ENTRY_LOAD_DEBUG | ENTRY_64BIT_GUEST | ENTRY_LOAD_PAT |
			 ENTRY_LOAD_EFER;

	ctl.pin = adjust(MSR_IA32_VMX_TRUE_PINBASED_CTLS, pin, pin, "pin-based");
	ctl.proc = adjust(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, proc, proc, "processor-based");
	/* Not set now, but each VM asks for it while an interrupt of its
	 * virtual platform waits for RFLAGS.IF (vmcs_intr_window). */
	(void)adjust(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, proc | PROC_INTR_WINDOW,
		     PROC_INTR_WINDOW, "interrupt-window");
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
	/* SDM 25.6.4: A for ports 0-0x7fff, B for 0x8000-0xffff; one pair
	 * for the TPGVM (its COM2 does not exit) and one for every other VM. */
	for (int owns_com2 = 0; owns_com2 < 2; owns_com2++)
		for (uint32_t half = 0; half < 2; half++) {
			uint64_t pa = memory_alloc_tcb_frame();

			io_bitmap_build(phys_to_virt(pa), half * 0x8000, 0x8000,
					owns_com2);
			ctl.io_bitmap_pa[owns_com2][half] = pa;
		}
}

void vmcs_intr_window(bool on)
{
	vmcs_write(VMCS_PROC_CONTROLS, on ? ctl.proc | PROC_INTR_WINDOW : ctl.proc);
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
	vmcs_write(VMCS_TSC_OFFSET, 0);       /* a tenant VM's: hv/tenant.c */
	vmcs_write(VMCS_CR3_TARGET_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VMCS_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VMCS_ENTRY_INTR_INFO, 0);
	vmcs_write(VMCS_MSR_BITMAP, ctl.msr_bitmap_pa);
	vmcs_write(VMCS_IO_BITMAP_A, ctl.io_bitmap_pa[s->owns_com2][0]);
	vmcs_write(VMCS_IO_BITMAP_B, ctl.io_bitmap_pa[s->owns_com2][1]);
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

/* The VMCS guest-state fields of the state words (hv/vcpu_context.h), in
 * their order (SDM 25.4: everything a VM entry loads that the guest can
 * change, and the pending event injection of an exit that was handled but
 * not yet re-entered). Segments: selector, base, limit, access rights. */
#define SEG(s) VMCS_GUEST_##s##_SEL, VMCS_GUEST_##s##_BASE, \
	VMCS_GUEST_##s##_LIMIT, VMCS_GUEST_##s##_AR
static const enum vmcs_field state_fields[] = {
	VMCS_GUEST_RIP, VMCS_GUEST_RSP, VMCS_GUEST_RFLAGS,
	VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4,
	VMCS_CR0_SHADOW, VMCS_CR4_SHADOW,
	VMCS_GUEST_DR7, VMCS_GUEST_DEBUGCTL, VMCS_GUEST_EFER, VMCS_GUEST_PAT,
	SEG(ES), SEG(CS), SEG(SS), SEG(DS), SEG(FS), SEG(GS), SEG(LDTR), SEG(TR),
	VMCS_GUEST_GDTR_BASE, VMCS_GUEST_GDTR_LIMIT,
	VMCS_GUEST_IDTR_BASE, VMCS_GUEST_IDTR_LIMIT,
	VMCS_GUEST_SYSENTER_CS, VMCS_GUEST_SYSENTER_ESP, VMCS_GUEST_SYSENTER_EIP,
	VMCS_GUEST_INTERRUPTIBILITY, VMCS_GUEST_ACTIVITY_STATE,
	VMCS_GUEST_PENDING_DBG,
	VMCS_ENTRY_INTR_INFO, VMCS_ENTRY_EXCEPTION_ERROR, VMCS_ENTRY_INSTR_LEN,
};
#undef SEG
_Static_assert(ARRAY_SIZE(state_fields) == VCPU_CONTEXT_STATE_WORDS,
	      "the context layout (hv/vcpu_context.h) has a slot per field");

void vmcs_read_state(uint64_t w[VCPU_CONTEXT_STATE_WORDS])
{
	for (size_t i = 0; i < ARRAY_SIZE(state_fields); i++)
		w[i] = vmcs_read(state_fields[i]);
}

void vmcs_write_state(const uint64_t w[VCPU_CONTEXT_STATE_WORDS])
{
	for (size_t i = 0; i < ARRAY_SIZE(state_fields); i++)
		vmcs_write(state_fields[i], w[i]);
}

/* The initial guest state promised in include/custos/guest_abi.h
 * (hv/guest_start.c), with this CPU's VMX fixed bits applied (SDM A.7,
 * A.8; with unrestricted guest CR0.PE and PG are free) and the TCB's
 * CR0/CR4 bits owned through the guest/host masks. */
static void write_guest_state(const struct vmcs_guest_start *s)
{
	const struct vcpu_start start = {
		.rip = s->rip, .rsp = s->rsp, .cr3 = s->cr3,
		.sel_code = s->sel_code, .sel_data = s->sel_data,
		.gdt_limit = s->gdt_limit,
	};
	uint64_t w[VCPU_CONTEXT_STATE_WORDS];

	/* OSXSAVE exactly when the TCB itself enabled XSAVE (hv/vcpu.c). */
	guest_start_state(&start, read_cr4() & CR4_OSXSAVE, w);
	w[SW_CR0] = vmx_apply_fixed(w[SW_CR0], ctl.cr0_fixed0 & ~(CR0_PE | CR0_PG),
				    ctl.cr0_fixed1);
	w[SW_CR4] = vmx_apply_fixed(w[SW_CR4], ctl.cr4_fixed0, ctl.cr4_fixed1);
	/* The guest reads the shadow for the bits the TCB owns (a whitelist
	 * of the guest's: exit_policy.h); changing one is #GP. */
	w[SW_CR0_READ_SHADOW] = w[SW_CR0];
	w[SW_CR4_READ_SHADOW] = w[SW_CR4] & ~(uint64_t)CR4_VMXE;
	vmcs_write(VMCS_CR0_MASK, cr0_guest_host_mask(ctl.cr0_fixed0, ctl.cr0_fixed1));
	vmcs_write(VMCS_CR4_MASK, cr4_guest_host_mask(ctl.cr4_fixed0, ctl.cr4_fixed1));
	vmcs_write_state(w);
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
