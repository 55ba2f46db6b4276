/*
 * Tests of hypercall decode/execute (tcb/hypercall.c) against the ABI in
 * include/custos/guest_abi.h. A fake environment gives the caller a guest
 * memory array of mem_size bytes and captures the console; every callback
 * is counted so that a refused call can be shown to have touched nothing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tcb/hypercall.h"

#define MEM_SIZE (3 * HC_CONSOLE_WRITE_MAX)
#define NO_FAIL UINT64_MAX

struct fake {
	uint8_t *mem;
	uint64_t mem_size;
	uint64_t fail_from;   /* read_guest fails for spans reaching this gpa */
	unsigned reads;
	uint64_t read_bytes;
	bool read_outside;    /* a read reached outside [0, mem_size) */
	char *console;
	size_t console_len;
	size_t console_cap;
};

static bool fake_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct fake *f = ctx;

	f->reads++;
	if (gpa > f->mem_size || len > f->mem_size - gpa) {
		f->read_outside = true;
		return false;
	}
	if (f->fail_from != NO_FAIL && gpa + len > f->fail_from)
		return false;
	memcpy(buf, f->mem + gpa, len);
	f->read_bytes += len;
	return true;
}

static void fake_put(void *ctx, char c)
{
	struct fake *f = ctx;

	if (f->console_len < f->console_cap)
		f->console[f->console_len] = c;
	f->console_len++;
}

struct fixture {
	struct fake fake;
	struct hc_env env;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->fake.mem_size = MEM_SIZE;
	fx->fake.mem = malloc(MEM_SIZE);
	fx->fake.console_cap = 2 * MEM_SIZE;
	fx->fake.console = calloc(1, fx->fake.console_cap);
	fx->fake.fail_from = NO_FAIL;
	if (!fx->fake.mem || !fx->fake.console)
		return -1;
	for (size_t i = 0; i < MEM_SIZE; i++)
		fx->fake.mem[i] = (uint8_t)(i * 13 + (i >> 8) + 1);
	fx->env = (struct hc_env){
		.mem_size = MEM_SIZE,
		.is_tpgvm = false,
		.read_guest = fake_read,
		.console_put = fake_put,
		.ctx = &fx->fake,
	};
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	free(fx->fake.mem);
	free(fx->fake.console);
	free(fx);
	return 0;
}

/* Run one call; res starts as garbage so every field must be written. */
static struct hc_result call(struct fixture *fx, uint64_t nr, uint64_t a0,
			     uint64_t a1, unsigned cpl)
{
	struct hc_call c = { .nr = nr, .arg = { a0, a1, 0x1111, 0x2222 }, .cpl = cpl };
	struct hc_result res;

	memset(&res, 0xa5, sizeof(res));
	hypercall_handle(&c, &fx->env, &res);
	return res;
}

static void assert_untouched(const struct fixture *fx)
{
	assert_int_equal(fx->fake.reads, 0);
	assert_int_equal(fx->fake.console_len, 0);
}

static void expect_error(struct fixture *fx, uint64_t nr, uint64_t a0,
			 uint64_t a1, unsigned cpl, int64_t err)
{
	struct hc_result res = call(fx, nr, a0, a1, cpl);

	assert_int_equal(res.ret, err);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_untouched(fx);
}

static void test_version(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_VERSION, 7, 8, 0);

	assert_int_equal(res.ret, CUSTOS_ABI_VERSION);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_untouched(fx);
}

static void test_yield(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_YIELD, 0, 0, 0);

	assert_int_equal(res.ret, 0);
	assert_int_equal(res.effect, HC_EFFECT_YIELD);
	assert_untouched(fx);
}

static void test_exit(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_EXIT, 42, 0, 0);

	assert_int_equal(res.effect, HC_EFFECT_EXIT);
	assert_int_equal(res.exit_code, 42);
	assert_untouched(fx);

	res = call(fx, HC_EXIT, UINT64_MAX, 0, 0);
	assert_int_equal(res.effect, HC_EFFECT_EXIT);
	assert_true(res.exit_code == UINT64_MAX);
}

static void test_console_write_copies_exact_bytes(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_CONSOLE_WRITE, 0x123, 300, 0);

	assert_int_equal(res.ret, 300);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_int_equal(fx->fake.console_len, 300);
	assert_memory_equal(fx->fake.console, fx->fake.mem + 0x123, 300);
	assert_int_equal(fx->fake.read_bytes, 300);
	assert_false(fx->fake.read_outside);
}

static void test_console_write_len_zero(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_CONSOLE_WRITE, 0x10, 0, 0);

	assert_int_equal(res.ret, 0);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_int_equal(fx->fake.console_len, 0);
	assert_int_equal(fx->fake.read_bytes, 0);
}

