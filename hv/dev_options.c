#include "hv/dev_options.h"
#include "boot/multiboot2.h"
#include "hv/console.h"
#include "hv/power.h"
#include <custos/report.h>

#include <stdio.h>
#include <string.h>

#define TEST_KEY  "custos.test"
#define DEBUG_KEY "custos.debug"

#ifdef CUSTOS_PRODUCTION

/* Presence is enough: a value too long to copy must not slip through. */
void dev_options_boot(const char *cmdline)
{
	bool test = mb2_cmdline_get(cmdline, TEST_KEY, NULL, 0);
	bool debug = mb2_cmdline_get(cmdline, DEBUG_KEY, NULL, 0);

	if (test || debug)
		boot_failed("%s%s%s refused: this is a production build, which has no "
		       "test hooks and no debug modes", test ? TEST_KEY : "",
		       test && debug ? " and " : "", debug ? DEBUG_KEY : "");
}

uint32_t dev_options_debug(const char *cmdline)
{
	(void)cmdline;
	return 0;
}

#else /* a development build */

#include "hv/platform_crypto.h"
#include "hv/vm_exit.h"

/* Deliberately deep recursion for the stack-overflow test hook; the
 * volatile bound only keeps the compiler from calling it infinite. */
static volatile unsigned overflow_bound = ~0u;

static unsigned overflow_stack(unsigned depth)
{
	volatile char pad[512];

	pad[0] = (char)depth;
	if (depth == overflow_bound)
		return 0;
	return overflow_stack(depth + 1) + pad[0];
}

/* Read from frame 0, which the final page tables leave unmapped. */
static void read_frame_zero(void)
{
	uint64_t addr = 0x18;

	__asm__ volatile("" : "+r"(addr)); /* hide the constant from gcc */
	(void)*(volatile uint64_t *)(uintptr_t)addr;
}

/*
 * The command line is part of what is measured, so a platform booted with
 * a test hook reports it. They only ever make the hypervisor fail loudly.
 */
void dev_options_boot(const char *cmdline)
{
	char name[32];

	if (!mb2_cmdline_get(cmdline, TEST_KEY, name, sizeof(name)))
		return;
	console_printf("boot: test hook \"%s\"\n", name);
	if (strcmp(name, "page-fault") == 0)
		read_frame_zero();
	else if (strcmp(name, "invalid-opcode") == 0)
		__asm__ volatile("ud2");
	else if (strcmp(name, "stack-overflow") == 0)
		overflow_stack(0);
	else if (strcmp(name, "no-entropy") == 0)
		return platform_crypto_disable_entropy();
	boot_failed("unknown test hook \"%s\"", name);
}

uint32_t dev_options_debug(const char *cmdline)
{
	char mode[32];

	if (!mb2_cmdline_get(cmdline, DEBUG_KEY, mode, sizeof(mode)) ||
	    strcmp(mode, "mirror-consoles") != 0)
		return 0;
	console_printf("custos: DEBUG MODE: guest consoles are mirrored to "
		       "COM1; never use this in production\n");
	vm_exit_set_console_mirror(true);
	return REPORT_DEBUG_CONSOLE_MIRROR; /* reports say so */
}

#endif
