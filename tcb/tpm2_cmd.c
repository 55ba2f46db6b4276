/*
 * TPM 2.0 command marshaller and response parsers (tcb/tpm2_cmd.h). A
 * response is read through a cursor that refuses to step past the bytes
 * received, so no length the TPM sends can make a parser read out of
 * bounds; the caller's outputs are written only once the whole response
 * has been accepted.
 *
 * Built freestanding into the hypervisor and hosted into the tests and
 * fuzzer; uses only memcpy/memset, snprintf and tcb/errmsg.c.
 */
#include "tcb/byteorder.h"
#include "tcb/tpm2_body.h"
#include "tcb/tpm2_cmd.h"
#include "tcb/errmsg.h"

#include <stdio.h>
#include <string.h>

#define TPM2_CAP_PCRS     0x00000005
#define TPM2_CAP_TPM_PROPERTIES 0x00000006
#define TPM2_ST_AUTH_SECRET 0x8023 /* PolicySecret's ticket */
#define TPM2_RC_BAD_TAG   0x01e
#define TPM2_ST_RSP_1_2   0x00c4 /* how a TPM 1.2 answers a 2.0 command */
#define TPM2_HASH_COUNT   16     /* more banks than any TPM implements */
#define TPM2_SELECT_MAX   4      /* pcrSelect bytes: PCRs 0..31 */
#define TPM2_SELECT_LEN   3      /* what we send: PCRs 0..23 */
#define TPM2_CONTINUE_SESSION 0x01

#define STARTUP_LEN    (TPM2_HEADER_LEN + 2)
#define GET_RANDOM_LEN (TPM2_HEADER_LEN + 2)
#define GET_CAP_LEN    (TPM2_HEADER_LEN + 12)
#define PW_AUTH_LEN    9 /* TPM_RS_PW, empty nonce, attributes, empty hmac */
#define PCR_EXTEND_LEN (TPM2_HEADER_LEN + 8 + PW_AUTH_LEN + 6 + TPM2_SHA384_LEN)
#define PCR_READ_LEN   (TPM2_HEADER_LEN + 7 + TPM2_SELECT_LEN)
#define AK_TEMPLATE_LEN 24 /* TPMT_PUBLIC with an empty unique point */
/* handle, auth area, empty inSensitive, inPublic, empty outsideInfo, no
 * creationPCR */
#define CREATE_AK_LEN  (TPM2_HEADER_LEN + 8 + PW_AUTH_LEN + 6 + \
			2 + AK_TEMPLATE_LEN + 2 + 4)
/* handle, auth area, qualifyingData of q bytes, inScheme, one selection */
#define QUOTE_LEN(q)   (TPM2_HEADER_LEN + 8 + PW_AUTH_LEN + 2 + (q) + 2 + \
			7 + TPM2_SELECT_LEN)
#define FLUSH_LEN      (TPM2_HEADER_LEN + 4)
#define TPM2_HT_TRANSIENT 0x80 /* the top byte of a transient object's handle */
#define TPM2_HT_NV_INDEX  0x01
#define TPM2_HT_POLICY_SESSION 0x03
#define TPM2_TIMEOUT_MAX  8 /* TPM2B_TIMEOUT: a UINT64 */
#define NV_READ_PUBLIC_LEN (TPM2_HEADER_LEN + 4)
/* authHandle and nvIndex, authorizationSize, its session, size, offset */
#define NV_READ_LEN    (TPM2_HEADER_LEN + 12 + PW_AUTH_LEN + 4)
#define EK_TEMPLATE_LEN TPM2_EK_PUBLIC_LEN /* its unique is all zeros */
#define CREATE_EK_LEN  (TPM2_HEADER_LEN + 8 + PW_AUTH_LEN + 6 + \
			2 + EK_TEMPLATE_LEN + 2 + 4)
/* tpmKey, bind, nonceCaller, empty encryptedSalt, sessionType, symmetric
 * (TPM_ALG_NULL: no keyBits or mode), authHash */
#define START_SESSION_LEN (TPM2_HEADER_LEN + 8 + 2 + TPM2_NONCE_LEN + 2 + \
			   1 + 2 + 2)
/* authHandle, policySession, authorizationSize, its session, empty
 * nonceTPM, cpHashA and policyRef, expiration */
#define POLICY_SECRET_LEN (TPM2_HEADER_LEN + 12 + PW_AUTH_LEN + 6 + 4)
/* One session of an auth area: handle, empty nonce, attributes, empty
 * hmac. */
#define SESSION_LEN    9
/* two handles, authorizationSize, two sessions, credentialBlob of b
 * bytes, secret of s */
#define ACTIVATE_LEN(b, s) (TPM2_HEADER_LEN + 8 + 4 + 2 * SESSION_LEN + \
			    2 + (b) + 2 + (s))

/*
 * The AK's TPMT_PUBLIC up to its unique point, field by field: the builder
 * writes it and the CreatePrimary parser requires it back, so the two
 * cannot drift apart. The EK's likewise, in two parts around its
 * authPolicy digest.
 */
struct tmpl_field {
	uint8_t size; /* 2 or 4 bytes */
	const char *name;
	uint32_t value;
};

static const struct tmpl_field ak_template[] = {
	{ 2, "type", TPM2_ALG_ECC },
	{ 2, "nameAlg", TPM2_ALG_SHA384 },
	{ 4, "objectAttributes", TPM2_AK_ATTRIBUTES },
	{ 2, "authPolicy.size", 0 },        /* no policy: userWithAuth only */
	{ 2, "symmetric", TPM2_ALG_NULL },  /* a signing key has none */
	{ 2, "scheme", TPM2_ALG_ECDSA },
	{ 2, "scheme.hashAlg", TPM2_ALG_SHA384 },
	{ 2, "curveID", TPM2_ECC_NIST_P384 },
	{ 2, "kdf", TPM2_ALG_NULL },
};

#define AK_FIELDS (sizeof(ak_template) / sizeof(ak_template[0]))

/* The EK Credential Profile (2.0, rev. 14), B.3.3 template L-1. */
static const struct tmpl_field ek_head[] = {
	{ 2, "type", TPM2_ALG_RSA },
	{ 2, "nameAlg", TPM2_ALG_SHA256 },
	{ 4, "objectAttributes", TPM2_EK_ATTRIBUTES },
	{ 2, "authPolicy.size", TPM2_SHA256_LEN },
};

/* PolicySecret(TPM_RH_ENDORSEMENT) as a SHA-256 policy digest: use of the
 * EK needs the endorsement hierarchy's authorisation, not the key's. */
static const uint8_t ek_policy[TPM2_SHA256_LEN] = {
	0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
	0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
	0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa,
};

static const struct tmpl_field ek_tail[] = {
	{ 2, "symmetric.algorithm", TPM2_ALG_AES },
	{ 2, "symmetric.keyBits", 128 },
	{ 2, "symmetric.mode", TPM2_ALG_CFB },
	{ 2, "scheme", TPM2_ALG_NULL },
	{ 2, "keyBits", 8 * TPM2_RSA2048_LEN },
	{ 4, "exponent", 0 },                  /* 0: the default, 65537 */
	{ 2, "unique.size", TPM2_RSA2048_LEN }, /* zeros in, the modulus out */
};

#define FIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* --- Builders ----------------------------------------------------------- */

