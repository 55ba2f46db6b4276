/*
 * The tenant's TLS client session (tools/tenant_tls.h), over the system
 * libmbedtls with the shared Custos profile (crypto/tls.c).
 *
 * One deadline bounds everything: the connect (non-blocking connect() and
 * poll()), every read (mbedtls_net_recv_timeout with the time left, set
 * before each call), every write (SO_SNDTIMEO with the time left). The
 * handshake is run step by step so the client can insist on the extended
 * master secret, which mbedTLS 2.28 offers but cannot require by itself.
 */
#include "tools/tenant_tls.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "crypto/pki_host.h"
#include "crypto/tls.h"
#include "mbedtls/net_sockets.h"
#include "mbedtls/pk.h"
#include "mbedtls/ssl.h"
/* mbedtls_ssl_handshake_params: extended_ms, see handshake() */
#include "mbedtls/ssl_internal.h"
#include "mbedtls/x509_crt.h"

#define CHUNK 16384

struct tenant_tls {
	mbedtls_net_context net;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_x509_crt own_cert, ca;
	mbedtls_pk_context own_key;
	double deadline;           /* CLOCK_MONOTONIC seconds */
	struct proto_reader reader;
	uint8_t *msg_buf;          /* the reader's, one whole message */
	uint8_t chunk[CHUNK];      /* plaintext read but not yet fed */
	size_t chunk_pos, chunk_len;
	bool handshake_done;
	/* The peer's first bytes, to tell a peer that does not speak TLS at
	 * all (not a Custos relay: a web server, a wrong port) from one
	 * whose TLS records were damaged. */
	uint8_t first[24];
	size_t first_len;
	char peer[300];            /* HOST:PORT, for messages */
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds left before the deadline, at least 1; 0 once it passed. */
static uint32_t ms_left(const struct tenant_tls *t)
{
	double left = t->deadline - now();

	if (left <= 0)
		return 0;
	if (left > 86400)
		left = 86400;
	return (uint32_t)(left * 1000) + 1;
}

static int fail(int status, char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(int status, char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return status;
}

/* Bound the next read and write by the time left; TT_E_TIMEOUT if none. */
static int arm(struct tenant_tls *t, char *err, size_t err_len)
{
	uint32_t ms = ms_left(t);
	struct timeval tv;

	if (ms == 0)
		return fail(TT_E_TIMEOUT, err, err_len, "timed out");
	mbedtls_ssl_conf_read_timeout(&t->conf, ms);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	if (t->net.fd >= 0)
		setsockopt(t->net.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return TT_OK;
}

static const char *alert_name(unsigned a)
{
	switch (a) {
	case MBEDTLS_SSL_ALERT_MSG_CLOSE_NOTIFY: return "close_notify";
	case MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE: return "unexpected_message";
	case MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC: return "bad_record_mac";
	case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE: return "handshake_failure";
	case MBEDTLS_SSL_ALERT_MSG_NO_CERT: return "no_certificate";
	case MBEDTLS_SSL_ALERT_MSG_BAD_CERT: return "bad_certificate";
	case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT: return "unsupported_certificate";
	case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED: return "certificate_revoked";
	case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED: return "certificate_expired";
	case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN: return "certificate_unknown";
	case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER: return "illegal_parameter";
	case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA: return "unknown_ca";
	case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED: return "access_denied";
	case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR: return "decode_error";
	case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR: return "decrypt_error";
	case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION: return "protocol_version";
	case MBEDTLS_SSL_ALERT_MSG_INSUFFICIENT_SECURITY: return "insufficient_security";
	case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR: return "internal_error";
	default: return "unknown alert";
	}
}

/* What a refusal alert says about our credentials, in words. */
static const char *refusal_meaning(unsigned a)
{
	switch (a) {
	case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
		return "our certificate is not from a CA it trusts";
	case MBEDTLS_SSL_ALERT_MSG_NO_CERT:
		return "it wants a tenant certificate";
	case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:
		return "our certificate has expired";
	case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED:
		return "our certificate is revoked";
	case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:
		return "this tenant is not allowed on the platform";
	default:
		return "it does not accept our certificate (is it a tenant certificate?)";
	}
}

/* A fatal alert from the peer: whose fault is it? */
static int classify_alert(unsigned a, const char *when, char *err,
			  size_t err_len)
{
	switch (a) {
	case MBEDTLS_SSL_ALERT_MSG_NO_CERT:
	case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
	case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT:
	case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED:
	case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:
	case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:
	case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
	case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:
		return fail(TT_E_REFUSED, err, err_len,
			    "the platform refused our credentials %s: %s (TLS alert %s)",
			    when, refusal_meaning(a), alert_name(a));
	case MBEDTLS_SSL_ALERT_MSG_BAD_RECORD_MAC:
	case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR:
	case MBEDTLS_SSL_ALERT_MSG_DECODE_ERROR:
	case MBEDTLS_SSL_ALERT_MSG_ILLEGAL_PARAMETER:
	case MBEDTLS_SSL_ALERT_MSG_UNEXPECTED_MESSAGE:
		return fail(TT_E_INTEGRITY, err, err_len,
			    "the platform detected a damaged TLS channel %s (TLS alert %s): the bytes were altered on the way",
			    when, alert_name(a));
	default:
		return fail(TT_E_CLOSED, err, err_len,
			    "the platform aborted the session %s (TLS alert %s)",
			    when, alert_name(a));
	}
}

/* The socket's send and receive, through which the peer's first bytes
 * are kept (struct tenant_tls, first). */
static int net_send(void *ctx, const unsigned char *buf, size_t len)
{
	return mbedtls_net_send(&((struct tenant_tls *)ctx)->net, buf, len);
}

static int net_recv_timeout(void *ctx, unsigned char *buf, size_t len,
			    uint32_t timeout)
{
	struct tenant_tls *t = ctx;
	int n = mbedtls_net_recv_timeout(&t->net, buf, len, timeout);

	if (n > 0 && t->first_len < sizeof(t->first)) {
		size_t take = sizeof(t->first) - t->first_len;

		if (take > (size_t)n)
			take = (size_t)n;
		memcpy(t->first + t->first_len, buf, take);
		t->first_len += take;
	}
	return n;
}

/* Whether the peer's first bytes can start a TLS record: a content type
 * (change_cipher_spec, alert, handshake, application data) and major
 * version 3. */
static bool began_as_tls(const struct tenant_tls *t)
{
	if (t->first_len == 0)
		return true; /* nothing to judge by */
	if (t->first[0] < MBEDTLS_SSL_MSG_CHANGE_CIPHER_SPEC ||
	    t->first[0] > MBEDTLS_SSL_MSG_APPLICATION_DATA)
		return false;
	return t->first_len < 2 || t->first[1] == 3;
}

/* "the peer at HOST:PORT did not answer as a Custos relay", with its
 * first bytes shown as printable text (a web server's status line says
 * what it is). */
static int not_tls(struct tenant_tls *t, char *err, size_t err_len)
{
	char shown[sizeof(t->first) + 1];
	size_t n = 0;
	ssize_t more;

	/* mbedTLS stopped at the first record header: what else has come
	 * already makes the line readable ("HTTP/1.1 400 Bad Request"). */
	more = t->net.fd >= 0 && t->first_len < sizeof(t->first) ?
	       recv(t->net.fd, t->first + t->first_len,
		    sizeof(t->first) - t->first_len, MSG_DONTWAIT) : 0;
	if (more > 0)
		t->first_len += (size_t)more;

	for (size_t i = 0; i < t->first_len && t->first[i] != '\r' &&
			   t->first[i] != '\n'; i++)
		shown[n++] = t->first[i] >= 0x20 && t->first[i] < 0x7f ?
			     (char)t->first[i] : '?';
	shown[n] = '\0';
	return fail(TT_E_NOT_TLS, err, err_len,
		    "the peer at %s did not answer as a Custos relay (not TLS: it began '%s')",
		    t->peer, shown);
}

/* mbedTLS's own number for an error, for whoever debugs the TLS layer
 * (CUSTOS_DEBUG=1): never in the message a user reads. */
static void debug_mbedtls(int ret, const char *when)
{
	const char *v = getenv("CUSTOS_DEBUG");

	if (v && strcmp(v, "1") == 0)
		fprintf(stderr, "custos: debug: mbedTLS error -0x%04x %s\n",
			(unsigned)-ret, when);
}

/* An mbedTLS error during the handshake or a read/write. */
static int classify(struct tenant_tls *t, int ret, const char *when,
		    char *err, size_t err_len)
{
	debug_mbedtls(ret, when);
	/* Not even a TLS record: the peer is no Custos relay. Only before
	 * the handshake is over: once TLS spoke, garbage is damage. */
	if (!t->handshake_done && ret != MBEDTLS_ERR_SSL_TIMEOUT && !began_as_tls(t))
		return not_tls(t, err, err_len);
	switch (ret) {
	case MBEDTLS_ERR_SSL_TIMEOUT:
		return fail(TT_E_TIMEOUT, err, err_len, "timed out %s", when);
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
		return classify_alert(t->ssl.in_msg ? t->ssl.in_msg[1] : 0, when,
				      err, err_len);
	case 0:
	case MBEDTLS_ERR_SSL_CONN_EOF:
	case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
	case MBEDTLS_ERR_NET_CONN_RESET:
	case MBEDTLS_ERR_NET_RECV_FAILED:
	case MBEDTLS_ERR_NET_SEND_FAILED:
		return fail(TT_E_CLOSED, err, err_len,
			    "the connection closed %s", when);
	case MBEDTLS_ERR_SSL_ALLOC_FAILED:
	case MBEDTLS_ERR_SSL_INTERNAL_ERROR:
	case MBEDTLS_ERR_SSL_BAD_INPUT_DATA:
	case MBEDTLS_ERR_SSL_NO_RNG:
	case MBEDTLS_ERR_SSL_BAD_CONFIG:
		return fail(TT_E_LOCAL, err, err_len, "TLS failed %s: %s",
			    when, crypto_tls_strerror(ret));
	default:
		return fail(TT_E_INTEGRITY, err, err_len,
			    "TLS channel integrity failure %s: %s",
			    when, crypto_tls_strerror(ret));
	}
}

/* Non-blocking connect to each address in turn, within the deadline. */
static int connect_to(struct tenant_tls *t, const char *host, const char *port,
		      char *err, size_t err_len)
{
	struct addrinfo hints, *res, *ai;
	int rc, last = 0;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return fail(TT_E_CONNECT, err, err_len, "cannot resolve %s:%s: %s",
			    host, port, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
				ai->ai_protocol);
		int flags, soerr = 0;
		socklen_t sl = sizeof(soerr);

		if (fd < 0) {
			last = errno;
			continue;
		}
		flags = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, flags | O_NONBLOCK);
		rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
		if (rc != 0 && errno == EINPROGRESS) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			uint32_t ms = ms_left(t);

			rc = ms ? poll(&p, 1, (int)ms) : 0;
			if (rc == 0) {
				close(fd);
				freeaddrinfo(res);
				return fail(TT_E_TIMEOUT, err, err_len,
					    "timed out connecting to %s:%s", host, port);
			}
			if (rc < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
				soerr = errno;
			rc = soerr ? -1 : 0;
			errno = soerr;
		}
		if (rc == 0) {
			fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
			t->net.fd = fd;
			freeaddrinfo(res);
			return TT_OK;
		}
		last = errno;
		close(fd);
	}
	freeaddrinfo(res);
	return fail(TT_E_CONNECT, err, err_len, "cannot connect to %s:%s: %s",
		    host, port, strerror(last));
}

/* Why mbedTLS could not read a private key, in words. */
static const char *key_error_words(int ret)
{
	switch (ret) {
	case MBEDTLS_ERR_PK_PASSWORD_REQUIRED:
	case MBEDTLS_ERR_PK_PASSWORD_MISMATCH:
		return "is encrypted with a password, which is not supported (keep it unencrypted, mode 0600)";
	case MBEDTLS_ERR_PK_FILE_IO_ERROR:
		return "cannot be read";
	case MBEDTLS_ERR_PK_UNKNOWN_PK_ALG:
	case MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE:
	case MBEDTLS_ERR_PK_FEATURE_UNAVAILABLE:
		return "is a kind of key this tool does not take (a tenant key is ECDSA P-384)";
	case MBEDTLS_ERR_PK_ALLOC_FAILED:
		return "cannot be read: out of memory";
	default:
		return "is not a private key in PEM or DER form";
	}
}

static int load_credentials(struct tenant_tls *t, const struct tenant_tls_opts *o,
			    char *err, size_t err_len)
{
	char perr[PKI_ERR_LEN];
	uint8_t *der;
	size_t len;
	int ret;

	if (pki_cert_read(o->cert_path, &der, &len, perr, sizeof(perr)) != CRYPTO_OK)
		return fail(TT_E_LOCAL, err, err_len, "certificate '%s': %s",
			    o->cert_path, perr);
	ret = mbedtls_x509_crt_parse_der(&t->own_cert, der, len);
	free(der);
	if (ret != 0) {
		debug_mbedtls(ret, "parsing the tenant certificate");
		return fail(TT_E_LOCAL, err, err_len,
			    "certificate '%s' is not an X.509 certificate",
			    o->cert_path);
	}
	if (pki_cert_read(o->ca_path, &der, &len, perr, sizeof(perr)) != CRYPTO_OK)
		return fail(TT_E_LOCAL, err, err_len, "CA root '%s': %s",
			    o->ca_path, perr);
	ret = mbedtls_x509_crt_parse_der(&t->ca, der, len);
	free(der);
	if (ret != 0)
		return fail(TT_E_LOCAL, err, err_len, "CA root '%s' does not parse",
			    o->ca_path);
	if (access(o->key_path, R_OK) != 0)
		return fail(TT_E_LOCAL, err, err_len, "cannot read key '%s': %s",
			    o->key_path, strerror(errno));
	/* mbedTLS's messages for key files never quote key material. */
	ret = mbedtls_pk_parse_keyfile(&t->own_key, o->key_path, NULL);
	if (ret != 0) {
		debug_mbedtls(ret, "parsing the tenant key");
		return fail(TT_E_LOCAL, err, err_len, "key '%s' %s", o->key_path,
			    key_error_words(ret));
	}
	if (mbedtls_pk_check_pair(&t->own_cert.pk, &t->own_key) != 0)
		return fail(TT_E_LOCAL, err, err_len,
			    "key '%s' does not belong to certificate '%s'",
			    o->key_path, o->cert_path);
	if (mbedtls_ssl_conf_own_cert(&t->conf, &t->own_cert, &t->own_key) != 0)
		return fail(TT_E_LOCAL, err, err_len, "cannot use certificate '%s'",
			    o->cert_path);
	return TT_OK;
}

/*
 * The server refused our certificate while we were still sending our
 * flight: its alert may be waiting in the socket even though our write
 * failed. Look for one plaintext fatal alert record (the server has not
 * switched to encryption yet) for a short while; 0 if there is none.
 */
static unsigned pending_alert(struct tenant_tls *t)
{
	uint8_t rec[7];
	struct pollfd p = { .fd = t->net.fd, .events = POLLIN };
	uint32_t ms = ms_left(t);
	ssize_t n;

	if (t->net.fd < 0 || poll(&p, 1, ms < 500 ? (int)ms : 500) <= 0)
		return 0;
	n = recv(t->net.fd, rec, sizeof(rec), MSG_DONTWAIT);
	if (n == (ssize_t)sizeof(rec) && rec[0] == MBEDTLS_SSL_MSG_ALERT &&
	    rec[1] == 3 && rec[3] == 0 && rec[4] == 2 &&
	    rec[5] == MBEDTLS_SSL_ALERT_LEVEL_FATAL)
		return rec[6];
	return 0;
}

static int handshake(struct tenant_tls *t, char *err, size_t err_len)
{
	bool ems_checked = false;

	while (t->ssl.state != MBEDTLS_SSL_HANDSHAKE_OVER) {
		int ret = arm(t, err, err_len);

		if (ret != TT_OK)
			return fail(ret, err, err_len, "timed out in the TLS handshake");
		ret = mbedtls_ssl_handshake_step(&t->ssl);
		if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
		    ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (ret == MBEDTLS_ERR_NET_SEND_FAILED ||
		    ret == MBEDTLS_ERR_NET_CONN_RESET) {
			unsigned alert = pending_alert(t);

			if (alert)
				return classify_alert(alert, "in the TLS handshake",
						      err, err_len);
		}
		if (ret != 0)
			return classify(t, ret, "in the TLS handshake", err, err_len);
		/* Right after the ServerHello: did it agree to the extended
		 * master secret (RFC 7627)? */
		if (!ems_checked && t->ssl.state == MBEDTLS_SSL_SERVER_CERTIFICATE &&
		    t->ssl.handshake) {
			if (t->ssl.handshake->extended_ms != MBEDTLS_SSL_EXTENDED_MS_ENABLED)
				return fail(TT_E_INTEGRITY, err, err_len,
					    "the server did not agree to the extended master secret (RFC 7627), which the Custos TLS profile requires");
			ems_checked = true;
		}
	}
	if (!ems_checked)
		return fail(TT_E_INTEGRITY, err, err_len,
			    "TLS handshake ended without a ServerHello check");
	t->handshake_done = true;
	return TT_OK;
}

static int open_session(struct tenant_tls *t, const struct tenant_tls_opts *o,
			char *err, size_t err_len)
{
	int rc;

	if (crypto_init() != CRYPTO_OK)
		return fail(TT_E_LOCAL, err, err_len,
			    "cannot initialise the random generator");
	if (crypto_tls_config(&t->conf, MBEDTLS_SSL_IS_CLIENT) != CRYPTO_OK)
		return fail(TT_E_LOCAL, err, err_len, "cannot configure TLS");
	/* Self-signed server certificate: the report binds it, not a chain. */
	mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_OPTIONAL);
	rc = load_credentials(t, o, err, err_len);
	if (rc != TT_OK)
		return rc;
	mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
	if (mbedtls_ssl_setup(&t->ssl, &t->conf) != 0)
		return fail(TT_E_LOCAL, err, err_len, "cannot set up TLS");
	t->msg_buf = malloc(PROTO_HDR_LEN + PROTO_MAX_BODY);
	if (!t->msg_buf)
		return fail(TT_E_LOCAL, err, err_len, "out of memory");
	proto_reader_init(&t->reader, t->msg_buf, PROTO_HDR_LEN + PROTO_MAX_BODY);
	rc = connect_to(t, o->host, o->port, err, err_len);
	if (rc != TT_OK)
		return rc;
	snprintf(t->peer, sizeof(t->peer), "%s:%s", o->host, o->port);
	mbedtls_ssl_set_bio(&t->ssl, t, net_send, NULL, net_recv_timeout);
	return handshake(t, err, err_len);
}

