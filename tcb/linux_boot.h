/*
 * Linux guests: the x86 boot protocol's 64-bit entry (Linux
 * Documentation/x86/boot.rst, "64-bit BOOT PROTOCOL"; protocol >= 2.12).
 * The bzImage is untrusted input (a tenant's upload, checked by the TCB at
 * HC_VM_LOAD and by the tenant CLI before it uploads): every field used is
 * checked here before anything is placed. Portable, host-tested
 * (tests/unit/test_linux_boot.c, tests/fuzz/fuzz_linux_boot.c).
 *
 * A Linux VM's guest-physical layout (docs/guest-abi.md, "Linux guests"):
 *
 *   0x000000  page 0 (RAM, unmapped in the initial page tables)
 *   0x001000  the zero page (struct boot_params), RSI points here
 *   0x002000  initial page tables (tcb/guest_pt.c: identity map of all RAM)
 *   0x006000  GDT: null, null, code64 0x10 (__BOOT_CS), data 0x18 (__BOOT_DS)
 *   0x007000  the command line (<= LINUX_CMDLINE_MAX bytes with its NUL)
 *   0x008000  .. 0x00ffff initial stack (RSP = 0x10000; startup_64 sets
 *             its own before it uses one)
 *   0x09fc00  .. 0x0fffff reserved in the e820 map (nothing there)
 *   pref_address (>= 1 MiB)  the protected-mode kernel; init_size bytes
 *             from there are kept free for its decompression
 *   ...       free RAM
 *   initrd    page-aligned, as high as RAM and initrd_addr_max allow
 *   mem_size
 *
 * e820: [0, 0x9fc00) RAM, [0x9fc00, 0x100000) reserved, [1 MiB, mem_size)
 * RAM. Linux keeps the first 1 MiB to itself (it never allocates there),
 * and copies the zero page and command line before it frees anything.
 */
#ifndef CUSTOS_TCB_LINUX_BOOT_H
#define CUSTOS_TCB_LINUX_BOOT_H

#include <custos/types.h>

#define LINUX_ZERO_PAGE_GPA   0x1000ull
#define LINUX_CMDLINE_GPA     0x7000ull
#define LINUX_STACK_TOP       0x10000ull
#define LINUX_LOW_RAM_END     0x9fc00ull
#define LINUX_HIGH_RAM_START  0x100000ull
#define LINUX_BOOT_CS         0x10
#define LINUX_BOOT_DS         0x18
#define LINUX_GDT_LIMIT       (4 * 8 - 1)
#define LINUX_ENTRY_64        0x200ull   /* startup_64, from the kernel's start */
#define LINUX_MIN_VERSION     0x020c     /* 2.12: xloadflags, 64-bit entry */
#define LINUX_CMDLINE_MAX     2048u      /* bytes with the NUL */
#define LINUX_SETUP_MAX_SECTS 64u        /* setup_sects beyond this: refused */
#define LINUX_ALIGN_MIN       0x1000u
#define LINUX_ALIGN_MAX       0x1000000u /* 16 MiB */
#define LINUX_ZERO_PAGE_SIZE  4096u
#define LINUX_E820_MAX        3u         /* entries this loader writes */

/* Offsets in the image's first sector and in struct boot_params (the same
 * for the setup header: it sits at 0x1f1 in both). */
#define LB_E820_ENTRIES   0x1e8
#define LB_SETUP_SECTS    0x1f1
#define LB_SYSSIZE        0x1f4
#define LB_BOOT_FLAG      0x1fe
#define LB_JUMP           0x200
#define LB_HEADER         0x202
#define LB_VERSION        0x206
#define LB_TYPE_OF_LOADER 0x210
#define LB_LOADFLAGS      0x211
#define LB_RAMDISK_IMAGE  0x218
#define LB_RAMDISK_SIZE   0x21c
#define LB_HEAP_END_PTR   0x224
#define LB_CMD_LINE_PTR   0x228
#define LB_INITRD_ADDR_MAX 0x22c
#define LB_KERNEL_ALIGN   0x230
#define LB_RELOCATABLE    0x234
#define LB_XLOADFLAGS     0x236
#define LB_CMDLINE_SIZE   0x238
#define LB_PAYLOAD_OFFSET 0x248
#define LB_PAYLOAD_LENGTH 0x24c
#define LB_SETUP_DATA     0x250
#define LB_PREF_ADDRESS   0x258
#define LB_INIT_SIZE      0x260
#define LB_HDR_END_MAX    0x290      /* where boot_params' header room ends */
#define LB_EXT_RAMDISK_IMAGE 0x0c0
#define LB_EXT_RAMDISK_SIZE  0x0c4
#define LB_EXT_CMD_LINE_PTR  0x0c8
#define LB_E820_TABLE     0x2d0

