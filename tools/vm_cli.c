/*
 * custos vm (tools/vm_cli.h, docs/tenant-cli.md).
 *
 * Order of work, for every command: options (usage errors exit 2), then
 * every local input (CA root, reference, and for create the image, the init
 * data and the secrets, and the launch measurement computed locally), then
 * TLS through the relay, the attestation of the platform on that session
 * (tools/attest.c: report chain, signature, nonce, binding to this TLS key,
 * dev mode, reference), and only when it verified, the VM request.
 * `custos vm shell` (tools/vm_shell.c) runs the same steps for several
 * commands on one session attested once (vm_session_*): parse_command,
 * create_read, command_run and command_print are the same code either way;
 * only usage errors differ (a command on its own exits, a shell line is
 * one failed line).
 *
 * Secret values are never printed: not in errors, not in --json, nowhere.
 * They come from --secret-file FILE (KEY=VALUE lines: never on a command
 * line) or --secret KEY=VALUE (blanked from argv as soon as read), and are
 * wiped from memory once sent. The guest's console bytes are untrusted: printed with every
 * control character but newline, tab, carriage return and backspace
 * replaced.
 */
#include "tools/vm_cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <custos/guest_abi.h>
#include <custos/proto.h>
#include "tcb/byteorder.h"
#include "tcb/linux_boot.h"
#include "tcb/linux_measure.h"
#include "tcb/elf_place.h"
#include "tcb/lifecycle.h"
#include "crypto/crypto.h"
#include "tools/attest.h"
#include "tools/cli.h"
#include "tools/interrupt_note.h"
#include "tools/tenant_tls.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the protocol structs are little-endian; decode them by hand here"
#endif

#define TIMEOUT_CREATE 300.0
#define TIMEOUT_OTHER  120.0
#define IMAGE_MAX      HC_VM_IMAGE_MAX
#define INIT_MAX       HC_VM_INIT_MAX
#define MAX_SECRETS    512
#define MAX_SECRET_FILES 8
/* A secret file: the 4096-byte block's worth of KEY=VALUE lines and room
 * for comments and blank lines; anything larger is not such a file. */
#define SECRET_FILE_MAX (16u << 10)
#define CONSOLE_ROUNDS 256 /* at most this many CONSOLE_DATA chunks per run */
/* --follow and --interactive: how often the console is asked for output,
 * how long they run without --timeout (until interrupted, in practice),
 * and after how many quiet seconds they end once the input has ended
 * (stdin not a terminal: a script's commands). */
#define CONSOLE_POLL_MS   300
#define TIMEOUT_FOLLOW    86400.0
#define CONSOLE_IDLE_DEFAULT 5.0
#define CONSOLE_ESCAPE    0x1d /* Ctrl-]: leaves --interactive, as telnet's */

static const char usage_text[] =
	"usage: custos vm create NAME --memory SIZE --image FILE [--init-data FILE]\n"
	"                        [--secret-file FILE ...] [--secret KEY=VALUE ...]\n"
	"       custos vm create NAME --memory SIZE --kernel BZIMAGE [--initrd FILE]\n"
	"                        [--cmdline STRING]\n"
	"       custos vm start NAME [--resume | --afresh]\n"
	"       custos vm stop|destroy|status NAME\n"
	"       custos vm console NAME [--follow | --interactive [--idle SECONDS]]\n"
	"       custos vm list\n"
	"       custos vm shell [--batch FILE] [--keep-going]   (the commands on\n"
	"                       stdin, one a line, on one attested session)\n"
	"   with: --relay HOST:PORT --ca ROOT.pem --cert TENANT.pem --key TENANT.key\n"
	"         [--reference REFERENCE.json] [--allow-dev] [--json]\n"
	"         [--timeout SECONDS]\n"
	"\n"
	"Manage this tenant's VMs on a Custos platform. Every command first\n"
	"attests the platform on its own TLS session, exactly as 'custos attest'\n"
	"does (report chain, signature, fresh nonce, bound to this TLS key, no\n"
	"DEV platform unless --allow-dev, the reference if one is given), and\n"
	"sends its request only if that verified.\n"
	"\n"
	"commands:\n"
	"  create NAME   create a VM of --memory SIZE (2M..1G, a multiple of 2M;\n"
	"                K/M/G suffixes), upload --image and --init-data, pass\n"
	"                the secrets of --secret-file FILE (one KEY=VALUE per\n"
	"                line; blank lines and lines starting with # ignored;\n"
	"                at most 16 KiB; '-': stdin, piped) and --secret\n"
	"                KEY=VALUE (visible to local users while it runs:\n"
	"                prefer --secret-file);\n"
	"                checks that the platform measured exactly what was sent;\n"
	"                or, instead of --image, a Linux VM: --kernel BZIMAGE\n"
	"                (64-bit boot protocol 2.12 or later, checked here\n"
	"                first, at most 16 MiB), --initrd FILE (at most 32 MiB),\n"
	"                --cmdline STRING (at most 2047 bytes); no init data or\n"
	"                secrets\n"
	"  start NAME    start it (the platform verifies its boot or sealed state):\n"
	"                a loaded VM boots; a sealed one (stopped by 'stop')\n"
	"                resumes where it stopped; an exited one (it stopped\n"
	"                itself: halt, exit, fault) boots afresh from the boot\n"
	"                copy sealed at its first start. --resume: resume an\n"
	"                exited VM in the state it stopped in; --afresh: boot a\n"
	"                sealed VM afresh\n"
	"  stop NAME     stop it into a sealed blob kept by the host\n"
	"  destroy NAME  destroy it for good\n"
	"  status NAME   show its state\n"
	"  console NAME  print what its console holds (untrusted bytes: control\n"
	"                characters other than newline, tab, CR and backspace\n"
	"                become '?');\n"
	"                --follow: keep printing what comes, until Ctrl-C or\n"
	"                --timeout; --interactive: also send what is typed (or\n"
	"                piped) to the VM's console, raw; Ctrl-] leaves; when\n"
	"                piped input ends, it leaves once the VM has been quiet\n"
	"                for --idle SECONDS (default 5). One attested session\n"
	"                for all of it.\n"
	"  list          all this tenant's VMs\n"
	"  shell         one TLS session, attested once, for the commands read\n"
	"                from stdin or --batch FILE ('custos vm shell --help')\n"
	"\n"
	"options:\n"
	"  --relay HOST:PORT     where custos-relay listens for tenants\n"
	"  --ca ROOT.pem         the CA root the platform's TCB must chain to\n"
	"  --cert, --key         the tenant's certificate and private key\n"
	"  --reference FILE      reference values the platform must match\n"
	"  --allow-dev           accept a DEV platform (development only: every\n"
	"                        platform is DEV until TPM quotes back reports)\n"
	"  --json                print JSON on stdout\n"
	"  --timeout SECONDS     give up after this long in all (default 300 for\n"
	"                        create, 120 for the others)\n"
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
	"  0  done\n"
	"  1  verification failed: the attestation, the launch measurement, or\n"
	"     the platform's verify/rollback refusal; or TLS saw tampering\n"
	"  2  could not run: usage, files, connection, timeout, a malformed or\n"
	"     unexpected answer\n"
	"  3  refused by the platform: an error answer (not found, exists, no\n"
	"     memory, state, storage, too large, busy ...) or our credentials\n"
	"  4  the peer at --relay is not a Custos relay: it did not answer TLS\n";

enum vm_cmd { CMD_CREATE, CMD_START, CMD_STOP, CMD_DESTROY, CMD_STATUS,
	      CMD_CONSOLE, CMD_LIST };

static const struct {
	const char *name;
	enum vm_cmd cmd;
	uint16_t type;
} commands[] = {
	{ "create", CMD_CREATE, PROTO_VM_CREATE },
	{ "start", CMD_START, PROTO_VM_START },
	{ "stop", CMD_STOP, PROTO_VM_STOP },
	{ "destroy", CMD_DESTROY, PROTO_VM_DESTROY },
	{ "status", CMD_STATUS, PROTO_VM_STATUS },
	{ "console", CMD_CONSOLE, PROTO_VM_CONSOLE },
	{ "list", CMD_LIST, PROTO_VM_LIST },
};

struct vm_opts {
	struct attest_conn c;
	enum vm_cmd cmd;
	const char *cmd_name;
	uint16_t type;
	const char *name;         /* as given */
	struct proto_vm_name vm;  /* checked, NUL-padded */
	bool json;
	const char *memory, *image, *init;
	const char *kernel, *initrd, *cmdline; /* a Linux VM */
	uint64_t mem_size;
	char *secret_args[MAX_SECRETS];
	size_t n_secrets;
	const char *secret_files[MAX_SECRET_FILES];
	size_t n_secret_files;
	bool follow, interactive; /* console */
	double idle;              /* console --interactive: seconds, > 0 */
	uint32_t start_mode;      /* start: enum proto_start_mode (--resume, --afresh) */
	bool in_shell;            /* a line of `custos vm shell` */
	char usage[400];          /* a usage error, once one was found */
};

/* The state of a run, for messages. */
struct vm_run {
	const struct vm_opts *op;
	int status;
	char reason[512];
	bool usage;               /* reason is a usage error (op->usage) */
	bool session_lost;        /* the TLS session cannot carry another request */
	struct tenant_tls *t;
	bool progress;            /* draw the upload bar on stderr */
	int last_pct;
};

static char prog[64] = "custos vm";

static void sanitize_line(const char *in, size_t n, char *out);

/* ---- Messages ------------------------------------------------------------ */

static void usage_error(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'custos vm --help'.\n", stderr);
	exit(ATTEST_EXIT_ERROR);
}

