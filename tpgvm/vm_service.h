/*
 * The VM lifecycle service (vm_service.c; docs/lifecycle.md), below the
 * services' front (service.c), which hands it the VM messages and passes
 * the rest of tpgvm/service.h's calls on to it: each vm_service_X is
 * service_X there, for the VM requests (the only ones answered later).
 */
#ifndef CUSTOS_TPGVM_VM_SERVICE_H
#define CUSTOS_TPGVM_VM_SERVICE_H

#include "tpgvm/tenant.h"
#include <custos/proto.h>
#include <custos/guest_abi.h>

bool vm_service_handle(const struct tenant *who, const struct proto_msg *m,
		       uint8_t **out, size_t *out_len, uint32_t *ticket);
bool vm_service_poll(uint32_t ticket, uint8_t **out, size_t *out_len);
void vm_service_forget(uint32_t ticket);
void vm_service_session_closed(uint32_t session);
void vm_service_init(const struct custos_boot_info *bi);
bool vm_service_step(void);

#endif