struct tenant_tls *tenant_tls_open(const struct tenant_tls_opts *o,
				   enum tenant_tls_status *status, char *err,
				   size_t err_len)
{
	struct tenant_tls *t = calloc(1, sizeof(*t));
	int rc;

	if (!t) {
		*status = (enum tenant_tls_status)fail(TT_E_LOCAL, err, err_len,
						       "out of memory");
		return NULL;
	}
	t->deadline = now() + o->timeout;
	/* A peer that hangs up must give an error, not kill us mid-write. */
	signal(SIGPIPE, SIG_IGN);
	mbedtls_net_init(&t->net);
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_ssl_init(&t->ssl);
	mbedtls_x509_crt_init(&t->own_cert);
	mbedtls_x509_crt_init(&t->ca);
	mbedtls_pk_init(&t->own_key);
	rc = open_session(t, o, err, err_len);
	*status = (enum tenant_tls_status)rc;
	if (rc != TT_OK) {
		tenant_tls_close(t);
		return NULL;
	}
	return t;
}

int tenant_tls_peer_pub(struct tenant_tls *t, uint8_t pub[CRYPTO_P384_PUB_LEN],
			char *err, size_t err_len)
{
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);

	if (!peer)
		return fail(TT_E_INTEGRITY, err, err_len,
			    "the server presented no certificate");
	if (crypto_tls_cert_pub(peer, pub) != CRYPTO_OK)
		return fail(TT_E_INTEGRITY, err, err_len,
			    "the server's certificate does not hold a P-384 key");
	return TT_OK;
}

