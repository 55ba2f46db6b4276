/*
 * Tests of the tenant VM lifecycle policy (tcb/lifecycle.c) through
 * hypercall_handle(), as the TPGVM calls it. The mechanism is a fake built
 * on a real frame table over fake RAM: a VM's memory is frames the table
 * gives it, so "an error changes nothing" is checked as "the frame table's
 * owner array is byte for byte what it was". Sealing runs the real
 * tcb/seal.c and crypto layer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/byteorder.h"
#include "tcb/frame_table.h"
#include "tcb/hypercall.h"
#include "tcb/lifecycle.h"
#include "tcb/linux_measure.h"
#include "tcb/timebase.h"

#define NFRAMES     9000u
#define CALLER_MEM  (1u << 20)
#define VM_MEM      (2u << 20)
#define VM_PAGES    (VM_MEM / 4096)

/* Where requests and buffers go in the caller's (the TPGVM's) memory. */
#define REQ_GPA     0x1000u
#define IMAGE_GPA   0x10000u
#define INIT_GPA    0x20000u
#define SECRETS_GPA 0x21000u
#define OUT_GPA     0x30000u
#define BLOB_GPA    0x40000u
#define BLOB2_GPA   0x80000u
#define BLOB_CAP    0x40000u
#define IN_GPA      0xc0000u /* console input: up to 4 KiB */

static uint8_t *ram;
static frame_owner_t owners[NFRAMES];
static uint64_t known_zero[(NFRAMES + 63) / 64];
static struct frame_table ft;
static uint64_t vm_pfn[VM_MAX + 1][VM_PAGES];
static bool vm_has[VM_MAX + 1];
#define EXTRA_MAX 16
static uint64_t extra_pfn[VM_MAX + 1][EXTRA_MAX];
static struct lc_regs regs[VM_MAX + 1];
static uint8_t caller[CALLER_MEM];
static char logbuf[16384];
static const uint8_t owner_a[HC_OWNER_LEN] = { 0xa1, 0xa1, 0xa1 };
static const uint8_t owner_b[HC_OWNER_LEN] = { 0xb2 };

static unsigned long zero_calls; /* frames the frame table zeroed */
static unsigned long page_calls; /* pages the TCB looked at (lc_ops.page) */

static void zero_frame(uint64_t pfn, void *ctx)
{
	(void)ctx;
	zero_calls++;
	memset(ram + pfn * 4096, 0, 4096);
}

/* ---- the fake mechanism ------------------------------------------------- */

static uint64_t m_free(void *m)
{
	(void)m;
	return ft.free_count;
}

static bool mapped[VM_MAX + 1][VM_PAGES];

/* What lifecycle_create_frames() counts beyond the pages (EPT and vCPU)
 * are TCB frames here, as in hv/; mem_alloc takes them all up front. */
static uint64_t extra_frames(const struct vm *vm)
{
	return lifecycle_create_frames(vm->mem_size) - vm->mem_size / 4096;
}

static int m_mem_alloc(void *m, struct vm *vm)
{
	uint64_t extra = extra_frames(vm);

	(void)m;
	assert_true(vm->mem_size / 4096 <= VM_PAGES && !vm_has[vm->id]);
	assert_true(extra <= EXTRA_MAX);
	if (ft.free_count < extra)
		return HC_E_NOMEM;
	for (uint64_t i = 0; i < extra; i++)
		assert_int_equal(frame_alloc(&ft, FRAME_TCB, &extra_pfn[vm->id][i]),
				 FRAME_OK);
	vm_has[vm->id] = true;
	return HC_OK;
}

static void unmap_pages(const struct vm *vm, uint64_t first, uint64_t n)
{
	for (uint64_t i = first; i < first + n; i++)
		if (mapped[vm->id][i]) {
			assert_int_equal(frame_release(&ft, vm_pfn[vm->id][i],
						       frame_owner_vm(vm->id)), FRAME_OK);
			mapped[vm->id][i] = false;
		}
}

static unsigned map_calls, unmap_calls;

static int m_mem_map(void *m, struct vm *vm, uint64_t gpa, uint64_t len)
{
	uint64_t first = gpa / 4096, n = len / 4096;

	(void)m;
	map_calls++;
	assert_true(vm_has[vm->id] && !(gpa & 4095) && !(len & 4095) && len &&
		    gpa + len <= vm->mem_size);
	for (uint64_t i = first; i < first + n; i++) {
		assert_false(mapped[vm->id][i]);
		if (frame_alloc(&ft, vm->owner, &vm_pfn[vm->id][i]) != FRAME_OK) {
			unmap_pages(vm, first, i - first);
			return HC_E_NOMEM;
		}
		mapped[vm->id][i] = true;
	}
	return HC_OK;
}

static void m_mem_unmap(void *m, struct vm *vm, uint64_t gpa, uint64_t len)
{
	(void)m;
	unmap_calls++;
	assert_true(vm_has[vm->id] && vm->state != VM_RUNNABLE);
	assert_true(!(gpa & 4095) && !(len & 4095) && gpa + len <= vm->mem_size);
	unmap_pages(vm, gpa / 4096, len / 4096);
}

static void m_mem_free(void *m, struct vm *vm)
{
	(void)m;
	assert_true(vm_has[vm->id]);
	unmap_pages(vm, 0, vm->mem_size / 4096);
	for (uint64_t i = 0; i < extra_frames(vm); i++)
		assert_int_equal(frame_release(&ft, extra_pfn[vm->id][i], FRAME_TCB),
				 FRAME_OK);
	memset(&regs[vm->id], 0, sizeof(regs[0]));
	vm_has[vm->id] = false;
}

/* A clock that moves by STEP_TICK per reading: a step covers a few units
 * of work, so every long call takes many steps. */
#define STEP_TICK ((LC_STEP_TSC + 2) / 3)
static uint64_t clock_now;
static unsigned clock_reads; /* in the current execution */

static uint64_t m_now(void *m)
{
	(void)m;
	clock_reads++;
	return clock_now += STEP_TICK;
}

static uint8_t *m_page(void *m, const struct vm *vm, uint64_t gpa)
{
	(void)m;
	assert_true(vm_has[vm->id] && gpa < vm->mem_size && !(gpa & 4095));
	assert_true(mapped[vm->id][gpa / 4096]);
	page_calls++;
	return ram + vm_pfn[vm->id][gpa / 4096] * 4096;
}

static void *m_stage(void *m, size_t len)
{
	uint64_t first, n = (len + 4095) / 4096;

	(void)m;
	if (frame_alloc_contiguous(&ft, FRAME_TCB, n, 1, &first) != FRAME_OK)
		return NULL;
	return ram + first * 4096;
}

static void m_unstage(void *m, void *p, size_t len)
{
	uint64_t first = (uint64_t)((uint8_t *)p - ram) / 4096;

	(void)m;
	for (uint64_t i = 0; i < (len + 4095) / 4096; i++)
		assert_int_equal(frame_release(&ft, first + i, FRAME_TCB), FRAME_OK);
}

static void m_vcpu_setup(void *m, struct vm *vm, const struct lc_regs *r)
{
	(void)m;
	regs[vm->id] = *r;
	/* As hv/virq.c does: the platform at power-on (a 1 GHz TSC here). */
	vplatform_init(&vm->platform, 1000000000ull, 0, clock_now);
}

#define CTX_LEN 100u

static size_t m_context_len(void *m, const struct vm *vm)
{
	(void)m;
	(void)vm;
	return CTX_LEN;
}

static size_t m_context_save(void *m, const struct vm *vm, uint8_t *buf, size_t cap)
{
	(void)m;
	assert_true(cap >= CTX_LEN);
	memset(buf, 0x77, CTX_LEN);
	memcpy(buf, &regs[vm->id], sizeof(regs[0]));
	return CTX_LEN;
}

static bool m_context_restore(void *m, struct vm *vm, const uint8_t *buf, size_t len)
{
	(void)m;
	if (len != CTX_LEN || buf[CTX_LEN - 1] != 0x77)
		return false;
	memcpy(&regs[vm->id], buf, sizeof(regs[0]));
	return true;
}

static void m_set_runnable(void *m, struct vm *vm, bool on)
{
	(void)m;
	vm->state = on ? VM_RUNNABLE : VM_STOPPED;
}

static void m_log(void *m, const char *line)
{
	(void)m;
	strncat(logbuf, line, sizeof(logbuf) - strlen(logbuf) - 2);
	strcat(logbuf, "\n");
}

/* The platform's kept records (a TPM's NV slots in the hypervisor). */
static struct vm_record kept[VM_MAX + 1];
static bool keep_fails;

static int m_keep_record(void *m, const struct vm *vm, const struct vm_record *r)
{
	(void)m;
	if (keep_fails)
		return HC_E_INTERNAL;
	if (r)
		kept[vm->id] = *r;
	else
		kept[vm->id] = (struct vm_record){ .vm_id = vm->id };
	return HC_OK;
}

static const struct lc_ops ops = {
	.free_frames = m_free, .mem_alloc = m_mem_alloc, .mem_map = m_mem_map,
	.mem_unmap = m_mem_unmap, .mem_free = m_mem_free, .now = m_now,
	.page = m_page, .stage = m_stage, .unstage = m_unstage,
	.vcpu_setup = m_vcpu_setup,
	.context_save = m_context_save, .context_len = m_context_len,
	.context_restore = m_context_restore, .set_runnable = m_set_runnable,
	.log = m_log, .keep_record = m_keep_record,
};

/* ---- the caller ------------------------------------------------------------ */

static unsigned writes;

static bool c_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	assert_true(gpa <= CALLER_MEM && len <= CALLER_MEM - gpa);
	memcpy(buf, caller + gpa, len);
	return true;
}

static bool c_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	assert_true(gpa <= CALLER_MEM && len <= CALLER_MEM - gpa);
	memcpy(caller + gpa, buf, len);
	writes++;
	return true;
}

static void c_put(void *ctx, char c)
{
	(void)ctx;
	(void)c;
	fail_msg("a lifecycle call wrote to the caller's console");
}

static struct hc_env env = {
	.mem_size = CALLER_MEM,
	.is_tpgvm = true,
	.read_guest = c_read,
	.write_guest = c_write,
	.console_put = c_put,
	.lc = &ops,
};

static unsigned last_steps; /* executions the last call took */
static unsigned max_reads;  /* most clock readings in one execution */

/* One execution of the TPGVM's VMCALL. As in the hypervisor, its env is
 * its own (there, on the stack of the exit): a job that goes on over
 * several executions must not keep a pointer to an earlier one's, so the
 * executions take turns between two and poison each afterwards. */
static void hc_once(const struct hc_call *c, struct hc_result *res)
{
	static struct hc_env turns[2];
	static unsigned turn;
	struct hc_env *e = &turns[turn++ % 2];

	*e = env;
	clock_reads = 0;
	hypercall_handle(c, e, res);
	memset(e, 0xa5, sizeof(*e));
	if (clock_reads > max_reads)
		max_reads = clock_reads;
}

/* The VMCALL, executed again as long as the TCB says so. */
static int64_t hc(uint64_t nr, const void *req, size_t len)
{
	struct hc_call c = { .nr = nr, .arg = { REQ_GPA, 0, 0, 0 } };
	struct hc_result res;

	memcpy(caller + REQ_GPA, req, len);
	last_steps = 0;
	do {
		assert_true(++last_steps < 100000);
		hc_once(&c, &res);
	} while (res.effect == HC_EFFECT_RESTART);
	assert_int_equal(res.effect, HC_EFFECT_NONE);
	return res.ret;
}

/* ---- a tiny ELF image: one R+X PT_LOAD at 0x100000 ------------------------ */

static size_t make_elf(uint8_t *out)
{
	static const uint8_t code[16] = { 0xeb, 0xfe, 0x90, 0x90, 1, 2, 3, 4 };
	size_t len = 64 + 56 + sizeof(code);

	memset(out, 0, len);
	memcpy(out, "\x7f" "ELF", 4);
	out[4] = 2; /* ELFCLASS64 */
	out[5] = 1; /* little-endian */
	out[6] = 1; /* EV_CURRENT */
	out[16] = 2; /* ET_EXEC */
	out[18] = 62; /* EM_X86_64 */
	out[20] = 1;
	uint64_t entry = 0x100000, phoff = 64;
	memcpy(out + 24, &entry, 8);
	memcpy(out + 32, &phoff, 8);
	out[52] = 64; /* e_ehsize */
	out[54] = 56; /* e_phentsize */
	out[56] = 1;  /* e_phnum */
	uint8_t *ph = out + 64;
	uint32_t type = 1, flags = 5;
	uint64_t off = 120, addr = 0x100000, sz = sizeof(code);
	memcpy(ph, &type, 4);
	memcpy(ph + 4, &flags, 4);
	memcpy(ph + 8, &off, 8);
	memcpy(ph + 16, &addr, 8);
	memcpy(ph + 24, &addr, 8);
	memcpy(ph + 32, &sz, 8);
	memcpy(ph + 40, &sz, 8);
	memcpy(out + 120, code, sizeof(code));
	return len;
}

static size_t image_len;
static const char init[] = "some init data";
static const char secrets[] = "PASSWORD=hunter2\0ROLE=db\0";
static uint8_t salt[HC_SALT_LEN];

static struct hc_vm_ref ref(uint32_t id, const uint8_t *owner)
{
	struct hc_vm_ref r = { .vm_id = id };

	memcpy(r.owner, owner, HC_OWNER_LEN);
	return r;
}

static int64_t create(const char *name, uint64_t mem, const uint8_t *owner)
{
	struct hc_vm_create c = { .ref = ref(0, owner), .mem_size = mem };

	strncpy(c.name, name, sizeof(c.name));
	return hc(HC_VM_CREATE, &c, sizeof(c));
}

static struct hc_vm_load load_req(uint32_t id, const uint8_t *owner)
{
	struct hc_vm_load l = {
		.ref = ref(id, owner),
		.image_gpa = IMAGE_GPA, .image_len = image_len,
		.init_gpa = INIT_GPA, .init_len = sizeof(init) - 1,
		.secrets_gpa = SECRETS_GPA, .secrets_len = sizeof(secrets) - 1,
	};

