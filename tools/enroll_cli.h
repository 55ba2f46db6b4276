/*
 * `custos enroll`: the tenant's own key and its certificate request for
 * the CA (tools/enroll_cli.c, docs/pki.md "Tenant onboarding").
 */
#ifndef CUSTOS_TOOLS_ENROLL_CLI_H
#define CUSTOS_TOOLS_ENROLL_CLI_H

/* argv[0] is "enroll"; returns the exit status (0 done, 1 failed, 2 usage). */
int enroll_main(int argc, char **argv);

#endif
