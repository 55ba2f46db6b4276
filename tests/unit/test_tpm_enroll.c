/*
 * The enrollment module (tcb/tpm_enroll.c, tcb/tpm_enroll_open.c): a module
 * built here the way `custos-ca enroll` builds one parses to its fields;
 * every truncation, a trailing byte, each length out of range and a wrong
 * magic or version are refused; the certificate opens with the right
 * credential only, and a changed byte of the authenticated part (the AK
 * name, the credential, the encrypted secret) or of the certificate keeps
 * it shut.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/tpm_enroll.h"
#include "guarded.h"

static uint8_t mod[4096];
static size_t mod_len;
static const uint8_t credential[32] = "the credential the TPM gives bk";
static uint8_t cert[300];

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static size_t field(uint8_t *p, size_t n, uint8_t fill)
{
	put16(p, n);
	memset(p + 2, fill, n);
	return 2 + n;
}

/* Magic, version, AK name (50), blob (68), secret (256), nonce, cert, tag. */
static size_t build(size_t blob_len, size_t secret_len)
{
	static const char info[] = ENROLL_HKDF_INFO;
	uint8_t key[32];
	size_t off = 0, aad;

	memcpy(mod, ENROLL_MAGIC, 8);
	mod[8] = 1, mod[9] = mod[10] = mod[11] = 0;
	off = 12;
	off += field(mod + off, ENROLL_AK_NAME_LEN, 0xa1);
	off += field(mod + off, blob_len, 0xb2);
	off += field(mod + off, secret_len, 0xc3);
	aad = off;
	memset(mod + off, 0x4e, ENROLL_NONCE_LEN);
	off += ENROLL_NONCE_LEN;
	put16(mod + off, sizeof(cert));
	assert_int_equal(crypto_hkdf_sha384(NULL, 0, credential, sizeof(credential),
					    info, sizeof(info) - 1, key, sizeof(key)),
			 CRYPTO_OK);
	assert_int_equal(crypto_aes256gcm_encrypt(key, mod + aad, mod, aad, cert,
						  sizeof(cert), mod + off + 2,
						  mod + off + 2 + sizeof(cert)),
			 CRYPTO_OK);
	off += 2 + sizeof(cert) + ENROLL_TAG_LEN;
	return off;
}

static void test_round_trip(void **state)
{
	struct tpm_enrollment e;
	uint8_t out[sizeof(cert)];
	char err[160] = "x";

	(void)state;
	for (size_t i = 0; i < sizeof(cert); i++)
		cert[i] = (uint8_t)(i * 7 + 1);
	mod_len = build(68, 256);
	assert_int_equal(tpm_enrollment_parse(mod, mod_len, &e, err, sizeof(err)), 0);
	assert_ptr_equal(e.ak_name, mod + 14);
	assert_int_equal(e.blob_len, 68);
	assert_int_equal(e.secret_len, 256);
	assert_int_equal(e.cert_len, sizeof(cert));
	assert_ptr_equal(e.tag, mod + mod_len - ENROLL_TAG_LEN);
	assert_int_equal(tpm_enrollment_open_cert(mod, &e, credential,
						  sizeof(credential), out), 0);
	assert_memory_equal(out, cert, sizeof(cert));
}

static void test_wrong_credential_or_changed_bytes(void **state)
{
	struct tpm_enrollment e;
	uint8_t out[sizeof(cert)], other[32];
	size_t at[] = { 12 + 2 + 3 /* AK name */, 70 /* blob */, 200 /* secret */,
			0 /* nonce: below */, 0 /* ciphertext */, 0 /* tag */ };

	(void)state;
	mod_len = build(68, 256);
	assert_int_equal(tpm_enrollment_parse(mod, mod_len, &e, NULL, 0), 0);
	memcpy(other, credential, sizeof(other));
	other[31] ^= 1;
	assert_int_equal(tpm_enrollment_open_cert(mod, &e, other, sizeof(other), out), -1);
	at[3] = e.aad_len + 3;
	at[4] = (size_t)(e.cert_enc - mod) + 100;
	at[5] = mod_len - 1;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		mod_len = build(68, 256);
		mod[at[i]] ^= 0x10;
		assert_int_equal(tpm_enrollment_parse(mod, mod_len, &e, NULL, 0), 0);
		assert_int_equal(tpm_enrollment_open_cert(mod, &e, credential,
							  sizeof(credential), out), -1);
	}
}

static void expect_refused(size_t len, const char *needle)
{
	struct tpm_enrollment e;
	char err[160] = "";

	assert_int_equal(tpm_enrollment_parse(mod, len, &e, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("'%s' does not say '%s'", err, needle);
}

static void test_refusals(void **state)
{
	struct guarded g;
	struct tpm_enrollment e;

	(void)state;
	mod_len = build(68, 256);
	/* Every proper prefix, read against a guard page. */
	guarded_init(&g, mod_len);
	for (size_t n = 0; n < mod_len; n++)
		assert_int_equal(tpm_enrollment_parse(guarded_fill(&g, mod, n, 1), n,
						      &e, NULL, 0), -1);
	guarded_free(&g);
	mod[mod_len] = 0;
	expect_refused(mod_len + 1, "1 trailing bytes");
	mod[0] = 'X';
	expect_refused(mod_len, "no \"CUSTENR1\" magic");
	mod_len = build(68, 256);
	mod[8] = 2;
	expect_refused(mod_len, "version 2");
	mod_len = build(68, 256);
	put16(mod + 12, 49);
	expect_refused(mod_len, "attestation key name of 49 bytes");
	mod_len = build(ENROLL_BLOB_MAX + 1, 256);
	expect_refused(mod_len, "credential of 257 bytes");
	mod_len = build(0, 256);
	expect_refused(mod_len, "credential of 0 bytes");
	mod_len = build(68, ENROLL_SECRET_MAX + 1);
	expect_refused(mod_len, "encrypted secret of 513 bytes");
	mod_len = build(68, 256);
	put16(mod + mod_len - ENROLL_TAG_LEN - sizeof(cert) - 2, ENROLL_CERT_MAX + 1);
	expect_refused(mod_len, "certificate of 2049 bytes");
	mod_len = build(68, 256);
	put16(mod + mod_len - ENROLL_TAG_LEN - sizeof(cert) - 2, sizeof(cert) + 1);
	expect_refused(mod_len, "ends inside the tag");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_wrong_credential_or_changed_bytes),
		cmocka_unit_test(test_refusals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
