/*
 * custos vm shell (tools/vm_cli.h, docs/tenant-cli.md): several `custos vm`
 * commands on one TLS session, attested once.
 *
 * A command on its own pays for a TLS handshake and an attestation each
 * time (in an emulated TPGVM, seconds of P-384). The shell connects,
 * handshakes and attests once, with a fresh nonce, then reads commands, one
 * a line, from stdin or --batch FILE, and runs each with the very code the
 * command on its own runs (vm_session_command, tools/vm_cli.c), printing
 * what it prints. It stops at the first failure unless --keep-going, and
 * always when the session is lost. Its exit status is the first failed
 * command's, or 0.
 *
 * Lines are bounded (SHELL_LINE_MAX), must be whole (ended by a newline: a
 * stream cut inside a line runs none of it, since "destroy web-prod" cut
 * short is another command), and hold no NUL or control character. A line
 * may carry secrets (create --secret): it is wiped once run, and no error
 * quotes it.
 */
#include "tools/vm_cli.h"
#include "tools/interrupt_note.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"
#include "tools/attest.h"
#include "tools/cli.h"

/* A line: room for create with a 2047-byte --cmdline and long paths. */
#define SHELL_LINE_MAX  8192
/* Words of a line: create with every --secret it may take, and the rest. */
#define SHELL_WORDS_MAX 1100
/* The opening (connect, handshake, attestation) without --timeout. */
#define SHELL_OPEN_TIMEOUT 120.0

static const char usage_text[] =
	"usage: custos vm shell [--batch FILE] [--keep-going] [--json]\n"
	"                       [--timeout SECONDS]\n"
	"   with: --relay HOST:PORT --ca ROOT.pem --cert TENANT.pem --key TENANT.key\n"
	"         [--reference REFERENCE.json] [--allow-dev] [--profile NAME]\n"
	"         (or their CUSTOS_* variables, or the configuration file's profile)\n"
	"\n"
	"Run several 'custos vm' commands on one TLS session: connect, attest the\n"
	"platform once (a fresh nonce, verified as every command verifies it),\n"
	"print the platform once, then run the commands read from stdin (or\n"
	"--batch FILE), one a line, each as 'custos vm' would run it on its own\n"
	"and printing what it prints, after a '== line N: COMMAND NAME' header.\n"
	"\n"
	"A line: a command and its options, less the connection options and\n"
	"--json (the shell's): create, start, stop, destroy, status, list,\n"
	"console NAME (not --follow or --interactive); --timeout SECONDS bounds\n"
	"that one command (default 300 for create, 120 for the others). Words\n"
	"are separated by blanks; '...' and \"...\" quote (\\\" and \\\\ inside\n"
	"\"...\"), a backslash escapes one character; blank lines and lines\n"
	"starting with # are skipped. At most 8192 bytes, ended by a newline, no\n"
	"NUL or control character. The platform closes a session that sends no\n"
	"request for 120 s.\n"
	"\n"
	"options:\n"
	"  --batch FILE    read the commands from FILE, not stdin\n"
	"  --keep-going    run the lines after a failed one too (not after the\n"
	"                  session is lost)\n"
	"  --json          JSON Lines on stdout: the session, one object per\n"
	"                  command line, the end\n"
	"  --timeout S     bound the opening: connect, handshake, attestation\n"
	"                  (default 120)\n"
	"\n"
	"Exit status: that of the first failed line (1 verification failed,\n"
	"2 could not run, 3 refused), or 0; the opening's if it fails (then\n"
	"nothing is run; 4: the peer at --relay is not a Custos relay).\n";

struct shell_opts {
	struct attest_conn c;
	bool json, keep_going;
	const char *batch;
};

/* Why the shell ended. */
enum shell_end { END_INPUT, END_STOPPED, END_LOST };

struct shell_tally {
	unsigned line;            /* the input line last read */
	unsigned ran, failed;     /* command lines */
	unsigned first_line;      /* of the first failure */
	int first_status;         /* its exit status; 0: none failed */
	enum shell_end end;
};

/* What reading one line gave. */
enum line_read {
	LINE_OK,
	LINE_EOF,          /* no more input */
	LINE_TOO_LONG,
	LINE_NUL,
	LINE_CONTROL,
	LINE_UNTERMINATED, /* the input ended inside it */
	LINE_ERROR,        /* read error */
};

/* ---- Options ------------------------------------------------------------- */

