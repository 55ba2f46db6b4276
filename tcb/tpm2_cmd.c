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
#include "tcb/tpm2_cmd.h"
#include "tcb/errmsg.h"

#include <stdio.h>
#include <string.h>

#define TPM2_CAP_PCRS     0x00000005
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

/*
 * The AK's TPMT_PUBLIC up to its unique point, field by field: the builder
 * writes it and the CreatePrimary parser requires it back, so the two
 * cannot drift apart.
 */
static const struct ak_field {
	uint8_t size; /* 2 or 4 bytes */
	const char *name;
	uint32_t value;
} ak_template[] = {
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

static inline uint16_t load_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint8_t *store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return p + 2;
}

static inline uint8_t *store_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
	return p + 4;
}

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

size_t tpm2_build_create_ak(uint8_t *buf, size_t cap)
{
	uint8_t *p;

	if (cap < CREATE_AK_LEN)
		return 0;
	p = put_header(buf, TPM2_ST_SESSIONS, CREATE_AK_LEN,
		       TPM2_CC_CREATE_PRIMARY);
	p = store_be32(p, TPM2_RH_ENDORSEMENT);
	p = put_pw_auth(p);
	/* inSensitive: no userAuth (the quote is authorised by the empty
	 * password) and no data (the TPM generates the key). */
	p = store_be16(p, 4);
	p = store_be32(p, 0);
	p = store_be16(p, AK_TEMPLATE_LEN);
	for (size_t i = 0; i < AK_FIELDS; i++)
		p = ak_template[i].size == 4 ?
		    store_be32(p, ak_template[i].value) :
		    store_be16(p, (uint16_t)ak_template[i].value);
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

/* --- Response codes ----------------------------------------------------- */

static const struct {
	uint16_t rc;
	const char *name;
} rc_names[] = {
	{ 0x000, "SUCCESS" },		{ 0x01e, "BAD_TAG" },
	{ 0x100, "INITIALIZE" },	{ 0x101, "FAILURE" },
	{ 0x103, "SEQUENCE" },		{ 0x120, "DISABLED" },
	{ 0x124, "AUTH_TYPE" },		{ 0x125, "AUTH_MISSING" },
	{ 0x127, "PCR" },		{ 0x130, "REBOOT" },
	{ 0x142, "COMMAND_SIZE" },	{ 0x143, "COMMAND_CODE" },
	{ 0x144, "AUTHSIZE" },		{ 0x153, "NEEDS_TEST" },
	{ 0x902, "OBJECT_MEMORY" },	{ 0x903, "SESSION_MEMORY" },
	{ 0x904, "MEMORY" },		{ 0x907, "LOCALITY" },
	{ 0x908, "YIELDED" },		{ 0x909, "CANCELED" },
	{ 0x90a, "TESTING" },		{ 0x910, "REFERENCE_H0" },
	{ 0x920, "NV_RATE" },		{ 0x921, "LOCKOUT" },
	{ 0x922, "RETRY" },		{ 0x923, "NV_UNAVAILABLE" },
	/* Format one (bit 7): matched without the parameter/handle/session
	 * number, which is told apart. */
	{ 0x082, "ATTRIBUTES" },	{ 0x083, "HASH" },
	{ 0x084, "VALUE" },		{ 0x08b, "HANDLE" },
	{ 0x08e, "AUTH_FAIL" },		{ 0x095, "SIZE" },
	{ 0x097, "TAG" },		{ 0x098, "SELECTOR" },
	{ 0x0a2, "BAD_AUTH" },
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

static void clear_err(char *err, size_t err_len)
{
	if (err && err_len)
		err[0] = '\0';
}

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
	clear_err(err, err_len);
	return 0;
}

/* The body of a response, read front to back; every step names the field
 * it reads, for the message when the bytes run out. */
struct body {
	const uint8_t *p;
	size_t left;
	const char *cmd;
	char *err;
	size_t err_len;
};

static int take(struct body *b, size_t n, const char *field, const uint8_t **at)
{
	if (b->left < n)
		return refuse(b->err, b->err_len, "%s response truncated in %s",
			      b->cmd, field);
	*at = b->p;
	b->p += n;
	b->left -= n;
	return 0;
}

static int take8(struct body *b, const char *field, uint32_t *v)
{
	const uint8_t *at;

	if (take(b, 1, field, &at) != 0)
		return -1;
	*v = at[0];
	return 0;
}

static int take16(struct body *b, const char *field, uint32_t *v)
{
	const uint8_t *at;

	if (take(b, 2, field, &at) != 0)
		return -1;
	*v = load_be16(at);
	return 0;
}

static int take32(struct body *b, const char *field, uint32_t *v)
{
	const uint8_t *at;

	if (take(b, 4, field, &at) != 0)
		return -1;
	*v = load_be32(at);
	return 0;
}

static int at_end(const struct body *b)
{
	if (b->left)
		return refuse(b->err, b->err_len, "%s response has %zu trailing bytes",
			      b->cmd, b->left);
	clear_err(b->err, b->err_len);
	return 0;
}

/* The header of a response to cmd; the body follows it in b. TPM2_RC_SUCCESS
 * is the only good code, and also ok_rc when that is not 0. */
static int open_body(struct body *b, const uint8_t *rsp, size_t len,
		     uint16_t tag, uint32_t ok_rc, const char *cmd, char *err,
		     size_t err_len)
{
	uint32_t rc;

	if (tpm2_response_header(rsp, len, tag, &rc, err, err_len) != 0)
		return -1;
	if (rc != TPM2_RC_SUCCESS && rc != ok_rc)
		return refuse(err, err_len, "%s failed: %s", cmd, tpm2_rc_name(rc));
	*b = (struct body){ rsp + TPM2_HEADER_LEN, len - TPM2_HEADER_LEN, cmd,
			    err, err_len };
	return 0;
}

int tpm2_parse_startup(const uint8_t *rsp, size_t len, char *err, size_t err_len)
{
	struct body b;

	if (open_body(&b, rsp, len, TPM2_ST_NO_SESSIONS, TPM2_RC_INITIALIZE,
		      "Startup", err, err_len) != 0)
		return -1;
	return at_end(&b);
}

int tpm2_parse_get_random(const uint8_t *rsp, size_t len, uint8_t *out,
			  size_t want, size_t *got, char *err, size_t err_len)
{
	struct body b;
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
	if (take(&b, size, "randomBytes", &bytes) != 0 || at_end(&b) != 0)
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
static int take_selection(struct body *b, uint32_t *hash, uint32_t *map)
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
	if (take(b, n, "pcrSelections.pcrSelect", &sel) != 0)
		return -1;
	*map = select_bitmap(sel, n);
	return 0;
}

/* Every bank of a TPML_PCR_SELECTION; the SHA-384 one's bitmap (if any)
 * into *sha384_pcrs. */
static int take_banks(struct body *b, uint32_t *sha384_pcrs)
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
	struct body b;
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
static int take_empty(struct body *b, const char *field)
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

/* The one auth area of a password session's response, to the end. */
static int take_pw_auth(struct body *b)
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
	if (take_empty(b, "hmac") != 0)
		return -1;
	return at_end(b);
}

