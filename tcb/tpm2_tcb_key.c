/*
 * The TCB's TPM-resident identity keys (tcb/tpm2_tcb_key.h): their
 * templates, public areas and Names, and CreatePrimary, Certify, Sign and
 * ECDH_ZGen.
 *
 * A template is written in one place (put_template) for CreatePrimary,
 * the public area a verifier recomputes and the Name, and the parser
 * requires it back field by field from the same tables, so that what is
 * sent, what is checked and what is hashed cannot drift apart. Responses
 * are read through tcb/tpm2_body.h's cursor.
 */
#include "tcb/byteorder.h"
#include "tcb/tpm2_body.h"
#include "tcb/tpm2_tcb_key.h"
#include "tcb/errmsg.h"
#include "crypto/crypto.h"

#include <string.h>

#define HASH_LEN     TPM2_SHA384_LEN
#define COORD_LEN    TPM2_P384_LEN
#define NAME_LEN     TPM2_TCB_KEY_NAME_LEN
#define TPM2_HT_TRANSIENT 0x80

/* errmsg() returns -1; the compiler and the analyzer must see it. */
#define refuse(...) (errmsg(__VA_ARGS__), -1)

#define PW_AUTH_LEN   9  /* TPM_RS_PW, empty nonce, attributes, empty hmac */
/* TPMT_PUBLIC up to its unique point: the fields and the policy. */
#define TEMPLATE_LEN  (20 + HASH_LEN + 4)
/* handle, auth area, empty inSensitive, inPublic, empty outsideInfo, no
 * creationPCR */
#define CREATE_LEN    (TPM2_HEADER_LEN + 4 + 4 + PW_AUTH_LEN + 6 + \
		       2 + TEMPLATE_LEN + 2 + 4)
/* two handles, two password sessions, qualifyingData of q bytes, inScheme */
#define CERTIFY_LEN(q) (TPM2_HEADER_LEN + 8 + 4 + 2 * PW_AUTH_LEN + 2 + (q) + 2)
/* digest, inScheme, validation (a NULL ticket) */
#define SIGN_PARAMS_LEN (2 + HASH_LEN + 4 + 2 + 4 + 2)
/* TPMS_ECC_POINT with both coordinates at 48 bytes */
#define POINT_LEN     (2 + COORD_LEN + 2 + COORD_LEN)
#define POINT_MIN     (2 + 1 + 2 + 1)

/* --- Templates ---------------------------------------------------------------- */

struct field {
	uint8_t size; /* 2 or 4 bytes */
	const char *name;
	uint32_t value;
};

/* Up to the authPolicy's contents: the same for both keys but the
 * attributes. */
static const struct field sign_head[] = {
	{ 2, "type", TPM2_ALG_ECC },
	{ 2, "nameAlg", TPM2_ALG_SHA384 },
	{ 4, "objectAttributes", TPM2_TCB_SIGN_ATTRIBUTES },
	{ 2, "authPolicy.size", HASH_LEN },
};

static const struct field agree_head[] = {
	{ 2, "type", TPM2_ALG_ECC },
	{ 2, "nameAlg", TPM2_ALG_SHA384 },
	{ 4, "objectAttributes", TPM2_TCB_AGREE_ATTRIBUTES },
	{ 2, "authPolicy.size", HASH_LEN },
};

/* After it: an unrestricted key has no symmetric algorithm; its scheme is
 * fixed here, so no command can ask for another; no KDF (ECDH_ZGen hands
 * out Z, the caller derives its keys). */
static const struct field sign_tail[] = {
	{ 2, "symmetric", TPM2_ALG_NULL },
	{ 2, "scheme", TPM2_ALG_ECDSA },
	{ 2, "scheme.hashAlg", TPM2_ALG_SHA384 },
	{ 2, "curveID", TPM2_ECC_NIST_P384 },
	{ 2, "kdf", TPM2_ALG_NULL },
};

static const struct field agree_tail[] = {
	{ 2, "symmetric", TPM2_ALG_NULL },
	{ 2, "scheme", TPM2_ALG_ECDH },
	{ 2, "scheme.hashAlg", TPM2_ALG_SHA384 },
	{ 2, "curveID", TPM2_ECC_NIST_P384 },
	{ 2, "kdf", TPM2_ALG_NULL },
};

