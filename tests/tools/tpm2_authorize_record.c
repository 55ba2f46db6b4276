/*
 * Records tcb/tpm2_authorize.c satisfying PolicyAuthorize(CA key) with a
 * real swtpm, for tests/unit/test_tpm2_authorize.c to replay: with the
 * ephemeral key, the nonces, the PCR values and the CA's private scalar
 * fixed, and the CA's signatures recorded (ECDSA's k is random), every
 * command is a function of what the TPM returned, so the test can check
 * that the code builds exactly these commands and accepts exactly these
 * responses.
 *
 *   swtpm socket --tpm2 --tpmstate dir=DIR --server type=tcp,port=23610 \
 *         --ctrl type=tcp,port=23611 --flags not-need-init,startup-clear
 *   build/test-tools/tpm2_authorize_record [port] > tests/unit/tpm2_authorize_swtpm.h
 *
 * Needs a fresh state (PCRs 0-9 zero, no index 0x01004354). The sequence:
 * PCRs 0-9 extended to known values and read; approved = their PolicyPCR
 * digest, other = that of PCRs 0-9 all zero (a boot that measured
 * nothing); the CA signs aHash(approved, "custos-tcb-key") and
 * aHash(other, ...). LoadExternal of the CA key under the owner;
 * VerifySignature of the signature over other presented as one over
 * approved, which the TPM must refuse; VerifySignature of both good
 * signatures, two tickets. Then the salt key, a salted policy session, an
 * NV index (POLICYWRITE | POLICYREAD | NO_DA) whose authPolicy is
 * PolicyAuthorize(CA key, "custos-tcb-key"); PolicyPCR + PolicyAuthorize +
 * PolicyGetDigest (which must be the authPolicy) + NV_Write; PolicyPCR +
 * PolicyAuthorize + NV_Read, which must give the bytes written; PolicyPCR
 * + PolicyAuthorize with the ticket of other, which the TPM must refuse;
 * then, on a new session after PCR 9 is extended, PolicyPCR of the new
 * PCRs (which holds) + PolicyAuthorize of approved, which the TPM must
 * refuse, and NV_Read, which it must refuse too. stderr says which
 * response code each refusal carried: the replay cannot see that the TPM,
 * not the code, refused.
 */
#define _GNU_SOURCE /* memmem */
#include "crypto/crypto.h"
#include "tcb/tpm2_authorize.h"

#define SWTPM_TOOL "tpm2_authorize_record"
#include "swtpm_link.h"

#define NV_INDEX   0x01004354
#define NV_SIZE    64
#define PCR_MASK   0x3ffu  /* PCRs 0-9: the firmware's and GRUB's */
#define PCR_COUNT  10
#define DATA_LEN   48
#define DATA_AT    16
#define REF        "custos-tcb-key"
#define REF_LEN    (sizeof(REF) - 1)
#define CA_BYTE    0x2a    /* the CA's private scalar: 48 such bytes */

static uint8_t pcrs[PCR_COUNT][TPM2_SHA384_LEN];

/* What the CA gave and the TPM made of it. */
struct approval {
	uint8_t ca_pub[TPM2_P384_POINT_LEN];
	uint8_t pcr_digest[TPM2_SHA384_LEN], approved[TPM2_SHA384_LEN];
	uint8_t other[TPM2_SHA384_LEN];
	uint8_t sig[TPM2_ECDSA_P384_SIG_LEN], sig_other[TPM2_ECDSA_P384_SIG_LEN];
	struct tpm2_signer signer;
	struct tpm2_ticket ticket, ticket_other;
	uint8_t auth_policy[TPM2_SHA384_LEN];
};

/* PCR i gets one extend of a digest of bytes 0x40 + i (as tpm2_nv_record). */
static void set_pcrs(void)
{
	uint8_t digest[TPM2_SHA384_LEN];
	size_t n;

	for (uint32_t i = 0; i < PCR_COUNT; i++) {
		memset(digest, 0x40 + (int)i, sizeof(digest));
		n = transmit(tpm2_build_pcr_extend_sha384(cmd, sizeof(cmd), i, digest));
		if (tpm2_parse_pcr_extend(rsp, n, err, sizeof(err)) != 0)
			die("PCR_Extend");
	}
}

static void read_pcr(uint32_t i, uint8_t out[TPM2_SHA384_LEN])
{
	size_t n = transmit(tpm2_build_pcr_read_sha384(cmd, sizeof(cmd), i));

	if (tpm2_parse_pcr_read_sha384(rsp, n, i, out, err, sizeof(err)) != 0)
		die("PCR_Read");
}

