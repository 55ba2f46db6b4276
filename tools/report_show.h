/*
 * `custos report show REPORT`: a saved platform report printed readably,
 * its event logs written as TCG files (tools/report_show.c).
 */
#ifndef CUSTOS_TOOLS_REPORT_SHOW_H
#define CUSTOS_TOOLS_REPORT_SHOW_H

/* argv[0] is "report"; returns the exit status (enum attest_exit). */
int report_main(int argc, char **argv);

#endif
