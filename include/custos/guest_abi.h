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
 *   every other GPR, XMM/YMM register, CR2, CR8 (TPR) and DR0-DR3 zero;
 *   DR6 = 0xffff0ff0, DR7 = 0x400 (their architectural reset values).
 */

#define CUSTOS_BOOT_INFO_MAGIC 0x746f6f42736f7443ull /* "CtosBoot" */
/* Versions only ever append fields to struct custos_boot_info (and add
 * hypercalls): a guest accepts the version it was built for or a later
 * one. 1: up to secrets_size. 2: tsc_hz. 3: the boot info is unchanged;
 * HC_VM_LOAD's request gained a boot protocol (Linux guests), an initrd
 * and a kernel command line. 4: the boot info is unchanged; the stream
 * calls HC_VM_STOP_STREAM and HC_VM_START_STREAM. 5: the boot info is
 * unchanged; a VM's boot copy (HC_STREAM_BOOT_COPY) and hc_vm_info's
 * flags. */
#define CUSTOS_ABI_VERSION     5

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
	/* Tenant init data, then secrets, are placed in the VM's own memory,
	 * each page-aligned above the image, and described here; gpa and size
	 * are 0 when there is none. Secrets are "KEY=VALUE" strings, each
	 * NUL-terminated, one after the other (docs/lifecycle.md). */
	uint64_t init_data_gpa;
	uint64_t init_data_size;
	uint64_t secrets_gpa;
	uint64_t secrets_size;
	/* Version 2: TSC ticks per second of platform time, as the TCB
	 * determined it at boot (docs/boot.md, "TSC rate"); never 0. In an
	 * emulator, platform time is the emulator's (Bochs: instructions at
	 * its `ips`), which may run much faster or slower than wall time. */
	uint64_t tsc_hz;
};

/* ---- Console -------------------------------------------------------------
 * A virtual 16550 at the usual COM1 ports. Writing a byte to GUEST_COM1_DATA
 * appends it to this VM's console ring in TCB memory (readable later by the
 * VM's owner only, never printed on the platform's serial line). Reading
 * GUEST_COM1_LSR returns GUEST_COM1_LSR_READY (transmitter empty), with
 * bit 0 set while input its owner sent (HC_VM_CONSOLE_INPUT) waits at
 * GUEST_COM1_DATA; the other COM1 registers are a 16550A's (vdev/vuart.h). The VM's other
 * devices (PIC, PIT, RTC, ...) are vdev/README.md's; every port no device
 * claims reads as all ones and ignores writes (docs/vm-exits.md).
 */
#define GUEST_COM1_DATA 0x3f8
#define GUEST_COM1_LSR  0x3fd
#define GUEST_COM1_LSR_READY 0x60

/* ---- Hypercalls ------------------------------------------------------------
 * The hypercall instruction (custos_hypercall_is_vmmcall below) with RAX =
 * number and arguments in RDI, RSI, RDX, RCX (in that order). The result comes back in RAX: >= 0 success, < 0 one of HC_E_*.
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
	HC_VM_CONSOLE_INPUT = 0x107,
	HC_VM_STOP_STREAM = 0x108,  /* HC_VM_STOP through a bounded window */
	HC_VM_START_STREAM = 0x109, /* HC_VM_START of a SEALED VM, the same */
	HC_LIFECYCLE_LAST = 0x109,

	HC_REPORT = 0x120,       /* (req gpa, out gpa, cap) -> report length */
};

#define HC_CONSOLE_WRITE_MAX 4096 /* longer writes are refused, not cut */

/*
 * Which instruction makes a hypercall: VMCALL (0F 01 C1) where Custos runs
 * on VMX, VMMCALL (0F 01 D9) where it runs on SVM; the other one raises #UD
 * in the guest. A guest tells them apart by the vendor in CPUID leaf 0
 * (EBX, EDX, ECX), which the TCB passes through unchanged: AMD's and
 * Hygon's CPUs have SVM, every other vendor's VMX. Non-zero: VMMCALL.
 */