/* A usage error in a command's options: kept in o->usage (one printable
 * line) for the caller, which exits (a command line) or goes on to the next
 * line (the shell). Returns the exit status, 2. */
static int usage_fail(struct vm_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int usage_fail(struct vm_opts *o, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vformat_line(o->usage, sizeof(o->usage), fmt, ap);
	va_end(ap);
	return ATTEST_EXIT_ERROR;
}

static int fail(struct vm_run *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct vm_run *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vformat_line(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	r->status = status;
	return status;
}

/* The usage error of a command found after its options were taken (its
 * secrets), as a failure of the run. */
static int fail_usage(struct vm_run *r)
{
	r->usage = true;
	return fail(r, ATTEST_EXIT_ERROR, "%s", r->op->usage);
}

/* An answer the protocol does not allow here (wrong type, malformed, about
 * another VM): the peer is not doing what a TPGVM does, so the session
 * carries nothing more. Exit status 2. */
static int answer_fail(struct vm_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int answer_fail(struct vm_run *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vformat_line(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	r->status = ATTEST_EXIT_ERROR;
	r->session_lost = true;
	return r->status;
}

static const char *result_name(int status)
{
	return status == ATTEST_EXIT_FAILED ? "failed" :
	       status == ATTEST_EXIT_REFUSED ? "refused" :
	       status == ATTEST_EXIT_NOT_CUSTOS ? "not-custos" : "error";
}

static void json_cstr(const char *s)
{
	attest_json_string(s, strlen(s));
}

/* ---- Options ------------------------------------------------------------- */

/* SIZE: digits with an optional K, M or G (binary; "M", "MiB", "MB" all
 * mean 2^20), a multiple of 2 MiB in 2 MiB..1 GiB. 0, or a usage error. */
static int parse_memory(struct vm_opts *o, const char *s)
{
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return usage_fail(o, "--memory wants a size like 32M, not '%.32s'", s);
	while (*p >= '0' && *p <= '9') {
		if (v > (1ull << 40))
			return usage_fail(o, "--memory %.32s is too large (at most 1G)", s);
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	switch (*p) {
	case 'k': case 'K': mul = 1ull << 10; p++; break;
	case 'm': case 'M': mul = 1ull << 20; p++; break;
	case 'g': case 'G': mul = 1ull << 30; p++; break;
	default: break;
	}
	if (mul > 1 && (strcmp(p, "iB") == 0 || strcmp(p, "B") == 0))
		p += strlen(p);
	if (*p)
		return usage_fail(o, "--memory wants a size like 32M, not '%.32s'", s);
	if (v > (1ull << 40) / mul)
		return usage_fail(o, "--memory %.32s is too large (at most 1G)", s);
	v *= mul;
	if (v < PROTO_VM_MEM_ALIGN || v > PROTO_VM_MEM_MAX)
		return usage_fail(o, "--memory %.32s is out of range (2M..1G)", s);
	if (v % PROTO_VM_MEM_ALIGN)
		return usage_fail(o, "--memory %.32s is not a multiple of 2M", s);
	o->mem_size = v;
	return 0;
}

static const char command_names[] =
	"create, start, stop, destroy, status, console, list";

/* argv[0], the command. Quoted in an error only up to a '=': a shell line
 * typed in the wrong place may be KEY=VALUE. */
static int take_command(struct vm_opts *o, const char *word)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(word, commands[i].name) == 0) {
			o->cmd = commands[i].cmd;
			o->cmd_name = commands[i].name;
			o->type = commands[i].type;
			return 0;
		}
	}
	if (strcmp(word, "shell") == 0)
		return usage_fail(o, "'shell' is not a command inside the shell");
	return usage_fail(o, "unknown command '%.*s' (%s)",
			  (int)strcspn(word, "="), word, command_names);
}

static int take_seconds(struct vm_opts *o, const char *arg, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(arg, &end);
	if (errno || end == arg || *end || !(*out > 0) || *out > 86400)
		return usage_fail(o, "--idle wants seconds in (0, 86400], not '%.32s'",
				  arg);
	return 0;
}

/* In the shell the connection is the shell's: its options are refused on a
 * line (--timeout is not one of them: it bounds the line's command). */
static bool is_connection_opt(int c)
{
	return c == 'r' || c == 'a' || c == 'c' || c == 'k' || c == 'R' || c == 'D' ||
	       c == 'P';
}

/* One option of a command (getopt_long's c): 0, or a usage error. */
static int take_option(struct vm_opts *o, int c, char *arg, const char *word)
{
	int taken;

	if (o->in_shell && (is_connection_opt(c) || c == 'j'))
		return usage_fail(o, "--relay, --ca, --cert, --key, --reference, "
				  "--allow-dev, --profile and --json belong to 'custos vm shell', "
				  "not to a line");
	taken = attest_conn_opt(&o->c, c, arg);
	if (taken < 0)
		return usage_fail(o, "--timeout wants seconds in (0, 86400], not '%.32s'",
				  arg);
	if (taken)
		return 0;
	switch (c) {
	case 'j': o->json = true; return 0;
	case 'f': o->follow = true; return 0;
	case 'y': o->interactive = true; return 0;
	case 'd': return take_seconds(o, arg, &o->idle);
	case 'u':
	case 'A':
		if (o->start_mode)
			return usage_fail(o, "--resume and --afresh: one or the other");
		o->start_mode = c == 'u' ? PROTO_START_RESUME : PROTO_START_AFRESH;
		return 0;
	case 'm': o->memory = arg; return 0;
	case 'i': o->image = arg; return 0;
	case 'I': o->init = arg; return 0;
	case 'K': o->kernel = arg; return 0;
	case 'n': o->initrd = arg; return 0;
	case 'C': o->cmdline = arg; return 0;
	case 's':
		if (o->n_secrets == MAX_SECRETS)
			return usage_fail(o, "more than %u --secret options", MAX_SECRETS);
		o->secret_args[o->n_secrets++] = arg;
		return 0;
	case 'S':
		if (o->n_secret_files == MAX_SECRET_FILES)
			return usage_fail(o, "more than %u --secret-file options",
					  MAX_SECRET_FILES);
		if (strcmp(arg, "-") == 0) {
			/* stdin: the shell's is its commands, and one stream
			 * can be read once. */
			if (o->in_shell)
				return usage_fail(o, "--secret-file - (stdin) is not for a "
						  "line of the shell: its stdin is the commands");
			for (size_t i = 0; i < o->n_secret_files; i++)
				if (strcmp(o->secret_files[i], "-") == 0)
					return usage_fail(o, "--secret-file - (stdin) is given twice");
		}
		o->secret_files[o->n_secret_files++] = arg;
		return 0;
	case 'h':
		if (!o->in_shell) {
			/* `custos vm CMD --help`: that command's part, and the
			 * options every command shares. */
			printf("usage: custos vm %s ... (with the options below)\n\n",
			       o->cmd_name);
			if (cli_print_command_help(stdout, usage_text, o->cmd_name, NULL) == 0)
				printf("\n%s", strstr(usage_text, "options:"));
			else
				fputs(usage_text, stdout);
			exit(0);
		}
		return usage_fail(o, "--help is not for a line ('custos vm --help')");
	default:
		/* Never quote the argument: it may be a secret. */
		if (optopt)
			return usage_fail(o, "an option needs an argument");
		/* Up to a '=': what follows may be a value. */
		return usage_fail(o, "unknown option '%.*s'",
				  (int)strcspn(word, "="), word);
	}
}

/* The one VM name a command takes (list: none). */
static int take_name(struct vm_opts *o, int argc, char **argv)
{
	if (o->cmd == CMD_LIST)
		return optind < argc ? usage_fail(o, "list takes no VM name") : 0;
	if (optind >= argc)
		return usage_fail(o, "needs a VM name");
	if (optind + 1 < argc)
		return usage_fail(o, "takes one VM name");
	o->name = argv[optind];
	if (proto_vm_name_set(o->vm.name, o->name) != 0) {
		char shown[41];
		size_t n = strnlen(o->name, 40);

		sanitize_line(o->name, n, shown);
		return usage_fail(o, "VM name '%s' is not valid (1..31 of a-z 0-9 _ -)",
				  shown);
	}
	return 0;
}

static int check_create_opts(struct vm_opts *o)
{
	if (o->cmd != CMD_CREATE) {
		if (o->memory || o->image || o->init || o->n_secrets || o->n_secret_files)
			return usage_fail(o, "--memory, --image, --init-data, --secret and --secret-file are for create only");
		if (o->kernel || o->initrd || o->cmdline)
			return usage_fail(o, "--kernel, --initrd and --cmdline are for create only");
		return 0;
	}
	if (!o->memory)
		return usage_fail(o, "needs --memory SIZE (e.g. 32M)");
	if (o->image && o->kernel)
		return usage_fail(o, "--image (an ELF VM) and --kernel (a Linux VM) exclude each other");
	if (!o->image && !o->kernel)
		return usage_fail(o, "needs --image FILE or --kernel BZIMAGE");
	if (o->image && (o->initrd || o->cmdline))
		return usage_fail(o, "--initrd and --cmdline are for a Linux VM (--kernel)");
	if (o->kernel && (o->init || o->n_secrets || o->n_secret_files))
		return usage_fail(o, "a Linux VM (--kernel) takes no --init-data, --secret or --secret-file");
	if (o->cmdline && strlen(o->cmdline) >= PROTO_CMDLINE_MAX)
		return usage_fail(o, "--cmdline is too long (at most %u bytes)",
				  PROTO_CMDLINE_MAX - 1);
	return parse_memory(o, o->memory);
}

static int check_console_opts(struct vm_opts *o)
{
	if ((o->follow || o->interactive || o->idle > 0) && o->cmd != CMD_CONSOLE)
		return usage_fail(o, "--follow, --interactive and --idle are for console only");
	if ((o->follow || o->interactive) && o->in_shell)
		return usage_fail(o, "console --follow and --interactive are not for the "
				  "shell (its input is the commands); run them on their own");
	if (o->follow && o->interactive)
		return usage_fail(o, "--follow and --interactive exclude each other "
				  "(--interactive follows too)");
	if (o->idle > 0 && !o->interactive)
		return usage_fail(o, "--idle is for console --interactive");
	if (o->json && (o->follow || o->interactive))
		return usage_fail(o, "--json prints the console once; not with --follow "
				  "or --interactive");
	if (!(o->idle > 0))
		o->idle = CONSOLE_IDLE_DEFAULT;
	return 0;
}

/*
 * A command and its options, argv[0] the command: 0, or 2 with o->usage
 * set. The connection options (and their environment) are checked here only
 * for a command on its own: in the shell they are the shell's.
 */
static int parse_command(int argc, char **argv, struct vm_opts *o, bool in_shell)
{
	static const struct option longopts[] = {
		ATTEST_CONN_LONGOPTS,
		{ "json", no_argument, NULL, 'j' },
		{ "memory", required_argument, NULL, 'm' },
		{ "image", required_argument, NULL, 'i' },
		{ "init-data", required_argument, NULL, 'I' },
		{ "kernel", required_argument, NULL, 'K' },
		{ "initrd", required_argument, NULL, 'n' },
		{ "cmdline", required_argument, NULL, 'C' },
		{ "secret", required_argument, NULL, 's' },
		{ "secret-file", required_argument, NULL, 'S' },
		{ "follow", no_argument, NULL, 'f' },
		{ "interactive", no_argument, NULL, 'y' },
		{ "idle", required_argument, NULL, 'd' },
		{ "resume", no_argument, NULL, 'u' },
		{ "afresh", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *bad;
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->in_shell = in_shell;
	rc = take_command(o, argv[0]);
	opterr = 0;
	/* 0, not 1: glibc's getopt then forgets the previous parse (the shell
	 * parses many lines); argv[0], the command, is skipped as a program
	 * name would be. */
	optind = 0;
	while (rc == 0 && (c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
		rc = take_option(o, c, optarg, argv[optind - 1]);
	if (rc == 0)
		rc = take_name(o, argc, argv);
	if (rc == 0)
		rc = check_create_opts(o);
	if (rc == 0)
		rc = check_console_opts(o);
	if (rc == 0 && o->start_mode && o->cmd != CMD_START)
		rc = usage_fail(o, "--resume and --afresh are for start only");
	if (rc)
		return rc;
	if (!(o->c.timeout > 0)) /* no --timeout: it takes only > 0 */
		o->c.timeout = o->cmd == CMD_CREATE ? TIMEOUT_CREATE :
			       o->follow || o->interactive ? TIMEOUT_FOLLOW :
			       TIMEOUT_OTHER;
	if (in_shell)
		return 0;
	attest_conn_from_env(&o->c);
	bad = attest_conn_check(&o->c);
	return bad ? usage_fail(o, "%s", bad) : 0;
}

/* ---- Secrets ------------------------------------------------------------- */

static bool key_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '_';
}

/* What is wrong with one KEY=VALUE. */
enum secret_fault {
	SECRET_OK,
	SECRET_NO_EQ,     /* no '=' */
	SECRET_KEY,       /* key not 1..64 of A-Z a-z 0-9 _ */
	SECRET_VALUE,     /* value not 0..1024 printable ASCII */
	SECRET_TWICE,     /* key already in the block */
	SECRET_TOO_MUCH,  /* the block would pass PROTO_SECRETS_MAX */
};

/* Check kv (n bytes; it may hold anything, NULs included) and append it
 * to the block as KEY=VALUE\0. *key_len is set once the key is known
 * good (messages may name the key, never the value). */
static enum secret_fault secret_add(uint8_t *buf, size_t cap, size_t *len,
				    const char *kv, size_t n, size_t *key_len)
{
	const char *eq = memchr(kv, '=', n);
	char one[PROTO_SECRET_KEY_MAX + 1 + PROTO_SECRET_VALUE_MAX + 1];
	size_t kl, vl;
	enum secret_fault f = SECRET_OK;

	*key_len = 0;
	if (!eq)
		return SECRET_NO_EQ;
	kl = (size_t)(eq - kv);
	vl = n - kl - 1;
	if (kl == 0 || kl > PROTO_SECRET_KEY_MAX)
		return SECRET_KEY;
	for (size_t j = 0; j < kl; j++)
		if (!key_char(kv[j]))
			return SECRET_KEY;
	*key_len = kl;
	if (vl > PROTO_SECRET_VALUE_MAX)
		return SECRET_VALUE;
	for (size_t j = 0; j < vl; j++)
		if ((unsigned char)eq[1 + j] < 0x20 || (unsigned char)eq[1 + j] > 0x7e)
			return SECRET_VALUE;
	for (size_t off = 0; off < *len; off += strlen((char *)buf + off) + 1)
		if (strncmp((char *)buf + off, kv, kl) == 0 && buf[off + kl] == '=')
			return SECRET_TWICE;
	if (*len + n + 1 > PROTO_SECRETS_MAX)
		return SECRET_TOO_MUCH;
	memcpy(one, kv, n);
	one[n] = '\0';
	if (proto_secret_add(buf, cap, len, one) != 0)
		f = SECRET_KEY; /* cannot happen after the checks above */
	crypto_wipe(one, sizeof(one));
	return f;
}

/* The --secret arguments, blanking each value in argv as soon as it is in
 * the block. Usage errors name the key (when it is a well-formed one) and
 * never the value. */
static int secrets_from_args(struct vm_opts *o, uint8_t *buf, size_t cap,
			     size_t *len)
{
	for (size_t i = 0; i < o->n_secrets; i++) {
		char *a = o->secret_args[i];
		size_t kl;

		switch (secret_add(buf, cap, len, a, strlen(a), &kl)) {
		case SECRET_OK: break;
		case SECRET_NO_EQ:
			return usage_fail(o, "--secret wants KEY=VALUE (argument %zu has no '=')",
					  i + 1);
		case SECRET_KEY:
			return usage_fail(o, "--secret: the key of argument %zu is not 1..%u of A-Z a-z 0-9 _",
					  i + 1, PROTO_SECRET_KEY_MAX);
		case SECRET_VALUE:
			return usage_fail(o, "--secret %.*s: the value must be 0..%u printable ASCII characters",
					  (int)kl, a, PROTO_SECRET_VALUE_MAX);
		case SECRET_TWICE:
			return usage_fail(o, "--secret %.*s is given twice", (int)kl, a);
		case SECRET_TOO_MUCH:
			return usage_fail(o, "the secrets take more than %u bytes (at --secret %.*s)",
					  PROTO_SECRETS_MAX, (int)kl, a);
		}
		/* Out of argv (and so /proc/PID/cmdline) at once. */
		memset(a + kl + 1, 0, strlen(a + kl + 1));
	}
	return 0;
}

/* A secret file: regular, at most SECRET_FILE_MAX bytes, into a buffer the
 * caller wipes and frees; NULL with a usage error. */
static char *read_secret_file(struct vm_opts *o, const char *path, size_t *len)
{
	bool from_stdin = strcmp(path, "-") == 0;
	FILE *f = from_stdin ? stdin : fopen(path, "rb");
	struct stat st;
	char *buf;

	if (!f) {
		usage_fail(o, "cannot read secret file '%s': %s", path, strerror(errno));
		return NULL;
	}
	/* From stdin: a pipe or a redirected file, never a terminal, where
	 * the secrets would be echoed as typed. */
	if (from_stdin && isatty(fileno(f))) {
		usage_fail(o, "--secret-file -: stdin is a terminal; pipe the secrets in "
			   "(e.g. from a password manager) or give a file");
		return NULL;
	}
	if (!from_stdin && (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode))) {
		fclose(f);
		usage_fail(o, "secret file '%s' is not a regular file", path);
		return NULL;
	}
	buf = malloc(SECRET_FILE_MAX + 1);
	if (!buf) {
		if (!from_stdin)
			fclose(f);
		usage_fail(o, "out of memory");
		return NULL;
	}
	*len = fread(buf, 1, SECRET_FILE_MAX + 1, f);
	if (ferror(f) || *len > SECRET_FILE_MAX) {
		bool big = !ferror(f);

		if (!from_stdin)
			fclose(f);
		crypto_wipe(buf, SECRET_FILE_MAX + 1);
		free(buf);
		if (big)
			usage_fail(o, "secret file '%s' is larger than %u bytes", path,
				   SECRET_FILE_MAX);
		else
			usage_fail(o, "cannot read secret file '%s'", path);
		return NULL;
	}
	if (!from_stdin)
		fclose(f);
	return buf;
}

/* One line of a secret file into the block: 0, or a usage error naming the
 * file, the line and (once it is a good one) the key, never a value. */
static int secret_file_line(struct vm_opts *o, const char *path, size_t line,
			    const char *l, size_t ll, uint8_t *buf, size_t cap,
			    size_t *len)
{
	size_t kl;

	switch (secret_add(buf, cap, len, l, ll, &kl)) {
	case SECRET_OK:
		return 0;
	case SECRET_NO_EQ:
		return usage_fail(o, "--secret-file '%s' line %zu: not KEY=VALUE (no '=')",
				  path, line);
	case SECRET_KEY:
		return usage_fail(o, "--secret-file '%s' line %zu: the key is not 1..%u of A-Z a-z 0-9 _",
				  path, line, PROTO_SECRET_KEY_MAX);
	case SECRET_VALUE:
		return usage_fail(o, "--secret-file '%s' line %zu (%.*s): the value must be 0..%u printable ASCII characters",
				  path, line, (int)kl, l, PROTO_SECRET_VALUE_MAX);
	case SECRET_TWICE:
		return usage_fail(o, "--secret-file '%s' line %zu: %.*s is given twice",
				  path, line, (int)kl, l);
	case SECRET_TOO_MUCH:
		return usage_fail(o, "the secrets take more than %u bytes (at --secret-file '%s' line %zu, %.*s)",
				  PROTO_SECRETS_MAX, path, line, (int)kl, l);
	}
	return 0;
}

/* The lines of one secret file: KEY=VALUE each, LF or CRLF, blank lines and
 * lines starting with '#' skipped. The file's text is wiped either way. */
static int secrets_from_file(struct vm_opts *o, const char *path, uint8_t *buf,
			     size_t cap, size_t *len)
{
	size_t n, line = 0;
	char *text = read_secret_file(o, path, &n);
	int rc = 0;

	if (!text)
		return ATTEST_EXIT_ERROR;
	for (size_t at = 0; at < n && rc == 0; ) {
		const char *nl = memchr(text + at, '\n', n - at);
		size_t end = nl ? (size_t)(nl - text) : n, ll = end - at;
		const char *l = text + at;

		line++;
		at = nl ? end + 1 : n;
		if (ll && l[ll - 1] == '\r')
			ll--;
		if (ll == 0 || l[0] == '#')
			continue;
		rc = secret_file_line(o, path, line, l, ll, buf, cap, len);
	}
	crypto_wipe(text, n);
	free(text);
	return rc;
}

/* The secrets block: the --secret arguments, then each --secret-file. 0, or
 * a usage error (the block is then wiped). */
static int build_secrets(struct vm_opts *o, uint8_t *buf, size_t cap, size_t *len)
{
	int rc;

	*len = 0;
	rc = secrets_from_args(o, buf, cap, len);
	for (size_t i = 0; rc == 0 && i < o->n_secret_files; i++)
		rc = secrets_from_file(o, o->secret_files[i], buf, cap, len);
	if (rc) {
		crypto_wipe(buf, cap);
		*len = 0;
	}
	return rc;
}

/* ---- Files and the launch measurement ------------------------------------ */

static int read_file(struct vm_run *r, const char *path, const char *what,
		     size_t min, size_t max, uint8_t **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *buf;
	size_t n;

	if (!f)
		return fail(r, ATTEST_EXIT_ERROR, "cannot read %s '%s': %s", what,
			    path, strerror(errno));
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return fail(r, ATTEST_EXIT_ERROR, "%s '%s' is not a regular file",
			    what, path);
	}
	if ((uint64_t)st.st_size > max || (size_t)st.st_size < min) {
		fclose(f);
		return fail(r, ATTEST_EXIT_ERROR,
			    "%s '%s' is %lld bytes; it must be %zu..%zu", what, path,
			    (long long)st.st_size, min, max);
	}
	buf = malloc(max + 1);
	if (!buf) {
		fclose(f);
		return fail(r, ATTEST_EXIT_ERROR, "out of memory");
	}
	n = fread(buf, 1, max + 1, f);
	if (ferror(f) || n > max || n < min) {
		fclose(f);
		free(buf);
		return fail(r, ATTEST_EXIT_ERROR, "cannot read %s '%s'", what, path);
	}
	fclose(f);
	*out = buf;
	*len = n;
	return 0;
}

static void put_u64(struct crypto_sha384_ctx *h, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	crypto_sha384_update(h, b, sizeof(b));
}

void vm_launch_measurement(const char name[PROTO_VM_NAME_MAX], uint64_t mem_size,
			   const uint8_t *image, size_t image_len,
			   const uint8_t *init, size_t init_len,
			   const uint8_t salt[PROTO_SALT_LEN],
			   const uint8_t *secrets, size_t secrets_len,
			   uint8_t out[48])
{
	static const char tag[] = "CUSTOS-VM-LAUNCH-2";
	struct crypto_sha384_ctx h;
	struct crypto_sha256_ctx s;
	uint8_t d[CRYPTO_SHA256_LEN];

	crypto_sha384_init(&h);
	crypto_sha384_update(&h, tag, sizeof(tag) - 1);
	crypto_sha384_update(&h, name, PROTO_VM_NAME_MAX);
	put_u64(&h, mem_size);
	crypto_sha256(image, image_len, d);
	crypto_sha384_update(&h, d, sizeof(d));
	put_u64(&h, image_len);
	crypto_sha256(init_len ? init : (const uint8_t *)"", init_len, d);
	crypto_sha384_update(&h, d, sizeof(d));
	put_u64(&h, init_len);
	crypto_sha256_init(&s);
	crypto_sha256_update(&s, salt, PROTO_SALT_LEN);
	if (secrets_len)
		crypto_sha256_update(&s, secrets, secrets_len);
	crypto_sha256_final(&s, d);
	crypto_sha384_update(&h, d, sizeof(d));
	put_u64(&h, secrets_len);
	crypto_sha384_final(&h, out);
	crypto_wipe(d, sizeof(d));
}

/* ---- Answers ------------------------------------------------------------- */

static int tls_exit(int tt)
{
	switch (tt) {
	case TT_E_REFUSED: return ATTEST_EXIT_REFUSED;
	case TT_E_INTEGRITY: return ATTEST_EXIT_FAILED;
	default: return ATTEST_EXIT_ERROR;
	}
}

/* A PROTO_ERROR answer, in words. */
static int platform_error(struct vm_run *r, const struct proto_msg *m)
{
	const struct vm_opts *op = r->op;
	uint32_t code = m->len >= 4 ? load_le32(m->body) : 0;
	int text_len = m->len > 4 ? (int)(m->len - 4) : 0;
	const char *text = m->len > 4 ? (const char *)m->body + 4 : "";
	const char *name = op->name ? op->name : "";
	char what[200];
	int status = ATTEST_EXIT_REFUSED;

	switch (code) {
	case PROTO_ERR_NOT_FOUND:
		snprintf(what, sizeof(what), "not found: this tenant has no VM named '%s'", name);
		break;
	case PROTO_ERR_EXISTS:
		snprintf(what, sizeof(what), "exists: this tenant already has a VM named '%s'", name);
		break;
	case PROTO_ERR_NO_MEMORY:
		snprintf(what, sizeof(what), "no memory: the platform has not enough free memory%s",
			 op->cmd == CMD_CREATE ? " for this VM" : "");
		break;
	case PROTO_ERR_STATE:
		snprintf(what, sizeof(what), "state: VM '%s' is not in a state that allows %s (see 'custos vm status %s')",
			 name, op->cmd_name, name);
		break;
	case PROTO_ERR_VERIFY:
		snprintf(what, sizeof(what), "verify: the platform found that VM '%s' does not verify (its sealed state was altered)",
			 name);
		status = ATTEST_EXIT_FAILED;
		break;
	case PROTO_ERR_ROLLBACK:
		snprintf(what, sizeof(what), "rollback: the stored sealed state of VM '%s' is an older one than the platform's record (rolled back)",
			 name);
		status = ATTEST_EXIT_FAILED;
		break;
	case PROTO_ERR_STORAGE:
		snprintf(what, sizeof(what), "storage: the relay's storage failed or lacks the sealed state of VM '%s'",
			 name);
		break;
	case PROTO_ERR_TOO_LARGE:
		snprintf(what, sizeof(what), "too large: the image, init data or state is beyond the platform's limits");
		break;
	case PROTO_ERR_BUSY:
		snprintf(what, sizeof(what), "busy: the platform is busy, try again later");
		break;
	case PROTO_ERR_BAD_REQUEST:
		snprintf(what, sizeof(what), "bad request: the platform did not accept the request");
		break;
	case PROTO_ERR_INTERNAL:
		snprintf(what, sizeof(what), "internal error: the platform failed");
		break;
	default:
		snprintf(what, sizeof(what), "error");
		break;
	}
	return fail(r, status, "%s (code %u; the platform says: %.*s)", what, code,
		    text_len, text);
}

/* Send one request and receive its answer. 0 with *m the answer (not an
 * ERROR), or an exit status with the reason set. */
static int request(struct vm_run *r, uint16_t type, const void *body, size_t len,
		   struct proto_msg *m)
{
	char err[512];
	bool uploading = interrupt_note_current() == IP_UPLOAD;
	int rc;

	if (!uploading)
		interrupt_note_phase(IP_REQUEST);
	rc = tenant_tls_send(r->t, type, body, len, err, sizeof(err));
	if (rc == TT_OK)
		rc = tenant_tls_recv(r->t, m, err, sizeof(err));
	if (rc == TT_OK && !uploading)
		interrupt_note_phase(IP_DONE);
	if (rc != TT_OK) {
		r->session_lost = true; /* TLS is out of step, closed or timed out */
		return fail(r, tls_exit(rc), "%s", err);
	}
	if (m->type == PROTO_ERROR)
		return platform_error(r, m);
	return 0;
}

/* Check VM_INFO records: n of them (or any number up to the limit if
 * n < 0), each well-formed; copy them into out. 0 or exit status. */
static int take_infos(struct vm_run *r, const struct proto_msg *m, int n,
		      struct proto_vm_info *out, size_t *count)
{
	size_t k;

	if (m->type != PROTO_VM_INFO)
		return answer_fail(r,
			    "the platform answered with message type 0x%02x, not VM information",
			    m->type);
	if (m->len % sizeof(struct proto_vm_info) ||
	    m->len / sizeof(struct proto_vm_info) > PROTO_VM_LIST_MAX)
		return answer_fail(r,
			    "the platform's VM information is malformed (%u bytes)", m->len);
	k = m->len / sizeof(struct proto_vm_info);
	if (n >= 0 && k != (size_t)n)
		return answer_fail(r,
			    "the platform answered with %zu VM records, not %d", k, n);
	for (size_t i = 0; i < k; i++) {
		struct proto_vm_info *v = &out[i];

		memcpy(v, m->body + i * sizeof(*v), sizeof(*v));
		if (!proto_vm_name_ok(v->name) || v->state > PROTO_VM_STATE_MAX ||
		    !memchr(v->stop_reason, 0, sizeof(v->stop_reason)))
			return answer_fail(r,
				    "the platform's VM information is malformed (record %zu)",
				    i + 1);
	}
	*count = k;
	return 0;
}

/* One info record for our own VM. */
static int take_info(struct vm_run *r, const struct proto_msg *m,
		     struct proto_vm_info *out)
{
	size_t k;
	int rc = take_infos(r, m, 1, out, &k);

	if (rc)
		return rc;
	if (memcmp(out->name, r->op->vm.name, PROTO_VM_NAME_MAX) != 0)
		return answer_fail(r,
			    "the platform answered about another VM than '%s'",
			    r->op->name);
	return 0;
}

/* ---- Output -------------------------------------------------------------- */

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void sanitize_line(const char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];

		out[i] = c < 0x20 || c > 0x7e ? '?' : (char)c;
	}
	out[n] = '\0';
}

/* What the attestation established (the report's fields point into the
 * receive buffer, which the VM answers reuse: copied right after it). */
struct attested {
	char platform_id[REPORT_PLATFORM_MAX + 1];
	struct report_verdict verdict;
	enum attest_ref_sig ref_sig;   /* whether the CA signed the reference */
};

/* One VM as a JSON object; with a (the answer to a request about this VM),
 * also what the attestation said about the platform. */
/* The members every successful command's JSON object starts with, so
 * that success and failure have one shape (result, exit_status, command;
 * docs/tenant-cli.md, "JSON"). Opens the object. */
static void print_done_head(const struct vm_opts *op)
{
	printf("{\"result\": \"done\", \"exit_status\": 0, \"command\": \"%s\", ",
	       op->cmd_name);
}

/* One VM as a JSON object: a command's answer (op given: with the head
 * above) or an element of list's "vms" (op NULL). */
static void print_info_json(const struct vm_opts *op, const struct proto_vm_info *v,
			    int match, const struct attested *a)
{
	if (op)
		print_done_head(op);
	else
		printf("{");
	printf("\"name\": ");
	json_cstr(v->name);
	printf(", \"state\": \"%s\", \"state_code\": %u, \"memory\": %llu, \"version\": %llu",
	       proto_vm_state_name(v->state), v->state, (unsigned long long)v->mem_size,
	       (unsigned long long)v->version);
	printf(", \"sealed\": %s", v->flags & PROTO_VM_INFO_SEALED ? "true" : "false");
	if (v->flags & (PROTO_VM_INFO_AFRESH | PROTO_VM_INFO_RESUMED))
		printf(", \"started\": \"%s\"", v->flags & PROTO_VM_INFO_AFRESH ?
		       "afresh" : "resumed");
	printf(", \"image_len\": %llu, \"image_received\": %llu, \"init_len\": %llu, \"init_received\": %llu",
	       (unsigned long long)v->image_len, (unsigned long long)v->image_received,
	       (unsigned long long)v->init_len, (unsigned long long)v->init_received);
	printf(", \"measurement\": ");
	if (all_zero(v->measurement, sizeof(v->measurement))) {
		printf("null");
	} else {
		char hex[97];

		cli_hex(v->measurement, sizeof(v->measurement), hex);
		printf("\"%s\"", hex);
	}
	if (match >= 0)
		printf(", \"measurement_match\": %s", match ? "true" : "false");
	printf(", \"stop_reason\": ");
	if (v->stop_reason[0])
		json_cstr(v->stop_reason);
	else
		printf("null");
	if (a) {
		printf(", \"platform\": {\"id\": ");
		json_cstr(a->platform_id);
		printf(", ");
		attest_json_dev(&a->verdict);
		printf("}");
	}
	printf("}");
}

static void print_mem(uint64_t m)
{
	if (m % (1ull << 30) == 0 && m)
		printf("%lluG", (unsigned long long)(m >> 30));
	else
		printf("%lluM", (unsigned long long)(m >> 20));
}

static void print_info_human(const struct proto_vm_info *v)
{
	printf("name: %s\n", v->name);
	printf("state: %s%s\n", proto_vm_state_name(v->state),
	       v->state == HC_VM_EXITED && (v->flags & PROTO_VM_INFO_SEALED) ?
	       " (its state sealed in storage)" : "");
	if (v->flags & (PROTO_VM_INFO_AFRESH | PROTO_VM_INFO_RESUMED))
		printf("started: %s\n", v->flags & PROTO_VM_INFO_AFRESH ?
		       "booted afresh from its boot copy" :
		       "resumed from its sealed state");
	printf("memory: ");
	print_mem(v->mem_size);
	printf(" (%llu bytes)\n", (unsigned long long)v->mem_size);
	printf("version: %llu\n", (unsigned long long)v->version);
	if (v->state == HC_VM_CREATED)
		printf("upload: image %llu of %llu bytes, init data %llu of %llu bytes\n",
		       (unsigned long long)v->image_received,
		       (unsigned long long)v->image_len,
		       (unsigned long long)v->init_received,
		       (unsigned long long)v->init_len);
	if (all_zero(v->measurement, sizeof(v->measurement))) {
		printf("measurement: none yet\n");
	} else {
		char hex[97];

		cli_hex(v->measurement, sizeof(v->measurement), hex);
		printf("measurement: %s\n", hex);
	}
	if (v->stop_reason[0]) {
		char reason[65];

		sanitize_line(v->stop_reason, strlen(v->stop_reason), reason);
		printf("stop reason: %s\n", reason);
	}
}

static void print_platform(const struct attest_conn *c, const struct attested *a)
{
	char why[512] = "";

	if (a->verdict.dev_reasons)
		attest_dev_reasons_text(a->verdict.dev_reasons, why, sizeof(why));
	printf("platform: %s, attested (%s%s%s%s%s)\n", a->platform_id,
	       c->reference ? "measurements match the reference" :
				 "measurements NOT compared: no --reference",
	       a->ref_sig == ATTEST_REF_SIGNED ? ", signed by the CA" :
	       a->ref_sig == ATTEST_REF_UNSIGNED ? ", UNSIGNED" : "",
	       a->verdict.dev_reasons ? "; DEV: " : "", why,
	       a->verdict.dev_reasons ? "; accepted with --allow-dev" : "");
}

static void progress(struct vm_run *r, uint64_t done, uint64_t total)
{
	int pct = total ? (int)(done * 100 / total) : 100;
	char bar[31];
	int fill = pct * 30 / 100;

	if (!r->progress || (pct == r->last_pct && done != total))
		return;
	r->last_pct = pct;
	memset(bar, '#', (size_t)fill);
	memset(bar + fill, '-', (size_t)(30 - fill));
	bar[30] = '\0';
	fprintf(stderr, "\r%s: uploading [%s] %3d%% %llu/%llu KiB", prog, bar, pct,
		(unsigned long long)(done >> 10), (unsigned long long)(total >> 10));
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

/* ---- Commands ------------------------------------------------------------ */

struct create_inputs {
	uint8_t *image, *init;
	size_t image_len, init_len;
	bool is_linux;
	uint8_t *initrd;          /* a Linux VM's */
	size_t initrd_len;
	char cmdline[PROTO_CMDLINE_MAX];
	size_t cmdline_len;       /* with the NUL; 0: none */
	uint8_t secrets[PROTO_SECRETS_MAX];
	size_t secrets_len;
	uint8_t salt[PROTO_SALT_LEN];
	uint8_t measurement[48];
};

/* A Linux VM: the bzImage checked with the TCB's own code
 * (tcb/linux_boot.c) against --memory, the initrd and command line, and
 * the measurement the TCB will record (tcb/linux_measure.c). */
static int create_read_linux(struct vm_run *r, struct vm_opts *op,
			     struct create_inputs *ci)
{
	struct linux_layout l;
	char why[160];
	int rc;

	ci->is_linux = true;
	rc = read_file(r, op->kernel, "kernel", 1, PROTO_KERNEL_MAX, &ci->image,
		       &ci->image_len);
	if (rc == 0 && op->initrd)
		rc = read_file(r, op->initrd, "initrd", 0, PROTO_INITRD_MAX,
			       &ci->initrd, &ci->initrd_len);
	if (rc)
		return rc;
	if (op->cmdline) {
		ci->cmdline_len = strlen(op->cmdline) + 1; /* checked: < 2048 */
		memcpy(ci->cmdline, op->cmdline, ci->cmdline_len);
	}
	if (linux_plan(ci->image, ci->image_len, op->mem_size, ci->initrd_len,
		       ci->cmdline, ci->cmdline_len, &l, why, sizeof(why)))
		return fail(r, ATTEST_EXIT_ERROR, "kernel '%s': %s", op->kernel, why);
	if (crypto_init() != CRYPTO_OK)
		return fail(r, ATTEST_EXIT_ERROR, "cannot start the crypto layer");
	linux_launch_measurement_of(op->vm.name, op->mem_size, ci->image,
				    ci->image_len, ci->initrd, ci->initrd_len,
				    ci->cmdline, ci->cmdline_len, ci->measurement);
	return 0;
}

/* The TCB's own placement (tcb/elf_place.c) of this image, init data and
 * secrets in --memory: what it would refuse after the whole upload is
 * refused here, before a byte is sent, in its words. */
static int check_elf_fits(struct vm_run *r, const struct vm_opts *op,
			  const struct create_inputs *ci)
{
	static struct elf_placement ep;
	char why[160];

	if (elf_place(ci->image, ci->image_len, op->mem_size, LC_STACK_RESERVE,
		      ci->init_len, ci->secrets_len, &ep, why, sizeof(why)))
		return fail(r, ATTEST_EXIT_ERROR, "image '%s': %s (the platform "
			    "would refuse it; nothing was sent)", op->image, why);
	return 0;
}

static int create_read(struct vm_run *r, struct vm_opts *op,
		       struct create_inputs *ci)
{
	int rc;

	if (op->kernel)
		return create_read_linux(r, op, ci);
	if (build_secrets(op, ci->secrets, sizeof(ci->secrets), &ci->secrets_len))
		return fail_usage(r);
	rc = read_file(r, op->image, "image", 1, IMAGE_MAX, &ci->image,
		       &ci->image_len);
	if (rc == 0 && op->init)
		rc = read_file(r, op->init, "init data", 0, INIT_MAX, &ci->init,
			       &ci->init_len);
	if (rc)
		return rc;
	rc = check_elf_fits(r, op, ci);
	if (rc)
		return rc;
	if (crypto_init() != CRYPTO_OK ||
	    crypto_random(ci->salt, sizeof(ci->salt)) != CRYPTO_OK)
		return fail(r, ATTEST_EXIT_ERROR, "cannot get random bytes for the salt");
	vm_launch_measurement(op->vm.name, op->mem_size, ci->image, ci->image_len,
			      ci->init, ci->init_len, ci->salt, ci->secrets,
			      ci->secrets_len, ci->measurement);
	return 0;
}

static int upload(struct vm_run *r, uint32_t part, const uint8_t *data,
		  size_t len, uint64_t *done, uint64_t total,
		  struct proto_vm_info *info)
{
	static uint8_t body[sizeof(struct proto_vm_upload) + PROTO_CHUNK_MAX];
	struct proto_vm_upload u;
	struct proto_msg m;

	for (size_t off = 0; off < len; off += PROTO_CHUNK_MAX) {
		size_t n = len - off < PROTO_CHUNK_MAX ? len - off : PROTO_CHUNK_MAX;
		int rc;

		memset(&u, 0, sizeof(u));
		memcpy(u.name, r->op->vm.name, sizeof(u.name));
		u.part = part;
		u.offset = off;
		memcpy(body, &u, sizeof(u));
		memcpy(body + sizeof(u), data + off, n);
		rc = request(r, PROTO_VM_UPLOAD, body, sizeof(u) + n, &m);
		if (rc == 0)
			rc = take_info(r, &m, info);
		if (rc) {
			if (r->progress)
				fputc('\n', stderr);
			return rc;
		}
		*done += n;
		interrupt_note_upload(*done, total);
		progress(r, *done, total);
	}
	return 0;
}

/* Destroy the VM the upload left created, on the still open session:
 * what became of it, in words, without touching r's reason. */
static const char *destroy_half_created(struct vm_run *r)
{
	struct proto_msg m;
	char err[256];
	int rc = tenant_tls_send(r->t, PROTO_VM_DESTROY, &r->op->vm,
				 sizeof(r->op->vm), err, sizeof(err));

	if (rc == TT_OK)
		rc = tenant_tls_recv(r->t, &m, err, sizeof(err));
	if (rc != TT_OK) {
		r->session_lost = true;
		return "was created but not loaded, and the session was lost "
		       "before it could be destroyed; the platform destroys it "
		       "when it sees this connection close";
	}
	if (m.type == PROTO_VM_INFO)
		return "was created but not loaded: destroyed now";
	if (m.type == PROTO_ERROR && m.len >= 4 &&
	    load_le32(m.body) == PROTO_ERR_NOT_FOUND)
		return "is gone: the platform removed it";
	return "was created but not loaded and could not be destroyed "
	       "('custos vm destroy' removes it)";
}

/* The upload stopped half-way: the reason, how far it got, and what
 * became of the VM, which the TPGVM destroys when the session closes. */
static int upload_failed(struct vm_run *r, int rc, uint64_t done, uint64_t total)
{
	char why[sizeof(r->reason)];
	const char *fate;

	snprintf(why, sizeof(why), "%s", r->reason);
	if (r->session_lost)
		fate = "was created but not loaded; the platform destroys it "
		       "when it sees this connection close, so the create can "
		       "run again";
	else
		fate = destroy_half_created(r);
	return fail(r, rc, "%s; during the upload (%llu of %llu KiB sent): VM '%s' %s",
		    why, (unsigned long long)(done >> 10),
		    (unsigned long long)(total >> 10), r->op->name, fate);
}

static int do_create(struct vm_run *r, struct create_inputs *ci,
		     struct proto_vm_info *info)
{
	const struct vm_opts *op = r->op;
	static uint8_t body[sizeof(struct proto_vm_create) + PROTO_SECRETS_MAX +
			    PROTO_CMDLINE_MAX];
	struct proto_vm_create c;
	struct proto_msg m;
	uint64_t done = 0, total = ci->image_len + ci->init_len + ci->initrd_len;
	int rc;

	memset(&c, 0, sizeof(c));
	memcpy(c.name, op->vm.name, sizeof(c.name));
	c.mem_size = op->mem_size;
	c.image_len = ci->image_len;
	c.init_len = ci->init_len;
	c.secrets_len = (uint32_t)ci->secrets_len;
	memcpy(c.salt, ci->salt, sizeof(c.salt));
	if (ci->is_linux) {
		c.boot_protocol = PROTO_BOOT_LINUX64;
		c.initrd_len = ci->initrd_len;
		c.cmdline_len = (uint32_t)ci->cmdline_len;
	}
	memcpy(body, &c, sizeof(c));
	memcpy(body + sizeof(c), ci->secrets, ci->secrets_len);
	memcpy(body + sizeof(c) + ci->secrets_len, ci->cmdline, ci->cmdline_len);
	rc = request(r, PROTO_VM_CREATE, body,
		     sizeof(c) + ci->secrets_len + ci->cmdline_len, &m);
	crypto_wipe(body, sizeof(body));
	crypto_wipe(ci->secrets, sizeof(ci->secrets));
	if (rc == 0)
		rc = take_info(r, &m, info);
	if (rc)
		return rc;
	if (info->state != HC_VM_CREATED)
		return fail(r, ATTEST_EXIT_ERROR,
			    "the platform answered the create with state %s, not created",
			    proto_vm_state_name(info->state));
	interrupt_note_upload(0, total);
	interrupt_note_phase(IP_UPLOAD);
	progress(r, 0, total);
	rc = upload(r, PROTO_PART_IMAGE, ci->image, ci->image_len, &done, total, info);
	if (rc == 0)
		rc = upload(r, PROTO_PART_INIT_DATA, ci->init, ci->init_len, &done,
			    total, info);
	if (rc == 0)
		rc = upload(r, PROTO_PART_INITRD, ci->initrd, ci->initrd_len, &done,
			    total, info);
	if (rc)
		return upload_failed(r, rc, done, total);
	interrupt_note_phase(IP_DONE);
	if (info->state != HC_VM_LOADED)
		return fail(r, ATTEST_EXIT_ERROR,
			    "the platform did not load VM '%s' after the upload (state %s)",
			    op->name, proto_vm_state_name(info->state));
	if (memcmp(info->measurement, ci->measurement, sizeof(ci->measurement)) != 0)
		return fail(r, ATTEST_EXIT_FAILED,
			    "the platform measured something else than what was sent (VM '%s' is loaded but must not be trusted: destroy it)",
			    op->name);
	return 0;
}

/* The human console output so far ends inside a line: the shell ends it
 * before its next header. */
static bool console_line_open;

static void print_console(const struct vm_opts *op, const uint8_t *p, size_t n)
{
	if (op->json) {
		print_done_head(op);
		printf("\"name\": ");
		json_cstr(op->vm.name);
		printf(", \"console\": ");
		attest_json_string((const char *)p, n);
		printf("}"); /* the caller ends the line */
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		/* CR and backspace too: a serial console ends its lines with
		 * CR LF and a shell's line editing echoes backspaces; neither
		 * starts an escape sequence. */
		putchar(c == '\n' || c == '\t' || c == '\r' || c == '\b' ||
			(c >= 0x20 && c < 0x7f) ? c : '?');
	}
	if (n)
		console_line_open = p[n - 1] != '\n';
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What the console holds now, printed as it comes (--follow,
 * --interactive); *got: whether there was any. */
static int console_print_new(struct vm_run *r, bool *got)
{
	struct proto_msg m;

	*got = false;
	for (int i = 0; i < CONSOLE_ROUNDS; i++) {
		int rc = request(r, PROTO_VM_CONSOLE, &r->op->vm, sizeof(r->op->vm), &m);

		if (rc)
			return rc;
		if (m.type != PROTO_VM_CONSOLE_DATA || m.len > PROTO_CHUNK_MAX)
			return answer_fail(r,
				    "the platform answered with message type 0x%02x, not console data",
				    m.type);
		print_console(r->op, m.body, m.len);
		*got |= m.len > 0;
		if (m.len < PROTO_CHUNK_MAX)
			break;
	}
	fflush(stdout);
	return 0;
}

/* Offer the VM's console the first *len bytes of buf; what it did not
 * take stays at the front of buf for the next round. */
static int console_send(struct vm_run *r, uint8_t *buf, size_t *len)
{
	static uint8_t body[sizeof(struct proto_vm_name) + PROTO_CONSOLE_INPUT_MAX];
	struct proto_msg m;
	size_t n = *len < PROTO_CONSOLE_INPUT_MAX ? *len : PROTO_CONSOLE_INPUT_MAX;
	uint32_t taken;
	int rc;

	memcpy(body, &r->op->vm, sizeof(r->op->vm));
	memcpy(body + sizeof(r->op->vm), buf, n);
	rc = request(r, PROTO_VM_CONSOLE_INPUT, body, sizeof(r->op->vm) + n, &m);
	crypto_wipe(body, sizeof(body)); /* keystrokes may be passwords */
	if (rc)
		return rc;
	if (m.type != PROTO_VM_INPUT_TAKEN || m.len != 4)
		return answer_fail(r,
			    "the platform answered with message type 0x%02x, not an input count",
			    m.type);
	taken = load_le32(m.body);
	if (taken > n)
		return answer_fail(r,
			    "the platform says the VM took %u bytes of %zu", (unsigned)taken, n);
	memmove(buf, buf + taken, *len - taken);
	*len -= taken;
	return 0;
}

static volatile sig_atomic_t console_interrupted;

static void on_console_signal(int sig)
{
	(void)sig;
	console_interrupted = 1;
}

static struct termios saved_termios;
static bool termios_saved;

static void terminal_restore(void)
{
	if (termios_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_termios);
	termios_saved = false;
}

/* Keystrokes go to the VM as they are typed, unechoed (the VM echoes),
 * Ctrl-C included; Ctrl-] leaves. */
static void terminal_raw(const char *name)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios))
		return;
	t = saved_termios;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &t) == 0) {
		termios_saved = true;
		atexit(terminal_restore);
		fprintf(stderr, "%s: connected to '%s' (Ctrl-] leaves)\r\n", prog, name);
	}
}

