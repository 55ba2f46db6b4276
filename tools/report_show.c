/*
 * custos report show REPORT [--eventlog-out FILE] [--firmware-eventlog-out FILE]
 * (docs/tenant-cli.md, "custos report show").
 *
 * Shows what a saved report says, checking only its structure
 * (report_parse, tcg_log_parse): platform id, claims, nonce, TLS key, the
 * signer's certificate as it names itself, the TPM evidence's parts, and
 * every event of the measurement log. Nothing shown is verified, and the
 * first line says so: `custos verify` verifies. The measurement log is
 * already a TCG PC Client crypto-agile event log (docs/eventlog.md), so
 * --eventlog-out writes its bytes as signed, for tpm2_eventlog and other
 * TCG tools; --firmware-eventlog-out writes the firmware's log that the
 * TPM evidence carries, in the same format.
 */
#include "tools/report_show.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <custos/report.h>
#include "crypto/pki_host.h"
#include "tcb/fw_log.h"
#include "tcb/tcg_log_parse.h"
#include "tools/attest.h"
#include "tools/cli.h"
#include "tools/x509_peek.h"

#define PROG "custos report show"

static const char usage_text[] =
	"usage: custos report show REPORT [--eventlog-out FILE]\n"
	"                          [--firmware-eventlog-out FILE]\n"
	"\n"
	"Show a platform report saved by 'custos attest --save-report': platform,\n"
	"claims, nonce, TLS key, signer, TPM evidence and every event of its\n"
	"measurement log. Only its structure is checked: nothing shown is\n"
	"verified ('custos verify REPORT' verifies it).\n"
	"\n"
	"options:\n"
	"  --eventlog-out FILE           write the measurement log, a TCG PC Client\n"
	"                                crypto-agile event log (tpm2_eventlog reads it)\n"
	"  --firmware-eventlog-out FILE  write the firmware's event log the TPM\n"
	"                                evidence carries, in the same format\n"
	"Output files are new files, never overwritten.\n"
	"\n"
	"Exit status: 0 shown, 1 the report or its log is malformed, 2 could not\n"
	"run (usage, unreadable report, an output file that exists or cannot be\n"
	"written).\n";

struct show_opts {
	const char *report, *eventlog_out, *fw_eventlog_out;
};

static void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'custos report show --help'.\n", stderr);
	exit(ATTEST_EXIT_ERROR);
}

static int fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int status, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	cli_vformat_line(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, PROG ": %s: %s\n", attest_verdict(status), line);
	return status;
}

