/*
 * custos-relay: carries tenant TCP connections to the TPGVM over its one
 * serial byte stream, one framed session per connection (docs/relay.md).
 *
 * The relay is untrusted by design: TLS runs end to end between tenant and
 * TPGVM inside the frames, so the relay sees only ciphertext and logs only
 * session events, never payload bytes. Its own duty is availability: a
 * single poll loop over non-blocking sockets, a bounded output buffer per
 * session (a tenant that does not read is closed when its buffer
 * overflows, the relay and the other sessions carry on), and backpressure
 * on tenant reads while the serial link is backed up.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tcb/byteorder.h"
#include "tools/cli.h"
#include <custos/frame.h>

#define MAX_SESSIONS_LIMIT   16u
#define MAX_SESSIONS_DEFAULT 8u
#define SESSION_OUT_MAX      (64u * 1024u)  /* TPGVM -> one tenant, queued */
#define LINK_OUT_MAX         (128u * 1024u) /* relay -> TPGVM, queued */
/* Above LINK_OUT_MAX, room for the OPEN and CLOSE frames that come between
 * two checks of link_has_room (a few per session). */
#define LINK_CONTROL_RESERVE (4u * MAX_SESSIONS_LIMIT * FRAME_HDR_LEN)
#define LINK_READ_CHUNK      16384u
#define RESYNC_QUIET_MS      500  /* a frame cut short: see frame_decoder_resync */
#define RECONNECT_MS         1000
/* A tenant session that carries nothing either way for this long is
 * closed (--idle-timeout). A tenant waits silently for the answer to a
 * stop or start, whose blob can take far longer through storage over the
 * TPGVM's serial line; the TPGVM sends it a PROTO_WAIT note every minute
 * meanwhile (docs/protocol.md), which keeps the session. */
#define IDLE_TIMEOUT_DEFAULT 1800u
#define IDLE_TIMEOUT_MAX     86400u
/* Storage (docs/relay.md, "Storage"). */
#define STORE_NAME_MAX       64u
#define STORE_DATA_MAX       900u
#define STORE_HDR_LEN        6u  /* op, name_len, then offset after the name */
#define STORED_HDR_LEN       5u  /* status, total */
enum store_op { ST_PUT = 1, ST_COMMIT = 2, ST_GET = 3, ST_DELETE = 4 };
enum store_status { ST_OK = 0, ST_NONE = 1, ST_IO = 2, ST_BAD = 3 };

static const char usage_text[] =
	"usage: custos-relay --listen [ADDR:]PORT (--tpgvm HOST:PORT | --tpgvm-listen [ADDR:]PORT)\n"
	"                    [--max-sessions N] [--idle-timeout SECONDS] [--storage DIR]\n"
	"\n"
	"Carries each tenant TCP connection accepted on --listen as one session\n"
	"over the TPGVM's serial stream (docs/relay.md). The serial stream is\n"
	"reached either by connecting to it (--tpgvm, e.g. an emulator's\n"
	"socket-server COM2) or by accepting one connection (--tpgvm-listen, for\n"
	"an emulator's socket-client COM2, which needs a listener before it\n"
	"starts). ADDR defaults to 127.0.0.1: only a name or address given\n"
	"explicitly makes the relay reachable from elsewhere.\n"
	"  --max-sessions N   concurrent tenant sessions, 1..16 (default 8)\n"
	"  --idle-timeout S   close a tenant session that carried nothing either way\n"
	"                     for S seconds (0..86400, default 1800; 0: never); the\n"
	"                     TPGVM is told\n"
	"  --storage DIR      keep the TPGVM's sealed blobs as files in DIR (created\n"
	"                     0700 if missing); without it every STORE is refused\n"
	"  --json             the log as JSON Lines on stderr ({\"time\": ..., \"message\":\n"
	"                     ...}); a usage or start-up failure as the tools' JSON\n"
	"                     failure object on stdout\n"
	"One line per session event on stderr, never payload bytes. SIGTERM or\n"
	"SIGINT ends it cleanly. Exit status: 0 after a signal, 1 on failure,\n"
	"2 on a usage error. 'custos-relay --version' prints the version.\n";

/* A fixed-capacity byte queue; sent bytes leave from the front. */
struct queue {
	uint8_t *p;
	size_t len, cap;
};

