/*
 * The TPGVM's client of the relay's blob storage (docs/relay.md, "Storage").
 *
 * Non-blocking and driven from the main loop: an operation on a whole blob
 * (put from a buffer, get into a buffer, delete) is a sequence of STORE
 * frames, each answered by one STORED frame before the next is sent; the
 * caller polls its handle until the result is final. A streamed put or
 * get moves a blob a piece at a time, with a window of requests in flight
 * (below). Every STORE carries a
 * fresh request id, so a late answer to a request given up is ignored.
 *
 * The relay is untrusted: it may answer anything or nothing. Each request
 * has a timeout, every answer is checked (sizes, totals that change, data
 * beyond what was asked), and a relay HELLO (it restarted) fails every
 * operation in flight. What it stores is ciphertext the TCB authenticates;
 * this layer only has to fail loudly rather than hand back a short blob.
 *
 * Portable: needs only the transport main.c hands it (tpgvm/transport.h:
 * its store), a clock (tpgvm_now, tpgvm/deadline.h) and the time base
 * (tcb/timebase.c), so the unit tests drive it with a fake relay.
 */
#ifndef CUSTOS_TPGVM_STORAGE_H
#define CUSTOS_TPGVM_STORAGE_H

#include <custos/types.h>

#define STORAGE_OPS      4      /* operations in flight at once */
#define STORAGE_NAME_MAX 64u    /* blob names: docs/relay.md */
#define STORAGE_CHUNK    900u   /* PUT and GET data per request */
/* A request not answered within this many seconds (plus the TPGVM's own
 * work meanwhile, TPGVM_WORK_CYCLES: tpgvm/deadline.h) fails the
 * operation; for a streamed one, seconds in which no answer to any of its
 * requests came (a window of answers queues on a slow line). A request and
 * its answer are two frames of at most 1 KiB each on the line and a file
 * operation at the relay. */
#define STORAGE_REQ_S    30u
/* A PUT or GET not answered within this many seconds (of a streamed
 * operation: in which none of its answers came) is sent again, with the
 * same id, so that an answer to either sending is taken: the line can lose
 * a frame (a real 16550's FIFO overflows while the TPGVM computes; the
 * relay drops a frame cut short), and both requests are idempotent. A new
 * id would throw away answers already on their way, and on a line slower
 * than a window per STORAGE_RESEND_S every answer would be thrown away.
 * A streamed operation also sends a request again at once when an answer
 * to one sent after it comes (the relay answers in order). COMMIT and
 * DELETE are not idempotent, and are sent once. */
#define STORAGE_RESEND_S 5u
/* Requests of one streamed put or get out at once (docs/relay.md,
 * "Storage": a window of chunks in flight). */
#define STORAGE_WINDOW   8u

enum storage_result {
	STORAGE_PENDING = 0, /* still running: poll again */
	STORAGE_OK,          /* done (get: *len is the blob's size) */
	STORAGE_MISSING,     /* the relay has no such blob */
	STORAGE_TOO_LARGE,   /* get: the blob is larger than the buffer */
	STORAGE_FAILED,      /* I/O error, refused, timeout, relay restart,
			      * or an answer that makes no sense */
	STORAGE_PIECE,       /* a streamed put or get: its piece is done
			      * (*len its bytes), it is open for the next */
};

/*
 * Start an operation on blob name (checked against the relay's rules);
 * a handle >= 0, or -1 if the name is bad, another operation on that
 * name is in flight, or all STORAGE_OPS slots are in use. The buffer must
 * stay valid until the operation is released.
 */
int storage_put(const char *name, const uint8_t *buf, size_t len);
int storage_get(const char *name, uint8_t *buf, size_t cap);
int storage_delete(const char *name);

/*
 * Streamed operations, for a blob that passes through a bounded window a
 * piece at a time (a sealed VM, docs/lifecycle.md "Streams"): up to
 * STORAGE_WINDOW requests of the current piece are out at once.
 *
 * A streamed put: storage_put_stream() opens it (a handle, or -1 as
 * above); storage_put_piece() gives the next len bytes of the blob (they
 * follow the previous piece's), last = the blob ends with them. Once the
 * relay has every chunk of a piece, storage_poll says STORAGE_PIECE (*len
 * its length) and buf may be reused; after the last piece it COMMITs
 * (the blob appears whole or not at all) and says STORAGE_OK.
 *
 * A streamed get: storage_get_stream() opens it; storage_get_piece() asks
 * for up to cap bytes at blob offset off into buf (any offset, in any
 * order; the first piece must have cap > 0: its answer tells the blob's
 * size, storage_stream_total); STORAGE_PIECE with *len the bytes got (cut
 * at the blob's end). It stays open until released.
 *
 * A piece call returns 0, or -1 (not such an operation, a piece under way,
 * the put's last piece given, off beyond the blob's end, no buffer); the
 * buffer must stay valid until the piece is done or the operation is
 * released. Any failure ends the operation (storage_poll's final result).
 */
int storage_put_stream(const char *name);
/* A streamed put that goes on at blob offset off > 0 of a put whose
 * pieces before off the relay has taken (they are in its part file,
 * docs/relay.md "Storage"): the retry of a put's last piece and COMMIT.
 * If the relay has no part file (it committed already, or lost it) the
 * first PUT answers STORAGE_MISSING. */
int storage_put_stream_at(const char *name, uint64_t off);
int storage_put_piece(int h, const uint8_t *buf, size_t len, bool last);
int storage_get_stream(const char *name);
int storage_get_piece(int h, uint64_t off, uint8_t *buf, size_t cap);
/* A streamed get's blob size, once an answer has told it. */
bool storage_stream_total(int h, uint64_t *total);

/* The operation's state; once final, *len (may be NULL) is the blob's
 * size for a get, and *why a short reason for a failure. */
enum storage_result storage_poll(int h, size_t *len, const char **why);
/* Forget the operation (final or not: a pending one is abandoned, its
 * late answer ignored). A delete may be released at once: it still runs,
 * best effort, and frees itself. */
void storage_release(int h);

struct transport;

/* From guest_main, before any operation: the transport the STORE frames go
 * out by (tpgvm/transport.h: its store). */
void storage_init(const struct transport *t);

/* From the main loop: send what waits (when the output queue has room)
 * and time out requests; true if anything was sent. */
bool storage_step(void);
/* A STORED frame from the relay. */
void storage_on_stored(uint16_t id, const uint8_t *p, size_t len);
/* The relay (re)started: every operation in flight fails. */
void storage_relay_restarted(void);

/* A VM's blob name in the relay's storage, "<32 hex digits>.sealed" into
 * out (at least STORAGE_NAME_MAX + 1 bytes): the first 16 bytes of
 * SHA-256("CUSTOS-BLOB-NAME-1" || owner || launch measurement). The host
 * reads the storage's file names; the tenant's VM name must not be one
 * (docs/architecture.md, "What the host learns"). Owner and measurement
 * are in the blob's clear header (docs/seal.md) anyway, so the name tells
 * nothing more; the measurement covers the VM name and, for an ELF VM,
 * the salted secrets, so it is new for every create. */
void storage_blob_name(const uint8_t owner[48], const uint8_t measurement[48],
		       char *out);
/* Its boot copy's name (the VM as loaded, sealed at its first start):
 * "<32 hex digits>.boot", SHA-256("CUSTOS-BOOT-NAME-1" || owner ||
 * measurement). */
void storage_boot_name(const uint8_t owner[48], const uint8_t measurement[48],
		       char *out);

#endif
