/*
 * The instruction decoder (tcb/insn_decode.c): every MOV to/from CR0, CR2,
 * CR3, CR4, CR8 with every GPR, and the fixed instructions, as the GNU
 * assembler encodes them in 64-bit and 32-bit code (an encoder that is not
 * ours), then prefixes, REX placement, LOCK's CR8, the 15-byte limit,
 * truncation, encodings the CPU would fault on, MOV with every memory
 * operand shape (the accesses of an emulated APIC page), and fetching through the
 * guest's page tables across a page end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "tcb/insn_decode.h"

/* Each sample in a 16-byte slot of insn_samples, its length (by the
 * assembler's own labels) at the same index of insn_lens. */
#define SAMPLE(insn)                                        \
	".pushsection .rodata.insn_samples, \"a\"\n"        \
	".balign 16, 0xcc\n"                                \
	"661: " insn "\n"                                   \
	"662:\n"                                            \
	".popsection\n"                                     \
	".pushsection .rodata.insn_lens, \"a\"\n"           \
	".byte 662b - 661b\n"                               \
	".popsection\n"

#define GPRS64 "rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15"
#define GPRS32 "eax, ecx, edx, ebx, esp, ebp, esi, edi"

__asm__(
	".pushsection .rodata.insn_samples, \"a\"\n.balign 16\ninsn_samples:\n.popsection\n"
	".pushsection .rodata.insn_lens, \"a\"\ninsn_lens:\n.popsection\n"
	".code64\n"
	/* 0..159: 64-bit, for each CR and each GPR: to, from */
	".irp cr, 0, 2, 3, 4, 8\n"
	".irp reg, " GPRS64 "\n"
	SAMPLE("mov %\\reg, %cr\\cr")
	SAMPLE("mov %cr\\cr, %\\reg")
	".endr\n.endr\n"
	/* 160..167: 64-bit fixed */
	SAMPLE("cpuid") SAMPLE("rdmsr") SAMPLE("wrmsr") SAMPLE("hlt")
	SAMPLE("vmmcall") SAMPLE("xsetbv") SAMPLE("clts") SAMPLE("lmsw %r9w")
	/* 168..247: 32-bit, for each CR and each GPR: to, from (CR8 by LOCK) */
	".code32\n"
	".irp cr, 0, 2, 3, 4, 8\n"
	".irp reg, " GPRS32 "\n"
	SAMPLE("mov %\\reg, %cr\\cr")
	SAMPLE("mov %cr\\cr, %\\reg")
	".endr\n.endr\n"
	/* 248..251: 32-bit fixed */
	SAMPLE("cpuid") SAMPLE("hlt") SAMPLE("vmmcall") SAMPLE("lmsw %si")
	".code64\n"
	".pushsection .rodata.insn_lens, \"a\"\ninsn_lens_end:\n.popsection\n");

extern const uint8_t insn_samples[], insn_lens[], insn_lens_end[];

/* MOV with a memory operand, every ModRM/SIB/displacement shape Linux's
 * APIC accessors and others produce, each with every 32-bit GPR. */
#define MOV_SAMPLE(insn)                                    \
	".pushsection .rodata.mov_samples, \"a\"\n"          \
	".balign 16, 0xcc\n"                                \
	"661: " insn "\n"                                   \
	"662:\n"                                            \
	".popsection\n"                                     \
	".pushsection .rodata.mov_lens, \"a\"\n"             \
	".byte 662b - 661b\n"                               \
	".popsection\n"
#define GPRD "eax, ecx, edx, ebx, esp, ebp, esi, edi, r8d, r9d, r10d, r11d, r12d, r13d, r14d, r15d"
#define MOV_SHAPES 8

