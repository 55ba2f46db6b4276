/*
 * Tenant VM lifecycle policy (tcb/lifecycle.h, docs/lifecycle.md).
 *
 * Every request starts the same way: the request struct is copied out of
 * the TPGVM's memory once (so it cannot change under us), its hc_vm_ref is
 * checked, and the VM is looked up for that owner -- a VM of another owner
 * is HC_E_NOTFOUND before anything else about it is looked at, so the
 * answer never tells one owner that another's VM exists.
 */
#include "tcb/lifecycle.h"
#include "tcb/elf_image.h"
#include "tcb/byteorder.h"
#include "tcb/guest_pt.h"
#include "tcb/hypercall.h"
#include "tcb/timebase.h"
#include "crypto/crypto.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The vCPU context of a seal being written or read: one CPU, one buffer,
 * wiped after every use. */
static uint8_t context_buf[LC_CONTEXT_MAX];

static const char *const state_names[] = {
	"?", "created", "loaded", "running", "exited", "sealed",
};

static uint64_t page_up(uint64_t x)
{
	return (x + PAGE_MASK) & ~PAGE_MASK;
}

static void sha_le64(struct crypto_sha384_ctx *c, uint64_t v)
{
	uint8_t b[8];

	store_le64(b, v);
	crypto_sha384_update(c, b, sizeof(b));
}

static void lc_log(const struct hc_env *env, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void lc_log(const struct hc_env *env, const char *fmt, ...)
{
	char line[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	env->lc->log(env->lc_ctx, line);
}

static unsigned long long frames_free(const struct hc_env *env)
{
	return (unsigned long long)env->lc->free_frames(env->lc_ctx);
}

/* ---- pure checks --------------------------------------------------------- */

bool lifecycle_name_ok(const char name[HC_VM_NAME_MAX])
{
	size_t n = 0;

	while (n < HC_VM_NAME_MAX && name[n]) {
		char ch = name[n];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '-'))
			return false;
		n++;
	}
	return n >= 1 && n < HC_VM_NAME_MAX;
}

bool lifecycle_mem_ok(uint64_t mem_size)
{
	return mem_size >= GUEST_MEM_MIN && mem_size <= GUEST_MEM_MAX &&
	       mem_size % GUEST_MEM_ALIGN == 0;
}

static bool key_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	       (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-';
}

bool lifecycle_secrets_ok(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t key = 0;
		while (i < len && key_char(s[i])) {
			i++;
			key++;
		}
		if (key == 0 || i == len || s[i] != '=')
			return false;
		while (i < len && s[i])
			i++;
		if (i == len)
			return false; /* the last string has no NUL */
		i++;
	}
	return true;
}

uint64_t lifecycle_create_frames(uint64_t mem_size)
{
	/* EPT: PML4, one PDPT, one PD (mem_size <= 1 GiB) and a page table
	 * per 2 MiB (tcb/ept.c maps 4 KiB leaves); VMCS and XSAVE area. */
	return mem_size / PAGE_SIZE + 3 + mem_size / 0x200000ull + 2;
}

void lifecycle_launch_measurement(const char name[HC_VM_NAME_MAX],
				  uint64_t mem_size, const void *image,
				  size_t image_len, const void *init,
				  size_t init_len, const uint8_t salt[HC_SALT_LEN],
				  const void *secrets, size_t secrets_len,
				  uint8_t out[LC_DIGEST_LEN])
{
	struct crypto_sha384_ctx c, s;
	uint8_t padded[HC_VM_NAME_MAX] = { 0 }, d[LC_DIGEST_LEN];
	size_t n = 0;

	while (n < HC_VM_NAME_MAX - 1 && name[n]) {
		padded[n] = (uint8_t)name[n];
		n++;
	}
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, LC_LAUNCH_TAG, strlen(LC_LAUNCH_TAG));
	crypto_sha384_update(&c, padded, sizeof(padded));
	sha_le64(&c, mem_size);
	crypto_sha384(image, image_len, d);
	crypto_sha384_update(&c, d, sizeof(d));
	sha_le64(&c, image_len);
	crypto_sha384(init_len ? init : "", init_len, d);
	crypto_sha384_update(&c, d, sizeof(d));
	sha_le64(&c, init_len);
	crypto_sha384_init(&s);
	crypto_sha384_update(&s, salt, HC_SALT_LEN);
	crypto_sha384_update(&s, secrets, secrets_len);
	crypto_sha384_final(&s, d);
	crypto_sha384_update(&c, d, sizeof(d));
	sha_le64(&c, secrets_len);
	crypto_sha384_final(&c, out);
	crypto_wipe(d, sizeof(d));
}

static bool page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;
	uint64_t acc = 0;

	for (size_t i = 0; i < PAGE_SIZE / 8; i++)
		acc |= w[i];
	return acc == 0;
}

