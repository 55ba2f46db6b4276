/*
 * Tests of the VM-exit decisions (hv/exit_policy.c) against docs/vm-exits.md:
 * the CPUID filter (fed all-ones host values, so every mask shows exactly),
 * the MSR pass-through set, bitmap and policy, and port I/O decode/policy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "hv/exit_policy.h"
#include "hv/spec_policy.h"
#include <custos/guest_abi.h>

#define ONES 0xffffffffu

static const struct cpuid_values all_ones = { ONES, ONES, ONES, ONES };

static const struct cpuid_context default_ctx = {
	.vm_id = 5,
	.guest_osxsave = true,
	.xcr0 = 0x7, /* x87, SSE, AVX */
	.xsave_size = 832,
};

static struct cpuid_values filter(uint32_t leaf, uint32_t subleaf,
				  const struct cpuid_values *host,
				  const struct cpuid_context *ctx)
{
	struct cpuid_values out;

	memset(&out, 0xa5, sizeof(out)); /* every register must be written */
	cpuid_filter(leaf, subleaf, host, ctx, &out);
	return out;
}

static uint32_t bits(const unsigned *list, size_t n)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= 1u << list[i];
	return v;
}

#define BITS(...) bits((const unsigned[]){ __VA_ARGS__ }, \
		       sizeof((const unsigned[]){ __VA_ARGS__ }) / sizeof(unsigned))

static void assert_zero(const struct cpuid_values *v)
{
	assert_int_equal(v->eax, 0);
	assert_int_equal(v->ebx, 0);
	assert_int_equal(v->ecx, 0);
	assert_int_equal(v->edx, 0);
}

/* ---- CPUID ------------------------------------------------------------- */

static void test_cpuid_leaf0(void **state)
{
	const struct cpuid_values host = { 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69 };
	const struct cpuid_values small = { 0xb, 1, 2, 3 };
	struct cpuid_values v;

	(void)state;
	v = filter(0, 0, &host, &default_ctx);
	assert_int_equal(v.eax, 0xd);
	/* The vendor string is passed through. */
	assert_int_equal(v.ebx, host.ebx);
	assert_int_equal(v.ecx, host.ecx);
	assert_int_equal(v.edx, host.edx);
	v = filter(0, 0, &all_ones, &default_ctx);
	assert_int_equal(v.eax, 0xd);
	/* A smaller host maximum is kept. */
	v = filter(0, 0, &small, &default_ctx);
	assert_int_equal(v.eax, 0xb);
	/* The subleaf does not matter. */
	v = filter(0, 7, &host, &default_ctx);
	assert_int_equal(v.eax, 0xd);
}

/* Leaf 0x15 tells the TSC's rate the TCB measured (Linux takes it on
 * Intel instead of calibrating against the virtual PIT): crystal x EBX /
 * EAX, the crystal field halved as often as 32 bits need. */
static void test_cpuid_tsc_leaf(void **state)
{
	const struct cpuid_values host = { 0x1f, 0x756e6547, 0x6c65746e, 0x49656e69 };
	struct cpuid_context ctx = default_ctx;
	struct cpuid_values v;

	(void)state;
	ctx.tsc_hz = 100001188;
	v = filter(0, 0, &host, &ctx);
	assert_int_equal(v.eax, 0x15);
	v = filter(0x15, 0, &all_ones, &ctx);
	assert_int_equal(v.eax, 1);
	assert_int_equal(v.ebx, 1);
	assert_int_equal(v.ecx, 100001188);
	assert_int_equal(v.edx, 0);
	/* The leaves between are not the host's. */
	for (uint32_t leaf = 0xe; leaf < 0x15; leaf++) {
		v = filter(leaf, 0, &all_ones, &ctx);
		assert_int_equal(v.eax | v.ebx | v.ecx | v.edx, 0);
	}
	ctx.tsc_hz = 5000000000ull; /* above 32 bits */
	v = filter(0x15, 0, &all_ones, &ctx);
	assert_int_equal(v.eax, 1);
	assert_int_equal(v.ebx, 2);
	assert_int_equal(v.ecx, 2500000000u);
	ctx.tsc_hz = 0xffffffffull << 31; /* the most EBX can scale */
	v = filter(0x15, 0, &all_ones, &ctx);
	assert_int_equal(v.ebx, 1u << 31);
	assert_int_equal((uint64_t)v.ecx * v.ebx / v.eax, ctx.tsc_hz);
	ctx.tsc_hz = 0xffffffffffffffffull; /* beyond: not told */
	v = filter(0x15, 0, &all_ones, &ctx);
	assert_int_equal(v.eax | v.ebx | v.ecx | v.edx, 0);
	/* Unknown rate: the leaf is not there. */
	ctx.tsc_hz = 0;
	v = filter(0x15, 0, &all_ones, &ctx);
	assert_int_equal(v.eax | v.ebx | v.ecx | v.edx, 0);
	v = filter(0, 0, &host, &ctx);
	assert_int_equal(v.eax, 0xd);
}

static void test_cpuid_leaf1_ecx(void **state)
{
	struct cpuid_values v;
	const uint32_t keep = BITS(0, 1, 9, 12, 13, 19, 20, 22, 23, 25, 26, 28,
				   29, 30);

	(void)state;
	v = filter(1, 0, &all_ones, &default_ctx);
	assert_int_equal(v.ecx & (1u << 5), 0);  /* VMX */
	assert_int_equal(v.ecx & (1u << 6), 0);  /* SMX */
	assert_int_equal(v.ecx & (1u << 3), 0);  /* MONITOR/MWAIT (they exit) */
	/* The VM's own APIC (vdev/vlapic.h): x2APIC and TSC-deadline. */
	assert_int_not_equal(v.ecx & (1u << 21), 0); /* x2APIC */
	assert_int_not_equal(v.ecx & (1u << 24), 0); /* TSC deadline */
	assert_int_not_equal(v.ecx & (1u << 31), 0); /* hypervisor present */
	assert_int_not_equal(v.ecx & (1u << 27), 0); /* OSXSAVE from the guest */
	/* Exactly the whitelist, plus OSXSAVE, the APIC's bits and the
	 * hypervisor bit. */
	assert_int_equal(v.ecx, keep | BITS(21, 24, 27, 31));

	/* The hypervisor and APIC bits are set even when the host has no
	 * features: they are the VM's, not the host's. */
	{
		const struct cpuid_values none = { 0x306a9, 0, 0, 0 };

		v = filter(1, 0, &none, &default_ctx);
		assert_int_equal(v.ecx, BITS(21, 24, 31));
		assert_int_equal(v.edx, 1u << 9);
		assert_int_equal(v.eax, 0x306a9); /* signature kept */
	}
}

