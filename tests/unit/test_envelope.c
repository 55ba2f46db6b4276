/*
 * Unit tests for the structural envelope parser and the payload splitter
 * (tcb/envelope.c), and the DER shape check they share (tcb/der.c).
 *
 * No cryptography here (tests/unit/test_envelope_open.c has it): envelopes
 * are assembled from patterned bytes by a small builder that writes every
 * field at the offset docs/envelope.md gives, independently of the
 * parser's constants where the spec fixes a number. Each rejection test
 * starts from a valid envelope and breaks one thing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <custos/envelope.h>
#include "tcb/der.h"
#include "guarded.h"

/* docs/envelope.md, "Layout". */
#define OFF_VERSION     8
#define OFF_CERT_LEN    12
#define OFF_PAYLOAD_LEN 16
#define OFF_FPR         20
#define OFF_EPH         68
#define OFF_IV          165
#define OFF_CERT        177

static uint8_t *env;
static size_t env_len, env_cap;
static struct envelope out;
static char err[256];

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void pattern(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

/* A DER SEQUENCE of exactly n bytes (n >= 4 uses the 0x82 form when needed). */
static void der_seq(uint8_t *p, size_t n)
{
	size_t content;

	if (n < 2) { /* too short to be DER: just the tag */
		if (n)
			p[0] = 0x30;
		return;
	}
	if (n - 2 < 0x80) {
		p[0] = 0x30;
		p[1] = (uint8_t)(n - 2);
		content = 2;
	} else if (n - 3 < 0x100) {
		p[0] = 0x30;
		p[1] = 0x81;
		p[2] = (uint8_t)(n - 3);
		content = 3;
	} else {
		p[0] = 0x30;
		p[1] = 0x82;
		p[2] = (uint8_t)((n - 4) >> 8);
		p[3] = (uint8_t)(n - 4);
		content = 4;
	}
	pattern(p + content, n - content, 0x41);
}

static void build(size_t cert_len, size_t payload_len)
{
	size_t len = 177 + cert_len + payload_len + 16 + 96;

	if (len > env_cap) {
		free(env);
		env = malloc(len);
		assert_non_null(env);
		env_cap = len;
	}
	memcpy(env, "CUSTENV1", 8);
	put32(env + OFF_VERSION, 1);
	put32(env + OFF_CERT_LEN, (uint32_t)cert_len);
	put32(env + OFF_PAYLOAD_LEN, (uint32_t)payload_len);
	pattern(env + OFF_FPR, 48, 1);
	env[OFF_EPH] = 0x04;
	pattern(env + OFF_EPH + 1, 96, 2);
	pattern(env + OFF_IV, 12, 3);
	der_seq(env + OFF_CERT, cert_len);
	pattern(env + OFF_CERT + cert_len, payload_len + 16 + 96, 4);
	env_len = len;
}

static void build_default(void)
{
	build(600, 1000);
}

static int parse(void)
{
	memset(err, 'x', sizeof(err));
	return envelope_parse(env, env_len, &out, err, sizeof(err));
}

/* Refused, with a message containing 'needle', and out untouched. */
static void reject(const char *needle)
{
	struct envelope sentinel;

	memset(&out, 0xa5, sizeof(out));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	if (parse() != -1)
		fail_msg("accepted; expected refusal with \"%s\"", needle);
	assert_non_null(memchr(err, 0, sizeof(err)));
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
	assert_memory_equal(&out, &sentinel, sizeof(out));
}

static void accept(void)
{
	if (parse() != 0)
		fail_msg("refused: %s", err);
	assert_string_equal(err, "");
}

/* ---- Accepted envelopes --------------------------------------------------- */

static void test_fields(void **state)
{
	(void)state;
	build_default();
	accept();
	assert_int_equal(out.version, 1);
	assert_ptr_equal(out.tcb_fpr, env + 20);
	assert_ptr_equal(out.eph_pub, env + 68);
	assert_ptr_equal(out.iv, env + 165);
	assert_ptr_equal(out.station_cert, env + 177);
	assert_int_equal(out.station_cert_len, 600);
	assert_int_equal(out.header_len, 777);
	assert_ptr_equal(out.ciphertext, env + 777);
	assert_int_equal(out.payload_len, 1000);
	assert_ptr_equal(out.tag, env + 1777);
	assert_int_equal(out.signed_len, 1793);
	assert_ptr_equal(out.signature, env + 1793);
	assert_int_equal(env_len, 1793 + 96);
}

/* The smallest and largest lengths the spec allows. */
static void test_length_limits_accepted(void **state)
{
	(void)state;
	build(2, 1);     /* "30 00" is a (useless) one-SEQUENCE certificate */
	accept();
	build(4096, 1);
	accept();
	assert_int_equal(out.station_cert_len, 4096);
	/* Exactly 64 MiB in all. */
	build(4096, (64u << 20) - 177 - 4096 - 16 - 96);
	assert_int_equal(env_len, 64u << 20);
	accept();
}

/* ---- Refused envelopes ----------------------------------------------------- */

static void test_reject_magic(void **state)
{
	(void)state;
	for (size_t i = 0; i < 8; i++) {
		build_default();
		env[i] ^= 0x20;
		reject("CUSTENV1");
	}
	build_default();
	env_len = 7;
	reject("CUSTENV1");
}

static void test_reject_version(void **state)
{
	static const uint32_t bad[] = { 0, 2, 0x100, 0x01000000, 0xffffffff };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build_default();
		put32(env + OFF_VERSION, bad[i]);
		reject("version");
	}
}

