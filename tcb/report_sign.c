/*
 * Building and signing platform reports on the TCB side
 * (include/custos/report.h, docs/report.md).
 *
 * The contents come from the TPGVM's request (nonce, TLS key hash) and from
 * the TCB's own state (log, flags, platform id, certificate). The request
 * is untrusted, so everything is range-checked here rather than trusted to
 * the caller, and the finished report is run through report_parse() before
 * it is signed: the builder can then never emit what verifiers refuse.
 *
 * Portable (hypervisor and host): the crypto layer, tcb/tcg_log.c for the
 * log encoding, tcb/errmsg.c for messages, memcpy/memset/strnlen.
 */
#include <custos/report.h>
#include "crypto/crypto.h"
#include "tcb/byteorder.h"
#include "tcb/der.h"
#include "tcb/errmsg.h"
#include "tcb/tcg_log.h"

#include <string.h>

const char *report_strerror(int err)
{
	switch (err) {
	case REPORT_OK: return "ok";
	case REPORT_E_MALFORMED: return "malformed report";
	case REPORT_E_CA: return "certificate from another CA";
	case REPORT_E_ROLE: return "signer is not a TCB signing key";
	case REPORT_E_SIGNATURE: return "bad signature";
	case REPORT_E_NONCE: return "wrong nonce";
	case REPORT_E_TLS_KEY: return "wrong TLS key";
	case REPORT_E_DEV: return "dev-mode platform";
	case REPORT_E_INVAL: return "invalid argument";
	case REPORT_E_SPACE: return "buffer too small";
	case REPORT_E_CRYPTO: return "crypto failure";
	default: return "unknown error";
	}
}

void report_tls_key_hash(const uint8_t pub[RPT_P384_PUB_LEN],
			 uint8_t out[RPT_TLS_HASH_LEN])
{
	uint8_t spki[RPT_P384_SPKI_LEN];

	report_p384_spki(pub, spki);
	crypto_sha384(spki, sizeof(spki), out);
}

/* Same rules as report_parse(), so report_size() can say 0 for them. */
static int check_flags(const struct report_contents *c, char *err,
		       size_t err_len)
{
	if (c->key_protection != REPORT_KEYS_DEV &&
	    c->key_protection != REPORT_KEYS_TPM)
		return errmsg(err, err_len, "unknown key protection %u",
			      c->key_protection);
	if (c->launch_mode < REPORT_LAUNCH_DEV ||
	    c->launch_mode > REPORT_LAUNCH_DRTM)
		return errmsg(err, err_len, "unknown launch mode %u",
			      c->launch_mode);
	if (c->debug & ~REPORT_DEBUG_KNOWN)
		return errmsg(err, err_len, "unknown debug flags 0x%x",
			      c->debug & ~REPORT_DEBUG_KNOWN);
	return 0;
}

/* Everything report_parse() would refuse, refused before writing; the
 * message names the field. Returns the platform id length in *pid_len and
 * the encoded log length in *log_len. */
