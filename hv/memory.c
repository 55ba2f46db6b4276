#include "hv/memory.h"
#include "hv/console.h"
#include "hv/power.h"
#include "tcb/npt.h"
#include "tcb/phys_hole.h"
#include "tcb/platform.h"

#include <string.h>

static struct frame_table frames;

/* Eight bytes a step: as fast as REP STOSB on hardware (fast strings), and
 * an eighth of the steps where each one costs (Bochs counts one TSC tick
 * per STOSB byte, per STOSQ word). Every frame that changes owner passes
 * here once (tcb/frame_table.h: at its release, or when it is first handed
 * out after the boot), so a VM's teardown is mostly this. */
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

	/* At boot, how much RAM there is is the memory map's word. */
	if (err)
		boot_failed("out of memory for the TCB: %s", frame_strerror(err));
	/* Until the final page tables are in, only the first 4 GiB are mapped:
	 * the allocator hands out the lowest free frames first, so only a map
	 * with (almost) no RAM below 4 GiB gets here. */
	if ((pfn << PAGE_SHIFT) >= EARLY_MAP_END)
		boot_failed("no free RAM below 4 GiB for the TCB's boot structures");
	return pfn << PAGE_SHIFT;
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

/*
 * A module below 1 MiB (GRUB's EFI build puts small ones there) lies in RAM
 * the frame table does not manage, so it could never be owned or given
 * back frame by frame: copy it into TCB frames and scrub the original.
 */
static void move_low_modules(struct mb2_info *info)
{
	for (size_t i = 0; i < info->module_count; i++) {
		struct mb2_module *m = &info->modules[i];
		uint64_t size = m->end - m->start, first;

		if (m->start >= MEMMAP_LOW_END)
			continue;
		if (frame_alloc_contiguous(&frames, FRAME_TCB,
					   (size + PAGE_MASK) >> PAGE_SHIFT, 1,
					   &first) != FRAME_OK ||
		    (first << PAGE_SHIFT) + size > EARLY_MAP_END)
			boot_failed("no room below 4 GiB to move module '%s' "
				    "(%llu bytes) up from below 1 MiB", m->name,
				    (unsigned long long)size);
		memcpy(phys_to_virt(first << PAGE_SHIFT), phys_to_virt(m->start), size);
		memset(phys_to_virt(m->start), 0, size);
		console_printf("boot: module '%s' moved from %#llx to %#llx (below "
			       "1 MiB is never managed)\n", m->name,
			       (unsigned long long)m->start,
			       (unsigned long long)(first << PAGE_SHIFT));
		m->start = first << PAGE_SHIFT;
		m->end = m->start + size;
	}
}

void memory_init(struct mb2_info *info, const struct bootenv *env)
{
	static struct phys_range low[MEMMAP_MAX_RANGES];
	struct phys_range reserved[MB2_MAX_MODULES + 1];
	size_t n_reserved = boot_reserved_ranges(info, reserved);
	uint64_t top, storage;

	/* Sorted: the last range ends highest. */
	if (env->managed_count == 0)
		boot_failed("the memory map has no usable RAM above 1 MiB");
	top = env->managed[env->managed_count - 1].base +
	      env->managed[env->managed_count - 1].len;

	uint64_t nframes = top >> PAGE_SHIFT;
	/* The owner array, then the known-zero bits (8-byte aligned). */
	uint64_t owner_bytes = (frame_table_bytes(nframes) + 7) & ~7ull;
	uint64_t bytes = (owner_bytes + frame_table_zero_words(nframes) * 8 +
			  PAGE_MASK) & ~PAGE_MASK;
	/* The table must be reachable through the early 4 GiB map. */
	size_t n_low = memmap_clip(env->managed, env->managed_count,
				   MEMMAP_LOW_END, EARLY_MAP_END, low);
	if (phys_find_hole(low, n_low, reserved, n_reserved, bytes,
			   PAGE_SIZE, MEMMAP_LOW_END, &storage))
		boot_failed("no room below 4 GiB for a %llu KiB frame table "
			    "(RAM up to %#llx)", (unsigned long long)(bytes >> 10),
			    (unsigned long long)top);

	frame_table_init(&frames, phys_to_virt(storage),
			 phys_to_virt(storage + owner_bytes), nframes, zero_frame,
			 NULL);
	for (size_t i = 0; i < env->managed_count; i++)
		frame_table_add_usable(&frames, env->managed[i].base,
				       env->managed[i].len);
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
	move_low_modules(info);
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

bool memory_read_guest(const struct npt *npt, uint64_t gpa, void *buf,
		       size_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t hpa, off = gpa & PAGE_MASK;
		unsigned perms;
		size_t n = PAGE_SIZE - off < len ? PAGE_SIZE - off : len;

		if (!npt_translate(npt, gpa - off, &hpa, &perms) ||
		    !(perms & NPT_READ))
			return false;
		memcpy(out, (const uint8_t *)phys_to_virt(hpa) + off, n);
		out += n;
		gpa += n;
		len -= n;
	}
	return true;
}
