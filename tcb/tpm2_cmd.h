/*
 * The TPM 2.0 commands the TCB sends, marshalled into a caller's buffer, and
 * their responses parsed. A response is untrusted input: it comes over a
 * bus an interposer can reach, from a device the TCB does not control. So
 * every parser checks the header (tag, size equal to the bytes received,
 * response code), every length against what is left and against what the
 * command asked for, and that nothing trails the last field; on any doubt
 * it returns -1 and writes one line into err. Portable (no I/O, no crypto):
 * hv/tpm.c moves the bytes, cmocka and libFuzzer test this file on the host.
 *
 * Wire format: TPM 2.0 Library, Part 1 (structures big-endian) and Part 3
 * (commands). Only the SHA-384 PCR bank is used: the TCB's measurements are
 * SHA-384 digests (docs/eventlog.md).
 */
#ifndef CUSTOS_TCB_TPM2_CMD_H
#define CUSTOS_TCB_TPM2_CMD_H

#include <custos/types.h>

#define TPM2_HEADER_LEN   10
#define TPM2_BUFFER_MAX   4096 /* no command or response of ours is larger */
#define TPM2_SHA384_LEN   48
#define TPM2_PCR_COUNT    24   /* PC Client: PCRs 0..23 */

#define TPM2_ST_NO_SESSIONS 0x8001
#define TPM2_ST_SESSIONS    0x8002
#define TPM2_ALG_SHA256     0x000b
#define TPM2_ALG_SHA384     0x000c
#define TPM2_ALG_ECC        0x0023
#define TPM2_ALG_ECDSA      0x0018
#define TPM2_ALG_NULL       0x0010
#define TPM2_ECC_NIST_P384  0x0004
#define TPM2_SU_CLEAR       0x0000
#define TPM2_RS_PW          0x40000009 /* password "session" (empty auth) */
#define TPM2_RH_ENDORSEMENT 0x4000000b
#define TPM2_RH_NULL        0x40000007
#define TPM2_ALG_RSA        0x0001
#define TPM2_ALG_AES        0x0006
#define TPM2_ALG_CFB        0x0043
#define TPM2_SE_POLICY      0x01

#define TPM2_CC_STARTUP        0x00000144
#define TPM2_CC_PCR_EXTEND     0x00000182
#define TPM2_CC_GET_CAPABILITY 0x0000017a
#define TPM2_CC_GET_RANDOM     0x0000017b
#define TPM2_CC_PCR_READ       0x0000017e
#define TPM2_CC_CREATE_PRIMARY 0x00000131
#define TPM2_CC_QUOTE          0x00000158
#define TPM2_CC_FLUSH_CONTEXT  0x00000165
#define TPM2_CC_NV_READ_PUBLIC 0x00000169
#define TPM2_CC_NV_READ        0x0000014e
#define TPM2_CC_START_AUTH_SESSION 0x00000176
#define TPM2_CC_POLICY_SECRET  0x00000151
#define TPM2_CC_ACTIVATE_CREDENTIAL 0x00000147

/* The attestation key (AK): a restricted ECDSA P-384 signing key with
 * SHA-384 as its name and signature hash. objectAttributes: fixedTPM,
 * fixedParent, sensitiveDataOrigin, userWithAuth, restricted, sign. */
#define TPM2_AK_ATTRIBUTES  0x00050072
#define TPM2_P384_LEN       48
#define TPM2_P384_POINT_LEN (1 + 2 * TPM2_P384_LEN) /* 04 || X || Y */
/* The AK's TPMT_PUBLIC with both coordinates at full length; the parser
 * accepts no other shape, so none is longer. */
#define TPM2_AK_PUBLIC_MAX  (24 + 2 * TPM2_P384_LEN)
/* A TPMS_ATTEST of a quote of ours is at most about 250 bytes (a SHA-512
 * name, 64 bytes of extraData, one selection, a SHA-512 digest); twice
 * that leaves room without letting a response grow a report. */
#define TPM2_ATTEST_MAX     512
#define TPM2_QUALIFYING_MAX 64 /* TPM2B_DATA: the size of the largest digest */

