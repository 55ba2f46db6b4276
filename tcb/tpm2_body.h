/*
 * Reading the body of a TPM response front to back, shared by the command
 * parsers (tcb/tpm2_cmd.c, tpm2_session.c, tpm2_nv.c, tpm2_authorize.c,
 * tpm2_tcb_key.c): each step names the field it reads, for the message
 * when the bytes run out or hold what they must not. Internal to those
 * files.
 */
#ifndef CUSTOS_TCB_TPM2_BODY_H
#define CUSTOS_TCB_TPM2_BODY_H

#include <custos/types.h>
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"
#include "tcb/tpm2_cmd.h"

struct tpm2_body {
	const uint8_t *p;
	size_t left;
	const char *cmd;  /* the command's name, for messages */
	char *err;
	size_t err_len;
};

static inline void tpm2_set_rc(uint32_t *rc, uint32_t v)
{
	if (rc)
		*rc = v;
}

static inline void tpm2_clear_err(char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
}

/* The header of a response to cmd (tag: with or without sessions), its
 * code into rc (TPM2_RC_MALFORMED for a header that is not one); the body
 * after it in r. -1 and why for a malformed header or a refusal. */
static inline int tpm2_open_response(struct tpm2_body *r, const uint8_t *rsp, size_t len,
				     uint16_t tag, const char *cmd, uint32_t *rc,
				     char *err, size_t err_len)
{
	uint32_t code;

	tpm2_set_rc(rc, TPM2_RC_MALFORMED);
	if (tpm2_response_header(rsp, len, tag, &code, err, err_len) != 0)
		return -1;
	tpm2_set_rc(rc, code);
	if (code != TPM2_RC_SUCCESS) {
		errmsg(err, err_len, "%s failed: %s", cmd, tpm2_rc_name(code));
		return -1; /* (errmsg does too: said here, where the compiler sees it) */
	}
	*r = (struct tpm2_body){ rsp + TPM2_HEADER_LEN, len - TPM2_HEADER_LEN, cmd,
				 err, err_len };
	return 0;
}

/* The next n bytes at *at; -1 (and why) when fewer are left. */
static inline int tpm2_take(struct tpm2_body *b, size_t n, const char *field,
			    const uint8_t **at)
{
	if (b->left < n) {
		errmsg(b->err, b->err_len, "%s response truncated in %s", b->cmd,
		       field);
		return -1;
	}
	*at = b->p;
	b->p += n;
	b->left -= n;
	return 0;
}

/* A big-endian field of n (1, 2 or 4) bytes. */
static inline int tpm2_take_be(struct tpm2_body *b, size_t n, const char *field,
			       uint32_t *v)
{
	const uint8_t *at;

	if (tpm2_take(b, n, field, &at) != 0)
		return -1;
	*v = n == 1 ? at[0] : n == 2 ? load_be16(at) : load_be32(at);
	return 0;
}

/* A TPM2B of min..max bytes: its contents at *at, their count in *len. */
static inline int tpm2_take_tpm2b(struct tpm2_body *b, const char *field,
				  uint32_t min, uint32_t max, const uint8_t **at,
				  uint32_t *len)
{
	if (tpm2_take_be(b, 2, field, len) != 0)
		return -1;
	if (*len < min || *len > max) {
		errmsg(b->err, b->err_len, "%s response: %s of %u bytes (must be %u..%u)",
		       b->cmd, field, *len, min, max);
		return -1;
	}
	return tpm2_take(b, *len, field, at);
}

/* The next n bytes as a body of their own (a sized structure). */
static inline int tpm2_take_sub(struct tpm2_body *b, size_t n, const char *field,
				struct tpm2_body *sub)
{
	const uint8_t *at;

	if (tpm2_take(b, n, field, &at) != 0)
		return -1;
	*sub = (struct tpm2_body){ at, n, b->cmd, b->err, b->err_len };
	return 0;
}

/* Nothing may follow the last field of what (a structure or the response). */
static inline int tpm2_at_end(const struct tpm2_body *b, const char *what)
{
	if (b->left) {
		errmsg(b->err, b->err_len, "%s response: %zu bytes left over in %s",
		       b->cmd, b->left, what);
		return -1;
	}
	return 0;
}

/* A field of size (1, 2 or 4) bytes that must hold want. */
static inline int tpm2_expect(struct tpm2_body *b, const char *field, uint8_t size,
			      uint32_t want)
{
	uint32_t v;

	if (tpm2_take_be(b, size, field, &v) != 0)
		return -1;
	if (v != want) {
		errmsg(b->err, b->err_len, "%s response: %s 0x%0*x, expected 0x%0*x",
		       b->cmd, field, 2 * size, v, 2 * size, want);
		return -1;
	}
	return 0;
}

/* The password session's auth area (empty nonce and hmac, attributes 0 or
 * continueSession), to the end of the response. */
static inline int tpm2_take_pw_auth(struct tpm2_body *b)
{
	uint32_t attrs;

	if (tpm2_expect(b, "nonceTPM.size", 2, 0) != 0 ||
	    tpm2_take_be(b, 1, "sessionAttributes", &attrs) != 0)
		return -1;
	if (attrs & ~0x01u) {
		errmsg(b->err, b->err_len,
		       "%s response: session attributes 0x%02x (a password session's are 0x00 or 0x01)",
		       b->cmd, attrs);
		return -1;
	}
	if (tpm2_expect(b, "hmac.size", 2, 0) != 0)
		return -1;
	return tpm2_at_end(b, "the response");
}

#endif
