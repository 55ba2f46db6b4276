/*
 * Unit tests for the Multiboot2 boot information parser (boot/multiboot2.c).
 *
 * Boot information structures are built in memory with a small builder that
 * appends tags and pads them to 8 bytes, as Multiboot2 1.6 3.6.2 requires, so
 * each test can state exactly which byte is wrong.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "boot/multiboot2.h"

/* ---- Builder ------------------------------------------------------------- */

struct mbi {
	uint8_t buf[24576];
	size_t len;
};

static struct mbi b;          /* the structure under construction */
static struct mb2_info info;  /* ~10 KiB: kept off the stack */
static char err[256];

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static void mbi_init(void)
{
	memset(&b, 0, sizeof(b));
	b.len = 8; /* u32 total_size, u32 reserved */
}

/* Append a tag with an explicit size field; returns the tag's offset. */
static size_t mbi_tag_sized(uint32_t type, uint32_t size, const void *body,
			    size_t body_len)
{
	size_t off = b.len;

	assert_true(off + 8 + body_len + 16 <= sizeof(b.buf));
	put32(b.buf + off, type);
	put32(b.buf + off + 4, size);
	if (body_len)
		memcpy(b.buf + off + 8, body, body_len);
	b.len = (off + 8 + body_len + 7) & ~(size_t)7;
	return off;
}

static size_t mbi_tag(uint32_t type, const void *body, size_t body_len)
{
	return mbi_tag_sized(type, (uint32_t)(8 + body_len), body, body_len);
}

/* Set total_size to the current length (no end tag appended). */
static size_t mbi_seal(void)
{
	put32(b.buf, (uint32_t)b.len);
	return b.len;
}

/* Append the end tag and set total_size. */
static size_t mbi_finish(void)
{
	mbi_tag(0, NULL, 0);
	return mbi_seal();
}

static size_t mbi_cmdline(const char *s)
{
	return mbi_tag(1, s, strlen(s) + 1);
}

struct range {
	uint64_t base, len;
	uint32_t type;
};

static size_t mbi_mmap(const struct range *r, size_t n)
{
	uint8_t body[8 + 24 * 200];

	assert_true(n <= 200);
	memset(body, 0, sizeof(body));
	put32(body, 24);
	put32(body + 4, 0);
	for (size_t i = 0; i < n; i++) {
		put64(body + 8 + 24 * i, r[i].base);
		put64(body + 8 + 24 * i + 8, r[i].len);
		put32(body + 8 + 24 * i + 16, r[i].type);
	}
	return mbi_tag(6, body, 8 + 24 * n);
}

static const struct range std_ram[] = {
	{ 0x0, 0x9fc00, MB2_MEM_AVAILABLE },
	{ 0xf0000, 0x10000, MB2_MEM_RESERVED },
	{ 0x100000, 0x7f00000, MB2_MEM_AVAILABLE },
};

static size_t mbi_std_mmap(void)
{
	return mbi_mmap(std_ram, ARRAY_SIZE(std_ram));
}

static size_t mbi_module(uint32_t start, uint32_t end, const char *cmdline)
{
	uint8_t body[8 + 512];
	size_t n = strlen(cmdline) + 1;

	assert_true(n <= 512);
	put32(body, start);
	put32(body + 4, end);
	memcpy(body + 8, cmdline, n);
	return mbi_tag(3, body, 8 + n);
}

static void fix_checksum(uint8_t *p, size_t n, size_t sum_at)
{
	uint8_t sum = 0;

	p[sum_at] = 0;
	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	p[sum_at] = (uint8_t)-sum;
}

/* A valid RSDP of the given version in r[0..36); oem_tag marks the copy. */
static void make_rsdp(uint8_t r[36], int version, uint8_t oem_tag)
{
	memset(r, 0, 36);
	memcpy(r, "RSD PTR ", 8);
	memcpy(r + 9, "CUSTOS", 6);
	r[9] = oem_tag;
	r[15] = version == 2 ? 2 : 0;      /* revision */
	put32(r + 16, 0x7fe1000);           /* RsdtAddress */
	fix_checksum(r, 20, 8);
	if (version == 2) {
		put32(r + 20, 36);          /* Length */
		put64(r + 24, 0x7fe2000);   /* XsdtAddress */
		fix_checksum(r, 36, 32);
	}
}

static size_t mbi_rsdp(int version, uint8_t oem_tag)
{
	uint8_t r[36];

	make_rsdp(r, version, oem_tag);
	return mbi_tag(version == 2 ? 15 : 14, r, version == 2 ? 36 : 20);
}

static int parse(void)
{
	return mb2_parse(b.buf, b.len, &info, err, sizeof(err));
}

