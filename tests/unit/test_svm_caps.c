/* The SVM feature decision, with values no emulator here can produce. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "hv/svm/svm_caps.h"

/* Bochs' ryzen model: NP, LBR virtualisation, SVML, NRIPS, flush-by-ASID,
 * pause filter (CPUID 0x8000000A EDX = 0x44f). */
static struct svm_raw ryzen(void)
{
	return (struct svm_raw){
		.max_ext_leaf = 0x8000001f,
		.ext1_ecx = 1u << 2,
		.svm_eax = 1,
		.svm_ebx = 0x8000,
		.svm_edx = 0x44f,
		.vm_cr = 0,
	};
}

/* QEMU 7.2 TCG -cpu qemu64,+svm,+npt: NP only, 16 ASIDs. */
static struct svm_raw qemu(void)
{
	return (struct svm_raw){
		.max_ext_leaf = 0x8000000a,
		.ext1_ecx = (1u << 2) | 1u,
		.svm_eax = 1,
		.svm_ebx = 16,
		.svm_edx = 0x1,
		.vm_cr = 0,
	};
}

static void test_ryzen_has_what_bochs_offers(void **state)
{
	(void)state;
	struct svm_raw r = ryzen();
	struct svm_caps c;
	char line[200];

	assert_null(svm_caps_evaluate(&r, &c));
	assert_int_equal(c.revision, 1);
	assert_int_equal(c.asids, 0x8000);
	assert_true(c.nrips);
	assert_true(c.flush_by_asid);
	assert_true(c.pause_filter);
	assert_true(c.lbr_virt);
	assert_false(c.decode_assists);
	assert_false(c.vmcb_clean);
	svm_caps_describe(&c, line, sizeof(line));
	assert_string_equal(line, "svm rev 1; npt; 32768 asids; nrips, flush-by-asid, "
			    "pause filter; lacks decode assists, vmcb clean bits");
}

static void test_qemu_has_nested_paging_only(void **state)
{
	(void)state;
	struct svm_raw r = qemu();
	struct svm_caps c;
	char line[200];

	assert_null(svm_caps_evaluate(&r, &c));
	assert_int_equal(c.asids, 16);
	assert_false(c.nrips);
	assert_false(c.decode_assists);
	assert_false(c.flush_by_asid);
	assert_false(c.vmcb_clean);
	svm_caps_describe(&c, line, sizeof(line));
	assert_string_equal(line, "svm rev 1; npt; 16 asids; lacks nrips, decode "
			    "assists, flush-by-asid, vmcb clean bits, pause filter");
}

static void test_everything_noted_is_present(void **state)
{
	(void)state;
	struct svm_raw r = ryzen();
	struct svm_caps c;
	char line[200];

	r.svm_edx = 0xffffffff;
	assert_null(svm_caps_evaluate(&r, &c));
	assert_true(c.decode_assists && c.vmcb_clean);
	svm_caps_describe(&c, line, sizeof(line));
	assert_null(strstr(line, "lacks"));
	/* A short buffer cuts the line, never overruns it. */
	svm_caps_describe(&c, line, 10);
	assert_int_equal(strlen(line), 9);
}

#define EXPECT_REASON(base, mutate, reason)                           \
	do {                                                          \
		struct svm_raw r = base();                            \
		struct svm_caps c;                                    \
		memset(&c, 0xa5, sizeof(c));                          \
		mutate;                                               \
		const char *why = svm_caps_evaluate(&r, &c);          \
		assert_non_null(why);                                 \
		assert_string_equal(why, reason);                     \
	} while (0)

static void test_each_missing_feature_is_named(void **state)
{
	(void)state;
	/* An Intel CPU: no SVM bit (its VMX is the other backend's). */
	EXPECT_REASON(ryzen, r.ext1_ecx = 0,
		      "CPUID 0x80000001:ECX.SVM[bit 2] is 0 (this CPU or emulator has no SVM)");
	/* The SVM bit means nothing beyond the highest extended leaf. */
	EXPECT_REASON(ryzen, r.max_ext_leaf = 0x80000000,
		      "CPUID 0x80000001:ECX.SVM[bit 2] is 0 (this CPU or emulator has no SVM)");
	EXPECT_REASON(ryzen, r.max_ext_leaf = 0x80000008,
		      "CPUID has no SVM feature leaf 0x8000000A");
	EXPECT_REASON(qemu, r.vm_cr = VM_CR_SVMDIS | VM_CR_LOCK,
		      "disabled by firmware (VM_CR.SVMDIS is 1)");
	/* Unlocked or not: the owner said no. */
	EXPECT_REASON(qemu, r.vm_cr = VM_CR_SVMDIS,
		      "disabled by firmware (VM_CR.SVMDIS is 1)");
	EXPECT_REASON(ryzen, r.vm_cr = VM_CR_SVMDIS | VM_CR_LOCK,
		      "disabled by firmware (VM_CR.SVMDIS is 1; the firmware's SVM "
		      "lock takes a key to open)");
	EXPECT_REASON(ryzen, r.svm_edx &= ~1u,
		      "no nested paging (CPUID 0x8000000A:EDX.NP[bit 0] is 0)");
	EXPECT_REASON(qemu, r.svm_ebx = 1, "no ASID for guests (CPUID 0x8000000A:EBX < 2)");
	EXPECT_REASON(qemu, r.svm_ebx = 0, "no ASID for guests (CPUID 0x8000000A:EBX < 2)");
}

static void test_other_vm_cr_bits_do_not_matter(void **state)
{
	(void)state;
	struct svm_raw r = qemu();
	struct svm_caps c;

	r.vm_cr = ~VM_CR_SVMDIS; /* LOCK, DPD, R_INIT, DIS_A20M, ... */
	assert_null(svm_caps_evaluate(&r, &c));
	r.svm_ebx = 2;
	assert_null(svm_caps_evaluate(&r, &c));
	assert_int_equal(c.asids, 2);
}

static void test_cpuid_has_svm(void **state)
{
	(void)state;
	assert_true(svm_cpuid_has_svm(0x80000001, 1u << 2));
	assert_false(svm_cpuid_has_svm(0x80000001, ~(1u << 2)));
	assert_false(svm_cpuid_has_svm(0x80000000, 1u << 2));
	assert_false(svm_cpuid_has_svm(0, 0xffffffff));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ryzen_has_what_bochs_offers),
		cmocka_unit_test(test_qemu_has_nested_paging_only),
		cmocka_unit_test(test_everything_noted_is_present),
		cmocka_unit_test(test_each_missing_feature_is_named),
		cmocka_unit_test(test_other_vm_cr_bits_do_not_matter),
		cmocka_unit_test(test_cpuid_has_svm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
