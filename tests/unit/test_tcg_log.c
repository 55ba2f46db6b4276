/*
 * The measurement log as a TCG crypto-agile event log (tcb/tcg_log.c): the
 * Spec ID header byte for byte, TCG_PCR_EVENT2 records against bytes built
 * here independently of the encoder, the size function, refusal of a short
 * buffer with nothing claimed, and PCR replay against a hand-computed
 * extend chain.
 *
 * Run as `test_tcg_log --write FILE` it instead writes a sample log (one
 * event per measurement type, digest = SHA-384 of the description) to FILE,
 * prints the replayed PCRs 12 to 15 as "pcr<N> <hex>" and exits: the
 * integration test (tests/integration/test_eventlog.py) feeds that file to
 * tpm2_eventlog.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/measure.h"
#include "tcb/tcg_log.h"

/* The whole first event, written out by hand from the profile's
 * TCG_PCClientPCREvent and TCG_EfiSpecIdEvent definitions. */
static const uint8_t want_header[65] = {
	0x00, 0x00, 0x00, 0x00,                         /* pcrIndex 0 */
	0x03, 0x00, 0x00, 0x00,                         /* EV_NO_ACTION */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0,                   /* SHA-1 digest: zero */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0x21, 0x00, 0x00, 0x00,                         /* eventDataSize 33 */
	'S', 'p', 'e', 'c', ' ', 'I', 'D', ' ',         /* signature */
	'E', 'v', 'e', 'n', 't', '0', '3', 0x00,
	0x00, 0x00, 0x00, 0x00,                         /* platformClass */
	0x00, 0x02, 0x00, 0x02,                         /* 2.0 errata 0, UINT64 */
	0x01, 0x00, 0x00, 0x00,                         /* numberOfAlgorithms */
	0x0c, 0x00, 0x30, 0x00,                         /* SHA-384, 48 bytes */
	0x00,                                           /* vendorInfoSize */
};

/* Big enough for a full log of maximum-length descriptions. */
#define BIG (TCG_HEADER_LEN + MEASURE_MAX_EVENTS * (TCG_EVENT2_FIXED_LEN + MEASURE_DESC_MAX))

static uint8_t buf[BIG + 64];

