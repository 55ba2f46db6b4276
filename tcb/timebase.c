#include "tcb/timebase.h"

static uint64_t tsc_hz;

static bool in_range(uint64_t hz)
{
	return hz >= TIMEBASE_MIN_HZ && hz <= TIMEBASE_MAX_HZ;
}

uint64_t timebase_from_cpuid(const struct timebase_cpuid *c,
			     enum timebase_source *source)
{
	uint64_t crystal = 0, base = 0;

	/* SDM Vol. 2A, CPUID leaf 15H: "If EBX[31:0] is 0, the TSC/core
	 * crystal clock ratio is not enumerated"; ECX 0: no crystal
	 * frequency. Both at most 32 bits: the product fits. */
	if (c->max_leaf >= 0x15 && c->l15_eax && c->l15_ebx && c->l15_ecx)
		crystal = (uint64_t)c->l15_ecx * c->l15_ebx / c->l15_eax;
	/* Leaf 16H EAX[15:0]: processor base frequency in MHz. */
	if (c->max_leaf >= 0x16)
		base = (uint64_t)(c->l16_eax & 0xffff) * 1000000u;
	*source = in_range(crystal) ? TIMEBASE_CPUID_CRYSTAL :
		  in_range(base) ? TIMEBASE_CPUID_BASE : TIMEBASE_NONE;
	return *source == TIMEBASE_CPUID_CRYSTAL ? crystal :
	       *source == TIMEBASE_CPUID_BASE ? base : 0;
}

uint64_t timebase_from_timer(uint64_t tsc_ticks, uint64_t timer_ticks,
			     uint64_t timer_hz)
{
	uint64_t product, hz;

	if (!timer_ticks || !timer_hz ||
	    __builtin_mul_overflow(tsc_ticks, timer_hz, &product) ||
	    __builtin_add_overflow(product, timer_ticks / 2, &product))
		return 0;
	hz = product / timer_ticks;
	return in_range(hz) ? hz : 0;
}

/* |a - b| within TIMEBASE_AGREE_PCT percent of b (b in range: no overflow). */
static bool agree(uint64_t a, uint64_t b)
{
	uint64_t diff = a > b ? a - b : b - a;

	return diff <= b / 100 * TIMEBASE_AGREE_PCT;
}

uint64_t timebase_choose(uint64_t cpuid_hz, enum timebase_source cpuid_source,
			 uint64_t measured_hz, enum timebase_source *source)
{
	bool have_cpuid = cpuid_source != TIMEBASE_NONE && in_range(cpuid_hz);
	bool have_measured = in_range(measured_hz);

	if (have_cpuid && (!have_measured || agree(cpuid_hz, measured_hz))) {
		*source = cpuid_source;
		return cpuid_hz;
	}
	if (have_measured) {
		*source = TIMEBASE_MEASURED;
		return measured_hz;
	}
	*source = TIMEBASE_ASSUMED;
	return TIMEBASE_ASSUMED_HZ;
}

uint64_t timebase_span(uint64_t hz, uint32_t seconds, uint64_t work_cycles)
{
	uint64_t span;

	if (__builtin_mul_overflow(hz, (uint64_t)seconds, &span) ||
	    __builtin_add_overflow(span, work_cycles, &span))
		return UINT64_MAX;
	return span;
}

/* a < b as rates: a.ticks / a.tsc < b.ticks / b.tsc, exactly. */
static bool ratio_less(struct timebase_ratio a, struct timebase_ratio b)
{
	return (uint64_t)a.ticks * b.tsc < (uint64_t)b.ticks * a.tsc;
}

struct timebase_ratio timebase_ratio_median(const struct timebase_ratio m[3])
{
	/* lo <= hi of the first two; the median is hi unless the third is
	 * below it, and then the larger of lo and the third. */
	bool swap = ratio_less(m[1], m[0]);
	struct timebase_ratio lo = swap ? m[1] : m[0], hi = swap ? m[0] : m[1];

	if (!ratio_less(m[2], hi))
		return hi;
	return ratio_less(m[2], lo) ? lo : m[2];
}

uint32_t timebase_ratio_ticks(struct timebase_ratio r, uint64_t tsc_cycles)
{
	/* tsc_cycles * ticks / tsc without a 128-bit product: whole spans of
	 * r.tsc cycles, then the remainder (r.tsc * r.ticks < 2^64). */
	uint64_t whole, rest, ticks;

	if (!r.ticks || !r.tsc)
		return 0;
	whole = tsc_cycles / r.tsc;
	rest = tsc_cycles % r.tsc;
	if (whole > UINT32_MAX / r.ticks)
		return UINT32_MAX;
	ticks = whole * r.ticks + (rest * r.ticks + r.tsc - 1) / r.tsc;
	if (ticks > UINT32_MAX)
		return UINT32_MAX;
	return ticks ? (uint32_t)ticks : 1;
}

const char *timebase_source_name(enum timebase_source s)
{
	switch (s) {
	case TIMEBASE_CPUID_CRYSTAL: return "CPUID leaf 0x15 (crystal)";
	case TIMEBASE_CPUID_BASE:    return "CPUID leaf 0x16 (base frequency)";
	case TIMEBASE_MEASURED:      return "measured";
	case TIMEBASE_ASSUMED:       return "assumed";
	case TIMEBASE_NONE:          break;
	}
	return "none";
}

void timebase_set(uint64_t hz)
{
	tsc_hz = hz;
}

uint64_t timebase_tsc_hz(void)
{
	return tsc_hz;
}

static bool leap(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

uint64_t timebase_civil_seconds(unsigned year, unsigned month, unsigned day,
				unsigned hour, unsigned minute, unsigned second)
{
	static const uint8_t mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	uint64_t days = 0;

	if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 ||
	    day > mdays[month - 1] + (unsigned)(month == 2 && leap(year)) || hour > 23 ||
	    minute > 59 || second > 59)
		return 0;
	for (unsigned y = 1970; y < year; y++)
		days += leap(y) ? 366 : 365;
	for (unsigned m = 1; m < month; m++)
		days += mdays[m - 1] + (unsigned)(m == 2 && leap(year));
	days += day - 1;
	return ((days * 24 + hour) * 60 + minute) * 60 + second;
}

static uint64_t wall_seconds, wall_tsc;

void timebase_set_wall(uint64_t seconds, uint64_t tsc)
{
	wall_seconds = seconds;
	wall_tsc = tsc;
}

uint64_t timebase_wall_at(uint64_t tsc)
{
	uint64_t hz = timebase_tsc_hz();

	if (!wall_seconds || !hz || tsc < wall_tsc)
		return wall_seconds;
	return wall_seconds + (tsc - wall_tsc) / hz;
}