#define assert_err_has(needle)                                            \
	do {                                                              \
		if (!strstr(err, (needle)))                               \
			fail_msg("error \"%s\" does not mention \"%s\"",  \
				 err, (needle));                          \
	} while (0)

#define assert_rejected(needle)                                           \
	do {                                                              \
		assert_int_equal(parse(), -1);                            \
		assert_err_has(needle);                                   \
	} while (0)

/* A valid structure using every tag we interpret, plus one we don't. */
static size_t build_full(void)
{
	static const struct range ram[] = {
		{ 0x0, 0x9fc00, MB2_MEM_AVAILABLE },
		{ 0x9fc00, 0x0, MB2_MEM_RESERVED }, /* empty: dropped */
		{ 0xf0000, 0x10000, MB2_MEM_RESERVED },
		{ 0x100000, 0x7f00000, MB2_MEM_AVAILABLE },
		{ 0xfffc0000, 0x40000, 77 },       /* unknown type kept */
	};

	mbi_init();
	mbi_cmdline("custos.log=serial  custos.test\tquiet");
	mbi_tag(2, "GRUB 2.06", 10); /* boot loader name: not interpreted */
	mbi_mmap(ram, ARRAY_SIZE(ram));
	mbi_module(0x200000, 0x210000, "guest1 mem=64M");
	mbi_module(0x300000, 0x301000, " \tinitrd");
	mbi_rsdp(1, 'A');
	mbi_rsdp(2, 'B');
	return mbi_finish();
}

/* ---- Valid structures ---------------------------------------------------- */

static void test_full_structure_parsed(void **state)
{
	uint8_t want_rsdp[36];

	(void)state;
	build_full();
	strcpy(err, "stale");
	assert_int_equal(parse(), 0);
	assert_string_equal(err, "");

	assert_true(info.has_cmdline);
	assert_string_equal(info.cmdline, "custos.log=serial  custos.test\tquiet");

	assert_int_equal(info.mmap_count, 4);
	assert_int_equal(info.mmap[0].base, 0);
	assert_int_equal(info.mmap[0].len, 0x9fc00);
	assert_int_equal(info.mmap[0].type, MB2_MEM_AVAILABLE);
	assert_int_equal(info.mmap[1].base, 0xf0000);
	assert_int_equal(info.mmap[1].type, MB2_MEM_RESERVED);
	assert_int_equal(info.mmap[2].base, 0x100000);
	assert_int_equal(info.mmap[2].len, 0x7f00000);
	assert_int_equal(info.mmap[3].base, 0xfffc0000);
	assert_int_equal(info.mmap[3].type, 77);

	assert_int_equal(info.module_count, 2);
	assert_int_equal(info.modules[0].start, 0x200000);
	assert_int_equal(info.modules[0].end, 0x210000);
	assert_string_equal(info.modules[0].cmdline, "guest1 mem=64M");
	assert_string_equal(info.modules[0].name, "guest1");
	assert_int_equal(info.modules[1].start, 0x300000);
	assert_int_equal(info.modules[1].end, 0x301000);
	assert_string_equal(info.modules[1].cmdline, " \tinitrd");
	assert_string_equal(info.modules[1].name, "initrd");

	/* Both RSDP tags present: the v2 copy wins. */
	make_rsdp(want_rsdp, 2, 'B');
	assert_int_equal(info.rsdp_version, 2);
	assert_int_equal(info.rsdp_len, 36);
	assert_memory_equal(info.rsdp, want_rsdp, 36);
}

static void test_rsdp_v2_preferred_when_first(void **state)
{
	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_rsdp(2, 'B');
	mbi_rsdp(1, 'A');
	mbi_finish();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.rsdp_version, 2);
	assert_int_equal(info.rsdp_len, 36);
	assert_int_equal(info.rsdp[9], 'B');
}

static void test_rsdp_v1_only(void **state)
{
	uint8_t want[36];

	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_rsdp(1, 'A');
	mbi_finish();
	assert_int_equal(parse(), 0);
	make_rsdp(want, 1, 'A');
	assert_int_equal(info.rsdp_version, 1);
	assert_int_equal(info.rsdp_len, 20);
	assert_memory_equal(info.rsdp, want, 20);
}

static void test_minimal_structure(void **state)
{
	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_finish();
	assert_int_equal(parse(), 0);
	assert_false(info.has_cmdline);
	assert_int_equal(info.module_count, 0);
	assert_int_equal(info.rsdp_version, 0);
	assert_int_equal(info.mmap_count, 3);
}

