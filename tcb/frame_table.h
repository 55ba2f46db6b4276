/*
 * Frame ownership: the memory-protection core of Custos.
 *
 * Every 4 KiB host frame the table manages has exactly one owner: free, the
 * TCB, or one VM. Frames outside managed RAM (firmware, holes, MMIO) are
 * FRAME_UNMANAGED and can never be handed to anyone. A frame changes owner
 * only through the operations below, and nothing of one owner is ever
 * visible to the next: every frame an owner receives reads as zero.
 *
 * Each frame is zeroed once per change of owner, not twice:
 *  - a frame an owner gives back (frame_release) is zeroed there and then,
 *    so a destroyed or torn-down VM's data does not linger in free RAM,
 *    and the table remembers it as *known zero*;
 *  - handing out a known-zero frame (frame_alloc, frame_alloc_contiguous,
 *    frame_assign) does not zero it again; any other free frame is zeroed
 *    first. Frames free at boot are not known zero (a warm reboot leaves
 *    the previous boot's tenants' data in RAM), so each is zeroed when it
 *    is first handed out;
 *  - frame_transfer (one owner to another, no FREE in between) zeroes.
 * Known zero holds only while nothing writes a free frame: the TCB never
 * does (a frame it has released is not its own any more), and no guest can
 * (nested page tables map only frames their VM owns). Devices can: there
 * is no IOMMU yet (docs/architecture.md), and a device that can DMA into a
 * free frame can DMA into an owned one too.
 *
 * The only exception is frame_table_reserve_boot(), which records what is
 * already in use when the table is built (the hypervisor image, the boot
 * modules, the table itself) and is refused once the table is sealed.
 *
 * Architecture-neutral: the hypervisor and the host unit tests both build it.
 */
#ifndef CUSTOS_TCB_FRAME_TABLE_H
#define CUSTOS_TCB_FRAME_TABLE_H

#include <custos/types.h>

typedef uint16_t frame_owner_t;

#define FRAME_UNMANAGED ((frame_owner_t)0) /* not RAM we manage */
#define FRAME_FREE      ((frame_owner_t)1)
#define FRAME_TCB       ((frame_owner_t)2)
#define FRAME_VM_BASE   ((frame_owner_t)3)
#define FRAME_MAX_VMS   1024u

/* Owner value of VM number n (0 <= n < FRAME_MAX_VMS). */
static inline frame_owner_t frame_owner_vm(unsigned n)
{
	return (frame_owner_t)(FRAME_VM_BASE + n);
}

static inline bool frame_owner_is_vm(frame_owner_t o)
{
	return o >= FRAME_VM_BASE && o < FRAME_VM_BASE + FRAME_MAX_VMS;
}

/* Error codes (negative); 0 is success. */
enum frame_err {
	FRAME_OK = 0,
	FRAME_E_RANGE = -1,    /* frame number outside the table */
	FRAME_E_UNMANAGED = -2,/* frame is not managed RAM */
	FRAME_E_OWNER = -3,    /* invalid owner value for this operation */
	FRAME_E_BUSY = -4,     /* frame is not free */
	FRAME_E_NOT_OWNER = -5,/* caller does not own the frame */
	FRAME_E_NOMEM = -6,    /* no free frame (or run) available */
	FRAME_E_SEALED = -7,   /* boot-time operation after seal */
};

/* Zeroes one frame's 4 KiB of contents (hv: via the direct map; tests: fake RAM).
 * Must not be NULL: it is called once for every change of a frame's owner
 * (above: at the release, or when a frame not known zero is handed out),
 * while the entry still names the old owner. */
typedef void (*frame_zero_fn)(uint64_t pfn, void *ctx);

struct frame_table {
	frame_owner_t *owner; /* nframes entries, caller-provided storage */
	/* Bit pfn % 64 of word pfn / 64: the frame is FREE and known to read
	 * as zero (never set for a frame that is not FREE); caller-provided,
	 * frame_table_zero_words(nframes) words. */
	uint64_t *known_zero;
	uint64_t nframes;
	uint64_t free_count;
	uint64_t managed_count; /* frames that are not FRAME_UNMANAGED */
	uint64_t next_hint;     /* where the next allocation search starts */
	bool sealed;
	frame_zero_fn zero;
	void *zero_ctx;
};

