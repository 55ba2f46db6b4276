/*
 * custos-ca: the offline Custos certificate authority (docs/pki.md).
 *
 *   custos-ca init      --dir DIR --cn NAME [--days N]
 *   custos-ca issue     --dir DIR --role station|tenant|tpgvm-tls --cn NAME
 *                       --out PREFIX [--days N]
 *   custos-ca sign-csr  CSR --dir DIR --cn NAME --out PREFIX [--days N]
 *   custos-ca issue-tcb --dev --dir DIR --cn NAME --out PREFIX [--days N]
 *   custos-ca enroll    --dir DIR --report REPORT --ek-cert EK.der
 *                       --ek-ca ROOT.pem [--ek-ca ISSUER.pem ...] --cn NAME
 *                       --out PREFIX [--days N]
 *   custos-ca approve   --dir DIR --report REPORT [--file NAME=PATH ...]
 *                       [--drop NAME ...] --out FILE
 *   custos-ca sign-reference --dir DIR REFERENCE --out FILE
 *
 * issue-tcb issues development TCB identities only (roles tcb-sign-dev and
 * tcb-kex-dev, keys written in the clear for the boot media): a production
 * TCB identity's keys never leave the TPM, so they are certified by enroll
 * and never written by the CA; without --dev issue-tcb refuses.
 *
 * sign-csr issues a tenant certificate for a key the CA never sees: the
 * tenant's own request (custos enroll), its self-signature, key, subject
 * and requested role checked first (crypto/pki_csr.c, tools/csr_policy.c).
 *
 * enroll certifies a platform TPM's attestation key (role tcb-ak) and, when
 * the report carries them, the TCB's TPM-resident keys (roles tcb-sign and
 * tcb-kex). It checks the AK a report carries is the Custos AK, checks the
 * TPM's EK certificate against its vendor's CA, makes a TPM2 credential for
 * that EK and AK (tools/tpm_credential.c) and writes the AK certificate
 * encrypted under it, as the "tpm-enrollment" boot module: only the TPM
 * holding both keys can activate the credential and so read the
 * certificate. The TCB keys are certified only if the AK certified each
 * (TPM2_Certify) as a primary of its TPM with the Custos template and the
 * authPolicy PolicyAuthorize(this CA's root key) (tools/tcb_key_check.c):
 * then they live in that TPM and can be used only under this CA's
 * approvals; their certificates go out as the TCB certificate boot module.
 * A report whose TCB keys fail a check is refused whole. (--ak-public
 * FILE, the TPM2B_PUBLIC that tpm2_readpublic -o writes, may replace
 * --report: a testing aid, not in the usage text, for AKs made outside a
 * Custos boot; it certifies the AK alone.)
 *
 * approve signs the CA's approval of a launch for the TPM-resident TCB
 * keys (docs/tpm.md, "TPM-resident TCB keys"): the PCRs 0-9 that booting
 * the media whose files are given will produce on the platform whose
 * report is given. It believes the report only as far as its TPM evidence
 * goes: a quote by an attestation key this CA certified, over PCRs the
 * firmware's log replays to (tools/tpm_evidence.c), from a launch whose
 * kernel GRUB measured. The report's own signature proves nothing here.
 *
 * Every output is checked to be absent before anything is written, and
 * created with O_EXCL; private keys are mode 0600. If a step fails after
 * some files were written, they are removed: an identity is issued whole or
 * not at all. Errors are one line on stderr with exit status 1; usage
 * errors exit with 2.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "crypto/crypto.h"
#include "crypto/pki_host.h"
#include "tcb/tcb_keys.h"
#include "tools/cli.h"
#include "tcb/tpm_enroll.h"
#include "tools/tpm_credential.h"
#include "tools/tcb_key_check.h"
#include "tools/csr_policy.h"
#include "tools/launch_predict.h"
#include "tools/tpm_evidence.h"
#include "tcb/fw_log.h"
#include "tcb/tpm_approval.h"
#include <custos/report.h>
#include "tools/reference.h"
#include "tools/reference_sig.h"

#define ROOT_DAYS_DEFAULT 7300 /* 20 years */
#define LEAF_DAYS_DEFAULT 1825 /* 5 years */

static const char usage_text[] =
	"usage: custos-ca COMMAND [OPTIONS]\n"
	"\n"
	"The offline Custos certificate authority (docs/pki.md).\n"
	"\n"
	"commands:\n"
	"  init --dir DIR --cn NAME [--days N]\n"
	"      Create the CA root in DIR (created if missing, mode 0700):\n"
	"      DIR/root.key (private key, 0600), DIR/root.pem, DIR/root.der.\n"
	"      Default validity %d days.\n"
	"  issue --dir DIR --role ROLE --cn NAME --out PREFIX [--days N]\n"
	"      Issue a key and a certificate with ROLE, one of station, tenant,\n"
	"      tpgvm-tls: PREFIX.key (0600), PREFIX.pem, PREFIX.der. A tenant key\n"
	"      made here is known to the CA: for development and tests only;\n"
	"      tenants make their own (custos enroll, then sign-csr).\n"
	"      Default validity %d days.\n"
	"  sign-csr CSR --dir DIR --cn NAME --out PREFIX [--days N]\n"
	"      Issue a tenant certificate for the key of the certificate request\n"
	"      CSR (PKCS#10, PEM or DER; 'custos enroll' makes it with the\n"
	"      tenant's own key, which the CA never sees): PREFIX.pem, PREFIX.der.\n"
	"      The request must be signed by its P-384 key (ECDSA-SHA-384), name\n"
	"      exactly the subject CN=NAME the CA checked with the tenant, and\n"
	"      ask for the tenant role and nothing else. Prints the key's\n"
	"      fingerprint for comparing with the tenant's. Default validity %d days.\n"
	"  issue-tcb --dev --dir DIR --cn NAME --out PREFIX [--days N]\n"
	"      Issue a DEVELOPMENT platform TCB's two keys and certificates:\n"
	"      PREFIX-sign.{key,pem,der} (role tcb-sign-dev: reports),\n"
	"      PREFIX-kex.{key,pem,der} (role tcb-kex-dev: envelopes are encrypted to it),\n"
	"      PREFIX-keys.bin (both private keys in the clear: the TCB key boot\n"
	"      module, 0600), PREFIX-certs.bin (both certificates: the TCB\n"
	"      certificate boot module). Whoever holds the boot media holds these\n"
	"      keys, so every verifier treats this identity as development only.\n"
	"      Without --dev it refuses: production TCB identities are certified\n"
	"      by enroll, for keys that never leave the platform's TPM.\n"
	"  enroll --dir DIR --report REPORT --ek-cert EK --ek-ca CA [--ek-ca CA ...]\n"
	"         --cn NAME --out PREFIX [--days N]\n"
	"      Certify a platform TPM's attestation key (role tcb-ak) and the\n"
	"      TCB's TPM-resident keys (roles tcb-sign, tcb-kex) if REPORT carries\n"
	"      them. REPORT is a platform report with TPM evidence, whose\n"
	"      attestation key must be the Custos AK. EK is the TPM's RSA EK\n"
	"      certificate (NV index 0x01c00002, e.g. tpm2_nvread 0x01c00002 -o\n"
	"      ek.der), which must chain to the TPM vendor's CA certificates given\n"
	"      with --ek-ca (the root, and any intermediates). Writes\n"
	"      PREFIX-enroll.bin (the \"tpm-enrollment\" boot module: the\n"
	"      certificate, encrypted under a TPM2 credential only that TPM can\n"
	"      activate for that key), PREFIX-ak.pem and PREFIX-ak.der (the\n"
	"      certificate). With the TCB keys, each certified by the AK as the\n"
	"      Custos key usable only under this CA's approvals (else nothing is\n"
	"      written), also PREFIX-tcb-sign.{pem,der}, PREFIX-tcb-kex.{pem,der}\n"
	"      and PREFIX-tcb-certs.bin (the TCB certificate boot module). Default\n"
	"      validity %d days.\n"
	"  approve --dir DIR --report REPORT [--file NAME=PATH ...] [--drop NAME ...]\n"
	"          --out FILE\n"
	"      Approve a launch for the platform's TPM-resident TCB keys: the\n"
	"      PCRs 0-9 the platform of REPORT (an enrolled TPM's quote and its\n"
	"      firmware log) will have when GRUB measures, for each --file, the\n"
	"      contents of PATH under the name NAME it logged (e.g.\n"
	"      /boot/custos.elf=build/custos.elf), loads no module NAME of a\n"
	"      --drop (e.g. /boot/tcb-keys.bin: production media have no key\n"
	"      module), and everything else as logged.\n"
	"      Writes FILE (the approval, 592 bytes: public, signed by the root\n"
	"      key), to be put where the platform's TCB reads it.\n"
	"  sign-reference --dir DIR REFERENCE --out FILE\n"
	"      Sign a reference.json (tools/mkreference.py) with the CA root key\n"
	"      after checking it reads as the tenant CLI reads it: FILE (156\n"
	"      bytes, conventionally REFERENCE.sig) covers its exact bytes, and\n"
	"      custos attest --ca ROOT checks it (docs/pki.md, \"Signed reference\n"
	"      values\").\n"
	"\n"
	"NAME: 1..64 printable ASCII characters, not starting or ending with a\n"
	"space. No output file is ever overwritten. Exit status: 0 done, 1 failed,\n"
	"2 usage error. 'custos-ca --version' prints the version.\n";

