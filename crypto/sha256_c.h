/*
 * Private to crypto/: SHA-256's stream state, and SHA-256 (FIPS 180-4) in
 * portable C, crypto/sha256_c.c (docs/crypto.md, "SHA-256 in C").
 *
 * The C functions use general registers only (built with the kernel's
 * -mgeneral-regs-only like the rest of crypto.c): crypto/crypto.c runs
 * them wherever the SHA-NI path (crypto/sha256_x86.c) is not active, with
 * no vector window.
 *
 * Both paths keep the same state, the one SHA-256 has whatever computes
 * it (chaining value, bytes so far, the bytes of the block not yet full),
 * so a stream begun on SHA-NI goes on here as it is when the window goes
 * away mid-way. The state holds message bytes (the partial block): the
 * caller wipes it with crypto_wipe() when done.
 */
#ifndef CUSTOS_SHA256_C_H
#define CUSTOS_SHA256_C_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sha256_state {
	uint32_t h[8];     /* chaining value H0..H7 */
	uint64_t len;      /* bytes hashed so far, buffered ones included */
	uint8_t buf[64];   /* the first len % 64 bytes of the next block */
};

/* FIPS 180-4, 5.3.3: the initial hash value. */
static inline void sha256_state_init(struct sha256_state *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	for (int i = 0; i < 8; i++)
		s->h[i] = iv[i];
	s->len = 0;
}

/* Hash len more bytes (any length; p may be NULL when len is 0). With
 * bmi2, the rounds built for BMI2 (RORX: a rotate into another register,
 * no copy first; 37.1 instructions a byte instead of 40.6): only where
 * CPUID says the CPU has BMI2 (crypto/crypto.c decides). */
void sha256_c_update(struct sha256_state *s, const uint8_t *p, size_t len, bool bmi2);
/* Pad, and the digest (big-endian H0..H7) into out. s must then be wiped
 * by the caller. */
void sha256_c_final(struct sha256_state *s, uint8_t out[32], bool bmi2);

#endif
