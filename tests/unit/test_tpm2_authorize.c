/*
 * PolicyAuthorize by the CA's key (tcb/tpm2_authorize.c), on the salted
 * policy session (tcb/tpm2_session.c) and the NV index (tcb/tpm2_nv.c) it
 * opens.
 *
 * Known answers from outside this code: the CA key's Name as
 * tpm2_loadexternal printed it (-C o -G ecc384:ecdsa-sha384 -g sha384 -a
 * 'sign|userwithauth', the public key of the scalar 48 x 0x2a) and as
 * swtpm's LoadExternal returned it; the authPolicy of PolicyAuthorize(that
 * key, "custos-tcb-key") as tpm2_policyauthorize computed it in a SHA-384
 * trial session and as swtpm's PolicyGetDigest returned it after
 * PolicyPCR + PolicyAuthorize (tests/tools/tpm2_authorize_check.py PORT,
 * which also re-derives aHash and checks both recorded CA signatures with
 * Python's cryptography); the approved policy is test_tpm2_nv's PolicyPCR
 * known answer (the same PCR values).
 *
 * Then the exchange with swtpm 0.7.1 replayed (tpm2_authorize_swtpm.h,
 * recorded with fixed nonces, ephemeral key, PCR values and CA scalar by
 * tests/tools/tpm2_authorize_record, which also saw the TPM refuse what
 * the replay only shows refused: a signature over another policy with
 * TPM_RC_SIGNATURE (0x2db), the ticket of another policy with
 * TPM_RC_VALUE on checkTicket (0x4c4), the approval after PCR 9 changed
 * with TPM_RC_VALUE on approvedPolicy (0x1c4), and NV_Read without it
 * with TPM_RC_POLICY_FAIL (0x99d)): the code must build exactly the
 * recorded commands and accept exactly the recorded responses. And the
 * refusals: every flipped bit that matters, every truncation (against
 * guard pages), a trailing byte, a wrong tag, handle, Name, ticket tag,
 * hierarchy or size, and builders' limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/byteorder.h"
#include "tcb/tpm2_authorize.h"
#include "guarded.h"
#include "tpm2_authorize_swtpm.h"
#include "hex.h"

#define HASH       TPM2_SHA384_LEN
#define NV_INDEX   0x01004354
#define NV_ATTRS   (TPM2_NVA_POLICYWRITE | TPM2_NVA_POLICYREAD | TPM2_NVA_NO_DA)
#define NV_SIZE    64
#define PCR_MASK   0x3ffu
#define PCR_COUNT  10
#define DATA_LEN   48
#define DATA_AT    16
#define REF        ((const uint8_t *)"custos-tcb-key")
#define REF_LEN    14
#define NAME_LEN   TPM2_SIGNER_NAME_LEN

/* tpm2_loadexternal's Name; tpm2_policyauthorize's digest; the approved
 * PolicyPCR (test_tpm2_nv's); aHash (tpm2_authorize_check.py). */
#define NAME_HEX     "000c0f9ed431c97158bcfe32e607c02d7559bc660fb707edc14d" \
		     "589944d0763f287b9a377246df6a71575f24e80b3baa0071"
#define POLICY_HEX   "87a9da0dcbb1da324436090203ddfcc3ef9584b0ca085f5e" \
		     "dd5677be07ae23365586c269898cceac24236f876ddcb71c"
#define APPROVED_HEX "31b5bd128c1709e56ff7fa7880e9b730c32f6b2a1de4a331" \
		     "dd4406e86fc43e1cfea85b9033edb0c272bba835086ec522"
#define AHASH_HEX    "b99a84a7ec27d88d06ddd3d4dd2a221f827845bcc09fc2b3" \
		     "3a7a411fcd7d9825d9c1813b4ab1f5ffaee07d2108cb9876"

static uint8_t cmd[TPM2_BUFFER_MAX];
static char err[200];

static void ca_point(uint8_t point[TPM2_P384_POINT_LEN])
{
	uint8_t priv[CRYPTO_P384_PRIV_LEN];

	memset(priv, 0x2a, sizeof(priv));
	assert_int_equal(crypto_p384_public(priv, point), CRYPTO_OK);
}

/* A builder's length and bytes are the recording's. */
#define assert_built(len, rec) do { \
	assert_int_equal((len), sizeof(rec)); \
	assert_memory_equal(cmd, (rec), sizeof(rec)); \
} while (0)

/* --- Known answers ------------------------------------------------------------------ */

static void test_signer_known_answer(void **state)
{
	uint8_t point[TPM2_P384_POINT_LEN], name[NAME_LEN], area[TPM2_SIGNER_PUBLIC_LEN];

	(void)state;
	ca_point(point);
	assert_int_equal(tpm2_signer_name(point, name), 0);
	assert_hex(name, sizeof(name), NAME_HEX);
	/* The area is LoadExternal's inPublic, as sent. */
	assert_int_equal(tpm2_signer_public(point, area), 0);
	assert_int_equal(load_be16(rec_load_cmd + 12), sizeof(area));
	assert_memory_equal(rec_load_cmd + 14, area, sizeof(area));
	assert_int_equal(load_be32(area + 4), TPM2_SIGNER_ATTRIBUTES);
	/* Not an uncompressed point: nothing computed. */
	point[0] = 0x02;
	memset(name, 0xee, sizeof(name));
	assert_int_equal(tpm2_signer_name(point, name), -1);
	assert_int_equal(tpm2_signer_public(point, area), -1);
	assert_int_equal(name[0], 0xee);
}

