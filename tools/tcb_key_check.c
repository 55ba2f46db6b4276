/*
 * The TCB's TPM-resident keys, the CA's check (tools/tcb_key_check.h).
 *
 * Nothing here is new cryptography or a new parser: the policy and the
 * Name are computed by the same code the TCB uses to create the keys
 * (tcb/tpm2_authorize.c, tcb/tpm2_tcb_key.c), and the attest is judged by
 * the TCB's own strict reader, so what the CA accepts and what the TCB
 * asks the TPM for cannot drift apart.
 */
#include "tools/tcb_key_check.h"
#include "tools/tcb_key_claim.h"
#include "tools/tpm_credential.h"
#include "tcb/errmsg.h"
#include "tcb/tpm2_authorize.h"
#include "tcb/tpm_approval.h"

#include <string.h>

#define POLICY_REF     ((const uint8_t *)TPM_APPROVAL_POLICY_REF)
#define POLICY_REF_LEN (sizeof(TPM_APPROVAL_POLICY_REF) - 1)

static const char *kind_name(enum tpm2_tcb_key_kind kind)
{
	return kind == TPM2_TCB_KEY_SIGN ? "signing" : "key-agreement";
}

int tcb_key_policy(const uint8_t *ca_der, size_t ca_der_len,
		   uint8_t policy[TPM2_SHA384_LEN], char *err, size_t err_len)
{
	uint8_t ca_pub[CRYPTO_P384_PUB_LEN], ca_name[TPM2_SIGNER_NAME_LEN];
	char why[160];

	if (crypto_x509_ca_public(ca_der, ca_der_len, ca_pub, why, sizeof(why)) !=
	    CRYPTO_OK)
		return errmsg(err, err_len, "the CA root certificate: %s", why);
	if (tpm2_signer_name(ca_pub, ca_name) != 0 ||
	    tpm2_policy_authorize_digest(ca_name, sizeof(ca_name), POLICY_REF,
					 POLICY_REF_LEN, policy) != 0)
		return errmsg(err, err_len, "the CA root's key gives no PolicyAuthorize policy");
	return 0;
}

/* The AK's ECDSA-SHA384 signature over the attest, as Certify made it. */
static bool signed_by_ak(const struct report_tpm_key *key,
			 const uint8_t ak_point[CRYPTO_P384_PUB_LEN])
{
	uint8_t digest[CRYPTO_SHA384_LEN];

	crypto_sha384(key->attest, key->attest_len, digest);
	return crypto_ecdsa_p384_verify(ak_point, digest, sizeof(digest), key->sig) ==
	       CRYPTO_OK;
}

int tcb_key_check_one(enum tpm2_tcb_key_kind kind, const struct report_tpm_key *key,
		      const uint8_t ak_point[CRYPTO_P384_PUB_LEN],
		      const uint8_t policy[TPM2_SHA384_LEN], char *err, size_t err_len)
{
	uint8_t name[TPM2_TCB_KEY_NAME_LEN];
	const char *what = kind_name(kind);
	char why[200];

	if (kind != TPM2_TCB_KEY_SIGN && kind != TPM2_TCB_KEY_AGREE)
		return errmsg(err, err_len, "no such TCB key (%d)", (int)kind);
	if (!key->point || !key->attest || !key->sig || key->attest_len == 0 ||
	    key->attest_len > REPORT_TPM_KEY_ATTEST_MAX)
		return errmsg(err, err_len, "the TCB's %s key is missing from the report", what);
	if (!tpm_p384_point_valid(key->point))
		return errmsg(err, err_len, "the TCB's %s key is not a point on P-384 "
			      "(04 || X || Y)", what);
	if (!signed_by_ak(key, ak_point))
		return errmsg(err, err_len, "the TCB's %s key: its certification is not "
			      "signed by the attestation key", what);
	/* The Name binds template, policy and point together; the TPM wrote
	 * it, and the AK signed it, only for a key it holds. */
	tpm2_tcb_key_name(kind, policy, key->point, name);
	if (tpm2_check_certify_attest(key->attest, key->attest_len, name, NULL, 0, why,
				      sizeof(why)) != 0)
		return errmsg(err, err_len, "the TCB's %s key is not the Custos %s key "
			      "usable under this CA's approvals: %s", what, what, why);
	return 0;
}

int tcb_key_check(const struct report *r, const uint8_t ak_point[CRYPTO_P384_PUB_LEN],
		  const uint8_t *ca_der, size_t ca_der_len, struct tcb_key_points *out,
		  char *err, size_t err_len)
{
	uint8_t policy[TPM2_SHA384_LEN];

	if (r->tpm_key_count != 2)
		return errmsg(err, err_len, "the report carries %zu TCB keys, not the "
			      "signing and the key-agreement key", r->tpm_key_count);
	if (tcb_key_policy(ca_der, ca_der_len, policy, err, err_len) != 0 ||
	    tcb_key_check_one(TPM2_TCB_KEY_SIGN, &r->tpm_keys[0], ak_point, policy, err,
			      err_len) != 0 ||
	    tcb_key_check_one(TPM2_TCB_KEY_AGREE, &r->tpm_keys[1], ak_point, policy, err,
			      err_len) != 0)
		return -1;
	/* One key must never both sign and agree (key separation, as the key
	 * module's two scalars); a TPM derives them from two templates, so
	 * one point twice is no TPM's doing. */
	if (memcmp(r->tpm_keys[0].point, r->tpm_keys[1].point, CRYPTO_P384_PUB_LEN) == 0)
		return errmsg(err, err_len, "the TCB's two keys are the same point");
	memcpy(out->sign, r->tpm_keys[0].point, CRYPTO_P384_PUB_LEN);
	memcpy(out->agree, r->tpm_keys[1].point, CRYPTO_P384_PUB_LEN);
	return 0;
}

int tcb_key_claim_check(const struct report *r, const uint8_t ak_point[97],
			const uint8_t *root, size_t root_len, bool ak_certified,
			bool *in_tpm, char *err, size_t err_len)
{
	uint8_t signer[CRYPTO_P384_PUB_LEN];
	struct tcb_key_points pts;
	char why[200];

	*in_tpm = false;
	if (r->tpm_key_count == 2) {
		if (!root)
			return errmsg(err, err_len, "no CA root to check the TCB keys with");
		if (tcb_key_check(r, ak_point, root, root_len, &pts, why, sizeof(why)))
			return errmsg(err, err_len, "the report's TPM-resident TCB keys "
				      "do not check out: %s", why);
		*in_tpm = crypto_x509_verify(r->cert, r->cert_len, root, root_len,
					     CRYPTO_ROLE_TCB_SIGN, signer, NULL, 0) == CRYPTO_OK &&
			  memcmp(signer, pts.sign, sizeof(signer)) == 0;
	}
	if (r->key_protection == REPORT_KEYS_TPM && !(*in_tpm && ak_certified))
		return errmsg(err, err_len, "the report claims the TCB's keys live in "
			      "the TPM, but its signing key is not a TPM-resident key that "
			      "an enrolled attestation key certified");
	return 0;
}
