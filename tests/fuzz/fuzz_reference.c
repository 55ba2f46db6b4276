/*
 * The reference-values reader (tools/reference.c) over arbitrary bytes: a
 * reference.json travels (downloads, copies) before a tenant trusts it.
 * Properties: no crash, no read beyond the input (ASan: the input is
 * copied into an exact-size heap buffer, not NUL-terminated), and an
 * accepted file gives a platform id, events and allowed boot VMs within
 * their bounds (a boot VM's name as the log's names are checked), each
 * with 1..REFERENCE_VALUES_MAX distinct accepted values.
 */
#include "tools/reference.h"
#include "tests/fuzz/fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/tcg_log.h"

static void check_values(const struct reference_values *v)
{
	require(v->count >= 1 && v->count <= REFERENCE_VALUES_MAX);
	for (size_t i = 0; i < v->count; i++)
		for (size_t k = 0; k < i; k++)
			require(memcmp(v->sha384[i], v->sha384[k], MEASURE_DIGEST_LEN) != 0);
	for (size_t i = 0; i < v->count; i++)
		require(reference_values_match(v, v->sha384[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reference ref;
	char err[200];
	char *json = malloc(size ? size : 1);

	require(json != NULL);
	memcpy(json, data, size);
	if (reference_parse(json, size, &ref, err, sizeof(err)) == 0) {
		require(strlen(ref.platform_id) <= REPORT_PLATFORM_MAX);
		require(ref.count <= MEASURE_MAX_EVENTS);
		for (size_t i = 0; i < ref.count; i++) {
			require(strlen(ref.events[i].desc) < MEASURE_DESC_MAX);
			check_values(&ref.events[i].values);
		}
		require(ref.boot_vm_count <= MEASURE_MAX_EVENTS);
		for (size_t i = 0; i < ref.boot_vm_count; i++) {
			struct tcg_event e = { .pcr = TCG_PCR_BOOT_VM,
					       .event_type = TCG_EV_IPL };
			const char *name;

			check_values(&ref.boot_vms[i].values);
			snprintf(e.desc, sizeof(e.desc), "%s%s",
				 MEASURE_BOOT_VM_DESC_PREFIX, ref.boot_vms[i].name);
			name = reference_boot_vm_name(&e);
			require(name && strcmp(name, ref.boot_vms[i].name) == 0);
		}
	} else {
		require(strlen(err) < sizeof(err));
	}
	free(json);
	return 0;
}
