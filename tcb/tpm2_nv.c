/*
 * The PCR-bound NV index (tcb/tpm2_nv.h): its public area and Name, the
 * PolicyPCR digest, and the commands that define, read and write it.
 *
 * The public area is marshalled in one place (put_nv_public) for the
 * Name, NV_DefineSpace and the check of NV_ReadPublic's nvName, and the
 * PCR selection in one place (put_pcr_selection) for the policy digest
 * and PolicyPCR, so that what the TPM is sent and what is hashed cannot
 * drift apart. Responses are read through tcb/tpm2_body.h's cursor.
 */
#include "tcb/byteorder.h"
#include "tcb/tpm2_body.h"
#include "tcb/tpm2_nv.h"
#include "tcb/errmsg.h"
#include "crypto/crypto.h"

#include <string.h>

#define TPM2_HT_NV_INDEX       0x01
#define TPM2_HT_POLICY_SESSION 0x03
#define HASH_LEN               TPM2_SHA384_LEN
#define SELECT_LEN             3  /* PCRs 0..23: three bytes of bitmap */
#define ALL_PCRS               ((1u << TPM2_PCR_COUNT) - 1)

/* errmsg() returns -1; the compiler and the analyzer must see it. */
#define refuse(...) (errmsg(__VA_ARGS__), -1)

/* TPMS_NV_PUBLIC: nvIndex, nameAlg, attributes, authPolicy, dataSize */
#define NV_PUBLIC_LEN   (4 + 2 + 4 + 2 + HASH_LEN + 2)
/* TPML_PCR_SELECTION with one TPMS_PCR_SELECTION */
#define SELECTION_LEN   (4 + 2 + 1 + SELECT_LEN)
#define PW_AUTH_LEN     9  /* TPM_RS_PW, empty nonce, attributes, empty hmac */
/* authHandle, auth area, auth (empty TPM2B_AUTH), publicInfo */
#define DEFINE_LEN      (TPM2_HEADER_LEN + 4 + 4 + PW_AUTH_LEN + 2 + 2 + NV_PUBLIC_LEN)
/* policySession, pcrDigest, pcrs */
#define POLICY_PCR_LEN  (TPM2_HEADER_LEN + 4 + 2 + HASH_LEN + SELECTION_LEN)

static uint8_t *put_header(uint8_t *buf, uint16_t tag, size_t len, uint32_t cc)
{
	return store_be32(store_be32(store_be16(buf, tag), (uint32_t)len), cc);
}

static uint8_t *put_nv_public(uint8_t *p, const struct tpm2_nv_public *pub)
{
	p = store_be32(p, pub->index);
	p = store_be16(p, TPM2_ALG_SHA384);
	p = store_be32(p, pub->attributes);
	p = store_be16(p, HASH_LEN);
	memcpy(p, pub->policy, HASH_LEN);
	return store_be16(p + HASH_LEN, pub->size);
}

/* One SHA-384 selection of the PCRs in mask: PCR i is bit i % 8 of byte
 * i / 8 of the bitmap. */
static uint8_t *put_pcr_selection(uint8_t *p, uint32_t mask)
{
	p = store_be32(p, 1);
	p = store_be16(p, TPM2_ALG_SHA384);
	*p++ = SELECT_LEN;
	for (unsigned i = 0; i < SELECT_LEN; i++)
		*p++ = (uint8_t)(mask >> (8 * i));
	return p;
}

/* authorizationSize and the password session with the empty password. */
static uint8_t *put_pw_auth(uint8_t *p)
{
	p = store_be32(p, PW_AUTH_LEN);
	p = store_be32(p, TPM2_RS_PW);
	p = store_be16(p, 0); /* nonceCaller */
	*p++ = 0;             /* sessionAttributes */
	return store_be16(p, 0); /* hmac: the empty password */
}

