/*
 * Salted HMAC and policy sessions with parameter encryption
 * (tcb/tpm2_session.h).
 *
 * A response is read through a cursor that never steps past the bytes
 * received (as in tcb/tpm2_cmd.c); nothing a response says is handed out
 * before its HMAC verifies, and secrets on the stack are wiped on every
 * path.
 */
#include "tcb/byteorder.h"
#include "tcb/tpm2_body.h"
#include "tcb/tpm2_session.h"
#include "tcb/tpm2_nv.h" /* its command codes, for messages */
#include "tcb/tpm2_tcb_key.h" /* ... and these */
#include "tcb/errmsg.h"
#include "crypto/crypto.h"

#include <stdio.h>
#include <string.h>

#define TPM2_HT_TRANSIENT    0x80 /* top byte of a transient object's handle */
#define TPM2_HT_HMAC_SESSION 0x02 /* ... of an HMAC session's */
#define TPM2_HT_POLICY_SESSION 0x03 /* ... of a policy session's */
#define AES_KEY_LEN          16   /* AES-128 */
#define CFB_LEN              (AES_KEY_LEN + CRYPTO_AES_BLOCK_LEN) /* key || IV */
#define HASH_LEN             TPM2_SESSION_HASH_LEN

/* errmsg() returns -1, but the compiler must see it to know what a failed
 * step left uninitialised. */
#define refuse(...) (errmsg(__VA_ARGS__), -1)

/* fixedTPM, fixedParent, sensitiveDataOrigin, userWithAuth, noDA,
 * restricted, decrypt: a storage key, as an SRK is. */
#define SALT_KEY_ATTRIBUTES  0x00030472

#define PW_AUTH_LEN       9   /* TPM_RS_PW, empty nonce, attributes, empty hmac */
#define SESSION_AUTH_LEN  (4 + 2 + HASH_LEN + 1 + 2 + HASH_LEN)
#define SALT_TEMPLATE_LEN 26  /* TPMT_PUBLIC with an empty unique point */
/* handle, auth area, empty inSensitive, inPublic, empty outsideInfo, no
 * creationPCR */
#define CREATE_SALT_LEN   (TPM2_HEADER_LEN + 4 + 4 + PW_AUTH_LEN + 6 + \
			   2 + SALT_TEMPLATE_LEN + 2 + 4)
/* tpmKey, bind, nonceCaller, encryptedSalt (a TPMS_ECC_POINT), sessionType,
 * symmetric, authHash */
#define SALT_POINT_LEN    (2 + TPM2_P384_LEN + 2 + TPM2_P384_LEN)
#define START_LEN         (TPM2_HEADER_LEN + 8 + 2 + HASH_LEN + \
			   2 + SALT_POINT_LEN + 1 + 6 + 2)
#define EXTEND_PARAMS_LEN (4 + 2 + TPM2_SHA384_LEN)

/* The salt key's TPMT_PUBLIC up to its unique point: written by the
 * builder and required back by the parser, from the one table. */
static const struct salt_field {
	uint8_t size; /* 2 or 4 bytes */
	const char *name;
	uint32_t value;
} salt_template[] = {
	{ 2, "type", TPM2_ALG_ECC },
	{ 2, "nameAlg", TPM2_ALG_SHA384 },
	{ 4, "objectAttributes", SALT_KEY_ATTRIBUTES },
	{ 2, "authPolicy.size", 0 },
	{ 2, "symmetric.algorithm", TPM2_ALG_AES },
	{ 2, "symmetric.keyBits", 8 * AES_KEY_LEN },
	{ 2, "symmetric.mode", TPM2_ALG_CFB },
	{ 2, "scheme", TPM2_ALG_NULL },     /* a storage key has none */
	{ 2, "curveID", TPM2_ECC_NIST_P384 },
	{ 2, "kdf", TPM2_ALG_NULL },
};

#define SALT_FIELDS (sizeof(salt_template) / sizeof(salt_template[0]))

static uint8_t *put_bytes(uint8_t *p, const void *data, size_t len)
{
	if (len) /* an empty context may be NULL */
		memcpy(p, data, len);
	return p + len;
}

