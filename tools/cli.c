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
#include <custos/version.h>
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

void cli_version_if_asked(int argc, char **argv, const char *tool)
{
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", tool, CUSTOS_VERSION);
		exit(0);
	}
}

/* ---- --json ---------------------------------------------------------------- */

static const char *json_command;          /* NULL: no --json */
static char json_members[32768];           /* ", \"key\": value" ... */
static size_t json_members_len;
static char json_outputs[8192];            /* "{...}, {...}" */
static size_t json_outputs_len;

/* Append the pieces (a NULL ends them) to buf only if all of them fit: a
 * result too large to show loses whole members, and the object stays
 * valid JSON. */
static void json_append(char *buf, size_t cap, size_t *len, const char *piece, ...)
{
	size_t need = 0;
	va_list ap;

	va_start(ap, piece);
	for (const char *p = piece; p; p = va_arg(ap, const char *))
		need += strlen(p);
	va_end(ap);
	if (*len + need >= cap)
		return;
	va_start(ap, piece);
	for (const char *p = piece; p; p = va_arg(ap, const char *)) {
		memcpy(buf + *len, p, strlen(p) + 1);
		*len += strlen(p);
	}
	va_end(ap);
}

/* s as a JSON string into out (at least 6 * strlen(s) + 3 bytes). */
static void json_quote(const char *s, char *out)
{
	size_t o = 0;

	out[o++] = '"';
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)sprintf(out + o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o++] = '"';
	out[o] = '\0';
}

static bool json_reported; /* an object is printed: no other at exit */

static void json_at_exit(void)
{
	if (json_command && !json_reported)
		cli_json_done();
}

void cli_json_begin(const char *command)
{
	static bool registered;

	if (!registered && atexit(json_at_exit) == 0)
		registered = true;
	json_reported = false;
	json_command = command;
	json_members_len = json_outputs_len = 0;
	json_members[0] = json_outputs[0] = '\0';
}

bool cli_json(void)
{
	return json_command != NULL;
}

static void json_member(const char *key, const char *value_json)
{
	json_append(json_members, sizeof(json_members), &json_members_len, ", \"", key,
		    "\": ", value_json, (const char *)NULL);
}

void cli_json_str(const char *key, const char *value)
{
	char q[6 * 1024 + 3];

	if (strlen(value) > 1024)
		value = "(too long to show)";
	json_quote(value, q);
	json_member(key, q);
}

void cli_json_num(const char *key, unsigned long long value)
{
	char v[24];

	snprintf(v, sizeof(v), "%llu", value);
	json_member(key, v);
}

void cli_json_bool(const char *key, bool value)
{
	json_member(key, value ? "true" : "false");
}

void cli_json_raw(const char *key, const char *value_json)
{
	json_member(key, value_json);
}

void cli_json_if_asked(int argc, char **argv, const char *command)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return;
		if (strcmp(argv[i], "--json") == 0) {
			cli_json_begin(command);
			return;
		}
	}
}

void cli_wrote(const char *path, const char *what)
{
	char qp[6 * 512 + 3], qw[6 * 512 + 3];

	if (!json_command) {
		printf("wrote %s (%s)\n", path, what);
		return;
	}
	if (strlen(path) > 512)
		path = "(too long to show)";
	if (strlen(what) > 512)
		what = "(too long to show)";
	json_quote(path, qp);
	json_quote(what, qw);
	json_append(json_outputs, sizeof(json_outputs), &json_outputs_len,
		    json_outputs_len ? ", " : "", "{\"path\": ", qp, ", \"what\": ", qw, "}",
		    (const char *)NULL);
}

void cli_json_done(void)
{
	if (!json_command || json_reported)
		return;
	json_reported = true;
	printf("{\"result\": \"done\", \"exit_status\": 0, \"command\": \"%s\"%s, "
	       "\"outputs\": [%s]}\n", json_command, json_members, json_outputs);
	fflush(stdout);
}

static void json_failure(int status, const char *reason)
{
	char q[6 * 1024 + 3];

	if (!json_command || json_reported)
		return;
	json_reported = true;
	json_quote(reason, q);
	printf("{\"result\": \"%s\", \"exit_status\": %d, \"command\": \"%s\"%s, "
	       "\"reason\": %s}\n", status == CLI_EXIT_USAGE ? "error" : "failed", status,
	       json_command, json_members, q);
	fflush(stdout);
}

int cli_print_command_help(FILE *f, const char *usage, const char *cmd,
			   const char *first_prefix)
{
	size_t cmd_len = strlen(cmd);
	bool in = false, printed = false;

	json_command = NULL; /* help is text, even with --json */

	for (const char *p = usage; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		bool command_line = n > 2 && p[0] == ' ' && p[1] == ' ' && p[2] != ' ';

		if (in && (n == 0 || command_line))
			break;
		if (!in && command_line && n >= 2 + cmd_len &&
		    strncmp(p + 2, cmd, cmd_len) == 0 &&
		    (n == 2 + cmd_len || p[2 + cmd_len] == ' ')) {
			in = true;
			if (first_prefix) {
				fputs(first_prefix, f);
				fwrite(p + 2, 1, n - 2, f);
				fputc('\n', f);
				printed = true;
				p += n + (nl != NULL);
				continue;
			}
		}
		if (in) {
			fwrite(p, 1, n, f);
			fputc('\n', f);
			printed = true;
		}
		p += n + (nl != NULL);
	}
	return printed ? 0 : -1;
}

/* Messages may quote file names and parsed input: keep them one line of
 * printable characters. */
static char last_line[1024]; /* the last error, for --json's "reason" */

static void print_line(const char *fmt, va_list ap)
{
	char *line = last_line;

	vsnprintf(line, sizeof(last_line), fmt, ap);
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
	json_failure(CLI_EXIT_FAIL, last_line);
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
	json_failure(CLI_EXIT_USAGE, last_line);
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
