/*
 * Unit and model-based tests of the frame ownership table (tcb/frame_table.c).
 *
 * Frames are backed by fake RAM: 64 bytes per frame, which is enough to prove
 * that a frame was (or was not) zeroed. Whenever a frame gets a new owner the
 * test checks it reads as zero, then writes an owner-specific non-zero pattern
 * into it, standing in for the owner using the frame.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/frame_table.h"
#include "xorshift.h"

#define MAX_FRAMES 256
#define FRAME_WORDS 8 /* 64 bytes of fake RAM per frame */
#define GARBAGE 0xa5a5a5a5a5a5a5a5ull /* what "firmware" left in RAM */

/* Owner values the tests use by name. */
#define VM0 frame_owner_vm(0)
#define VM1 frame_owner_vm(1)
#define VM_LAST frame_owner_vm(FRAME_MAX_VMS - 1)
#define OWNER_PAST_VMS ((frame_owner_t)(FRAME_VM_BASE + FRAME_MAX_VMS))

struct fake_ram {
	uint64_t words[MAX_FRAMES][FRAME_WORDS];
	uint64_t nframes;
	const struct frame_table *ft; /* to see the entry while zeroing */
	unsigned long zero_calls;
	unsigned long bad_zero_calls; /* pfn outside the table */
	uint64_t zero_pfn[MAX_FRAMES];
	frame_owner_t owner_when_zeroed[MAX_FRAMES];
};

/* Everything a refused operation must leave exactly as it was. */
struct snapshot {
	struct frame_table ft;
	frame_owner_t owner[MAX_FRAMES];
	uint64_t known_zero[MAX_FRAMES / 64 + 1];
	uint64_t words[MAX_FRAMES][FRAME_WORDS];
	unsigned long zero_calls;
};

struct env {
	struct frame_table ft;
	frame_owner_t storage[MAX_FRAMES];
	uint64_t known_zero[MAX_FRAMES / 64 + 1]; /* the last word: a canary */
	struct fake_ram ram;
	struct snapshot snap;
};

static void zero_frame(uint64_t pfn, void *ctx)
{
	struct fake_ram *ram = ctx;
	unsigned long i = ram->zero_calls;

	if (pfn >= ram->nframes) {
		ram->bad_zero_calls++;
		return;
	}
	if (i < MAX_FRAMES) {
		ram->zero_pfn[i] = pfn;
		ram->owner_when_zeroed[i] = frame_owner(ram->ft, pfn);
	}
	ram->zero_calls++;
	memset(ram->words[pfn], 0, sizeof(ram->words[pfn]));
}

/* Non-zero and different for every owner value. */
static uint64_t pattern_of(frame_owner_t o)
{
	return 0x8000000000000000ull | ((uint64_t)o * 0x9e3779b97f4a7c15ull);
}

static void fill_frame(struct env *e, uint64_t pfn, uint64_t word)
{
	unsigned i;

	for (i = 0; i < FRAME_WORDS; i++)
		e->ram.words[pfn][i] = word;
}

static bool frame_holds(const struct env *e, uint64_t pfn, uint64_t word)
{
	unsigned i;

	for (i = 0; i < FRAME_WORDS; i++)
		if (e->ram.words[pfn][i] != word)
			return false;
	return true;
}

/* The owner uses its frame: it is zero when handed over, then written. */
static void owner_writes(struct env *e, uint64_t pfn)
{
	assert_true(frame_holds(e, pfn, 0));
	fill_frame(e, pfn, pattern_of(e->ft.owner[pfn]));
}

static struct env *env_new(uint64_t nframes)
{
	struct env *e = test_calloc(1, sizeof(*e));
	uint64_t pfn;

	assert_non_null(e);
	assert_true(nframes <= MAX_FRAMES);
	/* init must overwrite whatever the storage held */
	for (pfn = 0; pfn < MAX_FRAMES; pfn++) {
		e->storage[pfn] = 0xbeef;
		fill_frame(e, pfn, GARBAGE);
	}
	e->ram.nframes = nframes;
	e->ram.ft = &e->ft;
	memset(e->known_zero, 0xff, sizeof(e->known_zero));
	frame_table_init(&e->ft, e->storage, e->known_zero, nframes, zero_frame,
			 &e->ram);
	return e;
}

static int setup_64(void **state)
{
	*state = env_new(64);
	return 0;
}

static int teardown(void **state)
{
	test_free(*state);
	return 0;
}

/* Table of 64 frames: 0-3 unmanaged, 4-63 free. */
static struct env *env_managed(void **state)
{
	struct env *e = *state;

	assert_int_equal(frame_table_add_usable(&e->ft, 4 * PAGE_SIZE,
						60 * PAGE_SIZE), FRAME_OK);
	assert_int_equal(e->ft.free_count, 60);
	assert_int_equal(e->ft.managed_count, 60);
	return e;
}

static void take_snapshot(struct env *e)
{
	e->snap.ft = e->ft;
	memcpy(e->snap.owner, e->storage, sizeof(e->snap.owner));
	memcpy(e->snap.known_zero, e->known_zero, sizeof(e->snap.known_zero));
	memcpy(e->snap.words, e->ram.words, sizeof(e->snap.words));
	e->snap.zero_calls = e->ram.zero_calls;
}

static void assert_unchanged(const struct env *e)
{
	const struct frame_table *a = &e->ft, *b = &e->snap.ft;

	assert_ptr_equal(a->owner, b->owner);
	assert_int_equal(a->nframes, b->nframes);
	assert_int_equal(a->free_count, b->free_count);
	assert_int_equal(a->managed_count, b->managed_count);
	assert_int_equal(a->next_hint, b->next_hint);
	assert_int_equal(a->sealed, b->sealed);
	assert_memory_equal(e->snap.owner, e->storage, sizeof(e->snap.owner));
	assert_memory_equal(e->snap.known_zero, e->known_zero,
			    sizeof(e->snap.known_zero));
	assert_memory_equal(e->snap.words, e->ram.words, sizeof(e->snap.words));
	assert_int_equal(e->ram.zero_calls, e->snap.zero_calls);
	assert_int_equal(e->ram.bad_zero_calls, 0);
	assert_true(frame_table_check(&e->ft));
}

/*
 * Expect a refusal: the call (evaluated after the snapshot) returns 'err',
 * and nothing at all changed, not even a zeroed frame.
 */
#define assert_refused(e, call, err)                                   \
	do {                                                           \
		take_snapshot(e);                                      \
		assert_int_equal((call), (err));                       \
		assert_unchanged(e);                                   \
	} while (0)

/* Expect exactly one owner change of pfn, zeroed while still the old owner
 * (a release, a transfer, or handing out a frame not known zero). */
static void assert_one_change(struct env *e, unsigned long calls_before,
			      uint64_t pfn, frame_owner_t old_owner,
			      frame_owner_t new_owner)
{
	assert_int_equal(e->ram.zero_calls, calls_before + 1);
	assert_int_equal(e->ram.zero_pfn[calls_before], pfn);
	assert_int_equal(e->ram.owner_when_zeroed[calls_before], old_owner);
	assert_int_equal(frame_owner(&e->ft, pfn), new_owner);
	assert_true(frame_holds(e, pfn, 0));
	assert_int_equal(frame_known_zero(&e->ft, pfn), new_owner == FRAME_FREE);
	assert_int_equal(e->ram.bad_zero_calls, 0);
	assert_true(frame_table_check(&e->ft));
}

/* Expect a known-zero frame handed to new_owner without zeroing it again:
 * it still reads as zero, and it is not known zero any more. */
static void assert_clean_handover(struct env *e, unsigned long calls_before,
				  uint64_t pfn, frame_owner_t new_owner)
{
	assert_int_equal(e->ram.zero_calls, calls_before);
	assert_int_equal(frame_owner(&e->ft, pfn), new_owner);
	assert_true(frame_holds(e, pfn, 0));
	assert_false(frame_known_zero(&e->ft, pfn));
	assert_true(frame_table_check(&e->ft));
}

/* ---- sizes, init, lookups ------------------------------------------------ */

static void test_table_bytes(void **state)
{
	(void)state;
	assert_int_equal(frame_table_bytes(0), 0);
	assert_int_equal(frame_table_bytes(1), sizeof(frame_owner_t));
	assert_int_equal(frame_table_bytes(1u << 20), (1u << 20) * 2);
	assert_int_equal(frame_table_bytes(UINT64_MAX / 2), UINT64_MAX - 1);
	/* too large to represent: saturate instead of wrapping to a small size */
	assert_int_equal(frame_table_bytes(UINT64_MAX / 2 + 1), UINT64_MAX);
	assert_int_equal(frame_table_bytes(UINT64_MAX), UINT64_MAX);
}

static void test_init_all_unmanaged(void **state)
{
	struct env *e = *state;
	uint64_t pfn;

	assert_ptr_equal(e->ft.owner, e->storage);
	assert_int_equal(e->ft.nframes, 64);
	assert_int_equal(e->ft.free_count, 0);
	assert_int_equal(e->ft.managed_count, 0);
	assert_int_equal(e->ft.next_hint, 0);
	assert_false(e->ft.sealed);
	for (pfn = 0; pfn < 64; pfn++)
		assert_int_equal(frame_owner(&e->ft, pfn), FRAME_UNMANAGED);
	/* storage past nframes is not the table's to touch */
	assert_int_equal(e->storage[64], 0xbeef);
	assert_int_equal(frame_count_owned(&e->ft, FRAME_UNMANAGED), 64);
	assert_int_equal(e->ram.zero_calls, 0);
	assert_true(frame_table_check(&e->ft));
}

