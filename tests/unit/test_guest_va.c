/*
 * The guest page walk (tcb/guest_va.c) over page tables built here in a
 * model of guest memory: 4 KiB, 2 MiB and 1 GiB pages, every level not
 * present, every reserved bit, non-canonical addresses, the protection
 * checks, reads across pages, tables outside the guest's memory, and
 * tables that point at themselves (still at most four reads a walk).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "tcb/guest_va.h"

#define MEM_SIZE   (1u << 20) /* the model guest's memory: 1 MiB */
#define P   (1ull << 0)
#define RW  (1ull << 1)
#define US  (1ull << 2)
#define PS  (1ull << 7)
#define NX  (1ull << 63)
#define CR0_PG (1ull << 31)
#define CR0_WP (1ull << 16)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define CR4_SMEP (1ull << 20)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

static uint8_t mem[MEM_SIZE];
static uint64_t next_table; /* bump allocator for table pages */
static unsigned reads;      /* callback calls */

static bool read_mem(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	reads++;
	if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
		return false;
	memcpy(buf, mem + gpa, len);
	return true;
}

static uint64_t *entry(uint64_t table_gpa, unsigned index)
{
	return (uint64_t *)(mem + table_gpa) + index;
}

static uint64_t new_table(void)
{
	uint64_t t = next_table;

	next_table += 0x1000;
	assert_true(next_table <= 0x40000); /* tables below 256 KiB */
	memset(mem + t, 0, 0x1000);
	return t;
}

static struct guest_paging paging(void)
{
	return (struct guest_paging){
		.cr0 = CR0_PG | CR0_WP | 1,
		.cr3 = 0,
		.cr4 = CR4_PAE,
		.efer = EFER_LME | EFER_LMA | EFER_NXE,
		.maxphyaddr = 40,
		.read = read_mem,
	};
}

static struct guest_paging g;

static int setup(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	next_table = 0;
	g = paging();
	g.cr3 = new_table();
	return 0;
}

/* The table at level (4 = PML4 ... 2 = PD) on gva's walk, made if missing,
 * with flags on the way down. */
static uint64_t table_for(uint64_t gva, unsigned level, uint64_t flags)
{
	uint64_t t = g.cr3 & ~0xfffull;

	for (unsigned l = 4; l > level; l--) {
		uint64_t *e = entry(t, (gva >> (12 + 9 * (l - 1))) & 511);

		if (!(*e & P))
			*e = new_table() | flags;
		t = *e & 0x000ffffffffff000ull;
	}
	return t;
}

static void map4k(uint64_t gva, uint64_t gpa, uint64_t flags)
{
	*entry(table_for(gva, 1, P | RW | US), (gva >> 12) & 511) = gpa | flags;
}

static void map2m(uint64_t gva, uint64_t gpa, uint64_t flags)
{
	*entry(table_for(gva, 2, P | RW | US), (gva >> 21) & 511) = gpa | flags | PS;
}

static void map1g(uint64_t gva, uint64_t gpa, uint64_t flags)
{
	*entry(table_for(gva, 3, P | RW | US), (gva >> 30) & 511) = gpa | flags | PS;
}

static enum gva_status tr(uint64_t gva, unsigned access, uint64_t *gpa)
{
	*gpa = 0xdeadbeef;
	return gva_translate(&g, gva, access, gpa);
}

static void test_4k_2m_1g_pages(void **state)
{
	(void)state;
	uint64_t gpa;

	map4k(0x401000, 0x80000, P | RW);
	map2m(0x7fe00000, 0x200000, P | RW);
	map1g(0x7f8000000000ull, 0x40000000, P);
	assert_int_equal(tr(0x401abc, 0, &gpa), GVA_OK);
	assert_int_equal(gpa, 0x80abc);
	assert_int_equal(tr(0x7fe12345, 0, &gpa), GVA_OK);
	assert_int_equal(gpa, 0x212345);
	assert_int_equal(tr(0x7f8012345678ull, 0, &gpa), GVA_OK);
	assert_int_equal(gpa, 0x52345678);
	/* The canonical upper half. */
	map4k(0xffffffff80001000ull, 0x81000, P);
	assert_int_equal(tr(0xffffffff80001fffull, 0, &gpa), GVA_OK);
	assert_int_equal(gpa, 0x81fff);
	/* The PAT bit (12) of a large page is not an address bit. */
	map2m(0x7fc00000, 0x400000 | (1ull << 12), P);
	assert_int_equal(tr(0x7fc00010, 0, &gpa), GVA_OK);
	assert_int_equal(gpa, 0x400010);
}

