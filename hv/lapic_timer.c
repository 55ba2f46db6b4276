/*
 * The local APIC timer (SDM Vol. 3A 11.5.4), one-shot, divide by 1. In
 * xAPIC mode its registers are the uncached MMIO page hv/paging.c maps at
 * the architectural address (hv/smp.c moved the APIC back there); in
 * x2APIC mode they are MSRs 0x800 + offset / 16 (SDM 11.12.1.2).
 *
 * The timer's rate is measured against the TSC rather than the PIT: the
 * TSC's rate is known already (hv/tsc_rate.c), and a slice is counted in
 * TSC cycles, so TSC cycles per timer tick is all a backend needs.
 */
#include "hv/lapic_timer.h"
#include "boot/platform_mmio.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "hv/memory.h"
#include "hv/power.h"
#include "tcb/timebase.h"

#define MSR_IA32_APIC_BASE  0x1bu
#define APIC_BASE_X2APIC    (1ull << 10)
#define APIC_BASE_ENABLE    (1ull << 11)
#define APIC_BASE_ADDR      0x000ffffffffff000ull
#define X2APIC_MSR(reg)     (0x800u + (reg) / 16u)

/* Register offsets, SDM Vol. 3A Table 11-1. */
#define LAPIC_TPR           0x080u
#define LAPIC_EOI           0x0b0u
#define LAPIC_SVR           0x0f0u
#define LAPIC_LVT_TIMER     0x320u
#define LAPIC_TIMER_INITIAL 0x380u
#define LAPIC_TIMER_CURRENT 0x390u
#define LAPIC_TIMER_DIVIDE  0x3e0u

#define SVR_SOFTWARE_ENABLE (1u << 8)
#define LVT_MASKED          (1u << 16)
#define LVT_ONE_SHOT        (0u << 17)
#define DIVIDE_BY_1         0xbu /* SDM Figure 11-10 */

/* Calibration: three spans; the self-check's arm is one scheduler slice of
 * hv/sched.c; a timer that has not fired after this many times that span
 * (or 100 ms) never will. */
#define CALIBRATION_ROUNDS  3
#define CALIBRATION_MS      2u
#define CHECK_TSC           200000u
#define CHECK_PATIENCE      1000u

static struct {
	bool x2apic;
	bool initialised;   /* registers reachable: the handler may EOI */
	bool usable;        /* calibrated and seen to fire */
	uint64_t mmio;
	struct timebase_ratio rate;
	volatile uint64_t fired;
	volatile uint64_t fired_tsc;
} lapic;

static uint32_t reg_read(uint32_t reg)
{
	if (lapic.x2apic)
		return (uint32_t)rdmsr(X2APIC_MSR(reg));
	return *(volatile uint32_t *)phys_to_virt(lapic.mmio + reg);
}

static void reg_write(uint32_t reg, uint32_t v)
{
	if (lapic.x2apic)
		wrmsr(X2APIC_MSR(reg), v);
	else
		*(volatile uint32_t *)phys_to_virt(lapic.mmio + reg) = v;
}

static uint64_t tsc_now(void)
{
	uint32_t lo, hi;

	/* Ordered after the register access before it (SDM Vol. 2B RDTSC). */
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/* Registers reachable, LAPIC software-enabled, timer masked and stopped. */
static void setup_registers(void)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);

	CHECK(base & APIC_BASE_ENABLE); /* hv/smp.c enabled it */
	lapic.x2apic = (base & APIC_BASE_X2APIC) != 0;
	lapic.mmio = base & APIC_BASE_ADDR;
	/* The only LAPIC page the final page tables map (uncached). */
	CHECK(lapic.x2apic || lapic.mmio == MMIO_LAPIC_DEFAULT);
	lapic.initialised = true;
	reg_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_ONE_SHOT | LAPIC_TIMER_VECTOR);
	reg_write(LAPIC_TIMER_INITIAL, 0);
	reg_write(LAPIC_TIMER_DIVIDE, DIVIDE_BY_1);
	reg_write(LAPIC_TPR, 0);
	reg_write(LAPIC_SVR, (reg_read(LAPIC_SVR) & ~0xffu) | SVR_SOFTWARE_ENABLE |
			     LAPIC_SPURIOUS_VECTOR);
}

/* Timer ticks over a span of TSC cycles; false if the count ran out (a
 * timer faster than 2^32 ticks per span is no timer we know). */