static void test_unknown_tags_skipped(void **state)
{
	uint8_t junk[29];

	(void)state;
	memset(junk, 0xa5, sizeof(junk));
	mbi_init();
	mbi_tag(0xffffffffu, junk, 5);   /* size 13: next tag after padding */
	mbi_tag(21, junk, sizeof(junk));
	mbi_std_mmap();
	mbi_tag(4, junk, 8);             /* basic meminfo: ignored */
	mbi_tag(1000, NULL, 0);          /* header only */
	mbi_cmdline("x");
	mbi_finish();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.mmap_count, 3);
	assert_string_equal(info.cmdline, "x");
}

static void test_bytes_after_end_tag_ignored(void **state)
{
	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_tag(0, NULL, 0);
	memset(b.buf + b.len, 0xee, 24);
	b.len += 24;
	mbi_seal();
	assert_int_equal(parse(), 0);
}

static void test_unaligned_buffer(void **state)
{
	size_t total = build_full();

	(void)state;
	for (size_t shift = 1; shift < 8; shift++) {
		uint8_t *raw = malloc(total + shift);

		assert_non_null(raw);
		memcpy(raw + shift, b.buf, total);
		assert_int_equal(mb2_parse(raw + shift, total, &info, err,
					   sizeof(err)), 0);
		assert_string_equal(info.modules[1].name, "initrd");
		assert_int_equal(info.rsdp_version, 2);
		free(raw);
	}
}

static void test_mmap_larger_entry_size_accepted(void **state)
{
	uint8_t body[8 + 2 * 32];

	(void)state;
	memset(body, 0, sizeof(body));
	put32(body, 32); /* a future, larger entry: extra bytes ignored */
	put64(body + 8, 0x100000);
	put64(body + 16, 0x100000);
	put32(body + 24, MB2_MEM_AVAILABLE);
	put64(body + 40, 0x300000);
	put64(body + 48, 0x1000);
	put32(body + 56, MB2_MEM_NVS);
	mbi_init();
	mbi_tag(6, body, sizeof(body));
	mbi_finish();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.mmap_count, 2);
	assert_int_equal(info.mmap[1].base, 0x300000);
	assert_int_equal(info.mmap[1].type, MB2_MEM_NVS);
}

/* ---- Error reporting ----------------------------------------------------- */

static void test_error_names_tag_and_offset(void **state)
{
	uint8_t body[8 + 4] = { 0 };
	char want[64];
	size_t off;

	(void)state;
	memcpy(body + 8, "abcd", 4); /* no NUL */
	mbi_init();
	mbi_std_mmap();
	off = mbi_tag(3, body, sizeof(body));
	mbi_finish();
	assert_int_equal(parse(), -1);
	snprintf(want, sizeof(want), "tag 3 at offset 0x%zx: ", off);
	assert_int_equal(strncmp(err, want, strlen(want)), 0);
	assert_err_has("module cmdline not NUL-terminated");
	assert_null(strchr(err, '\n'));
}

static void test_error_buffer_sizes(void **state)
{
	char small[12];

	(void)state;
	mbi_init();
	mbi_finish(); /* no mmap */

	memset(small, 'x', sizeof(small));
	assert_int_equal(mb2_parse(b.buf, b.len, &info, small, 0), -1);
	assert_int_equal(small[0], 'x'); /* err_len 0: not written */

	assert_int_equal(mb2_parse(b.buf, b.len, &info, small, 1), -1);
	assert_int_equal(small[0], '\0');

	memset(small, 'x', sizeof(small));
	assert_int_equal(mb2_parse(b.buf, b.len, &info, small, sizeof(small)), -1);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, "no memory m", 11);

	assert_int_equal(mb2_parse(b.buf, b.len, &info, NULL, 100), -1);

	/* A tag-level error with nowhere to write it still fails cleanly. */
	mbi_init();
	mbi_std_mmap();
	mbi_tag(1, "abc", 3);
	mbi_finish();
	assert_int_equal(mb2_parse(b.buf, b.len, &info, NULL, 0), -1);
}

/* ---- Fixed part ---------------------------------------------------------- */

static void test_reject_null_arguments(void **state)
{
	(void)state;
	build_full();
	assert_int_equal(mb2_parse(NULL, 100, &info, err, sizeof(err)), -1);
	assert_err_has("NULL");
	assert_int_equal(mb2_parse(b.buf, b.len, NULL, err, sizeof(err)), -1);
	assert_err_has("NULL");
}

static void test_reject_buffer_shorter_than_fixed_part(void **state)
{
	(void)state;
	build_full();
	assert_int_equal(mb2_parse(b.buf, 7, &info, err, sizeof(err)), -1);
	assert_err_has("shorter than its 8-byte fixed part");
}

static void test_reject_total_size_too_small(void **state)
{
	(void)state;
	build_full();
	put32(b.buf, 15);
	assert_rejected("total_size 15 too small");
}

