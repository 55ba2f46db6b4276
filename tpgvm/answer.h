/*
 * An answer to a tenant's request, as one whole proto message in a heap
 * buffer (docs/protocol.md): what both services (service.c, vm_service.c)
 * answer with. *out is NULL (and *out_len 0) if there was no memory; the
 * session then closes.
 */
#ifndef CUSTOS_TPGVM_ANSWER_H
#define CUSTOS_TPGVM_ANSWER_H

#include <custos/types.h>

/* A message of type with body (len bytes). */
void answer_msg(uint16_t type, const void *body, size_t len,
		uint8_t **out, size_t *out_len);
/* An ERROR message: code and text (cut to PROTO_ERROR_TEXT_MAX). */
void answer_error(uint32_t code, const char *text, uint8_t **out,
		  size_t *out_len);

#endif
