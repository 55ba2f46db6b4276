/*
 * Records tcb/tpm2_tcb_key.c's exchanges with a real swtpm, for
 * tests/unit/test_tpm2_tcb_key.c to replay: with the ephemeral keys, the
 * nonces and the PCR values fixed, every command is a function of what the
 * TPM returned, so the test can check that the code builds exactly these
 * commands and accepts exactly these responses.
 *
 *   swtpm socket --tpm2 --tpmstate dir=DIR --server type=tcp,port=23620 \
 *         --ctrl type=tcp,port=23621 --flags not-need-init,startup-clear
 *   build/test-tools/tpm2_tcb_key_record [port] > tests/unit/tpm2_tcb_key_swtpm.h
 *
 * Needs a fresh state (PCRs 0-9 zero). The sequence: PCRs 0-9 extended to
 * known values and read, their PolicyPCR digest the keys' authPolicy; the
 * AK; each TCB key created, flushed and created again, which must give the
 * same key; Certify of each by the AK, whose signature over the attest is
 * verified here; the AK flushed, the salt key and a salted policy session;
 * PolicyPCR + Sign, the signature verified with the key; PolicyPCR +
 * ECDH_ZGen of an ephemeral point, the answer compared with the ECDH of
 * the ephemeral scalar and the key. Then what the TPM must refuse: Sign
 * with the empty password (the key has no userWithAuth); after PCR 9 is
 * extended, PolicyPCR with the old PCR digest, and PolicyPCR with the new
 * one + Sign. stderr says which response code each refusal carried: the
 * replay cannot see that the TPM, not the code, refused.
 */
#define _GNU_SOURCE /* memmem */
#include "crypto/crypto.h"
#include "tcb/byteorder.h"
#include "tcb/tpm2_tcb_key.h"

#define SWTPM_TOOL "tpm2_tcb_key_record"
#include "swtpm_link.h"

#define PCR_MASK   0x3ffu  /* PCRs 0-9: the firmware's and GRUB's */
#define PCR_COUNT  10
#define HASH       TPM2_SHA384_LEN

static uint8_t pcrs[PCR_COUNT][HASH];

/* PCR i gets one extend of a digest of bytes 0x40 + i (as tpm2_nv_record). */
static void set_pcrs(void)
{
	uint8_t digest[HASH];
	size_t n;

	for (uint32_t i = 0; i < PCR_COUNT; i++) {
		memset(digest, 0x40 + (int)i, sizeof(digest));
		n = transmit(tpm2_build_pcr_extend_sha384(cmd, sizeof(cmd), i, digest));
		if (tpm2_parse_pcr_extend(rsp, n, err, sizeof(err)) != 0)
			die("PCR_Extend");
	}
}

static void read_pcr(uint32_t i, uint8_t out[HASH])
{
	size_t n = transmit(tpm2_build_pcr_read_sha384(cmd, sizeof(cmd), i));

	if (tpm2_parse_pcr_read_sha384(rsp, n, i, out, err, sizeof(err)) != 0)
		die("PCR_Read");
}

static void flush(uint32_t handle)
{
	size_t n = transmit(tpm2_build_flush_context(cmd, sizeof(cmd), handle));

	if (tpm2_parse_flush_context(rsp, n, err, sizeof(err)) != 0)
		die("FlushContext");
}

static void expect_refusal(const char *what, uint32_t rc, bool ok)
{
	if (rc == TPM2_RC_SUCCESS || rc == TPM2_RC_MALFORMED || !ok)
		die(what);
	fprintf(stderr, "%s: refused with %s\n", what, tpm2_rc_name(rc));
	err[0] = '\0';
}

static void create(const char *name, enum tpm2_tcb_key_kind kind,
		   const uint8_t policy[HASH], struct tpm2_tcb_key *key)
{
	size_t n = record(name, tpm2_build_create_tcb_key(cmd, sizeof(cmd), kind, policy));

	if (tpm2_parse_create_tcb_key(rsp, n, kind, policy, key, NULL, err,
				      sizeof(err)) != 0)
		die("CreatePrimary of a TCB key");
}

