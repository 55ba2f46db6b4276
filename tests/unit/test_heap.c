/*
 * Tests of the freestanding heap (lib/heap.c): alloc/free patterns,
 * coalescing back to one full-size block, 16-byte alignment, exhaustion,
 * calloc overflow, zeroing of freed memory, refused double frees and
 * foreign pointers, and randomized alloc/free sequences checked against
 * heap_check() and a shadow model of every live block's contents.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/include/heap.h"
#include "xorshift.h"

#define ARENA_SIZE (64 * 1024)
/* heap.c keeps a bitmap of block starts in the first 1/128 of the region
 * (rounded up to 16 bytes); blocks follow it. */
#define MAP_SIZE ((ARENA_SIZE / 128 + 16) & ~15)
#define AREA (arena + MAP_SIZE)
/* The payload of the one free block of an empty heap. */
#define FULL (ARENA_SIZE - MAP_SIZE - 16)

/* The arena, 16-byte aligned, with room to test misaligned bases. */
static _Alignas(16) uint8_t arena[ARENA_SIZE + 64];

static void fresh_heap(void)
{
	memset(arena, 0xa5, sizeof(arena)); /* garbage: init must zero it */
	heap_init(arena, ARENA_SIZE);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
}

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static void test_init_one_free_block(void **state)
{
	(void)state;
	fresh_heap();
	/* One block: everything but its 16-byte header. */
	assert_int_equal(heap_free_bytes(), FULL);
	assert_int_equal(heap_largest_free(), FULL);
	assert_int_equal(heap_min_free_bytes(), FULL);
	assert_int_equal(heap_errors(), 0);
	assert_int_equal(arena[0], 1); /* one block, at the start */
	assert_true(all_zero(arena + 1, MAP_SIZE - 1));
	assert_true(all_zero(AREA + 16, ARENA_SIZE - MAP_SIZE - 16));
}

static void test_uninitialised_and_tiny(void **state)
{
	(void)state;
	heap_init(NULL, 4096);
	assert_null(heap_alloc(1));
	assert_null(heap_calloc(1, 1));
	heap_free(NULL);
	assert_int_equal(heap_free_bytes(), 0);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);

	/* [arena + 16, arena + 64): a 16-byte bitmap and one minimal block. */
	heap_init(arena + 1, 63);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	assert_int_equal(heap_free_bytes(), 16);
	void *p = heap_alloc(16);
	assert_non_null(p);
	assert_null(heap_alloc(1));
	heap_free(p);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);

	heap_init(arena + 1, 62); /* [arena + 16, arena + 48): no room for a block */
	assert_null(heap_alloc(1));
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
}

static void test_alignment(void **state)
{
	(void)state;
	for (size_t off = 0; off < 16; off++) {
		memset(arena, 0, sizeof(arena));
		heap_init(arena + off, ARENA_SIZE);
		for (size_t n = 0; n < 70; n++) {
			uint8_t *p = heap_alloc(n);

			assert_non_null(p);
			assert_int_equal((uintptr_t)p % 16, 0);
			assert_true(p >= arena + off && p + n <= arena + off + ARENA_SIZE);
			memset(p, 0xee, n);
		}
		assert_int_equal(heap_check(), HEAP_CHECK_OK);
	}
}

static void test_distinct_blocks_do_not_overlap(void **state)
{
	uint8_t *p[64];

	(void)state;
	fresh_heap();
	for (int i = 0; i < 64; i++) {
		p[i] = heap_alloc(100 + (size_t)i);
		assert_non_null(p[i]);
		memset(p[i], i, 100 + (size_t)i);
	}
	for (int i = 0; i < 64; i++)
		for (size_t j = 0; j < 100 + (size_t)i; j++)
			assert_int_equal(p[i][j], i);
	/* Zero-sized requests still give distinct pointers. */
	void *z1 = heap_alloc(0), *z2 = heap_alloc(0);
	assert_non_null(z1);
	assert_non_null(z2);
	assert_ptr_not_equal(z1, z2);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
}

static void test_free_all_coalesces(void **state)
{
	void *p[4096];
	int n = 0;

	(void)state;
	fresh_heap();
	/* Allocate until exhausted, in mixed sizes. */
	for (;;) {
		void *q = heap_alloc((size_t)(16 + (n * 37) % 300));

		if (q == NULL)
			break;
		assert_true(n < 4096);
		p[n++] = q;
	}
	assert_true(n > 100);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	assert_true(heap_free_bytes() < 16 + 300);
	/* Free in an order that forces merges on both sides: odds, then evens
	 * from the top down. */
	for (int i = 1; i < n; i += 2)
		heap_free(p[i]);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	for (int i = (n - 1) & ~1; i >= 0; i -= 2)
		heap_free(p[i]);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	assert_int_equal(heap_errors(), 0);
	/* One block of the full size again. */
	assert_int_equal(heap_free_bytes(), FULL);
	assert_int_equal(heap_largest_free(), FULL);
	void *all = heap_alloc(FULL);
	assert_non_null(all);
	assert_ptr_equal(all, AREA + 16);
	assert_int_equal(heap_free_bytes(), 0);
	assert_int_equal(heap_min_free_bytes(), 0);
	heap_free(all);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
}

