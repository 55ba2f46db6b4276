/*
 * The VM's local APIC (vdev/vlapic.c) through the platform's MSR, MMIO and
 * interrupt interface: the power-on virtual wire in xAPIC mode, its page's
 * registers, the switch to x2APIC, the PIC through LINT0, the APIC
 * disabled and the mode changes not allowed, the three timer modes
 * (TSC-deadline in the guest's TSC, one-shot and periodic counts at the
 * crystal, coalesced periods), priorities (ExtINT first, TPR, in-service
 * class), self-IPIs, every register's access rules, and the saved state
 * across a rate change.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "vdev/vplatform.h"
#include "tcb/byteorder.h"
#include "vdev_io.h"

#define T0 1000000ull
/* The guest's TSC runs this far behind the host's. */
#define OFFSET (0 - 900000ull)

#define APIC_BASE 0x1bu
#define DEADLINE  0x6e0u
#define R_ID      0x802u
#define R_VERSION 0x803u
#define R_TPR     0x808u
#define R_PPR     0x80au
#define R_EOI     0x80bu
#define R_LDR     0x80du
#define R_SVR     0x80fu
#define R_ISR     0x810u
#define R_TMR     0x818u
#define R_IRR     0x820u
#define R_ESR     0x828u
#define R_ICR     0x830u
#define R_TIMER   0x832u
#define R_LINT0   0x835u
#define R_LINT1   0x836u
#define R_TMICT   0x838u
#define R_TMCCT   0x839u
#define R_TDCR    0x83eu
#define R_SELF    0x83fu

#define MODE_PERIODIC (1u << 17)
#define MODE_DEADLINE (2u << 17)
#define MASKED (1u << 16)

static struct vplatform p;

/* Power-on (xAPIC mode), then x2APIC, as Linux with interrupt
 * remapping would switch: the tests below use the MSRs. */
static void setup_xapic(uint64_t hz)
{
	vplatform_init(&p, hz, 0, T0);
	vplatform_set_tsc_offset(&p, OFFSET);
}

static void setup(uint64_t hz)
{
	uint64_t base = 0xfee00d00;

	setup_xapic(hz);
	assert_true(vplatform_msr(&p, APIC_BASE, true, &base, T0));
}

static uint32_t mmio_rd(uint32_t off)
{
	uint32_t v = 0xdeadbeef;

	assert_true(vplatform_apic_mmio(&p, off, false, &v, T0));
	return v;
}

static void mmio_wr(uint32_t off, uint32_t v, uint64_t now)
{
	assert_true(vplatform_apic_mmio(&p, off, true, &v, now));
}

static uint64_t rd(uint32_t msr, uint64_t now)
{
	uint64_t v = 0xdeadbeef;

	assert_true(vplatform_msr(&p, msr, false, &v, now));
	return v;
}

static void wr(uint32_t msr, uint64_t v, uint64_t now)
{
	assert_true(vplatform_msr(&p, msr, true, &v, now));
}

static bool rd_ok(uint32_t msr)
{
	uint64_t v = 0x55;
	bool ok = vplatform_msr(&p, msr, false, &v, T0);

	if (!ok)
		assert_int_equal(v, 0x55); /* a refused read returns nothing */
	return ok;
}

static bool wr_ok(uint32_t msr, uint64_t v)
{
	return vplatform_msr(&p, msr, true, &v, T0);
}

/* The interrupt the CPU takes at now, or -1. */
static int take(uint64_t now)
{
	if (!vplatform_intr_pending(&p, now))
		return -1;
	return vplatform_intr_ack(&p, now);
}

