/*
 * Private to crypto/: SHA-256 with the SHA extensions (SHA-NI:
 * SHA256RNDS2, SHA256MSG1, SHA256MSG2), crypto/sha256_x86.c,
 * docs/crypto.md "SHA-256 with SHA-NI".
 *
 * sha256_x86_update() and sha256_x86_final() execute SSE, SSSE3 and SHA
 * instructions: crypto/crypto.c calls them only when the SHA-256 SIMD path
 * is active (crypto_sha256_simd_active()) and only between the platform
 * window's begin() and end(). The state is plain integers and bytes, so
 * that crypto.c (compiled without SSE) handles only pointers and lengths:
 * struct sha256_state (crypto/sha256_c.h), the one the portable C path
 * keeps too, so a stream begun here goes on in C as it is when the window
 * goes away mid-way. Its init, sha256_state_init(), is plain C and runs
 * outside the window. The state holds message bytes (the partial block):
 * the caller wipes it with crypto_wipe() when done.
 */
#ifndef CUSTOS_SHA256_X86_H
#define CUSTOS_SHA256_X86_H

#include <stddef.h>
#include <stdint.h>

#include "crypto/sha256_c.h"

/* Hash len more bytes (any length; p may be NULL when len is 0). */
void sha256_x86_update(struct sha256_state *s, const uint8_t *p, size_t len);
/* Pad, and the digest (big-endian H0..H7) into out. s must then be wiped
 * by the caller. */
void sha256_x86_final(struct sha256_state *s, uint8_t out[32]);

#endif
