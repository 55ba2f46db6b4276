/*
 * Attestation-key enrollment, the CA's side (tools/tpm_credential.h).
 *
 * The hypervisor never makes credentials (it activates them, in its TPM),
 * so the algorithms here that Custos uses nowhere else - RSA-OAEP, AES-128
 * in CFB mode, HMAC-SHA-256, TPM KDFa - come from the system mbedTLS
 * directly and stay out of the shared crypto layer, whose algorithm set is
 * the TCB's.
 *
 * The EK certificate and the attestation key's public area come from the
 * platform, which the CA does not trust: both are checked completely
 * before anything is made from them, and the TPM's proof (activating the
 * credential) is what finally binds them together.
 */
#include "tools/tpm_credential.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"
#include <custos/report.h>
#include "tcb/tpm_enroll.h"

#include <string.h>

#include "mbedtls/aes.h"
#include "mbedtls/ecp.h"
#include "mbedtls/md.h"
#include "mbedtls/rsa.h"
#include "mbedtls/x509_crt.h"

/* The TPM marshals big-endian; Custos' own formats are little-endian. */
static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	put_be16(p, (uint16_t)(v >> 16));
	put_be16(p + 2, (uint16_t)v);
}

/* ---- The attestation key ------------------------------------------------- */

/* TPMT_PUBLIC of the Custos AK (tcb/tpm2_cmd.c, tpm2_build_create_ak), up
 * to the x coordinate; big-endian as the TPM marshals it. */
static const struct {
	unsigned off, len;
	const char *bytes;
	const char *what;
} ak_fields[] = {
	{ 0, 2, "\x00\x23", "type is not ECC" },
	{ 2, 2, "\x00\x0c", "nameAlg is not SHA-384" },
	{ 4, 4, "\x00\x05\x00\x72", "attributes are not fixedTPM|fixedParent|"
	  "sensitiveDataOrigin|userWithAuth|restricted|sign (0x00050072)" },
	{ 8, 2, "\x00\x00", "authPolicy is not empty" },
	{ 10, 2, "\x00\x10", "symmetric algorithm is not NULL" },
	{ 12, 4, "\x00\x18\x00\x0c", "signing scheme is not ECDSA with SHA-384" },
	{ 16, 2, "\x00\x04", "curve is not NIST P-384" },
	{ 18, 2, "\x00\x10", "kdf is not NULL" },
	{ 20, 2, "\x00\x30", "x coordinate is not 48 bytes" },
	{ 70, 2, "\x00\x30", "y coordinate is not 48 bytes" },
};

bool tpm_p384_point_valid(const uint8_t point[CRYPTO_P384_PUB_LEN])
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	int ret;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	ret = mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP384R1);
	if (ret == 0)
		ret = mbedtls_ecp_point_read_binary(&grp, &q, point,
						    CRYPTO_P384_PUB_LEN);
	if (ret == 0)
		ret = mbedtls_ecp_check_pubkey(&grp, &q);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
	return ret == 0;
}

int tpm_ak_check(const uint8_t *pub, size_t len,
		 uint8_t point[CRYPTO_P384_PUB_LEN],
		 uint8_t name[TPM_AK_NAME_LEN], char *err, size_t err_len)
{
	uint8_t q[CRYPTO_P384_PUB_LEN];

	/* Every field is fixed by the template, so its length is too: a
	 * longer area carries something the TCB never asked for. */
	if (len != TPM_AK_PUBLIC_LEN)
		return errmsg(err, err_len, "the attestation key's TPMT_PUBLIC is "
			      "%zu bytes, not the Custos AK's %u", len,
			      TPM_AK_PUBLIC_LEN);
	for (size_t i = 0; i < sizeof(ak_fields) / sizeof(ak_fields[0]); i++)
		if (memcmp(pub + ak_fields[i].off, ak_fields[i].bytes,
			   ak_fields[i].len) != 0)
			return errmsg(err, err_len, "not the Custos attestation key: "
				      "its %s", ak_fields[i].what);
	q[0] = 0x04;
	memcpy(q + 1, pub + 22, 48);
	memcpy(q + 49, pub + 72, 48);
	if (!tpm_p384_point_valid(q))
		return errmsg(err, err_len, "the attestation key's point is not on "
			      "the P-384 curve");
	if (point)
		memcpy(point, q, sizeof(q));
	if (name) {
		name[0] = 0x00; /* TPM_ALG_SHA384, big-endian */
		name[1] = 0x0c;
		crypto_sha384(pub, len, name + 2);
	}
	return 0;
}

