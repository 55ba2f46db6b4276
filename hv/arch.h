/*
 * The CPU's virtualization extension as the rest of hv/ sees it: one small
 * interface, implemented by hv/vmx/ (Intel VMX) and hv/svm/ (AMD SVM), one
 * of which boot selects (arch_enable). The scheduler, the exit decisions
 * (hv/vm_exit.c, hv/exit_policy.c), hypercall entry, console, nested page
 * tables from the frame ownership table and vCPU context protection are
 * written once, against this; nothing outside hv/vmx/ and hv/svm/ knows a
 * VMCS or a VMCB, and tcb/ knows neither (docs/architecture.md, "Two CPU
 * backends"). The shape follows KVM's kvm_x86_ops: a table of functions
 * chosen once, rather than #ifdefs or a second copy of the mechanism.
 *
 * A vCPU's control block (VMCS or VMCB) is a TCB frame, vcpu.ctl_pa. The
 * operations that read or write guest state act on the vCPU last made
 * current with vcpu_load (VMX can address only the current VMCS; SVM
 * ignores it).
 */
#ifndef CUSTOS_HV_ARCH_H
#define CUSTOS_HV_ARCH_H

#include <custos/types.h>
#include "hv/exit_policy.h"
#include "hv/vcpu.h"
#include "hv/vcpu_context.h"
#include "tcb/npt.h"

struct vm;

/* Why the guest stopped running, decoded by the backend. */
enum exit_kind {
	EXIT_PREEMPTED,     /* the slice's timer */
	EXIT_INTERRUPT,     /* an external interrupt (a spurious one: all are masked) */
	EXIT_NMI,
	EXIT_EXCEPTION,     /* an exception no intercept asks for: u.code */
	EXIT_CPUID,
	EXIT_HLT,
	EXIT_IO,            /* u.io */
	EXIT_MSR_READ,      /* RDMSR of the MSR in RCX */
	EXIT_MSR_WRITE,     /* WRMSR */
	EXIT_HYPERCALL,     /* VMCALL (VMX) or VMMCALL (SVM) */
	EXIT_CR,            /* u.cr: a control-register access that exits */
	EXIT_XSETBV,
	EXIT_NPF,           /* u.npf: a nested page fault (EPT violation) */
	EXIT_NPT_BROKEN,    /* the TCB's nested page tables are malformed */
	EXIT_SHUTDOWN,      /* triple fault */
	EXIT_VIRT_INSN,     /* a VMX or SVM instruction: no nested virtualization */
	EXIT_ENTRY_FAILED,  /* the CPU refused to enter: u.code, backend's words */
	EXIT_UNKNOWN,       /* u.code: the backend's own exit code */
	EXIT_BAD_INSN,      /* the instruction the exit names is not at RIP (the
			     * guest changed it) or cannot be read: stop the VM */
	EXIT_HANDLED,       /* the backend did what the CPU would have done
			     * itself on the other backend (SVM: a CR0 or CR4
			     * write of the guest's own bits): resume */
	EXIT_INTR_WINDOW,   /* the guest can take an interrupt now (asked for
			     * with intr_window) */
};

struct exit_event {
	enum exit_kind kind;
	union {
		struct io_exit io;
		struct cr_exit cr;
		struct {
			uint64_t gpa;
			unsigned access; /* NPT_READ, NPT_WRITE or NPT_EXEC (tcb/npt.h) */
		} npf;
		uint64_t code;
	} u;
	uint64_t qual; /* the backend's qualification, for log lines */
	/* Bytes of the instruction that exited, for skip (0: not known,
	 * the backend finds it). */
	uint64_t insn_len;
};

/* Guest registers the shared code reads or writes one by one. */
enum guest_reg {
	GREG_RIP, GREG_RSP, GREG_CR0, GREG_CR3, GREG_CR4, GREG_EFER,
	GREG_RFLAGS, GREG_PAT,
	GREG_TSC_OFFSET, /* added to the TSC the guest reads (RDTSC, RDTSCP) */
};

