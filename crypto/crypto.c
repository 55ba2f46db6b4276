/*
 * crypto.h over mbedTLS 2.28. One source for both builds:
 *  - kernel (hypervisor, TPGVM): mbedTLS built freestanding with
 *    crypto/mbedtls_config_kernel.h; memory from lib/heap.c; entropy from
 *    the platform's crypto_platform_entropy() through mbedtls_hardware_poll
 *    (crypto/mbedtls_platform.c);
 *  - host (-DCRYPTO_HOST: tools, unit tests): Debian's libmbedtls, libc's
 *    allocator, getrandom() as an extra entropy source.
 *
 * Every function clears the mbedTLS objects it used, secrets included, on
 * every path. Not reentrant: the DRBG is one global (one CPU at a time).
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef CRYPTO_HOST
#include <errno.h>
#include <sys/random.h>
#else
#include <heap.h>
#endif

#include "crypto/aes_gcm_x86.h"
#include "crypto/sha256_c.h"
#include "crypto/sha256_x86.h"
#include "crypto/crypto.h"
#include "crypto/crypto_internal.h"

#include "mbedtls/aes.h"
#include "mbedtls/bignum.h"
#include "mbedtls/ctr_drbg.h"
#include "mbedtls/ecdh.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/entropy.h"
#include "mbedtls/gcm.h"
#include "mbedtls/hkdf.h"
#include "mbedtls/md.h"
#include "mbedtls/oid.h"
#include "mbedtls/pk.h"
#include "mbedtls/platform.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha512.h"
#include "mbedtls/x509.h"
#include "mbedtls/x509_crt.h"

_Static_assert(sizeof(mbedtls_sha512_context) <=
		       sizeof(((struct crypto_sha384_ctx *)0)->opaque),
	       "struct crypto_sha384_ctx is too small for mbedtls_sha512_context");
_Static_assert(_Alignof(mbedtls_sha512_context) <= _Alignof(uint64_t),
	       "struct crypto_sha384_ctx is not aligned enough");

const char *crypto_strerror(int err)
{
	switch (err) {
	case CRYPTO_OK:
		return "ok";
	case CRYPTO_E_INVAL:
		return "invalid argument";
	case CRYPTO_E_VERIFY:
		return "verification failed";
	case CRYPTO_E_NOMEM:
		return "out of memory";
	case CRYPTO_E_RNG:
		return "no randomness";
	case CRYPTO_E_INTERNAL:
		return "internal crypto error";
	default:
		return "unknown crypto error";
	}
}

void crypto_wipe(void *p, size_t len)
{
	if (p != NULL && len != 0)
		mbedtls_platform_zeroize(p, len);
}

/* An mbedTLS error code as ours, for the errors that are not "does not
 * verify" (each caller decides that one). */
static int from_mbedtls(int ret)
{
	switch (ret) {
	case 0:
		return CRYPTO_OK;
	case MBEDTLS_ERR_MPI_ALLOC_FAILED:
	case MBEDTLS_ERR_ECP_ALLOC_FAILED:
	case MBEDTLS_ERR_MD_ALLOC_FAILED:
	case MBEDTLS_ERR_PK_ALLOC_FAILED:
	case MBEDTLS_ERR_X509_ALLOC_FAILED:
		return CRYPTO_E_NOMEM;
	case MBEDTLS_ERR_ECP_RANDOM_FAILED:
	case MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED:
	case MBEDTLS_ERR_ENTROPY_SOURCE_FAILED:
	case MBEDTLS_ERR_ENTROPY_NO_STRONG_SOURCE:
	case MBEDTLS_ERR_ENTROPY_NO_SOURCES_DEFINED:
		return CRYPTO_E_RNG;
	case MBEDTLS_ERR_ECP_BAD_INPUT_DATA:
	case MBEDTLS_ERR_ECP_INVALID_KEY:
	case MBEDTLS_ERR_MPI_BAD_INPUT_DATA:
	case MBEDTLS_ERR_HKDF_BAD_INPUT_DATA:
	case MBEDTLS_ERR_GCM_BAD_INPUT:
		return CRYPTO_E_INVAL;
	default:
		return CRYPTO_E_INTERNAL;
	}
}

/* ---- Randomness ------------------------------------------------------------ */

static struct {
	bool ready;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
} rng;

#ifdef CRYPTO_HOST
int crypto_platform_entropy(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
#endif

#ifndef MBEDTLS_ENTROPY_HARDWARE_ALT
/* Where mbedTLS does not poll crypto_platform_entropy() itself (the host's
 * libmbedtls), it is added as one more strong source. */
static int platform_source(void *data, unsigned char *out, size_t len,
			   size_t *olen)
{
	(void)data;
	*olen = 0;
	if (crypto_platform_entropy(out, len) != 0)
		return MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
	*olen = len;
	return 0;
}
#endif

int crypto_init(void)
{
	static const char pers[] = "Custos CTR-DRBG v1";
	int ret;

	if (rng.ready)
		return CRYPTO_OK;
#ifndef CRYPTO_HOST
	/* mbedTLS allocates from lib/heap.c (heap_init() comes first). */
	mbedtls_platform_set_calloc_free(heap_calloc, heap_free);
#endif
	if (!crypto_have_platform_entropy())
		return CRYPTO_E_RNG;
	mbedtls_entropy_init(&rng.entropy);
	mbedtls_ctr_drbg_init(&rng.drbg);
#ifndef MBEDTLS_ENTROPY_HARDWARE_ALT
	ret = mbedtls_entropy_add_source(&rng.entropy, platform_source, NULL,
					 32, MBEDTLS_ENTROPY_SOURCE_STRONG);
	if (ret != 0)
		goto fail;
#endif
	ret = mbedtls_ctr_drbg_seed(&rng.drbg, mbedtls_entropy_func, &rng.entropy,
				    (const unsigned char *)pers, sizeof(pers) - 1);
	if (ret != 0)
		goto fail;
	rng.ready = true;
	return CRYPTO_OK;
fail:
	mbedtls_ctr_drbg_free(&rng.drbg);
	mbedtls_entropy_free(&rng.entropy);
	return from_mbedtls(ret);
}

/* The DRBG as an mbedTLS f_rng (initialised on first use). */
int crypto_drbg_random(void *ctx, unsigned char *out, size_t len)
{
	(void)ctx;
	if (!rng.ready && crypto_init() != CRYPTO_OK)
		return MBEDTLS_ERR_CTR_DRBG_ENTROPY_SOURCE_FAILED;
	return mbedtls_ctr_drbg_random(&rng.drbg, out, len);
}

/* A reseed with fresh platform entropy plus the caller's bytes as additional
 * input (NIST SP 800-90A): bytes of unknown quality, or an attacker's, can
 * only add to what the DRBG holds, never replace it. */
int crypto_rng_mix(const void *extra, size_t len)
{
	int rc = crypto_init();

	if (rc != CRYPTO_OK)
		return rc;
	if (extra == NULL || len == 0 || len > MBEDTLS_CTR_DRBG_MAX_INPUT)
		return CRYPTO_E_INVAL;
	if (mbedtls_ctr_drbg_reseed(&rng.drbg, extra, len) != 0)
		return CRYPTO_E_RNG;
	return CRYPTO_OK;
}

int crypto_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	int rc = crypto_init();

	if (rc != CRYPTO_OK)
		return rc;
	if (p == NULL && len != 0)
		return CRYPTO_E_INVAL;
	while (len > 0) {
		size_t n = len < MBEDTLS_CTR_DRBG_MAX_REQUEST ? len
							      : MBEDTLS_CTR_DRBG_MAX_REQUEST;

		if (mbedtls_ctr_drbg_random(&rng.drbg, p, n) != 0) {
			crypto_wipe(buf, (size_t)(p - (uint8_t *)buf));
			return CRYPTO_E_RNG;
		}
		p += n;
		len -= n;
	}
	return CRYPTO_OK;
}

