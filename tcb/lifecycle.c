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
#include "tcb/hex.h"
#include "tcb/elf_image.h"
#include "tcb/elf_place.h"
#include "tcb/linux_boot.h"
#include "tcb/linux_measure.h"
#include "tcb/byteorder.h"
#include "tcb/guest_pt.h"
#include "tcb/hypercall.h"
#include "tcb/timebase.h"
#include "tcb/errmsg.h"
#include "crypto/crypto.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* The vCPU context of a seal being written: one CPU, one buffer, wiped
 * after every use (a resume keeps its own in its stream until the tag
 * verifies). */
static uint8_t context_buf[LC_CONTEXT_MAX];

enum lc_phase {
	PH_BEGIN,
	PH_MAP,        /* create, resume: fresh frames for every page */
	PH_STAGE,      /* load: image and init data into TCB frames */
	PH_MEASURE,    /* load: their digests */
	PH_COPY,       /* load of a Linux VM: kernel and initrd into its pages */
	PH_COUNT,      /* stop, query: the pages that are not zero (stop: into
			* nonzero_map) */
	PH_SEAL_LIST,  /* stop: their GPAs into the blob (from the map) */
	PH_SEAL_PAGES, /* stop: their contents (the map's pages) */
	PH_OPEN_CONTEXT, /* resume: the blob's vCPU context (kept until the tag) */
	PH_OPEN_LIST,  /* resume: the blob's page list (into the stream's map) */
	PH_OPEN_PAGES, /* resume: its pages into the fresh frames */
	PH_UNMAP,      /* stop, destroy, a failed create or resume */
	PH_STREAM,     /* a stream's call: the phase is the stream's own */
	PH_DONE,
};

/*
 * A stream: a seal (stop) or a resume under way, which outlives the calls
 * that move its bytes (docs/lifecycle.md, "Streams"), so that between them
 * the one job slot is free for every other VM's calls. On the VM's record,
 * in TCB frames (lc_ops.stage): sizeof(struct lc_stream), about 14 KiB
 * (the writer or reader with its 4 KiB piece, a resume's vCPU context),
 * plus the map, mem_size / 32 KiB bytes (32 KiB for GUEST_MEM_MAX). At
 * most HC_STREAMS_MAX open between calls, plus the one a STOP or START of
 * one call opens and ends within its job.
 */
#define STREAM_CHUNK 64u

struct lc_stream {
	bool resume;              /* opening a blob; else sealing one */
	bool coding;              /* c.w or c.r holds GCM state */
	bool was_running;         /* stop: runnable before it froze */
	bool tag_held;            /* stop: the tag, held until the commit */
	bool short_read;          /* resume: the reader wanted bytes past the piece */
	bool aborting;            /* resume: HC_STREAM_ABORT's unmap */
	bool boot_copy;           /* HC_STREAM_BOOT_COPY: version 0 */
	enum lc_phase phase;
	size_t bytes;             /* what stage() gave */
	struct seal_header hdr;   /* resume: the blob's, checked against the record */
	uint64_t blob_len;        /* the whole blob (stop: 0 until counted) */
	uint64_t next;            /* blob bytes moved so far: the next offset */
	uint64_t at, pages;       /* the phase's cursor; pages counted or moved */
	uint64_t tcb_cycles;      /* TSC cycles of its calls before this one */
	int64_t fail;             /* resume: an error being undone */
	const char *why;          /* for its log line */
	/* The current call's window: blob bytes [win_off, win_end) at win_gpa
	 * in the caller's memory, and the step's env (set every unit). */
	const struct hc_env *env;
	uint64_t win_gpa, win_off, win_end;
	uint64_t chunk[STREAM_CHUNK]; /* page-list entries on their way */
	uint32_t chunk_n;
	uint8_t tag[SEAL_TAG_LEN];
	union {
		struct seal_writer w;
		struct seal_reader r;
	} c;
	uint8_t context[LC_CONTEXT_MAX]; /* resume: restored once the tag verifies */
	/* Bit n of word n / 64: the page at n * 4 KiB is not zero (stop: the
	 * one pass over memory, read by the list and pages phases), or is in
	 * the blob's list (resume). What pages hold data says something of a
	 * VM: wiped with the stream. */
	uint64_t map[];
};

/* Everything decode learned, for the job or the execution that follows. */
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
		struct hc_vm_console_input input;
		struct hc_vm_stream stream;
		struct hc_vm_ref ref;
	} u;
	char secrets[HC_VM_SECRETS_MAX];
	char kcmdline[HC_VM_CMDLINE_MAX]; /* HC_VM_LOAD of a Linux VM */
	/* HC_VM_LOAD: the second thing staged after the image: the init data
	 * (ELF) or the initrd (Linux), from the caller's aux_gpa. */
	uint64_t aux_gpa, aux_len;
	struct seal_header hdr; /* HC_VM_START of a SEALED VM: its header */
	uint8_t *image, *init;  /* HC_VM_LOAD: staged in TCB frames (init:
				 * aux_len bytes, init data or initrd) */
	struct lc_placement place; /* HC_VM_LOAD: where they go */
	bool resume;            /* HC_VM_START: restored from a blob */
	/* A call that moves a blob (STOP, START of a SEALED VM, and their
	 * streamed forms): its window and what it asks of the stream. */
	struct {
		bool streamed;      /* HC_VM_*_STREAM: answers in the request */
		bool abort;         /* HC_STREAM_ABORT */
		bool open;          /* offset 0: opens the VM's stream */
		bool boot_copy;     /* HC_STREAM_BOOT_COPY */
		uint64_t gpa, len;  /* the window */
		uint64_t offset;    /* its blob offset */
		uint64_t blob_len;  /* resume: the blob's total */
	} win;
};

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
	 * per 2 MiB (tcb/npt.c maps 4 KiB leaves); VMCS and XSAVE area. */
	return mem_size / PAGE_SIZE + 3 + mem_size / 0x200000ull + 2;
}

/* The launch measurement (docs/lifecycle.md) from the SHA-256 digests of
 * image and init data, which a long load computes in steps. */
