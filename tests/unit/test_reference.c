/*
 * The reference.json reader and comparison (tools/reference.c, compiled in
 * here): the format mkreference.py writes is read back exactly; unknown
 * keys are skipped; every malformed, oversized, truncated or incomplete
 * input is refused with a reason (and every prefix of a valid file, against
 * a guard page); and the comparison names the first difference in words.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tools/reference.c"
#include "tcb/tcg_log.h"
#include "guarded.h"

static const char good[] =
	"{\n"
	"  \"format\": \"custos-reference-1\",\n"
	"  \"platform_id\": \"custos-dev\",\n"
	"  \"measurements\": [\n"
	"    {\"pcr\": 8, \"type\": \"EV_IPL\", \"description\": \"custos.elf text+rodata\",\n"
	"     \"sha384\": \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f\"},\n"
	"    {\"pcr\": 10, \"type\": \"EV_IPL\", \"description\": \"tpgvm image\",\n"
	"     \"sha384\": \"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\"}\n"
	"  ]\n"
	"}\n";

static struct reference ref;

static void expect_bad(const char *json, const char *want)
{
	char err[256];

	memset(&ref, 0x5a, sizeof(ref));
	assert_int_equal(reference_parse(json, strlen(json), &ref, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("refused with '%s', expected '%s'", err, want);
	for (size_t i = 0; i < sizeof(ref); i++)
		assert_int_equal(((uint8_t *)&ref)[i], 0x5a);
}

static void test_good(void **state)
{
	char err[256] = "x";

	(void)state;
	assert_int_equal(reference_parse(good, strlen(good), &ref, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(ref.platform_id, "custos-dev");
	assert_int_equal(ref.count, 2);
	assert_int_equal(ref.events[0].pcr, 8);
	assert_int_equal(ref.events[0].event_type, TCG_EV_IPL);
	assert_string_equal(ref.events[0].desc, "custos.elf text+rodata");
	for (int i = 0; i < 48; i++) {
		assert_int_equal(ref.events[0].digest[i], i);
		assert_int_equal(ref.events[1].digest[i], 0xff);
	}
	assert_int_equal(ref.events[1].pcr, 10);
}

static void test_unknown_keys_and_escapes(void **state)
{
	static const char j[] =
		"{\"comment\": {\"a\": [1, 2.5e3, -3, true, false, null, \"x\"]},"
		" \"format\": \"custos-reference-1\", \"platform_id\": \"a\\u0062\\/c\","
		" \"measurements\": [{\"pcr\": 0, \"type\": \"EV_NO_ACTION\","
		" \"description\": \"q\\\"uo\\\\te\", \"note\": [],"
		" \"sha384\": \"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"}],"
		" \"more\": {}}";

	(void)state;
	assert_int_equal(reference_parse(j, strlen(j), &ref, NULL, 0), 0);
	assert_string_equal(ref.platform_id, "ab/c");
	assert_string_equal(ref.events[0].desc, "q\"uo\\te");
	assert_int_equal(ref.events[0].event_type, TCG_EV_NO_ACTION);
	assert_int_equal(ref.events[0].pcr, 0);
}

static void test_refusals(void **state)
{
	char big[REFERENCE_MAX_SIZE + 2];

	(void)state;
	expect_bad("", "expected '{'");
	expect_bad("[]", "expected '{'");
	expect_bad("{}", "lacks \"format\"");
	expect_bad("{\"format\": \"custos-reference-2\"}", "format is not");
	expect_bad("{\"format\": \"custos-reference-1\", \"format\": \"custos-reference-1\"}",
		   "appears twice");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"a b\", \"measurements\": []}",
		   "platform_id must be");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"\", \"measurements\": []}",
		   "platform_id must be");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": "
		   "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
		   "longer than 64");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\"}",
		   "lacks \"measurements\"");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{}]}",
		   "lacks \"pcr\"");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"pcr\": 24}]}",
		   "PCR 24 does not exist");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"pcr\": 08}]}",
		   "leading zero");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"pcr\": -1}]}",
		   "unsigned integer");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"pcr\": 1.5}]}",
		   "unsigned integer");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"pcr\": 1234567890}]}",
		   "too large");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"type\": \"EV_FOO\"}]}",
		   "unknown event type");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"sha384\": \"00\"}]}",
		   "not 96 hex digits");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"sha384\": "
		   "\"zz0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"}]}",
		   "not hex");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"description\": \"a\\tb\"}]}",
		   "not printable");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"description\": "
		   "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}]}",
		   "longer than 63");
	expect_bad("{\"format\": \"custos-reference-1\"} x", "unexpected bytes after");
	expect_bad("{\"format\": \"custos\xc3\xa9\"}", "non-ASCII");
	expect_bad("{\"format\": \"a\nb\"}", "control");
	expect_bad("{\"format\": \"\\u0000\"}", "outside ASCII");
	expect_bad("{\"format\": \"\\u00e9\"}", "outside ASCII");
	expect_bad("{\"format\": \"\\x\"}", "bad escape");
	expect_bad("{\"format\" \"x\"}", "expected ':'");
	expect_bad("{\"format\": \"custos-reference-1\",}", "expected a key");
	expect_bad("{\"x\": [[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]}", "nested too deeply");
	expect_bad("{\"x\": tru}", "unexpected value");
	expect_bad("{\"x\": @}", "expected a value");
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	expect_bad(big, "larger than");
	{
		char many[8192];
		size_t n = (size_t)snprintf(many, sizeof(many),
			"{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [");

		for (int i = 0; i < 33; i++)
			n += (size_t)snprintf(many + n, sizeof(many) - n,
				"%s{\"pcr\": 8, \"type\": \"EV_IPL\", \"description\": \"d\", \"sha384\": "
				"\"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"}",
				i ? ", " : "");
		snprintf(many + n, sizeof(many) - n, "]}");
		expect_bad(many, "more than 32 measurements");
	}
}

/* Every proper prefix of the good file is refused, without overreading. */
static void test_truncations(void **state)
{
	struct guarded g;
	size_t len = strlen(good);

	(void)state;
	guarded_init(&g, len);
	for (size_t n = 0; n < len; n++) {
		const char *p = (const char *)guarded_fill(&g, (const uint8_t *)good, n, 1);
		int rc = reference_parse(p, n, &ref, NULL, 0);

		/* Only the trailing newline may go. */
		assert_int_equal(rc, n == len - 1 ? 0 : -1);
	}
	guarded_free(&g);
}

