/*
 * Certificate requests (PKCS#10, RFC 2986) for tenant enrollment, host
 * only (crypto/pki_host.h): `custos enroll` makes one with the tenant's own
 * key, `custos-ca sign-csr` reads one. mbedTLS parses the request's
 * structure, subject and key and checks its self-signature here; the
 * requested role, in the request's attributes, which mbedTLS 2.28 does not
 * parse, is read by tools/csr_policy.c.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/pki_host.h"
#include "crypto/crypto_internal.h"
#include "crypto/pki_internal.h"

#include "mbedtls/md.h"
#include "mbedtls/oid.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/x509_csr.h"

#define CSR_DER_MAX 2048
#define CSR_PEM_MAX 3072

static void clear_err(char *err, size_t err_len)
{
	if (err != NULL && err_len != 0)
		err[0] = '\0';
}

void pki_csr_free(struct pki_csr *c)
{
	if (c == NULL)
		return;
	free(c->cri);
	memset(c, 0, sizeof(*c));
}

static int csr_der(void *w, unsigned char *buf, size_t size)
{
	return mbedtls_x509write_csr_der(w, buf, size, pki_rng, NULL);
}

static int csr_pem(void *w, unsigned char *buf, size_t size)
{
	return mbedtls_x509write_csr_pem(w, buf, size, pki_rng, NULL);
}

/* DER and PEM of the request described by w. */
static int csr_finish(mbedtls_x509write_csr *w, struct pki_cert *out)
{
	static const struct pki_writer csr = { csr_der, csr_pem, CSR_DER_MAX,
					       CSR_PEM_MAX };

	return pki_write_der_pem(&csr, w, out);
}

int pki_csr_make(const uint8_t priv[CRYPTO_P384_PRIV_LEN], const char *cn,
		 enum crypto_role role, struct pki_cert *out, char *err, size_t err_len)
{
	mbedtls_x509write_csr w;
	mbedtls_pk_context key;
	unsigned char eku[128], *der;
	char subject[PKI_CN_MAX + 4];
	size_t eku_len;
	int ret, rc;

	clear_err(err, err_len);
	memset(out, 0, sizeof(*out));
	if (!pki_cn_ok(cn))
		return crypto_err_set(err, err_len, CRYPTO_E_INVAL,
				      "bad CN: 1-%d printable ASCII characters, none of , = + \\ \" < > ; #",
				      PKI_CN_MAX);
	mbedtls_x509write_csr_init(&w);
	mbedtls_pk_init(&key);
	if (pki_pk_from_priv(&key, priv) != 0) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL, "not a valid P-384 private key");
		goto out;
	}
	snprintf(subject, sizeof(subject), "CN=%s", cn);
	mbedtls_x509write_csr_set_key(&w, &key);
	mbedtls_x509write_csr_set_md_alg(&w, MBEDTLS_MD_SHA384);
	ret = mbedtls_x509write_csr_set_subject_name(&w, subject);
	/* The role asked for, as the certificate would carry it: an
	 * extensionRequest attribute holding extendedKeyUsage. */
	if (ret == 0)
		ret = pki_eku_der(role, eku, sizeof(eku), &der, &eku_len);
	if (ret == 0)
		ret = mbedtls_x509write_csr_set_extension(&w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
							  MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
							  der, eku_len);
	if (ret == 0)
		ret = csr_finish(&w, out);
	rc = ret == 0 ? CRYPTO_OK
		      : crypto_err_set(err, err_len, CRYPTO_E_INTERNAL,
				       "cannot write the certificate request (mbedTLS -0x%04x)",
				       (unsigned)-ret);
out:
	mbedtls_x509write_csr_free(&w);
	mbedtls_pk_free(&key);
	return rc;
}

/* The subject's one CN into cn, or -1: exactly one attribute, a CN. */
static int only_cn(const mbedtls_x509_name *name, char cn[PKI_CN_MAX + 1])
{
	if (name == NULL || name->next != NULL || MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &name->oid) ||
	    name->val.len == 0 || name->val.len > PKI_CN_MAX)
		return -1;
	memcpy(cn, name->val.p, name->val.len);
	cn[name->val.len] = '\0';
	return strlen(cn) == name->val.len && pki_cn_ok(cn) ? 0 : -1;
}