static void test_policy_known_answer(void **state)
{
	uint8_t name[NAME_LEN], policy[HASH], other[HASH], ref[TPM2_POLICY_REF_MAX + 1];

	(void)state;
	unhex(NAME_HEX, name, NAME_LEN);
	assert_int_equal(tpm2_policy_authorize_digest(name, NAME_LEN, REF, REF_LEN, policy), 0);
	assert_hex(policy, HASH, POLICY_HEX);
	/* The policyRef counts: none, or another, is another policy. */
	assert_int_equal(tpm2_policy_authorize_digest(name, NAME_LEN, NULL, 0, other), 0);
	assert_memory_not_equal(other, policy, HASH);
	assert_int_equal(tpm2_policy_authorize_digest(name, NAME_LEN, REF, REF_LEN - 1,
						      other), 0);
	assert_memory_not_equal(other, policy, HASH);
	/* The longest policyRef a TPM takes, and one byte more. */
	memset(ref, 'r', sizeof(ref));
	assert_int_equal(tpm2_policy_authorize_digest(name, NAME_LEN, ref,
						      TPM2_POLICY_REF_MAX, other), 0);
	memset(other, 0xee, sizeof(other));
	assert_int_equal(tpm2_policy_authorize_digest(name, NAME_LEN, ref,
						      TPM2_POLICY_REF_MAX + 1, other), -1);
	/* Not a SHA-384 Name: its length, its algorithm. */
	assert_int_equal(tpm2_policy_authorize_digest(name, NAME_LEN - 1, REF, REF_LEN,
						      other), -1);
	assert_int_equal(tpm2_policy_authorize_digest(name, NAME_LEN + 1, REF, REF_LEN,
						      other), -1);
	name[1] = 0x0b;
	assert_int_equal(tpm2_policy_authorize_digest(name, NAME_LEN, REF, REF_LEN, other),
			 -1);
	assert_int_equal(other[0], 0xee);
	assert_int_equal(other[HASH - 1], 0xee);
}

static void test_ahash_known_answer(void **state)
{
	uint8_t approved[HASH], ahash[HASH], point[TPM2_P384_POINT_LEN], ref[65] = { 0 };

	(void)state;
	unhex(APPROVED_HEX, approved, HASH);
	assert_int_equal(tpm2_policy_authorize_ahash(approved, REF, REF_LEN, ahash), 0);
	assert_hex(ahash, HASH, AHASH_HEX);
	/* The recorded CA signature is over it, and the other is not. */
	ca_point(point);
	assert_int_equal(crypto_ecdsa_p384_verify(point, ahash, HASH, rec_sig), CRYPTO_OK);
	assert_int_equal(crypto_ecdsa_p384_verify(point, ahash, HASH, rec_sig_other),
			 CRYPTO_E_VERIFY);
	/* VerifySignature was asked about exactly this digest. */
	assert_memory_equal(rec_verify_cmd + 16, ahash, HASH);
	memset(ahash, 0xee, sizeof(ahash));
	assert_int_equal(tpm2_policy_authorize_ahash(approved, ref, sizeof(ref), ahash), -1);
	assert_int_equal(ahash[0], 0xee);
}

static void test_rc_classes(void **state)
{
	(void)state;
	assert_true(tpm2_rc_is_bad_signature(0x2db));   /* recorded */
	assert_true(tpm2_rc_is_ticket_refused(0x4c4));  /* recorded */
	assert_true(tpm2_rc_is_not_approved(0x1c4));    /* recorded */
	assert_false(tpm2_rc_is_bad_signature(0x1db));
	assert_false(tpm2_rc_is_bad_signature(0x09b));
	assert_false(tpm2_rc_is_ticket_refused(0x1c4));
	assert_false(tpm2_rc_is_not_approved(0x4c4));
	assert_false(tpm2_rc_is_not_approved(0x184));   /* a handle's, not a parameter's */
	assert_false(tpm2_rc_is_not_approved(TPM2_RC_SUCCESS));
	assert_false(tpm2_rc_is_ticket_refused(TPM2_RC_MALFORMED));
	assert_false(tpm2_rc_is_bad_signature(TPM2_RC_MALFORMED));
	assert_string_equal(tpm2_rc_name(0x2db), "TPM_RC_SIGNATURE (0x2db, parameter 2)");
}

/* --- The recorded exchange ------------------------------------------------------------- */

