/*
 * Unit tests of the guest's initial page tables and GDT (tcb/guest_pt.c).
 *
 * The guest's memory is sparse here: the callback hands out a page only
 * when the builder asks for it, fresh and full of garbage, with a guard
 * page on either side. The builder must ask for the four table pages and
 * the GDT page and nothing else, must not write outside them, and must
 * leave the tables so that a software walker following SDM Vol. 3A 4.5
 * (4-level paging) finds exactly the identity map the guest ABI promises.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <custos/guest_abi.h>
#include "tcb/guest_pt.h"

#define PG       4096ull
#define MIB2     0x200000ull
#define GIB      0x40000000ull
#define GARBAGE  0xa5
#define MAX_PAGES 8

/* Entry bits, SDM Vol. 3A Tables 4-15 to 4-20, written out again. */
#define F_P    0x001ull
#define F_RW   0x002ull
#define F_US   0x004ull
#define F_PWT  0x008ull
#define F_PCD  0x010ull
#define F_PS   0x080ull
#define F_XD   (1ull << 63)
#define ADDR_4K 0x000ffffffffff000ull
#define ADDR_2M 0x000fffffffe00000ull

struct gpage {
	uint64_t gpa;
	uint8_t *block; /* guard page, the page, guard page */
};

struct guest_mem {
	uint64_t mem_size;
	uint64_t missing_gpa; /* the callback pretends this page is absent */
	bool has_missing;
	struct gpage pages[MAX_PAGES];
	unsigned n_pages;
	uint64_t asked[32];
	unsigned n_asked;
};

static const uint64_t builder_pages[] = {
	GUEST_PAGE_TABLES_GPA, GUEST_PAGE_TABLES_GPA + 0x1000,
	GUEST_PAGE_TABLES_GPA + 0x2000, GUEST_PAGE_TABLES_GPA + 0x3000,
	GUEST_GDT_GPA,
};

static uint64_t *page_of(struct guest_mem *m, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < m->n_pages; i++)
		if (m->pages[i].gpa == gpa)
			return (uint64_t *)(m->pages[i].block + PG);
	return NULL;
}

static void *get_page(uint64_t gpa, void *ctx)
{
	struct guest_mem *m = ctx;
	struct gpage *p;
	uint64_t *existing;

	assert_true(m->n_asked < 32);
	m->asked[m->n_asked++] = gpa;
	if ((gpa & (PG - 1)) != 0 || gpa >= m->mem_size)
		return NULL;
	if (m->has_missing && gpa == m->missing_gpa)
		return NULL;
	existing = page_of(m, gpa);
	if (existing)
		return existing;
	assert_true(m->n_pages < MAX_PAGES);
	p = &m->pages[m->n_pages++];
	p->gpa = gpa;
	p->block = aligned_alloc(PG, 3 * PG);
	assert_non_null(p->block);
	memset(p->block, GARBAGE, 3 * PG);
	return p->block + PG;
}

static void mem_init(struct guest_mem *m, uint64_t mem_size)
{
	memset(m, 0, sizeof(*m));
	m->mem_size = mem_size;
}

static bool all_garbage(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != GARBAGE)
			return false;
	return true;
}

/* The builder wrote nothing outside its pages. */
static void expect_guards_intact(const struct guest_mem *m)
{
	unsigned i;

	for (i = 0; i < m->n_pages; i++) {
		assert_true(all_garbage(m->pages[i].block, PG));
		assert_true(all_garbage(m->pages[i].block + 2 * PG, PG));
	}
}

static void mem_free(struct guest_mem *m)
{
	unsigned i;

	for (i = 0; i < m->n_pages; i++)
		free(m->pages[i].block);
	m->n_pages = 0;
}

/* Asked for exactly the builder's five pages, each once. */
static void expect_asked_only_builder_pages(const struct guest_mem *m)
{
	unsigned i, j, hits;

	assert_int_equal(m->n_asked, ARRAY_SIZE(builder_pages));
	for (i = 0; i < ARRAY_SIZE(builder_pages); i++) {
		hits = 0;
		for (j = 0; j < m->n_asked; j++)
			hits += m->asked[j] == builder_pages[i];
		assert_int_equal(hits, 1);
	}
}

