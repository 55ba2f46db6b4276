/*
 * AES-256-GCM with AES-NI and PCLMULQDQ, SSE registers only (no AVX: the
 * emulators' CPU models may lack it). The only file of the crypto layer
 * compiled with SSE enabled (crypto/crypto.mk gives it -msse4.1 -maes
 * -mpclmul); crypto/crypto.c calls it inside the platform's vector window
 * only (crypto/aes_gcm_x86.h, docs/crypto.md).
 *
 * Design:
 *  - CTR with 8 blocks in flight: every AES round is issued for 8
 *    independent blocks, which hides the latency of AESENC;
 *  - GHASH aggregated over 8 blocks: X' = (X ^ C1)·H^8 ^ C2·H^7 ^ ... ^
 *    C8·H, with H^1..H^8 precomputed, the 8 products accumulated unreduced
 *    (Karatsuba: 3 PCLMULQDQ each) and reduced once per group;
 *  - the GHASH of one group is independent of the AES of the group next
 *    to it in the code (the previous group's ciphertext when encrypting,
 *    the group's own input when decrypting), so the CPU runs the AES and
 *    the multiplier units side by side. It comes after the rounds in the
 *    source, not interleaved with them: gcc then keeps the 8 blocks in
 *    registers (interleaved, it spilled them: 4.3 instead of 3.4
 *    instructions a byte).
 *
 * GHASH in the byte-reflected domain: a block loaded and byte-swapped is
 * a 128-bit integer whose bit 127 is the coefficient of x^0. The
 * carry-less product of two such values is the reflected product shifted
 * right by one bit; it is shifted back, and the upper half (degrees
 * 128..254, in the low 128 bits) folded down with x^128 = x^7 + x^2 + x + 1
 * (shifts and XORs; Gueron and Kounavis, "Intel Carry-Less Multiplication
 * Instruction and its Usage for Computing the GCM Mode", algorithm 4's
 * reduction). No table and no branch depends on a key, a counter or data:
 * constant time.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <wmmintrin.h> /* AES-NI, PCLMULQDQ (and SSE2) */
#include <tmmintrin.h> /* PSHUFB */

#include "crypto/aes_gcm_x86.h"
#include "crypto/simd_clear.h"

#define INLINE static inline __attribute__((always_inline))

/* The keys as the loops use them: in aligned locals (a copy of the state,
 * wiped when done), so that the compiler may use them as memory operands. */
struct keys {
	__m128i rk[15];
	__m128i h[AESGCM_X86_GROUP];
	__m128i hk[AESGCM_X86_GROUP];
};

/* Zero memory the compiler may not skip (locals about to go out of scope). */
static void wipe(void *p, size_t len)
{
	memset(p, 0, len);
	__asm__ volatile("" : : "r"(p) : "memory");
}

INLINE __m128i load(const uint8_t *p)
{
	return _mm_loadu_si128((const __m128i *)(const void *)p);
}

INLINE void store(uint8_t *p, __m128i v)
{
	_mm_storeu_si128((__m128i *)(void *)p, v);
}

INLINE __m128i bswap(__m128i v)
{
	return _mm_shuffle_epi8(v, _mm_set_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
						12, 13, 14, 15));
}

INLINE __m128i xor3(__m128i a, __m128i b, __m128i c)
{
	return _mm_xor_si128(_mm_xor_si128(a, b), c);
}

/* ---- AES-256 ------------------------------------------------------------------ */

/* w[i] = w[i-8] ^ f(w[i-1]) for the four words of a round key: the
 * prefix XOR of the key two rounds back, then the SubWord (and RotWord,
 * Rcon) term from AESKEYGENASSIST broadcast into every word. */
INLINE __m128i expand_step(__m128i k, __m128i t)
{
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
	return _mm_xor_si128(k, t);
}

/* AESKEYGENASSIST takes its round constant as an immediate: a macro. */
#define EXPAND_EVEN(rk, i, rcon)                                                    \
	((rk)[i] = expand_step((rk)[(i) - 2],                                       \
			       _mm_shuffle_epi32(_mm_aeskeygenassist_si128((rk)[(i) - 1], rcon), \
						 0xff)))
#define EXPAND_ODD(rk, i)                                                           \
	((rk)[i] = expand_step((rk)[(i) - 2],                                       \
			       _mm_shuffle_epi32(_mm_aeskeygenassist_si128((rk)[(i) - 1], 0), \
						 0xaa)))
