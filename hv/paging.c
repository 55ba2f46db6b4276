#include "hv/paging.h"
#include "boot/platform_mmio.h"
#include "hv/boot_defs.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "hv/memory.h"
#include "hv/power.h"

/* Page-table entry bits, SDM Vol. 3A 4.5. */
#define PT_PRESENT  (1ull << 0)
#define PT_WRITE    (1ull << 1)
#define PT_PWT      (1ull << 3)
#define PT_PCD      (1ull << 4)
#define PT_LARGE    (1ull << 7)
#define PT_GLOBAL   (1ull << 8)
#define PT_NX       (1ull << 63)
#define PT_ADDR     0x000ffffffffff000ull

#define SIZE_2M     0x200000ull

#define MAP_RAM     (PT_PRESENT | PT_WRITE | PT_GLOBAL | PT_NX)
#define MAP_TEXT    (PT_PRESENT | PT_GLOBAL)
#define MAP_RODATA  (PT_PRESENT | PT_GLOBAL | PT_NX)
#define MAP_MMIO    (PT_PRESENT | PT_WRITE | PT_PCD | PT_PWT | PT_NX)

/* MMIO the hypervisor will drive: local APIC, I/O APIC, TPM TIS (5 localities). */
static const struct phys_range mmio_ranges[] = {
	{ MMIO_LAPIC_DEFAULT, MMIO_LAPIC_LEN },
	{ MMIO_IOAPIC_DEFAULT, MMIO_IOAPIC_LEN },
	{ MMIO_TPM_TIS, MMIO_TPM_TIS_LEN },
};

/* The boot-time page directories (boot/entry.S): 2048 2 MiB pages. */
extern uint64_t early_pd[];

static uint64_t *pml4;

static uint64_t *next_table(uint64_t *table, unsigned index)
{
	if (!(table[index] & PT_PRESENT))
		table[index] = memory_alloc_tcb_frame() | PT_PRESENT | PT_WRITE;
	CHECK(!(table[index] & PT_LARGE));
	return phys_to_virt(table[index] & PT_ADDR);
}

static void map_page(uint64_t addr, uint64_t flags, bool large)
{
	uint64_t *pdpt = next_table(pml4, (addr >> 39) & 511);
	uint64_t *pd = next_table(pdpt, (addr >> 30) & 511);

	if (large) {
		CHECK(!(pd[(addr >> 21) & 511] & PT_PRESENT));
		pd[(addr >> 21) & 511] = addr | flags | PT_LARGE;
		return;
	}
	uint64_t *pt = next_table(pd, (addr >> 21) & 511);
	pt[(addr >> 12) & 511] = addr | flags;
}

/* Identity-map [lo, hi), page-rounded outward, 2 MiB pages where they fit. */
static void map_range(uint64_t lo, uint64_t hi, uint64_t flags)
{
	lo &= ~PAGE_MASK;
	hi = (hi + PAGE_MASK) & ~PAGE_MASK;
	while (lo < hi) {
		bool large = !(lo & (SIZE_2M - 1)) && hi - lo >= SIZE_2M;
		map_page(lo, flags, large);
		lo += large ? SIZE_2M : PAGE_SIZE;
	}
}

/* Map RAM [lo, hi) minus the image and frame 0 (which stay for map_image). */
static void map_ram(uint64_t lo, uint64_t hi)
{
	uint64_t img_lo = (uint64_t)__image_start, img_hi = (uint64_t)__image_end;

	if (lo < PAGE_SIZE)
		lo = PAGE_SIZE; /* frame 0 stays unmapped: NULL faults */
	if (lo < img_lo)
		map_range(lo, hi < img_lo ? hi : img_lo, MAP_RAM);
	if (hi > img_hi)
		map_range(lo > img_hi ? lo : img_hi, hi, MAP_RAM);
}

static void map_image(void)
{
	uint64_t guard = (uint64_t)boot_stack_guard;

	map_range((uint64_t)__image_start, (uint64_t)__text_end, MAP_TEXT);
	map_range((uint64_t)__text_end, (uint64_t)__rodata_end, MAP_RODATA);
	map_range((uint64_t)__rodata_end, guard, MAP_RAM);
	map_range(guard + PAGE_SIZE, (uint64_t)__image_end, MAP_RAM);
}

void paging_early_uncached(uint64_t pa)
{
	CHECK(pa < EARLY_MAP_END);
	early_pd[pa >> 21] |= PT_PCD | PT_PWT;
	__asm__ volatile("invlpg (%0)" : : "r"(pa) : "memory");
}

void paging_init(const struct bootenv *env)
{
	uint64_t pml4_pa = memory_alloc_tcb_frame();

	pml4 = phys_to_virt(pml4_pa);
	/* Exactly the managed RAM: disjoint ranges that avoid every never-RAM
	 * range, so no RAM page can cover an MMIO page mapped below. */
	for (size_t i = 0; i < env->managed_count; i++)
		map_ram(env->managed[i].base,
			env->managed[i].base + env->managed[i].len);
	map_image();
	for (size_t i = 0; i < ARRAY_SIZE(mmio_ranges); i++)
		map_range(mmio_ranges[i].base,
			  mmio_ranges[i].base + mmio_ranges[i].len, MAP_MMIO);

	write_cr4(read_cr4() | CR4_PGE);
	write_cr3(pml4_pa);
	console_printf("paging: final page tables at %#llx (image %#llx-%#llx)\n",
		       (unsigned long long)pml4_pa,
		       (unsigned long long)(uint64_t)__image_start,
		       (unsigned long long)(uint64_t)__image_end);
}
