/*
 * The TCB's identity keys held by the TPM (issue 12: "TCB identity bound to
 * the TPM"): a signing key for reports and a key-agreement key to which the
 * TPGVM envelope is encrypted, each a primary key under the endorsement
 * hierarchy that only a session satisfying its authPolicy can use; no
 * private key is on the boot media (TPM 2.0 Library Part 3: CreatePrimary,
 * Certify, Sign, ECDH_ZGen; Part 1: "Names", "Qualified Name", "Object
 * Attributes").
 *
 * Both keys are ECC P-384 with nameAlg SHA-384, created from fixed
 * templates with an empty unique field, so one TPM derives the same two
 * keys from its endorsement seed on every boot (until the seed changes).
 * objectAttributes: fixedTPM | fixedParent | sensitiveDataOrigin and sign
 * (ECDSA with SHA-384) or decrypt (ECDH with SHA-384); not restricted.
 *
 *   userWithAuth clear:    no authValue (password or HMAC session) opens
 *                          any use of the key as USER: only a policy
 *                          session whose policyDigest equals the key's
 *                          authPolicy does (Sign, ECDH_ZGen). The policy
 *                          is the caller's 48-byte digest: PolicyAuthorize
 *                          of the CA's key in production, PolicyPCR over
 *                          PCRs 0-9 in the tests.
 *   adminWithPolicy clear: the ADMIN role (Certify's objectHandle) is
 *                          then authorised by the empty authValue, so the
 *                          AK can certify the key with a password session.
 *                          ADMIN opens no use of the private key: Certify,
 *                          and ObjectChangeAuth, whose new private blob no
 *                          TPM can load (a primary has no parent to load
 *                          it under; fixedParent forbids duplication).
 *
 * The two templates differ (attributes, scheme), so they are two keys.
 * Because the template is fixed and the TPM pads each coordinate to 48
 * bytes, a key's public area, and so its Name = 0x000c || SHA-384(area),
 * follows from its kind, its policy and its point: a verifier recomputes
 * the Name from the point a report carries (tpm2_tcb_key_name) and finds
 * that very Name, signed by the AK, in the TPMS_ATTEST that Certify made.
 *
 * What binds what: CreatePrimary's response must hold exactly the
 * template sent (a TPM or interposer that answers with another policy or
 * attributes is refused) and the Name computed here. Certify's attest
 * names the key (Name and Qualified Name: the key is a primary of the
 * endorsement hierarchy) and carries the caller's qualifying data, under
 * the AK's signature. Sign and ECDH_ZGen run on a salted policy session
 * (tcb/tpm2_session.h) that has just run the policy; their cpHash covers
 * the key's Name, so the TPM refuses the command's HMAC if the handle
 * holds another key, and the response's HMAC is checked before the
 * signature or the shared secret is believed. ECDH_ZGen's answer comes
 * back encrypted (the session's encrypt attribute). As in tcb/tpm2_nv.h,
 * a policy session's digest goes back to zero once it authorised a
 * command: run the policy again before every Sign and ECDH_ZGen.
 *
 * Every parser is as strict as those of tcb/tpm2_cmd.h and tcb/tpm2_nv.h
 * (tag, exact size, response code, every length, nothing trailing) and
 * says in one line what was wrong; each takes rc (may be NULL) as in
 * tcb/tpm2_nv.h: the header's response code when the header was well
 * formed, TPM2_RC_MALFORMED when it was not.
 *
 * Portable: builds freestanding into the hypervisor and hosted into the
 * tests and the fuzzer; uses crypto/crypto.h (SHA-384) and the session.
 */
#ifndef CUSTOS_TCB_TPM2_TCB_KEY_H
#define CUSTOS_TCB_TPM2_TCB_KEY_H

#include "tcb/tpm2_nv.h"