static void expect_refusal(const char *what, uint32_t rc, bool ok)
{
	if (rc == TPM2_RC_SUCCESS || rc == TPM2_RC_MALFORMED || !ok)
		die(what);
	fprintf(stderr, "%s: refused with %s\n", what, tpm2_rc_name(rc));
	err[0] = '\0';
}

/* The CA's side: its key, and its signature of aHash(policy, REF). */
static void ca_sign(const uint8_t policy[TPM2_SHA384_LEN],
		    uint8_t sig[TPM2_ECDSA_P384_SIG_LEN], const uint8_t pub[TPM2_P384_POINT_LEN])
{
	uint8_t priv[CRYPTO_P384_PRIV_LEN], ahash[TPM2_SHA384_LEN];

	memset(priv, CA_BYTE, sizeof(priv));
	if (tpm2_policy_authorize_ahash(policy, (const uint8_t *)REF, REF_LEN, ahash) != 0 ||
	    crypto_ecdsa_p384_sign(priv, ahash, sig) != CRYPTO_OK ||
	    crypto_ecdsa_p384_verify(pub, ahash, sizeof(ahash), sig) != CRYPTO_OK)
		die("the CA's signature");
}

static void approve(struct approval *a)
{
	uint8_t priv[CRYPTO_P384_PRIV_LEN], zeros[PCR_COUNT][TPM2_SHA384_LEN] = { { 0 } };
	uint8_t digest[TPM2_SHA384_LEN];

	memset(priv, CA_BYTE, sizeof(priv));
	if (crypto_p384_public(priv, a->ca_pub) != CRYPTO_OK)
		die("the CA's public key");
	if (tpm2_policy_pcr_digest(PCR_MASK, pcrs, PCR_COUNT, a->pcr_digest,
				   a->approved) != 0 ||
	    tpm2_policy_pcr_digest(PCR_MASK, zeros, PCR_COUNT, digest, a->other) != 0)
		die("the PolicyPCR digests");
	ca_sign(a->approved, a->sig, a->ca_pub);
	ca_sign(a->other, a->sig_other, a->ca_pub);
	emit("rec_sig", a->sig, sizeof(a->sig));
	emit("rec_sig_other", a->sig_other, sizeof(a->sig_other));
}

/* VerifySignature of sig over aHash(policy); its response code. */
static uint32_t verify(const char *name, const struct approval *a,
		       const uint8_t policy[TPM2_SHA384_LEN],
		       const uint8_t sig[TPM2_ECDSA_P384_SIG_LEN], struct tpm2_ticket *t)
{
	uint8_t ahash[TPM2_SHA384_LEN];
	uint32_t rc;
	size_t n;

	tpm2_policy_authorize_ahash(policy, (const uint8_t *)REF, REF_LEN, ahash);
	n = record(name, tpm2_build_verify_signature(cmd, sizeof(cmd), a->signer.handle,
						     ahash, sig));
	tpm2_parse_verify_signature(rsp, n, t, &rc, err, sizeof(err));
	return rc;
}

/* The CA key in the TPM, and the tickets of its signatures. */
static void tickets(struct approval *a)
{
	uint32_t rc;
	size_t n;

	n = record("rec_load", tpm2_build_load_external_signer(cmd, sizeof(cmd), a->ca_pub));
	if (tpm2_parse_load_external_signer(rsp, n, a->ca_pub, &a->signer, &rc, err,
					    sizeof(err)) != 0)
		die("LoadExternal");
	rc = verify("rec_verify_wrong", a, a->approved, a->sig_other, &a->ticket);
	expect_refusal("VerifySignature of the signature over another policy", rc,
		       tpm2_rc_is_bad_signature(rc));
	if (verify("rec_verify", a, a->approved, a->sig, &a->ticket) != TPM2_RC_SUCCESS)
		die("VerifySignature");
	if (verify("rec_verify_other", a, a->other, a->sig_other, &a->ticket_other) !=
	    TPM2_RC_SUCCESS)
		die("VerifySignature of the other policy");
	n = record("rec_flush_ca", tpm2_build_flush_context(cmd, sizeof(cmd),
							    a->signer.handle));
	if (tpm2_parse_flush_context(rsp, n, err, sizeof(err)) != 0)
		die("FlushContext of the CA key");
	if (tpm2_policy_authorize_digest(a->signer.name, sizeof(a->signer.name),
					 (const uint8_t *)REF, REF_LEN, a->auth_policy) != 0)
		die("the PolicyAuthorize digest");
}

