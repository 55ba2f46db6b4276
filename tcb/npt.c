/*
 * Nested page tables for one VM. See npt.h for the interface.
 *
 * Part of the TCB, built both freestanding (into the hypervisor) and for the
 * host (unit tests): no libc. Table memory is reached only through
 * tcb_phys_to_virt(), and every frame comes from the frame ownership table.
 *
 * Rules every operation follows, in both formats:
 *  - a host frame is written into a leaf only after frame_owner() said it
 *    belongs to npt->owner (ARCHITECTURE.md invariant 1); nothing else
 *    decides what a guest can reach;
 *  - a refused npt_map() changes nothing: tables it allocated on the way
 *    down are unlinked and released again before it returns;
 *  - therefore every table except the root maps at least one page. That lets
 *    npt_populate() undo itself by pruning the tables that became empty, and
 *    lets npt_check() report an empty non-root table as a leak;
 *  - no table ever lives in host frame 0, so root_pa == 0 can mean "none";
 *  - npt_map() and npt_translate() trust the tables' structure (they are
 *    written only here); npt_destroy() and npt_check() do not, and follow a
 *    non-leaf entry only to a frame the ownership table gives to the TCB.
 *
 * Layout, common to both formats: 4 levels of 4 KiB tables of 512 8-byte
 * entries indexed by gpa bits 47:39, 38:30, 29:21, 20:12; the next table's
 * or the frame's address in bits 51:12; bit 7 clear (no 1 GiB / 2 MiB
 * pages); access rights restricted at the leaf only. What differs is the
 * encoding of the other bits, which struct npt_encoding holds as data:
 *
 * NPT_EPT (SDM Vol. 3C 29.3.2, Tables 29-1..29-6): present when any of bits
 * 2:0 (read, write, execute) is set; a non-leaf entry is exactly R|W|X; a
 * leaf is perms + memory type WB (6) in bits 5:3, ignore-PAT (bit 6) clear.
 * A/D (8, 9) stay 0 because the EPTP does not enable them, bits 63:52 hold
 * nothing we use.
 *
 * NPT_AMD64 (APM Vol. 2 5.3.3, Figures 5-20..5-23; 15.25): present = P (bit
 * 0); R/W (1) = writable; U/S (2) set at every level, because nested walks
 * are user accesses (APM 15.25); PWT/PCD (3, 4) and PAT (7 of a PTE) 0 =
 * write-back through host PAT entry 0; NX (63) set in a leaf that is not
 * executable (host EFER.NXE is on); a non-leaf entry is exactly P|R/W|U/S.
 * The CPU sets A (5) in every entry it uses and D (6) in a leaf it writes
 * through (APM 5.4.2): those two are the only bits not ours, and they are
 * masked wherever an entry is compared or decoded.
 */
#include <custos/types.h>

#include "tcb/npt.h"
#include "tcb/frame_table.h"
#include "tcb/platform.h"

#define NPT_ENTRIES     512u
#define NPT_ROOT_LEVEL  3 /* PML4; PDPT 2, PD 1, PT 0 */
#define NPT_INDEX_BITS  9
#define NPT_ADDR_MASK   0x000ffffffffff000ull /* bits 51:12 (MAXPHYADDR <= 52) */

/* EPT: SDM 29.3.2; memory type WB = 6 (SDM Vol. 3A 11.3, Table 11-2). */
#define EPT_LEAF_WB     (6ull << 3)          /* PTE bits 5:3, SDM 29.3.7 */
#define EPTP_WB_WALK4   (6ull | 3ull << 3)   /* bits 2:0 WB, 5:3 walk - 1 */

/* AMD64 long-mode entries: APM Vol. 2 5.3.3. */
#define PTE_P   (1ull << 0)
#define PTE_RW  (1ull << 1)
#define PTE_US  (1ull << 2)
#define PTE_A   (1ull << 5)
#define PTE_D   (1ull << 6)
#define PTE_NX  (1ull << 63)

