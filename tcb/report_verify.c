/*
 * Verifying a platform report on the tenant side (include/custos/report.h,
 * docs/report.md).
 *
 * Order matters: structure, then who signed it, then that the signature
 * covers the bytes, and only then what the bytes say (nonce, TLS key, DEV).
 * So a message about the nonce means "authentic but not an answer to us"
 * (a replay), never "garbled". Each refusal has its own code and one line
 * naming the check, as envelope_open() does.
 *
 * Whether the platform is production is decided from evidence only, never
 * from the report's key-protection and launch-mode fields: whoever holds
 * the signing key writes those. Without TPM evidence a report is DEV; the
 * tenant tool clears the uncertified-key reason once an enrolled AK's
 * quote backs it (tools/tpm_evidence.c, which also refuses a false claim
 * of TPM-resident keys); a development signing certificate (tcb-sign-dev)
 * makes it DEV on its own.
 *
 * Portable (hypervisor and host), though only the tools use it today.
 */
#include <custos/report.h>
#include "crypto/crypto.h"
#include "tcb/errmsg.h"

#include <string.h>

#define CERT_ERR_LEN 160

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_len, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len)
		err[0] = '\0';
	va_start(ap, fmt);
	errmsg_vappend(err, err_len, fmt, ap);
	va_end(ap);
	return code;
}

/* The certificate chains to the root but is not tcb-sign: say which role it
 * does carry (a tcb-kex certificate is the likely mix-up). */
static enum crypto_role other_role(const struct report *r, const uint8_t *root,
				   size_t root_len)
{
	static const enum crypto_role others[] = {
		CRYPTO_ROLE_STATION, CRYPTO_ROLE_TCB_KEX, CRYPTO_ROLE_TENANT,
		CRYPTO_ROLE_TPGVM_TLS, CRYPTO_ROLE_TCB_KEX_DEV, CRYPTO_ROLE_TCB_AK,
	};

	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		if (crypto_x509_verify(r->cert, r->cert_len, root, root_len,
				       others[i], NULL, NULL, 0) == CRYPTO_OK)
			return others[i];
	return 0;
}

/* The signing certificate chains to the root as a TCB-signing one; a
 * development one (it names tcb-sign-dev, whatever else it names) sets
 * *dev_identity. */
static int check_cert(const struct report *r, const uint8_t *root,
		      size_t root_len, uint8_t pub[CRYPTO_P384_PUB_LEN],
		      bool *dev_identity, char *err, size_t err_len)
{
	char why[CERT_ERR_LEN] = "";
	enum crypto_role role = CRYPTO_ROLE_TCB_SIGN;
	unsigned roles;
	int rc;

	/* Which role to verify with (no signature check yet). */
	if (crypto_x509_roles(r->cert, r->cert_len, &roles) == CRYPTO_OK &&
	    (roles & CRYPTO_ROLE_BIT(CRYPTO_ROLE_TCB_SIGN_DEV)))
		role = CRYPTO_ROLE_TCB_SIGN_DEV;
	rc = crypto_x509_verify(r->cert, r->cert_len, root, root_len, role, pub,
				why, sizeof(why));
	if (rc == CRYPTO_OK) {
		*dev_identity = role == CRYPTO_ROLE_TCB_SIGN_DEV;
		return REPORT_OK;
	}
	if (rc != CRYPTO_E_VERIFY && rc != CRYPTO_E_INVAL)
		return fail(err, err_len, REPORT_E_CRYPTO,
			    "checking the report's certificate failed: %s",
			    crypto_strerror(rc));
	role = other_role(r, root, root_len);
	if (role)
		return fail(err, err_len, REPORT_E_ROLE,
			    "report signed by a %s certificate, not a TCB-signing certificate",
			    crypto_role_name(role));
	return fail(err, err_len, REPORT_E_CA,
		    "report signed by a certificate from another CA or not a valid TCB certificate (%s)",
		    why);
}

