/*
 * Unit and model-based tests of the nested page table builder (tcb/npt.c),
 * the part of the TCB that decides which host frames a guest can reach.
 * Every test of the builder runs once per format (the groups "EPT" and
 * "AMD64" in main()), so both formats are held to the same invariants; a
 * few more check what only one format encodes.
 *
 * Host frames are fake RAM: a page-aligned buffer of whole 4 KiB frames,
 * filled with garbage at the start, managed by a real frame table. The test
 * implements tcb_phys_to_virt() over it and counts every call that breaks
 * the contract the TCB must keep with stricter rules than the platform's:
 * npt.c may only ever look at its own table frames, so any call for a frame
 * that is not a TCB frame (a guest's frame, a free or unmanaged frame, a
 * frame outside RAM) is a bug even where the hypervisor would not notice.
 *
 * Both formats are decoded here independently of npt.c (a small software
 * walker with its own constants from the SDM and the APM), so the tests
 * check the bits the CPU will see, not npt.c's idea of them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/npt.h"
#include "tcb/frame_table.h"
#include "tcb/platform.h"
#include "xorshift.h"

#define NFRAMES        384u
#define FIRST_MANAGED  4u  /* frames 0..3 are "firmware": unmanaged */
#define BOOT_FIRST     4u  /* frames 4..7: the "hypervisor image" (TCB) */
#define BOOT_FRAMES    4u
#define GARBAGE        0xa5

#define VM0 frame_owner_vm(0)
#define VM1 frame_owner_vm(1)
#define VM2 frame_owner_vm(2)
#define HOG frame_owner_vm(99) /* soaks up free frames to make memory short */

/* SDM Vol. 3C 29.3.2 / 25.6.11, APM Vol. 2 5.3.3, written out again on
 * purpose. */
#define T_ADDR     0x000ffffffffff000ull
#define T_MT_WB    6ull
#define T_P        (1ull << 0)
#define T_RW       (1ull << 1)
#define T_US       (1ull << 2)
#define T_PWT      (1ull << 3)
#define T_PCD      (1ull << 4)
#define T_A        (1ull << 5)
#define T_D        (1ull << 6)
#define T_PS_PAT   (1ull << 7) /* PS above a PTE, PAT in a PTE */
#define T_G        (1ull << 8)
#define T_NX       (1ull << 63)
#define GIB        (1ull << 30)
#define MIB2       (2ull << 20)

struct env {
	uint8_t *ram;
	frame_owner_t *owner;
	uint64_t *known_zero;
	uint64_t nframes;
	struct frame_table ft;
	unsigned long bad_phys; /* tcb_phys_to_virt() for a non-TCB frame */
	uint64_t last_bad_pa;
	unsigned long zero_calls;
};

static struct env *cur;
/* The format every test of the builder uses; set by the group's setup. */
static enum npt_format fmt;
static uint64_t scratch[512] __attribute__((aligned(4096)));

void *tcb_phys_to_virt(uint64_t addr)
{
	uint64_t pfn = addr >> PAGE_SHIFT;

	if (!cur || (addr & PAGE_MASK) != 0 || pfn >= cur->nframes ||
	    frame_owner(&cur->ft, pfn) != FRAME_TCB) {
		if (cur) {
			cur->bad_phys++;
			cur->last_bad_pa = addr;
		}
		memset(scratch, 0, sizeof(scratch));
		return scratch;
	}
	return cur->ram + addr;
}

static void zero_frame(uint64_t pfn, void *ctx)
{
	struct env *env = ctx;

	assert_true(pfn < env->nframes);
	env->zero_calls++;
	memset(env->ram + pfn * PAGE_SIZE, 0, PAGE_SIZE);
}

/* Frames [first_usable, nframes) managed, BOOT_FIRST.. reserved by the TCB
 * (when inside the usable part). */
static struct env *env_new_sized(uint64_t nframes, uint64_t first_usable)
{
	struct env *env = calloc(1, sizeof(*env));

	assert_non_null(env);
	env->nframes = nframes;
	env->ram = aligned_alloc(PAGE_SIZE, nframes * PAGE_SIZE);
	env->owner = calloc(nframes, sizeof(frame_owner_t));
	env->known_zero = calloc(frame_table_zero_words(nframes), sizeof(uint64_t));
	assert_non_null(env->ram);
	assert_non_null(env->owner);
	assert_non_null(env->known_zero);
	memset(env->ram, GARBAGE, nframes * PAGE_SIZE);
	frame_table_init(&env->ft, env->owner, env->known_zero, nframes,
			 zero_frame, env);
	frame_table_add_usable(&env->ft, first_usable * PAGE_SIZE,
			       (nframes - first_usable) * PAGE_SIZE);
	frame_table_reserve_boot(&env->ft, BOOT_FIRST * PAGE_SIZE,
				 BOOT_FRAMES * PAGE_SIZE);
	frame_table_seal(&env->ft);
	assert_true(frame_table_check(&env->ft));
	cur = env;
	return env;
}

static struct env *env_new(void)
{
	return env_new_sized(NFRAMES, FIRST_MANAGED);
}

static void env_free(struct env *env)
{
	assert_int_equal(env->bad_phys, 0);
	assert_true(frame_table_check(&env->ft));
	cur = NULL;
	free(env->ram);
	free(env->owner);
	free(env->known_zero);
	free(env);
}

static uint64_t *frame_words(struct env *env, uint64_t pfn)
{
	return (uint64_t *)(env->ram + pfn * PAGE_SIZE);
}

static bool frame_is_zero(struct env *env, uint64_t pfn)
{
	const uint64_t *w = frame_words(env, pfn);
	unsigned i;

	for (i = 0; i < PAGE_SIZE / 8; i++)
		if (w[i] != 0)
			return false;
	return true;
}

static uint64_t take_frame(struct env *env, frame_owner_t owner)
{
	uint64_t pfn = UINT64_MAX;

	assert_int_equal(frame_alloc(&env->ft, owner, &pfn), FRAME_OK);
	return pfn;
}

/* Give HOG free frames until exactly 'left' are free. */
static void hog_until(struct env *env, uint64_t left)
{
	while (env->ft.free_count > left)
		take_frame(env, HOG);
}

/* Give every HOG frame back. */
static void unhog(struct env *env)
{
	uint64_t pfn;

	for (pfn = 0; pfn < env->nframes; pfn++)
		if (env->owner[pfn] == HOG)
			assert_int_equal(frame_release(&env->ft, pfn, HOG), FRAME_OK);
}

/* ---- The test's own walker, for both formats ------------------------------ */

static bool t_present(uint64_t ent)
{
	return fmt == NPT_EPT ? (ent & 7) != 0 : (ent & T_P) != 0;
}

/* The perms a leaf gives the guest, as the CPU reads them. */
static unsigned t_leaf_perms(uint64_t ent)
{
	if (fmt == NPT_EPT)
		return (unsigned)(ent & 7);
	if (!(ent & T_P))
		return 0;
	return NPT_READ | (ent & T_RW ? NPT_WRITE : 0) |
	       (ent & T_NX ? 0 : NPT_EXEC);
}

static uint64_t *t_table(struct env *env, uint64_t table_pa)
{
	assert_true(table_pa / PAGE_SIZE < env->nframes);
	return frame_words(env, table_pa / PAGE_SIZE);
}

static unsigned t_index(uint64_t gpa, int level)
{
	return (unsigned)(gpa >> (12 + 9 * level)) & 511;
}

/* The entry at 'level' on gpa's path (3 = PML4E ... 0 = PTE), or NULL. */
static uint64_t *t_slot(struct env *env, const struct npt *e, uint64_t gpa,
			int level)
{
	uint64_t table_pa = e->root_pa;
	int l;

	for (l = 3; l > level; l--) {
		uint64_t ent = t_table(env, table_pa)[t_index(gpa, l)];

		if (!t_present(ent))
			return NULL;
		table_pa = ent & T_ADDR;
	}
	return &t_table(env, table_pa)[t_index(gpa, level)];
}

static uint64_t t_leaf(struct env *env, const struct npt *e, uint64_t gpa)
{
	uint64_t *slot = t_slot(env, e, gpa, 0);

	assert_non_null(slot);
	return *slot;
}

/* ---- Snapshots: a refused call must change nothing at all --------------- */

struct snap {
	uint8_t *ram;
	frame_owner_t *owner;
	struct frame_table ft;
	struct npt e;
};

static void snap_take(struct env *env, const struct npt *e, struct snap *s)
{
	s->ram = malloc(env->nframes * PAGE_SIZE);
	s->owner = malloc(env->nframes * sizeof(frame_owner_t));
	assert_non_null(s->ram);
	assert_non_null(s->owner);
	memcpy(s->ram, env->ram, env->nframes * PAGE_SIZE);
	memcpy(s->owner, env->owner, env->nframes * sizeof(frame_owner_t));
	s->ft = env->ft;
	s->e = *e;
}

static void snap_expect_same(struct env *env, const struct npt *e,
			     const struct snap *s)
{
	assert_memory_equal(s->owner, env->owner,
			    env->nframes * sizeof(frame_owner_t));
	assert_int_equal(s->ft.free_count, env->ft.free_count);
	assert_int_equal(s->e.root_pa, e->root_pa);
	assert_int_equal(s->e.owner, e->owner);
	assert_int_equal(s->e.table_frames, e->table_frames);
	assert_int_equal(s->e.mapped_pages, e->mapped_pages);
	assert_true(memcmp(s->ram, env->ram, env->nframes * PAGE_SIZE) == 0);
}

static void snap_free(struct snap *s)
{
	free(s->ram);
	free(s->owner);
}

static void expect_translate(const struct npt *e, uint64_t gpa, uint64_t pfn,
			     unsigned perms)
{
	uint64_t hpa = 0;
	unsigned p = 0;

	assert_true(npt_translate(e, gpa, &hpa, &p));
	assert_int_equal(hpa, (pfn << PAGE_SHIFT) | (gpa & PAGE_MASK));
	assert_int_equal(p, perms);
}

static void expect_unmapped(const struct npt *e, uint64_t gpa)
{
	uint64_t hpa = 0x1234;
	unsigned p = 99;

	assert_false(npt_translate(e, gpa, &hpa, &p));
	assert_int_equal(hpa, 0x1234); /* untouched on failure */
	assert_int_equal(p, 99);
}

