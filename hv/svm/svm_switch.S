/*
 * SVM world switch (AMD APM Vol. 2, 15.5 "VMRUN", 15.6 "#VMEXIT").
 *
 * svm_enter(gprs, vmcb_pa, host_vmcb_pa) runs the guest of the VMCB at
 * vmcb_pa once. VMRUN loads and #VMEXIT saves RAX, RSP, RIP, RFLAGS, the
 * control registers and segment registers through the VMCB; every other
 * GPR is the caller's to swap, which this does from and to *gprs (the
 * guest's RAX goes through the VMCB: the C side copies it). VMRUN does not
 * touch FS, GS, TR, LDTR, KernelGsBase, STAR, LSTAR, CSTAR, SFMASK and the
 * SYSENTER MSRs: VMLOAD puts the guest's in before, VMSAVE takes them out
 * after, and VMLOAD of the host's own save area (host_vmcb_pa, written by
 * VMSAVE at boot) brings back the hypervisor's TR -- whose IST stacks its
 * exception handlers need -- and the rest.
 *
 * Interrupts: the hypervisor runs with IF = 0. Here GIF is cleared first,
 * then IF set, so nothing is taken until VMRUN sets GIF; in the guest a
 * physical interrupt exits it (INTR intercept, V_INTR_MASKING = 1) and
 * stays pending; #VMEXIT clears GIF, IF is cleared again before GIF is set,
 * and the caller takes the pending interrupt when it chooses (the slice
 * timer's EOI). NMIs likewise exit (NMI intercept).
 */
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
	.global	svm_enter
svm_enter:
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	pushq	%rdx			/* host save area */
	pushq	%rdi			/* gprs, found again after the exit */
	pushq	%rsi			/* the guest's VMCB */

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
	mov	GPR_RDI(%rdi), %rdi

	popq	%rax			/* VMRUN, VMLOAD, VMSAVE take rAX */
	clgi
	sti
	vmload	%rax
	vmrun	%rax
	vmsave	%rax
	cli

	pushq	%rdi			/* guest rdi; gprs is now at 8(%rsp) */
	mov	8(%rsp), %rdi
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
	popq	%rax			/* host save area */
	vmload	%rax
	stgi
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
