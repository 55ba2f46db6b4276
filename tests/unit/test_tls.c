/*
 * The TLS record plaintext is gone once read (crypto_tls_read, crypto/tls.c).
 *
 * A real TLS 1.2 handshake in memory between a client and a server context,
 * both configured with the project's profile (crypto_tls_config), then the
 * client sends a VM_CREATE-like message with a marker secret in one record
 * and the server reads it as tpgvm/session.c does (the header, then the
 * rest) through crypto_tls_read. Afterwards the server's whole TLS input
 * buffer is scanned for the marker, and the caller's buffer after
 * crypto_wipe.
 *
 * mbedTLS 2.28 zeroes consumed application data itself. So that the test
 * shows what crypto_tls_read does on its own, it runs twice: once with the
 * library as it is, and once with every mbedtls_platform_zeroize() call
 * made by the TLS library (libmbedtls) turned into a no-op, as in an
 * mbedTLS before 2.24. This program's own definition of
 * mbedtls_platform_zeroize interposes the library's (the dynamic linker
 * resolves libmbedtls's call to it here); calls from our crypto layer
 * (linked into this program) always zero.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdbool.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/tls.h"
#include "mbedtls/ssl_internal.h" /* MBEDTLS_SSL_IN_BUFFER_LEN */
#include <custos/proto.h>

/* ---- mbedtls_platform_zeroize, with the TLS library's calls switchable --- */

static bool tls_library_zeroize_off;
static unsigned tls_library_zeroize_skipped;

static bool called_from_libmbedtls(const void *ret_addr)
{
	Dl_info info;

	return dladdr(ret_addr, &info) && info.dli_fname &&
	       strstr(info.dli_fname, "libmbedtls.so") != NULL;
}

void mbedtls_platform_zeroize(void *buf, size_t len);
void mbedtls_platform_zeroize(void *buf, size_t len)
{
	volatile unsigned char *p = buf;

	if (tls_library_zeroize_off &&
	    called_from_libmbedtls(__builtin_return_address(0))) {
		tls_library_zeroize_skipped++;
		return;
	}
	while (len--)
		*p++ = 0;
}

/* ---- Two TLS ends joined by two in-memory pipes ----------------------------- */

struct pipe_buf {
	unsigned char b[64 * 1024];
	size_t len;
};

struct end {
	struct pipe_buf *in, *out;
};

static int pipe_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct end *e = ctx;
	size_t room = sizeof(e->out->b) - e->out->len;

	if (len > room)
		len = room;
	if (!len)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	memcpy(e->out->b + e->out->len, buf, len);
	e->out->len += len;
	return (int)len;
}

static int pipe_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct end *e = ctx;
	size_t n = len < e->in->len ? len : e->in->len;

	if (!n)
		return MBEDTLS_ERR_SSL_WANT_READ;
	memcpy(buf, e->in->b, n);
	memmove(e->in->b, e->in->b + n, e->in->len - n);
	e->in->len -= n;
	return (int)n;
}

struct link {
	struct pipe_buf c2s, s2c;
	struct end server_end, client_end;
	mbedtls_ssl_config server_conf, client_conf;
	mbedtls_ssl_context server, client;
	mbedtls_x509_crt server_cert;
	mbedtls_pk_context server_key;
};

static bool in_progress(int ret)
{
	return ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE;
}

/* Both ends with the project's profile; the client trusts the server's
 * self-signed certificate (the role and report checks are not the point
 * here, the record layer is). */