static uint8_t *put_tpm2b(uint8_t *p, const void *data, uint16_t len)
{
	return put_bytes(store_be16(p, len), data, len);
}

static uint8_t *put_header(uint8_t *buf, uint16_t tag, size_t len, uint32_t cc)
{
	return store_be32(store_be32(store_be16(buf, tag), (uint32_t)len), cc);
}

/* Compare without an early exit: how much of an HMAC matched stays secret. */
static bool same_secret(const uint8_t *a, const uint8_t *b, size_t len)
{
	uint8_t diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= a[i] ^ b[i];
	return diff == 0;
}

/* --- KDFs ---------------------------------------------------------------- */

int tpm2_kdfa_sha384(const uint8_t *key, size_t key_len, const char *label,
		     const uint8_t *u, size_t u_len, const uint8_t *v,
		     size_t v_len, uint8_t *out, size_t out_len)
{
	uint8_t in[4 + 16 + 1 + 2 * HASH_LEN + 4], block[HASH_LEN];
	size_t label_len = strlen(label);
	uint8_t *p;
	int rc = 0;

	if (out_len == 0 || out_len > 2 * HASH_LEN || label_len > 15 ||
	    u_len > HASH_LEN || v_len > HASH_LEN)
		return -1;
	/* [i]32 || label || 00 || contextU || contextV || [bits]32 */
	p = put_bytes(in + 4, label, label_len + 1);
	p = put_bytes(p, u, u_len);
	p = put_bytes(p, v, v_len);
	p = store_be32(p, (uint32_t)(8 * out_len));
	for (uint32_t i = 1, done = 0; done < out_len && rc == 0; i++) {
		size_t n = out_len - done < HASH_LEN ? out_len - done : HASH_LEN;

		store_be32(in, i);
		rc = crypto_hmac_sha384(key, key_len, in, (size_t)(p - in), block);
		memcpy(out + done, block, n);
		done += n;
	}
	crypto_wipe(block, sizeof(block));
	crypto_wipe(in, sizeof(in));
	if (rc != 0) {
		crypto_wipe(out, out_len);
		return -1;
	}
	return 0;
}

void tpm2_kdfe_sha384(const uint8_t z[TPM2_P384_LEN], const char *label,
		      const uint8_t u[TPM2_P384_LEN], const uint8_t v[TPM2_P384_LEN],
		      uint8_t out[TPM2_SESSION_HASH_LEN])
{
	static const uint8_t counter[4] = { 0, 0, 0, 1 };
	struct crypto_sha384_ctx c;

	/* One SHA-384 block of output is all a SHA-384 salt needs:
	 * H([1]32 || Z || label || 00 || partyUInfo || partyVInfo). */
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, counter, sizeof(counter));
	crypto_sha384_update(&c, z, TPM2_P384_LEN);
	crypto_sha384_update(&c, label, strlen(label) + 1);
	crypto_sha384_update(&c, u, TPM2_P384_LEN);
	crypto_sha384_update(&c, v, TPM2_P384_LEN);
	crypto_sha384_final(&c, out);
	crypto_wipe(&c, sizeof(c));
}

/* --- Reading responses ----------------------------------------------------- */

/* The header of a response to cmd, tag as the command's; the body in r. */
static int open_rd(struct tpm2_body *r, const uint8_t *rsp, size_t len, uint16_t tag,
		   const char *cmd, char *err, size_t err_len)
{
	uint32_t rc;

	if (tpm2_response_header(rsp, len, tag, &rc, err, err_len) != 0)
		return -1;
	if (rc != TPM2_RC_SUCCESS)
		return refuse(err, err_len, "%s failed: %s", cmd, tpm2_rc_name(rc));
	*r = (struct tpm2_body){ rsp + TPM2_HEADER_LEN, len - TPM2_HEADER_LEN, cmd,
			  err, err_len };
	return 0;
}

/* --- The salt key -------------------------------------------------------------- */