#define FIELDS(t) (sizeof(t) / sizeof((t)[0]))

struct tmpl {
	const struct field *head, *tail;
	size_t head_n, tail_n;
	const char *cmd; /* for messages */
};

static const struct tmpl templates[] = {
	[TPM2_TCB_KEY_SIGN] = { sign_head, sign_tail, FIELDS(sign_head),
				FIELDS(sign_tail), "CreatePrimary (TCB signing key)" },
	[TPM2_TCB_KEY_AGREE] = { agree_head, agree_tail, FIELDS(agree_head),
				 FIELDS(agree_tail), "CreatePrimary (TCB key-agreement key)" },
};

static const struct tmpl *template_of(enum tpm2_tcb_key_kind kind)
{
	if ((unsigned)kind >= FIELDS(templates))
		return NULL;
	return &templates[kind];
}

static uint8_t *put_fields(uint8_t *p, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p = f[i].size == 4 ? store_be32(p, f[i].value) :
				     store_be16(p, (uint16_t)f[i].value);
	return p;
}

/* TEMPLATE_LEN bytes: everything but the unique point. */
static uint8_t *put_template(uint8_t *p, const struct tmpl *t,
			     const uint8_t policy[HASH_LEN])
{
	p = put_fields(p, t->head, t->head_n);
	memcpy(p, policy, HASH_LEN);
	return put_fields(p + HASH_LEN, t->tail, t->tail_n);
}

static uint8_t *put_header(uint8_t *buf, uint16_t tag, size_t len, uint32_t cc)
{
	return store_be32(store_be32(store_be16(buf, tag), (uint32_t)len), cc);
}

/* authorizationSize and n password sessions with the empty password. */
static uint8_t *put_pw_auth(uint8_t *p, unsigned n)
{
	p = store_be32(p, n * PW_AUTH_LEN);
	for (unsigned i = 0; i < n; i++) {
		p = store_be32(p, TPM2_RS_PW);
		p = store_be16(p, 0); /* nonceCaller */
		*p++ = 0;             /* sessionAttributes */
		p = store_be16(p, 0); /* hmac: the empty password */
	}
	return p;
}

/* x and y of an uncompressed point, each a 48-byte TPM2B. */
static uint8_t *put_point(uint8_t *p, const uint8_t pub[TPM2_P384_POINT_LEN])
{
	p = store_be16(p, COORD_LEN);
	memcpy(p, pub + 1, COORD_LEN);
	p = store_be16(p + COORD_LEN, COORD_LEN);
	memcpy(p, pub + 1 + COORD_LEN, COORD_LEN);
	return p + COORD_LEN;
}

static void name_of(const uint8_t *area, size_t len, uint8_t name[NAME_LEN])
{
	store_be16(name, TPM2_ALG_SHA384);
	crypto_sha384(area, len, name + 2);
}

void tpm2_tcb_key_public_area(enum tpm2_tcb_key_kind kind,
			      const uint8_t policy[TPM2_SHA384_LEN],
			      const uint8_t pub[TPM2_P384_POINT_LEN],
			      uint8_t area[TPM2_TCB_KEY_PUBLIC_LEN])
{
	const struct tmpl *t = template_of(kind);

	if (!t) { /* no such key: an area no TPM returns */
		memset(area, 0, TPM2_TCB_KEY_PUBLIC_LEN);
		return;
	}
	put_point(put_template(area, t, policy), pub);
}

void tpm2_tcb_key_name(enum tpm2_tcb_key_kind kind,
		       const uint8_t policy[TPM2_SHA384_LEN],
		       const uint8_t pub[TPM2_P384_POINT_LEN],
		       uint8_t name[TPM2_TCB_KEY_NAME_LEN])
{
	uint8_t area[TPM2_TCB_KEY_PUBLIC_LEN];

	tpm2_tcb_key_public_area(kind, policy, pub, area);
	name_of(area, sizeof(area), name);
}

/* --- Response codes -------------------------------------------------------------- */

