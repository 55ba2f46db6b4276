/*
 * The TSC rate's arithmetic (tcb/timebase.c): what CPUID leaves 0x15 and
 * 0x16 enumerate, the rate from a timer measurement, the rule that picks
 * one (an emulator's CPUID that its TSC does not keep loses to the
 * measurement), and the spans the TPGVM's deadlines are made of.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tcb/timebase.h"

/* Bochs' corei7_skylake_x: leaf 0x15 has the ratio 292/2 but no crystal,
 * leaf 0x16 says 3500 MHz; its TSC counts instructions. */
static const struct timebase_cpuid bochs_skylake_x = {
	.max_leaf = 0x16, .l15_eax = 2, .l15_ebx = 0x124, .l15_ecx = 0,
	.l16_eax = 0xdac,
};

static void test_cpuid_crystal(void **state)
{
	/* A 25 MHz crystal and a 168/2 ratio: 2.1 GHz. */
	struct timebase_cpuid c = { .max_leaf = 0x16, .l15_eax = 2, .l15_ebx = 168,
				    .l15_ecx = 25000000, .l16_eax = 2000 };
	enum timebase_source src;

	(void)state;
	assert_int_equal(timebase_from_cpuid(&c, &src), 2100000000ull);
	assert_int_equal(src, TIMEBASE_CPUID_CRYSTAL);
	/* Rounds down, as the SDM's formula does. */
	c.l15_eax = 3;
	c.l15_ebx = 250;
	c.l15_ecx = 38400000;
	assert_int_equal(timebase_from_cpuid(&c, &src), 3200000000ull);
	/* The largest values stay in 64 bits (and out of range). */
	c.l15_eax = 1;
	c.l15_ebx = UINT32_MAX;
	c.l15_ecx = UINT32_MAX;
	c.l16_eax = 0;
	assert_int_equal(timebase_from_cpuid(&c, &src), 0);
	assert_int_equal(src, TIMEBASE_NONE);
}

static void test_cpuid_base_frequency(void **state)
{
	struct timebase_cpuid c = bochs_skylake_x;
	enum timebase_source src;

	(void)state;
	assert_int_equal(timebase_from_cpuid(&c, &src), 3500000000ull);
	assert_int_equal(src, TIMEBASE_CPUID_BASE);
	/* No ratio either (EBX 0: "not enumerated"): still leaf 0x16. */
	c.l15_ebx = 0;
	assert_int_equal(timebase_from_cpuid(&c, &src), 3500000000ull);
	/* Only bits 15:0 of leaf 0x16 EAX are the frequency. */
	c.l16_eax = 0xffff0000u | 2400;
	assert_int_equal(timebase_from_cpuid(&c, &src), 2400000000ull);
	/* A crystal rate out of range falls back to leaf 0x16. */
	c.l15_eax = 1;
	c.l15_ebx = 1;
	c.l15_ecx = 1000;
	assert_int_equal(timebase_from_cpuid(&c, &src), 2400000000ull);
	assert_int_equal(src, TIMEBASE_CPUID_BASE);
}

static void test_cpuid_without_the_leaves(void **state)
{
	struct timebase_cpuid c = bochs_skylake_x;
	enum timebase_source src;

	(void)state;
	/* Leaves beyond max_leaf are not looked at, whatever they hold. */
	c.max_leaf = 0x15;
	assert_int_equal(timebase_from_cpuid(&c, &src), 0);
	assert_int_equal(src, TIMEBASE_NONE);
	c.l15_ecx = 24000000;
	assert_int_equal(timebase_from_cpuid(&c, &src), 24000000ull * 0x124 / 2);
	c.max_leaf = 0xd;
	assert_int_equal(timebase_from_cpuid(&c, &src), 0);
	assert_int_equal(src, TIMEBASE_NONE);
	memset(&c, 0, sizeof(c));
	c.max_leaf = 0x16;
	assert_int_equal(timebase_from_cpuid(&c, &src), 0);
}