static void usage(FILE *f)
{
	fprintf(f, usage_text, ROOT_DAYS_DEFAULT, LEAF_DAYS_DEFAULT,
		LEAF_DAYS_DEFAULT, LEAF_DAYS_DEFAULT);
}

/* `custos-ca COMMAND --help`: that command's part of the usage text. */
static void command_usage(const char *cmd)
{
	char text[sizeof(usage_text) + 64];

	snprintf(text, sizeof(text), usage_text, ROOT_DAYS_DEFAULT, LEAF_DAYS_DEFAULT,
		 LEAF_DAYS_DEFAULT, LEAF_DAYS_DEFAULT);
	if (cli_print_command_help(stdout, text, cmd, "usage: custos-ca ") != 0) {
		usage(stdout);
		return;
	}
	fputs("\nNAME: 1..64 printable ASCII characters, not starting or ending with a\n"
	      "space. No output file is ever overwritten. Exit status: 0 done, 1 failed,\n"
	      "2 usage error. 'custos-ca --help' describes every command.\n", stdout);
}

/* Enough for a vendor's root and a few intermediates. */
#define EK_CA_MAX 8
/* The files a new launch changes: hypervisor, envelope, a few modules. */
#define APPROVE_FILES_MAX 8

/* Options of all commands; NULL when not given. */
struct opts {
	const char *dir, *cn, *out, *role;
	unsigned days;
	bool dev;
	/* enroll's */
	const char *report, *ak_public, *ek_cert;
	const char *ek_ca[EK_CA_MAX];
	size_t n_ek_ca;
	/* approve's: NAME=PATH */
	const char *file[APPROVE_FILES_MAX];
	size_t n_file;
	const char *drop[APPROVE_FILES_MAX]; /* approve's: modules the new media lack */
	size_t n_drop;
	const char *reference; /* sign-reference's REFERENCE */
};

static unsigned parse_days(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v == 0 || v > 36500)
		cli_usage_error("--days must be a number of days from 1 to 36500, not '%s'",
				s);
	return (unsigned)v;
}

/* takes_file: the command takes one positional argument (o->file). */
static void parse_opts(int argc, char **argv, struct opts *o, bool takes_file)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "cn", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "role", required_argument, NULL, 'r' },
		{ "days", required_argument, NULL, 'n' },
		{ "dev", no_argument, NULL, 'D' },
		{ "report", required_argument, NULL, 'R' },
		{ "ak-public", required_argument, NULL, 'P' },
		{ "ek-cert", required_argument, NULL, 'E' },
		{ "ek-ca", required_argument, NULL, 'A' },
		{ "file", required_argument, NULL, 'F' },
		{ "drop", required_argument, NULL, 'X' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 'c': o->cn = optarg; break;
		case 'o': o->out = optarg; break;
		case 'r': o->role = optarg; break;
		case 'n': o->days = parse_days(optarg); break;
		case 'D': o->dev = true; break;
		case 'R': o->report = optarg; break;
		case 'P': o->ak_public = optarg; break;
		case 'E': o->ek_cert = optarg; break;
		case 'A':
			if (o->n_ek_ca == EK_CA_MAX)
				cli_usage_error("at most %d --ek-ca certificates",
						EK_CA_MAX);
			o->ek_ca[o->n_ek_ca++] = optarg;
			break;
		case 'X':
			if (o->n_drop == APPROVE_FILES_MAX)
				cli_usage_error("at most %d --drop", APPROVE_FILES_MAX);
			o->drop[o->n_drop++] = optarg;
			break;
		case 'F':
			if (o->n_file == APPROVE_FILES_MAX)
				cli_usage_error("at most %d --file", APPROVE_FILES_MAX);
			o->file[o->n_file++] = optarg;
			break;
		case 'j': break; /* taken before parsing (cli_json_if_asked) */
		case 'h': command_usage(argv[0]); exit(0);
		default:
			if (optopt)
				cli_usage_error("option '%s' needs an argument",
						argv[optind - 1]);
			cli_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (takes_file && optind < argc)
		o->reference = argv[optind++];
	if (optind < argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
}

static void need(const char *value, const char *name, const char *cmd)
{
	if (!value)
		cli_usage_error("%s needs %s", cmd, name);
}

static void forbid(const char *value, const char *name, const char *cmd)
{
	if (value)
		cli_usage_error("%s does not take %s", cmd, name);
}

/* The options only enroll takes. */
static void forbid_enroll(const struct opts *o, const char *cmd)
{
	forbid(o->ak_public, "--ak-public", cmd);
	forbid(o->ek_cert, "--ek-cert", cmd);
	forbid(o->n_ek_ca ? o->ek_ca[0] : NULL, "--ek-ca", cmd);
}

/* The options only enroll and approve take. */
static void forbid_platform(const struct opts *o, const char *cmd)
{
	forbid_enroll(o, cmd);
	forbid(o->report, "--report", cmd);
	forbid(o->n_file ? o->file[0] : NULL, "--file", cmd);
	forbid(o->n_drop ? o->drop[0] : NULL, "--drop", cmd);
}

/* The CN rules of pki_host (checked there too), here for a usage error. */
static void check_cn(const char *cn)
{
	size_t n = strlen(cn);

	if (n == 0 || n > PKI_CN_MAX || cn[0] == ' ' || cn[n - 1] == ' ')
		cli_usage_error("--cn must be 1..%d characters without leading or trailing spaces",
				PKI_CN_MAX);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)cn[i] < 0x20 || (unsigned char)cn[i] > 0x7e)
			cli_usage_error("--cn may only hold printable ASCII characters");
}

