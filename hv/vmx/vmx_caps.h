/*
 * Which VMX features this CPU offers, decided from raw CPUID/MSR values.
 * Pure functions, so the decision is unit-tested on the host with values no
 * emulator here can produce (a CPU without EPT, a locked-off BIOS, ...).
 */
#ifndef CUSTOS_HV_VMX_CAPS_H
#define CUSTOS_HV_VMX_CAPS_H

#include <custos/types.h>

/* Raw values read from the CPU (SDM Vol. 3D appendix A). */
struct vmx_msrs {
	uint64_t basic;        /* IA32_VMX_BASIC */
	uint64_t pinbased;     /* IA32_VMX_TRUE_PINBASED_CTLS */
	uint64_t procbased;    /* IA32_VMX_TRUE_PROCBASED_CTLS */
	uint64_t procbased2;   /* IA32_VMX_PROCBASED_CTLS2 */
	uint64_t exit;         /* IA32_VMX_TRUE_EXIT_CTLS */
	uint64_t entry;        /* IA32_VMX_TRUE_ENTRY_CTLS */
	uint64_t ept_vpid;     /* IA32_VMX_EPT_VPID_CAP */
	uint64_t misc;         /* IA32_VMX_MISC */
};

struct vmx_caps {
	uint32_t vmcs_revision;
	uint32_t vmcs_size;
	unsigned preemption_timer_shift; /* timer ticks every 2^shift TSC cycles */
	bool ept_2m, ept_1g, ept_ad, invept_single, invvpid_single;
};

/* What to do about IA32_FEATURE_CONTROL (SDM Vol. 3C 24.7). */
enum vmx_feature_control {
	VMX_FC_READY,      /* locked with VMX outside SMX enabled */
	VMX_FC_ENABLE,     /* unlocked: set lock + enable bits, then go */
	VMX_FC_LOCKED_OFF, /* locked with VMX disabled: firmware forbids VMX */
};

#define FEATURE_CONTROL_LOCK          (1ull << 0)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1ull << 2)

bool vmx_cpuid_has_vmx(uint32_t cpuid1_ecx);
enum vmx_feature_control vmx_feature_control_check(uint64_t value);

/*
 * Check every feature Custos relies on. Returns NULL and fills *caps when
 * all are present, else a short reason naming the first missing feature.
 */
const char *vmx_caps_evaluate(const struct vmx_msrs *m, struct vmx_caps *caps);

/* One human line describing caps (no trailing newline). */
void vmx_caps_describe(const struct vmx_caps *caps, char *buf, size_t len);

/* Apply the VMX fixed-bit MSRs to a CR0/CR4 value (SDM Vol. 3D A.7, A.8). */
static inline uint64_t vmx_apply_fixed(uint64_t cr, uint64_t fixed0,
				       uint64_t fixed1)
{
	return (cr | fixed0) & fixed1;
}

#endif
