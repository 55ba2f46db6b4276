/*
 * The carve (see memmap.h). Built freestanding and hosted.
 *
 * The map is the boot loader's and may be anything: entries unsorted,
 * overlapping, repeated, of unknown types. So the available entries are
 * first merged into disjoint spans; then every other entry and every
 * never-RAM range is cut out of them (a cut can split one piece in two, and
 * because the spans are disjoint only one piece in all, which bounds the
 * result by MEMMAP_MAX_RANGES); what remains is shrunk to whole frames.
 */
#include "boot/memmap.h"

/* [lo, hi): easier to cut than (base, len). */
struct span {
	uint64_t lo, hi;
};

static struct span work[MEMMAP_MAX_RANGES];

/* Exclusive end of an entry, clamped so a hand-built entry cannot wrap. */
static uint64_t entry_end(const struct mb2_mmap_entry *e)
{
	return e->len > UINT64_MAX - e->base ? UINT64_MAX : e->base + e->len;
}

static void sort_spans(struct span *s, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct span v = s[i];
		size_t j = i;

		for (; j > 0 && s[j - 1].lo > v.lo; j--)
			s[j] = s[j - 1];
		s[j] = v;
	}
}

/* The available entries as sorted, disjoint, non-touching spans. */
static size_t merged_available(const struct mb2_info *info, struct span *s)
{
	size_t n = 0, m = 0;

	for (size_t i = 0; i < info->mmap_count && i < MB2_MAX_MMAP; i++)
		if (info->mmap[i].type == MB2_MEM_AVAILABLE)
			s[n++] = (struct span){ info->mmap[i].base,
						entry_end(&info->mmap[i]) };
	sort_spans(s, n);
	for (size_t i = 0; i < n; i++) {
		if (m > 0 && s[i].lo <= s[m - 1].hi) {
			if (s[i].hi > s[m - 1].hi)
				s[m - 1].hi = s[i].hi;
			continue;
		}
		s[m++] = s[i];
	}
	return m;
}

/*
 * Remove [lo, hi) from the pieces w[first..*n); returns whether any piece
 * overlapped it. Pieces are disjoint, so at most one is split.
 */
static bool cut(struct span *w, size_t first, size_t *n, uint64_t lo,
		uint64_t hi)
{
	bool hit = false;
	size_t i = first;

	while (i < *n) {
		struct span *p = &w[i];

		if (hi <= p->lo || p->hi <= lo || lo >= hi) {
			i++;
			continue;
		}
		hit = true;
		if (p->lo < lo && hi < p->hi) {
			/* Room by construction (memmap.h); dropping the right
			 * part would only ever lose RAM, never add some. */
			if (*n < MEMMAP_MAX_RANGES)
				w[(*n)++] = (struct span){ hi, p->hi };
			p->hi = lo;
		} else if (p->lo < lo) {
			p->hi = lo;
		} else if (hi < p->hi) {
			p->lo = hi;
		} else {
			*p = w[--(*n)]; /* wholly covered: look at the moved one */
			continue;
		}
		i++;
	}
	return hit;
}

struct carver {
	struct span avail;
	size_t first, n;
	memmap_carve_fn report;
	void *ctx;
};

static void carve_one(struct carver *c, uint64_t lo, uint64_t hi,
		      const char *what, uint32_t type)
{
	struct memmap_carve m;

	if (!cut(work, c->first, &c->n, lo, hi) || !c->report)
		return;
	m = (struct memmap_carve){
		.avail = { c->avail.lo, c->avail.hi - c->avail.lo },
		.base = lo > c->avail.lo ? lo : c->avail.lo,
		.end = hi < c->avail.hi ? hi : c->avail.hi,
		.what = what,
		.type = type,
	};
	c->report(c->ctx, &m);
}

/* Cut every non-available entry and every never-RAM range out of one span. */
static void carve_span(struct carver *c, const struct mb2_info *info,
		       const struct mmio_list *mmio)
{
	for (size_t i = 0; i < info->mmap_count && i < MB2_MAX_MMAP; i++) {
		const struct mb2_mmap_entry *e = &info->mmap[i];

		if (e->type != MB2_MEM_AVAILABLE)
			carve_one(c, e->base, entry_end(e), NULL, e->type);
	}
	for (size_t i = 0; i < mmio->count && i < PLATFORM_MMIO_MAX; i++) {
		const struct mmio_range *r = &mmio->r[i];
		uint64_t end = r->len > UINT64_MAX - r->base ? UINT64_MAX :
			       r->base + r->len;

		carve_one(c, r->base, end, r->what, 0);
	}
}

/* Shrink to whole frames, drop what is empty. */
static size_t to_frames(const struct span *w, size_t n, struct phys_range *out)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t lo, hi = w[i].hi & ~PAGE_MASK;

		if (!align_up_checked(w[i].lo, PAGE_SIZE, &lo) || lo >= hi)
			continue;
		out[m++] = (struct phys_range){ lo, hi - lo };
	}
	return m;
}

size_t memmap_usable(const struct mb2_info *info, const struct mmio_list *mmio,
		     struct phys_range *out, memmap_carve_fn report, void *ctx)
{
	static struct span avail[MB2_MAX_MMAP];
	size_t n_avail = merged_available(info, avail);
	struct carver c = { .report = report, .ctx = ctx };

	for (size_t i = 0; i < n_avail; i++) {
		c.avail = avail[i];
		c.first = c.n;
		work[c.n++] = avail[i];
		carve_span(&c, info, mmio);
	}
	sort_spans(work, c.n);
	return to_frames(work, c.n, out);
}

size_t memmap_clip(const struct phys_range *in, size_t n, uint64_t lo,
		   uint64_t hi, struct phys_range *out)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t b = in[i].base, e = in[i].base + in[i].len;

		if (in[i].len > UINT64_MAX - in[i].base)
			e = UINT64_MAX;
		b = b > lo ? b : lo;
		e = e < hi ? e : hi;
		if (b < e)
			out[m++] = (struct phys_range){ b, e - b };
	}
	return m;
}

static bool is_firmware_type(uint32_t type)
{
	return type == MB2_MEM_RESERVED || type == MB2_MEM_ACPI_RECLAIMABLE ||
	       type == MB2_MEM_NVS;
}

/* Walk a cursor through the firmware entries, as far as they reach. */
bool memmap_is_firmware(const struct mb2_info *info, uint64_t base,
			uint64_t len)
{
	uint64_t end, cursor = base;
	bool moved = true;

	if (len == 0 || len > UINT64_MAX - base)
		return false;
	end = base + len;
	for (size_t i = 0; i < info->mmap_count && i < MB2_MAX_MMAP; i++) {
		const struct mb2_mmap_entry *e = &info->mmap[i];

		if (!is_firmware_type(e->type) && e->base < end &&
		    base < entry_end(e))
			return false;
	}
	while (cursor < end && moved) {
		moved = false;
		for (size_t i = 0; i < info->mmap_count && i < MB2_MAX_MMAP; i++) {
			const struct mb2_mmap_entry *e = &info->mmap[i];

			if (is_firmware_type(e->type) && e->base <= cursor &&
			    cursor < entry_end(e)) {
				cursor = entry_end(e);
				moved = true;
			}
		}
	}
	return cursor >= end;
}
