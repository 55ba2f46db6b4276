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
 * passes; the AES-NI path (crypto/aes_gcm_x86.c as the kernel compiles it)
 * is off without a vector window and, with one, agrees with mbedTLS; so
 * does SHA-256 on SHA-NI (crypto/sha256_x86.c), whose streams go on in
 * C (crypto/sha256_c.c) when the window goes mid-way, and both agree
 * with mbedTLS's SHA-256 over lengths 0..300 and 1 MiB; X.509 role checks work with this
 * config; mbedTLS gives back every
 * byte it allocates; too small a heap is an error, not a crash; and, in
 * the TPGVM's config (crypto/mbedtls_config_tpgvm.h: the kernel's plus TLS,
 * PEM and certificate writing), the TLS 1.2 server that the TPGVM runs
 * (ECDHE-ECDSA-AES-256-GCM, P-384, client certificates required) completes
 * a handshake with `openssl s_client` and refuses a client without a
 * certificate. Prints the peak heap use, to size the hypervisor's and the
 * TPGVM's heaps.
 *
 * crypto/crypto.mk builds it twice: test_crypto_kconfig with the kernel's
 * config and mbedTLS modules (no TLS: that test is left out), and
 * test_crypto_tpgvm_config with the TPGVM's.
 *
 * The blob also exports mbedtls_* for the TLS test (this program links no
 * other mbedTLS).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"
#include "lib/include/heap.h"

#include "mbedtls/ctr_drbg.h"
#include "mbedtls/pk.h"
#include "mbedtls/sha256.h"
#ifdef MBEDTLS_SSL_SRV_C
#include "mbedtls/ssl.h"
#define CONFIG_NAME "TPGVM config"
#else
#define CONFIG_NAME "kernel config"
#endif
#include "mbedtls/x509_crt.h"

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
	printf("  %s: self-test peak heap %zu bytes\n", CONFIG_NAME, peak_use());
}

/* The AES-NI path as the hypervisor builds it (crypto/aes_gcm_x86.c with
 * the kernel's flags but SSE): off without a window, on with one where the
 * CPU has it, and then the same as the portable path. */
static int window_begins, window_ends;
static void window_begin(void) { window_begins++; }
static void window_end(void) { window_ends++; }

static void test_simd_window(void **state)
{
	const struct crypto_simd_window w = { window_begin, window_end };
	static uint8_t pt[700], a[700], b[700];
	uint8_t key[32], iv[12], ta[16], tb[16];
	char err[160];

	(void)state;
	fresh_heap(ARENA_SIZE);
	assert_false(crypto_simd_active()); /* no window: the TPGVM's case */
	crypto_simd_register(&w);
	if (!crypto_simd_active()) {
		crypto_simd_register(NULL);
		print_message("no AES-NI/PCLMULQDQ/SSE4.1 on this CPU: kernel-config SIMD test skipped\n");
		skip();
	}
	assert_int_equal(crypto_selftest_quick(err, sizeof(err)), CRYPTO_OK);
	assert_true(window_begins > 0);
	for (size_t len = 0; len <= sizeof(pt); len += 7) {
		for (size_t i = 0; i < sizeof(key); i++)
			key[i] = (uint8_t)(len + i);
		memset(iv, (int)len, sizeof(iv));
		for (size_t i = 0; i < len; i++)
			pt[i] = (uint8_t)(i ^ len);
		assert_int_equal(crypto_aes256gcm_encrypt(key, iv, pt, len % 50, pt, len, a, ta),
				 CRYPTO_OK);
		crypto_simd_force_off(true);
		assert_int_equal(crypto_aes256gcm_encrypt(key, iv, pt, len % 50, pt, len, b, tb),
				 CRYPTO_OK);
		crypto_simd_force_off(false);
		if (len != 0)
			assert_memory_equal(a, b, len);
		assert_memory_equal(ta, tb, 16);
	}
	assert_int_equal(window_begins, window_ends);
	crypto_simd_register(NULL);
	assert_false(crypto_simd_active());
	assert_heap_whole();
}

/* SHA-256 on SHA-NI as the hypervisor builds it (crypto/sha256_x86.c): off
 * without a window, on with one where the CPU has it, the same bytes as
 * the C path, and a stream whose window goes away mid-way goes on in C
 * (only the kernel build asks for the window) with the right digest. */
