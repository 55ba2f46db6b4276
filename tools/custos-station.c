/*
 * custos-station: the offline signing station (docs/envelope.md).
 *
 *   custos-station package --station-key K --station-cert C --tcb-cert T
 *                  --image ELF --platform-id ID --tenant-ca CA [--tenant-ca ...]
 *                  --out ENVELOPE [--ca ROOT] [--policy-out F] [--allow-dev]
 *   custos-station inspect ENVELOPE [--ca ROOT]
 *   custos-station open ENVELOPE --ca ROOT --tcb-keys KEYS --tcb-certs CERTS
 *                  [--image-out F] [--policy-out F]
 *
 * package refuses inputs the TCB would refuse later (a key that does not
 * match its certificate, a target certificate that is not tcb-kex, a
 * tenant "CA" that is not a CA, a bad platform id), so mistakes show up at
 * the station, not at boot. A development TCB certificate (tcb-kex-dev:
 * its keys travel in the clear on the boot media, so whoever holds the
 * media can open the envelope) needs --allow-dev, and the output says so. open runs the TCB's own envelope_open() on the
 * host (dev mode and tests): what it accepts, the hypervisor accepts.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <custos/envelope.h>
#include "crypto/crypto.h"
#include "crypto/pki_host.h"
#include "tcb/elf_image.h"
#include "tcb/policy.h"
#include "tcb/tcb_identity.h"
#include "tcb/tcb_keys.h"
#include "tools/cli.h"
#include "tools/envelope_build.h"
#include "tools/x509_peek.h"

static const char usage_text[] =
	"usage: custos-station COMMAND [OPTIONS]\n"
	"\n"
	"The offline Custos signing station (docs/envelope.md).\n"
	"\n"
	"commands:\n"
	"  package --station-key KEY --station-cert CERT --tcb-cert TCB-kex.pem\n"
	"          --image TPGVM.elf --platform-id ID --tenant-ca CA.pem [--tenant-ca ...]\n"
	"          --out ENVELOPE [--ca ROOT.pem] [--policy-out FILE] [--allow-dev]\n"
	"      Encrypt the TPGVM image and its policy (platform id, 1..8 tenant CA\n"
	"      roots) to the TCB's key-agreement certificate, sign with the\n"
	"      station key. With --ca, both certificates must chain to ROOT;\n"
	"      without it, their roles are still checked. --policy-out also\n"
	"      writes the exact policy bytes put into the envelope (what the TCB\n"
	"      measures as the TPGVM policy: for reference values). A development\n"
	"      TCB certificate (tcb-kex-dev, from 'custos-ca issue-tcb --dev': its\n"
	"      keys are on the boot media in the clear, so anyone holding the media\n"
	"      can open the envelope) is refused unless --allow-dev is given.\n"
	"  inspect ENVELOPE [--ca ROOT.pem]\n"
	"      Print the envelope header and check its signature (and with --ca\n"
	"      the station certificate's chain). Exit status 1 if anything is\n"
	"      invalid.\n"
	"  open ENVELOPE --ca ROOT.pem --tcb-keys PREFIX-keys.bin\n"
	"          --tcb-certs PREFIX-certs.bin [--image-out FILE] [--policy-out FILE]\n"
	"      Open the envelope exactly as the TCB does (for dev mode and tests):\n"
	"      the key module is in the clear, so the certificates must be a\n"
	"      development TCB identity (tcb-sign-dev, tcb-kex-dev).\n"
	"\n"
	"Certificates may be PEM or DER. No output file is ever overwritten.\n"
	"Exit status: 0 done, 1 failed or invalid, 2 usage error.\n"
	"'custos-station --version' prints the version.\n";

#define MAX_TENANT_CAS 8

struct opts {
	const char *station_key, *station_cert, *tcb_cert, *image, *platform_id;
	const char *out, *ca, *tcb_keys, *tcb_certs, *image_out, *policy_out;
	const char *tenant_ca[MAX_TENANT_CAS];
	size_t n_tenant_ca;
	bool allow_dev;
	const char *file; /* the positional ENVELOPE */
};

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "station-key", required_argument, NULL, 'k' },
		{ "station-cert", required_argument, NULL, 'c' },
		{ "tcb-cert", required_argument, NULL, 't' },
		{ "image", required_argument, NULL, 'i' },
		{ "platform-id", required_argument, NULL, 'p' },
		{ "tenant-ca", required_argument, NULL, 'T' },
		{ "out", required_argument, NULL, 'o' },
		{ "ca", required_argument, NULL, 'a' },
		{ "tcb-keys", required_argument, NULL, 'K' },
		{ "tcb-certs", required_argument, NULL, 'C' },
		{ "image-out", required_argument, NULL, 'I' },
		{ "policy-out", required_argument, NULL, 'P' },
		{ "allow-dev", no_argument, NULL, 'D' },
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
		case 'k': o->station_key = optarg; break;
		case 'c': o->station_cert = optarg; break;
		case 't': o->tcb_cert = optarg; break;
		case 'i': o->image = optarg; break;
		case 'p': o->platform_id = optarg; break;
		case 'o': o->out = optarg; break;
		case 'a': o->ca = optarg; break;
		case 'K': o->tcb_keys = optarg; break;
		case 'C': o->tcb_certs = optarg; break;
		case 'I': o->image_out = optarg; break;
		case 'P': o->policy_out = optarg; break;
		case 'D': o->allow_dev = true; break;
		case 'T':
			if (o->n_tenant_ca == MAX_TENANT_CAS)
				cli_usage_error("at most %d --tenant-ca options",
						MAX_TENANT_CAS);
			o->tenant_ca[o->n_tenant_ca++] = optarg;
			break;
		case 'j': break; /* taken before parsing (cli_json_if_asked) */
		case 'h':
			/* argv[0] is the command: its part of the usage text. */
			if (cli_print_command_help(stdout, usage_text, argv[0],
						   "usage: custos-station ") != 0)
				fputs(usage_text, stdout);
			else
				fputs("\nExit status: 0 done, 1 failed or invalid, 2 usage error.\n"
				      "'custos-station --help' describes every command.\n", stdout);
			exit(0);
		default:
			if (optopt)
				cli_usage_error("option '%s' needs an argument",
						argv[optind - 1]);
			cli_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->file = argv[optind++];
	if (optind < argc)
		cli_usage_error("unexpected argument '%s'", argv[optind]);
}

