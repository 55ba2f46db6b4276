/*
 * Salted sessions with parameter encryption (TPM 2.0 Library Part 1,
 * "Session-based encryption", "HMAC computation", "KDFa", "KDFe", "Salted
 * session"; Part 3 StartAuthSession), so that a secret crossing the TPM bus
 * travels encrypted and a command and its response are authenticated
 * against an interposer on the bus.
 *
 * A session is an HMAC session (an entity's authValue, empty for every
 * entity here, authorises) or a policy session (the entity's authPolicy
 * does: tcb/tpm2_nv.h runs PolicyPCR in one); both are salted, and both
 * compute their HMACs with the key sessionKey || the empty authValue
 * (a policy session without PolicyAuthValue adds no authValue, and the
 * entities used here have none), so everything below serves either.
 *
 * One fixed suite, nothing negotiated: the salt key is an ECC P-384
 * restricted decryption key (nameAlg SHA-384, AES-128-CFB) created as a
 * primary under the owner hierarchy; the session's authHash is SHA-384
 * (KDFa with HMAC-SHA-384, 48-byte nonces and session key); parameter
 * encryption is AES-128-CFB. SHA-384 and P-384 because the crypto layer
 * has them already (crypto/crypto.h): only AES-CFB was added.
 *
 * Every value that must be random (nonceCaller, the ephemeral ECDH key)
 * is the caller's argument, drawn from crypto_random() in the hypervisor
 * and fixed in the tests, so that an exchange is reproducible byte for
 * byte. Every parser is as strict as those of tcb/tpm2_cmd.h and checks
 * the response's HMAC before it hands out anything the response says.
 *
 * What the salt buys: the salt is encrypted to the key CreatePrimary
 * returned. An interposer that answers CreatePrimary with its own key
 * learns the salt, and with it the session key; this protects against one
 * that only reads or alters later traffic, until the salt key is pinned
 * (it is the same on every boot of one TPM, like the AK) or certified.
 *
 * Portable: builds freestanding into the hypervisor and hosted into the
 * tests and the fuzzer; uses crypto/crypto.h.
 */
#ifndef CUSTOS_TCB_TPM2_SESSION_H
#define CUSTOS_TCB_TPM2_SESSION_H

#include "tcb/tpm2_cmd.h"

#define TPM2_SESSION_HASH_LEN  48 /* SHA-384: nonces, session key, HMACs */
#define TPM2_SESSION_NAME_LEN  (2 + TPM2_SESSION_HASH_LEN) /* nameAlg || digest */

#define TPM2_CC_START_AUTH_SESSION 0x00000176
#define TPM2_RH_OWNER              0x40000001
#define TPM2_RH_NULL               0x40000007

/* TPM_SE: the kinds of session (TPM2_SE_POLICY is in tcb/tpm2_cmd.h). */
#define TPM2_SE_HMAC 0x00
/* A command authorised by a session names at most this many handles
 * (NV_Write, NV_Read: the index twice, as authHandle and nvIndex). */
#define TPM2_SESSION_HANDLES_MAX 2

/* TPMA_SESSION */
#define TPM2_SA_CONTINUE_SESSION 0x01
#define TPM2_SA_DECRYPT          0x20 /* the command's first TPM2B parameter */
#define TPM2_SA_ENCRYPT          0x40 /* the response's first TPM2B parameter */

/* The salt key as CreatePrimary returned it. */
struct tpm2_salt_key {
	uint32_t handle;                       /* transient: flush it after use */
	uint8_t pub[TPM2_P384_POINT_LEN];      /* 04 || X || Y, each 48 bytes */
	uint8_t name[TPM2_SESSION_NAME_LEN];   /* SHA-384 name of its public area */
};

/*
 * A session. Secret: key (and, between the StartAuthSession builder and
 * its parser, the salt held in its place); wipe with tpm2_session_forget.
 * The nonces roll with every exchange: a builder sets nonce_caller, the
 * parser of the response takes the TPM's new nonce_tpm once its HMAC
 * verifies. One command in flight at a time (cc, attrs).
 */
struct tpm2_session {
	uint32_t handle;                              /* 0x02xxxxxx HMAC, 0x03xxxxxx policy */
	uint8_t type;                                 /* TPM2_SE_HMAC or TPM2_SE_POLICY */
	uint8_t key[TPM2_SESSION_HASH_LEN];           /* sessionKey */
	uint8_t nonce_tpm[TPM2_SESSION_HASH_LEN];
	uint8_t nonce_caller[TPM2_SESSION_HASH_LEN];  /* of the command in flight */
	uint32_t cc;                                  /* command in flight, 0: none */
	uint8_t attrs;                                /* its session attributes */
};

/* KDFa (Part 1, 11.4.10.2) with HMAC-SHA-384, for out_len bytes (1..96);
 * label without its NUL (the KDF adds it). Exposed for the known-answer
 * tests. 0 or -1 (a crypto failure: out zeroed). */
int tpm2_kdfa_sha384(const uint8_t *key, size_t key_len, const char *label,
		     const uint8_t *u, size_t u_len, const uint8_t *v,
		     size_t v_len, uint8_t *out, size_t out_len);
/* KDFe (Part 1, 11.4.10.3) with SHA-384, for one digest (48 bytes): Z, U
 * and V are P-384 x coordinates (48 bytes each). */
void tpm2_kdfe_sha384(const uint8_t z[TPM2_P384_LEN], const char *label,
		      const uint8_t u[TPM2_P384_LEN], const uint8_t v[TPM2_P384_LEN],
		      uint8_t out[TPM2_SESSION_HASH_LEN]);

/* TPM2_CreatePrimary of the salt key under TPM_RH_OWNER (empty password),
 * no user auth, no policy, an empty unique field: the same key on every
 * boot while the owner seed stays. */