/* ---- Hashes and MACs ----------------------------------------------------------- */


void crypto_sha384(const void *data, size_t len, uint8_t out[CRYPTO_SHA384_LEN])
{
	uint8_t full[64];

	(void)mbedtls_sha512_ret(data, len, full, 1);
	memcpy(out, full, CRYPTO_SHA384_LEN);
	crypto_wipe(full, sizeof(full));
}

static mbedtls_sha512_context *sha384_ctx(struct crypto_sha384_ctx *c)
{
	return (mbedtls_sha512_context *)(void *)c->opaque;
}

void crypto_sha384_init(struct crypto_sha384_ctx *c)
{
	memset(c, 0, sizeof(*c)); /* (also tells cppcheck's CTU that c starts here) */
	mbedtls_sha512_init(sha384_ctx(c));
	(void)mbedtls_sha512_starts_ret(sha384_ctx(c), 1);
}

void crypto_sha384_update(struct crypto_sha384_ctx *c, const void *data, size_t len)
{
	(void)mbedtls_sha512_update_ret(sha384_ctx(c), data, len);
}

void crypto_sha384_final(struct crypto_sha384_ctx *c, uint8_t out[CRYPTO_SHA384_LEN])
{
	uint8_t full[64];

	(void)mbedtls_sha512_finish_ret(sha384_ctx(c), full);
	memcpy(out, full, CRYPTO_SHA384_LEN);
	crypto_wipe(full, sizeof(full));
	mbedtls_sha512_free(sha384_ctx(c));
}

static const mbedtls_md_info_t *sha384_info(void)
{
	return mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
}

int crypto_hmac_sha384(const void *key, size_t key_len, const void *data,
		       size_t len, uint8_t out[CRYPTO_SHA384_LEN])
{
	if ((key == NULL && key_len != 0) || (data == NULL && len != 0) ||
	    out == NULL)
		return CRYPTO_E_INVAL;
	return from_mbedtls(mbedtls_md_hmac(sha384_info(), key, key_len, data,
					    len, out));
}

int crypto_hkdf_sha384(const void *salt, size_t salt_len, const void *ikm,
		       size_t ikm_len, const void *info, size_t info_len,
		       uint8_t *out, size_t out_len)
{
	int ret;

	if ((salt == NULL && salt_len != 0) || (ikm == NULL && ikm_len != 0) ||
	    (info == NULL && info_len != 0) || out == NULL || out_len == 0 ||
	    out_len > 255 * CRYPTO_SHA384_LEN)
		return CRYPTO_E_INVAL;
	ret = mbedtls_hkdf(sha384_info(), salt, salt_len, ikm, ikm_len, info,
			   info_len, out, out_len);
	if (ret != 0)
		crypto_wipe(out, out_len);
	return from_mbedtls(ret);
}

/* ---- AES-CFB -------------------------------------------------------------------- */

int crypto_aes_cfb(bool encrypt, const uint8_t *key, size_t key_len,
		   const uint8_t iv[CRYPTO_AES_BLOCK_LEN], uint8_t *buf, size_t len)
{
	mbedtls_aes_context aes;
	uint8_t chain[CRYPTO_AES_BLOCK_LEN]; /* mbedTLS advances the IV in place */
	size_t off = 0;
	int ret;

	if (key == NULL || (key_len != 16 && key_len != 32) || iv == NULL ||
	    (buf == NULL && len != 0))
		return CRYPTO_E_INVAL;
	memcpy(chain, iv, sizeof(chain));
	mbedtls_aes_init(&aes);
	/* CFB runs the block cipher forwards both ways: always the encryption
	 * key schedule. */
	ret = mbedtls_aes_setkey_enc(&aes, key, (unsigned int)(8 * key_len));
	if (ret == 0)
		ret = mbedtls_aes_crypt_cfb128(&aes, encrypt ? MBEDTLS_AES_ENCRYPT :
					       MBEDTLS_AES_DECRYPT, len, &off,
					       chain, buf, buf);
	mbedtls_aes_free(&aes);
	crypto_wipe(chain, sizeof(chain));
	return from_mbedtls(ret);
}

/* ---- The vector window: AES-GCM with AES-NI and PCLMULQDQ ------------------------- */

static struct crypto_simd_window simd_window;
static bool simd_window_set;
static bool simd_off;          /* crypto_simd_force_off() */
static int simd_cpu_state;     /* 0: not asked yet, 1: the CPU has it all, -1: not */

void crypto_simd_register(const struct crypto_simd_window *w)
{
	simd_window_set = w != NULL && w->begin != NULL && w->end != NULL;
	if (simd_window_set)
		simd_window = *w;
	else
		memset(&simd_window, 0, sizeof(simd_window));
}

void crypto_simd_force_off(bool off)
{
	simd_off = off;
}

/* CPUID.1: ECX bits 1 (PCLMULQDQ), 9 (SSSE3), 19 (SSE4.1), 25 (AES-NI);
 * EDX bit 26 (SSE2). crypto/aes_gcm_x86.c is compiled for exactly these. */
static bool simd_cpu_ok(void)
{
	if (simd_cpu_state == 0) {
		uint32_t a = 1, b, c = 0, d;
		const uint32_t want_c = 1u << 1 | 1u << 9 | 1u << 19 | 1u << 25;

		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
		(void)b;
		simd_cpu_state = (c & want_c) == want_c && (d & 1u << 26) != 0 ? 1 : -1;
	}
	return simd_cpu_state > 0;
}

