#include "hv/exit_policy.h"
#include "hv/spec_policy.h"
#include <custos/guest_abi.h>
#include "vdev/vlapic.h"

/* ---- CPUID ---------------------------------------------------------------- */

#define BIT(n) (1u << (n))

/* Leaf 1 (SDM Vol. 2A, CPUID, Table 3-10/3-11). ECX bits kept: */
#define L1_ECX_KEEP (BIT(0) /* SSE3 */ | BIT(1) /* PCLMULQDQ */ | \
	BIT(9) /* SSSE3 */ | BIT(12) /* FMA */ | BIT(13) /* CMPXCHG16B */ | \
	BIT(19) /* SSE4.1 */ | BIT(20) /* SSE4.2 */ | BIT(22) /* MOVBE */ | \
	BIT(23) /* POPCNT */ | BIT(25) /* AES */ | BIT(26) /* XSAVE */ | \
	BIT(28) /* AVX */ | BIT(29) /* F16C */ | BIT(30) /* RDRAND */)
#define L1_ECX_OSXSAVE   BIT(27)
/* The VM's own local APIC (vdev/vlapic.h): x2APIC only, with the
 * TSC-deadline timer; never the real one. */
#define L1_ECX_APIC (BIT(21) /* x2APIC */ | BIT(24) /* TSC-deadline */)
#define L1_EDX_APIC BIT(9)
#define L1_ECX_HYPERVISOR BIT(31)
/* EDX: no MTRR, MCA, debug store, thermal or HTT: nothing of those is
 * virtualised, and HTT describes the host. The APIC bit is the VM's own
 * (L1_EDX_APIC), whatever the host has. */
#define L1_EDX_KEEP (BIT(0) /* FPU */ | BIT(1) /* VME */ | BIT(2) /* DE */ | \
	BIT(3) /* PSE */ | BIT(4) /* TSC */ | BIT(5) /* MSR */ | \
	BIT(6) /* PAE */ | BIT(8) /* CX8 */ | BIT(11) /* SEP */ | \
	BIT(13) /* PGE */ | BIT(15) /* CMOV */ | BIT(16) /* PAT */ | \
	BIT(17) /* PSE36 */ | BIT(19) /* CLFSH */ | BIT(23) /* MMX */ | \
	BIT(24) /* FXSR */ | BIT(25) /* SSE */ | BIT(26) /* SSE2 */)
/* Leaf 7.0 EBX: plain instruction-set extensions only. */
#define L7_EBX_KEEP (BIT(0) /* FSGSBASE */ | BIT(3) /* BMI1 */ | \
	BIT(5) /* AVX2 */ | BIT(7) /* SMEP */ | BIT(8) /* BMI2 */ | \
	BIT(9) /* ERMS */ | BIT(18) /* RDSEED */ | BIT(19) /* ADX */ | \
	BIT(20) /* SMAP */ | BIT(23) /* CLFLUSHOPT */ | BIT(29) /* SHA */)
/* Leaf 7.0 EDX: the speculation controls guests may use (docs/vm-exits.md):
 * IBRS/IBPB, STIBP and SSBD are IA32_SPEC_CTRL bits and IA32_PRED_CMD,
 * which guests access directly where the CPU has them (msr_bitmap_build);
 * MD_CLEAR says what VERW does, which no VMM can intercept anyway. Not
 * L1D_FLUSH (IA32_FLUSH_CMD exits) nor ARCH_CAPABILITIES (nor does it). */
#define L7_EDX_KEEP (BIT(10) /* MD_CLEAR */ | BIT(26) /* IBRS_IBPB */ | \
	BIT(27) /* STIBP */ | BIT(31) /* SSBD */)
/* Leaf 0x80000008 EBX, AMD's enumeration of the same controls. */
#define LE8_EBX_KEEP (BIT(12) /* IBPB */ | BIT(14) /* IBRS */ | \
	BIT(15) /* STIBP */ | BIT(24) /* SSBD */)
/* Leaf 0xD.1 EAX: XSAVEOPT, XSAVEC, XGETBV with ECX=1 (not XSAVES). */
#define LD1_EAX_KEEP (BIT(0) | BIT(1) | BIT(2))
/* Extended leaf 0x80000001. */
#define LE1_ECX_KEEP (BIT(0) /* LAHF */ | BIT(5) /* LZCNT */ | BIT(8) /* PREFETCHW */)
#define LE1_EDX_KEEP (BIT(11) /* SYSCALL */ | BIT(20) /* NX */ | \
	BIT(26) /* 1 GiB pages */ | BIT(29) /* long mode */)

/* Leaf 0x80000007 EDX: the invariant TSC. A VM's TSC is the host's plus
 * a fixed offset (hv/tenant.c), so it is invariant exactly when the host's
 * is; Linux then keeps it as its clocksource. Nothing else of power
 * management is virtualised. */
