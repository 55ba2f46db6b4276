#include "hv/vmx/vmcs.h"
#include "hv/power.h"

/* VMX instructions report failure in CF (VMfailInvalid) or ZF (VMfailValid),
 * SDM 31.2; "setna" catches both. */

uint64_t vmcs_read(enum vmcs_field f)
{
	uint64_t v;
	bool failed;

	__asm__ volatile("vmread %2, %0; setna %1"
			 : "=r"(v), "=qm"(failed)
			 : "r"((uint64_t)f)
			 : "cc");
	if (failed)
		panic("VMREAD of field %#x failed", (unsigned)f);
	return v;
}

void vmcs_write(enum vmcs_field f, uint64_t v)
{
	bool failed;

	__asm__ volatile("vmwrite %1, %2; setna %0"
			 : "=qm"(failed)
			 : "r"(v), "r"((uint64_t)f)
			 : "cc", "memory");
	if (failed)
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
