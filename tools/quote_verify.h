/*
 * Checking a TPM2_Quote as Custos reports carry it: the attestation key's
 * point (tcb/tpm2_cmd.h, struct tpm2_ak), the TPMS_ATTEST bytes and the
 * signature (struct tpm2_quote), and the PCR values the report claims.
 * Host only: the attest is unmarshalled by libtss2-mu (-ltss2-mu), an
 * implementation independent of the TCB's own parsers.
 */
#ifndef CUSTOS_TOOLS_QUOTE_VERIFY_H
#define CUSTOS_TOOLS_QUOTE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#define QUOTE_PCR_LEN       48 /* SHA-384 */
#define QUOTE_PCR_COUNT     24 /* pcrs[] has a row for each of PCRs 0..23 */
#define QUOTE_QUALIFYING_MAX 64

/* What a verified quote says about the TPM's boot cycle, for display. The
 * AK is in the endorsement hierarchy, so the TPM reports these in clear
 * (it obfuscates them for keys of the other hierarchies). */
struct quote_clock {
	uint32_t reset_count;      /* TPM Resets (boots) since TPM2_Clear */
	uint32_t restart_count;    /* Restarts and resumes since that boot */
	uint64_t firmware_version; /* vendor-specific */
};

/*
 * Check a TPM2_Quote: the signature (ECDSA P-384 over SHA-384 of the
 * attest bytes) with the AK's point (04 || X || Y); then the TPMS_ATTEST,
 * unmarshalled whole by libtss2-mu: magic TPM_GENERATED_VALUE, type
 * TPM_ST_ATTEST_QUOTE, extraData == qualifying (0..64 bytes), exactly one
 * PCR selection, the SHA-384 bank with exactly pcr_mask (non-zero, bits
 * 0..23), and pcrDigest == SHA-384 of the selected PCR values concatenated
 * in ascending PCR order (pcrs[i] is PCR i's value). 0 and *clock filled
 * (when clock is not NULL), or -1 with one line in err.
 */
int quote_verify(const uint8_t *attest, size_t attest_len, const uint8_t sig[96],
		 const uint8_t ak_pub[97], const uint8_t *qualifying,
		 size_t qualifying_len, uint32_t pcr_mask,
		 const uint8_t pcrs[][QUOTE_PCR_LEN], struct quote_clock *clock,
		 char *err, size_t err_len);

#endif