/*
 * How one format encodes an entry, besides its address (bits 51:12).
 * leaf[perms] is the whole encoding of a leaf with those NPT_* perms, 0 for
 * perms the builder refuses; a valid leaf encoding is never 0, and no two
 * perms share one, so a leaf decodes by looking its bits up.
 */
struct npt_encoding {
	uint64_t present;        /* an entry is present if any of these is set */
	uint64_t table;          /* a non-leaf entry's bits */
	uint64_t leaf[NPT_RWX + 1];
	uint64_t table_cpu_sets; /* bits the CPU may set in a non-leaf entry */
	uint64_t leaf_cpu_sets;  /* ... and in a leaf */
	uint64_t root_pointer;   /* the root pointer's bits besides the address */
};

/* Write without read and execute-only are refused in both formats (npt.h). */
static const struct npt_encoding encodings[] = {
	[NPT_EPT] = {
		.present = NPT_RWX,
		.table = NPT_RWX,
		.leaf = {
			[NPT_READ] = EPT_LEAF_WB | NPT_READ,
			[NPT_READ | NPT_WRITE] = EPT_LEAF_WB | NPT_READ | NPT_WRITE,
			[NPT_READ | NPT_EXEC] = EPT_LEAF_WB | NPT_READ | NPT_EXEC,
			[NPT_RWX] = EPT_LEAF_WB | NPT_RWX,
		},
		.root_pointer = EPTP_WB_WALK4, /* SDM 25.6.11; A/D off (bit 6) */
	},
	[NPT_AMD64] = {
		.present = PTE_P,
		.table = PTE_P | PTE_RW | PTE_US,
		.leaf = {
			[NPT_READ] = PTE_P | PTE_US | PTE_NX,
			[NPT_READ | NPT_WRITE] = PTE_P | PTE_RW | PTE_US | PTE_NX,
			[NPT_READ | NPT_EXEC] = PTE_P | PTE_US,
			[NPT_RWX] = PTE_P | PTE_RW | PTE_US,
		},
		.table_cpu_sets = PTE_A,
		.leaf_cpu_sets = PTE_A | PTE_D,
		.root_pointer = 0, /* nCR3: PWT = PCD = 0 (APM 15.25, 5.3.2) */
	},
};

/* Window of frames the duplicate check tracks at once (bits on the stack). */
#define DUP_WINDOW_WORDS  64u
#define DUP_WINDOW_FRAMES (DUP_WINDOW_WORDS * 64u)

static bool format_valid(enum npt_format format)
{
	return format == NPT_EPT || format == NPT_AMD64;
}

/* Only for tables with a valid format (npt_init sets it; npt_ready and
 * npt_check test it before anything reads an entry). */
static const struct npt_encoding *encoding(const struct npt *npt)
{
	return &encodings[npt->format];
}

static uint64_t *table_at(uint64_t table_pa)
{
	return tcb_phys_to_virt(table_pa);
}

static unsigned level_index(uint64_t gpa, int level)
{
	return (unsigned)(gpa >> (PAGE_SHIFT + NPT_INDEX_BITS * level)) &
	       (NPT_ENTRIES - 1);
}

/* The guest-physical span one level-`level` entry covers. */
static uint64_t level_span(int level)
{
	return 1ull << (PAGE_SHIFT + NPT_INDEX_BITS * level);
}

static bool entry_present(const struct npt_encoding *enc, uint64_t ent)
{
	return (ent & enc->present) != 0;
}

static uint64_t entry_pa(uint64_t ent)
{
	return ent & NPT_ADDR_MASK;
}

static uint64_t pa_to_pfn(uint64_t addr)
{
	return addr >> PAGE_SHIFT;
}

/* Perms the format encodes (the same set for both: npt.h). */
static bool perms_valid(const struct npt_encoding *enc, uint64_t perms)
{
	return perms <= NPT_RWX && enc->leaf[perms] != 0;
}

/* The perms a leaf's bits encode, the CPU's accessed/dirty flags ignored;
 * 0 if they are not exactly an encoding npt_map writes. */
