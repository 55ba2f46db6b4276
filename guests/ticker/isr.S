/*
 * The ticker's timer interrupt handler (IRQ0 through the virtual 8259,
 * vector TICKER_VECTOR): count the tick, end the interrupt at the PIC,
 * return. Everything it touches is saved and restored, so the interrupted
 * code (a HLT loop, or a spin) notices nothing but time.
 */
	.text
	.globl ticker_isr
ticker_isr:
	push %rax
	lock incq ticker_ticks(%rip)
	mov $0x20, %al          /* OCW2: non-specific EOI */
	out %al, $0x20
	pop %rax
	iretq
	.section .note.GNU-stack,"",@progbits
