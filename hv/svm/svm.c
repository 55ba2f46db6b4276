/*
 * SVM on the boot CPU, following AMD APM Vol. 2 15.4 "Enabling SVM":
 * CPUID 0x80000001:ECX.SVM, VM_CR.SVMDIS clear, then EFER.SVME and a host
 * save area in VM_HSAVE_PA. The VMCB layout is in hv/svm/vmcb.h; the
 * feature decision in hv/svm/svm_caps.c (host-tested).
 */
#include "hv/svm/svm.h"
#include "hv/svm/svm_maps.h"
#include "hv/svm/vmcb.h"
#include "hv/boot_defs.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "hv/memory.h"
#include "hv/power.h"

/* The maps live in the image, whose virtual addresses are its physical
 * ones (hv/memory.h), page-aligned as VMRUN requires (APM 15.10.1, 15.11). */
static uint8_t iopm[2][SVM_IOPM_SIZE] __attribute__((aligned(4096)));
static uint8_t msrpm[SVM_MSRPM_SIZE] __attribute__((aligned(4096)));
static uint64_t hsave_pa;

static void read_svm_raw(struct svm_raw *r)
{
	*r = (struct svm_raw){ .max_ext_leaf = cpuid(0x80000000u, 0).eax };
	if (r->max_ext_leaf >= 0x80000001u)
		r->ext1_ecx = cpuid(0x80000001u, 0).ecx;
	if (!svm_cpuid_has_svm(r->max_ext_leaf, r->ext1_ecx))
		return; /* VM_CR may not exist: RDMSR would #GP */
	r->vm_cr = rdmsr(MSR_VM_CR);
	if (r->max_ext_leaf >= CPUID_SVM_FEATURES) {
		struct cpuid_regs l = cpuid(CPUID_SVM_FEATURES, 0);

		r->svm_eax = l.eax;
		r->svm_ebx = l.ebx;
		r->svm_edx = l.edx;
	}
}

const char *svm_enable(struct svm_caps *caps)
{
	struct svm_raw r;
	const char *why;

	read_svm_raw(&r);
	why = svm_caps_evaluate(&r, caps);
	if (why)
		return why;
	if (!hsave_pa)
		hsave_pa = memory_alloc_tcb_frame();
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
	CHECK(rdmsr(MSR_EFER) & EFER_SVME);
	/* 4 KiB aligned, below the physical-address width (APM 15.30.4). */
	wrmsr(MSR_VM_HSAVE_PA, hsave_pa);
	return NULL;
}

void svm_disable(void)
{
	/* STGI needs EFER.SVME; with GIF clear, INIT and NMI would stay held
	 * after SVM is gone. */
	__asm__ volatile("stgi" : : : "memory");
	wrmsr(MSR_VM_HSAVE_PA, 0);
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~EFER_SVME);
}

void svm_permission_maps(const struct spec_caps *spec, uint64_t iopm_pa[2],
			 uint64_t *msrpm_pa)
{
	for (int owns_com2 = 0; owns_com2 < 2; owns_com2++) {
		svm_iopm_build(iopm[owns_com2], owns_com2);
		iopm_pa[owns_com2] = (uint64_t)(uintptr_t)iopm[owns_com2];
	}
	svm_msrpm_build(msrpm, spec);
	*msrpm_pa = (uint64_t)(uintptr_t)msrpm;
}
