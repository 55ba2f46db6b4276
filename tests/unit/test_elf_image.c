/*
 * Unit tests for the ELF64 guest image validator (tcb/elf_image.c).
 *
 * Images are built in memory by a small builder: a valid ELF64 header, the
 * program headers right after it, and payload bytes wherever the segments
 * say their file bytes are. Each rejection test starts from a valid image
 * and breaks exactly one field, so a pass means that field's check works.
 *
 * If build/guests/NAME.elf files exist (the real guests), a second group parses each.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tcb/elf_image.h"
#include "tcb/elf_place.h"
#include "guarded.h"

#define MIN_GPA 0x100000ull
#define MAX_GPA 0x400000ull /* 4 MiB */

/* Field offsets (ELF-64 Object File Format 1.5). */
#define E_IDENT_CLASS 4
#define E_IDENT_DATA  5
#define E_IDENT_VER   6
#define E_TYPE        16
#define E_MACHINE     18
#define E_VERSION     20
#define E_ENTRY       24
#define E_PHOFF       32
#define E_EHSIZE      52
#define E_PHENTSIZE   54
#define E_PHNUM       56
#define P_TYPE        0
#define P_FLAGS       4
#define P_OFFSET      8
#define P_VADDR       16
#define P_PADDR       24
#define P_FILESZ      32
#define P_MEMSZ       40
#define P_ALIGN       48

#define PT_LOAD      1u
#define PT_DYNAMIC   2u
#define PT_INTERP    3u
#define PT_NOTE      4u
#define PT_GNU_STACK 0x6474e551u
#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

/* ---- Builder ------------------------------------------------------------- */

#define IMG_MAX 0x10000

static uint8_t img[IMG_MAX];
static size_t img_len;
static size_t img_phnum;
static struct elf_image out;
static char err[256];

static void put16(size_t off, uint16_t v)
{
	assert_true(off + 2 <= IMG_MAX);
	img[off] = (uint8_t)v;
	img[off + 1] = (uint8_t)(v >> 8);
}

static void put32(size_t off, uint32_t v)
{
	put16(off, (uint16_t)v);
	put16(off + 2, (uint16_t)(v >> 16));
}

static void put64(size_t off, uint64_t v)
{
	put32(off, (uint32_t)v);
	put32(off + 4, (uint32_t)(v >> 32));
}

static size_t ph(size_t i)
{
	return 64 + 56 * i;
}

/* A valid header with no program headers yet. */
static void img_begin(uint64_t entry)
{
	static const uint8_t ident[16] = { 0x7f, 'E', 'L', 'F', 2, 1, 1 };

	memset(img, 0, sizeof(img));
	memcpy(img, ident, sizeof(ident));
	put16(E_TYPE, 2);       /* ET_EXEC */
	put16(E_MACHINE, 62);   /* EM_X86_64 */
	put32(E_VERSION, 1);
	put64(E_ENTRY, entry);
	put64(E_PHOFF, 64);
	put16(E_EHSIZE, 64);
	put16(E_PHENTSIZE, 56);
	put16(E_PHNUM, 0);
	img_phnum = 0;
	img_len = 64;
}

/*
 * Append a program header (p_paddr = p_vaddr = gpa) and, if its file bytes
 * lie within IMG_MAX, extend the image to cover them with a byte pattern.
 * Returns the header's index.
 */
static size_t img_phdr(uint32_t type, uint32_t flags, uint64_t offset,
		       uint64_t gpa, uint64_t filesz, uint64_t memsz)
{
	size_t i = img_phnum++;

	put32(ph(i) + P_TYPE, type);
	put32(ph(i) + P_FLAGS, flags);
	put64(ph(i) + P_OFFSET, offset);
	put64(ph(i) + P_VADDR, gpa);
	put64(ph(i) + P_PADDR, gpa);
	put64(ph(i) + P_FILESZ, filesz);
	put64(ph(i) + P_MEMSZ, memsz);
	put64(ph(i) + P_ALIGN, 0x1000);
	put16(E_PHNUM, (uint16_t)img_phnum);
	if (img_len < ph(img_phnum))
		img_len = ph(img_phnum);
	if (offset <= IMG_MAX && filesz <= IMG_MAX - offset &&
	    offset + filesz > img_len) {
		for (size_t b = img_len; b < offset + filesz; b++)
			img[b] = (uint8_t)(b * 7 + 1);
		img_len = (size_t)(offset + filesz);
	}
	return i;
}

static size_t img_load(uint32_t flags, uint64_t offset, uint64_t gpa,
		       uint64_t filesz, uint64_t memsz)
{
	return img_phdr(PT_LOAD, flags, offset, gpa, filesz, memsz);
}

