/*
 * Satisfying a TPM 2.0 authPolicy of the form PolicyAuthorize(the Custos
 * CA's key, policyRef): the TPM lets a session use the object or NV index
 * only after the session has reached a policy digest that the CA signed
 * (TPM 2.0 Library Part 1, "Policy Authorize"; Part 3, PolicyAuthorize,
 * LoadExternal, VerifySignature, PolicyGetDigest; Part 2, TPMT_PUBLIC,
 * TPMT_SIGNATURE, TPMT_TK_VERIFIED). So a TPM-bound TCB key is tied not to
 * one boot's PCR values but to the CA's approval of them (issue 12;
 * docs/tpm.md, "TPM-resident TCB keys"): new boot media get a new
 * approval, not a new key.
 *
 * The approved policy is a PolicyPCR digest over the SHA-384 PCRs 0-9 of
 * a known-good boot (tcb/tpm2_nv.h, tpm2_policy_pcr_digest). The CA signs
 * aHash = SHA-384(approvedPolicy || policyRef) with ECDSA P-384
 * (tpm2_policy_authorize_ahash); the approval (the policy and its
 * signature) is public and cannot be forged, so it can come from anywhere.
 * The order of a boot:
 *
 *   LoadExternal            the CA's public key, under TPM_RH_OWNER
 *   VerifySignature         of aHash(this boot's PolicyPCR digest): a ticket
 *   FlushContext            the CA key (the ticket outlives it)
 *   PolicyPCR               on a (salted) policy session, this boot's PCRs
 *   PolicyAuthorize         approvedPolicy, policyRef, the CA key's Name, ticket
 *   the command             NV_Write, NV_Read, Sign ... authorised by the session
 *
 * and PolicyPCR + PolicyAuthorize again before every such command: a
 * policy session's digest goes back to zero once it has authorised one
 * (tcb/tpm2_nv.h says why). The ticket can be kept for the whole boot.
 *
 * What binds what. The object's authPolicy (tpm2_policy_authorize_digest)
 * holds the CA key's Name, the SHA-384 of its whole public area, and the
 * policyRef; PolicyAuthorize puts exactly those into the session's digest,
 * and only when (a) the session's digest is approvedPolicy (the TPM
 * compares it: PolicyPCR put it there only if its own PCRs are those of
 * the approval), and (b) the ticket proves that the key of that Name
 * signed SHA-384(approvedPolicy || policyRef): the ticket is an HMAC with
 * the hierarchy's secret proof over the digest and the key's Name, which
 * only VerifySignature of a good signature makes. Nothing here needs to
 * trust the bus: a lie in a response (the handle, the Name, the ticket)
 * only makes PolicyAuthorize or the authorised command fail. The key is
 * loaded under TPM_RH_OWNER and not TPM_RH_NULL because a NULL-hierarchy
 * key yields a NULL ticket (no digest), which PolicyAuthorize refuses; a
 * TPM2_Clear changes the owner proof, which only invalidates tickets.
 *
 * What the policyRef is for: every aHash the CA ever signs with the same
 * key and policyRef is an approval; "custos-tcb-key" keeps the CA's
 * approvals of TCB key policies from being any other signature of its. An
 * approval cannot be withdrawn (PolicyAuthorizeNV could; not used).
 *
 * Every parser is as strict as those of tcb/tpm2_nv.h (exact sizes, tags,
 * the handle and Name asked for, nothing trailing), never reads past the
 * response, and says in one line what was wrong; each takes rc (may be
 * NULL): the header's response code when the header was well formed,
 * TPM2_RC_MALFORMED when it was not. None of these commands has an auth
 * area (LoadExternal of a public key, VerifySignature and the policy
 * commands need no authorisation), so all run without sessions.
 *
 * Portable: builds freestanding into the hypervisor and hosted into the
 * tests and the fuzzer; uses crypto/crypto.h (SHA-384) only.
 */
#ifndef CUSTOS_TCB_TPM2_AUTHORIZE_H
#define CUSTOS_TCB_TPM2_AUTHORIZE_H

#include "tcb/tpm2_nv.h"