__asm__(
	".pushsection .rodata.mov_samples, \"a\"\n.balign 16\nmov_samples:\n.popsection\n"
	".pushsection .rodata.mov_lens, \"a\"\nmov_lens:\n.popsection\n"
	".code64\n"
	".irp reg, " GPRD "\n"
	MOV_SAMPLE("mov %\\reg, 0xffffffffff5fd0b0")     /* absolute: SIB, disp32 */
	MOV_SAMPLE("mov 0xffffffffff5fd020, %\\reg")
	MOV_SAMPLE("mov %\\reg, -0xa03000(%rdi)")        /* disp32 */
	MOV_SAMPLE("mov -0x10(%r13), %\\reg")            /* disp8 */
	MOV_SAMPLE("mov %\\reg, (%rax,%r12,4)")          /* SIB */
	MOV_SAMPLE("mov 0x30(%rsp), %\\reg")             /* SIB with rsp */
	MOV_SAMPLE("mov %\\reg, 0x100(%rip)")            /* RIP-relative */
	MOV_SAMPLE("mov (%rbp), %\\reg")                 /* mod 1, disp8 0 */
	".endr\n"
	MOV_SAMPLE("movl $0x12345678, 0xb0(%r12)")
	MOV_SAMPLE("movq $-2, (%rax)")
	MOV_SAMPLE("movw $0xbeef, 0x300(%rip)")
	MOV_SAMPLE("mov %rsi, 8(%rdx)")
	MOV_SAMPLE("mov %gs:0x10(%rcx), %ax")
	".pushsection .rodata.mov_lens, \"a\"\nmov_lens_end:\n.popsection\n");

extern const uint8_t mov_samples[], mov_lens[], mov_lens_end[];

static const unsigned crs[] = { 0, 2, 3, 4, 8 };

static struct insn decode_ok(const uint8_t *b, size_t avail, bool long_mode)
{
	struct insn i;

	memset(&i, 0xa5, sizeof(i));
	assert_int_equal(insn_decode(b, avail, long_mode, &i), INSN_OK);
	return i;
}

static void check_sample(unsigned n, bool long_mode, enum insn_kind kind,
			 unsigned cr, unsigned gpr)
{
	const uint8_t *b = insn_samples + 16 * n;
	struct insn i = decode_ok(b, 16, long_mode);

	if (i.kind != kind || i.len != insn_lens[n] ||
	    ((kind == INSN_MOV_TO_CR || kind == INSN_MOV_FROM_CR) &&
	     (i.cr != cr || i.gpr != gpr)) ||
	    (kind == INSN_LMSW && i.gpr != gpr))
		fail_msg("sample %u (%02x %02x %02x %02x): %s len %u cr %u gpr %u; "
			 "want %s len %u cr %u gpr %u", n, b[0], b[1], b[2], b[3],
			 insn_kind_name(i.kind), i.len, i.cr, i.gpr,
			 insn_kind_name(kind), insn_lens[n], cr, gpr);
	/* Exactly its own bytes: one fewer is truncated. */
	struct insn t;
	assert_int_equal(insn_decode(b, insn_lens[n] - 1u, long_mode, &t),
			 INSN_TRUNCATED);
	assert_int_equal(insn_decode(b, insn_lens[n], long_mode, &t), INSN_OK);
}

static void test_assembler_encodings(void **state)
{
	(void)state;
	unsigned n = 0;

	assert_int_equal(insn_lens_end - insn_lens, 252);
	for (unsigned c = 0; c < 5; c++)
		for (unsigned r = 0; r < 16; r++) {
			check_sample(n++, true, INSN_MOV_TO_CR, crs[c], r);
			check_sample(n++, true, INSN_MOV_FROM_CR, crs[c], r);
		}
	check_sample(n++, true, INSN_CPUID, 0, 0);
	check_sample(n++, true, INSN_RDMSR, 0, 0);
	check_sample(n++, true, INSN_WRMSR, 0, 0);
	check_sample(n++, true, INSN_HLT, 0, 0);
	check_sample(n++, true, INSN_VMMCALL, 0, 0);
	check_sample(n++, true, INSN_XSETBV, 0, 0);
	check_sample(n++, true, INSN_CLTS, 0, 0);
	check_sample(n++, true, INSN_LMSW, 0, 9);
	for (unsigned c = 0; c < 5; c++)
		for (unsigned r = 0; r < 8; r++) {
			check_sample(n++, false, INSN_MOV_TO_CR, crs[c], r);
			check_sample(n++, false, INSN_MOV_FROM_CR, crs[c], r);
		}
	check_sample(n++, false, INSN_CPUID, 0, 0);
	check_sample(n++, false, INSN_HLT, 0, 0);
	check_sample(n++, false, INSN_VMMCALL, 0, 0);
	check_sample(n++, false, INSN_LMSW, 0, 6);
	assert_int_equal(n, 252);
}

