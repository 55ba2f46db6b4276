/*
 * Extended page tables for one VM. See npt.h for the interface.
 *
 * Part of the TCB, built both freestanding (into the hypervisor) and for the
 * host (unit tests): no libc. Table memory is reached only through
 * tcb_phys_to_virt(), and every frame comes from the frame ownership table.
 *
 * Rules every operation follows:
 *  - a host frame is written into a leaf only after frame_owner() said it
 *    belongs to e->owner (ARCHITECTURE.md invariant 1); nothing else decides
 *    what a guest can reach;
 *  - a refused npt_map() changes nothing: tables it allocated on the way
 *    down are unlinked and released again before it returns;
 *  - therefore every table except the root maps at least one page. That lets
 *    npt_populate() undo itself by pruning the tables that became empty, and
 *    lets npt_check() report an empty non-root table as a leak;
 *  - no table ever lives in host frame 0, so root_pa == 0 can mean "no EPT";
 *  - npt_map() and npt_translate() trust the tables' structure (they are
 *    written only here); npt_destroy() and npt_check() do not, and follow a
 *    non-leaf entry only to a frame the ownership table gives to the TCB.
 *
 * Format (SDM Vol. 3C 29.3.2, 4-level EPT with 4 KiB pages only):
 *  - every table is 4 KiB of 512 8-byte entries; an entry is present when
 *    any of bits 2:0 (read, write, execute) is set;
 *  - a non-leaf entry (PML4E, PDPTE, PDE) is exactly R|W|X plus the next
 *    table's address in bits 51:12: bit 7 clear (no 1 GiB / 2 MiB pages),
 *    access rights are restricted at the leaf only;
 *  - a leaf (PTE, Table 29-6) is perms, memory type WB (6) in bits 5:3,
 *    ignore-PAT (bit 6) clear, the frame's address in bits 51:12. Every
 *    other bit is zero: A/D (8, 9) are unused because the EPTP does not
 *    enable them, and bits 63:52 hold nothing we use.
 */
#include <custos/types.h>

#include "tcb/npt.h"
#include "tcb/frame_table.h"
#include "tcb/platform.h"

#define EPT_ENTRIES     512u
#define EPT_ROOT_LEVEL  3 /* PML4; PDPT 2, PD 1, PT 0 */
#define EPT_INDEX_BITS  9
#define EPT_ADDR_MASK   0x000ffffffffff000ull /* bits 51:12 (MAXPHYADDR <= 52) */
#define EPT_MEMTYPE_WB  6ull                 /* SDM Vol. 3A 11.3, Table 11-2 */
#define EPT_LEAF_MEMTYPE_SHIFT 3             /* PTE bits 5:3, SDM 29.3.7 */
#define EPTP_MEMTYPE_WB EPT_MEMTYPE_WB       /* EPTP bits 2:0, SDM 25.6.11 */
#define EPTP_WALK_4     (3ull << 3)          /* bits 5:3: walk length - 1 */

/* Bits a leaf written by npt_map() has besides the address and perms. */
#define EPT_LEAF_ATTRS  (EPT_MEMTYPE_WB << EPT_LEAF_MEMTYPE_SHIFT)

/* Window of frames the duplicate check tracks at once (bits on the stack). */
#define DUP_WINDOW_WORDS  64u
#define DUP_WINDOW_FRAMES (DUP_WINDOW_WORDS * 64u)

static uint64_t *table_at(uint64_t table_pa)
{
	return tcb_phys_to_virt(table_pa);
}

static unsigned level_index(uint64_t gpa, int level)
{
	return (unsigned)(gpa >> (PAGE_SHIFT + EPT_INDEX_BITS * level)) &
	       (EPT_ENTRIES - 1);
}

static bool entry_present(uint64_t ent)
{
	return (ent & NPT_RWX) != 0;
}

static uint64_t entry_pa(uint64_t ent)
{
	return ent & EPT_ADDR_MASK;
}

