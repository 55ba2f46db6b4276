/*
 * The TCG event log decoder (tcb/tcg_log_parse.c): every log tcg_log_encode
 * writes decodes back to the same events (PCR, type, digest, description),
 * and everything else is refused with a reason: each truncation (placed
 * against a guard page, so an overread faults), a changed header, a wrong
 * digest count or algorithm, an impossible PCR, bad descriptions, too many
 * events, trailing bytes and random garbage. *out is untouched on refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tcb/measure.h"
#include "tcb/tcg_log.h"
#include "tcb/tcg_log_parse.h"
#include "guarded.h"

#define BIG (TCG_HEADER_LEN + MEASURE_MAX_EVENTS * (TCG_EVENT2_FIXED_LEN + MEASURE_DESC_MAX))

static uint8_t buf[BIG + 64];
static struct tcg_log_parsed parsed;

static void digest_of(uint8_t d[MEASURE_DIGEST_LEN], uint8_t seed)
{
	for (int i = 0; i < MEASURE_DIGEST_LEN; i++)
		d[i] = (uint8_t)(seed * 7 + i);
}

/* The five measurements the hypervisor logs, in its order. */
static size_t sample_log(uint8_t *out)
{
	static const struct { uint32_t type; const char *desc; } ev[] = {
		{ MEASURE_HV_IMAGE, "custos.elf text+rodata" },
		{ MEASURE_HV_CMDLINE, "kernel command line" },
		{ MEASURE_CA_ROOT, "compiled-in CA root" },
		{ MEASURE_TPGVM_IMAGE, "tpgvm image" },
		{ MEASURE_TPGVM_POLICY, "tpgvm policy" },
	};
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN];
	size_t len;

	measure_log_init(&log);
	for (size_t i = 0; i < 5; i++) {
		digest_of(d, (uint8_t)(i + 1));
		assert_int_equal(measure_log_append(&log, ev[i].type, d, ev[i].desc), 0);
	}
	assert_int_equal(tcg_log_encode(&log, out, BIG, &len), 0);
	return len;
}

