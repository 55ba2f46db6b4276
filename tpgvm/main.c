/*
 * The TPGVM: the TCB's voice to tenants (docs/tpgvm.md). It speaks the relay
 * framing (docs/relay.md) over the physical COM2; each relay session is a
 * TLS session with one tenant (tpgvm/session.c), inside which the tenant
 * protocol (docs/protocol.md) runs (tpgvm/service.c).
 * Console (COM1, the TCB's ring for this VM):
 *   tpgvm: start (vm <id>, <mem> MiB)        (guest_init)
 *   tpgvm: TSC <hz> Hz (from the TCB); deadlines ...   (docs/tpgvm.md)
 *   tpgvm: policy for platform "<id>", <n> tenant CA root(s)
 *   tpgvm: TLS key sha384:<hex of the SPKI hash>
 *   tpgvm: transport up on COM2 (<n> sessions max)
 *   tpgvm: session <id> open | closed | ...   (tpgvm/session.c)
 *   tpgvm: relay hello: dropped <n> sessions
 *   tpgvm: <tenant> vm <name>: created | loaded | ...   (tpgvm/vm_service.c)
 *
 * One loop, no blocking anywhere but a frame's own bytes: each round reads
 * the LSR once, sends the next queued frame whole if the transmit FIFO is
 * empty (tx_frame), reads what has arrived, and lets the sessions work. Output is queued in whole frames; when the
 * queue is full, sessions wait (TLS's WANT_WRITE) and input is not read
 * (backpressure on the line, not loss).
 */
#include "guests/runtime/guest.h"
#include "tpgvm/deadline.h"
#include "tpgvm/service.h"
#include "tpgvm/session.h"
#include "tpgvm/storage.h"
#include "tpgvm/tls_server.h"
#include "tpgvm/transport.h"
#include "tpgvm/uart.h"
#include "tcb/policy.h"

#include <custos/frame.h>
#include <custos/report.h>
#include <stdio.h>
#include <string.h>

#define TXQ_SIZE     16384
#define RX_BATCH     256
/* Room kept in the output queue for CLOSE frames (and a HELLO), which must
 * never wait: sessions' data may use the rest. */
#define CTRL_RESERVE (FRAME_HDR_LEN * (SESSION_MAX + 2))
/* Input is read only while sessions could still queue this much: bytes
 * that arrive feed TLS, and TLS answers. */
#define RX_RESERVE   (CTRL_RESERVE + FRAME_MAX_LEN)
/* A frame cut short on the line would hold up those behind it until its
 * claimed length arrived: give it up after this many seconds without a
 * byte (the relay's rule, docs/relay.md, with more room: in an emulator
 * platform time may run many times faster than the relay's). Our own
 * computation does not count: the line is read before the check. */
#define QUIET_S      2u

/* The most frames the queue can hold (a CLOSE is a header alone). */
#define TXQ_FRAMES   (TXQ_SIZE / FRAME_HDR_LEN + 1)

/* Output towards the relay: whole frames only, a ring of bytes, and the
 * length of each frame in it (so that one leaves the UART whole). */
struct txq {
	uint8_t buf[TXQ_SIZE];
	size_t head, len;
	uint16_t frame_len[TXQ_FRAMES];
	size_t frame_head, frames;
};

static struct txq txq;
static struct frame_decoder dec;
static uint64_t quiet_tsc; /* QUIET_S at the platform's TSC rate */
static uint8_t frame_buf[FRAME_MAX_LEN];

/* ---- Output queue ------------------------------------------------------- */

static size_t txq_free(void)
{
	return TXQ_SIZE - txq.len;
}

static void txq_push(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		txq.buf[(txq.head + txq.len + i) % TXQ_SIZE] = p[i];
	txq.len += n;
}

/* Queue one frame whole, or not at all: half a frame would cost the relay a
 * resynchronisation. Cannot fail while RX_RESERVE holds; said if it does. */
