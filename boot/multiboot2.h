/*
 * Multiboot2 boot information: the untrusted structure GRUB hands us.
 *
 * Everything the hypervisor needs from it is copied out by mb2_parse() into a
 * self-contained struct mb2_info, so nothing later ever dereferences the
 * loader's memory again. The parser trusts nothing: every tag's size and
 * alignment is checked against the total size before it is read.
 * Spec: Multiboot2 specification 1.6, section 3.6 "Boot information format".
 */
#ifndef CUSTOS_BOOT_MULTIBOOT2_H
#define CUSTOS_BOOT_MULTIBOOT2_H

#include <custos/types.h>

#define MB2_BOOTLOADER_MAGIC 0x36d76289u

/* Limits of what we accept; anything larger is rejected, not truncated. */
#define MB2_MAX_INFO_SIZE  (1u << 20)
#define MB2_MAX_CMDLINE    1024  /* bytes, including the NUL */
#define MB2_MAX_MMAP       128
#define MB2_MAX_MODULES    16
#define MB2_MAX_MOD_CMDLINE 256  /* bytes, including the NUL */
#define MB2_MAX_MOD_NAME   64    /* bytes, including the NUL */
#define MB2_MAX_RSDP       64    /* ACPI 2.0+ RSDP is 36 bytes */

/* Memory map entry types (Multiboot2 3.6.8, same values as E820). */
enum mb2_mem_type {
	MB2_MEM_AVAILABLE = 1,
	MB2_MEM_RESERVED = 2,
	MB2_MEM_ACPI_RECLAIMABLE = 3,
	MB2_MEM_NVS = 4,
	MB2_MEM_BADRAM = 5,
};

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t len;
	uint32_t type; /* enum mb2_mem_type, or any other value (treated as reserved) */
};

struct mb2_module {
	uint64_t start; /* physical, inclusive */
	uint64_t end;   /* physical, exclusive */
	char cmdline[MB2_MAX_MOD_CMDLINE]; /* full module command line */
	char name[MB2_MAX_MOD_NAME];       /* its first word; "" if none */
};

struct mb2_info {
	bool has_cmdline;
	char cmdline[MB2_MAX_CMDLINE];

	size_t mmap_count;
	struct mb2_mmap_entry mmap[MB2_MAX_MMAP];

	size_t module_count;
	struct mb2_module modules[MB2_MAX_MODULES];

	/* ACPI RSDP copied from tag 14 (v1) or 15 (v2); rsdp_version 0 if absent. */
	int rsdp_version;
	size_t rsdp_len;
	uint8_t rsdp[MB2_MAX_RSDP];
};

/*
 * Parse the boot information at 'buf'. 'buf_len' bounds how many bytes may be
 * read (the fuzzer passes its input size; the hypervisor passes
 * MB2_MAX_INFO_SIZE, and the structure's own total_size must fit within it).
 * On success returns 0 and fills *out. On any malformation returns -1, leaves
 * *out in an unspecified state and writes a one-line reason into err.
 */
int mb2_parse(const void *buf, size_t buf_len, struct mb2_info *out,
	      char *err, size_t err_len);

/* A memory map entry type's name for the log ("available", "reserved", ...). */
const char *mb2_mem_type_name(uint32_t type);

/* Find a module by name; NULL if there is none. */
const struct mb2_module *mb2_find_module(const struct mb2_info *info,
					 const char *name);

/*
 * Look up "key=value" (or a bare "key") in a kernel command line. Copies the
 * value (empty for a bare key) into val and returns true if the key is there.
 * Words are separated by blanks (space, tab, CR, LF); there is no quoting.
 * The key must match a word's part before '=' exactly ("custos.test" does not
 * match "custos.testing=1"). If the key occurs more than once, the last
 * occurrence wins. A value that does not fit in val_len bytes (with its NUL)
 * is not truncated: the call returns false. With val == NULL the call only
 * reports whether the key is present. A key that is empty or contains '=' or
 * a blank never matches.
 */
bool mb2_cmdline_get(const char *cmdline, const char *key, char *val,
		     size_t val_len);

#endif
