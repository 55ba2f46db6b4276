/*
 * Tests of the boot-time hole finder (tcb/phys_hole.c): hand-written cases,
 * then a randomized comparison with a brute-force search in small windows of
 * the address space (at the bottom, the middle and the very top).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>

#include "tcb/phys_hole.h"
#include "xorshift.h"

#define KIB 0x400ull
#define MIB 0x100000ull
#define UNTOUCHED 0x0bad0bad0bad0badull

/* phys_find_hole, expecting success at 'want'. */
static void expect_hole(const struct phys_range *u, size_t nu,
			const struct phys_range *x, size_t nx, uint64_t size,
			uint64_t align, uint64_t min_addr, uint64_t want)
{
	uint64_t out = UNTOUCHED;

	assert_int_equal(phys_find_hole(u, nu, x, nx, size, align, min_addr,
					&out), 0);
	assert_int_equal(out, want);
}

/* phys_find_hole, expecting failure without *out being written. */
static void expect_none(const struct phys_range *u, size_t nu,
			const struct phys_range *x, size_t nx, uint64_t size,
			uint64_t align, uint64_t min_addr)
{
	uint64_t out = UNTOUCHED;

	assert_int_equal(phys_find_hole(u, nu, x, nx, size, align, min_addr,
					&out), -1);
	assert_int_equal(out, UNTOUCHED);
}

static void test_basic_fit(void **state)
{
	const struct phys_range u[] = { { 0x1000, 0xf000 } };

	(void)state;
	expect_hole(u, 1, NULL, 0, 0x2000, 0x1000, 0, 0x1000);
	expect_hole(u, 1, NULL, 0, 1, 1, 0, 0x1000);
	expect_hole(u, 1, NULL, 0, 0xf000, 0x1000, 0, 0x1000);
	expect_none(u, 1, NULL, 0, 0xf001, 1, 0);
}

static void test_alignment(void **state)
{
	const struct phys_range u[] = { { 0x1234, 0x100000 } };

	(void)state;
	expect_hole(u, 1, NULL, 0, 0x100, 1, 0, 0x1234);
	expect_hole(u, 1, NULL, 0, 0x100, 4, 0, 0x1234);
	expect_hole(u, 1, NULL, 0, 0x100, 8, 0, 0x1238);
	expect_hole(u, 1, NULL, 0, 0x1000, 0x1000, 0, 0x2000);
	expect_hole(u, 1, NULL, 0, 0x1000, 0x10000, 0, 0x10000);
	/* aligned start exists but the rest of the range is too short */
	expect_none(u, 1, NULL, 0, 0x100000 - 0x10000 + 0x1234 + 1, 0x10000, 0);
	expect_none(u, 1, NULL, 0, 0x1000, 0x200000, 0);
}

static void test_bad_arguments(void **state)
{
	const struct phys_range u[] = { { 0, MIB } };

	(void)state;
	expect_none(u, 1, NULL, 0, 0, 1, 0);        /* size 0 */
	expect_none(u, 1, NULL, 0, 0x1000, 0, 0);   /* align 0 */
	expect_none(u, 1, NULL, 0, 0x1000, 3, 0);   /* not a power of two */
	expect_none(u, 1, NULL, 0, 0x1000, 0x1800, 0);
	expect_none(u, 1, NULL, 0, 0x1000, UINT64_MAX, 0);
	expect_none(NULL, 0, NULL, 0, 0x1000, 0x1000, 0); /* no usable RAM */
}

static void test_excluded_in_the_middle(void **state)
{
	const struct phys_range u[] = { { 0, 0x10000 } };
	const struct phys_range x[] = {
		{ 0x0000, 0x3000 }, { 0x4000, 0x1000 }, { 0x8000, 0x800 },
	};

	(void)state;
	/* the one-frame gap between the first two exclusions fits exactly */
	expect_hole(u, 1, x, 3, 0x1000, 0x1000, 0, 0x3000);
	expect_hole(u, 1, x, 3, 0x2000, 0x1000, 0, 0x5000);
	expect_hole(u, 1, x, 3, 0x3000, 0x1000, 0, 0x5000);
	/* 0x5000 + 0x4000 would cover the exclusion at 0x8000 */
	expect_hole(u, 1, x, 3, 0x4000, 0x1000, 0, 0x9000);
	expect_hole(u, 1, x, 3, 0x4000, 0x800, 0, 0x8800);
	expect_hole(u, 1, x, 3, 0x7000, 1, 0, 0x8800);
	expect_none(u, 1, x, 3, 0x7801, 1, 0);
}

