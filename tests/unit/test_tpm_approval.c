/*
 * Unit tests for the CA's approval of a launch (tcb/tpm_approval.c): the
 * layout byte by byte, every malformed approval refused, the signature
 * over exactly what the TPM's PolicyAuthorize checks, and any change to
 * the values, the signature or the key refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tcb/tpm_approval.h"
#include "tcb/tpm2_nv.h"
#include "tcb/byteorder.h"
#include "crypto/crypto.h"

static uint8_t ca_priv[CRYPTO_P384_PRIV_LEN], ca_pub[CRYPTO_P384_PUB_LEN];
static uint8_t other_priv[CRYPTO_P384_PRIV_LEN], other_pub[CRYPTO_P384_PUB_LEN];
static char err[160];

static int setup(void **state)
{
	(void)state;
	assert_int_equal(crypto_p384_keygen(ca_priv, ca_pub), CRYPTO_OK);
	assert_int_equal(crypto_p384_keygen(other_priv, other_pub), CRYPTO_OK);
	return 0;
}

static struct tpm_approval sample(void)
{
	struct tpm_approval a;

	for (unsigned i = 0; i < TPM_APPROVAL_PCRS; i++)
		memset(a.pcrs[i], 0x40 + (int)i, TPM_APPROVAL_DIGEST_LEN);
	memset(a.sig, 0x5a, sizeof(a.sig));
	return a;
}

static void test_layout(void **state)
{
	struct tpm_approval a = sample(), back;
	uint8_t buf[TPM_APPROVAL_LEN];

	(void)state;
	assert_int_equal(TPM_APPROVAL_LEN, 592);
	tpm_approval_encode(&a, buf);
	assert_memory_equal(buf, "CUSTAPR1", 8);
	assert_int_equal(load_le32(buf + 8), 1);
	assert_int_equal(load_le32(buf + 12), 0x3ff);
	assert_int_equal(buf[16], 0x40);
	assert_int_equal(buf[16 + 9 * 48], 0x49);
	assert_int_equal(buf[495], 0x49);
	assert_int_equal(buf[496], 0x5a);
	assert_int_equal(tpm_approval_parse(buf, sizeof(buf), &back, err, sizeof(err)), 0);
	assert_memory_equal(&back, &a, sizeof(a));
}

static void expect_refused(const uint8_t *buf, size_t len, const char *why)
{
	struct tpm_approval out;

	memset(&out, 0xee, sizeof(out));
	err[0] = '\0';
	assert_int_equal(tpm_approval_parse(buf, len, &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, why));
	for (size_t i = 0; i < sizeof(out); i++) /* untouched on a refusal */
		assert_int_equal(((uint8_t *)&out)[i], 0xee);
}

static void test_malformed_refused(void **state)
{
	struct tpm_approval a = sample();
	uint8_t buf[TPM_APPROVAL_LEN + 1], bad[TPM_APPROVAL_LEN];

	(void)state;
	tpm_approval_encode(&a, buf);
	buf[TPM_APPROVAL_LEN] = 0;
	expect_refused(buf, TPM_APPROVAL_LEN - 1, "591 bytes");
	expect_refused(buf, TPM_APPROVAL_LEN + 1, "593 bytes");
	expect_refused(buf, 0, "0 bytes");
	memcpy(bad, buf, sizeof(bad));
	bad[7] = '2';
	expect_refused(bad, sizeof(bad), "no magic");
	memcpy(bad, buf, sizeof(bad));
	store_le32(bad + 8, 2);
	expect_refused(bad, sizeof(bad), "version 2");
	memcpy(bad, buf, sizeof(bad));
	store_le32(bad + 12, 0x1ff); /* PCR 9 left out: modules unbound */
	expect_refused(bad, sizeof(bad), "PCR set 0x1ff");
	memset(bad, 0, sizeof(bad)); /* an NV index never written */
	expect_refused(bad, sizeof(bad), "no magic");
}

/* The CA signs SHA-384(PolicyPCR digest of the values || policyRef):
 * exactly the aHash the TPM's VerifySignature and PolicyAuthorize take. */
static void test_ahash_is_policy_authorize_input(void **state)
{
	struct tpm_approval a = sample();
	uint8_t pcr_digest[48], approved[48], mine[48], ahash[48];
	uint8_t msg[48 + sizeof(TPM_APPROVAL_POLICY_REF) - 1];

	(void)state;
	assert_int_equal(tpm2_policy_pcr_digest(0x3ff, a.pcrs, 10, pcr_digest, approved), 0);
	tpm_approval_policy(&a, mine);
	assert_memory_equal(mine, approved, 48);
	memcpy(msg, approved, 48);
	memcpy(msg + 48, "custos-tcb-key", 14);
	crypto_sha384(msg, sizeof(msg), ahash);
	tpm_approval_ahash(&a, mine);
	assert_memory_equal(mine, ahash, 48);
}

static void test_signed_verifies(void **state)
{
	struct tpm_approval a = sample();

	(void)state;
	assert_int_equal(tpm_approval_sign(&a, ca_priv), 0);
	assert_int_equal(tpm_approval_verify(&a, ca_pub, err, sizeof(err)), 0);
}

static void test_changes_refused(void **state)
{
	struct tpm_approval a = sample(), b;

	(void)state;
	assert_int_equal(tpm_approval_sign(&a, ca_priv), 0);
	assert_int_equal(tpm_approval_verify(&a, other_pub, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not the CA's"));
	for (unsigned i = 0; i < TPM_APPROVAL_PCRS; i++) {
		b = a;
		b.pcrs[i][47] ^= 1;
		assert_int_equal(tpm_approval_verify(&b, ca_pub, err, sizeof(err)), -1);
	}
	b = a;
	b.sig[0] ^= 0x80;
	assert_int_equal(tpm_approval_verify(&b, ca_pub, err, sizeof(err)), -1);
	b = a;
	b.sig[95] ^= 1;
	assert_int_equal(tpm_approval_verify(&b, ca_pub, err, sizeof(err)), -1);
	b = a; /* someone else's signature over the same values */
	assert_int_equal(tpm_approval_sign(&b, other_priv), 0);
	assert_int_equal(tpm_approval_verify(&b, ca_pub, err, sizeof(err)), -1);
}

static void test_first_mismatch(void **state)
{
	struct tpm_approval a = sample();
	uint8_t pcrs[TPM_APPROVAL_PCRS][48];

	(void)state;
	memcpy(pcrs, a.pcrs, sizeof(pcrs));
	assert_int_equal(tpm_approval_first_mismatch(&a, pcrs), -1);
	pcrs[9][0] ^= 1;
	assert_int_equal(tpm_approval_first_mismatch(&a, pcrs), 9);
	pcrs[8][47] ^= 1;
	assert_int_equal(tpm_approval_first_mismatch(&a, pcrs), 8);
	pcrs[0][20] ^= 1;
	assert_int_equal(tpm_approval_first_mismatch(&a, pcrs), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_ahash_is_policy_authorize_input),
		cmocka_unit_test(test_signed_verifies),
		cmocka_unit_test(test_changes_refused),
		cmocka_unit_test(test_first_mismatch),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
