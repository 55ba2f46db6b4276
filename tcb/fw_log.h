/*
 * Parser and replayer for the platform firmware's TCG event log in the
 * crypto-agile format (TCG PC Client Platform Firmware Profile, "Event
 * Logging"): the SHA-1-layout TCG_PCClientPCREvent carrying the
 * TCG_EfiSpecIdEvent ("Spec ID Event03"), then TCG_PCR_EVENT2 records, all
 * little-endian. The log is what UEFI firmware and GRUB measured before
 * Custos ran; it reaches us through the boot loader and later inside an
 * untrusted platform report, so every byte is hostile here.
 *
 * What is accepted:
 * - the header event: PCR 0, EV_NO_ACTION, a zero SHA-1 digest, signature
 *   "Spec ID Event03\0", spec version 2.0 (any errata), uintnSize 1 or 2,
 *   1..FW_LOG_MAX_ALGS distinct algorithms whose digest sizes are the known
 *   ones for SHA-1/256/384/512 and SM3-256 (others: 1..FW_LOG_DIGEST_MAX
 *   bytes), then vendorInfoSize and vendor info ending the event exactly;
 * - then any number of records, each with a PCR below 24 and exactly one
 *   digest for every algorithm of the header (any order, none twice);
 * - at most one StartupLocality EV_NO_ACTION event ("StartupLocality\0"
 *   and one byte, 0, 3 or 4), on PCR 0 and before anything extends PCR 0;
 * - nothing after the last record: the log's length must be exact (the
 *   firmware's buffer is larger and zero-filled; whoever copies it out
 *   ends it after the last event). So a prefix of a valid log is accepted
 *   exactly when it ends on an event boundary (after the header or after
 *   a record) — the log can always be cut short; only a verifier comparing
 *   the replay with quoted PCRs notices that.
 *
 * Portable (hypervisor, tools, tests, fuzzer), no crypto (the replay takes
 * the hash function from the caller), no allocation.
 */
#ifndef CUSTOS_TCB_FW_LOG_H
#define CUSTOS_TCB_FW_LOG_H

#include <custos/types.h>

#define FW_LOG_MAX_ALGS    8
#define FW_LOG_PCRS        24u
#define FW_LOG_DIGEST_MAX  64u

#define FW_LOG_ALG_SHA1    0x0004
#define FW_LOG_ALG_SHA256  0x000b
#define FW_LOG_ALG_SHA384  0x000c
#define FW_LOG_ALG_SHA512  0x000d
#define FW_LOG_ALG_SM3_256 0x0012

#define FW_LOG_EV_NO_ACTION 0x00000003u

struct fw_log_info {
	size_t events;                    /* TCG_PCR_EVENT2 records (header not counted) */
	size_t header_len;                /* bytes of the Spec ID event: the records start here */
	size_t alg_count;                 /* 1..FW_LOG_MAX_ALGS */
	uint16_t algs[FW_LOG_MAX_ALGS];   /* the header's algorithms, in its order */
	uint16_t sizes[FW_LOG_MAX_ALGS];  /* their digest sizes */
	uint8_t startup_locality;         /* from a StartupLocality event; 0 without one */
	bool has_startup_locality;
};

/* One record, pointing into the log. */
struct fw_log_event {
	uint32_t pcr;
	uint32_t type;                              /* EV_* */
	const uint8_t *digests[FW_LOG_MAX_ALGS];    /* [i]: info->algs[i]'s digest */
	const uint8_t *data;
	uint32_t data_len;
};

/*
 * Check the whole log of exactly len bytes. 0 with *info filled and err ""
 * (when err allows), or -1 with a one-line reason in err (err may be NULL);
 * *info is written only on success.
 */
int fw_log_parse(const uint8_t *log, size_t len, struct fw_log_info *info,
		 char *err, size_t err_len);

/*
 * Walk the records of a log fw_log_parse accepted (with that info): start
 * with *off = info->header_len. 1 with *ev filled and *off past the record,
 * 0 at the end (*off == len), -1 with a reason in err if the record at *off
 * is malformed (never on an accepted log).
 */
int fw_log_next(const uint8_t *log, size_t len, const struct fw_log_info *info,
		size_t *off, struct fw_log_event *ev, char *err,
		size_t err_len);

/*
 * Replay the log into the 24 PCRs of bank alg, as a PC Client TPM holds
 * them after TPM2_Startup(CLEAR) plus every extend the log records: PCRs
 * 17..22 start all-ones, the others zero except the last byte of PCR 0,
 * which is the StartupLocality (3 for a locality-3 startup, 4 after an
 * H-CRTM sequence); then PCR = hash(PCR || digest) for every record that is
 * not EV_NO_ACTION. hash computes alg's digest (the size the header gives)
 * of its input into out. pcrs[i] holds PCR i, zero-padded to
 * FW_LOG_DIGEST_MAX bytes. -1 with a reason (pcrs untouched) if the log is
 * malformed or has no alg bank.
 */
int fw_log_replay(const uint8_t *log, size_t len, uint16_t alg,
		  void (*hash)(const void *data, size_t len, uint8_t *out),
		  uint8_t (*pcrs)[FW_LOG_DIGEST_MAX], char *err,
		  size_t err_len);

/*
 * Whether the boot loader measured the launch it made (GRUB's tpm module):
 * a "kernel_cmdline: " event in PCR 8 and at least one file in PCR 9
 * (custos.elf among them). Without them PCRs 0-9 say which firmware and
 * loader ran but not which hypervisor: nothing may be bound to them then.
 * False for a log fw_log_parse refuses.
 */
bool fw_log_loader_measured_kernel(const uint8_t *log, size_t len);

#endif
