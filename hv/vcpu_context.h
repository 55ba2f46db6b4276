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

#define VCPU_CONTEXT_MAGIC   0x31585443u /* "CTX1" */
/* 2: CR8 (TPR) and SPEC_CTRL joined the registers. */
#define VCPU_CONTEXT_VERSION 2u
/* The guest-state words a context holds: the state a VM entry loads that
 * the guest can change, in VMX's terms (the VMCS guest-state fields, their
 * order in hv/vmx/vmx_backend.c); the SVM backend converts its VMCB to and
 * from the same words (hv/svm/). */
#define VCPU_CONTEXT_STATE_WORDS 57u
#define VCPU_CONTEXT_HEAD    16u
#define VCPU_CONTEXT_SYSREGS 13u /* the uint64_t fields of vcpu_sysregs */
/* Standard-format XSAVE area: legacy region, then the header. */
#define XSAVE_LEGACY_SIZE 512u
#define XSAVE_HEADER_SIZE 64u

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
			 const uint8_t *xsave, uint32_t xsave_size, uint8_t *buf);

/*
 * Read a context made by vcpu_context_encode on this CPU. NULL on success,
 * with gprs, sys, state and xsave (cpu->xsave_size bytes) filled; else the
 * reason in a few words, and nothing written.
 */
const char *vcpu_context_decode(const uint8_t *buf, size_t len,
				const struct vcpu_context_cpu *cpu,
				struct guest_gprs *gprs, struct vcpu_sysregs *sys,
				uint64_t state[VCPU_CONTEXT_STATE_WORDS],
				uint8_t *xsave);

#endif
