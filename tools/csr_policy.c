/*
 * The roles a certificate request asks for, and the CA's policy
 * (tools/csr_policy.h).
 */
#include "tcb/errmsg.h"
#include "tools/csr_policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"

/* DER tags this reader meets. */
#define TAG_BOOLEAN     0x01
#define TAG_INTEGER     0x02
#define TAG_OCTETS      0x04
#define TAG_OID         0x06
#define TAG_SEQUENCE    0x30
#define TAG_SET         0x31
#define TAG_ATTRIBUTES  0xa0 /* [0] IMPLICIT SET OF Attribute */

/* pkcs-9 extensionRequest 1.2.840.113549.1.9.14, id-ce-extKeyUsage
 * 2.5.29.37, id-kp-clientAuth 1.3.6.1.5.5.7.3.2, id-kp-serverAuth .1: DER contents. */
static const uint8_t OID_EXTENSION_REQUEST[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x0e };
static const uint8_t OID_EXT_KEY_USAGE[] = { 0x55, 0x1d, 0x25 };
static const uint8_t OID_CLIENT_AUTH[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x02 };
static const uint8_t OID_SERVER_AUTH[] = { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };

/* A span of DER not yet read. */
struct der {
	const uint8_t *p;
	size_t len;
};

/* The next element of in, which must have tag: its contents into *out,
 * in advanced past it. -1 if the tag differs or the length is not
 * definite, shortest-form and within in. */
static int der_next(struct der *in, uint8_t tag, struct der *out)
{
	size_t n, hdr = 2;

	if (in->len < 2 || in->p[0] != tag)
		return -1;
	n = in->p[1];
	if (n == 0x81) {
		if (in->len < 3 || in->p[2] < 0x80)
			return -1;
		n = in->p[2];
		hdr = 3;
	} else if (n == 0x82) {
		if (in->len < 4 || in->p[2] == 0 || (in->p[2] << 8 | in->p[3]) < 0x100)
			return -1;
		n = (size_t)(in->p[2] << 8 | in->p[3]);
		hdr = 4;
	} else if (n > 0x7f) {
		return -1;
	}
	if (n > in->len - hdr)
		return -1;
	out->p = in->p + hdr;
	out->len = n;
	in->p += hdr + n;
	in->len -= hdr + n;
	return 0;
}

static bool oid_is(const struct der *oid, const uint8_t *want, size_t want_len)
{
	return oid->len == want_len && memcmp(oid->p, want, want_len) == 0;
}

/* The OID's dotted form for a message (at most 40 characters). */
static const char *oid_text(const struct der *oid, char buf[48])
{
	size_t n = 0;
	uint64_t arc = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < oid->len && n < 40; i++) {
		arc = arc << 7 | (oid->p[i] & 0x7f);
		if (oid->p[i] & 0x80) {
			if (arc >> 56)
				break;
			continue;
		}
		if (n == 0)
			n += (size_t)snprintf(buf, 48, "%u.%llu", arc < 80 ? (unsigned)(arc / 40) : 2u,
					      (unsigned long long)(arc < 80 ? arc % 40 : arc - 80));
		else
			n += (size_t)snprintf(buf + n, 48 - n, ".%llu", (unsigned long long)arc);
		arc = 0;
	}
	if (!buf[0] || n >= 40)
		snprintf(buf, 48, "(unreadable)");
	return buf;
}

/* One purpose of the extendedKeyUsage: a Custos role or clientAuth. */
static int purpose(const struct der *oid, struct csr_request *out, char *err, size_t err_len)
{
	char text[48];

	for (int role = CRYPTO_ROLE_FIRST; role <= CRYPTO_ROLE_LAST; role++) {
		const uint8_t *want;
		size_t want_len;

		if (crypto_role_oid((enum crypto_role)role, &want, &want_len) == CRYPTO_OK &&
		    oid_is(oid, want, want_len)) {
			out->roles |= CRYPTO_ROLE_BIT(role);
			return 0;
		}
	}
	if (oid_is(oid, OID_CLIENT_AUTH, sizeof(OID_CLIENT_AUTH))) {
		out->client_auth = true;
		return 0;
	}
	/* The TLS purpose Custos certificates of the TPGVM's role carry: read,
	 * so that the policy names the role it came with. */
	if (oid_is(oid, OID_SERVER_AUTH, sizeof(OID_SERVER_AUTH))) {
		out->server_auth = true;
		return 0;
	}
	return errmsg(err, err_len, "the request asks for the purpose %s, which is no Custos "
		    "role", oid_text(oid, text));
}

/* extendedKeyUsage ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId */
static int ext_key_usage(struct der value, struct csr_request *out, char *err, size_t err_len)
{
	struct der seq, oid;

	if (der_next(&value, TAG_SEQUENCE, &seq) != 0 || value.len != 0 || seq.len == 0)
		return errmsg(err, err_len, "the request's extendedKeyUsage is malformed");
	while (seq.len) {
		if (der_next(&seq, TAG_OID, &oid) != 0 || oid.len == 0)
			return errmsg(err, err_len, "the request's extendedKeyUsage is malformed");
		if (purpose(&oid, out, err, err_len) != 0)
			return -1;
	}
	return 0;
}