#define LE7_EDX_KEEP BIT(8)

#define MAX_BASIC_LEAF 0xdu
#define TSC_LEAF 0x15u
#define MAX_EXTENDED_LEAF 0x80000008u

static void leaf1(const struct cpuid_values *h, const struct cpuid_context *c,
		  struct cpuid_values *o)
{
	o->eax = h->eax;                 /* family, model, stepping */
	o->ebx = h->ebx & 0x0000ffffu;   /* brand index, CLFLUSH size; APIC id 0 */
	o->ecx = (h->ecx & L1_ECX_KEEP) | L1_ECX_HYPERVISOR | L1_ECX_APIC;
	if (c->guest_osxsave && (h->ecx & BIT(26)))
		o->ecx |= L1_ECX_OSXSAVE;
	o->edx = (h->edx & L1_EDX_KEEP) | L1_EDX_APIC;
}

static void leaf_xsave(uint32_t subleaf, const struct cpuid_values *h,
		       const struct cpuid_context *c, struct cpuid_values *o)
{
	if (subleaf == 0) {
		o->eax = h->eax & (uint32_t)c->xcr0;
		o->ebx = c->xsave_size;
		o->ecx = c->xsave_size;
		o->edx = 0;
	} else if (subleaf == 1) {
		o->eax = h->eax & LD1_EAX_KEEP;
	} else if (subleaf < 32 && (c->xcr0 & (1ull << subleaf))) {
		*o = *h;                 /* offset and size of an enabled component */
	}
}

/*
 * Leaf 0x15, the TSC's rate as crystal clock x EBX / EAX: the rate the TCB
 * measured at boot (tcb/timebase.h), which is what a VM's TSC runs at.
 * Linux takes it on Intel instead of calibrating against the virtual PIT
 * (slow and imprecise through VM exits) and marks the rate as known. The
 * crystal field is 32 bits: faster TSCs give it halved, EBX doubled
 * (vlapic_tick_shift); the VM's APIC timer counts at that crystal.
 */
static void leaf_tsc(const struct cpuid_context *c, struct cpuid_values *o)
{
	unsigned int shift = vlapic_tick_shift(c->tsc_hz);

	if (!c->tsc_hz || shift > 31)
		return; /* all zero: "not enumerated" */
	o->eax = 1;
	o->ebx = 1u << shift;
	o->ecx = (uint32_t)(c->tsc_hz >> shift);
}

static void leaf_custos(uint32_t leaf, const struct cpuid_context *c,
			struct cpuid_values *o)
{
	if (leaf == CPUID_CUSTOS_BASE) {
		o->eax = CPUID_CUSTOS_INFO;
		o->ebx = 0x74737543; /* "Cust" */
		o->ecx = 0x7543736f; /* "osCu" */
		o->edx = 0x736f7473; /* "stos" */
	} else if (leaf == CPUID_CUSTOS_INFO) {
		o->eax = CUSTOS_ABI_VERSION;
		o->ebx = c->vm_id;
	}
}

void cpuid_filter(uint32_t leaf, uint32_t subleaf,
		  const struct cpuid_values *h,
		  const struct cpuid_context *c, struct cpuid_values *o)
{
	*o = (struct cpuid_values){ 0, 0, 0, 0 };
	switch (leaf) {
	case 0:
		*o = *h;
		if (o->eax > MAX_BASIC_LEAF)
			o->eax = MAX_BASIC_LEAF;
		if (c->tsc_hz)
			o->eax = TSC_LEAF; /* ours; the leaves between read 0 */
		break;
	case 1:
		leaf1(h, c, o);
		break;
	case 7:
		if (subleaf == 0) {
			o->ebx = h->ebx & L7_EBX_KEEP;
			o->edx = h->edx & L7_EDX_KEEP;
		}
		break;
	case 0xd:
		leaf_xsave(subleaf, h, c, o);
		break;
	case TSC_LEAF:
		leaf_tsc(c, o);
		break;
	case CPUID_CUSTOS_BASE:
	case CPUID_CUSTOS_INFO:
		leaf_custos(leaf, c, o);
		break;
	case 0x80000000:
		o->eax = h->eax < MAX_EXTENDED_LEAF ? h->eax : MAX_EXTENDED_LEAF;
		break;
	case 0x80000001:
		o->ecx = h->ecx & LE1_ECX_KEEP;
		o->edx = h->edx & LE1_EDX_KEEP;
		break;
	case 0x80000002:
	case 0x80000003:
	case 0x80000004: /* brand string */
		*o = *h;
		break;
	case 0x80000007:
		o->edx = h->edx & LE7_EDX_KEEP;
		break;
	case 0x80000008:
		o->eax = h->eax & 0xffffu; /* physical and linear address widths */
		o->ebx = h->ebx & LE8_EBX_KEEP;
		break;
	default:
		break; /* everything else reads as zero */
	}
}

