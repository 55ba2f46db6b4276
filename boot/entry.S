/*
 * Multiboot2 header and the 32-bit entry point.
 *
 * GRUB enters boot_entry32 in 32-bit protected mode with paging off,
 * EAX = Multiboot2 magic and EBX = physical address of the boot information
 * (Multiboot2 spec 3.3). We check we were booted by a Multiboot2 loader and
 * that the CPU has long mode and NX, identity-map the first 4 GiB with 2 MiB
 * pages (enough to reach the boot information and to build the real page
 * tables in C), switch to long mode (SDM Vol. 3A 10.8.5) and call
 * hv_main(magic, info_pa). Anything that goes wrong before C runs is printed
 * to COM1 and the emulator is powered off with a failure status.
 */
#include "hv/boot_defs.h"

	.section .multiboot2, "a"
	.align 8
mb2_header:
	.long	0xe85250d6				/* magic */
	.long	0					/* architecture: i386 */
	.long	mb2_header_end - mb2_header		/* header length */
	.long	0x100000000 - (0xe85250d6 + (mb2_header_end - mb2_header))
	/* Module alignment tag (3.1.11): modules start on page boundaries,
	 * so each can be owned frame by frame. */
	.align 8
	.short	6, 0
	.long	8
	/* EFI boot services (3.1.12) and the EFI amd64 entry (3.1.14): GRUB's
	 * EFI build leaves boot services alive and jumps to efi_entry64
	 * (boot/efi_entry.S), which copies the firmware's TCG2 event log
	 * before it exits them itself. Without tag 9, tag 7 would enter
	 * boot_entry32 in 64-bit mode; so both or neither. Flagged optional
	 * (bit 0): a BIOS loader ignores them and enters boot_entry32. */
	.align 8
	.short	7, 1
	.long	8
	.align 8
	.short	9, 1
	.long	12
	.long	efi_entry64
	/* End tag. */
	.align 8
	.short	0, 0
	.long	8
mb2_header_end:

	.section .text.boot, "ax"
	.code32
	.global boot_entry32
boot_entry32:
	cli
	cld
	mov	%eax, %ebp			/* keep magic and info pointer */
	mov	%ebx, %esi			/* out of the way of rep stos */
	mov	$boot_stack_top, %esp

	/* Zero .bss: page tables and the stack live there. */
	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	shr	$2, %ecx
	xor	%eax, %eax
	rep stosl

	cmp	$MB2_MAGIC, %ebp
	jne	fail_magic

	/* Long mode and NX (CPUID 0x80000001 EDX bits 29 and 20). */
	mov	$0x80000000, %eax
	cpuid
	cmp	$0x80000001, %eax
	jb	fail_longmode
	mov	$0x80000001, %eax
	cpuid
	bt	$29, %edx
	jnc	fail_longmode
	bt	$20, %edx
	jnc	fail_nx

	/* PML4[0] -> PDPT; PDPT[0..3] -> four page directories. */
	mov	$early_pdpt, %eax
	or	$(PTE_P | PTE_W), %eax
	mov	%eax, early_pml4
	mov	$early_pd, %eax
	or	$(PTE_P | PTE_W), %eax
	xor	%ecx, %ecx
1:	mov	%eax, early_pdpt(, %ecx, 8)
	add	$0x1000, %eax
	inc	%ecx
	cmp	$4, %ecx
	jb	1b

	/* 2048 x 2 MiB identity pages = 4 GiB. */
	xor	%ecx, %ecx
2:	mov	%ecx, %eax
	shl	$21, %eax
	or	$(PTE_P | PTE_W | PTE_PS), %eax
	mov	%eax, early_pd(, %ecx, 8)
	inc	%ecx
	cmp	$2048, %ecx
	jb	2b

	/* SDM 10.8.5: PAE, load CR3, EFER.LME (and NXE), then CR0.PG. */
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	$early_pml4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$(EFER_LME | EFER_NXE), %eax
	wrmsr
	/* Caches on: firmware may leave CR0.CD/NW set, and VM entry keeps
	 * the host's CD/NW for the guest too (SDM 28.3.2.1). */
	mov	%cr0, %eax
	and	$~(CR0_CD | CR0_NW), %eax
	or	$(CR0_PG | CR0_WP | CR0_PE), %eax
	mov	%eax, %cr0

	lgdt	boot_gdt_desc
	ljmp	$GDT_CODE64, $entry64

/* 32-bit failure path: print the message at %esi and power off. */
fail_magic:
	mov	$msg_magic, %esi
	jmp	fail32
fail_longmode:
	mov	$msg_longmode, %esi
	jmp	fail32
fail_nx:
	mov	$msg_nx, %esi
fail32:
	mov	$COM1_PORT, %dx
3:	lodsb
	test	%al, %al
	jz	4f
	out	%al, %dx
	jmp	3b
4:	mov	$DEBUG_EXIT_PORT, %dx
	mov	$EXIT_BOOT_FAILED, %al
	out	%al, %dx
	mov	$BOCHS_SHUTDOWN_PORT, %dx
	mov	$msg_shutdown, %esi
5:	lodsb
	test	%al, %al
	jz	6f
	out	%al, %dx
	jmp	5b
6:	hlt
	jmp	6b

	.code64
entry64:
	mov	$GDT_DATA, %eax
	mov	%eax, %ds
	mov	%eax, %es
	mov	%eax, %ss
	xor	%eax, %eax
	mov	%eax, %fs
	mov	%eax, %gs
	mov	$boot_stack_top, %rsp
	mov	%ebp, %edi			/* arg 1: magic (zero-extended) */
	mov	%esi, %esi			/* arg 2: info address, upper half cleared */
	xor	%ebp, %ebp			/* end of the frame-pointer chain */
	call	hv_main
7:	cli
	hlt
	jmp	7b

	.section .rodata
msg_magic:
	.asciz	"custos: BOOT FAILED: not started by a Multiboot2 loader\r\n"
msg_longmode:
	.asciz	"custos: BOOT FAILED: CPU has no 64-bit long mode\r\n"
msg_nx:
	.asciz	"custos: BOOT FAILED: CPU has no NX (execute-disable) support\r\n"
msg_shutdown:
	.asciz	"Shutdown"

/*
 * The GDT used for the whole life of the hypervisor. hv/cpu_tables.c fills
 * in the TSS descriptor (the two slots at GDT_TSS) before loading TR.
 */
	.section .data
	.align 16
	.global boot_gdt
boot_gdt:
	.quad	0				/* null */
	.quad	0x00af9a000000ffff		/* 0x08: 64-bit code, DPL 0 */
	.quad	0x00cf92000000ffff		/* 0x10: data, DPL 0 */
	.quad	0, 0				/* 0x18: TSS (16 bytes) */
boot_gdt_end:
	.global boot_gdt_desc
boot_gdt_desc:
	.short	boot_gdt_end - boot_gdt - 1
	.quad	boot_gdt

	.section .bss.pagealigned, "aw", @nobits
	.align 4096
early_pml4:	.skip 4096
early_pdpt:	.skip 4096
	.global early_pd			/* hv/paging.c: paging_early_uncached() */
early_pd:	.skip 4096 * 4
	/* Unmapped by the final page tables so an overflow faults (#DF on IST). */
	.global boot_stack_guard
boot_stack_guard:
	.skip 4096
boot_stack:
	.skip BOOT_STACK_SIZE
	.global boot_stack_top
boot_stack_top:
