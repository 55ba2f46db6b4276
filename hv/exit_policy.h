/*
 * What a guest may see and do, decided from raw values: CPUID filtering,
 * MSR access, port I/O. Pure functions (no CPU access), so they are
 * unit-tested on the host; hv/vm_exit.c applies the decisions.
 * docs/vm-exits.md is the policy table in prose.
 */
#ifndef CUSTOS_HV_EXIT_POLICY_H
#define CUSTOS_HV_EXIT_POLICY_H

#include <custos/types.h>

struct cpuid_values {
	uint32_t eax, ebx, ecx, edx;
};

/* Hypervisor CPUID leaves: 0x40000000 gives the signature "CustosCustos". */
#define CPUID_CUSTOS_BASE 0x40000000u
#define CPUID_CUSTOS_INFO 0x40000001u

struct cpuid_context {
	uint32_t vm_id;
	bool guest_osxsave;   /* guest CR4.OSXSAVE, mirrored in leaf 1 ECX */
	uint64_t xcr0;        /* the XCR0 every guest runs with */
	uint32_t xsave_size;  /* bytes of XSAVE area for that XCR0 */
	uint64_t tsc_hz;      /* the TSC rate the TCB measured; 0 unknown */
};

/*
 * Filter what the real CPU answered (host) for leaf/subleaf into what the
 * guest sees (out): a whitelist of leaves and, within them, of feature bits;
 * VMX, SMX, APIC topology and other host-revealing or unsupported features
 * hidden; the "hypervisor present" bit set; unknown leaves read as zero.
 */
void cpuid_filter(uint32_t leaf, uint32_t subleaf,
		  const struct cpuid_values *host,
		  const struct cpuid_context *ctx, struct cpuid_values *out);

struct spec_caps; /* hv/spec_policy.h */

/* MSRs guests access directly (the bitmap lets a RDMSR, or with write a
 * WRMSR, through): these are switched per VM by the TCB, or held in the
 * VMCS; IA32_SPEC_CTRL (read and write) and IA32_PRED_CMD (write) only
 * where the CPU has them. */
bool msr_is_passthrough(uint32_t msr, bool write, const struct spec_caps *spec);

/* Build the 4 KiB MSR bitmap (SDM 25.6.9): exit on everything except the
 * pass-through MSRs. */
void msr_bitmap_build(uint8_t bitmap[4096], const struct spec_caps *spec);

enum msr_decision {
	MSR_EMULATE_EFER_READ,  /* return the guest's EFER from the VMCS */
	MSR_EMULATE_EFER_WRITE, /* efer_write: SCE and NXE are the guest's */
	MSR_EMULATE_PAT_READ,   /* the guest's PAT, in the control block */
	MSR_EMULATE_PAT_WRITE,  /* pat_valid values only */
	MSR_EMULATE_MISC_ENABLE_READ,  /* MISC_ENABLE_VALUE */
	MSR_EMULATE_MISC_ENABLE_WRITE, /* only MISC_ENABLE_VALUE itself */
	MSR_EMULATE_APIC,       /* the VM's own virtual x2APIC (vdev/vlapic.h):
				 * IA32_APIC_BASE, IA32_TSC_DEADLINE, 0x800-0x8FF */
	MSR_DENY,               /* inject #GP, as for an MSR that does not exist */
};

enum msr_decision msr_policy(uint32_t msr, bool write);

/*
 * A guest's WRMSR of EFER: it may turn SYSCALL (SCE) and no-execute (NXE)
 * on and off, which only change how its own code runs; LME must stay as
 * it is (the VM is in 64-bit mode from its first instruction and stays
 * there), LMA is read-only (ignored, as the CPU does), every other bit
 * must be 0. true and the EFER to load in *out, or false: #GP.
 */
bool efer_write(uint64_t current, uint64_t value, uint64_t *out);

/* A PAT value the CPU accepts (SDM 12.12.2): each entry one of UC, WC,
 * WT, WP, WB, UC-, reserved bits 0. Anything else is #GP. */
bool pat_valid(uint64_t value);

/*
 * IA32_MISC_ENABLE as every guest reads it: fast strings on (bit 0), no
 * branch trace store (bit 11) or PEBS (bit 12), nothing else (XD not
 * disabled, CPUID not limited, no power or thermal features). Linux's
 * verify_cpu reads it on Intel before it has an IDT, so a #GP there is a
 * triple fault; a write of the same value is accepted, any other #GP.
 */
