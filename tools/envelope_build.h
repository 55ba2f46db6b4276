/*
 * Building TPGVM envelopes, payloads and policies (docs/envelope.md): the
 * signing station's side of tcb/envelope.c, tcb/envelope_open.c and
 * tcb/policy.c. Host only (it allocates); shared by custos-station and the
 * unit tests, so the tests exercise exactly what the station writes.
 */
#ifndef CUSTOS_TOOLS_ENVELOPE_BUILD_H
#define CUSTOS_TOOLS_ENVELOPE_BUILD_H

#include <stddef.h>
#include <stdint.h>

struct policy_cert;

/* A policy: platform id (checked: 1..64 chars 0x21..0x7e) and n tenant CA
 * root certificates (DER). Returns a malloc'd buffer in *out, or -1 with a
 * reason in err. The result always passes policy_parse(). */
int policy_build(const char *platform_id, const struct policy_cert *cas,
		 size_t n, uint8_t **out, size_t *out_len, char *err,
		 size_t err_len);

/* A payload: item image, item policy. Malloc'd; -1 with a reason. */
int payload_build(const uint8_t *image, size_t image_len,
		  const uint8_t *policy, size_t policy_len, uint8_t **out,
		  size_t *out_len, char *err, size_t err_len);

/* What envelope_build() needs to know. */
struct envelope_recipe {
	const uint8_t *station_priv;   /* 48-byte scalar */
	const uint8_t *station_cert;   /* DER */
	size_t station_cert_len;
	const uint8_t *tcb_kex_cert;   /* DER of the target's kex certificate */
	size_t tcb_kex_cert_len;
	const uint8_t *tcb_kex_pub;    /* its 97-byte public key */
	const uint8_t *payload;
	size_t payload_len;
};

/*
 * Encrypt the payload to the TCB key (fresh ephemeral key and IV), sign
 * with the station key. Returns 0 and a malloc'd envelope, or -1 with a
 * reason in err. The caller checks certificates and roles beforehand; this
 * only refuses what cannot be encoded (lengths out of range).
 */
int envelope_build(const struct envelope_recipe *r, uint8_t **out,
		   size_t *out_len, char *err, size_t err_len);

#endif