static inline int custos_hypercall_is_vmmcall(uint32_t ebx, uint32_t ecx,
					      uint32_t edx)
{
	return (ebx == 0x68747541 && edx == 0x69746e65 && ecx == 0x444d4163) || /* AuthenticAMD */
	       (ebx == 0x6f677948 && edx == 0x6e65476e && ecx == 0x656e6975);   /* HygonGenuine */
}

enum custos_hypercall_error {
	HC_OK = 0,
	HC_E_NOSYS = -1,  /* no such hypercall */
	HC_E_INVAL = -2,  /* an argument is out of range */
	HC_E_DENIED = -3, /* not allowed for this caller */
	HC_E_FAULT = -4,  /* a buffer is not wholly inside the caller's memory */
	HC_E_INTERNAL = -5, /* the TCB failed, e.g. its RNG; nothing was written */
	HC_E_NOTFOUND = -6, /* no such VM for this owner (another owner's VM
			     * gives the same answer: no existence leak) */
	HC_E_NOMEM = -7,    /* not enough free memory; nothing was taken */
	HC_E_STATE = -8,    /* not allowed in the VM's current state */
	HC_E_VERIFY = -9,   /* boot state or sealed blob does not verify
			     * (tampered, another VM's, destroyed VM's key) */
	HC_E_ROLLBACK = -10,/* an authentic sealed blob, but older than the
			     * latest one sealed for this VM */
};

/* ---- Lifecycle hypercalls (0x100-0x109; docs/lifecycle.md) -----------------
 * TPGVM only (anyone else: HC_E_DENIED). RDI = gpa of a request struct in
 * the caller's memory, which starts with a struct hc_vm_ref: the VM and the
 * tenant the TPGVM acts for. Every other pointer is a gpa in the caller's
 * memory, checked before use (HC_E_FAULT). Decode checks everything and may
 * fail; execute cannot (apart from HC_E_INTERNAL), so an error changes
 * nothing. Sizes: mem_size a multiple of GUEST_MEM_ALIGN in
 * [GUEST_MEM_MIN, GUEST_MEM_MAX].
 *
 * VM states (enum hc_vm_state): CREATED (memory taken and zeroed, EPT
 * built) -> LOADED (image, init data, secrets placed; measured) -> RUNNING
 * <-> SEALED (stopped: memory freed, state sealed into a blob the TPGVM
 * stores outside); EXITED (the guest stopped itself: frozen, memory kept,
 * to be sealed with HC_VM_STOP like a running one). DESTROY from any state.
 */
#define HC_OWNER_LEN        48  /* SHA-384 of the tenant certificate's SPKI */
#define HC_SALT_LEN         32
#define HC_VM_IMAGE_MAX     (8u << 20)
#define HC_VM_INIT_MAX      (1u << 20)
#define HC_VM_SECRETS_MAX   4096u
#define HC_VM_KERNEL_MAX    (16u << 20) /* a Linux bzImage */
#define HC_VM_INITRD_MAX    (32u << 20)
#define HC_VM_CMDLINE_MAX   2048u       /* with the NUL */
#define HC_VM_NAME_MAX      32  /* with the NUL: [a-z0-9_-]{1,31} */

enum hc_vm_state {
	HC_VM_CREATED = 1,
	HC_VM_LOADED = 2,
	HC_VM_RUNNING = 3,   /* runnable, halted or waiting for its slice */
	HC_VM_EXITED = 4,    /* stopped itself (HC_EXIT, HLT, a fault) */
	HC_VM_SEALED = 5,
};

struct hc_vm_ref {
	uint32_t vm_id;                /* from HC_VM_CREATE (0 where noted) */
	uint32_t reserved;             /* must be 0 */
	uint8_t owner[HC_OWNER_LEN];   /* the tenant the TPGVM acts for */
};

/* HC_VM_CREATE: RDI = &hc_vm_create (ref.vm_id 0). RAX = the new VM id.
 * Takes mem_size bytes of frames, zeroed, and builds the EPT. Errors:
 * INVAL (name not [a-z0-9_-]{1,31}, or that owner already has a VM of that
 * name; bad mem_size), NOMEM (the free-frame count is as before), and
 * INVAL when the VM table is full. */
