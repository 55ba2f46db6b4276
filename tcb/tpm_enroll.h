/*
 * The enrollment module (boot module "tpm-enrollment", written by
 * `custos-ca enroll`, docs/tpm.md "Enrollment"): the CA's answer to a
 * platform's attestation key. It holds a TPM credential made for that key
 * and the TPM's EK, which only that TPM can activate, and the key's tcb-ak
 * certificate encrypted under the credential: so a TPM that does not hold
 * both keys never gets the certificate.
 *
 *   8    magic "CUSTENR1"
 *   4    version 1
 *   2+n  AK Name (n = 50: 0x000c || SHA-384 of the key's TPMT_PUBLIC)
 *   2+n  credentialBlob (TPM2B_ID_OBJECT contents), n in 1..256
 *   2+n  encryptedSecret (TPM2B_ENCRYPTED_SECRET contents), n in 1..512
 *   12   AES-256-GCM nonce
 *   2+n  the certificate (DER), encrypted: n in 1..2048 bytes
 *   16   GCM tag
 *
 * Little-endian lengths; nothing may follow the tag. The GCM key is
 * HKDF-SHA384(salt empty, ikm = the credential, info "CUSTOS-AK-CERT-1"),
 * the AAD every byte before the nonce. The module is untrusted input (it
 * lies on the boot media): parsed strictly here (portable, unit-tested and
 * fuzzed), and its certificate believed only after the TPM activated the
 * credential and the GCM tag verified.
 */
#ifndef CUSTOS_TCB_TPM_ENROLL_H
#define CUSTOS_TCB_TPM_ENROLL_H

#include <custos/types.h>

#define ENROLL_MAGIC        "CUSTENR1"
#define ENROLL_AK_NAME_LEN  50u
#define ENROLL_BLOB_MAX     256u
#define ENROLL_SECRET_MAX   512u
#define ENROLL_CERT_MAX     2048u
#define ENROLL_NONCE_LEN    12u
#define ENROLL_TAG_LEN      16u
#define ENROLL_HKDF_INFO    "CUSTOS-AK-CERT-1"

struct tpm_enrollment {
	const uint8_t *ak_name;          /* ENROLL_AK_NAME_LEN bytes */
	const uint8_t *blob;             /* credentialBlob */
	size_t blob_len;
	const uint8_t *secret;           /* encryptedSecret */
	size_t secret_len;
	size_t aad_len;                  /* bytes [0, aad_len) are the AAD */
	const uint8_t *nonce;            /* ENROLL_NONCE_LEN bytes */
	const uint8_t *cert_enc;         /* the encrypted certificate */
	size_t cert_len;
	const uint8_t *tag;              /* ENROLL_TAG_LEN bytes */
};

/* Structure only: 0 and *e (pointers into buf; err then empty), or -1
 * with one line in err. */
int tpm_enrollment_parse(const uint8_t *buf, size_t len,
			 struct tpm_enrollment *e, char *err, size_t err_len);

/* The certificate, once the TPM gave the credential: into cert (at least
 * e->cert_len bytes). 0, or -1 when the tag does not verify (another
 * credential, or a changed module); cert then holds nothing. */
int tpm_enrollment_open_cert(const uint8_t *buf, const struct tpm_enrollment *e,
			     const uint8_t *credential, size_t credential_len,
			     uint8_t *cert);

#endif
