/*
 * PolicyAuthorize by the CA's key (tcb/tpm2_authorize.h): the policy
 * digests, the CA key's public area and Name, and the commands that load
 * the key, verify the CA's signature into a ticket, and spend the ticket
 * in a policy session.
 *
 * The key's public area is marshalled in one place (put_signer_public)
 * for its Name, for LoadExternal and for the check of LoadExternal's
 * Name, so that what the TPM loads and what the policy names cannot drift
 * apart. Responses are read through tcb/tpm2_body.h's cursor.
 */
#include "tcb/byteorder.h"
#include "tcb/tpm2_body.h"
#include "tcb/tpm2_authorize.h"
#include "tcb/errmsg.h"
#include "crypto/crypto.h"

#include <string.h>

#define TPM2_HT_TRANSIENT      0x80
#define TPM2_HT_POLICY_SESSION 0x03
#define HASH_LEN               TPM2_SHA384_LEN
#define COORD_LEN              TPM2_P384_LEN
#define NAME_LEN               TPM2_SIGNER_NAME_LEN

/* errmsg() returns -1; the compiler and the analyzer must see it. */
#define refuse(...) (errmsg(__VA_ARGS__), -1)

/* inPrivate (empty), inPublic, hierarchy */
#define LOAD_LEN    (TPM2_HEADER_LEN + 2 + 2 + TPM2_SIGNER_PUBLIC_LEN + 4)
/* keyHandle, digest, TPMT_SIGNATURE (sigAlg, hash, r, s) */
#define VERIFY_LEN  (TPM2_HEADER_LEN + 4 + 2 + HASH_LEN + 2 + 2 + 2 * (2 + COORD_LEN))
/* policySession */
#define GET_DIGEST_LEN (TPM2_HEADER_LEN + 4)

static uint8_t *put_header(uint8_t *buf, size_t len, uint32_t cc)
{
	return store_be32(store_be32(store_be16(buf, TPM2_ST_NO_SESSIONS), (uint32_t)len),
			  cc);
}

/* A TPM2B of n bytes at data. */
static uint8_t *put_tpm2b(uint8_t *p, const uint8_t *data, size_t n)
{
	p = store_be16(p, (uint16_t)n);
	if (n)
		memcpy(p, data, n);
	return p + n;
}

static bool is_point(const uint8_t point[TPM2_P384_POINT_LEN])
{
	return point[0] == 0x04;
}

static bool is_sha384_name(const uint8_t *name, size_t len)
{
	return len == NAME_LEN && load_be16(name) == TPM2_ALG_SHA384;
}

static bool is_policy_session(uint32_t handle)
{
	return handle >> 24 == TPM2_HT_POLICY_SESSION;
}

static uint8_t *put_signer_public(uint8_t *p, const uint8_t point[TPM2_P384_POINT_LEN])
{
	p = store_be16(p, TPM2_ALG_ECC);
	p = store_be16(p, TPM2_ALG_SHA384);             /* nameAlg */
	p = store_be32(p, TPM2_SIGNER_ATTRIBUTES);
	p = store_be16(p, 0);                           /* authPolicy: none */
	p = store_be16(p, TPM2_ALG_NULL);               /* symmetric: a signing key has none */
	p = store_be16(p, TPM2_ALG_ECDSA);              /* scheme ... */
	p = store_be16(p, TPM2_ALG_SHA384);             /* ... and its hash */
	p = store_be16(p, TPM2_ECC_NIST_P384);
	p = store_be16(p, TPM2_ALG_NULL);               /* kdf */
	p = put_tpm2b(p, point + 1, COORD_LEN);         /* x at full length: */
	return put_tpm2b(p, point + 1 + COORD_LEN, COORD_LEN); /* the Name hashes these bytes */
}

/* --- Response codes ------------------------------------------------------------ */

/* TPM_RC_P (bit 6) and the parameter's number (bits 8..11). */
static uint32_t on_parameter(uint32_t code, uint32_t n)
{
	return code | 0x040 | n << 8;
}

bool tpm2_rc_is_not_approved(uint32_t rc)
{
	return rc == on_parameter(TPM2_RC_VALUE, 1);
}

bool tpm2_rc_is_ticket_refused(uint32_t rc)
{
	return rc == on_parameter(TPM2_RC_VALUE, 4);
}

bool tpm2_rc_is_bad_signature(uint32_t rc)
{
	return rc == on_parameter(TPM2_RC_SIGNATURE, 2);
}

/* --- Policy digests, the key's Name ------------------------------------------------ */

