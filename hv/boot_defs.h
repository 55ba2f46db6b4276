/* Constants shared by the boot assembly and the C code. */
#ifndef CUSTOS_HV_BOOT_DEFS_H
#define CUSTOS_HV_BOOT_DEFS_H

#define MB2_MAGIC        0x36d76289

#define PTE_P            0x001
#define PTE_W            0x002
#define PTE_PS           0x080

#define CR0_PE           0x00000001
#define CR0_NE           0x00000020
#define CR0_WP           0x00010000
#define CR0_NW           0x20000000
#define CR0_CD           0x40000000
#define CR0_PG           0x80000000
#define CR4_PAE          0x00000020
#define CR4_PGE          0x00000080
#define CR4_VMXE         0x00002000

#define MSR_EFER         0xc0000080
#define EFER_LME         0x00000100
#define EFER_NXE         0x00000800

#define GDT_CODE64       0x08
#define GDT_DATA         0x10
#define GDT_TSS          0x18

#define BOOT_STACK_SIZE  (16 * 1024)

#define COM1_PORT            0x3f8
/* QEMU isa-debug-exit (iobase=0xf4): exit status is (value << 1) | 1. */
#define DEBUG_EXIT_PORT      0xf4
/* Bochs: writing "Shutdown" here ends the simulation. */
#define BOCHS_SHUTDOWN_PORT  0x8900

/* Exit statuses; QEMU reports (status << 1) | 1. See docs/boot.md. */
#define EXIT_OK              0
#define EXIT_PANIC           1
#define EXIT_NO_VMX          2
#define EXIT_BOOT_FAILED     3

#endif