static uint8_t *put_header(uint8_t *buf, uint16_t tag, size_t len, uint32_t cc)
{
	return store_be32(store_be32(store_be16(buf, tag), (uint32_t)len), cc);
}

/* The SHA-384 selection of the PCRs in map (bit i = PCR i, 0..23), as
 * TPMS_PCR_SELECTION lays it out: PCR i is bit i % 8 of byte i / 8. */
static uint8_t *put_sha384_selection(uint8_t *p, uint32_t map)
{
	p = store_be16(p, TPM2_ALG_SHA384);
	*p++ = TPM2_SELECT_LEN;
	for (uint32_t i = 0; i < TPM2_SELECT_LEN; i++)
		*p++ = (uint8_t)(map >> (8 * i));
	return p;
}

/* authorizationSize and the one password session with the empty password. */
static uint8_t *put_pw_auth(uint8_t *p)
{
	p = store_be32(p, PW_AUTH_LEN);
	p = store_be32(p, TPM2_RS_PW);
	p = store_be16(p, 0); /* nonceCaller */
	*p++ = 0;             /* sessionAttributes: a password session has none */
	return store_be16(p, 0); /* hmac: the empty password */
}

size_t tpm2_build_startup_clear(uint8_t *buf, size_t cap)
{
	if (cap < STARTUP_LEN)
		return 0;
	store_be16(put_header(buf, TPM2_ST_NO_SESSIONS, STARTUP_LEN,
			      TPM2_CC_STARTUP), TPM2_SU_CLEAR);
	return STARTUP_LEN;
}

size_t tpm2_build_get_random(uint8_t *buf, size_t cap, uint16_t n)
{
	if (cap < GET_RANDOM_LEN || n == 0)
		return 0;
	store_be16(put_header(buf, TPM2_ST_NO_SESSIONS, GET_RANDOM_LEN,
			      TPM2_CC_GET_RANDOM), n);
	return GET_RANDOM_LEN;
}

size_t tpm2_build_get_pcr_banks(uint8_t *buf, size_t cap)
{
	uint8_t *p;

	if (cap < GET_CAP_LEN)
		return 0;
	p = put_header(buf, TPM2_ST_NO_SESSIONS, GET_CAP_LEN,
		       TPM2_CC_GET_CAPABILITY);
	p = store_be32(p, TPM2_CAP_PCRS);
	p = store_be32(p, 0); /* property: must be 0 for TPM_CAP_PCRS */
	store_be32(p, 1);
	return GET_CAP_LEN;
}

size_t tpm2_build_pcr_extend_sha384(uint8_t *buf, size_t cap, uint32_t pcr,
				    const uint8_t digest[TPM2_SHA384_LEN])
{
	uint8_t *p;

	if (cap < PCR_EXTEND_LEN || pcr >= TPM2_PCR_COUNT)
		return 0;
	p = put_header(buf, TPM2_ST_SESSIONS, PCR_EXTEND_LEN,
		       TPM2_CC_PCR_EXTEND);
	p = store_be32(p, pcr); /* PCR handles are the PCR numbers */
	p = put_pw_auth(p);
	p = store_be32(p, 1);
	p = store_be16(p, TPM2_ALG_SHA384);
	memcpy(p, digest, TPM2_SHA384_LEN);
	return PCR_EXTEND_LEN;
}

size_t tpm2_build_pcr_read_sha384(uint8_t *buf, size_t cap, uint32_t pcr)
{
	uint8_t *p;

	if (cap < PCR_READ_LEN || pcr >= TPM2_PCR_COUNT)
		return 0;
	p = put_header(buf, TPM2_ST_NO_SESSIONS, PCR_READ_LEN,
		       TPM2_CC_PCR_READ);
	p = store_be32(p, 1);
	put_sha384_selection(p, 1u << pcr);
	return PCR_READ_LEN;
}

/* A template's fields, in order. */
static uint8_t *put_template(uint8_t *p, const struct tmpl_field *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p = t[i].size == 4 ? store_be32(p, t[i].value) :
				     store_be16(p, (uint16_t)t[i].value);
	return p;
}

/* CreatePrimary under the endorsement hierarchy, up to inPublic.size:
 * handle, auth area, inSensitive with no userAuth (the empty password:
 * the AK is used with it, the EK by policy) and no data (the TPM generates
 * the key). */
static uint8_t *put_create_primary(uint8_t *buf, size_t len)
{
	uint8_t *p = put_header(buf, TPM2_ST_SESSIONS, len,
				TPM2_CC_CREATE_PRIMARY);

	p = store_be32(p, TPM2_RH_ENDORSEMENT);
	p = put_pw_auth(p);
	p = store_be16(p, 4);
	return store_be32(p, 0);
}

size_t tpm2_build_create_ak(uint8_t *buf, size_t cap)
{
	uint8_t *p;

	if (cap < CREATE_AK_LEN)
		return 0;
	p = put_create_primary(buf, CREATE_AK_LEN);
	p = store_be16(p, AK_TEMPLATE_LEN);
	p = put_template(p, ak_template, AK_FIELDS);
	/* unique: an empty point, so the key is the seed's and the template's
	 * alone; outsideInfo empty; no creationPCR. */
	p = store_be32(p, 0);
	p = store_be16(p, 0);
	store_be32(p, 0);
	return CREATE_AK_LEN;
}

size_t tpm2_build_quote(uint8_t *buf, size_t cap, uint32_t ak_handle,
			const uint8_t *qualifying, size_t qualifying_len,
			uint32_t pcr_mask)
{
	uint8_t *p;

	/* A quote of no PCR says nothing about the platform. */
	if (qualifying_len > TPM2_QUALIFYING_MAX || (qualifying_len && !qualifying) ||
	    pcr_mask == 0 || pcr_mask >> TPM2_PCR_COUNT ||
	    cap < QUOTE_LEN(qualifying_len))
		return 0;
	p = put_header(buf, TPM2_ST_SESSIONS, QUOTE_LEN(qualifying_len),
		       TPM2_CC_QUOTE);
	p = store_be32(p, ak_handle);
	p = put_pw_auth(p);
	p = store_be16(p, (uint16_t)qualifying_len);
	if (qualifying_len)
		memcpy(p, qualifying, qualifying_len);
	p += qualifying_len;
	p = store_be16(p, TPM2_ALG_NULL); /* inScheme: the key's own */
	p = store_be32(p, 1);
	put_sha384_selection(p, pcr_mask);
	return QUOTE_LEN(qualifying_len);
}

size_t tpm2_build_flush_context(uint8_t *buf, size_t cap, uint32_t handle)
{
	if (cap < FLUSH_LEN)
		return 0;
	store_be32(put_header(buf, TPM2_ST_NO_SESSIONS, FLUSH_LEN,
			      TPM2_CC_FLUSH_CONTEXT), handle);
	return FLUSH_LEN;
}

size_t tpm2_build_get_property(uint8_t *buf, size_t cap, uint32_t property)
{
	uint8_t *p;

	if (cap < GET_CAP_LEN)
		return 0;
	p = put_header(buf, TPM2_ST_NO_SESSIONS, GET_CAP_LEN,
		       TPM2_CC_GET_CAPABILITY);
	p = store_be32(p, TPM2_CAP_TPM_PROPERTIES);
	p = store_be32(p, property);
	store_be32(p, 1);
	return GET_CAP_LEN;
}

/* --- Credential activation ---------------------------------------------- */

