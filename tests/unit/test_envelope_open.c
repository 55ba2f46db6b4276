/*
 * Unit tests for opening envelopes on the TCB side (tcb/envelope_open.c),
 * with envelopes made by the station's own builder (tools/envelope_build.c,
 * compiled in below: it is host-only, so not in the portable library) and
 * certificates issued in memory by crypto/pki_host.c:
 *
 *   root A: station, tenant, TCB 1 (kex + sign), TCB 2 (kex), a development
 *           TCB (tcb-kex-dev + tcb-sign-dev)
 *   root B: a station and a TCB kex certificate from another CA
 *
 * Each test breaks one thing and expects its own error code and message:
 * the wrong TCB, the wrong CA, the wrong role, a flipped byte in every
 * region (unsigned, then re-signed by the station so the signature no
 * longer catches it and the AEAD must), truncation at every length.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <custos/envelope.h>
#include "crypto/crypto.h"
#include "crypto/pki_host.h"
#include "tcb/policy.h"

#include "tools/envelope_build.c"

struct ident {
	uint8_t priv[CRYPTO_P384_PRIV_LEN];
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	struct pki_cert cert;
};

static struct {
	struct ident root_a, root_b;
	struct ident station, tenant, tcb1, tcb1_sign, tcb2;
	struct ident station_b, tcb_b;
	struct ident station2; /* a second station under A */
	struct ident tcb_dev, tcb_dev_sign; /* development roles, under A */
} k;

static uint8_t *payload;
static size_t payload_len;
static const uint8_t image[] = "\x7f" "ELF pretend TPGVM image bytes";

static char err[512];

/* ---- fixtures ------------------------------------------------------------ */

static void make_root(struct ident *id, const char *cn)
{
	char e[PKI_ERR_LEN];

	assert_int_equal(crypto_p384_keygen(id->priv, id->pub), CRYPTO_OK);
	if (pki_issue_root(id->priv, cn, 30, &id->cert, e, sizeof(e)))
		fail_msg("root: %s", e);
}

static void make_leaf(struct ident *id, const struct ident *ca, const char *cn,
		      enum crypto_role role)
{
	char e[PKI_ERR_LEN];

	assert_int_equal(crypto_p384_keygen(id->priv, id->pub), CRYPTO_OK);
	if (pki_issue_leaf(ca->priv, ca->cert.der, ca->cert.der_len, id->pub, cn,
			   role, 30, &id->cert, e, sizeof(e)))
		fail_msg("leaf %s: %s", cn, e);
}

