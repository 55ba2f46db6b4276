/*
 * The CA's check of the TCB's TPM-resident keys (tools/tcb_key_check.c,
 * compiled in with tools/tpm_credential.c: host-only code).
 *
 * The evidence is made here: a software "AK" signs TPMS_ATTESTs of
 * Certify laid out as a TPM writes them (magic, type, qualifiedSigner,
 * extraData, clockInfo, firmwareVersion, the key's Name and Qualified
 * Name), for software points standing in for the TPM's keys. The Name
 * comes from tcb/tpm2_tcb_key.c (checked against swtpm by
 * test_tpm2_tcb_key.c); the Qualified Name of an endorsement primary and
 * the PolicyAuthorize policy are computed here independently, and the
 * former is checked against swtpm's own attest from the recording.
 *
 * The good evidence is accepted; refused are: a signature by another key,
 * any changed attest byte, an attest of another Name (another CA's
 * policy, the other kind's template, another hierarchy, non-empty
 * extraData, a wrong magic), the two keys swapped, a point not on the
 * curve, one point for both keys, a missing key, every truncation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/tpm_credential.c"
#include "tools/tcb_key_check.c"

#include "crypto/pki_host.h"
#include "tcb/byteorder.h"
#include "guarded.h"
#include "tpm2_tcb_key_swtpm.h"

#define NAME_LEN  TPM2_TCB_KEY_NAME_LEN
#define PUB_LEN   CRYPTO_P384_PUB_LEN
#define CLOCK_LEN (8 + 4 + 4 + 1) /* clock, resetCount, restartCount, safe */
#define FW_LEN    8
#define TPM2_RH_OWNER_HANDLE 0x40000001u

struct ident {
	uint8_t priv[CRYPTO_P384_PRIV_LEN];
	uint8_t pub[PUB_LEN];
};

struct ca {
	struct ident key;
	struct pki_cert cert;
	uint8_t policy[TPM2_SHA384_LEN]; /* computed here */
};

/* One key's evidence as a report carries it. */
struct evidence {
	uint8_t point[PUB_LEN];
	uint8_t attest[REPORT_TPM_KEY_ATTEST_MAX];
	size_t attest_len;
	uint8_t sig[CRYPTO_P384_SIG_LEN];
};

/* How to lie in an attest. */
struct attest_opts {
	uint32_t magic;
	const uint8_t *extra;      /* extraData, or NULL */
	size_t extra_len;
	uint32_t hierarchy;        /* the Qualified Name's parent */
};

static const struct attest_opts honest = {
	TPM2_GENERATED_VALUE, NULL, 0, TPM2_RH_ENDORSEMENT,
};

static struct {
	struct ident ak, other_ak, sign, agree;
	struct ca root, other;
	struct evidence good_sign, good_agree;
} t;

static char err[512];

/* ---- Expectations, computed independently ------------------------------------ */

/* PolicyAuthorize(the CA key, "custos-tcb-key") as a trial session does:
 * H(H(zeros || TPM_CC_PolicyAuthorize || keyName) || policyRef). */
static void expected_policy(const uint8_t ca_pub[PUB_LEN], uint8_t policy[48])
{
	static const uint8_t cc[4] = { 0x00, 0x00, 0x01, 0x6a };
	uint8_t name[TPM2_SIGNER_NAME_LEN], zeros[48] = { 0 }, d[48];
	struct crypto_sha384_ctx c;

	assert_int_equal(tpm2_signer_name(ca_pub, name), 0);
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, zeros, sizeof(zeros));
	crypto_sha384_update(&c, cc, sizeof(cc));
	crypto_sha384_update(&c, name, sizeof(name));
	crypto_sha384_final(&c, d);
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, d, sizeof(d));
	crypto_sha384_update(&c, "custos-tcb-key", 14);
	crypto_sha384_final(&c, policy);
}

/* A primary's Qualified Name: nameAlg || H(parent handle || Name) (the
 * hierarchy's Qualified Name is its handle). */
static void qualified_name(uint32_t hierarchy, const uint8_t name[NAME_LEN],
			   uint8_t qn[NAME_LEN])
{
	struct crypto_sha384_ctx c;
	uint8_t h[4];

	store_be32(h, hierarchy);
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, h, sizeof(h));
	crypto_sha384_update(&c, name, NAME_LEN);
	store_be16(qn, TPM2_ALG_SHA384);
	crypto_sha384_final(&c, qn + 2);
}

/* ---- Evidence ------------------------------------------------------------------ */

static uint8_t *put_tpm2b(uint8_t *p, const uint8_t *data, size_t len)
{
	p = store_be16(p, (uint16_t)len);
	if (len)
		memcpy(p, data, len);
	return p + len;
}