struct session {
	int fd;         /* -1: slot free */
	uint16_t sid;
	bool closing;   /* the TPGVM closed it: flush, then close */
	int64_t last_rx_ms; /* the session's last bytes either way (or its connect) */
	char peer[64];
	struct queue out;
};

struct relay {
	int listen_fd;
	int link_listen_fd;    /* --tpgvm-listen, else -1 */
	int link_fd;           /* -1 while the link is down */
	const char *link_host; /* --tpgvm */
	const char *link_port;
	bool link_warned;      /* a failed connect logged once, not per retry */
	int64_t reconnect_at;
	int64_t last_rx;
	struct frame_decoder dec;
	struct queue link_out;
	struct session *sess;
	unsigned max_sessions;
	int64_t idle_ms;       /* --idle-timeout; 0: never */
	uint16_t next_sid;
	int storage_fd;        /* --storage DIR, else -1 */
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* One line on stderr. Only relay events: ids, counts, peer addresses. */
/* --json: the log as JSON Lines, {"time": seconds since the epoch,
 * "message": ...}, for a log collector. */
static bool json_log;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;
	char line[512];
	struct timespec ts;

	va_start(ap, fmt);
	if (!json_log) {
		fputs("custos-relay: ", stderr);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
		return;
	}
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(stderr, "{\"time\": %lld.%03ld, \"message\": \"", (long long)ts.tv_sec,
		ts.tv_nsec / 1000000);
	for (const char *c = line; *c; c++) {
		unsigned char b = (unsigned char)*c;

		if (b == '"' || b == '\\')
			fprintf(stderr, "\\%c", b);
		else if (b < 0x20 || b >= 0x7f)
			fprintf(stderr, "\\u%04x", b);
		else
			fputc(b, stderr);
	}
	fputs("\"}\n", stderr);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- Queues ---------------------------------------------------------------- */

static void queue_init(struct queue *q, size_t cap)
{
	q->p = malloc(cap);
	if (!q->p)
		cli_die("out of memory");
	q->len = 0;
	q->cap = cap;
}

static bool queue_put(struct queue *q, const void *data, size_t len)
{
	if (len > q->cap - q->len)
		return false;
	memcpy(q->p + q->len, data, len);
	q->len += len;
	return true;
}

/* Send what the socket takes now: 0, or -1 when the peer is gone. */
static int queue_flush(struct queue *q, int fd)
{
	while (q->len) {
		ssize_t n = send(fd, q->p, q->len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0)
			return (errno == EAGAIN || errno == EWOULDBLOCK ||
				errno == EINTR) ? 0 : -1;
		memmove(q->p, q->p + n, q->len - (size_t)n);
		q->len -= (size_t)n;
	}
	return 0;
}

/* ---- Link (serial stream to the TPGVM) ----------------------------------- */

/* Queue one frame to the TPGVM. Tenants are read and accepted only while
 * link_has_room(), so a refusal here means the TPGVM stopped reading
 * altogether: drop the link rather than a frame. */
static void link_down(struct relay *r, const char *why);

static void link_send(struct relay *r, uint8_t type, uint16_t sid,
		      const void *payload, size_t len)
{
	uint8_t f[FRAME_MAX_LEN];
	size_t n;

	if (r->link_fd < 0)
		return;
	n = frame_encode(type, sid, payload, len, f, sizeof(f));
	if (!n || !queue_put(&r->link_out, f, n))
		link_down(r, "tpgvm not reading");
}

static bool link_has_room(const struct relay *r)
{
	return r->link_fd >= 0 && r->link_out.len + FRAME_MAX_LEN <= LINK_OUT_MAX;
}

/* ---- Sessions ------------------------------------------------------------ */

static struct session *session_find(struct relay *r, uint16_t sid)
{
	for (unsigned i = 0; i < r->max_sessions; i++)
		if (r->sess[i].fd >= 0 && r->sess[i].sid == sid)
			return &r->sess[i];
	return NULL;
}

static unsigned session_count(const struct relay *r)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->max_sessions; i++)
		n += r->sess[i].fd >= 0;
	return n;
}

/* End a session; tell the TPGVM unless it ended it itself. */
static void session_end(struct relay *r, struct session *s, const char *why,
			bool tell_tpgvm)
{
	/* Free the slot first: a CLOSE that finds the link jammed takes the
	 * link down, which ends every session still open. */
	close(s->fd);
	s->fd = -1;
	s->closing = false;
	s->out.len = 0;
	logf_("session %u closed: %s", s->sid, why);
	if (tell_tpgvm)
		link_send(r, FRAME_CLOSE, s->sid, NULL, 0);
}