size_t tpm2_build_create_salt_key(uint8_t *buf, size_t cap);
/* Its response: a transient handle, a public area of exactly the template
 * sent with a P-384 point (x at its full 48 bytes, as KDFe takes it; y
 * 1..48), and the name the TPM returned equal to the one computed from
 * that area. */
int tpm2_parse_create_salt_key(const uint8_t *rsp, size_t len,
			       struct tpm2_salt_key *key, char *err, size_t err_len);

/*
 * TPM2_StartAuthSession: a session of se_type (TPM2_SE_HMAC or
 * TPM2_SE_POLICY) salted to key, unbound, AES-128-CFB, SHA-384. eph_priv
 * is the ephemeral ECDH scalar (1..n-1, fresh for every session);
 * nonce_caller the session's first nonce. Starts s (the salt is kept in s
 * until the response). 0 when cap is too small, se_type is neither, or the
 * crypto fails (the key's point is not on the curve, the scalar out of
 * range).
 */
size_t tpm2_build_start_session(uint8_t *buf, size_t cap, struct tpm2_session *s,
				const struct tpm2_salt_key *key,
				const uint8_t eph_priv[TPM2_P384_LEN],
				const uint8_t nonce_caller[TPM2_SESSION_HASH_LEN],
				uint8_t se_type);
/* Its response: the handle of a session of the type asked for (0x02xxxxxx
 * for HMAC, 0x03xxxxxx for policy, nothing else) and a 48-byte nonceTPM;
 * derives the session key. On failure s is wiped. */
int tpm2_parse_start_session(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			     char *err, size_t err_len);

/* A command's handle and its Name, which the cpHash covers: so the TPM
 * refuses the command's HMAC when the entity it holds under that handle
 * has another Name (another public area) than the caller believes. */
struct tpm2_named_handle {
	uint32_t handle;
	/* nameAlg || digest (an NV index's, an object's: 1..TPM2_NAME_MAX
	 * bytes), or NULL for an entity whose Name is its handle (a PCR, a
	 * hierarchy). */
	const uint8_t *name;
	size_t name_len;
};
#define TPM2_NAME_MAX (2 + TPM2_DIGEST_MAX)

/*
 * Any command with s as its one session, which authorises the first
 * handle: handles (0..TPM2_SESSION_HANDLES_MAX) with their Names, an
 * empty authValue, and params already marshalled. With TPM2_SA_DECRYPT in
 * attrs, the first parameter must be a TPM2B, and its contents are
 * encrypted before the cpHash. 0 when cap is too small, a Name is out of
 * its range, or the crypto fails.
 */
size_t tpm2_session_build_named(uint8_t *buf, size_t cap, struct tpm2_session *s,
				uint32_t cc, const struct tpm2_named_handle *handles,
				size_t handle_count, const uint8_t *params,
				size_t params_len, uint8_t attrs,
				const uint8_t nonce[TPM2_SESSION_HASH_LEN]);
/* The same with handles (0..TPM2_SESSION_HANDLES_MAX) whose Names are the
 * handles themselves (PCRs, hierarchies: not objects or NV indices). */
size_t tpm2_session_build(uint8_t *buf, size_t cap, struct tpm2_session *s,
			  uint32_t cc, const uint32_t *handles, size_t handle_count,
			  const uint8_t *params, size_t params_len, uint8_t attrs,
			  const uint8_t nonce[TPM2_SESSION_HASH_LEN]);
/*
 * The response to the command in flight on s: header, handle_count (0..1)
 * handles into *handle, the parameter area into *params (pointing into
 * rsp, still encrypted if it was), and the one auth area, whose attributes
 * must echo the command's and whose HMAC must verify before anything else
 * is believed; then nonce_tpm rolls. On a failure the session is unusable
 * (its nonces may be out of step, a policy session's digest is unknown):
 * flush it.
 */
int tpm2_session_parse(const uint8_t *rsp, size_t len, struct tpm2_session *s,
		       size_t handle_count, uint32_t *handle,
		       const uint8_t **params, size_t *params_len,
		       char *err, size_t err_len);
/* Decrypt, in place, the contents of a response's first TPM2B parameter
 * (after tpm2_session_parse accepted it, with TPM2_SA_ENCRYPT set). */
int tpm2_session_decrypt_response(const struct tpm2_session *s, uint8_t *buf,
				  size_t len);

/* TPM2_GetRandom for n bytes (1..TPM2_SESSION_HASH_LEN) with the answer
 * encrypted (continueSession | encrypt). */
size_t tpm2_build_get_random_enc(uint8_t *buf, size_t cap, struct tpm2_session *s,
				 uint16_t n, const uint8_t nonce[TPM2_SESSION_HASH_LEN]);
/* Its response: the HMAC verified, then 1..want bytes decrypted into out. */
int tpm2_parse_get_random_enc(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			      uint8_t *out, size_t want, size_t *got,
			      char *err, size_t err_len);
/* TPM2_PCR_Extend of one SHA-384 digest into pcr (0..23), authorised by
 * the session (continueSession): the TPM checks the command's HMAC. */
size_t tpm2_build_pcr_extend_hmac(uint8_t *buf, size_t cap, struct tpm2_session *s,
				  uint32_t pcr, const uint8_t digest[TPM2_SHA384_LEN],
				  const uint8_t nonce[TPM2_SESSION_HASH_LEN]);
int tpm2_parse_pcr_extend_hmac(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			       char *err, size_t err_len);

/* Wipe s (the TPM's copy goes with tpm2_build_flush_context(s->handle)). */
void tpm2_session_forget(struct tpm2_session *s);

#endif
