/* Ending the hypervisor's run: power off with a status the harness reads. */
#ifndef CUSTOS_HV_POWER_H
#define CUSTOS_HV_POWER_H

#include "hv/boot_defs.h"

/*
 * Print "custos: power off, status N (why)", then ask the emulator to exit
 * (QEMU isa-debug-exit, Bochs shutdown port). On hardware without either,
 * the CPU halts with interrupts off. Never returns.
 */
__attribute__((noreturn)) void power_off(int status, const char *why);

/* Input the hypervisor cannot boot with (from the boot loader, firmware or
 * the machine): "custos: BOOT FAILED: <reason>", power off with
 * EXIT_BOOT_FAILED. */
__attribute__((noreturn, format(printf, 1, 2))) void boot_failed(const char *fmt, ...);

/* A violated invariant: log the reason and power off with EXIT_PANIC. */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			panic("CHECK failed: %s (%s:%d)", #cond, __FILE__, \
			      __LINE__);                                   \
	} while (0)

#endif
