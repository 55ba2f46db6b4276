/*
 * The TIS and CRB drivers (hv/tpm_tis.c, hv/tpm_crb.c) against a simulated
 * TPM behind the bus (hv/tpm_bus.h): the exchange a well-behaved device
 * sees, and every way a broken or hostile one can answer - never granting
 * the locality, a burst count stuck at 0, taking the command as complete
 * too early, never answering, a response longer or shorter than its
 * header says, more bytes than the response, buffers outside the mapped
 * page, the error bit. Each must end in -1 with a reason, within the
 * simulated deadline, and leave the locality given back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "hv/tpm_bus.h"

enum fault {
	OK = 0,
	NEVER_GRANT,     /* the locality is never granted */
	BURST_ZERO,      /* burstCount stays 0 */
	EXPECT_EARLY,    /* Expect clears after the first burst */
	NEVER_RESPOND,   /* no dataAvail / CTRL_START never clears */
	EXTRA_DATA,      /* dataAvail stays after the response */
	ERROR_BIT,       /* CRB: CTRL_STS.tpmSts */
};

static struct sim {
	bool crb;
	enum fault fault;
	uint64_t clock;
	/* TIS */
	bool granted, ready, go;
	uint8_t cmd[4096], sent[4096]; /* being written; as sent */
	size_t cmd_len, sent_len;
	uint8_t rsp[4096];
	size_t rsp_len, rsp_pos;
	/* CRB */
	bool idle, started;
	uint64_t cmd_addr, rsp_addr;
	uint32_t cmd_size, rsp_size;
	uint8_t page[0x1000];
} sim;

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- the simulated TIS --------------------------------------------------- */

static bool cmd_complete(void)
{
	return sim.cmd_len >= 10 && sim.cmd_len >= be32(sim.cmd + 2);
}

static uint32_t tis_sts(void)
{
	uint32_t sts = 0x80u | 1u << 26, burst = 8;

	if (sim.fault == BURST_ZERO)
		burst = 0;
	if (sim.ready && !sim.go) {
		sts |= 0x40;
		if (sim.cmd_len && !cmd_complete() &&
		    !(sim.fault == EXPECT_EARLY && sim.cmd_len >= 8))
			sts |= 0x08;
	}
	if (sim.go && sim.fault != NEVER_RESPOND) {
		size_t left = sim.rsp_len - sim.rsp_pos;

		if (left || sim.fault == EXTRA_DATA)
			sts |= 0x10;
		burst = left < burst ? (uint32_t)left : burst;
	}
	return sts | burst << 8;
}

static uint8_t sim_read8(void *ctx, uint32_t off)
{
	(void)ctx;
	if (sim.crb)
		return off >= 0x80 && off < 0x1000 ? sim.page[off] : 0xff;
	if (off == 0x000)
		return (uint8_t)(0x80 | (sim.granted ? 0x20 : 0));
	if (off == 0x024)
		return sim.rsp_pos < sim.rsp_len ? sim.rsp[sim.rsp_pos++] : 0x5a;
	return 0xff;
}

static uint32_t sim_read32(void *ctx, uint32_t off)
{
	(void)ctx;
	if (!sim.crb) {
		switch (off) {
		case 0x018: return tis_sts();
		case 0x030: return 0x0;        /* FIFO interface */
		case 0xf00: return 0x00011014; /* IBM (swtpm) */
		default:    return 0xffffffffu;
		}
	}
	switch (off) {
	case 0x0c: return sim.granted ? 1 : 0;
	case 0x30: return 0x1;           /* CRB interface */
	case 0x40: return 0;
	case 0x44: return (sim.idle ? 2u : 0u) | (sim.fault == ERROR_BIT ? 1u : 0u);
	case 0x4c: return sim.started ? 1 : 0;
	case 0x58: return sim.cmd_size;
	case 0x5c: return (uint32_t)sim.cmd_addr;
	case 0x60: return (uint32_t)(sim.cmd_addr >> 32);
	case 0x64: return sim.rsp_size;
	case 0x68: return (uint32_t)sim.rsp_addr;
	case 0x6c: return (uint32_t)(sim.rsp_addr >> 32);
	case 0xf00: return 0xffffffffu;
	default:   return off >= 0x80 && off < 0x1000 ? 0 : 0xffffffffu;
	}
}