/* May the SIMD code run at all (a stream begun on it goes on even if
 * crypto_simd_force_off() came since)? */
static bool simd_usable(void)
{
#ifdef CRYPTO_HOST
	return simd_cpu_ok(); /* a process owns its registers: no window needed */
#else
	/* The window first: the TPGVM, which has none, never asks CPUID
	 * (an exit) for it. */
	return simd_window_set && simd_cpu_ok();
#endif
}

bool crypto_simd_active(void)
{
	return !simd_off && simd_usable();
}

/* Around every call into crypto/aes_gcm_x86.c. */
static void simd_begin(void)
{
	if (simd_window_set)
		simd_window.begin();
}

static void simd_end(void)
{
	if (simd_window_set)
		simd_window.end();
}

/* ---- SHA-256, on SHA-NI inside the window or in C (crypto/sha256_c.c) ------- */

static int sha_cpu_state;      /* as simd_cpu_state, for the SHA extensions */

/* CPUID.7.0:EBX bit 29 (SHA); CPUID.1: ECX bits 9 (SSSE3), 19 (SSE4.1),
 * EDX bit 26 (SSE2). crypto/sha256_x86.c is compiled for exactly these. */
static void cpuid(uint32_t leaf, uint32_t r[4])
{
	uint32_t a = leaf, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	r[0] = a;
	r[1] = b;
	r[2] = c;
	r[3] = d;
}

static bool sha_cpu_ok(void)
{
	if (sha_cpu_state == 0) {
		const uint32_t want_c = 1u << 9 | 1u << 19;
		uint32_t r[4];
		bool ok;

		cpuid(0, r);
		ok = r[0] >= 7;
		if (ok) {
			cpuid(1, r);
			ok = (r[2] & want_c) == want_c && (r[3] & 1u << 26) != 0;
		}
		if (ok) {
			cpuid(7, r);
			ok = (r[1] & 1u << 29) != 0;
		}
		sha_cpu_state = ok ? 1 : -1;
	}
	return sha_cpu_state > 0;
}

static bool sha_simd_usable(void)
{
#ifdef CRYPTO_HOST
	return sha_cpu_ok();
#else
	return simd_window_set && sha_cpu_ok(); /* the TPGVM asks no CPUID */
#endif
}

bool crypto_sha256_simd_active(void)
{
	return !simd_off && sha_simd_usable();
}

static int bmi2_cpu_state;     /* as simd_cpu_state, for BMI2 */
static bool bmi2_off;          /* crypto_sha256_bmi2_force_off() */

void crypto_sha256_bmi2_force_off(bool off)
{
	bmi2_off = off;
}

/* May the C path run its BMI2 build (crypto/sha256_c.c)? CPUID.7.0:EBX
 * bit 8. In the TCB and on the host; the TPGVM, which gets no vector
 * window either, asks no CPUID (an exit) and runs the plain build. */
bool crypto_sha256_bmi2_active(void)
{
#ifndef CRYPTO_HOST
	if (!simd_window_set)
		return false;
#endif
	if (bmi2_cpu_state == 0) {
		uint32_t r[4];
		bool ok;

		cpuid(0, r);
		ok = r[0] >= 7;
		if (ok) {
			cpuid(7, r);
			ok = (r[1] & 1u << 8) != 0;
		}
		bmi2_cpu_state = ok ? 1 : -1;
	}
	return !bmi2_off && bmi2_cpu_state > 0;
}

void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
	struct sha256_state s;

	sha256_state_init(&s);
	if (crypto_sha256_simd_active()) {
		simd_begin();
		sha256_x86_update(&s, data, len);
		sha256_x86_final(&s, out);
		simd_end();
	} else {
		bool bmi2 = crypto_sha256_bmi2_active();

		sha256_c_update(&s, data, len, bmi2);
		sha256_c_final(&s, out, bmi2);
	}
	crypto_wipe(&s, sizeof(s));
}

/* Both paths keep the same state (crypto/sha256_c.h): simd only says
 * which one computes it. */
struct sha256_ctx {
	struct sha256_state s;
	bool simd;
};
_Static_assert(sizeof(struct sha256_ctx) <= sizeof(((struct crypto_sha256_ctx *)0)->opaque),
	       "struct crypto_sha256_ctx is too small");
_Static_assert(_Alignof(struct sha256_ctx) <= _Alignof(uint64_t),
	       "struct crypto_sha256_ctx is not aligned enough");

static struct sha256_ctx *sha256_ctx(struct crypto_sha256_ctx *c)
{
	return (struct sha256_ctx *)(void *)c->opaque;
}

void crypto_sha256_init(struct crypto_sha256_ctx *c)
{
	struct sha256_ctx *h;

	memset(c, 0, sizeof(*c)); /* (also tells cppcheck's CTU that c starts here) */
	h = sha256_ctx(c);
	sha256_state_init(&h->s);
	h->simd = crypto_sha256_simd_active();
}

void crypto_sha256_update(struct crypto_sha256_ctx *c, const void *data, size_t len)
{
	struct sha256_ctx *h = sha256_ctx(c);

	/* A stream begun on SHA-NI whose window has gone (crypto_simd_register
	 * again, mid-stream) goes on in C from the same state. */
	h->simd = h->simd && sha_simd_usable();
	if (h->simd) {
		simd_begin();
		sha256_x86_update(&h->s, data, len);
		simd_end();
	} else {
		sha256_c_update(&h->s, data, len, crypto_sha256_bmi2_active());
	}
}

void crypto_sha256_final(struct crypto_sha256_ctx *c, uint8_t out[CRYPTO_SHA256_LEN])
{
	struct sha256_ctx *h = sha256_ctx(c);

	h->simd = h->simd && sha_simd_usable(); /* (as in update) */
	if (h->simd) {
		simd_begin();
		sha256_x86_final(&h->s, out);
		simd_end();
	} else {
		sha256_c_final(&h->s, out, crypto_sha256_bmi2_active());
	}
	crypto_wipe(c, sizeof(*c));
}

/* GCM's limits, as mbedTLS 2.28 checks them: AAD < 2^61 bytes, data at
 * most 2^36 - 32 bytes (2^32 - 2 blocks). */
#define GCM_MAX_AAD_BITS_SHIFT 61
#define GCM_MAX_DATA 0xFFFFFFFE0ull

static bool gcm_aad_len_ok(size_t aad_len)
{
	return ((uint64_t)aad_len >> GCM_MAX_AAD_BITS_SHIFT) == 0;
}