static void digest_of(uint8_t d[MEASURE_DIGEST_LEN], uint8_t seed)
{
	for (int i = 0; i < MEASURE_DIGEST_LEN; i++)
		d[i] = (uint8_t)(seed * 7 + i);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* An independent TCG_PCR_EVENT2 writer for expected bytes: the record as
 * the profile lays it out, field by field. */
static size_t want_event(uint8_t *p, uint32_t pcr, const uint8_t digest[48],
			 const char *desc)
{
	uint32_t n = (uint32_t)strlen(desc) + 1;
	uint8_t fixed[14] = {
		(uint8_t)pcr, (uint8_t)(pcr >> 8), 0, 0,   /* pcrIndex */
		0x0d, 0, 0, 0,                             /* EV_IPL */
		1, 0, 0, 0,                                /* digests.count */
		0x0c, 0,                                   /* TPM_ALG_SHA384 */
	};

	memcpy(p, fixed, sizeof(fixed));
	memcpy(p + 14, digest, 48);
	p[62] = (uint8_t)n;
	p[63] = (uint8_t)(n >> 8);
	p[64] = 0;
	p[65] = 0;
	memcpy(p + 66, desc, n);
	return 66 + n;
}

static void test_empty_log_is_the_header(void **state)
{
	(void)state;
	struct measure_log log;
	size_t len = 99;

	measure_log_init(&log);
	assert_int_equal(tcg_log_size(&log), sizeof(want_header));
	assert_int_equal(tcg_log_encode(&log, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, sizeof(want_header));
	assert_memory_equal(buf, want_header, sizeof(want_header));
}

/* Each field at its offset, read back as the profile defines it. */
static void test_header_fields(void **state)
{
	(void)state;
	struct measure_log log;
	uint8_t zero[20] = { 0 };
	size_t len;

	measure_log_init(&log);
	assert_int_equal(tcg_log_encode(&log, buf, sizeof(buf), &len), 0);
	assert_int_equal(le32(buf + 0), 0);            /* pcrIndex */
	assert_int_equal(le32(buf + 4), 3);            /* EV_NO_ACTION */
	assert_memory_equal(buf + 8, zero, 20);        /* digest */
	assert_int_equal(le32(buf + 28), 33);          /* eventDataSize */
	assert_memory_equal(buf + 32, "Spec ID Event03", 16);
	assert_int_equal(le32(buf + 48), 0);           /* platformClass */
	assert_int_equal(buf[52], 0);                  /* specVersionMinor */
	assert_int_equal(buf[53], 2);                  /* specVersionMajor */
	assert_int_equal(buf[54], 0);                  /* specErrata */
	assert_int_equal(buf[55], 2);                  /* uintnSize: UINT64 */
	assert_int_equal(le32(buf + 56), 1);           /* numberOfAlgorithms */
	assert_int_equal(le16(buf + 60), 0x000c);      /* algorithmId */
	assert_int_equal(le16(buf + 62), 48);          /* digestSize */
	assert_int_equal(buf[64], 0);                  /* vendorInfoSize */
	assert_int_equal(len, 65);
	assert_int_equal(28 + 4 + le32(buf + 28), len);
}

static void test_one_event(void **state)
{
	(void)state;
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN], want[256];
	size_t len, n;

	measure_log_init(&log);
	digest_of(d, 1);
	assert_int_equal(measure_log_append(&log, MEASURE_HV_IMAGE, d, "custos.elf"), 0);
	memcpy(want, want_header, sizeof(want_header));
	n = sizeof(want_header) + want_event(want + sizeof(want_header), 12, d, "custos.elf");
	assert_int_equal(n, 65 + 66 + 11);
	assert_int_equal(tcg_log_encode(&log, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(buf, want, n);
	/* The same record read by offset. */
	assert_int_equal(le32(buf + 65), 12);
	assert_int_equal(le32(buf + 69), 0x0d);
	assert_int_equal(le32(buf + 73), 1);
	assert_int_equal(le16(buf + 77), 0x000c);
	assert_memory_equal(buf + 79, d, 48);
	assert_int_equal(le32(buf + 127), 11);
	assert_memory_equal(buf + 131, "custos.elf", 11);
}

/* One event of every type, in the order and with the descriptions the
 * hypervisor uses (hv/main.c, hv/tpgvm.c). */
static const struct {
	enum measure_type type;
	unsigned pcr;
	const char *desc;
} sample[] = {
	{ MEASURE_HV_IMAGE,     12, "custos.elf text+rodata" },
	{ MEASURE_HV_CMDLINE,   12, "kernel command line" },
	{ MEASURE_CA_ROOT,      13, "compiled-in CA root" },
	{ MEASURE_TPGVM_IMAGE,  14, "tpgvm image" },
	{ MEASURE_TPGVM_POLICY, 14, "tpgvm policy" },
	{ MEASURE_BOOT_VM,      15, "boot vm hello" },
};

static void test_several_events(void **state)
{
	(void)state;
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN];
	static uint8_t want[BIG];
	size_t len, n = sizeof(want_header);

	measure_log_init(&log);
	memcpy(want, want_header, n);
	for (size_t i = 0; i < ARRAY_SIZE(sample); i++) {
		digest_of(d, (uint8_t)(i + 1));
		assert_int_equal(measure_log_append(&log, sample[i].type, d, sample[i].desc), 0);
		n += want_event(want + n, sample[i].pcr, d, sample[i].desc);
	}
	assert_int_equal(tcg_log_size(&log), n);
	assert_int_equal(tcg_log_encode(&log, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(buf, want, n);
}

static void test_pcr_and_type_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(sample); i++) {
		assert_int_equal(tcg_log_pcr(sample[i].type), sample[i].pcr);
		assert_int_equal(tcg_log_event_type(sample[i].type), TCG_EV_IPL);
	}
	assert_int_equal(tcg_log_pcr(0), -1);
	assert_int_equal(tcg_log_pcr(MEASURE_BOOT_VM), TCG_PCR_BOOT_VM);
	assert_int_equal(TCG_PCR_BOOT_VM, 15);
	assert_int_equal(tcg_log_pcr(7), -1);
	assert_int_equal(tcg_log_pcr(0xffffffffu), -1);
}

/* The size is what encode writes, for every log length and description
 * length (0 to the maximum). */
static void test_size_agrees_with_encode(void **state)
{
	(void)state;
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN];
	char desc[MEASURE_DESC_MAX];
	size_t len, want = TCG_HEADER_LEN;

	measure_log_init(&log);
	for (int i = 0; i < MEASURE_MAX_EVENTS; i++) {
		size_t dl = (size_t)(i * 5) % MEASURE_DESC_MAX;

		memset(desc, 'a' + i % 26, dl);
		desc[dl] = '\0';
		digest_of(d, (uint8_t)i);
		assert_int_equal(measure_log_append(&log, (enum measure_type)(1 + i % 5), d,
						    desc), 0);
		want += 66 + strlen(log.events[i].desc) + 1;
		assert_int_equal(tcg_log_size(&log), want);
		assert_int_equal(tcg_log_encode(&log, buf, sizeof(buf), &len), 0);
		assert_int_equal(len, want);
	}
}

/* A buffer one byte short: refused, nothing written, nothing claimed. */
static void test_short_buffer_refused(void **state)
{
	(void)state;
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN];
	size_t need, len = 12345;

	measure_log_init(&log);
	for (size_t i = 0; i < ARRAY_SIZE(sample); i++) {
		digest_of(d, (uint8_t)i);
		assert_int_equal(measure_log_append(&log, sample[i].type, d, sample[i].desc), 0);
	}
	need = tcg_log_size(&log);
	memset(buf, 0xa5, sizeof(buf));
	assert_int_equal(tcg_log_encode(&log, buf, need - 1, &len), -1);
	assert_int_equal(len, 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xa5);
	/* No buffer at all, and an empty log into a header-minus-one buffer. */
	len = 1;
	assert_int_equal(tcg_log_encode(&log, NULL, 0, &len), -1);
	assert_int_equal(len, 0);
	measure_log_init(&log);
	len = 1;
	assert_int_equal(tcg_log_encode(&log, buf, TCG_HEADER_LEN - 1, &len), -1);
	assert_int_equal(len, 0);
	assert_int_equal(buf[0], 0xa5);
	/* Exactly enough is enough. */
	assert_int_equal(tcg_log_encode(&log, buf, TCG_HEADER_LEN, &len), 0);
	assert_int_equal(len, TCG_HEADER_LEN);
}