int tenant_tls_send(struct tenant_tls *t, uint16_t type, const void *body,
		    size_t len, char *err, size_t err_len)
{
	uint8_t *msg = malloc(PROTO_HDR_LEN + len);
	size_t n, off = 0;
	int rc = TT_OK;

	if (!msg)
		return fail(TT_E_LOCAL, err, err_len, "out of memory");
	n = proto_encode(type, body, len, msg, PROTO_HDR_LEN + len);
	if (n == 0) {
		free(msg);
		return fail(TT_E_LOCAL, err, err_len,
			    "internal error: message type %u with %zu bytes does not encode",
			    type, len);
	}
	while (off < n && rc == TT_OK) {
		int ret;

		rc = arm(t, err, err_len);
		if (rc != TT_OK)
			break;
		ret = mbedtls_ssl_write(&t->ssl, msg + off, n - off);
		if (ret > 0)
			off += (size_t)ret;
		else if (ret != MBEDTLS_ERR_SSL_WANT_READ &&
			 ret != MBEDTLS_ERR_SSL_WANT_WRITE)
			rc = classify(t, ret, "while sending", err, err_len);
	}
	crypto_wipe(msg, PROTO_HDR_LEN + len); /* VM_CREATE carries secrets */
	free(msg);
	if (rc == TT_E_TIMEOUT)
		fail(rc, err, err_len, "timed out while sending");
	return rc;
}

