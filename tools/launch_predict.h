/*
 * The PCRs 0-9 a launch of new boot media will produce on a platform
 * (custos-ca approve, docs/tpm.md "TPM-resident TCB keys"): the
 * platform's firmware and GRUB event log, already shown by a quote to be
 * what its TPM holds, replayed in SHA-384 with the digests of the files
 * the new media changes put in place of the old ones; every other event
 * is replayed as the log has it, PCRs 0-7 (the firmware and GRUB itself)
 * unchanged.
 *
 * Which PCR 9 event measured which file is not taken from the event's
 * data: a quote covers digests and their order within a PCR, never the
 * data, so whoever hands the CA a report could relabel events and have
 * the new hypervisor's digest put where GRUB measures a module. What is
 * authenticated is GRUB's PCR 8: each command's text is the preimage of
 * its digest ("grub_cmd: " + text, SHA-384 of the text). So every PCR 8
 * event must be such a string whose digest verifies; its multiboot2 and
 * module2 commands name, in order, the files GRUB loaded; and GRUB
 * measures those files, in that order, as the last events of PCR 9 (the
 * modules GRUB loads for itself come before). A file is found by that
 * position; the event's data must name the same path, as a cross-check,
 * and a log of any other shape is refused rather than guessed.
 *
 * Host only (custos-ca); the log is parsed by tcb/fw_log.c.
 */
#ifndef CUSTOS_TOOLS_LAUNCH_PREDICT_H
#define CUSTOS_TOOLS_LAUNCH_PREDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAUNCH_PCRS 10u /* PCRs 0-9 */

/* A file of the new media: the name GRUB gives it in its PCR 9 event, and
 * the SHA-384 of its new contents. */
struct launch_file {
	const char *grub_name;
	uint8_t sha384[48];
	unsigned matched; /* out: how many PCR 9 events named it */
};

/*
 * Replay log (len bytes) into PCRs 0-9 of the SHA-384 bank, each PCR 9
 * event whose data is a file of files[] (its name and one NUL) with that
 * file's digest instead of the logged one. Every file must be named by at
 * least one event: new media whose layout differs from the logged launch
 * cannot be predicted this way, and is refused rather than guessed. 0 and
 * pcrs filled, or -1 with one line in err.
 */
int launch_predict(const uint8_t *log, size_t len, struct launch_file *files,
		   size_t n_files, uint8_t pcrs[LAUNCH_PCRS][48], char *err,
		   size_t err_len);

/*
 * The same for new media that also lacks the modules drop[] (their paths
 * as GRUB's module2 commands name them), e.g. production media without
 * the development key module: each dropped module's module2 command and
 * the module_cmdline after it leave PCR 8, its file leaves PCR 9, and the
 * menuentry block GRUB measured (as written in grub.cfg) loses the line
 * that loaded it; its new digest is computed from the authenticated old
 * text. Each must be a module GRUB loaded exactly once.
 */
int launch_predict_dropping(const uint8_t *log, size_t len, struct launch_file *files,
			    size_t n_files, const char *const *drop, size_t n_drop,
			    uint8_t pcrs[LAUNCH_PCRS][48], char *err, size_t err_len);

#endif