static uint64_t pa_to_pfn(uint64_t addr)
{
	return addr >> PAGE_SHIFT;
}

/*
 * A subset of R|W|X that includes R: SDM 29.3.3.1 makes write-without-read
 * an EPT misconfiguration, and execute-only needs a CPU capability
 * (IA32_VMX_EPT_VPID_CAP bit 0) that Custos neither checks nor needs.
 */
static bool perms_valid(uint64_t perms)
{
	if ((perms & ~(uint64_t)NPT_RWX) != 0)
		return false;
	return (perms & NPT_READ) != 0;
}

static bool gpa_valid(uint64_t gpa)
{
	return (gpa & PAGE_MASK) == 0 && gpa < NPT_GPA_LIMIT;
}

static bool npt_ready(const struct npt *e)
{
	return e->root_pa != 0;
}

static bool table_empty(uint64_t table_pa)
{
	const uint64_t *t = table_at(table_pa);
	unsigned i;

	for (i = 0; i < EPT_ENTRIES; i++)
		if (t[i] != 0)
			return false;
	return true;
}

/*
 * A zeroed TCB frame for a table (the frame table zeroes on assignment).
 * Frame 0 is never used, because root_pa == 0 means "no EPT": if the
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
static void free_table(struct npt *e, struct frame_table *ft, uint64_t *slot)
{
	uint64_t table_pa = entry_pa(*slot);

	*slot = 0;
	frame_release(ft, pa_to_pfn(table_pa), FRAME_TCB);
	e->table_frames--;
}

int npt_init(struct npt *e, struct frame_table *ft, frame_owner_t owner)
{
	uint64_t root;

	e->root_pa = 0;
	e->owner = owner;
	e->table_frames = 0;
	e->mapped_pages = 0;
	if (!frame_owner_is_vm(owner))
		return NPT_E_INVAL;
	if (alloc_table(ft, &root) != NPT_OK)
		return NPT_E_NOMEM;
	e->root_pa = root;
	e->table_frames = 1;
	return NPT_OK;
}

/* The PTE for gpa, or NULL when a table on the way is missing. */
static uint64_t *find_leaf_slot(const struct npt *e, uint64_t gpa)
{
	uint64_t table_pa = e->root_pa;
	int level;

	for (level = EPT_ROOT_LEVEL; level > 0; level--) {
		uint64_t ent = table_at(table_pa)[level_index(gpa, level)];

		if (!entry_present(ent))
			return NULL;
		table_pa = entry_pa(ent);
	}
	return &table_at(table_pa)[level_index(gpa, 0)];
}

static bool gpa_mapped(const struct npt *e, uint64_t gpa)
{
	const uint64_t *slot = find_leaf_slot(e, gpa);

	return slot && entry_present(*slot);
}

/*
 * The PTE for gpa, allocating missing tables on the way down. A new table
 * is linked into its parent only once it is zero (frame_alloc zeroed it), so
 * a concurrent hardware walk never sees garbage. If an allocation fails, the
 * tables this call linked are unlinked and freed, deepest first.
 */
static int make_leaf_slot(struct npt *e, struct frame_table *ft, uint64_t gpa,
			  uint64_t **leaf_slot)
{
	uint64_t *made[EPT_ROOT_LEVEL];
	unsigned n_made = 0;
	uint64_t table_pa = e->root_pa;
	int level;

	for (level = EPT_ROOT_LEVEL; level > 0; level--) {
		uint64_t *slot = &table_at(table_pa)[level_index(gpa, level)];
		uint64_t child;

		if (!entry_present(*slot)) {
			if (alloc_table(ft, &child) != NPT_OK) {
				while (n_made > 0)
					free_table(e, ft, made[--n_made]);
				return NPT_E_NOMEM;
			}
			*slot = child | NPT_RWX;
			e->table_frames++;
			made[n_made++] = slot;
		}
		table_pa = entry_pa(*slot);
	}
	*leaf_slot = &table_at(table_pa)[level_index(gpa, 0)];
	return NPT_OK;
}