/* One R+X segment of 0x200 bytes at 0x100000, entry 0x100010. */
static void img_one_segment(void)
{
	img_begin(0x100010);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x200, 0x200);
}

/* text R+X, rodata R, data R+W with 0x2f00 bytes of bss; entry in text. */
static void img_three_segments(void)
{
	img_begin(0x100080);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x1000, 0x1000);
	img_load(PF_R, 0x2000, 0x101000, 0x800, 0x800);
	img_load(PF_R | PF_W, 0x3000, 0x102000, 0x100, 0x3000);
}

/* ---- Checking helpers ---------------------------------------------------- */

static int parse_range(uint64_t min_gpa, uint64_t max_gpa)
{
	memset(err, 'x', sizeof(err));
	return elf_image_parse(img, img_len, min_gpa, max_gpa, &out, err,
			       sizeof(err));
}

static int parse(void)
{
	return parse_range(MIN_GPA, MAX_GPA);
}

/* Parsing must fail with a message containing 'needle'. */
static void reject_range(uint64_t min_gpa, uint64_t max_gpa,
			 const char *needle)
{
	int rc = parse_range(min_gpa, max_gpa);

	assert_non_null(memchr(err, 0, sizeof(err)));
	if (rc != -1 || !strstr(err, needle))
		fail_msg("expected failure containing \"%s\", got rc %d, \"%s\"",
			 needle, rc, rc ? err : "");
}

static void reject(const char *needle)
{
	reject_range(MIN_GPA, MAX_GPA, needle);
}

static void accept(void)
{
	int rc = parse();

	if (rc != 0)
		fail_msg("expected success, got \"%s\"", err);
	assert_string_equal(err, "");
}

static void assert_segment(size_t i, uint64_t gpa, uint64_t offset,
			   uint64_t filesz, uint64_t memsz, uint32_t flags)
{
	const struct elf_segment *s = &out.segments[i];

	assert_true(i < out.segment_count);
	assert_int_equal(s->gpa, gpa);
	assert_int_equal(s->file_offset, offset);
	assert_int_equal(s->file_size, filesz);
	assert_int_equal(s->mem_size, memsz);
	assert_int_equal(s->flags, flags);
}

/* ---- Valid images -------------------------------------------------------- */

static void test_valid_one_segment(void **state)
{
	(void)state;
	img_one_segment();
	assert_int_equal(img_len, 0x1200);
	accept();
	assert_int_equal(out.entry, 0x100010);
	assert_int_equal(out.segment_count, 1);
	assert_segment(0, 0x100000, 0x1000, 0x200, 0x200, PF_R | PF_X);
	assert_int_equal(out.lowest_gpa, 0x100000);
	assert_int_equal(out.highest_gpa, 0x100200);
}

/* tcb/elf_place.c: init data and secrets page-aligned above the image,
 * all below mem_size - reserve; one byte more is refused, in words. */
static void test_place_fits_to_the_byte(void **state)
{
	const uint64_t mem = 2ull << 20, reserve = 0x10000;
	struct elf_placement p;
	uint64_t room;

	(void)state;
	img_three_segments(); /* highest 0x105000 */
	assert_int_equal(elf_place(img, img_len, mem, reserve, 0x1001, 16, &p, err,
				   sizeof(err)), 0);
	assert_int_equal(p.init_gpa, 0x105000);
	assert_int_equal(p.secrets_gpa, 0x107000);
	room = mem - reserve - p.secrets_gpa;
	assert_int_equal(elf_place(img, img_len, mem, reserve, 0x1001, room, &p, err,
				   sizeof(err)), 0);
	assert_int_equal(elf_place(img, img_len, mem, reserve, 0x1001, room + 1, &p,
				   err, sizeof(err)), -1);
	assert_string_equal(err, "image, init data and secrets do not fit in 2 MiB");
	assert_int_equal(elf_place(img, img_len, mem, reserve, mem, 0, &p, err,
				   sizeof(err)), -1);
	/* the ELF's own refusal comes through unchanged */
	put16(E_TYPE, 3);
	assert_int_equal(elf_place(img, img_len, mem, reserve, 0, 0, &p, err,
				   sizeof(err)), -1);
	assert_non_null(strstr(err, "not ET_EXEC"));
	/* a memory size below any image: refused, no wrap */
	img_three_segments();
	assert_int_equal(elf_place(img, img_len, 0x10000, reserve, 0, 0, &p, err,
				   sizeof(err)), -1);
}

