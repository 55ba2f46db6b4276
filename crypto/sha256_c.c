/*
 * SHA-256 (FIPS 180-4) in portable C: the path wherever SHA-NI is not
 * (crypto/sha256_c.h, docs/crypto.md "SHA-256 in C"). General registers
 * only, no table lookup or branch on the data: only lengths steer it.
 *
 * Written for few instructions, since the TCB measures VMs with it on
 * CPUs without SHA-NI, which here are emulators (Bochs, QEMU's TCG) whose
 * time goes by instructions executed: 40.6 a byte with the kernel's
 * flags, against mbedTLS's 66.1 (docs/crypto.md, "SHA-256 in C").
 *   - the 64 rounds are unrolled by macros, and instead of moving the
 *     eight working variables one place each round (a = T1 + T2, b = a,
 *     ...), the next round names them differently: only d and h change;
 *   - K[t] is a constant in each round (an immediate, no table);
 *   - the message schedule lives in a ring of 16 words, W[t] computed just
 *     before round t into the slot of W[t-16], the only word it replaces;
 *   - each Sigma is three rotates of one copy, nested (below), and Maj
 *     reuses the previous round's a ^ b;
 *   - two empty asm statements keep gcc from keeping ring words in
 *     registers, which would spill (below).
 * The schedule ring, the only copy of message words it makes, is wiped
 * before returning; the partial block is kept in the caller's struct,
 * which the caller wipes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/sha256_c.h"

/* A rotate by a constant: the compiler makes it one ROR. */
static inline uint32_t ror(uint32_t x, unsigned n)
{
	return x >> n | x << (32 - n);
}

/* FIPS 180-4, 4.1.2. Each rotates one copy of x three times with an XOR
 * of x between: ror(ror(ror(x, 14) ^ x, 5) ^ x, 6) is ror(x, 25) ^
 * ror(x, 11) ^ ror(x, 6), in one register copy instead of three. */
#define BSIG0(x) ror(ror(ror((x), 9) ^ (x), 11) ^ (x), 2)   /* ror 2, 13, 22 */
#define BSIG1(x) ror(ror(ror((x), 14) ^ (x), 5) ^ (x), 6)   /* ror 6, 11, 25 */
#define SSIG0(x) (ror(ror((x), 11) ^ (x), 7) ^ (x) >> 3)    /* ror 7, 18; shr 3 */
#define SSIG1(x) (ror(ror((x), 2) ^ (x), 17) ^ (x) >> 10)   /* ror 17, 19; shr 10 */
/* Ch(e, f, g): f where e has a one, g where it has a zero. */
#define CH(e, f, g) ((((f) ^ (g)) & (e)) ^ (g))

/* The message's big-endian word at p (any alignment): one load and one
 * BSWAP. __builtin_memcpy even where -fno-builtin (the kernel) would make
 * memcpy a call. */
static inline uint32_t load_be32(const uint8_t *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap32(v);
#endif
	return v;
}

/* x, through an empty asm the compiler cannot see into. SCHED keeps the
 * sum of W[t-16]'s three addends whole with it: otherwise gcc
 * reassociates W[t-16] into the sum and loads it first, where it can add
 * the sum to it in memory (41.4 instructions a byte instead of 40.6). */
static inline uint32_t opaque(uint32_t x)
{
	__asm__("" : "+r"(x));
	return x;
}

/* The schedule: W[t] in w[t % 16]. Rounds 0..15 take the message's words;
 * from round 16 on, W[t] = ssig1(W[t-2]) + W[t-7] + ssig0(W[t-15]) +
 * W[t-16] overwrites W[t-16], which no later round needs. */
#define W(t) w[(t) & 15]
/* After each round: the ring's words are read back from memory (an ADD's
 * operand) and the message's are loaded where used. Without this barrier
 * gcc sees through the array, keeps the words it stored in registers for
 * up to 16 rounds (and hoists message loads), runs out of registers and
 * spills: 44.0 instructions a byte instead of 40.6 (docs/crypto.md). */
#define RING_BARRIER() __asm__("" : "+m"(w) : : "memory")
#define MSG(t) (W(t) = load_be32(p + 4 * (t)))
#define SCHED(t) (W(t) += opaque(SSIG1(W((t) - 2)) + W((t) - 7) + SSIG0(W((t) - 15))))