static void test_adjacency(void **state)
{
	const struct phys_range u[] = { { 0x1000, 0x2000 } };
	/* exclusions ending exactly where the hole starts and starting exactly
	 * where it ends do not overlap it */
	const struct phys_range x[] = { { 0x0, 0x1800 }, { 0x2800, 0x1000 } };

	(void)state;
	expect_hole(u, 1, NULL, 0, 0x2000, 0x1000, 0, 0x1000);
	expect_none(u, 1, NULL, 0, 0x2001, 1, 0);
	expect_hole(u, 1, x, 2, 0x1000, 0x800, 0, 0x1800);
	expect_none(u, 1, x, 2, 0x1001, 1, 0);
	/* touching usable ranges are not merged: a hole lies in one range */
	{
		const struct phys_range two[] = {
			{ 0x0, 0x1000 }, { 0x1000, 0x1000 },
		};

		expect_hole(two, 2, NULL, 0, 0x1000, 0x1000, 0, 0x0);
		expect_none(two, 2, NULL, 0, 0x1001, 1, 0);
	}
}

static void test_min_addr(void **state)
{
	const struct phys_range u[] = { { 0, MIB } };
	const struct phys_range x[] = { { 0x3000, 0x1000 } };

	(void)state;
	expect_hole(u, 1, NULL, 0, 0x1000, 0x1000, 0x1001, 0x2000);
	expect_hole(u, 1, NULL, 0, 0x1000, 0x1000, 0x2000, 0x2000);
	expect_hole(u, 1, NULL, 0, 0x10, 1, 0x1001, 0x1001);
	/* min_addr pushes the hole past an exclusion */
	expect_hole(u, 1, x, 1, 0x2000, 0x1000, 0x2000, 0x4000);
	/* the last possible place */
	expect_hole(u, 1, NULL, 0, 0x1000, 0x1000, MIB - 0x1000, MIB - 0x1000);
	expect_none(u, 1, NULL, 0, 0x1000, 0x1000, MIB - 0xfff);
	expect_none(u, 1, NULL, 0, 1, 1, MIB);
	/* aligning min_addr up must not wrap to 0 */
	expect_none(u, 1, NULL, 0, 0x1000, 0x1000, UINT64_MAX);
	expect_none(u, 1, NULL, 0, 1, 1ull << 63, (1ull << 63) + 1);
}

static void test_unsorted_and_overlapping(void **state)
{
	const struct phys_range u[] = {
		{ 0x90000, 0x10000 }, { 0x20000, 0x8000 },
		{ 0x24000, 0x20000 }, { 0x10000, 0x1000 },
	};
	const struct phys_range x[] = {
		{ 0x26000, 0x4000 }, { 0x20000, 0x3000 }, { 0x21000, 0x4000 },
		{ 0x25000, 0x2000 },
	};

	(void)state;
	expect_hole(u, 4, NULL, 0, 0x1000, 0x1000, 0, 0x10000);
	expect_hole(u, 4, NULL, 0, 0x9000, 0x1000, 0, 0x24000);
	/* fits in the union of two overlapping ranges, but in neither alone */
	expect_hole(u, 4, NULL, 0, 0x20000, 1, 0, 0x24000);
	expect_none(u, 4, NULL, 0, 0x20001, 1, 0);
	/* exclusions overlap each other and cover 0x20000-0x2a000 */
	expect_hole(u, 4, x, 4, 0x1000, 0x1000, 0x11000, 0x2a000);
	expect_hole(u, 4, x, 4, 0x1a000, 0x1000, 0x11000, 0x2a000);
	expect_none(u, 4, x, 4, 0x1b000, 0x1000, 0x11000);
	expect_hole(u, 4, x, 4, 0x1000, 0x1000, 0x44000, 0x90000);
	/* an exclusion with a zero length excludes nothing */
	{
		const struct phys_range z[] = { { 0x10000, 0 } };
		const struct phys_range zu[] = { { 0x0, 0 }, { 0x10000, 0x1000 } };

		expect_hole(u, 4, z, 1, 0x1000, 0x1000, 0, 0x10000);
		expect_hole(zu, 2, NULL, 0, 0x1000, 1, 0, 0x10000);
	}
}

static void test_no_room(void **state)
{
	const struct phys_range u[] = { { 0x1000, 0x4000 }, { 0x8000, 0x2000 } };
	const struct phys_range all[] = { { 0, UINT64_MAX } };
	const struct phys_range bits[] = {
		{ 0x1800, 0x10 }, { 0x2f00, 0x200 }, { 0x4000, 1 }, { 0x8800, 0x1000 },
	};

	(void)state;
	expect_none(u, 2, all, 1, 1, 1, 0);
	expect_none(u, 2, NULL, 0, 0x4001, 1, 0);
	expect_none(u, 2, bits, 4, 0x1000, 0x1000, 0);
	/* just after the first exclusion: [0x1810, 0x280f) */
	expect_hole(u, 2, bits, 4, 0xfff, 1, 0, 0x1810);
	expect_hole(u, 2, bits, 4, 0xfff, 0x100, 0, 0x1900);
	expect_none(u, 2, NULL, 0, UINT64_MAX, 1, 0);
}