static void test_cpuid_leaf1_osxsave(void **state)
{
	struct cpuid_context ctx = default_ctx;
	struct cpuid_values host = all_ones, v;

	(void)state;
	/* Guest CR4.OSXSAVE off: bit 27 clear although the host sets it. */
	ctx.guest_osxsave = false;
	v = filter(1, 0, &host, &ctx);
	assert_int_equal(v.ecx & (1u << 27), 0);
	assert_int_not_equal(v.ecx & (1u << 26), 0);

	/* Guest on, host with XSAVE: set. */
	ctx.guest_osxsave = true;
	host.ecx = 1u << 26;
	v = filter(1, 0, &host, &ctx);
	assert_int_equal(v.ecx, BITS(21, 24, 26, 27, 31));

	/* Guest on, but no XSAVE on the host: not set. */
	host.ecx = ONES & ~(1u << 26);
	v = filter(1, 0, &host, &ctx);
	assert_int_equal(v.ecx & (1u << 27), 0);
	assert_int_equal(v.ecx & (1u << 26), 0);
}

static void test_cpuid_leaf1_ebx_edx(void **state)
{
	const uint32_t keep = BITS(0, 1, 2, 3, 4, 5, 6, 8, 11, 13, 15, 16, 17,
				   19, 23, 24, 25, 26);
	const struct cpuid_values host = { 0x000906ea, 0x0c100800, 0, ONES };
	struct cpuid_values v;

	(void)state;
	v = filter(1, 0, &all_ones, &default_ctx);
	assert_int_equal(v.eax, ONES);
	/* No initial APIC id (31:24) or logical processor count (23:16). */
	assert_int_equal(v.ebx, 0x0000ffff);
	assert_int_not_equal(v.edx & (1u << 9), 0); /* APIC: the VM's own */
	assert_int_equal(v.edx & (1u << 12), 0); /* MTRR */
	assert_int_equal(v.edx & (1u << 28), 0); /* HTT */
	assert_int_equal(v.edx & (1u << 7), 0);  /* MCE */
	assert_int_equal(v.edx & (1u << 14), 0); /* MCA */
	assert_int_equal(v.edx & (1u << 21), 0); /* DS */
	assert_int_equal(v.edx & (1u << 22), 0); /* ACPI (thermal) */
	assert_int_equal(v.edx & (1u << 29), 0); /* TM */
	assert_int_equal(v.edx, keep | BITS(9));

	v = filter(1, 0, &host, &default_ctx);
	assert_int_equal(v.eax, 0x000906ea);
	assert_int_equal(v.ebx, 0x0800); /* CLFLUSH line size kept, ids gone */
}

static void test_cpuid_unknown_leaves_zero(void **state)
{
	const uint32_t leaves[] = {
		2, 3, 4, 5, 6, 8, 9, 0xa, 0xb, 0xc, 0xe, 0xf, 0x10, 0x12, 0x14,
		0x15, 0x16, 0x18, 0x1f, 0x20, 0x3fffffff, 0x40000002, 0x40000003,
		0x40000010, 0x40000100, 0x4fffffff, 0x7fffffff, 0x80000005,
		0x80000006, 0x80000009, 0x8000000a, 0x8000001f,
		0x80000020, 0x8fffffff, 0xc0000000, 0xffffffff,
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(leaves); i++) {
		for (uint32_t sub = 0; sub < 3; sub++) {
			struct cpuid_values v = filter(leaves[i], sub, &all_ones,
						       &default_ctx);

			if (v.eax || v.ebx || v.ecx || v.edx)
				fail_msg("leaf %#x.%u not zero", leaves[i], sub);
		}
	}
}

static void test_cpuid_custos_leaves(void **state)
{
	struct cpuid_context ctx = default_ctx;
	struct cpuid_values v;
	char sig[13];

	(void)state;
	v = filter(CPUID_CUSTOS_BASE, 0, &all_ones, &ctx);
	assert_int_equal(CPUID_CUSTOS_BASE, 0x40000000u);
	assert_int_equal(v.eax, 0x40000001u);
	memcpy(sig, &v.ebx, 4);
	memcpy(sig + 4, &v.ecx, 4);
	memcpy(sig + 8, &v.edx, 4);
	sig[12] = '\0';
	assert_string_equal(sig, "CustosCustos");

	ctx.vm_id = 12;
	v = filter(CPUID_CUSTOS_INFO, 0, &all_ones, &ctx);
	assert_int_equal(v.eax, CUSTOS_ABI_VERSION);
	assert_int_equal(v.ebx, 12);
	assert_int_equal(v.ecx, 0);
	assert_int_equal(v.edx, 0);
	ctx.vm_id = 1;
	v = filter(CPUID_CUSTOS_INFO, 3, &all_ones, &ctx);
	assert_int_equal(v.ebx, 1);
}