static void expect_refused(const uint8_t *b, size_t len, const char *want)
{
	char err[200];

	memset(&parsed, 0xa5, sizeof(parsed));
	assert_int_equal(tcg_log_parse(b, len, &parsed, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("refused with '%s', expected '%s'", err, want);
	for (size_t i = 0; i < sizeof(parsed); i++)
		assert_int_equal(((uint8_t *)&parsed)[i], 0xa5);
	assert_int_equal(tcg_log_parse(b, len, &parsed, NULL, 0), -1);
}

static void test_round_trip_sample(void **state)
{
	uint8_t d[MEASURE_DIGEST_LEN];
	char err[200] = "x";
	size_t len = sample_log(buf);
	static const uint32_t pcrs[] = { 12, 12, 13, 14, 14 };

	(void)state;
	assert_int_equal(tcg_log_parse(buf, len, &parsed, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(parsed.count, 5);
	for (size_t i = 0; i < 5; i++) {
		digest_of(d, (uint8_t)(i + 1));
		assert_int_equal(parsed.events[i].pcr, pcrs[i]);
		assert_int_equal(parsed.events[i].event_type, TCG_EV_IPL);
		assert_memory_equal(parsed.events[i].digest, d, sizeof(d));
	}
	assert_string_equal(parsed.events[0].desc, "custos.elf text+rodata");
	assert_string_equal(parsed.events[4].desc, "tpgvm policy");
}

static void test_empty_log(void **state)
{
	struct measure_log log;
	size_t len;

	(void)state;
	measure_log_init(&log);
	assert_int_equal(tcg_log_encode(&log, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, TCG_HEADER_LEN);
	assert_int_equal(tcg_log_parse(buf, len, &parsed, NULL, 0), 0);
	assert_int_equal(parsed.count, 0);
}

/* Full log, every description length 0..63, random digests: round trip. */
static void test_round_trip_many(void **state)
{
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN];
	char desc[MEASURE_DESC_MAX];
	size_t len;

	(void)state;
	for (int round = 0; round < 4; round++) {
		measure_log_init(&log);
		for (size_t i = 0; i < MEASURE_MAX_EVENTS; i++) {
			size_t n = (i * 2 + (size_t)round * 17) % MEASURE_DESC_MAX;

			for (size_t k = 0; k < n; k++)
				desc[k] = (char)(0x20 + (k * 7 + i) % 95);
			desc[n] = '\0';
			digest_of(d, (uint8_t)(i * 13 + (size_t)round));
			assert_int_equal(measure_log_append(&log,
				(enum measure_type)(1 + (i + (size_t)round) % 5), d, desc), 0);
		}
		assert_int_equal(tcg_log_encode(&log, buf, sizeof(buf), &len), 0);
		assert_int_equal(tcg_log_parse(buf, len, &parsed, NULL, 0), 0);
		assert_int_equal(parsed.count, log.count);
		for (size_t i = 0; i < log.count; i++) {
			assert_int_equal(parsed.events[i].pcr,
					 (uint32_t)tcg_log_pcr(log.events[i].type));
			assert_memory_equal(parsed.events[i].digest,
					    log.events[i].digest, MEASURE_DIGEST_LEN);
			assert_string_equal(parsed.events[i].desc, log.events[i].desc);
		}
	}
}

/*
 * Every proper prefix, read against a guard page at both ends: one that
 * ends between two events is a valid shorter log (the format has no event
 * count: a verifier notices the missing events against its reference
 * values), every other one is refused.
 */
static void test_truncations(void **state)
{
	struct guarded g;
	size_t len = sample_log(buf), boundary = TCG_HEADER_LEN, events = 0;

	(void)state;
	guarded_init(&g, len);
	for (size_t n = 0; n < len; n++) {
		if (n > boundary) {
			boundary += TCG_EVENT2_FIXED_LEN + buf[boundary + 62];
			if (n > boundary)
				fail_msg("bad boundary walk");
		}
		for (int end = 0; end < 2; end++) {
			const uint8_t *p = guarded_fill(&g, buf, n, end);
			int rc = tcg_log_parse(p, n, &parsed, NULL, 0);

			if (n == boundary) {
				assert_int_equal(rc, 0);
				assert_int_equal(parsed.count, events);
			} else {
				assert_int_equal(rc, -1);
			}
		}
		if (n == boundary)
			events++;
	}
	assert_int_equal(events, 5);
	expect_refused(buf, 10, "truncated");
	expect_refused(buf, TCG_HEADER_LEN + 30, "truncated in event 0");
	expect_refused(buf, TCG_HEADER_LEN + TCG_EVENT2_FIXED_LEN + 3,
		       "truncated in event 0's description");
	guarded_free(&g);
}

static void test_trailing_bytes(void **state)
{
	size_t len = sample_log(buf);

	(void)state;
	buf[len] = 0;
	expect_refused(buf, len + 1, "truncated in event 5");
	memset(buf + len, 0, TCG_EVENT2_FIXED_LEN + 8);
	expect_refused(buf, len + TCG_EVENT2_FIXED_LEN + 8, "event 5");
}

static void test_header_changes(void **state)
{
	size_t len;

	(void)state;
	len = sample_log(buf);
	buf[33] ^= 1; /* the signature */
	expect_refused(buf, len, "no Spec ID Event03");
	len = sample_log(buf);
	buf[4] = 1;   /* eventType */
	expect_refused(buf, len, "no Spec ID Event03");
	len = sample_log(buf);
	buf[56] = 2;  /* numberOfAlgorithms */
	expect_refused(buf, len, "not the one Custos writes");
	len = sample_log(buf);
	buf[60] = 0x0b; /* SHA-256 */
	expect_refused(buf, len, "not the one Custos writes");
	len = sample_log(buf);
	buf[64] = 1;  /* vendorInfoSize */
	expect_refused(buf, len, "not the one Custos writes");
}

static void test_event_changes(void **state)
{
	const size_t e = TCG_HEADER_LEN; /* the first event */
	size_t len;

	(void)state;
	len = sample_log(buf);
	buf[e] = 24;
	expect_refused(buf, len, "PCR 24 does not exist");
	len = sample_log(buf);
	buf[e + 3] = 0x80;
	expect_refused(buf, len, "does not exist");
	len = sample_log(buf);
	buf[e + 8] = 2;
	expect_refused(buf, len, "not exactly one SHA-384");
	len = sample_log(buf);
	buf[e + 8] = 0;
	expect_refused(buf, len, "not exactly one SHA-384");
	len = sample_log(buf);
	buf[e + 12] = 0x0b;
	expect_refused(buf, len, "algorithm 0x000b");
	len = sample_log(buf);
	memset(buf + e + 62, 0, 4);
	expect_refused(buf, len, "event data of 0 bytes");
	len = sample_log(buf);
	buf[e + 62] = 65;
	expect_refused(buf, len, "event data of 65 bytes");
	len = sample_log(buf);
	buf[e + 65] = 0xff; /* eventSize 0xff000017 */
	expect_refused(buf, len, "event data of");
	len = sample_log(buf);
	buf[e + 66 + 22] = 'x'; /* the NUL of "custos.elf text+rodata" */
	expect_refused(buf, len, "not NUL-terminated");
	len = sample_log(buf);
	buf[e + 66 + 3] = '\n';
	expect_refused(buf, len, "byte 3 is not printable");
	len = sample_log(buf);
	buf[e + 66 + 3] = 0;
	expect_refused(buf, len, "byte 3 is not printable");
	/* The type is not judged here: a verifier compares it. */
	len = sample_log(buf);
	buf[e + 4] = 0x0e;
	assert_int_equal(tcg_log_parse(buf, len, &parsed, NULL, 0), 0);
	assert_int_equal(parsed.events[0].event_type, 0x0e);
}

static void test_too_many_events(void **state)
{
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN] = { 0 };
	size_t len, ev = TCG_EVENT2_FIXED_LEN + 2;

	(void)state;
	measure_log_init(&log);
	for (int i = 0; i < MEASURE_MAX_EVENTS; i++)
		assert_int_equal(measure_log_append(&log, MEASURE_CA_ROOT, d, "x"), 0);
	assert_int_equal(tcg_log_encode(&log, buf, sizeof(buf), &len), 0);
	assert_int_equal(tcg_log_parse(buf, len, &parsed, NULL, 0), 0);
	assert_int_equal(parsed.count, MEASURE_MAX_EVENTS);
	memcpy(buf + len, buf + len - ev, ev);
	expect_refused(buf, len + ev, "more than 32 events");
}

/* Random bytes after a valid header, and random bytes alone: refused or
 * accepted, never a crash (xorshift, fixed seed). */
static void test_garbage(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15u;
	size_t hdr = sample_log(buf) > 0 ? TCG_HEADER_LEN : 0;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(x % 600);

		for (size_t i = hdr * (round & 1); i < n; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)x;
		}
		if (tcg_log_parse(buf, n, &parsed, NULL, 0) == 0)
			assert_true(parsed.count <= MEASURE_MAX_EVENTS);
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sample_log(buf);
	}
	expect_refused((const uint8_t *)"garbage garbage garbage garbage "
		       "garbage garbage garbage garbage garbage", 72, "no Spec ID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_sample),
		cmocka_unit_test(test_empty_log),
		cmocka_unit_test(test_round_trip_many),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_header_changes),
		cmocka_unit_test(test_event_changes),
		cmocka_unit_test(test_too_many_events),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
