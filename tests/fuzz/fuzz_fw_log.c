/*
 * libFuzzer target for the firmware event log parser and replayer
 * (tcb/fw_log.c): the whole input as a log, from an odd address in a heap
 * block of exactly its length (ASan catches any overread, UBSan any
 * misaligned load). The verdict must not depend on the error buffer. An
 * accepted log is walked again with fw_log_next and checked against the
 * raw bytes; the log without its last record must be accepted too; and it
 * is replayed for each of its banks (and refused for one it lacks) with a
 * stand-in hash, the fuzz library having no crypto.
 *
 * Seeds (tests/fuzz/corpus/fw_log/, from `test_fw_log --write DIR`): the
 * OVMF+GRUB log of tests/unit/data, synthetic two-bank logs with and
 * without a StartupLocality event, and a header-only log.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/fw_log.h"
#include "fuzz_util.h"

static size_t hash_len;
static uint8_t pcrs[FW_LOG_PCRS][FW_LOG_DIGEST_MAX];

/* Not a hash: a cheap mix of all its input into hash_len bytes. */
static void fake_hash(const void *data, size_t len, uint8_t *out)
{
	const uint8_t *p = data;

	require(len == 2 * hash_len);
	memset(out, 0, hash_len);
	for (size_t i = 0; i < len; i++)
		out[i % hash_len] = (uint8_t)(out[i % hash_len] * 31 + p[i] + i);
}

static bool has_alg(const struct fw_log_info *info, uint16_t alg)
{
	for (size_t k = 0; k < info->alg_count; k++)
		if (info->algs[k] == alg)
			return true;
	return false;
}

static bool same_info(const struct fw_log_info *a, const struct fw_log_info *b)
{
	return a->events == b->events && a->header_len == b->header_len &&
	       a->alg_count == b->alg_count &&
	       memcmp(a->algs, b->algs, sizeof(a->algs)) == 0 &&
	       memcmp(a->sizes, b->sizes, sizeof(a->sizes)) == 0 &&
	       a->startup_locality == b->startup_locality &&
	       a->has_startup_locality == b->has_startup_locality;
}

static void check(const uint8_t *d, size_t size, const struct fw_log_info *info)
{
	struct fw_log_info again;
	struct fw_log_event ev;
	size_t off = info->header_len, last = off, n = 0;
	uint16_t missing = 0xffff;

	require(info->alg_count >= 1 && info->alg_count <= FW_LOG_MAX_ALGS);
	require(info->header_len >= 32 + 28 + 4 * info->alg_count + 1);
	require(info->header_len == 32 + le(d + 28, 4) && info->header_len <= size);
	require(memcmp(d + 32, "Spec ID Event03", 16) == 0);
	for (size_t k = 0; k < info->alg_count; k++) {
		require(info->algs[k] == le(d + 60 + 4 * k, 2));
		require(info->sizes[k] == le(d + 62 + 4 * k, 2));
		require(info->sizes[k] >= 1 && info->sizes[k] <= FW_LOG_DIGEST_MAX);
	}
	for (;;) {
		size_t at = off;
		int rc = fw_log_next(d, size, info, &off, &ev, NULL, 0);

		if (rc == 0)
			break;
		require(rc == 1);
		require(ev.pcr < FW_LOG_PCRS && ev.pcr == le(d + at, 4));
		require(ev.type == le(d + at + 4, 4));
		require(le(d + at + 8, 4) == info->alg_count);
		for (size_t k = 0; k < info->alg_count; k++) {
			require(ev.digests[k] >= d + at + 14 &&
				ev.digests[k] + info->sizes[k] <= ev.data - 4);
			require(le(ev.digests[k] - 2, 2) == info->algs[k]);
		}
		require(ev.data_len == le(ev.data - 4, 4));
		require(ev.data + ev.data_len == d + off && off <= size);
		last = at;
		n++;
	}
	require(off == size && n == info->events);
	/* Cut before the last record: still a log, one record shorter. */
	if (n > 0) {
		require(fw_log_parse(d, last, &again, NULL, 0) == 0);
		require(again.events == n - 1);
	}
	for (size_t k = 0; k < info->alg_count; k++) {
		hash_len = info->sizes[k];
		require(fw_log_replay(d, size, info->algs[k], fake_hash, pcrs,
				      NULL, 0) == 0);
		for (uint32_t i = 0; i < FW_LOG_PCRS; i++)
			for (size_t j = hash_len; j < FW_LOG_DIGEST_MAX; j++)
				require(pcrs[i][j] == 0);
	}
	while (has_alg(info, missing))
		missing--;
	require(fw_log_replay(d, size, missing, fake_hash, pcrs, NULL, 0) == -1);
}

static void one_log(const uint8_t *d, size_t size)
{
	struct fw_log_info info, again;
	char err[160], tiny[3];
	int rc;

	memset(err, 'x', sizeof(err));
	rc = fw_log_parse(d, size, &info, err, sizeof(err));
	require(rc == 0 || rc == -1);
	require(memchr(err, 0, sizeof(err)) != NULL);
	require(fw_log_parse(d, size, &again, NULL, 0) == rc);
	require(fw_log_parse(d, size, &again, tiny, sizeof(tiny)) == rc);
	if (rc != 0) {
		require(err[0] != '\0');
		/* a refused log measures nothing */
		require(!fw_log_loader_measured_kernel(d, size));
		return;
	}
	require(err[0] == '\0');
	require(same_info(&info, &again));
	(void)fw_log_loader_measured_kernel(d, size);
	check(d, size, &info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *block = malloc(size + 1);

	if (!block)
		return 0;
	memcpy(block + 1, data, size);
	one_log(block + 1, size);
	free(block);
	return 0;
}
