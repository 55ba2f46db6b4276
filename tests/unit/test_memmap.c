/*
 * Unit tests for the never-RAM list (boot/platform_mmio.c) and the carve of
 * the memory map (boot/memmap.c): hand-written maps, hostile ones among
 * them, then a randomized comparison with a frame-by-frame judgement.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "boot/memmap.h"
#include "boot/platform_mmio.h"
#include "xorshift.h"

#define MIB 0x100000ull
#define AVAIL MB2_MEM_AVAILABLE
#define RESVD MB2_MEM_RESERVED

static struct mb2_info info;
static struct mmio_list mmio;
static struct phys_range out[MEMMAP_MAX_RANGES];

#define MAX_CARVES 512
static struct memmap_carve carves[MAX_CARVES];
static size_t n_carves;

static void record(void *ctx, const struct memmap_carve *c)
{
	assert_ptr_equal(ctx, &n_carves);
	assert_true(n_carves < MAX_CARVES);
	carves[n_carves++] = *c;
}

static void map_reset(void)
{
	memset(&info, 0, sizeof(info));
	n_carves = 0;
}

static void add(uint64_t base, uint64_t len, uint32_t type)
{
	assert_true(info.mmap_count < MB2_MAX_MMAP);
	info.mmap[info.mmap_count++] = (struct mb2_mmap_entry){ base, len, type };
}

/* Bochs' map, as GRUB hands it over. */
static void bochs_map(void)
{
	map_reset();
	add(0, 0x9f000, AVAIL);
	add(0x9f000, 0x1000, RESVD);
	add(0xe8000, 0x18000, RESVD);
	add(0x100000, 0xfef0000, AVAIL);
	add(0xfff0000, 0x10000, MB2_MEM_ACPI_RECLAIMABLE);
	add(0xfffc0000, 0x40000, RESVD);
}

static size_t carve(void)
{
	return memmap_usable(&info, &mmio, out, record, &n_carves);
}

static void expect_range(size_t i, uint64_t base, uint64_t end)
{
	if (out[i].base != base || out[i].base + out[i].len != end)
		fail_msg("range %zu is [%#llx, %#llx), expected [%#llx, %#llx)", i,
			 (unsigned long long)out[i].base,
			 (unsigned long long)(out[i].base + out[i].len),
			 (unsigned long long)base, (unsigned long long)end);
}

static void expect_carve(size_t i, uint64_t base, uint64_t end, const char *what)
{
	assert_true(i < n_carves);
	if (carves[i].base != base || carves[i].end != end)
		fail_msg("carve %zu is [%#llx, %#llx), expected [%#llx, %#llx)", i,
			 (unsigned long long)carves[i].base,
			 (unsigned long long)carves[i].end,
			 (unsigned long long)base, (unsigned long long)end);
	if (what)
		assert_string_equal(carves[i].what, what);
	else
		assert_null(carves[i].what);
}

/* ---- The never-RAM list ---------------------------------------------------- */

static const struct mmio_range *find(const char *what)
{
	for (size_t i = 0; i < mmio.count; i++)
		if (strcmp(mmio.r[i].what, what) == 0)
			return &mmio.r[i];
	return NULL;
}