static void launch_measurement(const char name[HC_VM_NAME_MAX],
			       uint64_t mem_size, const uint8_t image_digest[LC_COMPONENT_LEN],
			       size_t image_len, const uint8_t init_digest[LC_COMPONENT_LEN],
			       size_t init_len, const uint8_t salt[HC_SALT_LEN],
			       const void *secrets, size_t secrets_len,
			       uint8_t out[LC_DIGEST_LEN])
{
	struct crypto_sha384_ctx c;
	struct crypto_sha256_ctx s;
	uint8_t padded[HC_VM_NAME_MAX] = { 0 }, d[LC_COMPONENT_LEN];
	size_t n = 0;

	while (n < HC_VM_NAME_MAX - 1 && name[n]) {
		padded[n] = (uint8_t)name[n];
		n++;
	}
	crypto_sha384_init(&c);
	crypto_sha384_update(&c, LC_LAUNCH_TAG, strlen(LC_LAUNCH_TAG));
	crypto_sha384_update(&c, padded, sizeof(padded));
	sha_le64(&c, mem_size);
	crypto_sha384_update(&c, image_digest, LC_COMPONENT_LEN);
	sha_le64(&c, image_len);
	crypto_sha384_update(&c, init_digest, LC_COMPONENT_LEN);
	sha_le64(&c, init_len);
	crypto_sha256_init(&s);
	crypto_sha256_update(&s, salt, HC_SALT_LEN);
	crypto_sha256_update(&s, secrets, secrets_len);
	crypto_sha256_final(&s, d);
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

/* ---- decode ------------------------------------------------------------------
 *
 * Decode checks what can be checked at once and may fail; it takes nothing
 * (but HC_VM_LOAD's staging, which it gives back on failure). What grows
 * with the VM's memory or image -- counting, hashing, sealing, mapping and
 * freeing frames -- is the job's (below), in bounded steps.
 */

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
		lc_log(env, "lifecycle: create refused: not enough memory "
		       "(%llu MiB), %llu frames free",
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

	if (l->boot_protocol == HC_BOOT_LINUX64)
		return (struct lc_image){
			.image = rq->image, .image_len = l->image_len,
			.is_linux = true,
			.initrd = rq->init, .initrd_len = rq->aux_len,
			.kcmdline = rq->kcmdline, .kcmdline_len = l->cmdline_len,
		};
	return (struct lc_image){
		.image = rq->image, .image_len = l->image_len,
		.init = rq->init, .init_len = l->init_len,
		.secrets = rq->secrets, .secrets_len = l->secrets_len,
		.salt = l->secrets_salt,
	};
}

/* Scrub and free the staging; forget the secrets. */
static void unstage_load(struct lc_request *rq, const struct hc_env *env)
{
	const struct hc_vm_load *l = &rq->u.load;

	if (rq->init)
		env->lc->unstage(env->lc_ctx, rq->init, rq->aux_len);
	if (rq->image)
		env->lc->unstage(env->lc_ctx, rq->image, l->image_len);
	rq->image = rq->init = NULL;
	crypto_wipe(rq->secrets, sizeof(rq->secrets));
	crypto_wipe(rq->kcmdline, sizeof(rq->kcmdline));
}

static int64_t decode_load(const struct hc_env *env, uint64_t gpa,
			   struct lc_request *rq)
{
	struct hc_vm_load *l = &rq->u.load;
	const struct lc_ops *ops = env->lc;
	int64_t err = read_request(env, gpa, l, sizeof(*l));

	if (err || (err = lookup(&l->ref, rq)))
		return err;
	if (rq->vm->tenant.state != HC_VM_CREATED)
		return HC_E_STATE;
	if (l->reserved2 != 0)
		return HC_E_INVAL;
	if (l->boot_protocol == HC_BOOT_LINUX64) {
		if (l->image_len == 0 || l->image_len > HC_VM_KERNEL_MAX ||
		    l->initrd_len > HC_VM_INITRD_MAX ||
		    l->cmdline_len > HC_VM_CMDLINE_MAX ||
		    l->init_len != 0 || l->secrets_len != 0)
			return HC_E_INVAL;
		rq->aux_gpa = l->initrd_gpa;
		rq->aux_len = l->initrd_len;
	} else if (l->boot_protocol == HC_BOOT_ELF) {
		if (l->image_len == 0 || l->image_len > HC_VM_IMAGE_MAX ||
		    l->init_len > HC_VM_INIT_MAX ||
		    l->secrets_len > HC_VM_SECRETS_MAX ||
		    l->initrd_len != 0 || l->cmdline_len != 0)
			return HC_E_INVAL;
		rq->aux_gpa = l->init_gpa;
		rq->aux_len = l->init_len;
	} else {
		return HC_E_INVAL;
	}
	if (!in_caller(env, l->image_gpa, l->image_len) ||
	    !in_caller(env, l->init_gpa, l->init_len) ||
	    !in_caller(env, l->secrets_gpa, l->secrets_len) ||
	    !in_caller(env, l->initrd_gpa, l->initrd_len) ||
	    !in_caller(env, l->cmdline_gpa, l->cmdline_len))
		return HC_E_FAULT;
	rq->image = rq->init = NULL;
	if (l->secrets_len &&
	    !env->read_guest(env->ctx, l->secrets_gpa, rq->secrets, l->secrets_len))
		err = HC_E_FAULT;
	else if (!lifecycle_secrets_ok(rq->secrets, l->secrets_len))
		err = HC_E_INVAL;
	else if (l->cmdline_len &&
		 !env->read_guest(env->ctx, l->cmdline_gpa, rq->kcmdline, l->cmdline_len))
		err = HC_E_FAULT;
	else if (linux_cmdline_check(rq->kcmdline, l->cmdline_len, NULL, 0))
		err = HC_E_INVAL;
	if (err) {
		crypto_wipe(rq->secrets, sizeof(rq->secrets));
		return err;
	}
	/* The image and init data (or initrd) are copied in by the job; here
	 * only the room for them (TCB frames: the caller must not change them
	 * under the loader, and its pages need not be contiguous). */
	rq->image = ops->stage(env->lc_ctx, l->image_len);
	if (rq->aux_len && rq->image)
		rq->init = ops->stage(env->lc_ctx, rq->aux_len);
	if (!rq->image || (rq->aux_len && !rq->init)) {
		lc_log(env, "lifecycle: vm %u load refused: no memory to "
		       "stage the image", rq->vm->id);
		unstage_load(rq, env);
		return HC_E_NOMEM;
	}
	return HC_OK;
}

/* A piece of a blob in the caller's memory, for seal_read_header. */
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

/* The header of a blob against the record: only the latest seal of this
 * very VM may come back. */
static int64_t check_header(const struct vm *vm, const struct seal_header *h,
			    bool boot_copy)
{
	const struct vm_tenant *t = &vm->tenant;

	if (h->vm_id != vm->id || memcmp(h->owner, t->owner, HC_OWNER_LEN) ||
	    memcmp(h->measurement, t->measurement, sizeof(t->measurement)) ||
	    h->mem_size != vm->mem_size || h->context_len > LC_CONTEXT_MAX ||
	    h->page_count > vm->mem_size / PAGE_SIZE)
		return HC_E_VERIFY;
	/* A boot copy is sealed once, unchanged, before the VM first ran: any
	 * blob of version 0 under its key is that one. */
	if (boot_copy)
		return h->version == 0 ? HC_OK : HC_E_VERIFY;
	if (h->version < t->version)
		return HC_E_ROLLBACK;
	if (h->version > t->version)
		return HC_E_VERIFY; /* we never sealed it: not authentic */
	return HC_OK;
}

/* Why check_header refused, for the console. A version newer than the
 * record's is either not authentic or the record itself was set back (a
 * TPM's state restored from a copy): both are refused, the log says both. */
static const char *start_refusal(const struct vm *vm, const struct seal_header *h,
				 int64_t err, bool boot_copy)
{
	if (boot_copy)
		return h->vm_id == vm->id && h->version != 0 ?
		       "not its boot copy (a later seal)" :
		       "boot copy's header does not match the record";
	if (err == HC_E_ROLLBACK)
		return "rollback (older version)";
	if (h->vm_id == vm->id && h->version > vm->tenant.version)
		return "the blob's version is newer than the record's: not authentic, "
		       "or the platform's records were rolled back";
	return "blob header does not match the record";
}

/* The header of the blob whose first piece is rq->win's, against the
 * record (a resume's decode). */
static int64_t open_header(const struct hc_env *env, struct lc_request *rq)
{
	struct blob_io io = { env, rq->win.gpa, rq->win.len };
	char why[96];
	int64_t err;

	if (seal_read_header(blob_read, &io, rq->win.blob_len, &rq->hdr, why,
			     sizeof(why)) != SEAL_OK)
		err = HC_E_VERIFY;
	else
		err = check_header(rq->vm, &rq->hdr, rq->win.boot_copy);
	if (err) {
		lc_log(env, "lifecycle: vm %u start refused: %s", rq->vm->id,
		       start_refusal(rq->vm, &rq->hdr, err, rq->win.boot_copy));
		return err;
	}
	rq->resume = true;
	return HC_OK;
}

static int64_t decode_start(const struct hc_env *env, uint64_t gpa,
			    struct lc_request *rq)
{
	struct hc_vm_start *s = &rq->u.start;
	int64_t err = read_request(env, gpa, s, sizeof(*s));

	if (err || (err = lookup(&s->ref, rq)))
		return err;
	rq->resume = false;
	if (rq->vm->tenant.stream)
		return HC_E_STATE;
	switch (rq->vm->tenant.state) {
	case HC_VM_LOADED:
		return s->blob_len != 0 || s->blob_gpa != 0 ? HC_E_INVAL : HC_OK;
	case HC_VM_SEALED:
		break;
	default:
		return HC_E_STATE;
	}
	if (!in_caller(env, s->blob_gpa, s->blob_len))
		return HC_E_FAULT;
	/* A resume stream whose one piece is the whole blob. */
	rq->win.open = true;
	rq->win.gpa = s->blob_gpa;
	rq->win.len = rq->win.blob_len = s->blob_len;
	return open_header(env, rq);
}

/* The VM's vCPU context fits the seal's buffer, its memory the map. */
static int64_t stop_sizes_ok(const struct hc_env *env, const struct vm *vm)
{
	size_t ctx_len;

	if (vm->mem_size > GUEST_MEM_MAX)
		return HC_E_INTERNAL; /* lifecycle_mem_ok: the map holds it */
	ctx_len = env->lc->context_len(env->lc_ctx, vm);
	if (ctx_len == 0 || ctx_len > LC_CONTEXT_MAX)
		return HC_E_INTERNAL;
	return HC_OK;
}

/* Whether out_cap is enough is known only once the pages are counted:
 * the job says so (HC_E_INVAL, and the VM runs on as before). */
static int64_t decode_stop(const struct hc_env *env, uint64_t gpa,
			   struct lc_request *rq)
{
	struct hc_vm_stop *s = &rq->u.stop;
	int64_t err = read_request(env, gpa, s, sizeof(*s));

	if (err || (err = lookup(&s->ref, rq)))
		return err;
	if ((rq->vm->tenant.state != HC_VM_RUNNING &&
	     rq->vm->tenant.state != HC_VM_EXITED) || rq->vm->tenant.stream)
		return HC_E_STATE;
	if (!in_caller(env, s->out_gpa, s->out_cap))
		return HC_E_FAULT;
	/* A stop stream whose one window is the whole buffer. */
	rq->win.open = true;
	rq->win.gpa = s->out_gpa;
	rq->win.len = s->out_cap;
	return stop_sizes_ok(env, rq->vm);
}

/* Whom a stop stream may seal: a RUNNING or EXITED VM, or (its boot copy)
 * a LOADED one. */
static bool stop_state_ok(uint32_t state, bool boot_copy)
{
	if (boot_copy)
		return state == HC_VM_LOADED;
	return state == HC_VM_RUNNING || state == HC_VM_EXITED;
}

/* Streams open now (the current job's one-call stream included: none
 * exists while a call is decoded). */
static unsigned streams_open(void)
{
	unsigned n = 0;

	for (unsigned id = 1; id <= VM_MAX; id++) {
		const struct vm *vm = vm_table_get(id);
		n += vm && vm->tenant.active && vm->tenant.stream;
	}
	return n;
}

static int64_t decode_stream(const struct hc_env *env, uint64_t gpa,
			     struct lc_request *rq, bool resume)
{
	struct hc_vm_stream *s = &rq->u.stream;
	const struct lc_stream *st;
	uint32_t state;
	int64_t err = read_request(env, gpa, s, sizeof(*s));

	if (err || (err = lookup(&s->ref, rq)))
		return err;
	if (s->flags & ~(HC_STREAM_ABORT | HC_STREAM_BOOT_COPY))
		return HC_E_INVAL;
	st = rq->vm->tenant.stream;
	state = rq->vm->tenant.state;
	rq->win.streamed = true;
	rq->win.boot_copy = s->flags & HC_STREAM_BOOT_COPY;
	if (s->flags & HC_STREAM_ABORT) {
		if (!st || st->resume != resume)
			return HC_E_STATE;
		rq->win.abort = true;
		return HC_OK;
	}
	if (s->offset == 0) {
		if (st)
			return HC_E_STATE;
		if (resume ? state != HC_VM_SEALED
			   : !stop_state_ok(state, rq->win.boot_copy))
			return HC_E_STATE;
		if (streams_open() >= HC_STREAMS_MAX)
			return HC_E_NOMEM;
		rq->win.open = true;
		rq->win.blob_len = s->blob_len;
	} else if (!st || st->resume != resume) {
		return HC_E_STATE;
	} else if (st->boot_copy != rq->win.boot_copy || s->offset != st->next) {
		return HC_E_INVAL;
	} else {
		rq->win.blob_len = st->blob_len;
	}
	if (resume) {
		uint64_t left = rq->win.blob_len - s->offset;

		if (s->offset >= rq->win.blob_len || s->buf_len > left ||
		    (s->buf_len < HC_STREAM_MIN && s->buf_len != left))
			return HC_E_INVAL;
	} else if (s->buf_len < HC_STREAM_MIN) {
		return HC_E_INVAL;
	}
	if (!in_caller(env, s->buf_gpa, s->buf_len))
		return HC_E_FAULT;
	rq->win.gpa = s->buf_gpa;
	rq->win.len = s->buf_len;
	rq->win.offset = s->offset;
	if (!rq->win.open)
		return HC_OK;
	return resume ? open_header(env, rq) : stop_sizes_ok(env, rq->vm);
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

static int64_t decode_console_input(const struct hc_env *env, uint64_t gpa,
				    struct lc_request *rq)
{
	struct hc_vm_console_input *c = &rq->u.input;
	int64_t err = read_request(env, gpa, c, sizeof(*c));

	if (err || (err = lookup(&c->ref, rq)))
		return err;
	if (c->in_len > HC_VM_CONSOLE_INPUT_MAX)
		return HC_E_INVAL;
	if (!in_caller(env, c->in_gpa, c->in_len))
		return HC_E_FAULT;
	return rq->vm->tenant.state == HC_VM_RUNNING && !rq->vm->tenant.stream
		       ? HC_OK : HC_E_STATE;
}

static int64_t lifecycle_decode(const struct hc_call *c, const struct hc_env *env,
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
	case HC_VM_CONSOLE_INPUT:
		return decode_console_input(env, c->arg[0], rq);
	case HC_VM_STOP_STREAM:
		return decode_stream(env, c->arg[0], rq, false);
	case HC_VM_START_STREAM:
		return decode_stream(env, c->arg[0], rq, true);
	default:
		return HC_E_NOSYS;
	}
}

/* ---- loading an image (HC_VM_LOAD, and boot-module VMs and the TPGVM) ---- */

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
	struct elf_placement ep;

	p->is_linux = in->is_linux;
	if (in->is_linux)
		return linux_plan(in->image, in->image_len, vm->mem_size,
				  in->initrd_len, in->kcmdline, in->kcmdline_len,
				  &p->lx, why, why_len) ? HC_E_INVAL : HC_OK;
	/* The tenant CLI runs elf_place on its files too: one rule. */
	if (elf_place(in->image, in->image_len, vm->mem_size, LC_STACK_RESERVE,
		      in->init_len, in->secrets_len, &ep, why, why_len))
		return HC_E_INVAL;
	p->img = ep.img;
	p->init_gpa = ep.init_gpa;
	p->secrets_gpa = ep.secrets_gpa;
	return HC_OK;
}