int tpm2_policy_authorize_digest(const uint8_t *key_name, size_t name_len,
				 const uint8_t *ref, size_t ref_len,
				 uint8_t out[TPM2_SHA384_LEN])
{
	static const uint8_t zeros[HASH_LEN];
	uint8_t cc[4], d[HASH_LEN];
	struct crypto_sha384_ctx c;

	if (!is_sha384_name(key_name, name_len) || ref_len > TPM2_POLICY_REF_MAX)
		return -1;
	/* PolicyUpdate (Part 3): the digest is reset first, so the old one is
	 * zeros whatever came before; then H(d || policyRef). */
	store_be32(cc, TPM2_CC_POLICY_AUTHORIZE);
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, zeros, sizeof(zeros));
	crypto_sha384_update(&c, cc, sizeof(cc));
	crypto_sha384_update(&c, key_name, name_len);
	crypto_sha384_final(&c, d);
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, d, sizeof(d));
	crypto_sha384_update(&c, ref, ref_len);
	crypto_sha384_final(&c, out);
	return 0;
}

int tpm2_policy_authorize_ahash(const uint8_t approved[TPM2_SHA384_LEN],
				const uint8_t *ref, size_t ref_len,
				uint8_t out[TPM2_SHA384_LEN])
{
	struct crypto_sha384_ctx c;

	if (ref_len > TPM2_POLICY_REF_MAX)
		return -1;
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, approved, HASH_LEN);
	crypto_sha384_update(&c, ref, ref_len);
	crypto_sha384_final(&c, out);
	return 0;
}

int tpm2_signer_public(const uint8_t point[TPM2_P384_POINT_LEN],
		       uint8_t area[TPM2_SIGNER_PUBLIC_LEN])
{
	if (!is_point(point))
		return -1;
	put_signer_public(area, point);
	return 0;
}

int tpm2_signer_name(const uint8_t point[TPM2_P384_POINT_LEN],
		     uint8_t name[TPM2_SIGNER_NAME_LEN])
{
	uint8_t area[TPM2_SIGNER_PUBLIC_LEN];

	if (tpm2_signer_public(point, area) != 0)
		return -1;
	store_be16(name, TPM2_ALG_SHA384);
	crypto_sha384(area, sizeof(area), name + 2);
	return 0;
}

/* --- LoadExternal ------------------------------------------------------------------- */

size_t tpm2_build_load_external_signer(uint8_t *buf, size_t cap,
				       const uint8_t point[TPM2_P384_POINT_LEN])
{
	uint8_t *p;

	if (cap < LOAD_LEN || !is_point(point))
		return 0;
	p = put_header(buf, LOAD_LEN, TPM2_CC_LOAD_EXTERNAL);
	p = store_be16(p, 0);                          /* inPrivate: public key only */
	p = store_be16(p, TPM2_SIGNER_PUBLIC_LEN);
	p = put_signer_public(p, point);
	store_be32(p, TPM2_RH_OWNER);                  /* not NULL: its tickets count */
	return LOAD_LEN;
}

int tpm2_parse_load_external_signer(const uint8_t *rsp, size_t len,
				    const uint8_t point[TPM2_P384_POINT_LEN],
				    struct tpm2_signer *signer, uint32_t *rc,
				    char *err, size_t err_len)
{
	uint8_t name[NAME_LEN];
	struct tpm2_body r;
	const uint8_t *got;
	uint32_t handle, n;

	if (tpm2_signer_name(point, name) != 0) {
		tpm2_set_rc(rc, TPM2_RC_MALFORMED);
		return refuse(err, err_len, "LoadExternal: the key is not an uncompressed point");
	}
	if (tpm2_open_response(&r, rsp, len, TPM2_ST_NO_SESSIONS, "LoadExternal", rc, err,
			       err_len) != 0 ||
	    tpm2_take_be(&r, 4, "objectHandle", &handle) != 0)
		return -1;
	if (handle >> 24 != TPM2_HT_TRANSIENT)
		return refuse(err, err_len,
			      "LoadExternal response: handle 0x%08x is not a transient object's",
			      handle);
	if (tpm2_take_tpm2b(&r, "name", NAME_LEN, NAME_LEN, &got, &n) != 0 ||
	    tpm2_at_end(&r, "the response") != 0)
		return -1;
	if (memcmp(got, name, NAME_LEN) != 0)
		return refuse(err, err_len,
			      "LoadExternal response: name is not the Name of the key sent");
	signer->handle = handle;
	memcpy(signer->name, name, NAME_LEN);
	tpm2_clear_err(err, err_len);
	return 0;
}

/* --- VerifySignature ---------------------------------------------------------------- */

size_t tpm2_build_verify_signature(uint8_t *buf, size_t cap, uint32_t key_handle,
				   const uint8_t digest[TPM2_SHA384_LEN],
				   const uint8_t sig[TPM2_ECDSA_P384_SIG_LEN])
{
	uint8_t *p;

	if (cap < VERIFY_LEN || key_handle >> 24 != TPM2_HT_TRANSIENT)
		return 0;
	p = put_header(buf, VERIFY_LEN, TPM2_CC_VERIFY_SIGNATURE);
	p = store_be32(p, key_handle);
	p = put_tpm2b(p, digest, HASH_LEN);
	p = store_be16(p, TPM2_ALG_ECDSA);
	p = store_be16(p, TPM2_ALG_SHA384);
	p = put_tpm2b(p, sig, COORD_LEN);
	put_tpm2b(p, sig + COORD_LEN, COORD_LEN);
	return VERIFY_LEN;
}

