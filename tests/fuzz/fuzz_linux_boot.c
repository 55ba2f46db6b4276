/*
 * libFuzzer target for the Linux bzImage checks and the zero page
 * (tcb/linux_boot.c).
 *
 * The whole input is the image, parsed from an odd address out of a heap
 * block of exactly its length (ASan/UBSan catch an overread or an aligned
 * load). When it parses, what it returns is re-derived from the raw bytes
 * and checked; then it is planned into a few memory sizes with an initrd
 * length and a command line taken from the input's last bytes, and when a
 * plan succeeds the zero page is built (in a block of exactly 4 KiB) and
 * checked against the plan: nothing outside guest memory, the kernel
 * below the initrd, the header copied. Any violation aborts.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/linux_boot.h"
#include "fuzz_util.h"

static void check_image(const uint8_t *d, size_t size, const struct linux_image *r)
{
	unsigned sects = d[0x1f1] ? d[0x1f1] : 4;

	require(size >= 1024 && memcmp(d + 0x202, "HdrS", 4) == 0);
	require(le(d + 0x1fe, 2) == 0xaa55);
	require(r->version == le(d + 0x206, 2) && r->version >= 0x020c);
	require(le(d + 0x236, 2) & 1);
	require(r->setup_len == (sects + 1) * 512 && r->setup_len < size);
	require(r->kernel_len == size - r->setup_len);
	require(r->hdr_end <= r->setup_len && r->hdr_end <= 0x290 && r->hdr_end >= 0x264);
	require(le(d + 0x1f4, 4) != 0 && le(d + 0x1f4, 4) * 16 <= r->kernel_len);
	require(r->init_size >= r->kernel_len);
	require(r->load_gpa >= 0x100000 && r->load_gpa + r->init_size <= (1ull << 32));
	require((r->load_gpa & (r->kernel_alignment - 1)) == 0);
	require(r->kernel_alignment >= 4096 && r->kernel_alignment <= (16u << 20) &&
		!(r->kernel_alignment & (r->kernel_alignment - 1)));
}

static void plan_one(const uint8_t *img, size_t size, uint64_t mem,
		     uint64_t initrd_len, const char *cmd, size_t cmd_len)
{
	struct linux_layout l;
	char why[128];
	uint8_t *zp;

	memset(why, 'x', sizeof(why));
	if (linux_plan(img, size, mem, initrd_len, cmd, cmd_len, &l, why, sizeof(why))) {
		require(memchr(why, 0, sizeof(why)) && why[0]);
		return;
	}
	require(l.mem_size == mem && l.entry == l.img.load_gpa + 0x200);
	require(l.img.load_gpa + l.img.init_size <= mem);
	if (initrd_len) {
		require(l.initrd_len == initrd_len && (l.initrd_gpa & 0xfff) == 0);
		require(l.img.load_gpa + l.img.init_size <= l.initrd_gpa);
		require(l.initrd_gpa + initrd_len <= mem);
		require(l.initrd_gpa + initrd_len - 1 <= l.img.initrd_addr_max);
	} else {
		require(l.initrd_gpa == 0 && l.initrd_len == 0);
	}
	require(cmd_len <= LINUX_CMDLINE_MAX);
	zp = malloc(LINUX_ZERO_PAGE_SIZE);
	if (!zp)
		return;
	linux_zero_page(img, &l, zp);
	require(memcmp(zp + 0x202, "HdrS", 4) == 0);
	require(zp[0x210] == 0xff && (zp[0x211] & 0x81) == 0x01);
	require(le(zp + 0x218, 4) == l.initrd_gpa && le(zp + 0x21c, 4) == initrd_len);
	require(le(zp + 0x228, 4) == (cmd_len ? LINUX_CMDLINE_GPA : 0));
	require(zp[0x1e8] == 3);
	for (size_t i = l.img.hdr_end; i < 0x2d0; i++)
		require(zp[i] == 0);
	free(zp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *block = malloc(size + 1);
	struct linux_image r;
	char why[64], cmd[64];
	uint64_t initrd_len = size >= 4 ? le(data + size - 4, 4) : 0;
	size_t cmd_len = size >= 5 ? data[size - 5] % sizeof(cmd) : 0;
	const uint8_t *img;

	if (!block)
		return 0;
	memcpy(block + 1, data, size);
	img = block + 1;
	if (linux_image_parse(img, size, &r, why, sizeof(why)) == 0)
		check_image(img, size, &r);
	else
		require(why[0] != '\0');
	/* a command line from the input's tail: NUL-terminated or not */
	memset(cmd, 'a', sizeof(cmd));
	if (cmd_len && size >= 6 && (data[size - 6] & 1))
		cmd[cmd_len - 1] = '\0';
	plan_one(img, size, 64ull << 20, 0, NULL, 0);
	plan_one(img, size, 256ull << 20, initrd_len, cmd, cmd_len);
	plan_one(img, size, 1ull << 30, initrd_len, cmd, cmd_len);
	plan_one(img, size, 2ull << 20, initrd_len & 0xffff, NULL, 0);
	free(block);
	return 0;
}
