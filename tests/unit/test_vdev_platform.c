/*
 * The platform as a whole (vdev/vplatform.c, vdev/vmisc.c): the i8042
 * with nothing attached and its resets, ports 0x80, 0x92 and 0xCF9, PCI
 * configuration mechanism 1 with no devices, unclaimed ports and sizes;
 * and the saved state: a round trip mid-period on the same and another
 * TSC rate, and the refusal of each kind of corrupted field; the quiet
 * cache (quiet_until) and every change that must clear it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vdev/vplatform.h"
#include "tcb/byteorder.h"
#include "vdev_io.h"

#define T0 777777ull
#define OFF_PIC  VPLATFORM_SAVE_HEADER
#define OFF_PIT  (OFF_PIC + VPIC_SAVE_SIZE)
#define OFF_UART (OFF_PIT + VPIT_SAVE_SIZE)
#define OFF_RTC  (OFF_UART + VUART_SAVE_SIZE)
#define OFF_MISC (OFF_RTC + VRTC_SAVE_SIZE)
#define OFF_LAPIC (OFF_MISC + VMISC_SAVE_SIZE)

static void test_i8042(void **state)
{
	struct vplatform p;

	(void)state;
	vplatform_init(&p, HZ_TSC, 0, T0);
	/* Nothing to read: output buffer empty. */
	assert_int_equal(inb(&p, 0x64, T0) & 0x01, 0);
	/* Self test. */
	assert_int_equal(outb(&p, 0x64, 0xaa, T0), VIO_DONE);
	assert_int_equal(inb(&p, 0x64, T0) & 0x09, 0x09);
	assert_int_equal(inb(&p, 0x60, T0), 0x55);
	assert_int_equal(inb(&p, 0x64, T0) & 0x01, 0);
	/* Configuration byte: read, write, read back. */
	outb(&p, 0x64, 0x20, T0);
	assert_int_equal(inb(&p, 0x60, T0), 0x70);
	outb(&p, 0x64, 0x60, T0);
	outb(&p, 0x60, 0x47, T0);
	assert_int_equal(inb(&p, 0x64, T0) & 0x09, 0x00);
	outb(&p, 0x64, 0xad, T0);        /* keyboard off: CTR bit 4 */
	outb(&p, 0x64, 0xa8, T0);        /* aux on: CTR bit 5 clear */
	outb(&p, 0x64, 0x20, T0);
	assert_int_equal(inb(&p, 0x60, T0), 0x57);
	/* Interface tests. */
	outb(&p, 0x64, 0xab, T0);
	assert_int_equal(inb(&p, 0x64, T0) & 0x01, 1);
	assert_int_equal(inb(&p, 0x60, T0), 0x00);
	outb(&p, 0x64, 0xa9, T0);
	assert_int_equal(inb(&p, 0x60, T0), 0x00);
	/* Unknown commands (0xd3, aux loop) give no byte: no aux port. */
	outb(&p, 0x64, 0xd3, T0);
	outb(&p, 0x60, 0x5a, T0);
	assert_int_equal(inb(&p, 0x64, T0) & 0x01, 0);
	/* A byte for the absent keyboard: nothing. */
	assert_int_equal(outb(&p, 0x60, 0xff, T0), VIO_DONE);
	assert_int_equal(inb(&p, 0x64, T0) & 0x01, 0);
	/* Output port with bit 0 set: no reset; clear: reset. */
	outb(&p, 0x64, 0xd1, T0);
	assert_int_equal(outb(&p, 0x60, 0x03, T0), VIO_DONE);
	outb(&p, 0x64, 0xd1, T0);
	assert_int_equal(outb(&p, 0x60, 0x02, T0), VIO_RESET);
	/* Pulse reset. */
	assert_int_equal(outb(&p, 0x64, 0xfe, T0), VIO_RESET);
}

