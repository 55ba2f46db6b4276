/*
 * custos attest (tools/attest.h, docs/tenant-cli.md).
 *
 * Order of work: read every local input first (CA root, reference, and the
 * tenant's certificate and key in tenant_tls_open), so a typo fails before
 * the network is touched; then TLS to the TPGVM through the relay, one
 * ATTEST_REQ with a fresh nonce, one answer. Then, in order: report chain
 * and role, signature, nonce, TLS key binding, DEV (report_verify),
 * the measurement log's encoding, the platform id and every measurement
 * against the reference. The first failure is the reason.
 *
 * Production or DEV is decided from evidence only (report_verify, and the
 * TPM evidence: a quote by an enrolled attestation key, and a signing key
 * that key certified to be TPM-resident). A report's TPM evidence is
 * checked (tools/tpm_evidence.c) before the reference: a quote that fails
 * is a refusal, and so is a claim of TPM-resident keys that the evidence
 * does not back. The report's key protection and launch mode are shown as
 * backed only when that evidence backs them; otherwise, like its debug
 * field, as its signer's word.
 *
 * Nothing secret is printed: the tenant's key is only handed to mbedTLS.
 */
#include "tools/attest.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <custos/proto.h>
#include <custos/report.h>
#include "crypto/crypto.h"
#include "crypto/pki_host.h"
#include "tcb/tcg_log_parse.h"
#include "tools/cli.h"
#include "tools/reference.h"
#include "tools/reference_sig.h"
#include "tools/tenant_config.h"
#include "tools/tenant_tls.h"

static const char usage_text[] =
	"usage: custos attest --relay HOST:PORT --ca ROOT.pem --cert TENANT.pem\n"
	"                     --key TENANT.key [--reference REFERENCE.json]\n"
	"                     [--reference-sig FILE] [--require-signed-reference]\n"
	"                     [--allow-dev] [--json] [--timeout SECONDS]\n"
	"                     [--nonce-hex HEX] [--save-report FILE]\n"
	"\n"
	"Connect through the relay to the platform's TPGVM over TLS with the\n"
	"tenant certificate, ask for a platform report over a fresh random nonce\n"
	"and verify it: the report's certificate chains to ROOT with a TCB\n"
	"signing role, its signature, the nonce, that it vouches for the TLS key\n"
	"of this very connection, that the platform is not DEV (unless\n"
	"--allow-dev), and with --reference that the platform id and every\n"
	"measurement (hypervisor, command line, CA root, TPGVM image and policy)\n"
	"equal the build's reference values (make writes build/reference.json).\n"
	"Without --reference the measurements are shown but not compared.\n"
	"A reference with a signature (REFERENCE.json.sig beside it, from\n"
	"custos-ca sign-reference, or --reference-sig) is used only if the\n"
	"signature verifies with the --ca root; one without is used as it is\n"
	"and reported UNSIGNED (refused with --require-signed-reference).\n"
	"\n"
	"A platform is production only if evidence its key holder cannot forge\n"
	"backs it: a TPM quote by an enrolled attestation key, and a report signed\n"
	"by a TCB key that attestation key certified to live in the TPM. Anything\n"
	"else is DEV, a development TCB identity (tcb-sign-dev) included. The\n"
	"report's key protection and launch mode are shown as backed only then;\n"
	"otherwise, like its debug field, as its unbacked claims.\n"
	"\n"
	"options:\n"
	"  --relay HOST:PORT     where custos-relay listens for tenants\n"
	"  --ca ROOT.pem         the CA root the platform's TCB must chain to\n"
	"  --cert, --key         the tenant's certificate and private key\n"
	"  --reference FILE      reference values to compare the log with\n"
	"  --reference-sig FILE  the CA's signature of the reference (default:\n"
	"                        the reference's name with .sig, if present)\n"
	"  --require-signed-reference  refuse a reference without a signature\n"
	"  --allow-dev           accept a DEV platform (development only)\n"
	"  --json                print one JSON object on stdout\n"
	"  --timeout SECONDS     give up after this long in all (default 120)\n"
	"  --nonce-hex HEX       use this nonce (32..64 bytes; testing only)\n"
	"  --save-report FILE    write the report as received (a new file)\n"
	"\n"
	"  --profile NAME        the configuration file's profile (below)\n"
	"\n"
	"Environment: CUSTOS_RELAY, CUSTOS_CA, CUSTOS_CERT, CUSTOS_KEY,\n"
	"CUSTOS_REFERENCE and CUSTOS_ALLOW_DEV=1 stand for the options of the\n"
	"same name when those are not given (an option wins). What neither\n"
	"gives comes from the profile (--profile, CUSTOS_PROFILE, or [default])\n"
	"of ~/.config/custos/config (CUSTOS_CONFIG names another file).\n"
	"\n"
	"Exit status:\n"
	"  0  verified\n"
	"  1  verification failed: a reference signature that does not verify\n"
	"     (or none with --require-signed-reference), report chain, role or\n"
	"     signature, nonce, TLS\n"
	"     key binding, DEV platform without --allow-dev, reference mismatch,\n"
	"     or TLS saw the channel tampered with (bad record MAC, bad Finished,\n"
	"     undecodable records) or a malformed answer\n"
	"  2  could not run: usage, unreadable files, cannot connect, timeout,\n"
	"     connection closed early\n"
	"  3  refused by the platform: it rejected our credentials (TLS alert\n"
	"     unknown_ca, bad_certificate, certificate_unknown, access_denied)\n"
	"     or answered with an error message\n"
	"  4  the peer at --relay is not a Custos relay: it did not answer TLS\n";

