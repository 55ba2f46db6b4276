/*
 * The measurement log in the TCG PC Client "crypto agile" event log format
 * (TCG PC Client Platform Firmware Profile, section "Event Logging"), so that
 * standard tools (tpm2_eventlog) read it and a verifier can replay it into
 * the PCR values a TPM would hold. docs/eventlog.md has the layout and the
 * PCR and event type of each measurement.
 *
 * Only SHA-384 is logged: the in-memory log holds nothing else, and a
 * crypto-agile log may name any set of banks in its Spec ID event.
 */
#ifndef CUSTOS_TCB_TCG_LOG_H
#define CUSTOS_TCB_TCG_LOG_H

#include <custos/types.h>
#include "tcb/measure.h"

/* Event types ("Event Types" table of the PC Client profile). */
#define TCG_EV_NO_ACTION 0x00000003u
#define TCG_EV_IPL       0x0000000Du

/* TPM_ALG_ID of SHA-384 (TPM 2.0 Library, Part 2, "TPM_ALG_ID"). */
#define TCG_ALG_SHA384   0x000Cu

/* The first event: TCG_PCClientPCREvent (32 bytes before its data) holding
 * a TCG_EfiSpecIdEvent with one algorithm and no vendor info (33 bytes). */
#define TCG_SPECID_EVENT_LEN 33u
#define TCG_HEADER_LEN       (32u + TCG_SPECID_EVENT_LEN)

/* A TCG_PCR_EVENT2 with one SHA-384 digest, before its event data. */
#define TCG_EVENT2_FIXED_LEN (4u + 4u + 4u + 2u + MEASURE_DIGEST_LEN + 4u)

/* The TCB's own PCRs (docs/eventlog.md): the hypervisor and how it was
 * started, what it trusts, the TPGVM, and the boot-module VMs: everything
 * that runs beside the TPGVM and is not a tenant's. */
#define TCG_PCR_HV       12u
#define TCG_PCR_TRUST    13u
#define TCG_PCR_TPGVM    14u
#define TCG_PCR_BOOT_VM  15u

/* The PCR and event type a measurement is logged (and extended) under;
 * -1 for a type this file does not know. */
int tcg_log_pcr(uint32_t measure_type);
uint32_t tcg_log_event_type(uint32_t measure_type);

/* Bytes tcg_log_encode writes for this log, or 0 when the log cannot be
 * encoded (more than MEASURE_MAX_EVENTS events, or an unknown type: neither
 * comes from measure_log_append, so the log was corrupted). */
size_t tcg_log_size(const struct measure_log *log);

/* Encode the whole log into buf. 0 and *len set; -1 when cap is smaller than
 * tcg_log_size() or the log cannot be encoded, and then *len is 0 and buf
 * holds no claimed content. */
int tcg_log_encode(const struct measure_log *log, uint8_t *buf, size_t cap,
		   size_t *len);

/* The SHA-384 value PCR 'pcr' holds after its events are extended in order
 * (PCR = SHA-384(PCR || digest), from 48 zero bytes), i.e. what a verifier
 * computes from the log. The hash comes from the caller so this file stays
 * free of crypto. 0, or -1 if the log cannot be encoded (out is then zero). */
int tcg_log_replay(const struct measure_log *log,
		   void (*sha384)(const void *data, size_t len, uint8_t out[48]),
		   unsigned pcr, uint8_t out[48]);

#endif
