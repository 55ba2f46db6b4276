/*
 * The crypto layer exactly as the hypervisor builds it, run on the host:
 * the freestanding mbedTLS config (crypto/mbedtls_config_kernel.h), the
 * wrapper, lib/heap.c as mbedTLS's allocator and lib/'s memcpy/snprintf,
 * all compiled with the kernel's -ffreestanding -nostdinc headers (only the
 * code model differs, so that it links into a host program). crypto/crypto.mk
 * links those objects into one blob whose only global symbols are the
 * crypto_* and heap_* API, so they cannot mix with libc's or the system
 * libmbedtls.
 *
 * Checks: no entropy means crypto_init() fails closed; the self-test
 * passes; X.509 role checks work with this config; mbedTLS gives back every
 * byte it allocates; too small a heap is an error, not a crash. Prints the
 * peak heap use, to size the hypervisor's heap.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "crypto/crypto.h"
#include "lib/include/heap.h"

/* A leaf with the signing-station role and its CA root, issued once with
 * crypto/pki_host.c (valid for 100 years; Custos does not check dates). */
static const char root_der[] =
	"308201e93082016da003020102021064a9d46a2e0a8e57cfc9e69d08be820630"
	"0c06082a8648ce3d04030305003021311f301d06035504030c16437573746f73"
	"206b636f6e66696720746573742043413020170d323631313237303930303232"
	"5a180f32313236313130333039303032325a3021311f301d06035504030c1643"
	"7573746f73206b636f6e66696720746573742043413076301006072a8648ce3d"
	"020106052b810400220362000478e7a8ef12a6058234c8dcdef28fe10d652ba6"
	"b61049861b06375eedf74dcb59cf61ff4e035a3eaa175a655676d3ccb57c144f"
	"8a090a09abd318efda6d5cff37fc81dc416cc959f7a004929771d011b8103946"
	"0bcc94c9cd636149792ada0edea3663064301d0603551d0e0416041473faabd3"
	"9883fca98f3b39e43ed3e54b58121be5301f0603551d2304183016801473faab"
	"d39883fca98f3b39e43ed3e54b58121be530120603551d130101ff0408300601"
	"01ff020100300e0603551d0f0101ff040403020106300c06082a8648ce3d0403"
	"0305000368003065023100a301ee613754345dbcf14a6595aaacd1e2ee0148c3"
	"2c7d8ca955a283cf6d0dc8ae46dc8cf025e2abcf61d3c7d4c42ade0230698c43"
	"1b436a0cf8351de9633aeee0445be45f750060bfaf820654da785f045b88f47b"
	"e9c3d3d4aedb8f00a2635f8592"
;
static const char leaf_der[] =
	"308201fb3082017fa00302010202107fc179c71f80fa2dd6d634318a0b07c930"
	"0c06082a8648ce3d04030305003021311f301d06035504030c16437573746f73"
	"206b636f6e66696720746573742043413020170d323631313237303930303232"
	"5a180f32313236313130333039303032325a301a3118301606035504030c0f6b"
	"636f6e6669672073746174696f6e3076301006072a8648ce3d020106052b8104"
	"0022036200040be6612ef994241a6c9adada462648d0658a2af26648fe6e2829"
	"960c13a8b771c97e8a1eb7f300c556370f8d88c3459b647bc36b4ca6052b7955"
	"dcf834237da935a259847d6b455a7877bd0bc333833b29d127c66498b70cdea7"
	"6f2594a53d77a37f307d301d0603551d0e041604145253e39b55276c1ba33b87"
	"810f5ac4a68032f15e301f0603551d2304183016801473faabd39883fca98f3b"
	"39e43ed3e54b58121be530090603551d1304023000300e0603551d0f0101ff04"
	"040302078030200603551d250419301706156981a8ffafbefa88ea87c5b3f3b0"
	"b2f2f4e6ca0801300c06082a8648ce3d0403030500036800306502300dee69b7"
	"c1046ad4bc1d38be5ab6f42722952110c0c74f23447591e5e49b628391869462"
	"7d0d7529ea51ead55ebae420023100e0189828f83ba94a8e457ad03f469e3887"
	"bba4c3ed095b5079a8c674f9efc4aa6261ab9294598ea1ac87d083ecb33992"
;
static const char leaf_pub[] =
	"040be6612ef994241a6c9adada462648d0658a2af26648fe6e2829960c13a8b7"
	"71c97e8a1eb7f300c556370f8d88c3459b647bc36b4ca6052b7955dcf834237d"
	"a935a259847d6b455a7877bd0bc333833b29d127c66498b70cdea76f2594a53d"
	"77"
;

#define ARENA_SIZE (4u << 20)
static _Alignas(16) uint8_t arena[ARENA_SIZE];
static bool entropy_works = true;
static size_t entropy_calls;