int tpm2_parse_pcr_extend(const uint8_t *rsp, size_t len, char *err, size_t err_len)
{
	struct body b;
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
static int check_read_selection(struct body *b, uint32_t pcr)
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
	struct body b;
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
	if (take(&b, size, "pcrValues.digests.buffer", &value) != 0 ||
	    at_end(&b) != 0)
		return -1;
	memcpy(out, value, TPM2_SHA384_LEN);
	return 0;
}

/* --- The attestation key and its quotes --------------------------------- */

/* The next n bytes of b as a body of their own, for a structure whose size
 * a field gives: it must then use them up exactly (sub_end). */
static int take_sub(struct body *b, size_t n, const char *field,
		    struct body *sub)
{
	const uint8_t *at;

	if (take(b, n, field, &at) != 0)
		return -1;
	*sub = (struct body){ at, n, b->cmd, b->err, b->err_len };
	return 0;
}

static int sub_end(const struct body *sub, const char *field)
{
	if (sub->left)
		return refuse(sub->err, sub->err_len,
			      "%s response: %zu bytes left over in %s",
			      sub->cmd, sub->left, field);
	return 0;
}

/* The parameter area, which parameterSize must measure exactly. */
static int take_params(struct body *b, struct body *params)
{
	uint32_t size;

	return take32(b, "parameterSize", &size) != 0 ||
	       take_sub(b, size, "parameters", params) != 0 ? -1 : 0;
}