static void sim_write8(void *ctx, uint32_t off, uint8_t v)
{
	(void)ctx;
	if (sim.crb) {
		if (off >= 0x80 && off < 0x1000)
			sim.page[off] = v;
		return;
	}
	if (off == 0x000 && v == 0x02)
		sim.granted = sim.fault != NEVER_GRANT;
	else if (off == 0x000 && v == 0x20)
		sim.granted = false;
	else if (off == 0x024 && sim.ready && sim.cmd_len < sizeof(sim.cmd))
		sim.cmd[sim.cmd_len++] = v;
}

static void crb_start(void)
{
	uint32_t at = (uint32_t)(sim.cmd_addr - TPM_WINDOW_BASE);

	sim.sent_len = be32(sim.page + at + 2);
	memcpy(sim.sent, sim.page + at, sim.sent_len);
	memcpy(sim.page + (sim.rsp_addr - TPM_WINDOW_BASE), sim.rsp, sim.rsp_len);
	sim.started = sim.fault == NEVER_RESPOND;
}

static void sim_write32(void *ctx, uint32_t off, uint32_t v)
{
	(void)ctx;
	if (!sim.crb) {
		if (off == 0x018 && v == 0x40) {
			sim.ready = true;
			sim.go = false;
			sim.cmd_len = 0;
		} else if (off == 0x018 && v == 0x20 && sim.ready) {
			sim.go = true;
			memcpy(sim.sent, sim.cmd, sim.cmd_len);
			sim.sent_len = sim.cmd_len;
		}
		return;
	}
	if (off == 0x08)
		sim.granted = v == 1 ? sim.fault != NEVER_GRANT : v == 2 ? false : sim.granted;
	else if (off == 0x40)
		sim.idle = v == 2;
	else if (off == 0x4c && v == 1)
		crb_start();
}

static uint64_t sim_now(void *ctx)
{
	(void)ctx;
	sim.clock += 1000; /* each look at the clock costs 1 ms */
	return sim.clock;
}

static const struct tpm_bus bus = {
	.read8 = sim_read8, .read32 = sim_read32,
	.write8 = sim_write8, .write32 = sim_write32, .now_us = sim_now,
};

/* A TPM2_Startup and a 12-byte response whose size field says rsp_size. */
static const uint8_t startup[12] = {
	0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0,
};

static void setup(bool crb, enum fault f, uint32_t rsp_size_field, size_t rsp_len)
{
	memset(&sim, 0, sizeof(sim));
	sim.crb = crb;
	sim.fault = f;
	sim.idle = true;
	sim.cmd_addr = sim.rsp_addr = TPM_WINDOW_BASE + 0x80;
	sim.cmd_size = sim.rsp_size = 0xf80;
	sim.rsp_len = rsp_len;
	for (size_t i = 0; i < rsp_len; i++)
		sim.rsp[i] = (uint8_t)(0xa0 + i);
	sim.rsp[0] = 0x80;
	sim.rsp[1] = 0x01;
	sim.rsp[2] = (uint8_t)(rsp_size_field >> 24);
	sim.rsp[3] = (uint8_t)(rsp_size_field >> 16);
	sim.rsp[4] = (uint8_t)(rsp_size_field >> 8);
	sim.rsp[5] = (uint8_t)rsp_size_field;
}

static int transmit(uint8_t *rsp, size_t cap, size_t *len, char *err)
{
	int rc = sim.crb ? tpm_crb_transmit(&bus, startup, sizeof(startup), rsp,
					    cap, len, err, 160)
			 : tpm_tis_transmit(&bus, startup, sizeof(startup), rsp,
					    cap, len, err, 160);

	/* Whatever happened, locality 0 is given back. */
	assert_false(sim.granted);
	return rc;
}

static void expect_refused(bool crb, enum fault f, uint32_t size_field,
			   size_t rsp_len, size_t cap, const char *why)
{
	uint8_t rsp[64];
	char err[160] = "";
	size_t len = 99;

	setup(crb, f, size_field, rsp_len);
	assert_int_equal(transmit(rsp, cap, &len, err), -1);
	assert_int_equal(len, 0);
	if (!strstr(err, why))
		fail_msg("%s: '%s' does not say '%s'", crb ? "CRB" : "TIS", err, why);
	/* Bounded: no deadline above 30 s of simulated time was passed by much. */
	assert_true(sim.clock < 31ull * 1000 * 1000);
}