static void test_reject_total_size_beyond_buffer(void **state)
{
	(void)state;
	build_full();
	assert_int_equal(mb2_parse(b.buf, b.len - 1, &info, err, sizeof(err)), -1);
	assert_err_has("exceeds the");
	assert_err_has("readable bytes");
}

static void test_reject_total_size_above_limit(void **state)
{
	size_t len = MB2_MAX_INFO_SIZE + 8;
	uint8_t *big = calloc(1, len);

	(void)state;
	assert_non_null(big);
	build_full();
	memcpy(big, b.buf, b.len);
	put32(big, (uint32_t)len);
	assert_int_equal(mb2_parse(big, len, &info, err, sizeof(err)), -1);
	assert_err_has("exceeds the limit");
	free(big);
}

/* Every prefix of a valid structure, and every smaller total_size, fails. */
static void test_reject_every_truncation(void **state)
{
	size_t total = build_full();

	(void)state;
	for (size_t len = 0; len < total; len++) {
		uint8_t *copy = malloc(len ? len : 1);

		assert_non_null(copy);
		memcpy(copy, b.buf, len);
		if (mb2_parse(copy, len, &info, err, sizeof(err)) != -1)
			fail_msg("buffer truncated to %zu bytes accepted", len);
		assert_true(strlen(err) > 0);
		free(copy);
	}
	for (size_t t = 0; t < total; t++) {
		put32(b.buf, (uint32_t)t);
		if (mb2_parse(b.buf, total, &info, err, sizeof(err)) != -1)
			fail_msg("total_size %zu accepted", t);
		assert_true(strlen(err) > 0);
	}
}

/* ---- Tag walk ------------------------------------------------------------ */

static void test_reject_tag_smaller_than_header(void **state)
{
	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_tag_sized(2, 4, NULL, 0);
	mbi_finish();
	assert_rejected("tag 2 at offset");
	assert_err_has("size 4 smaller than the tag header");
}

static void test_reject_tag_past_total_size(void **state)
{
	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_tag_sized(2, 0x1000, "GRUB", 5);
	mbi_finish();
	assert_rejected("size 4096 extends past total_size");
}

static void test_reject_missing_end_tag(void **state)
{
	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_cmdline("abc");
	mbi_seal();
	assert_rejected("no end tag");
}

static void test_reject_bad_end_tag_size(void **state)
{
	uint8_t pad[8] = { 0 };

	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_tag(0, pad, sizeof(pad));
	mbi_seal();
	assert_rejected("end tag size 16, expected 8");
}

/* ---- Tag 1: boot command line -------------------------------------------- */

static void test_reject_cmdline_without_nul(void **state)
{
	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_tag(1, "abc", 3);
	mbi_finish();
	assert_rejected("tag 1 at offset");
	assert_err_has("boot command line not NUL-terminated");
}

static void test_cmdline_length_limit(void **state)
{
	char line[MB2_MAX_CMDLINE + 1];

	(void)state;
	memset(line, 'c', MB2_MAX_CMDLINE - 1);
	line[MB2_MAX_CMDLINE - 1] = '\0';
	mbi_init();
	mbi_std_mmap();
	mbi_cmdline(line);
	mbi_finish();
	assert_int_equal(parse(), 0);
	assert_int_equal(strlen(info.cmdline), MB2_MAX_CMDLINE - 1);

	memset(line, 'c', MB2_MAX_CMDLINE);
	line[MB2_MAX_CMDLINE] = '\0';
	mbi_init();
	mbi_std_mmap();
	mbi_cmdline(line);
	mbi_finish();
	assert_rejected("boot command line is 1024 bytes, longer than the limit of 1023");
}

static void test_reject_duplicate_cmdline(void **state)
{
	(void)state;
	mbi_init();
	mbi_cmdline("a");
	mbi_std_mmap();
	mbi_cmdline("b");
	mbi_finish();
	assert_rejected("duplicate boot command line tag");
}

/* ---- Tag 6: memory map --------------------------------------------------- */

static void build_mmap_header(uint32_t entry_size, uint32_t version,
			      size_t entries_len)
{
	uint8_t body[8 + 256];

	assert_true(entries_len <= 256);
	memset(body, 0, sizeof(body));
	put32(body, entry_size);
	put32(body + 4, version);
	for (size_t i = 0; i + 24 <= entries_len; i += 24) {
		put64(body + 8 + i, 0x100000 * (i / 24 + 1));
		put64(body + 8 + i + 8, 0x1000);
		put32(body + 8 + i + 16, MB2_MEM_AVAILABLE);
	}
	mbi_init();
	mbi_tag(6, body, 8 + entries_len);
	mbi_finish();
}

static void test_reject_mmap_entry_size_too_small(void **state)
{
	(void)state;
	build_mmap_header(16, 0, 48);
	assert_rejected("tag 6 at offset");
	assert_err_has("entry_size 16 invalid");
}