static void need(const char *value, const char *name, const char *cmd)
{
	if (!value)
		cli_usage_error("%s needs %s", cmd, name);
}

static void init_crypto(void)
{
	int rc = crypto_init();

	if (rc != CRYPTO_OK)
		cli_die("cannot initialise the random generator: %s",
			crypto_strerror(rc));
}

/* A certificate file (PEM or DER) as DER, or die naming the option. */
static uint8_t *read_cert(const char *path, const char *what, size_t *len)
{
	char err[PKI_ERR_LEN];
	uint8_t *der;

	cli_need_file(path, what);
	if (pki_cert_read(path, &der, len, err, sizeof(err)) != CRYPTO_OK)
		cli_die("%s: %s", what, err);
	return der;
}

static void peek(const uint8_t *der, size_t len, const char *what,
		 const char *path, struct x509_peek *p)
{
	char err[160];

	if (x509_peek(der, len, p, err, sizeof(err)) != 0)
		cli_die("%s '%s': %s", what, path, err);
}

/*
 * The certificate at path must carry role: checked against the root when
 * there is one (crypto_x509_verify: chain, role, key usage), else only from
 * its extensions. Returns its DER and its public key.
 */
static uint8_t *cert_with_role(const char *path, const char *what,
			       enum crypto_role role, const uint8_t *root,
			       size_t root_len, size_t *len,
			       uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	uint8_t *der = read_cert(path, what, len);
	struct x509_peek p;
	char err[PKI_ERR_LEN];

	peek(der, *len, what, path, &p);
	if (p.is_ca)
		cli_die("%s '%s' is a CA certificate, not a %s certificate",
			what, path, x509_peek_role_name(role));
	if (p.role != (int)role)
		cli_die("%s '%s' has role %s, not %s", what, path,
			x509_peek_role_name(p.role), x509_peek_role_name(role));
	if (!p.have_pub)
		cli_die("%s '%s' does not hold a P-384 key", what, path);
	memcpy(pub, p.pub, CRYPTO_P384_PUB_LEN);
	if (root && crypto_x509_verify(der, *len, root, root_len, role, pub,
				       err, sizeof(err)) != CRYPTO_OK)
		cli_die("%s '%s' is not valid under the CA root: %s", what, path,
			err);
	return der;
}