static void check_mov(unsigned n, enum insn_kind kind, unsigned gpr,
		      unsigned width, bool has_imm, uint32_t imm)
{
	const uint8_t *b = mov_samples + 16 * n;
	struct insn i = decode_ok(b, 16, true), t;

	if (i.kind != kind || i.len != mov_lens[n] || i.width != width ||
	    i.has_imm != has_imm || (has_imm ? i.imm != imm : i.gpr != gpr))
		fail_msg("mov sample %u (%02x %02x %02x %02x): %s len %u gpr %u "
			 "width %u imm %d %#x; want %s len %u gpr %u width %u", n,
			 b[0], b[1], b[2], b[3], insn_kind_name(i.kind), i.len,
			 i.gpr, i.width, i.has_imm, i.imm, insn_kind_name(kind),
			 mov_lens[n], gpr, width);
	assert_int_equal(insn_decode(b, mov_lens[n] - 1u, true, &t), INSN_TRUNCATED);
	assert_int_equal(insn_decode(b, mov_lens[n], true, &t), INSN_OK);
}

static void test_mov_memory_encodings(void **state)
{
	unsigned n = 0;

	(void)state;
	assert_int_equal(mov_lens_end - mov_lens, 16 * MOV_SHAPES + 5);
	for (unsigned r = 0; r < 16; r++)
		for (unsigned k = 0; k < MOV_SHAPES; k++)
			check_mov(n++, k % 2 ? INSN_MOV_LOAD : INSN_MOV_STORE, r, 4,
				  false, 0);
	check_mov(n++, INSN_MOV_STORE, 0, 4, true, 0x12345678);
	check_mov(n++, INSN_MOV_STORE, 0, 8, true, 0xfffffffeu);
	check_mov(n++, INSN_MOV_STORE, 0, 2, true, 0xbeef);
	check_mov(n++, INSN_MOV_STORE, 6, 8, false, 0);
	check_mov(n++, INSN_MOV_LOAD, 0, 2, false, 0);
}

#define BYTES(...) ((const uint8_t[]){ __VA_ARGS__ }), \
	sizeof((const uint8_t[]){ __VA_ARGS__ })

static enum insn_status st(const uint8_t *b, size_t n, bool long_mode)
{
	struct insn i;

	return insn_decode(b, n, long_mode, &i);
}

