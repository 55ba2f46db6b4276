/*
 * Entropy from the CPU: RDSEED and RDRAND, for the freestanding worlds (the
 * hypervisor and the TPGVM each define crypto_platform_entropy() on top of
 * this; the host uses the OS). Header-only: two small callers, no state.
 */
#ifndef CUSTOS_CRYPTO_CPU_ENTROPY_H
#define CUSTOS_CRYPTO_CPU_ENTROPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/crypto.h"

#define CPU_ENTROPY_RETRIES 32

struct cpu_entropy {
	bool rdseed, rdrand; /* which instructions the CPU has */
};

static inline bool cpu_rdseed64(uint64_t *v)
{
	bool ok;

	__asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
	return ok;
}

static inline bool cpu_rdrand64(uint64_t *v)
{
	bool ok;

	__asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok) : : "cc");
	return ok;
}

/* One 64-bit word: RDSEED (a true entropy source) when it has one ready,
 * else RDRAND (a DRBG reseeded by it), each retried a bounded number of
 * times as Intel's DRNG guide advises. */
static inline bool cpu_entropy_word(const struct cpu_entropy *e, uint64_t *v)
{
	for (int i = 0; i < CPU_ENTROPY_RETRIES; i++) {
		if (e->rdseed && cpu_rdseed64(v))
			return true;
		if (e->rdrand && cpu_rdrand64(v))
			return true;
	}
	return false;
}

/* Fill buf; 0, or -1 when the CPU gave nothing after the retries. */
static inline int cpu_entropy_fill(const struct cpu_entropy *e, void *buf,
				   size_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t v;
		size_t n = len < sizeof(v) ? len : sizeof(v);
		if (!cpu_entropy_word(e, &v))
			return -1;
		memcpy(out, &v, n);
		crypto_wipe(&v, sizeof(v));
		out += n;
		len -= n;
	}
	return 0;
}

#endif
