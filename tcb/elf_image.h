/*
 * ELF64 guest images: untrusted input (later they arrive from tenants), so
 * every field is checked before use. Only statically linked x86-64
 * executables (ET_EXEC) with PT_LOAD segments whose p_paddr == p_vaddr
 * (guests run identity-mapped) are accepted.
 */
#ifndef CUSTOS_TCB_ELF_IMAGE_H
#define CUSTOS_TCB_ELF_IMAGE_H

#include <custos/types.h>

#define ELF_MAX_SEGMENTS 8

struct elf_segment {
	uint64_t gpa;         /* p_paddr (== p_vaddr) */
	uint64_t file_offset; /* p_offset */
	uint64_t file_size;   /* p_filesz: bytes copied from the file */
	uint64_t mem_size;    /* p_memsz >= p_filesz: the rest is zero */
	uint32_t flags;       /* p_flags: PF_X 1, PF_W 2, PF_R 4 */
};

struct elf_image {
	uint64_t entry;
	uint64_t lowest_gpa;  /* min over segments of gpa */
	uint64_t highest_gpa; /* max over segments of gpa + mem_size (exclusive) */
	size_t segment_count;
	struct elf_segment segments[ELF_MAX_SEGMENTS];
};

/*
 * Parse and validate an image of 'len' bytes for a guest whose loadable range
 * is [min_gpa, max_gpa): ELF64, little-endian, EM_X86_64, ET_EXEC, EV_CURRENT,
 * program headers inside the file with the standard entry size, 1 to
 * ELF_MAX_SEGMENTS PT_LOAD segments (other segment types are ignored, except
 * PT_INTERP and PT_DYNAMIC, which are refused), each with filesz <= memsz,
 * its file bytes inside the file, [gpa, gpa + memsz) inside the loadable
 * range without wrapping, p_paddr == p_vaddr, no two segments overlapping
 * (compared page-rounded, since guest pages are mapped whole), and the entry
 * point inside an executable segment. Returns 0 and fills *out, or -1 with a
 * one-line reason in err (always NUL-terminated when err_len > 0).
 *
 * Details (tcb/elf_image.c): min_gpa and max_gpa must be page-aligned with
 * min_gpa < max_gpa; PT_LOAD segments with p_memsz == 0 are skipped (not
 * counted or returned); segments[] keeps program-header order; flags are
 * masked to PF_R | PF_W | PF_X; e_ehsize must be 64 and e_phnum PN_XNUM
 * (0xffff) is refused; *out is written only on success. err may be NULL.
 */
int elf_image_parse(const void *buf, size_t len, uint64_t min_gpa,
		    uint64_t max_gpa, struct elf_image *out, char *err,
		    size_t err_len);

#endif