static unsigned leaf_perms(const struct npt_encoding *enc, uint64_t ent)
{
	uint64_t bits = ent & ~NPT_ADDR_MASK & ~enc->leaf_cpu_sets;
	unsigned perms;

	for (perms = NPT_READ; perms <= NPT_RWX; perms++)
		if (enc->leaf[perms] != 0 && bits == enc->leaf[perms])
			return perms;
	return 0;
}

/* Exactly the non-leaf bits npt_map writes, give or take the CPU's. */
static bool table_entry_valid(const struct npt_encoding *enc, uint64_t ent)
{
	return (ent & ~NPT_ADDR_MASK & ~enc->table_cpu_sets) == enc->table;
}

static bool gpa_valid(uint64_t gpa)
{
	return (gpa & PAGE_MASK) == 0 && gpa < NPT_GPA_LIMIT;
}

static bool npt_ready(const struct npt *npt)
{
	return npt->root_pa != 0 && format_valid(npt->format);
}

static bool table_empty(uint64_t table_pa)
{
	const uint64_t *t = table_at(table_pa);
	unsigned i;

	for (i = 0; i < NPT_ENTRIES; i++)
		if (t[i] != 0)
			return false;
	return true;
}

/*
 * A zeroed TCB frame for a table (the frame table zeroes on assignment).
 * Frame 0 is never used, because root_pa == 0 means "no tables": if the
 * allocator offers it, it is held while another frame is taken so the
 * allocator cannot offer it again, then given back.
 */
static int alloc_table(struct frame_table *ft, uint64_t *table_pa)
{
	uint64_t pfn, other;

	if (frame_alloc(ft, FRAME_TCB, &pfn) != FRAME_OK)
		return NPT_E_NOMEM;
	if (pfn == 0) {
		int err = frame_alloc(ft, FRAME_TCB, &other);

		frame_release(ft, 0, FRAME_TCB);
		if (err != FRAME_OK)
			return NPT_E_NOMEM;
		pfn = other;
	}
	*table_pa = pfn << PAGE_SHIFT;
	return NPT_OK;
}

/* Unlink the table 'slot' points to and give its frame back. */
static void free_table(struct npt *npt, struct frame_table *ft, uint64_t *slot)
{
	uint64_t table_pa = entry_pa(*slot);

	*slot = 0;
	frame_release(ft, pa_to_pfn(table_pa), FRAME_TCB);
	npt->table_frames--;
}

int npt_init(struct npt *npt, struct frame_table *ft, frame_owner_t owner,
	     enum npt_format format)
{
	uint64_t root;

	npt->root_pa = 0;
	npt->owner = owner;
	npt->format = format;
	npt->table_frames = 0;
	npt->mapped_pages = 0;
	if (!frame_owner_is_vm(owner) || !format_valid(format))
		return NPT_E_INVAL;
	if (alloc_table(ft, &root) != NPT_OK)
		return NPT_E_NOMEM;
	npt->root_pa = root;
	npt->table_frames = 1;
	return NPT_OK;
}

/*
 * The PTE for gpa, or NULL when a table on the way is missing. Then
 * *hole_start is where the aligned block that table would cover begins and
 * *hole_span its size: nothing in it is mapped, so range walks skip it
 * whole instead of asking again for each of its pages (a range can be
 * 2^36 pages long).
 */
static uint64_t *find_leaf_slot_or_hole(const struct npt *npt, uint64_t gpa,
					uint64_t *hole_start,
					uint64_t *hole_span)
{
	const struct npt_encoding *enc = encoding(npt);
	uint64_t table_pa = npt->root_pa;
	int level;

	for (level = NPT_ROOT_LEVEL; level > 0; level--) {
		uint64_t ent = table_at(table_pa)[level_index(gpa, level)];

		if (!entry_present(enc, ent)) {
			*hole_span = level_span(level);
			*hole_start = gpa & ~(*hole_span - 1);
			return NULL;
		}
		table_pa = entry_pa(ent);
	}
	return &table_at(table_pa)[level_index(gpa, 0)];
}