static void init_crypto(void)
{
	int rc = crypto_init();

	if (rc != CRYPTO_OK)
		cli_die("cannot initialise the random generator: %s",
			crypto_strerror(rc));
}

static void wrote(const char *path, const char *what)
{
	cli_wrote(path, what);
}

/* Write a certificate as PREFIX.pem and PREFIX.der. */
static void write_cert(const struct pki_cert *c, const char *pem_path,
		       const char *der_path)
{
	cli_write_new(pem_path, c->pem, c->pem_len, 0644);
	cli_write_new(der_path, c->der, c->der_len, 0644);
}

/* A fresh key written to path (0600) like every other output: whole or
 * not at all, and removed if the run fails or is interrupted later. */
static void gen_key(const char *path, uint8_t priv[CRYPTO_P384_PRIV_LEN],
		    uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	uint8_t d[CRYPTO_P384_PRIV_LEN], q[CRYPTO_P384_PUB_LEN];
	char pem[PKI_KEY_PEM_MAX], err[PKI_ERR_LEN];
	size_t len;
	int rc = crypto_p384_keygen(d, q);

	if (rc != CRYPTO_OK)
		cli_die("key generation failed: %s", crypto_strerror(rc));
	if (pki_key_encode_pem(d, pem, sizeof(pem), &len, err, sizeof(err)) != CRYPTO_OK) {
		crypto_wipe(d, sizeof(d));
		cli_die("%s", err);
	}
	cli_write_new(path, pem, len, 0600);
	crypto_wipe(pem, sizeof(pem));
	if (priv)
		memcpy(priv, d, sizeof(d));
	if (pub)
		memcpy(pub, q, sizeof(q));
	crypto_wipe(d, sizeof(d));
}

/* ---- init ---------------------------------------------------------------- */

static int cmd_init(int argc, char **argv)
{
	struct opts o;
	char *key, *pem, *der, err[PKI_ERR_LEN];
	uint8_t priv[CRYPTO_P384_PRIV_LEN];
	struct pki_cert root;

	parse_opts(argc, argv, &o, false);
	need(o.dir, "--dir", "init");
	need(o.cn, "--cn", "init");
	forbid(o.out, "--out", "init");
	forbid(o.role, "--role", "init");
	forbid_platform(&o, "init");
	if (o.dev)
		cli_usage_error("init does not take --dev");
	check_cn(o.cn);
	if (mkdir(o.dir, 0700) != 0 && errno != EEXIST)
		cli_die("cannot create CA directory '%s': %s", o.dir,
			strerror(errno));
	key = cli_path(o.dir, "/root.key");
	pem = cli_path(o.dir, "/root.pem");
	der = cli_path(o.dir, "/root.der");
	cli_refuse_existing(key);
	cli_refuse_existing(pem);
	cli_refuse_existing(der);
	init_crypto();
	gen_key(key, priv, NULL);
	if (pki_issue_root(priv, o.cn, o.days ? o.days : ROOT_DAYS_DEFAULT,
			   &root, err, sizeof(err)) != CRYPTO_OK) {
		crypto_wipe(priv, sizeof(priv));
		cli_die("cannot issue the root certificate: %s", err);
	}
	crypto_wipe(priv, sizeof(priv));
	write_cert(&root, pem, der);
	pki_cert_free(&root);
	cli_outputs_done();
	wrote(key, "CA root private key, mode 0600");
	wrote(pem, "CA root certificate, PEM");
	wrote(der, "CA root certificate, DER: compile into the hypervisor");
	return 0;
}

/* ---- issue / issue-tcb --------------------------------------------------- */

/* The CA's key and certificate from DIR. */
struct ca {
	uint8_t priv[CRYPTO_P384_PRIV_LEN];
	uint8_t *der;
	size_t der_len;
};

/* The root certificate alone: public, so enroll reads it to check the
 * platform's evidence before it touches the key. */
static void load_ca_cert(const char *dir, struct ca *ca)
{
	char *der = cli_path(dir, "/root.der"), err[PKI_ERR_LEN];

	cli_need_file(der, "CA root certificate");
	if (pki_cert_read(der, &ca->der, &ca->der_len, err, sizeof(err)) !=
	    CRYPTO_OK)
		cli_die("CA root certificate: %s", err);
	free(der);
}

static void load_ca_key(const char *dir, struct ca *ca)
{
	char *key = cli_path(dir, "/root.key"), err[PKI_ERR_LEN];

	cli_need_file(key, "CA root key");
	if (pki_key_read(key, ca->priv, NULL, err, sizeof(err)) != CRYPTO_OK)
		cli_die("CA root key: %s", err);
	free(key);
}

static void load_ca(const char *dir, struct ca *ca)
{
	load_ca_key(dir, ca);
	load_ca_cert(dir, ca);
}

/* A fresh key at key_path and its certificate with role; returns the
 * private key in priv (if not NULL) and the certificate in *cert. */
static void issue_one(const struct ca *ca, const char *key_path,
		      const char *cn, enum crypto_role role, unsigned days,
		      uint8_t *priv, struct pki_cert *cert)
{
	uint8_t d[CRYPTO_P384_PRIV_LEN], q[CRYPTO_P384_PUB_LEN];
	char err[PKI_ERR_LEN];

	gen_key(key_path, d, q);
	if (priv)
		memcpy(priv, d, sizeof(d));
	crypto_wipe(d, sizeof(d));
	if (pki_issue_leaf(ca->priv, ca->der, ca->der_len, q, cn, role, days,
			   cert, err, sizeof(err)) != CRYPTO_OK)
		cli_die("cannot issue the %s certificate: %s",
			crypto_role_name(role), err);
}

static enum crypto_role parse_role(const char *s)
{
	if (strcmp(s, "station") == 0)
		return CRYPTO_ROLE_STATION;
	if (strcmp(s, "tenant") == 0)
		return CRYPTO_ROLE_TENANT;
	if (strcmp(s, "tpgvm-tls") == 0)
		return CRYPTO_ROLE_TPGVM_TLS;
	if (strcmp(s, "tcb-sign") == 0 || strcmp(s, "tcb-kex") == 0 ||
	    strcmp(s, "tcb-sign-dev") == 0 || strcmp(s, "tcb-kex-dev") == 0 ||
	    strcmp(s, "tcb") == 0)
		cli_usage_error("TCB certificates come in pairs: use 'custos-ca issue-tcb --dev'");
	cli_usage_error("unknown role '%s' (station, tenant or tpgvm-tls)", s);
}