size_t tpm2_build_create_salt_key(uint8_t *buf, size_t cap)
{
	uint8_t *p;

	if (cap < CREATE_SALT_LEN)
		return 0;
	p = put_header(buf, TPM2_ST_SESSIONS, CREATE_SALT_LEN,
		       TPM2_CC_CREATE_PRIMARY);
	p = store_be32(p, TPM2_RH_OWNER);
	/* The owner hierarchy with its empty password. */
	p = store_be32(p, PW_AUTH_LEN);
	p = store_be32(p, TPM2_RS_PW);
	p = store_be16(p, 0);
	*p++ = 0;
	p = store_be16(p, 0);
	/* inSensitive: no userAuth, no data (the TPM makes the key). */
	p = store_be16(p, 4);
	p = store_be32(p, 0);
	p = store_be16(p, SALT_TEMPLATE_LEN);
	for (size_t i = 0; i < SALT_FIELDS; i++)
		p = salt_template[i].size == 4 ?
		    store_be32(p, salt_template[i].value) :
		    store_be16(p, (uint16_t)salt_template[i].value);
	p = store_be32(p, 0); /* unique: empty x and y */
	p = store_be16(p, 0); /* outsideInfo */
	store_be32(p, 0);     /* creationPCR: none */
	return CREATE_SALT_LEN;
}

/* outPublic: exactly the template, a P-384 point; the area's bytes in *area. */
static int take_salt_public(struct tpm2_body *r, struct tpm2_body *area, uint8_t pub[TPM2_P384_POINT_LEN])
{
	const uint8_t *x, *y;
	uint32_t size, x_len, y_len;
	struct tpm2_body pa;

	if (tpm2_take_be(r, 2, "outPublic.size", &size) != 0 ||
	    tpm2_take_sub(r, size, "outPublic", area) != 0)
		return -1;
	pa = *area;

	for (size_t i = 0; i < SALT_FIELDS; i++)
		if (tpm2_expect(&pa, salt_template[i].name, salt_template[i].size,
			   salt_template[i].value) != 0)
			return -1;
	if (tpm2_take_tpm2b(&pa, "unique.x", TPM2_P384_LEN, TPM2_P384_LEN, &x, &x_len) != 0 ||
	    tpm2_take_tpm2b(&pa, "unique.y", 1, TPM2_P384_LEN, &y, &y_len) != 0 ||
	    tpm2_at_end(&pa, "outPublic") != 0)
		return -1;
	/* x at full length: KDFe takes it as the TPM holds it, and a TPM pads
	 * its coordinates (libtpms does); one that did not would be refused
	 * here rather than derive a salt the TPM does not. */
	pub[0] = 0x04;
	memcpy(pub + 1, x, TPM2_P384_LEN);
	memset(pub + 1 + TPM2_P384_LEN, 0, TPM2_P384_LEN - y_len);
	memcpy(pub + 1 + 2 * TPM2_P384_LEN - y_len, y, y_len);
	return 0;
}

/* creationData, creationHash, creationTicket: stepped over; name: must be
 * the one computed from the public area. */
static int take_creation(struct tpm2_body *r, const uint8_t name[TPM2_SESSION_NAME_LEN])
{
	const uint8_t *at;
	uint32_t n, tag, hierarchy;

	if (tpm2_take_tpm2b(r, "creationData", 0, TPM2_BUFFER_MAX, &at, &n) != 0 ||
	    tpm2_take_tpm2b(r, "creationHash", 0, HASH_LEN, &at, &n) != 0 ||
	    tpm2_take_be(r, 2, "creationTicket.tag", &tag) != 0 ||
	    tpm2_take_be(r, 4, "creationTicket.hierarchy", &hierarchy) != 0 ||
	    /* an HMAC with the TPM's own choice of hash: up to SHA-512 */
	    tpm2_take_tpm2b(r, "creationTicket.digest", 0, 64, &at, &n) != 0 ||
	    tpm2_take_tpm2b(r, "name", TPM2_SESSION_NAME_LEN, TPM2_SESSION_NAME_LEN,
		       &at, &n) != 0)
		return -1;
	if (memcmp(at, name, TPM2_SESSION_NAME_LEN) != 0)
		return refuse(r->err, r->err_len,
			      "%s response: the name is not that of the public area",
			      r->cmd);
	return 0;
}

static void name_of(const uint8_t *area, size_t len, uint8_t name[TPM2_SESSION_NAME_LEN])
{
	store_be16(name, TPM2_ALG_SHA384);
	crypto_sha384(area, len, name + 2);
}

