/*
 * Tenant VMs, the mechanism half (tcb/lifecycle.c decides): frames and EPT,
 * pages, TCB staging, the vCPU and its VMCS, and the vCPU context as a
 * byte string for sealing (layout in docs/lifecycle.md, "Context").
 *
 * The ops run inside a hypercall of the TPGVM, whose VMCS is current: an
 * op that has to VMPTRLD a tenant's VMCS makes the caller's current again
 * before it returns (the exit handler then advances the caller's RIP).
 */
#include "hv/tenant.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "hv/guest.h"
#include "hv/memory.h"
#include "hv/power.h"
#include "hv/vcpu_context.h"
#include "hv/vmcs.h"
#include "hv/vmcs_setup.h"
#include "hv/vmx.h"

#include <assert.h>
#include <string.h>

/* The VMCS guest-state fields a context holds, in this order
 * (SDM 25.4: everything a VM entry loads that the guest can change, and
 * the pending event injection of an exit that was handled but not yet
 * re-entered). Segments: selector, base, limit, access rights. */
#define SEG(s) VMCS_GUEST_##s##_SEL, VMCS_GUEST_##s##_BASE, \
	VMCS_GUEST_##s##_LIMIT, VMCS_GUEST_##s##_AR
static const enum vmcs_field context_fields[] = {
	VMCS_GUEST_RIP, VMCS_GUEST_RSP, VMCS_GUEST_RFLAGS,
	VMCS_GUEST_CR0, VMCS_GUEST_CR3, VMCS_GUEST_CR4,
	VMCS_CR0_SHADOW, VMCS_CR4_SHADOW,
	VMCS_GUEST_DR7, VMCS_GUEST_DEBUGCTL, VMCS_GUEST_EFER, VMCS_GUEST_PAT,
	SEG(ES), SEG(CS), SEG(SS), SEG(DS), SEG(FS), SEG(GS), SEG(LDTR), SEG(TR),
	VMCS_GUEST_GDTR_BASE, VMCS_GUEST_GDTR_LIMIT,
	VMCS_GUEST_IDTR_BASE, VMCS_GUEST_IDTR_LIMIT,
	VMCS_GUEST_SYSENTER_CS, VMCS_GUEST_SYSENTER_ESP, VMCS_GUEST_SYSENTER_EIP,
	VMCS_GUEST_INTERRUPTIBILITY, VMCS_GUEST_ACTIVITY_STATE,
	VMCS_GUEST_PENDING_DBG,
	VMCS_ENTRY_INTR_INFO, VMCS_ENTRY_EXCEPTION_ERROR, VMCS_ENTRY_INSTR_LEN,
};
#undef SEG
static_assert(ARRAY_SIZE(context_fields) == VCPU_CONTEXT_VMCS_FIELDS,
	      "the context layout (hv/vcpu_context.h) has a slot per field");

static uint32_t vmcs_revision;

void tenant_init(uint32_t revision)
{
	vmcs_revision = revision;
}

/* mctx is NULL when there is no caller (VMs built at boot). */
static void reload_caller(void *mctx)
{
	const struct vm *caller = mctx;

	if (caller)
		CHECK(vmcs_load(guest_vcpu(caller)->vmcs_pa));
}

static uint64_t op_free_frames(void *mctx)
{
	(void)mctx;
	return memory_frames()->free_count;
}

static int op_mem_alloc(void *mctx, struct vm *vm)
{
	struct frame_table *ft = memory_frames();
	struct vcpu *v = guest_vcpu(vm);
	uint64_t vmcs, xsave;

	(void)mctx;
	if (frame_alloc(ft, FRAME_TCB, &vmcs) != FRAME_OK)
		return HC_E_NOMEM;
	if (frame_alloc(ft, FRAME_TCB, &xsave) != FRAME_OK) {
		CHECK(frame_release(ft, vmcs, FRAME_TCB) == FRAME_OK);
		return HC_E_NOMEM;
	}
	if (npt_init(&vm->npt, ft, vm->owner, NPT_EPT) != NPT_OK) {
		CHECK(frame_release(ft, vmcs, FRAME_TCB) == FRAME_OK);
		CHECK(frame_release(ft, xsave, FRAME_TCB) == FRAME_OK);
		return HC_E_NOMEM;
	}
	memset(v, 0, sizeof(*v));
	v->vmcs_pa = vmcs << PAGE_SHIFT;
	v->xsave_pa = xsave << PAGE_SHIFT;
	vcpu_reset(v);
	return HC_OK;
}

static int op_mem_map(void *mctx, struct vm *vm, uint64_t gpa, uint64_t len)
{
	(void)mctx;
	return npt_populate(&vm->npt, memory_frames(), gpa, len, NPT_RWX) == NPT_OK
		? HC_OK : HC_E_NOMEM;
}

static void op_mem_unmap(void *mctx, struct vm *vm, uint64_t gpa, uint64_t len)
{
	(void)mctx;
	/* Its frames go back to the pool here: no translation of them may
	 * stay cached (the VM does not run; this is cheap next to zeroing). */
	vmx_flush_ept_all();
	vmx_flush_vpid((uint16_t)vm->id);
	CHECK(npt_unpopulate(&vm->npt, memory_frames(), gpa, len) == NPT_OK);
}

static void op_mem_free(void *mctx, struct vm *vm)
{
	(void)mctx;
	/* guest_teardown: VMCLEAR, flush EPT and VPID translations, release
	 * every frame (zeroed), scrub the context. */
	guest_teardown(vm);
}

static uint64_t op_now(void *mctx)
{
	(void)mctx;
	return rdtsc();
}

static uint8_t *op_page(void *mctx, const struct vm *vm, uint64_t gpa)
{
	uint64_t hpa;

	(void)mctx;
	CHECK(npt_translate(&vm->npt, gpa, &hpa, NULL));
	return phys_to_virt(hpa);
}