static uint64_t *find_leaf_slot(const struct npt *npt, uint64_t gpa)
{
	uint64_t hole_start, hole_span;

	return find_leaf_slot_or_hole(npt, gpa, &hole_start, &hole_span);
}

static bool gpa_mapped(const struct npt *npt, uint64_t gpa)
{
	const uint64_t *slot = find_leaf_slot(npt, gpa);

	return slot && entry_present(encoding(npt), *slot);
}

/*
 * The PTE for gpa, allocating missing tables on the way down. A new table
 * is linked into its parent only once it is zero (frame_alloc zeroed it), so
 * a concurrent hardware walk never sees garbage. If an allocation fails, the
 * tables this call linked are unlinked and freed, deepest first.
 */
static int make_leaf_slot(struct npt *npt, struct frame_table *ft,
			  uint64_t gpa, uint64_t **leaf_slot)
{
	const struct npt_encoding *enc = encoding(npt);
	uint64_t *made[NPT_ROOT_LEVEL];
	unsigned n_made = 0;
	uint64_t table_pa = npt->root_pa;
	int level;

	for (level = NPT_ROOT_LEVEL; level > 0; level--) {
		uint64_t *slot = &table_at(table_pa)[level_index(gpa, level)];
		uint64_t child;

		if (!entry_present(enc, *slot)) {
			if (alloc_table(ft, &child) != NPT_OK) {
				while (n_made > 0)
					free_table(npt, ft, made[--n_made]);
				return NPT_E_NOMEM;
			}
			*slot = child | enc->table;
			npt->table_frames++;
			made[n_made++] = slot;
		}
		table_pa = entry_pa(*slot);
	}
	*leaf_slot = &table_at(table_pa)[level_index(gpa, 0)];
	return NPT_OK;
}

int npt_map(struct npt *npt, struct frame_table *ft, uint64_t gpa,
	    uint64_t pfn, unsigned perms)
{
	uint64_t *slot;
	int err;

	if (!npt_ready(npt) || !gpa_valid(gpa) ||
	    !perms_valid(encoding(npt), perms))
		return NPT_E_INVAL;
	/* The isolation check: only this VM's own frames, never anyone else's,
	 * never the TCB's (its tables included), never free or unmanaged. */
	if (frame_owner(ft, pfn) != npt->owner)
		return NPT_E_NOT_OWNER;
	/* Owned frames are managed RAM, so this holds; kept so that a frame
	 * table larger than the address field can never truncate pfn. */
	if (pfn > pa_to_pfn(NPT_ADDR_MASK))
		return NPT_E_INVAL;
	if (gpa_mapped(npt, gpa))
		return NPT_E_MAPPED;
	err = make_leaf_slot(npt, ft, gpa, &slot);
	if (err != NPT_OK)
		return err;
	*slot = (pfn << PAGE_SHIFT) | encoding(npt)->leaf[perms];
	npt->mapped_pages++;
	return NPT_OK;
}

/*
 * Tables on gpa's path that are now empty are unlinked and freed, from the
 * PT upwards; the root stays. Used after clearing gpa's leaf.
 */
static void prune_path(struct npt *npt, struct frame_table *ft, uint64_t gpa)
{
	uint64_t *slot[NPT_ROOT_LEVEL + 1]; /* slot[l]: level-l entry on the path */
	uint64_t table_pa = npt->root_pa;
	int level;

	for (level = NPT_ROOT_LEVEL; level > 0; level--) {
		slot[level] = &table_at(table_pa)[level_index(gpa, level)];
		if (!entry_present(encoding(npt), *slot[level]))
			return;
		table_pa = entry_pa(*slot[level]);
	}
	for (level = 1; level <= NPT_ROOT_LEVEL; level++) {
		if (!table_empty(entry_pa(*slot[level])))
			return;
		free_table(npt, ft, slot[level]);
	}
}

/* Unmap and release [gpa, gpa + len), last page first; pages that are not
 * mapped are skipped, blocks without tables in one step. */
