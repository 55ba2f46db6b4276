/*
 * The TPGVM envelope: the signing station's delivery of the TPGVM image and
 * its policy to exactly one TCB (docs/envelope.md is the byte-exact spec).
 * Shared by the hypervisor (which opens envelopes), the station tool (which
 * builds them) and the tests, so the three cannot drift apart.
 *
 *   header     magic "CUSTENV1", version, lengths, TCB fingerprint,
 *              ephemeral P-384 key, GCM IV, station certificate
 *   ciphertext AES-256-GCM of the payload (AAD = the whole header)
 *   tag        16 bytes
 *   signature  ECDSA-P-384 (r || s) over SHA-384 of everything before it
 *
 * All integers are little-endian. The payload (plaintext) is two items:
 * the image (the TPGVM ELF) and the policy (tcb/policy.h).
 */
#ifndef CUSTOS_ENVELOPE_H
#define CUSTOS_ENVELOPE_H

#include <custos/types.h>

#define ENVELOPE_MAGIC       "CUSTENV1"
#define ENVELOPE_MAGIC_LEN   8u
#define ENVELOPE_VERSION     1u

/* Header field offsets (docs/envelope.md). */
#define ENV_OFF_MAGIC        0u
#define ENV_OFF_VERSION      8u   /* u32 */
#define ENV_OFF_CERT_LEN     12u  /* u32: station certificate DER length */
#define ENV_OFF_PAYLOAD_LEN  16u  /* u32: ciphertext length = plaintext length */
#define ENV_OFF_TCB_FPR      20u  /* 48: SHA-384 of the TCB key-agreement cert DER */
#define ENV_OFF_EPH_PUB      68u  /* 97: ephemeral P-384 public key 04||X||Y */
#define ENV_OFF_IV           165u /* 12: AES-GCM IV */
#define ENV_OFF_CERT         177u /* station certificate DER follows */
#define ENV_FIXED_LEN        177u

#define ENV_FPR_LEN          48u
#define ENV_PUB_LEN          97u
#define ENV_IV_LEN           12u
#define ENV_TAG_LEN          16u
#define ENV_SIG_LEN          96u
#define ENV_PRIV_LEN         48u  /* a P-384 private scalar */

/* Bytes of an envelope besides the certificate and the payload. */
#define ENV_OVERHEAD         (ENV_FIXED_LEN + ENV_TAG_LEN + ENV_SIG_LEN)

#define ENVELOPE_MAX_SIZE    (64u << 20) /* whole envelope */
#define ENVELOPE_CERT_MAX    4096u       /* station certificate DER */

/* Key derivation (docs/envelope.md): HKDF-SHA-384 with salt = the TCB
 * fingerprint, ikm = the ECDH shared x coordinate, info = this label
 * (without its NUL) followed by the 97-byte ephemeral public key. */
#define ENVELOPE_KDF_LABEL   "custos envelope v1 key"
#define ENVELOPE_KDF_LABEL_LEN 22u

/* ---- Payload (the plaintext) ----------------------------------------------
 * Exactly two items, image then policy, each: type u16, length u32, value.
 * Nothing may follow the policy.
 */
#define PAYLOAD_ITEM_IMAGE   1u
#define PAYLOAD_ITEM_POLICY  2u
#define PAYLOAD_ITEM_HDR     6u

/* A parsed envelope: pointers into the caller's buffer, which must outlive
 * it. Everything has been bounds-checked; nothing cryptographic has. */
struct envelope {
	uint32_t version;
	const uint8_t *tcb_fpr;       /* ENV_FPR_LEN bytes */
	const uint8_t *eph_pub;       /* ENV_PUB_LEN bytes, first byte 0x04 */
	const uint8_t *iv;            /* ENV_IV_LEN bytes */
	const uint8_t *station_cert;  /* one DER SEQUENCE */
	size_t station_cert_len;      /* 1..ENVELOPE_CERT_MAX */
	size_t header_len;            /* the AAD: bytes [0, header_len) */
	const uint8_t *ciphertext;    /* at offset header_len */
	size_t payload_len;           /* >= 1 */
	const uint8_t *tag;           /* ENV_TAG_LEN bytes after the ciphertext */
	size_t signed_len;            /* the signature covers bytes [0, signed_len) */
	const uint8_t *signature;     /* ENV_SIG_LEN bytes, the last of the buffer */
};

