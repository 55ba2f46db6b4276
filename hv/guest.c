#include "hv/guest.h"
#include "hv/memory.h"
#include "hv/power.h"
#include "hv/vmcs.h"
#include "hv/vmcs_setup.h"
#include "hv/vmx.h"
#include "tcb/elf_image.h"
#include "tcb/guest_pt.h"
#include <custos/guest_abi.h>

#include <stdio.h>
#include <string.h>

/* Room kept free under the top of guest memory for the initial stack. */
#define GUEST_STACK_RESERVE 0x10000ull
/* Slice length in TSC cycles, told to the guest in its boot info. */
#define SLICE_TSC 200000ull

static struct vcpu vcpus[VM_MAX];

struct vcpu *guest_vcpu(const struct vm *vm)
{
	return &vcpus[vm->id - 1];
}

static void *guest_page(uint64_t gpa, void *ctx)
{
	const struct vm *vm = ctx;
	uint64_t hpa;

	if (!ept_translate(&vm->ept, gpa, &hpa, NULL))
		return NULL;
	return phys_to_virt(hpa);
}

/* Copy into guest memory page by page: its frames are not contiguous. */
static void copy_to_guest(const struct vm *vm, uint64_t gpa, const uint8_t *src,
			  uint64_t len)
{
	while (len) {
		uint64_t off = gpa & PAGE_MASK;
		uint64_t n = PAGE_SIZE - off < len ? PAGE_SIZE - off : len;
		uint8_t *page = guest_page(gpa - off, (void *)vm);

		CHECK(page); /* the image was checked to fit in guest memory */
		memcpy(page + off, src, n);
		gpa += n;
		src += n;
		len -= n;
	}
}

struct init_data {
	const void *bytes;
	size_t len;
	uint64_t gpa;
};

static void write_boot_info(const struct vm *vm, const struct vm_config *cfg,
			    const struct elf_image *img, const struct init_data *init)
{
	struct custos_boot_info *bi = guest_page(GUEST_BOOT_INFO_GPA, (void *)vm);

	CHECK(bi);
	*bi = (struct custos_boot_info){
		.magic = CUSTOS_BOOT_INFO_MAGIC,
		.abi_version = CUSTOS_ABI_VERSION,
		.vm_id = vm->id,
		.mem_size = vm->mem_size,
		.image_start = img->lowest_gpa,
		.image_end = (img->highest_gpa + PAGE_MASK) & ~PAGE_MASK,
		.tsc_per_tick = SLICE_TSC,
		.init_data_gpa = init->len ? init->gpa : 0,
		.init_data_size = init->len,
	};
	memcpy(bi->name, vm->name, sizeof(bi->name) - 1);
	memcpy(bi->cmdline, cfg->args, sizeof(bi->cmdline) - 1);
}

static int load_memory(struct vm *vm, const struct vm_config *cfg,
		       const void *image, size_t image_len,
		       struct init_data *init, uint64_t *entry, uint64_t *cr3,
		       char *err, size_t err_len)
{
	struct frame_table *ft = memory_frames();
	uint64_t limit = cfg->mem_size - GUEST_STACK_RESERVE;
	struct elf_image img;
	int rc;

	if (elf_image_parse(image, image_len, GUEST_IMAGE_MIN_GPA, limit, &img,
			    err, err_len))
		return -1;
	init->gpa = (img.highest_gpa + PAGE_MASK) & ~PAGE_MASK;
	if (init->len > limit - init->gpa) {
		snprintf(err, err_len, "init data (%zu bytes) does not fit above the "
			 "image in %llu MiB", init->len,
			 (unsigned long long)(cfg->mem_size >> 20));
		return -1;
	}
	rc = ept_init(&vm->ept, ft, vm->owner);
	if (rc == EPT_OK)
		rc = ept_populate(&vm->ept, ft, 0, cfg->mem_size, EPT_RWX);
	if (rc != EPT_OK) {
		snprintf(err, err_len, "not enough free memory for %llu MiB",
			 (unsigned long long)(cfg->mem_size >> 20));
		return -1;
	}
	for (size_t i = 0; i < img.segment_count; i++) {
		const struct elf_segment *s = &img.segments[i];
		copy_to_guest(vm, s->gpa, (const uint8_t *)image + s->file_offset,
			      s->file_size);
	}
	copy_to_guest(vm, init->gpa, init->bytes, init->len);
	if (guest_pt_build(cfg->mem_size, guest_page, vm, cr3)) {
		snprintf(err, err_len, "could not build guest page tables");
		return -1;
	}
	write_boot_info(vm, cfg, &img, init);
	*entry = img.entry;
	return 0;
}

struct vm *guest_create(const struct vm_config *cfg, const void *image,
			size_t image_len, const void *init_data,
			size_t init_len, uint32_t vmcs_revision, char *err,
			size_t err_len)
{
	struct vm *vm = vm_table_alloc(cfg->name);
	struct init_data init = { init_data, init_len, 0 };
	uint64_t entry, cr3;

	if (!vm) {
		snprintf(err, err_len, "no free VM slot, or the name is in use");
		return NULL;
	}
	vm->mem_size = cfg->mem_size;
	if (load_memory(vm, cfg, image, image_len, &init, &entry, &cr3, err,
			err_len)) {
		ept_destroy(&vm->ept, memory_frames());
		vm_table_free(vm);
		return NULL;
	}
	struct vcpu *v = guest_vcpu(vm);
	vcpu_init(v);
	struct vmcs_guest_start start = {
		.rip = entry,
		.rsp = cfg->mem_size,
		.cr3 = cr3,
		.ept_pointer = ept_pointer(&vm->ept),
		.vpid = (uint16_t)vm->id,
	};
	v->gprs.rdi = GUEST_BOOT_INFO_GPA;
	vmcs_setup_guest(v->vmcs_pa, vmcs_revision, &start);
	vmx_flush_vpid(vm->id);
	vm->state = VM_RUNNABLE;
	vm->stop_reason[0] = '\0';
	return vm;
}

void guest_teardown(struct vm *vm)
{
	struct vcpu *v = guest_vcpu(vm);

	/* Nothing of this VM may stay in the CPU's caches of translations:
	 * its frames and its VPID will be given to someone else. */
	if (v->vmcs_pa)
		CHECK(vmcs_clear(v->vmcs_pa));
	vmx_flush_ept_all();
	vmx_flush_vpid(vm->id);
	ept_destroy(&vm->ept, memory_frames());
	vcpu_scrub(v);
}