int tpm_report_ak(const uint8_t *rpt, size_t len, const uint8_t **ak,
		  size_t *ak_len, char *err, size_t err_len)
{
	struct report r;
	char why[160];

	if (report_parse(rpt, len, &r, why, sizeof(why)) != 0)
		return errmsg(err, err_len, "not a well-formed platform report: %s", why);
	if (!r.tpm_len)
		return errmsg(err, err_len, "the report carries no TPM evidence, so no "
			      "attestation key to enroll (its platform ran without a "
			      "usable TPM)");
	*ak = r.ak_public;
	*ak_len = r.ak_public_len;
	return 0;
}

/* ---- The EK certificate ---------------------------------------------------- */

/*
 * What an EK CA may sign with: RSA 2048 and up, or ECDSA on P-256/P-384
 * (some vendors' EK CAs are ECC, e.g. firmware TPMs), with SHA-256 or
 * stronger. The EK itself is held to RSA 2048 / 65537 separately.
 */
static const mbedtls_x509_crt_profile ek_profile = {
	.allowed_mds = MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA256) |
		       MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA384) |
		       MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA512),
	.allowed_pks = MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_RSA) |
		       MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECKEY) |
		       MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECDSA),
	.allowed_curves = MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP256R1) |
			  MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP384R1),
	.rsa_min_bitlen = 2048,
};

/* The EK's own key: RSA 2048, e = 65537 (TCG EK template L-1, whose
 * exponent 0 means 65537), and the certificate an end-entity one for
 * encryption. */
static int ek_key(const mbedtls_x509_crt *ek, uint8_t modulus[TPM_EK_MODULUS_LEN],
		  char *err, size_t err_len)
{
	const mbedtls_rsa_context *rsa;
	uint8_t e[4];

	if (ek->ca_istrue)
		return errmsg(err, err_len, "the EK certificate is a CA certificate");
	/* No keyUsage extension allows everything; an EK certificate that
	 * has one must allow keyEncipherment (the EK decrypts the seed). */
	if (mbedtls_x509_crt_check_key_usage(ek, MBEDTLS_X509_KU_KEY_ENCIPHERMENT) != 0)
		return errmsg(err, err_len, "the EK certificate's keyUsage does not "
			      "allow keyEncipherment");
	if (mbedtls_pk_get_type(&ek->pk) != MBEDTLS_PK_RSA)
		return errmsg(err, err_len, "the EK certificate's key is %s, not RSA "
			      "2048 (only the TCG RSA EK template L-1 is supported)",
			      mbedtls_pk_get_name(&ek->pk));
	rsa = mbedtls_pk_rsa(ek->pk);
	if (mbedtls_rsa_get_len(rsa) != TPM_EK_MODULUS_LEN ||
	    mbedtls_pk_get_bitlen(&ek->pk) != 2048)
		return errmsg(err, err_len, "the EK certificate's key is RSA %zu, not "
			      "RSA 2048", mbedtls_pk_get_bitlen(&ek->pk));
	if (mbedtls_rsa_export_raw(rsa, modulus, TPM_EK_MODULUS_LEN, NULL, 0,
				   NULL, 0, NULL, 0, e, sizeof(e)) != 0 ||
	    memcmp(e, "\x00\x01\x00\x01", 4) != 0)
		return errmsg(err, err_len, "the EK certificate's RSA exponent is not "
			      "65537");
	return 0;
}