/* A Linux VM (tcb/linux_boot.h): the protected-mode kernel at its
 * pref_address and the initrd (unless HC_VM_LOAD's job has copied them
 * already, LC_CHUNK a unit: copied), page tables, the GDT with
 * __BOOT_CS/__BOOT_DS, the zero page and the command line; RIP at the
 * 64-bit entry, RSI the zero page. */
static int64_t install_linux(const struct lc_ops *ops, void *mctx, struct vm *vm,
			     const struct lc_image *in, const struct lc_placement *p,
			     bool copied, char *why, size_t why_len)
{
	const struct linux_layout *lx = &p->lx;
	struct vm_tenant *t = &vm->tenant;
	struct page_adapter pa = { ops, mctx, vm };
	struct lc_regs regs = { 0 };

	if (!copied) {
		copy_in(&pa, lx->img.load_gpa, in->image + lx->img.setup_len,
			lx->img.kernel_len);
		copy_in(&pa, lx->initrd_gpa, in->initrd, lx->initrd_len);
	}
	if (guest_pt_build(vm->mem_size, adapter_page, &pa, &regs.cr3)) {
		snprintf(why, why_len, "could not build guest page tables");
		return HC_E_INTERNAL; /* every page exists: cannot happen */
	}
	linux_gdt(ops->page(mctx, vm, GUEST_GDT_GPA));
	linux_zero_page(in->image, lx, ops->page(mctx, vm, LINUX_ZERO_PAGE_GPA));
	copy_in(&pa, LINUX_CMDLINE_GPA, (const uint8_t *)in->kcmdline,
		lx->cmdline_len);
	regs.rip = lx->entry;
	regs.rsp = LINUX_STACK_TOP;
	regs.rsi = LINUX_ZERO_PAGE_GPA;
	regs.cs = LINUX_BOOT_CS;
	regs.ds = LINUX_BOOT_DS;
	regs.gdt_limit = LINUX_GDT_LIMIT;
	ops->vcpu_setup(mctx, vm, &regs);
	memset(t->salt, 0, sizeof(t->salt));
	t->secrets_gpa = 0;
	t->secrets_len = 0;
	return HC_OK;
}

/* Write what place() decided (no measurement: the caller's): cannot fail
 * but for a TCB bug. A copy of at most HC_VM_IMAGE_MAX + HC_VM_INIT_MAX
 * bytes and the guest page tables. */
static int64_t install(const struct lc_ops *ops, void *mctx, struct vm *vm,
		       const struct lc_image *in, const struct lc_placement *p,
		       char *why, size_t why_len)
{
	static const uint8_t no_salt[HC_SALT_LEN];
	const uint8_t *salt = in->salt ? in->salt : no_salt;
	struct vm_tenant *t = &vm->tenant;
	struct page_adapter pa = { ops, mctx, vm };
	struct lc_regs regs = { 0 };

	if (p->is_linux)
		return install_linux(ops, mctx, vm, in, p, false, why, why_len);
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
	regs.cs = GUEST_SEL_CODE;
	regs.ds = GUEST_SEL_DATA;
	regs.gdt_limit = 3 * 8 - 1;
	ops->vcpu_setup(mctx, vm, &regs);
	memcpy(t->salt, salt, sizeof(t->salt));
	t->secrets_gpa = in->secrets_len ? p->secrets_gpa : 0;
	t->secrets_len = in->secrets_len;
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

int lifecycle_mem_alloc(const struct lc_ops *ops, void *mctx, struct vm *vm)
{
	if (ops->mem_alloc(mctx, vm) != HC_OK)
		return HC_E_NOMEM;
	if (ops->mem_map(mctx, vm, 0, vm->mem_size) != HC_OK) {
		ops->mem_free(mctx, vm);
		return HC_E_NOMEM;
	}
	return HC_OK;
}

/* ---- jobs: long calls in bounded steps --------------------------------------
 *
 * A call whose cost grows with a VM's memory or image runs as a job: a
 * sequence of steps, each ending at the first unit of work that finishes
 * LC_STEP_TSC or more cycles after the step began. A unit is one page to
 * scan, hash, seal or open, LC_CHUNK bytes of frames to map or unmap or
 * of image to stage, LIST_CHUNK page-list entries, or a word (64 pages) of
 * a stop's nonzero_map: the costliest is a
 * page of AES-GCM. Between steps the caller's hypercall instruction is
 * restarted (tcb/hypercall.h, HC_EFFECT_RESTART): the scheduler may
 * preempt the TPGVM there, so every other VM keeps its slices while a
 * 1 GiB VM is sealed (docs/lifecycle.md, "Long calls"). The next execution
 * of that instruction continues the job.
 *
 * One TPGVM and one CPU: at most one job. It runs to its end: a lifecycle
 * call that is not the one being worked on (the TPGVM is stuck at that
 * instruction, so only a broken TPGVM makes one) continues the job too and
 * is served only after it; the job's result then goes nowhere.
 *
 * A job's own state (staged frames) is given back on every path; a VM's
 * frames go with its phases (map, unmap) and with lifecycle_destroy_all()
 * should the TPGVM end half-way. A seal or resume keeps its state in a
 * stream on the VM's record (below), not in the job: it outlives the calls
 * that move its bytes, and goes when it ends, is abandoned, or its VM is
 * destroyed (forget).
 */

#define LC_CHUNK   (16u * PAGE_SIZE) /* map, unmap, stage: per unit */
#define LIST_CHUNK 512u              /* page-list entries per unit */


static struct {
	bool active;
	struct hc_call call;      /* the call it answers */
	struct lc_request rq;     /* what decode found */
	enum lc_phase phase;
	uint64_t deadline;        /* the current step ends after this */
	uint64_t step_began;      /* TSC at the current step's start */
	uint64_t last_now;        /* the step's latest reading of the TSC */
	uint64_t tcb_cycles;      /* TSC cycles of the steps before it */
	uint64_t at;              /* the pass's cursor (gpa or byte offset) */
	uint64_t pages;           /* pages the pass has counted or moved */
	int64_t result;           /* the call's result */
	int64_t fail;             /* an error being undone */
	const char *why;          /* for the log line of a failure */
	struct crypto_sha256_ctx hash, hash2; /* load: image, init data (or initrd) */
	uint8_t image_digest[LC_COMPONENT_LEN], init_digest[LC_COMPONENT_LEN];
} job;

/* The job's own cost so far: its steps' TSC cycles, without the other
 * VMs' slices in between (in Bochs, whose TSC counts instructions, its
 * instructions; docs/lifecycle.md, "Log lines"), up to the step's latest
 * reading of the clock (no reading of its own: a step's readings are
 * bounded, test_long_calls_take_bounded_steps). */
static unsigned long long job_cycles(void)
{
	return job.tcb_cycles + (job.last_now - job.step_began);
}

static bool step_over(const struct hc_env *env)
{
	job.last_now = env->lc->now(env->lc_ctx);
	return job.last_now >= job.deadline;
}

static void job_done(int64_t result)
{
	job.result = result;
	job.phase = PH_DONE;
}

/* Release the frames mapped at [*at, *at + LC_CHUNK); true while some of
 * [0, mem_size) is left. */
static bool unmap_unit(const struct hc_env *env, struct vm *vm, uint64_t *at)
{
	uint64_t len = vm->mem_size - *at < LC_CHUNK ? vm->mem_size - *at : LC_CHUNK;

	env->lc->mem_unmap(env->lc_ctx, vm, *at, len);
	*at += len;
	return *at < vm->mem_size;
}

/* Map fresh frames at [*at, *at + LC_CHUNK): false when done or on failure
 * (then *fail is set; what was mapped stays for PH_UNMAP). */
static bool map_unit(const struct hc_env *env, struct vm *vm, uint64_t *at,
		     int64_t *fail)
{
	uint64_t len = vm->mem_size - *at < LC_CHUNK ? vm->mem_size - *at : LC_CHUNK;

	if (env->lc->mem_map(env->lc_ctx, vm, *at, len) != HC_OK) {
		*fail = HC_E_NOMEM;
		return false;
	}
	*at += len;
	return *at < vm->mem_size;
}

static void start_unmap(int64_t fail, const char *why)
{
	job.fail = fail;
	job.why = why;
	job.at = 0;
	job.phase = PH_UNMAP;
}

/* All of a VM's pages are back: its EPT tables and vCPU frames follow. */
static void free_rest(const struct hc_env *env, struct vm *vm)
{
	env->lc->mem_free(env->lc_ctx, vm);
	vm->tenant.has_memory = false;
}

/* ---- HC_VM_CREATE ---- */

static int64_t create_begin(const struct hc_env *env)
{
	const struct hc_vm_create *c = &job.rq.u.create;
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
		crypto_wipe(t, sizeof(*t));
		vm_table_free(vm);
		return HC_E_INTERNAL;
	}
	if (env->lc->mem_alloc(env->lc_ctx, vm) != HC_OK) {
		crypto_wipe(t, sizeof(*t));
		vm_table_free(vm);
		return HC_E_NOMEM;
	}
	t->has_memory = true;
	job.rq.vm = vm;
	return HC_OK;
}

