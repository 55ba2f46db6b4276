/*
 * Opening a TPGVM envelope on the TCB side (include/custos/envelope.h,
 * docs/envelope.md): the checks that make the delivery channel exclusive.
 *
 * Order matters. Everything that can be checked without this TCB's private
 * key is checked first (who signed it, that the signature covers the bytes,
 * that it is addressed to us), so a forged or misrouted envelope never gets
 * as far as ECDH and AES. Each refusal has its own code and one log line
 * that says which check failed and why, because "envelope rejected" alone
 * leaves an operator guessing between a wrong CA, a wrong target and a
 * corrupted file.
 *
 * Portable (hypervisor and host): the crypto layer, tcb/envelope.c for the
 * structure, tcb/errmsg.c for messages, memcmp/memcpy for the rest.
 */
#include <custos/envelope.h>
#include "crypto/crypto.h"
#include "tcb/errmsg.h"
#include "tcb/hex.h"

#include <string.h>

#define CERT_ERR_LEN 160

/* State of one envelope_open() call; secrets are wiped on every exit. */
struct opener {
	uint8_t *buf;
	struct envelope env;
	const uint8_t *root;
	size_t root_len;
	const uint8_t *kex_cert;
	size_t kex_cert_len;
	const struct envelope_kex *kex;
	char *err;
	size_t err_len;
	uint8_t station_pub[CRYPTO_P384_PUB_LEN];
	uint8_t shared[CRYPTO_P384_SHARED_LEN]; /* secret */
	uint8_t key[CRYPTO_AES256_KEY_LEN];     /* secret */
};

const char *envelope_open_strerror(int err)
{
	switch (err) {
	case ENV_OPEN_OK: return "ok";
	case ENV_E_MALFORMED: return "malformed envelope";
	case ENV_E_TCB_IDENTITY: return "TCB identity unusable";
	case ENV_E_STATION_CA: return "station certificate from another CA";
	case ENV_E_STATION_ROLE: return "signer is not a signing station";
	case ENV_E_SIGNATURE: return "bad signature";
	case ENV_E_WRONG_TCB: return "addressed to another TCB";
	case ENV_E_EPHEMERAL: return "bad ephemeral key";
	case ENV_E_DECRYPT: return "payload fails authentication";
	case ENV_E_PAYLOAD: return "malformed payload";
	case ENV_E_CRYPTO: return "crypto failure";
	default: return "unknown error";
	}
}

/* The first 8 bytes of a fingerprint in hex: enough to tell TCBs apart in
 * a log line, short enough to keep it one line. */
#define FPR_SHOWN 8

static int fail(struct opener *o, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct opener *o, int code, const char *fmt, ...)
{
	va_list ap;

	if (o->err && o->err_len)
		o->err[0] = '\0';
	va_start(ap, fmt);
	errmsg_vappend(o->err, o->err_len, fmt, ap);
	va_end(ap);
	return code;
}

/* This TCB's own certificate must be a key-agreement certificate from the
 * same root (tcb-kex, or tcb-kex-dev for a development identity: which of
 * the two a boot may use is tcb/tcb_identity.c's policy) and hold the
 * public half of its key: otherwise every envelope would fail later with a
 * misleading "fails authentication". */
static int check_own_identity(struct opener *o)
{
	uint8_t cert_pub[CRYPTO_P384_PUB_LEN];
	char why[CERT_ERR_LEN] = "";
	enum crypto_role role = CRYPTO_ROLE_TCB_KEX;
	unsigned roles;
	int rc;

	/* The role decides which one to verify with; no signature check yet. */
	if (crypto_x509_roles(o->kex_cert, o->kex_cert_len, &roles) == CRYPTO_OK &&
	    (roles & CRYPTO_ROLE_BIT(CRYPTO_ROLE_TCB_KEX_DEV)))
		role = CRYPTO_ROLE_TCB_KEX_DEV;
	rc = crypto_x509_verify(o->kex_cert, o->kex_cert_len, o->root,
				o->root_len, role, cert_pub, why, sizeof(why));
	if (rc != CRYPTO_OK)
		return fail(o, ENV_E_TCB_IDENTITY,
			    "this TCB's key-agreement certificate is not usable: %s",
			    why);
	if (memcmp(cert_pub, o->kex->pub, sizeof(cert_pub)) != 0)
		return fail(o, ENV_E_TCB_IDENTITY,
			    "this TCB's key-agreement private key does not match its certificate");
	return 0;
}

