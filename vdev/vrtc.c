#include "vdev/vrtc.h"
#include "vdev/vtime.h"
#include "tcb/byteorder.h"

#define REG_A_UIP   0x80
#define REG_B_24H   0x02
#define REG_B_BIN   0x04
#define REG_D_VRT   0x80   /* valid RAM and time */
#define CENTURY     0x32
#define DAY_SECONDS 86400u

void vrtc_init(struct vrtc *rtc, uint64_t tsc_hz, uint64_t wall_seconds,
	       uint64_t now)
{
	*rtc = (struct vrtc){
		.tsc_hz = tsc_hz, .wall = wall_seconds, .start = now,
		.reg_a = 0x26,            /* 32.768 kHz divider, 1024 Hz rate */
		.reg_b = REG_B_24H,       /* BCD, 24-hour: what firmware sets */
	};
}

struct vrtc_date vrtc_civil_from_days(uint64_t days)
{
	/* H. Hinnant's days_from_civil inverse, in unsigned arithmetic:
	 * eras of 400 years (146097 days) from 0000-03-01, the year starting
	 * in March so that the leap day is its last. 719468 days lie between
	 * 0000-03-01 and 1970-01-01; days <= 2^64 / 86400 + 1 here, so no
	 * sum below wraps. */
	uint64_t z = days + 719468, era = z / 146097, doe = z % 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;
	struct vrtc_date d;

	d.day = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
	d.month = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);
	d.year = yoe + era * 400 + (d.month <= 2);
	return d;
}

static uint64_t seconds_at(const struct vrtc *rtc, uint64_t now)
{
	return vtime_add_sat(rtc->wall, (now - rtc->start) / rtc->tsc_hz);
}

static uint8_t encode(const struct vrtc *rtc, unsigned int v)
{
	if (rtc->reg_b & REG_B_BIN)
		return (uint8_t)v;
	return (uint8_t)((v / 10) << 4 | v % 10);
}

static uint8_t hour(const struct vrtc *rtc, unsigned int h)
{
	unsigned int h12;

	if (rtc->reg_b & REG_B_24H)
		return encode(rtc, h);
	/* 12-hour: 12 AM, 1-11 AM, 12 PM, 1-11 PM; bit 7 says PM. */
	h12 = h % 12 ? h % 12 : 12;
	return (uint8_t)(encode(rtc, h12) | (h >= 12 ? 0x80 : 0));
}

static uint8_t time_register(const struct vrtc *rtc, unsigned int reg,
			     uint64_t now)
{
	uint64_t s = seconds_at(rtc, now), days = s / DAY_SECONDS;
	unsigned int sod = (unsigned int)(s % DAY_SECONDS);
	struct vrtc_date d = vrtc_civil_from_days(days);

	switch (reg) {
	case 0:
		return encode(rtc, sod % 60);
	case 2:
		return encode(rtc, sod / 60 % 60);
	case 4:
		return hour(rtc, sod / 3600);
	case 6:
		return encode(rtc, (unsigned int)((days + 4) % 7) + 1); /* Sun 1 */
	case 7:
		return encode(rtc, d.day);
	case 8:
		return encode(rtc, d.month);
	case 9:
		return encode(rtc, (unsigned int)(d.year % 100));
	default:
		return encode(rtc, (unsigned int)(d.year / 100 % 100));
	}
}

static uint8_t data(const struct vrtc *rtc, uint64_t now)
{
	unsigned int reg = rtc->index & 0x7f;

	switch (reg) {
	case 0: case 2: case 4: case 6: case 7: case 8: case 9: case CENTURY:
		return time_register(rtc, reg, now);
	case 0x0a:
		return rtc->reg_a;      /* never in an update: UIP 0 */
	case 0x0b:
		return rtc->reg_b;
	case 0x0d:
		return REG_D_VRT;
	default:
		return 0;   /* register C (no interrupt flags), alarms, RAM */
	}
}

bool vrtc_read(struct vrtc *rtc, uint16_t port, uint8_t *value, uint64_t now)
{
	if (port == 0x70)
		*value = rtc->index;
	else if (port == 0x71)
		*value = data(rtc, now);
	else
		return false;
	return true;
}

bool vrtc_write(struct vrtc *rtc, uint16_t port, uint8_t value)
{
	if (port == 0x70) {
		rtc->index = value;
	} else if (port == 0x71) {
		/* Only the format and divider bits take writes: the time is
		 * the host's, whatever the SET bit says. */
		if ((rtc->index & 0x7f) == 0x0a)
			rtc->reg_a = value & ~REG_A_UIP;
		else if ((rtc->index & 0x7f) == 0x0b)
			rtc->reg_b = value;
	} else {
		return false;
	}
	return true;
}

void vrtc_save(const struct vrtc *rtc, uint64_t now,
	       uint8_t out[VRTC_SAVE_SIZE])
{
	store_le64(out, seconds_at(rtc, now));
	store_le64(out + 8, (now - rtc->start) % rtc->tsc_hz);
	out[16] = rtc->index;
	out[17] = rtc->reg_a;
	out[18] = rtc->reg_b;
}

bool vrtc_load(struct vrtc *rtc, const uint8_t in[VRTC_SAVE_SIZE],
	       uint64_t saved_hz, uint64_t tsc_hz, uint64_t now)
{
	uint64_t frac = load_le64(in + 8);

	if (frac >= saved_hz || in[17] & REG_A_UIP)
		return false;
	/* Rounded down: less than a second at either rate. */
	frac = vtime_muldiv(frac, tsc_hz, saved_hz, false);
	*rtc = (struct vrtc){
		.tsc_hz = tsc_hz, .wall = load_le64(in), .start = now - frac,
		.index = in[16], .reg_a = in[17], .reg_b = in[18],
	};
	return true;
}
