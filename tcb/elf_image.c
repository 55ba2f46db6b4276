/*
 * ELF64 guest image validation (System V gABI, ELF-64 Object File Format
 * 1.5, and the x86-64 psABI for EM_X86_64).
 *
 * Images come from tenants, so the buffer is hostile: it may be any length,
 * at any alignment, with any bytes. Every field is read through load_le*(),
 * which assemble values byte by byte (no struct overlay, so no misaligned
 * access and no dependence on host byte order), and every sum of two
 * untrusted values is checked before it is formed.
 *
 * Built both freestanding into the hypervisor (lib/'s <string.h> and
 * <stdio.h>) and hosted into the unit tests and the fuzzer (glibc); only
 * memcmp, memcpy and memset are used (messages go through tcb/errmsg.c).
 *
 * Choices the interface leaves open, made here:
 *  - min_gpa and max_gpa must be page-aligned and min_gpa < max_gpa (else an
 *    error): then a segment inside [min_gpa, max_gpa) also has its whole
 *    pages inside, which is what the loader maps.
 *  - PT_LOAD segments with p_memsz == 0 occupy no memory and are skipped:
 *    they are not counted, not returned and not checked for overlap (their
 *    other fields are not checked either, since nothing of them is used).
 *  - e_phnum == PN_XNUM (0xffff, "real count in section header 0") is
 *    refused: a static guest never needs 65535 program headers.
 *  - e_ehsize must be 64. EI_OSABI, EI_ABIVERSION, e_flags, the section
 *    headers and p_align are not looked at: the loader copies bytes rather
 *    than mapping file pages, so alignment between offset and address does
 *    not matter.
 *  - Segment flags are returned masked to PF_R | PF_W | PF_X; other bits
 *    (OS- or processor-specific) are dropped. Writable and executable
 *    segments are accepted: the guest's own page tables are its business.
 *  - On failure *out is left untouched; it is written only on success.
 */
#include "tcb/elf_image.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"

#include <string.h>

/* e_ident (gABI "ELF Identification"). */
#define EI_NIDENT     16u
#define EI_CLASS      4u
#define EI_DATA       5u
#define EI_VERSION    6u
#define ELFCLASS64    2u
#define ELFDATA2LSB   1u
#define EV_CURRENT    1u
static const uint8_t elf_magic[4] = { 0x7f, 'E', 'L', 'F' };

/* ELF64 header field offsets and values. */
#define E_TYPE        16u
#define E_MACHINE     18u
#define E_VERSION     20u
#define E_ENTRY       24u
#define E_PHOFF       32u
#define E_EHSIZE      52u
#define E_PHENTSIZE   54u
#define E_PHNUM       56u
#define EHDR_SIZE     64u
#define ET_EXEC       2u
#define EM_X86_64     62u
#define PN_XNUM       0xffffu

/* ELF64 program header field offsets and values. */
#define P_TYPE        0u
#define P_FLAGS       4u
#define P_OFFSET      8u
#define P_VADDR       16u
#define P_PADDR       24u
#define P_FILESZ      32u
#define P_MEMSZ       40u
#define PHDR_SIZE     56u
#define PT_LOAD       1u
#define PT_DYNAMIC    2u
#define PT_INTERP     3u
#define PF_X          1u
#define PF_W          2u
#define PF_R          4u

/* ---- Helpers ------------------------------------------------------------- */

/* State of one elf_image_parse() call. */
struct elf_parser {
	const uint8_t *buf;
	size_t len;
	uint64_t min_gpa, max_gpa;
	char *err;
	size_t err_len;
	struct elf_image img;            /* copied to *out only on success */
	size_t phdr_index[ELF_MAX_SEGMENTS]; /* img.segments[i] came from here */
	uint64_t page_lo[ELF_MAX_SEGMENTS];  /* page-rounded [lo, hi) of each */
	uint64_t page_hi[ELF_MAX_SEGMENTS];
};

/* ---- File header --------------------------------------------------------- */

