#include "tpgvm/session.h"
#include "tpgvm/deadline.h"
#include "tpgvm/service.h"
#include "tpgvm/tls_server.h"
#include "tpgvm/transport.h"
#include "guests/runtime/guest.h"
#include "crypto/crypto.h"
#include <custos/proto.h>
#include <custos/report.h>

#include <heap.h>
#include <stdio.h>
#include <string.h>

/* Bytes from the relay that TLS has not taken yet: one whole record and
 * then some. TLS takes them as soon as the session runs, unless it is
 * stuck writing an answer; a tenant that keeps sending then overflows this
 * and is dropped (the protocol is request, then answer). */
#define SESSION_IN_MAX  (20u << 10)
/* The largest request we take (the body of one message). */
#define SESSION_REQ_MAX (16u << 10)
/* Deadlines (tpgvm/deadline.h), in seconds of platform time plus cycles
 * for our own work meanwhile (TPGVM_WORK_CYCLES: the other sessions'
 * handshakes delay this one's bytes too). A handshake must finish within
 * HANDSHAKE_S; a session with no request for IDLE_S is closed, and an
 * answer must be taken by the tenant within IDLE_S as well. */
#define HANDSHAKE_S     30u
#define IDLE_S          120u
/* A request the service finishes later (a VM start or stop, which moves a
 * sealed blob through the relay): the session waits this long at most, a
 * backstop only, since the service's storage requests time out on their
 * own. A blob crosses the line at ~11 KiB/s at 115200 baud (75 MiB in
 * 7200 s: a larger one outlasts the wait, the job goes on); sealing or
 * opening one in the TCB (~200 cycles a byte in software AES-GCM, twice
 * over) is computation on top. */
#define SERVICE_S       7200u
#define SERVICE_WORK    (TPGVM_WORK_CYCLES + 10000000000ull)
/* Steps one session may take before the others get their turn. */
#define STEP_BUDGET     8

/* S_SERVICE: a request is with the service (service_poll gives the answer
 * once it is done); the session reads nothing meanwhile. */
enum session_state { S_FREE, S_HANDSHAKE, S_READY, S_SERVICE, S_WRITING };

struct session {
	enum session_state state;
	uint16_t sid;
	bool relay_closed;  /* no more input will come */
	bool close_after;   /* close once the answer is out */
	mbedtls_ssl_context ssl;
	uint8_t in[SESSION_IN_MAX];
	size_t in_len;
	uint8_t req[PROTO_HDR_LEN + SESSION_REQ_MAX];
	size_t req_have;
	uint32_t req_body; /* from the checked header */
	uint8_t *out;
	size_t out_len, out_off;
	uint64_t deadline;
	uint32_t ticket;   /* S_SERVICE: the service's continuation */
	uint64_t note_at;  /* S_SERVICE: the next PROTO_WAIT note is due */
	uint64_t service_deadline; /* S_SERVICE's, kept while a note is written */
	bool noting;       /* S_WRITING a note: back to S_SERVICE after it */
	struct tenant who;
};

static struct session sessions[SESSION_MAX];
static const struct transport *transport; /* main.c's (session_init) */

void session_init(const struct transport *t)
{
	transport = t;
}

/* ---- TLS's view of the relay session ------------------------------------ */

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct session *s = ctx;
	size_t n = transport->send(s->sid, buf, len);

	return n ? (int)n : MBEDTLS_ERR_SSL_WANT_WRITE;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct session *s = ctx;
	size_t n = len < s->in_len ? len : s->in_len;

	if (!n)
		return s->relay_closed ? MBEDTLS_ERR_SSL_CONN_EOF
				       : MBEDTLS_ERR_SSL_WANT_READ;
	memcpy(buf, s->in, n);
	memmove(s->in, s->in + n, s->in_len - n);
	s->in_len -= n;
	return (int)n;
}

/* ---- Life and death -------------------------------------------------------- */

