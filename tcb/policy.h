/*
 * The TPGVM policy: which platform the TPGVM was built for and which tenant
 * CA roots it trusts. The signing station writes it into the envelope
 * payload (include/custos/envelope.h); the TCB parses it after decryption
 * and hands it to the TPGVM. Format (docs/envelope.md, "Policy"):
 *
 *   magic "CUSTPOL1", version u32 = 1, then records (type u16, length u32,
 *   value), all little-endian:
 *     type 1 platform id: exactly one, first; 1..64 bytes 0x21..0x7e
 *     type 2 tenant CA root certificate (DER): 1..8 of them, each 1..4096
 *            bytes, one DER SEQUENCE, no two equal
 *   nothing else, nothing after the last record.
 *
 * The payload is authenticated before it is parsed, but the parser treats
 * it as hostile anyway: a station bug must not become a TCB bug.
 */
#ifndef CUSTOS_TCB_POLICY_H
#define CUSTOS_TCB_POLICY_H

#include <custos/types.h>

#define POLICY_MAGIC            "CUSTPOL1"
#define POLICY_MAGIC_LEN        8u
#define POLICY_VERSION          1u
#define POLICY_HDR_LEN          12u  /* magic + version */
#define POLICY_REC_HDR          6u   /* type u16 + length u32 */
#define POLICY_REC_PLATFORM_ID  1u
#define POLICY_REC_TENANT_CA    2u
#define POLICY_PLATFORM_ID_MAX  64u
#define POLICY_TENANT_CA_MAX    8u
#define POLICY_CERT_MAX         4096u
/* The largest well-formed policy. */
#define POLICY_MAX_SIZE (POLICY_HDR_LEN + POLICY_REC_HDR + POLICY_PLATFORM_ID_MAX + \
			 POLICY_TENANT_CA_MAX * (POLICY_REC_HDR + POLICY_CERT_MAX))

struct policy_cert {
	const uint8_t *der; /* points into the parsed buffer */
	size_t len;
};

struct tpgvm_policy {
	char platform_id[POLICY_PLATFORM_ID_MAX + 1]; /* NUL-terminated copy */
	size_t platform_id_len;
	size_t tenant_ca_count; /* 1..POLICY_TENANT_CA_MAX */
	struct policy_cert tenant_ca[POLICY_TENANT_CA_MAX];
};

/* Parse a policy of exactly len bytes. 0 and *out filled (its certificate
 * pointers point into buf), or -1 with a one-line reason in err (err may be
 * NULL); *out is written only on success. */
int policy_parse(const void *buf, size_t len, struct tpgvm_policy *out,
		 char *err, size_t err_len);

/* True if c may appear in a platform id (printable ASCII, no space). */
static inline bool policy_platform_char_ok(uint8_t c)
{
	return c >= 0x21 && c <= 0x7e;
}

#endif