struct hc_vm_create {
	struct hc_vm_ref ref;
	char name[HC_VM_NAME_MAX];     /* NUL-terminated */
	uint64_t mem_size;
};

/* HC_VM_LOAD: RDI = &hc_vm_load. CREATED -> LOADED. Loads the ELF image,
 * places init data and secrets (boot info above), writes page tables and
 * boot info, sets up the vCPU, and records the launch measurement
 * (docs/lifecycle.md): SHA-384 over the config and the SHA-256 digests of
 * the image, the init data and (salt || secrets) -- secret values enter
 * only salted. RAX = 0.
 * Errors: STATE, INVAL (lengths over the maxima, image refused by the ELF
 * loader, does not fit mem_size, secrets not a sequence of NUL-terminated
 * KEY=VALUE strings), FAULT.
 *
 * boot_protocol HC_BOOT_LINUX64 (version 3): the image is a Linux bzImage
 * (1..HC_VM_KERNEL_MAX bytes) started at its 64-bit entry with an initrd
 * (0..HC_VM_INITRD_MAX bytes) and a command line (0, or 1..HC_VM_CMDLINE_MAX
 * bytes whose last is the only NUL); init data and secrets must be 0 (a
 * Linux VM has no boot info to find them). Layout and initial state:
 * tcb/linux_boot.h, docs/guest-abi.md ("Linux guests"); the measurement
 * has its own tag (tcb/linux_measure.h). With HC_BOOT_ELF initrd and
 * cmdline must be 0/0. Otherwise INVAL (also: an unknown protocol,
 * reserved2 != 0, a bzImage tcb/linux_boot.c refuses or that does not fit). */
enum hc_boot_protocol {
	HC_BOOT_ELF = 0,
	HC_BOOT_LINUX64 = 1,
};

struct hc_vm_load {
	struct hc_vm_ref ref;
	uint64_t image_gpa, image_len;     /* 1..HC_VM_IMAGE_MAX (ELF),
					    * 1..HC_VM_KERNEL_MAX (LINUX64) */
	uint64_t init_gpa, init_len;       /* 0..HC_VM_INIT_MAX; LINUX64: 0 */
	uint64_t secrets_gpa, secrets_len; /* 0..HC_VM_SECRETS_MAX; LINUX64: 0 */
	uint8_t secrets_salt[HC_SALT_LEN]; /* chosen by the tenant */
	/* version 3 */
	uint32_t boot_protocol;            /* enum hc_boot_protocol */
	uint32_t reserved2;                /* must be 0 */
	uint64_t initrd_gpa, initrd_len;   /* LINUX64: 0..HC_VM_INITRD_MAX */
	uint64_t cmdline_gpa, cmdline_len; /* LINUX64: 0..HC_VM_CMDLINE_MAX */
};
_Static_assert(sizeof(struct hc_vm_load) == 176,
	       "struct hc_vm_load is part of the ABI: 176 bytes");

/* HC_VM_START: RDI = &hc_vm_start.
 *   LOADED (blob_len 0): boot-state verification -- the TCB recomputes the
 *     digest of the VM's initial memory and vCPU state and compares it with
 *     the one recorded at load; mismatch: VERIFY. -> RUNNING.
 *   SEALED (the blob from the latest HC_VM_STOP, in the caller's memory):
 *     authenticate it under the VM's key with its header (VM id, owner,
 *     version, launch measurement) as associated data, compare header with
 *     the record (VERIFY), refuse an older version (ROLLBACK), restore
 *     memory and full vCPU context into fresh frames (NOMEM), -> RUNNING:
 *     it resumes where it stopped.
 * RAX = 0. Other states: STATE. */
struct hc_vm_start {
	struct hc_vm_ref ref;
	uint64_t blob_gpa, blob_len;
};