#define EXPAND_PAIR(rk, i, rcon)            \
	do {                                \
		EXPAND_EVEN(rk, i, rcon);   \
		EXPAND_ODD(rk, (i) + 1);    \
	} while (0)

static void expand_key(__m128i rk[15], const uint8_t key[32])
{
	rk[0] = load(key);
	rk[1] = load(key + 16);
	EXPAND_PAIR(rk, 2, 0x01);
	EXPAND_PAIR(rk, 4, 0x02);
	EXPAND_PAIR(rk, 6, 0x04);
	EXPAND_PAIR(rk, 8, 0x08);
	EXPAND_PAIR(rk, 10, 0x10);
	EXPAND_PAIR(rk, 12, 0x20);
	EXPAND_EVEN(rk, 14, 0x40);
}

INLINE __m128i aes_block(const __m128i rk[15], __m128i b)
{
	b = _mm_xor_si128(b, rk[0]);
#pragma GCC unroll 13
	for (int r = 1; r < 14; r++)
		b = _mm_aesenc_si128(b, rk[r]);
	return _mm_aesenclast_si128(b, rk[14]);
}

/* ---- GHASH ------------------------------------------------------------------- */

/* An unreduced 256-bit sum of products, Karatsuba's three parts. */
struct acc {
	__m128i lo, hi, mid;
};

INLINE void acc_zero(struct acc *a)
{
	a->lo = _mm_setzero_si128();
	a->hi = _mm_setzero_si128();
	a->mid = _mm_setzero_si128();
}

/* a += x·h (reflected operands; hk = h ^ (h with its halves swapped)). */
INLINE void acc_mul(struct acc *a, __m128i x, __m128i h, __m128i hk)
{
	__m128i xk = _mm_xor_si128(x, _mm_shuffle_epi32(x, 0x4e));

	a->lo = _mm_xor_si128(a->lo, _mm_clmulepi64_si128(x, h, 0x00));
	a->hi = _mm_xor_si128(a->hi, _mm_clmulepi64_si128(x, h, 0x11));
	a->mid = _mm_xor_si128(a->mid, _mm_clmulepi64_si128(xk, hk, 0x00));
}

/* The field element of the sum in a. */
INLINE __m128i acc_reduce(const struct acc *a)
{
	__m128i mid = xor3(a->mid, a->lo, a->hi);
	__m128i lo = _mm_xor_si128(a->lo, _mm_slli_si128(mid, 8));
	__m128i hi = _mm_xor_si128(a->hi, _mm_srli_si128(mid, 8));
	__m128i clo, chi, t, r;

	/* [hi:lo] is the reflected product shifted right by one: shift the
	 * 256 bits left by one. */
	clo = _mm_srli_epi64(lo, 63);
	chi = _mm_srli_epi64(hi, 63);
	lo = _mm_slli_epi64(lo, 1);
	hi = _mm_slli_epi64(hi, 1);
	hi = _mm_or_si128(hi, _mm_or_si128(_mm_slli_si128(chi, 8), _mm_srli_si128(clo, 8)));
	lo = _mm_or_si128(lo, _mm_slli_si128(clo, 8));

	/* hi holds degrees 0..127, lo degrees 128..255 (U). Multiplying U by
	 * x^7 + x^2 + x + 1 spills the bits that the right shifts by 1, 2 and
	 * 7 push out of its low quadword; fold them in first... */
	t = xor3(_mm_slli_epi64(lo, 63), _mm_slli_epi64(lo, 62), _mm_slli_epi64(lo, 57));
	lo = _mm_xor_si128(lo, _mm_slli_si128(t, 8));
	/* ...then U ^ U>>1 ^ U>>2 ^ U>>7 (128-bit shifts) lands in degrees 0..127. */
	r = _mm_xor_si128(xor3(lo, _mm_srli_epi64(lo, 1), _mm_srli_epi64(lo, 2)),
			  _mm_srli_epi64(lo, 7));
	t = xor3(_mm_slli_epi64(lo, 63), _mm_slli_epi64(lo, 62), _mm_slli_epi64(lo, 57));
	r = _mm_xor_si128(r, _mm_srli_si128(t, 8));
	return _mm_xor_si128(hi, r);
}

