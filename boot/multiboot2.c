/*
 * Multiboot2 boot information parser (Multiboot2 specification 1.6, 3.6).
 *
 * This file is built both freestanding into the hypervisor (where <string.h>
 * and <stdio.h> are lib/'s subset) and hosted into the unit tests and the
 * fuzzer (glibc). Every read of the loader's structure goes through
 * load_le32()/load_le64() (tcb/byteorder.h), which assemble values byte by
 * byte: the spec makes 8-byte alignment the loader's job, but a misaligned
 * or hostile structure must still not make us fault or read out of bounds.
 * Where the modules lie is judged later, against the checked memory map
 * (boot/modules.c).
 */
#include "boot/multiboot2.h"
#include "boot/acpi.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"

#include <stdarg.h>
#include <string.h>

/* Tag types we interpret (3.6.2 and the sections named next to each). */
#define MB2_TAG_END      0u  /* 3.6.2 */
#define MB2_TAG_CMDLINE  1u  /* 3.6.5 */
#define MB2_TAG_MODULE   3u  /* 3.6.6 */
#define MB2_TAG_MMAP     6u  /* 3.6.8 */
#define MB2_TAG_ACPI_OLD 14u /* 3.6.16 */
#define MB2_TAG_ACPI_NEW 15u /* 3.6.17 */

#define MB2_FIXED_SIZE    8u  /* u32 total_size, u32 reserved (3.6.1) */
#define MB2_TAG_HDR_SIZE  8u  /* u32 type, u32 size (3.6.2) */
#define MB2_TAG_ALIGN     8u  /* tags are padded to 8 bytes (3.6.2) */
#define MB2_MMAP_HDR_SIZE 8u  /* u32 entry_size, u32 entry_version (3.6.8) */
#define MB2_MMAP_ENTRY_MIN 24u /* u64 base, u64 len, u32 type, u32 reserved */
#define MB2_MODULE_HDR_SIZE 8u /* u32 mod_start, u32 mod_end (3.6.6) */

/* RSDP layout (ACPI 6.x, 5.2.5.3): v1 is 20 bytes, v2 extends it to 36. */
#define RSDP_V1_LEN 20u
#define RSDP_V2_LEN 36u
static const char rsdp_signature[8] = { 'R', 'S', 'D', ' ', 'P', 'T', 'R', ' ' };

/* ---- Helpers ------------------------------------------------------------- */

/* Word separators for module names and the kernel command line. */
static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* ---- Parsing ------------------------------------------------------------- */

/* State of one mb2_parse() call; the tag fields describe the current tag. */
struct mb2_parser {
	struct mb2_info *out;
	char *err;
	size_t err_len;
	uint32_t tag_type;
	size_t tag_off;
	const uint8_t *body; /* the tag's bytes after its 8-byte header */
	size_t body_len;
	bool seen_mmap;
	bool seen_acpi_old;
	bool seen_acpi_new;
};

