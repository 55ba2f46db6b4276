/*
 * libFuzzer target for the nested page table builder (tcb/npt.c), in both
 * formats.
 *
 * The first byte picks the format and how much fake RAM there is (few
 * frames, so that memory runs out often); the rest is a program of
 * operations on three VMs' tables with raw, untrusted-looking arguments:
 * init, map (own or foreign frame, any gpa, pfn and perms), populate and
 * unpopulate (any gpa and size, wrap-arounds included), translate, destroy,
 * the accessed/dirty flags a long-mode CPU sets, and a corrupted entry.
 *
 * Checks, against a model of what each VM has mapped:
 *  - every return value the header fixes (INVAL, NOT_OWNER, MAPPED before
 *    anything else; NOMEM only when memory is short), and a refused call
 *    changes neither the free count nor the mappings;
 *  - after every operation npt_check holds for every VM, the counts equal
 *    the model, every mapped page translates to its frame and perms and
 *    still holds what was written into it, and the frame table checks;
 *  - a corrupted entry fails npt_check unless it means the same (same
 *    address; for a leaf any valid perms, for long mode the CPU's flags),
 *    and npt_check reads no frame but the TCB's while finding that out;
 *  - npt.c never asks for a pointer to a frame that is not the TCB's.
 * Any disagreement aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/npt.h"
#include "tcb/frame_table.h"
#include "tcb/platform.h"
#include "fuzz_util.h"

#define MAX_FRAMES  96u
#define FIRST_FRAME 2u  /* frames 0, 1: unmanaged */
#define BOOT_FRAME  2u  /* frame 2: the "hypervisor" (TCB, not a table) */
#define VMS         3u
#define MAX_OPS     64u
#define GIB         (1ull << 30)
#define MIB2        (2ull << 20)

/* The formats as the CPU reads them (SDM 29.3.2; APM 5.3.3), written out
 * here independently of npt.c. */
#define T_ADDR 0x000ffffffffff000ull
#define T_P    (1ull << 0)
#define T_RW   (1ull << 1)
#define T_A    (1ull << 5)
#define T_D    (1ull << 6)
#define T_NX   (1ull << 63)

struct mapping {
	uint64_t gpa, pfn;
	unsigned perms;
};

struct vm_model {
	frame_owner_t owner;
	struct npt npt;
	bool live;
	unsigned n;
	struct mapping map[MAX_FRAMES];
};

static uint8_t ram[MAX_FRAMES * PAGE_SIZE] __attribute__((aligned(4096)));
static frame_owner_t owners[MAX_FRAMES];
static uint64_t known_zero[(MAX_FRAMES + 63) / 64];
static struct frame_table ft;
static uint64_t nframes;
static enum npt_format format;
static struct vm_model vms[VMS];
static unsigned long bad_phys;
static uint64_t scratch[512] __attribute__((aligned(4096)));

void *tcb_phys_to_virt(uint64_t pa)
{
	uint64_t pfn = pa >> PAGE_SHIFT;

	if ((pa & PAGE_MASK) || pfn >= nframes ||
	    frame_owner(&ft, pfn) != FRAME_TCB) {
		bad_phys++;
		memset(scratch, 0, sizeof(scratch));
		return scratch;
	}
	return ram + pa;
}

static void zero_frame(uint64_t pfn, void *ctx)
{
	(void)ctx;
	require(pfn < nframes);
	memset(ram + pfn * PAGE_SIZE, 0, PAGE_SIZE);
}

/* Mostly addresses where tables are shared or end, sometimes raw. */
static uint64_t take_gpa(struct input *in)
{
	static const uint64_t regions[] = {
		0, MIB2 - 8 * PAGE_SIZE, GIB - 8 * PAGE_SIZE,
		512 * GIB + 5 * GIB, NPT_GPA_LIMIT - MIB2,
		NPT_GPA_LIMIT - 8 * PAGE_SIZE,
	};
	uint64_t b = take(in, 1);

	if (b & 0x80)
		return take(in, 8);
	return regions[b % 6] + ((b >> 3) & 15) * PAGE_SIZE;
}

/* What a frame of VM owner mapped at gpa holds at both ends. */
static uint64_t pattern(frame_owner_t owner, uint64_t gpa)
{
	return ((uint64_t)owner * 0x9e3779b97f4a7c15ull) ^ gpa ^ 1;
}

static uint64_t *frame_words(uint64_t pfn)
{
	return (uint64_t *)(ram + pfn * PAGE_SIZE);
}

static int find(const struct vm_model *vm, uint64_t gpa)
{
	unsigned i;

	for (i = 0; i < vm->n; i++)
		if (vm->map[i].gpa == gpa)
			return (int)i;
	return -1;
}

