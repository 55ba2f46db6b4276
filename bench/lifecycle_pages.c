/*
 * How many times each lifecycle step passes over a VM's memory, on the
 * host (make bench-pages). It drives tcb/lifecycle.c through
 * hypercall_handle(), as the TPGVM does, over a fake mechanism like
 * tests/unit/test_lifecycle.c's: a real frame table over fake RAM. For VMs
 * of 4, 64 and 256 MiB, mostly empty (a tiny ELF and a few pages the
 * "guest" wrote), it counts per step and per 4 KiB page of the VM:
 *   zero   frames the frame table zeroed (its zero callback)
 *   page   pages the TCB looked at (lc_ops.page: zero-page scans, digest,
 *          copies, sealing)
 *   sha    bytes hashed with SHA-256 or SHA-384 (crypto_sha256_update and
 *          crypto_sha384_update, wrapped by the linker: -Wl,--wrap)
 *   tsc    host TSC cycles (noisy: the counts are what matter)
 * Every VM's life runs twice: first on frames free since "boot" (as far
 * as the allocator has not handed them out before: RAM a warm reboot left
 * as it was), then "steady", once every free frame has been handed out
 * and given back once.
 *
 * Host-side counts of the policy code, not times of the hypervisor; no
 * test asserts them. docs/lifecycle.md, "What a step costs", quotes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <x86intrin.h>

#include "crypto/crypto.h"
#include "tcb/frame_table.h"
#include "tcb/hypercall.h"
#include "tcb/lifecycle.h"

#define MIB         (1ull << 20)
#define VM_MEM_MAX  (256 * MIB)
#define MAX_PAGES   (VM_MEM_MAX / 4096)
#define NFRAMES     (MAX_PAGES + 4096)
#define CALLER_MEM  (8 * MIB)
#define REQ_GPA     0x1000u
#define IMAGE_GPA   0x10000u
#define OUT_GPA     0x30000u
#define BLOB_GPA    0x100000u
#define BLOB_CAP    (CALLER_MEM - BLOB_GPA)
#define DIRTY_PAGES 32u /* pages the guest writes while it runs */
#define EXTRA_MAX   200u

#define CHECK(x) do { if (!(x)) { fprintf(stderr, "bench: %s:%d: %s\n", \
	__FILE__, __LINE__, #x); exit(1); } } while (0)

static uint8_t *ram;
static frame_owner_t owners[NFRAMES];
static uint64_t known_zero[(NFRAMES + 63) / 64];
static struct frame_table ft;
static uint64_t vm_pfn[MAX_PAGES];
static bool mapped[MAX_PAGES];
static uint64_t extra_pfn[EXTRA_MAX], n_extra;
static struct lc_regs regs;
static uint8_t *caller;

/* What the step being measured did. */
static struct {
	uint64_t zero, page, sha;
} count;

static void zero_frame(uint64_t pfn, void *ctx)
{
	(void)ctx;
	count.zero++;
	memset(ram + pfn * 4096, 0, 4096);
}

void __real_crypto_sha384_update(struct crypto_sha384_ctx *c, const void *d,
				 size_t len);
void __wrap_crypto_sha384_update(struct crypto_sha384_ctx *c, const void *d,
				 size_t len);
void __wrap_crypto_sha384_update(struct crypto_sha384_ctx *c, const void *d,
				 size_t len)
{
	count.sha += len;
	__real_crypto_sha384_update(c, d, len);
}

void __real_crypto_sha256_update(struct crypto_sha256_ctx *c, const void *d,
				 size_t len);
void __wrap_crypto_sha256_update(struct crypto_sha256_ctx *c, const void *d,
				 size_t len);
void __wrap_crypto_sha256_update(struct crypto_sha256_ctx *c, const void *d,
				 size_t len)
{
	count.sha += len;
	__real_crypto_sha256_update(c, d, len);
}

/* ---- the fake mechanism (one tenant VM at a time) ---- */

