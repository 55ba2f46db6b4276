/* The VMX feature decision, with MSR values no emulator here can produce. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "hv/vmx/vmx_caps.h"

/* Values of a CPU that has everything (modelled on Bochs' Skylake-X). */
static struct vmx_msrs good(void)
{
	return (struct vmx_msrs){
		.basic = (1ull << 55) | (6ull << 50) | (4096ull << 32) | 0x2b,
		.pinbased = (0x7full << 32) | 0x16,
		.procbased = (0xfff9fffeull << 32) | 0x0401e172,
		.procbased2 = (0x3ffull << 32),
		.exit = (0x7fffffull << 32) | 0x36dff,
		.entry = (0xffffull << 32) | 0x11ff,
		/* 4-level, WB, 2M, 1G, INVEPT (+single, all), A/D,
		 * INVVPID (+single, all) */
		.ept_vpid = (1ull << 6) | (1ull << 14) | (1ull << 16) |
			    (1ull << 17) | (1ull << 20) | (1ull << 21) |
			    (1ull << 25) | (1ull << 26) | (1ull << 32) |
			    (1ull << 41) | (1ull << 42),
		.misc = 0x5,
	};
}

static void test_all_features_present(void **state)
{
	(void)state;
	struct vmx_msrs m = good();
	struct vmx_caps c;
	char line[200];

	assert_null(vmx_caps_evaluate(&m, &c));
	assert_int_equal(c.vmcs_revision, 0x2b);
	assert_int_equal(c.vmcs_size, 4096);
	assert_int_equal(c.preemption_timer_shift, 5);
	assert_true(c.ept_2m);
	assert_true(c.invept_single);
	vmx_caps_describe(&c, line, sizeof(line));
	assert_non_null(strstr(line, "ept 4-level wb 2M"));
	assert_non_null(strstr(line, "preemption timer tsc/32"));
}


#define EXPECT_REASON(mutate, reason)                                 \
	do {                                                          \
		struct vmx_msrs m = good();                           \
		struct vmx_caps c;                                    \
		mutate;                                               \
		const char *why = vmx_caps_evaluate(&m, &c);          \
		assert_non_null(why);                                 \
		assert_string_equal(why, reason);                     \
	} while (0)

static void test_each_missing_feature_is_named(void **state)
{
	(void)state;
	EXPECT_REASON(m.basic &= ~(1ull << 55), "IA32_VMX_BASIC: no TRUE control MSRs");
	EXPECT_REASON(m.basic &= ~(0xfull << 50),
		      "IA32_VMX_BASIC: VMCS memory type is not write-back");
	EXPECT_REASON(m.basic |= 1ull << 48,
		      "IA32_VMX_BASIC: VMX structures limited to 32-bit addresses");
	EXPECT_REASON(m.basic &= ~(0x1fffull << 32),
		      "IA32_VMX_BASIC: VMCS region size is not within 1..4096");
	EXPECT_REASON(m.pinbased &= ~(1ull << (32 + 6)), "no VMX preemption timer");
	EXPECT_REASON(m.procbased &= ~(1ull << (32 + 31)),
		      "no secondary processor-based controls");
	EXPECT_REASON(m.procbased &= ~(1ull << (32 + 28)), "no MSR bitmaps");
	EXPECT_REASON(m.procbased &= ~(1ull << (32 + 25)), "no I/O bitmaps");
	EXPECT_REASON(m.procbased &= ~(1ull << (32 + 19)),
		      "no CR8-load/CR8-store exiting");
	EXPECT_REASON(m.procbased &= ~(1ull << (32 + 20)),
		      "no CR8-load/CR8-store exiting");
	EXPECT_REASON(m.procbased2 &= ~(1ull << (32 + 1)), "no EPT");
	EXPECT_REASON(m.procbased2 &= ~(1ull << (32 + 5)), "no VPID");
	EXPECT_REASON(m.procbased2 &= ~(1ull << (32 + 7)), "no unrestricted guest");
	EXPECT_REASON(m.exit &= ~(1ull << (32 + 9)),
		      "VM exit cannot return to a 64-bit host");
	EXPECT_REASON(m.entry &= ~(1ull << (32 + 9)),
		      "VM entry cannot enter a 64-bit guest");
	EXPECT_REASON(m.ept_vpid &= ~(1ull << 6), "EPT has no 4-level page walk");
	EXPECT_REASON(m.ept_vpid &= ~(1ull << 14), "EPT has no write-back memory type");
	EXPECT_REASON(m.ept_vpid &= ~(1ull << 20), "no INVEPT");
	EXPECT_REASON(m.ept_vpid &= ~(1ull << 26), "INVEPT has no all-context type");
	EXPECT_REASON(m.ept_vpid &= ~(1ull << 32), "no INVVPID");
	EXPECT_REASON(m.ept_vpid &= ~((1ull << 41) | (1ull << 42)),
		      "INVVPID supports neither single-context nor all-context");
}

static void test_allowed0_bits_do_not_count_as_allowed1(void **state)
{
	(void)state;
	/* A feature bit set only in the low (allowed-0) half is not offered. */
	EXPECT_REASON(m.pinbased = (0ull << 32) | (1u << 6), "no VMX preemption timer");
}

static void test_feature_control(void **state)
{
	(void)state;
	assert_int_equal(vmx_feature_control_check(0), VMX_FC_ENABLE);
	assert_int_equal(vmx_feature_control_check(FEATURE_CONTROL_VMX_OUTSIDE_SMX),
			 VMX_FC_ENABLE);
	assert_int_equal(vmx_feature_control_check(FEATURE_CONTROL_LOCK |
						   FEATURE_CONTROL_VMX_OUTSIDE_SMX),
			 VMX_FC_READY);
	assert_int_equal(vmx_feature_control_check(FEATURE_CONTROL_LOCK),
			 VMX_FC_LOCKED_OFF);
	/* Locked with only "VMX inside SMX" (bit 1): still unusable for us. */
	assert_int_equal(vmx_feature_control_check(FEATURE_CONTROL_LOCK | 2),
			 VMX_FC_LOCKED_OFF);
}

static void test_cpuid_and_fixed_bits(void **state)
{
	(void)state;
	assert_true(vmx_cpuid_has_vmx(1u << 5));
	assert_false(vmx_cpuid_has_vmx(~(1u << 5)));
	/* Bits fixed to 1 get set, bits fixed to 0 get cleared. */
	assert_int_equal(vmx_apply_fixed(0x0, 0x80000021, 0xffffffff), 0x80000021);
	assert_int_equal(vmx_apply_fixed(0xffffffff, 0x0, 0x0000ffff), 0x0000ffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_features_present),
		cmocka_unit_test(test_each_missing_feature_is_named),
		cmocka_unit_test(test_allowed0_bits_do_not_count_as_allowed1),
		cmocka_unit_test(test_feature_control),
		cmocka_unit_test(test_cpuid_and_fixed_bits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