	memcpy(l.secrets_salt, salt, sizeof(salt));
	return l;
}

static int64_t load(uint32_t id, const uint8_t *owner)
{
	struct hc_vm_load l = load_req(id, owner);

	return hc(HC_VM_LOAD, &l, sizeof(l));
}

static int64_t start(uint32_t id, const uint8_t *owner, uint64_t gpa, uint64_t len)
{
	struct hc_vm_start s = { .ref = ref(id, owner), .blob_gpa = gpa, .blob_len = len };

	return hc(HC_VM_START, &s, sizeof(s));
}

static int64_t stop(uint32_t id, const uint8_t *owner, uint64_t gpa, uint64_t cap)
{
	struct hc_vm_stop s = { .ref = ref(id, owner), .out_gpa = gpa, .out_cap = cap };

	return hc(HC_VM_STOP, &s, sizeof(s));
}

static int64_t destroy(uint32_t id, const uint8_t *owner)
{
	struct hc_vm_ref r = ref(id, owner);

	return hc(HC_VM_DESTROY, &r, sizeof(r));
}

static int64_t query(uint32_t id, const uint8_t *owner, uint64_t cap)
{
	struct hc_vm_query q = { .ref = ref(id, owner), .out_gpa = OUT_GPA, .out_cap = cap };

	return hc(HC_VM_QUERY, &q, sizeof(q));
}

static int64_t console(uint32_t id, const uint8_t *owner, uint64_t cap)
{
	struct hc_vm_console_read c = { .ref = ref(id, owner), .out_gpa = OUT_GPA,
					.out_cap = cap };

	return hc(HC_VM_CONSOLE_READ, &c, sizeof(c));
}

static int64_t console_input(uint32_t id, const uint8_t *owner, uint64_t gpa,
			     uint64_t len)
{
	struct hc_vm_console_input c = { .ref = ref(id, owner), .in_gpa = gpa,
					 .in_len = len };

	return hc(HC_VM_CONSOLE_INPUT, &c, sizeof(c));
}

/* What the guest reads from its COM1: bytes while LSR says data ready. */
static size_t uart_drain(struct vm *vm, uint8_t *out, size_t cap)
{
	size_t n = 0;

	while (n < cap) {
		struct vio_access lsr = { .port = 0x3fd, .size = 1, .in = true };
		struct vio_access rbr = { .port = 0x3f8, .size = 1, .in = true };

		assert_int_equal(vplatform_io(&vm->platform, &lsr, clock_now), VIO_DONE);
		if (!(lsr.value & 1))
			break;
		assert_int_equal(vplatform_io(&vm->platform, &rbr, clock_now), VIO_DONE);
		out[n++] = (uint8_t)rbr.value;
	}
	return n;
}

static struct hc_vm_info *info(unsigned i)
{
	return (struct hc_vm_info *)(caller + OUT_GPA) + i;
}

static uint32_t running_vm_named(const char *name)
{
	int64_t id = create(name, VM_MEM, owner_a);

	assert_true(id > 0);
	assert_int_equal(load((uint32_t)id, owner_a), 0);
	assert_int_equal(start((uint32_t)id, owner_a, 0, 0), 0);
	return (uint32_t)id;
}

static uint32_t running_vm(void)
{
	return running_vm_named("web");
}

/* ---- fixtures --------------------------------------------------------------- */

static frame_owner_t initial_owners[NFRAMES];

static int setup(void **state)
{
	(void)state;
	if (!ram) {
		ram = aligned_alloc(4096, (size_t)NFRAMES * 4096);
		if (!ram || crypto_init() != CRYPTO_OK)
			return -1;
	}
	frame_table_init(&ft, owners, known_zero, NFRAMES, zero_frame, NULL);
	frame_table_add_usable(&ft, 4 * 4096, (NFRAMES - 4) * 4096ull);
	frame_table_seal(&ft);
	memcpy(initial_owners, owners, sizeof(owners));
	memset(caller, 0, sizeof(caller));
	image_len = make_elf(caller + IMAGE_GPA);
	memcpy(caller + INIT_GPA, init, sizeof(init) - 1);
	memcpy(caller + SECRETS_GPA, secrets, sizeof(secrets) - 1);
	for (unsigned i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)(3 * i + 1);
	logbuf[0] = '\0';
	memset(kept, 0, sizeof(kept));
	keep_fails = false;
	env.is_tpgvm = true;
	env.lc = &ops;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	lifecycle_destroy_all(&ops, NULL);
	/* Nothing left behind: the table is exactly as at the start. */
	assert_memory_equal(owners, initial_owners, sizeof(owners));
	assert_true(frame_table_check(&ft));
	return 0;
}

/* ---- pure rules --------------------------------------------------------------- */

static void test_name_rules(void **state)
{
	char n[HC_VM_NAME_MAX];

	(void)state;
	memset(n, 0, sizeof(n));
	strcpy(n, "a-b_c9");
	assert_true(lifecycle_name_ok(n));
	memset(n, 'x', HC_VM_NAME_MAX - 1);
	assert_true(lifecycle_name_ok(n)); /* 31 characters + NUL */
	memset(n, 'x', HC_VM_NAME_MAX);
	assert_false(lifecycle_name_ok(n)); /* no NUL */
	memset(n, 0, sizeof(n));
	assert_false(lifecycle_name_ok(n)); /* empty */
	strcpy(n, "Web");
	assert_false(lifecycle_name_ok(n));
	strcpy(n, "a b");
	assert_false(lifecycle_name_ok(n));
	strcpy(n, "a.b");
	assert_false(lifecycle_name_ok(n));
}

static void test_mem_rules(void **state)
{
	(void)state;
	assert_true(lifecycle_mem_ok(GUEST_MEM_MIN));
	assert_true(lifecycle_mem_ok(GUEST_MEM_MAX));
	assert_true(lifecycle_mem_ok(32u << 20));
	assert_false(lifecycle_mem_ok(0));
	assert_false(lifecycle_mem_ok(GUEST_MEM_MIN - 4096));
	assert_false(lifecycle_mem_ok(3u << 20));
	assert_false(lifecycle_mem_ok(GUEST_MEM_MAX + GUEST_MEM_ALIGN));
	assert_false(lifecycle_mem_ok(UINT64_MAX - 0x1fffff));
}

static void test_secrets_rules(void **state)
{
	(void)state;
	assert_true(lifecycle_secrets_ok("", 0));
	assert_true(lifecycle_secrets_ok("A=b", 4));
	assert_true(lifecycle_secrets_ok("A=", 3)); /* empty value */
	assert_true(lifecycle_secrets_ok("A=b\0key.x-1=\x01\xff\0", 15));
	assert_false(lifecycle_secrets_ok("A=b", 3));    /* no NUL */
	assert_false(lifecycle_secrets_ok("=b", 3));     /* empty key */
	assert_false(lifecycle_secrets_ok("Ab", 3));     /* no '=' */
	assert_false(lifecycle_secrets_ok("\0", 1));     /* empty string */
	assert_false(lifecycle_secrets_ok("A b=c", 6));  /* bad key char */
	assert_false(lifecycle_secrets_ok("A=b\0\0", 5));
}

/* ---- privilege -------------------------------------------------------------------- */

static void test_not_tpgvm_denied_no_mechanism_nosys(void **state)
{
	(void)state;
	env.is_tpgvm = false;
	for (uint64_t nr = HC_LIFECYCLE_FIRST; nr <= HC_LIFECYCLE_LAST; nr++)
		assert_int_equal(hc(nr, "", 0), HC_E_DENIED);
	env.is_tpgvm = true;
	env.lc = NULL;
	for (uint64_t nr = HC_LIFECYCLE_FIRST; nr <= HC_LIFECYCLE_LAST; nr++)
		assert_int_equal(hc(nr, "", 0), HC_E_NOSYS);
	env.lc = &ops;
}

/* ---- create ------------------------------------------------------------------------ */

static void test_create_rules(void **state)
{
	struct hc_vm_create c = { .ref = ref(0, owner_a), .mem_size = VM_MEM };

	(void)state;
	strcpy(c.name, "web");
	c.ref.reserved = 1;
	assert_int_equal(hc(HC_VM_CREATE, &c, sizeof(c)), HC_E_INVAL);
	c.ref.reserved = 0;
	c.ref.vm_id = 3;
	assert_int_equal(hc(HC_VM_CREATE, &c, sizeof(c)), HC_E_INVAL);
	assert_int_equal(create("Web", VM_MEM, owner_a), HC_E_INVAL);
	assert_int_equal(create("web", VM_MEM + 4096, owner_a), HC_E_INVAL);
	assert_int_equal(create("web", 0, owner_a), HC_E_INVAL);
	assert_memory_equal(owners, initial_owners, sizeof(owners));
	int64_t id = create("web", VM_MEM, owner_a);
	assert_true(id > 0);
	assert_int_equal(create("web", VM_MEM, owner_a), HC_E_INVAL); /* same owner */
	assert_true(create("web", VM_MEM, owner_b) > 0);  /* names are per owner */
	assert_non_null(strstr(logbuf, " created (2 MiB)"));
	/* the host reads this log: no tenant-chosen name in it */
	assert_null(strstr(logbuf, "web"));
	/* The request struct outside the caller's memory. */
	struct hc_call call = { .nr = HC_VM_CREATE, .arg = { CALLER_MEM - 8 } };
	struct hc_result res;
	hypercall_handle(&call, &env, &res);
	assert_int_equal(res.ret, HC_E_FAULT);
}

static void test_create_nomem_changes_nothing(void **state)
{
	frame_owner_t before[NFRAMES];
	uint64_t hog;

	(void)state;
	/* Leave fewer free frames than a 2 MiB VM needs, but not none. */
	while (ft.free_count > lifecycle_create_frames(VM_MEM) - 1)
		assert_int_equal(frame_alloc(&ft, frame_owner_vm(999), &hog), FRAME_OK);
	memcpy(before, owners, sizeof(owners));
	uint64_t free_before = ft.free_count;
	assert_int_equal(create("big", VM_MEM, owner_a), HC_E_NOMEM);
	assert_memory_equal(owners, before, sizeof(owners));
	assert_int_equal(ft.free_count, free_before);
	assert_int_equal(query(0, owner_a, 4 * sizeof(struct hc_vm_info)), 0);
	assert_non_null(strstr(logbuf, "create refused: not enough memory"));
	assert_null(strstr(logbuf, "big"));
	for (uint64_t p = 0; p < NFRAMES; p++)
		if (frame_owner(&ft, p) == frame_owner_vm(999))
			frame_release(&ft, p, frame_owner_vm(999));
}

static void test_table_full_is_inval(void **state)
{
	char name[8];
	int64_t made = 0;

	(void)state;
	for (unsigned i = 0; i < VM_MAX; i++) {
		snprintf(name, sizeof(name), "v%u", i);
		if (create(name, GUEST_MEM_MIN, owner_a) > 0)
			made++;
	}
	assert_int_equal(made, VM_MAX);
	assert_int_equal(create("one-more", GUEST_MEM_MIN, owner_a), HC_E_INVAL);
}

/* ---- owner isolation ----------------------------------------------------------------- */

static void test_other_owner_gets_notfound(void **state)
{
	(void)state;
	uint32_t id = running_vm();

	/* Exactly the answer for an id that does not exist. */
	for (uint32_t vm = id; vm <= id + 1; vm++) {
		const uint8_t *o = vm == id ? owner_b : owner_a;
		assert_int_equal(load(vm, o), HC_E_NOTFOUND);
		assert_int_equal(start(vm, o, 0, 0), HC_E_NOTFOUND);
		assert_int_equal(stop(vm, o, BLOB_GPA, BLOB_CAP), HC_E_NOTFOUND);
		assert_int_equal(query(vm, o, sizeof(struct hc_vm_info)), HC_E_NOTFOUND);
		assert_int_equal(console(vm, o, 100), HC_E_NOTFOUND);
		assert_int_equal(destroy(vm, o), HC_E_NOTFOUND);
	}
	/* Even with otherwise bad arguments: NOTFOUND, never INVAL/FAULT. */
	struct hc_vm_load l = load_req(id, owner_b);
	l.image_len = 0;
	l.secrets_gpa = CALLER_MEM;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_NOTFOUND);
	assert_int_equal(stop(id, owner_b, CALLER_MEM, 1), HC_E_NOTFOUND);
	assert_int_equal(query(0, owner_b, 4 * sizeof(struct hc_vm_info)), 0);
	assert_int_equal(query(0, owner_a, 4 * sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->vm_id, id);
	assert_int_equal(info(0)->state, HC_VM_RUNNING);
}

/* ---- state machine ---------------------------------------------------------------------- */

