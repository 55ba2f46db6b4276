/*
 * The TCB's TPM-resident keys at boot (hv/tpm_tcb_key.c, docs/tpm.md
 * "TPM-resident TCB keys"): created from their templates, and shown usable
 * exactly when the CA approved this launch's PCRs 0-9.
 */
#ifndef CUSTOS_HV_TPM_TCB_KEY_H
#define CUSTOS_HV_TPM_TCB_KEY_H

#include <custos/types.h>

/*
 * On a measured launch with a TPM: create the signing and key-agreement
 * keys (the same on every boot of this TPM), read the CA's approval from
 * NV index TPM_TCB_KEY_APPROVAL_INDEX, and ask the TPM for one test
 * signature under PolicyPCR + PolicyAuthorize. Console lines say what was
 * found and why the keys are, or are not, usable. They are not used for
 * anything else yet: reports and envelopes still use the development keys.
 */
void tpm_tcb_key_init(bool measured_launch);

/* Where the CA's approval (tcb/tpm_approval.h) is read from: an ordinary
 * NV index, AUTHREAD with the empty password and NO_DA (a power loss
 * counts against dictionary-attack protected entities, and a TPM in
 * lockout would refuse the read), exactly TPM_APPROVAL_LEN bytes. Anyone
 * may write it (an approval is signed; a wrong one only leaves the keys
 * unusable). */
#define TPM_TCB_KEY_APPROVAL_INDEX 0x01004355u

#endif