size_t tpm2_build_nv_read_public(uint8_t *buf, size_t cap, uint32_t nv_index)
{
	if (cap < NV_READ_PUBLIC_LEN || nv_index >> 24 != TPM2_HT_NV_INDEX)
		return 0;
	store_be32(put_header(buf, TPM2_ST_NO_SESSIONS, NV_READ_PUBLIC_LEN,
			      TPM2_CC_NV_READ_PUBLIC), nv_index);
	return NV_READ_PUBLIC_LEN;
}

size_t tpm2_build_nv_read(uint8_t *buf, size_t cap, uint32_t nv_index,
			  uint16_t size, uint16_t offset)
{
	uint8_t *p;

	if (cap < NV_READ_LEN || nv_index >> 24 != TPM2_HT_NV_INDEX ||
	    size == 0 || size > TPM2_NV_READ_MAX ||
	    (uint32_t)offset + size > 0xffff)
		return 0;
	p = put_header(buf, TPM2_ST_SESSIONS, NV_READ_LEN, TPM2_CC_NV_READ);
	p = store_be32(p, nv_index); /* authHandle: the index's own auth */
	p = store_be32(p, nv_index);
	p = put_pw_auth(p);
	p = store_be16(p, size);
	store_be16(p, offset);
	return NV_READ_LEN;
}

size_t tpm2_build_create_ek(uint8_t *buf, size_t cap)
{
	uint8_t *p;

	if (cap < CREATE_EK_LEN)
		return 0;
	p = put_create_primary(buf, CREATE_EK_LEN);
	p = store_be16(p, EK_TEMPLATE_LEN);
	p = put_template(p, ek_head, FIELDS(ek_head));
	memcpy(p, ek_policy, sizeof(ek_policy));
	p = put_template(p + sizeof(ek_policy), ek_tail, FIELDS(ek_tail));
	/* unique: 256 zero bytes, as the profile asks, so that this is the
	 * key the manufacturer certified; outsideInfo empty; no
	 * creationPCR. */
	memset(p, 0, TPM2_RSA2048_LEN);
	p = store_be16(p + TPM2_RSA2048_LEN, 0);
	store_be32(p, 0);
	return CREATE_EK_LEN;
}

size_t tpm2_build_start_policy_session(uint8_t *buf, size_t cap,
				       const uint8_t nonce_caller[TPM2_NONCE_LEN])
{
	uint8_t *p;

	if (cap < START_SESSION_LEN)
		return 0;
	p = put_header(buf, TPM2_ST_NO_SESSIONS, START_SESSION_LEN,
		       TPM2_CC_START_AUTH_SESSION);
	/* Neither salted nor bound: the policy, not a session key, is what
	 * authorises the EK, and nothing secret crosses the bus in the
	 * clear (the credential is encrypted to the EK). */
	p = store_be32(p, TPM2_RH_NULL);
	p = store_be32(p, TPM2_RH_NULL);
	p = store_be16(p, TPM2_NONCE_LEN);
	memcpy(p, nonce_caller, TPM2_NONCE_LEN);
	p = store_be16(p + TPM2_NONCE_LEN, 0); /* encryptedSalt */
	*p++ = TPM2_SE_POLICY;
	p = store_be16(p, TPM2_ALG_NULL);      /* no parameter encryption */
	store_be16(p, TPM2_ALG_SHA256);        /* the EK policy's hash */
	return START_SESSION_LEN;
}

size_t tpm2_build_policy_secret_endorsement(uint8_t *buf, size_t cap,
					    uint32_t policy_session)
{
	uint8_t *p;

	if (cap < POLICY_SECRET_LEN ||
	    policy_session >> 24 != TPM2_HT_POLICY_SESSION)
		return 0;
	p = put_header(buf, TPM2_ST_SESSIONS, POLICY_SECRET_LEN,
		       TPM2_CC_POLICY_SECRET);
	p = store_be32(p, TPM2_RH_ENDORSEMENT);
	p = store_be32(p, policy_session);
	p = put_pw_auth(p);
	/* nonceTPM, cpHashA, policyRef empty and expiration 0: the digest
	 * becomes the EK's authPolicy, and there is no ticket to keep. */
	p = store_be16(p, 0);
	p = store_be16(p, 0);
	p = store_be16(p, 0);
	store_be32(p, 0);
	return POLICY_SECRET_LEN;
}

/* One command session with an empty nonce and hmac (after
 * authorizationSize). */
static uint8_t *put_session(uint8_t *p, uint32_t handle)
{
	p = store_be32(p, handle);
	p = store_be16(p, 0); /* nonceCaller */
	/* continueSession clear: the password session has none, and the
	 * policy session is spent (its policy satisfied once). */
	*p++ = 0;
	return store_be16(p, 0); /* no PolicyAuthValue: no hmac */
}

size_t tpm2_build_activate_credential(uint8_t *buf, size_t cap,
				      uint32_t ak_handle, uint32_t ek_handle,
				      uint32_t policy_session,
				      const uint8_t *credential_blob,
				      size_t blob_len, const uint8_t *secret,
				      size_t secret_len)
{
	uint8_t *p;

	if (!credential_blob || blob_len == 0 || blob_len > TPM2_ID_OBJECT_MAX ||
	    !secret || secret_len == 0 || secret_len > TPM2_RSA2048_LEN ||
	    policy_session >> 24 != TPM2_HT_POLICY_SESSION ||
	    cap < ACTIVATE_LEN(blob_len, secret_len))
		return 0;
	p = put_header(buf, TPM2_ST_SESSIONS, ACTIVATE_LEN(blob_len, secret_len),
		       TPM2_CC_ACTIVATE_CREDENTIAL);
	p = store_be32(p, ak_handle);
	p = store_be32(p, ek_handle);
	/* The sessions in the order of the handles they authorise. */
	p = store_be32(p, 2 * SESSION_LEN);
	p = put_session(p, TPM2_RS_PW);
	p = put_session(p, policy_session);
	p = store_be16(p, (uint16_t)blob_len);
	memcpy(p, credential_blob, blob_len);
	p = store_be16(p + blob_len, (uint16_t)secret_len);
	memcpy(p, secret, secret_len);
	return ACTIVATE_LEN(blob_len, secret_len);
}

void tpm2_ek_name(const uint8_t sha256[TPM2_SHA256_LEN],
		  uint8_t name[TPM2_EK_NAME_LEN])
{
	memcpy(store_be16(name, TPM2_ALG_SHA256), sha256, TPM2_SHA256_LEN);
}

void tpm2_ak_name(const uint8_t sha384[TPM2_SHA384_LEN],
		  uint8_t name[TPM2_AK_NAME_LEN])
{
	memcpy(store_be16(name, TPM2_ALG_SHA384), sha384, TPM2_SHA384_LEN);
}

/* --- Response codes ----------------------------------------------------- */

