#include "hv/memory.h"
#include "hv/console.h"
#include "hv/power.h"
#include "tcb/phys_hole.h"
#include "tcb/platform.h"

#include <string.h>

#define LOW_MEMORY_END  0x100000ull   /* below 1 MiB: legacy, never managed */
#define EARLY_MAP_END   0x100000000ull /* boot/entry.S maps the first 4 GiB */

static struct frame_table frames;

/* Eight bytes a step: as fast as REP STOSB on hardware (fast strings), and
 * an eighth of the steps where each one costs (Bochs counts one TSC tick
 * per STOSB byte, per STOSQ word). Every frame that changes owner passes
 * here, so a VM's creation and teardown are mostly this. */
static void zero_frame(uint64_t pfn, void *ctx)
{
	void *p = phys_to_virt(pfn << PAGE_SHIFT);
	uint64_t n = PAGE_SIZE / 8;

	(void)ctx;
	__asm__ volatile("rep stosq" : "+D"(p), "+c"(n) : "a"(0ull) : "memory");
}

struct frame_table *memory_frames(void)
{
	return &frames;
}

uint64_t memory_alloc_tcb_frame(void)
{
	uint64_t pfn;
	int err = frame_alloc(&frames, FRAME_TCB, &pfn);

	if (err)
		panic("out of memory for the TCB: %s", frame_strerror(err));
	/* Until the final page tables are in, only the first 4 GiB are mapped:
	 * the allocator hands out the lowest free frames first. */
	CHECK((pfn << PAGE_SHIFT) < EARLY_MAP_END);
	return pfn << PAGE_SHIFT;
}

/* Available RAM above 1 MiB and below 'limit', clipped; returns the count. */
static size_t usable_ranges(const struct mb2_info *info, uint64_t limit,
			    struct phys_range *out)
{
	size_t n = 0;

	for (size_t i = 0; i < info->mmap_count; i++) {
		const struct mb2_mmap_entry *e = &info->mmap[i];
		uint64_t lo = e->base, hi = e->base + e->len;

		if (e->type != MB2_MEM_AVAILABLE)
			continue;
		if (lo < LOW_MEMORY_END)
			lo = LOW_MEMORY_END;
		if (hi > limit)
			hi = limit;
		if (lo < hi)
			out[n++] = (struct phys_range){ lo, hi - lo };
	}
	return n;
}

static size_t boot_reserved_ranges(const struct mb2_info *info,
				   struct phys_range *out)
{
	size_t n = 0;

	out[n++] = (struct phys_range){
		(uint64_t)__image_start,
		(uint64_t)__image_end - (uint64_t)__image_start };
	for (size_t i = 0; i < info->module_count; i++)
		out[n++] = (struct phys_range){
			info->modules[i].start,
			info->modules[i].end - info->modules[i].start };
	return n;
}

void memory_init(const struct mb2_info *info)
{
	struct phys_range usable[MB2_MAX_MMAP];
	struct phys_range reserved[MB2_MAX_MODULES + 2];
	size_t n_usable = usable_ranges(info, UINT64_MAX, usable);
	size_t n_reserved = boot_reserved_ranges(info, reserved);
	uint64_t top = 0, storage;

	for (size_t i = 0; i < n_usable; i++)
		if (usable[i].base + usable[i].len > top)
			top = usable[i].base + usable[i].len;
	if (top == 0)
		panic("memory map has no usable RAM above 1 MiB");

	uint64_t nframes = top >> PAGE_SHIFT;
	uint64_t bytes = (frame_table_bytes(nframes) + PAGE_MASK) & ~PAGE_MASK;
	/* The table must be reachable through the early 4 GiB map. */
	size_t n_low = usable_ranges(info, EARLY_MAP_END, usable);
	if (phys_find_hole(usable, n_low, reserved, n_reserved, bytes,
			   PAGE_SIZE, LOW_MEMORY_END, &storage))
		panic("no room below 4 GiB for a %llu KiB frame table",
		      (unsigned long long)(bytes >> 10));

	frame_table_init(&frames, phys_to_virt(storage), nframes, zero_frame, NULL);
	n_usable = usable_ranges(info, UINT64_MAX, usable);
	for (size_t i = 0; i < n_usable; i++)
		frame_table_add_usable(&frames, usable[i].base, usable[i].len);
	for (size_t i = 0; i < n_reserved; i++)
		frame_table_reserve_boot(&frames, reserved[i].base, reserved[i].len);
	frame_table_reserve_boot(&frames, storage, bytes);
	frame_table_seal(&frames);
	CHECK(frame_table_check(&frames));

	console_printf("memory: %llu MiB managed, %llu frames free, "
		       "frame table at %#llx (%llu KiB)\n",
		       (unsigned long long)(frames.managed_count >> 8),
		       (unsigned long long)frames.free_count,
		       (unsigned long long)storage,
		       (unsigned long long)(bytes >> 10));
}

uint64_t memory_release_module(const struct mb2_module *m)
{
	uint64_t n = 0;

	for (uint64_t a = m->start & ~PAGE_MASK; a < m->end; a += PAGE_SIZE, n++)
		CHECK(frame_release(&frames, a >> PAGE_SHIFT, FRAME_TCB) == FRAME_OK);
	return n;
}

/* tcb/platform.h: the TCB reaches frames through the identity map. */
void *tcb_phys_to_virt(uint64_t pa)
{
	return phys_to_virt(pa);
}