/* Constant time: every byte compared, whatever the first difference. */
static bool tags_equal(const uint8_t *a, const uint8_t *b)
{
	uint8_t diff = 0;

	for (size_t i = 0; i < CRYPTO_GCM_TAG_LEN; i++)
		diff |= (uint8_t)(a[i] ^ b[i]);
	return diff == 0;
}

/* One-shot AES-GCM on the SIMD path: the tag into tag_out. */
static int simd_gcm(bool encrypt, const uint8_t *key, const uint8_t *iv,
		    const void *aad, size_t aad_len, const void *in, size_t len,
		    void *out, uint8_t tag_out[CRYPTO_GCM_TAG_LEN])
{
	struct aesgcm_x86 g;

	if (!gcm_aad_len_ok(aad_len) || (uint64_t)len > GCM_MAX_DATA)
		return CRYPTO_E_INVAL;
	simd_begin();
	aesgcm_x86_start(&g, key, iv, encrypt, aad, aad_len);
	aesgcm_x86_update(&g, in, len, out);
	aesgcm_x86_finish(&g, tag_out);
	simd_end();
	crypto_wipe(&g, sizeof(g));
	return CRYPTO_OK;
}

/* ---- AES-256-GCM --------------------------------------------------------------- */

int crypto_aes256gcm_encrypt(const uint8_t key[CRYPTO_AES256_KEY_LEN],
			     const uint8_t iv[CRYPTO_GCM_IV_LEN],
			     const void *aad, size_t aad_len,
			     const void *pt, size_t len, void *ct,
			     uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	mbedtls_gcm_context gcm;
	int ret;

	if (key == NULL || iv == NULL || tag == NULL ||
	    (aad == NULL && aad_len != 0) ||
	    (len != 0 && (pt == NULL || ct == NULL)))
		return CRYPTO_E_INVAL;
	if (crypto_simd_active()) {
		ret = simd_gcm(true, key, iv, aad, aad_len, pt, len, ct, tag);
		if (ret != CRYPTO_OK)
			crypto_wipe(tag, CRYPTO_GCM_TAG_LEN);
		return ret;
	}
	mbedtls_gcm_init(&gcm);
	ret = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256);
	if (ret == 0)
		ret = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, len, iv,
						CRYPTO_GCM_IV_LEN, aad, aad_len,
						pt, ct, CRYPTO_GCM_TAG_LEN, tag);
	mbedtls_gcm_free(&gcm);
	if (ret != 0) {
		if (len != 0)
			crypto_wipe(ct, len);
		crypto_wipe(tag, CRYPTO_GCM_TAG_LEN);
	}
	return from_mbedtls(ret);
}

int crypto_aes256gcm_decrypt(const uint8_t key[CRYPTO_AES256_KEY_LEN],
			     const uint8_t iv[CRYPTO_GCM_IV_LEN],
			     const void *aad, size_t aad_len,
			     const void *ct, size_t len, void *pt,
			     const uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	mbedtls_gcm_context gcm;
	int ret;

	if (key == NULL || iv == NULL || tag == NULL ||
	    (aad == NULL && aad_len != 0) ||
	    (len != 0 && (pt == NULL || ct == NULL)))
		return CRYPTO_E_INVAL;
	if (crypto_simd_active()) {
		uint8_t want[CRYPTO_GCM_TAG_LEN];

		ret = simd_gcm(false, key, iv, aad, aad_len, ct, len, pt, want);
		if (ret == CRYPTO_OK && !tags_equal(want, tag))
			ret = CRYPTO_E_VERIFY;
		crypto_wipe(want, sizeof(want));
		/* No plaintext of a forgery may survive. */
		if (ret != CRYPTO_OK && len != 0)
			crypto_wipe(pt, len);
		return ret;
	}
	mbedtls_gcm_init(&gcm);
	ret = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, 256);
	if (ret == 0)
		ret = mbedtls_gcm_auth_decrypt(&gcm, len, iv, CRYPTO_GCM_IV_LEN,
					       aad, aad_len, tag,
					       CRYPTO_GCM_TAG_LEN, ct, pt);
	mbedtls_gcm_free(&gcm);
	if (ret == 0)
		return CRYPTO_OK;
	/* No plaintext of a forgery may survive (mbedTLS zeroes it too). */
	if (len != 0)
		crypto_wipe(pt, len);
	return ret == MBEDTLS_ERR_GCM_AUTH_FAILED ? CRYPTO_E_VERIFY
						  : from_mbedtls(ret);
}

/* ---- AES-256-GCM, streamed ------------------------------------------------------- */

#define GCM_STREAM_LIVE 0x4743534cu /* "GCSL": begun, not yet ended */

struct gcm_stream {
	union {
		mbedtls_gcm_context gcm;  /* !simd */
		struct aesgcm_x86 x86;    /* simd */
	} u;
	uint32_t live;     /* GCM_STREAM_LIVE while running; 0 once wiped */
	bool encrypt;
	bool tail;         /* an update of a length not a multiple of 16 was seen */
	bool simd;         /* begun on the AES-NI path (crypto_simd_active()) */
	uint64_t done;     /* bytes of data so far (the SIMD path's limit) */
};

_Static_assert(sizeof(struct gcm_stream) <= sizeof(((struct crypto_gcm_stream *)0)->opaque),
	       "struct crypto_gcm_stream is too small for our state");
_Static_assert(_Alignof(struct gcm_stream) <= _Alignof(uint64_t),
	       "struct crypto_gcm_stream is not aligned enough");

static struct gcm_stream *gcm_stream(struct crypto_gcm_stream *s)
{
	return (struct gcm_stream *)(void *)s->opaque;
}

/* The state of s if s is begun and not yet ended, else NULL. */
static struct gcm_stream *live_stream(struct crypto_gcm_stream *s)
{
	if (s == NULL || gcm_stream(s)->live != GCM_STREAM_LIVE)
		return NULL;
	return gcm_stream(s);
}

/* The end of every stream: mbedTLS frees (and zeroes) the cipher context,
 * then the whole struct is wiped (the SIMD path's round keys, H powers and
 * partial block with it), which also marks it ended. */
void crypto_aes256gcm_stream_abort(struct crypto_gcm_stream *s)
{
	if (s == NULL)
		return;
	if (gcm_stream(s)->live == GCM_STREAM_LIVE && !gcm_stream(s)->simd)
		mbedtls_gcm_free(&gcm_stream(s)->u.gcm);
	crypto_wipe(s, sizeof(*s));
}