static void test_state_machine(void **state)
{
	(void)state;
	int64_t id = create("sm", VM_MEM, owner_a);
	uint32_t v = (uint32_t)id;

	/* CREATED */
	assert_int_equal(start(v, owner_a, 0, 0), HC_E_STATE);
	assert_int_equal(stop(v, owner_a, BLOB_GPA, BLOB_CAP), HC_E_STATE);
	assert_int_equal(query(v, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_CREATED);
	/* LOADED */
	assert_int_equal(load(v, owner_a), 0);
	assert_int_equal(load(v, owner_a), HC_E_STATE);
	assert_int_equal(stop(v, owner_a, BLOB_GPA, BLOB_CAP), HC_E_STATE);
	assert_int_equal(start(v, owner_a, BLOB_GPA, 10), HC_E_INVAL); /* no blob */
	/* RUNNING */
	assert_int_equal(start(v, owner_a, 0, 0), 0);
	assert_int_equal(start(v, owner_a, 0, 0), HC_E_STATE);
	assert_int_equal(load(v, owner_a), HC_E_STATE);
	/* EXITED */
	struct vm *vm = vm_table_get(v);
	vm_set_stopped(vm, VM_STOPPED, "exited with code 7");
	lifecycle_exited(vm);
	assert_int_equal(query(v, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_EXITED);
	assert_string_equal(info(0)->stop_reason, "exited with code 7");
	assert_true(info(0)->seal_size > 0);
	assert_int_equal(start(v, owner_a, 0, 0), HC_E_STATE);
	/* SEALED */
	int64_t len = stop(v, owner_a, BLOB_GPA, BLOB_CAP);
	assert_true(len > 0);
	assert_int_equal(stop(v, owner_a, BLOB_GPA, BLOB_CAP), HC_E_STATE);
	assert_int_equal(load(v, owner_a), HC_E_STATE);
	assert_int_equal(destroy(v, owner_a), 0);
}

/* ---- load and the launch measurement -------------------------------------------------------- */

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void test_launch_measurement_independent(void **state)
{
	uint8_t buf[18 + 32 + 8 + 3 * 40], want[48], inner[HC_SALT_LEN + sizeof(secrets)];
	size_t at = 0;

	(void)state;
	memcpy(buf, "CUSTOS-VM-LAUNCH-2", 18);
	at = 18;
	memset(buf + at, 0, 32);
	memcpy(buf + at, "web", 3);
	at += 32;
	put64(buf + at, VM_MEM);
	at += 8;
	crypto_sha256(caller + IMAGE_GPA, image_len, buf + at);
	put64(buf + at + 32, image_len);
	at += 40;
	crypto_sha256(init, sizeof(init) - 1, buf + at);
	put64(buf + at + 32, sizeof(init) - 1);
	at += 40;
	memcpy(inner, salt, HC_SALT_LEN);
	memcpy(inner + HC_SALT_LEN, secrets, sizeof(secrets) - 1);
	crypto_sha256(inner, HC_SALT_LEN + sizeof(secrets) - 1, buf + at);
	put64(buf + at + 32, sizeof(secrets) - 1);
	at += 40;
	assert_int_equal(at, sizeof(buf));
	crypto_sha384(buf, sizeof(buf), want);

	int64_t id = create("web", VM_MEM, owner_a);
	assert_int_equal(load((uint32_t)id, owner_a), 0);
	assert_int_equal(query((uint32_t)id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_memory_equal(info(0)->measurement, want, 48);
	/* No secret in any log line. */
	assert_null(strstr(logbuf, "hunter2"));
	assert_non_null(strstr(logbuf, "loaded, measurement "));
}

static void test_load_places_everything(void **state)
{
	(void)state;
	int64_t id = create("web", VM_MEM, owner_a);
	struct vm *vm = vm_table_get((uint32_t)id);

	timebase_set(2400000000ull); /* what the hypervisor measured at boot */
	assert_int_equal(load((uint32_t)id, owner_a), 0);
	const struct custos_boot_info *bi =
		(const void *)m_page(NULL, vm, GUEST_BOOT_INFO_GPA);
	assert_int_equal(bi->magic, CUSTOS_BOOT_INFO_MAGIC);
	assert_int_equal(bi->abi_version, CUSTOS_ABI_VERSION);
	assert_int_equal(bi->tsc_hz, 2400000000ull);
	assert_int_equal(bi->vm_id, id);
	assert_int_equal(bi->mem_size, VM_MEM);
	assert_string_equal(bi->name, "web");
	assert_int_equal(bi->init_data_gpa, 0x101000);
	assert_int_equal(bi->init_data_size, sizeof(init) - 1);
	assert_int_equal(bi->secrets_gpa, 0x102000);
	assert_int_equal(bi->secrets_size, sizeof(secrets) - 1);
	assert_memory_equal(m_page(NULL, vm, 0x101000), init, sizeof(init) - 1);
	assert_memory_equal(m_page(NULL, vm, 0x102000), secrets, sizeof(secrets) - 1);
	assert_memory_equal(m_page(NULL, vm, 0x100000), caller + IMAGE_GPA + 120, 16);
	assert_int_equal(regs[id].rip, 0x100000);
	assert_int_equal(regs[id].rsp, VM_MEM);
	assert_int_equal(regs[id].rdi, GUEST_BOOT_INFO_GPA);
	assert_int_equal(regs[id].cr3, GUEST_PAGE_TABLES_GPA);
	assert_int_equal(regs[id].rsi, 0);
	assert_int_equal(regs[id].cs, GUEST_SEL_CODE);
	assert_int_equal(regs[id].ds, GUEST_SEL_DATA);
	assert_int_equal(regs[id].gdt_limit, 3 * 8 - 1);
}

static void test_load_refusals_change_nothing(void **state)
{
	(void)state;
	int64_t id = create("web", VM_MEM, owner_a);
	uint32_t v = (uint32_t)id;
	struct hc_vm_load l;
	frame_owner_t before[NFRAMES];

	memcpy(before, owners, sizeof(owners));
	l = load_req(v, owner_a);
	l.image_len = 0;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_INVAL);
	l = load_req(v, owner_a);
	l.image_len = HC_VM_IMAGE_MAX + 1;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_INVAL);
	l = load_req(v, owner_a);
	l.init_len = HC_VM_INIT_MAX + 1;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_INVAL);
	l = load_req(v, owner_a);
	l.secrets_len = HC_VM_SECRETS_MAX + 1;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_INVAL);
	l = load_req(v, owner_a);
	l.image_gpa = CALLER_MEM - 10;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_FAULT);
	l = load_req(v, owner_a);
	l.init_gpa = UINT64_MAX;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_FAULT);
	l = load_req(v, owner_a);
	l.secrets_len = sizeof(secrets) - 2; /* last string cut */
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_INVAL);
	l = load_req(v, owner_a);
	l.ref.reserved = 5;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_INVAL);
	caller[IMAGE_GPA + 18] = 3; /* not x86-64: the ELF loader refuses */
	assert_int_equal(load(v, owner_a), HC_E_INVAL);
	caller[IMAGE_GPA + 18] = 62;
	assert_memory_equal(owners, before, sizeof(owners));
	for (uint64_t gpa = 0; gpa < VM_MEM; gpa += 4096) {
		const uint8_t *p = m_page(NULL, vm_table_get(v), gpa);
		for (unsigned i = 0; i < 4096; i++)
			assert_int_equal(p[i], 0);
	}
	assert_int_equal(query(v, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_CREATED);
	assert_int_equal(load(v, owner_a), 0);
}

/* Start of the LOADED VM does not look at its memory again (nothing but
 * the TCB can have written it: docs/lifecycle.md, "Boot-state
 * verification") and takes one execution. */
static void test_start_of_loaded_vm_reads_no_page(void **state)
{
	(void)state;
	int64_t id = create("web", VM_MEM, owner_a);
	struct vm *vm = vm_table_get((uint32_t)id);

	assert_int_equal(load((uint32_t)id, owner_a), 0);
	page_calls = 0;
	assert_int_equal(start((uint32_t)id, owner_a, 0, 0), 0);
	assert_int_equal(page_calls, 0);
	assert_int_equal(last_steps, 1);
	assert_int_equal(vm->state, VM_RUNNABLE);
	assert_non_null(strstr(logbuf, " started"));
	assert_null(strstr(logbuf, "web"));
}

/* ---- Linux guests (HC_BOOT_LINUX64) ---------------------------------------- */

#define BZ_GPA     0xc0000u
#define INITRD_GPA 0xd0000u
#define KCMD_GPA   0xe0000u
#define BZ_KERNEL  8192u
#define BZ_LEN     (5u * 512u + BZ_KERNEL)
#define INITRD_LEN 5000u
static const char kcmd[] = "console=ttyS0 quiet";

/* A synthetic bzImage (protocol 2.15) for a kernel at 1 MiB needing
 * 256 KiB, so it fits the tests' 2 MiB VMs. */
static void make_bzimage(uint8_t *b)
{
	uint64_t pref = 0x100000;
	uint32_t u32;
	uint16_t u16;

	memset(b, 0, BZ_LEN);
	b[0x1f1] = 4;
	u32 = BZ_KERNEL / 16;
	memcpy(b + 0x1f4, &u32, 4);
	b[0x1fe] = 0x55;
	b[0x1ff] = 0xaa;
	b[0x200] = 0xeb;
	b[0x201] = 0x6a;
	memcpy(b + 0x202, "HdrS", 4);
	u16 = 0x020f;
	memcpy(b + 0x206, &u16, 2);
	b[0x211] = 0x81;
	u32 = 0x7fffffff;
	memcpy(b + 0x22c, &u32, 4);
	u32 = 0x100000;
	memcpy(b + 0x230, &u32, 4);
	u16 = 0x7f;
	memcpy(b + 0x236, &u16, 2);
	u32 = 2047;
	memcpy(b + 0x238, &u32, 4);
	memcpy(b + 0x258, &pref, 8);
	u32 = 0x40000;
	memcpy(b + 0x260, &u32, 4);
	for (unsigned i = 5 * 512; i < BZ_LEN; i++)
		b[i] = (uint8_t)(i * 13 + 1);
	for (unsigned i = 0; i < INITRD_LEN; i++)
		caller[INITRD_GPA + i] = (uint8_t)(i * 5 + 3);
	memcpy(caller + KCMD_GPA, kcmd, sizeof(kcmd));
}

static struct hc_vm_load linux_req(uint32_t id, const uint8_t *owner)
{
	struct hc_vm_load l = {
		.ref = ref(id, owner),
		.image_gpa = BZ_GPA, .image_len = BZ_LEN,
		.boot_protocol = HC_BOOT_LINUX64,
		.initrd_gpa = INITRD_GPA, .initrd_len = INITRD_LEN,
		.cmdline_gpa = KCMD_GPA, .cmdline_len = sizeof(kcmd),
	};

	return l;
}

static int64_t linux_load(uint32_t id, const uint8_t *owner)
{
	struct hc_vm_load l = linux_req(id, owner);

	return hc(HC_VM_LOAD, &l, sizeof(l));
}

static void test_linux_load_places_everything(void **state)
{
	uint8_t dk[32], di[32], dc[32], want[48];

	(void)state;
	make_bzimage(caller + BZ_GPA);
	int64_t id = create("tux", VM_MEM, owner_a);
	struct vm *vm = vm_table_get((uint32_t)id);

	assert_int_equal(linux_load((uint32_t)id, owner_a), 0);
	/* the protected-mode kernel at pref_address */
	assert_memory_equal(m_page(NULL, vm, 0x100000), caller + BZ_GPA + 5 * 512, 4096);
	assert_memory_equal(m_page(NULL, vm, 0x101000), caller + BZ_GPA + 5 * 512 + 4096, 4096);
	/* the initrd page-aligned at the top */
	assert_memory_equal(m_page(NULL, vm, VM_MEM - 0x2000), caller + INITRD_GPA, 4096);
	assert_memory_equal(m_page(NULL, vm, VM_MEM - 0x1000), caller + INITRD_GPA + 4096,
			    INITRD_LEN - 4096);
	/* the zero page, command line and GDT */
	const uint8_t *zp = m_page(NULL, vm, LINUX_ZERO_PAGE_GPA);
	uint32_t v32;
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(zp[0x210], 0xff);
	assert_int_equal(zp[0x211], 0x01);
	memcpy(&v32, zp + 0x228, 4);
	assert_int_equal(v32, LINUX_CMDLINE_GPA);
	memcpy(&v32, zp + 0x218, 4);
	assert_int_equal(v32, VM_MEM - 0x2000);
	memcpy(&v32, zp + 0x21c, 4);
	assert_int_equal(v32, INITRD_LEN);
	assert_int_equal(zp[0x1e8], 3);
	assert_memory_equal(m_page(NULL, vm, LINUX_CMDLINE_GPA), kcmd, sizeof(kcmd));
	uint64_t g[4];
	memcpy(g, m_page(NULL, vm, GUEST_GDT_GPA), sizeof(g));
	assert_int_equal(g[2], 0x00af9b000000ffffull);
	assert_int_equal(g[3], 0x00cf93000000ffffull);
	/* the initial registers */
	assert_int_equal(regs[id].rip, 0x100200);
	assert_int_equal(regs[id].rsi, LINUX_ZERO_PAGE_GPA);
	assert_int_equal(regs[id].rdi, 0);
	assert_int_equal(regs[id].rsp, LINUX_STACK_TOP);
	assert_int_equal(regs[id].cr3, GUEST_PAGE_TABLES_GPA);
	assert_int_equal(regs[id].cs, 0x10);
	assert_int_equal(regs[id].ds, 0x18);
	assert_int_equal(regs[id].gdt_limit, 0x1f);
	/* the measurement the TCB recorded is the one the tenant CLI predicts
	 * (tools/vm_cli.c calls linux_launch_measurement_of on the files) */
	linux_launch_measurement_of("tux", VM_MEM, caller + BZ_GPA, BZ_LEN,
				    caller + INITRD_GPA, INITRD_LEN, kcmd,
				    sizeof(kcmd), want);
	assert_int_equal(query((uint32_t)id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_memory_equal(info(0)->measurement, want, 48);
	/* and that is the definition (docs/lifecycle.md), step by step */
	crypto_sha256(caller + BZ_GPA, BZ_LEN, dk);
	crypto_sha256(caller + INITRD_GPA, INITRD_LEN, di);
	crypto_sha256(kcmd, sizeof(kcmd), dc);
	linux_launch_measurement("tux", VM_MEM, dk, BZ_LEN, di, INITRD_LEN, dc,
				 sizeof(kcmd), want);
	assert_memory_equal(info(0)->measurement, want, 48);
	/* its boot state: RSI the zero page, the boot selectors */
	assert_int_equal(regs[id].rsi, LINUX_ZERO_PAGE_GPA);
	assert_int_equal(regs[id].cs, 0x10);
	assert_int_equal(start((uint32_t)id, owner_a, 0, 0), 0);
}

static void test_linux_no_initrd_no_cmdline(void **state)
{
	struct hc_vm_load l;

	(void)state;
	make_bzimage(caller + BZ_GPA);
	int64_t id = create("tux", VM_MEM, owner_a);
	struct vm *vm = vm_table_get((uint32_t)id);

	l = linux_req((uint32_t)id, owner_a);
	l.initrd_len = 0;
	l.cmdline_len = 0;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), 0);
	const uint8_t *zp = m_page(NULL, vm, LINUX_ZERO_PAGE_GPA);
	for (unsigned i = 0x218; i < 0x220; i++)
		assert_int_equal(zp[i], 0);
	for (unsigned i = 0x228; i < 0x22c; i++)
		assert_int_equal(zp[i], 0);
}

