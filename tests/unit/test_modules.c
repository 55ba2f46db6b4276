/*
 * Unit tests for boot module screening (boot/modules.c): modules placed by
 * a hostile boot loader are refused by name, one line each, and the ones
 * that remain can be owned and released frame by frame.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "boot/memmap.h"
#include "boot/modules.h"

#define MIB 0x100000ull
#define IMG_START 0x100000ull /* the hypervisor image: 1 MiB - 2 MiB */
#define IMG_END   0x200000ull

static struct mb2_info info;
static struct mmio_list mmio;
static struct phys_range usable[MEMMAP_MAX_RANGES];
static size_t n_usable;

static char reasons[MB2_MAX_MODULES][256];
static size_t n_reasons;

static void record(void *ctx, const char *reason)
{
	assert_ptr_equal(ctx, &n_reasons);
	assert_true(n_reasons < MB2_MAX_MODULES);
	snprintf(reasons[n_reasons++], sizeof(reasons[0]), "%s", reason);
}

static void add_ram(uint64_t base, uint64_t len, uint32_t type)
{
	info.mmap[info.mmap_count++] = (struct mb2_mmap_entry){ base, len, type };
}

static void add_mod(uint64_t start, uint64_t end, const char *name)
{
	struct mb2_module *m = &info.modules[info.module_count++];

	m->start = start;
	m->end = end;
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->cmdline, sizeof(m->cmdline), "%s extra", name);
}

/* RAM 0-636K and 1M-128M, ACPI at its top, a reserved frame at 64M. */
static void std_info(void)
{
	memset(&info, 0, sizeof(info));
	n_reasons = 0;
	add_ram(0, 0x9f000, MB2_MEM_AVAILABLE);
	add_ram(0x9f000, 0x1000, MB2_MEM_RESERVED);
	add_ram(0xe8000, 0x18000, MB2_MEM_RESERVED);
	add_ram(MIB, 127 * MIB, MB2_MEM_AVAILABLE);
	add_ram(64 * MIB, 0x1000, MB2_MEM_RESERVED);
	add_ram(128 * MIB, MIB, MB2_MEM_ACPI_RECLAIMABLE);
}

/* Carve as the boot does, then screen. */
static size_t screen(void)
{
	platform_mmio_build(&mmio, 0xfee00000, NULL);
	n_usable = memmap_usable(&info, &mmio, usable, NULL, NULL);
	return modules_screen(&info, usable, n_usable, &mmio, IMG_START, IMG_END,
			      record, &n_reasons);
}

static void expect_reason(size_t i, const char *needle)
{
	assert_true(i < n_reasons);
	if (!strstr(reasons[i], needle))
		fail_msg("reason \"%s\" lacks \"%s\"", reasons[i], needle);
}