void lifecycle_boot_digest(const struct lc_ops *ops, void *mctx,
			   const struct vm *vm, uint8_t out[LC_DIGEST_LEN])
{
	const struct vm_tenant *t = &vm->tenant;
	struct crypto_sha384_ctx c, s;
	struct lc_regs r;
	uint8_t d[LC_DIGEST_LEN];

	crypto_sha384_init(&c);
	crypto_sha384_update(&c, LC_BOOT_TAG, strlen(LC_BOOT_TAG));
	for (uint64_t gpa = 0; gpa < vm->mem_size; gpa += PAGE_SIZE) {
		const uint8_t *p = ops->page(mctx, vm, gpa);
		if (t->secrets_len && gpa == t->secrets_gpa) {
			/* Secrets only salted: gpa, SHA-384(salt || secrets),
			 * then the rest of their page as it is. */
			crypto_sha384_init(&s);
			crypto_sha384_update(&s, t->salt, sizeof(t->salt));
			crypto_sha384_update(&s, p, t->secrets_len);
			crypto_sha384_final(&s, d);
			sha_le64(&c, gpa);
			crypto_sha384_update(&c, d, sizeof(d));
			crypto_sha384_update(&c, p + t->secrets_len,
					     PAGE_SIZE - t->secrets_len);
		} else if (!page_is_zero(p)) {
			sha_le64(&c, gpa);
			crypto_sha384_update(&c, p, PAGE_SIZE);
		}
	}
	ops->vcpu_regs(mctx, vm, &r);
	sha_le64(&c, r.rip);
	sha_le64(&c, r.rsp);
	sha_le64(&c, r.cr3);
	sha_le64(&c, r.rdi);
	crypto_sha384_final(&c, out);
	crypto_wipe(d, sizeof(d));
}

/* ---- lookups --------------------------------------------------------------- */

static bool in_caller(const struct hc_env *env, uint64_t gpa, uint64_t len)
{
	return gpa <= env->mem_size && len <= env->mem_size - gpa;
}

static int64_t read_request(const struct hc_env *env, uint64_t gpa, void *buf,
			    size_t len)
{
	if (!in_caller(env, gpa, len) || !env->read_guest(env->ctx, gpa, buf, len))
		return HC_E_FAULT;
	return HC_OK;
}

/* The VM ref names for its owner, or NULL. */
static struct vm *find(const struct hc_vm_ref *ref)
{
	struct vm *vm = vm_table_get(ref->vm_id);

	if (!vm || !vm->tenant.active ||
	    memcmp(vm->tenant.owner, ref->owner, HC_OWNER_LEN) != 0)
		return NULL;
	return vm;
}

static int64_t lookup(const struct hc_vm_ref *ref, struct lc_request *rq)
{
	if (ref->reserved != 0)
		return HC_E_INVAL;
	rq->vm = find(ref);
	return rq->vm ? HC_OK : HC_E_NOTFOUND;
}

static bool name_taken(const uint8_t owner[HC_OWNER_LEN], const char *name)
{
	for (unsigned id = 1; id <= VM_MAX; id++) {
		const struct vm *vm = vm_table_get(id);
		if (vm && vm->tenant.active &&
		    memcmp(vm->tenant.owner, owner, HC_OWNER_LEN) == 0 &&
		    strncmp(vm->name, name, HC_VM_NAME_MAX) == 0)
			return true;
	}
	return false;
}

static uint64_t count_pages(const struct hc_env *env, const struct vm *vm)
{
	uint64_t n = 0;

	for (uint64_t gpa = 0; gpa < vm->mem_size; gpa += PAGE_SIZE)
		n += !page_is_zero(env->lc->page(env->lc_ctx, vm, gpa));
	return n;
}

/* ---- decode ------------------------------------------------------------------ */

static int64_t decode_create(const struct hc_env *env, uint64_t gpa,
			     struct lc_request *rq)
{
	struct hc_vm_create *c = &rq->u.create;
	int64_t err = read_request(env, gpa, c, sizeof(*c));

	if (err)
		return err;
	if (c->ref.reserved != 0 || c->ref.vm_id != 0)
		return HC_E_INVAL;
	if (!lifecycle_name_ok(c->name) || !lifecycle_mem_ok(c->mem_size) ||
	    name_taken(c->ref.owner, c->name) || !vm_table_has_free_slot())
		return HC_E_INVAL;
	if (lifecycle_create_frames(c->mem_size) > env->lc->free_frames(env->lc_ctx)) {
		lc_log(env, "lifecycle: create '%s' refused: not enough memory "
		       "(%llu MiB), %llu frames free", c->name,
		       (unsigned long long)(c->mem_size >> 20), frames_free(env));
		return HC_E_NOMEM;
	}
	return HC_OK;
}

/* What decode staged (the image and init data in TCB frames: the caller's
 * pages need not be contiguous, and it must not change them under the ELF
 * loader), as the loader takes it. */
static struct lc_image staged_image(const struct lc_request *rq)
{
	const struct hc_vm_load *l = &rq->u.load;