/* ---- init ------------------------------------------------------------------ */

static void test_init_owner_values(void **state)
{
	static const frame_owner_t bad[] = {
		FRAME_UNMANAGED, FRAME_FREE, FRAME_TCB,
		(frame_owner_t)(FRAME_VM_BASE + FRAME_MAX_VMS), 0xffff,
	};
	struct env *env = env_new();
	uint64_t free0 = env->ft.free_count;
	struct npt e;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&e, 0x5a, sizeof(e));
		assert_int_equal(npt_init(&e, &env->ft, bad[i], fmt), NPT_E_INVAL);
		assert_int_equal(e.root_pa, 0);
		assert_int_equal(e.table_frames, 0);
		assert_int_equal(env->ft.free_count, free0);
	}
	assert_int_equal(npt_init(&e, &env->ft, frame_owner_vm(FRAME_MAX_VMS - 1), fmt),
			 NPT_OK);
	assert_int_equal(e.table_frames, 1);
	assert_int_equal(e.mapped_pages, 0);
	assert_int_equal(e.root_pa & PAGE_MASK, 0);
	assert_int_equal(frame_owner(&env->ft, e.root_pa >> PAGE_SHIFT), FRAME_TCB);
	assert_true(frame_is_zero(env, e.root_pa >> PAGE_SHIFT));
	assert_int_equal(env->ft.free_count, free0 - 1);
	assert_true(npt_check(&e, &env->ft));
	npt_destroy(&e, &env->ft);
	assert_int_equal(env->ft.free_count, free0);
	env_free(env);
}

/* Out of memory at init; and everything is harmless on empty tables. */
static void test_init_nomem_and_empty_tables(void **state)
{
	struct env *env = env_new();
	struct npt e, zeroed;
	uint64_t pfn;

	(void)state;
	hog_until(env, 0);
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_E_NOMEM);
	assert_int_equal(e.root_pa, 0);
	unhog(env);
	pfn = take_frame(env, VM0);
	assert_true(npt_check(&e, &env->ft));
	assert_int_equal(npt_root_pointer(&e), 0);
	expect_unmapped(&e, 0);
	assert_int_equal(npt_map(&e, &env->ft, 0, pfn, NPT_RWX), NPT_E_INVAL);
	assert_int_equal(npt_populate(&e, &env->ft, 0, PAGE_SIZE, NPT_RWX),
			 NPT_E_INVAL);
	npt_destroy(&e, &env->ft);
	memset(&zeroed, 0, sizeof(zeroed));
	npt_destroy(&zeroed, &env->ft); /* never initialised */
	assert_true(npt_check(&zeroed, &env->ft));
	assert_int_equal(frame_owner(&env->ft, pfn), VM0);
	assert_int_equal(frame_release(&env->ft, pfn, VM0), FRAME_OK);
	env_free(env);
}

/* root_pa == 0 means "no tables", so frame 0 must never become the root. */
static void test_root_never_frame0(void **state)
{
	struct env *env = env_new_sized(NFRAMES, 0);
	uint64_t free0 = env->ft.free_count;
	struct npt e;

	(void)state;
	assert_int_equal(frame_owner(&env->ft, 0), FRAME_FREE);
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	assert_int_not_equal(e.root_pa, 0);
	assert_int_equal(frame_owner(&env->ft, 0), FRAME_FREE);
	assert_int_equal(env->ft.free_count, free0 - 1);
	assert_int_equal(npt_populate(&e, &env->ft, 0, 8 * PAGE_SIZE, NPT_RWX),
			 NPT_OK);
	assert_true(npt_check(&e, &env->ft));
	npt_destroy(&e, &env->ft);
	assert_int_equal(env->ft.free_count, free0);

	/* Only frame 0 and one more free: init still works, frame 0 stays. */
	hog_until(env, 0);
	assert_int_equal(frame_release(&env->ft, 0, HOG), FRAME_OK);
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_E_NOMEM);
	assert_int_equal(e.root_pa, 0);
	assert_int_equal(env->ft.free_count, 1);
	assert_int_equal(frame_owner(&env->ft, 0), FRAME_FREE);
	assert_int_equal(frame_release(&env->ft, 100, HOG), FRAME_OK);
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	assert_int_equal(e.root_pa, 100 * PAGE_SIZE);
	assert_int_equal(frame_owner(&env->ft, 0), FRAME_FREE);
	npt_destroy(&e, &env->ft);
	unhog(env);
	assert_int_equal(env->ft.free_count, free0);
	env_free(env);
}

/* ---- map and translate ------------------------------------------------------ */

static void test_map_translate_roundtrip(void **state)
{
	static const uint64_t gpas[] = {
		0, PAGE_SIZE, MIB2 - PAGE_SIZE, MIB2, GIB, 512 * GIB,
		0x123456789000ull, NPT_GPA_LIMIT - PAGE_SIZE,
	};
	static const unsigned perms[] = {
		NPT_READ, NPT_READ | NPT_WRITE, NPT_RWX, NPT_READ | NPT_EXEC,
		NPT_READ, NPT_RWX, NPT_READ, NPT_RWX,
	};
	struct env *env = env_new();
	uint64_t pfn[ARRAY_SIZE(gpas)];
	struct npt e;
	size_t i;

	(void)state;
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	for (i = 0; i < ARRAY_SIZE(gpas); i++) {
		pfn[i] = take_frame(env, VM0);
		assert_int_equal(npt_map(&e, &env->ft, gpas[i], pfn[i], perms[i]),
				 NPT_OK);
		assert_true(npt_check(&e, &env->ft));
	}
	assert_int_equal(e.mapped_pages, ARRAY_SIZE(gpas));
	for (i = 0; i < ARRAY_SIZE(gpas); i++) {
		expect_translate(&e, gpas[i], pfn[i], perms[i]);
		expect_translate(&e, gpas[i] + 0x7ff, pfn[i], perms[i]);
		expect_translate(&e, gpas[i] + 0xfff, pfn[i], perms[i]);
	}
	/* Neighbours stay unmapped, so do addresses beyond the tables. */
	expect_unmapped(&e, 2 * PAGE_SIZE);
	expect_unmapped(&e, MIB2 + PAGE_SIZE);
	expect_unmapped(&e, GIB - PAGE_SIZE);
	expect_unmapped(&e, 0x123456788000ull);
	expect_unmapped(&e, NPT_GPA_LIMIT);
	expect_unmapped(&e, NPT_GPA_LIMIT + PAGE_SIZE); /* PAGE_SIZE mod 2^48: mapped */
	expect_unmapped(&e, UINT64_MAX);
	assert_true(npt_translate(&e, 0, NULL, NULL));
	npt_destroy(&e, &env->ft);
	env_free(env);
}

/* Frames the VM does not own are refused, whatever they are, and nothing
 * changes: no table frame allocated, nothing zeroed, nothing written. */
static void test_map_refuses_frames_not_owned(void **state)
{
	struct env *env = env_new();
	struct npt e, other;
	uint64_t other_pfn, free_pfn, own_pfn;
	uint64_t bad[12];
	unsigned long zero0;
	struct snap s;
	size_t i, n = 0;

	(void)state;
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	assert_int_equal(npt_init(&other, &env->ft, VM1, fmt), NPT_OK);
	own_pfn = take_frame(env, VM0);
	assert_int_equal(npt_map(&e, &env->ft, 0x5000, own_pfn, NPT_RWX), NPT_OK);
	assert_int_equal(npt_populate(&other, &env->ft, 0, 4 * PAGE_SIZE, NPT_RWX),
			 NPT_OK);
	assert_true(npt_translate(&other, 0, &other_pfn, NULL));
	other_pfn >>= PAGE_SHIFT;
	free_pfn = NFRAMES - 1;
	assert_int_equal(frame_owner(&env->ft, free_pfn), FRAME_FREE);

	bad[n++] = other_pfn;                      /* another VM's */
	bad[n++] = other.root_pa >> PAGE_SHIFT;    /* another VM's root */
	bad[n++] = e.root_pa >> PAGE_SHIFT;        /* our own root */
	bad[n++] = t_slot(env, &e, 0x5000, 1) ?    /* our own PT */
		   (*t_slot(env, &e, 0x5000, 1) & T_ADDR) >> PAGE_SHIFT : 0;
	bad[n++] = BOOT_FIRST;                     /* hypervisor image */
	bad[n++] = free_pfn;                       /* free */
	bad[n++] = 0;                              /* unmanaged */
	bad[n++] = FIRST_MANAGED - 1;              /* unmanaged */
	bad[n++] = NFRAMES;                        /* past the table */
	bad[n++] = 1ull << 40;                     /* past any address */
	bad[n++] = UINT64_MAX;
	bad[n++] = UINT64_MAX >> PAGE_SHIFT;

	zero0 = env->zero_calls;
	snap_take(env, &e, &s);
	for (i = 0; i < n; i++) {
		/* a fresh gpa that would need three new tables, and one that
		 * would need none */
		assert_int_equal(npt_map(&e, &env->ft, 7 * GIB, bad[i], NPT_RWX),
				 NPT_E_NOT_OWNER);
		assert_int_equal(npt_map(&e, &env->ft, 0x6000, bad[i], NPT_READ),
				 NPT_E_NOT_OWNER);
		snap_expect_same(env, &e, &s);
	}
	assert_int_equal(env->zero_calls, zero0);
	snap_free(&s);
	expect_unmapped(&e, 7 * GIB);
	assert_true(npt_check(&e, &env->ft));
	assert_true(npt_check(&other, &env->ft));
	npt_destroy(&e, &env->ft);
	npt_destroy(&other, &env->ft);
	env_free(env);
}