static void test_top_of_address_space(void **state)
{
	const uint64_t top = UINT64_MAX - 0xffff; /* 0xffff...0000 */
	/* ends exactly at 2^64: base + len wraps to 0 */
	const struct phys_range to_end[] = { { top, 0x10000 } };
	/* a length far past the end of the address space */
	const struct phys_range huge[] = { { top, UINT64_MAX } };
	const struct phys_range x_wrap[] = { { top + 0x4000, UINT64_MAX } };
	const struct phys_range x_top[] = { { top, 0x3000 } };

	(void)state;
	expect_hole(to_end, 1, NULL, 0, 0x1000, 0x1000, 0, top);
	expect_hole(huge, 1, NULL, 0, 0x1000, 0x1000, 0, top);
	/* the address space is [0, UINT64_MAX): the last byte is never used */
	expect_hole(to_end, 1, NULL, 0, 0xffff, 1, 0, top);
	expect_none(to_end, 1, NULL, 0, 0x10000, 1, 0);
	expect_hole(to_end, 1, NULL, 0, 0x1000, 1, UINT64_MAX - 0x1000,
		    UINT64_MAX - 0x1000);
	expect_none(to_end, 1, NULL, 0, 0x1000, 1, UINT64_MAX - 0xfff);
	expect_none(to_end, 1, NULL, 0, 0x1000, 0x1000, top + 0xf001);
	/* an exclusion running off the end excludes everything above it */
	expect_hole(to_end, 1, x_wrap, 1, 0x4000, 0x1000, 0, top);
	expect_none(to_end, 1, x_wrap, 1, 0x4001, 1, 0);
	expect_hole(to_end, 1, x_top, 1, 0x1000, 0x1000, 0, top + 0x3000);
	/* wrapping ranges must not look like low memory */
	{
		const struct phys_range low[] = { { 0x0, 0x100000 } };
		const struct phys_range x_low_wrap[] = {
			{ UINT64_MAX - 0x10, 0x20000 },
		};

		expect_hole(low, 1, x_low_wrap, 1, 0x1000, 0x1000, 0, 0x0);
		expect_hole(huge, 1, NULL, 0, 0x1000, 0x1000, 0, top);
		expect_none(huge, 1, NULL, 0, 0x1000, 1ull << 63, 0);
	}
	/* huge alignments */
	{
		const struct phys_range most[] = { { 1, UINT64_MAX - 1 } };

		expect_hole(most, 1, NULL, 0, 0x1000, 1ull << 63, 0, 1ull << 63);
		expect_hole(most, 1, NULL, 0, (1ull << 63) - 1, 1ull << 63, 0,
			    1ull << 63);
		expect_none(most, 1, NULL, 0, 1ull << 63, 1ull << 63, 0);
		expect_hole(most, 1, NULL, 0, UINT64_MAX - 1, 1, 0, 1);
		expect_none(most, 1, NULL, 0, UINT64_MAX - 1, 2, 0);
	}
}

/* ---- randomized comparison with brute force ---------------------------- */

#define WINDOW 1024u
#define MAX_RANGES 6

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	return xorshift64s(&r->s);
}

static uint64_t rnd_below(struct rng *r, uint64_t bound)
{
	return bound ? rnd(r) % bound : 0;
}

/*
 * The definition, checked address by address: the address space is
 * [0, UINT64_MAX) and ends are computed in 128 bits, so nothing wraps.
 */
static bool valid_hole(const struct phys_range *u, size_t nu,
		       const struct phys_range *x, size_t nx, uint64_t size,
		       uint64_t a)
{
	unsigned __int128 end = (unsigned __int128)a + size;
	bool inside = false;
	size_t i;

	if (end > UINT64_MAX)
		return false;
	for (i = 0; i < nu && !inside; i++)
		inside = u[i].len && u[i].base <= a &&
			 end <= (unsigned __int128)u[i].base + u[i].len;
	if (!inside)
		return false;
	for (i = 0; i < nx; i++)
		if (x[i].len && x[i].base < end &&
		    a < (unsigned __int128)x[i].base + x[i].len)
			return false;
	return true;
}

