/*
 * Records an exchange of tcb/tpm2_session.c with a real swtpm, for
 * tests/unit/test_tpm2_session.c to replay: with the ephemeral key and the
 * nonces fixed, every command is a function of the salt key the TPM
 * returns, so the test can check that the code builds exactly these
 * commands and accepts exactly these responses.
 *
 *   swtpm socket --tpm2 --tpmstate dir=DIR --server type=tcp,port=23600 \
 *         --ctrl type=tcp,port=23601 --flags not-need-init,startup-clear
 *   build/test-tools/tpm2_session_record [port] > tests/unit/tpm2_session_swtpm.h
 *
 * Needs a fresh state (PCR 16 zero). Besides recording, it checks what the
 * replay cannot: that the TPM accepted every session command, that PCR 16
 * reads back as the authorised extend made it, and that CreatePrimary of
 * the salt key again, its outPublic encrypted by the session, decrypts to
 * the outPublic the TPM returned in the clear (the same key: a primary
 * key derives from the seed and the template), which checks parameter
 * decryption against bytes known in advance.
 */
#include "crypto/crypto.h"
#include "tcb/tpm2_session.h"

#define SWTPM_TOOL "tpm2_session_record"
#include "swtpm_link.h"

#define PCR 16

static void check_public_decrypts(struct tpm2_session *s, const uint8_t *plain,
				  size_t plain_len)
{
	static const uint32_t owner = TPM2_RH_OWNER;
	const uint8_t *params;
	uint8_t nonce[TPM2_SESSION_HASH_LEN], out[TPM2_BUFFER_MAX];
	size_t params_len, n;
	uint32_t handle;

	/* CreatePrimary's parameters: everything after its auth area. */
	n = tpm2_build_create_salt_key(cmd, sizeof(cmd));
	fixed(nonce, 0x23);
	n = tpm2_session_build(cmd, sizeof(cmd), s, TPM2_CC_CREATE_PRIMARY, &owner, 1,
			       cmd + 27, n - 27,
			       TPM2_SA_CONTINUE_SESSION | TPM2_SA_ENCRYPT, nonce);
	n = record("rec_create_enc", n);
	if (tpm2_session_parse(rsp, n, s, 1, &handle, &params, &params_len, err,
			       sizeof(err)) != 0)
		die("CreatePrimary with an encrypt session");
	memcpy(out, params, params_len);
	if (plain_len > params_len ||
	    tpm2_session_decrypt_response(s, out + 2, plain_len - 2) != 0 ||
	    memcmp(out, plain, plain_len) != 0)
		die("the encrypted outPublic does not decrypt to the plain one");
	fprintf(stderr, "outPublic decrypts to the plain one (%zu bytes)\n", plain_len);
	transmit(tpm2_build_flush_context(cmd, sizeof(cmd), handle));
}

int main(int argc, char **argv)
{
	struct tpm2_salt_key key;
	struct tpm2_session s;
	uint8_t eph[TPM2_P384_LEN], nonce[TPM2_SESSION_HASH_LEN];
	uint8_t digest[TPM2_SHA384_LEN], random[TPM2_SESSION_HASH_LEN];
	uint8_t pcr[TPM2_SHA384_LEN], want[2 * TPM2_SHA384_LEN];
	size_t n, got;

	connect_to(argc > 1 ? atoi(argv[1]) : 23600);
	if (crypto_init() != CRYPTO_OK)
		die("crypto_init");
	printf("/* Recorded by tests/tools/tpm2_session_record.c from swtpm. */\n");
	n = record("rec_create_salt", tpm2_build_create_salt_key(cmd, sizeof(cmd)));
	if (tpm2_parse_create_salt_key(rsp, n, &key, err, sizeof(err)) != 0)
		die("CreatePrimary");
	/* Its outPublic, for the decryption check. */
	uint8_t plain[TPM2_BUFFER_MAX];
	size_t plain_len = 2 + ((size_t)rsp[18] << 8 | rsp[19]);

	memcpy(plain, rsp + 18, plain_len);

	memset(eph, 0x11, sizeof(eph));
	fixed(nonce, 0x20);
	n = record("rec_start", tpm2_build_start_session(cmd, sizeof(cmd), &s, &key,
							 eph, nonce, TPM2_SE_HMAC));
	if (tpm2_parse_start_session(rsp, n, &s, err, sizeof(err)) != 0)
		die("StartAuthSession");

	fixed(nonce, 0x21);
	n = record("rec_random", tpm2_build_get_random_enc(cmd, sizeof(cmd), &s, 32, nonce));
	if (tpm2_parse_get_random_enc(rsp, n, &s, random, 32, &got, err, sizeof(err)) != 0)
		die("GetRandom");
	emit("rec_random_plain", random, got);

	memset(digest, 0x5a, sizeof(digest));
	fixed(nonce, 0x22);
	n = record("rec_extend", tpm2_build_pcr_extend_hmac(cmd, sizeof(cmd), &s, PCR,
							   digest, nonce));
	if (tpm2_parse_pcr_extend_hmac(rsp, n, &s, err, sizeof(err)) != 0)
		die("PCR_Extend");
	n = record("rec_read", tpm2_build_pcr_read_sha384(cmd, sizeof(cmd), PCR));
	if (tpm2_parse_pcr_read_sha384(rsp, n, PCR, pcr, err, sizeof(err)) != 0)
		die("PCR_Read");
	memset(want, 0, TPM2_SHA384_LEN);
	memcpy(want + TPM2_SHA384_LEN, digest, TPM2_SHA384_LEN);
	crypto_sha384(want, sizeof(want), want);
	if (memcmp(pcr, want, TPM2_SHA384_LEN) != 0)
		die("PCR 16 is not SHA-384(zeros || digest): use a fresh state");
	fprintf(stderr, "PCR %u holds the authorised extend\n", PCR);

	check_public_decrypts(&s, plain, plain_len);
	transmit(tpm2_build_flush_context(cmd, sizeof(cmd), s.handle));
	transmit(tpm2_build_flush_context(cmd, sizeof(cmd), key.handle));
	tpm2_session_forget(&s);
	return 0;
}
