/*
 * Tests of the vCPU context inside sealed blobs (hv/vcpu_context.c,
 * docs/lifecycle.md "The vCPU context"): the byte layout, the round trip,
 * the refusal of the version-1 layout and of every value whose restore
 * would fault the TCB, and that a refusal writes nothing.
 *
 * Run as `test_vcpu_context --write DIR` it writes the fuzzer's seeds
 * (tests/fuzz/corpus/vcpu_context/) instead.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "hv/vcpu_context.h"
#include "tcb/byteorder.h"
#include "guarded.h"
#include "seed_file.h"

#define XSAVE_SIZE 832u /* x87, SSE, AVX: Bochs' Skylake-X */
#define DEV VPLATFORM_SAVE_SIZE
#define LEN (16u + 120u + 8u * 57u + 8u * 13u + 8u + DEV + XSAVE_SIZE)
/* Where the XSAVE image starts: after the TSC and the devices. */
#define OFF_X (696u + 8u + DEV)

static const struct vcpu_context_cpu cpu = {
	.xsave_size = XSAVE_SIZE,
	.xsave = true,
	.xcr0 = 0x7,
	.mxcsr_mask = 0xffff,
	.linear_bits = 48,
	.spec_ctrl_bits = 0x7, /* IBRS, STIBP, SSBD */
};

struct sample {
	struct guest_gprs gprs;
	struct vcpu_sysregs sys;
	uint64_t vmcs[VCPU_CONTEXT_STATE_WORDS];
	struct vcpu_context_platform plat;
	uint8_t xsave[4096];
};

/* Every register a distinct value that decode accepts. */
static void fill(struct sample *s)
{
	uint64_t *g = (uint64_t *)&s->gprs;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < sizeof(s->gprs) / 8; i++)
		g[i] = 0x1111000000000000ull + i;
	for (size_t i = 0; i < VCPU_CONTEXT_STATE_WORDS; i++)
		s->vmcs[i] = 0x2222000000000000ull + i;
	s->sys = (struct vcpu_sysregs){
		.cr2 = 0xdead0000beef0000ull,
		.dr = { 0x1000, 0x2000, 0xffff800000003000ull, 0x4000 },
		.dr6 = 0xffff4ff0,
		.star = 0x0023001000000000ull,
		.lstar = 0xffffffff81000000ull,
		.cstar = 0x00007fffffffe000ull,
		.fmask = 0x47700,
		.kernel_gs_base = 0xffff888000000000ull,
		.spec_ctrl = 0x5,
		.cr8 = 0xd,
	};
	s->plat.guest_tsc = 0x3333000012345678ull;
	for (size_t i = 0; i < DEV; i++)
		s->plat.devices[i] = (uint8_t)(i * 13 + 1);
	for (size_t i = 0; i < XSAVE_SIZE; i++)
		s->xsave[i] = (uint8_t)(i * 7 + 3);
	store_le32(s->xsave + 24, 0x1f80);        /* MXCSR */
	store_le64(s->xsave + 512, 0x7);          /* XSTATE_BV */
	memset(s->xsave + 520, 0, 16);            /* XCOMP_BV, reserved */
}

static void encode(const struct sample *s, uint8_t *buf)
{
	vcpu_context_encode(&s->gprs, &s->sys, s->vmcs, &s->plat, s->xsave,
			    XSAVE_SIZE, buf);
}

static const char *decode_into(const uint8_t *buf, size_t len,
			       const struct vcpu_context_cpu *c, struct sample *out)
{
	return vcpu_context_decode(buf, len, c, &out->gprs, &out->sys, out->vmcs,
				   &out->plat, out->xsave);
}

