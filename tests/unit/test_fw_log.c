/*
 * The firmware event log parser and replayer (tcb/fw_log.c).
 *
 * The real vector, tests/unit/data/ovmf-grub-tcg2.log, is the TCG2 log
 * OVMF 2022.11 (Debian) and GRUB 2.06 wrote under QEMU q35 with swtpm: the
 * 10612 bytes GetEventLog(TCG_2) returned before ExitBootServices, plus the
 * two events of the final events table logged by ExitBootServices. Banks
 * SHA-1/256/384/512, 42 records after the Spec ID event, no StartupLocality
 * event. Its expected PCRs are tpm2_eventlog's "pcrs:" section for that
 * file, which equalled swtpm's PCR_Read of PCRs 0..9 right after the boot;
 * swtpm's other PCRs were zero except 17..22 (all ones).
 *
 * Refusals: every prefix of the real log except those ending on an event
 * boundary (placed against a guard page), trailing bytes, and changes to a
 * synthetic two-bank (SHA-256 + SHA-384) log: digest counts, algorithms,
 * sizes, PCRs, header fields, StartupLocality misuse. The synthetic logs'
 * replays are tpm2_eventlog's where it follows the spec (see syn_want).
 *
 * `test_fw_log --write DIR` writes the fuzzer's seeds instead.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/byteorder.h"
#include "tcb/fw_log.h"
#include "guarded.h"

#define REAL_LEN     10612
#define REAL_EVENTS  42
#define NO_ACTION    3u
#define EV_SEPARATOR 4u
#define EV_IPL       0xdu
#define EV_S_CRTM_VERSION 8u
#define EV_EFI_ACTION 0x80000007u

static uint8_t real[REAL_LEN + 64];
static size_t real_len;

/* tpm2_eventlog tests/unit/data/ovmf-grub-tcg2.log, "pcrs:" */
static const char *const real_sha256[10] = {
	"ce729d0e02d46cecb9baa54228e55d1be49de54981fe6485a59bf9b222bcc061",
	"68f7722ca045c3a8ddecd0dd306149c2e4ffc2700b89839a4297d9f239bb814f",
	"7283db88208a98a77b841934355d717e583235fa544a682bdaafb2232278ea36",
	"3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
	"bcae618986b5cf1aed2600c26a2a8c0180f0c4c35991e998564e29584d4ce706",
	"a5ceb755d043f32431d63e39f5161464620a3437280494b5850dc1b47cc074e0",
	"3d458cfe55cc03ea1f443f1562beec8df51c75e14a9fcf9a7234a13f198e7969",
	"65caf8dd1e0ea7a6347b635d2b379c93b9a1351edc2afc3ecda700e534eb3068",
	"406c8a597386bf86b941fe9908363cb8b8a7f8240ca40dd8aa93f83873d3f945",
	"0ee9488b4c70b1d15dec11da2e136d145dc9b4b53e12ab15e84d486cf0b0abd1",
};

static const char *const real_sha384[10] = {
	"585855a45cd5ff93c828c2e469ec402bd01f01a7567b3716"
	"d3a0a698d35469255107501ff0aded67dee978a39d4707ef",
	"be8aad587e748010f29b83f07decac893afe0c593d414a5a"
	"d29e30ac8c21e99a92ba56a36e86344d2917fdaa63ccc24f",
	"60025d3cde5ded2d8b23126bdd34acbb598c65fd51f6c345"
	"3609aa5666ae952c3833bf3357a82a1ad23289ab8d60d1b2",
	"518923b0f955d08da077c96aaba522b9decede61c599cea6"
	"c41889cfbea4ae4d50529d96fe4d1afdafb65e7f95bf23c4",
	"1b5b8637953e233a2761ee2faad7827d544a735c569f4765"
	"efae55bb65d3d2310e560c219c5936d6693ed1a0d1ed1bc8",
	"c50b529497c7f441ea47305587d6ce83e2e31f7b4fab6c13"
	"dc0b0c3c900e1d0caf0768321100927862df142bf0465ee4",
	"518923b0f955d08da077c96aaba522b9decede61c599cea6"
	"c41889cfbea4ae4d50529d96fe4d1afdafb65e7f95bf23c4",
	"98441c7f7625d10058c47683aec486ce311c633235eb5555"
	"93a7ee791121e3578ae72d04ecef661f272d59058b77af35",
	"a4bb9184d6b7fdda8ab1045f6fabab0a67bbde77925ba9d9"
	"ff3ec5c3e73b310cd32a5a567e256007df287686801019c1",
	"91e1e2b4b72f1cc5cd951b564a4f02aafff5dbca792dbe73"
	"7d33f4c78a5f85abac9038fb77e1a644af5db5225815cd65",
};