/* Read what stdin has (it is ready): false at its end or at Ctrl-] on a
 * terminal. */
static bool console_read_input(uint8_t *buf, size_t *len, size_t cap)
{
	ssize_t n = read(STDIN_FILENO, buf + *len, cap - *len);

	if (n <= 0)
		return n < 0 && errno == EINTR;
	if (termios_saved) {
		uint8_t *esc = memchr(buf + *len, CONSOLE_ESCAPE, (size_t)n);

		if (esc) {
			*len = (size_t)(esc - buf);
			return false;
		}
	}
	*len += (size_t)n;
	return true;
}

/*
 * --follow and --interactive, on the one attested session: print what
 * comes; with --interactive send what stdin gives. Ends at Ctrl-C (or
 * Ctrl-] on a terminal), at --timeout, or, once piped input has ended and
 * all of it was taken, when the VM has been quiet for --idle seconds.
 */
static int console_live(struct vm_run *r)
{
	static uint8_t input[4 * PROTO_CONSOLE_INPUT_MAX];
	const struct vm_opts *op = r->op;
	size_t pending = 0;
	bool reading = op->interactive, got;
	double quiet_since = now_seconds();
	struct sigaction sa = { .sa_handler = on_console_signal };
	int rc = 0;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (op->interactive)
		terminal_raw(op->vm.name);
	while (!console_interrupted) {
		struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };

		rc = console_print_new(r, &got);
		if (rc)
			break;
		if (got)
			quiet_since = now_seconds();
		if (pending) {
			rc = console_send(r, input, &pending);
			if (rc)
				break;
		}
		if (op->interactive && !reading && !pending &&
		    now_seconds() - quiet_since >= op->idle)
			break;
		if (poll(&p, reading && pending < sizeof(input) ? 1 : 0,
			 CONSOLE_POLL_MS) > 0 && (p.revents & (POLLIN | POLLHUP)))
			reading = console_read_input(input, &pending, sizeof(input));
		if (op->interactive && !reading && termios_saved && !pending)
			break; /* Ctrl-] (or the terminal's end): leave */
	}
	terminal_restore();
	crypto_wipe(input, sizeof(input));
	if (rc == 0 && op->interactive)
		fprintf(stderr, "\n%s: left '%s'\n", prog, op->vm.name);
	return rc;
}

