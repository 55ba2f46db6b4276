/*
 * Lower-case hex of bytes for console and log lines (digests, fingerprints,
 * PCR values: never secrets). Portable: the hypervisor and the host.
 */
#ifndef CUSTOS_TCB_HEX_H
#define CUSTOS_TCB_HEX_H

#include <custos/types.h>

/* The 2 * n hex digits of p[0..n) and a NUL into out (2 * n + 1 bytes). */
static inline void hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

#endif
