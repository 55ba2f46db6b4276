/*
 * Records tcb/tpm2_nv.c's whole life of a PCR-bound NV index with a real
 * swtpm, for tests/unit/test_tpm2_nv.c to replay: with the ephemeral keys,
 * the nonces and the PCR values fixed, every command is a function of the
 * salt key the TPM returns, so the test can check that the code builds
 * exactly these commands and accepts exactly these responses.
 *
 *   swtpm socket --tpm2 --tpmstate dir=DIR --server type=tcp,port=23600 \
 *         --ctrl type=tcp,port=23601 --flags not-need-init,startup-clear
 *   build/test-tools/tpm2_nv_record [port] > tests/unit/tpm2_nv_swtpm.h
 *
 * Needs a fresh state (PCRs 0-9 zero, no index 0x01004353). The sequence:
 * PCRs 0-9 extended to known values (as firmware would) and read; the salt
 * key; a salted policy session; NV_ReadPublic of the index, which must be
 * recognised as undefined; NV_DefineSpace (POLICYWRITE | POLICYREAD |
 * NO_DA, 1536 bytes, authPolicy the PolicyPCR of PCRs 0-9); NV_ReadPublic
 * again, whose area and Name must be ours; PolicyPCR + NV_Write of 192
 * bytes at 192; PolicyPCR + NV_Read of them back, which must be equal;
 * PolicyPCR + an NV_Read whose command HMAC is wrong, which the TPM must
 * refuse; then, on a new session after PCR 9 is extended, PolicyPCR with
 * the old PCR digest, and PolicyPCR with the new one + NV_Read, both of
 * which the TPM must refuse. stderr says which response code each refusal
 * carried: the replay cannot see that the TPM, not the code, refused.
 */
#define _GNU_SOURCE /* memmem */
#include "crypto/crypto.h"
#include "tcb/tpm2_nv.h"

#define SWTPM_TOOL "tpm2_nv_record"
#include "swtpm_link.h"

#define NV_INDEX   0x01004353
#define NV_SIZE    1536
#define PCR_MASK   0x3ffu  /* PCRs 0-9: the firmware's and GRUB's */
#define PCR_COUNT  10
#define DATA_LEN   192
#define DATA_AT    192

static uint8_t pcrs[PCR_COUNT][TPM2_SHA384_LEN];

/* PCR i gets one extend of a digest of bytes 0x40 + i, so each holds a
 * value of its own and their order shows in the policy. */
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

/* PolicyPCR; its response code. */
static uint32_t policy_pcr(const char *name, const struct tpm2_session *s,
			   const uint8_t digest[TPM2_SHA384_LEN])
{
	uint32_t rc;
	size_t n = record(name, tpm2_build_policy_pcr(cmd, sizeof(cmd), s->handle,
						      PCR_MASK, digest));

	tpm2_parse_policy_pcr(rsp, n, &rc, err, sizeof(err));
	err[0] = '\0';
	return rc;
}

static void expect_refusal(const char *what, uint32_t rc, bool ok)
{
	if (rc == TPM2_RC_SUCCESS || rc == TPM2_RC_MALFORMED || !ok)
		die(what);
	fprintf(stderr, "%s: refused with %s\n", what, tpm2_rc_name(rc));
}

/* Field by field: the struct has padding. */
static bool same_public(const struct tpm2_nv_public *a, const struct tpm2_nv_public *b)
{
	return a->index == b->index && a->attributes == b->attributes &&
	       a->size == b->size && memcmp(a->policy, b->policy, sizeof(a->policy)) == 0;
}

static int read_public(size_t n, struct tpm2_nv_public *pub, uint32_t *rc)
{
	return tpm2_parse_nv_read_public_full(rsp, n, NV_INDEX, pub, rc, err, sizeof(err));
}

