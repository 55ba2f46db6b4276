/*
 * SHA-256 (FIPS 180-4) with the SHA extensions, XMM registers only. The
 * crypto layer's second file compiled with SSE (crypto/crypto.mk gives it
 * -msse4.1 -msha); crypto/crypto.c calls it inside the platform's vector
 * window only (crypto/sha256_x86.h, docs/crypto.md).
 *
 * The working variables live in two registers in the order SHA256RNDS2
 * wants them: ABEF (A in the top lane, F in the bottom) and CDGH. One
 * SHA256RNDS2 does two rounds: from CDGH, ABEF and two W[t] + K[t] in the
 * low lanes of the third operand it gives the new ABEF, and the new CDGH is
 * the old ABEF (after two rounds C, D, G, H are the old A, B, E, F). So four
 * rounds are two instructions with the operands' roles swapped.
 *
 * The message schedule, four words at a time: with M[j] = W[4j..4j+3],
 *   M[j] = MSG2( MSG1(M[j-4], M[j-3]) + (W[4j-7..4j-4]), M[j-1] )
 * where MSG1 adds sigma0 of the next word to each of M[j-4]'s, the middle
 * term is PALIGNR of M[j-1]:M[j-2] by one word, and MSG2 adds sigma1 of
 * W[t-2] (itself computed in the same instruction for the upper two).
 *
 * No table lookup or branch depends on the data; only lengths steer it.
 * The message words, state and schedule stay in registers (no copy on the
 * stack); the partial block is kept in the caller's struct, which the
 * caller wipes. The window's end (XRSTOR) overwrites the registers.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <immintrin.h> /* SSE2, SSSE3 (PSHUFB, PALIGNR), SHA */

#include "crypto/sha256_x86.h"
#include "crypto/simd_clear.h"

#define INLINE static inline __attribute__((always_inline))

/* The message is big-endian 32-bit words: PSHUFB reverses each lane. */
INLINE __m128i load_be32x4(const uint8_t *p)
{
	const __m128i swap = _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7,
					  0, 1, 2, 3);

	return _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), swap);
}

/* Four rounds with the schedule words w (W[4j..4j+3]). */
INLINE void rounds4(__m128i *abef, __m128i *cdgh, __m128i w, int j)
{
	__m128i wk = _mm_add_epi32(w, _mm_load_si128((const __m128i *)(const void *)
						     &sha256_k[4 * j]));

	*cdgh = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);        /* rounds 4j, 4j+1 */
	wk = _mm_shuffle_epi32(wk, 0x0e);                      /* the upper two down */
	*abef = _mm_sha256rnds2_epu32(*abef, *cdgh, wk);        /* rounds 4j+2, 4j+3 */
}

/* M[j] from M[j-4] (m0), M[j-3] (m1), M[j-2] (m2), M[j-1] (m3). */
INLINE __m128i schedule(__m128i m0, __m128i m1, __m128i m2, __m128i m3)
{
	__m128i x = _mm_add_epi32(_mm_sha256msg1_epu32(m0, m1), _mm_alignr_epi8(m3, m2, 4));

	return _mm_sha256msg2_epu32(x, m3);
}

/* n 64-byte blocks into the chaining value h. */
static void blocks(uint32_t h[8], const uint8_t *p, size_t n)
{
	__m128i abcd = _mm_loadu_si128((const __m128i *)(const void *)h);
	__m128i efgh = _mm_loadu_si128((const __m128i *)(const void *)(h + 4));
	/* lanes low to high: A B E F and C D G H, then reversed */
	__m128i abef = _mm_shuffle_epi32(_mm_unpacklo_epi64(abcd, efgh), 0x1b);
	__m128i cdgh = _mm_shuffle_epi32(_mm_unpackhi_epi64(abcd, efgh), 0x1b);

	for (; n != 0; n--, p += 64) {
		const __m128i abef0 = abef, cdgh0 = cdgh;
		__m128i m0 = load_be32x4(p), m1 = load_be32x4(p + 16);
		__m128i m2 = load_be32x4(p + 32), m3 = load_be32x4(p + 48);

		rounds4(&abef, &cdgh, m0, 0);
		rounds4(&abef, &cdgh, m1, 1);
		rounds4(&abef, &cdgh, m2, 2);
		rounds4(&abef, &cdgh, m3, 3);
		/* rounds 16..63: each M[j] overwrites M[j-4] */
		for (int j = 4; j < 16; j += 4) {
			m0 = schedule(m0, m1, m2, m3);
			rounds4(&abef, &cdgh, m0, j);
			m1 = schedule(m1, m2, m3, m0);
			rounds4(&abef, &cdgh, m1, j + 1);
			m2 = schedule(m2, m3, m0, m1);
			rounds4(&abef, &cdgh, m2, j + 2);
			m3 = schedule(m3, m0, m1, m2);
			rounds4(&abef, &cdgh, m3, j + 3);
		}
		abef = _mm_add_epi32(abef, abef0);
		cdgh = _mm_add_epi32(cdgh, cdgh0);
	}
	/* back to A B C D and E F G H */
	abef = _mm_shuffle_epi32(abef, 0x1b);
	cdgh = _mm_shuffle_epi32(cdgh, 0x1b);
	_mm_storeu_si128((__m128i *)(void *)h, _mm_unpacklo_epi64(abef, cdgh));
	_mm_storeu_si128((__m128i *)(void *)(h + 4), _mm_unpackhi_epi64(abef, cdgh));
}

/* As sha256_blocks_fn wants it (no argument of its own). */
static void blocks_fn(uint32_t h[8], const uint8_t *p, size_t n, bool unused)
{
	(void)unused;
	blocks(h, p, n);
}

void sha256_x86_update(struct sha256_state *s, const uint8_t *p, size_t len)
{
	sha256_buffered_update(s, p, len, blocks_fn, false);
	simd_clear_regs();
}

void sha256_x86_final(struct sha256_state *s, uint8_t out[32])
{
	sha256_padded_final(s, out, blocks_fn, false);
	simd_clear_regs();
}
