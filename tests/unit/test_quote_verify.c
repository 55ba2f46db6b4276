/*
 * TPM2_Quote verification (tools/quote_verify.c, compiled in: host-only
 * code). The real quote is swtpm 0.7.1's (the vectors of
 * tests/unit/test_tpm2_cmd.c, which tpm2_checkquote also accepts); the
 * attests the TPM would never make are signed here with a key of the
 * test's own, so each refusal is the check named, not the signature.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/quote_verify.c"

#define MASK 0x001081u /* PCRs 0, 7, 12 */

/* The AK's point, from rsp_create_ak of tests/unit/test_tpm2_cmd.c. */
static const uint8_t ak_pub[97] = {
	0x04, 0x21, 0x47, 0x4a, 0xd7, 0x3f, 0x2b, 0xff, 0x86, 0x9c, 0x43, 0x69,
	0x9a, 0x20, 0xc8, 0x65, 0x5c, 0x69, 0xd0, 0x85, 0x31, 0x8a, 0xb7, 0x3b,
	0xaf, 0x08, 0x61, 0x23, 0xac, 0xc3, 0x30, 0xee, 0x5f, 0x27, 0xda, 0xc7,
	0xa0, 0x2c, 0x6b, 0xed, 0xc3, 0x43, 0x7a, 0xfb, 0xa3, 0xd3, 0xce, 0x9c,
	0x05, 0x65, 0x3e, 0xfd, 0xeb, 0xa0, 0x1b, 0x26, 0x13, 0x23, 0xa3, 0x17,
	0xe3, 0x2e, 0xd6, 0x03, 0xf6, 0x18, 0xb5, 0x74, 0x6f, 0xd9, 0x5c, 0xec,
	0x20, 0xca, 0x2a, 0x1a, 0x15, 0x44, 0x40, 0x96, 0xfd, 0x78, 0x88, 0x65,
	0xef, 0x8f, 0x0c, 0x62, 0x2a, 0x7e, 0xb7, 0x24, 0x31, 0xa8, 0xe2, 0xe3,
	0x9f,
};
/* The TPMS_ATTEST and r || s of its rsp_quote. */
static const uint8_t attest[177] = {
	0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0x00, 0x32, 0x00, 0x0c, 0x64, 0x26,
	0xdc, 0x53, 0xc0, 0xbc, 0x35, 0xfb, 0x52, 0xc7, 0x3c, 0xf4, 0x5f, 0xfd,
	0xbc, 0x59, 0x58, 0xdb, 0xca, 0xf5, 0xb8, 0x21, 0x81, 0x8b, 0x3c, 0x64,
	0x6b, 0x6a, 0x26, 0xab, 0x45, 0x47, 0xdb, 0x81, 0xf3, 0x11, 0xfd, 0x96,
	0x16, 0xa4, 0xa0, 0xb2, 0x0a, 0xa7, 0xfa, 0x3c, 0xcb, 0xf1, 0x00, 0x20,
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
	0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x05, 0x72, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x20, 0x19, 0x10, 0x23, 0x00, 0x16, 0x36, 0x36, 0x00, 0x00, 0x00,
	0x01, 0x00, 0x0c, 0x03, 0x81, 0x10, 0x00, 0x00, 0x30, 0xc8, 0x4c, 0x90,
	0x9b, 0x9f, 0x2b, 0x5a, 0x63, 0xfb, 0xa8, 0x14, 0x92, 0x79, 0x98, 0x8b,
	0x72, 0x3c, 0xfb, 0xd4, 0x19, 0x4f, 0x10, 0x55, 0x4d, 0x95, 0x5f, 0xfa,
	0xe9, 0x2e, 0x6c, 0x6c, 0x9b, 0x1e, 0xa1, 0x10, 0x04, 0x2d, 0xbf, 0xc2,
	0x31, 0x50, 0x41, 0x02, 0xa6, 0x2b, 0xea, 0x9b, 0x46,
};
static const uint8_t sig[96] = {
	0x07, 0x37, 0xe5, 0xe4, 0x5c, 0xfa, 0xea, 0x28, 0x57, 0x3c, 0xbd, 0x96,
	0x08, 0xb5, 0xab, 0xc5, 0xcd, 0x04, 0xcc, 0x27, 0x02, 0x27, 0x9a, 0x6f,
	0x82, 0x5a, 0x24, 0xfa, 0x27, 0x71, 0x5e, 0x24, 0xfb, 0x57, 0x4f, 0x1e,
	0x6a, 0xab, 0x73, 0xb5, 0x26, 0xf0, 0x40, 0x99, 0xd3, 0xf6, 0x1b, 0x4e,
	0x16, 0x1d, 0x31, 0xf5, 0x4d, 0x53, 0x77, 0x12, 0x05, 0x6c, 0x49, 0x6c,
	0x91, 0x72, 0x67, 0x3b, 0x68, 0x4d, 0xf9, 0x30, 0xfb, 0x09, 0x2e, 0x82,
	0x44, 0x7e, 0x04, 0x56, 0x95, 0x09, 0x36, 0x93, 0xe5, 0xcc, 0xa2, 0xe6,
	0x7c, 0x06, 0xb2, 0xbd, 0x88, 0xce, 0x1d, 0xb3, 0x39, 0xbc, 0x0f, 0xfe,
};
/* SHA-384 PCR 7 after extending 48 bytes 0x77, and PCR 12 after extending
 * 00 01 .. 2f (PCR 0 is zero). */