static const struct {
	uint16_t rc;
	const char *name;
} rc_names[] = {
	{ 0x000, "SUCCESS" },		{ 0x01e, "BAD_TAG" },
	{ 0x100, "INITIALIZE" },	{ 0x101, "FAILURE" },
	{ 0x103, "SEQUENCE" },		{ 0x120, "DISABLED" },
	{ 0x124, "AUTH_TYPE" },		{ 0x125, "AUTH_MISSING" },
	{ 0x12f, "AUTH_UNAVAILABLE" },
	{ 0x127, "PCR" },		{ 0x130, "REBOOT" },
	{ 0x142, "COMMAND_SIZE" },	{ 0x143, "COMMAND_CODE" },
	{ 0x144, "AUTHSIZE" },		{ 0x153, "NEEDS_TEST" },
	{ 0x902, "OBJECT_MEMORY" },	{ 0x903, "SESSION_MEMORY" },
	{ 0x904, "MEMORY" },		{ 0x907, "LOCALITY" },
	{ 0x908, "YIELDED" },		{ 0x909, "CANCELED" },
	{ 0x90a, "TESTING" },		{ 0x910, "REFERENCE_H0" },
	{ 0x920, "NV_RATE" },		{ 0x921, "LOCKOUT" },
	{ 0x922, "RETRY" },		{ 0x923, "NV_UNAVAILABLE" },
	{ 0x146, "NV_RANGE" },		{ 0x148, "NV_LOCKED" },
	{ 0x149, "NV_AUTHORIZATION" },	{ 0x14a, "NV_UNINITIALIZED" },
	/* Format one (bit 7): matched without the parameter/handle/session
	 * number, which is told apart. */
	{ 0x082, "ATTRIBUTES" },	{ 0x083, "HASH" },
	{ 0x084, "VALUE" },		{ 0x08b, "HANDLE" },
	{ 0x08e, "AUTH_FAIL" },		{ 0x095, "SIZE" },
	{ 0x097, "TAG" },		{ 0x098, "SELECTOR" },
	{ 0x0a2, "BAD_AUTH" },		{ 0x09d, "POLICY_FAIL" },
	{ 0x09f, "INTEGRITY" },		{ 0x09b, "SIGNATURE" },
};

/* Which parameter, handle or session a format-one code blames. */
static const char *fmt1_where(uint32_t rc, uint32_t *n)
{
	*n = rc >> 8 & 0xf;
	if (rc & 0x40)
		return "parameter";
	if (*n & 8) {
		*n &= 7;
		return "session";
	}
	return *n ? "handle" : NULL;
}

/* The name of rc without its "TPM_RC_", or NULL. */
static const char *rc_lookup(uint32_t rc)
{
	uint32_t key = rc & 0x80 ? rc & 0xbf : rc;

	if (rc > 0xfff) /* above the codes a TPM returns: a TSS layer's */
		return NULL;
	for (size_t i = 0; i < sizeof(rc_names) / sizeof(rc_names[0]); i++)
		if (rc_names[i].rc == key)
			return rc_names[i].name;
	return NULL;
}

const char *tpm2_rc_name(uint32_t rc)
{
	static char line[64];
	const char *name = rc_lookup(rc), *where = NULL;
	uint32_t n = 0;

	if (name && rc & 0x80)
		where = fmt1_where(rc, &n);
	if (!name)
		snprintf(line, sizeof(line), "TPM response code 0x%03x", rc);
	else if (where)
		snprintf(line, sizeof(line), "TPM_RC_%s (0x%03x, %s %u)", name,
			 rc, where, n);
	else
		snprintf(line, sizeof(line), "TPM_RC_%s (0x%03x)", name, rc);
	return line;
}

/* --- Responses ---------------------------------------------------------- */

/* errmsg() with its -1 in sight of the compiler and the analyzer: outputs
 * are set only on success, and they must see that a caller never reads
 * them after a refusal. */
#define refuse(...) (errmsg(__VA_ARGS__), -1)

int tpm2_response_header(const uint8_t *rsp, size_t len, uint16_t session_tag,
			 uint32_t *rc, char *err, size_t err_len)
{
	uint16_t tag;
	uint32_t size, code;

	if (session_tag != TPM2_ST_NO_SESSIONS && session_tag != TPM2_ST_SESSIONS)
		return refuse(err, err_len, "no such command tag 0x%04x", session_tag);
	if (!rsp || len < TPM2_HEADER_LEN)
		return refuse(err, err_len,
			      "response of %zu bytes, shorter than its %u-byte header",
			      rsp ? len : 0, TPM2_HEADER_LEN);
	if (len > TPM2_BUFFER_MAX)
		return refuse(err, err_len, "response of %zu bytes, longer than %u",
			      len, TPM2_BUFFER_MAX);
	tag = load_be16(rsp);
	size = load_be32(rsp + 2);
	code = load_be32(rsp + 6);
	if (size != len)
		return refuse(err, err_len,
			      "response size field says %u bytes, %zu arrived",
			      size, len);
	if (code == TPM2_RC_SUCCESS && tag != session_tag)
		return refuse(err, err_len, "response tag 0x%04x, expected 0x%04x",
			      tag, session_tag);
	if (code != TPM2_RC_SUCCESS && tag != TPM2_ST_NO_SESSIONS &&
	    !(tag == TPM2_ST_RSP_1_2 && code == TPM2_RC_BAD_TAG))
		return refuse(err, err_len, "error response with tag 0x%04x (%s)",
			      tag, tpm2_rc_name(code));
	if (code != TPM2_RC_SUCCESS && len != TPM2_HEADER_LEN)
		return refuse(err, err_len,
			      "error response of %zu bytes, more than its header (%s)",
			      len, tpm2_rc_name(code));
	*rc = code;
	tpm2_clear_err(err, err_len);
	return 0;
}

/* Fixed-size fields of a response body (tcb/tpm2_body.h). */
static int take8(struct tpm2_body *b, const char *field, uint32_t *v)
{
	const uint8_t *at;

	if (tpm2_take(b, 1, field, &at) != 0)
		return -1;
	*v = at[0];
	return 0;
}

static int take16(struct tpm2_body *b, const char *field, uint32_t *v)
{
	const uint8_t *at;

	if (tpm2_take(b, 2, field, &at) != 0)
		return -1;
	*v = load_be16(at);
	return 0;
}

static int take32(struct tpm2_body *b, const char *field, uint32_t *v)
{
	const uint8_t *at;

	if (tpm2_take(b, 4, field, &at) != 0)
		return -1;
	*v = load_be32(at);
	return 0;
}

static int at_end(const struct tpm2_body *b)
{
	if (b->left)
		return refuse(b->err, b->err_len, "%s response has %zu trailing bytes",
			      b->cmd, b->left);
	tpm2_clear_err(b->err, b->err_len);
	return 0;
}

/* The header of a response to cmd; the body follows it in b. TPM2_RC_SUCCESS
 * is the only good code, and also ok_rc when that is not 0. */
static int open_body(struct tpm2_body *b, const uint8_t *rsp, size_t len,
		     uint16_t tag, uint32_t ok_rc, const char *cmd, char *err,
		     size_t err_len)
{
	uint32_t rc;

	if (tpm2_response_header(rsp, len, tag, &rc, err, err_len) != 0)
		return -1;
	if (rc != TPM2_RC_SUCCESS && rc != ok_rc)
		return refuse(err, err_len, "%s failed: %s", cmd, tpm2_rc_name(rc));
	*b = (struct tpm2_body){ rsp + TPM2_HEADER_LEN, len - TPM2_HEADER_LEN, cmd,
			    err, err_len };
	return 0;
}

int tpm2_parse_startup(const uint8_t *rsp, size_t len, char *err, size_t err_len)
{
	struct tpm2_body b;

	if (open_body(&b, rsp, len, TPM2_ST_NO_SESSIONS, TPM2_RC_INITIALIZE,
		      "Startup", err, err_len) != 0)
		return -1;
	return at_end(&b);
}

