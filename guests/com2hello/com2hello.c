/*
 * com2hello: sends one line over the physical COM2, the TPGVM's transport
 * to the relay, which the TCB passes through to the TPGVM only. Output:
 *   com2hello: start (vm <id>, <mem> MiB)
 *   com2hello: vm name '<name>' cmdline '<cmdline>'
 *   com2hello: sent <n> bytes on COM2
 * and on the COM2 line itself: "hello over COM2 from vm <id>\n". For any VM
 * but the TPGVM the TCB denies the COM2 ports: the line never reaches the
 * device, reads return all ones (the LSR poll gives up), and the TCB logs the
 * denied accesses. Then HLT.
 */
#include "guests/runtime/guest.h"

#include <stdio.h>

#define COM2_DATA 0x2f8
#define COM2_IER  0x2f9
#define COM2_LCR  0x2fb
#define COM2_LSR  0x2fd
#define LSR_THR_EMPTY 0x20
#define POLL_LIMIT 100000

static void com2_outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static uint8_t com2_inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void com2_init(void)
{
	com2_outb(COM2_IER, 0);
	com2_outb(COM2_LCR, 0x80); /* DLAB: divisor follows */
	com2_outb(COM2_DATA, 1);   /* 115200 baud */
	com2_outb(COM2_IER, 0);
	com2_outb(COM2_LCR, 0x03); /* 8N1 */
}

static void com2_putc(char c)
{
	for (int i = 0; i < POLL_LIMIT; i++)
		if (com2_inb(COM2_LSR) & LSR_THR_EMPTY)
			break;
	com2_outb(COM2_DATA, (uint8_t)c);
}

int guest_main(const struct custos_boot_info *bi)
{
	char line[64];
	int n;

	guest_init(bi, "com2hello");
	n = snprintf(line, sizeof(line), "hello over COM2 from vm %u\n",
		     (unsigned)bi->vm_id);
	com2_init();
	for (int i = 0; i < n; i++)
		com2_putc(line[i]);
	con_printf("com2hello: sent %d bytes on COM2\n", n);
	for (;;)
		hlt();
}