struct replay {
	uint8_t point[TPM2_P384_POINT_LEN];
	uint8_t pcr_digest[HASH], approved[HASH], other[HASH], policy[HASH];
	struct tpm2_signer signer;
	struct tpm2_ticket ticket, ticket_other;
	struct tpm2_salt_key key;
	struct tpm2_session s;
	struct tpm2_nv_public pub;
};

static void loaded(struct replay *r)
{
	uint8_t zeros[PCR_COUNT][HASH] = { { 0 } }, digest[HASH];
	uint32_t rc = 99;

	memset(r, 0, sizeof(*r));
	ca_point(r->point);
	assert_int_equal(tpm2_policy_pcr_digest(PCR_MASK,
						(const uint8_t (*)[HASH])rec_pcr_values,
						PCR_COUNT, r->pcr_digest, r->approved), 0);
	assert_hex(r->approved, HASH, APPROVED_HEX);
	assert_int_equal(tpm2_policy_pcr_digest(PCR_MASK, (const uint8_t (*)[HASH])zeros,
						PCR_COUNT, digest, r->other), 0);
	assert_built(tpm2_build_load_external_signer(cmd, sizeof(cmd), r->point),
		     rec_load_cmd);
	assert_int_equal(tpm2_parse_load_external_signer(rec_load_rsp, sizeof(rec_load_rsp),
							 r->point, &r->signer, &rc, err,
							 sizeof(err)), 0);
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	assert_string_equal(err, "");
	assert_int_equal(r->signer.handle, 0x80000000);
	assert_hex(r->signer.name, NAME_LEN, NAME_HEX);
	assert_int_equal(tpm2_policy_authorize_digest(r->signer.name, NAME_LEN, REF, REF_LEN,
						      r->policy), 0);
}

static int parse_verify(const uint8_t *rsp, size_t len, struct tpm2_ticket *t,
			uint32_t *rc)
{
	return tpm2_parse_verify_signature(rsp, len, t, rc, err, sizeof(err));
}

/* VerifySignature of sig over aHash(policy): the recorded command. */
static void verify(const struct replay *r, const uint8_t policy[HASH], const uint8_t *sig,
		   const uint8_t *rec_cmd, size_t cmd_len)
{
	uint8_t ahash[HASH];

	assert_int_equal(tpm2_policy_authorize_ahash(policy, REF, REF_LEN, ahash), 0);
	assert_int_equal(tpm2_build_verify_signature(cmd, sizeof(cmd), r->signer.handle,
						     ahash, sig), cmd_len);
	assert_memory_equal(cmd, rec_cmd, cmd_len);
}

static void ticketed(struct replay *r)
{
	struct tpm2_ticket t;
	uint32_t rc = 0;

	loaded(r);
	verify(r, r->approved, rec_sig_other, rec_verify_wrong_cmd,
	       sizeof(rec_verify_wrong_cmd));
	memset(&t, 0xa5, sizeof(t));
	assert_int_equal(parse_verify(rec_verify_wrong_rsp, sizeof(rec_verify_wrong_rsp),
				      &t, &rc), -1);
	assert_int_equal(rc, 0x2db);
	assert_true(tpm2_rc_is_bad_signature(rc));
	assert_string_equal(err,
			    "VerifySignature failed: TPM_RC_SIGNATURE (0x2db, parameter 2)");
	assert_int_equal(t.digest_len, (size_t)0xa5a5a5a5a5a5a5a5ull);

	verify(r, r->approved, rec_sig, rec_verify_cmd, sizeof(rec_verify_cmd));
	assert_int_equal(parse_verify(rec_verify_rsp, sizeof(rec_verify_rsp), &r->ticket,
				      &rc), 0);
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	assert_int_equal(r->ticket.hierarchy, TPM2_RH_OWNER);
	assert_int_equal(r->ticket.digest_len, 64); /* swtpm's HMAC: SHA-512 */
	assert_memory_equal(r->ticket.digest, rec_verify_rsp + 18, 64);

	verify(r, r->other, rec_sig_other, rec_verify_other_cmd,
	       sizeof(rec_verify_other_cmd));
	assert_int_equal(parse_verify(rec_verify_other_rsp, sizeof(rec_verify_other_rsp),
				      &r->ticket_other, &rc), 0);
	assert_memory_not_equal(r->ticket_other.digest, r->ticket.digest, 64);

	/* The ticket outlives the key. */
	assert_built(tpm2_build_flush_context(cmd, sizeof(cmd), r->signer.handle),
		     rec_flush_ca_cmd);
	assert_int_equal(tpm2_parse_flush_context(rec_flush_ca_rsp, sizeof(rec_flush_ca_rsp),
						  err, sizeof(err)), 0);
}

static void start_session(struct replay *r, uint8_t eph_byte, uint8_t nonce_byte,
			  const uint8_t *rec_cmd, size_t cmd_len,
			  const uint8_t *rec_rsp, size_t rsp_len)
{
	uint8_t eph[TPM2_P384_LEN], n[TPM2_SESSION_HASH_LEN];

	memset(eph, eph_byte, sizeof(eph));
	memset(n, nonce_byte, sizeof(n));
	assert_int_equal(tpm2_build_start_session(cmd, sizeof(cmd), &r->s, &r->key, eph,
						  n, TPM2_SE_POLICY), cmd_len);
	assert_memory_equal(cmd, rec_cmd, cmd_len);
	assert_int_equal(tpm2_parse_start_session(rec_rsp, rsp_len, &r->s, err,
						  sizeof(err)), 0);
}