static int setup(void **state)
{
	static const uint8_t fake_ca[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
	struct policy_cert ca = { fake_ca, sizeof(fake_ca) };
	uint8_t *policy;
	size_t policy_len;

	(void)state;
	if (crypto_init() != CRYPTO_OK)
		return -1;
	make_root(&k.root_a, "Root A");
	make_root(&k.root_b, "Root B");
	make_leaf(&k.station, &k.root_a, "station", CRYPTO_ROLE_STATION);
	make_leaf(&k.station2, &k.root_a, "station two", CRYPTO_ROLE_STATION);
	make_leaf(&k.tenant, &k.root_a, "alice", CRYPTO_ROLE_TENANT);
	make_leaf(&k.tcb1, &k.root_a, "tcb1", CRYPTO_ROLE_TCB_KEX);
	make_leaf(&k.tcb1_sign, &k.root_a, "tcb1", CRYPTO_ROLE_TCB_SIGN);
	make_leaf(&k.tcb2, &k.root_a, "tcb2", CRYPTO_ROLE_TCB_KEX);
	make_leaf(&k.station_b, &k.root_b, "station", CRYPTO_ROLE_STATION);
	make_leaf(&k.tcb_b, &k.root_b, "tcb1", CRYPTO_ROLE_TCB_KEX);
	make_leaf(&k.tcb_dev, &k.root_a, "dev", CRYPTO_ROLE_TCB_KEX_DEV);
	make_leaf(&k.tcb_dev_sign, &k.root_a, "dev", CRYPTO_ROLE_TCB_SIGN_DEV);
	if (policy_build("test-platform", &ca, 1, &policy, &policy_len, err,
			 sizeof(err)) ||
	    payload_build(image, sizeof(image), policy, policy_len, &payload,
			  &payload_len, err, sizeof(err)))
		return -1;
	free(policy);
	return 0;
}

static int teardown(void **state)
{
	struct ident *all[] = { &k.root_a, &k.root_b, &k.station, &k.station2,
				&k.tenant, &k.tcb1, &k.tcb1_sign, &k.tcb2,
				&k.station_b, &k.tcb_b, &k.tcb_dev,
				&k.tcb_dev_sign };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		pki_cert_free(&all[i]->cert);
	free(payload);
	return 0;
}

/* An envelope from 'signer' (its key and certificate) to 'tcb'. */
static uint8_t *build_with(const struct ident *signer, const struct ident *tcb,
			   const uint8_t *pl, size_t pl_len, size_t *len)
{
	struct envelope_recipe r = {
		.station_priv = signer->priv,
		.station_cert = signer->cert.der,
		.station_cert_len = signer->cert.der_len,
		.tcb_kex_cert = tcb->cert.der,
		.tcb_kex_cert_len = tcb->cert.der_len,
		.tcb_kex_pub = tcb->pub,
		.payload = pl,
		.payload_len = pl_len,
	};
	uint8_t *env;

	if (envelope_build(&r, &env, len, err, sizeof(err)))
		fail_msg("envelope_build: %s", err);
	return env;
}

static uint8_t *build(size_t *len)
{
	return build_with(&k.station, &k.tcb1, payload, payload_len, len);
}

/* Open a copy (opening decrypts in place) as 'tcb' under root_a. */
static int open_as(const uint8_t *env, size_t len, const struct ident *tcb,
		   const struct ident *root, struct envelope_payload *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	struct envelope_payload sentinel, got;
	int rc;

	assert_non_null(copy);
	memcpy(copy, env, len);
	memset(&got, 0xa5, sizeof(got));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	memset(err, 'x', sizeof(err));
	rc = envelope_open(copy, len, root->cert.der, root->cert.der_len,
			   tcb->cert.der, tcb->cert.der_len, tcb->priv, &got, err,
			   sizeof(err));
	assert_non_null(memchr(err, 0, sizeof(err)));
	if (rc != ENV_OPEN_OK)
		assert_memory_equal(&got, &sentinel, sizeof(got)); /* untouched */
	if (out && rc == ENV_OPEN_OK) {
		/* Check the plaintext while the copy is alive. */
		assert_true(got.image > copy && got.image < copy + len);
		assert_int_equal(got.image_len, sizeof(image));
		assert_memory_equal(got.image, image, sizeof(image));
		*out = got;
	}
	free(copy);
	return rc;
}

static void expect(const uint8_t *env, size_t len, const struct ident *tcb,
		   int want, const char *needle)
{
	int rc = open_as(env, len, tcb, &k.root_a, NULL);

	if (rc != want)
		fail_msg("got %d (%s: %s), want %d (%s)", rc,
			 envelope_open_strerror(rc), err, want,
			 envelope_open_strerror(want));
	if (needle && !strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
}

/* Re-sign with 'signer' after tampering: the signature then vouches for
 * the tampered bytes, so only the later checks can catch them. */
static void resign(uint8_t *env, size_t len, const struct ident *signer)
{
	uint8_t digest[CRYPTO_SHA384_LEN];

	crypto_sha384(env, len - ENV_SIG_LEN, digest);
	assert_int_equal(crypto_ecdsa_p384_sign(signer->priv, digest,
						env + len - ENV_SIG_LEN),
			 CRYPTO_OK);
}

/* ---- accepted ------------------------------------------------------------ */

static void test_round_trip(void **state)
{
	struct envelope_payload pl;
	size_t len;
	uint8_t *env = build(&len), *copy = malloc(len);
	struct tpgvm_policy pol;

	(void)state;
	expect(env, len, &k.tcb1, ENV_OPEN_OK, NULL);
	assert_string_equal(err, "");
	/* In place: the payload is where the ciphertext was. */
	memcpy(copy, env, len);
	assert_int_equal(envelope_open(copy, len, k.root_a.cert.der,
				       k.root_a.cert.der_len, k.tcb1.cert.der,
				       k.tcb1.cert.der_len, k.tcb1.priv, &pl,
				       NULL, 0), ENV_OPEN_OK);
	assert_ptr_equal(pl.image, copy + ENV_FIXED_LEN + k.station.cert.der_len + 6);
	assert_memory_equal(copy + ENV_FIXED_LEN + k.station.cert.der_len,
			    payload, payload_len);
	assert_int_equal(policy_parse(pl.policy, pl.policy_len, &pol, err,
				      sizeof(err)), 0);
	assert_string_equal(pol.platform_id, "test-platform");
	assert_int_equal(pol.tenant_ca_count, 1);
	free(copy);
	free(env);
}

/* A key-agreement key outside memory (the TPM's, in the hypervisor): the
 * callback gets the envelope's ephemeral point; its answer decrypts; a
 * refused point is the ephemeral key's fault; another public key is
 * refused before any ECDH. */
static int kex_calls, kex_answer;

static int test_ecdh(void *ctx, const uint8_t peer[ENV_PUB_LEN], uint8_t shared[48])
{
	kex_calls++;
	if (kex_answer != CRYPTO_OK)
		return kex_answer;
	return crypto_ecdh_p384(((const struct ident *)ctx)->priv, peer, shared);
}

static int open_with(const uint8_t *env, size_t len, const struct envelope_kex *kex)
{
	uint8_t *copy = malloc(len);
	struct envelope_payload got;
	int rc;

	assert_non_null(copy);
	memcpy(copy, env, len);
	rc = envelope_open_with(copy, len, k.root_a.cert.der, k.root_a.cert.der_len,
				k.tcb1.cert.der, k.tcb1.cert.der_len, kex, &got, err,
				sizeof(err));
	if (rc == ENV_OPEN_OK)
		assert_memory_equal(got.image, image, sizeof(image));
	free(copy);
	return rc;
}

static void test_key_agreement_callback(void **state)
{
	struct envelope_kex kex = { .ecdh = test_ecdh, .ctx = &k.tcb1 };
	size_t len;
	uint8_t *env = build(&len);

	(void)state;
	memcpy(kex.pub, k.tcb1.pub, sizeof(kex.pub));
	kex_calls = 0;
	kex_answer = CRYPTO_OK;
	assert_int_equal(open_with(env, len, &kex), ENV_OPEN_OK);
	assert_int_equal(kex_calls, 1);
	kex_answer = CRYPTO_E_INVAL;
	assert_int_equal(open_with(env, len, &kex), ENV_E_EPHEMERAL);
	kex_answer = CRYPTO_E_INTERNAL;
	assert_int_equal(open_with(env, len, &kex), ENV_E_CRYPTO);
	memcpy(kex.pub, k.tcb2.pub, sizeof(kex.pub));
	kex_calls = 0;
	assert_int_equal(open_with(env, len, &kex), ENV_E_TCB_IDENTITY);
	assert_non_null(strstr(err, "does not match its certificate"));
	assert_int_equal(kex_calls, 0);
	free(env);
}

/* Two envelopes of the same payload share nothing but the structure. */
static void test_fresh_key_and_iv(void **state)
{
	size_t l1, l2;
	uint8_t *e1 = build(&l1), *e2 = build(&l2);

	(void)state;
	assert_int_equal(l1, l2);
	assert_memory_not_equal(e1 + ENV_OFF_EPH_PUB, e2 + ENV_OFF_EPH_PUB, ENV_PUB_LEN);
	assert_memory_not_equal(e1 + ENV_OFF_IV, e2 + ENV_OFF_IV, ENV_IV_LEN);
	assert_memory_equal(e1 + ENV_OFF_TCB_FPR, e2 + ENV_OFF_TCB_FPR, ENV_FPR_LEN);
	free(e1);
	free(e2);
}

/* ---- who may send, who may receive ---------------------------------------- */

static void test_wrong_tcb(void **state)
{
	uint8_t fpr1[CRYPTO_SHA384_LEN], fpr2[CRYPTO_SHA384_LEN];
	char want[128];
	size_t len;
	uint8_t *env = build(&len);

	(void)state;
	crypto_sha384(k.tcb1.cert.der, k.tcb1.cert.der_len, fpr1);
	crypto_sha384(k.tcb2.cert.der, k.tcb2.cert.der_len, fpr2);
	snprintf(want, sizeof(want),
		 "envelope addressed to another TCB (fingerprint %02x%02x%02x%02x%02x%02x%02x%02x..., this TCB is %02x%02x%02x%02x%02x%02x%02x%02x...)",
		 fpr1[0], fpr1[1], fpr1[2], fpr1[3], fpr1[4], fpr1[5], fpr1[6],
		 fpr1[7], fpr2[0], fpr2[1], fpr2[2], fpr2[3], fpr2[4], fpr2[5],
		 fpr2[6], fpr2[7]);
	expect(env, len, &k.tcb2, ENV_E_WRONG_TCB, NULL);
	assert_string_equal(err, want);
	free(env);
}

static void test_station_from_another_ca(void **state)
{
	size_t len;
	uint8_t *env = build_with(&k.station_b, &k.tcb1, payload, payload_len,
				  &len);

	(void)state;
	expect(env, len, &k.tcb1, ENV_E_STATION_CA,
	       "envelope signed by a certificate from another CA");
	free(env);
}

static void test_signer_with_wrong_role(void **state)
{
	size_t len;
	uint8_t *env;

	(void)state;
	env = build_with(&k.tenant, &k.tcb1, payload, payload_len, &len);
	expect(env, len, &k.tcb1, ENV_E_STATION_ROLE,
	       "envelope signed by a tenant certificate, not a station certificate");
	free(env);
	env = build_with(&k.tcb1_sign, &k.tcb1, payload, payload_len, &len);
	expect(env, len, &k.tcb1, ENV_E_STATION_ROLE, "TCB-signing certificate");
	free(env);
	env = build_with(&k.tcb2, &k.tcb1, payload, payload_len, &len);
	expect(env, len, &k.tcb1, ENV_E_STATION_ROLE, "TCB-key-agreement");
	free(env);
}

/* The root itself is no signing station (a CA is never a leaf). */
static void test_root_as_signer(void **state)
{
	size_t len;
	uint8_t *env = build_with(&k.root_a, &k.tcb1, payload, payload_len, &len);

	(void)state;
	expect(env, len, &k.tcb1, ENV_E_STATION_CA, "CA certificate");
	free(env);
}

/* A station certificate with someone else's key: the signature fails. */
static void test_signature_by_other_key(void **state)
{
	size_t len;
	uint8_t *env = build(&len);

	(void)state;
	resign(env, len, &k.station2);
	expect(env, len, &k.tcb1, ENV_E_SIGNATURE,
	       "envelope signature does not verify with the station certificate's key");
	free(env);
}

static void test_tcb_identity(void **state)
{
	size_t len;
	uint8_t *env = build(&len);
	struct ident mixed = k.tcb1;

	(void)state;
	/* This TCB's certificate from another CA. */
	expect(env, len, &k.tcb_b, ENV_E_TCB_IDENTITY,
	       "this TCB's key-agreement certificate is not usable");
	/* Its signing certificate where the kex one belongs. */
	mixed.cert = k.tcb1_sign.cert;
	memcpy(mixed.priv, k.tcb1_sign.priv, sizeof(mixed.priv));
	expect(env, len, &mixed, ENV_E_TCB_IDENTITY, "TCB-key-agreement");
	/* The right certificate, the wrong private key. */
	mixed = k.tcb1;
	memcpy(mixed.priv, k.tcb2.priv, sizeof(mixed.priv));
	expect(env, len, &mixed, ENV_E_TCB_IDENTITY,
	       "private key does not match its certificate");
	/* Not a scalar at all. */
	memset(mixed.priv, 0, sizeof(mixed.priv));
	expect(env, len, &mixed, ENV_E_TCB_IDENTITY, "not a valid P-384 key");
	memset(mixed.priv, 0xff, sizeof(mixed.priv));
	expect(env, len, &mixed, ENV_E_TCB_IDENTITY, "not a valid P-384 key");
	free(env);
}

/* A development TCB identity (tcb-kex-dev) opens what is addressed to it;
 * whether a boot may use one is tcb_identity's policy, not this file's. */
static void test_development_identity(void **state)
{
	size_t len;
	uint8_t *env = build_with(&k.station, &k.tcb_dev, payload, payload_len, &len);
	struct ident mixed = k.tcb_dev;

	(void)state;
	expect(env, len, &k.tcb_dev, ENV_OPEN_OK, NULL);
	expect(env, len, &k.tcb1, ENV_E_WRONG_TCB, NULL);
	/* Its development signing certificate is no key-agreement one. */
	mixed.cert = k.tcb_dev_sign.cert;
	memcpy(mixed.priv, k.tcb_dev_sign.priv, sizeof(mixed.priv));
	expect(env, len, &mixed, ENV_E_TCB_IDENTITY, "TCB-key-agreement role");
	free(env);
	/* And a development certificate never signs as a station. */
	env = build_with(&k.tcb_dev_sign, &k.tcb1, payload, payload_len, &len);
	expect(env, len, &k.tcb1, ENV_E_STATION_ROLE,
	       "development-TCB-signing certificate, not a station certificate");
	free(env);
}

/* The envelope's root must be the compiled-in one: opened under root B
 * (where TCB 1's certificate does not chain either) it fails first on the
 * TCB's own identity, under no circumstances with success. */
static void test_other_root(void **state)
{
	size_t len;
	uint8_t *env = build_with(&k.station_b, &k.tcb_b, payload, payload_len,
				  &len);

	(void)state;
	assert_int_equal(open_as(env, len, &k.tcb_b, &k.root_b, NULL),
			 ENV_OPEN_OK);
	expect(env, len, &k.tcb_b, ENV_E_TCB_IDENTITY, NULL);
	free(env);
}

/* ---- tampering ------------------------------------------------------------- */

/*
 * Flip each byte in turn, without re-signing. Every flip is caught, and by
 * the check that owns the region: structure, the station certificate's
 * chain, or the signature (which covers everything before it).
 */
static void test_flip_every_byte(void **state)
{
	size_t len;
	uint8_t *env = build(&len);
	size_t cert_end = ENV_FIXED_LEN + k.station.cert.der_len;

	(void)state;
	for (size_t i = 0; i < len; i++) {
		int rc, want;

		env[i] ^= 0x01;
		rc = open_as(env, len, &k.tcb1, &k.root_a, NULL);
		env[i] ^= 0x01;
		if (i < ENV_OFF_TCB_FPR || i == ENV_OFF_EPH_PUB)
			want = ENV_E_MALFORMED;
		else if (i >= ENV_FIXED_LEN && i < cert_end)
			want = rc == ENV_E_MALFORMED ? rc : ENV_E_STATION_CA;
		else
			want = ENV_E_SIGNATURE;
		if (rc != want)
			fail_msg("byte %zu flipped: got %d (%s), want %d", i, rc,
				 err, want);
		assert_true(err[0] != '\0');
	}
	free(env);
}

/* Re-signed tampering: the station itself (or its stolen key) cannot make
 * the TCB accept a changed header or ciphertext, because the header is the
 * AAD and only the TCB's key opens the payload. */
static void test_resigned_tampering(void **state)
{
	size_t len, hdr = ENV_FIXED_LEN + k.station.cert.der_len;
	uint8_t *env = build(&len);
	static const struct { size_t off; int want; } cases[] = {
		{ ENV_OFF_IV, ENV_E_DECRYPT },          /* IV, first and last */
		{ ENV_OFF_IV + 11, ENV_E_DECRYPT },
		{ ENV_OFF_TCB_FPR, ENV_E_WRONG_TCB },   /* fingerprint */
		{ ENV_OFF_TCB_FPR + 47, ENV_E_WRONG_TCB },
		{ ENV_OFF_EPH_PUB + 1, ENV_E_EPHEMERAL }, /* x: off the curve */
		{ ENV_OFF_EPH_PUB + 96, ENV_E_EPHEMERAL }, /* y: off the curve */
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		env[cases[i].off] ^= 0x01;
		resign(env, len, &k.station);
		expect(env, len, &k.tcb1, cases[i].want, NULL);
		env[cases[i].off] ^= 0x01;
	}
	/* Ciphertext (first, middle, last byte) and tag (each byte). */
	for (size_t off = hdr; off < len - ENV_SIG_LEN; off++) {
		if (off != hdr && off != hdr + payload_len / 2 &&
		    off != hdr + payload_len - 1 && off < hdr + payload_len)
			continue;
		env[off] ^= 0x80;
		resign(env, len, &k.station);
		expect(env, len, &k.tcb1, ENV_E_DECRYPT,
		       "envelope payload fails authentication");
		env[off] ^= 0x80;
	}
	resign(env, len, &k.station);
	expect(env, len, &k.tcb1, ENV_OPEN_OK, NULL);
	free(env);
}

/* Another valid ephemeral key, re-signed: ECDH works, the key differs. */
static void test_replaced_ephemeral_key(void **state)
{
	uint8_t priv[CRYPTO_P384_PRIV_LEN];
	size_t len;
	uint8_t *env = build(&len);

	(void)state;
	assert_int_equal(crypto_p384_keygen(priv, env + ENV_OFF_EPH_PUB), CRYPTO_OK);
	resign(env, len, &k.station);
	expect(env, len, &k.tcb1, ENV_E_DECRYPT, "fails authentication");
	free(env);
}

/* Another station certificate (same CA, same role) swapped in and the
 * envelope re-signed with its key: the certificate is in the AAD. */
static void test_swapped_station_certificate(void **state)
{
	size_t len, len2;
	uint8_t *env = build(&len), *env2;

	(void)state;
	if (k.station.cert.der_len != k.station2.cert.der_len) {
		/* Lengths differ (CN lengths): splice a rebuilt header. */
		size_t hdr1 = ENV_FIXED_LEN + k.station.cert.der_len;

		len2 = len - k.station.cert.der_len + k.station2.cert.der_len;
		env2 = malloc(len2);
		memcpy(env2, env, ENV_FIXED_LEN);
		env2[ENV_OFF_CERT_LEN] = (uint8_t)k.station2.cert.der_len;
		env2[ENV_OFF_CERT_LEN + 1] = (uint8_t)(k.station2.cert.der_len >> 8);
		memcpy(env2 + ENV_FIXED_LEN, k.station2.cert.der,
		       k.station2.cert.der_len);
		memcpy(env2 + ENV_FIXED_LEN + k.station2.cert.der_len,
		       env + hdr1, len - hdr1);
	} else {
		len2 = len;
		env2 = malloc(len2);
		memcpy(env2, env, len);
		memcpy(env2 + ENV_FIXED_LEN, k.station2.cert.der,
		       k.station2.cert.der_len);
	}
	resign(env2, len2, &k.station2);
	expect(env2, len2, &k.tcb1, ENV_E_DECRYPT, "fails authentication");
	free(env);
	free(env2);
}

/* A failed decryption leaves zeros, not half-decrypted plaintext. */
static void test_failed_decrypt_leaves_no_plaintext(void **state)
{
	size_t len, hdr = ENV_FIXED_LEN + k.station.cert.der_len;
	uint8_t *env = build(&len), *zero = calloc(1, payload_len);
	struct envelope_payload pl;

	(void)state;
	env[ENV_OFF_IV] ^= 1;
	resign(env, len, &k.station);
	assert_int_equal(envelope_open(env, len, k.root_a.cert.der,
				       k.root_a.cert.der_len, k.tcb1.cert.der,
				       k.tcb1.cert.der_len, k.tcb1.priv, &pl,
				       err, sizeof(err)), ENV_E_DECRYPT);
	assert_memory_equal(env + hdr, zero, payload_len);
	free(zero);
	free(env);
}

/* Authentic, decrypts, but the payload is not image + policy. */
static void test_malformed_payload(void **state)
{
	static const uint8_t junk[] = "not a payload";
	size_t len, hdr = ENV_FIXED_LEN + k.station.cert.der_len;
	uint8_t *env = build_with(&k.station, &k.tcb1, junk, sizeof(junk), &len);
	uint8_t zero[sizeof(junk)] = { 0 };
	struct envelope_payload pl;

	(void)state;
	expect(env, len, &k.tcb1, ENV_E_PAYLOAD, "malformed envelope payload: ");
	assert_int_equal(envelope_open(env, len, k.root_a.cert.der,
				       k.root_a.cert.der_len, k.tcb1.cert.der,
				       k.tcb1.cert.der_len, k.tcb1.priv, &pl,
				       err, sizeof(err)), ENV_E_PAYLOAD);
	assert_memory_equal(env + hdr, zero, sizeof(junk));
	free(env);
}

static void test_truncation_and_extension(void **state)
{
	size_t len;
	uint8_t *env = build(&len), *longer = malloc(len + 1);

	(void)state;
	for (size_t n = 0; n < len; n++)
		expect(env, n, &k.tcb1, ENV_E_MALFORMED, "malformed envelope: ");
	memcpy(longer, env, len);
	longer[len] = 0;
	expect(longer, len + 1, &k.tcb1, ENV_E_MALFORMED, "trailing");
	free(longer);
	free(env);
}

/* ---- builder and names ----------------------------------------------------- */

static void test_builder_refuses_bad_lengths(void **state)
{
	struct envelope_recipe r = {
		.station_priv = k.station.priv,
		.station_cert = k.station.cert.der,
		.station_cert_len = 0,
		.tcb_kex_cert = k.tcb1.cert.der,
		.tcb_kex_cert_len = k.tcb1.cert.der_len,
		.tcb_kex_pub = k.tcb1.pub,
		.payload = payload,
		.payload_len = payload_len,
	};
	uint8_t *env;
	size_t len;

	(void)state;
	assert_int_equal(envelope_build(&r, &env, &len, err, sizeof(err)), -1);
	r.station_cert_len = 4097;
	assert_int_equal(envelope_build(&r, &env, &len, err, sizeof(err)), -1);
	r.station_cert_len = k.station.cert.der_len;
	r.payload_len = 0;
	assert_int_equal(envelope_build(&r, &env, &len, err, sizeof(err)), -1);
	r.payload_len = ENVELOPE_MAX_SIZE;
	assert_int_equal(envelope_build(&r, &env, &len, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "does not fit"));
}

static void test_strerror_distinct(void **state)
{
	(void)state;
	for (int a = ENV_E_CRYPTO; a <= ENV_OPEN_OK; a++)
		for (int b = ENV_E_CRYPTO; b < a; b++)
			assert_string_not_equal(envelope_open_strerror(a),
						envelope_open_strerror(b));
	assert_string_equal(envelope_open_strerror(-99), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_key_agreement_callback),
		cmocka_unit_test(test_fresh_key_and_iv),
		cmocka_unit_test(test_wrong_tcb),
		cmocka_unit_test(test_station_from_another_ca),
		cmocka_unit_test(test_signer_with_wrong_role),
		cmocka_unit_test(test_root_as_signer),
		cmocka_unit_test(test_signature_by_other_key),
		cmocka_unit_test(test_tcb_identity),
		cmocka_unit_test(test_development_identity),
		cmocka_unit_test(test_other_root),
		cmocka_unit_test(test_flip_every_byte),
		cmocka_unit_test(test_resigned_tampering),
		cmocka_unit_test(test_replaced_ephemeral_key),
		cmocka_unit_test(test_swapped_station_certificate),
		cmocka_unit_test(test_failed_decrypt_leaves_no_plaintext),
		cmocka_unit_test(test_malformed_payload),
		cmocka_unit_test(test_truncation_and_extension),
		cmocka_unit_test(test_builder_refuses_bad_lengths),
		cmocka_unit_test(test_strerror_distinct),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