int tpm2_parse_create_salt_key(const uint8_t *rsp, size_t len,
			       struct tpm2_salt_key *key, char *err, size_t err_len)
{
	uint8_t pub[TPM2_P384_POINT_LEN], name[TPM2_SESSION_NAME_LEN];
	struct tpm2_body r, params, area;
	uint32_t handle, size;

	if (open_rd(&r, rsp, len, TPM2_ST_SESSIONS, "CreatePrimary (salt key)",
		    err, err_len) != 0 ||
	    tpm2_take_be(&r, 4, "objectHandle", &handle) != 0)
		return -1;
	if (handle >> 24 != TPM2_HT_TRANSIENT)
		return refuse(err, err_len,
			      "CreatePrimary (salt key) response: handle 0x%08x is not a transient object's",
			      handle);
	if (tpm2_take_be(&r, 4, "parameterSize", &size) != 0 ||
	    tpm2_take_sub(&r, size, "parameters", &params) != 0 ||
	    take_salt_public(&params, &area, pub) != 0)
		return -1;
	name_of(area.p, area.left, name);
	if (take_creation(&params, name) != 0 || tpm2_at_end(&params, "parameters") != 0 ||
	    tpm2_take_pw_auth(&r) != 0)
		return -1;
	key->handle = handle;
	memcpy(key->pub, pub, sizeof(pub));
	memcpy(key->name, name, sizeof(name));
	tpm2_clear_err(err, err_len);
	return 0;
}

/* --- Starting a session ----------------------------------------------------------- */

/* The salt and the ephemeral point that carries it to the TPM. */
static int make_salt(const struct tpm2_salt_key *key,
		     const uint8_t eph_priv[TPM2_P384_LEN],
		     uint8_t eph_pub[TPM2_P384_POINT_LEN], uint8_t salt[HASH_LEN])
{
	uint8_t z[TPM2_P384_LEN];

	if (crypto_p384_public(eph_priv, eph_pub) != CRYPTO_OK ||
	    crypto_ecdh_p384(eph_priv, key->pub, z) != CRYPTO_OK)
		return -1;
	/* KDFe(nameAlg, Z.x, "SECRET", ephemeral.x, tpmKey.x) */
	tpm2_kdfe_sha384(z, "SECRET", eph_pub + 1, key->pub + 1, salt);
	crypto_wipe(z, sizeof(z));
	return 0;
}

/* The top byte of the handle of a session of se_type; 0 for no such type. */
static uint8_t handle_type(uint8_t se_type)
{
	switch (se_type) {
	case TPM2_SE_HMAC:
		return TPM2_HT_HMAC_SESSION;
	case TPM2_SE_POLICY:
		return TPM2_HT_POLICY_SESSION;
	default:
		return 0;
	}
}

static const char *type_name(uint8_t se_type)
{
	return se_type == TPM2_SE_POLICY ? "a policy" : "an HMAC";
}

size_t tpm2_build_start_session(uint8_t *buf, size_t cap, struct tpm2_session *s,
				const struct tpm2_salt_key *key,
				const uint8_t eph_priv[TPM2_P384_LEN],
				const uint8_t nonce_caller[TPM2_SESSION_HASH_LEN],
				uint8_t se_type)
{
	uint8_t eph[TPM2_P384_POINT_LEN];
	uint8_t *p;

	if (cap < START_LEN || handle_type(se_type) == 0)
		return 0;
	tpm2_session_forget(s);
	/* The salt waits in s->key for the TPM's nonce. */
	if (make_salt(key, eph_priv, eph, s->key) != 0) {
		tpm2_session_forget(s);
		return 0;
	}
	memcpy(s->nonce_caller, nonce_caller, HASH_LEN);
	s->cc = TPM2_CC_START_AUTH_SESSION;
	s->type = se_type;
	p = put_header(buf, TPM2_ST_NO_SESSIONS, START_LEN,
		       TPM2_CC_START_AUTH_SESSION);
	p = store_be32(p, key->handle);    /* tpmKey: the salt's */
	p = store_be32(p, TPM2_RH_NULL);   /* bind: none */
	p = put_tpm2b(p, nonce_caller, HASH_LEN);
	p = store_be16(p, SALT_POINT_LEN); /* encryptedSalt: the ephemeral point */
	p = put_tpm2b(p, eph + 1, TPM2_P384_LEN);
	p = put_tpm2b(p, eph + 1 + TPM2_P384_LEN, TPM2_P384_LEN);
	*p++ = se_type;
	p = store_be16(p, TPM2_ALG_AES);
	p = store_be16(p, 8 * AES_KEY_LEN);
	p = store_be16(p, TPM2_ALG_CFB);
	store_be16(p, TPM2_ALG_SHA384);    /* authHash */
	return START_LEN;
}

