#include "tcb/measure.h"

#include <string.h>

void measure_log_init(struct measure_log *log)
{
	memset(log, 0, sizeof(*log));
}

int measure_log_append(struct measure_log *log, enum measure_type type,
		       const uint8_t digest[MEASURE_DIGEST_LEN], const char *desc)
{
	struct measure_event *e;
	size_t n;

	if (log->count >= MEASURE_MAX_EVENTS)
		return -1;
	e = &log->events[log->count];
	memset(e, 0, sizeof(*e));
	e->type = (uint32_t)type;
	memcpy(e->digest, digest, MEASURE_DIGEST_LEN);
	n = desc ? strnlen(desc, MEASURE_DESC_MAX - 1) : 0;
	memcpy(e->desc, desc ? desc : "", n);
	log->count++;
	return 0;
}

const char *measure_type_name(uint32_t type)
{
	switch (type) {
	case MEASURE_HV_IMAGE:     return "hypervisor";
	case MEASURE_HV_CMDLINE:   return "cmdline";
	case MEASURE_CA_ROOT:      return "ca-root";
	case MEASURE_TPGVM_IMAGE:  return "tpgvm-image";
	case MEASURE_TPGVM_POLICY: return "tpgvm-policy";
	default:                   return "unknown";
	}
}
