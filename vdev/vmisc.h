/*
 * The PC's odds and ends that Linux touches while it boots: system control
 * port B (0x61), the POST port (0x80), an i8042 keyboard controller with
 * nothing attached (0x60/0x64), fast A20 and reset (0x92), the reset
 * control register (0xCF9), and PCI configuration mechanism 1 with no
 * devices (0xCF8, 0xCFC-0xCFF).
 */
#ifndef CUSTOS_VDEV_VMISC_H
#define CUSTOS_VDEV_VMISC_H

#include <stdbool.h>
#include <stdint.h>

#include "vdev/vio.h"

#define VMISC_SAVE_SIZE 14

struct vmisc {
	uint32_t pci_addr;   /* 0xCF8 as written (reserved bits clear) */
	uint8_t port61;      /* bits 3-0 as written: bit 0 gates PIT channel 2 */
	bool refresh;        /* bit 4 of 0x61: flips on every read */
	uint8_t port92;      /* bit 1 A20 and the others stored; bit 0 resets */
	uint8_t cf9;         /* bits as written, but bit 2 (which resets) */
	uint8_t kbc_ctr;     /* i8042 configuration byte */
	uint8_t kbc_out;     /* its output buffer */
	bool kbc_obf;        /* the output buffer holds a byte for the CPU */
	uint8_t kbc_cmd;     /* a command waiting for its data byte, or 0 */
	bool kbc_cmd_last;   /* the last write went to 0x64 (status bit 3) */
	uint8_t kbc_outport; /* output port as written by 0xD1 (bit 1 A20) */
};

void vmisc_init(struct vmisc *m);

/* Any access to a port of these devices; VIO_UNCLAIMED for other ports
 * and for sizes a port does not have. out2 is the PIT channel 2 OUT, for
 * 0x61 reads; after a 0x61 write, port61 bit 0 is the new gate. */
enum vio_result vmisc_io(struct vmisc *m, struct vio_access *a, bool out2);

void vmisc_save(const struct vmisc *m, uint8_t out[VMISC_SAVE_SIZE]);
bool vmisc_load(struct vmisc *m, const uint8_t in[VMISC_SAVE_SIZE]);

#endif