static int start_response(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			  char *err, size_t err_len)
{
	uint8_t key[HASH_LEN];
	const uint8_t *nonce;
	uint32_t handle, n;
	struct tpm2_body r;

	if (s->cc != TPM2_CC_START_AUTH_SESSION)
		return refuse(err, err_len, "StartAuthSession: none in flight");
	if (open_rd(&r, rsp, len, TPM2_ST_NO_SESSIONS, "StartAuthSession",
		    err, err_len) != 0 ||
	    tpm2_take_be(&r, 4, "sessionHandle", &handle) != 0)
		return -1;
	if (handle >> 24 != handle_type(s->type))
		return refuse(err, err_len,
			      "StartAuthSession response: handle 0x%08x is not %s session's",
			      handle, type_name(s->type));
	if (tpm2_take_tpm2b(&r, "nonceTPM", HASH_LEN, HASH_LEN, &nonce, &n) != 0 ||
	    tpm2_at_end(&r, "the response") != 0)
		return -1;
	/* sessionKey = KDFa(authHash, bind's authValue (none) || salt, "ATH",
	 * nonceTPM, nonceCaller) */
	if (tpm2_kdfa_sha384(s->key, HASH_LEN, "ATH", nonce, HASH_LEN,
			     s->nonce_caller, HASH_LEN, key, HASH_LEN) != 0)
		return refuse(err, err_len, "StartAuthSession: the session key's KDFa failed");
	memcpy(s->key, key, HASH_LEN);
	crypto_wipe(key, sizeof(key));
	memcpy(s->nonce_tpm, nonce, HASH_LEN);
	s->handle = handle;
	s->cc = 0;
	return 0;
}

int tpm2_parse_start_session(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			     char *err, size_t err_len)
{
	if (start_response(rsp, len, s, err, err_len) != 0) {
		tpm2_session_forget(s);
		return -1;
	}
	tpm2_clear_err(err, err_len);
	return 0;
}

void tpm2_session_forget(struct tpm2_session *s)
{
	crypto_wipe(s, sizeof(*s));
}

/* --- Commands and responses with the session ------------------------------------------- */

/* key || IV for the first TPM2B parameter: KDFa(authHash, sessionKey ||
 * authValue (empty), "CFB", nonceNewer, nonceOlder, 256 bits). */
static int cfb(const struct tpm2_session *s, bool encrypt, const uint8_t *newer,
	       const uint8_t *older, uint8_t *buf, size_t len)
{
	uint8_t k[CFB_LEN];
	int rc;

	if (tpm2_kdfa_sha384(s->key, HASH_LEN, "CFB", newer, HASH_LEN, older,
			     HASH_LEN, k, sizeof(k)) != 0)
		return -1;
	rc = crypto_aes_cfb(encrypt, k, AES_KEY_LEN, k + AES_KEY_LEN, buf, len);
	crypto_wipe(k, sizeof(k));
	return rc == CRYPTO_OK ? 0 : -1;
}

/* HMAC(sessionKey || authValue (empty), pHash || nonceNewer || nonceOlder ||
 * sessionAttributes): the command's and the response's alike. */
static int session_hmac(const struct tpm2_session *s, const uint8_t p_hash[HASH_LEN],
			const uint8_t *newer, const uint8_t *older, uint8_t attrs,
			uint8_t out[HASH_LEN])
{
	uint8_t in[3 * HASH_LEN + 1];
	uint8_t *p;
	int rc;

	p = put_bytes(in, p_hash, HASH_LEN);
	p = put_bytes(p, newer, HASH_LEN);
	p = put_bytes(p, older, HASH_LEN);
	*p = attrs;
	rc = crypto_hmac_sha384(s->key, HASH_LEN, in, sizeof(in), out);
	return rc == CRYPTO_OK ? 0 : -1;
}

