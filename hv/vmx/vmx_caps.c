#include "hv/vmx/vmx_caps.h"

#include <stdio.h>

/* Bit positions, SDM Vol. 3C chapter 25 and Vol. 3D appendix A. */
#define CPUID1_ECX_VMX              (1u << 5)
#define BASIC_TRUE_CTLS             (1ull << 55)
#define BASIC_MEMTYPE_SHIFT         50
#define BASIC_32BIT_PHYS            (1ull << 48)
#define MEMTYPE_WB                  6
#define PIN_PREEMPTION_TIMER        (1u << 6)
#define PROC_CR8_LOAD_EXITING       (1u << 19)
#define PROC_CR8_STORE_EXITING      (1u << 20)
#define PROC_SECONDARY_CONTROLS     (1u << 31)
#define PROC_MSR_BITMAPS            (1u << 28)
#define PROC_IO_BITMAPS             (1u << 25)
#define PROC2_EPT                   (1u << 1)
#define PROC2_VPID                  (1u << 5)
#define PROC2_UNRESTRICTED_GUEST    (1u << 7)
#define EXIT_HOST_ADDR_SPACE_SIZE   (1u << 9)
#define EXIT_SAVE_PREEMPTION_TIMER  (1u << 22)
#define ENTRY_IA32E_MODE_GUEST      (1u << 9)
#define EPT_WALK_LENGTH_4           (1ull << 6)
#define EPT_MEMTYPE_WB              (1ull << 14)
#define EPT_2M_PAGES                (1ull << 16)
#define EPT_1G_PAGES                (1ull << 17)
#define EPT_INVEPT                  (1ull << 20)
#define EPT_ACCESSED_DIRTY          (1ull << 21)
#define EPT_INVEPT_SINGLE           (1ull << 25)
#define EPT_INVEPT_ALL              (1ull << 26)
#define VPID_INVVPID                (1ull << 32)
#define VPID_INVVPID_SINGLE         (1ull << 41)
#define VPID_INVVPID_ALL            (1ull << 42)

bool vmx_cpuid_has_vmx(uint32_t cpuid1_ecx)
{
	return (cpuid1_ecx & CPUID1_ECX_VMX) != 0;
}

enum vmx_feature_control vmx_feature_control_check(uint64_t value)
{
	if (!(value & FEATURE_CONTROL_LOCK))
		return VMX_FC_ENABLE;
	if (value & FEATURE_CONTROL_VMX_OUTSIDE_SMX)
		return VMX_FC_READY;
	return VMX_FC_LOCKED_OFF;
}

/* A control MSR's high half says which bits may be 1 (SDM A.3). */
static bool allowed1(uint64_t ctl_msr, uint32_t bits)
{
	return ((ctl_msr >> 32) & bits) == bits;
}

static const char *check_basic(const struct vmx_msrs *m)
{
	if (!(m->basic & BASIC_TRUE_CTLS))
		return "IA32_VMX_BASIC: no TRUE control MSRs";
	if (((m->basic >> BASIC_MEMTYPE_SHIFT) & 0xf) != MEMTYPE_WB)
		return "IA32_VMX_BASIC: VMCS memory type is not write-back";
	if (m->basic & BASIC_32BIT_PHYS)
		return "IA32_VMX_BASIC: VMX structures limited to 32-bit addresses";
	uint32_t size = (m->basic >> 32) & 0x1fff;
	if (size == 0 || size > 4096)
		return "IA32_VMX_BASIC: VMCS region size is not within 1..4096";
	return NULL;
}

static const char *check_controls(const struct vmx_msrs *m)
{
	if (!allowed1(m->pinbased, PIN_PREEMPTION_TIMER))
		return "no VMX preemption timer";
	if (!allowed1(m->procbased, PROC_SECONDARY_CONTROLS))
		return "no secondary processor-based controls";
	if (!allowed1(m->procbased, PROC_MSR_BITMAPS))
		return "no MSR bitmaps";
	if (!allowed1(m->procbased, PROC_IO_BITMAPS))
		return "no I/O bitmaps";
	/* The TPR of each VM is emulated (docs/vm-exits.md). */
	if (!allowed1(m->procbased, PROC_CR8_LOAD_EXITING | PROC_CR8_STORE_EXITING))
		return "no CR8-load/CR8-store exiting";
	if (!allowed1(m->procbased2, PROC2_EPT))
		return "no EPT";
	if (!allowed1(m->procbased2, PROC2_VPID))
		return "no VPID";
	if (!allowed1(m->procbased2, PROC2_UNRESTRICTED_GUEST))
		return "no unrestricted guest";
	if (!allowed1(m->exit, EXIT_HOST_ADDR_SPACE_SIZE))
		return "VM exit cannot return to a 64-bit host";
	if (!allowed1(m->entry, ENTRY_IA32E_MODE_GUEST))
		return "VM entry cannot enter a 64-bit guest";
	return NULL;
}

static const char *check_ept(const struct vmx_msrs *m)
{
	if (!(m->ept_vpid & EPT_WALK_LENGTH_4))
		return "EPT has no 4-level page walk";
	if (!(m->ept_vpid & EPT_MEMTYPE_WB))
		return "EPT has no write-back memory type";
	if (!(m->ept_vpid & EPT_INVEPT))
		return "no INVEPT";
	/* Teardown flushes with all-context INVEPT (hv/vmx.c). */
	if (!(m->ept_vpid & EPT_INVEPT_ALL))
		return "INVEPT has no all-context type";
	if (!(m->ept_vpid & VPID_INVVPID))
		return "no INVVPID";
	if (!(m->ept_vpid & (VPID_INVVPID_SINGLE | VPID_INVVPID_ALL)))
		return "INVVPID supports neither single-context nor all-context";
	return NULL;
}

const char *vmx_caps_evaluate(const struct vmx_msrs *m, struct vmx_caps *caps)
{
	const char *why = check_basic(m);

	if (!why)
		why = check_controls(m);
	if (!why)
		why = check_ept(m);
	if (why)
		return why;
	*caps = (struct vmx_caps){
		.vmcs_revision = (uint32_t)(m->basic & 0x7fffffff),
		.vmcs_size = (uint32_t)((m->basic >> 32) & 0x1fff),
		.preemption_timer_shift = (unsigned)(m->misc & 0x1f),
		.ept_2m = (m->ept_vpid & EPT_2M_PAGES) != 0,
		.ept_1g = (m->ept_vpid & EPT_1G_PAGES) != 0,
		.ept_ad = (m->ept_vpid & EPT_ACCESSED_DIRTY) != 0,
		.invept_single = (m->ept_vpid & EPT_INVEPT_SINGLE) != 0,
		.invvpid_single = (m->ept_vpid & VPID_INVVPID_SINGLE) != 0,
	};
	return NULL;
}

void vmx_caps_describe(const struct vmx_caps *c, char *buf, size_t len)
{
	snprintf(buf, len,
		 "vmcs rev %#x size %u; ept 4-level wb%s%s%s; vpid; "
		 "unrestricted guest; preemption timer tsc/%u; true controls",
		 (unsigned)c->vmcs_revision, (unsigned)c->vmcs_size,
		 c->ept_2m ? " 2M" : "", c->ept_1g ? " 1G" : "",
		 c->ept_ad ? " a/d" : "", 1u << c->preemption_timer_shift);
}