static void test_reject_mmap_entry_size_not_multiple_of_8(void **state)
{
	(void)state;
	build_mmap_header(28, 0, 56);
	assert_rejected("entry_size 28 invalid");
}

static void test_reject_mmap_entry_version(void **state)
{
	(void)state;
	build_mmap_header(24, 1, 48);
	assert_rejected("entry_version 1 unsupported");
}

static void test_reject_mmap_partial_entry(void **state)
{
	(void)state;
	build_mmap_header(24, 0, 30);
	assert_rejected("mmap entries (30 bytes) not a multiple of entry_size 24");
}

static void test_reject_mmap_tag_too_short(void **state)
{
	(void)state;
	mbi_init();
	mbi_tag(6, "\x18\x00\x00\x00", 4);
	mbi_finish();
	assert_rejected("memory map tag too short");
}

static void test_mmap_entry_count_limit(void **state)
{
	static struct range r[MB2_MAX_MMAP + 1];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		r[i] = (struct range){ 0x1000 * i, 0x1000, MB2_MEM_AVAILABLE };
	mbi_init();
	mbi_mmap(r, MB2_MAX_MMAP);
	mbi_finish();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.mmap_count, MB2_MAX_MMAP);

	mbi_init();
	mbi_mmap(r, MB2_MAX_MMAP + 1);
	mbi_finish();
	assert_rejected("more than 128 mmap entries");
}

static void test_mmap_zero_length_entries_not_counted(void **state)
{
	static struct range r[MB2_MAX_MMAP + 10];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		r[i] = (struct range){ 0x1000 * i, i < 10 ? 0 : 0x1000, 1 };
	mbi_init();
	mbi_mmap(r, ARRAY_SIZE(r));
	mbi_finish();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.mmap_count, MB2_MAX_MMAP);
}

static void test_reject_mmap_wrapping_entry(void **state)
{
	static const struct range over[] = {
		{ 0x100000, 0x1000, MB2_MEM_AVAILABLE },
		{ 0xfffffffffffff000ull, 0x2000, MB2_MEM_RESERVED },
	};
	static const struct range to_top[] = {
		{ 0xfffffffffffff000ull, 0x1000, MB2_MEM_RESERVED },
	};
	static const struct range just_below[] = {
		{ 0xfffffffffffff000ull, 0xfff, MB2_MEM_RESERVED },
	};

	(void)state;
	mbi_init();
	mbi_mmap(over, ARRAY_SIZE(over));
	mbi_finish();
	assert_rejected("mmap entry 1 base 0xfffffffffffff000 length 0x2000 wraps");

	/* base + len == 2^64 is not representable as an exclusive end. */
	mbi_init();
	mbi_mmap(to_top, ARRAY_SIZE(to_top));
	mbi_finish();
	assert_rejected("wraps past 2^64");

	mbi_init();
	mbi_mmap(just_below, ARRAY_SIZE(just_below));
	mbi_finish();
	assert_int_equal(parse(), 0);
}

static void test_reject_duplicate_mmap(void **state)
{
	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_std_mmap();
	mbi_finish();
	assert_rejected("duplicate memory map tag");
}

static void test_reject_missing_mmap(void **state)
{
	(void)state;
	mbi_init();
	mbi_cmdline("quiet");
	mbi_module(0x200000, 0x201000, "guest");
	mbi_finish();
	assert_rejected("no memory map tag (type 6)");
}

/* ---- Tag 3: modules ------------------------------------------------------ */

static void test_reject_module_start_above_end(void **state)
{
	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_module(0x201000, 0x200000, "guest");
	mbi_finish();
	assert_rejected("tag 3 at offset");
	assert_err_has("module start 0x201000 is above its end 0x200000");
}

static void test_reject_module_tag_too_short(void **state)
{
	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_tag(3, "\0\0\x20\0", 4);
	mbi_finish();
	assert_rejected("module tag too short");
}

static void test_reject_module_without_nul(void **state)
{
	uint8_t body[8] = { 0 };

	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_tag(3, body, sizeof(body)); /* no cmdline bytes at all */
	mbi_finish();
	assert_rejected("module cmdline not NUL-terminated");
}

static void test_module_cmdline_length_limit(void **state)
{
	char line[MB2_MAX_MOD_CMDLINE + 1];

	(void)state;
	memset(line, ' ', sizeof(line));
	memcpy(line, "guest", 5);
	line[MB2_MAX_MOD_CMDLINE - 1] = '\0';
	mbi_init();
	mbi_std_mmap();
	mbi_module(0x200000, 0x201000, line);
	mbi_finish();
	assert_int_equal(parse(), 0);
	assert_int_equal(strlen(info.modules[0].cmdline), MB2_MAX_MOD_CMDLINE - 1);

	line[MB2_MAX_MOD_CMDLINE - 1] = ' ';
	line[MB2_MAX_MOD_CMDLINE] = '\0';
	mbi_init();
	mbi_std_mmap();
	mbi_module(0x200000, 0x201000, line);
	mbi_finish();
	assert_rejected("module cmdline is 256 bytes, longer than the limit of 255");
}

