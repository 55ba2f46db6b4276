/* The tenant images lcdrive drives: build/guests/counter.elf and
 * hello.elf, embedded (guests/guests.mk makes this object depend on them). */
	.section .rodata
	.balign 4096
	.globl counter_image, counter_image_end
counter_image:
	.incbin "build/guests/counter.elf"
counter_image_end:
	.balign 4096
	.globl hello_image, hello_image_end
hello_image:
	.incbin "build/guests/hello.elf"
hello_image_end:
	.section .note.GNU-stack,"",@progbits