/* ---- package ------------------------------------------------------------- */

/* The role to encrypt to: tcb-kex, or tcb-kex-dev (a development TCB) only
 * with --allow-dev. Anything else is left to cert_with_role to name. */
static enum crypto_role tcb_cert_role(const char *path, bool allow_dev)
{
	struct x509_peek p;
	size_t len;
	uint8_t *der = read_cert(path, "TCB certificate", &len);

	peek(der, len, "TCB certificate", path, &p);
	free(der);
	if (p.role != CRYPTO_ROLE_TCB_KEX_DEV)
		return CRYPTO_ROLE_TCB_KEX;
	if (!allow_dev)
		cli_die("TCB certificate '%s' is a development TCB identity (tcb-kex-dev): "
			"its private keys travel in the clear on the boot media, so whoever "
			"holds the media can open this envelope; package for it only with "
			"--allow-dev", path);
	return CRYPTO_ROLE_TCB_KEX_DEV;
}

/* The image must at least be a static x86-64 ELF the TCB could load
 * somewhere; where exactly is the TCB's business. */
static uint8_t *read_image(const char *path, size_t *len)
{
	uint8_t *img = cli_read_file(path, ENVELOPE_MAX_SIZE, len, "TPGVM image");
	struct elf_image elf;
	char err[256];

	if (elf_image_parse(img, *len, 0, UINT64_MAX & ~(uint64_t)0xfff, &elf,
			    err, sizeof(err)) != 0)
		cli_die("TPGVM image '%s' is not a loadable ELF image: %s", path,
			err);
	return img;
}

static uint8_t *make_policy(const struct opts *o, size_t *len)
{
	struct policy_cert cas[MAX_TENANT_CAS];
	struct tpgvm_policy check;
	char err[256];
	uint8_t *pol;

	for (size_t i = 0; i < o->n_tenant_ca; i++) {
		struct x509_peek p;
		size_t n;
		uint8_t *der = read_cert(o->tenant_ca[i], "tenant CA certificate",
					 &n);

		peek(der, n, "tenant CA certificate", o->tenant_ca[i], &p);
		if (!p.is_ca)
			cli_die("tenant CA certificate '%s' is not a CA certificate (role %s)",
				o->tenant_ca[i], x509_peek_role_name(p.role));
		cas[i].der = der;
		cas[i].len = n;
	}
	if (policy_build(o->platform_id, cas, o->n_tenant_ca, &pol, len, err,
			 sizeof(err)) != 0)
		cli_die("%s", err);
	/* The TCB's parser has the last word (duplicates, sizes). */
	if (policy_parse(pol, *len, &check, err, sizeof(err)) != 0)
		cli_die("policy refused: %s", err);
	return pol;
}