/*
 * Structural parse of an envelope of exactly len bytes: magic, version 1,
 * certificate length 1..ENVELOPE_CERT_MAX and a single DER SEQUENCE, payload
 * length >= 1, ephemeral key in uncompressed form, total length equal to
 * what the header says (no trailing bytes) and at most ENVELOPE_MAX_SIZE.
 * Returns 0 and fills *out, or -1 with a one-line reason in err (err may be
 * NULL). *out is written only on success. No cryptography: see
 * envelope_open().
 */
int envelope_parse(const void *buf, size_t len, struct envelope *out,
		   char *err, size_t err_len);

/* The decrypted payload split into its two items (pointers into it). */
struct envelope_payload {
	const uint8_t *image;
	size_t image_len;     /* >= 1 */
	const uint8_t *policy;
	size_t policy_len;    /* >= 1 */
};

/* Split a payload: item IMAGE, then item POLICY, each non-empty, nothing
 * after. 0, or -1 with a reason; *out is written only on success. */
int envelope_payload_parse(const void *buf, size_t len,
			   struct envelope_payload *out, char *err,
			   size_t err_len);

/* ---- Opening (tcb/envelope_open.c: uses crypto/crypto.h) ---------------- */

enum envelope_open_err {
	ENV_OPEN_OK = 0,
	ENV_E_MALFORMED = -1,      /* envelope_parse() refused it */
	ENV_E_TCB_IDENTITY = -2,   /* this TCB's own kex certificate or key is unusable */
	ENV_E_STATION_CA = -3,     /* station certificate does not chain to the root */
	ENV_E_STATION_ROLE = -4,   /* ... chains, but is not a station certificate */
	ENV_E_SIGNATURE = -5,      /* signature does not verify with the station key */
	ENV_E_WRONG_TCB = -6,      /* addressed to another TCB */
	ENV_E_EPHEMERAL = -7,      /* ephemeral key is not a valid P-384 point */
	ENV_E_DECRYPT = -8,        /* payload fails authentication */
	ENV_E_PAYLOAD = -9,        /* authentic, but the payload is malformed */
	ENV_E_CRYPTO = -10,        /* the crypto layer failed unexpectedly */
};

/* Short name of an envelope_open() result, for logs and tests. */
const char *envelope_open_strerror(int err);

/*
 * Verify and decrypt an envelope for this TCB, in place.
 *
 * root: the compiled-in CA root certificate (DER). kex_cert: this TCB's
 * key-agreement certificate (DER), kex_priv its private scalar. Steps, each
 * with its own error code: parse; this TCB's certificate chains to root
 * with the tcb-kex role (tcb-kex-dev for a development identity; whether a
 * boot may use one is tcb/tcb_identity.h's policy) and matches kex_priv;
 * the station certificate
 * chains to root with the station role; the signature verifies with its
 * key; the envelope's fingerprint is SHA-384(kex_cert); ECDH with the
 * ephemeral key, HKDF-SHA-384, AES-256-GCM decryption with the header as
 * AAD; the payload splits into image and policy.
 *
 * On success returns ENV_OPEN_OK, the ciphertext region of buf now holds the
 * plaintext and *out points into it. On failure returns a negative
 * enum envelope_open_err with one line in err; the ciphertext region may
 * have been zeroed (never left half-decrypted), *out is untouched.
 */
int envelope_open(uint8_t *buf, size_t len, const uint8_t *root,
		  size_t root_len, const uint8_t *kex_cert, size_t kex_cert_len,
		  const uint8_t kex_priv[ENV_PRIV_LEN],
		  struct envelope_payload *out, char *err, size_t err_len);

/* This TCB's key-agreement key when its private half is not in memory (a
 * TPM-resident key): its public point, and ecdh, which writes the x
 * coordinate of priv * peer into shared and returns CRYPTO_OK,
 * CRYPTO_E_INVAL for a peer that is not a valid P-384 point, or another
 * crypto error code. */
struct envelope_kex {
	uint8_t pub[ENV_PUB_LEN];
	int (*ecdh)(void *ctx, const uint8_t peer[ENV_PUB_LEN], uint8_t shared[48]);
	void *ctx;
};
/* envelope_open with that key instead of kex_priv; the same steps, the
 * certificate matched against kex->pub. */
int envelope_open_with(uint8_t *buf, size_t len, const uint8_t *root,
		       size_t root_len, const uint8_t *kex_cert, size_t kex_cert_len,
		       const struct envelope_kex *kex, struct envelope_payload *out,
		       char *err, size_t err_len);

#endif
