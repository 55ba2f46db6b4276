/*
 * The guest runtime: what every Custos test guest links with. Entry code,
 * the COM1 console, hypercall stubs, boot-info checks, command-line parsing
 * and a few CPU helpers. Everything here is built with -mgeneral-regs-only,
 * so no runtime code ever touches an XMM/YMM register (secretkeeper and
 * regspy rely on that).
 */
#ifndef GUESTS_RUNTIME_GUEST_H
#define GUESTS_RUNTIME_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <custos/guest_abi.h>

/* ---- entry.S ---------------------------------------------------------- */

/* Each guest defines this; _start calls it and passes its return value to
 * hc_exit(). */
int guest_main(const struct custos_boot_info *bi);

/* The GPRs and RFLAGS exactly as the TCB handed them to _start, saved before
 * any other instruction ran (regspy reports them). Indices: */
enum entry_reg {
	ENTRY_RAX, ENTRY_RBX, ENTRY_RCX, ENTRY_RDX, ENTRY_RSI, ENTRY_RDI,
	ENTRY_RBP, ENTRY_RSP, ENTRY_R8, ENTRY_R9, ENTRY_R10, ENTRY_R11,
	ENTRY_R12, ENTRY_R13, ENTRY_R14, ENTRY_R15, ENTRY_RFLAGS,
	ENTRY_NREGS
};
extern uint64_t guest_entry_regs[ENTRY_NREGS];
extern const char *const guest_entry_reg_names[ENTRY_NREGS];

/* From guests/guest.ld. */
extern char __image_start[], __image_end[];

/* ---- console.c: the virtual 16550 at COM1 ----------------------------- */

void con_putc(char c);
void con_write(const char *s, size_t len);
/* Formats into a 256-byte buffer (longer output is cut) and writes it.
 * Callers end their lines with '\n'. */
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- hypercall.c, hypercall_insn.S ------------------------------------- */

/* Which hypercall instruction this CPU's hypervisor takes: VMMCALL on AMD
 * and Hygon (SVM), VMCALL elsewhere (VMX), from CPUID leaf 0's vendor.
 * _start calls hypercall_select() before guest_main. hypercall_insn
 * executes the chosen one: RAX and the arguments loaded, `call
 * hypercall_insn`; only RAX and RFLAGS change. */
extern uint8_t hypercall_use_vmmcall;
void hypercall_select(void);
void hypercall_insn(void);

long hypercall(unsigned long nr, unsigned long a0, unsigned long a1,
	       unsigned long a2, unsigned long a3);
long hc_version(void);
long hc_yield(void);
long hc_console_write(const void *buf, size_t len);
/* HC_REPORT (TPGVM only): a signed platform report for req into out (cap
 * bytes). The report's length, or HC_E_*. */
long hc_report(const struct custos_report_request *req, void *out, size_t cap);
__attribute__((noreturn)) void hc_exit(unsigned long code);
/* Lifecycle hypercalls (TPGVM only; guest_abi.h, docs/lifecycle.md). Each
 * takes its request struct; the result or HC_E_*. */
long hc_vm_create(const struct hc_vm_create *req);
long hc_vm_load(const struct hc_vm_load *req);
long hc_vm_start(const struct hc_vm_start *req);
long hc_vm_stop(const struct hc_vm_stop *req);
long hc_vm_destroy(const struct hc_vm_ref *ref);
long hc_vm_query(const struct hc_vm_query *req);
long hc_vm_console_read(const struct hc_vm_console_read *req);
/* The stream calls write blob_len and done back into *req. */
long hc_vm_stop_stream(struct hc_vm_stream *req);
long hc_vm_start_stream(struct hc_vm_stream *req);

/* ---- boot.c ------------------------------------------------------------ */

/* The program name ("hello", "counter", ...): the prefix of every line. */
extern const char *guest_prog;

/*
 * Check bi (magic, ABI version, mem_size a multiple of GUEST_MEM_ALIGN in
 * [GUEST_MEM_MIN, GUEST_MEM_MAX]; on failure print "<prog>: bad boot info"
 * and hc_exit(3)), then print
 *   "<prog>: start (vm <id>, <mem> MiB)"
 *   "<prog>: vm name '<bi->name>' cmdline '<bi->cmdline>'"
 */
void guest_init(const struct custos_boot_info *bi, const char *prog);

/* ---- cmdline.c: "key=value" words of bi->cmdline ------------------------ */

/* Copy the value of the first word "key=..." into val (NUL-terminated,
 * cut to val_len - 1). False if there is no such word. */
bool cmdline_get(const struct custos_boot_info *bi, const char *key,
		 char *val, size_t val_len);
/* Parse a decimal or 0x-prefixed hex number at *s, advancing *s past it.
 * False (and *s unchanged) if there is no number or it overflows. */
bool parse_u64(const char **s, uint64_t *out);
/* The number given as key=N, or dflt if absent. A value that is not a
 * number prints "<prog>: bad value for <key>, using <dflt>". */
uint64_t cmdline_u64(const struct custos_boot_info *bi, const char *key,
		     uint64_t dflt);
/* key=a,b,c: up to max numbers into out; returns how many. Stops at the
 * first one that is not a number, printing
 * "<prog>: bad value in <key> at '<rest>'". */
size_t cmdline_u64_list(const struct custos_boot_info *bi, const char *key,
			uint64_t *out, size_t max);

/* ---- CPU helpers ------------------------------------------------------ */

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
	__asm__ volatile("cpuid"
			 : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(subleaf));
}

/* CR8, the task-priority register (bits 3:0). Each access exits to the
 * TCB, which keeps the value per vCPU. */
static inline uint64_t read_cr8(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr8, %0" : "=r"(v));
	return v;
}

static inline void write_cr8(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr8" : : "r"(v) : "memory");
}

static inline void hlt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}

/* AVX usable: CPUID.1:ECX.OSXSAVE[27] and .AVX[28], and XCR0 enables the SSE
 * and AVX state (bits 1 and 2). */
bool cpu_avx_usable(void);

/* ---- xorshift64 PRNG (not for secrets: for test inputs) --------------- */

static inline uint64_t xorshift64(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

#endif
