/* Answers in heap buffers (tpgvm/answer.h). */
#include "tpgvm/answer.h"
#include <custos/proto.h>

#include <heap.h>

void answer_msg(uint16_t type, const void *body, size_t len,
		uint8_t **out, size_t *out_len)
{
	size_t cap = PROTO_HDR_LEN + len;

	*out = heap_alloc(cap);
	*out_len = *out ? proto_encode(type, body, len, *out, cap) : 0;
	if (*out && !*out_len) {
		heap_free(*out);
		*out = NULL;
	}
}

void answer_error(uint32_t code, const char *text, uint8_t **out,
		  size_t *out_len)
{
	size_t cap = PROTO_HDR_LEN + 4 + PROTO_ERROR_TEXT_MAX;

	*out = heap_alloc(cap);
	*out_len = *out ? proto_encode_error(code, text, *out, cap) : 0;
	if (*out && !*out_len) {
		heap_free(*out);
		*out = NULL;
	}
}