static void test_module_name_length_limit(void **state)
{
	char line[MB2_MAX_MOD_NAME + 8];

	(void)state;
	memset(line, 'n', MB2_MAX_MOD_NAME - 1);
	strcpy(line + MB2_MAX_MOD_NAME - 1, " a=b");
	mbi_init();
	mbi_std_mmap();
	mbi_module(0x200000, 0x201000, line);
	mbi_finish();
	assert_int_equal(parse(), 0);
	assert_int_equal(strlen(info.modules[0].name), MB2_MAX_MOD_NAME - 1);

	memset(line, 'n', MB2_MAX_MOD_NAME);
	strcpy(line + MB2_MAX_MOD_NAME, " a=b");
	mbi_init();
	mbi_std_mmap();
	mbi_module(0x200000, 0x201000, line);
	mbi_finish();
	assert_rejected("module name is 64 bytes, longer than the limit of 63");
}

static void test_module_count_limit(void **state)
{
	char name[16];

	(void)state;
	mbi_init();
	mbi_std_mmap();
	for (uint32_t i = 0; i < MB2_MAX_MODULES; i++) {
		snprintf(name, sizeof(name), "m%u", i);
		mbi_module(0x200000 + 0x1000 * i, 0x201000 + 0x1000 * i, name);
	}
	mbi_finish();
	assert_int_equal(parse(), 0);
	assert_int_equal(info.module_count, MB2_MAX_MODULES);
	assert_string_equal(info.modules[15].name, "m15");

	b.len -= 8; /* drop the end tag and add one module too many */
	mbi_module(0x400000, 0x401000, "extra");
	mbi_finish();
	assert_rejected("more than 16 modules");
}

static void test_module_without_name_parses(void **state)
{
	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_module(0x200000, 0x201000, " \t ");
	mbi_finish();
	/* Allowed by the parser; mb2_check_modules() is what refuses it. */
	assert_int_equal(parse(), 0);
	assert_string_equal(info.modules[0].name, "");
}

/* ---- Tags 14, 15: ACPI RSDP ---------------------------------------------- */

static void build_rsdp_raw(uint32_t type, const uint8_t *r, size_t len)
{
	mbi_init();
	mbi_std_mmap();
	mbi_tag(type, r, len);
	mbi_finish();
}

static void test_reject_rsdp_bad_lengths(void **state)
{
	uint8_t r[80];

	(void)state;
	memset(r, 0, sizeof(r));
	make_rsdp(r, 2, 'B');
	build_rsdp_raw(14, r, 19);
	assert_rejected("tag 14 at offset");
	assert_err_has("RSDP v1 is 19 bytes");
	build_rsdp_raw(15, r, 35);
	assert_rejected("RSDP v2 is 35 bytes");
	build_rsdp_raw(14, r, MB2_MAX_RSDP + 1);
	assert_rejected("RSDP v1 is 65 bytes");
	build_rsdp_raw(15, r, MB2_MAX_RSDP + 1);
	assert_rejected("RSDP v2 is 65 bytes");

	/* Longer copies up to the limit are kept whole. */
	build_rsdp_raw(15, r, MB2_MAX_RSDP);
	assert_int_equal(parse(), 0);
	assert_int_equal(info.rsdp_len, MB2_MAX_RSDP);
}

static void test_reject_rsdp_bad_signature(void **state)
{
	uint8_t r[36];

	(void)state;
	make_rsdp(r, 1, 'A');
	r[3] = 'X';
	fix_checksum(r, 20, 8);
	build_rsdp_raw(14, r, 20);
	assert_rejected("RSDP signature");
}

static void test_reject_rsdp_bad_checksums(void **state)
{
	uint8_t r[36];

	(void)state;
	make_rsdp(r, 1, 'A');
	r[8]++;
	build_rsdp_raw(14, r, 20);
	assert_rejected("RSDP checksum (first 20 bytes) wrong");

	make_rsdp(r, 2, 'B');
	r[8]++;
	r[32]--; /* extended sum still 0, first-20 sum not */
	build_rsdp_raw(15, r, 36);
	assert_rejected("RSDP checksum (first 20 bytes) wrong");

	make_rsdp(r, 2, 'B');
	r[28]++;
	build_rsdp_raw(15, r, 36);
	assert_rejected("RSDP extended checksum (36 bytes) wrong");
}