static int cmd_package(const struct opts *o)
{
	uint8_t station_priv[CRYPTO_P384_PRIV_LEN], key_pub[CRYPTO_P384_PUB_LEN];
	uint8_t cert_pub[CRYPTO_P384_PUB_LEN], tcb_pub[CRYPTO_P384_PUB_LEN];
	uint8_t *root = NULL, *payload, *env, *image, *policy;
	size_t root_len = 0, image_len, policy_len, payload_len, env_len;
	struct envelope_recipe r;
	struct envelope parsed;
	char err[PKI_ERR_LEN], fpr[2 * ENV_FPR_LEN + 1];
	enum crypto_role tcb_role;

	need(o->station_key, "--station-key", "package");
	need(o->station_cert, "--station-cert", "package");
	need(o->tcb_cert, "--tcb-cert", "package");
	need(o->image, "--image", "package");
	need(o->platform_id, "--platform-id", "package");
	if (o->n_tenant_ca == 0)
		cli_usage_error("package needs at least one --tenant-ca");
	need(o->out, "--out", "package");
	if (o->file)
		cli_usage_error("unexpected argument '%s'", o->file);
	if (o->tcb_keys || o->tcb_certs || o->image_out)
		cli_usage_error("package does not take the options of 'open'");
	cli_refuse_existing(o->out);
	if (o->policy_out)
		cli_refuse_existing(o->policy_out);
	init_crypto();
	if (o->ca)
		root = read_cert(o->ca, "CA root certificate", &root_len);
	r.station_cert = cert_with_role(o->station_cert, "station certificate",
					CRYPTO_ROLE_STATION, root, root_len,
					&r.station_cert_len, cert_pub);
	cli_need_file(o->station_key, "station key");
	if (pki_key_read(o->station_key, station_priv, key_pub, err,
			 sizeof(err)) != CRYPTO_OK)
		cli_die("station key: %s", err);
	if (memcmp(key_pub, cert_pub, sizeof(key_pub)) != 0)
		cli_die("station key '%s' does not match station certificate '%s'",
			o->station_key, o->station_cert);
	tcb_role = tcb_cert_role(o->tcb_cert, o->allow_dev);
	r.tcb_kex_cert = cert_with_role(o->tcb_cert, "TCB certificate", tcb_role,
					root, root_len, &r.tcb_kex_cert_len, tcb_pub);
	r.tcb_kex_pub = tcb_pub;
	image = read_image(o->image, &image_len);
	policy = make_policy(o, &policy_len);
	if (payload_build(image, image_len, policy, policy_len, &payload,
			  &payload_len, err, sizeof(err)) != 0)
		cli_die("%s", err);
	r.station_priv = station_priv;
	r.payload = payload;
	r.payload_len = payload_len;
	if (envelope_build(&r, &env, &env_len, err, sizeof(err)) != 0)
		cli_die("%s", err);
	crypto_wipe(station_priv, sizeof(station_priv));
	crypto_wipe(payload, payload_len);
	if (envelope_parse(env, env_len, &parsed, err, sizeof(err)) != 0)
		cli_die("internal error: the envelope does not parse: %s", err);
	cli_write_new(o->out, env, env_len, 0644);
	if (o->policy_out)
		cli_write_new(o->policy_out, policy, policy_len, 0644);
	cli_outputs_done();
	cli_hex(parsed.tcb_fpr, ENV_FPR_LEN, fpr);
	if (cli_json()) {
		cli_json_num("envelope_bytes", env_len);
		cli_json_num("image_bytes", image_len);
		cli_json_num("policy_bytes", policy_len);
		cli_json_str("tcb_fingerprint", fpr);
		cli_json_bool("dev_tcb", tcb_role == CRYPTO_ROLE_TCB_KEX_DEV);
		cli_wrote(o->out, "TPGVM envelope");
		if (o->policy_out)
			cli_wrote(o->policy_out, "the policy packaged in it");
		return 0;
	}
	printf("wrote %s: %zu bytes, image %zu bytes, policy %zu bytes, for TCB %s%s\n",
	       o->out, env_len, image_len, policy_len, fpr,
	       tcb_role == CRYPTO_ROLE_TCB_KEX_DEV ?
	       " (a DEVELOPMENT TCB identity, tcb-kex-dev: packaged with --allow-dev; "
	       "its keys are on the boot media in the clear)" : "");
	return 0;
}

/* ---- inspect ------------------------------------------------------------- */

static bool check_signature(const struct envelope *e, const uint8_t *buf,
			    const uint8_t pub[CRYPTO_P384_PUB_LEN])
{
	uint8_t digest[CRYPTO_SHA384_LEN];

	crypto_sha384(buf, e->signed_len, digest);
	return crypto_ecdsa_p384_verify(pub, digest, sizeof(digest),
					e->signature) == CRYPTO_OK;
}

/* The station certificate: what it says, and (with a root) whether the
 * root vouches for it. Returns false if anything is invalid. */