INLINE __m128i karatsuba_key(__m128i h)
{
	return _mm_xor_si128(h, _mm_shuffle_epi32(h, 0x4e));
}

/* a·b in GF(2^128), reflected operands. */
INLINE __m128i gf_mul(__m128i a, __m128i b)
{
	struct acc s;

	acc_zero(&s);
	acc_mul(&s, a, b, karatsuba_key(b));
	return acc_reduce(&s);
}

/* xi = GHASH of 8 more reflected blocks. */
INLINE __m128i ghash8(const struct keys *k, __m128i xi, const __m128i c[8])
{
	struct acc s;

	acc_zero(&s);
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++)
		acc_mul(&s, i == 0 ? _mm_xor_si128(xi, c[0]) : c[i], k->h[7 - i], k->hk[7 - i]);
	return acc_reduce(&s);
}

INLINE __m128i ghash1(const struct keys *k, __m128i xi, __m128i c)
{
	struct acc s;

	acc_zero(&s);
	acc_mul(&s, _mm_xor_si128(xi, c), k->h[0], k->hk[0]);
	return acc_reduce(&s);
}

/* GHASH of len bytes, the last partial block padded with zeroes. */
static __m128i ghash_bytes(const struct keys *k, __m128i xi, const uint8_t *p, size_t len)
{
	__m128i c[8];

	for (; len >= 128; p += 128, len -= 128) {
		for (int i = 0; i < 8; i++)
			c[i] = bswap(load(p + 16 * i));
		xi = ghash8(k, xi, c);
	}
	for (; len >= 16; p += 16, len -= 16)
		xi = ghash1(k, xi, bswap(load(p)));
	if (len != 0) {
		uint8_t last[16] = { 0 };

		memcpy(last, p, len);
		xi = ghash1(k, xi, bswap(load(last)));
		wipe(last, sizeof(last));
	}
	return xi;
}

/* ---- CTR + GHASH, 8 blocks at a time ------------------------------------------- */

/*
 * One group: 8 counter blocks through AES-256 and XORed with 128 bytes of
 * in into out. Also, if hash, 8 reflected ciphertext blocks go into
 * the GHASH accumulator *xi: when decrypting the group's own input (read
 * once, before out is written: in == out is fine); when encrypting c[],
 * the previous group's ciphertext. On return c[] holds this group's
 * ciphertext, reflected (encrypting), for the next call or a final ghash8.
 */
INLINE void group8(const struct keys *k, __m128i *ctr, const uint8_t *in, uint8_t *out,
		   bool encrypt, bool hash, __m128i c[8], __m128i *xi)
{
	const __m128i one = _mm_set_epi32(0, 0, 0, 1);
	__m128i b[8], d[8];

#pragma GCC unroll 8
	for (int i = 0; i < 8; i++) {
		b[i] = _mm_xor_si128(bswap(*ctr), k->rk[0]);
		*ctr = _mm_add_epi32(*ctr, one);
	}
	if (!encrypt) {
#pragma GCC unroll 8
		for (int i = 0; i < 8; i++) {
			d[i] = load(in + 16 * i);
			c[i] = bswap(d[i]);
		}
	}
#pragma GCC unroll 13
	for (int r = 1; r < 14; r++) {
#pragma GCC unroll 8
		for (int i = 0; i < 8; i++)
			b[i] = _mm_aesenc_si128(b[i], k->rk[r]);
	}
	/* Independent of the rounds above: the CPU overlaps the two. */
	if (hash)
		*xi = ghash8(k, *xi, c);
#pragma GCC unroll 8
	for (int i = 0; i < 8; i++) {
		__m128i x = encrypt ? load(in + 16 * i) : d[i];

		x = _mm_xor_si128(x, _mm_aesenclast_si128(b[i], k->rk[14]));
		store(out + 16 * i, x);
		if (encrypt)
			c[i] = bswap(x);
	}
}

/* ---- The interface --------------------------------------------------------------- */

static void keys_load(struct keys *k, const struct aesgcm_x86 *g)
{
	for (int i = 0; i < 15; i++)
		k->rk[i] = load(g->rk[i]);
	for (int i = 0; i < AESGCM_X86_GROUP; i++) {
		k->h[i] = load(g->h[i]);
		k->hk[i] = karatsuba_key(k->h[i]);
	}
}

