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
#include "hv/guest_gprs.S.h"

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

	load_guest_gprs_but_rax_rdi
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
	store_guest_gprs_but_rax_rdi
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
