/*
 * Tests of the VM table (tcb/vm.c): allocation, names, lookup, round-robin
 * and stop reasons. The table is static, so every test starts and ends with
 * an empty table (setup and teardown free every slot).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tcb/vm.h"

static void free_all(void)
{
	for (unsigned id = 1; id <= VM_MAX; id++) {
		struct vm *vm = vm_table_get(id);

		if (vm)
			vm_table_free(vm);
	}
}

static int setup(void **state)
{
	(void)state;
	free_all();
	for (unsigned id = 1; id <= VM_MAX; id++)
		if (vm_table_get(id))
			return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	free_all();
	return 0;
}

/* Fill the table with VMs "vm1".."vm16"; vms[i] has id i + 1. */
static void fill(struct vm *vms[VM_MAX])
{
	for (unsigned i = 0; i < VM_MAX; i++) {
		char name[16];

		snprintf(name, sizeof(name), "vm%u", i + 1);
		vms[i] = vm_table_alloc(name);
		assert_non_null(vms[i]);
	}
}

static void test_alloc_ids_and_owners(void **state)
{
	struct vm *vms[VM_MAX];

	(void)state;
	fill(vms);
	for (unsigned i = 0; i < VM_MAX; i++) {
		char name[16];

		snprintf(name, sizeof(name), "vm%u", i + 1);
		assert_int_equal(vms[i]->id, i + 1);
		assert_int_equal(vms[i]->state, VM_STOPPED);
		assert_string_equal(vms[i]->name, name);
		assert_int_equal(vms[i]->owner, frame_owner_vm(i + 1));
		assert_true(frame_owner_is_vm(vms[i]->owner));
		assert_int_equal(vms[i]->mem_size, 0);
		assert_int_equal(console_ring_unread(&vms[i]->console), 0);
		assert_ptr_equal(vm_table_get(i + 1), vms[i]);
		for (unsigned j = 0; j < i; j++) {
			assert_int_not_equal(vms[i]->owner, vms[j]->owner);
			assert_ptr_not_equal(vms[i], vms[j]);
		}
	}
	/* Owners are never the TCB's or the free pool's. */
	for (unsigned i = 0; i < VM_MAX; i++) {
		assert_int_not_equal(vms[i]->owner, FRAME_TCB);
		assert_int_not_equal(vms[i]->owner, FRAME_FREE);
		assert_int_not_equal(vms[i]->owner, FRAME_UNMANAGED);
	}
}

static void test_table_full(void **state)
{
	struct vm *vms[VM_MAX];

	(void)state;
	fill(vms);
	assert_null(vm_table_alloc("onemore"));
	/* Refusal changed nothing. */
	for (unsigned i = 0; i < VM_MAX; i++)
		assert_ptr_equal(vm_table_get(i + 1), vms[i]);
}

static void test_duplicate_names(void **state)
{
	struct vm *a, *b;

	(void)state;
	a = vm_table_alloc("alpha");
	assert_non_null(a);
	assert_null(vm_table_alloc("alpha"));
	/* Prefixes and extensions are different names. */
	b = vm_table_alloc("alph");
	assert_non_null(b);
	assert_non_null(vm_table_alloc("alphaa"));
	assert_null(vm_table_alloc("alph"));
	/* A duplicate is refused even when it sits after a free slot. */
	vm_table_free(a);
	assert_null(vm_table_alloc("alph"));
	/* Once freed, the name is available again. */
	a = vm_table_alloc("alpha");
	assert_non_null(a);
	assert_int_equal(a->id, 1);
}

static void test_duplicate_of_stopped_or_runnable(void **state)
{
	struct vm *a;

	(void)state;
	a = vm_table_alloc("x");
	assert_non_null(a);
	a->state = VM_RUNNABLE;
	assert_null(vm_table_alloc("x"));
	a->state = VM_HALTED;
	assert_null(vm_table_alloc("x"));
}

static void test_bad_names(void **state)
{
	char name[VM_NAME_MAX + 8];
	struct vm *vm;

	(void)state;
	assert_null(vm_table_alloc(NULL));
	assert_null(vm_table_alloc(""));

	/* VM_NAME_MAX characters leave no room for the NUL: refused. */
	memset(name, 'n', sizeof(name));
	name[VM_NAME_MAX] = '\0';
	assert_null(vm_table_alloc(name));
	name[VM_NAME_MAX + 4] = '\0';
	assert_null(vm_table_alloc(name));
	for (unsigned id = 1; id <= VM_MAX; id++)
		assert_null(vm_table_get(id));

	/* VM_NAME_MAX - 1 characters fit, NUL-terminated. */
	name[VM_NAME_MAX - 1] = '\0';
	vm = vm_table_alloc(name);
	assert_non_null(vm);
	assert_int_equal(strnlen(vm->name, VM_NAME_MAX), VM_NAME_MAX - 1);
	assert_string_equal(vm->name, name);
	assert_null(vm_table_alloc(name));
}

