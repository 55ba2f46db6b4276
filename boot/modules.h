/*
 * Which boot modules are believed (docs/boot.md, "Boot modules").
 *
 * The loader says where each module lies; a module is used only if that
 * place is one the hypervisor could own frame by frame and give back
 * later. A refused module is dropped from the list as if the loader had
 * never named it: its bytes are never read and its frames never released.
 * Refusing one never stops the boot; what needed it explains its absence
 * (e.g. "tpgvm: no tpgvm-envelope module").
 */
#ifndef CUSTOS_BOOT_MODULES_H
#define CUSTOS_BOOT_MODULES_H

#include <custos/types.h>
#include "boot/multiboot2.h"
#include "boot/platform_mmio.h"

/* Called for each refused module with a one-line reason naming it. */
typedef void (*module_refuse_fn)(void *ctx, const char *reason);

/*
 * Refuse every module that
 *  - has no name, or a name another module has too (which one is meant is
 *    unknown, so none of them is used);
 *  - is empty;
 *  - touches, in any of its 4 KiB frames: the hypervisor image
 *    [image_start, image_end), another module, a range of 'mmio', a map
 *    entry that is not available RAM, or anything outside the 'usable'
 *    ranges (memmap_usable(): sorted, disjoint, page-aligned).
 * Keeps the others in their order; returns how many were refused. A kept
 * module below 1 MiB lies wholly below the legacy hole (which is in every
 * 'mmio' list), in usable RAM the hypervisor does not manage: it must be
 * moved before it is used (memory_init() does).
 */
size_t modules_screen(struct mb2_info *info, const struct phys_range *usable,
		      size_t n_usable, const struct mmio_list *mmio,
		      uint64_t image_start, uint64_t image_end,
		      module_refuse_fn refuse, void *ctx);

#endif
