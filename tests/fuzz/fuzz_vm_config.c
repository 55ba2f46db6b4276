/*
 * libFuzzer target for vm_config_parse() (tcb/vm_config.c).
 *
 * The input, NUL-terminated, is the module command line. The parser must
 * never crash or read past the NUL (ASan), and its answer is compared with a
 * small reference implementation of the grammar documented in
 * tcb/vm_config.h: "vm.NAME [mem=SIZE] [ARGS...]", NAME 1..VM_NAME_MAX-1
 * of [a-z0-9_-], ARGS everything after the first word and its blanks
 * (shorter than VM_ARGS_MAX), SIZE the last mem= word of ARGS (command-line
 * rules: words split at space, tab, CR, LF), decimal digits with an optional
 * K/M/G, a multiple of 2 MiB in [2 MiB, 1 GiB], default 4 MiB. A success is
 * also checked on its own terms (name charset and length, size, args
 * length). Any disagreement aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/vm_config.h"
#include <custos/guest_abi.h>

#define CHECK(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__); \
			abort(); \
		} \
	} while (0)

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* SIZE in bytes, or false; values far above 1 GiB saturate (all refused). */
static bool ref_size(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0, unit = 1;
	size_t i = 0;

	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > (1ull << 40))
			v = 1ull << 40;
	}
	if (i == 0)
		return false;
	if (i + 1 == len) {
		if (s[i] == 'K')
			unit = 1ull << 10;
		else if (s[i] == 'M')
			unit = 1ull << 20;
		else if (s[i] == 'G')
			unit = 1ull << 30;
		else
			return false;
	} else if (i != len) {
		return false;
	}
	{
		unsigned __int128 bytes = (unsigned __int128)v * unit;

		*out = bytes > (1ull << 40) ? UINT64_MAX : (uint64_t)bytes;
	}
	return true;
}

/* Characters of a mem= value vm_config.c has room for (its buffer is 24). */
#define MEM_VALUE_ROOM 23
static size_t ref_mem_value_len; /* of the last mem= word, 0 if none */

/* The reference parser: 0 and *cfg, or -1. */
static int ref_parse(const char *s, struct vm_config *cfg)
{
	size_t i = 3, n = 0;
	const char *args, *val = NULL;
	size_t val_len = 0;
	uint64_t mem = VM_DEFAULT_MEM;

	memset(cfg, 0, sizeof(*cfg));
	ref_mem_value_len = 0;
	if (strncmp(s, "vm.", 3) != 0)
		return -1;
	for (; s[i] && s[i] != ' ' && s[i] != '\t'; i++, n++) {
		if (!name_char(s[i]) || n == VM_NAME_MAX - 1)
			return -1;
		cfg->name[n] = s[i];
	}
	if (n == 0)
		return -1;
	while (s[i] == ' ' || s[i] == '\t')
		i++;
	args = s + i;
	if (strlen(args) >= VM_ARGS_MAX)
		return -1;
	memcpy(cfg->args, args, strlen(args) + 1);

	for (const char *w = args; *w;) {
		size_t len = 0;

		while (blank(*w))
			w++;
		while (w[len] && !blank(w[len]))
			len++;
		if (len >= 3 && memcmp(w, "mem", 3) == 0 &&
		    (len == 3 || w[3] == '=')) {
			val = len == 3 ? w + 3 : w + 4;
			val_len = len == 3 ? 0 : len - 4;
		}
		w += len;
	}
	ref_mem_value_len = val ? val_len : 0;
	if (val && !ref_size(val, val_len, &mem))
		return -1;
	if (mem % GUEST_MEM_ALIGN || mem < GUEST_MEM_MIN || mem > GUEST_MEM_MAX)
		return -1;
	cfg->mem_size = mem;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	struct vm_config cfg, ref;
	char err[64];
	int rc, ref_rc;

	CHECK(line != NULL);
	memcpy(line, data, size);
	line[size] = '\0';

	memset(&cfg, 0x5a, sizeof(cfg));
	memset(err, 0, sizeof(err));
	rc = vm_config_parse(line, &cfg, err, sizeof(err));
	CHECK(rc == 0 || rc == -1);
	if (rc == 0) {
		size_t n = strnlen(cfg.name, VM_NAME_MAX);

		CHECK(n >= 1 && n <= VM_NAME_MAX - 1);
		for (size_t i = 0; i < n; i++)
			CHECK(name_char(cfg.name[i]));
		CHECK(cfg.mem_size % GUEST_MEM_ALIGN == 0);
		CHECK(cfg.mem_size >= GUEST_MEM_MIN);
		CHECK(cfg.mem_size <= GUEST_MEM_MAX);
		CHECK(strnlen(cfg.args, VM_ARGS_MAX) < VM_ARGS_MAX);
		/* The arguments are the verbatim tail of the line. */
		CHECK(strlen(line) >= strlen(cfg.args));
		CHECK(strcmp(line + strlen(line) - strlen(cfg.args), cfg.args) == 0);
	} else {
		CHECK(err[0] != '\0');
		CHECK(strnlen(err, sizeof(err)) < sizeof(err));
	}

	ref_rc = ref_parse(line, &ref);
	/* The parser may refuse a well-formed mem= value it has no room for
	 * (more than MEM_VALUE_ROOM characters); it may not use another size. */
	if (rc == -1 && ref_rc == 0 && ref_mem_value_len > MEM_VALUE_ROOM)
		ref_rc = -1;
	if (rc != ref_rc) {
		fprintf(stderr, "vm_config_parse -> %d (%s), reference -> %d\n",
			rc, rc ? err : "ok", ref_rc);
		abort();
	}
	if (rc == 0) {
		CHECK(memcmp(cfg.name, ref.name, sizeof(ref.name)) == 0);
		CHECK(cfg.mem_size == ref.mem_size);
		CHECK(strcmp(cfg.args, ref.args) == 0);
	}

	/* A line the parser accepts is also a VM module name. */
	if (rc == 0)
		CHECK(vm_config_is_vm_module(line));

	free(line);
	return 0;
}
