/*
 * libFuzzer target for the ACPI table parser (boot/acpi.c) and what the
 * boot builds from its result (boot/platform_mmio.c, boot/memmap.c).
 *
 * Input: 36 bytes of RSDP, then a window of "physical memory" that starts
 * at FUZZ_MEM_BASE; the reader serves only that window (as the hypervisor
 * serves only firmware memory). The seeds in corpus/acpi are Bochs-like
 * and OVMF-like table sets at that address. An accepted result must stay
 * within every limit, and the never-RAM list built from it must keep the
 * architectural defaults and carve a fixed map into sane ranges.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/acpi.h"
#include "boot/memmap.h"
#include "boot/platform_mmio.h"
#include "fuzz_util.h"

#define FUZZ_MEM_BASE 0xe0000ull
#define RSDP_LEN 36u

static const uint8_t *window;
static size_t window_len;
static size_t reads;

static bool read_window(void *ctx, uint64_t pa, void *buf, size_t len)
{
	(void)ctx;
	reads++;
	require(len > 0 && len <= ACPI_MAX_TABLE_LEN);
	if (pa < FUZZ_MEM_BASE || pa - FUZZ_MEM_BASE > window_len ||
	    len > window_len - (pa - FUZZ_MEM_BASE))
		return false;
	memcpy(buf, window + (pa - FUZZ_MEM_BASE), len);
	return true;
}

static bool has_default(const struct mmio_list *l, uint64_t base)
{
	for (size_t i = 0; i < l->count; i++)
		if (l->r[i].base == base)
			return true;
	return false;
}

/* The never-RAM list from this ACPI, and a carve of RAM up to 8 GiB. */
static void check_mmio(const struct acpi_info *a)
{
	static struct mb2_info map;
	static struct mmio_list l;
	static struct phys_range out[MEMMAP_MAX_RANGES];
	size_t n;

	platform_mmio_build(&l, 0xfee00000, a);
	require(l.count <= PLATFORM_MMIO_MAX);
	require(has_default(&l, MMIO_IOAPIC_DEFAULT) && has_default(&l, MMIO_HPET_DEFAULT) &&
		has_default(&l, MMIO_TPM_TIS) && has_default(&l, MMIO_LEGACY_HOLE) &&
		has_default(&l, MMIO_LAPIC_DEFAULT));
	memset(&map, 0, sizeof(map));
	map.mmap_count = 1;
	map.mmap[0] = (struct mb2_mmap_entry){ 0, 8ull << 30, MB2_MEM_AVAILABLE };
	n = memmap_usable(&map, &l, out, NULL, NULL);
	require(n <= MEMMAP_MAX_RANGES);
	for (size_t i = 0; i < n; i++) {
		require(out[i].len && !((out[i].base | out[i].len) & PAGE_MASK));
		require(!platform_mmio_overlap(&l, out[i].base, out[i].base + out[i].len));
		require(i == 0 || out[i - 1].base + out[i - 1].len < out[i].base);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acpi_info a;
	char err[160];
	int rc;

	if (size < RSDP_LEN)
		return 0;
	window = data + RSDP_LEN;
	window_len = size - RSDP_LEN;
	reads = 0;
	rc = acpi_parse(data, RSDP_LEN, read_window, NULL, &a, err, sizeof(err));
	require(memchr(err, 0, sizeof(err)) != NULL);
	/* Header and body of each listed table, the root twice. */
	require(reads <= 2 + 2 * ACPI_MAX_TABLES);
	if (rc != 0) {
		require(rc == -1 && err[0] != '\0');
		return 0;
	}
	require(err[0] == '\0');
	require(a.table_count <= ACPI_MAX_TABLES);
	require(a.lapic_count <= ACPI_MAX_LAPICS && a.ioapic_count <= ACPI_MAX_IOAPICS);
	require(a.hpet_count <= ACPI_MAX_HPETS && a.ecam_count <= ACPI_MAX_ECAMS);
	require(a.has_madt ? a.lapic_count >= 1 : a.lapic_count + a.ioapic_count + a.cpus == 0);
	for (size_t i = 0; i < a.ecam_count; i++)
		require(a.ecam[i].len >= (1u << 20) && a.ecam[i].len <= (256u << 20) &&
			a.ecam[i].base <= UINT64_MAX - a.ecam[i].len);
	check_mmio(&a);
	return 0;
}