/*
 * Round t, with the variables named as this round sees them:
 *   T1 = h + Bsig1(e) + Ch(e, f, g) + K[t] + W[t];  d += T1;
 *   h = T1 + Bsig0(a) + Maj(a, b, c)
 * which is the standard's round followed by the renaming a..h -> b..h, a
 * (the new a is in h's variable, the new e in d's). Maj(a, b, c) is
 * b ^ ((a ^ b) & (b ^ c)) (b where a and b agree, else c); b ^ c is the
 * previous round's a ^ b, kept in bc.
 */
#define ROUND(a, b, c, d, e, f, g, h, t, wt)                          \
	do {                                                          \
		uint32_t ab_ = (a) ^ (b);                             \
		h += BSIG1(e) + CH(e, f, g) + sha256_k[t] + (wt);            \
		d += h;                                               \
		h += BSIG0(a) + ((ab_ & bc) ^ (b));                   \
		bc = ab_;                                             \
		RING_BARRIER();                                       \
	} while (0)

/* Eight rounds from t bring the names back to where they started. */
#define ROUNDS8(t, NEXTW)                                              \
	do {                                                           \
		ROUND(a, b, c, d, e, f, g, h, (t) + 0, NEXTW((t) + 0)); \
		ROUND(h, a, b, c, d, e, f, g, (t) + 1, NEXTW((t) + 1)); \
		ROUND(g, h, a, b, c, d, e, f, (t) + 2, NEXTW((t) + 2)); \
		ROUND(f, g, h, a, b, c, d, e, (t) + 3, NEXTW((t) + 3)); \
		ROUND(e, f, g, h, a, b, c, d, (t) + 4, NEXTW((t) + 4)); \
		ROUND(d, e, f, g, h, a, b, c, (t) + 5, NEXTW((t) + 5)); \
		ROUND(c, d, e, f, g, h, a, b, (t) + 6, NEXTW((t) + 6)); \
		ROUND(b, c, d, e, f, g, h, a, (t) + 7, NEXTW((t) + 7)); \
	} while (0)

/* n 64-byte blocks at p into the chaining value hv. Inlined into two
 * functions, one of them built for BMI2 (below). */
static inline __attribute__((always_inline))
void blocks_body(uint32_t hv[8], const uint8_t *p, size_t n)
{
	uint32_t w[16];

	for (; n != 0; n--, p += 64) {
		uint32_t a = hv[0], b = hv[1], c = hv[2], d = hv[3];
		uint32_t e = hv[4], f = hv[5], g = hv[6], h = hv[7];
		uint32_t bc = b ^ c;

		ROUNDS8(0, MSG);
		ROUNDS8(8, MSG);
		ROUNDS8(16, SCHED);
		ROUNDS8(24, SCHED);
		ROUNDS8(32, SCHED);
		ROUNDS8(40, SCHED);
		ROUNDS8(48, SCHED);
		ROUNDS8(56, SCHED);
		hv[0] += a;
		hv[1] += b;
		hv[2] += c;
		hv[3] += d;
		hv[4] += e;
		hv[5] += f;
		hv[6] += g;
		hv[7] += h;
	}
	crypto_wipe(w, sizeof(w));
}

static void blocks_plain(uint32_t hv[8], const uint8_t *p, size_t n)
{
	blocks_body(hv, p, n);
}

/* The same rounds where the CPU has BMI2: gcc then makes each rotate a
 * RORX into a fresh register, which saves the MOV of the copy a ROR would
 * destroy (CPUs without SHA-NI but with BMI2 are most servers of the
 * Haswell to Cascade Lake years). */
__attribute__((target("bmi2")))
static void blocks_bmi2(uint32_t hv[8], const uint8_t *p, size_t n)
{
	blocks_body(hv, p, n);
}

static void blocks(uint32_t hv[8], const uint8_t *p, size_t n, bool bmi2)
{
	if (bmi2)
		blocks_bmi2(hv, p, n);
	else
		blocks_plain(hv, p, n);
}

void sha256_c_update(struct sha256_state *s, const uint8_t *p, size_t len, bool bmi2)
{
	sha256_buffered_update(s, p, len, blocks, bmi2);
}

void sha256_c_final(struct sha256_state *s, uint8_t out[32], bool bmi2)
{
	sha256_padded_final(s, out, blocks, bmi2);
}
