/*
 * Host-only PKI helpers (see pki_host.h): key files and certificate
 * issuance with mbedTLS's pk and x509write modules. Not in the TCB.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/pki_host.h"
#include "crypto/new_file.h"
#include "crypto/pki_internal.h"
#include "crypto/crypto_internal.h"

#include "mbedtls/asn1write.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ecp.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/x509_crt.h"

#define CERT_DER_MAX 4096
#define CERT_PEM_MAX 6144


static void clear_err(char *err, size_t err_len)
{
	if (err != NULL && err_len != 0)
		err[0] = '\0';
}

/* The DRBG of crypto.c as an mbedTLS f_rng. */
int pki_rng(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	return crypto_random(out, len) == CRYPTO_OK ? 0 : MBEDTLS_ERR_ECP_RANDOM_FAILED;
}

void pki_cert_free(struct pki_cert *c)
{
	if (c == NULL)
		return;
	free(c->der);
	free(c->pem);
	memset(c, 0, sizeof(*c));
}

int pki_write_file(const char *path, const void *data, size_t len, mode_t mode,
		   char *err, size_t err_len)
{
	struct stat st;

	clear_err(err, err_len);
	if (new_file_write(path, data, len, mode, err, err_len) == 0)
		return CRYPTO_OK;
	/* What was there stays: a refusal, not a failure of ours. */
	return lstat(path, &st) == 0 ? CRYPTO_E_INVAL : CRYPTO_E_INTERNAL;
}

/* ---- keys -------------------------------------------------------------------------- */

/* pk <- the P-384 key pair of priv (the public point computed). */
int pki_pk_from_priv(mbedtls_pk_context *pk, const uint8_t priv[CRYPTO_P384_PRIV_LEN])
{
	mbedtls_ecp_keypair *ec;
	int ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));

	if (ret != 0)
		return ret;
	ec = mbedtls_pk_ec(*pk);
	ret = mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP384R1);
	if (ret == 0)
		ret = mbedtls_mpi_read_binary(&ec->d, priv, CRYPTO_P384_PRIV_LEN);
	if (ret == 0)
		ret = mbedtls_ecp_check_privkey(&ec->grp, &ec->d);
	if (ret == 0)
		ret = mbedtls_ecp_mul(&ec->grp, &ec->Q, &ec->d, &ec->grp.G, pki_rng, NULL);
	return ret;
}

/* pk <- the P-384 public key pub (checked to be on the curve). */
static int pk_from_pub(mbedtls_pk_context *pk, const uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	mbedtls_ecp_keypair *ec;
	int ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));

	if (ret != 0)
		return ret;
	if (pub[0] != 0x04)
		return MBEDTLS_ERR_ECP_INVALID_KEY;
	ec = mbedtls_pk_ec(*pk);
	ret = mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP384R1);
	if (ret == 0)
		ret = mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, pub, CRYPTO_P384_PUB_LEN);
	if (ret == 0)
		ret = mbedtls_ecp_check_pubkey(&ec->grp, &ec->Q);
	return ret;
}

/* The P-384 key in pk, or NULL if it is another kind of key. */
mbedtls_ecp_keypair *pki_p384_of(mbedtls_pk_context *pk)
{
	mbedtls_pk_type_t t = mbedtls_pk_get_type(pk);

	if (t != MBEDTLS_PK_ECKEY && t != MBEDTLS_PK_ECDSA && t != MBEDTLS_PK_ECKEY_DH)
		return NULL;
	if (mbedtls_pk_ec(*pk)->grp.id != MBEDTLS_ECP_DP_SECP384R1)
		return NULL;
	return mbedtls_pk_ec(*pk);
}

int pki_write_pub(const mbedtls_ecp_keypair *ec, uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	size_t olen = 0;
	int ret = mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q,
						 MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
						 pub, CRYPTO_P384_PUB_LEN);

	return ret == 0 && olen != CRYPTO_P384_PUB_LEN ? MBEDTLS_ERR_ECP_BAD_INPUT_DATA : ret;
}

