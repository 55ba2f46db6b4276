/*
 * The SVM backend (hv/arch.h; AMD APM Vol. 2 chapter 15): a vCPU's control
 * block is its VMCB, a plain page the TCB reads and writes; VMRUN enters,
 * #VMEXIT leaves (hv/svm/svm_switch.S). The intercepts carry out the same
 * policy as the VMX backend's controls (docs/vm-exits.md): every CPUID,
 * HLT, I/O and MSR access outside the permission maps, the hypercall
 * (VMMCALL), XSETBV, CR0 and CR4 writes, every SVM instruction, INIT,
 * shutdown, physical interrupts and NMIs exit; no exception does.
 *
 * What SVM lacks and VMX has:
 *  - no preemption timer: the slice is the local APIC timer's one-shot
 *    interrupt, which exits the guest (INTR intercept, V_INTR_MASKING) and
 *    is taken and EOIed right after (hv/lapic_timer.h);
 *  - no next RIP without NRIPS (QEMU): the length comes from EXITINFO2 for
 *    I/O, else from decoding the instruction at RIP through the guest's
 *    own page tables (tcb/guest_va.h, tcb/insn_decode.h);
 *  - no guest/host masks for CR0 and CR4: their writes exit and the
 *    backend applies the guest-owned bits itself (EXIT_HANDLED);
 *  - an NMI that exits a guest stays pending until GIF is set again, and
 *    is then taken by the hypervisor's own handler, which drops it;
 *  - ASIDs may be fewer than VM ids (QEMU has 16): then they are shared,
 *    and every VMRUN of another VMCB than the last flushes the TLB.
 * CR8 needs no intercept: with V_INTR_MASKING the guest's CR8 is the
 * VMCB's V_TPR, per vCPU, never the real LAPIC's TPR.
 */
#include "hv/arch.h"
#include "hv/cpu.h"
#include "hv/guest_start.h"
#include "hv/lapic_timer.h"
#include "hv/memory.h"
#include "hv/power.h"
#include "hv/spec_barrier.h"
#include "hv/svm/svm.h"
#include "hv/svm/svm_exit_decode.h"
#include "hv/svm/vmcb.h"
#include "tcb/insn_decode.h"
#include "tcb/npt.h"
#include "tcb/vm.h"

#include <string.h>

#define CR4_OSXSAVE (1ull << 18)
#define EFER_LMA    (1ull << 10)
#define VMCB_ATTR_L (1u << 9)   /* CS.L in the VMCB's attribute format */

void svm_enter(struct guest_gprs *gprs, uint64_t vmcb_pa, uint64_t host_save_pa);

static struct {
	struct svm_caps caps;
	uint64_t iopm_pa[2], msrpm_pa; /* iopm_pa[owns_com2] */
	uint64_t host_save_pa;  /* the hypervisor's VMLOAD/VMSAVE state */
	bool shared_asids;      /* fewer ASIDs than VM ids */
	uint64_t last_ran;      /* the VMCB of the last VMRUN */
	bool flush_next;        /* the next VMRUN flushes the whole TLB */
	uint64_t cr0_owned, cr4_owned; /* the bits the TCB owns (exit_policy.h) */
} svm;

static struct vmcb *vmcb_of(const struct vcpu *v)
{
	return phys_to_virt(v->ctl_pa);
}

static void vmsave(uint64_t pa)
{
	__asm__ volatile("vmsave %%rax" : : "a"(pa) : "memory");
}

void svm_set_caps(const struct svm_caps *caps)
{
	svm.caps = *caps;
}

