/*
 * The guest's page walk (see guest_va.h). Bit positions: AMD APM Vol. 2
 * 5.3.3 and Figures 5-18 to 5-25 (long-mode entries), 5.6 (protection
 * checks); the same as SDM Vol. 3A 4.5 and 4.6 for everything used here.
 */
#include "tcb/guest_va.h"

#define CR0_WP    (1ull << 16)
#define CR0_PG    (1ull << 31)
#define CR4_PAE   (1ull << 5)
#define CR4_SMEP  (1ull << 20)
#define CR4_LA57  (1ull << 12)
#define EFER_LMA  (1ull << 10)
#define EFER_NXE  (1ull << 11)

#define PTE_P     (1ull << 0)
#define PTE_RW    (1ull << 1)
#define PTE_US    (1ull << 2)
#define PTE_PS    (1ull << 7)
#define PTE_NX    (1ull << 63)

#define LEVELS    4
#define PAGE_4K   0x1000ull

/* Bits [hi:lo] set. */
#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & ~((1ull << (lo)) - 1))

/* What the walk gathered on its way down (APM 5.6: the most restrictive
 * of all levels counts). */
struct walk_rights {
	bool user, write, nx;
};

static unsigned phys_bits(const struct guest_paging *p)
{
	return p->maxphyaddr >= 32 && p->maxphyaddr <= 52 ? p->maxphyaddr : 52;
}

static bool read_entry(const struct guest_paging *p, uint64_t gpa, uint64_t *e)
{
	uint8_t b[8];
	uint64_t v = 0;

	if (!p->read(p->ctx, gpa, b, sizeof(b)))
		return false;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | b[i]; /* x86 tables are little-endian */
	*e = v;
	return true;
}

/* Reserved bits of a long-mode entry at level (4 = PML4E .. 1 = PTE):
 * address bits at or above the physical width, NX without EFER.NXE, PS in
 * a PML4E, and the bits between the PAT bit and the frame address of a
 * 1 GiB or 2 MiB page. */
static uint64_t reserved_bits(const struct guest_paging *p, unsigned level,
			      uint64_t e)
{
	uint64_t r = BITS(51, phys_bits(p));

	if (!(p->efer & EFER_NXE))
		r |= PTE_NX;
	if (level == 4)
		r |= PTE_PS;
	else if (level == 3 && (e & PTE_PS))
		r |= BITS(29, 13);
	else if (level == 2 && (e & PTE_PS))
		r |= BITS(20, 13);
	return r;
}

static enum gva_status check_access(const struct guest_paging *p,
				    const struct walk_rights *w, unsigned access)
{
	bool user = access & GVA_USER;

	if (user && !w->user)
		return GVA_DENIED;
	/* A supervisor write ignores R/W unless CR0.WP. */
	if ((access & GVA_WRITE) && !w->write && (user || (p->cr0 & CR0_WP)))
		return GVA_DENIED;
	if (access & GVA_FETCH) {
		if (w->nx)
			return GVA_DENIED;
		/* SMEP: no supervisor fetch from a user page. */
		if (!user && w->user && (p->cr4 & CR4_SMEP))
			return GVA_DENIED;
	}
	return GVA_OK;
}

static bool canonical48(uint64_t va)
{
	uint64_t top = va >> 47; /* bits 63:47, all equal */

	return top == 0 || top == (~0ull >> 47);
}

static enum gva_status walk_long_mode(const struct guest_paging *p,
				      uint64_t gva, unsigned access,
				      uint64_t *gpa)
{
	uint64_t addr_mask = BITS(phys_bits(p) - 1, 12);
	uint64_t table = p->cr3 & addr_mask;
	struct walk_rights w = { true, true, false };

	if (!canonical48(gva))
		return GVA_NONCANONICAL;
	for (unsigned level = LEVELS; level >= 1; level--) {
		unsigned shift = 12 + 9 * (level - 1);
		uint64_t e;

		if (!read_entry(p, table + ((gva >> shift) & 511) * 8, &e))
			return GVA_UNREADABLE;
		if (!(e & PTE_P))
			return GVA_NOT_PRESENT;
		if (e & reserved_bits(p, level, e))
			return GVA_RESERVED_BIT;
		w.user = w.user && (e & PTE_US);
		w.write = w.write && (e & PTE_RW);
		w.nx = w.nx || ((p->efer & EFER_NXE) && (e & PTE_NX));
		if (level == 1 || (e & PTE_PS)) {
			uint64_t offset = BITS(shift - 1, 0);
			enum gva_status s = check_access(p, &w, access);

			if (s == GVA_OK)
				*gpa = (e & addr_mask & ~offset) | (gva & offset);
			return s;
		}
		table = e & addr_mask;
	}
	return GVA_NOT_PRESENT; /* not reached: level 1 is a leaf */
}

enum gva_status gva_translate(const struct guest_paging *p, uint64_t gva,
			      unsigned access, uint64_t *gpa)
{
	if (!(p->cr0 & CR0_PG)) {
		/* No paging: protected or real mode, 32-bit linear addresses. */
		if (gva > 0xffffffffull)
			return GVA_NONCANONICAL;
		*gpa = gva;
		return GVA_OK;
	}
	if (!(p->efer & EFER_LMA) || !(p->cr4 & CR4_PAE) || (p->cr4 & CR4_LA57))
		return GVA_UNSUPPORTED_MODE;
	return walk_long_mode(p, gva, access, gpa);
}

enum gva_status gva_read(const struct guest_paging *p, uint64_t gva,
			 unsigned access, void *buf, size_t len)
{
	uint8_t *out = buf;

	if (len && gva + (len - 1) < gva)
		return GVA_NONCANONICAL; /* runs past the top of the address space */
	while (len) {
		uint64_t gpa, room = PAGE_4K - (gva & (PAGE_4K - 1));
		size_t n = len < room ? len : (size_t)room;
		enum gva_status s = gva_translate(p, gva, access, &gpa);

		if (s != GVA_OK)
			return s;
		if (!p->read(p->ctx, gpa, out, n))
			return GVA_UNREADABLE;
		out += n;
		len -= n;
		gva += n;
	}
	return GVA_OK;
}

const char *gva_status_name(enum gva_status s)
{
	switch (s) {
	case GVA_OK:               return "ok";
	case GVA_NONCANONICAL:     return "not a valid linear address";
	case GVA_NOT_PRESENT:      return "not present";
	case GVA_RESERVED_BIT:     return "reserved bit set in a page-table entry";
	case GVA_DENIED:           return "page does not allow the access";
	case GVA_UNREADABLE:       return "outside the VM's memory";
	case GVA_UNSUPPORTED_MODE: return "unsupported paging mode";
	}
	return "?";
}