static void test_cpuid_leaf7(void **state)
{
	const uint32_t keep = BITS(0, 3, 5, 7, 8, 9, 18, 19, 20, 23, 29);
	struct cpuid_values v;

	(void)state;
	v = filter(7, 0, &all_ones, &default_ctx);
	assert_int_equal(v.eax, 0); /* only subleaf 0 exists */
	assert_int_equal(v.ebx, keep);
	assert_int_equal(v.ebx & (1u << 16), 0); /* AVX512F */
	assert_int_equal(v.ebx & (1u << 2), 0);  /* SGX */
	assert_int_equal(v.ebx & (1u << 11), 0); /* RTM */
	assert_int_equal(v.ebx & (1u << 10), 0); /* INVPCID */
	assert_int_equal(v.ecx, 0);
	/* EDX: the speculation controls guests get (MD_CLEAR, IBRS/IBPB,
	 * STIBP, SSBD); not L1D_FLUSH, ARCH_CAPABILITIES, CORE_CAPABILITIES. */
	assert_int_equal(v.edx, BITS(10, 26, 27, 31));
	{
		const struct cpuid_values none = { 0, 0, 0, 1u << 28 | 1u << 29 };

		v = filter(7, 0, &none, &default_ctx);
		assert_int_equal(v.edx, 0);
	}
	for (uint32_t sub = 1; sub < 4; sub++) {
		v = filter(7, sub, &all_ones, &default_ctx);
		assert_zero(&v);
	}
	v = filter(7, ONES, &all_ones, &default_ctx);
	assert_zero(&v);
}

static void test_cpuid_leaf_d(void **state)
{
	struct cpuid_context ctx = default_ctx;
	struct cpuid_values v;
	const struct cpuid_values comp = { 256, 576, 0, 0 }; /* AVX: size, offset */

	(void)state;
	/* Subleaf 0: supported components limited to XCR0, sizes for XCR0. */
	v = filter(0xd, 0, &all_ones, &ctx);
	assert_int_equal(v.eax, 0x7);
	assert_int_equal(v.ebx, 832);
	assert_int_equal(v.ecx, 832);
	assert_int_equal(v.edx, 0);
	ctx.xcr0 = 0x3;
	ctx.xsave_size = 576;
	v = filter(0xd, 0, &all_ones, &ctx);
	assert_int_equal(v.eax, 0x3);
	assert_int_equal(v.ebx, 576);
	assert_int_equal(v.ecx, 576);
	/* Host without AVX: not reported even if xcr0 had it. */
	{
		const struct cpuid_values host = { 0x3, 1000, 1000, 0 };

		ctx.xcr0 = 0x7;
		v = filter(0xd, 0, &host, &ctx);
		assert_int_equal(v.eax, 0x3);
	}

	/* Subleaf 1: XSAVEOPT, XSAVEC, XGETBV1; no XSAVES (bit 3). */
	ctx = default_ctx;
	v = filter(0xd, 1, &all_ones, &ctx);
	assert_int_equal(v.eax, 0x7);
	assert_int_equal(v.eax & (1u << 3), 0);
	assert_int_equal(v.ebx, 0);
	assert_int_equal(v.ecx, 0);
	assert_int_equal(v.edx, 0);

	/* Component subleaves only for components enabled in XCR0. */
	v = filter(0xd, 2, &comp, &ctx);
	assert_memory_equal(&v, &comp, sizeof(v));
	for (uint32_t sub = 3; sub < 64; sub++) {
		v = filter(0xd, sub, &all_ones, &ctx);
		if (v.eax || v.ebx || v.ecx || v.edx)
			fail_msg("leaf 0xd.%u not zero with xcr0 0x7", sub);
	}
	ctx.xcr0 = 0x3;
	v = filter(0xd, 2, &all_ones, &ctx);
	assert_zero(&v);
	ctx.xcr0 = 0xe7; /* with AVX-512 state */
	v = filter(0xd, 5, &all_ones, &ctx);
	assert_int_equal(v.eax, ONES);
	v = filter(0xd, 3, &all_ones, &ctx);
	assert_zero(&v);
	v = filter(0xd, 8, &all_ones, &ctx);
	assert_zero(&v);
	/* Components beyond 31 are never reported (and nothing overflows). */
	ctx.xcr0 = ~0ull;
	for (uint32_t sub = 32; sub < 70; sub++) {
		v = filter(0xd, sub, &all_ones, &ctx);
		assert_zero(&v);
	}
	v = filter(0xd, ONES, &all_ones, &ctx);
	assert_zero(&v);
}

static void test_cpuid_extended(void **state)
{
	const struct cpuid_values brand = { 0x65746e49, 0x2952286c, 0x726f4320,
					    0x4d542865 };
	struct cpuid_values v;

	(void)state;
	v = filter(0x80000000, 0, &all_ones, &default_ctx);
	assert_int_equal(v.eax, 0x80000008);
	assert_int_equal(v.ebx, 0);
	assert_int_equal(v.ecx, 0);
	assert_int_equal(v.edx, 0);
	{
		const struct cpuid_values host = { 0x80000004, 0, 0, 0 };

		v = filter(0x80000000, 0, &host, &default_ctx);
		assert_int_equal(v.eax, 0x80000004);
	}

	v = filter(0x80000001, 0, &all_ones, &default_ctx);
	assert_int_equal(v.eax, 0);
	assert_int_equal(v.ebx, 0);
	assert_int_equal(v.ecx, BITS(0, 5, 8));
	assert_int_equal(v.edx, BITS(11, 20, 26, 29));
	assert_int_equal(v.edx & (1u << 27), 0); /* RDTSCP */
	assert_int_equal(v.ecx & (1u << 2), 0);  /* SVM */

	for (uint32_t leaf = 0x80000002; leaf <= 0x80000004; leaf++) {
		v = filter(leaf, 0, &brand, &default_ctx);
		assert_memory_equal(&v, &brand, sizeof(v));
	}

	/* The invariant TSC only: no power or thermal interfaces. */
	v = filter(0x80000007, 0, &all_ones, &default_ctx);
	assert_int_equal(v.eax, 0);
	assert_int_equal(v.ebx, 0);
	assert_int_equal(v.ecx, 0);
	assert_int_equal(v.edx, 1u << 8);

	v = filter(0x80000008, 0, &all_ones, &default_ctx);
	assert_int_equal(v.eax, 0xffff);
	/* AMD's IBPB, IBRS, STIBP, SSBD; not VIRT_SSBD (25) nor the rest. */
	assert_int_equal(v.ebx, BITS(12, 14, 15, 24));
	assert_int_equal(v.ecx, 0);
	assert_int_equal(v.edx, 0);
}

