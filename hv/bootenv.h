/*
 * The boot environment, checked rather than believed (docs/boot.md, "The
 * boot environment"): ACPI read from firmware memory only, the never-RAM
 * ranges of the platform, the usable RAM carved from the loader's map, and
 * the boot modules screened against both.
 */
#ifndef CUSTOS_HV_BOOTENV_H
#define CUSTOS_HV_BOOTENV_H

#include "boot/acpi.h"
#include "boot/memmap.h"
#include "boot/multiboot2.h"
#include "boot/platform_mmio.h"

struct bootenv {
	bool acpi_ok;              /* acpi holds checked tables */
	struct acpi_info acpi;
	struct mmio_list mmio;     /* never RAM */
	size_t usable_count;       /* RAM, below 1 MiB too (for the modules) */
	struct phys_range usable[MEMMAP_MAX_RANGES];
	size_t managed_count;      /* its part from 1 MiB up: the frame table's */
	struct phys_range managed[MEMMAP_MAX_RANGES];
};

/*
 * Check what the boot loader described: read ACPI, build the never-RAM
 * list (with the local APIC at lapic_base), carve the usable RAM and drop
 * every module that cannot be used from 'info', logging each carve and
 * refusal. Run once, before memory_init(); the result stays valid.
 */
const struct bootenv *bootenv_check(struct mb2_info *info, uint64_t lapic_base);

#endif
