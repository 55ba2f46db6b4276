/* Building a VM from an image, and tearing it down. */
#ifndef CUSTOS_HV_GUEST_H
#define CUSTOS_HV_GUEST_H

#include "hv/vcpu.h"
#include "tcb/vm.h"
#include "tcb/vm_config.h"

/* The CPU context of VM n lives in guest_vcpu(vm). */
struct vcpu *guest_vcpu(const struct vm *vm);

/*
 * Create a runnable VM: take frames for its memory, build its EPT from them,
 * load the ELF image, place init_data (if any) page-aligned above the image
 * (docs/guest-abi.md), write its page tables and boot-info page, set up its
 * context and VMCS. All or nothing: on failure everything taken is given
 * back, NULL is returned and err says why.
 */
struct vm *guest_create(const struct vm_config *cfg, const void *image,
			size_t image_len, const void *init_data,
			size_t init_len, uint32_t vmcs_revision, char *err,
			size_t err_len);

/* Release its memory (zeroed), flush its translations, scrub its context.
 * The record and console stay for its owner to read. */
void guest_teardown(struct vm *vm);

#endif