static void link_up(struct link *l)
{
	int rs = 1, rc = 1;

	memset(l, 0, sizeof(*l));
	l->server_end = (struct end){ &l->c2s, &l->s2c };
	l->client_end = (struct end){ &l->s2c, &l->c2s };
	mbedtls_ssl_config_init(&l->server_conf);
	mbedtls_ssl_config_init(&l->client_conf);
	mbedtls_x509_crt_init(&l->server_cert);
	mbedtls_pk_init(&l->server_key);
	mbedtls_ssl_init(&l->server);
	mbedtls_ssl_init(&l->client);
	assert_int_equal(crypto_tls_self_signed(&l->server_key, &l->server_cert,
						"custos-test-tpgvm"), CRYPTO_OK);
	assert_int_equal(crypto_tls_config(&l->server_conf, MBEDTLS_SSL_IS_SERVER),
			 CRYPTO_OK);
	assert_int_equal(crypto_tls_config(&l->client_conf, MBEDTLS_SSL_IS_CLIENT),
			 CRYPTO_OK);
	mbedtls_ssl_conf_authmode(&l->server_conf, MBEDTLS_SSL_VERIFY_NONE);
	mbedtls_ssl_conf_authmode(&l->client_conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&l->client_conf, &l->server_cert, NULL);
	assert_int_equal(mbedtls_ssl_conf_own_cert(&l->server_conf, &l->server_cert,
						   &l->server_key), 0);
	assert_int_equal(mbedtls_ssl_setup(&l->server, &l->server_conf), 0);
	assert_int_equal(mbedtls_ssl_setup(&l->client, &l->client_conf), 0);
	assert_int_equal(mbedtls_ssl_set_hostname(&l->client, "custos-test-tpgvm"), 0);
	mbedtls_ssl_set_bio(&l->server, &l->server_end, pipe_send, pipe_recv, NULL);
	mbedtls_ssl_set_bio(&l->client, &l->client_end, pipe_send, pipe_recv, NULL);
	for (int i = 0; i < 100 && (rs || rc); i++) {
		if (rc) {
			rc = mbedtls_ssl_handshake(&l->client);
			if (in_progress(rc))
				rc = 1;
		}
		if (rs) {
			rs = mbedtls_ssl_handshake(&l->server);
			if (in_progress(rs))
				rs = 1;
		}
		assert_true(rc >= 0 && rs >= 0);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	assert_string_equal(mbedtls_ssl_get_version(&l->server), "TLSv1.2");
	assert_string_equal(mbedtls_ssl_get_ciphersuite(&l->server),
			    "TLS-ECDHE-ECDSA-WITH-AES-256-GCM-SHA384");
}

static void link_down(struct link *l)
{
	mbedtls_ssl_free(&l->client);
	mbedtls_ssl_free(&l->server);
	mbedtls_ssl_config_free(&l->client_conf);
	mbedtls_ssl_config_free(&l->server_conf);
	mbedtls_x509_crt_free(&l->server_cert);
	mbedtls_pk_free(&l->server_key);
}

/* ---- The test ------------------------------------------------------------------ */

static const char marker[] = "ROOT_PASSWORD=marker-5e3c1f0a9d";
static const char second[] = "API_TOKEN_XYZ=marker-0b77e2c418";
_Static_assert(sizeof(marker) == sizeof(second), "the secrets fill 2 * sizeof(marker)");

static bool holds(const unsigned char *p, size_t len, const char *what)
{
	size_t n = strlen(what);

	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(p + i, what, n) == 0)
			return true;
	return false;
}

/* Any 6 bytes in a row of secret (a piece of it left behind counts). */
static bool holds_piece(const unsigned char *p, size_t len, const char *secret)
{
	char piece[7];

	for (size_t i = 0; i + 6 <= strlen(secret); i++) {
		memcpy(piece, secret + i, 6);
		piece[6] = '\0';
		if (holds(p, len, piece))
			return true;
	}
	return false;
}

/* The server's whole record input buffer (in_buf: header, explicit IV,
 * the decrypted record, tag; mbedTLS allocates exactly this much). */
static bool server_tls_holds(const struct link *l, const char *secret)
{
	return holds_piece(l->server.in_buf, MBEDTLS_SSL_IN_BUFFER_LEN, secret);
}