static int chain_error(uint32_t flags, char *err, size_t err_len)
{
	char info[160];
	char *nl;

	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
		return errmsg(err, err_len, "the EK certificate does not chain to "
			      "the given EK CA certificates");
	if (flags & (MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE))
		return errmsg(err, err_len, "a certificate of the EK chain is %s",
			      (flags & MBEDTLS_X509_BADCERT_EXPIRED)
				      ? "expired" : "not valid yet");
	if (flags & (MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK |
		     MBEDTLS_X509_BADCERT_BAD_KEY))
		return errmsg(err, err_len, "the EK chain uses an algorithm or key "
			      "size refused here (RSA 2048+ or ECDSA P-256/P-384, "
			      "SHA-256 or stronger)");
	if (mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags) < 0)
		info[0] = '\0';
	if ((nl = strchr(info, '\n')) != NULL)
		*nl = '\0';
	return errmsg(err, err_len, "the EK chain does not verify (mbedTLS flags "
		      "0x%x: %s)", (unsigned)flags, info);
}

/* Exactly one DER certificate appended to chain. */
static int add_der(mbedtls_x509_crt *chain, const uint8_t *der, size_t len)
{
	const mbedtls_x509_crt *last;

	if (der == NULL || len == 0 || mbedtls_x509_crt_parse_der(chain, der, len) != 0)
		return -1;
	for (last = chain; last->next != NULL; last = last->next)
		;
	return last->raw.len == len ? 0 : -1;
}

static bool self_signed(const uint8_t *der, size_t len)
{
	mbedtls_x509_crt c;
	bool yes;

	mbedtls_x509_crt_init(&c);
	yes = mbedtls_x509_crt_parse_der(&c, der, len) == 0 &&
	      c.subject_raw.len == c.issuer_raw.len &&
	      memcmp(c.subject_raw.p, c.issuer_raw.p, c.subject_raw.len) == 0;
	mbedtls_x509_crt_free(&c);
	return yes;
}

/*
 * mbedTLS 2.28 on TPM EK certificates (checked on swtpm's, which follow
 * the TCG EK Credential Profile): the critical subjectAltName holding a
 * directoryName (TPM manufacturer, model, version) parses - mbedTLS only
 * refuses unknown *critical extensions*, and SAN is a known one whose
 * directoryName entries it skips; the non-critical subjectDirectoryAttributes
 * (TPM specification) is ignored; a keyUsage of keyEncipherment alone is
 * not looked at by the chain check (it checks keyCertSign on the CAs only).
 * So the chain verifies with no MBEDTLS_X509_BADCERT_* flag tolerated: not
 * even the validity dates, since this host, unlike the TCB, has a clock.
 */