static void add(struct vm_model *vm, uint64_t gpa, uint64_t pfn,
		unsigned perms)
{
	uint64_t *w = frame_words(pfn);

	require(vm->n < MAX_FRAMES);
	require(w[0] == 0 && w[511] == 0); /* handed out zeroed */
	vm->map[vm->n++] = (struct mapping){ gpa, pfn, perms };
	w[0] = pattern(vm->owner, gpa);
	w[511] = ~pattern(vm->owner, gpa);
}

static bool perms_ok(uint64_t perms)
{
	return perms == NPT_READ || perms == (NPT_READ | NPT_WRITE) ||
	       perms == (NPT_READ | NPT_EXEC) || perms == NPT_RWX;
}

static bool gpa_ok(uint64_t gpa)
{
	return (gpa & PAGE_MASK) == 0 && gpa < NPT_GPA_LIMIT;
}

/* ---- operations ----------------------------------------------------------- */

static void op_init(struct vm_model *vm)
{
	uint64_t free0 = ft.free_count;
	int rc;

	if (vm->live)
		return;
	rc = npt_init(&vm->npt, &ft, vm->owner, format);
	require(rc == (free0 ? NPT_OK : NPT_E_NOMEM));
	vm->live = rc == NPT_OK;
	vm->n = 0;
}

static void op_destroy(struct vm_model *vm)
{
	uint64_t free0 = ft.free_count;
	uint64_t back = vm->live ? vm->n + vm->npt.table_frames : 0;
	unsigned i;

	npt_destroy(&vm->npt, &ft);
	require(ft.free_count == free0 + back);
	for (i = 0; i < vm->n; i++)
		require(frame_words(vm->map[i].pfn)[0] == 0);
	vm->live = false;
	vm->n = 0;
}

/* Map a frame: the VM's own fresh one, or any frame number at all. */
static void op_map(struct vm_model *vm, struct input *in)
{
	uint64_t gpa = take_gpa(in), flags = take(in, 1), pfn;
	unsigned perms = (unsigned)take(in, 1);
	uint64_t free0;
	bool own = (flags & 1) != 0;
	int rc;

	if (own) {
		if (frame_alloc(&ft, vm->owner, &pfn) != FRAME_OK)
			return;
	} else {
		pfn = flags & 2 ? take(in, 8) : flags >> 2;
		if (frame_owner(&ft, pfn) == vm->owner)
			return; /* mapped already: an alias is npt_check's */
	}
	free0 = ft.free_count;
	rc = npt_map(&vm->npt, &ft, gpa, pfn, perms);
	if (!vm->live || !gpa_ok(gpa) || !perms_ok(perms))
		require(rc == NPT_E_INVAL);
	else if (frame_owner(&ft, pfn) != vm->owner)
		require(rc == NPT_E_NOT_OWNER);
	else if (find(vm, gpa) >= 0)
		require(rc == NPT_E_MAPPED);
	else
		require(rc == NPT_OK || (rc == NPT_E_NOMEM && ft.free_count < 3));
	if (rc == NPT_OK) {
		require(own); /* every other frame the VM owns is mapped */
		add(vm, gpa, pfn, perms);
		return;
	}
	require(ft.free_count == free0);
	if (own)
		require(frame_release(&ft, pfn, vm->owner) == FRAME_OK);
}

static bool range_mapped(const struct vm_model *vm, uint64_t gpa,
			 uint64_t size)
{
	unsigned i;

	for (i = 0; i < vm->n; i++)
		if (vm->map[i].gpa - gpa < size)
			return true;
	return false;
}

/* A size for populate/unpopulate. Their cost is a walk per page of the
 * range (the caller bounds it: npt.h), so a raw size that would pass the
 * argument checks is cut down to at most MAX_RAW_PAGES. */
#define MAX_RAW_PAGES 4096u

static uint64_t take_size(struct input *in)
{
	uint64_t b = take(in, 1), raw;

	if (!(b & 0x80))
		return (b & 0x3f) * PAGE_SIZE + (b & 0x40 ? 0x800 : 0);
	raw = take(in, 8);
	if ((raw & PAGE_MASK) == 0 && raw < NPT_GPA_LIMIT)
		raw %= (uint64_t)(MAX_RAW_PAGES + 1) * PAGE_SIZE;
	return raw;
}