/* The certificate chains to the root but is not a station certificate:
 * find which role it does carry, to say so. */
static enum crypto_role other_role(const struct opener *o)
{
	static const enum crypto_role others[] = {
		CRYPTO_ROLE_TCB_SIGN, CRYPTO_ROLE_TCB_KEX, CRYPTO_ROLE_TENANT,
		CRYPTO_ROLE_TPGVM_TLS, CRYPTO_ROLE_TCB_SIGN_DEV,
		CRYPTO_ROLE_TCB_KEX_DEV, CRYPTO_ROLE_TCB_AK,
	};

	for (size_t i = 0; i < ARRAY_SIZE(others); i++)
		if (crypto_x509_verify(o->env.station_cert,
				       o->env.station_cert_len, o->root,
				       o->root_len, others[i], NULL, NULL,
				       0) == CRYPTO_OK)
			return others[i];
	return 0;
}

static int check_station(struct opener *o)
{
	char why[CERT_ERR_LEN] = "";
	enum crypto_role role;
	int rc;

	rc = crypto_x509_verify(o->env.station_cert, o->env.station_cert_len,
				o->root, o->root_len, CRYPTO_ROLE_STATION,
				o->station_pub, why, sizeof(why));
	if (rc == CRYPTO_OK)
		return 0;
	if (rc != CRYPTO_E_VERIFY && rc != CRYPTO_E_INVAL)
		return fail(o, ENV_E_CRYPTO,
			    "checking the station certificate failed: %s",
			    crypto_strerror(rc));
	role = other_role(o);
	if (role)
		return fail(o, ENV_E_STATION_ROLE,
			    "envelope signed by a %s certificate, not a station certificate",
			    crypto_role_name(role));
	return fail(o, ENV_E_STATION_CA,
		    "envelope signed by a certificate from another CA or not a valid station certificate (%s)",
		    why);
}

static int check_signature(struct opener *o)
{
	uint8_t digest[CRYPTO_SHA384_LEN];
	int rc;

	crypto_sha384(o->buf, o->env.signed_len, digest);
	rc = crypto_ecdsa_p384_verify(o->station_pub, digest, sizeof(digest),
				      o->env.signature);
	if (rc == CRYPTO_E_VERIFY || rc == CRYPTO_E_INVAL)
		return fail(o, ENV_E_SIGNATURE,
			    "envelope signature does not verify with the station certificate's key");
	if (rc != CRYPTO_OK)
		return fail(o, ENV_E_CRYPTO, "signature check failed: %s",
			    crypto_strerror(rc));
	return 0;
}

static int check_addressee(struct opener *o)
{
	uint8_t mine[CRYPTO_SHA384_LEN];
	char want[17], have[17];

	crypto_sha384(o->kex_cert, o->kex_cert_len, mine);
	if (memcmp(mine, o->env.tcb_fpr, sizeof(mine)) == 0)
		return 0;
	hex_encode(o->env.tcb_fpr, FPR_SHOWN, want);
	hex_encode(mine, FPR_SHOWN, have);
	return fail(o, ENV_E_WRONG_TCB,
		    "envelope addressed to another TCB (fingerprint %s..., this TCB is %s...)",
		    want, have);
}

static int derive_key(struct opener *o)
{
	uint8_t info[ENVELOPE_KDF_LABEL_LEN + ENV_PUB_LEN];
	int rc;

	rc = o->kex->ecdh(o->kex->ctx, o->env.eph_pub, o->shared);
	if (rc == CRYPTO_E_INVAL || rc == CRYPTO_E_VERIFY)
		return fail(o, ENV_E_EPHEMERAL,
			    "envelope's ephemeral key is not a valid P-384 point");
	if (rc != CRYPTO_OK)
		return fail(o, ENV_E_CRYPTO, "ECDH failed: %s",
			    crypto_strerror(rc));
	memcpy(info, ENVELOPE_KDF_LABEL, ENVELOPE_KDF_LABEL_LEN);
	memcpy(info + ENVELOPE_KDF_LABEL_LEN, o->env.eph_pub, ENV_PUB_LEN);
	rc = crypto_hkdf_sha384(o->env.tcb_fpr, ENV_FPR_LEN, o->shared,
				sizeof(o->shared), info, sizeof(info), o->key,
				sizeof(o->key));
	if (rc != CRYPTO_OK)
		return fail(o, ENV_E_CRYPTO, "HKDF failed: %s",
			    crypto_strerror(rc));
	return 0;
}