/* ---- MSRs --------------------------------------------------------------- */

static const uint32_t passthrough[] = {
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, /* STAR..FMASK */
	0xc0000100, 0xc0000101, 0xc0000102,             /* FS, GS, KERNEL_GS */
};

static const struct spec_caps no_spec = { .ibpb = false };
static const struct spec_caps all_spec = {
	.ibpb = true, .l1d_flush = true, .md_clear = true,
	.spec_ctrl_bits = SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD,
};

static void test_msr_passthrough_set(void **state)
{
	const uint32_t others[] = {
		0, 0x10, 0x1b, 0x3a, 0x4a, 0x80, 0x81, 0x82, 0x100, 0x101, 0x102,
		0x10a, 0x10b, 0x174, 0x175, 0x176, 0x1d9, 0x277, 0x480, 0x491,
		0x6e0, 0x802, 0x1fff, 0x2000, 0x40000081, 0x80000081, 0xc0000080,
		0xc0000085, 0xc00000ff, 0xc0000103, 0xc0002081, 0xc0010081,
		0xc0010100, 0xd0000081, 0xffffffff, 0xc0000048, 0xc0000049,
	};

	(void)state;
	for (int w = 0; w < 2; w++) {
		for (size_t i = 0; i < ARRAY_SIZE(passthrough); i++) {
			assert_true(msr_is_passthrough(passthrough[i], w, &no_spec));
			assert_true(msr_is_passthrough(passthrough[i], w, &all_spec));
		}
		for (size_t i = 0; i < ARRAY_SIZE(others); i++)
			if (msr_is_passthrough(others[i], w, &all_spec))
				fail_msg("MSR %#x passes through", others[i]);
	}
	/* SPEC_CTRL both ways and PRED_CMD writes, only where the CPU has them. */
	assert_true(msr_is_passthrough(0x48, false, &all_spec));
	assert_true(msr_is_passthrough(0x48, true, &all_spec));
	assert_false(msr_is_passthrough(0x49, false, &all_spec));
	assert_true(msr_is_passthrough(0x49, true, &all_spec));
	for (int w = 0; w < 2; w++) {
		assert_false(msr_is_passthrough(0x48, w, &no_spec));
		assert_false(msr_is_passthrough(0x49, w, &no_spec));
	}
	/* An AMD CPU with SSBD in SPEC_CTRL but no IBPB, and the other way. */
	{
		const struct spec_caps ssbd_only = { .spec_ctrl_bits = SPEC_CTRL_SSBD };
		const struct spec_caps ibpb_only = { .ibpb = true };

		assert_true(msr_is_passthrough(0x48, true, &ssbd_only));
		assert_false(msr_is_passthrough(0x49, true, &ssbd_only));
		assert_false(msr_is_passthrough(0x48, false, &ibpb_only));
		assert_true(msr_is_passthrough(0x49, true, &ibpb_only));
	}
}

static bool bit_set(const uint8_t *bm, size_t bit)
{
	return (bm[bit / 8] >> (bit % 8)) & 1;
}

static size_t clear_bits(const uint8_t *bm)
{
	size_t clear = 0;

	for (size_t bit = 0; bit < 8 * 4096; bit++)
		clear += !bit_set(bm, bit);
	return clear;
}

static void test_msr_bitmap(void **state)
{
	static uint8_t bm[4096];

	(void)state;
	memset(bm, 0, sizeof(bm)); /* build must write every byte */
	msr_bitmap_build(bm, &no_spec);
	assert_int_equal(clear_bits(bm), 2 * ARRAY_SIZE(passthrough));
	assert_int_equal(clear_bits(bm), 14);

	for (size_t i = 0; i < ARRAY_SIZE(passthrough); i++) {
		uint32_t b = passthrough[i] & 0x1fff;

		assert_false(bit_set(bm, 1024 * 8 + b)); /* read-high */
		assert_false(bit_set(bm, 3072 * 8 + b)); /* write-high */
		/* The low MSR with the same offset still exits. */
		assert_true(bit_set(bm, 0 * 8 + b));     /* read-low */
		assert_true(bit_set(bm, 2048 * 8 + b));  /* write-low */
	}
	/* EFER reads and writes exit. */
	assert_true(bit_set(bm, 1024 * 8 + 0x80));
	assert_true(bit_set(bm, 3072 * 8 + 0x80));
	/* Without SPEC_CTRL and PRED_CMD every low MSR exits, both ways. */
	for (size_t b = 0; b < 0x2000; b++) {
		assert_true(bit_set(bm, b));
		assert_true(bit_set(bm, 2048 * 8 + b));
	}
	/* Building again over a built bitmap gives the same bitmap. */
	{
		static uint8_t again[4096];

		memset(again, 0x3c, sizeof(again));
		msr_bitmap_build(again, &no_spec);
		assert_memory_equal(again, bm, sizeof(bm));
	}

	/* With them: SPEC_CTRL (0x48) read and write, PRED_CMD (0x49) write. */
	memset(bm, 0, sizeof(bm));
	msr_bitmap_build(bm, &all_spec);
	assert_int_equal(clear_bits(bm), 14 + 3);
	assert_false(bit_set(bm, 0x48));             /* read-low */
	assert_false(bit_set(bm, 2048 * 8 + 0x48));  /* write-low */
	assert_true(bit_set(bm, 0x49));
	assert_false(bit_set(bm, 2048 * 8 + 0x49));
	/* Not their namesakes in the high range. */
	assert_true(bit_set(bm, 1024 * 8 + 0x48));
	assert_true(bit_set(bm, 3072 * 8 + 0x49));
}

