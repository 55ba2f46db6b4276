#include "hv/tsc_rate.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "tcb/timebase.h"

/* The 8254's channel 2 is the one software can gate and read back without
 * an interrupt: its gate and output are bits of port 0x61 (the PC/AT
 * "port B"; Intel 8254 datasheet, and the PC/AT technical reference). */
#define PIT_CH2_DATA   0x42
#define PIT_CONTROL    0x43
#define PIT_CH2_MODE0  0xb0 /* channel 2, low then high byte, mode 0, binary */
#define PORT_B         0x61
#define PORT_B_GATE2   0x01
#define PORT_B_SPEAKER 0x02
#define PORT_B_OUT2    0x20
#define MEASURE_MS     50u
/* A PIT that never reaches terminal count must not hang the boot: each
 * loop round is at least one port read (~1 us on hardware, a few
 * instructions in an emulator), so this is seconds at most. */
#define SPIN_MAX       20000000u

static uint64_t tsc_read(void)
{
	uint32_t lo, hi;

	/* LFENCE first: the earlier port reads are done (SDM Vol. 2B RDTSC). */
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/*
 * Mode 0 ("interrupt on terminal count"): OUT goes low when the control
 * word is written and high when the count written after it has run down,
 * while the gate is high. TSC ticks across that span give the rate. 0 when
 * the PIT does not behave (OUT high at once, or never).
 */
static uint64_t measure_against_pit(void)
{
	const uint32_t count = TIMEBASE_PIT_HZ * MEASURE_MS / 1000u; /* < 65536 */
	uint8_t saved = inb(PORT_B);
	uint64_t t0, t1 = 0;

	outb(PORT_B, (uint8_t)((saved & ~PORT_B_SPEAKER) | PORT_B_GATE2));
	outb(PIT_CONTROL, PIT_CH2_MODE0);
	outb(PIT_CH2_DATA, (uint8_t)(count & 0xff));
	outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
	t0 = tsc_read();
	if (!(inb(PORT_B) & PORT_B_OUT2)) {
		uint32_t n = 0;

		while (!(inb(PORT_B) & PORT_B_OUT2) && n < SPIN_MAX)
			n++;
		if (n < SPIN_MAX)
			t1 = tsc_read();
	}
	outb(PORT_B, saved);
	return t1 ? timebase_from_timer(t1 - t0, count, TIMEBASE_PIT_HZ) : 0;
}

static void read_cpuid(struct timebase_cpuid *c)
{
	c->max_leaf = cpuid(0, 0).eax;
	c->l15_eax = c->l15_ebx = c->l15_ecx = c->l16_eax = 0;
	if (c->max_leaf >= 0x15) {
		struct cpuid_regs r = cpuid(0x15, 0);

		c->l15_eax = r.eax;
		c->l15_ebx = r.ebx;
		c->l15_ecx = r.ecx;
	}
	if (c->max_leaf >= 0x16)
		c->l16_eax = cpuid(0x16, 0).eax;
}

void tsc_rate_init(void)
{
	struct timebase_cpuid c;
	enum timebase_source cpuid_source = TIMEBASE_NONE, source = TIMEBASE_NONE;
	uint64_t cpuid_hz, measured_hz, hz;

	read_cpuid(&c);
	cpuid_hz = timebase_from_cpuid(&c, &cpuid_source);
	measured_hz = measure_against_pit();
	hz = timebase_choose(cpuid_hz, cpuid_source, measured_hz, &source);
	timebase_set(hz);
	if (source == TIMEBASE_MEASURED && cpuid_hz)
		console_printf("tsc: %llu Hz (measured against the PIT over %u ms; "
			       "%s says %llu Hz, which this TSC does not keep)\n",
			       (unsigned long long)hz, MEASURE_MS,
			       timebase_source_name(cpuid_source),
			       (unsigned long long)cpuid_hz);
	else if (source == TIMEBASE_MEASURED)
		console_printf("tsc: %llu Hz (measured against the PIT over %u ms; "
			       "CPUID gives no rate)\n",
			       (unsigned long long)hz, MEASURE_MS);
	else if (source == TIMEBASE_ASSUMED)
		console_printf("tsc: %llu Hz ASSUMED: CPUID gives no rate and the "
			       "PIT does not count; deadlines may run long\n",
			       (unsigned long long)hz);
	else if (measured_hz)
		console_printf("tsc: %llu Hz (%s; the PIT measured %llu Hz)\n",
			       (unsigned long long)hz, timebase_source_name(source),
			       (unsigned long long)measured_hz);
	else
		console_printf("tsc: %llu Hz (%s; the PIT does not count)\n",
			       (unsigned long long)hz, timebase_source_name(source));
}