static void parse_opts(int argc, char **argv, struct show_opts *o)
{
	static const struct option longopts[] = {
		{ "eventlog-out", required_argument, NULL, 'e' },
		{ "firmware-eventlog-out", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'e': o->eventlog_out = optarg; break;
		case 'f': o->fw_eventlog_out = optarg; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		default:
			if (optopt)
				usage_error("option '%s' needs an argument", argv[optind - 1]);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind == argc)
		usage_error("needs the REPORT file to show");
	o->report = argv[optind++];
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

static void print_hex_line(const char *label, const uint8_t *p, size_t n)
{
	char hex[2 * REPORT_NONCE_MAX + 1];

	cli_hex(p, n, hex);
	printf("%s%s\n", label, hex);
}

static void print_signer(const struct report *r)
{
	struct x509_peek x;
	char err[160];

	if (x509_peek(r->cert, r->cert_len, &x, err, sizeof(err)) != 0) {
		printf("signed by: a certificate that does not read as X.509 (%s)\n", err);
		return;
	}
	printf("signed by: CN=%s, issued by CN=%s, role %s\n", x.subject_cn, x.issuer_cn,
	       x509_peek_role_name(x.role));
}

static void print_tpm(const struct report *r)
{
	struct fw_log_info fw;
	unsigned n = 0;

	if (!r->tpm_len) {
		printf("TPM evidence: none (the platform had no usable TPM)\n");
		return;
	}
	printf("TPM evidence: a quote over PCRs");
	for (unsigned i = 0; i < 24; i++)
		if (r->pcr_mask & (1u << i))
			printf("%s%u", n++ ? "," : " ", i);
	printf(" (SHA-384), attestation key %zu bytes, EK certificate %s, "
	       "attestation key certificate %s, TPM-resident TCB keys %s\n",
	       r->ak_public_len, r->ek_cert_len ? "carried" : "none",
	       r->ak_cert_len ? "carried" : "none", r->tpm_key_count ? "carried" : "none");
	if (!r->fw_log_len)
		printf("firmware event log: none\n");
	else if (fw_log_parse(r->fw_log, r->fw_log_len, &fw, NULL, 0) != 0)
		printf("firmware event log: %zu bytes, malformed\n", r->fw_log_len);
	else
		printf("firmware event log: %zu events, %zu bytes\n", fw.events, r->fw_log_len);
}

static void print_log(const struct tcg_log_parsed *log, size_t log_len)
{
	char hex[2 * MEASURE_DIGEST_LEN + 1], tb[16];

	printf("measurement log: %zu events, %zu bytes, TCG PC Client crypto-agile "
	       "(SHA-384)\n", log->count, log_len);
	for (size_t i = 0; i < log->count; i++) {
		const struct tcg_event *e = &log->events[i];

		cli_hex(e->digest, MEASURE_DIGEST_LEN, hex);
		printf("  %2zu  PCR %-2u %-12s sha384:%s  %s\n", i + 1, e->pcr,
		       attest_event_type_name(e->event_type, tb), hex, e->desc);
	}
}

static void print_report(const char *path, size_t len, const struct report *r,
			 const struct tcg_log_parsed *log)
{
	printf("report: %s, format %u, %zu bytes; NOT verified (custos verify checks it)\n",
	       path, r->version, len);
	printf("platform: %.*s\n", (int)r->platform_id_len, r->platform_id);
	printf("claims (the report's own word): key protection %s, launch mode %s, "
	       "debug %s\n", attest_key_protection_name(r->key_protection),
	       attest_launch_mode_name(r->launch_mode),
	       r->debug & REPORT_DEBUG_CONSOLE_MIRROR ? "console-mirror" : "none");
	print_signer(r);
	print_hex_line("nonce: ", r->nonce, r->nonce_len);
	print_hex_line("TLS key: sha384 ", r->tls_key_hash, RPT_TLS_HASH_LEN);
	print_tpm(r);
	print_log(log, r->log_len);
}

/* A new file with data: 0, or the exit status after saying why. */
static int write_out(const char *path, const void *data, size_t len, const char *what)
{
	char err[PKI_ERR_LEN];

	if (pki_write_file(path, data, len, 0644, err, sizeof(err)) != CRYPTO_OK)
		return fail(ATTEST_EXIT_ERROR, "cannot write the %s: %s", what, err);
	printf("wrote %s (%s, %zu bytes)\n", path, what, len);
	return 0;
}

static int refuse_existing(const char *path)
{
	struct stat st;

	if (path && lstat(path, &st) == 0)
		return fail(ATTEST_EXIT_ERROR, "refusing to overwrite existing file '%s'", path);
	return 0;
}

static int show(const struct show_opts *op, const uint8_t *buf, size_t len)
{
	static struct tcg_log_parsed log;
	struct fw_log_info fw;
	struct report r;
	char err[256];
	int rc;

	if (report_parse(buf, len, &r, err, sizeof(err)) != 0)
		return fail(ATTEST_EXIT_FAILED, "'%s' is not a well-formed platform report: %s",
			    op->report, err);
	if (tcg_log_parse(r.log, r.log_len, &log, err, sizeof(err)) != 0)
		return fail(ATTEST_EXIT_FAILED, "the report's measurement log is malformed: %s",
			    err);
	if (op->fw_eventlog_out && !r.fw_log_len)
		return fail(ATTEST_EXIT_FAILED, "the report carries no firmware event log "
			    "(no TPM evidence, or a boot without one)");
	/* A file named as a TCG log must be one. */
	if (op->fw_eventlog_out && fw_log_parse(r.fw_log, r.fw_log_len, &fw, err,
						sizeof(err)) != 0)
		return fail(ATTEST_EXIT_FAILED, "the report's firmware event log is malformed: %s",
			    err);
	rc = refuse_existing(op->eventlog_out);
	if (!rc)
		rc = refuse_existing(op->fw_eventlog_out);
	if (rc)
		return rc;
	print_report(op->report, len, &r, &log);
	if (op->eventlog_out)
		rc = write_out(op->eventlog_out, r.log, r.log_len, "measurement log, TCG format");
	if (!rc && op->fw_eventlog_out)
		rc = write_out(op->fw_eventlog_out, r.fw_log, r.fw_log_len,
			       "firmware event log, TCG format");
	return rc;
}

static int show_main(int argc, char **argv)
{
	struct show_opts op;
	uint8_t *buf;
	size_t len;
	FILE *f;
	int rc;

	parse_opts(argc, argv, &op);
	f = fopen(op.report, "rb");
	if (!f)
		return fail(ATTEST_EXIT_ERROR, "cannot read report '%s'", op.report);
	buf = malloc(REPORT_MAX_SIZE + 1);
	len = buf ? fread(buf, 1, REPORT_MAX_SIZE + 1, f) : 0;
	rc = !buf || ferror(f);
	fclose(f);
	if (rc) {
		free(buf);
		return fail(ATTEST_EXIT_ERROR, "cannot read report '%s'", op.report);
	}
	rc = len > REPORT_MAX_SIZE ?
		fail(ATTEST_EXIT_ERROR, "report '%s' is larger than a report can be (%u bytes)",
		     op.report, (unsigned)REPORT_MAX_SIZE) :
		show(&op, buf, len);
	free(buf);
	return rc;
}

int report_main(int argc, char **argv)
{
	cli_set_prog(PROG);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc < 2 || strcmp(argv[1], "show") != 0)
		usage_error("the report command is 'custos report show REPORT'");
	return show_main(argc - 1, argv + 1);
}
