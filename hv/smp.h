/* The other CPUs: parked at boot, never started (docs/boot.md, "Other CPUs"). */
#ifndef CUSTOS_HV_SMP_H
#define CUSTOS_HV_SMP_H

#include <custos/types.h>

/*
 * Send INIT to every other CPU (all-excluding-self shorthand), so each one
 * waits for a start-up IPI that nobody sends. Runs before anything the boot
 * loader handed over is read. Stops the boot cleanly if this CPU is not the
 * boot processor or the INIT cannot be sent. Returns the physical base of
 * this CPU's local APIC (IA32_APIC_BASE), which no frame may ever cover.
 */
uint64_t smp_park_aps(void);

#endif