int pki_key_encode_pem(const uint8_t priv[CRYPTO_P384_PRIV_LEN], char *pem, size_t cap,
		       size_t *len, char *err, size_t err_len)
{
	mbedtls_pk_context pk;
	int ret, rc = CRYPTO_OK;

	clear_err(err, err_len);
	*len = 0;
	mbedtls_pk_init(&pk);
	ret = pki_pk_from_priv(&pk, priv);
	if (ret != 0) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL, "not a valid P-384 private key");
		goto out;
	}
	ret = mbedtls_pk_write_key_pem(&pk, (unsigned char *)pem, cap);
	if (ret != 0) {
		mbedtls_platform_zeroize(pem, cap);
		rc = crypto_err_set(err, err_len, CRYPTO_E_INTERNAL,
			  "cannot encode the key as PEM (an internal error of mbedTLS)");
		goto out;
	}
	*len = strlen(pem);
out:
	mbedtls_pk_free(&pk);
	return rc;
}

int pki_key_write(const char *path, const uint8_t priv[CRYPTO_P384_PRIV_LEN],
		  char *err, size_t err_len)
{
	char pem[PKI_KEY_PEM_MAX];
	size_t len;
	int rc = pki_key_encode_pem(priv, pem, sizeof(pem), &len, err, err_len);

	if (rc == CRYPTO_OK)
		rc = pki_write_file(path, pem, len, 0600, err, err_len);
	mbedtls_platform_zeroize(pem, sizeof(pem));
	return rc;
}

int pki_key_generate(const char *path, uint8_t priv[CRYPTO_P384_PRIV_LEN],
		     uint8_t pub[CRYPTO_P384_PUB_LEN], char *err, size_t err_len)
{
	uint8_t d[CRYPTO_P384_PRIV_LEN], q[CRYPTO_P384_PUB_LEN];
	int rc;

	clear_err(err, err_len);
	rc = crypto_p384_keygen(d, q);
	if (rc != CRYPTO_OK)
		return crypto_err_set(err, err_len, rc, "key generation failed: %s",
			    crypto_strerror(rc));
	rc = pki_key_write(path, d, err, err_len);
	if (rc == CRYPTO_OK) {
		if (priv != NULL)
			memcpy(priv, d, sizeof(d));
		if (pub != NULL)
			memcpy(pub, q, sizeof(q));
	}
	crypto_wipe(d, sizeof(d));
	return rc;
}

int pki_key_read(const char *path, uint8_t priv[CRYPTO_P384_PRIV_LEN],
		 uint8_t pub[CRYPTO_P384_PUB_LEN], char *err, size_t err_len)
{
	mbedtls_pk_context pk;
	mbedtls_ecp_keypair *ec;
	int ret, rc;

	clear_err(err, err_len);
	mbedtls_pk_init(&pk);
	ret = mbedtls_pk_parse_keyfile(&pk, path, NULL);
	if (ret != 0) {
		rc = ret == MBEDTLS_ERR_PK_FILE_IO_ERROR
			     ? crypto_err_set(err, err_len, CRYPTO_E_INVAL, "%s: cannot read it", path)
			     : crypto_err_set(err, err_len, CRYPTO_E_INVAL,
				    "%s: not a private key file (PEM or DER)", path);
		goto out;
	}
	ec = pki_p384_of(&pk);
	if (ec == NULL) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL, "%s: not a P-384 EC key", path);
		goto out;
	}
	ret = mbedtls_mpi_write_binary(&ec->d, priv, CRYPTO_P384_PRIV_LEN);
	if (ret == 0 && pub != NULL)
		ret = pki_write_pub(ec, pub);
	rc = ret == 0 ? CRYPTO_OK
		      : crypto_err_set(err, err_len, CRYPTO_E_INTERNAL, "%s: cannot extract the key", path);
	if (rc != CRYPTO_OK)
		crypto_wipe(priv, CRYPTO_P384_PRIV_LEN);
out:
	mbedtls_pk_free(&pk);
	return rc;
}

/* ---- certificates ---------------------------------------------------------------- */