/* Every refusal of a Linux load (and of the new fields in an ELF load)
 * changes nothing. */
static void test_linux_load_refusals(void **state)
{
	struct hc_vm_load l;
	frame_owner_t before[NFRAMES];

	(void)state;
	make_bzimage(caller + BZ_GPA);
	int64_t id = create("tux", VM_MEM, owner_a);
	uint32_t v = (uint32_t)id;

	memcpy(before, owners, sizeof(owners));
#define REFUSE(field, value, err) do { \
		l = linux_req(v, owner_a); \
		l.field = value; \
		assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), err); \
	} while (0)
	REFUSE(image_len, 0, HC_E_INVAL);
	REFUSE(image_len, HC_VM_KERNEL_MAX + 1, HC_E_INVAL);
	REFUSE(initrd_len, HC_VM_INITRD_MAX + 1, HC_E_INVAL);
	REFUSE(cmdline_len, HC_VM_CMDLINE_MAX + 1, HC_E_INVAL);
	REFUSE(init_len, 1, HC_E_INVAL);
	REFUSE(secrets_len, 1, HC_E_INVAL);
	REFUSE(boot_protocol, 2, HC_E_INVAL);
	REFUSE(reserved2, 1, HC_E_INVAL);
	REFUSE(image_gpa, CALLER_MEM - 10, HC_E_FAULT);
	REFUSE(initrd_gpa, CALLER_MEM - 10, HC_E_FAULT);
	REFUSE(initrd_gpa, UINT64_MAX, HC_E_FAULT);
	REFUSE(cmdline_gpa, CALLER_MEM - 10, HC_E_FAULT);
	REFUSE(cmdline_len, sizeof(kcmd) - 1, HC_E_INVAL);  /* no NUL */
	REFUSE(cmdline_gpa, KCMD_GPA - 1, HC_E_INVAL);      /* NUL inside */
	caller[BZ_GPA + 0x262] = 0x0f;  /* kernel [1 MiB, 1 MiB + 960 KiB) */
	REFUSE(initrd_len, 0x30000, HC_E_INVAL);            /* initrd over it */
	caller[BZ_GPA + 0x262] = 0x04;
	/* the ELF protocol takes no initrd or kernel command line */
	l = load_req(v, owner_a);
	l.initrd_len = 1;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_INVAL);
	l = load_req(v, owner_a);
	l.cmdline_len = 1;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_INVAL);
	/* an ELF image as a bzImage, a bzImage as an ELF */
	l = linux_req(v, owner_a);
	l.image_gpa = IMAGE_GPA;
	l.image_len = image_len;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_INVAL);
	l = load_req(v, owner_a);
	l.image_gpa = BZ_GPA;
	l.image_len = BZ_LEN;
	assert_int_equal(hc(HC_VM_LOAD, &l, sizeof(l)), HC_E_INVAL);
	/* the header's checks (tcb/linux_boot.c): too old, no 64-bit entry,
	 * a kernel that does not fit below 2 MiB */
	caller[BZ_GPA + 0x206] = 0x0b;
	assert_int_equal(linux_load(v, owner_a), HC_E_INVAL);
	caller[BZ_GPA + 0x206] = 0x0f;
	caller[BZ_GPA + 0x236] = 0x7e;
	assert_int_equal(linux_load(v, owner_a), HC_E_INVAL);
	caller[BZ_GPA + 0x236] = 0x7f;
	caller[BZ_GPA + 0x262] = 0x20; /* init_size 2 MiB + 256 KiB */
	assert_int_equal(linux_load(v, owner_a), HC_E_INVAL);
	caller[BZ_GPA + 0x262] = 0x04;
	assert_non_null(strstr(logbuf, "load refused: does not fit in 2 MiB"));
	assert_memory_equal(owners, before, sizeof(owners));
	for (uint64_t gpa = 0; gpa < VM_MEM; gpa += 4096) {
		const uint8_t *p = m_page(NULL, vm_table_get(v), gpa);
		for (unsigned i = 0; i < 4096; i++)
			assert_int_equal(p[i], 0);
	}
	assert_int_equal(query(v, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_CREATED);
	assert_int_equal(linux_load(v, owner_a), 0);
#undef REFUSE
}

/* ---- stop / start ------------------------------------------------------------------------------ */

/* The VM's pages that are not all zero, counted here (not by the TCB). */
static uint32_t nonzero_pages(const struct vm *vm)
{
	uint32_t n = 0;

	for (uint64_t i = 0; i < vm->mem_size / 4096; i++) {
		const uint8_t *p = ram + vm_pfn[vm->id][i] * 4096;
		for (unsigned b = 0; b < 4096; b++)
			if (p[b]) {
				n++;
				break;
			}
	}
	return n;
}

static void test_seal_round_trip(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);
	uint8_t page[4096];

	m_page(NULL, vm, 0x1f0000)[100] = 0x42; /* the guest "ran" */
	regs[id].rip = 0x100abc;
	memcpy(page, m_page(NULL, vm, 0x100000), sizeof(page));
	uint64_t size = seal_blob_size(nonzero_pages(vm), CTX_LEN);
	/* running: the most a stop could write, every page not zero */
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->seal_size, seal_blob_size(VM_PAGES, CTX_LEN));
	writes = 0;
	assert_int_equal(stop(id, owner_a, BLOB_GPA, size - 1), HC_E_INVAL);
	assert_int_equal(writes, 0);
	assert_non_null(strstr(logbuf, "stop refused: its blob"));
	assert_int_equal(vm->state, VM_RUNNABLE); /* it runs on */
	uint64_t free_running = ft.free_count;
	int64_t len = stop(id, owner_a, BLOB_GPA, BLOB_CAP);
	assert_int_equal(len, (int64_t)size);
	assert_memory_equal(caller + BLOB_GPA, "CUSTSEAL", 8);
	assert_int_equal(ft.free_count, free_running + lifecycle_create_frames(VM_MEM));
	assert_int_equal(vm->state, VM_STOPPED);
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_SEALED);
	assert_int_equal(info(0)->version, 1);
	assert_int_equal(info(0)->seal_size, 0);
	assert_non_null(strstr(logbuf, "sealed v1"));

	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len), 0);
	assert_int_equal(vm->state, VM_RUNNABLE);
	assert_int_equal(regs[id].rip, 0x100abc);
	assert_int_equal(m_page(NULL, vm, 0x1f0000)[100], 0x42);
	assert_memory_equal(m_page(NULL, vm, 0x100000), page, sizeof(page));
	assert_non_null(strstr(logbuf, "resumed from v1"));
}

static void test_rollback_and_tampering(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	int64_t len1 = stop(id, owner_a, BLOB_GPA, BLOB_CAP);

	assert_true(len1 > 0);
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len1), 0);
	int64_t len2 = stop(id, owner_a, BLOB2_GPA, BLOB_CAP);
	assert_int_equal(len2, len1);
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len1), HC_E_ROLLBACK);

	/* One flipped byte anywhere: VERIFY, and the frames as before. */
	frame_owner_t before[NFRAMES];
	memcpy(before, owners, sizeof(owners));
	uint64_t offsets[] = { 12, 20, 30, 80, 125, 140, 152, 160, 300,
			       (uint64_t)len2 - 4096 - 16 + 9, (uint64_t)len2 - 1 };
	for (size_t i = 0; i < ARRAY_SIZE(offsets); i++) {
		caller[BLOB2_GPA + offsets[i]] ^= 0x10;
		assert_int_equal(start(id, owner_a, BLOB2_GPA, (uint64_t)len2), HC_E_VERIFY);
		caller[BLOB2_GPA + offsets[i]] ^= 0x10;
		assert_memory_equal(owners, before, sizeof(owners));
	}
	assert_int_equal(start(id, owner_a, BLOB2_GPA, (uint64_t)len2 - 1), HC_E_VERIFY);
	assert_int_equal(start(id, owner_a, BLOB2_GPA, 0), HC_E_VERIFY);
	assert_int_equal(start(id, owner_a, CALLER_MEM - 8, 16), HC_E_FAULT);
	/* Another VM's blob does not open this one. */
	uint32_t other = running_vm_named("other");
	int64_t olen = stop(other, owner_a, BLOB_GPA, BLOB_CAP);
	assert_int_equal(olen, len2);
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)olen), HC_E_VERIFY);
	assert_int_equal(start(id, owner_a, BLOB2_GPA, (uint64_t)len2), 0);
}

static void test_nomem_at_start_of_sealed(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	int64_t len = stop(id, owner_a, BLOB_GPA, BLOB_CAP);
	uint64_t hog;

	while (ft.free_count > 10)
		assert_int_equal(frame_alloc(&ft, frame_owner_vm(999), &hog), FRAME_OK);
	frame_owner_t before[NFRAMES];
	memcpy(before, owners, sizeof(owners));
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len), HC_E_NOMEM);
	assert_memory_equal(owners, before, sizeof(owners));
	for (uint64_t p = 0; p < NFRAMES; p++)
		if (frame_owner(&ft, p) == frame_owner_vm(999))
			frame_release(&ft, p, frame_owner_vm(999));
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len), 0);
}

static void test_destroy_kills_the_blob(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	int64_t len = stop(id, owner_a, BLOB_GPA, BLOB_CAP);

	assert_int_equal(destroy(id, owner_a), 0);
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len), HC_E_NOTFOUND);
	assert_memory_equal(owners, initial_owners, sizeof(owners));
	/* The slot comes back with a new key: the old blob is still dead. */
	uint32_t again = running_vm();
	assert_int_equal(again, id);
	assert_int_equal(stop(id, owner_a, BLOB2_GPA, BLOB_CAP), len);
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len), HC_E_VERIFY);
	assert_int_equal(start(id, owner_a, BLOB2_GPA, (uint64_t)len), 0);
}

/* A power cycle as the TCB sees it: everything in memory is gone, and
 * what was kept comes back as SEALED VMs. */
static void reboot_with(const struct vm_record *records, size_t n)
{
	char why[96];

	lifecycle_destroy_all(&ops, NULL);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(lifecycle_restore(&records[i], why, sizeof(why)), 0);
}

static void test_records_survive_a_reboot(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);
	uint8_t key[32];

	m_page(NULL, vm, 0x1f0000)[7] = 0x99;
	int64_t len1 = stop(id, owner_a, BLOB_GPA, BLOB_CAP);
	assert_true(len1 > 0);
	assert_true(kept[id].in_use);
	assert_int_equal(kept[id].version, 1);
	assert_int_equal(kept[id].vm_id, id);
	assert_string_equal(kept[id].name, "web");
	assert_memory_equal(kept[id].owner, owner_a, HC_OWNER_LEN);
	assert_memory_equal(kept[id].key, vm->tenant.key, 32);
	assert_memory_equal(kept[id].measurement, vm->tenant.measurement, 48);
	assert_int_equal(kept[id].mem_size, VM_MEM);
	memcpy(key, vm->tenant.key, sizeof(key));
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len1), 0);
	assert_true(kept[id].in_use); /* resumed: the latest seal is still v1 */
	int64_t len2 = stop(id, owner_a, BLOB2_GPA, BLOB_CAP);
	assert_int_equal(kept[id].version, 2);

	struct vm_record rec = kept[id];
	reboot_with(&rec, 1);
	vm = vm_table_get(id);
	assert_non_null(vm);
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_SEALED);
	assert_int_equal(info(0)->version, 2);
	assert_int_equal(query(id, owner_b, sizeof(struct hc_vm_info)), HC_E_NOTFOUND);
	assert_memory_equal(vm->tenant.key, key, sizeof(key));
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len1), HC_E_ROLLBACK);
	assert_int_equal(start(id, owner_a, BLOB2_GPA, (uint64_t)len2), 0);
	assert_int_equal(m_page(NULL, vm, 0x1f0000)[7], 0x99);
	/* One that stopped itself is one after a reboot too. */
	lifecycle_exited(vm);
	int64_t len3 = stop(id, owner_a, BLOB_GPA, BLOB_CAP);
	assert_true(len3 > 0);
	assert_true(kept[id].stopped_itself);
	rec = kept[id];
	reboot_with(&rec, 1);
	vm = vm_table_get(id);
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->flags, HC_VM_INFO_STOPPED_ITSELF);
	assert_non_null(strstr(info(0)->stop_reason, "stopped itself"));
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len3), 0);
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->flags, 0);
	/* Destroyed after the reboot: the record goes, and with it the key. */
	assert_int_equal(destroy(id, owner_a), 0);
	assert_false(kept[id].in_use);
	rec = kept[id];
	lifecycle_destroy_all(&ops, NULL);
	assert_int_equal(lifecycle_restore(&rec, NULL, 0), -1);
	assert_int_equal(start(id, owner_a, BLOB2_GPA, (uint64_t)len2), HC_E_NOTFOUND);
}

/* Records set back (a TPM's state restored from a copy): the newer blob is
 * refused, and the log says the records may have been rolled back. */
static void test_records_rolled_back(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	int64_t len1 = stop(id, owner_a, BLOB_GPA, BLOB_CAP);
	struct vm_record old = kept[id];

	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len1), 0);
	int64_t len2 = stop(id, owner_a, BLOB2_GPA, BLOB_CAP);
	reboot_with(&old, 1);
	logbuf[0] = '\0';
	assert_int_equal(start(id, owner_a, BLOB2_GPA, (uint64_t)len2), HC_E_VERIFY);
	assert_non_null(strstr(logbuf, "rolled back"));
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_SEALED);
}