static void test_power_on_is_virtual_wire(void **state)
{
	(void)state;
	setup_xapic(HZ_TSC);
	assert_int_equal(rd(APIC_BASE, T0), 0xfee00900); /* xAPIC, EN, BSP */
	assert_false(rd_ok(R_SVR));             /* no x2APIC MSRs in xAPIC mode */
	assert_false(wr_ok(R_TPR, 0));
	assert_int_equal(mmio_rd(0x20), 0);              /* ID 0 */
	assert_int_equal(mmio_rd(0x30), 0x00050014);
	assert_int_equal(mmio_rd(0xd0), 0);              /* LDR */
	assert_int_equal(mmio_rd(0xe0), 0xffffffff);     /* DFR: flat */
	assert_int_equal(mmio_rd(0xf0), 0x1ff);
	assert_int_equal(mmio_rd(0x350), 0x700);         /* LINT0: ExtINT */
	assert_int_equal(mmio_rd(0x360), 0x400);         /* LINT1: NMI */
	assert_int_equal(mmio_rd(0x320), MASKED);
	/* Then x2APIC: the same state through the MSRs. */
	wr(APIC_BASE, 0xfee00d00, T0);
	assert_int_equal(rd(R_ID, T0), 0);
	assert_int_equal(rd(R_VERSION, T0), 0x00050014);
	assert_int_equal(rd(R_LDR, T0), 1);
	assert_int_equal(rd(R_SVR, T0), 0x1ff);
	assert_int_equal(rd(R_LINT0, T0), 0x700);
	assert_int_equal(rd(R_LINT1, T0), 0x400);
	assert_int_equal(rd(R_TIMER, T0), MASKED);
	{
		uint32_t v = 0;

		assert_false(vplatform_apic_mmio(&p, 0x20, false, &v, T0));
	}
	assert_int_equal(vplatform_next_deadline(&p, T0), UINT64_MAX);
	/* The PIC's IRQ 0 reaches the CPU through LINT0. */
	linux_init_pic(&p, T0);
	outb(&p, 0x43, 0x30, T0);
	outb(&p, 0x40, 10, T0);
	outb(&p, 0x40, 0, T0);
	assert_int_equal(take(T0 + HZ_TSC), 0x30);
}

static void pic_irq0_due(uint64_t now)
{
	linux_init_pic(&p, now);
	outb(&p, 0x43, 0x30, now);
	outb(&p, 0x40, 10, now);
	outb(&p, 0x40, 0, now);
}

static void test_lint0_gates_the_pic(void **state)
{
	uint64_t now = T0 + HZ_TSC;

	(void)state;
	setup(HZ_TSC);
	pic_irq0_due(T0);
	wr(R_LINT0, 0x700 | MASKED, T0);
	assert_false(vplatform_intr_pending(&p, now));
	assert_int_equal(vplatform_intr_ack(&p, now), -1);
	wr(R_LINT0, 0x700, now);
	assert_int_equal(take(now), 0x30);

	/* Software disabled: every LVT entry is masked and stays so. */
	setup(HZ_TSC);
	pic_irq0_due(T0);
	wr(R_SVR, 0xff, T0);
	assert_int_equal(rd(R_LINT0, T0), 0x700 | MASKED);
	wr(R_LINT0, 0x700, T0);
	assert_int_equal(rd(R_LINT0, T0), 0x700 | MASKED);
	assert_false(vplatform_intr_pending(&p, now));
	wr(R_SVR, 0x1ff, now);
	assert_false(vplatform_intr_pending(&p, now));
	wr(R_LINT0, 0x700, now);
	assert_int_equal(take(now), 0x30);
}

static void test_apic_base_modes(void **state)
{
	(void)state;
	setup(HZ_TSC);
	assert_true(wr_ok(APIC_BASE, 0xfee00d00));       /* unchanged */
	assert_false(wr_ok(APIC_BASE, 0xfee00900));      /* x2APIC -> xAPIC */
	assert_false(wr_ok(APIC_BASE, 0xfed00d00));      /* another address */
	assert_false(wr_ok(APIC_BASE, 0xfee00d01));      /* reserved bit */
	assert_false(wr_ok(APIC_BASE, 0xfee00500));      /* EXTD without EN */
	assert_int_equal(rd(APIC_BASE, T0), 0xfee00d00);
	/* Disabled: the PIC's INTR goes straight to the CPU, the registers
	 * are gone, and there is no way back but a reset. */
	pic_irq0_due(T0);
	wr(R_LINT0, 0x700 | MASKED, T0);
	assert_true(wr_ok(APIC_BASE, 0xfee00100));
	assert_int_equal(rd(APIC_BASE, T0), 0xfee00100);
	assert_false(rd_ok(R_SVR));
	assert_false(wr_ok(R_TPR, 0));
	assert_false(wr_ok(DEADLINE, 1));
	assert_int_equal(take(T0 + HZ_TSC), 0x30);
	assert_false(wr_ok(APIC_BASE, 0xfee00d00));      /* disabled -> x2APIC */
	assert_true(wr_ok(APIC_BASE, 0xfee00100));
	/* Back to xAPIC: as at reset, software disabled (LINT0 masked). */
	assert_true(wr_ok(APIC_BASE, 0xfee00900));
	assert_int_equal(mmio_rd(0xf0), 0xff);
	assert_int_equal(mmio_rd(0x350), MASKED);
	assert_true(wr_ok(APIC_BASE, 0xfee00d00));
}

