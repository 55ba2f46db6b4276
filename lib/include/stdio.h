/* Freestanding formatting: snprintf and friends only, no streams.
 * Implemented in lib/fmt.c. */
#ifndef CUSTOS_LIB_STDIO_H
#define CUSTOS_LIB_STDIO_H

#include <stdarg.h>
#include <stddef.h>

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
