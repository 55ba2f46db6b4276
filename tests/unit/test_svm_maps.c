/*
 * SVM's permission maps (hv/svm/svm_maps.c): every port intercepted, and
 * the MSR permission map deciding exactly what VMX's MSR bitmap decides,
 * MSR by MSR, for CPUs with and without the speculation-control MSRs. The
 * layout itself is pinned with offsets computed by hand from the APM, so
 * the builder and its reader cannot share a mistake unnoticed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "hv/exit_policy.h"
#include "hv/spec_policy.h"
#include "hv/svm/svm_maps.h"
#include "hv/svm/svm_caps.h"

static const struct spec_caps no_spec = { .ibpb = false };
static const struct spec_caps all_spec = {
	.ibpb = true,
	.spec_ctrl_bits = SPEC_CTRL_IBRS | SPEC_CTRL_STIBP | SPEC_CTRL_SSBD,
};
static const struct spec_caps ssbd_only = { .spec_ctrl_bits = SPEC_CTRL_SSBD };
static const struct spec_caps ibpb_only = { .ibpb = true };

static uint8_t msrpm[SVM_MSRPM_SIZE];
static uint8_t vmx_bitmap[4096];

/* VMX's bitmap read by hand (SDM 25.6.9): exits unless the bit is clear;
 * MSRs outside its two ranges always exit. */
static bool vmx_exits(uint32_t msr, bool write)
{
	uint32_t base;

	if (msr <= 0x1fff)
		base = 0;
	else if (msr >= 0xc0000000u && msr <= 0xc0001fffu)
		base = 1024;
	else
		return true;
	base += write ? 2048 : 0;
	return (vmx_bitmap[base + (msr & 0x1fff) / 8] >> (msr & 7)) & 1;
}

static void compare_range(uint32_t first, uint32_t count,
			  const struct spec_caps *spec, unsigned *passthrough)
{
	for (uint32_t i = 0; i < count; i++) {
		uint32_t msr = first + i;

		for (int w = 0; w < 2; w++) {
			bool svm = svm_msrpm_intercepts(msrpm, msr, w);

			if (vmx_exits(msr, w) != svm)
				fail_msg("MSR %#x %s: VMX %s, SVM %s", msr,
					 w ? "write" : "read",
					 vmx_exits(msr, w) ? "exits" : "passes",
					 svm ? "exits" : "passes");
			assert_int_equal(svm, !msr_is_passthrough(msr, w, spec));
			*passthrough += !svm;
		}
	}
}

/* Every MSR the VMX bitmap covers, SVM's third range, and samples outside
 * every range: the same decision. Returns how many accesses pass. */
static unsigned compare_maps(const struct spec_caps *spec)
{
	unsigned passthrough = 0;

	msr_bitmap_build(vmx_bitmap, spec);
	memset(msrpm, 0, sizeof(msrpm));
	svm_msrpm_build(msrpm, spec);
	compare_range(0x00000000u, 0x2000, spec, &passthrough);
	compare_range(0xc0000000u, 0x2000, spec, &passthrough);
	compare_range(0xc0010000u, 0x2000, spec, &passthrough);
	/* Between and beyond the ranges: intercepted by the CPU itself. */
	compare_range(0x00002000u, 0x100, spec, &passthrough);
	compare_range(0x40000000u, 0x100, spec, &passthrough);
	compare_range(0xbfffff00u, 0x100, spec, &passthrough);
	compare_range(0xc0002000u, 0x100, spec, &passthrough);
	compare_range(0xc0012000u, 0x100, spec, &passthrough);
	compare_range(0xffffff00u, 0x100, spec, &passthrough);
	return passthrough;
}

static void test_msrpm_decides_as_vmx_bitmap(void **state)
{
	(void)state;
	/* The seven syscall/segment MSRs, both ways. */
	assert_int_equal(compare_maps(&no_spec), 14);
	/* + SPEC_CTRL both ways, PRED_CMD write. */
	assert_int_equal(compare_maps(&all_spec), 17);
	assert_int_equal(compare_maps(&ssbd_only), 16);
	assert_int_equal(compare_maps(&ibpb_only), 15);
}

/* Byte and bit of an MSR's read intercept, from APM 15.11 directly. */
static void assert_msrpm_bits(uint32_t byte, unsigned read_bit, bool read_set,
			      bool write_set)
{
	assert_int_equal((msrpm[byte] >> read_bit) & 1, read_set);
	assert_int_equal((msrpm[byte] >> (read_bit + 1)) & 1, write_set);
}