/* The xAPIC page: Linux's sequence of setup_local_APIC, its timer
 * through the page, EOI, IPIs to itself by the ICR's halves, and what
 * the page does with what is not a register. */
static void test_xapic_page(void **state)
{
	uint32_t v = 0;

	(void)state;
	setup_xapic(HZ_TSC);
	mmio_wr(0x80, 0x0, T0);                   /* TPR */
	mmio_wr(0xe0, 0xffffffff, T0);            /* DFR flat */
	mmio_wr(0xd0, 0x01000000, T0);            /* LDR: logical ID 1 */
	assert_int_equal(mmio_rd(0xd0), 0x01000000);
	mmio_wr(0xf0, 0x1ff, T0);
	mmio_wr(0x350, 0x700, T0);                /* LINT0 ExtINT */
	/* The timer through the page, one-shot at divide 1. */
	mmio_wr(0x3e0, 0xb, T0);
	mmio_wr(0x320, 0xef, T0);
	mmio_wr(0x380, 5000, T0);
	assert_int_equal(mmio_rd(0x380), 5000);
	assert_int_equal(vplatform_next_deadline(&p, T0), T0 + 5000);
	assert_int_equal(take(T0 + 5000), 0xef);
	assert_int_equal(mmio_rd(0x170), 1u << 15); /* ISR bit 0xef */
	mmio_wr(0xb0, 0x12345, T0 + 5000);        /* EOI: any value */
	assert_int_equal(mmio_rd(0x170), 0);
	/* IPIs: high half first, the low half sends. */
	mmio_wr(0x310, 0x00000000, T0 + 5000);    /* physical 0: itself */
	mmio_wr(0x300, 0x00004051, T0 + 5000);
	assert_int_equal(take(T0 + 5000), 0x51);
	mmio_wr(0xb0, 0, T0 + 5000);
	mmio_wr(0x310, 0x01000000, T0 + 5000);    /* logical 1: itself */
	mmio_wr(0x300, 0x00004852, T0 + 5000);
	assert_int_equal(take(T0 + 5000), 0x52);
	mmio_wr(0xb0, 0, T0 + 5000);
	mmio_wr(0x310, 0x02000000, T0 + 5000);    /* logical 2: nobody */
	mmio_wr(0x300, 0x00004853, T0 + 5000);
	mmio_wr(0x310, 0x05000000, T0 + 5000);    /* physical 5: nobody */
	mmio_wr(0x300, 0x00004054, T0 + 5000);
	assert_int_equal(take(T0 + 5000), -1);
	assert_int_equal(mmio_rd(0x310), 0x05000000);
	/* Reserved bits are dropped, not faulted; what is not a register
	 * reads 0, takes nothing, and sets ESR bit 7. */
	mmio_wr(0x80, 0xffffff10, T0 + 5000);
	assert_int_equal(mmio_rd(0x80), 0x10);
	mmio_wr(0x80, 0, T0 + 5000);
	assert_int_equal(mmio_rd(0x3f0), 0);       /* SELF IPI: x2APIC only */
	mmio_wr(0x3f0, 0x55, T0 + 5000);
	assert_int_equal(take(T0 + 5000), -1);
	assert_int_equal(mmio_rd(0x280), 1u << 7);
	mmio_wr(0x280, 0, T0 + 5000);
	assert_int_equal(mmio_rd(0x280), 0);
	mmio_wr(0x20, 0x07000000, T0 + 5000);     /* ID: not writable here */
	assert_int_equal(mmio_rd(0x20), 0);
	/* Not a register's start, or outside the page: the caller's. */
	assert_false(vplatform_apic_mmio(&p, 0x84, false, &v, T0 + 5000));
	assert_false(vplatform_apic_mmio(&p, 0x1000, true, &v, T0 + 5000));
	/* The TSC deadline MSR works in xAPIC mode too. */
	mmio_wr(0x320, MODE_DEADLINE | 0xee, T0 + 5000);
	wr(DEADLINE, T0 + OFFSET + 9000, T0 + 5000);
	assert_int_equal(take(T0 + 9000), 0xee);
}

