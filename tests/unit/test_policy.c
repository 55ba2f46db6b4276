/*
 * Unit tests for the TPGVM policy parser (tcb/policy.c). Policies are
 * built by a small builder that writes the format of docs/envelope.md
 * ("Policy") directly; each rejection test breaks one rule of a valid one.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/policy.h"
#include "guarded.h"

static uint8_t pol[40000];
static size_t pol_len;
static struct tpgvm_policy out;
static char err[256];

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void begin(void)
{
	memcpy(pol, "CUSTPOL1", 8);
	put32(pol + 8, 1);
	pol_len = 12;
}

static uint8_t *record(uint16_t type, uint32_t len)
{
	uint8_t *v = pol + pol_len + 6;

	assert_true(pol_len + 6 + len <= sizeof(pol));
	pol[pol_len] = (uint8_t)type;
	pol[pol_len + 1] = (uint8_t)(type >> 8);
	put32(pol + pol_len + 2, len);
	pol_len += 6 + len;
	return v;
}

static void platform(const char *id)
{
	memcpy(record(1, (uint32_t)strlen(id)), id, strlen(id));
}

/* A DER SEQUENCE of n bytes (n >= 2), shortest length form, whose content
 * depends on seed. */
static void cert(size_t n, uint8_t seed)
{
	uint8_t *v = record(2, (uint32_t)n);
	size_t hdr;

	v[0] = 0x30;
	if (n - 2 < 0x80) {
		v[1] = (uint8_t)(n - 2);
		hdr = 2;
	} else if (n - 3 < 0x100) {
		v[1] = 0x81;
		v[2] = (uint8_t)(n - 3);
		hdr = 3;
	} else {
		v[1] = 0x82;
		v[2] = (uint8_t)((n - 4) >> 8);
		v[3] = (uint8_t)(n - 4);
		hdr = 4;
	}
	for (size_t i = hdr; i < n; i++)
		v[i] = (uint8_t)(seed + i);
}

static void valid(void)
{
	begin();
	platform("rack7-node3");
	cert(700, 1);
	cert(300, 2);
}

static int parse(void)
{
	memset(err, 'x', sizeof(err));
	return policy_parse(pol, pol_len, &out, err, sizeof(err));
}

static void accept(void)
{
	if (parse() != 0)
		fail_msg("refused: %s", err);
	assert_string_equal(err, "");
}

static void reject(const char *needle)
{
	struct tpgvm_policy sentinel;

	memset(&out, 0xa5, sizeof(out));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	if (parse() != -1)
		fail_msg("accepted; expected \"%s\"", needle);
	assert_non_null(memchr(err, 0, sizeof(err)));
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
	assert_memory_equal(&out, &sentinel, sizeof(out));
}

static void test_valid(void **state)
{
	(void)state;
	valid();
	accept();
	assert_string_equal(out.platform_id, "rack7-node3");
	assert_int_equal(out.platform_id_len, 11);
	assert_int_equal(out.tenant_ca_count, 2);
	assert_ptr_equal(out.tenant_ca[0].der, pol + 12 + 6 + 11 + 6);
	assert_int_equal(out.tenant_ca[0].len, 700);
	assert_ptr_equal(out.tenant_ca[1].der, pol + 12 + 6 + 11 + 6 + 700 + 6);
	assert_int_equal(out.tenant_ca[1].len, 300);
}

/* The extremes: 1- and 64-character ids, 8 certificates of 4096 bytes. */
static void test_limits_accepted(void **state)
{
	char id[65];

	(void)state;
	begin();
	platform("x");
	cert(4, 0);
	accept();
	memset(id, '~', 64);
	id[0] = '!';
	id[64] = '\0';
	begin();
	platform(id);
	for (uint8_t i = 0; i < 8; i++)
		cert(4096, i);
	accept();
	assert_int_equal(out.platform_id_len, 64);
	assert_string_equal(out.platform_id, id);
	assert_int_equal(out.tenant_ca_count, 8);
	assert_int_equal(pol_len, POLICY_MAX_SIZE);
}

static void test_reject_header(void **state)
{
	(void)state;
	for (size_t i = 0; i < 8; i++) {
		valid();
		pol[i] ^= 1;
		reject("CUSTPOL1");
	}
	valid();
	put32(pol + 8, 2);
	reject("version 2");
	valid();
	put32(pol + 8, 0);
	reject("version 0");
	valid();
	pol_len = 11;
	reject("shorter than its 12-byte header");
	pol_len = 3;
	reject("CUSTPOL1");
}

