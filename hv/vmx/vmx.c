/*
 * VMXON on the boot CPU, following SDM Vol. 3C 24.7 "Enabling and entering
 * VMX operation": CPUID.1:ECX.VMX, IA32_FEATURE_CONTROL, CR4.VMXE, the
 * fixed CR0/CR4 bits, and a VMXON region carrying the VMCS revision id.
 */
#include "hv/vmx/vmx.h"
#include "hv/boot_defs.h"
#include "hv/cpu.h"
#include "hv/memory.h"
#include "hv/power.h"

static uint64_t vmxon_region_pa;
static struct vmx_caps active_caps;

static void read_vmx_msrs(struct vmx_msrs *m)
{
	m->basic = rdmsr(MSR_IA32_VMX_BASIC);
	m->pinbased = rdmsr(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
	m->procbased = rdmsr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
	m->exit = rdmsr(MSR_IA32_VMX_TRUE_EXIT_CTLS);
	m->entry = rdmsr(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
	m->misc = rdmsr(MSR_IA32_VMX_MISC);
	/* Only readable if the secondary controls and EPT/VPID exist
	 * (SDM A.3.3, A.10); reading them otherwise raises #GP. */
	m->procbased2 = 0;
	m->ept_vpid = 0;
	if ((m->procbased >> 32) & (1u << 31)) {
		m->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
		if ((m->procbased2 >> 32) & ((1u << 1) | (1u << 5)))
			m->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	}
}

static const char *enable_feature_control(void)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);

	switch (vmx_feature_control_check(fc)) {
	case VMX_FC_READY:
		return NULL;
	case VMX_FC_ENABLE:
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX_OUTSIDE_SMX);
		return NULL;
	case VMX_FC_LOCKED_OFF:
	default:
		return "disabled by firmware (IA32_FEATURE_CONTROL locked without VMX)";
	}
}

static void apply_fixed_bits(void)
{
	write_cr0(vmx_apply_fixed(read_cr0() | CR0_NE,
				  rdmsr(MSR_IA32_VMX_CR0_FIXED0),
				  rdmsr(MSR_IA32_VMX_CR0_FIXED1)));
	write_cr4(vmx_apply_fixed(read_cr4() | CR4_VMXE,
				  rdmsr(MSR_IA32_VMX_CR4_FIXED0),
				  rdmsr(MSR_IA32_VMX_CR4_FIXED1)));
}

static bool vmxon(uint64_t region_pa)
{
	bool failed;

	/* VMfailInvalid sets CF, VMfailValid sets ZF (SDM 31.2). */
	__asm__ volatile("vmxon %1; setna %0"
			 : "=qm"(failed)
			 : "m"(region_pa)
			 : "cc", "memory");
	return !failed;
}

const char *vmx_enable(struct vmx_caps *caps)
{
	struct vmx_msrs m;
	const char *why;

	if (!vmx_cpuid_has_vmx(cpuid(1, 0).ecx))
		return "CPUID.1:ECX.VMX[bit 5] is 0 (this CPU or emulator has no VMX)";
	why = enable_feature_control();
	if (why)
		return why;
	read_vmx_msrs(&m);
	why = vmx_caps_evaluate(&m, caps);
	if (why)
		return why;

	vmxon_region_pa = memory_alloc_tcb_frame();
	*(volatile uint32_t *)phys_to_virt(vmxon_region_pa) = caps->vmcs_revision;
	apply_fixed_bits();
	if (!vmxon(vmxon_region_pa))
		return "VMXON failed";
	active_caps = *caps;
	return NULL;
}

#define INV_SINGLE_CONTEXT 1
#define INV_ALL_CONTEXT    2

static void invept(uint64_t type, uint64_t eptp)
{
	const uint64_t d[2] = { eptp, 0 }; /* SDM 31.3, INVEPT descriptor */
	bool failed;

	__asm__ volatile("invept %1, %2; setna %0"
			 : "=qm"(failed) : "m"(d), "r"(type) : "cc", "memory");
	CHECK(!failed);
}

static void invvpid(uint64_t type, uint16_t vpid)
{
	const uint64_t d[2] = { vpid, 0 }; /* SDM 31.3, INVVPID descriptor */
	bool failed;

	__asm__ volatile("invvpid %1, %2; setna %0"
			 : "=qm"(failed) : "m"(d), "r"(type) : "cc", "memory");
	CHECK(!failed);
}

void vmx_flush_ept_all(void)
{
	/* All-context needs no EPTP; vmx_caps_evaluate requires it. */
	invept(INV_ALL_CONTEXT, 0);
}

void vmx_flush_vpid(uint16_t vpid)
{
	invvpid(active_caps.invvpid_single ? INV_SINGLE_CONTEXT : INV_ALL_CONTEXT,
		vpid);
}

uint32_t vmx_vmcs_revision(void)
{
	return active_caps.vmcs_revision;
}

void vmx_disable(void)
{
	__asm__ volatile("vmxoff" : : : "cc", "memory");
	write_cr4(read_cr4() & ~(uint64_t)CR4_VMXE);
}