/* Credential activation (Part 3, ActivateCredential; the TCG EK
 * Credential Profile): the EK certificate a CA checks sits in NV at these
 * indices; the EK is the profile's default RSA 2048 key (template L-1),
 * which CreatePrimary re-derives from the endorsement seed. */
#define TPM2_NV_EK_CERT_RSA 0x01c00002
#define TPM2_NV_EK_CERT_ECC 0x01c00016
#define TPM2_PT_NV_BUFFER_MAX 0x0000012c /* GetCapability: MAX_NV_BUFFER_SIZE */
/* The largest NV_Read we build or accept (the response stays well inside
 * TPM2_BUFFER_MAX); a TPM's own limit may be lower: ask it
 * (TPM2_PT_NV_BUFFER_MAX) or keep to TPM2_NV_READ_SAFE, which the PC
 * Client profile guarantees. */
#define TPM2_NV_READ_MAX    1024
#define TPM2_NV_READ_SAFE   512
#define TPM2_NVA_AUTHREAD   0x00040000 /* NV_Read with the index's own auth */
#define TPM2_NVA_WRITTEN    0x20000000
/* EK objectAttributes: fixedTPM, fixedParent, sensitiveDataOrigin,
 * adminWithPolicy, restricted, decrypt. */
#define TPM2_EK_ATTRIBUTES  0x000300b2
#define TPM2_SHA256_LEN     32
#define TPM2_RSA2048_LEN    256
/* The EK's TPMT_PUBLIC: the template with its 256-byte modulus. */
#define TPM2_EK_PUBLIC_LEN  (58 + TPM2_RSA2048_LEN)
/* A Name: nameAlg || H(TPMT_PUBLIC). The EK's nameAlg is SHA-256, the
 * AK's SHA-384. */
#define TPM2_EK_NAME_LEN    (2 + TPM2_SHA256_LEN)
#define TPM2_AK_NAME_LEN    (2 + TPM2_SHA384_LEN)
#define TPM2_NONCE_LEN      16 /* nonceCaller of our sessions, and so nonceTPM */
#define TPM2_DIGEST_MAX     64 /* TPM2B_DIGEST: SHA-512's size */
/* TPM2B_ID_OBJECT's contents: integrityHMAC and encIdentity, each a
 * TPM2B_DIGEST. */
#define TPM2_ID_OBJECT_MAX  (2 * (2 + TPM2_DIGEST_MAX))

#define TPM2_RC_SUCCESS    0x000
/* No response code: the response itself was malformed (above the codes a
 * TPM returns). */
#define TPM2_RC_MALFORMED 0xffffffffu
#define TPM2_RC_INITIALIZE 0x100 /* Startup after the firmware's: fine */

/*
 * Builders: each writes one whole command into buf (at most cap bytes) and
 * returns its length, or 0 when cap is too small (nothing useful written).
 */
size_t tpm2_build_startup_clear(uint8_t *buf, size_t cap);
/* TPM2_GetRandom for n (>= 1) bytes (the TPM may return fewer: see the
 * parser; swtpm gives at most 64). */
size_t tpm2_build_get_random(uint8_t *buf, size_t cap, uint16_t n);
/* TPM2_GetCapability(TPM_CAP_PCRS): which PCR banks are active. */
size_t tpm2_build_get_pcr_banks(uint8_t *buf, size_t cap);
/* TPM2_PCR_Extend of one SHA-384 digest into PCR pcr (0..23), authorised
 * by the empty password (PCRs 0..15 and 23 need nothing more at locality 0).
 * A TPM without an allocated SHA-384 bank accepts it and changes nothing:
 * check the banks (tpm2_build_get_pcr_banks) first. */
size_t tpm2_build_pcr_extend_sha384(uint8_t *buf, size_t cap, uint32_t pcr,
				    const uint8_t digest[TPM2_SHA384_LEN]);
/* TPM2_PCR_Read of one SHA-384 PCR (0..23). */
size_t tpm2_build_pcr_read_sha384(uint8_t *buf, size_t cap, uint32_t pcr);
/* TPM2_CreatePrimary of the AK under the endorsement hierarchy (empty
 * password), with no user auth, no policy and an empty unique field: the
 * key derives from the endorsement seed and the template alone, so every
 * boot of one TPM gets the same key (until the seed changes). */
