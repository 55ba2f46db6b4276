/*
 * The transport towards the relay, as the layers above the line see it: a
 * way to queue bytes and a close, never blocking, and the storage's frames.
 * main.c owns the line and hands this table down at start-up
 * (session_init, storage_init); nothing calls back up into main.c by name.
 * The transport keeps room for a CLOSE at all times.
 */
#ifndef CUSTOS_TPGVM_TRANSPORT_H
#define CUSTOS_TPGVM_TRANSPORT_H

#include <custos/types.h>

struct transport {
	/* Queue up to len bytes of session sid as DATA frames; returns how
	 * many were queued (0 when the output queue is full: try again
	 * later). */
	size_t (*send)(uint16_t sid, const uint8_t *p, size_t len);
	/* Tell the relay the session is over. */
	void (*close)(uint16_t sid);
	/* Queue one STORE frame (docs/relay.md, "Storage") whole: true, or
	 * false when the output queue has no room for it now (try again
	 * later). */
	bool (*store)(uint16_t id, const uint8_t *payload, size_t len);
};

#endif
