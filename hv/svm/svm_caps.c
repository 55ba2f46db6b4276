#include "hv/svm/svm_caps.h"

#include <stdio.h>
#include <string.h>

/* CPUID bits, AMD APM Vol. 3 appendix E (E.4.2 and E.4.9). */
#define EXT1_ECX_SVM           (1u << 2)
#define SVM_EDX_NP             (1u << 0)
#define SVM_EDX_LBR_VIRT       (1u << 1)
#define SVM_EDX_SVML           (1u << 2)
#define SVM_EDX_NRIPS          (1u << 3)
#define SVM_EDX_VMCB_CLEAN     (1u << 5)
#define SVM_EDX_FLUSH_BY_ASID  (1u << 6)
#define SVM_EDX_DECODE_ASSISTS (1u << 7)
#define SVM_EDX_PAUSE_FILTER   (1u << 10)

bool svm_cpuid_has_svm(uint32_t max_ext_leaf, uint32_t ext1_ecx)
{
	return max_ext_leaf >= 0x80000001u && (ext1_ecx & EXT1_ECX_SVM);
}

/* APM Vol. 2 15.4, "Enabling SVM": with VM_CR.SVMDIS set, EFER.SVME cannot
 * be set. SVML says whether the firmware's lock takes a key to open; either
 * way the platform's owner turned SVM off, and Custos does not override it
 * (as VMX: a locked-off IA32_FEATURE_CONTROL is refused too). */
static const char *check_enabled(const struct svm_raw *r)
{
	if (!(r->vm_cr & VM_CR_SVMDIS))
		return NULL;
	if (r->svm_edx & SVM_EDX_SVML)
		return "disabled by firmware (VM_CR.SVMDIS is 1; the firmware's "
		       "SVM lock takes a key to open)";
	return "disabled by firmware (VM_CR.SVMDIS is 1)";
}

const char *svm_caps_evaluate(const struct svm_raw *r, struct svm_caps *caps)
{
	const char *why;

	if (!svm_cpuid_has_svm(r->max_ext_leaf, r->ext1_ecx))
		return "CPUID 0x80000001:ECX.SVM[bit 2] is 0 (this CPU or "
		       "emulator has no SVM)";
	if (r->max_ext_leaf < CPUID_SVM_FEATURES)
		return "CPUID has no SVM feature leaf 0x8000000A";
	why = check_enabled(r);
	if (why)
		return why;
	if (!(r->svm_edx & SVM_EDX_NP))
		return "no nested paging (CPUID 0x8000000A:EDX.NP[bit 0] is 0)";
	/* ASID 0 is the host's; VMRUN refuses it for a guest (APM 15.16). */
	if (r->svm_ebx < 2)
		return "no ASID for guests (CPUID 0x8000000A:EBX < 2)";
	*caps = (struct svm_caps){
		.revision = r->svm_eax & 0xff,
		.asids = r->svm_ebx,
		.nrips = (r->svm_edx & SVM_EDX_NRIPS) != 0,
		.decode_assists = (r->svm_edx & SVM_EDX_DECODE_ASSISTS) != 0,
		.flush_by_asid = (r->svm_edx & SVM_EDX_FLUSH_BY_ASID) != 0,
		.vmcb_clean = (r->svm_edx & SVM_EDX_VMCB_CLEAN) != 0,
		.pause_filter = (r->svm_edx & SVM_EDX_PAUSE_FILTER) != 0,
		.lbr_virt = (r->svm_edx & SVM_EDX_LBR_VIRT) != 0,
	};
	return NULL;
}

/* Append "name" to have or lacks, comma-separated. */
static void note(char *have, char *lacks, size_t len, bool present,
		 const char *name)
{
	char *list = present ? have : lacks;
	size_t used = strlen(list);

	if (used + 2 < len)
		snprintf(list + used, len - used, "%s%s", used ? ", " : "", name);
}

void svm_caps_describe(const struct svm_caps *c, char *buf, size_t len)
{
	char have[96] = "", lacks[96] = "";

	note(have, lacks, sizeof(have), c->nrips, "nrips");
	note(have, lacks, sizeof(have), c->decode_assists, "decode assists");
	note(have, lacks, sizeof(have), c->flush_by_asid, "flush-by-asid");
	note(have, lacks, sizeof(have), c->vmcb_clean, "vmcb clean bits");
	note(have, lacks, sizeof(have), c->pause_filter, "pause filter");
	snprintf(buf, len, "svm rev %u; npt; %u asids%s%s%s%s",
		 (unsigned)c->revision, (unsigned)c->asids,
		 have[0] ? "; " : "", have,
		 lacks[0] ? "; lacks " : "", lacks);
}