static void svm_init(void)
{
	svm_permission_maps(spec_barrier_caps(), svm.iopm_pa, &svm.msrpm_pa);
	/* The TR, FS, GS and syscall MSRs the hypervisor runs with, as VMLOAD
	 * brings them back after each #VMEXIT (hv/svm/svm_switch.S). */
	svm.host_save_pa = memory_alloc_tcb_frame();
	vmsave(svm.host_save_pa);
	svm.shared_asids = svm.caps.asids <= VM_MAX;
	/* No fixed bits on SVM: the guest owns exactly its whitelist. */
	svm.cr0_owned = cr0_guest_host_mask(0, ~0ull);
	svm.cr4_owned = cr4_guest_host_mask(0, ~0ull);
	if (!lapic_timer_usable())
		panic("SVM needs the local APIC timer for its slices, and it is "
		      "not usable");
}

static void svm_vcpu_load(struct vcpu *v)
{
	(void)v; /* a VMCB needs no loading: every call names its page */
}

static uint32_t asid_of(uint16_t tag)
{
	/* ASID 0 is the host's (APM 15.16): guests get 1 .. asids - 1. */
	return svm.shared_asids ? 1u + (tag - 1u) % (svm.caps.asids - 1u) : tag;
}

static void write_intercepts(struct vmcb_control *c, bool owns_com2)
{
	/* CR0 and CR4 writes: the TCB owns the bits outside the guest's
	 * whitelist (NE, PKE, CET, ...: exit_policy.h), as on VMX; the backend
	 * carries out the rest (cr_write). CR8 is V_TPR. */
	c->intercept_cr = SVM_INTERCEPT_CR_WRITE(0) | SVM_INTERCEPT_CR_WRITE(4);
	c->intercept_exceptions = 0; /* guests handle their own faults */
	c->intercept_misc1 = SVM_INTERCEPT1_INTR | SVM_INTERCEPT1_NMI |
		SVM_INTERCEPT1_INIT | SVM_INTERCEPT1_RDPMC | SVM_INTERCEPT1_CPUID |
		SVM_INTERCEPT1_RSM | SVM_INTERCEPT1_INVD | SVM_INTERCEPT1_HLT |
		SVM_INTERCEPT1_INVLPGA | SVM_INTERCEPT1_IOIO_PROT |
		SVM_INTERCEPT1_MSR_PROT | SVM_INTERCEPT1_TASK_SWITCH |
		SVM_INTERCEPT1_FERR_FREEZE | SVM_INTERCEPT1_SHUTDOWN;
	c->intercept_misc2 = SVM_INTERCEPT2_VMRUN | SVM_INTERCEPT2_VMMCALL |
		SVM_INTERCEPT2_VMLOAD | SVM_INTERCEPT2_VMSAVE | SVM_INTERCEPT2_STGI |
		SVM_INTERCEPT2_CLGI | SVM_INTERCEPT2_SKINIT | SVM_INTERCEPT2_RDTSCP |
		SVM_INTERCEPT2_MONITOR | SVM_INTERCEPT2_MWAIT |
		SVM_INTERCEPT2_MWAIT_ARMED | SVM_INTERCEPT2_XSETBV |
		SVM_INTERCEPT2_RDPRU;
	c->intercept_misc3 = SVM_INTERCEPT3_INVLPGB | SVM_INTERCEPT3_INVLPGB_ILLEGAL |
		SVM_INTERCEPT3_MCOMMIT | SVM_INTERCEPT3_TLBSYNC;
	c->iopm_base_pa = svm.iopm_pa[owns_com2];
	c->msrpm_base_pa = svm.msrpm_pa;
	c->int_ctl = SVM_INT_CTL_V_INTR_MASKING;
	c->nested_ctl = SVM_NESTED_CTL_NP_ENABLE;
}

static void svm_state_set(struct vcpu *v, const uint64_t w[VCPU_CONTEXT_STATE_WORDS]);

static void svm_vcpu_setup(struct vcpu *v, const struct vcpu_start *s)
{
	struct vmcb *c = vmcb_of(v);
	uint64_t w[VCPU_CONTEXT_STATE_WORDS];

	memset(c, 0, sizeof(*c));
	write_intercepts(&c->control, s->owns_com2);
	c->control.guest_asid = asid_of(s->tag);
	c->control.nested_cr3 = s->npt_root;
	c->control.tlb_control = SVM_TLB_FLUSH_ALL; /* a new guest on this ASID */
	guest_start_state(s, read_cr4() & CR4_OSXSAVE, w);
	svm_state_set(v, w);
	c->state.dr6 = v->sys.dr6;
	v->npt = s->npt;
	v->launched = false;
}

