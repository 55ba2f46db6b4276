/*
 * Unit tests for platform reports (tcb/report.c, report_sign.c,
 * report_verify.c), with certificates issued in memory by crypto/pki_host.c:
 *
 *   root A: TCB signing key (production and development roles), TCB
 *           key-agreement key (both roles), TPGVM TLS key
 *   root B: a TCB signing key from another CA
 *
 * A round trip, then every refusal with its own code and message: the wrong
 * CA, the wrong role, a flipped byte anywhere, truncation at every length,
 * trailing bytes, the wrong nonce or TLS key, a DEV platform (every format-1
 * report, whatever it claims: no TPM quote backs it), oversize fields in the
 * parser and in the builder. The checks other than DEV run with allow_dev
 * (expectation()), so each is seen on its own.
 *
 * Run as `test_report --write DIR` it instead writes two sample reports into
 * DIR (the fuzzer's seeds, tests/fuzz/corpus/report/) and exits.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <custos/report.h>
#include "crypto/crypto.h"
#include "crypto/pki_host.h"
#include "tcb/measure.h"
#include "tcb/tcg_log.h"
#include "guarded.h"

struct ident {
	uint8_t priv[CRYPTO_P384_PRIV_LEN];
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	struct pki_cert cert;
};

static struct {
	struct ident root_a, root_b;
	struct ident sign, kex, tls, sign_b;
	struct ident sign_dev, kex_dev; /* a development TCB identity */
} k;

static struct measure_log mlog;
static uint8_t nonce[48];
static uint8_t tls_hash[RPT_TLS_HASH_LEN];
static char err[512];

#define CAP (REPORT_MAX_SIZE + 16)
static uint8_t rpt[CAP];

/* ---- fixtures ------------------------------------------------------------ */

static int make_root(struct ident *id, const char *cn)
{
	char e[PKI_ERR_LEN];

	if (crypto_p384_keygen(id->priv, id->pub) != CRYPTO_OK ||
	    pki_issue_root(id->priv, cn, 30, &id->cert, e, sizeof(e))) {
		fprintf(stderr, "root: %s\n", e);
		return -1;
	}
	return 0;
}

static int make_leaf(struct ident *id, const struct ident *ca, const char *cn,
		     enum crypto_role role)
{
	char e[PKI_ERR_LEN];

	if (crypto_p384_keygen(id->priv, id->pub) != CRYPTO_OK ||
	    pki_issue_leaf(ca->priv, ca->cert.der, ca->cert.der_len, id->pub,
			   cn, role, 30, &id->cert, e, sizeof(e))) {
		fprintf(stderr, "leaf %s: %s\n", cn, e);
		return -1;
	}
	return 0;
}

/* The log the hypervisor will keep: one event per measurement type. */
static void make_log(void)
{
	static const struct { enum measure_type type; const char *desc; } ev[] = {
		{ MEASURE_HV_IMAGE, "custos.elf text+rodata" },
		{ MEASURE_HV_CMDLINE, "kernel command line" },
		{ MEASURE_CA_ROOT, "compiled-in CA root" },
		{ MEASURE_TPGVM_IMAGE, "tpgvm image" },
		{ MEASURE_TPGVM_POLICY, "tpgvm policy" },
	};
	uint8_t d[MEASURE_DIGEST_LEN];

	measure_log_init(&mlog);
	for (size_t i = 0; i < ARRAY_SIZE(ev); i++) {
		crypto_sha384(ev[i].desc, strlen(ev[i].desc), d);
		measure_log_append(&mlog, ev[i].type, d, ev[i].desc);
	}
}

static int make_all(void)
{
	if (crypto_init() != CRYPTO_OK || make_root(&k.root_a, "Root A") ||
	    make_root(&k.root_b, "Root B") ||
	    make_leaf(&k.sign, &k.root_a, "tcb1", CRYPTO_ROLE_TCB_SIGN) ||
	    make_leaf(&k.kex, &k.root_a, "tcb1", CRYPTO_ROLE_TCB_KEX) ||
	    make_leaf(&k.tls, &k.root_a, "tpgvm", CRYPTO_ROLE_TPGVM_TLS) ||
	    make_leaf(&k.sign_b, &k.root_b, "tcb1", CRYPTO_ROLE_TCB_SIGN) ||
	    make_leaf(&k.sign_dev, &k.root_a, "dev", CRYPTO_ROLE_TCB_SIGN_DEV) ||
	    make_leaf(&k.kex_dev, &k.root_a, "dev", CRYPTO_ROLE_TCB_KEX_DEV))
		return -1;
	make_log();
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0x40 + i);
	report_tls_key_hash(k.tls.pub, tls_hash);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return make_all();
}

static int teardown(void **state)
{
	struct ident *all[] = { &k.root_a, &k.root_b, &k.sign, &k.kex, &k.tls,
				&k.sign_b, &k.sign_dev, &k.kex_dev };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		pki_cert_free(&all[i]->cert);
	return 0;
}

/* A report claiming TPM-sealed keys and a measured (SRTM) launch. */
static struct report_contents contents(const struct ident *signer)
{
	struct report_contents c = {
		.nonce = nonce,
		.nonce_len = sizeof(nonce),
		.tls_key_hash = tls_hash,
		.log = &mlog,
		.key_protection = REPORT_KEYS_TPM,
		.launch_mode = REPORT_LAUNCH_SRTM,
		.debug = 0,
		.platform_id = "custos-test-1",
		.sign_cert = signer->cert.der,
		.sign_cert_len = signer->cert.der_len,
	};
	return c;
}

static size_t build_c(const struct report_contents *c, const struct ident *signer)
{
	size_t len = 1;

	memset(rpt, 0xa5, sizeof(rpt));
	if (report_build(c, signer->priv, rpt, sizeof(rpt), &len, err,
			 sizeof(err)) != REPORT_OK)
		fail_msg("report_build: %s", err);
	assert_int_equal(len, report_size(c));
	return len;
}

static size_t build(void)
{
	struct report_contents c = contents(&k.sign);

	return build_c(&c, &k.sign);
}

/* Every format-1 report is DEV: allow it, so each other check shows on its
 * own (test_every_report_is_dev checks the refusal). */
static struct report_expect expectation(void)
{
	struct report_expect w = {
		.nonce = nonce,
		.nonce_len = sizeof(nonce),
		.tls_key_hash = tls_hash,
		.allow_dev = true,
	};
	return w;
}

static struct report_verdict verdict;

