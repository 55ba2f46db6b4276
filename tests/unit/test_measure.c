/* The measurement log only grows, in order, and never overflows. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "tcb/measure.h"
#include "crypto/crypto.h"

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

static void hex_to(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* The digest of a boot-module VM, against values computed independently by
 * tools/mkreference.py (boot_vm_digest, hashlib): the reference and the
 * hypervisor must agree byte for byte. */
static void test_boot_vm_digest(void **state)
{
	static const char image[] = "hello image bytes";
	uint8_t got[MEASURE_DIGEST_LEN], want[MEASURE_DIGEST_LEN];

	(void)state;
	measure_boot_vm_digest(crypto_sha384, "vm.hello mem=2M", image,
			       sizeof(image) - 1, got);
	hex_to("78da0e4671bfc550788ac3b7a5de2e173df72d57d1b29f507e5a3d2fcde48e58"
	       "a9099bc086cf3c91f15dd66448f73837", want, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	measure_boot_vm_digest(crypto_sha384, "", "", 0, got);
	hex_to("8f92d1a240bfb3c30bb37809c6063820e8c3c32c7ccf83d580d34df8d2f48064"
	       "453b673b01f93ff82848eea3ee328694", want, sizeof(want));
	assert_memory_equal(got, want, sizeof(want));
	/* Moving a byte between the command line and the image changes it. */
	measure_boot_vm_digest(crypto_sha384, "vm.hello mem=2", "Mhello image bytes",
			       sizeof(image), want);
	measure_boot_vm_digest(crypto_sha384, "vm.hello mem=2M", image,
			       sizeof(image) - 1, got);
	assert_memory_not_equal(got, want, sizeof(want));
}

static void test_boot_vm_event(void **state)
{
	char desc[MEASURE_DESC_MAX], longname[100];
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN] = { 1 };

	(void)state;
	measure_boot_vm_desc("hello", desc);
	assert_string_equal(desc, "boot vm hello");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	measure_boot_vm_desc(longname, desc);
	assert_int_equal(strlen(desc), MEASURE_DESC_MAX - 1);
	assert_memory_equal(desc, "boot vm aaaa", 12);
	assert_string_equal(measure_type_name(MEASURE_BOOT_VM), "boot-vm");
	measure_log_init(&log);
	for (int i = 0; i < MEASURE_MAX_EVENTS; i++) {
		assert_false(measure_log_full(&log));
		assert_int_equal(measure_log_append(&log, MEASURE_BOOT_VM, d, "boot vm x"), 0);
	}
	assert_true(measure_log_full(&log));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_in_order),
		cmocka_unit_test(test_full_log_refuses),
		cmocka_unit_test(test_long_and_null_descriptions),
		cmocka_unit_test(test_boot_vm_digest),
		cmocka_unit_test(test_boot_vm_event),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
