/*
 * `custos vm ...`: the tenant's VM lifecycle commands (docs/tenant-cli.md,
 * docs/lifecycle.md). Each one opens a TLS session to the platform's TPGVM
 * through the relay, attests the platform on that very session
 * (attest_session, tools/attest.h), and only then sends its request.
 *
 *   custos vm create NAME --memory SIZE --image FILE [--init-data FILE]
 *                         [--secret KEY=VALUE ...]
 *   custos vm start|stop|destroy|status|console NAME
 *   custos vm list
 *   custos vm shell [--batch FILE] [--keep-going]   (commands on stdin)
 *
 * with the connection options of `custos attest` (or their CUSTOS_*
 * environment variables) and --json. Exit statuses: enum attest_exit.
 */
#ifndef CUSTOS_TOOLS_VM_CLI_H
#define CUSTOS_TOOLS_VM_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/proto.h>
#include "tools/attest.h"

/* argv[0] is "vm"; returns the exit status. */
int vm_main(int argc, char **argv);

/* `custos vm shell` (tools/vm_shell.c): argv[0] is "shell". */
int vm_shell_main(int argc, char **argv);

/*
 * One attested session that carries several commands: the shell reads the
 * lines, these run them with the very code of the commands on their own.
 */
struct vm_session; /* opaque */

/* Read the CA root and the reference, connect, handshake, attest (with a
 * fresh nonce; c->timeout bounds all of it). The session, or NULL with the
 * failure reported as a command's is (stderr, and with json a JSON line)
 * and *status its exit status. */
struct vm_session *vm_session_open(const struct attest_conn *c, bool json,
				   int *status);

/* What the attestation found, once: the platform line, or a JSON line. */
void vm_session_print_platform(const struct vm_session *s);

/* Input line number line, split into words (argv[0] the command, then its
 * options as on a command line, less the connection's and --json): parse,
 * read its local inputs, send, print what the command on its own prints
 * (with --json inside one JSON line for the input line). Returns its exit
 * status; *lost: the session cannot carry another request (a TLS error, a
 * closed connection, an answer the protocol does not allow). */
int vm_session_command(struct vm_session *s, unsigned line, int argc,
		       char **argv, bool *lost);

/* A line that is not a command (too long, a NUL, an open quote ...),
 * reported as a usage error of that line: why must name no value from it.
 * Returns the exit status, 2. */
int vm_session_bad_line(struct vm_session *s, unsigned line, const char *why);

/* close_notify, then forget everything. NULL is fine. */
void vm_session_close(struct vm_session *s);

/* The launch measurement of docs/lifecycle.md, byte-exact:
 * SHA-384("CUSTOS-VM-LAUNCH-2" || name[32] || u64 mem_size
 *         || SHA-256(image) || u64 image_len || SHA-256(init) || u64 init_len
 *         || SHA-256(salt || secrets) || u64 secrets_len), integers LE. */
void vm_launch_measurement(const char name[PROTO_VM_NAME_MAX], uint64_t mem_size,
			   const uint8_t *image, size_t image_len,
			   const uint8_t *init, size_t init_len,
			   const uint8_t salt[PROTO_SALT_LEN],
			   const uint8_t *secrets, size_t secrets_len,
			   uint8_t out[48]);

#endif
