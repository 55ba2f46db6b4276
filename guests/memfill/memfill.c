/*
 * memfill: a tenant VM whose memory is all data. It writes a per-address
 * pattern into every 8-byte word it can reach -- the free pages below its
 * image ([0x7000, 0x100000)), everything above its image up to its stack,
 * and the stack below where it runs -- so that every page of its memory
 * but page 0 (not mapped) and the few the TCB built (boot info, page
 * tables, GDT) is not zero, then checks all of it, over and over. Used by
 * guests/streamseal to seal and resume a VM whose memory is all non-zero
 * (tests/integration/test_streamseal.py). Output:
 *   memfill: filled <n> pages
 *   memfill: pass <k> ok (<n> pages)
 *   memfill: pass <k> BAD at 0x<gpa> (<m> bad words)
 * No cmdline options.
 */
#include "guests/runtime/guest.h"

#define PAGE        0x1000ull
#define LOW_FREE    0x7000ull    /* guest_abi.h: free for the guest */
#define LOW_END     0x100000ull
#define STACK_KEEP  (16ull << 10) /* below the stack pointer at entry */

struct span {
	uint64_t start, end;
};

static struct span spans[3];
static unsigned nspans;

static uint64_t pattern(uint64_t gpa)
{
	return ((gpa * 0x9e3779b97f4a7c15ull) ^ 0x6d656d66696c6c00ull) | 1;
}

static void add(uint64_t start, uint64_t end)
{
	start = (start + PAGE - 1) & ~(PAGE - 1);
	end &= ~(PAGE - 1);
	if (start < end)
		spans[nspans++] = (struct span){ start, end };
}

static uint64_t fill(void)
{
	uint64_t pages = 0;

	for (unsigned i = 0; i < nspans; i++) {
		for (uint64_t a = spans[i].start; a < spans[i].end; a += 8)
			*(volatile uint64_t *)(uintptr_t)a = pattern(a);
		pages += (spans[i].end - spans[i].start) / PAGE;
	}
	return pages;
}

/* The number of words that are not what fill() wrote; *first the first. */
static uint64_t verify(uint64_t *first)
{
	uint64_t bad = 0;

	for (unsigned i = 0; i < nspans; i++)
		for (uint64_t a = spans[i].start; a < spans[i].end; a += 8)
			if (*(volatile uint64_t *)(uintptr_t)a != pattern(a)) {
				if (!bad++)
					*first = a;
			}
	return bad;
}

int guest_main(const struct custos_boot_info *bi)
{
	uint64_t sp, image_end = (uint64_t)(uintptr_t)__image_end, pages;

	guest_init(bi, "memfill");
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	if (bi->image_end > image_end)
		image_end = bi->image_end;
	add(LOW_FREE, LOW_END);
	add(image_end, sp - STACK_KEEP);
	pages = fill();
	con_printf("memfill: filled %llu pages\n", (unsigned long long)pages);
	for (unsigned pass = 1;; pass++) {
		uint64_t first = 0, bad = verify(&first);

		if (bad)
			con_printf("memfill: pass %u BAD at 0x%llx (%llu bad words)\n",
				   pass, (unsigned long long)first,
				   (unsigned long long)bad);
		else
			con_printf("memfill: pass %u ok (%llu pages)\n", pass,
				   (unsigned long long)pages);
	}
}
