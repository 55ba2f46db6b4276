/*
 * custos verify REPORT: a report saved by `custos attest --save-report`,
 * verified offline (docs/tenant-cli.md, "custos verify").
 *
 * It is custos attest's verification (attest_verify_report) on a file
 * instead of a connection's answer: the chain to --ca with a TCB signing
 * role, the signature, the nonce the tenant gives (the one its attest run
 * sent), the TPM evidence, DEV only with --allow-dev, and the reference.
 * What a saved report cannot show is that it was bound to a connection:
 * its TLS key hash is printed, not checked. Same exit statuses and output
 * as custos attest.
 */
#include "tools/verify_cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <custos/report.h>
#include "tools/attest.h"
#include "tools/cli.h"

#define PROG "custos verify"

static const char usage_text[] =
	"usage: custos verify REPORT --ca ROOT.pem --nonce HEX\n"
	"                     [--reference REFERENCE.json] [--allow-dev] [--json]\n"
	"\n"
	"Verify a platform report saved by 'custos attest --save-report', offline:\n"
	"its certificate chains to ROOT with a TCB signing role, its signature,\n"
	"that it answers the nonce HEX (the one 'custos attest' printed when it\n"
	"saved it), its TPM evidence, that the platform is not DEV (unless\n"
	"--allow-dev), and with --reference the platform id and every measurement.\n"
	"The TLS key the report vouches for is shown, not checked: a saved report\n"
	"has no connection to compare it with.\n"
	"\n"
	"options:\n"
	"  --ca ROOT.pem         the CA root the platform's TCB must chain to\n"
	"  --nonce HEX           the nonce the report must answer (32..64 bytes)\n"
	"  --reference FILE      reference values to compare the log with\n"
	"  --allow-dev           accept a DEV platform (development only)\n"
	"  --json                print one JSON object on stdout (as custos attest)\n"
	"\n"
	"Environment: CUSTOS_CA, CUSTOS_REFERENCE and CUSTOS_ALLOW_DEV=1 stand for\n"
	"the options of the same name when those are not given.\n"
	"\n"
	"Exit status: as custos attest: 0 verified, 1 verification failed (chain,\n"
	"role, signature, nonce, DEV without --allow-dev, malformed report or log,\n"
	"TPM evidence, reference mismatch), 2 could not run (usage, unreadable or\n"
	"invalid files).\n";

struct verify_opts {
	struct attest_conn c;
	const char *report, *nonce_hex;
	bool json;
};

static void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'custos verify --help'.\n", stderr);
	exit(ATTEST_EXIT_ERROR);
}

static void parse_opts(int argc, char **argv, struct verify_opts *o)
{
	static const struct option longopts[] = {
		{ "ca", required_argument, NULL, 'a' },
		{ "reference", required_argument, NULL, 'R' },
		{ "allow-dev", no_argument, NULL, 'D' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (attest_conn_opt(&o->c, c, optarg) > 0)
			continue;
		switch (c) {
		case 'n': o->nonce_hex = optarg; break;
		case 'j': o->json = true; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default:
			if (optopt)
				usage_error("option '%s' needs an argument", argv[optind - 1]);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind == argc)
		usage_error("needs the REPORT file to verify");
	o->report = argv[optind++];
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	/* Only what an offline check uses: no relay, certificate or key. */
	attest_conn_from_env(&o->c);
	o->c.relay = o->c.cert = o->c.key = NULL;
	if (!o->c.ca || !*o->c.ca)
		usage_error("needs --ca ROOT.pem (or CUSTOS_CA)");
	if (!o->nonce_hex)
		usage_error("needs --nonce HEX: the nonce the report must answer "
			    "(custos attest prints it)");
}

/* The report file, at most REPORT_MAX_SIZE bytes: NULL with o's reason set
 * (exit 2) if it cannot be read. */
static uint8_t *read_report(const char *path, size_t *len, struct attest_outcome *o)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = malloc(REPORT_MAX_SIZE + 1);
	size_t n = 0;
	bool bad = !f || !buf;

	if (!bad) {
		n = fread(buf, 1, REPORT_MAX_SIZE + 1, f);
		bad = ferror(f);
	}
	if (f)
		fclose(f);
	o->status = ATTEST_EXIT_ERROR;
	if (bad) {
		snprintf(o->reason, sizeof(o->reason), "cannot read report '%s'", path);
		free(buf);
		return NULL;
	}
	if (n > REPORT_MAX_SIZE) {
		snprintf(o->reason, sizeof(o->reason), "report '%s' is larger than a report "
			 "can be (%u bytes)", path, (unsigned)REPORT_MAX_SIZE);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

int verify_main(int argc, char **argv)
{
	static struct attest_outcome o;
	static struct attest_inputs in;
	struct verify_opts op;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	cli_set_prog(PROG);
	parse_opts(argc, argv, &op);
	memset(&o, 0, sizeof(o));
	o.offline = true;
	if (attest_nonce_from_hex(op.nonce_hex, &o) != 0)
		usage_error("--nonce wants %u..%u bytes in hex", REPORT_NONCE_MIN,
			    REPORT_NONCE_MAX);
	rc = attest_read_inputs(&op.c, &in, &o);
	if (rc == ATTEST_EXIT_VERIFIED) {
		buf = read_report(op.report, &len, &o);
		rc = buf ? attest_verify_report(&op.c, &in, buf, len, &o) : o.status;
	}
	o.status = rc;
	if (rc == ATTEST_EXIT_VERIFIED)
		snprintf(o.reason, sizeof(o.reason), "%s%s",
			 op.c.reference ? "report authentic, answers the given nonce, measurements match the reference"
					: "report authentic, answers the given nonce; measurements not compared (no --reference)",
			 o.verdict.dev_reasons ? "; DEV platform, accepted with --allow-dev" : "");
	attest_print(PROG, &op.c, &o, op.json);
	free(buf);
	free(in.root);
	return rc;
}