#define LINUX_LOADED_HIGH   0x01
#define LINUX_CAN_USE_HEAP  0x80
#define LINUX_XLF_KERNEL_64 0x01
#define LINUX_E820_RAM      1u
#define LINUX_E820_RESERVED 2u

/* What the setup header says, checked. */
struct linux_image {
	uint16_t version;          /* boot protocol, >= LINUX_MIN_VERSION */
	uint32_t setup_len;        /* (setup_sects + 1) * 512: the real-mode part */
	uint32_t hdr_end;          /* the setup header is [0x1f1, hdr_end) */
	uint64_t kernel_len;       /* file length - setup_len: loaded at load_gpa */
	uint64_t load_gpa;         /* pref_address */
	uint32_t init_size;        /* bytes from load_gpa the kernel needs */
	uint32_t kernel_alignment;
	bool relocatable;
	uint32_t cmdline_size;     /* longest command line, without its NUL */
	uint32_t initrd_addr_max;  /* highest byte address an initrd may use */
};

/* Where everything goes in a VM of mem_size bytes. */
struct linux_layout {
	struct linux_image img;
	uint64_t mem_size;
	uint64_t initrd_gpa, initrd_len; /* initrd_gpa 0 when initrd_len is 0 */
	uint64_t cmdline_len;            /* with the NUL; 0: empty */
	uint64_t entry;                  /* RIP: load_gpa + LINUX_ENTRY_64 */
};

/*
 * Check a bzImage of len bytes: at least two sectors, boot_flag 0xAA55,
 * "HdrS" at 0x202, version >= 2.12, xloadflags XLF_KERNEL_64, setup_sects
 * (0 means 4) <= LINUX_SETUP_MAX_SECTS with the setup inside the file and a
 * non-empty kernel after it, the header (0x202 + the jump's byte at 0x201)
 * inside the setup and below 0x290, syssize != 0 and syssize * 16 within
 * the kernel part, payload_offset/length inside syssize * 16, init_size >=
 * the kernel part, kernel_alignment a power of two in [4 KiB, 16 MiB],
 * pref_address >= 1 MiB, aligned to it, and pref_address + init_size below
 * 4 GiB. 0 and *out, or -1 with a one-line reason in why (NUL-terminated
 * when why_len > 0; why may be NULL); *out is written only on success.
 */
int linux_image_parse(const uint8_t *img, size_t len, struct linux_image *out,
		      char *why, size_t why_len);

/*
 * Check a command line: cmdline_len bytes, 0 (none) or 1..LINUX_CMDLINE_MAX
 * whose last byte is the only NUL. 0 or -1 with a reason.
 */
int linux_cmdline_check(const char *cmdline, size_t cmdline_len, char *why,
			size_t why_len);

/*
 * The layout of a Linux VM of mem_size bytes (a multiple of 2 MiB, at
 * most 1 GiB) from this image, an initrd of initrd_len bytes and a command
 * line (linux_cmdline_check; its length without the NUL at most the
 * kernel's cmdline_size): the initrd page-aligned as high as
 * min(mem_size, initrd_addr_max + 1) allows, the kernel [load_gpa,
 * load_gpa + init_size) entirely below it (or below mem_size). 0 and *out,
 * or -1 with a reason (the image's, or why it does not fit).
 */
int linux_plan(const uint8_t *img, size_t img_len, uint64_t mem_size,
	       uint64_t initrd_len, const char *cmdline, size_t cmdline_len,
	       struct linux_layout *out, char *why, size_t why_len);

/*
 * The zero page for l (from linux_plan on the same img): all zero, then
 * the image's setup header copied to [0x1f1, hdr_end), then type_of_loader
 * 0xff, loadflags LOADED_HIGH set and CAN_USE_HEAP clear (heap_end_ptr 0),
 * setup_data 0, cmd_line_ptr (LINUX_CMDLINE_GPA, or 0 without a command
 * line) and ext_cmd_line_ptr, ramdisk_image/size and their ext_ halves, and
 * the e820 table (linux_e820).
 */
void linux_zero_page(const uint8_t *img, const struct linux_layout *l,
		     uint8_t zp[LINUX_ZERO_PAGE_SIZE]);

/* The e820 entries for mem_size into the table at zp + LB_E820_TABLE and
 * their number at zp + LB_E820_ENTRIES (packed: addr, size: u64, type: u32). */
void linux_e820(uint64_t mem_size, uint8_t zp[LINUX_ZERO_PAGE_SIZE]);

/* The GDT's LINUX_GDT_LIMIT + 1 bytes: null, null, flat 64-bit code at
 * LINUX_BOOT_CS, flat data at LINUX_BOOT_DS (accessed bits set). */
void linux_gdt(uint8_t gdt[LINUX_GDT_LIMIT + 1]);

#endif