static void drop_all_sessions(struct relay *r, const char *why)
{
	unsigned n = session_count(r);

	if (n)
		logf_("dropping %u session%s: %s", n, n == 1 ? "" : "s", why);
	for (unsigned i = 0; i < r->max_sessions; i++)
		if (r->sess[i].fd >= 0)
			session_end(r, &r->sess[i], why, false);
}

/* A session id not in use: counting up (wrapping, never 0) so that a late
 * frame for a closed session is unlikely to meet its successor. */
static uint16_t session_new_sid(struct relay *r)
{
	for (;;) {
		uint16_t sid = r->next_sid++;

		if (r->next_sid == 0)
			r->next_sid = 1;
		if (sid && !session_find(r, sid))
			return sid;
	}
}

static void peer_name(int fd, char *out, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), serv,
			sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(out, len, "?");
	else
		snprintf(out, len, "%s:%s", host, serv);
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		cli_die("cannot make a socket non-blocking: %s", strerror(errno));
}

static void tenant_accept(struct relay *r)
{
	struct session *s = NULL;
	char peer[64];
	int fd = accept4(r->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return; /* gone already, or out of descriptors: try next time */
	peer_name(fd, peer, sizeof(peer));
	for (unsigned i = 0; i < r->max_sessions && !s; i++)
		if (r->sess[i].fd < 0)
			s = &r->sess[i];
	if (r->link_fd < 0 || !s || !link_has_room(r)) {
		logf_("tenant %s refused: %s", peer,
		      r->link_fd < 0 ? "no tpgvm link" :
		      !s ? "all sessions in use" : "tpgvm link backed up");
		close(fd);
		return;
	}
	s->fd = fd;
	s->sid = session_new_sid(r);
	s->closing = false;
	s->out.len = 0;
	s->last_rx_ms = now_ms();
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	logf_("session %u open: tenant %s", s->sid, s->peer);
	link_send(r, FRAME_OPEN, s->sid, NULL, 0);
}

/* Tenant bytes, at most one frame's worth per poll round: fair to the
 * other tenants, and the link queue was checked to have room for it. */
static void tenant_read(struct relay *r, struct session *s)
{
	uint8_t buf[FRAME_MAX_PAYLOAD];
	ssize_t n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n > 0) {
		s->last_rx_ms = now_ms();
		link_send(r, FRAME_DATA, s->sid, buf, (size_t)n);
	} else if (n == 0)
		session_end(r, s, "by tenant", true);
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		session_end(r, s, "tenant connection error", true);
}

static void tenant_write(struct relay *r, struct session *s)
{
	if (queue_flush(&s->out, s->fd) < 0)
		session_end(r, s, "tenant connection error", !s->closing);
	else if (s->closing && !s->out.len)
		session_end(r, s, "by tpgvm", false);
}

/* ---- Storage of sealed blobs (docs/relay.md, "Storage") ------------------ */

/*
 * The TPGVM's blobs are ciphertext the TCB authenticates, so the relay only
 * has to keep them whole and in their place: names are checked against the
 * rules (no path can be formed), every file is opened relative to DIR with
 * O_NOFOLLOW (a symlink planted in DIR leads nowhere) and must be a regular
 * file, and a new version replaces the old one by rename only after it is
 * complete and on disk, so a reader sees the old blob or the new one, never
 * a mix. File I/O is blocking: local files, at most 900 bytes a request.
 */
struct store_req {
	uint8_t op;
	char name[STORE_NAME_MAX + 1];
	char part[STORE_NAME_MAX + 6]; /* name + ".part" */
	uint32_t offset;
	const uint8_t *data;
	size_t len;
};

/* 1..64 bytes of [A-Za-z0-9._-], not starting with '.', and not ending in
 * ".part" (the relay's own suffix for a blob being written). */