static int check_ident(const struct elf_parser *p)
{
	const uint8_t *id = p->buf;

	if (p->len < EHDR_SIZE)
		return errmsg(p->err, p->err_len,
			    "file of %zu bytes is shorter than the 64-byte ELF64 header",
			    p->len);
	if (memcmp(id, elf_magic, sizeof(elf_magic)) != 0)
		return errmsg(p->err, p->err_len, "not an ELF file (bad magic)");
	if (id[EI_CLASS] != ELFCLASS64)
		return errmsg(p->err, p->err_len,
			    "ELF class %u is not ELFCLASS64 (2)", id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB)
		return errmsg(p->err, p->err_len,
			    "ELF data encoding %u is not little-endian (1)",
			    id[EI_DATA]);
	if (id[EI_VERSION] != EV_CURRENT)
		return errmsg(p->err, p->err_len,
			    "e_ident version %u is not EV_CURRENT (1)",
			    id[EI_VERSION]);
	return 0;
}

static int check_ehdr(const struct elf_parser *p)
{
	const uint8_t *h = p->buf;
	uint16_t type, machine, ehsize, phentsize;
	uint32_t version;

	/* First: it checks that the 64 header bytes are there to read. */
	if (check_ident(p))
		return -1;
	type = load_le16(h + E_TYPE);
	machine = load_le16(h + E_MACHINE);
	version = load_le32(h + E_VERSION);
	ehsize = load_le16(h + E_EHSIZE);
	phentsize = load_le16(h + E_PHENTSIZE);
	/* ET_DYN (PIE) is refused too: we never relocate a guest. */
	if (type != ET_EXEC)
		return errmsg(p->err, p->err_len,
			    "e_type %u is not ET_EXEC (2): only static executables are accepted",
			    type);
	if (machine != EM_X86_64)
		return errmsg(p->err, p->err_len,
			    "e_machine %u is not EM_X86_64 (62)", machine);
	if (version != EV_CURRENT)
		return errmsg(p->err, p->err_len,
			    "e_version %u is not EV_CURRENT (1)", version);
	if (ehsize != EHDR_SIZE)
		return errmsg(p->err, p->err_len,
			    "e_ehsize %u is not 64", ehsize);
	if (phentsize != PHDR_SIZE)
		return errmsg(p->err, p->err_len,
			    "e_phentsize %u is not 56", phentsize);
	return 0;
}

/* The program header table must lie wholly inside the file. */
static int check_phdr_table(const struct elf_parser *p, uint64_t phoff,
			    uint16_t phnum)
{
	/* At most 65535 * 56 bytes: cannot overflow. */
	uint64_t table_len = (uint64_t)phnum * PHDR_SIZE;

	if (phnum == PN_XNUM)
		return errmsg(p->err, p->err_len,
			    "e_phnum 0xffff (PN_XNUM, extended numbering) is not supported");
	if (phoff > p->len || table_len > p->len - phoff)
		return errmsg(p->err, p->err_len,
			    "program header table at offset 0x%lx with %u entries of 56 bytes does not fit in the %zu-byte file",
			    phoff, phnum, p->len);
	return 0;
}

/* ---- Segments ------------------------------------------------------------ */

/* A PT_LOAD program header's fields, as read from the file. */
struct load_phdr {
	size_t index;
	uint32_t flags;
	uint64_t offset, vaddr, paddr, filesz, memsz;
};

/* Sizes and file placement: independent of where the segment will live. */
static int check_file_part(const struct elf_parser *p,
			   const struct load_phdr *ph)
{
	if (ph->filesz > ph->memsz)
		return errmsg(p->err, p->err_len,
			    "program header %zu: p_filesz 0x%lx exceeds p_memsz 0x%lx",
			    ph->index, ph->filesz, ph->memsz);
	if (ph->offset > p->len || ph->filesz > p->len - ph->offset)
		return errmsg(p->err, p->err_len,
			    "program header %zu: file bytes at offset 0x%lx, size 0x%lx, extend past the end of the %zu-byte file",
			    ph->index, ph->offset, ph->filesz, p->len);
	return 0;
}

/*
 * Guest-physical placement: identity-mapped, inside [min_gpa, max_gpa)
 * without wrapping. Returns the segment's page-rounded range in lo, hi.
 */
