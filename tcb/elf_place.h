/*
 * Where an ELF VM's image, init data and secrets go in its memory
 * (docs/lifecycle.md, "States and calls", LOAD): the TCB decides it at
 * HC_VM_LOAD before anything is written, and the tenant CLI runs the very
 * same code on the files before it uploads them, so an image the TCB
 * would refuse is refused locally, with the TCB's words.
 */
#ifndef CUSTOS_TCB_ELF_PLACE_H
#define CUSTOS_TCB_ELF_PLACE_H

#include <custos/types.h>
#include "tcb/elf_image.h"

struct elf_placement {
	struct elf_image img;
	uint64_t init_gpa;    /* page-aligned above the image */
	uint64_t secrets_gpa; /* page-aligned above the init data */
};

/*
 * The image (image_len bytes, untrusted) parsed by elf_image_parse for
 * [GUEST_IMAGE_MIN_GPA, mem_size - stack_reserve), then init data and
 * secrets placed above it, all inside that range. 0 and *out, or -1 with
 * a one-line reason in why. mem_size must exceed stack_reserve by a page
 * or more (the TCB's mem_size checks come first).
 */
int elf_place(const void *image, size_t image_len, uint64_t mem_size,
	      uint64_t stack_reserve, uint64_t init_len, uint64_t secrets_len,
	      struct elf_placement *out, char *why, size_t why_len);

#endif
