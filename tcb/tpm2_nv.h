/*
 * A TPM 2.0 NV index that only a boot with the same PCRs can read or
 * write, with every byte of its contents encrypted on the bus (TPM 2.0
 * Library Part 3: NV_DefineSpace, NV_ReadPublic, NV_Write, NV_Read,
 * PolicyPCR; Part 1: "Policy Assertions", "NV Index Names").
 *
 * The caller defines an ordinary index whose authPolicy is a PolicyPCR
 * over the SHA-384 bank (tpm2_policy_pcr_digest), with
 * TPMA_NV_POLICYWRITE and TPMA_NV_POLICYREAD and no other way in (no
 * AUTHREAD/AUTHWRITE, OWNERREAD/WRITE or PPREAD/WRITE), and an empty
 * authValue (NV_DefineSpace here always gives it one). Each NV_Write or
 * NV_Read is authorised by a salted policy session (tcb/tpm2_session.h,
 * TPM2_SE_POLICY) that has just run PolicyPCR, and the same session
 * encrypts the data (AES-128-CFB: decrypt for NV_Write's data, encrypt for
 * NV_Read's) and authenticates command and response by their HMACs.
 *
 * The order of a boot, on one policy session:
 *
 *   NV_ReadPublic           undefined (tpm2_rc_is_nv_undefined): define it
 *   NV_DefineSpace          under the owner hierarchy (empty password)
 *   PolicyPCR + NV_Write    once per write
 *   PolicyPCR + NV_Read     once per read
 *
 * PolicyPCR comes again before EVERY NV_Write and NV_Read: a policy
 * session's policyDigest goes back to zero once it has authorised a
 * command (Part 1, "Policy Session"; continueSession keeps the session,
 * not its digest), and the next command would fail with
 * TPM_RC_POLICY_FAIL. After any failure, flush the session and start
 * another: its nonces and its digest are then not known to be in step.
 *
 * What binds what: the cpHash of NV_Write and NV_Read covers the index's
 * Name, the digest of its whole public area (attributes, authPolicy,
 * size), so a TPM holding another index under that handle (defined by
 * someone else with another policy, or an interposer's answer to
 * NV_ReadPublic) refuses the command's HMAC rather than serving it. The
 * TPMA_NV_WRITTEN bit is part of the Name: the TPM sets it with the first
 * write, and the caller sets it in its struct once that write succeeded
 * (or takes the area NV_ReadPublic returns). NV_ReadPublic,
 * NV_DefineSpace and PolicyPCR run without an HMAC (nothing secret
 * crosses, and a lie in their answers only makes the NV_Write or NV_Read
 * after them fail): an "undefined" that is not true makes NV_DefineSpace
 * fail with TPM_RC_NV_DEFINED, and a caller compares the area
 * NV_ReadPublic returns with the one it would define before it trusts an
 * index someone else may have defined.
 *
 * Every parser is as strict as those of tcb/tpm2_cmd.h (exact sizes, tag,
 * nothing trailing, the index and Name asked for), never reads past the
 * response, and says in one line what was wrong. Each takes rc (may be
 * NULL) for the caller that must tell one refusal from another: the
 * header's response code when the header was well formed (TPM2_RC_SUCCESS
 * even when the body after it was not), TPM2_RC_MALFORMED when it was not.
 *
 * Portable: builds freestanding into the hypervisor and hosted into the
 * tests and the fuzzer; uses crypto/crypto.h (SHA-384) and the session.
 */
#ifndef CUSTOS_TCB_TPM2_NV_H
#define CUSTOS_TCB_TPM2_NV_H

#include "tcb/tpm2_session.h"

/* Command codes (NV_ReadPublic and NV_Read: tcb/tpm2_cmd.h). */
#define TPM2_CC_NV_DEFINE_SPACE 0x0000012a
#define TPM2_CC_NV_WRITE        0x00000137
#define TPM2_CC_POLICY_PCR      0x0000017f

