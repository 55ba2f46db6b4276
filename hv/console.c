/*
 * COM1 driver (a 16550 UART) and formatted output on top of it.
 *
 * Output is polled: the hypervisor never takes interrupts of its own. At
 * 115200 baud a character takes 87 us, so a line written straight to the
 * UART from inside a VM exit would stall that VM for milliseconds. Once VMs
 * run (console_buffer_start), lines go to a ring instead, and the ring is
 * drained without waiting: after each VM exit and while the CPU idles, as
 * many bytes as the UART takes right now (its FIFO when it is empty). A
 * full ring drops the new text whole and says so once room comes back
 * ("[console: N bytes dropped]"); nothing waits for the operator's line.
 * Power off and the exception path write everything left before the
 * platform goes (console_flush).
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
	UART_FCR = 2,        /* IIR on read */
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
};

#define LSR_THR_EMPTY 0x20
#define LCR_DLAB      0x80
#define LCR_8N1       0x03
#define IIR_FIFOS_ON  0xc0 /* both bits: a 16550A's working FIFOs */
#define UART_FIFO_LEN 16

/* A missing or wedged UART must not hang the hypervisor: give up on a
 * character after this many polls. */
#define UART_POLL_LIMIT 100000

/* Room for about 22 s of output at 115200 baud. */
#define RING_SIZE (256u << 10)

static char ring[RING_SIZE];
static uint64_t ring_head, ring_tail; /* bytes ever put in, ever sent */
static uint64_t dropped;              /* bytes not taken since the last note */
static bool buffered;
static unsigned burst = 1;            /* bytes the UART takes when empty */

void console_init(void)
{
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, LCR_DLAB);
	outb(COM1_PORT + UART_DATA, 1); /* divisor 1: 115200 baud */
	outb(COM1_PORT + UART_IER, 0);
	outb(COM1_PORT + UART_LCR, LCR_8N1);
	outb(COM1_PORT + UART_FCR, 0x07); /* enable and clear FIFOs */
	outb(COM1_PORT + UART_MCR, 0x03); /* DTR, RTS */
	/* An 8250 or 16450 has no FIFO: one byte at a time there. */
	if ((inb(COM1_PORT + UART_FCR) & IIR_FIFOS_ON) == IIR_FIFOS_ON)
		burst = UART_FIFO_LEN;
}

static void uart_putc(char c)
{
	for (int i = 0; i < UART_POLL_LIMIT; i++)
		if (inb(COM1_PORT + UART_LSR) & LSR_THR_EMPTY)
			break;
	outb(COM1_PORT + UART_DATA, (uint8_t)c);
}

static void uart_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			uart_putc('\r');
		uart_putc(s[i]);
	}
}

static size_t ring_room(void)
{
	return RING_SIZE - (size_t)(ring_head - ring_tail);
}

static void ring_put(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ring[ring_head++ % RING_SIZE] = s[i];
}

/* Bytes as they go on the line: every '\n' is "\r\n". */
static size_t line_bytes(const char *s, size_t n)
{
	size_t len = n;

	for (size_t i = 0; i < n; i++)
		len += s[i] == '\n';
	return len;
}

static void ring_put_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			ring_put("\r", 1);
		ring_put(&s[i], 1);
	}
}

static int dropped_note(char note[64])
{
	return snprintf(note, 64, "[console: %llu bytes dropped]\n",
			(unsigned long long)dropped);
}

/* Put the note of what was dropped first, if there is room for it. */
static bool note_dropped(void)
{
	char note[64];
	int len;

	if (!dropped)
		return true;
	len = dropped_note(note);
	if (len <= 0 || line_bytes(note, (size_t)len) > ring_room())
		return false;
	ring_put_line(note, (size_t)len);
	dropped = 0;
	return true;
}

void console_write(const char *s, size_t n)
{
	if (!buffered) {
		uart_write(s, n);
		return;
	}
	if (!note_dropped() || line_bytes(s, n) > ring_room()) {
		dropped += n;
		return;
	}
	ring_put_line(s, n);
}

void console_buffer_start(void)
{
	buffered = true;
}

void console_drain(void)
{
	if (ring_head == ring_tail || !(inb(COM1_PORT + UART_LSR) & LSR_THR_EMPTY))
		return;
	for (unsigned i = 0; i < burst && ring_tail != ring_head; i++)
		outb(COM1_PORT + UART_DATA, (uint8_t)ring[ring_tail++ % RING_SIZE]);
}

void console_flush(void)
{
	buffered = false;
	while (ring_tail != ring_head)
		uart_putc(ring[ring_tail++ % RING_SIZE]);
	if (dropped) {
		char note[64];
		int len = dropped_note(note);

		dropped = 0;
		if (len > 0)
			uart_write(note, (size_t)len);
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