int tpm2_parse_get_random(const uint8_t *rsp, size_t len, uint8_t *out,
			  size_t want, size_t *got, char *err, size_t err_len)
{
	struct tpm2_body b;
	const uint8_t *bytes;
	uint32_t size;

	if (open_body(&b, rsp, len, TPM2_ST_NO_SESSIONS, TPM2_RC_SUCCESS,
		      "GetRandom", err, err_len) != 0 ||
	    take16(&b, "randomBytes.size", &size) != 0)
		return -1;
	if (size == 0 || size > want)
		return refuse(err, err_len,
			      "GetRandom returned %u bytes, asked for %zu",
			      size, want);
	if (tpm2_take(&b, size, "randomBytes", &bytes) != 0 || at_end(&b) != 0)
		return -1;
	memcpy(out, bytes, size);
	*got = size;
	return 0;
}

/* The PCRs a pcrSelect of n (1..4) bytes selects, bit i for PCR i. */
static uint32_t select_bitmap(const uint8_t *sel, uint32_t n)
{
	uint32_t map = 0;

	for (uint32_t i = 0; i < n; i++)
		map |= (uint32_t)sel[i] << (8 * i);
	return map;
}

/* One TPMS_PCR_SELECTION: its hash and the bitmap of PCRs 0..31. */
static int take_selection(struct tpm2_body *b, uint32_t *hash, uint32_t *map)
{
	const uint8_t *sel;
	uint32_t n;

	if (take16(b, "pcrSelections.hash", hash) != 0 ||
	    take8(b, "pcrSelections.sizeofSelect", &n) != 0)
		return -1;
	if (n == 0 || n > TPM2_SELECT_MAX)
		return refuse(b->err, b->err_len,
			      "%s response: a PCR selection of %u bytes (must be 1..%u)",
			      b->cmd, n, TPM2_SELECT_MAX);
	if (tpm2_take(b, n, "pcrSelections.pcrSelect", &sel) != 0)
		return -1;
	*map = select_bitmap(sel, n);
	return 0;
}

/* Every bank of a TPML_PCR_SELECTION; the SHA-384 one's bitmap (if any)
 * into *sha384_pcrs. */
static int take_banks(struct tpm2_body *b, uint32_t *sha384_pcrs)
{
	uint32_t count, hash, map;
	bool seen = false;

	if (take32(b, "pcrSelections.count", &count) != 0)
		return -1;
	if (count > TPM2_HASH_COUNT)
		return refuse(b->err, b->err_len,
			      "GetCapability response: %u PCR banks (at most %u)",
			      count, TPM2_HASH_COUNT);
	for (uint32_t i = 0; i < count; i++) {
		if (take_selection(b, &hash, &map) != 0)
			return -1;
		if (hash != TPM2_ALG_SHA384)
			continue;
		if (seen)
			return refuse(b->err, b->err_len,
				      "GetCapability response: the SHA-384 bank twice");
		seen = true;
		/* PCRs 24..31 do not exist on a PC Client TPM. */
		*sha384_pcrs = map & ((1u << TPM2_PCR_COUNT) - 1);
	}
	return 0;
}

int tpm2_parse_get_pcr_banks(const uint8_t *rsp, size_t len,
			     uint32_t *sha384_pcrs, char *err, size_t err_len)
{
	struct tpm2_body b;
	uint32_t more, cap, map = 0; /* no SHA-384 bank: no PCRs */

	if (open_body(&b, rsp, len, TPM2_ST_NO_SESSIONS, TPM2_RC_SUCCESS,
		      "GetCapability", err, err_len) != 0 ||
	    take8(&b, "moreData", &more) != 0 ||
	    take32(&b, "capability", &cap) != 0)
		return -1;
	/* Part 3: TPM_CAP_PCRS always answers with the whole allocation. */
	if (more != 0)
		return refuse(err, err_len,
			      "GetCapability response: moreData %u (TPM_CAP_PCRS has no more)",
			      more);
	if (cap != TPM2_CAP_PCRS)
		return refuse(err, err_len,
			      "GetCapability response: capability %u, asked for %u",
			      cap, TPM2_CAP_PCRS);
	if (take_banks(&b, &map) != 0 || at_end(&b) != 0)
		return -1;
	*sha384_pcrs = map;
	return 0;
}

/* A TPM2B that must be empty (the password session's nonce and hmac). */
static int take_empty(struct tpm2_body *b, const char *field)
{
	uint32_t size;

	if (take16(b, field, &size) != 0)
		return -1;
	if (size)
		return refuse(b->err, b->err_len,
			      "%s response: %s of %u bytes (the password session's is empty)",
			      b->cmd, field, size);
	return 0;
}

/* A password session's auth area in a response. */
static int take_pw_session(struct tpm2_body *b)
{
	uint32_t attrs;

	if (take_empty(b, "nonceTPM") != 0 ||
	    take8(b, "sessionAttributes", &attrs) != 0)
		return -1;
	/* A password session answers with continueSession set (swtpm does)
	 * or, as we sent it, clear; it has no other attribute to report. */
	if (attrs & ~TPM2_CONTINUE_SESSION)
		return refuse(b->err, b->err_len,
			      "%s response: session attributes 0x%02x (a password session's are 0x00 or 0x01)",
			      b->cmd, attrs);
	return take_empty(b, "hmac");
}

/* The one auth area of a password session's response, to the end. */
static int take_pw_auth(struct tpm2_body *b)
{
	return take_pw_session(b) != 0 ? -1 : at_end(b);
}

int tpm2_parse_pcr_extend(const uint8_t *rsp, size_t len, char *err, size_t err_len)
{
	struct tpm2_body b;
	uint32_t params;

	if (open_body(&b, rsp, len, TPM2_ST_SESSIONS, TPM2_RC_SUCCESS,
		      "PCR_Extend", err, err_len) != 0 ||
	    take32(&b, "parameterSize", &params) != 0)
		return -1;
	if (params)
		return refuse(err, err_len,
			      "PCR_Extend response: %u parameter bytes (it has none)",
			      params);
	return take_pw_auth(&b);
}

/* The selection a PCR_Read response echoes: exactly the one asked for. */
static int check_read_selection(struct tpm2_body *b, uint32_t pcr)
{
	uint32_t count, hash, map;

	if (take32(b, "pcrSelectionOut.count", &count) != 0)
		return -1;
	if (count == 0)
		return refuse(b->err, b->err_len,
			      "PCR_Read: PCR %u is not allocated in the SHA-384 bank",
			      pcr);
	if (count != 1)
		return refuse(b->err, b->err_len,
			      "PCR_Read response: %u selections, asked for one", count);
	if (take_selection(b, &hash, &map) != 0)
		return -1;
	if (hash != TPM2_ALG_SHA384)
		return refuse(b->err, b->err_len,
			      "PCR_Read response: bank 0x%04x, asked for SHA-384",
			      hash);
	if (map == 0)
		return refuse(b->err, b->err_len,
			      "PCR_Read: PCR %u is not allocated in the SHA-384 bank",
			      pcr);
	if (map != 1u << pcr)
		return refuse(b->err, b->err_len,
			      "PCR_Read response: PCRs 0x%06x, asked for PCR %u",
			      map, pcr);
	return 0;
}