static void unpopulate(struct npt *npt, struct frame_table *ft, uint64_t gpa,
		       uint64_t len)
{
	while (len > 0) {
		uint64_t page = gpa + len - PAGE_SIZE, hole_start, hole_span;
		uint64_t *slot = find_leaf_slot_or_hole(npt, page, &hole_start,
							&hole_span);
		uint64_t pfn;

		if (!slot) {
			len = hole_start > gpa ? hole_start - gpa : 0;
			continue;
		}
		len -= PAGE_SIZE;
		if (!entry_present(encoding(npt), *slot))
			continue;
		pfn = pa_to_pfn(entry_pa(*slot));
		*slot = 0;
		npt->mapped_pages--;
		frame_release(ft, pfn, npt->owner);
		prune_path(npt, ft, page);
	}
}

/* Any page of [gpa, gpa + size) mapped already? */
static bool range_has_mapping(const struct npt *npt, uint64_t gpa,
			      uint64_t size)
{
	uint64_t end = gpa + size, hole_start, hole_span;

	while (gpa < end) {
		const uint64_t *slot = find_leaf_slot_or_hole(npt, gpa,
							      &hole_start,
							      &hole_span);

		if (!slot) {
			gpa = hole_start + hole_span;
			continue;
		}
		if (entry_present(encoding(npt), *slot))
			return true;
		gpa += PAGE_SIZE;
	}
	return false;
}

/*
 * Everything that can be decided up front is (arguments, an existing
 * mapping in the range, too few free frames for the pages alone), so the
 * common refusals touch nothing. What remains is running out of frames for
 * tables part-way; then unpopulate() releases this call's pages and prunes
 * its tables, and the free count is exactly what it was.
 */
int npt_populate(struct npt *npt, struct frame_table *ft, uint64_t gpa,
		 uint64_t size, unsigned perms)
{
	uint64_t off, pfn;
	int err = NPT_OK;

	if (!npt_ready(npt) || !gpa_valid(gpa) ||
	    !perms_valid(encoding(npt), perms) ||
	    size == 0 || (size & PAGE_MASK) != 0 ||
	    size > NPT_GPA_LIMIT - gpa)
		return NPT_E_INVAL;
	if (range_has_mapping(npt, gpa, size))
		return NPT_E_MAPPED;
	if (pa_to_pfn(size) > ft->free_count)
		return NPT_E_NOMEM;
	for (off = 0; off < size; off += PAGE_SIZE) {
		if (frame_alloc(ft, npt->owner, &pfn) != FRAME_OK) {
			err = NPT_E_NOMEM;
			break;
		}
		err = npt_map(npt, ft, gpa + off, pfn, perms);
		if (err != NPT_OK) {
			frame_release(ft, pfn, npt->owner);
			break;
		}
	}
	if (err != NPT_OK)
		unpopulate(npt, ft, gpa, off);
	return err;
}

int npt_unpopulate(struct npt *npt, struct frame_table *ft, uint64_t gpa,
		   uint64_t size)
{
	if (!npt_ready(npt) || !gpa_valid(gpa) || (size & PAGE_MASK) != 0 ||
	    size > NPT_GPA_LIMIT - gpa)
		return NPT_E_INVAL;
	unpopulate(npt, ft, gpa, size);
	return NPT_OK;
}

/* A leaf that does not decode cannot exist (npt_map writes every leaf);
 * were it there, the page reads as unmapped rather than with made-up
 * perms. */
bool npt_translate(const struct npt *npt, uint64_t gpa, uint64_t *hpa,
		   unsigned *perms)
{
	const uint64_t *slot;
	unsigned p;

	if (!npt_ready(npt) || gpa >= NPT_GPA_LIMIT)
		return false;
	slot = find_leaf_slot(npt, gpa & ~PAGE_MASK);
	if (!slot || !entry_present(encoding(npt), *slot))
		return false;
	p = leaf_perms(encoding(npt), *slot);
	if (p == 0)
		return false;
	if (hpa)
		*hpa = entry_pa(*slot) | (gpa & PAGE_MASK);
	if (perms)
		*perms = p;
	return true;
}