static void start(struct tpm2_session *s, const struct tpm2_salt_key *key,
		  const char *name, uint8_t eph_byte, uint8_t nonce_byte)
{
	uint8_t eph[TPM2_P384_LEN], nonce[TPM2_SESSION_HASH_LEN];
	size_t n;

	memset(eph, eph_byte, sizeof(eph));
	fixed(nonce, nonce_byte);
	n = record(name, tpm2_build_start_session(cmd, sizeof(cmd), s, key, eph,
						  nonce, TPM2_SE_POLICY));
	if (tpm2_parse_start_session(rsp, n, s, err, sizeof(err)) != 0)
		die("StartAuthSession (policy)");
}

static void define_index(struct tpm2_nv_public *pub, const struct approval *a)
{
	struct tpm2_nv_public got;
	uint32_t rc;
	size_t n;

	n = record("rec_public_undefined",
		   tpm2_build_nv_read_public(cmd, sizeof(cmd), NV_INDEX));
	if (tpm2_parse_nv_read_public_full(rsp, n, NV_INDEX, &got, &rc, err,
					   sizeof(err)) == 0)
		die("the index exists already: use a fresh state");
	expect_refusal("NV_ReadPublic of the undefined index", rc,
		       tpm2_rc_is_nv_undefined(rc));
	*pub = (struct tpm2_nv_public){ NV_INDEX, TPM2_NVA_POLICYWRITE |
					TPM2_NVA_POLICYREAD | TPM2_NVA_NO_DA,
					{ 0 }, NV_SIZE };
	memcpy(pub->policy, a->auth_policy, TPM2_SHA384_LEN);
	n = record("rec_define", tpm2_build_nv_define_space(cmd, sizeof(cmd), pub));
	if (tpm2_parse_nv_define_space(rsp, n, &rc, err, sizeof(err)) != 0)
		die("NV_DefineSpace");
}

/* PolicyPCR of pcr_digest then PolicyAuthorize of approved with t; the
 * response code of PolicyAuthorize. */
static uint32_t authorize(const char *pcr_name, const char *auth_name,
			  const struct tpm2_session *s, const struct approval *a,
			  const uint8_t pcr_digest[TPM2_SHA384_LEN],
			  const struct tpm2_ticket *t)
{
	uint32_t rc;
	size_t n;

	n = record(pcr_name, tpm2_build_policy_pcr(cmd, sizeof(cmd), s->handle, PCR_MASK,
						   pcr_digest));
	if (tpm2_parse_policy_pcr(rsp, n, &rc, err, sizeof(err)) != 0)
		die("PolicyPCR");
	n = record(auth_name, tpm2_build_policy_authorize(cmd, sizeof(cmd), s->handle,
							  a->approved,
							  (const uint8_t *)REF, REF_LEN,
							  a->signer.name, t));
	tpm2_parse_policy_authorize(rsp, n, &rc, err, sizeof(err));
	return rc;
}

static void write_index(struct tpm2_session *s, struct tpm2_nv_public *pub,
			const struct approval *a, const uint8_t data[DATA_LEN])
{
	uint8_t nonce[TPM2_SESSION_HASH_LEN], digest[TPM2_SHA384_LEN];
	uint32_t rc;
	size_t n;

	if (authorize("rec_pcr_write", "rec_authorize_write", s, a, a->pcr_digest,
		      &a->ticket) != TPM2_RC_SUCCESS)
		die("PolicyAuthorize before NV_Write");
	n = record("rec_get_digest", tpm2_build_policy_get_digest(cmd, sizeof(cmd),
								  s->handle));
	if (tpm2_parse_policy_get_digest(rsp, n, digest, &rc, err, sizeof(err)) != 0)
		die("PolicyGetDigest");
	if (memcmp(digest, a->auth_policy, sizeof(digest)) != 0)
		die("PolicyGetDigest: the session's digest is not the index's authPolicy");
	fixed(nonce, 0x41);
	n = record("rec_write", tpm2_build_nv_write_policy(cmd, sizeof(cmd), s, pub, data,
							   DATA_LEN, DATA_AT, nonce));
	if (tpm2_parse_nv_write_policy(rsp, n, s, &rc, err, sizeof(err)) != 0)
		die("NV_Write");
	pub->attributes |= TPM2_NVA_WRITTEN;
}