static void test_valid_three_segments(void **state)
{
	(void)state;
	img_three_segments();
	assert_int_equal(img_len, 0x3100);
	accept();
	assert_int_equal(out.entry, 0x100080);
	assert_int_equal(out.segment_count, 3);
	assert_segment(0, 0x100000, 0x1000, 0x1000, 0x1000, PF_R | PF_X);
	assert_segment(1, 0x101000, 0x2000, 0x800, 0x800, PF_R);
	assert_segment(2, 0x102000, 0x3000, 0x100, 0x3000, PF_R | PF_W);
	assert_int_equal(out.lowest_gpa, 0x100000);
	assert_int_equal(out.highest_gpa, 0x105000);
}

/* lowest/highest come from the addresses, not from the header order. */
static void test_valid_segments_out_of_order(void **state)
{
	(void)state;
	img_begin(0x200004);
	img_load(PF_R | PF_W, 0x3000, 0x300000, 0x10, 0x20);
	img_load(PF_R | PF_X, 0x1000, 0x200000, 0x10, 0x10);
	img_load(PF_R, 0x2000, 0x280000, 0x10, 0x10);
	accept();
	assert_int_equal(out.segment_count, 3);
	assert_segment(0, 0x300000, 0x3000, 0x10, 0x20, PF_R | PF_W);
	assert_segment(1, 0x200000, 0x1000, 0x10, 0x10, PF_R | PF_X);
	assert_int_equal(out.lowest_gpa, 0x200000);
	assert_int_equal(out.highest_gpa, 0x300020);
}

/*
 * Non-PT_LOAD headers other than PT_INTERP/PT_DYNAMIC, and PT_LOAD headers
 * with p_memsz == 0 (whatever their other fields), contribute nothing.
 * Flag bits outside PF_R|PF_W|PF_X are dropped.
 */
static void test_ignored_headers(void **state)
{
	(void)state;
	img_begin(0x100080);
	img_phdr(PT_NOTE, PF_R, 0x500, 0, 0x10, 0x10);
	img_phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
	img_load(PF_R | PF_X | 0xf0000000u, 0x1000, 0x100000, 0x1000, 0x1000);
	/* memsz 0: out of range, off the file, paddr != vaddr: all ignored. */
	img_load(PF_R, UINT64_MAX, 0x10, 0, 0);
	put64(ph(3) + P_PADDR, 0x12345);
	img_load(PF_R, 0x2000, 0x100000, 0, 0); /* would overlap segment 0 */
	img_phdr(0x70000000u, 0, 0, 0, 0, 0);  /* processor-specific */
	img_load(PF_R | PF_W, 0x2000, 0x101000, 0x10, 0x10);
	accept();
	assert_int_equal(out.segment_count, 2);
	assert_segment(0, 0x100000, 0x1000, 0x1000, 0x1000, PF_R | PF_X);
	assert_segment(1, 0x101000, 0x2000, 0x10, 0x10, PF_R | PF_W);
	assert_int_equal(out.highest_gpa, 0x101010);
}

/* Boundaries that are inside the rules must be accepted. */
static void test_valid_boundaries(void **state)
{
	(void)state;
	/* Segment exactly [min_gpa, max_gpa), file bytes end at the end. */
	img_begin(MAX_GPA - 1);
	img_load(PF_X, 0x100, MIN_GPA, 0x10, MAX_GPA - MIN_GPA);
	accept();
	assert_int_equal(out.lowest_gpa, MIN_GPA);
	assert_int_equal(out.highest_gpa, MAX_GPA);

	/* Entry at the first byte; filesz 0 with offset == file length. */
	img_begin(0x100000);
	img_load(PF_R | PF_X, 64 + 56, 0x100000, 0, 0x1000);
	accept();
	assert_int_equal(out.segments[0].file_offset, img_len);

	/* Segments in adjacent pages are not an overlap. */
	img_begin(0x100000);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x10, 0x1000);
	img_load(PF_R | PF_W, 0x2000, 0x101000, 0x10, 0x10);
	accept();

	/* The top of the address space, ending exactly at max_gpa. */
	img_begin(0xffffffffffffe000ull);
	img_load(PF_R | PF_X, 0x1000, 0xffffffffffffe000ull, 0x10, 0x1000);
	assert_int_equal(parse_range(0x100000, 0xfffffffffffff000ull), 0);

	/* Exactly ELF_MAX_SEGMENTS segments. */
	img_begin(0x100000);
	for (size_t i = 0; i < ELF_MAX_SEGMENTS; i++)
		img_load(PF_R | PF_X, 0x1000 + 0x10 * i, 0x100000 + 0x1000 * i,
			 0x10, 0x10);
	accept();
	assert_int_equal(out.segment_count, ELF_MAX_SEGMENTS);
	assert_int_equal(out.highest_gpa, 0x107010);
}