static void define_index(struct tpm2_nv_public *pub, const uint8_t policy[TPM2_SHA384_LEN])
{
	struct tpm2_nv_public got;
	uint32_t rc;
	size_t n;

	n = record("rec_public_undefined",
		   tpm2_build_nv_read_public(cmd, sizeof(cmd), NV_INDEX));
	if (read_public(n, &got, &rc) == 0)
		die("the index exists already: use a fresh state");
	expect_refusal("NV_ReadPublic of the undefined index", rc,
		       tpm2_rc_is_nv_undefined(rc));
	err[0] = '\0';

	*pub = (struct tpm2_nv_public){ NV_INDEX, TPM2_NVA_POLICYWRITE |
					TPM2_NVA_POLICYREAD | TPM2_NVA_NO_DA,
					{ 0 }, NV_SIZE };
	memcpy(pub->policy, policy, TPM2_SHA384_LEN);
	n = record("rec_define", tpm2_build_nv_define_space(cmd, sizeof(cmd), pub));
	if (tpm2_parse_nv_define_space(rsp, n, &rc, err, sizeof(err)) != 0)
		die("NV_DefineSpace");
	n = record("rec_public", tpm2_build_nv_read_public(cmd, sizeof(cmd), NV_INDEX));
	if (read_public(n, &got, &rc) != 0)
		die("NV_ReadPublic");
	if (!same_public(&got, pub))
		die("NV_ReadPublic: not the area defined");
}

static void write_and_read(struct tpm2_session *s, struct tpm2_nv_public *pub,
			   const uint8_t pcr_digest[TPM2_SHA384_LEN])
{
	uint8_t data[DATA_LEN], back[DATA_LEN], nonce[TPM2_SESSION_HASH_LEN];
	struct tpm2_nv_public got;
	uint32_t rc;
	size_t n;

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 13 + 7);
	emit("rec_data", data, sizeof(data));
	if (policy_pcr("rec_policy_write", s, pcr_digest) != TPM2_RC_SUCCESS)
		die("PolicyPCR before NV_Write");
	fixed(nonce, 0x31);
	n = record("rec_write", tpm2_build_nv_write_policy(cmd, sizeof(cmd), s, pub,
							   data, sizeof(data), DATA_AT,
							   nonce));
	if (tpm2_parse_nv_write_policy(rsp, n, s, &rc, err, sizeof(err)) != 0)
		die("NV_Write");
	pub->attributes |= TPM2_NVA_WRITTEN;
	if (memmem(cmd, n, data, 16) != NULL)
		die("NV_Write: the data crossed in the clear");

	n = record("rec_public_written",
		   tpm2_build_nv_read_public(cmd, sizeof(cmd), NV_INDEX));
	if (read_public(n, &got, &rc) != 0 ||
	    !same_public(&got, pub))
		die("NV_ReadPublic after the write: not the area with TPMA_NV_WRITTEN");

	if (policy_pcr("rec_policy_read", s, pcr_digest) != TPM2_RC_SUCCESS)
		die("PolicyPCR before NV_Read");
	fixed(nonce, 0x32);
	n = record("rec_read", tpm2_build_nv_read_policy(cmd, sizeof(cmd), s, pub,
							 DATA_LEN, DATA_AT, nonce));
	if (tpm2_parse_nv_read_policy(rsp, n, s, back, sizeof(back), &rc, err,
				      sizeof(err)) != 0)
		die("NV_Read");
	if (memcmp(back, data, sizeof(data)) != 0)
		die("NV_Read: not the bytes written");
	fprintf(stderr, "NV_Write and NV_Read of %u bytes at %u: equal\n", DATA_LEN, DATA_AT);
}

/* An NV_Read whose command HMAC is wrong (its last byte flipped). */
static void wrong_hmac(struct tpm2_session *s, const struct tpm2_nv_public *pub,
		       const uint8_t pcr_digest[TPM2_SHA384_LEN])
{
	uint8_t back[DATA_LEN], nonce[TPM2_SESSION_HASH_LEN];
	uint32_t rc;
	size_t n;

	if (policy_pcr("rec_policy_bad_hmac", s, pcr_digest) != TPM2_RC_SUCCESS)
		die("PolicyPCR before the bad NV_Read");
	fixed(nonce, 0x33);
	n = tpm2_build_nv_read_policy(cmd, sizeof(cmd), s, pub, DATA_LEN, DATA_AT, nonce);
	if (n == 0)
		die("NV_Read builder");
	/* The auth area ends the command, and the HMAC ends the auth area. */
	cmd[n - 1 - 4] ^= 0x01;
	n = record("rec_bad_hmac", n);
	tpm2_parse_nv_read_policy(rsp, n, s, back, sizeof(back), &rc, err, sizeof(err));
	expect_refusal("NV_Read with a wrong command HMAC", rc,
		       (rc & ~0xf00u) == TPM2_RC_BAD_AUTH ||
		       (rc & ~0xf00u) == TPM2_RC_AUTH_FAIL);
	err[0] = '\0';
}

