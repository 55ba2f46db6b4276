/*
 * The VM table: which VMs exist, what state each is in, what it owns.
 * Policy only: the CPU context and the VMCS live with the mechanism (hv/).
 */
#ifndef CUSTOS_TCB_VM_H
#define CUSTOS_TCB_VM_H

#include <custos/types.h>
#include "tcb/console_ring.h"
#include "tcb/ept.h"
#include "tcb/frame_table.h"

#define VM_MAX          16
#define VM_NAME_MAX     32
#define VM_REASON_MAX   128

enum vm_state {
	VM_UNUSED = 0, /* free slot */
	VM_RUNNABLE,   /* scheduled round-robin */
	VM_HALTED,     /* executed HLT: waits for an interrupt that never comes */
	VM_STOPPED,    /* exited, faulted or was stopped; memory released */
};

struct vm {
	unsigned id;            /* 1-based, as logged and told to the guest */
	enum vm_state state;
	bool is_tpgvm;          /* the one VM whose lifecycle hypercalls count */
	char name[VM_NAME_MAX];
	frame_owner_t owner;    /* owner value of its frames */
	uint64_t mem_size;
	struct ept ept;
	struct console_ring console;
	char stop_reason[VM_REASON_MAX];
	uint64_t exits;
	uint64_t slices;        /* times it was scheduled */
	unsigned denied_io_logged;
};

/* Take a free slot and give it a name; NULL when the table is full or the
 * name is empty, too long or already used. The VM starts VM_STOPPED with
 * no memory until the builder makes it runnable. */
struct vm *vm_table_alloc(const char *name);

/* Return a slot whose memory is already released to the free pool. */
void vm_table_free(struct vm *vm);

struct vm *vm_table_get(unsigned id);

/* The next runnable VM after 'after' in round-robin order (after may be
 * NULL, or itself the only runnable one); NULL if none is runnable. */
struct vm *vm_table_next_runnable(const struct vm *after);

/* Mark a VM stopped (or halted) with a reason; the caller then tears it down. */
void vm_set_stopped(struct vm *vm, enum vm_state state, const char *reason);

#endif