/* ---- Header rejections --------------------------------------------------- */

static void test_reject_bad_magic(void **state)
{
	(void)state;
	for (size_t i = 0; i < 4; i++) {
		img_one_segment();
		img[i] ^= 0x20;
		reject("not an ELF file (bad magic)");
		assert_string_equal(err, "not an ELF file (bad magic)");
	}
}

static void test_reject_class(void **state)
{
	static const uint8_t bad[] = { 0, 1, 3, 0xff };

	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++) {
		img_one_segment();
		img[E_IDENT_CLASS] = bad[i];
		reject("is not ELFCLASS64");
	}
	img_one_segment();
	img[E_IDENT_CLASS] = 1;
	reject("ELF class 1 is not ELFCLASS64 (2)");
}

static void test_reject_big_endian(void **state)
{
	(void)state;
	img_one_segment();
	img[E_IDENT_DATA] = 2;
	reject("ELF data encoding 2 is not little-endian");
	img[E_IDENT_DATA] = 0;
	reject("ELF data encoding 0 is not little-endian");
}

static void test_reject_ident_version(void **state)
{
	(void)state;
	img_one_segment();
	img[E_IDENT_VER] = 0;
	reject("e_ident version 0");
}

static void test_reject_machine(void **state)
{
	(void)state;
	img_one_segment();
	put16(E_MACHINE, 3); /* EM_386 */
	reject("e_machine 3 is not EM_X86_64");
	put16(E_MACHINE, 183); /* EM_AARCH64 */
	reject("e_machine 183 is not EM_X86_64");
	put16(E_MACHINE, 62 | 0x100);
	reject("e_machine 318");
}

static void test_reject_type(void **state)
{
	(void)state;
	img_one_segment();
	put16(E_TYPE, 3); /* ET_DYN */
	reject("e_type 3 is not ET_EXEC");
	put16(E_TYPE, 1); /* ET_REL */
	reject("e_type 1 is not ET_EXEC");
	put16(E_TYPE, 4); /* ET_CORE */
	reject("e_type 4");
	put16(E_TYPE, 2 | 0x100);
	reject("e_type 258");
}

static void test_reject_version(void **state)
{
	(void)state;
	img_one_segment();
	put32(E_VERSION, 0);
	reject("e_version 0 is not EV_CURRENT");
	put32(E_VERSION, 0x101);
	reject("e_version 257");
}

static void test_reject_ehsize(void **state)
{
	(void)state;
	img_one_segment();
	put16(E_EHSIZE, 52);
	reject("e_ehsize 52 is not 64");
}

static void test_reject_phentsize(void **state)
{
	static const uint16_t bad[] = { 0, 32, 55, 57, 64, 0xffff };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		img_one_segment();
		put16(E_PHENTSIZE, bad[i]);
		reject("e_phentsize");
	}
}

static void test_reject_phdr_table_outside_file(void **state)
{
	(void)state;
	/* The table starts past the end. */
	img_one_segment();
	put64(E_PHOFF, img_len + 1);
	reject("program header table at offset 0x1201 with 1 entries");
	/* Starts inside, ends one byte past the end. */
	img_one_segment();
	memcpy(img + img_len - 55, img + ph(0), 55);
	put64(E_PHOFF, img_len - 55);
	reject("does not fit in the 4608-byte file");
	/* Too many entries for the file. */
	img_one_segment();
	put16(E_PHNUM, (uint16_t)((img_len - 64) / 56 + 1));
	reject("does not fit");
	/* A table ending exactly at the end of the file is fine. */
	img_one_segment();
	memcpy(img + img_len - 56, img + ph(0), 56);
	put64(E_PHOFF, img_len - 56);
	accept();
}

static void test_reject_phdr_table_overflow(void **state)
{
	static const uint64_t bad[] = {
		UINT64_MAX, UINT64_MAX - 55, UINT64_MAX - 55 * 2,
		0 - 56ull * 2, /* + 2 * 56 == 2^64 */
		0x8000000000000000ull,
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		img_one_segment();
		put16(E_PHNUM, 2);
		put64(E_PHOFF, bad[i]);
		reject("does not fit");
	}
}

static void test_reject_pn_xnum(void **state)
{
	(void)state;
	img_one_segment();
	put16(E_PHNUM, 0xffff);
	reject("PN_XNUM");
}

static void test_reject_header_too_short(void **state)
{
	(void)state;
	img_one_segment();
	img_len = 63;
	reject("file of 63 bytes is shorter than the 64-byte ELF64 header");
	img_len = 0;
	reject("file of 0 bytes");
}

/* ---- Program header rejections ------------------------------------------ */

