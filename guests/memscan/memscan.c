/*
 * memscan: checks that its own memory is usable and private, and that
 * nothing outside it is reachable. (a) Fill every free page between the image
 * and the stack with a per-address pattern and read it all back. (b) Report
 * what the cmdline targets read as when they fall inside its own memory.
 * (c) Touch each target outside its memory, then write just past the end:
 * the TCB must stop the VM at the first such access (EPT violation), so any
 * line after the first "touching" is a failure.
 *
 * Output lines:
 *   memscan: start (vm <id>, <mem> MiB)
 *   memscan: vm name '<name>' cmdline '<cmdline>'
 *   memscan: own memory ok (<n> pages)
 *   memscan: own memory CORRUPTED at 0x<gpa>     (first bad word; goes on)
 *   memscan: target 0x<a> inside own memory, reads 0x<16 hex>
 *   memscan: target 0x<a> inside own memory, page 0 is not mapped
 *   memscan: target 0x<a> beyond the <n>-bit physical address width, not touched
 *   memscan: touching 0x<a>                      (a read of 8 bytes at a)
 *   memscan: ESCAPED read 0x<a> = 0x<16 hex>
 *   memscan: touching 0x<mem_size>               (a write of 8 bytes there)
 *   memscan: ESCAPED write
 * then hc_exit(2) (only reached if the TCB let every access through).
 *
 * cmdline: targets=<a>,<b>,... (up to 16 addresses, hex with 0x or decimal).
 *
 * Reaching an address outside its memory needs a guest mapping first: the
 * TCB's page tables map only [0, mem_size). memscan maps a window at linear
 * 1 GiB (PDPT entry 1, never used by the TCB's tables since mem_size <= 1 GiB)
 * through a page directory of its own in the free page at 0x7000, two 2 MiB
 * pages wide so that an access straddling a 2 MiB boundary is still mapped,
 * and points it at the target's 2 MiB frame. So the access leaves the guest
 * as that guest-physical address and meets the EPT check.
 */
#include "guests/runtime/guest.h"

#define MAX_TARGETS 16
#define STACK_RESERVE (64 * 1024)
#define PAGE ((uint64_t)0x1000)
#define PAGE_2M ((uint64_t)0x200000)

#define PTE_P ((uint64_t)0x1)
#define PTE_RW ((uint64_t)0x2)
#define PTE_PS ((uint64_t)0x80)
#define PTE_ADDR ((uint64_t)0x000ffffffffff000)

#define WINDOW_LINEAR ((uint64_t)0x40000000) /* 1 GiB */
#define WINDOW_PD_GPA ((uint64_t)0x7000)     /* first free page (guest_abi.h) */

static uint64_t word_pattern(uint64_t gpa)
{
	return (gpa * 0x9e3779b97f4a7c15ull) ^ 0x6d656d7363616e00ull;
}

/* One 8-byte access each, exactly as written: inline asm so that the
 * compiler neither splits, merges nor drops it. */
static uint64_t load64(uint64_t linear)
{
	uint64_t v;

	__asm__ volatile("movq (%1), %0" : "=r"(v) : "r"(linear) : "memory");
	return v;
}

static void store64(uint64_t linear, uint64_t v)
{
	__asm__ volatile("movq %0, (%1)" : : "r"(v), "r"(linear) : "memory");
}

static void own_memory(const struct custos_boot_info *bi)
{
	uint64_t start = (uint64_t)(uintptr_t)__image_end;
	uint64_t end = bi->mem_size - STACK_RESERVE;

	if (bi->image_end > start)
		start = bi->image_end;
	start = (start + PAGE - 1) & ~(PAGE - 1);
	if (start > end)
		start = end;

	for (uint64_t a = start; a < end; a += 8)
		store64(a, word_pattern(a));
	for (uint64_t a = start; a < end; a += 8) {
		if (load64(a) != word_pattern(a)) {
			con_printf("memscan: own memory CORRUPTED at 0x%lx\n", a);
			return;
		}
	}
	con_printf("memscan: own memory ok (%lu pages)\n", (end - start) / PAGE);
}