static void send_frame(uint8_t type, uint16_t sid, const void *payload,
		       size_t len)
{
	size_t n = frame_encode(type, sid, payload, len, frame_buf,
				sizeof(frame_buf));

	if (!n || n > txq_free() || txq.frames == TXQ_FRAMES) {
		con_printf("tpgvm: frame for session %u dropped (queue full)\n",
			   sid);
		return;
	}
	txq_push(frame_buf, n);
	txq.frame_len[(txq.frame_head + txq.frames++) % TXQ_FRAMES] = (uint16_t)n;
}

/*
 * The next queued frame, whole: its first bytes fill the empty transmit
 * FIFO, and the rest follows as the FIFO empties, before anything else
 * runs. The relay gives up a frame whose line goes quiet for 500 ms in the
 * middle (docs/relay.md, "Framing"), and what runs between two rounds of
 * the loop -- a TLS handshake step, a lifecycle call sealing a large VM --
 * can take longer than that in an emulator: a frame left half-sent across
 * it was cut, and its session's TLS stream with it.
 */
static void tx_frame(void)
{
	size_t left = txq.frame_len[txq.frame_head];

	txq.frame_head = (txq.frame_head + 1) % TXQ_FRAMES;
	txq.frames--;
	while (left) {
		while (!uart_tx_empty(uart_lsr()))
			__asm__ volatile("pause");
		for (int i = 0; i < UART_TX_FIFO && left; i++, left--) {
			uart_putc(txq.buf[txq.head]);
			txq.head = (txq.head + 1) % TXQ_SIZE;
			txq.len--;
		}
	}
}

/* ---- What the sessions and the storage see (tpgvm/transport.h) ---------- */

static size_t transport_send(uint16_t sid, const uint8_t *p, size_t len)
{
	size_t room = txq_free();

	if (room < CTRL_RESERVE + FRAME_HDR_LEN + 1)
		return 0;
	room -= CTRL_RESERVE + FRAME_HDR_LEN;
	if (len > room)
		len = room;
	if (len > FRAME_MAX_PAYLOAD)
		len = FRAME_MAX_PAYLOAD;
	send_frame(FRAME_DATA, sid, p, len);
	return len;
}

static void transport_close(uint16_t sid)
{
	send_frame(FRAME_CLOSE, sid, NULL, 0);
}

/* Storage requests share the queue with the sessions' data (and, like it,
 * leave the control reserve alone); one whole frame or nothing. */
static bool transport_store(uint16_t id, const uint8_t *payload, size_t len)
{
	if (len > FRAME_MAX_PAYLOAD ||
	    txq_free() < CTRL_RESERVE + FRAME_HDR_LEN + len)
		return false;
	send_frame(FRAME_STORE, id, payload, len);
	return true;
}

/* Handed down at start-up (session_init, storage_init): the layers above
 * the line call it through this table, never main.c by name. */
static const struct transport transport = {
	.send = transport_send,
	.close = transport_close,
	.store = transport_store,
};

static void on_frame(void *ctx, const struct frame *f)
{
	(void)ctx;
	switch (f->type) {
	case FRAME_OPEN:
		session_open(f->sid);
		break;
	case FRAME_DATA:
		session_input(f->sid, f->payload, f->len);
		break;
	case FRAME_CLOSE:
		session_closed_by_relay(f->sid);
		break;
	case FRAME_HELLO:
		sessions_drop_all();
		storage_relay_restarted(); /* the service sees its jobs fail */
		break;
	case FRAME_STORED:
		storage_on_stored(f->sid, f->payload, f->len);
		break;
	}
}

/* ---- The loop ----------------------------------------------------------- */

struct rx {
	uint8_t buf[RX_BATCH];
	size_t len;
	uint64_t last_byte_tsc;
};

/* Hand the batch to the decoder: one call per batch, not per byte, since
 * the decoder re-checks a pending header on every call. */
static void rx_flush(struct rx *rx)
{
	if (!rx->len)
		return;
	frame_decoder_feed(&dec, rx->buf, rx->len, on_frame, NULL);
	rx->len = 0;
}

/* Give up a frame cut short (senders write whole frames). */
static void check_quiet_line(struct rx *rx)
{
	if (dec.have && rdtsc() - rx->last_byte_tsc > quiet_tsc) {
		frame_decoder_resync(&dec, on_frame, NULL);
		rx->last_byte_tsc = rdtsc();
	}
}

