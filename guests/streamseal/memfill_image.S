/* The image streamseal puts into its tenant VM: build/guests/memfill.elf. */
	.section .rodata
	.balign 4096
	.globl memfill_image, memfill_image_end
memfill_image:
	.incbin "build/guests/memfill.elf"
memfill_image_end:
	.section .note.GNU-stack,"",@progbits