static void test_map_refuses_bad_arguments(void **state)
{
	static const uint64_t bad_gpa[] = {
		1, 0x800, 0xfff, 0x1001, NPT_GPA_LIMIT, NPT_GPA_LIMIT + PAGE_SIZE,
		1ull << 52, UINT64_MAX & ~PAGE_MASK, UINT64_MAX,
	};
	static const unsigned bad_perms[] = {
		0, NPT_WRITE, NPT_WRITE | NPT_EXEC, NPT_EXEC, 0x8, 0x10, NPT_RWX | 0x8,
		NPT_READ | 0x40, 0xff, ~0u,
	};
	struct env *env = env_new();
	struct npt e;
	struct snap s;
	uint64_t pfn;
	size_t i;

	(void)state;
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	pfn = take_frame(env, VM0);
	snap_take(env, &e, &s);
	for (i = 0; i < ARRAY_SIZE(bad_gpa); i++) {
		assert_int_equal(npt_map(&e, &env->ft, bad_gpa[i], pfn, NPT_RWX),
				 NPT_E_INVAL);
		snap_expect_same(env, &e, &s);
	}
	for (i = 0; i < ARRAY_SIZE(bad_perms); i++) {
		assert_int_equal(npt_map(&e, &env->ft, 0x3000, pfn, bad_perms[i]),
				 NPT_E_INVAL);
		snap_expect_same(env, &e, &s);
	}
	snap_free(&s);
	/* Each valid combination is accepted. */
	assert_int_equal(npt_map(&e, &env->ft, 0x3000, pfn, NPT_READ | NPT_WRITE),
			 NPT_OK);
	assert_true(npt_check(&e, &env->ft));
	npt_destroy(&e, &env->ft);
	env_free(env);
}

static void test_map_refuses_mapped_gpa(void **state)
{
	struct env *env = env_new();
	uint64_t a, b;
	struct npt e;
	struct snap s;

	(void)state;
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	a = take_frame(env, VM0);
	b = take_frame(env, VM0);
	assert_int_equal(npt_map(&e, &env->ft, GIB, a, NPT_READ), NPT_OK);
	snap_take(env, &e, &s);
	assert_int_equal(npt_map(&e, &env->ft, GIB, b, NPT_RWX), NPT_E_MAPPED);
	assert_int_equal(npt_map(&e, &env->ft, GIB, a, NPT_READ), NPT_E_MAPPED);
	snap_expect_same(env, &e, &s);
	snap_free(&s);
	expect_translate(&e, GIB, a, NPT_READ);
	assert_int_equal(npt_map(&e, &env->ft, GIB + PAGE_SIZE, b, NPT_RWX), NPT_OK);
	assert_true(npt_check(&e, &env->ft));
	npt_destroy(&e, &env->ft);
	env_free(env);
}

/* Running out of table frames half-way down: the tables this call made are
 * given back, so the call changed nothing. */
static void test_map_nomem_changes_nothing(void **state)
{
	struct env *env = env_new();
	uint64_t pfn, left;
	struct npt e;
	struct snap s;

	(void)state;
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	pfn = take_frame(env, VM0);
	/* gpa 5 GiB needs a PDPT, a PD and a PT: 3 frames. */
	for (left = 0; left < 3; left++) {
		hog_until(env, left);
		snap_take(env, &e, &s);
		assert_int_equal(npt_map(&e, &env->ft, 5 * GIB, pfn, NPT_RWX),
				 NPT_E_NOMEM);
		assert_int_equal(env->ft.free_count, left);
		assert_int_equal(e.table_frames, 1);
		/* the tables were allocated, zeroed and released again: the
		 * frames' owners and the tables are as before, contents are zero */
		assert_memory_equal(s.owner, env->owner,
				    NFRAMES * sizeof(frame_owner_t));
		assert_true(npt_check(&e, &env->ft) == false); /* pfn unmapped */
		snap_free(&s);
		expect_unmapped(&e, 5 * GIB);
		unhog(env);
	}
	hog_until(env, 3);
	assert_int_equal(npt_map(&e, &env->ft, 5 * GIB, pfn, NPT_RWX), NPT_OK);
	assert_int_equal(e.table_frames, 4);
	assert_int_equal(env->ft.free_count, 0);
	assert_true(npt_check(&e, &env->ft));
	/* With the tables there, the next page in the same PT needs nothing. */
	assert_int_equal(frame_release(&env->ft, 200, HOG), FRAME_OK);
	pfn = take_frame(env, VM0);
	assert_int_equal(npt_map(&e, &env->ft, 5 * GIB + PAGE_SIZE, pfn, NPT_RWX),
			 NPT_OK);
	assert_true(npt_check(&e, &env->ft));
	npt_destroy(&e, &env->ft);
	unhog(env);
	env_free(env);
}

/* ---- populate ------------------------------------------------------------------- */

static void test_populate_basic(void **state)
{
	struct env *env = env_new();
	uint64_t free0 = env->ft.free_count, hpa, seen[16], i, j;
	struct npt e;
	unsigned p;

	(void)state;
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	assert_int_equal(npt_populate(&e, &env->ft, 0x100000, 16 * PAGE_SIZE,
				      NPT_READ | NPT_EXEC), NPT_OK);
	assert_int_equal(e.mapped_pages, 16);
	assert_int_equal(e.table_frames, 4);
	assert_int_equal(env->ft.free_count, free0 - 16 - 4);
	assert_int_equal(frame_count_owned(&env->ft, VM0), 16);
	for (i = 0; i < 16; i++) {
		assert_true(npt_translate(&e, 0x100000 + i * PAGE_SIZE, &hpa, &p));
		assert_int_equal(p, NPT_READ | NPT_EXEC);
		assert_int_equal(frame_owner(&env->ft, hpa >> PAGE_SHIFT), VM0);
		assert_true(frame_is_zero(env, hpa >> PAGE_SHIFT));
		seen[i] = hpa;
		for (j = 0; j < i; j++)
			assert_int_not_equal(seen[j], hpa);
	}
	expect_unmapped(&e, 0x100000 - PAGE_SIZE);
	expect_unmapped(&e, 0x100000 + 16 * PAGE_SIZE);
	assert_true(npt_check(&e, &env->ft));
	npt_destroy(&e, &env->ft);
	assert_int_equal(env->ft.free_count, free0);
	env_free(env);
}

static void test_populate_refusals(void **state)
{
	struct env *env = env_new();
	struct npt e;
	struct snap s;
	uint64_t pfn;

	(void)state;
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	pfn = take_frame(env, VM0);
	assert_int_equal(npt_map(&e, &env->ft, 0x10000, pfn, NPT_RWX), NPT_OK);
	snap_take(env, &e, &s);
#define REFUSE(gpa, size, perms, err)                                          \
	do {                                                                   \
		assert_int_equal(npt_populate(&e, &env->ft, gpa, size, perms), \
				 err);                                         \
		snap_expect_same(env, &e, &s);                                 \
	} while (0)
	REFUSE(0, 0, NPT_RWX, NPT_E_INVAL);
	REFUSE(0, 0x800, NPT_RWX, NPT_E_INVAL);
	REFUSE(0, PAGE_SIZE + 1, NPT_RWX, NPT_E_INVAL);
	REFUSE(0x800, PAGE_SIZE, NPT_RWX, NPT_E_INVAL);
	REFUSE(0, PAGE_SIZE, 0, NPT_E_INVAL);
	REFUSE(0, PAGE_SIZE, NPT_WRITE, NPT_E_INVAL);
	REFUSE(0, PAGE_SIZE, NPT_WRITE | NPT_EXEC, NPT_E_INVAL);
	REFUSE(0, PAGE_SIZE, 0x8 | NPT_READ, NPT_E_INVAL);
	REFUSE(NPT_GPA_LIMIT, PAGE_SIZE, NPT_RWX, NPT_E_INVAL);
	REFUSE(NPT_GPA_LIMIT - PAGE_SIZE, 2 * PAGE_SIZE, NPT_RWX, NPT_E_INVAL);
	REFUSE(PAGE_SIZE, UINT64_MAX & ~PAGE_MASK, NPT_RWX, NPT_E_INVAL);
	REFUSE(UINT64_MAX & ~PAGE_MASK, 2 * PAGE_SIZE, NPT_RWX, NPT_E_INVAL);
	/* overlaps the mapping at 0x10000: at its start, end and middle */
	REFUSE(0x10000, 4 * PAGE_SIZE, NPT_RWX, NPT_E_MAPPED);
	REFUSE(0xd000, 4 * PAGE_SIZE, NPT_RWX, NPT_E_MAPPED);
	REFUSE(0x8000, 16 * PAGE_SIZE, NPT_RWX, NPT_E_MAPPED);
	/* more pages than free frames */
	REFUSE(GIB, (env->ft.free_count + 1) * PAGE_SIZE, NPT_RWX, NPT_E_NOMEM);
#undef REFUSE
	snap_free(&s);
	/* the edge of the tables is fine */
	assert_int_equal(npt_populate(&e, &env->ft, NPT_GPA_LIMIT - 2 * PAGE_SIZE,
				      2 * PAGE_SIZE, NPT_READ), NPT_OK);
	assert_true(npt_check(&e, &env->ft));
	npt_destroy(&e, &env->ft);
	env_free(env);
}

/*
 * Ranges may span the whole guest-physical space (2^36 pages): a walk over
 * them skips blocks without tables in one step, or a refused populate or an
 * unpopulate of the whole space would hold the CPU for hours. Only the
 * pages mapped at both ends are found and released.
 */
static void test_range_walks_skip_missing_tables(void **state)
{
	const uint64_t top = NPT_GPA_LIMIT - PAGE_SIZE;
	struct env *env = env_new();
	uint64_t free0 = env->ft.free_count;
	struct npt e;

	(void)state;
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	assert_int_equal(npt_populate(&e, &env->ft, 0x10000, PAGE_SIZE, NPT_RWX),
			 NPT_OK);
	assert_int_equal(npt_populate(&e, &env->ft, top, PAGE_SIZE, NPT_RWX),
			 NPT_OK);
	assert_int_equal(npt_populate(&e, &env->ft, PAGE_SIZE, top, NPT_RWX),
			 NPT_E_MAPPED);
	assert_int_equal(npt_populate(&e, &env->ft, 0x11000, top - 0x11000,
				      NPT_RWX), NPT_E_NOMEM);
	assert_int_equal(npt_unpopulate(&e, &env->ft, PAGE_SIZE,
					top - PAGE_SIZE), NPT_OK);
	assert_int_equal(e.mapped_pages, 1);
	expect_unmapped(&e, 0x10000);
	assert_int_equal(npt_unpopulate(&e, &env->ft, 0, NPT_GPA_LIMIT), NPT_OK);
	assert_int_equal(e.mapped_pages, 0);
	assert_int_equal(e.table_frames, 1);
	assert_true(npt_check(&e, &env->ft));
	npt_destroy(&e, &env->ft);
	assert_int_equal(env->ft.free_count, free0);
	env_free(env);
}