static int cmd_issue(int argc, char **argv)
{
	struct opts o;
	enum crypto_role role;
	char *key, *pem, *der;
	struct pki_cert cert;
	struct ca ca;

	parse_opts(argc, argv, &o, false);
	need(o.dir, "--dir", "issue");
	need(o.role, "--role", "issue");
	need(o.cn, "--cn", "issue");
	need(o.out, "--out", "issue");
	forbid_platform(&o, "issue");
	if (o.dev)
		cli_usage_error("issue does not take --dev (only issue-tcb does)");
	role = parse_role(o.role);
	check_cn(o.cn);
	key = cli_path(o.out, ".key");
	pem = cli_path(o.out, ".pem");
	der = cli_path(o.out, ".der");
	cli_refuse_existing(key);
	cli_refuse_existing(pem);
	cli_refuse_existing(der);
	load_ca(o.dir, &ca);
	init_crypto();
	issue_one(&ca, key, o.cn, role, o.days ? o.days : LEAF_DAYS_DEFAULT,
		  NULL, &cert);
	crypto_wipe(ca.priv, sizeof(ca.priv));
	write_cert(&cert, pem, der);
	pki_cert_free(&cert);
	cli_outputs_done();
	wrote(key, role == CRYPTO_ROLE_TENANT ? "private key, mode 0600: made at the CA, "
	      "for development and tests only (a tenant's own key: custos enroll, then "
	      "custos-ca sign-csr)" : "private key, mode 0600");
	wrote(pem, "certificate, PEM");
	wrote(der, "certificate, DER");
	return 0;
}

/* The TCB certificate boot module (docs/pki.md, "TCB modules"), checked
 * with the TCB's own parser before it is written, so the tool cannot emit
 * what the TCB refuses. For issue-tcb and enroll alike. */
static void write_certs_module(const char *path, const struct pki_cert *sign,
			       const struct pki_cert *kex)
{
	size_t len = TCB_CERTS_HDR_LEN + 8 + sign->der_len + kex->der_len;
	size_t kex_at = 16 + sign->der_len + 4;
	uint8_t *certs = malloc(len);
	struct tcb_certs c;
	char err[160];

	if (!certs)
		cli_die("out of memory");
	memcpy(certs, TCB_CERTS_MAGIC, TCB_MODULE_MAGIC_LEN);
	for (int i = 0; i < 4; i++) {
		certs[8 + i] = (uint8_t)(TCB_CERTS_VERSION >> (8 * i));
		certs[12 + i] = (uint8_t)(sign->der_len >> (8 * i));
		certs[16 + sign->der_len + i] = (uint8_t)(kex->der_len >> (8 * i));
	}
	memcpy(certs + 16, sign->der, sign->der_len);
	memcpy(certs + kex_at, kex->der, kex->der_len);
	if (tcb_certs_parse(certs, len, &c, err, sizeof(err)) != 0)
		cli_die("internal error: the TCB certificate module does not parse: %s", err);
	cli_write_new(path, certs, len, 0644);
	free(certs);
}

/* The development key module: both private keys in the clear, checked
 * with the TCB's parser before it is written. */
static void write_keys_module(const char *path, const uint8_t sign_priv[48],
			      const uint8_t kex_priv[48])
{
	uint8_t keys[TCB_KEYS_LEN];
	struct tcb_keys k;
	char err[160];

	memcpy(keys, TCB_KEYS_MAGIC, TCB_MODULE_MAGIC_LEN);
	for (int i = 0; i < 4; i++)
		keys[8 + i] = (uint8_t)(TCB_KEYS_VERSION >> (8 * i));
	memcpy(keys + 12, sign_priv, TCB_PRIV_LEN);
	memcpy(keys + 12 + TCB_PRIV_LEN, kex_priv, TCB_PRIV_LEN);
	if (tcb_keys_parse(keys, sizeof(keys), &k, err, sizeof(err)) != 0) {
		crypto_wipe(keys, sizeof(keys));
		cli_die("internal error: the TCB key module does not parse: %s", err);
	}
	crypto_wipe(&k, sizeof(k));
	cli_write_new(path, keys, sizeof(keys), 0600);
	crypto_wipe(keys, sizeof(keys));
}

static int cmd_issue_tcb(int argc, char **argv)
{
	static const char *const suffix[8] = {
		"-sign.key", "-sign.pem", "-sign.der", "-kex.key", "-kex.pem",
		"-kex.der", "-keys.bin", "-certs.bin",
	};
	uint8_t sign_priv[CRYPTO_P384_PRIV_LEN], kex_priv[CRYPTO_P384_PRIV_LEN];
	struct pki_cert sign, kex;
	char *path[8];
	struct opts o;
	struct ca ca;
	unsigned days;

	parse_opts(argc, argv, &o, false);
	need(o.dir, "--dir", "issue-tcb");
	need(o.cn, "--cn", "issue-tcb");
	need(o.out, "--out", "issue-tcb");
	forbid(o.role, "--role (the roles are tcb-sign-dev and tcb-kex-dev)", "issue-tcb");
	forbid_platform(&o, "issue-tcb");
	check_cn(o.cn);
	/* A production identity's keys must never exist outside its TPM: the
	 * CA certifies them from the TPM's evidence (enroll), never as files
	 * it writes itself. */
	if (!o.dev)
		cli_die("issue-tcb issues development TCB identities only, with --dev: "
			"production TCB identities are certified by 'custos-ca enroll', "
			"for keys that never leave the platform's TPM");
	for (int i = 0; i < 8; i++) {
		path[i] = cli_path(o.out, suffix[i]);
		cli_refuse_existing(path[i]);
	}
	load_ca(o.dir, &ca);
	init_crypto();
	days = o.days ? o.days : LEAF_DAYS_DEFAULT;
	issue_one(&ca, path[0], o.cn, CRYPTO_ROLE_TCB_SIGN_DEV, days, sign_priv, &sign);
	issue_one(&ca, path[3], o.cn, CRYPTO_ROLE_TCB_KEX_DEV, days, kex_priv, &kex);
	crypto_wipe(ca.priv, sizeof(ca.priv));
	write_cert(&sign, path[1], path[2]);
	write_cert(&kex, path[4], path[5]);
	write_keys_module(path[6], sign_priv, kex_priv);
	write_certs_module(path[7], &sign, &kex);
	crypto_wipe(sign_priv, sizeof(sign_priv));
	crypto_wipe(kex_priv, sizeof(kex_priv));
	pki_cert_free(&sign);
	pki_cert_free(&kex);
	cli_outputs_done();
	wrote(path[0], "development TCB signing private key, mode 0600");
	wrote(path[1], "development TCB signing certificate (tcb-sign-dev), PEM");
	wrote(path[2], "development TCB signing certificate (tcb-sign-dev), DER");
	wrote(path[3], "development TCB key-agreement private key, mode 0600");
	wrote(path[4], "development TCB key-agreement certificate (tcb-kex-dev), PEM: "
	      "give it to the signing station (custos-station package --allow-dev)");
	wrote(path[5], "development TCB key-agreement certificate (tcb-kex-dev), DER");
	wrote(path[6], "TCB key module, keys in the clear (development only), mode 0600");
	wrote(path[7], "TCB certificate module");
	return 0;
}

/* ---- enroll ------------------------------------------------------------------ */