static void create_refused(const struct hc_env *env, int64_t err)
{
	const struct hc_vm_create *c = &job.rq.u.create;

	if (err == HC_E_NOMEM)
		lc_log(env, "lifecycle: create refused: not enough memory "
		       "(%llu MiB), %llu frames free",
		       (unsigned long long)(c->mem_size >> 20), frames_free(env));
	job_done(err);
}

static void create_unit(const struct hc_env *env)
{
	struct vm *vm = job.rq.vm;
	int64_t err;

	switch (job.phase) {
	case PH_BEGIN:
		err = create_begin(env);
		if (err)
			return create_refused(env, err);
		job.phase = PH_MAP;
		return;
	case PH_MAP:
		if (map_unit(env, vm, &job.at, &job.fail))
			return;
		if (job.fail)
			return start_unmap(job.fail, NULL);
		lc_log(env, "lifecycle: vm %u created (%llu MiB), %llu frames free, "
		       "%llu TCB cycles", vm->id,
		       (unsigned long long)(vm->mem_size >> 20), frames_free(env),
		       job_cycles());
		return job_done(vm->id);
	case PH_UNMAP:
		if (unmap_unit(env, vm, &job.at))
			return;
		free_rest(env, vm);
		crypto_wipe(&vm->tenant, sizeof(vm->tenant));
		vm_table_free(vm);
		return create_refused(env, job.fail);
	default:
		return job_done(HC_E_INTERNAL); /* no such phase: a TCB bug */
	}
}

/* ---- HC_VM_LOAD ---- */

static void load_refused(const struct hc_env *env, int64_t err, const char *why)
{
	lc_log(env, "lifecycle: vm %u load refused: %s", job.rq.vm->id, why);
	unstage_load(&job.rq, env);
	job_done(err);
}

/* Copy the next LC_CHUNK bytes of image, then init data, from the caller;
 * true while some are left. */
static bool stage_unit(const struct hc_env *env)
{
	const struct hc_vm_load *l = &job.rq.u.load;
	uint64_t total = l->image_len + job.rq.aux_len, off = job.at, n;
	bool ok;

	if (off < l->image_len) {
		n = l->image_len - off < LC_CHUNK ? l->image_len - off : LC_CHUNK;
		ok = env->read_guest(env->ctx, l->image_gpa + off, job.rq.image + off, n);
	} else {
		off -= l->image_len;
		n = job.rq.aux_len - off < LC_CHUNK ? job.rq.aux_len - off : LC_CHUNK;
		ok = env->read_guest(env->ctx, job.rq.aux_gpa + off, job.rq.init + off, n);
	}
	if (!ok) {
		job.fail = HC_E_FAULT;
		return false;
	}
	job.at += n;
	return job.at < total;
}

/* Hash the next page of image, then init data (or initrd); true while
 * some are left. */
static bool measure_unit(void)
{
	const struct hc_vm_load *l = &job.rq.u.load;
	uint64_t off = job.at, n;

	if (off < l->image_len) {
		n = l->image_len - off < PAGE_SIZE ? l->image_len - off : PAGE_SIZE;
		crypto_sha256_update(&job.hash, job.rq.image + off, n);
	} else {
		off -= l->image_len;
		n = job.rq.aux_len - off < PAGE_SIZE ? job.rq.aux_len - off : PAGE_SIZE;
		crypto_sha256_update(&job.hash2, job.rq.init + off, n);
	}
	job.at += n;
	return job.at < l->image_len + job.rq.aux_len;
}

/* Installed: the staging goes, and the VM is LOADED. */
static void load_installed(const struct hc_env *env)
{
	struct vm *vm = job.rq.vm;
	char mhex[2 * LC_DIGEST_LEN + 1];

	unstage_load(&job.rq, env);
	vm->tenant.state = HC_VM_LOADED;
	hex_encode(vm->tenant.measurement, LC_DIGEST_LEN, mhex);
	lc_log(env, "lifecycle: vm %u loaded, measurement %s", vm->id, mhex);
	job_done(HC_OK);
}

static void load_measured(const struct hc_env *env)
{
	const struct hc_vm_load *l = &job.rq.u.load;
	struct lc_image in = staged_image(&job.rq);
	struct vm *vm = job.rq.vm;
	char why[120];

	crypto_sha256_final(&job.hash, job.image_digest);
	crypto_sha256_final(&job.hash2, job.init_digest);
	if (in.is_linux) {
		uint8_t cmd_digest[LC_COMPONENT_LEN];

		crypto_sha256(job.rq.kcmdline, l->cmdline_len, cmd_digest);
		linux_launch_measurement(vm->name, vm->mem_size, job.image_digest,
					 l->image_len, job.init_digest,
					 l->initrd_len, cmd_digest,
					 l->cmdline_len, vm->tenant.measurement);
	} else {
		launch_measurement(vm->name, vm->mem_size, job.image_digest,
				   l->image_len, job.init_digest, l->init_len,
				   l->secrets_salt, job.rq.secrets,
				   l->secrets_len, vm->tenant.measurement);
	}
	if (in.is_linux) {
		/* up to 48 MiB: copied LC_CHUNK a unit (PH_COPY) */
		job.at = 0;
		job.phase = PH_COPY;
		return;
	}
	if (install(env->lc, env->lc_ctx, vm, &in, &job.rq.place, why,
		    sizeof(why)) != HC_OK) {
		memset(vm->tenant.measurement, 0, LC_DIGEST_LEN);
		return load_refused(env, HC_E_INTERNAL, why);
	}
	load_installed(env);
}

/* Copy the next LC_CHUNK bytes of a Linux VM's kernel, then initrd, into
 * its pages; true while some are left. */
static bool copy_unit(const struct hc_env *env)
{
	const struct linux_layout *lx = &job.rq.place.lx;
	const struct page_adapter pa = { env->lc, env->lc_ctx, job.rq.vm };
	uint64_t off = job.at, n;

	if (off < lx->img.kernel_len) {
		n = lx->img.kernel_len - off < LC_CHUNK ? lx->img.kernel_len - off
							 : LC_CHUNK;
		copy_in(&pa, lx->img.load_gpa + off,
			job.rq.image + lx->img.setup_len + off, n);
	} else {
		off -= lx->img.kernel_len;
		n = lx->initrd_len - off < LC_CHUNK ? lx->initrd_len - off : LC_CHUNK;
		copy_in(&pa, lx->initrd_gpa + off, job.rq.init + off, n);
	}
	job.at += n;
	return job.at < lx->img.kernel_len + lx->initrd_len;
}

/* The rest of a Linux VM's install, once its kernel and initrd are in. */
static void load_copied(const struct hc_env *env)
{
	struct lc_image in = staged_image(&job.rq);
	struct vm *vm = job.rq.vm;
	char why[120];

	if (install_linux(env->lc, env->lc_ctx, vm, &in, &job.rq.place, true,
			  why, sizeof(why)) != HC_OK) {
		memset(vm->tenant.measurement, 0, LC_DIGEST_LEN);
		return load_refused(env, HC_E_INTERNAL, why);
	}
	load_installed(env);
}

static void load_unit(const struct hc_env *env)
{
	struct vm *vm = job.rq.vm;
	struct lc_image in;
	char why[120];

	switch (job.phase) {
	case PH_BEGIN:
		job.phase = PH_STAGE;
		return;
	case PH_STAGE:
		if (stage_unit(env))
			return;
		if (job.fail)
			return load_refused(env, job.fail, "image not readable");
		in = staged_image(&job.rq);
		if (place(vm, &in, &job.rq.place, why, sizeof(why)))
			return load_refused(env, HC_E_INVAL, why);
		crypto_sha256_init(&job.hash);
		crypto_sha256_init(&job.hash2);
		job.at = 0;
		job.phase = PH_MEASURE;
		return;
	case PH_MEASURE:
		if (measure_unit())
			return;
		return load_measured(env);
	case PH_COPY:
		if (copy_unit(env))
			return;
		return load_copied(env);
	default:
		return job_done(HC_E_INTERNAL); /* no such phase: a TCB bug */
	}
}

/* ---- HC_VM_START of a LOADED VM ---- */

/* How a VM comes to run. */
enum lc_start { LC_BOOT, LC_RESUME, LC_AFRESH };

/* RUNNING, on the run queue; the log line (cycles: a resume's own). */
static void start_running(const struct hc_env *env, struct vm *vm,
			  enum lc_start how, unsigned long long cycles)
{
	vm->tenant.state = HC_VM_RUNNING;
	vm->tenant.stopped_itself = false;
	env->lc->set_runnable(env->lc_ctx, vm, true);
	if (how == LC_RESUME)
		lc_log(env, "lifecycle: vm %u resumed from v%llu, %llu frames free, "
		       "%llu TCB cycles", vm->id,
		       (unsigned long long)vm->tenant.version, frames_free(env),
		       cycles);
	else if (how == LC_AFRESH)
		lc_log(env, "lifecycle: vm %u booted afresh from its boot copy, "
		       "%llu frames free, %llu TCB cycles", vm->id,
		       frames_free(env), cycles);
	else
		lc_log(env, "lifecycle: vm %u started", vm->id);
}