static void test_prefixes(void **state)
{
	(void)state;
	struct insn i;

	/* Segment overrides, 66 and 67 are ignored and counted. */
	i = decode_ok(BYTES(0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65, 0x66, 0x67, 0x0f, 0xa2), true);
	assert_int_equal(i.kind, INSN_CPUID);
	assert_int_equal(i.len, 10);
	i = decode_ok(BYTES(0x66, 0xf4), false);
	assert_int_equal(i.kind, INSN_HLT);
	assert_int_equal(i.len, 2);
	/* REX.W on RDMSR: ignored, counted. */
	i = decode_ok(BYTES(0x48, 0x0f, 0x32), true);
	assert_int_equal(i.kind, INSN_RDMSR);
	assert_int_equal(i.len, 3);
	/* Only the REX right before the opcode counts: REX.B then 66 -> RAX;
	 * 66 then REX.B -> R8. */
	i = decode_ok(BYTES(0x41, 0x66, 0x0f, 0x22, 0xc0), true);
	assert_int_equal(i.gpr, 0);
	assert_int_equal(i.len, 5);
	i = decode_ok(BYTES(0x66, 0x41, 0x0f, 0x22, 0xc0), true);
	assert_int_equal(i.gpr, 8);
	i = decode_ok(BYTES(0x44, 0x41, 0x0f, 0x20, 0xc3), true); /* last REX wins */
	assert_int_equal(i.cr, 0);
	assert_int_equal(i.gpr, 11);
	/* Outside 64-bit mode, 40-4F are instructions (INC/DEC). */
	assert_int_equal(st(BYTES(0x41, 0x0f, 0xa2), false), INSN_UNKNOWN);
	/* F2/F3 select other instructions (F3 0F 01 D9 is VMGEXIT): refused. */
	assert_int_equal(st(BYTES(0xf3, 0x0f, 0x01, 0xd9), true), INSN_BAD_PREFIX);
	assert_int_equal(st(BYTES(0xf2, 0x0f, 0xa2), true), INSN_BAD_PREFIX);
	assert_int_equal(st(BYTES(0xf3, 0xf4), false), INSN_BAD_PREFIX);
	assert_int_equal(st(BYTES(0xf3, 0x0f, 0x22, 0xc0), true), INSN_BAD_PREFIX);
	/* 66 in the 0F 01 group: another instruction, refused. */
	assert_int_equal(st(BYTES(0x66, 0x0f, 0x01, 0xd9), true), INSN_BAD_PREFIX);
	assert_int_equal(st(BYTES(0x66, 0x0f, 0x01, 0xd1), true), INSN_BAD_PREFIX);
	i = decode_ok(BYTES(0x67, 0x2e, 0x0f, 0x01, 0xd9), true);
	assert_int_equal(i.kind, INSN_VMMCALL);
	assert_int_equal(i.len, 5);
	/* LOCK: #UD on all of these, so the CPU never ran them. */
	assert_int_equal(st(BYTES(0xf0, 0x0f, 0xa2), true), INSN_BAD_PREFIX);
	assert_int_equal(st(BYTES(0xf0, 0xf4), true), INSN_BAD_PREFIX);
	assert_int_equal(st(BYTES(0xf0, 0x0f, 0x01, 0xd9), true), INSN_BAD_PREFIX);
	assert_int_equal(st(BYTES(0xf0, 0x0f, 0x30), true), INSN_BAD_PREFIX);
}

static void test_lock_mov_cr(void **state)
{
	(void)state;
	struct insn i;

	/* LOCK MOV CR0 is CR8 in both modes (AltMovCr8). */
	i = decode_ok(BYTES(0xf0, 0x0f, 0x22, 0xc1), true);
	assert_int_equal(i.kind, INSN_MOV_TO_CR);
	assert_int_equal(i.cr, 8);
	assert_int_equal(i.gpr, 1);
	i = decode_ok(BYTES(0xf0, 0x0f, 0x20, 0xc7), false);
	assert_int_equal(i.kind, INSN_MOV_FROM_CR);
	assert_int_equal(i.cr, 8);
	assert_int_equal(i.gpr, 7);
	/* ...with any other CR, or CR0 named with REX.R: refused. */
	assert_int_equal(st(BYTES(0xf0, 0x0f, 0x22, 0xe0), true), INSN_BAD_PREFIX);
	assert_int_equal(st(BYTES(0xf0, 0x44, 0x0f, 0x22, 0xc0), true), INSN_BAD_PREFIX);
}