static void defined(struct replay *r)
{
	struct tpm2_nv_public got;
	uint32_t rc = 0;

	ticketed(r);
	assert_built(tpm2_build_create_salt_key(cmd, sizeof(cmd)), rec_create_salt_cmd);
	assert_int_equal(tpm2_parse_create_salt_key(rec_create_salt_rsp,
						    sizeof(rec_create_salt_rsp), &r->key,
						    err, sizeof(err)), 0);
	start_session(r, 0x21, 0x40, rec_start_cmd, sizeof(rec_start_cmd), rec_start_rsp,
		      sizeof(rec_start_rsp));
	assert_built(tpm2_build_nv_read_public(cmd, sizeof(cmd), NV_INDEX),
		     rec_public_undefined_cmd);
	assert_int_equal(tpm2_parse_nv_read_public_full(rec_public_undefined_rsp,
							sizeof(rec_public_undefined_rsp),
							NV_INDEX, &got, &rc, err,
							sizeof(err)), -1);
	assert_true(tpm2_rc_is_nv_undefined(rc));
	r->pub = (struct tpm2_nv_public){ NV_INDEX, NV_ATTRS, { 0 }, NV_SIZE };
	memcpy(r->pub.policy, r->policy, HASH);
	assert_built(tpm2_build_nv_define_space(cmd, sizeof(cmd), &r->pub), rec_define_cmd);
	assert_int_equal(tpm2_parse_nv_define_space(rec_define_rsp, sizeof(rec_define_rsp),
						    &rc, err, sizeof(err)), 0);
}

/* PolicyPCR of pcr_digest (which the TPM accepted), then PolicyAuthorize
 * of the approval with t, whose recorded answer carried want_rc. */
static void authorize(struct replay *r, const uint8_t pcr_digest[HASH],
		      const struct tpm2_ticket *t,
		      const uint8_t *pcr_cmd, size_t pcr_cmd_len, const uint8_t *pcr_rsp,
		      size_t pcr_rsp_len, const uint8_t *auth_cmd, size_t auth_cmd_len,
		      const uint8_t *auth_rsp, size_t auth_rsp_len, uint32_t want_rc)
{
	uint32_t rc = 99;

	assert_int_equal(tpm2_build_policy_pcr(cmd, sizeof(cmd), r->s.handle, PCR_MASK,
					       pcr_digest), pcr_cmd_len);
	assert_memory_equal(cmd, pcr_cmd, pcr_cmd_len);
	assert_int_equal(tpm2_parse_policy_pcr(pcr_rsp, pcr_rsp_len, &rc, err, sizeof(err)),
			 0);
	assert_int_equal(tpm2_build_policy_authorize(cmd, sizeof(cmd), r->s.handle,
						     r->approved, REF, REF_LEN,
						     r->signer.name, t), auth_cmd_len);
	assert_memory_equal(cmd, auth_cmd, auth_cmd_len);
	rc = 99;
	assert_int_equal(tpm2_parse_policy_authorize(auth_rsp, auth_rsp_len, &rc, err,
						     sizeof(err)),
			 want_rc == TPM2_RC_SUCCESS ? 0 : -1);
	assert_int_equal(rc, want_rc);
}

static void written(struct replay *r)
{
	uint8_t n[TPM2_SESSION_HASH_LEN], digest[HASH];
	uint32_t rc = 99;

	defined(r);
	authorize(r, r->pcr_digest, &r->ticket, rec_pcr_write_cmd, sizeof(rec_pcr_write_cmd),
		  rec_pcr_write_rsp, sizeof(rec_pcr_write_rsp), rec_authorize_write_cmd,
		  sizeof(rec_authorize_write_cmd), rec_authorize_write_rsp,
		  sizeof(rec_authorize_write_rsp), TPM2_RC_SUCCESS);
	/* The session now holds exactly the index's authPolicy. */
	assert_built(tpm2_build_policy_get_digest(cmd, sizeof(cmd), r->s.handle),
		     rec_get_digest_cmd);
	assert_int_equal(tpm2_parse_policy_get_digest(rec_get_digest_rsp,
						      sizeof(rec_get_digest_rsp), digest,
						      &rc, err, sizeof(err)), 0);
	assert_memory_equal(digest, r->policy, HASH);
	assert_hex(digest, HASH, POLICY_HEX);
	memset(n, 0x41, sizeof(n));
	assert_built(tpm2_build_nv_write_policy(cmd, sizeof(cmd), &r->s, &r->pub, rec_data,
						DATA_LEN, DATA_AT, n),
		     rec_write_cmd);
	assert_int_equal(tpm2_parse_nv_write_policy(rec_write_rsp, sizeof(rec_write_rsp),
						    &r->s, &rc, err, sizeof(err)), 0);
	r->pub.attributes |= TPM2_NVA_WRITTEN;
}

