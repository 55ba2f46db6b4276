/*
 * The signed platform report: what the TCB tells a tenant about the platform
 * a TPGVM runs on (docs/report.md is the byte-exact spec). Shared by the
 * hypervisor (which builds and signs reports), the TPGVM (which relays them)
 * and the tenant tools (which verify them), so they cannot drift apart.
 *
 *   header     magic "CUSTRPT1", version, key protection, launch mode,
 *              debug flags, TLS key hash, four lengths
 *   nonce      the tenant's, echoed (32..64 bytes)
 *   platform   platform id (1..64 printable ASCII bytes)
 *   log        the measurement log, TCG crypto-agile event log encoding
 *   cert       the TCB signing certificate (DER), to chain to the CA root
 *   tpm        the TPM's evidence, or nothing: the attestation key, a quote
 *              over everything before it, the PCR values quoted, the
 *              firmware's event log
 *   signature  ECDSA-P-384 (r || s) over SHA-384 of everything before it
 *
 * All integers are little-endian.
 */
#ifndef CUSTOS_REPORT_H
#define CUSTOS_REPORT_H

#include <custos/types.h>

struct measure_log;

#define REPORT_MAGIC         "CUSTRPT1"
#define REPORT_MAGIC_LEN     8u
#define REPORT_VERSION       2u

/* Header field offsets (docs/report.md). */
#define RPT_OFF_MAGIC        0u
#define RPT_OFF_VERSION      8u   /* u32 */
#define RPT_OFF_KEY_PROT     12u  /* u32: enum report_key_protection */
#define RPT_OFF_LAUNCH       16u  /* u32: enum report_launch_mode */
#define RPT_OFF_DEBUG        20u  /* u32: REPORT_DEBUG_* bits */
#define RPT_OFF_TLS_HASH     24u  /* 48: SHA-384 of the TPGVM TLS key's SPKI */
#define RPT_OFF_NONCE_LEN    72u  /* u32 */
#define RPT_OFF_PLATFORM_LEN 76u  /* u32 */
#define RPT_OFF_LOG_LEN      80u  /* u32 */
#define RPT_OFF_CERT_LEN     84u  /* u32 */
#define RPT_OFF_TPM_LEN      88u  /* u32: the TPM evidence; 0 for none */
#define RPT_FIXED_LEN        92u  /* the variable fields follow, in that order */

#define RPT_TLS_HASH_LEN     48u
#define RPT_SIG_LEN          96u
#define RPT_PRIV_LEN         48u  /* a P-384 private scalar */
#define RPT_P384_PUB_LEN     97u  /* 04 || X || Y */
#define RPT_P384_SPKI_LEN    120u /* DER SubjectPublicKeyInfo of a P-384 key */

#define REPORT_NONCE_MIN     32u
#define REPORT_NONCE_MAX     64u
#define REPORT_PLATFORM_MAX  64u
#define REPORT_LOG_MIN       65u          /* the TCG header alone */
#define REPORT_LOG_MAX       (32u << 10)
#define REPORT_CERT_MAX      4096u
#define REPORT_MAX_SIZE      (64u << 10)  /* whole report */

/*
 * The TPM evidence (docs/report.md, "TPM evidence"), lengths little-endian:
 *   u32 ak_len,  the attestation key's TPMT_PUBLIC as the TPM gave it
 *   u32 attest_len, the TPMS_ATTEST of a TPM2_Quote
 *   96  the quote's signature, ECDSA P-384 r || s
 *   u32 pcr_mask, the SHA-384 PCRs quoted (bit i: PCR i, 0..23)
 *   48 x popcount(pcr_mask): their values, lowest PCR first
 *   u32 fw_log_len, the firmware's and boot loader's TCG event log (0: none)
 *   u32 ek_cert_len, the TPM's EK certificate, DER, as its NV holds it (0: none)
 *   u32 ak_cert_len, the attestation key's tcb-ak certificate, DER (0: none)
 *   u32 keys_len, the TCB's TPM-resident keys certified by the attestation
 *       key (0: none), exactly two entries, signing key then key
 *       agreement, each: 97 the point (04 || X || Y) | u32 attest_len
 *       (1..REPORT_TPM_KEY_ATTEST_MAX) | the TPMS_ATTEST of TPM2_Certify |
 *       96 the AK's signature r || s. A report from before this field ends
 *       after ak_cert; that reads as keys_len 0.
 * The quote's qualifying data is report_quoted_digest(): the report up to
 * the evidence, with the evidence's length field read as 0.
 */
