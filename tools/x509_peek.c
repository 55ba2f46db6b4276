/*
 * Unverified look at an X.509 certificate (tools/x509_peek.h): a small
 * strict DER walker over RFC 5280's TBSCertificate. Single-byte tags,
 * definite lengths of at most 4 bytes, every element inside its parent.
 * Host only; nothing it returns is trusted (see the header).
 */
#include "tools/x509_peek.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"

#define TAG_BOOLEAN   0x01
#define TAG_INTEGER   0x02
#define TAG_BITSTRING 0x03
#define TAG_OCTETS    0x04
#define TAG_OID       0x06
#define TAG_SEQUENCE  0x30
#define TAG_SET       0x31
#define TAG_CTX0      0xa0 /* [0] EXPLICIT version */
#define TAG_CTX3      0xa3 /* [3] EXPLICIT extensions */

static const uint8_t oid_cn[] = { 0x55, 0x04, 0x03 };
static const uint8_t oid_basic_constraints[] = { 0x55, 0x1d, 0x13 };
static const uint8_t oid_eku[] = { 0x55, 0x1d, 0x25 };
static const uint8_t oid_ec_public_key[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const uint8_t oid_secp384r1[] = { 0x2b, 0x81, 0x04, 0x00, 0x22 };

/* A window of DER: elements are taken from its front. */
struct der {
	const uint8_t *p;
	size_t len;
};

static int fail(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
	if (err && err_len) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Take the next element; its contents go to *val. */
static int take_any(struct der *d, uint8_t *tag, struct der *val)
{
	size_t n, hdr = 2;

	if (d->len < 2)
		return -1;
	*tag = d->p[0];
	if ((*tag & 0x1f) == 0x1f) /* high tag numbers: not in a certificate */
		return -1;
	n = d->p[1];
	if (n & 0x80) {
		size_t k = n & 0x7f;

		if (k == 0 || k > 4 || d->len < 2 + k)
			return -1;
		n = 0;
		for (size_t i = 0; i < k; i++)
			n = n << 8 | d->p[2 + i];
		hdr += k;
	}
	if (n > d->len - hdr)
		return -1;
	val->p = d->p + hdr;
	val->len = n;
	d->p += hdr + n;
	d->len -= hdr + n;
	return 0;
}

static int take(struct der *d, uint8_t want, struct der *val)
{
	uint8_t tag;
	struct der save = *d;

	if (take_any(d, &tag, val) != 0 || tag != want) {
		*d = save;
		return -1;
	}
	return 0;
}

static bool oid_is(const struct der *oid, const uint8_t *want, size_t n)
{
	return oid->len == n && memcmp(oid->p, want, n) == 0;
}

/* Copy a directory string, replacing anything unprintable (and non-ASCII:
 * this is for one-line messages) by '?'. */
static void copy_string(const struct der *s, char *out)
{
	size_t n = s->len;

	if (n > X509_PEEK_CN_MAX)
		n = X509_PEEK_CN_MAX;

	for (size_t i = 0; i < n; i++)
		out[i] = (s->p[i] >= 0x20 && s->p[i] < 0x7f) ? (char)s->p[i] : '?';
	out[n] = '\0';
}

/* Name ::= SEQUENCE OF SET OF SEQUENCE { type OID, value ANY }. */
static int read_cn(struct der name, char *out)
{
	out[0] = '\0';
	while (name.len) {
		struct der rdn, atv, oid, val;
		uint8_t tag;

		if (take(&name, TAG_SET, &rdn) != 0)
			return -1;
		while (rdn.len) {
			if (take(&rdn, TAG_SEQUENCE, &atv) != 0 ||
			    take(&atv, TAG_OID, &oid) != 0 ||
			    take_any(&atv, &tag, &val) != 0)
				return -1;
			if (oid_is(&oid, oid_cn, sizeof(oid_cn)))
				copy_string(&val, out);
		}
	}
	return 0;
}

/* SubjectPublicKeyInfo: accept only id-ecPublicKey on secp384r1. */
static void read_spki(struct der spki, struct x509_peek *out)
{
	struct der alg, oid, curve, bits;

	if (take(&spki, TAG_SEQUENCE, &alg) != 0 ||
	    take(&alg, TAG_OID, &oid) != 0 ||
	    !oid_is(&oid, oid_ec_public_key, sizeof(oid_ec_public_key)) ||
	    take(&alg, TAG_OID, &curve) != 0 ||
	    !oid_is(&curve, oid_secp384r1, sizeof(oid_secp384r1)) ||
	    take(&spki, TAG_BITSTRING, &bits) != 0 ||
	    bits.len != 1 + CRYPTO_P384_PUB_LEN || bits.p[0] != 0 ||
	    bits.p[1] != 0x04)
		return;
	memcpy(out->pub, bits.p + 1, CRYPTO_P384_PUB_LEN);
	out->have_pub = true;
}

static void read_eku(struct der value, struct x509_peek *out)
{
	struct der seq, oid;

	if (take(&value, TAG_SEQUENCE, &seq) != 0)
		return;
	while (take(&seq, TAG_OID, &oid) == 0) {
		for (int r = CRYPTO_ROLE_FIRST; r <= CRYPTO_ROLE_LAST; r++) {
			const uint8_t *want;
			size_t n;

			if (crypto_role_oid((enum crypto_role)r, &want, &n) ==
				    CRYPTO_OK &&
			    oid_is(&oid, want, n))
				out->role = out->role == 0 ? r : -1;
		}
	}
}

static void read_basic_constraints(struct der value, struct x509_peek *out)
{
	struct der seq, b;

	if (take(&value, TAG_SEQUENCE, &seq) == 0 &&
	    take(&seq, TAG_BOOLEAN, &b) == 0 && b.len == 1 && b.p[0] != 0)
		out->is_ca = true;
}

/* [3] { SEQUENCE OF Extension { OID, critical BOOLEAN OPTIONAL, OCTETS } } */
static int read_extensions(struct der ext, struct x509_peek *out)
{
	struct der list, one, oid, crit, value;

	if (take(&ext, TAG_SEQUENCE, &list) != 0)
		return -1;
	while (list.len) {
		if (take(&list, TAG_SEQUENCE, &one) != 0 ||
		    take(&one, TAG_OID, &oid) != 0)
			return -1;
		(void)take(&one, TAG_BOOLEAN, &crit);
		if (take(&one, TAG_OCTETS, &value) != 0)
			return -1;
		if (oid_is(&oid, oid_eku, sizeof(oid_eku)))
			read_eku(value, out);
		else if (oid_is(&oid, oid_basic_constraints,
				sizeof(oid_basic_constraints)))
			read_basic_constraints(value, out);
	}
	return 0;
}

int x509_peek(const uint8_t *der, size_t len, struct x509_peek *out,
	      char *err, size_t err_len)
{
	struct der all = { der, len }, cert, tbs, skip, issuer, subject, spki, ext;
	struct x509_peek r;

	memset(&r, 0, sizeof(r));
	if (take(&all, TAG_SEQUENCE, &cert) != 0 || all.len != 0)
		return fail(err, err_len, "not a DER certificate");
	if (take(&cert, TAG_SEQUENCE, &tbs) != 0)
		return fail(err, err_len, "certificate has no TBSCertificate");
	(void)take(&tbs, TAG_CTX0, &skip); /* version: v1 has none */
	if (take(&tbs, TAG_INTEGER, &skip) != 0 ||      /* serial */
	    take(&tbs, TAG_SEQUENCE, &skip) != 0 ||     /* signature alg */
	    take(&tbs, TAG_SEQUENCE, &issuer) != 0 ||
	    take(&tbs, TAG_SEQUENCE, &skip) != 0 ||     /* validity */
	    take(&tbs, TAG_SEQUENCE, &subject) != 0 ||
	    take(&tbs, TAG_SEQUENCE, &spki) != 0)
		return fail(err, err_len, "certificate fields are malformed");
	if (read_cn(issuer, r.issuer_cn) != 0 ||
	    read_cn(subject, r.subject_cn) != 0)
		return fail(err, err_len, "certificate names are malformed");
	read_spki(spki, &r);
	/* Optional issuer/subject unique ids ([1], [2]) are skipped. */
	while (tbs.len) {
		uint8_t tag;

		if (take_any(&tbs, &tag, &ext) != 0)
			return fail(err, err_len,
				    "certificate extensions are malformed");
		if (tag == TAG_CTX3 && read_extensions(ext, &r) != 0)
			return fail(err, err_len,
				    "certificate extensions are malformed");
	}
	*out = r;
	return 0;
}

const char *x509_peek_role_name(int role)
{
	switch (role) {
	case 0: return "none";
	case -1: return "several roles";
	case CRYPTO_ROLE_STATION: return "station";
	case CRYPTO_ROLE_TCB_SIGN: return "tcb-sign";
	case CRYPTO_ROLE_TCB_KEX: return "tcb-kex";
	case CRYPTO_ROLE_TENANT: return "tenant";
	case CRYPTO_ROLE_TPGVM_TLS: return "tpgvm-tls";
	case CRYPTO_ROLE_TCB_SIGN_DEV: return "tcb-sign-dev";
	case CRYPTO_ROLE_TCB_KEX_DEV: return "tcb-kex-dev";
	case CRYPTO_ROLE_TCB_AK: return "tcb-ak";
	default: return "unknown";
	}
}
