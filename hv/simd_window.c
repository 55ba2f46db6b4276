/*
 * The vector-register window for the TCB's own crypto (crypto_simd_register,
 * docs/crypto.md).
 *
 * Root mode never touches x87/SSE/AVX state: after a VM exit the registers
 * still hold the guest's values, and hv/vcpu.c moves them only when another
 * VM is about to run. AES-NI and PCLMULQDQ work in XMM registers, so each
 * use is bracketed: simd_begin() saves whatever the registers hold (the
 * guest whose exit this is, another VM's state not yet switched out, or the
 * boot state: whose it is does not matter) into a TCB page and gives the
 * crypto a default MXCSR; simd_end() restores it whole. XRSTOR of every
 * enabled component also overwrites what the crypto left in the registers
 * (round keys, counter blocks), so nothing of it reaches a guest. The page
 * is wiped after each restore: it held a guest's registers.
 *
 * One CPU runs the TCB's code (the others are parked) with interrupts off,
 * so a window never nests; a nested begin is a TCB bug and stops the
 * platform.
 */
#include "hv/simd_window.h"
#include "crypto/crypto.h"
#include "hv/power.h"
#include "hv/vcpu.h"

#include <string.h>

#define DEFAULT_MXCSR 0x1f80 /* all exceptions masked, round to nearest */
#define XCR0_AVX_STATE 4ull  /* XCR0 bit 2: the upper halves of YMM0-15 */

static uint8_t saved[PAGE_SIZE] __attribute__((aligned(64)));
static bool open;

static void simd_begin(void)
{
	uint32_t mxcsr = DEFAULT_MXCSR;

	CHECK(!open);
	open = true;
	vcpu_xsave(saved);
	/* The crypto writes only XMM registers: with the upper halves of a
	 * guest's YMM state left dirty, some CPUs merge them into every SSE
	 * result (a false dependency); XRSTOR brings them back anyway. */
	if (vcpu_xcr0() & XCR0_AVX_STATE)
		__asm__ volatile("vzeroupper");
	__asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
}

static void simd_end(void)
{
	CHECK(open);
	vcpu_xrstor(saved);
	memset(saved, 0, vcpu_xsave_size());
	open = false;
}

static const struct crypto_simd_window window = {
	.begin = simd_begin,
	.end = simd_end,
};

void simd_window_init(void)
{
	CHECK(vcpu_xsave_size() <= sizeof(saved));
	crypto_simd_register(&window);
}
