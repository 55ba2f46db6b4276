/*
 * Sealed VMs that outlive a reboot (docs/seal.md, "Across reboots"): each
 * tenant VM's record (tcb/vm_record.h: name, owner, sealing key, latest
 * version) lives in a slot of a TPM NV index that only this measured
 * launch can read or write.
 *
 * Why NV and a PCR policy. The records are secrets (the keys) and must not
 * roll back (the versions). Both indices carry an authPolicy of PolicyPCR
 * over PCRs 0-9 - the firmware, GRUB, grub.cfg's commands, custos.elf and
 * every boot module, all measured before the TCB ran - and allow reads and
 * writes by that policy only (no owner or password access): a boot of
 * anything else cannot open them, and the TPM's NV, unlike a file on the
 * host, cannot be set back to an older copy. Every byte crosses the bus
 * encrypted by a salted policy session, and every answer is authenticated
 * by it. An index that exists but is not exactly ours (attributes, size,
 * policy) is left alone: the console says why, and sealed VMs then live in
 * memory only, as on a platform without a TPM.
 *
 * Wear: each stop and each destroy of a sealed VM writes one 192-byte slot;
 * the slot counts its writes, and a slot past STORE_SLOT_WRITE_BUDGET is
 * not written again (the stop fails and the VM runs on).
 */
#include "hv/tpm_vm_store.h"
#include "hv/console.h"
#include "hv/tpm.h"
#include "tcb/lifecycle.h"
#include "tcb/tpm2_cmd.h"
#include "tcb/tpm2_nv.h"
#include "tcb/tpm2_session.h"
#include "tcb/vm_record.h"
#include "crypto/crypto.h"

#include <stdio.h>
#include <string.h>

#define STORE_INDEX_BASE   0x01004353u /* owner range; "CS" */
#define STORE_INDEXES      2u
#define SLOTS_PER_INDEX    8u
#define STORE_INDEX_SIZE   (SLOTS_PER_INDEX * VM_RECORD_LEN)
#define STORE_PCR_MASK     0x3ffu      /* PCRs 0-9: all measured before the TCB */
#define STORE_PCRS         10u
#define STORE_ATTRIBUTES   (TPM2_NVA_POLICYWRITE | TPM2_NVA_POLICYREAD | \
			    TPM2_NVA_NO_DA)
/* Slot writes at most: far below the NV endurance hardware TPMs state. */
#define STORE_SLOT_WRITE_BUDGET 100000u
/* Bytes per NV_Read: four slots, inside every TPM's MAX_NV_BUFFER_SIZE. */
#define STORE_READ_CHUNK   (4u * VM_RECORD_LEN)

_Static_assert(STORE_INDEXES * SLOTS_PER_INDEX == VM_MAX, "a slot per VM id");
_Static_assert(STORE_INDEX_SIZE % STORE_READ_CHUNK == 0, "whole reads");

static struct {
	bool open;                        /* records are kept in the TPM */
	bool have_session;
	struct tpm2_session session;      /* salted policy session */
	struct tpm2_nv_public pub[STORE_INDEXES];
	uint8_t pcr_digest[TPM2_SHA384_LEN];
	uint32_t writes[VM_MAX + 1];      /* per slot, as read and since */
	uint8_t cmd[TPM2_BUFFER_MAX];
	uint8_t rsp[TPM2_BUFFER_MAX];
	char err[160];
} store;

/* Which of the indices holds VM id's slot (store.pub[]), and where. */
static unsigned index_of(unsigned id)
{
	return (id - 1) / SLOTS_PER_INDEX;
}

static uint16_t offset_of(unsigned id)
{
	return (uint16_t)(((id - 1) % SLOTS_PER_INDEX) * VM_RECORD_LEN);
}

static int run(size_t len, size_t *rsp_len)
{
	return tpm_transact(store.cmd, len, store.rsp, sizeof(store.rsp), rsp_len,
			    store.err, sizeof(store.err));
}

static void drop_session(void)
{
	size_t n;

	if (store.have_session &&
	    run(tpm2_build_flush_context(store.cmd, sizeof(store.cmd),
					 store.session.handle), &n) == 0)
		(void)tpm2_parse_flush_context(store.rsp, n, NULL, 0);
	tpm2_session_forget(&store.session);
	store.have_session = false;
}

/* The policy session, satisfied for one command: PolicyPCR with the PCR
 * values this boot read. The TPM compares them with its own; after the
 * command it authorises, the session's policy starts over. */
static int satisfy_policy(void)
{
	size_t n;

	if (!store.have_session) {
		if (tpm_start_salted_session(&store.session, TPM2_SE_POLICY,
					     store.err, sizeof(store.err)))
			return -1;
		store.have_session = true;
	}
	if (run(tpm2_build_policy_pcr(store.cmd, sizeof(store.cmd),
				      store.session.handle, STORE_PCR_MASK,
				      store.pcr_digest), &n) ||
	    tpm2_parse_policy_pcr(store.rsp, n, NULL, store.err, sizeof(store.err))) {
		drop_session();
		return -1;
	}
	return 0;
}