int tenant_tls_recv(struct tenant_tls *t, struct proto_msg *msg, char *err,
		    size_t err_len)
{
	char perr[160];

	for (;;) {
		int ret;

		if (t->chunk_pos < t->chunk_len) {
			size_t used = 0;
			enum proto_read_status s = proto_reader_feed(
				&t->reader, t->chunk + t->chunk_pos,
				t->chunk_len - t->chunk_pos, &used, msg, perr,
				sizeof(perr));

			t->chunk_pos += used;
			if (s == PROTO_READ_MSG && msg->type == PROTO_WAIT)
				continue; /* still at work on it: read on */
			if (s == PROTO_READ_MSG)
				return TT_OK;
			if (s == PROTO_READ_ERROR)
				return fail(TT_E_PROTOCOL, err, err_len,
					    "malformed message from the platform: %s",
					    perr);
			/* All taken, need more; the reader has its own copy. */
			crypto_wipe(t->chunk, t->chunk_len);
			t->chunk_pos = t->chunk_len;
			continue;
		}
		ret = arm(t, err, err_len);
		if (ret != TT_OK)
			return fail(ret, err, err_len,
				    "timed out waiting for the platform's answer");
		ret = crypto_tls_read(&t->ssl, t->chunk, sizeof(t->chunk));
		if (ret == MBEDTLS_ERR_SSL_WANT_READ ||
		    ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (ret == MBEDTLS_ERR_SSL_TIMEOUT)
			return fail(TT_E_TIMEOUT, err, err_len,
				    "timed out waiting for the platform's answer");
		if (ret <= 0)
			return classify(t, ret, "while waiting for the platform's answer",
					err, err_len);
		t->chunk_pos = 0;
		t->chunk_len = (size_t)ret;
	}
}

void tenant_tls_set_timeout(struct tenant_tls *t, double seconds)
{
	t->deadline = now() + seconds;
}

void tenant_tls_close(struct tenant_tls *t)
{
	if (!t)
		return;
	if (t->handshake_done && t->net.fd >= 0) {
		/* Best effort, and bounded: one second at most. */
		double d = now() + 1;

		if (d < t->deadline)
			t->deadline = d;
		if (arm(t, NULL, 0) == TT_OK)
			mbedtls_ssl_close_notify(&t->ssl);
	}
	mbedtls_ssl_free(&t->ssl);
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_x509_crt_free(&t->own_cert);
	mbedtls_x509_crt_free(&t->ca);
	mbedtls_pk_free(&t->own_key);
	mbedtls_net_free(&t->net);
	free(t->msg_buf);
	crypto_wipe(t->chunk, sizeof(t->chunk));
	free(t);
}

const char *tenant_tls_strstatus(int status)
{
	switch (status) {
	case TT_OK: return "ok";
	case TT_E_LOCAL: return "local error";
	case TT_E_CONNECT: return "cannot connect";
	case TT_E_TIMEOUT: return "timed out";
	case TT_E_CLOSED: return "connection closed";
	case TT_E_REFUSED: return "refused by the platform";
	case TT_E_INTEGRITY: return "TLS integrity failure";
	case TT_E_NOT_TLS: return "not a Custos relay (not TLS)";
	case TT_E_PROTOCOL: return "malformed message";
	default: return "unknown";
	}
}