static void test_owner_outside_table(void **state)
{
	struct env *e = env_managed(state);

	assert_int_equal(frame_owner(&e->ft, 63), FRAME_FREE);
	assert_int_equal(frame_owner(&e->ft, 64), FRAME_UNMANAGED);
	assert_int_equal(frame_owner(&e->ft, 1ull << 52), FRAME_UNMANAGED);
	assert_int_equal(frame_owner(&e->ft, UINT64_MAX), FRAME_UNMANAGED);
}

static void test_empty_table(void **state)
{
	struct env *e;
	uint64_t out = 77;

	(void)state;
	e = env_new(0);
	assert_int_equal(frame_table_add_usable(&e->ft, 0, UINT64_MAX), FRAME_OK);
	assert_int_equal(frame_table_reserve_boot(&e->ft, 0, UINT64_MAX), FRAME_OK);
	assert_int_equal(e->ft.managed_count, 0);
	assert_int_equal(frame_owner(&e->ft, 0), FRAME_UNMANAGED);
	assert_int_equal(frame_alloc(&e->ft, VM0, &out), FRAME_E_NOMEM);
	assert_int_equal(frame_alloc_contiguous(&e->ft, VM0, 1, 1, &out),
			 FRAME_E_NOMEM);
	assert_int_equal(frame_assign(&e->ft, 0, VM0), FRAME_E_RANGE);
	assert_int_equal(out, 77);
	assert_int_equal(e->ram.zero_calls, 0);
	assert_true(frame_table_check(&e->ft));
	test_free(e);
}

/* ---- add_usable ---------------------------------------------------------- */

static void test_add_usable_rounds_inward(void **state)
{
	struct env *e = *state;

	/* [0x1001, 0x4001) wholly contains only frames 2 and 3 */
	assert_int_equal(frame_table_add_usable(&e->ft, 0x1001, 0x3000), FRAME_OK);
	assert_int_equal(frame_owner(&e->ft, 1), FRAME_UNMANAGED);
	assert_int_equal(frame_owner(&e->ft, 2), FRAME_FREE);
	assert_int_equal(frame_owner(&e->ft, 3), FRAME_FREE);
	assert_int_equal(frame_owner(&e->ft, 4), FRAME_UNMANAGED);
	assert_int_equal(e->ft.free_count, 2);
	assert_int_equal(e->ft.managed_count, 2);

	/* exactly one frame */
	assert_int_equal(frame_table_add_usable(&e->ft, 0x8000, 0x1000), FRAME_OK);
	assert_int_equal(frame_owner(&e->ft, 7), FRAME_UNMANAGED);
	assert_int_equal(frame_owner(&e->ft, 8), FRAME_FREE);
	assert_int_equal(frame_owner(&e->ft, 9), FRAME_UNMANAGED);

	/* a byte short of a whole frame, and a range inside one frame */
	assert_int_equal(frame_table_add_usable(&e->ft, 0xa000, 0xfff), FRAME_OK);
	assert_int_equal(frame_table_add_usable(&e->ft, 0xb001, 0xffe), FRAME_OK);
	assert_int_equal(frame_table_add_usable(&e->ft, 0xc000, 0), FRAME_OK);
	assert_int_equal(frame_owner(&e->ft, 0xa), FRAME_UNMANAGED);
	assert_int_equal(frame_owner(&e->ft, 0xb), FRAME_UNMANAGED);
	assert_int_equal(frame_owner(&e->ft, 0xc), FRAME_UNMANAGED);
	assert_int_equal(e->ft.free_count, 3);
	assert_int_equal(e->ft.managed_count, 3);
	assert_int_equal(e->ram.zero_calls, 0);
	assert_true(frame_table_check(&e->ft));
}

static void test_add_usable_overlap_counts_once(void **state)
{
	struct env *e = *state;

	assert_int_equal(frame_table_add_usable(&e->ft, 0, 10 * PAGE_SIZE), FRAME_OK);
	assert_int_equal(frame_table_add_usable(&e->ft, 5 * PAGE_SIZE,
						10 * PAGE_SIZE), FRAME_OK);
	assert_int_equal(frame_table_add_usable(&e->ft, 0, 10 * PAGE_SIZE), FRAME_OK);
	assert_int_equal(e->ft.free_count, 15);
	assert_int_equal(e->ft.managed_count, 15);
	assert_int_equal(frame_count_owned(&e->ft, FRAME_FREE), 15);
	assert_true(frame_table_check(&e->ft));
}

static void test_add_usable_beyond_table(void **state)
{
	struct env *e = *state;

	/* partly past the end: only frames 62 and 63 exist */
	assert_int_equal(frame_table_add_usable(&e->ft, 62 * PAGE_SIZE,
						100 * PAGE_SIZE), FRAME_OK);
	assert_int_equal(e->ft.free_count, 2);
	/* wholly past the end */
	assert_int_equal(frame_table_add_usable(&e->ft, 64 * PAGE_SIZE,
						PAGE_SIZE), FRAME_OK);
	assert_int_equal(frame_table_add_usable(&e->ft, 1ull << 60,
						1ull << 40), FRAME_OK);
	assert_int_equal(e->ft.free_count, 2);
	assert_int_equal(e->storage[64], 0xbeef);
	assert_true(frame_table_check(&e->ft));
}

static void test_add_usable_no_wrap(void **state)
{
	struct env *e = *state;

	/* base + len wraps: must not become a small end address */
	assert_int_equal(frame_table_add_usable(&e->ft, UINT64_MAX - 0xfff,
						0x2000), FRAME_OK);
	assert_int_equal(frame_table_add_usable(&e->ft, UINT64_MAX, UINT64_MAX),
			 FRAME_OK);
	assert_int_equal(frame_table_add_usable(&e->ft, UINT64_MAX - 0x2fff,
						UINT64_MAX), FRAME_OK);
	assert_int_equal(e->ft.managed_count, 0);
	/* a wrapping length from a low base means "to the top": 60..63 */
	assert_int_equal(frame_table_add_usable(&e->ft, 60 * PAGE_SIZE - 1,
						UINT64_MAX), FRAME_OK);
	assert_int_equal(frame_owner(&e->ft, 59), FRAME_UNMANAGED);
	assert_int_equal(e->ft.free_count, 4);
	assert_int_equal(frame_owner(&e->ft, 63), FRAME_FREE);
	assert_true(frame_table_check(&e->ft));
}

static void test_add_usable_never_downgrades(void **state)
{
	struct env *e = env_managed(state);

	assert_int_equal(frame_table_reserve_boot(&e->ft, 10 * PAGE_SIZE,
						  PAGE_SIZE), FRAME_OK);
	assert_int_equal(frame_assign(&e->ft, 11, VM0), FRAME_OK);
	owner_writes(e, 11);
	fill_frame(e, 10, 0x1234); /* the TCB's boot data */
	take_snapshot(e);
	assert_int_equal(frame_table_add_usable(&e->ft, 0, 64 * PAGE_SIZE),
			 FRAME_OK);
	assert_int_equal(frame_owner(&e->ft, 10), FRAME_TCB);
	assert_int_equal(frame_owner(&e->ft, 11), VM0);
	assert_true(frame_holds(e, 10, 0x1234));
	assert_true(frame_holds(e, 11, pattern_of(VM0)));
	/* only the 4 unmanaged frames 0-3 were added */
	assert_int_equal(e->ft.free_count, e->snap.ft.free_count + 4);
	assert_int_equal(e->ft.managed_count, 64);
	assert_int_equal(e->ram.zero_calls, e->snap.zero_calls);
	assert_true(frame_table_check(&e->ft));
}

/* ---- reserve_boot -------------------------------------------------------- */

static void test_reserve_rounds_outward_without_zeroing(void **state)
{
	struct env *e = env_managed(state);
	uint64_t pfn;

	for (pfn = 0; pfn < 64; pfn++)
		fill_frame(e, pfn, 0x1000 + pfn);
	/* two bytes straddling frames 5 and 6 */
	assert_int_equal(frame_table_reserve_boot(&e->ft, 6 * PAGE_SIZE - 1, 2),
			 FRAME_OK);
	/* exactly frame 8: must not touch 7 or 9 */
	assert_int_equal(frame_table_reserve_boot(&e->ft, 8 * PAGE_SIZE,
						  PAGE_SIZE), FRAME_OK);
	/* one byte inside frame 20 */
	assert_int_equal(frame_table_reserve_boot(&e->ft, 20 * PAGE_SIZE + 7, 1),
			 FRAME_OK);
	/* zero length touches nothing */
	assert_int_equal(frame_table_reserve_boot(&e->ft, 30 * PAGE_SIZE, 0),
			 FRAME_OK);
	assert_int_equal(frame_owner(&e->ft, 4), FRAME_FREE);
	assert_int_equal(frame_owner(&e->ft, 5), FRAME_TCB);
	assert_int_equal(frame_owner(&e->ft, 6), FRAME_TCB);
	assert_int_equal(frame_owner(&e->ft, 7), FRAME_FREE);
	assert_int_equal(frame_owner(&e->ft, 8), FRAME_TCB);
	assert_int_equal(frame_owner(&e->ft, 9), FRAME_FREE);
	assert_int_equal(frame_owner(&e->ft, 20), FRAME_TCB);
	assert_int_equal(frame_owner(&e->ft, 30), FRAME_FREE);
	assert_int_equal(e->ft.free_count, 56);
	assert_int_equal(e->ft.managed_count, 60);
	assert_int_equal(frame_count_owned(&e->ft, FRAME_TCB), 4);
	/* boot data stays where it is */
	assert_int_equal(e->ram.zero_calls, 0);
	for (pfn = 0; pfn < 64; pfn++)
		assert_true(frame_holds(e, pfn, 0x1000 + pfn));
	assert_true(frame_table_check(&e->ft));
}

