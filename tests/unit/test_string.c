/*
 * lib/string.c (the hypervisor's and guests' memcpy & co.) checked against
 * glibc: the freestanding copy is compiled in here under other names.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#define memcpy lib_memcpy
#define memmove lib_memmove
#define memset lib_memset
#define memcmp lib_memcmp
#define strlen lib_strlen
#define strnlen lib_strnlen
#define strncpy lib_strncpy
#define strcmp lib_strcmp
#define strncmp lib_strncmp
#define strchr lib_strchr
#define strstr lib_strstr
#include "lib/string.c"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strncpy
#undef strcmp
#undef strncmp
#undef strchr
#undef strstr

/* Same bytes as glibc's, padding and no-terminator cases included. */
static void test_strncpy(void **state)
{
	static const char *srcs[] = { "", "a", "abc", "abcdefgh" };
	(void)state;
	for (size_t i = 0; i < sizeof(srcs) / sizeof(srcs[0]); i++) {
		for (size_t n = 0; n <= 10; n++) {
			char want[12], got[12];
			memset(want, 'x', sizeof(want));
			memset(got, 'x', sizeof(got));
			strncpy(want, srcs[i], n);
			assert_ptr_equal(lib_strncpy(got, srcs[i], n), got);
			assert_memory_equal(got, want, sizeof(want));
		}
	}
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void test_copy_and_fill(void **state)
{
	(void)state;
	uint8_t src[300], a[320], b[320];

	for (size_t i = 0; i < sizeof(src); i++)
		src[i] = (uint8_t)(i * 37 + 11);
	for (size_t off = 0; off < 9; off++) {
		for (size_t n = 0; n < 290; n += 7) {
			memset(a, 0xaa, sizeof(a));
			memset(b, 0xaa, sizeof(b));
			assert_ptr_equal(lib_memcpy(a + off, src + 3, n), a + off);
			memcpy(b + off, src + 3, n);
			assert_memory_equal(a, b, sizeof(a));
			assert_ptr_equal(lib_memset(a + off, 0x5c, n), a + off);
			memset(b + off, 0x5c, n);
			assert_memory_equal(a, b, sizeof(a));
		}
	}
}

static void test_overlapping_move(void **state)
{
	(void)state;
	uint8_t a[64], b[64];

	for (int shift = -9; shift <= 9; shift++) {
		for (size_t i = 0; i < sizeof(a); i++)
			a[i] = b[i] = (uint8_t)i;
		lib_memmove(a + 20 + shift, a + 20, 30);
		memmove(b + 20 + shift, b + 20, 30);
		assert_memory_equal(a, b, sizeof(a));
	}
}

static void test_compare_and_search(void **state)
{
	(void)state;
	const char *words[] = { "", "a", "ab", "abc", "abd", "b", "\xff", "abcdef" };

	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(lib_strlen(words[i]), strlen(words[i]));
		assert_int_equal(lib_strnlen(words[i], 2), strnlen(words[i], 2));
		for (size_t j = 0; j < 8; j++) {
			assert_int_equal(sign(lib_strcmp(words[i], words[j])),
					 sign(strcmp(words[i], words[j])));
			assert_int_equal(sign(lib_strncmp(words[i], words[j], 2)),
					 sign(strncmp(words[i], words[j], 2)));
			assert_int_equal(sign(lib_memcmp(words[i], words[j], 1)),
					 sign(memcmp(words[i], words[j], 1)));
			assert_ptr_equal(lib_strstr(words[i], words[j]),
					 strstr(words[i], words[j]));
		}
		assert_ptr_equal(lib_strchr(words[i], 'b'), strchr(words[i], 'b'));
		assert_ptr_equal(lib_strchr(words[i], '\0'), strchr(words[i], '\0'));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_and_fill),
		cmocka_unit_test(test_strncpy),
		cmocka_unit_test(test_overlapping_move),
		cmocka_unit_test(test_compare_and_search),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
