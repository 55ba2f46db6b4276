/*
 * World switch. vmx_enter(gprs, launched) saves the host's callee-saved
 * registers, records RSP as the VMCS host RSP, loads every guest GPR from
 * *gprs and enters with VMLAUNCH or VMRESUME. A VM exit lands at
 * vmx_exit_point with RSP as recorded (SDM 28.5.1): store the guest GPRs
 * back into *gprs and return 0 to vmx_enter's caller. If the entry
 * instruction itself fails it falls through and we return 1.
 */
#define VMCS_HOST_RSP 0x6c14

#include "hv/guest_gprs.S.h"

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
	load_guest_gprs_but_rax_rdi
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
	store_guest_gprs_but_rax_rdi
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
