/*
 * Hypercalls: VMCALL with RAX = number, arguments in RDI, RSI, RDX, RCX, the
 * result in RAX (guest_abi.h). The TCB preserves every other register, so
 * the asm declares nothing else clobbered; "memory" because the TCB reads
 * and writes our buffers (HC_CONSOLE_WRITE, HC_REPORT) and may switch to
 * other VMs in between.
 */
#include "guests/runtime/guest.h"

long hypercall(unsigned long nr, unsigned long a0, unsigned long a1,
	       unsigned long a2, unsigned long a3)
{
	long ret;

	__asm__ volatile("vmcall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "c"(a3)
			 : "memory");
	return ret;
}

long hc_version(void)
{
	return hypercall(HC_VERSION, 0, 0, 0, 0);
}

long hc_yield(void)
{
	return hypercall(HC_YIELD, 0, 0, 0, 0);
}

long hc_console_write(const void *buf, size_t len)
{
	return hypercall(HC_CONSOLE_WRITE, (unsigned long)buf, len, 0, 0);
}

long hc_report(const struct custos_report_request *req, void *out, size_t cap)
{
	return hypercall(HC_REPORT, (unsigned long)req, (unsigned long)out, cap, 0);
}

void hc_exit(unsigned long code)
{
	hypercall(HC_EXIT, code, 0, 0, 0);
	/* HC_EXIT does not return; if it ever did, halting is the next best
	 * way to stop (the TCB treats HLT as the VM halting for good). */
	for (;;)
		hlt();
}
