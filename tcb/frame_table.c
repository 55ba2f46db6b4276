/*
 * Frame ownership table. See frame_table.h for the interface.
 *
 * This file is part of the TCB and is built both freestanding (into the
 * hypervisor) and for the host (unit tests, fuzzers): it uses no libc.
 *
 * Rules every operation follows:
 *  - arguments and the frame's state are fully checked before anything is
 *    written, so a refused operation changes nothing and zeroes nothing;
 *  - the zero callback runs at most once per frame whose owner changes
 *    (at a release, a transfer, or when a frame that is not known zero is
 *    handed out), while the entry still names the old owner, and the new
 *    owner is recorded only after it returns;
 *  - a frame is known zero only while it is FREE, and only after this
 *    table zeroed it (frame_release).
 *  - no address or frame arithmetic may wrap.
 */
#include <custos/types.h>

#include "tcb/frame_table.h"

/* Number of 4 KiB frames in the 2^64-byte physical address space. */
#define FRAMES_IN_ADDRESS_SPACE (((uint64_t)1) << (64 - PAGE_SHIFT))

static bool owner_can_hold_frames(frame_owner_t o)
{
	return o == FRAME_TCB || frame_owner_is_vm(o);
}

static bool owner_value_valid(frame_owner_t o)
{
	return o == FRAME_UNMANAGED || o == FRAME_FREE || owner_can_hold_frames(o);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * End (exclusive) of [base, base + len) in bytes, as a frame number rounded
 * down or up. A range whose end does not fit in 64 bits is clamped to the
 * end of the address space instead of wrapping to a small number.
 */
static uint64_t range_end_pfn_down(uint64_t base, uint64_t len)
{
	if (len > UINT64_MAX - base)
		return FRAMES_IN_ADDRESS_SPACE;
	return (base + len) >> PAGE_SHIFT;
}

static uint64_t range_end_pfn_up(uint64_t base, uint64_t len)
{
	uint64_t end;

	if (len > UINT64_MAX - base)
		return FRAMES_IN_ADDRESS_SPACE;
	end = base + len;
	return (end >> PAGE_SHIFT) + ((end & PAGE_MASK) != 0);
}

static uint64_t addr_pfn_up(uint64_t addr)
{
	return (addr >> PAGE_SHIFT) + ((addr & PAGE_MASK) != 0);
}

static uint64_t zero_bit(uint64_t pfn)
{
	return 1ull << (pfn % 64);
}

static bool is_known_zero(const struct frame_table *ft, uint64_t pfn)
{
	return (ft->known_zero[pfn / 64] & zero_bit(pfn)) != 0;
}

static void set_known_zero(struct frame_table *ft, uint64_t pfn, bool on)
{
	if (on)
		ft->known_zero[pfn / 64] |= zero_bit(pfn);
	else
		ft->known_zero[pfn / 64] &= ~zero_bit(pfn);
}

/* Hand one frame to a new owner: zero first, so the new owner sees nothing
 * of the old one -- unless it is a FREE frame this table zeroed when it was
 * released, and nobody has had it since. A frame given back (new owner
 * FREE) is zeroed now and known zero from then on. */
static void change_owner(struct frame_table *ft, uint64_t pfn,
			 frame_owner_t new_owner)
{
	if (!is_known_zero(ft, pfn))
		ft->zero(pfn, ft->zero_ctx);
	ft->owner[pfn] = new_owner;
	set_known_zero(ft, pfn, new_owner == FRAME_FREE);
}

/*
 * Common checks for operations on one frame: the frame must exist and be
 * managed RAM.
 */
static int check_managed_pfn(const struct frame_table *ft, uint64_t pfn)
{
	if (pfn >= ft->nframes)
		return FRAME_E_RANGE;
	if (ft->owner[pfn] == FRAME_UNMANAGED)
		return FRAME_E_UNMANAGED;
	return FRAME_OK;
}

/* Storage is one frame_owner_t per frame; saturates rather than wraps. */
uint64_t frame_table_bytes(uint64_t nframes)
{
	if (nframes > UINT64_MAX / sizeof(frame_owner_t))
		return UINT64_MAX;
	return nframes * sizeof(frame_owner_t);
}

uint64_t frame_table_zero_words(uint64_t nframes)
{
	return nframes / 64 + (nframes % 64 != 0);
}

void frame_table_init(struct frame_table *ft, frame_owner_t *storage,
		      uint64_t *known_zero, uint64_t nframes, frame_zero_fn zero,
		      void *zero_ctx)
{
	uint64_t pfn;

	for (pfn = 0; pfn < nframes; pfn++)
		storage[pfn] = FRAME_UNMANAGED;
	for (pfn = 0; pfn < frame_table_zero_words(nframes); pfn++)
		known_zero[pfn] = 0;
	ft->owner = storage;
	ft->known_zero = known_zero;
	ft->nframes = nframes;
	ft->free_count = 0;
	ft->managed_count = 0;
	ft->next_hint = 0;
	ft->sealed = false;
	ft->zero = zero;
	ft->zero_ctx = zero_ctx;
}

/*
 * Only UNMANAGED frames become FREE: a frame that is already FREE, reserved
 * for the TCB or owned by a VM keeps its owner, so overlapping usable ranges
 * are harmless and a reservation is never undone by a later add_usable.
 * They are not known zero: RAM holds what the firmware, the boot loader or
 * an earlier boot's tenants left there.
 */
int frame_table_add_usable(struct frame_table *ft, uint64_t base, uint64_t len)
{
	uint64_t pfn, end;

	if (ft->sealed)
		return FRAME_E_SEALED;
	pfn = addr_pfn_up(base);
	end = min_u64(range_end_pfn_down(base, len), ft->nframes);
	for (; pfn < end; pfn++) {
		if (ft->owner[pfn] != FRAME_UNMANAGED)
			continue;
		ft->owner[pfn] = FRAME_FREE;
		ft->free_count++;
		ft->managed_count++;
	}
	return FRAME_OK;
}

/*
 * Only FREE frames become TCB frames. An UNMANAGED frame stays unmanaged
 * (firmware memory that happens to hold a boot module must never become a
 * managed frame that could later be released to FREE), and a frame that
 * already has an owner keeps it (reassigning a VM's frame to the TCB without
 * zeroing would leak that VM's data).
 *
 * Consequence: the order of boot calls matters. The hypervisor must call
 * frame_table_add_usable() for every usable range first and
 * frame_table_reserve_boot() afterwards; a reservation made before the
 * frames were added would have no effect.
 */
int frame_table_reserve_boot(struct frame_table *ft, uint64_t base, uint64_t len)
{
	uint64_t pfn, end;

	if (ft->sealed)
		return FRAME_E_SEALED;
	if (len == 0)
		return FRAME_OK; /* touches no frame */
	pfn = base >> PAGE_SHIFT;
	end = min_u64(range_end_pfn_up(base, len), ft->nframes);
	for (; pfn < end; pfn++) {
		if (ft->owner[pfn] != FRAME_FREE)
			continue;
		ft->owner[pfn] = FRAME_TCB;
		set_known_zero(ft, pfn, false);
		ft->free_count--;
	}
	return FRAME_OK;
}

void frame_table_seal(struct frame_table *ft)
{
	ft->sealed = true;
}

frame_owner_t frame_owner(const struct frame_table *ft, uint64_t pfn)
{
	if (pfn >= ft->nframes)
		return FRAME_UNMANAGED;
	return ft->owner[pfn];
}

bool frame_known_zero(const struct frame_table *ft, uint64_t pfn)
{
	return pfn < ft->nframes && is_known_zero(ft, pfn);
}

int frame_assign(struct frame_table *ft, uint64_t pfn, frame_owner_t owner)
{
	int err = check_managed_pfn(ft, pfn);

	if (err)
		return err;
	if (!owner_can_hold_frames(owner))
		return FRAME_E_OWNER;
	if (ft->owner[pfn] != FRAME_FREE)
		return FRAME_E_BUSY;
	change_owner(ft, pfn, owner);
	ft->free_count--;
	return FRAME_OK;
}

int frame_release(struct frame_table *ft, uint64_t pfn, frame_owner_t owner)
{
	int err = check_managed_pfn(ft, pfn);

	if (err)
		return err;
	if (!owner_can_hold_frames(owner))
		return FRAME_E_OWNER;
	if (ft->owner[pfn] != owner)
		return FRAME_E_NOT_OWNER;
	change_owner(ft, pfn, FRAME_FREE);
	ft->free_count++;
	return FRAME_OK;
}

/*
 * Argument values are checked before the frame's state: a 'from' or 'to'
 * that can never hold frames (FREE, UNMANAGED, out of range) or to == from
 * is FRAME_E_OWNER; a valid 'from' that is not the current owner is
 * FRAME_E_NOT_OWNER.
 */
int frame_transfer(struct frame_table *ft, uint64_t pfn, frame_owner_t from,
		   frame_owner_t to)
{
	int err = check_managed_pfn(ft, pfn);

	if (err)
		return err;
	if (!owner_can_hold_frames(from) || !owner_can_hold_frames(to) ||
	    from == to)
		return FRAME_E_OWNER;
	if (ft->owner[pfn] != from)
		return FRAME_E_NOT_OWNER;
	change_owner(ft, pfn, to);
	return FRAME_OK;
}

/* First FREE frame in [start, end), or 'end' if there is none. */
static uint64_t find_free(const struct frame_table *ft, uint64_t start,
			  uint64_t end)
{
	uint64_t pfn;

	for (pfn = start; pfn < end; pfn++)
		if (ft->owner[pfn] == FRAME_FREE)
			return pfn;
	return end;
}

/*
 * Searches from next_hint to the end of the table, then from frame 0 up to
 * the hint, so successive allocations spread over the table instead of
 * rescanning the same busy prefix. *pfn is written only on success.
 */
int frame_alloc(struct frame_table *ft, frame_owner_t owner, uint64_t *pfn)
{
	uint64_t hint = ft->next_hint < ft->nframes ? ft->next_hint : 0;
	uint64_t found;

	if (!owner_can_hold_frames(owner))
		return FRAME_E_OWNER;
	found = find_free(ft, hint, ft->nframes);
	if (found == ft->nframes) {
		found = find_free(ft, 0, hint);
		if (found == hint)
			return FRAME_E_NOMEM;
	}
	change_owner(ft, found, owner);
	ft->free_count--;
	ft->next_hint = found + 1 < ft->nframes ? found + 1 : 0;
	*pfn = found;
	return FRAME_OK;
}

/*
 * Index just past the first non-FREE frame in [start, start + count), or 0
 * if the whole run is FREE (0 can never be "just past" a frame).
 */
static uint64_t run_blocker_end(const struct frame_table *ft, uint64_t start,
				uint64_t count)
{
	uint64_t i;

	for (i = 0; i < count; i++)
		if (ft->owner[start + i] != FRAME_FREE)
			return start + i + 1;
	return 0;
}

/*
 * Lowest-addressed run wins (contiguous runs are rare and mostly made at
 * boot, so packing them low keeps the top of the table unfragmented). The
 * search does not use or move next_hint. A count of 0 or an align_frames that
 * is not a power of two is FRAME_E_RANGE. *first is written only on success.
 */
int frame_alloc_contiguous(struct frame_table *ft, frame_owner_t owner,
			   uint64_t count, uint64_t align_frames, uint64_t *first)
{
	uint64_t start = 0, i;

	if (!owner_can_hold_frames(owner))
		return FRAME_E_OWNER;
	if (count == 0 || align_frames == 0 ||
	    (align_frames & (align_frames - 1)) != 0)
		return FRAME_E_RANGE;
	if (count > ft->nframes)
		return FRAME_E_NOMEM;
	/* start + count <= nframes, written so that it cannot wrap */
	while (start <= ft->nframes - count) {
		uint64_t blocker = run_blocker_end(ft, start, count);

		if (blocker == 0)
			break;
		if (!align_up_checked(blocker, align_frames, &start))
			return FRAME_E_NOMEM;
	}
	if (start > ft->nframes - count)
		return FRAME_E_NOMEM;
	for (i = 0; i < count; i++)
		change_owner(ft, start + i, owner);
	ft->free_count -= count;
	*first = start;
	return FRAME_OK;
}

uint64_t frame_count_owned(const struct frame_table *ft, frame_owner_t owner)
{
	uint64_t pfn, n = 0;

	for (pfn = 0; pfn < ft->nframes; pfn++)
		n += ft->owner[pfn] == owner;
	return n;
}

/* Recounts everything from the entries; never trusts the cached counters.
 * A frame that has an owner but is "known zero" would be handed to the next
 * owner unzeroed after its release: that is corruption too, as are bits
 * past the last frame. */
bool frame_table_check(const struct frame_table *ft)
{
	uint64_t pfn, nfree = 0, nmanaged = 0, words;

	if (!ft || ((!ft->owner || !ft->known_zero) && ft->nframes != 0) ||
	    !ft->zero)
		return false;
	words = frame_table_zero_words(ft->nframes);
	if (ft->nframes % 64 &&
	    (ft->known_zero[words - 1] >> (ft->nframes % 64)) != 0)
		return false;
	for (pfn = 0; pfn < ft->nframes; pfn++) {
		frame_owner_t o = ft->owner[pfn];
		if (!owner_value_valid(o))
			return false;
		if (o != FRAME_FREE && is_known_zero(ft, pfn))
			return false;
		nfree += o == FRAME_FREE;
		nmanaged += o != FRAME_UNMANAGED;
	}
	return nfree == ft->free_count && nmanaged == ft->managed_count;
}

const char *frame_strerror(int err)
{
	switch (err) {
	case FRAME_OK:
		return "ok";
	case FRAME_E_RANGE:
		return "frame out of range";
	case FRAME_E_UNMANAGED:
		return "frame not managed";
	case FRAME_E_OWNER:
		return "invalid owner";
	case FRAME_E_BUSY:
		return "frame busy";
	case FRAME_E_NOT_OWNER:
		return "not the owner";
	case FRAME_E_NOMEM:
		return "out of frames";
	case FRAME_E_SEALED:
		return "table sealed";
	default:
		return "unknown error";
	}
}