size_t tpm2_build_create_ak(uint8_t *buf, size_t cap);
/* TPM2_Quote with the AK at ak_handle (empty password), qualifying data of
 * 0..TPM2_QUALIFYING_MAX bytes (may be NULL when 0), the key's own scheme,
 * and the SHA-384 PCRs of pcr_mask (bit i = PCR i; non-zero, bits 0..23). */
size_t tpm2_build_quote(uint8_t *buf, size_t cap, uint32_t ak_handle,
			const uint8_t *qualifying, size_t qualifying_len,
			uint32_t pcr_mask);
/* TPM2_FlushContext of a transient object or session (the AK once
 * quoted: a TPM holds only a few). */
size_t tpm2_build_flush_context(uint8_t *buf, size_t cap, uint32_t handle);
/* TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES) of one property, e.g.
 * TPM2_PT_NV_BUFFER_MAX. */
size_t tpm2_build_get_property(uint8_t *buf, size_t cap, uint32_t property);
/* TPM2_NV_ReadPublic of an NV index (0x01xxxxxx; 0 otherwise). */
size_t tpm2_build_nv_read_public(uint8_t *buf, size_t cap, uint32_t nv_index);
/* TPM2_NV_Read of size (1..TPM2_NV_READ_MAX) bytes at offset, authorised
 * by the index itself with the empty password (needs TPM2_NVA_AUTHREAD,
 * which the EK certificate indices have). An EK certificate is larger than
 * one read: read dataSize (tpm2_build_nv_read_public) in chunks of at most
 * the TPM's TPM2_PT_NV_BUFFER_MAX. 0 when offset + size passes 65535. */
size_t tpm2_build_nv_read(uint8_t *buf, size_t cap, uint32_t nv_index,
			  uint16_t size, uint16_t offset);
/* TPM2_CreatePrimary of the EK under the endorsement hierarchy (empty
 * password): the EK Credential Profile's template L-1, so the key is the
 * one the manufacturer certified. */
size_t tpm2_build_create_ek(uint8_t *buf, size_t cap);
/* TPM2_StartAuthSession of an unbound, unsalted policy session with
 * SHA-256 and no parameter encryption; nonce_caller should be fresh. */
size_t tpm2_build_start_policy_session(uint8_t *buf, size_t cap,
				       const uint8_t nonce_caller[TPM2_NONCE_LEN]);
/* TPM2_PolicySecret(TPM_RH_ENDORSEMENT) with the empty password into
 * policy_session (0x03xxxxxx): with no nonce, cpHash, policyRef or
 * expiration, it satisfies the EK's policy (the profile's authPolicy). */
size_t tpm2_build_policy_secret_endorsement(uint8_t *buf, size_t cap,
					    uint32_t policy_session);
/* TPM2_ActivateCredential: the AK at ak_handle (activateHandle, empty
 * password) and the EK at ek_handle (keyHandle, authorised by
 * policy_session after PolicySecret, which the command then closes),
 * credential_blob the contents of a TPM2B_ID_OBJECT (1..TPM2_ID_OBJECT_MAX
 * bytes) and secret those of a TPM2B_ENCRYPTED_SECRET (1..TPM2_RSA2048_LEN),
 * both from the CA's MakeCredential. */
size_t tpm2_build_activate_credential(uint8_t *buf, size_t cap,
				      uint32_t ak_handle, uint32_t ek_handle,
				      uint32_t policy_session,
				      const uint8_t *credential_blob,
				      size_t blob_len, const uint8_t *secret,
				      size_t secret_len);
/* The Names of the keys, from the digest of their public_area the caller
 * computes (this file has no crypto): SHA-256 for the EK, SHA-384 for the
 * AK. A CA binds a credential to the AK's Name. */
void tpm2_ek_name(const uint8_t sha256[TPM2_SHA256_LEN],
		  uint8_t name[TPM2_EK_NAME_LEN]);
void tpm2_ak_name(const uint8_t sha384[TPM2_SHA384_LEN],
		  uint8_t name[TPM2_AK_NAME_LEN]);