/* A record that cannot be kept fails the call, and nothing changed. */
static void test_record_failure_changes_nothing(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);

	keep_fails = true;
	assert_int_equal(stop(id, owner_a, BLOB_GPA, BLOB_CAP), HC_E_INTERNAL);
	assert_non_null(strstr(logbuf, "could not be kept"));
	assert_int_equal(vm->state, VM_RUNNABLE);
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_RUNNING);
	assert_int_equal(info(0)->version, 0);
	keep_fails = false;
	int64_t len = stop(id, owner_a, BLOB_GPA, BLOB_CAP);
	assert_true(len > 0);
	assert_int_equal(kept[id].version, 1);
	keep_fails = true;
	assert_int_equal(destroy(id, owner_a), HC_E_INTERNAL);
	assert_non_null(strstr(logbuf, "destroy failed"));
	assert_true(kept[id].in_use);
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_SEALED);
	keep_fails = false;
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len), 0);
	assert_int_equal(destroy(id, owner_a), 0);
	assert_false(kept[id].in_use);
}

static void test_restore_refusals(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	char why[96];

	assert_true(stop(id, owner_a, BLOB_GPA, BLOB_CAP) > 0);
	struct vm_record rec = kept[id];
	/* Its slot is taken (the VM itself, still there). */
	assert_int_equal(lifecycle_restore(&rec, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "taken"));
	/* Same owner and name in another slot. */
	rec.vm_id = id + 1;
	assert_int_equal(lifecycle_restore(&rec, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "name is taken"));
	/* A free record restores nothing. */
	rec.in_use = false;
	assert_int_equal(lifecycle_restore(&rec, why, sizeof(why)), -1);
}

static void test_many_cycles_leave_nothing(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 50; i++) {
		int64_t id = create("cycle", VM_MEM, owner_a);
		assert_true(id > 0);
		assert_int_equal(load((uint32_t)id, owner_a), 0);
		if (i % 2) {
			assert_int_equal(start((uint32_t)id, owner_a, 0, 0), 0);
			assert_true(stop((uint32_t)id, owner_a, BLOB_GPA, BLOB_CAP) > 0);
		}
		assert_int_equal(destroy((uint32_t)id, owner_a), 0);
		assert_memory_equal(owners, initial_owners, sizeof(owners));
	}
	assert_true(frame_table_check(&ft));
}

/* ---- console, query ------------------------------------------------------------------------------ */

static void test_console_read_drains(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);

	for (const char *s = "hello tenant\n"; *s; s++)
		console_ring_put(&vm->console, *s);
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->console_pending, 13);
	assert_int_equal(console(id, owner_a, 5), 5);
	assert_memory_equal(caller + OUT_GPA, "hello", 5);
	assert_int_equal(console(id, owner_a, 100), 8);
	assert_memory_equal(caller + OUT_GPA, " tenant\n", 8);
	assert_int_equal(console(id, owner_a, 100), 0);
	assert_int_equal(console(id, owner_a, CALLER_MEM), HC_E_FAULT);
	/* The ring outlives a stop. */
	console_ring_put(&vm->console, 'x');
	assert_true(stop(id, owner_a, BLOB_GPA, BLOB_CAP) > 0);
	assert_int_equal(console(id, owner_a, 100), 1);
}

/* The owner's keystrokes reach the UART's receive side of a RUNNING VM,
 * as far as its buffer takes them; nothing else takes input. */
static void test_console_input_reaches_the_uart(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);
	uint8_t got[HC_VM_CONSOLE_INPUT_MAX];
	int64_t took;

	memcpy(caller + IN_GPA, "uname -a\n", 9);
	assert_int_equal(console_input(id, owner_a, IN_GPA, 9), 9);
	assert_int_equal(uart_drain(vm, got, sizeof(got)), 9);
	assert_memory_equal(got, "uname -a\n", 9);
	assert_int_equal(console_input(id, owner_a, IN_GPA, 0), 0);

	/* A full buffer takes part and says how much: the rest is offered
	 * again later, nothing is lost or reordered. */
	for (unsigned i = 0; i < HC_VM_CONSOLE_INPUT_MAX; i++)
		caller[IN_GPA + i] = (uint8_t)('a' + i % 26);
	took = console_input(id, owner_a, IN_GPA, HC_VM_CONSOLE_INPUT_MAX);
	assert_true(took > 0 && took < HC_VM_CONSOLE_INPUT_MAX);
	assert_int_equal(console_input(id, owner_a, IN_GPA, 1), 0);
	assert_int_equal(uart_drain(vm, got, sizeof(got)), (size_t)took);
	assert_memory_equal(got, caller + IN_GPA, (size_t)took);

	/* Refusals: too long, outside the caller, another owner's, no VM. */
	assert_int_equal(console_input(id, owner_a, IN_GPA, HC_VM_CONSOLE_INPUT_MAX + 1),
			 HC_E_INVAL);
	assert_int_equal(console_input(id, owner_a, CALLER_MEM - 4, 8), HC_E_FAULT);
	assert_int_equal(console_input(id, owner_b, IN_GPA, 1), HC_E_NOTFOUND);
	assert_int_equal(console_input(id + 1, owner_a, IN_GPA, 1), HC_E_NOTFOUND);

	/* Only a running VM has a live UART. */
	assert_true(stop(id, owner_a, BLOB_GPA, BLOB_CAP) > 0);
	assert_int_equal(console_input(id, owner_a, IN_GPA, 1), HC_E_STATE);
	int64_t other = create("idle", VM_MEM, owner_a);
	assert_true(other > 0);
	assert_int_equal(console_input((uint32_t)other, owner_a, IN_GPA, 1), HC_E_STATE);
}

static void test_query_list_and_limits(void **state)
{
	(void)state;
	assert_true(create("a", VM_MEM, owner_a) > 0);
	assert_true(create("b", VM_MEM, owner_a) > 0);
	assert_true(create("c", VM_MEM, owner_b) > 0);
	assert_int_equal(query(0, owner_a, 4 * sizeof(struct hc_vm_info)), 2);
	assert_string_equal(info(0)->name, "a");
	assert_string_equal(info(1)->name, "b");
	assert_int_equal(query(0, owner_a, sizeof(struct hc_vm_info) + 10), 1);
	assert_int_equal(query(0, owner_a, 0), 0);
	assert_int_equal(query(1, owner_a, sizeof(struct hc_vm_info) - 1), HC_E_INVAL);
	assert_int_equal(query(0, owner_a, CALLER_MEM), HC_E_FAULT);
	assert_int_equal(query(0, owner_b, 4 * sizeof(struct hc_vm_info)), 1);
	assert_string_equal(info(0)->name, "c");
	/* seal_size (a scan of the VM's memory) only for the one VM asked for. */
	uint32_t r = running_vm_named("r");
	assert_int_equal(query(0, owner_a, 4 * sizeof(struct hc_vm_info)), 3);
	assert_string_equal(info(2)->name, "r");
	assert_int_equal(info(2)->state, HC_VM_RUNNING);
	assert_int_equal(info(2)->seal_size, 0);
	assert_int_equal(query(r, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_true(info(0)->seal_size > 0);
}

/* ---- one pass over memory ---------------------------------------------------------- */

/* A stop looks at each page once (the count pass, into the map), and at
 * the pages that are not zero once more to seal them; nothing else. */
static void test_stop_scans_each_page_once(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);

	for (unsigned i = 0; i < 70; i++) /* more than a chunk of the list */
		m_page(NULL, vm, 0x100000 + 4096ull * (3 * i % 200))[i] = (uint8_t)(i + 1);
	m_page(NULL, vm, VM_MEM - 4096)[4095] = 9; /* the last word's last bit */
	uint32_t n = nonzero_pages(vm);
	page_calls = 0;
	int64_t len = stop(id, owner_a, BLOB_GPA, 2 * BLOB_CAP);
	assert_int_equal(len, (int64_t)seal_blob_size(n, CTX_LEN));
	assert_int_equal(page_calls, VM_PAGES + n);
	char line[80];
	snprintf(line, sizeof(line), "sealed v1 (%u pages", n);
	assert_non_null(strstr(logbuf, line));
	/* and what it sealed comes back */
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len), 0);
	assert_int_equal(nonzero_pages(vm), n);
	assert_int_equal(m_page(NULL, vm, VM_MEM - 4096)[4095], 9);
	assert_int_equal(m_page(NULL, vm, 0x100000 + 4096ull * 9)[3], 4);
}

/* An EXITED VM's seal_size is exact: counted by the first query, kept for
 * the next ones until it runs again; a running VM's is the most a stop
 * could write, without a look at its memory. */
static void test_query_counts_an_exited_vm_once(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);

	page_calls = 0;
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(page_calls, 0);
	assert_int_equal(info(0)->seal_size, seal_blob_size(VM_PAGES, CTX_LEN));
	m_page(NULL, vm, 0x1f0000)[1] = 1;
	vm_set_stopped(vm, VM_STOPPED, "halted");
	lifecycle_exited(vm);
	uint64_t exact = seal_blob_size(nonzero_pages(vm), CTX_LEN);
	page_calls = 0;
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(page_calls, VM_PAGES);
	assert_int_equal(info(0)->seal_size, exact);
	page_calls = 0;
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(page_calls, 0);
	assert_int_equal(last_steps, 1);
	assert_int_equal(info(0)->seal_size, exact);
	int64_t len = stop(id, owner_a, BLOB_GPA, BLOB_CAP);
	assert_int_equal(len, (int64_t)exact);
	/* resumed, it runs and exits again: counted afresh */
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len), 0);
	m_page(NULL, vm, 0x1e0000)[1] = 1;
	vm_set_stopped(vm, VM_STOPPED, "halted");
	lifecycle_exited(vm);
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->seal_size, seal_blob_size(nonzero_pages(vm), CTX_LEN));
	assert_true(info(0)->seal_size > exact);
}

/* Every free frame has been handed out once since the "boot" (so each is
 * known zero): then a VM's frames are zeroed once each in its life, when
 * they are given back, and never when they are taken. */
static void test_frames_zeroed_once_per_owner(void **state)
{
	(void)state;
	static uint64_t hog[NFRAMES];
	uint64_t n = 0;

	while (frame_alloc(&ft, frame_owner_vm(999), &hog[n]) == FRAME_OK)
		n++;
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(frame_release(&ft, hog[i], frame_owner_vm(999)),
				 FRAME_OK);
	zero_calls = 0;
	int64_t id = create("web", VM_MEM, owner_a);
	assert_true(id > 0);
	assert_int_equal(zero_calls, 0);
	/* the staging (image and init data: a frame each) is zeroed when it
	 * is given back, not when it is taken */
	assert_int_equal(load((uint32_t)id, owner_a), 0);
	assert_int_equal(zero_calls, 2);
	zero_calls = 0;
	assert_int_equal(start((uint32_t)id, owner_a, 0, 0), 0);
	/* the stop's stream (its writer and map) is zeroed when it is given
	 * back, as the VM's frames are */
	uint64_t stream_frames = (lifecycle_stream_bytes(VM_MEM) + 4095) / 4096;
	int64_t len = stop((uint32_t)id, owner_a, BLOB_GPA, BLOB_CAP);
	assert_true(len > 0);
	assert_int_equal(zero_calls, lifecycle_create_frames(VM_MEM) + stream_frames);
	zero_calls = 0;
	/* a resume takes fresh frames unzeroed; only its stream is zeroed,
	 * when it is given back */
	assert_int_equal(start((uint32_t)id, owner_a, BLOB_GPA, (uint64_t)len), 0);
	assert_int_equal(zero_calls, stream_frames);
	zero_calls = 0;
	assert_int_equal(destroy((uint32_t)id, owner_a), 0);
	assert_int_equal(zero_calls, lifecycle_create_frames(VM_MEM));
	/* and the next owner of those frames sees nothing of this one */
	for (uint64_t pfn = 0; pfn < NFRAMES; pfn++)
		if (frame_owner(&ft, pfn) == FRAME_FREE) {
			assert_true(frame_known_zero(&ft, pfn));
			for (unsigned b = 0; b < 4096; b += 512)
				assert_int_equal(ram[pfn * 4096 + b], 0);
		}
}

/* ---- streams: a seal and a resume through a bounded window ------------------- */

#define WIN_GPA  0xd0000u /* up to 0x30000 bytes */
#define BIG_BLOB (VM_MEM + (64u << 10))
static uint8_t blob_store[BIG_BLOB]; /* "storage": outside the caller */

static int64_t stream_hc(uint64_t nr, uint32_t id, const uint8_t *owner,
			 uint64_t gpa, uint64_t len, uint64_t offset,
			 uint64_t blob_len, uint32_t flags, struct hc_vm_stream *out)
{
	struct hc_vm_stream s = { .ref = ref(id, owner), .buf_gpa = gpa,
				  .buf_len = len, .offset = offset,
				  .blob_len = blob_len, .flags = flags,
				  .done = 0xdead };
	int64_t r = hc(nr, &s, sizeof(s));

	if (out)
		memcpy(out, caller + REQ_GPA, sizeof(*out));
	return r;
}

static int64_t stream_abort(uint64_t nr, uint32_t id)
{
	return stream_hc(nr, id, owner_a, 0, 0, 0, 0, HC_STREAM_ABORT, NULL);
}

/* One call of a stop stream at offset off: its bytes go to blob_store. */
static int64_t stop_piece_flags(uint32_t id, uint64_t win, uint64_t off,
				uint32_t flags, struct hc_vm_stream *o)
{
	int64_t n = stream_hc(HC_VM_STOP_STREAM, id, owner_a, WIN_GPA, win, off,
			      0, flags, o);

	if (n >= 0) {
		assert_true(n <= (int64_t)win && off + (uint64_t)n <= sizeof(blob_store));
		memcpy(blob_store + off, caller + WIN_GPA, (size_t)n);
	}
	return n;
}

static int64_t stop_piece(uint32_t id, uint64_t win, uint64_t off,
			  struct hc_vm_stream *o)
{
	return stop_piece_flags(id, win, off, 0, o);
}

/* Stop id through a window of win bytes into blob_store, to its end, with
 * the stream's flags: the blob's length (or an error); *rounds the calls
 * it took. */
