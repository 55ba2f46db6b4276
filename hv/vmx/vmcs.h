/* VMCS field encodings (SDM Vol. 3D appendix B) and typed accessors. */
#ifndef CUSTOS_HV_VMCS_H
#define CUSTOS_HV_VMCS_H

#include <custos/types.h>

enum vmcs_field {
	/* 16-bit */
	VMCS_VPID = 0x0000,
	VMCS_GUEST_ES_SEL = 0x0800, VMCS_GUEST_CS_SEL = 0x0802,
	VMCS_GUEST_SS_SEL = 0x0804, VMCS_GUEST_DS_SEL = 0x0806,
	VMCS_GUEST_FS_SEL = 0x0808, VMCS_GUEST_GS_SEL = 0x080a,
	VMCS_GUEST_LDTR_SEL = 0x080c, VMCS_GUEST_TR_SEL = 0x080e,
	VMCS_HOST_ES_SEL = 0x0c00, VMCS_HOST_CS_SEL = 0x0c02,
	VMCS_HOST_SS_SEL = 0x0c04, VMCS_HOST_DS_SEL = 0x0c06,
	VMCS_HOST_FS_SEL = 0x0c08, VMCS_HOST_GS_SEL = 0x0c0a,
	VMCS_HOST_TR_SEL = 0x0c0c,
	/* 64-bit */
	VMCS_IO_BITMAP_A = 0x2000,
	VMCS_IO_BITMAP_B = 0x2002,
	VMCS_MSR_BITMAP = 0x2004,
	VMCS_TSC_OFFSET = 0x2010,
	VMCS_EPT_POINTER = 0x201a,
	VMCS_GUEST_PHYSICAL_ADDRESS = 0x2400,
	VMCS_LINK_POINTER = 0x2800,
	VMCS_GUEST_DEBUGCTL = 0x2802,
	VMCS_GUEST_PAT = 0x2804,
	VMCS_GUEST_EFER = 0x2806,
	VMCS_HOST_PAT = 0x2c00,
	VMCS_HOST_EFER = 0x2c02,
	/* 32-bit */
	VMCS_PIN_CONTROLS = 0x4000,
	VMCS_PROC_CONTROLS = 0x4002,
	VMCS_EXCEPTION_BITMAP = 0x4004,
	VMCS_CR3_TARGET_COUNT = 0x400a,
	VMCS_EXIT_CONTROLS = 0x400c,
	VMCS_EXIT_MSR_STORE_COUNT = 0x400e,
	VMCS_EXIT_MSR_LOAD_COUNT = 0x4010,
	VMCS_ENTRY_CONTROLS = 0x4012,
	VMCS_ENTRY_MSR_LOAD_COUNT = 0x4014,
	VMCS_ENTRY_INTR_INFO = 0x4016,
	VMCS_ENTRY_EXCEPTION_ERROR = 0x4018,
	VMCS_ENTRY_INSTR_LEN = 0x401a,
	VMCS_PROC_CONTROLS2 = 0x401e,
	VMCS_INSTRUCTION_ERROR = 0x4400,
	VMCS_EXIT_REASON = 0x4402,
	VMCS_EXIT_INTR_INFO = 0x4404,
	VMCS_EXIT_INTR_ERROR = 0x4406,
	VMCS_IDT_VECTORING_INFO = 0x4408,
	VMCS_IDT_VECTORING_ERROR = 0x440a,
	VMCS_EXIT_INSTR_LEN = 0x440c,
	VMCS_GUEST_ES_LIMIT = 0x4800, VMCS_GUEST_CS_LIMIT = 0x4802,
	VMCS_GUEST_SS_LIMIT = 0x4804, VMCS_GUEST_DS_LIMIT = 0x4806,
	VMCS_GUEST_FS_LIMIT = 0x4808, VMCS_GUEST_GS_LIMIT = 0x480a,
	VMCS_GUEST_LDTR_LIMIT = 0x480c, VMCS_GUEST_TR_LIMIT = 0x480e,
	VMCS_GUEST_GDTR_LIMIT = 0x4810, VMCS_GUEST_IDTR_LIMIT = 0x4812,
	VMCS_GUEST_ES_AR = 0x4814, VMCS_GUEST_CS_AR = 0x4816,
	VMCS_GUEST_SS_AR = 0x4818, VMCS_GUEST_DS_AR = 0x481a,
	VMCS_GUEST_FS_AR = 0x481c, VMCS_GUEST_GS_AR = 0x481e,
	VMCS_GUEST_LDTR_AR = 0x4820, VMCS_GUEST_TR_AR = 0x4822,
	VMCS_GUEST_INTERRUPTIBILITY = 0x4824,
	VMCS_GUEST_ACTIVITY_STATE = 0x4826,
	VMCS_GUEST_SYSENTER_CS = 0x482a,
	VMCS_PREEMPTION_TIMER = 0x482e,
	VMCS_HOST_SYSENTER_CS = 0x4c00,
	/* natural width */
	VMCS_CR0_MASK = 0x6000, VMCS_CR4_MASK = 0x6002,
	VMCS_CR0_SHADOW = 0x6004, VMCS_CR4_SHADOW = 0x6006,
	VMCS_EXIT_QUALIFICATION = 0x6400,
	VMCS_GUEST_LINEAR_ADDRESS = 0x640a,
	VMCS_GUEST_CR0 = 0x6800, VMCS_GUEST_CR3 = 0x6802, VMCS_GUEST_CR4 = 0x6804,
	VMCS_GUEST_ES_BASE = 0x6806, VMCS_GUEST_CS_BASE = 0x6808,
	VMCS_GUEST_SS_BASE = 0x680a, VMCS_GUEST_DS_BASE = 0x680c,
	VMCS_GUEST_FS_BASE = 0x680e, VMCS_GUEST_GS_BASE = 0x6810,
	VMCS_GUEST_LDTR_BASE = 0x6812, VMCS_GUEST_TR_BASE = 0x6814,
	VMCS_GUEST_GDTR_BASE = 0x6816, VMCS_GUEST_IDTR_BASE = 0x6818,
	VMCS_GUEST_DR7 = 0x681a, VMCS_GUEST_RSP = 0x681c,
	VMCS_GUEST_RIP = 0x681e, VMCS_GUEST_RFLAGS = 0x6820,
	VMCS_GUEST_PENDING_DBG = 0x6822,
	VMCS_GUEST_SYSENTER_ESP = 0x6824, VMCS_GUEST_SYSENTER_EIP = 0x6826,
	VMCS_HOST_CR0 = 0x6c00, VMCS_HOST_CR3 = 0x6c02, VMCS_HOST_CR4 = 0x6c04,
	VMCS_HOST_FS_BASE = 0x6c06, VMCS_HOST_GS_BASE = 0x6c08,
	VMCS_HOST_TR_BASE = 0x6c0a, VMCS_HOST_GDTR_BASE = 0x6c0c,
	VMCS_HOST_IDTR_BASE = 0x6c0e,
	VMCS_HOST_SYSENTER_ESP = 0x6c10, VMCS_HOST_SYSENTER_EIP = 0x6c12,
	VMCS_HOST_RSP = 0x6c14, VMCS_HOST_RIP = 0x6c16,
};