/* A CN that needs no escaping in mbedTLS's "CN=..." name strings. */
bool pki_cn_ok(const char *cn)
{
	size_t n = cn != NULL ? strlen(cn) : 0;

	if (n == 0 || n > PKI_CN_MAX || cn[0] == ' ' || cn[n - 1] == ' ')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)cn[i];

		if (c < 0x20 || c > 0x7e || strchr(",=+\\\"<>;#", c) != NULL)
			return false;
	}
	return true;
}

static int bad_cn(char *err, size_t err_len)
{
	return crypto_err_set(err, err_len, CRYPTO_E_INVAL,
			      "bad CN: 1-%d printable ASCII characters, none of , = + \\ \" < > ; #",
			      PKI_CN_MAX);
}

/* "YYYYMMDDhhmmss" for t (UTC). */
static bool x509_time(time_t t, char out[15])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return false;
	return strftime(out, 15, "%Y%m%d%H%M%S", &tm) == 14;
}

int pki_eku_der(enum crypto_role role, unsigned char *buf, size_t cap,
		unsigned char **der, size_t *der_len)
{
	unsigned char *p = buf + cap;
	const uint8_t *oid;
	size_t oid_len, len = 0;
	int ret;

	if (crypto_role_oid(role, &oid, &oid_len) != CRYPTO_OK)
		return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
	/* Written back to front. */
	if (role == CRYPTO_ROLE_TENANT)
		ret = mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_CLIENT_AUTH,
					     MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH));
	else if (role == CRYPTO_ROLE_TPGVM_TLS)
		ret = mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_SERVER_AUTH,
					     MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH));
	else
		ret = 0;
	if (ret < 0)
		return ret;
	len += (size_t)ret;
	ret = mbedtls_asn1_write_oid(&p, buf, (const char *)oid, oid_len);
	if (ret < 0)
		return ret;
	len += (size_t)ret;
	ret = mbedtls_asn1_write_len(&p, buf, len);
	if (ret < 0)
		return ret;
	len += (size_t)ret;
	ret = mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE);
	if (ret < 0)
		return ret;
	len += (size_t)ret;
	*der = p;
	*der_len = len;
	return 0;
}

/* extendedKeyUsage: the role's OID, and the TLS purpose it implies. */
static int set_eku(mbedtls_x509write_cert *crt, enum crypto_role role)
{
	unsigned char buf[128], *der;
	size_t len;
	int ret = pki_eku_der(role, buf, sizeof(buf), &der, &len);

	if (ret != 0)
		return ret;
	return mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
						   MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
						   0, der, len);
}

/* A random positive 128-bit serial. */
static int set_serial(mbedtls_x509write_cert *crt)
{
	uint8_t b[16];
	mbedtls_mpi serial;
	int ret;

	if (crypto_random(b, sizeof(b)) != CRYPTO_OK)
		return MBEDTLS_ERR_ECP_RANDOM_FAILED;
	b[0] = (uint8_t)((b[0] & 0x7f) | 0x40); /* positive, and 16 bytes long */
	mbedtls_mpi_init(&serial);
	ret = mbedtls_mpi_read_binary(&serial, b, sizeof(b));
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_serial(crt, &serial);
	mbedtls_mpi_free(&serial);
	return ret;
}