static void test_reject_no_load_segment(void **state)
{
	(void)state;
	img_begin(0x100000);
	reject("no PT_LOAD segment");
	img_phdr(PT_NOTE, PF_R, 0x100, 0x100000, 0x10, 0x10);
	img_phdr(PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0);
	reject("no PT_LOAD segment");
	img_load(PF_R | PF_X, 0x100, 0x100000, 0, 0);
	reject("no PT_LOAD segment with p_memsz > 0");
}

static void test_reject_too_many_segments(void **state)
{
	(void)state;
	img_begin(0x100000);
	for (size_t i = 0; i <= ELF_MAX_SEGMENTS; i++)
		img_load(PF_R | PF_X, 0x1000 + 0x10 * i, 0x100000 + 0x1000 * i,
			 0x10, 0x10);
	reject("program header 8: more than 8 PT_LOAD segments");
}

static void test_reject_interp(void **state)
{
	(void)state;
	img_one_segment();
	img_phdr(PT_INTERP, PF_R, 0x1000, 0x100000, 0x1c, 0x1c);
	reject("program header 1: PT_INTERP present");
	/* Before any PT_LOAD, as linkers put it. */
	img_begin(0x100010);
	img_phdr(PT_INTERP, PF_R, 0x1000, 0x100000, 0x1c, 0x1c);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x200, 0x200);
	reject("program header 0: PT_INTERP present");
}

static void test_reject_dynamic(void **state)
{
	(void)state;
	img_one_segment();
	img_phdr(PT_DYNAMIC, PF_R | PF_W, 0x1100, 0x100100, 0x100, 0x100);
	reject("program header 1: PT_DYNAMIC present");
}

static void test_reject_filesz_above_memsz(void **state)
{
	(void)state;
	img_one_segment();
	put64(ph(0) + P_MEMSZ, 0x1ff);
	reject("program header 0: p_filesz 0x200 exceeds p_memsz 0x1ff");
}

static void test_reject_file_bytes_past_end(void **state)
{
	(void)state;
	/* One byte too many. */
	img_one_segment();
	put64(ph(0) + P_FILESZ, 0x201);
	put64(ph(0) + P_MEMSZ, 0x201);
	reject("program header 0: file bytes at offset 0x1000, size 0x201, extend past the end of the 4608-byte file");
	/* Offset past the end, even with nothing to copy. */
	img_one_segment();
	put64(ph(0) + P_OFFSET, img_len + 1);
	put64(ph(0) + P_FILESZ, 0);
	reject("extend past the end");
	/* offset + filesz wraps to a small number. */
	img_one_segment();
	put64(ph(0) + P_OFFSET, UINT64_MAX - 0xff);
	reject("extend past the end");
	img_one_segment();
	put64(ph(0) + P_OFFSET, 0x1000);
	put64(ph(0) + P_FILESZ, UINT64_MAX - 0xfff);
	put64(ph(0) + P_MEMSZ, UINT64_MAX);
	reject("extend past the end");
}

static void test_reject_below_min(void **state)
{
	(void)state;
	img_one_segment();
	put64(ph(0) + P_VADDR, 0xff000);
	put64(ph(0) + P_PADDR, 0xff000);
	reject("program header 0: segment at 0xff000 is below the loadable range [0x100000, 0x400000)");
	put64(ph(0) + P_VADDR, 0);
	put64(ph(0) + P_PADDR, 0);
	reject("below the loadable range");
	/* One byte below: rounding down must not hide it. */
	put64(ph(0) + P_VADDR, 0xfffff);
	put64(ph(0) + P_PADDR, 0xfffff);
	reject("below the loadable range");
}

static void test_reject_above_max(void **state)
{
	(void)state;
	img_begin(0x100000);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x10, MAX_GPA - MIN_GPA + 1);
	reject("program header 0: segment [0x100000, 0x400001) ends above the loadable range [0x100000, 0x400000)");
	/* Starting at or above the top. */
	img_begin(0x100000);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x10, 0x10);
	img_load(PF_R, 0x1000, MAX_GPA, 0x10, 0x10);
	reject("program header 1: segment [0x400000, 0x400010) ends above");
	img_begin(0x100000);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x10, 0x10);
	img_load(PF_R, 0x1000, 0x7000000000000000ull, 0x10, 0x10);
	reject("ends above");
}