/* What the platform sent: the attestation key's TPMT_PUBLIC from the
 * report's TPM evidence (or, with --ak-public, from a file), and the
 * report's TPM-resident TCB keys, if it carries them. */
struct platform {
	uint8_t *file;          /* the report or the key file */
	const uint8_t *ak;      /* points into file */
	size_t ak_len;
	struct report r;        /* with --ak-public: all zero, no TCB keys */
};

static void read_platform(const struct opts *o, struct platform *p)
{
	char err[200];
	size_t len;

	memset(p, 0, sizeof(*p));
	if (o->ak_public) {
		p->file = cli_read_file(o->ak_public, 4096, &len, "attestation key");
		/* tpm2_readpublic -o writes a TPM2B_PUBLIC: a big-endian size,
		 * then the TPMT_PUBLIC. A bare TPMT_PUBLIC is taken too. */
		if (len >= 2 && (size_t)(p->file[0] << 8 | p->file[1]) == len - 2) {
			p->ak = p->file + 2;
			p->ak_len = len - 2;
		} else {
			p->ak = p->file;
			p->ak_len = len;
		}
		return;
	}
	p->file = cli_read_file(o->report, REPORT_MAX_SIZE, &len, "report");
	if (tpm_report_ak(p->file, len, &p->ak, &p->ak_len, err, sizeof(err)) != 0 ||
	    report_parse(p->file, len, &p->r, err, sizeof(err)) != 0)
		cli_die("report '%s': %s", o->report, err);
}

/* The EK certificate checked against the vendor's CAs: its modulus. */
static void check_ek(const struct opts *o, uint8_t modulus[TPM_EK_MODULUS_LEN])
{
	uint8_t *ek, *ca[EK_CA_MAX];
	size_t ek_len, ca_len[EK_CA_MAX];
	char err[PKI_ERR_LEN];

	cli_need_file(o->ek_cert, "EK certificate");
	if (pki_cert_read(o->ek_cert, &ek, &ek_len, err, sizeof(err)) != CRYPTO_OK)
		cli_die("EK certificate: %s", err);
	for (size_t i = 0; i < o->n_ek_ca; i++) {
		cli_need_file(o->ek_ca[i], "EK CA certificate");
		if (pki_cert_read(o->ek_ca[i], &ca[i], &ca_len[i], err,
				  sizeof(err)) != CRYPTO_OK)
			cli_die("EK CA certificate: %s", err);
	}
	if (tpm_ek_cert_check(ek, ek_len, (const uint8_t *const *)ca, ca_len,
			      o->n_ek_ca, modulus, err, sizeof(err)) != 0)
		cli_die("EK certificate '%s': %s", o->ek_cert, err);
	free(ek);
	for (size_t i = 0; i < o->n_ek_ca; i++)
		free(ca[i]);
}

/* mbedTLS's generator shape over the crypto layer's DRBG, for OAEP. */
static int drbg(void *ctx, unsigned char *buf, size_t len)
{
	(void)ctx;
	return crypto_random(buf, len) == CRYPTO_OK ? 0 : -1;
}

/* The module, checked with the TCB's own reader (tcb/tpm_enroll.c) and
 * the certificate decrypted again before it is written, as write_certs_module
 * does: the tool cannot emit a module the TCB refuses. */
static void write_enrollment(const char *path, const uint8_t name[TPM_AK_NAME_LEN],
			     const uint8_t id_object[TPM_ID_OBJECT_LEN],
			     const uint8_t secret[TPM_ENC_SECRET_LEN],
			     const uint8_t credential[TPM_CREDENTIAL_LEN],
			     const struct pki_cert *cert)
{
	size_t len = TPM_ENROLL_LEN(cert->der_len);
	uint8_t nonce[CRYPTO_GCM_IV_LEN], *mod = malloc(len),
		*back = malloc(cert->der_len);
	struct tpm_enrollment e;
	char err[200];
	int rc;

	if (!mod || !back)
		cli_die("out of memory");
	rc = crypto_random(nonce, sizeof(nonce));
	if (rc != CRYPTO_OK)
		cli_die("cannot draw the module's nonce: %s", crypto_strerror(rc));
	if (tpm_enroll_build(name, id_object, secret, credential, nonce, cert->der,
			     cert->der_len, mod, err, sizeof(err)) != 0)
		cli_die("%s", err);
	if (tpm_enrollment_parse(mod, len, &e, err, sizeof(err)) != 0)
		cli_die("internal error: the TCB refuses the enrollment module: %s", err);
	if (e.cert_len != cert->der_len ||
	    tpm_enrollment_open_cert(mod, &e, credential, TPM_CREDENTIAL_LEN, back) != 0 ||
	    memcmp(back, cert->der, cert->der_len) != 0)
		cli_die("internal error: the enrollment module does not open with its credential");
	cli_write_new(path, mod, len, 0644);
	free(mod);
	free(back);
}

/* A certificate with role for point, checked as the TCB and the tenant
 * will check it before anything is written: it chains to the root, names
 * the role, and certifies exactly this point. */
static void issue_for_point(const struct ca *ca, const uint8_t point[CRYPTO_P384_PUB_LEN],
			    const char *cn, enum crypto_role role, unsigned days,
			    struct pki_cert *cert)
{
	uint8_t check[CRYPTO_P384_PUB_LEN];
	char err[PKI_ERR_LEN];

	if (pki_issue_leaf(ca->priv, ca->der, ca->der_len, point, cn, role, days, cert, err,
			   sizeof(err)) != CRYPTO_OK)
		cli_die("cannot issue the %s certificate: %s", crypto_role_name(role), err);
	if (crypto_x509_verify(cert->der, cert->der_len, ca->der, ca->der_len, role, check,
			       err, sizeof(err)) != CRYPTO_OK ||
	    memcmp(check, point, sizeof(check)) != 0)
		cli_die("internal error: the %s certificate does not verify: %s",
			crypto_role_name(role), err);
}

/* The credential for the EK and the AK's Name: fresh random bytes, and
 * MakeCredential's blob and encrypted seed. */
static void make_credential(const uint8_t modulus[TPM_EK_MODULUS_LEN],
			    const uint8_t name[TPM_AK_NAME_LEN],
			    uint8_t credential[TPM_CREDENTIAL_LEN],
			    uint8_t id_object[TPM_ID_OBJECT_LEN],
			    uint8_t secret[TPM_ENC_SECRET_LEN])
{
	uint8_t seed[TPM_SEED_LEN];
	char err[PKI_ERR_LEN];
	int rc;

	rc = crypto_random(credential, TPM_CREDENTIAL_LEN);
	if (rc == CRYPTO_OK)
		rc = crypto_random(seed, sizeof(seed));
	if (rc != CRYPTO_OK)
		cli_die("cannot draw the credential: %s", crypto_strerror(rc));
	if (tpm_make_credential(modulus, name, credential, seed, drbg, NULL,
				id_object, secret, err, sizeof(err)) != 0)
		cli_die("%s", err);
	crypto_wipe(seed, sizeof(seed));
}

/* enroll's outputs: the AK's three, then the TCB keys' five. */
enum {
	ENROLL_MODULE, AK_PEM, AK_DER, TCB_SIGN_PEM, TCB_SIGN_DER, TCB_KEX_PEM,
	TCB_KEX_DER, TCB_CERTS, ENROLL_OUTPUTS
};
#define ENROLL_AK_OUTPUTS TCB_SIGN_PEM