static void test_free_and_reuse(void **state)
{
	struct vm *vms[VM_MAX], *again;

	(void)state;
	fill(vms);
	vms[4]->state = VM_RUNNABLE;
	vms[4]->mem_size = 1 << 21;
	vms[4]->exits = 99;
	console_ring_put(&vms[4]->console, 's');
	vm_table_free(vms[4]);
	assert_null(vm_table_get(5));
	assert_int_equal(vms[4]->state, VM_UNUSED);

	again = vm_table_alloc("fresh");
	assert_non_null(again);
	assert_int_equal(again->id, 5); /* the only free slot */
	assert_int_equal(again->state, VM_STOPPED);
	assert_int_equal(again->mem_size, 0);
	assert_int_equal(again->exits, 0);
	assert_int_equal(again->slices, 0);
	assert_int_equal(again->owner, frame_owner_vm(5));
	assert_int_equal(console_ring_unread(&again->console), 0);
	assert_string_equal(again->name, "fresh");
	assert_null(vm_table_alloc("another"));

	/* The lowest free slot is taken first. */
	vm_table_free(vm_table_get(9));
	vm_table_free(vm_table_get(3));
	assert_int_equal(vm_table_alloc("p")->id, 3);
	assert_int_equal(vm_table_alloc("q")->id, 9);
}

