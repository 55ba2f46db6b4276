/*
 * The virtual 8254 (vdev/vpit.c) through the platform's ports, as Linux
 * drives it: channel 0 at HZ=100 in mode 2 and as a one-shot (mode 4),
 * its interrupts on IRQ 0 and the platform's deadline; channel 2 for TSC
 * calibration (quick_pit_calibrate's MSB reads, pit_calibrate_tsc's
 * polling of port 0x61 bit 5); latches, read-back, access modes, the gate;
 * and the arithmetic at the ends of the TSC and its rates.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vdev/vplatform.h"
#include "vdev/vtime.h"
#include "vdev_io.h"

#define T0 1000000ull
#define LATCH_HZ100 11932u   /* Linux: (PIT_TICK_RATE + HZ / 2) / HZ */

/* The first TSC (relative) at which n PIT clocks have passed. */
static uint64_t clocks(uint64_t n, uint64_t hz)
{
	return vtime_muldiv(n, hz, VPIT_HZ, true);
}

static void setup(struct vplatform *p, uint64_t hz, uint64_t now)
{
	vplatform_init(p, hz, 0, now);
	linux_init_pic(p, now);
}

static void program(struct vplatform *p, uint16_t port, uint8_t cw,
		    uint16_t count, uint64_t now)
{
	outb(p, 0x43, cw, now);
	outb(p, port, (uint8_t)count, now);
	outb(p, port, (uint8_t)(count >> 8), now);
}

/* Takes the interrupt if one is pending, with the EOI; its vector or -1. */
static int take(struct vplatform *p, uint64_t now)
{
	int v;

	if (!vplatform_intr_pending(p, now))
		return -1;
	v = vplatform_intr_ack(p, now);
	outb(p, 0x20, 0x20, now);
	return v;
}

static void test_muldiv(void **state)
{
	(void)state;
	assert_int_equal(vtime_muldiv(10, 3, 4, false), 7);
	assert_int_equal(vtime_muldiv(10, 3, 4, true), 8);
	assert_int_equal(vtime_muldiv(12, 3, 4, true), 9);
	assert_int_equal(vtime_muldiv(UINT64_MAX, UINT64_MAX, UINT64_MAX, false),
			 UINT64_MAX);
	assert_int_equal(vtime_muldiv(UINT64_MAX, 3, 4, false),
			 0xbfffffffffffffffull);
	assert_int_equal(vtime_muldiv(1ull << 63, 4, 2, false), UINT64_MAX);
	assert_int_equal(vtime_muldiv(1ull << 62, 4, 2, false), 1ull << 63);
	/* 2^64 - 1 seconds of 10 GHz TSC in PIT clocks: exact. */
	assert_int_equal(vtime_muldiv(UINT64_MAX, VPIT_HZ, 10000000000ull, false),
			 2201032298735691ull);
	assert_int_equal(vtime_muldiv(5, 5, 0, false), UINT64_MAX);
}

static void test_mode2_hz100_one_second(void **state)
{
	struct vplatform p;
	uint64_t now, step = HZ_TSC / 1000;
	unsigned int irqs = 0;

	(void)state;
	setup(&p, HZ_TSC, T0);
	assert_int_equal(vplatform_next_deadline(&p, T0), UINT64_MAX);
	program(&p, 0x40, 0x34, LATCH_HZ100, T0);
	assert_int_equal(vplatform_next_deadline(&p, T0),
			 T0 + clocks(LATCH_HZ100, HZ_TSC));
	for (now = T0; now <= T0 + HZ_TSC; now += step) {
		int v = take(&p, now);

		if (v >= 0) {
			assert_int_equal(v, 0x30);
			irqs++;
		}
	}
	/* 100 periods of 11932 clocks are 1.0000151 s. */
	assert_int_equal(irqs, 99);
	assert_int_equal(vplatform_next_deadline(&p, T0 + HZ_TSC),
			 T0 + clocks(100ull * LATCH_HZ100, HZ_TSC));

	/* Periods missed while nobody looked come as one interrupt. */
	now = T0 + 2 * HZ_TSC;
	assert_int_equal(take(&p, now), 0x30);
	assert_int_equal(take(&p, now), -1);
	assert_int_equal(vplatform_next_deadline(&p, now),
			 T0 + clocks(200ull * LATCH_HZ100, HZ_TSC));
	/* Masked at the PIC, the deadline still says when the timer fires. */
	outb(&p, 0x21, 0xff, now);
	assert_true(vplatform_next_deadline(&p, now + HZ_TSC / 50) <=
		    now + HZ_TSC / 50);
	assert_false(vplatform_intr_pending(&p, now + HZ_TSC / 50));
}