static int verify_with(const uint8_t *b, size_t len, const struct ident *root,
		       const struct report_expect *w, struct report *out)
{
	struct report got, sentinel;
	struct report_verdict v, v_sentinel;
	int rc;

	memset(&got, 0xa5, sizeof(got));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	memset(&v, 0xa5, sizeof(v));
	memset(&v_sentinel, 0xa5, sizeof(v_sentinel));
	memset(err, 'x', sizeof(err));
	rc = report_verify(b, len, root->cert.der, root->cert.der_len, w, &got,
			   &v, err, sizeof(err));
	assert_non_null(memchr(err, 0, sizeof(err)));
	verdict = v;
	if (rc != REPORT_OK) {
		assert_memory_equal(&got, &sentinel, sizeof(got)); /* untouched */
		assert_memory_equal(&v, &v_sentinel, sizeof(v));
		assert_true(err[0] != '\0');
	} else if (out) {
		*out = got;
	}
	return rc;
}

static void expect_rc(const uint8_t *b, size_t len, const struct ident *root,
		      const struct report_expect *w, int want, const char *needle)
{
	int rc = verify_with(b, len, root, w, NULL);

	if (rc != want)
		fail_msg("got %d (%s: %s), want %d (%s)", rc,
			 report_strerror(rc), err, want, report_strerror(want));
	if (needle && !strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
}

static void expect(size_t len, int want, const char *needle)
{
	struct report_expect w = expectation();

	expect_rc(rpt, len, &k.root_a, &w, want, needle);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Re-sign after tampering, so only the checks after the signature can
 * catch what was changed. */
static void resign(size_t len, const struct ident *signer)
{
	uint8_t digest[CRYPTO_SHA384_LEN];

	crypto_sha384(rpt, len - RPT_SIG_LEN, digest);
	assert_int_equal(crypto_ecdsa_p384_sign(signer->priv, digest,
						rpt + len - RPT_SIG_LEN),
			 CRYPTO_OK);
}

/* ---- accepted ------------------------------------------------------------ */

static void test_round_trip(void **state)
{
	struct report_expect w = expectation();
	uint8_t log_bytes[4096];
	size_t len = build(), log_len;
	struct report r;

	(void)state;
	assert_int_equal(verify_with(rpt, len, &k.root_a, &w, &r), REPORT_OK);
	assert_string_equal(err, "");
	assert_int_equal(r.version, 2);
	assert_int_equal(r.key_protection, REPORT_KEYS_TPM);
	assert_int_equal(r.launch_mode, REPORT_LAUNCH_SRTM);
	assert_int_equal(r.debug, 0);
	/* Claims TPM keys and SRTM, signed by a production identity: still
	 * DEV, only for want of a TPM quote. */
	assert_false(verdict.dev_identity);
	assert_int_equal(verdict.dev_reasons, REPORT_DEV_NO_QUOTE);
	assert_ptr_equal(r.tls_key_hash, rpt + RPT_OFF_TLS_HASH);
	assert_memory_equal(r.tls_key_hash, tls_hash, sizeof(tls_hash));
	assert_ptr_equal(r.nonce, rpt + RPT_FIXED_LEN);
	assert_int_equal(r.nonce_len, sizeof(nonce));
	assert_memory_equal(r.nonce, nonce, sizeof(nonce));
	assert_int_equal(r.platform_id_len, strlen("custos-test-1"));
	assert_memory_equal(r.platform_id, "custos-test-1", r.platform_id_len);
	assert_int_equal(tcg_log_encode(&mlog, log_bytes, sizeof(log_bytes),
					&log_len), 0);
	assert_int_equal(r.log_len, log_len);
	assert_memory_equal(r.log, log_bytes, log_len);
	assert_int_equal(r.cert_len, k.sign.cert.der_len);
	assert_memory_equal(r.cert, k.sign.cert.der, r.cert_len);
	assert_int_equal(r.signed_len, len - RPT_SIG_LEN);
	assert_ptr_equal(r.signature, rpt + len - RPT_SIG_LEN);
	/* Nothing after the report was touched. */
	assert_int_equal(rpt[len], 0xa5);
}

/* The header, byte for byte as docs/report.md lays it out. */
static void test_header_layout(void **state)
{
	size_t len = build();
	size_t cert = k.sign.cert.der_len, log = tcg_log_size(&mlog);
	uint8_t want[RPT_FIXED_LEN];

	(void)state;
	memcpy(want, "CUSTRPT1", 8);
	put_le32(want + 8, 2);
	put_le32(want + 12, 2);
	put_le32(want + 16, 2);
	put_le32(want + 20, 0);
	memcpy(want + 24, tls_hash, 48);
	put_le32(want + 72, 48);
	put_le32(want + 76, 13);
	put_le32(want + 80, (uint32_t)log);
	put_le32(want + 84, (uint32_t)cert);
	put_le32(want + 88, 0); /* no TPM evidence */
	assert_memory_equal(rpt, want, sizeof(want));
	assert_int_equal(len, 92 + 48 + 13 + log + cert + 96);
	assert_memory_equal(rpt + 92 + 48, "custos-test-1", 13);
	assert_memory_equal(rpt + 92 + 48 + 13 + log, k.sign.cert.der, cert);
}

/* The TLS key hash is of the key's DER SubjectPublicKeyInfo: the same bytes
 * the TLS certificate carries (written there by mbedTLS, not by us). */
static void test_tls_hash_is_spki(void **state)
{
	uint8_t spki[RPT_P384_SPKI_LEN], h[48], want[48];

	(void)state;
	report_p384_spki(k.tls.pub, spki);
	assert_non_null(memmem(k.tls.cert.der, k.tls.cert.der_len, spki,
			       sizeof(spki)));
	crypto_sha384(spki, sizeof(spki), want);
	report_tls_key_hash(k.tls.pub, h);
	assert_memory_equal(h, want, sizeof(h));
}

static void test_no_tls_expectation(void **state)
{
	struct report_expect w = expectation();
	size_t len = build();

	(void)state;
	w.tls_key_hash = NULL; /* the caller compares */
	expect_rc(rpt, len, &k.root_a, &w, REPORT_OK, NULL);
}

static void test_nonce_lengths(void **state)
{
	struct report_contents c = contents(&k.sign);
	struct report_expect w = expectation();
	size_t len;

	(void)state;
	for (size_t n = REPORT_NONCE_MIN; n <= REPORT_NONCE_MAX; n += 32) {
		uint8_t big[REPORT_NONCE_MAX];

		memset(big, 0x5a, sizeof(big));
		c.nonce = big;
		c.nonce_len = n;
		w.nonce = big;
		w.nonce_len = n;
		len = build_c(&c, &k.sign);
		expect_rc(rpt, len, &k.root_a, &w, REPORT_OK, NULL);
	}
}

/* ---- refused by the verifier ------------------------------------------- */

static void test_wrong_ca(void **state)
{
	struct report_contents c = contents(&k.sign_b);
	struct report_expect w = expectation();
	size_t len = build();

	(void)state;
	expect_rc(rpt, len, &k.root_b, &w, REPORT_E_CA, "another CA");
	len = build_c(&c, &k.sign_b);
	expect(len, REPORT_E_CA, "another CA");
	/* Under its own root it is fine. */
	expect_rc(rpt, len, &k.root_b, &w, REPORT_OK, NULL);
}

static void test_wrong_role(void **state)
{
	struct report_contents c = contents(&k.kex);
	size_t len = build_c(&c, &k.kex);

	(void)state;
	expect(len, REPORT_E_ROLE, "TCB-key-agreement certificate");
	c = contents(&k.kex_dev);
	len = build_c(&c, &k.kex_dev);
	expect(len, REPORT_E_ROLE,
	       "development-TCB-key-agreement certificate, not a TCB-signing");
	c = contents(&k.tls);
	len = build_c(&c, &k.tls);
	expect(len, REPORT_E_ROLE, "TPGVM-TLS-server certificate, not a TCB-signing");
}

/* The right certificate, signed with another key. */
static void test_wrong_key(void **state)
{
	size_t len = build();

	(void)state;
	resign(len, &k.kex);
	expect(len, REPORT_E_SIGNATURE, "does not verify");
}

/* Which codes a flipped byte in each region may give. */
static int region_ok(size_t off, size_t len, int rc)
{
	size_t nonce_end = RPT_FIXED_LEN + sizeof(nonce);
	size_t pid_end = nonce_end + 13;
	size_t log_end = pid_end + tcg_log_size(&mlog);
	size_t cert_end = log_end + k.sign.cert.der_len;

	if (off < RPT_OFF_KEY_PROT)             /* magic, version */
		return rc == REPORT_E_MALFORMED;
	if (off < RPT_OFF_TLS_HASH)             /* flags: another valid value is signed */
		return rc == REPORT_E_MALFORMED || rc == REPORT_E_SIGNATURE;
	if (off < RPT_OFF_NONCE_LEN)            /* TLS key hash */
		return rc == REPORT_E_SIGNATURE;
	if (off < RPT_FIXED_LEN)                /* lengths */
		return rc == REPORT_E_MALFORMED;
	if (off < nonce_end)
		return rc == REPORT_E_SIGNATURE;
	if (off < pid_end)                      /* may turn unprintable */
		return rc == REPORT_E_SIGNATURE || rc == REPORT_E_MALFORMED;
	if (off < log_end)
		return rc == REPORT_E_SIGNATURE;
	if (off < cert_end)                     /* DER framing, or the CA's signature */
		return rc == REPORT_E_CA || rc == REPORT_E_MALFORMED;
	return off < len && rc == REPORT_E_SIGNATURE;
}

static void test_flip_every_byte(void **state)
{
	size_t len = build();
	int rc;

	(void)state;
	for (size_t i = 0; i < len; i++) {
		rpt[i] ^= 0x01;
		rc = verify_with(rpt, len, &k.root_a,
				 &(struct report_expect){ nonce, sizeof(nonce),
							  tls_hash, true },
				 NULL);
		if (!region_ok(i, len, rc))
			fail_msg("flip at %zu: got %d (%s: %s)", i, rc,
				 report_strerror(rc), err);
		rpt[i] ^= 0x01;
	}
	expect(len, REPORT_OK, NULL);
}

static void test_truncated_at_every_length(void **state)
{
	struct report_expect w = expectation();
	size_t len = build();
	struct guarded g;
	struct report r;

	(void)state;
	guarded_init(&g, len);
	for (size_t n = 0; n < len; n++) {
		const uint8_t *p = guarded_fill(&g, rpt, n, 1);

		assert_int_equal(report_parse(p, n, &r, NULL, 0), -1);
		expect_rc(p, n, &k.root_a, &w, REPORT_E_MALFORMED, NULL);
	}
	assert_int_equal(report_parse(guarded_fill(&g, rpt, len, 1), len, &r,
				      NULL, 0), 0);
	guarded_free(&g);
}

static void test_trailing_bytes(void **state)
{
	size_t len = build();

	(void)state;
	rpt[len] = 0;
	expect(len + 1, REPORT_E_MALFORMED, "1 trailing bytes");
}

static void test_wrong_nonce(void **state)
{
	struct report_expect w = expectation();
	uint8_t other[sizeof(nonce)];
	size_t len = build();

	(void)state;
	memcpy(other, nonce, sizeof(other));
	other[sizeof(other) - 1] ^= 0x80;
	w.nonce = other;
	expect_rc(rpt, len, &k.root_a, &w, REPORT_E_NONCE, "another nonce");
	/* A prefix of the right nonce is not the right nonce. */
	w = expectation();
	w.nonce_len = REPORT_NONCE_MIN;
	expect_rc(rpt, len, &k.root_a, &w, REPORT_E_NONCE, "another nonce");
	/* A replayed report re-signed by the TCB still answers its own nonce. */
	rpt[RPT_FIXED_LEN] ^= 1;
	resign(len, &k.sign);
	expect(len, REPORT_E_NONCE, "another nonce");
}

static void test_wrong_tls_key(void **state)
{
	struct report_expect w = expectation();
	uint8_t other[RPT_TLS_HASH_LEN];
	size_t len = build();

	(void)state;
	report_tls_key_hash(k.kex.pub, other);
	w.tls_key_hash = other;
	expect_rc(rpt, len, &k.root_a, &w, REPORT_E_TLS_KEY, "another TLS key");
}

/* Every format-1 report is DEV, whatever it claims: nothing its signer
 * cannot forge backs the claims. A development identity, dev claims and
 * debug options add their reasons; without allow_dev each is named. */
static void test_every_report_is_dev(void **state)
{
	static const struct {
		uint32_t keys, launch, debug;
		const struct ident *signer;
		uint32_t why;
		const char *msg;
	} cases[] = {
		{ REPORT_KEYS_TPM, REPORT_LAUNCH_DRTM, 0, &k.sign, REPORT_DEV_NO_QUOTE,
		  "platform is DEV: no TPM quote backs the report's claims; refused without allow-dev" },
		{ REPORT_KEYS_TPM, REPORT_LAUNCH_SRTM, 0, &k.sign, REPORT_DEV_NO_QUOTE, NULL },
		{ REPORT_KEYS_TPM, REPORT_LAUNCH_DRTM, 0, &k.sign_dev,
		  REPORT_DEV_NO_QUOTE | REPORT_DEV_IDENTITY,
		  "platform is DEV: no TPM quote backs the report's claims; signed by a development TCB identity (tcb-sign-dev: its keys are on the boot media); refused without allow-dev" },
		{ REPORT_KEYS_DEV, REPORT_LAUNCH_DEV, 0, &k.sign_dev,
		  REPORT_DEV_NO_QUOTE | REPORT_DEV_IDENTITY | REPORT_DEV_CLAIMED, NULL },
		{ REPORT_KEYS_DEV, REPORT_LAUNCH_DRTM, 0, &k.sign,
		  REPORT_DEV_NO_QUOTE | REPORT_DEV_CLAIMED,
		  "no TPM quote backs the report's claims; the report itself says dev keys or a dev launch; refused" },
		{ REPORT_KEYS_TPM, REPORT_LAUNCH_DEV, 0, &k.sign,
		  REPORT_DEV_NO_QUOTE | REPORT_DEV_CLAIMED, NULL },
		{ REPORT_KEYS_TPM, REPORT_LAUNCH_DRTM, REPORT_DEBUG_CONSOLE_MIRROR, &k.sign,
		  REPORT_DEV_NO_QUOTE | REPORT_DEV_DEBUG, "; debug options are on; refused" },
		{ REPORT_KEYS_DEV, REPORT_LAUNCH_DEV, REPORT_DEBUG_CONSOLE_MIRROR, &k.sign_dev,
		  REPORT_DEV_ALL & ~REPORT_DEV_AK_UNCERTIFIED, NULL },
	};
	struct report_expect w = expectation();
	struct report r;
	size_t len;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct report_contents c = contents(cases[i].signer);

		c.key_protection = cases[i].keys;
		c.launch_mode = cases[i].launch;
		c.debug = cases[i].debug;
		len = build_c(&c, cases[i].signer);
		w.allow_dev = false;
		expect_rc(rpt, len, &k.root_a, &w, REPORT_E_DEV,
			  cases[i].msg ? cases[i].msg : "platform is DEV: ");
		w.allow_dev = true;
		assert_int_equal(verify_with(rpt, len, &k.root_a, &w, &r), REPORT_OK);
		assert_int_equal(verdict.dev_reasons, cases[i].why);
		assert_int_equal(verdict.dev_identity, cases[i].signer == &k.sign_dev);
		assert_int_equal(report_dev_reasons(&r, verdict.dev_identity), cases[i].why);
		/* The claims are reported as they are, for showing as claims. */
		assert_int_equal(r.key_protection, cases[i].keys);
		assert_int_equal(r.launch_mode, cases[i].launch);
		assert_int_equal(r.debug, cases[i].debug);
	}
	for (uint32_t bit = 1; bit & REPORT_DEV_ALL; bit <<= 1) {
		assert_string_not_equal(report_dev_reason_name(bit), "unknown");
		assert_string_not_equal(report_dev_reason_text(bit), "unknown reason");
	}
	assert_string_equal(report_dev_reason_name(REPORT_DEV_ALL + 1), "unknown");
	assert_string_equal(report_dev_reason_text(0), "unknown reason");
}

static void test_verify_bad_arguments(void **state)
{
	struct report_expect w = expectation();
	size_t len = build();
	struct report r;

	(void)state;
	w.nonce_len = REPORT_NONCE_MIN - 1;
	expect_rc(rpt, len, &k.root_a, &w, REPORT_E_INVAL, "expected nonce");
	w.nonce_len = REPORT_NONCE_MAX + 1;
	expect_rc(rpt, len, &k.root_a, &w, REPORT_E_INVAL, "expected nonce");
	w = expectation();
	w.nonce = NULL;
	expect_rc(rpt, len, &k.root_a, &w, REPORT_E_INVAL, "missing");
	assert_int_equal(report_verify(rpt, len, k.root_a.cert.der,
				       k.root_a.cert.der_len, &w, NULL, NULL, NULL, 0),
			 REPORT_E_INVAL);
	w = expectation();
	assert_int_equal(report_verify(rpt, len, k.root_a.cert.der,
				       k.root_a.cert.der_len, &w, &r, NULL, NULL, 0),
			 REPORT_OK);
}

/* ---- refused by the parser ------------------------------------------------ */

static void expect_parse_fail(const uint8_t *b, size_t len, const char *needle)
{
	struct report r;

	memset(err, 'x', sizeof(err));
	assert_int_equal(report_parse(b, len, &r, err, sizeof(err)), -1);
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
}

static void test_header_fields_refused(void **state)
{
	static const struct { uint32_t off, val; const char *needle; } cases[] = {
		{ RPT_OFF_VERSION, 1, "version 1" },
		{ RPT_OFF_VERSION, 3, "version 3" },
		{ RPT_OFF_VERSION, 0, "version 0" },
		{ RPT_OFF_KEY_PROT, 0, "key protection 0" },
		{ RPT_OFF_KEY_PROT, 3, "key protection 3" },
		{ RPT_OFF_LAUNCH, 0, "launch mode 0" },
		{ RPT_OFF_LAUNCH, 4, "launch mode 4" },
		{ RPT_OFF_DEBUG, 2, "debug flags 0x2" },
		{ RPT_OFF_DEBUG, 0x80000001u, "debug flags 0x80000000" },
		{ RPT_OFF_NONCE_LEN, 31, "nonce length 31" },
		{ RPT_OFF_NONCE_LEN, 65, "nonce length 65" },
		{ RPT_OFF_NONCE_LEN, 0xffffffffu, "nonce length 4294967295" },
		{ RPT_OFF_PLATFORM_LEN, 0, "platform id length 0" },
		{ RPT_OFF_PLATFORM_LEN, 65, "platform id length 65" },
		{ RPT_OFF_LOG_LEN, 64, "measurement log length 64" },
		{ RPT_OFF_LOG_LEN, 32769, "measurement log length 32769" },
		{ RPT_OFF_CERT_LEN, 0, "certificate length 0" },
		{ RPT_OFF_CERT_LEN, 4097, "certificate length 4097" },
		{ RPT_OFF_CERT_LEN, 0xffffffffu, "certificate length 4294967295" },
		{ RPT_OFF_TPM_LEN, REPORT_TPM_MAX + 1, "TPM evidence length 28039" },
		{ RPT_OFF_TPM_LEN, 1, "truncated" },
	};
	size_t len = build();
	uint8_t saved[4];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		memcpy(saved, rpt + cases[i].off, 4);
		put_le32(rpt + cases[i].off, cases[i].val);
		expect_parse_fail(rpt, len, cases[i].needle);
		memcpy(rpt + cases[i].off, saved, 4);
	}
	memcpy(rpt, "CUSTENV1", 8);
	expect_parse_fail(rpt, len, "no \"CUSTRPT1\" magic");
}