static void op_populate(struct vm_model *vm, struct input *in)
{
	uint64_t gpa = take_gpa(in), size = take_size(in), free0 = ft.free_count;
	unsigned perms = (unsigned)take(in, 1);
	uint64_t off, hpa;
	unsigned p;
	int rc;

	rc = npt_populate(&vm->npt, &ft, gpa, size, perms);
	if (!vm->live || !gpa_ok(gpa) || !perms_ok(perms) || size == 0 ||
	    (size & PAGE_MASK) || size > NPT_GPA_LIMIT - gpa)
		require(rc == NPT_E_INVAL);
	else if (range_mapped(vm, gpa, size))
		require(rc == NPT_E_MAPPED);
	else if (size / PAGE_SIZE > free0)
		require(rc == NPT_E_NOMEM);
	else
		require(rc == NPT_OK || rc == NPT_E_NOMEM);
	if (rc != NPT_OK) {
		require(ft.free_count == free0);
		return;
	}
	for (off = 0; off < size; off += PAGE_SIZE) {
		require(npt_translate(&vm->npt, gpa + off, &hpa, &p));
		require(p == perms);
		add(vm, gpa + off, hpa >> PAGE_SHIFT, perms);
	}
}

static void op_unpopulate(struct vm_model *vm, struct input *in)
{
	uint64_t gpa = take_gpa(in), size = take_size(in), free0 = ft.free_count;
	unsigned i, gone = 0;
	int rc;

	rc = npt_unpopulate(&vm->npt, &ft, gpa, size);
	if (!vm->live || !gpa_ok(gpa) || (size & PAGE_MASK) ||
	    size > NPT_GPA_LIMIT - gpa) {
		require(rc == NPT_E_INVAL);
		require(ft.free_count == free0);
		return;
	}
	require(rc == NPT_OK);
	for (i = 0; i < vm->n;) {
		if (vm->map[i].gpa - gpa < size) {
			require(frame_owner(&ft, vm->map[i].pfn) == FRAME_FREE);
			vm->map[i] = vm->map[--vm->n];
			gone++;
		} else {
			i++;
		}
	}
	require(ft.free_count >= free0 + gone);
}

static void op_translate(const struct vm_model *vm, struct input *in)
{
	uint64_t gpa = take_gpa(in) + take(in, 2) % PAGE_SIZE;
	uint64_t hpa = 0x1234;
	unsigned perms = 99;
	int i = vm->live ? find(vm, gpa & ~PAGE_MASK) : -1;

	if (gpa >= NPT_GPA_LIMIT)
		i = -1;
	if (i < 0) {
		require(!npt_translate(&vm->npt, gpa, &hpa, &perms));
		require(hpa == 0x1234 && perms == 99);
		return;
	}
	require(npt_translate(&vm->npt, gpa, &hpa, &perms));
	require(hpa == (vm->map[i].pfn << PAGE_SHIFT | (gpa & PAGE_MASK)));
	require(perms == vm->map[i].perms);
}

/* ---- the tables as the CPU sees them ------------------------------------- */

static bool present(uint64_t ent)
{
	return format == NPT_EPT ? (ent & 7) != 0 : (ent & T_P) != 0;
}

/* The entry at level (3 = PML4E .. 0 = PTE) on gpa's path; it exists for
 * every gpa the model has mapped. */
static uint64_t *slot_of(const struct vm_model *vm, uint64_t gpa, int level)
{
	uint64_t table_pa = vm->npt.root_pa;
	int l;

	for (l = 3; l > level; l--) {
		uint64_t ent = ((uint64_t *)(ram + table_pa))[(gpa >> (12 + 9 * l)) & 511];

		require(present(ent));
		table_pa = ent & T_ADDR;
		require(table_pa / PAGE_SIZE < nframes);
	}
	return &((uint64_t *)(ram + table_pa))[(gpa >> (12 + 9 * level)) & 511];
}

/* A long-mode CPU uses a page: accessed on the way, dirty if it writes. */
static void op_cpu_access(const struct vm_model *vm, struct input *in)
{
	uint64_t b = take(in, 1);
	const struct mapping *m;
	int level;

	if (format != NPT_AMD64 || !vm->live || vm->n == 0)
		return;
	m = &vm->map[b % vm->n];
	for (level = 3; level >= 0; level--)
		*slot_of(vm, m->gpa, level) |= T_A;
	if (b & 0x80)
		*slot_of(vm, m->gpa, 0) |= T_D;
}

/* Does a leaf with these bits give perms (and only what npt_map writes,
 * the CPU's flags aside)? The encodings, from the SDM and the APM. */
static bool leaf_means(uint64_t bits, unsigned perms)
{
	uint64_t want;

	if (format == NPT_EPT)
		return bits == ((6ull << 3) | perms);
	want = T_P | (1ull << 2) | (perms & NPT_WRITE ? T_RW : 0) |
	       (perms & NPT_EXEC ? 0 : T_NX);
	return (bits & ~(T_A | T_D)) == want;
}