static void test_reject_wrap(void **state)
{
	(void)state;
	img_one_segment();
	put64(ph(0) + P_MEMSZ, UINT64_MAX);
	reject("program header 0: segment at 0x100000 of 0xffffffffffffffff bytes wraps past 2^64");
	/* Wrapping to exactly 0, with a loadable range up to the top. */
	img_begin(0xffffffffffffe000ull);
	img_load(PF_R | PF_X, 0x1000, 0xffffffffffffe000ull, 0x10, 0x2000);
	reject_range(0x100000, 0xfffffffffffff000ull, "wraps past 2^64");
	/* Wrapping to just below the range's end must not look inside it. */
	img_one_segment();
	put64(ph(0) + P_MEMSZ, UINT64_MAX - 0xfffff + 0x1000);
	reject("wraps past 2^64");
}

static void test_reject_paddr_vaddr(void **state)
{
	(void)state;
	img_one_segment();
	put64(ph(0) + P_PADDR, 0x200000);
	reject("program header 0: p_paddr 0x200000 differs from p_vaddr 0x100000");
	img_one_segment();
	put64(ph(0) + P_VADDR, 0xffffffff80100000ull);
	reject("differs from p_vaddr 0xffffffff80100000");
}

static void test_reject_overlap(void **state)
{
	(void)state;
	/* The same range twice. */
	img_begin(0x100000);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x10, 0x10);
	img_load(PF_R, 0x1000, 0x100000, 0x10, 0x10);
	reject("program header 1: segment pages [0x100000, 0x101000) overlap those of program header 0 [0x100000, 0x101000)");
	/* Partial overlap, reported against the right earlier header. */
	img_begin(0x100000);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x10, 0x10);
	img_phdr(PT_NOTE, PF_R, 0x1000, 0, 0x10, 0x10);
	img_load(PF_R, 0x1000, 0x200000, 0x10, 0x3000);
	img_load(PF_R | PF_W, 0x1000, 0x202000, 0x10, 0x3000);
	reject("program header 3: segment pages [0x202000, 0x205000) overlap those of program header 2 [0x200000, 0x203000)");
	/* One segment inside another. */
	img_begin(0x100000);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x10, 0x10000);
	img_load(PF_R, 0x1000, 0x104000, 0x10, 0x10);
	reject("overlap those of program header 0");
}

static void test_reject_overlap_after_rounding(void **state)
{
	(void)state;
	/* [0x100000, 0x100800) and [0x100800, 0x101000): disjoint bytes. */
	img_begin(0x100000);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x10, 0x800);
	img_load(PF_R | PF_W, 0x1000, 0x100800, 0x10, 0x800);
	reject("program header 1: segment pages [0x100000, 0x101000) overlap those of program header 0 [0x100000, 0x101000)");
	/* The first ends one byte into the page where the second starts. */
	img_begin(0x100000);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x10, 0x1001);
	img_load(PF_R | PF_W, 0x1000, 0x101fff, 0x1, 0x1);
	reject("overlap those of program header 0 [0x100000, 0x102000)");
	/* Same, in the other header order. */
	img_begin(0x100000);
	img_load(PF_R | PF_W, 0x1000, 0x101fff, 0x1, 0x1);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x10, 0x1001);
	reject("program header 1: segment pages [0x100000, 0x102000) overlap those of program header 0 [0x101000, 0x102000)");
}

/* ---- Entry point --------------------------------------------------------- */

static void test_reject_entry_outside(void **state)
{
	static const uint64_t bad[] = {
		0, 0xfffff, 0x100200 /* one past the end */, 0x100fff,
		0x200000, UINT64_MAX,
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		img_one_segment();
		put64(E_ENTRY, bad[i]);
		reject("is not inside any PT_LOAD segment");
	}
	img_one_segment();
	put64(E_ENTRY, 0x100200);
	reject("entry point 0x100200 is not inside any PT_LOAD segment");
	/* The first and last bytes are inside. */
	put64(E_ENTRY, 0x100000);
	accept();
	put64(E_ENTRY, 0x1001ff);
	accept();
}

static void test_reject_entry_not_executable(void **state)
{
	(void)state;
	img_three_segments();
	put64(E_ENTRY, 0x101010); /* rodata */
	reject("entry point 0x101010 is not inside an executable segment (program header 1 [0x101000, 0x101800) lacks PF_X)");
	put64(E_ENTRY, 0x104000); /* data's bss */
	reject("not inside an executable segment (program header 2");
	/* In a text segment's bss (memsz > filesz): still executable. */
	img_begin(0x100300);
	img_load(PF_R | PF_X, 0x1000, 0x100000, 0x200, 0x400);
	accept();
}

/* ---- Robustness ---------------------------------------------------------- */

/*
 * Every proper prefix of a valid image is invalid (its last segment's file
 * bytes end at the end of the file). Each prefix sits against a guard page,
 * on one side then the other, so any read outside it crashes the test.
 */
