#include <string.h>

#include "vdev/vuart.h"
#include "tcb/byteorder.h"

#define IER_RDI   0x01  /* received data available */
#define IER_THRI  0x02  /* THR empty */
#define IER_MASK  0x0f
#define IIR_NONE  0x01
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_FIFO  0xc0
#define FCR_ENABLE 0x01
#define FCR_CLEAR_RX 0x02
#define FCR_KEEP  0xc9  /* enable, DMA mode, trigger level */
#define LCR_DLAB  0x80
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define MCR_MASK  0x1f
#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
/* Outside loopback the modem lines say a terminal is there: DCD, DSR, CTS. */
#define MSR_PRESENT 0xb0

void vuart_init(struct vuart *u)
{
	memset(u, 0, sizeof(*u));
	u->lcr = 0x03;   /* 8N1, as firmware leaves it */
}

static void ring_put(struct vuart *u, uint8_t b)
{
	u->ring[(u->head + u->count) % VUART_RING] = b;
	u->count++;
}

static uint8_t ring_get(struct vuart *u)
{
	uint8_t b;

	if (!u->count)
		return 0;
	b = u->ring[u->head];
	u->head = (uint16_t)((u->head + 1) % VUART_RING);
	u->count--;
	return b;
}

/* The highest-priority interrupt: received data, then THR empty (line
 * status and modem status interrupts are not raised). */
static uint8_t iir_id(const struct vuart *u)
{
	if ((u->ier & IER_RDI) && u->count)
		return IIR_RDI;
	if ((u->ier & IER_THRI) && u->thre_pending)
		return IIR_THRI;
	return IIR_NONE;
}

bool vuart_irq(const struct vuart *u)
{
	return (u->mcr & MCR_OUT2) && iir_id(u) != IIR_NONE;
}

/* In loopback the modem inputs are the MCR's outputs: CTS = RTS,
 * DSR = DTR, RI = OUT1, DCD = OUT2 (Linux's autoconfig checks this). */
static uint8_t msr(const struct vuart *u)
{
	uint8_t m = u->mcr;

	if (!(m & MCR_LOOP))
		return MSR_PRESENT;
	return (uint8_t)((m & 0x02) << 3 | (m & 0x01) << 5 | (m & 0x04) << 4 |
			 (m & 0x08) << 4);
}

uint8_t vuart_read(struct vuart *u, unsigned int reg)
{
	uint8_t v;
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case 0:
		return dlab ? u->dll : ring_get(u);
	case 1:
		return dlab ? u->dlm : u->ier;
	case 2:
		v = iir_id(u);
		if (v == IIR_THRI)
			u->thre_pending = false;   /* read while it is the source */
		return (uint8_t)(v | (u->fcr & FCR_ENABLE ? IIR_FIFO : 0));
	case 3:
		return u->lcr;
	case 4:
		return u->mcr;
	case 5:
		v = (uint8_t)(LSR_THRE | LSR_TEMT | (u->count ? LSR_DR : 0) |
			      (u->overrun ? LSR_OE : 0));
		u->overrun = false;
		return v;
	case 6:
		return msr(u);
	case 7:
		return u->scr;
	default:
		return 0xff;
	}
}

static bool write_thr(struct vuart *u, uint8_t v, uint8_t *tx)
{
	/* Sent at once: THR is empty again, and says so. */
	u->thre_pending = true;
	if (!(u->mcr & MCR_LOOP)) {
		*tx = v;
		return true;
	}
	if (u->count < VUART_RING)
		ring_put(u, v);
	else
		u->overrun = true;
	return false;
}

static void write_fcr(struct vuart *u, uint8_t v)
{
	/* Switching the FIFOs on or off empties them, as does bit 1. */
	if ((v ^ u->fcr) & FCR_ENABLE || v & FCR_CLEAR_RX)
		u->head = u->count = 0;
	u->fcr = v & FCR_KEEP;
}

bool vuart_write(struct vuart *u, unsigned int reg, uint8_t v, uint8_t *tx)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case 0:
		if (!dlab)
			return write_thr(u, v, tx);
		u->dll = v;
		break;
	case 1:
		if (dlab) {
			u->dlm = v;
			break;
		}
		/* Enabling the THR interrupt with THR empty raises it at once
		 * (Linux tests for this: UART_BUG_THRE). */
		if (!(v & IER_THRI))
			u->thre_pending = false;
		else if (!(u->ier & IER_THRI))
			u->thre_pending = true;
		u->ier = v & IER_MASK;
		break;
	case 2:
		write_fcr(u, v);
		break;
	case 3:
		u->lcr = v;
		break;
	case 4:
		u->mcr = v & MCR_MASK;
		break;
	case 7:
		u->scr = v;
		break;
	default:
		break;   /* LSR and MSR: read-only */
	}
	return false;
}

size_t vuart_rx(struct vuart *u, const uint8_t *bytes, size_t n)
{
	size_t i;

	if (u->mcr & MCR_LOOP)
		return 0;
	for (i = 0; i < n && u->count < VUART_RING; i++)
		ring_put(u, bytes[i]);
	return i;
}

void vuart_save(const struct vuart *u, uint8_t out[VUART_SAVE_SIZE])
{
	/* The ring from its oldest byte, so equal contents save equal. */
	memset(out, 0, VUART_RING);
	for (uint16_t i = 0; i < u->count; i++)
		out[i] = u->ring[(u->head + i) % VUART_RING];
	store_le16(out + VUART_RING, u->count);
	store_le16(out + VUART_RING + 2, 0);
	out[VUART_RING + 4] = u->ier;
	out[VUART_RING + 5] = u->lcr;
	out[VUART_RING + 6] = u->mcr;
	out[VUART_RING + 7] = u->scr;
	out[VUART_RING + 8] = u->dll;
	out[VUART_RING + 9] = u->dlm;
	out[VUART_RING + 10] = u->fcr;
	out[VUART_RING + 11] = u->thre_pending;
	out[VUART_RING + 12] = u->overrun;
	out[VUART_RING + 13] = 0;
}

bool vuart_load(struct vuart *u, const uint8_t in[VUART_SAVE_SIZE])
{
	const uint8_t *r = in + VUART_RING;
	uint16_t count = load_le16(r);

	if (count > VUART_RING || load_le16(r + 2) || r[4] & ~IER_MASK ||
	    r[6] & ~MCR_MASK || r[10] & ~FCR_KEEP || r[11] > 1 || r[12] > 1 ||
	    r[13])
		return false;
	/* Bytes past the count are not state: they must be zero, so that a
	 * blob has one meaning and saves back the same. */
	for (unsigned int i = count; i < VUART_RING; i++) {
		if (in[i])
			return false;
	}
	memcpy(u->ring, in, VUART_RING);
	u->head = 0;
	u->count = count;
	u->ier = r[4];
	u->lcr = r[5];
	u->mcr = r[6];
	u->scr = r[7];
	u->dll = r[8];
	u->dlm = r[9];
	u->fcr = r[10];
	u->thre_pending = r[11];
	u->overrun = r[12];
	return true;
}