static void read_back(struct replay *r)
{
	uint8_t n[TPM2_SESSION_HASH_LEN], out[DATA_LEN];
	uint32_t rc = 99;

	written(r);
	authorize(r, r->pcr_digest, &r->ticket, rec_pcr_read_cmd, sizeof(rec_pcr_read_cmd),
		  rec_pcr_read_rsp, sizeof(rec_pcr_read_rsp), rec_authorize_read_cmd,
		  sizeof(rec_authorize_read_cmd), rec_authorize_read_rsp,
		  sizeof(rec_authorize_read_rsp), TPM2_RC_SUCCESS);
	memset(n, 0x42, sizeof(n));
	assert_built(tpm2_build_nv_read_policy(cmd, sizeof(cmd), &r->s, &r->pub, DATA_LEN,
					       DATA_AT, n),
		     rec_read_cmd);
	assert_int_equal(tpm2_parse_nv_read_policy(rec_read_rsp, sizeof(rec_read_rsp), &r->s,
						   out, sizeof(out), &rc, err, sizeof(err)),
			 0);
	assert_memory_equal(out, rec_data, DATA_LEN);
}

static void test_exchange_replays(void **state)
{
	uint8_t pcrs[PCR_COUNT][HASH], digest[HASH], policy[HASH];
	uint8_t n[TPM2_SESSION_HASH_LEN], out[DATA_LEN];
	struct replay r;
	uint32_t rc = 0;

	(void)state;
	read_back(&r);
	/* Another policy's ticket, on this boot's PCRs. */
	authorize(&r, r.pcr_digest, &r.ticket_other, rec_pcr_other_ticket_cmd,
		  sizeof(rec_pcr_other_ticket_cmd), rec_pcr_other_ticket_rsp,
		  sizeof(rec_pcr_other_ticket_rsp), rec_authorize_other_ticket_cmd,
		  sizeof(rec_authorize_other_ticket_cmd), rec_authorize_other_ticket_rsp,
		  sizeof(rec_authorize_other_ticket_rsp), 0x4c4);
	assert_true(tpm2_rc_is_ticket_refused(0x4c4));
	assert_string_equal(err, "PolicyAuthorize failed: TPM_RC_VALUE (0x4c4, parameter 4)");
	/* A new session, PCR 9 changed: PolicyPCR of today's PCRs holds, the
	 * approval is not of them. */
	start_session(&r, 0x22, 0x45, rec_start_after_cmd, sizeof(rec_start_after_cmd),
		      rec_start_after_rsp, sizeof(rec_start_after_rsp));
	memset(digest, 0x99, sizeof(digest));
	assert_built(tpm2_build_pcr_extend_sha384(cmd, sizeof(cmd), 9, digest),
		     rec_extend9_cmd);
	memcpy(pcrs, rec_pcr_values, sizeof(pcrs));
	memcpy(pcrs[9], rec_pcr9_after, HASH);
	assert_int_equal(tpm2_policy_pcr_digest(PCR_MASK, (const uint8_t (*)[HASH])pcrs,
						PCR_COUNT, digest, policy), 0);
	assert_memory_not_equal(policy, r.approved, HASH);
	authorize(&r, digest, &r.ticket, rec_pcr_now_cmd, sizeof(rec_pcr_now_cmd),
		  rec_pcr_now_rsp, sizeof(rec_pcr_now_rsp), rec_authorize_not_approved_cmd,
		  sizeof(rec_authorize_not_approved_cmd), rec_authorize_not_approved_rsp,
		  sizeof(rec_authorize_not_approved_rsp), 0x1c4);
	assert_true(tpm2_rc_is_not_approved(0x1c4));
	memset(n, 0x46, sizeof(n));
	assert_built(tpm2_build_nv_read_policy(cmd, sizeof(cmd), &r.s, &r.pub, DATA_LEN,
					       DATA_AT, n),
		     rec_read_refused_cmd);
	assert_int_equal(tpm2_parse_nv_read_policy(rec_read_refused_rsp,
						   sizeof(rec_read_refused_rsp), &r.s, out,
						   sizeof(out), &rc, err, sizeof(err)), -1);
	assert_int_equal(rc, 0x99d);
	tpm2_session_forget(&r.s);
}

/* --- Refusals ------------------------------------------------------------------------- */

/* Every parser behind one shape: the recorded key, the outputs in one
 * struct whose bytes must not move on a refusal. */
struct outputs {
	struct tpm2_signer signer;
	struct tpm2_ticket ticket;
	uint8_t digest[HASH];
};

typedef int (*parser)(const uint8_t *rsp, size_t len, struct outputs *o, uint32_t *rc);

static int parse_load(const uint8_t *rsp, size_t len, struct outputs *o, uint32_t *rc)
{
	uint8_t point[TPM2_P384_POINT_LEN];

	ca_point(point);
	return tpm2_parse_load_external_signer(rsp, len, point, &o->signer, rc, err,
					       sizeof(err));
}