static int check_placement(const struct elf_parser *p,
			   const struct load_phdr *ph, uint64_t *lo,
			   uint64_t *hi)
{
	uint64_t gpa = ph->paddr;

	if (ph->paddr != ph->vaddr)
		return errmsg(p->err, p->err_len,
			    "program header %zu: p_paddr 0x%lx differs from p_vaddr 0x%lx (guests run identity-mapped)",
			    ph->index, ph->paddr, ph->vaddr);
	if (gpa < p->min_gpa)
		return errmsg(p->err, p->err_len,
			    "program header %zu: segment at 0x%lx is below the loadable range [0x%lx, 0x%lx)",
			    ph->index, gpa, p->min_gpa, p->max_gpa);
	if (ph->memsz > UINT64_MAX - gpa)
		return errmsg(p->err, p->err_len,
			    "program header %zu: segment at 0x%lx of 0x%lx bytes wraps past 2^64",
			    ph->index, gpa, ph->memsz);
	if (gpa + ph->memsz > p->max_gpa)
		return errmsg(p->err, p->err_len,
			    "program header %zu: segment [0x%lx, 0x%lx) ends above the loadable range [0x%lx, 0x%lx)",
			    ph->index, gpa, gpa + ph->memsz, p->min_gpa,
			    p->max_gpa);
	/* Cannot fail while max_gpa is page-aligned; checked all the same. */
	if (!align_up_checked(gpa + ph->memsz, PAGE_SIZE, hi))
		return errmsg(p->err, p->err_len,
			    "program header %zu: segment end 0x%lx wraps when rounded up to a page",
			    ph->index, gpa + ph->memsz);
	*lo = gpa & ~PAGE_MASK;
	return 0;
}

/*
 * Guest pages are mapped whole, so two segments sharing a page would have
 * to agree on its permissions and contents: refuse that outright.
 */
static int check_overlap(const struct elf_parser *p,
			 const struct load_phdr *ph, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < p->img.segment_count; i++) {
		if (lo < p->page_hi[i] && p->page_lo[i] < hi)
			return errmsg(p->err, p->err_len,
				    "program header %zu: segment pages [0x%lx, 0x%lx) overlap those of program header %zu [0x%lx, 0x%lx)",
				    ph->index, lo, hi, p->phdr_index[i],
				    p->page_lo[i], p->page_hi[i]);
	}
	return 0;
}

static int add_load_segment(struct elf_parser *p, const struct load_phdr *ph)
{
	size_t n = p->img.segment_count;
	struct elf_segment *seg;
	uint64_t lo = 0, hi = 0;

	/* Occupies no memory: nothing to load, map or overlap. */
	if (ph->memsz == 0)
		return 0;
	if (n == ELF_MAX_SEGMENTS)
		return errmsg(p->err, p->err_len,
			    "program header %zu: more than %u PT_LOAD segments",
			    ph->index, ELF_MAX_SEGMENTS);
	if (check_file_part(p, ph) || check_placement(p, ph, &lo, &hi) ||
	    check_overlap(p, ph, lo, hi))
		return -1;
	seg = &p->img.segments[n];
	seg->gpa = ph->paddr;
	seg->file_offset = ph->offset;
	seg->file_size = ph->filesz;
	seg->mem_size = ph->memsz;
	seg->flags = ph->flags & (PF_R | PF_W | PF_X);
	p->phdr_index[n] = ph->index;
	p->page_lo[n] = lo;
	p->page_hi[n] = hi;
	p->img.segment_count = n + 1;
	return 0;
}

static int parse_phdr(struct elf_parser *p, const uint8_t *h, size_t index)
{
	uint32_t type = load_le32(h + P_TYPE);
	struct load_phdr ph;

	switch (type) {
	case PT_LOAD:
		break;
	/* Both mean "needs a dynamic linker", which a guest never has. */
	case PT_INTERP:
		return errmsg(p->err, p->err_len,
			    "program header %zu: PT_INTERP present (dynamically linked image)",
			    index);
	case PT_DYNAMIC:
		return errmsg(p->err, p->err_len,
			    "program header %zu: PT_DYNAMIC present (dynamically linked image)",
			    index);
	default:
		/* PT_NOTE, PT_GNU_STACK, PT_TLS, ...: nothing to load. */
		return 0;
	}
	ph.index = index;
	ph.flags = load_le32(h + P_FLAGS);
	ph.offset = load_le64(h + P_OFFSET);
	ph.vaddr = load_le64(h + P_VADDR);
	ph.paddr = load_le64(h + P_PADDR);
	ph.filesz = load_le64(h + P_FILESZ);
	ph.memsz = load_le64(h + P_MEMSZ);
	return add_load_segment(p, &ph);
}