static void enroll_opts(int argc, char **argv, struct opts *o)
{
	parse_opts(argc, argv, o, false);
	need(o->dir, "--dir", "enroll");
	need(o->cn, "--cn", "enroll");
	need(o->out, "--out", "enroll");
	need(o->ek_cert, "--ek-cert", "enroll");
	need(o->n_ek_ca ? o->ek_ca[0] : NULL,
	     "--ek-ca (the TPM vendor's EK CA certificates)", "enroll");
	forbid(o->role, "--role (the roles are tcb-ak, tcb-sign and tcb-kex)", "enroll");
	forbid(o->n_file ? o->file[0] : NULL, "--file", "enroll");
	forbid(o->n_drop ? o->drop[0] : NULL, "--drop", "enroll");
	if (o->dev)
		cli_usage_error("enroll does not take --dev");
	if (o->report && o->ak_public)
		cli_usage_error("enroll takes --report or --ak-public, not both");
	need(o->report ? o->report : o->ak_public, "--report", "enroll");
	check_cn(o->cn);
}

/*
 * Whether the report's attestation key already holds this CA's tcb-ak
 * certificate: only a TPM that activated the credential of an earlier
 * enroll, and so holds both the EK whose certificate it showed and this
 * AK, can have recovered it. The TCB keys' certificates are issued only
 * then: Certify by an AK proves a key is in the AK's TPM, and until the
 * AK is proven to be in the EK's TPM, a software "TPM" with a copied EK
 * certificate could have made both, and the station would encrypt
 * envelopes to its key.
 */
static bool ak_already_enrolled(const struct platform *plat, const struct ca *ca,
				const uint8_t point[CRYPTO_P384_PUB_LEN])
{
	uint8_t certified[CRYPTO_P384_PUB_LEN];

	return plat->r.ak_cert_len &&
	       crypto_x509_verify(plat->r.ak_cert, plat->r.ak_cert_len, ca->der, ca->der_len,
				  CRYPTO_ROLE_TCB_AK, certified, NULL, 0) == CRYPTO_OK &&
	       memcmp(certified, point, sizeof(certified)) == 0;
}

static void enroll_wrote(char *const path[ENROLL_OUTPUTS], const struct opts *o,
			 const struct platform *plat, bool tcb_keys)
{
	wrote(path[ENROLL_MODULE], "TPM enrollment boot module \"tpm-enrollment\": the AK "
	      "certificate, readable only by the TPM that activates its credential");
	wrote(path[AK_PEM], "attestation key certificate (tcb-ak), PEM");
	wrote(path[AK_DER], "attestation key certificate (tcb-ak), DER");
	cli_json_bool("tcb_keys_certified", tcb_keys);
	if (!tcb_keys) {
		const char *why = !o->report ?
		       "--ak-public gives the attestation key alone" :
		       !plat->r.tpm_key_count ? "the report carries none" :
		       "its attestation key has no tcb-ak certificate from this CA yet; "
		       "enroll again with a report from a boot with this enrollment module "
		       "(once the TPM has activated the credential, the attestation key is "
		       "proven to be in the TPM of that EK)";

		if (cli_json())
			cli_json_str("tcb_keys_not_certified_because", why);
		else
			printf("the TCB's TPM-resident keys were not certified: %s\n", why);
		return;
	}
	wrote(path[TCB_SIGN_PEM], "TPM-resident TCB signing key certificate (tcb-sign), PEM");
	wrote(path[TCB_SIGN_DER], "TPM-resident TCB signing key certificate (tcb-sign), DER");
	wrote(path[TCB_KEX_PEM], "TPM-resident TCB key-agreement key certificate (tcb-kex), "
	      "PEM: what the signing station encrypts to");
	wrote(path[TCB_KEX_DER], "TPM-resident TCB key-agreement key certificate (tcb-kex), DER");
	wrote(path[TCB_CERTS], "TCB certificate boot module (no key module: the keys "
	      "never leave the TPM)");
}

static int cmd_enroll(int argc, char **argv)
{
	static const char *const suffix[ENROLL_OUTPUTS] = {
		"-enroll.bin", "-ak.pem", "-ak.der", "-tcb-sign.pem", "-tcb-sign.der",
		"-tcb-kex.pem", "-tcb-kex.der", "-tcb-certs.bin",
	};
	uint8_t point[CRYPTO_P384_PUB_LEN], name[TPM_AK_NAME_LEN];
	uint8_t modulus[TPM_EK_MODULUS_LEN], credential[TPM_CREDENTIAL_LEN];
	uint8_t id_object[TPM_ID_OBJECT_LEN], secret[TPM_ENC_SECRET_LEN];
	char *path[ENROLL_OUTPUTS], err[PKI_ERR_LEN];
	struct tcb_key_points keys;
	struct platform plat;
	struct pki_cert ak, sign, kex;
	struct opts o;
	struct ca ca;
	unsigned days;
	bool tcb_keys;
	int outputs;

	enroll_opts(argc, argv, &o);
	days = o.days ? o.days : LEAF_DAYS_DEFAULT;
	read_platform(&o, &plat);
	/* Everything the platform sent is checked before the CA key is read:
	 * the TCB keys against the root certificate, which is public. */
	if (tpm_ak_check(plat.ak, plat.ak_len, point, name, err, sizeof(err)) != 0)
		cli_die("%s", err);
	load_ca_cert(o.dir, &ca);
	tcb_keys = plat.r.tpm_key_count != 0 && ak_already_enrolled(&plat, &ca, point);
	outputs = tcb_keys ? ENROLL_OUTPUTS : ENROLL_AK_OUTPUTS;
	for (int i = 0; i < outputs; i++) {
		path[i] = cli_path(o.out, suffix[i]);
		cli_refuse_existing(path[i]);
	}
	check_ek(&o, modulus);
	if (tcb_keys && tcb_key_check(&plat.r, point, ca.der, ca.der_len, &keys, err,
				      sizeof(err)) != 0)
		cli_die("report '%s': %s", o.report, err);
	free(plat.file);
	load_ca_key(o.dir, &ca);
	init_crypto();
	/* Every certificate is issued and checked before the first file is
	 * written. */
	make_credential(modulus, name, credential, id_object, secret);
	issue_for_point(&ca, point, o.cn, CRYPTO_ROLE_TCB_AK, days, &ak);
	if (tcb_keys) {
		issue_for_point(&ca, keys.sign, o.cn, CRYPTO_ROLE_TCB_SIGN, days, &sign);
		issue_for_point(&ca, keys.agree, o.cn, CRYPTO_ROLE_TCB_KEX, days, &kex);
	}
	crypto_wipe(ca.priv, sizeof(ca.priv));
	write_enrollment(path[ENROLL_MODULE], name, id_object, secret, credential, &ak);
	crypto_wipe(credential, sizeof(credential));
	write_cert(&ak, path[AK_PEM], path[AK_DER]);
	pki_cert_free(&ak);
	if (tcb_keys) {
		write_cert(&sign, path[TCB_SIGN_PEM], path[TCB_SIGN_DER]);
		write_cert(&kex, path[TCB_KEX_PEM], path[TCB_KEX_DER]);
		write_certs_module(path[TCB_CERTS], &sign, &kex);
		pki_cert_free(&sign);
		pki_cert_free(&kex);
	}
	cli_outputs_done();
	enroll_wrote(path, &o, &plat, tcb_keys);
	return 0;
}

