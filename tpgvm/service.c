/*
 * The services' front (tpgvm/service.h): the platform report answered
 * here, the VM requests handed down to vm_service.c.
 */
#include "tpgvm/service.h"
#include "tpgvm/answer.h"
#include "tpgvm/tls_server.h"
#include "tpgvm/vm_service.h"
#include "guests/runtime/guest.h"
#include <custos/report.h>

#include <string.h>

/* One report at a time (one CPU, one request handled at a time). */
static uint8_t report_buf[REPORT_MAX_SIZE];

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
		answer_error(PROTO_ERR_INTERNAL, "the TCB could not make a report",
			     out, out_len);
		return;
	}
	con_printf("tpgvm: report for %s (%ld bytes)\n", who->name, n);
	answer_msg(PROTO_ATTEST_RESP, report_buf, (size_t)n, out, out_len);
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
		answer_error(PROTO_ERR_BAD_REQUEST, "not a request", out, out_len);
		return false;
	}
}

/* Only VM requests are answered later, so every ticket is vm_service.c's. */
bool service_poll(uint32_t ticket, uint8_t **out, size_t *out_len)
{
	return vm_service_poll(ticket, out, out_len);
}

void service_forget(uint32_t ticket)
{
	vm_service_forget(ticket);
}

void service_session_closed(uint32_t session)
{
	vm_service_session_closed(session);
}

void service_init(const struct custos_boot_info *bi)
{
	vm_service_init(bi);
}

bool service_step(void)
{
	return vm_service_step();
}
