/* The hypervisor's own log: COM1, for the operator. Never guest data. */
#ifndef CUSTOS_HV_CONSOLE_H
#define CUSTOS_HV_CONSOLE_H

#include <custos/types.h>

void console_init(void);
void console_write(const char *s, size_t n);
/* From now on lines wait in a ring for the UART (hv/console.c): called
 * when VMs start to run, so that no exit waits for the operator's line. */
void console_buffer_start(void);
/* Hand the UART what it takes now, without waiting (after exits, idle). */
void console_drain(void);
/* Write out everything the ring holds, waiting for the UART, and stop
 * buffering: the platform is about to power off. */
void console_flush(void);
void console_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "measure: WHAT sha384:HEX", the operator's copy of a measurement (a
 * digest is no secret). */
void console_log_measurement(const char *what, const uint8_t digest[48]);

#endif
