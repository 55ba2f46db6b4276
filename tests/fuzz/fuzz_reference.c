/*
 * The reference-values reader (tools/reference.c) over arbitrary bytes: a
 * reference.json travels (downloads, copies) before a tenant trusts it.
 * Properties: no crash, no read beyond the input (ASan: the input is
 * copied into an exact-size heap buffer, not NUL-terminated), and an
 * accepted file gives a platform id and events within their bounds.
 */
#include "tools/reference.h"
#include "tests/fuzz/fuzz_util.h"

#include <stdlib.h>
#include <string.h>

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
		for (size_t i = 0; i < ref.count; i++)
			require(strlen(ref.events[i].desc) < MEASURE_DESC_MAX);
	} else {
		require(strlen(err) < sizeof(err));
	}
	free(json);
	return 0;
}