/*
 * For every amount of free memory below what a populate needs, it fails
 * and leaves the free count, the ownership table and the tables exactly as
 * they were; with exactly enough it succeeds. The range straddles a 2 MiB
 * and a 1 GiB boundary so it needs tables at every level part-way through.
 */
static void test_populate_all_or_nothing(void **state)
{
	const uint64_t gpa = GIB - 8 * PAGE_SIZE, pages = 16;
	/* PDPT; PD0 + PT for the low half; PD1 + PT for the high half */
	const uint64_t tables = 5;
	struct env *env = env_new();
	uint64_t left, keep_pfn;
	struct npt e;
	struct snap s;

	(void)state;
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	for (left = 0; left < pages + tables; left++) {
		hog_until(env, left);
		snap_take(env, &e, &s);
		assert_int_equal(npt_populate(&e, &env->ft, gpa, pages * PAGE_SIZE,
					      NPT_RWX), NPT_E_NOMEM);
		assert_memory_equal(s.owner, env->owner,
				    NFRAMES * sizeof(frame_owner_t));
		assert_int_equal(env->ft.free_count, left);
		assert_int_equal(e.table_frames, 1);
		assert_int_equal(e.mapped_pages, 0);
		assert_int_equal(frame_count_owned(&env->ft, VM0), 0);
		assert_true(npt_check(&e, &env->ft));
		assert_true(frame_is_zero(env, e.root_pa >> PAGE_SHIFT));
		snap_free(&s);
		unhog(env);
	}
	hog_until(env, pages + tables);
	assert_int_equal(npt_populate(&e, &env->ft, gpa, pages * PAGE_SIZE,
				      NPT_RWX), NPT_OK);
	assert_int_equal(env->ft.free_count, 0);
	assert_int_equal(e.table_frames, 1 + tables);
	assert_true(npt_check(&e, &env->ft));
	unhog(env);

	/*
	 * Failing again on top of existing mappings keeps them and their
	 * tables. [2 GiB - 8 pages, 2 GiB + 8 pages) needs 16 frames, a PT in
	 * the existing PD, then a new PD and PT: 19 in all. With 16..18 free
	 * the page pre-check passes and the call fails part-way.
	 */
	keep_pfn = t_leaf(env, &e, gpa) >> PAGE_SHIFT;
	for (left = 16; left < 19; left++) {
		hog_until(env, left);
		assert_int_equal(npt_populate(&e, &env->ft, 2 * GIB - 8 * PAGE_SIZE,
					      16 * PAGE_SIZE, NPT_RWX), NPT_E_NOMEM);
		assert_int_equal(env->ft.free_count, left);
		assert_int_equal(e.table_frames, 1 + tables);
		assert_int_equal(e.mapped_pages, pages);
		expect_translate(&e, gpa, keep_pfn, NPT_RWX);
		expect_unmapped(&e, 2 * GIB - 8 * PAGE_SIZE);
		expect_unmapped(&e, 2 * GIB);
		assert_true(npt_check(&e, &env->ft));
		unhog(env);
	}
	unhog(env);
	npt_destroy(&e, &env->ft);
	env_free(env);
}

/* ---- destroy ------------------------------------------------------------------ */

/* Every frame referenced by e: tables (root included) and leaves. */
static void t_collect_level(struct env *env, uint64_t table_pa, int level,
			    uint64_t *tables, size_t *nt, uint64_t *leaves,
			    size_t *nl)
{
	const uint64_t *t = t_table(env, table_pa);
	unsigned i;

	for (i = 0; i < 512; i++) {
		if (!t_present(t[i]))
			continue;
		if (level == 0) {
			leaves[(*nl)++] = (t[i] & T_ADDR) >> PAGE_SHIFT;
			continue;
		}
		tables[(*nt)++] = (t[i] & T_ADDR) >> PAGE_SHIFT;
		t_collect_level(env, t[i] & T_ADDR, level - 1, tables, nt,
				leaves, nl);
	}
}

static void t_collect(struct env *env, const struct npt *e, uint64_t *tables,
		      size_t *nt, uint64_t *leaves, size_t *nl)
{
	*nt = 0;
	*nl = 0;
	tables[(*nt)++] = e->root_pa >> PAGE_SHIFT;
	t_collect_level(env, e->root_pa, 3, tables, nt, leaves, nl);
}

static uint64_t pattern(frame_owner_t owner, uint64_t gpa)
{
	return ((uint64_t)owner * 0x9e3779b97f4a7c15ull) ^ gpa ^ 1;
}

/* The VM writes into its pages, found through the tables as the CPU would. */
static void vm_fill(struct env *env, const struct npt *e, uint64_t gpa)
{
	uint64_t hpa;
	uint64_t *w;
	unsigned i;

	assert_true(npt_translate(e, gpa, &hpa, NULL));
	w = frame_words(env, hpa >> PAGE_SHIFT);
	for (i = 0; i < PAGE_SIZE / 8; i++)
		w[i] = pattern(e->owner, gpa) + i;
}

static void vm_expect(struct env *env, const struct npt *e, uint64_t gpa)
{
	uint64_t hpa;
	const uint64_t *w;
	unsigned i;

	assert_true(npt_translate(e, gpa, &hpa, NULL));
	w = frame_words(env, hpa >> PAGE_SHIFT);
	for (i = 0; i < PAGE_SIZE / 8; i++)
		assert_int_equal(w[i], pattern(e->owner, gpa) + i);
}

static void test_destroy_returns_everything(void **state)
{
	static const uint64_t extra_gpa[] = {
		MIB2, 0x7000000, 512 * GIB, NPT_GPA_LIMIT - PAGE_SIZE,
	};
	struct env *env = env_new();
	uint64_t free0 = env->ft.free_count;
	uint64_t tcb0 = frame_count_owned(&env->ft, FRAME_TCB);
	uint64_t tables[NFRAMES], leaves[NFRAMES], gpa;
	size_t nt, nl, i;
	struct npt e, zeroed;

	(void)state;
	memset(&zeroed, 0, sizeof(zeroed));
	assert_int_equal(npt_init(&e, &env->ft, VM1, fmt), NPT_OK);
	assert_int_equal(npt_populate(&e, &env->ft, 0, 32 * PAGE_SIZE, NPT_RWX),
			 NPT_OK);
	assert_int_equal(npt_populate(&e, &env->ft, 3 * GIB, 8 * PAGE_SIZE,
				      NPT_READ), NPT_OK);
	for (i = 0; i < ARRAY_SIZE(extra_gpa); i++)
		assert_int_equal(npt_map(&e, &env->ft, extra_gpa[i],
					 take_frame(env, VM1), NPT_RWX), NPT_OK);
	assert_true(npt_check(&e, &env->ft));
	for (gpa = 0; gpa < 32 * PAGE_SIZE; gpa += PAGE_SIZE)
		vm_fill(env, &e, gpa);
	for (gpa = 3 * GIB; gpa < 3 * GIB + 8 * PAGE_SIZE; gpa += PAGE_SIZE)
		vm_fill(env, &e, gpa);
	for (i = 0; i < ARRAY_SIZE(extra_gpa); i++)
		vm_fill(env, &e, extra_gpa[i]);
	t_collect(env, &e, tables, &nt, leaves, &nl);
	assert_int_equal(nl, 44);
	assert_int_equal(nt, e.table_frames);

	npt_destroy(&e, &env->ft);
	assert_memory_equal(&e, &zeroed, sizeof(e));
	assert_int_equal(env->ft.free_count, free0);
	assert_int_equal(frame_count_owned(&env->ft, VM1), 0);
	assert_int_equal(frame_count_owned(&env->ft, FRAME_TCB), tcb0);
	for (i = 0; i < nl; i++) {
		assert_int_equal(frame_owner(&env->ft, leaves[i]), FRAME_FREE);
		assert_true(frame_is_zero(env, leaves[i]));
	}
	for (i = 0; i < nt; i++) {
		assert_int_equal(frame_owner(&env->ft, tables[i]), FRAME_FREE);
		assert_true(frame_is_zero(env, tables[i]));
	}
	/* again, and on the emptied struct: nothing happens */
	npt_destroy(&e, &env->ft);
	assert_int_equal(env->ft.free_count, free0);
	assert_true(npt_check(&e, &env->ft));
	env_free(env);
}

/* ---- isolation between VMs ------------------------------------------------- */