static void test_reserve_leaves_unmanaged(void **state)
{
	struct env *e = env_managed(state);

	/* frames 2-5: 2 and 3 are firmware memory, 4 and 5 managed */
	assert_int_equal(frame_table_reserve_boot(&e->ft, 2 * PAGE_SIZE,
						  4 * PAGE_SIZE), FRAME_OK);
	assert_int_equal(frame_owner(&e->ft, 2), FRAME_UNMANAGED);
	assert_int_equal(frame_owner(&e->ft, 3), FRAME_UNMANAGED);
	assert_int_equal(frame_owner(&e->ft, 4), FRAME_TCB);
	assert_int_equal(frame_owner(&e->ft, 5), FRAME_TCB);
	assert_int_equal(e->ft.managed_count, 60);
	assert_int_equal(e->ft.free_count, 58);
	/* so the TCB can never release firmware memory into the free pool */
	assert_refused(e, frame_release(&e->ft, 2, FRAME_TCB), FRAME_E_UNMANAGED);
	assert_true(frame_table_check(&e->ft));
}

static void test_reserve_twice_and_vm_frames(void **state)
{
	struct env *e = env_managed(state);

	assert_int_equal(frame_assign(&e->ft, 12, VM1), FRAME_OK);
	owner_writes(e, 12);
	assert_int_equal(frame_table_reserve_boot(&e->ft, 10 * PAGE_SIZE,
						  3 * PAGE_SIZE), FRAME_OK);
	assert_int_equal(frame_table_reserve_boot(&e->ft, 10 * PAGE_SIZE,
						  3 * PAGE_SIZE), FRAME_OK);
	assert_int_equal(frame_owner(&e->ft, 10), FRAME_TCB);
	assert_int_equal(frame_owner(&e->ft, 11), FRAME_TCB);
	/* a VM's frame is not silently taken over by the TCB */
	assert_int_equal(frame_owner(&e->ft, 12), VM1);
	assert_true(frame_holds(e, 12, pattern_of(VM1)));
	assert_int_equal(e->ft.free_count, 57);
	assert_true(frame_table_check(&e->ft));
}

static void test_reserve_no_wrap(void **state)
{
	struct env *e = env_managed(state);

	/* end wraps: must not reserve low frames */
	assert_int_equal(frame_table_reserve_boot(&e->ft, UINT64_MAX - 10, 100),
			 FRAME_OK);
	assert_int_equal(frame_table_reserve_boot(&e->ft, UINT64_MAX, UINT64_MAX),
			 FRAME_OK);
	/* end + PAGE_MASK would wrap when rounding up */
	assert_int_equal(frame_table_reserve_boot(&e->ft, UINT64_MAX - 0x100,
						  0x100), FRAME_OK);
	assert_int_equal(e->ft.free_count, 60);
	/* wrapping length from a low base means "to the top": 61..63 */
	assert_int_equal(frame_table_reserve_boot(&e->ft, 61 * PAGE_SIZE + 9,
						  UINT64_MAX), FRAME_OK);
	assert_int_equal(frame_owner(&e->ft, 60), FRAME_FREE);
	assert_int_equal(frame_owner(&e->ft, 61), FRAME_TCB);
	assert_int_equal(frame_owner(&e->ft, 63), FRAME_TCB);
	assert_int_equal(e->ft.free_count, 57);
	assert_int_equal(e->storage[64], 0xbeef);
	assert_true(frame_table_check(&e->ft));
}

/*
 * Documents the required boot call order (see frame_table.h): a reservation
 * of frames that are not yet managed has no effect.
 */
static void test_reserve_before_add_has_no_effect(void **state)
{
	struct env *e = *state;

	assert_int_equal(frame_table_reserve_boot(&e->ft, 0, 4 * PAGE_SIZE),
			 FRAME_OK);
	assert_int_equal(frame_count_owned(&e->ft, FRAME_TCB), 0);
	assert_int_equal(frame_table_add_usable(&e->ft, 0, 8 * PAGE_SIZE),
			 FRAME_OK);
	assert_int_equal(frame_count_owned(&e->ft, FRAME_FREE), 8);
	/* the right order: add, then reserve */
	assert_int_equal(frame_table_reserve_boot(&e->ft, 0, 4 * PAGE_SIZE),
			 FRAME_OK);
	assert_int_equal(frame_count_owned(&e->ft, FRAME_TCB), 4);
	assert_int_equal(e->ft.free_count, 4);
	assert_true(frame_table_check(&e->ft));
}

/* ---- seal ---------------------------------------------------------------- */

static void test_sealed_refuses_boot_ops(void **state)
{
	struct env *e = env_managed(state);
	uint64_t pfn;

	assert_int_equal(frame_table_reserve_boot(&e->ft, 4 * PAGE_SIZE,
						  PAGE_SIZE), FRAME_OK);
	frame_table_seal(&e->ft);
	assert_true(e->ft.sealed);
	assert_true(frame_table_check(&e->ft));
	assert_refused(e, frame_table_add_usable(&e->ft, 0, 64 * PAGE_SIZE),
		       FRAME_E_SEALED);
	assert_refused(e, frame_table_add_usable(&e->ft, 0, 0), FRAME_E_SEALED);
	assert_refused(e, frame_table_reserve_boot(&e->ft, 0, 64 * PAGE_SIZE),
		       FRAME_E_SEALED);
	assert_refused(e, frame_table_reserve_boot(&e->ft, 5 * PAGE_SIZE, 1),
		       FRAME_E_SEALED);
	/* sealing twice is harmless, and run-time operations keep working */
	frame_table_seal(&e->ft);
	assert_int_equal(frame_alloc(&e->ft, VM0, &pfn), FRAME_OK);
	assert_int_equal(frame_release(&e->ft, 4, FRAME_TCB), FRAME_OK);
	assert_refused(e, frame_table_reserve_boot(&e->ft, 4 * PAGE_SIZE, 1),
		       FRAME_E_SEALED);
	assert_int_equal(frame_owner(&e->ft, 4), FRAME_FREE);
}

/* ---- assign -------------------------------------------------------------- */

static void test_assign_ok(void **state)
{
	struct env *e = env_managed(state);
	unsigned long calls = e->ram.zero_calls;

	assert_int_equal(frame_assign(&e->ft, 4, FRAME_TCB), FRAME_OK);
	assert_one_change(e, calls, 4, FRAME_FREE, FRAME_TCB);
	assert_int_equal(frame_assign(&e->ft, 5, VM0), FRAME_OK);
	assert_one_change(e, calls + 1, 5, FRAME_FREE, VM0);
	assert_int_equal(frame_assign(&e->ft, 63, VM_LAST), FRAME_OK);
	assert_one_change(e, calls + 2, 63, FRAME_FREE, VM_LAST);
	assert_int_equal(e->ft.free_count, 57);
	assert_int_equal(e->ft.managed_count, 60);
	assert_int_equal(frame_count_owned(&e->ft, VM0), 1);
	assert_int_equal(frame_count_owned(&e->ft, VM_LAST), 1);
	/* neighbours untouched */
	assert_true(frame_holds(e, 6, GARBAGE));
	assert_true(frame_holds(e, 62, GARBAGE));
}

static void test_assign_refusals(void **state)
{
	struct env *e = env_managed(state);
	static const frame_owner_t bad_owners[] = {
		FRAME_UNMANAGED, FRAME_FREE, OWNER_PAST_VMS,
		(frame_owner_t)(OWNER_PAST_VMS + 1), 0x7fff, 0xffff,
	};
	size_t i;

	assert_int_equal(frame_assign(&e->ft, 10, VM0), FRAME_OK);
	owner_writes(e, 10);
	assert_int_equal(frame_table_reserve_boot(&e->ft, 11 * PAGE_SIZE, 1),
			 FRAME_OK);

	assert_refused(e, frame_assign(&e->ft, 64, VM0), FRAME_E_RANGE);
	assert_refused(e, frame_assign(&e->ft, 1ull << 52, VM0), FRAME_E_RANGE);
	assert_refused(e, frame_assign(&e->ft, UINT64_MAX, VM0), FRAME_E_RANGE);
	assert_refused(e, frame_assign(&e->ft, 0, VM0), FRAME_E_UNMANAGED);
	assert_refused(e, frame_assign(&e->ft, 3, FRAME_TCB), FRAME_E_UNMANAGED);
	for (i = 0; i < ARRAY_SIZE(bad_owners); i++)
		assert_refused(e, frame_assign(&e->ft, 20, bad_owners[i]),
			       FRAME_E_OWNER);
	/* busy: same owner, another VM, the TCB, a boot reservation */
	assert_refused(e, frame_assign(&e->ft, 10, VM0), FRAME_E_BUSY);
	assert_refused(e, frame_assign(&e->ft, 10, VM1), FRAME_E_BUSY);
	assert_refused(e, frame_assign(&e->ft, 10, FRAME_TCB), FRAME_E_BUSY);
	assert_refused(e, frame_assign(&e->ft, 11, VM1), FRAME_E_BUSY);
	assert_true(frame_holds(e, 10, pattern_of(VM0)));
}

/* ---- release ------------------------------------------------------------- */