/* Created, flushed, created again: the same key from the same seed. */
static void create_twice(const char *first, const char *again,
			 enum tpm2_tcb_key_kind kind, const uint8_t policy[HASH],
			 struct tpm2_tcb_key *key)
{
	struct tpm2_tcb_key once;

	create(first, kind, policy, &once);
	flush(once.handle);
	create(again, kind, policy, key);
	if (memcmp(once.pub, key->pub, sizeof(key->pub)) != 0 ||
	    memcmp(once.name, key->name, sizeof(key->name)) != 0)
		die("CreatePrimary twice: two different keys");
	fprintf(stderr, "%s: the same key twice\n", again);
}

static void certify(const char *name, const struct tpm2_tcb_key *key,
		    const struct tpm2_ak *ak, const uint8_t *qualifying, size_t q_len)
{
	struct tpm2_tcb_certify c;
	uint8_t digest[HASH];
	size_t n;

	n = record(name, tpm2_build_certify_tcb_key(cmd, sizeof(cmd), key, ak->handle,
						    qualifying, q_len));
	if (tpm2_parse_certify_tcb_key(rsp, n, key, qualifying, q_len, &c, NULL, err,
				       sizeof(err)) != 0)
		die("Certify");
	crypto_sha384(c.attest, c.attest_len, digest);
	if (crypto_ecdsa_p384_verify(ak->pub, digest, sizeof(digest), c.sig) != CRYPTO_OK)
		die("Certify: the AK's signature does not verify");
	fprintf(stderr, "%s: attest of %zu bytes, the AK's signature verifies\n", name,
		c.attest_len);
}

static void start(struct tpm2_session *s, const struct tpm2_salt_key *key)
{
	uint8_t eph[TPM2_P384_LEN], nonce[TPM2_SESSION_HASH_LEN];
	size_t n;

	memset(eph, 0x11, sizeof(eph));
	fixed(nonce, 0x30);
	n = record("rec_start", tpm2_build_start_session(cmd, sizeof(cmd), s, key, eph,
							 nonce, TPM2_SE_POLICY));
	if (tpm2_parse_start_session(rsp, n, s, err, sizeof(err)) != 0)
		die("StartAuthSession (policy)");
}

/* PolicyPCR; its response code. */
static uint32_t policy_pcr(const char *name, const struct tpm2_session *s,
			   const uint8_t digest[HASH])
{
	uint32_t rc;
	size_t n = record(name, tpm2_build_policy_pcr(cmd, sizeof(cmd), s->handle,
						      PCR_MASK, digest));

	tpm2_parse_policy_pcr(rsp, n, &rc, err, sizeof(err));
	err[0] = '\0';
	return rc;
}

static void sign(struct tpm2_session *s, const struct tpm2_tcb_key *key,
		 const uint8_t pcr_digest[HASH])
{
	uint8_t digest[HASH], nonce[TPM2_SESSION_HASH_LEN], sig[2 * HASH];
	size_t n;

	crypto_sha384("a TCB report", 12, digest);
	emit("rec_sign_digest", digest, sizeof(digest));
	if (policy_pcr("rec_policy_sign", s, pcr_digest) != TPM2_RC_SUCCESS)
		die("PolicyPCR before Sign");
	fixed(nonce, 0x31);
	n = record("rec_sign", tpm2_build_tcb_sign(cmd, sizeof(cmd), s, key, digest, nonce));
	if (tpm2_parse_tcb_sign(rsp, n, s, sig, NULL, err, sizeof(err)) != 0)
		die("Sign");
	if (crypto_ecdsa_p384_verify(key->pub, digest, sizeof(digest), sig) != CRYPTO_OK)
		die("Sign: the signature does not verify with the key");
	fprintf(stderr, "Sign: the signature verifies with the TCB signing key\n");
}