static int parse_ticket(const uint8_t *rsp, size_t len, struct outputs *o, uint32_t *rc)
{
	return tpm2_parse_verify_signature(rsp, len, &o->ticket, rc, err, sizeof(err));
}

static int parse_authorize(const uint8_t *rsp, size_t len, struct outputs *o, uint32_t *rc)
{
	(void)o;
	return tpm2_parse_policy_authorize(rsp, len, rc, err, sizeof(err));
}

static int parse_digest(const uint8_t *rsp, size_t len, struct outputs *o, uint32_t *rc)
{
	return tpm2_parse_policy_get_digest(rsp, len, o->digest, rc, err, sizeof(err));
}

static void fresh(struct outputs *o)
{
	memset(o, 0xa5, sizeof(*o));
}

static void assert_untouched(const struct outputs *o)
{
	struct outputs before;

	fresh(&before);
	assert_memory_equal(o, &before, sizeof(before));
}

/* Refused, outputs untouched, a reason given. */
static void assert_refused(parser parse, const uint8_t *rsp, size_t len, uint32_t *rc)
{
	struct outputs o;

	fresh(&o);
	err[0] = '\0';
	assert_int_equal(parse(rsp, len, &o, rc), -1);
	assert_true(err[0] != '\0');
	assert_untouched(&o);
}

/* Every bit of bytes [from, to) flipped: refused. */
static void assert_flips_refused(parser parse, const uint8_t *rec, size_t len, size_t from,
				 size_t to)
{
	uint8_t rsp[TPM2_BUFFER_MAX];
	uint32_t rc;

	for (size_t i = from; i < to; i++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(rsp, rec, len);
			rsp[i] ^= (uint8_t)(1u << bit);
			assert_refused(parse, rsp, len, &rc);
		}
	}
}

/* Refused at every length short of the whole (against either guard), and
 * with one byte more; accepted whole. */
static void assert_exact_length(parser parse, const uint8_t *rec, size_t len)
{
	uint8_t longer[TPM2_BUFFER_MAX];
	struct outputs o;
	struct guarded g;
	uint32_t rc;

	guarded_init(&g, len);
	for (size_t n = 0; n < len; n++)
		for (int end = 0; end < 2; end++)
			assert_refused(parse, guarded_fill(&g, rec, n, end), n, &rc);
	guarded_free(&g);
	memcpy(longer, rec, len);
	longer[len] = 0;
	longer[5]++;
	assert_refused(parse, longer, len + 1, &rc);
	assert_non_null(strstr(err, "left over in the response"));
	assert_int_equal(rc, TPM2_RC_SUCCESS); /* the TPM said success; the body lied */
	/* A sessions tag: none of these commands ran with one. */
	memcpy(longer, rec, len);
	longer[1] = 0x02;
	assert_refused(parse, longer, len, &rc);
	assert_int_equal(rc, TPM2_RC_MALFORMED);
	assert_non_null(strstr(err, "tag 0x8002"));
	fresh(&o);
	assert_int_equal(parse(rec, len, &o, NULL), 0);
}

static void test_load_refusals(void **state)
{
	uint8_t rsp[sizeof(rec_load_rsp)], point[TPM2_P384_POINT_LEN], priv[48];
	struct outputs o;
	uint32_t rc;

	(void)state;
	assert_exact_length(parse_load, rec_load_rsp, sizeof(rec_load_rsp));
	/* The header, the handle's type, the Name's size and every bit of it;
	 * the handle's low bytes only name another transient object. */
	assert_flips_refused(parse_load, rec_load_rsp, sizeof(rsp), 0, 11);
	assert_flips_refused(parse_load, rec_load_rsp, sizeof(rsp), 14, sizeof(rsp));
	memcpy(rsp, rec_load_rsp, sizeof(rsp));
	rsp[13] = 0x07;
	fresh(&o);
	assert_int_equal(parse_load(rsp, sizeof(rsp), &o, &rc), 0);
	assert_int_equal(o.signer.handle, 0x80000007);
	/* A persistent handle; another Name. */
	rsp[10] = 0x81;
	assert_refused(parse_load, rsp, sizeof(rsp), &rc);
	assert_string_equal(err,
			    "LoadExternal response: handle 0x81000007 is not a transient object's");
	memcpy(rsp, rec_load_rsp, sizeof(rsp));
	rsp[sizeof(rsp) - 1] ^= 1;
	assert_refused(parse_load, rsp, sizeof(rsp), &rc);
	assert_string_equal(err, "LoadExternal response: name is not the Name of the key sent");
	assert_int_equal(rc, TPM2_RC_SUCCESS);
	/* The right answer for another key than the one asked to load. */
	memset(priv, 0x2b, sizeof(priv));
	assert_int_equal(crypto_p384_public(priv, point), CRYPTO_OK);
	fresh(&o);
	assert_int_equal(tpm2_parse_load_external_signer(rec_load_rsp, sizeof(rec_load_rsp),
							 point, &o.signer, &rc, err,
							 sizeof(err)), -1);
	point[0] = 0x03;
	assert_int_equal(tpm2_parse_load_external_signer(rec_load_rsp, sizeof(rec_load_rsp),
							 point, &o.signer, &rc, err,
							 sizeof(err)), -1);
	assert_int_equal(rc, TPM2_RC_MALFORMED);
	assert_untouched(&o);
	/* A Name of another size (SHA-256's). */
	memcpy(rsp, rec_load_rsp, sizeof(rsp));
	store_be16(rsp + 14, 34);
	assert_refused(parse_load, rsp, sizeof(rsp), &rc);
	assert_non_null(strstr(err, "name of 34 bytes (must be 50..50)"));
}

