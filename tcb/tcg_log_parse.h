/*
 * Decoder for the measurement log in the TCG crypto-agile event log format
 * that tcb/tcg_log.c writes (docs/eventlog.md, "Layout"). A tenant receives
 * the log inside a platform report from a platform it is about to judge, so
 * the bytes are hostile until the report's signature and the comparison
 * with reference values say otherwise: everything is bounds-checked here.
 *
 * Strict on purpose: only what tcg_log_encode can produce is accepted —
 * exactly our Spec ID event (one SHA-384 bank, no vendor info), then at
 * most MEASURE_MAX_EVENTS TCG_PCR_EVENT2 records, each with one SHA-384
 * digest, a PCR below 24 and a description of 0..MEASURE_DESC_MAX-1
 * printable ASCII bytes plus its NUL, and nothing after the last record.
 * Portable, no crypto, no allocation.
 */
#ifndef CUSTOS_TCB_TCG_LOG_PARSE_H
#define CUSTOS_TCB_TCG_LOG_PARSE_H

#include <custos/types.h>
#include "tcb/measure.h"

#define TCG_PCR_COUNT 24u

/* One decoded TCG_PCR_EVENT2. */
struct tcg_event {
	uint32_t pcr;
	uint32_t event_type;                 /* TCG_EV_* */
	uint8_t digest[MEASURE_DIGEST_LEN];  /* SHA-384 */
	char desc[MEASURE_DESC_MAX];         /* NUL-terminated, printable */
};

struct tcg_log_parsed {
	size_t count;
	struct tcg_event events[MEASURE_MAX_EVENTS];
};

/*
 * Decode the log of exactly len bytes. 0 and *out filled (err set to ""),
 * or -1 with a one-line reason in err (err may be NULL); *out is written
 * only on success.
 */
int tcg_log_parse(const uint8_t *buf, size_t len, struct tcg_log_parsed *out,
		  char *err, size_t err_len);

#endif
