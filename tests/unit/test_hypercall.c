/*
 * Tests of hypercall decode/execute (tcb/hypercall.c) against the ABI in
 * include/custos/guest_abi.h. A fake environment gives the caller a guest
 * memory array of mem_size bytes and captures the console; every callback
 * is counted so that a refused call can be shown to have touched nothing.
 *
 * HC_REPORT runs the real report builder: a throwaway CA root and a TCB
 * signing certificate issued in memory (crypto/pki_host.c, as
 * test_report.c does), so that a report the hypercall writes is checked
 * with report_verify() against that root.
 */
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
#include "tcb/hypercall.h"
#include "tcb/measure.h"

#define MEM_SIZE (3 * HC_CONSOLE_WRITE_MAX)
#define NO_FAIL UINT64_MAX

struct fake {
	uint8_t *mem;
	uint64_t mem_size;
	uint64_t fail_from;   /* read_guest fails for spans reaching this gpa */
	unsigned reads;
	uint64_t read_bytes;
	bool read_outside;    /* a read reached outside [0, mem_size) */
	unsigned writes;
	uint64_t written_bytes;
	bool write_outside;   /* a write reached outside [0, mem_size) */
	bool write_fails;     /* write_guest refuses every span */
	char *console;
	size_t console_len;
	size_t console_cap;
};

static bool fake_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct fake *f = ctx;

	f->reads++;
	if (gpa > f->mem_size || len > f->mem_size - gpa) {
		f->read_outside = true;
		return false;
	}
	if (f->fail_from != NO_FAIL && gpa + len > f->fail_from)
		return false;
	memcpy(buf, f->mem + gpa, len);
	f->read_bytes += len;
	return true;
}

static bool fake_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct fake *f = ctx;

	f->writes++;
	if (gpa > f->mem_size || len > f->mem_size - gpa) {
		f->write_outside = true;
		return false;
	}
	if (f->write_fails)
		return false;
	memcpy(f->mem + gpa, buf, len);
	f->written_bytes += len;
	return true;
}

static void fake_put(void *ctx, char c)
{
	struct fake *f = ctx;

	if (f->console_len < f->console_cap)
		f->console[f->console_len] = c;
	f->console_len++;
}

struct fixture {
	struct fake fake;
	struct hc_env env;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->fake.mem_size = MEM_SIZE;
	fx->fake.mem = malloc(MEM_SIZE);
	fx->fake.console_cap = 2 * MEM_SIZE;
	fx->fake.console = calloc(1, fx->fake.console_cap);
	fx->fake.fail_from = NO_FAIL;
	if (!fx->fake.mem || !fx->fake.console)
		return -1;
	for (size_t i = 0; i < MEM_SIZE; i++)
		fx->fake.mem[i] = (uint8_t)(i * 13 + (i >> 8) + 1);
	fx->env = (struct hc_env){
		.mem_size = MEM_SIZE,
		.is_tpgvm = false,
		.read_guest = fake_read,
		.write_guest = fake_write,
		.console_put = fake_put,
		.report = NULL,
		.ctx = &fx->fake,
	};
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	free(fx->fake.mem);
	free(fx->fake.console);
	free(fx);
	return 0;
}

/* Run one call; res starts as garbage so every field must be written. */
static struct hc_result call(struct fixture *fx, uint64_t nr, uint64_t a0,
			     uint64_t a1, unsigned cpl)
{
	struct hc_call c = { .nr = nr, .arg = { a0, a1, 0x1111, 0x2222 }, .cpl = cpl };
	struct hc_result res;

	memset(&res, 0xa5, sizeof(res));
	hypercall_handle(&c, &fx->env, &res);
	return res;
}

static void assert_untouched(const struct fixture *fx)
{
	assert_int_equal(fx->fake.reads, 0);
	assert_int_equal(fx->fake.writes, 0);
	assert_int_equal(fx->fake.console_len, 0);
}

static void expect_error(struct fixture *fx, uint64_t nr, uint64_t a0,
			 uint64_t a1, unsigned cpl, int64_t err)
{
	struct hc_result res = call(fx, nr, a0, a1, cpl);

	assert_int_equal(res.ret, err);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_untouched(fx);
}

static void test_version(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_VERSION, 7, 8, 0);

	assert_int_equal(res.ret, CUSTOS_ABI_VERSION);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_untouched(fx);
}