int npt_map(struct npt *e, struct frame_table *ft, uint64_t gpa, uint64_t pfn,
	    unsigned perms)
{
	uint64_t *slot;
	int err;

	if (!npt_ready(e) || !gpa_valid(gpa) || !perms_valid(perms))
		return NPT_E_INVAL;
	/* The isolation check: only this VM's own frames, never anyone else's,
	 * never the TCB's (its tables included), never free or unmanaged. */
	if (frame_owner(ft, pfn) != e->owner)
		return NPT_E_NOT_OWNER;
	/* Owned frames are managed RAM, so this holds; kept so that a frame
	 * table larger than the EPT address field can never truncate pfn. */
	if (pfn > pa_to_pfn(EPT_ADDR_MASK))
		return NPT_E_INVAL;
	if (gpa_mapped(e, gpa))
		return NPT_E_MAPPED;
	err = make_leaf_slot(e, ft, gpa, &slot);
	if (err != NPT_OK)
		return err;
	*slot = (pfn << PAGE_SHIFT) | EPT_LEAF_ATTRS | perms;
	e->mapped_pages++;
	return NPT_OK;
}

/*
 * Tables on gpa's path that are now empty are unlinked and freed, from the
 * PT upwards; the root stays. Used after clearing gpa's leaf.
 */
static void prune_path(struct npt *e, struct frame_table *ft, uint64_t gpa)
{
	uint64_t *slot[EPT_ROOT_LEVEL + 1]; /* slot[l]: level-l entry on the path */
	uint64_t table_pa = e->root_pa;
	int level;

	for (level = EPT_ROOT_LEVEL; level > 0; level--) {
		slot[level] = &table_at(table_pa)[level_index(gpa, level)];
		if (!entry_present(*slot[level]))
			return;
		table_pa = entry_pa(*slot[level]);
	}
	for (level = 1; level <= EPT_ROOT_LEVEL; level++) {
		if (!table_empty(entry_pa(*slot[level])))
			return;
		free_table(e, ft, slot[level]);
	}
}

/* Unmap and release [gpa, gpa + len), last page first; pages that are not
 * mapped are skipped. */
static void unpopulate(struct npt *e, struct frame_table *ft, uint64_t gpa,
		       uint64_t len)
{
	while (len > 0) {
		uint64_t *slot;
		uint64_t pfn;

		len -= PAGE_SIZE;
		slot = find_leaf_slot(e, gpa + len);
		if (!slot || !entry_present(*slot))
			continue;
		pfn = pa_to_pfn(entry_pa(*slot));
		*slot = 0;
		e->mapped_pages--;
		frame_release(ft, pfn, e->owner);
		prune_path(e, ft, gpa + len);
	}
}

/* Any page of [gpa, gpa + size) mapped already? */
static bool range_has_mapping(const struct npt *e, uint64_t gpa, uint64_t size)
{
	uint64_t off;

	for (off = 0; off < size; off += PAGE_SIZE)
		if (gpa_mapped(e, gpa + off))
			return true;
	return false;
}

/*
 * Everything that can be decided up front is (arguments, an existing
 * mapping in the range, too few free frames for the pages alone), so the
 * common refusals touch nothing. What remains is running out of frames for
 * tables part-way; then unpopulate() releases this call's pages and prunes
 * its tables, and the free count is exactly what it was.
 */
int npt_populate(struct npt *e, struct frame_table *ft, uint64_t gpa,
		 uint64_t size, unsigned perms)
{
	uint64_t off, pfn;
	int err = NPT_OK;

	if (!npt_ready(e) || !gpa_valid(gpa) || !perms_valid(perms) ||
	    size == 0 || (size & PAGE_MASK) != 0 ||
	    size > NPT_GPA_LIMIT - gpa)
		return NPT_E_INVAL;
	if (range_has_mapping(e, gpa, size))
		return NPT_E_MAPPED;
	if (pa_to_pfn(size) > ft->free_count)
		return NPT_E_NOMEM;
	for (off = 0; off < size; off += PAGE_SIZE) {
		if (frame_alloc(ft, e->owner, &pfn) != FRAME_OK) {
			err = NPT_E_NOMEM;
			break;
		}
		err = npt_map(e, ft, gpa + off, pfn, perms);
		if (err != NPT_OK) {
			frame_release(ft, pfn, e->owner);
			break;
		}
	}
	if (err != NPT_OK)
		unpopulate(e, ft, gpa, off);
	return err;
}

