/*
 * COM1 driver (a 16550 UART) and formatted output on top of it.
 * Output is polled: the hypervisor never takes interrupts of its own.
 */
#include "hv/console.h"
#include "hv/boot_defs.h"
#include "hv/cpu.h"
#include "tcb/hex.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum uart_reg {
	UART_DATA = 0,       /* THR on write, DLL when DLAB=1 */
	UART_IER = 1,        /* DLM when DLAB=1 */
	UART_FCR = 2,
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
};

#define LSR_THR_EMPTY 0x20
#define LCR_DLAB      0x80
#define LCR_8N1       0x03

/* A missing or wedged UART must not hang the hypervisor: give up on a
 * character after this many polls. */
#define UART_POLL_LIMIT 100000

void console_init(void)
{
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, LCR_DLAB);
	outb(COM1_PORT + UART_DATA, 1); /* divisor 1: 115200 baud */
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, LCR_8N1);
	outb(COM1_PORT + UART_FCR, 0x07); /* enable and clear FIFOs */
	outb(COM1_PORT + UART_MCR, 0x03); /* DTR, RTS */
}

static void uart_putc(char c)
{
	for (int i = 0; i < UART_POLL_LIMIT; i++)
		if (inb(COM1_PORT + UART_LSR) & LSR_THR_EMPTY)
			break;
	outb(COM1_PORT + UART_DATA, (uint8_t)c);
}

void console_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

void console_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf)) {
		/* Never cut a line silently: mark the cut. */
		n = sizeof(buf) - 1;
		memcpy(buf + n - 6, "[...]\n", 6);
	}
	console_write(buf, (size_t)n);
}

void console_log_measurement(const char *what, const uint8_t digest[48])
{
	char hex[2 * 48 + 1];

	hex_encode(digest, 48, hex);
	console_printf("measure: %s sha384:%s\n", what, hex);
}