static void test_platform_id_refused(void **state)
{
	size_t len = build();
	size_t pid = RPT_FIXED_LEN + sizeof(nonce);

	(void)state;
	rpt[pid + 3] = ' ';
	expect_parse_fail(rpt, len, "platform id byte 3 is 0x20");
	rpt[pid + 3] = 0x7f;
	expect_parse_fail(rpt, len, "platform id byte 3 is 0x7f");
	rpt[pid + 3] = 0;
	expect_parse_fail(rpt, len, "platform id byte 3 is 0x00");
}

/* ---- TPM evidence ------------------------------------------------------------ */

/* A stand-in for hv/tpm.c's writer: a well-framed block whose quote field
 * holds the qualifying data it was given (a real TPM would put it into its
 * TPMS_ATTEST), PCR values 0..15, a 10-byte firmware log. */
#define EV_AK 40u
#define EV_ATTEST 60u
#define EV_PCRS 16u
#define EV_FW 10u
#define EV_LEN (4 + EV_AK + 4 + EV_ATTEST + REPORT_TPM_SIG_LEN + 4 + \
		EV_PCRS * REPORT_TPM_PCR_LEN + 4 + EV_FW + 4 + 4)
/* With ev_keys, the TCB keys field follows: both keys, 30-byte attests. */
#define EV_KEY_ATTEST 30u
#define EV_KEY (REPORT_TPM_KEY_POINT_LEN + 4 + EV_KEY_ATTEST + REPORT_TPM_SIG_LEN)
#define EV_LEN_KEYS (EV_LEN + 4 + 2 * EV_KEY)
static uint8_t ev_quoted[48];
static int ev_fail, ev_keys;

