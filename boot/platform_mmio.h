/*
 * The platform's physical ranges that are never RAM: device MMIO and the
 * legacy hole. No frame that touches one of them is ever managed, so none
 * can be handed to a VM or to the TCB, whatever the memory map claims
 * (docs/boot.md, "The boot environment").
 *
 * The list is built from the architectural defaults (fixed addresses every
 * PC platform uses), the local APIC base the CPU itself reports, and what
 * ACPI adds. ACPI comes from the same untrusted world as the map, so it can
 * only add ranges: without it, or with tables that fail a check, the
 * defaults alone remain.
 */
#ifndef CUSTOS_BOOT_PLATFORM_MMIO_H
#define CUSTOS_BOOT_PLATFORM_MMIO_H

#include <custos/types.h>
#include "boot/acpi.h"

/* Architectural defaults. */
#define MMIO_LAPIC_DEFAULT   0xfee00000ull /* SDM Vol. 3A 11.4.1 (IA32_APIC_BASE reset value) */
#define MMIO_LAPIC_LEN       0x1000ull
#define MMIO_IOAPIC_DEFAULT  0xfec00000ull /* PC chipsets (ICH/PCH, AMD FCH) */
#define MMIO_IOAPIC_LEN      0x1000ull
#define MMIO_HPET_DEFAULT    0xfed00000ull /* IA-PC HPET 1.0a, 2.3 */
#define MMIO_HPET_LEN        0x400ull
#define MMIO_TPM_TIS         0xfed40000ull /* TCG PC Client PTP 2.0, 5.4.1: */
#define MMIO_TPM_TIS_LEN     0x5000ull     /* localities 0-4, 4 KiB each */
#define MMIO_TPM_CRB_LEN     0x1000ull     /* one CRB control area page */
#define MMIO_LEGACY_HOLE     0xa0000ull    /* VGA frame buffer, option ROMs, */
#define MMIO_LEGACY_HOLE_END 0x100000ull   /* BIOS: never RAM on a PC */
/* Below 4 GiB the top 20 MiB hold the I/O APICs, HPET, TPM, chipset
 * registers, the local APIC / MSI window (SDM Vol. 3A 11.11.1) and the
 * firmware flash with the reset vector (SDM Vol. 3A 10.1.4): never RAM on a PC. */
#define MMIO_CHIPSET_WINDOW  0xfec00000ull
#define MMIO_CHIPSET_END     0x100000000ull

/* Every source's own limit: ACPI's, IA32_APIC_BASE, TPM2, six defaults. */
#define PLATFORM_MMIO_MAX (ACPI_MAX_LAPICS + ACPI_MAX_IOAPICS + ACPI_MAX_HPETS + \
			   ACPI_MAX_ECAMS + 1 + 1 + 6)

struct mmio_range {
	uint64_t base;
	uint64_t len;
	const char *what; /* a name for the log: "local APIC (IA32_APIC_BASE)" */
};

struct mmio_list {
	size_t count;
	struct mmio_range r[PLATFORM_MMIO_MAX];
};

/*
 * The ranges, most specific first and the wide default windows last (so a
 * log of what overlaps them names the device where it can): the local APIC
 * page at 'lapic_base' (from IA32_APIC_BASE), what 'acpi' lists (NULL when
 * ACPI is absent or was refused), then the defaults. Empty ranges (an ACPI
 * address of 0) and exact repeats are left out.
 */
void platform_mmio_build(struct mmio_list *l, uint64_t lapic_base,
			 const struct acpi_info *acpi);

/* The first range that overlaps [base, end), or NULL. */
const struct mmio_range *platform_mmio_overlap(const struct mmio_list *l,
					       uint64_t base, uint64_t end);

#endif
