/*
 * Tests of the side-channel decisions (hv/spec_policy.c, docs/vm-exits.md):
 * what the CPU offers, from CPUID and IA32_ARCH_CAPABILITIES values of
 * CPUs no emulator here models, and which barriers a switch issues for
 * which owners -- none between VMs of one owner, none the CPU lacks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "hv/spec_policy.h"

#define B(n) (1u << (n))
#define L7(edx) ((struct cpuid_values){ 0, 0, 0, (edx) })
#define E8(ebx) ((struct cpuid_values){ 0x3030, (ebx), 0, 0 })

static struct spec_caps decode(struct cpuid_values l7, struct cpuid_values e8,
			       uint64_t arch)
{
	struct spec_caps c;

	memset(&c, 0xa5, sizeof(c)); /* every field must be written */
	spec_caps_decode(&l7, &e8, arch, &c);
	return c;
}

static void test_nothing_reported(void **state)
{
	/* Bochs' Skylake-X: leaf 7 EBX has features, EDX none; 0x80000008
	 * EBX zero. */
	const struct cpuid_values bochs7 = { 0, 0xd19f4fbb, 0, 0 };
	struct spec_caps c;

	(void)state;
	c = decode(bochs7, E8(0), 0);
	assert_false(c.ibpb);
	assert_false(c.l1d_flush);
	assert_false(c.md_clear);
	assert_false(c.l1d_flush_not_needed);
	assert_int_equal(c.spec_ctrl_bits, 0);
	assert_int_equal(spec_switch_barriers(&c, false), 0);
	assert_int_equal(spec_switch_barriers(&c, true), 0);
	assert_false(spec_has_arch_capabilities(&bochs7));
	/* Every other bit of the leaves means nothing here. */
	c = decode(L7(~(B(10) | B(26) | B(27) | B(28) | B(29) | B(31))),
		   E8(~(B(12) | B(14) | B(15) | B(24))), ~0ull);
	assert_false(c.ibpb || c.l1d_flush || c.md_clear || c.l1d_flush_not_needed);
	assert_int_equal(c.spec_ctrl_bits, 0);
}

static void test_intel_bits(void **state)
{
	struct spec_caps c;

	(void)state;
	c = decode(L7(B(26)), E8(0), 0);        /* IBRS_IBPB */
	assert_true(c.ibpb);
	assert_int_equal(c.spec_ctrl_bits, SPEC_CTRL_IBRS);
	c = decode(L7(B(27)), E8(0), 0);        /* STIBP */
	assert_false(c.ibpb);
	assert_int_equal(c.spec_ctrl_bits, SPEC_CTRL_STIBP);
	c = decode(L7(B(31)), E8(0), 0);        /* SSBD */
	assert_int_equal(c.spec_ctrl_bits, SPEC_CTRL_SSBD);
	c = decode(L7(B(28)), E8(0), 0);        /* L1D_FLUSH */
	assert_true(c.l1d_flush);
	assert_int_equal(c.spec_ctrl_bits, 0);
	c = decode(L7(B(10)), E8(0), 0);        /* MD_CLEAR */
	assert_true(c.md_clear);
	assert_false(c.ibpb);
}

static void test_amd_bits(void **state)
{
	struct spec_caps c;

	(void)state;
	c = decode(L7(0), E8(B(12)), 0);
	assert_true(c.ibpb);
	assert_int_equal(c.spec_ctrl_bits, 0);
	c = decode(L7(0), E8(B(14)), 0);
	assert_false(c.ibpb);
	assert_int_equal(c.spec_ctrl_bits, SPEC_CTRL_IBRS);
	c = decode(L7(0), E8(B(15)), 0);
	assert_int_equal(c.spec_ctrl_bits, SPEC_CTRL_STIBP);
	c = decode(L7(0), E8(B(24)), 0);
	assert_int_equal(c.spec_ctrl_bits, SPEC_CTRL_SSBD);
	c = decode(L7(0), E8(B(25)), 0);        /* VIRT_SSBD: another MSR */
	assert_int_equal(c.spec_ctrl_bits, 0);
	/* AMD has no L1D_FLUSH or MD_CLEAR to report: IBPB only (Zen 2). */
	c = decode(L7(0), E8(B(12) | B(14) | B(15) | B(24)), 0);
	assert_int_equal(spec_switch_barriers(&c, false), BARRIER_IBPB);
}

