/*
 * custos: the tenant's command-line tool (docs/tenant-cli.md).
 *
 *   custos attest --relay HOST:PORT --ca ROOT.pem --cert TENANT.pem
 *                 --key TENANT.key [--reference FILE] [--allow-dev] [--json]
 *                 [--timeout SECONDS] [--nonce-hex HEX] [--save-report FILE]
 *
 *   custos vm create NAME --memory SIZE --image FILE [--init-data FILE]
 *                        [--secret KEY=VALUE ...]
 *   custos vm start|stop|destroy|status|console NAME
 *   custos vm list                    (with the connection options above)
 *   custos vm shell [--batch FILE]    (several on one attested session)
 *
 *   custos verify REPORT --ca ROOT.pem --nonce HEX [--reference FILE]
 *                 [--allow-dev] [--json]     (a saved report, offline)
 *   custos enroll --cn NAME --out PREFIX     (key and certificate request)
 *   custos report show REPORT [--eventlog-out FILE]
 *                 [--firmware-eventlog-out FILE]
 *
 * A dispatcher: each command lives in its own file (tools/attest.c,
 * tools/vm_cli.c) and returns its exit status.
 */
#include <stdio.h>
#include <string.h>

#include "tools/attest.h"
#include "tools/enroll_cli.h"
#include "tools/report_show.h"
#include "tools/verify_cli.h"
#include "tools/cli.h"
#include "tools/vm_cli.h"

static const char usage_text[] =
	"usage: custos COMMAND [OPTIONS]\n"
	"\n"
	"The Custos tenant tool (docs/tenant-cli.md).\n"
	"\n"
	"commands:\n"
	"  attest    verify a platform through its TPGVM ('custos attest --help')\n"
	"  vm        create, start, stop, destroy, list this tenant's VMs, read\n"
	"            their consoles; 'custos vm shell' runs several on one\n"
	"            attested session ('custos vm --help')\n"
	"  verify    verify a report saved by 'custos attest --save-report',\n"
	"            offline ('custos verify --help')\n"
	"  enroll    make the tenant's key and a certificate request for the CA\n"
	"            ('custos enroll --help')\n"
	"  report    'custos report show REPORT': a saved report, readably, and\n"
	"            its event log as a TCG file ('custos report --help')\n"
	"\n"
	"  --version print the version\n"
	"\n"
	"Connection settings come from options, CUSTOS_* variables or a\n"
	"profile of ~/.config/custos/config (--profile NAME), in that order.\n"
	"\n"
	"Exit status: 0 verified / done, 1 verification failed, 2 could not run\n"
	"(usage, files, network, timeout), 3 refused by the platform, 4 the peer\n"
	"is not a Custos relay (it did not answer TLS).\n";

struct command {
	const char *name;
	int (*main)(int argc, char **argv);
};

static const struct command commands[] = {
	{ "attest", attest_main },
	{ "vm", vm_main },
	{ "verify", verify_main },
	{ "report", report_main },
	{ "enroll", enroll_main },
};

int main(int argc, char **argv)
{
	cli_version_if_asked(argc, argv, "custos");
	if (argc < 2) {
		fputs("custos: no command (attest, vm, verify, report, enroll)\nTry 'custos --help'.\n", stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "custos: unknown command '%.64s' (attest, vm, verify, report, enroll)\nTry 'custos --help'.\n",
		argv[1]);
	return 2;
}
