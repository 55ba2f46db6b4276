/*
 * Tenant VM lifecycle: the policy half of HC_VM_CREATE .. HC_VM_CONSOLE_READ
 * (include/custos/guest_abi.h, docs/lifecycle.md). It decides everything
 * that can be decided -- argument ranges, names, ownership, the state
 * machine, the launch measurement, what goes into a
 * sealed blob and whether one may come back -- and asks the mechanism (hv/,
 * or a fake in the unit tests) only for what needs the machine: frames,
 * pages, the vCPU and its VMCS. Portable C, host-tested.
 *
 * Decode checks what it can at once and may fail. What grows with a VM's
 * memory or image runs as a job of bounded steps, in phases: those before
 * the commit point may still refuse (LOAD: the ELF; STOP: a blob that does
 * not fit; START of a SEALED VM: a blob that does not verify) and then give
 * back everything they took, so the free-frame count is exactly as before;
 * the commit itself and what follows (freeing a sealed VM's frames) cannot
 * fail, except when the TCB itself does (HC_E_INTERNAL).
 */
#ifndef CUSTOS_TCB_LIFECYCLE_H
#define CUSTOS_TCB_LIFECYCLE_H

#include <custos/types.h>
#include <custos/guest_abi.h>
#include "tcb/elf_image.h"
#include "tcb/linux_boot.h"
#include "tcb/seal.h"
#include "tcb/vm.h"
#include "tcb/vm_record.h"

struct hc_call;
struct hc_env;
struct hc_result;

/* Room under the top of guest memory kept for the initial stack. */
#define LC_STACK_RESERVE 0x10000ull
/* The vCPU context byte string (docs/lifecycle.md, "Context"). */
#define LC_CONTEXT_MAX   8192u
#define LC_DIGEST_LEN    48u  /* the launch measurement: SHA-384 */
#define LC_COMPONENT_LEN 32u  /* what it binds: SHA-256 of image, init, ... */
#define LC_LAUNCH_TAG    "CUSTOS-VM-LAUNCH-2"
/* TSC cycles per slice, told to guests in their boot info (informative). */
#define LC_SLICE_TSC     200000ull
/* A step of a long call ends at the first unit of work (a page to scan,
 * hash, seal or open; 64 KiB to map, unmap or stage) that finishes this
 * many TSC cycles or more after the step began (docs/lifecycle.md, "Long
 * calls"). */
#define LC_STEP_TSC      50000ull

/* The initial registers a LOADED VM starts with (part of its boot state). */
struct lc_regs {
	uint64_t rip, rsp, cr3, rdi;
	uint64_t rsi;          /* Linux guests: the zero page */
	/* Selectors of the flat code and data segments (DS, ES, SS, FS, GS)
	 * and the limit of the GDT at GUEST_GDT_GPA: ELF guests
	 * GUEST_SEL_CODE, GUEST_SEL_DATA, 3 entries; Linux guests 0x10, 0x18,
	 * 4 entries (tcb/linux_boot.h). */
	uint16_t cs, ds, gdt_limit;
};

/*
 * The mechanism. mctx is hc_env.lc_ctx. None of these may fail except
 * where a return value says so; a failing one has taken nothing.
 */
struct lc_ops {
	/* Free host frames now. */
	uint64_t (*free_frames)(void *mctx);
	/* Give vm the frames of its vCPU (VMCS, XSAVE area) and an empty EPT:
	 * HC_OK or HC_E_NOMEM (then nothing was taken). Pages come with
	 * mem_map; lifecycle_create_frames() counts both. */
	int (*mem_alloc)(void *mctx, struct vm *vm);
	/* Map fresh zeroed frames at [gpa, gpa + len) (page-aligned, inside
	 * mem_size, nothing mapped there yet): HC_OK or HC_E_NOMEM (then this
	 * call took nothing). */
	int (*mem_map)(void *mctx, struct vm *vm, uint64_t gpa, uint64_t len);
	/* The VM does not run: flush its translations, then scrub and free
	 * whatever frames are mapped at [gpa, gpa + len). */
	void (*mem_unmap)(void *mctx, struct vm *vm, uint64_t gpa, uint64_t len);
	/* Flush its translations, scrub its vCPU, scrub and free all it still
	 * holds (pages, EPT tables, vCPU frames). */
	void (*mem_free)(void *mctx, struct vm *vm);
	/* The TSC, or a clock in its units: where a step of a long call ends. */
	uint64_t (*now)(void *mctx);
	/* Host pointer to the 4 KiB guest page at gpa (< mem_size, aligned). */
	uint8_t *(*page)(void *mctx, const struct vm *vm, uint64_t gpa);
	/* len bytes of contiguous TCB scratch, zeroed; NULL when there is not
	 * enough memory. unstage scrubs and frees it. */
	void *(*stage)(void *mctx, size_t len);
	void (*unstage)(void *mctx, void *p, size_t len);
	/* Its vCPU and VMCS in the initial state with these registers. */
	void (*vcpu_setup)(void *mctx, struct vm *vm, const struct lc_regs *r);
	/* The full vCPU context as a byte string; returns its length
	 * (<= cap, never 0). context_len tells the length beforehand. */
	size_t (*context_save)(void *mctx, const struct vm *vm, uint8_t *buf,
			       size_t cap);
	size_t (*context_len)(void *mctx, const struct vm *vm);
	/* Its vCPU and VMCS from a context made by context_save; false if it
	 * is not one this TCB can resume. */
	bool (*context_restore)(void *mctx, struct vm *vm, const uint8_t *buf,
				size_t len);
	/* Put it on (true) or off the run queue. */
	void (*set_runnable)(void *mctx, struct vm *vm, bool on);
	/* One line for the platform console (no secrets, no contents). */
	void (*log)(void *mctx, const char *line);
	/* Keep vm's record across reboots where this boot can (hv: a TPM NV
	 * slot only the same measured launch opens): r is what it will be
	 * once the call commits, NULL removes it. HC_OK when it is kept, or
	 * when this boot keeps records in memory only; any other HC_E_* means
	 * the kept record is as before, and the call fails with nothing
	 * changed. May be NULL: memory only. */
	int (*keep_record)(void *mctx, const struct vm *vm, const struct vm_record *r);
};