static void test_reject_cert_len(void **state)
{
	static const uint32_t bad[] = { 0, 4097, 0x10000, 0xffffffff };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		build_default();
		put32(env + OFF_CERT_LEN, bad[i]);
		reject("station certificate length");
	}
	/* In range but disagreeing with the real length: the total is off. */
	build_default();
	put32(env + OFF_CERT_LEN, 601);
	reject("truncated");
	build_default();
	put32(env + OFF_CERT_LEN, 599);
	reject("trailing");
}

static void test_reject_payload_len(void **state)
{
	(void)state;
	build_default();
	put32(env + OFF_PAYLOAD_LEN, 0);
	reject("payload is empty");
	build_default();
	put32(env + OFF_PAYLOAD_LEN, 1001);
	reject("truncated");
	build_default();
	put32(env + OFF_PAYLOAD_LEN, 999);
	reject("trailing");
	/* Over 64 MiB with the header: refused before any comparison with len. */
	build_default();
	put32(env + OFF_PAYLOAD_LEN, 64u << 20);
	reject("limit");
	build_default();
	put32(env + OFF_PAYLOAD_LEN, 0xffffffff);
	reject("limit");
}

/* One byte over 64 MiB, even if the header agrees with it. */
static void test_reject_oversize(void **state)
{
	(void)state;
	build(4096, (64u << 20) - 177 - 4096 - 16 - 96 + 1);
	reject("limit");
}

static void test_reject_ephemeral_form(void **state)
{
	static const uint8_t bad[] = { 0x00, 0x02, 0x03, 0x06, 0x07, 0xff };

	(void)state;
	for (size_t i = 0; i < sizeof(bad); i++) {
		build_default();
		env[OFF_EPH] = bad[i];
		reject("uncompressed");
	}
}

static void test_reject_cert_shape(void **state)
{
	(void)state;
	build_default();
	env[OFF_CERT] = 0x31; /* SET, not SEQUENCE */
	reject("DER SEQUENCE");
	build_default();
	env[OFF_CERT + 3]++; /* DER length one more than the field */
	reject("station certificate: DER SEQUENCE of");
	build_default();
	env[OFF_CERT + 1] = 0x80; /* indefinite */
	reject("indefinite");
	build(1, 1000);
	reject("too short");
}

static void test_reject_trailing_and_truncated(void **state)
{
	(void)state;
	build_default();
	env_len--;
	reject("truncated");
	build(600, 1001);
	put32(env + OFF_PAYLOAD_LEN, 1000);
	reject("1 trailing bytes");
}

/*
 * Every proper prefix is refused, read against a guard page on either side
 * (an overread faults); the whole envelope against either guard is fine.
 */