static void log_from_ref(struct tcg_log_parsed *log)
{
	log->count = ref.count;
	for (size_t i = 0; i < ref.count; i++) {
		log->events[i].pcr = ref.events[i].pcr;
		log->events[i].event_type = ref.events[i].event_type;
		memcpy(log->events[i].digest, ref.events[i].digest, 48);
		memcpy(log->events[i].desc, ref.events[i].desc, sizeof(log->events[i].desc));
	}
}

static void expect_diff(const struct tcg_log_parsed *log, const char *pid,
			const char *want)
{
	char err[300];

	assert_int_equal(reference_compare(&ref, pid, strlen(pid), log, err,
					   sizeof(err)), -1);
	if (strcmp(err, want) != 0)
		fail_msg("difference '%s', expected '%s'", err, want);
}

static void test_compare(void **state)
{
	static struct tcg_log_parsed log;
	char err[300] = "x";

	(void)state;
	assert_int_equal(reference_parse(good, strlen(good), &ref, NULL, 0), 0);
	log_from_ref(&log);
	assert_int_equal(reference_compare(&ref, "custos-dev", 10, &log, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	expect_diff(&log, "custos-de", "platform id: reported \"custos-de\" but reference says \"custos-dev\"");
	expect_diff(&log, "custos-devx", "platform id: reported \"custos-devx\" but reference says \"custos-dev\"");
	log.events[1].digest[0] = 0xab;
	log.events[1].digest[1] = 0x12;
	expect_diff(&log, "custos-dev",
		    "tpgvm image: reported sha384 ab12ffffffffffff.. but reference says ffffffffffffffff..");
	log_from_ref(&log);
	log.events[1].pcr = 11;
	expect_diff(&log, "custos-dev", "tpgvm image: reported in PCR 11 but reference says PCR 10");
	log_from_ref(&log);
	log.events[0].event_type = 6;
	expect_diff(&log, "custos-dev",
		    "custos.elf text+rodata: reported event type 0x00000006 but reference says EV_IPL");
	log_from_ref(&log);
	strcpy(log.events[1].desc, "evil image");
	expect_diff(&log, "custos-dev",
		    "measurement 2: the platform logged \"evil image\" where the reference has \"tpgvm image\"");
	log_from_ref(&log);
	log.count = 1;
	expect_diff(&log, "custos-dev",
		    "the platform logged 1 measurements, the reference has 2: \"tpgvm image\" (measurement 2) is missing");
	log_from_ref(&log);
	log.count = 3;
	strcpy(log.events[2].desc, "extra");
	expect_diff(&log, "custos-dev",
		    "the platform logged 3 measurements, the reference has 2: \"extra\" (measurement 3) is not in the reference");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_unknown_keys_and_escapes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_compare),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
