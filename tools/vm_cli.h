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
 *
 * with the connection options of `custos attest` (or their CUSTOS_*
 * environment variables) and --json. Exit statuses: enum attest_exit.
 */
#ifndef CUSTOS_TOOLS_VM_CLI_H
#define CUSTOS_TOOLS_VM_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <custos/proto.h>

/* argv[0] is "vm"; returns the exit status. */
int vm_main(int argc, char **argv);

/* The launch measurement of docs/lifecycle.md, byte-exact:
 * SHA-384("CUSTOS-VM-LAUNCH-1" || name[32] || u64 mem_size
 *         || SHA-384(image) || u64 image_len || SHA-384(init) || u64 init_len
 *         || SHA-384(salt || secrets) || u64 secrets_len), integers LE. */
void vm_launch_measurement(const char name[PROTO_VM_NAME_MAX], uint64_t mem_size,
			   const uint8_t *image, size_t image_len,
			   const uint8_t *init, size_t init_len,
			   const uint8_t salt[PROTO_SALT_LEN],
			   const uint8_t *secrets, size_t secrets_len,
			   uint8_t out[48]);

#endif