/* A TPM2B whose contents are skipped (bounded by the bytes left). */
static int skip_sized(struct body *b, const char *field)
{
	const uint8_t *at;
	uint32_t size;

	return take16(b, field, &size) != 0 ||
	       take(b, size, field, &at) != 0 ? -1 : 0;
}

/* A 2- or 4-byte field that must hold what the command asked for. */
static int expect_field(struct body *b, const char *field, uint8_t size,
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

/* A TPM2B_ECC_PARAMETER of P-384 (a coordinate, r or s): 1..48 bytes (a
 * TPM may drop leading zeros), left where it is until the whole response
 * is accepted. */
struct p384_int {
	const uint8_t *p;
	uint32_t len;
};

static int take_p384_int(struct body *b, const char *field, struct p384_int *v)
{
	if (take16(b, field, &v->len) != 0)
		return -1;
	if (v->len == 0 || v->len > TPM2_P384_LEN)
		return refuse(b->err, b->err_len,
			      "%s response: %s of %u bytes (P-384's are 1..%u)",
			      b->cmd, field, v->len, TPM2_P384_LEN);
	return take(b, v->len, field, &v->p);
}

static void put_p384_int(uint8_t out[TPM2_P384_LEN], const struct p384_int *v)
{
	memset(out, 0, TPM2_P384_LEN - v->len);
	memcpy(out + TPM2_P384_LEN - v->len, v->p, v->len);
}

/* outPublic: a TPMT_PUBLIC of exactly the AK's template, its point. */
static int take_ak_public(struct body *b, struct body *area,
			  struct p384_int *x, struct p384_int *y)
{
	struct body pub;
	uint32_t size;

	if (take16(b, "outPublic.size", &size) != 0 ||
	    take_sub(b, size, "outPublic", &pub) != 0)
		return -1;
	*area = pub;
	for (size_t i = 0; i < AK_FIELDS; i++)
		if (expect_field(&pub, ak_template[i].name, ak_template[i].size,
				 ak_template[i].value) != 0)
			return -1;
	if (take_p384_int(&pub, "unique.x", x) != 0 ||
	    take_p384_int(&pub, "unique.y", y) != 0)
		return -1;
	return sub_end(&pub, "outPublic");
}

/* creationData, creationHash, creationTicket, name: not ours to check
 * (nothing here relies on them), only to step over. */
static int skip_creation(struct body *b)
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
	struct body b, params, area;
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
static int take_attest(struct body *b, const uint8_t **attest, uint32_t *len)
{
	if (take16(b, "quoted.size", len) != 0)
		return -1;
	if (*len == 0 || *len > TPM2_ATTEST_MAX)
		return refuse(b->err, b->err_len,
			      "%s response: quoted of %u bytes (1..%u)", b->cmd,
			      *len, TPM2_ATTEST_MAX);
	return take(b, *len, "quoted", attest);
}

int tpm2_parse_quote(const uint8_t *rsp, size_t len, struct tpm2_quote *q,
		     char *err, size_t err_len)
{
	struct body b, params;
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
	struct body b;

	if (open_body(&b, rsp, len, TPM2_ST_NO_SESSIONS, TPM2_RC_SUCCESS,
		      "FlushContext", err, err_len) != 0)
		return -1;
	return at_end(&b);
}