static uint64_t frames_of(size_t len)
{
	return (len + PAGE_MASK) >> PAGE_SHIFT;
}

static void *op_stage(void *mctx, size_t len)
{
	uint64_t first;

	(void)mctx;
	if (frame_alloc_contiguous(memory_frames(), FRAME_TCB, frames_of(len), 1,
				   &first) != FRAME_OK)
		return NULL;
	return phys_to_virt(first << PAGE_SHIFT);
}

static void op_unstage(void *mctx, void *p, size_t len)
{
	uint64_t first = (uint64_t)(uintptr_t)p >> PAGE_SHIFT;

	(void)mctx;
	/* Releasing zeroes each frame (frame_table.h). */
	for (uint64_t i = 0; i < frames_of(len); i++)
		CHECK(frame_release(memory_frames(), first + i, FRAME_TCB) == FRAME_OK);
}

static void op_vcpu_setup(void *mctx, struct vm *vm, const struct lc_regs *r)
{
	struct vcpu *v = guest_vcpu(vm);
	struct vmcs_guest_start start = {
		.rip = r->rip,
		.rsp = r->rsp,
		.cr3 = r->cr3,
		.ept_pointer = npt_root_pointer(&vm->npt),
		.vpid = (uint16_t)vm->id,
	};

	vcpu_reset(v);
	v->gprs.rdi = r->rdi;
	vmcs_setup_guest(v->vmcs_pa, vmcs_revision, &start);
	vmx_flush_vpid((uint16_t)vm->id);
	reload_caller(mctx);
}

static void op_vcpu_regs(void *mctx, const struct vm *vm, struct lc_regs *r)
{
	const struct vcpu *v = guest_vcpu(vm);

	CHECK(vmcs_load(v->vmcs_pa));
	r->rip = vmcs_read(VMCS_GUEST_RIP);
	r->rsp = vmcs_read(VMCS_GUEST_RSP);
	r->cr3 = vmcs_read(VMCS_GUEST_CR3);
	r->rdi = v->gprs.rdi;
	reload_caller(mctx);
}

static size_t op_context_len(void *mctx, const struct vm *vm)
{
	(void)mctx;
	(void)vm;
	return vcpu_context_len(vcpu_xsave_size());
}

static size_t op_context_save(void *mctx, const struct vm *vm, uint8_t *buf,
			      size_t cap)
{
	const struct vcpu *v = guest_vcpu(vm);
	size_t len = op_context_len(mctx, vm);
	uint64_t x[ARRAY_SIZE(context_fields)];

	CHECK(len <= cap);
	CHECK(vmcs_load(v->vmcs_pa));
	for (size_t i = 0; i < ARRAY_SIZE(context_fields); i++)
		x[i] = vmcs_read(context_fields[i]);
	reload_caller(mctx);
	vcpu_context_encode(&v->gprs, &v->sys, x, phys_to_virt(v->xsave_pa),
			    vcpu_xsave_size(), buf);
	return len;
}

/* Decode into the vCPU's own frames (reset first); the VMCS is written only
 * once the whole context checked out. */
static bool op_context_restore(void *mctx, struct vm *vm, const uint8_t *buf,
			       size_t len)
{
	struct vcpu *v = guest_vcpu(vm);
	struct guest_gprs gprs;
	struct vcpu_sysregs sys;
	uint64_t x[ARRAY_SIZE(context_fields)];
	const char *why;

	vcpu_reset(v);
	why = vcpu_context_decode(buf, len, vcpu_context_cpu(), &gprs, &sys, x,
				  phys_to_virt(v->xsave_pa));
	if (why) {
		console_printf("lifecycle: vm %u '%s' context refused: %s\n",
			       vm->id, vm->name, why);
		return false;
	}
	v->gprs = gprs;
	v->sys = sys;

	/* A fresh VMCS (controls, host state, EPT pointer of the new frames),
	 * then the saved guest state over the initial one. */
	struct vmcs_guest_start start = {
		.rip = x[0], .rsp = x[1], .cr3 = x[4],
		.ept_pointer = npt_root_pointer(&vm->npt),
		.vpid = (uint16_t)vm->id,
	};
	vmcs_setup_guest(v->vmcs_pa, vmcs_revision, &start);
	for (size_t i = 0; i < ARRAY_SIZE(context_fields); i++)
		vmcs_write(context_fields[i], x[i]);
	vmx_flush_vpid((uint16_t)vm->id);
	v->launched = false;
	reload_caller(mctx);
	return true;
}

static void op_set_runnable(void *mctx, struct vm *vm, bool on)
{
	(void)mctx;
	if (on) {
		vm->state = VM_RUNNABLE;
		vm->stop_reason[0] = '\0';
	} else if (vm->state == VM_RUNNABLE) {
		vm_set_stopped(vm, VM_STOPPED, "stopped by its owner");
	}
}

static void op_log(void *mctx, const char *line)
{
	(void)mctx;
	console_printf("%s\n", line);
}

static const struct lc_ops ops = {
	.free_frames = op_free_frames,
	.mem_alloc = op_mem_alloc,
	.mem_map = op_mem_map,
	.mem_unmap = op_mem_unmap,
	.mem_free = op_mem_free,
	.now = op_now,
	.page = op_page,
	.stage = op_stage,
	.unstage = op_unstage,
	.vcpu_setup = op_vcpu_setup,
	.vcpu_regs = op_vcpu_regs,
	.context_save = op_context_save,
	.context_len = op_context_len,
	.context_restore = op_context_restore,
	.set_runnable = op_set_runnable,
	.log = op_log,
};

const struct lc_ops *tenant_ops(void)
{
	return &ops;
}
