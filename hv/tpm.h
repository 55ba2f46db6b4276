/*
 * The platform's TPM 2.0, if it has one (docs/tpm.md): found at boot,
 * started, its randomness mixed into the DRBG, and from then on every
 * measurement the TCB logs is extended into the TPM's SHA-384 bank before
 * what it measured may run.
 */
#ifndef CUSTOS_HV_TPM_H
#define CUSTOS_HV_TPM_H

#include <custos/types.h>
#include "tcb/measure.h"

/*
 * Find and start the TPM; one console line says what was found. A TPM
 * that is absent, or present but unusable (no SHA-384 bank, a command
 * refused, a malformed answer), leaves the platform without one: it then
 * runs as a development platform and says so, and nothing claims
 * otherwise. Needs the crypto layer (platform_crypto_init) and the TSC
 * rate.
 */
void tpm_init(void);

bool tpm_present(void);

/* Extend a SHA-384 digest into a PCR of the TPM's SHA-384 bank; -1 (and a
 * console line) on failure. */
int tpm_extend(uint32_t pcr, const uint8_t digest[MEASURE_DIGEST_LEN]);

/* Read one PCR of the SHA-384 bank. */
int tpm_pcr_read(uint32_t pcr, uint8_t out[MEASURE_DIGEST_LEN]);

/* Read the TCB's PCRs (12-15) back and compare each with the replay of
 * the log: one console line each. A mismatch means an extend was lost or
 * changed on its way (a broken TPM or an interposer on the bus); false
 * then. True without a TPM. */
bool tpm_check_log(const struct measure_log *log);

/* Check the firmware's and the boot loader's event log (tcb/fw_log.h)
 * against the TPM: its SHA-384 replay must equal PCRs 0-9 as the TPM holds
 * them. One console line; false on any doubt or without a TPM. */
bool tpm_check_firmware_log(const uint8_t *log, size_t len);

/* A measure_log extend hook (tcb/measure.h): the event's PCR by
 * tcb/tcg_log.c's table, extended when there is a TPM, nothing otherwise. */
int tpm_measure_hook(uint32_t type, const uint8_t digest[MEASURE_DIGEST_LEN]);

/* A checked firmware log (tpm_check_firmware_log) for reports to carry:
 * it must stay in place (boot/efi_log.h's buffer does). */
void tpm_keep_firmware_log(const uint8_t *log, size_t len);

/*
 * The attestation key (created now, the same on every boot of this TPM),
 * the TPM's EK certificate, and - with the CA's tpm-enrollment module
 * (enrollment, NULL if none) - the key's tcb-ak certificate, released by
 * credential activation and checked against the compiled-in CA root. One
 * console line says how far it got; reports carry what there is.
 */
void tpm_attestation_init(const uint8_t *enrollment, size_t len);

/* The TPM evidence every report carries (include/custos/report.h): its
 * length, fixed for this boot (0: no TPM or no attestation key; the first
 * call creates the key), and its writer, a report_contents.tpm_evidence. */
size_t tpm_evidence_len(void);
int tpm_write_evidence(void *ctx, const uint8_t quoted[48], uint8_t *out,
		       size_t len);

/* TPM2_Certify of a TPM-resident TCB key by the attestation key, with
 * empty qualifying data (hv/tpm_tcb_key.c): 0, or -1 and why in err. */
struct tpm2_tcb_key;
struct tpm2_tcb_certify;
int tpm_ak_certify(const struct tpm2_tcb_key *key, struct tpm2_tcb_certify *out,
		   char *err, size_t err_len);
/* The TCB keys field of every report's evidence (include/custos/report.h):
 * only before the first report source asked for the evidence's length
 * (tpm_evidence_len), which is fixed from then on; -1 after, or too long. */
int tpm_keep_tcb_keys(const uint8_t *field, size_t len);

/* One command to the TPM and its response (TPM_RC_RETRY answered by
 * sending it again): 0 with *rsp_len bytes in rsp, or -1 with a reason in
 * err. For the TPM's other users in hv/ (hv/tpm_vm_store.c); never from
 * two places at once. */
int tpm_transact(const uint8_t *cmd, size_t len, uint8_t *rsp, size_t cap,
		 size_t *rsp_len, char *err, size_t err_len);
/* A salted session of se_type (TPM2_SE_HMAC, TPM2_SE_POLICY) into s:
 * 0, or -1 with a reason in err. The caller flushes it. */
struct tpm2_session;
int tpm_start_salted_session(struct tpm2_session *s, uint8_t se_type, char *err,
			     size_t err_len);
#endif
