/*
 * Tenant VMs, the mechanism half (tcb/lifecycle.c decides): frames and
 * nested page tables, pages, TCB staging, the vCPU and its control block,
 * and the vCPU context as a byte string for sealing (layout in
 * docs/lifecycle.md, "Context").
 *
 * The ops run inside a hypercall of the TPGVM, whose vCPU is current: an
 * op that has to make a tenant's current (arch->vcpu_load) makes the
 * caller's current again before it returns (the exit handler then advances
 * the caller's RIP).
 */
#include "hv/tpm_vm_store.h"
#include "hv/tenant.h"
#include "hv/virq.h"
#include "hv/arch.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "hv/guest.h"
#include "hv/memory.h"
#include "hv/power.h"
#include "hv/vcpu_context.h"
#include "crypto/crypto.h"
#include "tcb/timebase.h"

#include <assert.h>
#include <string.h>

/* mctx is NULL when there is no caller (VMs built at boot). */
static void reload_caller(void *mctx)
{
	const struct vm *caller = mctx;

	if (caller)
		arch->vcpu_load(guest_vcpu(caller));
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
	uint64_t ctl, xsave;

	(void)mctx;
	if (frame_alloc(ft, FRAME_TCB, &ctl) != FRAME_OK)
		return HC_E_NOMEM;
	if (frame_alloc(ft, FRAME_TCB, &xsave) != FRAME_OK) {
		CHECK(frame_release(ft, ctl, FRAME_TCB) == FRAME_OK);
		return HC_E_NOMEM;
	}
	if (npt_init(&vm->npt, ft, vm->owner, arch->npt_format) != NPT_OK) {
		CHECK(frame_release(ft, ctl, FRAME_TCB) == FRAME_OK);
		CHECK(frame_release(ft, xsave, FRAME_TCB) == FRAME_OK);
		return HC_E_NOMEM;
	}
	memset(v, 0, sizeof(*v));
	v->ctl_pa = ctl << PAGE_SHIFT;
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
	arch->flush(vm);
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

static struct vcpu_start start_of(const struct vm *vm, const struct lc_regs *r)
{
	return (struct vcpu_start){
		.rip = r->rip, .rsp = r->rsp, .cr3 = r->cr3,
		.sel_code = r->cs, .sel_data = r->ds, .gdt_limit = r->gdt_limit,
		.npt_root = npt_root_pointer(&vm->npt),
		.tag = (uint16_t)vm->id,
		.npt = &vm->npt,
		.owns_com2 = vm->is_tpgvm,
	};
}

static void op_vcpu_setup(void *mctx, struct vm *vm, const struct lc_regs *r)
{
	struct vcpu *v = guest_vcpu(vm);
	const struct vcpu_start start = start_of(vm, r);
	uint64_t now;

	vcpu_reset(v);
	v->gprs.rdi = r->rdi;
	v->gprs.rsi = r->rsi;
	arch->vcpu_setup(v, &start);
	/* Its TSC counts from 0 at its first instruction: the VM's own clock,
	 * which tells it nothing of the host's uptime. */
	now = rdtsc();
	arch->set(v, GREG_TSC_OFFSET, 0 - now);
	virq_reset(vm, now);
	vplatform_set_tsc_offset(&vm->platform, 0 - now);
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
	struct vcpu *v = guest_vcpu(vm);
	size_t len = op_context_len(mctx, vm);
	uint64_t x[VCPU_CONTEXT_STATE_WORDS];
	struct vcpu_context_platform p;
	uint64_t now;

	CHECK(len <= cap);
	arch->vcpu_load(v);
	arch->state_get(v, x);
	now = rdtsc();
	p.guest_tsc = now + arch->get(v, GREG_TSC_OFFSET);
	reload_caller(mctx);
	vplatform_save(&vm->platform, now, p.devices);
	vcpu_context_encode(&v->gprs, &v->sys, x, &p, phys_to_virt(v->xsave_pa),
			    vcpu_xsave_size(), buf);
	crypto_wipe(&p, sizeof(p));
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
	uint64_t x[VCPU_CONTEXT_STATE_WORDS];
	struct vcpu_context_platform p;
	const char *why;
	uint64_t now = rdtsc();

	vcpu_reset(v);
	why = vcpu_context_decode(buf, len, vcpu_context_cpu(), &gprs, &sys, x,
				  &p, phys_to_virt(v->xsave_pa));
	/* Its devices continue where they stopped, their timers relative to
	 * this host's TSC; checked before anything is restored. */
	if (!why && !vplatform_load(&vm->platform, p.devices,
				    sizeof(p.devices), timebase_tsc_hz(), now))
		why = "device state out of range";
	if (why) {
		console_printf("lifecycle: vm %u context refused: %s\n",
			       vm->id, why);
		return false;
	}
	v->gprs = gprs;
	v->sys = sys;

	/* A fresh control block (controls, host state, the nested page table
	 * of the new frames), then the saved guest state over the initial one.
	 * The state's first words are RIP and RSP, CR3 the fifth. */
	const struct lc_regs r = {
		.rip = x[0], .rsp = x[1], .cr3 = x[4],
		.cs = (uint16_t)x[SW_SEG(SEG_CS, 0)],
		.ds = (uint16_t)x[SW_SEG(SEG_DS, 0)],
		.gdt_limit = (uint16_t)x[SW_GDTR_LIMIT],
	};
	const struct vcpu_start start = start_of(vm, &r);
	arch->vcpu_setup(v, &start);
	arch->state_set(v, x);
	/* Its TSC continues from the value it last read: a stopped VM's
	 * clock stood still. */
	arch->set(v, GREG_TSC_OFFSET, p.guest_tsc - now);
	vplatform_set_tsc_offset(&vm->platform, p.guest_tsc - now);
	vm->idle = false;
	reload_caller(mctx);
	crypto_wipe(&p, sizeof(p));
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

static int op_keep_record(void *mctx, const struct vm *vm, const struct vm_record *r)
{
	(void)mctx;
	return tpm_vm_store_keep(vm, r);
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
	.context_save = op_context_save,
	.context_len = op_context_len,
	.context_restore = op_context_restore,
	.set_runnable = op_set_runnable,
	.log = op_log,
	.keep_record = op_keep_record,
};

const struct lc_ops *tenant_ops(void)
{
	return &ops;
}
