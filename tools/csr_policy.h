/*
 * What a tenant's certificate request asks for, and whether the CA gives
 * it (custos-ca sign-csr, docs/pki.md "Tenant onboarding").
 *
 * The request's CertificationRequestInfo (crypto/pki_csr.c checks its
 * signature, key and subject) is untrusted input parsed here: its
 * attributes may be empty or one extensionRequest, whose extensions may be
 * one extendedKeyUsage, whose purposes may be Custos roles (the OIDs of
 * crypto_role_oid), id-kp-clientAuth and id-kp-serverAuth. Anything else is refused by name
 * rather than ignored: the CA issues from its own template, so a request
 * for a CA bit or another purpose would be silently dropped, and a tenant
 * should learn that it asked for something it will not get. Our own DER
 * reader (definite, shortest-form lengths, every element filling its
 * parent), with a unit test (tests/unit/test_csr.c) and a fuzz target
 * (tests/fuzz/fuzz_csr_policy.c).
 */
#ifndef CUSTOS_TOOLS_CSR_POLICY_H
#define CUSTOS_TOOLS_CSR_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct csr_request {
	unsigned roles;     /* CRYPTO_ROLE_BIT()s of the roles asked for */
	bool client_auth;   /* id-kp-clientAuth asked for too */
	bool server_auth;   /* id-kp-serverAuth asked for (the TPGVM's) */
};

/* Read the request info cri[0, len) (one DER SEQUENCE, tag and length
 * included). 0 with *out, or -1 with a one-line reason. */
int csr_request_parse(const uint8_t *cri, size_t len, struct csr_request *out,
		      char *err, size_t err_len);

/* The CA's policy for a request it signs: exactly the tenant role (with
 * clientAuth or not), no serverAuth. 0, or -1 with the reason (the role it
 * asked for named). */
int csr_policy_tenant(const struct csr_request *r, char *err, size_t err_len);

#endif
