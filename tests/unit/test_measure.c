/* The measurement log only grows, in order, and never overflows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "tcb/measure.h"

static void digest_of(uint8_t d[MEASURE_DIGEST_LEN], uint8_t seed)
{
	for (int i = 0; i < MEASURE_DIGEST_LEN; i++)
		d[i] = (uint8_t)(seed + i);
}

static void test_append_in_order(void **state)
{
	(void)state;
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN];

	measure_log_init(&log);
	digest_of(d, 1);
	assert_int_equal(measure_log_append(&log, MEASURE_HV_IMAGE, d, "custos.elf"), 0);
	digest_of(d, 2);
	assert_int_equal(measure_log_append(&log, MEASURE_TPGVM_IMAGE, d, "tpgvm"), 0);
	assert_int_equal(log.count, 2);
	assert_int_equal(log.events[0].type, MEASURE_HV_IMAGE);
	assert_string_equal(log.events[0].desc, "custos.elf");
	assert_int_equal(log.events[1].digest[0], 2);
	assert_string_equal(measure_type_name(log.events[1].type), "tpgvm-image");
	assert_string_equal(measure_type_name(99), "unknown");
}

static void test_full_log_refuses(void **state)
{
	(void)state;
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN];

	measure_log_init(&log);
	digest_of(d, 7);
	for (int i = 0; i < MEASURE_MAX_EVENTS; i++)
		assert_int_equal(measure_log_append(&log, MEASURE_CA_ROOT, d, "x"), 0);
	struct measure_event last = log.events[MEASURE_MAX_EVENTS - 1];
	assert_int_equal(measure_log_append(&log, MEASURE_CA_ROOT, d, "y"), -1);
	assert_int_equal(log.count, MEASURE_MAX_EVENTS);
	assert_memory_equal(&last, &log.events[MEASURE_MAX_EVENTS - 1], sizeof(last));
}

static void test_long_and_null_descriptions(void **state)
{
	(void)state;
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN] = { 0 };
	char longdesc[200];

	memset(longdesc, 'a', sizeof(longdesc) - 1);
	longdesc[sizeof(longdesc) - 1] = '\0';
	measure_log_init(&log);
	assert_int_equal(measure_log_append(&log, MEASURE_HV_CMDLINE, d, longdesc), 0);
	assert_int_equal(strlen(log.events[0].desc), MEASURE_DESC_MAX - 1);
	assert_int_equal(measure_log_append(&log, MEASURE_HV_CMDLINE, d, NULL), 0);
	assert_string_equal(log.events[1].desc, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_in_order),
		cmocka_unit_test(test_full_log_refuses),
		cmocka_unit_test(test_long_and_null_descriptions),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