/* A full log of 63-character descriptions, and one whose description lost
 * its NUL: both bounded to 63 bytes of text plus the NUL. */
static void test_max_length_descriptions(void **state)
{
	(void)state;
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN];
	char longdesc[MEASURE_DESC_MAX + 10];
	size_t len, off;

	memset(longdesc, 'x', sizeof(longdesc) - 1);
	longdesc[sizeof(longdesc) - 1] = '\0';
	measure_log_init(&log);
	digest_of(d, 3);
	for (int i = 0; i < MEASURE_MAX_EVENTS; i++)
		assert_int_equal(measure_log_append(&log, MEASURE_HV_CMDLINE, d, longdesc), 0);
	memset(log.events[MEASURE_MAX_EVENTS - 1].desc, 'y', MEASURE_DESC_MAX);
	assert_int_equal(tcg_log_size(&log), 65 + MEASURE_MAX_EVENTS * (66 + 64));
	assert_int_equal(tcg_log_encode(&log, buf, sizeof(buf), &len), 0);
	assert_int_equal(len, 65 + MEASURE_MAX_EVENTS * (66 + 64));
	off = 65;
	for (int i = 0; i < MEASURE_MAX_EVENTS; i++, off += 66 + 64) {
		char c = i == MEASURE_MAX_EVENTS - 1 ? 'y' : 'x';

		assert_int_equal(le32(buf + off + 62), 64);
		for (int j = 0; j < 63; j++)
			assert_int_equal(buf[off + 66 + j], c);
		assert_int_equal(buf[off + 66 + 63], 0);
	}
}

/* Logs measure_log_append cannot produce: refused by all three entry points. */
static void test_corrupt_log_refused(void **state)
{
	(void)state;
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN] = { 0 }, pcr[48];
	size_t len = 1;

	measure_log_init(&log);
	assert_int_equal(measure_log_append(&log, MEASURE_CA_ROOT, d, "root"), 0);
	log.events[0].type = 77;
	assert_int_equal(tcg_log_size(&log), 0);
	assert_int_equal(tcg_log_encode(&log, buf, sizeof(buf), &len), -1);
	assert_int_equal(len, 0);
	memset(pcr, 0xff, sizeof(pcr));
	assert_int_equal(tcg_log_replay(&log, crypto_sha384, 9, pcr), -1);
	assert_memory_equal(pcr, (uint8_t[48]){ 0 }, 48);
	log.events[0].type = MEASURE_CA_ROOT;
	log.count = MEASURE_MAX_EVENTS + 1;
	assert_int_equal(tcg_log_size(&log), 0);
	assert_int_equal(tcg_log_encode(&log, buf, sizeof(buf), &len), -1);
	assert_int_equal(tcg_log_replay(&log, crypto_sha384, 9, pcr), -1);
}

/* SHA-384 of 96 zero bytes (Python hashlib): a zero digest extended into a
 * fresh PCR. Pins the extend input to old value first, then the digest. */