/* The request's self-signature: ECDSA with SHA-384 by its own key. */
static int self_signature_ok(mbedtls_x509_csr *csr)
{
	uint8_t hash[CRYPTO_SHA384_LEN];
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);

	if (md == NULL || mbedtls_md(md, csr->cri.p, csr->cri.len, hash) != 0)
		return -1;
	return mbedtls_pk_verify_ext(csr->sig_pk, csr->sig_opts, &csr->pk, csr->sig_md, hash,
				     sizeof(hash), csr->sig.p, csr->sig.len) == 0 ? 0 : -1;
}

/* Everything but the parse: key, signature algorithm, signature, subject. */
static int csr_check(mbedtls_x509_csr *csr, struct pki_csr *out, char *err, size_t err_len)
{
	mbedtls_ecp_keypair *ec = pki_p384_of(&csr->pk);

	if (ec == NULL)
		return crypto_err_set(err, err_len, CRYPTO_E_INVAL,
				      "the request's key is not a P-384 EC key (Custos keys are P-384)");
	if (csr->sig_pk != MBEDTLS_PK_ECDSA || csr->sig_md != MBEDTLS_MD_SHA384)
		return crypto_err_set(err, err_len, CRYPTO_E_INVAL,
				      "the request is not signed with ECDSA-SHA-384");
	if (self_signature_ok(csr) != 0)
		return crypto_err_set(err, err_len, CRYPTO_E_VERIFY,
				      "the request's self-signature does not verify: it was not made "
				      "by the holder of its key, or was altered");
	if (only_cn(&csr->subject, out->cn) != 0)
		return crypto_err_set(err, err_len, CRYPTO_E_INVAL,
				      "the request's subject is not exactly one common name of 1-%d "
				      "printable ASCII characters", PKI_CN_MAX);
	if (pki_write_pub(ec, out->pub) != 0)
		return crypto_err_set(err, err_len, CRYPTO_E_INVAL, "the request's key is unusable");
	return CRYPTO_OK;
}

/* PEM starts with its armour; anything else is taken as DER. */
static bool is_pem(const uint8_t *data, size_t len)
{
	static const char armour[] = "-----BEGIN";

	return len >= sizeof(armour) - 1 && memcmp(data, armour, sizeof(armour) - 1) == 0;
}

int pki_csr_read(const uint8_t *data, size_t len, struct pki_csr *out, char *err,
		 size_t err_len)
{
	mbedtls_x509_csr csr;
	uint8_t *buf;
	int rc;

	clear_err(err, err_len);
	memset(out, 0, sizeof(*out));
	if (len == 0 || len > PKI_CSR_MAX)
		return crypto_err_set(err, err_len, CRYPTO_E_INVAL,
				      "a certificate request is 1..%d bytes, not %zu", PKI_CSR_MAX, len);
	/* mbedTLS takes PEM only NUL-terminated, with the NUL counted. */
	buf = malloc(len + 1);
	if (buf == NULL)
		return crypto_err_set(err, err_len, CRYPTO_E_NOMEM, "out of memory");
	memcpy(buf, data, len);
	buf[len] = '\0';
	mbedtls_x509_csr_init(&csr);
	if (mbedtls_x509_csr_parse(&csr, buf, is_pem(data, len) ? len + 1 : len) != 0) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL,
				    "not a PKCS#10 certificate request (PEM or DER)");
		goto out;
	}
	rc = csr_check(&csr, out, err, err_len);
	if (rc == CRYPTO_OK) {
		out->cri = malloc(csr.cri.len);
		if (out->cri == NULL) {
			rc = crypto_err_set(err, err_len, CRYPTO_E_NOMEM, "out of memory");
			goto out;
		}
		memcpy(out->cri, csr.cri.p, csr.cri.len);
		out->cri_len = csr.cri.len;
	}
out:
	mbedtls_x509_csr_free(&csr);
	free(buf);
	return rc;
}

void pki_key_fingerprint(const uint8_t pub[CRYPTO_P384_PUB_LEN],
			 uint8_t out[CRYPTO_SHA384_LEN])
{
	/* The DER SubjectPublicKeyInfo of a P-384 key (RFC 5480): a fixed
	 * prefix, then the uncompressed point. */
	static const uint8_t prefix[] = {
		0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
		0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
	};
	struct crypto_sha384_ctx c;

	crypto_sha384_init(&c);
	crypto_sha384_update(&c, prefix, sizeof(prefix));
	crypto_sha384_update(&c, pub, CRYPTO_P384_PUB_LEN);
	crypto_sha384_final(&c, out);
}
