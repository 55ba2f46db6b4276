/*
 * A report's TPM evidence as the tenant checks it (tools/tpm_evidence.c,
 * compiled in with tools/quote_verify.c: host-only code), on a real report:
 * tests/unit/data/report-ovmf-swtpm.rpt, saved by `custos attest
 * --save-report` from the hypervisor booted by OVMF with swtpm
 * (tests/integration/test_tpm.py makes the same kind of report).
 *
 * The attacker here holds what the boot media holds - the development TCB
 * keys, so the TCB's signature proves nothing - and a real report. Every
 * change to what the quote vouches for must be refused by the evidence
 * check alone: the measurement log (a different TPGVM, say), the PCR
 * values, the firmware's log, the quote, its key, the report's other
 * bytes (nonce, TLS key). The TCB's signature is not checked here at all.
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

#include "tools/quote_verify.c"
#include "tools/tpm_evidence.c"

static uint8_t real[REPORT_MAX_SIZE], buf[REPORT_MAX_SIZE];
static size_t real_len;
static const char *exe_path;

static bool read_vector(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (!f)
		return false;
	real_len = fread(real, 1, sizeof(real), f);
	fclose(f);
	return real_len > RPT_FIXED_LEN;
}

/* Next to this source from the tree's root (as make and tests/run.py run
 * us), else from build/tests/ up to the tree. */
static int load_real(void **state)
{
	static const char name[] = "report-ovmf-swtpm.rpt";
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__ + 1) : 0;
	char path[4096];

	(void)state;
	setenv("TSS2_LOG", "all+none", 1);
	snprintf(path, sizeof(path), "%.*sdata/%s", dir, __FILE__, name);
	if (read_vector(path))
		return 0;
	slash = exe_path ? strrchr(exe_path, '/') : NULL;
	dir = slash ? (int)(slash - exe_path + 1) : 0;
	snprintf(path, sizeof(path), "%.*s../../tests/unit/data/%s", dir,
		 exe_path ? exe_path : "", name);
	if (read_vector(path))
		return 0;
	fprintf(stderr, "cannot read tests/unit/data/%s\n", name);
	return -1;
}

static const struct reference_launch *launch_ref;
static struct report r;
static struct tcg_log_parsed tcb_log;
static struct tpm_evidence_result res;
static char err[256];

/* Check buf (a copy of the real report, maybe changed). */
static int check(void)
{
	char why[256];

	if (report_parse(buf, real_len, &r, why, sizeof(why)))
		fail_msg("report_parse: %s", why);
	if (tcg_log_parse(r.log, r.log_len, &tcb_log, why, sizeof(why)))
		return -2;
	memset(err, 0, sizeof(err));
	return tpm_evidence_check(buf, &r, &tcb_log, launch_ref, NULL, 0, &res, err,
				  sizeof(err));
}

static void expect_refused(const char *needle)
{
	assert_int_equal(check(), -1);
	if (!strstr(err, needle))
		fail_msg("'%s' does not say '%s'", err, needle);
}

static void fresh(void)
{
	memcpy(buf, real, real_len);
}

static void test_the_real_report_checks_out(void **state)
{
	(void)state;
	fresh();
	assert_int_equal(check(), 0);
	assert_int_equal(res.pcr_mask, 0xffff);
	assert_true(res.firmware_log);
	assert_true(res.firmware_events > 20);
	assert_int_equal(r.fw_log_len > 1000, 1);
}

/* "key protection: tpm" is believed from evidence only: the real report
 * (development keys, no TPM-resident keys, an unenrolled AK) passes as it
 * is and says its keys are not in the TPM; claiming otherwise is refused
 * (checked on its own: in a whole report the claim is quoted, so the
 * quote would already fail). */
static void test_key_protection_claim_needs_evidence(void **state)
{
	static const uint8_t ak_point[97] = { 4 };
	bool in_tpm = true;

	(void)state;
	fresh();
	assert_int_equal(check(), 0);
	assert_false(res.tcb_keys_in_tpm);
	assert_int_equal(r.tpm_key_count, 0);
	assert_int_equal(tcb_key_claim_check(&r, ak_point, NULL, 0, true, &in_tpm, err,
					     sizeof(err)), 0);
	assert_false(in_tpm);
	r.key_protection = REPORT_KEYS_TPM;
	assert_int_equal(tcb_key_claim_check(&r, ak_point, NULL, 0, true, &in_tpm, err,
					     sizeof(err)), -1);
	assert_non_null(strstr(err, "claims the TCB's keys live in the TPM"));
}

