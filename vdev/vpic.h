/*
 * Two 8259A interrupt controllers as a PC wires them: the master at
 * 0x20/0x21 with the slave's output on its line 2, the slave at 0xA0/0xA1
 * (IRQs 8-15), and the edge/level control registers (ELCR) at 0x4D0/0x4D1.
 * Every line is edge-triggered: a request is latched in IRR on a 0->1 of
 * its input and stays there until the CPU takes it (vdev/README.md).
 */
#ifndef CUSTOS_VDEV_VPIC_H
#define CUSTOS_VDEV_VPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VPIC_SAVE_SIZE 23

struct vpic_chip {
	uint8_t irr;        /* requests latched, not yet taken */
	uint8_t isr;        /* in service: taken, not yet ended by an EOI */
	uint8_t imr;        /* masked lines (OCW1) */
	uint8_t lines;      /* input levels, to see a 0->1 */
	uint8_t elcr;       /* stored for the guest; every line is edge */
	uint8_t base;       /* ICW2: the vector of line 0 (multiple of 8) */
	uint8_t icw1;       /* of the last init: whether ICW3 and ICW4 come */
	uint8_t icw3;       /* stored only: the wiring is fixed */
	uint8_t icw4;       /* bit 1: auto-EOI */
	uint8_t init_step;  /* 0 ready, else the ICW (2..4) expected next */
	bool read_isr;      /* OCW3: the command port reads ISR, else IRR */
};

struct vpic {
	struct vpic_chip chip[2];  /* master, slave */
	bool intr_seen;            /* INTR reported to the CPU, not yet taken */
};

void vpic_init(struct vpic *pic);

/* The input line of IRQ irq (0-15; 2 is the cascade and ignored) is now
 * at level. */
void vpic_set_irq(struct vpic *pic, unsigned int irq, bool level);

/* Port access for 0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1 (bytes); false for
 * any other port. */
bool vpic_read(struct vpic *pic, uint16_t port, uint8_t *value);
bool vpic_write(struct vpic *pic, uint16_t port, uint8_t value);

/* Whether the master's INT output is asserted (noted: an INTA after it
 * has vanished gets the spurious vector). */
bool vpic_intr_pending(struct vpic *pic);

/* INTA: the vector; the spurious IRQ 7 vector when INTR was reported but
 * the request vanished since; -1 when there was none. */
int vpic_intr_ack(struct vpic *pic);

void vpic_save(const struct vpic *pic, uint8_t out[VPIC_SAVE_SIZE]);
/* false for any field out of range; pic is written only when true. */
bool vpic_load(struct vpic *pic, const uint8_t in[VPIC_SAVE_SIZE]);

#endif