static void test_release_ok(void **state)
{
	struct env *e = env_managed(state);
	unsigned long calls;

	assert_int_equal(frame_assign(&e->ft, 7, VM1), FRAME_OK);
	owner_writes(e, 7);
	calls = e->ram.zero_calls;
	assert_int_equal(frame_release(&e->ft, 7, VM1), FRAME_OK);
	assert_one_change(e, calls, 7, VM1, FRAME_FREE);
	assert_int_equal(e->ft.free_count, 60);

	/* a boot reservation can be given back by the TCB */
	assert_int_equal(frame_table_reserve_boot(&e->ft, 9 * PAGE_SIZE, 1),
			 FRAME_OK);
	fill_frame(e, 9, 0x77);
	calls = e->ram.zero_calls;
	assert_int_equal(frame_release(&e->ft, 9, FRAME_TCB), FRAME_OK);
	assert_one_change(e, calls, 9, FRAME_TCB, FRAME_FREE);
	assert_int_equal(e->ft.free_count, 60);
}

static void test_release_refusals(void **state)
{
	struct env *e = env_managed(state);

	assert_int_equal(frame_assign(&e->ft, 10, VM0), FRAME_OK);
	owner_writes(e, 10);
	assert_int_equal(frame_assign(&e->ft, 11, FRAME_TCB), FRAME_OK);
	owner_writes(e, 11);

	assert_refused(e, frame_release(&e->ft, 64, VM0), FRAME_E_RANGE);
	assert_refused(e, frame_release(&e->ft, UINT64_MAX, VM0), FRAME_E_RANGE);
	assert_refused(e, frame_release(&e->ft, 1, VM0), FRAME_E_UNMANAGED);
	assert_refused(e, frame_release(&e->ft, 1, FRAME_UNMANAGED),
		       FRAME_E_UNMANAGED);
	/* invalid owner arguments */
	assert_refused(e, frame_release(&e->ft, 10, FRAME_UNMANAGED), FRAME_E_OWNER);
	assert_refused(e, frame_release(&e->ft, 10, FRAME_FREE), FRAME_E_OWNER);
	assert_refused(e, frame_release(&e->ft, 10, OWNER_PAST_VMS), FRAME_E_OWNER);
	assert_refused(e, frame_release(&e->ft, 10, 0xffff), FRAME_E_OWNER);
	assert_refused(e, frame_release(&e->ft, 20, FRAME_FREE), FRAME_E_OWNER);
	/* valid owners that do not own the frame */
	assert_refused(e, frame_release(&e->ft, 10, VM1), FRAME_E_NOT_OWNER);
	assert_refused(e, frame_release(&e->ft, 10, VM_LAST), FRAME_E_NOT_OWNER);
	assert_refused(e, frame_release(&e->ft, 10, FRAME_TCB), FRAME_E_NOT_OWNER);
	assert_refused(e, frame_release(&e->ft, 11, VM0), FRAME_E_NOT_OWNER);
	/* a free frame has no owner to release it */
	assert_refused(e, frame_release(&e->ft, 20, VM0), FRAME_E_NOT_OWNER);
	assert_refused(e, frame_release(&e->ft, 20, FRAME_TCB), FRAME_E_NOT_OWNER);
	/* double release */
	assert_int_equal(frame_release(&e->ft, 10, VM0), FRAME_OK);
	assert_refused(e, frame_release(&e->ft, 10, VM0), FRAME_E_NOT_OWNER);
}

/* ---- transfer ------------------------------------------------------------ */

static void test_transfer_ok(void **state)
{
	struct env *e = env_managed(state);
	unsigned long calls;

	assert_int_equal(frame_assign(&e->ft, 30, VM0), FRAME_OK);
	owner_writes(e, 30);
	calls = e->ram.zero_calls;
	assert_int_equal(frame_transfer(&e->ft, 30, VM0, VM1), FRAME_OK);
	assert_one_change(e, calls, 30, VM0, VM1);
	owner_writes(e, 30);
	assert_int_equal(frame_transfer(&e->ft, 30, VM1, FRAME_TCB), FRAME_OK);
	assert_one_change(e, calls + 1, 30, VM1, FRAME_TCB);
	owner_writes(e, 30);
	assert_int_equal(frame_transfer(&e->ft, 30, FRAME_TCB, VM_LAST), FRAME_OK);
	assert_one_change(e, calls + 2, 30, FRAME_TCB, VM_LAST);
	assert_int_equal(e->ft.free_count, 59);
}

static void test_transfer_refusals(void **state)
{
	struct env *e = env_managed(state);

	assert_int_equal(frame_assign(&e->ft, 30, VM0), FRAME_OK);
	owner_writes(e, 30);

	assert_refused(e, frame_transfer(&e->ft, 64, VM0, VM1), FRAME_E_RANGE);
	assert_refused(e, frame_transfer(&e->ft, UINT64_MAX, VM0, VM1),
		       FRAME_E_RANGE);
	assert_refused(e, frame_transfer(&e->ft, 2, VM0, VM1), FRAME_E_UNMANAGED);
	/* destination that can never hold a frame, or the same owner */
	assert_refused(e, frame_transfer(&e->ft, 30, VM0, FRAME_FREE), FRAME_E_OWNER);
	assert_refused(e, frame_transfer(&e->ft, 30, VM0, FRAME_UNMANAGED),
		       FRAME_E_OWNER);
	assert_refused(e, frame_transfer(&e->ft, 30, VM0, VM0), FRAME_E_OWNER);
	assert_refused(e, frame_transfer(&e->ft, 30, VM0, OWNER_PAST_VMS),
		       FRAME_E_OWNER);
	assert_refused(e, frame_transfer(&e->ft, 30, VM0, 0xffff), FRAME_E_OWNER);
	/* invalid source values */
	assert_refused(e, frame_transfer(&e->ft, 30, FRAME_FREE, VM1), FRAME_E_OWNER);
	assert_refused(e, frame_transfer(&e->ft, 30, FRAME_UNMANAGED, VM1),
		       FRAME_E_OWNER);
	assert_refused(e, frame_transfer(&e->ft, 30, 0xffff, VM1), FRAME_E_OWNER);
	/* a free frame cannot be "transferred" into someone's hands */
	assert_refused(e, frame_transfer(&e->ft, 31, FRAME_FREE, VM1), FRAME_E_OWNER);
	assert_refused(e, frame_transfer(&e->ft, 31, VM0, VM1), FRAME_E_NOT_OWNER);
	/* the wrong owner */
	assert_refused(e, frame_transfer(&e->ft, 30, VM1, FRAME_TCB),
		       FRAME_E_NOT_OWNER);
	assert_refused(e, frame_transfer(&e->ft, 30, FRAME_TCB, VM1),
		       FRAME_E_NOT_OWNER);
	assert_refused(e, frame_transfer(&e->ft, 30, VM1, VM0), FRAME_E_NOT_OWNER);
	assert_true(frame_holds(e, 30, pattern_of(VM0)));
}

/* ---- alloc --------------------------------------------------------------- */

static void test_alloc_sequence_and_exhaustion(void **state)
{
	struct env *e = env_managed(state);
	uint64_t pfn = 0, expect, out;
	unsigned long calls;

	assert_int_equal(frame_assign(&e->ft, 6, VM1), FRAME_OK);
	/* frames 4, 5, 7, 8, ... in order: the busy frame 6 is skipped */
	for (expect = 4; expect < 64; expect++) {
		if (expect == 6)
			continue;
		calls = e->ram.zero_calls;
		assert_int_equal(frame_alloc(&e->ft, VM0, &pfn), FRAME_OK);
		assert_int_equal(pfn, expect);
		assert_one_change(e, calls, pfn, FRAME_FREE, VM0);
		owner_writes(e, pfn);
	}
	assert_int_equal(e->ft.free_count, 0);
	out = 0xdead;
	assert_refused(e, frame_alloc(&e->ft, VM0, &out), FRAME_E_NOMEM);
	assert_refused(e, frame_alloc(&e->ft, FRAME_TCB, &out), FRAME_E_NOMEM);
	assert_int_equal(out, 0xdead);

	/* give one back: zeroed at the release, so the next allocation finds
	 * exactly it and hands it over without zeroing it again */
	calls = e->ram.zero_calls;
	assert_int_equal(frame_release(&e->ft, 40, VM0), FRAME_OK);
	assert_one_change(e, calls, 40, VM0, FRAME_FREE);
	assert_true(frame_known_zero(&e->ft, 40));
	calls = e->ram.zero_calls;
	assert_int_equal(frame_alloc(&e->ft, VM1, &pfn), FRAME_OK);
	assert_int_equal(pfn, 40);
	assert_clean_handover(e, calls, 40, VM1);
	assert_refused(e, frame_alloc(&e->ft, VM0, &out), FRAME_E_NOMEM);
	assert_int_equal(out, 0xdead);
}

static void test_alloc_wraps_around(void **state)
{
	struct env *e = env_managed(state);
	uint64_t pfn;

	assert_int_equal(frame_alloc(&e->ft, VM0, &pfn), FRAME_OK);
	assert_int_equal(pfn, 4);
	assert_int_equal(frame_alloc(&e->ft, VM0, &pfn), FRAME_OK);
	assert_int_equal(pfn, 5);
	assert_int_equal(frame_release(&e->ft, 4, VM0), FRAME_OK);
	/* continues after 5 rather than reusing 4 at once */
	assert_int_equal(frame_alloc(&e->ft, VM0, &pfn), FRAME_OK);
	assert_int_equal(pfn, 6);
	/* the last frame, then wrap to the low free frame */
	e->ft.next_hint = 63;
	assert_int_equal(frame_alloc(&e->ft, VM0, &pfn), FRAME_OK);
	assert_int_equal(pfn, 63);
	assert_int_equal(frame_alloc(&e->ft, VM0, &pfn), FRAME_OK);
	assert_int_equal(pfn, 4);
	/* a stale hint past the end is harmless */
	e->ft.next_hint = UINT64_MAX;
	assert_int_equal(frame_alloc(&e->ft, VM0, &pfn), FRAME_OK);
	assert_int_equal(pfn, 7);
	assert_true(frame_table_check(&e->ft));
}

