/* The hypervisor's own log: COM1, for the operator. Never guest data. */
#ifndef CUSTOS_HV_CONSOLE_H
#define CUSTOS_HV_CONSOLE_H

#include <custos/types.h>

void console_init(void);
void console_write(const char *s, size_t n);
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
