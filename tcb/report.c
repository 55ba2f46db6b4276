/*
 * The one structural parser of platform reports (include/custos/report.h,
 * docs/report.md).
 *
 * A tenant receives a report over the network from a platform it does not
 * trust yet, so the buffer is hostile. As in tcb/envelope.c: every field is
 * read byte by byte, every length is bounded before it is used, and sums are
 * done in 64 bits from values bounded to 32 bits, so nothing can wrap. No
 * cryptography here (report_verify() does that on the result), so this file
 * can be fuzzed on its own.
 *
 * Built freestanding into the hypervisor and hosted into the tools, tests
 * and fuzzer; uses only memcmp/memcpy and tcb/errmsg.c.
 */
#include <custos/report.h>
#include "tcb/der.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"

#include <string.h>

/* The header's five lengths, in the order of their fields. */
struct lengths {
	uint32_t nonce, platform, log, cert, tpm;
};

static int check_flags(const uint8_t *b, char *err, size_t err_len)
{
	uint32_t keys = load_le32(b + RPT_OFF_KEY_PROT);
	uint32_t launch = load_le32(b + RPT_OFF_LAUNCH);
	uint32_t debug = load_le32(b + RPT_OFF_DEBUG);

	/* Unknown values are refused, not mapped to "dev": a verifier that
	 * guessed could only guess wrong in the platform's favour. */
	if (keys != REPORT_KEYS_DEV && keys != REPORT_KEYS_TPM)
		return errmsg(err, err_len, "unknown key protection %u", keys);
	if (launch < REPORT_LAUNCH_DEV || launch > REPORT_LAUNCH_DRTM)
		return errmsg(err, err_len, "unknown launch mode %u", launch);
	if (debug & ~REPORT_DEBUG_KNOWN)
		return errmsg(err, err_len, "unknown debug flags 0x%x",
			      debug & ~REPORT_DEBUG_KNOWN);
	return 0;
}

static int check_fixed_header(const uint8_t *b, size_t len, char *err,
			      size_t err_len)
{
	uint32_t version;

	if (len < REPORT_MAGIC_LEN ||
	    memcmp(b, REPORT_MAGIC, REPORT_MAGIC_LEN) != 0)
		return errmsg(err, err_len,
			      "not a Custos platform report (no \"CUSTRPT1\" magic)");
	if (len > REPORT_MAX_SIZE)
		return errmsg(err, err_len,
			      "report of %zu bytes is over the %u-byte limit",
			      len, REPORT_MAX_SIZE);
	if (len < RPT_FIXED_LEN)
		return errmsg(err, err_len,
			      "report of %zu bytes is shorter than its %u-byte fixed header",
			      len, RPT_FIXED_LEN);
	version = load_le32(b + RPT_OFF_VERSION);
	if (version != REPORT_VERSION)
		return errmsg(err, err_len,
			      "report format version %u is not supported (only %u)",
			      version, REPORT_VERSION);
	return check_flags(b, err, err_len);
}

static int check_range(uint32_t v, uint32_t lo, uint32_t hi, const char *what,
		       char *err, size_t err_len)
{
	if (v < lo || v > hi)
		return errmsg(err, err_len, "%s length %u is not in %u..%u",
			      what, v, lo, hi);
	return 0;
}

/* Each length in range, and together exactly len bytes. */
static int check_lengths(const struct lengths *n, size_t len, char *err,
			 size_t err_len)
{
	uint64_t total;

	if (check_range(n->nonce, REPORT_NONCE_MIN, REPORT_NONCE_MAX, "nonce",
			err, err_len) ||
	    check_range(n->platform, 1, REPORT_PLATFORM_MAX, "platform id",
			err, err_len) ||
	    check_range(n->log, REPORT_LOG_MIN, REPORT_LOG_MAX,
			"measurement log", err, err_len) ||
	    check_range(n->cert, 1, REPORT_CERT_MAX, "certificate", err,
			err_len) ||
	    check_range(n->tpm, 0, REPORT_TPM_MAX, "TPM evidence", err, err_len))
		return -1;
	/* Every term is bounded by now: no wrap. */
	total = (uint64_t)RPT_FIXED_LEN + n->nonce + n->platform + n->log +
		n->cert + n->tpm + RPT_SIG_LEN;
	if (total > len)
		return errmsg(err, err_len,
			      "report truncated: header says %lu bytes, only %zu present",
			      (unsigned long)total, len);
	if (total < len)
		return errmsg(err, err_len,
			      "report has %lu trailing bytes after its signature",
			      (unsigned long)(len - total));
	return 0;
}

/* Same rule as the policy's platform id (docs/envelope.md): the report
 * echoes it, and a tenant prints it. */
static int check_platform_id(const uint8_t *p, size_t n, char *err,
			     size_t err_len)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x21 || p[i] > 0x7e)
			return errmsg(err, err_len,
				      "platform id byte %zu is 0x%02x, not printable ASCII (0x21..0x7e)",
				      i, p[i]);
	return 0;
}

