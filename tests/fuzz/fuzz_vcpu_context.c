/*
 * libFuzzer target for the vCPU context decoder (hv/vcpu_context.c, the
 * CPU state inside a sealed blob; docs/lifecycle.md "The vCPU context").
 *
 * Input: one byte choosing the CPU the context is restored on (bit 0:
 * FXSAVE images of 512 bytes instead of XSAVE ones of 832; bit 1: 57-bit
 * linear addresses; bit 2: no SPEC_CTRL), then the context.
 * Properties: decode never reads outside the input (ASan); a refusal
 * writes nothing; an accepted context has the length of its layout, holds
 * only values the TCB can load without a fault (CR8 <= 15, DR6 and FMASK
 * upper halves clear, SPEC_CTRL within the CPU's bits, MXCSR within its
 * mask, XSTATE_BV within XCR0) and encodes back to exactly the input.
 *
 * Seeds (tests/fuzz/corpus/vcpu_context/) come from
 * `test_vcpu_context --write DIR`.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/vcpu_context.h"
#include "fuzz_util.h"

struct out {
	struct guest_gprs gprs;
	struct vcpu_sysregs sys;
	uint64_t vmcs[VCPU_CONTEXT_STATE_WORDS];
	struct vcpu_context_platform plat;
	uint8_t xsave[4096];
};

static struct out out, untouched;
static uint8_t again[1u << 13];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vcpu_context_cpu cpu = {
		.xsave_size = 832, .xsave = true, .xcr0 = 0x7,
		.mxcsr_mask = 0xffbf, .linear_bits = 48, .spec_ctrl_bits = 0x7,
	};
	uint8_t *ctx;
	size_t len;

	if (size < 1)
		return 0;
	if (data[0] & 1) {
		cpu.xsave = false;
		cpu.xsave_size = 512;
		cpu.xcr0 = 0x3;
	}
	if (data[0] & 2)
		cpu.linear_bits = 57;
	if (data[0] & 4)
		cpu.spec_ctrl_bits = 0;
	len = size - 1;
	ctx = malloc(len ? len : 1); /* exactly the input: ASan sees overreads */
	require(ctx != NULL);
	memcpy(ctx, data + 1, len);

	memset(&out, 0x5a, sizeof(out));
	untouched = out;
	const char *why = vcpu_context_decode(ctx, len, &cpu, &out.gprs, &out.sys,
					      out.vmcs, &out.plat, out.xsave);
	if (why) {
		require(strlen(why) > 0);
		require(memcmp(&out, &untouched, sizeof(out)) == 0);
		free(ctx);
		return 0;
	}
	require(len == vcpu_context_len(cpu.xsave_size));
	require(out.sys.cr8 <= 15);
	require((out.sys.dr6 >> 32) == 0 && (out.sys.fmask >> 32) == 0);
	require((out.sys.spec_ctrl & ~cpu.spec_ctrl_bits) == 0);
	uint32_t mxcsr;
	memcpy(&mxcsr, out.xsave + 24, 4);
	require((mxcsr & ~cpu.mxcsr_mask) == 0);
	if (cpu.xsave) {
		uint64_t bv;
		memcpy(&bv, out.xsave + 512, 8);
		require((bv & ~cpu.xcr0) == 0);
	}
	require(out.xsave[cpu.xsave_size] == 0x5a);
	require(len <= sizeof(again));
	vcpu_context_encode(&out.gprs, &out.sys, out.vmcs, &out.plat, out.xsave,
			    cpu.xsave_size, again);
	require(memcmp(again, ctx, len) == 0);
	free(ctx);
	return 0;
}