static uint64_t m_free(void *m)
{
	(void)m;
	return ft.free_count;
}

static int m_mem_alloc(void *m, struct vm *vm)
{
	(void)m;
	n_extra = lifecycle_create_frames(vm->mem_size) - vm->mem_size / 4096;
	CHECK(n_extra <= EXTRA_MAX);
	for (uint64_t i = 0; i < n_extra; i++)
		CHECK(frame_alloc(&ft, FRAME_TCB, &extra_pfn[i]) == FRAME_OK);
	return HC_OK;
}

static void unmap_pages(const struct vm *vm, uint64_t first, uint64_t n)
{
	for (uint64_t i = first; i < first + n; i++)
		if (mapped[i]) {
			CHECK(frame_release(&ft, vm_pfn[i], vm->owner) == FRAME_OK);
			mapped[i] = false;
		}
}

static int m_mem_map(void *m, struct vm *vm, uint64_t gpa, uint64_t len)
{
	(void)m;
	for (uint64_t i = gpa / 4096; i < (gpa + len) / 4096; i++) {
		CHECK(!mapped[i]);
		CHECK(frame_alloc(&ft, vm->owner, &vm_pfn[i]) == FRAME_OK);
		mapped[i] = true;
	}
	return HC_OK;
}

static void m_mem_unmap(void *m, struct vm *vm, uint64_t gpa, uint64_t len)
{
	(void)m;
	unmap_pages(vm, gpa / 4096, len / 4096);
}

static void m_mem_free(void *m, struct vm *vm)
{
	(void)m;
	unmap_pages(vm, 0, vm->mem_size / 4096);
	for (uint64_t i = 0; i < n_extra; i++)
		CHECK(frame_release(&ft, extra_pfn[i], FRAME_TCB) == FRAME_OK);
	n_extra = 0;
}

/* Far in the future every time: a step ends after one unit of work, which
 * is what the hypervisor's clock does to a large VM anyway. */
static uint64_t m_now(void *m)
{
	static uint64_t t;

	(void)m;
	return t += LC_STEP_TSC;
}

static uint8_t *m_page(void *m, const struct vm *vm, uint64_t gpa)
{
	(void)m;
	CHECK(gpa < vm->mem_size && mapped[gpa / 4096]);
	count.page++;
	return ram + vm_pfn[gpa / 4096] * 4096;
}

static void *m_stage(void *m, size_t len)
{
	uint64_t first;

	(void)m;
	if (frame_alloc_contiguous(&ft, FRAME_TCB, (len + 4095) / 4096, 1,
				   &first) != FRAME_OK)
		return NULL;
	return ram + first * 4096;
}

static void m_unstage(void *m, void *p, size_t len)
{
	uint64_t first = (uint64_t)((uint8_t *)p - ram) / 4096;

	(void)m;
	for (uint64_t i = 0; i < (len + 4095) / 4096; i++)
		CHECK(frame_release(&ft, first + i, FRAME_TCB) == FRAME_OK);
}

static void m_vcpu_setup(void *m, struct vm *vm, const struct lc_regs *r)
{
	(void)m;
	(void)vm;
	regs = *r;
}

#define CTX_LEN 2108u /* a VMX vCPU's context with Bochs' XSAVE area */

static size_t m_context_len(void *m, const struct vm *vm)
{
	(void)m;
	(void)vm;
	return CTX_LEN;
}

static size_t m_context_save(void *m, const struct vm *vm, uint8_t *buf,
			     size_t cap)
{
	(void)m;
	(void)vm;
	CHECK(cap >= CTX_LEN);
	memset(buf, 0x77, CTX_LEN);
	memcpy(buf, &regs, sizeof(regs));
	return CTX_LEN;
}

static bool m_context_restore(void *m, struct vm *vm, const uint8_t *buf,
			      size_t len)
{
	(void)m;
	(void)vm;
	if (len != CTX_LEN)
		return false;
	memcpy(&regs, buf, sizeof(regs));
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
	(void)line;
}