/* ---- A software MMU: 4-level paging, SDM Vol. 3A 4.5 ------------------- */

struct xlate {
	bool present;
	uint64_t pa;
	bool writable, user, nx, cached_wb;
	uint64_t page_size;
};

/* Every entry the walker uses must hold only bits the builder may set. */
static uint64_t read_entry(struct guest_mem *m, uint64_t table_gpa,
			   unsigned index)
{
	uint64_t *t = page_of(m, table_gpa);

	if (!t)
		fail_msg("table at gpa %#llx is not one of the builder's pages",
			 (unsigned long long)table_gpa);
	return t[index];
}

static void accumulate(struct xlate *x, uint64_t ent)
{
	x->writable = x->writable && (ent & F_RW);
	x->user = x->user && (ent & F_US);
	x->nx = x->nx || (ent & F_XD);
	x->cached_wb = x->cached_wb && !(ent & (F_PWT | F_PCD));
}

static struct xlate walk(struct guest_mem *m, uint64_t cr3, uint64_t va)
{
	struct xlate x = { .writable = true, .user = true, .cached_wb = true };
	uint64_t ent;

	assert_true(va < (1ull << 47)); /* canonical, lower half */
	x.cached_wb = !(cr3 & (F_PWT | F_PCD));
	ent = read_entry(m, cr3 & ADDR_4K, (va >> 39) & 511);
	if (!(ent & F_P))
		return x;
	assert_int_equal(ent & F_PS, 0); /* reserved in a PML4E */
	accumulate(&x, ent);
	ent = read_entry(m, ent & ADDR_4K, (va >> 30) & 511);
	if (!(ent & F_P))
		return x;
	assert_int_equal(ent & F_PS, 0); /* no 1 GiB pages expected */
	accumulate(&x, ent);
	ent = read_entry(m, ent & ADDR_4K, (va >> 21) & 511);
	if (!(ent & F_P))
		return x;
	accumulate(&x, ent);
	if (ent & F_PS) {
		assert_int_equal(ent & 0x1fe000ull, 0); /* bits 20:13 reserved */
		assert_int_equal(ent & 0x1000ull, 0);   /* PAT: WB with the default PAT */
		x.present = true;
		x.pa = (ent & ADDR_2M) | (va & (MIB2 - 1));
		x.page_size = MIB2;
		return x;
	}
	ent = read_entry(m, ent & ADDR_4K, (va >> 12) & 511);
	if (!(ent & F_P))
		return x;
	assert_int_equal(ent & 0x80ull, 0); /* PAT bit of a PTE */
	accumulate(&x, ent);
	x.present = true;
	x.pa = (ent & ADDR_4K) | (va & (PG - 1));
	x.page_size = PG;
	return x;
}

static void expect_identity(struct guest_mem *m, uint64_t cr3, uint64_t va,
			    uint64_t page_size)
{
	struct xlate x = walk(m, cr3, va);

	if (!x.present)
		fail_msg("va %#llx not mapped", (unsigned long long)va);
	assert_int_equal(x.pa, va);
	assert_int_equal(x.page_size, page_size);
	assert_true(x.writable);
	assert_false(x.user);  /* CPL 0 only */
	assert_false(x.nx);    /* executable */
	assert_true(x.cached_wb);
}

static void expect_not_present(struct guest_mem *m, uint64_t cr3, uint64_t va)
{
	if (walk(m, cr3, va).present)
		fail_msg("va %#llx is mapped", (unsigned long long)va);
}

