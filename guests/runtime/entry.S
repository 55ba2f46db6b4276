/*
 * Guest entry. The TCB starts us in 64-bit mode at CPL 0 with RSP = mem_size,
 * RDI = GUEST_BOOT_INFO_GPA and every other GPR zero (guest_abi.h). Save the
 * GPRs and RFLAGS first, before any instruction changes them (regspy checks
 * them against the ABI), then clear .bss, pick the hypercall instruction
 * (hypercall_select), call guest_main(bi) and pass its return value to
 * hc_exit().
 */
	.section .text.entry, "ax"
	.globl _start
	.type _start, @function
_start:
	/* mov changes no flags, so RFLAGS is still the TCB's after these. */
	movq %rax, guest_entry_regs + 0*8(%rip)
	movq %rbx, guest_entry_regs + 1*8(%rip)
	movq %rcx, guest_entry_regs + 2*8(%rip)
	movq %rdx, guest_entry_regs + 3*8(%rip)
	movq %rsi, guest_entry_regs + 4*8(%rip)
	movq %rdi, guest_entry_regs + 5*8(%rip)
	movq %rbp, guest_entry_regs + 6*8(%rip)
	movq %rsp, guest_entry_regs + 7*8(%rip)
	movq %r8,  guest_entry_regs + 8*8(%rip)
	movq %r9,  guest_entry_regs + 9*8(%rip)
	movq %r10, guest_entry_regs + 10*8(%rip)
	movq %r11, guest_entry_regs + 11*8(%rip)
	movq %r12, guest_entry_regs + 12*8(%rip)
	movq %r13, guest_entry_regs + 13*8(%rip)
	movq %r14, guest_entry_regs + 14*8(%rip)
	movq %r15, guest_entry_regs + 15*8(%rip)
	pushfq
	popq guest_entry_regs + 16*8(%rip)

	/* The TCB zeroes p_memsz beyond p_filesz, but do not depend on it. */
	cld
	leaq __bss_start(%rip), %rdi
	leaq __bss_end(%rip), %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	rep stosb

	/* RSP = mem_size is 16-byte aligned, as the SysV ABI wants at a call. */
	call hypercall_select
	movq guest_entry_regs + 5*8(%rip), %rdi
	xorl %ebp, %ebp
	call guest_main
	movslq %eax, %rdi
	call hc_exit
1:	hlt
	jmp 1b
	.size _start, . - _start

	/* In .data, not .bss: it is written before .bss is cleared. */
	.section .data
	.balign 8
	.globl guest_entry_regs
	.type guest_entry_regs, @object
guest_entry_regs:
	.fill 17, 8, 0
	.size guest_entry_regs, . - guest_entry_regs

	.section .note.GNU-stack, "", @progbits
