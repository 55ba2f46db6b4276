/*
 * The station's envelope builder (tools/envelope_build.h). The mirror image
 * of tcb/envelope_open.c: same constants from include/custos/envelope.h,
 * same key derivation, so a change to one that the other misses fails the
 * round-trip tests.
 */
#include "tools/envelope_build.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <custos/envelope.h>
#include "crypto/crypto.h"
#include "tcb/policy.h"

static int build_fail(char *err, size_t err_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int build_fail(char *err, size_t err_len, const char *fmt, ...)
{
	if (err && err_len) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(err, err_len, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

int policy_build(const char *platform_id, const struct policy_cert *cas,
		 size_t n, uint8_t **out, size_t *out_len, char *err,
		 size_t err_len)
{
	size_t id_len = strlen(platform_id), len, off;
	uint8_t *b;

	if (id_len == 0 || id_len > POLICY_PLATFORM_ID_MAX)
		return build_fail(err, err_len,
			    "platform id must be 1..%u characters, not %zu",
			    POLICY_PLATFORM_ID_MAX, id_len);
	for (size_t i = 0; i < id_len; i++)
		if (!policy_platform_char_ok((uint8_t)platform_id[i]))
			return build_fail(err, err_len,
				    "platform id may only hold printable ASCII without spaces (character %zu is 0x%02x)",
				    i + 1, (uint8_t)platform_id[i]);
	if (n == 0 || n > POLICY_TENANT_CA_MAX)
		return build_fail(err, err_len,
			    "between 1 and %u tenant CA certificates are needed, not %zu",
			    POLICY_TENANT_CA_MAX, n);
	len = POLICY_HDR_LEN + POLICY_REC_HDR + id_len;
	for (size_t i = 0; i < n; i++) {
		if (cas[i].len == 0 || cas[i].len > POLICY_CERT_MAX)
			return build_fail(err, err_len,
				    "tenant CA certificate %zu is %zu bytes (at most %u)",
				    i + 1, cas[i].len, POLICY_CERT_MAX);
		len += POLICY_REC_HDR + cas[i].len;
	}
	b = malloc(len);
	if (!b)
		return build_fail(err, err_len, "out of memory");
	memcpy(b, POLICY_MAGIC, POLICY_MAGIC_LEN);
	put32(b + POLICY_MAGIC_LEN, POLICY_VERSION);
	put16(b + POLICY_HDR_LEN, POLICY_REC_PLATFORM_ID);
	put32(b + POLICY_HDR_LEN + 2, (uint32_t)id_len);
	memcpy(b + POLICY_HDR_LEN + POLICY_REC_HDR, platform_id, id_len);
	off = POLICY_HDR_LEN + POLICY_REC_HDR + id_len;
	for (size_t i = 0; i < n; i++) {
		put16(b + off, POLICY_REC_TENANT_CA);
		put32(b + off + 2, (uint32_t)cas[i].len);
		memcpy(b + off + POLICY_REC_HDR, cas[i].der, cas[i].len);
		off += POLICY_REC_HDR + cas[i].len;
	}
	*out = b;
	*out_len = len;
	return 0;
}

int payload_build(const uint8_t *image, size_t image_len,
		  const uint8_t *policy, size_t policy_len, uint8_t **out,
		  size_t *out_len, char *err, size_t err_len)
{
	size_t limit = ENVELOPE_MAX_SIZE;
	size_t len;
	uint8_t *b;

	if (image_len == 0)
		return build_fail(err, err_len, "the TPGVM image is empty");
	if (policy_len == 0)
		return build_fail(err, err_len, "the policy is empty");
	/* Each well under 2^32 so the sum cannot wrap; the envelope limit is
	 * checked again, with the header, by envelope_build(). */
	if (image_len > limit || policy_len > limit)
		return build_fail(err, err_len,
			    "the TPGVM image (%zu bytes) does not fit in a %zu-byte envelope",
			    image_len, limit);
	len = 2 * PAYLOAD_ITEM_HDR + image_len + policy_len;
	b = malloc(len);
	if (!b)
		return build_fail(err, err_len, "out of memory");
	put16(b, PAYLOAD_ITEM_IMAGE);
	put32(b + 2, (uint32_t)image_len);
	memcpy(b + PAYLOAD_ITEM_HDR, image, image_len);
	put16(b + PAYLOAD_ITEM_HDR + image_len, PAYLOAD_ITEM_POLICY);
	put32(b + PAYLOAD_ITEM_HDR + image_len + 2, (uint32_t)policy_len);
	memcpy(b + 2 * PAYLOAD_ITEM_HDR + image_len, policy, policy_len);
	*out = b;
	*out_len = len;
	return 0;
}

/* Header fields up to and including the station certificate. */
static void write_header(uint8_t *b, const struct envelope_recipe *r,
			 const uint8_t eph_pub[ENV_PUB_LEN],
			 const uint8_t iv[ENV_IV_LEN])
{
	memcpy(b + ENV_OFF_MAGIC, ENVELOPE_MAGIC, ENVELOPE_MAGIC_LEN);
	put32(b + ENV_OFF_VERSION, ENVELOPE_VERSION);
	put32(b + ENV_OFF_CERT_LEN, (uint32_t)r->station_cert_len);
	put32(b + ENV_OFF_PAYLOAD_LEN, (uint32_t)r->payload_len);
	crypto_sha384(r->tcb_kex_cert, r->tcb_kex_cert_len, b + ENV_OFF_TCB_FPR);
	memcpy(b + ENV_OFF_EPH_PUB, eph_pub, ENV_PUB_LEN);
	memcpy(b + ENV_OFF_IV, iv, ENV_IV_LEN);
	memcpy(b + ENV_OFF_CERT, r->station_cert, r->station_cert_len);
}

/* HKDF-SHA-384(salt = fingerprint, ikm = shared x, info = label || eph). */
static int derive_key(const uint8_t *fpr, const uint8_t *shared,
		      const uint8_t *eph_pub, uint8_t key[CRYPTO_AES256_KEY_LEN])
{
	uint8_t info[ENVELOPE_KDF_LABEL_LEN + ENV_PUB_LEN];

	memcpy(info, ENVELOPE_KDF_LABEL, ENVELOPE_KDF_LABEL_LEN);
	memcpy(info + ENVELOPE_KDF_LABEL_LEN, eph_pub, ENV_PUB_LEN);
	return crypto_hkdf_sha384(fpr, ENV_FPR_LEN, shared,
				  CRYPTO_P384_SHARED_LEN, info, sizeof(info),
				  key, CRYPTO_AES256_KEY_LEN);
}

/* Encrypt and sign into b, whose header is already written. */
static int seal(uint8_t *b, size_t total, const struct envelope_recipe *r,
		const uint8_t *eph_priv, char *err, size_t err_len)
{
	size_t hdr = ENV_FIXED_LEN + r->station_cert_len;
	uint8_t shared[CRYPTO_P384_SHARED_LEN], key[CRYPTO_AES256_KEY_LEN];
	uint8_t digest[CRYPTO_SHA384_LEN];
	int rc;

	rc = crypto_ecdh_p384(eph_priv, r->tcb_kex_pub, shared);
	if (rc == CRYPTO_OK)
		rc = derive_key(b + ENV_OFF_TCB_FPR, shared, b + ENV_OFF_EPH_PUB,
				key);
	if (rc == CRYPTO_OK)
		rc = crypto_aes256gcm_encrypt(key, b + ENV_OFF_IV, b, hdr,
					      r->payload, r->payload_len,
					      b + hdr,
					      b + hdr + r->payload_len);
	crypto_wipe(shared, sizeof(shared));
	crypto_wipe(key, sizeof(key));
	if (rc != CRYPTO_OK)
		return build_fail(err, err_len, "encrypting the payload failed: %s",
			    crypto_strerror(rc));
	crypto_sha384(b, total - ENV_SIG_LEN, digest);
	rc = crypto_ecdsa_p384_sign(r->station_priv, digest,
				    b + total - ENV_SIG_LEN);
	if (rc != CRYPTO_OK)
		return build_fail(err, err_len, "signing the envelope failed: %s",
			    crypto_strerror(rc));
	return 0;
}

int envelope_build(const struct envelope_recipe *r, uint8_t **out,
		   size_t *out_len, char *err, size_t err_len)
{
	uint8_t eph_priv[CRYPTO_P384_PRIV_LEN], eph_pub[CRYPTO_P384_PUB_LEN];
	uint8_t iv[ENV_IV_LEN];
	uint64_t total;
	uint8_t *b;
	int rc;

	if (r->station_cert_len == 0 || r->station_cert_len > ENVELOPE_CERT_MAX)
		return build_fail(err, err_len,
			    "station certificate of %zu bytes (at most %u)",
			    r->station_cert_len, ENVELOPE_CERT_MAX);
	total = (uint64_t)ENV_OVERHEAD + r->station_cert_len + r->payload_len;
	if (r->payload_len == 0 || total > ENVELOPE_MAX_SIZE)
		return build_fail(err, err_len,
			    "payload of %zu bytes does not fit in an envelope (limit %u bytes in all)",
			    r->payload_len, ENVELOPE_MAX_SIZE);
	rc = crypto_p384_keygen(eph_priv, eph_pub);
	if (rc == CRYPTO_OK)
		rc = crypto_random(iv, sizeof(iv));
	if (rc != CRYPTO_OK) {
		crypto_wipe(eph_priv, sizeof(eph_priv));
		return build_fail(err, err_len, "no ephemeral key or IV: %s",
			    crypto_strerror(rc));
	}
	b = malloc((size_t)total);
	if (!b) {
		crypto_wipe(eph_priv, sizeof(eph_priv));
		return build_fail(err, err_len, "out of memory");
	}
	write_header(b, r, eph_pub, iv);
	rc = seal(b, (size_t)total, r, eph_priv, err, err_len);
	crypto_wipe(eph_priv, sizeof(eph_priv));
	if (rc) {
		free(b);
		return -1;
	}
	*out = b;
	*out_len = (size_t)total;
	return 0;
}