static void test_misc_ports(void **state)
{
	struct vplatform p;
	uint32_t v;

	(void)state;
	vplatform_init(&p, HZ_TSC, 0, T0);
	/* POST codes. */
	assert_int_equal(outb(&p, 0x80, 0x12, T0), VIO_DONE);
	assert_int_equal(inb(&p, 0x80, T0), 0xff);
	/* Fast A20 stored; bit 0 resets. */
	assert_int_equal(outb(&p, 0x92, 0x02, T0), VIO_DONE);
	assert_int_equal(inb(&p, 0x92, T0), 0x02);
	assert_int_equal(outb(&p, 0x92, 0x03, T0), VIO_RESET);
	/* 0xCF9: bit 2 resets, others stored. */
	assert_int_equal(outb(&p, 0xcf9, 0x02, T0), VIO_DONE);
	assert_int_equal(inb(&p, 0xcf9, T0), 0x02);
	assert_int_equal(outb(&p, 0xcf9, 0x06, T0), VIO_RESET);
	/* PCI: the address latch takes dwords only. */
	v = 0x80001234;
	assert_int_equal(io(&p, 0xcf8, 4, false, &v, T0), VIO_DONE);
	v = 0;
	assert_int_equal(io(&p, 0xcf8, 4, true, &v, T0), VIO_DONE);
	assert_int_equal(v, 0x80001234);
	v = 0;
	assert_int_equal(io(&p, 0xcf8, 2, true, &v, T0), VIO_UNCLAIMED);
	assert_int_equal(v, 0xffff);
	/* No device: all ones in the data window, at every size. */
	v = 0;
	assert_int_equal(io(&p, 0xcfc, 4, true, &v, T0), VIO_DONE);
	assert_int_equal(v, 0xffffffffu);
	v = 0;
	assert_int_equal(io(&p, 0xcfe, 2, true, &v, T0), VIO_DONE);
	assert_int_equal(v, 0xffff);
	v = 0;
	assert_int_equal(io(&p, 0xcfe, 4, true, &v, T0), VIO_UNCLAIMED);
	v = 5;
	assert_int_equal(io(&p, 0xcfc, 4, false, &v, T0), VIO_DONE);
	/* Unclaimed ports read all ones of the size; bad sizes are refused. */
	v = 0;
	assert_int_equal(io(&p, 0x2f8, 1, true, &v, T0), VIO_UNCLAIMED);
	assert_int_equal(v, 0xff);
	v = 0;
	assert_int_equal(io(&p, 0x20, 2, true, &v, T0), VIO_UNCLAIMED);
	assert_int_equal(v, 0xffff);
	v = 0;
	assert_int_equal(io(&p, 0x20, 3, true, &v, T0), VIO_UNCLAIMED);
	assert_int_equal(io(&p, 0xcfc, 0, true, &v, T0), VIO_UNCLAIMED);
	v = 1;
	assert_int_equal(io(&p, 0xffff, 4, false, &v, T0), VIO_UNCLAIMED);
}

/* A platform in the middle of things: PIT at HZ=100 mid-period, channel 2
 * counting, a UART with received bytes and an interrupt in service, RTC in
 * binary mode, a latched count half read, an i8042 command waiting. */
static void busy_platform(struct vplatform *p, uint64_t hz, uint64_t now)
{
	vplatform_init(p, hz, 1700000000ull, now);
	linux_init_pic(p, now);
	outb(p, 0x21, 0xea, now);
	outb(p, 0x43, 0x34, now);
	outb(p, 0x40, 0x9c, now);
	outb(p, 0x40, 0x2e, now);
	outb(p, 0x61, 0x01, now);
	outb(p, 0x43, 0xb0, now);
	outb(p, 0x42, 0xff, now);
	outb(p, 0x42, 0xff, now);
	outb(p, 0x3fc, 0x0b, now);
	outb(p, 0x3f9, 0x01, now);
	vplatform_rx(p, (const uint8_t *)"abc", 3, now);
	outb(p, 0x70, 0x0b, now);
	outb(p, 0x71, 0x06, now);
	outb(p, 0x64, 0x60, now);
}

/* What the guest sees, in order, from now on: the same sequence on two
 * platforms must give the same answers. */
static void observe(struct vplatform *p, uint64_t now, uint64_t hz,
		    uint32_t out[40])
{
	int n = 0;

	out[n++] = (uint32_t)vplatform_intr_ack(p, now);
	out[n++] = inb(p, 0x3f8, now);
	out[n++] = inb(p, 0x3fa, now);
	outb(p, 0x43, 0x00, now);
	out[n++] = inb(p, 0x40, now);
	out[n++] = inb(p, 0x40, now);
	out[n++] = inb(p, 0x42, now);
	out[n++] = inb(p, 0x42, now);
	outb(p, 0x70, 0x00, now);
	out[n++] = inb(p, 0x71, now);
	out[n++] = inb(p, 0x61, now) & 0x2f;
	for (int i = 1; i <= 25; i++) {
		uint64_t t = now + (uint64_t)i * hz / 200;
		int v = vplatform_intr_ack(p, t);

		outb(p, 0x20, 0x20, t);
		out[n++] = (uint32_t)v;
	}
	out[n++] = (uint32_t)(vplatform_next_deadline(p, now + hz) - now);
	while (n < 40)
		out[n++] = 0;
}