static void test_mov_cr_encodings(void **state)
{
	(void)state;
	struct insn i;

	/* The mod field is ignored: 00 behaves as 11. */
	i = decode_ok(BYTES(0x0f, 0x22, 0x18), true); /* CR3, RAX */
	assert_int_equal(i.cr, 3);
	assert_int_equal(i.gpr, 0);
	assert_int_equal(i.len, 3);
	/* No SIB or displacement follows, whatever mod says. */
	i = decode_ok(BYTES(0x0f, 0x20, 0x64, 0xff, 0xff), true); /* CR4, RSP */
	assert_int_equal(i.len, 3);
	assert_int_equal(i.cr, 4);
	assert_int_equal(i.gpr, 4);
	/* CR1, CR5-7 and CR9-15 do not exist. */
	const uint8_t bad_reg[] = { 1, 5, 6, 7 };
	for (size_t k = 0; k < sizeof(bad_reg); k++) {
		uint8_t m = (uint8_t)(0xc0 | bad_reg[k] << 3);
		assert_int_equal(st(BYTES(0x0f, 0x22, m), true), INSN_BAD_CR);
		assert_int_equal(st(BYTES(0x0f, 0x20, m), false), INSN_BAD_CR);
	}
	for (uint8_t r = 1; r < 8; r++) {
		uint8_t m = (uint8_t)(0xc0 | r << 3);
		assert_int_equal(st(BYTES(0x44, 0x0f, 0x22, m), true), INSN_BAD_CR);
	}
}

static void test_length_limit_and_truncation(void **state)
{
	(void)state;
	uint8_t b[32];
	struct insn i;

	/* 13 prefixes + 0F A2 = 15 bytes: the longest the CPU runs. */
	memset(b, 0x2e, sizeof(b));
	b[13] = 0x0f;
	b[14] = 0xa2;
	i = decode_ok(b, sizeof(b), true);
	assert_int_equal(i.len, 15);
	/* One prefix more: 16 bytes, #GP on the CPU. */
	memset(b, 0x2e, sizeof(b));
	b[14] = 0x0f;
	b[15] = 0xa2;
	assert_int_equal(st(b, sizeof(b), true), INSN_TOO_LONG);
	/* ...even when the bytes end there: never "truncated" at 15. */
	assert_int_equal(st(b, 15, true), INSN_TOO_LONG);
	memset(b, 0x66, sizeof(b));
	assert_int_equal(st(b, sizeof(b), true), INSN_TOO_LONG);
	/* A MOV CR whose ModRM would be byte 16. */
	memset(b, 0x26, sizeof(b));
	b[13] = 0x0f;
	b[14] = 0x22;
	assert_int_equal(st(b, sizeof(b), true), INSN_TOO_LONG);
	/* Truncated anywhere before the end. */
	assert_int_equal(st(BYTES(0x66), true), INSN_TRUNCATED);
	assert_int_equal(st(BYTES(0x0f), true), INSN_TRUNCATED);
	assert_int_equal(st(BYTES(0x0f, 0x01), true), INSN_TRUNCATED);
	assert_int_equal(st(BYTES(0x44, 0x0f, 0x22), true), INSN_TRUNCATED);
	assert_int_equal(st(b, 0, true), INSN_TRUNCATED);
	/* Truncation is decided before a bad prefix is: more bytes may show
	 * an unknown opcode, which is the better answer then. */
	assert_int_equal(st(BYTES(0xf3, 0x0f), true), INSN_TRUNCATED);
	assert_int_equal(st(BYTES(0xf3, 0x90), true), INSN_UNKNOWN);
}