/* One password session's auth area (empty nonce and hmac, attributes 0 or
 * continueSession), with more to follow or not. */
static int take_pw_session(struct tpm2_body *b)
{
	uint32_t attrs;

	if (tpm2_expect(b, "nonceTPM.size", 2, 0) != 0 ||
	    tpm2_take_be(b, 1, "sessionAttributes", &attrs) != 0)
		return -1;
	if (attrs & ~(uint32_t)TPM2_SA_CONTINUE_SESSION)
		return refuse(b->err, b->err_len,
			      "%s response: session attributes 0x%02x (a password session's are 0x00 or 0x01)",
			      b->cmd, attrs);
	return tpm2_expect(b, "hmac.size", 2, 0);
}

/* --- CreatePrimary ----------------------------------------------------------------- */

size_t tpm2_build_create_tcb_key(uint8_t *buf, size_t cap, enum tpm2_tcb_key_kind kind,
				 const uint8_t policy[TPM2_SHA384_LEN])
{
	const struct tmpl *t = template_of(kind);
	uint8_t *p;

	if (!t || cap < CREATE_LEN)
		return 0;
	p = put_header(buf, TPM2_ST_SESSIONS, CREATE_LEN, TPM2_CC_CREATE_PRIMARY);
	p = store_be32(p, TPM2_RH_ENDORSEMENT);
	p = put_pw_auth(p, 1);
	/* inSensitive: no userAuth (the key has none: its policy rules),
	 * no data (the TPM derives the key). */
	p = store_be16(p, 4);
	p = store_be32(p, 0);
	p = store_be16(p, TEMPLATE_LEN);
	p = put_template(p, t, policy);
	/* unique: an empty point, so the key is the seed's and the
	 * template's alone; outsideInfo empty; no creationPCR. */
	p = store_be32(p, 0);
	p = store_be16(p, 0);
	store_be32(p, 0);
	return CREATE_LEN;
}

static int expect_fields(struct tpm2_body *b, const struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (tpm2_expect(b, f[i].name, f[i].size, f[i].value) != 0)
			return -1;
	return 0;
}

/* outPublic: exactly the template and policy sent, then a point whose
 * coordinates are 48 bytes each (the TPM pads them; a shorter one would
 * give a public area, and a Name, a verifier cannot recompute from the
 * point); its bytes in *area. */
static int take_public(struct tpm2_body *r, const struct tmpl *t,
		       const uint8_t policy[HASH_LEN], struct tpm2_body *area,
		       uint8_t pub[TPM2_P384_POINT_LEN])
{
	const uint8_t *at, *x, *y;
	struct tpm2_body pa;
	uint32_t size;

	if (tpm2_take_be(r, 2, "outPublic.size", &size) != 0 ||
	    tpm2_take_sub(r, size, "outPublic", area) != 0)
		return -1;
	pa = *area;
	if (expect_fields(&pa, t->head, t->head_n) != 0 ||
	    tpm2_take(&pa, HASH_LEN, "authPolicy", &at) != 0)
		return -1;
	if (memcmp(at, policy, HASH_LEN) != 0)
		return refuse(r->err, r->err_len, "%s response: authPolicy is not the one sent",
			      r->cmd);
	if (expect_fields(&pa, t->tail, t->tail_n) != 0 ||
	    tpm2_take_tpm2b(&pa, "unique.x", COORD_LEN, COORD_LEN, &x, &size) != 0 ||
	    tpm2_take_tpm2b(&pa, "unique.y", COORD_LEN, COORD_LEN, &y, &size) != 0 ||
	    tpm2_at_end(&pa, "outPublic") != 0)
		return -1;
	pub[0] = 0x04; /* SEC 1: an uncompressed point */
	memcpy(pub + 1, x, COORD_LEN);
	memcpy(pub + 1 + COORD_LEN, y, COORD_LEN);
	return 0;
}

/* creationData, creationHash, creationTicket: stepped over (nothing here
 * relies on them); name: the one computed from the public area. */
