/*
 * Which RAM is usable, decided from the loader's memory map without
 * believing it: "available" RAM minus everything the map also marks as
 * something else, minus every never-RAM range of the platform
 * (boot/platform_mmio.h), in whole 4 KiB frames. The hypervisor manages
 * the part at and above 1 MiB.
 */
#ifndef CUSTOS_BOOT_MEMMAP_H
#define CUSTOS_BOOT_MEMMAP_H

#include <custos/types.h>
#include "boot/multiboot2.h"
#include "boot/platform_mmio.h"

/* Below 1 MiB lies the real-mode legacy area: never managed, even where
 * it is usable RAM. */
#define MEMMAP_LOW_END 0x100000ull

/* Each cut adds at most one range to the merged available RAM, so this
 * many ranges always suffice. */
#define MEMMAP_MAX_RANGES (MB2_MAX_MMAP + PLATFORM_MMIO_MAX)

/* One carve: part of "available" RAM that is not RAM to hand out. */
struct memmap_carve {
	struct phys_range avail; /* the available RAM (touching entries merged) */
	uint64_t base, end;      /* the part of it carved out, [base, end) */
	const char *what;        /* the never-RAM range's name, or NULL when */
	uint32_t type;           /* a map entry of this type overlaps it */
};

typedef void (*memmap_carve_fn)(void *ctx, const struct memmap_carve *c);

/*
 * The usable RAM: page-aligned, sorted, disjoint ranges, written to out
 * (room for MEMMAP_MAX_RANGES); returns how many. 'report' (may be NULL) is
 * called once for each never-RAM range or non-available map entry that
 * overlaps available RAM, in the order of the list (map entries first).
 */
size_t memmap_usable(const struct mb2_info *info, const struct mmio_list *mmio,
		     struct phys_range *out, memmap_carve_fn report, void *ctx);

/* The parts of in[0..n) inside [lo, hi), in their order; returns how many
 * were written to out (room for n). */
size_t memmap_clip(const struct phys_range *in, size_t n, uint64_t lo,
		   uint64_t hi, struct phys_range *out);

/*
 * May firmware tables be read at [base, base + len)? Only if the whole
 * range is memory the map reserves for firmware (reserved, ACPI or ACPI NVS
 * entries) and no entry calls any of it available or bad RAM.
 */
bool memmap_is_firmware(const struct mb2_info *info, uint64_t base,
			uint64_t len);

#endif
