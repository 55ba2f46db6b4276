/*
 * The TPGVM's entropy for the crypto layer: RDSEED/RDRAND, which the TCB
 * lets guests execute natively and advertises in CPUID (docs/vm-exits.md).
 * The TLS key is generated from it at start, inside the TPGVM.
 */
#include "guests/runtime/guest.h"
#include "crypto/cpu_entropy.h"

static struct cpu_entropy cpu;
static bool probed;

int crypto_platform_entropy(void *buf, size_t len)
{
	if (!probed) {
		uint32_t r[4];

		cpuid(1, 0, r);
		cpu.rdrand = (r[2] >> 30) & 1;
		cpuid(7, 0, r);
		cpu.rdseed = (r[1] >> 18) & 1;
		probed = true;
	}
	return cpu_entropy_fill(&cpu, buf, len);
}