static void test_msr_policy(void **state)
{
	const uint32_t msrs[] = { 0, 0x10, 0x1a, 0x1c, 0x3a, 0x80, 0x480,
				  0x6df, 0x6e1, 0x7ff, 0x900, 0xc0000081,
				  0xc0000100, 0xc0000102, 0xc0000103,
				  0x40000080, 0x80000080, 0xc0010080,
				  0xffffffff };

	(void)state;
	assert_int_equal(msr_policy(0xc0000080, false), MSR_EMULATE_EFER_READ);
	assert_int_equal(msr_policy(0xc0000080, true), MSR_EMULATE_EFER_WRITE);
	assert_int_equal(msr_policy(0x277, false), MSR_EMULATE_PAT_READ);
	assert_int_equal(msr_policy(0x277, true), MSR_EMULATE_PAT_WRITE);
	/* MISC_ENABLE: a fixed value (Linux's verify_cpu reads it on Intel
	 * before it has an IDT): fast strings, no BTS, no PEBS, XD allowed. */
	assert_int_equal(msr_policy(0x1a0, false), MSR_EMULATE_MISC_ENABLE_READ);
	assert_int_equal(msr_policy(0x1a0, true), MSR_EMULATE_MISC_ENABLE_WRITE);
	assert_int_equal(MISC_ENABLE_VALUE, (1u << 0) | (1u << 11) | (1u << 12));
	assert_int_equal(MISC_ENABLE_VALUE >> 34 & 1, 0); /* XD disable */
	assert_int_equal(MISC_ENABLE_VALUE >> 22 & 1, 0); /* limit CPUID */
	/* The APIC's: the VM's virtual x2APIC (vdev/vlapic.h). */
	assert_int_equal(msr_policy(0x1b, false), MSR_EMULATE_APIC);
	assert_int_equal(msr_policy(0x1b, true), MSR_EMULATE_APIC);
	assert_int_equal(msr_policy(0x6e0, true), MSR_EMULATE_APIC);
	assert_int_equal(msr_policy(0x800, false), MSR_EMULATE_APIC);
	assert_int_equal(msr_policy(0x8ff, true), MSR_EMULATE_APIC);
	for (size_t i = 0; i < ARRAY_SIZE(msrs); i++) {
		assert_int_equal(msr_policy(msrs[i], false), MSR_DENY);
		assert_int_equal(msr_policy(msrs[i], true), MSR_DENY);
	}
}

/* Linux's secondary_startup_64 sets SCE and NXE with a read-modify-write:
 * that is the guest's; LME, SVME, FFXSR, reserved bits are not. */
static void test_efer_write(void **state)
{
	const uint64_t start = 0xd00; /* LME | LMA | NXE */
	uint64_t out = 0;

	(void)state;
	assert_true(efer_write(start, start | 1, &out));
	assert_int_equal(out, start | 1);
	assert_true(efer_write(start | 1, 0x500, &out)); /* NXE and SCE off */
	assert_int_equal(out, 0x500);
	assert_true(efer_write(start, 0x900, &out));     /* LMA ignored */
	assert_int_equal(out, start);
	out = 7;
	assert_false(efer_write(start, 0x801, &out));    /* LME off */
	assert_int_equal(out, 7);
	assert_false(efer_write(start, start | (1u << 12), &out)); /* SVME */
	assert_false(efer_write(start, start | (1u << 14), &out)); /* FFXSR */
	assert_false(efer_write(start, start | (1ull << 63), &out));
	assert_false(efer_write(start, start | 2, &out));
}

static void test_pat_valid(void **state)
{
	(void)state;
	assert_true(pat_valid(0x0007040600070406ull)); /* reset value */
	assert_true(pat_valid(0x0407050600070106ull)); /* Linux's */
	assert_true(pat_valid(0));
	assert_false(pat_valid(0x0007040600070402ull)); /* type 2 */
	assert_false(pat_valid(0x0307040600070406ull)); /* type 3 in PA7 */
	assert_false(pat_valid(0x0007040600070408ull)); /* 8 */
	assert_false(pat_valid(0x0007040600070486ull)); /* reserved bit */
}

/* ---- Control registers ------------------------------------------------- */

/* IA32_VMX_CR0/CR4_FIXED0/1 of Bochs' Skylake-X model. */
#define BOCHS_CR0_FIXED0 0x80000021ull
#define BOCHS_CR0_FIXED1 0xffffffffull
#define BOCHS_CR4_FIXED0 0x00002000ull
#define BOCHS_CR4_FIXED1 0x003727ffull

#define B(n) (1ull << (n))
static const uint64_t cr0_guest = B(0) | B(1) | B(2) | B(3) | B(4) | B(16) |
				  B(18) | B(29) | B(30) | B(31);
static const uint64_t cr4_guest = B(0) | B(1) | B(2) | B(3) | B(4) | B(5) |
				  B(7) | B(9) | B(10) | B(16) | B(18) | B(20) |
				  B(21);

static void test_cr0_mask_whitelist(void **state)
{
	uint64_t m;

	(void)state;
	m = cr0_guest_host_mask(BOCHS_CR0_FIXED0, BOCHS_CR0_FIXED1);
	assert_int_equal(m, ~cr0_guest);
	assert_int_equal(m, 0xffffffff1ffaffe0ull);
	assert_true(m & B(5));                 /* NE: fixed by VMX */
	assert_false(m & (B(0) | B(31)));      /* PE, PG: unrestricted guest */
	assert_true(m & B(6) && m & B(17) && m & B(28)); /* reserved */
	assert_true((m >> 32) == 0xffffffffu);
	/* A CPU that lets VMX guests change everything: still the whitelist. */
	assert_int_equal(cr0_guest_host_mask(0, ~0ull), ~cr0_guest);
	/* A bit the CPU forces (fixed0) or forbids (not in fixed1) is the TCB's. */
	m = cr0_guest_host_mask(BOCHS_CR0_FIXED0 | B(16), BOCHS_CR0_FIXED1);
	assert_true(m & B(16));
	m = cr0_guest_host_mask(BOCHS_CR0_FIXED0, BOCHS_CR0_FIXED1 & ~B(30));
	assert_true(m & B(30));
	assert_false(m & B(29));
}