static void expect_kept(const char *const *names, size_t n)
{
	assert_int_equal(info.module_count, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(info.modules[i].name, names[i]);
	for (size_t i = n; i < MB2_MAX_MODULES; i++)
		assert_int_equal(info.modules[i].start | info.modules[i].end, 0);
}

static void test_good_modules_are_kept(void **state)
{
	static const char *const kept[] = { "tcb-keys", "tcb-certs", "low", "vm.a" };

	(void)state;
	std_info();
	assert_int_equal(screen(), 0);
	add_mod(0x200000, 0x20006c, "tcb-keys");  /* right after the image */
	add_mod(0x201000, 0x201423, "tcb-certs"); /* next frame */
	add_mod(0x90000, 0x9e000, "low");         /* usable RAM below 1 MiB */
	add_mod(0x3fff000, 0x4000000, "vm.a");    /* up to the reserved frame */
	assert_int_equal(screen(), 0);
	assert_int_equal(n_reasons, 0);
	expect_kept(kept, 4);
	assert_string_equal(info.modules[0].cmdline, "tcb-keys extra");
}

static void test_image_overlap(void **state)
{
	static const char *const kept[] = { "after" };

	(void)state;
	std_info();
	add_mod(0x101000, 0x102000, "vm.overlap");
	add_mod(0x1ff800, 0x200800, "edge");  /* last image frame */
	add_mod(0x201000, 0x202000, "after");
	assert_int_equal(screen(), 2);
	expect_reason(0, "module 'vm.overlap' [0x101000, 0x102000) refused: "
		      "overlaps the hypervisor image [0x100000, 0x200000)");
	expect_reason(1, "module 'edge'");
	expect_kept(kept, 1);
}

static void test_modules_sharing_memory_are_all_refused(void **state)
{
	static const char *const kept[] = { "c" };

	(void)state;
	std_info();
	add_mod(0x300000, 0x302000, "a");
	add_mod(0x301fff, 0x303000, "b");   /* one byte of 'a' */
	add_mod(0x400000, 0x401000, "c");
	add_mod(0x500000, 0x500800, "d");
	add_mod(0x500800, 0x501000, "e");   /* no byte, but d's frame */
	assert_int_equal(screen(), 4);
	expect_reason(0, "module 'a' [0x300000, 0x302000) refused: shares frames "
		      "with module 'b' [0x301fff, 0x303000)");
	expect_reason(1, "module 'b' [0x301fff, 0x303000) refused: shares frames "
		      "with module 'a'");
	expect_reason(2, "module 'd'");
	expect_reason(3, "module 'e'");
	expect_kept(kept, 1);
}

static void test_mmio_and_non_ram(void **state)
{
	(void)state;
	std_info();
	add_ram(0xfec00000, 0x201000, MB2_MEM_AVAILABLE); /* hostile "RAM" */
	add_mod(0xfee00000, 0xfee01000, "vm.apic");
	add_mod(0xfec00000, 0xfec00100, "vm.ioapic");
	add_mod(0xb8000, 0xb9000, "vm.vga");                 /* below 1 MiB */
	add_mod(0x9e000, 0xa1000, "vm.cross");               /* into the hole */
	add_mod(0x3fff000, 0x4001000, "vm.reserved");        /* over 64M */
	add_mod(0x7fff000, 0x8001000, "vm.acpi");            /* into ACPI */
	add_mod(0x10000000, 0x10001000, "vm.nowhere");
	assert_int_equal(screen(), 7);
	expect_reason(0, "module 'vm.apic' [0xfee00000, 0xfee01000) refused: "
		      "overlaps the local APIC (IA32_APIC_BASE) [0xfee00000, 0xfee01000)");
	expect_reason(1, "overlaps the I/O APIC (default) [0xfec00000, 0xfec01000)");
	expect_reason(2, "overlaps the legacy VGA/BIOS hole [0xa0000, 0x100000)");
	expect_reason(3, "module 'vm.cross'");
	expect_reason(3, "legacy VGA/BIOS hole");
	expect_reason(4, "overlaps a reserved range of the memory map at 0x4000000");
	expect_reason(5, "overlaps a acpi range of the memory map at 0x8000000");
	expect_reason(6, "module 'vm.nowhere' [0x10000000, 0x10001000) refused: "
		      "is not wholly inside available RAM");
	assert_int_equal(info.module_count, 0);

	std_info();
	add_mod(0x9f000, 0x9f100, "vm.ebda");
	assert_int_equal(screen(), 1);
	expect_reason(0, "overlaps a reserved range of the memory map at 0x9f000");
}

static void test_names(void **state)
{
	static const char *const kept[] = { "tpgvm-envelope2" };

	(void)state;
	std_info();
	add_mod(0x300000, 0x301000, "tpgvm-envelope");
	add_mod(0x400000, 0x401000, "tpgvm-envelope2");
	add_mod(0x500000, 0x501000, "");
	add_mod(0x600000, 0x601000, "tpgvm-envelope");
	assert_int_equal(screen(), 3);
	/* Which one the loader meant is unknown: neither is used. */
	expect_reason(0, "module 'tpgvm-envelope' [0x300000, 0x301000) refused: "
		      "another module [0x600000, 0x601000) has the same name");
	expect_reason(1, "module 2 [0x500000, 0x501000) refused: it has no name");
	expect_reason(2, "module 'tpgvm-envelope' [0x600000, 0x601000) refused: "
		      "another module [0x300000, 0x301000) has the same name");
	expect_kept(kept, 1);

	/* A hand-built name without its NUL is no name, and is not over-read. */
	std_info();
	add_mod(0x300000, 0x301000, "x");
	memset(info.modules[0].name, 'n', sizeof(info.modules[0].name));
	assert_int_equal(screen(), 1);
	expect_reason(0, "module 0 [0x300000, 0x301000) refused: it has no name");

	/* A name is quoted harmlessly. */
	std_info();
	add_mod(0x300000, 0x300000, "a\033[2Jb");
	assert_int_equal(screen(), 1);
	expect_reason(0, "module 'a?[2Jb' [0x300000, 0x300000) refused: it is empty");
}

static void test_refused_modules_still_block(void **state)
{
	(void)state;
	/* 'twin' is refused for its name; 'b' shares its frame all the same. */
	std_info();
	add_mod(0x300000, 0x301000, "twin");
	add_mod(0x400000, 0x401000, "twin");
	add_mod(0x300800, 0x300900, "b");
	assert_int_equal(screen(), 3);
	expect_reason(2, "module 'b' [0x300800, 0x300900) refused: shares frames "
		      "with module 'twin' [0x300000, 0x301000)");
}

static void test_hand_built_extremes(void **state)
{
	(void)state;
	std_info();
	add_mod(0x301000, 0x300000, "inverted");
	add_mod(UINT64_MAX - 0x800, UINT64_MAX - 0x10, "top");
	assert_int_equal(screen(), 2);
	expect_reason(0, "module 'inverted' [0x301000, 0x300000) refused: it is empty");
	expect_reason(1, "module 'top' [0xfffffffffffff7ff, 0xffffffffffffffef) "
		      "refused: ends too close to 2^64");

	/* More than the parser ever gives is cut to the limit, not over-read. */
	std_info();
	for (int i = 0; i < MB2_MAX_MODULES; i++) {
		char name[8];

		snprintf(name, sizeof(name), "m%d", i);
		add_mod(0x300000 + i * 0x1000ull, 0x301000 + i * 0x1000ull, name);
	}
	info.module_count = MB2_MAX_MODULES + 5;
	assert_int_equal(screen(), 0);
	assert_int_equal(info.module_count, MB2_MAX_MODULES);

	/* No callback: still refused and dropped. */
	std_info();
	add_mod(0x101000, 0x102000, "x");
	platform_mmio_build(&mmio, 0xfee00000, NULL);
	n_usable = memmap_usable(&info, &mmio, usable, NULL, NULL);
	assert_int_equal(modules_screen(&info, usable, n_usable, &mmio, IMG_START,
					IMG_END, NULL, NULL), 1);
	assert_int_equal(info.module_count, 0);
}

/* The image bounds are rounded to frames like the modules are. */
static void test_unaligned_image(void **state)
{
	(void)state;
	std_info();
	add_mod(0x200000, 0x201000, "next");
	platform_mmio_build(&mmio, 0xfee00000, NULL);
	n_usable = memmap_usable(&info, &mmio, usable, NULL, NULL);
	assert_int_equal(modules_screen(&info, usable, n_usable, &mmio,
					IMG_START + 0x10, IMG_END - 0x800,
					record, &n_reasons), 0);
	assert_int_equal(modules_screen(&info, usable, n_usable, &mmio,
					IMG_START, IMG_END + 1, record,
					&n_reasons), 1);
	expect_reason(0, "overlaps the hypervisor image [0x100000, 0x201000)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_modules_are_kept),
		cmocka_unit_test(test_image_overlap),
		cmocka_unit_test(test_modules_sharing_memory_are_all_refused),
		cmocka_unit_test(test_mmio_and_non_ram),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_refused_modules_still_block),
		cmocka_unit_test(test_hand_built_extremes),
		cmocka_unit_test(test_unaligned_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