static void hex_to(const char *hex, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(hex), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static const char *exe_path;

static bool read_vector(const char *path)
{
	FILE *f = fopen(path, "rb");

	if (!f)
		return false;
	real_len = fread(real, 1, sizeof(real), f);
	fclose(f);
	return real_len == REAL_LEN;
}

/* The vector, next to this source file from the tree's root (as make and
 * tests/run.py run us), else from build/tests/ up to the tree. */
static int load_real(void **state)
{
	static const char name[] = "ovmf-grub-tcg2.log";
	const char *slash = strrchr(__FILE__, '/');
	int dir = slash ? (int)(slash - __FILE__ + 1) : 0;
	char path[4096];

	(void)state;
	snprintf(path, sizeof(path), "%.*sdata/%s", dir, __FILE__, name);
	if (read_vector(path))
		return 0;
	slash = exe_path ? strrchr(exe_path, '/') : NULL;
	dir = slash ? (int)(slash - exe_path + 1) : 0;
	snprintf(path, sizeof(path), "%.*s../../tests/unit/data/%s", dir,
		 exe_path ? exe_path : "", name);
	if (read_vector(path))
		return 0;
	fprintf(stderr, "cannot read tests/unit/data/%s (%zu bytes, want %d)\n",
		name, real_len, REAL_LEN);
	return -1;
}

static void sha256_fn(const void *d, size_t n, uint8_t *out)
{
	crypto_sha256(d, n, out);
}

static void sha384_fn(const void *d, size_t n, uint8_t *out)
{
	crypto_sha384(d, n, out);
}

static void expect_refused(const uint8_t *b, size_t len, const char *want)
{
	struct fw_log_info info;
	char err[200];

	memset(&info, 0xa5, sizeof(info));
	memset(err, 0, sizeof(err));
	assert_int_equal(fw_log_parse(b, len, &info, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	for (size_t i = 0; i < sizeof(info); i++)
		assert_int_equal(((uint8_t *)&info)[i], 0xa5);
	assert_int_equal(fw_log_parse(b, len, &info, NULL, 0), -1);
	assert_int_equal(fw_log_parse(b, len, &info, err, 4), -1);
	assert_int_equal(strlen(err), 3);
}

/* --- The real log --------------------------------------------------------- */

static void test_real_parse(void **state)
{
	static const uint16_t algs[] = { 0x0004, 0x000b, 0x000c, 0x000d };
	static const uint16_t sizes[] = { 20, 32, 48, 64 };
	struct fw_log_info info;
	char err[200] = "x";

	(void)state;
	assert_int_equal(fw_log_parse(real, real_len, &info, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(info.events, REAL_EVENTS);
	assert_int_equal(info.alg_count, 4);
	assert_memory_equal(info.algs, algs, sizeof(algs));
	assert_memory_equal(info.sizes, sizes, sizeof(sizes));
	assert_false(info.has_startup_locality);
	assert_int_equal(info.startup_locality, 0);
	assert_int_equal(info.header_len, 32 + 24 + 4 * 4 + 4 + 1);
}

static void test_real_events(void **state)
{
	static const char ebs[] = "Exit Boot Services Returned with Success";
	struct fw_log_info info;
	struct fw_log_event ev;
	uint8_t d[32];
	size_t off, n = 0;
	int rc;

	(void)state;
	assert_int_equal(fw_log_parse(real, real_len, &info, NULL, 0), 0);
	off = info.header_len;
	while ((rc = fw_log_next(real, real_len, &info, &off, &ev, NULL, 0)) == 1) {
		if (n == 0) {
			/* S-CRTM version: PCR 0, 0x8, the SHA-1 digest follows
			 * its algorithm ID at offset 12 of the record. */
			assert_int_equal(ev.pcr, 0);
			assert_int_equal(ev.type, EV_S_CRTM_VERSION);
			assert_ptr_equal(ev.digests[0], real + info.header_len + 14);
		}
		for (size_t k = 0; k < info.alg_count; k++)
			assert_int_equal(load_le16(ev.digests[k] - 2), info.algs[k]);
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(off, real_len);
	assert_int_equal(n, REAL_EVENTS);
	assert_int_equal(ev.pcr, 5);
	assert_int_equal(ev.type, EV_EFI_ACTION);
	assert_int_equal(ev.data_len, strlen(ebs));
	assert_memory_equal(ev.data, ebs, strlen(ebs));
	assert_ptr_equal(ev.data + ev.data_len, real + real_len);
	/* tpm2_eventlog: EventNum 42's SHA-256 digest */
	hex_to("b54f7542cbd872a81a9d9dea839b2b8d747c7ebd5ea6615c40f42f44a6dbeba0",
	       d, 32);
	assert_memory_equal(ev.digests[1], d, 32);
}

static void check_real_replay(uint16_t alg, size_t dsize,
			      void (*hash)(const void *, size_t, uint8_t *),
			      const char *const want[10])
{
	static uint8_t pcrs[FW_LOG_PCRS][FW_LOG_DIGEST_MAX];
	uint8_t d[FW_LOG_DIGEST_MAX], zero[FW_LOG_DIGEST_MAX] = { 0 };
	char err[200];

	memset(pcrs, 0x5a, sizeof(pcrs));
	assert_int_equal(fw_log_replay(real, real_len, alg, hash, pcrs, err,
				       sizeof(err)), 0);
	for (uint32_t i = 0; i < FW_LOG_PCRS; i++) {
		if (i < 10)
			hex_to(want[i], d, dsize);
		else
			memset(d, i >= 17 && i <= 22 ? 0xff : 0, dsize);
		assert_memory_equal(pcrs[i], d, dsize);
		assert_memory_equal(pcrs[i] + dsize, zero,
				    FW_LOG_DIGEST_MAX - dsize);
	}
}

static void test_real_replay_sha256(void **state)
{
	(void)state;
	check_real_replay(FW_LOG_ALG_SHA256, 32, sha256_fn, real_sha256);
}

static void test_real_replay_sha384(void **state)
{
	(void)state;
	check_real_replay(FW_LOG_ALG_SHA384, 48, sha384_fn, real_sha384);
}

/* The offsets where the real log's events end, found without fw_log. */
static size_t real_boundaries(size_t *out)
{
	size_t off = 32 + load_le32(real + 28), n = 0;

	out[n++] = off;
	while (off < real_len) {
		uint32_t count = load_le32(real + off + 8);

		off += 12;
		for (uint32_t i = 0; i < count; i++) {
			uint16_t alg = load_le16(real + off);

			off += 2 + (alg == 4 ? 20 : alg == 0xb ? 32 :
				    alg == 0xc ? 48 : 64);
		}
		off += 4 + load_le32(real + off);
		out[n++] = off;
	}
	return n;
}

/* Every prefix, against the guard page behind it: accepted exactly when it
 * ends on an event boundary (the header alone is a valid, empty log). */
static void test_real_prefixes(void **state)
{
	size_t bounds[REAL_EVENTS + 1], nb, next = 0;
	struct guarded g;
	char err[200];

	(void)state;
	nb = real_boundaries(bounds);
	assert_int_equal(nb, REAL_EVENTS + 1);
	assert_int_equal(bounds[nb - 1], real_len);
	guarded_init(&g, real_len);
	for (size_t len = 0; len <= real_len; len++) {
		struct fw_log_info info;
		const uint8_t *b = guarded_fill(&g, real, len, 1);
		int rc = fw_log_parse(b, len, &info, err, sizeof(err));

		if (next < nb && len == bounds[next]) {
			if (rc != 0)
				fail_msg("prefix %zu refused: %s", len, err);
			assert_int_equal(info.events, next);
			next++;
		} else if (rc != -1) {
			fail_msg("prefix %zu of %zu accepted", len, real_len);
		} else {
			assert_true(strstr(err, "truncated") != NULL);
		}
	}
	assert_int_equal(next, nb);
	guarded_free(&g);
}

/* GRUB's measurements of the launch: in the whole real log, not in a
 * prefix before its kernel_cmdline event, not once that event is renamed. */
static void test_real_loader_measured_kernel(void **state)
{
	static uint8_t copy[REAL_LEN];
	size_t bounds[REAL_EVENTS + 1], nb;
	bool seen = false;
	uint8_t *k;

	(void)state;
	assert_true(fw_log_loader_measured_kernel(real, real_len));
	nb = real_boundaries(bounds);
	for (size_t i = 0; i < nb; i++) {
		bool now = fw_log_loader_measured_kernel(real, bounds[i]);
		assert_true(now || !seen); /* once measured, it stays so */
		seen = now;
	}
	assert_true(seen);
	assert_false(fw_log_loader_measured_kernel(real, bounds[1]));
	memcpy(copy, real, real_len);
	k = NULL;
	for (size_t i = 0; !k && i + 16 <= real_len; i++)
		if (memcmp(copy + i, "kernel_cmdline: ", 16) == 0)
			k = copy + i;
	assert_non_null(k);
	k[0] = 'K';
	assert_false(fw_log_loader_measured_kernel(copy, real_len));
	assert_false(fw_log_loader_measured_kernel(copy, real_len - 1));
}

static void test_real_trailing(void **state)
{
	uint8_t *b = malloc(real_len + 16);

	(void)state;
	assert_non_null(b);
	memcpy(b, real, real_len);
	memset(b + real_len, 0, 16);
	/* OVMF's buffer is zero-filled past the last event: padding is not
	 * an event (0 digests), so the copier must cut the log exactly. */
	expect_refused(b, real_len + 1, "truncated");
	expect_refused(b, real_len + 12, "0 digests");
	expect_refused(b, real_len + 16, "0 digests");
	free(b);
}

/* --- A synthetic two-bank log --------------------------------------------- */

struct builder {
	uint8_t b[2048];
	size_t len;
};

static void put(struct builder *w, const void *p, size_t n)
{
	assert_true(w->len + n <= sizeof(w->b));
	memcpy(w->b + w->len, p, n);
	w->len += n;
}

static void put8(struct builder *w, uint8_t v)
{
	put(w, &v, 1);
}

static void put16(struct builder *w, uint16_t v)
{
	uint8_t b[2];

	store_le16(b, v);
	put(w, b, 2);
}

static void put32(struct builder *w, uint32_t v)
{
	uint8_t b[4];

	store_le32(b, v);
	put(w, b, 4);
}

/* The Spec ID event for n algorithms. */
static void header(struct builder *w, const uint16_t *algs,
		   const uint16_t *sizes, uint32_t n, uint8_t vendor)
{
	put32(w, 0);
	put32(w, NO_ACTION);
	for (int i = 0; i < 20; i++)
		put8(w, 0);
	put32(w, 28 + 4 * n + 1 + vendor);
	put(w, "Spec ID Event03", 16);
	put32(w, 0);                 /* platformClass */
	put8(w, 0);                  /* specVersionMinor */
	put8(w, 2);                  /* specVersionMajor */
	put8(w, 0);                  /* specErrata */
	put8(w, 2);                  /* uintnSize: UINT64 */
	put32(w, n);
	for (uint32_t i = 0; i < n; i++) {
		put16(w, algs[i]);
		put16(w, sizes[i]);
	}
	put8(w, vendor);
	for (int i = 0; i < vendor; i++)
		put8(w, (uint8_t)('a' + i));
}

static const uint16_t two_algs[] = { FW_LOG_ALG_SHA256, FW_LOG_ALG_SHA384 };
static const uint16_t two_sizes[] = { 32, 48 };

/* A record with both digests (filled from seed), SHA-384 first if swap. */
static void record(struct builder *w, uint32_t pcr, uint32_t type,
		   uint8_t seed, bool swap, const void *data, uint32_t len)
{
	put32(w, pcr);
	put32(w, type);
	put32(w, 2);
	for (int k = 0; k < 2; k++) {
		int a = swap ? 1 - k : k;

		put16(w, two_algs[a]);
		for (int i = 0; i < two_sizes[a]; i++)
			put8(w, (uint8_t)(seed * 31 + a * 7 + i));
	}
	put32(w, len);
	put(w, data, len);
}

static const uint8_t locality3[17] = "StartupLocality\0\3";

/* Offsets of the synthetic log's records (filled by synthetic()). */
static size_t syn_at[8];

static void synthetic(struct builder *w, bool locality)
{
	static const uint8_t zero4[4] = { 0 };
	static const char action[] = "Calling EFI Application from Boot Option";
	static const char cmd[] = "grub_cmd: boot";
	int n = 0;

	w->len = 0;
	header(w, two_algs, two_sizes, 2, 0);
	if (locality) {
		syn_at[n++] = w->len;
		record(w, 0, NO_ACTION, 0, false, locality3, sizeof(locality3));
	}
	syn_at[n++] = w->len;
	record(w, 0, EV_S_CRTM_VERSION, 1, false, "1.0", 4);
	syn_at[n++] = w->len;
	record(w, 7, EV_SEPARATOR, 2, true, zero4, 4);
	syn_at[n++] = w->len;
	record(w, 4, EV_EFI_ACTION, 3, false, action, sizeof(action) - 1);
	syn_at[n++] = w->len;
	record(w, 0, EV_SEPARATOR, 4, true, zero4, 4);
	syn_at[n++] = w->len;
	record(w, 9, NO_ACTION, 5, false, "other", 5);
	syn_at[n++] = w->len;
	record(w, 23, EV_IPL, 6, false, cmd, sizeof(cmd));
}

/* tpm2_eventlog's (tpm2-tools 5.4) "pcrs:" for the synthetic logs, except
 * where it departs from the Firmware Profile: it extends EV_NO_ACTION
 * records (PCR 9 here, and the StartupLocality record) and ignores the
 * StartupLocality. So PCR 0 of the log with the locality-3 event is
 * computed by hand (python hashlib): H(H(0..03 || d1) || d4), and PCR 9,
 * holding only an EV_NO_ACTION record, must stay zero. */
static const struct {
	uint32_t pcr;
	bool locality;
	const char *sha256, *sha384;
} syn_want[] = {
	{ 0, false,
	  "a99c4a1d4d3ab0d3c6bb37e9f458c0a65aa8409ec57b8d8f6daeebd64e8c5f33",
	  "b593b2488253185750bd7c841383d1a3e6496661fc944935"
	  "494ea67cb9801a927084ac8d27d456f9a181de7c30f53cb4" },
	{ 0, true,
	  "b0d02ebc0359740613fe35e809fee82a1114eff85dcaf4f5a601aa505cba9c7c",
	  "1630a1ae67b98eb4b35153a297e42ab49f0fd1dfd1265203"
	  "d3ee306147e652bbaa146d984344d8a34d8d02d0a7f6262b" },
	{ 4, false,
	  "cec563758b67391347286c12e53a92713353ebb738cdc95261f8ec0e6b8e33bb",
	  "e40347ac9a21be5379c5b86912e5bd3cc594185774dce12c"
	  "f5258a282456e29757988632f7e8565fc9f98aa34bca4f1e" },
	{ 7, false,
	  "eb951e4a888d751a7a7189841f583eee61c63d243e34089f5313b7c6c07583ae",
	  "906b37d72f488c3817ac3af6dac2da3790e6a5fbd21f8077"
	  "686fc7aa000c427d8f1d8e235bbd65ca60c595e04035f3a8" },
	{ 23, false,
	  "7f08252b92ccc420bdcdb5a1a5ace6bf1c1277dc7748044f7d03cc3d1b5a995c",
	  "46eeb2e8c2358565a134e14c91c1bc3f4e2def3de61db265"
	  "308cc9288e7217d31a143d18ab7b2c1e7ea96e549c112237" },
};

static void test_synthetic_parse(void **state)
{
	struct builder w;
	struct fw_log_info info;
	struct fw_log_event ev;
	size_t off;
	char err[200];

	(void)state;
	for (int loc = 0; loc < 2; loc++) {
		synthetic(&w, loc);
		assert_int_equal(fw_log_parse(w.b, w.len, &info, err, sizeof(err)), 0);
		assert_int_equal(info.events, 6 + loc);
		assert_int_equal(info.alg_count, 2);
		assert_int_equal(info.has_startup_locality, loc);
		assert_int_equal(info.startup_locality, loc ? 3 : 0);
		off = info.header_len;
		/* The separator on PCR 7 lists SHA-384 first: digests[] still
		 * follows the header's order. */
		for (int i = 0; i < 2 + loc; i++)
			assert_int_equal(fw_log_next(w.b, w.len, &info, &off, &ev,
						     NULL, 0), 1);
		assert_int_equal(ev.pcr, 7);
		assert_int_equal(ev.type, EV_SEPARATOR);
		assert_ptr_equal(ev.digests[1], w.b + syn_at[1 + loc] + 14);
		assert_ptr_equal(ev.digests[0], w.b + syn_at[1 + loc] + 14 + 48 + 2);
		assert_int_equal(ev.data_len, 4);
	}
}

static void test_synthetic_replay(void **state)
{
	static uint8_t p256[FW_LOG_PCRS][FW_LOG_DIGEST_MAX];
	static uint8_t p384[FW_LOG_PCRS][FW_LOG_DIGEST_MAX];
	struct builder w;
	uint8_t d[48], zero[48] = { 0 };

	(void)state;
	for (int loc = 0; loc < 2; loc++) {
		synthetic(&w, loc);
		assert_int_equal(fw_log_replay(w.b, w.len, FW_LOG_ALG_SHA256,
					       sha256_fn, p256, NULL, 0), 0);
		assert_int_equal(fw_log_replay(w.b, w.len, FW_LOG_ALG_SHA384,
					       sha384_fn, p384, NULL, 0), 0);
		for (size_t i = 0; i < sizeof(syn_want) / sizeof(syn_want[0]); i++) {
			if (syn_want[i].pcr == 0 && syn_want[i].locality != loc)
				continue;
			hex_to(syn_want[i].sha256, d, 32);
			assert_memory_equal(p256[syn_want[i].pcr], d, 32);
			hex_to(syn_want[i].sha384, d, 48);
			assert_memory_equal(p384[syn_want[i].pcr], d, 48);
		}
		/* EV_NO_ACTION on PCR 9 extends nothing. */
		assert_memory_equal(p256[9], zero, 32);
		assert_memory_equal(p384[9], zero, 48);
	}
}

/* PCR 0 after a locality-3 startup, by hand: H(0..03 || d). */
static void test_locality_by_hand(void **state)
{
	static uint8_t pcrs[FW_LOG_PCRS][FW_LOG_DIGEST_MAX];
	uint8_t in[64] = { 0 }, want[32];
	struct builder w;

	(void)state;
	w.len = 0;
	header(&w, two_algs, two_sizes, 2, 0);
	record(&w, 0, NO_ACTION, 0, false, locality3, sizeof(locality3));
	record(&w, 0, EV_S_CRTM_VERSION, 1, false, "1.0", 4);
	in[31] = 3;
	for (int i = 0; i < 32; i++)
		in[32 + i] = (uint8_t)(31 + i);
	crypto_sha256(in, 64, want);
	assert_int_equal(fw_log_replay(w.b, w.len, FW_LOG_ALG_SHA256,
				       sha256_fn, pcrs, NULL, 0), 0);
	assert_memory_equal(pcrs[0], want, 32);
}

static void test_replay_missing_bank(void **state)
{
	static uint8_t pcrs[FW_LOG_PCRS][FW_LOG_DIGEST_MAX];
	struct builder w;
	char err[200];

	(void)state;
	synthetic(&w, false);
	memset(pcrs, 0x5a, sizeof(pcrs));
	assert_int_equal(fw_log_replay(w.b, w.len, FW_LOG_ALG_SHA1, sha256_fn,
				       pcrs, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "no bank of algorithm 0x0004"));
	w.b[w.len - 1] ^= 1;   /* still fine */
	w.len--;               /* truncated */
	assert_int_equal(fw_log_replay(w.b, w.len, FW_LOG_ALG_SHA256, sha256_fn,
				       pcrs, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "truncated"));
	for (size_t i = 0; i < sizeof(pcrs); i++)
		assert_int_equal(((uint8_t *)pcrs)[i], 0x5a);
}

static void test_header_changes(void **state)
{
	static const uint16_t nine[9] = { 4, 0xb, 0xc, 0xd, 0x12, 0x27, 0x28, 0x29, 0x2a };
	static const uint16_t nine_sizes[9] = { 20, 32, 48, 64, 32, 32, 48, 64, 32 };
	struct builder w;
	size_t hl;

	(void)state;
	synthetic(&w, false);
	hl = syn_at[0];
#define MUTATE(at, val, want) do { \
		synthetic(&w, false); w.b[at] = (uint8_t)(val); \
		expect_refused(w.b, w.len, want); \
	} while (0)
	MUTATE(0, 1, "not PCR 0 EV_NO_ACTION");
	MUTATE(4, 4, "not PCR 0 EV_NO_ACTION");
	MUTATE(8 + 19, 1, "digest is not zero");
	MUTATE(32 + 14, '4', "no Spec ID Event03");
	MUTATE(32 + 15, ' ', "no Spec ID Event03");
	MUTATE(32 + 20, 1, "spec version 2.1");
	MUTATE(32 + 21, 1, "spec version 1.0");
	MUTATE(32 + 23, 0, "uintnSize 0");
	MUTATE(32 + 23, 3, "uintnSize 3");
	MUTATE(32 + 24, 0, "0 algorithms");
	MUTATE(32 + 24, 9, "9 algorithms");
	MUTATE(32 + 27, 1, "16777218 algorithms");
	MUTATE(32 + 24, 3, "too short for 3 algorithms");
	MUTATE(32 + 24, 1, "37 bytes, its fields and vendor info make 45");
	MUTATE(hl - 1, 1, "its fields and vendor info make 38");
	MUTATE(28, 0xff, "255 bytes, its fields and vendor info make 37");
	MUTATE(29, 0xff, "truncated in its header event");
	MUTATE(31, 0x80, "truncated in its header event");
	MUTATE(28, 10, "no Spec ID Event03");
	MUTATE(32 + 30, 48, "algorithm 0x000b with 48-byte digests");
	MUTATE(32 + 34, 64, "algorithm 0x000c with 64-byte digests");
	synthetic(&w, false);
	w.b[32 + 32] = 0x0b;
	w.b[32 + 34] = 32;
	expect_refused(w.b, w.len, "algorithm 0x000b listed twice");
	/* An algorithm we do not know: any size 1..64 is taken as given. */
	MUTATE(32 + 28, 0x27, "event at offset");
	synthetic(&w, false);
	w.b[32 + 28] = 0x27;  /* SHA3-256, 32 bytes */
	for (int i = 0; i < 6; i++)
		w.b[syn_at[i] + 12 + (i == 1 || i == 3 ? 50 : 0)] = 0x27;
	assert_int_equal(fw_log_parse(w.b, w.len, &(struct fw_log_info){ 0 },
				      NULL, 0), 0);
	w.b[32 + 30] = 0;
	expect_refused(w.b, w.len, "algorithm 0x0027 with 0-byte digests");
	w.b[32 + 30] = 65;
	expect_refused(w.b, w.len, "algorithm 0x0027 with 65-byte digests");
#undef MUTATE
	/* Vendor info is skipped; 8 algorithms are fine, 9 are not. */
	w.len = 0;
	header(&w, two_algs, two_sizes, 2, 7);
	assert_int_equal(fw_log_parse(w.b, w.len, &(struct fw_log_info){ 0 },
				      NULL, 0), 0);
	w.len = 0;
	header(&w, nine, nine_sizes, 8, 0);
	assert_int_equal(fw_log_parse(w.b, w.len, &(struct fw_log_info){ 0 },
				      NULL, 0), 0);
	w.len = 0;
	header(&w, nine, nine_sizes, 9, 0);
	expect_refused(w.b, w.len, "9 algorithms (must be 1..8)");
	w.len = 0;
	header(&w, nine, nine_sizes, 0, 0);
	expect_refused(w.b, w.len, "0 algorithms");
	expect_refused(w.b, 0, "truncated");
	expect_refused(w.b, 31, "truncated");
}

static void test_event_changes(void **state)
{
	struct builder w;
	size_t e;

	(void)state;
#define MUTATE32(at, val, want) do { \
		synthetic(&w, false); store_le32(w.b + (at), (val)); \
		expect_refused(w.b, w.len, want); \
	} while (0)
	e = syn_at[2];      /* the EFI action on PCR 4, SHA-256 first */
	MUTATE32(e, 24, "PCR 24 does not exist");
	MUTATE32(e, 0xffffffff, "PCR 4294967295 does not exist");
	MUTATE32(e + 8, 1, "1 digests, the header lists 2");
	MUTATE32(e + 8, 3, "3 digests, the header lists 2");
	MUTATE32(e + 8, 0, "0 digests");
	MUTATE32(e + 8, 0xffffffff, "4294967295 digests");
	/* Digest algorithms: one not in the header, one twice. */
	synthetic(&w, false);
	store_le16(w.b + e + 12, FW_LOG_ALG_SHA1);
	expect_refused(w.b, w.len, "digest algorithm 0x0004 is not in the header");
	synthetic(&w, false);
	store_le16(w.b + e + 12 + 34, FW_LOG_ALG_SHA256);
	expect_refused(w.b, w.len, "two digests of algorithm 0x000b");
	/* The event size: past the end, by one and by far. */
	e = syn_at[5];      /* the last record */
	synthetic(&w, false);
	store_le32(w.b + e + 12 + 34 + 50, load_le32(w.b + e + 12 + 34 + 50) + 1);
	expect_refused(w.b, w.len, "left in the log");
	MUTATE32(e + 12 + 34 + 50, 0xffffffff, "4294967295 bytes of data");
	MUTATE32(e + 12 + 34 + 50, 0x80000000, "2147483648 bytes of data");
	/* An EV_NO_ACTION record still needs a real PCR. */
	MUTATE32(syn_at[4], 24, "PCR 24 does not exist");
#undef MUTATE32
}

static void test_startup_locality(void **state)
{
	static const uint8_t bad_len[18] = "StartupLocality\0\3";
	uint8_t loc[17];
	struct builder w;
	struct fw_log_info info;

	(void)state;
	/* Values 0, 3, 4 are taken; others refused. */
	memcpy(loc, locality3, sizeof(loc));
	for (int v = 0; v < 256; v++) {
		loc[16] = (uint8_t)v;
		w.len = 0;
		header(&w, two_algs, two_sizes, 2, 0);
		record(&w, 0, NO_ACTION, 0, false, loc, sizeof(loc));
		if (v == 0 || v == 3 || v == 4) {
			assert_int_equal(fw_log_parse(w.b, w.len, &info, NULL, 0), 0);
			assert_int_equal(info.startup_locality, v);
			assert_true(info.has_startup_locality);
		} else {
			expect_refused(w.b, w.len, "startup locality");
		}
	}
	/* Only on PCR 0, only with its 17 bytes. */
	w.len = 0;
	header(&w, two_algs, two_sizes, 2, 0);
	record(&w, 1, NO_ACTION, 0, false, locality3, sizeof(locality3));
	expect_refused(w.b, w.len, "StartupLocality event on PCR 1");
	w.len = 0;
	header(&w, two_algs, two_sizes, 2, 0);
	record(&w, 0, NO_ACTION, 0, false, bad_len, sizeof(bad_len));
	expect_refused(w.b, w.len, "with 18 bytes of data");
	/* Not twice, not after PCR 0 was extended. */
	w.len = 0;
	header(&w, two_algs, two_sizes, 2, 0);
	record(&w, 0, NO_ACTION, 0, false, locality3, sizeof(locality3));
	record(&w, 0, NO_ACTION, 0, false, locality3, sizeof(locality3));
	expect_refused(w.b, w.len, "after another one");
	w.len = 0;
	header(&w, two_algs, two_sizes, 2, 0);
	record(&w, 0, EV_S_CRTM_VERSION, 1, false, "1.0", 4);
	record(&w, 0, NO_ACTION, 0, false, locality3, sizeof(locality3));
	expect_refused(w.b, w.len, "after PCR 0 was extended");
	/* Other PCRs' extends before it, and other EV_NO_ACTION data, are fine. */
	w.len = 0;
	header(&w, two_algs, two_sizes, 2, 0);
	record(&w, 7, EV_SEPARATOR, 1, false, "\0\0\0", 4);
	record(&w, 0, NO_ACTION, 0, false, "StartupLocalit", 14);
	record(&w, 0, NO_ACTION, 0, false, locality3, sizeof(locality3));
	assert_int_equal(fw_log_parse(w.b, w.len, &info, NULL, 0), 0);
	assert_int_equal(info.events, 3);
	assert_int_equal(info.startup_locality, 3);
}

/* Random bytes after a valid header: refused or accepted, never a crash,
 * and the verdict does not depend on the error buffer. */
static void test_garbage(void **state)
{
	struct builder w;
	uint32_t x = 12345;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		struct fw_log_info a, b;
		char err[64];
		size_t n;
		int rc;

		w.len = 0;
		header(&w, two_algs, two_sizes, 2, 0);
		n = (size_t)(x % 300);
		for (size_t i = 0; i < n; i++) {
			x ^= x << 13; x ^= x >> 17; x ^= x << 5;
			put8(&w, (uint8_t)(i % 5 == 0 ? x % 3 : x));
		}
		rc = fw_log_parse(w.b, w.len, &a, err, sizeof(err));
		assert_int_equal(fw_log_parse(w.b, w.len, &b, NULL, 0), rc);
		if (rc == 0) {
			assert_int_equal(a.events, b.events);
			assert_int_equal(a.header_len, b.header_len);
		}
	}
}

static int write_file(const char *dir, const char *name, const uint8_t *b,
		      size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

static int write_seeds(const char *dir)
{
	struct builder w;
	int rc = 0;

	if (load_real(NULL) != 0)
		return 1;
	rc |= write_file(dir, "ovmf-grub", real, real_len);
	synthetic(&w, false);
	rc |= write_file(dir, "two-banks", w.b, w.len);
	synthetic(&w, true);
	rc |= write_file(dir, "two-banks-locality3", w.b, w.len);
	w.len = 0;
	header(&w, two_algs, two_sizes, 2, 3);
	rc |= write_file(dir, "header-only", w.b, w.len);
	return rc;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_parse),
		cmocka_unit_test(test_real_events),
		cmocka_unit_test(test_real_replay_sha256),
		cmocka_unit_test(test_real_replay_sha384),
		cmocka_unit_test(test_real_prefixes),
		cmocka_unit_test(test_real_trailing),
		cmocka_unit_test(test_real_loader_measured_kernel),
		cmocka_unit_test(test_synthetic_parse),
		cmocka_unit_test(test_synthetic_replay),
		cmocka_unit_test(test_locality_by_hand),
		cmocka_unit_test(test_replay_missing_bank),
		cmocka_unit_test(test_header_changes),
		cmocka_unit_test(test_event_changes),
		cmocka_unit_test(test_startup_locality),
		cmocka_unit_test(test_garbage),
	};

	exe_path = argv[0];
	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_seeds(argv[2]);
	return cmocka_run_group_tests(tests, load_real, NULL);
}