static void svm_vcpu_release(struct vcpu *v)
{
	(void)v; /* the CPU caches nothing of a VMCB between VMRUNs */
	svm.last_ran = 0;
}

/* The registers VMRUN keeps in the VMCB rather than the CPU (APM 15.5.1,
 * 15.5.2): the VMCB is where they are between entries; v->sys holds them
 * while the vCPU is switched out (sealing reads them there). */
static void svm_switch_out(struct vcpu *v)
{
	const struct vmcb_state *st = &vmcb_of(v)->state;

	v->sys.cr2 = st->cr2;
	v->sys.dr6 = st->dr6;
	v->sys.star = st->star;
	v->sys.lstar = st->lstar;
	v->sys.cstar = st->cstar;
	v->sys.fmask = st->sfmask;
	v->sys.kernel_gs_base = st->kernel_gs_base;
	v->sys.cr8 = vmcb_of(v)->control.int_ctl & SVM_INT_CTL_V_TPR_MASK;
}

static void svm_switch_in(const struct vcpu *v)
{
	struct vmcb *c = vmcb_of(v);

	c->state.cr2 = v->sys.cr2;
	c->state.dr6 = v->sys.dr6;
	c->state.star = v->sys.star;
	c->state.lstar = v->sys.lstar;
	c->state.cstar = v->sys.cstar;
	c->state.sfmask = v->sys.fmask;
	c->state.kernel_gs_base = v->sys.kernel_gs_base;
	c->control.int_ctl = (c->control.int_ctl & ~SVM_INT_CTL_V_TPR_MASK) |
			     (uint32_t)(v->sys.cr8 & SVM_INT_CTL_V_TPR_MASK);
}

/* ---- exits ----------------------------------------------------------------- */

/* Guest-physical reads for the instruction fetch: the VM's own memory,
 * page by page through its nested page tables, nothing else. */
static bool read_gpa(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	const struct vcpu *v = ctx;

	return memory_read_guest(v->npt, gpa, buf, len);
}

/* The instruction at the guest's RIP, read through its own page tables
 * (tcb/insn_decode.h). INSN_OK or why not. */
static enum insn_status fetch(struct vcpu *v, struct insn *in)
{
	const struct vmcb_state *st = &vmcb_of(v)->state;
	const struct guest_paging p = {
		.cr0 = st->cr0, .cr3 = st->cr3, .cr4 = st->cr4,
		.efer = st->efer, .maxphyaddr = 52,
		.read = read_gpa, .ctx = v,
	};
	bool long_mode = (st->efer & EFER_LMA) && (st->cs.attrib & VMCB_ATTR_L);

	return insn_fetch(&p, st->rip, long_mode, (st->cpl & 3) == 3, in, NULL);
}

/* The instruction each skipped exit must have come from. */
static enum insn_kind insn_of(uint64_t code, uint64_t info1)
{
	switch (code) {
	case SVM_EXIT_CPUID: return INSN_CPUID;
	case SVM_EXIT_HLT: return INSN_HLT;
	case SVM_EXIT_MSR: return info1 ? INSN_WRMSR : INSN_RDMSR;
	case SVM_EXIT_VMMCALL: return INSN_VMMCALL;
	case SVM_EXIT_XSETBV: return INSN_XSETBV;
	default: return INSN_NONE;
	}
}