int crypto_aes256gcm_stream_begin(struct crypto_gcm_stream *s,
				  const uint8_t key[CRYPTO_AES256_KEY_LEN],
				  const uint8_t iv[CRYPTO_GCM_IV_LEN], bool encrypt,
				  const void *aad, size_t aad_len)
{
	struct gcm_stream *g;
	int ret;

	if (s == NULL)
		return CRYPTO_E_INVAL;
	memset(s, 0, sizeof(*s)); /* a struct never used before is fine */
	g = gcm_stream(s);
	if (key == NULL || iv == NULL || (aad == NULL && aad_len != 0))
		return CRYPTO_E_INVAL;
	g->encrypt = encrypt;
	if (crypto_simd_active()) {
		if (!gcm_aad_len_ok(aad_len))
			return CRYPTO_E_INVAL;
		g->simd = true;
		g->live = GCM_STREAM_LIVE;
		simd_begin();
		aesgcm_x86_start(&g->u.x86, key, iv, encrypt, aad, aad_len);
		simd_end();
		return CRYPTO_OK;
	}
	mbedtls_gcm_init(&g->u.gcm);
	g->live = GCM_STREAM_LIVE;
	ret = mbedtls_gcm_setkey(&g->u.gcm, MBEDTLS_CIPHER_ID_AES, key, 256);
	if (ret == 0)
		ret = mbedtls_gcm_starts(&g->u.gcm,
					 encrypt ? MBEDTLS_GCM_ENCRYPT : MBEDTLS_GCM_DECRYPT,
					 iv, CRYPTO_GCM_IV_LEN, aad, aad_len);
	if (ret != 0) {
		crypto_aes256gcm_stream_abort(s);
		return from_mbedtls(ret);
	}
	return CRYPTO_OK;
}

int crypto_aes256gcm_stream_update(struct crypto_gcm_stream *s, const void *in,
				   size_t len, void *out)
{
	struct gcm_stream *g;
	int ret;

	g = live_stream(s);
	if (g == NULL)
		return CRYPTO_E_INVAL;
	if (len == 0)
		return CRYPTO_OK;
	if (in == NULL || out == NULL || g->tail) {
		crypto_aes256gcm_stream_abort(s);
		return CRYPTO_E_INVAL;
	}
	if (len % 16 != 0)
		g->tail = true;
	if (g->simd) {
		/* The same limit as mbedTLS's, and no SIMD without the window
		 * the stream began with. */
		if ((uint64_t)len > GCM_MAX_DATA - g->done || !simd_usable()) {
			crypto_aes256gcm_stream_abort(s);
			return CRYPTO_E_INVAL;
		}
		g->done += len;
		simd_begin();
		aesgcm_x86_update(&g->u.x86, in, len, out);
		simd_end();
		return CRYPTO_OK;
	}
	ret = mbedtls_gcm_update(&g->u.gcm, len, in, out);
	if (ret != 0) {
		crypto_wipe(out, len);
		crypto_aes256gcm_stream_abort(s);
		return from_mbedtls(ret);
	}
	return CRYPTO_OK;
}

/* The tag of a live stream g (either path) into tag; 0 or an mbedTLS error. */
static int stream_tag(struct gcm_stream *g, uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	if (g->simd) {
		if (!simd_usable())
			return MBEDTLS_ERR_GCM_BAD_INPUT;
		simd_begin();
		aesgcm_x86_finish(&g->u.x86, tag);
		simd_end();
		return 0;
	}
	return mbedtls_gcm_finish(&g->u.gcm, tag, CRYPTO_GCM_TAG_LEN);
}

int crypto_aes256gcm_stream_finish(struct crypto_gcm_stream *s,
				   uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	struct gcm_stream *g;
	int ret;

	g = live_stream(s);
	if (g == NULL)
		return CRYPTO_E_INVAL;
	if (tag == NULL || !g->encrypt) {
		crypto_aes256gcm_stream_abort(s);
		return CRYPTO_E_INVAL;
	}
	ret = stream_tag(g, tag);
	crypto_aes256gcm_stream_abort(s);
	if (ret != 0)
		crypto_wipe(tag, CRYPTO_GCM_TAG_LEN);
	return from_mbedtls(ret);
}

int crypto_aes256gcm_stream_verify(struct crypto_gcm_stream *s,
				   const uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	struct gcm_stream *g;
	uint8_t want[CRYPTO_GCM_TAG_LEN];
	bool same;
	int ret;

	g = live_stream(s);
	if (g == NULL)
		return CRYPTO_E_INVAL;
	if (tag == NULL || g->encrypt) {
		crypto_aes256gcm_stream_abort(s);
		return CRYPTO_E_INVAL;
	}
	ret = stream_tag(g, want);
	crypto_aes256gcm_stream_abort(s);
	if (ret != 0) {
		crypto_wipe(want, sizeof(want));
		return from_mbedtls(ret);
	}
	same = tags_equal(want, tag);
	crypto_wipe(want, sizeof(want));
	return same ? CRYPTO_OK : CRYPTO_E_VERIFY;
}

/* ---- P-384 ------------------------------------------------------------------------ */

/* The working set of one P-384 operation. */
struct p384 {
	mbedtls_ecp_group grp;
	mbedtls_mpi d, r, s;
	mbedtls_ecp_point Q;
};

static int p384_begin(struct p384 *k)
{
	mbedtls_ecp_group_init(&k->grp);
	mbedtls_mpi_init(&k->d);
	mbedtls_mpi_init(&k->r);
	mbedtls_mpi_init(&k->s);
	mbedtls_ecp_point_init(&k->Q);
	return mbedtls_ecp_group_load(&k->grp, MBEDTLS_ECP_DP_SECP384R1);
}

static void p384_end(struct p384 *k)
{
	/* mbedtls_*_free zeroes what it frees. */
	mbedtls_ecp_point_free(&k->Q);
	mbedtls_mpi_free(&k->s);
	mbedtls_mpi_free(&k->r);
	mbedtls_mpi_free(&k->d);
	mbedtls_ecp_group_free(&k->grp);
}

/* Load a private scalar: 1 <= d < n, else MBEDTLS_ERR_ECP_INVALID_KEY. */
static int p384_load_priv(struct p384 *k, const uint8_t priv[CRYPTO_P384_PRIV_LEN])
{
	int ret = mbedtls_mpi_read_binary(&k->d, priv, CRYPTO_P384_PRIV_LEN);

	return ret != 0 ? ret : mbedtls_ecp_check_privkey(&k->grp, &k->d);
}

/* Load an uncompressed point and check that it is on the curve (and not
 * the point at infinity). */
static int p384_load_pub(struct p384 *k, const uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	int ret;

	if (pub[0] != 0x04)
		return MBEDTLS_ERR_ECP_INVALID_KEY;
	ret = mbedtls_ecp_point_read_binary(&k->grp, &k->Q, pub, CRYPTO_P384_PUB_LEN);
	return ret != 0 ? ret : mbedtls_ecp_check_pubkey(&k->grp, &k->Q);
}