static void parse_shell_opts(int argc, char **argv, struct shell_opts *o)
{
	static const struct option longopts[] = {
		ATTEST_CONN_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "batch", required_argument, NULL, 'b' },
		{ "keep-going", no_argument, NULL, 'g' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bad;
	int c;

	memset(o, 0, sizeof(*o));
	cli_set_prog("custos vm shell");
	opterr = 0;
	optind = 0; /* glibc: start afresh; argv[0] is "shell" */
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int taken = attest_conn_opt(&o->c, c, optarg);

		if (taken < 0)
			cli_usage_error("--timeout wants seconds in (0, 86400], not '%.32s'",
					optarg);
		if (taken)
			continue;
		switch (c) {
		case 'j': o->json = true; break;
		case 'b': o->batch = optarg; break;
		case 'g': o->keep_going = true; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default:
			if (optopt)
				cli_usage_error("an option needs an argument");
			cli_usage_error("unknown option '%.*s'",
					(int)strcspn(argv[optind - 1], "="),
					argv[optind - 1]);
		}
	}
	if (optind < argc)
		cli_usage_error("takes no arguments: the commands come on stdin or "
				"from --batch FILE");
	if (!(o->c.timeout > 0))
		o->c.timeout = SHELL_OPEN_TIMEOUT;
	attest_conn_from_env(&o->c);
	bad = attest_conn_check(&o->c);
	if (bad)
		cli_usage_error("%s", bad);
}

/* --batch FILE: a readable file that is not a directory (a pipe will do).
 * NULL with the error said (exit 2, before any traffic). */
static FILE *open_batch(const char *path)
{
	struct stat st;
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "custos vm shell: ERROR: cannot read batch file '%s': %s\n",
			path, strerror(errno));
		return NULL;
	}
	if (fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
		fprintf(stderr, "custos vm shell: ERROR: batch file '%s' is a directory\n",
			path);
		fclose(f);
		return NULL;
	}
	return f;
}

/* ---- Lines --------------------------------------------------------------- */