/* A VM_CREATE as the tenant CLI sends it: the struct, then the secrets. */
static size_t make_request(unsigned char *msg, size_t cap)
{
	struct proto_vm_create c;
	unsigned char body[sizeof(c) + 2 * sizeof(marker)];
	size_t n;

	memset(&c, 0, sizeof(c));
	strcpy(c.name, "demo");
	c.mem_size = 4u << 20;
	c.image_len = 4096;
	c.secrets_len = 2 * sizeof(marker);
	memset(c.salt, 0x5a, sizeof(c.salt));
	memcpy(body, &c, sizeof(c));
	memcpy(body + sizeof(c), marker, sizeof(marker)); /* with its NUL */
	memcpy(body + sizeof(c) + sizeof(marker), second, sizeof(second));
	n = proto_encode(PROTO_VM_CREATE, body, sizeof(body), msg, cap);
	assert_int_equal(n, PROTO_HDR_LEN + sizeof(body));
	return n;
}

static void read_request_as_the_tpgvm_does(bool library_zeroes)
{
	unsigned char msg[1024], got[1024];
	struct link l;
	size_t n;
	int ret;

	assert_int_equal(crypto_init(), CRYPTO_OK);
	link_up(&l);
	n = make_request(msg, sizeof(msg));
	assert_int_equal(mbedtls_ssl_write(&l.client, msg, n), (int)n);
	/* The sender's TLS encrypted the record in place: no plaintext. */
	assert_false(holds_piece(l.client.out_buf, MBEDTLS_SSL_OUT_BUFFER_LEN, marker));
	assert_false(holds_piece(l.client.out_buf, MBEDTLS_SSL_OUT_BUFFER_LEN, second));

	tls_library_zeroize_off = !library_zeroes;
	tls_library_zeroize_skipped = 0;
	/* The header first (as tpgvm/session.c does): the whole record is
	 * decrypted, and the secret waits in TLS's buffer. This is what the
	 * scan below must be able to see. */
	ret = crypto_tls_read(&l.server, got, PROTO_HDR_LEN);
	assert_int_equal(ret, PROTO_HDR_LEN);
	assert_true(server_tls_holds(&l, marker));
	assert_true(server_tls_holds(&l, second));
	/* Then the body: consumed, and gone from TLS. */
	ret = crypto_tls_read(&l.server, got + PROTO_HDR_LEN, n - PROTO_HDR_LEN);
	assert_int_equal(ret, (int)(n - PROTO_HDR_LEN));
	tls_library_zeroize_off = false;
	if (!library_zeroes)
		assert_true(tls_library_zeroize_skipped > 0); /* it was off */
	assert_memory_equal(got, msg, n);
	assert_false(server_tls_holds(&l, marker));
	assert_false(server_tls_holds(&l, second));
	/* The caller's copy is the last one; it goes with crypto_wipe. */
	assert_true(holds(got, n, marker));
	crypto_wipe(got, n);
	assert_false(holds_piece(got, sizeof(got), marker));
	assert_false(holds_piece(got, sizeof(got), second));

	/* The session goes on: the next record reads as usual. */
	assert_int_equal(mbedtls_ssl_write(&l.client, (const unsigned char *)"next", 4), 4);
	assert_int_equal(crypto_tls_read(&l.server, got, sizeof(got)), 4);
	assert_memory_equal(got, "next", 4);
	link_down(&l);
}

static void test_record_plaintext_gone_after_read(void **state)
{
	(void)state;
	read_request_as_the_tpgvm_does(true);
}

static void test_record_plaintext_gone_without_the_library_zeroing(void **state)
{
	(void)state;
	read_request_as_the_tpgvm_does(false);
}

/* Errors come back as they are and zero nothing. */
static void test_read_errors_pass_through(void **state)
{
	unsigned char got[16];
	struct link l;

	(void)state;
	assert_int_equal(crypto_init(), CRYPTO_OK);
	link_up(&l);
	assert_int_equal(crypto_tls_read(&l.server, got, sizeof(got)),
			 MBEDTLS_ERR_SSL_WANT_READ);
	assert_int_equal(mbedtls_ssl_close_notify(&l.client), 0);
	assert_int_equal(crypto_tls_read(&l.server, got, sizeof(got)),
			 MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY);
	link_down(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_plaintext_gone_after_read),
		cmocka_unit_test(test_record_plaintext_gone_without_the_library_zeroing),
		cmocka_unit_test(test_read_errors_pass_through),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
