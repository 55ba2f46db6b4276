/*
 * The TPGVM skeleton: the tenant transport end to end, without TLS yet
 * (docs/tpgvm.md). It speaks the relay framing (docs/relay.md) over the
 * physical COM2 and echoes every session's bytes back on that session.
 * Console (COM1, the TCB's ring for this VM):
 *   tpgvm: start (vm <id>, <mem> MiB)        (guest_init)
 *   tpgvm: policy for platform "<id>", <n> tenant CA root(s)
 *   tpgvm: transport up on COM2 (<n> sessions max)
 *   tpgvm: session <id> open | closed | refused (table full)
 *   tpgvm: relay hello: dropped <n> sessions
 *
 * One loop, no blocking anywhere: each round reads the LSR once, sends what
 * the transmit FIFO takes from one output queue, and reads what has arrived.
 * Input is read only while the queue can hold the echo of everything the
 * decoder might deliver, so the queue never overflows; when the relay stops
 * reading, we stop reading too (backpressure on the line, not loss). Memory
 * is fixed: one decoder, one queue, a session table.
 */
#include "guests/runtime/guest.h"
#include "tpgvm/frame.h"
#include "tpgvm/uart.h"
#include "tcb/policy.h"

#include <string.h>

#define MAX_SESSIONS 16 /* the relay's own upper limit (--max-sessions) */
#define TXQ_SIZE     8192
#define RX_BATCH     256
/* Every frame the decoder can deliver from what it holds plus one batch
 * echoes into at most that many bytes (DATA is echoed at its own size;
 * OPEN, CLOSE and HELLO send at most a CLOSE). */
#define RX_RESERVE   (FRAME_MAX_LEN + RX_BATCH)
/* A frame cut short on the line would hold up those behind it until its
 * claimed length arrived: give it up after this long without a byte (the
 * relay's rule, docs/relay.md; TSC cycles: some 30-50 ms on hardware,
 * about a second in Bochs, where the TSC counts instructions). */
#define QUIET_TSC    100000000ull

struct session {
	uint16_t sid;
	bool open;
};

/* Output towards the relay: whole frames only, a ring of bytes. */
struct txq {
	uint8_t buf[TXQ_SIZE];
	size_t head, len;
};

static struct session sessions[MAX_SESSIONS];
static struct txq txq;
static struct frame_decoder dec;
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

	if (!n || n > txq_free()) {
		con_printf("tpgvm: frame for session %u dropped (queue full)\n",
			   sid);
		return;
	}
	txq_push(frame_buf, n);
}

/* As many queued bytes as an empty transmit FIFO takes. */
static void tx_burst(void)
{
	for (int i = 0; i < UART_TX_FIFO && txq.len; i++) {
		uart_putc(txq.buf[txq.head]);
		txq.head = (txq.head + 1) % TXQ_SIZE;
		txq.len--;
	}
}

/* ---- Sessions ----------------------------------------------------------- */

static struct session *session_find(uint16_t sid)
{
	for (int i = 0; i < MAX_SESSIONS; i++)
		if (sessions[i].open && sessions[i].sid == sid)
			return &sessions[i];
	return NULL;
}

static void session_open(uint16_t sid)
{
	if (sid == 0 || session_find(sid))
		return; /* not a session id, or a duplicated OPEN */
	for (int i = 0; i < MAX_SESSIONS; i++) {
		if (!sessions[i].open) {
			sessions[i] = (struct session){ .sid = sid, .open = true };
			con_printf("tpgvm: session %u open\n", sid);
			return;
		}
	}
	/* The relay keeps fewer than we hold; if it did not, say no. */
	con_printf("tpgvm: session %u refused (table full)\n", sid);
	send_frame(FRAME_CLOSE, sid, NULL, 0);
}

static void session_close(uint16_t sid)
{
	struct session *s = session_find(sid);

	if (!s)
		return; /* late or duplicated: nothing to do */
	s->open = false;
	con_printf("tpgvm: session %u closed\n", sid);
}

/* The relay (re)started: none of our sessions exists there any more. */
static void sessions_drop_all(void)
{
	unsigned n = 0;

	for (int i = 0; i < MAX_SESSIONS; i++) {
		n += sessions[i].open;
		sessions[i].open = false;
	}
	con_printf("tpgvm: relay hello: dropped %u sessions\n", n);
}

/* The session's application. TLS will terminate here; for now, echo. */
static void session_data(uint16_t sid, const uint8_t *p, size_t len)
{
	if (session_find(sid) && len)
		send_frame(FRAME_DATA, sid, p, len);
}

static void on_frame(void *ctx, const struct frame *f)
{
	(void)ctx;
	switch (f->type) {
	case FRAME_OPEN:
		session_open(f->sid);
		break;
	case FRAME_DATA:
		session_data(f->sid, f->payload, f->len);
		break;
	case FRAME_CLOSE:
		session_close(f->sid);
		break;
	case FRAME_HELLO:
		sessions_drop_all();
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

/* Nothing arrived: finish the batch, give up a frame cut short, and let
 * other VMs run while there is nothing to send either. */
static void idle(struct rx *rx)
{
	rx_flush(rx);
	if (dec.have && rdtsc() - rx->last_byte_tsc > QUIET_TSC) {
		frame_decoder_resync(&dec, on_frame, NULL);
		rx->last_byte_tsc = rdtsc();
	}
	if (!txq.len)
		hc_yield();
}

static __attribute__((noreturn)) void serve(void)
{
	struct rx rx = { .len = 0, .last_byte_tsc = rdtsc() };

	for (;;) {
		uint8_t lsr = uart_lsr();
		bool rx_room = txq_free() >= RX_RESERVE;

		if (uart_tx_empty(lsr) && txq.len)
			tx_burst();
		if (uart_rx_ready(lsr) && rx_room) {
			rx.buf[rx.len++] = uart_getc();
			rx.last_byte_tsc = rdtsc();
			if (rx.len == RX_BATCH)
				rx_flush(&rx);
		} else {
			idle(&rx);
		}
	}
}

/* The TCB hands us our policy, decrypted from the station's envelope, as
 * init data: which platform we serve and which tenant CAs we trust. */
static void read_policy(const struct custos_boot_info *bi)
{
	static struct tpgvm_policy policy;
	char err[128];

	if (!bi->init_data_size) {
		con_printf("tpgvm: no policy in the init data\n");
		return;
	}
	if (policy_parse((const void *)bi->init_data_gpa, bi->init_data_size,
			 &policy, err, sizeof(err))) {
		con_printf("tpgvm: policy refused: %s\n", err);
		return;
	}
	con_printf("tpgvm: policy for platform \"%s\", %u tenant CA root(s)\n",
		   policy.platform_id, (unsigned)policy.tenant_ca_count);
}

int guest_main(const struct custos_boot_info *bi)
{
	guest_init(bi, "tpgvm");
	read_policy(bi);
	frame_decoder_init(&dec);
	uart_init();
	/* We (re)started: whatever the relay still holds is stale. */
	send_frame(FRAME_HELLO, 0, NULL, 0);
	con_printf("tpgvm: transport up on COM2 (%d sessions max)\n",
		   MAX_SESSIONS);
	serve();
}
