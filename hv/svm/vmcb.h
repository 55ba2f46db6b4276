/*
 * The virtual machine control block (AMD APM Vol. 2, appendix B): one 4 KiB
 * page per vCPU, a control area (offsets 0x000-0x3ff) and the guest's state
 * save area (0x400-), both read by VMRUN and written by #VMEXIT. Every
 * field's offset is pinned by a _Static_assert below, so a typo in a
 * reserved array cannot move a field silently. Also here: the intercept bit
 * names (Table B-1), the exit codes (appendix C) and the encodings of the
 * fields a backend reads or writes (EVENTINJ, EXITINFO1 of IOIO and
 * CR-access exits, TLB_CONTROL).
 *
 * Only what Custos uses has a name; AVIC, SEV and the other extensions
 * Custos never turns on are reserved space.
 */
#ifndef CUSTOS_HV_SVM_VMCB_H
#define CUSTOS_HV_SVM_VMCB_H

#include <custos/types.h>
#include <stddef.h>

/* ---- Control area (APM Vol. 2, Table B-1) ---------------------------------- */

struct vmcb_control {
	uint32_t intercept_cr;       /* 0x000: bits 15:0 reads, 31:16 writes of CRn */
	uint32_t intercept_dr;       /* 0x004: bits 15:0 reads, 31:16 writes of DRn */
	uint32_t intercept_exceptions; /* 0x008: bit n = exception vector n */
	uint32_t intercept_misc1;    /* 0x00c: SVM_INTERCEPT1_* */
	uint32_t intercept_misc2;    /* 0x010: SVM_INTERCEPT2_* */
	uint32_t intercept_misc3;    /* 0x014: SVM_INTERCEPT3_* */
	uint8_t reserved_018[0x03c - 0x018];
	uint16_t pause_filter_threshold; /* 0x03c */
	uint16_t pause_filter_count;     /* 0x03e */
	uint64_t iopm_base_pa;       /* 0x040: 4 KiB aligned, 12 KiB (svm_maps.h) */
	uint64_t msrpm_base_pa;      /* 0x048: 4 KiB aligned, 8 KiB */
	uint64_t tsc_offset;         /* 0x050 */
	uint32_t guest_asid;         /* 0x058: never 0 (0 is the host's) */
	uint8_t tlb_control;         /* 0x05c: SVM_TLB_* */
	uint8_t reserved_05d[3];
	uint32_t int_ctl;            /* 0x060: V_TPR, V_IRQ, V_INTR_MASKING... */
	uint32_t int_vector;         /* 0x064: bits 7:0 V_INTR_VECTOR */
	uint32_t int_state;          /* 0x068: SVM_INT_STATE_* */
	uint8_t reserved_06c[4];
	uint64_t exit_code;          /* 0x070: SVM_EXIT_* */
	uint64_t exit_info1;         /* 0x078 */
	uint64_t exit_info2;         /* 0x080 */
	uint64_t exit_int_info;      /* 0x088: an event being delivered when the exit
				      * came (EVENTINJ format) */
	uint64_t nested_ctl;         /* 0x090: SVM_NESTED_CTL_NP_ENABLE */
	uint8_t reserved_098[0x0a8 - 0x098]; /* AVIC APIC BAR, GHCB */
	uint64_t event_inj;          /* 0x0a8: SVM_EVENT_* */
	uint64_t nested_cr3;         /* 0x0b0: the NPT's root (nCR3) */
	uint64_t virt_ext;           /* 0x0b8: LBR virtualisation, virtual VMLOAD/VMSAVE */
	uint32_t clean;              /* 0x0c0: VMCB clean bits (0: nothing cached) */
	uint8_t reserved_0c4[4];
	uint64_t next_rip;           /* 0x0c8: with NRIPS only; 0 without */
	uint8_t guest_insn_len;      /* 0x0d0: with decode assists, #NPF/#PF only */
	uint8_t guest_insn_bytes[15]; /* 0x0d1 */
	uint8_t reserved_0e0[0x400 - 0x0e0]; /* AVIC, SEV, software area */
};

