/*
 * The TPGVM's services to an authenticated tenant: one answer per request
 * (docs/protocol.md). service.c is their front: it answers the platform
 * report itself and hands the VM lifecycle (docs/lifecycle.md) down to
 * vm_service.c; the sessions and the main loop see only this.
 */
#ifndef CUSTOS_TPGVM_SERVICE_H
#define CUSTOS_TPGVM_SERVICE_H

#include "tpgvm/tenant.h"
#include <custos/proto.h>
#include <custos/guest_abi.h>

/* Is this a message a tenant may send? (Others are answered with ERROR
 * and the session is closed: docs/protocol.md.) */
bool service_is_request(uint16_t type);

/* The answer to m (a whole proto message) in a heap buffer *out of *out_len
 * bytes, or *out NULL if there was no memory (the caller closes): false.
 * True if the answer comes later (a VM start or stop waits for the relay's
 * storage): *ticket is set, and service_poll(*ticket) gives the answer. */
bool service_handle(const struct tenant *who, const struct proto_msg *m,
		    uint8_t **out, size_t *out_len, uint32_t *ticket);
/* True once the request of ticket is answered (*out, *out_len as above;
 * the ticket is then spent). */
bool service_poll(uint32_t ticket, uint8_t **out, size_t *out_len);
/* The session went away: its request still runs to the end (a VM stopped
 * is sealed and stored all the same), the answer is dropped. */
void service_forget(uint32_t ticket);
/* A tenant's session (struct tenant.session) ended: an upload it was
 * making cannot go on, so its half-created VM is destroyed now rather
 * than holding the TPGVM's one staging area (docs/tpgvm.md). */
void service_session_closed(uint32_t session);

/* From guest_main: the memory above our image that stages VM images and
 * holds sealed blobs. */
void service_init(const struct custos_boot_info *bi);
/* From the main loop: continue the VM work that waits for the relay, seal
 * VMs that stopped themselves, abandon stalled uploads. True if anything
 * progressed. */
bool service_step(void);

#endif