static int fake_evidence(void *ctx, const uint8_t quoted[48], uint8_t *out,
			 size_t len)
{
	uint8_t *p = out;

	assert_ptr_equal(ctx, &ev_fail);
	assert_int_equal(len, ev_keys ? EV_LEN_KEYS : EV_LEN);
	memcpy(ev_quoted, quoted, 48);
	if (ev_fail)
		return -1;
	memset(out, 0x77, len);
	put_le32(p, EV_AK);
	p += 4 + EV_AK;
	put_le32(p, EV_ATTEST);
	memcpy(p + 4, quoted, 48);
	p += 4 + EV_ATTEST + REPORT_TPM_SIG_LEN;
	put_le32(p, 0xffff);
	p += 4 + EV_PCRS * REPORT_TPM_PCR_LEN;
	put_le32(p, EV_FW);
	p += 4 + EV_FW;
	put_le32(p, 0); /* no EK certificate */
	put_le32(p + 4, 0); /* no AK certificate */
	if (ev_keys) {
		put_le32(p + 8, 2 * EV_KEY);
		put_le32(p + 12 + REPORT_TPM_KEY_POINT_LEN, EV_KEY_ATTEST);
		put_le32(p + 12 + EV_KEY + REPORT_TPM_KEY_POINT_LEN, EV_KEY_ATTEST);
	}
	return 0;
}

