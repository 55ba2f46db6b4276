/*
 * The never-RAM list (see platform_mmio.h). Built freestanding and hosted.
 */
#include "boot/platform_mmio.h"

/* End of a range, clamped instead of wrapping (an ACPI address is input). */
static uint64_t range_end(uint64_t base, uint64_t len)
{
	return len > UINT64_MAX - base ? UINT64_MAX : base + len;
}

static void add(struct mmio_list *l, uint64_t base, uint64_t len,
		const char *what)
{
	if (base == 0 || len == 0)
		return;
	for (size_t i = 0; i < l->count; i++)
		if (l->r[i].base == base && l->r[i].len == len)
			return;
	/* The capacity is the sum of every source's own limit. */
	if (l->count < PLATFORM_MMIO_MAX)
		l->r[l->count++] = (struct mmio_range){ base, len, what };
}

static void add_acpi(struct mmio_list *l, const struct acpi_info *a)
{
	for (size_t i = 0; i < a->lapic_count; i++)
		add(l, a->lapic[i], MMIO_LAPIC_LEN, "local APIC (ACPI MADT)");
	for (size_t i = 0; i < a->ioapic_count; i++)
		add(l, a->ioapic[i], MMIO_IOAPIC_LEN, "I/O APIC (ACPI MADT)");
	for (size_t i = 0; i < a->hpet_count; i++)
		add(l, a->hpet[i], MMIO_HPET_LEN, "HPET (ACPI HPET)");
	for (size_t i = 0; i < a->ecam_count; i++)
		add(l, a->ecam[i].base, a->ecam[i].len, "PCI ECAM (ACPI MCFG)");
	if (a->has_tpm2)
		add(l, a->tpm2_control & ~PAGE_MASK, MMIO_TPM_CRB_LEN,
		    "TPM control area (ACPI TPM2)");
}

void platform_mmio_build(struct mmio_list *l, uint64_t lapic_base,
			 const struct acpi_info *acpi)
{
	l->count = 0;
	add(l, lapic_base & ~PAGE_MASK, MMIO_LAPIC_LEN,
	    "local APIC (IA32_APIC_BASE)");
	if (acpi)
		add_acpi(l, acpi);
	add(l, MMIO_LAPIC_DEFAULT, MMIO_LAPIC_LEN, "local APIC (default)");
	add(l, MMIO_IOAPIC_DEFAULT, MMIO_IOAPIC_LEN, "I/O APIC (default)");
	add(l, MMIO_HPET_DEFAULT, MMIO_HPET_LEN, "HPET (default)");
	add(l, MMIO_TPM_TIS, MMIO_TPM_TIS_LEN, "TPM TIS localities 0-4");
	add(l, MMIO_LEGACY_HOLE, MMIO_LEGACY_HOLE_END - MMIO_LEGACY_HOLE,
	    "legacy VGA/BIOS hole");
	add(l, MMIO_CHIPSET_WINDOW, MMIO_CHIPSET_END - MMIO_CHIPSET_WINDOW,
	    "chipset, APIC and firmware window below 4 GiB");
}

const struct mmio_range *platform_mmio_overlap(const struct mmio_list *l,
					       uint64_t base, uint64_t end)
{
	for (size_t i = 0; i < l->count; i++) {
		const struct mmio_range *r = &l->r[i];

		if (base < end && r->base < end &&
		    base < range_end(r->base, r->len))
			return r;
	}
	return NULL;
}
