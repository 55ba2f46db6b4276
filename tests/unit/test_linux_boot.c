/*
 * Unit tests for Linux bzImage checks and the zero page (tcb/linux_boot.c)
 * and the Linux launch measurement (tcb/linux_measure.c).
 *
 * A synthetic bzImage is built in memory: a setup of (setup_sects + 1)
 * sectors with a 2.15 setup header like Linux 6.1's, then a kernel part.
 * Each refusal starts from the valid image and breaks exactly one field.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/linux_boot.h"
#include "tcb/linux_measure.h"
#include "tcb/guest_pt.h"
#include "tcb/byteorder.h"
#include "crypto/crypto.h"
#include <custos/guest_abi.h>

#define SECTS      4u
#define SETUP_LEN  ((SECTS + 1) * 512u)
#define KERNEL_LEN (64u * 1024u)
#define IMG_LEN    (SETUP_LEN + KERNEL_LEN)
#define PREF       0x1000000ull  /* 16 MiB */
#define INIT_SIZE  0x800000u     /* 8 MiB */
#define MEM        (64ull << 20)

static uint8_t img[IMG_LEN];

static void build(void)
{
	memset(img, 0, sizeof(img));
	img[LB_SETUP_SECTS] = SECTS;
	store_le32(img + LB_SYSSIZE, KERNEL_LEN / 16);
	store_le16(img + LB_BOOT_FLAG, 0xaa55);
	img[LB_JUMP] = 0xeb;
	img[LB_JUMP + 1] = 0x6a;            /* header ends at 0x26c */
	memcpy(img + LB_HEADER, "HdrS", 4);
	store_le16(img + LB_VERSION, 0x020f);
	img[LB_LOADFLAGS] = LINUX_LOADED_HIGH | LINUX_CAN_USE_HEAP;
	store_le16(img + LB_HEAP_END_PTR, 0xde00);
	store_le32(img + LB_INITRD_ADDR_MAX, 0x7fffffff);
	store_le32(img + LB_KERNEL_ALIGN, 0x200000);
	img[LB_RELOCATABLE] = 1;
	store_le16(img + LB_XLOADFLAGS, 0x7f);
	store_le32(img + LB_CMDLINE_SIZE, 2047);
	store_le32(img + LB_PAYLOAD_OFFSET, 0x100);
	store_le32(img + LB_PAYLOAD_LENGTH, 0x1000);
	store_le64(img + LB_SETUP_DATA, 0x12345678);
	store_le64(img + LB_PREF_ADDRESS, PREF);
	store_le32(img + LB_INIT_SIZE, INIT_SIZE);
	for (size_t i = SETUP_LEN; i < IMG_LEN; i++)
		img[i] = (uint8_t)(i * 7);
}

static int setup(void **state)
{
	(void)state;
	build();
	return 0;
}

static void refused(const char *needle)
{
	struct linux_image out;
	char why[160];

	memset(&out, 0xa5, sizeof(out));
	assert_int_equal(linux_image_parse(img, sizeof(img), &out, why, sizeof(why)), -1);
	if (!strstr(why, needle))
		fail_msg("reason '%s' does not mention '%s'", why, needle);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(((uint8_t *)&out)[i], 0xa5);
}