/* ---- sign-csr ---------------------------------------------------------------- */

/* The request in path, checked as sign-csr's policy requires: its
 * self-signature, a P-384 key, the subject CN=cn, the tenant role alone. */
static void read_tenant_csr(const char *path, const char *cn, struct pki_csr *csr)
{
	struct csr_request req;
	char err[PKI_ERR_LEN];
	uint8_t *data;
	size_t len;

	data = cli_read_file(path, PKI_CSR_MAX, &len, "certificate request");
	if (pki_csr_read(data, len, csr, err, sizeof(err)) != CRYPTO_OK)
		cli_die("certificate request '%s' refused: %s", path, err);
	free(data);
	if (csr_request_parse(csr->cri, csr->cri_len, &req, err, sizeof(err)) != 0 ||
	    csr_policy_tenant(&req, err, sizeof(err)) != 0)
		cli_die("certificate request '%s' refused: %s", path, err);
	if (strcmp(csr->cn, cn) != 0)
		cli_die("certificate request '%s' refused: it names CN=%s, not CN=%s (the "
			"name you checked with the tenant)", path, csr->cn, cn);
}

/* SHA-384 of the key's SubjectPublicKeyInfo, as `custos enroll` prints it. */
static void print_key_fingerprint(const uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	uint8_t hash[CRYPTO_SHA384_LEN];
	char hex[2 * CRYPTO_SHA384_LEN + 1];

	pki_key_fingerprint(pub, hash);
	cli_hex(hash, sizeof(hash), hex);
	printf("tenant key: sha384 %s (compare it with the one 'custos enroll' printed "
	       "for the tenant)\n", hex);
}

/* custos-ca sign-csr CSR --dir DIR --cn NAME --out PREFIX [--days N]: the
 * CSR is the first argument, the rest are options as for issue. */
static int cmd_sign_csr(int argc, char **argv)
{
	char *pem, *der, **rest;
	struct pki_csr csr;
	struct pki_cert cert;
	struct opts o;
	struct ca ca;
	const char *path;

	if (argc < 2 || strncmp(argv[1], "--", 2) == 0)
		cli_usage_error("sign-csr needs the CSR file first: custos-ca sign-csr CSR --dir "
				"DIR --cn NAME --out PREFIX");
	path = argv[1];
	rest = malloc(sizeof(*rest) * (size_t)argc);
	if (!rest)
		cli_die("out of memory");
	rest[0] = argv[0];
	memcpy(rest + 1, argv + 2, sizeof(*rest) * (size_t)(argc - 1));
	parse_opts(argc - 1, rest, &o, false);
	need(o.dir, "--dir", "sign-csr");
	need(o.cn, "--cn (the name you checked with the tenant)", "sign-csr");
	need(o.out, "--out", "sign-csr");
	forbid(o.role, "--role (it issues the tenant role only)", "sign-csr");
	forbid_platform(&o, "sign-csr");
	if (o.dev)
		cli_usage_error("sign-csr does not take --dev");
	check_cn(o.cn);
	pem = cli_path(o.out, ".pem");
	der = cli_path(o.out, ".der");
	cli_refuse_existing(pem);
	cli_refuse_existing(der);
	/* The request is untrusted: checked whole before the CA key is read. */
	read_tenant_csr(path, o.cn, &csr);
	load_ca(o.dir, &ca);
	init_crypto();
	issue_for_point(&ca, csr.pub, csr.cn, CRYPTO_ROLE_TENANT,
			o.days ? o.days : LEAF_DAYS_DEFAULT, &cert);
	crypto_wipe(ca.priv, sizeof(ca.priv));
	write_cert(&cert, pem, der);
	pki_cert_free(&cert);
	cli_outputs_done();
	print_key_fingerprint(csr.pub);
	pki_csr_free(&csr);
	free(rest);
	wrote(pem, "tenant certificate, PEM: give it to the tenant");
	wrote(der, "tenant certificate, DER");
	return 0;
}

/* ---- approve --------------------------------------------------------------- */

/* The report's TPM evidence, as far as this CA can believe it: the quote of
 * an attestation key it certified, the firmware's log replaying to the
 * quoted PCRs 0-9, and GRUB having measured the kernel it launched. The
 * firmware log is copied out (log_len bytes, malloc'd). */
static uint8_t *platform_log(const char *path, const struct ca *ca, size_t *log_len)
{
	struct tpm_evidence_result res;
	struct tcg_log_parsed tcb_log;
	uint8_t *buf, *log;
	struct report r;
	char err[320];
	size_t len;

	buf = cli_read_file(path, REPORT_MAX_SIZE, &len, "report");
	if (report_parse(buf, len, &r, err, sizeof(err)) != 0)
		cli_die("report '%s' is not a well-formed platform report: %s", path, err);
	if (!r.tpm_len)
		cli_die("report '%s' carries no TPM evidence: its platform ran without "
			"a usable TPM, so nothing can be approved for it", path);
	if (tcg_log_parse(r.log, r.log_len, &tcb_log, err, sizeof(err)) != 0)
		cli_die("report '%s': the measurement log is malformed: %s", path, err);
	if (tpm_evidence_check(buf, &r, &tcb_log, NULL, ca->der, ca->der_len, &res,
			       err, sizeof(err)) != 0)
		cli_die("report '%s': %s", path, err);
	if (!res.ak_certified)
		cli_die("report '%s': its attestation key has no tcb-ak certificate from "
			"this CA: enroll the platform first (custos-ca enroll)", path);
	if (!res.firmware_log || (res.pcr_mask & TPM_APPROVAL_PCR_MASK) !=
	    TPM_APPROVAL_PCR_MASK)
		cli_die("report '%s': no firmware log backs PCRs 0-9 (not a UEFI "
			"measured launch)", path);
	if (!fw_log_loader_measured_kernel(r.fw_log, r.fw_log_len))
		cli_die("report '%s': GRUB measured no kernel in that launch (no tpm "
			"module?): PCRs 0-9 would not bind the hypervisor", path);
	log = malloc(r.fw_log_len);
	if (!log)
		cli_die("out of memory");
	memcpy(log, r.fw_log, r.fw_log_len);
	*log_len = r.fw_log_len;
	free(buf);
	return log;
}

/* The root key's public half, to check the approval before it is written. */
static void ca_public(const char *dir, uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	uint8_t priv[CRYPTO_P384_PRIV_LEN];
	char *key = cli_path(dir, "/root.key"), err[PKI_ERR_LEN];

	if (pki_key_read(key, priv, pub, err, sizeof(err)) != CRYPTO_OK)
		cli_die("CA root key: %s", err);
	crypto_wipe(priv, sizeof(priv));
	free(key);
}

