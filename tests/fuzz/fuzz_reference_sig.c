/*
 * The reference signature reader (tools/reference_sig.c) over arbitrary
 * bytes: a REFERENCE.sig travels with the reference it signs, through the
 * same untrusted hands. Properties: no crash, no read beyond the input
 * (ASan: an exact-size heap copy); the structure is accepted exactly when
 * it has the magic, version 1 and 156 bytes; a file that verifies against
 * a fixed reference and this run's CA root parses and names that
 * reference's digest. (The root and the one genuine signature are made at
 * start-up: the corpus cannot hold a signature of a key made per run.)
 */
#include "tools/reference_sig.h"
#include "tests/fuzz/fuzz_util.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/pki_host.h"

static const char reference[] =
	"{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": []}\n";
static struct pki_cert root;
static uint8_t genuine[REFERENCE_SIG_LEN];   /* this run's CA's signature */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t priv[48], pub[97];
	char err[PKI_ERR_LEN];

	(void)argc;
	(void)argv;
	require(crypto_init() == CRYPTO_OK);
	require(crypto_p384_keygen(priv, pub) == CRYPTO_OK);
	require(pki_issue_root(priv, "fuzz CA", 30, &root, err, sizeof(err)) == CRYPTO_OK);
	require(reference_sig_sign((const uint8_t *)reference, sizeof(reference) - 1, priv,
				   genuine) == 0);
	crypto_wipe(priv, sizeof(priv));
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1), digest[48];
	struct reference_sig s;
	char err[200];
	int shaped;

	require(buf != NULL);
	memcpy(buf, data, size);
	shaped = size == REFERENCE_SIG_LEN && memcmp(buf, REFERENCE_SIG_MAGIC, 8) == 0 &&
		 le(buf + 8, 4) == REFERENCE_SIG_VERSION;
	if (reference_sig_parse(buf, size, &s, err, sizeof(err)) == 0)
		require(shaped && memcmp(s.ref_sha384, buf + 12, 48) == 0);
	else
		require(!shaped && strlen(err) < sizeof(err));
	/* The genuine file is the only one known to verify. */
	if (size == 0)
		require(reference_sig_verify((const uint8_t *)reference, sizeof(reference) - 1,
					     genuine, sizeof(genuine), root.der, root.der_len,
					     err, sizeof(err)) == 0);
	if (reference_sig_verify((const uint8_t *)reference, sizeof(reference) - 1, buf, size,
				 root.der, root.der_len, err, sizeof(err)) == 0) {
		crypto_sha384(reference, sizeof(reference) - 1, digest);
		require(shaped && memcmp(buf + 12, digest, 48) == 0);
	}
	free(buf);
	return 0;
}
