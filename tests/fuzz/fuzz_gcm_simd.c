/*
 * libFuzzer target: AES-256-GCM on AES-NI and PCLMULQDQ (crypto/crypto.c
 * over crypto/aes_gcm_x86.c, the latter compiled into this target with
 * coverage and sanitizers: a per-target rule in the Makefile) against
 * mbedTLS's own GCM (the system libmbedtls, called directly).
 *
 * Input: a flags byte, the key (32), the IV (12), the AAD length (2 bytes,
 * mod 1024), the number of stream pieces (1 byte, mod 16) and their
 * lengths (2 bytes each: blocks, mod 300, so multiples of 16 as crypto.h
 * wants; the last piece is whatever is left), a tag (16), then the AAD and
 * the data (the rest; short inputs read zeroes).
 *
 * Properties, with the data as plaintext:
 *   - one-shot and streamed encryption (in place when flags bit 0) give
 *     mbedTLS's ciphertext and tag;
 *   - one-shot and streamed decryption of that give the plaintext back;
 *   - with one bit flipped (flags bit 1; which bit from the tag bytes) in
 *     the tag, the ciphertext or the AAD, both refuse (CRYPTO_E_VERIFY),
 *     and the one-shot leaves zeroes;
 * and with the data as ciphertext under the input's tag: the verdict
 * (and the plaintext when it verifies) is mbedTLS's.
 *
 * Seeds: tests/fuzz/corpus/gcm_simd/.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "mbedtls/gcm.h"
#include "fuzz_util.h"

#define MAX_DATA 8192
#define MAX_AAD 1024
#define MAX_PIECES 16

struct gcm_input {
	uint8_t flags, key[32], iv[12], tag[16];
	size_t aad_len, len, pieces[MAX_PIECES + 1], n_pieces;
	const uint8_t *aad, *data;
};

static uint8_t ct[MAX_DATA], ref[MAX_DATA], pt[MAX_DATA], buf[MAX_DATA];
static uint8_t zero_aad[MAX_AAD];

static void take_bytes(struct input *in, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)take(in, 1);
}

static bool parse(const uint8_t *data, size_t size, struct gcm_input *g)
{
	struct input in = { data, size };
	size_t n, total = 0;

	g->flags = (uint8_t)take(&in, 1);
	take_bytes(&in, g->key, sizeof(g->key));
	take_bytes(&in, g->iv, sizeof(g->iv));
	g->aad_len = (size_t)take(&in, 2) % MAX_AAD;
	n = (size_t)take(&in, 1) % MAX_PIECES;
	for (size_t i = 0; i < n; i++)
		g->pieces[i] = 16 * ((size_t)take(&in, 2) % 300);
	take_bytes(&in, g->tag, sizeof(g->tag));
	if (in.left >= g->aad_len) {
		g->aad = in.p;
		in.p += g->aad_len;
		in.left -= g->aad_len;
	} else { /* an input that ends early: zeroes */
		g->aad = zero_aad;
		in.p += in.left;
		in.left = 0;
	}
	g->data = in.p;
	g->len = in.left;
	if (g->len > MAX_DATA)
		return false;
	/* Pieces as given while they fit, then the rest in one. */
	g->n_pieces = 0;
	for (size_t i = 0; i < n && total + g->pieces[i] <= g->len; i++) {
		total += g->pieces[i];
		g->n_pieces++;
	}
	g->pieces[g->n_pieces++] = g->len - total;
	return true;
}

