#include "hv/vmx/vmcs.h"
#include "hv/power.h"

/* What the inline accessors (hv/vmx/vmcs.h) call when VMREAD or VMWRITE
 * fails. VMCLEAR and VMPTRLD below report failure as they do: CF
 * (VMfailInvalid) or ZF (VMfailValid), SDM 31.2; "setna" catches both. */

void vmcs_read_failed(enum vmcs_field f)
{
	panic("VMREAD of field %#x failed", (unsigned)f);
}

void vmcs_write_failed(enum vmcs_field f, uint64_t v)
{
	panic("VMWRITE of field %#x (value %#llx) failed", (unsigned)f,
	      (unsigned long long)v);
}

bool vmcs_clear(uint64_t pa)
{
	bool failed;

	__asm__ volatile("vmclear %1; setna %0"
			 : "=qm"(failed)
			 : "m"(pa)
			 : "cc", "memory");
	return !failed;
}

bool vmcs_load(uint64_t pa)
{
	bool failed;

	__asm__ volatile("vmptrld %1; setna %0"
			 : "=qm"(failed)
			 : "m"(pa)
			 : "cc", "memory");
	return !failed;
}
