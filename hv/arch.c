/*
 * Choosing the CPU backend at boot (hv/arch.h): the extension the CPU
 * offers, VMX on Intel, SVM on AMD.
 */
#include "hv/arch.h"
#include "hv/lapic_timer.h"
#include "hv/svm/svm.h"
#include "hv/vmx/vmx.h"

#include <stdio.h>

const struct arch_ops *arch;

static const char *enable_vmx(char *line, size_t line_len)
{
	struct vmx_caps caps;
	const char *why = vmx_enable(&caps);
	char desc[160];

	if (why)
		return why;
	vmx_caps_describe(&caps, desc, sizeof(desc));
	snprintf(line, line_len, "vmx: VMX root mode on cpu0: %s", desc);
	arch = &vmx_ops;
	return NULL;
}

/* SVM's slices need the local APIC timer (hv/lapic_timer.h). */
static const char *enable_svm(char *line, size_t line_len)
{
	struct svm_caps caps;
	const char *why;
	char desc[160];

	if (!lapic_timer_usable()) /* lapic_timer_init() ran at boot */
		return "the local APIC timer, which SVM's slices need, is not usable";
	why = svm_enable(&caps);
	if (why)
		return why;
	svm_set_caps(&caps);
	svm_caps_describe(&caps, desc, sizeof(desc));
	snprintf(line, line_len, "svm: SVM enabled on cpu0: %s", desc);
	arch = &svm_ops;
	return NULL;
}

const char *arch_enable(char *line, size_t line_len)
{
	static char why[200];
	const char *vmx_why = enable_vmx(line, line_len);
	const char *svm_why;

	if (!vmx_why)
		return NULL;
	svm_why = enable_svm(line, line_len);
	if (!svm_why)
		return NULL;
	snprintf(why, sizeof(why), "VMX: %s; SVM: %s", vmx_why, svm_why);
	return why;
}