static const struct lc_ops ops = {
	.free_frames = m_free, .mem_alloc = m_mem_alloc, .mem_map = m_mem_map,
	.mem_unmap = m_mem_unmap, .mem_free = m_mem_free, .now = m_now,
	.page = m_page, .stage = m_stage, .unstage = m_unstage,
	.vcpu_setup = m_vcpu_setup,
	.context_save = m_context_save, .context_len = m_context_len,
	.context_restore = m_context_restore, .set_runnable = m_set_runnable,
	.log = m_log,
};

/* ---- the caller (the TPGVM) ---- */

static bool c_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	(void)ctx;
	CHECK(gpa <= CALLER_MEM && len <= CALLER_MEM - gpa);
	memcpy(buf, caller + gpa, len);
	return true;
}

static bool c_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	(void)ctx;
	CHECK(gpa <= CALLER_MEM && len <= CALLER_MEM - gpa);
	memcpy(caller + gpa, buf, len);
	return true;
}

static void c_put(void *ctx, char c)
{
	(void)ctx;
	(void)c;
}

static const struct hc_env env = {
	.mem_size = CALLER_MEM, .is_tpgvm = true, .read_guest = c_read,
	.write_guest = c_write, .console_put = c_put, .lc = &ops,
};

static int64_t hc(uint64_t nr, const void *req, size_t len)
{
	struct hc_call c = { .nr = nr, .arg = { REQ_GPA, 0, 0, 0 } };
	struct hc_result res;

	memcpy(caller + REQ_GPA, req, len);
	do
		hypercall_handle(&c, &env, &res);
	while (res.effect == HC_EFFECT_RESTART);
	return res.ret;
}

/* The ELF of tests/unit/test_lifecycle.c: one R+X PT_LOAD at 0x100000. */
static size_t make_elf(uint8_t *out)
{
	static const uint8_t code[16] = { 0xeb, 0xfe, 0x90, 0x90, 1, 2, 3, 4 };
	uint64_t entry = 0x100000, phoff = 64, off = 120, sz = sizeof(code);
	uint32_t type = 1, flags = 5;
	uint8_t *ph = out + 64;

	memset(out, 0, 120 + sizeof(code));
	memcpy(out, "\x7f" "ELF", 4);
	out[4] = 2;
	out[5] = 1;
	out[6] = 1;
	out[16] = 2;
	out[18] = 62;
	out[20] = 1;
	memcpy(out + 24, &entry, 8);
	memcpy(out + 32, &phoff, 8);
	out[52] = 64;
	out[54] = 56;
	out[56] = 1;
	memcpy(ph, &type, 4);
	memcpy(ph + 4, &flags, 4);
	memcpy(ph + 8, &off, 8);
	memcpy(ph + 16, &entry, 8);
	memcpy(ph + 24, &entry, 8);
	memcpy(ph + 32, &sz, 8);
	memcpy(ph + 40, &sz, 8);
	memcpy(out + 120, code, sizeof(code));
	return 120 + sizeof(code);
}

static const uint8_t owner[HC_OWNER_LEN] = { 0xa1, 0xa1, 0xa1 };

static struct hc_vm_ref ref(uint32_t id)
{
	struct hc_vm_ref r = { .vm_id = id };

	memcpy(r.owner, owner, HC_OWNER_LEN);
	return r;
}

/* ---- measuring ---- */

static uint64_t npages;

static void report(const char *mib, const char *step, int64_t ret, uint64_t tsc)
{
	double n = (double)npages;

	printf("%-11s %-16s zero %6.3f  page %6.3f  sha %9.1f B  tsc %9.0f"
	       "   (ret %lld)\n", mib, step, (double)count.zero / n,
	       (double)count.page / n, (double)count.sha / n, (double)tsc / n,
	       (long long)ret);
}

/* One call, measured. */
static int64_t step(const char *mib, const char *name, uint64_t nr,
		    const void *req, size_t len)
{
	uint64_t t0;
	int64_t ret;

	memset(&count, 0, sizeof(count));
	t0 = __rdtsc();
	ret = hc(nr, req, len);
	report(mib, name, ret, __rdtsc() - t0);
	return ret;
}

