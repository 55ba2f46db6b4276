/*
 * Unit tests for the TCB identity policy (tcb/tcb_identity.c): plaintext
 * keys only with development-role certificates, a production role refused
 * outright, the signing certificate chained to the root and matching its
 * key. Certificates are issued in memory by crypto/pki_host.c:
 *
 *   root A: development sign + kex, production sign + kex, a tenant
 *   root B: a development signing certificate from another CA
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/pki_host.h"
#include "tcb/tcb_identity.h"

struct ident {
	uint8_t priv[CRYPTO_P384_PRIV_LEN];
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	struct pki_cert cert;
};

static struct {
	struct ident root_a, root_b;
	struct ident dev_sign, dev_kex, prod_sign, prod_kex, tenant, dev_sign_b;
} k;

static char err[512];

static int make_root(struct ident *id, const char *cn)
{
	char e[PKI_ERR_LEN];

	return crypto_p384_keygen(id->priv, id->pub) != CRYPTO_OK ||
	       pki_issue_root(id->priv, cn, 30, &id->cert, e, sizeof(e)) != CRYPTO_OK;
}

static int make_leaf(struct ident *id, const struct ident *ca, enum crypto_role role)
{
	char e[PKI_ERR_LEN];

	return crypto_p384_keygen(id->priv, id->pub) != CRYPTO_OK ||
	       pki_issue_leaf(ca->priv, ca->cert.der, ca->cert.der_len, id->pub,
			      "tcb", role, 30, &id->cert, e, sizeof(e)) != CRYPTO_OK;
}

static int setup(void **state)
{
	(void)state;
	return crypto_init() != CRYPTO_OK || make_root(&k.root_a, "Root A") ||
	       make_root(&k.root_b, "Root B") ||
	       make_leaf(&k.dev_sign, &k.root_a, CRYPTO_ROLE_TCB_SIGN_DEV) ||
	       make_leaf(&k.dev_kex, &k.root_a, CRYPTO_ROLE_TCB_KEX_DEV) ||
	       make_leaf(&k.prod_sign, &k.root_a, CRYPTO_ROLE_TCB_SIGN) ||
	       make_leaf(&k.prod_kex, &k.root_a, CRYPTO_ROLE_TCB_KEX) ||
	       make_leaf(&k.tenant, &k.root_a, CRYPTO_ROLE_TENANT) ||
	       make_leaf(&k.dev_sign_b, &k.root_b, CRYPTO_ROLE_TCB_SIGN_DEV);
}

static int teardown(void **state)
{
	struct ident *all[] = { &k.root_a, &k.root_b, &k.dev_sign, &k.dev_kex,
				&k.prod_sign, &k.prod_kex, &k.tenant, &k.dev_sign_b };

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		pki_cert_free(&all[i]->cert);
	return 0;
}

/* Check the pair (sign, kex) with sign's private key (or priv). */
static int check(const struct ident *sign, const struct ident *kex,
		 const uint8_t *priv)
{
	struct tcb_keys keys;
	struct tcb_certs certs = {
		sign->cert.der, sign->cert.der_len, kex->cert.der, kex->cert.der_len,
	};

	memcpy(keys.sign_priv, priv ? priv : sign->priv, sizeof(keys.sign_priv));
	memcpy(keys.kex_priv, kex->priv, sizeof(keys.kex_priv));
	memset(err, 'x', sizeof(err));
	int rc = tcb_identity_check_plaintext(&keys, &certs, k.root_a.cert.der,
					      k.root_a.cert.der_len, err, sizeof(err));
	assert_non_null(memchr(err, 0, sizeof(err)));
	return rc;
}

static void expect_refused(const struct ident *sign, const struct ident *kex,
			   const uint8_t *priv, const char *needle)
{
	assert_int_equal(check(sign, kex, priv), -1);
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
}

static void test_development_identity_accepted(void **state)
{
	(void)state;
	assert_int_equal(check(&k.dev_sign, &k.dev_kex, NULL), 0);
	assert_string_equal(err, "");
}

static void test_production_role_with_plaintext_keys_refused(void **state)
{
	(void)state;
	expect_refused(&k.prod_sign, &k.dev_kex, NULL,
		       "the TCB signing certificate has the production role TCB-signing, but its private key came in the clear from the boot media: a production TCB identity never travels in the clear");
	expect_refused(&k.dev_sign, &k.prod_kex, NULL,
		       "the TCB key-agreement certificate has the production role TCB-key-agreement");
	expect_refused(&k.prod_sign, &k.prod_kex, NULL, "production role TCB-signing");
}

