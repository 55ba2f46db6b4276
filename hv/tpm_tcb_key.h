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
 * found and why the keys are, or are not, usable. They are the TCB's
 * identity when the boot media carries no tcb-keys module (hv/tpgvm.c):
 * the envelope is opened and reports are signed through them.
 */
void tpm_tcb_key_init(bool measured_launch);

/* Whether this launch may use the keys: the CA approved it, and the TPM
 * signed under the approval at boot. */
bool tpm_tcb_key_usable(void);
/* The keys' public points (04 || X || Y), once tpm_tcb_key_init made them:
 * the signing key's, or the key-agreement key's. */
const uint8_t *tpm_tcb_key_public(bool signing);
/* A report_signer's sign (include/custos/report.h) by the TPM-resident
 * signing key, and an envelope_kex's ecdh (include/custos/envelope.h) by
 * the key-agreement key, whose shared secret crosses the bus encrypted.
 * Each use starts a salted policy session and satisfies the approval;
 * CRYPTO_OK, CRYPTO_E_INVAL for a peer point the TPM refuses, or
 * CRYPTO_E_INTERNAL (and a console line). ctx is unused. */
int tpm_tcb_key_sign(void *ctx, const uint8_t digest[48], uint8_t sig[96]);
int tpm_tcb_key_ecdh(void *ctx, const uint8_t peer[97], uint8_t shared[48]);

/* Where the CA's approval (tcb/tpm_approval.h) is read from: an ordinary
 * NV index, AUTHREAD with the empty password and NO_DA (a power loss
 * counts against dictionary-attack protected entities, and a TPM in
 * lockout would refuse the read), exactly TPM_APPROVAL_LEN bytes. Anyone
 * may write it (an approval is signed; a wrong one only leaves the keys
 * unusable). */
#define TPM_TCB_KEY_APPROVAL_INDEX 0x01004355u

#endif
