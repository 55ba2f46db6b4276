/*
 * The MC146818 real-time clock and CMOS at 0x70 (index, bit 7 the NMI
 * mask) and 0x71 (data). The clock is read-only: its registers are
 * computed from the Unix time given at init and the TSC elapsed since, in
 * BCD or binary and 12- or 24-hour form as register B says. It raises no
 * interrupts (IRQ 8), and holds no CMOS RAM (vdev/README.md).
 */
#ifndef CUSTOS_VDEV_VRTC_H
#define CUSTOS_VDEV_VRTC_H

#include <stdbool.h>
#include <stdint.h>

#define VRTC_SAVE_SIZE 19

struct vrtc {
	uint64_t tsc_hz;
	uint64_t wall;    /* Unix seconds at TSC start */
	uint64_t start;
	uint8_t index;    /* 0x70 as written: bit 7 masks NMI, 6-0 the register */
	uint8_t reg_a;    /* divider and rate bits, stored; UIP reads 0 */
	uint8_t reg_b;    /* format: bit 2 binary, bit 1 24-hour */
};

void vrtc_init(struct vrtc *rtc, uint64_t tsc_hz, uint64_t wall_seconds,
	       uint64_t now);

/* Ports 0x70 and 0x71 (bytes); false for any other port. */
bool vrtc_read(struct vrtc *rtc, uint16_t port, uint8_t *value, uint64_t now);
bool vrtc_write(struct vrtc *rtc, uint16_t port, uint8_t value);

/* The civil date of days since 1970-01-01 (proleptic Gregorian). */
struct vrtc_date {
	uint64_t year;
	unsigned int month, day;   /* 1-12, 1-31 */
};
struct vrtc_date vrtc_civil_from_days(uint64_t days);

/* Saved as Unix seconds at now and the TSC cycles into that second, at
 * the saving rate (which load rescales). */
void vrtc_save(const struct vrtc *rtc, uint64_t now,
	       uint8_t out[VRTC_SAVE_SIZE]);
bool vrtc_load(struct vrtc *rtc, const uint8_t in[VRTC_SAVE_SIZE],
	       uint64_t saved_hz, uint64_t tsc_hz, uint64_t now);

#endif
