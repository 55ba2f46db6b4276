/*
 * libFuzzer target for hypercall_handle() (tcb/hypercall.c).
 *
 * Input layout (integers big endian; missing bytes read as zero):
 *   byte 0      flags: bit 0 is_tpgvm, bit 1 "near" mode (number and
 *               arguments reduced into the interesting ranges), bit 2 make
 *               read_guest fail past a point, bits 3-4 CPL, bit 5 sets
 *               CPL bit 31 as well
 *   bytes 1-2   mem_size (reduced to 0..MAX_MEM)
 *   bytes 3-10  nr, then 4 x 8 bytes of arguments
 *   bytes 43-44 fail_at: with flag bit 2, read_guest refuses any span
 *               reaching past this gpa
 *   the rest    guest memory contents (repeated to fill mem_size)
 *
 * The guest memory is a heap block of exactly mem_size bytes, and
 * read_guest aborts if it is asked for anything outside [0, mem_size). The
 * result is checked against the ABI (include/custos/guest_abi.h): the error
 * values, the console getting exactly res.ret bytes (and the right ones) on
 * a successful HC_CONSOLE_WRITE and nothing otherwise, effects only for
 * HC_YIELD / HC_EXIT at CPL 0. Any disagreement aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/hypercall.h"

#define MAX_MEM (4 * 4096u)

struct input {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct input *in, size_t bytes)
{
	uint64_t v = 0;

	while (bytes--) {
		v <<= 8;
		if (in->left) {
			v |= *in->p++;
			in->left--;
		}
	}
	return v;
}

struct fake {
	uint8_t *mem;
	uint64_t mem_size;
	bool fail;
	uint64_t fail_at;
	unsigned reads;
	uint8_t console[2 * MAX_MEM + 8];
	size_t console_len;
};

#define CHECK(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__); \
			abort(); \
		} \
	} while (0)

static bool fake_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct fake *f = ctx;

	f->reads++;
	/* Never asked for memory the caller does not have. */
	CHECK(gpa <= f->mem_size && len <= f->mem_size - gpa);
	CHECK(len > 0);
	if (f->fail && gpa + len > f->fail_at)
		return false;
	memcpy(buf, f->mem + gpa, len);
	return true;
}

static void fake_put(void *ctx, char c)
{
	struct fake *f = ctx;

	CHECK(f->console_len < sizeof(f->console));
	f->console[f->console_len++] = (uint8_t)c;
}

static bool is_error(int64_t r)
{
	return r == HC_E_NOSYS || r == HC_E_INVAL || r == HC_E_DENIED ||
	       r == HC_E_FAULT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake f;
	struct input in = { data, size };
	struct hc_call call;
	struct hc_env env;
	struct hc_result res;
	unsigned flags = (unsigned)take(&in, 1);
	bool near = flags & 2;

	memset(&f, 0, sizeof(f));
	f.mem_size = take(&in, 2) % (MAX_MEM + 1);
	call.nr = take(&in, 8);
	for (int i = 0; i < 4; i++)
		call.arg[i] = take(&in, 8);
	call.cpl = (flags >> 3) & 3;
	if (flags & 0x20)
		call.cpl |= 0x80000000u;
	f.fail = flags & 4;
	f.fail_at = take(&in, 2);
	if (near) {
		call.nr %= 0x110;
		call.arg[0] %= f.mem_size + 64;
		call.arg[1] %= HC_CONSOLE_WRITE_MAX + 64;
	}

	f.mem = malloc(f.mem_size ? f.mem_size : 1);
	CHECK(f.mem != NULL);
	for (uint64_t i = 0; i < f.mem_size; i++)
		f.mem[i] = in.left ? in.p[i % in.left] : (uint8_t)(i * 31 + 7);

	env = (struct hc_env){
		.mem_size = f.mem_size,
		.is_tpgvm = flags & 1,
		.read_guest = fake_read,
		.console_put = fake_put,
		.ctx = &f,
	};
	memset(&res, 0xa5, sizeof(res));
	hypercall_handle(&call, &env, &res);

	/* The result is a success count/value or one of the ABI errors. */
	CHECK(res.ret >= 0 || is_error(res.ret));
	CHECK(res.effect == HC_EFFECT_NONE || res.effect == HC_EFFECT_YIELD ||
	      res.effect == HC_EFFECT_EXIT);

	/* Effects only for YIELD and EXIT from CPL 0. */
	CHECK((res.effect == HC_EFFECT_EXIT) ==
	      (call.nr == HC_EXIT && call.cpl == 0));
	CHECK((res.effect == HC_EFFECT_YIELD) ==
	      (call.nr == HC_YIELD && call.cpl == 0));
	if (res.effect == HC_EFFECT_EXIT)
		CHECK(res.exit_code == call.arg[0]);
	if (res.effect != HC_EFFECT_NONE)
		CHECK(res.ret == 0);

	/* Only a console write at CPL 0 touches memory or the console. */
	if (call.nr != HC_CONSOLE_WRITE || call.cpl != 0) {
		CHECK(f.reads == 0);
		CHECK(f.console_len == 0);
	}

	if (call.cpl != 0) {
		CHECK(res.ret == HC_E_DENIED);
	} else if (call.nr == HC_VERSION) {
		CHECK(res.ret == CUSTOS_ABI_VERSION);
	} else if (call.nr == HC_YIELD || call.nr == HC_EXIT) {
		CHECK(res.ret == 0);
	} else if (call.nr == HC_CONSOLE_WRITE) {
		uint64_t gpa = call.arg[0], len = call.arg[1];

		if (len > HC_CONSOLE_WRITE_MAX) {
			CHECK(res.ret == HC_E_INVAL);
		} else if (gpa > f.mem_size || len > f.mem_size - gpa) {
			CHECK(res.ret == HC_E_FAULT);
		} else if (!f.fail) {
			CHECK(res.ret == (int64_t)len);
		} else {
			/* A failing read may cut the write short, or fail it. */
			CHECK(res.ret == HC_E_FAULT ||
			      (res.ret >= 0 && (uint64_t)res.ret <= len));
			if (len == 0 || gpa + len <= f.fail_at)
				CHECK(res.ret == (int64_t)len);
		}
		if (res.ret < 0) {
			CHECK(f.console_len == 0);
		} else {
			CHECK(f.console_len == (size_t)res.ret);
			CHECK(memcmp(f.console, f.mem + gpa, f.console_len) == 0);
		}
	} else if (call.nr >= HC_LIFECYCLE_FIRST && call.nr <= HC_LIFECYCLE_LAST) {
		CHECK(env.is_tpgvm ? res.ret != HC_E_DENIED : res.ret == HC_E_DENIED);
		CHECK(f.console_len == 0 && f.reads == 0);
	} else {
		CHECK(res.ret == HC_E_NOSYS);
	}

	free(f.mem);
	return 0;
}
