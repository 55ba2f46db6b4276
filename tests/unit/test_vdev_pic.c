/*
 * The virtual 8259A pair (vdev/vpic.c): Linux's init sequence, vectors,
 * priority with in-service lines, edge latching, EOIs, auto-EOI, the
 * spurious IRQ 7, OCW3 register selection, ELCR and the state's checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include <custos/types.h>

#include "vdev/vpic.h"
#include "vdev/vplatform.h"
#include "vdev_io.h"

static void linux_pic(struct vpic *pic)
{
	static const uint8_t seq[][2] = {
		{ 0x21, 0xff }, { 0xa1, 0xff }, { 0x20, 0x11 }, { 0x21, 0x30 },
		{ 0x21, 0x04 }, { 0x21, 0x01 }, { 0xa0, 0x11 }, { 0xa1, 0x38 },
		{ 0xa1, 0x02 }, { 0xa1, 0x01 }, { 0x21, 0x00 }, { 0xa1, 0x00 },
	};

	vpic_init(pic);
	for (size_t i = 0; i < ARRAY_SIZE(seq); i++)
		assert_true(vpic_write(pic, seq[i][0], seq[i][1]));
}

static uint8_t rd(struct vpic *pic, uint16_t port)
{
	uint8_t v = 0x5a;

	assert_true(vpic_read(pic, port, &v));
	return v;
}

static void pulse(struct vpic *pic, unsigned int irq)
{
	vpic_set_irq(pic, irq, true);
	vpic_set_irq(pic, irq, false);
}

static void test_power_on_and_probe(void **state)
{
	struct vpic pic;
	uint8_t v;

	(void)state;
	vpic_init(&pic);
	/* Everything masked, nothing to deliver. */
	assert_int_equal(rd(&pic, 0x21), 0xff);
	assert_int_equal(rd(&pic, 0xa1), 0xff);
	pulse(&pic, 0);
	assert_false(vpic_intr_pending(&pic));
	assert_int_equal(vpic_intr_ack(&pic), -1);
	/* Linux's probe_8259A writes a mask and reads it back. */
	vpic_write(&pic, 0x21, 0xfb);
	assert_int_equal(rd(&pic, 0x21), 0xfb);
	assert_false(vpic_read(&pic, 0x22, &v));
	assert_false(vpic_write(&pic, 0x4d2, 0));
}

static void test_linux_init_vectors(void **state)
{
	struct vpic pic;

	(void)state;
	linux_pic(&pic);
	pulse(&pic, 0);
	assert_true(vpic_intr_pending(&pic));
	assert_int_equal(vpic_intr_ack(&pic), 0x30);
	/* In service until the EOI: Linux's specific EOI 0x60 + irq. */
	vpic_write(&pic, 0x20, 0x0b);
	assert_int_equal(rd(&pic, 0x20), 0x01);
	vpic_write(&pic, 0x20, 0x60);
	assert_int_equal(rd(&pic, 0x20), 0x00);
	vpic_write(&pic, 0x20, 0x0a);

	/* IRQ 12 through the cascade: slave vector, both chips in service. */
	pulse(&pic, 12);
	assert_int_equal(rd(&pic, 0xa0), 0x10);   /* slave IRR */
	assert_true(vpic_intr_pending(&pic));
	assert_int_equal(vpic_intr_ack(&pic), 0x3c);
	vpic_write(&pic, 0x20, 0x0b);
	vpic_write(&pic, 0xa0, 0x0b);
	assert_int_equal(rd(&pic, 0x20), 0x04);
	assert_int_equal(rd(&pic, 0xa0), 0x10);
	vpic_write(&pic, 0xa0, 0x64);
	vpic_write(&pic, 0x20, 0x62);
	assert_int_equal(rd(&pic, 0x20), 0x00);
	assert_int_equal(rd(&pic, 0xa0), 0x00);
	assert_false(vpic_intr_pending(&pic));
}