/* Decoding must fail with a reason containing 'want' and write nothing. */
static void expect_refused(const uint8_t *buf, size_t len,
			   const struct vcpu_context_cpu *c, const char *want)
{
	struct sample out, untouched;
	const char *why;

	memset(&out, 0xa5, sizeof(out));
	untouched = out;
	why = decode_into(buf, len, c, &out);
	if (!why)
		fail_msg("accepted; expected refusal '%s'", want);
	if (!strstr(why, want))
		fail_msg("refused with '%s'; expected '%s'", why, want);
	assert_memory_equal(&out, &untouched, sizeof(out));
}

static void test_length(void **state)
{
	(void)state;
	assert_int_equal(vcpu_context_len(XSAVE_SIZE), LEN);
	assert_int_equal(vcpu_context_len(XSAVE_SIZE), 1536 + DEV);
	assert_int_equal(vcpu_context_len(512), 1216 + DEV);
}

static void test_layout(void **state)
{
	static uint8_t buf[LEN];
	struct sample s;

	(void)state;
	fill(&s);
	encode(&s, buf);
	assert_int_equal(load_le32(buf), 0x31585443);        /* "CTX1" */
	assert_memory_equal(buf, "CTX1", 4);
	assert_int_equal(load_le32(buf + 4), 4);
	assert_int_equal(load_le32(buf + 8), LEN);
	assert_int_equal(load_le32(buf + 12), XSAVE_SIZE);
	assert_int_equal(load_le64(buf + 16), s.gprs.rax);
	assert_int_equal(load_le64(buf + 16 + 8), s.gprs.rbx);
	assert_int_equal(load_le64(buf + 16 + 14 * 8), s.gprs.r15);
	assert_int_equal(load_le64(buf + 136), s.vmcs[0]);
	assert_int_equal(load_le64(buf + 136 + 56 * 8), s.vmcs[56]);
	/* The registers in docs/lifecycle.md order. */
	const uint64_t sys[] = {
		s.sys.cr2, s.sys.dr[0], s.sys.dr[1], s.sys.dr[2], s.sys.dr[3],
		s.sys.dr6, s.sys.star, s.sys.lstar, s.sys.cstar, s.sys.fmask,
		s.sys.kernel_gs_base, s.sys.cr8, s.sys.spec_ctrl,
	};
	for (size_t i = 0; i < ARRAY_SIZE(sys); i++)
		assert_int_equal(load_le64(buf + 592 + 8 * i), sys[i]);
	assert_int_equal(load_le64(buf + 680), 0xd);           /* CR8 */
	assert_int_equal(load_le64(buf + 688), 0x5);           /* SPEC_CTRL */
	assert_int_equal(load_le64(buf + 696), s.plat.guest_tsc);
	assert_memory_equal(buf + 704, s.plat.devices, DEV);
	assert_memory_equal(buf + OFF_X, s.xsave, XSAVE_SIZE);
}

static void test_round_trip(void **state)
{
	static uint8_t buf[LEN], again[LEN];
	struct sample s, out;

	(void)state;
	fill(&s);
	encode(&s, buf);
	memset(&out, 0xa5, sizeof(out));
	assert_null(decode_into(buf, LEN, &cpu, &out));
	assert_memory_equal(&out.gprs, &s.gprs, sizeof(s.gprs));
	assert_memory_equal(&out.sys, &s.sys, sizeof(s.sys));
	assert_memory_equal(out.vmcs, s.vmcs, sizeof(s.vmcs));
	assert_int_equal(out.plat.guest_tsc, s.plat.guest_tsc);
	assert_memory_equal(out.plat.devices, s.plat.devices, DEV);
	assert_memory_equal(out.xsave, s.xsave, XSAVE_SIZE);
	/* Only xsave_size bytes of the image are written. */
	assert_int_equal(out.xsave[XSAVE_SIZE], 0xa5);
	vcpu_context_encode(&out.gprs, &out.sys, out.vmcs, &out.plat, out.xsave,
			    XSAVE_SIZE, again);
	assert_memory_equal(again, buf, LEN);
}

