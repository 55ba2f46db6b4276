/*
 * The few ACPI tables the boot needs, to learn where the platform's MMIO
 * lies (and how many CPUs there are): RSDT/XSDT, MADT, HPET, MCFG, TPM2.
 *
 * ACPI is untrusted input: the RSDP comes from the boot loader's Multiboot2
 * tags, and every table is read through a callback that decides which
 * physical bytes may be read at all (the hypervisor allows only memory the
 * map reserves for firmware). Every length, count and checksum is checked
 * before a byte is used; a table is copied out before it is parsed.
 * Spec: ACPI 6.5, sections 5.2.5 (RSDP), 5.2.6 (header), 5.2.7/5.2.8
 * (RSDT/XSDT), 5.2.12 (MADT); IA-PC HPET 1.0a, 3.2.4; PCI Firmware 3.2,
 * 4.1.2 (MCFG); TCG ACPI Specification 1.3, 8.3 (TPM2).
 */
#ifndef CUSTOS_BOOT_ACPI_H
#define CUSTOS_BOOT_ACPI_H

#include <custos/types.h>

/* Limits of what we accept; anything larger is refused, not truncated. */
#define ACPI_MAX_TABLE_LEN 0x10000u /* bytes of one table we parse */
#define ACPI_MAX_TABLES    256u     /* entries of the RSDT/XSDT */
#define ACPI_MAX_LAPICS    2u       /* the MADT's 32-bit address and its override */
#define ACPI_MAX_IOAPICS   64u
#define ACPI_MAX_HPETS     8u
#define ACPI_MAX_ECAMS     16u

/*
 * Copy len bytes of host-physical memory at pa into buf. Returns false,
 * copying nothing, if any byte of [pa, pa + len) may not be read.
 */
typedef bool (*acpi_read_fn)(void *ctx, uint64_t pa, void *buf, size_t len);

struct acpi_info {
	bool xsdt;              /* the root table is the XSDT (else the RSDT) */
	uint64_t root;          /* its physical address */
	size_t table_count;     /* entries it lists */

	bool has_madt;
	uint32_t cpus;          /* MADT processor entries (local APIC, x2APIC) marked enabled */
	size_t lapic_count;     /* the MADT's local APIC address, and its override if any */
	uint64_t lapic[ACPI_MAX_LAPICS];
	size_t ioapic_count;
	uint64_t ioapic[ACPI_MAX_IOAPICS];

	size_t hpet_count;      /* HPET tables whose block is in memory space */
	uint64_t hpet[ACPI_MAX_HPETS];

	size_t ecam_count;      /* MCFG allocations: PCI configuration windows */
	struct phys_range ecam[ACPI_MAX_ECAMS];

	bool has_tpm2;
	uint32_t tpm2_start_method;
	uint64_t tpm2_control;  /* control area address; 0 if none */
};

/* ACPI 6.5 5.2.5.3, 5.2.6: the bytes of a structure sum to 0 (mod 256). */
bool acpi_checksum_ok(const uint8_t *b, size_t n);

/*
 * Parse the tables reachable from the RSDP copy 'rsdp' (rsdp_len bytes, as
 * boot/multiboot2.c validated it: signature and checksums). Tables other
 * than the four above are looked at only for their signature. Returns 0 and
 * fills *out, or -1 with a one-line reason in err (then *out is unspecified
 * and the caller must not use any of it).
 */
int acpi_parse(const uint8_t *rsdp, size_t rsdp_len, acpi_read_fn read,
	       void *ctx, struct acpi_info *out, char *err, size_t err_len);

#endif