/* HC_VM_STOP: RDI = &hc_vm_stop. RUNNING or EXITED -> SEALED. Halts the VM,
 * seals memory (the pages that are not all zero) and full vCPU context
 * with AES-256-GCM under the VM's key (version counter + 1), writes the
 * blob to [out_gpa, out_gpa + out_cap), scrubs and frees its frames.
 * RAX = blob length. If out_cap is smaller than the blob: INVAL and
 * nothing changes (the VM runs on; HC_VM_QUERY's seal_size of a RUNNING
 * VM is an upper bound, of an EXITED one exact). It is a stop stream
 * (below) whose one window is the whole buffer. */
struct hc_vm_stop {
	struct hc_vm_ref ref;
	uint64_t out_gpa, out_cap;
};

/* ---- Streams: a seal or a resume through a bounded window -----------------
 * HC_VM_STOP_STREAM and HC_VM_START_STREAM, RDI = &hc_vm_stream, move a
 * blob in pieces through a window [buf_gpa, buf_gpa + buf_len) of the
 * caller's memory, so that neither the caller nor the TCB ever holds a
 * whole blob (docs/lifecycle.md, "Streams"). A stream belongs to its VM:
 * between its calls every other lifecycle call, of any VM, is served as
 * usual; at most HC_STREAMS_MAX are open at once.
 *
 * HC_VM_STOP_STREAM, offset 0 (RUNNING or EXITED, no stream open): opens a
 *   stop stream -- the VM is off the run queue from here on and does not
 *   run while the stream is open -- counts its pages and fills the window
 *   with the blob's first bytes. Then, offset = the previous offset + the
 *   previous RAX: the next bytes. RAX = bytes written at buf_gpa, which
 *   are the blob's bytes [offset, offset + RAX). The call that produces
 *   the tag commits (version + 1, SEALED, memory scrubbed and freed) and
 *   sets done: the tag leaves the TCB only with the commit, so a stream
 *   cut short or abandoned never is a usable blob. buf_len >=
 *   HC_STREAM_MIN.
 * HC_VM_START_STREAM, offset 0 (SEALED, no stream open; blob_len = the
 *   blob's total length): opens a resume stream with the piece of the blob
 *   at buf_gpa (its bytes [0, buf_len)): header checked as HC_VM_START
 *   does, fresh frames, then as much of the piece as can be taken. Then
 *   offset = the previous offset + the previous RAX and buf_len bytes of
 *   the blob from there. RAX = bytes of the piece taken (the rest must be
 *   offered again at the next call's offset). The call that takes the tag
 *   verifies it, restores the vCPU and runs the VM (RUNNING) and sets
 *   done; nothing of the VM runs and nothing is committed before. buf_len
 *   >= HC_STREAM_MIN, or the piece ends the blob; buf_len <= blob_len -
 *   offset.
 * The boot copy, flags HC_STREAM_BOOT_COPY (on every call of the stream):
 *   HC_VM_STOP_STREAM of a LOADED VM seals it as it is, with version 0,
 *   and changes nothing: it stays LOADED, its memory kept, and its commit
 *   keeps no record (the TPGVM stores that blob at the VM's first start,
 *   docs/lifecycle.md "Booting afresh"). HC_VM_START_STREAM of a SEALED
 *   VM opens a blob of version 0 (any other: VERIFY) and runs the VM
 *   from its boot state: it boots afresh; the version counter stays, so no blob sealed
 *   before can come back.
 * Both: flags HC_STREAM_ABORT (buffer and offset ignored) abandons the
 *   VM's open stream of that kind: a stopping VM runs on (or stays
 *   EXITED) exactly as before, nothing committed; a resuming one is SEALED
 *   again, every frame taken scrubbed and freed. RAX = 0. HC_VM_DESTROY
 *   of a VM with an open stream ends it too, and so does the TPGVM's end.
 * Every successful call writes blob_len (the total, once known: at the
 *   first call's end) and done (1: the stream has ended, committed) back
 *   into the request. Errors: STATE (no such stream open, or one open
 *   where offset 0 opens one, or the VM's state), INVAL (offset is not
 *   where the stream is, buf_len out of range, flags), FAULT, NOMEM (also:
 *   HC_STREAMS_MAX streams open), and as HC_VM_STOP/HC_VM_START. A refused
 *   call (STATE, INVAL, FAULT before anything was moved) leaves the stream
 *   as it was; one that fails while moving bytes (a blob that does not
 *   verify, INTERNAL) ends it as an abort would. While a stream is open
 *   its VM allows only its stream's calls, QUERY (state as before the
 *   stream, seal_size 0), CONSOLE_READ and DESTROY: STOP, START and
 *   CONSOLE_INPUT are STATE.
 */