/* An error message with the current tag's type and offset in front. */
__attribute__((format(printf, 2, 3)))
static int tag_fail(const struct mb2_parser *p, const char *fmt, ...)
{
	va_list ap;

	errmsg(p->err, p->err_len, "tag %u at offset 0x%zx: ", p->tag_type,
	       p->tag_off);
	va_start(ap, fmt);
	errmsg_vappend(p->err, p->err_len, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * A NUL-terminated string inside s[0..avail): returns its length, or -1 (with
 * the error written) if it has no NUL or needs more than 'cap' bytes.
 */
static long tag_string(const struct mb2_parser *p, const uint8_t *s,
		       size_t avail, size_t cap, const char *what)
{
	size_t len = strnlen((const char *)s, avail);

	if (len == avail)
		return tag_fail(p, "%s not NUL-terminated", what);
	if (len > cap - 1)
		return tag_fail(p, "%s is %zu bytes, longer than the limit of %zu",
				what, len, cap - 1);
	return (long)len;
}

/* Tag 1, boot command line (3.6.5): a NUL-terminated UTF-8 string. */
static int parse_cmdline(struct mb2_parser *p)
{
	long len;

	if (p->out->has_cmdline)
		return tag_fail(p, "duplicate boot command line tag");
	len = tag_string(p, p->body, p->body_len, MB2_MAX_CMDLINE,
			 "boot command line");
	if (len < 0)
		return -1;
	memcpy(p->out->cmdline, p->body, (size_t)len + 1);
	p->out->has_cmdline = true;
	return 0;
}

static int parse_mmap_entry(struct mb2_parser *p, const uint8_t *e, size_t idx)
{
	uint64_t base = load_le64(e);
	uint64_t len = load_le64(e + 8);
	struct mb2_mmap_entry *slot;

	/* An empty range describes no memory; dropping it loses nothing. */
	if (len == 0)
		return 0;
	if (len > UINT64_MAX - base)
		return tag_fail(p, "mmap entry %zu base 0x%lx length 0x%lx wraps past 2^64",
				idx, base, len);
	if (p->out->mmap_count == MB2_MAX_MMAP)
		return tag_fail(p, "more than %u mmap entries", MB2_MAX_MMAP);
	slot = &p->out->mmap[p->out->mmap_count++];
	slot->base = base;
	slot->len = len;
	slot->type = load_le32(e + 16);
	return 0;
}

/*
 * Tag 6, memory map (3.6.8): entry_size and entry_version, then entries.
 * entry_size is "guaranteed to be a multiple of 8" and may grow in future
 * versions, so we accept larger entries and read only the fields we know.
 */
static int parse_mmap(struct mb2_parser *p)
{
	uint32_t entry_size, entry_version;
	size_t entries_len;

	if (p->seen_mmap)
		return tag_fail(p, "duplicate memory map tag");
	p->seen_mmap = true;
	if (p->body_len < MB2_MMAP_HDR_SIZE)
		return tag_fail(p, "memory map tag too short (%zu bytes)",
				p->body_len + MB2_TAG_HDR_SIZE);
	entry_size = load_le32(p->body);
	entry_version = load_le32(p->body + 4);
	if (entry_size < MB2_MMAP_ENTRY_MIN || entry_size % 8)
		return tag_fail(p, "mmap entry_size %u invalid (must be >= 24 and a multiple of 8)",
				entry_size);
	if (entry_version != 0)
		return tag_fail(p, "mmap entry_version %u unsupported (must be 0)",
				entry_version);
	entries_len = p->body_len - MB2_MMAP_HDR_SIZE;
	if (entries_len % entry_size)
		return tag_fail(p, "mmap entries (%zu bytes) not a multiple of entry_size %u",
				entries_len, entry_size);
	for (size_t off = 0; off < entries_len; off += entry_size)
		if (parse_mmap_entry(p, p->body + MB2_MMAP_HDR_SIZE + off,
				     off / entry_size))
			return -1;
	return 0;
}

/* The module's name: the first blank-separated word of its command line. */
static int module_name(struct mb2_parser *p, struct mb2_module *mod)
{
	const char *word = mod->cmdline;
	size_t len = 0;

	while (is_blank(*word))
		word++;
	while (word[len] != '\0' && !is_blank(word[len]))
		len++;
	if (len > MB2_MAX_MOD_NAME - 1)
		return tag_fail(p, "module name is %zu bytes, longer than the limit of %u",
				len, MB2_MAX_MOD_NAME - 1);
	memcpy(mod->name, word, len);
	mod->name[len] = '\0';
	return 0;
}

/* Tag 3, module (3.6.6): u32 mod_start, u32 mod_end, string. */
static int parse_module(struct mb2_parser *p)
{
	struct mb2_module *mod;
	uint32_t start, end;
	long len;

	if (p->body_len < MB2_MODULE_HDR_SIZE)
		return tag_fail(p, "module tag too short (%zu bytes)",
				p->body_len + MB2_TAG_HDR_SIZE);
	if (p->out->module_count == MB2_MAX_MODULES)
		return tag_fail(p, "more than %u modules", MB2_MAX_MODULES);
	start = load_le32(p->body);
	end = load_le32(p->body + 4);
	if (start > end)
		return tag_fail(p, "module start 0x%x is above its end 0x%x",
				start, end);
	len = tag_string(p, p->body + MB2_MODULE_HDR_SIZE,
			 p->body_len - MB2_MODULE_HDR_SIZE,
			 MB2_MAX_MOD_CMDLINE, "module cmdline");
	if (len < 0)
		return -1;
	mod = &p->out->modules[p->out->module_count];
	mod->start = start;
	mod->end = end;
	memcpy(mod->cmdline, p->body + MB2_MODULE_HDR_SIZE, (size_t)len + 1);
	if (module_name(p, mod))
		return -1;
	p->out->module_count++;
	return 0;
}

/*
 * Tags 14 and 15, ACPI old/new RSDP (3.6.16, 3.6.17): a copy of the RSDP.
 * ACPI 5.2.5.3: the checksum covers the first 20 bytes, the extended
 * checksum (v2 and later) covers all 36.
 */
static int parse_rsdp(struct mb2_parser *p, int version)
{
	bool *seen = version == 2 ? &p->seen_acpi_new : &p->seen_acpi_old;
	size_t min = version == 2 ? RSDP_V2_LEN : RSDP_V1_LEN;

	if (*seen)
		return tag_fail(p, "duplicate ACPI RSDP v%u tag", (unsigned)version);
	*seen = true;
	if (p->body_len < min || p->body_len > MB2_MAX_RSDP)
		return tag_fail(p, "RSDP v%u is %zu bytes (must be %zu..%u)",
				(unsigned)version, p->body_len, min, MB2_MAX_RSDP);
	if (memcmp(p->body, rsdp_signature, sizeof(rsdp_signature)) != 0)
		return tag_fail(p, "RSDP signature is not \"RSD PTR \"");
	if (!acpi_checksum_ok(p->body, RSDP_V1_LEN))
		return tag_fail(p, "RSDP checksum (first 20 bytes) wrong");
	if (version == 2 && !acpi_checksum_ok(p->body, RSDP_V2_LEN))
		return tag_fail(p, "RSDP extended checksum (36 bytes) wrong");
	/* Both tags may be present; the v2 copy has the XSDT, so it wins. */
	if (p->out->rsdp_version > version)
		return 0;
	memset(p->out->rsdp, 0, sizeof(p->out->rsdp));
	memcpy(p->out->rsdp, p->body, p->body_len);
	p->out->rsdp_len = p->body_len;
	p->out->rsdp_version = version;
	return 0;
}

static int parse_tag(struct mb2_parser *p)
{
	switch (p->tag_type) {
	case MB2_TAG_CMDLINE:
		return parse_cmdline(p);
	case MB2_TAG_MODULE:
		return parse_module(p);
	case MB2_TAG_MMAP:
		return parse_mmap(p);
	case MB2_TAG_ACPI_OLD:
		return parse_rsdp(p, 1);
	case MB2_TAG_ACPI_NEW:
		return parse_rsdp(p, 2);
	default:
		/* 3.6.2: unknown tags must be ignored. */
		return 0;
	}
}

/*
 * Walk the tags of a structure whose total_size has already been checked
 * against the readable length. 3.6.2: tags start at offset 8, each is padded
 * to 8 bytes, and the list ends with a tag of type 0 and size 8.
 */
static int parse_tags(struct mb2_parser *p, const uint8_t *info, size_t total)
{
	size_t off = MB2_FIXED_SIZE;

	for (;;) {
		uint32_t size;

		if (off > total - MB2_TAG_HDR_SIZE)
			return errmsg(p->err, p->err_len,
				    "no end tag (type 0, size 8) at offset 0x%zx before total_size %zu",
				    off, total);
		p->tag_off = off;
		p->tag_type = load_le32(info + off);
		size = load_le32(info + off + 4);
		if (size < MB2_TAG_HDR_SIZE)
			return tag_fail(p, "size %u smaller than the tag header", size);
		if (size > total - off)
			return tag_fail(p, "size %u extends past total_size %zu",
					size, total);
		if (p->tag_type == MB2_TAG_END)
			return size == MB2_TAG_HDR_SIZE ? 0 :
			       tag_fail(p, "end tag size %u, expected 8", size);
		p->body = info + off + MB2_TAG_HDR_SIZE;
		p->body_len = size - MB2_TAG_HDR_SIZE;
		if (parse_tag(p))
			return -1;
		/* No overflow: size <= total - off and total <= 1 MiB. */
		off += ((size_t)size + MB2_TAG_ALIGN - 1) & ~(size_t)(MB2_TAG_ALIGN - 1);
	}
}

int mb2_parse(const void *buf, size_t buf_len, struct mb2_info *out,
	      char *err, size_t err_len)
{
	struct mb2_parser p = { .out = out, .err = err, .err_len = err_len };
	const uint8_t *info = buf;
	uint32_t total;

	if (err && err_len)
		err[0] = '\0';
	if (!buf || !out)
		return errmsg(err, err_len, "no boot information (NULL pointer)");
	if (buf_len < MB2_FIXED_SIZE)
		return errmsg(err, err_len, "boot information buffer of %zu bytes is shorter than its 8-byte fixed part",
			    buf_len);
	total = load_le32(info);
	if (total < MB2_FIXED_SIZE + MB2_TAG_HDR_SIZE)
		return errmsg(err, err_len, "total_size %u too small for the fixed part and an end tag",
			    total);
	if (total > buf_len)
		return errmsg(err, err_len, "total_size %u exceeds the %zu readable bytes",
			    total, buf_len);
	if (total > MB2_MAX_INFO_SIZE)
		return errmsg(err, err_len, "total_size %u exceeds the limit of %u",
			    total, MB2_MAX_INFO_SIZE);
	memset(out, 0, sizeof(*out));
	if (parse_tags(&p, info, total))
		return -1;
	/* Without a memory map we cannot know where RAM is (3.6.8). */
	if (!p.seen_mmap)
		return errmsg(err, err_len, "no memory map tag (type 6)");
	return 0;
}

/* ---- Lookups ------------------------------------------------------------ */

const char *mb2_mem_type_name(uint32_t type)
{
	switch (type) {
	case MB2_MEM_AVAILABLE:        return "available";
	case MB2_MEM_RESERVED:         return "reserved";
	case MB2_MEM_ACPI_RECLAIMABLE: return "acpi";
	case MB2_MEM_NVS:              return "acpi-nvs";
	case MB2_MEM_BADRAM:           return "bad";
	default:                       return "unknown (reserved)";
	}
}

const struct mb2_module *mb2_find_module(const struct mb2_info *info,
					 const char *name)
{
	if (!info || !name || info->module_count > MB2_MAX_MODULES)
		return NULL;
	for (size_t i = 0; i < info->module_count; i++)
		if (strncmp(info->modules[i].name, name, MB2_MAX_MOD_NAME) == 0)
			return &info->modules[i];
	return NULL;
}

/* ---- Command line -------------------------------------------------------- */

/* Does the word [w, w + len) have key 'key' (before '=' or the word's end)? */
static bool word_has_key(const char *w, size_t len, const char *key,
			 size_t key_len)
{
	return len >= key_len && memcmp(w, key, key_len) == 0 &&
	       (len == key_len || w[key_len] == '=');
}

/* A key is one non-empty word without '=' (it could never match otherwise). */
static bool valid_key(const char *key, size_t key_len)
{
	if (key_len == 0 || key_len == MB2_MAX_CMDLINE)
		return false;
	for (size_t i = 0; i < key_len; i++)
		if (key[i] == '=' || is_blank(key[i]))
			return false;
	return true;
}

bool mb2_cmdline_get(const char *cmdline, const char *key, char *val,
		     size_t val_len)
{
	const char *found = NULL;
	size_t found_len = 0, key_len;

	if (!cmdline || !key)
		return false;
	key_len = strnlen(key, MB2_MAX_CMDLINE);
	if (!valid_key(key, key_len))
		return false;
	while (*cmdline) {
		size_t len = 0;

		while (is_blank(*cmdline))
			cmdline++;
		while (cmdline[len] != '\0' && !is_blank(cmdline[len]))
			len++;
		/* Keep scanning after a match: the last occurrence wins. */
		if (len && word_has_key(cmdline, len, key, key_len)) {
			found = len == key_len ? cmdline + len : cmdline + key_len + 1;
			found_len = len == key_len ? 0 : len - key_len - 1;
		}
		cmdline += len;
	}
	if (!found)
		return false;
	if (!val)
		return true;
	if (found_len + 1 > val_len)
		return false;
	memcpy(val, found, found_len);
	val[found_len] = '\0';
	return true;
}
