/*
 * The measurement log: what the TCB launched or trusted, in order, each as a
 * SHA-384 digest with a type and a description. Reports (a later milestone)
 * sign it; it is never shortened or rewritten, only appended to.
 */
#ifndef CUSTOS_TCB_MEASURE_H
#define CUSTOS_TCB_MEASURE_H

#include <custos/types.h>

#define MEASURE_DIGEST_LEN 48
#define MEASURE_DESC_MAX   64
#define MEASURE_MAX_EVENTS 32

enum measure_type {
	MEASURE_HV_IMAGE = 1,    /* the hypervisor's code and read-only data */
	MEASURE_HV_CMDLINE = 2,  /* its command line (debug switches show here) */
	MEASURE_CA_ROOT = 3,     /* the compiled-in CA root certificate */
	MEASURE_TPGVM_IMAGE = 4, /* the decrypted TPGVM image */
	MEASURE_TPGVM_POLICY = 5,/* the decrypted TPGVM policy */
};

struct measure_event {
	uint32_t type;
	uint8_t digest[MEASURE_DIGEST_LEN];
	char desc[MEASURE_DESC_MAX];
};

struct measure_log {
	size_t count;
	struct measure_event events[MEASURE_MAX_EVENTS];
};

void measure_log_init(struct measure_log *log);

/* Append an event; the description is cut to fit. -1 when the log is full
 * (then nothing is appended and the caller must not launch what it measured). */
int measure_log_append(struct measure_log *log, enum measure_type type,
		       const uint8_t digest[MEASURE_DIGEST_LEN], const char *desc);

const char *measure_type_name(uint32_t type);

#endif