static void test_alloc_bad_owner(void **state)
{
	struct env *e = env_managed(state);
	uint64_t out = 0xdead;

	assert_refused(e, frame_alloc(&e->ft, FRAME_UNMANAGED, &out), FRAME_E_OWNER);
	assert_refused(e, frame_alloc(&e->ft, FRAME_FREE, &out), FRAME_E_OWNER);
	assert_refused(e, frame_alloc(&e->ft, OWNER_PAST_VMS, &out), FRAME_E_OWNER);
	assert_refused(e, frame_alloc(&e->ft, 0xffff, &out), FRAME_E_OWNER);
	assert_int_equal(out, 0xdead);
}

/* ---- alloc_contiguous ---------------------------------------------------- */

static void test_contig_bad_args(void **state)
{
	struct env *e = env_managed(state);
	uint64_t out = 0xdead;

	assert_refused(e, frame_alloc_contiguous(&e->ft, FRAME_FREE, 1, 1, &out),
		       FRAME_E_OWNER);
	assert_refused(e, frame_alloc_contiguous(&e->ft, 0xffff, 1, 1, &out),
		       FRAME_E_OWNER);
	assert_refused(e, frame_alloc_contiguous(&e->ft, VM0, 0, 1, &out),
		       FRAME_E_RANGE);
	assert_refused(e, frame_alloc_contiguous(&e->ft, VM0, 1, 0, &out),
		       FRAME_E_RANGE);
	assert_refused(e, frame_alloc_contiguous(&e->ft, VM0, 1, 3, &out),
		       FRAME_E_RANGE);
	assert_refused(e, frame_alloc_contiguous(&e->ft, VM0, 2, 6, &out),
		       FRAME_E_RANGE);
	assert_refused(e, frame_alloc_contiguous(&e->ft, VM0, 2, UINT64_MAX, &out),
		       FRAME_E_RANGE);
	/* more frames than the table has, including sizes that would wrap */
	assert_refused(e, frame_alloc_contiguous(&e->ft, VM0, 65, 1, &out),
		       FRAME_E_NOMEM);
	assert_refused(e, frame_alloc_contiguous(&e->ft, VM0, UINT64_MAX, 1, &out),
		       FRAME_E_NOMEM);
	assert_refused(e, frame_alloc_contiguous(&e->ft, VM0, 61, 1, &out),
		       FRAME_E_NOMEM);
	assert_int_equal(out, 0xdead);
}

static void test_contig_aligned(void **state)
{
	struct env *e = env_managed(state);
	uint64_t first = 0, i;
	unsigned long calls = e->ram.zero_calls;

	/* frames 0-3 unmanaged, so the first aligned run of 4 starts at 4 */
	assert_int_equal(frame_alloc_contiguous(&e->ft, VM0, 3, 4, &first),
			 FRAME_OK);
	assert_int_equal(first, 4);
	/* frame 7 stays free: the next run of 5 aligned to 8 starts at 8 */
	assert_int_equal(frame_alloc_contiguous(&e->ft, VM1, 5, 8, &first),
			 FRAME_OK);
	assert_int_equal(first, 8);
	assert_int_equal(e->ram.zero_calls, calls + 8);
	for (i = 4; i < 7; i++) {
		assert_int_equal(frame_owner(&e->ft, i), VM0);
		assert_true(frame_holds(e, i, 0));
	}
	assert_int_equal(frame_owner(&e->ft, 7), FRAME_FREE);
	assert_true(frame_holds(e, 7, GARBAGE));
	for (i = 8; i < 13; i++) {
		assert_int_equal(frame_owner(&e->ft, i), VM1);
		assert_true(frame_holds(e, i, 0));
	}
	assert_int_equal(frame_owner(&e->ft, 13), FRAME_FREE);
	assert_int_equal(e->ft.free_count, 52);
	/* a busy frame inside an aligned window pushes to the next window */
	assert_int_equal(frame_assign(&e->ft, 17, FRAME_TCB), FRAME_OK);
	assert_int_equal(frame_alloc_contiguous(&e->ft, VM0, 2, 16, &first),
			 FRAME_OK);
	assert_int_equal(first, 32);
	assert_int_equal(frame_alloc_contiguous(&e->ft, VM0, 2, 2, &first),
			 FRAME_OK);
	assert_int_equal(first, 14);
	assert_int_equal(frame_alloc_contiguous(&e->ft, VM0, 1, 1, &first),
			 FRAME_OK);
	assert_int_equal(first, 7);
	/* alignment larger than the table: only frame 0 qualifies, unmanaged */
	assert_refused(e, frame_alloc_contiguous(&e->ft, VM0, 1, 1ull << 63,
						 &first), FRAME_E_NOMEM);
	assert_true(frame_table_check(&e->ft));
}

static void test_contig_all_or_nothing(void **state)
{
	struct env *e = env_managed(state);
	uint64_t first = 0xdead, pfn;

	/* every 8th frame busy: 52 free frames but no run of 8 */
	for (pfn = 8; pfn < 64; pfn += 8)
		assert_int_equal(frame_assign(&e->ft, pfn, FRAME_TCB), FRAME_OK);
	assert_refused(e, frame_alloc_contiguous(&e->ft, VM0, 8, 1, &first),
		       FRAME_E_NOMEM);
	assert_int_equal(first, 0xdead);
	/* a run of 7 exists, but not at an alignment of 8 */
	assert_refused(e, frame_alloc_contiguous(&e->ft, VM0, 7, 8, &first),
		       FRAME_E_NOMEM);
	assert_int_equal(frame_alloc_contiguous(&e->ft, VM0, 7, 1, &first),
			 FRAME_OK);
	assert_int_equal(first, 9);
}

static void test_contig_whole_table(void **state)
{
	struct env *e = env_new(32);
	uint64_t first = 0xdead;

	(void)state;
	assert_int_equal(frame_table_add_usable(&e->ft, 0, 32 * PAGE_SIZE),
			 FRAME_OK);
	assert_int_equal(frame_alloc_contiguous(&e->ft, VM0, 32, 32, &first),
			 FRAME_OK);
	assert_int_equal(first, 0);
	assert_int_equal(e->ft.free_count, 0);
	assert_int_equal(e->ram.zero_calls, 32);
	assert_int_equal(frame_count_owned(&e->ft, VM0), 32);
	assert_true(frame_table_check(&e->ft));
	test_free(e);
}

/* ---- isolation ----------------------------------------------------------- */

static void test_no_data_crosses_owners(void **state)
{
	struct env *e = env_managed(state);
	uint64_t pfn, again;

	assert_int_equal(frame_alloc(&e->ft, VM0, &pfn), FRAME_OK);
	fill_frame(e, pfn, 0x5ec7e75ec7e7ull); /* VM0's secret */
	assert_int_equal(frame_release(&e->ft, pfn, VM0), FRAME_OK);
	assert_true(frame_holds(e, pfn, 0));
	e->ft.next_hint = pfn;
	assert_int_equal(frame_alloc(&e->ft, VM1, &again), FRAME_OK);
	assert_int_equal(again, pfn);
	assert_true(frame_holds(e, pfn, 0));

	fill_frame(e, pfn, 0x5ec7e7);
	assert_int_equal(frame_transfer(&e->ft, pfn, VM1, VM0), FRAME_OK);
	assert_true(frame_holds(e, pfn, 0));
}

/* ---- zeroed once per change of owner ------------------------------------ */

/* Frames free at boot hold what a previous boot left: none is known zero,
 * and each is zeroed when it is first handed out. */
static void test_boot_frames_zeroed_when_first_handed_out(void **state)
{
	struct env *e = env_managed(state);
	uint64_t pfn, first;
	unsigned long calls;

	for (pfn = 0; pfn < 64; pfn++)
		assert_false(frame_known_zero(&e->ft, pfn));
	assert_false(frame_known_zero(&e->ft, 64));
	assert_false(frame_known_zero(&e->ft, UINT64_MAX));
	/* init wrote only the words the table needs (the canary after them) */
	assert_int_equal(e->known_zero[1], UINT64_MAX);
	calls = e->ram.zero_calls;
	assert_int_equal(frame_alloc(&e->ft, VM0, &pfn), FRAME_OK);
	assert_one_change(e, calls, pfn, FRAME_FREE, VM0);
	calls = e->ram.zero_calls;
	assert_int_equal(frame_alloc_contiguous(&e->ft, VM1, 4, 1, &first),
			 FRAME_OK);
	assert_int_equal(e->ram.zero_calls, calls + 4);
	for (pfn = first; pfn < first + 4; pfn++)
		assert_true(frame_holds(e, pfn, 0));
}

/* A frame given back is zeroed at once (a destroyed VM's data does not
 * linger) and handed to the next owner without a second zeroing, by every
 * operation that hands out free frames. */