	return (struct lc_image){
		.image = rq->image, .image_len = l->image_len,
		.init = rq->init, .init_len = l->init_len,
		.secrets = rq->secrets, .secrets_len = l->secrets_len,
		.salt = l->secrets_salt,
		.measure = true,
	};
}

/* Scrub and free the staging; forget the secrets. */
static void unstage_load(struct lc_request *rq, const struct hc_env *env)
{
	const struct hc_vm_load *l = &rq->u.load;

	if (rq->init)
		env->lc->unstage(env->lc_ctx, rq->init, l->init_len);
	if (rq->image)
		env->lc->unstage(env->lc_ctx, rq->image, l->image_len);
	rq->image = rq->init = NULL;
	crypto_wipe(rq->secrets, sizeof(rq->secrets));
}

static int64_t place(const struct vm *vm, const struct lc_image *in,
		     struct lc_placement *p, char *why, size_t why_len);

/* Copy the image and init data into TCB frames and decide where they go:
 * the checks that need the image itself (ELF, fit). */
static int64_t stage_and_place(struct lc_request *rq, const struct hc_env *env)
{
	const struct hc_vm_load *l = &rq->u.load;
	const struct lc_ops *ops = env->lc;
	struct lc_image in;
	char why[120];
	int64_t err = HC_OK;

	rq->image = ops->stage(env->lc_ctx, l->image_len);
	if (l->init_len && rq->image)
		rq->init = ops->stage(env->lc_ctx, l->init_len);
	if (!rq->image || (l->init_len && !rq->init)) {
		err = HC_E_NOMEM;
		snprintf(why, sizeof(why), "no memory to stage the image");
	} else if (!env->read_guest(env->ctx, l->image_gpa, rq->image, l->image_len) ||
		   (rq->init && !env->read_guest(env->ctx, l->init_gpa, rq->init,
						 l->init_len))) {
		err = HC_E_FAULT;
		snprintf(why, sizeof(why), "image not readable");
	} else {
		in = staged_image(rq);
		err = place(rq->vm, &in, &rq->place, why, sizeof(why));
	}
	if (err)
		lc_log(env, "lifecycle: vm %u '%s' load refused: %s", rq->vm->id,
		       rq->vm->name, why);
	return err;
}

static int64_t decode_load(const struct hc_env *env, uint64_t gpa,
			   struct lc_request *rq)
{
	struct hc_vm_load *l = &rq->u.load;
	int64_t err = read_request(env, gpa, l, sizeof(*l));

	if (err || (err = lookup(&l->ref, rq)))
		return err;
	if (rq->vm->tenant.state != HC_VM_CREATED)
		return HC_E_STATE;
	if (l->image_len == 0 || l->image_len > HC_VM_IMAGE_MAX ||
	    l->init_len > HC_VM_INIT_MAX || l->secrets_len > HC_VM_SECRETS_MAX)
		return HC_E_INVAL;
	if (!in_caller(env, l->image_gpa, l->image_len) ||
	    !in_caller(env, l->init_gpa, l->init_len) ||
	    !in_caller(env, l->secrets_gpa, l->secrets_len))
		return HC_E_FAULT;
	rq->image = rq->init = NULL;
	if (l->secrets_len &&
	    !env->read_guest(env->ctx, l->secrets_gpa, rq->secrets, l->secrets_len))
		err = HC_E_FAULT;
	else if (!lifecycle_secrets_ok(rq->secrets, l->secrets_len))
		err = HC_E_INVAL;
	else
		err = stage_and_place(rq, env);
	if (err)
		unstage_load(rq, env);
	return err;
}

struct blob_io {
	const struct hc_env *env;
	uint64_t gpa, len;
};

static bool blob_read(void *ctx, uint64_t off, void *data, size_t len)
{
	const struct blob_io *b = ctx;

	if (off > b->len || len > b->len - off)
		return false;
	return b->env->read_guest(b->env->ctx, b->gpa + off, data, len);
}

static bool blob_write(void *ctx, uint64_t off, const void *data, size_t len)
{
	const struct blob_io *b = ctx;

	if (off > b->len || len > b->len - off)
		return false;
	return b->env->write_guest(b->env->ctx, b->gpa + off, data, len);
}

/* The header of a blob against the record: only the latest seal of this
 * very VM may come back. */
static int64_t check_header(const struct vm *vm, const struct seal_header *h)
{
	const struct vm_tenant *t = &vm->tenant;

	if (h->vm_id != vm->id || memcmp(h->owner, t->owner, HC_OWNER_LEN) ||
	    memcmp(h->measurement, t->measurement, sizeof(t->measurement)) ||
	    h->mem_size != vm->mem_size || h->context_len > LC_CONTEXT_MAX ||
	    h->page_count > vm->mem_size / PAGE_SIZE)
		return HC_E_VERIFY;
	if (h->version < t->version)
		return HC_E_ROLLBACK;
	if (h->version > t->version)
		return HC_E_VERIFY; /* we never sealed it: not authentic */
	return HC_OK;
}

