/* SVM bring-up on the boot CPU (AMD APM Vol. 2, 15.4 "Enabling SVM"). */
#ifndef CUSTOS_HV_SVM_SVM_H
#define CUSTOS_HV_SVM_SVM_H

#include "hv/svm/svm_caps.h"

struct spec_caps; /* hv/spec_policy.h */

/*
 * Detect SVM and every feature Custos relies on (svm_caps_evaluate), set
 * EFER.SVME and give the CPU a host save area (VM_HSAVE_PA: a TCB frame
 * where VMRUN keeps the host state it reloads at #VMEXIT). Returns NULL on
 * success (caps filled), otherwise the reason SVM cannot be used; the CPU
 * is then left untouched.
 */
const char *svm_enable(struct svm_caps *caps);

/* The backend (hv/svm/svm_backend.c, hv/arch.h) and the features it
 * works with (from svm_enable). */
struct arch_ops;
extern const struct arch_ops svm_ops;
void svm_set_caps(const struct svm_caps *caps);

/* Leave SVM: GIF set (so INIT and NMI are not held), VM_HSAVE_PA and
 * EFER.SVME cleared. */
void svm_disable(void);

/*
 * Build the permission maps the VMCBs point at and return their
 * host-physical addresses: two I/O maps, iopm_pa[owns_com2] (the TPGVM's
 * lets its COM2 by), and one MSR map (it depends only on the CPU). After
 * spec_barrier_init(): the MSR map lets SPEC_CTRL and PRED_CMD through
 * only where the CPU has them (hv/svm/svm_maps.h).
 */
void svm_permission_maps(const struct spec_caps *spec, uint64_t iopm_pa[2],
			 uint64_t *msrpm_pa);

#endif