/* Every entry in the four tables is 0 or exactly what it must be. */
static void expect_exact_tables(struct guest_mem *m, uint64_t mem_size)
{
	const uint64_t *pml4 = page_of(m, GUEST_PAGE_TABLES_GPA);
	const uint64_t *pdpt = page_of(m, GUEST_PAGE_TABLES_GPA + 0x1000);
	const uint64_t *pd = page_of(m, GUEST_PAGE_TABLES_GPA + 0x2000);
	const uint64_t *pt0 = page_of(m, GUEST_PAGE_TABLES_GPA + 0x3000);
	unsigned i;

	assert_int_equal(pml4[0], (GUEST_PAGE_TABLES_GPA + 0x1000) | F_P | F_RW);
	assert_int_equal(pdpt[0], (GUEST_PAGE_TABLES_GPA + 0x2000) | F_P | F_RW);
	assert_int_equal(pd[0], (GUEST_PAGE_TABLES_GPA + 0x3000) | F_P | F_RW);
	assert_int_equal(pt0[0], 0);
	for (i = 1; i < 512; i++) {
		assert_int_equal(pml4[i], 0);
		assert_int_equal(pdpt[i], 0);
		assert_int_equal(pt0[i], i * PG | F_P | F_RW);
		if (i < mem_size / MIB2)
			assert_int_equal(pd[i], i * MIB2 | F_PS | F_P | F_RW);
		else
			assert_int_equal(pd[i], 0);
	}
}

static void check_build(uint64_t mem_size)
{
	struct guest_mem m;
	uint64_t cr3 = 0xdead, va;

	mem_init(&m, mem_size);
	assert_int_equal(guest_pt_build(mem_size, get_page, &m, &cr3), 0);
	assert_int_equal(cr3, GUEST_PAGE_TABLES_GPA); /* PWT = PCD = 0 */
	expect_asked_only_builder_pages(&m);
	expect_guards_intact(&m);
	expect_exact_tables(&m, mem_size);

	/* Page 0 faults, whatever the offset. */
	expect_not_present(&m, cr3, 0);
	expect_not_present(&m, cr3, 0x8);
	expect_not_present(&m, cr3, PG - 1);
	/* Every other page of [0, mem_size) maps to itself. */
	for (va = PG; va < MIB2; va += PG) {
		expect_identity(&m, cr3, va, PG);
		expect_identity(&m, cr3, va + 0xabc, PG);
	}
	for (va = MIB2; va < mem_size; va += PG)
		expect_identity(&m, cr3, va, MIB2);
	expect_identity(&m, cr3, mem_size - 1, mem_size == MIB2 ? PG : MIB2);
	/* Nothing at or above mem_size. */
	for (va = mem_size; va < 2 * GIB; va += MIB2 / 2)
		expect_not_present(&m, cr3, va);
	expect_not_present(&m, cr3, 512 * GIB);
	expect_not_present(&m, cr3, (1ull << 47) - PG);
	mem_free(&m);
}

static void test_build_2mib(void **state)
{
	(void)state;
	check_build(2 * 0x100000ull);
}

static void test_build_4mib(void **state)
{
	(void)state;
	check_build(4 * 0x100000ull);
}

static void test_build_6mib(void **state)
{
	(void)state;
	check_build(6 * 0x100000ull);
}

static void test_build_1gib(void **state)
{
	(void)state;
	check_build(GIB);
}

static void test_build_1gib_minus_2mib(void **state)
{
	(void)state;
	check_build(GIB - MIB2);
}

/* GDT: null, then flat 64-bit code at 0x08 and data at 0x10, accessed
 * bits set (SDM Vol. 3A 3.4.5); the rest of the page zero. */