/* The evidence's next field: a u32 length in lo..hi, then that many bytes;
 * *p and *left advance past it. */
static int take_field(const uint8_t **p, size_t *left, uint32_t lo,
		      uint32_t hi, const char *what, const uint8_t **field,
		      size_t *field_len, char *err, size_t err_len)
{
	uint32_t n;

	if (*left < 4)
		return errmsg(err, err_len, "TPM evidence ends before the %s length",
			      what);
	n = load_le32(*p);
	if (check_range(n, lo, hi, what, err, err_len))
		return -1;
	if (n > *left - 4)
		return errmsg(err, err_len, "TPM evidence ends inside the %s", what);
	*field = *p + 4;
	*field_len = n;
	*p += 4 + (size_t)n;
	*left -= 4 + (size_t)n;
	return 0;
}

static unsigned popcount24(uint32_t mask)
{
	unsigned n = 0;

	for (unsigned i = 0; i < 24; i++)
		n += (mask >> i) & 1u;
	return n;
}

/* One certified TPM-resident key: point, Certify's TPMS_ATTEST, the AK's
 * signature. */
static int take_tpm_key(const uint8_t **p, size_t *left, struct report_tpm_key *k,
			char *err, size_t err_len)
{
	if (*left < REPORT_TPM_KEY_POINT_LEN)
		return errmsg(err, err_len, "TPM evidence ends inside a TCB key's point");
	k->point = *p;
	*p += REPORT_TPM_KEY_POINT_LEN;
	*left -= REPORT_TPM_KEY_POINT_LEN;
	if (take_field(p, left, 1, REPORT_TPM_KEY_ATTEST_MAX, "TCB key's certification",
		       &k->attest, &k->attest_len, err, err_len))
		return -1;
	if (*left < REPORT_TPM_SIG_LEN)
		return errmsg(err, err_len, "TPM evidence ends inside a TCB key's "
			      "certification signature");
	k->sig = *p;
	*p += REPORT_TPM_SIG_LEN;
	*left -= REPORT_TPM_SIG_LEN;
	return 0;
}

/* The TCB keys field: a length, then nothing or exactly both keys. */
static int parse_tpm_keys(const uint8_t **p, size_t *left, struct report *r,
			  char *err, size_t err_len)
{
	const uint8_t *field, *q;
	size_t len, in;

	if (take_field(p, left, 0, REPORT_TPM_KEYS_MAX, "TCB keys", &field, &len, err,
		       err_len))
		return -1;
	if (len == 0)
		return 0;
	q = field;
	in = len;
	for (size_t i = 0; i < 2; i++)
		if (take_tpm_key(&q, &in, &r->tpm_keys[i], err, err_len))
			return -1;
	if (in)
		return errmsg(err, err_len, "the TCB keys field has %zu trailing bytes", in);
	r->tpm_key_count = 2;
	return 0;
}

/* The framing of the TPM evidence (include/custos/report.h): every field
 * in range and together exactly len bytes. What they say is checked by
 * the verifier, with the quote. */
static int parse_evidence(const uint8_t *p, size_t len, struct report *r,
			  char *err, size_t err_len)
{
	size_t left = len, values;

	if (take_field(&p, &left, 1, REPORT_TPM_AK_MAX, "attestation key",
		       &r->ak_public, &r->ak_public_len, err, err_len) ||
	    take_field(&p, &left, 1, REPORT_TPM_ATTEST_MAX, "quote",
		       &r->attest, &r->attest_len, err, err_len))
		return -1;
	if (left < REPORT_TPM_SIG_LEN + 4)
		return errmsg(err, err_len, "TPM evidence ends inside the quote's "
			      "signature or PCR mask");
	r->quote_sig = p;
	r->pcr_mask = load_le32(p + REPORT_TPM_SIG_LEN);
	p += REPORT_TPM_SIG_LEN + 4;
	left -= REPORT_TPM_SIG_LEN + 4;
	if (r->pcr_mask == 0 || (r->pcr_mask >> 24) != 0)
		return errmsg(err, err_len, "quoted PCR mask 0x%x is not a non-empty "
			      "set of PCRs 0..23", r->pcr_mask);
	values = (size_t)popcount24(r->pcr_mask) * REPORT_TPM_PCR_LEN;
	if (left < values)
		return errmsg(err, err_len, "TPM evidence ends inside the PCR values");
	r->pcr_values = p;
	p += values;
	left -= values;
	if (take_field(&p, &left, 0, REPORT_FW_LOG_MAX, "firmware event log",
		       &r->fw_log, &r->fw_log_len, err, err_len) ||
	    take_field(&p, &left, 0, REPORT_TPM_CERT_MAX, "EK certificate",
		       &r->ek_cert, &r->ek_cert_len, err, err_len) ||
	    take_field(&p, &left, 0, REPORT_TPM_CERT_MAX, "attestation key certificate",
		       &r->ak_cert, &r->ak_cert_len, err, err_len))
		return -1;
	r->tpm_key_count = 0;
	if (left && parse_tpm_keys(&p, &left, r, err, err_len))
		return -1;
	if (left)
		return errmsg(err, err_len, "TPM evidence has %zu trailing bytes",
			      left);
	return 0;
}

