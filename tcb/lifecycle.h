/*
 * Tenant VM lifecycle: the policy half of HC_VM_CREATE .. HC_VM_CONSOLE_READ
 * (include/custos/guest_abi.h, docs/lifecycle.md). It decides everything
 * that can be decided -- argument ranges, names, ownership, the state
 * machine, the launch measurement, the boot-state digest, what goes into a
 * sealed blob and whether one may come back -- and asks the mechanism (hv/,
 * or a fake in the unit tests) only for what needs the machine: frames,
 * pages, the vCPU and its VMCS. Portable C, host-tested.
 *
 * Decode checks and may fail; execute cannot, except when the TCB itself
 * fails (HC_E_INTERNAL). Where a check needs resources (LOAD: the image
 * staged and parsed; START of a SEALED VM: its state decrypted into fresh
 * frames, for the tag only the whole stream can check), decode prepares
 * them and gives them all back when it fails, so the free-frame count is
 * exactly as before; execute commits.
 */
#ifndef CUSTOS_TCB_LIFECYCLE_H
#define CUSTOS_TCB_LIFECYCLE_H

#include <custos/types.h>
#include <custos/guest_abi.h>
#include "tcb/elf_image.h"
#include "tcb/seal.h"
#include "tcb/vm.h"

struct hc_call;
struct hc_env;
struct hc_result;

/* Room under the top of guest memory kept for the initial stack. */
#define LC_STACK_RESERVE 0x10000ull
/* The vCPU context byte string (docs/lifecycle.md, "Context"). */
#define LC_CONTEXT_MAX   8192u
#define LC_DIGEST_LEN    48u
#define LC_LAUNCH_TAG    "CUSTOS-VM-LAUNCH-1"
#define LC_BOOT_TAG      "CUSTOS-VM-BOOT-1"
/* TSC cycles per slice, told to guests in their boot info (informative). */
#define LC_SLICE_TSC     200000ull

/* The initial registers a LOADED VM starts with (part of its boot state). */
struct lc_regs {
	uint64_t rip, rsp, cr3, rdi;
};

/*
 * The mechanism. mctx is hc_env.lc_ctx. None of these may fail except
 * where a return value says so; a failing one has taken nothing.
 */
struct lc_ops {
	/* Free host frames now. */
	uint64_t (*free_frames)(void *mctx);
	/* Give vm [0, vm->mem_size) of fresh zeroed frames, its EPT and the
	 * frames of its vCPU (VMCS, XSAVE area): lifecycle_create_frames()
	 * of them. HC_OK or HC_E_NOMEM (then nothing was taken). */
	int (*mem_alloc)(void *mctx, struct vm *vm);
	/* Flush its translations, scrub its vCPU, scrub and free all of
	 * what mem_alloc took. */
	void (*mem_free)(void *mctx, struct vm *vm);
	/* Host pointer to the 4 KiB guest page at gpa (< mem_size, aligned). */
	uint8_t *(*page)(void *mctx, const struct vm *vm, uint64_t gpa);
	/* len bytes of contiguous TCB scratch, zeroed; NULL when there is not
	 * enough memory. unstage scrubs and frees it. */
	void *(*stage)(void *mctx, size_t len);
	void (*unstage)(void *mctx, void *p, size_t len);
	/* Its vCPU and VMCS in the initial state with these registers. */
	void (*vcpu_setup)(void *mctx, struct vm *vm, const struct lc_regs *r);
	/* Its registers as they are now (for the boot-state digest). */
	void (*vcpu_regs)(void *mctx, const struct vm *vm, struct lc_regs *r);
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
};

/* ---- decode / execute (called by tcb/hypercall.c for the TPGVM) ------- */

/* Where a VM's image, init data and secrets go (decided before anything
 * is written). */
struct lc_placement {
	struct elf_image img;
	uint64_t init_gpa, secrets_gpa;
};

/*
 * Everything decode learned, for execute. Opaque to callers but sized.
 * Decode may prepare what execute commits (HC_VM_LOAD: the staged and
 * parsed image; HC_VM_START of a SEALED VM: its state decrypted into
 * fresh frames and verified); when decode fails it has undone all of it.
 */
struct lc_request {
	uint64_t nr;
	struct vm *vm;
	union {
		struct hc_vm_create create;
		struct hc_vm_load load;
		struct hc_vm_start start;
		struct hc_vm_stop stop;
		struct hc_vm_query query;
		struct hc_vm_console_read console;
		struct hc_vm_ref ref;
	} u;
	char secrets[HC_VM_SECRETS_MAX];
	uint64_t seal_pages;   /* HC_VM_STOP: pages it will seal */
	uint64_t blob_len;     /* HC_VM_STOP: bytes it will write */
	struct seal_header hdr; /* HC_VM_START of a SEALED VM: its header */
	uint8_t *image, *init;  /* HC_VM_LOAD: staged in TCB frames */
	struct lc_placement place; /* HC_VM_LOAD: where they go */
	bool resume;            /* HC_VM_START: restored from a blob */
};

int64_t lifecycle_decode(const struct hc_call *c, const struct hc_env *env,
			 struct lc_request *rq);
int64_t lifecycle_execute(struct lc_request *rq, const struct hc_env *env);

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
	bool measure;             /* record launch measurement and boot-state
				   * digest (tenant VMs; boot-module VMs and
				   * the TPGVM are measured otherwise) */
};

/*
 * Load a VM whose memory (mem_alloc) is fresh: parse the ELF for
 * [GUEST_IMAGE_MIN_GPA, mem_size - LC_STACK_RESERVE), place init data and
 * secrets page-aligned above it, build page tables and boot info, set up
 * the vCPU, record launch measurement and boot-state digest (in->measure).
 * HC_OK, or
 * HC_E_INVAL with a reason in why and nothing written (image refused, does
 * not fit). Used by HC_VM_LOAD and for boot-module VMs and the TPGVM.
 */
int64_t lifecycle_load_image(const struct lc_ops *ops, void *mctx,
			     struct vm *vm, const struct lc_image *in, char *why,
			     size_t why_len);

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

/* The launch measurement of docs/lifecycle.md, byte-exact. */
void lifecycle_launch_measurement(const char name[HC_VM_NAME_MAX],
				  uint64_t mem_size, const void *image,
				  size_t image_len, const void *init,
				  size_t init_len, const uint8_t salt[HC_SALT_LEN],
				  const void *secrets, size_t secrets_len,
				  uint8_t out[LC_DIGEST_LEN]);

/* The boot-state digest of a LOADED VM (docs/lifecycle.md). */
void lifecycle_boot_digest(const struct lc_ops *ops, void *mctx,
			   const struct vm *vm, uint8_t out[LC_DIGEST_LEN]);

#endif