/*
 * Post-order: a table's frame is released (and zeroed) only after
 * everything below it has been. frame_release() refuses frames that are
 * not the named owner's, so even a corrupted leaf cannot free someone
 * else's frame, and a non-leaf entry is followed only into a TCB frame.
 */
static void destroy_table(const struct npt *npt, struct frame_table *ft,
			  uint64_t table_pa, int level)
{
	const uint64_t *t = table_at(table_pa);
	unsigned i;

	for (i = 0; i < NPT_ENTRIES; i++) {
		uint64_t ent = t[i];
		uint64_t pfn = pa_to_pfn(entry_pa(ent));

		if (!entry_present(encoding(npt), ent))
			continue;
		if (level == 0) {
			frame_release(ft, pfn, npt->owner);
			continue;
		}
		if (frame_owner(ft, pfn) != FRAME_TCB)
			continue;
		destroy_table(npt, ft, entry_pa(ent), level - 1);
		frame_release(ft, pfn, FRAME_TCB);
	}
}

/*
 * The caller makes sure no logical processor still runs with these tables
 * and that cached translations are invalidated (INVEPT, SDM 29.4.3; on SVM
 * a flush of the VM's ASID, APM 15 "TLB Control") first: the frames go
 * back to the free pool here.
 */
void npt_destroy(struct npt *npt, struct frame_table *ft)
{
	uint64_t root_pfn = pa_to_pfn(npt->root_pa);

	if (npt_ready(npt) && frame_owner(ft, root_pfn) == FRAME_TCB) {
		destroy_table(npt, ft, npt->root_pa, NPT_ROOT_LEVEL);
		frame_release(ft, root_pfn, FRAME_TCB);
	}
	npt->root_pa = 0;
	npt->owner = FRAME_UNMANAGED;
	npt->format = NPT_EPT;
	npt->table_frames = 0;
	npt->mapped_pages = 0;
}

/* ---- npt_check ----------------------------------------------------------- */

/*
 * Visits every non-zero entry at levels >= min_level, a non-leaf entry
 * before the table it points to. The visitor returns false to stop the
 * walk; the table below an entry is read only if the visitor accepted the
 * entry, so a validating visitor keeps the walk inside TCB frames.
 */
typedef bool (*visit_fn)(uint64_t ent, int level, void *ctx);

static bool walk(const struct npt_encoding *enc, uint64_t table_pa, int level,
		 int min_level, visit_fn visit, void *ctx)
{
	const uint64_t *t = table_at(table_pa);
	unsigned i;

	for (i = 0; i < NPT_ENTRIES; i++) {
		uint64_t ent = t[i];

		if (ent == 0)
			continue;
		if (!visit(ent, level, ctx))
			return false;
		if (level > min_level && entry_present(enc, ent) &&
		    !walk(enc, entry_pa(ent), level - 1, min_level, visit, ctx))
			return false;
	}
	return true;
}

struct check_state {
	const struct npt *npt;
	const struct frame_table *ft;
	uint64_t tables; /* non-root tables seen */
	uint64_t leaves;
};

/*
 * Exactly the bits this file writes, nothing else (but the CPU's accessed
 * and dirty flags): any other bit is either reserved (bits 7:3 of an EPT
 * non-leaf entry, SDM 29.3.2; bit 7 of a long-mode PML4E, APM 5.3.3), a
 * feature we do not use (large pages, ignore-PAT, EPT A/D, global, PWT,
 * PCD, PAT, bits 63:52 but NX) or a corruption. A non-present entry must
 * be all zero for the same reason.
 */
static bool check_entry(uint64_t ent, int level, void *ctx)
{
	struct check_state *s = ctx;
	const struct npt_encoding *enc = encoding(s->npt);
	uint64_t addr = entry_pa(ent);

	if (level > 0) {
		if (!table_entry_valid(enc, ent) || addr == s->npt->root_pa)
			return false;
		if (frame_owner(s->ft, pa_to_pfn(addr)) != FRAME_TCB)
			return false;
		if (table_empty(addr))
			return false; /* leaked: see the rules at the top */
		s->tables++;
		return true;
	}
	if (leaf_perms(enc, ent) == 0)
		return false;
	if (frame_owner(s->ft, pa_to_pfn(addr)) != s->npt->owner)
		return false;
	s->leaves++;
	return true;
}