static void test_reject_duplicate_rsdp(void **state)
{
	(void)state;
	mbi_init();
	mbi_std_mmap();
	mbi_rsdp(1, 'A');
	mbi_rsdp(1, 'C');
	mbi_finish();
	assert_rejected("duplicate ACPI RSDP v1 tag");

	mbi_init();
	mbi_std_mmap();
	mbi_rsdp(2, 'A');
	mbi_rsdp(1, 'C');
	mbi_rsdp(2, 'D');
	mbi_finish();
	assert_rejected("duplicate ACPI RSDP v2 tag");
}

/* ---- mb2_find_module ----------------------------------------------------- */

static void add_mod(uint64_t start, uint64_t end, const char *name)
{
	struct mb2_module *m = &info.modules[info.module_count++];

	m->start = start;
	m->end = end;
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->cmdline, sizeof(m->cmdline), "%s", name);
}

static void test_find_module_exact_name(void **state)
{
	(void)state;
	memset(&info, 0, sizeof(info));
	add_mod(0x300000, 0x301000, "guest1");
	add_mod(0x400000, 0x401000, "guest");
	assert_ptr_equal(mb2_find_module(&info, "guest"), &info.modules[1]);
	assert_ptr_equal(mb2_find_module(&info, "guest1"), &info.modules[0]);
	assert_null(mb2_find_module(&info, "guest12"));
	assert_null(mb2_find_module(&info, "gues"));
	assert_null(mb2_find_module(&info, ""));
	assert_null(mb2_find_module(&info, NULL));
	assert_null(mb2_find_module(NULL, "guest"));
}

static void test_mem_type_names(void **state)
{
	(void)state;
	assert_string_equal(mb2_mem_type_name(MB2_MEM_AVAILABLE), "available");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_RESERVED), "reserved");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_ACPI_RECLAIMABLE), "acpi");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_NVS), "acpi-nvs");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_BADRAM), "bad");
	assert_string_equal(mb2_mem_type_name(0), "unknown (reserved)");
	assert_string_equal(mb2_mem_type_name(0xffffffffu), "unknown (reserved)");
}

/* ---- mb2_cmdline_get ----------------------------------------------------- */

static void test_cmdline_get_values(void **state)
{
	const char *line = "a=1 b=two\tbare  empty= eq==x";
	char v[16];

	(void)state;
	assert_true(mb2_cmdline_get(line, "a", v, sizeof(v)));
	assert_string_equal(v, "1");
	assert_true(mb2_cmdline_get(line, "b", v, sizeof(v)));
	assert_string_equal(v, "two");
	assert_true(mb2_cmdline_get(line, "bare", v, sizeof(v)));
	assert_string_equal(v, "");
	assert_true(mb2_cmdline_get(line, "empty", v, sizeof(v)));
	assert_string_equal(v, "");
	assert_true(mb2_cmdline_get(line, "eq", v, sizeof(v)));
	assert_string_equal(v, "=x");
	assert_false(mb2_cmdline_get(line, "c", v, sizeof(v)));
	assert_false(mb2_cmdline_get("", "a", v, sizeof(v)));
	assert_false(mb2_cmdline_get(" \t ", "a", v, sizeof(v)));
}

static void test_cmdline_get_exact_key(void **state)
{
	char v[16];

	(void)state;
	assert_false(mb2_cmdline_get("custos.testing=1", "custos.test", v,
				     sizeof(v)));
	assert_false(mb2_cmdline_get("custos.testing", "custos.test", v,
				     sizeof(v)));
	assert_false(mb2_cmdline_get("x=custos.test", "custos.test", v,
				     sizeof(v)));
	assert_false(mb2_cmdline_get("custos.test=1", "custos.testing", v,
				     sizeof(v)));
	assert_true(mb2_cmdline_get("custos.testing=1 custos.test=2",
				    "custos.test", v, sizeof(v)));
	assert_string_equal(v, "2");
}

static void test_cmdline_get_last_occurrence_wins(void **state)
{
	char v[16];

	(void)state;
	assert_true(mb2_cmdline_get("k=1 k=2", "k", v, sizeof(v)));
	assert_string_equal(v, "2");
	assert_true(mb2_cmdline_get("k=1 other k", "k", v, sizeof(v)));
	assert_string_equal(v, "");
	assert_true(mb2_cmdline_get("k k=3", "k", v, sizeof(v)));
	assert_string_equal(v, "3");
}

static void test_cmdline_get_blanks(void **state)
{
	const char *line = "\t k=v\t\tj=w  ";
	char v[16];

	(void)state;
	assert_true(mb2_cmdline_get(line, "k", v, sizeof(v)));
	assert_string_equal(v, "v");
	assert_true(mb2_cmdline_get(line, "j", v, sizeof(v)));
	assert_string_equal(v, "w");
}

