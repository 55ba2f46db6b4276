/*
 * The hypervisor expects no exceptions and takes one interrupt only, the
 * local APIC timer's tick (hv/lapic_timer.h), which the boot's self-check
 * and a backend without a preemption timer open a window for, and drops
 * NMIs (below): any other vector that reaches us is a bug or an attack. Print everything an engineer needs
 * (vector, error code, RIP, CR2, all registers) to COM1 and power off with
 * a failure status. A fault while reporting a fault prints one short line
 * and powers off, so there is never a reboot loop or a silent hang.
 */
#include "hv/exception.h"
#include "hv/boot_defs.h"
#include "hv/console.h"
#include "hv/cpu.h"
#include "hv/lapic_timer.h"
#include "hv/power.h"

static const char *const exception_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint",
	"#OF overflow", "#BR bound range", "#UD invalid opcode",
	"#NM device not available", "#DF double fault",
	"coprocessor segment overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault",
	"#GP general protection", "#PF page fault", "reserved 15",
	"#MF x87 error", "#AC alignment check", "#MC machine check",
	"#XM SIMD error", "#VE virtualization", "#CP control protection",
	"reserved 22", "reserved 23", "reserved 24", "reserved 25",
	"reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved 31",
};

static int exception_depth;

static const char *vector_name(uint64_t v)
{
	return v < 32 ? exception_names[v] : "external interrupt";
}

static void print_gprs(const struct exception_frame *f)
{
	const struct {
		const char *name;
		uint64_t value;
	} regs[] = {
		{ "RAX", f->rax }, { "RBX", f->rbx }, { "RCX", f->rcx },
		{ "RDX", f->rdx }, { "RSI", f->rsi }, { "RDI", f->rdi },
		{ "RBP", f->rbp }, { "R8 ", f->r8 },  { "R9 ", f->r9 },
		{ "R10", f->r10 }, { "R11", f->r11 }, { "R12", f->r12 },
		{ "R13", f->r13 }, { "R14", f->r14 }, { "R15", f->r15 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(regs); i += 3)
		console_printf("  %s=%016llx %s=%016llx %s=%016llx\n",
			       regs[i].name, (unsigned long long)regs[i].value,
			       regs[i + 1].name, (unsigned long long)regs[i + 1].value,
			       regs[i + 2].name, (unsigned long long)regs[i + 2].value);
}

/* Return addresses on the boot stack, for the post-mortem: only words
 * that point into the hypervisor's code are printed (never data, which
 * may be a key or a guest's bytes). */
extern char __image_start[], __text_end[], boot_stack_top[];

static void print_code_addresses_on_stack(uint64_t rsp)
{
	const uint64_t *w = (const uint64_t *)rsp;
	unsigned shown = 0;

	if (rsp < (uint64_t)boot_stack_top - BOOT_STACK_SIZE ||
	    rsp >= (uint64_t)boot_stack_top || rsp % 8)
		return;
	console_printf("  code addresses on the stack:");
	for (; (uint64_t)w < (uint64_t)boot_stack_top && shown < 16; w++) {
		if (*w >= (uint64_t)__image_start && *w < (uint64_t)__text_end) {
			console_printf(" %llx", (unsigned long long)*w);
			shown++;
		}
	}
	console_printf("\n");
}

#define VECTOR_NMI 2

void exception_dispatch(struct exception_frame *f)
{
	if (lapic_timer_interrupt(f->vector))
		return; /* the slice timer's tick (hv/lapic_timer.h) */
	/* An NMI is the platform's (a BMC's button, a watchdog), never a
	 * guest's, and nothing here depends on one. On SVM, one that exits a
	 * guest is taken here once GIF is set again, after hv/vm_exit.c has
	 * logged it; one in root mode (either backend) is equally dropped. */
	if (f->vector == VECTOR_NMI)
		return;
	if (exception_depth++) {
		console_printf("custos: nested exception %llu at RIP=%#llx\n",
			       (unsigned long long)f->vector,
			       (unsigned long long)f->rip);
		power_off(EXIT_PANIC, "nested exception");
	}
	console_flush(); /* what the ring holds first, then straight to the line */
	console_printf("\ncustos: *** CPU EXCEPTION %llu (%s) error=%#llx\n",
		       (unsigned long long)f->vector, vector_name(f->vector),
		       (unsigned long long)f->error_code);
	console_printf("  RIP=%016llx CS=%04llx RFLAGS=%016llx\n",
		       (unsigned long long)f->rip, (unsigned long long)f->cs,
		       (unsigned long long)f->rflags);
	console_printf("  RSP=%016llx SS=%04llx CR2=%016llx\n",
		       (unsigned long long)f->rsp, (unsigned long long)f->ss,
		       (unsigned long long)read_cr2());
	console_printf("  CR0=%016llx CR3=%016llx CR4=%016llx\n",
		       (unsigned long long)read_cr0(),
		       (unsigned long long)read_cr3(),
		       (unsigned long long)read_cr4());
	print_gprs(f);
	print_code_addresses_on_stack(f->rsp);
	power_off(EXIT_PANIC, "fatal CPU exception");
}
