/*
 * Choosing the CPU backend at boot (hv/arch.h): the extension the CPU
 * offers, VMX on Intel, SVM on AMD.
 */
#include "hv/arch.h"
#include "hv/vmx/vmx.h"

#include <stdio.h>

const struct arch_ops *arch;

const char *arch_enable(char *line, size_t line_len)
{
	struct vmx_caps caps;
	const char *why = vmx_enable(&caps);

	if (why)
		return why;
	vmx_caps_describe(&caps, line, line_len);
	arch = &vmx_ops;
	return NULL;
}