int tpm_ek_cert_check(const uint8_t *ek, size_t ek_len,
		      const uint8_t *const *ca, const size_t *ca_len, size_t n_ca,
		      uint8_t modulus[TPM_EK_MODULUS_LEN], char *err,
		      size_t err_len)
{
	mbedtls_x509_crt chain, trust;
	uint32_t flags = 0;
	size_t roots = 0;
	int ret, rc = -1;

	mbedtls_x509_crt_init(&chain);
	mbedtls_x509_crt_init(&trust);
	if (add_der(&chain, ek, ek_len) != 0) {
		errmsg(err, err_len, "the EK certificate is not one DER X.509 certificate");
		goto out;
	}
	if (ek_key(&chain, modulus, err, err_len) != 0)
		goto out;
	for (size_t i = 0; i < n_ca; i++) {
		bool root = self_signed(ca[i], ca_len[i]);

		if (add_der(root ? &trust : &chain, ca[i], ca_len[i]) != 0) {
			errmsg(err, err_len, "EK CA certificate %zu is not one DER "
			       "X.509 certificate", i + 1);
			goto out;
		}
		roots += root;
	}
	/* Only a self-signed root is a trust anchor: an intermediate alone
	 * would make its issuer's word unnecessary. */
	if (roots == 0) {
		errmsg(err, err_len, "none of the EK CA certificates is a self-signed "
		       "root to anchor the chain");
		goto out;
	}
	ret = mbedtls_x509_crt_verify_with_profile(&chain, &trust, NULL, &ek_profile,
						   NULL, &flags, NULL, NULL);
	if (ret != 0 && ret != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		errmsg(err, err_len, "the EK chain check failed inside mbedTLS (%s)",
		       ret == MBEDTLS_ERR_X509_ALLOC_FAILED ? "out of memory" :
		       "an internal error, not a verdict on the chain");
		goto out;
	}
	if (ret != 0 || flags != 0) {
		chain_error(flags ? flags : MBEDTLS_X509_BADCERT_OTHER, err, err_len);
		goto out;
	}
	rc = 0;
out:
	if (rc != 0)
		memset(modulus, 0, TPM_EK_MODULUS_LEN);
	mbedtls_x509_crt_free(&chain);
	mbedtls_x509_crt_free(&trust);
	return rc;
}

/* ---- KDFa and MakeCredential ------------------------------------------------ */

int tpm_kdfa_sha256(const uint8_t *key, size_t key_len, const char *label,
		    const uint8_t *context_u, size_t u_len,
		    const uint8_t *context_v, size_t v_len, unsigned bits,
		    uint8_t *out)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	size_t want = bits / 8, done = 0;
	mbedtls_md_context_t ctx;
	uint8_t be[4], block[32];
	int ret;

	if (bits == 0 || bits % 8 != 0 || bits > 8192 || md == NULL ||
	    label == NULL || (context_u == NULL && u_len) ||
	    (context_v == NULL && v_len))
		return -1;
	mbedtls_md_init(&ctx);
	ret = mbedtls_md_setup(&ctx, md, 1);
	for (uint32_t i = 1; ret == 0 && done < want; i++) {
		size_t n = want - done < sizeof(block) ? want - done : sizeof(block);

		put_be32(be, i);
		ret = mbedtls_md_hmac_starts(&ctx, key, key_len);
		if (ret == 0)
			ret = mbedtls_md_hmac_update(&ctx, be, 4);
		/* The label with its terminating NUL: the 0x00 of the spec. */
		if (ret == 0)
			ret = mbedtls_md_hmac_update(&ctx, (const uint8_t *)label,
						     strlen(label) + 1);
		if (ret == 0 && u_len)
			ret = mbedtls_md_hmac_update(&ctx, context_u, u_len);
		if (ret == 0 && v_len)
			ret = mbedtls_md_hmac_update(&ctx, context_v, v_len);
		put_be32(be, bits);
		if (ret == 0)
			ret = mbedtls_md_hmac_update(&ctx, be, 4);
		if (ret == 0)
			ret = mbedtls_md_hmac_finish(&ctx, block);
		if (ret == 0)
			memcpy(out + done, block, n);
		done += n;
	}
	mbedtls_md_free(&ctx);
	crypto_wipe(block, sizeof(block));
	if (ret != 0)
		crypto_wipe(out, want);
	return ret == 0 ? 0 : -1;
}