static size_t build_with_evidence(void)
{
	struct report_contents c = contents(&k.sign);

	c.tpm_len = ev_keys ? EV_LEN_KEYS : EV_LEN;
	c.tpm_evidence = fake_evidence;
	c.tpm_ctx = &ev_fail;
	ev_fail = 0;
	return build_c(&c, &k.sign);
}

/* A signer outside memory (the TPM's, in the hypervisor) gets the digest
 * of exactly the signed bytes, and its failure leaves nothing claimed. */
static uint8_t signer_digest[48];
static int signer_fails;

static int test_signer(void *ctx, const uint8_t digest[48], uint8_t sig[96])
{
	memcpy(signer_digest, digest, 48);
	if (signer_fails)
		return CRYPTO_E_INTERNAL;
	return crypto_ecdsa_p384_sign(((const struct ident *)ctx)->priv, digest, sig);
}

static void test_build_with_a_signer(void **state)
{
	struct report_contents c = contents(&k.sign);
	const struct report_signer s = { test_signer, &k.sign };
	uint8_t want[48];
	struct report r;
	size_t len = 1;

	(void)state;
	signer_fails = 0;
	assert_int_equal(report_build_signed(&c, &s, rpt, sizeof(rpt), &len, err,
					     sizeof(err)), REPORT_OK);
	crypto_sha384(rpt, len - RPT_SIG_LEN, want);
	assert_memory_equal(signer_digest, want, 48);
	assert_int_equal(verify_with(rpt, len, &k.root_a, &(struct report_expect){
		.nonce = nonce, .nonce_len = sizeof(nonce), .tls_key_hash = tls_hash,
		.allow_dev = true }, &r), REPORT_OK);
	signer_fails = 1;
	assert_int_equal(report_build_signed(&c, &s, rpt, sizeof(rpt), &len, err,
					     sizeof(err)), REPORT_E_CRYPTO);
	assert_int_equal(len, 0);
	for (size_t i = 0; i < report_size(&c); i++)
		assert_int_equal(rpt[i], 0);
	assert_int_equal(report_build_signed(&c, NULL, rpt, sizeof(rpt), &len, err,
					     sizeof(err)), REPORT_E_INVAL);
}

/* The TCB keys field: both keys framed and found; one key, a key cut
 * short or a byte after both refused. */
static void test_evidence_tcb_keys(void **state)
{
	size_t len, keys_at;
	struct report r;

	(void)state;
	ev_keys = 1;
	len = build_with_evidence();
	keys_at = len - RPT_SIG_LEN - 4 - 2 * EV_KEY;
	assert_int_equal(report_parse(rpt, len, &r, err, sizeof(err)), 0);
	assert_int_equal(r.tpm_key_count, 2);
	assert_ptr_equal(r.tpm_keys[0].point, rpt + keys_at + 4);
	assert_int_equal(r.tpm_keys[1].attest_len, EV_KEY_ATTEST);
	assert_ptr_equal(r.tpm_keys[1].sig, rpt + len - RPT_SIG_LEN - REPORT_TPM_SIG_LEN);
	put_le32(rpt + keys_at, EV_KEY); /* one key, then the other's bytes */
	resign(len, &k.sign);
	expect_parse_fail(rpt, len, "");
	put_le32(rpt + keys_at, 2 * EV_KEY - 1);
	resign(len, &k.sign);
	expect_parse_fail(rpt, len, "");
	put_le32(rpt + keys_at, 2 * EV_KEY);
	/* The second key's attest one byte longer than the field leaves. */
	put_le32(rpt + keys_at + 4 + EV_KEY + REPORT_TPM_KEY_POINT_LEN, EV_KEY_ATTEST + 1);
	resign(len, &k.sign);
	expect_parse_fail(rpt, len, "ends inside a TCB key's certification signature");
	put_le32(rpt + keys_at + 4 + EV_KEY + REPORT_TPM_KEY_POINT_LEN, EV_KEY_ATTEST - 1);
	resign(len, &k.sign);
	expect_parse_fail(rpt, len, "the TCB keys field has 1 trailing bytes");
	put_le32(rpt + keys_at + 4 + EV_KEY + REPORT_TPM_KEY_POINT_LEN, EV_KEY_ATTEST);
	put_le32(rpt + keys_at + 4 + REPORT_TPM_KEY_POINT_LEN, 0);
	resign(len, &k.sign);
	expect_parse_fail(rpt, len, "TCB key's certification length 0");
	ev_keys = 0;
	len = build_with_evidence();
	assert_int_equal(report_parse(rpt, len, &r, err, sizeof(err)), 0);
	assert_int_equal(r.tpm_key_count, 0);
}

