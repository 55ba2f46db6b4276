/*
 * Which SVM features this CPU offers, decided from raw CPUID/MSR values (the
 * SVM counterpart of hv/vmx_caps.h). Pure functions, so the decision is
 * unit-tested on the host with values no emulator here produces (firmware
 * that disabled SVM, a CPU without nested paging, one ASID).
 */
#ifndef CUSTOS_HV_SVM_CAPS_H
#define CUSTOS_HV_SVM_CAPS_H

#include <custos/types.h>

/* MSRs and EFER bit (AMD APM Vol. 2, 15.4, 15.30). */
#define MSR_VM_CR          0xc0010114u
#define MSR_VM_HSAVE_PA    0xc0010117u
#define VM_CR_LOCK         (1ull << 3)
#define VM_CR_SVMDIS       (1ull << 4)
#define EFER_SVME          (1ull << 12)

/* The CPUID leaf that enumerates SVM's features (APM Vol. 3, E.4.9). */
#define CPUID_SVM_FEATURES 0x8000000au

/* Raw values read from the CPU. */
struct svm_raw {
	uint32_t max_ext_leaf; /* CPUID 0x80000000 EAX */
	uint32_t ext1_ecx;     /* CPUID 0x80000001 ECX: SVM is bit 2 */
	/* CPUID 0x8000000A: EAX revision, EBX number of ASIDs, EDX features;
	 * 0 when the leaf is beyond max_ext_leaf. */
	uint32_t svm_eax, svm_ebx, svm_edx;
	/* VM_CR; 0 when SVM is absent (the MSR may not exist then). */
	uint64_t vm_cr;
};

struct svm_caps {
	uint32_t revision;     /* SVM revision, CPUID 0x8000000A EAX[7:0] */
	/* ASIDs the CPU tags TLB entries with, 0 (the host's) included: guests
	 * get 1 .. asids - 1. */
	uint32_t asids;
	bool nrips;            /* next RIP saved in the VMCB on instruction exits */
	bool decode_assists;   /* EXITINFO1 names the GPR of a MOV CR exit */
	bool flush_by_asid;    /* TLB_CONTROL 3/7 (else only "flush all", 1) */
	bool vmcb_clean;       /* VMCB clean bits honoured */
	bool pause_filter;
	bool lbr_virt;
};

/* CPUID.80000001h:ECX.SVM[bit 2], given the highest extended leaf. */
bool svm_cpuid_has_svm(uint32_t max_ext_leaf, uint32_t ext1_ecx);

/*
 * Check everything Custos relies on: SVM present, not disabled by firmware
 * (VM_CR.SVMDIS), nested paging, at least one guest ASID. Returns NULL and
 * fills *caps when all are there, else a short reason naming the first one
 * missing. NRIPS, decode assists, flush-by-ASID and clean bits are noted,
 * not required: the backend works without them.
 */
const char *svm_caps_evaluate(const struct svm_raw *r, struct svm_caps *caps);

/* One human line describing caps (no trailing newline), e.g.
 * "svm rev 1; npt; 16 asids; no nrips; no decode assists; ..." */
void svm_caps_describe(const struct svm_caps *caps, char *buf, size_t len);

#endif
