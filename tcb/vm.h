/*
 * The VM table: which VMs exist, what state each is in, what it owns.
 * Policy only: the CPU context and the VMCS live with the mechanism (hv/).
 */
#ifndef CUSTOS_TCB_VM_H
#define CUSTOS_TCB_VM_H

#include <custos/types.h>
#include <custos/guest_abi.h>
#include "tcb/console_ring.h"
#include "tcb/npt.h"
#include "tcb/frame_table.h"
#include "vdev/vplatform.h"

#define VM_MAX          16
#define VM_NAME_MAX     32
#define VM_REASON_MAX   128

enum vm_state {
	VM_UNUSED = 0, /* free slot */
	VM_RUNNABLE,   /* scheduled round-robin */
	VM_HALTED,     /* executed HLT: waits for an interrupt that never comes */
	VM_STOPPED,    /* exited, faulted or was stopped; memory released,
			* except for a tenant VM (tenant.has_memory says) */
};

struct lc_stream;

/* What the TCB keeps of a tenant VM (one made by HC_VM_CREATE): its
 * lifecycle record (tcb/lifecycle.c, docs/lifecycle.md). TCB memory only. */
struct vm_tenant {
	bool active;                      /* a tenant VM, not a boot-module one */
	uint32_t state;                   /* enum hc_vm_state */
	uint8_t owner[HC_OWNER_LEN];
	uint8_t key[32];                  /* its sealing key (tcb/seal.h) */
	uint64_t version;                 /* seals so far */
	/* It stopped itself (lifecycle_exited) and has not run since; kept
	 * in its record (hc_vm_info's HC_VM_INFO_STOPPED_ITSELF). */
	bool stopped_itself;
	uint8_t measurement[48];          /* launch measurement */
	uint8_t salt[HC_SALT_LEN];
	uint64_t secrets_gpa, secrets_len;
	bool has_memory;                  /* frames, EPT and vCPU frames held */
	/* EXITED: its non-zero pages, counted once by the first HC_VM_QUERY
	 * after it stopped running (its memory cannot change until it runs
	 * again); valid while nonzero_known, which lifecycle_exited() clears. */
	bool nonzero_known;
	uint64_t nonzero_pages;
	/* A seal or resume under way (tcb/lifecycle.c): its writer or reader,
	 * cursor and map, in TCB frames; NULL when none. */
	struct lc_stream *stream;
};

struct vm {
	unsigned id;            /* 1-based, as logged and told to the guest */
	uint64_t serial;        /* no other VM of this boot has it (ids are reused) */
	enum vm_state state;
	bool is_tpgvm;          /* the one VM whose lifecycle hypercalls count */
	char name[VM_NAME_MAX];
	frame_owner_t owner;    /* owner value of its frames */
	uint64_t mem_size;
	struct npt npt;
	struct console_ring console;
	char stop_reason[VM_REASON_MAX];
	uint64_t exits;
	uint64_t slices;        /* times it was scheduled */
	unsigned denied_io_logged;
	struct vm_tenant tenant;
	/* Its devices (vdev/): timers, interrupt controller, console UART. */
	struct vplatform platform;
	/* Halted with interrupts enabled: runs again when its platform raises
	 * an interrupt (hv/virq.h). */
	bool idle;
};

/* Take a free slot and give it a name; NULL when the table is full or the
 * name is empty, too long or already used. The VM starts VM_STOPPED with
 * no memory until the builder makes it runnable. */
struct vm *vm_table_alloc(const char *name);

/* Take a free slot for a tenant VM: names are unique per owner, which
 * tcb/lifecycle.c checks, not here. NULL when the table is full or the
 * name is empty or too long. */
struct vm *vm_table_alloc_tenant(const char *name);

/* The same, in slot id (1..VM_MAX) and no other: a VM restored from a
 * record keeps the id its sealed blob names. NULL when that slot is taken
 * or the name is empty or too long. */
struct vm *vm_table_alloc_tenant_at(unsigned id, const char *name);
/* Whether a slot is free. */
bool vm_table_has_free_slot(void);

/* Return a slot whose memory is already released to the free pool. */
void vm_table_free(struct vm *vm);

struct vm *vm_table_get(unsigned id);

/* The next runnable VM after 'after' in round-robin order (after may be
 * NULL, or itself the only runnable one); NULL if none is runnable. */
struct vm *vm_table_next_runnable(const struct vm *after);

/* Mark a VM stopped (or halted) with a reason; the caller then tears it down. */
void vm_set_stopped(struct vm *vm, enum vm_state state, const char *reason);
/* The name the platform log (COM1, which the host reads) may show: a
 * boot-module VM's or the TPGVM's own (the boot media named it), never a
 * tenant VM's, which its tenant chose (docs/architecture.md, "What the
 * host learns"): "tenant VM" instead, beside its id. */
const char *vm_log_name(const struct vm *vm);

/*
 * Whom a VM's state belongs to, for the side-channel barriers the TCB puts
 * between VMs of different owners (docs/vm-exits.md): a tenant VM belongs
 * to the tenant identity that created it, so one tenant's VMs share an
 * owner; the TPGVM and each boot-module VM are each an owner of their own.
 * A copy, so that it outlives the VM (the CPU still holds traces of a VM
 * after its slot is freed).
 */
struct vm_principal {
	bool tenant;
	uint8_t owner[HC_OWNER_LEN]; /* tenant VMs: the tenant identity */
	uint64_t serial;             /* every other VM: its serial */
};

void vm_principal_of(const struct vm *vm, struct vm_principal *out);
bool vm_principal_same(const struct vm_principal *a,
		       const struct vm_principal *b);

#endif