static void test_priority_and_nesting(void **state)
{
	struct vpic pic;

	(void)state;
	linux_pic(&pic);
	pulse(&pic, 3);
	pulse(&pic, 1);
	assert_int_equal(vpic_intr_ack(&pic), 0x31);
	/* 3 is below 1, which is in service: held. */
	assert_false(vpic_intr_pending(&pic));
	/* 0 is above it: nests. */
	pulse(&pic, 0);
	assert_int_equal(vpic_intr_ack(&pic), 0x30);
	/* Non-specific EOI ends the highest in service (0), then 1. */
	vpic_write(&pic, 0x20, 0x20);
	assert_false(vpic_intr_pending(&pic));
	vpic_write(&pic, 0x20, 0x20);
	assert_true(vpic_intr_pending(&pic));
	assert_int_equal(vpic_intr_ack(&pic), 0x33);
	/* Rotate on non-specific EOI (0xa0) counts as the EOI. */
	vpic_write(&pic, 0x20, 0xa0);
	vpic_write(&pic, 0x20, 0x0b);
	assert_int_equal(rd(&pic, 0x20), 0);
	/* A slave line in service blocks lower slave lines and, through
	 * IRQ 2, lower master lines; higher master lines still nest. */
	pulse(&pic, 9);
	assert_int_equal(vpic_intr_ack(&pic), 0x39);
	pulse(&pic, 10);
	pulse(&pic, 5);
	assert_false(vpic_intr_pending(&pic));
	pulse(&pic, 1);
	assert_int_equal(vpic_intr_ack(&pic), 0x31);
}

static void test_edge_latching(void **state)
{
	struct vpic pic;

	(void)state;
	linux_pic(&pic);
	/* A line held high requests once. */
	vpic_set_irq(&pic, 4, true);
	assert_int_equal(vpic_intr_ack(&pic), 0x34);
	vpic_write(&pic, 0x20, 0x20);
	vpic_set_irq(&pic, 4, true);
	assert_false(vpic_intr_pending(&pic));
	/* The request survives the line falling before INTA. */
	vpic_set_irq(&pic, 4, false);
	vpic_set_irq(&pic, 4, true);
	vpic_set_irq(&pic, 4, false);
	assert_int_equal(vpic_intr_ack(&pic), 0x34);
	vpic_write(&pic, 0x20, 0x20);
	/* Masked, it is latched all the same and comes when unmasked. */
	vpic_write(&pic, 0x21, 0x40);
	pulse(&pic, 6);
	assert_false(vpic_intr_pending(&pic));
	vpic_write(&pic, 0x21, 0x00);
	assert_int_equal(vpic_intr_ack(&pic), 0x36);
	/* IRQ 2 is the cascade, and lines past 15 do not exist. */
	vpic_write(&pic, 0x20, 0x20);
	pulse(&pic, 2);
	pulse(&pic, 16);
	pulse(&pic, 0xffffffffu);
	assert_false(vpic_intr_pending(&pic));
}

static void test_spurious(void **state)
{
	struct vpic pic;

	(void)state;
	linux_pic(&pic);
	pulse(&pic, 5);
	assert_true(vpic_intr_pending(&pic));
	/* The guest masks it before it takes the interrupt. */
	vpic_write(&pic, 0x21, 0x20);
	assert_int_equal(vpic_intr_ack(&pic), 0x37);
	vpic_write(&pic, 0x20, 0x0b);
	assert_int_equal(rd(&pic, 0x20), 0);    /* no ISR bit for it */
	/* Without INTR reported, nothing at all. */
	assert_int_equal(vpic_intr_ack(&pic), -1);
}

