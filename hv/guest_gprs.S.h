/*
 * The guest GPRs as the world switches (hv/vmx/vmx_switch.S,
 * hv/svm/svm_switch.S) move them between the CPU and struct guest_gprs
 * (hv/vcpu.h): the offsets of its fields, and the moves both backends make
 * through the struct's address in %rdi. RAX and RDI are each backend's own
 * (SVM's RAX goes through the VMCB; RDI holds the address).
 */
#ifndef CUSTOS_HV_GUEST_GPRS_S_H
#define CUSTOS_HV_GUEST_GPRS_S_H

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

	.macro	load_guest_gprs_but_rax_rdi
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
	.endm

	.macro	store_guest_gprs_but_rax_rdi
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
	.endm

#endif