static int check_contents(const struct report_contents *c, size_t *pid_len,
			  size_t *log_len, char *err, size_t err_len)
{
	if (!c || !c->nonce || !c->tls_key_hash || !c->log ||
	    !c->platform_id || !c->sign_cert)
		return errmsg(err, err_len, "report contents incomplete");
	if (c->nonce_len < REPORT_NONCE_MIN || c->nonce_len > REPORT_NONCE_MAX)
		return errmsg(err, err_len, "nonce length %zu is not in %u..%u",
			      c->nonce_len, REPORT_NONCE_MIN, REPORT_NONCE_MAX);
	*pid_len = strnlen(c->platform_id, REPORT_PLATFORM_MAX + 1);
	if (*pid_len == 0 || *pid_len > REPORT_PLATFORM_MAX)
		return errmsg(err, err_len, "platform id is not 1..%u bytes",
			      REPORT_PLATFORM_MAX);
	for (size_t i = 0; i < *pid_len; i++)
		if (c->platform_id[i] < 0x21 || c->platform_id[i] > 0x7e)
			return errmsg(err, err_len,
				      "platform id byte %zu is not printable ASCII",
				      i);
	if (c->sign_cert_len == 0 || c->sign_cert_len > REPORT_CERT_MAX)
		return errmsg(err, err_len,
			      "certificate length %zu is not in 1..%u",
			      c->sign_cert_len, REPORT_CERT_MAX);
	if (der_check_sequence(c->sign_cert, c->sign_cert_len,
			       "TCB signing certificate", err, err_len) ||
	    check_flags(c, err, err_len))
		return -1;
	*log_len = tcg_log_size(c->log);
	if (*log_len == 0 || *log_len > REPORT_LOG_MAX)
		return errmsg(err, err_len,
			      "measurement log cannot be encoded in %u bytes",
			      REPORT_LOG_MAX);
	if (c->tpm_len > REPORT_TPM_MAX || (c->tpm_len != 0) != (c->tpm_evidence != NULL))
		return errmsg(err, err_len, "TPM evidence of %zu bytes (at most %u) "
			      "without its writer, or the reverse", c->tpm_len,
			      REPORT_TPM_MAX);
	return 0;
}

void report_quoted_digest(const uint8_t *buf, size_t quoted_len,
			  uint8_t out[RPT_TLS_HASH_LEN])
{
	static const uint8_t zero[4];
	struct crypto_sha384_ctx h;

	crypto_sha384_init(&h);
	crypto_sha384_update(&h, buf, RPT_OFF_TPM_LEN);
	crypto_sha384_update(&h, zero, sizeof(zero));
	crypto_sha384_update(&h, buf + RPT_OFF_TPM_LEN + 4,
			     quoted_len - RPT_OFF_TPM_LEN - 4);
	crypto_sha384_final(&h, out);
}

size_t report_size(const struct report_contents *c)
{
	size_t pid_len, log_len;

	if (check_contents(c, &pid_len, &log_len, NULL, 0))
		return 0;
	return RPT_FIXED_LEN + c->nonce_len + pid_len + log_len +
	       c->sign_cert_len + c->tpm_len + RPT_SIG_LEN;
}

static void put_header(const struct report_contents *c, size_t pid_len,
		       size_t log_len, uint8_t *b)
{
	memcpy(b + RPT_OFF_MAGIC, REPORT_MAGIC, REPORT_MAGIC_LEN);
	store_le32(b + RPT_OFF_VERSION, REPORT_VERSION);
	store_le32(b + RPT_OFF_KEY_PROT, c->key_protection);
	store_le32(b + RPT_OFF_LAUNCH, c->launch_mode);
	store_le32(b + RPT_OFF_DEBUG, c->debug);
	memcpy(b + RPT_OFF_TLS_HASH, c->tls_key_hash, RPT_TLS_HASH_LEN);
	store_le32(b + RPT_OFF_NONCE_LEN, (uint32_t)c->nonce_len);
	store_le32(b + RPT_OFF_PLATFORM_LEN, (uint32_t)pid_len);
	store_le32(b + RPT_OFF_LOG_LEN, (uint32_t)log_len);
	store_le32(b + RPT_OFF_CERT_LEN, (uint32_t)c->sign_cert_len);
	store_le32(b + RPT_OFF_TPM_LEN, 0); /* until the evidence is in */
}

/* The quote covers everything before the evidence: so it is asked for
 * only now, and the evidence's length goes in once it is there. */
static int write_evidence(const struct report_contents *c, uint8_t *b,
			  size_t off, char *err, size_t err_len)
{
	uint8_t quoted[RPT_TLS_HASH_LEN];

	if (!c->tpm_len)
		return 0;
	report_quoted_digest(b, off, quoted);
	if (c->tpm_evidence(c->tpm_ctx, quoted, b + off, c->tpm_len) != 0)
		return errmsg(err, err_len, "the TPM evidence could not be made");
	store_le32(b + RPT_OFF_TPM_LEN, (uint32_t)c->tpm_len);
	return 0;
}

