/*
 * Which TCB identity a boot may use (docs/pki.md, "Development and
 * production TCB identities").
 *
 * Today the TCB's private keys reach it only as a plaintext boot module
 * (tcb-keys.bin), which whoever prepares the boot media can read and copy:
 * anything those keys sign proves nothing about the platform. So they may
 * only be used with certificates that say so, the development roles
 * tcb-sign-dev and tcb-kex-dev, which every verifier recognises on its own,
 * without trusting what a report says. A certificate with a production role
 * (tcb-sign, tcb-kex) that arrives with plaintext keys is refused: a
 * production identity never travels in the clear: its keys live in the
 * TPM (tcb_identity_check_tpm).
 *
 * Portable (hypervisor and host): uses the crypto layer.
 */
#ifndef CUSTOS_TCB_TCB_IDENTITY_H
#define CUSTOS_TCB_TCB_IDENTITY_H

#include <custos/types.h>
#include "tcb/tcb_keys.h"

/*
 * Check a TCB identity whose private keys came from a plaintext key module,
 * against the CA root (DER):
 *  - each certificate names its development role (tcb-sign-dev, tcb-kex-dev)
 *    and no production role;
 *  - the signing certificate chains to root with tcb-sign-dev, and
 *    keys->sign_priv is the private half of its key (the TCB signs reports
 *    with it; a mismatch would only show as signatures no tenant accepts).
 * The key-agreement certificate's chain and key are checked where they are
 * used, by envelope_open() (which accepts tcb-kex-dev).
 * 0, or -1 with one line in err (never key bytes).
 */
int tcb_identity_check_plaintext(const struct tcb_keys *keys,
				 const struct tcb_certs *certs,
				 const uint8_t *root, size_t root_len,
				 char *err, size_t err_len);

/*
 * Check a TCB identity whose keys live in the TPM (hv/tpm_tcb_key.c): the
 * certificates the CA issued at enrollment name the production roles
 * (tcb-sign, tcb-kex), chain to root, and are for exactly the TPM's
 * signing key sign_pub and key-agreement key kex_pub (04 || X || Y).
 * 0, or -1 with one line in err.
 */
int tcb_identity_check_tpm(const struct tcb_certs *certs,
			   const uint8_t sign_pub[97], const uint8_t kex_pub[97],
			   const uint8_t *root, size_t root_len, char *err, size_t err_len);

#endif