static void test_unknown(void **state)
{
	(void)state;
	/* Other opcodes, the other 0F 01 instructions, LMSW from memory. */
	assert_int_equal(st(BYTES(0x90), true), INSN_UNKNOWN);
	assert_int_equal(st(BYTES(0x0f, 0x31), true), INSN_UNKNOWN);   /* RDTSC */
	assert_int_equal(st(BYTES(0x0f, 0x01, 0xd8), true), INSN_UNKNOWN); /* VMRUN */
	assert_int_equal(st(BYTES(0x0f, 0x01, 0xf9), true), INSN_UNKNOWN); /* RDTSCP */
	assert_int_equal(st(BYTES(0x0f, 0x01, 0xc1), true), INSN_UNKNOWN); /* VMCALL */
	assert_int_equal(st(BYTES(0x0f, 0x01, 0x30), true), INSN_UNKNOWN); /* LMSW [rax] */
	assert_int_equal(st(BYTES(0x0f, 0x01, 0x70, 0x10), true), INSN_UNKNOWN);
	assert_int_equal(st(BYTES(0x0f, 0x0f), true), INSN_UNKNOWN);
	/* MOV between registers has no memory operand; C7 /1 is not MOV;
	 * outside 64-bit mode MOV is not decoded (16-bit addressing). */
	assert_int_equal(st(BYTES(0x89, 0xc8), true), INSN_UNKNOWN);
	assert_int_equal(st(BYTES(0x8b, 0xc1), true), INSN_UNKNOWN);
	assert_int_equal(st(BYTES(0xc7, 0x08, 1, 2, 3, 4), true), INSN_UNKNOWN);
	assert_int_equal(st(BYTES(0x89, 0x07), false), INSN_UNKNOWN);
	/* LOCK and REP are not MOV's. */
	assert_int_equal(st(BYTES(0xf0, 0x89, 0x07), true), INSN_BAD_PREFIX);
	assert_int_equal(st(BYTES(0xf3, 0x8b, 0x07), true), INSN_BAD_PREFIX);
	/* *out is untouched on any error. */
	struct insn i = { INSN_HLT, 7, 7, 7, 7, false, 7 };
	assert_int_equal(insn_decode(BYTES(0x90), true, &i), INSN_UNKNOWN);
	assert_int_equal(i.kind, INSN_HLT);
	assert_int_equal(i.len, 7);
}

/* ---- insn_fetch through page tables ---------------------------------- */

#define MEM_SIZE 0x10000u
static uint8_t mem[MEM_SIZE];

static bool read_mem(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
		return false;
	memcpy(buf, mem + gpa, len);
	return true;
}

/* A guest with paging: PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000;
 * virtual 0x400000 + n pages -> physical 0x8000 + n pages for the
 * first pt_pages pages, each page's flags given. */
static struct guest_paging paged(const uint64_t *flags, unsigned pt_pages)
{
	uint64_t *pml4 = (uint64_t *)(mem + 0x1000), *pdpt = (uint64_t *)(mem + 0x2000);
	uint64_t *pd = (uint64_t *)(mem + 0x3000), *pt = (uint64_t *)(mem + 0x4000);

	memset(mem, 0, 0x5000);
	pml4[0] = 0x2000 | 7;
	pdpt[0] = 0x3000 | 7;
	pd[2] = 0x4000 | 7;
	for (unsigned n = 0; n < pt_pages; n++)
		pt[n] = (0x8000 + 0x1000 * n) | flags[n];
	return (struct guest_paging){
		.cr0 = (1ull << 31) | (1ull << 16) | 1, .cr3 = 0x1000,
		.cr4 = 1ull << 5, .efer = (1ull << 8) | (1ull << 10) | (1ull << 11),
		.maxphyaddr = 40, .read = read_mem,
	};
}