/* A failed VMREAD/VMWRITE on the current VMCS is a TCB bug: it panics,
 * out of line. The accessors themselves are inline: a VM exit's round
 * trip makes about ten of them, and a call costs as many instructions as
 * the access (docs/vm-exits.md, "What an exit costs"). VMX instructions
 * report failure in CF (VMfailInvalid) or ZF (VMfailValid), SDM 31.2;
 * the flag output "na" (CF or ZF) catches both, and the compiler branches
 * on the flags themselves. */
__attribute__((noreturn)) void vmcs_read_failed(enum vmcs_field f);
__attribute__((noreturn)) void vmcs_write_failed(enum vmcs_field f, uint64_t v);

static inline uint64_t vmcs_read(enum vmcs_field f)
{
	uint64_t v;
	bool failed;

	__asm__ volatile("vmread %2, %0"
			 : "=r"(v), "=@ccna"(failed)
			 : "r"((uint64_t)f));
	if (__builtin_expect(failed, 0))
		vmcs_read_failed(f);
	return v;
}

static inline void vmcs_write(enum vmcs_field f, uint64_t v)
{
	bool failed;

	__asm__ volatile("vmwrite %1, %2"
			 : "=@ccna"(failed)
			 : "r"(v), "r"((uint64_t)f)
			 : "memory");
	if (__builtin_expect(failed, 0))
		vmcs_write_failed(f, v);
}

/* VMCLEAR / VMPTRLD of a VMCS region; false on VMfail. */
bool vmcs_clear(uint64_t pa);
bool vmcs_load(uint64_t pa);

#endif