#define DEFAULT_TIMEOUT 120.0
#define NONCE_LEN 32u

struct opts {
	struct attest_conn c;
	const char *save_report;
	const char *nonce_hex;
	bool json;
};

#define outcome attest_outcome

static const char *result_name(int status)
{
	switch (status) {
	case ATTEST_EXIT_VERIFIED: return "verified";
	case ATTEST_EXIT_FAILED: return "failed";
	case ATTEST_EXIT_REFUSED: return "refused";
	case ATTEST_EXIT_NOT_CUSTOS: return "not-custos";
	default: return "error";
	}
}

const char *attest_verdict(int status)
{
	return status == ATTEST_EXIT_FAILED ? "FAILED" :
	       status == ATTEST_EXIT_REFUSED ? "REFUSED" : "ERROR";
}

static int set_reason(struct outcome *o, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int set_reason(struct outcome *o, int status, const char *fmt, ...)
{
	va_list ap;

	/* One printable line whatever the platform put into it. */
	va_start(ap, fmt);
	cli_vformat_line(o->reason, sizeof(o->reason), fmt, ap);
	va_end(ap);
	o->status = status;
	return status;
}

static void usage_error(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("custos attest: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'custos attest --help'.\n", stderr);
	exit(ATTEST_EXIT_ERROR);
}

int attest_conn_opt(struct attest_conn *c, int opt, const char *arg)
{
	char *end;
	double v;

	switch (opt) {
	case 'r': c->relay = arg; return 1;
	case 'a': c->ca = arg; return 1;
	case 'c': c->cert = arg; return 1;
	case 'k': c->key = arg; return 1;
	case 'R': c->reference = arg; return 1;
	case ATTEST_OPT_REFERENCE_SIG: c->reference_sig = arg; return 1;
	case ATTEST_OPT_REQUIRE_SIGNED: c->require_signed = true; return 1;
	case 'D': c->allow_dev = true; return 1;
	case 'P': c->profile = arg; return 1;
	case 't':
		errno = 0;
		v = strtod(arg, &end);
		if (errno || end == arg || *end || !(v > 0) || v > 86400)
			return -1;
		c->timeout = v;
		return 1;
	default: return 0;
	}
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		ATTEST_CONN_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "nonce-hex", required_argument, NULL, 'n' },
		{ "save-report", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bad;
	int c;

	memset(o, 0, sizeof(*o));
	o->c.timeout = DEFAULT_TIMEOUT;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int taken = attest_conn_opt(&o->c, c, optarg);

		if (taken < 0)
			usage_error("--timeout wants seconds in (0, 86400], not '%s'",
				    optarg);
		if (taken)
			continue;
		switch (c) {
		case 'j': o->json = true; break;
		case 'n': o->nonce_hex = optarg; break;
		case 's': o->save_report = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default:
			if (optopt)
				usage_error("option '%s' needs an argument",
					    argv[optind - 1]);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	attest_conn_from_env(&o->c);
	bad = attest_conn_check(&o->c);
	if (bad)
		usage_error("%s", bad);
}

/* HOST:PORT, [V6]:PORT, into caller buffers. 0 or -1. */
static int split_relay(const char *s, char *host, size_t host_cap, char *port,
		       size_t port_cap)
{
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t hl;

	if (!colon || colon == s || !colon[1])
		return -1;
	hl = (size_t)(colon - s);
	if (s[0] == '[' && colon[-1] == ']') {
		h = s + 1;
		hl -= 2;
	}
	if (hl == 0 || hl >= host_cap || strlen(colon + 1) >= port_cap ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

/* Why the configuration file could not be used (attest_conn_check says
 * it); empty if it could. */
static char config_error[512];

/* The settings of the configuration file's profile for what neither an
 * option nor a variable gave. They live as long as the process. */
static void conn_from_config(struct attest_conn *c)
{
	static struct tenant_config cfg;

	tenant_config_free(&cfg);
	config_error[0] = '\0';
	if (tenant_config_load(NULL, c->profile, &cfg, config_error,
			       sizeof(config_error)) != 0)
		return;
	if (!c->relay)
		c->relay = cfg.relay;
	if (!c->ca)
		c->ca = cfg.ca;
	if (!c->cert)
		c->cert = cfg.cert;
	if (!c->key)
		c->key = cfg.key;
	if (!c->reference)
		c->reference = cfg.reference;
	if (!c->allow_dev && !getenv("CUSTOS_ALLOW_DEV") && cfg.allow_dev == 1)
		c->allow_dev = true;
}

void attest_conn_from_env(struct attest_conn *c)
{
	const char *v;

	if (!c->relay)
		c->relay = getenv("CUSTOS_RELAY");
	if (!c->ca)
		c->ca = getenv("CUSTOS_CA");
	if (!c->cert)
		c->cert = getenv("CUSTOS_CERT");
	if (!c->key)
		c->key = getenv("CUSTOS_KEY");
	if (!c->reference) {
		c->reference = getenv("CUSTOS_REFERENCE");
		if (c->reference && !*c->reference)
			c->reference = NULL;
	}
	v = getenv("CUSTOS_ALLOW_DEV");
	if (!c->allow_dev && v && strcmp(v, "1") == 0)
		c->allow_dev = true;
	conn_from_config(c);
}

const char *attest_conn_check(const struct attest_conn *c)
{
	char host[256], port[16];

	if (config_error[0])
		return config_error;
	if (!c->relay || !*c->relay)
		return "needs --relay HOST:PORT (or CUSTOS_RELAY), or relay in the configuration file";
	if (!c->ca || !*c->ca)
		return "needs --ca ROOT.pem (or CUSTOS_CA), or ca in the configuration file";
	if (!c->cert || !*c->cert)
		return "needs --cert TENANT.pem (or CUSTOS_CERT), or cert in the configuration file";
	if (!c->key || !*c->key)
		return "needs --key TENANT.key (or CUSTOS_KEY), or key in the configuration file";
	if (split_relay(c->relay, host, sizeof(host), port, sizeof(port)) != 0)
		return "--relay wants HOST:PORT";
	return NULL;
}

int attest_nonce_from_hex(const char *s, struct attest_outcome *out)
{
	size_t n = strlen(s);

	if (n % 2 || n / 2 < REPORT_NONCE_MIN || n / 2 > REPORT_NONCE_MAX)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = cli_hexval(s[2 * i]), lo = cli_hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out->nonce[i] = (uint8_t)(hi << 4 | lo);
	}
	out->nonce_len = n / 2;
	return 0;
}

static void nonce_from_hex(const char *s, struct outcome *out)
{
	if (attest_nonce_from_hex(s, out) != 0)
		usage_error("--nonce-hex wants %u..%u bytes in hex", REPORT_NONCE_MIN,
			    REPORT_NONCE_MAX);
}

/* ---- Output ------------------------------------------------------------- */

void attest_json_string(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

static void json_hex(const uint8_t *p, size_t n)
{
	char hex[2 * REPORT_NONCE_MAX + 1];

	cli_hex(p, n, hex);
	printf("\"%s\"", hex);
}

const char *attest_key_protection_name(uint32_t v)
{
	return v == REPORT_KEYS_TPM ? "tpm" : v == REPORT_KEYS_DEV ? "dev" : "unknown";
}

const char *attest_launch_mode_name(uint32_t v)
{
	switch (v) {
	case REPORT_LAUNCH_DEV: return "dev";
	case REPORT_LAUNCH_SRTM: return "srtm";
	case REPORT_LAUNCH_DRTM: return "drtm";
	default: return "unknown";
	}
}

const char *attest_event_type_name(uint32_t t, char buf[16])
{
	const char *n = reference_event_type_name(t);

	if (n)
		return n;
	snprintf(buf, 16, "0x%08x", t);
	return buf;
}

void attest_dev_reasons_text(uint32_t why, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (uint32_t bit = 1; bit & REPORT_DEV_ALL; bit <<= 1)
		if ((why & bit) && n < len)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "; " : "",
					      report_dev_reason_text(bit));
}

void attest_json_dev(const struct report_verdict *v)
{
	const char *sep = "";

	printf("\"dev\": %s, \"dev_reasons\": [", v->dev_reasons ? "true" : "false");
	for (uint32_t bit = 1; bit & REPORT_DEV_ALL; bit <<= 1) {
		if (v->dev_reasons & bit) {
			printf("%s\"%s\"", sep, report_dev_reason_name(bit));
			sep = ", ";
		}
	}
	printf("]");
}

/* The report's key protection and launch mode as its TPM evidence backs
 * them: keys the enrolled attestation key certified to live in the TPM
 * (tpm_evidence_check refuses a report that claims that falsely), and a
 * launch the quoted firmware log shows GRUB measured. */
static bool claims_backed(const struct outcome *o)
{
	return o->have_tpm && o->tpm.tcb_keys_in_tpm && o->tpm.ak_certified &&
	       o->tpm.firmware_log && o->report.key_protection == REPORT_KEYS_TPM &&
	       o->report.launch_mode == REPORT_LAUNCH_SRTM;
}

static void print_json_tpm(const struct outcome *o);

static void print_json(const struct attest_conn *c, const struct outcome *o)
{
	const struct report *r = &o->report;
	char tb[16];

	printf("{\"result\": \"%s\", \"exit_status\": %d, \"command\": \"attest\", \"reason\": ",
	       result_name(o->status), o->status);
	attest_json_string(o->reason, strlen(o->reason));
	printf(", \"relay\": ");
	if (c->relay)
		attest_json_string(c->relay, strlen(c->relay));
	else
		printf("null");
	printf(", \"nonce\": ");
	if (o->nonce_len)
		json_hex(o->nonce, o->nonce_len);
	else
		printf("null");
	printf(", \"tls_key_sha384\": ");
	if (o->have_tls_key || (o->offline && o->have_report))
		json_hex(o->tls_key_hash, RPT_TLS_HASH_LEN);
	else
		printf("null");
	printf(", \"tls_key_match\": %s", o->offline ? "null" : o->have_report ? "true" :
	       o->tls_key_mismatch ? "false" : "null");
	if (o->have_report) {
		printf(", \"platform_id\": ");
		attest_json_string(r->platform_id, r->platform_id_len);
		printf(", ");
		attest_json_dev(&o->verdict);
		printf(", \"identity\": \"%s\"",
		       o->verdict.dev_identity ? "tcb-sign-dev" : "tcb-sign");
		printf(", \"claims\": {\"key_protection\": \"%s\", \"launch_mode\": \"%s\", \"debug\": [%s], \"backed_by_evidence\": %s}",
		       attest_key_protection_name(r->key_protection),
		       attest_launch_mode_name(r->launch_mode),
		       r->debug & REPORT_DEBUG_CONSOLE_MIRROR ? "\"console-mirror\"" : "",
		       claims_backed(o) ? "true" : "false");
	} else {
		printf(", \"platform_id\": null, \"dev\": null, \"dev_reasons\": null, \"identity\": null, \"claims\": null");
	}
	print_json_tpm(o);
	printf(", \"allow_dev\": %s", c->allow_dev ? "true" : "false");
	printf(", \"reference\": ");
	if (c->reference)
		attest_json_string(c->reference, strlen(c->reference));
	else
		printf("null");
	printf(", \"reference_signature\": %s",
	       o->ref_sig == ATTEST_REF_SIGNED ? "\"verified\"" :
	       o->ref_sig == ATTEST_REF_UNSIGNED ? "\"unsigned\"" : "null");
	printf(", \"measurements_match\": %s",
	       !o->compared ? "null" : o->status == ATTEST_EXIT_VERIFIED ? "true" : "false");
	printf(", \"boot_vms\": ");
	if (!o->have_log) {
		printf("null");
	} else {
		const char *sep = "";

		printf("[");
		for (size_t i = 0; i < o->log.count; i++) {
			const struct tcg_event *e = &o->log.events[i];
			const char *name = reference_boot_vm_name(e);

			if (!name)
				continue;
			printf("%s{\"name\": \"%s\", \"sha384\": ", sep, name);
			json_hex(e->digest, MEASURE_DIGEST_LEN);
			printf("}");
			sep = ", ";
		}
		printf("]");
	}
	printf(", \"measurements\": ");
	if (!o->have_log) {
		printf("null");
	} else {
		printf("[");
		for (size_t i = 0; i < o->log.count; i++) {
			const struct tcg_event *e = &o->log.events[i];

			printf("%s{\"pcr\": %u, \"type\": \"%s\", \"description\": ",
			       i ? ", " : "", e->pcr, attest_event_type_name(e->event_type, tb));
			attest_json_string(e->desc, strlen(e->desc));
			printf(", \"sha384\": ");
			json_hex(e->digest, MEASURE_DIGEST_LEN);
			printf("}");
		}
		printf("]");
	}
	printf("}\n");
}

/* The VMs from boot modules, from the signed log: what runs beside the
 * TPGVM and is no tenant's. */
static void print_boot_vms(const struct outcome *o)
{
	char hex[2 * MEASURE_DIGEST_LEN + 1];
	size_t n = 0;

	for (size_t i = 0; i < o->log.count; i++)
		n += reference_boot_vm_name(&o->log.events[i]) != NULL;
	if (n == 0) {
		printf("boot VMs: none (no VM beside the TPGVM but tenants' own)\n");
		return;
	}
	printf("boot VMs: %zu beside the TPGVM (not tenants' VMs):\n", n);
	for (size_t i = 0; i < o->log.count; i++) {
		const char *name = reference_boot_vm_name(&o->log.events[i]);

		if (!name)
			continue;
		cli_hex(o->log.events[i].digest, MEASURE_DIGEST_LEN, hex);
		printf("  %s sha384 %s\n", name, hex);
	}
}

static void print_tpm(const struct outcome *o)
{
	char hex[2 * 48 + 1];

	if (!o->have_report)
		return;
	if (!o->report.tpm_len) {
		printf("TPM: no quote (the platform has no usable TPM)\n");
		return;
	}
	if (!o->have_tpm)
		return;
	cli_hex(o->tpm.ak_sha384, 48, hex);
	printf("TPM quote: verified over this report by attestation key sha384 %.16s... "
	       "(%s); the measurement log replays to PCRs 12-15", hex,
	       o->tpm.ak_certified ? "certified by the CA: tcb-ak, enrolled" :
	       "NOT certified: the platform's TPM is not enrolled");
	if (o->tpm.firmware_log)
		printf(", the firmware's event log (%zu events) to PCRs 0-11%s\n",
		       o->tpm.firmware_events, o->tpm.launch_checked ?
		       "; in it GRUB loaded the reference's kernel and command line" : "");
	else
		printf("; no firmware event log: PCRs 0-11 are not accounted for\n");
	if (o->tpm.tcb_keys_in_tpm)
		printf("TCB keys: TPM-resident (the attestation key certified them, usable "
		       "only on launches the CA approved); this report is signed by one\n");
}

static void print_json_tpm(const struct outcome *o)
{
	printf(", \"tpm\": ");
	if (!o->have_report || !o->report.tpm_len) {
		printf("null");
		return;
	}
	if (!o->have_tpm) {
		printf("{\"quote_verified\": false}");
		return;
	}
	printf("{\"quote_verified\": true, \"ak_certified\": %s, \"ak_sha384\": ",
	       o->tpm.ak_certified ? "true" : "false");
	json_hex(o->tpm.ak_sha384, 48);
	printf(", \"launch_matches_reference\": %s", o->tpm.launch_checked ? "true" : "false");
	printf(", \"tcb_keys_in_tpm\": %s", o->tpm.tcb_keys_in_tpm ? "true" : "false");
	printf(", \"pcr_mask\": %u, \"firmware_log_events\": ", o->tpm.pcr_mask);
	if (o->tpm.firmware_log)
		printf("%zu}", o->tpm.firmware_events);
	else
		printf("null}");
}

static void print_human(const char *prog, const struct attest_conn *c,
			const struct outcome *o)
{
	const struct report *r = &o->report;
	char hex[2 * REPORT_NONCE_MAX + 1];

	if (o->status == ATTEST_EXIT_VERIFIED)
		printf("%s: VERIFIED%s\n", prog, o->verdict.dev_reasons ?
		       " (DEV platform, accepted with --allow-dev)" : "");
	if (o->have_report) {
		char why[512];

		printf("platform: %.*s\n", (int)r->platform_id_len, r->platform_id);
		if (o->verdict.dev_reasons) {
			attest_dev_reasons_text(o->verdict.dev_reasons, why, sizeof(why));
			printf("DEV: %s\n", why);
		}
		/* The signer's own word, unless the TPM evidence backs it. */
		printf("claims (%s): key protection %s, launch mode %s, debug %s\n",
		       claims_backed(o) ? "backed by the TPM evidence below" :
		       "unbacked, the report's own word",
		       attest_key_protection_name(r->key_protection),
		       attest_launch_mode_name(r->launch_mode),
		       r->debug & REPORT_DEBUG_CONSOLE_MIRROR ? "console-mirror" : "none");
		cli_hex(o->tls_key_hash, RPT_TLS_HASH_LEN, hex);
		printf("TLS key: sha384 %s, the one the report vouches for%s\n", hex,
		       o->offline ? " (not checked: a saved report has no connection "
		       "to compare it with)" : "");
	}
	print_tpm(o);
	if (o->have_tls_key || (o->offline && o->nonce_len)) { /* the nonce went out */
		cli_hex(o->nonce, o->nonce_len, hex);
		printf("nonce: %s\n", hex);
	}
	if (o->ref_sig == ATTEST_REF_SIGNED)
		printf("reference: %s, signed by the CA root (%s verified)\n",
		       c->reference, o->ref_sig_path);
	else if (o->ref_sig == ATTEST_REF_UNSIGNED)
		printf("reference: %s, UNSIGNED (no %s): its values are only as "
		       "good as where you got the file\n", c->reference,
		       o->ref_sig_path);
	if (o->have_log) {
		if (o->compared && o->status == ATTEST_EXIT_VERIFIED)
			printf("measurements: %zu, all match %s\n", o->log.count,
			       c->reference);
		else if (!c->reference)
			printf("measurements: %zu, NOT compared (no --reference)\n",
			       o->log.count);
		else
			printf("measurements: %zu\n", o->log.count);
		print_boot_vms(o);
	}
	if (o->status != ATTEST_EXIT_VERIFIED)
		fprintf(stderr, "%s: %s: %s\n", prog, attest_verdict(o->status),
			o->reason);
}

void attest_print(const char *prog, const struct attest_conn *c,
		  const struct attest_outcome *o, bool json)
{
	if (!json) {
		print_human(prog, c, o);
		return;
	}
	print_json(c, o);
	if (o->status != ATTEST_EXIT_VERIFIED)
		fprintf(stderr, "%s: %s: %s\n", prog, attest_verdict(o->status), o->reason);
}

/* ---- The run ------------------------------------------------------------ */

int attest_tls_exit(int st)
{
	switch (st) {
	case TT_E_REFUSED: return ATTEST_EXIT_REFUSED;
	case TT_E_NOT_TLS: return ATTEST_EXIT_NOT_CUSTOS;
	case TT_E_INTEGRITY:
	case TT_E_PROTOCOL: return ATTEST_EXIT_FAILED;
	default: return ATTEST_EXIT_ERROR;
	}
}

/*
 * The reference's signature, checked before anything in the reference is
 * believed: REFERENCE.sig (or --reference-sig). Absent (only the default
 * name may be): the reference is used unsigned, as it always was, unless
 * --require-signed-reference. Present: it must verify with the --ca root.
 */
static int read_reference_sig(const struct attest_conn *c, const uint8_t *json,
			      size_t len, const struct attest_inputs *in,
			      struct attest_outcome *o)
{
	const char *path = o->ref_sig_path;
	char err[PKI_ERR_LEN];
	uint8_t sig[REFERENCE_SIG_LEN + 1];
	size_t n;
	FILE *f;

	if ((size_t)snprintf(o->ref_sig_path, sizeof(o->ref_sig_path), "%s%s",
			     c->reference_sig ? c->reference_sig : c->reference,
			     c->reference_sig ? "" : ".sig") >= sizeof(o->ref_sig_path))
		return set_reason(o, ATTEST_EXIT_ERROR, "reference path too long");
	f = fopen(path, "rb");
	if (!f && errno == ENOENT && !c->reference_sig) {
		o->ref_sig = ATTEST_REF_UNSIGNED;
		if (c->require_signed)
			return set_reason(o, ATTEST_EXIT_FAILED,
					  "reference '%s' is unsigned (no '%s'), and "
					  "--require-signed-reference was given",
					  c->reference, path);
		return ATTEST_EXIT_VERIFIED;
	}
	if (!f)
		return set_reason(o, ATTEST_EXIT_ERROR,
				  "cannot read reference signature '%s': %s", path,
				  strerror(errno));
	n = fread(sig, 1, sizeof(sig), f);
	if (ferror(f)) {
		fclose(f);
		return set_reason(o, ATTEST_EXIT_ERROR,
				  "cannot read reference signature '%s'", path);
	}
	fclose(f);
	if (reference_sig_verify(json, len, sig, n, in->root, in->root_len, err,
				 sizeof(err)) != 0)
		return set_reason(o, ATTEST_EXIT_FAILED,
				  "reference '%s' refused: its signature '%s' does not "
				  "verify with the CA root '%s': %s",
				  c->reference, path, c->ca, err);
	o->ref_sig = ATTEST_REF_SIGNED;
	return ATTEST_EXIT_VERIFIED;
}

int attest_read_inputs(const struct attest_conn *c, struct attest_inputs *in,
		       struct attest_outcome *o)
{
	char err[PKI_ERR_LEN];

	if (pki_cert_read(c->ca, &in->root, &in->root_len, err, sizeof(err)) != CRYPTO_OK)
		return set_reason(o, ATTEST_EXIT_ERROR, "CA root '%s': %s", c->ca, err);
	if (c->reference) {
		FILE *f = fopen(c->reference, "rb");
		char *buf;
		size_t n;
		int rc;

		if (!f)
			return set_reason(o, ATTEST_EXIT_ERROR,
					  "cannot read reference '%s': %s",
					  c->reference, strerror(errno));
		buf = malloc(REFERENCE_MAX_SIZE + 1);
		n = buf ? fread(buf, 1, REFERENCE_MAX_SIZE + 1, f) : 0;
		rc = !buf || ferror(f);
		fclose(f);
		if (rc) {
			free(buf);
			return set_reason(o, ATTEST_EXIT_ERROR,
					  "cannot read reference '%s'", c->reference);
		}
		rc = read_reference_sig(c, (const uint8_t *)buf, n, in, o);
		if (rc == ATTEST_EXIT_VERIFIED &&
		    reference_parse(buf, n, &in->ref, err, sizeof(err)) != 0)
			rc = set_reason(o, ATTEST_EXIT_ERROR,
					"reference '%s' is not valid: %s",
					c->reference, err);
		free(buf);
		return rc;
	}
	return ATTEST_EXIT_VERIFIED;
}

/* The error message of a PROTO_ERROR body (checked by proto_parse). */
static int platform_error(struct outcome *o, const struct proto_msg *m)
{
	uint32_t code = m->len >= 4 ? (uint32_t)m->body[0] | (uint32_t)m->body[1] << 8 |
		(uint32_t)m->body[2] << 16 | (uint32_t)m->body[3] << 24 : 0;
	const char *name = code == PROTO_ERR_BAD_REQUEST ? "bad request" :
		code == PROTO_ERR_INTERNAL ? "internal error" :
		code == PROTO_ERR_BUSY ? "busy" : "error";

	return set_reason(o, ATTEST_EXIT_REFUSED,
			  "the platform answered with an error (%s, code %u): %.*s",
			  name, code, m->len > 4 ? (int)(m->len - 4) : 0,
			  m->len > 4 ? (const char *)m->body + 4 : "");
}

static int save_report(const char *path, struct outcome *o,
		       const struct proto_msg *m)
{
	char err[PKI_ERR_LEN];

	if (!path)
		return ATTEST_EXIT_VERIFIED;
	if (pki_write_file(path, m->body, m->len, 0644, err,
			   sizeof(err)) != CRYPTO_OK)
		return set_reason(o, ATTEST_EXIT_ERROR, "cannot save the report: %s",
				  err);
	return ATTEST_EXIT_VERIFIED;
}

int attest_verify_report(const struct attest_conn *c, const struct attest_inputs *in,
			 const uint8_t *buf, size_t len, struct attest_outcome *o)
{
	/* DEV or not is decided below, once the TPM evidence is checked: a
	 * certified attestation key is one reason fewer. Offline there is no
	 * connection whose TLS key the report could be compared with. */
	struct report_expect want = {
		.nonce = o->nonce, .nonce_len = o->nonce_len,
		.tls_key_hash = o->offline ? NULL : o->tls_key_hash, .allow_dev = true,
	};
	char err[256], why[512];
	int rc = report_verify(buf, len, in->root, in->root_len, &want,
			       &o->report, &o->verdict, err, sizeof(err));

	if (rc == REPORT_E_TLS_KEY)
		o->tls_key_mismatch = true;
	if (rc == REPORT_E_CRYPTO || rc == REPORT_E_INVAL)
		return set_reason(o, ATTEST_EXIT_ERROR, "%s", err);
	if (rc != REPORT_OK)
		return set_reason(o, ATTEST_EXIT_FAILED, "%s", err);
	o->have_report = true;
	if (o->offline)
		memcpy(o->tls_key_hash, o->report.tls_key_hash, RPT_TLS_HASH_LEN);
	if (tcg_log_parse(o->report.log, o->report.log_len, &o->log, err,
			  sizeof(err)) != 0)
		return set_reason(o, ATTEST_EXIT_FAILED,
				  "the signed measurement log is malformed: %s", err);
	o->have_log = true;
	/* A quote that does not back the report is a forgery or a broken
	 * platform: refused, whatever else the report says. */
	if (o->report.tpm_len) {
		if (tpm_evidence_check(buf, &o->report, &o->log,
				       c->reference ? &in->ref.launch : NULL,
				       in->root, in->root_len, &o->tpm,
				       err, sizeof(err)) != 0)
			return set_reason(o, ATTEST_EXIT_FAILED, "%s", err);
		o->have_tpm = true;
		if (o->tpm.ak_certified)
			o->verdict.dev_reasons &= ~REPORT_DEV_AK_UNCERTIFIED;
	}
	if (o->verdict.dev_reasons && !c->allow_dev) {
		attest_dev_reasons_text(o->verdict.dev_reasons, why, sizeof(why));
		return set_reason(o, ATTEST_EXIT_FAILED, "platform is DEV: %s; refused "
				  "without allow-dev; use --allow-dev to accept a "
				  "development platform", why);
	}
	if (!c->reference)
		return ATTEST_EXIT_VERIFIED;
	o->compared = true;
	if (reference_compare(&in->ref, o->report.platform_id,
			      o->report.platform_id_len, &o->log, err,
			      sizeof(err)) != 0)
		return set_reason(o, ATTEST_EXIT_FAILED, "%s", err);
	return ATTEST_EXIT_VERIFIED;
}

struct tenant_tls *attest_connect(const struct attest_conn *c,
				  struct attest_outcome *o)
{
	char host[256], port[16], err[512];
	struct tenant_tls_opts to;
	struct tenant_tls *t;
	enum tenant_tls_status st;

	if (split_relay(c->relay, host, sizeof(host), port, sizeof(port)) != 0) {
		set_reason(o, ATTEST_EXIT_ERROR, "--relay wants HOST:PORT");
		return NULL;
	}
	to = (struct tenant_tls_opts){ host, port, c->cert, c->key, c->ca,
				       c->timeout };
	t = tenant_tls_open(&to, &st, err, sizeof(err));
	if (!t)
		set_reason(o, attest_tls_exit(st), "%s", err);
	return t;
}

int attest_session(struct tenant_tls *t, const struct attest_conn *c,
		   const struct attest_inputs *in, struct attest_outcome *o,
		   const char *save_path)
{
	char err[512];
	uint8_t pub[CRYPTO_P384_PUB_LEN];
	struct proto_msg m;
	int rc;

	if (o->nonce_len == 0) {
		if (crypto_init() != CRYPTO_OK ||
		    crypto_random(o->nonce, NONCE_LEN) != CRYPTO_OK)
			return set_reason(o, ATTEST_EXIT_ERROR,
					  "cannot get random bytes for the nonce");
		o->nonce_len = NONCE_LEN;
	}
	rc = tenant_tls_peer_pub(t, pub, err, sizeof(err));
	if (rc == TT_OK) {
		report_tls_key_hash(pub, o->tls_key_hash);
		o->have_tls_key = true;
		rc = tenant_tls_send(t, PROTO_ATTEST_REQ, o->nonce, o->nonce_len,
				     err, sizeof(err));
	}
	if (rc == TT_OK)
		rc = tenant_tls_recv(t, &m, err, sizeof(err));
	if (rc != TT_OK)
		return set_reason(o, attest_tls_exit(rc), "%s", err);
	if (m.type == PROTO_ERROR)
		rc = platform_error(o, &m);
	else if (m.type != PROTO_ATTEST_RESP)
		rc = set_reason(o, ATTEST_EXIT_FAILED,
				"the platform answered with message type %u, not a report",
				m.type);
	else
		rc = save_report(save_path, o, &m);
	if (rc == ATTEST_EXIT_VERIFIED)
		rc = attest_verify_report(c, in, m.body, m.len, o);
	o->status = rc;
	return rc;
}

int attest_main(int argc, char **argv)
{
	static struct outcome o;
	static struct attest_inputs in;
	struct opts op;
	struct tenant_tls *t;
	struct stat st;
	int rc;

	cli_set_prog("custos attest");
	parse_opts(argc, argv, &op);
	memset(&o, 0, sizeof(o));
	if (op.nonce_hex)
		nonce_from_hex(op.nonce_hex, &o);
	rc = attest_read_inputs(&op.c, &in, &o);
	if (rc == ATTEST_EXIT_VERIFIED && op.save_report &&
	    lstat(op.save_report, &st) == 0)
		rc = set_reason(&o, ATTEST_EXIT_ERROR,
				"refusing to overwrite existing file '%s'",
				op.save_report);
	if (rc == ATTEST_EXIT_VERIFIED) {
		t = attest_connect(&op.c, &o);
		if (!t) {
			rc = o.status;
		} else {
			rc = attest_session(t, &op.c, &in, &o, op.save_report);
			tenant_tls_close(t);
		}
	}
	o.status = rc;
	if (rc == ATTEST_EXIT_VERIFIED)
		snprintf(o.reason, sizeof(o.reason), "%s%s%s",
			 op.c.reference ? "report authentic and fresh, bound to this TLS key, measurements match the reference"
					: "report authentic and fresh, bound to this TLS key; measurements not compared (no --reference)",
			 o.verdict.dev_reasons ? "; DEV platform, accepted with --allow-dev" : "",
			 o.ref_sig == ATTEST_REF_UNSIGNED ? "; the reference is UNSIGNED" : "");
	attest_print("custos attest", &op.c, &o, op.json);
	free(in.root);
	return rc;
}
