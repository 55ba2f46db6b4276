/*
 * Parking the application processors (docs/boot.md, "Other CPUs").
 *
 * Custos runs on the boot processor (BSP) only. Firmware leaves the others
 * (APs) waiting for a start-up IPI, but the boot loader is the adversary's
 * and may have started them in its own code. An INIT IPI with the
 * all-excluding-self shorthand resets every AP, whatever it runs, into the
 * wait-for-SIPI state (SDM Vol. 3A 11.4.7.3; MP protocol 9.4). Nobody sends the SIPI:
 * the hypervisor never does, and no VM can reach a local APIC (no frame of
 * it is managed, so no EPT maps it; the MSR bitmap intercepts the x2APIC
 * MSRs and IA32_APIC_BASE).
 *
 * Not covered: an AP that the loader put in VMX root operation blocks INIT
 * (SDM Vol. 3C 24.8); only a measured launch (TXT SENTER, which gathers
 * every CPU) rules that out.
 */
#include "hv/smp.h"
#include "boot/platform_mmio.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "hv/memory.h"
#include "hv/paging.h"
#include "hv/power.h"

/* SDM Vol. 3A 11.4.4, Figure 11-5: IA32_APIC_BASE. */
#define MSR_IA32_APIC_BASE  0x1bu
#define APIC_BASE_BSP       (1ull << 8)
#define APIC_BASE_X2APIC    (1ull << 10)
#define APIC_BASE_ENABLE    (1ull << 11)
#define APIC_BASE_ADDR      0x000ffffffffff000ull

/* SDM Vol. 3A 11.6.1, Figure 11-12: the ICR; 11.12.9: in x2APIC mode one
 * 64-bit MSR without the delivery-status bit. */
#define XAPIC_ICR_LOW       0x300u
#define XAPIC_ICR_HIGH      0x310u
#define MSR_X2APIC_ICR      0x830u
#define ICR_DELIVERY_INIT   (5u << 8)
#define ICR_SEND_PENDING    (1u << 12)
#define ICR_LEVEL_ASSERT    (1u << 14)
#define ICR_ALL_BUT_SELF    (3u << 18)
#define ICR_INIT_OTHERS     (ICR_ALL_BUT_SELF | ICR_LEVEL_ASSERT | ICR_DELIVERY_INIT)

/* Polls of the delivery status; an idle bus accepts an IPI at once. */
#define ICR_POLL_LIMIT      1000000u

static void xapic_write(uint64_t base, uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)phys_to_virt(base + reg) = v;
}

static uint32_t xapic_read(uint64_t base, uint32_t reg)
{
	return *(volatile uint32_t *)phys_to_virt(base + reg);
}

/* xAPIC: through the MMIO page, uncached, at its architectural address. */
static void init_others_xapic(uint64_t apic_base_msr)
{
	uint64_t base = apic_base_msr & APIC_BASE_ADDR;
	unsigned polls = 0;

	if (base != MMIO_LAPIC_DEFAULT) {
		/* Moved (the loader can write the MSR): back to where the
		 * chipset window keeps it out of RAM for good. */
		console_printf("smp: local APIC was at %#llx; moved back to %#llx\n",
			       (unsigned long long)base, MMIO_LAPIC_DEFAULT);
		wrmsr(MSR_IA32_APIC_BASE,
		      (apic_base_msr & ~APIC_BASE_ADDR) | MMIO_LAPIC_DEFAULT);
		base = MMIO_LAPIC_DEFAULT;
	}
	paging_early_uncached(base);
	xapic_write(base, XAPIC_ICR_HIGH, 0); /* no destination: shorthand */
	xapic_write(base, XAPIC_ICR_LOW, ICR_INIT_OTHERS);
	while (xapic_read(base, XAPIC_ICR_LOW) & ICR_SEND_PENDING) {
		if (++polls == ICR_POLL_LIMIT)
			boot_failed("the INIT IPI to the other CPUs was not sent "
				    "(ICR delivery status stays pending)");
		__asm__ volatile("pause");
	}
}

uint64_t smp_park_aps(void)
{
	uint64_t v = rdmsr(MSR_IA32_APIC_BASE);
	bool x2apic = v & APIC_BASE_X2APIC;

	if (!(v & APIC_BASE_BSP))
		boot_failed("started on an application processor "
			    "(IA32_APIC_BASE.BSP is 0): the boot CPU is unknown");
	if (!(v & APIC_BASE_ENABLE)) {
		/* Globally disabled (by the loader): no IPI without it. */
		v |= APIC_BASE_ENABLE;
		wrmsr(MSR_IA32_APIC_BASE, v);
		console_printf("smp: the local APIC was disabled; enabled to "
			       "park the other CPUs\n");
	}
	if (x2apic)
		wrmsr(MSR_X2APIC_ICR, ICR_INIT_OTHERS);
	else
		init_others_xapic(v);
	v = rdmsr(MSR_IA32_APIC_BASE);
	console_printf("smp: INIT sent to all other CPUs (%s, local APIC at "
		       "%#llx): they wait for a start-up IPI that is never sent\n",
		       x2apic ? "x2APIC" : "xAPIC",
		       (unsigned long long)(v & APIC_BASE_ADDR));
	return v & APIC_BASE_ADDR;
}
