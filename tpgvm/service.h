/*
 * The TPGVM's services to an authenticated tenant: one answer per request
 * (docs/protocol.md). Today: the platform report.
 */
#ifndef CUSTOS_TPGVM_SERVICE_H
#define CUSTOS_TPGVM_SERVICE_H

#include <custos/proto.h>

/* Who is asking: from the tenant's verified certificate. */
struct tenant {
	char name[64];       /* the certificate's subject, for log lines */
	uint8_t id[48];      /* SHA-384 of its public key: the identity */
};

/* Is this a message a tenant may send? (Others are answered with ERROR
 * and the session is closed: docs/protocol.md.) */
bool service_is_request(uint16_t type);

/* The answer to m (a whole proto message) in a heap buffer *out of *out_len
 * bytes, or *out NULL if there was no memory (the caller closes). */
void service_handle(const struct tenant *who, const struct proto_msg *m,
		    uint8_t **out, size_t *out_len);

#endif