static int p384_write_pub(struct p384 *k, uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	size_t olen = 0;
	int ret = mbedtls_ecp_point_write_binary(&k->grp, &k->Q,
						 MBEDTLS_ECP_PF_UNCOMPRESSED,
						 &olen, pub, CRYPTO_P384_PUB_LEN);

	return ret == 0 && olen != CRYPTO_P384_PUB_LEN ? MBEDTLS_ERR_ECP_BAD_INPUT_DATA
						       : ret;
}

int crypto_p384_keygen(uint8_t priv[CRYPTO_P384_PRIV_LEN],
		       uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	struct p384 k;
	int ret;

	if (priv == NULL || pub == NULL)
		return CRYPTO_E_INVAL;
	ret = p384_begin(&k);
	if (ret == 0)
		ret = mbedtls_ecp_gen_keypair(&k.grp, &k.d, &k.Q, crypto_drbg_random, NULL);
	if (ret == 0)
		ret = mbedtls_mpi_write_binary(&k.d, priv, CRYPTO_P384_PRIV_LEN);
	if (ret == 0)
		ret = p384_write_pub(&k, pub);
	p384_end(&k);
	if (ret != 0) {
		crypto_wipe(priv, CRYPTO_P384_PRIV_LEN);
		crypto_wipe(pub, CRYPTO_P384_PUB_LEN);
	}
	return from_mbedtls(ret);
}

int crypto_p384_public(const uint8_t priv[CRYPTO_P384_PRIV_LEN],
		       uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	struct p384 k;
	int ret;

	if (priv == NULL || pub == NULL)
		return CRYPTO_E_INVAL;
	ret = p384_begin(&k);
	if (ret == 0)
		ret = p384_load_priv(&k, priv);
	if (ret == 0)
		ret = mbedtls_ecp_mul(&k.grp, &k.Q, &k.d, &k.grp.G, crypto_drbg_random, NULL);
	if (ret == 0)
		ret = p384_write_pub(&k, pub);
	p384_end(&k);
	if (ret != 0)
		crypto_wipe(pub, CRYPTO_P384_PUB_LEN);
	return from_mbedtls(ret);
}

/*
 * Deterministic ECDSA (RFC 6979, k from the key and the digest), so that a
 * weak or broken RNG cannot leak the key through k; the DRBG only blinds
 * the computation. It also makes signing a known-answer test (selftest.c).
 */
int crypto_ecdsa_p384_sign(const uint8_t priv[CRYPTO_P384_PRIV_LEN],
			   const uint8_t digest[CRYPTO_SHA384_LEN],
			   uint8_t sig[CRYPTO_P384_SIG_LEN])
{
	struct p384 k;
	int ret;

	if (priv == NULL || digest == NULL || sig == NULL)
		return CRYPTO_E_INVAL;
	ret = p384_begin(&k);
	if (ret == 0)
		ret = p384_load_priv(&k, priv);
	if (ret == 0)
		ret = mbedtls_ecdsa_sign_det_ext(&k.grp, &k.r, &k.s, &k.d, digest,
						 CRYPTO_SHA384_LEN,
						 MBEDTLS_MD_SHA384, crypto_drbg_random, NULL);
	if (ret == 0)
		ret = mbedtls_mpi_write_binary(&k.r, sig, CRYPTO_P384_SIG_LEN / 2);
	if (ret == 0)
		ret = mbedtls_mpi_write_binary(&k.s, sig + CRYPTO_P384_SIG_LEN / 2,
					       CRYPTO_P384_SIG_LEN / 2);
	p384_end(&k);
	if (ret != 0)
		crypto_wipe(sig, CRYPTO_P384_SIG_LEN);
	return from_mbedtls(ret);
}

int crypto_ecdsa_p384_verify(const uint8_t pub[CRYPTO_P384_PUB_LEN],
			     const uint8_t *digest, size_t digest_len,
			     const uint8_t sig[CRYPTO_P384_SIG_LEN])
{
	struct p384 k;
	int ret;

	if (pub == NULL || digest == NULL || digest_len == 0 || sig == NULL)
		return CRYPTO_E_VERIFY;
	ret = p384_begin(&k);
	if (ret == 0)
		ret = p384_load_pub(&k, pub);
	if (ret == 0)
		ret = mbedtls_mpi_read_binary(&k.r, sig, CRYPTO_P384_SIG_LEN / 2);
	if (ret == 0)
		ret = mbedtls_mpi_read_binary(&k.s, sig + CRYPTO_P384_SIG_LEN / 2,
					      CRYPTO_P384_SIG_LEN / 2);
	/* Checks 1 <= r, s < n itself. */
	if (ret == 0)
		ret = mbedtls_ecdsa_verify(&k.grp, digest, digest_len, &k.Q, &k.r, &k.s);
	p384_end(&k);
	if (ret == 0)
		return CRYPTO_OK;
	/* Out of memory is not "the signature is wrong", but it is not "maybe
	 * right" either: the caller must not accept. */
	return from_mbedtls(ret) == CRYPTO_E_NOMEM ? CRYPTO_E_NOMEM : CRYPTO_E_VERIFY;
}

int crypto_ecdh_p384(const uint8_t priv[CRYPTO_P384_PRIV_LEN],
		     const uint8_t peer[CRYPTO_P384_PUB_LEN],
		     uint8_t shared[CRYPTO_P384_SHARED_LEN])
{
	struct p384 k;
	int ret;

	if (priv == NULL || peer == NULL || shared == NULL)
		return CRYPTO_E_INVAL;
	ret = p384_begin(&k);
	if (ret == 0)
		ret = p384_load_priv(&k, priv);
	if (ret == 0)
		ret = p384_load_pub(&k, peer);
	/* z = x(d * Q); errors if the product is the point at infinity. */
	if (ret == 0)
		ret = mbedtls_ecdh_compute_shared(&k.grp, &k.r, &k.Q, &k.d, crypto_drbg_random, NULL);
	if (ret == 0)
		ret = mbedtls_mpi_write_binary(&k.r, shared, CRYPTO_P384_SHARED_LEN);
	p384_end(&k);
	if (ret != 0)
		crypto_wipe(shared, CRYPTO_P384_SHARED_LEN);
	return from_mbedtls(ret);
}

/* ---- X.509 and Custos roles ------------------------------------------------------ */