/*
 * Duplicate detection without scratch memory proportional to the tables:
 * the referenced frames (tables and leaves alike) are examined one window
 * of DUP_WINDOW_FRAMES frame numbers at a time, starting at the lowest
 * referenced frame not yet examined; a bitmap on the stack marks the frames
 * of the window seen so far. Cost: two walks per window that holds a
 * referenced frame.
 */
struct dup_state {
	uint64_t lo;    /* window start (first pass: lower bound) */
	uint64_t found; /* first pass: lowest referenced pfn >= lo */
	bool any;
	uint64_t bits[DUP_WINDOW_WORDS];
};

static bool find_lowest(uint64_t ent, int level, void *ctx)
{
	struct dup_state *d = ctx;
	uint64_t pfn = pa_to_pfn(entry_pa(ent));

	(void)level;
	if (pfn >= d->lo && (!d->any || pfn < d->found)) {
		d->found = pfn;
		d->any = true;
	}
	return true;
}

static bool mark_window(uint64_t ent, int level, void *ctx)
{
	struct dup_state *d = ctx;
	uint64_t pfn = pa_to_pfn(entry_pa(ent));
	uint64_t bit, mask;

	(void)level;
	if (pfn < d->lo || pfn - d->lo >= DUP_WINDOW_FRAMES)
		return true;
	bit = pfn - d->lo;
	mask = 1ull << (bit % 64);
	if (d->bits[bit / 64] & mask)
		return false;
	d->bits[bit / 64] |= mask;
	return true;
}

/* Only after check_entry() accepted every entry: the walk is then safe. */
static bool no_frame_twice(const struct npt *npt)
{
	const struct npt_encoding *enc = encoding(npt);
	struct dup_state d;
	unsigned i;

	d.lo = 0;
	for (;;) {
		d.any = false;
		walk(enc, npt->root_pa, NPT_ROOT_LEVEL, 0, find_lowest, &d);
		if (!d.any)
			return true;
		d.lo = d.found;
		for (i = 0; i < DUP_WINDOW_WORDS; i++)
			d.bits[i] = 0;
		if (!walk(enc, npt->root_pa, NPT_ROOT_LEVEL, 0, mark_window, &d))
			return false;
		d.lo += DUP_WINDOW_FRAMES; /* pfn < 2^40: cannot wrap */
	}
}

/*
 * The counts tie the tables to the ownership table: every leaf is a frame
 * of npt->owner, there are as many leaves as npt->owner owns frames, and no
 * frame appears twice, so the leaves are exactly the VM's frames, each once.
 */
bool npt_check(const struct npt *npt, const struct frame_table *ft)
{
	struct check_state s = { .npt = npt, .ft = ft, .tables = 0, .leaves = 0 };

	if (npt->root_pa == 0)
		return npt->table_frames == 0 && npt->mapped_pages == 0;
	if (!format_valid(npt->format) || !frame_owner_is_vm(npt->owner) ||
	    (npt->root_pa & ~NPT_ADDR_MASK) != 0)
		return false;
	if (frame_owner(ft, pa_to_pfn(npt->root_pa)) != FRAME_TCB)
		return false;
	if (!walk(encoding(npt), npt->root_pa, NPT_ROOT_LEVEL, 0, check_entry, &s))
		return false;
	if (s.tables + 1 != npt->table_frames || s.leaves != npt->mapped_pages)
		return false;
	if (frame_count_owned(ft, npt->owner) != npt->mapped_pages)
		return false;
	return no_frame_twice(npt);
}

/* EPTP (SDM 25.6.11) or nCR3 (APM 15.25): the PML4's address from bit
 * 12 and the format's attribute bits below it. */
uint64_t npt_root_pointer(const struct npt *npt)
{
	if (!npt_ready(npt))
		return 0;
	return npt->root_pa | encoding(npt)->root_pointer;
}
