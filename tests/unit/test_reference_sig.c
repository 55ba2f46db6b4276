/*
 * The CA's detached signature over a reference.json (tools/reference_sig.c,
 * compiled in here): a signature made by the root key verifies with the
 * root certificate; any change to the reference, to any byte of the
 * signature file, its length or version, or another CA's root is refused
 * with its own reason; every truncation is refused without overreading.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tools/reference_sig.c"
#include "crypto/pki_host.h"
#include "guarded.h"

static const char reference[] =
	"{\"format\": \"custos-reference-1\", \"platform_id\": \"custos-dev\", "
	"\"measurements\": []}\n";

static struct {
	uint8_t priv[48], other_priv[48], pub[97];
	struct pki_cert root, other;
	uint8_t sig[REFERENCE_SIG_LEN];
} ca;

static int setup(void **state)
{
	char err[PKI_ERR_LEN];

	(void)state;
	if (crypto_init() != CRYPTO_OK || crypto_p384_keygen(ca.priv, ca.pub) ||
	    crypto_p384_keygen(ca.other_priv, ca.pub) ||
	    pki_issue_root(ca.priv, "Custos test CA", 30, &ca.root, err, sizeof(err)) ||
	    pki_issue_root(ca.other_priv, "Custos test CA", 30, &ca.other, err, sizeof(err)) ||
	    reference_sig_sign((const uint8_t *)reference, sizeof(reference) - 1, ca.priv,
			       ca.sig) != 0) {
		fprintf(stderr, "setup failed\n");
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pki_cert_free(&ca.root);
	pki_cert_free(&ca.other);
	return 0;
}

static int verify(const char *ref, size_t ref_len, const uint8_t *sig, size_t sig_len,
		  const struct pki_cert *root, char *err, size_t err_len)
{
	return reference_sig_verify((const uint8_t *)ref, ref_len, sig, sig_len,
				    root->der, root->der_len, err, err_len);
}

static void expect_refused(const char *ref, size_t ref_len, const uint8_t *sig,
			   size_t sig_len, const struct pki_cert *root, const char *want)
{
	char err[256] = "";

	assert_int_equal(verify(ref, ref_len, sig, sig_len, root, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("refused with '%s', expected '%s'", err, want);
}

static void test_layout_and_verify(void **state)
{
	uint8_t digest[48];
	char err[256] = "x";
	struct reference_sig s;

	(void)state;
	assert_memory_equal(ca.sig, "CUSTRSG1\x01\0\0\0", 12);
	crypto_sha384(reference, sizeof(reference) - 1, digest);
	assert_memory_equal(ca.sig + 12, digest, 48);
	assert_int_equal(reference_sig_parse(ca.sig, sizeof(ca.sig), &s, NULL, 0), 0);
	assert_memory_equal(s.ref_sha384, digest, 48);
	assert_memory_equal(s.sig, ca.sig + 60, 96);
	assert_int_equal(verify(reference, sizeof(reference) - 1, ca.sig, sizeof(ca.sig),
				&ca.root, err, sizeof(err)), 0);
}

static void test_changed_reference_refused(void **state)
{
	char changed[sizeof(reference)];

	(void)state;
	memcpy(changed, reference, sizeof(reference));
	changed[40] ^= 1;
	expect_refused(changed, sizeof(reference) - 1, ca.sig, sizeof(ca.sig), &ca.root,
		       "the signature is of another reference file");
	/* One byte more or less is another file too. */
	expect_refused(reference, sizeof(reference) - 2, ca.sig, sizeof(ca.sig), &ca.root,
		       "another reference file");
	expect_refused(reference, sizeof(reference), ca.sig, sizeof(ca.sig), &ca.root,
		       "another reference file");
}

static void test_other_ca_refused(void **state)
{
	(void)state;
	expect_refused(reference, sizeof(reference) - 1, ca.sig, sizeof(ca.sig), &ca.other,
		       "the signature is not by this CA root's key");
}

/* Every byte of the file matters: magic, version, digest, signature. */
static void test_every_byte_flipped(void **state)
{
	uint8_t sig[REFERENCE_SIG_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(sig); i++) {
		const char *want = i < 8 ? "no CUSTRSG1 magic" :
				   i < 12 ? "version" :
				   i < 60 ? "another reference file" : "not by this CA root's key";

		memcpy(sig, ca.sig, sizeof(sig));
		sig[i] ^= 0x40;
		expect_refused(reference, sizeof(reference) - 1, sig, sizeof(sig), &ca.root, want);
	}
}

static void test_lengths_refused(void **state)
{
	uint8_t longer[REFERENCE_SIG_LEN + 1];
	struct guarded g;

	(void)state;
	memcpy(longer, ca.sig, sizeof(ca.sig));
	longer[REFERENCE_SIG_LEN] = 0;
	expect_refused(reference, sizeof(reference) - 1, longer, sizeof(longer), &ca.root,
		       "is 157 bytes, version 1 has exactly 156");
	guarded_init(&g, sizeof(ca.sig));
	for (size_t n = 0; n < sizeof(ca.sig); n++) {
		const uint8_t *p = guarded_fill(&g, ca.sig, n, 1);

		expect_refused(reference, sizeof(reference) - 1, p, n, &ca.root,
			       n < 12 ? "not a reference signature" : "version 1 has exactly 156");
	}
	guarded_free(&g);
	expect_refused(reference, sizeof(reference) - 1, (const uint8_t *)"", 0, &ca.root,
		       "not a reference signature");
}

static void test_bad_root_refused(void **state)
{
	static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	char err[256] = "";

	(void)state;
	assert_int_equal(reference_sig_verify((const uint8_t *)reference, sizeof(reference) - 1,
					      ca.sig, sizeof(ca.sig), junk, sizeof(junk),
					      err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the CA root has no usable key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_and_verify),
		cmocka_unit_test(test_changed_reference_refused),
		cmocka_unit_test(test_other_ca_refused),
		cmocka_unit_test(test_every_byte_flipped),
		cmocka_unit_test(test_lengths_refused),
		cmocka_unit_test(test_bad_root_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