/* The version-1 layout of s (docs/lifecycle.md before CR8 and SPEC_CTRL). */
#define LEN_V1 (LEN - 16u - 8u - DEV)
static size_t encode_v1(const struct sample *s, uint8_t *v1)
{
	static uint8_t v3[LEN];

	encode(s, v3);
	memcpy(v1, v3, 680);
	memcpy(v1 + 680, v3 + OFF_X, XSAVE_SIZE);
	store_le32(v1 + 4, 1);
	store_le32(v1 + 8, LEN_V1);
	return LEN_V1;
}

/* The version-2 layout of s (before the TSC and the devices). */
#define LEN_V2 (LEN - 8u - DEV)
static size_t encode_v2(const struct sample *s, uint8_t *v2)
{
	static uint8_t v3[LEN];

	encode(s, v3);
	memcpy(v2, v3, 696);
	memcpy(v2 + 696, v3 + OFF_X, XSAVE_SIZE);
	store_le32(v2 + 4, 2);
	store_le32(v2 + 8, LEN_V2);
	return LEN_V2;
}

/* A context in the version-1 layout, as the TCB before this one wrote it:
 * no CR8 and SPEC_CTRL, so 16 bytes shorter. */
static void test_version1_refused(void **state)
{
	static uint8_t buf[LEN], v1[LEN_V1];
	struct sample s;

	(void)state;
	fill(&s);
	assert_int_equal(encode_v1(&s, v1), sizeof(v1));
	encode(&s, buf);
	expect_refused(v1, sizeof(v1), &cpu, "layout version 1");
	expect_refused(v1, sizeof(v1), &cpu, "resumes version 4 only");
	/* Even at the new length, version 1 is refused for its version. */
	store_le32(buf + 4, 1);
	expect_refused(buf, LEN, &cpu, "layout version 1");
}

/* Version 2, as the TCB before the virtual platform wrote it: a VM stopped
 * by it resumes only by a boot afresh (its devices' state is not there). */
static void test_version2_refused(void **state)
{
	static uint8_t buf[LEN], v2[LEN_V2];
	struct sample s;

	(void)state;
	fill(&s);
	assert_int_equal(encode_v2(&s, v2), sizeof(v2));
	expect_refused(v2, sizeof(v2), &cpu, "layout version 2");
	expect_refused(v2, sizeof(v2), &cpu, "resumes version 4 only");
	encode(&s, buf);
	store_le32(buf + 4, 2);
	expect_refused(buf, LEN, &cpu, "layout version 2");
}

static void test_header_refusals(void **state)
{
	static uint8_t buf[LEN];
	struct sample s;

	(void)state;
	fill(&s);
	encode(&s, buf);
	store_le32(buf, 0x32585443);
	expect_refused(buf, LEN, &cpu, "magic");
	encode(&s, buf);
	for (uint32_t v = 0; v < 8; v++) {
		if (v >= 1 && v <= 4)
			continue;
		store_le32(buf + 4, v);
		expect_refused(buf, LEN, &cpu, "unknown layout version");
	}
	/* Version 3, before the local APIC: its device state is 144 bytes
	 * shorter, and it is refused for its version whatever its length. */
	store_le32(buf + 4, 3);
	expect_refused(buf, LEN, &cpu, "layout version 3");
	expect_refused(buf, LEN, &cpu, "resumes version 4 only");
	store_le32(buf + 4, 0xffffffffu);
	expect_refused(buf, LEN, &cpu, "unknown layout version");
	encode(&s, buf);
	store_le32(buf + 8, LEN + 1);
	expect_refused(buf, LEN, &cpu, "length");
	store_le32(buf + 8, LEN - 1);
	expect_refused(buf, LEN, &cpu, "length");
	encode(&s, buf);
	store_le32(buf + 12, 576);
	expect_refused(buf, LEN, &cpu, "XSAVE area size is not this CPU's");

	/* A context from a CPU with another XSAVE size, consistent in itself. */
	{
		struct vcpu_context_cpu other = cpu;

		other.xsave_size = 576;
		encode(&s, buf);
		expect_refused(buf, LEN, &other, "XSAVE area size is not this CPU's");
	}
}