static void test_save_load_round_trip(void **state)
{
	static uint8_t s[VPLATFORM_SAVE_SIZE], s2[VPLATFORM_SAVE_SIZE];
	struct vplatform a, b;
	uint32_t oa[40], ob[40];
	uint64_t now = T0 + HZ_TSC / 300;   /* a third into the period */

	(void)state;
	assert_int_equal(VPLATFORM_SAVE_SIZE, 572);
	busy_platform(&a, HZ_TSC, T0);
	vplatform_save(&a, now, s);
	assert_int_equal(load_le32(s), VPLATFORM_SAVE_VERSION);
	memset(&b, 0x5a, sizeof(b));
	assert_true(vplatform_load(&b, s, sizeof(s), HZ_TSC, now));
	vplatform_save(&b, now, s2);
	assert_memory_equal(s, s2, sizeof(s));
	observe(&a, now, HZ_TSC, oa);
	observe(&b, now, HZ_TSC, ob);
	assert_memory_equal(oa, ob, sizeof(oa));
	assert_int_equal(oa[0], 0x34);     /* the UART's receive interrupt */
	assert_int_equal(oa[1], 'a');

	/* Resumed much later on a host with another TSC rate and an
	 * unrelated TSC value: the counts continue where they stopped. */
	busy_platform(&a, HZ_TSC, T0);
	vplatform_save(&a, now, s);
	memset(&b, 0, sizeof(b));
	assert_true(vplatform_load(&b, s, sizeof(s), 1000000000ull, 1ull << 60));
	outb(&b, 0x43, 0x00, 1ull << 60);
	{
		/* A third of 11932 clocks passed: 11932 - 3977 = 7955 left,
		 * give or take one clock of rounding. */
		int c = inb(&b, 0x40, 1ull << 60) | inb(&b, 0x40, 1ull << 60) << 8;

		assert_true(c >= 7954 && c <= 7956);
	}
	outb(&b, 0x70, 0x00, 1ull << 60);
	assert_int_equal(inb(&b, 0x71, 1ull << 60), 20);
	assert_true(vplatform_next_deadline(&b, 1ull << 60) - (1ull << 60) <=
		    vtime_muldiv(7956, 1000000000ull, VPIT_HZ, true));
}