static void test_merge_with_previous_and_next(void **state)
{
	(void)state;
	fresh_heap();
	void *a = heap_alloc(64), *b = heap_alloc(64), *c = heap_alloc(64);
	void *guard = heap_alloc(64); /* keeps c from touching the tail */
	size_t before = heap_free_bytes();

	heap_free(a);
	heap_free(c);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	assert_int_equal(heap_free_bytes(), before + 2 * 64);
	/* Freeing b merges a, b and c: two headers become payload. */
	heap_free(b);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	assert_int_equal(heap_free_bytes(), before + 3 * 64 + 2 * 16);
	/* First fit: the merged hole is reused from its start. */
	void *big = heap_alloc(3 * 64 + 2 * 16);
	assert_ptr_equal(big, a);
	heap_free(big);
	heap_free(guard);
	assert_int_equal(heap_free_bytes(), FULL);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
}

static void test_exhaustion_returns_null(void **state)
{
	(void)state;
	fresh_heap();
	assert_null(heap_alloc(ARENA_SIZE));
	assert_null(heap_alloc(FULL + 1));
	assert_null(heap_alloc(SIZE_MAX));
	assert_null(heap_alloc(SIZE_MAX - 15));
	void *p = heap_alloc(ARENA_SIZE / 2);
	assert_non_null(p);
	assert_null(heap_alloc(ARENA_SIZE / 2));
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	heap_free(p);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	assert_int_equal(heap_free_bytes(), FULL);
}

static void test_calloc_zero_and_overflow(void **state)
{
	(void)state;
	fresh_heap();
	assert_null(heap_calloc(SIZE_MAX / 2 + 1, 2));   /* overflows */
	assert_null(heap_calloc(2, SIZE_MAX / 2 + 1));
	assert_null(heap_calloc((size_t)1 << 32, (size_t)1 << 32));
	assert_null(heap_calloc(SIZE_MAX, SIZE_MAX));
	assert_null(heap_calloc(ARENA_SIZE, 2));         /* too big, no overflow */
	assert_int_equal(heap_free_bytes(), FULL);

	uint8_t *p = heap_calloc(10, 33);
	assert_non_null(p);
	assert_true(all_zero(p, 330));
	memset(p, 0xff, 330);
	heap_free(p);
	uint8_t *q = heap_calloc(33, 10); /* the same block again: zero again */
	assert_ptr_equal(p, q);
	assert_true(all_zero(q, 330));
	assert_non_null(heap_calloc(0, 5));
	assert_non_null(heap_calloc(5, 0));
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
}

static void test_free_zeroes(void **state)
{
	(void)state;
	fresh_heap();
	uint8_t *keep = heap_alloc(48);
	uint8_t *secret = heap_alloc(200);
	uint8_t *after = heap_alloc(48);

	memset(keep, 0x11, 48);
	memset(secret, 0x5e, 200);
	memset(after, 0x22, 48);
	heap_free(secret);
	/* The payload is zero except the free-list link in its first word. */
	assert_true(all_zero(secret + 8, 200 - 8));
	for (size_t i = 0; i < 48; i++) {
		assert_int_equal(keep[i], 0x11);
		assert_int_equal(after[i], 0x22);
	}
	/* No trace of the secret anywhere in the arena. */
	for (size_t i = 0; i + 4 <= sizeof(arena); i++)
		assert_false(memcmp(arena + i, "\x5e\x5e\x5e\x5e", 4) == 0);
	heap_free(keep);
	heap_free(after);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	/* Merged headers are wiped too: only the one live header remains,
	 * and the bitmap marks only it. */
	assert_int_equal(arena[0], 1);
	assert_true(all_zero(arena + 1, MAP_SIZE - 1));
	assert_true(all_zero(AREA + 24, ARENA_SIZE - MAP_SIZE - 24));
}

static void test_double_free_and_foreign_pointers(void **state)
{
	static uint8_t elsewhere[64];

	(void)state;
	fresh_heap();
	uint8_t *a = heap_alloc(64), *b = heap_alloc(64), *c = heap_alloc(64);
	memset(b, 0x42, 64);
	size_t free_before = heap_free_bytes();

	heap_free(a);
	assert_int_equal(heap_errors(), 0);
	heap_free(a);                 /* double free */
	assert_int_equal(heap_errors(), 1);
	heap_free(b + 16);            /* inside a block, 16-aligned */
	heap_free(b + 1);             /* misaligned */
	heap_free(b - 16);            /* a header */
	heap_free(elsewhere + 16);    /* outside the heap */
	heap_free(arena + ARENA_SIZE);
	heap_free((void *)(uintptr_t)16);
	assert_int_equal(heap_errors(), 7);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	assert_int_equal(heap_free_bytes(), free_before + 64);
	for (size_t i = 0; i < 64; i++)
		assert_int_equal(b[i], 0x42);   /* untouched */
	/* A perfect forgery of a used block's header inside b's payload
	 * (same size field, tag made the way heap.c makes it from b's) is
	 * still refused: only real block starts count. */
	uint64_t hdr[2], fake[2];
	memcpy(hdr, b - 16, sizeof(hdr));
	fake[0] = hdr[0] - 16;
	fake[1] = hdr[1] ^ (uint64_t)(uintptr_t)(b - 16) ^ (uint64_t)(uintptr_t)(b + 16);
	memcpy(b + 16, fake, sizeof(fake));
	heap_free(b + 32);
	assert_int_equal(heap_errors(), 8);
	memset(b + 16, 0x42, 16);
	heap_free(b);
	heap_free(c);
	heap_free(c);
	assert_int_equal(heap_errors(), 9);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	assert_int_equal(heap_free_bytes(), FULL);
	/* heap_init starts the count again. */
	fresh_heap();
	assert_int_equal(heap_errors(), 0);
}