static struct session *session_find(uint16_t sid)
{
	for (int i = 0; i < SESSION_MAX; i++)
		if (sessions[i].state != S_FREE && sessions[i].sid == sid)
			return &sessions[i];
	return NULL;
}

/* An answer, once written or given up: it may carry a tenant's data (a VM
 * console), so it is wiped before its memory goes back to the heap. */
static void answer_free(struct session *s)
{
	if (s->out)
		crypto_wipe(s->out, s->out_len);
	heap_free(s->out);
	s->out = NULL;
}

/* Forget everything the session held: its plaintext too. */
static void session_free(struct session *s, bool tell_relay)
{
	if (s->state == S_SERVICE)
		service_forget(s->ticket); /* the work goes on; nobody hears it */
	if (s->who.session)
		service_session_closed(s->who.session);
	mbedtls_ssl_free(&s->ssl);
	answer_free(s);
	if (tell_relay)
		transport->close(s->sid);
	crypto_wipe(s, sizeof(*s));
	s->state = S_FREE;
}

static void session_fail(struct session *s, const char *what, int ret)
{
	con_printf("tpgvm: session %u (%s): %s: %s (-0x%04x)\n", s->sid,
		   s->who.name[0] ? s->who.name : "not authenticated", what,
		   crypto_tls_strerror(ret), (unsigned)-ret);
	session_free(s, true);
}

void session_open(uint16_t sid)
{
	struct session *s = NULL;

	if (sid == 0 || session_find(sid))
		return; /* not a session id, or a duplicated OPEN */
	for (int i = 0; i < SESSION_MAX && !s; i++)
		if (sessions[i].state == S_FREE)
			s = &sessions[i];
	if (!s) {
		/* The relay keeps no more than we hold; if it did, say no. */
		con_printf("tpgvm: session %u refused (table full)\n", sid);
		transport->close(sid);
		return;
	}
	memset(s, 0, sizeof(*s));
	s->sid = sid;
	mbedtls_ssl_init(&s->ssl);
	if (mbedtls_ssl_setup(&s->ssl, tls_server_conf()) != 0) {
		con_printf("tpgvm: session %u refused (no memory)\n", sid);
		session_free(s, true);
		return;
	}
	mbedtls_ssl_set_bio(&s->ssl, s, bio_send, bio_recv, NULL);
	s->state = S_HANDSHAKE;
	s->deadline = deadline_in(HANDSHAKE_S, TPGVM_WORK_CYCLES);
	con_printf("tpgvm: session %u open\n", sid);
}

void session_input(uint16_t sid, const uint8_t *p, size_t len)
{
	struct session *s = session_find(sid);

	if (!s || !len)
		return;
	if (len > SESSION_IN_MAX - s->in_len) {
		con_printf("tpgvm: session %u: tenant sends without reading; "
			   "closed\n", sid);
		session_free(s, true);
		return;
	}
	memcpy(s->in + s->in_len, p, len);
	s->in_len += len;
}

void session_closed_by_relay(uint16_t sid)
{
	struct session *s = session_find(sid);

	if (!s)
		return; /* late or duplicated: nothing to do */
	/* TLS may still hold a whole request that came before the CLOSE; a
	 * tenant that hung up does not read the answer, so drop it all. */
	con_printf("tpgvm: session %u closed\n", sid);
	session_free(s, false);
}

void sessions_drop_all(void)
{
	unsigned n = 0;

	for (int i = 0; i < SESSION_MAX; i++) {
		if (sessions[i].state != S_FREE) {
			session_free(&sessions[i], false);
			n++;
		}
	}
	con_printf("tpgvm: relay hello: dropped %u sessions\n", n);
}

/* ---- Steps ------------------------------------------------------------------ */