static int nv_write(unsigned i, const uint8_t *data, uint16_t len, uint16_t off)
{
	uint8_t nonce[TPM2_SESSION_HASH_LEN];
	size_t n;

	if (satisfy_policy() ||
	    crypto_random(nonce, sizeof(nonce)) != CRYPTO_OK ||
	    run(tpm2_build_nv_write_policy(store.cmd, sizeof(store.cmd),
					   &store.session, &store.pub[i], data,
					   len, off, nonce), &n) ||
	    tpm2_parse_nv_write_policy(store.rsp, n, &store.session, NULL,
				       store.err, sizeof(store.err))) {
		drop_session(); /* its nonces may be out of step */
		return -1;
	}
	store.pub[i].attributes |= TPM2_NVA_WRITTEN;
	return 0;
}

static int nv_read(unsigned i, uint8_t *out, uint16_t len, uint16_t off)
{
	uint8_t nonce[TPM2_SESSION_HASH_LEN];
	size_t n;

	if (satisfy_policy() ||
	    crypto_random(nonce, sizeof(nonce)) != CRYPTO_OK ||
	    run(tpm2_build_nv_read_policy(store.cmd, sizeof(store.cmd),
					  &store.session, &store.pub[i], len, off,
					  nonce), &n) ||
	    tpm2_parse_nv_read_policy(store.rsp, n, &store.session, out, len,
				      NULL, store.err, sizeof(store.err))) {
		drop_session();
		return -1;
	}
	return 0;
}

/* The policy this boot's PCRs 0-9 give, from the values the TPM reports
 * (a lie on the bus only makes PolicyPCR fail later: the TPM checks). */
static int compute_policy(uint8_t policy[TPM2_SHA384_LEN])
{
	static uint8_t values[STORE_PCRS][TPM2_SHA384_LEN];

	for (uint32_t pcr = 0; pcr < STORE_PCRS; pcr++)
		if (tpm_pcr_read(pcr, values[pcr])) {
			snprintf(store.err, sizeof(store.err), "PCR %u unreadable", pcr);
			return -1;
		}
	if (tpm2_policy_pcr_digest(STORE_PCR_MASK, (const uint8_t (*)[TPM2_SHA384_LEN])values,
				   STORE_PCRS, store.pcr_digest, policy)) {
		snprintf(store.err, sizeof(store.err), "no PolicyPCR digest");
		return -1;
	}
	return 0;
}

enum index_state { INDEX_UNDEFINED, INDEX_EMPTY, INDEX_READY, INDEX_FOREIGN };

/* A new index: defined (unless it is, unwritten), then written with zeros
 * (never-written slots). */
static int provision(unsigned i, enum index_state state)
{
	static const uint8_t zeros[VM_RECORD_LEN];
	size_t n;

	if (state == INDEX_UNDEFINED) {
		if (run(tpm2_build_nv_define_space(store.cmd, sizeof(store.cmd),
						   &store.pub[i]), &n) ||
		    tpm2_parse_nv_define_space(store.rsp, n, NULL, store.err,
					       sizeof(store.err)))
			return -1;
	}
	for (uint16_t off = 0; off < STORE_INDEX_SIZE; off += VM_RECORD_LEN)
		if (nv_write(i, zeros, VM_RECORD_LEN, off))
			return -1;
	console_printf("vm-store: NV index %#x defined, bound to PCRs 0-9\n",
		       store.pub[i].index);
	return 0;
}

/* Is index i ours and this launch's? INDEX_FOREIGN: leave it alone
 * (store.err says why). */
static enum index_state check_index(unsigned i, const uint8_t policy[TPM2_SHA384_LEN])
{
	struct tpm2_nv_public found;
	uint32_t rc = 0;
	size_t n;

	store.pub[i] = (struct tpm2_nv_public){ .index = STORE_INDEX_BASE + i,
						 .attributes = STORE_ATTRIBUTES,
						 .size = STORE_INDEX_SIZE };
	memcpy(store.pub[i].policy, policy, TPM2_SHA384_LEN);
	if (run(tpm2_build_nv_read_public(store.cmd, sizeof(store.cmd),
					  store.pub[i].index), &n))
		return INDEX_FOREIGN;
	if (tpm2_parse_nv_read_public_full(store.rsp, n, store.pub[i].index, &found,
					   &rc, store.err, sizeof(store.err)) == 0) {
		if ((found.attributes & ~TPM2_NVA_WRITTEN) != STORE_ATTRIBUTES ||
		    found.size != STORE_INDEX_SIZE) {
			snprintf(store.err, sizeof(store.err),
				 "NV index %#x exists but is not Custos's (attributes "
				 "%#x, %u bytes): its owner must remove it",
				 found.index, found.attributes, found.size);
			return INDEX_FOREIGN;
		}
		if (memcmp(found.policy, policy, TPM2_SHA384_LEN) != 0) {
			console_printf("vm-store: PCRs 0-9 differ from the boot that "
				       "kept the records: firmware, GRUB, grub.cfg, the "
				       "hypervisor or a boot module changed\n");
			snprintf(store.err, sizeof(store.err),
				 "the records in NV index %#x were kept by another "
				 "measured launch: they stay unopened", found.index);
			return INDEX_FOREIGN;
		}
		store.pub[i].attributes = found.attributes;
		return found.attributes & TPM2_NVA_WRITTEN ? INDEX_READY : INDEX_EMPTY;
	}
	if (rc && tpm2_rc_is_nv_undefined(rc))
		return INDEX_UNDEFINED;
	return INDEX_FOREIGN;
}