/* A random range inside [w, w + WINDOW), or reaching past it if allowed. */
static struct phys_range rnd_range(struct rng *r, uint64_t w, bool may_overrun)
{
	struct phys_range pr;
	uint64_t off = rnd_below(r, WINDOW);

	pr.base = w + off;
	pr.len = rnd_below(r, 8) == 0 ? 0 : 1 + rnd_below(r, WINDOW - off);
	if (may_overrun && rnd_below(r, 6) == 0)
		pr.len = rnd_below(r, 2) ? UINT64_MAX - rnd_below(r, 4) :
					   WINDOW + rnd_below(r, WINDOW);
	return pr;
}

/* Returns whether a hole was found, so the caller can check coverage. */
static bool compare_once(struct rng *r, uint64_t w, uint64_t seed,
			 unsigned long iter)
{
	static const uint64_t aligns[] = { 1, 2, 4, 8, 16, 64, 256, 1024 };
	struct phys_range u[MAX_RANGES], x[MAX_RANGES];
	/* ranges at the top may run off the end; elsewhere usable ranges stay
	 * in the window so that every possible hole lies in it */
	bool at_top = w > UINT64_MAX - WINDOW;
	size_t nu = rnd_below(r, 16) ? 1 + rnd_below(r, MAX_RANGES) : 0;
	size_t nx = rnd_below(r, MAX_RANGES + 1);
	uint64_t size = 1 + rnd_below(r, rnd_below(r, 4) ? 32 : WINDOW);
	uint64_t align = aligns[rnd_below(r, ARRAY_SIZE(aligns))];
	uint64_t pick = rnd_below(r, 16);
	uint64_t min_addr = pick < 8 ? w + rnd_below(r, WINDOW / 2) :
			    pick < 14 ? 0 :
			    pick < 15 ? w + WINDOW - 1 : UINT64_MAX;
	uint64_t a, out = UNTOUCHED, want = 0;
	bool found = false;
	int rc;
	size_t i;

	for (i = 0; i < nu; i++)
		u[i] = rnd_range(r, w, at_top);
	for (i = 0; i < nx; i++)
		x[i] = rnd_range(r, w, true);
	for (a = w; ; a++) {
		if (a >= min_addr && (a & (align - 1)) == 0 &&
		    valid_hole(u, nu, x, nx, size, a)) {
			found = true;
			want = a;
			break;
		}
		if (a == w + (WINDOW - 1))
			break;
	}
	rc = phys_find_hole(u, nu, x, nx, size, align, min_addr, &out);
	if (rc != (found ? 0 : -1) || (found && out != want) ||
	    (!found && out != UNTOUCHED)) {
		print_error("seed 0x%llx iter %lu window 0x%llx: rc %d out 0x%llx,"
			    " want %s 0x%llx (size 0x%llx align 0x%llx min 0x%llx)\n",
			    (unsigned long long)seed, iter, (unsigned long long)w,
			    rc, (unsigned long long)out, found ? "hole" : "none",
			    (unsigned long long)want, (unsigned long long)size,
			    (unsigned long long)align,
			    (unsigned long long)min_addr);
		for (i = 0; i < nu; i++)
			print_error("  usable   [0x%llx +0x%llx]\n",
				    (unsigned long long)u[i].base,
				    (unsigned long long)u[i].len);
		for (i = 0; i < nx; i++)
			print_error("  excluded [0x%llx +0x%llx]\n",
				    (unsigned long long)x[i].base,
				    (unsigned long long)x[i].len);
		fail();
	}
	return found;
}

static void test_matches_brute_force(void **state)
{
	static const uint64_t windows[] = {
		0, 0x100000, (1ull << 63) - WINDOW / 2, UINT64_MAX - (WINDOW - 1),
	};
	const uint64_t seed = 0x9e3779b97f4a7c15ull;
	struct rng r = { seed };
	unsigned long iter, found = 0;

	(void)state;
	for (iter = 0; iter < 100000; iter++)
		found += compare_once(&r, windows[iter % ARRAY_SIZE(windows)],
				      seed, iter);
	print_message("brute force: %lu of %lu cases had a hole\n", found, iter);
	/* both outcomes must be well represented */
	assert_true(found > iter / 5 && found < iter - iter / 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_basic_fit),
		cmocka_unit_test(test_alignment),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_excluded_in_the_middle),
		cmocka_unit_test(test_adjacency),
		cmocka_unit_test(test_min_addr),
		cmocka_unit_test(test_unsorted_and_overlapping),
		cmocka_unit_test(test_no_room),
		cmocka_unit_test(test_top_of_address_space),
		cmocka_unit_test(test_matches_brute_force),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
