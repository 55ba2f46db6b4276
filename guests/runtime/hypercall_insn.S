/*
 * The hypercall instruction: VMCALL where the hypervisor runs on VMX
 * (Intel), VMMCALL where it runs on SVM (AMD, Hygon); the other one is
 * #UD there (docs/guest-abi.md, "Hypercalls"). hypercall_select() (in
 * hypercall.c) picks once at start, before guest_main; every hypercall
 * goes through hypercall_insn, which changes no register but RAX (the
 * result) and RFLAGS, so callers load the arguments and `call` it.
 */
	.section .text
	.globl hypercall_insn
	.type hypercall_insn, @function
hypercall_insn:
	cmpb $0, hypercall_use_vmmcall(%rip)
	jne 1f
	vmcall
	ret
1:	vmmcall
	ret
	.size hypercall_insn, . - hypercall_insn

	/* 0 (VMCALL) until hypercall_select sets it. */
	.section .data
	.globl hypercall_use_vmmcall
	.type hypercall_use_vmmcall, @object
hypercall_use_vmmcall:
	.byte 0
	.size hypercall_use_vmmcall, . - hypercall_use_vmmcall

	.section .note.GNU-stack, "", @progbits