#define HC_STREAM_MIN   (16u << 10) /* smallest window (the last piece of a
				     * resume may be shorter) */
#define HC_STREAMS_MAX  4u          /* streams open at once */
#define HC_STREAM_ABORT 1u
#define HC_STREAM_BOOT_COPY 2u

struct hc_vm_stream {
	struct hc_vm_ref ref;
	uint64_t buf_gpa, buf_len;     /* the window (a piece of the blob) */
	uint64_t offset;               /* its blob offset; 0 opens a stream */
	uint64_t blob_len;             /* START_STREAM at offset 0: in; out */
	uint32_t flags;                /* HC_STREAM_ABORT or 0 */
	uint32_t done;                 /* out: 1 once the stream has ended */
};
_Static_assert(sizeof(struct hc_vm_stream) == 96,
	       "struct hc_vm_stream is part of the ABI: 96 bytes");

/* HC_VM_DESTROY: RDI = &hc_vm_ref. Any state. Scrubs memory and vCPU
 * state, shreds the VM's key (every blob sealed for it is dead), frees the
 * frames and forgets the record. RAX = 0. */

/* HC_VM_QUERY: RDI = &hc_vm_query. With ref.vm_id != 0: that VM's info
 * (NOTFOUND for another owner's). With ref.vm_id 0: every VM of ref.owner,
 * as many as fit. RAX = number of hc_vm_info written at out_gpa. */
struct hc_vm_query {
	struct hc_vm_ref ref;
	uint64_t out_gpa, out_cap;     /* room for out_cap / sizeof(info) */
};

struct hc_vm_info {
	uint32_t vm_id;
	uint32_t state;                /* enum hc_vm_state */
	char name[HC_VM_NAME_MAX];
	uint64_t mem_size;
	uint64_t version;              /* seals so far */
	uint64_t seal_size;            /* EXITED: bytes HC_VM_STOP would
					* write (its memory no longer changes:
					* counted once, by the first query of
					* the one VM); RUNNING: the most it
					* could write (every page not zero);
					* else 0; in a list (vm_id 0) always
					* 0: ask for the one VM */
	uint64_t console_pending;      /* bytes HC_VM_CONSOLE_READ would give */
	uint8_t measurement[48];       /* launch measurement (0 before LOAD) */
	char stop_reason[64];          /* EXITED, SEALED: why it stopped, NUL-terminated */
	uint32_t flags;                /* HC_VM_INFO_* */
	uint32_t reserved;             /* 0 */
};
/* It stopped itself (HC_EXIT, HLT, a fault) and has not run since: EXITED,
 * or SEALED from there (its blob holds it stopped). Kept across reboots. */
#define HC_VM_INFO_STOPPED_ITSELF 1u

/* HC_VM_CONSOLE_READ: RDI = &hc_vm_console_read. Moves up to out_cap bytes
 * of the VM's console ring to out_gpa (they are gone from the ring).
 * RAX = bytes moved. Works in every state (the ring outlives a stop). */
struct hc_vm_console_read {
	struct hc_vm_ref ref;
	uint64_t out_gpa, out_cap;
};

/* HC_VM_CONSOLE_INPUT: RDI = &hc_vm_console_input. Gives the RUNNING VM's
 * console UART (COM1's receive side) up to in_len bytes from in_gpa,
 * as typed by its owner. RAX = bytes taken (0..in_len: the UART's receive
 * buffer is bounded; the caller offers the rest again later). Other
 * states: STATE; in_len above HC_VM_CONSOLE_INPUT_MAX: INVAL. */
#define HC_VM_CONSOLE_INPUT_MAX 4096u
struct hc_vm_console_input {
	struct hc_vm_ref ref;
	uint64_t in_gpa, in_len;
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
