/*
 * The boot environment check (see bootenv.h): the policy lives in boot/
 * (acpi.c, platform_mmio.c, memmap.c, modules.c, all host-tested); this
 * file reads physical memory for it and writes the log lines.
 */
#include "hv/bootenv.h"
#include "boot/modules.h"
#include "hv/console.h"
#include "hv/memory.h"

#include <string.h>

static struct bootenv env;

/*
 * ACPI tables are read only where the map says firmware keeps them, below
 * 4 GiB, and never inside the chipset window: no device register is read
 * on the word of a pointer the loader handed over.
 */
static bool read_firmware(void *ctx, uint64_t pa, void *buf, size_t len)
{
	const struct mb2_info *info = ctx;

	if (len == 0 || pa >= EARLY_MAP_END || len > EARLY_MAP_END - pa)
		return false;
	if (pa + len > MMIO_CHIPSET_WINDOW)
		return false;
	if (!memmap_is_firmware(info, pa, len))
		return false;
	memcpy(buf, phys_to_virt(pa), len);
	return true;
}

static void log_acpi(void)
{
	const struct acpi_info *a = &env.acpi;

	console_printf("acpi: %s at %#llx lists %zu tables: MADT %s (%u CPUs, "
		       "%zu I/O APIC%s), %zu HPET, %zu PCI ECAM window%s, TPM2 %s\n",
		       a->xsdt ? "XSDT" : "RSDT", (unsigned long long)a->root,
		       a->table_count, a->has_madt ? "present" : "absent",
		       a->cpus, a->ioapic_count, a->ioapic_count == 1 ? "" : "s",
		       a->hpet_count, a->ecam_count, a->ecam_count == 1 ? "" : "s",
		       a->has_tpm2 ? "present" : "absent");
}

static void read_acpi(const struct mb2_info *info)
{
	char err[160];

	if (!info->rsdp_version) {
		console_printf("acpi: no RSDP from the boot loader; only the "
			       "architectural MMIO defaults are carved\n");
		return;
	}
	if (acpi_parse(info->rsdp, info->rsdp_len, read_firmware, (void *)info,
		       &env.acpi, err, sizeof(err))) {
		console_printf("acpi: tables not used: %s; only the architectural "
			       "MMIO defaults are carved\n", err);
		return;
	}
	env.acpi_ok = true;
	log_acpi();
}

static void log_carve(void *ctx, const struct memmap_carve *c)
{
	(void)ctx;
	console_printf("memory: carved %#llx-%#llx out of available "
		       "%#llx-%#llx: %s%s\n", (unsigned long long)c->base,
		       (unsigned long long)(c->end - 1),
		       (unsigned long long)c->avail.base,
		       (unsigned long long)(c->avail.base + c->avail.len - 1),
		       c->what ? c->what : "the map also calls it ",
		       c->what ? "" : mb2_mem_type_name(c->type));
}

static void log_refusal(void *ctx, const char *reason)
{
	(void)ctx;
	console_printf("boot: %s; the boot goes on without it\n", reason);
}

/* How many CPUs the INIT of smp_park_aps() parked, as far as ACPI knows. */
static void log_parked(void)
{
	if (!env.acpi_ok || !env.acpi.has_madt || env.acpi.cpus == 0) {
		console_printf("smp: no MADT to count the other CPUs by: how many "
			       "were parked is unknown\n");
		return;
	}
	console_printf("smp: the MADT lists %u enabled CPU%s: %u application "
		       "processor%s parked\n", env.acpi.cpus,
		       env.acpi.cpus == 1 ? "" : "s", env.acpi.cpus - 1,
		       env.acpi.cpus == 2 ? "" : "s");
}

const struct bootenv *bootenv_check(struct mb2_info *info, uint64_t lapic_base)
{
	read_acpi(info);
	log_parked();
	platform_mmio_build(&env.mmio, lapic_base, env.acpi_ok ? &env.acpi : NULL);
	env.usable_count = memmap_usable(info, &env.mmio, env.usable, log_carve,
					 NULL);
	env.managed_count = memmap_clip(env.usable, env.usable_count,
					MEMMAP_LOW_END, UINT64_MAX, env.managed);
	modules_screen(info, env.usable, env.usable_count, &env.mmio,
		       (uint64_t)__image_start, (uint64_t)__image_end,
		       log_refusal, NULL);
	return &env;
}
