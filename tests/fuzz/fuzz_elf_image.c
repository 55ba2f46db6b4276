/*
 * libFuzzer target for the ELF64 guest image validator (tcb/elf_image.c).
 *
 * The whole input is the image, parsed from an odd address out of a heap
 * block of exactly its length, so an overread or an aligned-load assumption
 * shows up under ASan/UBSan. It is parsed against a few loadable ranges:
 * fixed ones (the real guest layout, a wide one) and two taken from the
 * input's last 16 bytes (as given, often unaligned so refused, and rounded
 * down to pages). Whenever a parse succeeds, the result is checked against
 * what the header promises, re-deriving it from the raw bytes independently;
 * any violation aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/elf_image.h"
#include "tcb/elf_place.h"
#include "fuzz_util.h"

#define PF_X 1u
#define PF_W 2u
#define PF_R 4u
#define PT_LOAD 1u

static uint64_t tail_u64(const uint8_t *data, size_t size, size_t back)
{
	return size < back ? 0 : le(data + size - back, 8);
}

/* Page-rounded [lo, hi) of a segment already known to end at or below max. */
static void pages(const struct elf_segment *s, uint64_t *lo, uint64_t *hi)
{
	uint64_t end = s->gpa + s->mem_size;

	*lo = s->gpa & ~(uint64_t)0xfff;
	*hi = (end & 0xfff) ? (end | 0xfff) + 1 : end;
	require(*hi >= end); /* max is page-aligned, so no wrap */
}

/* Each returned segment is the next PT_LOAD header with p_memsz != 0. */
static void check_against_phdrs(const uint8_t *d, size_t size,
				const struct elf_image *img)
{
	uint64_t phoff = le(d + 32, 8);
	size_t phnum = (size_t)le(d + 56, 2);
	size_t n = 0;

	require(size >= 64 && memcmp(d, "\x7f" "ELF\x02\x01\x01", 7) == 0);
	require(le(d + 16, 2) == 2 && le(d + 18, 2) == 62 &&
		le(d + 20, 4) == 1 && le(d + 52, 2) == 64 &&
		le(d + 54, 2) == 56);
	require(phoff <= size && (uint64_t)phnum * 56 <= size - phoff);
	require(img->entry == le(d + 24, 8));
	for (size_t i = 0; i < phnum; i++) {
		const uint8_t *h = d + phoff + 56 * i;
		const struct elf_segment *s;

		require(le(h, 4) != 2 && le(h, 4) != 3); /* no DYNAMIC/INTERP */
		if (le(h, 4) != PT_LOAD || le(h + 40, 8) == 0)
			continue;
		require(n < img->segment_count);
		s = &img->segments[n++];
		require(s->flags == (le(h + 4, 4) & (PF_R | PF_W | PF_X)));
		require(s->file_offset == le(h + 8, 8));
		require(s->gpa == le(h + 16, 8) && s->gpa == le(h + 24, 8));
		require(s->file_size == le(h + 32, 8));
		require(s->mem_size == le(h + 40, 8));
	}
	require(n == img->segment_count);
}

static void check_image(const struct elf_image *img, uint64_t min,
			uint64_t max, size_t size)
{
	uint64_t lowest = UINT64_MAX, highest = 0;
	int entry_ok = 0;

	require(img->segment_count >= 1 &&
		img->segment_count <= ELF_MAX_SEGMENTS);
	for (size_t i = 0; i < img->segment_count; i++) {
		const struct elf_segment *s = &img->segments[i];
		uint64_t lo, hi;

		require(s->mem_size > 0 && s->file_size <= s->mem_size);
		require(s->file_offset <= size &&
			s->file_size <= size - s->file_offset);
		require(s->gpa >= min && s->gpa < max &&
			s->mem_size <= max - s->gpa);
		require((s->flags & ~(PF_R | PF_W | PF_X)) == 0);
		pages(s, &lo, &hi);
		require(lo >= min && hi <= max);
		for (size_t j = 0; j < i; j++) {
			uint64_t lo2, hi2;

			pages(&img->segments[j], &lo2, &hi2);
			require(hi <= lo2 || hi2 <= lo);
		}
		if ((s->flags & PF_X) && img->entry >= s->gpa &&
		    img->entry - s->gpa < s->mem_size)
			entry_ok = 1;
		if (s->gpa < lowest)
			lowest = s->gpa;
		if (s->gpa + s->mem_size > highest)
			highest = s->gpa + s->mem_size;
	}
	require(entry_ok);
	require(img->lowest_gpa == lowest && img->highest_gpa == highest);
}

static void parse_one(const uint8_t *image, size_t size, uint64_t min,
		      uint64_t max)
{
	struct elf_image out, sentinel;
	char err[128], tiny[4];
	int rc, rc2;

	memset(&out, 0xa5, sizeof(out));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	memset(err, 'x', sizeof(err));
	rc = elf_image_parse(image, size, min, max, &out, err, sizeof(err));
	require(rc == 0 || rc == -1);
	require(memchr(err, 0, sizeof(err)) != NULL);
	/* The verdict must not depend on the error buffer. */
	rc2 = elf_image_parse(image, size, min, max, &sentinel, NULL, 0);
	require(rc2 == rc);
	memset(tiny, 'x', sizeof(tiny));
	rc2 = elf_image_parse(image, size, min, max, &sentinel, tiny,
			      sizeof(tiny));
	require(rc2 == rc && memchr(tiny, 0, sizeof(tiny)) != NULL);
	if (rc != 0) {
		require(err[0] != '\0');
		memset(&sentinel, 0xa5, sizeof(sentinel));
		require(memcmp(&out, &sentinel, sizeof(out)) == 0);
		return;
	}
	require(err[0] == '\0');
	require((min & 0xfff) == 0 && (max & 0xfff) == 0 && min < max);
	check_image(&out, min, max, size);
	check_against_phdrs(image, size, &out);
}

/* tcb/elf_place.c, as the TCB and the CLI call it, with a memory size and
 * init/secrets lengths from the input's tail: placed, everything is page-
 * aligned and inside [image end, mem_size - reserve). */
static void place_one(const uint8_t *image, size_t size, uint64_t a, uint64_t b)
{
	static const uint64_t reserve = 0x10000;
	uint64_t mem = (a & 0x3fe00000) + (2ull << 20); /* 2 MiB..1 GiB */
	uint64_t init = b & 0xfffff, secrets = (b >> 20) & 0xfff;
	struct elf_placement p;
	char why[160];

	if (elf_place(image, size, mem, reserve, init, secrets, &p, why, sizeof(why)))
		return;
	require(p.init_gpa % 0x1000 == 0 && p.secrets_gpa % 0x1000 == 0);
	require(p.init_gpa >= p.img.highest_gpa && p.secrets_gpa >= p.init_gpa + init);
	require(p.secrets_gpa + secrets <= mem - reserve);
	require(p.img.lowest_gpa >= 0x100000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t tmin = tail_u64(data, size, 16);
	uint64_t tmax = tail_u64(data, size, 8);
	uint8_t *block = malloc(size + 1);
	const uint8_t *image;

	if (!block)
		return 0;
	memcpy(block + 1, data, size);
	image = block + 1;
	parse_one(image, size, 0x100000, 4ull << 20);
	parse_one(image, size, 0x100000, 1ull << 30);
	parse_one(image, size, 0, UINT64_MAX & ~(uint64_t)0xfff);
	parse_one(image, size, tmin, tmax);
	parse_one(image, size, tmin & ~(uint64_t)0xfff, tmax & ~(uint64_t)0xfff);
	place_one(image, size, tmin, tmax);
	free(block);
	return 0;
}
