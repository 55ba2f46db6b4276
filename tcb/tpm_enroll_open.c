/*
 * The enrollment module's certificate, decrypted with the credential the
 * TPM gave back (tcb/tpm_enroll.h).
 */
#include "tcb/tpm_enroll.h"
#include "crypto/crypto.h"

int tpm_enrollment_open_cert(const uint8_t *buf, const struct tpm_enrollment *e,
			     const uint8_t *credential, size_t credential_len,
			     uint8_t *cert)
{
	static const char info[] = ENROLL_HKDF_INFO;
	uint8_t key[CRYPTO_AES256_KEY_LEN];
	int rc;

	if (crypto_hkdf_sha384(NULL, 0, credential, credential_len, info,
			       sizeof(info) - 1, key, sizeof(key)) != CRYPTO_OK)
		return -1;
	rc = crypto_aes256gcm_decrypt(key, e->nonce, buf, e->aad_len, e->cert_enc,
				      e->cert_len, cert, e->tag);
	crypto_wipe(key, sizeof(key));
	return rc == CRYPTO_OK ? 0 : -1;
}