static void test_not_present_at_each_level(void **state)
{
	(void)state;
	uint64_t gpa, va = 0x12345678000ull;

	assert_int_equal(tr(va, 0, &gpa), GVA_NOT_PRESENT); /* PML4E */
	map4k(va, 0x90000, P);
	assert_int_equal(tr(va, 0, &gpa), GVA_OK);
	uint64_t pml4e = *entry(g.cr3, (va >> 39) & 511);
	uint64_t pdpt = pml4e & ~0xfffull, *pdpte = entry(pdpt, (va >> 30) & 511);
	uint64_t pd = *pdpte & ~0xfffull, *pde = entry(pd, (va >> 21) & 511);
	uint64_t pt = *pde & ~0xfffull, *pte = entry(pt, (va >> 12) & 511);

	*pte &= ~P;
	assert_int_equal(tr(va, 0, &gpa), GVA_NOT_PRESENT);
	*pte |= P;
	*pde &= ~P;
	assert_int_equal(tr(va, 0, &gpa), GVA_NOT_PRESENT);
	*pde |= P;
	*pdpte &= ~P;
	assert_int_equal(tr(va, 0, &gpa), GVA_NOT_PRESENT);
	*pdpte |= P;
	assert_int_equal(tr(va, 0, &gpa), GVA_OK);
	assert_int_equal(gpa, 0x90000);
	assert_int_equal(tr(va + 0x1000, 0, &gpa), GVA_NOT_PRESENT); /* next PTE */
	assert_int_equal(gpa, 0xdeadbeef); /* untouched on error */
}