static void test_truncation(void **state)
{
	struct guarded g;

	(void)state;
	img_three_segments();
	img_phdr(PT_NOTE, PF_R, 0, 0, 0, 0);
	guarded_init(&g, img_len);
	for (size_t len = 0; len < 2 * img_len; len++) {
		const uint8_t *copy = guarded_fill(&g, img, len / 2, len % 2);
		struct elf_image sentinel;
		int rc;

		memset(&out, 0xa5, sizeof(out));
		memset(&sentinel, 0xa5, sizeof(sentinel));
		memset(err, 'x', sizeof(err));
		rc = elf_image_parse(copy, len / 2, MIN_GPA, MAX_GPA, &out, err,
				     sizeof(err));
		if (rc != -1)
			fail_msg("prefix of %zu bytes accepted", len / 2);
		assert_non_null(memchr(err, 0, sizeof(err)));
		assert_true(err[0] != '\0');
		/* A failed parse leaves *out alone. */
		assert_memory_equal(&out, &sentinel, sizeof(out));
	}
	/* The whole image, against either guard, parses. */
	for (int at_end = 0; at_end < 2; at_end++)
		assert_int_equal(elf_image_parse(guarded_fill(&g, img, img_len,
							      at_end),
						 img_len, MIN_GPA, MAX_GPA,
						 &out, err, sizeof(err)), 0);
	guarded_free(&g);
}

/* The image may start at any address. */
static void test_unaligned_buffer(void **state)
{
	static uint8_t shifted[IMG_MAX + 8];
	struct elf_image aligned;

	(void)state;
	img_three_segments();
	accept();
	aligned = out;
	for (size_t shift = 1; shift < 8; shift++) {
		memcpy(shifted + shift, img, img_len);
		memset(&out, 0, sizeof(out));
		assert_int_equal(elf_image_parse(shifted + shift, img_len,
						 MIN_GPA, MAX_GPA, &out, err,
						 sizeof(err)), 0);
		assert_memory_equal(&out, &aligned, sizeof(out));
	}
	/* And an unaligned error path. */
	put16(E_MACHINE, 40);
	memcpy(shifted + 3, img, img_len);
	assert_int_equal(elf_image_parse(shifted + 3, img_len, MIN_GPA, MAX_GPA,
					 &out, err, sizeof(err)), -1);
	assert_string_equal(err, "e_machine 40 is not EM_X86_64 (62)");
}

static void test_arguments(void **state)
{
	struct elf_image sentinel;
	char small[8];

	(void)state;
	img_one_segment();
	memset(err, 'x', sizeof(err));
	assert_int_equal(elf_image_parse(NULL, img_len, MIN_GPA, MAX_GPA, &out,
					 err, sizeof(err)), -1);
	assert_string_equal(err, "no image (NULL pointer)");
	assert_int_equal(elf_image_parse(img, img_len, MIN_GPA, MAX_GPA, NULL,
					 err, sizeof(err)), -1);
	assert_string_equal(err, "no image (NULL pointer)");

	/* No error buffer, or one with no room: still just -1 or 0. */
	assert_int_equal(elf_image_parse(img, img_len, MIN_GPA, MAX_GPA, &out,
					 NULL, 0), 0);
	assert_int_equal(elf_image_parse(img, img_len, MIN_GPA, 0, &out,
					 NULL, 64), -1);
	small[0] = 'x';
	assert_int_equal(elf_image_parse(img, img_len, MIN_GPA, 0, &out,
					 small, 0), -1);
	assert_int_equal(small[0], 'x');
	assert_int_equal(elf_image_parse(NULL, 0, 0, 0, NULL, small, 1), -1);
	assert_int_equal(small[0], '\0');
	/* A long message is cut but terminated. */
	memset(small, 'x', sizeof(small));
	assert_int_equal(elf_image_parse(img, 10, MIN_GPA, MAX_GPA, &out,
					 small, sizeof(small)), -1);
	assert_string_equal(small, "file of");
	/* Success clears a stale message. */
	assert_int_equal(elf_image_parse(img, img_len, MIN_GPA, MAX_GPA, &out,
					 small, sizeof(small)), 0);
	assert_string_equal(small, "");

	/* Empty or unaligned loadable ranges are the caller's mistake. */
	memset(&out, 0x5a, sizeof(out));
	memset(&sentinel, 0x5a, sizeof(sentinel));
	reject_range(MAX_GPA, MIN_GPA, "loadable range [0x400000, 0x100000) is empty or not page-aligned");
	reject_range(MIN_GPA, MIN_GPA, "is empty or not page-aligned");
	reject_range(MIN_GPA + 1, MAX_GPA, "not page-aligned");
	reject_range(MIN_GPA, MAX_GPA - 1, "not page-aligned");
	assert_memory_equal(&out, &sentinel, sizeof(out));
}