static void hash_be32(struct crypto_sha384_ctx *c, uint32_t v)
{
	uint8_t be[4];

	store_be32(be, v);
	crypto_sha384_update(c, be, sizeof(be));
}

/* cpHash = H(commandCode || Names of the handles || parameters) */
static void hash_command(uint32_t cc, const struct tpm2_named_handle *handles,
			 size_t handle_count, const uint8_t *params, size_t len,
			 uint8_t out[HASH_LEN])
{
	struct crypto_sha384_ctx c;

	crypto_sha384_init(&c);
	hash_be32(&c, cc);
	for (size_t i = 0; i < handle_count; i++) {
		if (handles[i].name)
			crypto_sha384_update(&c, handles[i].name, handles[i].name_len);
		else
			hash_be32(&c, handles[i].handle);
	}
	crypto_sha384_update(&c, params, len);
	crypto_sha384_final(&c, out);
}

/* rpHash = H(responseCode (success) || commandCode || parameters) */
static void hash_response(uint32_t cc, const uint8_t *params, size_t len,
			  uint8_t out[HASH_LEN])
{
	struct crypto_sha384_ctx c;

	crypto_sha384_init(&c);
	hash_be32(&c, TPM2_RC_SUCCESS);
	hash_be32(&c, cc);
	crypto_sha384_update(&c, params, len);
	crypto_sha384_final(&c, out);
}

/* The first parameter, a TPM2B of len bytes at params, encrypted in place. */
static int encrypt_first(struct tpm2_session *s, const uint8_t nonce[HASH_LEN],
			 uint8_t *params, size_t len)
{
	size_t size;

	if (len < 2)
		return -1;
	size = load_be16(params);
	if (size > len - 2)
		return -1;
	return cfb(s, true, nonce, s->nonce_tpm, params + 2, size);
}

/* Handles the builder can name: at most TPM2_SESSION_HANDLES_MAX, each
 * Name 1..TPM2_NAME_MAX bytes when it is not the handle. */
static bool names_fit(const struct tpm2_named_handle *handles, size_t handle_count)
{
	if (handle_count > TPM2_SESSION_HANDLES_MAX)
		return false;
	for (size_t i = 0; i < handle_count; i++)
		if (handles[i].name &&
		    (handles[i].name_len == 0 || handles[i].name_len > TPM2_NAME_MAX))
			return false;
	return true;
}

size_t tpm2_session_build_named(uint8_t *buf, size_t cap, struct tpm2_session *s,
				uint32_t cc, const struct tpm2_named_handle *handles,
				size_t handle_count, const uint8_t *params,
				size_t params_len, uint8_t attrs,
				const uint8_t nonce[TPM2_SESSION_HASH_LEN])
{
	size_t len = TPM2_HEADER_LEN + 4 * handle_count + 4 + SESSION_AUTH_LEN;
	uint8_t cp_hash[HASH_LEN], hmac[HASH_LEN];
	uint8_t *p, *at;

	if (s->handle >> 24 != handle_type(s->type) || handle_type(s->type) == 0 ||
	    s->cc != 0 || !names_fit(handles, handle_count) ||
	    params_len > cap || len > cap - params_len)
		return 0;
	len += params_len;
	p = put_header(buf, TPM2_ST_SESSIONS, len, cc);
	for (size_t i = 0; i < handle_count; i++)
		p = store_be32(p, handles[i].handle);
	at = p + 4 + SESSION_AUTH_LEN;
	memcpy(at, params, params_len);
	if ((attrs & TPM2_SA_DECRYPT) && encrypt_first(s, nonce, at, params_len) != 0)
		return 0;
	hash_command(cc, handles, handle_count, at, params_len, cp_hash);
	if (session_hmac(s, cp_hash, nonce, s->nonce_tpm, attrs, hmac) != 0)
		return 0;
	p = store_be32(p, SESSION_AUTH_LEN);
	p = store_be32(p, s->handle);
	p = put_tpm2b(p, nonce, HASH_LEN);
	*p++ = attrs;
	put_tpm2b(p, hmac, HASH_LEN);
	memcpy(s->nonce_caller, nonce, HASH_LEN);
	s->cc = cc;
	s->attrs = attrs;
	return len;
}