static __attribute__((noreturn)) void serve(void)
{
	struct rx rx = { .len = 0, .last_byte_tsc = rdtsc() };

	for (;;) {
		uint8_t lsr = uart_lsr();
		bool busy;

		if (uart_tx_empty(lsr) && txq.frames)
			tx_frame();
		if (uart_rx_ready(lsr) && txq_free() >= RX_RESERVE) {
			rx.buf[rx.len++] = uart_getc();
			rx.last_byte_tsc = rdtsc();
			if (rx.len < RX_BATCH)
				continue; /* drain the line while it has bytes */
		}
		rx_flush(&rx);
		check_quiet_line(&rx);
		/* Nothing to read, send or compute: let other VMs run. */
		busy = sessions_step();
		busy |= service_step();
		busy |= storage_step();
		if (!busy && !txq.len && !uart_rx_ready(uart_lsr()))
			hc_yield();
	}
}

/* The TCB hands us our policy, decrypted from the station's envelope, as
 * init data: which platform we serve and which tenant CAs we trust. */
static const struct tpgvm_policy *read_policy(const struct custos_boot_info *bi)
{
	static struct tpgvm_policy policy;
	char err[128];

	if (!bi->init_data_size) {
		con_printf("tpgvm: no policy in the init data\n");
		return NULL;
	}
	if (policy_parse((const void *)bi->init_data_gpa, bi->init_data_size,
			 &policy, err, sizeof(err))) {
		con_printf("tpgvm: policy refused: %s\n", err);
		return NULL;
	}
	con_printf("tpgvm: policy for platform \"%s\", %u tenant CA root(s)\n",
		   policy.platform_id, (unsigned)policy.tenant_ca_count);
	return &policy;
}

static void print_key_hash(void)
{
	const uint8_t *h = tls_server_key_hash();
	char hex[2 * RPT_TLS_HASH_LEN + 1];

	for (unsigned i = 0; i < RPT_TLS_HASH_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", h[i]);
	con_printf("tpgvm: TLS key sha384:%s\n", hex);
}

/* Every deadline counts in seconds of platform time at the rate the TCB
 * measured (tpgvm/deadline.h). */
static bool init_time(const struct custos_boot_info *bi)
{
	if (bi->tsc_hz < TIMEBASE_MIN_HZ || bi->tsc_hz > TIMEBASE_MAX_HZ) {
		con_printf("tpgvm: no usable TSC rate in the boot info (%llu Hz)\n",
			   (unsigned long long)bi->tsc_hz);
		return false;
	}
	timebase_set(bi->tsc_hz);
	quiet_tsc = timebase_span(bi->tsc_hz, QUIET_S, 0);
	con_printf("tpgvm: TSC %llu Hz (from the TCB); deadlines in seconds at "
		   "that rate, plus %llu cycles for our own work\n",
		   (unsigned long long)bi->tsc_hz,
		   (unsigned long long)TPGVM_WORK_CYCLES);
	return true;
}

int guest_main(const struct custos_boot_info *bi)
{
	const struct tpgvm_policy *policy;
	char err[128];

	guest_init(bi, "tpgvm");
	if (!init_time(bi))
		return 2;
	policy = read_policy(bi);
	if (!policy)
		return 2; /* nothing to serve with: the TCB logs our exit */
	if (tls_server_init(policy, err, sizeof(err))) {
		con_printf("tpgvm: TLS not available: %s\n", err);
		return 2;
	}
	print_key_hash();
	service_init(bi);
	session_init(&transport);
	storage_init(&transport);
	frame_decoder_init(&dec);
	uart_init();
	/* We (re)started: whatever the relay still holds is stale. */
	send_frame(FRAME_HELLO, 0, NULL, 0);
	con_printf("tpgvm: transport up on COM2 (%d sessions max, receive trigger %d)\n",
		   SESSION_MAX, uart_rx_trigger_14 ? 14 : 1);
	serve();
}
