/*
 * mb2shim: a hostile Multiboot2 boot loader, for tests only (shim.c).
 * GRUB loads it as a 32-bit Multiboot2 kernel with custos.elf as a module;
 * it loads custos.elf itself and hands it a crafted boot information.
 */
#define MB2_HEADER_MAGIC 0xe85250d6
#define MB2_ARCH_I386    0

	.section .multiboot2, "a"
	.align 8
header:
	.long	MB2_HEADER_MAGIC
	.long	MB2_ARCH_I386
	.long	header_end - header
	.long	-(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (header_end - header))
	.align 8
	.short	6, 0		/* module alignment: page-aligned, like custos asks */
	.long	8
	.align 8
	.short	0, 0		/* end tag */
	.long	8
header_end:

	.text
	.code32
	.global shim_entry
shim_entry:			/* Multiboot2 3.3: EAX magic, EBX info, no paging */
	cli
	cld
	mov	$stack_top, %esp
	push	%ebx
	push	%eax
	call	shim_main
1:	hlt
	jmp	1b

/* shim_jump(entry, info): enter custos.elf as a Multiboot2 loader would. */
	.global shim_jump
shim_jump:
	mov	4(%esp), %ecx
	mov	8(%esp), %ebx
	mov	$0x36d76289, %eax
	jmp	*%ecx

/*
 * The code the shim starts the other CPU in (real mode, copied to
 * AP_CODE): it says it runs, then counts forever. Custos must stop it.
 */
	.global ap_code, ap_code_end
	.code16
ap_code:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	movl	$0x4150, 0x7ff0		/* "PA": AP alive */
2:	incl	0x7ff4
	jmp	2b
ap_code_end:
	.code32

	.bss
	.align 16
	.skip	16384
stack_top:
