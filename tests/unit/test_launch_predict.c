/*
 * Unit tests for custos-ca's prediction of a launch's PCRs 0-9
 * (tools/launch_predict.c), on the real OVMF + GRUB log
 * (tests/unit/data/ovmf-grub-tcg2.log): without a new file it is the
 * log's own replay; with one, it is the replay of the same log with that
 * event's SHA-384 digest overwritten, which tcb/fw_log.c computes
 * independently; a file GRUB did not load, only a prefix of its name, or
 * one of the modules GRUB loads for itself is refused; and so is a log
 * whose unauthenticated labels or GRUB command texts were changed.
 */
#define _GNU_SOURCE /* memmem */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tools/launch_predict.c"
#include "tcb/fw_log.h"
#include "crypto/crypto.h"

static uint8_t logbuf[65536];
static size_t log_len;
static char err[256];

static int load(void **state)
{
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__ + 1) : 0;
	char path[4096];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%.*sdata/ovmf-grub-tcg2.log", dir, __FILE__);
	f = fopen(path, "rb");
	if (!f)
		f = fopen("tests/unit/data/ovmf-grub-tcg2.log", "rb");
	if (!f)
		return -1;
	log_len = fread(logbuf, 1, sizeof(logbuf), f);
	fclose(f);
	return log_len > 0 && log_len < sizeof(logbuf) ? 0 : -1;
}

static void sha384(const void *data, size_t len, uint8_t *out)
{
	crypto_sha384(data, len, out);
}

static void fw_replay(const uint8_t *log, uint8_t pcrs[LAUNCH_PCRS][48])
{
	static uint8_t all[FW_LOG_PCRS][FW_LOG_DIGEST_MAX];

	assert_int_equal(fw_log_replay(log, log_len, FW_LOG_ALG_SHA384, sha384, all,
				       err, sizeof(err)), 0);
	for (unsigned i = 0; i < LAUNCH_PCRS; i++)
		memcpy(pcrs[i], all[i], 48);
}

static void test_no_new_file_is_the_replay(void **state)
{
	uint8_t want[LAUNCH_PCRS][48], got[LAUNCH_PCRS][48];

	(void)state;
	fw_replay(logbuf, want);
	assert_int_equal(launch_predict(logbuf, log_len, NULL, 0, got, err, sizeof(err)), 0);
	assert_memory_equal(got, want, sizeof(want));
}

/* The log with the SHA-384 digest of the PCR 9 event for name overwritten
 * by digest, in place in a copy. */
static void overwrite(uint8_t *copy, const char *name, const uint8_t digest[48])
{
	struct fw_log_info info;
	struct fw_log_event ev;
	size_t off, bank = 0;
	int found = 0;

	assert_int_equal(fw_log_parse(copy, log_len, &info, err, sizeof(err)), 0);
	while (info.algs[bank] != FW_LOG_ALG_SHA384)
		bank++;
	off = info.header_len;
	while (fw_log_next(copy, log_len, &info, &off, &ev, err, sizeof(err)) == 1) {
		if (ev.pcr == 9 && ev.data_len == strlen(name) + 1 &&
		    memcmp(ev.data, name, ev.data_len) == 0) {
			memcpy(copy + (ev.digests[bank] - copy), digest, 48);
			found++;
		}
	}
	assert_int_equal(found, 1);
}

static void test_new_file_changes_pcr9_only(void **state)
{
	static uint8_t copy[sizeof(logbuf)];
	uint8_t old[LAUNCH_PCRS][48], want[LAUNCH_PCRS][48], got[LAUNCH_PCRS][48];
	struct launch_file f = { .grub_name = "/boot/probe.elf" };

	(void)state;
	crypto_sha384("a new hypervisor", 16, f.sha384);
	memcpy(copy, logbuf, log_len);
	overwrite(copy, "/boot/probe.elf", f.sha384);
	fw_replay(copy, want);
	fw_replay(logbuf, old);
	assert_int_equal(launch_predict(logbuf, log_len, &f, 1, got, err, sizeof(err)), 0);
	assert_int_equal(f.matched, 1);
	assert_memory_equal(got, want, sizeof(want));
	assert_memory_equal(got, old, 9 * 48);              /* PCRs 0-8 */
	assert_memory_not_equal(got[9], old[9], 48);
}