static void test_reject_platform_id(void **state)
{
	char id[66];

	(void)state;
	begin();
	platform("");
	cert(100, 0);
	reject("platform id length 0");
	memset(id, 'a', 65);
	id[65] = '\0';
	begin();
	platform(id);
	cert(100, 0);
	reject("platform id length 65");
	static const char *const bad[] = { "a b", "tab\there", "nl\n", "del\x7f",
					   "hi\x80", "\x1f" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		begin();
		platform(bad[i]);
		cert(100, 0);
		reject("not printable ASCII");
	}
	/* A NUL inside the id: it would end the C string early. */
	begin();
	memcpy(record(1, 3), "a\0b", 3);
	cert(100, 0);
	reject("byte 1 is 0x00");
}

static void test_reject_record_order_and_count(void **state)
{
	(void)state;
	begin();
	cert(100, 0);
	platform("p");
	reject("must be the first record");
	begin();
	platform("p");
	platform("q");
	cert(100, 0);
	reject("second platform id");
	begin();
	platform("p");
	cert(100, 0);
	platform("q");
	reject("second platform id");
	begin();
	platform("p");
	reject("no tenant CA");
	begin();
	reject("no platform id");
	begin();
	platform("p");
	for (uint8_t i = 0; i < 9; i++)
		cert(10, i);
	reject("more than 8 tenant CA");
	valid();
	record(3, 0);
	reject("unknown type 3");
	valid();
	record(0x102, 4);
	reject("unknown type 258");
}

static void test_reject_certificates(void **state)
{
	uint8_t *v;

	(void)state;
	begin();
	platform("p");
	record(2, 0);
	reject("length 0");
	begin();
	platform("p");
	cert(4097, 0);
	reject("length 4097");
	begin();
	platform("p");
	v = record(2, 8);
	memcpy(v, "\x31\x06" "abcdef", 8);
	reject("does not start with a DER SEQUENCE");
	begin();
	platform("p");
	v = record(2, 8);
	memcpy(v, "\x30\x07" "abcdef", 8);
	reject("DER SEQUENCE of 7 content bytes");
	begin();
	platform("p");
	cert(100, 5);
	cert(200, 6);
	cert(100, 5);
	reject("certificate 3 repeats certificate 1");
}

static void test_reject_lengths(void **state)
{
	(void)state;
	valid();
	pol[pol_len++] = 0;
	reject("truncated inside the record header");
	valid();
	put32(pol + 12 + 2, 0xffffffff);
	reject("overruns");
	valid();
	put32(pol + 12 + 6 + 11 + 2, 701 + 6 + 300);
	reject("overruns");
	/* Over the size limit, whatever the records say. */
	begin();
	platform("p");
	for (uint8_t i = 0; i < 8; i++)
		cert(4096, i);
	memset(pol + pol_len, 0, 70);
	pol_len += 70;
	reject("limit");
}

static void test_truncation_everywhere(void **state)
{
	struct guarded g;
	size_t full;

	(void)state;
	begin();
	platform("node-1");
	cert(40, 1);
	cert(20, 2);
	full = pol_len;
	guarded_init(&g, full);
	for (size_t n = 0; n < full; n++)
		for (int at_end = 0; at_end < 2; at_end++) {
			uint8_t *copy = guarded_fill(&g, pol, n, at_end);
			int rc = policy_parse(copy, n, &out, err, sizeof(err));

			/* Cutting right after the first certificate leaves a
			 * valid, shorter policy; every other cut is invalid. */
			if (n == full - 26)
				assert_int_equal(rc, 0);
			else if (rc != -1)
				fail_msg("prefix of %zu bytes accepted", n);
		}
	guarded_free(&g);
}

static void test_null_err_and_alignment(void **state)
{
	static uint8_t shifted[40008];

	(void)state;
	valid();
	for (size_t s = 1; s < 8; s++) {
		memcpy(shifted + s, pol, pol_len);
		assert_int_equal(policy_parse(shifted + s, pol_len, &out, NULL, 0), 0);
		assert_ptr_equal(out.tenant_ca[0].der, shifted + s + 35);
	}
	pol[0] = 0;
	assert_int_equal(policy_parse(pol, pol_len, &out, NULL, 0), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_limits_accepted),
		cmocka_unit_test(test_reject_header),
		cmocka_unit_test(test_reject_platform_id),
		cmocka_unit_test(test_reject_record_order_and_count),
		cmocka_unit_test(test_reject_certificates),
		cmocka_unit_test(test_reject_lengths),
		cmocka_unit_test(test_truncation_everywhere),
		cmocka_unit_test(test_null_err_and_alignment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