static void test_reserved_bits(void **state)
{
	(void)state;
	uint64_t gpa, va = 0x600000;

	map4k(va, 0x91000, P | RW);
	uint64_t *pml4e = entry(g.cr3, 0);
	uint64_t *pdpte = entry(*pml4e & ~0xfffull, 0);
	uint64_t *pde = entry(*pdpte & ~0xfffull, 3);
	uint64_t *pte = entry(*pde & ~0xfffull, 0);
	uint64_t *const entries[] = { pml4e, pdpte, pde, pte };

	/* An address bit at or above the width (40), at every level. */
	for (int i = 0; i < 4; i++) {
		*entries[i] |= 1ull << 40;
		assert_int_equal(tr(va, 0, &gpa), GVA_RESERVED_BIT);
		*entries[i] &= ~(1ull << 40);
		*entries[i] |= 1ull << 51;
		assert_int_equal(tr(va, 0, &gpa), GVA_RESERVED_BIT);
		*entries[i] &= ~(1ull << 51);
		/* Bits 62:52 are the guest's (available): no error. */
		*entries[i] |= 1ull << 52 | 1ull << 62;
		assert_int_equal(tr(va, 0, &gpa), GVA_OK);
		*entries[i] &= ~(1ull << 52 | 1ull << 62);
		/* NX is reserved without EFER.NXE. */
		*entries[i] |= NX;
		g.efer &= ~EFER_NXE;
		assert_int_equal(tr(va, 0, &gpa), GVA_RESERVED_BIT);
		g.efer |= EFER_NXE;
		assert_int_equal(tr(va, 0, &gpa), GVA_OK);
		*entries[i] &= ~NX;
	}
	/* With a 52-bit width, bit 51 is an address bit; a width the walker
	 * does not know counts as 52. */
	*pte = 0x91000 | P | (1ull << 45);
	assert_int_equal(tr(va, 0, &gpa), GVA_RESERVED_BIT);
	g.maxphyaddr = 52;
	assert_int_equal(tr(va, 0, &gpa), GVA_OK);
	assert_int_equal(gpa, 0x91000 | (1ull << 45));
	g.maxphyaddr = 99;
	assert_int_equal(tr(va, 0, &gpa), GVA_OK);
	g.maxphyaddr = 40;
	*pte = 0x91000 | P;
	/* PS in a PML4E. */
	*pml4e |= PS;
	assert_int_equal(tr(va, 0, &gpa), GVA_RESERVED_BIT);
	*pml4e &= ~PS;
	/* Bits 20:13 of a 2 MiB leaf, 29:13 of a 1 GiB leaf. */
	map2m(0x7fe00000, 0x200000 | (1ull << 13), P);
	assert_int_equal(tr(0x7fe00000, 0, &gpa), GVA_RESERVED_BIT);
	map2m(0x7fe00000, 0x200000 | (1ull << 20), P);
	assert_int_equal(tr(0x7fe00000, 0, &gpa), GVA_RESERVED_BIT);
	map1g(0x8000000000ull, 0x40000000 | (1ull << 21), P);
	assert_int_equal(tr(0x8000000000ull, 0, &gpa), GVA_RESERVED_BIT);
	map1g(0x8000000000ull, 0x40000000 | (1ull << 29), P);
	assert_int_equal(tr(0x8000000000ull, 0, &gpa), GVA_RESERVED_BIT);
	map1g(0x8000000000ull, 0x40000000, P);
	assert_int_equal(tr(0x8000000000ull, 0, &gpa), GVA_OK);
	/* ...the same bits in a PDPTE or PDE pointing at a table are address
	 * bits, not reserved ones: here the PD is at 0x2000, the PT at 0x3000. */
	assert_true(*pdpte & (1ull << 13));
	assert_true(*pde & (1ull << 13));
	assert_int_equal(tr(va, 0, &gpa), GVA_OK);
}

static void test_noncanonical(void **state)
{
	(void)state;
	uint64_t gpa;
	const uint64_t bad[] = {
		0x0000800000000000ull, 0x00007fffffffffffull + 1,
		0xffff7fffffffffffull, 0x8000000000000000ull,
		0x7fffffffffffffffull, 0x0001000000000000ull,
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reads = 0;
		assert_int_equal(tr(bad[i], 0, &gpa), GVA_NONCANONICAL);
		assert_int_equal(reads, 0); /* refused before any table read */
	}
}

static void test_protection(void **state)
{
	(void)state;
	uint64_t gpa;

	map4k(0x1000, 0x92000, P);            /* supervisor, read-only */
	map4k(0x2000, 0x93000, P | RW | US);  /* user, writable */
	map4k(0x3000, 0x94000, P | RW | NX);  /* supervisor, no-execute */
	assert_int_equal(tr(0x1000, 0, &gpa), GVA_OK);
	assert_int_equal(tr(0x1000, GVA_FETCH, &gpa), GVA_OK);
	assert_int_equal(tr(0x1000, GVA_USER, &gpa), GVA_DENIED);
	assert_int_equal(tr(0x1000, GVA_WRITE, &gpa), GVA_DENIED); /* CR0.WP */
	g.cr0 &= ~CR0_WP;
	assert_int_equal(tr(0x1000, GVA_WRITE, &gpa), GVA_OK);
	assert_int_equal(tr(0x1000, GVA_WRITE | GVA_USER, &gpa), GVA_DENIED);
	g.cr0 |= CR0_WP;
	assert_int_equal(tr(0x2000, GVA_WRITE | GVA_USER | GVA_FETCH, &gpa), GVA_OK);
	assert_int_equal(tr(0x3000, GVA_FETCH, &gpa), GVA_DENIED);
	assert_int_equal(tr(0x3000, GVA_WRITE, &gpa), GVA_OK);
	/* SMEP: no supervisor fetch from a user page. */
	g.cr4 |= CR4_SMEP;
	assert_int_equal(tr(0x2000, GVA_FETCH, &gpa), GVA_DENIED);
	assert_int_equal(tr(0x2000, GVA_FETCH | GVA_USER, &gpa), GVA_OK);
	assert_int_equal(tr(0x1000, GVA_FETCH, &gpa), GVA_OK);
	g.cr4 &= ~CR4_SMEP;
	/* The most restrictive level counts: U clear in the PDE. */
	uint64_t *pml4e = entry(g.cr3, 0), *pdpte = entry(*pml4e & ~0xfffull, 0);
	uint64_t *pde = entry(*pdpte & ~0xfffull, 0);
	*pde &= ~US;
	assert_int_equal(tr(0x2000, GVA_USER, &gpa), GVA_DENIED);
	*pde &= ~RW;
	*pde |= US;
	assert_int_equal(tr(0x2000, GVA_USER | GVA_WRITE, &gpa), GVA_DENIED);
	assert_int_equal(tr(0x2000, GVA_USER, &gpa), GVA_OK);
	*pde |= NX;
	assert_int_equal(tr(0x2000, GVA_USER | GVA_FETCH, &gpa), GVA_DENIED);
	assert_int_equal(gpa, 0xdeadbeef);
}