const char *crypto_role_name(enum crypto_role role)
{
	switch (role) {
	case CRYPTO_ROLE_STATION:
		return "signing-station";
	case CRYPTO_ROLE_TCB_SIGN:
		return "TCB-signing";
	case CRYPTO_ROLE_TCB_KEX:
		return "TCB-key-agreement";
	case CRYPTO_ROLE_TENANT:
		return "tenant";
	case CRYPTO_ROLE_TPGVM_TLS:
		return "TPGVM-TLS-server";
	case CRYPTO_ROLE_TCB_SIGN_DEV:
		return "development-TCB-signing";
	case CRYPTO_ROLE_TCB_KEX_DEV:
		return "development-TCB-key-agreement";
	case CRYPTO_ROLE_TCB_AK:
		return "TPM-attestation-key";
	}
	return "unknown-role";
}

/*
 * DER contents of the role OIDs CUSTOS_OID_ARC.1 .. .8: 0x69 is 2.25 (2 * 40
 * + 25), then the UUID integer 112316499844282042489265998744696497416 in
 * base 128, then the role number (test_crypto checks this against the
 * dotted form).
 */
#define CUSTOS_OID_ARC_DER \
	"\x69\x81\xa8\xff\xaf\xbe\xfa\x88\xea\x87\xc5\xb3\xf3\xb0\xb2\xf2\xf4\xe6\xca\x08"

int crypto_role_oid(enum crypto_role role, const uint8_t **oid, size_t *oid_len)
{
	static const char oids[CRYPTO_ROLE_LAST][sizeof(CUSTOS_OID_ARC_DER)] = {
		CUSTOS_OID_ARC_DER "\x01", CUSTOS_OID_ARC_DER "\x02",
		CUSTOS_OID_ARC_DER "\x03", CUSTOS_OID_ARC_DER "\x04",
		CUSTOS_OID_ARC_DER "\x05", CUSTOS_OID_ARC_DER "\x06",
		CUSTOS_OID_ARC_DER "\x07", CUSTOS_OID_ARC_DER "\x08",
	};

	if (role < CRYPTO_ROLE_FIRST || role > CRYPTO_ROLE_LAST)
		return CRYPTO_E_INVAL;
	*oid = (const uint8_t *)oids[role - 1];
	*oid_len = sizeof(CUSTOS_OID_ARC_DER); /* arc + one role byte, no NUL */
	return CRYPTO_OK;
}

bool crypto_role_agrees_keys(enum crypto_role role)
{
	return role == CRYPTO_ROLE_TCB_KEX || role == CRYPTO_ROLE_TCB_KEX_DEV;
}

/* The only algorithms a Custos chain may use: ECDSA with SHA-384 over
 * P-384 keys, for the root and the leaf alike. */
const mbedtls_x509_crt_profile crypto_custos_profile = {
	.allowed_mds = MBEDTLS_X509_ID_FLAG(MBEDTLS_MD_SHA384),
	.allowed_pks = MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECKEY) |
		       MBEDTLS_X509_ID_FLAG(MBEDTLS_PK_ECDSA),
	.allowed_curves = MBEDTLS_X509_ID_FLAG(MBEDTLS_ECP_DP_SECP384R1),
	.rsa_min_bitlen = 0xffffffffu, /* no RSA */
};

int crypto_err_set(char *err, size_t err_len, int rc, const char *fmt, ...)
{
	if (err != NULL && err_len != 0) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Is the certificate's key a P-384 EC key? */
const mbedtls_ecp_keypair *crypto_p384_key_of(const mbedtls_x509_crt *c)
{
	mbedtls_pk_type_t t = mbedtls_pk_get_type(&c->pk);

	if (t != MBEDTLS_PK_ECKEY && t != MBEDTLS_PK_ECDSA)
		return NULL;
	if (mbedtls_pk_ec(c->pk)->grp.id != MBEDTLS_ECP_DP_SECP384R1)
		return NULL;
	return mbedtls_pk_ec(c->pk);
}

/* Does the certificate's extendedKeyUsage list the role's OID itself (not
 * just anyExtendedKeyUsage, not by having no EKU at all)? */
bool crypto_cert_has_role_oid(const mbedtls_x509_crt *c, const uint8_t *oid,
			      size_t oid_len)
{
	if (!(c->ext_types & MBEDTLS_X509_EXT_EXTENDED_KEY_USAGE))
		return false;
	if (mbedtls_x509_crt_check_extended_key_usage(c, (const char *)oid,
						      oid_len) != 0)
		return false;
	for (const mbedtls_x509_sequence *s = &c->ext_key_usage; s != NULL; s = s->next)
		if (s->buf.len == oid_len && memcmp(s->buf.p, oid, oid_len) == 0)
			return true;
	return false;
}

int crypto_x509_roles(const uint8_t *der, size_t len, unsigned *roles)
{
	mbedtls_x509_crt crt;
	int ret;

	*roles = 0;
	if (der == NULL || len == 0)
		return CRYPTO_E_INVAL;
	mbedtls_x509_crt_init(&crt);
	ret = mbedtls_x509_crt_parse_der(&crt, der, len);
	if (ret == 0 && crt.raw.len != len) /* exactly one certificate */
		ret = MBEDTLS_ERR_X509_INVALID_FORMAT;
	if (ret == 0) {
		for (int r = CRYPTO_ROLE_FIRST; r <= CRYPTO_ROLE_LAST; r++) {
			const uint8_t *oid;
			size_t oid_len;

			if (crypto_role_oid((enum crypto_role)r, &oid, &oid_len) == CRYPTO_OK &&
			    crypto_cert_has_role_oid(&crt, oid, oid_len))
				*roles |= CRYPTO_ROLE_BIT(r);
		}
	}
	mbedtls_x509_crt_free(&crt);
	if (ret == MBEDTLS_ERR_X509_ALLOC_FAILED)
		return CRYPTO_E_NOMEM;
	return ret == 0 ? CRYPTO_OK : CRYPTO_E_INVAL;
}

static int chain_error(uint32_t flags, char *err, size_t err_len)
{
	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
		return crypto_err_set(err, err_len, CRYPTO_E_VERIFY,
			       "certificate is not signed by the Custos CA root");
	if (flags & (MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK))
		return crypto_err_set(err, err_len, CRYPTO_E_VERIFY,
			       "certificate is not signed with ECDSA-SHA-384");
	if (flags & MBEDTLS_X509_BADCERT_BAD_KEY)
		return crypto_err_set(err, err_len, CRYPTO_E_VERIFY,
			       "certificate or CA root key is not P-384");
	return crypto_err_set(err, err_len, CRYPTO_E_VERIFY,
		       "certificate chain does not verify (mbedTLS flags 0x%x)",
		       (unsigned)flags);
}

int crypto_x509_ca_public(const uint8_t *root, size_t root_len,
			  uint8_t pub[CRYPTO_P384_PUB_LEN], char *err, size_t err_len)
{
	const mbedtls_ecp_keypair *key;
	mbedtls_x509_crt crt;
	size_t olen = 0;
	int ret, rc;

	if (err != NULL && err_len != 0)
		err[0] = '\0';
	if (root == NULL || root_len == 0)
		return crypto_err_set(err, err_len, CRYPTO_E_INVAL, "no certificate given");
	mbedtls_x509_crt_init(&crt);
	ret = mbedtls_x509_crt_parse_der(&crt, root, root_len);
	if (ret == 0 && crt.raw.len != root_len)
		ret = MBEDTLS_ERR_X509_INVALID_FORMAT;
	if (ret != 0) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL,
				    "CA root certificate is malformed (not DER X.509)");
		goto out;
	}
	key = crypto_p384_key_of(&crt);
	if (!crt.ca_istrue || key == NULL) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_INVAL,
				    "CA root is not a P-384 CA certificate");
		goto out;
	}
	ret = mbedtls_ecp_point_write_binary(&key->grp, &key->Q, MBEDTLS_ECP_PF_UNCOMPRESSED,
					     &olen, pub, CRYPTO_P384_PUB_LEN);
	rc = ret == 0 && olen == CRYPTO_P384_PUB_LEN
		     ? CRYPTO_OK
		     : crypto_err_set(err, err_len, CRYPTO_E_INTERNAL,
				      "cannot encode the CA root's key");