static void test_counts_mode2_and_mode3(void **state)
{
	struct vplatform p;

	(void)state;
	setup(&p, HZ_TSC, T0);
	program(&p, 0x40, 0x34, 1000, T0);
	outb(&p, 0x43, 0x00, T0 + clocks(10, HZ_TSC));       /* latch */
	/* The latch holds while time passes. */
	assert_int_equal(inb(&p, 0x40, T0 + clocks(500, HZ_TSC)), 990 & 0xff);
	assert_int_equal(inb(&p, 0x40, T0 + clocks(600, HZ_TSC)), 990 >> 8);
	/* Live: N, N-1, ..., 1, then N again. */
	outb(&p, 0x43, 0x00, T0 + clocks(999, HZ_TSC));
	assert_int_equal(inb(&p, 0x40, T0) | inb(&p, 0x40, T0) << 8, 1);
	outb(&p, 0x43, 0x00, T0 + clocks(1000, HZ_TSC));
	assert_int_equal(inb(&p, 0x40, T0) | inb(&p, 0x40, T0) << 8, 1000);
	/* Mode 3 counts by two through each half. */
	program(&p, 0x40, 0x36, 1000, T0 + HZ_TSC);
	outb(&p, 0x43, 0x00, T0 + HZ_TSC + clocks(100, HZ_TSC));
	assert_int_equal(inb(&p, 0x40, T0) | inb(&p, 0x40, T0) << 8, 800);
	outb(&p, 0x43, 0x00, T0 + HZ_TSC + clocks(600, HZ_TSC));
	assert_int_equal(inb(&p, 0x40, T0) | inb(&p, 0x40, T0) << 8, 800);
	/* Count 0 is 65536, read as 0 at the start of a period. */
	program(&p, 0x40, 0x34, 0, T0 + 2 * HZ_TSC);
	outb(&p, 0x43, 0x00, T0 + 2 * HZ_TSC);
	assert_int_equal(inb(&p, 0x40, T0) | inb(&p, 0x40, T0) << 8, 0);
	assert_int_equal(vplatform_next_deadline(&p, T0 + 2 * HZ_TSC),
			 T0 + 2 * HZ_TSC + clocks(65536, HZ_TSC));
}

static void test_oneshot_modes(void **state)
{
	struct vplatform p;
	uint64_t now = T0, at;

	(void)state;
	setup(&p, HZ_TSC, T0);
	/* Linux's oneshot clockevent: 0x38 (mode 4), then each event's count. */
	program(&p, 0x40, 0x38, 500, now);
	at = vplatform_next_deadline(&p, now);
	assert_int_equal(at, now + clocks(501, HZ_TSC));
	assert_int_equal(take(&p, at - 1), -1);
	assert_int_equal(take(&p, at), 0x30);
	assert_int_equal(vplatform_next_deadline(&p, at), UINT64_MAX);
	assert_int_equal(take(&p, at + HZ_TSC), -1);
	/* A new count arms it again. */
	now = at + HZ_TSC;
	outb(&p, 0x40, 100, now);
	outb(&p, 0x40, 0, now);
	assert_int_equal(vplatform_next_deadline(&p, now), now + clocks(101, HZ_TSC));
	/* Mode 0: one interrupt at terminal count. */
	now += HZ_TSC;
	assert_int_equal(take(&p, now), 0x30);   /* the mode 4 one above */
	program(&p, 0x40, 0x30, 200, now);
	at = vplatform_next_deadline(&p, now);
	assert_int_equal(at, now + clocks(200, HZ_TSC));
	assert_int_equal(take(&p, at - 1), -1);
	assert_int_equal(take(&p, at + HZ_TSC), 0x30);
	assert_int_equal(take(&p, at + 2 * HZ_TSC), -1);
	assert_int_equal(vplatform_next_deadline(&p, at), UINT64_MAX);
}

static void test_quick_pit_calibrate(void **state)
{
	struct vplatform p;
	uint64_t now = T0;

	(void)state;
	setup(&p, HZ_TSC, T0);
	/* Gate high, speaker off; channel 2, mode 0, 0xffff. */
	outb(&p, 0x61, (uint8_t)((inb(&p, 0x61, now) & ~0x02) | 0x01), now);
	program(&p, 0x42, 0xb0, 0xffff, now);
	for (unsigned int i = 0; i < 128; i++) {
		/* pit_expect_msb: LSB ignored, MSB compared. */
		uint64_t t = now + clocks(256ull * i + 5, HZ_TSC);

		inb(&p, 0x42, t);
		assert_int_equal(inb(&p, 0x42, t), 0xff - i);
		t = now + clocks(256ull * i + 255, HZ_TSC);
		inb(&p, 0x42, t);
		assert_int_equal(inb(&p, 0x42, t), 0xff - i);
	}
	/* Channel 2 raises no interrupt. */
	assert_int_equal(take(&p, now + HZ_TSC), -1);
}