size_t tpm2_session_build(uint8_t *buf, size_t cap, struct tpm2_session *s,
			  uint32_t cc, const uint32_t *handles, size_t handle_count,
			  const uint8_t *params, size_t params_len, uint8_t attrs,
			  const uint8_t nonce[TPM2_SESSION_HASH_LEN])
{
	/* Zeroed whole: the compiler cannot see that only handle_count
	 * entries are read. */
	struct tpm2_named_handle named[TPM2_SESSION_HANDLES_MAX] = { 0 };

	if (handle_count > TPM2_SESSION_HANDLES_MAX)
		return 0;
	for (size_t i = 0; i < handle_count; i++)
		named[i] = (struct tpm2_named_handle){ handles[i], NULL, 0 };
	return tpm2_session_build_named(buf, cap, s, cc, named, handle_count, params,
					params_len, attrs, nonce);
}

static const char *cc_name(uint32_t cc)
{
	switch (cc) {
	case TPM2_CC_GET_RANDOM:
		return "GetRandom";
	case TPM2_CC_PCR_EXTEND:
		return "PCR_Extend";
	case TPM2_CC_CREATE_PRIMARY:
		return "CreatePrimary";
	case TPM2_CC_NV_WRITE:
		return "NV_Write";
	case TPM2_CC_NV_READ:
		return "NV_Read";
	case TPM2_CC_SIGN:
		return "Sign";
	case TPM2_CC_ECDH_ZGEN:
		return "ECDH_ZGen";
	default:
		return "TPM command";
	}
}

/* The session's auth area, to the end of the response; checks the HMAC
 * over params. */
static int take_session_auth(struct tpm2_body *r, struct tpm2_session *s,
			     const uint8_t *params, size_t params_len)
{
	uint8_t rp_hash[HASH_LEN], want[HASH_LEN];
	const uint8_t *nonce, *hmac;
	uint32_t n, attrs;

	if (tpm2_take_tpm2b(r, "nonceTPM", HASH_LEN, HASH_LEN, &nonce, &n) != 0 ||
	    tpm2_take_be(r, 1, "sessionAttributes", &attrs) != 0 ||
	    tpm2_take_tpm2b(r, "hmac", HASH_LEN, HASH_LEN, &hmac, &n) != 0 ||
	    tpm2_at_end(r, "the response") != 0)
		return -1;
	if (attrs != s->attrs)
		return refuse(r->err, r->err_len,
			      "%s response: session attributes 0x%02x, the command's were 0x%02x",
			      r->cmd, attrs, s->attrs);
	hash_response(s->cc, params, params_len, rp_hash);
	if (session_hmac(s, rp_hash, nonce, s->nonce_caller, (uint8_t)attrs, want) != 0)
		return refuse(r->err, r->err_len, "%s response: the HMAC could not be computed",
			      r->cmd);
	if (!same_secret(want, hmac, HASH_LEN))
		return refuse(r->err, r->err_len,
			      "%s response HMAC does not verify: altered on the bus?",
			      r->cmd);
	memcpy(s->nonce_tpm, nonce, HASH_LEN);
	return 0;
}

static int session_response(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			    size_t handle_count, uint32_t *handle, struct tpm2_body *params,
			    char *err, size_t err_len)
{
	struct tpm2_body r;
	uint32_t size, h = 0;

	if (s->cc == 0 || handle_count > 1)
		return refuse(err, err_len, "TPM session: no command in flight");
	if (open_rd(&r, rsp, len, TPM2_ST_SESSIONS, cc_name(s->cc), err, err_len) != 0 ||
	    (handle_count && tpm2_take_be(&r, 4, "handle", &h) != 0) ||
	    tpm2_take_be(&r, 4, "parameterSize", &size) != 0 ||
	    tpm2_take_sub(&r, size, "parameters", params) != 0 ||
	    take_session_auth(&r, s, params->p, params->left) != 0)
		return -1;
	if (handle_count)
		*handle = h;
	return 0;
}

