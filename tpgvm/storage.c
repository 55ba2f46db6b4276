/*
 * Whole-blob operations over the relay's storage requests (tpgvm/storage.h,
 * docs/relay.md "Storage"): a put is PUT chunks of STORAGE_CHUNK bytes in
 * order, then COMMIT with the total; a get is GET from offset 0 until the
 * relay answers empty data, with the total checked on every answer; a
 * delete is one DELETE. One request of an operation is out at a time.
 *
 * Streamed puts and gets move a piece at a time, its chunks in up to
 * STORAGE_WINDOW requests at once, each with its own id and deadline
 * (struct sreq): put chunks go out in offset order, so the relay, which
 * answers in the order it reads, never sees a hole; get chunks are issued
 * only once the first answer has told the blob's size (the relay refuses a
 * GET beyond the end), and every answer must bring exactly the bytes its
 * chunk asked for, cut at that size.
 */
#include "tpgvm/storage.h"
#include "tcb/byteorder.h"
#include "tpgvm/deadline.h"
#include "tpgvm/transport.h"
#include "crypto/crypto.h"

#include <string.h>

#define ST_PUT    1
#define ST_COMMIT 2
#define ST_GET    3
#define ST_DELETE 4

#define STORED_OK      0
#define STORED_MISSING 1
#define STORED_IO      2
#define STORED_BAD     3

enum op_kind { OP_FREE, OP_PUT, OP_GET, OP_DELETE, OP_PUT_STREAM, OP_GET_STREAM };

/* One request of a streamed operation's piece. Sent again, it keeps its
 * id: an answer to either sending is the answer. */
struct sreq {
	bool out;            /* sent, not answered */
	bool resend;         /* to be sent again (lost, or the queue was full) */
	uint16_t id;
	uint32_t first;      /* the operation's count of sends at its first */
	uint32_t seq;        /* ... and at its latest */
	uint32_t off;        /* in the piece */
	uint32_t len;
	uint64_t deadline;   /* STORAGE_REQ_S of silence: the operation fails */
	uint64_t resend_at;  /* STORAGE_RESEND_S of silence: sent again */
};

struct op {
	enum op_kind kind;
	enum storage_result result;
	bool detached;       /* released while running: free when final */
	bool sent;           /* the current request is out */
	bool committing;     /* put: the data is out, COMMIT is next/out */
	uint16_t id;         /* request id of the current request */
	char name[STORAGE_NAME_MAX + 1];
	uint8_t name_len;
	const uint8_t *src;  /* put */
	uint8_t *dst;        /* get */
	size_t len;          /* put: blob size; get: capacity */
	size_t done;         /* bytes put or got so far */
	size_t chunk;        /* put: bytes in the current PUT */
	uint32_t total;      /* get: the size the relay says */
	bool have_total;
	uint64_t deadline;   /* the current request fails after this */
	uint64_t resend_at;  /* ... and is sent again after this */
	bool resending;      /* the current request went out before */
	const char *why;
	/* Streamed operations: the piece under way, its requests. */
	struct sreq win[STORAGE_WINDOW];
	uint32_t sends;      /* chunk requests sent, resends included */
	const uint8_t *psrc; /* put: the piece */
	uint8_t *pdst;       /* get: where it goes */
	uint64_t poff;       /* its blob offset */
	size_t plen;         /* its length (get: cut at the blob's end) */
	size_t pnext;        /* bytes of it asked for */
	size_t pdone;        /* bytes of it the relay took or gave */
	uint64_t end;        /* put: the blob's bytes given so far */
	bool piece;          /* a piece is under way */
	bool last;           /* put: the last piece is given */
};

static struct op ops[STORAGE_OPS];
static uint16_t next_id = 1;
static const struct transport *transport; /* main.c's (storage_init) */

void storage_init(const struct transport *t)
{
	transport = t;
}

/* A request id for a new request (a resend keeps its own). */
static uint16_t take_id(void)
{
	uint16_t id = next_id;

	next_id = next_id == 0xffff ? 1 : (uint16_t)(next_id + 1);
	return id;
}

static bool name_ok(const char *s, size_t *n)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (i >= STORAGE_NAME_MAX ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	*n = i;
	return i > 0 && s[0] != '.';
}

