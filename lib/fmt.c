/*
 * vsnprintf for the freestanding world. Supports what our code uses:
 * %d %i %u %x %X %p %s %c %%, the flags '0', '-' and '#' (0x prefix), a
 * field width and a precision for %s (each a number or '*'), and the length
 * modifiers hh h l ll z. Always
 * NUL-terminates when size > 0 and returns the length that would have been
 * written, as C99 does.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdbool.h>

struct out {
	char *buf;
	size_t size;
	size_t len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

struct spec {
	bool left;
	bool zero;
	bool alt;
	int width;
	int precision; /* -1: none */
	int length;    /* 0 int, 1 long, 2 long long/size_t, -1 short, -2 char */
};

static void put_number(struct out *o, uint64_t v, bool negative,
		       unsigned base, bool upper, const struct spec *sp)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	int len = n + (negative ? 1 : 0);
	if (!sp->left && !sp->zero)
		pad(o, ' ', sp->width - len);
	if (negative)
		put(o, '-');
	if (!sp->left && sp->zero)
		pad(o, '0', sp->width - len);
	while (n)
		put(o, tmp[--n]);
	if (sp->left)
		pad(o, ' ', sp->width - len);
}

static void put_string(struct out *o, const char *s, const struct spec *sp)
{
	int len = 0;

	if (!s)
		s = "(null)";
	while (s[len] && (sp->precision < 0 || len < sp->precision))
		len++;
	if (!sp->left)
		pad(o, ' ', sp->width - len);
	for (int i = 0; i < len; i++)
		put(o, s[i]);
	if (sp->left)
		pad(o, ' ', sp->width - len);
}

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
	*sp = (struct spec){ .precision = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '#')
			sp->alt = true;
		else
			break;
	}
	if (*f == '*') {
		sp->width = va_arg(*ap, int);
		f++;
	}
	while (*f >= '0' && *f <= '9')
		sp->width = sp->width * 10 + (*f++ - '0');
	if (*f == '.') {
		f++;
		sp->precision = 0;
		if (*f == '*') {
			sp->precision = va_arg(*ap, int);
			if (sp->precision < 0)
				sp->precision = -1; /* C11: as if omitted */
			f++;
		}
		while (*f >= '0' && *f <= '9')
			sp->precision = sp->precision * 10 + (*f++ - '0');
	}
	for (;; f++) {
		if (*f == 'l' || *f == 'z')
			sp->length += (*f == 'z') ? 2 : 1;
		else if (*f == 'h')
			sp->length -= 1;
		else
			break;
	}
	return f;
}

static uint64_t arg_unsigned(const struct spec *sp, va_list *ap)
{
	if (sp->length >= 2)
		return va_arg(*ap, unsigned long long);
	if (sp->length == 1)
		return va_arg(*ap, unsigned long);
	unsigned v = va_arg(*ap, unsigned);
	if (sp->length == -1)
		return (unsigned short)v;
	if (sp->length <= -2)
		return (unsigned char)v;
	return v;
}

static int64_t arg_signed(const struct spec *sp, va_list *ap)
{
	if (sp->length >= 2)
		return va_arg(*ap, long long);
	if (sp->length == 1)
		return va_arg(*ap, long);
	int v = va_arg(*ap, int);
	if (sp->length == -1)
		return (short)v;
	if (sp->length <= -2)
		return (signed char)v;
	return v;
}

static void format_one(struct out *o, char conv, struct spec *sp, va_list *ap)
{
	switch (conv) {
	case 'd':
	case 'i': {
		int64_t v = arg_signed(sp, ap);
		uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
		put_number(o, mag, v < 0, 10, false, sp);
		break;
	}
	case 'u':
		put_number(o, arg_unsigned(sp, ap), false, 10, false, sp);
		break;
	case 'x':
	case 'X':
		if (sp->alt) {
			put(o, '0');
			put(o, conv);
		}
		put_number(o, arg_unsigned(sp, ap), false, 16, conv == 'X', sp);
		break;
	case 'p':
		put(o, '0');
		put(o, 'x');
		put_number(o, (uintptr_t)va_arg(*ap, void *), false, 16, false, sp);
		break;
	case 's':
		put_string(o, va_arg(*ap, const char *), sp);
		break;
	case 'c':
		put(o, (char)va_arg(*ap, int));
		break;
	case '%':
		put(o, '%');
		break;
	default: /* unknown conversion: show it rather than guess */
		put(o, '%');
		put(o, conv);
		break;
	}
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };
	va_list args;

	va_copy(args, ap);
	while (*fmt) {
		if (*fmt != '%') {
			put(&o, *fmt++);
			continue;
		}
		struct spec sp;
		fmt = parse_spec(fmt + 1, &sp, &args);
		if (!*fmt)
			break;
		format_one(&o, *fmt++, &sp, &args);
	}
	va_end(args);
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
