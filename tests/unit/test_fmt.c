/*
 * lib/fmt.c (the hypervisor's vsnprintf) checked against glibc's snprintf:
 * the freestanding copy is compiled into this test under other names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#define vsnprintf lib_vsnprintf
#define snprintf lib_snprintf
#include "lib/fmt.c"
#undef vsnprintf
#undef snprintf

#define SAME(fmt, ...)                                                        \
	do {                                                                  \
		char want[128], got[128];                                     \
		int nw = snprintf(want, sizeof(want), fmt, __VA_ARGS__);      \
		int ng = lib_snprintf(got, sizeof(got), fmt, __VA_ARGS__);    \
		assert_string_equal(got, want);                               \
		assert_int_equal(ng, nw);                                     \
	} while (0)

static void test_integers(void **state)
{
	(void)state;
	SAME("%d %i %u", 0, -1, 4000000000u);
	SAME("%d", -2147483647 - 1);
	SAME("%lld %llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
	SAME("%ld %lu %zu", -5L, 7UL, (size_t)42);
	SAME("%x %X %#x %#llx", 0xabcu, 0xabcu, 0x1fu, 0xdeadbeefcafeull);
	SAME("%hhu %hd", 300, 70000);
}

static void test_width_and_flags(void **state)
{
	(void)state;
	SAME("[%5d] [%-5d] [%05d] [%016llx]", 42, 42, -42, 0x1234ull);
	SAME("[%*d] [%3s] [%-6s] [%.2s]", 6, 7, "ab", "cd", "xyz");
	SAME("[%.*s] [%.*s] [%-*s|]", 3, "abcdef", 0, "abc", 4, "x");
	SAME("%c%c%%%s", 'a', 'b', "");
	SAME("%04x-%04llx", 0xffffu, 0x0ull);
}

static void test_truncation_and_return_value(void **state)
{
	(void)state;
	char buf[8];

	assert_int_equal(lib_snprintf(buf, sizeof(buf), "%s", "0123456789"), 10);
	assert_string_equal(buf, "0123456");
	assert_int_equal(lib_snprintf(buf, 1, "abc"), 3);
	assert_string_equal(buf, "");
	assert_int_equal(lib_snprintf(NULL, 0, "%d", 12345), 5);
}

static void test_null_string_and_unknown_conversion(void **state)
{
	(void)state;
	char buf[32];

	lib_snprintf(buf, sizeof(buf), "%s", (char *)NULL);
	assert_string_equal(buf, "(null)");
	/* An unknown conversion is shown, not silently dropped. */
	lib_snprintf(buf, sizeof(buf), "a%qb");
	assert_string_equal(buf, "a%qb");
	/* A trailing lone '%' ends the output without reading past the end. */
	lib_snprintf(buf, sizeof(buf), "x%");
	assert_string_equal(buf, "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_width_and_flags),
		cmocka_unit_test(test_truncation_and_return_value),
		cmocka_unit_test(test_null_string_and_unknown_conversion),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
