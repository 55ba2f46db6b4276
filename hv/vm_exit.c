/*
 * The VM-exit policy table (docs/vm-exits.md) in code. Anything not listed
 * stops the VM with a log line; nothing a guest does can take the
 * hypervisor down.
 */
#include "hv/vm_exit.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "hv/exit_policy.h"
#include "hv/memory.h"
#include "hv/power.h"
#include "hv/tenant.h"
#include "hv/tpgvm.h"
#include "tcb/timebase.h"
#include "hv/arch.h"
#include "tcb/hypercall.h"
#include "tcb/insn_decode.h"
#include "hv/vcpu_context.h"
#include <custos/guest_abi.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VECTOR_UD 6
#define VECTOR_GP 13
#define IO_DENY_LOG_LIMIT 4

#ifdef CUSTOS_PRODUCTION
/* No debug modes in a production build (hv/dev_options.h): the mirror
 * code below is compiled, found dead and left out of the image. */
static const bool mirror_consoles = false;
#else
static bool mirror_consoles;

void vm_exit_set_console_mirror(bool on)
{
	mirror_consoles = on;
}
#endif

struct mirror_line {
	char buf[120];
	size_t len;
};
static struct mirror_line mirror[VM_MAX];

void vm_exit_flush_console_mirror(const struct vm *vm)
{
	struct mirror_line *m = &mirror[vm->id - 1];

	if (mirror_consoles && m->len) {
		m->buf[m->len] = '\0';
		console_printf("[vm%u %s] %s\n", vm->id, vm_log_name(vm), m->buf);
	}
	m->len = 0;
}

static void console_put(struct vm *vm, char c)
{
	console_ring_put(&vm->console, c);
	if (!mirror_consoles)
		return;
	struct mirror_line *m = &mirror[vm->id - 1];
	if (c != '\n' && m->len < sizeof(m->buf) - 1) {
		m->buf[m->len++] = (c >= 0x20 && c < 0x7f) ? c : '?';
		return;
	}
	m->buf[m->len] = '\0';
	console_printf("[vm%u %s] %s\n", vm->id, vm_log_name(vm), m->buf);
	m->len = 0;
	if (c != '\n')
		console_put(vm, c); /* the line was full: c starts the next one */
}

