/*
 * One guest port access and what became of it: the vocabulary shared by
 * vdev/vplatform.h and the device files (which vplatform.h includes, so the
 * types live here, before them).
 */
#ifndef CUSTOS_VDEV_VIO_H
#define CUSTOS_VDEV_VIO_H

#include <stdbool.h>
#include <stdint.h>

/* One IN or OUT of size 1, 2 or 4 bytes; for IN the device fills value. */
struct vio_access {
	uint16_t port;
	uint8_t size;
	bool in;
	uint32_t value;
};

enum vio_result {
	VIO_DONE,       /* a device took it */
	VIO_TX,         /* the UART sent the byte in value: the VM's console */
	VIO_UNCLAIMED,  /* no device there: reads all ones, writes ignored */
	VIO_RESET,      /* the guest reset itself (i8042 0xFE, 0xCF9, 0x92) */
};

#endif