/* The EK's public key: RSA-OAEP with SHA-256 (the EK's nameAlg). */
static int ek_encrypt_seed(const uint8_t modulus[TPM_EK_MODULUS_LEN],
			   const uint8_t seed[TPM_SEED_LEN], tpm_rng_fn rng,
			   void *rng_ctx, uint8_t out[TPM_ENC_SECRET_LEN])
{
	/* Part 1, 24.4: the label is "IDENTITY" with its terminating NUL. */
	static const char label[] = "IDENTITY";
	static const uint8_t e[3] = { 0x01, 0x00, 0x01 };
	mbedtls_rsa_context rsa;
	int ret;

	mbedtls_rsa_init(&rsa, MBEDTLS_RSA_PKCS_V21, MBEDTLS_MD_SHA256);
	ret = mbedtls_rsa_import_raw(&rsa, modulus, TPM_EK_MODULUS_LEN, NULL, 0,
				     NULL, 0, NULL, 0, e, sizeof(e));
	if (ret == 0)
		ret = mbedtls_rsa_complete(&rsa);
	if (ret == 0)
		ret = mbedtls_rsa_check_pubkey(&rsa);
	if (ret == 0)
		ret = mbedtls_rsa_rsaes_oaep_encrypt(&rsa, rng, rng_ctx,
						     MBEDTLS_RSA_PUBLIC,
						     (const uint8_t *)label,
						     sizeof(label), TPM_SEED_LEN,
						     seed, out);
	mbedtls_rsa_free(&rsa);
	return ret;
}

int tpm_make_credential(const uint8_t ek_modulus[TPM_EK_MODULUS_LEN],
			const uint8_t ak_name[TPM_AK_NAME_LEN],
			const uint8_t credential[TPM_CREDENTIAL_LEN],
			const uint8_t seed[TPM_SEED_LEN], tpm_rng_fn rng,
			void *rng_ctx, uint8_t id_object[TPM_ID_OBJECT_LEN],
			uint8_t encrypted_secret[TPM_ENC_SECRET_LEN],
			char *err, size_t err_len)
{
	uint8_t sym_key[16], hmac_key[32], iv[16] = { 0 };
	uint8_t *enc = id_object + 2 + 32; /* encIdentity: after the HMAC */
	uint8_t plain[2 + TPM_CREDENTIAL_LEN];
	mbedtls_aes_context aes;
	mbedtls_md_context_t md;
	size_t iv_off = 0;
	int ret;

	if (ek_encrypt_seed(ek_modulus, seed, rng, rng_ctx, encrypted_secret) != 0)
		return errmsg(err, err_len, "cannot encrypt the seed to the EK "
			      "(RSA-OAEP failed: is the modulus an RSA 2048 key?)");
	/* The credential travels as a TPM2B_DIGEST: big-endian size first. */
	put_be16(plain, TPM_CREDENTIAL_LEN);
	memcpy(plain + 2, credential, TPM_CREDENTIAL_LEN);
	if (tpm_kdfa_sha256(seed, TPM_SEED_LEN, "STORAGE", ak_name,
			    TPM_AK_NAME_LEN, NULL, 0, 128, sym_key) != 0 ||
	    tpm_kdfa_sha256(seed, TPM_SEED_LEN, "INTEGRITY", NULL, 0, NULL, 0,
			    256, hmac_key) != 0) {
		ret = -1;
		goto out_keys;
	}
	mbedtls_aes_init(&aes);
	ret = mbedtls_aes_setkey_enc(&aes, sym_key, 128);
	if (ret == 0)
		ret = mbedtls_aes_crypt_cfb128(&aes, MBEDTLS_AES_ENCRYPT,
					       sizeof(plain), &iv_off, iv, plain,
					       enc);
	mbedtls_aes_free(&aes);
	/* outerHMAC over encIdentity || the object's Name: binding the blob
	 * to that one AK. */
	mbedtls_md_init(&md);
	if (ret == 0)
		ret = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
	if (ret == 0)
		ret = mbedtls_md_hmac_starts(&md, hmac_key, sizeof(hmac_key));
	if (ret == 0)
		ret = mbedtls_md_hmac_update(&md, enc, sizeof(plain));
	if (ret == 0)
		ret = mbedtls_md_hmac_update(&md, ak_name, TPM_AK_NAME_LEN);
	if (ret == 0)
		ret = mbedtls_md_hmac_finish(&md, id_object + 2);
	mbedtls_md_free(&md);
	put_be16(id_object, 32);
out_keys:
	crypto_wipe(sym_key, sizeof(sym_key));
	crypto_wipe(hmac_key, sizeof(hmac_key));
	crypto_wipe(plain, sizeof(plain));
	if (ret != 0) {
		crypto_wipe(id_object, TPM_ID_OBJECT_LEN);
		return errmsg(err, err_len, "cannot make the credential blob "
			      "(mbedTLS failed)");
	}
	return 0;
}