static int op_new(enum op_kind kind, const char *name)
{
	struct op *o = NULL;
	size_t n;
	int h = -1;

	if (!name_ok(name, &n))
		return -1;
	for (int i = 0; i < STORAGE_OPS; i++) {
		if (ops[i].kind == OP_FREE) {
			if (!o) {
				o = &ops[i];
				h = i;
			}
		} else if (ops[i].result == STORAGE_PENDING &&
			   !strcmp(ops[i].name, name)) {
			return -1; /* one operation per blob at a time */
		}
	}
	if (!o)
		return -1;
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->result = STORAGE_PENDING;
	memcpy(o->name, name, n + 1);
	o->name_len = (uint8_t)n;
	return h;
}

int storage_put(const char *name, const uint8_t *buf, size_t len)
{
	int h;

	if (len > 0xffffffffu || (len && !buf))
		return -1;
	h = op_new(OP_PUT, name);
	if (h >= 0) {
		ops[h].src = buf;
		ops[h].len = len;
	}
	return h;
}

int storage_get(const char *name, uint8_t *buf, size_t cap)
{
	int h = op_new(OP_GET, name);

	if (h >= 0) {
		ops[h].dst = buf;
		ops[h].len = cap;
	}
	return h;
}

int storage_delete(const char *name)
{
	return op_new(OP_DELETE, name);
}

int storage_put_stream(const char *name)
{
	return op_new(OP_PUT_STREAM, name);
}

int storage_put_stream_at(const char *name, uint64_t off)
{
	int h;

	if (off > 0xffffffffu)
		return -1;
	h = op_new(OP_PUT_STREAM, name);
	if (h >= 0)
		ops[h].end = off;
	return h;
}

int storage_get_stream(const char *name)
{
	return op_new(OP_GET_STREAM, name);
}

static struct op *op_get(int h)
{
	return h >= 0 && h < STORAGE_OPS && ops[h].kind != OP_FREE ? &ops[h] : NULL;
}

static void op_free(struct op *o)
{
	memset(o, 0, sizeof(*o));
}

static void finish(struct op *o, enum storage_result r, const char *why)
{
	o->result = r;
	o->why = why;
	o->sent = false;
	memset(o->win, 0, sizeof(o->win));
	o->piece = false;
	if (o->detached)
		op_free(o);
}

static bool streamed(const struct op *o)
{
	return o->kind == OP_PUT_STREAM || o->kind == OP_GET_STREAM;
}

/* The piece has all its bytes: a put's last is followed by COMMIT. */
static void piece_check(struct op *o)
{
	if (!o->piece || o->pdone != o->plen)
		return;
	o->piece = false;
	if (o->kind == OP_PUT_STREAM && o->last) {
		o->done = (size_t)o->end; /* COMMIT's offset: the total */
		o->committing = true;
		o->sent = false;
	}
}

static struct op *stream_op(int h, enum op_kind kind)
{
	struct op *o = op_get(h);

	if (!o || o->kind != kind || o->result != STORAGE_PENDING || o->piece ||
	    o->committing)
		return NULL;
	return o;
}

int storage_put_piece(int h, const uint8_t *buf, size_t len, bool last)
{
	struct op *o = stream_op(h, OP_PUT_STREAM);

	if (!o || o->last || (len && !buf) || len > 0xffffffffu - o->end)
		return -1;
	o->psrc = buf;
	o->poff = o->end;
	o->plen = len;
	o->pnext = o->pdone = 0;
	o->end += len;
	o->last = last;
	o->piece = true;
	piece_check(o);
	return 0;
}

int storage_get_piece(int h, uint64_t off, uint8_t *buf, size_t cap)
{
	struct op *o = stream_op(h, OP_GET_STREAM);

	if (!o || !buf || off > 0xffffffffu || (!o->have_total && !cap) ||
	    (o->have_total && off > o->total))
		return -1;
	if (o->have_total && cap > o->total - off)
		cap = (size_t)(o->total - off);
	o->pdst = buf;
	o->poff = off;
	o->plen = cap;
	o->pnext = o->pdone = 0;
	o->piece = true;
	piece_check(o);
	return 0;
}

bool storage_stream_total(int h, uint64_t *total)
{
	const struct op *o = op_get(h);

	if (!o || o->kind != OP_GET_STREAM || !o->have_total)
		return false;
	*total = o->total;
	return true;
}

enum storage_result storage_poll(int h, size_t *len, const char **why)
{
	struct op *o = op_get(h);

	if (!o)
		return STORAGE_FAILED;
	if (o->result != STORAGE_PENDING) {
		if (len)
			*len = o->done;
		if (why)
			*why = o->why ? o->why : "ok";
	} else if (streamed(o) && !o->piece && !o->committing) {
		if (len)
			*len = o->pdone;
		if (why)
			*why = "ok";
		return STORAGE_PIECE;
	}
	return o->result;
}