static size_t count_bits(uint32_t v)
{
	size_t n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

static bool pcr_mask_ok(uint32_t mask)
{
	return mask != 0 && (mask & ~ALL_PCRS) == 0;
}

static bool is_nv_index(uint32_t handle)
{
	return handle >> 24 == TPM2_HT_NV_INDEX;
}

/* --- Response codes ------------------------------------------------------------ */

/* A format-one code without the handle, parameter or session it blames. */
static uint32_t fmt1_code(uint32_t rc)
{
	return rc & 0xbf;
}

bool tpm2_rc_is_nv_undefined(uint32_t rc)
{
	/* Bit 7: format one; bit 6 clear and bit 11 clear: a handle, 1 or 2. */
	uint32_t n = rc >> 8 & 0xf;

	return rc <= 0xfff && (rc & 0xc0) == 0x80 &&
	       fmt1_code(rc) == TPM2_RC_HANDLE && (n == 1 || n == 2);
}

bool tpm2_rc_is_policy_mismatch(uint32_t rc)
{
	/* TPM_RC_VALUE + TPM_RC_P + TPM_RC_1; TPM_RC_POLICY_FAIL + TPM_RC_S + TPM_RC_1 */
	return rc == (TPM2_RC_VALUE | 0x040 | 0x100) ||
	       rc == (TPM2_RC_POLICY_FAIL | 0x800 | 0x100);
}

/* The header's response code, or TPM2_RC_MALFORMED (no message: the
 * parser that reads the response says what is wrong with it). */
static uint32_t header_rc(const uint8_t *rsp, size_t len, uint16_t tag)
{
	uint32_t rc;

	if (tpm2_response_header(rsp, len, tag, &rc, NULL, 0) != 0)
		return TPM2_RC_MALFORMED;
	return rc;
}

/* --- The public area, its Name, its policy --------------------------------------- */

void tpm2_nv_name(const struct tpm2_nv_public *pub, uint8_t name[TPM2_NV_NAME_LEN])
{
	uint8_t area[NV_PUBLIC_LEN];

	put_nv_public(area, pub);
	store_be16(name, TPM2_ALG_SHA384);
	crypto_sha384(area, sizeof(area), name + 2);
}

int tpm2_policy_pcr_digest(uint32_t pcr_mask, const uint8_t (*values)[TPM2_SHA384_LEN],
			   size_t count, uint8_t pcr_digest[TPM2_SHA384_LEN],
			   uint8_t policy[TPM2_SHA384_LEN])
{
	static const uint8_t zeros[HASH_LEN];
	uint8_t cc[4], selection[SELECTION_LEN], digest[HASH_LEN];
	struct crypto_sha384_ctx c;

	if (!pcr_mask_ok(pcr_mask) || count != count_bits(pcr_mask))
		return -1;
	/* The values as the TPM concatenates them: in the selection's order,
	 * which is ascending PCR number. */
	crypto_sha384_init(&c);
	for (size_t i = 0; i < count; i++)
		crypto_sha384_update(&c, values[i], HASH_LEN);
	crypto_sha384_final(&c, digest);
	/* policyDigest' = H(policyDigest (zeros: a fresh session) ||
	 * TPM_CC_PolicyPCR || pcrs || pcrDigest) */
	store_be32(cc, TPM2_CC_POLICY_PCR);
	put_pcr_selection(selection, pcr_mask);
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, zeros, sizeof(zeros));
	crypto_sha384_update(&c, cc, sizeof(cc));
	crypto_sha384_update(&c, selection, sizeof(selection));
	crypto_sha384_update(&c, digest, sizeof(digest));
	crypto_sha384_final(&c, policy);
	memcpy(pcr_digest, digest, HASH_LEN);
	return 0;
}

/* --- NV_DefineSpace, NV_ReadPublic ------------------------------------------------------ */

size_t tpm2_build_nv_define_space(uint8_t *buf, size_t cap,
				  const struct tpm2_nv_public *pub)
{
	uint8_t *p;

	if (cap < DEFINE_LEN || !is_nv_index(pub->index) || pub->size == 0 ||
	    (pub->attributes & TPM2_NVA_WRITTEN))
		return 0;
	p = put_header(buf, TPM2_ST_SESSIONS, DEFINE_LEN, TPM2_CC_NV_DEFINE_SPACE);
	p = store_be32(p, TPM2_RH_OWNER);
	p = put_pw_auth(p);
	p = store_be16(p, 0); /* auth: the index's authValue, empty */
	p = store_be16(p, NV_PUBLIC_LEN);
	put_nv_public(p, pub);
	return DEFINE_LEN;
}

int tpm2_parse_nv_define_space(const uint8_t *rsp, size_t len, uint32_t *rc,
			       char *err, size_t err_len)
{
	struct tpm2_body r;

	if (tpm2_open_response(&r, rsp, len, TPM2_ST_SESSIONS, "NV_DefineSpace", rc,
			  err, err_len) != 0 ||
	    tpm2_expect(&r, "parameterSize", 4, 0) != 0 ||
	    tpm2_take_pw_auth(&r) != 0)
		return -1;
	tpm2_clear_err(err, err_len);
	return 0;
}

/* nvPublic: the index asked for, SHA-384, a 48-byte authPolicy. */
static int take_nv_public(struct tpm2_body *r, uint32_t nv_index,
			  struct tpm2_nv_public *pub)
{
	struct tpm2_body area;
	const uint8_t *policy;
	uint32_t size, attributes, data_size;

