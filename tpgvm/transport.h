/*
 * What the session layer needs from the transport (tpgvm/main.c): a way to
 * queue bytes and a close towards the relay, never blocking. The transport
 * keeps room for a CLOSE at all times.
 */
#ifndef CUSTOS_TPGVM_TRANSPORT_H
#define CUSTOS_TPGVM_TRANSPORT_H

#include <custos/types.h>

/* Queue up to len bytes of session sid as DATA frames; returns how many
 * were queued (0 when the output queue is full: try again later). */
size_t transport_send(uint16_t sid, const uint8_t *p, size_t len);
/* Tell the relay the session is over. */
void transport_close(uint16_t sid);
/* Queue one STORE frame (docs/relay.md, "Storage") whole: true, or false
 * when the output queue has no room for it now (try again later). */
bool transport_store(uint16_t id, const uint8_t *payload, size_t len);
/* The TSC: what every timeout of the TPGVM counts in. */
uint64_t tpgvm_now(void);

#endif
