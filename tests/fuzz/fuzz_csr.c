/*
 * Certificate requests as custos-ca sign-csr reads them (docs/pki.md,
 * "Tenant onboarding"): a tenant's request is untrusted input. The bytes
 * go to pki_csr_read (mbedTLS's parse and our checks of key, signature and
 * subject), and, whole, to our own reader of the request info's attributes
 * (tools/csr_policy.c, instrumented here), as does the request info of a
 * request pki_csr_read accepts. Properties: no crash, no read beyond the
 * input (an exact-size heap copy), an accepted request names a CN within
 * bounds, and the policy accepts only the tenant role alone.
 */
#include "tools/csr_policy.h"
#include "tests/fuzz/fuzz_util.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/pki_host.h"

static void check_request_info(const uint8_t *cri, size_t len)
{
	struct csr_request req;
	char err[200];

	if (csr_request_parse(cri, len, &req, err, sizeof(err)) != 0)
		return;
	if (csr_policy_tenant(&req, err, sizeof(err)) == 0)
		require(req.roles == CRYPTO_ROLE_BIT(CRYPTO_ROLE_TENANT) && !req.server_auth);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct pki_csr csr;
	char err[PKI_ERR_LEN];

	require(copy != NULL);
	memcpy(copy, data, size);
	check_request_info(copy, size);
	if (pki_csr_read(copy, size, &csr, err, sizeof(err)) == CRYPTO_OK) {
		size_t n = strlen(csr.cn);

		require(n >= 1 && n <= PKI_CN_MAX && csr.pub[0] == 0x04);
		check_request_info(csr.cri, csr.cri_len);
		pki_csr_free(&csr);
	}
	free(copy);
	return 0;
}
