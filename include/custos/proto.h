/*
 * The tenant protocol: the messages a tenant and the TPGVM exchange inside
 * their TLS channel (docs/protocol.md is the byte-exact spec). Shared by the
 * TPGVM and the tenant CLI (build/bin/custos) so they cannot drift apart.
 *
 * A message is an 8-byte header and a body:
 *   u32 body length (little-endian), u16 type, u16 reserved (must be 0)
 * The peer is untrusted in both directions (a tenant may be hostile, and the
 * TPGVM may be an impostor until its report verifies), so every header is
 * checked against the limits of its type before its length is believed.
 */
#ifndef CUSTOS_PROTO_H
#define CUSTOS_PROTO_H

#include <custos/types.h>

#define PROTO_HDR_LEN      8u
#define PROTO_MAX_BODY     (80u << 10) /* >= the largest body of any type
                                          * (asserted in tpgvm/proto.c) */
#define PROTO_ERROR_TEXT_MAX 200u

enum proto_type {
	/* tenant -> TPGVM: body = nonce, REPORT_NONCE_MIN..MAX bytes */
	PROTO_ATTEST_REQ = 1,
	/* TPGVM -> tenant: body = the signed report (include/custos/report.h) */
	PROTO_ATTEST_RESP = 2,
	/* TPGVM -> tenant: body = u32 code (enum proto_error) + text
	 * (0..PROTO_ERROR_TEXT_MAX printable ASCII bytes, no NUL) */
	PROTO_ERROR = 3,
};

/* Codes of PROTO_ERROR messages. */
enum proto_error {
	PROTO_ERR_BAD_REQUEST = 1, /* malformed or unexpected message */
	PROTO_ERR_INTERNAL = 2,    /* the TPGVM or the TCB failed */
	PROTO_ERR_BUSY = 3,        /* try again later */
};

/* A checked message; body points into the caller's buffer. */
struct proto_msg {
	uint16_t type;
	uint32_t len;
	const uint8_t *body;
};

/*
 * Check a header (PROTO_HDR_LEN bytes): known type, reserved zero, body
 * length within the type's limits. 0 and *type / *len set, or -1 with a
 * one-line reason in err (err may be NULL).
 */
int proto_parse_header(const uint8_t hdr[PROTO_HDR_LEN], uint16_t *type,
		       uint32_t *len, char *err, size_t err_len);

/* Check a whole message (header + exactly its body, nothing after) and its
 * body's structure (nonce length, error code and text). 0 or -1 + err. */
int proto_parse(const uint8_t *buf, size_t len, struct proto_msg *out,
		char *err, size_t err_len);

/* Write a header for a body of len bytes into hdr. */
void proto_write_header(uint8_t hdr[PROTO_HDR_LEN], uint16_t type, uint32_t len);

/* Encode a whole message into buf; bytes written, or 0 if it does not fit
 * or the body is invalid for the type. */
size_t proto_encode(uint16_t type, const void *body, size_t len, uint8_t *buf,
		    size_t cap);

/* Encode PROTO_ERROR(code, text); text is cut to PROTO_ERROR_TEXT_MAX and
 * any byte outside 0x20..0x7e becomes '?'. Bytes written or 0. */
size_t proto_encode_error(uint32_t code, const char *text, uint8_t *buf,
			  size_t cap);

/*
 * Incremental reader for a byte stream: feed whatever arrived; it keeps at
 * most one message (header + PROTO_MAX_BODY) in the caller's buffer.
 *   PROTO_READ_MORE   need more bytes
 *   PROTO_READ_MSG    *msg is a whole checked message (valid until the
 *                     next call); *used says how many input bytes it took
 *   PROTO_READ_ERROR  the stream is malformed (err says why): close it
 * *used is set on every return. The reader takes only the bytes that
 * complete the current message, so the caller feeds the rest (the next
 * message) in the next call. A header that its type's limits or cap
 * refuse fails as soon as it is complete, without waiting for the body.
 * After an error every further call fails again.
 */
enum proto_read_status { PROTO_READ_MORE, PROTO_READ_MSG, PROTO_READ_ERROR };

struct proto_reader {
	uint8_t *buf;  /* caller's, at least PROTO_HDR_LEN + PROTO_MAX_BODY */
	size_t cap;
	size_t have;
	bool deliver_pending; /* a message was returned; drop it on next feed */
};

void proto_reader_init(struct proto_reader *r, uint8_t *buf, size_t cap);
enum proto_read_status proto_reader_feed(struct proto_reader *r,
					 const uint8_t *data, size_t len,
					 size_t *used, struct proto_msg *msg,
					 char *err, size_t err_len);

#endif