/* The guest register a MOV or LMSW names (x86 numbering: 0 RAX .. 4 RSP .. 15). */
static uint64_t gpr_value(const struct vcpu *v, unsigned n)
{
	const uint64_t *r = (const uint64_t *)&v->gprs;
	/* struct guest_gprs order: rax rbx rcx rdx rsi rdi rbp r8..r15 */
	static const int at[16] = { 0, 2, 3, 1, -1, 6, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14 };

	return at[n & 15] < 0 ? vmcb_of(v)->state.rsp : r[at[n & 15]];
}

#define CR0_TS    (1ull << 3)
#define LMSW_BITS 0xfull /* PE, MP, EM, TS */

/*
 * A write of CR0 or CR4. VMX exits only on writes that change a bit the
 * TCB owns (its guest/host masks); SVM intercepts every write, so the
 * backend does the masks' part: a write that changes only the guest's bits
 * is carried out here (EXIT_HANDLED), one that would change a TCB bit goes
 * to the shared decision (EXIT_CR: #GP). The operand comes from decode
 * assists or the decoded instruction (hv/svm/svm_exit_decode.h).
 */
static void cr_write(struct vcpu *v, struct exit_event *ev, const struct insn *in)
{
	struct vmcb_state *st = &vmcb_of(v)->state;
	const struct vmcb_control *c = &vmcb_of(v)->control;
	uint64_t old, value;

	if (!svm_cr_exit_decode(c->exit_code, c->exit_info1, svm.caps.decode_assists,
				in, &ev->u.cr) ||
	    (ev->u.cr.cr != 0 && ev->u.cr.cr != 4)) {
		ev->kind = EXIT_UNKNOWN;
		return;
	}
	ev->kind = EXIT_CR;
	old = ev->u.cr.cr == 0 ? st->cr0 : st->cr4;
	switch (ev->u.cr.type) {
	case CR_CLTS:
		value = old & ~CR0_TS;
		break;
	case CR_LMSW: /* LMSW can set PE but never clear it */
		value = (old & ~(LMSW_BITS & ~1ull)) | (gpr_value(v, ev->u.cr.gpr) & LMSW_BITS);
		break;
	default:
		value = gpr_value(v, ev->u.cr.gpr);
		break;
	}
	if ((value ^ old) & (ev->u.cr.cr == 0 ? svm.cr0_owned : svm.cr4_owned))
		return; /* the shared policy refuses it */
	if (ev->u.cr.cr == 0)
		st->cr0 = value;
	else
		st->cr4 = value;
	st->rip += ev->insn_len;
	ev->kind = EXIT_HANDLED;
}

/* Exits that only ever #UD in the guest: SVM's own instructions and the
 * ones CPUID does not offer. */
static bool undefined_for_guests(uint64_t code)
{
	switch (code) {
	case SVM_EXIT_VMRUN: case SVM_EXIT_VMLOAD: case SVM_EXIT_VMSAVE:
	case SVM_EXIT_STGI: case SVM_EXIT_CLGI: case SVM_EXIT_SKINIT:
	case SVM_EXIT_INVLPGA: case SVM_EXIT_RDTSCP: case SVM_EXIT_RDPRU:
	case SVM_EXIT_INVLPGB: case SVM_EXIT_INVLPGB_ILLEGAL:
	case SVM_EXIT_MCOMMIT: case SVM_EXIT_TLBSYNC: case SVM_EXIT_RSM:
		return true;
	default:
		return false;
	}
}

static bool is_cr_write(uint64_t code)
{
	return code >= SVM_EXIT_CR0_WRITE && code <= SVM_EXIT_CR0_WRITE + 15;
}

/*
 * The length of the instruction that exited, for the exits the TCB may
 * skip: NRIPS's next RIP where the CPU has it (APM Vol. 2 "NRIP Save"),
 * EXITINFO2 for I/O, else the instruction read from the guest, which must
 * be the one the exit names (a guest that changed its code since is
 * stopped). The decoded instruction is kept for CR writes without decode
 * assists. 0 and *bad set when the length cannot be known.
 */
