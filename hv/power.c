#include "hv/power.h"
#include "hv/console.h"
#include "hv/cpu.h"

#include <stdarg.h>
#include <stdio.h>

static void bochs_shutdown(void)
{
	static const char cmd[] = "Shutdown";

	for (const char *c = cmd; *c; c++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*c);
}

void power_off(int status, const char *why)
{
	console_printf("custos: power off, status %d (%s)\n", status, why);
	outb(DEBUG_EXIT_PORT, (uint8_t)status);
	bochs_shutdown();
	cpu_halt_forever();
}

/* "custos: WHAT: <formatted reason>", then power off with 'status'. */
__attribute__((noreturn, format(printf, 4, 0)))
static void stop(int status, const char *what, const char *why,
		 const char *fmt, va_list ap)
{
	char buf[200];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	console_printf("custos: %s: %s\n", what, buf);
	power_off(status, why);
}

void panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stop(EXIT_PANIC, "PANIC", "panic", fmt, ap);
	va_end(ap); /* not reached */
}

void boot_failed(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	stop(EXIT_BOOT_FAILED, "BOOT FAILED", "boot failed", fmt, ap);
	va_end(ap); /* not reached */
}