static unsigned phys_addr_bits(void)
{
	uint32_t r[4];

	cpuid(0x80000000u, 0, r);
	if (r[0] < 0x80000008u)
		return 36;
	cpuid(0x80000008u, 0, r);
	return r[0] & 0xff;
}

static volatile uint64_t *window_pd(void)
{
	return (volatile uint64_t *)(uintptr_t)WINDOW_PD_GPA;
}

static void window_init(void)
{
	uint64_t cr3;

	__asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
	const volatile uint64_t *pml4 =
		(const volatile uint64_t *)(uintptr_t)(cr3 & PTE_ADDR);
	volatile uint64_t *pdpt = (volatile uint64_t *)(uintptr_t)(pml4[0] & PTE_ADDR);

	for (int i = 0; i < 512; i++)
		window_pd()[i] = 0;
	pdpt[WINDOW_LINEAR >> 30] = WINDOW_PD_GPA | PTE_P | PTE_RW;
}

/* Map the window onto the 2 MiB frame holding gpa and the next one; return
 * the linear address that reaches gpa. */
static uint64_t window_map(uint64_t gpa)
{
	uint64_t frame = gpa & ~(PAGE_2M - 1);

	window_pd()[0] = frame | PTE_P | PTE_RW | PTE_PS;
	window_pd()[1] = (frame + PAGE_2M) | PTE_P | PTE_RW | PTE_PS;
	__asm__ volatile("invlpg (%0)" : : "r"(WINDOW_LINEAR) : "memory");
	__asm__ volatile("invlpg (%0)" : : "r"(WINDOW_LINEAR + PAGE_2M) : "memory");
	return WINDOW_LINEAR + (gpa - frame);
}

static bool inside(const struct custos_boot_info *bi, uint64_t a)
{
	return a < bi->mem_size && bi->mem_size - a >= 8;
}

int guest_main(const struct custos_boot_info *bi)
{
	uint64_t targets[MAX_TARGETS];

	guest_init(bi, "memscan");
	size_t n = cmdline_u64_list(bi, "targets", targets, MAX_TARGETS);

	/* (a) */
	own_memory(bi);

	/* (b) */
	for (size_t i = 0; i < n; i++) {
		uint64_t a = targets[i];
		if (!inside(bi, a))
			continue;
		if (a < PAGE)
			con_printf("memscan: target 0x%lx inside own memory, page 0 is not mapped\n", a);
		else
			con_printf("memscan: target 0x%lx inside own memory, reads 0x%016lx\n",
				   a, load64(a));
	}

	/* (c) */
	unsigned bits = phys_addr_bits();
	uint64_t max_gpa = bits >= 64 ? UINT64_MAX : 1ull << bits;
	window_init();
	for (size_t i = 0; i < n; i++) {
		uint64_t a = targets[i];
		if (inside(bi, a))
			continue;
		/* A PDE with address bits at or above MAXPHYADDR faults in
		 * the guest (reserved bit) before EPT is consulted. */
		if (a > max_gpa - 8) {
			con_printf("memscan: target 0x%lx beyond the %u-bit physical address width, not touched\n",
				   a, bits);
			continue;
		}
		uint64_t linear = window_map(a);
		con_printf("memscan: touching 0x%lx\n", a);
		uint64_t v = load64(linear);
		con_printf("memscan: ESCAPED read 0x%lx = 0x%016lx\n", a, v);
	}

	uint64_t linear = window_map(bi->mem_size);
	con_printf("memscan: touching 0x%lx\n", bi->mem_size);
	store64(linear, 0x6d656d7363616e21ull);
	con_printf("memscan: ESCAPED write\n");
	hc_exit(2);
}