static bool show_station(const struct envelope *e, const uint8_t *root,
			 size_t root_len, struct x509_peek *p)
{
	char err[PKI_ERR_LEN];
	uint8_t pub[CRYPTO_P384_PUB_LEN];

	if (x509_peek(e->station_cert, e->station_cert_len, p, err,
		      sizeof(err)) != 0) {
		if (cli_json())
			cli_json_str("station_certificate", "malformed");
		else
			printf("station certificate: %zu bytes, MALFORMED (%s)\n",
			       e->station_cert_len, err);
		return false;
	}
	if (cli_json()) {
		cli_json_str("station_subject_cn", p->subject_cn);
		cli_json_str("station_issuer_cn", p->issuer_cn);
		cli_json_str("station_role", x509_peek_role_name(p->role));
	} else {
		printf("station certificate: %zu bytes, subject CN=%s, issuer CN=%s, role %s\n",
		       e->station_cert_len, p->subject_cn, p->issuer_cn,
		       x509_peek_role_name(p->role));
	}
	if (!root) {
		if (cli_json())
			cli_json_str("station_chain", "not checked");
		else
			printf("station chain: not checked (no --ca)\n");
		return true;
	}
	if (crypto_x509_verify(e->station_cert, e->station_cert_len, root,
			       root_len, CRYPTO_ROLE_STATION, pub, err,
			       sizeof(err)) != CRYPTO_OK) {
		if (cli_json())
			cli_json_str("station_chain", "invalid");
		else
			printf("station chain: INVALID (%s)\n", err);
		return false;
	}
	if (cli_json())
		cli_json_str("station_chain", "valid");
	else
		printf("station chain: valid (station role, signed by the CA root)\n");
	return true;
}

static int cmd_inspect(const struct opts *o)
{
	uint8_t *buf, *root = NULL;
	size_t len, root_len = 0;
	struct envelope e;
	struct x509_peek p;
	char err[256], fpr[2 * ENV_FPR_LEN + 1], eph[2 * ENV_PUB_LEN + 1];
	char iv[2 * ENV_IV_LEN + 1];
	bool ok;

	memset(&p, 0, sizeof(p));
	if (!o->file)
		cli_usage_error("inspect needs an ENVELOPE file");
	if (o->station_key || o->station_cert || o->tcb_cert || o->image ||
	    o->platform_id || o->n_tenant_ca || o->out || o->tcb_keys ||
	    o->tcb_certs || o->image_out || o->policy_out || o->allow_dev)
		cli_usage_error("inspect only takes ENVELOPE and --ca");
	/* One byte over the limit, so an oversize file reaches the parser
	 * and gets its message. */
	buf = cli_read_file(o->file, ENVELOPE_MAX_SIZE + 1, &len, "envelope");
	if (o->ca)
		root = read_cert(o->ca, "CA root certificate", &root_len);
	if (envelope_parse(buf, len, &e, err, sizeof(err)) != 0)
		cli_die("'%s' is not a valid envelope: %s", o->file, err);
	init_crypto();
	cli_hex(e.tcb_fpr, ENV_FPR_LEN, fpr);
	cli_hex(e.eph_pub, ENV_PUB_LEN, eph);
	cli_hex(e.iv, ENV_IV_LEN, iv);
	if (cli_json()) {
		cli_json_str("envelope", o->file);
		cli_json_num("format_version", e.version);
		cli_json_num("bytes", len);
		cli_json_num("header_bytes", e.header_len);
		cli_json_num("payload_bytes", e.payload_len);
		cli_json_str("tcb_fingerprint", fpr);
		cli_json_str("ephemeral_key", eph);
		cli_json_str("iv", iv);
	} else {
		printf("envelope: %s\n", o->file);
		printf("format version: %u\n", e.version);
		printf("size: %zu bytes (header %zu, payload %zu, tag %u, signature %u)\n",
		       len, e.header_len, e.payload_len, ENV_TAG_LEN, ENV_SIG_LEN);
		printf("TCB fingerprint: %s\n", fpr);
		printf("ephemeral key: %s\n", eph);
		printf("IV: %s\n", iv);
	}
	ok = show_station(&e, root, root_len, &p);
	if (!p.have_pub && ok) {
		if (!cli_json())
			printf("station certificate: holds no P-384 key\n");
		ok = false;
	}
	if (p.have_pub && check_signature(&e, buf, p.pub)) {
		if (cli_json())
			cli_json_bool("signature_valid", true);
		else
			printf("signature: valid\n");
	} else {
		if (cli_json())
			cli_json_bool("signature_valid", false);
		else
			printf("signature: INVALID\n");
		ok = false;
	}
	fflush(stdout);
	if (!ok)
		cli_die("envelope '%s' is INVALID", o->file);
	return 0;
}