static void test_truncation_everywhere(void **state)
{
	struct guarded g;

	(void)state;
	build(300, 200);
	guarded_init(&g, env_len);
	for (size_t n = 0; n < env_len; n++)
		for (int at_end = 0; at_end < 2; at_end++) {
			uint8_t *copy = guarded_fill(&g, env, n, at_end);

			if (envelope_parse(copy, n, &out, err, sizeof(err)) != -1)
				fail_msg("prefix of %zu bytes accepted", n);
			assert_true(err[0] != '\0');
		}
	for (int at_end = 0; at_end < 2; at_end++)
		assert_int_equal(envelope_parse(guarded_fill(&g, env, env_len,
							     at_end),
						env_len, &out, err,
						sizeof(err)), 0);
	guarded_free(&g);
}

/* Any byte of the fixed fields that the parser does not interpret (the
 * fingerprint, the key's coordinates, the IV) and every byte after the
 * certificate's DER header may be anything: those are the crypto layer's to judge. */
static void test_opaque_bytes_are_not_judged(void **state)
{
	(void)state;
	build_default();
	for (size_t i = OFF_FPR; i < env_len; i++) {
		uint8_t keep = env[i];

		if (i == OFF_EPH || (i >= OFF_CERT && i < OFF_CERT + 4))
			continue;
		env[i] ^= 0xff;
		accept();
		env[i] = keep;
	}
}

static void test_unaligned_and_null_err(void **state)
{
	uint8_t *shifted;

	(void)state;
	build_default();
	shifted = malloc(env_len + 8);
	assert_non_null(shifted);
	for (size_t s = 1; s < 8; s++) {
		memcpy(shifted + s, env, env_len);
		assert_int_equal(envelope_parse(shifted + s, env_len, &out, NULL,
						0), 0);
		assert_ptr_equal(out.station_cert, shifted + s + 177);
	}
	/* A refusal without an error buffer is still a refusal. */
	shifted[1] = 'X';
	assert_int_equal(envelope_parse(shifted + 1, env_len, &out, NULL, 0), -1);
	/* A one-byte error buffer gets an empty string. */
	err[0] = 'x';
	assert_int_equal(envelope_parse(shifted + 1, env_len, &out, err, 1), -1);
	assert_int_equal(err[0], '\0');
	free(shifted);
}

/* ---- Payload ------------------------------------------------------------ */

static uint8_t pl[512];
static size_t pl_len;
static struct envelope_payload pout;

static void put_item(uint16_t type, uint32_t len, uint8_t seed)
{
	pl[pl_len] = (uint8_t)type;
	pl[pl_len + 1] = (uint8_t)(type >> 8);
	put32(pl + pl_len + 2, len);
	pattern(pl + pl_len + 6, len, seed);
	pl_len += 6 + len;
}

static void payload_default(void)
{
	pl_len = 0;
	put_item(1, 100, 7);
	put_item(2, 50, 9);
}

static void payload_reject(const char *needle)
{
	struct envelope_payload sentinel;

	memset(&pout, 0x5a, sizeof(pout));
	memset(&sentinel, 0x5a, sizeof(sentinel));
	memset(err, 'x', sizeof(err));
	if (envelope_payload_parse(pl, pl_len, &pout, err, sizeof(err)) != -1)
		fail_msg("payload accepted; expected \"%s\"", needle);
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
	assert_memory_equal(&pout, &sentinel, sizeof(pout));
}

static void test_payload_ok(void **state)
{
	(void)state;
	payload_default();
	assert_int_equal(envelope_payload_parse(pl, pl_len, &pout, err,
						sizeof(err)), 0);
	assert_ptr_equal(pout.image, pl + 6);
	assert_int_equal(pout.image_len, 100);
	assert_ptr_equal(pout.policy, pl + 112);
	assert_int_equal(pout.policy_len, 50);
	pl_len = 0;
	put_item(1, 1, 0);
	put_item(2, 1, 0);
	assert_int_equal(envelope_payload_parse(pl, pl_len, &pout, err,
						sizeof(err)), 0);
}

