/*
 * No VM reaches a local APIC (docs/boot.md, "Other CPUs"): the parked
 * application processors wait for a start-up IPI, and only a local APIC
 * can send one. Its MMIO page is never a managed frame (test_memmap.c);
 * here, the other way in: every x2APIC MSR, IA32_APIC_BASE and
 * IA32_TSC_DEADLINE exit (SDM Vol. 3C 25.6.9 MSR bitmap) and go to the
 * VM's own virtual APIC (vdev/vlapic.h, hv/exit_policy.c), which can
 * send an IPI to nobody but its own vCPU.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "hv/exit_policy.h"
#include "hv/spec_policy.h"

#define MSR_IA32_APIC_BASE 0x1bu
#define MSR_TSC_DEADLINE   0x6e0u
#define X2APIC_FIRST       0x800u /* SDM Vol. 3A 11.12.1: 800H-8FFH */
#define X2APIC_LAST        0x8ffu

/* SDM Vol. 3C 25.6.9: read bitmap for 0..1FFFH at byte 0, write at 2048. */
static bool exits(const uint8_t *bitmap, uint32_t msr, bool write)
{
	unsigned byte = (write ? 2048u : 0u) + msr / 8;

	return bitmap[byte] & (1u << (msr % 8));
}

/* On a CPU without and on one with every speculation control guests may
 * be given (hv/spec_policy.h): those open other MSRs, never an APIC's. */
static void test_apic_msrs_exit_to_the_virtual_apic(void **state)
{
	static const struct spec_caps cpus[] = {
		{ 0 },
		{ .ibpb = true, .l1d_flush = true, .md_clear = true,
		  .spec_ctrl_bits = ~0ull },
	};
	static uint8_t bitmap[4096];

	(void)state;
	for (size_t c = 0; c < sizeof(cpus) / sizeof(cpus[0]); c++) {
		msr_bitmap_build(bitmap, &cpus[c]);
		for (uint32_t msr = X2APIC_FIRST; msr <= X2APIC_LAST + 2; msr++) {
			uint32_t m = msr == X2APIC_LAST + 1 ? MSR_IA32_APIC_BASE :
				     msr == X2APIC_LAST + 2 ? MSR_TSC_DEADLINE : msr;

			assert_false(msr_is_passthrough(m, false, &cpus[c]));
			assert_false(msr_is_passthrough(m, true, &cpus[c]));
			assert_true(exits(bitmap, m, false));
			assert_true(exits(bitmap, m, true));
			assert_int_equal(msr_policy(m, false), MSR_EMULATE_APIC);
			assert_int_equal(msr_policy(m, true), MSR_EMULATE_APIC);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_apic_msrs_exit_to_the_virtual_apic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
