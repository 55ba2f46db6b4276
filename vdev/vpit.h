/*
 * The 8254 programmable interval timer at 0x40-0x43. Counts are not
 * stepped: each channel keeps the TSC value at which its count was loaded,
 * and its count and OUT are computed from the TSC elapsed since, at the
 * 8254's 1.193182 MHz. Channel 0's OUT drives IRQ 0; channel 2's gate and
 * OUT are bits 0 and 5 of port 0x61 (vdev/vmisc.h).
 */
#ifndef CUSTOS_VDEV_VPIT_H
#define CUSTOS_VDEV_VPIT_H

#include <stdbool.h>
#include <stdint.h>

#define VPIT_HZ 1193182u
#define VPIT_CHANNEL_SAVE 26
#define VPIT_SAVE_SIZE (3 * VPIT_CHANNEL_SAVE)

struct vpit_channel {
	uint64_t start;      /* TSC at which the running count was loaded */
	uint64_t held;       /* TSC cycles counted before the gate stopped it */
	uint64_t edges;      /* rising edges of OUT already signalled */
	uint16_t reload;     /* the count written (0 means 65536) */
	uint16_t latch;      /* a latched count, while latched */
	uint8_t mode;        /* 0-5 */
	uint8_t access;      /* 1 LSB only, 2 MSB only, 3 LSB then MSB */
	uint8_t bcd;         /* stored for the status byte; counts binary */
	uint8_t lsb;         /* the LSB of a count being written */
	uint8_t status;      /* a latched status byte, while status_latched */
	bool gate;
	bool loaded;         /* a count was written since the control word */
	bool armed;          /* counting began (modes 1 and 5: gate rose) */
	bool paused;         /* gate low in mode 0, 2, 3 or 4: count held */
	bool write_msb;      /* LSB written, the MSB of the count next */
	bool read_msb;       /* LSB read, the MSB next */
	bool latched;
	bool status_latched;
};

struct vpit {
	uint64_t tsc_hz;
	struct vpit_channel ch[3];
};

void vpit_init(struct vpit *pit, uint64_t tsc_hz);

/* Ports 0x40-0x43 (bytes); false for any other port. */
bool vpit_read(struct vpit *pit, uint16_t port, uint8_t *value, uint64_t now);
bool vpit_write(struct vpit *pit, uint16_t port, uint8_t value, uint64_t now);

/* Channel c's gate input (channels 0 and 1 are wired high). */
void vpit_set_gate(struct vpit *pit, unsigned int c, bool level, uint64_t now);
/* Channel c's OUT at now. */
bool vpit_out(const struct vpit *pit, unsigned int c, uint64_t now);

/* Whether channel 0's OUT rose since the last call: IRQ 0 has an edge to
 * deliver (any number of periods since count as one, as a slow CPU loses
 * them on a PC). */
bool vpit_advance(struct vpit *pit, uint64_t now);

/* The TSC of channel 0's next rising edge not yet signalled (<= now when
 * one is due); UINT64_MAX when none will come. */
uint64_t vpit_next_deadline(const struct vpit *pit, uint64_t now);

/* Relative to now: counts are saved as the TSC cycles elapsed at the
 * saving rate (in the platform's header), which load rescales. */
void vpit_save(const struct vpit *pit, uint64_t now,
	       uint8_t out[VPIT_SAVE_SIZE]);
bool vpit_load(struct vpit *pit, const uint8_t in[VPIT_SAVE_SIZE],
	       uint64_t saved_hz, uint64_t tsc_hz, uint64_t now);

#endif