#define REPORT_TPM_AK_MAX      256u
#define REPORT_TPM_ATTEST_MAX  1024u
#define REPORT_TPM_SIG_LEN     96u
#define REPORT_TPM_PCR_LEN     48u
#define REPORT_FW_LOG_MAX      (20u << 10)
#define REPORT_TPM_CERT_MAX    2048u
#define REPORT_TPM_KEY_ATTEST_MAX 256u
#define REPORT_TPM_KEY_POINT_LEN  97u
#define REPORT_TPM_KEYS_MAX    (2u * (REPORT_TPM_KEY_POINT_LEN + 4u + \
				      REPORT_TPM_KEY_ATTEST_MAX + REPORT_TPM_SIG_LEN))
#define REPORT_TPM_MAX         (4u + REPORT_TPM_AK_MAX + 4u + REPORT_TPM_ATTEST_MAX + \
				REPORT_TPM_SIG_LEN + 4u + 24u * REPORT_TPM_PCR_LEN + \
				4u + REPORT_FW_LOG_MAX + 2u * (4u + REPORT_TPM_CERT_MAX) + \
				4u + REPORT_TPM_KEYS_MAX)

/* How the TCB's private keys are protected: the report's CLAIM. Nothing
 * backs it yet (a quote's key is not certified); a verifier shows it only
 * as an unbacked claim. */
enum report_key_protection {
	REPORT_KEYS_DEV = 1, /* read from the boot media in the clear */
	REPORT_KEYS_TPM = 2, /* sealed to the TPM's PCRs */
};

/* How the TCB was launched: a claim as well. */
enum report_launch_mode {
	REPORT_LAUNCH_DEV = 1,  /* no measured launch: the log is the TCB's word */
	REPORT_LAUNCH_SRTM = 2, /* static root of trust: firmware measured us */
	REPORT_LAUNCH_DRTM = 3, /* dynamic root of trust (TXT / SKINIT) */
};

/* Debug options in effect; every other bit must be zero. */
#define REPORT_DEBUG_CONSOLE_MIRROR 0x1u /* guest consoles copied to serial */
#define REPORT_DEBUG_KNOWN          0x1u

/* A parsed report: pointers into the caller's buffer, which must outlive it.
 * Everything has been bounds-checked; nothing cryptographic has. */
struct report {
	uint32_t version;
	uint32_t key_protection;
	uint32_t launch_mode;
	uint32_t debug;
	const uint8_t *tls_key_hash; /* RPT_TLS_HASH_LEN bytes */
	const uint8_t *nonce;
	size_t nonce_len;            /* REPORT_NONCE_MIN..MAX */
	const char *platform_id;     /* NOT NUL-terminated */
	size_t platform_id_len;      /* 1..REPORT_PLATFORM_MAX, 0x21..0x7e each */
	const uint8_t *log;          /* TCG crypto-agile event log */
	size_t log_len;              /* REPORT_LOG_MIN..MAX */
	const uint8_t *cert;         /* one DER SEQUENCE */
	size_t cert_len;             /* 1..REPORT_CERT_MAX */
	size_t tpm_len;              /* 0: no TPM evidence; else its fields: */
	size_t quoted_len;           /* the quote covers [0, quoted_len) */
	const uint8_t *ak_public;    /* TPMT_PUBLIC, 1..REPORT_TPM_AK_MAX */
	size_t ak_public_len;
	const uint8_t *attest;       /* TPMS_ATTEST, 1..REPORT_TPM_ATTEST_MAX */
	size_t attest_len;
	const uint8_t *quote_sig;    /* REPORT_TPM_SIG_LEN bytes */
	uint32_t pcr_mask;           /* non-zero, PCRs 0..23 */
	const uint8_t *pcr_values;   /* popcount(pcr_mask) x 48, ascending */
	const uint8_t *fw_log;       /* 0..REPORT_FW_LOG_MAX bytes */
	size_t fw_log_len;
	const uint8_t *ek_cert;      /* 0..REPORT_TPM_CERT_MAX bytes */
	size_t ek_cert_len;
	const uint8_t *ak_cert;      /* 0..REPORT_TPM_CERT_MAX bytes */
	size_t ak_cert_len;
	/* The TPM-resident TCB keys as the AK certified them: [0] signing,
	 * [1] key agreement; count 0 (none) or 2. */
	size_t tpm_key_count;
	struct report_tpm_key {
		const uint8_t *point;    /* REPORT_TPM_KEY_POINT_LEN bytes */
		const uint8_t *attest;   /* TPMS_ATTEST of TPM2_Certify */
		size_t attest_len;       /* 1..REPORT_TPM_KEY_ATTEST_MAX */
		const uint8_t *sig;      /* REPORT_TPM_SIG_LEN bytes */
	} tpm_keys[2];
	size_t signed_len;           /* the signature covers bytes [0, signed_len) */
	const uint8_t *signature;    /* RPT_SIG_LEN bytes, the last of the buffer */
};