/* TPMA_NV (TPM2_NVA_WRITTEN and TPM2_NVA_AUTHREAD: tcb/tpm2_cmd.h). */
#define TPM2_NVA_POLICYWRITE 0x00000008 /* written with the authPolicy */
#define TPM2_NVA_POLICYREAD  0x00080000 /* read with the authPolicy */
#define TPM2_NVA_NO_DA       0x02000000 /* failures count against no lockout */

/* Response codes the caller tells apart. Format one (bit 7) codes carry
 * the handle (bits 8..10), parameter (bit 6 set) or session (bit 11 set)
 * they blame: these are the bare codes. */
#define TPM2_RC_HANDLE           0x08b /* NV_ReadPublic of an undefined index: 0x18b */
#define TPM2_RC_VALUE            0x084 /* PolicyPCR: the PCRs are not pcr_digest */
#define TPM2_RC_AUTH_FAIL        0x08e /* a command HMAC that does not verify, */
#define TPM2_RC_BAD_AUTH         0x0a2 /* ... for an entity with TPMA_NV_NO_DA */
#define TPM2_RC_POLICY_FAIL      0x09d /* the session's digest is not the authPolicy */
#define TPM2_RC_NV_UNINITIALIZED 0x14a /* NV_Read of an index never written */
#define TPM2_RC_NV_DEFINED       0x14c /* NV_DefineSpace of an index that exists */

#define TPM2_NV_NAME_LEN   TPM2_SESSION_NAME_LEN /* SHA-384: 2 + 48 */
/* The largest NV_Write we build (as for NV_Read: a TPM's own limit,
 * TPM2_PT_NV_BUFFER_MAX, may be lower; the PC Client profile guarantees
 * TPM2_NV_READ_SAFE). */
#define TPM2_NV_WRITE_MAX  TPM2_NV_READ_MAX

/* An ordinary NV index's public area with nameAlg SHA-384 and a 48-byte
 * authPolicy (TPMS_NV_PUBLIC; no other shape is built or accepted). */
struct tpm2_nv_public {
	uint32_t index;                   /* 0x01xxxxxx */
	uint32_t attributes;              /* TPMA_NV */
	uint8_t policy[TPM2_SHA384_LEN];  /* authPolicy */
	uint16_t size;                    /* dataSize, bytes */
};

/* NV_ReadPublic (or NV_Read, NV_Write with authHandle = the index)
 * answered that no index has that handle: TPM_RC_HANDLE for handle 1 or 2. */
bool tpm2_rc_is_nv_undefined(uint32_t rc);
/* The TPM refused a policy session's authorisation because the PCRs are
 * not those of the policy: PolicyPCR's TPM_RC_VALUE on pcrDigest
 * (parameter 1), or the authorised command's TPM_RC_POLICY_FAIL for
 * session 1. */
bool tpm2_rc_is_policy_mismatch(uint32_t rc);

/* The index's Name: nameAlg (SHA-384) || SHA-384(TPMS_NV_PUBLIC). */
void tpm2_nv_name(const struct tpm2_nv_public *pub, uint8_t name[TPM2_NV_NAME_LEN]);

/*
 * The authPolicy of PolicyPCR over the SHA-384 PCRs of pcr_mask (bit i =
 * PCR i, 0..23, non-zero), values[] their values in ascending PCR order
 * (count = the number of bits in pcr_mask), as a trial session computes
 * it: pcr_digest = SHA-384(values in order); policy = SHA-384(48 zero
 * bytes || TPM_CC_PolicyPCR || TPML_PCR_SELECTION of the mask ||
 * pcr_digest). -1 (outputs untouched) when mask and count disagree: a
 * policy of zeros would be satisfied by a session that asserted nothing.
 */
int tpm2_policy_pcr_digest(uint32_t pcr_mask, const uint8_t (*values)[TPM2_SHA384_LEN],
			   size_t count, uint8_t pcr_digest[TPM2_SHA384_LEN],
			   uint8_t policy[TPM2_SHA384_LEN]);

