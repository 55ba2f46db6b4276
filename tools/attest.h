/*
 * `custos attest`: ask a platform's TPGVM for a signed report over a fresh
 * nonce through the relay, and verify it (docs/tenant-cli.md).
 *
 * The verification also runs on a session another command opened: every
 * `custos vm` command first attests the platform on its own TLS session
 * (attest_session) and only then sends its request.
 */
#ifndef CUSTOS_TOOLS_ATTEST_H
#define CUSTOS_TOOLS_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <custos/report.h>
#include "tcb/tcg_log_parse.h"
#include "tools/tpm_evidence.h"
#include "tools/reference.h"
#include "tools/tenant_tls.h"

/* Exit statuses of custos attest and of every tenant command. */
enum attest_exit {
	ATTEST_EXIT_VERIFIED = 0, /* the platform is what the reference says */
	ATTEST_EXIT_FAILED = 1,   /* verification failed (or tampering seen) */
	ATTEST_EXIT_ERROR = 2,    /* could not run: usage, files, network, time */
	ATTEST_EXIT_REFUSED = 3,  /* the platform refused our credentials */
	ATTEST_EXIT_NOT_CUSTOS = 4, /* the peer did not answer TLS: no Custos relay */
};

/* How to reach and judge a platform: the options every tenant command
 * shares (--relay --ca --cert --key --reference --allow-dev --timeout). */
struct attest_conn {
	const char *relay, *ca, *cert, *key, *reference;
	const char *reference_sig;   /* NULL: REFERENCE.sig if it exists */
	bool require_signed;         /* refuse a reference without a signature */
	const char *profile; /* --profile: the configuration file's profile */
	bool allow_dev;
	double timeout;    /* seconds for the whole run */
};

/* The local inputs, read before any network traffic. */
struct attest_inputs {
	uint8_t *root;     /* the CA root, DER */
	size_t root_len;
	struct reference ref; /* valid if conn->reference */
};

/* Whether the reference came with the CA's signature (docs/pki.md,
 * "Signed reference values"). */
enum attest_ref_sig {
	ATTEST_REF_NONE,       /* no reference, or not read yet */
	ATTEST_REF_UNSIGNED,   /* no signature file: accepted as it is */
	ATTEST_REF_SIGNED,     /* signature verified with the --ca root */
};

/* What we learned, for the summary (filled as the run goes). */
struct attest_outcome {
	int status;                 /* enum attest_exit */
	char reason[512];
	uint8_t nonce[REPORT_NONCE_MAX];
	size_t nonce_len;           /* 0: attest_session makes a fresh one */
	bool have_tls_key;
	uint8_t tls_key_hash[RPT_TLS_HASH_LEN];
	bool have_report;           /* authentic: report_verify passed up to DEV */
	struct report report;
	struct report_verdict verdict; /* with have_report: why it is DEV */
	bool have_log;
	struct tcg_log_parsed log;
	bool compared;              /* measurements compared with the reference */
	bool tls_key_mismatch;      /* authentic report for another TLS key */
	bool have_tpm;              /* its TPM evidence checked out */
	bool offline;               /* a saved report (custos verify): no
				       connection, its TLS key not checked */
	struct tpm_evidence_result tpm;
	enum attest_ref_sig ref_sig; /* the reference's signature, once read */
	char ref_sig_path[512];     /* the signature file checked or looked for */
};

/* getopt_long values of the long-only options (above any letter). */
#define ATTEST_OPT_REFERENCE_SIG  0x100
#define ATTEST_OPT_REQUIRE_SIGNED 0x101

/* The getopt_long entries of the struct attest_conn options, for the
 * option table of every tenant command; attest_conn_opt() takes them. */
#define ATTEST_CONN_LONGOPTS \
	{ "relay", required_argument, NULL, 'r' }, \
	{ "ca", required_argument, NULL, 'a' }, \
	{ "cert", required_argument, NULL, 'c' }, \
	{ "key", required_argument, NULL, 'k' }, \
	{ "reference", required_argument, NULL, 'R' }, \
	{ "reference-sig", required_argument, NULL, ATTEST_OPT_REFERENCE_SIG }, \
	{ "require-signed-reference", no_argument, NULL, ATTEST_OPT_REQUIRE_SIGNED }, \
	{ "allow-dev", no_argument, NULL, 'D' }, \
	{ "timeout", required_argument, NULL, 't' }, \
	{ "profile", required_argument, NULL, 'P' }