static int64_t stop_streamed_flags(uint32_t id, uint64_t win, uint32_t flags,
				   unsigned *rounds)
{
	struct hc_vm_stream o;
	uint64_t off = 0;

	*rounds = 0;
	for (;;) {
		int64_t n = stop_piece_flags(id, win, off, flags, &o);

		if (n < 0)
			return n;
		++*rounds;
		off += (uint64_t)n;
		if (o.done == 1) {
			assert_int_equal(o.blob_len, off);
			return (int64_t)off;
		}
		assert_int_equal(o.done, 0);
		assert_true(n > 0);
	}
}

static int64_t stop_streamed(uint32_t id, uint64_t win, unsigned *rounds)
{
	return stop_streamed_flags(id, win, 0, rounds);
}

/* One call of a resume stream: the piece of blob_store at off. */
static int64_t start_piece_flags(uint32_t id, uint64_t len, uint64_t win,
				 uint64_t off, uint32_t flags, struct hc_vm_stream *o)
{
	uint64_t piece = len - off < win ? len - off : win;

	memcpy(caller + WIN_GPA, blob_store + off, (size_t)piece);
	return stream_hc(HC_VM_START_STREAM, id, owner_a, WIN_GPA, piece, off, len,
			 flags, o);
}

static int64_t start_piece(uint32_t id, uint64_t len, uint64_t win, uint64_t off,
			   struct hc_vm_stream *o)
{
	return start_piece_flags(id, len, win, off, 0, o);
}

/* Resume id from blob_store[0, len), pieces of at most win bytes, with the
 * stream's flags: 0 or an error; *rounds the calls it took. */
static int64_t start_streamed_flags(uint32_t id, uint64_t len, uint64_t win,
				    uint32_t flags, unsigned *rounds)
{
	struct hc_vm_stream o;
	uint64_t off = 0;

	*rounds = 0;
	for (;;) {
		int64_t n = start_piece_flags(id, len, win, off, flags, &o);

		if (n < 0)
			return n;
		++*rounds;
		off += (uint64_t)n;
		if (o.done == 1) {
			assert_int_equal(off, len);
			assert_int_equal(o.blob_len, len);
			return 0;
		}
		assert_int_equal(o.done, 0);
		assert_true(n > 0);
	}
}

static int64_t start_streamed(uint32_t id, uint64_t len, uint64_t win,
			      unsigned *rounds)
{
	return start_streamed_flags(id, len, win, 0, rounds);
}

/* Every page of the VM not zero, each its own. */
static void fill_vm(const struct vm *vm, uint8_t seed)
{
	for (uint64_t gpa = 0; gpa < vm->mem_size; gpa += 4096) {
		uint8_t *p = m_page(NULL, vm, gpa);
		for (unsigned b = 0; b < 4096; b += 64)
			p[b] = (uint8_t)(seed + gpa / 4096 + b / 64 + 1) | 1;
	}
}

static void check_vm(const struct vm *vm, uint8_t seed)
{
	for (uint64_t gpa = 0; gpa < vm->mem_size; gpa += 4096) {
		const uint8_t *p = m_page(NULL, vm, gpa);
		for (unsigned b = 0; b < 4096; b += 64)
			assert_int_equal(p[b], (uint8_t)(seed + gpa / 4096 + b / 64 + 1) | 1);
	}
}

/* All of a VM's memory, not zero, through windows far smaller than the
 * blob, many rounds each way; the content and the vCPU come back. */
static void test_stream_round_trip(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);
	unsigned rounds;

	fill_vm(vm, 5);
	regs[id].rip = 0x100abc;
	uint64_t free_running = ft.free_count;
	int64_t len = stop_streamed(id, HC_STREAM_MIN, &rounds);
	assert_int_equal(len, (int64_t)seal_blob_size(VM_PAGES, CTX_LEN));
	assert_true(rounds > len / HC_STREAM_MIN);
	assert_memory_equal(blob_store, "CUSTSEAL", 8);
	assert_int_equal(ft.free_count, free_running + lifecycle_create_frames(VM_MEM));
	assert_int_equal(vm->state, VM_STOPPED);
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_SEALED);
	assert_int_equal(info(0)->version, 1);
	assert_non_null(strstr(logbuf, "sealed v1 (512 pages"));
	/* the log line counts the frames with the stream's given back too */
	char want[96];
	snprintf(want, sizeof(want), "bytes), %llu frames free",
		 (unsigned long long)ft.free_count);
	assert_non_null(strstr(logbuf, want));

	/* pieces of an odd size: each call takes what whole units it can */
	assert_int_equal(start_streamed(id, (uint64_t)len, 20000, &rounds), 0);
	assert_true(rounds > len / 20000);
	assert_int_equal(vm->state, VM_RUNNABLE);
	assert_int_equal(regs[id].rip, 0x100abc);
	check_vm(vm, 5);
	assert_non_null(strstr(logbuf, "resumed from v1"));

	/* and again, windows of other sizes, the whole window at once too */
	static const uint64_t wins[] = { HC_STREAM_MIN + 1, 65536, 0x30000 };
	for (size_t i = 0; i < ARRAY_SIZE(wins); i++) {
		fill_vm(vm, (uint8_t)(10 + i));
		len = stop_streamed(id, wins[i], &rounds);
		assert_true(len > 0);
		assert_int_equal(start_streamed(id, (uint64_t)len, wins[i], &rounds), 0);
		check_vm(vm, (uint8_t)(10 + i));
	}
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->version, 1 + ARRAY_SIZE(wins));
}

/* The boot copy: sealed from a LOADED VM, which stays LOADED with its
 * memory, version 0; a SEALED VM boots afresh from it, in its boot state,
 * and its version counter goes on, so no earlier seal comes back. */