static void test_sha_simd_window(void **state)
{
	const struct crypto_simd_window w = { window_begin, window_end };
	static uint8_t msg[3000];
	uint8_t a[32], b[32];
	struct crypto_sha256_ctx c;

	(void)state;
	fresh_heap(ARENA_SIZE);
	window_begins = window_ends = 0;
	assert_false(crypto_sha256_simd_active()); /* no window: the TPGVM's case */
	crypto_simd_register(&w);
	if (!crypto_sha256_simd_active()) {
		crypto_simd_register(NULL);
		print_message("no SHA-NI/SSE4.1/SSSE3 on this CPU: kernel-config SHA-NI test skipped\n");
		skip();
	}
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 13 + 5);
	for (size_t len = 0; len <= sizeof(msg); len += 37) {
		crypto_sha256(msg, len, a);
		crypto_simd_force_off(true);
		crypto_sha256(msg, len, b);
		crypto_simd_force_off(false);
		assert_memory_equal(a, b, 32);
	}
	assert_true(window_begins > 0);
	assert_int_equal(window_begins, window_ends);
	/* every split point of 200 bytes: the window goes between the pieces */
	for (size_t at = 0; at <= 200; at++) {
		crypto_simd_register(&w);
		crypto_sha256(msg, 200, a);
		crypto_sha256_init(&c);
		crypto_sha256_update(&c, msg, at);
		crypto_simd_register(NULL);
		crypto_sha256_update(&c, msg + at, 200 - at);
		crypto_sha256_final(&c, b);
		assert_memory_equal(a, b, 32);
	}
	/* and just before final */
	crypto_simd_register(&w);
	crypto_sha256_init(&c);
	crypto_sha256_update(&c, msg, sizeof(msg) - 1);
	crypto_simd_register(NULL);
	crypto_sha256_final(&c, b);
	crypto_sha256(msg, sizeof(msg) - 1, a); /* in C now */
	assert_memory_equal(a, b, 32);
	assert_int_equal(window_begins, window_ends);
	assert_false(crypto_sha256_simd_active());
	assert_heap_whole();
}

/* SHA-256 in C as the hypervisor builds it (crypto/sha256_c.c, the path
 * without a window) against the kernel build's mbedTLS: every length
 * 0..300 one-shot and split in two, and 1 MiB one-shot and in pages. */
static void test_sha_c_kernel_build(void **state)
{
	static uint8_t msg[1 << 20];
	uint8_t a[32], b[32];
	struct crypto_sha256_ctx c;

	(void)state;
	fresh_heap(ARENA_SIZE);
	crypto_simd_register(NULL);
	assert_false(crypto_sha256_simd_active());
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 29 + (i >> 9));
	for (size_t len = 0; len <= 300; len++) {
		assert_int_equal(mbedtls_sha256_ret(msg + len % 8, len, a, 0), 0);
		crypto_sha256(msg + len % 8, len, b);
		assert_memory_equal(a, b, 32);
		for (size_t at = 0; at <= len; at += 1 + len / 16) {
			crypto_sha256_init(&c);
			crypto_sha256_update(&c, msg + len % 8, at);
			crypto_sha256_update(&c, msg + len % 8 + at, len - at);
			crypto_sha256_final(&c, b);
			assert_memory_equal(a, b, 32);
		}
	}
	assert_int_equal(mbedtls_sha256_ret(msg, sizeof(msg), a, 0), 0);
	crypto_sha256(msg, sizeof(msg), b);
	assert_memory_equal(a, b, 32);
	crypto_sha256_init(&c);
	for (size_t off = 0; off < sizeof(msg); off += 4096)
		crypto_sha256_update(&c, msg + off, 4096);
	crypto_sha256_final(&c, b);
	assert_memory_equal(a, b, 32);
	assert_heap_whole();
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
	printf("  %s: X.509 check peak heap %zu bytes\n", CONFIG_NAME, peak_use());
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
			printf("  %s: self-test fits in a %zu-byte heap\n", CONFIG_NAME, size);
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


