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
	console_flush();
	outb(DEBUG_EXIT_PORT, (uint8_t)status);
	bochs_shutdown();
	cpu_halt_forever();
}

/* "custos: WHAT: <reason>", then power off with 'status'. */
__attribute__((noreturn))
static void stop(int status, const char *what, const char *why,
		 const char *reason)
{
	console_printf("custos: %s: %s\n", what, reason);
	power_off(status, why);
}

void panic(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	stop(EXIT_PANIC, "PANIC", "panic", buf);
}

void boot_failed(const char *fmt, ...)
{
	char buf[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	stop(EXIT_BOOT_FAILED, "BOOT FAILED", "boot failed", buf);
}