static void test_file_not_measured_refused(void **state)
{
	uint8_t got[LAUNCH_PCRS][48];
	struct launch_file f[2] = { { .grub_name = "/boot/probe.elf" },
				    { .grub_name = "/boot/tpgvm.env" } };
	struct launch_file prefix = { .grub_name = "/boot/probe" };

	(void)state;
	memset(got, 0xee, sizeof(got));
	assert_int_equal(launch_predict(logbuf, log_len, f, 2, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no file '/boot/tpgvm.env'"));
	assert_int_equal(launch_predict(logbuf, log_len, &prefix, 1, got, err,
					sizeof(err)), -1);
	assert_non_null(strstr(err, "'/boot/probe'"));
	for (size_t i = 0; i < sizeof(got); i++) /* untouched */
		assert_int_equal(((uint8_t *)got)[i], 0xee);
}

/* A copy of the log with the first occurrence of from (same length as
 * to) replaced: the digests stay, so the quote would still match. */
static void relabel(uint8_t *copy, const char *from, const char *to, size_t n)
{
	uint8_t *at;

	memcpy(copy, logbuf, log_len);
	at = memmem(copy, log_len, from, n);
	assert_non_null(at);
	memcpy(at, to, n);
}

static void test_changed_labels_refused(void **state)
{
	static uint8_t copy[sizeof(logbuf)];
	uint8_t got[LAUNCH_PCRS][48];
	struct launch_file f = { .grub_name = "/boot/probe.elf" };

	(void)state;
	crypto_sha384("x", 1, f.sha384);
	/* PCR 9's label of the kernel's event: no longer the command's file. */
	/* (its event: data size 16, then the path and its NUL) */
	relabel(copy, "\x10\0\0\0/boot/probe.elf", "\x10\0\0\0/boot/probe.elg", 20);
	assert_int_equal(launch_predict(copy, log_len, &f, 1, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "names another file"));
	/* A GRUB command's text: its digest no longer verifies. */
	relabel(copy, "setparams probe", "setparams probf", 15);
	assert_int_equal(launch_predict(copy, log_len, &f, 1, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not what GRUB measured"));
	/* The command loads another file than the one measured last. */
	relabel(copy, "grub_cmd: multiboot2 /boot/probe.elf", "grub_cmd: multiboot2 /boot/probe.elg",
		36);
	assert_int_equal(launch_predict(copy, log_len, &f, 1, got, err, sizeof(err)), -1);
}

static void test_grub_own_module_not_replaceable(void **state)
{
	uint8_t got[LAUNCH_PCRS][48];
	struct launch_file f = { .grub_name = "(cd0)/boot/grub/x86_64-efi/video.mod" };

	(void)state;
	assert_int_equal(launch_predict(logbuf, log_len, &f, 1, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "GRUB loaded no file"));
}

/* A launch with modules (tests/unit/data/ovmf-grub-modules.log: the
 * development media of test_tpm.py, enrolled: custos.elf and the modules
 * tcb-keys.bin, tcb-certs.bin, tpgvm.env, p1-enroll.bin). Dropping a
 * module changes PCRs 8 and 9 only; the kernel, a module GRUB did not
 * load, or one both dropped and replaced are refused. (That the result is
 * what GRUB then measures is test_tpm.py's: it boots such media.) */
static uint8_t mods[65536];
static size_t mods_len;

static void load_modules_log(void)
{
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__ + 1) : 0;
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%.*sdata/ovmf-grub-modules.log", dir, __FILE__);
	f = fopen(path, "rb");
	assert_non_null(f);
	mods_len = fread(mods, 1, sizeof(mods), f);
	fclose(f);
	assert_true(mods_len > 1000 && mods_len < sizeof(mods));
}

static void test_dropping_a_module(void **state)
{
	static const char *const keys[] = { "/boot/tcb-keys.bin" };
	static const char *const kernel[] = { "/boot/custos.elf" };
	static const char *const unknown[] = { "/boot/none.bin" };
	uint8_t kept[LAUNCH_PCRS][48], less[LAUNCH_PCRS][48];
	struct launch_file f = { .grub_name = "/boot/tcb-keys.bin" };

	(void)state;
	load_modules_log();
	assert_int_equal(launch_predict(mods, mods_len, NULL, 0, kept, err, sizeof(err)), 0);
	assert_int_equal(launch_predict_dropping(mods, mods_len, NULL, 0, keys, 1, less, err,
						 sizeof(err)), 0);
	assert_memory_equal(less, kept, 8 * 48);
	assert_memory_not_equal(less[8], kept[8], 48);
	assert_memory_not_equal(less[9], kept[9], 48);
	assert_int_equal(launch_predict_dropping(mods, mods_len, NULL, 0, kernel, 1, less,
						 err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a module GRUB loaded once"));
	assert_int_equal(launch_predict_dropping(mods, mods_len, NULL, 0, unknown, 1, less,
						 err, sizeof(err)), -1);
	assert_int_equal(launch_predict_dropping(mods, mods_len, &f, 1, keys, 1, less, err,
						 sizeof(err)), -1);
	assert_non_null(strstr(err, "both dropped and given new contents"));
}

static void test_malformed_log_refused(void **state)
{
	uint8_t got[LAUNCH_PCRS][48];

	(void)state;
	assert_int_equal(launch_predict(logbuf, log_len - 1, NULL, 0, got, err,
					sizeof(err)), -1);
	assert_non_null(strstr(err, "malformed"));
	assert_int_equal(launch_predict(logbuf, 10, NULL, 0, got, err, sizeof(err)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_new_file_is_the_replay),
		cmocka_unit_test(test_new_file_changes_pcr9_only),
		cmocka_unit_test(test_file_not_measured_refused),
		cmocka_unit_test(test_changed_labels_refused),
		cmocka_unit_test(test_grub_own_module_not_replaceable),
		cmocka_unit_test(test_dropping_a_module),
		cmocka_unit_test(test_malformed_log_refused),
	};

	return cmocka_run_group_tests(tests, load, NULL);
}