/* ---- TLS 1.2 server (the TPGVM's configuration) ------------------------------------- */
#ifdef MBEDTLS_SSL_SRV_C

static char tmpdir[64];

/* Run a shell command in tmpdir; its exit status. */
static int sh(const char *cmd)
{
	char line[2048];

	snprintf(line, sizeof(line), "cd '%s' && (%s) >>log.txt 2>&1", tmpdir, cmd);
	int st = system(line);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A file of tmpdir, NUL-terminated (as mbedTLS's PEM parsers want). */
static unsigned char *slurp(const char *name, size_t *len)
{
	char path[128];
	FILE *f;
	unsigned char *buf = malloc(65536);

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, 65535, f);
	fclose(f);
	buf[(*len)++] = '\0';
	return buf;
}

static int entropy_cb(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	return crypto_platform_entropy(out, len);
}

static int net_send(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);

	return n < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)n;
}

static int net_recv(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t n = recv(*(int *)ctx, buf, len, 0);

	return n < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : n == 0 ? MBEDTLS_ERR_SSL_CONN_EOF : (int)n;
}

struct server {
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt cert, ca;
	mbedtls_pk_context key;
};

static void server_init(struct server *s)
{
	unsigned char *pem;
	size_t len;

	mbedtls_ctr_drbg_init(&s->drbg);
	mbedtls_ssl_config_init(&s->conf);
	mbedtls_x509_crt_init(&s->cert);
	mbedtls_x509_crt_init(&s->ca);
	mbedtls_pk_init(&s->key);
	assert_int_equal(mbedtls_ctr_drbg_seed(&s->drbg, entropy_cb, NULL, NULL, 0), 0);
	pem = slurp("srv.pem", &len);
	assert_int_equal(mbedtls_x509_crt_parse(&s->cert, pem, len), 0);
	free(pem);
	pem = slurp("ca.pem", &len);
	assert_int_equal(mbedtls_x509_crt_parse(&s->ca, pem, len), 0);
	free(pem);
	pem = slurp("srv.key", &len); /* PKCS#8, as openssl writes it */
	assert_int_equal(mbedtls_pk_parse_key(&s->key, pem, len, NULL, 0), 0);
	mbedtls_platform_zeroize(pem, len);
	free(pem);
	assert_int_equal(mbedtls_ssl_config_defaults(&s->conf, MBEDTLS_SSL_IS_SERVER,
						     MBEDTLS_SSL_TRANSPORT_STREAM,
						     MBEDTLS_SSL_PRESET_DEFAULT), 0);
	mbedtls_ssl_conf_rng(&s->conf, mbedtls_ctr_drbg_random, &s->drbg);
	mbedtls_ssl_conf_authmode(&s->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&s->conf, &s->ca, NULL);
	assert_int_equal(mbedtls_ssl_conf_own_cert(&s->conf, &s->cert, &s->key), 0);
}

static void server_free(struct server *s)
{
	mbedtls_pk_free(&s->key);
	mbedtls_x509_crt_free(&s->ca);
	mbedtls_x509_crt_free(&s->cert);
	mbedtls_ssl_config_free(&s->conf);
	mbedtls_ctr_drbg_free(&s->drbg);
}

/* Accept one connection from `openssl s_client client_args` and serve it:
 * read a line, answer "world". The handshake's result. */