static uint64_t insn_length(struct vcpu *v, struct insn *in, bool *bad)
{
	const struct vmcb *vmcb = vmcb_of(v);
	const struct vmcb_control *c = &vmcb->control;
	enum insn_kind want = insn_of(c->exit_code, c->exit_info1);
	bool cr = is_cr_write(c->exit_code);

	*bad = false;
	in->kind = INSN_NONE;
	if (c->exit_code == SVM_EXIT_IOIO)
		return c->exit_info2 - vmcb->state.rip;
	if (want == INSN_NONE && !cr)
		return 0; /* not an exit the TCB skips */
	if (svm.caps.nrips && c->next_rip && (!cr || svm.caps.decode_assists))
		return c->next_rip - vmcb->state.rip;
	if (fetch(v, in) != INSN_OK || (!cr && in->kind != want)) {
		*bad = true;
		return 0;
	}
	return in->len;
}

static void decode(struct vcpu *v, struct exit_event *ev)
{
	const struct vmcb *vmcb = vmcb_of(v);
	const struct vmcb_control *c = &vmcb->control;
	uint64_t code = c->exit_code;
	struct insn in;
	bool bad;

	ev->qual = c->exit_info1;
	ev->u.code = code;
	ev->insn_len = insn_length(v, &in, &bad);
	if (bad) {
		ev->kind = EXIT_BAD_INSN; /* stops the VM */
		return;
	}
	if (is_cr_write(code))
		return cr_write(v, ev, in.kind == INSN_NONE ? NULL : &in);
	if (undefined_for_guests(code)) {
		ev->kind = EXIT_VIRT_INSN;
		return;
	}
	switch (code) {
	case SVM_EXIT_INTR: ev->kind = EXIT_INTERRUPT; return;
	case SVM_EXIT_NMI: ev->kind = EXIT_NMI; return;
	case SVM_EXIT_VINTR: ev->kind = EXIT_INTR_WINDOW; return;
	case SVM_EXIT_CPUID: ev->kind = EXIT_CPUID; return;
	case SVM_EXIT_HLT: ev->kind = EXIT_HLT; return;
	case SVM_EXIT_IOIO:
		ev->kind = svm_ioio_decode(c->exit_info1, &ev->u.io) ? EXIT_IO : EXIT_UNKNOWN;
		if (ev->kind == EXIT_UNKNOWN)
			ev->u.code = code;
		return;
	case SVM_EXIT_MSR:
		ev->kind = c->exit_info1 ? EXIT_MSR_WRITE : EXIT_MSR_READ;
		return;
	case SVM_EXIT_VMMCALL: ev->kind = EXIT_HYPERCALL; return;
	case SVM_EXIT_XSETBV: ev->kind = EXIT_XSETBV; return;
	case SVM_EXIT_SHUTDOWN: ev->kind = EXIT_SHUTDOWN; return;
	case SVM_EXIT_NPF:
		/* A reserved bit in the TCB's own tables: its invariant broke. */
		ev->kind = (c->exit_info1 & SVM_NPF_RESERVED_BIT) ? EXIT_NPT_BROKEN : EXIT_NPF;
		ev->u.npf.gpa = c->exit_info2;
		ev->u.npf.access = (c->exit_info1 & SVM_NPF_FETCH) ? NPT_EXEC :
				   (c->exit_info1 & SVM_NPF_WRITE) ? NPT_WRITE : NPT_READ;
		return;
	case SVM_EXIT_INVALID: ev->kind = EXIT_ENTRY_FAILED; return;
	default:
		ev->kind = code >= SVM_EXIT_EXCEPTION_0 && code < SVM_EXIT_EXCEPTION_0 + 32 ?
			   EXIT_EXCEPTION : EXIT_UNKNOWN; /* INIT, MWAIT, task switch, ... */
		return;
	}
}

/* The slice's timer interrupt is pending (IF is 0 in the TCB): let it in,
 * so that its handler EOIs it. */
static void take_pending_interrupt(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}

