/*
 * A 16550A UART at 0x3F8 (IRQ 4): the VM's console. Transmission is
 * instant (every byte written to THR goes to the caller at once), so THR
 * and the transmitter are always empty. Received bytes wait in one bounded
 * ring, which stands for the 16-byte FIFO and the console buffer behind it.
 */
#ifndef CUSTOS_VDEV_VUART_H
#define CUSTOS_VDEV_VUART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VUART_BASE 0x3f8
#define VUART_IRQ 4
#define VUART_RING 256
#define VUART_SAVE_SIZE (VUART_RING + 2 + 2 + 8 + 2)

struct vuart {
	uint8_t ring[VUART_RING];  /* received, not yet read */
	uint16_t head;             /* index of the oldest byte */
	uint16_t count;            /* bytes in the ring */
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thre_pending;         /* THR-empty interrupt not yet cleared */
	bool overrun;              /* LSR OE: a loopback byte was dropped */
};

void vuart_init(struct vuart *u);

/* Register reg (0-7) of the UART. A write returns true when it sent
 * the byte *tx (THR outside loopback). */
uint8_t vuart_read(struct vuart *u, unsigned int reg);
bool vuart_write(struct vuart *u, unsigned int reg, uint8_t value,
		 uint8_t *tx);

/* Bytes from the console into the receive ring; how many it took (none in
 * loopback, where the receiver listens to the transmitter only). */
size_t vuart_rx(struct vuart *u, const uint8_t *bytes, size_t n);

/* The level of the IRQ 4 line: an interrupt pending and MCR OUT2 set. */
bool vuart_irq(const struct vuart *u);

void vuart_save(const struct vuart *u, uint8_t out[VUART_SAVE_SIZE]);
bool vuart_load(struct vuart *u, const uint8_t in[VUART_SAVE_SIZE]);

#endif
