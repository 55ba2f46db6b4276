/*
 * The TSS exists for its interrupt stack table: #DF, NMI and #MC switch to
 * stacks of their own (SDM Vol. 3A 6.14.5), so a kernel stack overflow
 * still produces a readable report instead of a triple fault. The IDT points
 * every vector at a stub in hv/exception_entry.S.
 */
#include "hv/cpu_tables.h"
#include "hv/boot_defs.h"

#define IST_STACK_SIZE 8192
#define IST_DOUBLE_FAULT 1
#define IST_NMI          2
#define IST_MACHINE_CHECK 3

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

struct table_desc {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern uint64_t boot_gdt[];
extern char exception_stubs[];

static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static uint8_t ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));

/* 64-bit TSS descriptor, SDM Vol. 3A 8.2.3 (type 9: available TSS). */
static void install_tss_descriptor(void)
{
	uint64_t base = (uint64_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	boot_gdt[GDT_TSS / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
				(0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
				(((base >> 24) & 0xff) << 56);
	boot_gdt[GDT_TSS / 8 + 1] = base >> 32;
}

static void set_gate(unsigned vec, uint8_t ist)
{
	uint64_t handler = (uint64_t)exception_stubs + 16 * vec;

	idt[vec] = (struct idt_gate){
		.offset_lo = handler & 0xffff,
		.selector = GDT_CODE64,
		.ist = ist,
		.type_attr = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
		.offset_mid = (handler >> 16) & 0xffff,
		.offset_hi = handler >> 32,
	};
}

void cpu_tables_init(void)
{
	tss.ist[IST_DOUBLE_FAULT - 1] = (uint64_t)ist_stacks[0] + IST_STACK_SIZE;
	tss.ist[IST_NMI - 1] = (uint64_t)ist_stacks[1] + IST_STACK_SIZE;
	tss.ist[IST_MACHINE_CHECK - 1] = (uint64_t)ist_stacks[2] + IST_STACK_SIZE;
	tss.iomap_base = sizeof(tss); /* no I/O permission bitmap */
	install_tss_descriptor();
	__asm__ volatile("ltr %w0" : : "r"(GDT_TSS));

	for (unsigned v = 0; v < 256; v++)
		set_gate(v, 0);
	set_gate(2, IST_NMI);
	set_gate(8, IST_DOUBLE_FAULT);
	set_gate(18, IST_MACHINE_CHECK);
	struct table_desc d = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" : : "m"(d));
}

uint64_t cpu_tables_gdt_base(void)
{
	return (uint64_t)boot_gdt;
}

uint64_t cpu_tables_idt_base(void)
{
	return (uint64_t)idt;
}

uint64_t cpu_tables_tss_base(void)
{
	return (uint64_t)&tss;
}
