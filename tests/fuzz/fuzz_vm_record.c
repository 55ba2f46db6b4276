/*
 * libFuzzer target for a sealed VM's NV record (tcb/vm_record.c): the
 * input's first byte picks the VM id, the next VM_RECORD_LEN bytes are the
 * slot. An accepted slot must encode back to exactly its bytes (nothing in
 * it is ignored; an all-zero slot is a never-written free one), and a
 * refusal must say why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/vm_record.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t slot[VM_RECORD_LEN] = { 0 }, again[VM_RECORD_LEN];
	struct vm_record r;
	char err[160];
	uint32_t id;
	int rc;

	if (size < 1)
		return 0;
	id = data[0] % 20;
	memcpy(slot, data + 1, size - 1 < VM_RECORD_LEN ? size - 1 : VM_RECORD_LEN);
	rc = vm_record_parse(slot, id, &r, err, sizeof(err));
	if (rc != 0) {
		require(rc == -1 && err[0] != '\0');
		return 0;
	}
	require(id >= 1 && id <= 16 && r.vm_id == id);
	if (memcmp(slot, (uint8_t[VM_RECORD_LEN]){ 0 }, VM_RECORD_LEN) == 0) {
		require(!r.in_use && r.writes == 0); /* never written */
		return 0;
	}
	vm_record_encode(&r, again);
	require(memcmp(again, slot, VM_RECORD_LEN) == 0);
	return 0;
}