static void test_yield(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_YIELD, 0, 0, 0);

	assert_int_equal(res.ret, 0);
	assert_int_equal(res.effect, HC_EFFECT_YIELD);
	assert_untouched(fx);
}

static void test_exit(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_EXIT, 42, 0, 0);

	assert_int_equal(res.effect, HC_EFFECT_EXIT);
	assert_int_equal(res.exit_code, 42);
	assert_untouched(fx);

	res = call(fx, HC_EXIT, UINT64_MAX, 0, 0);
	assert_int_equal(res.effect, HC_EFFECT_EXIT);
	assert_true(res.exit_code == UINT64_MAX);
}

static void test_console_write_copies_exact_bytes(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_CONSOLE_WRITE, 0x123, 300, 0);

	assert_int_equal(res.ret, 300);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_int_equal(fx->fake.console_len, 300);
	assert_memory_equal(fx->fake.console, fx->fake.mem + 0x123, 300);
	assert_int_equal(fx->fake.read_bytes, 300);
	assert_false(fx->fake.read_outside);
}

static void test_console_write_len_zero(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_CONSOLE_WRITE, 0x10, 0, 0);

	assert_int_equal(res.ret, 0);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_int_equal(fx->fake.console_len, 0);
	assert_int_equal(fx->fake.read_bytes, 0);
}

static void test_console_write_max(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_CONSOLE_WRITE, 5, HC_CONSOLE_WRITE_MAX, 0);

	assert_int_equal(res.ret, HC_CONSOLE_WRITE_MAX);
	assert_int_equal(fx->fake.console_len, HC_CONSOLE_WRITE_MAX);
	assert_memory_equal(fx->fake.console, fx->fake.mem + 5,
			    HC_CONSOLE_WRITE_MAX);
	assert_false(fx->fake.read_outside);
}

static void test_console_write_ends_at_top(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_CONSOLE_WRITE, MEM_SIZE - 17, 17, 0);

	assert_int_equal(res.ret, 17);
	assert_int_equal(fx->fake.console_len, 17);
	assert_memory_equal(fx->fake.console, fx->fake.mem + MEM_SIZE - 17, 17);
	assert_false(fx->fake.read_outside);
}

static void test_console_write_too_long(void **state)
{
	struct fixture *fx = *state;

	expect_error(fx, HC_CONSOLE_WRITE, 0, HC_CONSOLE_WRITE_MAX + 1, 0,
		     HC_E_INVAL);
	expect_error(fx, HC_CONSOLE_WRITE, 0, UINT64_MAX, 0, HC_E_INVAL);
	/* Too long takes precedence regardless of gpa. */
	expect_error(fx, HC_CONSOLE_WRITE, UINT64_MAX, 1ull << 32, 0, HC_E_INVAL);
}

static void test_console_write_outside_memory(void **state)
{
	struct fixture *fx = *state;

	/* One byte past the top. */
	expect_error(fx, HC_CONSOLE_WRITE, MEM_SIZE - 16, 17, 0, HC_E_FAULT);
	expect_error(fx, HC_CONSOLE_WRITE, MEM_SIZE, 1, 0, HC_E_FAULT);
	expect_error(fx, HC_CONSOLE_WRITE, MEM_SIZE + 1, 0, 0, HC_E_FAULT);
	/* gpa + len wraps around 2^64. */
	expect_error(fx, HC_CONSOLE_WRITE, UINT64_MAX - 1, 4, 0, HC_E_FAULT);
	expect_error(fx, HC_CONSOLE_WRITE, UINT64_MAX, 1, 0, HC_E_FAULT);
	expect_error(fx, HC_CONSOLE_WRITE, UINT64_MAX - HC_CONSOLE_WRITE_MAX + 2,
		     HC_CONSOLE_WRITE_MAX, 0, HC_E_FAULT);
	expect_error(fx, HC_CONSOLE_WRITE, 1ull << 63, 8, 0, HC_E_FAULT);
}

static void test_console_write_empty_at_top(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_CONSOLE_WRITE, MEM_SIZE, 0, 0);

	/* An empty buffer ending at the top is inside memory: a successful
	 * write of nothing that reads nothing. */
	assert_int_equal(res.ret, 0);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_untouched(fx);
}