static bool in_set(const uint64_t *set, size_t n, uint64_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

static void test_two_vms_disjoint(void **state)
{
	struct env *env = env_new();
	uint64_t free0 = env->ft.free_count;
	uint64_t tab[3][NFRAMES], leaf[3][NFRAMES];
	size_t nt[3], nl[3], v, w, i;
	struct npt e[3];
	uint64_t gpa;

	(void)state;
	for (v = 0; v < 3; v++)
		assert_int_equal(npt_init(&e[v], &env->ft, frame_owner_vm(v), fmt),
				 NPT_OK);
	/* interleaved, overlapping guest ranges */
	assert_int_equal(npt_populate(&e[0], &env->ft, 0, 40 * PAGE_SIZE, NPT_RWX), NPT_OK);
	assert_int_equal(npt_populate(&e[1], &env->ft, 0, 40 * PAGE_SIZE, NPT_RWX), NPT_OK);
	assert_int_equal(npt_populate(&e[0], &env->ft, GIB, 20 * PAGE_SIZE, NPT_RWX), NPT_OK);
	assert_int_equal(npt_populate(&e[2], &env->ft, 0, 10 * PAGE_SIZE, NPT_RWX), NPT_OK);
	assert_int_equal(npt_populate(&e[1], &env->ft, 3 * GIB, 30 * PAGE_SIZE, NPT_RWX), NPT_OK);
	for (v = 0; v < 3; v++) {
		assert_true(npt_check(&e[v], &env->ft));
		t_collect(env, &e[v], tab[v], &nt[v], leaf[v], &nl[v]);
		assert_int_equal(nl[v], e[v].mapped_pages);
	}
	for (v = 0; v < 3; v++) {
		for (i = 0; i < nl[v]; i++) {
			assert_int_equal(frame_owner(&env->ft, leaf[v][i]),
					 frame_owner_vm(v));
			for (w = 0; w < 3; w++) {
				assert_false(in_set(tab[w], nt[w], leaf[v][i]));
				if (w != v)
					assert_false(in_set(leaf[w], nl[w],
							    leaf[v][i]));
			}
		}
		for (i = 0; i < nt[v]; i++)
			for (w = 0; w < 3; w++)
				if (w != v)
					assert_false(in_set(tab[w], nt[w],
							    tab[v][i]));
	}
	/* Same gpa, different frames; each VM's data survives another's
	 * destruction. */
	for (v = 0; v < 3; v++)
		for (gpa = 0; gpa < 10 * PAGE_SIZE; gpa += PAGE_SIZE)
			vm_fill(env, &e[v], gpa);
	npt_destroy(&e[1], &env->ft);
	for (v = 0; v < 3; v += 2) {
		for (gpa = 0; gpa < 10 * PAGE_SIZE; gpa += PAGE_SIZE)
			vm_expect(env, &e[v], gpa);
		assert_true(npt_check(&e[v], &env->ft));
	}
	npt_destroy(&e[0], &env->ft);
	npt_destroy(&e[2], &env->ft);
	assert_int_equal(env->ft.free_count, free0);
	env_free(env);
}

/* ---- npt_check against corruption ----------------------------------------- */

/* *slot = bad must make npt_check fail; restoring it must fix it. */
static void expect_caught(struct env *env, const struct npt *e, uint64_t *slot,
			  uint64_t bad)
{
	uint64_t orig = *slot;

	assert_true(npt_check(e, &env->ft));
	*slot = bad;
	if (npt_check(e, &env->ft))
		fail_msg("npt_check accepted entry %#llx (was %#llx)",
			 (unsigned long long)bad, (unsigned long long)orig);
	*slot = orig;
	assert_true(npt_check(e, &env->ft));
}

struct corrupt_env {
	struct env *env;
	struct npt e, other;
	uint64_t other_pfn, free_pfn, own_pt_pfn;
};

static void corrupt_setup(struct corrupt_env *c)
{
	c->env = env_new();
	assert_int_equal(npt_init(&c->e, &c->env->ft, VM0, fmt), NPT_OK);
	assert_int_equal(npt_init(&c->other, &c->env->ft, VM1, fmt), NPT_OK);
	assert_int_equal(npt_populate(&c->e, &c->env->ft, 0, 8 * PAGE_SIZE,
				      NPT_RWX), NPT_OK);
	assert_int_equal(npt_populate(&c->e, &c->env->ft, GIB, 2 * PAGE_SIZE,
				      NPT_READ), NPT_OK);
	assert_int_equal(npt_populate(&c->other, &c->env->ft, 0, 4 * PAGE_SIZE,
				      NPT_RWX), NPT_OK);
	c->other_pfn = t_leaf(c->env, &c->other, 0) >> PAGE_SHIFT;
	c->own_pt_pfn = (*t_slot(c->env, &c->e, 0, 1) & T_ADDR) >> PAGE_SHIFT;
	c->free_pfn = NFRAMES - 2;
	assert_int_equal(frame_owner(&c->env->ft, c->free_pfn), FRAME_FREE);
}

static void corrupt_teardown(struct corrupt_env *c)
{
	npt_destroy(&c->e, &c->env->ft);
	npt_destroy(&c->other, &c->env->ft);
	env_free(c->env);
}

/* Frames no entry of VM0's tables may point to, leaf or not. */
static size_t foreign_frames(const struct corrupt_env *c, uint64_t *pfn)
{
	size_t n = 0;

	pfn[n++] = c->other_pfn;
	pfn[n++] = c->other.root_pa >> PAGE_SHIFT;
	pfn[n++] = c->free_pfn;
	pfn[n++] = 0;                 /* unmanaged */
	pfn[n++] = FIRST_MANAGED - 1; /* unmanaged */
	pfn[n++] = NFRAMES;           /* outside the table */
	pfn[n++] = NFRAMES + 1000;
	pfn[n++] = (1ull << 40) - 1;  /* top of the address field */
	return n;
}

/* Leaf bits npt_check must refuse in an EPT leaf (orig is RWX). */
static size_t ept_bad_leaves(uint64_t orig, uint64_t *bad)
{
	static const unsigned stray_bits[] = {
		6, 7, 8, 9, 10, 11, 52, 53, 58, 61, 62, 63,
	};
	size_t n = 0, i;
	uint64_t mt;

	/* memory types other than WB (SDM 29.3.7) */
	for (mt = 0; mt < 8; mt++)
		if (mt != T_MT_WB)
			bad[n++] = (orig & ~0x38ull) | (mt << 3);
	/* ignore-PAT, large page, A, D, ignored and high bits */
	for (i = 0; i < ARRAY_SIZE(stray_bits); i++)
		bad[n++] = orig | (1ull << stray_bits[i]);
	/* write without read (SDM 29.3.3.1), execute-only, and a non-present
	 * leaf that still carries an address */
	bad[n++] = (orig & ~7ull) | NPT_WRITE;
	bad[n++] = (orig & ~7ull) | NPT_WRITE | NPT_EXEC;
	bad[n++] = (orig & ~7ull) | NPT_EXEC;
	bad[n++] = orig & ~7ull;
	return n;
}

/* ... and in a long-mode leaf (orig is P|R/W|U/S). NX and R/W are not
 * here: flipping one gives another valid leaf (other perms); A and D are
 * the CPU's (test_cpu_accessed_dirty). */
static size_t amd64_bad_leaves(uint64_t orig, uint64_t *bad)
{
	static const unsigned stray_bits[] = {
		3, 4, 7, 8, 9, 10, 11, 52, 53, 58, 59, 62,
	};
	size_t n = 0, i;

	/* PWT, PCD (not write-back), PAT, global, ignored, PKE and high bits */
	for (i = 0; i < ARRAY_SIZE(stray_bits); i++)
		bad[n++] = orig | (1ull << stray_bits[i]);
	/* supervisor: the nested walk is a user access (APM 15.25) */
	bad[n++] = orig & ~T_US;
	bad[n++] = orig & ~T_US & ~T_RW;
	/* not present but carrying an address and rights */
	bad[n++] = orig & ~T_P;
	bad[n++] = (orig & ~T_P) | T_NX;
	return n;
}

static void test_check_catches_leaf_corruption(void **state)
{
	struct corrupt_env c;
	uint64_t *leaf, orig, attrs, pfn[16], bad[32];
	size_t n, i;

	(void)state;
	corrupt_setup(&c);
	leaf = t_slot(c.env, &c.e, 3 * PAGE_SIZE, 0);
	assert_non_null(leaf);
	orig = *leaf;
	attrs = orig & ~T_ADDR;
	assert_int_equal(t_leaf_perms(orig), NPT_RWX);

	/* pointing at anything that is not VM0's */
	n = foreign_frames(&c, pfn);
	pfn[n++] = c.e.root_pa >> PAGE_SHIFT; /* own root */
	pfn[n++] = c.own_pt_pfn;               /* own PT */
	pfn[n++] = BOOT_FIRST;                 /* the hypervisor */
	for (i = 0; i < n; i++)
		expect_caught(c.env, &c.e, leaf, attrs | (pfn[i] << PAGE_SHIFT));
	/* bits the format's leaves never have */
	n = fmt == NPT_EPT ? ept_bad_leaves(orig, bad) : amd64_bad_leaves(orig, bad);
	for (i = 0; i < n; i++)
		expect_caught(c.env, &c.e, leaf, bad[i]);
	/* the other VM's tables too */
	leaf = t_slot(c.env, &c.other, 0, 0);
	expect_caught(c.env, &c.other, leaf,
		      (*leaf & ~T_ADDR) | (t_leaf(c.env, &c.e, 0) & T_ADDR));
	corrupt_teardown(&c);
}

/*
 * Non-leaf entries at each level: bad addresses must be caught without
 * npt_check ever reading them as tables (env_free checks bad_phys == 0).
 */
static void test_check_catches_table_corruption(void **state)
{
	struct corrupt_env c;
	uint64_t *slot, orig, attrs, pfn[24], own_leaf, pdpt_pfn;
	size_t n, i;
	int level;
	unsigned bit;

	(void)state;
	corrupt_setup(&c);
	own_leaf = t_leaf(c.env, &c.e, 0) >> PAGE_SHIFT;
	pdpt_pfn = (*t_slot(c.env, &c.e, 0, 3) & T_ADDR) >> PAGE_SHIFT;
	for (level = 1; level <= 3; level++) {
		slot = t_slot(c.env, &c.e, 0, level);
		assert_non_null(slot);
		orig = *slot;
		attrs = orig & ~T_ADDR;
		assert_int_equal(attrs, 7); /* R|W|X; P|R/W|U/S */

		n = foreign_frames(&c, pfn);
		pfn[n++] = own_leaf;                   /* guest memory */
		pfn[n++] = c.e.root_pa >> PAGE_SHIFT;  /* a cycle */
		pfn[n++] = BOOT_FIRST;                 /* TCB, not a table */
		if (level != 3)
			pfn[n++] = pdpt_pfn;           /* wrong level */
		for (i = 0; i < n; i++)
			expect_caught(c.env, &c.e, slot,
				      attrs | (pfn[i] << PAGE_SHIFT));
		/* EPT: bits 7:3 reserved (7 = large page), 11:8 and 63:52
		 * unused. Long mode: PWT, PCD, bit 6, PS, 11:8 and 62:52 not
		 * ours, NX restricts at the leaf only; bit 5 is the CPU's
		 * accessed flag (test_cpu_accessed_dirty). */
		for (bit = 3; bit < 12; bit++)
			if (fmt == NPT_EPT || (1ull << bit) != T_A)
				expect_caught(c.env, &c.e, slot, orig | (1ull << bit));
		for (bit = 52; bit < 64; bit++)
			expect_caught(c.env, &c.e, slot, orig | (1ull << bit));
		/* other access rights than the R|W|X we write; non-present
		 * garbage */
		for (bit = 0; bit < 7; bit++)
			expect_caught(c.env, &c.e, slot, (orig & ~7ull) | bit);
	}
	corrupt_teardown(&c);
}

static void test_check_catches_duplicates_and_counts(void **state)
{
	struct env *env = env_new();
	uint64_t free0 = env->ft.free_count;
	uint64_t a, b, *slot, *pdpte1, good;
	struct npt e, other;

	(void)state;
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	assert_int_equal(npt_init(&other, &env->ft, VM1, fmt), NPT_OK);
	assert_int_equal(npt_populate(&other, &env->ft, 0, PAGE_SIZE, NPT_RWX),
			 NPT_OK);
	a = take_frame(env, VM0);
	b = take_frame(env, VM0);
	assert_int_equal(npt_map(&e, &env->ft, 0, a, NPT_RWX), NPT_OK);
	assert_int_equal(npt_map(&e, &env->ft, GIB, b, NPT_RWX), NPT_OK);

	/* Leaf duplicate with every count still right: b is owned, unmapped. */
	slot = t_slot(env, &e, GIB, 0);
	expect_caught(env, &e, slot, (*slot & ~T_ADDR) | (a << PAGE_SHIFT));
	/* Table duplicate with every count still right: PDPT[1] -> PD of
	 * PDPT[0] (5 tables and 2 leaves seen either way). */
	pdpte1 = t_slot(env, &e, GIB, 2);
	expect_caught(env, &e, pdpte1, *t_slot(env, &e, 0, 2));

	/* Counters that disagree with the tables. */
	e.mapped_pages++;
	assert_false(npt_check(&e, &env->ft));
	e.mapped_pages--;
	e.table_frames--;
	assert_false(npt_check(&e, &env->ft));
	e.table_frames += 2;
	assert_false(npt_check(&e, &env->ft));
	e.table_frames--;
	e.owner = VM1;
	assert_false(npt_check(&e, &env->ft));
	e.owner = FRAME_TCB;
	assert_false(npt_check(&e, &env->ft));
	e.owner = VM0;
	good = e.root_pa;
	e.root_pa = other.root_pa;
	assert_false(npt_check(&e, &env->ft));
	e.root_pa = good | 0x10;
	assert_false(npt_check(&e, &env->ft));
	e.root_pa = BOOT_FIRST << PAGE_SHIFT;
	assert_false(npt_check(&e, &env->ft));
	e.root_pa = good;
	assert_true(npt_check(&e, &env->ft));

	/* The VM owns a frame the tables do not map. */
	good = take_frame(env, VM0);
	assert_false(npt_check(&e, &env->ft));
	/* npt_map does not look for other mappings of the same frame (that
	 * would cost a full walk per page); npt_check finds the alias. */
	assert_int_equal(npt_map(&e, &env->ft, 2 * PAGE_SIZE, good, NPT_RWX), NPT_OK);
	assert_true(npt_check(&e, &env->ft));
	assert_int_equal(npt_map(&e, &env->ft, 3 * PAGE_SIZE, good, NPT_READ), NPT_OK);
	assert_false(npt_check(&e, &env->ft));

	/* A leaf cleared behind npt.c's back leaves an empty PT: a leak. */
	slot = t_slot(env, &e, GIB, 0);
	*slot = 0;
	e.mapped_pages--;
	assert_int_equal(frame_release(&env->ft, b, VM0), FRAME_OK);
	*t_slot(env, &e, 3 * PAGE_SIZE, 0) = 0;
	e.mapped_pages--;
	assert_false(npt_check(&e, &env->ft));

	/* destroy copes with all of it and gives back every frame */
	npt_destroy(&e, &env->ft);
	npt_destroy(&other, &env->ft);
	assert_int_equal(env->ft.free_count, free0);
	assert_int_equal(frame_count_owned(&env->ft, VM0), 0);
	env_free(env);
}

/* The duplicate search works in windows of frame numbers; frames far
 * apart must neither hide a duplicate nor look like one. */
static void test_check_duplicates_across_windows(void **state)
{
	static const uint64_t pfns[] = { 8, 4103, 4104, 4200, 8800, 4095, 4096 };
	struct env *env = env_new_sized(9000, FIRST_MANAGED);
	struct npt e;
	uint64_t *slot;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(pfns); i++)
		assert_int_equal(frame_assign(&env->ft, pfns[i], VM2), FRAME_OK);
	assert_int_equal(npt_init(&e, &env->ft, VM2, fmt), NPT_OK);
	for (i = 0; i < ARRAY_SIZE(pfns); i++) {
		assert_int_equal(npt_map(&e, &env->ft, i * PAGE_SIZE, pfns[i],
					 NPT_RWX), NPT_OK);
	}
	assert_true(npt_check(&e, &env->ft));
	for (i = 0; i < ARRAY_SIZE(pfns); i++) {
		size_t j = (i + 3) % ARRAY_SIZE(pfns);

		slot = t_slot(env, &e, i * PAGE_SIZE, 0);
		expect_caught(env, &e, slot,
			      (*slot & ~T_ADDR) | (pfns[j] << PAGE_SHIFT));
	}
	npt_destroy(&e, &env->ft);
	assert_int_equal(frame_count_owned(&env->ft, VM2), 0);
	env_free(env);
}