/* ---- MSRs ----------------------------------------------------------------- */

#define MSR_SPEC_CTRL      0x00000048u
#define MSR_PRED_CMD       0x00000049u
#define MSR_EFER           0xc0000080u
#define MSR_STAR           0xc0000081u
#define MSR_LSTAR          0xc0000082u
#define MSR_CSTAR          0xc0000083u
#define MSR_FMASK          0xc0000084u
#define MSR_FS_BASE        0xc0000100u
#define MSR_GS_BASE        0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u

static const uint32_t passthrough_msrs[] = {
	MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_FMASK, /* switched by the TCB */
	MSR_KERNEL_GS_BASE,                       /* switched by the TCB */
	MSR_FS_BASE, MSR_GS_BASE,                 /* guest state in the VMCS */
};

bool msr_is_passthrough(uint32_t msr, bool write, const struct spec_caps *spec)
{
	/* The guest's own SPEC_CTRL, switched by the TCB; IBPB is write-only
	 * and harms nobody (it only forgets predictions). */
	if (msr == MSR_SPEC_CTRL)
		return spec->spec_ctrl_bits != 0;
	if (msr == MSR_PRED_CMD)
		return write && spec->ibpb;
	for (size_t i = 0; i < ARRAY_SIZE(passthrough_msrs); i++)
		if (passthrough_msrs[i] == msr)
			return true;
	return false;
}

/* SDM 25.6.9: read-low, read-high, write-low, write-high, 1 KiB each; low
 * covers 0..0x1fff, high covers 0xc0000000..0xc0001fff. */