static void test_boot_copy_boots_afresh(void **state)
{
	(void)state;
	static uint8_t boot_blob[BIG_BLOB];
	int64_t id = create("web", VM_MEM, owner_a);
	assert_true(id > 0);
	assert_int_equal(load((uint32_t)id, owner_a), 0);
	struct vm *vm = vm_table_get((uint32_t)id);
	uint8_t boot_page[4096];
	uint64_t rip0 = regs[id].rip, free_loaded = ft.free_count;
	unsigned rounds;
	memcpy(boot_page, m_page(NULL, vm, 0x100000), sizeof(boot_page));

	/* a boot copy of a LOADED VM changes nothing */
	int64_t boot_len = stop_streamed_flags((uint32_t)id, HC_STREAM_MIN,
					       HC_STREAM_BOOT_COPY, &rounds);
	assert_true(boot_len > 0);
	assert_int_equal(load_le64(blob_store + 16), 0); /* version 0 */
	memcpy(boot_blob, blob_store, (size_t)boot_len);
	assert_int_equal(ft.free_count, free_loaded);
	assert_int_equal(query((uint32_t)id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_LOADED);
	assert_int_equal(info(0)->version, 0);
	assert_non_null(strstr(logbuf, "boot copy sealed"));
	/* only of a LOADED VM */
	assert_int_equal(start((uint32_t)id, owner_a, 0, 0), 0);
	assert_int_equal(stream_hc(HC_VM_STOP_STREAM, (uint32_t)id, owner_a, WIN_GPA,
				   HC_STREAM_MIN, 0, 0, HC_STREAM_BOOT_COPY, NULL),
			 HC_E_STATE);

	/* it runs, writes, stops itself, is sealed */
	m_page(NULL, vm, 0x100000)[7] ^= 0x5a;
	m_page(NULL, vm, 0x1f0000)[100] = 0x42;
	regs[id].rip = 0x100abc;
	lifecycle_exited(vm);
	assert_int_equal(query((uint32_t)id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->flags, HC_VM_INFO_STOPPED_ITSELF);
	int64_t len = stop_streamed_flags((uint32_t)id, HC_STREAM_MIN, 0, &rounds);
	assert_true(len > 0);
	assert_int_equal(query((uint32_t)id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_SEALED);
	assert_int_equal(info(0)->version, 1);
	assert_int_equal(info(0)->flags, HC_VM_INFO_STOPPED_ITSELF);

	/* the latest seal is no boot copy, the boot copy no resume */
	assert_int_equal(start_streamed_flags((uint32_t)id, (uint64_t)len,
					      HC_STREAM_MIN, HC_STREAM_BOOT_COPY,
					      &rounds),
			 HC_E_VERIFY);
	assert_non_null(strstr(logbuf, "not its boot copy"));
	memcpy(blob_store, boot_blob, (size_t)boot_len);
	assert_int_equal(start_streamed_flags((uint32_t)id, (uint64_t)boot_len,
					      HC_STREAM_MIN, 0, &rounds), HC_E_ROLLBACK);
	/* a boot copy altered does not verify, and nothing changes */
	blob_store[boot_len - 100] ^= 1;
	assert_int_equal(start_streamed_flags((uint32_t)id, (uint64_t)boot_len,
					      HC_STREAM_MIN, HC_STREAM_BOOT_COPY,
					      &rounds),
			 HC_E_VERIFY);
	assert_int_equal(query((uint32_t)id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_SEALED);

	/* booted afresh: the boot state, not the state it stopped in */
	memcpy(blob_store, boot_blob, (size_t)boot_len);
	assert_int_equal(start_streamed_flags((uint32_t)id, (uint64_t)boot_len,
					      20000, HC_STREAM_BOOT_COPY, &rounds), 0);
	assert_int_equal(vm->state, VM_RUNNABLE);
	assert_int_equal(regs[id].rip, rip0);
	assert_memory_equal(m_page(NULL, vm, 0x100000), boot_page, sizeof(boot_page));
	assert_int_equal(m_page(NULL, vm, 0x1f0000)[100], 0);
	assert_non_null(strstr(logbuf, "booted afresh from its boot copy"));
	assert_int_equal(query((uint32_t)id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_RUNNING);
	assert_int_equal(info(0)->flags, 0);
	/* the counter goes on: the next seal is v2, so v1 stays dead */
	assert_true(stop_streamed_flags((uint32_t)id, HC_STREAM_MIN, 0, &rounds) > 0);
	assert_int_equal(query((uint32_t)id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->version, 2);
	assert_int_equal(info(0)->flags, 0);
}

/* The boot-copy flag stays the same through a stream, and a boot copy is
 * of LOADED VMs only. */
static void test_boot_copy_refusals(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct hc_vm_stream o;

	/* RUNNING: no boot copy; a stream begun without the flag goes on
	 * without it */
	assert_int_equal(stream_hc(HC_VM_STOP_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN, 0, 0, HC_STREAM_BOOT_COPY, NULL),
			 HC_E_STATE);
	int64_t n = stream_hc(HC_VM_STOP_STREAM, id, owner_a, WIN_GPA,
			      HC_STREAM_MIN, 0, 0, 0, &o);
	assert_true(n > 0 && o.done == 0);
	assert_int_equal(stream_hc(HC_VM_STOP_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN, (uint64_t)n, 0,
				   HC_STREAM_BOOT_COPY, NULL), HC_E_INVAL);
	assert_int_equal(stream_abort(HC_VM_STOP_STREAM, id), 0);
	/* unknown flags */
	assert_int_equal(stream_hc(HC_VM_STOP_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN, 0, 0, 4, NULL), HC_E_INVAL);
	/* a LOADED VM is not resumed from anything */
	int64_t l = create("db", VM_MEM, owner_a);
	assert_true(l > 0);
	assert_int_equal(load((uint32_t)l, owner_a), 0);
	assert_int_equal(stream_hc(HC_VM_START_STREAM, (uint32_t)l, owner_a, WIN_GPA,
				   HC_STREAM_MIN, 0, HC_STREAM_MIN,
				   HC_STREAM_BOOT_COPY, NULL), HC_E_STATE);
	/* a boot copy's stream abandoned: LOADED as before, starts as usual */
	n = stream_hc(HC_VM_STOP_STREAM, (uint32_t)l, owner_a, WIN_GPA,
		      HC_STREAM_MIN, 0, 0, HC_STREAM_BOOT_COPY, &o);
	assert_true(n > 0);
	assert_int_equal(start((uint32_t)l, owner_a, 0, 0), HC_E_STATE);
	assert_int_equal(stream_abort(HC_VM_STOP_STREAM, (uint32_t)l), 0);
	assert_int_equal(start((uint32_t)l, owner_a, 0, 0), 0);
}

/* A streamed blob opens with START of one call and the other way round:
 * one format, one mechanism. */
static void test_stream_and_one_call_agree(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);
	unsigned rounds;

	m_page(NULL, vm, 0x1f0000)[7] = 0x99;
	int64_t len = stop_streamed(id, HC_STREAM_MIN, &rounds);
	assert_true(len > 0 && len <= BLOB_CAP);
	memcpy(caller + BLOB_GPA, blob_store, (size_t)len);
	assert_int_equal(start(id, owner_a, BLOB_GPA, (uint64_t)len), 0);
	assert_int_equal(m_page(NULL, vm, 0x1f0000)[7], 0x99);
	len = stop(id, owner_a, BLOB_GPA, BLOB_CAP);
	assert_true(len > 0);
	memcpy(blob_store, caller + BLOB_GPA, (size_t)len);
	assert_int_equal(start_streamed(id, (uint64_t)len, HC_STREAM_MIN, &rounds), 0);
	assert_int_equal(m_page(NULL, vm, 0x1f0000)[7], 0x99);
}

/* A stop abandoned after any number of its calls: the VM runs on (or
 * stays EXITED) exactly as before, nothing taken, nothing committed. */
static void test_stream_stop_abort(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);
	struct hc_vm_stream o;
	frame_owner_t before[NFRAMES];
	unsigned rounds;

	fill_vm(vm, 1);
	int64_t full = stop_streamed(id, HC_STREAM_MIN, &rounds);
	assert_true(full > 0);
	assert_int_equal(start_streamed(id, (uint64_t)full, HC_STREAM_MIN, &rounds), 0);
	for (unsigned calls = 1; calls <= rounds; calls += 7) {
		uint64_t off = 0;

		memcpy(before, owners, sizeof(owners));
		for (unsigned c = 0; c < calls && c + 1 < rounds; c++) {
			int64_t n = stop_piece(id, HC_STREAM_MIN, off, &o);
			assert_true(n > 0);
			assert_int_equal(o.done, 0);
			assert_int_equal(o.blob_len, (uint64_t)full);
			off += (uint64_t)n;
			assert_int_equal(vm->state, VM_STOPPED); /* does not run */
		}
		assert_int_equal(stream_abort(HC_VM_START_STREAM, id), HC_E_STATE);
		assert_int_equal(stream_abort(HC_VM_STOP_STREAM, id), 0);
		assert_int_equal(vm->state, VM_RUNNABLE);
		assert_int_equal(stream_abort(HC_VM_STOP_STREAM, id), HC_E_STATE);
		/* the frames: the stream's given back, the VM's its own */
		for (uint64_t p = 0; p < NFRAMES; p++)
			assert_int_equal(owners[p], before[p]);
		check_vm(vm, 1);
		assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
		assert_int_equal(info(0)->state, HC_VM_RUNNING);
		assert_int_equal(info(0)->version, 1);
	}
	assert_non_null(strstr(logbuf, "stop abandoned: it is running as before"));
	/* An EXITED VM stays EXITED, off the run queue. */
	vm_set_stopped(vm, VM_STOPPED, "exited with code 3");
	lifecycle_exited(vm);
	assert_true(stop_piece(id, HC_STREAM_MIN, 0, &o) > 0);
	assert_int_equal(stream_abort(HC_VM_STOP_STREAM, id), 0);
	assert_int_equal(vm->state, VM_STOPPED);
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_EXITED);
	/* and the next full stop is version 2: the abandoned ones left none */
	assert_true(stop_streamed(id, HC_STREAM_MIN, &rounds) > 0);
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->version, 2);
}

/* A resume abandoned after any number of its calls: SEALED again, every
 * frame it took scrubbed and given back; the same blob resumes later. */
static void test_stream_resume_abort(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);
	struct hc_vm_stream o;
	frame_owner_t before[NFRAMES];
	unsigned rounds;

	fill_vm(vm, 2);
	int64_t len = stop_streamed(id, HC_STREAM_MIN, &rounds);
	assert_true(len > 0);
	memcpy(before, owners, sizeof(owners));
	unsigned resume_rounds = (unsigned)(len / HC_STREAM_MIN);
	for (unsigned calls = 1; calls < resume_rounds; calls += 9) {
		uint64_t off = 0;

		for (unsigned c = 0; c < calls; c++) {
			int64_t n = start_piece(id, (uint64_t)len, HC_STREAM_MIN, off, &o);
			assert_true(n > 0);
			assert_int_equal(o.done, 0);
			off += (uint64_t)n;
		}
		assert_int_equal(vm->state, VM_STOPPED); /* nothing runs before the tag */
		assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
		assert_int_equal(info(0)->state, HC_VM_SEALED);
		assert_int_equal(stream_abort(HC_VM_STOP_STREAM, id), HC_E_STATE);
		assert_int_equal(stream_abort(HC_VM_START_STREAM, id), 0);
		assert_memory_equal(owners, before, sizeof(owners));
		char want[96];
		snprintf(want, sizeof(want), "sealed as before, %llu frames free",
			 (unsigned long long)ft.free_count);
		assert_non_null(strstr(logbuf, want));
	}
	assert_non_null(strstr(logbuf, "start abandoned: sealed as before"));
	assert_int_equal(start_streamed(id, (uint64_t)len, HC_STREAM_MIN, &rounds), 0);
	check_vm(vm, 2);
}

/* DESTROY of a VM whose stream is open, and a TPGVM that ends with
 * streams open: nothing left (the teardown checks the frame table). */
static void test_stream_destroy_mid_stream(void **state)
{
	(void)state;
	uint32_t a = running_vm_named("a"), b = running_vm_named("b");
	struct hc_vm_stream o;
	unsigned rounds;

	fill_vm(vm_table_get(a), 3);
	assert_true(stop_piece(a, HC_STREAM_MIN, 0, &o) > 0);
	assert_int_equal(destroy(a, owner_a), 0);
	assert_int_equal(stream_abort(HC_VM_STOP_STREAM, a), HC_E_NOTFOUND);

	fill_vm(vm_table_get(b), 4);
	int64_t len = stop_streamed(b, HC_STREAM_MIN, &rounds);
	assert_true(len > 0);
	int64_t n = start_piece(b, (uint64_t)len, HC_STREAM_MIN, 0, &o);
	assert_true(n > 0);
	assert_true(start_piece(b, (uint64_t)len, HC_STREAM_MIN, (uint64_t)n, &o) > 0);
	assert_int_equal(destroy(b, owner_a), 0);
	assert_memory_equal(owners, initial_owners, sizeof(owners));

	/* gone with one of each open */
	a = running_vm_named("a");
	b = running_vm_named("b");
	len = stop_streamed(b, HC_STREAM_MIN, &rounds);
	assert_true(start_piece(b, (uint64_t)len, HC_STREAM_MIN, 0, &o) > 0);
	assert_true(stop_piece(a, HC_STREAM_MIN, 0, &o) > 0);
	lifecycle_destroy_all(&ops, NULL);
	assert_memory_equal(owners, initial_owners, sizeof(owners));
}

/* While one VM's stream is open between its calls, every other call of
 * every other VM is served at once -- whole lifecycles, other streams --
 * and its own VM answers QUERY and CONSOLE_READ. */
static void test_stream_does_not_block_others(void **state)
{
	(void)state;
	uint32_t a = running_vm_named("a");
	struct vm *va = vm_table_get(a);
	struct hc_vm_stream o;
	unsigned rounds;

	fill_vm(va, 6);
	int64_t n = stop_piece(a, HC_STREAM_MIN, 0, &o);
	assert_true(n > 0);
	uint64_t off = (uint64_t)n;
	/* another VM's whole life, one-call stop and start included */
	uint32_t b = running_vm_named("b");
	int64_t blen = stop(b, owner_a, BLOB_GPA, BLOB_CAP);
	assert_true(blen > 0);
	assert_true(last_steps > 1);
	assert_int_equal(start(b, owner_a, BLOB_GPA, (uint64_t)blen), 0);
	/* a's stream again, then b's own stream interleaved with it */
	assert_true((n = stop_piece(a, HC_STREAM_MIN, off, &o)) > 0);
	off += (uint64_t)n;
	struct hc_vm_stream ob;
	uint64_t boff = 0;
	static uint8_t bblob[BIG_BLOB];
	for (;;) {
		int64_t k = stream_hc(HC_VM_STOP_STREAM, b, owner_a, WIN_GPA + 0x10000,
				      HC_STREAM_MIN, boff, 0, 0, &ob);
		assert_true(k >= 0);
		memcpy(bblob + boff, caller + WIN_GPA + 0x10000, (size_t)k);
		boff += (uint64_t)k;
		if (ob.done)
			break;
		if (!o.done) {
			assert_true((n = stop_piece(a, HC_STREAM_MIN, off, &o)) >= 0);
			off += (uint64_t)n;
		}
	}
	/* a's VM answers QUERY (the state as before its stream, no seal_size)
	 * and CONSOLE_READ, and nothing else but its stream and DESTROY */
	if (!o.done) {
		assert_int_equal(query(a, owner_a, sizeof(struct hc_vm_info)), 1);
		assert_int_equal(info(0)->state, HC_VM_RUNNING);
		assert_int_equal(info(0)->seal_size, 0);
		assert_int_equal(last_steps, 1);
		assert_int_equal(console(a, owner_a, 64), 0);
		assert_int_equal(stop(a, owner_a, BLOB_GPA, BLOB_CAP), HC_E_STATE);
		assert_int_equal(console_input(a, owner_a, IN_GPA, 1), HC_E_STATE);
		while (!o.done) {
			assert_true((n = stop_piece(a, HC_STREAM_MIN, off, &o)) >= 0);
			off += (uint64_t)n;
		}
	}
	assert_int_equal(start_streamed(a, off, HC_STREAM_MIN, &rounds), 0);
	check_vm(va, 6);
	memcpy(blob_store, bblob, (size_t)boff);
	assert_int_equal(start_streamed(b, boff, 0x30000, &rounds), 0);
}

/* Calls that do not fit the stream are refused and change nothing: the
 * stream goes on where it was. */
static void test_stream_refusals(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);
	struct hc_vm_stream o;
	unsigned rounds;

	fill_vm(vm, 7);
	/* opening: windows and flags */
	assert_int_equal(stream_hc(HC_VM_STOP_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN - 1, 0, 0, 0, NULL), HC_E_INVAL);
	assert_int_equal(stream_hc(HC_VM_STOP_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN, 0, 0, 4, NULL), HC_E_INVAL);
	assert_int_equal(stream_hc(HC_VM_STOP_STREAM, id, owner_a, CALLER_MEM - 4096,
				   HC_STREAM_MIN, 0, 0, 0, NULL), HC_E_FAULT);
	assert_int_equal(stream_hc(HC_VM_STOP_STREAM, id, owner_b, WIN_GPA,
				   HC_STREAM_MIN, 0, 0, 0, NULL), HC_E_NOTFOUND);
	assert_int_equal(stream_hc(HC_VM_STOP_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN, 4096, 0, 0, NULL), HC_E_STATE);
	assert_int_equal(stream_hc(HC_VM_START_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN, 0, 1 << 20, 0, NULL), HC_E_STATE);
	assert_int_equal(vm->state, VM_RUNNABLE);
	/* open; then out of order */
	int64_t n = stop_piece(id, HC_STREAM_MIN, 0, &o);
	assert_true(n > 0);
	uint64_t off = (uint64_t)n, blob_len = o.blob_len;
	assert_int_equal(stop_piece(id, HC_STREAM_MIN, 0, &o), HC_E_STATE);
	assert_int_equal(stop_piece(id, HC_STREAM_MIN, off + 16, &o), HC_E_INVAL);
	assert_int_equal(stop_piece(id, HC_STREAM_MIN, off - 16, &o), HC_E_INVAL);
	assert_int_equal(stream_hc(HC_VM_STOP_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN - 1, off, 0, 0, NULL), HC_E_INVAL);
	assert_int_equal(stream_hc(HC_VM_START_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN, off, 0, 0, NULL), HC_E_STATE);
	assert_int_equal(start(id, owner_a, 0, 0), HC_E_STATE);
	/* and on as if nothing happened */
	for (;;) {
		assert_true((n = stop_piece(id, HC_STREAM_MIN, off, &o)) > 0);
		off += (uint64_t)n;
		if (o.done)
			break;
	}
	assert_int_equal(off, blob_len);

	/* resume: the total must be the header's, pieces in range */
	assert_int_equal(stream_hc(HC_VM_START_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN, 0, 0, 0, NULL), HC_E_INVAL);
	memcpy(caller + WIN_GPA, blob_store, HC_STREAM_MIN);
	assert_int_equal(stream_hc(HC_VM_START_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN, 0, blob_len - 1, 0, NULL), HC_E_VERIFY);
	assert_int_equal(stream_hc(HC_VM_START_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN - 1, 0, blob_len, 0, NULL), HC_E_INVAL);
	assert_int_equal(stream_hc(HC_VM_START_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN, 0, HC_STREAM_MIN - 1, 0, NULL), HC_E_INVAL);
	assert_int_equal(stream_abort(HC_VM_START_STREAM, id), HC_E_STATE);
	n = start_piece(id, blob_len, HC_STREAM_MIN, 0, &o);
	assert_true(n > 0);
	off = (uint64_t)n;
	assert_int_equal(start_piece(id, blob_len, HC_STREAM_MIN, off + 1, &o), HC_E_INVAL);
	assert_int_equal(start_piece(id, blob_len, HC_STREAM_MIN, 0, &o), HC_E_STATE);
	assert_int_equal(stream_hc(HC_VM_START_STREAM, id, owner_a, WIN_GPA,
				   blob_len - off + 1, off, 0, 0, NULL), HC_E_INVAL);
	assert_int_equal(stream_hc(HC_VM_START_STREAM, id, owner_a, WIN_GPA,
				   HC_STREAM_MIN - 1, off, 0, 0, NULL), HC_E_INVAL);
	assert_int_equal(start(id, owner_a, BLOB_GPA, 4096), HC_E_STATE);
	assert_int_equal(destroy(id, owner_b), HC_E_NOTFOUND);
	/* a piece from elsewhere in the blob at this offset: refused at the
	 * tag at the latest, and everything given back */
	frame_owner_t sealed_owners[NFRAMES];
	assert_int_equal(stream_abort(HC_VM_START_STREAM, id), 0);
	memcpy(sealed_owners, owners, sizeof(owners));
	n = start_piece(id, blob_len, HC_STREAM_MIN, 0, &o);
	off = (uint64_t)n;
	int64_t r;
	for (;;) {
		uint64_t piece = blob_len - off < HC_STREAM_MIN ? blob_len - off : HC_STREAM_MIN;
		memcpy(caller + WIN_GPA, blob_store + off - 4096 * (off > 8192), (size_t)piece);
		r = stream_hc(HC_VM_START_STREAM, id, owner_a, WIN_GPA, piece, off,
			      0, 0, &o);
		if (r < 0)
			break;
		off += (uint64_t)r;
		assert_int_equal(o.done, 0);
	}
	assert_int_equal(r, HC_E_VERIFY);
	assert_memory_equal(owners, sealed_owners, sizeof(owners));
	assert_int_equal(stream_abort(HC_VM_START_STREAM, id), HC_E_STATE);
	assert_int_equal(start_streamed(id, blob_len, HC_STREAM_MIN, &rounds), 0);
	check_vm(vm, 7);
}

/* The TPGVM ends in the middle of a stream's call (its job), with another
 * stream open between calls: nothing left (the teardown checks). */
