/*
 * SVM exit information as the structs the exit decisions take
 * (hv/svm/svm_exit_decode.c): IOIO's EXITINFO1, and CR-access exits with
 * decode assists and from a decoded instruction, including one that is not
 * the instruction the exit says.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "hv/svm/svm_exit_decode.h"
#include "hv/svm/vmcb.h"

static void test_ioio(void **state)
{
	(void)state;
	struct io_exit io;

	/* OUT DX, AL to 0x3f8. */
	assert_true(svm_ioio_decode(0x03f80000ull | SVM_IOIO_SIZE8, &io));
	assert_int_equal(io.port, 0x3f8);
	assert_int_equal(io.size, 1);
	assert_false(io.in);
	assert_false(io.string);
	/* IN EAX from 0xcfc, with an address size and segment noted. */
	assert_true(svm_ioio_decode(0x0cfc0000ull | SVM_IOIO_IN | SVM_IOIO_SIZE32 |
				    (1u << 8) | (3u << 10), &io));
	assert_int_equal(io.port, 0xcfc);
	assert_int_equal(io.size, 4);
	assert_true(io.in);
	/* REP OUTSW to 0xffff. */
	assert_true(svm_ioio_decode(0xffff0000ull | SVM_IOIO_STRING | SVM_IOIO_REP |
				    SVM_IOIO_SIZE16, &io));
	assert_int_equal(io.port, 0xffff);
	assert_int_equal(io.size, 2);
	assert_true(io.string && io.rep);
	/* No size, or two: refused. */
	assert_false(svm_ioio_decode(0x03f80000ull, &io));
	assert_false(svm_ioio_decode(SVM_IOIO_SIZE8 | SVM_IOIO_SIZE16, &io));
	assert_false(svm_ioio_decode(SVM_IOIO_SIZE8 | SVM_IOIO_SIZE16 | SVM_IOIO_SIZE32, &io));
	/* The same decision as VMX's for the same access. */
	struct io_exit vmx;
	assert_true(svm_ioio_decode(0x03fd0000ull | SVM_IOIO_IN | SVM_IOIO_SIZE8, &io));
	assert_true(io_exit_decode((0x3fdull << 16) | (1u << 3), &vmx));
	assert_int_equal(io.port, vmx.port);
	assert_int_equal(io.size, vmx.size);
	assert_int_equal(io.in, vmx.in);
	assert_int_equal(io.string, vmx.string);
	assert_int_equal(io.rep, vmx.rep);
	assert_int_equal(io_policy(&io), io_policy(&vmx));
}

static struct cr_exit cr_ok(uint64_t code, uint64_t info, bool assists,
			    const struct insn *i)
{
	struct cr_exit c;

	memset(&c, 0xa5, sizeof(c));
	assert_true(svm_cr_exit_decode(code, info, assists, i, &c));
	return c;
}

static void test_cr_with_decode_assists(void **state)
{
	(void)state;
	struct cr_exit c;

	/* MOV CR4, R9: write of CR4, GPR 9. */
	c = cr_ok(SVM_EXIT_CR0_WRITE + 4, SVM_CR_EXIT_MOV | 9, true, NULL);
	assert_int_equal(c.cr, 4);
	assert_int_equal(c.type, CR_MOV_TO);
	assert_int_equal(c.gpr, 9);
	/* MOV RSP, CR0. */
	c = cr_ok(SVM_EXIT_CR0_READ, SVM_CR_EXIT_MOV | 4, true, NULL);
	assert_int_equal(c.type, CR_MOV_FROM);
	assert_int_equal(c.gpr, 4);
	/* CLTS/LMSW (bit 63 clear) still need the instruction. */
	struct cr_exit x;
	assert_false(svm_cr_exit_decode(SVM_EXIT_CR0_WRITE, 0, true, NULL, &x));
	const struct insn clts = { .kind = INSN_CLTS, .len = 2 };
	c = cr_ok(SVM_EXIT_CR0_WRITE, 0, true, &clts);
	assert_int_equal(c.type, CR_CLTS);
	/* Not a CR exit at all. */
	assert_false(svm_cr_exit_decode(SVM_EXIT_CPUID, SVM_CR_EXIT_MOV, true, NULL, &x));
	assert_false(svm_cr_exit_decode(SVM_EXIT_DR0_READ, SVM_CR_EXIT_MOV, true, NULL, &x));
}

static void test_cr_from_the_instruction(void **state)
{
	(void)state;
	const struct insn to_cr4 = { .kind = INSN_MOV_TO_CR, .len = 3, .cr = 4, .gpr = 3 };
	const struct insn from_cr8 = { .kind = INSN_MOV_FROM_CR, .len = 4, .cr = 8, .gpr = 12 };
	const struct insn lmsw = { .kind = INSN_LMSW, .len = 3, .gpr = 6 };
	const struct insn cpuid = { .kind = INSN_CPUID, .len = 2 };
	struct cr_exit c, x;

	c = cr_ok(SVM_EXIT_CR0_WRITE + 4, 0, false, &to_cr4);
	assert_int_equal(c.cr, 4);
	assert_int_equal(c.type, CR_MOV_TO);
	assert_int_equal(c.gpr, 3);
	/* Decode assists absent: EXITINFO1 is not believed, whatever it says. */
	c = cr_ok(SVM_EXIT_CR0_WRITE + 4, SVM_CR_EXIT_MOV | 7, false, &to_cr4);
	assert_int_equal(c.gpr, 3);
	c = cr_ok(SVM_EXIT_CR0_READ + 8, 0, false, &from_cr8);
	assert_int_equal(c.type, CR_MOV_FROM);
	assert_int_equal(c.gpr, 12);
	c = cr_ok(SVM_EXIT_CR0_WRITE, 0, false, &lmsw);
	assert_int_equal(c.type, CR_LMSW);
	assert_int_equal(c.gpr, 6);
	/* The instruction is not the one the exit says: another CR, the
	 * other direction, CLTS/LMSW for anything but a CR0 write, or no
	 * CR instruction at all; or no instruction. */
	assert_false(svm_cr_exit_decode(SVM_EXIT_CR0_WRITE + 3, 0, false, &to_cr4, &x));
	assert_false(svm_cr_exit_decode(SVM_EXIT_CR0_READ + 4, 0, false, &to_cr4, &x));
	assert_false(svm_cr_exit_decode(SVM_EXIT_CR0_WRITE + 8, 0, false, &from_cr8, &x));
	assert_false(svm_cr_exit_decode(SVM_EXIT_CR0_READ, 0, false, &lmsw, &x));
	assert_false(svm_cr_exit_decode(SVM_EXIT_CR0_WRITE + 4, 0, false, &lmsw, &x));
	assert_false(svm_cr_exit_decode(SVM_EXIT_CR0_WRITE, 0, false, &cpuid, &x));
	assert_false(svm_cr_exit_decode(SVM_EXIT_CR0_WRITE + 4, 0, false, NULL, &x));
	/* And cr_policy decides on it as on VMX: a CR4 write is #GP there
	 * (only TCB-owned bits exit on VMX; the SVM backend must compare the
	 * bits itself before asking). */
	c = cr_ok(SVM_EXIT_CR0_WRITE + 4, 0, false, &to_cr4);
	assert_int_equal(cr_policy(&c, 0), CR_INJECT_GP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ioio),
		cmocka_unit_test(test_cr_with_decode_assists),
		cmocka_unit_test(test_cr_from_the_instruction),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
