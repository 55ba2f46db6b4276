/*
 * The UEFI entry (Multiboot2 header tag 9, boot/entry.S; docs/boot.md).
 *
 * GRUB's x86_64 EFI build jumps here instead of boot_entry32 because the
 * header also carries tag 7: boot services alive, 64-bit long mode on the
 * firmware's page tables (identity map), GDT and IDT, interrupts on,
 * RAX = Multiboot2 magic, RBX = GRUB's boot information (Multiboot2 spec
 * 3.5). efi_stage() (boot/efi_stage.c) copies the TCG2 event log, exits
 * boot services and builds new boot information; then this code leaves
 * long mode and enters boot_entry32 exactly as a BIOS GRUB would: 32-bit
 * protected mode, paging off, EAX = magic, EBX = boot information.
 * BIOS GRUB ignores tags 7 and 9 and never comes here.
 */
#include "hv/boot_defs.h"

#define EFI_DROP_CODE32 0x08			/* efi_drop_gdt's 32-bit code */

	.section .text.boot, "ax"		/* kept (boot/linker.ld): only GRUB enters it */
	.code64
	.global efi_entry64
efi_entry64:
	cld
	/* Our own stack: GRUB's lies in memory that becomes free RAM. The
	 * firmware's interrupts may use it too until ExitBootServices. */
	lea	boot_stack_top(%rip), %rsp
	mov	%eax, %edi			/* arg 1: magic */
	mov	%rbx, %rsi			/* arg 2: GRUB's boot information */
	xor	%ebp, %ebp
	call	efi_stage			/* returns only after ExitBootServices */
	mov	%eax, %ebx			/* the new boot information */

	/* Any interrupt from here on would go through the firmware's 64-bit
	 * IDT in compatibility or 32-bit mode: a triple fault. */
	cli
	/* CR0.PG cannot be cleared with CR4.PCIDE set (#GP), and CET needs
	 * paging; both may be cleared while still in 64-bit mode. */
	mov	%cr4, %rax
	and	$~((1 << 17) | (1 << 23)), %rax
	mov	%rax, %cr4
	/* A GDT of our own: boot_gdt has no 32-bit code segment. */
	lgdt	efi_drop_gdt_desc(%rip)
	pushq	$EFI_DROP_CODE32
	lea	compat32(%rip), %rax
	pushq	%rax
	lretq					/* into compatibility mode */

	.code32
compat32:
	mov	$GDT_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	mov	%eax, %fs
	mov	%eax, %gs
	/* SDM Vol. 3A 10.8.5.4: paging off leaves long mode (LMA = 0); this
	 * code runs identity-mapped, so the next fetch is the same address. */
	mov	%cr0, %eax
	btr	$31, %eax			/* CR0.PG */
	mov	%eax, %cr0
	mov	$MSR_EFER, %ecx
	rdmsr
	and	$~EFER_LME, %eax
	wrmsr
	/* PAE, PGE and LA57 off (LA57 can only change with paging off):
	 * boot_entry32 builds 4-level tables of its own. */
	mov	%cr4, %eax
	and	$~(CR4_PAE | CR4_PGE | (1 << 12)), %eax
	mov	%eax, %cr4
	xor	%eax, %eax
	mov	%eax, %cr3
	mov	$MB2_MAGIC, %eax
	jmp	boot_entry32

/*
 * The drop's GDT. The accessed bits are preset (types 0x9b, 0x93) so that
 * loading a selector never writes to it. The data selector is the same as
 * boot_gdt's, which boot_entry32 loads next.
 */
	.section .data
	.align 16
efi_drop_gdt:
	.quad	0				/* null */
	.quad	0x00cf9b000000ffff		/* 0x08: 32-bit code */
	.quad	0x00cf93000000ffff		/* 0x10: data (GDT_DATA) */
efi_drop_gdt_end:
efi_drop_gdt_desc:
	.short	efi_drop_gdt_end - efi_drop_gdt - 1
	.quad	efi_drop_gdt