/* NV_DefineSpace of pub under TPM_RH_OWNER with the empty password: an
 * empty authValue, nameAlg SHA-384. 0 when cap is too small, the handle is
 * not an NV index, TPMA_NV_WRITTEN is set (the TPM sets it) or size is 0. */
size_t tpm2_build_nv_define_space(uint8_t *buf, size_t cap,
				  const struct tpm2_nv_public *pub);
/* Its response: no parameters and the password session's auth area. */
int tpm2_parse_nv_define_space(const uint8_t *rsp, size_t len, uint32_t *rc,
			       char *err, size_t err_len);

/* NV_ReadPublic's response (the command: tpm2_build_nv_read_public in
 * tcb/tpm2_cmd.h): the public area of nv_index and no other, nameAlg
 * SHA-384, a 48-byte authPolicy, into pub; and nvName equal to the Name
 * computed from that area. An undefined index is a refusal whose rc
 * tpm2_rc_is_nv_undefined recognises. */
int tpm2_parse_nv_read_public_full(const uint8_t *rsp, size_t len, uint32_t nv_index,
				   struct tpm2_nv_public *pub, uint32_t *rc, char *err,
				   size_t err_len);

/* PolicyPCR into policy_session (0x03xxxxxx), no auth area: the SHA-384
 * PCRs of pcr_mask (non-zero, bits 0..23) and pcr_digest as
 * tpm2_policy_pcr_digest computed it for them. The TPM refuses it
 * (TPM_RC_VALUE) when its PCRs hold other values. 0 when cap is too small
 * or an argument is out of range. */
size_t tpm2_build_policy_pcr(uint8_t *buf, size_t cap, uint32_t policy_session,
			     uint32_t pcr_mask,
			     const uint8_t pcr_digest[TPM2_SHA384_LEN]);
/* Its response: a header and nothing else. */
int tpm2_parse_policy_pcr(const uint8_t *rsp, size_t len, uint32_t *rc,
			  char *err, size_t err_len);

/*
 * NV_Write of len (1..TPM2_NV_WRITE_MAX) bytes of data at offset into the
 * index pub describes, authorised by s after PolicyPCR (authHandle and
 * nvIndex both the index, both Names computed from pub as given: keep its
 * TPMA_NV_WRITTEN as the TPM's), continueSession | decrypt: the data cross
 * the bus encrypted. 0 when cap is too small, the bytes do not lie inside
 * the index, or the session builder refuses.
 */
size_t tpm2_build_nv_write_policy(uint8_t *buf, size_t cap, struct tpm2_session *s,
				  const struct tpm2_nv_public *pub, const uint8_t *data,
				  size_t len, uint16_t offset,
				  const uint8_t nonce[TPM2_SESSION_HASH_LEN]);
/* Its response: no parameters, the session's HMAC verified. The first
 * write sets TPMA_NV_WRITTEN in the index, and so changes its Name: set
 * it in pub then, or every later command's HMAC fails. */
int tpm2_parse_nv_write_policy(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			       uint32_t *rc, char *err, size_t err_len);

/* NV_Read of size (1..TPM2_NV_READ_MAX) bytes at offset from the index pub
 * describes, authorised by s after PolicyPCR (Names as for NV_Write),
 * continueSession | encrypt: the data cross the bus encrypted. 0 when cap
 * is too small, the bytes do not lie inside the index, or the session
 * builder refuses. */
size_t tpm2_build_nv_read_policy(uint8_t *buf, size_t cap, struct tpm2_session *s,
				 const struct tpm2_nv_public *pub, uint16_t size,
				 uint16_t offset, const uint8_t nonce[TPM2_SESSION_HASH_LEN]);
/* Its response: the session's HMAC verified, then exactly want (the size
 * asked) bytes decrypted into out; out is untouched on a refusal. */
int tpm2_parse_nv_read_policy(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			      uint8_t *out, size_t want, uint32_t *rc, char *err,
			      size_t err_len);

#endif
