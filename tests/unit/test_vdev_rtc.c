/*
 * The virtual MC146818 (vdev/vrtc.c): the civil date of a day count at
 * the leap-year edges (2000, 2100, 2400) and the 2099/2100 turn, the time
 * registers of a known Unix time in BCD and binary, 24- and 12-hour form,
 * time passing with the TSC, registers A-D, the index port and its NMI bit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vdev/vplatform.h"
#include "vdev/vrtc.h"
#include "vdev_io.h"

#define T0 123456789ull
/* 2023-11-14 22:13:20 UTC, a Tuesday. */
#define UNIX_T 1700000000ull

static void check_date(uint64_t days, uint64_t y, unsigned int m, unsigned int d)
{
	struct vrtc_date got = vrtc_civil_from_days(days);

	assert_int_equal(got.year, y);
	assert_int_equal(got.month, m);
	assert_int_equal(got.day, d);
}

static void test_civil_from_days(void **state)
{
	(void)state;
	check_date(0, 1970, 1, 1);
	check_date(58, 1970, 2, 28);
	check_date(59, 1970, 3, 1);
	check_date(789, 1972, 2, 29);
	check_date(11015, 2000, 2, 28);
	check_date(11016, 2000, 2, 29);     /* 2000 is leap (400) */
	check_date(11017, 2000, 3, 1);
	check_date(19782, 2024, 2, 29);
	check_date(47481, 2099, 12, 31);
	check_date(47482, 2100, 1, 1);
	check_date(47540, 2100, 2, 28);
	check_date(47541, 2100, 3, 1);      /* 2100 is not (100) */
	check_date(157113, 2400, 2, 29);
	/* The largest day count of a 64-bit second count stays exact in
	 * its arithmetic (a year near 5.8e11). */
	assert_true(vrtc_civil_from_days(UINT64_MAX / 86400).year > 500000000000ull);
}

static uint8_t cmos(struct vplatform *p, uint8_t reg, uint64_t now)
{
	outb(p, 0x70, reg, now);
	return inb(p, 0x71, now);
}

static void test_known_time_bcd_and_binary(void **state)
{
	struct vplatform p;

	(void)state;
	vplatform_init(&p, HZ_TSC, UNIX_T, T0);
	assert_int_equal(cmos(&p, 0x00, T0), 0x20);
	assert_int_equal(cmos(&p, 0x02, T0), 0x13);
	assert_int_equal(cmos(&p, 0x04, T0), 0x22);
	assert_int_equal(cmos(&p, 0x06, T0), 0x03);
	assert_int_equal(cmos(&p, 0x07, T0), 0x14);
	assert_int_equal(cmos(&p, 0x08, T0), 0x11);
	assert_int_equal(cmos(&p, 0x09, T0), 0x23);
	assert_int_equal(cmos(&p, 0x32, T0), 0x20);
	/* Binary (DM) */
	outb(&p, 0x70, 0x0b, T0);
	outb(&p, 0x71, 0x06, T0);
	assert_int_equal(cmos(&p, 0x00, T0), 20);
	assert_int_equal(cmos(&p, 0x02, T0), 13);
	assert_int_equal(cmos(&p, 0x04, T0), 22);
	assert_int_equal(cmos(&p, 0x09, T0), 23);
	assert_int_equal(cmos(&p, 0x32, T0), 20);
	/* 12-hour: 22h is 10 PM; BCD 0x10 | PM. */
	outb(&p, 0x70, 0x0b, T0);
	outb(&p, 0x71, 0x00, T0);
	assert_int_equal(cmos(&p, 0x04, T0), 0x90);
	/* Writes to the time are ignored, SET bit or not. */
	outb(&p, 0x70, 0x0b, T0);
	outb(&p, 0x71, 0x82, T0);
	outb(&p, 0x70, 0x00, T0);
	outb(&p, 0x71, 0x59, T0);
	assert_int_equal(cmos(&p, 0x00, T0), 0x20);
	/* 100.5 seconds on: 22:15:00. */
	assert_int_equal(cmos(&p, 0x00, T0 + 100 * HZ_TSC + HZ_TSC / 2), 0x00);
	assert_int_equal(cmos(&p, 0x02, T0 + 100 * HZ_TSC + HZ_TSC / 2), 0x15);
}