static void test_check_detects_corruption(void **state)
{
	(void)state;
	fresh_heap();
	uint8_t *a = heap_alloc(64), *b = heap_alloc(64);

	(void)b;
	/* A stray write into free memory. */
	arena[ARENA_SIZE - 8] = 1;
	assert_int_equal(heap_check(), HEAP_CHECK_NOT_ZERO);
	arena[ARENA_SIZE - 8] = 0;
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	/* A bitmap bit set where no block starts, or cleared where one does. */
	arena[0] ^= 2;
	assert_int_equal(heap_check(), HEAP_CHECK_BITMAP);
	arena[0] ^= 2;
	arena[0] ^= 1;
	assert_int_equal(heap_check(), HEAP_CHECK_BITMAP);
	arena[0] ^= 1;
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	/* An overflow from a into b's header. */
	uint8_t saved[32];
	memcpy(saved, a + 64, sizeof(saved)); /* b's header and payload start */
	memset(a, 0x33, 96);
	assert_int_not_equal(heap_check(), HEAP_CHECK_OK);
	/* ...then free refuses b rather than trusting the header. */
	size_t errs = heap_errors();
	heap_free(b);
	assert_int_equal(heap_errors(), errs + 1);
	memcpy(a + 64, saved, sizeof(saved));
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
}

/* Random alloc/free/calloc with a shadow model: every live block keeps its
 * own fill byte, the heap invariants hold after each step, and freeing
 * everything leaves one full-size block. */
struct live {
	uint8_t *p;
	size_t n;
	uint8_t fill;
};

static void check_live(const struct live *l, size_t count)
{
	for (size_t i = 0; i < count; i++)
		for (size_t j = 0; j < l[i].n; j++)
			if (l[i].p[j] != l[i].fill)
				fail_msg("block %zu byte %zu changed", i, j);
}

static void run_random(uint64_t seed, int steps)
{
	struct live live[256];
	size_t count = 0;
	uint64_t s = seed;

	fresh_heap();
	for (int step = 0; step < steps; step++) {
		uint64_t r = xorshift64s(&s);
		int op = (int)(r % 8);

		if (op < 4 && count < 256) {
			/* Mostly small, sometimes large. */
			size_t n = (r >> 8) % 8 == 0 ? (size_t)((r >> 16) % 8192)
						     : (size_t)((r >> 16) % 200);
			int use_calloc = (r >> 40) & 1;
			uint8_t *p = use_calloc ? heap_calloc(1, n) : heap_alloc(n);

			if (p == NULL) {
				assert_true(n > heap_largest_free());
				continue;
			}
			assert_int_equal((uintptr_t)p % 16, 0);
			if (use_calloc)
				assert_true(all_zero(p, n));
			live[count].p = p;
			live[count].n = n;
			live[count].fill = (uint8_t)(r >> 48) | 1;
			memset(p, live[count].fill, n);
			count++;
		} else if (count > 0) {
			size_t i = (size_t)(r >> 8) % count;

			heap_free(live[i].p);
			live[i] = live[--count];
		}
		int rc = heap_check();
		if (rc != HEAP_CHECK_OK)
			fail_msg("seed %llu step %d: heap_check %d",
				 (unsigned long long)seed, step, rc);
		if (step % 64 == 0)
			check_live(live, count);
	}
	check_live(live, count);
	while (count > 0)
		heap_free(live[--count].p);
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	assert_int_equal(heap_errors(), 0);
	assert_int_equal(heap_free_bytes(), FULL);
}

static void test_random_sequences(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 12; seed++)
		run_random(seed * 0x9e3779b97f4a7c15ull, 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_one_free_block),
		cmocka_unit_test(test_uninitialised_and_tiny),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_distinct_blocks_do_not_overlap),
		cmocka_unit_test(test_free_all_coalesces),
		cmocka_unit_test(test_merge_with_previous_and_next),
		cmocka_unit_test(test_exhaustion_returns_null),
		cmocka_unit_test(test_calloc_zero_and_overflow),
		cmocka_unit_test(test_free_zeroes),
		cmocka_unit_test(test_double_free_and_foreign_pointers),
		cmocka_unit_test(test_check_detects_corruption),
		cmocka_unit_test(test_random_sequences),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
