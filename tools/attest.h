/*
 * `custos attest`: ask a platform's TPGVM for a signed report over a fresh
 * nonce through the relay, and verify it (docs/tenant-cli.md).
 */
#ifndef CUSTOS_TOOLS_ATTEST_H
#define CUSTOS_TOOLS_ATTEST_H

/* Exit statuses of custos attest (and, later, of every tenant command). */
enum attest_exit {
	ATTEST_EXIT_VERIFIED = 0, /* the platform is what the reference says */
	ATTEST_EXIT_FAILED = 1,   /* verification failed (or tampering seen) */
	ATTEST_EXIT_ERROR = 2,    /* could not run: usage, files, network, time */
	ATTEST_EXIT_REFUSED = 3,  /* the platform refused our credentials */
};

/* argv[0] is "attest"; returns the exit status. */
int attest_main(int argc, char **argv);

#endif