static void test_cmdline_get_value_must_fit(void **state)
{
	char v[8];

	(void)state;
	assert_true(mb2_cmdline_get("k=abc", "k", v, 4));
	assert_string_equal(v, "abc");
	strcpy(v, "keep");
	assert_false(mb2_cmdline_get("k=abcd", "k", v, 4));
	assert_string_equal(v, "keep"); /* not truncated, not touched */
	assert_false(mb2_cmdline_get("k", "k", v, 0));
	assert_true(mb2_cmdline_get("k", "k", v, 1));
	assert_string_equal(v, "");
}

static void test_cmdline_get_odd_arguments(void **state)
{
	char v[8];

	(void)state;
	assert_true(mb2_cmdline_get("k=abcdefghijk", "k", NULL, 0));
	assert_false(mb2_cmdline_get("j=1", "k", NULL, 0));
	assert_false(mb2_cmdline_get("=v", "", v, sizeof(v)));
	assert_false(mb2_cmdline_get("a=b", "a=b", v, sizeof(v)));
	assert_false(mb2_cmdline_get("a b", "a b", v, sizeof(v)));
	assert_false(mb2_cmdline_get(NULL, "a", v, sizeof(v)));
	assert_false(mb2_cmdline_get("a", NULL, v, sizeof(v)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_structure_parsed),
		cmocka_unit_test(test_rsdp_v2_preferred_when_first),
		cmocka_unit_test(test_rsdp_v1_only),
		cmocka_unit_test(test_minimal_structure),
		cmocka_unit_test(test_unknown_tags_skipped),
		cmocka_unit_test(test_bytes_after_end_tag_ignored),
		cmocka_unit_test(test_unaligned_buffer),
		cmocka_unit_test(test_mmap_larger_entry_size_accepted),
		cmocka_unit_test(test_error_names_tag_and_offset),
		cmocka_unit_test(test_error_buffer_sizes),
		cmocka_unit_test(test_reject_null_arguments),
		cmocka_unit_test(test_reject_buffer_shorter_than_fixed_part),
		cmocka_unit_test(test_reject_total_size_too_small),
		cmocka_unit_test(test_reject_total_size_beyond_buffer),
		cmocka_unit_test(test_reject_total_size_above_limit),
		cmocka_unit_test(test_reject_every_truncation),
		cmocka_unit_test(test_reject_tag_smaller_than_header),
		cmocka_unit_test(test_reject_tag_past_total_size),
		cmocka_unit_test(test_reject_missing_end_tag),
		cmocka_unit_test(test_reject_bad_end_tag_size),
		cmocka_unit_test(test_reject_cmdline_without_nul),
		cmocka_unit_test(test_cmdline_length_limit),
		cmocka_unit_test(test_reject_duplicate_cmdline),
		cmocka_unit_test(test_reject_mmap_entry_size_too_small),
		cmocka_unit_test(test_reject_mmap_entry_size_not_multiple_of_8),
		cmocka_unit_test(test_reject_mmap_entry_version),
		cmocka_unit_test(test_reject_mmap_partial_entry),
		cmocka_unit_test(test_reject_mmap_tag_too_short),
		cmocka_unit_test(test_mmap_entry_count_limit),
		cmocka_unit_test(test_mmap_zero_length_entries_not_counted),
		cmocka_unit_test(test_reject_mmap_wrapping_entry),
		cmocka_unit_test(test_reject_duplicate_mmap),
		cmocka_unit_test(test_reject_missing_mmap),
		cmocka_unit_test(test_reject_module_start_above_end),
		cmocka_unit_test(test_reject_module_tag_too_short),
		cmocka_unit_test(test_reject_module_without_nul),
		cmocka_unit_test(test_module_cmdline_length_limit),
		cmocka_unit_test(test_module_name_length_limit),
		cmocka_unit_test(test_module_count_limit),
		cmocka_unit_test(test_module_without_name_parses),
		cmocka_unit_test(test_reject_rsdp_bad_lengths),
		cmocka_unit_test(test_reject_rsdp_bad_signature),
		cmocka_unit_test(test_reject_rsdp_bad_checksums),
		cmocka_unit_test(test_reject_duplicate_rsdp),
		cmocka_unit_test(test_find_module_exact_name),
		cmocka_unit_test(test_mem_type_names),
		cmocka_unit_test(test_cmdline_get_values),
		cmocka_unit_test(test_cmdline_get_exact_key),
		cmocka_unit_test(test_cmdline_get_last_occurrence_wins),
		cmocka_unit_test(test_cmdline_get_blanks),
		cmocka_unit_test(test_cmdline_get_value_must_fit),
		cmocka_unit_test(test_cmdline_get_odd_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