out:
	mbedtls_x509_crt_free(&crt);
	return rc;
}

int crypto_x509_verify(const uint8_t *leaf, size_t leaf_len,
		       const uint8_t *root, size_t root_len,
		       enum crypto_role role, uint8_t pub[CRYPTO_P384_PUB_LEN],
		       char *err, size_t err_len)
{
	mbedtls_x509_crt leaf_crt, root_crt;
	const mbedtls_ecp_keypair *key;
	const uint8_t *oid;
	size_t oid_len, olen = 0;
	uint32_t flags = 0;
	int ret, rc;

	if (err != NULL && err_len != 0)
		err[0] = '\0';
	if (crypto_role_oid(role, &oid, &oid_len) != CRYPTO_OK)
		return crypto_err_set(err, err_len, CRYPTO_E_INVAL, "unknown role %d", (int)role);
	if (leaf == NULL || leaf_len == 0 || root == NULL || root_len == 0)
		return crypto_err_set(err, err_len, CRYPTO_E_INVAL, "no certificate given");

	mbedtls_x509_crt_init(&leaf_crt);
	mbedtls_x509_crt_init(&root_crt);
	/* Exactly one DER certificate each: mbedTLS would ignore trailing
	 * bytes, we do not. */
	ret = mbedtls_x509_crt_parse_der(&root_crt, root, root_len);
	if (ret == 0 && root_crt.raw.len != root_len)
		ret = MBEDTLS_ERR_X509_INVALID_FORMAT;
	if (ret != 0) {
		rc = ret == MBEDTLS_ERR_X509_ALLOC_FAILED
			     ? crypto_err_set(err, err_len, CRYPTO_E_NOMEM, "out of memory")
			     : crypto_err_set(err, err_len, CRYPTO_E_INVAL,
				       "CA root certificate is malformed (not DER X.509)");
		goto out;
	}
	ret = mbedtls_x509_crt_parse_der(&leaf_crt, leaf, leaf_len);
	if (ret == 0 && leaf_crt.raw.len != leaf_len)
		ret = MBEDTLS_ERR_X509_INVALID_FORMAT;
	if (ret != 0) {
		rc = ret == MBEDTLS_ERR_X509_ALLOC_FAILED
			     ? crypto_err_set(err, err_len, CRYPTO_E_NOMEM, "out of memory")
			     : crypto_err_set(err, err_len, CRYPTO_E_INVAL,
				       "certificate is malformed (not DER X.509)");
		goto out;
	}
	if (!root_crt.ca_istrue) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_VERIFY,
			     "CA root is not a CA certificate (no basicConstraints CA:TRUE)");
		goto out;
	}
	if (leaf_crt.ca_istrue) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_VERIFY,
			     "certificate is a CA certificate, not an end-entity one");
		goto out;
	}
	/* The cheap checks before the signature (an ECDSA verify is ~0.45 s in
	 * Bochs): a caller probing for the role a certificate has pays for
	 * one signature check, not one per role. */
	key = crypto_p384_key_of(&leaf_crt);
	if (key == NULL) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_VERIFY, "certificate key is not P-384");
		goto out;
	}
	if (!crypto_cert_has_role_oid(&leaf_crt, oid, oid_len)) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_VERIFY,
			     "certificate lacks the %s role", crypto_role_name(role));
		goto out;
	}
	ret = mbedtls_x509_crt_check_key_usage(
		&leaf_crt, crypto_role_agrees_keys(role) ? MBEDTLS_X509_KU_KEY_AGREEMENT
							 : MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
	if (ret != 0) {
		rc = crypto_err_set(err, err_len, CRYPTO_E_VERIFY,
			     "certificate keyUsage does not allow %s",
			     crypto_role_agrees_keys(role) ? "keyAgreement"
							   : "digitalSignature");
		goto out;
	}

	/* Custos chains are root -> leaf: root is the only trust anchor and
	 * there are no intermediates. No clock in the TCB: validity dates
	 * are not checked (crypto.h). */
	ret = mbedtls_x509_crt_verify_with_profile(&leaf_crt, &root_crt, NULL,
						   &crypto_custos_profile, NULL, &flags,
						   NULL, NULL);
	flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED | MBEDTLS_X509_BADCERT_FUTURE);
	if (ret != 0 && ret != MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
		rc = crypto_err_set(err, err_len, from_mbedtls(ret) == CRYPTO_E_NOMEM
						   ? CRYPTO_E_NOMEM
						   : CRYPTO_E_INTERNAL,
			     "certificate check failed inside mbedTLS (-0x%04x)",
			     (unsigned)-ret);
		goto out;
	}
	if (flags != 0) {
		rc = chain_error(flags, err, err_len);
		goto out;
	}
	if (pub != NULL) {
		ret = mbedtls_ecp_point_write_binary(&key->grp, &key->Q,
						     MBEDTLS_ECP_PF_UNCOMPRESSED,
						     &olen, pub, CRYPTO_P384_PUB_LEN);
		if (ret != 0 || olen != CRYPTO_P384_PUB_LEN) {
			rc = crypto_err_set(err, err_len, CRYPTO_E_INTERNAL,
				     "cannot encode the certificate key");
			goto out;
		}
	}
	rc = CRYPTO_OK;
out:
	mbedtls_x509_crt_free(&leaf_crt);
	mbedtls_x509_crt_free(&root_crt);
	return rc;
}