static void svm_run(struct vcpu *v, uint64_t budget, struct exit_event *ev)
{
	struct vmcb *c = vmcb_of(v);

	*ev = (struct exit_event){ .kind = EXIT_UNKNOWN };
	if (svm.flush_next || (svm.shared_asids && svm.last_ran != v->ctl_pa))
		c->control.tlb_control = SVM_TLB_FLUSH_ALL;
	svm.flush_next = false;
	c->state.rax = v->gprs.rax;
	lapic_timer_arm(budget);
	svm_enter(&v->gprs, v->ctl_pa, svm.host_save_pa);
	lapic_timer_disarm();
	v->gprs.rax = c->state.rax;
	svm.last_ran = v->ctl_pa;
	c->control.tlb_control = SVM_TLB_NOTHING;
	c->control.event_inj = 0; /* delivered (or redone from exit_int_info) */
	v->launched = true;
	decode(v, ev);
	if (ev->kind == EXIT_INTERRUPT)
		take_pending_interrupt();
	/* An event the exit interrupted is delivered again at the next entry
	 * (APM 15.7.2), as VMX's IDT-vectoring information is not: none is
	 * intercepted here, so this is only ever a nested page fault during
	 * delivery, which stops the VM anyway. */
	if (c->control.exit_int_info & SVM_EVENT_VALID)
		c->control.event_inj = c->control.exit_int_info;
}

static void svm_skip(struct vcpu *v, const struct exit_event *ev)
{
	struct vmcb *c = vmcb_of(v);

	/* Only exits whose length decode found are skipped (EXIT_BAD_INSN
	 * stops the VM before). */
	CHECK(ev->insn_len != 0);
	c->state.rip += ev->insn_len;
	c->control.int_state &= ~SVM_INT_STATE_SHADOW;
}

static void svm_inject(struct vcpu *v, unsigned vector, bool error_code)
{
	vmcb_of(v)->control.event_inj = (vector & SVM_EVENT_VECTOR_MASK) |
		SVM_EVENT_TYPE_EXCEPTION | SVM_EVENT_VALID |
		(error_code ? SVM_EVENT_ERROR_VALID : 0); /* error code 0 */
}

#define RFLAGS_IF (1ull << 9)

static bool svm_intr_ready(struct vcpu *v)
{
	const struct vmcb *c = vmcb_of(v);

	return (c->state.rflags & RFLAGS_IF) &&
	       !(c->control.int_state & SVM_INT_STATE_SHADOW) &&
	       !(c->control.event_inj & SVM_EVENT_VALID);
}

/* EVENTINJ delivers whatever RFLAGS.IF says (APM 15.20): only called when
 * svm_intr_ready. */
static void svm_inject_intr(struct vcpu *v, unsigned vector)
{
	vmcb_of(v)->control.event_inj = (vector & SVM_EVENT_VECTOR_MASK) |
		SVM_EVENT_TYPE_INTR | SVM_EVENT_VALID;
}

/*
 * SVM has no interrupt-window control: a virtual interrupt (V_IRQ) that
 * ignores the TPR, with VINTR intercepted, exits at the moment the guest
 * could take it (APM 15.21.4), and is never itself delivered. The real
 * interrupt then goes in through EVENTINJ.
 */
static void svm_intr_window(struct vcpu *v, bool on)
{
	struct vmcb_control *c = &vmcb_of(v)->control;
	const uint32_t ask = SVM_INT_CTL_V_IRQ | SVM_INT_CTL_V_INTR_PRIO_MAX |
			     SVM_INT_CTL_V_IGN_TPR;

	c->int_ctl = on ? c->int_ctl | ask : c->int_ctl & ~ask;
	c->int_vector = 0;
	c->intercept_misc1 = on ? c->intercept_misc1 | SVM_INTERCEPT1_VINTR
				: c->intercept_misc1 & ~SVM_INTERCEPT1_VINTR;
}

