/*
 * libFuzzer target for the TCG event log decoder (tcb/tcg_log_parse.c): the
 * whole input as a log, from an odd address in a heap block of exactly its
 * length (ASan catches any overread, UBSan any misaligned load). Every
 * accepted log is re-read here from the raw bytes against docs/eventlog.md,
 * and re-encoded with tcg_log_encode when its PCRs and types are ones the
 * encoder writes: the bytes must come back identical. The verdict must not
 * depend on the error buffer.
 *
 * Seeds (tests/fuzz/corpus/tcg_log/): logs written by tcg_log_encode.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/measure.h"
#include "tcb/tcg_log.h"
#include "tcb/tcg_log_parse.h"
#include "fuzz_util.h"

static struct tcg_log_parsed parsed, again;
static struct measure_log log_copy;
static uint8_t enc[TCG_HEADER_LEN + MEASURE_MAX_EVENTS * (TCG_EVENT2_FIXED_LEN + MEASURE_DESC_MAX)];

/* The measure type the encoder writes under this PCR, or 0 for none. */
static uint32_t type_for(uint32_t pcr)
{
	switch (pcr) {
	case TCG_PCR_HV: return MEASURE_HV_IMAGE;
	case TCG_PCR_TRUST: return MEASURE_CA_ROOT;
	case TCG_PCR_TPGVM: return MEASURE_TPGVM_IMAGE;
	case TCG_PCR_BOOT_VM: return MEASURE_BOOT_VM;
	default: return 0;
	}
}

static void check(const uint8_t *d, size_t size)
{
	size_t off = TCG_HEADER_LEN, len;
	bool encodable = true;

	require(size >= TCG_HEADER_LEN && memcmp(d + 32, "Spec ID Event03", 16) == 0);
	require(parsed.count <= MEASURE_MAX_EVENTS);
	measure_log_init(&log_copy);
	for (size_t i = 0; i < parsed.count; i++) {
		const struct tcg_event *e = &parsed.events[i];
		uint64_t n = le(d + off + 62, 4);

		require(e->pcr == le(d + off, 4) && e->pcr < 24);
		require(e->event_type == le(d + off + 4, 4));
		require(le(d + off + 8, 4) == 1 && le(d + off + 12, 2) == 0x0c);
		require(memcmp(e->digest, d + off + 14, 48) == 0);
		require(n >= 1 && n <= MEASURE_DESC_MAX && d[off + 66 + n - 1] == 0);
		require(strlen(e->desc) == n - 1 &&
			memcmp(e->desc, d + off + 66, n) == 0);
		if (e->event_type != TCG_EV_IPL || type_for(e->pcr) == 0)
			encodable = false;
		else
			require(measure_log_append(&log_copy,
				(enum measure_type)type_for(e->pcr), e->digest,
				e->desc) == 0);
		off += 66 + n;
	}
	require(off == size);
	if (!encodable)
		return;
	require(tcg_log_encode(&log_copy, enc, sizeof(enc), &len) == 0);
	require(len == size && memcmp(enc, d, size) == 0);
}

static void one_log(const uint8_t *d, size_t size)
{
	char err[160], tiny[3];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = tcg_log_parse(d, size, &parsed, err, sizeof(err));
	require(rc == 0 || rc == -1);
	require(memchr(err, 0, sizeof(err)) != NULL);
	require(tcg_log_parse(d, size, &again, NULL, 0) == rc);
	require(tcg_log_parse(d, size, &again, tiny, sizeof(tiny)) == rc);
	if (rc != 0) {
		require(err[0] != '\0');
		return;
	}
	require(err[0] == '\0');
	check(d, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *block = malloc(size + 1);

	if (!block)
		return 0;
	memcpy(block + 1, data, size);
	one_log(block + 1, size);
	free(block);
	return 0;
}
