/*
 * custos enroll --cn NAME --out PREFIX (docs/pki.md, "Tenant onboarding").
 *
 * The tenant makes its own P-384 key, PREFIX.key (0600), and a PKCS#10
 * request for the tenant role under its name, PREFIX.csr (PEM), which it
 * sends to the CA's operator; `custos-ca sign-csr` issues the certificate
 * from it. The private key never leaves this machine, so the CA cannot
 * act as the tenant. Both files are written whole or not at all
 * (tools/cli.c), and an interrupted run leaves neither.
 *
 * The request is read back with the CA's own checks before it is written
 * (crypto/pki_csr.c, tools/csr_policy.c): the tool cannot make a request
 * the CA refuses. The key's fingerprint is printed, for the tenant to
 * read to the CA's operator over another channel: the request travels by
 * whatever means, and the fingerprint tells the operator it is the
 * tenant's.
 */
#include "tools/enroll_cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "crypto/pki_host.h"
#include "tools/cli.h"
#include "tools/csr_policy.h"

static const char usage_text[] =
	"usage: custos enroll --cn NAME --out PREFIX\n"
	"\n"
	"Make the tenant's private key, PREFIX.key (P-384, mode 0600), and a\n"
	"certificate request for the tenant role with subject CN=NAME,\n"
	"PREFIX.csr (PKCS#10, PEM). Send PREFIX.csr to the CA's operator, who\n"
	"issues the certificate with 'custos-ca sign-csr PREFIX.csr --cn NAME';\n"
	"the private key never leaves this machine. Read the printed key\n"
	"fingerprint to the operator over another channel (a call): sign-csr\n"
	"prints the same for the request it signs.\n"
	"\n"
	"NAME: 1..64 printable ASCII characters, none of , = + \\ \" < > ; # and\n"
	"no leading or trailing space. Existing files are never overwritten.\n"
	"Exit status: 0 done, 1 failed, 2 usage error.\n";

static void parse_opts(int argc, char **argv, const char **cn, const char **out)
{
	static const struct option longopts[] = {
		{ "cn", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*cn = *out = NULL;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': *cn = optarg; break;
		case 'o': *out = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default:
			if (optopt)
				cli_usage_error("option '%s' needs an argument", argv[optind - 1]);
			cli_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
	if (!*cn)
		cli_usage_error("needs --cn NAME (the tenant's name, as the CA knows it)");
	if (!*out)
		cli_usage_error("needs --out PREFIX");
}

/* The request as the CA will check it: a tool that made one the CA
 * refuses would only send the tenant round in circles. */
static void check_as_ca(const struct pki_cert *csr, const char *cn,
			const uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	struct csr_request req;
	struct pki_csr back;
	char err[PKI_ERR_LEN];

	if (pki_csr_read((const uint8_t *)csr->pem, csr->pem_len, &back, err,
			 sizeof(err)) != CRYPTO_OK ||
	    csr_request_parse(back.cri, back.cri_len, &req, err, sizeof(err)) != 0 ||
	    csr_policy_tenant(&req, err, sizeof(err)) != 0)
		cli_die("internal error: the CA would refuse this request: %s", err);
	if (strcmp(back.cn, cn) != 0 || memcmp(back.pub, pub, CRYPTO_P384_PUB_LEN) != 0)
		cli_die("internal error: the request does not name this key and name");
	pki_csr_free(&back);
}

int enroll_main(int argc, char **argv)
{
	uint8_t priv[CRYPTO_P384_PRIV_LEN], pub[CRYPTO_P384_PUB_LEN], fpr[CRYPTO_SHA384_LEN];
	char pem[PKI_KEY_PEM_MAX], err[PKI_ERR_LEN], hex[2 * CRYPTO_SHA384_LEN + 1];
	const char *cn, *out;
	struct pki_cert csr;
	char *key_path, *csr_path;
	size_t len;
	int rc;

	cli_set_prog("custos enroll");
	cli_remove_outputs_on_signals();
	parse_opts(argc, argv, &cn, &out);
	key_path = cli_path(out, ".key");
	csr_path = cli_path(out, ".csr");
	cli_refuse_existing(key_path);
	cli_refuse_existing(csr_path);
	rc = crypto_init();
	if (rc == CRYPTO_OK)
		rc = crypto_p384_keygen(priv, pub);
	if (rc != CRYPTO_OK)
		cli_die("cannot make a key: %s", crypto_strerror(rc));
	rc = pki_csr_make(priv, cn, CRYPTO_ROLE_TENANT, &csr, err, sizeof(err));
	if (rc == CRYPTO_OK)
		rc = pki_key_encode_pem(priv, pem, sizeof(pem), &len, err, sizeof(err));
	crypto_wipe(priv, sizeof(priv));
	if (rc != CRYPTO_OK) {
		if (rc == CRYPTO_E_INVAL)
			cli_usage_error("%s", err);
		cli_die("%s", err);
	}
	check_as_ca(&csr, cn, pub);
	cli_write_new(key_path, pem, len, 0600);
	crypto_wipe(pem, sizeof(pem));
	cli_write_new(csr_path, csr.pem, csr.pem_len, 0644);
	cli_outputs_done();
	pki_cert_free(&csr);
	pki_key_fingerprint(pub, fpr);
	cli_hex(fpr, sizeof(fpr), hex);
	printf("wrote %s (the tenant's private key, mode 0600: keep it here)\n", key_path);
	printf("wrote %s (certificate request for the tenant role, CN=%s: send it to the CA)\n",
	       csr_path, cn);
	printf("tenant key: sha384 %s\n", hex);
	free(key_path);
	free(csr_path);
	return 0;
}
