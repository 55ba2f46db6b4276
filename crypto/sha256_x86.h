/*
 * Private to crypto/: SHA-256 with the SHA extensions (SHA-NI:
 * SHA256RNDS2, SHA256MSG1, SHA256MSG2), crypto/sha256_x86.c,
 * docs/crypto.md "SHA-256 with SHA-NI".
 *
 * sha256_x86_update() and sha256_x86_final() execute SSE, SSSE3 and SHA
 * instructions: crypto/crypto.c calls them only when the SHA-256 SIMD path
 * is active (crypto_sha256_simd_active()) and only between the platform
 * window's begin() and end(). The state is plain integers and bytes, so
 * that crypto.c (compiled without SSE) handles only pointers and lengths;
 * the init below is plain C (inlined into crypto.c) and runs outside the
 * window. The state holds message bytes (the partial block): the caller
 * wipes it with crypto_wipe() when done.
 *
 * The layout is the one SHA-256 has whatever computes it (chaining value,
 * bytes so far, the bytes of the block not yet full), so a stream begun
 * here can go on in mbedTLS (crypto.c converts it when the window goes
 * away mid-stream).
 */
#ifndef CUSTOS_SHA256_X86_H
#define CUSTOS_SHA256_X86_H

#include <stddef.h>
#include <stdint.h>

struct sha256_x86 {
	uint32_t h[8];     /* chaining value H0..H7 */
	uint64_t len;      /* bytes hashed so far, buffered ones included */
	uint8_t buf[64];   /* the first len % 64 bytes of the next block */
};

/* FIPS 180-4, 5.3.3: the initial hash value. */
static inline void sha256_x86_init(struct sha256_x86 *s)
{
	static const uint32_t iv[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
	};

	for (int i = 0; i < 8; i++)
		s->h[i] = iv[i];
	s->len = 0;
}

/* Hash len more bytes (any length; p may be NULL when len is 0). */
void sha256_x86_update(struct sha256_x86 *s, const uint8_t *p, size_t len);
/* Pad, and the digest (big-endian H0..H7) into out. s must then be wiped
 * by the caller. */
void sha256_x86_final(struct sha256_x86 *s, uint8_t out[32]);

#endif
