/*
 * World switch. vmx_enter(gprs, launched) saves the host's callee-saved
 * registers, records RSP as the VMCS host RSP, loads every guest GPR from
 * *gprs and enters with VMLAUNCH or VMRESUME. A VM exit lands at
 * vmx_exit_point with RSP as recorded (SDM 28.5.1): store the guest GPRs
 * back into *gprs and return 0 to vmx_enter's caller. If the entry
 * instruction itself fails it falls through and we return 1.
 */
#define VMCS_HOST_RSP 0x6c14

#define GPR_RAX 0
#define GPR_RBX 8
#define GPR_RCX 16
#define GPR_RDX 24
#define GPR_RSI 32
#define GPR_RDI 40
#define GPR_RBP 48
#define GPR_R8  56
#define GPR_R9  64
#define GPR_R10 72
#define GPR_R11 80
#define GPR_R12 88
#define GPR_R13 96
#define GPR_R14 104
#define GPR_R15 112

	.section .text
	.global	vmx_enter
vmx_enter:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdi			/* gprs, found again at exit */
	mov	$VMCS_HOST_RSP, %rax
	vmwrite	%rsp, %rax
	jbe	2f			/* VMfail: report as entry failure */

	mov	%esi, %eax		/* launched? (flags set by test below) */
	mov	GPR_RBX(%rdi), %rbx
	mov	GPR_RCX(%rdi), %rcx
	mov	GPR_RDX(%rdi), %rdx
	mov	GPR_RSI(%rdi), %rsi
	mov	GPR_RBP(%rdi), %rbp
	mov	GPR_R8(%rdi), %r8
	mov	GPR_R9(%rdi), %r9
	mov	GPR_R10(%rdi), %r10
	mov	GPR_R11(%rdi), %r11
	mov	GPR_R12(%rdi), %r12
	mov	GPR_R13(%rdi), %r13
	mov	GPR_R14(%rdi), %r14
	mov	GPR_R15(%rdi), %r15
	test	%eax, %eax
	mov	GPR_RAX(%rdi), %rax	/* mov leaves the flags alone */
	mov	GPR_RDI(%rdi), %rdi
	jnz	1f
	vmlaunch
	jmp	2f
1:	vmresume
2:	/* Entry failed: guest values may be in registers; drop them. */
	popq	%rdi
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	mov	$1, %eax
	ret

	.global	vmx_exit_point
vmx_exit_point:
	pushq	%rdi			/* guest rdi; gprs is now at 8(%rsp) */
	mov	8(%rsp), %rdi
	mov	%rax, GPR_RAX(%rdi)
	mov	%rbx, GPR_RBX(%rdi)
	mov	%rcx, GPR_RCX(%rdi)
	mov	%rdx, GPR_RDX(%rdi)
	mov	%rsi, GPR_RSI(%rdi)
	mov	%rbp, GPR_RBP(%rdi)
	mov	%r8, GPR_R8(%rdi)
	mov	%r9, GPR_R9(%rdi)
	mov	%r10, GPR_R10(%rdi)
	mov	%r11, GPR_R11(%rdi)
	mov	%r12, GPR_R12(%rdi)
	mov	%r13, GPR_R13(%rdi)
	mov	%r14, GPR_R14(%rdi)
	mov	%r15, GPR_R15(%rdi)
	popq	GPR_RDI(%rdi)
	add	$8, %rsp		/* gprs pointer */
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	xor	%eax, %eax
	ret