static int do_console(struct vm_run *r)
{
	const struct vm_opts *op = r->op;
	uint8_t *all = malloc((size_t)CONSOLE_ROUNDS * PROTO_CHUNK_MAX);
	size_t have = 0;
	struct proto_msg m;
	int rc = 0;

	if (op->follow || op->interactive) {
		free(all);
		return console_live(r);
	}
	if (!all)
		return fail(r, ATTEST_EXIT_ERROR, "out of memory");
	for (int i = 0; i < CONSOLE_ROUNDS; i++) {
		rc = request(r, PROTO_VM_CONSOLE, &op->vm, sizeof(op->vm), &m);
		if (rc)
			break;
		if (m.type != PROTO_VM_CONSOLE_DATA || m.len > PROTO_CHUNK_MAX) {
			rc = answer_fail(r,
				  "the platform answered with message type 0x%02x, not console data",
				  m.type);
			break;
		}
		memcpy(all + have, m.body, m.len);
		have += m.len;
		if (m.len < PROTO_CHUNK_MAX)
			break;
	}
	if (rc == 0)
		print_console(op, all, have);
	free(all);
	return rc;
}

static int do_list(struct vm_run *r)
{
	static struct proto_vm_info v[PROTO_VM_LIST_MAX];
	struct proto_msg m;
	size_t k;
	int rc = request(r, PROTO_VM_LIST, NULL, 0, &m);

	if (rc == 0)
		rc = take_infos(r, &m, -1, v, &k);
	if (rc)
		return rc;
	if (r->op->json) {
		print_done_head(r->op);
		printf("\"vms\": [");
		for (size_t i = 0; i < k; i++) {
			printf(i ? ", " : "");
			print_info_json(NULL, &v[i], -1, NULL);
		}
		printf("]}"); /* the caller ends the line */
		return 0;
	}
	printf("%-31s  %-9s  %8s  %s\n", "NAME", "STATE", "MEMORY", "VERSION");
	for (size_t i = 0; i < k; i++) {
		char mem[32];

		if (v[i].mem_size % (1ull << 30) == 0 && v[i].mem_size)
			snprintf(mem, sizeof(mem), "%lluG",
				 (unsigned long long)(v[i].mem_size >> 30));
		else
			snprintf(mem, sizeof(mem), "%lluM",
				 (unsigned long long)(v[i].mem_size >> 20));
		printf("%-31s  %-9s  %8s  %llu\n", v[i].name, proto_vm_state_name(v[i].state),
		       mem, (unsigned long long)v[i].version);
	}
	if (k == 0)
		printf("(no VMs)\n");
	return 0;
}

