/*
 * custos-ca: the offline Custos certificate authority (docs/pki.md).
 *
 *   custos-ca init      --dir DIR --cn NAME [--days N]
 *   custos-ca issue     --dir DIR --role station|tenant|tpgvm-tls --cn NAME
 *                       --out PREFIX [--days N]
 *   custos-ca issue-tcb --dev --dir DIR --cn NAME --out PREFIX [--days N]
 *
 * issue-tcb issues development TCB identities only (roles tcb-sign-dev and
 * tcb-kex-dev, keys written in the clear for the boot media): production
 * TCB identities are certified after TPM credential activation, which is
 * not implemented yet, so without --dev it refuses.
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
	"      tpgvm-tls: PREFIX.key (0600), PREFIX.pem, PREFIX.der.\n"
	"      Default validity %d days.\n"
	"  issue-tcb --dev --dir DIR --cn NAME --out PREFIX [--days N]\n"
	"      Issue a DEVELOPMENT platform TCB's two keys and certificates:\n"
	"      PREFIX-sign.{key,pem,der} (role tcb-sign-dev: reports),\n"
	"      PREFIX-kex.{key,pem,der} (role tcb-kex-dev: envelopes are encrypted to it),\n"
	"      PREFIX-keys.bin (both private keys in the clear: the TCB key boot\n"
	"      module, 0600), PREFIX-certs.bin (both certificates: the TCB\n"
	"      certificate boot module). Whoever holds the boot media holds these\n"
	"      keys, so every verifier treats this identity as development only.\n"
	"      Without --dev it refuses: production TCB identities are certified\n"
	"      after TPM credential activation, which is not implemented yet.\n"
	"\n"
	"NAME: 1..64 printable ASCII characters, not starting or ending with a\n"
	"space. No output file is ever overwritten. Exit status: 0 done, 1 failed,\n"
	"2 usage error.\n";

static void usage(FILE *f)
{
	fprintf(f, usage_text, ROOT_DAYS_DEFAULT, LEAF_DAYS_DEFAULT);
}

/* Options common to the three commands; NULL when not given. */
struct opts {
	const char *dir, *cn, *out, *role;
	unsigned days;
	bool dev;
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

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "cn", required_argument, NULL, 'c' },
		{ "out", required_argument, NULL, 'o' },
		{ "role", required_argument, NULL, 'r' },
		{ "days", required_argument, NULL, 'n' },
		{ "dev", no_argument, NULL, 'D' },
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
		case 'h': usage(stdout); exit(0);
		default:
			if (optopt)
				cli_usage_error("option '%s' needs an argument",
						argv[optind - 1]);
			cli_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
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
	printf("wrote %s (%s)\n", path, what);
}

/* Write a certificate as PREFIX.pem and PREFIX.der. */
static void write_cert(const struct pki_cert *c, const char *pem_path,
		       const char *der_path)
{
	cli_write_new(pem_path, c->pem, c->pem_len, 0644);
	cli_write_new(der_path, c->der, c->der_len, 0644);
}

static void gen_key(const char *path, uint8_t priv[CRYPTO_P384_PRIV_LEN],
		    uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	char err[PKI_ERR_LEN];

	if (pki_key_generate(path, priv, pub, err, sizeof(err)) != CRYPTO_OK)
		cli_die("%s", err);
	cli_created(path);
}

/* ---- init ---------------------------------------------------------------- */