int npt_unpopulate(struct npt *e, struct frame_table *ft, uint64_t gpa,
		   uint64_t size)
{
	if (!npt_ready(e) || !gpa_valid(gpa) || (size & PAGE_MASK) != 0 ||
	    size > NPT_GPA_LIMIT - gpa)
		return NPT_E_INVAL;
	unpopulate(e, ft, gpa, size);
	return NPT_OK;
}

bool npt_translate(const struct npt *e, uint64_t gpa, uint64_t *hpa,
		   unsigned *perms)
{
	const uint64_t *slot;

	if (!npt_ready(e) || gpa >= NPT_GPA_LIMIT)
		return false;
	slot = find_leaf_slot(e, gpa & ~PAGE_MASK);
	if (!slot || !entry_present(*slot))
		return false;
	if (hpa)
		*hpa = entry_pa(*slot) | (gpa & PAGE_MASK);
	if (perms)
		*perms = (unsigned)(*slot & NPT_RWX);
	return true;
}

/*
 * Post-order: a table's frame is released (and zeroed) only after
 * everything below it has been. frame_release() refuses frames that are
 * not the named owner's, so even a corrupted leaf cannot free someone
 * else's frame, and a non-leaf entry is followed only into a TCB frame.
 */
static void destroy_table(const struct npt *e, struct frame_table *ft,
			  uint64_t table_pa, int level)
{
	const uint64_t *t = table_at(table_pa);
	unsigned i;

	for (i = 0; i < EPT_ENTRIES; i++) {
		uint64_t ent = t[i];
		uint64_t pfn = pa_to_pfn(entry_pa(ent));

		if (!entry_present(ent))
			continue;
		if (level == 0) {
			frame_release(ft, pfn, e->owner);
			continue;
		}
		if (frame_owner(ft, pfn) != FRAME_TCB)
			continue;
		destroy_table(e, ft, entry_pa(ent), level - 1);
		frame_release(ft, pfn, FRAME_TCB);
	}
}

/*
 * The caller makes sure no logical processor still runs with this EPT and
 * that cached translations are invalidated (INVEPT, SDM 29.4.3) first:
 * the frames go back to the free pool here.
 */
void npt_destroy(struct npt *e, struct frame_table *ft)
{
	uint64_t root_pfn = pa_to_pfn(e->root_pa);

	if (npt_ready(e) && frame_owner(ft, root_pfn) == FRAME_TCB) {
		destroy_table(e, ft, e->root_pa, EPT_ROOT_LEVEL);
		frame_release(ft, root_pfn, FRAME_TCB);
	}
	e->root_pa = 0;
	e->owner = FRAME_UNMANAGED;
	e->table_frames = 0;
	e->mapped_pages = 0;
}

/* ---- npt_check ----------------------------------------------------------- */

/*
 * Visits every non-zero entry at levels >= min_level, a non-leaf entry
 * before the table it points to. The visitor returns false to stop the
 * walk; the table below an entry is read only if the visitor accepted the
 * entry, so a validating visitor keeps the walk inside TCB frames.
 */
typedef bool (*visit_fn)(uint64_t ent, int level, void *ctx);

static bool walk(uint64_t table_pa, int level, int min_level, visit_fn visit,
		 void *ctx)
{
	const uint64_t *t = table_at(table_pa);
	unsigned i;

	for (i = 0; i < EPT_ENTRIES; i++) {
		uint64_t ent = t[i];

		if (ent == 0)
			continue;
		if (!visit(ent, level, ctx))
			return false;
		if (level > min_level && entry_present(ent) &&
		    !walk(entry_pa(ent), level - 1, min_level, visit, ctx))
			return false;
	}
	return true;
}