/* VM_START's body: the name and how (docs/protocol.md). */
static int do_start(struct vm_run *r, struct proto_vm_info *info)
{
	struct proto_vm_start st;
	struct proto_msg m;
	int rc;

	memset(&st, 0, sizeof(st));
	memcpy(st.name, r->op->vm.name, sizeof(st.name));
	store_le32((uint8_t *)&st.mode, r->op->start_mode);
	rc = request(r, PROTO_VM_START, &st, sizeof(st), &m);
	if (rc == 0)
		rc = take_info(r, &m, info);
	return rc;
}

static int do_simple(struct vm_run *r, struct proto_vm_info *info)
{
	struct proto_msg m;
	int rc = request(r, r->op->type, &r->op->vm, sizeof(r->op->vm), &m);

	if (rc == 0)
		rc = take_info(r, &m, info);
	return rc;
}

static void report_failure(const struct vm_run *r)
{
	const struct vm_opts *op = r->op;

	if (op->json) {
		printf("{\"result\": \"%s\", \"exit_status\": %d, \"command\": ",
		       result_name(r->status), r->status);
		if (op->cmd_name)
			printf("\"%s\"", op->cmd_name);
		else
			printf("null");
		printf(", \"name\": ");
		if (op->name)
			json_cstr(op->vm.name);
		else
			printf("null");
		printf(", \"reason\": ");
		json_cstr(r->reason);
		printf("}");
	}
	fprintf(stderr, "%s: %s: %s\n", prog, attest_verdict(r->status), r->reason);
}