static int cmd_init(int argc, char **argv)
{
	struct opts o;
	char *key, *pem, *der, err[PKI_ERR_LEN];
	uint8_t priv[CRYPTO_P384_PRIV_LEN];
	struct pki_cert root;

	parse_opts(argc, argv, &o);
	need(o.dir, "--dir", "init");
	need(o.cn, "--cn", "init");
	forbid(o.out, "--out", "init");
	forbid(o.role, "--role", "init");
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

static void load_ca(const char *dir, struct ca *ca)
{
	char *key = cli_path(dir, "/root.key"), *der = cli_path(dir, "/root.der");
	char err[PKI_ERR_LEN];

	cli_need_file(key, "CA root key");
	cli_need_file(der, "CA root certificate");
	if (pki_key_read(key, ca->priv, NULL, err, sizeof(err)) != CRYPTO_OK)
		cli_die("CA root key: %s", err);
	if (pki_cert_read(der, &ca->der, &ca->der_len, err, sizeof(err)) !=
	    CRYPTO_OK)
		cli_die("CA root certificate: %s", err);
	free(key);
	free(der);
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

	parse_opts(argc, argv, &o);
	need(o.dir, "--dir", "issue");
	need(o.role, "--role", "issue");
	need(o.cn, "--cn", "issue");
	need(o.out, "--out", "issue");
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
	wrote(key, "private key, mode 0600");
	wrote(pem, "certificate, PEM");
	wrote(der, "certificate, DER");
	return 0;
}

/* The two boot modules of docs/pki.md, checked with the TCB's own parsers
 * before they are written, so the tool cannot emit what the TCB refuses. */
static void write_modules(const char *keys_path, const char *certs_path,
			  const uint8_t sign_priv[48], const uint8_t kex_priv[48],
			  const struct pki_cert *sign, const struct pki_cert *kex)
{
	uint8_t keys[TCB_KEYS_LEN];
	size_t certs_len = TCB_CERTS_HDR_LEN + 8 + sign->der_len + kex->der_len;
	uint8_t *certs = malloc(certs_len);
	struct tcb_keys k;
	struct tcb_certs c;
	char err[160];
	size_t off;

	if (!certs)
		cli_die("out of memory");
	memcpy(keys, TCB_KEYS_MAGIC, TCB_MODULE_MAGIC_LEN);
	memcpy(certs, TCB_CERTS_MAGIC, TCB_MODULE_MAGIC_LEN);
	for (int i = 0; i < 4; i++) {
		keys[8 + i] = (uint8_t)(TCB_KEYS_VERSION >> (8 * i));
		certs[8 + i] = (uint8_t)(TCB_CERTS_VERSION >> (8 * i));
		certs[12 + i] = (uint8_t)(sign->der_len >> (8 * i));
		certs[16 + sign->der_len + i] = (uint8_t)(kex->der_len >> (8 * i));
	}
	memcpy(keys + 12, sign_priv, TCB_PRIV_LEN);
	memcpy(keys + 12 + TCB_PRIV_LEN, kex_priv, TCB_PRIV_LEN);
	memcpy(certs + 16, sign->der, sign->der_len);
	off = 16 + sign->der_len + 4;
	memcpy(certs + off, kex->der, kex->der_len);
	if (tcb_keys_parse(keys, sizeof(keys), &k, err, sizeof(err)) != 0 ||
	    tcb_certs_parse(certs, certs_len, &c, err, sizeof(err)) != 0) {
		crypto_wipe(keys, sizeof(keys));
		cli_die("internal error: the TCB modules do not parse: %s", err);
	}
	crypto_wipe(&k, sizeof(k));
	cli_write_new(keys_path, keys, sizeof(keys), 0600);
	crypto_wipe(keys, sizeof(keys));
	cli_write_new(certs_path, certs, certs_len, 0644);
	free(certs);
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

	parse_opts(argc, argv, &o);
	need(o.dir, "--dir", "issue-tcb");
	need(o.cn, "--cn", "issue-tcb");
	need(o.out, "--out", "issue-tcb");
	forbid(o.role, "--role (the roles are tcb-sign-dev and tcb-kex-dev)", "issue-tcb");
	check_cn(o.cn);
	/* A production identity's keys must never exist outside its TPM: the
	 * CA certifies them after TPM credential activation (not implemented
	 * yet), never as files it writes itself. */
	if (!o.dev)
		cli_die("issue-tcb issues development TCB identities only, with --dev: "
			"production TCB identities are certified after TPM credential "
			"activation, which is not implemented yet");
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
	write_modules(path[6], path[7], sign_priv, kex_priv, &sign, &kex);
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

int main(int argc, char **argv)
{
	const char *cmd;

	cli_set_prog(argv[0]);
	if (argc < 2)
		cli_usage_error("no command (init, issue or issue-tcb)");
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(cmd, "issue") == 0)
		return cmd_issue(argc - 1, argv + 1);
	if (strcmp(cmd, "issue-tcb") == 0)
		return cmd_issue_tcb(argc - 1, argv + 1);
	cli_usage_error("unknown command '%s' (init, issue or issue-tcb)", cmd);
}