static void test_tsc_deadline_counts_in_guest_tsc(void **state)
{
	uint64_t guest_now = T0 + OFFSET, host_due = T0 + 5000;

	(void)state;
	setup(HZ_TSC);
	/* Not in deadline mode: the MSR ignores writes and reads 0. */
	wr(DEADLINE, guest_now + 5000, T0);
	assert_int_equal(rd(DEADLINE, T0), 0);
	wr(R_TIMER, MODE_DEADLINE | 0xec, T0);
	wr(DEADLINE, guest_now + 5000, T0);
	assert_int_equal(rd(DEADLINE, T0), guest_now + 5000);
	assert_int_equal(vplatform_next_deadline(&p, T0), host_due);
	assert_false(vplatform_intr_pending(&p, host_due - 1));
	assert_int_equal(take(host_due), 0xec);
	/* Fired: disarmed, the vector in service until the EOI. */
	assert_int_equal(rd(DEADLINE, host_due), 0);
	assert_int_equal(vplatform_next_deadline(&p, host_due), UINT64_MAX);
	assert_int_equal(rd(R_ISR + 7, host_due), 1u << (0xec - 0xe0));
	assert_int_equal(rd(R_PPR, host_due), 0xe0);
	assert_false(vplatform_msr(&p, R_EOI, true, &(uint64_t){ 1 }, host_due));
	wr(R_EOI, 0, host_due);
	assert_int_equal(rd(R_ISR + 7, host_due), 0);
	/* A deadline already past fires at once; 0 disarms. */
	wr(DEADLINE, 1, host_due);
	assert_int_equal(take(host_due), 0xec);
	wr(R_EOI, 0, host_due);
	wr(DEADLINE, guest_now + 100000, host_due);
	wr(DEADLINE, 0, host_due);
	assert_false(vplatform_intr_pending(&p, T0 + 200000));
	/* Leaving deadline mode disarms it too. */
	wr(DEADLINE, guest_now + 300000, T0 + 200000);
	wr(R_TIMER, 0xec, T0 + 200000);
	wr(R_TIMER, MODE_DEADLINE | 0xec, T0 + 200000);
	assert_int_equal(rd(DEADLINE, T0 + 200000), 0);
	assert_false(vplatform_intr_pending(&p, T0 + 400000));
	/* Masked: it fires, nothing is delivered. */
	wr(R_TIMER, MODE_DEADLINE | MASKED | 0xec, T0 + 400000);
	wr(DEADLINE, guest_now + 406000, T0 + 400000);
	assert_int_equal(vplatform_next_deadline(&p, T0 + 400000), T0 + 406000);
	assert_false(vplatform_intr_pending(&p, T0 + 407000));
	assert_int_equal(rd(DEADLINE, T0 + 407000), 0);
}