/* The guest ran: DIRTY_PAGES pages spread over its memory hold data. */
static void guest_writes(const struct vm *vm)
{
	for (unsigned i = 0; i < DIRTY_PAGES; i++) {
		uint64_t gpa = (vm->mem_size / DIRTY_PAGES) * i + 0x3000;

		m_page(NULL, vm, gpa)[100] = (uint8_t)(i + 1);
	}
}

static void life(uint64_t mem, const char *round)
{
	struct hc_vm_create c = { .ref = ref(0), .mem_size = mem };
	char mib[16];
	int64_t id, len;

	snprintf(mib, sizeof(mib), "%lluM%s", (unsigned long long)(mem >> 20), round);
	npages = mem / 4096;
	strcpy(c.name, "bench");
	id = step(mib, "create", HC_VM_CREATE, &c, sizeof(c));
	CHECK(id > 0);

	struct hc_vm_load l = { .ref = ref((uint32_t)id), .image_gpa = IMAGE_GPA,
				.image_len = make_elf(caller + IMAGE_GPA) };
	CHECK(step(mib, "load", HC_VM_LOAD, &l, sizeof(l)) == 0);

	struct hc_vm_start s = { .ref = ref((uint32_t)id) };
	CHECK(step(mib, "start", HC_VM_START, &s, sizeof(s)) == 0);
	guest_writes(vm_table_get((unsigned)id));

	struct hc_vm_query q = { .ref = ref((uint32_t)id), .out_gpa = OUT_GPA,
				 .out_cap = sizeof(struct hc_vm_info) };
	CHECK(step(mib, "query (running)", HC_VM_QUERY, &q, sizeof(q)) == 1);

	struct hc_vm_stop st = { .ref = ref((uint32_t)id), .out_gpa = BLOB_GPA,
				 .out_cap = BLOB_CAP };
	len = step(mib, "stop", HC_VM_STOP, &st, sizeof(st));
	CHECK(len > 0);

	struct hc_vm_start r = { .ref = ref((uint32_t)id), .blob_gpa = BLOB_GPA,
				 .blob_len = (uint64_t)len };
	CHECK(step(mib, "start (resume)", HC_VM_START, &r, sizeof(r)) == 0);

	struct hc_vm_ref d = ref((uint32_t)id);
	CHECK(step(mib, "destroy", HC_VM_DESTROY, &d, sizeof(d)) == 0);
}

/* Hand out every free frame and take it back. */
static void every_frame_once(void)
{
	static uint64_t pfn[NFRAMES];
	uint64_t n = 0;

	while (frame_alloc(&ft, FRAME_TCB, &pfn[n]) == FRAME_OK)
		n++;
	while (n)
		CHECK(frame_release(&ft, pfn[--n], FRAME_TCB) == FRAME_OK);
}

int main(void)
{
	static const uint64_t sizes[] = { 4 * MIB, 64 * MIB, 256 * MIB };

	ram = aligned_alloc(4096, (size_t)NFRAMES * 4096);
	caller = calloc(1, CALLER_MEM);
	CHECK(ram && caller && crypto_init() == CRYPTO_OK);
	/* What a warm reboot leaves in RAM: not zero. */
	memset(ram, 0xa5, (size_t)NFRAMES * 4096);
	frame_table_init(&ft, owners, known_zero, NFRAMES, zero_frame, NULL);
	frame_table_add_usable(&ft, 4 * 4096, (NFRAMES - 4) * 4096ull);
	frame_table_seal(&ft);
	printf("per 4 KiB page of the VM (%u pages written by the guest); "
	       "first: frames free since boot; steady: every free frame "
	       "handed out and given back once\n", DIRTY_PAGES);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		life(sizes[i], "");
	every_frame_once();
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		life(sizes[i], "-steady");
	return 0;
}
