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

#include "boot/multiboot2.h"
#include "fuzz_util.h"

static struct mb2_info info; /* ~10 KiB: kept off the stack */

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

	if (mb2_check_modules(&info, load_tail_u64(data, size, 16),
			      load_tail_u64(data, size, 8), err, sizeof(err)))
		require(err[0] != '\0');
	require(memchr(err, 0, sizeof(err)) != NULL);

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