static void test_load_refusals(void **state)
{
	static uint8_t s[VPLATFORM_SAVE_SIZE], bad[VPLATFORM_SAVE_SIZE];
	static const struct { size_t off; uint8_t v; } cases[] = {
		{ 0, 1 },                          /* version 1 (no APIC) */
		{ 0, 3 },                          /* version */
		{ 4, 1 },                          /* reserved word */
		{ 15, 0xff },                      /* saved rate huge */
		{ OFF_PIC + 9, 7 },                /* PIC init step */
		{ OFF_PIC + 5, 0x33 },             /* ICW2 low bits */
		{ OFF_PIC + 3, 0x01 },             /* an input line no one drives */
		{ OFF_PIT + 20, 6 },               /* PIT mode 6 */
		{ OFF_PIT + 21, 0 },               /* access mode 0 */
		{ OFF_PIT + 22, 2 },               /* BCD flag */
		{ OFF_PIT + 8, 0xff },             /* more edges than periods */
		{ OFF_PIT + 25, 0x00 },            /* channel 0 gate low */
		{ OFF_PIT + 2 * VPIT_CHANNEL_SAVE + 25, 0x0a }, /* gate 2 != 0x61 */
		{ OFF_UART + VUART_RING, 0x01 },   /* count 257 (with +1 below) */
		{ OFF_UART + VUART_RING + 4, 0x10 }, /* IER reserved bits */
		{ OFF_UART + VUART_RING + 6, 0x20 }, /* MCR reserved bits */
		{ OFF_UART + 200, 0x01 },          /* a byte past the count */
		{ OFF_RTC + 15, 0xff },            /* sub-second beyond a second */
		{ OFF_RTC + 17, 0x80 },            /* UIP */
		{ OFF_MISC + 3, 0x01 },            /* PCI reserved bits */
		{ OFF_MISC + 11, 0x55 },           /* i8042 command pending */
		{ OFF_MISC + 6, 0x01 },            /* 0x92 reset bit */
		{ OFF_LAPIC + 1, 0x0c },           /* APIC_BASE: EXTD, no BSP */
		{ OFF_LAPIC + 2, 0xef },           /* APIC_BASE: another address */
		{ OFF_LAPIC + 9, 0x01 },           /* TPR beyond 8 bits */
		{ OFF_LAPIC + 13, 0x04 },          /* SVR reserved bit */
		{ OFF_LAPIC + 16, 0x01 },          /* ESR bit never raised */
		{ OFF_LAPIC + 28, 0x01 },          /* reserved word */
		{ OFF_LAPIC + 42, 0x06 },          /* timer mode 3 */
		{ OFF_LAPIC + 41, 0x01 },          /* timer LVT: delivery mode bits */
		{ OFF_LAPIC + 64, 0x01 },          /* vector 0 in service */
		{ OFF_LAPIC + 96, 0x80 },          /* vector 7 requested */
		{ OFF_LAPIC + 136, 0x01 },         /* a deadline in one-shot mode */
		{ OFF_LAPIC + 128, 0x05 },         /* time left, no count loaded */
		{ OFF_LAPIC + 144, 0x01 },         /* LDR reserved bits */
		{ OFF_LAPIC + 148, 0x00 },         /* DFR bits 27:0 not ones */
	};
	struct vplatform a, b, keep;

	(void)state;
	busy_platform(&a, HZ_TSC, T0);
	vplatform_save(&a, T0 + 1000, s);
	assert_true(vplatform_load(&b, s, sizeof(s), HZ_TSC, T0));
	assert_false(vplatform_load(&b, s, sizeof(s) - 1, HZ_TSC, T0));
	assert_false(vplatform_load(&b, s, sizeof(s), 0, T0));
	assert_false(vplatform_load(&b, s, sizeof(s), VTIME_MAX_HZ + 1, T0));
	/* The saving rate: 0 or below the range. */
	memcpy(bad, s, sizeof(s));
	store_le64(bad + 8, 0);
	assert_false(vplatform_load(&b, bad, sizeof(bad), HZ_TSC, T0));
	store_le64(bad + 8, VTIME_MIN_HZ - 1);
	assert_false(vplatform_load(&b, bad, sizeof(bad), HZ_TSC, T0));
	store_le64(bad + 8, VTIME_MIN_HZ);
	assert_true(vplatform_load(&b, bad, sizeof(bad), HZ_TSC, T0));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(bad, s, sizeof(s));
		bad[cases[i].off] = cases[i].v;
		if (cases[i].off == OFF_UART + VUART_RING)
			bad[OFF_UART + VUART_RING + 1] = 0x01;
		memset(&b, 0xa5, sizeof(b));
		keep = b;
		assert_false(vplatform_load(&b, bad, sizeof(bad), HZ_TSC, T0));
		assert_memory_equal(&b, &keep, sizeof(b));
	}
}

/* A platform with nothing pending until PIT channel 0's next edge
 * (HZ=100), whose last edge is waiting at the PIC behind IRQ 0's mask,
 * and whose local APIC has vector 0x51 requested behind a TPR of 0x50:
 * an unmask, a TPR lowered, a byte received, a TSC-deadline timer's
 * clock moved, each makes an interrupt pending at once. Returns the TSC
 * it was left quiet at. */
#define PERIOD (HZ_TSC / 100)
static uint64_t quiet_platform(struct vplatform *p)
{
	uint64_t now = T0 + PERIOD + PERIOD / 2, self = 0x51, tpr = 0x50;
	uint64_t x2apic = 0xfee00d00;

	vplatform_init(p, HZ_TSC, 0, T0);
	linux_init_pic(p, T0);
	outb(p, 0x21, 0xff, T0);           /* IRQ 0 (and all) masked */
	outb(p, 0x43, 0x34, T0);           /* channel 0, mode 2 */
	outb(p, 0x40, 0x9c, T0);
	outb(p, 0x40, 0x2e, T0);           /* 11932: HZ=100 */
	outb(p, 0x3fc, 0x08, T0);          /* UART: OUT2, */
	outb(p, 0x3f9, 0x01, T0);          /* receive interrupt on */
	assert_true(vplatform_msr(p, 0x1b, true, &x2apic, T0));
	assert_true(vplatform_msr(p, 0x808, true, &tpr, T0));
	assert_true(vplatform_msr(p, 0x83f, true, &self, T0));
	assert_false(vplatform_intr_pending(p, now));
	assert_true(p->quiet_until > now);
	assert_int_equal(p->quiet_until, vplatform_next_deadline(p, now));
	return now;
}