/* A vCPU's first state (the rest: include/custos/guest_abi.h). */
struct vcpu_start {
	uint64_t rip, rsp, cr3;
	/* The flat segments' selectors in the guest's GDT at GUEST_GDT_GPA
	 * and its limit: code (CS), data (DS, ES, SS, FS, GS). ELF guests
	 * GUEST_SEL_CODE/GUEST_SEL_DATA and 3 entries; Linux guests __BOOT_CS
	 * 0x10, __BOOT_DS 0x18 and 4 (tcb/linux_boot.h). */
	uint16_t sel_code, sel_data, gdt_limit;
	uint64_t npt_root;  /* the nested page table's root for the CPU:
			     * EPTP (VMX) or nCR3 (SVM), npt_root_pointer() */
	uint16_t tag;       /* TLB tag: VPID or ASID, never 0 */
	/* The VM's nested page tables, for a backend that must read guest
	 * memory itself (SVM without NRIPS: the instruction that exited). */
	const struct npt *npt;
	/* The TPGVM: its COM2 accesses do not exit (io_port_exits). */
	bool owns_com2;
};

struct arch_ops {
	const char *name;                 /* "vmx" or "svm", for log lines */
	enum npt_format npt_format;       /* the nested page tables it walks */
	/* Once after enabling: controls, intercepts, bitmaps. */
	void (*init)(void);
	/* Make v current for the calls below (VMX: VMPTRLD). */
	void (*vcpu_load)(struct vcpu *v);
	/* Write v's control block (frame ctl_pa) for a fresh guest: controls,
	 * host state, s and the initial state of guest_abi.h; v is current
	 * afterwards. */
	void (*vcpu_setup)(struct vcpu *v, const struct vcpu_start *s);
	/* v's control block is about to be freed: the CPU must not cache it
	 * (VMX: VMCLEAR). */
	void (*vcpu_release)(struct vcpu *v);
	/* Move what the backend keeps in the CPU between entries (MSRs the
	 * control block does not switch, CR2, DR6) out to v->sys and back;
	 * the shared part (XSAVE, DR0-3, SPEC_CTRL) is hv/vcpu.c's. */
	void (*switch_out)(struct vcpu *v);
	void (*switch_in)(const struct vcpu *v);
	/* Enter v (current) for at most budget TSC cycles of guest time and
	 * decode the exit. */
	void (*run)(struct vcpu *v, uint64_t budget, struct exit_event *ev);
	/* RIP past the instruction that caused ev. */
	void (*skip)(struct vcpu *v, const struct exit_event *ev);
	/* A hardware exception (with error code 0 if error_code) at the next
	 * entry. */
	void (*inject)(struct vcpu *v, unsigned vector, bool error_code);
	/* Interrupts from the VM's virtual platform (vdev/, hv/vintr.c):
	 * whether v takes an external interrupt at the next entry (RFLAGS.IF
	 * set, no STI or MOV SS shadow, no event already being injected);
	 * inject one (only when intr_ready); and exit with EXIT_INTR_WINDOW
	 * as soon as v can take one (on) or stop asking (off). */
	bool (*intr_ready)(struct vcpu *v);
	void (*inject_intr)(struct vcpu *v, unsigned vector);
	void (*intr_window)(struct vcpu *v, bool on);
	uint64_t (*get)(struct vcpu *v, enum guest_reg r);
	void (*set)(struct vcpu *v, enum guest_reg r, uint64_t value);
	unsigned (*cpl)(struct vcpu *v);
	/* The state in v's control block as the words of a sealed context
	 * (hv/vcpu_context.h, in VMX's terms), and back over a fresh setup. */
	void (*state_get)(struct vcpu *v, uint64_t s[VCPU_CONTEXT_STATE_WORDS]);
	void (*state_set)(struct vcpu *v, const uint64_t s[VCPU_CONTEXT_STATE_WORDS]);
	/* Drop every cached translation of vm (nested and tagged). */
	void (*flush)(const struct vm *vm);
	/* Leave virtualization (before powering off). */
	void (*disable)(void);
};

/* The backend boot chose; NULL before arch_enable succeeded. */
extern const struct arch_ops *arch;

/*
 * Find and enable the CPU's virtualization extension; on success set arch,
 * write one line about it (name and features) into line and return NULL,
 * else return the reason none can be used. A backend that got partway
 * (VMX sets CR4.VMXE before VMXON can fail) is not undone: the boot then
 * only powers off.
 */
const char *arch_enable(char *line, size_t line_len);

#endif