static void test_cr4_mask_whitelist(void **state)
{
	const unsigned tcb_owned[] = {
		6 /* MCE */, 8 /* PCE */, 11 /* UMIP */, 12 /* LA57 */,
		13 /* VMXE */, 14 /* SMXE */, 17 /* PCIDE */, 19 /* KL */,
		22 /* PKE */, 23 /* CET */, 24 /* PKS */, 25 /* UINTR */,
		28 /* LAM_SUP */, 32 /* FRED */, 15, 26, 27, 29, 30, 31, 63,
	};
	uint64_t m;

	(void)state;
	m = cr4_guest_host_mask(BOCHS_CR4_FIXED0, BOCHS_CR4_FIXED1);
	assert_int_equal(m, ~cr4_guest);
	assert_int_equal(m, 0xffffffffffcaf940ull);
	/* Whatever the CPU allows, these stay the TCB's. */
	m = cr4_guest_host_mask(0, ~0ull);
	assert_int_equal(m, ~cr4_guest);
	for (size_t i = 0; i < ARRAY_SIZE(tcb_owned); i++)
		if (!(m & B(tcb_owned[i])))
			fail_msg("CR4 bit %u is guest-owned", tcb_owned[i]);
	/* A CPU without SMAP and SMEP: the guest cannot set them. */
	m = cr4_guest_host_mask(BOCHS_CR4_FIXED0, BOCHS_CR4_FIXED1 & ~(B(20) | B(21)));
	assert_true(m & B(20) && m & B(21));
	assert_false(m & B(18));
	/* Nor one the CPU forces on. */
	m = cr4_guest_host_mask(BOCHS_CR4_FIXED0 | B(5), BOCHS_CR4_FIXED1);
	assert_true(m & B(5));
}

/* Each CR4 bit a guest owns is a feature its CPUID shows; each TCB-owned
 * feature with a CPUID bit is hidden (so a guest has no reason to try). */
static void test_cr4_ownership_matches_cpuid(void **state)
{
	const struct { unsigned cr4_bit; uint32_t leaf; char reg; unsigned bit; } shown[] = {
		{ 0, 1, 'd', 1 }, { 1, 1, 'd', 1 },   /* VME, PVI: VME */
		{ 2, 1, 'd', 4 },                     /* TSD: TSC */
		{ 3, 1, 'd', 2 }, { 4, 1, 'd', 3 },   /* DE, PSE */
		{ 5, 1, 'd', 6 }, { 7, 1, 'd', 13 },  /* PAE, PGE */
		{ 9, 1, 'd', 24 }, { 10, 1, 'd', 25 },/* FXSR, SSE */
		{ 18, 1, 'c', 26 },                   /* XSAVE */
		{ 16, 7, 'b', 0 }, { 20, 7, 'b', 7 }, { 21, 7, 'b', 20 },
	};
	const struct { uint32_t leaf; char reg; unsigned bit; } hidden[] = {
		{ 1, 'd', 7 } /* MCE */, { 1, 'c', 5 } /* VMX */,
		{ 1, 'c', 6 } /* SMX */, { 1, 'c', 17 } /* PCID */,
		{ 7, 'c', 2 } /* UMIP */, { 7, 'c', 3 } /* PKU */,
		{ 7, 'c', 4 } /* OSPKE */, { 7, 'c', 7 } /* CET_SS */,
		{ 7, 'c', 16 } /* LA57 */, { 7, 'c', 23 } /* KL */,
		{ 7, 'c', 31 } /* PKS */, { 7, 'd', 20 } /* CET_IBT */,
		{ 7, 'd', 5 } /* UINTR */,
	};
	uint64_t m = cr4_guest_host_mask(0, ~0ull);

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(shown); i++) {
		struct cpuid_values v = filter(shown[i].leaf, 0, &all_ones, &default_ctx);
		uint32_t r = shown[i].reg == 'b' ? v.ebx : shown[i].reg == 'c' ? v.ecx : v.edx;

		assert_false(m & B(shown[i].cr4_bit));
		if (!(r & (1u << shown[i].bit)))
			fail_msg("CR4 bit %u is guest-owned, CPUID %#x %c bit %u hidden",
				 shown[i].cr4_bit, shown[i].leaf, shown[i].reg, shown[i].bit);
	}
	for (size_t i = 0; i < ARRAY_SIZE(hidden); i++) {
		struct cpuid_values v = filter(hidden[i].leaf, 0, &all_ones, &default_ctx);
		uint32_t r = hidden[i].reg == 'c' ? v.ecx : v.edx;

		if (r & (1u << hidden[i].bit))
			fail_msg("CPUID %#x %c bit %u shown", hidden[i].leaf,
				 hidden[i].reg, hidden[i].bit);
	}
	/* Every guest-owned CR4 bit was checked above. */
	{
		uint64_t covered = 0;

		for (size_t i = 0; i < ARRAY_SIZE(shown); i++)
			covered |= B(shown[i].cr4_bit);
		assert_int_equal(covered, ~m);
	}
}

#define CRQ(cr, type, gpr) ((uint64_t)(cr) | (uint64_t)(type) << 4 | \
			    (uint64_t)(gpr) << 8)