static void test_payload_rejects(void **state)
{
	(void)state;
	payload_default();
	pl[0] = 2;
	payload_reject("expected 1 (image)");
	payload_default();
	pl[106] = 1;
	payload_reject("expected 2 (policy)");
	payload_default();
	pl[1] = 1; /* type 0x0101 */
	payload_reject("type 257");
	pl_len = 0;
	put_item(1, 0, 0);
	put_item(2, 5, 0);
	payload_reject("image item is empty");
	pl_len = 0;
	put_item(1, 5, 0);
	put_item(2, 0, 0);
	payload_reject("policy item is empty");
	payload_default();
	put32(pl + 2, 0xffffffff);
	payload_reject("overruns");
	payload_default();
	put32(pl + 108, 51);
	payload_reject("overruns");
	payload_default();
	pl[pl_len++] = 0;
	payload_reject("1 trailing bytes");
	payload_default();
	put_item(2, 3, 0); /* a second policy */
	payload_reject("9 trailing bytes");
	pl_len = 0;
	payload_reject("no room for the image");
}

static void test_payload_truncation(void **state)
{
	struct guarded g;

	(void)state;
	payload_default();
	guarded_init(&g, pl_len);
	for (size_t n = 0; n < pl_len; n++)
		for (int at_end = 0; at_end < 2; at_end++)
			assert_int_equal(envelope_payload_parse(
				guarded_fill(&g, pl, n, at_end), n, &pout, err,
				sizeof(err)), -1);
	guarded_free(&g);
}

/* ---- DER shape ----------------------------------------------------------- */

static int der(const uint8_t *b, size_t n)
{
	return der_check_sequence(b, n, "cert", err, sizeof(err));
}

static void test_der_shapes(void **state)
{
	static const uint8_t short_ok[] = { 0x30, 0x02, 0x05, 0x00 };
	static const uint8_t empty_ok[] = { 0x30, 0x00 };
	static const uint8_t nonmin81[] = { 0x30, 0x81, 0x02, 0x05, 0x00 };
	static const uint8_t nonmin82[] = { 0x30, 0x82, 0x00, 0x02, 0x05, 0x00 };
	static const uint8_t indef[] = { 0x30, 0x80, 0x00, 0x00 };
	static const uint8_t five[] = { 0x30, 0x85, 1, 0, 0, 0, 0 };
	static const uint8_t cut[] = { 0x30, 0x82, 0x01 };
	static const uint8_t wrongtag[] = { 0x31, 0x00 };
	static uint8_t big[300];

	(void)state;
	assert_int_equal(der(short_ok, sizeof(short_ok)), 0);
	assert_int_equal(der(empty_ok, sizeof(empty_ok)), 0);
	assert_int_equal(der(short_ok, 3), -1);
	assert_int_equal(der(short_ok, 1), -1);
	assert_int_equal(der(short_ok, 0), -1);
	assert_int_equal(der(nonmin81, sizeof(nonmin81)), -1);
	assert_non_null(strstr(err, "shortest"));
	assert_int_equal(der(nonmin82, sizeof(nonmin82)), -1);
	assert_int_equal(der(indef, sizeof(indef)), -1);
	assert_int_equal(der(five, sizeof(five)), -1);
	assert_int_equal(der(cut, sizeof(cut)), -1);
	assert_non_null(strstr(err, "truncated"));
	assert_int_equal(der(wrongtag, sizeof(wrongtag)), -1);
	der_seq(big, 300);
	assert_int_equal(der(big, 300), 0);
	der_seq(big, 200);
	assert_int_equal(big[1], 0x81);
	assert_int_equal(der(big, 200), 0);
	assert_int_equal(der(big, 201), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_length_limits_accepted),
		cmocka_unit_test(test_reject_magic),
		cmocka_unit_test(test_reject_version),
		cmocka_unit_test(test_reject_cert_len),
		cmocka_unit_test(test_reject_payload_len),
		cmocka_unit_test(test_reject_oversize),
		cmocka_unit_test(test_reject_ephemeral_form),
		cmocka_unit_test(test_reject_cert_shape),
		cmocka_unit_test(test_reject_trailing_and_truncated),
		cmocka_unit_test(test_truncation_everywhere),
		cmocka_unit_test(test_opaque_bytes_are_not_judged),
		cmocka_unit_test(test_unaligned_and_null_err),
		cmocka_unit_test(test_payload_ok),
		cmocka_unit_test(test_payload_rejects),
		cmocka_unit_test(test_payload_truncation),
		cmocka_unit_test(test_der_shapes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