/*
 * The response header: at least 10 bytes, the tag the command's sessions
 * call for (TPM2_ST_NO_SESSIONS or TPM2_ST_SESSIONS; an error response
 * always carries TPM2_ST_NO_SESSIONS and exactly 10 bytes; a TPM 1.2's
 * 10-byte TPM_RC_BAD_TAG carries its own tag 0x00c4), the size field equal
 * to len, len at most TPM2_BUFFER_MAX. On success *rc holds the response code (which may be an
 * error the TPM reports: that is still a well-formed response). -1 on a
 * malformed one.
 */
int tpm2_response_header(const uint8_t *rsp, size_t len, uint16_t session_tag,
			 uint32_t *rc, char *err, size_t err_len);

/* One line naming a response code for the console, e.g. "TPM_RC_LOCALITY
 * (0x907)", "TPM_RC_AUTH_FAIL (0x98e, session 1)" or, for one without a
 * name here, "TPM response code 0x...". Never NULL; a static buffer that
 * the next call overwrites (the TCB is single-threaded). */
const char *tpm2_rc_name(uint32_t rc);

/*
 * Parsers of successful responses (rc TPM2_RC_SUCCESS; any other rc, or
 * any malformation, is -1 with a reason in err).
 */
/* Startup: TPM2_RC_INITIALIZE (the firmware started it already) counts as
 * success. */
int tpm2_parse_startup(const uint8_t *rsp, size_t len, char *err, size_t err_len);
/* GetRandom: 1..want bytes into out, their count into *got; more than want
 * bytes, or none, is malformed. */
int tpm2_parse_get_random(const uint8_t *rsp, size_t len, uint8_t *out,
			  size_t want, size_t *got, char *err, size_t err_len);
/* GetCapability(TPM_CAP_PCRS): *sha384_pcrs gets the bitmap of PCRs
 * (bit i = PCR i, 0..23) allocated in the SHA-384 bank, 0 when the TPM
 * has no such bank. */
int tpm2_parse_get_pcr_banks(const uint8_t *rsp, size_t len,
			     uint32_t *sha384_pcrs, char *err, size_t err_len);
/* PCR_Extend: a sessions response whose parameter area is empty and whose
 * one auth area is the password session's (empty nonce, attributes 0 or
 * continueSession, empty hmac). */
int tpm2_parse_pcr_extend(const uint8_t *rsp, size_t len, char *err, size_t err_len);
/* PCR_Read: exactly the one SHA-384 PCR asked for, its value into out.
 * A TPM that returns another selection (or none: the PCR is not
 * allocated) is refused. */
int tpm2_parse_pcr_read_sha384(const uint8_t *rsp, size_t len, uint32_t pcr,
			       uint8_t out[TPM2_SHA384_LEN], char *err, size_t err_len);

/* The AK as CreatePrimary returned it. */
struct tpm2_ak {
	uint32_t handle;                   /* transient: flush it after use */
	uint8_t pub[TPM2_P384_POINT_LEN];  /* 04 || X || Y */
	/* The TPMT_PUBLIC bytes exactly as the TPM returned them inside
	 * outPublic (the key's name is nameAlg || SHA-384 of these). */
	uint8_t public_area[TPM2_AK_PUBLIC_MAX];
	size_t public_len;
};
/* CreatePrimary (tpm2_build_create_ak): a transient handle, and a public
 * area of exactly the kind asked for (type, nameAlg, attributes, empty
 * policy, scheme, curve, kdf); the coordinates 1..48 bytes each, left-padded
 * with zeros. creationData, creationHash, creationTicket and name are
 * skipped by their sizes. */
int tpm2_parse_create_ak(const uint8_t *rsp, size_t len, struct tpm2_ak *ak,
			 char *err, size_t err_len);

/* A quote as Quote returned it: TPMS_ATTEST uninterpreted (the verifier
 * unmarshals and checks it; tools/quote_verify.c). */
struct tpm2_quote {
	uint8_t attest[TPM2_ATTEST_MAX];
	size_t attest_len;                  /* 1..TPM2_ATTEST_MAX */
	uint8_t sig[2 * TPM2_P384_LEN];     /* r || s, each left-padded to 48 */
};
/* Quote: the attest bytes (1..TPM2_ATTEST_MAX) and an ECDSA signature with
 * SHA-384 whose r and s are 1..48 bytes each. */