/* ---- open (the TCB's code, on the host) ---------------------------------- */

static int cmd_open(const struct opts *o)
{
	uint8_t *buf, *root, *keys_buf, *certs_buf;
	size_t len, root_len, keys_len, certs_len;
	struct tcb_keys keys;
	struct tcb_certs certs;
	struct envelope_payload pl;
	struct tpgvm_policy pol;
	char err[256];
	int rc;

	if (!o->file)
		cli_usage_error("open needs an ENVELOPE file");
	need(o->ca, "--ca", "open");
	need(o->tcb_keys, "--tcb-keys", "open");
	need(o->tcb_certs, "--tcb-certs", "open");
	if (o->image_out)
		cli_refuse_existing(o->image_out);
	if (o->policy_out)
		cli_refuse_existing(o->policy_out);
	buf = cli_read_file(o->file, ENVELOPE_MAX_SIZE + 1, &len, "envelope");
	root = read_cert(o->ca, "CA root certificate", &root_len);
	keys_buf = cli_read_file(o->tcb_keys, 4096, &keys_len, "TCB key module");
	certs_buf = cli_read_file(o->tcb_certs, 65536, &certs_len,
				  "TCB certificate module");
	if (tcb_keys_parse(keys_buf, keys_len, &keys, err, sizeof(err)) != 0)
		cli_die("'%s': %s", o->tcb_keys, err);
	crypto_wipe(keys_buf, keys_len);
	if (tcb_certs_parse(certs_buf, certs_len, &certs, err, sizeof(err)) != 0)
		cli_die("'%s': %s", o->tcb_certs, err);
	init_crypto();
	/* As the TCB does: plaintext keys only with a development identity. */
	if (tcb_identity_check_plaintext(&keys, &certs, root, root_len, err,
					 sizeof(err)) != 0) {
		crypto_wipe(&keys, sizeof(keys));
		cli_die("'%s': TCB identity refused: %s", o->tcb_certs, err);
	}
	rc = envelope_open(buf, len, root, root_len, certs.kex_cert,
			   certs.kex_cert_len, keys.kex_priv, &pl, err,
			   sizeof(err));
	crypto_wipe(&keys, sizeof(keys));
	if (rc != ENV_OPEN_OK)
		cli_die("%s", err);
	if (policy_parse(pl.policy, pl.policy_len, &pol, err, sizeof(err)) != 0)
		cli_die("envelope policy: %s", err);
	if (cli_json()) {
		cli_json_bool("opened", true);
		cli_json_num("image_bytes", pl.image_len);
		cli_json_num("policy_bytes", pl.policy_len);
		cli_json_str("platform_id", pol.platform_id);
		cli_json_num("tenant_ca_count", pol.tenant_ca_count);
	} else {
		printf("envelope: opened\n");
		printf("image: %zu bytes\n", pl.image_len);
		printf("policy: %zu bytes, platform id \"%s\", %zu tenant CA certificate%s\n",
		       pl.policy_len, pol.platform_id, pol.tenant_ca_count,
		       pol.tenant_ca_count == 1 ? "" : "s");
	}
	if (o->image_out)
		cli_write_new(o->image_out, pl.image, pl.image_len, 0600);
	if (o->policy_out)
		cli_write_new(o->policy_out, pl.policy, pl.policy_len, 0600);
	cli_outputs_done();
	if (o->image_out && cli_json())
		cli_wrote(o->image_out, "the TPGVM image");
	if (o->policy_out && cli_json())
		cli_wrote(o->policy_out, "its policy");
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	const char *cmd;

	cli_set_prog(argv[0]);
	cli_remove_outputs_on_signals();
	cli_version_if_asked(argc, argv, "custos-station");
	if (argc < 2)
		cli_usage_error("no command (package, inspect or open)");
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(cmd, "package") && strcmp(cmd, "inspect") && strcmp(cmd, "open"))
		cli_usage_error("unknown command '%s' (package, inspect or open)",
				cmd);
	cli_json_if_asked(argc, argv, cmd);
	parse_opts(argc - 1, argv + 1, &o);
	if (strcmp(cmd, "package") == 0)
		return cmd_package(&o);
	if (strcmp(cmd, "inspect") == 0)
		return cmd_inspect(&o);
	return cmd_open(&o);
}