int tpm2_parse_verify_signature(const uint8_t *rsp, size_t len,
				struct tpm2_ticket *t, uint32_t *rc, char *err,
				size_t err_len)
{
	struct tpm2_body r;
	const uint8_t *digest;
	uint32_t n;

	/* The digest is the TPM's HMAC with a hash of its choosing: its size
	 * is any up to the largest; an empty one is the NULL ticket. */
	if (tpm2_open_response(&r, rsp, len, TPM2_ST_NO_SESSIONS, "VerifySignature", rc, err,
			       err_len) != 0 ||
	    tpm2_expect(&r, "validation.tag", 2, TPM2_ST_VERIFIED) != 0 ||
	    tpm2_expect(&r, "validation.hierarchy", 4, TPM2_RH_OWNER) != 0 ||
	    tpm2_take_tpm2b(&r, "validation.digest", 1, TPM2_DIGEST_MAX, &digest, &n) != 0 ||
	    tpm2_at_end(&r, "the response") != 0)
		return -1;
	t->hierarchy = TPM2_RH_OWNER;
	memcpy(t->digest, digest, n);
	t->digest_len = n;
	tpm2_clear_err(err, err_len);
	return 0;
}

/* --- PolicyAuthorize, PolicyGetDigest -------------------------------------------------- */

static size_t policy_authorize_len(size_t ref_len, const struct tpm2_ticket *t)
{
	/* policySession, approvedPolicy, policyRef, keySign, checkTicket */
	return TPM2_HEADER_LEN + 4 + 2 + HASH_LEN + 2 + ref_len + 2 + NAME_LEN +
	       2 + 4 + 2 + t->digest_len;
}

static bool ticket_ok(const struct tpm2_ticket *t)
{
	return t->digest_len >= 1 && t->digest_len <= TPM2_DIGEST_MAX;
}

size_t tpm2_build_policy_authorize(uint8_t *buf, size_t cap, uint32_t policy_session,
				   const uint8_t approved[TPM2_SHA384_LEN],
				   const uint8_t *ref, size_t ref_len,
				   const uint8_t name[TPM2_SIGNER_NAME_LEN],
				   const struct tpm2_ticket *t)
{
	size_t len;
	uint8_t *p;

	if (!is_policy_session(policy_session) || ref_len > TPM2_POLICY_REF_MAX ||
	    !is_sha384_name(name, NAME_LEN) || !ticket_ok(t))
		return 0;
	len = policy_authorize_len(ref_len, t);
	if (cap < len)
		return 0;
	p = put_header(buf, len, TPM2_CC_POLICY_AUTHORIZE);
	p = store_be32(p, policy_session);
	p = put_tpm2b(p, approved, HASH_LEN);
	p = put_tpm2b(p, ref, ref_len);
	p = put_tpm2b(p, name, NAME_LEN);
	p = store_be16(p, TPM2_ST_VERIFIED);
	p = store_be32(p, t->hierarchy);
	put_tpm2b(p, t->digest, t->digest_len);
	return len;
}

int tpm2_parse_policy_authorize(const uint8_t *rsp, size_t len, uint32_t *rc,
				char *err, size_t err_len)
{
	struct tpm2_body r;

	if (tpm2_open_response(&r, rsp, len, TPM2_ST_NO_SESSIONS, "PolicyAuthorize", rc, err,
			       err_len) != 0 ||
	    tpm2_at_end(&r, "the response") != 0)
		return -1;
	tpm2_clear_err(err, err_len);
	return 0;
}

size_t tpm2_build_policy_get_digest(uint8_t *buf, size_t cap, uint32_t policy_session)
{
	if (cap < GET_DIGEST_LEN || !is_policy_session(policy_session))
		return 0;
	store_be32(put_header(buf, GET_DIGEST_LEN, TPM2_CC_POLICY_GET_DIGEST),
		   policy_session);
	return GET_DIGEST_LEN;
}

int tpm2_parse_policy_get_digest(const uint8_t *rsp, size_t len,
				 uint8_t out[TPM2_SHA384_LEN], uint32_t *rc,
				 char *err, size_t err_len)
{
	struct tpm2_body r;
	const uint8_t *digest;
	uint32_t n;

	if (tpm2_open_response(&r, rsp, len, TPM2_ST_NO_SESSIONS, "PolicyGetDigest", rc, err,
			       err_len) != 0 ||
	    tpm2_take_tpm2b(&r, "policyDigest", HASH_LEN, HASH_LEN, &digest, &n) != 0 ||
	    tpm2_at_end(&r, "the response") != 0)
		return -1;
	memcpy(out, digest, HASH_LEN);
	tpm2_clear_err(err, err_len);
	return 0;
}