static void test_console_write_max(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_CONSOLE_WRITE, 5, HC_CONSOLE_WRITE_MAX, 0);

	assert_int_equal(res.ret, HC_CONSOLE_WRITE_MAX);
	assert_int_equal(fx->fake.console_len, HC_CONSOLE_WRITE_MAX);
	assert_memory_equal(fx->fake.console, fx->fake.mem + 5,
			    HC_CONSOLE_WRITE_MAX);
	assert_false(fx->fake.read_outside);
}

static void test_console_write_ends_at_top(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_CONSOLE_WRITE, MEM_SIZE - 17, 17, 0);

	assert_int_equal(res.ret, 17);
	assert_int_equal(fx->fake.console_len, 17);
	assert_memory_equal(fx->fake.console, fx->fake.mem + MEM_SIZE - 17, 17);
	assert_false(fx->fake.read_outside);
}

static void test_console_write_too_long(void **state)
{
	struct fixture *fx = *state;

	expect_error(fx, HC_CONSOLE_WRITE, 0, HC_CONSOLE_WRITE_MAX + 1, 0,
		     HC_E_INVAL);
	expect_error(fx, HC_CONSOLE_WRITE, 0, UINT64_MAX, 0, HC_E_INVAL);
	/* Too long takes precedence regardless of gpa. */
	expect_error(fx, HC_CONSOLE_WRITE, UINT64_MAX, 1ull << 32, 0, HC_E_INVAL);
}

static void test_console_write_outside_memory(void **state)
{
	struct fixture *fx = *state;

	/* One byte past the top. */
	expect_error(fx, HC_CONSOLE_WRITE, MEM_SIZE - 16, 17, 0, HC_E_FAULT);
	expect_error(fx, HC_CONSOLE_WRITE, MEM_SIZE, 1, 0, HC_E_FAULT);
	expect_error(fx, HC_CONSOLE_WRITE, MEM_SIZE + 1, 0, 0, HC_E_FAULT);
	/* gpa + len wraps around 2^64. */
	expect_error(fx, HC_CONSOLE_WRITE, UINT64_MAX - 1, 4, 0, HC_E_FAULT);
	expect_error(fx, HC_CONSOLE_WRITE, UINT64_MAX, 1, 0, HC_E_FAULT);
	expect_error(fx, HC_CONSOLE_WRITE, UINT64_MAX - HC_CONSOLE_WRITE_MAX + 2,
		     HC_CONSOLE_WRITE_MAX, 0, HC_E_FAULT);
	expect_error(fx, HC_CONSOLE_WRITE, 1ull << 63, 8, 0, HC_E_FAULT);
}

static void test_console_write_empty_at_top(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_CONSOLE_WRITE, MEM_SIZE, 0, 0);

	/* An empty buffer ending at the top is inside memory: a successful
	 * write of nothing that reads nothing. */
	assert_int_equal(res.ret, 0);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_untouched(fx);
}

static void test_console_write_zero_memory(void **state)
{
	struct fixture *fx = *state;

	fx->env.mem_size = 0;
	expect_error(fx, HC_CONSOLE_WRITE, 0, 1, 0, HC_E_FAULT);
}

static void test_console_write_read_fails_first(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res;

	fx->fake.fail_from = 0x100; /* the very first span fails */
	res = call(fx, HC_CONSOLE_WRITE, 0x80, 200, 0);
	assert_int_equal(res.ret, HC_E_FAULT);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_int_equal(fx->fake.console_len, 0);
}

static void test_console_write_read_fails_midway(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res;

	/* Fails somewhere past the first span: what was written is reported,
	 * and exactly those bytes reached the console. */
	fx->fake.fail_from = 0x1000 + 2000;
	res = call(fx, HC_CONSOLE_WRITE, 0x1000, 4000, 0);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	assert_true(res.ret > 0 && res.ret < 4000);
	assert_true(res.ret <= 2000);
	assert_int_equal((size_t)res.ret, fx->fake.console_len);
	assert_memory_equal(fx->fake.console, fx->fake.mem + 0x1000,
			    fx->fake.console_len);
	assert_false(fx->fake.read_outside);
}

static void test_lifecycle_denied_for_non_tpgvm(void **state)
{
	struct fixture *fx = *state;

	for (uint64_t nr = HC_LIFECYCLE_FIRST; nr <= HC_LIFECYCLE_LAST; nr++)
		expect_error(fx, nr, 0, 16, 0, HC_E_DENIED);
	assert_int_equal(HC_LIFECYCLE_FIRST, 0x100);
	assert_int_equal(HC_LIFECYCLE_LAST, 0x106);
}

