/*
 * A VM's virtual platform: the few PC devices an unmodified Linux kernel
 * needs (vdev/README.md lists them and what is refused). Every port access
 * of the guest comes here (hv/vm_exit.c); none reaches hardware.
 *
 * Architecture-neutral and host-compilable: time is the caller's TSC
 * value `now`, converted with the tsc_hz given at init, so the same state
 * means the same answers on every backend and in the unit tests. The state
 * is plain data: it is sealed with the vCPU context (vplatform_save) and
 * every byte of a loaded state is checked (vplatform_load), because a
 * sealed blob is untrusted input until then.
 */
#ifndef CUSTOS_VDEV_VPLATFORM_H
#define CUSTOS_VDEV_VPLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vdev/vio.h"
#include "vdev/vtime.h"
#include "vdev/vpic.h"
#include "vdev/vpit.h"
#include "vdev/vuart.h"
#include "vdev/vrtc.h"
#include "vdev/vmisc.h"
#include "vdev/vlapic.h"

/* The saved state (vdev/README.md, "Saved state"): a header of version,
 * zero word and the saving TSC rate, then each device's fields. */
#define VPLATFORM_SAVE_VERSION 2
#define VPLATFORM_SAVE_HEADER 16
#define VPLATFORM_SAVE_SIZE (VPLATFORM_SAVE_HEADER + VPIC_SAVE_SIZE + \
			     VPIT_SAVE_SIZE + VUART_SAVE_SIZE + \
			     VRTC_SAVE_SIZE + VMISC_SAVE_SIZE + \
			     VLAPIC_SAVE_SIZE)

struct vplatform {
	uint64_t tsc_hz;
	struct vpic pic;    /* 8259A pair, 0x20/0x21 and 0xA0/0xA1, ELCR 0x4D0/1 */
	struct vpit pit;    /* 8254, 0x40-0x43, gate/out of channel 2 on 0x61 */
	struct vuart uart;  /* 16550A at 0x3F8, IRQ 4: the VM's console */
	struct vrtc rtc;    /* MC146818 CMOS at 0x70/0x71, read-only time */
	struct vmisc misc;  /* 0x61, 0x80, i8042 0x60/0x64, 0x92, 0xCF8/0xCFC, 0xCF9 */
	struct vlapic lapic; /* xAPIC page or x2APIC MSRs: its timer, and the
			      * PIC on LINT0 */
	uint64_t last_now;  /* the latest `now` seen: time never runs back */
	/* Not saved: before this TSC no interrupt is pending and the next
	 * timer event is this one, as long as the guest touches no device.
	 * vplatform_intr_pending sets it when it finds none pending; every
	 * entry point that changes a device's state clears it (0). It is
	 * what makes the check before every entry (hv/virq.h) a compare on
	 * exits that touch no device (CPUID, hypercalls). */
	uint64_t quiet_until;
};

/* Power-on state; wall_seconds (Unix time at `now`, 0 when unknown) is
 * what the RTC counts from. A tsc_hz outside VTIME_MIN_HZ..VTIME_MAX_HZ
 * (vdev/vtime.h) is taken as the nearest end of that range. */
void vplatform_init(struct vplatform *p, uint64_t tsc_hz,
		    uint64_t wall_seconds, uint64_t now);

/* The VM's TSC offset (guest TSC = host TSC + offset), which the
 * TSC-deadline timer counts in; the caller sets it after init and load. */
void vplatform_set_tsc_offset(struct vplatform *p, uint64_t offset);

/* MOV to CR8: tpr (the value written, shifted left by 4) is the local
 * APIC's new TPR, which masks what it delivers. */
void vplatform_set_tpr(struct vplatform *p, uint32_t tpr);

/* RDMSR (write false) or WRMSR of an APIC MSR (vlapic_msr_is_apic);
 * false means the guest gets #GP. */
bool vplatform_msr(struct vplatform *p, uint32_t msr, bool write,
		   uint64_t *value, uint64_t now);

/* A 32-bit access at offset of the local APIC's xAPIC page; false when
 * the APIC is not in xAPIC mode or offset is not a register's start. */
bool vplatform_apic_mmio(struct vplatform *p, uint32_t offset, bool write,
			 uint32_t *value, uint64_t now);

/* One guest IN or OUT. An IN's value is the device's answer masked to
 * the size, all ones when VIO_UNCLAIMED (sizes other than 1, 2 and 4 are
 * never claimed); VIO_TX puts the byte sent in value. */
enum vio_result vplatform_io(struct vplatform *p, struct vio_access *a,
			     uint64_t now);

/* Whether an interrupt is waiting for the CPU at `now` (timers advanced
 * to now first): the PIC's through LINT0, or one of the local APIC's.
 * Before quiet_until, false at once (nothing changed since it was last
 * false, and no timer event has come). */
bool vplatform_intr_pending(struct vplatform *p, uint64_t now);

/* The CPU takes it (INTA): its vector, or -1 when none is pending any
 * more. One exception, as on a PC: when vplatform_intr_pending reported an
 * interrupt that the guest made vanish since (by masking it), the vector
 * is the master's spurious IRQ 7 (ICW2 base + 7), with no line put in
 * service; Linux counts it and carries on. The PIC's INTR (ExtINT) goes
 * before the local APIC's requests. */
int vplatform_intr_ack(struct vplatform *p, uint64_t now);

/* The TSC value of the next timer event that can raise an interrupt
 * (may be <= now when one is due); UINT64_MAX when none is armed (or it
 * lies beyond the TSC's end). The earlier of PIT channel 0's next edge and
 * the local APIC timer's, masked or not; an edge is coalesced with any
 * still pending at the PIC. */
uint64_t vplatform_next_deadline(const struct vplatform *p, uint64_t now);

/* Console input: bytes for the UART's receive side. Returns how many it
 * took (its receive buffer is bounded; the rest is the caller's to retry). */
size_t vplatform_rx(struct vplatform *p, const uint8_t *bytes, size_t n,
		    uint64_t now);

/* The state in a fixed, versioned, little-endian layout of exactly
 * VPLATFORM_SAVE_SIZE bytes, relative to `now` (timers are saved as time
 * elapsed at the saving rate, so they continue where they stopped on any
 * later TSC and rate). */
void vplatform_save(const struct vplatform *p, uint64_t now,
		    uint8_t out[VPLATFORM_SAVE_SIZE]);

/* The reverse, for tsc_hz and `now` of the platform it resumes on; false
 * (and p untouched) for a wrong length or version, a tsc_hz (either) out
 * of range, or any out-of-range or inconsistent field. */
bool vplatform_load(struct vplatform *p, const uint8_t *in, size_t len,
		    uint64_t tsc_hz, uint64_t now);

#endif