static int take_creation(struct tpm2_body *r, const uint8_t name[NAME_LEN])
{
	const uint8_t *at;
	uint32_t n, v;

	if (tpm2_take_tpm2b(r, "creationData", 0, TPM2_BUFFER_MAX, &at, &n) != 0 ||
	    tpm2_take_tpm2b(r, "creationHash", 0, TPM2_DIGEST_MAX, &at, &n) != 0 ||
	    tpm2_take_be(r, 2, "creationTicket.tag", &v) != 0 ||
	    tpm2_take_be(r, 4, "creationTicket.hierarchy", &v) != 0 ||
	    tpm2_take_tpm2b(r, "creationTicket.digest", 0, TPM2_DIGEST_MAX, &at, &n) != 0 ||
	    tpm2_take_tpm2b(r, "name", NAME_LEN, NAME_LEN, &at, &n) != 0)
		return -1;
	if (memcmp(at, name, NAME_LEN) != 0)
		return refuse(r->err, r->err_len,
			      "%s response: the name is not that of the public area", r->cmd);
	return 0;
}

int tpm2_parse_create_tcb_key(const uint8_t *rsp, size_t len, enum tpm2_tcb_key_kind kind,
			      const uint8_t policy[TPM2_SHA384_LEN],
			      struct tpm2_tcb_key *key, uint32_t *rc, char *err,
			      size_t err_len)
{
	const struct tmpl *t = template_of(kind);
	uint8_t pub[TPM2_P384_POINT_LEN], name[NAME_LEN];
	struct tpm2_body r, params, area;
	uint32_t handle, size;

	tpm2_set_rc(rc, TPM2_RC_MALFORMED);
	if (!t)
		return refuse(err, err_len, "CreatePrimary: no such TCB key (%d)", (int)kind);
	if (tpm2_open_response(&r, rsp, len, TPM2_ST_SESSIONS, t->cmd, rc, err, err_len) != 0 ||
	    tpm2_take_be(&r, 4, "objectHandle", &handle) != 0)
		return -1;
	if (handle >> 24 != TPM2_HT_TRANSIENT)
		return refuse(err, err_len,
			      "%s response: handle 0x%08x is not a transient object's",
			      t->cmd, handle);
	if (tpm2_take_be(&r, 4, "parameterSize", &size) != 0 ||
	    tpm2_take_sub(&r, size, "parameters", &params) != 0 ||
	    take_public(&params, t, policy, &area, pub) != 0)
		return -1;
	name_of(area.p, area.left, name);
	if (take_creation(&params, name) != 0 || tpm2_at_end(&params, "parameters") != 0 ||
	    tpm2_take_pw_auth(&r) != 0)
		return -1;
	key->handle = handle;
	key->kind = kind;
	memcpy(key->pub, pub, sizeof(pub));
	memcpy(key->name, name, sizeof(name));
	tpm2_clear_err(err, err_len);
	return 0;
}

/* --- Certify --------------------------------------------------------------------- */

size_t tpm2_build_certify_tcb_key(uint8_t *buf, size_t cap, const struct tpm2_tcb_key *key,
				  uint32_t ak_handle, const uint8_t *qualifying,
				  size_t qualifying_len)
{
	uint8_t *p;

	if (qualifying_len > TPM2_TCB_QUALIFYING_MAX || (qualifying_len && !qualifying) ||
	    cap < CERTIFY_LEN(qualifying_len))
		return 0;
	p = put_header(buf, TPM2_ST_SESSIONS, CERTIFY_LEN(qualifying_len), TPM2_CC_CERTIFY);
	p = store_be32(p, key->handle); /* objectHandle: ADMIN, the empty authValue */
	p = store_be32(p, ak_handle);   /* signHandle: USER, the empty authValue */
	p = put_pw_auth(p, 2);
	p = store_be16(p, (uint16_t)qualifying_len);
	if (qualifying_len)
		memcpy(p, qualifying, qualifying_len);
	store_be16(p + qualifying_len, TPM2_ALG_NULL); /* inScheme: the AK's own */
	return CERTIFY_LEN(qualifying_len);
}

/* The Qualified Name of a primary key of the endorsement hierarchy:
 * nameAlg || H(QN of the hierarchy, which is its handle || Name). */