static void bitmap_clear(uint8_t *bitmap, uint32_t msr, bool write)
{
	uint32_t base = ((msr >= 0xc0000000u) ? 1024 : 0) + (write ? 2048 : 0);
	uint32_t bit = msr & 0x1fff;

	bitmap[base + bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

void msr_bitmap_build(uint8_t bitmap[4096], const struct spec_caps *spec)
{
	static const uint32_t conditional[] = { MSR_SPEC_CTRL, MSR_PRED_CMD };

	for (size_t i = 0; i < 4096; i++)
		bitmap[i] = 0xff;
	for (size_t i = 0; i < ARRAY_SIZE(passthrough_msrs); i++) {
		bitmap_clear(bitmap, passthrough_msrs[i], false);
		bitmap_clear(bitmap, passthrough_msrs[i], true);
	}
	for (size_t i = 0; i < ARRAY_SIZE(conditional); i++)
		for (int w = 0; w < 2; w++)
			if (msr_is_passthrough(conditional[i], w, spec))
				bitmap_clear(bitmap, conditional[i], w);
}

#define MSR_PAT 0x277u
#define MSR_MISC_ENABLE 0x1a0u
#define EFER_SCE BIT(0)
#define EFER_LME BIT(8)
#define EFER_LMA BIT(10)
#define EFER_NXE BIT(11)

enum msr_decision msr_policy(uint32_t msr, bool write)
{
	if (msr == MSR_EFER)
		return write ? MSR_EMULATE_EFER_WRITE : MSR_EMULATE_EFER_READ;
	if (msr == MSR_PAT)
		return write ? MSR_EMULATE_PAT_WRITE : MSR_EMULATE_PAT_READ;
	if (msr == MSR_MISC_ENABLE)
		return write ? MSR_EMULATE_MISC_ENABLE_WRITE :
			       MSR_EMULATE_MISC_ENABLE_READ;
	if (vlapic_msr_is_apic(msr))
		return MSR_EMULATE_APIC;
	return MSR_DENY;
}

bool efer_write(uint64_t current, uint64_t value, uint64_t *out)
{
	const uint64_t guest = EFER_SCE | EFER_NXE;

	if ((value & ~(guest | EFER_LME | EFER_LMA)) ||
	    (value & EFER_LME) != (current & EFER_LME))
		return false;
	*out = (current & ~guest) | (value & guest);
	return true;
}

bool pat_valid(uint64_t value)
{
	for (unsigned i = 0; i < 8; i++) {
		unsigned type = (value >> (8 * i)) & 0xff;
		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

/* ---- Control registers ----------------------------------------------------- */

/* CR0 (SDM Vol. 3A 2.5). The guest owns bits whose only effect is on how
 * its own code runs while it runs (a VM exit loads the TCB's CR0): paging
 * and protection, x87/SSE exception behaviour, write protection, alignment
 * checks, and its own accesses' caching (CD/NW; the caches themselves are
 * shared by design, docs/vm-exits.md). Not NE: VMX fixes it to 1. */
#define CR0_GUEST_OWNED (BIT(0) /* PE */ | BIT(1) /* MP */ | BIT(2) /* EM */ | \
	BIT(3) /* TS */ | BIT(4) /* ET */ | BIT(16) /* WP */ | BIT(18) /* AM */ | \
	BIT(29) /* NW */ | BIT(30) /* CD */ | BIT(31) /* PG */)
#define CR0_PE_PG (BIT(0) | BIT(31)) /* free with unrestricted guest */

/* CR4 (SDM Vol. 3A 2.5): exactly the features the guest's CPUID shows
 * (leaf 1 EDX VME, DE, PSE, TSC, PAE, PGE, FXSR, SSE; ECX XSAVE; leaf 7
 * EBX FSGSBASE, SMEP, SMAP), none of which enables state that is not in
 * the VMCS or switched per VM. The TCB owns the rest and keeps each at
 * its initial value: MCE, PCE, UMIP, LA57, SMXE, PCIDE, KL, CET, PKS, and
 * PKE at 0 -- PKRU is not switched between VMs, so no guest may turn
 * protection keys on (CPUID hides PKU and OSPKE too) --, VMXE at 1 (the
 * guest reads 0). */
#define CR4_GUEST_OWNED (BIT(0) /* VME */ | BIT(1) /* PVI */ | BIT(2) /* TSD */ | \
	BIT(3) /* DE */ | BIT(4) /* PSE */ | BIT(5) /* PAE */ | BIT(7) /* PGE */ | \
	BIT(9) /* OSFXSR */ | BIT(10) /* OSXMMEXCPT */ | BIT(16) /* FSGSBASE */ | \
	BIT(18) /* OSXSAVE */ | BIT(20) /* SMEP */ | BIT(21) /* SMAP */)

uint64_t cr0_guest_host_mask(uint64_t fixed0, uint64_t fixed1)
{
	uint64_t free = fixed1 & ~(fixed0 & ~(uint64_t)CR0_PE_PG);

	return ~((uint64_t)CR0_GUEST_OWNED & free);
}

uint64_t cr4_guest_host_mask(uint64_t fixed0, uint64_t fixed1)
{
	return ~((uint64_t)CR4_GUEST_OWNED & fixed1 & ~fixed0);
}

void cr_exit_decode(uint64_t q, struct cr_exit *out)
{
	*out = (struct cr_exit){
		.cr = (uint8_t)(q & 0xf),
		.type = (uint8_t)((q >> 4) & 3),
		.gpr = (uint8_t)((q >> 8) & 0xf),
	};
}

/* MOV to CR8 faults on bits 63:4 (SDM Vol. 3A 10.8.6.1; Vol. 2B MOV CR). */
#define CR8_VALID 0xfull

enum cr_decision cr_policy(const struct cr_exit *cr, uint64_t value)
{
	if (cr->cr == 8 && cr->type == CR_MOV_TO)
		return (value & ~CR8_VALID) ? CR_INJECT_GP : CR_TPR_WRITE;
	if (cr->cr == 8 && cr->type == CR_MOV_FROM)
		return CR_TPR_READ;
	/* Only writes that would change a TCB-owned bit exit (the CR0/CR4
	 * guest/host masks); CLTS and LMSW are writes to CR0. */
	if ((cr->cr == 0 || cr->cr == 4) && cr->type == CR_MOV_TO)
		return CR_INJECT_GP;
	if (cr->cr == 0 && (cr->type == CR_CLTS || cr->type == CR_LMSW))
		return CR_INJECT_GP;
	return CR_STOP_VM;
}

/* ---- Port I/O ------------------------------------------------------------- */

bool io_exit_decode(uint64_t q, struct io_exit *out)
{
	unsigned size_code = q & 7;

	if (size_code != 0 && size_code != 1 && size_code != 3)
		return false;
	*out = (struct io_exit){
		.size = (uint8_t)(size_code + 1),
		.in = (q >> 3) & 1,
		.string = (q >> 4) & 1,
		.rep = (q >> 5) & 1,
		.port = (uint16_t)(q >> 16),
	};
	return true;
}

bool io_port_exits(uint16_t port, bool owns_com2)
{
	return !(owns_com2 && port >= HOST_COM2_BASE && port <= HOST_COM2_LAST);
}

void io_bitmap_build(uint8_t *bitmap, uint32_t first, uint32_t count,
		     bool owns_com2)
{
	for (uint32_t i = 0; i < count; i++) {
		uint8_t bit = (uint8_t)(1u << (i % 8));

		if (io_port_exits((uint16_t)(first + i), owns_com2))
			bitmap[i / 8] |= bit;
		else
			bitmap[i / 8] &= (uint8_t)~bit;
	}
}

enum io_decision io_policy(const struct io_exit *io)
{
	return io->string ? IO_STOP_VM : IO_PLATFORM;
}

uint32_t io_all_ones(uint8_t size)
{
	return size >= 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
}
