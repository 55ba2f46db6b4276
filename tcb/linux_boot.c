/*
 * Linux bzImage checks and the zero page (tcb/linux_boot.h).
 */
#include "tcb/linux_boot.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"
#include <custos/guest_abi.h>

#include <string.h>

#define SECTOR 512u
#define GDT_CODE64 0x00af9b000000ffffull
#define GDT_DATA   0x00cf93000000ffffull

static bool pow2(uint32_t x)
{
	return x && !(x & (x - 1));
}

int linux_image_parse(const uint8_t *img, size_t len, struct linux_image *out,
		      char *why, size_t why_len)
{
	struct linux_image r;
	uint32_t sects, syssize, pay_off, pay_len;
	uint64_t sys_bytes;

	if (why && why_len)
		why[0] = '\0';
	if (!img || len < 2 * SECTOR || load_le16(img + LB_BOOT_FLAG) != 0xaa55 ||
	    memcmp(img + LB_HEADER, "HdrS", 4) != 0)
		return errmsg(why, why_len, "not a bzImage (no Linux boot header)");
	memset(&r, 0, sizeof(r));
	r.version = load_le16(img + LB_VERSION);
	if (r.version < LINUX_MIN_VERSION)
		return errmsg(why, why_len, "boot protocol %u.%02u too old (needs 2.12 or later)",
			      r.version >> 8, r.version & 0xff);
	if (!(load_le16(img + LB_XLOADFLAGS) & LINUX_XLF_KERNEL_64))
		return errmsg(why, why_len, "no 64-bit entry (xloadflags XLF_KERNEL_64 clear)");
	sects = img[LB_SETUP_SECTS] ? img[LB_SETUP_SECTS] : 4;
	if (sects > LINUX_SETUP_MAX_SECTS)
		return errmsg(why, why_len, "setup_sects %u too large", sects);
	r.setup_len = (sects + 1) * SECTOR;
	if (r.setup_len >= len)
		return errmsg(why, why_len, "no kernel after the %u-byte setup", r.setup_len);
	r.hdr_end = LB_HEADER + img[LB_JUMP + 1];
	if (img[LB_JUMP] != 0xeb || r.hdr_end > r.setup_len ||
	    r.hdr_end > LB_HDR_END_MAX || r.hdr_end < LB_INIT_SIZE + 4)
		return errmsg(why, why_len, "setup header length invalid");
	r.kernel_len = len - r.setup_len;
	syssize = load_le32(img + LB_SYSSIZE);
	sys_bytes = (uint64_t)syssize * 16;
	if (syssize == 0 || sys_bytes > r.kernel_len)
		return errmsg(why, why_len, "syssize (%llu bytes) does not match the file "
			      "(%llu bytes of kernel)", (unsigned long long)sys_bytes,
			      (unsigned long long)r.kernel_len);
	pay_off = load_le32(img + LB_PAYLOAD_OFFSET);
	pay_len = load_le32(img + LB_PAYLOAD_LENGTH);
	if (pay_off > sys_bytes || pay_len > sys_bytes - pay_off)
		return errmsg(why, why_len, "payload outside the kernel");
	r.init_size = load_le32(img + LB_INIT_SIZE);
	if (r.init_size < r.kernel_len)
		return errmsg(why, why_len, "init_size %u smaller than the kernel (%llu bytes)",
			      r.init_size, (unsigned long long)r.kernel_len);
	r.kernel_alignment = load_le32(img + LB_KERNEL_ALIGN);
	if (!pow2(r.kernel_alignment) || r.kernel_alignment < LINUX_ALIGN_MIN ||
	    r.kernel_alignment > LINUX_ALIGN_MAX)
		return errmsg(why, why_len, "kernel_alignment 0x%x not a power of two in "
			      "[4 KiB, 16 MiB]", r.kernel_alignment);
	r.relocatable = img[LB_RELOCATABLE] != 0;
	r.load_gpa = load_le64(img + LB_PREF_ADDRESS);
	if (r.load_gpa < LINUX_HIGH_RAM_START || (r.load_gpa & (r.kernel_alignment - 1)) ||
	    r.load_gpa >= (1ull << 32) || r.init_size > (1ull << 32) - r.load_gpa)
		return errmsg(why, why_len, "pref_address 0x%llx unusable (below 1 MiB, "
			      "unaligned or beyond 4 GiB)", (unsigned long long)r.load_gpa);
	r.cmdline_size = load_le32(img + LB_CMDLINE_SIZE);
	r.initrd_addr_max = load_le32(img + LB_INITRD_ADDR_MAX);
	if (out)
		*out = r;
	return 0;
}

int linux_cmdline_check(const char *cmdline, size_t cmdline_len, char *why,
			size_t why_len)
{
	if (why && why_len)
		why[0] = '\0';
	if (cmdline_len == 0)
		return 0;
	if (!cmdline || cmdline_len > LINUX_CMDLINE_MAX)
		return errmsg(why, why_len, "command line too long (%zu bytes, at most %u "
			      "with the NUL)", cmdline_len, LINUX_CMDLINE_MAX);
	for (size_t i = 0; i + 1 < cmdline_len; i++)
		if (cmdline[i] == '\0')
			return errmsg(why, why_len, "command line not one NUL-terminated string");
	if (cmdline[cmdline_len - 1] != '\0')
		return errmsg(why, why_len, "command line not one NUL-terminated string");
	return 0;
}

