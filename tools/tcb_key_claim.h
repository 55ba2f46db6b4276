/*
 * Whether a report's signing key is one of the TCB's TPM-resident keys
 * (docs/tpm.md, "TPM-resident TCB keys"), for the tenant's verifier
 * (tools/tpm_evidence.c). A header of its own, free of the TPM command
 * headers, because the verifier also includes libtss2's, whose macro
 * names overlap them; the code is in tools/tcb_key_check.c.
 */
#ifndef CUSTOS_TOOLS_TCB_KEY_CLAIM_H
#define CUSTOS_TOOLS_TCB_KEY_CLAIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/report.h>

/*
 * For a parsed report r whose quote's attestation key has the point
 * ak_point (04 || X || Y) and, with ak_certified, an enrolled certificate:
 * TPM-resident TCB keys, if carried, must check out (tcb_key_check, for
 * the CA of root); then *in_tpm when r's signing certificate is a tcb-sign
 * one from root for exactly that signing key. A report that CLAIMS key
 * protection "tpm" is refused unless *in_tpm and ak_certified: the claim is
 * believed from this evidence only. 0, or -1 with one line in err.
 */
int tcb_key_claim_check(const struct report *r, const uint8_t ak_point[97],
			const uint8_t *root, size_t root_len, bool ak_certified,
			bool *in_tpm, char *err, size_t err_len);

#endif
