/* Port I/O on a vplatform for the vdev tests: the guest's IN and OUT. */
#ifndef CUSTOS_TESTS_VDEV_IO_H
#define CUSTOS_TESTS_VDEV_IO_H

#include "vdev/vplatform.h"

/* 2.5 GHz, a typical TSC; and the TSC of n PIT clocks at that rate. */
#define HZ_TSC 2500000000ull

static inline enum vio_result io(struct vplatform *p, uint16_t port,
				  uint8_t size, bool in, uint32_t *value,
				  uint64_t now)
{
	struct vio_access a = { .port = port, .size = size, .in = in,
				.value = value ? *value : 0 };
	enum vio_result r = vplatform_io(p, &a, now);

	if (value)
		*value = a.value;
	return r;
}

static inline uint8_t inb(struct vplatform *p, uint16_t port, uint64_t now)
{
	uint32_t v = 0x12345678;

	io(p, port, 1, true, &v, now);
	return (uint8_t)v;
}

static inline enum vio_result outb(struct vplatform *p, uint16_t port,
				   uint8_t v8, uint64_t now)
{
	uint32_t v = v8;

	return io(p, port, 1, false, &v, now);
}

/* Linux's init_8259A(0): vectors 0x30 and 0x38, then IRQ 0 and the
 * cascade unmasked. */
static inline void linux_init_pic(struct vplatform *p, uint64_t now)
{
	outb(p, 0x21, 0xff, now);
	outb(p, 0xa1, 0xff, now);
	outb(p, 0x20, 0x11, now);
	outb(p, 0x21, 0x30, now);
	outb(p, 0x21, 0x04, now);
	outb(p, 0x21, 0x01, now);
	outb(p, 0xa0, 0x11, now);
	outb(p, 0xa1, 0x38, now);
	outb(p, 0xa1, 0x02, now);
	outb(p, 0xa1, 0x01, now);
	outb(p, 0x21, 0xfa, now);
	outb(p, 0xa1, 0xff, now);
}

#endif