static void endorsement_qn(const uint8_t name[NAME_LEN], uint8_t qn[NAME_LEN])
{
	struct crypto_sha384_ctx c;
	uint8_t parent[4];

	store_be32(parent, TPM2_RH_ENDORSEMENT);
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, parent, sizeof(parent));
	crypto_sha384_update(&c, name, NAME_LEN);
	store_be16(qn, TPM2_ALG_SHA384);
	crypto_sha384_final(&c, qn + 2);
}

/* A TPM2B_NAME of a SHA-384 object that must be want. */
static int expect_name(struct tpm2_body *b, const char *field, const uint8_t want[NAME_LEN])
{
	const uint8_t *at;
	uint32_t n;

	if (tpm2_take_tpm2b(b, field, NAME_LEN, NAME_LEN, &at, &n) != 0)
		return -1;
	if (memcmp(at, want, NAME_LEN) != 0)
		return refuse(b->err, b->err_len, "%s response: %s is not the key's", b->cmd,
			      field);
	return 0;
}

/* The fields before the attested Names. */
static int take_attest_head(struct tpm2_body *a, const uint8_t *qualifying,
			    size_t qualifying_len)
{
	const uint8_t *signer, *at;
	uint32_t n;

	if (tpm2_expect(a, "attest.magic", 4, TPM2_GENERATED_VALUE) != 0 ||
	    tpm2_expect(a, "attest.type", 2, TPM2_ST_ATTEST_CERTIFY) != 0 ||
	    tpm2_take_tpm2b(a, "attest.qualifiedSigner", NAME_LEN, NAME_LEN, &signer,
			    &n) != 0)
		return -1;
	/* The AK's Qualified Name: SHA-384, as its Name. */
	if (load_be16(signer) != TPM2_ALG_SHA384)
		return refuse(a->err, a->err_len,
			      "%s response: attest.qualifiedSigner is not a SHA-384 name",
			      a->cmd);
	if (tpm2_take_tpm2b(a, "attest.extraData", (uint32_t)qualifying_len,
			    (uint32_t)qualifying_len, &at, &n) != 0)
		return -1;
	if (qualifying_len && memcmp(at, qualifying, qualifying_len) != 0)
		return refuse(a->err, a->err_len,
			      "%s response: attest.extraData is not the qualifying data sent",
			      a->cmd);
	/* clockInfo (clock, resetCount, restartCount, safe) and
	 * firmwareVersion: the TPM's, not ours to judge. */
	return tpm2_take(a, 8 + 4 + 4 + 1, "attest.clockInfo", &at) != 0 ||
	       tpm2_take(a, 8, "attest.firmwareVersion", &at) != 0 ? -1 : 0;
}

int tpm2_check_certify_attest(const uint8_t *attest, size_t len,
			      const uint8_t name[TPM2_TCB_KEY_NAME_LEN],
			      const uint8_t *qualifying, size_t qualifying_len,
			      char *err, size_t err_len)
{
	struct tpm2_body a = { attest, len, "Certify", err, err_len };
	uint8_t qn[NAME_LEN];

	if (qualifying_len > TPM2_TCB_QUALIFYING_MAX || (qualifying_len && !qualifying))
		return refuse(err, err_len, "Certify: qualifying data of %zu bytes (0..%u)",
			      qualifying_len, TPM2_TCB_QUALIFYING_MAX);
	endorsement_qn(name, qn);
	if (take_attest_head(&a, qualifying, qualifying_len) != 0 ||
	    expect_name(&a, "attest.certify.name", name) != 0 ||
	    expect_name(&a, "attest.certify.qualifiedName", qn) != 0 ||
	    tpm2_at_end(&a, "attest") != 0)
		return -1;
	tpm2_clear_err(err, err_len);
	return 0;
}

/* An ECDSA signature with SHA-384: r and s 1..48 bytes (a TPM may drop
 * leading zeros), left where they are until the response is accepted. */
