/*
 * The CA's approval of a measured launch (tcb/tpm_approval.h has the
 * format). Parsing believes nothing; verifying recomputes the policy from
 * the values carried, so values and signature cannot disagree.
 */
#include "tcb/tpm_approval.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"
#include "tcb/tpm2_authorize.h"
#include "tcb/tpm2_nv.h"
#include "crypto/crypto.h"
#include <string.h>

#define OFF_MAGIC   0u
#define OFF_VERSION 8u
#define OFF_MASK    12u
#define OFF_PCRS    16u
#define OFF_SIG     (OFF_PCRS + TPM_APPROVAL_PCRS * TPM_APPROVAL_DIGEST_LEN)

_Static_assert(OFF_SIG + TPM_APPROVAL_SIG_LEN == TPM_APPROVAL_LEN, "approval layout");
_Static_assert(TPM_APPROVAL_DIGEST_LEN == TPM2_SHA384_LEN, "SHA-384 PCRs");
_Static_assert(TPM_APPROVAL_SIG_LEN == CRYPTO_P384_SIG_LEN, "ECDSA P-384");

int tpm_approval_parse(const uint8_t *buf, size_t len, struct tpm_approval *out,
		       char *err, size_t err_len)
{
	uint32_t version, mask;

	if (len != TPM_APPROVAL_LEN)
		return errmsg(err, err_len, "approval: %zu bytes, not %u", len,
			      TPM_APPROVAL_LEN);
	if (memcmp(buf + OFF_MAGIC, TPM_APPROVAL_MAGIC, 8) != 0)
		return errmsg(err, err_len, "approval: no magic (not an approval)");
	version = load_le32(buf + OFF_VERSION);
	if (version != TPM_APPROVAL_VERSION)
		return errmsg(err, err_len, "approval: version %u, not %u", version,
			      TPM_APPROVAL_VERSION);
	mask = load_le32(buf + OFF_MASK);
	if (mask != TPM_APPROVAL_PCR_MASK)
		return errmsg(err, err_len, "approval: PCR set 0x%x, not PCRs 0-9 (0x%x)",
			      mask, TPM_APPROVAL_PCR_MASK);
	memcpy(out->pcrs, buf + OFF_PCRS, sizeof(out->pcrs));
	memcpy(out->sig, buf + OFF_SIG, sizeof(out->sig));
	return 0;
}

void tpm_approval_encode(const struct tpm_approval *a, uint8_t out[TPM_APPROVAL_LEN])
{
	memcpy(out + OFF_MAGIC, TPM_APPROVAL_MAGIC, 8);
	store_le32(out + OFF_VERSION, TPM_APPROVAL_VERSION);
	store_le32(out + OFF_MASK, TPM_APPROVAL_PCR_MASK);
	memcpy(out + OFF_PCRS, a->pcrs, sizeof(a->pcrs));
	memcpy(out + OFF_SIG, a->sig, sizeof(a->sig));
}

void tpm_approval_policy(const struct tpm_approval *a,
			 uint8_t approved[TPM_APPROVAL_DIGEST_LEN])
{
	uint8_t pcr_digest[TPM2_SHA384_LEN];

	/* Cannot fail: the mask has exactly TPM_APPROVAL_PCRS bits. */
	(void)tpm2_policy_pcr_digest(TPM_APPROVAL_PCR_MASK, a->pcrs, TPM_APPROVAL_PCRS,
				     pcr_digest, approved);
}

void tpm_approval_ahash(const struct tpm_approval *a, uint8_t ahash[TPM_APPROVAL_DIGEST_LEN])
{
	uint8_t approved[TPM_APPROVAL_DIGEST_LEN];

	tpm_approval_policy(a, approved);
	/* Cannot fail: the policyRef is a short constant. */
	(void)tpm2_policy_authorize_ahash(approved, (const uint8_t *)TPM_APPROVAL_POLICY_REF,
					  sizeof(TPM_APPROVAL_POLICY_REF) - 1, ahash);
}

int tpm_approval_sign(struct tpm_approval *a, const uint8_t ca_priv[48])
{
	uint8_t ahash[TPM_APPROVAL_DIGEST_LEN];

	tpm_approval_ahash(a, ahash);
	return crypto_ecdsa_p384_sign(ca_priv, ahash, a->sig) == CRYPTO_OK ? 0 : -1;
}

int tpm_approval_verify(const struct tpm_approval *a, const uint8_t ca_pub[97],
			char *err, size_t err_len)
{
	uint8_t ahash[TPM_APPROVAL_DIGEST_LEN];

	tpm_approval_ahash(a, ahash);
	if (crypto_ecdsa_p384_verify(ca_pub, ahash, sizeof(ahash), a->sig) != CRYPTO_OK)
		return errmsg(err, err_len, "approval: the signature is not the CA's "
			      "over these PCR values");
	return 0;
}

int tpm_approval_first_mismatch(const struct tpm_approval *a,
				const uint8_t (*pcrs)[TPM_APPROVAL_DIGEST_LEN])
{
	for (int i = 0; i < (int)TPM_APPROVAL_PCRS; i++)
		if (memcmp(a->pcrs[i], pcrs[i], TPM_APPROVAL_DIGEST_LEN) != 0)
			return i;
	return -1;
}