static void test_fetch_across_page_end(void **state)
{
	(void)state;
	const uint64_t flags[2] = { 1 | 2, 1 | 2 };
	struct guest_paging g = paged(flags, 2);
	enum gva_status why;
	struct insn i;

	/* 66 0F 22 | C3 across virtual 0x401000 (physical 0x8fff / 0x9000:
	 * adjacent here, but read through the second page's own entry). */
	memcpy(mem + 0x8ffd, (const uint8_t[]){ 0x66, 0x0f, 0x22 }, 3);
	mem[0x9000] = 0xe3; /* CR4, RBX */
	assert_int_equal(insn_fetch(&g, 0x400ffd, true, false, &i, &why), INSN_OK);
	assert_int_equal(i.kind, INSN_MOV_TO_CR);
	assert_int_equal(i.len, 4);
	assert_int_equal(i.cr, 4);
	assert_int_equal(i.gpr, 3);
	assert_int_equal(why, GVA_OK);
	/* The second page not present: the instruction cannot be read... */
	uint64_t *pt = (uint64_t *)(mem + 0x4000);
	pt[1] = 0;
	assert_int_equal(insn_fetch(&g, 0x400ffd, true, false, &i, &why),
			 INSN_NOT_FETCHED);
	assert_int_equal(why, GVA_NOT_PRESENT);
	/* ...but one that ends on the last mapped byte still decodes. */
	memcpy(mem + 0x8ffe, (const uint8_t[]){ 0x0f, 0xa2 }, 2);
	assert_int_equal(insn_fetch(&g, 0x400ffe, true, false, &i, NULL), INSN_OK);
	assert_int_equal(i.kind, INSN_CPUID);
	assert_int_equal(i.len, 2);
	/* Not executable, or a user fetch from a supervisor page. */
	pt[0] |= 1ull << 63;
	assert_int_equal(insn_fetch(&g, 0x400ffe, true, false, &i, &why),
			 INSN_NOT_FETCHED);
	assert_int_equal(why, GVA_DENIED);
	pt[0] &= ~(1ull << 63);
	assert_int_equal(insn_fetch(&g, 0x400ffe, true, true, &i, &why),
			 INSN_NOT_FETCHED);
	pt[0] |= 4;
	assert_int_equal(insn_fetch(&g, 0x400ffe, true, true, &i, &why), INSN_OK);
	/* Not mapped at all. */
	assert_int_equal(insn_fetch(&g, 0x800000, true, false, &i, &why),
			 INSN_NOT_FETCHED);
	assert_int_equal(why, GVA_NOT_PRESENT);
}

static void test_fetch_decode_errors_pass_through(void **state)
{
	(void)state;
	const uint64_t flags[1] = { 1 };
	struct guest_paging g = paged(flags, 1);
	enum gva_status why = GVA_DENIED;
	struct insn i;

	/* A page of prefixes: too long, not a fetch problem. */
	memset(mem + 0x8000, 0x2e, 0x1000);
	assert_int_equal(insn_fetch(&g, 0x400100, true, false, &i, &why),
			 INSN_TOO_LONG);
	assert_int_equal(why, GVA_OK);
	mem[0x8200] = 0x90;
	assert_int_equal(insn_fetch(&g, 0x400200, true, false, &i, &why),
			 INSN_UNKNOWN);
	/* Without paging: linear = physical. */
	g.cr0 = 1;
	memcpy(mem + 0x8000, (const uint8_t[]){ 0x0f, 0x30 }, 2);
	assert_int_equal(insn_fetch(&g, 0x8000, false, false, &i, &why), INSN_OK);
	assert_int_equal(i.kind, INSN_WRMSR);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(insn_kind_name(INSN_CPUID), "CPUID");
	assert_string_equal(insn_kind_name(INSN_MOV_TO_CR), "MOV to CR");
	for (int k = INSN_NONE; k <= INSN_MOV_FROM_CR; k++)
		assert_string_not_equal(insn_kind_name((enum insn_kind)k), "?");
	for (int s = INSN_OK; s <= INSN_NOT_FETCHED; s++)
		assert_string_not_equal(insn_status_name((enum insn_status)s), "?");
	assert_string_equal(insn_kind_name((enum insn_kind)99), "?");
	assert_string_equal(insn_status_name((enum insn_status)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assembler_encodings),
		cmocka_unit_test(test_mov_memory_encodings),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_lock_mov_cr),
		cmocka_unit_test(test_mov_cr_encodings),
		cmocka_unit_test(test_length_limit_and_truncation),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_fetch_across_page_end),
		cmocka_unit_test(test_fetch_decode_errors_pass_through),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