static int64_t unseal(struct lc_request *rq, const struct hc_env *env);

/* A LOADED VM's memory and vCPU must still be what load recorded. */
static int64_t verify_boot_state(struct vm *vm, const struct hc_env *env)
{
	uint8_t d[LC_DIGEST_LEN];

	lifecycle_boot_digest(env->lc, env->lc_ctx, vm, d);
	if (memcmp(d, vm->tenant.boot_digest, sizeof(d)) != 0) {
		lc_log(env, "lifecycle: vm %u '%s' start refused: boot state does "
		     "not verify", vm->id, vm->name);
		return HC_E_VERIFY;
	}
	return HC_OK;
}

static int64_t decode_start(const struct hc_env *env, uint64_t gpa,
			    struct lc_request *rq)
{
	struct hc_vm_start *s = &rq->u.start;
	int64_t err = read_request(env, gpa, s, sizeof(*s));
	char why[96];

	if (err || (err = lookup(&s->ref, rq)))
		return err;
	rq->resume = false;
	switch (rq->vm->tenant.state) {
	case HC_VM_LOADED:
		if (s->blob_len != 0 || s->blob_gpa != 0)
			return HC_E_INVAL;
		return verify_boot_state(rq->vm, env);
	case HC_VM_SEALED:
		break;
	default:
		return HC_E_STATE;
	}
	if (!in_caller(env, s->blob_gpa, s->blob_len))
		return HC_E_FAULT;
	struct blob_io io = { env, s->blob_gpa, s->blob_len };
	if (seal_read_header(blob_read, &io, s->blob_len, &rq->hdr, why,
			     sizeof(why)) != SEAL_OK)
		err = HC_E_VERIFY;
	else
		err = check_header(rq->vm, &rq->hdr);
	if (err) {
		lc_log(env, "lifecycle: vm %u '%s' start refused: %s", rq->vm->id,
		     rq->vm->name, err == HC_E_ROLLBACK ? "rollback (older version)" :
		     "blob header does not match the record");
		return err;
	}
	err = unseal(rq, env);
	rq->resume = err == HC_OK;
	return err;
}

static int64_t decode_stop(const struct hc_env *env, uint64_t gpa,
			   struct lc_request *rq)
{
	struct hc_vm_stop *s = &rq->u.stop;
	int64_t err = read_request(env, gpa, s, sizeof(*s));
	size_t ctx_len;

	if (err || (err = lookup(&s->ref, rq)))
		return err;
	if (rq->vm->tenant.state != HC_VM_RUNNING &&
	    rq->vm->tenant.state != HC_VM_EXITED)
		return HC_E_STATE;
	if (!in_caller(env, s->out_gpa, s->out_cap))
		return HC_E_FAULT;
	ctx_len = env->lc->context_len(env->lc_ctx, rq->vm);
	if (ctx_len == 0 || ctx_len > LC_CONTEXT_MAX)
		return HC_E_INTERNAL;
	rq->seal_pages = count_pages(env, rq->vm);
	rq->blob_len = seal_blob_size((uint32_t)rq->seal_pages, (uint32_t)ctx_len);
	if (s->out_cap < rq->blob_len)
		return HC_E_INVAL;
	return HC_OK;
}

static int64_t decode_ref_only(const struct hc_env *env, uint64_t gpa,
			       struct lc_request *rq)
{
	int64_t err = read_request(env, gpa, &rq->u.ref, sizeof(rq->u.ref));

	return err ? err : lookup(&rq->u.ref, rq);
}

static int64_t decode_query(const struct hc_env *env, uint64_t gpa,
			    struct lc_request *rq)
{
	struct hc_vm_query *q = &rq->u.query;
	int64_t err = read_request(env, gpa, q, sizeof(*q));

	if (err)
		return err;
	if (q->ref.reserved != 0)
		return HC_E_INVAL;
	if (q->ref.vm_id != 0 && (err = lookup(&q->ref, rq)))
		return err;
	if (!in_caller(env, q->out_gpa, q->out_cap))
		return HC_E_FAULT;
	if (q->ref.vm_id != 0 && q->out_cap < sizeof(struct hc_vm_info))
		return HC_E_INVAL;
	return HC_OK;
}

static int64_t decode_console(const struct hc_env *env, uint64_t gpa,
			      struct lc_request *rq)
{
	struct hc_vm_console_read *c = &rq->u.console;
	int64_t err = read_request(env, gpa, c, sizeof(*c));

	if (err || (err = lookup(&c->ref, rq)))
		return err;
	return in_caller(env, c->out_gpa, c->out_cap) ? HC_OK : HC_E_FAULT;
}

