/*
 * The register-holding asm (hold.h). Built with -mavx so that the asm may
 * name XMM registers in its clobber list; the file holds nothing but asm
 * statements, so the compiler has no code of its own in which to use a
 * vector register.
 *
 * All memory operands are globals, which the compiler addresses RIP-relative
 * (no register needed while every GPR holds a pattern, and unaffected by the
 * push of RBP). RBP is saved and restored by hand rather than listed as a
 * clobber, because the compiler may use it as the frame pointer.
 */
#include "guests/common/hold.h"

struct hold_set hold_in, hold_out;
static uint64_t hold_spin;

const char *const hold_gpr_names[HOLD_NGPR] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* X(byte offset in hold_set.gpr, register), in hold_gpr_names order. */
#define GPRS(X)                                                         \
	X(0, rax) X(8, rbx) X(16, rcx) X(24, rdx) X(32, rsi) X(40, rdi)  \
	X(48, rbp) X(56, r8) X(64, r9) X(72, r10) X(80, r11) X(88, r12)  \
	X(96, r13) X(104, r14) X(112, r15)
#define GPR_LOAD(off, r)  "movq " #off "+%[gin], %%" #r "\n\t"
#define GPR_STORE(off, r) "movq %%" #r ", " #off "+%[gout]\n\t"

/* X(byte offset in hold_set.vec, register number). */
#define VECS(X)                                                          \
	X(0, 0) X(32, 1) X(64, 2) X(96, 3) X(128, 4) X(160, 5) X(192, 6)  \
	X(224, 7) X(256, 8) X(288, 9) X(320, 10) X(352, 11) X(384, 12)    \
	X(416, 13) X(448, 14) X(480, 15)
#define YMM_LOAD(off, n)  "vmovdqu " #off "+%[vin], %%ymm" #n "\n\t"
#define YMM_STORE(off, n) "vmovdqu %%ymm" #n ", " #off "+%[vout]\n\t"
#define XMM_LOAD(off, n)  "movdqu " #off "+%[vin], %%xmm" #n "\n\t"
#define XMM_STORE(off, n) "movdqu %%xmm" #n ", " #off "+%[vout]\n\t"

/* The spin: nothing but a memory counter, so every held register stays
 * exactly as loaded. */
#define SPIN "1:\n\tdecq %[spin]\n\tjnz 1b\n\t"

#define HOLD_CLOBBERS                                                     \
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", \
	"r12", "r13", "r14", "r15", "xmm0", "xmm1", "xmm2", "xmm3",         \
	"xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11",   \
	"xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory"

void hold_run(uint64_t spins, bool avx)
{
	hold_spin = spins ? spins : 1;
	if (avx)
		__asm__ volatile("pushq %%rbp\n\t"
				 VECS(YMM_LOAD) GPRS(GPR_LOAD)
				 SPIN
				 GPRS(GPR_STORE) VECS(YMM_STORE)
				 "popq %%rbp"
				 : [gout] "=m"(hold_out.gpr),
				   [vout] "=m"(hold_out.vec),
				   [spin] "+m"(hold_spin)
				 : [gin] "m"(hold_in.gpr), [vin] "m"(hold_in.vec)
				 : HOLD_CLOBBERS);
	else
		__asm__ volatile("pushq %%rbp\n\t"
				 VECS(XMM_LOAD) GPRS(GPR_LOAD)
				 SPIN
				 GPRS(GPR_STORE) VECS(XMM_STORE)
				 "popq %%rbp"
				 : [gout] "=m"(hold_out.gpr),
				   [vout] "+m"(hold_out.vec),
				   [spin] "+m"(hold_spin)
				 : [gin] "m"(hold_in.gpr), [vin] "m"(hold_in.vec)
				 : HOLD_CLOBBERS);
}

void hold_capture_vec(bool avx)
{
	if (avx)
		__asm__ volatile(VECS(YMM_STORE) : [vout] "=m"(hold_out.vec));
	else
		__asm__ volatile(VECS(XMM_STORE) : [vout] "+m"(hold_out.vec));
}

/* The caller-saved GPRs but RAX (the result) and every vector register:
 * the call may use the former, and the asm loads the latter. */
#define CALL_CLOBBERS                                                     \
	"rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "xmm0", "xmm1", \
	"xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9",       \
	"xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "cc", "memory"

/* RSP is aligned to 16 for the call by hand (the asm may sit anywhere in
 * the frame); RBP keeps the old value. */
#define CALL_FN                                                   \
	"pushq %%rbp\n\tmovq %%rsp, %%rbp\n\tandq $-16, %%rsp\n\t"   \
	"movq %[arg], %%rdi\n\tcall *%[fn]\n\t"                      \
	"movq %%rbp, %%rsp\n\tpopq %%rbp\n\t"

long hold_vec_call(long (*fn)(void *), void *arg, bool avx)
{
	long ret;

	if (avx)
		__asm__ volatile(VECS(YMM_LOAD) CALL_FN VECS(YMM_STORE)
				 : "=a"(ret), [vout] "=m"(hold_out.vec)
				 : [vin] "m"(hold_in.vec), [fn] "r"(fn), [arg] "r"(arg)
				 : CALL_CLOBBERS);
	else
		__asm__ volatile(VECS(XMM_LOAD) CALL_FN VECS(XMM_STORE)
				 : "=a"(ret), [vout] "+m"(hold_out.vec)
				 : [vin] "m"(hold_in.vec), [fn] "r"(fn), [arg] "r"(arg)
				 : CALL_CLOBBERS);
	return ret;
}
