/*
 * Detached CA signatures over reference.json (tools/reference_sig.h has
 * the layout and why it is so).
 */
#include "tools/reference_sig.h"

#include <string.h>

#include "crypto/crypto.h"
#include "tcb/errmsg.h"

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* What the root key signs: SHA-384(label || the first 60 bytes). */
static void signed_digest(const uint8_t head[REFERENCE_SIG_SIGNED], uint8_t out[48])
{
	uint8_t buf[sizeof(REFERENCE_SIG_LABEL) - 1 + REFERENCE_SIG_SIGNED];

	memcpy(buf, REFERENCE_SIG_LABEL, sizeof(REFERENCE_SIG_LABEL) - 1);
	memcpy(buf + sizeof(REFERENCE_SIG_LABEL) - 1, head, REFERENCE_SIG_SIGNED);
	crypto_sha384(buf, sizeof(buf), out);
}

static void head_of(const uint8_t *ref, size_t ref_len,
		    uint8_t head[REFERENCE_SIG_SIGNED])
{
	memcpy(head, REFERENCE_SIG_MAGIC, 8);
	put_le32(head + 8, REFERENCE_SIG_VERSION);
	crypto_sha384(ref, ref_len, head + 12);
}

int reference_sig_parse(const uint8_t *buf, size_t len,
			struct reference_sig *out, char *err, size_t err_len)
{
	uint32_t version;

	if (len < 12 || memcmp(buf, REFERENCE_SIG_MAGIC, 8) != 0)
		return errmsg(err, err_len, "not a reference signature (no %s magic)",
			      REFERENCE_SIG_MAGIC);
	version = get_le32(buf + 8);
	if (version != REFERENCE_SIG_VERSION)
		return errmsg(err, err_len, "reference signature version %u, this "
			      "tool reads only version %u", version, REFERENCE_SIG_VERSION);
	if (len != REFERENCE_SIG_LEN)
		return errmsg(err, err_len, "reference signature is %zu bytes, "
			      "version %u has exactly %u", len, REFERENCE_SIG_VERSION,
			      REFERENCE_SIG_LEN);
	memcpy(out->ref_sha384, buf + 12, sizeof(out->ref_sha384));
	memcpy(out->sig, buf + REFERENCE_SIG_SIGNED, sizeof(out->sig));
	return 0;
}

int reference_sig_sign(const uint8_t *ref, size_t ref_len,
		       const uint8_t ca_priv[48], uint8_t out[REFERENCE_SIG_LEN])
{
	uint8_t digest[48];

	head_of(ref, ref_len, out);
	signed_digest(out, digest);
	return crypto_ecdsa_p384_sign(ca_priv, digest, out + REFERENCE_SIG_SIGNED) ==
	       CRYPTO_OK ? 0 : -1;
}

int reference_sig_verify(const uint8_t *ref, size_t ref_len,
			 const uint8_t *sig_file, size_t sig_len,
			 const uint8_t *root_der, size_t root_len,
			 char *err, size_t err_len)
{
	uint8_t head[REFERENCE_SIG_SIGNED], digest[48], pub[CRYPTO_P384_PUB_LEN];
	struct reference_sig s;
	char why[160];

	if (reference_sig_parse(sig_file, sig_len, &s, err, err_len) != 0)
		return -1;
	head_of(ref, ref_len, head);
	if (memcmp(head + 12, s.ref_sha384, sizeof(s.ref_sha384)) != 0)
		return errmsg(err, err_len, "the signature is of another reference "
			      "file (this one was changed, or the signature belongs "
			      "to another build)");
	if (crypto_x509_ca_public(root_der, root_len, pub, why, sizeof(why)) != CRYPTO_OK)
		return errmsg(err, err_len, "the CA root has no usable key: %s", why);
	signed_digest(head, digest);
	if (crypto_ecdsa_p384_verify(pub, digest, sizeof(digest), s.sig) != CRYPTO_OK)
		return errmsg(err, err_len, "the signature is not by this CA root's key");
	return 0;
}