static const uint8_t pcr7[48] = {
	0x78, 0xc9, 0x38, 0x7a, 0xc5, 0xf5, 0x3c, 0x50, 0x77, 0xfe, 0xc8, 0x24,
	0xe9, 0x18, 0x0f, 0x5d, 0xc1, 0xa8, 0xdf, 0x3f, 0xef, 0x46, 0x37, 0xa7,
	0xb1, 0x83, 0xf8, 0x82, 0x73, 0x95, 0x7f, 0xb0, 0x42, 0x06, 0x2b, 0x74,
	0x32, 0x8f, 0x9f, 0x36, 0xd5, 0xed, 0x21, 0xfc, 0xff, 0xaa, 0xb7, 0x8c,
};
static const uint8_t pcr12[48] = {
	0xfe, 0x83, 0xf7, 0x42, 0xd1, 0xca, 0xb5, 0xc7, 0x09, 0xa0, 0xc4, 0x24,
	0x72, 0x98, 0x31, 0xfb, 0xff, 0x9b, 0x5b, 0xb9, 0x74, 0x8a, 0x61, 0x8f,
	0x0b, 0x6e, 0xa0, 0x4f, 0xe1, 0xfd, 0xe4, 0xd5, 0x46, 0xf4, 0x04, 0x0e,
	0x7f, 0xc9, 0x58, 0x7b, 0x2e, 0x6b, 0xad, 0xad, 0xa6, 0xc9, 0x41, 0xb0,
};
static const uint8_t qualifying[32] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
	0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
};

/* Where the attest's fields are: type, extraData (after its size),
 * clockInfo, and quote info (the selection list, then pcrDigest). */
#define AT_TYPE   4
#define AT_EXTRA  60
#define AT_CLOCK  92
#define AT_QUOTE  117
#define AT_DIGEST 129

static uint8_t pcrs[QUOTE_PCR_COUNT][QUOTE_PCR_LEN];
static uint8_t test_priv[CRYPTO_P384_PRIV_LEN], test_pub[CRYPTO_P384_PUB_LEN];
static uint8_t m[1024], m_sig[96]; /* an attest to change, and its signature */

static int setup(void **state)
{
	(void)state;
	/* libtss2 logs each refusal to stderr; the messages checked are ours. */
	setenv("TSS2_LOG", "all+none", 1);
	if (crypto_init() != CRYPTO_OK ||
	    crypto_p384_keygen(test_priv, test_pub) != CRYPTO_OK)
		return -1;
	return 0;
}