static void run_init(struct vm_run *r, const struct vm_opts *op)
{
	memset(r, 0, sizeof(*r));
	r->op = op;
	r->last_pct = -1;
	r->progress = op->cmd == CMD_CREATE && !op->json && isatty(STDERR_FILENO);
}

/* The CA root and the reference, TLS, and the attestation of the platform
 * on that session: 0 with r->t open and *att filled, or the exit status
 * with the reason (r->t may then be open: the caller closes it). */
static int session_start(struct vm_run *r, const struct attest_conn *c,
			 struct attested *att)
{
	static struct attest_outcome o;
	static struct attest_inputs in;
	int rc;

	memset(&o, 0, sizeof(o));
	memset(&in, 0, sizeof(in));
	rc = attest_read_inputs(c, &in, &o);
	if (rc) {
		free(in.root);
		return fail(r, rc, "%s", o.reason);
	}
	r->t = attest_connect(c, &o);
	if (!r->t)
		rc = fail(r, o.status, "%s", o.reason);
	else if (attest_session(r->t, c, &in, &o, NULL) != 0)
		rc = fail(r, o.status, "the platform did not attest, nothing was sent: %s",
			  o.reason);
	free(in.root);
	if (rc)
		return rc;
	sanitize_line(o.report.platform_id, o.report.platform_id_len, att->platform_id);
	att->verdict = o.verdict;
	att->ref_sig = o.ref_sig;
	return 0;
}