int tpm2_parse_pcr_read_sha384(const uint8_t *rsp, size_t len, uint32_t pcr,
			       uint8_t out[TPM2_SHA384_LEN], char *err, size_t err_len)
{
	struct tpm2_body b;
	const uint8_t *value;
	uint32_t counter, count, size;

	if (pcr >= TPM2_PCR_COUNT)
		return refuse(err, err_len, "PCR %u does not exist", pcr);
	if (open_body(&b, rsp, len, TPM2_ST_NO_SESSIONS, TPM2_RC_SUCCESS,
		      "PCR_Read", err, err_len) != 0 ||
	    take32(&b, "pcrUpdateCounter", &counter) != 0 ||
	    check_read_selection(&b, pcr) != 0 ||
	    take32(&b, "pcrValues.count", &count) != 0)
		return -1;
	if (count != 1)
		return refuse(err, err_len,
			      "PCR_Read response: %u digests, asked for one", count);
	if (take16(&b, "pcrValues.digests.size", &size) != 0)
		return -1;
	if (size != TPM2_SHA384_LEN)
		return refuse(err, err_len,
			      "PCR_Read response: a digest of %u bytes, SHA-384's is %u",
			      size, TPM2_SHA384_LEN);
	if (tpm2_take(&b, size, "pcrValues.digests.buffer", &value) != 0 ||
	    at_end(&b) != 0)
		return -1;
	memcpy(out, value, TPM2_SHA384_LEN);
	return 0;
}

/* --- The attestation key and its quotes --------------------------------- */

/* The next n bytes of b as a body of their own, for a structure whose size
 * a field gives: it must then use them up exactly (sub_end). */
static int take_sub(struct tpm2_body *b, size_t n, const char *field,
		    struct tpm2_body *sub)
{
	const uint8_t *at;

	if (tpm2_take(b, n, field, &at) != 0)
		return -1;
	*sub = (struct tpm2_body){ at, n, b->cmd, b->err, b->err_len };
	return 0;
}

static int sub_end(const struct tpm2_body *sub, const char *field)
{
	if (sub->left)
		return refuse(sub->err, sub->err_len,
			      "%s response: %zu bytes left over in %s",
			      sub->cmd, sub->left, field);
	return 0;
}

/* The parameter area, which parameterSize must measure exactly. */
static int take_params(struct tpm2_body *b, struct tpm2_body *params)
{
	uint32_t size;

	return take32(b, "parameterSize", &size) != 0 ||
	       take_sub(b, size, "parameters", params) != 0 ? -1 : 0;
}

/* A TPM2B whose contents are skipped (bounded by the bytes left). */
static int skip_sized(struct tpm2_body *b, const char *field)
{
	const uint8_t *at;
	uint32_t size;

	return take16(b, field, &size) != 0 ||
	       tpm2_take(b, size, field, &at) != 0 ? -1 : 0;
}

/* A 2- or 4-byte field that must hold what the command asked for. */
static int expect_field(struct tpm2_body *b, const char *field, uint8_t size,
			uint32_t want)
{
	uint32_t v;

	if ((size == 4 ? take32(b, field, &v) : take16(b, field, &v)) != 0)
		return -1;
	if (v != want)
		return refuse(b->err, b->err_len,
			      "%s response: %s 0x%0*x, expected 0x%0*x", b->cmd,
			      field, 2 * size, v, 2 * size, want);
	return 0;
}

/* A template's fields, each as the command asked. */
static int expect_template(struct tpm2_body *b, const struct tmpl_field *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (expect_field(b, t[i].name, t[i].size, t[i].value) != 0)
			return -1;
	return 0;
}

/* A TPM2B_ECC_PARAMETER of P-384 (a coordinate, r or s): 1..48 bytes (a
 * TPM may drop leading zeros), left where it is until the whole response
 * is accepted. */
struct p384_int {
	const uint8_t *p;
	uint32_t len;
};

static int take_p384_int(struct tpm2_body *b, const char *field, struct p384_int *v)
{
	if (take16(b, field, &v->len) != 0)
		return -1;
	if (v->len == 0 || v->len > TPM2_P384_LEN)
		return refuse(b->err, b->err_len,
			      "%s response: %s of %u bytes (P-384's are 1..%u)",
			      b->cmd, field, v->len, TPM2_P384_LEN);
	return tpm2_take(b, v->len, field, &v->p);
}

static void put_p384_int(uint8_t out[TPM2_P384_LEN], const struct p384_int *v)
{
	memset(out, 0, TPM2_P384_LEN - v->len);
	memcpy(out + TPM2_P384_LEN - v->len, v->p, v->len);
}

/* outPublic: a TPMT_PUBLIC of exactly the AK's template, its point. */
static int take_ak_public(struct tpm2_body *b, struct tpm2_body *area,
			  struct p384_int *x, struct p384_int *y)
{
	struct tpm2_body pub;
	uint32_t size;

	if (take16(b, "outPublic.size", &size) != 0 ||
	    take_sub(b, size, "outPublic", &pub) != 0)
		return -1;
	*area = pub;
	if (expect_template(&pub, ak_template, AK_FIELDS) != 0 ||
	    take_p384_int(&pub, "unique.x", x) != 0 ||
	    take_p384_int(&pub, "unique.y", y) != 0)
		return -1;
	return sub_end(&pub, "outPublic");
}

/* creationData, creationHash, creationTicket, name: not ours to check
 * (nothing here relies on them), only to step over. */
static int skip_creation(struct tpm2_body *b)
{
	uint32_t tag, hierarchy;

	return skip_sized(b, "creationData") != 0 ||
	       skip_sized(b, "creationHash") != 0 ||
	       take16(b, "creationTicket.tag", &tag) != 0 ||
	       take32(b, "creationTicket.hierarchy", &hierarchy) != 0 ||
	       skip_sized(b, "creationTicket.digest") != 0 ||
	       skip_sized(b, "name") != 0 ? -1 : 0;
}

int tpm2_parse_create_ak(const uint8_t *rsp, size_t len, struct tpm2_ak *ak,
			 char *err, size_t err_len)
{
	struct tpm2_body b, params, area;
	struct p384_int x, y;
	uint32_t handle;

	if (open_body(&b, rsp, len, TPM2_ST_SESSIONS, TPM2_RC_SUCCESS,
		      "CreatePrimary", err, err_len) != 0 ||
	    take32(&b, "objectHandle", &handle) != 0)
		return -1;
	if (handle >> 24 != TPM2_HT_TRANSIENT)
		return refuse(err, err_len,
			      "CreatePrimary response: handle 0x%08x is not a transient object's",
			      handle);
	if (take_params(&b, &params) != 0 ||
	    take_ak_public(&params, &area, &x, &y) != 0 ||
	    skip_creation(&params) != 0 || sub_end(&params, "parameters") != 0 ||
	    take_pw_auth(&b) != 0)
		return -1;
	ak->handle = handle;
	ak->pub[0] = 0x04; /* SEC 1: an uncompressed point */
	put_p384_int(ak->pub + 1, &x);
	put_p384_int(ak->pub + 1 + TPM2_P384_LEN, &y);
	memcpy(ak->public_area, area.p, area.left);
	ak->public_len = area.left;
	return 0;
}

/* quoted: a TPM2B_ATTEST of 1..TPM2_ATTEST_MAX bytes, left uninterpreted. */
static int take_attest(struct tpm2_body *b, const uint8_t **attest, uint32_t *len)
{
	if (take16(b, "quoted.size", len) != 0)
		return -1;
	if (*len == 0 || *len > TPM2_ATTEST_MAX)
		return refuse(b->err, b->err_len,
			      "%s response: quoted of %u bytes (1..%u)", b->cmd,
			      *len, TPM2_ATTEST_MAX);
	return tpm2_take(b, *len, "quoted", attest);
}

