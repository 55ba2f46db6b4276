/*
 * Private to crypto/: AES-256-GCM with AES-NI and PCLMULQDQ
 * (crypto/aes_gcm_x86.c, docs/crypto.md "AES-256-GCM with AES-NI").
 *
 * Every function here executes SSE, AES-NI and PCLMULQDQ instructions:
 * crypto/crypto.c calls them only when crypto_simd_active() and only
 * between the platform window's begin() and end(). The state is plain bytes
 * so that crypto.c (compiled without SSE) only ever handles pointers and
 * lengths; it wipes the state with crypto_wipe().
 *
 * Lengths are checked by the caller (crypto.c): AAD < 2^61 bytes, the data
 * at most 2^36 - 32 bytes in all, every update but the last a multiple of
 * 16 bytes long (the stream rule of crypto.h); in and out may be the same
 * buffer.
 */
#ifndef CUSTOS_AES_GCM_X86_H
#define CUSTOS_AES_GCM_X86_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AESGCM_X86_GROUP 8 /* blocks in flight; H^1..H^8 precomputed */

struct aesgcm_x86 {
	uint8_t rk[15][16];                    /* AES-256 encryption round keys */
	uint8_t h[AESGCM_X86_GROUP][16];       /* H^1..H^8, byte-reflected */
	uint8_t ctr[16];                       /* next counter block, byte-reflected */
	uint8_t ekj0[16];                      /* E_K(J0), masks the tag */
	uint8_t xi[16];                        /* GHASH accumulator, byte-reflected */
	uint64_t aad_len;                      /* bytes */
	uint64_t len;                          /* bytes of data so far */
	uint8_t part[16];                      /* ciphertext of a last partial block */
	uint32_t part_len;                     /* its length (0..15) */
	uint8_t encrypt;
};

/* Key schedule, H powers, J0 and E_K(J0); then the whole AAD. */
void aesgcm_x86_start(struct aesgcm_x86 *g, const uint8_t key[32],
		      const uint8_t iv[12], bool encrypt, const uint8_t *aad,
		      size_t aad_len);
/* En- or decrypt len bytes (see the rule above) and hash the ciphertext. */
void aesgcm_x86_update(struct aesgcm_x86 *g, const uint8_t *in, size_t len,
		       uint8_t *out);
/* The tag over everything so far. g must then be wiped by the caller. */
void aesgcm_x86_finish(struct aesgcm_x86 *g, uint8_t tag[16]);

#endif