static void test_pit_calibrate_tsc_polling(void **state)
{
	struct vplatform p;
	uint64_t now = T0, t;
	unsigned int latch = VPIT_HZ / 100;   /* CAL_MS 10 */

	(void)state;
	setup(&p, 3000000000ull, T0);
	outb(&p, 0x61, (uint8_t)((inb(&p, 0x61, now) & ~0x02) | 0x01), now);
	program(&p, 0x42, 0xb0, (uint16_t)latch, now);
	for (t = now; !(inb(&p, 0x61, t) & 0x20); t += 1000)
		assert_true(t < now + 3000000000ull);
	/* 10 ms of a 3 GHz TSC, within one step of the poll. */
	assert_true(t - now >= vtime_muldiv(latch, 3000000000ull, VPIT_HZ, true));
	assert_true(t - now < vtime_muldiv(latch, 3000000000ull, VPIT_HZ, true) + 1000);
	/* The refresh bit toggles on every read. */
	assert_int_not_equal(inb(&p, 0x61, t) & 0x10, inb(&p, 0x61, t) & 0x10);
	/* Gate low holds the count; high again, it continues (mode 0). */
	program(&p, 0x42, 0xb0, 1000, t);
	outb(&p, 0x61, 0x00, t + clocks(100, 3000000000ull));
	outb(&p, 0x43, 0x80, t + 3000000000ull);
	assert_int_equal(inb(&p, 0x42, t) | inb(&p, 0x42, t) << 8, 900);
	outb(&p, 0x61, 0x01, t + 3000000000ull);
	outb(&p, 0x43, 0x80, t + 3000000000ull + clocks(50, 3000000000ull));
	assert_int_equal(inb(&p, 0x42, t) | inb(&p, 0x42, t) << 8, 850);
	assert_int_equal(inb(&p, 0x61, t + 3000000000ull + clocks(899, 3000000000ull)) & 0x20, 0);
	assert_int_equal(inb(&p, 0x61, t + 3000000000ull + clocks(900, 3000000000ull)) & 0x20, 0x20);
}

static void test_access_modes_and_readback(void **state)
{
	struct vplatform p;
	uint64_t now = T0;

	(void)state;
	setup(&p, HZ_TSC, T0);
	/* Mode 0 written, no count yet: null count set, OUT low. */
	outb(&p, 0x43, 0x30, now);
	outb(&p, 0x43, 0xe2, now);           /* read-back status of channel 0 */
	assert_int_equal(inb(&p, 0x40, now), 0x70);
	outb(&p, 0x40, 0x34, now);
	outb(&p, 0x40, 0x12, now);
	outb(&p, 0x43, 0xc2, now);           /* status and count */
	assert_int_equal(inb(&p, 0x40, now), 0x30);
	assert_int_equal(inb(&p, 0x40, now), 0x34);
	assert_int_equal(inb(&p, 0x40, now), 0x12);
	/* LSB only: the count is the byte; MSB only: byte * 256. */
	outb(&p, 0x43, 0x52, now);            /* channel 1, LSB, mode 1 */
	outb(&p, 0x41, 0x80, now);
	assert_int_equal(inb(&p, 0x41, now + HZ_TSC), 0x80);  /* no trigger */
	now += HZ_TSC;
	outb(&p, 0x43, 0x64, now);            /* channel 1, MSB, mode 2 */
	outb(&p, 0x41, 0x02, now);
	assert_int_equal(inb(&p, 0x41, now + clocks(1, HZ_TSC)), 0x01);
	outb(&p, 0x43, 0x40, now + clocks(1, HZ_TSC));
	outb(&p, 0x43, 0xe4, now + clocks(1, HZ_TSC));
	assert_int_equal(inb(&p, 0x41, now), 0xa4);         /* status, OUT high */
	assert_int_equal(inb(&p, 0x41, now), 0x01);         /* 0x1ff >> 8 */
	/* Mode 6 and 7 are 2 and 3. */
	outb(&p, 0x43, 0xbc, now);
	outb(&p, 0x43, 0xe8, now);
	assert_int_equal(inb(&p, 0x42, now) & 0x0e, 0x04);
	/* 0x43 reads nothing. */
	assert_int_equal(inb(&p, 0x43, now), 0xff);
}