static void test_valid(void **state)
{
	struct linux_image r;
	char why[160];

	(void)state;
	assert_int_equal(linux_image_parse(img, sizeof(img), &r, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	assert_int_equal(r.version, 0x020f);
	assert_int_equal(r.setup_len, SETUP_LEN);
	assert_int_equal(r.hdr_end, 0x26c);
	assert_int_equal(r.kernel_len, KERNEL_LEN);
	assert_int_equal(r.load_gpa, PREF);
	assert_int_equal(r.init_size, INIT_SIZE);
	assert_int_equal(r.kernel_alignment, 0x200000);
	assert_true(r.relocatable);
	assert_int_equal(r.cmdline_size, 2047);
	assert_int_equal(r.initrd_addr_max, 0x7fffffff);
	/* NULL out and why are allowed */
	assert_int_equal(linux_image_parse(img, sizeof(img), NULL, NULL, 0), 0);
}

static void test_setup_sects_zero_means_four(void **state)
{
	struct linux_image r;

	(void)state;
	img[LB_SETUP_SECTS] = 0;
	assert_int_equal(linux_image_parse(img, sizeof(img), &r, NULL, 0), 0);
	assert_int_equal(r.setup_len, 5 * 512);
}

static void test_signed_tail_accepted(void **state)
{
	struct linux_image r;

	(void)state;
	/* A kernel with bytes after syssize * 16 (an appended signature). */
	store_le32(img + LB_SYSSIZE, (KERNEL_LEN - 4096) / 16);
	assert_int_equal(linux_image_parse(img, sizeof(img), &r, NULL, 0), 0);
	assert_int_equal(r.kernel_len, KERNEL_LEN);
}

static void test_refuse_short(void **state)
{
	char why[100];

	(void)state;
	assert_int_equal(linux_image_parse(img, 1023, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a bzImage"));
	assert_int_equal(linux_image_parse(NULL, 0, NULL, why, sizeof(why)), -1);
}

static void test_refuse_boot_flag(void **state)
{
	(void)state;
	img[LB_BOOT_FLAG] = 0;
	refused("not a bzImage");
}

static void test_refuse_magic(void **state)
{
	(void)state;
	img[LB_HEADER + 3] = 's';
	refused("not a bzImage");
}

static void test_refuse_old_protocol(void **state)
{
	(void)state;
	store_le16(img + LB_VERSION, 0x020b);
	refused("too old");
}

static void test_refuse_no_64bit_entry(void **state)
{
	(void)state;
	store_le16(img + LB_XLOADFLAGS, 0x7e);
	refused("no 64-bit entry");
}

static void test_refuse_setup_sects(void **state)
{
	(void)state;
	img[LB_SETUP_SECTS] = LINUX_SETUP_MAX_SECTS + 1;
	refused("setup_sects");
}

static void test_refuse_no_kernel(void **state)
{
	char why[100];

	(void)state;
	assert_int_equal(linux_image_parse(img, SETUP_LEN, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no kernel"));
	img[LB_SETUP_SECTS] = 60; /* setup beyond the file */
	assert_int_equal(linux_image_parse(img, 60 * 512, NULL, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "no kernel"));
}

static void test_refuse_header_len(void **state)
{
	(void)state;
	img[LB_JUMP] = 0xe9;
	refused("header length");
	build();
	img[LB_JUMP + 1] = 0x90; /* ends at 0x292 */
	refused("header length");
	build();
	img[LB_JUMP + 1] = 0x10; /* too short to hold init_size */
	refused("header length");
}

static void test_refuse_syssize(void **state)
{
	(void)state;
	store_le32(img + LB_SYSSIZE, 0);
	refused("syssize");
	store_le32(img + LB_SYSSIZE, KERNEL_LEN / 16 + 1);
	refused("syssize");
	store_le32(img + LB_SYSSIZE, 0xffffffff);
	refused("syssize");
}

static void test_refuse_payload(void **state)
{
	(void)state;
	store_le32(img + LB_PAYLOAD_OFFSET, KERNEL_LEN + 1);
	refused("payload");
	build();
	store_le32(img + LB_PAYLOAD_OFFSET, 0x100);
	store_le32(img + LB_PAYLOAD_LENGTH, 0xffffffff);
	refused("payload");
}

static void test_refuse_init_size(void **state)
{
	(void)state;
	store_le32(img + LB_INIT_SIZE, KERNEL_LEN - 1);
	refused("init_size");
}

static void test_refuse_alignment(void **state)
{
	(void)state;
	store_le32(img + LB_KERNEL_ALIGN, 0x300000);
	refused("kernel_alignment");
	store_le32(img + LB_KERNEL_ALIGN, 0x800);
	refused("kernel_alignment");
	store_le32(img + LB_KERNEL_ALIGN, 0x2000000);
	refused("kernel_alignment");
	store_le32(img + LB_KERNEL_ALIGN, 0);
	refused("kernel_alignment");
}

static void test_refuse_pref_address(void **state)
{
	(void)state;
	store_le64(img + LB_PREF_ADDRESS, 0x80000);
	refused("pref_address");
	store_le64(img + LB_PREF_ADDRESS, PREF + 0x1000);
	refused("pref_address");
	store_le64(img + LB_PREF_ADDRESS, 1ull << 32);
	refused("pref_address");
	store_le64(img + LB_PREF_ADDRESS, 0xffe00000ull); /* + init_size > 4 GiB */
	refused("pref_address");
}

static void test_cmdline_check(void **state)
{
	static char big[LINUX_CMDLINE_MAX + 1];
	char why[100];

	(void)state;
	assert_int_equal(linux_cmdline_check(NULL, 0, why, sizeof(why)), 0);
	assert_int_equal(linux_cmdline_check("console=ttyS0", 14, why, sizeof(why)), 0);
	assert_int_equal(linux_cmdline_check("", 1, why, sizeof(why)), 0);
	assert_int_equal(linux_cmdline_check("abc", 3, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "NUL"));
	assert_int_equal(linux_cmdline_check("a\0b", 4, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "NUL"));
	memset(big, 'x', sizeof(big));
	big[LINUX_CMDLINE_MAX - 1] = '\0';
	assert_int_equal(linux_cmdline_check(big, LINUX_CMDLINE_MAX, why, sizeof(why)), 0);
	big[LINUX_CMDLINE_MAX] = '\0';
	big[LINUX_CMDLINE_MAX - 1] = 'x';
	assert_int_equal(linux_cmdline_check(big, LINUX_CMDLINE_MAX + 1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "too long"));
}

static void test_plan(void **state)
{
	struct linux_layout l;
	char why[160];
	const char cmd[] = "console=ttyS0 quiet";

	(void)state;
	assert_int_equal(linux_plan(img, sizeof(img), MEM, 3 * 4096 + 5, cmd,
				    sizeof(cmd), &l, why, sizeof(why)), 0);
	assert_int_equal(l.mem_size, MEM);
	assert_int_equal(l.initrd_len, 3 * 4096 + 5);
	/* page-aligned, as high as it goes */
	assert_int_equal(l.initrd_gpa, MEM - 4 * 4096);
	assert_int_equal(l.cmdline_len, sizeof(cmd));
	assert_int_equal(l.entry, PREF + 0x200);
	/* no initrd: gpa 0 */
	assert_int_equal(linux_plan(img, sizeof(img), MEM, 0, NULL, 0, &l, why,
				    sizeof(why)), 0);
	assert_int_equal(l.initrd_gpa, 0);
	assert_int_equal(l.initrd_len, 0);
	assert_int_equal(l.cmdline_len, 0);
}

static void test_plan_initrd_addr_max(void **state)
{
	struct linux_layout l;

	(void)state;
	store_le32(img + LB_INITRD_ADDR_MAX, 0x1ffffff); /* 32 MiB - 1 */
	assert_int_equal(linux_plan(img, sizeof(img), MEM, 4096, NULL, 0, &l, NULL, 0), 0);
	assert_int_equal(l.initrd_gpa, 0x2000000 - 4096);
}

static void test_plan_refusals(void **state)
{
	struct linux_layout l;
	char why[200];
	char longcmd[100];

	(void)state;
	/* the kernel [16 MiB, 24 MiB) does not fit in 16 MiB */
	assert_int_equal(linux_plan(img, sizeof(img), 16ull << 20, 0, NULL, 0, &l, why,
				    sizeof(why)), -1);
	assert_non_null(strstr(why, "does not fit in 16 MiB"));
	/* 24 MiB holds it exactly, but not with an initrd too */
	assert_int_equal(linux_plan(img, sizeof(img), 24ull << 20, 0, NULL, 0, &l, why,
				    sizeof(why)), 0);
	assert_int_equal(linux_plan(img, sizeof(img), 24ull << 20, 1, NULL, 0, &l, why,
				    sizeof(why)), -1);
	assert_non_null(strstr(why, "below the initrd"));
	/* an initrd larger than memory */
	assert_int_equal(linux_plan(img, sizeof(img), MEM, MEM + 1, NULL, 0, &l, why,
				    sizeof(why)), -1);
	assert_non_null(strstr(why, "initrd"));
	/* bad memory sizes */
	assert_int_equal(linux_plan(img, sizeof(img), MEM + 4096, 0, NULL, 0, &l, why,
				    sizeof(why)), -1);
	assert_int_equal(linux_plan(img, sizeof(img), 2ull << 30, 0, NULL, 0, &l, why,
				    sizeof(why)), -1);
	/* a command line longer than cmdline_size */
	store_le32(img + LB_CMDLINE_SIZE, 10);
	memset(longcmd, 'a', sizeof(longcmd));
	longcmd[11] = '\0';
	assert_int_equal(linux_plan(img, sizeof(img), MEM, 0, longcmd, 12, &l, why,
				    sizeof(why)), -1);
	assert_non_null(strstr(why, "cmdline_size"));
	longcmd[10] = '\0';
	assert_int_equal(linux_plan(img, sizeof(img), MEM, 0, longcmd, 11, &l, why,
				    sizeof(why)), 0);
	/* a command line that is not one string */
	assert_int_equal(linux_plan(img, sizeof(img), MEM, 0, longcmd, 12, &l, why,
				    sizeof(why)), -1);
	/* a bad image */
	img[LB_HEADER] = 0;
	assert_int_equal(linux_plan(img, sizeof(img), MEM, 0, NULL, 0, &l, why,
				    sizeof(why)), -1);
	assert_non_null(strstr(why, "not a bzImage"));
}

static void test_zero_page(void **state)
{
	struct linux_layout l;
	static uint8_t zp[LINUX_ZERO_PAGE_SIZE];
	const char cmd[] = "console=ttyS0";

	(void)state;
	assert_int_equal(linux_plan(img, sizeof(img), MEM, 8192, cmd, sizeof(cmd),
				    &l, NULL, 0), 0);
	memset(zp, 0xcc, sizeof(zp));
	linux_zero_page(img, &l, zp);
	/* below the header: zero but for the e820 count */
	for (size_t i = 0; i < LB_SETUP_SECTS; i++)
		if (i != LB_E820_ENTRIES && (i < LB_EXT_RAMDISK_IMAGE || i >= LB_EXT_CMD_LINE_PTR + 4))
			assert_int_equal(zp[i], 0);
	/* the header as the image has it, except the loader's fields */
	assert_memory_equal(zp + LB_HEADER, "HdrS", 4);
	assert_int_equal(zp[LB_SETUP_SECTS], SECTS);
	assert_int_equal(load_le16(zp + LB_VERSION), 0x020f);
	assert_int_equal(load_le32(zp + LB_INIT_SIZE), INIT_SIZE);
	assert_int_equal(load_le64(zp + LB_PREF_ADDRESS), PREF);
	assert_int_equal(load_le16(zp + LB_XLOADFLAGS), 0x7f);
	assert_int_equal(zp[LB_TYPE_OF_LOADER], 0xff);
	assert_int_equal(zp[LB_LOADFLAGS], LINUX_LOADED_HIGH);
	assert_int_equal(load_le16(zp + LB_HEAP_END_PTR), 0);
	assert_int_equal(load_le64(zp + LB_SETUP_DATA), 0);
	assert_int_equal(load_le32(zp + LB_CMD_LINE_PTR), LINUX_CMDLINE_GPA);
	assert_int_equal(load_le32(zp + LB_EXT_CMD_LINE_PTR), 0);
	assert_int_equal(load_le32(zp + LB_RAMDISK_IMAGE), MEM - 8192);
	assert_int_equal(load_le32(zp + LB_RAMDISK_SIZE), 8192);
	assert_int_equal(load_le32(zp + LB_EXT_RAMDISK_IMAGE), 0);
	assert_int_equal(load_le32(zp + LB_EXT_RAMDISK_SIZE), 0);
	/* nothing of the image beyond the header */
	for (size_t i = 0x26c; i < LB_E820_TABLE; i++)
		assert_int_equal(zp[i], 0);
	/* no command line: pointer 0 */
	assert_int_equal(linux_plan(img, sizeof(img), MEM, 0, NULL, 0, &l, NULL, 0), 0);
	linux_zero_page(img, &l, zp);
	assert_int_equal(load_le32(zp + LB_CMD_LINE_PTR), 0);
	assert_int_equal(load_le32(zp + LB_RAMDISK_IMAGE), 0);
	assert_int_equal(load_le32(zp + LB_RAMDISK_SIZE), 0);
}

static void test_e820(void **state)
{
	static uint8_t zp[LINUX_ZERO_PAGE_SIZE];
	const uint8_t *t = zp + LB_E820_TABLE;

	(void)state;
	linux_e820(256ull << 20, zp);
	assert_int_equal(zp[LB_E820_ENTRIES], 3);
	assert_int_equal(load_le64(t), 0);
	assert_int_equal(load_le64(t + 8), 0x9fc00);
	assert_int_equal(load_le32(t + 16), LINUX_E820_RAM);
	assert_int_equal(load_le64(t + 20), 0x9fc00);
	assert_int_equal(load_le64(t + 28), 0x100000 - 0x9fc00);
	assert_int_equal(load_le32(t + 36), LINUX_E820_RESERVED);
	assert_int_equal(load_le64(t + 40), 0x100000);
	assert_int_equal(load_le64(t + 48), (256ull << 20) - 0x100000);
	assert_int_equal(load_le32(t + 56), LINUX_E820_RAM);
	for (size_t i = 60; i < 80; i++)
		assert_int_equal(t[i], 0);
}

static void test_gdt(void **state)
{
	uint8_t g[LINUX_GDT_LIMIT + 1];

	(void)state;
	memset(g, 0xcc, sizeof(g));
	linux_gdt(g);
	assert_int_equal(load_le64(g), 0);
	assert_int_equal(load_le64(g + 8), 0);
	assert_int_equal(load_le64(g + LINUX_BOOT_CS), 0x00af9b000000ffffull);
	assert_int_equal(load_le64(g + LINUX_BOOT_DS), 0x00cf93000000ffffull);
	assert_int_equal(LINUX_BOOT_CS, 0x10);
	assert_int_equal(LINUX_BOOT_DS, 0x18);
}

/* The initial page tables (tcb/guest_pt.c) identity-map what the kernel,
 * zero page and command line occupy, and the GDT page is where
 * linux_gdt's bytes go. */
static uint8_t low[8][4096];

static void *low_page(uint64_t gpa, void *ctx)
{
	(void)ctx;
	return gpa < sizeof(low) ? low[gpa >> 12] : NULL;
}

static void test_page_tables(void **state)
{
	uint64_t cr3 = 0, pml4e, pdpte, pde;
	struct linux_layout l;

	(void)state;
	assert_int_equal(linux_plan(img, sizeof(img), MEM, 4096, NULL, 0, &l, NULL, 0), 0);
	assert_int_equal(guest_pt_build(MEM, low_page, NULL, &cr3), 0);
	assert_int_equal(cr3, GUEST_PAGE_TABLES_GPA);
	pml4e = load_le64(low[cr3 >> 12]);
	assert_int_equal(pml4e & 1, 1);
	pdpte = load_le64(low[(pml4e & ~0xfffull) >> 12]);
	assert_int_equal(pdpte & 1, 1);
	for (uint64_t a = l.img.load_gpa; a < MEM; a += 0x200000) {
		pde = load_le64(low[(pdpte & ~0xfffull) >> 12] + 8 * (a >> 21));
		assert_int_equal(pde & 0x83, 0x83); /* present, writable, 2 MiB */
		assert_int_equal(pde & 0xfffffffe00000ull, a);
	}
	/* the zero page and command line through the first PD entry's table */
	pde = load_le64(low[(pdpte & ~0xfffull) >> 12]);
	assert_int_equal(pde & 0x81, 0x01);
	for (uint64_t a = LINUX_ZERO_PAGE_GPA; a < LINUX_STACK_TOP; a += 4096) {
		uint64_t pte = load_le64(low[(pde & ~0xfffull) >> 12] + 8 * (a >> 12));

		assert_int_equal(pte & 3, 3);
		assert_int_equal(pte & ~0xfffull & 0xfffffffffffull, a);
	}
	/* the GDT page exists for linux_gdt to be written into */
	linux_gdt(low[GUEST_GDT_GPA >> 12]);
	assert_int_equal(load_le64(low[GUEST_GDT_GPA >> 12] + LINUX_BOOT_CS),
			 0x00af9b000000ffffull);
}

/* The measurement, recomputed here from its definition. */
static void test_measurement(void **state)
{
	uint8_t dk[32], di[32], dc[32], got[48], want[48], le[8];
	struct crypto_sha384_ctx c;
	const char cmd[] = "console=ttyS0";
	char name[32] = "linux1";

	(void)state;
	crypto_sha256(img, sizeof(img), dk);
	crypto_sha256("initrd", 6, di);
	crypto_sha256(cmd, sizeof(cmd), dc);
	linux_launch_measurement("linux1", MEM, dk, sizeof(img), di, 6, dc,
				 sizeof(cmd), got);
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, "CUSTOS-VM-LAUNCH-LINUX64-2", 26);
	crypto_sha384_update(&c, name, 32);
	store_le64(le, MEM);
	crypto_sha384_update(&c, le, 8);
	crypto_sha384_update(&c, dk, 32);
	store_le64(le, sizeof(img));
	crypto_sha384_update(&c, le, 8);
	crypto_sha384_update(&c, di, 32);
	store_le64(le, 6);
	crypto_sha384_update(&c, le, 8);
	crypto_sha384_update(&c, dc, 32);
	store_le64(le, sizeof(cmd));
	crypto_sha384_update(&c, le, 8);
	crypto_sha384_final(&c, want);
	assert_memory_equal(got, want, 48);
	/* every input changes it */
	linux_launch_measurement("linux2", MEM, dk, sizeof(img), di, 6, dc,
				 sizeof(cmd), want);
	assert_memory_not_equal(got, want, 48);
	linux_launch_measurement("linux1", MEM * 2, dk, sizeof(img), di, 6, dc,
				 sizeof(cmd), want);
	assert_memory_not_equal(got, want, 48);
	linux_launch_measurement("linux1", MEM, dk, sizeof(img), di, 6, dk,
				 sizeof(cmd), want);
	assert_memory_not_equal(got, want, 48);
	/* from the files, as the CLI does it */
	linux_launch_measurement_of("linux1", MEM, img, sizeof(img),
				    (const uint8_t *)"initrd", 6, cmd, sizeof(cmd), want);
	assert_memory_equal(got, want, 48);
	/* no initrd, no command line: the digests of empty input, length 0 */
	crypto_sha256("", 0, di);
	linux_launch_measurement("linux1", MEM, dk, sizeof(img), di, 0, di, 0, got);
	linux_launch_measurement_of("linux1", MEM, img, sizeof(img), NULL, 0,
				    NULL, 0, want);
	assert_memory_equal(got, want, 48);
}

/* Real kernels, when `make linux-assets` has built them: Linux 6.1's
 * tinyconfig bzImage and Debian's (signed) vmlinuz parse, want 16 MiB. */
static void test_real_kernels(void **state)
{
	static const char *const files[] = { "build/linux/bzImage-tiny",
					     "build/linux/vmlinuz-debian" };

	(void)state;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "rb");
		struct linux_image r;
		uint8_t *buf;
		char why[160];
		long n;

		if (!f) {
			printf("  (no %s: not checked)\n", files[i]);
			continue;
		}
		buf = malloc(32u << 20);
		assert_non_null(buf);
		n = (long)fread(buf, 1, 32u << 20, f);
		fclose(f);
		if (linux_image_parse(buf, (size_t)n, &r, why, sizeof(why)))
			fail_msg("%s: %s", files[i], why);
		assert_true(r.version >= 0x020c);
		assert_int_equal(r.load_gpa, 0x1000000);
		assert_true(r.init_size >= r.kernel_len);
		free(buf);
	}
}

#define T(f) cmocka_unit_test_setup(f, setup)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_valid),
		T(test_setup_sects_zero_means_four),
		T(test_signed_tail_accepted),
		T(test_refuse_short),
		T(test_refuse_boot_flag),
		T(test_refuse_magic),
		T(test_refuse_old_protocol),
		T(test_refuse_no_64bit_entry),
		T(test_refuse_setup_sects),
		T(test_refuse_no_kernel),
		T(test_refuse_header_len),
		T(test_refuse_syssize),
		T(test_refuse_payload),
		T(test_refuse_init_size),
		T(test_refuse_alignment),
		T(test_refuse_pref_address),
		T(test_cmdline_check),
		T(test_plan),
		T(test_plan_initrd_addr_max),
		T(test_plan_refusals),
		T(test_zero_page),
		T(test_e820),
		T(test_gdt),
		T(test_page_tables),
		T(test_measurement),
		T(test_real_kernels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