/* ---- Real guest images --------------------------------------------------- */

/* build/guests/NAME.elf, found next to this binary (build/tests/). */
static glob_t guests;

static void find_guests(const char *argv0)
{
	char pattern[4096];
	const char *slash = strrchr(argv0, '/');
	int dir_len = slash ? (int)(slash - argv0) : 1;

	snprintf(pattern, sizeof(pattern), "%.*s/../guests/*.elf", dir_len,
		 slash ? argv0 : ".");
	if (glob(pattern, 0, NULL, &guests) != 0)
		guests.gl_pathc = 0;
}

static void test_real_guest_images(void **state)
{
	(void)state;
	assert_true(guests.gl_pathc > 0);
	for (size_t g = 0; g < guests.gl_pathc; g++) {
		const char *path = guests.gl_pathv[g];
		FILE *f = fopen(path, "rb");
		uint8_t *data;
		long size;

		if (!f)
			fail_msg("%s: cannot open", path);
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		size = ftell(f);
		assert_true(size > 0);
		rewind(f);
		data = malloc((size_t)size);
		assert_non_null(data);
		assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
		fclose(f);
		/* Each must fit the memory it runs in: the TPGVM gets 64 MiB
		 * (hv/tpgvm.c), the others the default 4 MiB; streamseal, a
		 * TPGVM image with a 129 MiB blob store, what it reaches and
		 * 16 MiB (hv/tpgvm.c: tpgvm_mem). */
		uint64_t mem = strstr(path, "/tpgvm.elf") ? 64ull << 20 :
			       strstr(path, "/streamseal.elf") ? 148ull << 20 : 4ull << 20;
		if (elf_image_parse(data, (size_t)size, MIN_GPA, mem,
				    &out, err, sizeof(err)) != 0)
			fail_msg("%s: %s", path, err);
		free(data);
		print_message("%s: %zu segments, [0x%lx, 0x%lx), entry 0x%lx\n",
			      path, out.segment_count, out.lowest_gpa,
			      out.highest_gpa, out.entry);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_one_segment),
		cmocka_unit_test(test_valid_three_segments),
		cmocka_unit_test(test_place_fits_to_the_byte),
		cmocka_unit_test(test_valid_segments_out_of_order),
		cmocka_unit_test(test_ignored_headers),
		cmocka_unit_test(test_valid_boundaries),
		cmocka_unit_test(test_reject_bad_magic),
		cmocka_unit_test(test_reject_class),
		cmocka_unit_test(test_reject_big_endian),
		cmocka_unit_test(test_reject_ident_version),
		cmocka_unit_test(test_reject_machine),
		cmocka_unit_test(test_reject_type),
		cmocka_unit_test(test_reject_version),
		cmocka_unit_test(test_reject_ehsize),
		cmocka_unit_test(test_reject_phentsize),
		cmocka_unit_test(test_reject_phdr_table_outside_file),
		cmocka_unit_test(test_reject_phdr_table_overflow),
		cmocka_unit_test(test_reject_pn_xnum),
		cmocka_unit_test(test_reject_header_too_short),
		cmocka_unit_test(test_reject_no_load_segment),
		cmocka_unit_test(test_reject_too_many_segments),
		cmocka_unit_test(test_reject_interp),
		cmocka_unit_test(test_reject_dynamic),
		cmocka_unit_test(test_reject_filesz_above_memsz),
		cmocka_unit_test(test_reject_file_bytes_past_end),
		cmocka_unit_test(test_reject_below_min),
		cmocka_unit_test(test_reject_above_max),
		cmocka_unit_test(test_reject_wrap),
		cmocka_unit_test(test_reject_paddr_vaddr),
		cmocka_unit_test(test_reject_overlap),
		cmocka_unit_test(test_reject_overlap_after_rounding),
		cmocka_unit_test(test_reject_entry_outside),
		cmocka_unit_test(test_reject_entry_not_executable),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_unaligned_buffer),
		cmocka_unit_test(test_arguments),
	};
	/* Registered only when there are images: a skip is not a pass. */
	const struct CMUnitTest guest_tests[] = {
		cmocka_unit_test(test_real_guest_images),
	};
	int failed;

	(void)argc;
	failed = cmocka_run_group_tests_name("elf_image", tests, NULL, NULL);
	find_guests(argv[0]);
	if (guests.gl_pathc > 0)
		failed += cmocka_run_group_tests_name("elf_image_guests",
						      guest_tests, NULL, NULL);
	globfree(&guests);
	return failed;
}