	if (tpm2_take_be(r, 2, "nvPublic.size", &size) != 0 ||
	    tpm2_take_sub(r, size, "nvPublic", &area) != 0 ||
	    tpm2_expect(&area, "nvIndex", 4, nv_index) != 0 ||
	    tpm2_expect(&area, "nameAlg", 2, TPM2_ALG_SHA384) != 0 ||
	    tpm2_take_be(&area, 4, "attributes", &attributes) != 0 ||
	    tpm2_take_tpm2b(&area, "authPolicy", HASH_LEN, HASH_LEN, &policy, &size) != 0 ||
	    tpm2_take_be(&area, 2, "dataSize", &data_size) != 0 ||
	    tpm2_at_end(&area, "nvPublic") != 0)
		return -1;
	pub->index = nv_index;
	pub->attributes = attributes;
	memcpy(pub->policy, policy, HASH_LEN);
	pub->size = (uint16_t)data_size;
	return 0;
}

int tpm2_parse_nv_read_public_full(const uint8_t *rsp, size_t len, uint32_t nv_index,
				   struct tpm2_nv_public *pub, uint32_t *rc, char *err,
				   size_t err_len)
{
	uint8_t name[TPM2_NV_NAME_LEN];
	struct tpm2_nv_public got;
	struct tpm2_body r;
	const uint8_t *nv_name;
	uint32_t n;

	if (tpm2_open_response(&r, rsp, len, TPM2_ST_NO_SESSIONS, "NV_ReadPublic", rc,
			  err, err_len) != 0 ||
	    take_nv_public(&r, nv_index, &got) != 0 ||
	    tpm2_take_tpm2b(&r, "nvName", TPM2_NV_NAME_LEN, TPM2_NV_NAME_LEN,
			    &nv_name, &n) != 0 ||
	    tpm2_at_end(&r, "the response") != 0)
		return -1;
	tpm2_nv_name(&got, name);
	if (memcmp(name, nv_name, sizeof(name)) != 0)
		return refuse(err, err_len,
			      "NV_ReadPublic response: nvName is not the Name of the public area");
	*pub = got;
	tpm2_clear_err(err, err_len);
	return 0;
}

/* --- PolicyPCR -------------------------------------------------------------------------- */

size_t tpm2_build_policy_pcr(uint8_t *buf, size_t cap, uint32_t policy_session,
			     uint32_t pcr_mask,
			     const uint8_t pcr_digest[TPM2_SHA384_LEN])
{
	uint8_t *p;

	if (cap < POLICY_PCR_LEN || policy_session >> 24 != TPM2_HT_POLICY_SESSION ||
	    !pcr_mask_ok(pcr_mask))
		return 0;
	p = put_header(buf, TPM2_ST_NO_SESSIONS, POLICY_PCR_LEN, TPM2_CC_POLICY_PCR);
	p = store_be32(p, policy_session);
	/* pcrDigest given, not empty: the TPM compares it with its PCRs and
	 * says so (TPM_RC_VALUE) here, rather than the NV command failing
	 * later with TPM_RC_POLICY_FAIL. */
	p = store_be16(p, HASH_LEN);
	memcpy(p, pcr_digest, HASH_LEN);
	put_pcr_selection(p + HASH_LEN, pcr_mask);
	return POLICY_PCR_LEN;
}

int tpm2_parse_policy_pcr(const uint8_t *rsp, size_t len, uint32_t *rc,
			  char *err, size_t err_len)
{
	struct tpm2_body r;

	if (tpm2_open_response(&r, rsp, len, TPM2_ST_NO_SESSIONS, "PolicyPCR", rc, err,
			  err_len) != 0 ||
	    tpm2_at_end(&r, "the response") != 0)
		return -1;
	tpm2_clear_err(err, err_len);
	return 0;
}

/* --- NV_Write, NV_Read with the session -------------------------------------------------- */

/* Both handles are the index, named by its public area as the caller has
 * it (name must outlive the build). */
static void name_index_twice(const struct tpm2_nv_public *pub,
			     uint8_t name[TPM2_NV_NAME_LEN],
			     struct tpm2_named_handle handles[2])
{
	tpm2_nv_name(pub, name);
	handles[0] = (struct tpm2_named_handle){ pub->index, name, TPM2_NV_NAME_LEN };
	handles[1] = handles[0];
}

static bool inside(const struct tpm2_nv_public *pub, size_t len, uint16_t offset)
{
	return (size_t)offset + len <= pub->size;
}

