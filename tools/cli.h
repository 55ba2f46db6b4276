/*
 * What custos-ca and custos-station share: one-line errors with fixed exit
 * statuses (1 for a failure, 2 for a usage error), whole-file reads with a
 * size limit, and all-or-nothing creation of output files.
 */
#ifndef CUSTOS_TOOLS_CLI_H
#define CUSTOS_TOOLS_CLI_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

void cli_set_prog(const char *prog);

/* `TOOL --version`: "TOOL VERSION" (include/custos/version.h, the one
 * version of the project, the one the hypervisor prints at boot) on stdout
 * and exit 0. Only as the first argument, so an option's value that
 * happens to read "--version" is never taken for it. */
void cli_version_if_asked(int argc, char **argv, const char *tool);

/*
 * Per-command --help from a tool's one usage text: the block of command
 * cmd, its line "  CMD ..." (two spaces in) and the lines after it, up to
 * the next such line or a blank one. The first line's two spaces become
 * first_prefix if that is not NULL ("usage: custos-ca "). 0 if printed,
 * -1 if the text has no block for cmd.
 */
int cli_print_command_help(FILE *f, const char *usage, const char *cmd,
			   const char *first_prefix);

/*
 * --json for custos-ca and custos-station: the result as one JSON object on
 * stdout, of the tenant CLI's shape (docs/tenant-cli.md, "JSON"):
 * {"result": "done", "exit_status": 0, "command": CMD, members...,
 * "outputs": [{"path": ..., "what": ...}]}, or on failure (cli_die,
 * cli_usage_error) {"result": "failed"/"error", "exit_status": 1/2,
 * "command": CMD, members so far..., "reason": ...}. Errors still go to
 * stderr as one line too. Members are added in order; keys are literals.
 */
void cli_json_begin(const char *command);
bool cli_json(void);
void cli_json_str(const char *key, const char *value);
void cli_json_num(const char *key, unsigned long long value);
void cli_json_bool(const char *key, bool value);
/* A member whose value is JSON the caller made (an array of hex strings). */
void cli_json_raw(const char *key, const char *value_json);
/* "--json" anywhere in argv (before the option parser, so that usage
 * errors are JSON too): cli_json_begin(command). */
void cli_json_if_asked(int argc, char **argv, const char *command);
/* A file this run wrote, for "outputs" (JSON) or "wrote PATH (WHAT)". */
void cli_wrote(const char *path, const char *what);
/* The success object, once the command is done (nothing without --json).
 * cli_json_begin() arranges for it to be printed at exit unless a failure
 * object was: a command of these tools fails only through cli_die() or
 * cli_usage_error(), so one that returns to main has succeeded. */
void cli_json_done(void);

/* "PROG: message" on stderr, remove this run's outputs, exit 1. */
void cli_die(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));
/* "PROG: message" and a pointer to --help on stderr, then exit 2. */
void cli_usage_error(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

/* The whole file, at most max bytes; dies with "cannot read WHAT 'PATH': ..."
 * on any error. The buffer is malloc'd and NUL-terminated past *len. */
uint8_t *cli_read_file(const char *path, size_t max, size_t *len,
		       const char *what);

/* Die with "cannot read WHAT 'PATH': <errno text>" unless path is a
 * readable regular file (before handing it to a library that would only say
 * "cannot read it"). */
void cli_need_file(const char *path, const char *what);

/* Die if path exists: run this on every output before writing any, so a
 * refused run writes nothing. */
void cli_refuse_existing(const char *path);

/* Create path (exactly 'mode') with data, or die: through a temporary file
 * beside it, fsync'd and renamed without replacing anything
 * (crypto/new_file.h). Files created this way, and those passed to
 * cli_created(), are removed if the run later dies, or is ended by a
 * signal that cli_remove_outputs_on_signals() handles, until
 * cli_outputs_done(): all outputs or none. */
void cli_write_new(const char *path, const void *data, size_t len, mode_t mode);
void cli_created(const char *path);
void cli_outputs_done(void);

/* On SIGINT, SIGTERM or SIGHUP remove this run's outputs and the temporary
 * file being written, say so on stderr, and end by that signal. */
void cli_remove_outputs_on_signals(void);

/* "PATH" with "SUFFIX" appended, malloc'd (dies on overflow/ENOMEM). */
char *cli_path(const char *prefix, const char *suffix);

/* The value of one hex digit (either case), or -1. Inline, so that code
 * built without cli.c (tools/reference.c in its tests) can use it too. */
static inline int cli_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Format into buf as one printable line: every byte outside 0x20..0x7e
 * (a peer's text may hold anything) becomes '?'. For the one-line
 * reasons the tenant CLI prints and puts into its JSON. */
void cli_vformat_line(char *buf, size_t len, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Lower-case hex of n bytes into out (2n+1 bytes). */
void cli_hex(const uint8_t *p, size_t n, char *out);

#endif