static int take_signature(struct tpm2_body *b, const uint8_t **r, uint32_t *r_len,
			  const uint8_t **s, uint32_t *s_len)
{
	return tpm2_expect(b, "signature.sigAlg", 2, TPM2_ALG_ECDSA) != 0 ||
	       tpm2_expect(b, "signature.hash", 2, TPM2_ALG_SHA384) != 0 ||
	       tpm2_take_tpm2b(b, "signature.r", 1, COORD_LEN, r, r_len) != 0 ||
	       tpm2_take_tpm2b(b, "signature.s", 1, COORD_LEN, s, s_len) != 0 ? -1 : 0;
}

static void put_padded(uint8_t out[COORD_LEN], const uint8_t *v, uint32_t len)
{
	memset(out, 0, COORD_LEN - len);
	memcpy(out + COORD_LEN - len, v, len);
}

int tpm2_parse_certify_tcb_key(const uint8_t *rsp, size_t len,
			       const struct tpm2_tcb_key *key, const uint8_t *qualifying,
			       size_t qualifying_len, struct tpm2_tcb_certify *out,
			       uint32_t *rc, char *err, size_t err_len)
{
	const uint8_t *attest, *r_at, *s_at;
	uint32_t attest_len, r_len, s_len, size;
	struct tpm2_body b, params;

	if (tpm2_open_response(&b, rsp, len, TPM2_ST_SESSIONS, "Certify", rc, err, err_len) != 0 ||
	    tpm2_take_be(&b, 4, "parameterSize", &size) != 0 ||
	    tpm2_take_sub(&b, size, "parameters", &params) != 0 ||
	    tpm2_take_tpm2b(&params, "certifyInfo", 1, TPM2_ATTEST_MAX, &attest,
			    &attest_len) != 0 ||
	    take_signature(&params, &r_at, &r_len, &s_at, &s_len) != 0 ||
	    tpm2_at_end(&params, "parameters") != 0 ||
	    /* One auth area for each of the command's two sessions. */
	    take_pw_session(&b) != 0 || take_pw_session(&b) != 0 ||
	    tpm2_at_end(&b, "the response") != 0 ||
	    tpm2_check_certify_attest(attest, attest_len, key->name, qualifying,
				      qualifying_len, err, err_len) != 0)
		return -1;
	memcpy(out->attest, attest, attest_len);
	out->attest_len = attest_len;
	put_padded(out->sig, r_at, r_len);
	put_padded(out->sig + COORD_LEN, s_at, s_len);
	tpm2_clear_err(err, err_len);
	return 0;
}

/* --- Sign and ECDH_ZGen on a policy session --------------------------------------- */

/* The key's handle under its Name (key must outlive the build). */
static struct tpm2_named_handle named(const struct tpm2_tcb_key *key)
{
	return (struct tpm2_named_handle){ key->handle, key->name, NAME_LEN };
}

size_t tpm2_build_tcb_sign(uint8_t *buf, size_t cap, struct tpm2_session *s,
			   const struct tpm2_tcb_key *key,
			   const uint8_t digest[TPM2_SHA384_LEN],
			   const uint8_t nonce[TPM2_SESSION_HASH_LEN])
{
	struct tpm2_named_handle h = named(key);
	uint8_t params[SIGN_PARAMS_LEN];
	uint8_t *p;

	if (key->kind != TPM2_TCB_KEY_SIGN || s->type != TPM2_SE_POLICY)
		return 0;
	p = store_be16(params, HASH_LEN);
	memcpy(p, digest, HASH_LEN);
	p = store_be16(p + HASH_LEN, TPM2_ALG_ECDSA); /* inScheme: the key's */
	p = store_be16(p, TPM2_ALG_SHA384);
	/* validation: the NULL ticket. The key is not restricted, so the TPM
	 * signs any digest; the ticket only matters to a restricted key. */
	p = store_be16(p, TPM2_ST_HASHCHECK);
	p = store_be32(p, TPM2_RH_NULL);
	store_be16(p, 0);
	return tpm2_session_build_named(buf, cap, s, TPM2_CC_SIGN, &h, 1, params,
					sizeof(params), TPM2_SA_CONTINUE_SESSION, nonce);
}

/* The response code of a session's response, then its parameters once
 * the session accepted it (HMAC verified). */
