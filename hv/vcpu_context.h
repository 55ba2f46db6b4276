/*
 * A vCPU context as a byte string, the part of a sealed blob that holds a
 * VM's CPU state (layout: docs/lifecycle.md, "The vCPU context"). Pure
 * encode and decode, no CPU access, so the layout and every check are
 * host-tested and fuzzed; hv/tenant.c moves the values between this and
 * the vCPU and its control block (through the backend, hv/arch.h).
 *
 * Decode checks everything restoring the context would otherwise trip
 * over: the layout (magic, version, lengths) and each value the TCB loads
 * into the CPU with an instruction that faults on a bad one (MOV to DR6,
 * WRMSR of the syscall MSRs and SPEC_CTRL, XRSTOR/FXRSTOR), so that
 * restoring it afterwards cannot fail.
 */
#ifndef CUSTOS_HV_VCPU_CONTEXT_H
#define CUSTOS_HV_VCPU_CONTEXT_H

#include <custos/types.h>
#include "hv/vcpu.h"
#include "vdev/vplatform.h"

#define VCPU_CONTEXT_MAGIC   0x31585443u /* "CTX1" */
/* 2: CR8 (TPR) and SPEC_CTRL joined the registers.
 * 3: the guest's TSC and its virtual platform (vdev/) joined them. */
#define VCPU_CONTEXT_VERSION 4u
/* The guest-state words a context holds: the state a VM entry loads that
 * the guest can change, in VMX's terms (the VMCS guest-state fields, their
 * order in hv/vmx/vmx_backend.c); the SVM backend converts its VMCB to and
 * from the same words (hv/svm/). */
#define VCPU_CONTEXT_STATE_WORDS 57u

/* The state words by name. Segments are four words each -- selector,
 * base, limit, access rights (VMX format: SDM Vol. 3C 25.4.1; bit 16 set
 * for an unusable segment) -- in the order of enum state_segment. */
enum state_segment { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR };
enum state_word {
	SW_RIP, SW_RSP, SW_RFLAGS, SW_CR0, SW_CR3, SW_CR4,
	SW_CR0_READ_SHADOW, SW_CR4_READ_SHADOW, /* what the guest reads */
	SW_DR7, SW_DEBUGCTL, SW_EFER, SW_PAT,
	SW_SEGMENTS, /* 8 x (selector, base, limit, access rights) */
	SW_GDTR_BASE = SW_SEGMENTS + 32, SW_GDTR_LIMIT, SW_IDTR_BASE, SW_IDTR_LIMIT,
	SW_SYSENTER_CS, SW_SYSENTER_ESP, SW_SYSENTER_EIP,
	SW_INTERRUPTIBILITY, /* bit 0: in an interrupt shadow */
	SW_ACTIVITY, SW_PENDING_DBG,
	SW_EVENT_INFO,       /* an event to inject at the next entry (EVENTINJ
			      * format: vector 7:0, type 10:8, error 11, valid 31) */
	SW_EVENT_ERROR, SW_EVENT_INSN_LEN,
	SW_COUNT,
};
#define SW_SEG(seg, n) (SW_SEGMENTS + 4 * (seg) + (n)) /* n: 0 sel 1 base 2 limit 3 ar */
_Static_assert(SW_COUNT == VCPU_CONTEXT_STATE_WORDS, "state words");

/* An unusable segment's access rights (VMX) and how SVM's VMCB attribute
 * format (APM Vol. 2 15.5.1: descriptor bits 47:40 in 7:0, 55:52 in 11:8)
 * maps to them: a segment that is not present is unusable. */
#define SEG_AR_UNUSABLE 0x10000u
static inline uint32_t seg_ar_from_svm(uint16_t attrib)
{
	return (attrib & 0x80) ? ((attrib & 0xffu) | ((attrib & 0xf00u) << 4))
			       : SEG_AR_UNUSABLE;
}
static inline uint16_t seg_ar_to_svm(uint32_t ar)
{
	return (ar & SEG_AR_UNUSABLE) ? 0 : (uint16_t)((ar & 0xffu) | ((ar >> 4) & 0xf00u));
}
#define VCPU_CONTEXT_HEAD    16u
#define VCPU_CONTEXT_SYSREGS 13u /* the uint64_t fields of vcpu_sysregs */
/* Standard-format XSAVE area: legacy region, then the header. */
#define XSAVE_LEGACY_SIZE 512u
#define XSAVE_HEADER_SIZE 64u

/* What a VM has beyond its CPU: the TSC value it had read last (so its
 * clock continues after a start, on any host) and its devices' state in
 * vplatform_save's layout, which decode passes on unchecked: vplatform_load
 * checks it (hv/tenant.c calls it before anything is restored). */
struct vcpu_context_platform {
	uint64_t guest_tsc;
	uint8_t devices[VPLATFORM_SAVE_SIZE];
};

/* What this CPU and TCB accept, for decode. */
struct vcpu_context_cpu {
	uint32_t xsave_size;      /* bytes of XSAVE (or FXSAVE) image */
	bool xsave;               /* images are XSAVE, not FXSAVE */
	uint64_t xcr0;            /* the XCR0 every guest runs with */
	uint32_t mxcsr_mask;      /* MXCSR bits the CPU accepts */
	unsigned linear_bits;     /* linear-address width: 48 or 57 */
	uint64_t spec_ctrl_bits;  /* SPEC_CTRL bits it has; 0: no SPEC_CTRL */
};

/* Total bytes of a context with an XSAVE image of xsave_size bytes. */
size_t vcpu_context_len(uint32_t xsave_size);

/* Write the context of (gprs, sys, state, xsave) into buf, which holds
 * vcpu_context_len(xsave_size) bytes. */
void vcpu_context_encode(const struct guest_gprs *gprs,
			 const struct vcpu_sysregs *sys,
			 const uint64_t state[VCPU_CONTEXT_STATE_WORDS],
			 const struct vcpu_context_platform *platform,
			 const uint8_t *xsave, uint32_t xsave_size, uint8_t *buf);

/*
 * Read a context made by vcpu_context_encode on this CPU. NULL on success,
 * with gprs, sys, state, platform and xsave (cpu->xsave_size bytes)
 * filled; else the
 * reason in a few words, and nothing written.
 */
const char *vcpu_context_decode(const uint8_t *buf, size_t len,
				const struct vcpu_context_cpu *cpu,
				struct guest_gprs *gprs, struct vcpu_sysregs *sys,
				uint64_t state[VCPU_CONTEXT_STATE_WORDS],
				struct vcpu_context_platform *platform,
				uint8_t *xsave);

#endif