static void test_modes(void **state)
{
	(void)state;
	uint64_t gpa;

	/* No paging: linear = physical, 32 bits. */
	g.cr0 = 1;
	g.efer = 0;
	assert_int_equal(tr(0x12345, 0, &gpa), GVA_OK);
	assert_int_equal(gpa, 0x12345);
	assert_int_equal(tr(0xffffffffull, GVA_FETCH, &gpa), GVA_OK);
	assert_int_equal(tr(0x100000000ull, 0, &gpa), GVA_NONCANONICAL);
	/* Legacy 32-bit and PAE paging, 5-level paging: not supported. */
	g.cr0 = CR0_PG | 1;
	g.cr4 = 0;
	assert_int_equal(tr(0x1000, 0, &gpa), GVA_UNSUPPORTED_MODE);
	g.cr4 = CR4_PAE;
	assert_int_equal(tr(0x1000, 0, &gpa), GVA_UNSUPPORTED_MODE);
	g.efer = EFER_LME | EFER_LMA;
	g.cr4 = CR4_PAE | CR4_LA57;
	assert_int_equal(tr(0x1000, 0, &gpa), GVA_UNSUPPORTED_MODE);
	g.cr4 = CR4_PAE;
	assert_int_equal(tr(0x1000, 0, &gpa), GVA_NOT_PRESENT);
}

static void test_tables_outside_guest_memory(void **state)
{
	(void)state;
	uint64_t gpa;
	uint8_t b[4];

	g.cr3 = MEM_SIZE; /* the PML4 just past the end */
	assert_int_equal(tr(0, 0, &gpa), GVA_UNREADABLE);
	setup(NULL);
	map4k(0x5000, 0x95000, P);
	*entry(g.cr3, 0) = 0xfff000 | P | RW; /* PDPT outside */
	assert_int_equal(tr(0x5000, 0, &gpa), GVA_UNREADABLE);
	setup(NULL);
	/* A leaf outside memory translates; reading it does not. */
	map4k(0x5000, 0x7ffff000, P);
	assert_int_equal(tr(0x5000, 0, &gpa), GVA_OK);
	assert_int_equal(gva_read(&g, 0x5000, 0, b, sizeof(b)), GVA_UNREADABLE);
	/* CR3's low and high flag bits are not address bits. */
	g.cr3 |= 0x18 | (1ull << 63);
	assert_int_equal(tr(0x5000, 0, &gpa), GVA_OK);
}

