#include "tpgvm/service.h"
#include "tpgvm/tls_server.h"
#include "guests/runtime/guest.h"
#include <custos/report.h>

#include <heap.h>
#include <string.h>

/* One report at a time (one CPU, one request handled at a time). */
static uint8_t report_buf[REPORT_MAX_SIZE];

void service_answer(uint16_t type, const void *body, size_t len,
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

void service_answer_error(uint32_t code, const char *text, uint8_t **out,
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

/* The TCB signs a report over the tenant's nonce and our TLS key: the
 * tenant checks that the key is the one its TLS session ends at. */
static void attest(const struct tenant *who, const struct proto_msg *m,
		   uint8_t **out, size_t *out_len)
{
	struct custos_report_request req;
	long n;

	memset(&req, 0, sizeof(req));
	req.nonce_len = m->len;
	memcpy(req.nonce, m->body, m->len); /* proto_parse checked 32..64 */
	memcpy(req.tls_key_hash, tls_server_key_hash(), sizeof(req.tls_key_hash));
	n = hc_report(&req, report_buf, sizeof(report_buf));
	if (n <= 0) {
		con_printf("tpgvm: report for %s failed (TCB said %ld)\n", who->name, n);
		service_answer_error(PROTO_ERR_INTERNAL, "the TCB could not make a report",
			     out, out_len);
		return;
	}
	con_printf("tpgvm: report for %s (%ld bytes)\n", who->name, n);
	service_answer(PROTO_ATTEST_RESP, report_buf, (size_t)n, out, out_len);
}

bool service_is_request(uint16_t type)
{
	return type == PROTO_ATTEST_REQ ||
	       (type >= PROTO_VM_CREATE && type <= PROTO_VM_CONSOLE_INPUT);
}

bool service_handle(const struct tenant *who, const struct proto_msg *m,
		    uint8_t **out, size_t *out_len, uint32_t *ticket)
{
	switch (m->type) {
	case PROTO_ATTEST_REQ:
		attest(who, m, out, out_len);
		return false;
	case PROTO_VM_CREATE:
	case PROTO_VM_UPLOAD:
	case PROTO_VM_START:
	case PROTO_VM_STOP:
	case PROTO_VM_DESTROY:
	case PROTO_VM_STATUS:
	case PROTO_VM_LIST:
	case PROTO_VM_CONSOLE:
	case PROTO_VM_CONSOLE_INPUT:
		return vm_service_handle(who, m, out, out_len, ticket);
	default: /* the session refuses it before it comes here */
		service_answer_error(PROTO_ERR_BAD_REQUEST, "not a request", out, out_len);
		return false;
	}
}
