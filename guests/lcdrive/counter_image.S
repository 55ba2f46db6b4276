/* The tenant image lcdrive drives: build/guests/counter.elf, embedded
 * (guests/guests.mk makes this object depend on it). */
	.section .rodata
	.balign 4096
	.globl counter_image, counter_image_end
counter_image:
	.incbin "build/guests/counter.elf"
counter_image_end:
	.section .note.GNU-stack,"",@progbits
