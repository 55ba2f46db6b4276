/*
 * Tenant certificate requests (docs/pki.md, "Tenant onboarding"): what
 * custos enroll makes (pki_csr_make), what custos-ca sign-csr checks
 * (pki_csr_read: key, signature algorithm, self-signature, subject;
 * csr_request_parse and csr_policy_tenant: the role asked for, with our own
 * DER reader). Requests the tools would never make come from openssl.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/pki_host.h"
#include "tools/csr_policy.c"

#define ARC "2.25.112316499844282042489265998744696497416"

static char dir[] = "/tmp/custos-test-csr-XXXXXX";

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[1024];
	int n;
	va_list ap;

	n = snprintf(cmd, sizeof(cmd), "cd %s && ", dir);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof(cmd) - (size_t)n, fmt, ap);
	va_end(ap);
	return system(cmd);
}

/* A file of the test directory, whole (len set); NULL-terminated. */
static uint8_t *slurp(const char *name, size_t *len)
{
	char path[256];
	uint8_t *buf = malloc(PKI_CSR_MAX * 2);
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, PKI_CSR_MAX * 2 - 1, f);
	buf[*len] = 0;
	fclose(f);
	return buf;
}

/* An openssl request: key of keyopts, subject, digest, extra options. */
static uint8_t *openssl_csr(const char *keyopts, const char *subject, const char *md,
			    const char *extra, size_t *len)
{
	assert_int_equal(sh("openssl req -new -newkey %s -nodes -keyout k.pem -subj '%s' "
			    "-%s %s -out o.csr 2>/dev/null", keyopts, subject, md, extra), 0);
	return slurp("o.csr", len);
}

#define P384 "ec -pkeyopt ec_paramgen_curve:secp384r1"
#define TENANT_EKU "-addext 'extendedKeyUsage=" ARC ".4,clientAuth'"

static int setup(void **state)
{
	(void)state;
	if (mkdtemp(dir) == NULL || crypto_init() != CRYPTO_OK)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return sh("cd / && rm -rf %s", dir) == 0 ? 0 : -1;
}

/* A request of ours for role, by a fresh key: the key's point in pub. */
static void make(enum crypto_role role, const char *cn, struct pki_cert *out,
		 uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	uint8_t priv[CRYPTO_P384_PRIV_LEN];
	char err[PKI_ERR_LEN];

	assert_int_equal(crypto_p384_keygen(priv, pub), CRYPTO_OK);
	assert_int_equal(pki_csr_make(priv, cn, role, out, err, sizeof(err)), CRYPTO_OK);
}

/* pki_csr_read and the policy: 0, or -1 with the reason in err. */
static int ca_takes(const uint8_t *data, size_t len, struct pki_csr *csr, char *err,
		    size_t err_len)
{
	struct csr_request req;

	if (pki_csr_read(data, len, csr, err, err_len) != CRYPTO_OK)
		return -1;
	if (csr_request_parse(csr->cri, csr->cri_len, &req, err, err_len) != 0 ||
	    csr_policy_tenant(&req, err, err_len) != 0) {
		pki_csr_free(csr);
		return -1;
	}
	return 0;
}