/* ---- The "tpm-enrollment" boot module ------------------------------------------ */

/* The TCB's reader (tcb/tpm_enroll.h) and this writer agree on the
 * format's constants. */
_Static_assert(TPM_ENROLL_CERT_MAX == ENROLL_CERT_MAX &&
	       TPM_ENROLL_CERT_MAX == REPORT_TPM_CERT_MAX &&
	       TPM_AK_NAME_LEN == ENROLL_AK_NAME_LEN &&
	       TPM_ID_OBJECT_LEN <= ENROLL_BLOB_MAX &&
	       TPM_ENC_SECRET_LEN <= ENROLL_SECRET_MAX &&
	       CRYPTO_GCM_IV_LEN == ENROLL_NONCE_LEN &&
	       CRYPTO_GCM_TAG_LEN == ENROLL_TAG_LEN,
	       "tools/tpm_credential.h and tcb/tpm_enroll.h disagree");

static int enroll_key(const uint8_t credential[TPM_CREDENTIAL_LEN],
		      uint8_t key[CRYPTO_AES256_KEY_LEN])
{
	return crypto_hkdf_sha384(NULL, 0, credential, TPM_CREDENTIAL_LEN,
				  TPM_ENROLL_KEY_INFO, strlen(TPM_ENROLL_KEY_INFO),
				  key, CRYPTO_AES256_KEY_LEN);
}

static uint8_t *put_field(uint8_t *p, const uint8_t *data, size_t n)
{
	store_le16(p, (uint16_t)n);
	memcpy(p + 2, data, n);
	return p + 2 + n;
}

int tpm_enroll_build(const uint8_t ak_name[TPM_AK_NAME_LEN],
		     const uint8_t id_object[TPM_ID_OBJECT_LEN],
		     const uint8_t encrypted_secret[TPM_ENC_SECRET_LEN],
		     const uint8_t credential[TPM_CREDENTIAL_LEN],
		     const uint8_t nonce[CRYPTO_GCM_IV_LEN],
		     const uint8_t *cert, size_t cert_len, uint8_t *out,
		     char *err, size_t err_len)
{
	uint8_t key[CRYPTO_AES256_KEY_LEN], *p = out;
	int rc;

	if (cert == NULL || cert_len == 0 || cert_len > TPM_ENROLL_CERT_MAX)
		return errmsg(err, err_len, "the AK certificate is %zu bytes, not "
			      "1..%u", cert_len, TPM_ENROLL_CERT_MAX);
	memcpy(p, TPM_ENROLL_MAGIC, TPM_ENROLL_MAGIC_LEN);
	store_le32(p + 8, TPM_ENROLL_VERSION);
	p += 12;
	p = put_field(p, ak_name, TPM_AK_NAME_LEN);
	p = put_field(p, id_object, TPM_ID_OBJECT_LEN);
	p = put_field(p, encrypted_secret, TPM_ENC_SECRET_LEN);
	memcpy(p, nonce, CRYPTO_GCM_IV_LEN);
	store_le16(p + CRYPTO_GCM_IV_LEN, (uint16_t)cert_len);
	p += CRYPTO_GCM_IV_LEN + 2;
	rc = enroll_key(credential, key);
	if (rc == CRYPTO_OK)
		rc = crypto_aes256gcm_encrypt(key, nonce, out, TPM_ENROLL_AAD_LEN,
					      cert, cert_len, p, p + cert_len);
	crypto_wipe(key, sizeof(key));
	if (rc != CRYPTO_OK) {
		crypto_wipe(out, TPM_ENROLL_LEN(cert_len));
		return errmsg(err, err_len, "cannot encrypt the AK certificate: %s",
			      crypto_strerror(rc));
	}
	return 0;
}