static void test_lifecycle_not_denied_for_tpgvm(void **state)
{
	struct fixture *fx = *state;

	fx->env.is_tpgvm = true;
	for (uint64_t nr = HC_LIFECYCLE_FIRST; nr <= HC_LIFECYCLE_LAST; nr++) {
		struct hc_result res = call(fx, nr, 0, 16, 0);

		assert_int_not_equal(res.ret, HC_E_DENIED);
		assert_int_not_equal(res.effect, HC_EFFECT_EXIT);
	}
	/* The TPGVM is still denied from CPL 3. */
	for (uint64_t nr = HC_LIFECYCLE_FIRST; nr <= HC_LIFECYCLE_LAST; nr++)
		expect_error(fx, nr, 0, 16, 3, HC_E_DENIED);
	/* Just outside the lifecycle range is unknown, not lifecycle. */
	expect_error(fx, HC_LIFECYCLE_LAST + 1, 0, 0, 0, HC_E_NOSYS);
	expect_error(fx, HC_LIFECYCLE_FIRST - 1, 0, 0, 0, HC_E_NOSYS);
}

static void test_unknown_numbers(void **state)
{
	struct fixture *fx = *state;
	const uint64_t nrs[] = { 4, 5, 0xff, 0x107, 0x1000, 1ull << 32,
				 (1ull << 32) | HC_VERSION,
				 (1ull << 32) | HC_EXIT,
				 (1ull << 63) | HC_CONSOLE_WRITE, UINT64_MAX };

	for (size_t i = 0; i < ARRAY_SIZE(nrs); i++) {
		expect_error(fx, nrs[i], 0, 16, 0, HC_E_NOSYS);
		fx->env.is_tpgvm = true;
		expect_error(fx, nrs[i], 0, 16, 0, HC_E_NOSYS);
		fx->env.is_tpgvm = false;
	}
}

static void test_cpl_nonzero_denied(void **state)
{
	struct fixture *fx = *state;
	const uint64_t nrs[] = { HC_VERSION, HC_YIELD, HC_EXIT, HC_CONSOLE_WRITE,
				 4, 0xff, 0x100, 0x106, 0x107, UINT64_MAX };
	const unsigned cpls[] = { 1, 2, 3, 4, 0x80000000u };

	for (size_t i = 0; i < ARRAY_SIZE(nrs); i++) {
		for (size_t j = 0; j < ARRAY_SIZE(cpls); j++) {
			/* A valid console buffer: only the CPL is wrong. */
			expect_error(fx, nrs[i], 0x10, 16, cpls[j], HC_E_DENIED);
			fx->env.is_tpgvm = true;
			expect_error(fx, nrs[i], 0x10, 16, cpls[j], HC_E_DENIED);
			fx->env.is_tpgvm = false;
		}
	}
}

static void test_cpl3_exit_does_not_stop(void **state)
{
	struct fixture *fx = *state;
	struct hc_result res = call(fx, HC_EXIT, 7, 0, 3);

	assert_int_equal(res.ret, HC_E_DENIED);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
}

/* Everything that fails decode, in one place: no callback is ever made. */
static void test_failed_decode_touches_nothing(void **state)
{
	struct fixture *fx = *state;
	const struct {
		uint64_t nr, a0, a1;
		unsigned cpl;
	} cases[] = {
		{ HC_CONSOLE_WRITE, 0, 16, 3 },
		{ HC_CONSOLE_WRITE, 0, HC_CONSOLE_WRITE_MAX + 1, 0 },
		{ HC_CONSOLE_WRITE, MEM_SIZE - 1, 2, 0 },
		{ HC_CONSOLE_WRITE, UINT64_MAX - 1, 4, 0 },
		{ HC_VM_CONSOLE_READ, 0, 16, 0 },
		{ 0x42, 0, 16, 0 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct hc_result res = call(fx, cases[i].nr, cases[i].a0,
					    cases[i].a1, cases[i].cpl);

		assert_true(res.ret < 0);
		assert_int_equal(res.effect, HC_EFFECT_NONE);
		assert_untouched(fx);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_version),
		T(test_yield),
		T(test_exit),
		T(test_console_write_copies_exact_bytes),
		T(test_console_write_len_zero),
		T(test_console_write_max),
		T(test_console_write_ends_at_top),
		T(test_console_write_too_long),
		T(test_console_write_outside_memory),
		T(test_console_write_empty_at_top),
		T(test_console_write_zero_memory),
		T(test_console_write_read_fails_first),
		T(test_console_write_read_fails_midway),
		T(test_lifecycle_denied_for_non_tpgvm),
		T(test_lifecycle_not_denied_for_tpgvm),
		T(test_unknown_numbers),
		T(test_cpl_nonzero_denied),
		T(test_cpl3_exit_does_not_stop),
		T(test_failed_decode_touches_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
