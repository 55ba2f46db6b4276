/*
 * libFuzzer target for the platform report parser (tcb/report.c): the whole
 * input as a report, from an odd address in a heap block of exactly its
 * length (ASan catches any overread, UBSan any misaligned load). Every
 * accepted input is checked against the layout of docs/report.md, re-read
 * from the raw bytes here; a disagreement aborts. The verdict must not
 * depend on the error buffer. No crypto: the fuzz library has none, and the
 * verifier only adds crypto calls on what this parser returns.
 *
 * Seeds (tests/fuzz/corpus/report/) come from `test_report --write DIR`.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <custos/report.h>
#include "fuzz_util.h"

/* The TCB keys field, the evidence's last: a length, then none or both. */
static void check_tpm_keys(const uint8_t *k, uint64_t len, const struct report *r)
{
	uint64_t n = le(k, 4), off = 4, at;

	require(len == 4 + n && n <= REPORT_TPM_KEYS_MAX);
	if (n == 0) {
		require(r->tpm_key_count == 0);
		return;
	}
	require(r->tpm_key_count == 2);
	for (int i = 0; i < 2; i++) {
		require(r->tpm_keys[i].point == k + off);
		at = le(k + off + 97, 4);
		require(at >= 1 && at <= 256 && r->tpm_keys[i].attest == k + off + 101 &&
			r->tpm_keys[i].attest_len == at);
		require(r->tpm_keys[i].sig == k + off + 101 + at);
		off += 101 + at + 96;
	}
	require(off == len);
}

/* The TPM evidence re-read from the raw bytes (include/custos/report.h). */
static void check_evidence(const uint8_t *e, uint64_t len, const struct report *r)
{
	uint64_t ak = le(e, 4), at, mask, values, fw, off;

	require(ak >= 1 && ak <= 256 && r->ak_public == e + 4 && r->ak_public_len == ak);
	at = le(e + 4 + ak, 4);
	require(at >= 1 && at <= 1024 && r->attest == e + 8 + ak && r->attest_len == at);
	off = 8 + ak + at;
	require(r->quote_sig == e + off);
	mask = le(e + off + 96, 4);
	require(mask != 0 && mask < (1u << 24) && r->pcr_mask == mask);
	values = 0;
	for (int i = 0; i < 24; i++)
		values += (mask >> i) & 1;
	off += 100;
	require(r->pcr_values == e + off);
	off += values * 48;
	fw = le(e + off, 4);
	require(fw <= 20480 && r->fw_log == e + off + 4 && r->fw_log_len == fw);
	off += 4 + fw;
	fw = le(e + off, 4);
	require(fw <= 2048 && r->ek_cert == e + off + 4 && r->ek_cert_len == fw);
	off += 4 + fw;
	fw = le(e + off, 4);
	require(fw <= 2048 && r->ak_cert == e + off + 4 && r->ak_cert_len == fw);
	off += 4 + fw;
	if (off == len) { /* a report from before the TCB keys field */
		require(r->tpm_key_count == 0);
		return;
	}
	check_tpm_keys(e + off, len - off, r);
}

static void check_report(const uint8_t *d, size_t size, const struct report *r)
{
	uint64_t nonce = le(d + 72, 4), pid = le(d + 76, 4);
	uint64_t log = le(d + 80, 4), cert = le(d + 84, 4), tpm = le(d + 88, 4);
	uint64_t keys = le(d + 12, 4), launch = le(d + 16, 4);
	uint64_t off = 92 + nonce + pid + log;

	require(size <= 65536 && memcmp(d, "CUSTRPT1", 8) == 0);
	require(le(d + 8, 4) == 2 && r->version == 2);
	require((keys == 1 || keys == 2) && launch >= 1 && launch <= 3);
	require(le(d + 20, 4) <= 1);
	require(r->key_protection == keys && r->launch_mode == launch &&
		r->debug == le(d + 20, 4));
	require(nonce >= 32 && nonce <= 64 && pid >= 1 && pid <= 64);
	require(log >= 65 && log <= 32768 && cert >= 1 && cert <= 4096);
	require(size == off + cert + tpm + 96);
	require(r->tls_key_hash == d + 24);
	require(r->nonce == d + 92 && r->nonce_len == nonce);
	require((const uint8_t *)r->platform_id == d + 92 + nonce &&
		r->platform_id_len == pid);
	for (uint64_t i = 0; i < pid; i++)
		require(r->platform_id[i] >= 0x21 && r->platform_id[i] <= 0x7e);
	require(r->log == d + 92 + nonce + pid && r->log_len == log);
	require(r->cert == d + off && r->cert_len == cert && d[off] == 0x30);
	require(r->quoted_len == off + cert && r->tpm_len == tpm);
	if (tpm)
		check_evidence(d + off + cert, tpm, r);
	require(r->signed_len == size - 96 && r->signature == d + size - 96);
	/* No report is production today, whatever it claims: without a quote
	 * for want of one, with one for want of a certified key; what it says
	 * against itself adds reasons. */
	require(report_dev_reasons(r, false) ==
		((tpm ? REPORT_DEV_AK_UNCERTIFIED : REPORT_DEV_NO_QUOTE) |
		 (keys == 1 || launch == 1 ? REPORT_DEV_CLAIMED : 0) |
		 (le(d + 20, 4) != 0 ? REPORT_DEV_DEBUG : 0)));
	require(report_dev_reasons(r, true) ==
		(report_dev_reasons(r, false) | REPORT_DEV_IDENTITY));
}

static void one_report(const uint8_t *d, size_t size)
{
	struct report r, r2;
	char err[160], tiny[3];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = report_parse(d, size, &r, err, sizeof(err));
	require(rc == 0 || rc == -1);
	require(memchr(err, 0, sizeof(err)) != NULL);
	require(report_parse(d, size, &r2, NULL, 0) == rc);
	require(report_parse(d, size, &r2, tiny, sizeof(tiny)) == rc);
	if (rc != 0) {
		require(err[0] != '\0');
		return;
	}
	require(err[0] == '\0');
	check_report(d, size, &r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *block = malloc(size + 1);

	if (!block)
		return 0;
	memcpy(block + 1, data, size);
	one_report(block + 1, size);
	free(block);
	return 0;
}
