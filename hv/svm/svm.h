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

/* Leave SVM: GIF set (so INIT and NMI are not held), VM_HSAVE_PA and
 * EFER.SVME cleared. */
void svm_disable(void);

/*
 * Build the I/O and MSR permission maps every VMCB points at (one copy:
 * they depend only on the CPU) and return their host-physical addresses.
 * After spec_barrier_init(): the MSR map lets SPEC_CTRL and PRED_CMD
 * through only where the CPU has them (hv/svm/svm_maps.h).
 */
void svm_permission_maps(const struct spec_caps *spec, uint64_t *iopm_pa,
			 uint64_t *msrpm_pa);

/*
 * Until the SVM backend runs guests (issue 11): on a CPU without VMX, say
 * whether SVM would be usable. Enables SVM as above, prints
 *   svm: no SVM backend yet; this CPU's SVM would do: <caps>
 * (not the root-mode line's shape, "... on cpu0: ...", which the backend
 * will print)
 * and disables it again, or prints "SVM not available: <reason>".
 */
void svm_report_unused(void);

#endif