static void test_other_roles_refused(void **state)
{
	(void)state;
	expect_refused(&k.dev_kex, &k.dev_kex, NULL,
		       "the TCB signing certificate lacks the development-TCB-signing role that a plaintext key module requires");
	expect_refused(&k.dev_sign, &k.dev_sign, NULL,
		       "the TCB key-agreement certificate lacks the development-TCB-key-agreement role");
	expect_refused(&k.tenant, &k.dev_kex, NULL, "lacks the development-TCB-signing role");
	/* A CA has no role at all. */
	expect_refused(&k.root_a, &k.dev_kex, NULL, "lacks the development-TCB-signing role");
}

static void test_signing_certificate_checked(void **state)
{
	uint8_t bad[CRYPTO_P384_PRIV_LEN];
	struct ident junk = k.dev_sign;
	uint8_t bytes[8] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01 };

	(void)state;
	/* From another CA: the role is right, the chain is not. */
	expect_refused(&k.dev_sign_b, &k.dev_kex, NULL,
		       "the TCB signing certificate is not usable: certificate is not signed by the Custos CA root");
	/* The right certificate, another private key (the kex one). */
	expect_refused(&k.dev_sign, &k.dev_kex, k.dev_kex.priv,
		       "the TCB signing private key does not match its certificate");
	memset(bad, 0xff, sizeof(bad));
	expect_refused(&k.dev_sign, &k.dev_kex, bad, "not a valid P-384 key");
	/* Not a certificate. */
	junk.cert.der = bytes;
	junk.cert.der_len = sizeof(bytes);
	expect_refused(&junk, &k.dev_kex, NULL,
		       "the TCB signing certificate is not an X.509 certificate");
	expect_refused(&k.dev_sign, &junk, NULL,
		       "the TCB key-agreement certificate is not an X.509 certificate");
}

/* TPM-resident keys: production certificates for exactly the TPM's two
 * points; a development role, a swapped or foreign key, another root
 * refused. */
static int check_tpm(const struct ident *sign, const struct ident *kex,
		     const uint8_t *sign_pub, const uint8_t *kex_pub, const struct ident *root)
{
	struct tcb_certs certs = {
		sign->cert.der, sign->cert.der_len, kex->cert.der, kex->cert.der_len,
	};

	return tcb_identity_check_tpm(&certs, sign_pub, kex_pub, root->cert.der,
				      root->cert.der_len, err, sizeof(err));
}

static void test_tpm_identity(void **state)
{
	(void)state;
	assert_int_equal(check_tpm(&k.prod_sign, &k.prod_kex, k.prod_sign.pub,
				   k.prod_kex.pub, &k.root_a), 0);
	assert_int_equal(check_tpm(&k.dev_sign, &k.prod_kex, k.dev_sign.pub,
				   k.prod_kex.pub, &k.root_a), -1);
	assert_non_null(strstr(err, "not a TCB-signing certificate"));
	assert_int_equal(check_tpm(&k.prod_sign, &k.dev_kex, k.prod_sign.pub,
				   k.dev_kex.pub, &k.root_a), -1);
	assert_non_null(strstr(err, "not a TCB-key-agreement certificate"));
	assert_int_equal(check_tpm(&k.prod_sign, &k.prod_kex, k.prod_kex.pub,
				   k.prod_kex.pub, &k.root_a), -1);
	assert_non_null(strstr(err, "signing certificate is for another key"));
	assert_int_equal(check_tpm(&k.prod_sign, &k.prod_kex, k.prod_sign.pub,
				   k.prod_sign.pub, &k.root_a), -1);
	assert_non_null(strstr(err, "key-agreement certificate is for another key"));
	assert_int_equal(check_tpm(&k.prod_sign, &k.prod_kex, k.prod_sign.pub,
				   k.prod_kex.pub, &k.root_b), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_development_identity_accepted),
		cmocka_unit_test(test_production_role_with_plaintext_keys_refused),
		cmocka_unit_test(test_other_roles_refused),
		cmocka_unit_test(test_signing_certificate_checked),
		cmocka_unit_test(test_tpm_identity),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