size_t tpm2_build_nv_write_policy(uint8_t *buf, size_t cap, struct tpm2_session *s,
				  const struct tpm2_nv_public *pub, const uint8_t *data,
				  size_t len, uint16_t offset,
				  const uint8_t nonce[TPM2_SESSION_HASH_LEN])
{
	uint8_t params[2 + TPM2_NV_WRITE_MAX + 2], name[TPM2_NV_NAME_LEN];
	struct tpm2_named_handle handles[2];
	uint8_t *p;

	if (len == 0 || len > TPM2_NV_WRITE_MAX || !is_nv_index(pub->index) ||
	    !inside(pub, len, offset))
		return 0;
	/* data (a TPM2B: the one parameter encryption covers), offset */
	p = store_be16(params, (uint16_t)len);
	memcpy(p, data, len);
	store_be16(p + len, offset);
	name_index_twice(pub, name, handles);
	len = tpm2_session_build_named(buf, cap, s, TPM2_CC_NV_WRITE, handles, 2,
				       params, 2 + len + 2,
				       TPM2_SA_CONTINUE_SESSION | TPM2_SA_DECRYPT,
				       nonce);
	/* The plaintext leaves no copy on the stack. */
	crypto_wipe(params, sizeof(params));
	return len;
}

/* The response code of a session's response, before the session parses it. */
static int in_flight(const struct tpm2_session *s, uint32_t cc, const char *cmd,
		     const uint8_t *rsp, size_t len, uint32_t *rc, char *err,
		     size_t err_len)
{
	tpm2_set_rc(rc, TPM2_RC_MALFORMED);
	if (s->cc != cc)
		return refuse(err, err_len, "%s: none in flight on the session", cmd);
	tpm2_set_rc(rc, header_rc(rsp, len, TPM2_ST_SESSIONS));
	return 0;
}

int tpm2_parse_nv_write_policy(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			       uint32_t *rc, char *err, size_t err_len)
{
	const uint8_t *params;
	size_t params_len;

	if (in_flight(s, TPM2_CC_NV_WRITE, "NV_Write", rsp, len, rc, err, err_len) != 0 ||
	    tpm2_session_parse(rsp, len, s, 0, NULL, &params, &params_len, err,
			       err_len) != 0)
		return -1;
	if (params_len)
		return refuse(err, err_len,
			      "NV_Write response: %zu parameter bytes (it has none)",
			      params_len);
	return 0;
}

size_t tpm2_build_nv_read_policy(uint8_t *buf, size_t cap, struct tpm2_session *s,
				 const struct tpm2_nv_public *pub, uint16_t size,
				 uint16_t offset, const uint8_t nonce[TPM2_SESSION_HASH_LEN])
{
	uint8_t params[4], name[TPM2_NV_NAME_LEN];
	struct tpm2_named_handle handles[2];

	if (size == 0 || size > TPM2_NV_READ_MAX || !is_nv_index(pub->index) ||
	    !inside(pub, size, offset))
		return 0;
	store_be16(store_be16(params, size), offset);
	name_index_twice(pub, name, handles);
	return tpm2_session_build_named(buf, cap, s, TPM2_CC_NV_READ, handles, 2,
					params, sizeof(params),
					TPM2_SA_CONTINUE_SESSION | TPM2_SA_ENCRYPT,
					nonce);
}

int tpm2_parse_nv_read_policy(const uint8_t *rsp, size_t len, struct tpm2_session *s,
			      uint8_t *out, size_t want, uint32_t *rc, char *err,
			      size_t err_len)
{
	const uint8_t *params, *data;
	struct tpm2_body r;
	size_t params_len;
	uint32_t size;

	if (want == 0 || want > TPM2_NV_READ_MAX) {
		tpm2_set_rc(rc, TPM2_RC_MALFORMED);
		return refuse(err, err_len, "NV_Read of %zu bytes (1..%u)", want,
			      TPM2_NV_READ_MAX);
	}
	if (in_flight(s, TPM2_CC_NV_READ, "NV_Read", rsp, len, rc, err, err_len) != 0 ||
	    tpm2_session_parse(rsp, len, s, 0, NULL, &params, &params_len, err,
			       err_len) != 0)
		return -1;
	/* Part 3: NV_Read returns the size asked or fails. */
	r = (struct tpm2_body){ params, params_len, "NV_Read", err, err_len };
	if (tpm2_take_tpm2b(&r, "data", (uint32_t)want, (uint32_t)want, &data, &size) != 0 ||
	    tpm2_at_end(&r, "parameters") != 0)
		return -1;
	memcpy(out, data, size);
	if (tpm2_session_decrypt_response(s, out, size) != 0) {
		crypto_wipe(out, size);
		return refuse(err, err_len, "NV_Read: decrypting the response failed");
	}
	return 0;
}