static void test_midnight_and_century(void **state)
{
	struct vplatform p;
	uint64_t t = 4102444800ull - 1;   /* 2099-12-31 23:59:59 */

	(void)state;
	vplatform_init(&p, HZ_TSC, t, T0);
	outb(&p, 0x70, 0x0b, T0);
	outb(&p, 0x71, 0x00, T0);        /* BCD, 12-hour */
	assert_int_equal(cmos(&p, 0x04, T0), 0x91);   /* 11 PM */
	assert_int_equal(cmos(&p, 0x09, T0), 0x99);
	assert_int_equal(cmos(&p, 0x32, T0), 0x20);
	assert_int_equal(cmos(&p, 0x06, T0), 0x05);   /* Thursday */
	t = T0 + HZ_TSC;
	assert_int_equal(cmos(&p, 0x04, t), 0x12);    /* 12 AM */
	assert_int_equal(cmos(&p, 0x07, t), 0x01);
	assert_int_equal(cmos(&p, 0x08, t), 0x01);
	assert_int_equal(cmos(&p, 0x09, t), 0x00);
	assert_int_equal(cmos(&p, 0x32, t), 0x21);
	assert_int_equal(cmos(&p, 0x06, t), 0x06);    /* Friday */
	/* 12 PM at noon. */
	assert_int_equal(cmos(&p, 0x04, t + 12 * 3600 * HZ_TSC), 0x92);
	/* 0 when the time is unknown: 1970-01-01 00:00, a Thursday. */
	vplatform_init(&p, HZ_TSC, 0, T0);
	assert_int_equal(cmos(&p, 0x09, T0), 0x70);
	assert_int_equal(cmos(&p, 0x32, T0), 0x19);
	assert_int_equal(cmos(&p, 0x06, T0), 0x05);
	/* The end of the seconds: saturates, never wraps back. */
	vplatform_init(&p, VTIME_MIN_HZ, UINT64_MAX - 1, 0);
	assert_int_equal(cmos(&p, 0x00, UINT64_MAX), cmos(&p, 0x00, UINT64_MAX));
}

static void test_status_registers_and_index(void **state)
{
	struct vplatform p;

	(void)state;
	vplatform_init(&p, HZ_TSC, UNIX_T, T0);
	assert_int_equal(cmos(&p, 0x0a, T0), 0x26);
	outb(&p, 0x71, 0xa6, T0);        /* UIP is read-only */
	assert_int_equal(inb(&p, 0x71, T0), 0x26);
	assert_int_equal(cmos(&p, 0x0b, T0), 0x02);
	assert_int_equal(cmos(&p, 0x0c, T0), 0x00);
	assert_int_equal(cmos(&p, 0x0d, T0), 0x80);
	/* Other CMOS bytes: 0, writes ignored. */
	assert_int_equal(cmos(&p, 0x10, T0), 0x00);
	outb(&p, 0x71, 0x55, T0);
	assert_int_equal(inb(&p, 0x71, T0), 0x00);
	assert_int_equal(cmos(&p, 0x7f, T0), 0x00);
	/* Bit 7 of the index masks NMI, and is kept; the register is the rest. */
	outb(&p, 0x70, 0x8d, T0);
	assert_int_equal(inb(&p, 0x70, T0), 0x8d);
	assert_int_equal(inb(&p, 0x71, T0), 0x80);
	/* No RTC interrupt on IRQ 8, whatever register B asks. */
	outb(&p, 0x70, 0x0b, T0);
	outb(&p, 0x71, 0x72, T0);
	outb(&p, 0xa1, 0x00, T0);
	outb(&p, 0x21, 0x00, T0);
	assert_false(vplatform_intr_pending(&p, T0 + 10 * HZ_TSC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_civil_from_days),
		cmocka_unit_test(test_known_time_bcd_and_binary),
		cmocka_unit_test(test_midnight_and_century),
		cmocka_unit_test(test_status_registers_and_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