static bool store_name_ok(const uint8_t *p, size_t n)
{
	if (n < 1 || n > STORE_NAME_MAX || p[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			return false;
	}
	return !(n >= 5 && memcmp(p + n - 5, ".part", 5) == 0);
}

static bool store_parse(const uint8_t *p, size_t n, struct store_req *q)
{
	size_t nl;

	if (n < STORE_HDR_LEN)
		return false;
	q->op = p[0];
	nl = p[1];
	if (n < STORE_HDR_LEN + nl || !store_name_ok(p + 2, nl))
		return false;
	memcpy(q->name, p + 2, nl);
	q->name[nl] = '\0';
	snprintf(q->part, sizeof(q->part), "%s.part", q->name);
	q->offset = load_le32(p + 2 + nl);
	q->data = p + STORE_HDR_LEN + nl;
	q->len = n - STORE_HDR_LEN - nl;
	if (q->op == ST_PUT)
		return q->len <= STORE_DATA_MAX;
	return q->op >= ST_COMMIT && q->op <= ST_DELETE && q->len == 0;
}

/* A regular file in DIR, never through a symlink; O_NONBLOCK so that a
 * FIFO planted there cannot hang the relay. -1 with errno. */
static int store_open(const struct relay *r, const char *name, int flags)
{
	struct stat st;
	int fd = openat(r->storage_fd, name,
			flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EIO;
		return -1;
	}
	return fd;
}

static uint8_t store_errno(void)
{
	return errno == ENOENT ? ST_NONE : errno == ELOOP ? ST_BAD : ST_IO;
}

/* A PUT beyond the part file's end leaves a gap that a later PUT fills:
 * the PUT before it was lost on the line, and the TPGVM sends it again
 * once this one's answer shows the gap (docs/relay.md, "Storage"). The
 * TPGVM COMMITs only when every PUT is answered, and the TCB's tag covers
 * every byte, so a gap never becomes a blob that is taken. */
static uint8_t store_put(const struct relay *r, const struct store_req *q)
{
	struct stat st;
	int fd = store_open(r, q->part, O_WRONLY | (q->offset ? 0 : O_CREAT | O_TRUNC));
	uint8_t status = ST_OK;

	if (fd < 0)
		return store_errno();
	if (fstat(fd, &st) != 0)
		status = ST_IO;
	else if ((uint64_t)q->offset + q->len > UINT32_MAX)
		status = ST_BAD; /* beyond what a u32 total says */
	else if (q->len && pwrite(fd, q->data, q->len, q->offset) != (ssize_t)q->len)
		status = ST_IO;
	close(fd);
	return status;
}

static uint8_t store_commit(const struct relay *r, const struct store_req *q)
{
	struct stat st;
	int fd = store_open(r, q->part, O_RDONLY);
	uint8_t status = ST_OK;

	if (fd < 0)
		return store_errno();
	if (fstat(fd, &st) != 0)
		status = ST_IO;
	else if ((uint64_t)st.st_size != q->offset)
		status = ST_BAD;
	else if (fsync(fd) != 0)
		status = ST_IO;
	close(fd);
	if (status != ST_OK)
		return status;
	/* The rename replaces the old blob atomically; the directory's fsync
	 * makes the new name durable. */
	if (renameat(r->storage_fd, q->part, r->storage_fd, q->name) != 0)
		return ST_IO;
	if (fsync(r->storage_fd) != 0)
		return ST_IO;
	logf_("storage: committed %s (%u bytes)", q->name, q->offset);
	return ST_OK;
}

static uint8_t store_get(const struct relay *r, const struct store_req *q,
			 uint32_t *total, uint8_t *out, size_t *out_len)
{
	struct stat st;
	int fd = store_open(r, q->name, O_RDONLY);
	uint8_t status = ST_OK;
	ssize_t n = 0;

	if (fd < 0)
		return store_errno();
	if (fstat(fd, &st) != 0)
		status = ST_IO;
	else if ((uint64_t)st.st_size > UINT32_MAX)
		status = ST_IO;
	else if (q->offset > (uint64_t)st.st_size)
		status = ST_BAD;
	else if ((n = pread(fd, out, STORE_DATA_MAX, q->offset)) < 0)
		status = ST_IO;
	close(fd);
	if (status != ST_OK)
		return status;
	*total = (uint32_t)st.st_size;
	*out_len = (size_t)n;
	if (q->offset == 0)
		logf_("storage: reading %s (%u bytes)", q->name, *total);
	return ST_OK;
}

static uint8_t store_delete(const struct relay *r, const struct store_req *q)
{
	bool gone = unlinkat(r->storage_fd, q->name, 0) == 0;
	int err = gone ? 0 : errno;

	if (unlinkat(r->storage_fd, q->part, 0) != 0 && errno != ENOENT)
		return ST_IO;
	if (!gone && err != ENOENT)
		return ST_IO;
	logf_("storage: deleted %s%s", q->name, gone ? "" : " (there was none)");
	return gone ? ST_OK : ST_NONE;
}

/* One STORE in, exactly one STORED out, with the same request id. */
static void on_store(struct relay *r, const struct frame *f)
{
	uint8_t reply[STORED_HDR_LEN + STORE_DATA_MAX];
	struct store_req q;
	uint32_t total = 0;
	size_t len = 0;
	uint8_t status;

	if (r->storage_fd < 0 || !store_parse(f->payload, f->len, &q))
		status = ST_BAD;
	else if (q.op == ST_PUT)
		status = store_put(r, &q);
	else if (q.op == ST_COMMIT)
		status = store_commit(r, &q);
	else if (q.op == ST_GET)
		status = store_get(r, &q, &total, reply + STORED_HDR_LEN, &len);
	else
		status = store_delete(r, &q);
	if (status == ST_BAD)
		logf_("storage: request %u refused (%s)", f->sid,
		      r->storage_fd < 0 ? "no --storage" : "bad request");
	if (status != ST_OK) {
		total = 0;
		len = 0;
	}
	reply[0] = status;
	for (int i = 0; i < 4; i++)
		reply[1 + i] = (uint8_t)(total >> (8 * i));
	link_send(r, FRAME_STORED, f->sid, reply, STORED_HDR_LEN + len);
}

/* ---- Frames from the TPGVM ------------------------------------------------ */

static void on_frame(void *ctx, const struct frame *f)
{
	struct relay *r = ctx;
	struct session *s;

	if (f->type == FRAME_HELLO) {
		logf_("tpgvm hello (it restarted)");
		drop_all_sessions(r, "tpgvm restarted");
		return;
	}
	if (f->type == FRAME_STORE) {
		on_store(r, f);
		return;
	}
	s = session_find(r, f->sid);
	if (!s || s->closing)
		return; /* closed here already, or never ours: nothing to do */
	if (f->type == FRAME_DATA)
		s->last_rx_ms = now_ms(); /* the TPGVM is at work for it */
	if (f->type == FRAME_DATA && !queue_put(&s->out, f->payload, f->len)) {
		session_end(r, s, "tenant not reading (output buffer full)", true);
	} else if (f->type == FRAME_CLOSE) {
		s->closing = true;
		if (!s->out.len)
			session_end(r, s, "by tpgvm", false);
	}
	/* OPEN or STORED from the TPGVM mean nothing: ignored. */
}

/* ---- Link up and down ------------------------------------------------------ */

static void link_up(struct relay *r, int fd, const char *how)
{
	char peer[64];
	int one = 1;

	r->link_fd = fd;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	frame_decoder_init(&r->dec);
	r->link_out.len = 0;
	r->last_rx = now_ms();
	r->link_warned = false;
	peer_name(fd, peer, sizeof(peer));
	logf_("tpgvm link up (%s %s)", how, peer);
	/* The TPGVM may hold sessions from before this link: end them. */
	link_send(r, FRAME_HELLO, 0, NULL, 0);
}

static void link_down(struct relay *r, const char *why)
{
	if (r->link_fd < 0)
		return;
	close(r->link_fd);
	r->link_fd = -1;
	logf_("tpgvm link down: %s", why);
	drop_all_sessions(r, "tpgvm link down");
	r->reconnect_at = now_ms() + RECONNECT_MS;
}

static void link_read(struct relay *r)
{
	uint8_t buf[LINK_READ_CHUNK];
	ssize_t n = recv(r->link_fd, buf, sizeof(buf), MSG_DONTWAIT);

	if (n > 0) {
		r->last_rx = now_ms();
		frame_decoder_feed(&r->dec, buf, (size_t)n, on_frame, r);
	} else if (n == 0) {
		link_down(r, "closed by the other end");
	} else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
		link_down(r, strerror(errno));
	}
}