static void identify_tenant(struct session *s)
{
	/* Relay session ids come back; this number does not (2^32 sessions
	 * outlast any TPGVM run at seconds a handshake). */
	static uint32_t sessions_served;
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&s->ssl);
	uint8_t pub[CRYPTO_P384_PUB_LEN];

	if (!++sessions_served)
		sessions_served = 1;
	s->who.session = sessions_served;

	/* The handshake required a chained tenant certificate with a P-384
	 * key (crypto_tls_config's profile), so both succeed. */
	if (!peer || mbedtls_x509_dn_gets(s->who.name, sizeof(s->who.name),
					  &peer->subject) < 0)
		snprintf(s->who.name, sizeof(s->who.name), "?");
	if (peer && crypto_tls_cert_pub(peer, pub) == CRYPTO_OK) {
		uint8_t spki[RPT_P384_SPKI_LEN];

		report_p384_spki(pub, spki);
		crypto_sha384(spki, sizeof(spki), s->who.id);
	}
}

static bool step_handshake(struct session *s)
{
	int ret = mbedtls_ssl_handshake(&s->ssl);

	if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return false;
	if (ret != 0) {
		session_fail(s, "TLS handshake failed", ret);
		return false;
	}
	identify_tenant(s);
	con_printf("tpgvm: session %u: tenant %s authenticated (%s)\n", s->sid,
		   s->who.name, mbedtls_ssl_get_ciphersuite(&s->ssl));
	s->state = S_READY;
	s->deadline = deadline_in(IDLE_S, TPGVM_WORK_CYCLES);
	return true;
}

/* Queue an answer and switch to writing it. */
static void start_answer(struct session *s, uint8_t *out, size_t len)
{
	if (!out) {
		con_printf("tpgvm: session %u: no memory for the answer\n", s->sid);
		session_free(s, true);
		return;
	}
	s->out = out;
	s->out_len = len;
	s->out_off = 0;
	s->state = S_WRITING;
	/* A fresh deadline for writing it: the wait so far was the service's. */
	s->deadline = deadline_in(IDLE_S, TPGVM_WORK_CYCLES);
}

/* A request the protocol refuses: say why, then close (the stream may be
 * out of step after a bad header). */
static void refuse(struct session *s, const char *why)
{
	uint8_t *out = heap_alloc(PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX);
	size_t len = 0;

	con_printf("tpgvm: session %u: bad request: %s\n", s->sid, why);
	if (out)
		len = proto_encode_error(PROTO_ERR_BAD_REQUEST, why, out,
					 PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX);
	s->close_after = true;
	start_answer(s, out, len);
}

static void request_complete(struct session *s)
{
	struct proto_msg m;
	char err[96];
	uint8_t *out = NULL;
	size_t len = 0;
	bool pending;

	if (proto_parse(s->req, PROTO_HDR_LEN + s->req_body, &m, err, sizeof(err))) {
		refuse(s, err);
		return;
	}
	if (!service_is_request(m.type)) {
		refuse(s, "not a request");
		return;
	}
	pending = service_handle(&s->who, &m, &out, &len, &s->ticket);
	/* The request may have carried secrets (VM_CREATE): gone now. */
	crypto_wipe(s->req, sizeof(s->req));
	s->req_have = 0;
	if (pending) {
		s->state = S_SERVICE;
		s->deadline = deadline_in(SERVICE_S, SERVICE_WORK);
		s->note_at = deadline_in(PROTO_WAIT_NOTE_S, 0);
		return;
	}
	start_answer(s, out, len);
}

/*
 * While the service works, a PROTO_WAIT note every PROTO_WAIT_NOTE_S: a
 * start or stop of a large VM moves its blob through the relay for longer
 * than the relay lets a silent session live (its --idle-timeout, 1800 s
 * by default), and the tenant learns that the platform is still at it.
 * Written like an answer, after which the session waits again.
 */
static bool note_waiting(struct session *s)
{
	uint8_t *out;

	if (rdtsc() <= s->note_at)
		return false;
	out = heap_alloc(PROTO_HDR_LEN);
	if (!out)
		return false; /* no memory now: the next step tries again */
	s->service_deadline = s->deadline;
	s->noting = true;
	start_answer(s, out, proto_encode(PROTO_WAIT, NULL, 0, out, PROTO_HDR_LEN));
	return true;
}