/* Bytes of owner storage a table for nframes frames needs. */
uint64_t frame_table_bytes(uint64_t nframes);

/* 64-bit words of known-zero storage a table for nframes frames needs. */
uint64_t frame_table_zero_words(uint64_t nframes);

/* Start with every frame FRAME_UNMANAGED (and none known zero). */
void frame_table_init(struct frame_table *ft, frame_owner_t *storage,
		      uint64_t *known_zero, uint64_t nframes, frame_zero_fn zero,
		      void *zero_ctx);

/*
 * Boot-time only (refused after frame_table_seal()):
 *  - add_usable marks the whole frames inside [base, base+len) FREE, not
 *    known zero (rounded inward; parts beyond the table are ignored);
 *  - reserve_boot marks every frame touching [base, base+len) as owned by
 *    FRAME_TCB without zeroing (rounded outward); frames that are unmanaged
 *    stay unmanaged. Both return FRAME_OK or FRAME_E_SEALED.
 *
 * Clarifications (not changes) of the above:
 *  - add_usable only turns FRAME_UNMANAGED frames FREE; it never downgrades
 *    a TCB or VM frame, and overlapping usable ranges are harmless;
 *  - reserve_boot only turns FREE frames into TCB frames; frames owned by a
 *    VM or already by the TCB keep their owner;
 *  - therefore call order matters: call add_usable for every usable range
 *    first, then reserve_boot for everything in use, then seal. A
 *    reservation made before its frames were added has no effect;
 *  - a range whose end does not fit in 64 bits is clamped to the top of the
 *    address space, never wrapped.
 */
int frame_table_add_usable(struct frame_table *ft, uint64_t base, uint64_t len);
int frame_table_reserve_boot(struct frame_table *ft, uint64_t base, uint64_t len);
void frame_table_seal(struct frame_table *ft);

/* Owner of a frame; FRAME_UNMANAGED for frames outside the table. */
frame_owner_t frame_owner(const struct frame_table *ft, uint64_t pfn);

/* Whether a frame is FREE and known to read as zero (see above). */
bool frame_known_zero(const struct frame_table *ft, uint64_t pfn);

/* FREE -> owner (owner must be TCB or a VM). Zeroes the frame unless it is
 * known zero. */
int frame_assign(struct frame_table *ft, uint64_t pfn, frame_owner_t owner);

/* owner -> FREE; refused unless 'owner' is the current owner. Zeroes, and
 * the frame is known zero from then on. */
int frame_release(struct frame_table *ft, uint64_t pfn, frame_owner_t owner);

/* from -> to; refused unless 'from' is the current owner and to != from is
 * TCB or a VM. Zeroes. Bad argument values (from or to not TCB/VM, or
 * to == from) are FRAME_E_OWNER; a valid 'from' that is not the current
 * owner is FRAME_E_NOT_OWNER. */
int frame_transfer(struct frame_table *ft, uint64_t pfn, frame_owner_t from,
		   frame_owner_t to);

/* Find a free frame, assign it to owner (zeroed unless known zero), store
 * its number in *pfn. (*pfn and *first below are written only on success.) */
int frame_alloc(struct frame_table *ft, frame_owner_t owner, uint64_t *pfn);

/* Same for 'count' physically contiguous frames, the first aligned to
 * 'align_frames' (a power of two); all or nothing. A count of 0 or an
 * align_frames that is 0 or not a power of two is FRAME_E_RANGE; the
 * lowest-addressed fitting run is chosen. */
int frame_alloc_contiguous(struct frame_table *ft, frame_owner_t owner,
			   uint64_t count, uint64_t align_frames, uint64_t *first);

/* Number of frames currently owned by 'owner' (linear scan). */
uint64_t frame_count_owned(const struct frame_table *ft, frame_owner_t owner);

/*
 * Check the table's invariants (counters agree with the entries, every entry
 * is a valid owner value, only FREE frames are known zero). Returns true if
 * they hold. Used by tests after
 * every step and by the hypervisor's debug self-check.
 */
bool frame_table_check(const struct frame_table *ft);

/* Short human name of an error code, for log lines. */
const char *frame_strerror(int err);

#endif
