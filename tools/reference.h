/*
 * Reference values of a Custos build (build/reference.json, written by
 * tools/mkreference.py; docs/tenant-cli.md has the format) and their
 * comparison with a platform's verified measurement log.
 *
 * The file is the tenant's own, but it travels (downloads, copies), so the
 * reader is a small strict JSON parser for exactly this format: bounded
 * size, depth and lengths, no duplicate keys, every required key present,
 * nothing after the top-level object. Unknown keys are skipped (whatever
 * their value) so the format can grow.
 */
#ifndef CUSTOS_TOOLS_REFERENCE_H
#define CUSTOS_TOOLS_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include <custos/report.h>
#include "tcb/measure.h"
#include "tcb/tcg_log_parse.h"

#define REFERENCE_FORMAT   "custos-reference-1"
#define REFERENCE_MAX_SIZE (64u << 10)

struct reference_event {
	uint32_t pcr;
	uint32_t event_type;                 /* TCG_EV_* */
	char desc[MEASURE_DESC_MAX];         /* NUL-terminated */
	uint8_t digest[MEASURE_DIGEST_LEN];  /* SHA-384 */
};

struct reference {
	char platform_id[REPORT_PLATFORM_MAX + 1];
	size_t count;
	struct reference_event events[MEASURE_MAX_EVENTS];
};

/* Parse len bytes of JSON. 0 and *out filled, or -1 with one line in err
 * (which names the offending key or byte offset). */
int reference_parse(const char *json, size_t len, struct reference *out,
		    char *err, size_t err_len);

/* Name of a TCG event type as reference.json spells it ("EV_IPL"), or NULL. */
const char *reference_event_type_name(uint32_t type);

/*
 * Compare a verified report's platform id and decoded log with the
 * reference: the same platform id, then the same events in the same order
 * with the same descriptions, PCRs, types and digests. 0, or -1 with the
 * first difference in plain words in err, e.g.
 *   tpgvm image: reported sha384 ab12cd34.. but reference says 9f00aa11..
 */
int reference_compare(const struct reference *ref, const char *platform_id,
		      size_t platform_id_len, const struct tcg_log_parsed *log,
		      char *err, size_t err_len);

#endif