static void zgen(struct tpm2_session *s, const struct tpm2_tcb_key *key,
		 const uint8_t pcr_digest[HASH])
{
	uint8_t eph[TPM2_P384_LEN], point[TPM2_P384_POINT_LEN];
	uint8_t z[TPM2_P384_LEN], want[TPM2_P384_LEN], nonce[TPM2_SESSION_HASH_LEN];
	size_t n;

	memset(eph, 0x21, sizeof(eph));
	if (crypto_p384_public(eph, point) != CRYPTO_OK ||
	    crypto_ecdh_p384(eph, key->pub, want) != CRYPTO_OK)
		die("the ephemeral key");
	if (policy_pcr("rec_policy_zgen", s, pcr_digest) != TPM2_RC_SUCCESS)
		die("PolicyPCR before ECDH_ZGen");
	fixed(nonce, 0x32);
	n = record("rec_zgen", tpm2_build_tcb_ecdh_zgen(cmd, sizeof(cmd), s, key, point,
							nonce));
	if (tpm2_parse_tcb_ecdh_zgen(rsp, n, s, z, NULL, err, sizeof(err)) != 0)
		die("ECDH_ZGen");
	if (memcmp(z, want, sizeof(z)) != 0)
		die("ECDH_ZGen: not the ECDH of the ephemeral key and the key");
	if (memmem(rsp, n, z, 16) != NULL)
		die("ECDH_ZGen: the shared secret crossed in the clear");
	fprintf(stderr, "ECDH_ZGen: the shared x equals crypto_ecdh_p384's\n");
}

/* Sign authorised by the empty password, marshalled here: the code has no
 * such builder, since the key allows no such use. */
static void sign_with_password(const struct tpm2_tcb_key *key)
{
	uint8_t *p = cmd + TPM2_HEADER_LEN;
	uint32_t rc;
	size_t n;

	p = store_be32(p, key->handle);
	p = store_be32(p, 9);
	p = store_be32(p, TPM2_RS_PW);
	p = store_be16(p, 0);
	*p++ = 0;
	p = store_be16(p, 0);
	p = store_be16(p, HASH);
	memset(p, 0x5a, HASH);
	p = store_be16(p + HASH, TPM2_ALG_ECDSA);
	p = store_be16(p, TPM2_ALG_SHA384);
	p = store_be16(p, TPM2_ST_HASHCHECK);
	p = store_be32(p, TPM2_RH_NULL);
	p = store_be16(p, 0);
	n = (size_t)(p - cmd);
	store_be32(store_be32(store_be16(cmd, TPM2_ST_SESSIONS), (uint32_t)n),
		   TPM2_CC_SIGN);
	n = record("rec_sign_pw", n);
	if (tpm2_response_header(rsp, n, TPM2_ST_SESSIONS, &rc, err, sizeof(err)) != 0)
		die("Sign with the password: a malformed response");
	expect_refusal("Sign with the empty password", rc,
		       rc == TPM2_RC_AUTH_UNAVAILABLE);
}

