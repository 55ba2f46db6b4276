/*
 * Console output through the virtual 16550 at COM1 (guest_abi.h): each byte
 * written to the data port is appended to this VM's console ring. The LSR
 * always reads ready under Custos; polling it (a bounded number of times)
 * keeps the code correct on a real or emulated UART too.
 */
#include <stdarg.h>
#include <stdio.h>
#include "guests/runtime/guest.h"

#define LSR_POLL_LIMIT 100000

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

void con_putc(char c)
{
	for (int i = 0; i < LSR_POLL_LIMIT; i++)
		if ((inb(GUEST_COM1_LSR) & GUEST_COM1_LSR_READY) ==
		    GUEST_COM1_LSR_READY)
			break;
	outb(GUEST_COM1_DATA, (uint8_t)c);
}

void con_write(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		con_putc(s[i]);
}

void con_printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	con_write(buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}
