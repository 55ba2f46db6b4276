/*
 * The TPGVM's end of its serial line: the physical COM2, which the TCB
 * passes through to the TPGVM only (docs/vm-exits.md). Polled: guests get
 * no interrupts. Every register access is a VM exit, so callers ask the LSR
 * once and then move as many bytes as it allows.
 */
#ifndef CUSTOS_TPGVM_UART_H
#define CUSTOS_TPGVM_UART_H

#include <stdbool.h>
#include <stdint.h>

/* The 16550's transmit FIFO: after "transmitter holding register empty"
 * this many bytes may be written without asking again. */
#define UART_TX_FIFO 16

void uart_init(void);
/* What uart_init chose: a receive trigger of 14 bytes (the line reports
 * data at once) or of 1 (it waits for the trigger). For the log. */
extern bool uart_rx_trigger_14;
uint8_t uart_lsr(void);
uint8_t uart_getc(void);
void uart_putc(uint8_t c);

static inline bool uart_rx_ready(uint8_t lsr)
{
	return lsr & 0x01; /* LSR.DR: a received byte waits */
}

static inline bool uart_tx_empty(uint8_t lsr)
{
	return lsr & 0x20; /* LSR.THRE: the transmit FIFO is empty */
}

#endif