static void test_count_timer(void **state)
{
	/* A 5 GHz TSC: the crystal of CPUID 0x15 is 2.5 GHz, so a count at
	 * divide 1 is 2 TSC cycles, at divide 4 eight. */
	const uint64_t hz = 5000000000ull;

	(void)state;
	setup(hz);
	wr(R_TDCR, 0xb, T0);                         /* divide by 1 */
	wr(R_TIMER, 0x40, T0);                       /* one-shot */
	wr(R_TMICT, 1000, T0);
	assert_int_equal(rd(R_TMICT, T0), 1000);
	assert_int_equal(rd(R_TMCCT, T0), 1000);
	assert_int_equal(rd(R_TMCCT, T0 + 1000), 500);
	assert_int_equal(vplatform_next_deadline(&p, T0), T0 + 2000);
	assert_false(vplatform_intr_pending(&p, T0 + 1999));
	assert_int_equal(take(T0 + 2000), 0x40);
	wr(R_EOI, 0, T0 + 2000);
	assert_int_equal(rd(R_TMCCT, T0 + 2000), 0);
	assert_false(vplatform_intr_pending(&p, T0 + 100000));

	/* Periodic at divide 4 (code 1): every 100 * 8 cycles; ten periods
	 * missed are one interrupt, and the next is on the period's grid. */
	setup(hz);
	wr(R_TDCR, 0x1, T0);
	wr(R_TIMER, MODE_PERIODIC | 0x41, T0);
	wr(R_TMICT, 100, T0);
	assert_int_equal(vplatform_next_deadline(&p, T0), T0 + 800);
	assert_int_equal(take(T0 + 8050), 0x41);
	assert_int_equal(take(T0 + 8050), -1);
	assert_int_equal(vplatform_next_deadline(&p, T0 + 8050), T0 + 8800);
	assert_int_equal(rd(R_TMCCT, T0 + 8050), 94); /* 750 cycles: 93.75 up */
	wr(R_EOI, 0, T0 + 8050);
	assert_int_equal(take(T0 + 8800), 0x41);
	wr(R_EOI, 0, T0 + 8800);
	/* Initial count 0 stops it. */
	wr(R_TMICT, 0, T0 + 8800);
	assert_int_equal(vplatform_next_deadline(&p, T0 + 8800), UINT64_MAX);
	/* In deadline mode the initial count is ignored. */
	wr(R_TIMER, MODE_DEADLINE | 0x41, T0 + 8800);
	wr(R_TMICT, 5, T0 + 8800);
	assert_int_equal(rd(R_TMICT, T0 + 8800), 0);
}

static void test_priorities(void **state)
{
	uint64_t now = T0 + HZ_TSC;

	(void)state;
	setup(HZ_TSC);
	wr(R_SELF, 0x51, T0);
	wr(R_SELF, 0x93, T0);
	wr(R_SELF, 0x95, T0);
	assert_int_equal(rd(R_IRR + 4, T0), (1u << 0x13) | (1u << 0x15));
	/* The PIC's INTR goes first. */
	pic_irq0_due(T0);
	assert_int_equal(take(now), 0x30);
	outb(&p, 0x20, 0x20, now);
	/* Then the highest vector; one of the same class waits for its EOI. */
	assert_int_equal(take(now), 0x95);
	assert_int_equal(take(now), -1);
	wr(R_EOI, 0, now);
	assert_int_equal(take(now), 0x93);
	wr(R_EOI, 0, now);
	/* TPR: a class at or below it waits. */
	wr(R_TPR, 0x50, now);
	assert_int_equal(rd(R_PPR, now), 0x50);
	assert_int_equal(take(now), -1);
	wr(R_TPR, 0x4f, now);
	assert_int_equal(take(now), 0x51);
	wr(R_EOI, 0, now);
	assert_int_equal(take(now), -1);
}

static void test_ipis_reach_only_itself(void **state)
{
	(void)state;
	setup(HZ_TSC);
	wr(R_ICR, 0x000000010000004aull, T0);     /* fixed, to APIC 1 */
	wr(R_ICR, 0x00000000000c004bull, T0);     /* all excluding self */
	wr(R_ICR, 0x0000000000000500ull, T0);     /* INIT to itself */
	wr(R_ICR, 0x0000000000000400ull, T0);     /* NMI to itself */
	assert_int_equal(take(T0), -1);
	assert_int_equal(rd(R_ICR, T0), 0x400);
	wr(R_ICR, 0x000000000004004cull, T0);     /* self */
	assert_int_equal(take(T0), 0x4c);
	wr(R_EOI, 0, T0);
	wr(R_ICR, 0x000000000000004dull, T0);     /* physical, to APIC 0 */
	assert_int_equal(take(T0), 0x4d);
	wr(R_EOI, 0, T0);
	wr(R_ICR, 0x000000010000084eull, T0);     /* logical, cluster 0 bit 0 */
	assert_int_equal(take(T0), 0x4e);
	wr(R_EOI, 0, T0);
	/* Vectors 0-15 are illegal: an error, no interrupt. */
	wr(R_SELF, 0x05, T0);
	assert_int_equal(take(T0), -1);
	assert_int_equal(rd(R_ESR, T0), 1u << 5);
	wr(R_ESR, 0, T0);
	assert_int_equal(rd(R_ESR, T0), 0);
}