static int check_signature(const uint8_t *buf, const struct report *r,
			   const uint8_t pub[CRYPTO_P384_PUB_LEN], char *err,
			   size_t err_len)
{
	uint8_t digest[CRYPTO_SHA384_LEN];
	int rc;

	crypto_sha384(buf, r->signed_len, digest);
	rc = crypto_ecdsa_p384_verify(pub, digest, sizeof(digest),
				      r->signature);
	if (rc == CRYPTO_E_VERIFY || rc == CRYPTO_E_INVAL)
		return fail(err, err_len, REPORT_E_SIGNATURE,
			    "report signature does not verify with the TCB certificate's key");
	if (rc != CRYPTO_OK)
		return fail(err, err_len, REPORT_E_CRYPTO,
			    "signature check failed: %s", crypto_strerror(rc));
	return REPORT_OK;
}

static void append(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void append(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	errmsg_vappend(err, err_len, fmt, ap);
	va_end(ap);
}

/* "platform is DEV: reason; reason; ...; refused without allow-dev". */
static int refuse_dev(uint32_t why, char *err, size_t err_len)
{
	const char *sep = ": ";

	if (err && err_len)
		err[0] = '\0';
	append(err, err_len, "platform is DEV");
	for (uint32_t bit = 1; bit & REPORT_DEV_ALL; bit <<= 1) {
		if (!(why & bit))
			continue;
		append(err, err_len, "%s%s", sep, report_dev_reason_text(bit));
		sep = "; ";
	}
	append(err, err_len, "; refused without allow-dev");
	return REPORT_E_DEV;
}

/* What the authentic report says, against what we expect. */
static int check_claims(const struct report *r, const struct report_expect *w,
			uint32_t dev_reasons, char *err, size_t err_len)
{
	if (r->nonce_len != w->nonce_len ||
	    memcmp(r->nonce, w->nonce, w->nonce_len) != 0)
		return fail(err, err_len, REPORT_E_NONCE,
			    "report answers another nonce (a replay, or a request not ours)");
	if (w->tls_key_hash &&
	    memcmp(r->tls_key_hash, w->tls_key_hash, RPT_TLS_HASH_LEN) != 0)
		return fail(err, err_len, REPORT_E_TLS_KEY,
			    "report vouches for another TLS key than the one this connection uses");
	if (!w->allow_dev && dev_reasons)
		return refuse_dev(dev_reasons, err, err_len);
	return REPORT_OK;
}

int report_verify(const uint8_t *buf, size_t len, const uint8_t *root,
		  size_t root_len, const struct report_expect *want,
		  struct report *out, struct report_verdict *verdict,
		  char *err, size_t err_len)
{
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	char why[CERT_ERR_LEN] = "";
	struct report_verdict v = { false, 0 };
	struct report r;
	int rc;

	if (err && err_len)
		err[0] = '\0';
	if (!buf || !root || !want || !want->nonce || !out)
		return fail(err, err_len, REPORT_E_INVAL,
			    "report_verify: missing argument");
	if (want->nonce_len < REPORT_NONCE_MIN ||
	    want->nonce_len > REPORT_NONCE_MAX)
		return fail(err, err_len, REPORT_E_INVAL,
			    "expected nonce length %zu is not in %u..%u",
			    want->nonce_len, REPORT_NONCE_MIN, REPORT_NONCE_MAX);
	if (report_parse(buf, len, &r, why, sizeof(why)))
		return fail(err, err_len, REPORT_E_MALFORMED,
			    "malformed report: %s", why);
	if ((rc = check_cert(&r, root, root_len, pub, &v.dev_identity, err,
			     err_len)) ||
	    (rc = check_signature(buf, &r, pub, err, err_len)))
		return rc;
	v.dev_reasons = report_dev_reasons(&r, v.dev_identity);
	if ((rc = check_claims(&r, want, v.dev_reasons, err, err_len)))
		return rc;
	*out = r;
	if (verdict)
		*verdict = v;
	return REPORT_OK;
}