#define MISC_ENABLE_VALUE 0x1801ull

/*
 * CR0/CR4 guest/host masks (SDM Vol. 3C 25.6.6): a set bit is owned by the
 * TCB, so a guest MOV that would change it exits (and is refused with #GP)
 * and reads return the read shadow. A whitelist: the guest owns only the
 * bits listed in exit_policy.c as its own that this CPU also lets VMX
 * guests change (fixed0/fixed1 of IA32_VMX_CR0/CR4_FIXED*; with
 * unrestricted guest, CR0.PE and PG are free). Every other bit, reserved
 * and future ones included, belongs to the TCB.
 */
uint64_t cr0_guest_host_mask(uint64_t fixed0, uint64_t fixed1);
uint64_t cr4_guest_host_mask(uint64_t fixed0, uint64_t fixed1);

/* Control-register access, decoded from the exit qualification (SDM Vol.
 * 3C Table 28-3). */
enum cr_access_type {
	CR_MOV_TO = 0,
	CR_MOV_FROM = 1,
	CR_CLTS = 2,
	CR_LMSW = 3,
};

struct cr_exit {
	uint8_t cr;    /* control register number */
	uint8_t type;  /* enum cr_access_type */
	uint8_t gpr;   /* MOV's register: 0 RAX, 1 RCX, 2 RDX, 3 RBX, 4 RSP,
			* 5 RBP, 6 RSI, 7 RDI, 8-15 R8-R15 */
};

void cr_exit_decode(uint64_t qualification, struct cr_exit *out);

enum cr_decision {
	CR_TPR_WRITE,  /* MOV to CR8 of 0..15: the vCPU's TPR := the value */
	CR_TPR_READ,   /* MOV from CR8: the register := the vCPU's TPR */
	CR_INJECT_GP,  /* a change of a TCB-owned CR0/CR4 bit (CLTS and LMSW
			* included), or CR8 above 15: #GP, nothing changes */
	CR_STOP_VM,    /* an access no control makes exit: the VM is stopped */
};

/* Decide a control-register exit; value is what a MOV to CR would write. */
enum cr_decision cr_policy(const struct cr_exit *cr, uint64_t value);

/* Port I/O, decoded from the exit qualification (SDM Table 28-5). */
struct io_exit {
	uint16_t port;
	uint8_t size;   /* 1, 2 or 4 */
	bool in;
	bool string;    /* INS/OUTS */
	bool rep;
};

bool io_exit_decode(uint64_t qualification, struct io_exit *out);

enum io_decision {
	IO_PLATFORM,       /* the VM's virtual platform answers (vdev/): a
			    * device's register, or for a port no device
			    * claims all ones on IN and nothing on OUT */
	IO_STOP_VM,        /* string I/O: not supported, the VM is stopped */
};

enum io_decision io_policy(const struct io_exit *io);

/* What IN of size bytes reads from a port nothing claims. */
uint32_t io_all_ones(uint8_t size);

/* The physical serial port the TPGVM talks to the relay through. */
#define HOST_COM2_BASE 0x2f8
#define HOST_COM2_LAST 0x2ff

/*
 * Whether an access to port exits. Every port does, but for the TPGVM
 * (owns_com2) those of COM2: its bytes are TLS records for the relay, the
 * line is the untrusted world's anyway, and an exit per byte would only
 * pass them on. Both backends build their I/O permission maps from this
 * rule (io_bitmap_build), one map for the TPGVM and one for every other VM.
 */
bool io_port_exits(uint16_t port, bool owns_com2);

/*
 * The I/O bitmap of ports [first, first + count) (count a multiple of 8):
 * one bit per port, set where the access exits. VMX's bitmaps A and B are
 * the two halves of ports; SVM's permission map is all of them (and the
 * bits past port 0xffff, which the caller sets).
 */
void io_bitmap_build(uint8_t *bitmap, uint32_t first, uint32_t count,
		     bool owns_com2);

/* Decide an I/O exit; for IN, *value is what the guest reads (size bytes).
 * COM2 is just another denied port here: only a VM that does not own it
 * has its accesses exit. */

#endif
