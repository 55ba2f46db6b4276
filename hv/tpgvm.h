/* Delivering the TPGVM: the exclusive channel from the signing station. */
#ifndef CUSTOS_HV_TPGVM_H
#define CUSTOS_HV_TPGVM_H

#include "boot/multiboot2.h"
#include "tcb/hypercall.h"
#include "tcb/measure.h"
#include "tcb/vm.h"

/* Boot module names (docs/pki.md, docs/envelope.md). */
#define MODULE_TCB_KEYS  "tcb-keys"
#define MODULE_TCB_CERTS "tcb-certs"
#define MODULE_ENVELOPE  "tpgvm-envelope"
#define MODULE_TPM_ENROLLMENT "tpm-enrollment" /* custos-ca enroll: docs/tpm.md */

/*
 * Take this TCB's keys and certificates from their modules, open the TPGVM
 * envelope (station chained to the compiled-in CA root with the station
 * role, signature, addressed to this TCB, authentic payload), measure the
 * image and the policy into log, and create the TPGVM: the only VM whose
 * lifecycle and report hypercalls are honoured. Consumed modules are zeroed
 * and freed (their frame count is added to *released_frames). log must live
 * as long as the TCB: reports carry it as it is when they are made.
 * report_debug is the REPORT_DEBUG_* bits this boot runs with.
 * Returns the TPGVM, or NULL after one precise log line saying why not.
 */
struct vm *tpgvm_deliver(const struct mb2_info *info, struct measure_log *log,
			 uint32_t report_debug,
			 uint64_t *released_frames);

/* What HC_REPORT signs with: NULL until a TPGVM has been launched. */
const struct report_source *tpgvm_report_source(void);

#endif
