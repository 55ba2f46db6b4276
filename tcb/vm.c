#include "tcb/vm.h"

static struct vm vm_table[VM_MAX];
static uint64_t serials;

static size_t bounded_len(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

static bool same_name(const char *a, const char *b)
{
	for (size_t i = 0; i < VM_NAME_MAX; i++) {
		if (a[i] != b[i])
			return false;
		if (!a[i])
			return true;
	}
	return true;
}

static void copy_reason(char *dst, const char *src)
{
	size_t n = bounded_len(src, VM_REASON_MAX - 1);

	for (size_t i = 0; i < n; i++)
		dst[i] = src[i];
	dst[n] = '\0';
}

/* at: 0 for the first free slot, else that slot's id only. */
static struct vm *alloc_slot(const char *name, bool unique, unsigned at)
{
	size_t len = name ? bounded_len(name, VM_NAME_MAX) : 0;
	struct vm *slot = NULL;

	if (len == 0 || len == VM_NAME_MAX || at > VM_MAX)
		return NULL;
	for (unsigned i = 0; i < VM_MAX; i++) {
		struct vm *vm = &vm_table[i];
		if (vm->state == VM_UNUSED) {
			if (!slot && (at == 0 || at == i + 1))
				slot = vm;
		} else if (unique && same_name(vm->name, name)) {
			return NULL;
		}
	}
	if (!slot)
		return NULL;
	unsigned id = (unsigned)(slot - vm_table) + 1;
	*slot = (struct vm){
		.id = id,
		.serial = ++serials,
		.state = VM_STOPPED,
		.owner = frame_owner_vm(id),
	};
	for (size_t i = 0; i < len; i++)
		slot->name[i] = name[i];
	console_ring_init(&slot->console);
	copy_reason(slot->stop_reason, "not started");
	return slot;
}

struct vm *vm_table_alloc(const char *name)
{
	return alloc_slot(name, true, 0);
}

struct vm *vm_table_alloc_tenant(const char *name)
{
	return alloc_slot(name, false, 0);
}

struct vm *vm_table_alloc_tenant_at(unsigned id, const char *name)
{
	return id ? alloc_slot(name, false, id) : NULL;
}

bool vm_table_has_free_slot(void)
{
	for (unsigned i = 0; i < VM_MAX; i++)
		if (vm_table[i].state == VM_UNUSED)
			return true;
	return false;
}

void vm_table_free(struct vm *vm)
{
	console_ring_scrub(&vm->console);
	*vm = (struct vm){ .state = VM_UNUSED };
}

struct vm *vm_table_get(unsigned id)
{
	if (id == 0 || id > VM_MAX || vm_table[id - 1].state == VM_UNUSED)
		return NULL;
	return &vm_table[id - 1];
}

struct vm *vm_table_next_runnable(const struct vm *after)
{
	unsigned start = after ? (unsigned)(after - vm_table) + 1 : 0;

	for (unsigned k = 0; k < VM_MAX; k++) {
		struct vm *vm = &vm_table[(start + k) % VM_MAX];
		if (vm->state == VM_RUNNABLE)
			return vm;
	}
	return NULL;
}

const char *vm_log_name(const struct vm *vm)
{
	return vm->tenant.active ? "tenant VM" : vm->name;
}

void vm_set_stopped(struct vm *vm, enum vm_state state, const char *reason)
{
	vm->state = state;
	copy_reason(vm->stop_reason, reason);
}

void vm_principal_of(const struct vm *vm, struct vm_principal *out)
{
	*out = (struct vm_principal){ .tenant = vm->tenant.active };
	if (vm->tenant.active) {
		for (size_t i = 0; i < HC_OWNER_LEN; i++)
			out->owner[i] = vm->tenant.owner[i];
	} else {
		out->serial = vm->serial;
	}
}

bool vm_principal_same(const struct vm_principal *a,
		       const struct vm_principal *b)
{
	if (a->tenant != b->tenant)
		return false;
	if (!a->tenant)
		return a->serial == b->serial;
	for (size_t i = 0; i < HC_OWNER_LEN; i++)
		if (a->owner[i] != b->owner[i])
			return false;
	return true;
}
