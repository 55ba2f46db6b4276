/*
 * Unit tests for the TCB key and certificate module parsers
 * (tcb/tcb_keys.c), built byte by byte from the formats in docs/pki.md.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/tcb_keys.h"
#include "guarded.h"

static uint8_t buf[2 * 4096 + 64];
static size_t buf_len;
static struct tcb_keys keys;
static struct tcb_certs certs;
static char err[256];

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- Key module ---------------------------------------------------------- */

static void keys_valid(void)
{
	memcpy(buf, "CUSTKEY1", 8);
	put32(buf + 8, 1);
	for (size_t i = 0; i < 48; i++) {
		buf[12 + i] = (uint8_t)(0x10 + i);
		buf[60 + i] = (uint8_t)(0x80 + i);
	}
	buf_len = 108;
}

static void keys_reject(const char *needle)
{
	struct tcb_keys sentinel;

	memset(&keys, 0xa5, sizeof(keys));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	memset(err, 'x', sizeof(err));
	if (tcb_keys_parse(buf, buf_len, &keys, err, sizeof(err)) != -1)
		fail_msg("key module accepted; expected \"%s\"", needle);
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
	assert_memory_equal(&keys, &sentinel, sizeof(keys));
}

static void test_keys_valid(void **state)
{
	(void)state;
	keys_valid();
	assert_int_equal(tcb_keys_parse(buf, buf_len, &keys, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_memory_equal(keys.sign_priv, buf + 12, 48);
	assert_memory_equal(keys.kex_priv, buf + 60, 48);
}

static void test_keys_rejects(void **state)
{
	(void)state;
	for (size_t i = 0; i < 8; i++) {
		keys_valid();
		buf[i] ^= 0x01;
		keys_reject("CUSTKEY1");
	}
	keys_valid();
	put32(buf + 8, 2);
	keys_reject("version 2");
	keys_valid();
	buf_len = 109;
	keys_reject("109 bytes, not 108");
	keys_valid();
	buf_len = 107;
	keys_reject("107 bytes, not 108");
	keys_valid();
	buf_len = 11;
	keys_reject("shorter than its 12-byte header");
	keys_valid();
	memset(buf + 12, 0, 48);
	keys_reject("signing private key is zero");
	keys_valid();
	memset(buf + 60, 0, 48);
	keys_reject("key-agreement private key is zero");
	keys_valid();
	memcpy(buf + 60, buf + 12, 48);
	keys_reject("are the same key");
	/* The certificate module's magic is not the key module's. */
	keys_valid();
	memcpy(buf, "CUSTCRT1", 8);
	keys_reject("not a TCB key module");
}

/* Error messages must never carry key bytes into a log. */
static void test_keys_messages_hold_no_key_bytes(void **state)
{
	(void)state;
	keys_valid();
	memcpy(buf + 60, buf + 12, 48);
	keys_reject("same key");
	assert_null(strstr(err, "10"));
	assert_null(strstr(err, "0x"));
}

static void test_keys_truncation(void **state)
{
	struct guarded g;

	(void)state;
	keys_valid();
	guarded_init(&g, 108);
	for (size_t n = 0; n < 108; n++)
		for (int at_end = 0; at_end < 2; at_end++)
			assert_int_equal(tcb_keys_parse(guarded_fill(&g, buf, n,
								     at_end),
							n, &keys, err,
							sizeof(err)), -1);
	assert_int_equal(tcb_keys_parse(guarded_fill(&g, buf, 108, 1), 108,
					&keys, NULL, 0), 0);
	guarded_free(&g);
}

/* ---- Certificate module -------------------------------------------------- */

/* Append one length-prefixed DER SEQUENCE of n bytes (n >= 2, shortest
 * length form). */
static void add_cert(size_t n, uint8_t seed)
{
	uint8_t *v = buf + buf_len + 4;
	size_t hdr;

	put32(buf + buf_len, (uint32_t)n);
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
		v[i] = (uint8_t)(seed + 3 * i);
	buf_len += 4 + n;
}

static void certs_begin(void)
{
	memcpy(buf, "CUSTCRT1", 8);
	put32(buf + 8, 1);
	buf_len = 12;
}

static void certs_valid(void)
{
	certs_begin();
	add_cert(500, 1);
	add_cert(450, 2);
}

static void certs_reject(const char *needle)
{
	struct tcb_certs sentinel;

	memset(&certs, 0xa5, sizeof(certs));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	memset(err, 'x', sizeof(err));
	if (tcb_certs_parse(buf, buf_len, &certs, err, sizeof(err)) != -1)
		fail_msg("certificate module accepted; expected \"%s\"", needle);
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
	assert_memory_equal(&certs, &sentinel, sizeof(certs));
}

static void test_certs_valid(void **state)
{
	(void)state;
	certs_valid();
	assert_int_equal(tcb_certs_parse(buf, buf_len, &certs, err,
					 sizeof(err)), 0);
	assert_ptr_equal(certs.sign_cert, buf + 16);
	assert_int_equal(certs.sign_cert_len, 500);
	assert_ptr_equal(certs.kex_cert, buf + 16 + 500 + 4);
	assert_int_equal(certs.kex_cert_len, 450);
	/* Largest allowed. */
	certs_begin();
	add_cert(4096, 1);
	add_cert(4096, 2);
	assert_int_equal(buf_len, TCB_CERTS_MAX_SIZE);
	assert_int_equal(tcb_certs_parse(buf, buf_len, &certs, err,
					 sizeof(err)), 0);
}

static void test_certs_rejects(void **state)
{
	(void)state;
	certs_valid();
	buf[3] = 'K';
	certs_reject("not a TCB certificate module");
	certs_valid();
	put32(buf + 8, 0);
	certs_reject("version 0");
	certs_valid();
	put32(buf + 12, 0);
	certs_reject("TCB signing certificate length 0");
	certs_valid();
	put32(buf + 12, 4097);
	certs_reject("TCB signing certificate length 4097");
	certs_valid();
	put32(buf + 16 + 500, 0);
	certs_reject("TCB key-agreement certificate length 0");
	certs_valid();
	put32(buf + 16 + 500, 451);
	certs_reject("truncated: TCB key-agreement certificate of 451 bytes");
	certs_valid();
	buf[16] = 0x02;
	certs_reject("TCB signing certificate does not start with a DER SEQUENCE");
	certs_valid();
	buf[16 + 500 + 4 + 3]--; /* its DER length one short */
	certs_reject("TCB key-agreement certificate: DER SEQUENCE");
	certs_valid();
	buf[buf_len++] = 0;
	certs_reject("1 trailing bytes");
	certs_begin();
	add_cert(300, 9);
	add_cert(300, 9);
	certs_reject("same certificate");
	certs_begin();
	add_cert(300, 9);
	certs_reject("truncated before the TCB key-agreement certificate length");
	certs_begin();
	add_cert(4096, 1);
	add_cert(4096, 2);
	buf[buf_len++] = 0;
	certs_reject("limit");
}

static void test_certs_truncation(void **state)
{
	struct guarded g;

	(void)state;
	certs_begin();
	add_cert(130, 1);
	add_cert(40, 2);
	guarded_init(&g, buf_len);
	for (size_t n = 0; n < buf_len; n++)
		for (int at_end = 0; at_end < 2; at_end++)
			assert_int_equal(tcb_certs_parse(guarded_fill(&g, buf, n,
								      at_end),
							 n, &certs, err,
							 sizeof(err)), -1);
	guarded_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys_valid),
		cmocka_unit_test(test_keys_rejects),
		cmocka_unit_test(test_keys_messages_hold_no_key_bytes),
		cmocka_unit_test(test_keys_truncation),
		cmocka_unit_test(test_certs_valid),
		cmocka_unit_test(test_certs_rejects),
		cmocka_unit_test(test_certs_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