/* PCR values as the quote saw them; the unselected ones anything else. */
static void reset_pcrs(void)
{
	memset(pcrs, 0xee, sizeof(pcrs));
	memset(pcrs[0], 0, QUOTE_PCR_LEN);
	memcpy(pcrs[7], pcr7, QUOTE_PCR_LEN);
	memcpy(pcrs[12], pcr12, QUOTE_PCR_LEN);
}

static int verify(const uint8_t *a, size_t len, const uint8_t *s,
		  const uint8_t *pub, const uint8_t *q, size_t q_len,
		  uint32_t mask, char *err, size_t err_len)
{
	return quote_verify(a, len, s, pub, q, q_len, mask,
			    (const uint8_t (*)[QUOTE_PCR_LEN])pcrs, NULL, err,
			    err_len);
}

static void refused(const uint8_t *a, size_t len, const uint8_t *s,
		    const uint8_t *pub, const uint8_t *q, size_t q_len,
		    uint32_t mask, const char *why)
{
	char err[200];

	memset(err, 'x', sizeof(err));
	assert_int_equal(verify(a, len, s, pub, q, q_len, mask, err, sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("refused with '%s', expected '%s'", err, why);
	assert_int_equal(verify(a, len, s, pub, q, q_len, mask, NULL, 0), -1);
}

/* The real quote with one input changed. */
static void real_refused(const uint8_t *s, const uint8_t *q, size_t q_len,
			 uint32_t mask, const char *why)
{
	refused(attest, sizeof(attest), s, ak_pub, q, q_len, mask, why);
}

/* m_sig: the test key's signature of m (len bytes). */
static void sign_m(size_t len)
{
	uint8_t digest[CRYPTO_SHA384_LEN];

	crypto_sha384(m, len, digest);
	assert_int_equal(crypto_ecdsa_p384_sign(test_priv, digest, m_sig), CRYPTO_OK);
}

/* m (len bytes), signed with the test key, refused for why. */
static void signed_refused(size_t len, const char *why)
{
	sign_m(len);
	refused(m, len, m_sig, test_pub, qualifying, sizeof(qualifying), MASK, why);
}

/* Into m: the real attest up to its quote info, type set, then tail. */
static size_t with_quote_info(uint16_t type, const uint8_t *tail, size_t tail_len)
{
	memcpy(m, attest, AT_QUOTE);
	m[AT_TYPE] = (uint8_t)(type >> 8);
	m[AT_TYPE + 1] = (uint8_t)type;
	memcpy(m + AT_QUOTE, tail, tail_len);
	return AT_QUOTE + tail_len;
}

static void test_accepted(void **state)
{
	struct quote_clock clock;
	char err[200] = "x";

	(void)state;
	reset_pcrs();
	memset(&clock, 0xa5, sizeof(clock));
	assert_int_equal(quote_verify(attest, sizeof(attest), sig, ak_pub, qualifying,
				      sizeof(qualifying), MASK,
				      (const uint8_t (*)[QUOTE_PCR_LEN])pcrs, &clock,
				      err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(clock.reset_count, 1);
	assert_int_equal(clock.restart_count, 0);
	assert_int_equal(clock.firmware_version, 0x2019102300163636ull);
	assert_int_equal(verify(attest, sizeof(attest), sig, ak_pub, qualifying,
				sizeof(qualifying), MASK, NULL, 0), 0);
	/* Only the selected PCRs count. */
	pcrs[8][0] ^= 1;
	pcrs[23][47] ^= 1;
	assert_int_equal(verify(attest, sizeof(attest), sig, ak_pub, qualifying,
				sizeof(qualifying), MASK, NULL, 0), 0);
	/* The same bytes signed by the test key: the path the refusals below
	 * take accepts them. */
	memcpy(m, attest, sizeof(attest));
	sign_m(sizeof(attest));
	assert_int_equal(verify(m, sizeof(attest), m_sig, test_pub, qualifying,
				sizeof(qualifying), MASK, NULL, 0), 0);
}

static void test_signature(void **state)
{
	uint8_t s[96], pub[97];

	(void)state;
	reset_pcrs();
	for (size_t i = 0; i < sizeof(s); i += 47) {
		memcpy(s, sig, sizeof(s));
		s[i] ^= 0x01;
		real_refused(s, qualifying, sizeof(qualifying), MASK,
			     "quote: the signature does not verify with the attestation key");
	}
	memcpy(pub, ak_pub, sizeof(pub));
	pub[50] ^= 0x01; /* off the curve */
	refused(attest, sizeof(attest), sig, pub, qualifying, sizeof(qualifying), MASK,
		"does not verify");
	refused(attest, sizeof(attest), sig, test_pub, qualifying, sizeof(qualifying),
		MASK, "does not verify");
	memcpy(m, attest, sizeof(attest));
	m[AT_CLOCK + 7] ^= 1; /* the TPM's clock, say */
	refused(m, sizeof(attest), sig, ak_pub, qualifying, sizeof(qualifying), MASK,
		"does not verify");
}

static void test_qualifying(void **state)
{
	uint8_t q[sizeof(qualifying)];

	(void)state;
	reset_pcrs();
	memcpy(q, qualifying, sizeof(q));
	q[31] ^= 0x80;
	real_refused(sig, q, sizeof(q),
		     MASK, "quote: extraData (32 bytes) is not the qualifying data (32 bytes)");
	real_refused(sig, qualifying, 31, MASK,
		     "extraData (32 bytes) is not the qualifying data (31 bytes)");
	real_refused(sig, NULL, 0, MASK,
		     "extraData (32 bytes) is not the qualifying data (0 bytes)");
	real_refused(sig, qualifying, 65, MASK,
		     "quote: qualifying data of 65 bytes (at most 64)");
	real_refused(sig, NULL, 4, MASK, "quote: missing input");
}

static void test_pcr_mask(void **state)
{
	(void)state;
	reset_pcrs();
	real_refused(sig, qualifying, sizeof(qualifying), 0x000081,
		     "quote: PCRs 0x001081, expected 0x000081");
	real_refused(sig, qualifying, sizeof(qualifying), 0x001083,
		     "PCRs 0x001081, expected 0x001083");
	real_refused(sig, qualifying, sizeof(qualifying), 0,
		     "quote: PCR mask 0x00000000 (must select some of PCRs 0..23)");
	real_refused(sig, qualifying, sizeof(qualifying), 0x1001081,
		     "PCR mask 0x01001081");
}

static void test_pcr_values(void **state)
{
	static const uint8_t pcrs_at[] = { 0, 7, 12 };

	(void)state;
	for (size_t i = 0; i < sizeof(pcrs_at); i++) {
		reset_pcrs();
		pcrs[pcrs_at[i]][i * 20] ^= 0x10;
		real_refused(sig, qualifying, sizeof(qualifying), MASK,
			     "quote: pcrDigest does not match the PCR values given");
	}
	/* The right values in the wrong order. */
	reset_pcrs();
	memcpy(pcrs[7], pcr12, QUOTE_PCR_LEN);
	memcpy(pcrs[12], pcr7, QUOTE_PCR_LEN);
	real_refused(sig, qualifying, sizeof(qualifying), MASK, "pcrDigest does not match");
}

/* Trailing bytes, every truncation, magic and type: signed, so only the
 * structure is wrong. */
static void test_structure(void **state)
{
	static const uint8_t certify_info[] = {
		0x00, 0x02, 0x40, 0x00, /* name: a permanent handle's */
		0x00, 0x02, 0x40, 0x01, /* qualifiedName */
	};
	char why[80];
	size_t len;

	(void)state;
	reset_pcrs();
	memcpy(m, attest, sizeof(attest));
	m[sizeof(attest)] = 0;
	signed_refused(sizeof(attest) + 1, "quote: 1 bytes after the attest's 177");
	refused(m, sizeof(attest) + 1, sig, ak_pub, qualifying, sizeof(qualifying), MASK,
		"does not verify");
	for (size_t n = 0; n < sizeof(attest); n++) {
		snprintf(why, sizeof(why), "quote: the attest of %zu bytes does not unmarshal", n);
		memcpy(m, attest, n);
		signed_refused(n, why);
	}
	memcpy(m, attest, sizeof(attest));
	m[0] = 0xfe;
	signed_refused(sizeof(attest),
		       "quote: attest magic 0xfe544347, not TPM_GENERATED_VALUE");
	len = with_quote_info(0x8017, certify_info, sizeof(certify_info));
	signed_refused(len, "quote: attest type 0x8017, not TPM_ST_ATTEST_QUOTE (0x8018)");
	len = with_quote_info(0x8018, certify_info, sizeof(certify_info));
	signed_refused(len, "does not unmarshal");
	memcpy(m, attest, sizeof(attest));
	m[AT_TYPE + 1] = 0x30; /* no such type */
	signed_refused(sizeof(attest), "does not unmarshal");
}

/* Selections and digests a quote could carry but ours must not. */
static void test_selection(void **state)
{
	uint8_t tail[256];
	size_t len;

	(void)state;
	reset_pcrs();
	/* SHA-256 bank. */
	memcpy(m, attest, sizeof(attest));
	m[AT_QUOTE + 5] = 0x0b;
	signed_refused(sizeof(attest), "quote: PCR bank 0x000b, expected SHA-384");
	/* Two selections: SHA-384 and an empty SHA-256 one. */
	memcpy(tail, "\x00\x00\x00\x02\x00\x0c\x03\x81\x10\x00\x00\x0b\x03\x00\x00\x00", 16);
	memcpy(tail + 16, attest + AT_DIGEST - 2, 50);
	len = with_quote_info(0x8018, tail, 66);
	signed_refused(len, "quote: 2 PCR selections, expected one");
	/* None. */
	memcpy(tail, "\x00\x00\x00\x00", 4);
	memcpy(tail + 4, attest + AT_DIGEST - 2, 50);
	len = with_quote_info(0x8018, tail, 54);
	signed_refused(len, "quote: 0 PCR selections, expected one");
	/* Four select bytes: the same PCRs pass, PCR 24 does not. */
	memcpy(tail, "\x00\x00\x00\x01\x00\x0c\x04\x81\x10\x00\x00", 11);
	memcpy(tail + 11, attest + AT_DIGEST - 2, 50);
	len = with_quote_info(0x8018, tail, 61);
	sign_m(len);
	assert_int_equal(verify(m, len, m_sig, test_pub, qualifying,
				sizeof(qualifying), MASK, NULL, 0), 0);
	m[AT_QUOTE + 10] = 0x01;
	signed_refused(len, "quote: PCRs 0x1001081, expected 0x001081");
	/* Five select bytes: more than TPMS_PCR_SELECTION holds. */
	memcpy(tail, "\x00\x00\x00\x01\x00\x0c\x05\x81\x10\x00\x00\x00", 12);
	memcpy(tail + 12, attest + AT_DIGEST - 2, 50);
	len = with_quote_info(0x8018, tail, 62);
	signed_refused(len, "does not unmarshal");
	/* A SHA-256-sized pcrDigest. */
	memcpy(tail, attest + AT_QUOTE, 10);
	memcpy(tail + 10, "\x00\x20", 2);
	memcpy(tail + 12, attest + AT_DIGEST, 32);
	len = with_quote_info(0x8018, tail, 44);
	signed_refused(len, "quote: pcrDigest does not match the PCR values given");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_signature),
		cmocka_unit_test(test_qualifying),
		cmocka_unit_test(test_pcr_mask),
		cmocka_unit_test(test_pcr_values),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_selection),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
