/*
 * A local APIC (SDM Vol. 3A chapter 11) in xAPIC mode -- its registers in
 * the page at 0xFEE00000, which the hypervisor emulates access by access
 * (vlapic_mmio) -- or in x2APIC mode, as MSRs 0x800-0x8FF; and
 * IA32_APIC_BASE (0x1B) and IA32_TSC_DEADLINE (0x6E0). One CPU, no I/O
 * APIC: the PIC reaches the CPU through LINT0 as ExtINT (virtual wire),
 * the timer is the APIC's own (one-shot, periodic, TSC-deadline), and an
 * IPI can only go to itself. The state at power-on is what a BIOS leaves:
 * xAPIC mode, software enabled, LINT0 ExtINT, LINT1 NMI (vdev/README.md,
 * "Local APIC").
 */
#ifndef CUSTOS_VDEV_VLAPIC_H
#define CUSTOS_VDEV_VLAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define VLAPIC_SAVE_SIZE 152
#define VLAPIC_MMIO_BASE 0xfee00000ull

#define VLAPIC_MSR_APIC_BASE   0x01bu
#define VLAPIC_MSR_TSC_DEADLINE 0x6e0u
#define VLAPIC_MSR_FIRST       0x800u
#define VLAPIC_MSR_LAST        0x8ffu

/* The local vector table, in register order from 0x832. */
enum vlapic_lvt {
	LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR,
	LVT_COUNT
};

struct vlapic {
	uint64_t apic_base;    /* IA32_APIC_BASE: xAPIC, x2APIC or disabled */
	uint32_t tpr;          /* task priority (bits 7-0) */
	uint32_t svr;          /* spurious vector, bit 8 software enable */
	uint32_t esr;          /* errors since the last ESR write */
	uint64_t icr;          /* the last ICR write (xAPIC: high half 63:32) */
	uint32_t ldr, dfr;     /* xAPIC logical destination and its format */
	uint32_t lvt[LVT_COUNT];
	uint32_t isr[8], tmr[8], irr[8]; /* 256 bits each, vector n at n/32 */
	uint32_t timer_initial; /* initial count; 0 stops a count timer */
	uint32_t timer_divide;  /* divide configuration (bits 0, 1, 3) */
	uint64_t timer_next;    /* host TSC of the next count timer event,
				 * UINT64_MAX when none */
	uint64_t tsc_deadline;  /* guest TSC of the deadline, 0 disarmed */
	unsigned int tick_shift; /* a count tick is 2^shift TSC cycles at
				  * divide 1: the crystal of CPUID 0x15 */
	uint64_t tsc_offset;    /* guest TSC = host TSC + this (not saved:
				 * the vCPU context holds the guest TSC) */
};

/* Power-on state for a TSC of tsc_hz (vdev/vtime.h's range). */
void vlapic_init(struct vlapic *l, uint64_t tsc_hz);

/* Halvings of tsc_hz until it fits 32 bits: CPUID leaf 0x15 reports the
 * TSC as that crystal times 2^shift, and the APIC timer counts at it. */
unsigned int vlapic_tick_shift(uint64_t tsc_hz);

/* The VM's TSC offset (guest = host + offset), for the TSC deadline. */
void vlapic_set_tsc_offset(struct vlapic *l, uint64_t offset);

/* Whether msr is one of the APIC's (IA32_APIC_BASE, IA32_TSC_DEADLINE,
 * 0x800-0x8FF). */
bool vlapic_msr_is_apic(uint32_t msr);

/* RDMSR and WRMSR of one of those at host TSC now; false means #GP
 * (a register that does not exist or cannot be accessed that way, a
 * reserved bit, a mode that is not offered). */
bool vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *value,
		     uint64_t now);
bool vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t value,
		      uint64_t now);

/* A 32-bit access at offset (0..0xFFF) of the xAPIC page: false when
 * the APIC is not in xAPIC mode or the access is not to a register's
 * 16-byte-aligned start (the caller decides; the SDM leaves it undefined).
 * A register the mode does not have reads 0 and ignores writes, and sets
 * ESR's illegal-register bit. */
bool vlapic_mmio(struct vlapic *l, uint32_t offset, bool write,
		 uint32_t *value, uint64_t now);

/* Timer events up to now go to IRR. */
void vlapic_advance(struct vlapic *l, uint64_t now);

/* Host TSC of the next timer event (<= now when due), UINT64_MAX when
 * none is armed. */
uint64_t vlapic_next_deadline(const struct vlapic *l, uint64_t now);

/* A fixed interrupt the CPU would take now: its vector, or -1. */
int vlapic_pending_vector(const struct vlapic *l);

/* The CPU takes the vector vlapic_pending_vector returned (IRR -> ISR). */
void vlapic_accept(struct vlapic *l, int vector);

/* Whether the PIC's INTR reaches the CPU: LINT0 unmasked as ExtINT, or
 * the APIC disabled (then INTR goes straight to the CPU). */
bool vlapic_passes_extint(const struct vlapic *l);

void vlapic_save(const struct vlapic *l, uint64_t now,
		 uint8_t out[VLAPIC_SAVE_SIZE]);
/* False (l untouched) for any field out of range. saved_hz is the rate
 * the state was saved at; tsc_hz and now are this platform's. */
bool vlapic_load(struct vlapic *l, const uint8_t in[VLAPIC_SAVE_SIZE],
		 uint64_t saved_hz, uint64_t tsc_hz, uint64_t now);

#endif