/* TPMS_ATTEST of Certify of the key named name by the AK ak. */
static size_t certify_attest(const struct ident *ak, const uint8_t name[NAME_LEN],
			     const struct attest_opts *o, uint8_t *out)
{
	uint8_t signer[NAME_LEN], qn[NAME_LEN], *p;

	/* The AK's Qualified Name: any SHA-384 name will do for the reader
	 * (the signature is what ties the attest to the AK). */
	store_be16(signer, TPM2_ALG_SHA384);
	crypto_sha384(ak->pub, PUB_LEN, signer + 2);
	qualified_name(o->hierarchy, name, qn);
	p = store_be32(out, o->magic);
	p = store_be16(p, TPM2_ST_ATTEST_CERTIFY);
	p = put_tpm2b(p, signer, sizeof(signer));
	p = put_tpm2b(p, o->extra, o->extra_len);
	memset(p, 0x11, CLOCK_LEN);           /* clockInfo: the TPM's */
	p[CLOCK_LEN - 1] = 1;                 /* safe */
	p += CLOCK_LEN;
	memset(p, 0x22, FW_LEN);              /* firmwareVersion */
	p = put_tpm2b(p + FW_LEN, name, NAME_LEN);
	p = put_tpm2b(p, qn, NAME_LEN);
	return (size_t)(p - out);
}

static void sign_attest(const struct ident *ak, struct evidence *e)
{
	uint8_t digest[48];

	crypto_sha384(e->attest, e->attest_len, digest);
	assert_int_equal(crypto_ecdsa_p384_sign(ak->priv, digest, e->sig), CRYPTO_OK);
}

/* Evidence for point as a key of kind with policy, as the AK certifies it. */
static void make_evidence(enum tpm2_tcb_key_kind kind, const uint8_t point[PUB_LEN],
			  const uint8_t policy[48], const struct ident *ak,
			  const struct attest_opts *o, struct evidence *e)
{
	uint8_t name[NAME_LEN];

	memcpy(e->point, point, PUB_LEN);
	tpm2_tcb_key_name(kind, policy, point, name);
	e->attest_len = certify_attest(ak, name, o, e->attest);
	sign_attest(ak, e);
}

static struct report_tpm_key as_report_key(const struct evidence *e)
{
	struct report_tpm_key k = { e->point, e->attest, e->attest_len, e->sig };

	return k;
}

static struct report report_of(const struct evidence *sign, const struct evidence *agree)
{
	struct report r;

	memset(&r, 0, sizeof(r));
	r.tpm_key_count = 2;
	r.tpm_keys[0] = as_report_key(sign);
	r.tpm_keys[1] = as_report_key(agree);
	return r;
}

static int check(const struct evidence *sign, const struct evidence *agree,
		 struct tcb_key_points *out)
{
	struct report r = report_of(sign, agree);

	err[0] = '\0';
	return tcb_key_check(&r, t.ak.pub, t.root.cert.der, t.root.cert.der_len, out, err,
			     sizeof(err));
}

static void assert_refused(const struct evidence *sign, const struct evidence *agree,
			   const char *want)
{
	struct tcb_key_points out, before;

	memset(&out, 0xa5, sizeof(out));
	before = out;
	assert_int_equal(check(sign, agree, &out), -1);
	if (!strstr(err, want))
		fail_msg("refused with '%s', not '%s'", err, want);
	assert_memory_equal(&out, &before, sizeof(out)); /* untouched */
}

/* ---- Fixtures -------------------------------------------------------------------- */

static void make_ident(struct ident *id)
{
	assert_int_equal(crypto_p384_keygen(id->priv, id->pub), CRYPTO_OK);
}

static void make_ca(struct ca *ca, const char *cn)
{
	char e[PKI_ERR_LEN];

	make_ident(&ca->key);
	if (pki_issue_root(ca->key.priv, cn, 30, &ca->cert, e, sizeof(e)) != CRYPTO_OK)
		fail_msg("root %s: %s", cn, e);
	expected_policy(ca->key.pub, ca->policy);
}

static int setup(void **state)
{
	(void)state;
	if (crypto_init() != CRYPTO_OK)
		return -1;
	make_ident(&t.ak);
	make_ident(&t.other_ak);
	make_ident(&t.sign);
	make_ident(&t.agree);
	make_ca(&t.root, "Custos test CA");
	make_ca(&t.other, "Another CA");
	make_evidence(TPM2_TCB_KEY_SIGN, t.sign.pub, t.root.policy, &t.ak, &honest,
		      &t.good_sign);
	make_evidence(TPM2_TCB_KEY_AGREE, t.agree.pub, t.root.policy, &t.ak, &honest,
		      &t.good_agree);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pki_cert_free(&t.root.cert);
	pki_cert_free(&t.other.cert);
	return 0;
}