#define TPM2_CC_LOAD_EXTERNAL     0x00000167
#define TPM2_CC_POLICY_AUTHORIZE  0x0000016a
#define TPM2_CC_VERIFY_SIGNATURE  0x00000177
#define TPM2_CC_POLICY_GET_DIGEST 0x00000189
#define TPM2_ST_VERIFIED          0x8022 /* a TPMT_TK_VERIFIED's tag */

/* The CA key's objectAttributes: sign and userWithAuth, nothing else (not
 * restricted: it verifies digests made outside the TPM; no fixedTPM or
 * fixedParent: the TPM did not make it). */
#define TPM2_SIGNER_ATTRIBUTES 0x00040040
/* Its TPMT_PUBLIC: type, nameAlg, attributes, empty authPolicy, symmetric
 * NULL, scheme ECDSA + SHA-384, curve, kdf NULL, x and y at 48 bytes. */
#define TPM2_SIGNER_PUBLIC_LEN (2 + 2 + 4 + 2 + 2 + 4 + 2 + 2 + 2 * (2 + TPM2_P384_LEN))
#define TPM2_SIGNER_NAME_LEN   TPM2_SESSION_NAME_LEN /* SHA-384: 2 + 48 */
/* A policyRef is a TPM2B_NONCE: at most the largest digest. */
#define TPM2_POLICY_REF_MAX    TPM2_DIGEST_MAX
#define TPM2_ECDSA_P384_SIG_LEN (2 * TPM2_P384_LEN) /* r || s, as crypto/crypto.h */

/* Response codes of refusals the caller tells apart (bare format-one
 * codes, as in tcb/tpm2_nv.h). */
#define TPM2_RC_SIGNATURE 0x09b /* VerifySignature: the signature is not the key's */

/* The CA key as LoadExternal loaded it. */
struct tpm2_signer {
	uint32_t handle;                        /* transient: flush it after use */
	uint8_t name[TPM2_SIGNER_NAME_LEN];     /* computed, and the TPM's equal */
};

/* A TPMT_TK_VERIFIED from VerifySignature, for PolicyAuthorize. Not
 * secret: it is good only on this TPM until the hierarchy's proof
 * changes. */
struct tpm2_ticket {
	uint32_t hierarchy;                     /* TPM_RH_OWNER, as loaded */
	uint8_t digest[TPM2_DIGEST_MAX];        /* the TPM's HMAC; hash its own */
	size_t digest_len;                      /* 1..TPM2_DIGEST_MAX */
};

/* PolicyAuthorize refused: approvedPolicy is not the session's digest
 * (this boot's PCRs are not those of the approval: TPM_RC_VALUE on
 * parameter 1), or the ticket is not for aHash(approvedPolicy ||
 * policyRef) by the key named (TPM_RC_VALUE on parameter 4). */
bool tpm2_rc_is_not_approved(uint32_t rc);
bool tpm2_rc_is_ticket_refused(uint32_t rc);
/* VerifySignature refused the signature (TPM_RC_SIGNATURE on parameter 2). */
bool tpm2_rc_is_bad_signature(uint32_t rc);

/*
 * The authPolicy of PolicyAuthorize(key_name, ref), as a trial session
 * computes it: d = SHA-384(48 zero bytes || TPM_CC_PolicyAuthorize ||
 * key_name); policy = SHA-384(d || ref). key_name must be a SHA-384 Name
 * (0x000c || 48 bytes, TPM2_SIGNER_NAME_LEN), ref 0..TPM2_POLICY_REF_MAX
 * bytes (may be NULL when 0). -1 (out untouched) otherwise: the TPM takes
 * no other, so such a policy could never be satisfied.
 */
int tpm2_policy_authorize_digest(const uint8_t *key_name, size_t name_len,
				 const uint8_t *ref, size_t ref_len,
				 uint8_t out[TPM2_SHA384_LEN]);
/* aHash = SHA-384(approved || ref), the digest the CA signs and
 * VerifySignature checks: SHA-384 because that is the CA key's nameAlg,
 * which PolicyAuthorize hashes with. -1 (out untouched) for a ref longer
 * than TPM2_POLICY_REF_MAX. */