static void test_truncated_and_extended(void **state)
{
	static uint8_t buf[LEN];
	struct guarded g;
	struct sample s;

	(void)state;
	fill(&s);
	encode(&s, buf);
	guarded_init(&g, LEN + 1);
	/* Every shorter length, the input ending right at a guard page. */
	for (size_t len = 0; len < LEN; len++) {
		uint8_t *p = guarded_fill(&g, buf, len, 1);
		struct sample out;

		assert_non_null(decode_into(p, len, &cpu, &out));
	}
	/* One byte too many, the length field saying so or not. */
	{
		static uint8_t longer[LEN + 1];

		memcpy(longer, buf, LEN);
		expect_refused(guarded_fill(&g, longer, LEN + 1, 1), LEN + 1, &cpu,
			       "length");
		store_le32(longer + 8, LEN + 1);
		expect_refused(guarded_fill(&g, longer, LEN + 1, 1), LEN + 1, &cpu,
			       "length");
	}
	guarded_free(&g);
}

/* Set one register of s, encode, expect the refusal. */
#define REFUSE_SYS(field, value, want) do {                              \
		fill(&s);                                                \
		s.sys.field = (value);                                   \
		encode(&s, buf);                                         \
		expect_refused(buf, LEN, &c, (want));                    \
	} while (0)
#define ACCEPT_SYS(field, value) do {                                    \
		fill(&s);                                                \
		s.sys.field = (value);                                   \
		encode(&s, buf);                                         \
		assert_null(decode_into(buf, LEN, &c, &out));            \
		assert_int_equal(out.sys.field, (value));                \
	} while (0)

static void test_register_refusals(void **state)
{
	static uint8_t buf[LEN];
	struct vcpu_context_cpu c = cpu;
	struct sample s, out;

	(void)state;
	for (uint64_t v = 0; v <= 15; v++)
		ACCEPT_SYS(cr8, v);
	REFUSE_SYS(cr8, 16, "CR8 above 15");
	REFUSE_SYS(cr8, 0xf0, "CR8 above 15");
	REFUSE_SYS(cr8, 1ull << 63, "CR8 above 15");

	ACCEPT_SYS(dr6, 0xffffffffull);
	REFUSE_SYS(dr6, 1ull << 32, "DR6");
	ACCEPT_SYS(fmask, 0xffffffffull);
	REFUSE_SYS(fmask, 1ull << 40, "FMASK");

	/* Canonical for 48-bit linear addresses: 0x00007fff... and 0xffff8000... */
	ACCEPT_SYS(lstar, 0x00007fffffffffffull);
	ACCEPT_SYS(lstar, 0xffff800000000000ull);
	ACCEPT_SYS(lstar, 0);
	ACCEPT_SYS(lstar, ~0ull);
	REFUSE_SYS(lstar, 0x0000800000000000ull, "not canonical");
	REFUSE_SYS(cstar, 0xffff7fffffffffffull, "not canonical");
	REFUSE_SYS(kernel_gs_base, 0x8000000000000000ull, "not canonical");
	/* With 57-bit linear addresses those are canonical, others not. */
	c.linear_bits = 57;
	ACCEPT_SYS(lstar, 0x0000800000000000ull);
	ACCEPT_SYS(cstar, 0xff00000000000000ull);
	REFUSE_SYS(kernel_gs_base, 0x0100000000000000ull, "not canonical");
	c = cpu;

	/* SPEC_CTRL: only bits this CPU has; none at all without it. */
	ACCEPT_SYS(spec_ctrl, 0x7);
	REFUSE_SYS(spec_ctrl, 0x8, "SPEC_CTRL");
	REFUSE_SYS(spec_ctrl, 1ull << 63, "SPEC_CTRL");
	c.spec_ctrl_bits = 0;
	ACCEPT_SYS(spec_ctrl, 0);
	REFUSE_SYS(spec_ctrl, 0x1, "SPEC_CTRL");
}

