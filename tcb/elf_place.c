/* An ELF VM's placement (tcb/elf_place.h): shared by the TCB and the CLI. */
#include "tcb/elf_place.h"

#include <custos/guest_abi.h>
#include <stdio.h>

static uint64_t page_up(uint64_t x)
{
	return (x + 0xfffull) & ~0xfffull;
}

int elf_place(const void *image, size_t image_len, uint64_t mem_size,
	      uint64_t stack_reserve, uint64_t init_len, uint64_t secrets_len,
	      struct elf_placement *out, char *why, size_t why_len)
{
	uint64_t limit = mem_size - stack_reserve;

	if (mem_size < stack_reserve + GUEST_IMAGE_MIN_GPA + 0x1000) {
		snprintf(why, why_len, "memory size %llu too small for any image",
			 (unsigned long long)mem_size);
		return -1;
	}
	if (elf_image_parse(image, image_len, GUEST_IMAGE_MIN_GPA, limit,
			    &out->img, why, why_len))
		return -1;
	out->init_gpa = page_up(out->img.highest_gpa);
	out->secrets_gpa = page_up(out->init_gpa + init_len);
	if (init_len > limit || out->secrets_gpa > limit ||
	    secrets_len > limit - out->secrets_gpa) {
		snprintf(why, why_len, "image, init data and secrets do not fit "
			 "in %llu MiB", (unsigned long long)(mem_size >> 20));
		return -1;
	}
	return 0;
}
