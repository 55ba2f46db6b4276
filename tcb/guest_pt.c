/*
 * A guest's initial page tables and GDT. See guest_pt.h for the interface
 * and include/custos/guest_abi.h for the layout.
 *
 * Part of the TCB, built both freestanding and for the host: no libc.
 *
 * The guest's memory is not contiguous in host memory, so every page is
 * reached on its own through the caller's callback, and the tables hold
 * guest-physical addresses only. All five pages are looked up before any
 * is written, so a missing page means nothing was written at all.
 */
#include <custos/types.h>
#include <custos/guest_abi.h>

#include "tcb/guest_pt.h"

#define PT_ENTRIES 512u
#define LARGE_PAGE_SIZE 0x200000ull /* a PDE with PS set maps 2 MiB */

/* SDM Vol. 3A 4.5, Tables 4-15 to 4-20: the bits we use in 4-level paging
 * entries. Not set: U/S (the guest runs at CPL 0), PWT/PCD (write-back),
 * A/D (the CPU sets them), G, XD (NX; everything stays executable). */
#define PTE_P  (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PS (1ull << 7) /* in a PDE: 2 MiB page, not a page table */

#define PML4_GPA (GUEST_PAGE_TABLES_GPA)
#define PDPT_GPA (GUEST_PAGE_TABLES_GPA + 0x1000)
#define PD_GPA   (GUEST_PAGE_TABLES_GPA + 0x2000)
#define PT0_GPA  (GUEST_PAGE_TABLES_GPA + 0x3000)

/*
 * Flat descriptors (SDM Vol. 3A 3.4.5 and 5.2.1): base 0, limit 4 GiB,
 * DPL 0, present, accessed already set so the CPU never writes the GDT.
 * Code: type execute/read, L = 1 and D = 0 (64-bit). Data: read/write.
 */
#define GDT_CODE64 0x00af9b000000ffffull
#define GDT_DATA   0x00cf93000000ffffull

struct guest_pt_pages {
	uint64_t *pml4, *pdpt, *pd, *pt0, *gdt;
};

static bool mem_size_valid(uint64_t mem_size)
{
	return mem_size >= GUEST_MEM_MIN && mem_size <= GUEST_MEM_MAX &&
	       mem_size % GUEST_MEM_ALIGN == 0;
}

static void zero_page(uint64_t *p)
{
	unsigned i;

	for (i = 0; i < PT_ENTRIES; i++)
		p[i] = 0;
}

static bool get_pages(guest_page_fn page, void *ctx, struct guest_pt_pages *p)
{
	p->pml4 = page(PML4_GPA, ctx);
	p->pdpt = page(PDPT_GPA, ctx);
	p->pd = page(PD_GPA, ctx);
	p->pt0 = page(PT0_GPA, ctx);
	p->gdt = page(GUEST_GDT_GPA, ctx);
	return p->pml4 && p->pdpt && p->pd && p->pt0 && p->gdt;
}

/*
 * PML4[0] -> PDPT, PDPT[0] -> PD, PD[0] -> PT0 (4 KiB pages, PT0[0] left
 * not present so a NULL access faults), PD[1..] -> 2 MiB pages up to
 * mem_size. Intermediate entries are present and writable: the effective
 * rights are the most restrictive along the walk (SDM 4.6), so the leaves
 * alone decide.
 */
static void write_tables(const struct guest_pt_pages *p, uint64_t mem_size)
{
	uint64_t i, n_large = mem_size / LARGE_PAGE_SIZE;

	zero_page(p->pml4);
	zero_page(p->pdpt);
	zero_page(p->pd);
	zero_page(p->pt0);
	p->pml4[0] = PDPT_GPA | PTE_P | PTE_RW;
	p->pdpt[0] = PD_GPA | PTE_P | PTE_RW;
	p->pd[0] = PT0_GPA | PTE_P | PTE_RW;
	for (i = 1; i < PT_ENTRIES; i++)
		p->pt0[i] = (i << PAGE_SHIFT) | PTE_P | PTE_RW;
	for (i = 1; i < n_large; i++)
		p->pd[i] = i * LARGE_PAGE_SIZE | PTE_PS | PTE_P | PTE_RW;
}

static void write_gdt(uint64_t *gdt)
{
	zero_page(gdt);
	gdt[GUEST_SEL_CODE >> 3] = GDT_CODE64;
	gdt[GUEST_SEL_DATA >> 3] = GDT_DATA;
}

int guest_pt_build(uint64_t mem_size, guest_page_fn page, void *ctx,
		   uint64_t *cr3)
{
	struct guest_pt_pages p;

	if (!mem_size_valid(mem_size) || !page || !cr3)
		return -1;
	if (!get_pages(page, ctx, &p))
		return -1;
	write_tables(&p, mem_size);
	write_gdt(p.gdt);
	/* PWT = PCD = 0: the PML4 itself is read write-back (SDM 4.5). */
	*cr3 = GUEST_PAGE_TABLES_GPA;
	return 0;
}
