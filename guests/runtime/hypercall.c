/*
 * Hypercalls: RAX = number, arguments in RDI, RSI, RDX, RCX, the result in
 * RAX (guest_abi.h), through hypercall_insn (hypercall_insn.S: VMCALL or
 * VMMCALL, whichever this CPU's hypervisor takes). The TCB preserves every
 * other register, and so does hypercall_insn, so the asm declares nothing
 * else clobbered but the flags; "memory" because the TCB reads and writes
 * our buffers (HC_CONSOLE_WRITE, HC_REPORT) and may switch to other VMs in
 * between. The call pushes a return address: guests run without a red
 * zone (-mno-red-zone), so nothing below RSP is live.
 */
#include "guests/runtime/guest.h"

void hypercall_select(void)
{
	uint32_t r[4];

	cpuid(0, 0, r);
	hypercall_use_vmmcall = custos_hypercall_is_vmmcall(r[1], r[2], r[3]) != 0;
}

long hypercall(unsigned long nr, unsigned long a0, unsigned long a1,
	       unsigned long a2, unsigned long a3)
{
	long ret;

	__asm__ volatile("call hypercall_insn"
			 : "=a"(ret)
			 : "a"(nr), "D"(a0), "S"(a1), "d"(a2), "c"(a3)
			 : "memory", "cc");
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

long hc_vm_create(const struct hc_vm_create *req)
{
	return hypercall(HC_VM_CREATE, (unsigned long)req, 0, 0, 0);
}

long hc_vm_load(const struct hc_vm_load *req)
{
	return hypercall(HC_VM_LOAD, (unsigned long)req, 0, 0, 0);
}

long hc_vm_start(const struct hc_vm_start *req)
{
	return hypercall(HC_VM_START, (unsigned long)req, 0, 0, 0);
}

long hc_vm_stop(const struct hc_vm_stop *req)
{
	return hypercall(HC_VM_STOP, (unsigned long)req, 0, 0, 0);
}

long hc_vm_stop_stream(struct hc_vm_stream *req)
{
	return hypercall(HC_VM_STOP_STREAM, (unsigned long)req, 0, 0, 0);
}

long hc_vm_start_stream(struct hc_vm_stream *req)
{
	return hypercall(HC_VM_START_STREAM, (unsigned long)req, 0, 0, 0);
}

long hc_vm_destroy(const struct hc_vm_ref *ref)
{
	return hypercall(HC_VM_DESTROY, (unsigned long)ref, 0, 0, 0);
}

long hc_vm_query(const struct hc_vm_query *req)
{
	return hypercall(HC_VM_QUERY, (unsigned long)req, 0, 0, 0);
}

long hc_vm_console_read(const struct hc_vm_console_read *req)
{
	return hypercall(HC_VM_CONSOLE_READ, (unsigned long)req, 0, 0, 0);
}

void hc_exit(unsigned long code)
{
	hypercall(HC_EXIT, code, 0, 0, 0);
	/* HC_EXIT does not return; if it ever did, halting is the next best
	 * way to stop (the TCB treats HLT as the VM halting for good). */
	for (;;)
		hlt();
}
