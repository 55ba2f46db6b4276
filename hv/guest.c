#include "hv/guest.h"
#include "hv/arch.h"
#include "hv/memory.h"
#include "hv/power.h"
#include <custos/guest_abi.h>

#include <stdio.h>

static struct vcpu vcpus[VM_MAX];

struct vcpu *guest_vcpu(const struct vm *vm)
{
	return &vcpus[vm->id - 1];
}

struct vm *guest_create(const struct lc_ops *ops, const struct vm_config *cfg,
			bool is_tpgvm, const void *image, size_t image_len,
			const void *init_data, size_t init_len,
			char *err, size_t err_len)
{
	struct vm *vm = vm_table_alloc(cfg->name);
	struct lc_image in = {
		.image = image, .image_len = image_len,
		.init = init_data, .init_len = init_len,
		.cmdline = cfg->args,
	};

	if (!vm) {
		snprintf(err, err_len, "no free VM slot, or the name is in use");
		return NULL;
	}
	vm->mem_size = cfg->mem_size;
	vm->is_tpgvm = is_tpgvm; /* before its control block is set up */
	/* The same create and load as a tenant VM's (hv/tenant.c,
	 * tcb/lifecycle.c), with no caller whose VMCS to restore. */
	if (lifecycle_mem_alloc(ops, NULL, vm) != HC_OK) {
		snprintf(err, err_len, "not enough free memory for %llu MiB",
			 (unsigned long long)(cfg->mem_size >> 20));
		vm_table_free(vm);
		return NULL;
	}
	if (lifecycle_load_image(ops, NULL, vm, &in, err, err_len) != HC_OK) {
		ops->mem_free(NULL, vm);
		vm_table_free(vm);
		return NULL;
	}
	vm->state = VM_RUNNABLE;
	vm->stop_reason[0] = '\0';
	return vm;
}

void guest_teardown(struct vm *vm)
{
	struct vcpu *v = guest_vcpu(vm);

	/* Nothing of this VM may stay in the CPU's caches of translations:
	 * its frames and its VPID will be given to someone else. */
	arch->vcpu_release(v);
	arch->flush(vm);
	npt_destroy(&vm->npt, memory_frames());
	vcpu_scrub(v);
}