/* One getopt_long result opt (with its arg) into c: 1 if it was one of
 * ATTEST_CONN_LONGOPTS, 0 if not (the caller's own option), -1 if it was
 * --timeout and arg is not seconds in (0, 86400] (c is then unchanged). */
int attest_conn_opt(struct attest_conn *c, int opt, const char *arg);

/* s[0..n) as a JSON string on stdout: quotes, backslashes, control and
 * non-ASCII bytes escaped. */
void attest_json_string(const char *s, size_t n);

/* The word a failure line on stderr starts with (FAILED, REFUSED, ERROR). */
const char *attest_verdict(int status);

/* The REPORT_DEV_* reasons in why as one phrase ("a; b; c") into buf. */
void attest_dev_reasons_text(uint32_t why, char *buf, size_t len);

/* `"dev": true, "dev_reasons": ["no-tpm-quote", ...]` (JSON members) on
 * stdout for a verdict. */
void attest_json_dev(const struct report_verdict *v);

/* argv[0] is "attest"; returns the exit status. */
int attest_main(int argc, char **argv);

/* Fill the options not given on the command line from the environment:
 * CUSTOS_RELAY, CUSTOS_CA, CUSTOS_CERT, CUSTOS_KEY, CUSTOS_REFERENCE,
 * CUSTOS_ALLOW_DEV=1; then those still missing from the configuration
 * file's profile (tools/tenant_config.h). An option always wins over its
 * variable, a variable over the file. A malformed file is reported by
 * attest_conn_check(). */
void attest_conn_from_env(struct attest_conn *c);

/* Check that the configuration file was good, relay, ca, cert and key are
 * set and relay is HOST:PORT: NULL, or a usage message (static). */
const char *attest_conn_check(const struct attest_conn *c);

/* Read the CA root and the reference. ATTEST_EXIT_VERIFIED (0), or
 * ATTEST_EXIT_ERROR with o->reason set. Free in->root when done. */
int attest_read_inputs(const struct attest_conn *c, struct attest_inputs *in,
		       struct attest_outcome *o);

/* Connect and handshake (the deadline of c->timeout starts here). A session,
 * or NULL with o->status and o->reason set. */
struct tenant_tls *attest_connect(const struct attest_conn *c,
				  struct attest_outcome *o);

/*
 * Attest the platform on the open session t: ATTEST_REQ with o->nonce (a
 * fresh random one if o->nonce_len is 0), one answer, report_verify bound
 * to this session's TLS key, dev mode only with allow_dev, the log, and the
 * reference if one was given. If save_report is not NULL the report is
 * written there as received (a new file). Returns ATTEST_EXIT_VERIFIED only
 * if everything verified; otherwise the status with o->reason set.
 */
int attest_session(struct tenant_tls *t, const struct attest_conn *c,
		   const struct attest_inputs *in, struct attest_outcome *o,
		   const char *save_report);

/*
 * Verify the report buf[0, len) as attest_session does once it has the
 * answer: report_verify with o->nonce (and, unless o->offline, the TLS key
 * hash in o), the log, the TPM evidence, DEV only with c->allow_dev, the
 * reference if c->reference. custos attest and custos verify (a saved
 * report) share it. Returns the exit status with o->reason set on failure;
 * o->report points into buf.
 */
int attest_verify_report(const struct attest_conn *c, const struct attest_inputs *in,
			 const uint8_t *buf, size_t len, struct attest_outcome *o);

/* The summary of a run on stdout (human or --json) and, if it failed, the
 * line "PROG: FAILED|ERROR|REFUSED: reason" on stderr. */
void attest_print(const char *prog, const struct attest_conn *c,
		  const struct attest_outcome *o, bool json);

/* The names custos attest shows for a report's key protection and launch
 * mode ("dev", "tpm"; "dev", "srtm", "drtm"; "unknown"), and an event
 * type ("EV_IPL", or "0x0000000d" in buf for one it does not name). */
const char *attest_key_protection_name(uint32_t v);
const char *attest_launch_mode_name(uint32_t v);
const char *attest_event_type_name(uint32_t t, char buf[16]);

/* A nonce in hex (REPORT_NONCE_MIN..MAX bytes) into o->nonce: 0, or -1. */
int attest_nonce_from_hex(const char *s, struct attest_outcome *o);

/* The exit status for a tenant_tls error (TT_E_*). */
int attest_tls_exit(int tt_status);

#endif