/* Blocking connect: the serial socket is local (an emulator), and a
 * failure is retried every RECONNECT_MS. */
static void link_connect(struct relay *r)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, rc, err = 0;

	r->reconnect_at = now_ms() + RECONNECT_MS;
	rc = getaddrinfo(r->link_host, r->link_port, &hints, &res);
	if (rc != 0) {
		if (!r->link_warned)
			logf_("tpgvm %s:%s: %s (retrying)", r->link_host,
			      r->link_port, gai_strerror(rc));
		r->link_warned = true;
		return;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			err = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0) {
		if (!r->link_warned)
			logf_("tpgvm %s:%s: %s (retrying)", r->link_host,
			      r->link_port, strerror(err));
		r->link_warned = true;
		return;
	}
	set_nonblock(fd);
	link_up(r, fd, "connected to");
}

/* One serial stream at a time: a second connection is refused, so that a
 * stray client cannot cut the TPGVM's sessions. */
static void link_accept(struct relay *r)
{
	int fd = accept4(r->link_listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	char peer[64];

	if (fd < 0)
		return;
	if (r->link_fd >= 0) {
		peer_name(fd, peer, sizeof(peer));
		logf_("second tpgvm connection from %s refused", peer);
		close(fd);
		return;
	}
	link_up(r, fd, "accepted from");
}

/* ---- Poll loop ------------------------------------------------------------ */

enum { PFD_LISTEN, PFD_LINK_LISTEN, PFD_LINK, PFD_SESS };

/* When the next tenant of an --idle-timeout falls due; -1: none. */
static int64_t idle_due(const struct relay *r)
{
	int64_t at = -1;

	for (unsigned i = 0; r->idle_ms && i < r->max_sessions; i++) {
		const struct session *s = &r->sess[i];
		int64_t due = s->last_rx_ms + r->idle_ms;

		if (s->fd >= 0 && (at < 0 || due < at))
			at = due;
	}
	return at;
}

static int poll_timeout(const struct relay *r)
{
	int64_t now = now_ms(), at = -1, idle = idle_due(r);

	if (r->link_fd >= 0 && r->dec.have)
		at = r->last_rx + RESYNC_QUIET_MS;
	else if (r->link_fd < 0 && r->link_host)
		at = r->reconnect_at;
	if (idle >= 0 && (at < 0 || idle < at))
		at = idle;
	if (at < 0)
		return -1;
	return at <= now ? 0 : (int)(at - now);
}

/* Close tenants that sent nothing for --idle-timeout, telling the TPGVM
 * unless it closed them itself (and they do not read what is left). While
 * the link is backed up the relay reads no tenant, so that time does not
 * count: their bytes may be waiting in the socket. */
static void close_idle_tenants(struct relay *r)
{
	int64_t now = now_ms();
	bool reading = link_has_room(r);
	char why[64];

	if (!r->idle_ms)
		return;
	snprintf(why, sizeof(why), "idle (nothing sent for %lld s)",
		 (long long)(r->idle_ms / 1000));
	for (unsigned i = 0; i < r->max_sessions; i++) {
		struct session *s = &r->sess[i];

		if (s->fd < 0)
			continue;
		if (!reading && !s->closing)
			s->last_rx_ms = now;
		else if (now - s->last_rx_ms >= r->idle_ms)
			session_end(r, s, why, !s->closing);
	}
}

static void timers(struct relay *r)
{
	int64_t now = now_ms();

	if (r->link_fd < 0 && r->link_host && now >= r->reconnect_at)
		link_connect(r);
	if (r->link_fd >= 0 && r->dec.have && now - r->last_rx >= RESYNC_QUIET_MS) {
		frame_decoder_resync(&r->dec, on_frame, r);
		r->last_rx = now;
	}
	close_idle_tenants(r);
}

static void run(struct relay *r, const sigset_t *unblocked)
{
	struct pollfd pfd[PFD_SESS + MAX_SESSIONS_LIMIT];

	while (!stop_signal) {
		bool room = link_has_room(r);
		struct timespec ts, *tsp = NULL;
		int t = poll_timeout(r);

		pfd[PFD_LISTEN] = (struct pollfd){ r->listen_fd, POLLIN, 0 };
		pfd[PFD_LINK_LISTEN] = (struct pollfd){ r->link_listen_fd, POLLIN, 0 };
		pfd[PFD_LINK] = (struct pollfd){ r->link_fd,
			(short)(POLLIN | (r->link_out.len ? POLLOUT : 0)), 0 };
		for (unsigned i = 0; i < r->max_sessions; i++) {
			struct session *s = &r->sess[i];
			short ev = (short)((room && !s->closing ? POLLIN : 0) |
					   (s->out.len ? POLLOUT : 0));

			/* Not polled at all while there is nothing to do:
			 * a hung-up tenant would otherwise wake every round
			 * (POLLHUP is always reported) while the link is full. */
			pfd[PFD_SESS + i] = (struct pollfd){ ev ? s->fd : -1, ev, 0 };
		}
		if (t >= 0) {
			ts.tv_sec = t / 1000;
			ts.tv_nsec = (long)(t % 1000) * 1000000;
			tsp = &ts;
		}
		if (ppoll(pfd, PFD_SESS + r->max_sessions, tsp, unblocked) < 0) {
			if (errno == EINTR)
				continue;
			cli_die("poll: %s", strerror(errno));
		}
		if (pfd[PFD_LINK].revents & (POLLIN | POLLHUP | POLLERR))
			link_read(r);
		if (r->link_fd >= 0 && (pfd[PFD_LINK].revents & POLLOUT) &&
		    queue_flush(&r->link_out, r->link_fd) < 0)
			link_down(r, "write failed");
		for (unsigned i = 0; i < r->max_sessions; i++) {
			struct session *s = &r->sess[i];
			short ev = pfd[PFD_SESS + i].revents;

			/* The slot may have been ended (and even reused)
			 * by a frame above: act only on the same socket. */
			if (s->fd < 0 || s->fd != pfd[PFD_SESS + i].fd || !ev)
				continue;
			if (ev & POLLOUT || ((ev & (POLLHUP | POLLERR)) && s->out.len))
				tenant_write(r, s);
			if (s->fd >= 0 && ev & (POLLIN | POLLHUP | POLLERR) &&
			    link_has_room(r))
				tenant_read(r, s);
		}
		if (r->link_fd >= 0 && r->link_out.len &&
		    queue_flush(&r->link_out, r->link_fd) < 0)
			link_down(r, "write failed");
		if (pfd[PFD_LISTEN].revents & POLLIN)
			tenant_accept(r);
		if (r->link_listen_fd >= 0 && pfd[PFD_LINK_LISTEN].revents & POLLIN)
			link_accept(r);
		timers(r);
	}
}

/* ---- Arguments and setup ------------------------------------------------- */

/* "[ADDR:]PORT" (ADDR may be [v6]); ADDR defaults to loopback. */
static void split_endpoint(const char *opt, char *arg, bool need_host,
			   const char **host, const char **port)
{
	char *colon = strrchr(arg, ':');
	char *end;
	unsigned long p;

	*host = need_host ? NULL : "127.0.0.1";
	*port = arg;
	if (colon) {
		*colon = '\0';
		*host = arg;
		*port = colon + 1;
		if (**host == '[' && colon[-1] == ']') {
			colon[-1] = '\0';
			(*host)++;
		}
	}
	if (!*host || !**host)
		cli_usage_error("%s needs HOST:PORT", opt);
	errno = 0;
	p = strtoul(*port, &end, 10);
	if (!**port || *end || errno || p < 1 || p > 65535 || **port == '-' ||
	    **port == '+')
		cli_usage_error("%s: port must be a number from 1 to 65535, not '%s'",
				opt, *port);
}

static int listen_on(const char *opt, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE },
			*res;
	int fd, one = 1, rc = getaddrinfo(host, port, &hints, &res);

	if (rc != 0)
		cli_usage_error("%s: cannot resolve '%s': %s", opt, host, gai_strerror(rc));
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		cli_die("%s: socket: %s", opt, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) != 0 || listen(fd, 16) != 0)
		cli_die("%s: cannot listen on %s:%s: %s", opt, host, port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

/* A decimal number in [lo, hi], or a usage error naming the option. */
static unsigned parse_number(const char *opt, const char *s, unsigned lo,
			     unsigned hi)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (!*s || *end || errno || *s == '-' || *s == '+' || n < lo || n > hi)
		cli_usage_error("%s must be a number from %u to %u, not '%s'",
				opt, lo, hi, s);
	return (unsigned)n;
}

