/*
 * libFuzzer target for the Multiboot2 boot information parser.
 *
 * The whole input is the boot information (buf_len = size), parsed from an
 * odd address so any aligned-load assumption shows up under UBSan. When it
 * parses, the result is checked for the invariants the parser promises and
 * fed to the other entry points: the last 16 input bytes (which lie after the
 * end tag, or inside ignored tags, so the fuzzer can vary them freely) give
 * the hypervisor image bounds, module names and command-line words give the
 * lookup keys, and the last byte gives the value buffer size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "boot/memmap.h"
#include "boot/modules.h"
#include "boot/multiboot2.h"
#include "fuzz_util.h"

static struct mb2_info info; /* ~10 KiB: kept off the stack */
static struct mmio_list mmio;
static struct phys_range usable[MEMMAP_MAX_RANGES];
static size_t refusals;

static uint64_t load_tail_u64(const uint8_t *data, size_t size, size_t back)
{
	uint64_t v = 0;

	if (size < back)
		return 0;
	memcpy(&v, data + size - back, sizeof(v));
	return v;
}

static void check_invariants(void)
{
	require(info.mmap_count <= MB2_MAX_MMAP);
	for (size_t i = 0; i < info.mmap_count; i++)
		require(info.mmap[i].len != 0 &&
			info.mmap[i].len <= UINT64_MAX - info.mmap[i].base);
	require(info.module_count <= MB2_MAX_MODULES);
	for (size_t i = 0; i < info.module_count; i++) {
		const struct mb2_module *m = &info.modules[i];

		require(m->start <= m->end);
		require(memchr(m->cmdline, 0, sizeof(m->cmdline)) != NULL);
		require(memchr(m->name, 0, sizeof(m->name)) != NULL);
		require(strstr(m->cmdline, m->name) != NULL);
	}
	require(memchr(info.cmdline, 0, sizeof(info.cmdline)) != NULL);
	require(info.rsdp_version >= 0 && info.rsdp_version <= 2);
	require(info.rsdp_len <= MB2_MAX_RSDP);
}

static uint64_t span_end(uint64_t base, uint64_t len)
{
	return len > UINT64_MAX - base ? UINT64_MAX : base + len;
}

static bool overlaps(uint64_t a, uint64_t a_end, uint64_t b, uint64_t b_end)
{
	return a < b_end && b < a_end;
}

/* Is [lo, hi) covered by the union of the available map entries? */
static bool in_available(uint64_t lo, uint64_t hi)
{
	for (bool moved = true; lo < hi && moved;) {
		moved = false;
		for (size_t i = 0; i < info.mmap_count; i++) {
			const struct mb2_mmap_entry *e = &info.mmap[i];
			uint64_t end = span_end(e->base, e->len);

			if (e->type == MB2_MEM_AVAILABLE && e->base <= lo && lo < end) {
				lo = end;
				moved = true;
			}
		}
	}
	return lo >= hi;
}

/* Usable RAM: sorted, disjoint, whole frames, available, never anything else. */
static void check_usable(size_t n)
{
	require(n <= MEMMAP_MAX_RANGES);
	for (size_t i = 0; i < n; i++) {
		uint64_t lo = usable[i].base, hi = lo + usable[i].len;

		require(usable[i].len != 0 && hi > lo);
		require(((lo | hi) & PAGE_MASK) == 0);
		require(i == 0 || span_end(usable[i - 1].base, usable[i - 1].len) < lo);
		require(in_available(lo, hi));
		require(!platform_mmio_overlap(&mmio, lo, hi));
		for (size_t j = 0; j < info.mmap_count; j++)
			require(info.mmap[j].type == MB2_MEM_AVAILABLE ||
				!overlaps(lo, hi, info.mmap[j].base,
					  span_end(info.mmap[j].base, info.mmap[j].len)));
	}
}

static void count_refusal(void *ctx, const char *reason)
{
	(void)ctx;
	require(reason[0] != '\0');
	refusals++;
}

