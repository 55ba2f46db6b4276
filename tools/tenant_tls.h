/*
 * The tenant's TLS client session to a TPGVM (through custos-relay):
 * connect with a timeout, the handshake with the one Custos TLS profile
 * (crypto/tls.h) and the tenant's certificate, then whole tenant-protocol
 * messages (include/custos/proto.h) each way. Every wait is bounded by one
 * overall deadline: nothing here can hang.
 *
 * The server's certificate is self-signed (made inside the TPGVM), so the
 * handshake does not judge it (authmode optional); the caller binds it to a
 * signed platform report through tenant_tls_peer_pub() before trusting
 * anything the session says. Used by `custos attest` and the `custos vm`
 * commands.
 */
#ifndef CUSTOS_TOOLS_TENANT_TLS_H
#define CUSTOS_TOOLS_TENANT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/proto.h>
#include "crypto/crypto.h"

/* What went wrong, by whose doing (callers map these to exit statuses). */
enum tenant_tls_status {
	TT_OK = 0,
	TT_E_LOCAL = -1,     /* our own files or setup (unreadable cert/key ...) */
	TT_E_CONNECT = -2,   /* cannot connect (name, refused, unreachable) */
	TT_E_TIMEOUT = -3,   /* the deadline passed */
	TT_E_CLOSED = -4,    /* the peer or the line closed the connection early */
	TT_E_REFUSED = -5,   /* the peer rejected our credentials (fatal alert) */
	TT_E_INTEGRITY = -6, /* TLS detected tampering or a broken peer */
	TT_E_PROTOCOL = -7,  /* a malformed tenant-protocol message */
	TT_E_NOT_TLS = -8,   /* the peer's first bytes are not TLS: no Custos relay */
};

struct tenant_tls_opts {
	const char *host;      /* the relay */
	const char *port;
	const char *cert_path; /* the tenant's certificate (PEM or DER) */
	const char *key_path;  /* and its private key */
	const char *ca_path;   /* CA root: only offered to mbedTLS, see above */
	double timeout;        /* seconds for everything, from tenant_tls_open() */
};

struct tenant_tls; /* opaque */

/* Connect, handshake. A session or NULL with *status and one line in err.
 * The deadline starts here and covers every later send and receive. */
struct tenant_tls *tenant_tls_open(const struct tenant_tls_opts *o,
				   enum tenant_tls_status *status, char *err,
				   size_t err_len);

/* The P-384 public key (04 || X || Y) of the server's certificate. */
int tenant_tls_peer_pub(struct tenant_tls *t, uint8_t pub[CRYPTO_P384_PUB_LEN],
			char *err, size_t err_len);

/* Send one whole message. TT_OK or an error with one line in err. */
int tenant_tls_send(struct tenant_tls *t, uint16_t type, const void *body,
		    size_t len, char *err, size_t err_len);

/* Receive one whole checked message; msg->body stays valid until the next
 * receive or close. TT_OK or an error with one line in err. */
int tenant_tls_recv(struct tenant_tls *t, struct proto_msg *msg, char *err,
		    size_t err_len);

/* A new deadline, seconds from now, for every later send and receive: a
 * session that carries several commands (custos vm shell) bounds each one
 * by its own. */
void tenant_tls_set_timeout(struct tenant_tls *t, double seconds);

/* Send close_notify (best effort, bounded) and free everything. */
void tenant_tls_close(struct tenant_tls *t);

/* Short name of a status ("timed out" ...). */
const char *tenant_tls_strstatus(int status);

#endif