/* Bytes the quote covers: header, nonce, TLS key hash, platform id,
 * certificate. A re-signed report with any of them changed is another
 * report, which this quote is not about. */
static void test_quote_belongs_to_its_report(void **state)
{
	size_t at[] = { RPT_OFF_TLS_HASH, RPT_OFF_TLS_HASH + 47,
			RPT_FIXED_LEN /* the nonce */, RPT_FIXED_LEN + 40 };

	(void)state;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		fresh();
		buf[at[i]] ^= 1;
		expect_refused("the TPM quote does not verify");
	}
	/* A report claiming production key protection instead of dev. */
	fresh();
	buf[RPT_OFF_KEY_PROT] = REPORT_KEYS_TPM;
	expect_refused("the TPM quote does not verify");
	/* The certificate's last byte. */
	fresh();
	report_parse(buf, real_len, &r, NULL, 0);
	buf[r.quoted_len - 1] ^= 1;
	expect_refused("the TPM quote does not verify");
	/* The evidence's own length field is outside what it covers: it is
	 * written after the quote (zeroed when hashing). */
	fresh();
	assert_int_equal(check(), 0);
}

/* The TCB's log: change a measurement (say, another TPGVM image to match
 * a reference) - the quote covers the log, so it no longer verifies. (A
 * TCB that logged one thing and extended another would be caught by the
 * replay against the quoted PCRs instead; making such a quote needs a TPM
 * or an uncertified software key, which is why reports stay DEV until the
 * key is certified: docs/tpm.md.) */
static void test_measurement_log_is_quoted(void **state)
{
	size_t off;

	(void)state;
	fresh();
	report_parse(buf, real_len, &r, NULL, 0);
	/* The last event's digest: it sits 48 + 4 + desc bytes before the
	 * log's end; flip a byte of the description's NUL-free text instead
	 * of guessing, via the parsed log's digest and a search. */
	assert_int_equal(tcg_log_parse(r.log, r.log_len, &tcb_log, NULL, 0), 0);
	{
		const uint8_t *d = tcb_log.events[tcb_log.count - 1].digest;
		const uint8_t *p = memmem(r.log, r.log_len, d, 48);

		assert_non_null(p);
		off = (size_t)(p - buf);
	}
	buf[off] ^= 0x80;
	/* The quote covers the log too: refused there first. */
	expect_refused("the TPM quote does not verify");
}

/* PCR values: the quote's digest covers them. */
static void test_pcr_values_must_match_the_quote(void **state)
{
	(void)state;
	for (unsigned pcr = 0; pcr < 16; pcr += 5) {
		fresh();
		report_parse(buf, real_len, &r, NULL, 0);
		buf[(size_t)(r.pcr_values - buf) + pcr * 48 + 7] ^= 1;
		expect_refused("the TPM quote does not verify");
	}
}

/* The firmware's log: outside what the quote signs, but it must replay to
 * the quoted PCRs 0-11. */
static void test_firmware_log_must_replay(void **state)
{
	struct fw_log_info info;
	struct fw_log_event ev;
	size_t off;
	int n = 0;

	(void)state;
	fresh();
	report_parse(buf, real_len, &r, NULL, 0);
	assert_int_equal(fw_log_parse(r.fw_log, r.fw_log_len, &info, NULL, 0), 0);
	/* The first digest of some event that extends a PCR: change it. */
	off = info.header_len;
	while (fw_log_next(r.fw_log, r.fw_log_len, &info, &off, &ev, NULL, 0) == 1)
		if (ev.type != FW_LOG_EV_NO_ACTION && ++n == 5)
			break;
	assert_int_equal(n, 5);
	buf[(size_t)(ev.digests[0] - buf)] ^= 1;
	/* Only the SHA-384 bank is replayed: a SHA-1 digest is not checked,
	 * so change the SHA-384 one. */
	for (size_t i = 0; i < info.alg_count; i++)
		if (info.algs[i] == FW_LOG_ALG_SHA384)
			buf[(size_t)(ev.digests[i] - buf)] ^= 1;
	expect_refused("the firmware's event log does not replay to the quoted PCR");
	/* A log cut short: refused, not replayed as far as it goes. */
	fresh();
	report_parse(buf, real_len, &r, NULL, 0);
	buf[(size_t)(r.fw_log - buf) + 10] ^= 0xff;
	assert_int_equal(check(), -1);
}