static void stop(struct vm *vm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void stop(struct vm *vm, const char *fmt, ...)
{
	char reason[VM_REASON_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	vm_set_stopped(vm, VM_STOPPED, reason);
	console_printf("vm %u (%s): stopped: %s\n", vm->id, vm_log_name(vm), reason);
}

static enum exit_outcome handle_cpuid(struct vm *vm, struct vcpu *v,
				      const struct exit_event *ev)
{
	uint32_t leaf = (uint32_t)v->gprs.rax, subleaf = (uint32_t)v->gprs.rcx;
	struct cpuid_regs h = cpuid(leaf, subleaf);
	struct cpuid_values host = { h.eax, h.ebx, h.ecx, h.edx }, out;
	struct cpuid_context ctx = {
		.vm_id = vm->id,
		.guest_osxsave = (arch->get(v, GREG_CR4) >> 18) & 1,
		.xcr0 = vcpu_xcr0(),
		.xsave_size = vcpu_xsave_size(),
		.tsc_hz = timebase_tsc_hz(),
	};

	cpuid_filter(leaf, subleaf, &host, &ctx, &out);
	v->gprs.rax = out.eax;
	v->gprs.rbx = out.ebx;
	v->gprs.rcx = out.ecx;
	v->gprs.rdx = out.edx;
	arch->skip(v, ev);
	return EXIT_OUTCOME_RESUME;
}

/* The first few accesses to ports no device claims, for the platform's
 * own VMs (boot modules, the TPGVM); never a tenant VM's, whose probing of
 * ports (a Linux kernel's of COM2-4, Super-I/O ...) is its own business
 * and no one else's to read in the platform log. */
static void io_denied_log(struct vm *vm, const struct io_exit *io)
{
	if (vm->tenant.active)
		return;
	if (vm->denied_io_logged < IO_DENY_LOG_LIMIT) {
		vm->denied_io_logged++;
		console_printf("vm %u (%s): denied %s port %#x\n", vm->id,
			       vm->name, io->in ? "read of" : "write to", io->port);
	}
}

/* Every port goes to the VM's own virtual platform (vdev/); none reaches
 * hardware. */
static enum exit_outcome handle_io(struct vm *vm, struct vcpu *v,
				   const struct exit_event *ev)
{
	const struct io_exit io = ev->u.io;
	struct vio_access a = {
		.port = io.port, .size = io.size, .in = io.in,
		.value = (uint32_t)v->gprs.rax,
	};

	if (io_policy(&io) == IO_STOP_VM) {
		stop(vm, "string I/O on port %#x is not supported", io.port);
		return EXIT_OUTCOME_DONE;
	}
	switch (vplatform_io(&vm->platform, &a, rdtsc())) {
	case VIO_TX:
		console_put(vm, (char)(a.value & 0xff));
		break;
	case VIO_UNCLAIMED:
		io_denied_log(vm, &io);
		a.value = io_all_ones(io.size);
		break;
	case VIO_RESET:
		vm_set_stopped(vm, VM_STOPPED, "reset by the guest");
		console_printf("vm %u (%s): reset by the guest (port %#x)\n",
			       vm->id, vm_log_name(vm), io.port);
		return EXIT_OUTCOME_DONE;
	case VIO_DONE:
		break;
	}
	if (io.in) {
		uint64_t mask = io_all_ones(io.size);
		/* 32-bit IN zero-extends into RAX; 8/16-bit leave the rest. */
		v->gprs.rax = io.size == 4 ? a.value :
			(v->gprs.rax & ~mask) | (a.value & mask);
	}
	arch->skip(v, ev);
	return EXIT_OUTCOME_RESUME;
}

/*
 * HLT with interrupts enabled waits for the VM's next interrupt: the VM
 * is idle, its CPU goes to the others (hv/sched.c) until its platform
 * raises one (hv/virq.h). With interrupts disabled nothing can wake it:
 * it has halted for good.
 */
#define RFLAGS_IF (1ull << 9)
static enum exit_outcome handle_hlt(struct vm *vm, struct vcpu *v,
				    const struct exit_event *ev)
{
	if (arch->get(v, GREG_RFLAGS) & RFLAGS_IF) {
		arch->skip(v, ev);
		vm->idle = true;
		return EXIT_OUTCOME_RESCHEDULE;
	}
	vm_set_stopped(vm, VM_HALTED, "halted");
	console_printf("vm %u (%s): halted\n", vm->id, vm_log_name(vm));
	return EXIT_OUTCOME_DONE;
}

static void msr_result(struct vcpu *v, uint64_t value)
{
	v->gprs.rax = (uint32_t)value;
	v->gprs.rdx = value >> 32;
}

static enum exit_outcome handle_msr(struct vm *vm, struct vcpu *v,
				     const struct exit_event *ev)
{
	uint32_t msr = (uint32_t)v->gprs.rcx;
	uint64_t value = (v->gprs.rdx << 32) | (uint32_t)v->gprs.rax, efer;
	bool write = ev->kind == EXIT_MSR_WRITE;

	switch (msr_policy(msr, write)) {
	case MSR_EMULATE_EFER_READ:
		msr_result(v, arch->get(v, GREG_EFER));
		break;
	case MSR_EMULATE_EFER_WRITE:
		if (!efer_write(arch->get(v, GREG_EFER), value, &efer))
			goto deny;
		arch->set(v, GREG_EFER, efer);
		break;
	case MSR_EMULATE_PAT_READ:
		msr_result(v, arch->get(v, GREG_PAT));
		break;
	case MSR_EMULATE_PAT_WRITE:
		if (!pat_valid(value))
			goto deny;
		arch->set(v, GREG_PAT, value);
		break;
	case MSR_EMULATE_MISC_ENABLE_READ:
		msr_result(v, MISC_ENABLE_VALUE);
		break;
	case MSR_EMULATE_MISC_ENABLE_WRITE:
		if (value != MISC_ENABLE_VALUE)
			goto deny;
		break;
	case MSR_EMULATE_APIC:
		if (!vplatform_msr(&vm->platform, msr, write, &value, rdtsc()))
			goto deny;
		if (!write)
			msr_result(v, value);
		break;
	case MSR_DENY:
		goto deny;
	}
	arch->skip(v, ev);
	return EXIT_OUTCOME_RESUME;
deny:
	arch->inject(v, VECTOR_GP, true);
	return EXIT_OUTCOME_RESUME;
}

static bool read_guest(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	const struct vm *vm = ctx;

	return memory_read_guest(&vm->npt, gpa, buf, len);
}

/* As read_guest, into the guest: page by page, each one checked writable
 * in the VM's own EPT. */
static bool write_guest(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct vm *vm = ctx;
	const uint8_t *in = buf;

	while (len) {
		uint64_t hpa, off = gpa & PAGE_MASK;
		unsigned perms;
		size_t n = PAGE_SIZE - off < len ? PAGE_SIZE - off : len;
		if (!npt_translate(&vm->npt, gpa - off, &hpa, &perms) ||
		    !(perms & NPT_WRITE))
			return false;
		memcpy((uint8_t *)phys_to_virt(hpa) + off, in, n);
		in += n;
		gpa += n;
		len -= n;
	}
	return true;
}

static void hc_console_put(void *ctx, char c)
{
	console_put(ctx, c);
}

static enum exit_outcome handle_hypercall(struct vm *vm, struct vcpu *v,
					  const struct exit_event *ev)
{
	struct hc_call call = {
		.nr = v->gprs.rax,
		.arg = { v->gprs.rdi, v->gprs.rsi, v->gprs.rdx, v->gprs.rcx },
		.cpl = arch->cpl(v),
	};
	struct hc_env env = {
		.mem_size = vm->mem_size,
		.is_tpgvm = vm->is_tpgvm,
		.read_guest = read_guest,
		.write_guest = write_guest,
		.console_put = hc_console_put,
		.report = vm->is_tpgvm ? tpgvm_report_source() : NULL,
		.lc = vm->is_tpgvm ? tenant_ops() : NULL,
		.lc_ctx = vm,
		.ctx = vm,
	};
	struct hc_result res;

	hypercall_handle(&call, &env, &res);
	if (res.effect == HC_EFFECT_EXIT) {
		char reason[48];
		snprintf(reason, sizeof(reason), "exited with code %llu",
			 (unsigned long long)res.exit_code);
		vm_set_stopped(vm, VM_STOPPED, reason);
		console_printf("vm %u (%s): %s\n", vm->id, vm_log_name(vm), reason);
		return EXIT_OUTCOME_DONE;
	}
	if (res.effect == HC_EFFECT_RESTART)
		return EXIT_OUTCOME_RESUME; /* VMCALL again: the call goes on */
	v->gprs.rax = (uint64_t)res.ret;
	arch->skip(v, ev);
	return res.effect == HC_EFFECT_YIELD ? EXIT_OUTCOME_RESCHEDULE
					     : EXIT_OUTCOME_RESUME;
}

/* The guest register an exit qualification names (SDM Vol. 3C Table
 * 28-3 numbering); NULL for RSP, which is in the VMCS. */
#define GPR(r) offsetof(struct guest_gprs, r)
#define GPR_RSP SIZE_MAX
static uint64_t *gpr_ref(struct vcpu *v, unsigned n)
{
	static const size_t at[16] = {
		GPR(rax), GPR(rcx), GPR(rdx), GPR(rbx), GPR_RSP, GPR(rbp),
		GPR(rsi), GPR(rdi), GPR(r8), GPR(r9), GPR(r10), GPR(r11),
		GPR(r12), GPR(r13), GPR(r14), GPR(r15),
	};
	size_t off = at[n & 15];

	return off == GPR_RSP ? NULL : (uint64_t *)((uint8_t *)&v->gprs + off);
}
#undef GPR
#undef GPR_RSP

static uint64_t gpr_get(struct vcpu *v, unsigned n)
{
	const uint64_t *r = gpr_ref(v, n);

	return r ? *r : arch->get(v, GREG_RSP);
}

static void gpr_set(struct vcpu *v, unsigned n, uint64_t value)
{
	uint64_t *r = gpr_ref(v, n);

	if (r)
		*r = value;
	else
		arch->set(v, GREG_RSP, value);
}

/* On VMX MOV to/from CR8 always exits (hv/vmx/vmcs_setup.c): the TPR is
 * the VM's virtual APIC's, never the real LAPIC's. Other CR exits are writes
 * that would change a bit the TCB owns. */
static enum exit_outcome handle_cr_access(struct vm *vm, struct vcpu *v,
					  const struct exit_event *ev)
{
	const struct cr_exit cr = ev->u.cr;
	uint64_t value = cr.type == CR_MOV_TO ? gpr_get(v, cr.gpr) : 0;
	switch (cr_policy(&cr, value)) {
	case CR_TPR_WRITE:
		/* CR8 is TPR bits 7:4 (SDM Vol. 3A 11.8.6.1): the VM's own
		 * APIC's, which masks what it delivers. */
		v->sys.cr8 = value;
		vplatform_set_tpr(&vm->platform, (uint32_t)value << 4);
		break;
	case CR_TPR_READ:
		gpr_set(v, cr.gpr, vm->platform.lapic.tpr >> 4);
		break;
	case CR_INJECT_GP:
		arch->inject(v, VECTOR_GP, true);
		return EXIT_OUTCOME_RESUME;
	case CR_STOP_VM:
		stop(vm, "unexpected control-register exit, qualification %#llx",
		     (unsigned long long)ev->qual);
		return EXIT_OUTCOME_DONE;
	}
	arch->skip(v, ev);
	return EXIT_OUTCOME_RESUME;
}

static enum exit_outcome handle_xsetbv(struct vcpu *v, const struct exit_event *ev)
{
	uint64_t value = (v->gprs.rdx << 32) | (uint32_t)v->gprs.rax;

	/* Every guest runs with the same XCR0 (hv/vcpu.c): setting that very
	 * value is a no-op, anything else is refused as the CPU would refuse
	 * an unsupported one. */
	if ((uint32_t)v->gprs.rcx != 0 || value != vcpu_xcr0()) {
		arch->inject(v, VECTOR_GP, true);
		return EXIT_OUTCOME_RESUME;
	}
	arch->skip(v, ev);
	return EXIT_OUTCOME_RESUME;
}

static const char *access_kind(unsigned access)
{
	return access == NPT_EXEC ? "execute" : access == NPT_WRITE ? "write" : "read";
}

#define EFER_LMA_BIT (1ull << 10)

/* The instruction at the guest's RIP, read through its own page tables
 * from its own memory (tcb/insn_decode.h). */
static enum insn_status fetch_insn(struct vm *vm, struct vcpu *v, struct insn *in)
{
	uint64_t x[VCPU_CONTEXT_STATE_WORDS];
	uint64_t cs_ar, efer = arch->get(v, GREG_EFER);
	const struct guest_paging p = {
		.cr0 = arch->get(v, GREG_CR0), .cr3 = arch->get(v, GREG_CR3),
		.cr4 = arch->get(v, GREG_CR4), .efer = efer, .maxphyaddr = 52,
		.read = read_guest, .ctx = vm,
	};

	arch->state_get(v, x);
	cs_ar = x[SW_SEG(SEG_CS, 3)]; /* VMX access rights: L bit 13, DPL 6:5 */
	return insn_fetch(&p, arch->get(v, GREG_RIP),
			  (efer & EFER_LMA_BIT) && (cs_ar >> 13 & 1),
			  (cs_ar >> 5 & 3) == 3, in, NULL);
}

/*
 * A MOV to or from the xAPIC page (vdev/vlapic.h): the only MMIO a VM has.
 * The address is the exit's; the instruction says the register and the
 * width, and must be the access that faulted (the guest may have changed
 * its code since, on another path: a mismatch stops the VM).
 */
static enum exit_outcome handle_apic_mmio(struct vm *vm, struct vcpu *v,
					  const struct exit_event *ev)
{
	uint32_t offset = (uint32_t)(ev->u.npf.gpa - VLAPIC_MMIO_BASE), value = 0;
	bool write = ev->u.npf.access == NPT_WRITE;
	enum insn_status st;
	struct insn in;

	st = fetch_insn(vm, v, &in);
	if (st != INSN_OK || (in.kind != INSN_MOV_LOAD && in.kind != INSN_MOV_STORE) ||
	    (in.kind == INSN_MOV_STORE) != write) {
		stop(vm, "local APIC page: %s at %#x is not a MOV %s it (%s)",
		     access_kind(ev->u.npf.access), offset, write ? "to" : "from",
		     st == INSN_OK ? insn_kind_name(in.kind) : insn_status_name(st));
		return EXIT_OUTCOME_DONE;
	}
	if (write)
		value = in.has_imm ? in.imm : (uint32_t)gpr_get(v, in.gpr);
	if (in.width != 4 ||
	    !vplatform_apic_mmio(&vm->platform, offset, write, &value, rdtsc())) {
		stop(vm, "local APIC page: %u-byte %s at %#x (the APIC takes aligned "
		     "32-bit accesses in xAPIC mode only)", in.width,
		     access_kind(ev->u.npf.access), offset);
		return EXIT_OUTCOME_DONE;
	}
	if (!write)
		gpr_set(v, in.gpr, value); /* a 32-bit load clears bits 63:32 */
	arch->set(v, GREG_RIP, arch->get(v, GREG_RIP) + in.len);
	return EXIT_OUTCOME_RESUME;
}

static enum exit_outcome handle_npf(struct vm *vm, struct vcpu *v,
				    const struct exit_event *ev)
{
	if (ev->u.npf.gpa - VLAPIC_MMIO_BASE < 0x1000 && ev->u.npf.access != NPT_EXEC)
		return handle_apic_mmio(vm, v, ev);
	stop(vm, "EPT violation: %s of guest-physical %#llx at RIP %#llx",
	     access_kind(ev->u.npf.access), (unsigned long long)ev->u.npf.gpa,
	     (unsigned long long)arch->get(v, GREG_RIP));
	return EXIT_OUTCOME_DONE;
}

static enum exit_outcome dispatch(struct vm *vm, struct vcpu *v,
				  const struct exit_event *ev)
{
	switch (ev->kind) {
	case EXIT_PREEMPTED:
		/* The slice's end, or the platform's next timer event: the
		 * scheduler's loop tells them apart (hv/sched.c). */
		return EXIT_OUTCOME_RESUME;
	case EXIT_INTR_WINDOW:
		return EXIT_OUTCOME_RESUME; /* virq_before_entry injects it */
	case EXIT_CPUID:
		return handle_cpuid(vm, v, ev);
	case EXIT_IO:
		return handle_io(vm, v, ev);
	case EXIT_HYPERCALL:
		return handle_hypercall(vm, v, ev);
	case EXIT_MSR_READ:
	case EXIT_MSR_WRITE:
		return handle_msr(vm, v, ev);
	case EXIT_HLT:
		return handle_hlt(vm, v, ev);
	case EXIT_SHUTDOWN:
		stop(vm, "triple fault at RIP %#llx",
		     (unsigned long long)arch->get(v, GREG_RIP));
		return EXIT_OUTCOME_DONE;
	case EXIT_NPF:
		return handle_npf(vm, v, ev);
	case EXIT_NPT_BROKEN:
		/* The TCB built malformed tables: an invariant is broken. */
		panic("nested page tables of vm %u malformed at guest-physical %#llx",
		      vm->id, (unsigned long long)ev->u.npf.gpa);
	case EXIT_XSETBV:
		return handle_xsetbv(v, ev);
	case EXIT_CR:
		return handle_cr_access(vm, v, ev);
	case EXIT_NMI:
		console_printf("vm %u (%s): NMI while running it; ignored\n",
			       vm->id, vm_log_name(vm));
		return EXIT_OUTCOME_RESUME;
	case EXIT_EXCEPTION:
		/* No exception is intercepted, so this is not expected. */
		stop(vm, "unexpected exception exit, info %#llx",
		     (unsigned long long)ev->u.code);
		return EXIT_OUTCOME_DONE;
	case EXIT_INTERRUPT:
		/* VMX: acknowledged on exit, and spurious (the TCB masks every
		 * interrupt source). SVM: the slice timer's, taken and EOIed by
		 * the backend; the scheduler sees whether the slice is over. */
		return EXIT_OUTCOME_RESUME;
	case EXIT_HANDLED:
		return EXIT_OUTCOME_RESUME;
	case EXIT_BAD_INSN:
		stop(vm, "%s exit %#llx at RIP %#llx: the instruction there is not "
		     "the one that exited, or cannot be read", arch->name,
		     (unsigned long long)ev->u.code,
		     (unsigned long long)arch->get(v, GREG_RIP));
		return EXIT_OUTCOME_DONE;
	case EXIT_VIRT_INSN:
		arch->inject(v, VECTOR_UD, false); /* no nested virtualization */
		return EXIT_OUTCOME_RESUME;
	case EXIT_ENTRY_FAILED:
		stop(vm, "VM entry failed: %s error %llu, qualification %#llx",
		     arch->name, (unsigned long long)ev->u.code,
		     (unsigned long long)ev->qual);
		return EXIT_OUTCOME_DONE;
	case EXIT_UNKNOWN:
		break;
	}
	stop(vm, "unhandled exit reason %llu at RIP %#llx",
	     (unsigned long long)ev->u.code,
	     (unsigned long long)arch->get(v, GREG_RIP));
	return EXIT_OUTCOME_DONE;
}

enum exit_outcome vm_exit_handle(struct vm *vm, struct vcpu *v,
				 const struct exit_event *ev)
{
	vm->exits++;
	return dispatch(vm, v, ev);
}