void storage_release(int h)
{
	struct op *o = op_get(h);

	if (!o)
		return;
	if (o->kind == OP_DELETE && o->result == STORAGE_PENDING)
		o->detached = true; /* best effort: let it run */
	else
		op_free(o);
}

/* ---- Requests ------------------------------------------------------------ */

/* The operation's next request into the output queue, if it has room. */
static bool send_next(struct op *o)
{
	uint8_t req[6 + STORAGE_NAME_MAX + STORAGE_CHUNK];
	size_t n = 0, data = 0;
	uint8_t opc;
	uint32_t off = (uint32_t)o->done;

	switch (o->kind) {
	case OP_PUT_STREAM:
		if (!o->committing)
			return false;
		opc = ST_COMMIT;
		break;
	case OP_PUT:
		if (o->committing) {
			opc = ST_COMMIT;
		} else {
			opc = ST_PUT;
			data = o->len - o->done;
			if (data > STORAGE_CHUNK)
				data = STORAGE_CHUNK;
		}
		break;
	case OP_GET:
		opc = ST_GET;
		break;
	case OP_DELETE:
		opc = ST_DELETE;
		off = 0;
		break;
	default:
		return false;
	}
	req[n++] = opc;
	req[n++] = o->name_len;
	memcpy(req + n, o->name, o->name_len);
	n += o->name_len;
	store_le32(req + n, off);
	n += 4;
	if (data)
		memcpy(req + n, o->src + o->done, data);
	n += data;
	if (!o->resending)
		o->id = take_id();
	if (!transport->store(o->id, req, n))
		return false;
	o->chunk = data;
	o->sent = true;
	if (!o->resending)
		o->deadline = deadline_in(STORAGE_REQ_S, TPGVM_WORK_CYCLES);
	o->resend_at = deadline_in(STORAGE_RESEND_S, 0);
	return true;
}

/* PUT of data and GET: doing one twice changes nothing (STORAGE_RESEND_S). */
static bool idempotent(const struct op *o)
{
	return (o->kind == OP_PUT && !o->committing) || o->kind == OP_GET;
}

/* A chunk of a streamed operation's piece into the output queue. */
static bool send_chunk(struct op *o, struct sreq *r)
{
	uint8_t req[6 + STORAGE_NAME_MAX + STORAGE_CHUNK];
	size_t n = 0, data = o->kind == OP_PUT_STREAM ? r->len : 0;

	req[n++] = o->kind == OP_PUT_STREAM ? ST_PUT : ST_GET;
	req[n++] = o->name_len;
	memcpy(req + n, o->name, o->name_len);
	n += o->name_len;
	store_le32(req + n, (uint32_t)(o->poff + r->off));
	n += 4;
	if (data)
		memcpy(req + n, o->psrc + r->off, data);
	n += data;
	if (!transport->store(r->id, req, n))
		return false;
	r->seq = ++o->sends;
	if (!r->out) {
		r->first = r->seq;
		r->deadline = deadline_in(STORAGE_REQ_S, TPGVM_WORK_CYCLES);
	}
	r->out = true;
	r->resend = false;
	r->resend_at = deadline_in(STORAGE_RESEND_S, 0);
	return true;
}

static unsigned chunks_out(const struct op *o)
{
	unsigned n = 0;

	for (unsigned k = 0; k < STORAGE_WINDOW; k++)
		n += o->win[k].out;
	return n;
}

/* A put's PUT at offset 0 is out: it truncates the part file at the relay,
 * so a resend of it must not come after PUTs beyond it (their bytes would
 * go): it is answered before any other is sent. */
static bool truncating_put_out(const struct op *o)
{
	for (unsigned k = 0; k < STORAGE_WINDOW; k++)
		if (o->win[k].out && o->poff + o->win[k].off == 0)
			return true;
	return false;
}

/* A streamed operation: deadlines, resends (both requests are
 * idempotent), new chunks of its piece while the window has room (a get:
 * one alone until the blob's size is known; a put: the one at offset 0
 * alone), and a put's COMMIT. */
