/*
 * libFuzzer target for the guest page walk and the instruction decoder
 * (tcb/guest_va.c, tcb/insn_decode.c): everything the guest controls when
 * a backend reads the instruction an exit came from.
 *
 * Input: a header (mode flags, physical width, CR3, RIP) and the guest's
 * memory image, which holds its page tables and code (guest memory is the
 * image rounded up to whole pages). Properties checked:
 *   - no read outside the image (ASan) and at most 4 table reads a walk;
 *   - a decoded instruction is 1..15 bytes, within the bytes given, with a
 *     known kind, a real CR and a GPR the mode can name (a MOV: 64-bit
 *     mode, width 2, 4 or 8, an immediate only stored), and decodes the
 *     same from exactly its own bytes and from a longer buffer;
 *   - truncated is said only for fewer than 15 bytes, and then a prefix
 *     of the bytes is all that was seen;
 *   - insn_fetch agrees with gva_read + insn_decode, and says why a fetch
 *     failed;
 *   - translation is deterministic and gives an address below 2^52.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/guest_va.h"
#include "tcb/insn_decode.h"
#include "fuzz_util.h"

#define HEADER 12

struct image {
	const uint8_t *mem;
	size_t size;
	unsigned reads;
};

/* Guest memory is whole pages: the image rounded up to 4 KiB, the bytes
 * past its end reading as zero. */
static bool read_image(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct image *im = ctx;
	uint64_t pages = (im->size + 0xfff) & ~0xfffull;
	uint8_t *out = buf;

	im->reads++;
	if (gpa >= pages || len > pages - gpa)
		return false;
	for (size_t k = 0; k < len; k++)
		out[k] = gpa + k < im->size ? im->mem[gpa + k] : 0;
	return true;
}

static void check_insn(const struct insn *i, size_t avail, bool long_mode)
{
	require(i->len >= 1 && i->len <= INSN_MAX_LEN && i->len <= avail);
	require(i->kind > INSN_NONE && i->kind <= INSN_MOV_LOAD);
	if (i->kind == INSN_MOV_STORE || i->kind == INSN_MOV_LOAD) {
		require(long_mode && i->gpr < 16);
		require(i->width == 2 || i->width == 4 || i->width == 8);
		require(!i->has_imm || (i->kind == INSN_MOV_STORE &&
					(i->width != 2 || i->imm <= 0xffff)));
	}
	if (i->kind == INSN_MOV_TO_CR || i->kind == INSN_MOV_FROM_CR)
		require(i->cr == 0 || i->cr == 2 || i->cr == 3 || i->cr == 4 ||
			i->cr == 8);
	if (i->kind == INSN_MOV_TO_CR || i->kind == INSN_MOV_FROM_CR ||
	    i->kind == INSN_LMSW)
		require(i->gpr < (long_mode ? 16 : 8));
}

/* Field by field: the struct has padding. */
static bool same_insn(const struct insn *a, const struct insn *b)
{
	return a->kind == b->kind && a->len == b->len && a->cr == b->cr &&
	       a->gpr == b->gpr && a->width == b->width &&
	       a->has_imm == b->has_imm && a->imm == b->imm;
}

static void check_decode(const uint8_t *b, size_t n, bool long_mode)
{
	uint8_t padded[INSN_MAX_LEN + 8];
	struct insn i, again;
	enum insn_status s = insn_decode(b, n, long_mode, &i);

	if (s == INSN_TRUNCATED)
		require(n < INSN_MAX_LEN);
	if (s != INSN_OK)
		return;
	check_insn(&i, n, long_mode);
	require(insn_decode(b, i.len, long_mode, &again) == INSN_OK);
	require(same_insn(&i, &again));
	memset(padded, 0x2e, sizeof(padded));
	memcpy(padded, b, i.len);
	require(insn_decode(padded, sizeof(padded), long_mode, &again) == INSN_OK);
	require(same_insn(&i, &again));
	if (i.len > 1)
		require(insn_decode(b, i.len - 1u, long_mode, &again) == INSN_TRUNCATED);
}

static void check_translate(const struct guest_paging *p, struct image *im,
			    uint64_t va, unsigned access)
{
	uint64_t gpa = 0, gpa2 = 0;
	unsigned before = im->reads;
	enum gva_status s = gva_translate(p, va, access, &gpa);

	require(im->reads - before <= 4);
	require(gva_translate(p, va, access, &gpa2) == s);
	if (s == GVA_OK)
		require(gpa == gpa2 && gpa < (1ull << 52));
	require(gva_status_name(s)[0] != '?');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct image im;
	struct guest_paging p;
	struct insn i;
	enum gva_status why;
	uint8_t flags, bytes[INSN_MAX_LEN];

	if (size < HEADER)
		return 0;
	flags = data[0];
	im = (struct image){ data + HEADER, size - HEADER, 0 };
	p = (struct guest_paging){
		.cr0 = (flags & 1 ? 1ull << 31 : 0) | (flags & 2 ? 1ull << 16 : 0) | 1,
		.cr3 = le(data + 2, 2) << 12 | (le(data + 4, 2) & 0xfff),
		.cr4 = (flags & 4 ? 0 : 1ull << 5) | (flags & 8 ? 1ull << 20 : 0) |
		       (data[1] & 0x80 ? 1ull << 12 : 0),
		.efer = (flags & 16 ? 0 : (1ull << 8) | (1ull << 10)) |
			(flags & 32 ? 1ull << 11 : 0),
		.maxphyaddr = data[1] & 0x7f,
		.read = read_image,
		.ctx = &im,
	};
	bool long_mode = flags & 64, user = flags & 128;
	uint64_t rip = le(data + 6, 6);

	/* Sign-extend bit 47 half the time: the upper half is canonical. */
	if (data[5] & 1)
		rip |= 0xffff000000000000ull;

	/* The decoder alone, over the image's first bytes. */
	check_decode(im.mem, im.size < 32 ? im.size : 32, long_mode);

	check_translate(&p, &im, rip, GVA_FETCH | (user ? GVA_USER : 0));
	check_translate(&p, &im, rip, GVA_WRITE);

	enum insn_status s = insn_fetch(&p, rip, long_mode, user, &i, &why);
	require(insn_status_name(s)[0] != '?');
	if (s == INSN_NOT_FETCHED) {
		require(why != GVA_OK);
		return 0;
	}
	require(why == GVA_OK);
	/* Whatever insn_fetch decided, the bytes it saw decide the same. */
	size_t room = 0x1000 - (rip & 0xfff);
	size_t n = room < INSN_MAX_LEN ? room : INSN_MAX_LEN;
	require(gva_read(&p, rip, GVA_FETCH | (user ? GVA_USER : 0), bytes, n) == GVA_OK);
	if (s == INSN_OK) {
		check_insn(&i, INSN_MAX_LEN, long_mode);
		check_decode(bytes, n, long_mode);
	}
	return 0;
}