void aesgcm_x86_start(struct aesgcm_x86 *g, const uint8_t key[32],
		      const uint8_t iv[12], bool encrypt, const uint8_t *aad,
		      size_t aad_len)
{
	struct keys k;
	uint8_t j0[16];
	__m128i h, hp;

	memset(g, 0, sizeof(*g));
	g->encrypt = encrypt;
	g->aad_len = aad_len;
	expand_key(k.rk, key);
	h = bswap(aes_block(k.rk, _mm_setzero_si128()));
	hp = h;
	for (int i = 0; i < AESGCM_X86_GROUP; i++) {
		if (i != 0)
			hp = gf_mul(hp, h);
		k.h[i] = hp;
		k.hk[i] = karatsuba_key(hp);
		store(g->h[i], k.h[i]);
	}
	for (int i = 0; i < 15; i++)
		store(g->rk[i], k.rk[i]);

	/* J0 = IV || 0^31 || 1 (96-bit IV); the data starts at inc32(J0). */
	memcpy(j0, iv, 12);
	j0[12] = 0;
	j0[13] = 0;
	j0[14] = 0;
	j0[15] = 1;
	store(g->ekj0, aes_block(k.rk, load(j0)));
	store(g->ctr, _mm_add_epi32(bswap(load(j0)), _mm_set_epi32(0, 0, 0, 1)));
	store(g->xi, ghash_bytes(&k, _mm_setzero_si128(), aad, aad_len));

	wipe(&k, sizeof(k));
	simd_clear_regs();
}

void aesgcm_x86_update(struct aesgcm_x86 *g, const uint8_t *in, size_t len,
		       uint8_t *out)
{
	struct keys k;
	__m128i ctr, xi, c[8];
	bool encrypt = g->encrypt != 0;

	keys_load(&k, g);
	ctr = load(g->ctr);
	xi = load(g->xi);
	g->len += len;

	if (encrypt) {
		if (len >= 128) {
			group8(&k, &ctr, in, out, true, false, c, &xi);
			in += 128;
			out += 128;
			len -= 128;
			for (; len >= 128; in += 128, out += 128, len -= 128)
				group8(&k, &ctr, in, out, true, true, c, &xi);
			xi = ghash8(&k, xi, c);
		}
	} else {
		for (; len >= 128; in += 128, out += 128, len -= 128)
			group8(&k, &ctr, in, out, false, true, c, &xi);
	}

	/* Whole blocks left over (fewer than 8), one at a time. */
	for (; len >= 16; in += 16, out += 16, len -= 16) {
		__m128i x = load(in);
		__m128i y = _mm_xor_si128(x, aes_block(k.rk, bswap(ctr)));

		ctr = _mm_add_epi32(ctr, _mm_set_epi32(0, 0, 0, 1));
		store(out, y);
		xi = ghash1(&k, xi, bswap(encrypt ? y : x));
	}
	/* The last partial block: its ciphertext is hashed (padded) by finish. */
	if (len != 0) {
		uint8_t ks[16];

		store(ks, aes_block(k.rk, bswap(ctr)));
		ctr = _mm_add_epi32(ctr, _mm_set_epi32(0, 0, 0, 1));
		for (size_t i = 0; i < len; i++) {
			uint8_t x = in[i], y = (uint8_t)(x ^ ks[i]);

			out[i] = y;
			g->part[i] = encrypt ? y : x;
		}
		g->part_len = (uint32_t)len;
		wipe(ks, sizeof(ks));
	}

	store(g->ctr, ctr);
	store(g->xi, xi);
	wipe(&k, sizeof(k));
	wipe(c, sizeof(c));
	simd_clear_regs();
}

void aesgcm_x86_finish(struct aesgcm_x86 *g, uint8_t tag[16])
{
	struct keys k;
	__m128i xi;

	keys_load(&k, g);
	xi = load(g->xi);
	if (g->part_len != 0) {
		memset(g->part + g->part_len, 0, sizeof(g->part) - g->part_len);
		xi = ghash1(&k, xi, bswap(load(g->part)));
	}
	/* The lengths block: len(A) || len(C) in bits, big-endian, which is
	 * exactly this 128-bit value once reflected. */
	xi = ghash1(&k, xi, _mm_set_epi64x((long long)(g->aad_len * 8), (long long)(g->len * 8)));
	store(tag, _mm_xor_si128(bswap(xi), load(g->ekj0)));
	wipe(&k, sizeof(k));
	simd_clear_regs();
}
