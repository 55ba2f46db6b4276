/*
 * The virtual 16550A (vdev/vuart.c) through the platform: Linux 8250
 * autoconfig (scratch IER test, loopback MSR test, FIFO detection, no
 * 16750), the THRE interrupt and its re-raise (UART_BUG_THRE test),
 * transmission as VIO_TX, receive interrupts after vplatform_rx, the
 * bounded ring, loopback, OUT2 gating of IRQ 4, divisor latch.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vdev/vplatform.h"
#include "vdev_io.h"

#define COM1 0x3f8
#define T0 5000ull

static void setup(struct vplatform *p)
{
	vplatform_init(p, HZ_TSC, 0, T0);
	linux_init_pic(p, T0);
	outb(p, 0x21, 0xea, T0);   /* IRQ 0, 2 and 4 unmasked */
}

static void test_autoconfig(void **state)
{
	struct vplatform p;
	uint8_t v;

	(void)state;
	setup(&p);
	/* Scratch test of IER: only the low nibble holds. */
	outb(&p, COM1 + 1, 0x00, T0);
	assert_int_equal(inb(&p, COM1 + 1, T0) & 0x0f, 0);
	outb(&p, COM1 + 1, 0xff, T0);
	assert_int_equal(inb(&p, COM1 + 1, T0), 0x0f);
	outb(&p, COM1 + 1, 0x00, T0);
	/* Loopback: MSR follows MCR (RTS|OUT2 -> CTS|DCD = 0x90). */
	outb(&p, COM1 + 4, 0x1a, T0);
	assert_int_equal(inb(&p, COM1 + 6, T0) & 0xf0, 0x90);
	outb(&p, COM1 + 4, 0x1f, T0);
	assert_int_equal(inb(&p, COM1 + 6, T0) & 0xf0, 0xf0);
	outb(&p, COM1 + 4, 0x00, T0);
	/* A terminal is present: DCD, DSR, CTS. */
	assert_int_equal(inb(&p, COM1 + 6, T0), 0xb0);
	/* FIFO detection: IIR bits 7-6 after FCR enable (EFR write on
	 * LCR 0xbf first, which a 16550A takes as FCR 0). */
	outb(&p, COM1 + 3, 0xbf, T0);
	outb(&p, COM1 + 2, 0x00, T0);
	outb(&p, COM1 + 3, 0x00, T0);
	outb(&p, COM1 + 2, 0x01, T0);
	assert_int_equal(inb(&p, COM1 + 2, T0) >> 6, 3);
	/* Not a 16750: IIR bit 5 never set, with or without DLAB. */
	outb(&p, COM1 + 3, 0x80, T0);
	outb(&p, COM1 + 2, 0x21, T0);
	v = inb(&p, COM1 + 2, T0);
	outb(&p, COM1 + 3, 0x00, T0);
	assert_int_equal(v >> 5, 6);
	assert_int_equal(inb(&p, COM1 + 2, T0) >> 5, 6);
	/* FIFO off: IIR shows none of it. */
	outb(&p, COM1 + 2, 0x00, T0);
	assert_int_equal(inb(&p, COM1 + 2, T0), 0x01);
	/* Scratch register. */
	outb(&p, COM1 + 7, 0xa5, T0);
	assert_int_equal(inb(&p, COM1 + 7, T0), 0xa5);
	/* LSR: transmitter always empty. */
	assert_int_equal(inb(&p, COM1 + 5, T0), 0x60);
}

static void test_divisor_latch(void **state)
{
	struct vplatform p;

	(void)state;
	setup(&p);
	outb(&p, COM1 + 3, 0x83, T0);
	outb(&p, COM1 + 0, 0x01, T0);     /* 115200 */
	outb(&p, COM1 + 1, 0x00, T0);
	assert_int_equal(inb(&p, COM1 + 0, T0), 0x01);
	assert_int_equal(inb(&p, COM1 + 1, T0), 0x00);
	outb(&p, COM1 + 3, 0x03, T0);
	assert_int_equal(inb(&p, COM1 + 3, T0), 0x03);
	/* The divisor write was no byte sent and no IER change. */
	assert_int_equal(inb(&p, COM1 + 1, T0), 0x00);
}

