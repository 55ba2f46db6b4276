/*
 * The measurement log: what the TCB launched or trusted, in order, each as a
 * SHA-384 digest with a type and a description. Every platform report
 * carries it; it is never shortened or rewritten, only appended to.
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
	MEASURE_BOOT_VM = 6,     /* a VM from a boot module (vm.NAME), before it runs */
};

/*
 * A boot-module VM's event: the description "boot vm NAME" (NAME as its
 * module command line gives it), and the digest
 *   SHA-384("CUSTOS-BOOT-VM-1" || SHA-384(cmdline) || u64 len(cmdline)
 *                              || SHA-384(image)   || u64 len(image))
 * over exactly what runs: the module's whole command line ("vm.NAME
 * mem=SIZE ARGS", which sets its name, memory and arguments) and its image;
 * lengths little-endian (docs/eventlog.md).
 */
#define MEASURE_BOOT_VM_TAG         "CUSTOS-BOOT-VM-1"
#define MEASURE_BOOT_VM_DESC_PREFIX "boot vm "

struct measure_event {
	uint32_t type;
	uint8_t digest[MEASURE_DIGEST_LEN];
	char desc[MEASURE_DESC_MAX];
};

struct measure_log {
	size_t count;
	struct measure_event events[MEASURE_MAX_EVENTS];
	/*
	 * Where a TPM records what the log says (hv/tpm.c), called by
	 * measure_log_append before the event is appended: a measurement
	 * that did not reach the TPM is not logged either, and its caller
	 * must not launch what it measured. NULL: the log alone (tests,
	 * tools). Set after measure_log_init.
	 */
	int (*extend)(uint32_t type, const uint8_t digest[MEASURE_DIGEST_LEN]);
};

void measure_log_init(struct measure_log *log);

/* Append an event; the description is cut to fit. -1 when the log is full
 * or the extend hook fails (then nothing is appended and the caller must
 * not launch what it measured). */
int measure_log_append(struct measure_log *log, enum measure_type type,
		       const uint8_t digest[MEASURE_DIGEST_LEN], const char *desc);

const char *measure_type_name(uint32_t type);

/* No room for another event (then nothing more may be launched). */
bool measure_log_full(const struct measure_log *log);

/* The digest of a boot-module VM (above). The hash comes from the caller so
 * this file stays free of crypto. */
void measure_boot_vm_digest(void (*sha384)(const void *data, size_t len,
					   uint8_t out[MEASURE_DIGEST_LEN]),
			    const char *cmdline, const void *image,
			    size_t image_len, uint8_t out[MEASURE_DIGEST_LEN]);

/* Its description, "boot vm NAME" (cut to fit, as every description). */
void measure_boot_vm_desc(const char *name, char desc[MEASURE_DESC_MAX]);

#endif
