/*
 * `custos verify REPORT`: a saved platform report checked offline with
 * custos attest's own verification (tools/verify_cli.c).
 */
#ifndef CUSTOS_TOOLS_VERIFY_CLI_H
#define CUSTOS_TOOLS_VERIFY_CLI_H

/* argv[0] is "verify"; returns the exit status (enum attest_exit). */
int verify_main(int argc, char **argv);

#endif