struct args {
	char *listen, *tpgvm, *tpgvm_listen, *storage;
	unsigned max_sessions;
	unsigned idle_timeout; /* seconds; 0: never */
};

static void parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "listen", required_argument, NULL, 'l' },
		{ "tpgvm", required_argument, NULL, 't' },
		{ "tpgvm-listen", required_argument, NULL, 'T' },
		{ "max-sessions", required_argument, NULL, 'm' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "storage", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	a->max_sessions = MAX_SESSIONS_DEFAULT;
	a->idle_timeout = IDLE_TIMEOUT_DEFAULT;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		char **slot = c == 'l' ? &a->listen : c == 't' ? &a->tpgvm :
			      c == 'T' ? &a->tpgvm_listen :
			      c == 's' ? &a->storage : NULL;

		if (slot && *slot)
			cli_usage_error("--%s given twice",
					c == 'l' ? "listen" : c == 't' ? "tpgvm" :
					c == 'T' ? "tpgvm-listen" : "storage");
		if (slot)
			*slot = optarg;
		else if (c == 'm')
			a->max_sessions = parse_number("--max-sessions", optarg, 1,
						       MAX_SESSIONS_LIMIT);
		else if (c == 'i')
			a->idle_timeout = parse_number("--idle-timeout", optarg, 0,
						       IDLE_TIMEOUT_MAX);
		else if (c == 'j')
			json_log = true;
		else if (c == 'h') {
			fputs(usage_text, stdout);
			exit(0);
		} else if (c == ':')
			cli_usage_error("option '%s' needs an argument", argv[optind - 1]);
		else
			cli_usage_error("unknown option '%s'", argv[optind - 1]);
	}
	if (optind < argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!a->listen)
		cli_usage_error("--listen [ADDR:]PORT is required");
	if (!a->tpgvm == !a->tpgvm_listen)
		cli_usage_error("give exactly one of --tpgvm HOST:PORT and --tpgvm-listen [ADDR:]PORT");
}

