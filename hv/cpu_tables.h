/* GDT/TSS/IDT of the hypervisor (one CPU for now). */
#ifndef CUSTOS_HV_CPU_TABLES_H
#define CUSTOS_HV_CPU_TABLES_H

#include <custos/types.h>

/* Install the TSS (with IST stacks for #DF, NMI and #MC) and the IDT. */
void cpu_tables_init(void);

/* Values the VMCS host-state area needs later. */
uint64_t cpu_tables_gdt_base(void);
uint64_t cpu_tables_idt_base(void);
uint64_t cpu_tables_tss_base(void);

#endif