/* --file NAME=PATH: NAME as GRUB logs it, the SHA-384 of PATH's contents. */
static void new_file(const char *arg, struct launch_file *f)
{
	const char *eq = strchr(arg, '=');
	struct crypto_sha384_ctx c;
	uint8_t chunk[65536];
	char *name;
	size_t n;
	FILE *in;

	if (!eq || eq == arg || !eq[1])
		cli_usage_error("--file takes NAME=PATH (e.g. /boot/custos.elf=build/custos.elf), "
				"not '%s'", arg);
	name = strndup(arg, (size_t)(eq - arg));
	if (!name)
		cli_die("out of memory");
	cli_need_file(eq + 1, "new media file");
	in = fopen(eq + 1, "rb");
	if (!in)
		cli_die("cannot open '%s': %s", eq + 1, strerror(errno));
	crypto_sha384_init(&c);
	while ((n = fread(chunk, 1, sizeof(chunk), in)) > 0)
		crypto_sha384_update(&c, chunk, n);
	if (ferror(in))
		cli_die("cannot read '%s'", eq + 1);
	fclose(in);
	crypto_sha384_final(&c, f->sha384);
	f->grub_name = name;
}

static void print_pcrs(const struct tpm_approval *a)
{
	uint8_t policy[TPM_APPROVAL_DIGEST_LEN];
	char hex[2 * TPM_APPROVAL_DIGEST_LEN + 1];

	char list[TPM_APPROVAL_PCRS * (sizeof(hex) + 4) + 3];
	size_t n = 0;

	list[n++] = '[';
	for (unsigned i = 0; i < TPM_APPROVAL_PCRS; i++) {
		cli_hex(a->pcrs[i], TPM_APPROVAL_DIGEST_LEN, hex);
		if (!cli_json())
			printf("PCR %u sha384:%s\n", i, hex);
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"", i ? ", " : "", hex);
	}
	list[n++] = ']';
	list[n] = '\0';
	tpm_approval_policy(a, policy);
	cli_hex(policy, sizeof(policy), hex);
	if (cli_json()) {
		cli_json_raw("pcrs_sha384", list); /* PCRs 0-9, in order */
		cli_json_str("policy_sha384", hex);
		return;
	}
	printf("approved policy (PolicyPCR) sha384:%s\n", hex);
}

static int cmd_approve(int argc, char **argv)
{
	uint8_t pub[CRYPTO_P384_PUB_LEN], out[TPM_APPROVAL_LEN], *log;
	struct launch_file files[APPROVE_FILES_MAX];
	struct tpm_approval a;
	char err[PKI_ERR_LEN];
	struct opts o;
	struct ca ca;
	size_t log_len;

	parse_opts(argc, argv, &o, false);
	need(o.dir, "--dir", "approve");
	need(o.report, "--report", "approve");
	need(o.out, "--out", "approve");
	forbid_enroll(&o, "approve");
	forbid(o.cn, "--cn", "approve");
	forbid(o.role, "--role", "approve");
	if (o.dev || o.days)
		cli_usage_error("approve takes neither --dev nor --days");
	cli_refuse_existing(o.out);
	for (size_t i = 0; i < o.n_file; i++)
		new_file(o.file[i], &files[i]);
	load_ca(o.dir, &ca);
	ca_public(o.dir, pub);
	init_crypto();
	log = platform_log(o.report, &ca, &log_len);
	if (launch_predict_dropping(log, log_len, files, o.n_file, o.drop, o.n_drop, a.pcrs,
				    err, sizeof(err)) != 0)
		cli_die("%s", err);
	free(log);
	if (tpm_approval_sign(&a, ca.priv) != 0 ||
	    tpm_approval_verify(&a, pub, err, sizeof(err)) != 0)
		cli_die("cannot sign the approval with the CA root key");
	crypto_wipe(ca.priv, sizeof(ca.priv));
	tpm_approval_encode(&a, out);
	cli_write_new(o.out, out, sizeof(out), 0644);
	cli_outputs_done();
	print_pcrs(&a);
	wrote(o.out, "approval of these PCRs 0-9 for the platform's TPM-resident TCB keys");
	return 0;
}

/* ---- sign-reference ---------------------------------------------------- */

static int cmd_sign_reference(int argc, char **argv)
{
	static struct reference ref;
	uint8_t sig[REFERENCE_SIG_LEN], *json;
	char err[PKI_ERR_LEN], hex[2 * CRYPTO_SHA384_LEN + 1];
	struct opts o;
	struct ca ca;
	size_t len;

	parse_opts(argc, argv, &o, true);
	need(o.dir, "--dir", "sign-reference");
	need(o.reference, "a REFERENCE file", "sign-reference");
	need(o.out, "--out", "sign-reference");
	forbid_platform(&o, "sign-reference");
	forbid(o.cn, "--cn", "sign-reference");
	forbid(o.role, "--role", "sign-reference");
	if (o.dev || o.days)
		cli_usage_error("sign-reference takes neither --dev nor --days");
	cli_refuse_existing(o.out);
	/* One byte over the limit, so an oversize file gets the parser's word. */
	json = cli_read_file(o.reference, REFERENCE_MAX_SIZE + 1, &len, "reference");
	/* The CA vouches only for what a tenant's CLI will read as it does. */
	if (reference_parse((const char *)json, len, &ref, err, sizeof(err)) != 0)
		cli_die("'%s' is not a valid reference, not signed: %s", o.reference, err);
	load_ca(o.dir, &ca);
	init_crypto();
	if (reference_sig_sign(json, len, ca.priv, sig) != 0 ||
	    reference_sig_verify(json, len, sig, sizeof(sig), ca.der, ca.der_len,
				 err, sizeof(err)) != 0)
		cli_die("cannot sign the reference with the CA root key");
	crypto_wipe(ca.priv, sizeof(ca.priv));
	cli_write_new(o.out, sig, sizeof(sig), 0644);
	cli_outputs_done();
	cli_hex(sig + 12, CRYPTO_SHA384_LEN, hex);
	printf("reference: %s (platform id \"%s\", %zu measurements, %zu boot VMs), sha384 %s\n",
	       o.reference, ref.platform_id, ref.count, ref.boot_vm_count, hex);
	wrote(o.out, "the CA root's signature over these exact bytes");
	free(json);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	cli_set_prog(argv[0]);
	cli_remove_outputs_on_signals();
	cli_version_if_asked(argc, argv, "custos-ca");
	if (argc < 2)
		cli_usage_error("no command (init, issue, sign-csr, issue-tcb, enroll, approve or "
				"sign-reference)");
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	cli_json_if_asked(argc, argv, cmd);
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(cmd, "issue") == 0)
		return cmd_issue(argc - 1, argv + 1);
	if (strcmp(cmd, "issue-tcb") == 0)
		return cmd_issue_tcb(argc - 1, argv + 1);
	if (strcmp(cmd, "sign-csr") == 0)
		return cmd_sign_csr(argc - 1, argv + 1);
	if (strcmp(cmd, "enroll") == 0)
		return cmd_enroll(argc - 1, argv + 1);
	if (strcmp(cmd, "approve") == 0)
		return cmd_approve(argc - 1, argv + 1);
	if (strcmp(cmd, "sign-reference") == 0)
		return cmd_sign_reference(argc - 1, argv + 1);
	cli_usage_error("unknown command '%s' (init, issue, sign-csr, issue-tcb, enroll, approve "
			"or sign-reference)", cmd);
}
