/*
 * ticker: a guest that lives on interrupts, as an operating system does:
 * it programs the virtual platform's 8259 PIC and 8254 PIT (vdev/), takes
 * IRQ0 through its own IDT and waits for each tick with STI; HLT, so the
 * CPU goes to other VMs meanwhile (docs/vm-exits.md, "Interrupts and HLT").
 *
 * Arguments: hz=N (the PIT's rate, default 100), ticks=N (how many to wait
 * for), spin=1 (wait by spinning with interrupts on instead of HLT),
 * reset=1 (end by resetting the machine as Linux's reboot does: the
 * keyboard controller's pulse-reset command 0xFE on port 0x64, which ends
 * this VM only). With ticks it prints
 *   ticker: <ticks> ticks in <tsc> tsc, expected <tsc>, halts <n>
 * and ends with HC_EXIT 0 (or the reset); a platform that never
 * interrupts leaves it halted forever, which the test sees as no line.
 * Without (a tenant VM has no arguments) it runs for good, printing every
 * hz ticks
 *   ticker: second <n>, clock <s> s
 * where clock is its TSC in seconds: after a stop and a start both go on
 * where they were (its devices and TSC are in the sealed context).
 */
#include <custos/guest_abi.h>
#include "guests/runtime/guest.h"

#define TICKER_VECTOR 0x20
#define PIT_HZ 1193182u

volatile uint64_t ticker_ticks;
void ticker_isr(void);

struct idt_gate {
	uint16_t offset_lo, selector;
	uint8_t ist, type;
	uint16_t offset_mid;
	uint32_t offset_hi, reserved;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static void idt_install(void)
{
	uint64_t isr = (uint64_t)ticker_isr;
	struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
		sizeof(idt) - 1, (uint64_t)idt,
	};

	idt[TICKER_VECTOR] = (struct idt_gate){
		.offset_lo = (uint16_t)isr, .selector = GUEST_SEL_CODE,
		.type = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
		.offset_mid = (uint16_t)(isr >> 16), .offset_hi = (uint32_t)(isr >> 32),
	};
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

/* Both 8259s as Linux sets them up: edge-triggered, cascaded on IRQ2,
 * vectors 0x20 and 0x28; then everything masked but IRQ0. */
static void pic_init(void)
{
	outb(0x20, 0x11); outb(0x21, TICKER_VECTOR); outb(0x21, 0x04); outb(0x21, 0x01);
	outb(0xa0, 0x11); outb(0xa1, TICKER_VECTOR + 8); outb(0xa1, 0x02); outb(0xa1, 0x01);
	outb(0x21, 0xfe);
	outb(0xa1, 0xff);
}

/* Channel 0, lobyte/hibyte, mode 2 (rate generator). */
static void pit_init(uint32_t divisor)
{
	outb(0x43, 0x34);
	outb(0x40, (uint8_t)divisor);
	outb(0x40, (uint8_t)(divisor >> 8));
}

static void __attribute__((noreturn))
run_forever(const struct custos_boot_info *bi, uint64_t hz)
{
	for (uint64_t second = 1;; second++) {
		while (ticker_ticks < second * hz)
			__asm__ volatile("sti; hlt" ::: "memory");
		con_printf("ticker: second %llu, clock %llu s\n",
			   (unsigned long long)second,
			   (unsigned long long)(bi->tsc_hz ? rdtsc() / bi->tsc_hz : 0));
	}
}

int guest_main(const struct custos_boot_info *bi)
{
	uint64_t hz = cmdline_u64(bi, "hz", 100), want = cmdline_u64(bi, "ticks", 0);
	bool spin = cmdline_u64(bi, "spin", 0) != 0;
	bool reset = cmdline_u64(bi, "reset", 0) != 0;
	uint64_t halts = 0, t0, t;

	guest_init(bi, "ticker");
	if (hz < 19 || hz > 10000) {
		con_printf("ticker: hz must be 19..10000\n");
		hc_exit(2);
	}
	idt_install();
	pic_init();
	pit_init((uint32_t)((PIT_HZ + hz / 2) / hz));
	__asm__ volatile("sti");
	while (ticker_ticks == 0) /* the first tick starts the clock */
		;
	if (want == 0)
		run_forever(bi, hz);
	t0 = rdtsc();
	while (ticker_ticks < want + 1) {
		if (spin)
			continue;
		__asm__ volatile("sti; hlt" ::: "memory");
		halts++;
	}
	t = rdtsc() - t0;
	__asm__ volatile("cli");
	con_printf("ticker: %llu ticks in %llu tsc, expected %llu, halts %llu\n",
		   (unsigned long long)want, (unsigned long long)t,
		   (unsigned long long)(bi->tsc_hz * want / hz),
		   (unsigned long long)halts);
	if (reset) {
		outb(0x64, 0xfe);
		con_printf("ticker: still running after the reset\n");
		hc_exit(3);
	}
	hc_exit(0);
}