static void test_gdt(void **state)
{
	struct guest_mem m;
	uint64_t cr3, code, data;
	const uint64_t *gdt;
	unsigned i;

	(void)state;
	mem_init(&m, 8 * MIB2);
	assert_int_equal(guest_pt_build(m.mem_size, get_page, &m, &cr3), 0);
	gdt = page_of(&m, GUEST_GDT_GPA);
	assert_non_null(gdt);
	assert_int_equal(gdt[0], 0);
	code = gdt[GUEST_SEL_CODE >> 3];
	data = gdt[GUEST_SEL_DATA >> 3];
	assert_int_equal(code, 0x00af9b000000ffffull);
	assert_int_equal(data, 0x00cf93000000ffffull);
	/* decoded: type, S, DPL, P, L, D/B, G */
	assert_int_equal((code >> 40) & 0xf, 0xb); /* execute/read, accessed */
	assert_int_equal((code >> 44) & 1, 1);
	assert_int_equal((code >> 45) & 3, 0);
	assert_int_equal((code >> 47) & 1, 1);
	assert_int_equal((code >> 53) & 1, 1);     /* L: 64-bit code */
	assert_int_equal((code >> 54) & 1, 0);     /* D must be 0 with L */
	assert_int_equal((data >> 40) & 0xf, 0x3); /* read/write, accessed */
	assert_int_equal((data >> 44) & 1, 1);
	assert_int_equal((data >> 45) & 3, 0);
	assert_int_equal((data >> 47) & 1, 1);
	for (i = 3; i < 512; i++)
		assert_int_equal(gdt[i], 0);
	/* the GDT page is mapped for the guest at its own address */
	expect_identity(&m, cr3, GUEST_GDT_GPA, PG);
	mem_free(&m);
}

static void test_invalid_sizes(void **state)
{
	static const uint64_t bad[] = {
		0, 1, PG, 0x100000, MIB2 - PG, MIB2 + PG, 3 * 0x100000,
		5 * 0x100000, GIB + MIB2, GIB + PG, 2 * GIB, 1ull << 47,
		UINT64_MAX, UINT64_MAX - MIB2 + 1, GUEST_MEM_MAX + GUEST_MEM_ALIGN,
	};
	struct guest_mem m;
	uint64_t cr3;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		mem_init(&m, GIB);
		cr3 = 0x1234;
		assert_int_equal(guest_pt_build(bad[i], get_page, &m, &cr3), -1);
		assert_int_equal(m.n_asked, 0);
		assert_int_equal(cr3, 0x1234);
	}
	mem_init(&m, GIB);
	assert_int_equal(guest_pt_build(MIB2, NULL, &m, &cr3), -1);
	assert_int_equal(guest_pt_build(MIB2, get_page, &m, NULL), -1);
	assert_int_equal(m.n_asked, 0);
}

/* Any one of the five pages missing: -1, and nothing written anywhere. */
static void test_missing_page(void **state)
{
	struct guest_mem m;
	uint64_t cr3;
	size_t i;
	unsigned j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(builder_pages); i++) {
		mem_init(&m, 4 * MIB2);
		m.has_missing = true;
		m.missing_gpa = builder_pages[i];
		cr3 = 0x1234;
		assert_int_equal(guest_pt_build(m.mem_size, get_page, &m, &cr3), -1);
		assert_int_equal(cr3, 0x1234);
		for (j = 0; j < m.n_pages; j++)
			assert_true(all_garbage(m.pages[j].block, 3 * PG));
		mem_free(&m);
	}
}

/* Building again over a guest's used pages gives the same tables. */
static void test_rebuild_over_dirty_pages(void **state)
{
	struct guest_mem m;
	uint64_t cr3;
	unsigned i;

	(void)state;
	mem_init(&m, 4 * MIB2);
	assert_int_equal(guest_pt_build(m.mem_size, get_page, &m, &cr3), 0);
	for (i = 0; i < m.n_pages; i++)
		memset(m.pages[i].block + PG, 0x5c, PG);
	m.n_asked = 0;
	assert_int_equal(guest_pt_build(m.mem_size, get_page, &m, &cr3), 0);
	expect_asked_only_builder_pages(&m);
	expect_exact_tables(&m, m.mem_size);
	expect_not_present(&m, cr3, 0);
	expect_identity(&m, cr3, 3 * MIB2 + 5 * PG, MIB2);
	expect_guards_intact(&m);
	mem_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_2mib),
		cmocka_unit_test(test_build_4mib),
		cmocka_unit_test(test_build_6mib),
		cmocka_unit_test(test_build_1gib),
		cmocka_unit_test(test_build_1gib_minus_2mib),
		cmocka_unit_test(test_gdt),
		cmocka_unit_test(test_invalid_sizes),
		cmocka_unit_test(test_missing_page),
		cmocka_unit_test(test_rebuild_over_dirty_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
