/*
 * Creating a new file whole or not at all (host only): the bytes go to a
 * temporary file in the same directory, which is fsync'd and then renamed
 * to its name without replacing anything there, and the directory is
 * fsync'd. A reader, a crash or an interruption therefore sees either no
 * file at that name or the whole file, never a truncated one, and a retry
 * is never blocked by a half-written output (docs/pki.md, "Never
 * overwriting").
 *
 * The temporary file is ".NAME.tmp-XXXXXX" beside NAME, created with
 * O_EXCL (never through a symlink) and mode 0600 until it holds
 * everything; then it gets exactly 'mode'. An existing NAME (a file or a
 * symlink) is never replaced: the rename fails and the temporary file is
 * removed.
 *
 * Signals: while a temporary file exists its path is kept in static
 * storage, so a signal handler can remove it with new_file_abandon(),
 * which is async-signal-safe (tools/cli.c does, for SIGINT, SIGTERM and
 * SIGHUP). A SIGKILL leaves the temporary file, under a name that blocks
 * nothing.
 *
 * Test hook: with CUSTOS_TEST_HOOK_INTERRUPT_WRITE=N in the environment,
 * the process raises SIGINT (with N:TERM SIGTERM, with N:HUP SIGHUP) at
 * its Nth new file, once that file's
 * temporary copy is written and before it is renamed: the one moment an
 * interruption must clean up after (tests/integration/test_tools.py). A
 * test hook only; nothing sets it but tests.
 */
#ifndef CUSTOS_CRYPTO_NEW_FILE_H
#define CUSTOS_CRYPTO_NEW_FILE_H

#include <stddef.h>
#include <sys/types.h>

#define NEW_FILE_TEST_HOOK_ENV "CUSTOS_TEST_HOOK_INTERRUPT_WRITE"

/* A file written to its temporary name, not yet renamed. */
struct new_file {
	char *path;     /* the name it will have (malloc'd copy) */
	char *tmp;      /* where it is now (malloc'd) */
};

/* Write data to a temporary file beside path, fsync it and give it mode.
 * 0, or -1 with a one-line reason in err (nothing is left behind). */
int new_file_prepare(struct new_file *f, const char *path, const void *data,
		     size_t len, mode_t mode, char *err, size_t err_len);

/* Rename the prepared file to its name unless something exists there, and
 * fsync the directory. 0, or -1 with a reason (the temporary file is
 * removed). Either way f is released. */
int new_file_commit(struct new_file *f, char *err, size_t err_len);

/* Remove the prepared file and release f. */
void new_file_discard(struct new_file *f);

/* prepare, then commit. */
int new_file_write(const char *path, const void *data, size_t len, mode_t mode,
		   char *err, size_t err_len);

/* Remove the temporary file being written, if any: async-signal-safe,
 * for a signal handler that is about to end the process. */
void new_file_abandon(void);

#endif