static void test_xsave_refusals(void **state)
{
	static uint8_t buf[LEN];
	struct vcpu_context_cpu c = cpu;
	struct sample s, out;

	(void)state;
	/* MXCSR reserved bits (the mask says which exist). */
	fill(&s);
	store_le32(s.xsave + 24, 0x10000);
	encode(&s, buf);
	expect_refused(buf, LEN, &c, "MXCSR");
	c.mxcsr_mask = 0xffbf;
	fill(&s);
	store_le32(s.xsave + 24, 0x1f80 | 0x40); /* DAZ without DAZ support */
	encode(&s, buf);
	expect_refused(buf, LEN, &c, "MXCSR");
	c = cpu;

	/* XSTATE_BV may only name components of XCR0. */
	for (unsigned bit = 3; bit < 64; bit++) {
		fill(&s);
		store_le64(s.xsave + 512, 0x7 | 1ull << bit);
		encode(&s, buf);
		expect_refused(buf, LEN, &c, "outside XCR0");
	}
	fill(&s);
	store_le64(s.xsave + 512, 0x0); /* all components initial: fine */
	encode(&s, buf);
	assert_null(decode_into(buf, LEN, &c, &out));

	/* Bytes 23:8 of the header must be zero (standard form)... */
	for (unsigned i = 520; i < 536; i++) {
		fill(&s);
		s.xsave[i] = 1;
		encode(&s, buf);
		expect_refused(buf, LEN, &c, "standard form");
	}
	/* ... the rest of it is not looked at. */
	fill(&s);
	memset(s.xsave + 536, 0xff, 40);
	encode(&s, buf);
	assert_null(decode_into(buf, LEN, &c, &out));

	/* An FXSAVE image has no header: only MXCSR is checked. */
	c.xsave = false;
	fill(&s);
	store_le64(s.xsave + 512, ~0ull);
	s.xsave[520] = 1;
	encode(&s, buf);
	assert_null(decode_into(buf, LEN, &c, &out));
	store_le32(s.xsave + 24, 0xffffffffu);
	encode(&s, buf);
	expect_refused(buf, LEN, &c, "MXCSR");
}

/* ---- --write DIR: seeds for the fuzzer ---------------------------------- */

/* Seed format (tests/fuzz/fuzz_vcpu_context.c): one byte selecting the CPU
 * description, then the context. */
static int write_samples(const char *dir)
{
	static uint8_t buf[LEN];
	struct sample s;
	int rc = 0;

	fill(&s);
	encode(&s, buf);
	rc |= write_seed(dir, "v3_xsave.bin", 0, buf, LEN);
	rc |= write_seed(dir, "v3_xsave_la57.bin", 2, buf, LEN);
	s.sys.cr8 = 0;
	s.sys.spec_ctrl = 0;
	encode(&s, buf);
	rc |= write_seed(dir, "v3_no_spec_ctrl.bin", 4, buf, LEN);
	vcpu_context_encode(&s.gprs, &s.sys, s.vmcs, &s.plat, s.xsave, 512, buf);
	rc |= write_seed(dir, "v3_fxsave.bin", 1, buf, vcpu_context_len(512));
	rc |= write_seed(dir, "v1_refused.bin", 0, buf, encode_v1(&s, buf));
	rc |= write_seed(dir, "v2_refused.bin", 0, buf, encode_v2(&s, buf));
	return rc;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_version1_refused),
		cmocka_unit_test(test_version2_refused),
		cmocka_unit_test(test_header_refusals),
		cmocka_unit_test(test_truncated_and_extended),
		cmocka_unit_test(test_register_refusals),
		cmocka_unit_test(test_xsave_refusals),
	};

	if (argc == 3 && strcmp(argv[1], "--write") == 0)
		return write_samples(argv[2]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