static void test_console_write_zero_memory(void **state)
{
	struct fixture *fx = *state;

	fx->env.mem_size = 0;
	expect_error(fx, HC_CONSOLE_WRITE, 0, 1, 0, HC_E_FAULT);
}

static void test_console_write_read_fails_first(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res;

	fx->fake.fail_from = 0x100; /* the very first span fails */
	res = call(fx, HC_CONSOLE_WRITE, 0x80, 200, 0);
	assert_int_equal(res.ret, HC_E_FAULT);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_int_equal(fx->fake.console_len, 0);
}

static void test_console_write_read_fails_midway(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res;

	/* Fails somewhere past the first span: what was written is reported,
	 * and exactly those bytes reached the console. */
	fx->fake.fail_from = 0x1000 + 2000;
	res = call(fx, HC_CONSOLE_WRITE, 0x1000, 4000, 0);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_true(res.ret > 0 && res.ret < 4000);
	assert_true(res.ret <= 2000);
	assert_int_equal((size_t)res.ret, fx->fake.console_len);
	assert_memory_equal(fx->fake.console, fx->fake.mem + 0x1000,
			    fx->fake.console_len);
	assert_false(fx->fake.read_outside);
}

static void test_lifecycle_denied_for_non_tpgvm(void **state)
{
	struct fixture *fx = *state;

	for (uint64_t nr = HC_LIFECYCLE_FIRST; nr <= HC_LIFECYCLE_LAST; nr++)
		expect_error(fx, nr, 0, 16, 0, HC_E_DENIED);
	assert_int_equal(HC_LIFECYCLE_FIRST, 0x100);
	assert_int_equal(HC_LIFECYCLE_LAST, 0x109);
}

static void test_lifecycle_not_denied_for_tpgvm(void **state)
{
	struct fixture *fx = *state;

	fx->env.is_tpgvm = true;
	for (uint64_t nr = HC_LIFECYCLE_FIRST; nr <= HC_LIFECYCLE_LAST; nr++) {
		struct hc_result res = call(fx, nr, 0, 16, 0);

		assert_int_not_equal(res.ret, HC_E_DENIED);
		assert_int_not_equal(res.effect, HC_EFFECT_EXIT);
	}
	/* The TPGVM is still denied from CPL 3. */
	for (uint64_t nr = HC_LIFECYCLE_FIRST; nr <= HC_LIFECYCLE_LAST; nr++)
		expect_error(fx, nr, 0, 16, 3, HC_E_DENIED);
	/* Just outside the lifecycle range is unknown, not lifecycle. */
	expect_error(fx, HC_LIFECYCLE_LAST + 1, 0, 0, 0, HC_E_NOSYS);
	expect_error(fx, HC_LIFECYCLE_FIRST - 1, 0, 0, 0, HC_E_NOSYS);
}

static void test_unknown_numbers(void **state)
{
	struct fixture *fx = *state;
	const uint64_t nrs[] = { 4, 5, 0xff, 0x10a, 0x1000, 1ull << 32,
				 (1ull << 32) | HC_VERSION,
				 (1ull << 32) | HC_EXIT,
				 (1ull << 63) | HC_CONSOLE_WRITE, UINT64_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(nrs); i++) {
		expect_error(fx, nrs[i], 0, 16, 0, HC_E_NOSYS);
		fx->env.is_tpgvm = true;
		expect_error(fx, nrs[i], 0, 16, 0, HC_E_NOSYS);
		fx->env.is_tpgvm = false;
	}
}

static void test_cpl_nonzero_denied(void **state)
{
	struct fixture *fx = *state;
	const uint64_t nrs[] = { HC_VERSION, HC_YIELD, HC_EXIT, HC_CONSOLE_WRITE,
				 4, 0xff, 0x100, 0x106, 0x107, HC_REPORT,
				 UINT64_MAX };
	const unsigned cpls[] = { 1, 2, 3, 4, 0x80000000u };

	for (size_t i = 0; i < ARRAY_SIZE(nrs); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(cpls); j++) {
			/* A valid console buffer: only the CPL is wrong. */
			expect_error(fx, nrs[i], 0x10, 16, cpls[j], HC_E_DENIED);
			fx->env.is_tpgvm = true;
			expect_error(fx, nrs[i], 0x10, 16, cpls[j], HC_E_DENIED);
			fx->env.is_tpgvm = false;
		}
	}
}

