/*
 * Creating a new file whole or not at all (crypto/new_file.h).
 */
#define _GNU_SOURCE /* renameat2 */
#include "crypto/new_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The temporary file now being written, for new_file_abandon(): a fixed
 * buffer, because a signal handler may read it at any moment. */
static char in_flight[PATH_MAX];
static volatile sig_atomic_t have_in_flight;

static int fail(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t err_len, const char *fmt, ...)
{
	va_list ap;

	if (err && err_len) {
		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

void new_file_abandon(void)
{
	if (have_in_flight)
		unlink(in_flight);
}

static void track(const char *tmp)
{
	have_in_flight = 0;
	if (tmp && strlen(tmp) < sizeof(in_flight)) {
		memcpy(in_flight, tmp, strlen(tmp) + 1);
		have_in_flight = 1;
	}
}

static void release(struct new_file *f)
{
	track(NULL);
	free(f->path);
	free(f->tmp);
	f->path = f->tmp = NULL;
}

void new_file_discard(struct new_file *f)
{
	if (f->tmp)
		unlink(f->tmp);
	release(f);
}

/* "DIR/.BASE.tmp-XXXXXX" for path "DIR/BASE" (or "BASE"). */
static char *temp_template(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t dir_len = slash ? (size_t)(slash - path) + 1 : 0;
	const char *base = path + dir_len;
	size_t n = dir_len + 1 + strlen(base) + sizeof(".tmp-XXXXXX");
	char *t = malloc(n);

	if (t)
		snprintf(t, n, "%.*s.%s.tmp-XXXXXX", (int)dir_len, path, base);
	return t;
}

/* The test hook of new_file.h: "N" raises SIGINT at the Nth file of this
 * process, "N:TERM" SIGTERM and "N:HUP" SIGHUP. */
static void test_hook_interrupt(void)
{
	static unsigned long files;
	const char *at = getenv(NEW_FILE_TEST_HOOK_ENV);
	char *end;

	files++;
	if (!at || strtoul(at, &end, 10) != files)
		return;
	raise(strcmp(end, ":TERM") == 0 ? SIGTERM : strcmp(end, ":HUP") == 0 ? SIGHUP : SIGINT);
}

static int write_all(int fd, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int new_file_prepare(struct new_file *f, const char *path, const void *data,
		     size_t len, mode_t mode, char *err, size_t err_len)
{
	int fd, saved;

	f->path = strdup(path);
	f->tmp = temp_template(path);
	if (!f->path || !f->tmp) {
		release(f);
		return fail(err, err_len, "%s: out of memory", path);
	}
	fd = mkostemp(f->tmp, O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		release(f);
		return fail(err, err_len, "%s: cannot create a temporary file beside it: %s",
			    path, strerror(saved));
	}
	track(f->tmp);
	if (write_all(fd, data, len) != 0 || fchmod(fd, mode) != 0 || fsync(fd) != 0) {
		saved = errno;
		close(fd);
		new_file_discard(f);
		return fail(err, err_len, "%s: write failed: %s", path, strerror(saved));
	}
	if (close(fd) != 0) {
		saved = errno;
		new_file_discard(f);
		return fail(err, err_len, "%s: write failed: %s", path, strerror(saved));
	}
	test_hook_interrupt();
	return 0;
}

/* Make the rename durable: fsync the directory that holds path. */
static int sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
			  : strdup(".");
	int fd, rc;

	if (!dir)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Rename without replacing; where the filesystem cannot (EINVAL), a hard
 * link and an unlink do the same. */
static int rename_new(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) != 0)
		return -1;
	unlink(from);
	return 0;
}

int new_file_commit(struct new_file *f, char *err, size_t err_len)
{
	int rc = 0;

	if (rename_new(f->tmp, f->path) != 0) {
		int saved = errno;

		rc = fail(err, err_len, "%s: %s%s", f->path, strerror(saved),
			  saved == EEXIST ? " (refusing to overwrite it)" : "");
		new_file_discard(f);
		return rc;
	}
	/* Not durable is not written: whole or not at all. */
	if (sync_dir(f->path) != 0) {
		rc = fail(err, err_len, "%s: cannot sync its directory: %s", f->path,
			  strerror(errno));
		unlink(f->path);
	}
	release(f);
	return rc;
}

int new_file_write(const char *path, const void *data, size_t len, mode_t mode,
		   char *err, size_t err_len)
{
	struct new_file f;

	if (new_file_prepare(&f, path, data, len, mode, err, err_len) != 0)
		return -1;
	return new_file_commit(&f, err, err_len);
}