static void expect_default_ranges(void)
{
	static const struct { const char *what; uint64_t base, len; } d[] = {
		{ "I/O APIC (default)", 0xfec00000, 0x1000 },
		{ "HPET (default)", 0xfed00000, 0x400 },
		{ "TPM TIS localities 0-4", 0xfed40000, 0x5000 },
		{ "legacy VGA/BIOS hole", 0xa0000, 0x60000 },
		{ "chipset, APIC and firmware window below 4 GiB", 0xfec00000,
		  0x1400000 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(d); i++) {
		const struct mmio_range *r = find(d[i].what);

		assert_non_null(r);
		assert_int_equal(r->base, d[i].base);
		assert_int_equal(r->len, d[i].len);
	}
}

static void test_defaults_without_acpi(void **state)
{
	(void)state;
	platform_mmio_build(&mmio, 0xfee00900 /* flag bits */, NULL);
	assert_int_equal(mmio.count, 6);
	/* The CPU's own word first; the default LAPIC is the same range. */
	assert_string_equal(mmio.r[0].what, "local APIC (IA32_APIC_BASE)");
	assert_int_equal(mmio.r[0].base, 0xfee00000);
	assert_int_equal(mmio.r[0].len, 0x1000);
	assert_null(find("local APIC (default)"));
	expect_default_ranges();
	/* The wide window comes last: carves name the device first. */
	assert_string_equal(mmio.r[mmio.count - 1].what,
			    "chipset, APIC and firmware window below 4 GiB");
}

static void test_acpi_only_adds(void **state)
{
	struct acpi_info a = { 0 };

	(void)state;
	a.lapic_count = 1;
	a.lapic[0] = 0xfee00000;
	a.ioapic_count = 2;
	a.ioapic[0] = 0xfec00000;
	a.ioapic[1] = 0x80000000;
	a.hpet_count = 2;
	a.hpet[0] = 0xfed00000;
	a.hpet[1] = 0;             /* no address: nothing to carve */
	a.ecam_count = 1;
	a.ecam[0] = (struct phys_range){ 0xb0000000, 256 * MIB };
	a.has_tpm2 = true;
	a.tpm2_control = 0x7f000040;
	platform_mmio_build(&mmio, 0x1fee00000ull, &a);
	assert_string_equal(mmio.r[0].what, "local APIC (IA32_APIC_BASE)");
	assert_int_equal(mmio.r[0].base, 0x1fee00000ull);
	assert_string_equal(mmio.r[1].what, "local APIC (ACPI MADT)");
	assert_string_equal(mmio.r[2].what, "I/O APIC (ACPI MADT)");
	assert_int_equal(mmio.r[3].base, 0x80000000);
	assert_string_equal(mmio.r[4].what, "HPET (ACPI HPET)");
	assert_string_equal(mmio.r[5].what, "PCI ECAM (ACPI MCFG)");
	assert_int_equal(mmio.r[5].len, 256 * MIB);
	assert_string_equal(mmio.r[6].what, "TPM control area (ACPI TPM2)");
	assert_int_equal(mmio.r[6].base, 0x7f000000);
	assert_int_equal(mmio.r[6].len, 0x1000);
	/* Same place as the MADT's: the defaults' LAPIC, I/O APIC and HPET
	 * are repeats; the rest are still there. */
	assert_null(find("local APIC (default)"));
	assert_null(find("I/O APIC (default)"));
	assert_int_equal(mmio.count, 7 + 3);
	assert_non_null(find("TPM TIS localities 0-4"));
	assert_non_null(find("legacy VGA/BIOS hole"));
}

static void test_acpi_elsewhere_keeps_defaults(void **state)
{
	struct acpi_info a = { 0 };

	(void)state;
	/* Tables that point elsewhere cannot remove a default. */
	a.ioapic_count = 1;
	a.ioapic[0] = 0x90000000;
	a.hpet_count = 1;
	a.hpet[0] = 0x90001000;
	platform_mmio_build(&mmio, 0xfee00000, &a);
	expect_default_ranges();
	assert_non_null(find("I/O APIC (ACPI MADT)"));
}

static void test_overlap_lookup(void **state)
{
	(void)state;
	platform_mmio_build(&mmio, 0xfee00000, NULL);
	assert_null(platform_mmio_overlap(&mmio, 0x100000, 0xa0000000));
	assert_string_equal(platform_mmio_overlap(&mmio, 0x9f000, 0xa1000)->what,
			    "legacy VGA/BIOS hole");
	assert_null(platform_mmio_overlap(&mmio, 0x9f000, 0xa0000));
	assert_string_equal(platform_mmio_overlap(&mmio, 0xfee00fff, 0xfee01000)->what,
			    "local APIC (IA32_APIC_BASE)");
	assert_null(platform_mmio_overlap(&mmio, 0x100000000ull, UINT64_MAX));
	assert_null(platform_mmio_overlap(&mmio, 0xfec00000, 0xfec00000)); /* empty */
}

/* ---- The carve ------------------------------------------------------------- */

static void test_bochs_map_needs_no_carve(void **state)
{
	(void)state;
	bochs_map();
	platform_mmio_build(&mmio, 0xfee00000, NULL);
	assert_int_equal(carve(), 2);
	expect_range(0, 0, 0x9f000);
	expect_range(1, 0x100000, 0xfff0000);
	assert_int_equal(n_carves, 0);
}

static void test_available_over_the_apics_is_carved(void **state)
{
	struct acpi_info a = { 0 };

	(void)state;
	bochs_map();
	add(0xfec00000, 0x201000, AVAIL); /* the hostile loader's RAM */
	a.ioapic_count = 1;
	a.ioapic[0] = 0xfec00000;
	a.hpet_count = 1;
	a.hpet[0] = 0xfed00000;
	platform_mmio_build(&mmio, 0xfee00000, &a);
	assert_int_equal(carve(), 2);
	expect_range(0, 0, 0x9f000);
	expect_range(1, 0x100000, 0xfff0000);
	/* One line per device, in the list's order, then what the window
	 * takes of the rest. */
	assert_int_equal(n_carves, 5);
	expect_carve(0, 0xfee00000, 0xfee01000, "local APIC (IA32_APIC_BASE)");
	expect_carve(1, 0xfec00000, 0xfec01000, "I/O APIC (ACPI MADT)");
	expect_carve(2, 0xfed00000, 0xfed00400, "HPET (ACPI HPET)");
	expect_carve(3, 0xfed40000, 0xfed45000, "TPM TIS localities 0-4");
	expect_carve(4, 0xfec00000, 0xfee01000,
		     "chipset, APIC and firmware window below 4 GiB");
	for (size_t i = 0; i < n_carves; i++) {
		assert_int_equal(carves[i].avail.base, 0xfec00000);
		assert_int_equal(carves[i].avail.len, 0x201000);
	}
}

static void test_ecam_and_relocated_apic_are_carved(void **state)
{
	struct acpi_info a = { 0 };

	(void)state;
	map_reset();
	add(MIB, 4096 * MIB - MIB, AVAIL); /* "RAM" up to 4 GiB */
	a.ecam_count = 1;
	a.ecam[0] = (struct phys_range){ 0xb0000000, 256 * MIB };
	platform_mmio_build(&mmio, 0x40000000, &a);
	assert_int_equal(carve(), 3);
	expect_range(0, MIB, 0x40000000);
	expect_range(1, 0x40001000, 0xb0000000);
	expect_range(2, 0xc0000000, 0xfec00000);
	/* Then the default LAPIC, I/O APIC, HPET, TPM, and the window. */
	assert_int_equal(n_carves, 7);
	expect_carve(0, 0x40000000, 0x40001000, "local APIC (IA32_APIC_BASE)");
	expect_carve(1, 0xb0000000, 0xc0000000, "PCI ECAM (ACPI MCFG)");
	expect_carve(6, 0xfec00000, 0x100000000ull,
		     "chipset, APIC and firmware window below 4 GiB");
}

static void test_non_ram_entries_win(void **state)
{
	(void)state;
	bochs_map();
	add(0x2000000, 0x1000, MB2_MEM_BADRAM);
	add(0x3000000, 0x800, 77);                 /* unknown type */
	add(0xff00000, 0x100000, MB2_MEM_NVS);     /* over the top of RAM */
	platform_mmio_build(&mmio, 0xfee00000, NULL);
	assert_int_equal(carve(), 4);
	expect_range(1, 0x100000, 0x2000000);
	expect_range(2, 0x2001000, 0x3000000);
	expect_range(3, 0x3001000, 0xff00000);
	assert_int_equal(n_carves, 3);
	expect_carve(0, 0x2000000, 0x2001000, NULL);
	assert_int_equal(carves[0].type, MB2_MEM_BADRAM);
	expect_carve(1, 0x3000000, 0x3000800, NULL);
	assert_int_equal(carves[1].type, 77);
	expect_carve(2, 0xff00000, 0xfff0000, NULL);
}

static void test_legacy_hole_is_carved(void **state)
{
	(void)state;
	map_reset();
	add(0, 2 * MIB, AVAIL);
	platform_mmio_build(&mmio, 0xfee00000, NULL);
	assert_int_equal(carve(), 2);
	expect_range(0, 0, 0xa0000);
	expect_range(1, MIB, 2 * MIB);
	assert_int_equal(n_carves, 1);
	expect_carve(0, 0xa0000, MIB, "legacy VGA/BIOS hole");
}

static void test_messy_available_entries_merge(void **state)
{
	(void)state;
	map_reset();
	add(0x600000, 0x200000, AVAIL);
	add(0x300000, 0x100000, AVAIL);
	add(0x400000, 0x200000, AVAIL);  /* touches both neighbours */
	add(0x480000, 0x100000, AVAIL);  /* inside */
	add(0x300000, 0x100000, AVAIL);  /* repeated */
	add(0x1000000, 0x800, AVAIL);    /* less than a frame */
	add(0x2000800, 0x1800, AVAIL);   /* one whole frame inside */
	add(0x5000000, 0x100000, RESVD);
	add(0x5000000, 0x200000, AVAIL); /* conflicting: reserved wins */
	platform_mmio_build(&mmio, 0xfee00000, NULL);
	assert_int_equal(carve(), 3);
	expect_range(0, 0x300000, 0x800000);
	expect_range(1, 0x2001000, 0x2002000);
	expect_range(2, 0x5100000, 0x5200000);
	assert_int_equal(n_carves, 1);
	expect_carve(0, 0x5000000, 0x5100000, NULL);
}

static void test_extreme_entries(void **state)
{
	(void)state;
	map_reset();
	add(UINT64_MAX - 0x3fff, 0x4000, AVAIL);   /* ends at 2^64 - 1 */
	add(0x100000000ull, 0x10000, AVAIL);
	platform_mmio_build(&mmio, 0xfee00000, NULL);
	assert_int_equal(carve(), 2);
	expect_range(0, 0x100000000ull, 0x100010000ull);
	assert_int_equal(out[1].base, UINT64_MAX - 0x3fff);
	assert_int_equal(out[1].len, 0x3000); /* the last partial frame is gone */

	map_reset();
	assert_int_equal(carve(), 0);
}

/* The worst case for the number of pieces: each cut splits one. */
static void test_most_pieces_fit(void **state)
{
	struct acpi_info a = { 0 };
	size_t n;

	(void)state;
	map_reset();
	add(0, 0x100000000000ull, AVAIL);
	for (size_t i = 1; i < MB2_MAX_MMAP; i++)
		add(0x200000000ull + i * 0x10000, 0x1000, RESVD);
	a.ioapic_count = ACPI_MAX_IOAPICS;
	for (size_t i = 0; i < ACPI_MAX_IOAPICS; i++)
		a.ioapic[i] = 0x300000000ull + i * 0x10000;
	a.hpet_count = ACPI_MAX_HPETS;
	for (size_t i = 0; i < ACPI_MAX_HPETS; i++)
		a.hpet[i] = 0x400000000ull + i * 0x10000;
	a.ecam_count = ACPI_MAX_ECAMS;
	for (size_t i = 0; i < ACPI_MAX_ECAMS; i++)
		a.ecam[i] = (struct phys_range){ 0x500000000ull + i * 0x10000000, MIB };
	a.lapic_count = 2;
	a.lapic[0] = 0x600000000ull;
	a.lapic[1] = 0x600010000ull;
	a.has_tpm2 = true;
	a.tpm2_control = 0x700000000ull;
	platform_mmio_build(&mmio, 0x800000000ull, &a);
	assert_int_equal(mmio.count, PLATFORM_MMIO_MAX);
	n = carve();
	/* Every cut splits a piece, except that the window then swallows
	 * three of the four pieces between the defaults inside it. */
	assert_int_equal(n, MB2_MAX_MMAP + PLATFORM_MMIO_MAX - 4);
	assert_true(n <= MEMMAP_MAX_RANGES);
	for (size_t i = 1; i < n; i++)
		assert_true(out[i - 1].base + out[i - 1].len < out[i].base);
}

/* ---- Randomized: every frame judged on its own ----------------------------- */

#define WINDOW_FRAMES 48

static bool covered_by_available(uint64_t lo, uint64_t hi)
{
	for (bool moved = true; lo < hi && moved;) {
		moved = false;
		for (size_t i = 0; i < info.mmap_count; i++) {
			const struct mb2_mmap_entry *e = &info.mmap[i];

			if (e->type == AVAIL && e->base <= lo && lo < e->base + e->len) {
				lo = e->base + e->len;
				moved = true;
			}
		}
	}
	return lo >= hi;
}

static bool frame_is_ram(uint64_t f)
{
	uint64_t lo = f * PAGE_SIZE, hi = lo + PAGE_SIZE;

	if (!covered_by_available(lo, hi) || platform_mmio_overlap(&mmio, lo, hi))
		return false;
	for (size_t i = 0; i < info.mmap_count; i++) {
		const struct mb2_mmap_entry *e = &info.mmap[i];

		if (e->type != AVAIL && e->base < hi && lo < e->base + e->len)
			return false;
	}
	return true;
}

static bool frame_in_output(size_t n, uint64_t f)
{
	for (size_t i = 0; i < n; i++)
		if (out[i].base <= f * PAGE_SIZE &&
		    (f + 1) * PAGE_SIZE <= out[i].base + out[i].len)
			return true;
	return false;
}

static uint64_t random_addr(uint64_t *rng)
{
	uint64_t a = xorshift64s(rng) % (WINDOW_FRAMES * PAGE_SIZE);

	return xorshift64s(rng) % 2 ? a & ~PAGE_MASK : a;
}

static void test_random_maps_frame_by_frame(void **state)
{
	uint64_t rng = 20240611;

	(void)state;
	for (int trial = 0; trial < 3000; trial++) {
		struct acpi_info a = { 0 };
		size_t n;

		map_reset();
		for (size_t i = xorshift64s(&rng) % 12; i > 0; i--) {
			uint64_t b = random_addr(&rng), e = random_addr(&rng);

			if (e > b)
				add(b, e - b, xorshift64s(&rng) % 3 ? AVAIL :
				    1 + xorshift64s(&rng) % 6);
		}
		a.ioapic_count = xorshift64s(&rng) % 4;
		for (size_t i = 0; i < a.ioapic_count; i++)
			a.ioapic[i] = random_addr(&rng);
		a.ecam_count = xorshift64s(&rng) % 2;
		if (a.ecam_count)
			a.ecam[0] = (struct phys_range){ random_addr(&rng),
							 random_addr(&rng) };
		platform_mmio_build(&mmio, random_addr(&rng) | 0x1000, &a);
		n = carve();
		for (size_t i = 0; i < n; i++) {
			assert_true(out[i].len > 0);
			assert_int_equal((out[i].base | out[i].len) & PAGE_MASK, 0);
			assert_true(i == 0 || out[i - 1].base + out[i - 1].len < out[i].base);
		}
		for (uint64_t f = 0; f < WINDOW_FRAMES; f++)
			if (frame_is_ram(f) != frame_in_output(n, f))
				fail_msg("trial %d frame %llu: ram %d, output %d", trial,
					 (unsigned long long)f, frame_is_ram(f),
					 frame_in_output(n, f));
		for (size_t i = 0; i < n_carves; i++) {
			assert_true(carves[i].base < carves[i].end);
			assert_true(carves[i].avail.base <= carves[i].base);
			assert_true(carves[i].end <= carves[i].avail.base + carves[i].avail.len);
		}
	}
}

/* ---- Firmware memory and clipping ------------------------------------------ */

static void test_firmware_memory(void **state)
{
	(void)state;
	bochs_map();
	assert_true(memmap_is_firmware(&info, 0xfff0000, 0x10000));
	assert_true(memmap_is_firmware(&info, 0xfff0024, 36));
	assert_true(memmap_is_firmware(&info, 0x9f000, 0x1000));
	assert_false(memmap_is_firmware(&info, 0x9f000, 0x1001)); /* into a gap */
	assert_false(memmap_is_firmware(&info, 0xffeffff, 2));     /* into RAM */
	assert_false(memmap_is_firmware(&info, 0x200000, 36));     /* RAM */
	assert_false(memmap_is_firmware(&info, 0xc0000000, 36));   /* nothing */
	assert_false(memmap_is_firmware(&info, 0xfff0000, 0));
	assert_false(memmap_is_firmware(&info, UINT64_MAX - 10, 36));

	/* Adjacent firmware entries of different types join. */
	add(0x10000000, 0x1000, MB2_MEM_NVS);
	assert_true(memmap_is_firmware(&info, 0xffff000, 0x2000));

	/* An entry that also calls the bytes RAM (or bad) makes them unreadable. */
	add(0xfff8000, 0x1000, AVAIL);
	assert_false(memmap_is_firmware(&info, 0xfff0000, 0x10000));
	assert_true(memmap_is_firmware(&info, 0xfff0000, 0x8000));
	add(0x9f800, 0x10, MB2_MEM_BADRAM);
	assert_false(memmap_is_firmware(&info, 0x9f000, 0x1000));
}

static void test_clip(void **state)
{
	const struct phys_range in[] = {
		{ 0, 0x9f000 }, { MIB, 15 * MIB }, { 0xffff0000, 0x20000 },
		{ UINT64_MAX - 0xfff, 0x1000 },
	};
	struct phys_range c[ARRAY_SIZE(in)];

	(void)state;
	assert_int_equal(memmap_clip(in, ARRAY_SIZE(in), MIB, 0x100000000ull, c), 2);
	assert_int_equal(c[0].base, MIB);
	assert_int_equal(c[0].len, 15 * MIB);
	assert_int_equal(c[1].base, 0xffff0000);
	assert_int_equal(c[1].len, 0x10000);
	assert_int_equal(memmap_clip(in, ARRAY_SIZE(in), MIB, UINT64_MAX, c), 3);
	assert_int_equal(c[2].len, 0xfff);
	assert_int_equal(memmap_clip(in, ARRAY_SIZE(in), 0x9f000, MIB, c), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_without_acpi),
		cmocka_unit_test(test_acpi_only_adds),
		cmocka_unit_test(test_acpi_elsewhere_keeps_defaults),
		cmocka_unit_test(test_overlap_lookup),
		cmocka_unit_test(test_bochs_map_needs_no_carve),
		cmocka_unit_test(test_available_over_the_apics_is_carved),
		cmocka_unit_test(test_ecam_and_relocated_apic_are_carved),
		cmocka_unit_test(test_non_ram_entries_win),
		cmocka_unit_test(test_legacy_hole_is_carved),
		cmocka_unit_test(test_messy_available_entries_merge),
		cmocka_unit_test(test_extreme_entries),
		cmocka_unit_test(test_most_pieces_fit),
		cmocka_unit_test(test_random_maps_frame_by_frame),
		cmocka_unit_test(test_firmware_memory),
		cmocka_unit_test(test_clip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