static uint64_t svm_get(struct vcpu *v, enum guest_reg r)
{
	const struct vmcb_state *st = &vmcb_of(v)->state;

	switch (r) {
	case GREG_RIP: return st->rip;
	case GREG_RSP: return st->rsp;
	case GREG_CR0: return st->cr0;
	case GREG_CR3: return st->cr3;
	case GREG_CR4: return st->cr4;
	case GREG_EFER: return st->efer & ~EFER_SVME; /* the guest's view */
	case GREG_RFLAGS: return st->rflags;
	case GREG_PAT: return st->g_pat;
	case GREG_TSC_OFFSET: return vmcb_of(v)->control.tsc_offset;
	}
	return 0;
}

static void svm_set(struct vcpu *v, enum guest_reg r, uint64_t value)
{
	struct vmcb_state *st = &vmcb_of(v)->state;

	switch (r) {
	case GREG_RIP: st->rip = value; break;
	case GREG_RSP: st->rsp = value; break;
	case GREG_CR0: st->cr0 = value; break;
	case GREG_CR3: st->cr3 = value; break;
	case GREG_CR4: st->cr4 = value; break;
	case GREG_EFER: st->efer = value | EFER_SVME; break;
	case GREG_RFLAGS: st->rflags = value; break;
	case GREG_PAT: st->g_pat = value; break;
	case GREG_TSC_OFFSET: vmcb_of(v)->control.tsc_offset = value; break;
	}
}

static unsigned svm_cpl(struct vcpu *v)
{
	return vmcb_of(v)->state.cpl & 3;
}

/* ---- the state words of a sealed context (VMX's terms) ---------------------- */

static struct vmcb_segment *segment_of(struct vmcb_state *st, enum state_segment s)
{
	static const size_t at[] = {
		[SEG_ES] = offsetof(struct vmcb_state, es),
		[SEG_CS] = offsetof(struct vmcb_state, cs),
		[SEG_SS] = offsetof(struct vmcb_state, ss),
		[SEG_DS] = offsetof(struct vmcb_state, ds),
		[SEG_FS] = offsetof(struct vmcb_state, fs),
		[SEG_GS] = offsetof(struct vmcb_state, gs),
		[SEG_LDTR] = offsetof(struct vmcb_state, ldtr),
		[SEG_TR] = offsetof(struct vmcb_state, tr),
	};

	return (struct vmcb_segment *)((uint8_t *)st + at[s]);
}

static void svm_state_get(struct vcpu *v, uint64_t w[VCPU_CONTEXT_STATE_WORDS])
{
	struct vmcb *c = vmcb_of(v);
	struct vmcb_state *st = &c->state;

	memset(w, 0, VCPU_CONTEXT_STATE_WORDS * sizeof(*w));
	w[SW_RIP] = st->rip;
	w[SW_RSP] = st->rsp;
	w[SW_RFLAGS] = st->rflags;
	w[SW_CR0] = w[SW_CR0_READ_SHADOW] = st->cr0;
	w[SW_CR3] = st->cr3;
	w[SW_CR4] = w[SW_CR4_READ_SHADOW] = st->cr4;
	w[SW_DR7] = st->dr7;
	w[SW_DEBUGCTL] = st->dbgctl;
	w[SW_EFER] = st->efer & ~EFER_SVME;
	w[SW_PAT] = st->g_pat;
	for (enum state_segment s = SEG_ES; s <= SEG_TR; s++) {
		const struct vmcb_segment *seg = segment_of(st, s);
		w[SW_SEG(s, 0)] = seg->selector;
		w[SW_SEG(s, 1)] = seg->base;
		w[SW_SEG(s, 2)] = seg->limit;
		w[SW_SEG(s, 3)] = seg_ar_from_svm(seg->attrib);
	}
	w[SW_GDTR_BASE] = st->gdtr.base;
	w[SW_GDTR_LIMIT] = st->gdtr.limit;
	w[SW_IDTR_BASE] = st->idtr.base;
	w[SW_IDTR_LIMIT] = st->idtr.limit;
	w[SW_SYSENTER_CS] = st->sysenter_cs;
	w[SW_SYSENTER_ESP] = st->sysenter_esp;
	w[SW_SYSENTER_EIP] = st->sysenter_eip;
	w[SW_INTERRUPTIBILITY] = c->control.int_state & SVM_INT_STATE_SHADOW;
	w[SW_EVENT_INFO] = (uint32_t)c->control.event_inj;
	w[SW_EVENT_ERROR] = c->control.event_inj >> SVM_EVENT_ERROR_SHIFT;
}