static void exchange_ok(bool crb)
{
	uint8_t rsp[64];
	char err[160] = "";
	size_t len = 0;

	setup(crb, OK, 21, 21);
	assert_int_equal(transmit(rsp, sizeof(rsp), &len, err), 0);
	assert_string_equal(err, "");
	assert_int_equal(len, 21);
	assert_memory_equal(rsp, sim.rsp, 21);
	assert_int_equal(sim.sent_len, sizeof(startup));
	assert_memory_equal(sim.sent, startup, sizeof(startup));
}

static void test_tis_exchange(void **state)
{
	(void)state;
	exchange_ok(false);
}

static void test_crb_exchange(void **state)
{
	(void)state;
	exchange_ok(true);
}

static void test_tis_refusals(void **state)
{
	(void)state;
	expect_refused(false, NEVER_GRANT, 12, 12, 64, "locality 0 not granted");
	expect_refused(false, BURST_ZERO, 12, 12, 64, "burst count stayed 0");
	expect_refused(false, EXPECT_EARLY, 12, 12, 64, "took the command as complete");
	expect_refused(false, NEVER_RESPOND, 12, 12, 64, "no response within");
	expect_refused(false, EXTRA_DATA, 12, 12, 64, "more data than the 12-byte response");
	expect_refused(false, OK, 65, 65, 64, "response claims 65 bytes");
	expect_refused(false, OK, 9, 12, 64, "response claims 9 bytes");
	expect_refused(false, OK, 0xffffffffu, 12, 64, "response claims");
	/* The header promises more than the TPM has. */
	expect_refused(false, OK, 40, 12, 64, "burst count stayed 0 after 2 of 30");
	expect_refused(false, OK, 12, 12, 9, "");
}

static void test_crb_refusals(void **state)
{
	(void)state;
	expect_refused(true, NEVER_GRANT, 12, 12, 64, "locality 0 not granted");
	expect_refused(true, NEVER_RESPOND, 12, 12, 64, "no response within");
	expect_refused(true, ERROR_BIT, 12, 12, 64, "fatal error");
	expect_refused(true, OK, 65, 65, 64, "response claims 65 bytes");
	expect_refused(true, OK, 5, 12, 64, "response claims 5 bytes");
	expect_refused(true, OK, 12, 12, 9, "no room for a response");
}

/* Buffer addresses are input: each must lie wholly in locality 0's page
 * after the registers. */
static void test_crb_buffers_outside_the_page(void **state)
{
	static const struct {
		uint64_t cmd, rsp;
		uint32_t cmd_size, rsp_size;
	} bad[] = {
		{ TPM_WINDOW_BASE, TPM_WINDOW_BASE + 0x80, 0xf80, 0xf80 },
		{ TPM_WINDOW_BASE + 0x80, TPM_WINDOW_BASE + 0x40, 0xf80, 0xf80 },
		{ TPM_WINDOW_BASE + 0x80, TPM_WINDOW_BASE + 0x80, 0xf81, 0xf80 },
		{ TPM_WINDOW_BASE + 0x80, TPM_WINDOW_BASE + 0x80, 0xf80, 0xffffffffu },
		{ 0x1000, TPM_WINDOW_BASE + 0x80, 0x100, 0xf80 },
		{ TPM_WINDOW_BASE + 0x1000, TPM_WINDOW_BASE + 0x80, 0, 0xf80 },
		{ TPM_WINDOW_BASE + 0x80 + (1ull << 32), TPM_WINDOW_BASE + 0x80, 0x100, 0xf80 },
		{ UINT64_MAX, TPM_WINDOW_BASE + 0x80, 0x100, 0xf80 },
	};
	uint8_t rsp[64];
	char err[160];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setup(true, OK, 12, 12);
		sim.cmd_addr = bad[i].cmd;
		sim.rsp_addr = bad[i].rsp;
		sim.cmd_size = bad[i].cmd_size;
		sim.rsp_size = bad[i].rsp_size;
		err[0] = 0;
		assert_int_equal(transmit(rsp, sizeof(rsp), &len, err), -1);
		if (!strstr(err, "outside locality 0's page"))
			fail_msg("case %zu: '%s'", i, err);
	}
	/* A command larger than the TPM's buffer. */
	setup(true, OK, 12, 12);
	sim.cmd_size = sim.rsp_size = 11;
	assert_int_equal(transmit(rsp, sizeof(rsp), &len, err), -1);
	assert_non_null(strstr(err, "does not fit the 11-byte buffer"));
}