static void test_evidence_round_trip(void **state)
{
	size_t len = build_with_evidence(), quoted_len;
	uint8_t copy[CAP], want[48];
	struct report r;

	(void)state;
	assert_int_equal(verify_with(rpt, len, &k.root_a, &(struct report_expect){
		.nonce = nonce, .nonce_len = sizeof(nonce), .tls_key_hash = tls_hash,
		.allow_dev = true }, &r), REPORT_OK);
	assert_int_equal(r.tpm_len, EV_LEN);
	assert_int_equal(r.ak_public_len, EV_AK);
	assert_int_equal(r.attest_len, EV_ATTEST);
	assert_int_equal(r.pcr_mask, 0xffff);
	assert_int_equal(r.fw_log_len, EV_FW);
	assert_ptr_equal(r.ak_public, rpt + r.quoted_len + 4);
	assert_ptr_equal(r.fw_log, rpt + len - RPT_SIG_LEN - 8 - EV_FW);
	assert_int_equal(r.ek_cert_len, 0);
	assert_int_equal(r.ak_cert_len, 0);
	/* Now a quote over a report without one: the evidence is not yet
	 * there and its length reads 0, which an independent hash of that
	 * prefix must give too; and the writer got exactly that. */
	quoted_len = r.quoted_len;
	assert_int_equal(quoted_len, len - RPT_SIG_LEN - EV_LEN);
	memcpy(copy, rpt, quoted_len);
	put_le32(copy + RPT_OFF_TPM_LEN, 0);
	crypto_sha384(copy, quoted_len, want);
	assert_memory_equal(ev_quoted, want, 48);
	report_quoted_digest(rpt, quoted_len, want);
	assert_memory_equal(ev_quoted, want, 48);
	assert_memory_equal(r.attest, want, 48);
	/* Any change before the evidence changes what a quote must cover. */
	rpt[RPT_FIXED_LEN] ^= 1;
	report_quoted_digest(rpt, quoted_len, want);
	assert_memory_not_equal(ev_quoted, want, 48);
	/* With a quote the DEV reason is the uncertified key, not its absence. */
	assert_int_equal(verdict.dev_reasons & (REPORT_DEV_NO_QUOTE | REPORT_DEV_AK_UNCERTIFIED),
			 REPORT_DEV_AK_UNCERTIFIED);
}

static void test_evidence_writer_failure(void **state)
{
	struct report_contents c = contents(&k.sign);
	size_t len = 1;

	(void)state;
	c.tpm_len = EV_LEN;
	c.tpm_evidence = fake_evidence;
	c.tpm_ctx = &ev_fail;
	ev_fail = 1;
	memset(rpt, 0xa5, sizeof(rpt));
	assert_int_equal(report_build(&c, k.sign.priv, rpt, sizeof(rpt), &len, err,
				      sizeof(err)), REPORT_E_INVAL);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err, "TPM evidence could not be made"));
	for (size_t i = 0; i < report_size(&c); i++)
		assert_int_equal(rpt[i], 0);
	/* A length without a writer, or the reverse, is not built at all. */
	c.tpm_evidence = NULL;
	assert_int_equal(report_size(&c), 0);
	c.tpm_evidence = fake_evidence;
	c.tpm_len = 0;
	assert_int_equal(report_size(&c), 0);
	c.tpm_len = REPORT_TPM_MAX + 1;
	assert_int_equal(report_size(&c), 0);
}

/* The evidence's framing: each field in range, together exactly its
 * length. Re-signed, so only the parser can catch it. */