/* The command's requests on the open, attested session r->t. console and
 * list print as they go; the others leave their answer in *info. */
static int command_run(struct vm_run *r, struct create_inputs *ci,
		       struct proto_vm_info *info)
{
	interrupt_note_command(r->op->cmd_name, r->op->name ? r->op->vm.name : NULL);
	switch (r->op->cmd) {
	case CMD_CREATE: return do_create(r, ci, info);
	case CMD_CONSOLE: return do_console(r);
	case CMD_LIST: return do_list(r);
	case CMD_START: return do_start(r, info);
	default: return do_simple(r, info);
	}
}

/* What create, start, stop, destroy and status print once done (a JSON
 * object without its newline); with_platform: the attestation's line
 * first (the shell prints it once, at its start). */
static void command_print(const struct vm_opts *op, const struct proto_vm_info *info,
			  const struct attested *att, bool with_platform)
{
	if (op->cmd == CMD_CONSOLE || op->cmd == CMD_LIST)
		return;
	if (op->json) {
		print_info_json(op, info, op->cmd == CMD_CREATE ? 1 : -1, att);
		return;
	}
	if (with_platform)
		print_platform(&op->c, att);
	print_info_human(info);
	if (op->cmd == CMD_CREATE && op->kernel)
		printf("launch measurement: matches the one computed here from the kernel, initrd and command line sent\n");
	else if (op->cmd == CMD_CREATE)
		printf("launch measurement: matches the one computed here from the image, init data and secrets sent\n");
}