static void test_stream_tpgvm_gone_mid_call(void **state)
{
	(void)state;
	uint32_t a = running_vm_named("a"), b = running_vm_named("b");
	struct hc_vm_stream o;
	struct hc_result res;
	unsigned rounds;

	fill_vm(vm_table_get(a), 9);
	fill_vm(vm_table_get(b), 9);
	int64_t len = stop_streamed(b, HC_STREAM_MIN, &rounds);
	assert_true(len > 0);
	assert_true(start_piece(b, (uint64_t)len, HC_STREAM_MIN, 0, &o) > 0);
	struct hc_vm_stream s = { .ref = ref(a, owner_a), .buf_gpa = WIN_GPA,
				  .buf_len = HC_STREAM_MIN };
	struct hc_call c = { .nr = HC_VM_STOP_STREAM, .arg = { REQ_GPA, 0, 0, 0 } };

	memcpy(caller + REQ_GPA, &s, sizeof(s));
	for (unsigned i = 0; i < 20; i++) {    /* counting a's pages */
		hc_once(&c, &res);
		assert_int_equal(res.effect, HC_EFFECT_RESTART);
	}
	assert_int_equal(vm_table_get(a)->state, VM_STOPPED);
	lifecycle_destroy_all(&ops, NULL);
	assert_memory_equal(owners, initial_owners, sizeof(owners));
}

/* At most HC_STREAMS_MAX open at once; a one-call STOP still works then. */
static void test_stream_limit(void **state)
{
	(void)state;
	uint32_t ids[HC_STREAMS_MAX + 1];
	struct hc_vm_stream o;
	char name[8];

	for (unsigned i = 0; i <= HC_STREAMS_MAX; i++) {
		snprintf(name, sizeof(name), "v%u", i);
		ids[i] = running_vm_named(name);
	}
	for (unsigned i = 0; i < HC_STREAMS_MAX; i++)
		assert_true(stop_piece(ids[i], HC_STREAM_MIN, 0, &o) > 0);
	assert_int_equal(stop_piece(ids[HC_STREAMS_MAX], HC_STREAM_MIN, 0, &o),
			 HC_E_NOMEM);
	assert_int_equal(vm_table_get(ids[HC_STREAMS_MAX])->state, VM_RUNNABLE);
	assert_true(stop(ids[HC_STREAMS_MAX], owner_a, BLOB_GPA, BLOB_CAP) > 0);
	assert_int_equal(stream_abort(HC_VM_STOP_STREAM, ids[0]), 0);
	assert_true(stop_piece(ids[0], HC_STREAM_MIN, 0, &o) > 0);
}

/* Rollback and tampering of streamed blobs; and the tag leaves the TCB
 * only with the commit: a stop whose record cannot be kept leaves no
 * blob that verifies. */
static void test_stream_rollback_and_tampering(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct vm *vm = vm_table_get(id);
	static uint8_t v1[BIG_BLOB];
	unsigned rounds;

	fill_vm(vm, 8);
	int64_t len = stop_streamed(id, HC_STREAM_MIN, &rounds);
	memcpy(v1, blob_store, (size_t)len);
	assert_int_equal(start_streamed(id, (uint64_t)len, HC_STREAM_MIN, &rounds), 0);
	assert_int_equal(stop_streamed(id, 65536, &rounds), len);
	/* v1 is a rollback, refused at its first piece with nothing taken */
	static uint8_t v2[BIG_BLOB];
	memcpy(v2, blob_store, (size_t)len);
	memcpy(blob_store, v1, (size_t)len);
	frame_owner_t before[NFRAMES];
	memcpy(before, owners, sizeof(owners));
	assert_int_equal(start_streamed(id, (uint64_t)len, HC_STREAM_MIN, &rounds),
			 HC_E_ROLLBACK);
	assert_int_equal(rounds, 0);
	/* a flipped bit anywhere: VERIFY, everything given back */
	uint64_t offsets[] = { 20, 140, 152, 300, 2000, 9000, (uint64_t)len / 2,
			       (uint64_t)len - 4096 - 16 + 9, (uint64_t)len - 1 };
	for (size_t i = 0; i < ARRAY_SIZE(offsets); i++) {
		memcpy(blob_store, v2, (size_t)len);
		blob_store[offsets[i]] ^= 0x10;
		assert_int_equal(start_streamed(id, (uint64_t)len, HC_STREAM_MIN, &rounds),
				 HC_E_VERIFY);
		assert_memory_equal(owners, before, sizeof(owners));
		assert_int_equal(vm->state, VM_STOPPED);
	}
	memcpy(blob_store, v2, (size_t)len);
	assert_int_equal(start_streamed(id, (uint64_t)len, HC_STREAM_MIN, &rounds), 0);
	check_vm(vm, 8);

	/* the record cannot be kept: the stop fails at its last call, the VM
	 * runs on, and the tag never reached the window */
	keep_fails = true;
	struct hc_vm_stream o;
	uint64_t off = 0;
	int64_t n;
	for (;;) {
		memset(caller + WIN_GPA, 0xee, 0x30000);
		if ((n = stop_piece(id, 0x30000, off, &o)) <= 0)
			break;
		off += (uint64_t)n;
	}
	assert_int_equal(n, HC_E_INTERNAL);
	/* the last call wrote the body's end, not the tag after it */
	assert_true((uint64_t)len - off <= 0x30000);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(caller[WIN_GPA + (uint64_t)len - 16 - off + i], 0xee);
	assert_non_null(strstr(logbuf, "stop failed: its record could not be kept"));
	assert_int_equal(vm->state, VM_RUNNABLE);
	keep_fails = false;
	assert_int_equal(query(id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(info(0)->state, HC_VM_RUNNING);
	assert_int_equal(info(0)->version, 2);
}

/* ---- long calls in bounded steps ------------------------------------------------ */

/* Every call whose cost grows with the VM's memory is cut into steps: each
 * execution reads the clock at most 4 times (once to start, then after
 * each unit: the clock moves a third of LC_STEP_TSC per reading), so it
 * does at most 3 units of work, and the VMCALL is executed many times. */
static void test_long_calls_take_bounded_steps(void **state)
{
	(void)state;
	max_reads = 0;
	int64_t id = create("long", VM_MEM, owner_a);
	assert_true(id > 0);
	assert_true(last_steps >= VM_PAGES / 16 / 3);
	assert_int_equal(load((uint32_t)id, owner_a), 0);
	assert_true(last_steps > 1); /* its work grows with the image, not the memory */
	/* start of a LOADED VM and a query of a running one: no pass */
	assert_int_equal(start((uint32_t)id, owner_a, 0, 0), 0);
	assert_int_equal(last_steps, 1);
	assert_int_equal(query((uint32_t)id, owner_a, sizeof(struct hc_vm_info)), 1);
	assert_int_equal(last_steps, 1);
	int64_t len = stop((uint32_t)id, owner_a, BLOB_GPA, BLOB_CAP);
	assert_true(len > 0);
	assert_true(last_steps >= VM_PAGES / 3);
	assert_int_equal(start((uint32_t)id, owner_a, BLOB_GPA, (uint64_t)len), 0);
	assert_true(last_steps >= VM_PAGES / 16 / 3);
	assert_int_equal(destroy((uint32_t)id, owner_a), 0);
	assert_true(last_steps >= VM_PAGES / 16 / 3);
	assert_true(max_reads >= 2 && max_reads <= 4);
	/* A list and a console read are not jobs. */
	assert_int_equal(query(0, owner_a, 4 * sizeof(struct hc_vm_info)), 0);
	assert_int_equal(last_steps, 1);
}

static struct hc_call call_at(uint64_t nr, uint64_t gpa, const void *req, size_t len)
{
	memcpy(caller + gpa, req, len);
	return (struct hc_call){ .nr = nr, .arg = { gpa, 0, 0, 0 } };
}

/* A job runs to its end: another lifecycle call meanwhile continues it and
 * is served only afterwards (the job's own result goes nowhere). */
static void test_other_call_waits_for_the_job(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	struct hc_vm_stop s = { .ref = ref(id, owner_a), .out_gpa = BLOB_GPA,
				.out_cap = BLOB_CAP };
	struct hc_vm_query q = { .ref = ref(id, owner_a), .out_gpa = OUT_GPA,
				 .out_cap = sizeof(struct hc_vm_info) };
	struct hc_call stop_call = call_at(HC_VM_STOP, REQ_GPA, &s, sizeof(s));
	struct hc_call query_call = call_at(HC_VM_QUERY, REQ_GPA + 512, &q, sizeof(q));
	struct hc_result res;
	unsigned n = 0;

	hc_once(&stop_call, &res);
	assert_int_equal(res.effect, HC_EFFECT_RESTART);
	assert_int_equal(vm_table_get(id)->state, VM_STOPPED); /* frozen */
	do {
		assert_true(++n < 100000);
		hc_once(&query_call, &res);
	} while (res.effect == HC_EFFECT_RESTART);
	assert_true(n > VM_PAGES / 3);
	assert_int_equal(res.ret, 1);
	assert_int_equal(info(0)->state, HC_VM_SEALED);
	assert_memory_equal(caller + BLOB_GPA, "CUSTSEAL", 8);
	assert_non_null(strstr(logbuf, "sealed v1"));
}

/* The TPGVM ends half-way through a job: everything comes back (the
 * teardown checks the frame table byte for byte). */
static void test_tpgvm_gone_mid_job(void **state)
{
	(void)state;
	uint32_t id = running_vm();
	int64_t len = stop(id, owner_a, BLOB_GPA, BLOB_CAP);
	struct hc_vm_start st = { .ref = ref(id, owner_a), .blob_gpa = BLOB_GPA,
				  .blob_len = (uint64_t)len };
	struct hc_call start_call = call_at(HC_VM_START, REQ_GPA, &st, sizeof(st));
	struct hc_result res;

	assert_true(len > 0);
	for (unsigned i = 0; i < 8; i++) {     /* mapped, list opened */
		hc_once(&start_call, &res);
		assert_int_equal(res.effect, HC_EFFECT_RESTART);
	}
	lifecycle_destroy_all(&ops, NULL);
	assert_memory_equal(owners, initial_owners, sizeof(owners));

	uint32_t id2 = running_vm();
	struct hc_vm_stop sp = { .ref = ref(id2, owner_a), .out_gpa = BLOB_GPA,
				 .out_cap = BLOB_CAP };
	struct hc_call stop_call = call_at(HC_VM_STOP, REQ_GPA, &sp, sizeof(sp));
	for (unsigned i = 0; i < 174; i++) {   /* counted, sealing */
		hc_once(&stop_call, &res);
		assert_int_equal(res.effect, HC_EFFECT_RESTART);
	}
}

/* A Linux load is a job of bounded steps too (its kernel and initrd are
 * copied LC_CHUNK a unit), and a TPGVM gone half-way leaves no staging
 * behind (the initrd's included). */
static void test_linux_load_in_bounded_steps_and_gone_mid_job(void **state)
{
	struct hc_vm_load l;
	struct hc_result res;

	(void)state;
	make_bzimage(caller + BZ_GPA);
	max_reads = 0;
	int64_t id = create("tux", VM_MEM, owner_a);
	assert_int_equal(linux_load((uint32_t)id, owner_a), 0);
	unsigned load_steps = last_steps;
	assert_true(load_steps > 1); /* staging, measuring, copying: LC_CHUNK a unit */
	assert_true(max_reads >= 2 && max_reads <= 4);
	assert_int_equal(destroy((uint32_t)id, owner_a), 0);

	/* Gone after each step of the load but its last. */
	for (unsigned steps = 1; steps < load_steps; steps++) {
		int64_t id2 = create("tux2", VM_MEM, owner_a);

		l = linux_req((uint32_t)id2, owner_a);
		struct hc_call c = call_at(HC_VM_LOAD, REQ_GPA, &l, sizeof(l));
		for (unsigned i = 0; i < steps; i++) {
			hc_once(&c, &res);
			assert_int_equal(res.effect, HC_EFFECT_RESTART);
		}
		lifecycle_destroy_all(&ops, NULL);
		assert_memory_equal(owners, initial_owners, sizeof(owners));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_rules),
		cmocka_unit_test(test_mem_rules),
		cmocka_unit_test(test_secrets_rules),
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_not_tpgvm_denied_no_mechanism_nosys),
		T(test_create_rules),
		T(test_create_nomem_changes_nothing),
		T(test_table_full_is_inval),
		T(test_other_owner_gets_notfound),
		T(test_state_machine),
		T(test_launch_measurement_independent),
		T(test_load_places_everything),
		T(test_load_refusals_change_nothing),
		T(test_start_of_loaded_vm_reads_no_page),
		T(test_linux_load_places_everything),
		T(test_linux_no_initrd_no_cmdline),
		T(test_linux_load_refusals),
		T(test_seal_round_trip),
		T(test_rollback_and_tampering),
		T(test_nomem_at_start_of_sealed),
		T(test_destroy_kills_the_blob),
		T(test_records_survive_a_reboot),
		T(test_records_rolled_back),
		T(test_record_failure_changes_nothing),
		T(test_restore_refusals),
		T(test_many_cycles_leave_nothing),
		T(test_console_read_drains),
		T(test_console_input_reaches_the_uart),
		T(test_query_list_and_limits),
		T(test_stop_scans_each_page_once),
		T(test_query_counts_an_exited_vm_once),
		T(test_frames_zeroed_once_per_owner),
		T(test_long_calls_take_bounded_steps),
		T(test_other_call_waits_for_the_job),
		T(test_tpgvm_gone_mid_job),
		T(test_linux_load_in_bounded_steps_and_gone_mid_job),
		T(test_stream_round_trip),
		T(test_stream_and_one_call_agree),
		T(test_boot_copy_boots_afresh),
		T(test_boot_copy_refusals),
		T(test_stream_stop_abort),
		T(test_stream_resume_abort),
		T(test_stream_destroy_mid_stream),
		T(test_stream_does_not_block_others),
		T(test_stream_refusals),
		T(test_stream_tpgvm_gone_mid_call),
		T(test_stream_limit),
		T(test_stream_rollback_and_tampering),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