int tpm2_session_parse(const uint8_t *rsp, size_t len, struct tpm2_session *s,
		       size_t handle_count, uint32_t *handle,
		       const uint8_t **params, size_t *params_len,
		       char *err, size_t err_len)
{
	struct tpm2_body pr;
	int rc = session_response(rsp, len, s, handle_count, handle, &pr, err, err_len);

	s->cc = 0; /* answered, well or not */
	if (rc != 0)
		return -1;
	*params = pr.p;
	*params_len = pr.left;
	tpm2_clear_err(err, err_len);
	return 0;
}

int tpm2_session_decrypt_response(const struct tpm2_session *s, uint8_t *buf,
				  size_t len)
{
	return cfb(s, false, s->nonce_tpm, s->nonce_caller, buf, len);
}

/* --- GetRandom, encrypted; PCR_Extend, authorised ------------------------------------ */

size_t tpm2_build_get_random_enc(uint8_t *buf, size_t cap, struct tpm2_session *s,
				 uint16_t n, const uint8_t nonce[TPM2_SESSION_HASH_LEN])
{
	uint8_t params[2];

	if (n == 0 || n > HASH_LEN)
		return 0;
	store_be16(params, n);
	return tpm2_session_build(buf, cap, s, TPM2_CC_GET_RANDOM, NULL, 0, params,
				  sizeof(params),
				  TPM2_SA_CONTINUE_SESSION | TPM2_SA_ENCRYPT, nonce);
}

int tpm2_parse_get_random_enc(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			      uint8_t *out, size_t want, size_t *got,
			      char *err, size_t err_len)
{
	const uint8_t *params, *bytes;
	size_t params_len;
	uint32_t size;
	struct tpm2_body r;

	if (s->cc != TPM2_CC_GET_RANDOM)
		return refuse(err, err_len, "GetRandom: none in flight on the session");
	if (tpm2_session_parse(rsp, len, s, 0, NULL, &params, &params_len,
			       err, err_len) != 0)
		return -1;
	r = (struct tpm2_body){ params, params_len, "GetRandom", err, err_len };
	if (tpm2_take_tpm2b(&r, "randomBytes", 1, (uint32_t)want, &bytes, &size) != 0 ||
	    tpm2_at_end(&r, "parameters") != 0)
		return -1;
	memcpy(out, bytes, size);
	if (tpm2_session_decrypt_response(s, out, size) != 0) {
		crypto_wipe(out, size);
		return refuse(err, err_len, "GetRandom: decrypting the response failed");
	}
	*got = size;
	return 0;
}

size_t tpm2_build_pcr_extend_hmac(uint8_t *buf, size_t cap, struct tpm2_session *s,
				  uint32_t pcr, const uint8_t digest[TPM2_SHA384_LEN],
				  const uint8_t nonce[TPM2_SESSION_HASH_LEN])
{
	uint8_t params[EXTEND_PARAMS_LEN];
	uint8_t *p;

	if (pcr >= TPM2_PCR_COUNT)
		return 0;
	p = store_be32(params, 1); /* TPML_DIGEST_VALUES: one */
	p = store_be16(p, TPM2_ALG_SHA384);
	memcpy(p, digest, TPM2_SHA384_LEN);
	/* A PCR's Name is its handle, its authValue empty. No parameter
	 * encryption: the first parameter is not a TPM2B (and a digest is no
	 * secret). */
	return tpm2_session_build(buf, cap, s, TPM2_CC_PCR_EXTEND, &pcr, 1, params,
				  sizeof(params), TPM2_SA_CONTINUE_SESSION, nonce);
}

int tpm2_parse_pcr_extend_hmac(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			       char *err, size_t err_len)
{
	const uint8_t *params;
	size_t params_len;

	if (s->cc != TPM2_CC_PCR_EXTEND)
		return refuse(err, err_len, "PCR_Extend: none in flight on the session");
	if (tpm2_session_parse(rsp, len, s, 0, NULL, &params, &params_len,
			       err, err_len) != 0)
		return -1;
	if (params_len)
		return refuse(err, err_len,
			      "PCR_Extend response: %zu parameter bytes (it has none)",
			      params_len);
	return 0;
}