static void test_auto_eoi_and_icw_forms(void **state)
{
	struct vpic pic;

	(void)state;
	vpic_init(&pic);
	vpic_write(&pic, 0x20, 0x11);
	vpic_write(&pic, 0x21, 0x20 | 5);   /* low bits of ICW2 ignored */
	vpic_write(&pic, 0x21, 0x04);
	vpic_write(&pic, 0x21, 0x03);       /* 8086, auto-EOI */
	vpic_write(&pic, 0x21, 0x00);       /* now OCW1 */
	pulse(&pic, 1);
	assert_int_equal(vpic_intr_ack(&pic), 0x21);
	vpic_write(&pic, 0x20, 0x0b);
	assert_int_equal(rd(&pic, 0x20), 0);
	/* Single chip, no ICW4 (0x12): ICW2 then straight to OCW1. */
	vpic_write(&pic, 0x20, 0x12);
	assert_int_equal(rd(&pic, 0x21), 0);    /* init clears IMR */
	vpic_write(&pic, 0x21, 0x48);
	vpic_write(&pic, 0x21, 0xfe);
	assert_int_equal(rd(&pic, 0x21), 0xfe);
	pulse(&pic, 0);
	assert_int_equal(vpic_intr_ack(&pic), 0x48);
	vpic_write(&pic, 0x20, 0x0b);
	assert_int_equal(rd(&pic, 0x20), 1);    /* no auto-EOI any more */
	/* OCW3 without RR keeps the selection; poll is a no-op. */
	vpic_write(&pic, 0x20, 0x0c);
	assert_int_equal(rd(&pic, 0x20), 1);
}

static void test_elcr(void **state)
{
	struct vpic pic;

	(void)state;
	vpic_init(&pic);
	assert_true(vpic_write(&pic, 0x4d0, 0xff));
	assert_true(vpic_write(&pic, 0x4d1, 0xff));
	assert_int_equal(rd(&pic, 0x4d0), 0xf8);
	assert_int_equal(rd(&pic, 0x4d1), 0xde);
}

static void test_save_load_checks(void **state)
{
	struct vpic pic, back;
	uint8_t s[VPIC_SAVE_SIZE], bad[VPIC_SAVE_SIZE], again[VPIC_SAVE_SIZE];

	(void)state;
	linux_pic(&pic);
	pulse(&pic, 3);
	pulse(&pic, 11);
	/* The cascade (line 2) is above line 3. */
	assert_int_equal(vpic_intr_ack(&pic), 0x3b);
	vpic_save(&pic, s);
	memset(&back, 0xee, sizeof(back));
	assert_true(vpic_load(&back, s));
	vpic_save(&back, again);
	assert_memory_equal(s, again, sizeof(s));
	vpic_write(&back, 0xa0, 0x20);
	assert_false(vpic_intr_pending(&back));
	vpic_write(&back, 0x20, 0x20);
	assert_int_equal(vpic_intr_ack(&back), 0x33);

	/* Fields out of range: ICW2 low bits, an init step of 5, IRR on the
	 * master's cascade line, ELCR reserved bits, a flag of 2. */
	static const struct { size_t off; uint8_t v; } cases[] = {
		{ 5, 0x31 }, { 9, 5 }, { 9, 1 }, { 0, 0x04 }, { 4, 0x01 },
		{ 11 + 4, 0x01 }, { 10, 2 }, { 22, 2 }, { 6, 0x01 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		memcpy(bad, s, sizeof(s));
		bad[cases[i].off] = cases[i].v;
		memset(&back, 0xee, sizeof(back));
		assert_false(vpic_load(&back, bad));
		for (size_t j = 0; j < sizeof(back); j++)
			assert_int_equal(((uint8_t *)&back)[j], 0xee);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_on_and_probe),
		cmocka_unit_test(test_linux_init_vectors),
		cmocka_unit_test(test_priority_and_nesting),
		cmocka_unit_test(test_edge_latching),
		cmocka_unit_test(test_spurious),
		cmocka_unit_test(test_auto_eoi_and_icw_forms),
		cmocka_unit_test(test_elcr),
		cmocka_unit_test(test_save_load_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
