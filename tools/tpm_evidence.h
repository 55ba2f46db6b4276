/*
 * The TPM evidence of a platform report, checked on the tenant's side
 * (docs/report.md, "TPM evidence"; docs/tenant-cli.md): the attestation
 * key's public area, the quote over the report, the PCR values it covers,
 * the TCB's log and the firmware's log replayed to them. Host only: it uses
 * libtss2-mu for the TPM's structures (tools/quote_verify.c).
 */
#ifndef CUSTOS_TOOLS_TPM_EVIDENCE_H
#define CUSTOS_TOOLS_TPM_EVIDENCE_H

#include <custos/report.h>
#include "tcb/tcg_log_parse.h"
#include "tools/reference.h"

struct tpm_evidence_result {
	uint8_t ak_sha384[48];   /* SHA-384 of the key's TPMT_PUBLIC */
	uint32_t pcr_mask;       /* the PCRs the quote covers */
	bool firmware_log;       /* PCRs 0-11 replayed from the firmware's log */
	size_t firmware_events;  /* its events (the Spec ID header not counted) */
	bool launch_checked;     /* GRUB loaded the reference's kernel and command line */
	bool ak_certified;       /* a tcb-ak certificate from the CA root for this key */
	bool has_ek_cert;        /* the report carries the TPM's EK certificate */
	/* The report carries both TPM-resident TCB keys, certified by this
	 * AK with the Custos template under this CA's approvals, and its
	 * signing certificate is for that signing key. */
	bool tcb_keys_in_tpm;
};

/*
 * Check the evidence of a parsed, signature-checked report r (buf is the
 * report it points into; tcb_log its parsed measurement log):
 *  - the key is a restricted ECC P-384 signing key with ECDSA-SHA384, fixed
 *    to its TPM (what the TCB asks for; anything else is refused);
 *  - its quote verifies, qualifies exactly report_quoted_digest() of the
 *    report, and covers exactly the PCR values carried, which include
 *    PCRs 12-15;
 *  - the TCB's log replays to PCRs 12-15;
 *  - a firmware log, if carried, parses and replays (SHA-384) to every
 *    quoted PCR below 12;
 *  - with a launch reference (may be NULL or not present) and a firmware
 *    log: GRUB ran exactly one multiboot2 command, for the reference's
 *    kernel path, measured that file with the reference's SHA-384 and the
 *    reference's kernel command line. (GRUB itself and the firmware are
 *    not compared with anything yet: docs/tpm.md.)
 *  - an attestation key certificate, if carried, chains to root (the
 *    tenant's CA root, DER) with role tcb-ak and is for exactly this key:
 *    then res->ak_certified (a certificate that fails is a refusal).
 * 0, or -1 with one line in err: a report whose evidence fails is refused,
 * DEV or not. The key is not certified by anyone yet (docs/tpm.md), so
 * passing proves the log is what a TPM holds, not whose TPM it is.
 *  - TPM-resident TCB keys, if carried, must check out (tools/tcb_key_check.h);
 *    then res->tcb_keys_in_tpm when the report's signing certificate is a
 *    tcb-sign one for that key. A report that CLAIMS key protection "tpm"
 *    is refused unless tcb_keys_in_tpm and the AK is certified: the claim
 *    is believed from this evidence only.
 */
int tpm_evidence_check(const uint8_t *buf, const struct report *r,
		       const struct tcg_log_parsed *tcb_log,
		       const struct reference_launch *launch,
		       const uint8_t *root, size_t root_len,
		       struct tpm_evidence_result *res, char *err, size_t err_len);

#endif