/* ---- formats ---------------------------------------------------------------- */

/* Any format value but the two is refused, and a struct whose format was
 * overwritten is refused by every operation and fails the check. */
static void test_bad_format(void **state)
{
	static const int bad[] = { 2, 3, -1, 0x7fffffff };
	struct env *env = env_new();
	uint64_t free0 = env->ft.free_count, pfn;
	struct npt e;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&e, 0x5a, sizeof(e));
		assert_int_equal(npt_init(&e, &env->ft, VM0, (enum npt_format)bad[i]),
				 NPT_E_INVAL);
		assert_int_equal(e.root_pa, 0);
		assert_int_equal(env->ft.free_count, free0);
	}
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	assert_int_equal(npt_populate(&e, &env->ft, 0, PAGE_SIZE, NPT_RWX), NPT_OK);
	pfn = take_frame(env, VM0);
	e.format = (enum npt_format)2;
	assert_false(npt_check(&e, &env->ft));
	assert_int_equal(npt_map(&e, &env->ft, PAGE_SIZE, pfn, NPT_RWX), NPT_E_INVAL);
	assert_int_equal(npt_populate(&e, &env->ft, PAGE_SIZE, PAGE_SIZE, NPT_RWX),
			 NPT_E_INVAL);
	assert_int_equal(npt_unpopulate(&e, &env->ft, 0, PAGE_SIZE), NPT_E_INVAL);
	assert_false(npt_translate(&e, 0, NULL, NULL));
	assert_int_equal(npt_root_pointer(&e), 0);
	e.format = fmt;
	assert_int_equal(npt_map(&e, &env->ft, PAGE_SIZE, pfn, NPT_RWX), NPT_OK);
	assert_true(npt_check(&e, &env->ft));
	npt_destroy(&e, &env->ft);
	assert_int_equal(env->ft.free_count, free0);
	env_free(env);
}

static void test_eptp_encoding(void **state)
{
	struct env *env = env_new();
	struct npt e[3];
	uint64_t p;
	int i;

	(void)state;
	assert_int_equal(fmt, NPT_EPT);
	for (i = 0; i < 3; i++) {
		assert_int_equal(npt_init(&e[i], &env->ft, frame_owner_vm(i), fmt), NPT_OK);
		p = npt_root_pointer(&e[i]);
		assert_int_equal(p & 7, 6);           /* WB */
		assert_int_equal((p >> 3) & 7, 3);    /* 4-level walk */
		assert_int_equal((p >> 6) & 1, 0);    /* A/D off */
		assert_int_equal((p >> 7) & 0x1f, 0); /* bits 11:7 */
		assert_int_equal(p & ~0xfffull, e[i].root_pa);
		assert_int_equal(p >> 52, 0);
	}
	assert_int_not_equal(npt_root_pointer(&e[0]), npt_root_pointer(&e[1]));
	for (i = 0; i < 3; i++) {
		npt_destroy(&e[i], &env->ft);
		assert_int_equal(npt_root_pointer(&e[i]), 0);
	}
	env_free(env);
}

/* nCR3 is laid out like CR3 (APM 15.25, 5.3.2): the PML4's address and
 * PWT = PCD = 0, so the walk reads the PML4 write-back. */
static void test_ncr3_encoding(void **state)
{
	struct env *env = env_new();
	struct npt e[3];
	int i;

	(void)state;
	assert_int_equal(fmt, NPT_AMD64);
	for (i = 0; i < 3; i++) {
		assert_int_equal(npt_init(&e[i], &env->ft, frame_owner_vm(i), fmt), NPT_OK);
		assert_int_not_equal(e[i].root_pa, 0);
		assert_int_equal(npt_root_pointer(&e[i]), e[i].root_pa);
		assert_int_equal(npt_root_pointer(&e[i]) & (T_PWT | T_PCD | 0xfffull), 0);
		assert_int_equal(npt_root_pointer(&e[i]) >> 52, 0);
	}
	assert_int_not_equal(npt_root_pointer(&e[0]), npt_root_pointer(&e[1]));
	for (i = 0; i < 3; i++) {
		npt_destroy(&e[i], &env->ft);
		assert_int_equal(npt_root_pointer(&e[i]), 0);
	}
	env_free(env);
}

static const unsigned all_perms[] = {
	NPT_READ, NPT_READ | NPT_WRITE, NPT_READ | NPT_EXEC, NPT_RWX,
};

/* One page per perms, each in its own PML4E, PDPTE and PDE, so each path
 * has tables of its own; check calls the format's check per entry. */