/*
 * A LOADED VM starts in the boot state load recorded its digest of, without
 * a second pass over its memory: between load and start nothing but the
 * TCB can write its frames or its vCPU, and the TCB does not
 * (docs/lifecycle.md, "Boot-state verification"). Its frames are its own,
 * so no other VM's nested page tables map them; it has never run (it goes
 * on the run queue only here); the TCB writes a VM's pages only in LOAD
 * (CREATED VMs) and in a resume (SEALED ones), its vCPU only in LOAD
 * (vcpu_setup) and a resume (context_restore); CONSOLE_INPUT needs a
 * RUNNING VM. A device's DMA is the one writer left, and a rescan here
 * would not stop a DMA write a moment after the start either.
 */
static void start_unit(const struct hc_env *env)
{
	start_running(env, job.rq.vm, LC_BOOT, 0);
	job_done(HC_OK);
}

/* ---- streams: HC_VM_STOP, HC_VM_START of a SEALED VM, HC_VM_*_STREAM ----
 *
 * A seal or a resume is a stream (struct lc_stream, on the VM's record):
 * each call moves the bytes of one window of the caller's memory, in the
 * job's bounded steps, and returns; the stream's state stays with the VM,
 * so that between calls the job slot serves every other VM. STOP and
 * START of one call are streams whose one window is the whole blob, opened
 * and ended in one job. The blob's bytes go through the window strictly in
 * order: the writer's sink and the reader's source accept only the stream's
 * next offset, inside the window; before each unit the phase makes sure
 * the window has room for (stop) or holds (resume) all the bytes the unit
 * can move, else the call ends there (stream_pause) and the next one goes
 * on from that offset.
 */

/* The most blob bytes a unit moves. Stop: a list unit (at most 127
 * entries) fills at most one 4 KiB piece of the writer and, the list's
 * last, flushes the rest of it (under 4 KiB); a page unit writes one page;
 * the end the rest and the tag. Resume: the context unit reads at most
 * three pieces (LC_CONTEXT_MAX), a list unit (LIST_CHUNK entries) two, a
 * page one, the end the tag. HC_STREAM_MIN holds the first call's header
 * and context (which the writer flushes in pieces of 4 KiB, the rest
 * staying in it), and any later unit. */
#define OUT_LIST_NEED (2u * SEAL_PAGE_SIZE + SEAL_TAG_LEN)
#define OUT_NEED      (SEAL_PAGE_SIZE + SEAL_TAG_LEN)
#define IN_CTX_NEED   (3u * SEAL_PAGE_SIZE)
#define IN_LIST_NEED  (2u * SEAL_PAGE_SIZE)
_Static_assert(SEAL_HEADER_LEN + IN_CTX_NEED <= HC_STREAM_MIN, "HC_STREAM_MIN");
_Static_assert(SEAL_HEADER_LEN + LC_CONTEXT_MAX <= HC_STREAM_MIN, "HC_STREAM_MIN");
_Static_assert(OUT_LIST_NEED <= HC_STREAM_MIN, "HC_STREAM_MIN");
_Static_assert(LIST_CHUNK * 8 + 16 <= IN_LIST_NEED, "a list unit's pieces");

size_t lifecycle_stream_bytes(uint64_t mem_size)
{
	return sizeof(struct lc_stream) + (size_t)(mem_size / PAGE_SIZE / 8);
}

static size_t stream_bytes(const struct vm *vm)
{
	return lifecycle_stream_bytes(vm->mem_size);
}

/* Scrub and free vm's stream, a coder's GCM state with it (the VM's
 * frames and state are the caller's). */
static void stream_free(const struct lc_ops *ops, void *mctx, struct vm *vm)
{
	struct lc_stream *s = vm->tenant.stream;
	size_t bytes;

	if (!s)
		return;
	if (s->coding && s->resume)
		seal_read_abort(&s->c.r);
	else if (s->coding)
		seal_write_abort(&s->c.w);
	bytes = s->bytes;
	crypto_wipe(s, bytes);
	ops->unstage(mctx, s, bytes);
	vm->tenant.stream = NULL;
}

static unsigned long long stream_cycles(const struct lc_stream *s)
{
	return s->tcb_cycles + job_cycles();
}

/* The call's answer: RAX, and for HC_VM_*_STREAM the total and done in
 * the request (read at decode, so in the caller's memory). */
static void stream_answer(const struct hc_env *env, int64_t ret,
			  uint64_t blob_len, bool done)
{
	uint64_t gpa = job.call.arg[0];
	uint32_t d = done;

	if (job.rq.win.streamed && ret >= 0 &&
	    (!env->write_guest(env->ctx, gpa + offsetof(struct hc_vm_stream, blob_len),
			       &blob_len, sizeof(blob_len)) ||
	     !env->write_guest(env->ctx, gpa + offsetof(struct hc_vm_stream, done),
			       &d, sizeof(d))))
		ret = HC_E_FAULT;
	job_done(ret);
}

/* Does the window have room for, or hold, the next unit's up to need
 * bytes (as many as the blob has left)? */
static bool window_has(const struct lc_stream *s, uint64_t need)
{
	uint64_t left = s->blob_len - s->next;

	return s->win_end - s->next >= (need < left ? need : left);
}

/* The writer's sink: the stream's next bytes into the window. The tag
 * stays in the TCB until the commit (seal_end): a blob whose version
 * did not commit never leaves whole. */
static bool stream_sink(void *ctx, uint64_t off, const void *data, size_t len)
{
	struct lc_stream *s = ctx;
	const struct hc_env *env = s->env;

	if (off != s->next || off < s->win_off || len > s->win_end - off ||
	    len > s->blob_len - off)
		return false;
	if (off + len == s->blob_len) {
		if (len != SEAL_TAG_LEN || s->tag_held)
			return false;
		memcpy(s->tag, data, len);
		s->tag_held = true;
		return true;
	}
	if (!env->write_guest(env->ctx, s->win_gpa + (off - s->win_off), data, len))
		return false;
	s->next += len;
	return true;
}

/* The reader's source: the stream's next bytes from the piece. */
static bool stream_source(void *ctx, uint64_t off, void *data, size_t len)
{
	struct lc_stream *s = ctx;
	const struct hc_env *env = s->env;

	if (off != s->next || off < s->win_off || len > s->blob_len - off)
		return false;
	if (len > s->win_end - off) {
		s->short_read = true; /* only a refused page list reads on */
		return false;
	}
	if (!env->read_guest(env->ctx, s->win_gpa + (off - s->win_off), data, len))
		return false;
	s->next += len;
	return true;
}

static void stop_failed(const struct hc_env *env, struct lc_stream *s, int rc);
static void open_failed(struct lc_stream *s, int rc);

/* The window is used up: this call answers with the bytes it moved; the
 * stream goes on at the next call (a call of one window cannot get here:
 * its window is the whole blob). */
static void stream_pause(const struct hc_env *env, struct lc_stream *s)
{
	if (!job.rq.win.streamed)
		return s->resume ? open_failed(s, SEAL_E_USAGE)
				 : stop_failed(env, s, SEAL_E_USAGE);
	s->tcb_cycles += job_cycles();
	stream_answer(env, (int64_t)(s->next - s->win_off), s->blob_len, false);
}

/* ---- the stop side ---- */

static void stop_failed(const struct hc_env *env, struct lc_stream *s, int rc)
{
	struct vm *vm = job.rq.vm;

	crypto_wipe(context_buf, sizeof(context_buf));
	if (s->was_running)
		env->lc->set_runnable(env->lc_ctx, vm, true);
	lc_log(env, "lifecycle: vm %u stop failed: %s", vm->id,
	       seal_strerror(rc));
	stream_free(env->lc, env->lc_ctx, vm);
	job_done(rc == SEAL_E_IO ? HC_E_FAULT : HC_E_INTERNAL);
}

/* HC_STREAM_ABORT of a stop stream: the VM as before it began. */
static void stop_abort(const struct hc_env *env, struct lc_stream *s)
{
	struct vm *vm = job.rq.vm;
	uint64_t blob_len = s->blob_len;

	if (s->was_running)
		env->lc->set_runnable(env->lc_ctx, vm, true);
	stream_free(env->lc, env->lc_ctx, vm);
	lc_log(env, "lifecycle: vm %u stop abandoned: it is %s as before",
	       vm->id, lifecycle_state_name(vm->tenant.state));
	stream_answer(env, HC_OK, blob_len, false);
}

/* The pages are counted: the blob's size is known, and so whether a
 * one-window call's buffer holds it; then its header and the context. */
static void seal_begin(const struct hc_env *env, struct lc_stream *s)
{
	const struct lc_ops *ops = env->lc;
	struct vm *vm = job.rq.vm;
	struct vm_tenant *t = &vm->tenant;
	struct seal_header h = {
		.vm_id = vm->id,
		.version = s->boot_copy ? 0 : t->version + 1,
		.mem_size = vm->mem_size,
		.page_count = (uint32_t)s->pages,
	};
	int rc;

	h.context_len = (uint32_t)ops->context_len(env->lc_ctx, vm);
	s->blob_len = seal_blob_size(h.page_count, h.context_len);
	if (!job.rq.win.streamed && job.rq.win.len < s->blob_len) {
		if (s->was_running)
			ops->set_runnable(env->lc_ctx, vm, true);
		lc_log(env, "lifecycle: vm %u stop refused: its blob (%llu "
		       "bytes) does not fit in %llu", vm->id,
		       (unsigned long long)s->blob_len,
		       (unsigned long long)job.rq.win.len);
		stream_free(ops, env->lc_ctx, vm);
		return job_done(HC_E_INVAL);
	}
	if (ops->context_save(env->lc_ctx, vm, context_buf,
			      sizeof(context_buf)) != h.context_len)
		return stop_failed(env, s, SEAL_E_USAGE);
	memcpy(h.owner, t->owner, HC_OWNER_LEN);
	memcpy(h.measurement, t->measurement, sizeof(h.measurement));
	rc = seal_write_begin(&s->c.w, t->key, &h, stream_sink, s);
	s->coding = rc == SEAL_OK;
	if (rc == SEAL_OK)
		rc = seal_write_context(&s->c.w, context_buf, h.context_len);
	crypto_wipe(context_buf, sizeof(context_buf));
	if (rc != SEAL_OK)
		return stop_failed(env, s, rc);
	s->at = 0;
	s->chunk_n = 0;
	s->phase = h.page_count ? PH_SEAL_LIST : PH_SEAL_PAGES;
}