static bool stream_step(struct op *o, uint64_t now)
{
	bool sent = false;

	for (unsigned k = 0; k < STORAGE_WINDOW; k++) {
		struct sreq *r = &o->win[k];

		if (!r->out)
			continue;
		if (now > r->deadline) {
			finish(o, STORAGE_FAILED, "the relay did not answer in time");
			return sent;
		}
		if (r->resend || now > r->resend_at) {
			r->resend = true;
			if (!send_chunk(o, r))
				return sent; /* the queue is full: next step */
			sent = true;
		}
	}
	for (unsigned k = 0; k < STORAGE_WINDOW && o->piece && o->pnext < o->plen; k++) {
		struct sreq *r = &o->win[k];
		size_t len = o->plen - o->pnext;

		if (r->out)
			continue;
		if (o->kind == OP_GET_STREAM ? !o->have_total && chunks_out(o)
					     : truncating_put_out(o))
			break;
		*r = (struct sreq){ .id = take_id(), .off = (uint32_t)o->pnext,
				    .len = (uint32_t)(len < STORAGE_CHUNK ? len : STORAGE_CHUNK) };
		if (!send_chunk(o, r))
			break;
		o->pnext += r->len;
		sent = true;
	}
	if (o->committing && !o->sent) {
		sent |= send_next(o);
	} else if (o->committing && now > o->deadline) {
		finish(o, STORAGE_FAILED, "the relay did not answer in time");
	}
	return sent;
}

bool storage_step(void)
{
	bool sent = false;
	uint64_t now = tpgvm_now();

	for (int i = 0; i < STORAGE_OPS; i++) {
		struct op *o = &ops[i];

		if (o->kind == OP_FREE || o->result != STORAGE_PENDING)
			continue;
		if (streamed(o)) {
			sent |= stream_step(o, now);
		} else if (!o->sent) {
			sent |= send_next(o);
		} else if (now > o->deadline) {
			finish(o, STORAGE_FAILED, "the relay did not answer in time");
		} else if (now > o->resend_at && idempotent(o)) {
			o->resending = true;
			o->sent = false;
			sent |= send_next(o);
		}
	}
	return sent;
}

static const char *status_text(uint8_t status)
{
	switch (status) {
	case STORED_IO:
		return "the relay had an I/O error";
	case STORED_BAD:
		return "the relay refused the request (no storage configured?)";
	default:
		return "the relay gave an unknown status";
	}
}

/* A GET answer: data at o->done, the blob's total size. */
static void got(struct op *o, uint32_t total, const uint8_t *data, size_t n)
{
	if (!o->have_total) {
		if (total > o->len) {
			finish(o, STORAGE_TOO_LARGE, "the stored blob is larger than the buffer");
			return;
		}
		o->total = total;
		o->have_total = true;
	} else if (total != o->total) {
		finish(o, STORAGE_FAILED, "the stored blob changed while it was read");
		return;
	}
	if (n > STORAGE_CHUNK || n > o->total - o->done) {
		finish(o, STORAGE_FAILED, "the relay sent more than the blob holds");
		return;
	}
	if (!n) {
		if (o->done != o->total)
			finish(o, STORAGE_FAILED, "the relay ended the blob early");
		else
			finish(o, STORAGE_OK, NULL);
		return;
	}
	memcpy(o->dst + o->done, data, n);
	o->done += n;
}

/*
 * An answer to chunk r has come: the relay is working through the window.
 * It answers in the order it reads, so a request last sent before r was
 * first sent, still unanswered, was lost on the way, or its answer was:
 * send it again now (whichever sending of r this answers). The others are not late while answers come, so
 * their silence timers start again.
 */
static void chunk_progress(struct op *o, const struct sreq *r)
{
	uint64_t resend_at = deadline_in(STORAGE_RESEND_S, 0);
	uint64_t deadline = deadline_in(STORAGE_REQ_S, TPGVM_WORK_CYCLES);

	for (unsigned k = 0; k < STORAGE_WINDOW; k++) {
		struct sreq *q = &o->win[k];

		if (!q->out || q == r)
			continue;
		if ((int32_t)(q->seq - r->first) < 0)
			q->resend = true;
		if (q->resend_at < resend_at)
			q->resend_at = resend_at;
		if (q->deadline < deadline)
			q->deadline = deadline;
	}
}

