/*
 * The guest ABI: what a guest VM sees when Custos starts it, and how it
 * talks to the TCB. Shared by the hypervisor, the guests and (later) the
 * TPGVM and the tools, so they cannot drift apart. docs/guest-abi.md explains
 * it in prose; keep both in step.
 */
#ifndef CUSTOS_GUEST_ABI_H
#define CUSTOS_GUEST_ABI_H

#include <stdint.h>

/* ---- Memory layout (guest-physical == guest-virtual) ---------------------
 *
 *   0x000000  page 0, not mapped in the guest page tables (NULL faults)
 *   0x001000  struct custos_boot_info (read-only by convention)
 *   0x002000  guest page tables built by the TCB: PML4, PDPT, PD, PT0
 *   0x006000  GDT (null, code64 0x08, data 0x10)
 *   0x007000  .. 0x0fffff free for the guest
 *   0x100000  the ELF image (PT_LOAD segments, p_paddr == p_vaddr)
 *   ...       free
 *   mem_size  top of memory; the initial stack grows down from here
 *
 * All of [0, mem_size) is RAM owned by this VM alone; nothing else exists in
 * its guest-physical space, and any access at or above mem_size stops the VM.
 */
#define GUEST_BOOT_INFO_GPA   0x1000ull
#define GUEST_PAGE_TABLES_GPA 0x2000ull  /* PML4; PDPT +0x1000, PD +0x2000, PT0 +0x3000 */
#define GUEST_GDT_GPA         0x6000ull
#define GUEST_IMAGE_MIN_GPA   0x100000ull
#define GUEST_MEM_ALIGN       0x200000ull   /* sizes are multiples of 2 MiB */
#define GUEST_MEM_MIN         0x200000ull   /* 2 MiB */
#define GUEST_MEM_MAX         0x40000000ull /* 1 GiB: one page directory */

#define GUEST_SEL_CODE 0x08
#define GUEST_SEL_DATA 0x10

/* ---- Initial CPU state ---------------------------------------------------
 * 64-bit long mode, CPL 0, paging on (CR3 = GUEST_PAGE_TABLES_GPA), CR4 with
 * PAE, OSFXSR, OSXMMEXCPT and OSXSAVE; XCR0 enables x87, SSE and AVX when
 * the CPU has them; EFER = LME | LMA | NXE; RFLAGS = 0x2 (interrupts off; a
 * guest never receives interrupts); no IDT (IDTR limit 0: any exception is
 * a triple fault, which stops the VM).
 *   RIP = ELF entry, RSP = mem_size, RDI = GUEST_BOOT_INFO_GPA,
 *   every other GPR, XMM/YMM register, CR2 and DR0-DR7 zero.
 */

#define CUSTOS_BOOT_INFO_MAGIC 0x746f6f42736f7443ull /* "CtosBoot" */
#define CUSTOS_ABI_VERSION     1

struct custos_boot_info {
	uint64_t magic;        /* CUSTOS_BOOT_INFO_MAGIC */
	uint32_t abi_version;  /* CUSTOS_ABI_VERSION */
	uint32_t vm_id;        /* this VM's number (as the TCB logs it) */
	uint64_t mem_size;     /* bytes of guest-physical RAM, from 0 */
	uint64_t image_start;  /* lowest GPA of the loaded image */
	uint64_t image_end;    /* first GPA above it (page-aligned) */
	uint64_t tsc_per_tick; /* TSC cycles per preemption slice (informative) */
	char name[32];         /* the VM's name, NUL-terminated */
	char cmdline[256];     /* arguments given when the VM was set up */
	/* Tenant init data and secrets (a later milestone) are placed in the
	 * VM's own memory, page-aligned above the image, and described here;
	 * both are 0 when there is none. */
	uint64_t init_data_gpa;
	uint64_t init_data_size;
};