/* The count pass, a page a unit: the stop's only look at the page's
 * contents. The VM does not run while its stream is open (PH_BEGIN took
 * it off the run queue, or it had exited; only a failed or abandoned stop
 * or the commit's start puts it back), so what the map says stays true
 * for the list and pages passes, over as many calls as they take. */
static void count_unit(const struct hc_env *env, const struct vm *vm,
		       struct lc_stream *s)
{
	uint64_t n = s->at / PAGE_SIZE;

	if (!page_is_zero(env->lc->page(env->lc_ctx, vm, s->at))) {
		s->map[n / 64] |= 1ull << (n % 64);
		s->pages++;
	}
	s->at += PAGE_SIZE;
}

/* One word of the map (64 pages, mem_size is a multiple of 512) a unit of
 * the list pass: the GPAs of the pages that are not zero, in chunks;
 * SEAL_OK or the writer's error. */
static int seal_list_unit(const struct vm *vm, struct lc_stream *s)
{
	uint64_t word = s->map[s->at / PAGE_SIZE / 64];
	int rc = SEAL_OK;

	for (; word && rc == SEAL_OK; word &= word - 1) {
		s->chunk[s->chunk_n++] =
			s->at + (uint64_t)__builtin_ctzll(word) * PAGE_SIZE;
		if (s->chunk_n == ARRAY_SIZE(s->chunk)) {
			rc = seal_write_page_list(&s->c.w, s->chunk, s->chunk_n);
			s->chunk_n = 0;
		}
	}
	s->at += 64 * PAGE_SIZE;
	if (rc == SEAL_OK && s->at == vm->mem_size && s->chunk_n) {
		rc = seal_write_page_list(&s->c.w, s->chunk, s->chunk_n);
		s->chunk_n = 0;
	}
	return rc;
}

/* The GPA of the first page at or above gpa that the map marks, or end;
 * at most mem_size / 256 KiB words. */
static uint64_t next_marked(const struct lc_stream *s, uint64_t gpa, uint64_t end)
{
	uint64_t n = gpa / PAGE_SIZE, last = end / PAGE_SIZE;
	uint64_t word;

	if (n >= last)
		return end;
	word = s->map[n / 64] & (~0ull << (n % 64));
	while (!word) {
		n = (n / 64 + 1) * 64;
		if (n >= last)
			return end;
		word = s->map[n / 64];
	}
	return ((n / 64) * 64 + (uint64_t)__builtin_ctzll(word)) * PAGE_SIZE;
}

/* What is kept of vm across reboots once its seal of this version commits. */
static void record_of(const struct vm *vm, uint64_t version, struct vm_record *r)
{
	const struct vm_tenant *t = &vm->tenant;

	*r = (struct vm_record){ .in_use = true, .vm_id = vm->id,
				 .version = version, .mem_size = vm->mem_size };
	memcpy(r->name, vm->name, sizeof(r->name));
	memcpy(r->owner, t->owner, HC_OWNER_LEN);
	memcpy(r->key, t->key, sizeof(r->key));
	memcpy(r->measurement, t->measurement, sizeof(r->measurement));
	r->stopped_itself = t->stopped_itself;
}

static int64_t keep_record(const struct hc_env *env, const struct vm *vm,
			   const struct vm_record *r)
{
	const struct lc_ops *ops = env->lc;

	return ops->keep_record ? ops->keep_record(env->lc_ctx, vm, r) : HC_OK;
}

/* The boot copy's tag: the VM stays LOADED as it was, nothing to keep. */
static void boot_copy_end(const struct hc_env *env, struct lc_stream *s)
{
	struct vm *vm = job.rq.vm;
	uint64_t blob_len = s->blob_len, pages = s->pages, n;
	unsigned long long cycles;
	bool ok = env->write_guest(env->ctx, s->win_gpa + (s->next - s->win_off),
				   s->tag, SEAL_TAG_LEN);

	if (ok)
		s->next += SEAL_TAG_LEN;
	n = s->next - s->win_off;
	cycles = stream_cycles(s);
	stream_free(env->lc, env->lc_ctx, vm);
	lc_log(env, "lifecycle: vm %u boot copy sealed (%llu pages, %llu bytes), "
	       "%llu TCB cycles", vm->id, (unsigned long long)pages,
	       (unsigned long long)blob_len, cycles);
	if (!ok)
		return job_done(HC_E_FAULT);
	stream_answer(env, (int64_t)(job.rq.win.streamed ? n : blob_len), blob_len,
		      true);
}

/* Every page is in: the tag (held in the TCB), the record, the commit,
 * and only then the tag into the window. A stop that fails before the
 * commit leaves no blob of version + 1 that verifies, so a later seal of
 * that version cannot be swapped for it. */
static void seal_end(const struct hc_env *env, struct lc_stream *s)
{
	struct vm *vm = job.rq.vm;
	struct vm_tenant *t = &vm->tenant;
	int rc = seal_write_end(&s->c.w);
	struct vm_record r;
	int64_t kept;

	s->coding = false;
	if (rc == SEAL_OK && !s->tag_held)
		rc = SEAL_E_USAGE; /* cannot happen: the writer's last write */
	if (rc != SEAL_OK)
		return stop_failed(env, s, rc);
	if (s->boot_copy)
		return boot_copy_end(env, s);
	/* The record first: a blob whose version the platform did not keep
	 * would be refused after a reboot, so without it the stop fails and
	 * the VM runs on. */
	record_of(vm, t->version + 1, &r);
	kept = keep_record(env, vm, &r);
	crypto_wipe(&r, sizeof(r));
	if (kept != HC_OK) {
		if (s->was_running)
			env->lc->set_runnable(env->lc_ctx, vm, true);
		lc_log(env, "lifecycle: vm %u stop failed: its record could "
		       "not be kept", vm->id);
		stream_free(env->lc, env->lc_ctx, vm);
		return job_done(kept);
	}
	/* Committed: from here on nothing can fail (the window was checked at
	 * decode and has room for the tag: window_has). */
	t->version++;
	t->state = HC_VM_SEALED;
	s->fail = HC_OK;
	if (env->write_guest(env->ctx, s->win_gpa + (s->next - s->win_off), s->tag,
			     SEAL_TAG_LEN))
		s->next += SEAL_TAG_LEN;
	else
		s->fail = HC_E_FAULT; /* sealed; the blob's tag is lost */
	crypto_wipe(s->tag, sizeof(s->tag));
	s->at = 0;
	s->phase = PH_UNMAP;
}

static void stop_unit(const struct hc_env *env, struct lc_stream *s)
{
	struct vm *vm = job.rq.vm;
	const uint8_t *p;
	uint64_t n, blob_len, pages;
	unsigned long long cycles;
	int64_t fail;
	int rc;

	switch (s->phase) {
	case PH_BEGIN:
		s->was_running = vm->tenant.state == HC_VM_RUNNING;
		env->lc->set_runnable(env->lc_ctx, vm, false);
		s->at = 0;
		s->pages = 0;
		s->phase = PH_COUNT;
		return;
	case PH_COUNT:
		count_unit(env, vm, s);
		if (s->at == vm->mem_size)
			seal_begin(env, s);
		return;
	case PH_SEAL_LIST:
		if (!window_has(s, OUT_LIST_NEED))
			return stream_pause(env, s);
		rc = seal_list_unit(vm, s);
		if (rc != SEAL_OK)
			return stop_failed(env, s, rc);
		if (s->at == vm->mem_size) {
			s->at = 0;
			s->phase = PH_SEAL_PAGES;
		}
		return;
	case PH_SEAL_PAGES:
		if (!window_has(s, OUT_NEED))
			return stream_pause(env, s);
		s->at = next_marked(s, s->at, vm->mem_size);
		if (s->at == vm->mem_size)
			return seal_end(env, s);
		p = env->lc->page(env->lc_ctx, vm, s->at);
		s->at += PAGE_SIZE;
		if ((rc = seal_write_page(&s->c.w, p)) != SEAL_OK)
			return stop_failed(env, s, rc);
		return;
	case PH_UNMAP:
		if (unmap_unit(env, vm, &s->at))
			return;
		free_rest(env, vm);
		n = s->next - s->win_off;
		blob_len = s->blob_len;
		fail = s->fail;
		pages = s->pages;
		cycles = stream_cycles(s);
		/* The stream's frames too before the count: all is back. */
		stream_free(env->lc, env->lc_ctx, vm);
		lc_log(env, "lifecycle: vm %u sealed v%llu (%llu pages, %llu "
		       "bytes), %llu frames free, %llu TCB cycles", vm->id,
		       (unsigned long long)vm->tenant.version,
		       (unsigned long long)pages, (unsigned long long)blob_len,
		       frames_free(env), cycles);
		if (fail)
			return job_done(fail);
		return stream_answer(env, (int64_t)(job.rq.win.streamed ? n : blob_len),
				     blob_len, true);
	default:
		return stop_failed(env, s, SEAL_E_USAGE); /* no such phase: a TCB bug */
	}
}

/* ---- the resume side ---- */

/* Undo a resume (PH_UNMAP): every frame taken, scrubbed and freed; the VM
 * stays SEALED. */
static void open_unmap(struct lc_stream *s, int64_t fail, const char *why)
{
	if (s->coding)
		seal_read_abort(&s->c.r);
	s->coding = false;
	crypto_wipe(s->context, sizeof(s->context));
	s->fail = fail;
	s->why = why;
	s->at = 0;
	s->phase = PH_UNMAP;
}