static void test_transmit_and_thre_interrupt(void **state)
{
	struct vplatform p;
	uint32_t v = 'A';
	uint8_t iir1, iir2;

	(void)state;
	setup(&p);
	assert_int_equal(io(&p, COM1, 1, false, &v, T0), VIO_TX);
	assert_int_equal(v, 'A');
	/* Linux's UART_BUG_THRE test: THRI raised on enabling, cleared by
	 * reading IIR, raised again on enabling again. */
	outb(&p, COM1 + 4, 0x08, T0);     /* OUT2 */
	outb(&p, COM1 + 1, 0x02, T0);
	iir1 = inb(&p, COM1 + 2, T0);
	outb(&p, COM1 + 1, 0x00, T0);
	outb(&p, COM1 + 1, 0x02, T0);
	iir2 = inb(&p, COM1 + 2, T0);
	assert_int_equal(iir1, 0x02);
	assert_int_equal(iir2, 0x02);
	assert_int_equal(inb(&p, COM1 + 2, T0), 0x01);
	/* The edges of the test latched IRQ 4 (an edge PIC keeps it). */
	assert_int_equal(vplatform_intr_ack(&p, T0), 0x34);
	outb(&p, 0x20, 0x20, T0);
	assert_false(vplatform_intr_pending(&p, T0));
	/* Each byte sent makes THR empty again: an edge on IRQ 4. */
	v = 'B';
	assert_int_equal(io(&p, COM1, 1, false, &v, T0), VIO_TX);
	assert_true(vplatform_intr_pending(&p, T0));
	assert_int_equal(vplatform_intr_ack(&p, T0), 0x34);
	assert_int_equal(inb(&p, COM1 + 2, T0), 0x02);
	outb(&p, 0x20, 0x20, T0);
	assert_false(vplatform_intr_pending(&p, T0));
	/* Without OUT2 the line stays low. */
	outb(&p, COM1 + 4, 0x00, T0);
	v = 'C';
	io(&p, COM1, 1, false, &v, T0);
	assert_false(vplatform_intr_pending(&p, T0));
	/* ... and rises when OUT2 is set with the interrupt pending. */
	outb(&p, COM1 + 4, 0x08, T0);
	assert_int_equal(vplatform_intr_ack(&p, T0), 0x34);
}

static void test_receive(void **state)
{
	struct vplatform p;
	uint8_t buf[300];

	(void)state;
	setup(&p);
	outb(&p, COM1 + 2, 0x07, T0);     /* FIFO on, cleared */
	outb(&p, COM1 + 4, 0x0b, T0);
	outb(&p, COM1 + 1, 0x01, T0);
	assert_int_equal(inb(&p, COM1 + 2, T0), 0xc1);
	assert_int_equal(vplatform_rx(&p, (const uint8_t *)"hi", 2, T0), 2);
	assert_int_equal(inb(&p, COM1 + 5, T0), 0x61);
	assert_int_equal(inb(&p, COM1 + 2, T0), 0xc4);
	assert_true(vplatform_intr_pending(&p, T0));
	assert_int_equal(vplatform_intr_ack(&p, T0), 0x34);
	outb(&p, 0x20, 0x20, T0);
	assert_int_equal(inb(&p, COM1, T0), 'h');
	assert_int_equal(inb(&p, COM1, T0), 'i');
	assert_int_equal(inb(&p, COM1 + 5, T0), 0x60);
	assert_int_equal(inb(&p, COM1 + 2, T0), 0xc1);
	/* Empty: RBR reads 0. */
	assert_int_equal(inb(&p, COM1, T0), 0);
	/* The ring is bounded: the rest is the caller's to retry. */
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	assert_int_equal(vplatform_rx(&p, buf, sizeof(buf), T0), VUART_RING);
	assert_int_equal(vplatform_rx(&p, buf, 1, T0), 0);
	for (size_t i = 0; i < VUART_RING; i++)
		assert_int_equal(inb(&p, COM1, T0), (uint8_t)i);
	/* FCR bit 1 empties it. */
	vplatform_rx(&p, buf, 10, T0);
	outb(&p, COM1 + 2, 0x03, T0);
	assert_int_equal(inb(&p, COM1 + 5, T0) & 1, 0);
}

static void test_loopback(void **state)
{
	struct vplatform p;
	uint32_t v = 'x';

	(void)state;
	setup(&p);
	outb(&p, COM1 + 4, 0x10, T0);
	/* Sent to the receiver, not to the console. */
	assert_int_equal(io(&p, COM1, 1, false, &v, T0), VIO_DONE);
	assert_int_equal(inb(&p, COM1 + 5, T0), 0x61);
	assert_int_equal(inb(&p, COM1, T0), 'x');
	/* The console cannot send into a looped-back receiver. */
	assert_int_equal(vplatform_rx(&p, (const uint8_t *)"y", 1, T0), 0);
	/* Overrun when the ring is full, reported once in LSR. */
	for (unsigned int i = 0; i <= VUART_RING; i++)
		outb(&p, COM1, (uint8_t)i, T0);
	assert_int_equal(inb(&p, COM1 + 5, T0), 0x63);
	assert_int_equal(inb(&p, COM1 + 5, T0), 0x61);
	assert_int_equal(inb(&p, COM1, T0), 0);
	/* Other sizes are not the UART's. */
	v = 0;
	assert_int_equal(io(&p, COM1, 2, true, &v, T0), VIO_UNCLAIMED);
	assert_int_equal(v, 0xffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_autoconfig),
		cmocka_unit_test(test_divisor_latch),
		cmocka_unit_test(test_transmit_and_thre_interrupt),
		cmocka_unit_test(test_receive),
		cmocka_unit_test(test_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