static int decrypt(struct opener *o)
{
	uint8_t *ct = o->buf + o->env.header_len;
	int rc;

	rc = crypto_aes256gcm_decrypt(o->key, o->env.iv, o->buf,
				      o->env.header_len, ct,
				      o->env.payload_len, ct, o->env.tag);
	if (rc == CRYPTO_E_VERIFY)
		return fail(o, ENV_E_DECRYPT,
			    "envelope payload fails authentication");
	if (rc != CRYPTO_OK) {
		crypto_wipe(ct, o->env.payload_len);
		return fail(o, ENV_E_CRYPTO, "AES-GCM failed: %s",
			    crypto_strerror(rc));
	}
	return 0;
}

static int open_steps(struct opener *o, const uint8_t *buf, size_t len,
		      struct envelope_payload *out)
{
	char why[CERT_ERR_LEN] = "";
	struct envelope_payload p;
	int rc;

	if (envelope_parse(buf, len, &o->env, why, sizeof(why)))
		return fail(o, ENV_E_MALFORMED, "malformed envelope: %s", why);
	if ((rc = check_own_identity(o)) || (rc = check_station(o)) ||
	    (rc = check_signature(o)) || (rc = check_addressee(o)) ||
	    (rc = derive_key(o)) || (rc = decrypt(o)))
		return rc;
	if (envelope_payload_parse(o->buf + o->env.header_len,
				   o->env.payload_len, &p, why, sizeof(why))) {
		/* Authentic but unusable: do not leave plaintext behind. */
		crypto_wipe(o->buf + o->env.header_len, o->env.payload_len);
		return fail(o, ENV_E_PAYLOAD, "malformed envelope payload: %s",
			    why);
	}
	*out = p;
	return ENV_OPEN_OK;
}

/* The key-agreement key held in memory (envelope_open). */
static int ecdh_in_memory(void *ctx, const uint8_t peer[ENV_PUB_LEN], uint8_t shared[48])
{
	int rc = crypto_ecdh_p384(ctx, peer, shared);

	return rc == CRYPTO_E_VERIFY ? CRYPTO_E_INVAL : rc;
}

int envelope_open(uint8_t *buf, size_t len, const uint8_t *root,
		  size_t root_len, const uint8_t *kex_cert, size_t kex_cert_len,
		  const uint8_t kex_priv[ENV_PRIV_LEN],
		  struct envelope_payload *out, char *err, size_t err_len)
{
	/* The scalar stays the caller's: the callback only borrows it. */
	struct envelope_kex kex = { .ecdh = ecdh_in_memory,
				    .ctx = (void *)(uintptr_t)kex_priv };

	if (err && err_len)
		err[0] = '\0';
	if (crypto_p384_public(kex_priv, kex.pub) != CRYPTO_OK) {
		errmsg(err, err_len, "this TCB's key-agreement private key is not a "
		       "valid P-384 key");
		return ENV_E_TCB_IDENTITY;
	}
	return envelope_open_with(buf, len, root, root_len, kex_cert, kex_cert_len,
				  &kex, out, err, err_len);
}

int envelope_open_with(uint8_t *buf, size_t len, const uint8_t *root,
		       size_t root_len, const uint8_t *kex_cert, size_t kex_cert_len,
		       const struct envelope_kex *kex, struct envelope_payload *out,
		       char *err, size_t err_len)
{
	struct opener o;
	int rc;

	memset(&o, 0, sizeof(o));
	o.buf = buf;
	o.root = root;
	o.root_len = root_len;
	o.kex_cert = kex_cert;
	o.kex_cert_len = kex_cert_len;
	o.kex = kex;
	o.err = err;
	o.err_len = err_len;
	if (err && err_len)
		err[0] = '\0';
	rc = open_steps(&o, buf, len, out);
	crypto_wipe(o.shared, sizeof(o.shared));
	crypto_wipe(o.key, sizeof(o.key));
	return rc;
}