static void test_self_referencing_tables(void **state)
{
	(void)state;
	uint64_t gpa;

	/* PML4[0] -> the PML4 itself, as PDPT, PD and PT: four reads, and
	 * the "page" found is the PML4. */
	*entry(g.cr3, 0) = g.cr3 | P | RW;
	reads = 0;
	assert_int_equal(tr(0x123, 0, &gpa), GVA_OK);
	assert_int_equal(gpa, g.cr3 + 0x123);
	assert_int_equal(reads, 4);
	/* Every entry a loop: still four reads for any address. */
	for (unsigned i = 0; i < 512; i++)
		*entry(g.cr3, i) = g.cr3 | P | RW;
	reads = 0;
	assert_int_equal(tr(0x00007fffffffffffull, 0, &gpa), GVA_OK);
	assert_int_equal(reads, 4);
}

static void test_read_across_pages(void **state)
{
	(void)state;
	uint8_t out[8];

	/* Two neighbouring pages far apart in guest-physical memory, the
	 * second below the first. */
	map4k(0x7000, 0xa0000, P);
	map4k(0x8000, 0x50000, P);
	mem[0xa0ffd] = 1;
	mem[0xa0ffe] = 2;
	mem[0xa0fff] = 3;
	mem[0xa1000] = 0xee; /* what follows in guest-physical memory */
	mem[0x50000] = 4;
	mem[0x50001] = 5;
	assert_int_equal(gva_read(&g, 0x7ffd, GVA_FETCH, out, 5), GVA_OK);
	assert_memory_equal(out, ((uint8_t[]){ 1, 2, 3, 4, 5 }), 5);
	/* The second page unmapped: the read fails. */
	map4k(0x9000, 0, 0);
	assert_int_equal(gva_read(&g, 0x8ffe, 0, out, 3), GVA_NOT_PRESENT);
	/* The second page mapped without execute: a fetch across fails. */
	map4k(0x9000, 0xb0000, P | NX);
	assert_int_equal(gva_read(&g, 0x8ffe, 0, out, 3), GVA_OK);
	assert_int_equal(gva_read(&g, 0x8ffe, GVA_FETCH, out, 3), GVA_DENIED);
	/* Nothing to read is no error. */
	assert_int_equal(gva_read(&g, 0x0000800000000000ull, 0, out, 0), GVA_OK);
	/* A read running past 2^64 or into the non-canonical hole fails. */
	map4k(0xfffffffffffff000ull, 0xc0000, P);
	assert_int_equal(gva_read(&g, 0xfffffffffffffffeull, 0, out, 2), GVA_OK);
	assert_int_equal(gva_read(&g, 0xfffffffffffffffeull, 0, out, 3),
			 GVA_NONCANONICAL);
	map4k(0x00007ffffffff000ull, 0xc1000, P);
	assert_int_equal(gva_read(&g, 0x00007ffffffffffeull, 0, out, 3),
			 GVA_NONCANONICAL);
	/* Without paging: identity, and nothing past 4 GiB. */
	g.cr0 = 1;
	assert_int_equal(gva_read(&g, 0xa0ffd, GVA_FETCH, out, 3), GVA_OK);
	assert_memory_equal(out, ((uint8_t[]){ 1, 2, 3 }), 3);
	assert_int_equal(gva_read(&g, 0xfffffffeull, 0, out, 2), GVA_UNREADABLE);
	assert_int_equal(gva_read(&g, 0x100000000ull, 0, out, 1), GVA_NONCANONICAL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(gva_status_name(GVA_NOT_PRESENT), "not present");
	assert_string_equal(gva_status_name(GVA_OK), "ok");
	for (int s = GVA_OK; s <= GVA_UNSUPPORTED_MODE; s++)
		assert_string_not_equal(gva_status_name((enum gva_status)s), "?");
	assert_string_equal(gva_status_name((enum gva_status)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_4k_2m_1g_pages, setup),
		cmocka_unit_test_setup(test_not_present_at_each_level, setup),
		cmocka_unit_test_setup(test_reserved_bits, setup),
		cmocka_unit_test_setup(test_noncanonical, setup),
		cmocka_unit_test_setup(test_protection, setup),
		cmocka_unit_test_setup(test_modes, setup),
		cmocka_unit_test_setup(test_tables_outside_guest_memory, setup),
		cmocka_unit_test_setup(test_self_referencing_tables, setup),
		cmocka_unit_test_setup(test_read_across_pages, setup),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