/* A VerifySignature response carrying the ticket tag, hierarchy and digest. */
static size_t ticket_rsp(uint8_t *rsp, uint16_t tag, uint32_t hierarchy, size_t digest_len)
{
	size_t len = TPM2_HEADER_LEN + 2 + 4 + 2 + digest_len;
	uint8_t *p = rsp;

	p = store_be16(p, TPM2_ST_NO_SESSIONS);
	p = store_be32(p, (uint32_t)len);
	p = store_be32(p, TPM2_RC_SUCCESS);
	p = store_be16(p, tag);
	p = store_be32(p, hierarchy);
	p = store_be16(p, (uint16_t)digest_len);
	memset(p, 0x5c, digest_len);
	return len;
}

static void test_verify_refusals(void **state)
{
	uint8_t rsp[TPM2_BUFFER_MAX];
	struct outputs o;
	uint32_t rc;
	size_t len;

	(void)state;
	assert_exact_length(parse_ticket, rec_verify_rsp, sizeof(rec_verify_rsp));
	/* The header, tag, hierarchy and the digest's size; the digest itself
	 * is the TPM's HMAC, opaque here (PolicyAuthorize checks it). */
	assert_flips_refused(parse_ticket, rec_verify_rsp, sizeof(rec_verify_rsp), 0, 18);
	/* The ticket's tag: another ticket's (TPM_ST_AUTH_SECRET), or none. */
	len = ticket_rsp(rsp, 0x8025, TPM2_RH_OWNER, 64);
	assert_refused(parse_ticket, rsp, len, &rc);
	assert_non_null(strstr(err, "validation.tag 0x8025, expected 0x8022"));
	/* A NULL ticket (a key under TPM_RH_NULL): PolicyAuthorize refuses it. */
	len = ticket_rsp(rsp, TPM2_ST_VERIFIED, TPM2_RH_NULL, 0);
	assert_refused(parse_ticket, rsp, len, &rc);
	assert_non_null(strstr(err, "validation.hierarchy 0x40000007, expected 0x40000001"));
	len = ticket_rsp(rsp, TPM2_ST_VERIFIED, TPM2_RH_ENDORSEMENT, 64);
	assert_refused(parse_ticket, rsp, len, &rc);
	/* The owner's, with no digest, or one longer than any hash's. */
	len = ticket_rsp(rsp, TPM2_ST_VERIFIED, TPM2_RH_OWNER, 0);
	assert_refused(parse_ticket, rsp, len, &rc);
	assert_non_null(strstr(err, "validation.digest of 0 bytes (must be 1..64)"));
	len = ticket_rsp(rsp, TPM2_ST_VERIFIED, TPM2_RH_OWNER, TPM2_DIGEST_MAX + 1);
	assert_refused(parse_ticket, rsp, len, &rc);
	/* A TPM whose HMAC is SHA-256: taken as it is. */
	len = ticket_rsp(rsp, TPM2_ST_VERIFIED, TPM2_RH_OWNER, 32);
	fresh(&o);
	assert_int_equal(parse_ticket(rsp, len, &o, &rc), 0);
	assert_int_equal(o.ticket.digest_len, 32);
	assert_int_equal(o.ticket.digest[31], 0x5c);
	/* The recorded refusal, its code handed back. */
	assert_refused(parse_ticket, rec_verify_wrong_rsp, sizeof(rec_verify_wrong_rsp), &rc);
	assert_int_equal(rc, 0x2db);
}

static void test_authorize_refusals(void **state)
{
	uint32_t rc;

	(void)state;
	assert_exact_length(parse_authorize, rec_authorize_write_rsp,
			    sizeof(rec_authorize_write_rsp));
	/* Every bit of the header: a malformed response or a refusal. */
	assert_flips_refused(parse_authorize, rec_authorize_write_rsp,
			     sizeof(rec_authorize_write_rsp), 0,
			     sizeof(rec_authorize_write_rsp));
	assert_refused(parse_authorize, rec_authorize_not_approved_rsp,
		       sizeof(rec_authorize_not_approved_rsp), &rc);
	assert_int_equal(rc, 0x1c4);
	assert_string_equal(err, "PolicyAuthorize failed: TPM_RC_VALUE (0x1c4, parameter 1)");
}