static int session_params(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			  uint32_t cc, const char *cmd, struct tpm2_body *params,
			  uint32_t *rc, char *err, size_t err_len)
{
	const uint8_t *p;
	uint32_t code;
	size_t n;

	tpm2_set_rc(rc, TPM2_RC_MALFORMED);
	if (s->cc != cc)
		return refuse(err, err_len, "%s: none in flight on the session", cmd);
	if (tpm2_response_header(rsp, len, TPM2_ST_SESSIONS, &code, NULL, 0) == 0)
		tpm2_set_rc(rc, code);
	if (tpm2_session_parse(rsp, len, s, 0, NULL, &p, &n, err, err_len) != 0)
		return -1;
	*params = (struct tpm2_body){ p, n, cmd, err, err_len };
	return 0;
}

int tpm2_parse_tcb_sign(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			uint8_t sig[2 * TPM2_P384_LEN], uint32_t *rc, char *err,
			size_t err_len)
{
	const uint8_t *r_at, *s_at;
	uint32_t r_len, s_len;
	struct tpm2_body params;

	if (session_params(rsp, len, s, TPM2_CC_SIGN, "Sign", &params, rc, err,
			   err_len) != 0 ||
	    take_signature(&params, &r_at, &r_len, &s_at, &s_len) != 0 ||
	    tpm2_at_end(&params, "parameters") != 0)
		return -1;
	put_padded(sig, r_at, r_len);
	put_padded(sig + COORD_LEN, s_at, s_len);
	return 0;
}

size_t tpm2_build_tcb_ecdh_zgen(uint8_t *buf, size_t cap, struct tpm2_session *s,
				const struct tpm2_tcb_key *key,
				const uint8_t point[TPM2_P384_POINT_LEN],
				const uint8_t nonce[TPM2_SESSION_HASH_LEN])
{
	struct tpm2_named_handle h = named(key);
	uint8_t params[2 + POINT_LEN];

	if (key->kind != TPM2_TCB_KEY_AGREE || s->type != TPM2_SE_POLICY ||
	    point[0] != 0x04)
		return 0;
	/* inPoint: public, so sent in the clear; the answer is the secret. */
	put_point(store_be16(params, POINT_LEN), point);
	return tpm2_session_build_named(buf, cap, s, TPM2_CC_ECDH_ZGEN, &h, 1, params,
					sizeof(params),
					TPM2_SA_CONTINUE_SESSION | TPM2_SA_ENCRYPT, nonce);
}

/* The decrypted TPMS_ECC_POINT: x and y 1..48 bytes; x into z. */
static int take_shared_point(const uint8_t *pt, size_t len, uint8_t z[COORD_LEN],
			     char *err, size_t err_len)
{
	struct tpm2_body b = { pt, len, "ECDH_ZGen", err, err_len };
	const uint8_t *x, *y;
	uint32_t x_len, y_len;

	if (tpm2_take_tpm2b(&b, "outPoint.x", 1, COORD_LEN, &x, &x_len) != 0 ||
	    tpm2_take_tpm2b(&b, "outPoint.y", 1, COORD_LEN, &y, &y_len) != 0 ||
	    tpm2_at_end(&b, "outPoint") != 0)
		return -1;
	put_padded(z, x, x_len);
	return 0;
}

int tpm2_parse_tcb_ecdh_zgen(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			     uint8_t z[TPM2_P384_LEN], uint32_t *rc, char *err,
			     size_t err_len)
{
	uint8_t pt[POINT_LEN];
	const uint8_t *at;
	struct tpm2_body params;
	uint32_t n;
	int ret;

	if (session_params(rsp, len, s, TPM2_CC_ECDH_ZGEN, "ECDH_ZGen", &params, rc, err,
			   err_len) != 0 ||
	    tpm2_take_tpm2b(&params, "outPoint", POINT_MIN, POINT_LEN, &at, &n) != 0 ||
	    tpm2_at_end(&params, "parameters") != 0)
		return -1;
	memcpy(pt, at, n);
	if (tpm2_session_decrypt_response(s, pt, n) != 0)
		ret = refuse(err, err_len, "ECDH_ZGen: decrypting the response failed");
	else
		ret = take_shared_point(pt, n, z, err, err_len);
	crypto_wipe(pt, sizeof(pt));
	return ret;
}
