/*
 * Sealed VMs' records kept across reboots in the TPM (hv/tpm_vm_store.c,
 * docs/seal.md "Across reboots"): in NV indices only this measured launch
 * (PCRs 0-9) can read or write.
 */
#ifndef CUSTOS_HV_TPM_VM_STORE_H
#define CUSTOS_HV_TPM_VM_STORE_H

#include <custos/types.h>
#include "tcb/vm.h"
#include "tcb/vm_record.h"

/*
 * At boot, once the VMs that boot with the platform exist and before the
 * TPGVM runs: open the store and restore every VM it holds as SEALED
 * (lifecycle_restore). Only with a TPM and a measured launch (the
 * firmware's log checked against PCRs 0-9); otherwise, or when the store
 * is not this launch's, records stay in memory, and the console says why.
 */
void tpm_vm_store_open(bool measured_launch);

/* lc_ops.keep_record: write vm's slot (r, or a free one for NULL).
 * HC_OK, also when the store is not open (memory only); HC_E_INTERNAL
 * when the write failed or the slot's write budget is spent (the slot
 * is as before). */
int tpm_vm_store_keep(const struct vm *vm, const struct vm_record *r);

#endif
