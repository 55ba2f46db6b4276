/*
 * TPGVM policy parser (tcb/policy.h, docs/envelope.md). Same rules as the
 * other parsers of untrusted input: byte-wise little-endian loads, every
 * length checked against what remains before it is used, only memcmp,
 * memcpy and tcb/errmsg.c from the C library.
 *
 * Unknown record types are refused rather than skipped: a policy is a
 * security statement, and a TCB that silently ignored a restriction it did
 * not understand would enforce less than the station meant. New record
 * types come with a new version.
 */
#include "tcb/policy.h"
#include "tcb/der.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"

#include <string.h>

struct policy_parser {
	const uint8_t *buf;
	size_t len;
	char *err;
	size_t err_len;
	struct tpgvm_policy pol; /* copied out only on success */
};

static int check_header(const struct policy_parser *p)
{
	uint32_t version;

	if (p->len < POLICY_MAGIC_LEN ||
	    memcmp(p->buf, POLICY_MAGIC, POLICY_MAGIC_LEN) != 0)
		return errmsg(p->err, p->err_len,
			    "not a TPGVM policy (no \"CUSTPOL1\" magic)");
	if (p->len < POLICY_HDR_LEN)
		return errmsg(p->err, p->err_len,
			    "policy of %zu bytes is shorter than its %u-byte header",
			    p->len, POLICY_HDR_LEN);
	version = load_le32(p->buf + POLICY_MAGIC_LEN);
	if (version != POLICY_VERSION)
		return errmsg(p->err, p->err_len,
			    "policy version %u is not supported (only %u)",
			    version, POLICY_VERSION);
	if (p->len > POLICY_MAX_SIZE)
		return errmsg(p->err, p->err_len,
			    "policy of %zu bytes is over the %u-byte limit",
			    p->len, (unsigned)POLICY_MAX_SIZE);
	return 0;
}

static int take_platform_id(struct policy_parser *p, const uint8_t *v,
			    uint32_t n)
{
	if (p->pol.platform_id_len != 0)
		return errmsg(p->err, p->err_len,
			    "policy has a second platform id record");
	if (p->pol.tenant_ca_count != 0)
		return errmsg(p->err, p->err_len,
			    "policy platform id must be the first record");
	if (n == 0 || n > POLICY_PLATFORM_ID_MAX)
		return errmsg(p->err, p->err_len,
			    "platform id length %u is not in 1..%u", n,
			    POLICY_PLATFORM_ID_MAX);
	for (uint32_t i = 0; i < n; i++)
		if (!policy_platform_char_ok(v[i]))
			return errmsg(p->err, p->err_len,
				    "platform id byte %u is 0x%02x, not printable ASCII (0x21..0x7e)",
				    i, v[i]);
	memcpy(p->pol.platform_id, v, n);
	p->pol.platform_id[n] = '\0';
	p->pol.platform_id_len = n;
	return 0;
}

static int take_tenant_ca(struct policy_parser *p, const uint8_t *v,
			  uint32_t n)
{
	size_t k = p->pol.tenant_ca_count;

	if (p->pol.platform_id_len == 0)
		return errmsg(p->err, p->err_len,
			    "policy platform id must be the first record");
	if (k == POLICY_TENANT_CA_MAX)
		return errmsg(p->err, p->err_len,
			    "policy has more than %u tenant CA certificates",
			    POLICY_TENANT_CA_MAX);
	if (n == 0 || n > POLICY_CERT_MAX)
		return errmsg(p->err, p->err_len,
			    "tenant CA certificate %zu length %u is not in 1..%u",
			    k + 1, n, POLICY_CERT_MAX);
	if (der_check_sequence(v, n, "tenant CA certificate", p->err,
			       p->err_len))
		return -1;
	/* A duplicate is harmless to trust but means the station was fed a
	 * wrong list: say so rather than guess. */
	for (size_t i = 0; i < k; i++)
		if (p->pol.tenant_ca[i].len == n &&
		    memcmp(p->pol.tenant_ca[i].der, v, n) == 0)
			return errmsg(p->err, p->err_len,
				    "tenant CA certificate %zu repeats certificate %zu",
				    k + 1, i + 1);
	p->pol.tenant_ca[k].der = v;
	p->pol.tenant_ca[k].len = n;
	p->pol.tenant_ca_count = k + 1;
	return 0;
}

static int parse_records(struct policy_parser *p)
{
	size_t off = POLICY_HDR_LEN;

	while (off < p->len) {
		size_t left = p->len - off;
		uint16_t type;
		uint32_t n;
		const uint8_t *v;
		int rc;

		if (left < POLICY_REC_HDR)
			return errmsg(p->err, p->err_len,
				    "policy truncated inside the record header at offset %zu",
				    off);
		type = load_le16(p->buf + off);
		n = load_le32(p->buf + off + 2);
		if (n > left - POLICY_REC_HDR)
			return errmsg(p->err, p->err_len,
				    "policy record at offset %zu of %u bytes overruns the %zu-byte policy",
				    off, n, p->len);
		v = p->buf + off + POLICY_REC_HDR;
		if (type == POLICY_REC_PLATFORM_ID)
			rc = take_platform_id(p, v, n);
		else if (type == POLICY_REC_TENANT_CA)
			rc = take_tenant_ca(p, v, n);
		else
			rc = errmsg(p->err, p->err_len,
				    "policy record at offset %zu has unknown type %u",
				    off, type);
		if (rc)
			return -1;
		off += POLICY_REC_HDR + (size_t)n;
	}
	return 0;
}

int policy_parse(const void *buf, size_t len, struct tpgvm_policy *out,
		 char *err, size_t err_len)
{
	struct policy_parser p;

	memset(&p, 0, sizeof(p));
	p.buf = buf;
	p.len = len;
	p.err = err;
	p.err_len = err_len;
	if (err && err_len)
		err[0] = '\0';
	if (check_header(&p) || parse_records(&p))
		return -1;
	if (p.pol.platform_id_len == 0)
		return errmsg(err, err_len, "policy has no platform id");
	if (p.pol.tenant_ca_count == 0)
		return errmsg(err, err_len,
			    "policy has no tenant CA certificate");
	*out = p.pol;
	return 0;
}
