/*
 * Shared command-line plumbing of the Custos host tools (tools/cli.h).
 * Files are written through crypto/new_file.c: a temporary file beside the
 * output, fsync'd, renamed without replacing anything, the mode set
 * exactly; so an output appears whole or not at all.
 */
#include "tools/cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/new_file.h"
#include "crypto/pki_host.h"

#define MAX_OUTPUTS 16

static const char *prog = "custos";
/* This run's outputs so far; a signal handler reads them. */
static const char *volatile outputs[MAX_OUTPUTS];
static volatile sig_atomic_t n_outputs;
/* The signals that end a run early and must not leave a part of it. */
static const int ending_signals[] = { SIGINT, SIGTERM, SIGHUP };

void cli_set_prog(const char *p)
{
	const char *slash = strrchr(p, '/');

	prog = slash ? slash + 1 : p;
}

/* Messages may quote file names and parsed input: keep them one line of
 * printable characters. */
static void print_line(const char *fmt, va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
			*c = '?';
	fprintf(stderr, "%s: %s\n", prog, line);
}

/* A half-issued identity (a key without its certificate) is worse than
 * none: the operator would have to clean up by hand. Async-signal-safe. */
static void remove_outputs(void)
{
	new_file_abandon();
	for (sig_atomic_t i = 0; i < n_outputs; i++)
		unlink(outputs[i]);
}

void cli_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line(fmt, ap);
	va_end(ap);
	remove_outputs();
	exit(CLI_EXIT_FAIL);
}

/* Remove this run's files, say so, and die of the signal as if no handler
 * had been there (the shell sees the interruption). */
static void on_ending_signal(int sig)
{
	static const char msg[] = ": interrupted; this run's files were removed\n";

	remove_outputs();
	if (write(STDERR_FILENO, prog, strlen(prog)) < 0 ||
	    write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to say it with */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void cli_remove_outputs_on_signals(void)
{
	struct sigaction sa = { .sa_handler = on_ending_signal };

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(ending_signals) / sizeof(ending_signals[0]); i++)
		sigaddset(&sa.sa_mask, ending_signals[i]);
	for (size_t i = 0; i < sizeof(ending_signals) / sizeof(ending_signals[0]); i++)
		sigaction(ending_signals[i], &sa, NULL);
}

/* Block (or unblock) the ending signals, so that a file that has its name
 * is also on the list of this run's outputs. */
static void hold_ending_signals(int how, sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(ending_signals) / sizeof(ending_signals[0]); i++)
		sigaddset(&set, ending_signals[i]);
	sigprocmask(how, how == SIG_BLOCK ? &set : old, how == SIG_BLOCK ? old : NULL);
}

void cli_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	print_line(fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help'.\n", prog);
	exit(CLI_EXIT_USAGE);
}

uint8_t *cli_read_file(const char *path, size_t max, size_t *len,
		       const char *what)
{
	struct stat st;
	uint8_t *buf;
	size_t got;
	FILE *f = fopen(path, "rb");

	if (!f)
		cli_die("cannot read %s '%s': %s", what, path, strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		cli_die("cannot read %s '%s': not a regular file", what, path);
	}
	if ((uint64_t)st.st_size > max) {
		fclose(f);
		cli_die("%s '%s' is %lld bytes, more than the %zu allowed", what,
			path, (long long)st.st_size, max);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		cli_die("out of memory reading %s '%s'", what, path);
	got = fread(buf, 1, (size_t)st.st_size, f);
	if (got != (size_t)st.st_size || ferror(f)) {
		fclose(f);
		cli_die("cannot read %s '%s': short read", what, path);
	}
	fclose(f);
	buf[got] = '\0';
	*len = got;
	return buf;
}

void cli_need_file(const char *path, const char *what)
{
	struct stat st;
	FILE *f = fopen(path, "rb");

	if (!f)
		cli_die("cannot read %s '%s': %s", what, path, strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		cli_die("cannot read %s '%s': not a regular file", what, path);
	}
	fclose(f);
}

void cli_refuse_existing(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		cli_die("refusing to overwrite existing file '%s'", path);
	if (errno != ENOENT)
		cli_die("cannot check output file '%s': %s", path,
			strerror(errno));
}

void cli_created(const char *path)
{
	if (n_outputs == MAX_OUTPUTS)
		cli_die("internal error: too many output files");
	outputs[n_outputs] = path;
	n_outputs = n_outputs + 1;
}

void cli_write_new(const char *path, const void *data, size_t len, mode_t mode)
{
	char err[PKI_ERR_LEN];
	struct new_file f;
	sigset_t old;
	int rc;

	if (n_outputs == MAX_OUTPUTS)
		cli_die("internal error: too many output files");
	if (new_file_prepare(&f, path, data, len, mode, err, sizeof(err)) != 0)
		cli_die("%s", err);
	hold_ending_signals(SIG_BLOCK, &old);
	rc = new_file_commit(&f, err, sizeof(err));
	if (rc == 0)
		cli_created(path);
	hold_ending_signals(SIG_SETMASK, &old);
	if (rc != 0)
		cli_die("%s", err);
}

void cli_outputs_done(void)
{
	n_outputs = 0;
}

char *cli_path(const char *prefix, const char *suffix)
{
	size_t a = strlen(prefix), b = strlen(suffix);
	char *p = malloc(a + b + 1);

	if (!p)
		cli_die("out of memory");
	memcpy(p, prefix, a);
	memcpy(p + a, suffix, b + 1);
	return p;
}

void cli_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void cli_vformat_line(char *buf, size_t len, const char *fmt, va_list ap)
{
	vsnprintf(buf, len, fmt, ap);
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
			*c = '?';
}
