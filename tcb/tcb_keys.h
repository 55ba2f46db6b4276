/*
 * The TCB's own keys and certificates, as the two Multiboot2 modules that
 * custos-ca issue-tcb writes (docs/pki.md, "TCB modules"). Both arrive from
 * the boot media, so they are untrusted bytes until parsed here and checked
 * by the crypto layer (the certificates against the compiled-in root, the
 * private keys against the certificates' public keys).
 *
 * Key module, exactly 108 bytes:
 *   0 magic "CUSTKEY1" | 8 version u32 = 1 | 12 signing private scalar (48,
 *   big-endian) | 60 key-agreement private scalar (48)
 *   Neither scalar may be zero, and they must differ (key separation).
 *
 * Certificate module:
 *   0 magic "CUSTCRT1" | 8 version u32 = 1 | 12 signing cert length u32 |
 *   16 signing cert DER | key-agreement cert length u32 | its DER
 *   Each length 1..4096, each certificate one DER SEQUENCE, the two not
 *   equal, nothing after the second.
 *
 * Integers are little-endian; scalars are big-endian, as crypto/crypto.h
 * takes them.
 */
#ifndef CUSTOS_TCB_TCB_KEYS_H
#define CUSTOS_TCB_TCB_KEYS_H

#include <custos/types.h>

#define TCB_KEYS_MAGIC     "CUSTKEY1"
#define TCB_CERTS_MAGIC    "CUSTCRT1"
#define TCB_MODULE_MAGIC_LEN 8u
#define TCB_KEYS_VERSION   1u
#define TCB_CERTS_VERSION  1u
#define TCB_PRIV_LEN       48u
#define TCB_KEYS_LEN       108u
#define TCB_CERTS_HDR_LEN  12u
#define TCB_CERT_MAX       4096u
#define TCB_CERTS_MAX_SIZE (TCB_CERTS_HDR_LEN + 2 * (4 + TCB_CERT_MAX))

struct tcb_keys {
	uint8_t sign_priv[TCB_PRIV_LEN]; /* copies: wipe after use */
	uint8_t kex_priv[TCB_PRIV_LEN];
};

struct tcb_certs {
	const uint8_t *sign_cert; /* point into the parsed buffer */
	size_t sign_cert_len;
	const uint8_t *kex_cert;
	size_t kex_cert_len;
};

/* Parse the key module. 0 and *out filled, or -1 with a one-line reason in
 * err (which never quotes key bytes); *out is written only on success. */
int tcb_keys_parse(const void *buf, size_t len, struct tcb_keys *out,
		   char *err, size_t err_len);

/* Parse the certificate module; same conventions. */
int tcb_certs_parse(const void *buf, size_t len, struct tcb_certs *out,
		    char *err, size_t err_len);

#endif