static void refused(const uint8_t *data, size_t len, const char *why)
{
	struct pki_csr csr;
	char err[PKI_ERR_LEN];

	assert_int_equal(ca_takes(data, len, &csr, err, sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("reason '%s' lacks '%s'", err, why);
}

static void test_our_request_is_taken(void **state)
{
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	struct pki_cert c;
	struct pki_csr csr;
	struct csr_request req;
	char err[PKI_ERR_LEN];

	(void)state;
	make(CRYPTO_ROLE_TENANT, "alice", &c, pub);
	/* As PEM and as DER. */
	assert_int_equal(ca_takes((uint8_t *)c.pem, c.pem_len, &csr, err, sizeof(err)), 0);
	assert_string_equal(csr.cn, "alice");
	assert_memory_equal(csr.pub, pub, sizeof(pub));
	assert_int_equal(csr_request_parse(csr.cri, csr.cri_len, &req, err, sizeof(err)), 0);
	assert_int_equal(req.roles, CRYPTO_ROLE_BIT(CRYPTO_ROLE_TENANT));
	assert_true(req.client_auth);
	pki_csr_free(&csr);
	assert_int_equal(ca_takes(c.der, c.der_len, &csr, err, sizeof(err)), 0);
	pki_csr_free(&csr);
	pki_cert_free(&c);
	/* openssl's request for the same: taken too. */
	{
		size_t len;
		uint8_t *o = openssl_csr(P384, "/CN=bob", "sha384", TENANT_EKU, &len);

		assert_int_equal(ca_takes(o, len, &csr, err, sizeof(err)), 0);
		assert_string_equal(csr.cn, "bob");
		pki_csr_free(&csr);
		free(o);
	}
}

static void test_bad_signature_is_refused(void **state)
{
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	struct pki_cert c;
	uint8_t *bad;

	(void)state;
	make(CRYPTO_ROLE_TENANT, "alice", &c, pub);
	bad = malloc(c.der_len);
	assert_non_null(bad);
	/* A bit of the signature's s. */
	memcpy(bad, c.der, c.der_len);
	bad[c.der_len - 2] ^= 0x01;
	refused(bad, c.der_len, "self-signature does not verify");
	/* A bit of the signed part: the name. */
	memcpy(bad, c.der, c.der_len);
	{
		uint8_t *at = memmem(bad, c.der_len, "alice", 5);

		assert_non_null(at);
		at[0] = 'b';
	}
	refused(bad, c.der_len, "self-signature does not verify");
	free(bad);
	pki_cert_free(&c);
}

static void test_wrong_key_or_algorithm_is_refused(void **state)
{
	size_t len;
	uint8_t *o;

	(void)state;
	o = openssl_csr("ec -pkeyopt ec_paramgen_curve:prime256v1", "/CN=alice", "sha384",
			TENANT_EKU, &len);
	refused(o, len, "not a P-384 EC key");
	free(o);
	o = openssl_csr("rsa:2048", "/CN=alice", "sha384", TENANT_EKU, &len);
	refused(o, len, "not a P-384 EC key");
	free(o);
	o = openssl_csr(P384, "/CN=alice", "sha256", TENANT_EKU, &len);
	refused(o, len, "not signed with ECDSA-SHA-384");
	free(o);
}

static void test_roles_it_must_not_ask_for(void **state)
{
	static const enum crypto_role others[] = {
		CRYPTO_ROLE_STATION, CRYPTO_ROLE_TCB_SIGN, CRYPTO_ROLE_TCB_KEX,
		CRYPTO_ROLE_TPGVM_TLS, CRYPTO_ROLE_TCB_SIGN_DEV, CRYPTO_ROLE_TCB_KEX_DEV,
		CRYPTO_ROLE_TCB_AK,
	};
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	char want[96];
	struct pki_cert c;
	size_t len;
	uint8_t *o;

	(void)state;
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		make(others[i], "alice", &c, pub);
		snprintf(want, sizeof(want), "asks for the role %s: sign-csr issues tenant",
			 crypto_role_name(others[i]));
		refused(c.der, c.der_len, want);
		pki_cert_free(&c);
	}
	/* The tenant role and another: the other is named. */
	o = openssl_csr(P384, "/CN=alice", "sha384",
			"-addext 'extendedKeyUsage=" ARC ".4," ARC ".1'", &len);
	refused(o, len, "asks for the role signing-station");
	free(o);
	/* No role, another purpose, an unknown Custos role, another extension. */
	o = openssl_csr(P384, "/CN=alice", "sha384", "", &len);
	refused(o, len, "asks for no role");
	free(o);
	o = openssl_csr(P384, "/CN=alice", "sha384", "-addext 'extendedKeyUsage=serverAuth'",
			&len);
	refused(o, len, "asks for no role");
	free(o);
	o = openssl_csr(P384, "/CN=alice", "sha384",
			"-addext 'extendedKeyUsage=" ARC ".4,serverAuth'", &len);
	refused(o, len, "asks for TLS server authentication");
	free(o);
	o = openssl_csr(P384, "/CN=alice", "sha384",
			"-addext 'extendedKeyUsage=" ARC ".4,codeSigning'", &len);
	refused(o, len, "the purpose 1.3.6.1.5.5.7.3.3, which is no Custos role");
	free(o);
	o = openssl_csr(P384, "/CN=alice", "sha384",
			"-addext 'extendedKeyUsage=" ARC ".99'", &len);
	refused(o, len, "which is no Custos role");
	free(o);
	o = openssl_csr(P384, "/CN=alice", "sha384",
			TENANT_EKU " -addext 'basicConstraints=critical,CA:TRUE'", &len);
	refused(o, len, "asks for the extension 2.5.29.19");
	free(o);
}

static void test_subject_must_be_one_cn(void **state)
{
	size_t len;
	uint8_t *o;

	(void)state;
	o = openssl_csr(P384, "/O=Example/CN=alice", "sha384", TENANT_EKU, &len);
	refused(o, len, "exactly one common name");
	free(o);
	o = openssl_csr(P384, "/CN=al,ice", "sha384", TENANT_EKU, &len);
	refused(o, len, "exactly one common name");
	free(o);
}

static void test_garbage_and_oversize_are_refused(void **state)
{
	uint8_t pub[CRYPTO_P384_PUB_LEN], *big = calloc(1, PKI_CSR_MAX + 1);
	struct pki_cert c;

	(void)state;
	assert_non_null(big);
	refused(big, PKI_CSR_MAX + 1, "1..4096 bytes");
	refused(big, 0, "1..4096 bytes");
	refused((const uint8_t *)"hello", 5, "not a PKCS#10");
	refused((const uint8_t *)"-----BEGIN CERTIFICATE REQUEST-----\nxx\n", 39,
		"not a PKCS#10");
	make(CRYPTO_ROLE_TENANT, "alice", &c, pub);
	for (size_t n = 1; n < c.der_len; n++)
		refused(c.der, n, "");
	memcpy(big, c.der, c.der_len);
	refused(big, c.der_len + 1, "not a PKCS#10");
	pki_cert_free(&c);
	free(big);
}

/* Our DER reader alone, on every cut and a byte flipped anywhere of a
 * real request info: never a crash, and every cut refused. */
static void test_request_info_parser(void **state)
{
	uint8_t pub[CRYPTO_P384_PUB_LEN], *cri;
	struct csr_request req;
	struct pki_cert c;
	struct pki_csr csr;
	char err[PKI_ERR_LEN];
	size_t n;

	(void)state;
	make(CRYPTO_ROLE_TENANT, "alice", &c, pub);
	assert_int_equal(pki_csr_read(c.der, c.der_len, &csr, err, sizeof(err)), CRYPTO_OK);
	n = csr.cri_len;
	cri = malloc(n + 1);
	assert_non_null(cri);
	memcpy(cri, csr.cri, n);
	assert_int_equal(csr_request_parse(cri, n, &req, err, sizeof(err)), 0);
	for (size_t cut = 0; cut < n; cut++)
		assert_int_equal(csr_request_parse(cri, cut, &req, err, sizeof(err)), -1);
	cri[n] = 0;
	assert_int_equal(csr_request_parse(cri, n + 1, &req, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not one DER SEQUENCE"));
	for (size_t i = 0; i < n; i++) {
		for (int bit = 0; bit < 8; bit++) {
			cri[i] ^= (uint8_t)(1u << bit);
			(void)csr_request_parse(cri, n, &req, err, sizeof(err));
			cri[i] ^= (uint8_t)(1u << bit);
		}
	}
	/* A long-form length that is not the shortest: refused. */
	{
		static const uint8_t nonminimal[] = { 0x30, 0x81, 0x03, 0x02, 0x01, 0x00 };

		assert_int_equal(csr_request_parse(nonminimal, sizeof(nonminimal), &req, err,
						   sizeof(err)), -1);
	}
	free(cri);
	pki_csr_free(&csr);
	pki_cert_free(&c);
}

static void test_fingerprint_is_openssls(void **state)
{
	uint8_t priv[CRYPTO_P384_PRIV_LEN], pub[CRYPTO_P384_PUB_LEN], fpr[48];
	char err[PKI_ERR_LEN], want[256], path[256];
	size_t len;
	uint8_t *out;

	(void)state;
	assert_int_equal(crypto_p384_keygen(priv, pub), CRYPTO_OK);
	snprintf(path, sizeof(path), "%s/f.key", dir);
	unlink(path);
	assert_int_equal(pki_key_write(path, priv, err, sizeof(err)), CRYPTO_OK);
	assert_int_equal(sh("openssl pkey -in f.key -pubout -outform DER | openssl dgst -sha384 "
			    "-r > f.txt"), 0);
	out = slurp("f.txt", &len);
	pki_key_fingerprint(pub, fpr);
	for (size_t i = 0; i < 48; i++)
		snprintf(want + 2 * i, 3, "%02x", fpr[i]);
	assert_memory_equal(out, want, 96);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_our_request_is_taken),
		cmocka_unit_test(test_bad_signature_is_refused),
		cmocka_unit_test(test_wrong_key_or_algorithm_is_refused),
		cmocka_unit_test(test_roles_it_must_not_ask_for),
		cmocka_unit_test(test_subject_must_be_one_cn),
		cmocka_unit_test(test_garbage_and_oversize_are_refused),
		cmocka_unit_test(test_request_info_parser),
		cmocka_unit_test(test_fingerprint_is_openssls),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
