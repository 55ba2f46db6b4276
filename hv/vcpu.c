/*
 * Context switching between VMs.
 *
 * The hypervisor is built with -mgeneral-regs-only and never touches x87,
 * SSE or AVX state, debug registers, CR2, the syscall MSRs or SPEC_CTRL.
 * So after a VM exit those still hold the guest's values, and they only
 * need to move when a different VM is about to run: vcpu_save() stores the
 * outgoing VM's copy in TCB memory and vcpu_restore() loads the incoming
 * one's over it, completely (XRSTOR with every enabled component:
 * components the saved image marks as unused are put in their initial
 * state, so nothing of the previous VM survives). This file moves what both
 * backends leave in the CPU (XSAVE state, DR0-DR3, SPEC_CTRL); the backend
 * moves the rest (arch->switch_out/in: on VMX CR2, DR6 and the syscall
 * MSRs; SVM keeps some of those in its VMCB). The GPRs are swapped on every
 * entry and exit by the backend's world switch. CR8 is never the real
 * LAPIC's.
 */
#include "hv/vcpu.h"
#include "hv/arch.h"
#include "hv/boot_defs.h"
#include "hv/vcpu_context.h"
#include "hv/cpu.h"
#include "hv/memory.h"
#include "hv/power.h"
#include "hv/spec_barrier.h"
#include "hv/spec_policy.h"

#include <string.h>

#define CR4_OSFXSR     (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE    (1ull << 18)
#define XCR0_X87 1ull
#define XCR0_SSE 2ull
#define XCR0_AVX 4ull

#define MSR_SPEC_CTRL      0x00000048

/* FXSAVE/XSAVE legacy area offsets (SDM Vol. 1 10.5.1). */
#define FXSAVE_FCW   0
#define FXSAVE_MXCSR 24
#define FXSAVE_MXCSR_MASK 28
#define DEFAULT_FCW   0x037f
#define DEFAULT_MXCSR 0x1f80
/* What an MXCSR_MASK of 0 stands for (SDM Vol. 1 10.5.1.2). */
#define DEFAULT_MXCSR_MASK 0xffbf

static bool have_xsave;
static uint64_t guest_xcr0;
static uint32_t xsave_size = 512;
static struct vcpu_context_cpu context_cpu;

/* The MXCSR bits this CPU accepts, from an FXSAVE image. */
static uint32_t read_mxcsr_mask(void)
{
	static uint8_t image[512] __attribute__((aligned(16)));
	uint32_t mask;

	__asm__ volatile("fxsave64 %0" : "=m"(image));
	memcpy(&mask, image + FXSAVE_MXCSR_MASK, sizeof(mask));
	return mask ? mask : DEFAULT_MXCSR_MASK;
}

/* What a context restored on this CPU must respect (hv/vcpu_context.h). */
static void describe_for_contexts(void)
{
	unsigned bits = (cpuid(0x80000008, 0).eax >> 8) & 0xff;

	context_cpu = (struct vcpu_context_cpu){
		.xsave_size = xsave_size,
		.xsave = have_xsave,
		.xcr0 = guest_xcr0,
		.mxcsr_mask = read_mxcsr_mask(),
		.linear_bits = bits ? bits : 48,
		.spec_ctrl_bits = spec_barrier_caps()->spec_ctrl_bits,
	};
}

static void xsetbv(uint32_t index, uint64_t v)
{
	__asm__ volatile("xsetbv" : : "c"(index), "a"((uint32_t)v),
			 "d"((uint32_t)(v >> 32)));
}

void vcpu_cpu_init(void)
{
	struct cpuid_regs r = cpuid(1, 0);

	spec_barrier_init();
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	have_xsave = (r.ecx >> 26) & 1;
	if (!have_xsave) {
		guest_xcr0 = XCR0_X87 | XCR0_SSE;
	} else {
		write_cr4(read_cr4() | CR4_OSXSAVE);
		uint64_t supported = cpuid(0xd, 0).eax;
		guest_xcr0 = XCR0_X87 | XCR0_SSE | (supported & XCR0_AVX);
		xsetbv(0, guest_xcr0);
		xsave_size = cpuid(0xd, 0).ebx; /* size for the XCR0 just set */
		CHECK(xsave_size <= PAGE_SIZE);
	}
	describe_for_contexts();
}

