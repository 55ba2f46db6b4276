/*
 * hcfuzz: throws hypercalls at the TCB and checks each result against the
 * ABI (guest_abi.h): HC_VERSION -> CUSTOS_ABI_VERSION, HC_YIELD -> 0,
 * HC_CONSOLE_WRITE -> the length for a buffer wholly inside its memory and
 * HC_E_FAULT or HC_E_INVAL otherwise, lifecycle numbers and HC_REPORT ->
 * HC_E_DENIED (they are the TPGVM's), anything else -> HC_E_NOSYS. It also
 * checks that every register but RAX comes back unchanged ("Every other
 * register is preserved"). HC_EXIT is
 * never called except for the final, deliberate exit.
 *
 * Three phases: every number in 0..0x1ff once; a list of special numbers
 * (all ones, the sign bit, the ABI numbers with high bits set, which a TCB
 * that truncated RAX would take for real hypercalls); then `iterations`
 * random calls mixing all of these with random 64-bit numbers. Arguments are
 * random. Console writes that should succeed write only the line
 * "hcfuzz: console probe" (or nothing, for length 0), so the transcript
 * stays readable.
 *
 * Output lines:
 *   hcfuzz: start (vm <id>, <mem> MiB)
 *   hcfuzz: vm name '<name>' cmdline '<cmdline>'
 *   hcfuzz: phase sweep | phase special | phase random (<iterations> calls, seed 0x<seed>)
 *   hcfuzz: console probe                 (output of the valid console writes)
 *   hcfuzz: UNEXPECTED nr=0x<nr> args=0x<a0>,0x<a1>,0x<a2>,0x<a3> ret=<r> want=<what>
 *   hcfuzz: UNEXPECTED nr=0x<nr> args=... clobbered <reg> 0x<before> -> 0x<after>
 *       (printed as they happen, before the summary, for the first 10
 *       unexpected results only; <what> is a number, "-4|-2" (HC_E_FAULT or
 *       HC_E_INVAL) or "0|-4|-2")
 *   hcfuzz: <n> hypercalls, <m> unexpected results
 * then hc_exit(0) if m == 0, else hc_exit(1).
 *
 * cmdline: seed=S (default 1; 0 = seed from the TSC), iterations=N
 *          (random phase, default 2000).
 */
#include <string.h>
#include "guests/runtime/guest.h"

#define MAX_REPORTS 10

/* ---- One hypercall with every GPR but RSP checked -------------------------
 * Load all of them (RAX = nr, RDI/RSI/RDX/RCX = arguments, the others known
 * values), the hypercall instruction (the runtime's hypercall_insn, VMCALL
 * or VMMCALL, which changes no register itself), store them all. Operands
 * are globals, addressed RIP-relative, so no register is needed in
 * between; RBP is saved by hand since it may be the frame pointer. */
