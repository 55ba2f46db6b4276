/*
 * The TCB's TPM-resident keys in a platform report, checked by the CA
 * before it certifies them (custos-ca enroll; docs/tpm.md, "TPM-resident
 * TCB keys"; tcb/tpm2_tcb_key.h).
 *
 * A report's TPM evidence may end with the two keys (include/custos/
 * report.h: tpm_keys[0] signing, [1] key agreement), each a point and
 * TPM2_Certify of that key by the attestation key: a TPMS_ATTEST with an
 * empty qualifyingData and the AK's ECDSA-SHA384 signature over it. The
 * report's own signature proves nothing about them (a development TCB's
 * key is on its boot media), so each key is believed only as far as the
 * AK's signature goes:
 *
 *  - the point is on P-384;
 *  - the AK signed the attest;
 *  - the attest certifies a primary of the endorsement hierarchy whose
 *    Name is that of the Custos template of that kind (fixedTPM, no
 *    userWithAuth) with authPolicy PolicyAuthorize(this CA's root key,
 *    TPM_APPROVAL_POLICY_REF) and exactly this point.
 *
 * Then the key lives in the AK's TPM (which credential activation ties
 * to the EK certificate), never leaves it, and can be used only under
 * this CA's approvals of a launch: the CA may give it a production role.
 *
 * Host only (custos-ca). Every function returns 0, or -1 with one line in
 * err (err may be NULL); hostile input is refused, never trusted.
 */
#ifndef CUSTOS_TOOLS_TCB_KEY_CHECK_H
#define CUSTOS_TOOLS_TCB_KEY_CHECK_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "tcb/tpm2_tcb_key.h"
#include <custos/report.h>

/* The two keys' points once both are checked (04 || X || Y). */
struct tcb_key_points {
	uint8_t sign[CRYPTO_P384_PUB_LEN];
	uint8_t agree[CRYPTO_P384_PUB_LEN];
};

/* The authPolicy a key must have to be usable only under the approvals of
 * the CA whose DER root certificate is ca_der: PolicyAuthorize(the root's
 * P-384 key, TPM_APPROVAL_POLICY_REF), as the TCB computes it. */
int tcb_key_policy(const uint8_t *ca_der, size_t ca_der_len,
		   uint8_t policy[TPM2_SHA384_LEN], char *err, size_t err_len);

/* One key of kind, certified by the AK whose point is ak_point, with
 * authPolicy policy. */
int tcb_key_check_one(enum tpm2_tcb_key_kind kind, const struct report_tpm_key *key,
		      const uint8_t ak_point[CRYPTO_P384_PUB_LEN],
		      const uint8_t policy[TPM2_SHA384_LEN], char *err, size_t err_len);

/* Both keys of the parsed report r (tpm_key_count must be 2): [0] as the
 * signing key, [1] as the key-agreement key, for the CA of ca_der. On
 * success their points go into out (which is untouched otherwise). */
int tcb_key_check(const struct report *r, const uint8_t ak_point[CRYPTO_P384_PUB_LEN],
		  const uint8_t *ca_der, size_t ca_der_len, struct tcb_key_points *out,
		  char *err, size_t err_len);

#endif