static int serve_one(struct server *s, const char *client_args, char *suite, size_t suite_len)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t alen = sizeof(addr);
	struct timeval tv = { .tv_sec = 10 };
	mbedtls_ssl_context ssl;
	unsigned char buf[64];
	char cmd[512];
	int lfd, fd, rc, status;
	pid_t child;

	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&addr, &alen), 0);
	snprintf(cmd, sizeof(cmd),
		 "printf 'hello\\n' | timeout 20 openssl s_client -connect 127.0.0.1:%u "
		 "-tls1_2 -CAfile ca.pem -verify_return_error -ign_eof %s >client.out 2>&1",
		 (unsigned)ntohs(addr.sin_port), client_args);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(lfd);
		_exit(sh(cmd));
	}
	fd = accept(lfd, NULL, NULL);
	close(lfd);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	mbedtls_ssl_init(&ssl);
	assert_int_equal(mbedtls_ssl_setup(&ssl, &s->conf), 0);
	mbedtls_ssl_set_bio(&ssl, &fd, net_send, net_recv, NULL);
	rc = mbedtls_ssl_handshake(&ssl);
	if (rc == 0) {
		snprintf(suite, suite_len, "%s %s", mbedtls_ssl_get_version(&ssl),
			 mbedtls_ssl_get_ciphersuite(&ssl));
		assert_int_equal(mbedtls_ssl_get_verify_result(&ssl), 0);
		assert_non_null(mbedtls_ssl_get_peer_cert(&ssl));
		int n = mbedtls_ssl_read(&ssl, buf, sizeof(buf) - 1);
		assert_int_equal(n, 6);
		assert_memory_equal(buf, "hello\n", 6);
		assert_int_equal(mbedtls_ssl_write(&ssl, (const unsigned char *)"world\n", 6), 6);
		mbedtls_ssl_close_notify(&ssl);
	}
	mbedtls_ssl_free(&ssl);
	close(fd);
	assert_int_equal(waitpid(child, &status, 0), child);
	return rc;
}

static void test_tls_server_with_openssl_client(void **state)
{
	struct server s;
	char suite[96] = "", out[8192];
	size_t len;
	unsigned char *client_out;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/custos-kconfig-tls-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	assert_int_equal(sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes "
			    "-keyout ca.key -out ca.pem -subj /CN=ca -sha384 -days 2 "
			    "-addext basicConstraints=critical,CA:TRUE "
			    "-addext keyUsage=critical,keyCertSign"), 0);
	for (int i = 0; i < 2; i++) {
		const char *name = i == 0 ? "srv" : "cli";
		const char *eku = i == 0 ? "serverAuth" : "clientAuth";
		char cmd[1024];

		snprintf(cmd, sizeof(cmd),
			 "printf 'basicConstraints=CA:FALSE\\nkeyUsage=digitalSignature\\n"
			 "extendedKeyUsage=%s\\n' > %s.cnf && "
			 "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes "
			 "-keyout %s.key -subj /CN=%s -out %s.csr && "
			 "openssl x509 -req -in %s.csr -CA ca.pem -CAkey ca.key -set_serial %d "
			 "-days 2 -sha384 -extfile %s.cnf -out %s.pem",
			 eku, name, name, name, name, name, i + 2, name, name);
		assert_int_equal(sh(cmd), 0);
	}

	fresh_heap(ARENA_SIZE);
	server_init(&s);
	assert_int_equal(serve_one(&s, "-cert cli.pem -key cli.key", suite, sizeof(suite)), 0);
	assert_string_equal(suite, "TLSv1.2 TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384");
	client_out = slurp("client.out", &len);
	snprintf(out, sizeof(out), "%s", (char *)client_out);
	free(client_out);
	if (strstr(out, "world") == NULL ||
	    strstr(out, "Cipher is ECDHE-ECDSA-AES256-GCM-SHA384") == NULL ||
	    strstr(out, "Verify return code: 0 (ok)") == NULL ||
	    strstr(out, "Extended master secret: yes") == NULL)
		fail_msg("unexpected s_client output:\n%s", out);
	printf("  %s: TLS handshake + echo peak heap %zu bytes\n", CONFIG_NAME, peak_use());

	/* No client certificate: the server refuses the handshake. */
	assert_int_not_equal(serve_one(&s, "", suite, sizeof(suite)), 0);
	server_free(&s);
	assert_heap_whole();

	if (getenv("CUSTOS_KEEP_TMP") == NULL) {
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		assert_int_equal(system(cmd), 0);
	}
}
#endif /* MBEDTLS_SSL_SRV_C */

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_entropy_fails_closed),
		cmocka_unit_test(test_selftest),
		cmocka_unit_test(test_simd_window),
		cmocka_unit_test(test_sha_simd_window),
		cmocka_unit_test(test_sha_c_kernel_build),
		cmocka_unit_test(test_x509_roles),
		cmocka_unit_test(test_small_heaps_fail_cleanly),
		cmocka_unit_test(test_random_and_keys),
#ifdef MBEDTLS_SSL_SRV_C
		cmocka_unit_test(test_tls_server_with_openssl_client),
#endif
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