/* Read index i's slots and restore the VMs they hold. */
static unsigned restore_index(unsigned i)
{
	static uint8_t chunk[STORE_READ_CHUNK];
	unsigned restored = 0;

	for (uint16_t off = 0; off < STORE_INDEX_SIZE; off += STORE_READ_CHUNK) {
		if (nv_read(i, chunk, STORE_READ_CHUNK, off)) {
			console_printf("vm-store: reading NV index %#x failed: %s\n",
				       store.pub[i].index, store.err);
			break;
		}
		for (unsigned s = 0; s < STORE_READ_CHUNK / VM_RECORD_LEN; s++) {
			unsigned id = i * SLOTS_PER_INDEX + (off / VM_RECORD_LEN) + s + 1;
			struct vm_record r;
			char why[160];

			if (vm_record_parse(chunk + s * VM_RECORD_LEN, id, &r, why,
					    sizeof(why))) {
				console_printf("vm-store: slot %u refused: %s\n", id, why);
				continue;
			}
			store.writes[id] = r.writes;
			if (r.in_use && lifecycle_restore(&r, why, sizeof(why)) == 0) {
				console_printf("vm-store: VM %u (sealed v%llu) kept "
					       "across the reboot\n", id,
					       (unsigned long long)r.version);
				restored++;
			} else if (r.in_use) {
				console_printf("vm-store: VM %u not restored: %s\n", id, why);
			}
			crypto_wipe(&r, sizeof(r));
		}
	}
	crypto_wipe(chunk, sizeof(chunk));
	return restored;
}

void tpm_vm_store_open(bool measured_launch)
{
	uint8_t policy[TPM2_SHA384_LEN];
	unsigned restored = 0;

	if (!tpm_present() || !measured_launch) {
		console_printf("vm-store: %s: sealed VMs are kept in memory only (lost "
			       "at power-off)\n", tpm_present() ?
			       "no measured launch (no firmware event log)" : "no TPM");
		return;
	}
	if (compute_policy(policy))
		goto unusable;
	for (unsigned i = 0; i < STORE_INDEXES; i++) {
		enum index_state state = check_index(i, policy);
		if (state == INDEX_FOREIGN ||
		    (state != INDEX_READY && provision(i, state)))
			goto unusable;
	}
	for (unsigned i = 0; i < STORE_INDEXES; i++)
		restored += restore_index(i);
	store.open = true;
	console_printf("vm-store: sealed VM records kept in TPM NV %#x-%#x, bound to "
		       "PCRs 0-9; %u restored\n", STORE_INDEX_BASE,
		       STORE_INDEX_BASE + STORE_INDEXES - 1, restored);
	return;
unusable:
	drop_session();
	console_printf("vm-store: %s; sealed VMs are kept in memory only on this "
		       "boot\n", store.err);
}

int tpm_vm_store_keep(const struct vm *vm, const struct vm_record *r)
{
	struct vm_record rec = r ? *r : (struct vm_record){ .vm_id = vm->id };
	uint8_t slot[VM_RECORD_LEN];
	unsigned id = vm->id;
	int rc = HC_OK;

	if (!store.open)
		return HC_OK;
	if (id == 0 || id > VM_MAX || rec.vm_id != id)
		return HC_E_INTERNAL;
	if (store.writes[id] >= STORE_SLOT_WRITE_BUDGET) {
		console_printf("vm-store: slot %u has been written %u times, its "
			       "budget: not written again\n", id, store.writes[id]);
		return HC_E_INTERNAL;
	}
	rec.writes = store.writes[id] + 1;
	vm_record_encode(&rec, slot);
	if (nv_write(index_of(id), slot, VM_RECORD_LEN, offset_of(id))) {
		console_printf("vm-store: keeping VM %u's record in NV %#x failed: %s\n",
			       id, store.pub[index_of(id)].index, store.err);
		rc = HC_E_INTERNAL;
	} else {
		store.writes[id]++;
	}
	crypto_wipe(slot, sizeof(slot));
	crypto_wipe(&rec, sizeof(rec));
	return rc;
}