static void test_cpl3_exit_does_not_stop(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_EXIT, 7, 0, 3);

	assert_int_equal(res.ret, HC_E_DENIED);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
}

/* Everything that fails decode, in one place: no callback is ever made. */
static void test_failed_decode_touches_nothing(void **state)
{
	struct fixture *fx = *state;
	const struct {
		uint64_t nr, a0, a1;
		unsigned cpl;
	} cases[] = {
		{ HC_CONSOLE_WRITE, 0, 16, 3 },
		{ HC_CONSOLE_WRITE, 0, HC_CONSOLE_WRITE_MAX + 1, 0 },
		{ HC_CONSOLE_WRITE, MEM_SIZE - 1, 2, 0 },
		{ HC_CONSOLE_WRITE, UINT64_MAX - 1, 4, 0 },
		{ HC_VM_CONSOLE_READ, 0, 16, 0 },
		{ HC_REPORT, 0x100, 0x1000, 0 }, /* not the TPGVM */
		{ 0x42, 0, 16, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hc_result res = call(fx, cases[i].nr, cases[i].a0,
					    cases[i].a1, cases[i].cpl);

		assert_true(res.ret < 0);
		assert_int_equal(res.effect, HC_EFFECT_NONE);
		assert_untouched(fx);
	}
}


/* ---- HC_REPORT ------------------------------------------------------------ */

#define REQ_GPA 0x100ull
#define OUT_GPA 0x1000ull
#define OUT_CAP (MEM_SIZE - OUT_GPA)
#define PLATFORM "custos-unit"

struct ident {
	uint8_t priv[CRYPTO_P384_PRIV_LEN];
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	struct pki_cert cert;
};

/* Made once for all tests: key generation is slow. */
static struct ident root, signer;
static struct measure_log mlog;
static struct report_source source;

static int make_ident(struct ident *id, const struct ident *ca, const char *cn)
{
	char e[PKI_ERR_LEN] = "";

	if (crypto_p384_keygen(id->priv, id->pub) != CRYPTO_OK ||
	    (ca ? pki_issue_leaf(ca->priv, ca->cert.der, ca->cert.der_len,
				 id->pub, cn, CRYPTO_ROLE_TCB_SIGN_DEV, 30,
				 &id->cert, e, sizeof(e))
		: pki_issue_root(id->priv, cn, 30, &id->cert, e, sizeof(e)))) {
		fprintf(stderr, "%s: %s\n", cn, e);
		return -1;
	}
	return 0;
}

static int group_setup(void **state)
{
	static const char *const desc[] = { "custos.elf text+rodata",
					    "kernel command line",
					    "compiled-in CA root" };
	uint8_t d[MEASURE_DIGEST_LEN];

	(void)state;
	if (crypto_init() != CRYPTO_OK || make_ident(&root, NULL, "Root") ||
	    make_ident(&signer, &root, "tcb1"))
		return -1;
	measure_log_init(&mlog);
	for (size_t i = 0; i < ARRAY_SIZE(desc); i++) {
		crypto_sha384(desc[i], strlen(desc[i]), d);
		if (measure_log_append(&mlog, MEASURE_HV_IMAGE + i, d, desc[i]))
			return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	pki_cert_free(&root.cert);
	pki_cert_free(&signer.cert);
	return 0;
}

/* The fixture as the TPGVM with a TCB that can sign, and a valid request
 * at REQ_GPA. */
static int setup_report(void **state)
{
	struct custos_report_request req = { .nonce_len = 48 };
	struct fixture *fx;

	if (setup(state))
		return -1;
	fx = *state;
	source = (struct report_source){
		.log = &mlog,
		.platform_id = PLATFORM,
		.sign_cert = signer.cert.der,
		.sign_cert_len = signer.cert.der_len,
		.sign_priv = signer.priv,
		.key_protection = REPORT_KEYS_DEV,
		.launch_mode = REPORT_LAUNCH_DEV,
		.debug = REPORT_DEBUG_CONSOLE_MIRROR,
	};
	fx->env.is_tpgvm = true;
	fx->env.report = &source;
	for (size_t i = 0; i < sizeof(req.nonce); i++)
		req.nonce[i] = (uint8_t)(0x80 + i);
	for (size_t i = 0; i < sizeof(req.tls_key_hash); i++)
		req.tls_key_hash[i] = (uint8_t)(0x30 + i);
	memcpy(fx->fake.mem + REQ_GPA, &req, sizeof(req));
	return 0;
}

static struct custos_report_request *request(struct fixture *fx)
{
	return (struct custos_report_request *)(fx->fake.mem + REQ_GPA);
}

/* The size the report for the request in guest memory must have. */
static size_t expected_size(struct fixture *fx)
{
	const struct custos_report_request *req = request(fx);
	struct report_contents c = {
		.nonce = req->nonce, .nonce_len = req->nonce_len,
		.tls_key_hash = req->tls_key_hash, .log = &mlog,
		.key_protection = source.key_protection,
		.launch_mode = source.launch_mode, .debug = source.debug,
		.platform_id = PLATFORM, .sign_cert = signer.cert.der,
		.sign_cert_len = signer.cert.der_len,
	};
	size_t n = report_size(&c);

	assert_true(n > 0);
	return n;
}

static struct hc_result call_report(struct fixture *fx, uint64_t req,
				    uint64_t out, uint64_t cap, unsigned cpl)
{
	struct hc_call c = { .nr = HC_REPORT, .arg = { req, out, cap, 0x2222 },
			     .cpl = cpl };
	struct hc_result res;

	memset(&res, 0xa5, sizeof(res));
	hypercall_handle(&c, &fx->env, &res);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	return res;
}

/* A refused report: err, and no byte of guest memory changed. */
static void expect_report_error(struct fixture *fx, uint64_t req, uint64_t out,
				uint64_t cap, unsigned cpl, int64_t err)
{
	uint8_t *before = malloc(MEM_SIZE);

	assert_non_null(before);
	memcpy(before, fx->fake.mem, MEM_SIZE);
	assert_int_equal(call_report(fx, req, out, cap, cpl).ret, err);
	assert_int_equal(fx->fake.writes, 0);
	assert_int_equal(fx->fake.console_len, 0);
	assert_false(fx->fake.read_outside);
	assert_memory_equal(before, fx->fake.mem, MEM_SIZE);
	free(before);
}

static void test_report_number(void **state)
{
	(void)state;
	assert_int_equal(HC_REPORT, 0x120);
	assert_int_equal(HC_E_INTERNAL, -5);
	assert_int_equal(sizeof(struct custos_report_request), 120);
	assert_int_equal(offsetof(struct custos_report_request, nonce), 8);
	assert_int_equal(offsetof(struct custos_report_request, tls_key_hash), 72);
}

static void test_report_succeeds(void **state)
{
	struct fixture *fx = *state;
	const struct custos_report_request *req = request(fx);
	size_t want = expected_size(fx);
	struct report_expect expect = {
		.nonce = req->nonce, .nonce_len = req->nonce_len,
		.tls_key_hash = req->tls_key_hash, .allow_dev = true,
	};
	struct hc_result res;
	struct report r;
	struct report_verdict v;
	char err[200];

	memset(fx->fake.mem + OUT_GPA, 0xee, OUT_CAP);
	res = call_report(fx, REQ_GPA, OUT_GPA, OUT_CAP, 0);
	assert_int_equal(res.ret, want);
	assert_int_equal(fx->fake.writes, 1);
	assert_int_equal(fx->fake.written_bytes, want);
	assert_false(fx->fake.write_outside);
	assert_int_equal(report_verify(fx->fake.mem + OUT_GPA, want,
				       root.cert.der, root.cert.der_len, &expect,
				       &r, &v, err, sizeof(err)), REPORT_OK);
	/* The TCB's identity is a development one, and says so everywhere. */
	assert_true(v.dev_identity);
	assert_int_equal(v.dev_reasons, REPORT_DEV_ALL & ~REPORT_DEV_AK_UNCERTIFIED);
	assert_memory_equal(r.nonce, req->nonce, 48);
	assert_memory_equal(r.tls_key_hash, req->tls_key_hash, RPT_TLS_HASH_LEN);
	assert_int_equal(r.platform_id_len, strlen(PLATFORM));
	assert_memory_equal(r.platform_id, PLATFORM, r.platform_id_len);
	assert_int_equal(r.key_protection, REPORT_KEYS_DEV);
	assert_int_equal(r.launch_mode, REPORT_LAUNCH_DEV);
	assert_int_equal(r.debug, REPORT_DEBUG_CONSOLE_MIRROR);
	assert_memory_equal(r.cert, signer.cert.der, signer.cert.der_len);
	/* Nothing after the report was written. */
	for (size_t i = want; i < OUT_CAP; i++)
		assert_int_equal(fx->fake.mem[OUT_GPA + i], 0xee);
}

static void test_report_exact_capacity_and_nonce_bounds(void **state)
{
	struct fixture *fx = *state;
	const uint32_t lens[] = { REPORT_NONCE_MIN, REPORT_NONCE_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		request(fx)->nonce_len = lens[i];
		size_t want = expected_size(fx);
		/* The output ends exactly at the top of memory. */
		struct hc_result res = call_report(fx, REQ_GPA, MEM_SIZE - want,
						   want, 0);

		assert_int_equal(res.ret, want);
		assert_false(fx->fake.write_outside);
		assert_int_equal(report_parse(fx->fake.mem + MEM_SIZE - want,
					      want, &(struct report){ 0 }, NULL,
					      0), 0);
	}
}

static void test_report_denied_for_non_tpgvm(void **state)
{
	struct fixture *fx = *state;

	fx->env.is_tpgvm = false;
	expect_report_error(fx, REQ_GPA, OUT_GPA, OUT_CAP, 0, HC_E_DENIED);
	fx->env.report = NULL;
	expect_report_error(fx, REQ_GPA, OUT_GPA, OUT_CAP, 0, HC_E_DENIED);
	assert_int_equal(fx->fake.reads, 0);
}

static void test_report_denied_from_cpl3(void **state)
{
	struct fixture *fx = *state;

	expect_report_error(fx, REQ_GPA, OUT_GPA, OUT_CAP, 3, HC_E_DENIED);
	expect_report_error(fx, REQ_GPA, OUT_GPA, OUT_CAP, 1, HC_E_DENIED);
	assert_int_equal(fx->fake.reads, 0);
}

static void test_report_bad_nonce_length(void **state)
{
	struct fixture *fx = *state;
	const uint32_t lens[] = { 0, 1, REPORT_NONCE_MIN - 1,
				  REPORT_NONCE_MAX + 1, 0x80000000u,
				  UINT32_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		request(fx)->nonce_len = lens[i];
		expect_report_error(fx, REQ_GPA, OUT_GPA, OUT_CAP, 0, HC_E_INVAL);
	}
}

static void test_report_reserved_not_zero(void **state)
{
	struct fixture *fx = *state;

	request(fx)->reserved = 1;
	expect_report_error(fx, REQ_GPA, OUT_GPA, OUT_CAP, 0, HC_E_INVAL);
	request(fx)->reserved = 0x80000000u;
	expect_report_error(fx, REQ_GPA, OUT_GPA, OUT_CAP, 0, HC_E_INVAL);
}

static void test_report_request_outside_memory(void **state)
{
	struct fixture *fx = *state;
	const uint64_t req = sizeof(struct custos_report_request);

	/* One byte past the top, at the top, past it, wrapping around. */
	expect_report_error(fx, MEM_SIZE - req + 1, OUT_GPA, OUT_CAP, 0,
			    HC_E_FAULT);
	expect_report_error(fx, MEM_SIZE, OUT_GPA, OUT_CAP, 0, HC_E_FAULT);
	expect_report_error(fx, MEM_SIZE + 4096, OUT_GPA, OUT_CAP, 0, HC_E_FAULT);
	expect_report_error(fx, UINT64_MAX - 8, OUT_GPA, OUT_CAP, 0, HC_E_FAULT);
	assert_int_equal(fx->fake.reads, 0);
}

static void test_report_output_outside_memory(void **state)
{
	struct fixture *fx = *state;

	/* The capacity given must be inside memory, even if the report
	 * would fit in less. */
	expect_report_error(fx, REQ_GPA, OUT_GPA, OUT_CAP + 1, 0, HC_E_FAULT);
	expect_report_error(fx, REQ_GPA, MEM_SIZE, 4096, 0, HC_E_FAULT);
	expect_report_error(fx, REQ_GPA, MEM_SIZE + 1, 0, 0, HC_E_FAULT);
	expect_report_error(fx, REQ_GPA, UINT64_MAX - 100, 4096, 0, HC_E_FAULT);
	expect_report_error(fx, REQ_GPA, OUT_GPA, UINT64_MAX, 0, HC_E_FAULT);
	assert_int_equal(fx->fake.reads, 0);
}

static void test_report_capacity_too_small(void **state)
{
	struct fixture *fx = *state;
	size_t want = expected_size(fx);

	expect_report_error(fx, REQ_GPA, OUT_GPA, want - 1, 0, HC_E_INVAL);
	expect_report_error(fx, REQ_GPA, OUT_GPA, 0, 0, HC_E_INVAL);
	expect_report_error(fx, REQ_GPA, OUT_GPA, RPT_FIXED_LEN, 0, HC_E_INVAL);
}

/* A TCB without a signing identity: HC_E_INTERNAL, before the request is
 * even read (docs/guest-abi.md). */
static void test_report_without_source(void **state)
{
	struct fixture *fx = *state;

	fx->env.report = NULL;
	expect_report_error(fx, REQ_GPA, OUT_GPA, OUT_CAP, 0, HC_E_INTERNAL);
	assert_int_equal(fx->fake.reads, 0);
}

/* The TCB's own part unusable (here an empty platform id): its failure,
 * not the caller's. */
static void test_report_source_invalid(void **state)
{
	struct fixture *fx = *state;

	source.platform_id = "";
	expect_report_error(fx, REQ_GPA, OUT_GPA, OUT_CAP, 0, HC_E_INTERNAL);
}

/* Signing fails (a key the crypto layer refuses stands in for a failed
 * RNG): HC_E_INTERNAL and nothing written. */
/* With a TPM the source names its evidence's length and writer: the
 * capacity the caller needs includes it, the writer gets the report's
 * quoted digest, and a writer that fails (a TPM that stopped answering)
 * writes nothing into the caller's memory. */
#define TPM_EV_LEN (4 + 8 + 4 + 8 + 96 + 4 + 48 + 4 + 4 + 4)
static int tpm_ev_calls, tpm_ev_fail;

static int fake_tpm_evidence(void *ctx, const uint8_t quoted[48], uint8_t *out,
			     size_t len)
{
	uint8_t *p = out;

	(void)quoted;
	assert_ptr_equal(ctx, &tpm_ev_calls);
	assert_int_equal(len, TPM_EV_LEN);
	tpm_ev_calls++;
	if (tpm_ev_fail)
		return -1;
	memset(out, 0, len);
	p[0] = 8;                  /* attestation key: 8 bytes */
	p[12] = 8;                 /* quote: 8 bytes */
	p[24 + 96] = 1;            /* PCR mask: PCR 0 */
	return 0;                  /* no firmware log, EK or AK certificate */
}

static void test_report_with_tpm_evidence(void **state)
{
	struct fixture *fx = *state;
	size_t want = expected_size(fx) + TPM_EV_LEN;
	struct report r;

	source.tpm_len = TPM_EV_LEN;
	source.tpm_evidence = fake_tpm_evidence;
	source.tpm_ctx = &tpm_ev_calls;
	tpm_ev_calls = tpm_ev_fail = 0;
	expect_report_error(fx, REQ_GPA, OUT_GPA, want - 1, 0, HC_E_INVAL);
	assert_int_equal(tpm_ev_calls, 0);
	assert_int_equal(call_report(fx, REQ_GPA, MEM_SIZE - want, want, 0).ret, want);
	assert_int_equal(tpm_ev_calls, 1);
	assert_int_equal(report_parse(fx->fake.mem + MEM_SIZE - want, want, &r, NULL, 0), 0);
	assert_int_equal(r.tpm_len, TPM_EV_LEN);
	assert_int_equal(r.pcr_mask, 1);
	fx->fake.writes = 0;
	tpm_ev_fail = 1;
	expect_report_error(fx, REQ_GPA, OUT_GPA, OUT_CAP, 0, HC_E_INTERNAL);
	source.tpm_len = 0;
	source.tpm_evidence = NULL;
}

static void test_report_signing_fails(void **state)
{
	struct fixture *fx = *state;
	static const uint8_t zero_key[RPT_PRIV_LEN];

	source.sign_priv = zero_key;
	expect_report_error(fx, REQ_GPA, OUT_GPA, OUT_CAP, 0, HC_E_INTERNAL);
}

/* write_guest cannot fail inside mem_size in the hypervisor; if it did,
 * the caller hears HC_E_FAULT. */
static void test_report_write_fails(void **state)
{
	struct fixture *fx = *state;

	fx->fake.write_fails = true;
	assert_int_equal(call_report(fx, REQ_GPA, OUT_GPA, OUT_CAP, 0).ret,
			 HC_E_FAULT);
}

/* The request is read once: the report answers what decode checked. */
static void test_report_request_read_once(void **state)
{
	struct fixture *fx = *state;

	assert_true(call_report(fx, REQ_GPA, OUT_GPA, OUT_CAP, 0).ret > 0);
	assert_int_equal(fx->fake.reads, 1);
	assert_int_equal(fx->fake.read_bytes, sizeof(struct custos_report_request));
}

/* Request and output may overlap: the request was copied first. */
static void test_report_overwrites_its_request(void **state)
{
	struct fixture *fx = *state;
	uint8_t nonce[48];
	struct report r;

	memcpy(nonce, request(fx)->nonce, sizeof(nonce));
	int64_t len = call_report(fx, REQ_GPA, REQ_GPA, MEM_SIZE - REQ_GPA, 0).ret;
	assert_true(len > 0);
	assert_int_equal(report_parse(fx->fake.mem + REQ_GPA, (size_t)len, &r,
				      NULL, 0), 0);
	assert_memory_equal(r.nonce, nonce, sizeof(nonce));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define R(f) cmocka_unit_test_setup_teardown(f, setup_report, teardown)

/* The ABI's choice of instruction, from CPUID leaf 0's vendor (EBX, ECX,
 * EDX as the CPU returns them). */
static void test_hypercall_instruction_by_vendor(void **state)
{
	(void)state;
	struct { const char *vendor; int vmmcall; } cases[] = {
		{ "AuthenticAMD", 1 }, { "HygonGenuine", 1 },
		{ "GenuineIntel", 0 }, { "CentaurHauls", 0 }, { "  Shanghai  ", 0 },
		{ "AuthenticAMd", 0 }, { "\0\0\0\0\0\0\0\0\0\0\0\0", 0 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t ebx, edx, ecx;

		/* The string is EBX, EDX, ECX in that order (little-endian). */
		memcpy(&ebx, cases[i].vendor, 4);
		memcpy(&edx, cases[i].vendor + 4, 4);
		memcpy(&ecx, cases[i].vendor + 8, 4);
		assert_int_equal(custos_hypercall_is_vmmcall(ebx, ecx, edx) != 0,
				 cases[i].vmmcall);
		/* ECX and EDX swapped is not the same vendor. */
		if (cases[i].vmmcall)
			assert_false(custos_hypercall_is_vmmcall(ebx, edx, ecx));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hypercall_instruction_by_vendor),
		T(test_version),
		T(test_yield),
		T(test_exit),
		T(test_console_write_copies_exact_bytes),
		T(test_console_write_len_zero),
		T(test_console_write_max),
		T(test_console_write_ends_at_top),
		T(test_console_write_too_long),
		T(test_console_write_outside_memory),
		T(test_console_write_empty_at_top),
		T(test_console_write_zero_memory),
		T(test_console_write_read_fails_first),
		T(test_console_write_read_fails_midway),
		T(test_lifecycle_denied_for_non_tpgvm),
		T(test_lifecycle_not_denied_for_tpgvm),
		T(test_unknown_numbers),
		T(test_cpl_nonzero_denied),
		T(test_cpl3_exit_does_not_stop),
		T(test_failed_decode_touches_nothing),
		T(test_report_number),
		R(test_report_succeeds),
		R(test_report_exact_capacity_and_nonce_bounds),
		R(test_report_denied_for_non_tpgvm),
		R(test_report_denied_from_cpl3),
		R(test_report_bad_nonce_length),
		R(test_report_reserved_not_zero),
		R(test_report_request_outside_memory),
		R(test_report_output_outside_memory),
		R(test_report_capacity_too_small),
		R(test_report_without_source),
		R(test_report_source_invalid),
		R(test_report_signing_fails),
		R(test_report_with_tpm_evidence),
		R(test_report_write_fails),
		R(test_report_request_read_once),
		R(test_report_overwrites_its_request),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