static void create_inputs_free(struct create_inputs *ci)
{
	crypto_wipe(ci->secrets, sizeof(ci->secrets));
	free(ci->image);
	free(ci->init);
	free(ci->initrd);
	memset(ci, 0, sizeof(*ci));
}

static bool is_help(const char *word)
{
	return strcmp(word, "--help") == 0 || strcmp(word, "-h") == 0 ||
	       strcmp(word, "help") == 0;
}

int vm_main(int argc, char **argv)
{
	static struct vm_opts op;
	static struct vm_run r;
	static struct create_inputs ci;
	struct attested att;
	struct proto_vm_info info;
	int rc;

	if (argc < 2)
		usage_error("no command (%s, shell)", command_names);
	if (is_help(argv[1])) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (strcmp(argv[1], "shell") == 0)
		return vm_shell_main(argc - 1, argv + 1);
	rc = parse_command(argc - 1, argv + 1, &op, false);
	if (op.cmd_name)
		snprintf(prog, sizeof(prog), "custos vm %s", op.cmd_name);
	cli_set_prog(prog);
	if (rc)
		usage_error("%s", op.usage);
	interrupt_note_install(prog, op.json);
	interrupt_note_command(op.cmd_name, op.name ? op.vm.name : NULL);
	run_init(&r, &op);
	memset(&info, 0, sizeof(info));
	memset(&att, 0, sizeof(att));

	/* Every local input first: a usage error in the secrets exits 2
	 * before any traffic, as one on the command line does. */
	rc = op.cmd == CMD_CREATE ? create_read(&r, &op, &ci) : 0;
	if (r.usage) {
		create_inputs_free(&ci);
		usage_error("%s", op.usage);
	}
	if (rc == 0)
		rc = session_start(&r, &op.c, &att);
	if (rc == 0)
		rc = command_run(&r, &ci, &info);
	if (r.t)
		tenant_tls_close(r.t);
	create_inputs_free(&ci);
	if (rc)
		report_failure(&r);
	else
		command_print(&op, &info, &att, true);
	if (op.json)
		putchar('\n');
	return rc;
}

/* ---- Sessions of several commands (custos vm shell) ---------------------- */

/* The TPGVM closes a session that sent no request for this long
 * (tpgvm/session.c, IDLE_S): said when a shell's session was lost after
 * such a pause. */
#define TPGVM_IDLE_S 120.0

struct vm_session {
	struct attest_conn c;
	struct tenant_tls *t;
	struct attested att;
	bool json;
	double last_answer;       /* when the platform last answered */
};

struct vm_session *vm_session_open(const struct attest_conn *c, bool json,
				   int *status)
{
	static struct vm_opts op;
	static struct vm_run r;
	struct vm_session *s = calloc(1, sizeof(*s));
	int rc;

	snprintf(prog, sizeof(prog), "custos vm shell");
	cli_set_prog(prog);
	memset(&op, 0, sizeof(op));
	op.json = json;
	op.cmd_name = "shell";
	op.c = *c;
	run_init(&r, &op);
	rc = s ? session_start(&r, c, &s->att) : fail(&r, ATTEST_EXIT_ERROR, "out of memory");
	if (rc) {
		if (r.t)
			tenant_tls_close(r.t);
		report_failure(&r);
		if (json)
			putchar('\n');
		free(s);
		*status = rc;
		return NULL;
	}
	s->t = r.t;
	s->c = *c;
	s->json = json;
	s->last_answer = now_seconds();
	*status = 0;
	return s;
}

void vm_session_print_platform(const struct vm_session *s)
{
	if (!s->json) {
		print_platform(&s->c, &s->att);
	} else {
		printf("{\"session\": \"attested\", \"platform\": {\"id\": ");
		json_cstr(s->att.platform_id);
		printf(", ");
		attest_json_dev(&s->att.verdict);
		printf("}, \"measurements_compared\": %s}\n",
		       s->c.reference ? "true" : "false");
	}
	fflush(stdout);
}

/* "custos vm shell: line N[: CMD]", the start of a line's messages. */
static void shell_prog(unsigned line, const char *cmd_name)
{
	snprintf(prog, sizeof(prog), "custos vm shell: line %u%s%s", line,
		 cmd_name ? ": " : "", cmd_name ? cmd_name : "");
	cli_set_prog(prog);
}

/* A lost session after a pause the TPGVM does not allow: say so. */
static void idle_hint(struct vm_run *r, double idle)
{
	char why[sizeof(r->reason)];

	if (!r->session_lost || idle < TPGVM_IDLE_S)
		return;
	snprintf(why, sizeof(why), "%s", r->reason);
	fail(r, r->status, "%.380s (no request for %.0f s: the TPGVM closes a session idle for %.0f s)",
	     why, idle, TPGVM_IDLE_S);
}

/* "{"line": N, "command": CMD, "output": " of a JSON line. */
static void json_line_open(unsigned line, const struct vm_opts *op)
{
	printf("{\"line\": %u, \"command\": ", line);
	if (op->cmd_name)
		printf("\"%s\"", op->cmd_name);
	else
		printf("null");
	printf(", \"output\": ");
}

int vm_session_command(struct vm_session *s, unsigned line, int argc,
		       char **argv, bool *lost)
{
	static struct vm_opts op;
	static struct vm_run r;
	static struct create_inputs ci;
	struct proto_vm_info info;
	double idle = now_seconds() - s->last_answer, timeout;
	int rc = parse_command(argc, argv, &op, true);

	shell_prog(line, op.cmd_name);
	/* The shell's connection and output form; the line's own --timeout
	 * (or its command's default) for its requests. */
	timeout = op.c.timeout;
	op.c = s->c;
	op.c.timeout = timeout;
	op.json = s->json;
	run_init(&r, &op);
	memset(&info, 0, sizeof(info));
	if (s->json)
		json_line_open(line, &op);
	if (rc) {
		rc = fail_usage(&r);
	} else {
		if (!s->json)
			printf("== line %u: %s%s%s\n", line, op.cmd_name,
			       op.name ? " " : "", op.name ? op.vm.name : "");
		rc = op.cmd == CMD_CREATE ? create_read(&r, &op, &ci) : 0;
		r.t = s->t;
		if (rc == 0) {
			tenant_tls_set_timeout(s->t, op.c.timeout);
			rc = command_run(&r, &ci, &info);
		}
		create_inputs_free(&ci);
	}
	if (rc) {
		idle_hint(&r, idle);
		report_failure(&r);
	} else {
		command_print(&op, &info, &s->att, false);
	}
	if (console_line_open && !s->json)
		putchar('\n');
	console_line_open = false;
	if (s->json)
		printf(", \"exit_status\": %d}\n", rc);
	fflush(stdout);
	if (!r.session_lost)
		s->last_answer = now_seconds();
	*lost = r.session_lost;
	return rc;
}

int vm_session_bad_line(struct vm_session *s, unsigned line, const char *why)
{
	static struct vm_opts op;
	static struct vm_run r;

	memset(&op, 0, sizeof(op));
	op.json = s->json;
	run_init(&r, &op);
	shell_prog(line, NULL);
	if (s->json)
		json_line_open(line, &op);
	fail(&r, ATTEST_EXIT_ERROR, "%s", why);
	report_failure(&r);
	if (s->json)
		printf(", \"exit_status\": %d}\n", r.status);
	fflush(stdout);
	return r.status;
}

void vm_session_close(struct vm_session *s)
{
	if (!s)
		return;
	tenant_tls_close(s->t);
	crypto_wipe(s, sizeof(*s));
	free(s);
}