static void setup(struct relay *r, struct args *a)
{
	const char *host, *port;

	memset(r, 0, sizeof(*r));
	r->link_fd = r->link_listen_fd = -1;
	r->max_sessions = a->max_sessions;
	r->idle_ms = (int64_t)a->idle_timeout * 1000;
	r->next_sid = 1;
	r->storage_fd = -1;
	if (a->storage) {
		if (!*a->storage)
			cli_usage_error("--storage needs a directory");
		if (mkdir(a->storage, 0700) != 0 && errno != EEXIST)
			cli_die("--storage: cannot create %s: %s", a->storage,
				strerror(errno));
		r->storage_fd = open(a->storage, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (r->storage_fd < 0)
			cli_die("--storage: cannot open %s: %s", a->storage,
				strerror(errno));
		logf_("storage in %s", a->storage);
	}
	if (a->tpgvm)
		split_endpoint("--tpgvm", a->tpgvm, true, &r->link_host, &r->link_port);
	split_endpoint("--listen", a->listen, false, &host, &port);
	r->listen_fd = listen_on("--listen", host, port);
	if (a->idle_timeout)
		logf_("listening for tenants on %s:%s (at most %u sessions, "
		      "idle timeout %u s)", host, port, r->max_sessions,
		      a->idle_timeout);
	else
		logf_("listening for tenants on %s:%s (at most %u sessions, "
		      "no idle timeout)", host, port, r->max_sessions);
	if (a->tpgvm_listen) {
		split_endpoint("--tpgvm-listen", a->tpgvm_listen, false, &host, &port);
		r->link_listen_fd = listen_on("--tpgvm-listen", host, port);
		logf_("waiting for the tpgvm serial stream on %s:%s", host, port);
	}
	queue_init(&r->link_out, LINK_OUT_MAX + LINK_CONTROL_RESERVE);
	r->sess = calloc(r->max_sessions, sizeof(*r->sess));
	if (!r->sess)
		cli_die("out of memory");
	for (unsigned i = 0; i < r->max_sessions; i++) {
		r->sess[i].fd = -1;
		queue_init(&r->sess[i].out, SESSION_OUT_MAX);
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block, unblocked;
	struct relay r;
	struct args a = { 0 };

	cli_set_prog(argv[0]);
	cli_version_if_asked(argc, argv, "custos-relay");
	cli_json_if_asked(argc, argv, "relay");
	parse_args(argc, argv, &a);
	signal(SIGPIPE, SIG_IGN);
	/* Signals are delivered only inside ppoll: no race between the
	 * stop check and going to sleep. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &unblocked);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	setup(&r, &a);
	if (r.link_host)
		link_connect(&r);
	run(&r, &unblocked);
	logf_("%s: shutting down", strsignal(stop_signal));
	drop_all_sessions(&r, "relay shutting down");
	if (r.link_fd >= 0) {
		queue_flush(&r.link_out, r.link_fd);
		close(r.link_fd);
	}
	return 0;
}