/* The fields every certificate here has. */
static int set_common(mbedtls_x509write_cert *crt, const char *subject_cn,
		      const char *issuer_name, unsigned days)
{
	char subject[PKI_CN_MAX + 4], nb[15], na[15];
	time_t now = time(NULL);
	int ret;

	mbedtls_x509write_crt_set_version(crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(crt, MBEDTLS_MD_SHA384);
	snprintf(subject, sizeof(subject), "CN=%s", subject_cn);
	if (!x509_time(now, nb) || !x509_time(now + (time_t)days * 86400, na))
		return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
	ret = set_serial(crt);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_validity(crt, nb, na);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_subject_name(crt, subject);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_issuer_name(crt, issuer_name);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_subject_key_identifier(crt);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_authority_key_identifier(crt);
	return ret;
}

int pki_write_der_pem(const struct pki_writer *wr, void *w, struct pki_cert *out)
{
	unsigned char *der = malloc(wr->der_max), *pem = malloc(wr->pem_max);
	int ret = MBEDTLS_ERR_X509_ALLOC_FAILED;

	if (der == NULL || pem == NULL)
		goto bad;
	/* mbedtls writes the DER at the end of the buffer. */
	ret = wr->der(w, der, wr->der_max);
	if (ret <= 0)
		goto bad;
	out->der_len = (size_t)ret;
	memmove(der, der + wr->der_max - out->der_len, out->der_len);
	ret = wr->pem(w, pem, wr->pem_max);
	if (ret != 0)
		goto bad;
	out->der = der;
	out->pem = (char *)pem;
	out->pem_len = strlen(out->pem);
	return 0;
bad:
	free(der);
	free(pem);
	memset(out, 0, sizeof(*out));
	return ret < 0 ? ret : MBEDTLS_ERR_X509_BAD_INPUT_DATA;
}

static int cert_der(void *w, unsigned char *buf, size_t size)
{
	return mbedtls_x509write_crt_der(w, buf, size, pki_rng, NULL);
}

static int cert_pem(void *w, unsigned char *buf, size_t size)
{
	return mbedtls_x509write_crt_pem(w, buf, size, pki_rng, NULL);
}

/* DER and PEM of the certificate described by crt. */
static int finish(mbedtls_x509write_cert *crt, struct pki_cert *out)
{
	static const struct pki_writer cert = { cert_der, cert_pem, CERT_DER_MAX,
						CERT_PEM_MAX };

	return pki_write_der_pem(&cert, crt, out);
}

int pki_issue_root(const uint8_t ca_priv[CRYPTO_P384_PRIV_LEN], const char *cn,
		   unsigned days, struct pki_cert *out, char *err, size_t err_len)
{
	mbedtls_x509write_cert crt;
	mbedtls_pk_context key;
	char issuer[PKI_CN_MAX + 4];
	int ret, rc;

	clear_err(err, err_len);
	memset(out, 0, sizeof(*out));
	if (!pki_cn_ok(cn))
		return bad_cn(err, err_len);
	if (days == 0 || days > 36500)
		return crypto_err_set(err, err_len, CRYPTO_E_INVAL, "validity must be 1 to 36500 days");
	mbedtls_x509write_crt_init(&crt);
	mbedtls_pk_init(&key);
	if (pki_pk_from_priv(&key, ca_priv) != 0) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL, "not a valid P-384 private key");
		goto out;
	}
	snprintf(issuer, sizeof(issuer), "CN=%s", cn);
	mbedtls_x509write_crt_set_subject_key(&crt, &key);
	mbedtls_x509write_crt_set_issuer_key(&crt, &key);
	ret = set_common(&crt, cn, issuer, days);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_basic_constraints(&crt, 1, 0);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_KEY_CERT_SIGN |
								MBEDTLS_X509_KU_CRL_SIGN);
	if (ret == 0)
		ret = finish(&crt, out);
	rc = ret == 0 ? CRYPTO_OK
		      : crypto_err_set(err, err_len, CRYPTO_E_INTERNAL,
			     "cannot write the CA certificate (an internal error of mbedTLS)");
out:
	mbedtls_x509write_crt_free(&crt);
	mbedtls_pk_free(&key);
	return rc;
}