static void test_from_timer(void **state)
{
	const uint64_t pit_50ms = TIMEBASE_PIT_HZ * 50u / 1000u; /* 59659 */

	(void)state;
	assert_int_equal(pit_50ms, 59659);
	/* Bochs at ips=100000000: 5e6 instructions in 50 ms of the PIT
	 * (rounded to the nearest Hz: 100000167.6). */
	assert_int_equal(timebase_from_timer(5000000, pit_50ms, TIMEBASE_PIT_HZ),
			 100000168ull);
	/* At ips=2000000. */
	assert_int_equal(timebase_from_timer(100000, pit_50ms, TIMEBASE_PIT_HZ),
			 2000003ull);
	/* 3 GHz hardware. */
	assert_int_equal(timebase_from_timer(150000000, pit_50ms, TIMEBASE_PIT_HZ),
			 3000005029ull);
	/* Nothing counted, no timer, out of range, overflow: 0. */
	assert_int_equal(timebase_from_timer(0, pit_50ms, TIMEBASE_PIT_HZ), 0);
	assert_int_equal(timebase_from_timer(5000000, 0, TIMEBASE_PIT_HZ), 0);
	assert_int_equal(timebase_from_timer(5000000, pit_50ms, 0), 0);
	assert_int_equal(timebase_from_timer(4, pit_50ms, TIMEBASE_PIT_HZ), 0);
	assert_int_equal(timebase_from_timer(UINT64_MAX / 1000, 1, TIMEBASE_PIT_HZ), 0);
	assert_int_equal(timebase_from_timer(UINT64_MAX / TIMEBASE_PIT_HZ, 1,
					     TIMEBASE_PIT_HZ), 0);
	assert_int_equal(timebase_from_timer(TIMEBASE_MAX_HZ, 1, 1), TIMEBASE_MAX_HZ);
	assert_int_equal(timebase_from_timer(TIMEBASE_MAX_HZ + 1, 1, 1), 0);
}

static void test_choose(void **state)
{
	struct { uint64_t hz; enum timebase_source source; } t;

	(void)state;
	/* Bochs: CPUID claims 3.5 GHz, the PIT measures the instruction
	 * rate: the measurement wins. */
	t.hz = timebase_choose(3500000000ull, TIMEBASE_CPUID_BASE, 2000003, &t.source);
	assert_int_equal(t.hz, 2000003);
	assert_int_equal(t.source, TIMEBASE_MEASURED);
	/* Hardware: they agree, and CPUID's exact figure is taken. */
	t.hz = timebase_choose(2100000000ull, TIMEBASE_CPUID_CRYSTAL, 2100400000ull, &t.source);
	assert_int_equal(t.hz, 2100000000ull);
	assert_int_equal(t.source, TIMEBASE_CPUID_CRYSTAL);
	/* Exactly 2 % off agrees; a little more does not. */
	t.hz = timebase_choose(3060000000ull, TIMEBASE_CPUID_BASE, 3000000000ull, &t.source);
	assert_int_equal(t.source, TIMEBASE_CPUID_BASE);
	t.hz = timebase_choose(2940000000ull, TIMEBASE_CPUID_BASE, 3000000000ull, &t.source);
	assert_int_equal(t.source, TIMEBASE_CPUID_BASE);
	t.hz = timebase_choose(3060000001ull, TIMEBASE_CPUID_BASE, 3000000000ull, &t.source);
	assert_int_equal(t.hz, 3000000000ull);
	assert_int_equal(t.source, TIMEBASE_MEASURED);
	t.hz = timebase_choose(2939999999ull, TIMEBASE_CPUID_BASE, 3000000000ull, &t.source);
	assert_int_equal(t.source, TIMEBASE_MEASURED);
	/* One source only. */
	t.hz = timebase_choose(2100000000ull, TIMEBASE_CPUID_CRYSTAL, 0, &t.source);
	assert_int_equal(t.hz, 2100000000ull);
	assert_int_equal(t.source, TIMEBASE_CPUID_CRYSTAL);
	t.hz = timebase_choose(0, TIMEBASE_NONE, 1000000000ull, &t.source);
	assert_int_equal(t.hz, 1000000000ull);
	assert_int_equal(t.source, TIMEBASE_MEASURED);
	/* A rate claimed without a source, or out of range, is no rate. */
	t.hz = timebase_choose(2100000000ull, TIMEBASE_NONE, 0, &t.source);
	assert_int_equal(t.source, TIMEBASE_ASSUMED);
	t.hz = timebase_choose(TIMEBASE_MAX_HZ + 1, TIMEBASE_CPUID_CRYSTAL, 7, &t.source);
	assert_int_equal(t.hz, TIMEBASE_ASSUMED_HZ);
	assert_int_equal(t.source, TIMEBASE_ASSUMED);
}