int64_t lifecycle_decode(const struct hc_call *c, const struct hc_env *env,
			 struct lc_request *rq)
{
	rq->nr = c->nr;
	rq->vm = NULL;
	switch (c->nr) {
	case HC_VM_CREATE:
		return decode_create(env, c->arg[0], rq);
	case HC_VM_LOAD:
		return decode_load(env, c->arg[0], rq);
	case HC_VM_START:
		return decode_start(env, c->arg[0], rq);
	case HC_VM_STOP:
		return decode_stop(env, c->arg[0], rq);
	case HC_VM_DESTROY:
		return decode_ref_only(env, c->arg[0], rq);
	case HC_VM_QUERY:
		return decode_query(env, c->arg[0], rq);
	case HC_VM_CONSOLE_READ:
		return decode_console(env, c->arg[0], rq);
	default:
		return HC_E_NOSYS;
	}
}

/* ---- execute ------------------------------------------------------------------ */

static int64_t exec_create(struct lc_request *rq, const struct hc_env *env)
{
	const struct hc_vm_create *c = &rq->u.create;
	struct vm *vm = vm_table_alloc_tenant(c->name);
	struct vm_tenant *t;

	if (!vm)
		return HC_E_INTERNAL; /* decode saw a free slot */
	t = &vm->tenant;
	vm->mem_size = c->mem_size;
	t->active = true;
	t->state = HC_VM_CREATED;
	memcpy(t->owner, c->ref.owner, HC_OWNER_LEN);
	if (crypto_random(t->key, sizeof(t->key)) != CRYPTO_OK) {
		crypto_wipe(t->key, sizeof(t->key));
		vm_table_free(vm);
		return HC_E_INTERNAL;
	}
	if (env->lc->mem_alloc(env->lc_ctx, vm) != HC_OK) {
		crypto_wipe(t->key, sizeof(t->key));
		vm_table_free(vm);
		lc_log(env, "lifecycle: create '%s' refused: not enough memory "
		     "(%llu MiB), %llu frames free", c->name,
		     (unsigned long long)(c->mem_size >> 20), frames_free(env));
		return HC_E_NOMEM;
	}
	t->has_memory = true;
	lc_log(env, "lifecycle: vm %u '%s' created (%llu MiB), %llu frames free",
	     vm->id, vm->name, (unsigned long long)(vm->mem_size >> 20),
	     frames_free(env));
	return vm->id;
}

struct page_adapter {
	const struct lc_ops *ops;
	void *mctx;
	const struct vm *vm;
};

static void *adapter_page(uint64_t gpa, void *ctx)
{
	const struct page_adapter *a = ctx;

	if (gpa >= a->vm->mem_size || (gpa & PAGE_MASK))
		return NULL;
	return a->ops->page(a->mctx, a->vm, gpa);
}

static void copy_in(const struct page_adapter *a, uint64_t gpa,
		    const uint8_t *src, uint64_t len)
{
	while (len) {
		uint64_t off = gpa & PAGE_MASK;
		uint64_t n = PAGE_SIZE - off < len ? PAGE_SIZE - off : len;
		memcpy(a->ops->page(a->mctx, a->vm, gpa - off) + off, src, n);
		gpa += n;
		src += n;
		len -= n;
	}
}

static void write_boot_info(const struct page_adapter *a,
			    const struct lc_placement *p, const struct lc_image *in)
{
	const struct vm *vm = a->vm;
	struct custos_boot_info bi = {
		.magic = CUSTOS_BOOT_INFO_MAGIC,
		.abi_version = CUSTOS_ABI_VERSION,
		.vm_id = vm->id,
		.mem_size = vm->mem_size,
		.image_start = p->img.lowest_gpa,
		.image_end = page_up(p->img.highest_gpa),
		.tsc_per_tick = LC_SLICE_TSC,
		.init_data_gpa = in->init_len ? p->init_gpa : 0,
		.init_data_size = in->init_len,
		.secrets_gpa = in->secrets_len ? p->secrets_gpa : 0,
		.secrets_size = in->secrets_len,
		.tsc_hz = timebase_tsc_hz(),
	};
	memcpy(bi.name, vm->name, sizeof(bi.name) - 1);
	if (in->cmdline)
		strncpy(bi.cmdline, in->cmdline, sizeof(bi.cmdline) - 1);
	copy_in(a, GUEST_BOOT_INFO_GPA, (const uint8_t *)&bi, sizeof(bi));
}

/* Where image, init data and secrets go; nothing is written. */
static int64_t place(const struct vm *vm, const struct lc_image *in,
		     struct lc_placement *p, char *why, size_t why_len)
{
	uint64_t limit = vm->mem_size - LC_STACK_RESERVE;

	if (elf_image_parse(in->image, in->image_len, GUEST_IMAGE_MIN_GPA, limit,
			    &p->img, why, why_len))
		return HC_E_INVAL;
	p->init_gpa = page_up(p->img.highest_gpa);
	p->secrets_gpa = page_up(p->init_gpa + in->init_len);
	if (p->secrets_gpa > limit || in->secrets_len > limit - p->secrets_gpa) {
		snprintf(why, why_len, "image, init data and secrets do not fit "
			 "in %llu MiB", (unsigned long long)(vm->mem_size >> 20));
		return HC_E_INVAL;
	}
	return HC_OK;
}