/* Extension ::= SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue } */
static int extension(struct der ext, bool *seen_eku, struct csr_request *out, char *err,
		     size_t err_len)
{
	struct der oid, critical, value;
	char text[48];

	if (der_next(&ext, TAG_OID, &oid) != 0)
		return errmsg(err, err_len, "the request's extensions are malformed");
	if (ext.len && ext.p[0] == TAG_BOOLEAN &&
	    (der_next(&ext, TAG_BOOLEAN, &critical) != 0 || critical.len != 1))
		return errmsg(err, err_len, "the request's extensions are malformed");
	if (der_next(&ext, TAG_OCTETS, &value) != 0 || ext.len != 0)
		return errmsg(err, err_len, "the request's extensions are malformed");
	if (!oid_is(&oid, OID_EXT_KEY_USAGE, sizeof(OID_EXT_KEY_USAGE)))
		return errmsg(err, err_len, "the request asks for the extension %s: the CA "
			    "takes only the role (extendedKeyUsage) from a request",
			    oid_text(&oid, text));
	if (*seen_eku)
		return errmsg(err, err_len, "the request has two extendedKeyUsage extensions");
	*seen_eku = true;
	return ext_key_usage(value, out, err, err_len);
}

/* Attribute ::= SEQUENCE { type OID, values SET OF ... }: extensionRequest,
 * whose one value is Extensions ::= SEQUENCE OF Extension. */
static int attribute(struct der attr, bool *seen, struct csr_request *out, char *err,
		     size_t err_len)
{
	struct der oid, values, exts, ext;
	bool seen_eku = false;
	char text[48];

	if (der_next(&attr, TAG_OID, &oid) != 0 || der_next(&attr, TAG_SET, &values) != 0 ||
	    attr.len != 0)
		return errmsg(err, err_len, "the request's attributes are malformed");
	if (!oid_is(&oid, OID_EXTENSION_REQUEST, sizeof(OID_EXTENSION_REQUEST)))
		return errmsg(err, err_len, "the request carries the attribute %s: the CA takes "
			    "only an extensionRequest", oid_text(&oid, text));
	if (*seen)
		return errmsg(err, err_len, "the request has two extensionRequest attributes");
	*seen = true;
	if (der_next(&values, TAG_SEQUENCE, &exts) != 0 || values.len != 0)
		return errmsg(err, err_len, "the request's extensionRequest is malformed");
	while (exts.len) {
		if (der_next(&exts, TAG_SEQUENCE, &ext) != 0)
			return errmsg(err, err_len, "the request's extensions are malformed");
		if (extension(ext, &seen_eku, out, err, err_len) != 0)
			return -1;
	}
	return 0;
}

int csr_request_parse(const uint8_t *cri, size_t len, struct csr_request *out,
		      char *err, size_t err_len)
{
	struct der in = { cri, len }, info, version, skip, attrs, attr;
	bool seen = false;

	memset(out, 0, sizeof(*out));
	if (der_next(&in, TAG_SEQUENCE, &info) != 0 || in.len != 0)
		return errmsg(err, err_len, "the request info is not one DER SEQUENCE");
	/* version 0 (v1), subject, subjectPKInfo: checked by the caller's
	 * parser; here only walked past. */
	if (der_next(&info, TAG_INTEGER, &version) != 0 || version.len != 1 ||
	    version.p[0] != 0)
		return errmsg(err, err_len, "the request is not a version 1 request");
	if (der_next(&info, TAG_SEQUENCE, &skip) != 0 || der_next(&info, TAG_SEQUENCE, &skip) != 0)
		return errmsg(err, err_len, "the request's subject or key is malformed");
	if (der_next(&info, TAG_ATTRIBUTES, &attrs) != 0 || info.len != 0)
		return errmsg(err, err_len, "the request's attributes are malformed");
	while (attrs.len) {
		if (der_next(&attrs, TAG_SEQUENCE, &attr) != 0)
			return errmsg(err, err_len, "the request's attributes are malformed");
		if (attribute(attr, &seen, out, err, err_len) != 0)
			return -1;
	}
	return 0;
}

int csr_policy_tenant(const struct csr_request *r, char *err, size_t err_len)
{
	unsigned others = r->roles & ~CRYPTO_ROLE_BIT(CRYPTO_ROLE_TENANT);

	if (r->roles == 0)
		return errmsg(err, err_len, "the request asks for no role; 'custos enroll' makes "
			    "requests for the tenant role");
	for (int role = CRYPTO_ROLE_FIRST; role <= CRYPTO_ROLE_LAST; role++)
		if (others & CRYPTO_ROLE_BIT(role))
			return errmsg(err, err_len, "the request asks for the role %s: sign-csr "
				    "issues tenant certificates only",
				    crypto_role_name((enum crypto_role)role));
	if (r->server_auth)
		return errmsg(err, err_len, "the request asks for TLS server authentication: a "
			      "tenant certificate is for TLS clients");
	return 0;
}