const struct vcpu_context_cpu *vcpu_context_cpu(void)
{
	return &context_cpu;
}

uint64_t vcpu_xcr0(void)
{
	return guest_xcr0;
}

uint32_t vcpu_xsave_size(void)
{
	return xsave_size;
}

void vcpu_init(struct vcpu *v)
{
	memset(v, 0, sizeof(*v));
	v->ctl_pa = memory_alloc_tcb_frame();
	v->xsave_pa = memory_alloc_tcb_frame();
	vcpu_reset(v);
}

void vcpu_reset(struct vcpu *v)
{
	uint64_t ctl_pa = v->ctl_pa, xsave_pa = v->xsave_pa;

	memset(v, 0, sizeof(*v));
	v->ctl_pa = ctl_pa;
	v->xsave_pa = xsave_pa;
	uint8_t *area = phys_to_virt(v->xsave_pa);
	memset(area, 0, PAGE_SIZE);
	/* Header XSTATE_BV = 0 (the frame is zero): every component starts in
	 * its initial state; MXCSR is read from the image, so set its default. */
	*(uint16_t *)(area + FXSAVE_FCW) = DEFAULT_FCW;
	*(uint32_t *)(area + FXSAVE_MXCSR) = DEFAULT_MXCSR;
	v->sys.dr6 = 0xffff0ff0; /* architectural reset value */
}

void vcpu_xsave(void *area)
{
	if (have_xsave)
		__asm__ volatile("xsave64 (%0)" : : "r"(area),
				 "a"((uint32_t)guest_xcr0),
				 "d"((uint32_t)(guest_xcr0 >> 32)) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}

void vcpu_xrstor(const void *area)
{
	if (have_xsave)
		__asm__ volatile("xrstor64 (%0)" : : "r"(area),
				 "a"((uint32_t)guest_xcr0),
				 "d"((uint32_t)(guest_xcr0 >> 32)) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

#define READ_DR(n, dst) __asm__ volatile("mov %%db" #n ", %0" : "=r"(dst))
#define WRITE_DR(n, src) __asm__ volatile("mov %0, %%db" #n : : "r"(src))

void vcpu_save(struct vcpu *v)
{
	vcpu_xsave(phys_to_virt(v->xsave_pa));
	READ_DR(0, v->sys.dr[0]);
	READ_DR(1, v->sys.dr[1]);
	READ_DR(2, v->sys.dr[2]);
	READ_DR(3, v->sys.dr[3]);
	if (context_cpu.spec_ctrl_bits)
		v->sys.spec_ctrl = rdmsr(MSR_SPEC_CTRL);
	arch->switch_out(v);
}

void vcpu_restore(const struct vcpu *v)
{
	vcpu_xrstor(phys_to_virt(v->xsave_pa));
	WRITE_DR(0, v->sys.dr[0]);
	WRITE_DR(1, v->sys.dr[1]);
	WRITE_DR(2, v->sys.dr[2]);
	WRITE_DR(3, v->sys.dr[3]);
	if (context_cpu.spec_ctrl_bits)
		wrmsr(MSR_SPEC_CTRL, v->sys.spec_ctrl);
	arch->switch_in(v);
}

void vcpu_scrub(struct vcpu *v)
{
	struct frame_table *ft = memory_frames();

	/* Releasing zeroes the frames (frame_table.h); the struct by hand. */
	if (v->ctl_pa)
		CHECK(frame_release(ft, v->ctl_pa >> PAGE_SHIFT, FRAME_TCB) == FRAME_OK);
	if (v->xsave_pa)
		CHECK(frame_release(ft, v->xsave_pa >> PAGE_SHIFT, FRAME_TCB) == FRAME_OK);
	volatile uint8_t *p = (volatile uint8_t *)v;
	for (size_t i = 0; i < sizeof(*v); i++)
		p[i] = 0;
}