static void test_released_frame_not_zeroed_again(void **state)
{
	struct env *e = env_managed(state);
	uint64_t pfn, first;
	unsigned long calls;

	for (pfn = 4; pfn < 12; pfn++) {
		assert_int_equal(frame_assign(&e->ft, pfn, VM0), FRAME_OK);
		owner_writes(e, pfn);
	}
	calls = e->ram.zero_calls;
	for (pfn = 4; pfn < 12; pfn++)
		assert_int_equal(frame_release(&e->ft, pfn, VM0), FRAME_OK);
	assert_int_equal(e->ram.zero_calls, calls + 8);
	for (pfn = 4; pfn < 12; pfn++) {
		assert_true(frame_holds(e, pfn, 0));
		assert_true(frame_known_zero(&e->ft, pfn));
	}
	calls = e->ram.zero_calls;
	assert_int_equal(frame_assign(&e->ft, 4, VM1), FRAME_OK);
	assert_clean_handover(e, calls, 4, VM1);
	e->ft.next_hint = 5;
	assert_int_equal(frame_alloc(&e->ft, FRAME_TCB, &pfn), FRAME_OK);
	assert_int_equal(pfn, 5);
	assert_clean_handover(e, calls, 5, FRAME_TCB);
	assert_int_equal(frame_alloc_contiguous(&e->ft, VM_LAST, 6, 1, &first),
			 FRAME_OK);
	assert_int_equal(first, 6);
	for (pfn = 6; pfn < 12; pfn++)
		assert_clean_handover(e, calls, pfn, VM_LAST);
	/* a run over known-zero and boot frames zeroes only the boot ones */
	for (pfn = 6; pfn < 12; pfn++)
		assert_int_equal(frame_release(&e->ft, pfn, VM_LAST), FRAME_OK);
	calls = e->ram.zero_calls;
	assert_int_equal(frame_alloc_contiguous(&e->ft, VM0, 10, 1, &first),
			 FRAME_OK);
	assert_int_equal(first, 6);
	assert_int_equal(e->ram.zero_calls, calls + 4);
	for (pfn = 6; pfn < 16; pfn++) {
		assert_true(frame_holds(e, pfn, 0));
		assert_false(frame_known_zero(&e->ft, pfn));
	}
}

/* A transfer has no release in between: it zeroes. A frame reserved at
 * boot after it was given back is not known zero any more. */
static void test_transfer_and_reserve_not_known_zero(void **state)
{
	struct env *e = env_managed(state);
	unsigned long calls;

	assert_int_equal(frame_assign(&e->ft, 20, VM0), FRAME_OK);
	owner_writes(e, 20);
	calls = e->ram.zero_calls;
	assert_int_equal(frame_transfer(&e->ft, 20, VM0, VM1), FRAME_OK);
	assert_one_change(e, calls, 20, VM0, VM1);
	assert_false(frame_known_zero(&e->ft, 20));
	assert_int_equal(frame_release(&e->ft, 20, VM1), FRAME_OK);
	assert_true(frame_known_zero(&e->ft, 20));
	assert_int_equal(frame_table_reserve_boot(&e->ft, 20 * PAGE_SIZE, 1),
			 FRAME_OK);
	assert_int_equal(frame_owner(&e->ft, 20), FRAME_TCB);
	assert_false(frame_known_zero(&e->ft, 20));
	assert_true(frame_table_check(&e->ft));
}

/* ---- count_owned, check, strerror --------------------------------------- */

static void test_count_owned(void **state)
{
	struct env *e = env_managed(state);
	uint64_t pfn;

	assert_int_equal(frame_alloc_contiguous(&e->ft, VM1, 5, 1, &pfn), FRAME_OK);
	assert_int_equal(frame_alloc(&e->ft, FRAME_TCB, &pfn), FRAME_OK);
	assert_int_equal(frame_count_owned(&e->ft, VM1), 5);
	assert_int_equal(frame_count_owned(&e->ft, FRAME_TCB), 1);
	assert_int_equal(frame_count_owned(&e->ft, VM0), 0);
	assert_int_equal(frame_count_owned(&e->ft, FRAME_FREE), 54);
	assert_int_equal(frame_count_owned(&e->ft, FRAME_UNMANAGED), 4);
	assert_int_equal(frame_count_owned(&e->ft, 0xffff), 0);
}

static void test_check_detects_corruption(void **state)
{
	struct env *e = env_managed(state);
	static const frame_owner_t bad_entries[] = {
		OWNER_PAST_VMS, (frame_owner_t)(OWNER_PAST_VMS + 7), 0x7fff, 0xffff,
	};
	size_t i;

	assert_int_equal(frame_assign(&e->ft, 20, VM0), FRAME_OK);
	assert_true(frame_table_check(&e->ft));

	/* an entry that is no owner at all */
	for (i = 0; i < ARRAY_SIZE(bad_entries); i++) {
		frame_owner_t saved = e->storage[20];

		e->storage[20] = bad_entries[i];
		assert_false(frame_table_check(&e->ft));
		e->storage[20] = saved;
		e->storage[63] = bad_entries[i]; /* the last entry is checked too */
		assert_false(frame_table_check(&e->ft));
		e->storage[63] = FRAME_FREE;
	}
	assert_true(frame_table_check(&e->ft));

	/* counters that disagree with the entries */
	e->ft.free_count++;
	assert_false(frame_table_check(&e->ft));
	e->ft.free_count -= 2;
	assert_false(frame_table_check(&e->ft));
	e->ft.free_count++;
	e->ft.managed_count++;
	assert_false(frame_table_check(&e->ft));
	e->ft.managed_count = UINT64_MAX;
	assert_false(frame_table_check(&e->ft));
	e->ft.managed_count = 60;
	assert_true(frame_table_check(&e->ft));

	/* entries changed behind the counters' back */
	e->storage[21] = FRAME_TCB; /* was free */
	assert_false(frame_table_check(&e->ft));
	e->storage[21] = FRAME_FREE;
	e->storage[0] = FRAME_TCB; /* was unmanaged */
	assert_false(frame_table_check(&e->ft));
	e->storage[0] = FRAME_FREE;
	assert_false(frame_table_check(&e->ft));
	e->storage[0] = FRAME_UNMANAGED;
	assert_true(frame_table_check(&e->ft));

	/* "known zero" on a frame that has an owner (its release would be
	 * trusted to have zeroed it), on an unmanaged one, past the table */
	e->known_zero[0] |= 1ull << 20;
	assert_false(frame_table_check(&e->ft));
	e->known_zero[0] = 1ull << 0;
	assert_false(frame_table_check(&e->ft));
	e->known_zero[0] = 1ull << 21; /* free: fine */
	assert_true(frame_table_check(&e->ft));
	e->known_zero[0] = 0;
	{
		struct env *s = env_new(40);

		assert_int_equal(frame_table_add_usable(&s->ft, 0, 40 * PAGE_SIZE),
				 FRAME_OK);
		assert_true(frame_table_check(&s->ft));
		s->known_zero[0] |= 1ull << 40;
		assert_false(frame_table_check(&s->ft));
		test_free(s);
	}

	/* a broken table header */
	assert_false(frame_table_check(NULL));
	e->ft.owner = NULL;
	assert_false(frame_table_check(&e->ft));
	e->ft.owner = e->storage;
	e->ft.known_zero = NULL;
	assert_false(frame_table_check(&e->ft));
	e->ft.known_zero = e->known_zero;
	e->ft.zero = NULL;
	assert_false(frame_table_check(&e->ft));
	e->ft.zero = zero_frame;
	assert_true(frame_table_check(&e->ft));
}

static void test_strerror(void **state)
{
	static const int codes[] = {
		FRAME_OK, FRAME_E_RANGE, FRAME_E_UNMANAGED, FRAME_E_OWNER,
		FRAME_E_BUSY, FRAME_E_NOT_OWNER, FRAME_E_NOMEM, FRAME_E_SEALED,
	};
	static const int unknown[] = { 1, -8, 42, -1000, INT_MAX, INT_MIN };
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		const char *s = frame_strerror(codes[i]);

		assert_non_null(s);
		assert_true(strlen(s) > 0);
		assert_string_not_equal(s, "unknown error");
		for (j = 0; j < i; j++)
			assert_string_not_equal(s, frame_strerror(codes[j]));
	}
	for (i = 0; i < ARRAY_SIZE(unknown); i++)
		assert_string_equal(frame_strerror(unknown[i]), "unknown error");
}

/* ---- randomized model-based test ---------------------------------------- */

/*
 * A shadow model of the table, written independently of the implementation
 * (plain loops, 128-bit address arithmetic, literal owner values), predicts
 * every return code and every owner change. After every step the real table,
 * its counters, the zero callback log and all of fake RAM are compared with
 * the model.
 */
struct model {
	struct env *e;
	uint64_t seed, rng;
	unsigned long step;
	const char *op;
	uint64_t n;
	frame_owner_t owner[MAX_FRAMES];
	uint64_t content[MAX_FRAMES]; /* the word every word of the frame holds */
	bool zeroed[MAX_FRAMES];      /* FREE and zeroed at its release */
	uint64_t nfree, nmanaged, hint;
	bool sealed;
	/* outcome coverage: successes per operation, results per code */
	unsigned long ok_by_op[8];
	unsigned long by_code[8];
	unsigned op_index;
	/* owner changes predicted for the current step */
	unsigned nchg;
	uint64_t chg_pfn[MAX_FRAMES];
	frame_owner_t chg_to[MAX_FRAMES];
};

static void model_fail(const struct model *m, const char *what, int line)
{
	print_error("model test: seed=0x%llx nframes=%llu step=%lu op=%s: "
		    "line %d: %s\n", (unsigned long long)m->seed,
		    (unsigned long long)m->n, m->step, m->op, line, what);
	fail();
}

