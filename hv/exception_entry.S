/*
 * One 16-byte entry stub per IDT vector. Each pushes a dummy error code when
 * the CPU does not push one (SDM Vol. 3A 6.13), then the vector number, and
 * jumps to a common path that saves every GPR into a struct exception_frame
 * (hv/exception.h) and calls exception_dispatch().
 */
	.altmacro
	.macro	VECTOR_STUB vec
	.align	16
	.if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq	$0
	.endif
	pushq	$\vec
	jmp	exception_common
	.endm

	.section .text
	.align	16
	.global	exception_stubs
exception_stubs:
	.set	vec, 0
	.rept	256
	VECTOR_STUB %vec
	.set	vec, vec + 1
	.endr

exception_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	mov	%rsp, %rdi
	cld
	call	exception_dispatch
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	add	$16, %rsp			/* vector and error code */
	iretq
