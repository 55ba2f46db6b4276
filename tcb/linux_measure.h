/*
 * The launch measurement of a Linux VM (docs/lifecycle.md, "Launch
 * measurement"): one function, used by the TCB when it loads the VM
 * (tcb/lifecycle.c, from digests it computes in steps) and by the tenant
 * CLI before it uploads (tools/vm_cli.c), so a tenant predicts exactly the
 * value the TCB records. Portable; kept apart from tcb/linux_boot.c, which
 * needs no crypto.
 *
 *   SHA-384( "CUSTOS-VM-LAUNCH-LINUX64-2"
 *            || name (32 bytes, NUL-padded) || le64(mem_size)
 *            || SHA-256(kernel) || le64(kernel_len)
 *            || SHA-256(initrd) || le64(initrd_len)
 *            || SHA-256(cmdline) || le64(cmdline_len) )
 *
 * where kernel is the whole bzImage file, initrd the whole initrd and
 * cmdline the command line's bytes with its NUL (empty: 0 bytes); SHA-256
 * of no bytes where there are none. (Component digests SHA-256, on SHA-NI
 * where the CPU has it; the composition SHA-384: docs/lifecycle.md.)
 */
#ifndef CUSTOS_TCB_LINUX_MEASURE_H
#define CUSTOS_TCB_LINUX_MEASURE_H

#include <custos/types.h>

#define LINUX_LAUNCH_TAG "CUSTOS-VM-LAUNCH-LINUX64-2"
#define LINUX_NAME_LEN   32u
#define LINUX_DIGEST_LEN 48u    /* the measurement: SHA-384 */
#define LINUX_COMPONENT_LEN 32u /* kernel, initrd, cmdline: SHA-256 */

void linux_launch_measurement(const char *name, uint64_t mem_size,
			      const uint8_t kernel_digest[LINUX_COMPONENT_LEN],
			      uint64_t kernel_len,
			      const uint8_t initrd_digest[LINUX_COMPONENT_LEN],
			      uint64_t initrd_len,
			      const uint8_t cmdline_digest[LINUX_COMPONENT_LEN],
			      uint64_t cmdline_len, uint8_t out[LINUX_DIGEST_LEN]);

/* The same from the whole files in memory, as the tenant CLI computes it
 * before it uploads them (initrd and cmdline may be NULL when their
 * length is 0). The TCB gets the digests in steps and calls the function
 * above; test_lifecycle checks that the two agree. */
void linux_launch_measurement_of(const char *name, uint64_t mem_size,
				 const uint8_t *kernel, size_t kernel_len,
				 const uint8_t *initrd, size_t initrd_len,
				 const char *cmdline, size_t cmdline_len,
				 uint8_t out[LINUX_DIGEST_LEN]);

#endif
