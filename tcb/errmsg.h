/*
 * One-line error messages from parsers of untrusted input. The message may
 * quote the input (a command line, a name), so control and non-ASCII bytes
 * are replaced by '?': an error stays one harmless line in the log.
 */
#ifndef CUSTOS_TCB_ERRMSG_H
#define CUSTOS_TCB_ERRMSG_H

#include <stdarg.h>
#include <custos/types.h>

/* Format into err (when err and err_len allow) and return -1, so a parser
 * can say "return errmsg(err, err_len, ...)". */
int errmsg(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The same, appending to what err already holds (messages built in steps). */
int errmsg_vappend(char *err, size_t err_len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#endif