static void open_failed(struct lc_stream *s, int rc)
{
	if (rc == SEAL_E_IO && s->short_read)
		return open_unmap(s, HC_E_VERIFY, "its page list is refused");
	open_unmap(s, rc == SEAL_E_IO ? HC_E_FAULT : HC_E_VERIFY, seal_strerror(rc));
}

/* HC_STREAM_ABORT of a resume stream: undone like a failure, but asked. */
static void resume_abort(struct lc_stream *s)
{
	open_unmap(s, HC_OK, "abandoned");
	s->aborting = true;
}

/* Up to LIST_CHUNK entries of the blob's page list into the map (the
 * reader checks them: ascending, page-aligned, below mem_size). */
static int open_list_unit(struct lc_stream *s)
{
	uint32_t left = s->hdr.page_count - (uint32_t)s->pages;
	uint32_t n = left < LIST_CHUNK ? left : LIST_CHUNK;

	while (n) {
		uint32_t k = n < STREAM_CHUNK ? n : STREAM_CHUNK;
		int rc = seal_read_page_list(&s->c.r, s->chunk, k);

		if (rc != SEAL_OK)
			return rc;
		for (const uint64_t *g = s->chunk; g < s->chunk + k; g++) {
			uint64_t pg = *g / PAGE_SIZE;
			s->map[pg / 64] |= 1ull << (pg % 64);
		}
		s->pages += k;
		n -= k;
	}
	return SEAL_OK;
}

/* The tag: authentic, so the context may be restored and the VM run. */
static void open_end(const struct hc_env *env, struct lc_stream *s)
{
	struct vm *vm = job.rq.vm;
	int rc = seal_read_end(&s->c.r);
	unsigned long long cycles;
	uint64_t n, blob_len;
	bool afresh = s->boot_copy;

	s->coding = false;
	if (rc == SEAL_OK && !env->lc->context_restore(env->lc_ctx, vm, s->context,
						       s->hdr.context_len))
		rc = SEAL_E_MALFORMED;
	crypto_wipe(s->context, sizeof(s->context));
	if (rc != SEAL_OK)
		return open_unmap(s, HC_E_VERIFY, seal_strerror(rc));
	n = s->next - s->win_off;
	blob_len = s->blob_len;
	cycles = stream_cycles(s);
	stream_free(env->lc, env->lc_ctx, vm);
	start_running(env, vm, afresh ? LC_AFRESH : LC_RESUME, cycles);
	stream_answer(env, job.rq.win.streamed ? (int64_t)n : HC_OK, blob_len, true);
}

static void resume_unit(const struct hc_env *env, struct lc_stream *s)
{
	struct vm *vm = job.rq.vm;
	const char *why;
	uint64_t blob_len;
	int64_t fail;
	bool aborting;
	int rc;

	switch (s->phase) {
	case PH_BEGIN:
		if (env->lc->mem_alloc(env->lc_ctx, vm) != HC_OK) {
			stream_free(env->lc, env->lc_ctx, vm);
			lc_log(env, "lifecycle: vm %u start refused: not enough "
			       "memory, %llu frames free", vm->id,
			       frames_free(env));
			return job_done(HC_E_NOMEM);
		}
		vm->tenant.has_memory = true;
		s->at = 0;
		s->phase = PH_MAP;
		return;
	case PH_MAP:
		if (map_unit(env, vm, &s->at, &s->fail))
			return;
		if (s->fail)
			return open_unmap(s, s->fail, NULL);
		s->phase = PH_OPEN_CONTEXT;
		return;
	case PH_OPEN_CONTEXT:
		if (!window_has(s, IN_CTX_NEED))
			return stream_pause(env, s);
		rc = seal_read_begin(&s->c.r, vm->tenant.key, &s->hdr, stream_source, s);
		if (rc != SEAL_OK)
			return open_failed(s, rc);
		s->coding = true;
		rc = seal_read_context(&s->c.r, s->context, s->hdr.context_len);
		if (rc != SEAL_OK)
			return open_failed(s, rc);
		s->pages = 0;
		s->at = 0;
		s->phase = s->hdr.page_count ? PH_OPEN_LIST : PH_OPEN_PAGES;
		return;
	case PH_OPEN_LIST:
		if (!window_has(s, IN_LIST_NEED))
			return stream_pause(env, s);
		rc = open_list_unit(s);
		if (rc != SEAL_OK)
			return open_failed(s, rc);
		if (s->pages == s->hdr.page_count) {
			s->pages = 0;
			s->at = 0;
			s->phase = PH_OPEN_PAGES;
		}
		return;
	case PH_OPEN_PAGES:
		if (s->pages == s->hdr.page_count) {
			if (!window_has(s, SEAL_TAG_LEN))
				return stream_pause(env, s);
			return open_end(env, s);
		}
		if (!window_has(s, SEAL_PAGE_SIZE))
			return stream_pause(env, s);
		s->at = next_marked(s, s->at, vm->mem_size);
		if (s->at == vm->mem_size)
			return open_failed(s, SEAL_E_USAGE); /* the map has page_count bits */
		rc = seal_read_page(&s->c.r, env->lc->page(env->lc_ctx, vm, s->at));
		s->at += PAGE_SIZE;
		s->pages++;
		if (rc != SEAL_OK)
			return open_failed(s, rc);
		return;
	case PH_UNMAP:
		if (unmap_unit(env, vm, &s->at))
			return;
		free_rest(env, vm);
		fail = s->fail;
		aborting = s->aborting;
		blob_len = s->blob_len;
		why = s->why ? s->why : "?";
		/* The stream's frames too before the count: all is back. */
		stream_free(env->lc, env->lc_ctx, vm);
		if (aborting)
			lc_log(env, "lifecycle: vm %u start abandoned: sealed as "
			       "before, %llu frames free", vm->id,
			       frames_free(env));
		else if (fail == HC_E_NOMEM)
			lc_log(env, "lifecycle: vm %u start refused: not enough "
			       "memory, %llu frames free", vm->id,
			       frames_free(env));
		else
			lc_log(env, "lifecycle: vm %u start refused: blob does "
			       "not verify (%s), %llu frames free", vm->id,
			       why, frames_free(env));
		if (aborting)
			return stream_answer(env, HC_OK, blob_len, false);
		return job_done(fail);
	default:
		return open_unmap(s, HC_E_INTERNAL, "no such phase"); /* a TCB bug */
	}
}

/* The first unit of a stream's call: open the stream (offset 0) or take
 * the VM's, and this call's window; or abandon it. */
static void stream_call(const struct hc_env *env, bool resume)
{
	struct vm *vm = job.rq.vm;
	struct lc_stream *s = vm->tenant.stream;

	job.phase = PH_STREAM;
	if (job.rq.win.abort) {
		s->env = env;
		if (!resume)
			return stop_abort(env, s);
		return resume_abort(s);
	}
	if (job.rq.win.open) {
		s = env->lc->stage(env->lc_ctx, stream_bytes(vm));
		if (!s) {
			lc_log(env, "lifecycle: vm %u %s refused: not enough memory, "
			       "%llu frames free", vm->id,
			       resume ? "start" : "stop", frames_free(env));
			return job_done(HC_E_NOMEM);
		}
		s->bytes = stream_bytes(vm);
		s->resume = resume;
		s->boot_copy = job.rq.win.boot_copy;
		s->phase = PH_BEGIN;
		if (resume) {
			s->hdr = job.rq.hdr;
			s->blob_len = job.rq.win.blob_len;
			s->next = SEAL_HEADER_LEN; /* decode read the header */
		}
		vm->tenant.stream = s;
	}
	s->win_gpa = job.rq.win.gpa;
	s->win_off = job.rq.win.offset;
	s->win_end = job.rq.win.offset + job.rq.win.len;
}

static void stream_unit(const struct hc_env *env, bool resume)
{
	struct lc_stream *s;

	if (job.phase == PH_BEGIN)
		return stream_call(env, resume);
	s = job.rq.vm->tenant.stream;
	s->env = env;
	if (s->resume)
		resume_unit(env, s);
	else
		stop_unit(env, s);
}

/* ---- HC_VM_DESTROY ---- */

/* Scrub what is left of a tenant VM and forget it (its key with it). */
static void forget(const struct lc_ops *ops, void *mctx, struct vm *vm)
{
	struct vm_tenant *t = &vm->tenant;

	ops->set_runnable(mctx, vm, false);
	stream_free(ops, mctx, vm);
	if (t->has_memory)
		ops->mem_free(mctx, vm);
	crypto_wipe(t, sizeof(*t));
	console_ring_scrub(&vm->console);
	vm_table_free(vm);
}

static void destroy_unit(const struct hc_env *env)
{
	struct vm *vm = job.rq.vm;
	unsigned id = vm->id;
	char name[HC_VM_NAME_MAX];

	if (job.phase == PH_BEGIN) {
		/* A kept record goes first: should that fail, nothing changed. */
		int64_t kept = vm->tenant.version ? keep_record(env, vm, NULL) : HC_OK;
		if (kept != HC_OK) {
			lc_log(env, "lifecycle: vm %u destroy failed: its kept "
			       "record could not be removed", id);
			return job_done(kept);
		}
		env->lc->set_runnable(env->lc_ctx, vm, false);
		/* A stream open on it ends here: its frames go below. */
		stream_free(env->lc, env->lc_ctx, vm);
		job.at = 0;
		job.phase = vm->tenant.has_memory ? PH_UNMAP : PH_DONE;
		if (job.phase == PH_UNMAP)
			return;
	} else if (unmap_unit(env, vm, &job.at)) {
		return;
	}
	memcpy(name, vm->name, sizeof(name));
	forget(env->lc, env->lc_ctx, vm);
	lc_log(env, "lifecycle: vm %u destroyed, %llu frames free, %llu TCB cycles",
	       id, frames_free(env), job_cycles());
	job_done(HC_OK);
}

/* What HC_VM_QUERY tells of a VM, but seal_size: that of an EXITED VM
 * needs a count of its pages, which only a query of the one VM pays
 * (query_unit), not a list (what the TPGVM asks for on every request). */