/* The answer to a chunk r of a streamed operation's piece (status OK). */
static void chunk_answered(struct op *o, struct sreq *r, const uint8_t *p, size_t len)
{
	chunk_progress(o, r);
	r->out = false;
	if (o->kind == OP_PUT_STREAM) {
		if (len != 5) {
			finish(o, STORAGE_FAILED, "the relay's answer is malformed");
			return;
		}
		o->pdone += r->len;
		piece_check(o);
		return;
	}
	uint32_t total = load_le32(p + 1);
	uint64_t at = o->poff + r->off, got_n;
	size_t want;

	if (!o->have_total) {
		if (at > total) {
			finish(o, STORAGE_FAILED, "the piece asked for is beyond the blob");
			return;
		}
		o->total = total;
		o->have_total = true;
		if (o->plen > total - o->poff) { /* cut at the end: one chunk is out */
			o->plen = (size_t)(total - o->poff);
			if (o->pnext > o->plen)
				o->pnext = o->plen;
		}
	} else if (total != o->total) {
		finish(o, STORAGE_FAILED, "the stored blob changed while it was read");
		return;
	}
	/* The relay reads up to STORAGE_CHUNK bytes from the offset: exactly
	 * that many, cut at the blob's end, of which the piece takes its own. */
	got_n = at < total ? total - at : 0;
	if (got_n > STORAGE_CHUNK)
		got_n = STORAGE_CHUNK;
	want = r->off < o->plen ? o->plen - r->off : 0;
	if (want > r->len)
		want = r->len;
	if (len - 5 != got_n || want > got_n) {
		finish(o, STORAGE_FAILED, "the relay sent another amount than asked for");
		return;
	}
	memcpy(o->pdst + r->off, p + 5, want);
	o->pdone += want;
	piece_check(o);
}

void storage_on_stored(uint16_t id, const uint8_t *p, size_t len)
{
	struct op *o = NULL;
	struct sreq *r = NULL;
	uint8_t status;

	for (int i = 0; i < STORAGE_OPS && !o; i++) {
		struct op *c = &ops[i];

		if (c->kind == OP_FREE || c->result != STORAGE_PENDING)
			continue;
		if (c->sent && c->id == id)
			o = c;
		for (unsigned k = 0; k < STORAGE_WINDOW && !o && streamed(c); k++)
			if (c->win[k].out && c->win[k].id == id) {
				o = c;
				r = &c->win[k];
			}
	}
	if (!o)
		return; /* late, duplicated or never ours */
	if (len < 5) {
		finish(o, STORAGE_FAILED, "the relay's answer is malformed");
		return;
	}
	status = p[0];
	if (!r) {
		o->sent = false;
		o->resending = false;
	}
	if (status == STORED_MISSING) {
		finish(o, STORAGE_MISSING, "the relay has no such blob");
		return;
	}
	if (status != STORED_OK) {
		finish(o, STORAGE_FAILED, status_text(status));
		return;
	}
	if (r) {
		chunk_answered(o, r, p, len);
		return;
	}
	switch (o->kind) {
	case OP_PUT_STREAM:
		if (len != 5)
			finish(o, STORAGE_FAILED, "the relay's answer is malformed");
		else
			finish(o, STORAGE_OK, NULL); /* COMMIT */
		break;
	case OP_PUT:
		if (len != 5) {
			finish(o, STORAGE_FAILED, "the relay's answer is malformed");
		} else if (o->committing) {
			finish(o, STORAGE_OK, NULL);
		} else {
			o->done += o->chunk;
			if (o->done == o->len)
				o->committing = true;
		}
		break;
	case OP_GET:
		got(o, load_le32(p + 1), p + 5, len - 5);
		break;
	case OP_DELETE:
		finish(o, STORAGE_OK, NULL);
		break;
	default:
		break;
	}
}

void storage_relay_restarted(void)
{
	for (int i = 0; i < STORAGE_OPS; i++)
		if (ops[i].kind != OP_FREE && ops[i].result == STORAGE_PENDING)
			finish(&ops[i], STORAGE_FAILED, "the relay restarted");
}

/* "<first 16 bytes of SHA-256(tag || owner || measurement) in hex><suffix>" */
static void hashed_name(const char *tag, const uint8_t owner[48],
			const uint8_t measurement[48], const char *suffix,
			char *out)
{
	static const char hex[] = "0123456789abcdef";
	struct crypto_sha256_ctx h;
	uint8_t digest[CRYPTO_SHA256_LEN];
	size_t n = 0;

	crypto_sha256_init(&h);
	crypto_sha256_update(&h, tag, strlen(tag));
	crypto_sha256_update(&h, owner, 48);
	crypto_sha256_update(&h, measurement, 48);
	crypto_sha256_final(&h, digest);
	for (int i = 0; i < 16; i++) {
		out[n++] = hex[digest[i] >> 4];
		out[n++] = hex[digest[i] & 15];
	}
	memcpy(out + n, suffix, strlen(suffix) + 1);
}

void storage_blob_name(const uint8_t owner[48], const uint8_t measurement[48],
		       char *out)
{
	hashed_name("CUSTOS-BLOB-NAME-1", owner, measurement, ".sealed", out);
}

void storage_boot_name(const uint8_t owner[48], const uint8_t measurement[48],
		       char *out)
{
	hashed_name("CUSTOS-BOOT-NAME-1", owner, measurement, ".boot", out);
}
