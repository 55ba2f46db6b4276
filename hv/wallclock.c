#include "hv/wallclock.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "tcb/timebase.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA  0x71
#define RTC_A_UIP  0x80 /* an update is in progress: the registers change */
#define RTC_B_24H  0x02
#define RTC_B_BIN  0x04
#define RTC_CENTURY 0x32 /* the PC/AT location; 0 or garbage on some boards */

struct rtc_time {
	unsigned sec, min, hour, day, mon, year, century;
};

static unsigned cmos(unsigned reg)
{
	outb(CMOS_INDEX, (uint8_t)reg); /* bit 7 clear: NMI stays enabled */
	return inb(CMOS_DATA);
}

static bool update_in_progress(void)
{
	return cmos(0x0a) & RTC_A_UIP;
}

static void read_raw(struct rtc_time *t)
{
	t->sec = cmos(0x00);
	t->min = cmos(0x02);
	t->hour = cmos(0x04);
	t->day = cmos(0x07);
	t->mon = cmos(0x08);
	t->year = cmos(0x09);
	t->century = cmos(RTC_CENTURY);
}

static unsigned from_bcd(unsigned v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

/* Two equal reads outside an update: the registers were stable. */
static bool read_stable(struct rtc_time *t)
{
	struct rtc_time again;

	for (int tries = 0; tries < 1000; tries++) {
		while (update_in_progress())
			cpu_relax();
		read_raw(t);
		while (update_in_progress())
			cpu_relax();
		read_raw(&again);
		if (t->sec == again.sec && t->min == again.min &&
		    t->hour == again.hour && t->day == again.day &&
		    t->mon == again.mon && t->year == again.year)
			return true;
	}
	return false;
}

/* The RTC's fields in binary, 24-hour form (register B says which they
 * are in); returns the full year. */
static unsigned rtc_normalise(struct rtc_time *t, unsigned b)
{
	bool pm = !(b & RTC_B_24H) && (t->hour & 0x80);

	t->hour &= 0x7f;
	if (!(b & RTC_B_BIN)) {
		t->sec = from_bcd(t->sec); t->min = from_bcd(t->min);
		t->hour = from_bcd(t->hour); t->day = from_bcd(t->day);
		t->mon = from_bcd(t->mon); t->year = from_bcd(t->year);
		t->century = from_bcd(t->century);
	}
	if (!(b & RTC_B_24H))
		t->hour = (t->hour % 12) + (pm ? 12 : 0);
	return (t->century >= 19 && t->century <= 99 ? t->century : 20) * 100 +
	       t->year;
}

void wallclock_init(void)
{
	struct rtc_time t;
	unsigned b = cmos(0x0b);

	if (read_stable(&t)) {
		uint64_t tsc = rdtsc();
		unsigned year = rtc_normalise(&t, b);
		uint64_t seconds = timebase_civil_seconds(year, t.mon, t.day,
							  t.hour, t.min, t.sec);
		if (seconds) {
			timebase_set_wall(seconds, tsc);
			console_printf("rtc: %u-%02u-%02u %02u:%02u:%02u UTC\n", year,
				       t.mon, t.day, t.hour, t.min, t.sec);
			return;
		}
	}
	console_printf("rtc: unreadable, VMs' clocks start at 1970-01-01\n");
}
