/*
 * Verifying a platform report on the tenant side (include/custos/report.h,
 * docs/report.md).
 *
 * Order matters: structure, then who signed it, then that the signature
 * covers the bytes, and only then what the bytes say (nonce, TLS key, dev
 * mode). So a message about the nonce means "authentic but not an answer
 * to us" (a replay), never "garbled". Each refusal has its own code and one
 * line naming the check, as envelope_open() does.
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
		CRYPTO_ROLE_TPGVM_TLS,
	};

	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		if (crypto_x509_verify(r->cert, r->cert_len, root, root_len,
				       others[i], NULL, NULL, 0) == CRYPTO_OK)
			return others[i];
	return 0;
}

static int check_cert(const struct report *r, const uint8_t *root,
		      size_t root_len, uint8_t pub[CRYPTO_P384_PUB_LEN],
		      char *err, size_t err_len)
{
	char why[CERT_ERR_LEN] = "";
	enum crypto_role role;
	int rc;

	rc = crypto_x509_verify(r->cert, r->cert_len, root, root_len,
				CRYPTO_ROLE_TCB_SIGN, pub, why, sizeof(why));
	if (rc == CRYPTO_OK)
		return REPORT_OK;
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

/* What the authentic report says, against what we expect. */
static int check_claims(const struct report *r, const struct report_expect *w,
			char *err, size_t err_len)
{
	if (r->nonce_len != w->nonce_len ||
	    memcmp(r->nonce, w->nonce, w->nonce_len) != 0)
		return fail(err, err_len, REPORT_E_NONCE,
			    "report answers another nonce (a replay, or a request not ours)");
	if (w->tls_key_hash &&
	    memcmp(r->tls_key_hash, w->tls_key_hash, RPT_TLS_HASH_LEN) != 0)
		return fail(err, err_len, REPORT_E_TLS_KEY,
			    "report vouches for another TLS key than the one this connection uses");
	if (!w->allow_dev && report_is_dev(r))
		return fail(err, err_len, REPORT_E_DEV,
			    "platform is in dev mode (keys %s, launch %s%s); refused without allow-dev",
			    r->key_protection == REPORT_KEYS_TPM ? "tpm" : "dev",
			    r->launch_mode == REPORT_LAUNCH_DRTM ? "drtm" :
			    r->launch_mode == REPORT_LAUNCH_SRTM ? "srtm" : "dev",
			    r->debug ? ", debug options on" : "");
	return REPORT_OK;
}

int report_verify(const uint8_t *buf, size_t len, const uint8_t *root,
		  size_t root_len, const struct report_expect *want,
		  struct report *out, char *err, size_t err_len)
{
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	char why[CERT_ERR_LEN] = "";
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
	if ((rc = check_cert(&r, root, root_len, pub, err, err_len)) ||
	    (rc = check_signature(buf, &r, pub, err, err_len)) ||
	    (rc = check_claims(&r, want, err, err_len)))
		return rc;
	*out = r;
	return REPORT_OK;
}