/* A kept module: named uniquely, in one usable range, sharing no frame. */
static void check_kept(size_t n_usable, uint64_t img_lo, uint64_t img_hi)
{
	for (size_t i = 0; i < info.module_count; i++) {
		const struct mb2_module *m = &info.modules[i];
		uint64_t lo = m->start & ~PAGE_MASK, hi = (m->end + PAGE_MASK) & ~PAGE_MASK;
		bool inside = false;

		require(m->name[0] != '\0' && m->start < m->end);
		require(!overlaps(lo, hi, img_lo & ~PAGE_MASK, img_hi));
		require(m->start >= MEMMAP_LOW_END || m->end <= MMIO_LEGACY_HOLE);
		for (size_t j = 0; j < n_usable; j++)
			inside |= usable[j].base <= lo &&
				  hi <= usable[j].base + usable[j].len;
		require(inside);
		for (size_t j = 0; j < i; j++) {
			const struct mb2_module *o = &info.modules[j];

			require(strcmp(o->name, m->name) != 0);
			require(!overlaps(lo, hi, o->start & ~PAGE_MASK,
					  (o->end + PAGE_MASK) & ~PAGE_MASK));
		}
	}
}

/* The carve and the screening, as the boot runs them. */
static void check_boot_env(const uint8_t *data, size_t size)
{
	uint64_t img_lo = load_tail_u64(data, size, 16);
	uint64_t img_hi = load_tail_u64(data, size, 8);
	size_t before = info.module_count, n;

	platform_mmio_build(&mmio, load_tail_u64(data, size, 24), NULL);
	n = memmap_usable(&info, &mmio, usable, NULL, NULL);
	check_usable(n);
	if (img_hi < img_lo || img_hi > UINT64_MAX - PAGE_SIZE)
		return;
	img_hi = (img_hi + PAGE_MASK) & ~PAGE_MASK;
	refusals = 0;
	require(modules_screen(&info, usable, n, &mmio, img_lo, img_hi,
			       count_refusal, NULL) == refusals);
	require(info.module_count + refusals == before);
	check_kept(n, img_lo, img_hi);
}

/* Look 'key' up in 'line' and check the answer is well formed. */
static void lookup(const char *line, const char *key, size_t val_len)
{
	char val[64];

	memset(val, 0x7f, sizeof(val));
	if (mb2_cmdline_get(line, key, val, val_len))
		require(memchr(val, 0, val_len) != NULL);
	else
		require(val[0] == 0x7f); /* a failed lookup writes nothing */
	(void)mb2_cmdline_get(line, key, NULL, 0);
}

/*
 * Use each of the first words of 'line' (up to any '=') as a command-line
 * key and as a module name, neither of which need exist.
 */
static void lookup_words(const char *line, size_t val_len)
{
	const char *p = line;

	for (int n = 0; n < 8 && *p; n++) {
		const struct mb2_module *found;
		char key[64];
		size_t len = 0;

		p += strspn(p, " \t\r\n");
		while (p[len] && !strchr(" \t\r\n=", p[len]) && len < sizeof(key) - 1)
			len++;
		memcpy(key, p, len);
		key[len] = '\0';
		lookup(line, key, val_len);
		found = mb2_find_module(&info, key);
		require(!found || strcmp(found->name, key) == 0);
		p += len;
		p += strcspn(p, " \t\r\n");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t val_len = size ? data[size - 1] % 65 : 0;
	uint8_t *copy = malloc(size + 1);
	char err[160];
	int rc;

	if (!copy)
		return 0;
	memcpy(copy + 1, data, size);
	rc = mb2_parse(copy + 1, size, &info, err, sizeof(err));
	free(copy);
	require(memchr(err, 0, sizeof(err)) != NULL);
	if (rc != 0) {
		require(rc == -1 && err[0] != '\0');
		return 0;
	}
	check_invariants();
	check_boot_env(data, size);

	for (size_t i = 0; i < info.module_count; i++) {
		const struct mb2_module *m = &info.modules[i];
		const struct mb2_module *found = mb2_find_module(&info, m->name);

		require(found != NULL && strcmp(found->name, m->name) == 0);
		lookup(info.cmdline, m->name, val_len);
		lookup_words(m->cmdline, val_len);
	}
	lookup_words(info.cmdline, val_len);
	return 0;
}