/* Write what place() decided: cannot fail but for a TCB bug. */
static int64_t install(const struct lc_ops *ops, void *mctx, struct vm *vm,
		       const struct lc_image *in, const struct lc_placement *p,
		       char *why, size_t why_len)
{
	static const uint8_t no_salt[HC_SALT_LEN];
	const uint8_t *salt = in->salt ? in->salt : no_salt;
	struct vm_tenant *t = &vm->tenant;
	struct page_adapter pa = { ops, mctx, vm };
	struct lc_regs regs;

	if (in->measure)
		lifecycle_launch_measurement(vm->name, vm->mem_size, in->image,
					     in->image_len, in->init, in->init_len,
					     salt, in->secrets, in->secrets_len,
					     t->measurement);
	for (size_t i = 0; i < p->img.segment_count; i++) {
		const struct elf_segment *s = &p->img.segments[i];
		copy_in(&pa, s->gpa, in->image + s->file_offset, s->file_size);
	}
	copy_in(&pa, p->init_gpa, in->init, in->init_len);
	copy_in(&pa, p->secrets_gpa, (const uint8_t *)in->secrets, in->secrets_len);
	if (guest_pt_build(vm->mem_size, adapter_page, &pa, &regs.cr3)) {
		snprintf(why, why_len, "could not build guest page tables");
		return HC_E_INTERNAL; /* every page exists: cannot happen */
	}
	write_boot_info(&pa, p, in);
	regs.rip = p->img.entry;
	regs.rsp = vm->mem_size;
	regs.rdi = GUEST_BOOT_INFO_GPA;
	ops->vcpu_setup(mctx, vm, &regs);
	memcpy(t->salt, salt, sizeof(t->salt));
	t->secrets_gpa = in->secrets_len ? p->secrets_gpa : 0;
	t->secrets_len = in->secrets_len;
	if (in->measure)
		lifecycle_boot_digest(ops, mctx, vm, t->boot_digest);
	return HC_OK;
}