/* ---- the calls (from tcb/hypercall.c, for the TPGVM) -------------------- */

/* Where a VM's image, init data and secrets go (decided before anything
 * is written). */
struct lc_placement {
	struct elf_image img;
	uint64_t init_gpa, secrets_gpa;
	bool is_linux;                 /* a Linux bzImage: lx, not img */
	struct linux_layout lx;
};

/*
 * Handle HC_VM_* for the TPGVM (tcb/hypercall.c has checked it is the
 * TPGVM). Calls whose cost grows with a VM's memory or image run as a
 * job of bounded steps (docs/lifecycle.md, "Long calls"): when *again is
 * set the call is not finished, the caller must re-execute the same
 * hypercall instruction (RIP not advanced; the scheduler may run other VMs
 * first), and that next execution continues it. Otherwise the result.
 */
int64_t lifecycle_call(const struct hc_call *c, const struct hc_env *env,
		       bool *again);

/* What a VM is loaded from, in TCB memory. */
struct lc_image {
	const uint8_t *image;
	size_t image_len;
	const uint8_t *init;      /* NULL when init_len is 0 */
	size_t init_len;
	const char *secrets;      /* checked KEY=VALUE\0 strings */
	size_t secrets_len;
	const uint8_t *salt;      /* HC_SALT_LEN bytes; NULL: all zero */
	const char *cmdline;      /* boot info cmdline; NULL: empty */
	/* A Linux bzImage (image) instead of an ELF: its initrd and kernel
	 * command line (tcb/linux_boot.h); init data and secrets are none. */
	bool is_linux;
	const uint8_t *initrd;    /* NULL when initrd_len is 0 */
	size_t initrd_len;
	const char *kcmdline;     /* kcmdline_len bytes with the NUL; 0: none */
	size_t kcmdline_len;
};

/* mem_alloc and mem_map of all of vm's memory at once (VMs built at boot):
 * HC_OK, or HC_E_NOMEM with nothing taken. */
int lifecycle_mem_alloc(const struct lc_ops *ops, void *mctx, struct vm *vm);

/*
 * Load a VM whose memory (lifecycle_mem_alloc) is fresh, at once: parse the
 * ELF for [GUEST_IMAGE_MIN_GPA, mem_size - LC_STACK_RESERVE), place init
 * data and secrets page-aligned above it, build page tables and boot info,
 * set up the vCPU. HC_OK, or HC_E_INVAL with a reason in why and nothing
 * written (image refused, does not fit). For boot-module VMs and the TPGVM,
 * which the measurement log measures; HC_VM_LOAD runs the same pieces as a
 * job of bounded steps and records the launch measurement
 * (docs/lifecycle.md).
 */
int64_t lifecycle_load_image(const struct lc_ops *ops, void *mctx,
			     struct vm *vm, const struct lc_image *in, char *why,
			     size_t why_len);

/*
 * A VM sealed on an earlier boot, from its kept record (at boot, before
 * the TPGVM runs): a SEALED tenant VM with that id, name, owner, key,
 * version, memory size and launch measurement, holding no memory, whose
 * latest blob HC_VM_START resumes as if the host had never been off.
 * 0, or -1 with a reason in why (its id is taken, its name is taken by
 * the same owner); nothing is changed then.
 */
int lifecycle_restore(const struct vm_record *r, char *why, size_t why_len);

/* ---- events from the mechanism ----------------------------------------- */

/* A tenant VM stopped itself (HC_EXIT, HLT, a fault): RUNNING -> EXITED,
 * memory kept. reason is already in vm->stop_reason. */
void lifecycle_exited(struct vm *vm);

/* Destroy every tenant VM (when the TPGVM is gone). */
void lifecycle_destroy_all(const struct lc_ops *ops, void *mctx);

/* "created", "loaded", ... for a enum hc_vm_state. */
const char *lifecycle_state_name(uint32_t state);

/* ---- the pure parts, exposed for tests --------------------------------- */

/* [a-z0-9_-]{1,31} followed by NUL inside HC_VM_NAME_MAX bytes. */
bool lifecycle_name_ok(const char name[HC_VM_NAME_MAX]);
/* A multiple of GUEST_MEM_ALIGN in [GUEST_MEM_MIN, GUEST_MEM_MAX]. */
bool lifecycle_mem_ok(uint64_t mem_size);
/* len bytes of NUL-terminated KEY=VALUE strings, KEY [A-Za-z0-9_.-]+,
 * VALUE any bytes but NUL; len 0 is none. */
bool lifecycle_secrets_ok(const char *s, size_t len);
/* Frames HC_VM_CREATE takes for mem_size: pages, EPT tables, vCPU. */
uint64_t lifecycle_create_frames(uint64_t mem_size);
/* Bytes of TCB memory (lc_ops.stage) a seal or resume stream of a VM of
 * mem_size holds while it is open (docs/lifecycle.md, "Streams"). */
size_t lifecycle_stream_bytes(uint64_t mem_size);

#endif
