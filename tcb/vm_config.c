#include "tcb/vm_config.h"
#include "tcb/errmsg.h"
#include "boot/multiboot2.h"
#include <custos/guest_abi.h>

#include <string.h>

bool vm_config_is_vm_module(const char *name)
{
	size_t n = strlen(VM_MODULE_PREFIX);

	return strncmp(name, VM_MODULE_PREFIX, n) == 0 && name[n] != '\0';
}

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-';
}

/* Decimal with an optional K/M/G suffix; false on anything else or overflow. */
static bool parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (!s[0])
		return false;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0)
		return false;
	unsigned shift = 0;
	if (s[i] == 'K')
		shift = 10;
	else if (s[i] == 'M')
		shift = 20;
	else if (s[i] == 'G')
		shift = 30;
	else if (s[i] != '\0')
		return false;
	if (shift && s[i + 1] != '\0')
		return false;
	if (v > (UINT64_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

static int parse_name(const char *cmdline, struct vm_config *out, size_t *end,
		      char *err, size_t err_len)
{
	size_t plen = strlen(VM_MODULE_PREFIX), i = plen, n = 0;

	if (strncmp(cmdline, VM_MODULE_PREFIX, plen) != 0)
		return errmsg(err, err_len, "module name does not start with \"vm.\"");
	for (; cmdline[i] && cmdline[i] != ' ' && cmdline[i] != '\t'; i++, n++) {
		if (!name_char_ok(cmdline[i]))
			return errmsg(err, err_len, "VM name may only use a-z 0-9 _ -");
		if (n == VM_NAME_MAX - 1)
			return errmsg(err, err_len, "VM name too long");
		out->name[n] = cmdline[i];
	}
	if (n == 0)
		return errmsg(err, err_len, "VM name is empty");
	*end = i;
	return 0;
}

int vm_config_parse(const char *cmdline, struct vm_config *out, char *err,
		    size_t err_len)
{
	char mem[24];
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	if (!cmdline)
		return errmsg(err, err_len, "no command line");
	if (parse_name(cmdline, out, &i, err, err_len))
		return -1;
	while (cmdline[i] == ' ' || cmdline[i] == '\t')
		i++;
	if (strlen(cmdline + i) >= VM_ARGS_MAX)
		return errmsg(err, err_len, "VM arguments too long");
	memcpy(out->args, cmdline + i, strlen(cmdline + i) + 1);

	out->mem_size = VM_DEFAULT_MEM;
	/* A mem= that is present but too long to copy is refused like any
	 * other malformed size, never taken as "no mem= given". */
	if (mb2_cmdline_get(out->args, "mem", NULL, 0) &&
	    (!mb2_cmdline_get(out->args, "mem", mem, sizeof(mem)) ||
	     !parse_size(mem, &out->mem_size)))
		return errmsg(err, err_len, "mem= is not a size (digits, then K, M or G)");
	if (out->mem_size % GUEST_MEM_ALIGN || out->mem_size < GUEST_MEM_MIN ||
	    out->mem_size > GUEST_MEM_MAX)
		return errmsg(err, err_len, "mem= must be a multiple of 2M from 2M to 1G");
	return 0;
}