static void test_span(void **state)
{
	(void)state;
	/* The TPGVM's handshake deadline in Bochs at ips=2000000 and on 3 GHz
	 * hardware: 30 s plus 4e9 cycles of its own work. */
	assert_int_equal(timebase_span(2000000, 30, 4000000000ull), 4060000000ull);
	assert_int_equal(timebase_span(3000000000ull, 30, 4000000000ull), 94000000000ull);
	assert_int_equal(timebase_span(3000000000ull, 0, 0), 0);
	assert_int_equal(timebase_span(0, 30, 5), 5);
	/* Saturates rather than wrapping into a deadline in the past. */
	assert_int_equal(timebase_span(TIMEBASE_MAX_HZ, 86400, 0),
			 TIMEBASE_MAX_HZ * 86400);
	assert_int_equal(timebase_span(TIMEBASE_MAX_HZ, UINT32_MAX, 0), UINT64_MAX);
	assert_int_equal(timebase_span(UINT64_MAX / 2, 3, 0), UINT64_MAX);
	assert_int_equal(timebase_span(TIMEBASE_MAX_HZ, UINT32_MAX, UINT64_MAX),
			 UINT64_MAX);
}

static void test_set_and_names(void **state)
{
	const enum timebase_source all[] = {
		TIMEBASE_NONE, TIMEBASE_CPUID_CRYSTAL, TIMEBASE_CPUID_BASE,
		TIMEBASE_MEASURED, TIMEBASE_ASSUMED,
	};

	(void)state;
	assert_int_equal(timebase_tsc_hz(), 0);
	timebase_set(2000003);
	assert_int_equal(timebase_tsc_hz(), 2000003);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(timebase_source_name(all[i]),
						timebase_source_name(all[j]));
}

static void test_ratio_median(void **state)
{
	(void)state;
	/* Rates 1/2, 1/1, 3/1 in every order: the middle is 1/1. Compared as
	 * fractions, not by their parts. */
	const struct timebase_ratio lo = { 1000, 2000 }, mid = { 7, 7 },
				    hi = { 3000000, 1000000 };
	const struct timebase_ratio orders[6][3] = {
		{ lo, mid, hi }, { lo, hi, mid }, { mid, lo, hi },
		{ mid, hi, lo }, { hi, lo, mid }, { hi, mid, lo },
	};

	for (int i = 0; i < 6; i++) {
		struct timebase_ratio m = timebase_ratio_median(orders[i]);
		assert_int_equal(m.ticks, 7);
		assert_int_equal(m.tsc, 7);
	}
	/* Two equal rates: one of them. */
	const struct timebase_ratio two[3] = { hi, lo, { 6000000, 2000000 } };
	struct timebase_ratio m = timebase_ratio_median(two);
	assert_int_equal(m.ticks, 3 * m.tsc);
	/* Full-width parts do not overflow the comparison. */
	const struct timebase_ratio wide[3] = {
		{ UINT32_MAX, 1 }, { 1, UINT32_MAX }, { UINT32_MAX, UINT32_MAX },
	};
	assert_int_equal(timebase_ratio_median(wide).tsc, UINT32_MAX);
	assert_int_equal(timebase_ratio_median(wide).ticks, UINT32_MAX);
}

