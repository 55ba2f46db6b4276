/*
 * Boot module screening (see modules.h). Built freestanding and hosted.
 *
 * Overlaps are judged by whole frames, because that is how the modules'
 * memory is owned and later released: two modules that share one frame
 * but no byte would otherwise free each other's memory.
 */
#include "boot/modules.h"
#include "tcb/errmsg.h"

#include <string.h>

struct screen {
	const struct mb2_info *info;
	const struct phys_range *usable;
	size_t n_usable;
	const struct mmio_list *mmio;
	uint64_t image_lo, image_hi; /* page-rounded outward */
};

/* The frames a module touches, [*lo, *hi); false if that wraps. */
static bool frame_span(const struct mb2_module *m, uint64_t *lo, uint64_t *hi)
{
	*lo = m->start & ~PAGE_MASK;
	return align_up_checked(m->end, PAGE_SIZE, hi);
}

static bool overlap(uint64_t a_lo, uint64_t a_hi, uint64_t b_lo, uint64_t b_hi)
{
	return a_lo < b_hi && b_lo < a_hi;
}

static bool named(const struct mb2_module *m)
{
	return strnlen(m->name, sizeof(m->name)) < sizeof(m->name) && m->name[0];
}

/* Another module with the same name, or NULL. */
static const struct mb2_module *same_name(const struct screen *s, size_t i)
{
	const struct mb2_module *m = &s->info->modules[i];

	for (size_t j = 0; j < s->info->module_count; j++)
		if (j != i && strncmp(m->name, s->info->modules[j].name,
				      MB2_MAX_MOD_NAME) == 0)
			return &s->info->modules[j];
	return NULL;
}

/* Another module sharing a frame with [lo, hi), or NULL. */
static const struct mb2_module *other_module(const struct screen *s, size_t i,
					      uint64_t lo, uint64_t hi)
{
	for (size_t j = 0; j < s->info->module_count; j++) {
		const struct mb2_module *o = &s->info->modules[j];
		uint64_t o_lo, o_hi;

		if (j != i && o->start < o->end && frame_span(o, &o_lo, &o_hi) &&
		    overlap(lo, hi, o_lo, o_hi))
			return o;
	}
	return NULL;
}

static const struct mb2_mmap_entry *not_ram(const struct mb2_info *info,
					    uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < info->mmap_count; i++) {
		const struct mb2_mmap_entry *e = &info->mmap[i];
		uint64_t end = e->len > UINT64_MAX - e->base ? UINT64_MAX :
			       e->base + e->len;

		if (e->type != MB2_MEM_AVAILABLE && overlap(lo, hi, e->base, end))
			return e;
	}
	return NULL;
}

static bool in_usable(const struct screen *s, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < s->n_usable; i++)
		if (s->usable[i].base <= lo &&
		    hi - s->usable[i].base <= s->usable[i].len)
			return true;
	return false;
}

/* Where the module's frames are, checked; -1 with the reason after 'why'. */
static int check_place(const struct screen *s, size_t i, char *why, size_t len)
{
	const struct mb2_module *o;
	const struct mmio_range *r;
	const struct mb2_mmap_entry *e;
	uint64_t lo, hi;

	if (!frame_span(&s->info->modules[i], &lo, &hi))
		return errmsg(why, len, "ends too close to 2^64");
	if (overlap(lo, hi, s->image_lo, s->image_hi))
		return errmsg(why, len, "overlaps the hypervisor image [0x%llx, 0x%llx)",
			      (unsigned long long)s->image_lo,
			      (unsigned long long)s->image_hi);
	o = other_module(s, i, lo, hi);
	if (o)
		return errmsg(why, len, "shares frames with module '%s' [0x%llx, 0x%llx)",
			      o->name, (unsigned long long)o->start,
			      (unsigned long long)o->end);
	r = platform_mmio_overlap(s->mmio, lo, hi);
	if (r)
		return errmsg(why, len, "overlaps the %s [0x%llx, 0x%llx)", r->what,
			      (unsigned long long)r->base,
			      (unsigned long long)(r->base + r->len));
	e = not_ram(s->info, lo, hi);
	if (e)
		return errmsg(why, len, "overlaps a %s range of the memory map at 0x%llx",
			      mb2_mem_type_name(e->type),
			      (unsigned long long)e->base);
	if (!in_usable(s, lo, hi))
		return errmsg(why, len, "is not wholly inside available RAM");
	return 0;
}

/* 0 if module i is believed; else -1 and the reason in why. */
static int check_module(const struct screen *s, size_t i, char *why, size_t len)
{
	const struct mb2_module *m = &s->info->modules[i];
	const struct mb2_module *o;
	size_t at;

	if (!named(m))
		return errmsg(why, len, "module %zu [0x%llx, 0x%llx) refused: it has no name",
			      i, (unsigned long long)m->start,
			      (unsigned long long)m->end);
	errmsg(why, len, "module '%s' [0x%llx, 0x%llx) refused: ", m->name,
	       (unsigned long long)m->start, (unsigned long long)m->end);
	at = strnlen(why, len);
	o = same_name(s, i);
	if (o)
		return errmsg(why + at, len - at, "another module [0x%llx, 0x%llx) has the same name",
			      (unsigned long long)o->start,
			      (unsigned long long)o->end);
	if (m->start >= m->end)
		return errmsg(why + at, len - at, "it is empty");
	return check_place(s, i, why + at, len - at);
}

size_t modules_screen(struct mb2_info *info, const struct phys_range *usable,
		      size_t n_usable, const struct mmio_list *mmio,
		      uint64_t image_start, uint64_t image_end,
		      module_refuse_fn refuse, void *ctx)
{
	struct screen s = { info, usable, n_usable, mmio,
			    image_start & ~PAGE_MASK, image_end };
	bool keep[MB2_MAX_MODULES];
	size_t kept = 0;
	char why[200];

	if (info->module_count > MB2_MAX_MODULES)
		info->module_count = MB2_MAX_MODULES; /* never from mb2_parse() */
	if (!align_up_checked(image_end, PAGE_SIZE, &s.image_hi))
		s.image_hi = UINT64_MAX;
	/* Decide for all first: a refused module still overlaps the others. */
	for (size_t i = 0; i < info->module_count; i++) {
		keep[i] = check_module(&s, i, why, sizeof(why)) == 0;
		if (!keep[i] && refuse)
			refuse(ctx, why);
	}
	for (size_t i = 0; i < info->module_count; i++)
		if (keep[i])
			info->modules[kept++] = info->modules[i];
	memset(&info->modules[kept], 0,
	       (info->module_count - kept) * sizeof(info->modules[0]));
	size_t refused = info->module_count - kept;

	info->module_count = kept;
	return refused;
}