static void test_cr_decode(void **state)
{
	struct cr_exit cr;

	(void)state;
	/* mov %r13, %cr8 */
	memset(&cr, 0xa5, sizeof(cr));
	cr_exit_decode(CRQ(8, 0, 13), &cr);
	assert_int_equal(cr.cr, 8);
	assert_int_equal(cr.type, CR_MOV_TO);
	assert_int_equal(cr.gpr, 13);
	/* mov %cr8, %rsp */
	cr_exit_decode(CRQ(8, 1, 4), &cr);
	assert_int_equal(cr.type, CR_MOV_FROM);
	assert_int_equal(cr.gpr, 4);
	/* LMSW with its source data in bits 31:16 and a memory operand (bit
	 * 6); bits 63:32 and the reserved bits 15:12 and 7 ignored. */
	cr_exit_decode(CRQ(0, 3, 0) | 1u << 6 | 0xbeefull << 16 | 0xf080 |
		       0xffffffffull << 32, &cr);
	assert_int_equal(cr.cr, 0);
	assert_int_equal(cr.type, CR_LMSW);
	assert_int_equal(cr.gpr, 0);
	cr_exit_decode(CRQ(0, 2, 0), &cr);
	assert_int_equal(cr.type, CR_CLTS);
	cr_exit_decode(CRQ(15, 0, 15), &cr);
	assert_int_equal(cr.cr, 15);
	assert_int_equal(cr.gpr, 15);
}

static enum cr_decision cr(unsigned n, unsigned type, uint64_t value)
{
	struct cr_exit c;

	cr_exit_decode(CRQ(n, type, 1), &c);
	return cr_policy(&c, value);
}

static void test_cr8_is_emulated(void **state)
{
	(void)state;
	for (uint64_t v = 0; v <= 15; v++)
		assert_int_equal(cr(8, CR_MOV_TO, v), CR_TPR_WRITE);
	/* Bits 63:4 are reserved: #GP, as on the real CPU. */
	assert_int_equal(cr(8, CR_MOV_TO, 16), CR_INJECT_GP);
	assert_int_equal(cr(8, CR_MOV_TO, 0xf0), CR_INJECT_GP);
	assert_int_equal(cr(8, CR_MOV_TO, 1ull << 63), CR_INJECT_GP);
	assert_int_equal(cr(8, CR_MOV_TO, ~0ull), CR_INJECT_GP);
	assert_int_equal(cr(8, CR_MOV_FROM, 0), CR_TPR_READ);
	assert_int_equal(cr(8, CR_MOV_FROM, ~0ull), CR_TPR_READ);
}

static void test_cr0_cr4_writes_refused(void **state)
{
	(void)state;
	/* Only changes of TCB-owned bits exit; each is refused. */
	assert_int_equal(cr(0, CR_MOV_TO, 0x80000033), CR_INJECT_GP);
	assert_int_equal(cr(4, CR_MOV_TO, 0x2620), CR_INJECT_GP);
	assert_int_equal(cr(0, CR_CLTS, 0), CR_INJECT_GP);
	assert_int_equal(cr(0, CR_LMSW, 0), CR_INJECT_GP);
	/* Nothing else exits with Custos' controls: such an exit stops the VM. */
	assert_int_equal(cr(3, CR_MOV_TO, 0x2000), CR_STOP_VM);
	assert_int_equal(cr(3, CR_MOV_FROM, 0), CR_STOP_VM);
	assert_int_equal(cr(0, CR_MOV_FROM, 0), CR_STOP_VM);
	assert_int_equal(cr(4, CR_MOV_FROM, 0), CR_STOP_VM);
	assert_int_equal(cr(4, CR_CLTS, 0), CR_STOP_VM);
	assert_int_equal(cr(8, CR_CLTS, 0), CR_STOP_VM);
	assert_int_equal(cr(8, CR_LMSW, 0), CR_STOP_VM);
	assert_int_equal(cr(2, CR_MOV_TO, 0), CR_STOP_VM);
	assert_int_equal(cr(9, CR_MOV_TO, 0), CR_STOP_VM);
}

/* ---- Port I/O ----------------------------------------------------------- */

#define Q_IN     (1ull << 3)
#define Q_STRING (1ull << 4)
#define Q_REP    (1ull << 5)
#define Q_IMM    (1ull << 6)
#define Q_PORT(p) ((uint64_t)(p) << 16)

static void test_io_decode_sizes(void **state)
{
	const struct { uint64_t code; uint8_t size; } ok[] = {
		{ 0, 1 }, { 1, 2 }, { 3, 4 },
	};
	struct io_exit io;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		memset(&io, 0xa5, sizeof(io));
		assert_true(io_exit_decode(ok[i].code | Q_PORT(0x3f8), &io));
		assert_int_equal(io.size, ok[i].size);
		assert_int_equal(io.port, 0x3f8);
		assert_false(io.in);
		assert_false(io.string);
		assert_false(io.rep);
	}
	for (uint64_t code = 2; code < 8; code++) {
		if (code == 3)
			continue;
		memset(&io, 0xa5, sizeof(io));
		assert_false(io_exit_decode(code | Q_PORT(0x3f8) | Q_IN, &io));
		/* Refused without writing a half-decoded result. */
		assert_int_equal(io.port, 0xa5a5);
		assert_int_equal(io.size, 0xa5);
	}
}

static void test_io_decode_fields(void **state)
{
	struct io_exit io;

	(void)state;
	assert_true(io_exit_decode(3 | Q_IN | Q_PORT(0xcfc), &io));
	assert_int_equal(io.size, 4);
	assert_true(io.in);
	assert_false(io.string);
	assert_false(io.rep);
	assert_int_equal(io.port, 0xcfc);

	assert_true(io_exit_decode(0 | Q_STRING | Q_REP | Q_PORT(0x3f8), &io));
	assert_false(io.in);
	assert_true(io.string);
	assert_true(io.rep);

	assert_true(io_exit_decode(Q_STRING | Q_PORT(0), &io));
	assert_true(io.string);
	assert_false(io.rep);
	assert_int_equal(io.port, 0);

	/* Port 0xffff; the operand-encoding bit and bits above 31 are ignored. */
	assert_true(io_exit_decode(1 | Q_IMM | Q_PORT(0xffff) | (0xabcdull << 32),
				   &io));
	assert_int_equal(io.port, 0xffff);
	assert_int_equal(io.size, 2);
	assert_false(io.in);
	assert_false(io.string);
	assert_false(io.rep);
	/* Bits 15:7 are reserved and do not leak into the port. */
	assert_true(io_exit_decode(Q_IN | 0xff80 | Q_PORT(0x60), &io));
	assert_int_equal(io.port, 0x60);
	assert_true(io.in);
}