/* The key: the TPMT_PUBLIC must be the kind the TCB asks for, and its
 * point is what the quote's signature is checked with. */
static void test_attestation_key(void **state)
{
	(void)state;
	fresh();
	report_parse(buf, real_len, &r, NULL, 0);
	/* objectAttributes, low byte: drop "restricted"'s neighbour sign. */
	buf[(size_t)(r.ak_public - buf) + 7] ^= 0x40;
	expect_refused("is not a restricted, TPM-bound ECC P-384");
	fresh();
	/* A byte of the point's x. */
	buf[(size_t)(r.ak_public - buf) + 30] ^= 1;
	expect_refused("the TPM quote does not verify");
	fresh();
	buf[(size_t)(r.quote_sig - buf) + 50] ^= 1;
	expect_refused("the TPM quote does not verify");
	fresh();
	buf[(size_t)(r.attest - buf) + 20] ^= 1;
	expect_refused("the TPM quote does not verify");
}

/* The launch reference: GRUB (measured by the firmware, its log replayed
 * to the TPM's PCRs) loaded this kernel with this command line. */
static const uint8_t elf_sha384[48] = {
	0xb0, 0x6f, 0xee, 0x3c, 0xdf, 0xda, 0xd1, 0x07, 0xac, 0xa2, 0x7a, 0x87,
	0x5f, 0x1e, 0x7e, 0xe6, 0x49, 0x66, 0x7d, 0xb2, 0x29, 0xf2, 0x76, 0xa8,
	0x49, 0x50, 0x1c, 0x9c, 0x05, 0xeb, 0x76, 0x0a, 0x74, 0x85, 0x58, 0xa3,
	0x8d, 0xc3, 0x2f, 0xb1, 0x6d, 0x14, 0x09, 0x5b, 0x7c, 0x27, 0xf0, 0xc8,
};

static void test_launch_reference(void **state)
{
	struct reference_launch l = { .present = true, .kernel = "/boot/custos.elf",
				      .kernel_cmdline = "" };

	(void)state;
	l.kernel_sha384.count = 1;
	memcpy(l.kernel_sha384.sha384[0], elf_sha384, 48);
	launch_ref = &l;
	fresh();
	assert_int_equal(check(), 0);
	assert_true(res.launch_checked);
	/* Another build of the hypervisor. */
	l.kernel_sha384.sha384[0][47] ^= 1;
	expect_refused("GRUB measured /boot/custos.elf with another SHA-384");
	/* A roll-out's reference accepts the old build too. */
	l.kernel_sha384.count = 2;
	memcpy(l.kernel_sha384.sha384[1], elf_sha384, 48);
	assert_int_equal(check(), 0);
	l.kernel_sha384.count = 1;
	l.kernel_sha384.sha384[0][47] ^= 1;
	/* Another command line (a debug switch the reference does not have). */
	snprintf(l.kernel_cmdline, sizeof(l.kernel_cmdline), "custos.debug=mirror-consoles");
	expect_refused("GRUB measured the kernel command line \"\", the reference has");
	l.kernel_cmdline[0] = 0;
	/* Another kernel path: GRUB loaded something else. */
	snprintf(l.kernel, sizeof(l.kernel), "/boot/other.elf");
	expect_refused("GRUB's log shows \"multiboot2 /boot/custos.elf\", not the reference's");
	/* Without a reference, or without its launch part: not checked. */
	launch_ref = NULL;
	assert_int_equal(check(), 0);
	assert_false(res.launch_checked);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_real_report_checks_out),
		cmocka_unit_test(test_key_protection_claim_needs_evidence),
		cmocka_unit_test(test_quote_belongs_to_its_report),
		cmocka_unit_test(test_measurement_log_is_quoted),
		cmocka_unit_test(test_pcr_values_must_match_the_quote),
		cmocka_unit_test(test_firmware_log_must_replay),
		cmocka_unit_test(test_attestation_key),
		cmocka_unit_test(test_launch_reference),
	};

	(void)argc;
	exe_path = argv[0];
	return cmocka_run_group_tests(tests, load_real, NULL);
}