static void test_msrpm_layout(void **state)
{
	(void)state;
	memset(msrpm, 0, sizeof(msrpm));
	svm_msrpm_build(msrpm, &all_spec);
	/* IA32_SPEC_CTRL 0x48: MSR 72 of range 0 -> bits 144/145 = byte 18,
	 * bits 0/1, both clear; IA32_PRED_CMD 0x49 -> byte 18 bits 2/3, only
	 * the write clear. */
	assert_msrpm_bits(18, 0, false, false);
	assert_msrpm_bits(18, 2, true, false);
	/* EFER 0xc0000080: range 1 (0x800), MSR 0x80 -> bits 256/257 = byte
	 * 0x800 + 32, bits 0/1: intercepted both ways (reads are emulated,
	 * writes refused). LSTAR 0xc0000082 -> byte 0x820 bits 4/5: pass. */
	assert_msrpm_bits(0x820, 0, true, true);
	assert_msrpm_bits(0x820, 4, false, false);
	/* KERNEL_GS_BASE 0xc0000102 -> byte 0x800 + 0x204/8 = 0x840, bits 4/5. */
	assert_msrpm_bits(0x840, 4, false, false);
	/* VM_CR and VM_HSAVE_PA (range 2, 0x1000): never a guest's. */
	assert_true(svm_msrpm_intercepts(msrpm, MSR_VM_CR, false));
	assert_true(svm_msrpm_intercepts(msrpm, MSR_VM_CR, true));
	assert_true(svm_msrpm_intercepts(msrpm, MSR_VM_HSAVE_PA, false));
	assert_true(svm_msrpm_intercepts(msrpm, MSR_VM_HSAVE_PA, true));
	assert_msrpm_bits(0x1000 + 0x117 / 4, (0x117 % 4) * 2, true, true);
	/* The x2APIC and IA32_APIC_BASE: the LAPIC is the TCB's alone. */
	for (uint32_t msr = 0x800; msr <= 0x8ff; msr++) {
		assert_true(svm_msrpm_intercepts(msrpm, msr, false));
		assert_true(svm_msrpm_intercepts(msrpm, msr, true));
	}
	assert_true(svm_msrpm_intercepts(msrpm, 0x1b, true));
	/* Every byte but the ones holding pass-through bits is all ones,
	 * the reserved fourth 2 KiB included. */
	unsigned partial = 0;
	for (size_t i = 0; i < SVM_MSRPM_SIZE; i++)
		partial += msrpm[i] != 0xff;
	assert_int_equal(partial, 1 /* 0x48/0x49 */ + 1 /* 0x80-0x83 */ +
			 1 /* 0x84 */ + 1 /* 0x100-0x103 */);
}

static void test_iopm_intercepts_every_port(void **state)
{
	(void)state;
	static uint8_t iopm[SVM_IOPM_SIZE];

	memset(iopm, 0, sizeof(iopm));
	svm_iopm_build(iopm, false);
	for (uint32_t port = 0; port <= 0xffff; port++) {
		assert_true(svm_iopm_intercepts(iopm, (uint16_t)port, 1));
		assert_true(svm_iopm_intercepts(iopm, (uint16_t)port, 2));
		assert_true(svm_iopm_intercepts(iopm, (uint16_t)port, 4));
	}
	/* The bits past port 0xffff, which a 4-byte access at 0xfffd-0xffff
	 * also consults (APM 15.10.1), and the rest of the third page. */
	for (size_t i = 0; i < SVM_IOPM_SIZE; i++)
		assert_int_equal(iopm[i], 0xff);
	/* The reader: a map with one port clear lets only that access by. */
	iopm[0x3f8 / 8] &= (uint8_t)~(1u << (0x3f8 % 8));
	assert_false(svm_iopm_intercepts(iopm, 0x3f8, 1));
	assert_true(svm_iopm_intercepts(iopm, 0x3f8, 2));
	assert_true(svm_iopm_intercepts(iopm, 0x3f7, 2));
	iopm[0x1fff] = 0x7f; /* port 0xffff */
	assert_false(svm_iopm_intercepts(iopm, 0xffff, 1));
	assert_true(svm_iopm_intercepts(iopm, 0xffff, 2)); /* bit 65536 set */
	iopm[0x2000] = 0xfe;
	assert_false(svm_iopm_intercepts(iopm, 0xffff, 2));
	assert_true(svm_iopm_intercepts(iopm, 0xffff, 4));
}

/* The TPGVM's map lets exactly its COM2 by, byte, word and dword accesses
 * inside it; one reaching past it (0x2fe-0x301) still exits. */
static void test_iopm_of_the_tpgvm_opens_only_com2(void **state)
{
	(void)state;
	static uint8_t iopm[SVM_IOPM_SIZE];

	memset(iopm, 0, sizeof(iopm));
	svm_iopm_build(iopm, true);
	for (uint32_t port = 0; port <= 0xffff; port++) {
		bool com2 = port >= 0x2f8 && port <= 0x2ff;

		assert_int_equal(svm_iopm_intercepts(iopm, (uint16_t)port, 1), !com2);
	}
	assert_false(svm_iopm_intercepts(iopm, 0x2f8, 4));
	assert_false(svm_iopm_intercepts(iopm, 0x2fc, 4));
	assert_true(svm_iopm_intercepts(iopm, 0x2fe, 4));
	assert_true(svm_iopm_intercepts(iopm, 0x2f7, 2));
	for (size_t i = 0x2000; i < SVM_IOPM_SIZE; i++)
		assert_int_equal(iopm[i], 0xff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msrpm_decides_as_vmx_bitmap),
		cmocka_unit_test(test_msrpm_layout),
		cmocka_unit_test(test_iopm_intercepts_every_port),
		cmocka_unit_test(test_iopm_of_the_tpgvm_opens_only_com2),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
