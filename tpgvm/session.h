/*
 * Tenant sessions: one TLS server session per relay session (docs/tpgvm.md).
 * Everything is non-blocking: a session that waits for its tenant, or for
 * room in the output queue, waits alone; the others go on. A session that
 * stalls too long, misbehaves or fails TLS is closed, never the TPGVM.
 */
#ifndef CUSTOS_TPGVM_SESSION_H
#define CUSTOS_TPGVM_SESSION_H

#include "tpgvm/tenant.h"

struct transport;

/* From guest_main, before any relay event: the transport the sessions'
 * TLS records and closes go out by (tpgvm/transport.h). */
void session_init(const struct transport *t);

/* Relay events (tpgvm/main.c's frame decoder). */
void session_open(uint16_t sid);
void session_input(uint16_t sid, const uint8_t *p, size_t len);
void session_closed_by_relay(uint16_t sid);
void sessions_drop_all(void);

/* Let every session that can progress do so; true if any did. */
bool sessions_step(void);

#endif