#define MCHECK(m, cond)                                                \
	do {                                                           \
		if (!(cond))                                           \
			model_fail((m), #cond, __LINE__);              \
	} while (0)

/* xorshift64* */
static uint64_t rnd(struct model *m)
{
	return xorshift64s(&m->rng);
}

static uint64_t rnd_below(struct model *m, uint64_t bound)
{
	return bound ? rnd(m) % bound : 0;
}

/* TCB is 2, VMs are 3 .. 1026: spelled out, not taken from the header. */
static bool model_can_hold(frame_owner_t o)
{
	return o == 2 || (o >= 3 && o <= 1026);
}

static uint64_t rnd_pfn(struct model *m)
{
	uint64_t r = rnd_below(m, 100);

	if (r < 85)
		return rnd_below(m, m->n);
	if (r < 95)
		return m->n + rnd_below(m, 4);
	if (r < 97)
		return UINT64_MAX - rnd_below(m, 2);
	return 1ull << 52;
}

static frame_owner_t rnd_owner(struct model *m)
{
	uint64_t r = rnd_below(m, 100);

	if (r < 45)
		return frame_owner_vm((unsigned)rnd_below(m, 4));
	if (r < 50)
		return frame_owner_vm(FRAME_MAX_VMS - 1);
	if (r < 65)
		return FRAME_TCB;
	if (r < 75)
		return FRAME_FREE;
	if (r < 82)
		return FRAME_UNMANAGED;
	if (r < 88)
		return OWNER_PAST_VMS;
	if (r < 93)
		return 0xffff;
	return (frame_owner_t)rnd(m);
}

/* The frame's current owner half of the time, so that operations succeed. */
static frame_owner_t rnd_owner_of(struct model *m, uint64_t pfn)
{
	if (pfn < m->n && rnd_below(m, 2))
		return m->owner[pfn];
	return rnd_owner(m);
}

static int model_pfn_err(const struct model *m, uint64_t pfn)
{
	if (pfn >= m->n)
		return FRAME_E_RANGE;
	if (m->owner[pfn] == FRAME_UNMANAGED)
		return FRAME_E_UNMANAGED;
	return FRAME_OK;
}

static void expect_change(struct model *m, uint64_t pfn, frame_owner_t to)
{
	m->chg_pfn[m->nchg] = pfn;
	m->chg_to[m->nchg] = to;
	m->nchg++;
}

static void model_check_all(struct model *m)
{
	const struct frame_table *ft = &m->e->ft;
	uint64_t pfn;

	MCHECK(m, ft->owner == m->e->storage);
	MCHECK(m, ft->nframes == m->n);
	MCHECK(m, ft->free_count == m->nfree);
	MCHECK(m, ft->managed_count == m->nmanaged);
	MCHECK(m, ft->next_hint == m->hint);
	MCHECK(m, ft->sealed == m->sealed);
	MCHECK(m, frame_table_check(ft));
	for (pfn = 0; pfn < m->n; pfn++) {
		MCHECK(m, ft->owner[pfn] == m->owner[pfn]);
		MCHECK(m, frame_holds(m->e, pfn, m->content[pfn]));
		MCHECK(m, frame_known_zero(ft, pfn) == m->zeroed[pfn]);
		/* what the table believes zero is zero */
		MCHECK(m, !frame_known_zero(ft, pfn) || frame_holds(m->e, pfn, 0));
	}
	MCHECK(m, m->n == MAX_FRAMES || m->e->storage[m->n] == 0xbeef);
}

/*
 * Compare the step's outcome with the prediction: the return code, and that
 * the zero callback ran exactly once for each predicted owner change of a
 * frame that was not zeroed at its release (and never for one that was),
 * on the right frame, while the entry still held the old owner. Then apply
 * the changes to the model and let each new owner write its frame.
 */
static void model_finish(struct model *m, int rc, int expected)
{
	struct fake_ram *ram = &m->e->ram;
	bool seen[MAX_FRAMES] = { false };
	unsigned i, j, nzero = 0;

	if (rc != expected)
		print_error("rc %d (%s), expected %d (%s)\n", rc,
			    frame_strerror(rc), expected,
			    frame_strerror(expected));
	MCHECK(m, rc == expected);
	if (rc == FRAME_OK)
		m->ok_by_op[m->op_index]++;
	if (rc <= 0 && rc >= FRAME_E_SEALED)
		m->by_code[-rc]++;
	MCHECK(m, ram->bad_zero_calls == 0);
	for (j = 0; j < m->nchg; j++)
		nzero += !m->zeroed[m->chg_pfn[j]];
	MCHECK(m, ram->zero_calls == nzero);
	for (i = 0; i < ram->zero_calls; i++) {
		for (j = 0; j < m->nchg; j++)
			if (m->chg_pfn[j] == ram->zero_pfn[i])
				break;
		MCHECK(m, j < m->nchg);
		MCHECK(m, !m->zeroed[m->chg_pfn[j]]);
		MCHECK(m, !seen[j]);
		seen[j] = true;
		MCHECK(m, ram->owner_when_zeroed[i] == m->owner[m->chg_pfn[j]]);
	}
	for (j = 0; j < m->nchg; j++) {
		uint64_t pfn = m->chg_pfn[j];
		frame_owner_t to = m->chg_to[j];

		/* nothing of the old owner is visible to the new one */
		MCHECK(m, frame_holds(m->e, pfn, 0));
		m->nfree += to == FRAME_FREE;
		m->nfree -= m->owner[pfn] == FRAME_FREE;
		m->owner[pfn] = to;
		m->zeroed[pfn] = to == FRAME_FREE;
		m->content[pfn] = to == FRAME_FREE ? 0 : pattern_of(to);
		fill_frame(m->e, pfn, m->content[pfn]);
	}
	model_check_all(m);
}

static void step_assign(struct model *m)
{
	uint64_t pfn = rnd_pfn(m);
	frame_owner_t o = rnd_owner(m);
	int exp = model_pfn_err(m, pfn);

	m->op = "assign";
	m->op_index = 1;
	if (exp == FRAME_OK && !model_can_hold(o))
		exp = FRAME_E_OWNER;
	if (exp == FRAME_OK && m->owner[pfn] != FRAME_FREE)
		exp = FRAME_E_BUSY;
	if (exp == FRAME_OK)
		expect_change(m, pfn, o);
	model_finish(m, frame_assign(&m->e->ft, pfn, o), exp);
}

static void step_release(struct model *m)
{
	uint64_t pfn = rnd_pfn(m);
	frame_owner_t o = rnd_owner_of(m, pfn);
	int exp = model_pfn_err(m, pfn);

	m->op = "release";
	m->op_index = 2;
	if (exp == FRAME_OK && !model_can_hold(o))
		exp = FRAME_E_OWNER;
	if (exp == FRAME_OK && m->owner[pfn] != o)
		exp = FRAME_E_NOT_OWNER;
	if (exp == FRAME_OK)
		expect_change(m, pfn, FRAME_FREE);
	model_finish(m, frame_release(&m->e->ft, pfn, o), exp);
}

static void step_transfer(struct model *m)
{
	uint64_t pfn = rnd_pfn(m);
	frame_owner_t from = rnd_owner_of(m, pfn);
	frame_owner_t to = rnd_owner(m);
	int exp = model_pfn_err(m, pfn);

	m->op = "transfer";
	m->op_index = 3;
	if (exp == FRAME_OK &&
	    (!model_can_hold(from) || !model_can_hold(to) || from == to))
		exp = FRAME_E_OWNER;
	if (exp == FRAME_OK && m->owner[pfn] != from)
		exp = FRAME_E_NOT_OWNER;
	if (exp == FRAME_OK)
		expect_change(m, pfn, to);
	model_finish(m, frame_transfer(&m->e->ft, pfn, from, to), exp);
}

static void step_alloc(struct model *m)
{
	frame_owner_t o = rnd_owner(m);
	uint64_t start = m->hint < m->n ? m->hint : 0;
	uint64_t pfn = m->n, out = 0xdeadbeef;
	int exp = FRAME_OK, rc;

	m->op = "alloc";
	m->op_index = 4;
	if (!model_can_hold(o)) {
		exp = FRAME_E_OWNER;
	} else {
		uint64_t i;

		for (i = 0; i < m->n; i++) {
			pfn = (start + i) % m->n;
			if (m->owner[pfn] == FRAME_FREE)
				break;
		}
		if (i == m->n)
			exp = FRAME_E_NOMEM;
	}
	if (exp == FRAME_OK)
		expect_change(m, pfn, o);
	rc = frame_alloc(&m->e->ft, o, &out);
	if (exp == FRAME_OK) {
		MCHECK(m, out == pfn);
		m->hint = (pfn + 1) % m->n;
	} else {
		MCHECK(m, out == 0xdeadbeef);
	}
	model_finish(m, rc, exp);
}

static void step_alloc_contiguous(struct model *m)
{
	static const uint64_t aligns[] = {
		1, 1, 1, 2, 2, 4, 8, 16, 64, 1ull << 63, 0, 3, 6, UINT64_MAX,
	};
	frame_owner_t o = rnd_owner(m);
	uint64_t r = rnd_below(m, 100), count, align, out = 0xdeadbeef;
	unsigned __int128 a = 0, i;
	int exp = FRAME_E_NOMEM, rc;

	m->op = "alloc_contiguous";
	m->op_index = 5;
	count = r < 90 ? 1 + rnd_below(m, 6) :
		r < 95 ? 0 :
		r < 98 ? m->n + rnd_below(m, 2) : UINT64_MAX - rnd_below(m, 2);
	align = aligns[rnd_below(m, ARRAY_SIZE(aligns))];
	if (!model_can_hold(o)) {
		exp = FRAME_E_OWNER;
	} else if (count == 0 || align == 0 || (align & (align - 1))) {
		exp = FRAME_E_RANGE;
	} else {
		/* lowest aligned start whose whole run is free */
		for (a = 0; a + count <= m->n; a += align) {
			for (i = 0; i < count; i++)
				if (m->owner[(uint64_t)(a + i)] != FRAME_FREE)
					break;
			if (i == count) {
				exp = FRAME_OK;
				break;
			}
		}
		if (exp == FRAME_OK)
			for (i = 0; i < count; i++)
				expect_change(m, (uint64_t)(a + i), o);
	}
	rc = frame_alloc_contiguous(&m->e->ft, o, count, align, &out);
	if (exp == FRAME_OK)
		MCHECK(m, out == (uint64_t)a);
	else
		MCHECK(m, out == 0xdeadbeef);
	model_finish(m, rc, exp);
}

static void rnd_byte_range(struct model *m, uint64_t *base, uint64_t *len)
{
	uint64_t span = (m->n + 4) * PAGE_SIZE;
	uint64_t r = rnd_below(m, 100);

	*base = rnd_below(m, span);
	*len = rnd_below(m, 8 * PAGE_SIZE + 1);
	if (rnd_below(m, 2)) { /* page-aligned: exact fits happen */
		*base &= ~PAGE_MASK;
		*len &= ~PAGE_MASK;
	}
	if (r < 8)
		*len = UINT64_MAX - rnd_below(m, 3); /* wraps */
	else if (r < 12)
		*base = UINT64_MAX - rnd_below(m, 3 * PAGE_SIZE);
	else if (r < 15)
		*len = 0;
}

/* Boot operations: frame f is [f * 4K, f * 4K + 4K), the range [base, end). */
static void step_boot_op(struct model *m)
{
	bool reserve = rnd_below(m, 4) == 0;
	uint64_t base, len, f;
	unsigned __int128 lo, hi, end;
	int rc;

	rnd_byte_range(m, &base, &len);
	end = (unsigned __int128)base + len;
	m->op = reserve ? "reserve_boot" : "add_usable";
	m->op_index = 6;
	rc = reserve ? frame_table_reserve_boot(&m->e->ft, base, len) :
		       frame_table_add_usable(&m->e->ft, base, len);
	if (m->sealed) {
		model_finish(m, rc, FRAME_E_SEALED);
		return;
	}
	for (f = 0; f < m->n; f++) {
		lo = (unsigned __int128)f * PAGE_SIZE;
		hi = lo + PAGE_SIZE;
		if (!reserve && lo >= base && hi <= end &&
		    m->owner[f] == FRAME_UNMANAGED) {
			m->owner[f] = FRAME_FREE;
			m->nfree++;
			m->nmanaged++;
		}
		if (reserve && len != 0 && lo < end && hi > base &&
		    m->owner[f] == FRAME_FREE) {
			/* not zeroed: content stays */
			m->owner[f] = FRAME_TCB;
			m->zeroed[f] = false;
			m->nfree--;
		}
	}
	model_finish(m, rc, FRAME_OK);
}

static void step_query(struct model *m)
{
	uint64_t pfn = rnd_pfn(m), f, count = 0;
	frame_owner_t o = rnd_owner(m);

	m->op = "query";
	m->op_index = 7;
	MCHECK(m, frame_owner(&m->e->ft, pfn) ==
		  (pfn < m->n ? m->owner[pfn] : FRAME_UNMANAGED));
	for (f = 0; f < m->n; f++)
		count += m->owner[f] == o;
	MCHECK(m, frame_count_owned(&m->e->ft, o) == count);
	model_finish(m, FRAME_OK, FRAME_OK);
}

/*
 * Guards against a model run that only ever exercises refusals: on tables of
 * a useful size every operation must have succeeded and every error code
 * must have come up.
 */
static void model_check_coverage(struct model *m, unsigned long steps)
{
	unsigned i;

	print_message("seed 0x%llx, %llu frames, %lu steps: ok assign %lu "
		      "release %lu transfer %lu alloc %lu contig %lu boot %lu; "
		      "RANGE %lu UNMANAGED %lu OWNER %lu BUSY %lu NOT_OWNER %lu "
		      "NOMEM %lu SEALED %lu\n", (unsigned long long)m->seed,
		      (unsigned long long)m->n, steps, m->ok_by_op[1],
		      m->ok_by_op[2], m->ok_by_op[3], m->ok_by_op[4],
		      m->ok_by_op[5], m->ok_by_op[6], m->by_code[1],
		      m->by_code[2], m->by_code[3], m->by_code[4],
		      m->by_code[5], m->by_code[6], m->by_code[7]);
	if (m->n < 16 || steps < 10000)
		return;
	for (i = 1; i <= 6; i++)
		MCHECK(m, m->ok_by_op[i] > steps / 1000);
	for (i = 1; i <= 7; i++)
		MCHECK(m, m->by_code[i] > 0);
}

static void run_model(uint64_t seed, uint64_t nframes, unsigned long steps)
{
	struct model *m = test_calloc(1, sizeof(*m));
	unsigned long seal_at;
	uint64_t r, pfn;

	assert_non_null(m);
	m->seed = seed;
	m->rng = seed ? seed : 1;
	m->n = nframes;
	m->e = env_new(nframes);
	for (pfn = 0; pfn < nframes; pfn++)
		m->content[pfn] = GARBAGE;
	seal_at = steps / 16 + (unsigned long)rnd_below(m, steps / 8);
	m->op = "init";
	m->op_index = 0;
	model_check_all(m);
	for (m->step = 0; m->step < steps; m->step++) {
		m->nchg = 0;
		m->e->ram.zero_calls = 0;
		if (m->step == seal_at) {
			m->op = "seal";
	m->op_index = 0;
			frame_table_seal(&m->e->ft);
			m->sealed = true;
			model_finish(m, FRAME_OK, FRAME_OK);
			continue;
		}
		r = rnd_below(m, 100);
		if (r < (m->sealed ? 3 : 10))
			step_boot_op(m);
		else if (r < 30)
			step_assign(m);
		else if (r < 56)
			step_release(m);
		else if (r < 70)
			step_transfer(m);
		else if (r < 82)
			step_alloc(m);
		else if (r < 96)
			step_alloc_contiguous(m);
		else
			step_query(m);
	}
	model_check_coverage(m, steps);
	test_free(m->e);
	test_free(m);
}

static void test_model_small(void **state)
{
	(void)state;
	run_model(0x1, 1, 10000);
	run_model(0x5eed0002, 5, 20000);
}

static void test_model_medium(void **state)
{
	(void)state;
	run_model(0x5eed0003, 61, 100000);
	run_model(0x5eed0004, 64, 100000);
}

static void test_model_large(void **state)
{
	(void)state;
	run_model(0xc0ffee0005ull, 200, 100000);
	run_model(0xc0ffee0006ull, MAX_FRAMES - 1, 100000);
}

/*
 * FRAME_MODEL_SEED=0x... [FRAME_MODEL_FRAMES=n] [FRAME_MODEL_STEPS=n] adds a
 * run of one seed, to replay a failure or to search longer.
 */
static void test_model_env_seed(void **state)
{
	const char *frames = getenv("FRAME_MODEL_FRAMES");
	const char *steps = getenv("FRAME_MODEL_STEPS");
	uint64_t n = frames ? strtoull(frames, NULL, 0) : 64;

	(void)state;
	assert_true(n >= 1 && n <= MAX_FRAMES - 1);
	run_model(strtoull(getenv("FRAME_MODEL_SEED"), NULL, 0), n,
		  steps ? strtoul(steps, NULL, 0) : 200000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_bytes),
		cmocka_unit_test_setup_teardown(test_init_all_unmanaged, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_owner_outside_table, setup_64, teardown),
		cmocka_unit_test(test_empty_table),
		cmocka_unit_test_setup_teardown(test_add_usable_rounds_inward, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_add_usable_overlap_counts_once, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_add_usable_beyond_table, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_add_usable_no_wrap, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_add_usable_never_downgrades, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_rounds_outward_without_zeroing, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_leaves_unmanaged, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_twice_and_vm_frames, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_no_wrap, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_before_add_has_no_effect, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_sealed_refuses_boot_ops, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_assign_ok, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_assign_refusals, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_release_ok, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_release_refusals, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_ok, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_refusals, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_sequence_and_exhaustion, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_wraps_around, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_bad_owner, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_contig_bad_args, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_contig_aligned, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_contig_all_or_nothing, setup_64, teardown),
		cmocka_unit_test(test_contig_whole_table),
		cmocka_unit_test_setup_teardown(test_no_data_crosses_owners, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_boot_frames_zeroed_when_first_handed_out,
						setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_released_frame_not_zeroed_again,
						setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_transfer_and_reserve_not_known_zero,
						setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_count_owned, setup_64, teardown),
		cmocka_unit_test_setup_teardown(test_check_detects_corruption, setup_64, teardown),
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_model_small),
		cmocka_unit_test(test_model_medium),
		cmocka_unit_test(test_model_large),
	};
	const struct CMUnitTest replay[] = {
		cmocka_unit_test(test_model_env_seed),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);

	if (getenv("FRAME_MODEL_SEED"))
		failed += cmocka_run_group_tests(replay, NULL, NULL);
	return failed;
}