static void test_time_extremes(void **state)
{
	static const uint64_t rates[] = { 1000000ull, 10000000000ull,
					  VTIME_MIN_HZ, VTIME_MAX_HZ };
	struct vplatform p;

	(void)state;
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		uint64_t hz = rates[i], now = UINT64_MAX - 3 * hz, at;

		setup(&p, hz, now);
		program(&p, 0x40, 0x34, LATCH_HZ100, now);
		at = vplatform_next_deadline(&p, now);
		assert_int_equal(at, now + clocks(LATCH_HZ100, hz));
		assert_int_equal(take(&p, at), 0x30);
		/* Past the end of the TSC the deadline saturates. */
		now = UINT64_MAX - 1;
		assert_int_equal(take(&p, now), 0x30);
		at = vplatform_next_deadline(&p, now);
		assert_true(at >= now);
		outb(&p, 0x43, 0x00, now);
		assert_true((inb(&p, 0x40, now) | inb(&p, 0x40, now) << 8) <= (int)LATCH_HZ100);
	}
	/* Rates out of range are clamped, never divided by. */
	vplatform_init(&p, 0, 0, 0);
	assert_int_equal(p.tsc_hz, VTIME_MIN_HZ);
	vplatform_init(&p, UINT64_MAX, 0, 0);
	assert_int_equal(p.tsc_hz, VTIME_MAX_HZ);
	/* Time that runs back is taken as the latest seen. */
	setup(&p, HZ_TSC, T0 + HZ_TSC);
	program(&p, 0x40, 0x30, 1000, T0 + HZ_TSC);
	outb(&p, 0x43, 0x00, T0);
	assert_int_equal(inb(&p, 0x40, T0) | inb(&p, 0x40, T0) << 8, 1000);
}

/* Channel 2's OUT on port 0x61 bit 5 at `clocks` PIT clocks after t. */
static bool out2(struct vplatform *p, uint64_t t, uint64_t n)
{
	return inb(p, 0x61, t + clocks(n, HZ_TSC)) & 0x20;
}

static uint16_t count2(struct vplatform *p, uint64_t t)
{
	outb(p, 0x43, 0x80, t);
	return (uint16_t)(inb(p, 0x42, t) | inb(p, 0x42, t) << 8);
}

static void test_gate_modes(void **state)
{
	struct vplatform p;
	uint64_t t = T0;

	(void)state;
	setup(&p, HZ_TSC, T0);
	/* Mode 1: waits for a rising gate, then OUT low for N clocks. */
	program(&p, 0x42, 0xb2, 100, t);
	assert_true(out2(&p, t, 500));
	assert_int_equal(count2(&p, t + clocks(500, HZ_TSC)), 100);
	t += clocks(500, HZ_TSC);
	outb(&p, 0x61, 0x01, t);
	assert_false(out2(&p, t, 99));
	assert_true(out2(&p, t, 100));
	/* Retriggered by the next rising gate. */
	t += clocks(1000, HZ_TSC);
	outb(&p, 0x61, 0x00, t);
	outb(&p, 0x61, 0x01, t);
	assert_false(out2(&p, t, 50));
	assert_int_equal(count2(&p, t + clocks(50, HZ_TSC)), 50);
	/* Mode 5: a one-clock strobe N clocks after the trigger. */
	t += clocks(1000, HZ_TSC);
	outb(&p, 0x61, 0x00, t);
	program(&p, 0x42, 0xba, 10, t);
	assert_true(out2(&p, t, 100));
	t += clocks(100, HZ_TSC);
	outb(&p, 0x61, 0x01, t);
	assert_true(out2(&p, t, 9));
	assert_false(out2(&p, t, 10));
	assert_true(out2(&p, t, 11));
	/* Mode 3 (the speaker's square wave): high half, low half. */
	t += clocks(1000, HZ_TSC);
	program(&p, 0x42, 0xb6, 10, t);
	assert_true(out2(&p, t, 4));
	assert_false(out2(&p, t, 5));
	assert_false(out2(&p, t, 9));
	assert_true(out2(&p, t, 10));
	/* Gate low: OUT high and the count held; rising: reloaded. */
	t += clocks(17, HZ_TSC);                 /* 7 into a period */
	outb(&p, 0x61, 0x00, t);
	assert_true(out2(&p, t, 100));
	t += clocks(100, HZ_TSC);
	outb(&p, 0x61, 0x01, t);
	assert_int_equal(count2(&p, t), 10);
	assert_false(out2(&p, t, 5));
	/* Mode 2 held by the gate does not move. */
	t += clocks(100, HZ_TSC);
	program(&p, 0x42, 0xb4, 1000, t);
	outb(&p, 0x61, 0x00, t + clocks(10, HZ_TSC));
	assert_int_equal(count2(&p, t + HZ_TSC), 990);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_muldiv),
		cmocka_unit_test(test_mode2_hz100_one_second),
		cmocka_unit_test(test_counts_mode2_and_mode3),
		cmocka_unit_test(test_oneshot_modes),
		cmocka_unit_test(test_quick_pit_calibrate),
		cmocka_unit_test(test_pit_calibrate_tsc_polling),
		cmocka_unit_test(test_access_modes_and_readback),
		cmocka_unit_test(test_gate_modes),
		cmocka_unit_test(test_time_extremes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