/* ---- Tests ------------------------------------------------------------------------- */

/* The Qualified Name computed here is the one swtpm wrote into its attest
 * for its endorsement primary (the recorded Certify of the signing key). */
static void test_qualified_name_is_swtpms(void **state)
{
	/* header, parameterSize, certifyInfo.size, then the attest */
	const uint8_t *a = rec_certify_sign_rsp + TPM2_HEADER_LEN + 4 + 2;
	size_t off = 4 + 2 + 2 + NAME_LEN;
	uint8_t qn[NAME_LEN];

	(void)state;
	off += 2 + load_be16(a + off) + CLOCK_LEN + FW_LEN; /* extraData */
	assert_int_equal(load_be16(a + off), NAME_LEN);
	qualified_name(TPM2_RH_ENDORSEMENT, a + off + 2, qn);
	assert_int_equal(load_be16(a + off + 2 + NAME_LEN), NAME_LEN);
	assert_memory_equal(qn, a + off + 2 + NAME_LEN + 2, NAME_LEN);
}

static void test_policy_is_the_cas(void **state)
{
	uint8_t policy[48];

	(void)state;
	assert_int_equal(tcb_key_policy(t.root.cert.der, t.root.cert.der_len, policy, err,
					sizeof(err)), 0);
	assert_memory_equal(policy, t.root.policy, sizeof(policy));
	assert_memory_not_equal(t.root.policy, t.other.policy, sizeof(policy));
	/* Not a CA certificate, not a certificate. */
	assert_int_equal(tcb_key_policy((const uint8_t *)"\x30\x03\x02\x01\x07", 5, policy,
					err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the CA root certificate: "));
}

static void test_good_evidence_accepted(void **state)
{
	struct tcb_key_points out;

	(void)state;
	assert_int_equal(check(&t.good_sign, &t.good_agree, &out), 0);
	assert_memory_equal(out.sign, t.sign.pub, PUB_LEN);
	assert_memory_equal(out.agree, t.agree.pub, PUB_LEN);
	/* And each alone, through the single-key check. */
	struct report_tpm_key k = as_report_key(&t.good_sign);
	assert_int_equal(tcb_key_check_one(TPM2_TCB_KEY_SIGN, &k, t.ak.pub, t.root.policy,
					   err, sizeof(err)), 0);
	assert_int_equal(tcb_key_check_one((enum tpm2_tcb_key_kind)7, &k, t.ak.pub,
					   t.root.policy, err, sizeof(err)), -1);
	assert_string_equal(err, "no such TCB key (7)");
}

static void test_signature_by_another_key(void **state)
{
	struct evidence e = t.good_agree;

	(void)state;
	sign_attest(&t.other_ak, &e);
	assert_refused(&t.good_sign, &e, "the TCB's key-agreement key: its certification "
		       "is not signed by the attestation key");
	/* The AK's signature over nothing of this, and none at all. */
	e = t.good_sign;
	memcpy(e.sig, t.good_agree.sig, sizeof(e.sig));
	assert_refused(&e, &t.good_agree, "is not signed by the attestation key");
	memset(e.sig, 0, sizeof(e.sig));
	assert_refused(&e, &t.good_agree, "is not signed by the attestation key");
}

/* Any changed byte breaks the AK's signature. */
static void test_every_flipped_attest_byte(void **state)
{
	(void)state;
	for (size_t i = 0; i < t.good_sign.attest_len; i++) {
		struct evidence e = t.good_sign;

		e.attest[i] ^= 0x01;
		assert_refused(&e, &t.good_agree, "is not signed by the attestation key");
	}
}

/* Signed by the AK, but not the Custos key under this CA's approvals. */
static void test_attest_of_another_name(void **state)
{
	static const uint8_t nonce[16] = { 1, 2, 3 };
	struct attest_opts o = honest;
	struct evidence e;

	(void)state;
	/* A key whose policy is another CA's: this CA's approvals do not
	 * gate it. */
	make_evidence(TPM2_TCB_KEY_SIGN, t.sign.pub, t.other.policy, &t.ak, &honest, &e);
	assert_refused(&e, &t.good_agree, "the TCB's signing key is not the Custos signing "
		       "key usable under this CA's approvals: Certify response: "
		       "attest.certify.name is not the key's");
	/* The other kind's template for this point. */
	make_evidence(TPM2_TCB_KEY_AGREE, t.sign.pub, t.root.policy, &t.ak, &honest, &e);
	assert_refused(&e, &t.good_agree, "attest.certify.name is not the key's");
	/* A primary of the owner hierarchy, not the endorsement's. */
	o.hierarchy = TPM2_RH_OWNER_HANDLE;
	make_evidence(TPM2_TCB_KEY_AGREE, t.agree.pub, t.root.policy, &t.ak, &o, &e);
	assert_refused(&t.good_sign, &e, "attest.certify.qualifiedName is not the key's");
	/* Qualifying data the CA never asked for; no TPM's magic. */
	o = honest;
	o.extra = nonce;
	o.extra_len = sizeof(nonce);
	make_evidence(TPM2_TCB_KEY_SIGN, t.sign.pub, t.root.policy, &t.ak, &o, &e);
	assert_refused(&e, &t.good_agree, "attest.extraData");
	o = honest;
	o.magic = 0xff544348u;
	make_evidence(TPM2_TCB_KEY_SIGN, t.sign.pub, t.root.policy, &t.ak, &o, &e);
	assert_refused(&e, &t.good_agree, "attest.magic");
}

static void test_swapped_keys(void **state)
{
	(void)state;
	assert_refused(&t.good_agree, &t.good_sign, "the TCB's signing key is not the "
		       "Custos signing key");
}

static void test_point_not_on_the_curve(void **state)
{
	struct evidence e = t.good_sign;

	(void)state;
	e.point[PUB_LEN - 1] ^= 0x01; /* y + 1 or - 1: off the curve */
	assert_refused(&e, &t.good_agree, "the TCB's signing key is not a point on P-384");
	e = t.good_agree;
	e.point[0] = 0x02; /* compressed */
	assert_refused(&t.good_sign, &e, "the TCB's key-agreement key is not a point on P-384");
	memset(e.point, 0, sizeof(e.point));
	assert_refused(&t.good_sign, &e, "is not a point on P-384");
	memset(e.point + 1, 0xff, sizeof(e.point) - 1);
	e.point[0] = 0x04; /* coordinates beyond the field */
	assert_refused(&t.good_sign, &e, "is not a point on P-384");
}

/* Two honest certifications of one point, once per template: one key
 * would sign and agree. */
static void test_one_point_for_both(void **state)
{
	struct evidence e;

	(void)state;
	make_evidence(TPM2_TCB_KEY_AGREE, t.sign.pub, t.root.policy, &t.ak, &honest, &e);
	assert_refused(&t.good_sign, &e, "the TCB's two keys are the same point");
}

static void test_missing_keys(void **state)
{
	struct report r = report_of(&t.good_sign, &t.good_agree);
	struct tcb_key_points out;

	(void)state;
	r.tpm_key_count = 0;
	assert_int_equal(tcb_key_check(&r, t.ak.pub, t.root.cert.der, t.root.cert.der_len,
				       &out, err, sizeof(err)), -1);
	assert_string_equal(err, "the report carries 0 TCB keys, not the signing and the "
			    "key-agreement key");
	r = report_of(&t.good_sign, &t.good_agree);
	r.tpm_keys[1].attest = NULL;
	assert_int_equal(tcb_key_check(&r, t.ak.pub, t.root.cert.der, t.root.cert.der_len,
				       &out, err, sizeof(err)), -1);
	assert_string_equal(err, "the TCB's key-agreement key is missing from the report");
	/* Another CA's root: its policy is not the keys'. */
	r = report_of(&t.good_sign, &t.good_agree);
	assert_int_equal(tcb_key_check(&r, t.ak.pub, t.other.cert.der, t.other.cert.der_len,
				       &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "attest.certify.name is not the key's"));
}

/* Every truncation, signed by the AK all the same, is refused without a
 * read past its end (a guard page follows it). */
static void test_truncations(void **state)
{
	struct guarded g;

	(void)state;
	guarded_init(&g, REPORT_TPM_KEY_ATTEST_MAX);
	for (size_t n = 1; n < t.good_sign.attest_len; n++) {
		struct evidence e = t.good_sign;
		struct report r;
		struct tcb_key_points out;

		e.attest_len = n;
		sign_attest(&t.ak, &e);
		r = report_of(&e, &t.good_agree);
		r.tpm_keys[0].attest = guarded_fill(&g, e.attest, n, 1);
		assert_int_equal(tcb_key_check(&r, t.ak.pub, t.root.cert.der,
					       t.root.cert.der_len, &out, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "the TCB's signing key is not the Custos"));
	}
	guarded_free(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qualified_name_is_swtpms),
		cmocka_unit_test(test_policy_is_the_cas),
		cmocka_unit_test(test_good_evidence_accepted),
		cmocka_unit_test(test_signature_by_another_key),
		cmocka_unit_test(test_every_flipped_attest_byte),
		cmocka_unit_test(test_attest_of_another_name),
		cmocka_unit_test(test_swapped_keys),
		cmocka_unit_test(test_point_not_on_the_curve),
		cmocka_unit_test(test_one_point_for_both),
		cmocka_unit_test(test_missing_keys),
		cmocka_unit_test(test_truncations),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