static void test_ratio_ticks(void **state)
{
	(void)state;
	/* Bochs: the LAPIC timer counts instructions, as the TSC does. */
	const struct timebase_ratio same = { 200000, 200000 };
	/* A 100 MHz APIC timer beside a 2.7 GHz TSC. */
	const struct timebase_ratio slow = { 100000, 2700000 };

	assert_int_equal(timebase_ratio_ticks(same, 200000), 200000);
	assert_int_equal(timebase_ratio_ticks(slow, 2700000), 100000);
	/* Rounded up, never early: 200000 * 1/27 = 7407.4 -> 7408. */
	assert_int_equal(timebase_ratio_ticks(slow, 200000), 7408);
	assert_int_equal(timebase_ratio_ticks(slow, 27), 1);
	/* At least 1: a count of 0 would stop the timer instead. */
	assert_int_equal(timebase_ratio_ticks(slow, 0), 1);
	assert_int_equal(timebase_ratio_ticks(slow, 1), 1);
	/* Saturates at the register's width, for any span. */
	assert_int_equal(timebase_ratio_ticks(same, 1ull << 32), UINT32_MAX);
	assert_int_equal(timebase_ratio_ticks(same, UINT64_MAX), UINT32_MAX);
	assert_int_equal(timebase_ratio_ticks((struct timebase_ratio){ UINT32_MAX, 1 },
					      UINT64_MAX), UINT32_MAX);
	assert_int_equal(timebase_ratio_ticks(slow, UINT64_MAX), UINT32_MAX);
	/* Just below the top: exact. 27 * (2^32 - 1) cycles at 1/27. */
	assert_int_equal(timebase_ratio_ticks(slow, 27ull * UINT32_MAX), UINT32_MAX);
	assert_int_equal(timebase_ratio_ticks(slow, 27ull * (UINT32_MAX - 1)),
			 UINT32_MAX - 1);
	/* Full-width ratio parts: no overflow in the remainder's product. */
	assert_int_equal(timebase_ratio_ticks((struct timebase_ratio){ UINT32_MAX,
								     UINT32_MAX },
					      UINT32_MAX - 1), UINT32_MAX - 1);
	/* Not a rate. */
	assert_int_equal(timebase_ratio_ticks((struct timebase_ratio){ 0, 5 }, 100), 0);
	assert_int_equal(timebase_ratio_ticks((struct timebase_ratio){ 5, 0 }, 100), 0);
}

static void test_civil_seconds(void **state)
{
	(void)state;
	assert_int_equal(timebase_civil_seconds(1970, 1, 1, 0, 0, 0), 0);
	assert_int_equal(timebase_civil_seconds(1970, 1, 1, 0, 0, 1), 1);
	assert_int_equal(timebase_civil_seconds(2000, 3, 1, 0, 0, 0), 951868800);
	assert_int_equal(timebase_civil_seconds(2024, 2, 29, 12, 34, 56), 1709210096);
	assert_int_equal(timebase_civil_seconds(2026, 12, 4, 3, 20, 0), 1796354400);
	/* Out of range: 0. */
	assert_int_equal(timebase_civil_seconds(2023, 2, 29, 0, 0, 0), 0);
	assert_int_equal(timebase_civil_seconds(1969, 12, 31, 23, 59, 59), 0);
	assert_int_equal(timebase_civil_seconds(2026, 13, 1, 0, 0, 0), 0);
	assert_int_equal(timebase_civil_seconds(2026, 0, 1, 0, 0, 0), 0);
	assert_int_equal(timebase_civil_seconds(2026, 4, 31, 0, 0, 0), 0);
	assert_int_equal(timebase_civil_seconds(2026, 4, 30, 24, 0, 0), 0);
	assert_int_equal(timebase_civil_seconds(2026, 4, 30, 0, 60, 0), 0);
	assert_int_equal(timebase_civil_seconds(2026, 4, 30, 0, 0, 60), 0);
	assert_int_equal(timebase_civil_seconds(10000, 1, 1, 0, 0, 0), 0);
}

static void test_wall(void **state)
{
	(void)state;
	timebase_set(1000);
	timebase_set_wall(0, 0);
	assert_int_equal(timebase_wall_at(5000), 0); /* unknown */
	timebase_set_wall(1796354400, 10000);
	assert_int_equal(timebase_wall_at(10000), 1796354400);
	assert_int_equal(timebase_wall_at(12999), 1796354402);
	assert_int_equal(timebase_wall_at(5000), 1796354400); /* before: as read */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuid_crystal),
		cmocka_unit_test(test_cpuid_base_frequency),
		cmocka_unit_test(test_cpuid_without_the_leaves),
		cmocka_unit_test(test_from_timer),
		cmocka_unit_test(test_choose),
		cmocka_unit_test(test_span),
		cmocka_unit_test(test_set_and_names),
		cmocka_unit_test(test_ratio_median),
		cmocka_unit_test(test_ratio_ticks),
		cmocka_unit_test(test_civil_seconds),
		cmocka_unit_test(test_wall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