#define NREGS 15
static const char *const reg_names[NREGS] = {
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
enum { RAX, RBX, RCX, RDX, RSI, RDI, RBP };
static uint64_t regs_in[NREGS], regs_out[NREGS];

#define REGS(X)                                                          \
	X(0, rax) X(8, rbx) X(16, rcx) X(24, rdx) X(32, rsi) X(40, rdi)  \
	X(48, rbp) X(56, r8) X(64, r9) X(72, r10) X(80, r11) X(88, r12)  \
	X(96, r13) X(104, r14) X(112, r15)
#define REG_LOAD(off, r)  "movq " #off "+%[in], %%" #r "\n\t"
#define REG_STORE(off, r) "movq %%" #r ", " #off "+%[out]\n\t"

static void hypercall_all_regs(void)
{
	__asm__ volatile("pushq %%rbp\n\t" REGS(REG_LOAD) "call hypercall_insn\n\t"
			 REGS(REG_STORE) "popq %%rbp"
			 : [out] "=m"(regs_out)
			 : [in] "m"(regs_in)
			 : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9",
			   "r10", "r11", "r12", "r13", "r14", "r15", "cc",
			   "memory");
}

/* ---- Expected results ---------------------------------------------------- */

struct want {
	long v;          /* the one right result, unless any_error */
	bool any_error;  /* HC_E_FAULT or HC_E_INVAL */
	bool zero_ok;    /* with any_error: 0 is right too */
};

static const struct custos_boot_info *boot;

static struct want console_want(uint64_t gpa, uint64_t len)
{
	uint64_t mem = boot->mem_size;

	if (len > HC_CONSOLE_WRITE_MAX || gpa + len < gpa || gpa + len > mem)
		/* An empty write at or past the end touches nothing: whether
		 * that is "wholly inside" is the TCB's call. */
		return (struct want){ 0, true, len == 0 };
	return (struct want){ (long)len, false, false };
}

static struct want want_for(uint64_t nr, const uint64_t a[4])
{
	if (nr == HC_VERSION)
		return (struct want){ CUSTOS_ABI_VERSION, false, false };
	if (nr == HC_YIELD)
		return (struct want){ 0, false, false };
	if (nr == HC_CONSOLE_WRITE)
		return console_want(a[0], a[1]);
	if ((nr >= HC_LIFECYCLE_FIRST && nr <= HC_LIFECYCLE_LAST) ||
	    nr == HC_REPORT)
		return (struct want){ HC_E_DENIED, false, false };
	return (struct want){ HC_E_NOSYS, false, false };
}

static bool want_ok(struct want w, long ret)
{
	if (!w.any_error)
		return ret == w.v;
	return ret == HC_E_FAULT || ret == HC_E_INVAL || (w.zero_ok && ret == 0);
}

/* ---- Calls --------------------------------------------------------------- */

static uint64_t rng;
static uint64_t calls, unexpected;
static const char probe[] = "hcfuzz: console probe\n";

static void report_head(uint64_t nr, const uint64_t a[4])
{
	con_printf("hcfuzz: UNEXPECTED nr=0x%lx args=0x%lx,0x%lx,0x%lx,0x%lx ",
		   nr, a[0], a[1], a[2], a[3]);
}

static void call(uint64_t nr, const uint64_t a[4])
{
	if (nr == HC_EXIT)
		return; /* only at the very end */

	regs_in[RAX] = nr;
	regs_in[RDI] = a[0];
	regs_in[RSI] = a[1];
	regs_in[RDX] = a[2];
	regs_in[RCX] = a[3];
	for (int i = 0; i < NREGS; i++)
		if (i != RAX && i != RDI && i != RSI && i != RDX && i != RCX)
			regs_in[i] = 0x4843000000000000ull | (uint64_t)i << 32 |
				     (xorshift64(&rng) & 0xffffffff);
	hypercall_all_regs();
	calls++;

	long ret = (long)regs_out[RAX];
	struct want w = want_for(nr, a);
	int clobbered = -1;
	for (int i = 1; i < NREGS && clobbered < 0; i++)
		if (regs_out[i] != regs_in[i])
			clobbered = i;
	if (want_ok(w, ret) && clobbered < 0)
		return;

	if (unexpected++ >= MAX_REPORTS)
		return;
	report_head(nr, a);
	if (clobbered >= 0) {
		con_printf("clobbered %s 0x%lx -> 0x%lx\n", reg_names[clobbered],
			   regs_in[clobbered], regs_out[clobbered]);
	} else if (!w.any_error) {
		con_printf("ret=%ld want=%ld\n", ret, w.v);
	} else {
		con_printf("ret=%ld want=%s\n", ret, w.zero_ok ? "0|-4|-2" : "-4|-2");
	}
}

/* Console-write arguments, valid and invalid, in the classes the ABI
 * distinguishes. */
static void console_args(uint64_t a[4])
{
	uint64_t mem = boot->mem_size;
	uint64_t r = xorshift64(&rng);
	uint64_t k = 1 + r % HC_CONSOLE_WRITE_MAX; /* 1..MAX */

	switch (xorshift64(&rng) % 8) {
	case 0: /* valid: prints the probe line */
		a[0] = (uint64_t)(uintptr_t)probe;
		a[1] = strlen(probe);
		break;
	case 1: /* valid, empty, anywhere inside */
		a[0] = 0x1000 + r % (mem - 0x1000);
		a[1] = 0;
		break;
	case 2: /* wholly beyond mem_size */
		a[0] = mem + r % (1ull << 40);
		a[1] = k;
		break;
	case 3: /* gpa + len wraps around: gpa in [2^64 - len, 2^64) */
		a[0] = 0 - 1 - xorshift64(&rng) % k;
		a[1] = k;
		break;
	case 4: /* too long, from a valid address; near the limit or huge */
		a[0] = (uint64_t)(uintptr_t)probe;
		a[1] = HC_CONSOLE_WRITE_MAX + 1 + (r & 1 ? r >> 1 : r % 16);
		break;
	case 5: /* starts inside, ends past mem_size */
		a[0] = mem - k;
		a[1] = k + 1 + r % 64;
		break;
	case 6: /* starts exactly at mem_size */
		a[0] = mem;
		a[1] = 1 + r % 8;
		break;
	default: /* anything */
		a[0] = r;
		a[1] = xorshift64(&rng);
		break;
	}
}

static void random_args(uint64_t nr, uint64_t a[4])
{
	for (int i = 0; i < 4; i++)
		a[i] = xorshift64(&rng);
	if (nr == HC_CONSOLE_WRITE)
		console_args(a);
}

static void call_random_args(uint64_t nr)
{
	uint64_t a[4];

	random_args(nr, a);
	call(nr, a);
}

/* Numbers worth trying besides 0..0x1ff: edges of 64-bit arithmetic, and the
 * real numbers with bits set above 32 or at the sign, which only a TCB that
 * compares all 64 bits of RAX tells apart from the real ones. The HC_EXIT
 * look-alikes pass 0xbad as the "exit code", so a wrongful exit is
 * recognisable in the TCB's log. */
static const uint64_t specials[] = {
	0xffffffffffffffffull, 0x8000000000000000ull, 0x7fffffffffffffffull,
	0x00000000ffffffffull, 0x0000000080000000ull, 0x0000000100000000ull,
	0x0000000000000200ull, 0x000000000000ffffull, 0x0000000000010000ull,
	0x0000000100000001ull, 0x0000000100000002ull, 0x0000000100000003ull,
	0x0000000100000100ull, 0x8000000000000000ull | HC_YIELD,
	0x8000000000000000ull | HC_EXIT, 0x8000000000000000ull | HC_CONSOLE_WRITE,
	0x8000000000000000ull | HC_VM_CREATE,
	0xffffffff00000002ull, 0xffffffff00000100ull,
	(uint64_t)HC_E_NOSYS, (uint64_t)HC_E_DENIED,
};

static uint64_t random_nr(void)
{
	uint64_t r = xorshift64(&rng);

	switch (r % 8) {
	case 0: case 1: case 2:
		return (r >> 8) % 0x200;
	case 3:
		return HC_CONSOLE_WRITE;
	case 4:
		return HC_LIFECYCLE_FIRST + (r >> 8) % (HC_LIFECYCLE_LAST - HC_LIFECYCLE_FIRST + 1);
	case 5:
		return (r >> 8) % 2 ? HC_VERSION : HC_YIELD;
	case 6:
		return specials[(r >> 8) % (sizeof(specials) / sizeof(specials[0]))];
	default:
		return xorshift64(&rng);
	}
}

int guest_main(const struct custos_boot_info *bi)
{
	guest_init(bi, "hcfuzz");
	boot = bi;
	uint64_t seed = cmdline_u64(bi, "seed", 1);
	uint64_t iterations = cmdline_u64(bi, "iterations", 2000);
	if (seed == 0)
		seed = rdtsc();
	rng = seed ? seed : 1; /* xorshift must not start at 0 */

	con_printf("hcfuzz: phase sweep\n");
	for (uint64_t nr = 0; nr < 0x200; nr++)
		call_random_args(nr);

	con_printf("hcfuzz: phase special\n");
	for (size_t i = 0; i < sizeof(specials) / sizeof(specials[0]); i++) {
		uint64_t a[4] = { 0xbad, 0, 0, 0 };
		call(specials[i], a);
	}

	con_printf("hcfuzz: phase random (%lu calls, seed 0x%lx)\n", iterations, seed);
	for (uint64_t i = 0; i < iterations; i++) {
		uint64_t nr = random_nr();
		if (nr == HC_EXIT)
			nr = HC_VERSION;
		call_random_args(nr);
	}

	con_printf("hcfuzz: %lu hypercalls, %lu unexpected results\n", calls,
		   unexpected);
	hc_exit(unexpected ? 1 : 0);
}
