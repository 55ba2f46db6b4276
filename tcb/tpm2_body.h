/*
 * Reading the body of a TPM response front to back, shared by the command
 * parsers (tcb/tpm2_cmd.c) and the session's (tcb/tpm2_session.c): each
 * step names the field it reads, for the message when the bytes run out.
 * Internal to those two files.
 */
#ifndef CUSTOS_TCB_TPM2_BODY_H
#define CUSTOS_TCB_TPM2_BODY_H

#include <custos/types.h>
#include "tcb/errmsg.h"

struct tpm2_body {
	const uint8_t *p;
	size_t left;
	const char *cmd;  /* the command's name, for messages */
	char *err;
	size_t err_len;
};

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

#endif