int tpm2_parse_quote(const uint8_t *rsp, size_t len, struct tpm2_quote *q,
		     char *err, size_t err_len)
{
	struct tpm2_body b, params;
	struct p384_int r, s;
	const uint8_t *attest;
	uint32_t attest_len;

	if (open_body(&b, rsp, len, TPM2_ST_SESSIONS, TPM2_RC_SUCCESS,
		      "Quote", err, err_len) != 0 ||
	    take_params(&b, &params) != 0 ||
	    take_attest(&params, &attest, &attest_len) != 0 ||
	    expect_field(&params, "signature.sigAlg", 2, TPM2_ALG_ECDSA) != 0 ||
	    expect_field(&params, "signature.hash", 2, TPM2_ALG_SHA384) != 0 ||
	    take_p384_int(&params, "signature.r", &r) != 0 ||
	    take_p384_int(&params, "signature.s", &s) != 0 ||
	    sub_end(&params, "parameters") != 0 || take_pw_auth(&b) != 0)
		return -1;
	memcpy(q->attest, attest, attest_len);
	q->attest_len = attest_len;
	put_p384_int(q->sig, &r);
	put_p384_int(q->sig + TPM2_P384_LEN, &s);
	return 0;
}

int tpm2_parse_flush_context(const uint8_t *rsp, size_t len, char *err,
			     size_t err_len)
{
	struct tpm2_body b;

	if (open_body(&b, rsp, len, TPM2_ST_NO_SESSIONS, TPM2_RC_SUCCESS,
		      "FlushContext", err, err_len) != 0)
		return -1;
	return at_end(&b);
}

int tpm2_parse_get_property(const uint8_t *rsp, size_t len, uint32_t property,
			    uint32_t *value, char *err, size_t err_len)
{
	struct tpm2_body b;
	uint32_t more, v;

	if (open_body(&b, rsp, len, TPM2_ST_NO_SESSIONS, TPM2_RC_SUCCESS,
		      "GetCapability", err, err_len) != 0 ||
	    take8(&b, "moreData", &more) != 0)
		return -1;
	/* Set when the TPM has properties after the one asked for. */
	if (more > 1)
		return refuse(err, err_len,
			      "GetCapability response: moreData %u (a TPMI_YES_NO)",
			      more);
	/* A TPM without the property answers with the next one it has. */
	if (expect_field(&b, "capability", 4, TPM2_CAP_TPM_PROPERTIES) != 0 ||
	    expect_field(&b, "tpmProperties.count", 4, 1) != 0 ||
	    expect_field(&b, "tpmProperties.property", 4, property) != 0 ||
	    take32(&b, "tpmProperties.value", &v) != 0 || at_end(&b) != 0)
		return -1;
	*value = v;
	return 0;
}

/* --- Credential activation ---------------------------------------------- */

/* The digest size of a name algorithm, 0 for one this file does not know. */
static uint32_t digest_len(uint32_t alg)
{
	switch (alg) {
	case 0x0004: /* SHA-1 */
		return 20;
	case TPM2_ALG_SHA256:
		return TPM2_SHA256_LEN;
	case TPM2_ALG_SHA384:
		return TPM2_SHA384_LEN;
	case 0x000d: /* SHA-512 */
		return 64;
	}
	return 0;
}

/* nvPublic: the index asked for, its attributes and dataSize. */
static int take_nv_public(struct tpm2_body *b, uint32_t nv_index, uint32_t *alg,
			  uint32_t *attrs, uint32_t *data_size)
{
	struct tpm2_body pub;
	uint32_t size, policy;
	const uint8_t *at;

	if (take16(b, "nvPublic.size", &size) != 0 ||
	    take_sub(b, size, "nvPublic", &pub) != 0 ||
	    expect_field(&pub, "nvIndex", 4, nv_index) != 0 ||
	    take16(&pub, "nameAlg", alg) != 0)
		return -1;
	if (digest_len(*alg) == 0)
		return refuse(b->err, b->err_len,
			      "NV_ReadPublic response: nameAlg 0x%04x is not a hash known here",
			      *alg);
	if (take32(&pub, "attributes", attrs) != 0 ||
	    take16(&pub, "authPolicy.size", &policy) != 0)
		return -1;
	if (policy != 0 && policy != digest_len(*alg))
		return refuse(b->err, b->err_len,
			      "NV_ReadPublic response: authPolicy of %u bytes (0 or %u)",
			      policy, digest_len(*alg));
	if (tpm2_take(&pub, policy, "authPolicy", &at) != 0 ||
	    take16(&pub, "dataSize", data_size) != 0)
		return -1;
	return sub_end(&pub, "nvPublic");
}

int tpm2_parse_nv_read_public(const uint8_t *rsp, size_t len,
			      uint32_t nv_index, uint16_t *data_size,
			      uint32_t *attributes, char *err, size_t err_len)
{
	struct tpm2_body b, name;
	uint32_t alg, attrs, size, name_len;

	if (open_body(&b, rsp, len, TPM2_ST_NO_SESSIONS, TPM2_RC_SUCCESS,
		      "NV_ReadPublic", err, err_len) != 0 ||
	    take_nv_public(&b, nv_index, &alg, &attrs, &size) != 0 ||
	    take16(&b, "nvName.size", &name_len) != 0)
		return -1;
	if (name_len != 2 + digest_len(alg))
		return refuse(err, err_len,
			      "NV_ReadPublic response: nvName of %u bytes, nameAlg's is %u",
			      name_len, 2 + digest_len(alg));
	/* The name itself (a digest of nvPublic) is the caller's to check. */
	if (take_sub(&b, name_len, "nvName", &name) != 0 ||
	    expect_field(&name, "nvName.hashAlg", 2, alg) != 0 ||
	    at_end(&b) != 0)
		return -1;
	*data_size = (uint16_t)size;
	*attributes = attrs;
	return 0;
}

int tpm2_parse_nv_read(const uint8_t *rsp, size_t len, uint8_t *out,
		       size_t want, char *err, size_t err_len)
{
	struct tpm2_body b, params;
	const uint8_t *data;
	uint32_t size;

	if (want == 0 || want > TPM2_NV_READ_MAX)
		return refuse(err, err_len, "NV_Read of %zu bytes (1..%u)", want,
			      TPM2_NV_READ_MAX);
	if (open_body(&b, rsp, len, TPM2_ST_SESSIONS, TPM2_RC_SUCCESS,
		      "NV_Read", err, err_len) != 0 ||
	    take_params(&b, &params) != 0 ||
	    take16(&params, "data.size", &size) != 0)
		return -1;
	/* Part 3: NV_Read returns the size asked or fails. */
	if (size != want)
		return refuse(err, err_len,
			      "NV_Read returned %u bytes, asked for %zu", size, want);
	if (tpm2_take(&params, size, "data", &data) != 0 ||
	    sub_end(&params, "parameters") != 0 || take_pw_auth(&b) != 0)
		return -1;
	memcpy(out, data, size);
	return 0;
}