int linux_plan(const uint8_t *img, size_t img_len, uint64_t mem_size,
	       uint64_t initrd_len, const char *cmdline, size_t cmdline_len,
	       struct linux_layout *out, char *why, size_t why_len)
{
	struct linux_layout l;
	uint64_t top, kernel_end;

	memset(&l, 0, sizeof(l));
	if (linux_image_parse(img, img_len, &l.img, why, why_len) ||
	    linux_cmdline_check(cmdline, cmdline_len, why, why_len))
		return -1;
	if (mem_size < GUEST_MEM_MIN || mem_size > GUEST_MEM_MAX ||
	    mem_size % GUEST_MEM_ALIGN)
		return errmsg(why, why_len, "memory size invalid");
	if (cmdline_len > 1 && cmdline_len - 1 > l.img.cmdline_size)
		return errmsg(why, why_len, "command line longer than the kernel's "
			      "cmdline_size (%u)", l.img.cmdline_size);
	kernel_end = l.img.load_gpa + l.img.init_size;
	top = mem_size;
	if (initrd_len) {
		uint64_t limit = (uint64_t)l.img.initrd_addr_max + 1;

		if (limit < top)
			top = limit;
		if (initrd_len > top)
			return errmsg(why, why_len, "initrd (%llu bytes) does not fit below "
				      "0x%llx", (unsigned long long)initrd_len,
				      (unsigned long long)top);
		l.initrd_gpa = (top - initrd_len) & ~(uint64_t)PAGE_MASK;
		l.initrd_len = initrd_len;
		top = l.initrd_gpa;
	}
	if (kernel_end > top)
		return errmsg(why, why_len, "does not fit in %llu MiB: the kernel needs "
			      "[0x%llx, 0x%llx)%s", (unsigned long long)(mem_size >> 20),
			      (unsigned long long)l.img.load_gpa,
			      (unsigned long long)kernel_end,
			      initrd_len ? " below the initrd" : "");
	l.mem_size = mem_size;
	l.cmdline_len = cmdline_len;
	l.entry = l.img.load_gpa + LINUX_ENTRY_64;
	if (out)
		*out = l;
	return 0;
}

static void e820_entry(uint8_t *e, uint64_t addr, uint64_t size, uint32_t type)
{
	store_le64(e, addr);
	store_le64(e + 8, size);
	store_le32(e + 16, type);
}

void linux_e820(uint64_t mem_size, uint8_t zp[LINUX_ZERO_PAGE_SIZE])
{
	uint8_t *t = zp + LB_E820_TABLE;

	e820_entry(t, 0, LINUX_LOW_RAM_END, LINUX_E820_RAM);
	e820_entry(t + 20, LINUX_LOW_RAM_END, LINUX_HIGH_RAM_START - LINUX_LOW_RAM_END,
		   LINUX_E820_RESERVED);
	e820_entry(t + 40, LINUX_HIGH_RAM_START, mem_size - LINUX_HIGH_RAM_START,
		   LINUX_E820_RAM);
	zp[LB_E820_ENTRIES] = LINUX_E820_MAX;
}

void linux_zero_page(const uint8_t *img, const struct linux_layout *l,
		     uint8_t zp[LINUX_ZERO_PAGE_SIZE])
{
	uint64_t cmd = l->cmdline_len ? LINUX_CMDLINE_GPA : 0;

	memset(zp, 0, LINUX_ZERO_PAGE_SIZE);
	memcpy(zp + LB_SETUP_SECTS, img + LB_SETUP_SECTS, l->img.hdr_end - LB_SETUP_SECTS);
	zp[LB_TYPE_OF_LOADER] = 0xff;
	zp[LB_LOADFLAGS] = (uint8_t)((zp[LB_LOADFLAGS] | LINUX_LOADED_HIGH) &
				     ~LINUX_CAN_USE_HEAP);
	store_le16(zp + LB_HEAP_END_PTR, 0);
	store_le64(zp + LB_SETUP_DATA, 0);
	store_le32(zp + LB_CMD_LINE_PTR, (uint32_t)cmd);
	store_le32(zp + LB_EXT_CMD_LINE_PTR, (uint32_t)(cmd >> 32));
	store_le32(zp + LB_RAMDISK_IMAGE, (uint32_t)l->initrd_gpa);
	store_le32(zp + LB_EXT_RAMDISK_IMAGE, (uint32_t)(l->initrd_gpa >> 32));
	store_le32(zp + LB_RAMDISK_SIZE, (uint32_t)l->initrd_len);
	store_le32(zp + LB_EXT_RAMDISK_SIZE, (uint32_t)(l->initrd_len >> 32));
	linux_e820(l->mem_size, zp);
}

void linux_gdt(uint8_t gdt[LINUX_GDT_LIMIT + 1])
{
	memset(gdt, 0, LINUX_GDT_LIMIT + 1);
	store_le64(gdt + LINUX_BOOT_CS, GDT_CODE64);
	store_le64(gdt + LINUX_BOOT_DS, GDT_DATA);
}
