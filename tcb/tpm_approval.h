/*
 * The CA's approval of a measured launch (docs/tpm.md, "TPM-resident TCB
 * keys"): the SHA-384 values of PCRs 0-9 that a launch of given boot media
 * on a given platform produces, signed by the CA root's key. The TCB's
 * TPM-resident keys have the authPolicy PolicyAuthorize(CA root key,
 * TPM_APPROVAL_POLICY_REF), so the TPM lets a session use them only after
 * PolicyPCR over exactly these values and PolicyAuthorize with a ticket
 * for this signature: a boot whose firmware, GRUB, grub.cfg, hypervisor or
 * modules differ from every approval cannot use the keys.
 *
 * What the CA signs is what the TPM checks (TPM 2.0 Part 3,
 * PolicyAuthorize): aHash = SHA-384(approvedPolicy || policyRef), where
 * approvedPolicy is the PolicyPCR digest of the values
 * (tpm2_policy_pcr_digest). The values themselves travel along only so
 * that the TCB can say which PCR differs; nothing here is secret, and the
 * bytes come from NV that any host can write, so they are parsed as
 * untrusted input and believed only after the signature verifies.
 *
 * Format, exactly TPM_APPROVAL_LEN bytes, integers little-endian:
 *   0    magic "CUSTAPR1"
 *   8    version u32 = 1
 *   12   pcr_mask u32 = 0x3ff (SHA-384 PCRs 0-9; no other set yet)
 *   16   the ten PCR values, 48 bytes each, PCR 0 first
 *   496  signature: ECDSA P-384 r || s (48 + 48, big-endian)
 *
 * Portable (hypervisor, custos-ca, tests, fuzzer); uses crypto/crypto.h.
 */
#ifndef CUSTOS_TCB_TPM_APPROVAL_H
#define CUSTOS_TCB_TPM_APPROVAL_H

#include <custos/types.h>

#define TPM_APPROVAL_MAGIC      "CUSTAPR1"
#define TPM_APPROVAL_VERSION    1u
#define TPM_APPROVAL_PCR_MASK   0x3ffu /* PCRs 0-9: the firmware's and GRUB's */
#define TPM_APPROVAL_PCRS       10u
#define TPM_APPROVAL_DIGEST_LEN 48u
#define TPM_APPROVAL_SIG_LEN    96u
#define TPM_APPROVAL_LEN        (16u + TPM_APPROVAL_PCRS * TPM_APPROVAL_DIGEST_LEN + \
				 TPM_APPROVAL_SIG_LEN)
/* PolicyAuthorize's policyRef for the TCB's keys: an approval for them is
 * no approval for anything else the CA's key might authorise. */
#define TPM_APPROVAL_POLICY_REF "custos-tcb-key"

struct tpm_approval {
	uint8_t pcrs[TPM_APPROVAL_PCRS][TPM_APPROVAL_DIGEST_LEN];
	uint8_t sig[TPM_APPROVAL_SIG_LEN];
};

/* Parse buf (exactly TPM_APPROVAL_LEN bytes). 0 and *out filled, or -1
 * with one line in err (*out untouched). The signature is not checked
 * here: tpm_approval_verify. */
int tpm_approval_parse(const uint8_t *buf, size_t len, struct tpm_approval *out,
		       char *err, size_t err_len);
/* The bytes tpm_approval_parse accepts for a. */
void tpm_approval_encode(const struct tpm_approval *a, uint8_t out[TPM_APPROVAL_LEN]);

/* approvedPolicy: the PolicyPCR digest of a's PCR values. */
void tpm_approval_policy(const struct tpm_approval *a,
			 uint8_t approved[TPM_APPROVAL_DIGEST_LEN]);
/* aHash = SHA-384(approvedPolicy || TPM_APPROVAL_POLICY_REF): what the CA
 * signs and the TPM's VerifySignature is given. */
void tpm_approval_ahash(const struct tpm_approval *a, uint8_t ahash[TPM_APPROVAL_DIGEST_LEN]);

/* Sign a with the CA's P-384 private scalar (the CA's side). 0 or -1. */
int tpm_approval_sign(struct tpm_approval *a, const uint8_t ca_priv[48]);
/* The signature is the CA's (ca_pub: 04 || X || Y, 97 bytes). 0, or -1
 * with one line in err. */
int tpm_approval_verify(const struct tpm_approval *a, const uint8_t ca_pub[97],
			char *err, size_t err_len);

/* The lowest PCR whose value in a differs from pcrs[i] (PCRs 0-9 in
 * order), or -1 when all ten are equal. */
int tpm_approval_first_mismatch(const struct tpm_approval *a,
				const uint8_t (*pcrs)[TPM_APPROVAL_DIGEST_LEN]);

#endif