int tpm2_parse_quote(const uint8_t *rsp, size_t len, struct tpm2_quote *q,
		     char *err, size_t err_len);
/* FlushContext: a header and nothing else. */
int tpm2_parse_flush_context(const uint8_t *rsp, size_t len, char *err,
			     size_t err_len);
/* GetCapability(TPM_CAP_TPM_PROPERTIES): exactly one property, the one
 * asked for (moreData may be set: the TPM has properties after it), its
 * value into *value. */
int tpm2_parse_get_property(const uint8_t *rsp, size_t len, uint32_t property,
			    uint32_t *value, char *err, size_t err_len);
/* NV_ReadPublic: the public area of nv_index and no other, its dataSize
 * and attributes (TPM2_NVA_*: the caller decides what it needs); nameAlg a
 * hash this file knows (SHA-1, -256, -384, -512), authPolicy empty or of
 * its size, nvName nameAlg || a digest of its size. */
int tpm2_parse_nv_read_public(const uint8_t *rsp, size_t len,
			      uint32_t nv_index, uint16_t *data_size,
			      uint32_t *attributes, char *err, size_t err_len);
/* NV_Read: exactly want (1..TPM2_NV_READ_MAX, the size asked) bytes into
 * out; the password session's auth area. */
int tpm2_parse_nv_read(const uint8_t *rsp, size_t len, uint8_t *out,
		       size_t want, char *err, size_t err_len);

/* The EK as CreatePrimary returned it. */
struct tpm2_ek {
	uint32_t handle;                        /* transient: flush it */
	uint8_t modulus[TPM2_RSA2048_LEN];      /* big-endian, exponent 65537 */
	/* The TPMT_PUBLIC as returned: a CA's MakeCredential encrypts to it,
	 * its SHA-256 gives the Name (tpm2_ek_name); compare it with the EK
	 * certificate's key. */
	uint8_t public_area[TPM2_EK_PUBLIC_LEN];
};
/* CreatePrimary (tpm2_build_create_ek): a transient handle, the public area
 * of exactly template L-1 (every field, the authPolicy bytes, keyBits,
 * exponent) with a 256-byte modulus whose top bit is set; the creation
 * fields skipped by their sizes, as for the AK. */
int tpm2_parse_create_ek(const uint8_t *rsp, size_t len, struct tpm2_ek *ek,
			 char *err, size_t err_len);

/* A policy session as StartAuthSession returned it. */
struct tpm2_policy_session {
	uint32_t handle;                        /* 0x03xxxxxx */
	uint8_t nonce_tpm[TPM2_NONCE_LEN];
};
/* StartAuthSession (tpm2_build_start_policy_session): a policy session's
 * handle and a nonceTPM of TPM2_NONCE_LEN bytes (a TPM makes it the size
 * of nonceCaller: libtpms does, whatever authHash). */
int tpm2_parse_start_policy_session(const uint8_t *rsp, size_t len,
				    struct tpm2_policy_session *s, char *err,
				    size_t err_len);
/* PolicySecret: timeout (0..8 bytes) and policyTicket (tag
 * TPM_ST_AUTH_SECRET, a digest of 0..TPM2_DIGEST_MAX bytes) skipped by
 * their sizes; the password session's auth area. */
int tpm2_parse_policy_secret(const uint8_t *rsp, size_t len, char *err,
			     size_t err_len);
/* ActivateCredential: certInfo (1..TPM2_DIGEST_MAX bytes: the CA's
 * secret) into cert_info, its size into *cert_info_len; exactly two auth
 * areas, the password session's then the policy session's (a nonceTPM of
 * TPM2_NONCE_LEN bytes, no attributes: the session is closed, an empty
 * hmac: the policy asks for no authValue). */
int tpm2_parse_activate_credential(const uint8_t *rsp, size_t len,
				   uint8_t cert_info[TPM2_DIGEST_MAX],
				   size_t *cert_info_len, char *err,
				   size_t err_len);

#endif