static bool measure_once(uint64_t span, struct timebase_ratio *m)
{
	uint64_t t0, t1;
	uint32_t left;

	reg_write(LAPIC_TIMER_INITIAL, UINT32_MAX);
	t0 = tsc_now();
	while (tsc_now() - t0 < span)
		__asm__ volatile("pause");
	left = reg_read(LAPIC_TIMER_CURRENT);
	t1 = tsc_now();
	reg_write(LAPIC_TIMER_INITIAL, 0);
	if (left == 0 || left == UINT32_MAX || t1 - t0 > UINT32_MAX)
		return false;
	*m = (struct timebase_ratio){ UINT32_MAX - left, (uint32_t)(t1 - t0) };
	return true;
}

static const char *calibrate(void)
{
	struct timebase_ratio m[CALIBRATION_ROUNDS];
	uint64_t span = timebase_tsc_hz() / 1000u * CALIBRATION_MS;

	for (int i = 0; i < CALIBRATION_ROUNDS; i++)
		if (!measure_once(span, &m[i]))
			return "its count did not move, or ran out, within 2 ms";
	lapic.rate = timebase_ratio_median(m);
	return NULL;
}

/* Arm once, interrupts enabled, wait for the tick; the TSC cycles until
 * the handler ran, or 0 if it never did. */
static uint64_t fire_once(uint64_t cycles, uint64_t patience)
{
	uint64_t before = lapic.fired, t0 = tsc_now();

	lapic_timer_arm(cycles);
	__asm__ volatile("sti" : : : "memory");
	while (lapic.fired == before && tsc_now() - t0 < patience)
		__asm__ volatile("pause" : : : "memory");
	__asm__ volatile("cli" : : : "memory");
	lapic_timer_disarm();
	return lapic.fired == before ? 0 : lapic.fired_tsc - t0;
}

void lapic_timer_init(void)
{
	uint64_t patience = (uint64_t)CHECK_TSC * CHECK_PATIENCE, took;
	const char *why;

	if (patience < timebase_tsc_hz() / 10)
		patience = timebase_tsc_hz() / 10;
	setup_registers();
	why = calibrate();
	if (!why) {
		took = fire_once(CHECK_TSC, patience);
		if (!took)
			why = "armed, it did not fire";
		else if (took < CHECK_TSC / 2)
			why = "it fired before half the time it was armed for";
	}
	if (why) {
		console_printf("lapic: timer NOT usable: %s\n", why);
		return;
	}
	lapic.usable = true;
	console_printf("lapic: timer (%s, vector %#x) runs %u ticks per %u TSC "
		       "cycles; one-shot check: armed for %u TSC cycles, fired "
		       "after %llu\n", lapic.x2apic ? "x2APIC" : "xAPIC",
		       LAPIC_TIMER_VECTOR, lapic.rate.ticks, lapic.rate.tsc,
		       CHECK_TSC, (unsigned long long)took);
}

bool lapic_timer_usable(void)
{
	return lapic.usable;
}

void lapic_timer_arm(uint64_t tsc_cycles)
{
	uint32_t ticks = timebase_ratio_ticks(lapic.rate, tsc_cycles);

	CHECK(lapic.initialised && ticks);
	reg_write(LAPIC_LVT_TIMER, LVT_ONE_SHOT | LAPIC_TIMER_VECTOR);
	reg_write(LAPIC_TIMER_INITIAL, ticks);
}

void lapic_timer_disarm(void)
{
	CHECK(lapic.initialised);
	/* A count of 0 stops the timer (SDM 11.5.4). */
	reg_write(LAPIC_TIMER_INITIAL, 0);
	reg_write(LAPIC_LVT_TIMER, LVT_MASKED | LVT_ONE_SHOT | LAPIC_TIMER_VECTOR);
}

uint64_t lapic_timer_fired(void)
{
	return lapic.fired;
}

bool lapic_timer_interrupt(uint64_t vector)
{
	if (!lapic.initialised)
		return false;
	if (vector == LAPIC_SPURIOUS_VECTOR)
		return true; /* no EOI for a spurious interrupt (SDM 11.9) */
	if (vector != LAPIC_TIMER_VECTOR)
		return false;
	lapic.fired_tsc = tsc_now();
	lapic.fired++;
	reg_write(LAPIC_EOI, 0);
	return true;
}
