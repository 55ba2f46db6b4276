#include "crypto/tls.h"
#include "crypto/crypto_internal.h"

#include "mbedtls/ecp.h"
#include "mbedtls/oid.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/x509_crt.h"

#include <stdio.h>
#include <string.h>

static const int tls_suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, 0
};
static const mbedtls_ecp_group_id tls_curves[] = {
	MBEDTLS_ECP_DP_SECP384R1, MBEDTLS_ECP_DP_NONE
};
static const int tls_sig_hashes[] = { MBEDTLS_MD_SHA384, MBEDTLS_MD_NONE };

int crypto_tls_config(mbedtls_ssl_config *conf, int endpoint)
{
	int ret = mbedtls_ssl_config_defaults(conf, endpoint,
					      MBEDTLS_SSL_TRANSPORT_STREAM,
					      MBEDTLS_SSL_PRESET_DEFAULT);

	if (ret != 0)
		return CRYPTO_E_INTERNAL;
	mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(conf, tls_suites);
	mbedtls_ssl_conf_curves(conf, tls_curves);
	mbedtls_ssl_conf_sig_hashes(conf, tls_sig_hashes);
	mbedtls_ssl_conf_cert_profile(conf, &crypto_custos_profile);
	mbedtls_ssl_conf_extended_master_secret(conf, MBEDTLS_SSL_EXTENDED_MS_ENABLED);
	mbedtls_ssl_conf_rng(conf, crypto_drbg_random, NULL);
	/* The system library may have these compiled in: off, both ends. */
#if defined(MBEDTLS_SSL_RENEGOTIATION)
	mbedtls_ssl_conf_renegotiation(conf, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
#endif
#if defined(MBEDTLS_SSL_SESSION_TICKETS)
	mbedtls_ssl_conf_session_tickets(conf, MBEDTLS_SSL_SESSION_TICKETS_DISABLED);
#endif
	return CRYPTO_OK;
}

/* extendedKeyUsage = SEQUENCE { the role's OID, id-kp-serverAuth }, DER
 * (serverAuth too, so that a stock TLS client's usage check passes). */
static int role_eku(enum crypto_role role, uint8_t *buf, size_t cap, size_t *len)
{
	static const uint8_t server_auth[] = MBEDTLS_OID_SERVER_AUTH;
	const size_t sa_len = sizeof(server_auth) - 1; /* a string literal */
	const uint8_t *oid;
	size_t oid_len, body;

	if (crypto_role_oid(role, &oid, &oid_len) != CRYPTO_OK)
		return CRYPTO_E_INVAL;
	body = 2 + oid_len + 2 + sa_len;
	if (oid_len > 100 || body + 2 > cap)
		return CRYPTO_E_INVAL;
	buf[0] = 0x30;
	buf[1] = (uint8_t)body;
	buf[2] = 0x06;
	buf[3] = (uint8_t)oid_len;
	memcpy(buf + 4, oid, oid_len);
	buf[4 + oid_len] = 0x06;
	buf[5 + oid_len] = (uint8_t)sa_len;
	memcpy(buf + 6 + oid_len, server_auth, sa_len);
	*len = body + 2;
	return CRYPTO_OK;
}

static int write_self_signed(mbedtls_x509write_cert *w, mbedtls_pk_context *key,
			     const char *cn, uint8_t *der, size_t cap, size_t *len)
{
	char name[80];
	uint8_t serial_bytes[16], eku[128];
	size_t eku_len;
	mbedtls_mpi serial;
	int ret;

	if (strlen(cn) > sizeof(name) - 4 ||
	    role_eku(CRYPTO_ROLE_TPGVM_TLS, eku, sizeof(eku), &eku_len) != CRYPTO_OK)
		return MBEDTLS_ERR_X509_BAD_INPUT_DATA;
	snprintf(name, sizeof(name), "CN=%s", cn);
	mbedtls_mpi_init(&serial);
	ret = crypto_random(serial_bytes, sizeof(serial_bytes));
	serial_bytes[0] &= 0x7f; /* a positive INTEGER */
	serial_bytes[0] |= 0x01; /* ...and not zero */
	if (ret == CRYPTO_OK)
		ret = mbedtls_mpi_read_binary(&serial, serial_bytes, sizeof(serial_bytes));
	else
		ret = MBEDTLS_ERR_X509_BAD_INPUT_DATA;
	mbedtls_x509write_crt_set_version(w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(w, MBEDTLS_MD_SHA384);
	mbedtls_x509write_crt_set_subject_key(w, key);
	mbedtls_x509write_crt_set_issuer_key(w, key);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_serial(w, &serial);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_subject_name(w, name);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_issuer_name(w, name);
	/* No trusted clock anywhere (docs/pki.md): a wide, fixed window. */
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_validity(w, "20260101000000",
							 "20991231235959");
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_basic_constraints(w, 0, -1);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_key_usage(w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
	if (ret == 0)
		ret = mbedtls_x509write_crt_set_extension(
			w, MBEDTLS_OID_EXTENDED_KEY_USAGE,
			MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), 0, eku, eku_len);
	mbedtls_mpi_free(&serial);
	if (ret != 0)
		return ret;
	/* mbedTLS writes the certificate at the end of the buffer. */
	ret = mbedtls_x509write_crt_der(w, der, cap, crypto_drbg_random, NULL);
	if (ret <= 0)
		return ret < 0 ? ret : MBEDTLS_ERR_X509_BAD_INPUT_DATA;
	*len = (size_t)ret;
	return 0;
}

int crypto_tls_self_signed(mbedtls_pk_context *key, mbedtls_x509_crt *crt,
			   const char *cn)
{
	uint8_t der[1024];
	size_t len = 0;
	mbedtls_x509write_cert w;
	int ret;

	if (key == NULL || crt == NULL || cn == NULL)
		return CRYPTO_E_INVAL;
	if (crypto_init() != CRYPTO_OK)
		return CRYPTO_E_RNG;
	ret = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (ret == 0)
		ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP384R1, mbedtls_pk_ec(*key),
					  crypto_drbg_random, NULL);
	mbedtls_x509write_crt_init(&w);
	if (ret == 0)
		ret = write_self_signed(&w, key, cn, der, sizeof(der), &len);
	mbedtls_x509write_crt_free(&w);
	if (ret == 0)
		ret = mbedtls_x509_crt_parse_der(crt, der + sizeof(der) - len, len);
	if (ret != 0) {
		mbedtls_pk_free(key);
		mbedtls_pk_init(key);
		return CRYPTO_E_INTERNAL;
	}
	return CRYPTO_OK;
}

int crypto_tls_cert_pub(const mbedtls_x509_crt *crt,
			uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	const mbedtls_ecp_keypair *k = crt ? crypto_p384_key_of(crt) : NULL;
	size_t olen = 0;

	if (k == NULL)
		return CRYPTO_E_INVAL;
	if (mbedtls_ecp_point_write_binary(&k->grp, &k->Q,
					   MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, pub,
					   CRYPTO_P384_PUB_LEN) != 0 ||
	    olen != CRYPTO_P384_PUB_LEN)
		return CRYPTO_E_INVAL;
	return CRYPTO_OK;
}

/* mbedTLS calls this for every certificate of the peer's chain; a flag set
 * here fails the handshake (with a bad_certificate alert). */
static int verify_role(void *ctx, mbedtls_x509_crt *crt, int depth,
		       uint32_t *flags)
{
	enum crypto_role role = (enum crypto_role)(uintptr_t)ctx;
	const uint8_t *oid;
	size_t oid_len;

	if (depth != 0)
		return 0;
	if (crypto_role_oid(role, &oid, &oid_len) != CRYPTO_OK ||
	    !crypto_cert_has_role_oid(crt, oid, oid_len))
		*flags |= MBEDTLS_X509_BADCERT_EXT_KEY_USAGE;
	return 0;
}

void crypto_tls_require_peer_role(mbedtls_ssl_config *conf, enum crypto_role role)
{
	mbedtls_ssl_conf_verify(conf, verify_role, (void *)(uintptr_t)role);
}

int crypto_tls_read(mbedtls_ssl_context *ssl, unsigned char *buf, size_t len)
{
	/* Where this call's bytes begin in the record: after what earlier
	 * calls took from it, or at its start when a new record is read
	 * (mbedtls_ssl_read starts one only when in_offt is NULL). As an
	 * offset: in_msg is the pointer that stays valid across the call. */
	size_t taken = ssl->in_offt ? (size_t)(ssl->in_offt - ssl->in_msg) : 0;
	int ret = mbedtls_ssl_read(ssl, buf, len);

	if (ret > 0)
		mbedtls_platform_zeroize(ssl->in_msg + taken, (size_t)ret);
	return ret;
}

struct tls_error_name {
	int ret;
	const char *name;
};

/* The errors a peer or the line can cause; anything else is "TLS error". */
static const struct tls_error_name tls_errors[] = {
	{ MBEDTLS_ERR_SSL_INVALID_MAC, "bad record MAC (the bytes were altered)" },
	{ MBEDTLS_ERR_SSL_BAD_HS_FINISHED, "handshake Finished does not verify" },
	{ MBEDTLS_ERR_SSL_INVALID_RECORD, "malformed TLS record" },
	{ MBEDTLS_ERR_SSL_UNEXPECTED_MESSAGE, "unexpected TLS message" },
	{ MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE, "the peer sent a fatal alert" },
	{ MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY, "the peer closed the session" },
	{ MBEDTLS_ERR_SSL_CONN_EOF, "the connection closed" },
	{ MBEDTLS_ERR_SSL_NO_CLIENT_CERTIFICATE, "no client certificate" },
	{ MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE, "bad certificate message" },
	{ MBEDTLS_ERR_X509_CERT_VERIFY_FAILED, "certificate does not verify" },
	{ MBEDTLS_ERR_SSL_BAD_HS_CLIENT_HELLO, "bad ClientHello" },
	{ MBEDTLS_ERR_SSL_BAD_HS_SERVER_HELLO, "bad ServerHello" },
	{ MBEDTLS_ERR_SSL_NO_CIPHER_CHOSEN, "no cipher suite in common" },
	{ MBEDTLS_ERR_SSL_BAD_HS_CERTIFICATE_VERIFY, "bad CertificateVerify" },
	{ MBEDTLS_ERR_SSL_BAD_HS_SERVER_KEY_EXCHANGE, "bad ServerKeyExchange" },
	{ MBEDTLS_ERR_SSL_BAD_HS_CLIENT_KEY_EXCHANGE, "bad ClientKeyExchange" },
	{ MBEDTLS_ERR_SSL_ALLOC_FAILED, "out of memory" },
	{ MBEDTLS_ERR_SSL_TIMEOUT, "timed out" },
};

const char *crypto_tls_strerror(int ret)
{
	for (size_t i = 0; i < sizeof(tls_errors) / sizeof(tls_errors[0]); i++)
		if (tls_errors[i].ret == ret)
			return tls_errors[i].name;
	return "TLS error";
}