/* ---- State save area (APM Vol. 2, Table B-2: offsets from 0x400) --------- */

/* A segment register with its hidden part. attrib packs the descriptor's
 * bits 47:40 (type, S, DPL, P) into 7:0 and 55:52 (AVL, L, D/B, G) into
 * 11:8 (APM 15.5.1). */
struct vmcb_segment {
	uint16_t selector;
	uint16_t attrib;
	uint32_t limit;
	uint64_t base;
};

struct vmcb_state {
	struct vmcb_segment es, cs, ss, ds, fs, gs; /* 0x000-0x05f */
	struct vmcb_segment gdtr, ldtr, idtr, tr;   /* 0x060-0x09f; GDTR/IDTR use
						     * base and limit only */
	uint8_t reserved_0a0[0x0cb - 0x0a0];
	uint8_t cpl;                 /* 0x0cb: must equal SS.DPL (APM 15.5.1) */
	uint8_t reserved_0cc[4];
	uint64_t efer;               /* 0x0d0: SVME must be 1 for VMRUN */
	uint8_t reserved_0d8[0x148 - 0x0d8];
	uint64_t cr4;                /* 0x148 */
	uint64_t cr3;                /* 0x150: guest-physical with NPT */
	uint64_t cr0;                /* 0x158 */
	uint64_t dr7;                /* 0x160 */
	uint64_t dr6;                /* 0x168 */
	uint64_t rflags;             /* 0x170 */
	uint64_t rip;                /* 0x178 */
	uint8_t reserved_180[0x1d8 - 0x180];
	uint64_t rsp;                /* 0x1d8 */
	uint64_t s_cet, ssp, isst_addr; /* 0x1e0-0x1ef: CET, where the CPU has it */
	uint64_t rax;                /* 0x1f8: the only GPR besides RSP in the VMCB */
	/* 0x200-0x23f: loaded by VMLOAD and stored by VMSAVE, not by VMRUN or
	 * #VMEXIT (APM 15.5.2), as are FS, GS, TR and LDTR's hidden parts. */
	uint64_t star, lstar, cstar, sfmask, kernel_gs_base;
	uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
	uint64_t cr2;                /* 0x240 */
	uint8_t reserved_248[0x268 - 0x248];
	uint64_t g_pat;              /* 0x268: the guest PAT with NPT */
	uint64_t dbgctl;             /* 0x270: with LBR virtualisation only */
	uint64_t br_from, br_to, last_excp_from, last_excp_to; /* 0x278-0x297 */
	uint8_t reserved_298[0x2e0 - 0x298];
	uint64_t spec_ctrl;          /* 0x2e0: with V_SPEC_CTRL (0x8000000A EDX[20]) */
};

struct vmcb {
	struct vmcb_control control;
	struct vmcb_state state;
	uint8_t reserved_tail[4096 - 0x400 - 0x2e8];
};

