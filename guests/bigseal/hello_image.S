/* The image bigseal puts into its big VM: build/guests/hello.elf (it
 * halts at once, so the VM is EXITED and costs no CPU while it waits). */
	.section .rodata
	.balign 4096
	.globl hello_image, hello_image_end
hello_image:
	.incbin "build/guests/hello.elf"
hello_image_end:
	.section .note.GNU-stack,"",@progbits