/* Header and fields into b (size bytes, checked by the caller), then parse
 * it back: a builder that disagreed with the parser would sign reports that
 * every verifier refuses, so it must fail here instead. */
static int write_body(const struct report_contents *c, size_t pid_len,
		      size_t log_len, uint8_t *b, size_t size, char *err,
		      size_t err_len)
{
	size_t off = RPT_FIXED_LEN, got;
	char why[160];
	struct report r;

	put_header(c, pid_len, log_len, b);
	memcpy(b + off, c->nonce, c->nonce_len);
	off += c->nonce_len;
	memcpy(b + off, c->platform_id, pid_len);
	off += pid_len;
	if (tcg_log_encode(c->log, b + off, log_len, &got) || got != log_len)
		return errmsg(err, err_len, "measurement log encoding failed");
	off += log_len;
	memcpy(b + off, c->sign_cert, c->sign_cert_len);
	off += c->sign_cert_len;
	if (write_evidence(c, b, off, err, err_len))
		return -1;
	memset(b + size - RPT_SIG_LEN, 0, RPT_SIG_LEN);
	if (report_parse(b, size, &r, why, sizeof(why)))
		return errmsg(err, err_len, "report contents refused: %s", why);
	return 0;
}

/* The signer of a key held in memory (report_build). */
static int sign_in_memory(void *ctx, const uint8_t digest[CRYPTO_SHA384_LEN],
			  uint8_t sig[RPT_SIG_LEN])
{
	return crypto_ecdsa_p384_sign(ctx, digest, sig);
}

static int sign(const struct report_signer *s, uint8_t *b, size_t size,
		char *err, size_t err_len)
{
	uint8_t digest[CRYPTO_SHA384_LEN];
	int rc;

	crypto_sha384(b, size - RPT_SIG_LEN, digest);
	rc = s->sign(s->ctx, digest, b + size - RPT_SIG_LEN);
	if (rc == CRYPTO_OK)
		return REPORT_OK;
	errmsg(err, err_len, "signing the report failed: %s",
	       crypto_strerror(rc));
	return rc == CRYPTO_E_INVAL ? REPORT_E_INVAL : REPORT_E_CRYPTO;
}

int report_build(const struct report_contents *c,
		 const uint8_t sign_priv[RPT_PRIV_LEN], uint8_t *buf,
		 size_t cap, size_t *len, char *err, size_t err_len)
{
	/* The key stays the caller's: the signer only borrows it. */
	const struct report_signer s = { sign_in_memory, (void *)(uintptr_t)sign_priv };

	if (!sign_priv) {
		if (err && err_len)
			err[0] = '\0';
		*len = 0;
		errmsg(err, err_len, "no signing key");
		return REPORT_E_INVAL;
	}
	return report_build_signed(c, &s, buf, cap, len, err, err_len);
}

int report_build_signed(const struct report_contents *c,
			const struct report_signer *signer, uint8_t *buf,
			size_t cap, size_t *len, char *err, size_t err_len)
{
	size_t pid_len, log_len, size;
	int rc;

	if (err && err_len)
		err[0] = '\0';
	*len = 0;
	if (check_contents(c, &pid_len, &log_len, err, err_len))
		return REPORT_E_INVAL;
	if (!signer || !signer->sign) {
		errmsg(err, err_len, "no signing key");
		return REPORT_E_INVAL;
	}
	size = RPT_FIXED_LEN + c->nonce_len + pid_len + log_len +
	       c->sign_cert_len + c->tpm_len + RPT_SIG_LEN;
	if (!buf || cap < size) {
		errmsg(err, err_len, "report needs %zu bytes, buffer has %zu",
		       size, buf ? cap : 0);
		return REPORT_E_SPACE;
	}
	if (write_body(c, pid_len, log_len, buf, size, err, err_len))
		rc = REPORT_E_INVAL;
	else
		rc = sign(signer, buf, size, err, err_len);
	if (rc != REPORT_OK) {
		memset(buf, 0, size);
		return rc;
	}
	*len = size;
	return REPORT_OK;
}