int64_t lifecycle_load_image(const struct lc_ops *ops, void *mctx,
			     struct vm *vm, const struct lc_image *in, char *why,
			     size_t why_len)
{
	struct lc_placement p;
	int64_t err = place(vm, in, &p, why, why_len);

	return err ? err : install(ops, mctx, vm, in, &p, why, why_len);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

static int64_t exec_load(struct lc_request *rq, const struct hc_env *env)
{
	struct lc_image in = staged_image(rq);
	struct vm *vm = rq->vm;
	char why[120], mhex[2 * LC_DIGEST_LEN + 1];
	int64_t err = install(env->lc, env->lc_ctx, vm, &in, &rq->place, why,
			      sizeof(why));

	unstage_load(rq, env);
	if (err != HC_OK) {
		lc_log(env, "lifecycle: vm %u '%s' load refused: %s", vm->id,
		       vm->name, why);
		return err;
	}
	vm->tenant.state = HC_VM_LOADED;
	hex(vm->tenant.measurement, LC_DIGEST_LEN, mhex);
	lc_log(env, "lifecycle: vm %u '%s' loaded, measurement %s", vm->id,
	       vm->name, mhex);
	return HC_OK;
}

static void release(const struct hc_env *env, struct vm *vm)
{
	env->lc->set_runnable(env->lc_ctx, vm, false);
	if (vm->tenant.has_memory)
		env->lc->mem_free(env->lc_ctx, vm);
	vm->tenant.has_memory = false;
}

/* Decode's half of starting a SEALED VM: fresh frames, the blob decrypted
 * into them, its tag checked, its context restored. On any failure all of
 * it is scrubbed and freed again; execute only puts the VM on the run queue. */
static int64_t unseal(struct lc_request *rq, const struct hc_env *env)
{
	const struct hc_vm_start *s = &rq->u.start;
	const struct seal_header *h = &rq->hdr;
	const struct lc_ops *ops = env->lc;
	struct vm *vm = rq->vm;
	struct blob_io io = { env, s->blob_gpa, s->blob_len };
	size_t list_bytes = (size_t)h->page_count * 8;
	uint64_t *list = NULL;
	struct seal_reader r;
	int rc = SEAL_E_USAGE;

	if (list_bytes && !(list = ops->stage(env->lc_ctx, list_bytes)))
		return HC_E_NOMEM;
	if (ops->mem_alloc(env->lc_ctx, vm) != HC_OK) {
		if (list)
			ops->unstage(env->lc_ctx, list, list_bytes);
		lc_log(env, "lifecycle: vm %u '%s' start refused: not enough memory, "
		     "%llu frames free", vm->id, vm->name, frames_free(env));
		return HC_E_NOMEM;
	}
	vm->tenant.has_memory = true;
	rc = seal_read_begin(&r, vm->tenant.key, h, blob_read, &io);
	if (rc == SEAL_OK)
		rc = seal_read_context(&r, context_buf, h->context_len);
	if (rc == SEAL_OK && h->page_count)
		rc = seal_read_page_list(&r, list, h->page_count);
	for (uint32_t i = 0; rc == SEAL_OK && list && i < h->page_count; i++)
		rc = seal_read_page(&r, ops->page(env->lc_ctx, vm, list[i]));
	if (rc == SEAL_OK)
		rc = seal_read_end(&r);
	if (list)
		ops->unstage(env->lc_ctx, list, list_bytes);
	if (rc == SEAL_OK && !ops->context_restore(env->lc_ctx, vm, context_buf,
						   h->context_len))
		rc = SEAL_E_MALFORMED;
	crypto_wipe(context_buf, sizeof(context_buf));
	if (rc != SEAL_OK) {
		seal_read_abort(&r);
		ops->mem_free(env->lc_ctx, vm);
		vm->tenant.has_memory = false;
		lc_log(env, "lifecycle: vm %u '%s' start refused: blob does not "
		     "verify (%s), %llu frames free", vm->id, vm->name,
		     seal_strerror(rc), frames_free(env));
		return rc == SEAL_E_IO ? HC_E_FAULT : HC_E_VERIFY;
	}
	return HC_OK;
}

/* Decode verified the boot state, or restored and authenticated the
 * sealed state into fresh frames: here it only runs. */
static int64_t exec_start(struct lc_request *rq, const struct hc_env *env)
{
	struct vm *vm = rq->vm;

	vm->tenant.state = HC_VM_RUNNING;
	env->lc->set_runnable(env->lc_ctx, vm, true);
	if (rq->resume)
		lc_log(env, "lifecycle: vm %u '%s' resumed from v%llu, %llu frames free",
		       vm->id, vm->name, (unsigned long long)vm->tenant.version,
		       frames_free(env));
	else
		lc_log(env, "lifecycle: vm %u '%s' started", vm->id, vm->name);
	return HC_OK;
}

/* The pages that are not all zero, ascending, in chunks. */
static int write_pages(struct seal_writer *w, const struct hc_env *env,
		       const struct vm *vm, bool list)
{
	uint64_t chunk[64];
	uint32_t n = 0;
	int rc = SEAL_OK;

	for (uint64_t gpa = 0; rc == SEAL_OK && gpa < vm->mem_size; gpa += PAGE_SIZE) {
		const uint8_t *p = env->lc->page(env->lc_ctx, vm, gpa);
		if (page_is_zero(p))
			continue;
		if (!list) {
			rc = seal_write_page(w, p);
			continue;
		}
		chunk[n++] = gpa;
		if (n == ARRAY_SIZE(chunk)) {
			rc = seal_write_page_list(w, chunk, n);
			n = 0;
		}
	}
	if (rc == SEAL_OK && list && n)
		rc = seal_write_page_list(w, chunk, n);
	return rc;
}

static int64_t exec_stop(struct lc_request *rq, const struct hc_env *env)
{
	const struct hc_vm_stop *s = &rq->u.stop;
	const struct lc_ops *ops = env->lc;
	struct vm *vm = rq->vm;
	struct vm_tenant *t = &vm->tenant;
	struct blob_io io = { env, s->out_gpa, rq->blob_len };
	struct seal_header h = {
		.vm_id = vm->id,
		.version = t->version + 1,
		.mem_size = vm->mem_size,
		.page_count = (uint32_t)rq->seal_pages,
	};
	struct seal_writer w;
	bool was_running = t->state == HC_VM_RUNNING;
	int rc;

	ops->set_runnable(env->lc_ctx, vm, false);
	h.context_len = (uint32_t)ops->context_save(env->lc_ctx, vm, context_buf,
						     sizeof(context_buf));
	memcpy(h.owner, t->owner, HC_OWNER_LEN);
	memcpy(h.measurement, t->measurement, sizeof(h.measurement));
	rc = seal_write_begin(&w, t->key, &h, blob_write, &io);
	if (rc == SEAL_OK)
		rc = seal_write_context(&w, context_buf, h.context_len);
	if (rc == SEAL_OK && h.page_count)
		rc = write_pages(&w, env, vm, true);
	if (rc == SEAL_OK)
		rc = write_pages(&w, env, vm, false);
	if (rc == SEAL_OK)
		rc = seal_write_end(&w);
	crypto_wipe(context_buf, sizeof(context_buf));
	if (rc != SEAL_OK) {
		seal_write_abort(&w);
		if (was_running)
			ops->set_runnable(env->lc_ctx, vm, true);
		lc_log(env, "lifecycle: vm %u '%s' stop failed: %s", vm->id,
		     vm->name, seal_strerror(rc));
		return rc == SEAL_E_IO ? HC_E_FAULT : HC_E_INTERNAL;
	}
	release(env, vm);
	t->version++;
	t->state = HC_VM_SEALED;
	lc_log(env, "lifecycle: vm %u '%s' sealed v%llu (%u pages, %llu bytes), "
	     "%llu frames free", vm->id, vm->name, (unsigned long long)t->version,
	     h.page_count, (unsigned long long)rq->blob_len, frames_free(env));
	return (int64_t)rq->blob_len;
}

static void destroy(const struct lc_ops *ops, void *mctx, struct vm *vm)
{
	struct vm_tenant *t = &vm->tenant;

	ops->set_runnable(mctx, vm, false);
	if (t->has_memory)
		ops->mem_free(mctx, vm);
	crypto_wipe(t, sizeof(*t));
	console_ring_scrub(&vm->console);
	vm_table_free(vm);
}

static int64_t exec_destroy(struct lc_request *rq, const struct hc_env *env)
{
	unsigned id = rq->vm->id;
	char name[HC_VM_NAME_MAX];

	memcpy(name, rq->vm->name, sizeof(name));
	destroy(env->lc, env->lc_ctx, rq->vm);
	lc_log(env, "lifecycle: vm %u '%s' destroyed, %llu frames free", id, name,
	     frames_free(env));
	return HC_OK;
}

/* seal_size only when asked about this one VM: it scans the VM's memory,
 * which a list (what the TPGVM asks for on every request) need not pay. */
static void info_of(const struct hc_env *env, const struct vm *vm,
		    bool seal_size, struct hc_vm_info *i)
{
	const struct vm_tenant *t = &vm->tenant;

	memset(i, 0, sizeof(*i));
	i->vm_id = vm->id;
	i->state = t->state;
	memcpy(i->name, vm->name, sizeof(i->name) - 1);
	i->mem_size = vm->mem_size;
	i->version = t->version;
	if (seal_size && (t->state == HC_VM_RUNNING || t->state == HC_VM_EXITED))
		i->seal_size = seal_blob_size((uint32_t)count_pages(env, vm),
			(uint32_t)env->lc->context_len(env->lc_ctx, vm));
	i->console_pending = console_ring_unread(&vm->console);
	if (t->state >= HC_VM_LOADED)
		memcpy(i->measurement, t->measurement, sizeof(i->measurement));
	if (t->state == HC_VM_EXITED)
		memcpy(i->stop_reason, vm->stop_reason, sizeof(i->stop_reason) - 1);
}

static int64_t exec_query(struct lc_request *rq, const struct hc_env *env)
{
	const struct hc_vm_query *q = &rq->u.query;
	uint64_t room = q->out_cap / sizeof(struct hc_vm_info), n = 0;
	struct hc_vm_info info;

	for (unsigned id = 1; id <= VM_MAX && n < room; id++) {
		const struct vm *vm = rq->vm ? (id == rq->vm->id ? rq->vm : NULL)
					     : vm_table_get(id);
		if (!vm || !vm->tenant.active ||
		    memcmp(vm->tenant.owner, q->ref.owner, HC_OWNER_LEN))
			continue;
		info_of(env, vm, rq->vm != NULL, &info);
		if (!env->write_guest(env->ctx, q->out_gpa + n * sizeof(info),
				      &info, sizeof(info)))
			return HC_E_FAULT;
		n++;
	}
	return (int64_t)n;
}

static int64_t exec_console(struct lc_request *rq, const struct hc_env *env)
{
	const struct hc_vm_console_read *c = &rq->u.console;
	char chunk[256];
	uint64_t done = 0;

	while (done < c->out_cap) {
		uint64_t want = c->out_cap - done;
		size_t n = console_ring_read(&rq->vm->console, chunk,
					     want < sizeof(chunk) ? want : sizeof(chunk));
		if (n == 0)
			break;
		if (!env->write_guest(env->ctx, c->out_gpa + done, chunk, n))
			return HC_E_FAULT;
		done += n;
	}
	crypto_wipe(chunk, sizeof(chunk));
	return (int64_t)done;
}

int64_t lifecycle_execute(struct lc_request *rq, const struct hc_env *env)
{
	switch (rq->nr) {
	case HC_VM_CREATE:
		return exec_create(rq, env);
	case HC_VM_LOAD:
		return exec_load(rq, env);
	case HC_VM_START:
		return exec_start(rq, env);
	case HC_VM_STOP:
		return exec_stop(rq, env);
	case HC_VM_DESTROY:
		return exec_destroy(rq, env);
	case HC_VM_QUERY:
		return exec_query(rq, env);
	case HC_VM_CONSOLE_READ:
		return exec_console(rq, env);
	default:
		return HC_E_NOSYS;
	}
}

void lifecycle_exited(struct vm *vm)
{
	if (vm->tenant.active && vm->tenant.state == HC_VM_RUNNING)
		vm->tenant.state = HC_VM_EXITED;
}

void lifecycle_destroy_all(const struct lc_ops *ops, void *mctx)
{
	for (unsigned id = 1; id <= VM_MAX; id++) {
		struct vm *vm = vm_table_get(id);
		if (vm && vm->tenant.active)
			destroy(ops, mctx, vm);
	}
}

const char *lifecycle_state_name(uint32_t state)
{
	return state < ARRAY_SIZE(state_names) ? state_names[state] : "?";
}
