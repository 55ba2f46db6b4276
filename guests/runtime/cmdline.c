/*
 * bi->cmdline is a list of words separated by spaces, each "key=value"
 * (e.g. "rounds=10 every=2 targets=0x100000,0x2000000"). Numbers are decimal
 * or 0x-prefixed hex. The field is fixed-size: never read past it.
 */
#include <string.h>
#include "guests/runtime/guest.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

bool cmdline_get(const struct custos_boot_info *bi, const char *key,
		 char *val, size_t val_len)
{
	const char *s = bi->cmdline;
	size_t len = strnlen(s, sizeof(bi->cmdline));
	size_t klen = strlen(key);
	size_t i = 0;

	while (i < len) {
		while (i < len && is_space(s[i]))
			i++;
		size_t start = i;
		while (i < len && !is_space(s[i]))
			i++;
		if (i - start > klen && strncmp(s + start, key, klen) == 0 &&
		    s[start + klen] == '=') {
			size_t n = i - start - klen - 1;
			if (val_len == 0)
				return true;
			if (n > val_len - 1)
				n = val_len - 1;
			memcpy(val, s + start + klen + 1, n);
			val[n] = '\0';
			return true;
		}
	}
	return false;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

bool parse_u64(const char **s, uint64_t *out)
{
	const char *p = *s;
	unsigned base = 10;
	uint64_t v = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	if (digit_value(*p) >= (int)base)
		return false;
	for (; digit_value(*p) < (int)base; p++) {
		unsigned d = (unsigned)digit_value(*p);
		if (v > (UINT64_MAX - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	*s = p;
	return true;
}

static void bad_value(const char *key, uint64_t dflt)
{
	con_printf("%s: bad value for %s, using %lu\n", guest_prog, key, dflt);
}

uint64_t cmdline_u64(const struct custos_boot_info *bi, const char *key,
		     uint64_t dflt)
{
	char val[64];
	const char *p = val;
	uint64_t v;

	if (!cmdline_get(bi, key, val, sizeof(val)))
		return dflt;
	if (!parse_u64(&p, &v) || *p != '\0') {
		bad_value(key, dflt);
		return dflt;
	}
	return v;
}

size_t cmdline_u64_list(const struct custos_boot_info *bi, const char *key,
			uint64_t *out, size_t max)
{
	char val[256];
	const char *p = val;
	size_t n = 0;

	if (!cmdline_get(bi, key, val, sizeof(val)))
		return 0;
	while (n < max && *p) {
		if (!parse_u64(&p, &out[n]) || (*p != ',' && *p != '\0')) {
			con_printf("%s: bad value in %s at '%s'\n", guest_prog,
				   key, p);
			break;
		}
		n++;
		if (*p == ',')
			p++;
	}
	return n;
}