/* The service finishes a request it took (tpgvm/service.h). */
static bool step_service(struct session *s)
{
	uint8_t *out = NULL;
	size_t len = 0;

	if (!service_poll(s->ticket, &out, &len))
		return note_waiting(s);
	s->ticket = 0;
	s->state = S_READY; /* start_answer moves on to writing */
	start_answer(s, out, len);
	return true;
}

/* Read exactly what the current message still needs, so that bytes of the
 * next request stay inside TLS until this one is answered. */
static bool step_read(struct session *s)
{
	size_t need = s->req_have < PROTO_HDR_LEN ? PROTO_HDR_LEN - s->req_have
			: PROTO_HDR_LEN + s->req_body - s->req_have;
	/* TLS keeps no copy of what it hands over (crypto_tls_read); s->req
	 * is wiped once the request is handled. */
	int ret = crypto_tls_read(&s->ssl, s->req + s->req_have, need);

	if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return false;
	if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
		con_printf("tpgvm: session %u: tenant %s closed the session\n",
			   s->sid, s->who.name);
		session_free(s, true);
		return false;
	}
	if (ret < 0) {
		session_fail(s, "TLS read failed", ret);
		return false;
	}
	s->req_have += (size_t)ret;
	s->deadline = deadline_in(IDLE_S, TPGVM_WORK_CYCLES);
	if (s->req_have == PROTO_HDR_LEN) {
		char err[96];
		uint16_t type;

		if (proto_parse_header(s->req, &type, &s->req_body, err, sizeof(err))) {
			refuse(s, err);
			return true;
		}
		if (s->req_body > SESSION_REQ_MAX) {
			refuse(s, "request too large");
			return true;
		}
	}
	if (s->req_have == PROTO_HDR_LEN + s->req_body)
		request_complete(s);
	return true;
}

static bool step_write(struct session *s)
{
	int ret = mbedtls_ssl_write(&s->ssl, s->out + s->out_off,
				    s->out_len - s->out_off);

	if (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return false;
	if (ret < 0) {
		session_fail(s, "TLS write failed", ret);
		return false;
	}
	s->out_off += (size_t)ret;
	if (s->out_off < s->out_len)
		return true;
	answer_free(s);
	if (s->noting) { /* a PROTO_WAIT note: back to waiting */
		s->noting = false;
		s->state = S_SERVICE;
		s->deadline = s->service_deadline;
		s->note_at = deadline_in(PROTO_WAIT_NOTE_S, 0);
		return true;
	}
	if (s->close_after) {
		(void)mbedtls_ssl_close_notify(&s->ssl); /* best effort */
		session_free(s, true);
		return false;
	}
	s->state = S_READY;
	s->deadline = deadline_in(IDLE_S, TPGVM_WORK_CYCLES);
	return true;
}

static bool step(struct session *s)
{
	if (rdtsc() > s->deadline) {
		con_printf("tpgvm: session %u (%s): timed out %s; closed\n", s->sid,
			   s->who.name[0] ? s->who.name : "not authenticated",
			   s->state == S_HANDSHAKE ? "in the handshake" :
			   s->state == S_SERVICE ? "waiting for the service" :
			   s->state == S_WRITING ? "writing its answer" : "idle");
		session_free(s, true);
		return false;
	}
	switch (s->state) {
	case S_HANDSHAKE:
		return step_handshake(s);
	case S_READY:
		return step_read(s);
	case S_SERVICE:
		return step_service(s);
	case S_WRITING:
		return step_write(s);
	case S_FREE:
		break;
	}
	return false;
}

bool sessions_step(void)
{
	bool progress = false;

	for (int i = 0; i < SESSION_MAX; i++) {
		for (int n = 0; n < STEP_BUDGET && sessions[i].state != S_FREE; n++) {
			if (!step(&sessions[i]))
				break;
			progress = true;
		}
	}
	return progress;
}
