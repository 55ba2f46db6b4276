/*
 * Development options on the kernel command line (docs/boot.md):
 *   custos.test=NAME              make the hypervisor fail on purpose
 *                                 (page-fault, invalid-opcode,
 *                                 stack-overflow, no-entropy)
 *   custos.debug=mirror-consoles  copy guest console lines to COM1
 * A development build honours them, loudly. A production build (make
 * PRODUCTION=1, -DCUSTOS_PRODUCTION) has none of their code and refuses a
 * command line that names one: asked-for behaviour that silently did not
 * happen would mislead whoever reads the log.
 */
#ifndef CUSTOS_HV_DEV_OPTIONS_H
#define CUSTOS_HV_DEV_OPTIONS_H

#include <custos/types.h>

/*
 * After the final page tables (a test hook may rely on them): a production
 * build ends the boot (status 3) if the command line names a development
 * option; a development build runs the test hook it names, if any (an
 * unknown one ends the boot).
 */
void dev_options_boot(const char *cmdline);

/*
 * Before guests run: switch on the debug modes the command line asks for
 * and return their REPORT_DEBUG_* bits, which every platform report
 * carries. Always 0 in a production build.
 */
uint32_t dev_options_debug(const char *cmdline);

#endif
