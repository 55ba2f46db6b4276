/*
 * The CA's signature over a reference.json (docs/pki.md, "Signed reference
 * values"): a detached file, REFERENCE.sig, that `custos-ca
 * sign-reference` writes and the tenant CLI checks with the CA root the
 * tenant already trusts (custos attest --ca). It signs the reference's
 * exact bytes, so no JSON canonical form is needed.
 *
 * Layout (156 bytes, integers little-endian):
 *
 *   0    8  magic "CUSTRSG1"
 *   8    4  version 1
 *   12  48  SHA-384 of the reference file's bytes
 *   60  96  ECDSA P-384 signature r || s by the CA root key over
 *           SHA-384("custos reference signature v1" || bytes [0, 60))
 *
 * The label keeps the root key's signature over a reference from ever
 * reading as its signature over anything else it signs (certificates,
 * launch approvals); the digest in the clear lets a verifier tell "a
 * signature of another file" from "not the CA's signature".
 */
#ifndef CUSTOS_TOOLS_REFERENCE_SIG_H
#define CUSTOS_TOOLS_REFERENCE_SIG_H

#include <stddef.h>
#include <stdint.h>

#define REFERENCE_SIG_MAGIC   "CUSTRSG1"
#define REFERENCE_SIG_VERSION 1u
#define REFERENCE_SIG_LABEL   "custos reference signature v1"
#define REFERENCE_SIG_SIGNED  60u   /* bytes the signature covers */
#define REFERENCE_SIG_LEN     156u

/* A parsed signature file (structure only; nothing verified yet). */
struct reference_sig {
	uint8_t ref_sha384[48];
	uint8_t sig[96];
};

/* Structure of len bytes: 0 and *out, or -1 with one line in err. */
int reference_sig_parse(const uint8_t *buf, size_t len,
			struct reference_sig *out, char *err, size_t err_len);

/* Sign the reference bytes with the CA root's private key into
 * out[REFERENCE_SIG_LEN]. 0, or -1 if the crypto layer fails. */
int reference_sig_sign(const uint8_t *ref, size_t ref_len,
		       const uint8_t ca_priv[48], uint8_t out[REFERENCE_SIG_LEN]);

/* Check a signature file against the reference bytes and the CA root
 * certificate (DER): well formed, of this very file, by this root's key.
 * 0, or -1 with the reason in err. */
int reference_sig_verify(const uint8_t *ref, size_t ref_len,
			 const uint8_t *sig_file, size_t sig_len,
			 const uint8_t *root_der, size_t root_len,
			 char *err, size_t err_len);

#endif