static void test_quiet_until(void **state)
{
	struct vplatform p;
	uint64_t now = quiet_platform(&p), next = p.quiet_until;

	(void)state;
	/* The cache answers until the next timer event, which it names. */
	assert_false(vplatform_intr_pending(&p, next - 1));
	assert_int_equal(vplatform_next_deadline(&p, next - 1), next);
	/* Edge 2, 2 x 11932 PIT clocks after T0, rounded up to the TSC. */
	assert_int_equal(next - T0, vtime_muldiv(2 * 11932, HZ_TSC, VPIT_HZ, true));
	/* At the event the devices are asked again: the edge is masked,
	 * so still nothing, and the cache moves on to the edge after. */
	assert_false(vplatform_intr_pending(&p, next));
	assert_true(p.quiet_until > next);
	assert_true(now < next);
}

static void test_quiet_until_cleared(void **state)
{
	struct vplatform p, saved;
	static uint8_t s[VPLATFORM_SAVE_SIZE];
	uint64_t now, tpr = 0, deadline, lvt = (2u << 17) | 0xec;

	(void)state;
	/* Port I/O: IRQ 0 unmasked, its waiting edge goes to the CPU. */
	now = quiet_platform(&p);
	outb(&p, 0x21, 0xfa, now);
	assert_true(vplatform_intr_pending(&p, now));
	assert_int_equal(vplatform_intr_ack(&p, now), 0x30);

	/* The APIC's MSRs: TPR lowered below the requested vector. */
	now = quiet_platform(&p);
	assert_true(vplatform_msr(&p, 0x808, true, &tpr, now));
	assert_true(vplatform_intr_pending(&p, now));
	assert_int_equal(vplatform_intr_ack(&p, now), 0x51);

	/* MOV to CR8 (hv/vm_exit.c). */
	now = quiet_platform(&p);
	vplatform_set_tpr(&p, 0);
	assert_true(vplatform_intr_pending(&p, now));

	/* Console input: the UART's receive interrupt on IRQ 4. */
	now = quiet_platform(&p);
	outb(&p, 0x21, 0xef, now);         /* only IRQ 4 unmasked */
	assert_false(vplatform_intr_pending(&p, now));
	assert_true(p.quiet_until > now);
	assert_int_equal(vplatform_rx(&p, (const uint8_t *)"x", 1, now), 1);
	assert_true(vplatform_intr_pending(&p, now));
	assert_int_equal(vplatform_intr_ack(&p, now), 0x34);

	/* The TSC offset, which the TSC-deadline timer counts in: moved
	 * past the deadline, the timer is due now. */
	now = quiet_platform(&p);
	assert_true(vplatform_msr(&p, 0x832, true, &lvt, now));
	deadline = now + 1000000;          /* guest TSC = host TSC */
	assert_true(vplatform_msr(&p, 0x6e0, true, &deadline, now));
	assert_false(vplatform_intr_pending(&p, now));
	assert_int_equal(p.quiet_until, now + 1000000);
	vplatform_set_tsc_offset(&p, 2000000);
	assert_true(vplatform_intr_pending(&p, now));
	assert_int_equal(vplatform_intr_ack(&p, now), 0xec);

	/* The xAPIC page: TPR (0x80) lowered. */
	vplatform_init(&p, HZ_TSC, 0, T0);
	{
		uint32_t v = 0x50;

		assert_true(vplatform_apic_mmio(&p, 0x80, true, &v, T0));
		v = 1u << 18 | 0x51;       /* ICR: fixed, to itself */
		assert_true(vplatform_apic_mmio(&p, 0x300, true, &v, T0));
		assert_false(vplatform_intr_pending(&p, T0));
		assert_int_equal(p.quiet_until, UINT64_MAX);
		v = 0;
		assert_true(vplatform_apic_mmio(&p, 0x80, true, &v, T0));
		assert_true(vplatform_intr_pending(&p, T0));
	}

	/* A loaded state replaces a quiet one whole. */
	now = quiet_platform(&p);
	saved = p;
	outb(&saved, 0x21, 0xfa, now);
	vplatform_save(&saved, now, s);
	assert_true(vplatform_load(&p, s, sizeof(s), HZ_TSC, now));
	assert_true(vplatform_intr_pending(&p, now));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_i8042),
		cmocka_unit_test(test_misc_ports),
		cmocka_unit_test(test_save_load_round_trip),
		cmocka_unit_test(test_load_refusals),
		cmocka_unit_test(test_quiet_until),
		cmocka_unit_test(test_quiet_until_cleared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