static void test_detect(void **state)
{
	char err[160] = "";

	(void)state;
	setup(false, OK, 12, 12);
	assert_int_equal(tpm_detect(&bus, err, sizeof(err)), TPM_IF_TIS);
	setup(true, OK, 12, 12);
	assert_int_equal(tpm_detect(&bus, err, sizeof(err)), TPM_IF_CRB);
}

/* Nothing there: every read all-ones (Bochs) or all-zero. */
static uint8_t ones8(void *c, uint32_t o) { (void)c; (void)o; return 0xff; }
static uint32_t ones32(void *c, uint32_t o) { (void)c; (void)o; return 0xffffffffu; }
static uint8_t zero8(void *c, uint32_t o) { (void)c; (void)o; return 0; }
static uint32_t zero32(void *c, uint32_t o) { (void)c; (void)o; return 0; }
/* A TIS 1.3 TPM of the 1.2 family. */
static uint32_t tpm12_32(void *c, uint32_t o)
{
	(void)c;
	return o == 0xf00 ? 0x000b15d1 : o == 0x30 ? 0xffffffffu : 0x80u;
}
static uint32_t odd_iface32(void *c, uint32_t o)
{
	(void)c;
	return o == 0xf00 ? 0x000b15d1 : o == 0x30 ? 0x7u : 0x80u;
}

static void test_detect_nothing_usable(void **state)
{
	struct tpm_bus b = bus;
	char err[160];

	(void)state;
	b.read8 = ones8;
	b.read32 = ones32;
	assert_int_equal(tpm_detect(&b, err, sizeof(err)), TPM_IF_NONE);
	assert_string_equal(err, "no TPM at 0xfed40000 (DID_VID reads 0xffffffff)");
	b.read8 = zero8;
	b.read32 = zero32;
	assert_int_equal(tpm_detect(&b, err, sizeof(err)), TPM_IF_NONE);
	assert_string_equal(err, "no TPM at 0xfed40000 (DID_VID reads 0)");
	b.read32 = tpm12_32;
	assert_int_equal(tpm_detect(&b, err, sizeof(err)), TPM_IF_NONE);
	assert_non_null(strstr(err, "not of the TPM 2.0 family"));
	b.read32 = odd_iface32;
	assert_int_equal(tpm_detect(&b, err, sizeof(err)), TPM_IF_NONE);
	assert_non_null(strstr(err, "unknown interface type 0x7"));
}

/* Commands the drivers will not send at all. */
static void test_command_lengths(void **state)
{
	uint8_t rsp[64], big[4097] = { 0 };
	char err[160];
	size_t len;

	(void)state;
	setup(false, OK, 12, 12);
	assert_int_equal(tpm_tis_transmit(&bus, startup, 9, rsp, sizeof(rsp), &len,
					  err, sizeof(err)), -1);
	assert_int_equal(tpm_tis_transmit(&bus, big, sizeof(big), rsp, sizeof(rsp),
					  &len, err, sizeof(err)), -1);
	setup(true, OK, 12, 12);
	assert_int_equal(tpm_crb_transmit(&bus, startup, 0, rsp, sizeof(rsp), &len,
					  err, sizeof(err)), -1);
	assert_int_equal(sim.sent_len, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tis_exchange),
		cmocka_unit_test(test_crb_exchange),
		cmocka_unit_test(test_tis_refusals),
		cmocka_unit_test(test_crb_refusals),
		cmocka_unit_test(test_crb_buffers_outside_the_page),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_detect_nothing_usable),
		cmocka_unit_test(test_command_lengths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