static void test_evidence_framing_refused(void **state)
{
	size_t len, ev, mask_at, fw_at;

	(void)state;
	static const struct { int field; uint32_t val; const char *needle; } cases[] = {
		{ 0, 0, "attestation key length 0" },
		{ 0, REPORT_TPM_AK_MAX + 1, "attestation key length 257" },
		{ 0, 0xffffffffu, "attestation key length 4294967295" },
		{ 1, 0, "quote length 0" },
		{ 1, REPORT_TPM_ATTEST_MAX + 1, "quote length 1025" },
		{ 1, EV_ATTEST + 1, "" },
		{ 2, 0, "PCR mask 0x0" },
		{ 2, 0x1ffff, "" },
		{ 2, 0x1000000, "PCR mask 0x1000000" },
		{ 2, 0x7fff, "firmware event log length" },
		{ 3, REPORT_FW_LOG_MAX + 1, "firmware event log length 20481" },
		{ 3, EV_FW + 1, "ends before the attestation key certificate length" },
		{ 3, EV_FW + 4, "ends before the attestation key certificate length" },
		{ 3, EV_FW + 9, "ends inside the firmware event log" },
		{ 3, EV_FW - 1, "ends inside the EK certificate" },
		{ 4, 1, "ends before the attestation key certificate length" },
		{ 4, REPORT_TPM_CERT_MAX + 1, "EK certificate length 2049" },
		{ 5, 1, "ends inside the attestation key certificate" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		len = build_with_evidence();
		ev = len - RPT_SIG_LEN - EV_LEN;
		mask_at = ev + 8 + EV_AK + EV_ATTEST + REPORT_TPM_SIG_LEN;
		fw_at = len - RPT_SIG_LEN - 8 - EV_FW - 4;
		put_le32(rpt + (cases[i].field == 0 ? ev :
				cases[i].field == 1 ? ev + 4 + EV_AK :
				cases[i].field == 2 ? mask_at : cases[i].field == 3 ? fw_at :
				cases[i].field == 4 ? fw_at + 4 + EV_FW : fw_at + 8 + EV_FW),
			cases[i].val);
		resign(len, &k.sign);
		expect_parse_fail(rpt, len, cases[i].needle);
	}
	/* Every shorter evidence length, the report cut to match. */
	for (size_t cut = 1; cut < EV_LEN; cut++) {
		len = build_with_evidence();
		put_le32(rpt + RPT_OFF_TPM_LEN, (uint32_t)(EV_LEN - cut));
		memmove(rpt + len - RPT_SIG_LEN - cut, rpt + len - RPT_SIG_LEN, RPT_SIG_LEN);
		expect_parse_fail(rpt, len - cut, "");
	}
}

static void test_cert_not_der_refused(void **state)
{
	size_t len = build();
	size_t cert = len - RPT_SIG_LEN - k.sign.cert.der_len;

	(void)state;
	rpt[cert] = 0x31; /* a SET, not a SEQUENCE */
	expect_parse_fail(rpt, len, "TCB signing certificate");
}

#define KEYS (4 + REPORT_TPM_KEYS_MAX) /* the TPM evidence's last field: the TCB keys */

/* A report at every maximum parses; one byte more anywhere does not. */
static void test_maximum_sizes(void **state)
{
	size_t len = RPT_FIXED_LEN + REPORT_NONCE_MAX + REPORT_PLATFORM_MAX +
		     REPORT_LOG_MAX + REPORT_CERT_MAX + REPORT_TPM_MAX + RPT_SIG_LEN;
	uint8_t *b = calloc(1, REPORT_MAX_SIZE + 1);
	size_t cert = len - RPT_SIG_LEN - REPORT_TPM_MAX - REPORT_CERT_MAX;
	uint8_t *tpm = b + cert + REPORT_CERT_MAX;
	struct report r;

	(void)state;
	assert_non_null(b);
	assert_true(len <= REPORT_MAX_SIZE);
	memcpy(b, REPORT_MAGIC, 8);
	put_le32(b + RPT_OFF_VERSION, 2);
	put_le32(b + RPT_OFF_KEY_PROT, REPORT_KEYS_TPM);
	put_le32(b + RPT_OFF_LAUNCH, REPORT_LAUNCH_DRTM);
	put_le32(b + RPT_OFF_DEBUG, REPORT_DEBUG_KNOWN);
	put_le32(b + RPT_OFF_NONCE_LEN, REPORT_NONCE_MAX);
	put_le32(b + RPT_OFF_PLATFORM_LEN, REPORT_PLATFORM_MAX);
	put_le32(b + RPT_OFF_LOG_LEN, REPORT_LOG_MAX);
	put_le32(b + RPT_OFF_CERT_LEN, REPORT_CERT_MAX);
	put_le32(b + RPT_OFF_TPM_LEN, REPORT_TPM_MAX);
	put_le32(tpm, REPORT_TPM_AK_MAX);
	put_le32(tpm + 4 + REPORT_TPM_AK_MAX, REPORT_TPM_ATTEST_MAX);
	put_le32(tpm + 8 + REPORT_TPM_AK_MAX + REPORT_TPM_ATTEST_MAX + REPORT_TPM_SIG_LEN,
		 0xffffff);
	put_le32(tpm + REPORT_TPM_MAX - KEYS - 12 - 2 * REPORT_TPM_CERT_MAX - REPORT_FW_LOG_MAX,
		 REPORT_FW_LOG_MAX);
	put_le32(tpm + REPORT_TPM_MAX - KEYS - 8 - 2 * REPORT_TPM_CERT_MAX, REPORT_TPM_CERT_MAX);
	put_le32(tpm + REPORT_TPM_MAX - KEYS - 4 - REPORT_TPM_CERT_MAX, REPORT_TPM_CERT_MAX);
	put_le32(tpm + REPORT_TPM_MAX - KEYS, REPORT_TPM_KEYS_MAX);
	put_le32(tpm + REPORT_TPM_MAX - KEYS + 4 + REPORT_TPM_KEY_POINT_LEN,
		 REPORT_TPM_KEY_ATTEST_MAX);
	put_le32(tpm + REPORT_TPM_MAX - KEYS + 4 + REPORT_TPM_KEYS_MAX / 2 +
		 REPORT_TPM_KEY_POINT_LEN, REPORT_TPM_KEY_ATTEST_MAX);
	memset(b + RPT_FIXED_LEN + REPORT_NONCE_MAX, 'p', REPORT_PLATFORM_MAX);
	/* 30 82 0f fc: a SEQUENCE of 4092 content bytes, 4096 in all. */
	memcpy(b + cert, "\x30\x82\x0f\xfc", 4);
	assert_int_equal(report_parse(b, len, &r, err, sizeof(err)), 0);
	assert_int_equal(r.log_len, REPORT_LOG_MAX);
	assert_int_equal(r.cert_len, REPORT_CERT_MAX);
	assert_int_equal(r.tpm_len, REPORT_TPM_MAX);
	assert_int_equal(r.fw_log_len, REPORT_FW_LOG_MAX);
	assert_int_equal(r.tpm_key_count, 2);
	assert_int_equal(r.tpm_keys[1].attest_len, REPORT_TPM_KEY_ATTEST_MAX);
	assert_int_equal(r.pcr_mask, 0xffffff);
	assert_ptr_equal(r.signature, b + len - RPT_SIG_LEN);
	expect_parse_fail(b, len + 1, "1 trailing bytes");
	expect_parse_fail(b, len - 1, "truncated");
	memcpy(b + len, "x", 1);
	expect_parse_fail(b, REPORT_MAX_SIZE + 1, "over the 65536-byte limit");
	free(b);
}

/* ---- refused by the builder ------------------------------------------------ */

/* Refused with REPORT_E_INVAL, *len 0, and nothing written. */
static void expect_build_inval(const struct report_contents *c,
			       const uint8_t *priv, const char *needle)
{
	size_t len = 7;
	int rc;

	memset(rpt, 0xa5, sizeof(rpt));
	rc = report_build(c, priv, rpt, sizeof(rpt), &len, err, sizeof(err));
	if (rc != REPORT_E_INVAL)
		fail_msg("got %d (%s), want invalid", rc, err);
	assert_int_equal(len, 0);
	if (!strstr(err, needle))
		fail_msg("message \"%s\" lacks \"%s\"", err, needle);
	for (size_t i = 0; i < sizeof(rpt); i++)
		if (rpt[i] != 0xa5 && rpt[i] != 0)
			fail_msg("byte %zu left behind", i);
	/* report_size() knows every refusal but the key's. */
	if (c && priv == k.sign.priv)
		assert_int_equal(report_size(c), 0);
}

static void test_build_refuses_bad_contents(void **state)
{
	uint8_t big[REPORT_NONCE_MAX + 1] = { 0 };
	struct report_contents c;
	struct measure_log bad = mlog;

	(void)state;
	c = contents(&k.sign);
	c.nonce_len = REPORT_NONCE_MIN - 1;
	expect_build_inval(&c, k.sign.priv, "nonce length 31");
	c.nonce = big;
	c.nonce_len = sizeof(big);
	expect_build_inval(&c, k.sign.priv, "nonce length 65");
	c = contents(&k.sign);
	c.platform_id = "";
	expect_build_inval(&c, k.sign.priv, "platform id");
	c.platform_id = "0123456789012345678901234567890123456789012345678901234567890123X";
	expect_build_inval(&c, k.sign.priv, "platform id");
	c.platform_id = "has space";
	expect_build_inval(&c, k.sign.priv, "byte 3 is not printable");
	c = contents(&k.sign);
	c.sign_cert_len = 0;
	expect_build_inval(&c, k.sign.priv, "certificate length 0");
	c.sign_cert_len = REPORT_CERT_MAX + 1;
	expect_build_inval(&c, k.sign.priv, "certificate length 4097");
	c = contents(&k.sign);
	bad.count = MEASURE_MAX_EVENTS + 1;
	c.log = &bad;
	expect_build_inval(&c, k.sign.priv, "measurement log");
	c = contents(&k.sign);
	c.tls_key_hash = NULL;
	expect_build_inval(&c, k.sign.priv, "incomplete");
	expect_build_inval(NULL, k.sign.priv, "incomplete");
	c = contents(&k.sign);
	expect_build_inval(&c, NULL, "no signing key");
}

/* What report_parse() refuses is refused before signing, and what was
 * written is wiped. */
static void test_build_refuses_what_parse_refuses(void **state)
{
	static const uint8_t not_der[] = { 0x31, 0x01, 0x00 };
	static const uint8_t zero_key[RPT_PRIV_LEN];
	struct report_contents c = contents(&k.sign);

	(void)state;
	c.key_protection = 3;
	expect_build_inval(&c, k.sign.priv, "key protection 3");
	c = contents(&k.sign);
	c.launch_mode = 0;
	expect_build_inval(&c, k.sign.priv, "launch mode 0");
	c = contents(&k.sign);
	c.debug = 0x10;
	expect_build_inval(&c, k.sign.priv, "debug flags 0x10");
	c = contents(&k.sign);
	c.sign_cert = not_der;
	c.sign_cert_len = sizeof(not_der);
	expect_build_inval(&c, k.sign.priv, "TCB signing certificate");
	c = contents(&k.sign);
	expect_build_inval(&c, zero_key, "signing the report failed");
}

static void test_build_short_buffer(void **state)
{
	struct report_contents c = contents(&k.sign);
	size_t need = report_size(&c), len;

	(void)state;
	assert_true(need > 0);
	for (size_t cap = 0; cap < need; cap += (cap < 200 ? 1 : 97)) {
		memset(rpt, 0xa5, sizeof(rpt));
		len = 9;
		assert_int_equal(report_build(&c, k.sign.priv, rpt, cap, &len,
					      err, sizeof(err)),
				 REPORT_E_SPACE);
		assert_int_equal(len, 0);
		assert_non_null(strstr(err, "buffer has"));
		for (size_t i = 0; i < need; i++)
			assert_int_equal(rpt[i], 0xa5);
	}
	len = 9;
	assert_int_equal(report_build(&c, k.sign.priv, rpt, need - 1, &len,
				      err, sizeof(err)), REPORT_E_SPACE);
	assert_int_equal(report_build(&c, k.sign.priv, NULL, need, &len, err,
				      sizeof(err)), REPORT_E_SPACE);
	assert_int_equal(report_build(&c, k.sign.priv, rpt, need, &len, err,
				      sizeof(err)), REPORT_OK);
	assert_int_equal(len, need);
}

static void test_strerror(void **state)
{
	(void)state;
	for (int a = REPORT_E_CRYPTO; a <= REPORT_OK; a++) {
		assert_string_not_equal(report_strerror(a), "unknown error");
		for (int b = a + 1; b <= REPORT_OK; b++)
			assert_string_not_equal(report_strerror(a),
						report_strerror(b));
	}
	assert_string_equal(report_strerror(-99), "unknown error");
}

/* ---- --write DIR: seeds for the fuzzer -------------------------------------- */

static int write_one(const char *dir, const char *name,
		     const struct report_contents *c)
{
	char path[4096];
	size_t len;
	FILE *f;

	if (report_build(c, k.sign.priv, rpt, sizeof(rpt), &len, err,
			 sizeof(err)) != REPORT_OK) {
		fprintf(stderr, "report_build: %s\n", err);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(rpt, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

static int write_samples(const char *dir)
{
	struct report_contents c;
	int rc;

	if (make_all())
		return 1;
	c = contents(&k.sign);
	rc = write_one(dir, "tpm_srtm.rpt", &c);
	c.key_protection = REPORT_KEYS_DEV;
	c.launch_mode = REPORT_LAUNCH_DEV;
	c.debug = REPORT_DEBUG_CONSOLE_MIRROR;
	c.nonce_len = REPORT_NONCE_MIN;
	c.platform_id = "custos-dev";
	rc |= write_one(dir, "dev_mirror.rpt", &c);
	c.tpm_len = EV_LEN;
	c.tpm_evidence = fake_evidence;
	c.tpm_ctx = &ev_fail;
	ev_fail = 0;
	rc |= write_one(dir, "tpm_evidence.rpt", &c);
	teardown(NULL);
	return rc;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_evidence_round_trip),
		cmocka_unit_test(test_evidence_writer_failure),
		cmocka_unit_test(test_evidence_framing_refused),
		cmocka_unit_test(test_evidence_tcb_keys),
		cmocka_unit_test(test_build_with_a_signer),
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_tls_hash_is_spki),
		cmocka_unit_test(test_no_tls_expectation),
		cmocka_unit_test(test_nonce_lengths),
		cmocka_unit_test(test_wrong_ca),
		cmocka_unit_test(test_wrong_role),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_flip_every_byte),
		cmocka_unit_test(test_truncated_at_every_length),
		cmocka_unit_test(test_trailing_bytes),
		cmocka_unit_test(test_wrong_nonce),
		cmocka_unit_test(test_wrong_tls_key),
		cmocka_unit_test(test_every_report_is_dev),
		cmocka_unit_test(test_verify_bad_arguments),
		cmocka_unit_test(test_header_fields_refused),
		cmocka_unit_test(test_platform_id_refused),
		cmocka_unit_test(test_cert_not_der_refused),
		cmocka_unit_test(test_maximum_sizes),
		cmocka_unit_test(test_build_refuses_bad_contents),
		cmocka_unit_test(test_build_refuses_what_parse_refuses),
		cmocka_unit_test(test_build_short_buffer),
		cmocka_unit_test(test_strerror),
	};

	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_samples(argv[2]);
	return cmocka_run_group_tests(tests, setup, teardown);
}