static enum io_decision policy(uint16_t port, uint8_t size, bool in,
			       bool string, bool rep)
{
	const struct io_exit io = { .port = port, .size = size, .in = in,
				    .string = string, .rep = rep };

	return io_policy(&io);
}

/* Every port, COM1 and the unclaimed ones alike, goes to the VM's
 * platform (vdev/, tested in test_vdev_*); all ones is what no device
 * answers, at each width. */
static void test_io_policy_ports_go_to_the_platform(void **state)
{
	const uint16_t ports[] = { 0, 0x20, 0x60, 0x64, 0x70, 0x80, 0x2f8,
				   0x3f7, 0x3f8, 0x3fd, 0x400, 0x3e8, 0x3f0,
				   0xcf8, 0xcfc, 0xfffe, 0xffff };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ports); i++)
		for (uint8_t size = 1; size <= 4; size *= 2)
			for (int in = 0; in < 2; in++)
				assert_int_equal(policy(ports[i], size, in,
							false, false), IO_PLATFORM);
	assert_int_equal(io_all_ones(1), 0xff);
	assert_int_equal(io_all_ones(2), 0xffff);
	assert_int_equal(io_all_ones(4), 0xffffffffu);
}

static void test_io_policy_string_stops(void **state)
{
	const uint16_t ports[] = { 0x3f8, 0x3fd, 0x3ff, 0x80, 0xffff };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ports); i++)
		for (uint8_t size = 1; size <= 4; size *= 2)
			for (int in = 0; in < 2; in++)
				for (int rep = 0; rep < 2; rep++)
					assert_int_equal(policy(ports[i], size,
								in, true, rep),
							 IO_STOP_VM);
	/* REP without string (a plain IN/OUT cannot have it) changes nothing. */
	assert_int_equal(policy(0x3f8, 1, false, false, true), IO_PLATFORM);
}

static void test_io_com2_reaches_only_its_owner_without_exits(void **state)
{
	static uint8_t bitmap[2][8192];
	(void)state;
	for (int owner = 0; owner < 2; owner++) {
		memset(bitmap[owner], owner ? 0x00 : 0x5a, sizeof(bitmap[owner]));
		/* As VMX builds it: two halves of 0x8000 ports. */
		io_bitmap_build(bitmap[owner], 0, 0x8000, owner);
		io_bitmap_build(bitmap[owner] + 4096, 0x8000, 0x8000, owner);
	}
	for (uint32_t port = 0; port <= 0xffff; port++) {
		bool com2 = port >= HOST_COM2_BASE && port <= HOST_COM2_LAST;
		bool bit0 = bitmap[0][port / 8] & (1u << (port % 8));
		bool bit1 = bitmap[1][port / 8] & (1u << (port % 8));

		assert_true(io_port_exits((uint16_t)port, false));
		assert_int_equal(io_port_exits((uint16_t)port, true), !com2);
		assert_true(bit0);
		assert_int_equal(bit1, !com2);
	}
	/* Another VM's COM2 access goes to its own platform, which claims
	 * no COM2 (all ones, test_vdev_*); the owner's never exit, so the
	 * policy knows no owner. */
	for (uint16_t port = HOST_COM2_BASE; port <= HOST_COM2_LAST; port++) {
		const struct io_exit in1 = { .port = port, .size = 1, .in = true };

		assert_int_equal(io_policy(&in1), IO_PLATFORM);
	}
}

static void test_io_decode_then_policy(void **state)
{
	struct io_exit io;

	(void)state;
	/* out dx, al with dx = 0x3f8 */
	assert_true(io_exit_decode(Q_PORT(0x3f8), &io));
	assert_int_equal(io_policy(&io), IO_PLATFORM);
	assert_int_equal(io.port, 0x3f8);
	assert_false(io.in);
	/* in eax, 0x60 */
	assert_true(io_exit_decode(3 | Q_IN | Q_IMM | Q_PORT(0x60), &io));
	assert_int_equal(io_policy(&io), IO_PLATFORM);
	assert_int_equal(io.size, 4);
	/* rep outsb to COM1 */
	assert_true(io_exit_decode(Q_STRING | Q_REP | Q_PORT(0x3f8), &io));
	assert_int_equal(io_policy(&io), IO_STOP_VM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuid_leaf0),
		cmocka_unit_test(test_cpuid_tsc_leaf),
		cmocka_unit_test(test_cpuid_leaf1_ecx),
		cmocka_unit_test(test_cpuid_leaf1_osxsave),
		cmocka_unit_test(test_cpuid_leaf1_ebx_edx),
		cmocka_unit_test(test_cpuid_unknown_leaves_zero),
		cmocka_unit_test(test_cpuid_custos_leaves),
		cmocka_unit_test(test_cpuid_leaf7),
		cmocka_unit_test(test_cpuid_leaf_d),
		cmocka_unit_test(test_cpuid_extended),
		cmocka_unit_test(test_msr_passthrough_set),
		cmocka_unit_test(test_msr_bitmap),
		cmocka_unit_test(test_msr_policy),
		cmocka_unit_test(test_efer_write),
		cmocka_unit_test(test_pat_valid),
		cmocka_unit_test(test_cr0_mask_whitelist),
		cmocka_unit_test(test_cr4_mask_whitelist),
		cmocka_unit_test(test_cr4_ownership_matches_cpuid),
		cmocka_unit_test(test_cr_decode),
		cmocka_unit_test(test_cr8_is_emulated),
		cmocka_unit_test(test_cr0_cr4_writes_refused),
		cmocka_unit_test(test_io_decode_sizes),
		cmocka_unit_test(test_io_decode_fields),
		cmocka_unit_test(test_io_policy_ports_go_to_the_platform),
		cmocka_unit_test(test_io_com2_reaches_only_its_owner_without_exits),
		cmocka_unit_test(test_io_policy_string_stops),
		cmocka_unit_test(test_io_decode_then_policy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