int tpm2_policy_authorize_ahash(const uint8_t approved[TPM2_SHA384_LEN],
				const uint8_t *ref, size_t ref_len,
				uint8_t out[TPM2_SHA384_LEN]);

/* The TPMT_PUBLIC of the P-384 public key point (04 || X || Y) as an
 * unrestricted ECDSA-SHA-384 signing key (TPM2_SIGNER_ATTRIBUTES, no
 * policy, nameAlg SHA-384); -1 when point is not uncompressed. Whether it
 * is on the curve is the TPM's check (LoadExternal) and the CA's. */
int tpm2_signer_public(const uint8_t point[TPM2_P384_POINT_LEN],
		       uint8_t area[TPM2_SIGNER_PUBLIC_LEN]);
/* Its Name: 0x000c || SHA-384(TPMT_PUBLIC); -1 as above. */
int tpm2_signer_name(const uint8_t point[TPM2_P384_POINT_LEN],
		     uint8_t name[TPM2_SIGNER_NAME_LEN]);

/* LoadExternal of that public area alone (inPrivate empty) under
 * TPM_RH_OWNER. 0 when cap is too small or the point is not uncompressed. */
size_t tpm2_build_load_external_signer(uint8_t *buf, size_t cap,
				       const uint8_t point[TPM2_P384_POINT_LEN]);
/* Its response: a transient handle (0x80xxxxxx) and a Name equal to the one
 * computed from point, into signer. */
int tpm2_parse_load_external_signer(const uint8_t *rsp, size_t len,
				    const uint8_t point[TPM2_P384_POINT_LEN],
				    struct tpm2_signer *signer, uint32_t *rc,
				    char *err, size_t err_len);

/* VerifySignature of sig (r || s, 48 bytes each, as crypto_ecdsa_p384_sign
 * makes it; ECDSA with SHA-384) over digest (an aHash) by the key at
 * key_handle (0x80xxxxxx). 0 when cap is too small or the handle is not a
 * transient object's. */
size_t tpm2_build_verify_signature(uint8_t *buf, size_t cap, uint32_t key_handle,
				   const uint8_t digest[TPM2_SHA384_LEN],
				   const uint8_t sig[TPM2_ECDSA_P384_SIG_LEN]);
/* Its response: a ticket of tag TPM_ST_VERIFIED for TPM_RH_OWNER (a NULL
 * ticket, of a key under TPM_RH_NULL, is refused: PolicyAuthorize would
 * be) with a digest of 1..TPM2_DIGEST_MAX bytes, into t. A bad signature is
 * a refusal whose rc tpm2_rc_is_bad_signature recognises. */
int tpm2_parse_verify_signature(const uint8_t *rsp, size_t len,
				struct tpm2_ticket *t, uint32_t *rc, char *err,
				size_t err_len);

/* PolicyAuthorize into policy_session (0x03xxxxxx), no auth area:
 * approved (48 bytes), ref (0..TPM2_POLICY_REF_MAX), the signer's Name and
 * the ticket. 0 when cap is too small or an argument is out of range. */
size_t tpm2_build_policy_authorize(uint8_t *buf, size_t cap, uint32_t policy_session,
				   const uint8_t approved[TPM2_SHA384_LEN],
				   const uint8_t *ref, size_t ref_len,
				   const uint8_t name[TPM2_SIGNER_NAME_LEN],
				   const struct tpm2_ticket *t);
/* Its response: a header and nothing else. */
int tpm2_parse_policy_authorize(const uint8_t *rsp, size_t len, uint32_t *rc,
				char *err, size_t err_len);

/* PolicyGetDigest of policy_session (0x03xxxxxx): what the session would
 * now satisfy (a check before the command, and for tests). */
size_t tpm2_build_policy_get_digest(uint8_t *buf, size_t cap, uint32_t policy_session);
/* Its response: a 48-byte digest (the session's hash is SHA-384) into out. */
int tpm2_parse_policy_get_digest(const uint8_t *rsp, size_t len,
				 uint8_t out[TPM2_SHA384_LEN], uint32_t *rc,
				 char *err, size_t err_len);

#endif