int pki_issue_leaf(const uint8_t ca_priv[CRYPTO_P384_PRIV_LEN],
		   const uint8_t *ca_der, size_t ca_der_len,
		   const uint8_t subject_pub[CRYPTO_P384_PUB_LEN], const char *cn,
		   enum crypto_role role, unsigned days, struct pki_cert *out,
		   char *err, size_t err_len)
{
	mbedtls_x509write_cert crt;
	mbedtls_pk_context ca_key, subject;
	mbedtls_x509_crt ca;
	mbedtls_ecp_keypair *ca_ec;
	const uint8_t *oid;
	size_t oid_len;
	char issuer[256];
	int ret, rc;

	clear_err(err, err_len);
	memset(out, 0, sizeof(*out));
	if (!pki_cn_ok(cn))
		return bad_cn(err, err_len);
	if (crypto_role_oid(role, &oid, &oid_len) != CRYPTO_OK)
		return crypto_err_set(err, err_len, CRYPTO_E_INVAL, "unknown role %d", (int)role);
	if (days == 0 || days > 36500)
		return crypto_err_set(err, err_len, CRYPTO_E_INVAL, "validity must be 1 to 36500 days");
	mbedtls_x509write_crt_init(&crt);
	mbedtls_pk_init(&ca_key);
	mbedtls_pk_init(&subject);
	mbedtls_x509_crt_init(&ca);
	if (mbedtls_x509_crt_parse_der(&ca, ca_der, ca_der_len) != 0 || !ca.ca_istrue) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL, "the CA certificate is not a CA certificate");
		goto out;
	}
	if (pki_pk_from_priv(&ca_key, ca_priv) != 0) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL, "the CA key is not a valid P-384 key");
		goto out;
	}
	ca_ec = pki_p384_of(&ca.pk);
	if (ca_ec == NULL ||
	    mbedtls_ecp_point_cmp(&ca_ec->Q, &mbedtls_pk_ec(ca_key)->Q) != 0) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL,
			  "the CA key does not belong to the CA certificate");
		goto out;
	}
	if (pk_from_pub(&subject, subject_pub) != 0) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL, "the subject key is not a P-384 public key");
		goto out;
	}
	ret = mbedtls_x509_dn_gets(issuer, sizeof(issuer), &ca.subject);
	if (ret < 0) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL, "cannot read the CA's name");
		goto out;
	}
	mbedtls_x509write_crt_set_subject_key(&crt, &subject);
	mbedtls_x509write_crt_set_issuer_key(&crt, &ca_key);
	ret = set_common(&crt, cn, issuer, days);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_key_usage(
			&crt, crypto_role_agrees_keys(role) ? MBEDTLS_X509_KU_KEY_AGREEMENT
							    : MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
	if (ret == 0)
		ret = set_eku(&crt, role);
	if (ret == 0)
		ret = finish(&crt, out);
	rc = ret == 0 ? CRYPTO_OK
		      : crypto_err_set(err, err_len, CRYPTO_E_INTERNAL,
			     "cannot write the certificate (an internal error of mbedTLS)");
out:
	mbedtls_x509write_crt_free(&crt);
	mbedtls_x509_crt_free(&ca);
	mbedtls_pk_free(&subject);
	mbedtls_pk_free(&ca_key);
	return rc;
}

int pki_cert_read(const char *path, uint8_t **der, size_t *der_len,
		  char *err, size_t err_len)
{
	mbedtls_x509_crt crt;
	int ret, rc;

	clear_err(err, err_len);
	*der = NULL;
	*der_len = 0;
	mbedtls_x509_crt_init(&crt);
	ret = mbedtls_x509_crt_parse_file(&crt, path);
	if (ret != 0) {
		rc = ret == MBEDTLS_ERR_PK_FILE_IO_ERROR
			     ? crypto_err_set(err, err_len, CRYPTO_E_INVAL, "%s: cannot read it", path)
			     : crypto_err_set(err, err_len, CRYPTO_E_INVAL,
				    "%s: not an X.509 certificate (PEM or DER)%s", path,
				    ret > 0 ? ": some blocks did not parse" : "");
		goto out;
	}
	if (crt.next != NULL) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL,
			  "%s: holds more than one certificate", path);
		goto out;
	}
	*der = malloc(crt.raw.len);
	if (*der == NULL) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_NOMEM, "out of memory");
		goto out;
	}
	memcpy(*der, crt.raw.p, crt.raw.len);
	*der_len = crt.raw.len;
	rc = CRYPTO_OK;
out:
	mbedtls_x509_crt_free(&crt);
	return rc;
}