/* The next u16-length field, of exactly want bytes (or 1..max if want is
 * 0); *off advances past it. */
static int take(const uint8_t *buf, size_t len, size_t *off, size_t want,
		size_t max, const char *what, const uint8_t **field,
		size_t *field_len, char *err, size_t err_len)
{
	size_t n;

	if (len - *off < 2)
		return errmsg(err, err_len, "enrollment module ends before the %s", what);
	n = load_le16(buf + *off);
	if (want ? n != want : (n == 0 || n > max))
		return errmsg(err, err_len, "enrollment module's %s is %zu bytes, "
			      "not %zu", what, n, want ? want : max);
	if (len - *off - 2 < n)
		return errmsg(err, err_len, "enrollment module ends inside the %s", what);
	*field = buf + *off + 2;
	if (field_len)
		*field_len = n;
	*off += 2 + n;
	return 0;
}

int tpm_enroll_parse(const uint8_t *buf, size_t len, struct tpm_enroll *out,
		     char *err, size_t err_len)
{
	struct tpm_enroll e;
	size_t off = 12;

	if (len < 12 || memcmp(buf, TPM_ENROLL_MAGIC, TPM_ENROLL_MAGIC_LEN) != 0)
		return errmsg(err, err_len, "not a Custos enrollment module (no "
			      "\"" TPM_ENROLL_MAGIC "\" magic)");
	if (load_le32(buf + 8) != TPM_ENROLL_VERSION)
		return errmsg(err, err_len, "enrollment module version %u is not "
			      "supported (only %u)", load_le32(buf + 8),
			      TPM_ENROLL_VERSION);
	if (take(buf, len, &off, TPM_AK_NAME_LEN, 0, "AK name", &e.ak_name,
		 NULL, err, err_len) ||
	    take(buf, len, &off, TPM_ID_OBJECT_LEN, 0, "credential blob",
		 &e.id_object, NULL, err, err_len) ||
	    take(buf, len, &off, TPM_ENC_SECRET_LEN, 0, "encrypted secret",
		 &e.encrypted_secret, NULL, err, err_len))
		return -1;
	if (len - off < CRYPTO_GCM_IV_LEN)
		return errmsg(err, err_len, "enrollment module ends inside the nonce");
	e.nonce = buf + off;
	off += CRYPTO_GCM_IV_LEN;
	if (take(buf, len, &off, 0, TPM_ENROLL_CERT_MAX, "AK certificate",
		 &e.cert_ct, &e.cert_len, err, err_len))
		return -1;
	if (len - off != CRYPTO_GCM_TAG_LEN)
		return errmsg(err, err_len, "enrollment module has %zu bytes after "
			      "the certificate, not the %u-byte tag", len - off,
			      CRYPTO_GCM_TAG_LEN);
	e.tag = buf + off;
	*out = e;
	return 0;
}

int tpm_enroll_open(const uint8_t *buf, const struct tpm_enroll *e,
		    const uint8_t credential[TPM_CREDENTIAL_LEN], uint8_t *cert,
		    char *err, size_t err_len)
{
	uint8_t key[CRYPTO_AES256_KEY_LEN];
	int rc = enroll_key(credential, key);

	if (rc == CRYPTO_OK)
		rc = crypto_aes256gcm_decrypt(key, e->nonce, buf, TPM_ENROLL_AAD_LEN,
					      e->cert_ct, e->cert_len, cert, e->tag);
	crypto_wipe(key, sizeof(key));
	if (rc == CRYPTO_E_VERIFY)
		return errmsg(err, err_len, "the AK certificate does not decrypt: "
			      "wrong credential, or the module was changed");
	if (rc != CRYPTO_OK)
		return errmsg(err, err_len, "cannot decrypt the AK certificate: %s",
			      crypto_strerror(rc));
	return 0;
}
