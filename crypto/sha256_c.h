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
#include <string.h>

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

/* FIPS 180-4, 4.2.2: the round constants of both implementations (the C
 * code reads them with a constant index only, which the compiler folds into
 * each round's instructions; the SHA-NI code loads four at a time, hence
 * the alignment). */
static const uint32_t sha256_k[64] __attribute__((aligned(16))) = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* One implementation's compression: n 64-byte blocks at p into h (arg is
 * its own: the C code's bmi2). */
typedef void sha256_blocks_fn(uint32_t h[8], const uint8_t *p, size_t n, bool arg);

/*
 * What both implementations do around their compression, on the state
 * they share: buffer the partial block, and pad (FIPS 180-4, 5.1.1: 0x80,
 * zeroes, and the length in bits, big-endian, in the last 8 bytes: one
 * block, or two when fewer than 9 bytes are left in this one). Inlined
 * into each file, so that its own blocks is called directly (the SHA-NI
 * file calls nothing outside itself inside the vector window).
 */
static inline __attribute__((always_inline))
void sha256_buffered_update(struct sha256_state *s, const uint8_t *p, size_t len,
			    sha256_blocks_fn *blocks, bool arg)
{
	size_t have = (size_t)(s->len % 64);

	if (len == 0)
		return;
	s->len += len;
	if (have != 0) {
		/* top up the partial block first */
		size_t n = 64 - have < len ? 64 - have : len;

		memcpy(s->buf + have, p, n);
		p += n;
		len -= n;
		if (have + n < 64)
			return;
		blocks(s->h, s->buf, 1, arg);
	}
	if (len >= 64) {
		blocks(s->h, p, len / 64, arg);
		p += len - len % 64;
		len %= 64;
	}
	if (len != 0)
		memcpy(s->buf, p, len);
}

static inline __attribute__((always_inline))
void sha256_padded_final(struct sha256_state *s, uint8_t out[32],
			 sha256_blocks_fn *blocks, bool arg)
{
	size_t have = (size_t)(s->len % 64);
	uint64_t bits = s->len * 8;

	s->buf[have++] = 0x80;
	if (have > 56) {
		memset(s->buf + have, 0, 64 - have);
		blocks(s->h, s->buf, 1, arg);
		have = 0;
	}
	memset(s->buf + have, 0, 56 - have);
	for (int i = 0; i < 8; i++)
		s->buf[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	blocks(s->h, s->buf, 1, arg);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(s->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(s->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(s->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)s->h[i];
	}
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
