#include "tcb/errmsg.h"

#include <stdio.h>
#include <string.h>

static void sanitize(char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s >= 0x7f)
			*s = '?';
}

static int vformat_at(char *err, size_t err_len, size_t at, const char *fmt,
		      va_list ap)
{
	if (!err || !err_len)
		return -1;
	if (at < err_len)
		vsnprintf(err + at, err_len - at, fmt, ap);
	sanitize(err);
	return -1;
}

int errmsg(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat_at(err, err_len, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int errmsg_vappend(char *err, size_t err_len, const char *fmt, va_list ap)
{
	return vformat_at(err, err_len, err && err_len ? strnlen(err, err_len) : 0,
			  fmt, ap);
}