static int stream(bool encrypt, const struct gcm_input *g, const uint8_t *aad,
		  const uint8_t *in, uint8_t *out, uint8_t tag[16])
{
	struct crypto_gcm_stream s;
	size_t off = 0;

	require(crypto_aes256gcm_stream_begin(&s, g->key, g->iv, encrypt, aad, g->aad_len) ==
		CRYPTO_OK);
	for (size_t i = 0; i < g->n_pieces; i++) {
		require(crypto_aes256gcm_stream_update(&s, in + off, g->pieces[i], out + off) ==
			CRYPTO_OK);
		off += g->pieces[i];
	}
	require(off == g->len);
	if (encrypt)
		return crypto_aes256gcm_stream_finish(&s, tag);
	return crypto_aes256gcm_stream_verify(&s, tag);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool told;
	struct gcm_input g;
	mbedtls_gcm_context m;
	uint8_t ref_tag[16], tag[16], bad_tag[16], bad_aad[MAX_AAD];
	int ref_rc, rc;

	if (!told) {
		told = true;
		if (!crypto_simd_active())
			fprintf(stderr, "fuzz_gcm_simd: no AES-NI/PCLMULQDQ here: "
					"this compares mbedTLS with itself\n");
	}
	if (!parse(data, size, &g))
		return 0;

	mbedtls_gcm_init(&m);
	require(mbedtls_gcm_setkey(&m, MBEDTLS_CIPHER_ID_AES, g.key, 256) == 0);
	require(mbedtls_gcm_crypt_and_tag(&m, MBEDTLS_GCM_ENCRYPT, g.len, g.iv, 12, g.aad,
					  g.aad_len, g.data, ref, 16, ref_tag) == 0);

	/* Encrypt: one-shot, then streamed (in place or not). */
	require(crypto_aes256gcm_encrypt(g.key, g.iv, g.aad, g.aad_len, g.data, g.len, ct, tag) ==
		CRYPTO_OK);
	require(memcmp(ct, ref, g.len) == 0 && memcmp(tag, ref_tag, 16) == 0);
	memset(ct, 0, g.len);
	if (g.flags & 1) {
		memcpy(ct, g.data, g.len);
		require(stream(true, &g, g.aad, ct, ct, tag) == CRYPTO_OK);
	} else {
		require(stream(true, &g, g.aad, g.data, ct, tag) == CRYPTO_OK);
	}
	require(memcmp(ct, ref, g.len) == 0 && memcmp(tag, ref_tag, 16) == 0);

	/* Decrypt it back, both ways. */
	require(crypto_aes256gcm_decrypt(g.key, g.iv, g.aad, g.aad_len, ref, g.len, pt,
					 ref_tag) == CRYPTO_OK);
	require(memcmp(pt, g.data, g.len) == 0);
	memcpy(buf, ref, g.len);
	require(stream(false, &g, g.aad, buf, buf, ref_tag) == CRYPTO_OK);
	require(memcmp(buf, g.data, g.len) == 0);

	/* One flipped bit: refused by both paths' verdicts. */
	if (g.flags & 2) {
		unsigned where = (unsigned)g.tag[0] % 3, bit = g.tag[1] % 8;
		size_t at = (size_t)g.tag[2] << 8 | g.tag[3];

		memcpy(bad_tag, ref_tag, 16);
		memcpy(buf, ref, g.len);
		memcpy(bad_aad, g.aad, g.aad_len);
		if (where == 1 && g.len != 0)
			buf[at % g.len] ^= (uint8_t)(1u << bit);
		else if (where == 2 && g.aad_len != 0)
			bad_aad[at % g.aad_len] ^= (uint8_t)(1u << bit);
		else
			bad_tag[at % 16] ^= (uint8_t)(1u << bit);
		require(crypto_aes256gcm_decrypt(g.key, g.iv, bad_aad, g.aad_len, buf, g.len,
						 pt, bad_tag) == CRYPTO_E_VERIFY);
		require(all_zero(pt, g.len));
		require(stream(false, &g, bad_aad, buf, pt, bad_tag) == CRYPTO_E_VERIFY);
		require(mbedtls_gcm_auth_decrypt(&m, g.len, g.iv, 12, bad_aad, g.aad_len,
						 bad_tag, 16, buf, pt) ==
			MBEDTLS_ERR_GCM_AUTH_FAILED);
	}

	/* The data as a ciphertext under the input's tag: mbedTLS's verdict. */
	ref_rc = mbedtls_gcm_auth_decrypt(&m, g.len, g.iv, 12, g.aad, g.aad_len, g.tag, 16,
					  g.data, ref);
	require(ref_rc == 0 || ref_rc == MBEDTLS_ERR_GCM_AUTH_FAILED);
	rc = crypto_aes256gcm_decrypt(g.key, g.iv, g.aad, g.aad_len, g.data, g.len, pt, g.tag);
	require(rc == (ref_rc == 0 ? CRYPTO_OK : CRYPTO_E_VERIFY));
	require(memcmp(pt, ref, g.len) == 0); /* both the plaintext or both zeroes */
	require(stream(false, &g, g.aad, g.data, buf, g.tag) == rc);
	mbedtls_gcm_free(&m);
	return 0;
}