/* ---- Console -------------------------------------------------------------
 * A virtual 16550 at the usual COM1 ports. Writing a byte to GUEST_COM1_DATA
 * appends it to this VM's console ring in TCB memory (readable later by the
 * VM's owner only, never printed on the platform's serial line). Reading
 * GUEST_COM1_LSR returns GUEST_COM1_LSR_READY (transmitter empty, no input);
 * the other COM1 registers read 0 and ignore writes. Every other I/O port
 * reads as all ones and ignores writes (docs/vm-exits.md).
 */
#define GUEST_COM1_DATA 0x3f8
#define GUEST_COM1_LSR  0x3fd
#define GUEST_COM1_LSR_READY 0x60

/* ---- Hypercalls ------------------------------------------------------------
 * VMCALL with RAX = number and arguments in RDI, RSI, RDX, RCX (in that
 * order). The result comes back in RAX: >= 0 success, < 0 one of HC_E_*.
 * Every other register is preserved. A hypercall from CPL > 0 fails with
 * HC_E_DENIED. Numbers from 0x100 drive VM lifecycles and are honoured only
 * for the TPGVM (a later milestone); any other caller gets HC_E_DENIED.
 * HC_REPORT is TPGVM-only too (below).
 */
enum custos_hypercall {
	HC_VERSION = 0x00,       /* () -> CUSTOS_ABI_VERSION */
	HC_YIELD = 0x01,         /* () -> 0: give up the rest of this slice */
	HC_EXIT = 0x02,          /* (code) -> does not return: the VM stops */
	HC_CONSOLE_WRITE = 0x03, /* (gpa, len) -> bytes written to the console */

	HC_LIFECYCLE_FIRST = 0x100,
	HC_VM_CREATE = 0x100,
	HC_VM_LOAD = 0x101,
	HC_VM_START = 0x102,
	HC_VM_STOP = 0x103,
	HC_VM_DESTROY = 0x104,
	HC_VM_QUERY = 0x105,
	HC_VM_CONSOLE_READ = 0x106,
	HC_LIFECYCLE_LAST = 0x106,

	HC_REPORT = 0x120,       /* (req gpa, out gpa, cap) -> report length */
};

#define HC_CONSOLE_WRITE_MAX 4096 /* longer writes are refused, not cut */

enum custos_hypercall_error {
	HC_OK = 0,
	HC_E_NOSYS = -1,  /* no such hypercall */
	HC_E_INVAL = -2,  /* an argument is out of range */
	HC_E_DENIED = -3, /* not allowed for this caller */
	HC_E_FAULT = -4,  /* a buffer is not wholly inside the caller's memory */
	HC_E_INTERNAL = -5, /* the TCB failed, e.g. its RNG; nothing was written */
};

/* ---- HC_REPORT: a signed platform report (docs/report.md) -----------------
 * TPGVM only (anyone else: HC_E_DENIED). RDI = gpa of this request in the
 * caller's memory, RSI = gpa of the output buffer, RDX = its capacity in
 * bytes. RAX = the report's length (> 0), written at RSI. Errors:
 *   HC_E_DENIED   not the TPGVM, or CPL != 0
 *   HC_E_FAULT    [RDI, RDI + 120) or [RSI, RSI + RDX) not wholly inside
 *                 the caller's memory
 *   HC_E_INVAL    nonce_len not in 32..64, reserved != 0, or RDX smaller
 *                 than the report (nothing is written)
 *   HC_E_INTERNAL the TCB could not make a report (no signing identity, its
 *                 RNG failed); nothing was written
 */
struct custos_report_request {
	uint32_t nonce_len;        /* 32..64: how much of nonce is the nonce */
	uint32_t reserved;         /* must be 0 */
	uint8_t nonce[64];         /* the tenant's nonce, echoed in the report */
	uint8_t tls_key_hash[48];  /* SHA-384 of the TPGVM TLS key's SPKI */
};
_Static_assert(sizeof(struct custos_report_request) == 120,
	       "struct custos_report_request is part of the ABI: 120 bytes");

#endif