static void test_get_digest_refusals(void **state)
{
	uint8_t rsp[sizeof(rec_get_digest_rsp)];
	uint32_t rc;

	(void)state;
	assert_exact_length(parse_digest, rec_get_digest_rsp, sizeof(rec_get_digest_rsp));
	assert_flips_refused(parse_digest, rec_get_digest_rsp, sizeof(rsp), 0, 12);
	/* A SHA-256 session's digest is not ours. */
	memcpy(rsp, rec_get_digest_rsp, sizeof(rsp));
	store_be32(rsp + 2, 10 + 2 + 32);
	store_be16(rsp + 10, 32);
	assert_refused(parse_digest, rsp, 10 + 2 + 32, &rc);
	assert_non_null(strstr(err, "policyDigest of 32 bytes (must be 48..48)"));
}

/* --- Builders' limits ------------------------------------------------------------------ */

/* Every cap short of the command builds nothing. */
#define assert_caps(call_with_cap, full) do { \
	for (size_t cap_ = 0; cap_ < (full); cap_++) { \
		size_t cap = cap_; \
		assert_int_equal((call_with_cap), 0); \
	} \
} while (0)

static void test_builder_limits(void **state)
{
	uint8_t point[TPM2_P384_POINT_LEN], digest[HASH] = { 0 }, sig[96] = { 0 };
	uint8_t name[NAME_LEN], ref[TPM2_POLICY_REF_MAX + 1] = { 0 };
	struct tpm2_ticket t = { TPM2_RH_OWNER, { 0 }, 64 };
	const uint32_t session = 0x03000000;

	(void)state;
	ca_point(point);
	unhex(NAME_HEX, name, NAME_LEN);
	assert_caps(tpm2_build_load_external_signer(cmd, cap, point), sizeof(rec_load_cmd));
	assert_caps(tpm2_build_verify_signature(cmd, cap, 0x80000000, digest, sig),
		    sizeof(rec_verify_cmd));
	assert_caps(tpm2_build_policy_authorize(cmd, cap, session, digest, REF, REF_LEN,
						name, &t),
		    sizeof(rec_authorize_write_cmd));
	assert_caps(tpm2_build_policy_get_digest(cmd, cap, session),
		    sizeof(rec_get_digest_cmd));
	/* Handles of the wrong kind. */
	assert_int_equal(tpm2_build_verify_signature(cmd, sizeof(cmd), 0x81000001, digest,
						     sig), 0);
	assert_int_equal(tpm2_build_policy_authorize(cmd, sizeof(cmd), 0x02000000, digest,
						     REF, REF_LEN, name, &t), 0);
	assert_int_equal(tpm2_build_policy_get_digest(cmd, sizeof(cmd), 0x02000000), 0);
	/* A policyRef too long, a Name not SHA-384's, a ticket without a
	 * digest or with too long a one. */
	assert_int_equal(tpm2_build_policy_authorize(cmd, sizeof(cmd), session, digest, ref,
						     sizeof(ref), name, &t), 0);
	assert_int_equal(tpm2_build_policy_authorize(cmd, sizeof(cmd), session, digest, ref,
						     sizeof(ref) - 1, name, &t),
			 sizeof(rec_authorize_write_cmd) - REF_LEN + TPM2_POLICY_REF_MAX);
	t.digest_len = 0;
	assert_int_equal(tpm2_build_policy_authorize(cmd, sizeof(cmd), session, digest, REF,
						     REF_LEN, name, &t), 0);
	t.digest_len = TPM2_DIGEST_MAX + 1;
	assert_int_equal(tpm2_build_policy_authorize(cmd, sizeof(cmd), session, digest, REF,
						     REF_LEN, name, &t), 0);
	t.digest_len = 64;
	name[1] = 0x0b;
	assert_int_equal(tpm2_build_policy_authorize(cmd, sizeof(cmd), session, digest, REF,
						     REF_LEN, name, &t), 0);
	/* No policyRef: an empty TPM2B. */
	name[1] = 0x0c;
	assert_int_equal(tpm2_build_policy_authorize(cmd, sizeof(cmd), session, digest, NULL,
						     0, name, &t),
			 sizeof(rec_authorize_write_cmd) - REF_LEN);
	assert_int_equal(load_be16(cmd + 10 + 4 + 2 + HASH), 0);
	/* Not an uncompressed point. */
	point[0] = 0x04 ^ 0x01;
	assert_int_equal(tpm2_build_load_external_signer(cmd, sizeof(cmd), point), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signer_known_answer),
		cmocka_unit_test(test_policy_known_answer),
		cmocka_unit_test(test_ahash_known_answer),
		cmocka_unit_test(test_rc_classes),
		cmocka_unit_test(test_exchange_replays),
		cmocka_unit_test(test_load_refusals),
		cmocka_unit_test(test_verify_refusals),
		cmocka_unit_test(test_authorize_refusals),
		cmocka_unit_test(test_get_digest_refusals),
		cmocka_unit_test(test_builder_limits),
	};

	if (crypto_init() != CRYPTO_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
