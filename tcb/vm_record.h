/*
 * The record of a sealed tenant VM that outlives a reboot (docs/seal.md,
 * "Across reboots"): what the TCB must still know of a stopped VM when its
 * blob comes back after the host was powered off -- its name and owner,
 * its sealing key and the version of its latest seal -- one fixed-size
 * slot per VM id in a TPM NV index that only a boot with the same measured
 * launch can read or write (hv/tpm_vm_store.c).
 *
 * A slot crosses the TPM bus encrypted and authenticated, but it is still
 * parsed as untrusted input: a TPM is a device, and what it stores was
 * written by an earlier boot that may have had other bugs.
 *
 * Slot, exactly VM_RECORD_LEN bytes, integers little-endian:
 *   0   magic "CVMR"
 *   4   format u16 = 1
 *   6   flags u16: bit 0 = in use (a tenant VM with a sealed state);
 *       bit 1 = it stopped itself (halt, exit, fault) before it was
 *       sealed, so a plain start boots it afresh (only with bit 0)
 *   8   writes u32: how often this slot has been written (NV wear)
 *   12  vm_id u32 (1..VM_MAX), the slot's own
 *   16  name[32]   [a-z0-9_-]{1,31}, NUL-padded
 *   48  owner[48]  the tenant identity (SHA-384 of its key)
 *   96  key[32]    the VM's sealing key
 *   128 version u64, >= 1: the latest seal
 *   136 mem_size u64
 *   144 measurement[48]: the launch measurement
 * A free slot has the magic, format, flags 0, its writes and vm_id, and
 * zeros after. A slot that was never written is all zero.
 *
 * Portable (hypervisor and host).
 */
#ifndef CUSTOS_TCB_VM_RECORD_H
#define CUSTOS_TCB_VM_RECORD_H

#include <custos/types.h>
#include <custos/guest_abi.h>

#define VM_RECORD_LEN     192u
#define VM_RECORD_MAGIC   "CVMR"
#define VM_RECORD_FORMAT  1u
#define VM_RECORD_KEY_LEN 32u
#define VM_RECORD_DIGEST_LEN 48u

struct vm_record {
	bool in_use;
	bool stopped_itself;             /* flags bit 1 */
	uint32_t writes;                 /* kept by the store, not by lifecycle */
	uint32_t vm_id;
	char name[HC_VM_NAME_MAX];
	uint8_t owner[HC_OWNER_LEN];
	uint8_t key[VM_RECORD_KEY_LEN];  /* secret: wipe copies */
	uint64_t version;
	uint64_t mem_size;
	uint8_t measurement[VM_RECORD_DIGEST_LEN];
};

/* Parse the slot of vm_id. 0 with *out filled (a never-written slot is a
 * free one with writes 0), or -1 with one line in err (never key bytes);
 * *out is written only on success. */
int vm_record_parse(const uint8_t slot[VM_RECORD_LEN], uint32_t vm_id,
		    struct vm_record *out, char *err, size_t err_len);

/* The slot's bytes for r (a free record: only writes and vm_id count). */
void vm_record_encode(const struct vm_record *r, uint8_t slot[VM_RECORD_LEN]);

#endif
