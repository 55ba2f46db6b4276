/* Building a VM from an image, and tearing it down. */
#ifndef CUSTOS_HV_GUEST_H
#define CUSTOS_HV_GUEST_H

#include "hv/vcpu.h"
#include "tcb/lifecycle.h"
#include "tcb/vm.h"
#include "tcb/vm_config.h"

/* The CPU context of VM n lives in guest_vcpu(vm). */
struct vcpu *guest_vcpu(const struct vm *vm);

/*
 * Create a runnable VM from a boot module (or the TPGVM from its envelope):
 * take frames for its memory, build its EPT, load the ELF image, place
 * init_data (if any) page-aligned above the image (docs/guest-abi.md),
 * write its page tables and boot-info page, set up its context and
 * control block (with COM2 its own if is_tpgvm: hv/exit_policy.h) --
 * the mechanism and policy of a tenant VM's create and load: ops is the
 * tenant VMs' mechanism, handed down by the caller (tenant_ops(),
 * hv/tenant.h, which itself builds on guest_vcpu and guest_teardown). All
 * or nothing: on failure everything taken is given back, NULL is returned
 * and err says why.
 */
struct vm *guest_create(const struct lc_ops *ops, const struct vm_config *cfg,
			bool is_tpgvm, const void *image, size_t image_len,
			const void *init_data, size_t init_len,
			char *err, size_t err_len);

/* Release its memory (zeroed), flush its translations, scrub its context.
 * The record and console stay for its owner to read. */
void guest_teardown(struct vm *vm);

#endif
