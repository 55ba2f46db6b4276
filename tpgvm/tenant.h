/*
 * Who is asking: a tenant, authenticated by its certificate on one relay
 * session (tpgvm/session.c fills it in; the services read it).
 */
#ifndef CUSTOS_TPGVM_TENANT_H
#define CUSTOS_TPGVM_TENANT_H

#include <custos/types.h>

#define SESSION_MAX 16 /* the relay's own upper limit (--max-sessions) */

/* From the tenant's verified certificate. */
struct tenant {
	char name[64];       /* the certificate's subject, for log lines */
	uint8_t id[48];      /* SHA-384 of its public key: the identity */
	uint32_t session;    /* this TLS session's number (never 0, never
	                      * reused while the TPGVM runs): an upload
	                      * belongs to the session that created it */
};

#endif