struct check_state {
	const struct npt *e;
	const struct frame_table *ft;
	uint64_t tables; /* non-root tables seen */
	uint64_t leaves;
};

/*
 * Exactly the bits this file writes, nothing else: any other bit is either
 * reserved (bits 7:3 of a non-leaf entry, SDM 29.3.2), a feature we do not
 * use (large pages, ignore-PAT, A/D, bits 63:52) or a corruption. A
 * non-present entry must be all zero for the same reason.
 */
static bool check_entry(uint64_t ent, int level, void *ctx)
{
	struct check_state *s = ctx;
	uint64_t addr = entry_pa(ent);
	uint64_t attrs = ent & ~EPT_ADDR_MASK;

	if (level > 0) {
		if (attrs != NPT_RWX || addr == s->e->root_pa)
			return false;
		if (frame_owner(s->ft, pa_to_pfn(addr)) != FRAME_TCB)
			return false;
		if (table_empty(addr))
			return false; /* leaked: see the rules at the top */
		s->tables++;
		return true;
	}
	if (!perms_valid(attrs & NPT_RWX) ||
	    (attrs & ~(uint64_t)NPT_RWX) != EPT_LEAF_ATTRS)
		return false;
	if (frame_owner(s->ft, pa_to_pfn(addr)) != s->e->owner)
		return false;
	s->leaves++;
	return true;
}

/*
 * Duplicate detection without scratch memory proportional to the EPT: the
 * referenced frames (tables and leaves alike) are examined one window of
 * DUP_WINDOW_FRAMES frame numbers at a time, starting at the lowest
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
static bool no_frame_twice(const struct npt *e)
{
	struct dup_state d;
	unsigned i;

	d.lo = 0;
	for (;;) {
		d.any = false;
		walk(e->root_pa, EPT_ROOT_LEVEL, 0, find_lowest, &d);
		if (!d.any)
			return true;
		d.lo = d.found;
		for (i = 0; i < DUP_WINDOW_WORDS; i++)
			d.bits[i] = 0;
		if (!walk(e->root_pa, EPT_ROOT_LEVEL, 0, mark_window, &d))
			return false;
		d.lo += DUP_WINDOW_FRAMES; /* pfn < 2^40: cannot wrap */
	}
}

/*
 * The counts tie the tables to the ownership table: every leaf is a frame
 * of e->owner, there are as many leaves as e->owner owns frames, and no
 * frame appears twice, so the leaves are exactly the VM's frames, each once.
 */
bool npt_check(const struct npt *e, const struct frame_table *ft)
{
	struct check_state s = { .e = e, .ft = ft, .tables = 0, .leaves = 0 };

	if (!npt_ready(e))
		return e->table_frames == 0 && e->mapped_pages == 0;
	if (!frame_owner_is_vm(e->owner) || (e->root_pa & ~EPT_ADDR_MASK) != 0)
		return false;
	if (frame_owner(ft, pa_to_pfn(e->root_pa)) != FRAME_TCB)
		return false;
	if (!walk(e->root_pa, EPT_ROOT_LEVEL, 0, check_entry, &s))
		return false;
	if (s.tables + 1 != e->table_frames || s.leaves != e->mapped_pages)
		return false;
	if (frame_count_owned(ft, e->owner) != e->mapped_pages)
		return false;
	return no_frame_twice(e);
}

/* SDM 25.6.11: memory type WB in bits 2:0, walk length 4 (3) in bits 5:3,
 * A/D flags off (bit 6), the PML4's address from bit 12. */
uint64_t npt_root_pointer(const struct npt *e)
{
	if (!npt_ready(e))
		return 0;
	return e->root_pa | EPTP_WALK_4 | EPTP_MEMTYPE_WB;
}