int report_parse(const void *buf, size_t len, struct report *out, char *err,
		 size_t err_len)
{
	const uint8_t *b = buf;
	struct lengths n;
	struct report r = { 0 };
	size_t off = RPT_FIXED_LEN;

	if (err && err_len)
		err[0] = '\0';
	if (check_fixed_header(b, len, err, err_len))
		return -1;
	n.nonce = load_le32(b + RPT_OFF_NONCE_LEN);
	n.platform = load_le32(b + RPT_OFF_PLATFORM_LEN);
	n.log = load_le32(b + RPT_OFF_LOG_LEN);
	n.cert = load_le32(b + RPT_OFF_CERT_LEN);
	n.tpm = load_le32(b + RPT_OFF_TPM_LEN);
	if (check_lengths(&n, len, err, err_len))
		return -1;
	/* From here every offset below len is known to be in bounds. */
	r.version = REPORT_VERSION;
	r.key_protection = load_le32(b + RPT_OFF_KEY_PROT);
	r.launch_mode = load_le32(b + RPT_OFF_LAUNCH);
	r.debug = load_le32(b + RPT_OFF_DEBUG);
	r.tls_key_hash = b + RPT_OFF_TLS_HASH;
	r.nonce = b + off;
	r.nonce_len = n.nonce;
	off += n.nonce;
	r.platform_id = (const char *)(b + off);
	r.platform_id_len = n.platform;
	off += n.platform;
	r.log = b + off;
	r.log_len = n.log;
	off += n.log;
	r.cert = b + off;
	r.cert_len = n.cert;
	off += n.cert;
	r.quoted_len = off;
	r.tpm_len = n.tpm;
	if (n.tpm && parse_evidence(b + off, n.tpm, &r, err, err_len))
		return -1;
	off += n.tpm;
	r.signed_len = off;
	r.signature = b + off;
	if (check_platform_id(b + RPT_FIXED_LEN + n.nonce, n.platform, err,
			      err_len) ||
	    der_check_sequence(r.cert, r.cert_len, "TCB signing certificate",
			       err, err_len))
		return -1;
	*out = r;
	return 0;
}

/* Without a quote nothing its signer cannot forge backs the key
 * protection and launch mode it claims; with one, the quoting key is not
 * certified yet (no enrollment): so no report is production today. What
 * the report says against itself (dev keys, a dev launch, debug options)
 * is believed: a signer gains nothing by it. */
uint32_t report_dev_reasons(const struct report *r, bool dev_identity)
{
	uint32_t why = r->tpm_len ? REPORT_DEV_AK_UNCERTIFIED : REPORT_DEV_NO_QUOTE;

	if (dev_identity)
		why |= REPORT_DEV_IDENTITY;
	if (r->key_protection != REPORT_KEYS_TPM ||
	    r->launch_mode == REPORT_LAUNCH_DEV)
		why |= REPORT_DEV_CLAIMED;
	if (r->debug != 0)
		why |= REPORT_DEV_DEBUG;
	return why;
}

const char *report_dev_reason_name(uint32_t bit)
{
	switch (bit) {
	case REPORT_DEV_NO_QUOTE: return "no-tpm-quote";
	case REPORT_DEV_IDENTITY: return "dev-identity";
	case REPORT_DEV_CLAIMED:  return "dev-claimed";
	case REPORT_DEV_DEBUG:    return "debug-options";
	case REPORT_DEV_AK_UNCERTIFIED: return "tpm-key-uncertified";
	default:                  return "unknown";
	}
}

const char *report_dev_reason_text(uint32_t bit)
{
	switch (bit) {
	case REPORT_DEV_NO_QUOTE:
		return "no TPM quote backs the report's claims";
	case REPORT_DEV_IDENTITY:
		return "signed by a development TCB identity (tcb-sign-dev: its keys are on the boot media)";
	case REPORT_DEV_CLAIMED:
		return "the report itself says dev keys or a dev launch";
	case REPORT_DEV_DEBUG:
		return "debug options are on";
	case REPORT_DEV_AK_UNCERTIFIED:
		return "a TPM quote backs the log, but no certificate from the CA says its key is in a TPM (the TPM is not enrolled)";
	default:
		return "unknown reason";
	}
}

/* SEQUENCE { SEQUENCE { id-ecPublicKey, secp384r1 }, BIT STRING (0 unused
 * bits) { point } } (RFC 5480): the same 23 bytes for every P-384 key. */
static const uint8_t p384_spki_prefix[23] = {
	0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d,
	0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62,
	0x00,
};

void report_p384_spki(const uint8_t pub[RPT_P384_PUB_LEN],
		      uint8_t spki[RPT_P384_SPKI_LEN])
{
	memcpy(spki, p384_spki_prefix, sizeof(p384_spki_prefix));
	memcpy(spki + sizeof(p384_spki_prefix), pub, RPT_P384_PUB_LEN);
}