/*
 * Structural parse of a report of exactly len bytes (tcb/report.c, no
 * crypto): magic, version 2, known key protection and launch mode, no
 * unknown debug bit, every length in range, platform id printable, log at
 * least a TCG header, certificate one DER SEQUENCE, the TPM evidence's
 * fields exactly filling its length (their contents are the verifier's to
 * check: tools/quote_verify.c), total equal to what the
 * header says (no trailing bytes) and at most REPORT_MAX_SIZE. 0 and *out
 * filled, or -1 with a one-line reason in err (err may be NULL); *out is
 * written only on success.
 */
int report_parse(const void *buf, size_t len, struct report *out, char *err,
		 size_t err_len);

/*
 * Why a report is DEV: the verifier's judgement from evidence, never the
 * report's word (docs/report.md, "Claims and evidence"). A report is
 * production only with evidence its signer cannot forge: a TPM quote over
 * the log by a key the CA certified to live in a TPM. A report without
 * TPM evidence has REPORT_DEV_NO_QUOTE; one with it has
 * REPORT_DEV_AK_UNCERTIFIED, which the tenant tool clears once the
 * report's tcb-ak certificate checks out (enrollment: docs/tpm.md). The
 * other bits add what
 * else is known.
 */
#define REPORT_DEV_NO_QUOTE       0x01u /* no TPM quote backs the claims */
#define REPORT_DEV_IDENTITY       0x02u /* signed by a development TCB identity */
#define REPORT_DEV_CLAIMED        0x04u /* the report itself says dev keys or launch */
#define REPORT_DEV_DEBUG          0x08u /* the report says debug options are on */
#define REPORT_DEV_AK_UNCERTIFIED 0x10u /* quoted by a key nobody certified */
#define REPORT_DEV_ALL            0x1fu

/* The DEV reasons of a parsed report whose certificate is (dev_identity) or
 * is not a development one. No crypto: the caller
 * (report_verify) knows which certificate signed, and the tenant tool
 * checks the quote itself (a quote that does not verify is a refusal, not
 * a reason to call the platform DEV). */
uint32_t report_dev_reasons(const struct report *r, bool dev_identity);

/* One REPORT_DEV_* bit as a short name for JSON ("no-tpm-quote",
 * "dev-identity", "dev-claimed", "debug-options") and as a phrase for
 * people; "unknown" / "unknown reason" for anything else. */
const char *report_dev_reason_name(uint32_t bit);
const char *report_dev_reason_text(uint32_t bit);

/* The DER SubjectPublicKeyInfo of a P-384 public key (04 || X || Y): a
 * fixed 23-byte prefix and the point. The report's TLS key hash is the
 * SHA-384 of these 120 bytes. */
void report_p384_spki(const uint8_t pub[RPT_P384_PUB_LEN],
		      uint8_t spki[RPT_P384_SPKI_LEN]);

/* ---- Results of building and verifying (tcb/report_sign.c, report_verify.c) */

enum report_err {
	REPORT_OK = 0,
	REPORT_E_MALFORMED = -1, /* report_parse() refused it */
	REPORT_E_CA = -2,        /* certificate does not chain to the root */
	REPORT_E_ROLE = -3,      /* ... chains, but is not a tcb-sign certificate */
	REPORT_E_SIGNATURE = -4, /* signature does not verify with its key */
	REPORT_E_NONCE = -5,     /* authentic, but not an answer to our nonce */
	REPORT_E_TLS_KEY = -6,   /* authentic, but vouches for another TLS key */
	REPORT_E_DEV = -7,       /* authentic, but a DEV platform */
	REPORT_E_INVAL = -8,     /* builder or verifier given a bad argument */
	REPORT_E_SPACE = -9,     /* builder: the buffer is too small */
	REPORT_E_CRYPTO = -10,   /* the crypto layer failed unexpectedly */
};

/* Short name of a report_build() / report_verify() result. */
const char *report_strerror(int err);

/* ---- Building (tcb/report_sign.c: uses crypto/crypto.h) -------------------- */

