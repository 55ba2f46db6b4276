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
 *
 * Besides the measurements a platform logs in order (hypervisor, CA root,
 * TPGVM), the reference lists the boot-module VMs it allows beside the
 * TPGVM ("boot_vms": name and digest; none when absent). Every event of the
 * log must be one or the other: a boot VM is judged by its name and digest
 * wherever it sits in the log, and an event the reference does not know is
 * a failure, never skipped.
 */
#ifndef CUSTOS_TOOLS_REFERENCE_H
#define CUSTOS_TOOLS_REFERENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/report.h>
#include "tcb/measure.h"
#include "tcb/tcg_log_parse.h"

#define REFERENCE_FORMAT   "custos-reference-1"
#define REFERENCE_MAX_SIZE (64u << 10)

/*
 * The values a measurement may have: "sha384" is one hex string, or a list
 * of 1..REFERENCE_VALUES_MAX distinct ones (a roll-out: platforms that
 * still run the previous build match too). A measurement matches if it
 * equals any of them.
 */
#define REFERENCE_VALUES_MAX 8

struct reference_values {
	size_t count;                        /* 1..REFERENCE_VALUES_MAX */
	uint8_t sha384[REFERENCE_VALUES_MAX][MEASURE_DIGEST_LEN];
};

struct reference_event {
	uint32_t pcr;
	uint32_t event_type;                 /* TCG_EV_* */
	char desc[MEASURE_DESC_MAX];         /* NUL-terminated */
	struct reference_values values;      /* SHA-384s accepted */
};

/* A boot VM's name: what follows MEASURE_BOOT_VM_DESC_PREFIX in its event's
 * description, 1..REFERENCE_BOOT_VM_NAME_MAX of a-z 0-9 _ - (the rule of
 * tcb/vm_config.c for vm.NAME modules). */
#define REFERENCE_BOOT_VM_NAME_MAX 31

struct reference_boot_vm {
	char name[REFERENCE_BOOT_VM_NAME_MAX + 1];
	struct reference_values values;      /* SHA-384s accepted, docs/eventlog.md */
};

/*
 * The measured launch (optional "launch" object, docs/tenant-cli.md): the
 * kernel GRUB must have loaded, by path and SHA-384 of the whole file, and
 * its command line as GRUB measured it. Checked against the firmware's
 * event log of reports that carry one (tools/tpm_evidence.c).
 */
#define REFERENCE_PATH_MAX 127
#define REFERENCE_CMDLINE_MAX 255

struct reference_launch {
	bool present;
	char kernel[REFERENCE_PATH_MAX + 1];
	/* SHA-384s of the kernel file accepted (a roll-out lists the old
	 * build's too) */
	struct reference_values kernel_sha384;
	char kernel_cmdline[REFERENCE_CMDLINE_MAX + 1];
};

struct reference {
	char platform_id[REPORT_PLATFORM_MAX + 1];
	struct reference_launch launch;
	size_t count;
	struct reference_event events[MEASURE_MAX_EVENTS];
	size_t boot_vm_count;                /* 0: no boot VM allowed */
	struct reference_boot_vm boot_vms[MEASURE_MAX_EVENTS];
};

/* Parse len bytes of JSON. 0 and *out filled, or -1 with one line in err
 * (which names the offending key or byte offset). */
int reference_parse(const char *json, size_t len, struct reference *out,
		    char *err, size_t err_len);

/* Whether digest is one of the accepted values. */
bool reference_values_match(const struct reference_values *v,
			    const uint8_t digest[MEASURE_DIGEST_LEN]);

/* Name of a TCG event type as reference.json spells it ("EV_IPL"), or NULL. */
const char *reference_event_type_name(uint32_t type);

/* The name of a boot-module VM's event (PCR 11, EV_IPL, "boot vm NAME"
 * with a well-formed NAME), pointing into e; NULL for any other event. */
const char *reference_boot_vm_name(const struct tcg_event *e);

/*
 * Compare a verified report's platform id and decoded log with the
 * reference: the same platform id; every boot VM event names a VM the
 * reference allows, with its digest, and none twice; every other event is
 * the reference's next measurement, in order, with the same description,
 * PCR, type and digest; none missing. 0, or -1 with the first difference in
 * plain words in err, e.g.
 *   tpgvm image: reported sha384 ab12cd34.. but reference says 9f00aa11..
 *   tpgvm image: reported sha384 ab12cd34.. but reference says one of 9f00aa11.., 0c4f22aa..
 *   boot VM 'evil' (sha384 0c4f22aa..) runs beside the TPGVM, and the reference allows no boot VM 'evil'
 */
int reference_compare(const struct reference *ref, const char *platform_id,
		      size_t platform_id_len, const struct tcg_log_parsed *log,
		      char *err, size_t err_len);

#endif