static void each_perms_path(void (*check_leaf)(uint64_t ent, unsigned perms),
			    void (*check_table)(uint64_t ent))
{
	struct env *env = env_new();
	uint64_t pfn, ent, gpa;
	struct npt e;
	size_t i;
	int level;

	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	for (i = 0; i < ARRAY_SIZE(all_perms); i++) {
		gpa = 0x8000000000ull * (i + 1) + GIB * i + MIB2 * i + PAGE_SIZE * i;
		pfn = take_frame(env, VM0);
		assert_int_equal(npt_map(&e, &env->ft, gpa, pfn, all_perms[i]), NPT_OK);
		ent = t_leaf(env, &e, gpa);
		check_leaf(ent, all_perms[i]);
		assert_int_equal(t_leaf_perms(ent), all_perms[i]);
		assert_int_equal(ent & T_ADDR, pfn << PAGE_SHIFT);
		for (level = 1; level <= 3; level++) {
			ent = *t_slot(env, &e, gpa, level);
			check_table(ent);
			assert_int_equal(frame_owner(&env->ft,
						     (ent & T_ADDR) >> PAGE_SHIFT),
					 FRAME_TCB);
		}
		/* the PML4 index is bits 47:39 */
		assert_int_not_equal(t_table(env, e.root_pa)[i + 1], 0);
	}
	assert_int_equal(e.table_frames, 1 + 3 * ARRAY_SIZE(all_perms));
	assert_true(npt_check(&e, &env->ft));
	npt_destroy(&e, &env->ft);
	env_free(env);
}

/* SDM 29.3.2, Tables 29-1..29-6. */
static void ept_leaf(uint64_t ent, unsigned perms)
{
	assert_int_equal(ent & 7, perms);         /* bits 2:0 */
	assert_int_equal((ent >> 3) & 7, T_MT_WB); /* bits 5:3 */
	assert_int_equal((ent >> 6) & 1, 0);      /* ignore PAT */
	assert_int_equal((ent >> 7) & 0x1f, 0);   /* bits 11:7: A/D off */
	assert_int_equal(ent >> 52, 0);
}

static void ept_table(uint64_t ent)
{
	assert_int_equal(ent & 0xfff, 7); /* RWX, bit 7 clear */
	assert_int_equal(ent >> 52, 0);
}

static void test_ept_entry_format(void **state)
{
	(void)state;
	assert_int_equal(fmt, NPT_EPT);
	each_perms_path(ept_leaf, ept_table);
}

/* APM Vol. 2 5.3.3, Figure 5-23: P, R/W as asked, U/S, write-back (PWT,
 * PCD, PAT 0), A/D clear until the CPU sets them, not global, NX unless
 * executable. */
static void amd64_leaf(uint64_t ent, unsigned perms)
{
	assert_true(ent & T_P);
	assert_true(ent & T_US);
	assert_int_equal((ent & T_RW) != 0, (perms & NPT_WRITE) != 0);
	assert_int_equal((ent & T_NX) != 0, (perms & NPT_EXEC) == 0);
	assert_int_equal(ent & (T_PWT | T_PCD | T_A | T_D | T_PS_PAT | T_G), 0);
	assert_int_equal(ent & 0xe00, 0);                /* bits 11:9 */
	assert_int_equal((ent >> 52) & 0x7ff, 0);         /* bits 62:52 */
}

/* Figures 5-20..5-22: P, R/W, U/S (a nested walk is a user access, APM
 * 15.25.5, so a missing U/S at any level faults), PS clear, no NX: rights
 * are restricted at the leaf only. */
static void amd64_table(uint64_t ent)
{
	assert_int_equal(ent & 0xfff, T_P | T_RW | T_US);
	assert_int_equal(ent >> 52, 0);
}

static void test_amd64_entry_format(void **state)
{
	(void)state;
	assert_int_equal(fmt, NPT_AMD64);
	each_perms_path(amd64_leaf, amd64_table);
}

/*
 * What a CPU walking long-mode tables does to them (APM 5.4.2): accessed
 * in every entry it uses, dirty in a leaf it writes through. The builder
 * must take that for its own: check passes, translate answers the same,
 * and map, unpopulate (pruning tables) and destroy work on top of it.
 */
static void cpu_touch(struct env *env, const struct npt *e, uint64_t gpa,
		      bool write)
{
	int level;

	for (level = 3; level >= 0; level--)
		*t_slot(env, e, gpa, level) |= T_A;
	if (write)
		*t_slot(env, e, gpa, 0) |= T_D;
}

static void test_cpu_accessed_dirty(void **state)
{
	struct env *env = env_new();
	uint64_t free0 = env->ft.free_count, gpa, hpa[8], pfn, *slot;
	unsigned i;
	struct npt e;

	(void)state;
	assert_int_equal(fmt, NPT_AMD64);
	assert_int_equal(npt_init(&e, &env->ft, VM0, fmt), NPT_OK);
	for (i = 0; i < 8; i++) {
		gpa = (i < 4 ? 0 : 3 * GIB) + i * PAGE_SIZE;
		assert_int_equal(npt_populate(&e, &env->ft, gpa, PAGE_SIZE,
					      all_perms[i % 4]), NPT_OK);
		assert_true(npt_translate(&e, gpa, &hpa[i], NULL));
		cpu_touch(env, &e, gpa, i % 2 == 1);
	}
	assert_true(npt_check(&e, &env->ft));
	for (i = 0; i < 8; i++)
		expect_translate(&e, (i < 4 ? 0 : 3 * GIB) + i * PAGE_SIZE,
				 hpa[i] >> PAGE_SHIFT, all_perms[i % 4]);
	/* A on every level, D on a leaf: set, they are still caught where
	 * they are not the CPU's to set (D in a table) */
	slot = t_slot(env, &e, 0, 1);
	expect_caught(env, &e, slot, *slot | T_D);
	slot = t_slot(env, &e, 0, 0);
	expect_caught(env, &e, slot, *slot & ~T_US);
	/* a new page in a touched PT, and one already there refused */
	pfn = take_frame(env, VM0);
	assert_int_equal(npt_map(&e, &env->ft, 0, pfn, NPT_RWX), NPT_E_MAPPED);
	assert_int_equal(npt_map(&e, &env->ft, 9 * PAGE_SIZE, pfn, NPT_READ), NPT_OK);
	assert_true(npt_check(&e, &env->ft));
	/* unmapping the touched high pages frees their PDPT entry's tables */
	assert_int_equal(npt_unpopulate(&e, &env->ft, 3 * GIB, GIB), NPT_OK);
	assert_int_equal(e.table_frames, 4);
	assert_int_equal(e.mapped_pages, 5);
	assert_true(npt_check(&e, &env->ft));
	npt_destroy(&e, &env->ft);
	assert_int_equal(env->ft.free_count, free0);
	env_free(env);
}

/* ---- randomized model test -------------------------------------------------- */

#define M_VMS   3
#define M_MAX   NFRAMES
#define M_STEPS 3000
#define M_FRAMES 128 /* small, so that memory runs out often */

struct m_map {
	uint64_t gpa, pfn;
	unsigned perms;
};

struct m_vm {
	frame_owner_t owner;
	bool live;
	struct npt e;
	struct m_map map[M_MAX];
	unsigned n;
};

struct model {
	struct env *env;
	struct m_vm vm[M_VMS];
	uint64_t base_free; /* free frames with no tables at all */
	uint64_t seed;
	unsigned long map_rc[5], populate_rc[5]; /* by -rc: what was covered */
	unsigned long cpu_touches;
};

static const uint64_t m_regions[] = {
	0, MIB2 - 16 * PAGE_SIZE, GIB - 8 * PAGE_SIZE, 512 * GIB + 5 * GIB,
	NPT_GPA_LIMIT - MIB2,
};

static const unsigned m_good_perms[] = {
	NPT_READ, NPT_READ | NPT_WRITE, NPT_READ | NPT_EXEC, NPT_RWX,
};

static uint64_t m_rand(struct model *m, uint64_t n)
{
	return xorshift64s(&m->seed) % n;
}

static uint64_t m_gpa(struct model *m)
{
	return m_regions[m_rand(m, ARRAY_SIZE(m_regions))] +
	       m_rand(m, 32) * PAGE_SIZE;
}

static int m_find(const struct m_vm *vm, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < vm->n; i++)
		if (vm->map[i].gpa == gpa)
			return (int)i;
	return -1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Tables of an NPT mapping exactly these gpas has: no table is ever empty,
 * so one per distinct 512 GiB, 1 GiB and 2 MiB prefix, plus the root. */
static uint64_t m_tables(const struct m_vm *vm, const uint64_t *extra,
			 unsigned n_extra)
{
	static uint64_t g[M_MAX + 16];
	unsigned n = 0, i;
	uint64_t t = 1;
	int shift;

	for (i = 0; i < vm->n; i++)
		g[n++] = vm->map[i].gpa;
	for (i = 0; i < n_extra; i++)
		g[n++] = extra[i];
	qsort(g, n, sizeof(g[0]), cmp_u64);
	for (shift = 21; shift <= 39; shift += 9)
		for (i = 0; i < n; i++)
			t += i == 0 || (g[i] >> shift) != (g[i - 1] >> shift);
	return t;
}

static void m_add(struct model *m, struct m_vm *vm, uint64_t gpa,
		  uint64_t pfn, unsigned perms)
{
	uint64_t *w = frame_words(m->env, pfn);

	assert_true(vm->n < M_MAX);
	assert_true(frame_is_zero(m->env, pfn)); /* fresh frames are zero */
	vm->map[vm->n++] = (struct m_map){ gpa, pfn, perms };
	w[0] = pattern(vm->owner, gpa);
	w[511] = ~pattern(vm->owner, gpa);
}

static void m_check(struct model *m)
{
	struct env *env = m->env;
	uint64_t tables = 0, pages = 0;
	unsigned v, i;

	assert_true(frame_table_check(&env->ft));
	assert_int_equal(env->bad_phys, 0);
	for (v = 0; v < M_VMS; v++) {
		struct m_vm *vm = &m->vm[v];

		assert_true(npt_check(&vm->e, &env->ft));
		if (!vm->live) {
			assert_int_equal(vm->e.root_pa, 0);
			assert_int_equal(frame_count_owned(&env->ft, vm->owner), 0);
			continue;
		}
		assert_int_equal(vm->e.mapped_pages, vm->n);
		assert_int_equal(vm->e.table_frames, m_tables(vm, NULL, 0));
		assert_int_equal(frame_count_owned(&env->ft, vm->owner), vm->n);
		for (i = 0; i < vm->n; i++) {
			const struct m_map *mm = &vm->map[i];
			const uint64_t *w = frame_words(env, mm->pfn);

			expect_translate(&vm->e, mm->gpa, mm->pfn, mm->perms);
			assert_int_equal(frame_owner(&env->ft, mm->pfn), vm->owner);
			assert_int_equal(w[0], pattern(vm->owner, mm->gpa));
			assert_int_equal(w[511], ~pattern(vm->owner, mm->gpa));
		}
		tables += vm->e.table_frames;
		pages += vm->n;
	}
	assert_int_equal(env->ft.free_count, m->base_free - tables - pages);
	assert_int_equal(frame_count_owned(&env->ft, FRAME_TCB),
			 BOOT_FRAMES + tables);
}

