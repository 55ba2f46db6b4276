#include "tpgvm/tls_server.h"
#include "guests/runtime/guest.h"
#include "crypto/crypto.h"
#include <custos/report.h>

#include <heap.h>
#include <stdio.h>
#include <string.h>

/* mbedTLS's memory: the sessions' record buffers (2 x ~17 KiB each), the
 * handshakes' bignums, the parsed certificates. Sized with room to spare
 * for every session at once (docs/tpgvm.md has the figures). */
#define HEAP_SIZE (4u << 20)

static uint8_t heap_arena[HEAP_SIZE] __attribute__((aligned(16)));

static mbedtls_ssl_config conf;
static mbedtls_x509_crt own_cert, tenant_cas;
static mbedtls_pk_context own_key;
static uint8_t key_hash[RPT_TLS_HASH_LEN];

static int fail(char *err, size_t err_len, const char *what)
{
	snprintf(err, err_len, "%s", what);
	return -1;
}

static int load_tenant_cas(const struct tpgvm_policy *policy, char *err,
			   size_t err_len)
{
	for (size_t i = 0; i < policy->tenant_ca_count; i++) {
		if (mbedtls_x509_crt_parse_der(&tenant_cas, policy->tenant_ca[i].der,
					       policy->tenant_ca[i].len) != 0) {
			snprintf(err, err_len, "tenant CA root %zu does not parse", i);
			return -1;
		}
	}
	return 0;
}

int tls_server_init(const struct tpgvm_policy *policy, char *err, size_t err_len)
{
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	int rc;

	heap_init(heap_arena, sizeof(heap_arena));
	rc = crypto_init();
	if (rc != CRYPTO_OK) {
		snprintf(err, err_len, "crypto: %s", crypto_strerror(rc));
		return -1;
	}
	mbedtls_ssl_config_init(&conf);
	mbedtls_x509_crt_init(&own_cert);
	mbedtls_x509_crt_init(&tenant_cas);
	mbedtls_pk_init(&own_key);
	if (crypto_tls_self_signed(&own_key, &own_cert, "custos-tpgvm") != CRYPTO_OK)
		return fail(err, err_len, "could not make the TLS key and certificate");
	if (crypto_tls_cert_pub(&own_cert, pub) != CRYPTO_OK)
		return fail(err, err_len, "own certificate has no P-384 key");
	/* report_tls_key_hash() lives with the report builder (TCB side). */
	uint8_t spki[RPT_P384_SPKI_LEN];
	report_p384_spki(pub, spki);
	crypto_sha384(spki, sizeof(spki), key_hash);
	if (load_tenant_cas(policy, err, err_len))
		return -1;
	if (crypto_tls_config(&conf, MBEDTLS_SSL_IS_SERVER) != CRYPTO_OK)
		return fail(err, err_len, "TLS configuration refused");
	/* Only tenants: a certificate chained to a root of our policy, with
	 * the tenant role (not, say, the station's certificate). */
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&conf, &tenant_cas, NULL);
	crypto_tls_require_peer_role(&conf, CRYPTO_ROLE_TENANT);
	if (mbedtls_ssl_conf_own_cert(&conf, &own_cert, &own_key) != 0)
		return fail(err, err_len, "own certificate refused");
	return 0;
}

const mbedtls_ssl_config *tls_server_conf(void)
{
	return &conf;
}

const uint8_t *tls_server_key_hash(void)
{
	return key_hash;
}
