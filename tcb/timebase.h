/*
 * The platform's time base: how many TSC ticks make a second (docs/boot.md,
 * "TSC rate"). The hypervisor decides it once at boot (hv/tsc_rate.c) and
 * tells every VM in its boot info (custos_boot_info.tsc_hz), so that guests
 * -- the TPGVM's deadlines above all -- can count in seconds.
 *
 * Two sources, and the rule that picks one (the arithmetic lives here, in
 * portable code, so the host tests can check it):
 *   - CPUID: leaf 0x15 gives TSC = crystal Hz * EBX / EAX (SDM Vol. 2A,
 *     CPUID leaf 15H); when the crystal (ECX) is not enumerated, leaf 0x16
 *     EAX gives the processor base frequency in MHz, at which the TSC of
 *     Intel processors since Skylake runs (SDM Vol. 3B 18.17, "Time-Stamp
 *     Counter").
 *   - a measurement: TSC ticks over a known span of a platform timer (the
 *     8254 PIT's channel 2 in hv/tsc_rate.c).
 * CPUID is exact when it is true, but an emulator may claim what its TSC
 * does not keep (Bochs says 3.5 GHz while its TSC counts instructions), so
 * it is taken only when the measurement agrees within TIMEBASE_AGREE_PCT;
 * otherwise the measurement wins. Neither: TIMEBASE_ASSUMED_HZ, said loudly.
 */
#ifndef CUSTOS_TCB_TIMEBASE_H
#define CUSTOS_TCB_TIMEBASE_H

#include <custos/types.h>

/* The 8254's input clock: 14.31818 MHz / 12 (the PC's 1.193182 MHz). */
#define TIMEBASE_PIT_HZ      1193182u
/* Rates outside this are not a TSC's: measurement or CPUID gone wrong.
 * The low end admits an emulator run at a low instruction rate. */
#define TIMEBASE_MIN_HZ      100000ull
#define TIMEBASE_MAX_HZ      100000000000ull
#define TIMEBASE_AGREE_PCT   2u
/* When nothing gives a rate: high, so that a deadline computed from it is
 * never shorter than it says on a TSC of up to 5 GHz (only longer). */
#define TIMEBASE_ASSUMED_HZ  5000000000ull

enum timebase_source {
	TIMEBASE_NONE = 0,
	TIMEBASE_CPUID_CRYSTAL, /* leaf 0x15 with the crystal's frequency */
	TIMEBASE_CPUID_BASE,    /* leaf 0x15 ratio unusable or no crystal; leaf 0x16 */
	TIMEBASE_MEASURED,      /* TSC ticks over a platform timer's span */
	TIMEBASE_ASSUMED,       /* nothing worked: TIMEBASE_ASSUMED_HZ */
};

/* What CPUID says (0 where the leaf is beyond max_leaf). */
struct timebase_cpuid {
	uint32_t max_leaf;             /* leaf 0 EAX */
	uint32_t l15_eax, l15_ebx, l15_ecx;
	uint32_t l16_eax;
};

/* The TSC rate CPUID enumerates, and from which leaf; 0 (and
 * TIMEBASE_NONE) when it enumerates none in range. */
uint64_t timebase_from_cpuid(const struct timebase_cpuid *c,
			     enum timebase_source *source);

/* The TSC rate from tsc_ticks counted over timer_ticks of a timer running
 * at timer_hz (rounded to the nearest Hz); 0 when out of range or when the
 * product would overflow. */
uint64_t timebase_from_timer(uint64_t tsc_ticks, uint64_t timer_ticks,
			     uint64_t timer_hz);

/* The rule above: cpuid_hz (from cpuid_source) if measured_hz agrees or
 * there is no measurement, else measured_hz, else TIMEBASE_ASSUMED_HZ;
 * *source says which. */
uint64_t timebase_choose(uint64_t cpuid_hz, enum timebase_source cpuid_source,
			 uint64_t measured_hz, enum timebase_source *source);

/*
 * A span of TSC ticks: seconds of waiting at hz ticks a second, plus
 * work_cycles for computation the waiting side must do meanwhile (which
 * takes cycles, not seconds: on an emulated CPU of a few MIPS a TLS
 * handshake is a minute of platform time). Saturates at UINT64_MAX.
 */
uint64_t timebase_span(uint64_t hz, uint32_t seconds, uint64_t work_cycles);

/*
 * Another clock's rate against the TSC: ticks of it per tsc cycles, as
 * measured over one span (hv/lapic_timer.c measures the local APIC timer
 * this way). Both below 2^32, so products of two fit in 64 bits.
 */
struct timebase_ratio {
	uint32_t ticks;
	uint32_t tsc;
};

/* The middle one of three measurements of the same rate: one disturbed
 * measurement (an emulator descheduled between two reads) is dropped,
 * whichever way it errs. */
struct timebase_ratio timebase_ratio_median(const struct timebase_ratio m[3]);

/* tsc_cycles in ticks of the clock r describes, rounded up (a timer set
 * with it never fires early), at least 1 (a count of 0 stops a LAPIC
 * timer), at most UINT32_MAX (the width of its count). 0 when r is not a
 * rate (ticks or tsc 0). */
uint32_t timebase_ratio_ticks(struct timebase_ratio r, uint64_t tsc_cycles);

/* "cpuid leaf 0x15", "measured", ...: for the boot log. */
const char *timebase_source_name(enum timebase_source s);

/*
 * A date and time of the proleptic Gregorian calendar (UTC, as the
 * platform's RTC keeps it) as seconds since 1970-01-01 00:00:00; 0 for
 * anything out of range (year 1970..9999, month 1..12, day 1..days of that
 * month, hour < 24, minute < 60, second < 60).
 */
uint64_t timebase_civil_seconds(unsigned year, unsigned month, unsigned day,
				unsigned hour, unsigned minute, unsigned second);

/* The wall clock of this boot: seconds since 1970 at TSC value tsc, for
 * the VMs' virtual RTCs (vdev/vrtc.h); 0 when unknown. */
void timebase_set_wall(uint64_t seconds, uint64_t tsc);
uint64_t timebase_wall_at(uint64_t tsc);

/* The rate of this boot: set once by the hypervisor, read by whoever
 * writes a boot info (tcb/lifecycle.c). 0 until set. */
void timebase_set(uint64_t hz);
uint64_t timebase_tsc_hz(void);

#endif