/* What RDSEED/RDRAND are to the hypervisor. */
int crypto_platform_entropy(void *buf, size_t len)
{
	uint8_t *p = buf;

	entropy_calls++;
	if (!entropy_works)
		return -1;
	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void unhex(const char *hex, uint8_t *out, size_t len)
{
	assert_int_equal(strlen(hex), 2 * len);
	for (size_t i = 0; i < len; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static size_t full; /* heap_free_bytes() of the empty heap */

static void fresh_heap(size_t size)
{
	heap_init(arena, size);
	full = heap_free_bytes();
}

static size_t peak_use(void)
{
	return full - heap_min_free_bytes();
}

/* Everything mbedTLS allocated has been given back, and the heap is sound. */
static void assert_heap_whole(void)
{
	assert_int_equal(heap_check(), HEAP_CHECK_OK);
	assert_int_equal(heap_errors(), 0);
	assert_int_equal(heap_free_bytes(), full);
}

/* Must run first: crypto_init() has not succeeded yet. */
static void test_no_entropy_fails_closed(void **state)
{
	char err[160];
	uint8_t buf[16];

	(void)state;
	fresh_heap(ARENA_SIZE);
	entropy_works = false;
	assert_int_equal(crypto_init(), CRYPTO_E_RNG);
	assert_int_equal(crypto_random(buf, sizeof(buf)), CRYPTO_E_RNG);
	assert_int_not_equal(crypto_selftest(err, sizeof(err)), CRYPTO_OK);
	assert_non_null(strstr(err, "crypto self-test failed"));
	assert_true(entropy_calls > 0);
	entropy_works = true;
	assert_heap_whole();
}

static void test_selftest(void **state)
{
	char err[160] = "x";

	(void)state;
	fresh_heap(ARENA_SIZE);
	assert_int_equal(crypto_init(), CRYPTO_OK);
	assert_int_equal(crypto_selftest(err, sizeof(err)), CRYPTO_OK);
	assert_string_equal(err, "");
	assert_int_equal(crypto_selftest_quick(err, sizeof(err)), CRYPTO_OK);
	assert_heap_whole();
	printf("  kernel config: self-test peak heap %zu bytes\n", peak_use());
}

static void test_x509_roles(void **state)
{
	uint8_t root[1024], leaf[1024], pub[97], want[97];
	size_t root_len = strlen(root_der) / 2, leaf_len = strlen(leaf_der) / 2;
	char err[160];

	(void)state;
	fresh_heap(ARENA_SIZE);
	unhex(root_der, root, root_len);
	unhex(leaf_der, leaf, leaf_len);
	unhex(leaf_pub, want, sizeof(want));
	assert_int_equal(crypto_x509_verify(leaf, leaf_len, root, root_len, CRYPTO_ROLE_STATION,
					    pub, err, sizeof(err)), CRYPTO_OK);
	assert_memory_equal(pub, want, sizeof(want));
	assert_int_equal(crypto_x509_verify(leaf, leaf_len, root, root_len, CRYPTO_ROLE_TENANT,
					    pub, err, sizeof(err)), CRYPTO_E_VERIFY);
	assert_string_equal(err, "certificate lacks the tenant role");
	assert_int_equal(crypto_x509_verify(root, root_len, root, root_len, CRYPTO_ROLE_STATION,
					    pub, err, sizeof(err)), CRYPTO_E_VERIFY);
	leaf[leaf_len - 1] ^= 1;
	assert_int_equal(crypto_x509_verify(leaf, leaf_len, root, root_len, CRYPTO_ROLE_STATION,
					    pub, err, sizeof(err)), CRYPTO_E_VERIFY);
	assert_string_equal(err, "certificate is not signed by the Custos CA root");
	assert_int_equal(crypto_x509_verify(leaf, leaf_len - 1, root, root_len,
					    CRYPTO_ROLE_STATION, pub, err, sizeof(err)),
			 CRYPTO_E_INVAL);
	assert_heap_whole();
	printf("  kernel config: X.509 check peak heap %zu bytes\n", peak_use());
}

static void test_small_heaps_fail_cleanly(void **state)
{
	char err[160];

	(void)state;
	/* From far too small to just too small: an error every time, never a
	 * crash, and nothing leaked or corrupted. */
	for (size_t size = 1024; size <= 64 * 1024; size *= 2) {
		fresh_heap(size);
		int rc = crypto_selftest(err, sizeof(err));

		assert_heap_whole();
		if (rc == CRYPTO_OK) {
			printf("  kernel config: self-test fits in a %zu-byte heap\n", size);
			break;
		}
		assert_non_null(strstr(err, "crypto self-test failed"));
	}
}

static void test_random_and_keys(void **state)
{
	uint8_t a[2000], b[2000], priv[48], pub[97], pub2[97], z1[48], z2[48];

	(void)state;
	fresh_heap(ARENA_SIZE);
	assert_int_equal(crypto_random(a, sizeof(a)), CRYPTO_OK);
	assert_int_equal(crypto_random(b, sizeof(b)), CRYPTO_OK);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(crypto_p384_keygen(priv, pub), CRYPTO_OK);
	assert_int_equal(crypto_p384_public(priv, pub2), CRYPTO_OK);
	assert_memory_equal(pub, pub2, sizeof(pub));
	uint8_t priv2[48];
	assert_int_equal(crypto_p384_keygen(priv2, pub2), CRYPTO_OK);
	assert_int_equal(crypto_ecdh_p384(priv, pub2, z1), CRYPTO_OK);
	assert_int_equal(crypto_ecdh_p384(priv2, pub, z2), CRYPTO_OK);
	assert_memory_equal(z1, z2, sizeof(z1));
	assert_heap_whole();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_entropy_fails_closed),
		cmocka_unit_test(test_selftest),
		cmocka_unit_test(test_x509_roles),
		cmocka_unit_test(test_small_heaps_fail_cleanly),
		cmocka_unit_test(test_random_and_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