#define TPM2_CC_CERTIFY     0x00000148
#define TPM2_CC_SIGN        0x0000015d
#define TPM2_CC_ECDH_ZGEN   0x00000154
#define TPM2_ALG_ECDH       0x0019
#define TPM2_ST_ATTEST_CERTIFY 0x8017
#define TPM2_ST_HASHCHECK   0x8024
#define TPM2_GENERATED_VALUE 0xff544347u /* "\xffTCG": made by a TPM */
/* A command that needs an authorisation the entity does not allow: a
 * password or HMAC session for a key without userWithAuth. */
#define TPM2_RC_AUTH_UNAVAILABLE 0x12f

/* fixedTPM, fixedParent, sensitiveDataOrigin, and sign or decrypt. */
#define TPM2_TCB_SIGN_ATTRIBUTES  0x00040032
#define TPM2_TCB_AGREE_ATTRIBUTES 0x00020032

#define TPM2_TCB_KEY_NAME_LEN  TPM2_SESSION_NAME_LEN      /* 0x000c || SHA-384 */
/* The TPMT_PUBLIC: the template, a 48-byte policy, both coordinates at 48. */
#define TPM2_TCB_KEY_PUBLIC_LEN (20 + TPM2_SHA384_LEN + 4 + 2 * TPM2_P384_LEN)
#define TPM2_TCB_QUALIFYING_MAX TPM2_SHA384_LEN           /* Certify's nonce */

enum tpm2_tcb_key_kind {
	TPM2_TCB_KEY_SIGN,  /* ECDSA with SHA-384: signs reports */
	TPM2_TCB_KEY_AGREE, /* ECDH: the envelope's recipient */
};

/* A key as CreatePrimary returned it. */
struct tpm2_tcb_key {
	uint32_t handle;                        /* transient: flush it after use */
	enum tpm2_tcb_key_kind kind;
	uint8_t pub[TPM2_P384_POINT_LEN];       /* 04 || X || Y */
	uint8_t name[TPM2_TCB_KEY_NAME_LEN];
};

/* The public area of a key of kind with authPolicy policy and point pub,
 * as the TPM returns it; and its Name. For a verifier that holds only the
 * point and the policy. (For a kind that is neither, an area of zeros.) */
void tpm2_tcb_key_public_area(enum tpm2_tcb_key_kind kind,
			      const uint8_t policy[TPM2_SHA384_LEN],
			      const uint8_t pub[TPM2_P384_POINT_LEN],
			      uint8_t area[TPM2_TCB_KEY_PUBLIC_LEN]);
void tpm2_tcb_key_name(enum tpm2_tcb_key_kind kind,
		       const uint8_t policy[TPM2_SHA384_LEN],
		       const uint8_t pub[TPM2_P384_POINT_LEN],
		       uint8_t name[TPM2_TCB_KEY_NAME_LEN]);

/* CreatePrimary of the key of kind with authPolicy policy under the
 * endorsement hierarchy (empty password). 0 when cap is too small or kind
 * is neither. */
size_t tpm2_build_create_tcb_key(uint8_t *buf, size_t cap, enum tpm2_tcb_key_kind kind,
				 const uint8_t policy[TPM2_SHA384_LEN]);
/* Its response: a transient handle; a public area of exactly the template
 * sent with a point whose coordinates are 48 bytes each; creationData,
 * creationHash and creationTicket stepped over by their sizes; the name
 * the TPM returned equal to the one computed from the area. */
int tpm2_parse_create_tcb_key(const uint8_t *rsp, size_t len, enum tpm2_tcb_key_kind kind,
			      const uint8_t policy[TPM2_SHA384_LEN],
			      struct tpm2_tcb_key *key, uint32_t *rc, char *err,
			      size_t err_len);

/* Certify of key by the AK at ak_handle (both with the empty password:
 * key as ADMIN, which adminWithPolicy clear allows), qualifying data of
 * 0..TPM2_TCB_QUALIFYING_MAX bytes (NULL when 0), the AK's own scheme. 0
 * when cap is too small or the data too long. */