static void test_register_access_rules(void **state)
{
	static const uint32_t read_only[] = {
		R_ID, R_VERSION, R_PPR, R_LDR, R_ISR, R_ISR + 7, R_TMR,
		R_IRR + 3, R_TMCCT,
	};
	static const uint32_t absent[] = {
		0x800, 0x801, 0x804, 0x809, 0x80c, 0x80e, 0x829, 0x82f, 0x831,
		0x83a, 0x83d, 0x840, 0x8ff,
	};

	(void)state;
	setup(HZ_TSC);
	for (size_t i = 0; i < sizeof(read_only) / sizeof(read_only[0]); i++) {
		assert_true(rd_ok(read_only[i]));
		assert_false(wr_ok(read_only[i], 0));
	}
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		assert_false(rd_ok(absent[i]));
		assert_false(wr_ok(absent[i], 0));
	}
	assert_false(rd_ok(R_EOI));                  /* write-only */
	assert_false(rd_ok(R_SELF));
	assert_false(wr_ok(R_TPR, 0x100));           /* reserved bits */
	assert_false(wr_ok(R_TPR, 1ull << 32));
	assert_false(wr_ok(R_SVR, 0x400));
	assert_false(wr_ok(R_TIMER, 0x100));          /* delivery mode */
	assert_false(wr_ok(R_TIMER, 3u << 17));       /* timer mode 3 */
	assert_false(wr_ok(R_LINT0, 1u << 12));       /* delivery status */
	assert_false(wr_ok(R_TDCR, 0x4));
	assert_false(wr_ok(R_SELF, 0x100));
	assert_false(wr_ok(R_ESR, 1));
	assert_false(wr_ok(R_ICR, 1ull << 12));
	assert_false(wr_ok(0x6df, 0));                /* not the APIC's */
	assert_int_equal(rd(R_TMR, T0), 0);
	/* What was refused changed nothing. */
	assert_int_equal(rd(R_TPR, T0), 0);
	assert_int_equal(rd(R_SVR, T0), 0x1ff);
	assert_int_equal(rd(R_TIMER, T0), MASKED);
}

static void test_save_load_keeps_timers(void **state)
{
	static uint8_t s[VPLATFORM_SAVE_SIZE];
	const uint64_t later = 1ull << 40, guest_now = T0 + OFFSET;
	struct vplatform q;

	(void)state;
	/* A deadline: in the guest's TSC, which the vCPU context carries. */
	setup(HZ_TSC);
	wr(R_TIMER, MODE_DEADLINE | 0xec, T0);
	wr(DEADLINE, guest_now + 7000, T0);
	wr(R_SELF, 0x61, T0);
	wr(R_TPR, 0x20, T0);
	vplatform_save(&p, T0 + 1000, s);
	memset(&q, 0xa5, sizeof(q));
	assert_true(vplatform_load(&q, s, sizeof(s), HZ_TSC / 2, later));
	/* 1000 guest cycles have passed at the stop: the guest's TSC goes on
	 * from there on the new host. */
	vplatform_set_tsc_offset(&q, guest_now + 1000 - later);
	p = q;
	assert_int_equal(take(later), 0x61);
	assert_int_equal(vplatform_next_deadline(&p, later), later + 6000);
	assert_int_equal(take(later + 6000), 0xec);

	/* A count: its time left is rescaled to the new rate. */
	setup(HZ_TSC);
	wr(R_TDCR, 0xb, T0);
	wr(R_TIMER, MODE_PERIODIC | 0x42, T0);
	wr(R_TMICT, 10000, T0);
	vplatform_save(&p, T0 + 4000, s);
	assert_true(vplatform_load(&q, s, sizeof(s), HZ_TSC / 2, later));
	assert_int_equal(vplatform_next_deadline(&q, later), later + 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_power_on_is_virtual_wire),
		cmocka_unit_test(test_lint0_gates_the_pic),
		cmocka_unit_test(test_apic_base_modes),
		cmocka_unit_test(test_xapic_page),
		cmocka_unit_test(test_tsc_deadline_counts_in_guest_tsc),
		cmocka_unit_test(test_count_timer),
		cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_ipis_reach_only_itself),
		cmocka_unit_test(test_register_access_rules),
		cmocka_unit_test(test_save_load_keeps_timers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
