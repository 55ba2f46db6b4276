/*
 * A minimal x86 decoder for the instructions whose VM exits need their
 * length or operand when the CPU does not give them: SVM without NRIPS
 * (no next RIP in the VMCB) or without decode assists (no GPR for a MOV CR
 * exit). docs/svm.md says how the backend uses it.
 *
 * The bytes are the guest's, read after the exit from its own memory, and
 * the guest controls them: it may have changed the instruction since it
 * ran (the backend must then compare the kind with the exit and stop the
 * VM on a mismatch), pad it with prefixes, or cut it at the end of a
 * mapped page. Only encodings the CPU itself would have executed as that
 * instruction are accepted:
 *   CPUID 0F A2, RDMSR 0F 32, WRMSR 0F 30, HLT F4, CLTS 0F 06,
 *   VMMCALL 0F 01 D9, XSETBV 0F 01 D1, LMSW r16 0F 01 /6 (register form),
 *   MOV r, CRn 0F 20 /r and MOV CRn, r 0F 22 /r for CR0, CR2, CR3, CR4,
 *   CR8 (the ModRM mod field is ignored, as the CPU ignores it; CR8 via
 *   REX.R, or via LOCK with CR0: AMD's alternative encoding, AltMovCr8);
 *   and, in 64-bit mode only, MOV with a memory operand, the accesses of
 *   an emulated MMIO page (the local APIC's): 89 /r (store), 8B /r
 *   (load), C7 /0 id (store of an immediate), any ModRM/SIB/displacement
 *   form (the address itself comes from the exit, not from the decode).
 * Prefixes: segment overrides and 67 anywhere; 66 except before 0F 01;
 * REX in 64-bit mode (only the one right before the opcode counts); LOCK
 * only in LOCK MOV CR0; F2/F3 never (they select other instructions in the
 * 0F map). At most 15 bytes in all, as on the CPU.
 *
 * Portable, no libc: host-tested (tests/unit/test_insn_decode.c, against
 * encodings from the GNU assembler too) and fuzzed
 * (tests/fuzz/fuzz_guest_insn.c).
 */
#ifndef CUSTOS_TCB_INSN_DECODE_H
#define CUSTOS_TCB_INSN_DECODE_H

#include <custos/types.h>
#include "tcb/guest_va.h"

#define INSN_MAX_LEN 15

enum insn_kind {
	INSN_NONE = 0,
	INSN_CPUID,
	INSN_RDMSR,
	INSN_WRMSR,
	INSN_HLT,
	INSN_VMMCALL,
	INSN_XSETBV,
	INSN_CLTS,
	INSN_LMSW,        /* gpr: the source register (low 16 bits used) */
	INSN_MOV_TO_CR,   /* cr := gpr */
	INSN_MOV_FROM_CR, /* gpr := cr */
	INSN_MOV_STORE,   /* memory := gpr (or imm with has_imm), width bytes */
	INSN_MOV_LOAD,    /* gpr := memory, width bytes */
};

struct insn {
	enum insn_kind kind;
	uint8_t len;  /* bytes, prefixes included: the next RIP is RIP + len */
	uint8_t cr;   /* MOV CR: 0, 2, 3, 4 or 8 */
	uint8_t gpr;  /* MOV CR, LMSW, MOV: 0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP,
		       * 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15 */
	uint8_t width;    /* MOV with memory: 2 (66), 4 or 8 (REX.W) */
	bool has_imm;     /* MOV C7: the stored value is imm */
	uint32_t imm;     /* sign-extended to 64 bits with REX.W */
};

enum insn_status {
	INSN_OK = 0,
	INSN_TRUNCATED,   /* the bytes end before the instruction does */
	INSN_TOO_LONG,    /* more than 15 bytes: the CPU raises #GP */
	INSN_BAD_PREFIX,  /* a prefix that faults or changes the instruction */
	INSN_UNKNOWN,     /* none of the instructions above (LMSW from memory too) */
	INSN_BAD_CR,      /* MOV to/from CR1, CR5-CR7, CR9-CR15: #UD on the CPU */
	INSN_NOT_FETCHED, /* insn_fetch: a byte it needed could not be read */
};

/*
 * Decode the instruction at the start of bytes[0..avail). long_mode: the
 * code segment is 64-bit (CS.L with EFER.LMA), where 40-4F are REX
 * prefixes; elsewhere they are instructions. *out is written only with
 * INSN_OK. INSN_TRUNCATED means more bytes might make it decodable; it is
 * never returned for avail >= INSN_MAX_LEN.
 */
enum insn_status insn_decode(const uint8_t *bytes, size_t avail, bool long_mode,
			     struct insn *out);

/*
 * Read the guest's instruction at the linear address rip (in 64-bit mode
 * RIP itself; elsewhere CS.base + EIP) through its page tables and decode
 * it: first the bytes up to the end of rip's page, then, only if the
 * instruction runs on, the rest from the next page, so an instruction at
 * the end of the last mapped page still decodes. Fetches are checked as
 * execution at CPL 3 when user, else at CPL 0. INSN_NOT_FETCHED when a
 * byte the decode needed could not be read (*why says why, if not NULL).
 */
enum insn_status insn_fetch(const struct guest_paging *p, uint64_t rip,
			    bool long_mode, bool user, struct insn *out,
			    enum gva_status *why);

/* "CPUID", "MOV to CR", ...; and "truncated", ...: for log lines. */
const char *insn_kind_name(enum insn_kind k);
const char *insn_status_name(enum insn_status s);

#endif