size_t tpm2_build_certify_tcb_key(uint8_t *buf, size_t cap, const struct tpm2_tcb_key *key,
				  uint32_t ak_handle, const uint8_t *qualifying,
				  size_t qualifying_len);

/* A certification as Certify returned it, for a verifier: the AK's ECDSA
 * signature with SHA-384 over SHA-384(attest). */
struct tpm2_tcb_certify {
	uint8_t attest[TPM2_ATTEST_MAX];
	size_t attest_len;
	uint8_t sig[2 * TPM2_P384_LEN];         /* r || s, each left-padded to 48 */
};
/*
 * A TPMS_ATTEST of Certify of the key named name: magic
 * TPM_GENERATED_VALUE, type TPM_ST_ATTEST_CERTIFY, a SHA-384
 * qualifiedSigner (the AK's), extraData exactly qualifying, clockInfo and
 * firmwareVersion (not judged: the TPM's counters), the attested name
 * equal to name and its Qualified Name that of a primary of the
 * endorsement hierarchy, nothing after. For the verifier as well: the
 * signature over it is the caller's to check.
 */
int tpm2_check_certify_attest(const uint8_t *attest, size_t len,
			      const uint8_t name[TPM2_TCB_KEY_NAME_LEN],
			      const uint8_t *qualifying, size_t qualifying_len,
			      char *err, size_t err_len);
/* Certify's response: certifyInfo (1..TPM2_ATTEST_MAX bytes) that
 * tpm2_check_certify_attest accepts for key and qualifying; an ECDSA
 * signature with SHA-384 whose r and s are 1..48 bytes; two password
 * sessions' auth areas. */
int tpm2_parse_certify_tcb_key(const uint8_t *rsp, size_t len,
			       const struct tpm2_tcb_key *key, const uint8_t *qualifying,
			       size_t qualifying_len, struct tpm2_tcb_certify *out,
			       uint32_t *rc, char *err, size_t err_len);

/* Sign of a 48-byte digest with the signing key, scheme ECDSA with
 * SHA-384, a NULL hashcheck ticket (the key is not restricted), authorised
 * by s (a policy session that has just run the key's policy; the cpHash
 * names the key), continueSession. 0 when cap is too small, key is not a
 * signing key, s is not a policy session (no other can authorise the key),
 * or the session builder refuses. */
size_t tpm2_build_tcb_sign(uint8_t *buf, size_t cap, struct tpm2_session *s,
			   const struct tpm2_tcb_key *key,
			   const uint8_t digest[TPM2_SHA384_LEN],
			   const uint8_t nonce[TPM2_SESSION_HASH_LEN]);
/* Its response: the session's HMAC verified, then an ECDSA signature with
 * SHA-384, r and s 1..48 bytes each, left-padded into sig (r || s); sig
 * is untouched on a refusal. */
int tpm2_parse_tcb_sign(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			uint8_t sig[2 * TPM2_P384_LEN], uint32_t *rc, char *err,
			size_t err_len);

/* ECDH_ZGen of the key-agreement key with point (04 || X || Y, the
 * sender's ephemeral public key), authorised by s as for Sign, with
 * continueSession | encrypt: the shared point crosses the bus encrypted.
 * 0 when cap is too small, key is not the key-agreement key, s is not a
 * policy session, point is not uncompressed, or the session builder
 * refuses. */
size_t tpm2_build_tcb_ecdh_zgen(uint8_t *buf, size_t cap, struct tpm2_session *s,
				const struct tpm2_tcb_key *key,
				const uint8_t point[TPM2_P384_POINT_LEN],
				const uint8_t nonce[TPM2_SESSION_HASH_LEN]);
/* Its response: the session's HMAC verified, outPoint decrypted, x and y
 * 1..48 bytes each; the x coordinate (the ECDH shared secret) left-padded
 * into z. z is untouched on a refusal, and no decrypted byte stays
 * anywhere else. */
int tpm2_parse_tcb_ecdh_zgen(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			     uint8_t z[TPM2_P384_LEN], uint32_t *rc, char *err,
			     size_t err_len);

#endif