static bool is_control(int c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* One line into buf (cap bytes with the NUL), without its LF or CRLF. A
 * line longer than that is read to its end and dropped: the next line
 * starts where it should. */
static enum line_read read_line(FILE *in, char *buf, size_t cap)
{
	size_t n = 0;
	bool too_long = false, nul = false, control = false;
	int c;

	while ((c = getc(in)) != EOF && c != '\n') {
		if (n + 1 < cap)
			buf[n++] = (char)c;
		else
			too_long = true;
	}
	if (c == EOF && ferror(in))
		return LINE_ERROR;
	if (c == EOF && n == 0 && !too_long)
		return LINE_EOF;
	if (n && buf[n - 1] == '\r')
		n--; /* CRLF: the CR is no control character */
	for (size_t i = 0; i < n; i++) {
		nul |= buf[i] == 0;
		control |= buf[i] != 0 && is_control((unsigned char)buf[i]);
	}
	buf[n] = '\0';
	if (c == EOF)
		return LINE_UNTERMINATED;
	if (too_long)
		return LINE_TOO_LONG;
	if (nul)
		return LINE_NUL;
	return control ? LINE_CONTROL : LINE_OK;
}

static const char *line_problem(enum line_read r)
{
	switch (r) {
	case LINE_TOO_LONG:
		return "the line is longer than 8192 bytes: not run";
	case LINE_NUL:
		return "the line holds a NUL byte: not run";
	case LINE_CONTROL:
		return "the line holds a control character: not run";
	case LINE_UNTERMINATED:
		return "the input ended inside the line (no newline after it): not run";
	case LINE_ERROR:
		return "cannot read the input";
	default:
		return NULL;
	}
}

/* Copy a quoted part "..." (at *src, the opening quote) to *dst: \" and \\
 * are escapes, other backslashes stay. false if it does not close. */
static bool copy_double_quoted(char **src, char **dst)
{
	char *s = *src + 1, *d = *dst;

	while (*s && *s != '"') {
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*d++ = *s++;
	}
	if (!*s)
		return false;
	*src = s + 1;
	*dst = d;
	return true;
}

/* Copy '...' literally. false if it does not close. */
static bool copy_single_quoted(char **src, char **dst)
{
	char *close = strchr(*src + 1, '\'');
	size_t n;

	if (!close)
		return false;
	n = (size_t)(close - (*src + 1));
	memmove(*dst, *src + 1, n);
	*dst += n;
	*src = close + 1;
	return true;
}

/* One word from *src into dst (in place: dst never passes src). NULL, or
 * why the line does not split (never quoting it). */
static const char *take_word(char **src, char **dst)
{
	char *s = *src, *d = *dst;

	while (*s && *s != ' ' && *s != '\t') {
		if (*s == '\'' || *s == '"') {
			bool closed = *s == '\'' ? copy_single_quoted(&s, &d)
						 : copy_double_quoted(&s, &d);

			if (!closed)
				return *s == '\'' ? "a ' quote is not closed: not run"
						  : "a \" quote is not closed: not run";
		} else if (*s == '\\' && s[1]) {
			*d++ = s[1];
			s += 2;
		} else {
			*d++ = *s++;
		}
	}
	if (*s)
		s++;
	*d++ = '\0';
	*src = s;
	*dst = d;
	return NULL;
}

/* The words of a line, split in place: blanks separate them, quotes and
 * backslashes as a POSIX shell's (without expansions), '#' at a word's
 * start begins a comment. NULL, or why not. */
static const char *split_words(char *line, char **words, int max, int *count)
{
	char *src = line, *dst = line;
	int n = 0;

	for (;;) {
		const char *why;

		while (*src == ' ' || *src == '\t')
			src++;
		if (!*src || *src == '#')
			break;
		if (n == max)
			return "the line has too many words: not run";
		words[n++] = dst;
		why = take_word(&src, &dst);
		if (why)
			return why;
	}
	words[n] = NULL;
	*count = n;
	return NULL;
}

/* ---- The loop ------------------------------------------------------------ */

static void count_result(struct shell_tally *t, int rc)
{
	t->ran++;
	if (!rc)
		return;
	t->failed++;
	if (!t->first_status) {
		t->first_status = rc;
		t->first_line = t->line;
	}
}

/* Read and run one line. false when the shell ends (t->end says why). */
static bool shell_step(struct vm_session *s, FILE *in, const struct shell_opts *o,
		       struct shell_tally *t)
{
	static char line[SHELL_LINE_MAX + 1];
	static char *words[SHELL_WORDS_MAX + 1];
	enum line_read got = read_line(in, line, sizeof(line));
	const char *why = line_problem(got);
	bool lost = false;
	int n = 0, rc;

	if (got == LINE_EOF)
		return false;
	t->line++;
	if (!why)
		why = split_words(line, words, SHELL_WORDS_MAX, &n);
	if (why)
		rc = vm_session_bad_line(s, t->line, why);
	else if (n == 0)
		return true; /* blank, or a comment */
	else
		rc = vm_session_command(s, t->line, n, words, &lost);
	crypto_wipe(line, sizeof(line)); /* it may have held secrets */
	count_result(t, rc);
	if (lost)
		t->end = END_LOST;
	else if (rc && !o->keep_going)
		t->end = END_STOPPED;
	return t->end == END_INPUT && got != LINE_UNTERMINATED && got != LINE_ERROR;
}

static void print_end(const struct shell_opts *o, const struct shell_tally *t)
{
	static const char *const ends[] = { "input", "stopped", "session lost" };

	if (o->json)
		printf("{\"end\": \"%s\", \"commands\": %u, \"failed\": %u, "
		       "\"first_failed_line\": %u, \"exit_status\": %d}\n",
		       ends[t->end], t->ran, t->failed, t->first_line, t->first_status);
	fflush(stdout);
	if (t->end == END_LOST)
		fprintf(stderr, "custos vm shell: the session is lost at line %u; "
			"the lines after it were not run (%u commands ran, %u failed)\n",
			t->line, t->ran, t->failed);
	else if (t->end == END_STOPPED)
		fprintf(stderr, "custos vm shell: stopped at line %u, its first failure "
			"(exit %d); the lines after it were not run (--keep-going runs them)\n",
			t->first_line, t->first_status);
	else if (t->failed)
		fprintf(stderr, "custos vm shell: %u of %u commands failed, the first at "
			"line %u (exit %d)\n", t->failed, t->ran, t->first_line,
			t->first_status);
}

int vm_shell_main(int argc, char **argv)
{
	static struct shell_opts o;
	struct shell_tally t;
	struct vm_session *s;
	FILE *batch = NULL, *in;
	int status;

	parse_shell_opts(argc, argv, &o);
	if (o.batch) {
		batch = open_batch(o.batch);
		if (!batch)
			return ATTEST_EXIT_ERROR;
	}
	in = batch ? batch : stdin;
	interrupt_note_install("custos vm shell", o.json);
	interrupt_note_command("shell", NULL);
	s = vm_session_open(&o.c, o.json, &status);
	if (s) {
		/* Typed at a terminal: a prompt on stderr (stdout stays the
		 * commands' output). */
		bool prompt = !batch && isatty(STDIN_FILENO) && !o.json;

		vm_session_print_platform(s);
		memset(&t, 0, sizeof(t));
		do {
			if (prompt) {
				fputs("custos> ", stderr);
				fflush(stderr);
			}
		} while (shell_step(s, in, &o, &t));
		if (prompt && t.end == END_INPUT)
			fputc('\n', stderr);
		vm_session_close(s);
		print_end(&o, &t);
		status = t.first_status;
	}
	if (batch)
		fclose(batch);
	return status;
}
