#include "hv/guest_start.h"
#include "hv/boot_defs.h"
#include <custos/guest_abi.h>

#include <string.h>

#define CR0_MP 0x2ull
#define CR0_ET 0x10ull
#define GUEST_CR0 (CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG)
#define GUEST_CR4 (CR4_PAE | (1ull << 9) | (1ull << 10)) /* + OSFXSR, OSXMMEXCPT */
#define GUEST_EFER 0xd00ull /* LME | LMA | NXE */
#define DEFAULT_PAT 0x0007040600070406ull
#define DR7_RESET 0x400ull
#define RFLAGS_RESERVED 0x2ull

/* Access rights (SDM Vol. 3C 25.4.1): type, S, DPL, P, L, D/B, G. */
#define AR_CODE64 0xa09bu
#define AR_DATA   0xc093u
#define AR_TSS64_BUSY 0x8bu

static void segment(uint64_t *w, enum state_segment seg, uint16_t sel,
		    uint32_t ar, uint32_t limit)
{
	w[SW_SEG(seg, 0)] = sel;
	w[SW_SEG(seg, 1)] = 0;
	w[SW_SEG(seg, 2)] = limit;
	w[SW_SEG(seg, 3)] = ar;
}

void guest_start_state(const struct vcpu_start *s, uint64_t cr4_extra,
		       uint64_t w[VCPU_CONTEXT_STATE_WORDS])
{
	memset(w, 0, VCPU_CONTEXT_STATE_WORDS * sizeof(*w));
	w[SW_RIP] = s->rip;
	w[SW_RSP] = s->rsp;
	w[SW_RFLAGS] = RFLAGS_RESERVED;
	w[SW_CR0] = w[SW_CR0_READ_SHADOW] = GUEST_CR0;
	w[SW_CR3] = s->cr3;
	w[SW_CR4] = w[SW_CR4_READ_SHADOW] = GUEST_CR4 | cr4_extra;
	w[SW_DR7] = DR7_RESET;
	w[SW_EFER] = GUEST_EFER;
	w[SW_PAT] = DEFAULT_PAT;
	segment(w, SEG_CS, s->sel_code, AR_CODE64, 0xffffffff);
	segment(w, SEG_ES, s->sel_data, AR_DATA, 0xffffffff);
	segment(w, SEG_SS, s->sel_data, AR_DATA, 0xffffffff);
	segment(w, SEG_DS, s->sel_data, AR_DATA, 0xffffffff);
	segment(w, SEG_FS, s->sel_data, AR_DATA, 0xffffffff);
	segment(w, SEG_GS, s->sel_data, AR_DATA, 0xffffffff);
	segment(w, SEG_LDTR, 0, SEG_AR_UNUSABLE, 0);
	segment(w, SEG_TR, 0, AR_TSS64_BUSY, 0x67);
	w[SW_GDTR_BASE] = GUEST_GDT_GPA;
	w[SW_GDTR_LIMIT] = s->gdt_limit;
}