static void test_free_scrubs_console(void **state)
{
	struct vm *vm;
	char *buf;

	(void)state;
	vm = vm_table_alloc("talker");
	assert_non_null(vm);
	for (int i = 0; i < 100; i++)
		console_ring_put(&vm->console, 'S');
	buf = vm->console.buf;
	vm_table_free(vm);
	for (size_t i = 0; i < CONSOLE_RING_SIZE; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(vm->name[0], 0);
}

static void test_get_out_of_range(void **state)
{
	struct vm *vm;

	(void)state;
	assert_null(vm_table_get(0));
	assert_null(vm_table_get(1));
	assert_null(vm_table_get(VM_MAX));
	vm = vm_table_alloc("only");
	assert_non_null(vm);
	assert_null(vm_table_get(0));
	assert_ptr_equal(vm_table_get(1), vm);
	assert_null(vm_table_get(2));
	assert_null(vm_table_get(VM_MAX + 1));
	assert_null(vm_table_get(UINT32_MAX));
	assert_null(vm_table_get(0u - 1));
}

static void test_next_runnable_none(void **state)
{
	struct vm *vms[VM_MAX];

	(void)state;
	assert_null(vm_table_next_runnable(NULL));
	fill(vms);
	assert_null(vm_table_next_runnable(NULL));
	vms[0]->state = VM_HALTED;
	vms[1]->state = VM_STOPPED;
	assert_null(vm_table_next_runnable(NULL));
	assert_null(vm_table_next_runnable(vms[0]));
	assert_null(vm_table_next_runnable(vms[VM_MAX - 1]));
}

static void test_next_runnable_round_robin(void **state)
{
	struct vm *vms[VM_MAX];

	(void)state;
	fill(vms);
	vms[1]->state = VM_RUNNABLE;  /* id 2 */
	vms[5]->state = VM_RUNNABLE;  /* id 6 */
	vms[6]->state = VM_HALTED;    /* id 7: skipped */
	vms[VM_MAX - 1]->state = VM_RUNNABLE; /* id 16 */

	assert_ptr_equal(vm_table_next_runnable(NULL), vms[1]);
	assert_ptr_equal(vm_table_next_runnable(vms[1]), vms[5]);
	assert_ptr_equal(vm_table_next_runnable(vms[5]), vms[VM_MAX - 1]);
	/* Wraps around from the last slot. */
	assert_ptr_equal(vm_table_next_runnable(vms[VM_MAX - 1]), vms[1]);
	/* 'after' need not be runnable itself. */
	assert_ptr_equal(vm_table_next_runnable(vms[0]), vms[1]);
	assert_ptr_equal(vm_table_next_runnable(vms[6]), vms[VM_MAX - 1]);
	assert_ptr_equal(vm_table_next_runnable(vms[2]), vms[5]);

	/* A full cycle visits each runnable VM exactly once. */
	{
		const struct vm *cur = NULL;
		unsigned seen[VM_MAX + 1] = { 0 };

		for (int i = 0; i < 3 * 4; i++) {
			cur = vm_table_next_runnable(cur);
			assert_non_null(cur);
			seen[cur->id]++;
		}
		assert_int_equal(seen[2], 4);
		assert_int_equal(seen[6], 4);
		assert_int_equal(seen[16], 4);
	}
}

static void test_next_runnable_single(void **state)
{
	struct vm *a, *b;

	(void)state;
	a = vm_table_alloc("a");
	b = vm_table_alloc("b");
	assert_non_null(a);
	assert_non_null(b);
	b->state = VM_RUNNABLE;
	/* The only runnable one comes back to itself. */
	assert_ptr_equal(vm_table_next_runnable(b), b);
	assert_ptr_equal(vm_table_next_runnable(a), b);
	assert_ptr_equal(vm_table_next_runnable(NULL), b);
	vm_set_stopped(b, VM_STOPPED, "done");
	assert_null(vm_table_next_runnable(b));
	/* Free slots are never returned. */
	vm_table_free(b);
	assert_null(vm_table_next_runnable(NULL));
}

static void test_set_stopped_reason(void **state)
{
	struct vm *vm;

	(void)state;
	vm = vm_table_alloc("r");
	assert_non_null(vm);
	assert_string_equal(vm->stop_reason, "not started");
	vm->state = VM_RUNNABLE;
	vm_set_stopped(vm, VM_HALTED, "hlt");
	assert_int_equal(vm->state, VM_HALTED);
	assert_string_equal(vm->stop_reason, "hlt");
	vm_set_stopped(vm, VM_STOPPED, "exit code 3");
	assert_int_equal(vm->state, VM_STOPPED);
	assert_string_equal(vm->stop_reason, "exit code 3");
	vm_set_stopped(vm, VM_STOPPED, "");
	assert_string_equal(vm->stop_reason, "");
}

static void test_set_stopped_long_reason(void **state)
{
	struct vm *vm, *next;
	char reason[3 * VM_REASON_MAX];
	char next_name[VM_NAME_MAX];

	(void)state;
	vm = vm_table_alloc("first");
	next = vm_table_alloc("second");
	assert_non_null(vm);
	assert_non_null(next);
	memcpy(next_name, next->name, sizeof(next_name));

	for (size_t i = 0; i < sizeof(reason); i++)
		reason[i] = (char)('A' + i % 26);
	reason[sizeof(reason) - 1] = '\0';
	vm_set_stopped(vm, VM_STOPPED, reason);
	/* Truncated to VM_REASON_MAX - 1 characters plus the NUL. */
	assert_int_equal(vm->stop_reason[VM_REASON_MAX - 1], '\0');
	assert_int_equal(strlen(vm->stop_reason), VM_REASON_MAX - 1);
	assert_memory_equal(vm->stop_reason, reason, VM_REASON_MAX - 1);

	/* Exactly VM_REASON_MAX - 1 and VM_REASON_MAX characters. */
	reason[VM_REASON_MAX - 1] = '\0';
	vm_set_stopped(vm, VM_STOPPED, reason);
	assert_string_equal(vm->stop_reason, reason);
	reason[VM_REASON_MAX - 1] = 'x';
	reason[VM_REASON_MAX] = '\0';
	vm_set_stopped(vm, VM_STOPPED, reason);
	assert_int_equal(strlen(vm->stop_reason), VM_REASON_MAX - 1);
	assert_memory_equal(vm->stop_reason, reason, VM_REASON_MAX - 1);

	/* Neighbouring fields and the next VM are intact. */
	assert_string_equal(vm->name, "first");
	assert_int_equal(vm->exits, 0);
	assert_int_equal(vm->slices, 0);
	assert_memory_equal(next->name, next_name, sizeof(next_name));
	assert_string_equal(next->stop_reason, "not started");
}

/* Tenant VMs: names are unique per owner (tcb/lifecycle.c checks), so
 * the table takes a duplicate name; has_free_slot follows the table. */
static void test_alloc_tenant(void **state)
{
	struct vm *vms[VM_MAX];

	(void)state;
	assert_true(vm_table_has_free_slot());
	struct vm *a = vm_table_alloc_tenant("web");
	struct vm *b = vm_table_alloc_tenant("web");
	assert_non_null(a);
	assert_non_null(b);
	assert_int_not_equal(a->id, b->id);
	assert_int_equal(a->state, VM_STOPPED);
	assert_false(a->tenant.active); /* the lifecycle sets the record */
	assert_null(vm_table_alloc_tenant(""));
	char long_name[VM_NAME_MAX + 1];
	memset(long_name, 'a', VM_NAME_MAX);
	long_name[VM_NAME_MAX] = '\0';
	assert_null(vm_table_alloc_tenant(long_name));
	/* A boot-module VM still may not take a used name. */
	assert_null(vm_table_alloc("web"));
	vm_table_free(a);
	vm_table_free(b);
	fill(vms);
	assert_false(vm_table_has_free_slot());
	assert_null(vm_table_alloc_tenant("x"));
	vm_table_free(vms[3]);
	assert_true(vm_table_has_free_slot());
	assert_int_equal(vm_table_alloc_tenant("x")->id, 4);
}

/* A VM restored from its kept record takes exactly its old id, or none. */
static void test_alloc_tenant_at(void **state)
{
	(void)state;
	struct vm *first = vm_table_alloc_tenant("tpgvm-like");
	assert_int_equal(first->id, 1);
	struct vm *at5 = vm_table_alloc_tenant_at(5, "web");
	assert_non_null(at5);
	assert_int_equal(at5->id, 5);
	assert_int_equal(at5->owner, frame_owner_vm(5));
	assert_null(vm_table_alloc_tenant_at(5, "other"));  /* taken */
	assert_null(vm_table_alloc_tenant_at(1, "other"));
	assert_null(vm_table_alloc_tenant_at(0, "other"));  /* no slot 0 */
	assert_null(vm_table_alloc_tenant_at(VM_MAX + 1, "other"));
	assert_null(vm_table_alloc_tenant_at(6, ""));
	assert_int_equal(vm_table_alloc_tenant_at(VM_MAX, "last")->id, VM_MAX);
	/* The first-free allocation goes around the slots taken by id. */
	assert_int_equal(vm_table_alloc_tenant("next")->id, 2);
}

/* ---- owners, for the barriers between VMs (docs/vm-exits.md) ---------- */

static struct vm *tenant_vm(const char *name, uint8_t owner_byte)
{
	struct vm *vm = vm_table_alloc_tenant(name);

	assert_non_null(vm);
	vm->tenant.active = true;
	memset(vm->tenant.owner, owner_byte, HC_OWNER_LEN);
	return vm;
}

static bool same_owner(const struct vm *a, const struct vm *b)
{
	struct vm_principal pa, pb;

	vm_principal_of(a, &pa);
	vm_principal_of(b, &pb);
	return vm_principal_same(&pa, &pb);
}

static void test_principal_tenants_by_identity(void **state)
{
	struct vm *a1, *a2, *b1;

	(void)state;
	a1 = tenant_vm("web", 0xa1);
	a2 = tenant_vm("db", 0xa1);
	b1 = tenant_vm("web", 0xb2);
	assert_true(same_owner(a1, a1));
	assert_true(same_owner(a1, a2));   /* one tenant's VMs: one owner */
	assert_false(same_owner(a1, b1));
	/* One byte of the identity is enough to differ. */
	a2->tenant.owner[HC_OWNER_LEN - 1] ^= 1;
	assert_false(same_owner(a1, a2));
}

static void test_principal_others_each_their_own(void **state)
{
	struct vm *tpgvm, *mod1, *mod2, *t;

	(void)state;
	tpgvm = vm_table_alloc("tpgvm");
	tpgvm->is_tpgvm = true;
	mod1 = vm_table_alloc("hello");
	mod2 = vm_table_alloc("counter");
	t = tenant_vm("t", 0);          /* an all-zero identity... */
	assert_true(same_owner(mod1, mod1));
	assert_false(same_owner(mod1, mod2));
	assert_false(same_owner(tpgvm, mod1));
	assert_false(same_owner(tpgvm, t)); /* ...is still not the TPGVM's */
	assert_false(same_owner(mod1, t));
	assert_false(same_owner(t, mod2));
}

static void test_principal_outlives_its_slot(void **state)
{
	struct vm_principal before, after;
	struct vm *vm;
	unsigned id;

	(void)state;
	vm = vm_table_alloc("first");
	id = vm->id;
	vm_principal_of(vm, &before);
	vm_table_free(vm);
	/* The same slot (same id, same frame owner) for another VM: another
	 * principal. */
	vm = vm_table_alloc("second");
	assert_int_equal(vm->id, id);
	vm_principal_of(vm, &after);
	assert_false(vm_principal_same(&before, &after));
	vm_table_free(vm);
	vm = vm_table_alloc("first");
	vm_principal_of(vm, &after);
	assert_false(vm_principal_same(&before, &after)); /* even the same name */
	/* A tenant VM in a reused slot is its tenant's, whoever had it. */
	vm_table_free(vm);
	vm = tenant_vm("first", 0x11);
	vm_principal_of(vm, &after);
	assert_false(vm_principal_same(&before, &after));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_alloc_ids_and_owners),
		T(test_table_full),
		T(test_duplicate_names),
		T(test_duplicate_of_stopped_or_runnable),
		T(test_bad_names),
		T(test_free_and_reuse),
		T(test_free_scrubs_console),
		T(test_get_out_of_range),
		T(test_next_runnable_none),
		T(test_next_runnable_round_robin),
		T(test_next_runnable_single),
		T(test_set_stopped_reason),
		T(test_set_stopped_long_reason),
		T(test_alloc_tenant),
		T(test_alloc_tenant_at),
		T(test_principal_tenants_by_identity),
		T(test_principal_others_each_their_own),
		T(test_principal_outlives_its_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