/* What goes into a report; all of it is checked by report_build(). */
struct report_contents {
	const uint8_t *nonce;         /* REPORT_NONCE_MIN..MAX bytes */
	size_t nonce_len;
	const uint8_t *tls_key_hash;  /* RPT_TLS_HASH_LEN bytes: report_tls_key_hash() */
	const struct measure_log *log;
	uint32_t key_protection;      /* enum report_key_protection */
	uint32_t launch_mode;         /* enum report_launch_mode */
	uint32_t debug;               /* REPORT_DEBUG_* */
	const char *platform_id;      /* NUL-terminated, 1..64 of 0x21..0x7e */
	const uint8_t *sign_cert;     /* the TCB signing certificate, DER */
	size_t sign_cert_len;
	/*
	 * TPM evidence, or none (tpm_len 0, tpm_evidence NULL): exactly
	 * tpm_len bytes (at most REPORT_TPM_MAX), written by tpm_evidence
	 * once the rest is laid out, because its quote covers the rest:
	 * quoted is report_quoted_digest() of it. 0, or -1 to fail the build.
	 */
	size_t tpm_len;
	int (*tpm_evidence)(void *ctx, const uint8_t quoted[RPT_TLS_HASH_LEN],
			    uint8_t *out, size_t len);
	void *tpm_ctx;
};

/* The qualifying data of a report's quote: SHA-384 of its bytes
 * [0, quoted_len) with the TPM evidence's length field read as 0 (that
 * length is written after the quote, which covers all else before it). */
void report_quoted_digest(const uint8_t *buf, size_t quoted_len,
			  uint8_t out[RPT_TLS_HASH_LEN]);

/* SHA-384 of the DER SubjectPublicKeyInfo of a P-384 public key: the TLS
 * key hash a report carries (what `openssl pkey -pubin -outform der |
 * openssl dgst -sha384` gives for the TPGVM's TLS certificate key). */
void report_tls_key_hash(const uint8_t pub[RPT_P384_PUB_LEN],
			 uint8_t out[RPT_TLS_HASH_LEN]);

/* Bytes report_build() writes for c, or 0 if c is invalid. */
size_t report_size(const struct report_contents *c);

/*
 * Write the report for c into buf and sign it with sign_priv (the private
 * half of c->sign_cert). REPORT_OK and *len set, or a negative enum
 * report_err with one line in err; then *len is 0 and buf holds no claimed
 * content (what was written is zeroed).
 */
int report_build(const struct report_contents *c,
		 const uint8_t sign_priv[RPT_PRIV_LEN], uint8_t *buf,
		 size_t cap, size_t *len, char *err, size_t err_len);

/* A signer whose key is not in memory (a TPM-resident one): sign writes
 * the ECDSA P-384 signature r || s of digest (SHA-384 of the report up to
 * its signature) and returns CRYPTO_OK, or a crypto error code. */
struct report_signer {
	int (*sign)(void *ctx, const uint8_t digest[RPT_TLS_HASH_LEN],
		    uint8_t sig[RPT_SIG_LEN]);
	void *ctx;
};
/* report_build with that signer instead of a private key. */
int report_build_signed(const struct report_contents *c,
			const struct report_signer *signer, uint8_t *buf,
			size_t cap, size_t *len, char *err, size_t err_len);

/* ---- Verifying (tcb/report_verify.c: uses crypto/crypto.h) ----------------- */

/* What the verifier expects. */
struct report_expect {
	const uint8_t *nonce;         /* the nonce we sent */
	size_t nonce_len;
	const uint8_t *tls_key_hash;  /* RPT_TLS_HASH_LEN bytes, or NULL to leave
				       * the comparison to the caller */
	bool allow_dev;               /* accept a DEV platform */
};

/* What the verifier concluded besides "authentic and ours". */
struct report_verdict {
	bool dev_identity;     /* signed by a tcb-sign-dev certificate */
	uint32_t dev_reasons;  /* REPORT_DEV_*; 0: production */
};

/*
 * Verify a report: parse; the embedded certificate chains to root (DER)
 * with role tcb-sign or tcb-sign-dev (a development identity: a certificate
 * naming tcb-sign-dev is one, whatever else it names); the signature
 * verifies with its key; the nonce is want->nonce; the TLS key hash is
 * want->tls_key_hash (if given); the platform is not DEV
 * (report_dev_reasons) unless want->allow_dev. Each step has its own error
 * code and one line in err; a DEV refusal names every reason. On success
 * *out points into buf for the caller to check the log and platform id
 * against reference values, and *verdict (if not NULL) says why it is DEV;
 * on failure both are untouched.
 */
int report_verify(const uint8_t *buf, size_t len, const uint8_t *root,
		  size_t root_len, const struct report_expect *want,
		  struct report *out, struct report_verdict *verdict,
		  char *err, size_t err_len);

#endif