static void read_index(struct tpm2_session *s, const struct tpm2_nv_public *pub,
		       const struct approval *a, const uint8_t data[DATA_LEN])
{
	uint8_t nonce[TPM2_SESSION_HASH_LEN], back[DATA_LEN];
	uint32_t rc;
	size_t n;

	if (authorize("rec_pcr_read", "rec_authorize_read", s, a, a->pcr_digest,
		      &a->ticket) != TPM2_RC_SUCCESS)
		die("PolicyAuthorize before NV_Read");
	fixed(nonce, 0x42);
	n = record("rec_read", tpm2_build_nv_read_policy(cmd, sizeof(cmd), s, pub,
							 DATA_LEN, DATA_AT, nonce));
	if (tpm2_parse_nv_read_policy(rsp, n, s, back, sizeof(back), &rc, err,
				      sizeof(err)) != 0)
		die("NV_Read");
	if (memcmp(back, data, DATA_LEN) != 0)
		die("NV_Read: not the bytes written");
	fprintf(stderr, "NV_Write and NV_Read of %u bytes at %u through PolicyAuthorize: equal\n",
		DATA_LEN, DATA_AT);
}

/* The ticket of the other policy, on this boot's PCRs. */
static void other_ticket(const struct tpm2_session *s, const struct approval *a)
{
	uint32_t rc = authorize("rec_pcr_other_ticket", "rec_authorize_other_ticket", s, a,
				a->pcr_digest, &a->ticket_other);

	expect_refusal("PolicyAuthorize with the ticket of another policy", rc,
		       tpm2_rc_is_ticket_refused(rc));
}

/* PCR 9 extended: PolicyPCR of today's PCRs holds, the approval does not. */
static void pcrs_changed(struct tpm2_session *s, const struct tpm2_salt_key *key,
			 const struct tpm2_nv_public *pub, const struct approval *a)
{
	uint8_t digest[TPM2_SHA384_LEN], policy[TPM2_SHA384_LEN];
	uint8_t nonce[TPM2_SESSION_HASH_LEN], back[DATA_LEN];
	uint32_t rc;
	size_t n;

	transmit(tpm2_build_flush_context(cmd, sizeof(cmd), s->handle));
	start(s, key, "rec_start_after", 0x22, 0x45);
	memset(digest, 0x99, sizeof(digest));
	n = record("rec_extend9", tpm2_build_pcr_extend_sha384(cmd, sizeof(cmd), 9, digest));
	if (tpm2_parse_pcr_extend(rsp, n, err, sizeof(err)) != 0)
		die("PCR_Extend of PCR 9");
	read_pcr(9, pcrs[9]);
	emit("rec_pcr9_after", pcrs[9], TPM2_SHA384_LEN);
	if (tpm2_policy_pcr_digest(PCR_MASK, pcrs, PCR_COUNT, digest, policy) != 0)
		die("today's PolicyPCR digest");
	rc = authorize("rec_pcr_now", "rec_authorize_not_approved", s, a, digest,
		       &a->ticket);
	expect_refusal("PolicyAuthorize of the approval after PCR 9 changed", rc,
		       tpm2_rc_is_not_approved(rc));
	fixed(nonce, 0x46);
	n = record("rec_read_refused", tpm2_build_nv_read_policy(cmd, sizeof(cmd), s, pub,
								 DATA_LEN, DATA_AT, nonce));
	tpm2_parse_nv_read_policy(rsp, n, s, back, sizeof(back), &rc, err, sizeof(err));
	expect_refusal("NV_Read without the approval", rc, tpm2_rc_is_policy_mismatch(rc));
}

int main(int argc, char **argv)
{
	static struct approval a;
	uint8_t data[DATA_LEN];
	struct tpm2_nv_public pub;
	struct tpm2_salt_key key;
	struct tpm2_session s;
	size_t n;

	connect_to(argc > 1 ? atoi(argv[1]) : 23610);
	if (crypto_init() != CRYPTO_OK)
		die("crypto_init");
	printf("/* Recorded by tests/tools/tpm2_authorize_record.c from swtpm. */\n");
	set_pcrs();
	for (uint32_t i = 0; i < PCR_COUNT; i++)
		read_pcr(i, pcrs[i]);
	emit("rec_pcr_values", pcrs[0], sizeof(pcrs));
	approve(&a);
	tickets(&a);

	n = record("rec_create_salt", tpm2_build_create_salt_key(cmd, sizeof(cmd)));
	if (tpm2_parse_create_salt_key(rsp, n, &key, err, sizeof(err)) != 0)
		die("CreatePrimary");
	start(&s, &key, "rec_start", 0x21, 0x40);
	define_index(&pub, &a);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 3);
	emit("rec_data", data, sizeof(data));
	write_index(&s, &pub, &a, data);
	read_index(&s, &pub, &a, data);
	other_ticket(&s, &a);
	pcrs_changed(&s, &key, &pub, &a);

	transmit(tpm2_build_flush_context(cmd, sizeof(cmd), s.handle));
	transmit(tpm2_build_flush_context(cmd, sizeof(cmd), key.handle));
	tpm2_session_forget(&s);
	return 0;
}