static const uint8_t extend_zero_zero[48] = {
	0xf5, 0x7b, 0xb7, 0xed, 0x82, 0xc6, 0xae, 0x4a, 0x29, 0xe6, 0xc9, 0x87,
	0x93, 0x38, 0xc5, 0x92, 0xc7, 0xd4, 0x2a, 0x39, 0x13, 0x55, 0x83, 0xe8,
	0xcc, 0xbe, 0x39, 0x40, 0xf2, 0x34, 0x4b, 0x0e, 0xb6, 0xeb, 0x85, 0x03,
	0xdb, 0x0f, 0xfd, 0x6a, 0x39, 0xdd, 0xd0, 0x0c, 0xd0, 0x7d, 0x83, 0x17,
};

static void hand_extend(uint8_t pcr[48], const uint8_t digest[48])
{
	uint8_t cat[96];

	memcpy(cat, pcr, 48);
	memcpy(cat + 48, digest, 48);
	crypto_sha384(cat, sizeof(cat), pcr);
}

static void test_replay(void **state)
{
	(void)state;
	struct measure_log log;
	uint8_t d[5][MEASURE_DIGEST_LEN], got[48], want[48];

	measure_log_init(&log);
	memset(d[0], 0, sizeof(d[0]));
	assert_int_equal(measure_log_append(&log, MEASURE_HV_IMAGE, d[0], "zero"), 0);
	assert_int_equal(tcg_log_replay(&log, crypto_sha384, 12, got), 0);
	assert_memory_equal(got, extend_zero_zero, 48);

	for (int i = 1; i < 5; i++)
		digest_of(d[i], (uint8_t)(i + 10));
	assert_int_equal(measure_log_append(&log, MEASURE_TPGVM_IMAGE, d[1], "a"), 0);
	assert_int_equal(measure_log_append(&log, MEASURE_HV_CMDLINE, d[2], "b"), 0);
	assert_int_equal(measure_log_append(&log, MEASURE_TPGVM_POLICY, d[3], "c"), 0);
	assert_int_equal(measure_log_append(&log, MEASURE_CA_ROOT, d[4], "d"), 0);

	/* PCR 12: zero digest, then d[2]. */
	memcpy(want, extend_zero_zero, 48);
	hand_extend(want, d[2]);
	assert_int_equal(tcg_log_replay(&log, crypto_sha384, 12, got), 0);
	assert_memory_equal(got, want, 48);
	/* PCR 13: d[4] alone. */
	memset(want, 0, 48);
	hand_extend(want, d[4]);
	assert_int_equal(tcg_log_replay(&log, crypto_sha384, 13, got), 0);
	assert_memory_equal(got, want, 48);
	/* PCR 14: d[1] then d[3]; order matters. */
	memset(want, 0, 48);
	hand_extend(want, d[1]);
	hand_extend(want, d[3]);
	assert_int_equal(tcg_log_replay(&log, crypto_sha384, 14, got), 0);
	assert_memory_equal(got, want, 48);
	memset(want, 0, 48);
	hand_extend(want, d[3]);
	hand_extend(want, d[1]);
	assert_memory_not_equal(got, want, 48);
	/* A PCR with no events stays zero. */
	memset(got, 0xff, sizeof(got));
	assert_int_equal(tcg_log_replay(&log, crypto_sha384, 23, got), 0);
	assert_memory_equal(got, (uint8_t[48]){ 0 }, 48);
}

/* ---- --write FILE: the sample log for tpm2_eventlog ------------------------ */

static int write_sample(const char *path)
{
	struct measure_log log;
	uint8_t d[MEASURE_DIGEST_LEN], pcr[48];
	size_t len;
	FILE *f;

	measure_log_init(&log);
	for (size_t i = 0; i < ARRAY_SIZE(sample); i++) {
		crypto_sha384(sample[i].desc, strlen(sample[i].desc), d);
		if (measure_log_append(&log, sample[i].type, d, sample[i].desc) != 0)
			return 1;
	}
	if (tcg_log_encode(&log, buf, sizeof(buf), &len) != 0)
		return 1;
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		return 1;
	}
	for (unsigned p = TCG_PCR_HV; p <= TCG_PCR_BOOT_VM; p++) {
		if (tcg_log_replay(&log, crypto_sha384, p, pcr) != 0)
			return 1;
		printf("pcr%u ", p);
		for (int i = 0; i < 48; i++)
			printf("%02x", pcr[i]);
		printf("\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_log_is_the_header),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_one_event),
		cmocka_unit_test(test_several_events),
		cmocka_unit_test(test_pcr_and_type_table),
		cmocka_unit_test(test_size_agrees_with_encode),
		cmocka_unit_test(test_short_buffer_refused),
		cmocka_unit_test(test_max_length_descriptions),
		cmocka_unit_test(test_corrupt_log_refused),
		cmocka_unit_test(test_replay),
	};

	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_sample(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