static bool same_meaning(uint64_t old, uint64_t ent, int level)
{
	uint64_t bits = ent & ~T_ADDR;
	unsigned perms;

	if ((old & T_ADDR) != (ent & T_ADDR))
		return false;
	if (level > 0)
		return (bits & ~(format == NPT_AMD64 ? T_A : 0)) == 7;
	for (perms = 1; perms <= NPT_RWX; perms += 2)
		if (leaf_means(bits, perms))
			return true;
	return false;
}

/* Overwrite one entry on a mapped page's path: npt_check must notice
 * unless it means the same, and must not wander out of the TCB's frames
 * to find out. The entry is put back afterwards. */
static void op_corrupt(const struct vm_model *vm, struct input *in)
{
	uint64_t b = take(in, 1), value = take(in, 8), *slot, old;
	int level = (int)(b & 3);

	if (!vm->live || vm->n == 0)
		return;
	slot = slot_of(vm, vm->map[(b >> 2) % vm->n].gpa, level);
	old = *slot;
	if (b & 0x40) /* a small change rather than a raw value */
		value = old ^ (1ull << (value % 64));
	*slot = value;
	require(npt_check(&vm->npt, &ft) == same_meaning(old, value, level));
	require(bad_phys == 0);
	*slot = old;
}

/* ---- the invariants after every operation ------------------------------ */

/* npt_check (the costly part: walks of every table) for the VM the
 * operation was on, or all; the cheaper model checks for every VM. */
static void check_all(const struct vm_model *touched)
{
	uint64_t tables = 0, pages = 0;
	unsigned v, i;

	require(bad_phys == 0);
	require(frame_table_check(&ft));
	for (v = 0; v < VMS; v++) {
		const struct vm_model *vm = &vms[v];

		if (!touched || vm == touched)
			require(npt_check(&vm->npt, &ft));
		require(frame_count_owned(&ft, vm->owner) == vm->n);
		if (!vm->live) {
			require(vm->npt.root_pa == 0);
			continue;
		}
		require(vm->npt.mapped_pages == vm->n);
		for (i = 0; i < vm->n; i++) {
			const struct mapping *m = &vm->map[i];
			uint64_t hpa = 0;
			unsigned perms = 0;

			require(npt_translate(&vm->npt, m->gpa, &hpa, &perms));
			require(hpa == m->pfn << PAGE_SHIFT && perms == m->perms);
			require(frame_words(m->pfn)[0] == pattern(vm->owner, m->gpa));
			require(frame_words(m->pfn)[511] == ~pattern(vm->owner, m->gpa));
		}
		tables += vm->npt.table_frames;
		pages += vm->n;
	}
	require(frame_count_owned(&ft, FRAME_TCB) == 1 + tables);
	require(ft.free_count + tables + pages + 1 == nframes - FIRST_FRAME);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	uint64_t head = take(&in, 1);
	unsigned v, ops;

	format = head & 1 ? NPT_AMD64 : NPT_EPT;
	nframes = FIRST_FRAME + 8 + (head >> 1) % (MAX_FRAMES - FIRST_FRAME - 8 + 1);
	memset(ram, 0xa5, nframes * PAGE_SIZE);
	memset(frame_words(BOOT_FRAME), 0, PAGE_SIZE);
	bad_phys = 0;
	frame_table_init(&ft, owners, known_zero, nframes, zero_frame, NULL);
	frame_table_add_usable(&ft, FIRST_FRAME * PAGE_SIZE,
			       (nframes - FIRST_FRAME) * PAGE_SIZE);
	frame_table_reserve_boot(&ft, BOOT_FRAME * PAGE_SIZE, PAGE_SIZE);
	frame_table_seal(&ft);
	memset(vms, 0, sizeof(vms));
	for (v = 0; v < VMS; v++)
		vms[v].owner = frame_owner_vm(v);

	for (ops = 0; in.left && ops < MAX_OPS; ops++) {
		uint64_t op = take(&in, 1);
		struct vm_model *vm = &vms[(op >> 4) % VMS];

		switch (op & 15) {
		case 0: case 1: op_init(vm); break;
		case 2: op_destroy(vm); break;
		case 3: case 4: case 5: op_map(vm, &in); break;
		case 6: case 7: op_populate(vm, &in); break;
		case 8: op_unpopulate(vm, &in); break;
		case 9: case 10: op_translate(vm, &in); break;
		case 11: case 12: op_cpu_access(vm, &in); break;
		default: op_corrupt(vm, &in); break;
		}
		check_all(vm);
	}
	check_all(NULL);
	for (v = 0; v < VMS; v++)
		op_destroy(&vms[v]);
	require(ft.free_count == nframes - FIRST_FRAME - 1);
	require(bad_phys == 0);
	return 0;
}