/* PCR 9 extended: the old PCR digest, and the new one, on a new session. */
static void pcrs_changed(struct tpm2_session *s, const struct tpm2_salt_key *key,
			 const struct tpm2_nv_public *pub,
			 const uint8_t old_digest[TPM2_SHA384_LEN])
{
	uint8_t digest[TPM2_SHA384_LEN], policy[TPM2_SHA384_LEN];
	uint8_t back[DATA_LEN], nonce[TPM2_SESSION_HASH_LEN];
	uint32_t rc;
	size_t n;

	transmit(tpm2_build_flush_context(cmd, sizeof(cmd), s->handle));
	start(s, key, "rec_start_after", 0x12, 0x35);
	memset(digest, 0x99, sizeof(digest));
	n = record("rec_extend9", tpm2_build_pcr_extend_sha384(cmd, sizeof(cmd), 9, digest));
	if (tpm2_parse_pcr_extend(rsp, n, err, sizeof(err)) != 0)
		die("PCR_Extend of PCR 9");

	rc = policy_pcr("rec_policy_stale", s, old_digest);
	expect_refusal("PolicyPCR with the PCR digest of before", rc,
		       tpm2_rc_is_policy_mismatch(rc));

	read_pcr(9, pcrs[9]);
	emit("rec_pcr9_after", pcrs[9], TPM2_SHA384_LEN);
	if (tpm2_policy_pcr_digest(PCR_MASK, pcrs, PCR_COUNT, digest, policy) != 0 ||
	    policy_pcr("rec_policy_now", s, digest) != TPM2_RC_SUCCESS)
		die("PolicyPCR with today's PCR digest");
	fixed(nonce, 0x36);
	n = record("rec_read_refused",
		   tpm2_build_nv_read_policy(cmd, sizeof(cmd), s, pub, DATA_LEN, DATA_AT,
					     nonce));
	tpm2_parse_nv_read_policy(rsp, n, s, back, sizeof(back), &rc, err, sizeof(err));
	expect_refusal("NV_Read after PolicyPCR of other PCRs", rc,
		       tpm2_rc_is_policy_mismatch(rc));
}

int main(int argc, char **argv)
{
	uint8_t pcr_digest[TPM2_SHA384_LEN], policy[TPM2_SHA384_LEN];
	struct tpm2_nv_public pub;
	struct tpm2_salt_key key;
	struct tpm2_session s;
	size_t n;

	connect_to(argc > 1 ? atoi(argv[1]) : 23600);
	if (crypto_init() != CRYPTO_OK)
		die("crypto_init");
	printf("/* Recorded by tests/tools/tpm2_nv_record.c from swtpm. */\n");
	set_pcrs();
	for (uint32_t i = 0; i < PCR_COUNT; i++)
		read_pcr(i, pcrs[i]);
	emit("rec_pcr_values", pcrs[0], sizeof(pcrs));
	if (tpm2_policy_pcr_digest(PCR_MASK, pcrs, PCR_COUNT, pcr_digest, policy) != 0)
		die("the policy digest");

	n = record("rec_create_salt", tpm2_build_create_salt_key(cmd, sizeof(cmd)));
	if (tpm2_parse_create_salt_key(rsp, n, &key, err, sizeof(err)) != 0)
		die("CreatePrimary");
	start(&s, &key, "rec_start", 0x11, 0x30);
	define_index(&pub, policy);
	write_and_read(&s, &pub, pcr_digest);
	wrong_hmac(&s, &pub, pcr_digest);
	pcrs_changed(&s, &key, &pub, pcr_digest);

	transmit(tpm2_build_flush_context(cmd, sizeof(cmd), s.handle));
	transmit(tpm2_build_flush_context(cmd, sizeof(cmd), key.handle));
	tpm2_session_forget(&s);
	return 0;
}