static void info_of(const struct vm *vm, struct hc_vm_info *i)
{
	const struct vm_tenant *t = &vm->tenant;

	memset(i, 0, sizeof(*i));
	i->vm_id = vm->id;
	i->state = t->state;
	memcpy(i->name, vm->name, sizeof(i->name) - 1);
	i->mem_size = vm->mem_size;
	i->version = t->version;
	i->console_pending = console_ring_unread(&vm->console);
	if (t->stopped_itself)
		i->flags |= HC_VM_INFO_STOPPED_ITSELF;
	if (t->state >= HC_VM_LOADED)
		memcpy(i->measurement, t->measurement, sizeof(i->measurement));
	/* Why it is not running: its own stop (EXITED, and SEALED after the
	 * TPGVM sealed it) or its owner's ("stopped by its owner"). */
	if (t->state == HC_VM_EXITED || t->state == HC_VM_SEALED)
		memcpy(i->stop_reason, vm->stop_reason, sizeof(i->stop_reason) - 1);
}

/* ---- HC_VM_QUERY of one VM (an EXITED VM's seal_size needs a count) ---- */

/*
 * seal_size without a pass over memory where none can tell more: a RUNNING
 * VM changes its memory as it runs, so the most a stop could write (every
 * page not zero) is all a count could promise a moment later; an EXITED
 * VM's memory no longer changes, so its count is made once, by the first
 * query after it stopped running, and kept (vm_tenant.nonzero_pages).
 */
static uint64_t seal_size_of(const struct hc_env *env, const struct vm *vm)
{
	const struct vm_tenant *t = &vm->tenant;
	uint32_t ctx_len = (uint32_t)env->lc->context_len(env->lc_ctx, vm);

	if (t->stream)
		return 0;
	if (t->state == HC_VM_RUNNING)
		return seal_blob_size((uint32_t)(vm->mem_size / PAGE_SIZE), ctx_len);
	if (t->state == HC_VM_EXITED && t->nonzero_known)
		return seal_blob_size((uint32_t)t->nonzero_pages, ctx_len);
	return 0;
}

static bool count_needed(const struct vm *vm)
{
	return vm->tenant.state == HC_VM_EXITED && !vm->tenant.nonzero_known &&
	       vm->tenant.has_memory && !vm->tenant.stream;
}

static void query_unit(const struct hc_env *env)
{
	const struct hc_vm_query *q = &job.rq.u.query;
	struct vm *vm = job.rq.vm;
	struct hc_vm_info info;

	if (job.phase == PH_BEGIN) {
		job.at = 0;
		job.pages = 0;
		job.phase = PH_COUNT;
		if (count_needed(vm))
			return;
	} else {
		job.pages += !page_is_zero(env->lc->page(env->lc_ctx, vm, job.at));
		job.at += PAGE_SIZE;
		if (job.at < vm->mem_size)
			return;
		vm->tenant.nonzero_pages = job.pages;
		vm->tenant.nonzero_known = true;
	}
	info_of(vm, &info);
	info.seal_size = seal_size_of(env, vm);
	job_done(env->write_guest(env->ctx, q->out_gpa, &info, sizeof(info)) ? 1
									   : HC_E_FAULT);
}

static void job_unit(const struct hc_env *env)
{
	switch (job.rq.nr) {
	case HC_VM_CREATE:
		return create_unit(env);
	case HC_VM_LOAD:
		return load_unit(env);
	case HC_VM_START:
		if (!job.rq.resume)
			return start_unit(env);
		return stream_unit(env, true);
	case HC_VM_START_STREAM:
		return stream_unit(env, true);
	case HC_VM_STOP:
	case HC_VM_STOP_STREAM:
		return stream_unit(env, false);
	case HC_VM_DESTROY:
		return destroy_unit(env);
	case HC_VM_QUERY:
		return query_unit(env);
	default:
		return job_done(HC_E_INTERNAL); /* no such phase: a TCB bug */
	}
}

/* One step: units of work until the job ends or the step's time is up. */
static void job_step(const struct hc_env *env)
{
	job.step_began = job.last_now = env->lc->now(env->lc_ctx);
	job.deadline = job.step_began + LC_STEP_TSC;
	do
		job_unit(env);
	while (job.phase != PH_DONE && !step_over(env));
	job.tcb_cycles = job_cycles();
}

/* Give back what the job itself holds (not the VM's frames). */
static void job_release(const struct lc_ops *ops, void *mctx)
{
	if (job.rq.nr == HC_VM_LOAD && job.rq.image)
		ops->unstage(mctx, job.rq.image, job.rq.u.load.image_len);
	if (job.rq.nr == HC_VM_LOAD && job.rq.init)
		ops->unstage(mctx, job.rq.init, job.rq.aux_len);
	crypto_wipe(context_buf, sizeof(context_buf));
	crypto_wipe(&job, sizeof(job));
}

static bool is_job(const struct lc_request *rq)
{
	switch (rq->nr) {
	case HC_VM_CONSOLE_READ:
	case HC_VM_CONSOLE_INPUT:
		return false;
	case HC_VM_QUERY:
		return rq->vm != NULL; /* a list is only the table */
	default:
		return true;
	}
}

static bool same_call(const struct hc_call *a, const struct hc_call *b)
{
	return a->nr == b->nr && memcmp(a->arg, b->arg, sizeof(a->arg)) == 0;
}

/* ---- the calls that are not jobs ---- */

/* Every VM of the owner (a list: no seal_size, which needs a count). */
static int64_t exec_list(const struct lc_request *rq, const struct hc_env *env)
{
	const struct hc_vm_query *q = &rq->u.query;
	uint64_t room = q->out_cap / sizeof(struct hc_vm_info), n = 0;
	struct hc_vm_info info;

	for (unsigned id = 1; id <= VM_MAX && n < room; id++) {
		const struct vm *vm = vm_table_get(id);
		if (!vm || !vm->tenant.active ||
		    memcmp(vm->tenant.owner, q->ref.owner, HC_OWNER_LEN))
			continue;
		info_of(vm, &info);
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

/* The owner's keystrokes into the VM's UART, as far as its receive buffer
 * takes them (it raises the UART's interrupt, which wakes an idle VM). */
static int64_t exec_console_input(struct lc_request *rq, const struct hc_env *env)
{
	const struct hc_vm_console_input *c = &rq->u.input;
	uint8_t chunk[256];
	uint64_t done = 0;

	while (done < c->in_len) {
		uint64_t want = c->in_len - done;
		size_t n = want < sizeof(chunk) ? (size_t)want : sizeof(chunk), took;

		if (!env->read_guest(env->ctx, c->in_gpa + done, chunk, n))
			return HC_E_FAULT;
		took = vplatform_rx(&rq->vm->platform, chunk, n,
				    env->lc->now(env->lc_ctx));
		done += took;
		if (took < n)
			break;
	}
	crypto_wipe(chunk, sizeof(chunk));
	return (int64_t)done;
}

static int64_t exec_plain(struct lc_request *rq, const struct hc_env *env)
{
	switch (rq->nr) {
	case HC_VM_QUERY:
		return exec_list(rq, env);
	case HC_VM_CONSOLE_INPUT:
		return exec_console_input(rq, env);
	default:
		return exec_console(rq, env);
	}
}

int64_t lifecycle_call(const struct hc_call *c, const struct hc_env *env,
		       bool *again)
{
	int64_t ret;

	*again = false;
	if (job.active) {
		job_step(env);
		if (job.phase != PH_DONE) {
			*again = true;
			return 0;
		}
		ret = job.result;
		bool answered = same_call(&job.call, c);
		job_release(env->lc, env->lc_ctx);
		if (answered)
			return ret;
		*again = true; /* served from the next execution on */
		return 0;
	}
	ret = lifecycle_decode(c, env, &job.rq);
	if (ret != HC_OK || !is_job(&job.rq)) {
		if (ret == HC_OK)
			ret = exec_plain(&job.rq, env);
		crypto_wipe(&job, sizeof(job));
		return ret;
	}
	job.active = true;
	job.call = *c;
	job.phase = PH_BEGIN;
	job_step(env);
	if (job.phase != PH_DONE) {
		*again = true;
		return 0;
	}
	ret = job.result;
	job_release(env->lc, env->lc_ctx);
	return ret;
}

/* ---- events from the mechanism ----------------------------------------------- */

int lifecycle_restore(const struct vm_record *r, char *why, size_t why_len)
{
	struct vm *vm;
	struct vm_tenant *t;

	if (!r->in_use || name_taken(r->owner, r->name))
		return errmsg(why, why_len, "VM %u: its name is taken", r->vm_id);
	vm = vm_table_alloc_tenant_at(r->vm_id, r->name);
	if (!vm)
		return errmsg(why, why_len, "VM %u: its id is taken", r->vm_id);
	t = &vm->tenant;
	vm->mem_size = r->mem_size;
	t->active = true;
	t->state = HC_VM_SEALED;
	t->version = r->version;
	memcpy(t->owner, r->owner, HC_OWNER_LEN);
	memcpy(t->key, r->key, sizeof(t->key));
	memcpy(t->measurement, r->measurement, sizeof(t->measurement));
	t->stopped_itself = r->stopped_itself;
	vm_set_stopped(vm, VM_STOPPED, r->stopped_itself ?
		       "stopped itself; sealed before the last reboot" :
		       "sealed before the last reboot");
	return 0;
}

void lifecycle_exited(struct vm *vm)
{
	if (vm->tenant.active && vm->tenant.state == HC_VM_RUNNING) {
		vm->tenant.state = HC_VM_EXITED;
		vm->tenant.stopped_itself = true;
		vm->tenant.nonzero_known = false; /* not counted since it ran */
	}
}

void lifecycle_destroy_all(const struct lc_ops *ops, void *mctx)
{
	job_release(ops, mctx);
	for (unsigned id = 1; id <= VM_MAX; id++) {
		struct vm *vm = vm_table_get(id);
		if (vm && vm->tenant.active)
			forget(ops, mctx, vm);
	}
}

const char *lifecycle_state_name(uint32_t state)
{
	return state < ARRAY_SIZE(state_names) ? state_names[state] : "?";
}