static void svm_state_set(struct vcpu *v, const uint64_t w[VCPU_CONTEXT_STATE_WORDS])
{
	struct vmcb *c = vmcb_of(v);
	struct vmcb_state *st = &c->state;

	st->rip = w[SW_RIP];
	st->rsp = w[SW_RSP];
	st->rflags = w[SW_RFLAGS];
	st->cr0 = w[SW_CR0];
	st->cr3 = w[SW_CR3];
	st->cr4 = w[SW_CR4];
	st->dr7 = w[SW_DR7];
	st->dbgctl = w[SW_DEBUGCTL];
	st->efer = w[SW_EFER] | EFER_SVME;
	st->g_pat = w[SW_PAT];
	for (enum state_segment s = SEG_ES; s <= SEG_TR; s++) {
		struct vmcb_segment *seg = segment_of(st, s);
		seg->selector = (uint16_t)w[SW_SEG(s, 0)];
		seg->base = w[SW_SEG(s, 1)];
		seg->limit = (uint32_t)w[SW_SEG(s, 2)];
		seg->attrib = seg_ar_to_svm((uint32_t)w[SW_SEG(s, 3)]);
	}
	st->gdtr.base = w[SW_GDTR_BASE];
	st->gdtr.limit = (uint32_t)w[SW_GDTR_LIMIT];
	st->idtr.base = w[SW_IDTR_BASE];
	st->idtr.limit = (uint32_t)w[SW_IDTR_LIMIT];
	st->sysenter_cs = w[SW_SYSENTER_CS];
	st->sysenter_esp = w[SW_SYSENTER_ESP];
	st->sysenter_eip = w[SW_SYSENTER_EIP];
	/* In long mode the CPL is CS.DPL's (APM 15.5.1: must equal SS.DPL). */
	st->cpl = (uint8_t)((st->ss.attrib >> 5) & 3);
	c->control.int_state = (uint32_t)(w[SW_INTERRUPTIBILITY] & SVM_INT_STATE_SHADOW);
	c->control.event_inj = (uint32_t)w[SW_EVENT_INFO] |
			       (w[SW_EVENT_ERROR] << SVM_EVENT_ERROR_SHIFT);
}

static void svm_flush(const struct vm *vm)
{
	(void)vm;
	/* TLB_CONTROL acts at a VMRUN, and vm may never run again: whichever
	 * VMCB runs next flushes every ASID's entries, so that none of vm's
	 * translations outlives its frames. */
	svm.flush_next = true;
}

static void svm_off(void)
{
	svm_disable();
}

const struct arch_ops svm_ops = {
	.name = "svm",
	.npt_format = NPT_AMD64,
	.init = svm_init,
	.vcpu_load = svm_vcpu_load,
	.vcpu_setup = svm_vcpu_setup,
	.vcpu_release = svm_vcpu_release,
	.switch_out = svm_switch_out,
	.switch_in = svm_switch_in,
	.run = svm_run,
	.skip = svm_skip,
	.inject = svm_inject,
	.intr_ready = svm_intr_ready,
	.inject_intr = svm_inject_intr,
	.intr_window = svm_intr_window,
	.get = svm_get,
	.set = svm_set,
	.cpl = svm_cpl,
	.state_get = svm_state_get,
	.state_set = svm_state_set,
	.flush = svm_flush,
	.disable = svm_off,
};