static void test_arch_capabilities(void **state)
{
	const uint32_t all = B(10) | B(26) | B(27) | B(28) | B(29) | B(31);
	struct spec_caps c;

	(void)state;
	assert_true(spec_has_arch_capabilities(&L7(B(29))));
	/* RDCL_NO (no L1TF) or SKIP_L1DFL_VMENTRY: no flush needed. */
	c = decode(L7(all), E8(0), 1u << 0);
	assert_true(c.l1d_flush_not_needed);
	c = decode(L7(all), E8(0), 1u << 3);
	assert_true(c.l1d_flush_not_needed);
	/* MDS_NO, TAA_NO, other bits: still needed. */
	c = decode(L7(all), E8(0), B(1) | B(2) | B(5) | B(8));
	assert_false(c.l1d_flush_not_needed);
	/* Without the MSR (EDX[29] clear) the value passed is ignored. */
	c = decode(L7(all & ~B(29)), E8(0), 1u << 0);
	assert_false(c.l1d_flush_not_needed);
}

static void test_barriers_for_real_cpus(void **state)
{
	struct spec_caps c;

	(void)state;
	/* Skylake server with current microcode: affected by L1TF and MDS. */
	c = decode(L7(B(10) | B(26) | B(27) | B(28) | B(29) | B(31)), E8(0), 0);
	assert_int_equal(spec_switch_barriers(&c, false),
			 BARRIER_IBPB | BARRIER_L1D_FLUSH);
	assert_int_equal(c.spec_ctrl_bits, 7);
	/* Cascade Lake: RDCL_NO, MDS_NO, but still MD_CLEAR (TAA): VERW. */
	c = decode(L7(B(10) | B(26) | B(27) | B(28) | B(29) | B(31)), E8(0),
		   B(0) | B(1) | B(5));
	assert_int_equal(spec_switch_barriers(&c, false),
			 BARRIER_IBPB | BARRIER_VERW);
	/* A CPU with MD_CLEAR but without L1D_FLUSH: VERW. */
	c = decode(L7(B(10) | B(26)), E8(0), 0);
	assert_int_equal(spec_switch_barriers(&c, false),
			 BARRIER_IBPB | BARRIER_VERW);
	/* Same owner: nothing, on every one of them. */
	assert_int_equal(spec_switch_barriers(&c, true), 0);
}

/* Every combination of capabilities: the properties of the decision. */
static void test_barrier_properties(void **state)
{
	(void)state;
	for (unsigned m = 0; m < 16; m++) {
		const struct spec_caps c = {
			.ibpb = m & 1, .l1d_flush = m & 2, .md_clear = m & 4,
			.l1d_flush_not_needed = m & 8,
			.spec_ctrl_bits = (m & 1) ? 7 : 0,
		};
		unsigned b = spec_switch_barriers(&c, false);
		bool flush = c.l1d_flush && !c.l1d_flush_not_needed;

		assert_int_equal(spec_switch_barriers(&c, true), 0);
		assert_int_equal(!!(b & BARRIER_IBPB), c.ibpb);
		assert_int_equal(!!(b & BARRIER_L1D_FLUSH), flush);
		assert_int_equal(!!(b & BARRIER_VERW), !flush && c.md_clear);
		/* Nothing the CPU lacks, nothing but the three. */
		assert_int_equal(b & ~(unsigned)(BARRIER_IBPB | BARRIER_L1D_FLUSH |
						  BARRIER_VERW), 0);
		if (!c.l1d_flush)
			assert_int_equal(b & BARRIER_L1D_FLUSH, 0);
		if (!c.md_clear)
			assert_int_equal(b & BARRIER_VERW, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_reported),
		cmocka_unit_test(test_intel_bits),
		cmocka_unit_test(test_amd_bits),
		cmocka_unit_test(test_arch_capabilities),
		cmocka_unit_test(test_barriers_for_real_cpus),
		cmocka_unit_test(test_barrier_properties),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