static void m_init(struct model *m, struct m_vm *vm)
{
	int expect = m->env->ft.free_count > 0 ? NPT_OK : NPT_E_NOMEM;

	if (vm->live)
		return;
	assert_int_equal(npt_init(&vm->e, &m->env->ft, vm->owner, fmt), expect);
	vm->live = expect == NPT_OK;
	vm->n = 0;
}

static void m_destroy(struct model *m, struct m_vm *vm)
{
	uint64_t free0 = m->env->ft.free_count;
	uint64_t back = vm->live ? vm->n + vm->e.table_frames : 0;
	unsigned i;

	npt_destroy(&vm->e, &m->env->ft);
	assert_int_equal(m->env->ft.free_count, free0 + back);
	for (i = 0; i < vm->n; i++)
		assert_true(frame_is_zero(m->env, vm->map[i].pfn));
	vm->live = false;
	vm->n = 0;
}

/* Map a frame the VM has just been given. */
static void m_map_own(struct model *m, struct m_vm *vm)
{
	struct frame_table *ft = &m->env->ft;
	uint64_t gpa = m_gpa(m), pfn, need;
	unsigned perms = m_good_perms[m_rand(m, ARRAY_SIZE(m_good_perms))];
	int expect, rc;

	if (ft->free_count == 0)
		return;
	pfn = take_frame(m->env, vm->owner);
	need = vm->live ? m_tables(vm, &gpa, 1) - m_tables(vm, NULL, 0) : 0;
	if (!vm->live)
		expect = NPT_E_INVAL;
	else if (m_find(vm, gpa) >= 0)
		expect = NPT_E_MAPPED;
	else if (ft->free_count < need)
		expect = NPT_E_NOMEM;
	else
		expect = NPT_OK;
	rc = npt_map(&vm->e, ft, gpa, pfn, perms);
	assert_int_equal(rc, expect);
	m->map_rc[-rc]++;
	if (rc == NPT_OK)
		m_add(m, vm, gpa, pfn, perms);
	else
		assert_int_equal(frame_release(ft, pfn, vm->owner), FRAME_OK);
}

/* Try to map a frame that is not the VM's, or pass bad arguments. */
static void m_map_bad(struct model *m, struct m_vm *vm)
{
	struct frame_table *ft = &m->env->ft;
	uint64_t gpa = m_gpa(m), pfn = m_rand(m, M_FRAMES + 8);
	unsigned perms = m_good_perms[m_rand(m, ARRAY_SIZE(m_good_perms))];
	int rc;

	if (m_rand(m, 4) == 0) {
		if (m_rand(m, 2))
			gpa |= 1 + m_rand(m, PAGE_SIZE - 1);
		else
			perms = m_rand(m, 2) ? NPT_WRITE : NPT_WRITE | NPT_EXEC;
		assert_int_equal(npt_map(&vm->e, ft, gpa, pfn, perms), NPT_E_INVAL);
		m->map_rc[-NPT_E_INVAL]++;
		return;
	}
	if (frame_owner(ft, pfn) == vm->owner)
		return; /* its own and mapped already: not this operation */
	rc = npt_map(&vm->e, ft, gpa, pfn, perms);
	m->map_rc[-rc]++;
	if (!vm->live)
		assert_int_equal(rc, NPT_E_INVAL);
	else if (m_find(vm, gpa) >= 0) /* the header fixes no order */
		assert_true(rc == NPT_E_NOT_OWNER || rc == NPT_E_MAPPED);
	else
		assert_int_equal(rc, NPT_E_NOT_OWNER);
}

static void m_populate(struct model *m, struct m_vm *vm)
{
	struct frame_table *ft = &m->env->ft;
	uint64_t gpa = m_gpa(m), npages = 1 + m_rand(m, 8), g[8], i, hpa;
	unsigned perms = m_good_perms[m_rand(m, ARRAY_SIZE(m_good_perms))];
	bool overlap = false;
	int expect, rc;

	for (i = 0; i < npages; i++) {
		g[i] = gpa + i * PAGE_SIZE;
		overlap |= m_find(vm, g[i]) >= 0;
	}
	if (!vm->live)
		expect = NPT_E_INVAL;
	else if (overlap)
		expect = NPT_E_MAPPED;
	else if (ft->free_count < npages + m_tables(vm, g, (unsigned)npages) -
					m_tables(vm, NULL, 0))
		expect = NPT_E_NOMEM;
	else
		expect = NPT_OK;
	rc = npt_populate(&vm->e, ft, gpa, npages * PAGE_SIZE, perms);
	assert_int_equal(rc, expect);
	m->populate_rc[-rc]++;
	if (rc != NPT_OK)
		return;
	for (i = 0; i < npages; i++) {
		assert_true(npt_translate(&vm->e, g[i], &hpa, NULL));
		m_add(m, vm, g[i], hpa >> PAGE_SHIFT, perms);
	}
}

static void m_translate(struct model *m, struct m_vm *vm)
{
	uint64_t gpa = m_gpa(m) + m_rand(m, PAGE_SIZE);
	int i = m_find(vm, gpa & ~PAGE_MASK);

	if (i < 0)
		expect_unmapped(&vm->e, gpa);
	else
		expect_translate(&vm->e, gpa, vm->map[i].pfn, vm->map[i].perms);
}

/* A long-mode CPU uses one of the VM's pages (APM 5.4.2): the builder must
 * live with the accessed and dirty flags it leaves (checked by m_check).
 * EPT tables are never written by the CPU: A/D are off in the EPTP. */
static void m_cpu_access(struct model *m, struct m_vm *vm)
{
	if (fmt != NPT_AMD64 || vm->n == 0)
		return;
	cpu_touch(m->env, &vm->e, vm->map[m_rand(m, vm->n)].gpa, m_rand(m, 2));
	m->cpu_touches++;
}

static void m_step(struct model *m)
{
	struct m_vm *vm = &m->vm[m_rand(m, M_VMS)];
	uint64_t r = m_rand(m, 100);

	if (r < 2)
		m_destroy(m, vm);
	else if (r < 10)
		m_init(m, vm);
	else if (r < 40)
		m_map_own(m, vm);
	else if (r < 55)
		m_map_bad(m, vm);
	else if (r < 80)
		m_populate(m, vm);
	else if (r < 90)
		m_translate(m, vm);
	else
		m_cpu_access(m, vm);
}

static void run_model(uint64_t seed)
{
	static struct model m;
	unsigned v, step;

	memset(&m, 0, sizeof(m));
	m.seed = seed;
	m.env = env_new_sized(M_FRAMES, FIRST_MANAGED);
	m.base_free = m.env->ft.free_count;
	for (v = 0; v < M_VMS; v++)
		m.vm[v].owner = frame_owner_vm(v);
	for (step = 0; step < M_STEPS; step++) {
		m_step(&m);
		m_check(&m);
	}
	print_message("  map ok %lu inval %lu not-owner %lu mapped %lu nomem "
		      "%lu; populate ok %lu inval %lu mapped %lu nomem %lu; "
		      "cpu touches %lu\n",
		      m.map_rc[0], m.map_rc[1], m.map_rc[2], m.map_rc[3],
		      m.map_rc[4], m.populate_rc[0],
		      m.populate_rc[1], m.populate_rc[3], m.populate_rc[4],
		      m.cpu_touches);
	for (v = 0; v < M_VMS; v++)
		m_destroy(&m, &m.vm[v]);
	assert_int_equal(m.env->ft.free_count, m.base_free);
	env_free(m.env);
}

static void test_random_model(void **state)
{
	static const uint64_t seeds[] = {
		0x9e3779b97f4a7c15ull, 0x0123456789abcdefull, 42, 0xfeedfacecafebeefull,
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(seeds); i++) {
		print_message("model seed %#llx\n", (unsigned long long)seeds[i]);
		run_model(seeds[i]);
	}
}

static int use_ept(void **state)
{
	(void)state;
	fmt = NPT_EPT;
	return 0;
}

static int use_amd64(void **state)
{
	(void)state;
	fmt = NPT_AMD64;
	return 0;
}

/* A test of the builder in one format; BOTH runs it in each. */
#define EPT(t)   { #t "[ept]", t, use_ept, NULL, NULL }
#define AMD64(t) { #t "[amd64]", t, use_amd64, NULL, NULL }
#define BOTH(t)  EPT(t), AMD64(t)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_init_owner_values),
		BOTH(test_init_nomem_and_empty_tables),
		BOTH(test_root_never_frame0),
		BOTH(test_map_translate_roundtrip),
		BOTH(test_map_refuses_frames_not_owned),
		BOTH(test_map_refuses_bad_arguments),
		BOTH(test_map_refuses_mapped_gpa),
		BOTH(test_map_nomem_changes_nothing),
		BOTH(test_populate_basic),
		BOTH(test_populate_refusals),
		BOTH(test_populate_all_or_nothing),
		BOTH(test_range_walks_skip_missing_tables),
		BOTH(test_destroy_returns_everything),
		BOTH(test_two_vms_disjoint),
		BOTH(test_check_catches_leaf_corruption),
		BOTH(test_check_catches_table_corruption),
		BOTH(test_check_catches_duplicates_and_counts),
		BOTH(test_check_duplicates_across_windows),
		BOTH(test_bad_format),
		EPT(test_eptp_encoding),
		EPT(test_ept_entry_format),
		AMD64(test_ncr3_encoding),
		AMD64(test_amd64_entry_format),
		AMD64(test_cpu_accessed_dirty),
		BOTH(test_random_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