/* PCR 9 extended: the old PCR digest, then the new one and Sign. */
static void pcrs_changed(struct tpm2_session *s, const struct tpm2_tcb_key *key,
			 const uint8_t old_digest[HASH])
{
	uint8_t digest[HASH], policy[HASH], nonce[TPM2_SESSION_HASH_LEN], sig[2 * HASH];
	uint32_t rc;
	size_t n;

	memset(digest, 0x99, sizeof(digest));
	n = record("rec_extend9", tpm2_build_pcr_extend_sha384(cmd, sizeof(cmd), 9, digest));
	if (tpm2_parse_pcr_extend(rsp, n, err, sizeof(err)) != 0)
		die("PCR_Extend of PCR 9");
	rc = policy_pcr("rec_policy_stale", s, old_digest);
	expect_refusal("PolicyPCR with the PCR digest of before", rc,
		       tpm2_rc_is_policy_mismatch(rc));

	read_pcr(9, pcrs[9]);
	emit("rec_pcr9_after", pcrs[9], HASH);
	if (tpm2_policy_pcr_digest(PCR_MASK, pcrs, PCR_COUNT, digest, policy) != 0 ||
	    policy_pcr("rec_policy_now", s, digest) != TPM2_RC_SUCCESS)
		die("PolicyPCR with today's PCR digest");
	memset(digest, 0x5a, sizeof(digest));
	fixed(nonce, 0x33);
	n = record("rec_sign_refused",
		   tpm2_build_tcb_sign(cmd, sizeof(cmd), s, key, digest, nonce));
	if (tpm2_parse_tcb_sign(rsp, n, s, sig, &rc, err, sizeof(err)) == 0)
		die("Sign after PolicyPCR of other PCRs: signed");
	expect_refusal("Sign after PolicyPCR of other PCRs", rc,
		       tpm2_rc_is_policy_mismatch(rc));
}

int main(int argc, char **argv)
{
	static const uint8_t q_sign[TPM2_TCB_QUALIFYING_MAX] = { [0] = 0x51, [47] = 0x52 };
	static const uint8_t q_agree[16] = { 0x61, 0x62, 0x63 };
	uint8_t pcr_digest[HASH], policy[HASH];
	struct tpm2_tcb_key sign_key, agree_key;
	struct tpm2_salt_key salt;
	struct tpm2_session s;
	struct tpm2_ak ak;
	size_t n;

	connect_to(argc > 1 ? atoi(argv[1]) : 23620);
	if (crypto_init() != CRYPTO_OK)
		die("crypto_init");
	printf("/* Recorded by tests/tools/tpm2_tcb_key_record.c from swtpm. */\n");
	set_pcrs();
	for (uint32_t i = 0; i < PCR_COUNT; i++)
		read_pcr(i, pcrs[i]);
	emit("rec_pcr_values", pcrs[0], sizeof(pcrs));
	if (tpm2_policy_pcr_digest(PCR_MASK, pcrs, PCR_COUNT, pcr_digest, policy) != 0)
		die("the policy digest");

	n = record("rec_create_ak", tpm2_build_create_ak(cmd, sizeof(cmd)));
	if (tpm2_parse_create_ak(rsp, n, &ak, err, sizeof(err)) != 0)
		die("CreatePrimary of the AK");
	/* At most three transient objects in swtpm: each key is flushed once
	 * before it is created again, the AK before the salt key. */
	create_twice("rec_create_sign", "rec_create_sign_again", TPM2_TCB_KEY_SIGN, policy,
		     &sign_key);
	create_twice("rec_create_agree", "rec_create_agree_again", TPM2_TCB_KEY_AGREE,
		     policy, &agree_key);
	if (memcmp(sign_key.pub, agree_key.pub, sizeof(sign_key.pub)) == 0)
		die("the two templates gave one key");
	certify("rec_certify_sign", &sign_key, &ak, q_sign, sizeof(q_sign));
	certify("rec_certify_agree", &agree_key, &ak, q_agree, sizeof(q_agree));
	flush(ak.handle);

	n = record("rec_create_salt", tpm2_build_create_salt_key(cmd, sizeof(cmd)));
	if (tpm2_parse_create_salt_key(rsp, n, &salt, err, sizeof(err)) != 0)
		die("CreatePrimary of the salt key");
	start(&s, &salt);
	sign(&s, &sign_key, pcr_digest);
	zgen(&s, &agree_key, pcr_digest);
	sign_with_password(&sign_key);
	pcrs_changed(&s, &sign_key, pcr_digest);

	flush(s.handle);
	flush(salt.handle);
	flush(sign_key.handle);
	flush(agree_key.handle);
	tpm2_session_forget(&s);
	return 0;
}