/* outPublic: a TPMT_PUBLIC of exactly template L-1, its modulus. */
static int take_ek_public(struct tpm2_body *b, struct tpm2_body *area,
			  const uint8_t **modulus)
{
	struct tpm2_body pub;
	const uint8_t *policy;
	uint32_t size;

	if (take16(b, "outPublic.size", &size) != 0 ||
	    take_sub(b, size, "outPublic", &pub) != 0)
		return -1;
	*area = pub;
	if (expect_template(&pub, ek_head, FIELDS(ek_head)) != 0 ||
	    tpm2_take(&pub, sizeof(ek_policy), "authPolicy", &policy) != 0)
		return -1;
	/* Another policy would let something other than the endorsement
	 * hierarchy's owner use the key. */
	if (memcmp(policy, ek_policy, sizeof(ek_policy)) != 0)
		return refuse(b->err, b->err_len,
			      "CreatePrimary response: authPolicy is not the EK profile's");
	if (expect_template(&pub, ek_tail, FIELDS(ek_tail)) != 0 ||
	    tpm2_take(&pub, TPM2_RSA2048_LEN, "unique.rsa", modulus) != 0)
		return -1;
	if (!((*modulus)[0] & 0x80))
		return refuse(b->err, b->err_len,
			      "CreatePrimary response: a modulus of fewer than 2048 bits");
	return sub_end(&pub, "outPublic");
}

int tpm2_parse_create_ek(const uint8_t *rsp, size_t len, struct tpm2_ek *ek,
			 char *err, size_t err_len)
{
	struct tpm2_body b, params, area;
	const uint8_t *modulus;
	uint32_t handle;

	if (open_body(&b, rsp, len, TPM2_ST_SESSIONS, TPM2_RC_SUCCESS,
		      "CreatePrimary", err, err_len) != 0 ||
	    take32(&b, "objectHandle", &handle) != 0)
		return -1;
	if (handle >> 24 != TPM2_HT_TRANSIENT)
		return refuse(err, err_len,
			      "CreatePrimary response: handle 0x%08x is not a transient object's",
			      handle);
	if (take_params(&b, &params) != 0 ||
	    take_ek_public(&params, &area, &modulus) != 0 ||
	    skip_creation(&params) != 0 || sub_end(&params, "parameters") != 0 ||
	    take_pw_auth(&b) != 0)
		return -1;
	ek->handle = handle;
	memcpy(ek->modulus, modulus, TPM2_RSA2048_LEN);
	memcpy(ek->public_area, area.p, TPM2_EK_PUBLIC_LEN); /* its exact size */
	return 0;
}

/* A nonceTPM of our sessions' size. */
static int take_nonce(struct tpm2_body *b, const uint8_t **nonce)
{
	uint32_t size;

	if (take16(b, "nonceTPM.size", &size) != 0)
		return -1;
	if (size != TPM2_NONCE_LEN)
		return refuse(b->err, b->err_len,
			      "%s response: nonceTPM of %u bytes, nonceCaller's are %u",
			      b->cmd, size, TPM2_NONCE_LEN);
	return tpm2_take(b, size, "nonceTPM", nonce);
}

int tpm2_parse_start_policy_session(const uint8_t *rsp, size_t len,
				    struct tpm2_policy_session *s, char *err,
				    size_t err_len)
{
	struct tpm2_body b;
	const uint8_t *nonce;
	uint32_t handle;

	if (open_body(&b, rsp, len, TPM2_ST_NO_SESSIONS, TPM2_RC_SUCCESS,
		      "StartAuthSession", err, err_len) != 0 ||
	    take32(&b, "sessionHandle", &handle) != 0)
		return -1;
	if (handle >> 24 != TPM2_HT_POLICY_SESSION)
		return refuse(err, err_len,
			      "StartAuthSession response: handle 0x%08x is not a policy session's",
			      handle);
	if (take_nonce(&b, &nonce) != 0 || at_end(&b) != 0)
		return -1;
	s->handle = handle;
	memcpy(s->nonce_tpm, nonce, TPM2_NONCE_LEN);
	return 0;
}

/* A TPM2B of at most max bytes, skipped. */
static int skip_bounded(struct tpm2_body *b, const char *field, uint32_t max)
{
	const uint8_t *at;
	uint32_t size;

	if (take16(b, field, &size) != 0)
		return -1;
	if (size > max)
		return refuse(b->err, b->err_len, "%s response: %s of %u bytes (0..%u)",
			      b->cmd, field, size, max);
	return tpm2_take(b, size, field, &at);
}

int tpm2_parse_policy_secret(const uint8_t *rsp, size_t len, char *err,
			     size_t err_len)
{
	struct tpm2_body b, params;
	uint32_t hierarchy;

	/* With expiration 0 the timeout is empty and the ticket a NULL one;
	 * neither is used, so they are only bounded. */
	if (open_body(&b, rsp, len, TPM2_ST_SESSIONS, TPM2_RC_SUCCESS,
		      "PolicySecret", err, err_len) != 0 ||
	    take_params(&b, &params) != 0 ||
	    skip_bounded(&params, "timeout", TPM2_TIMEOUT_MAX) != 0 ||
	    expect_field(&params, "policyTicket.tag", 2, TPM2_ST_AUTH_SECRET) != 0 ||
	    take32(&params, "policyTicket.hierarchy", &hierarchy) != 0 ||
	    skip_bounded(&params, "policyTicket.digest", TPM2_DIGEST_MAX) != 0 ||
	    sub_end(&params, "parameters") != 0)
		return -1;
	return take_pw_auth(&b);
}

/* The policy session's auth area, closed by the command. */
static int take_policy_session(struct tpm2_body *b)
{
	const uint8_t *nonce;
	uint32_t attrs, size;

	if (take_nonce(b, &nonce) != 0 ||
	    take8(b, "sessionAttributes", &attrs) != 0)
		return -1;
	if (attrs)
		return refuse(b->err, b->err_len,
			      "%s response: policy session attributes 0x%02x (sent 0x00)",
			      b->cmd, attrs);
	if (take16(b, "hmac", &size) != 0)
		return -1;
	/* No PolicyAuthValue or PolicyPassword: the TPM computes no HMAC. */
	if (size)
		return refuse(b->err, b->err_len,
			      "%s response: policy session hmac of %u bytes (the policy needs none)",
			      b->cmd, size);
	return 0;
}

int tpm2_parse_activate_credential(const uint8_t *rsp, size_t len,
				   uint8_t cert_info[TPM2_DIGEST_MAX],
				   size_t *cert_info_len, char *err,
				   size_t err_len)
{
	struct tpm2_body b, params;
	const uint8_t *info;
	uint32_t size;

	if (open_body(&b, rsp, len, TPM2_ST_SESSIONS, TPM2_RC_SUCCESS,
		      "ActivateCredential", err, err_len) != 0 ||
	    take_params(&b, &params) != 0 ||
	    take16(&params, "certInfo.size", &size) != 0)
		return -1;
	if (size == 0 || size > TPM2_DIGEST_MAX)
		return refuse(err, err_len,
			      "ActivateCredential response: certInfo of %u bytes (1..%u)",
			      size, TPM2_DIGEST_MAX);
	/* The auth areas in the order of the command's sessions; the
	 * command had two, so exactly two answer. */
	if (tpm2_take(&params, size, "certInfo", &info) != 0 ||
	    sub_end(&params, "parameters") != 0 || take_pw_session(&b) != 0 ||
	    take_policy_session(&b) != 0 || at_end(&b) != 0)
		return -1;
	memcpy(cert_info, info, size);
	*cert_info_len = size;
	return 0;
}