#define VMCB_CHECK(type, field, offset) \
	_Static_assert(offsetof(struct type, field) == (offset), \
		       #type "." #field " is not at " #offset)
VMCB_CHECK(vmcb_control, intercept_cr, 0x000);
VMCB_CHECK(vmcb_control, intercept_dr, 0x004);
VMCB_CHECK(vmcb_control, intercept_exceptions, 0x008);
VMCB_CHECK(vmcb_control, intercept_misc1, 0x00c);
VMCB_CHECK(vmcb_control, intercept_misc2, 0x010);
VMCB_CHECK(vmcb_control, intercept_misc3, 0x014);
VMCB_CHECK(vmcb_control, pause_filter_threshold, 0x03c);
VMCB_CHECK(vmcb_control, pause_filter_count, 0x03e);
VMCB_CHECK(vmcb_control, iopm_base_pa, 0x040);
VMCB_CHECK(vmcb_control, msrpm_base_pa, 0x048);
VMCB_CHECK(vmcb_control, tsc_offset, 0x050);
VMCB_CHECK(vmcb_control, guest_asid, 0x058);
VMCB_CHECK(vmcb_control, tlb_control, 0x05c);
VMCB_CHECK(vmcb_control, int_ctl, 0x060);
VMCB_CHECK(vmcb_control, int_vector, 0x064);
VMCB_CHECK(vmcb_control, int_state, 0x068);
VMCB_CHECK(vmcb_control, exit_code, 0x070);
VMCB_CHECK(vmcb_control, exit_info1, 0x078);
VMCB_CHECK(vmcb_control, exit_info2, 0x080);
VMCB_CHECK(vmcb_control, exit_int_info, 0x088);
VMCB_CHECK(vmcb_control, nested_ctl, 0x090);
VMCB_CHECK(vmcb_control, event_inj, 0x0a8);
VMCB_CHECK(vmcb_control, nested_cr3, 0x0b0);
VMCB_CHECK(vmcb_control, virt_ext, 0x0b8);
VMCB_CHECK(vmcb_control, clean, 0x0c0);
VMCB_CHECK(vmcb_control, next_rip, 0x0c8);
VMCB_CHECK(vmcb_control, guest_insn_len, 0x0d0);
VMCB_CHECK(vmcb_control, guest_insn_bytes, 0x0d1);
_Static_assert(sizeof(struct vmcb_control) == 0x400, "VMCB control area is 1 KiB");
_Static_assert(sizeof(struct vmcb_segment) == 16, "VMCB segment is 16 bytes");
VMCB_CHECK(vmcb_state, es, 0x000);
VMCB_CHECK(vmcb_state, cs, 0x010);
VMCB_CHECK(vmcb_state, ss, 0x020);
VMCB_CHECK(vmcb_state, ds, 0x030);
VMCB_CHECK(vmcb_state, fs, 0x040);
VMCB_CHECK(vmcb_state, gs, 0x050);
VMCB_CHECK(vmcb_state, gdtr, 0x060);
VMCB_CHECK(vmcb_state, ldtr, 0x070);
VMCB_CHECK(vmcb_state, idtr, 0x080);
VMCB_CHECK(vmcb_state, tr, 0x090);
VMCB_CHECK(vmcb_state, cpl, 0x0cb);
VMCB_CHECK(vmcb_state, efer, 0x0d0);
VMCB_CHECK(vmcb_state, cr4, 0x148);
VMCB_CHECK(vmcb_state, cr3, 0x150);
VMCB_CHECK(vmcb_state, cr0, 0x158);
VMCB_CHECK(vmcb_state, dr7, 0x160);
VMCB_CHECK(vmcb_state, dr6, 0x168);
VMCB_CHECK(vmcb_state, rflags, 0x170);
VMCB_CHECK(vmcb_state, rip, 0x178);
VMCB_CHECK(vmcb_state, rsp, 0x1d8);
VMCB_CHECK(vmcb_state, rax, 0x1f8);
VMCB_CHECK(vmcb_state, star, 0x200);
VMCB_CHECK(vmcb_state, lstar, 0x208);
VMCB_CHECK(vmcb_state, cstar, 0x210);
VMCB_CHECK(vmcb_state, sfmask, 0x218);
VMCB_CHECK(vmcb_state, kernel_gs_base, 0x220);
VMCB_CHECK(vmcb_state, sysenter_cs, 0x228);
VMCB_CHECK(vmcb_state, sysenter_esp, 0x230);
VMCB_CHECK(vmcb_state, sysenter_eip, 0x238);
VMCB_CHECK(vmcb_state, cr2, 0x240);
VMCB_CHECK(vmcb_state, g_pat, 0x268);
VMCB_CHECK(vmcb_state, dbgctl, 0x270);
VMCB_CHECK(vmcb_state, br_from, 0x278);
VMCB_CHECK(vmcb_state, last_excp_to, 0x290);
VMCB_CHECK(vmcb_state, spec_ctrl, 0x2e0);
_Static_assert(sizeof(struct vmcb_state) == 0x2e8, "VMCB state save area size");
VMCB_CHECK(vmcb, state, 0x400);
_Static_assert(sizeof(struct vmcb) == 4096, "a VMCB is one 4 KiB page");
#undef VMCB_CHECK

/* ---- Intercepts (Table B-1) -------------------------------------------------- */

#define SVM_INTERCEPT_CR_WRITE(n)   (1u << (16 + (n)))

/* intercept_misc1, offset 0x00c */
#define SVM_INTERCEPT1_INTR          (1u << 0)  /* physical interrupt */
#define SVM_INTERCEPT1_NMI           (1u << 1)
#define SVM_INTERCEPT1_VINTR         (1u << 4)  /* a virtual interrupt could be taken */
#define SVM_INTERCEPT1_INIT          (1u << 3)
#define SVM_INTERCEPT1_RDPMC         (1u << 15)
#define SVM_INTERCEPT1_CPUID         (1u << 18)
#define SVM_INTERCEPT1_RSM           (1u << 19)
#define SVM_INTERCEPT1_INVD          (1u << 22)
#define SVM_INTERCEPT1_HLT           (1u << 24)
#define SVM_INTERCEPT1_INVLPGA       (1u << 26)
#define SVM_INTERCEPT1_IOIO_PROT     (1u << 27) /* consult the IOPM */
#define SVM_INTERCEPT1_MSR_PROT      (1u << 28) /* consult the MSRPM */
#define SVM_INTERCEPT1_TASK_SWITCH   (1u << 29)
#define SVM_INTERCEPT1_FERR_FREEZE   (1u << 30)
#define SVM_INTERCEPT1_SHUTDOWN      (1u << 31) /* the guest's triple fault */

/* intercept_misc2, offset 0x010 */
#define SVM_INTERCEPT2_VMRUN         (1u << 0)  /* must be set, or VMRUN fails */
#define SVM_INTERCEPT2_VMMCALL       (1u << 1)
#define SVM_INTERCEPT2_VMLOAD        (1u << 2)
#define SVM_INTERCEPT2_VMSAVE        (1u << 3)
#define SVM_INTERCEPT2_STGI          (1u << 4)
#define SVM_INTERCEPT2_CLGI          (1u << 5)
#define SVM_INTERCEPT2_SKINIT        (1u << 6)
#define SVM_INTERCEPT2_RDTSCP        (1u << 7)
#define SVM_INTERCEPT2_MONITOR       (1u << 10)
#define SVM_INTERCEPT2_MWAIT         (1u << 11)
#define SVM_INTERCEPT2_MWAIT_ARMED   (1u << 12)
#define SVM_INTERCEPT2_XSETBV        (1u << 13)
#define SVM_INTERCEPT2_RDPRU         (1u << 14)

/* intercept_misc3, offset 0x014 */
#define SVM_INTERCEPT3_INVLPGB       (1u << 0)
#define SVM_INTERCEPT3_INVLPGB_ILLEGAL (1u << 1)
#define SVM_INTERCEPT3_MCOMMIT       (1u << 3)
#define SVM_INTERCEPT3_TLBSYNC       (1u << 4)

/* ---- Other control fields ---------------------------------------------------- */

/* tlb_control (APM 15.16.1) */
#define SVM_TLB_NOTHING          0u
#define SVM_TLB_FLUSH_ALL        1u /* every ASID's entries: works on every CPU */

/* int_ctl (APM 15.21) */
#define SVM_INT_CTL_V_TPR_MASK       0xfu      /* the guest's CR8, kept here */
#define SVM_INT_CTL_V_IRQ            (1u << 8) /* a virtual interrupt is pending */
#define SVM_INT_CTL_V_INTR_PRIO_MAX  (0xfu << 16)
#define SVM_INT_CTL_V_IGN_TPR        (1u << 20)
/* Physical interrupts are masked by the host's RFLAGS.IF, not the guest's,
 * and the guest's CR8 accesses go to V_TPR, never the real TPR. */
#define SVM_INT_CTL_V_INTR_MASKING   (1u << 24)

/* int_state */
#define SVM_INT_STATE_SHADOW         (1u << 0) /* the guest is in an interrupt shadow */

/* nested_ctl */
#define SVM_NESTED_CTL_NP_ENABLE     (1ull << 0)

/* EVENTINJ and EXITINTINFO (APM 15.20) */
#define SVM_EVENT_VECTOR_MASK        0xffull
#define SVM_EVENT_TYPE_INTR          (0ull << 8)
#define SVM_EVENT_TYPE_EXCEPTION     (3ull << 8)
#define SVM_EVENT_ERROR_VALID        (1ull << 11)
#define SVM_EVENT_VALID              (1ull << 31)
#define SVM_EVENT_ERROR_SHIFT        32

/* ---- Exit codes (appendix C) ------------------------------------------------- */

enum svm_exit_code {
	SVM_EXIT_CR0_READ = 0x000,   /* + n for CRn: 0x000-0x00f */
	SVM_EXIT_CR0_WRITE = 0x010,  /* + n: 0x010-0x01f (MOV, and CLTS/LMSW for CR0) */
	SVM_EXIT_DR0_READ = 0x020,
	SVM_EXIT_EXCEPTION_0 = 0x040, /* + vector: 0x040-0x05f */
	SVM_EXIT_INTR = 0x060,
	SVM_EXIT_NMI = 0x061,
	SVM_EXIT_VINTR = 0x064,
	SVM_EXIT_CPUID = 0x072,
	SVM_EXIT_RSM = 0x073,
	SVM_EXIT_HLT = 0x078,
	SVM_EXIT_INVLPGA = 0x07a,
	SVM_EXIT_IOIO = 0x07b,       /* EXITINFO1: SVM_IOIO_*; EXITINFO2: next RIP */
	SVM_EXIT_MSR = 0x07c,        /* EXITINFO1: 0 RDMSR, 1 WRMSR */
	SVM_EXIT_SHUTDOWN = 0x07f,
	SVM_EXIT_VMRUN = 0x080,
	SVM_EXIT_VMMCALL = 0x081,
	SVM_EXIT_VMLOAD = 0x082,
	SVM_EXIT_VMSAVE = 0x083,
	SVM_EXIT_STGI = 0x084,
	SVM_EXIT_CLGI = 0x085,
	SVM_EXIT_SKINIT = 0x086,
	SVM_EXIT_RDTSCP = 0x087,
	SVM_EXIT_XSETBV = 0x08d,
	SVM_EXIT_RDPRU = 0x08e,
	SVM_EXIT_INVLPGB = 0x0a0,
	SVM_EXIT_INVLPGB_ILLEGAL = 0x0a1,
	SVM_EXIT_MCOMMIT = 0x0a3,
	SVM_EXIT_TLBSYNC = 0x0a4,
	SVM_EXIT_NPF = 0x400,        /* EXITINFO1: SVM_NPF_*; EXITINFO2: the GPA */
};

/* VMRUN found the guest state or a control field invalid (APM 15.5.1): the
 * exit code is -1, nothing of the guest ran. */
#define SVM_EXIT_INVALID ((uint64_t)-1)

/* EXITINFO1 of a CR-access exit with decode assists (APM 15.33.1): bit 63
 * set for MOV CR (clear for CLTS, LMSW), bits 3:0 the GPR. Without decode
 * assists it is 0 and the instruction must be decoded (tcb/insn_decode.h). */
#define SVM_CR_EXIT_MOV              (1ull << 63)
#define SVM_CR_EXIT_GPR_MASK         0xfull

/* EXITINFO1 of IOIO (APM 15.10.2) */
#define SVM_IOIO_IN                  (1u << 0)
#define SVM_IOIO_STRING              (1u << 2)
#define SVM_IOIO_REP                 (1u << 3)
#define SVM_IOIO_SIZE8               (1u << 4)
#define SVM_IOIO_SIZE16              (1u << 5)
#define SVM_IOIO_SIZE32              (1u << 6)
#define SVM_IOIO_PORT_SHIFT          16

/* EXITINFO1 of #NPF (APM 15.25.6): a #PF-style error code, plus where in
 * the walk the fault came. */
#define SVM_NPF_WRITE                (1ull << 1)
#define SVM_NPF_RESERVED_BIT         (1ull << 3)
#define SVM_NPF_FETCH                (1ull << 4)

#endif