/* ---- Whole image --------------------------------------------------------- */

static void fill_bounds(struct elf_image *img)
{
	img->lowest_gpa = UINT64_MAX;
	img->highest_gpa = 0;
	for (size_t i = 0; i < img->segment_count; i++) {
		const struct elf_segment *s = &img->segments[i];

		if (s->gpa < img->lowest_gpa)
			img->lowest_gpa = s->gpa;
		/* No wrap: check_placement() bounded gpa + mem_size. */
		if (s->gpa + s->mem_size > img->highest_gpa)
			img->highest_gpa = s->gpa + s->mem_size;
	}
}

static int check_entry(const struct elf_parser *p)
{
	const struct elf_image *img = &p->img;
	const struct elf_segment *inside = NULL;
	size_t i;

	for (i = 0; i < img->segment_count; i++) {
		const struct elf_segment *s = &img->segments[i];

		/* entry - gpa, not gpa + size: no sum to overflow. */
		if (img->entry >= s->gpa && img->entry - s->gpa < s->mem_size) {
			inside = s;
			break;
		}
	}
	if (!inside)
		return errmsg(p->err, p->err_len,
			    "entry point 0x%lx is not inside any PT_LOAD segment",
			    img->entry);
	if (!(inside->flags & PF_X))
		return errmsg(p->err, p->err_len,
			    "entry point 0x%lx is not inside an executable segment (program header %zu [0x%lx, 0x%lx) lacks PF_X)",
			    img->entry, p->phdr_index[i], inside->gpa,
			    inside->gpa + inside->mem_size);
	return 0;
}

static int parse_image(struct elf_parser *p)
{
	uint64_t phoff;
	uint16_t phnum;

	if (p->min_gpa >= p->max_gpa || (p->min_gpa & PAGE_MASK) ||
	    (p->max_gpa & PAGE_MASK))
		return errmsg(p->err, p->err_len,
			    "loadable range [0x%lx, 0x%lx) is empty or not page-aligned",
			    p->min_gpa, p->max_gpa);
	if (check_ehdr(p))
		return -1;
	phoff = load_le64(p->buf + E_PHOFF);
	phnum = load_le16(p->buf + E_PHNUM);
	if (check_phdr_table(p, phoff, phnum))
		return -1;
	/* phoff + i * 56 < len for every i < phnum, as just checked. */
	for (size_t i = 0; i < phnum; i++)
		if (parse_phdr(p, p->buf + phoff + i * PHDR_SIZE, i))
			return -1;
	if (p->img.segment_count == 0)
		return errmsg(p->err, p->err_len,
			    "no PT_LOAD segment with p_memsz > 0");
	p->img.entry = load_le64(p->buf + E_ENTRY);
	if (check_entry(p))
		return -1;
	fill_bounds(&p->img);
	return 0;
}

int elf_image_parse(const void *buf, size_t len, uint64_t min_gpa,
		    uint64_t max_gpa, struct elf_image *out, char *err,
		    size_t err_len)
{
	/* ~600 bytes of stack; on the stack so concurrent calls are safe. */
	struct elf_parser p;

	if (err && err_len)
		err[0] = '\0';
	if (!buf || !out)
		return errmsg(err, err_len, "no image (NULL pointer)");
	memset(&p, 0, sizeof(p));
	p.buf = buf;
	p.len = len;
	p.min_gpa = min_gpa;
	p.max_gpa = max_gpa;
	p.err = err;
	p.err_len = err_len;
	if (parse_image(&p))
		return -1;
	memcpy(out, &p.img, sizeof(*out));
	return 0;
}
