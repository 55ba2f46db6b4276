/*
 * libFuzzer target for hypercall_handle() (tcb/hypercall.c).
 *
 * Input layout (integers big endian; missing bytes read as zero):
 *   byte 0      flags: bit 0 is_tpgvm, bit 1 "near" mode (number and
 *               arguments reduced into the interesting ranges), bit 2 make
 *               read_guest fail past a point, bits 3-4 CPL, bit 5 sets
 *               CPL bit 31 as well, bit 6 the TCB has a report source,
 *               bit 7 signing a report fails (as when the RNG does)
 *   bytes 1-2   mem_size (reduced to 0..MAX_MEM)
 *   bytes 3-10  nr, then 4 x 8 bytes of arguments
 *   bytes 43-44 fail_at: with flag bit 2, read_guest refuses any span
 *               reaching past this gpa
 *   byte 45     lifecycle: bit 0 the TPGVM has a (fake) lifecycle
 *               mechanism, bit 1 a VM exists already (created: vm 1,
 *               owner 48 x 0xa1, 2 MiB), bit 2 that fake has no free
 *               frames, bit 3 "near" lifecycle numbers, bit 4 that VM is
 *               RUNNING (a few of its pages not zero), bit 5 and a
 *               stream is open on it (bit 6 clear: a stop stream after
 *               its first window of HC_STREAM_MIN bytes; set: sealed, then
 *               a resume stream after its first piece of HC_STREAM_MIN)
 *   the rest    guest memory contents (repeated to fill mem_size)
 *
 * The guest memory is a heap block of exactly mem_size bytes, and
 * read_guest / write_guest abort if asked for anything outside
 * [0, mem_size). The result is checked against the ABI
 * (include/custos/guest_abi.h): the error values, the console getting
 * exactly res.ret bytes (and the right ones) on a successful
 * HC_CONSOLE_WRITE and nothing otherwise, effects only for HC_YIELD /
 * HC_EXIT at CPL 0, and for HC_REPORT every refusal in its order, memory
 * written only on success and only [out, out + ret), and what is written a
 * report (report_parse) answering the request. Any disagreement aborts.
 *
 * The fuzz library has no crypto layer, so SHA-384, signing, the RNG and
 * AES-GCM are stubs here: the report builder's and the lifecycle's logic
 * is what is fuzzed, not the crypto. The lifecycle mechanism is a fake
 * (frames counted, memory in malloc'd blocks); lifecycle calls are checked
 * against the ABI's error set, the caller's memory written only by a
 * successful QUERY, CONSOLE_READ, STOP or stream call, and the free-frame
 * count the same after every refusal (or, with a resume stream open
 * before the call, what it took given back at most).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <custos/report.h>
#include "crypto/crypto.h"
#include "tcb/hypercall.h"
#include "tcb/lifecycle.h"
#include "tcb/measure.h"
#include "fuzz_util.h"

#define MAX_MEM (12 * 4096u) /* room for a stream's window */

#define CHECK(cond) do { \
		if (!(cond)) { \
			fprintf(stderr, "check failed: %s (line %d)\n", #cond, __LINE__); \
			abort(); \
		} \
	} while (0)

/* ---- crypto stubs (see above) ---------------------------------------------- */

static bool sign_fails;

void crypto_sha384(const void *data, size_t len, uint8_t out[CRYPTO_SHA384_LEN])
{
	const uint8_t *p = data;
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, spread over 48 bytes */

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	for (size_t i = 0; i < CRYPTO_SHA384_LEN; i++)
		out[i] = (uint8_t)(h >> (8 * (i % 8))) ^ (uint8_t)i;
}

int crypto_ecdsa_p384_sign(const uint8_t priv[CRYPTO_P384_PRIV_LEN],
			   const uint8_t digest[CRYPTO_SHA384_LEN],
			   uint8_t sig[CRYPTO_P384_SIG_LEN])
{
	if (sign_fails)
		return CRYPTO_E_RNG;
	for (size_t i = 0; i < CRYPTO_P384_SIG_LEN; i++)
		sig[i] = digest[i % CRYPTO_SHA384_LEN] ^ priv[i % CRYPTO_P384_PRIV_LEN];
	return CRYPTO_OK;
}

const char *crypto_strerror(int err)
{
	return err == CRYPTO_OK ? "ok" : "stub failure";
}

struct sha_stub {
	uint64_t h;
};

void crypto_sha384_init(struct crypto_sha384_ctx *c)
{
	((struct sha_stub *)c)->h = 0xcbf29ce484222325ull;
}

void crypto_sha384_update(struct crypto_sha384_ctx *c, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++)
		((struct sha_stub *)c)->h = (((struct sha_stub *)c)->h ^ p[i]) *
					    0x100000001b3ull;
}

void crypto_sha384_final(struct crypto_sha384_ctx *c, uint8_t out[CRYPTO_SHA384_LEN])
{
	for (size_t i = 0; i < CRYPTO_SHA384_LEN; i++)
		out[i] = (uint8_t)(((struct sha_stub *)c)->h >> (8 * (i % 8))) ^ (uint8_t)i;
}

/* SHA-256 (the launch measurement's component digests): the same stand-in
 * over 32 bytes. */
void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN])
{
	uint8_t full[CRYPTO_SHA384_LEN];

	crypto_sha384(data, len, full);
	memcpy(out, full, CRYPTO_SHA256_LEN);
}

void crypto_sha256_init(struct crypto_sha256_ctx *c)
{
	crypto_sha384_init((struct crypto_sha384_ctx *)(void *)c);
}

void crypto_sha256_update(struct crypto_sha256_ctx *c, const void *data, size_t len)
{
	crypto_sha384_update((struct crypto_sha384_ctx *)(void *)c, data, len);
}

void crypto_sha256_final(struct crypto_sha256_ctx *c, uint8_t out[CRYPTO_SHA256_LEN])
{
	uint8_t full[CRYPTO_SHA384_LEN];

	crypto_sha384_final((struct crypto_sha384_ctx *)(void *)c, full);
	memcpy(out, full, CRYPTO_SHA256_LEN);
}

int crypto_random(void *buf, size_t len)
{
	memset(buf, 0x5a, len);
	return CRYPTO_OK;
}

void crypto_wipe(void *p, size_t len)
{
	memset(p, 0, len);
}

/* AES-GCM stand-in: XOR with the first key byte, the tag a running sum. */
struct gcm_stub {
	uint8_t k;
	uint8_t sum;
	bool enc;
};

int crypto_aes256gcm_stream_begin(struct crypto_gcm_stream *s,
				  const uint8_t key[CRYPTO_AES256_KEY_LEN],
				  const uint8_t iv[CRYPTO_GCM_IV_LEN], bool encrypt,
				  const void *aad, size_t aad_len)
{
	struct gcm_stub *g = (struct gcm_stub *)s;
	const uint8_t *a = aad;

	g->k = key[0] ^ iv[0];
	g->sum = 0;
	g->enc = encrypt;
	for (size_t i = 0; i < aad_len; i++)
		g->sum += a[i];
	return CRYPTO_OK;
}

int crypto_aes256gcm_stream_update(struct crypto_gcm_stream *s, const void *in,
				   size_t len, void *out)
{
	struct gcm_stub *g = (struct gcm_stub *)s;
	const uint8_t *i8 = in;
	uint8_t *o8 = out;

	for (size_t i = 0; i < len; i++) {
		uint8_t pt = g->enc ? i8[i] : (uint8_t)(i8[i] ^ g->k);
		o8[i] = i8[i] ^ g->k;
		g->sum += pt;
	}
	return CRYPTO_OK;
}

int crypto_aes256gcm_stream_finish(struct crypto_gcm_stream *s,
				   uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	memset(tag, ((struct gcm_stub *)s)->sum, CRYPTO_GCM_TAG_LEN);
	return CRYPTO_OK;
}

int crypto_aes256gcm_stream_verify(struct crypto_gcm_stream *s,
				   const uint8_t tag[CRYPTO_GCM_TAG_LEN])
{
	for (size_t i = 0; i < CRYPTO_GCM_TAG_LEN; i++)
		if (tag[i] != ((struct gcm_stub *)s)->sum)
			return CRYPTO_E_VERIFY;
	return CRYPTO_OK;
}

void crypto_aes256gcm_stream_abort(struct crypto_gcm_stream *s)
{
	memset(s, 0, sizeof(*s));
}

/* ---- a fake lifecycle mechanism ----------------------------------------------- */

#define FAKE_FRAMES 2000u
static uint64_t fake_free;
static uint8_t *fake_mem[VM_MAX + 1];
static struct lc_regs fake_regs[VM_MAX + 1];

static uint64_t fk_free_frames(void *m)
{
	(void)m;
	return fake_free;
}

#define FAKE_PAGES ((4u << 20) / 4096)
static bool fake_mapped[VM_MAX + 1][FAKE_PAGES];

/* EPT tables and vCPU frames at once; the pages come with mem_map. */
static uint64_t fk_extra(const struct vm *vm)
{
	return lifecycle_create_frames(vm->mem_size) - vm->mem_size / 4096;
}

static int fk_mem_alloc(void *m, struct vm *vm)
{
	(void)m;
	if (fk_extra(vm) > fake_free || vm->mem_size > (4u << 20))
		return HC_E_NOMEM;
	fake_mem[vm->id] = calloc(1, vm->mem_size);
	CHECK(fake_mem[vm->id]);
	memset(fake_mapped[vm->id], 0, sizeof(fake_mapped[0]));
	fake_free -= fk_extra(vm);
	return HC_OK;
}

static int fk_mem_map(void *m, struct vm *vm, uint64_t gpa, uint64_t len)
{
	(void)m;
	CHECK(fake_mem[vm->id] && !(gpa & 4095) && !(len & 4095) && len &&
	      gpa + len <= vm->mem_size);
	if (len / 4096 > fake_free)
		return HC_E_NOMEM;
	for (uint64_t p = gpa / 4096; p < (gpa + len) / 4096; p++) {
		CHECK(!fake_mapped[vm->id][p]);
		fake_mapped[vm->id][p] = true;
	}
	fake_free -= len / 4096;
	return HC_OK;
}

static void fk_mem_unmap(void *m, struct vm *vm, uint64_t gpa, uint64_t len)
{
	(void)m;
	CHECK(fake_mem[vm->id] && vm->state != VM_RUNNABLE && !(gpa & 4095) &&
	      !(len & 4095) && gpa + len <= vm->mem_size);
	for (uint64_t p = gpa / 4096; p < (gpa + len) / 4096; p++)
		if (fake_mapped[vm->id][p]) {
			fake_mapped[vm->id][p] = false;
			memset(fake_mem[vm->id] + p * 4096, 0, 4096);
			fake_free++;
		}
}

static void fk_mem_free(void *m, struct vm *vm)
{
	(void)m;
	fk_mem_unmap(m, vm, 0, vm->mem_size);
	free(fake_mem[vm->id]);
	fake_mem[vm->id] = NULL;
	fake_free += fk_extra(vm);
}

/* Every reading moves on by a third of a step: long calls take many. */
static uint64_t fake_clock;

static uint64_t fk_now(void *m)
{
	(void)m;
	return fake_clock += LC_STEP_TSC / 3;
}

static uint8_t *fk_page(void *m, const struct vm *vm, uint64_t gpa)
{
	(void)m;
	CHECK(fake_mem[vm->id] && gpa < vm->mem_size && !(gpa & 4095));
	CHECK(fake_mapped[vm->id][gpa / 4096]);
	return fake_mem[vm->id] + gpa;
}

static void *fk_stage(void *m, size_t len)
{
	uint64_t n = (len + 4095) / 4096;

	(void)m;
	if (n > fake_free)
		return NULL;
	fake_free -= n;
	return calloc(1, len);
}

static void fk_unstage(void *m, void *p, size_t len)
{
	(void)m;
	fake_free += (len + 4095) / 4096;
	free(p);
}

static void fk_vcpu_setup(void *m, struct vm *vm, const struct lc_regs *r)
{
	(void)m;
	fake_regs[vm->id] = *r;
}

static size_t fk_context_len(void *m, const struct vm *vm)
{
	(void)m;
	(void)vm;
	return 40;
}

static size_t fk_context_save(void *m, const struct vm *vm, uint8_t *buf, size_t cap)
{
	CHECK(cap >= 40);
	memset(buf, 0, 40);
	memcpy(buf, &fake_regs[vm->id], sizeof(struct lc_regs));
	return fk_context_len(m, vm);
}

static bool fk_context_restore(void *m, struct vm *vm, const uint8_t *buf, size_t len)
{
	(void)m;
	if (len != 40)
		return false;
	memcpy(&fake_regs[vm->id], buf, sizeof(struct lc_regs));
	return true;
}

static void fk_set_runnable(void *m, struct vm *vm, bool on)
{
	(void)m;
	vm->state = on ? VM_RUNNABLE : VM_STOPPED;
}

static void fk_log(void *m, const char *line)
{
	(void)m;
	(void)line;
}

static const struct lc_ops fake_ops = {
	.free_frames = fk_free_frames, .mem_alloc = fk_mem_alloc,
	.mem_map = fk_mem_map, .mem_unmap = fk_mem_unmap, .now = fk_now,
	.mem_free = fk_mem_free, .page = fk_page, .stage = fk_stage,
	.unstage = fk_unstage, .vcpu_setup = fk_vcpu_setup,
	.context_save = fk_context_save,
	.context_len = fk_context_len, .context_restore = fk_context_restore,
	.set_runnable = fk_set_runnable, .log = fk_log,
};

struct fake {
	uint8_t *mem;
	uint64_t mem_size;
	bool fail;
	uint64_t fail_at;
	unsigned reads;
	unsigned writes;
	uint64_t write_gpa;
	size_t write_len;
	uint8_t console[2 * MAX_MEM + 8];
	size_t console_len;
};



static bool fake_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct fake *f = ctx;

	f->reads++;
	/* Never asked for memory the caller does not have. */
	CHECK(gpa <= f->mem_size && len <= f->mem_size - gpa);
	CHECK(len > 0);
	if (f->fail && gpa + len > f->fail_at)
		return false;
	memcpy(buf, f->mem + gpa, len);
	return true;
}

static bool fake_write(void *ctx, uint64_t gpa, const void *buf, size_t len)
{
	struct fake *f = ctx;

	f->writes++;
	CHECK(gpa <= f->mem_size && len <= f->mem_size - gpa);
	CHECK(len > 0);
	memcpy(f->mem + gpa, buf, len);
	f->write_gpa = gpa;
	f->write_len = len;
	return true;
}

static void fake_put(void *ctx, char c)
{
	struct fake *f = ctx;

	CHECK(f->console_len < sizeof(f->console));
	f->console[f->console_len++] = (uint8_t)c;
}

/* Open a stream on VM 1 (RUNNING) before the fuzzed call, through calls of
 * a TPGVM of its own: a stop stream after its first window, or (resume)
 * a one-call STOP and then a resume stream after its first piece. */
static void open_stream(bool resume)
{
	static struct fake sf;
	static uint8_t smem[1u << 20];
	const uint64_t req = 0, win = 0x1000, blob = 0x10000;
	struct hc_env env = {
		.mem_size = sizeof(smem), .is_tpgvm = true,
		.read_guest = fake_read, .write_guest = fake_write,
		.console_put = fake_put, .lc = &fake_ops, .ctx = &sf,
	};
	struct hc_vm_stream st = { .ref.vm_id = 1, .buf_gpa = win,
				   .buf_len = HC_STREAM_MIN };
	struct hc_call call = { .arg = { req } };
	struct hc_result res;
	int64_t len = 0;

	memset(&sf, 0, sizeof(sf));
	sf.mem = smem;
	sf.mem_size = sizeof(smem);
	memset(st.ref.owner, 0xa1, HC_OWNER_LEN);
	if (resume) {
		struct hc_vm_stop stop = { .ref = st.ref, .out_gpa = blob,
					   .out_cap = sizeof(smem) - blob };

		memcpy(smem + req, &stop, sizeof(stop));
		call.nr = HC_VM_STOP;
		do
			hypercall_handle(&call, &env, &res);
		while (res.effect == HC_EFFECT_RESTART);
		CHECK(res.ret > 0);
		len = res.ret;
		CHECK((uint64_t)len > HC_STREAM_MIN);
		st.buf_gpa = blob;
		st.blob_len = (uint64_t)len;
	}
	memcpy(smem + req, &st, sizeof(st));
	call.nr = resume ? HC_VM_START_STREAM : HC_VM_STOP_STREAM;
	do
		hypercall_handle(&call, &env, &res);
	while (res.effect == HC_EFFECT_RESTART);
	CHECK(res.ret > 0 && res.ret <= HC_STREAM_MIN);
	CHECK(((struct hc_vm_stream *)(void *)(smem + req))->done == 0);
}

static bool is_error(int64_t r)
{
	return r == HC_E_NOSYS || r == HC_E_INVAL || r == HC_E_DENIED ||
	       r == HC_E_FAULT || r == HC_E_INTERNAL || r == HC_E_NOTFOUND ||
	       r == HC_E_NOMEM || r == HC_E_STATE || r == HC_E_VERIFY ||
	       r == HC_E_ROLLBACK;
}

/* The TCB's side of a report: small, fixed, valid. */
static const uint8_t fake_cert[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
static const uint8_t fake_priv[RPT_PRIV_LEN] = { 1 };
static struct measure_log fake_log;
static const struct report_source fake_source = {
	.log = &fake_log,
	.platform_id = "fuzz-platform",
	.sign_cert = fake_cert,
	.sign_cert_len = sizeof(fake_cert),
	.sign_priv = fake_priv,
	.key_protection = REPORT_KEYS_DEV,
	.launch_mode = REPORT_LAUNCH_DEV,
	.debug = 0,
};

static size_t fake_report_size(const struct custos_report_request *req)
{
	struct report_contents c = {
		.nonce = req->nonce, .nonce_len = req->nonce_len,
		.tls_key_hash = req->tls_key_hash, .log = &fake_log,
		.key_protection = fake_source.key_protection,
		.launch_mode = fake_source.launch_mode,
		.platform_id = fake_source.platform_id,
		.sign_cert = fake_cert, .sign_cert_len = sizeof(fake_cert),
	};

	return report_size(&c);
}

static bool inside(const struct fake *f, uint64_t gpa, uint64_t len)
{
	return gpa <= f->mem_size && len <= f->mem_size - gpa;
}

/* HC_REPORT at CPL 0: refusals in the documented order; before holds the
 * caller's memory as it was before the call. */
static void check_report(const struct fake *f, const struct hc_env *env,
			 const struct hc_call *call, const uint8_t *before,
			 int64_t ret)
{
	uint64_t rq = call->arg[0], out = call->arg[1], cap = call->arg[2];
	struct custos_report_request req;
	struct report r;
	size_t need;

	if (ret < 0) {
		CHECK(f->writes == 0);
		CHECK(memcmp(before, f->mem, f->mem_size) == 0);
	}
	if (!env->is_tpgvm) {
		CHECK(ret == HC_E_DENIED && f->reads == 0);
		return;
	}
	if (!env->report) {
		CHECK(ret == HC_E_INTERNAL && f->reads == 0);
		return;
	}
	if (!inside(f, rq, sizeof(req)) || !inside(f, out, cap)) {
		CHECK(ret == HC_E_FAULT && f->reads == 0);
		return;
	}
	if (f->fail && rq + sizeof(req) > f->fail_at) {
		CHECK(ret == HC_E_FAULT);
		return;
	}
	memcpy(&req, before + rq, sizeof(req));
	if (req.reserved != 0 || req.nonce_len < REPORT_NONCE_MIN ||
	    req.nonce_len > REPORT_NONCE_MAX) {
		CHECK(ret == HC_E_INVAL);
		return;
	}
	need = fake_report_size(&req);
	CHECK(need > 0);
	if (cap < need) {
		CHECK(ret == HC_E_INVAL);
		return;
	}
	if (sign_fails) {
		CHECK(ret == HC_E_INTERNAL);
		return;
	}
	CHECK(ret == (int64_t)need);
	CHECK(f->writes == 1 && f->write_gpa == out && f->write_len == need);
	CHECK(memcmp(before, f->mem, out) == 0);
	CHECK(memcmp(before + out + need, f->mem + out + need,
		     f->mem_size - out - need) == 0);
	CHECK(report_parse(f->mem + out, need, &r, NULL, 0) == 0);
	CHECK(r.nonce_len == req.nonce_len);
	CHECK(memcmp(r.nonce, req.nonce, req.nonce_len) == 0);
	CHECK(memcmp(r.tls_key_hash, req.tls_key_hash, RPT_TLS_HASH_LEN) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fake f;
	static uint8_t before[MAX_MEM];
	struct input in = { data, size };
	struct hc_call call;
	struct hc_env env;
	struct hc_result res;
	unsigned flags = (unsigned)take(&in, 1);
	bool near = flags & 2;

	memset(&f, 0, sizeof(f));
	f.mem_size = take(&in, 2) % (MAX_MEM + 1);
	call.nr = take(&in, 8);
	for (int i = 0; i < 4; i++)
		call.arg[i] = take(&in, 8);
	call.cpl = (flags >> 3) & 3;
	if (flags & 0x20)
		call.cpl |= 0x80000000u;
	f.fail = flags & 4;
	f.fail_at = take(&in, 2);
	unsigned lc_flags = (unsigned)take(&in, 1);
	if (near) {
		call.nr %= HC_REPORT + 8;
		call.arg[0] %= f.mem_size + 64;
		if (call.nr == HC_REPORT) {
			call.arg[1] %= f.mem_size + 64;
			call.arg[2] %= f.mem_size + 64;
		} else {
			call.arg[1] %= HC_CONSOLE_WRITE_MAX + 64;
		}
	}
	if (lc_flags & 8)
		call.nr = HC_LIFECYCLE_FIRST + call.nr % (HC_LIFECYCLE_LAST -
							HC_LIFECYCLE_FIRST + 2);
	sign_fails = flags & 0x80;
	/* Every input starts from an empty VM table. */
	lifecycle_destroy_all(&fake_ops, NULL);
	fake_free = FAKE_FRAMES;
	if (lc_flags & 2) {
		struct vm *vm = vm_table_alloc_tenant("fuzzvm");
		CHECK(vm && vm->id == 1);
		vm->mem_size = 2u << 20;
		vm->tenant.active = true;
		vm->tenant.state = HC_VM_CREATED;
		memset(vm->tenant.owner, 0xa1, HC_OWNER_LEN);
		CHECK(lifecycle_mem_alloc(&fake_ops, NULL, vm) == HC_OK);
		vm->tenant.has_memory = true;
		if (lc_flags & 0x10) {
			/* as if loaded and started: a few pages hold data */
			vm->tenant.state = HC_VM_RUNNING;
			vm->tenant.version = lc_flags >> 7;
			fk_set_runnable(NULL, vm, true);
			for (unsigned i = 0; i < 8; i++)
				fake_mem[1][((flags * 7 + i * 61) % 512) * 4096 + i] =
					(uint8_t)(i + 1);
			if (lc_flags & 0x20)
				open_stream(lc_flags & 0x40);
		}
	}
	bool stream_open = (lc_flags & 0x32) == 0x32;
	if (lc_flags & 4)
		fake_free = 0;
	uint64_t free_before = fake_free;
	if (fake_log.count == 0) {
		static const uint8_t digest[MEASURE_DIGEST_LEN] = { 0xab };

		measure_log_init(&fake_log);
		CHECK(measure_log_append(&fake_log, MEASURE_HV_IMAGE, digest,
					 "fuzz") == 0);
	}

	f.mem = malloc(f.mem_size ? f.mem_size : 1);
	CHECK(f.mem != NULL);
	for (uint64_t i = 0; i < f.mem_size; i++)
		f.mem[i] = in.left ? in.p[i % in.left] : (uint8_t)(i * 31 + 7);
	memcpy(before, f.mem, f.mem_size);

	env = (struct hc_env){
		.mem_size = f.mem_size,
		.is_tpgvm = flags & 1,
		.read_guest = fake_read,
		.write_guest = fake_write,
		.console_put = fake_put,
		.report = (flags & 0x40) ? &fake_source : NULL,
		.lc = (lc_flags & 1) && (flags & 1) ? &fake_ops : NULL,
		.ctx = &f,
	};
	/* The VMCALL is executed again for as long as the TCB says so (a
	 * long lifecycle call); it must end, in a bounded number of steps. */
	unsigned executions = 0;
	do {
		CHECK(++executions < 200000);
		memset(&res, 0xa5, sizeof(res));
		hypercall_handle(&call, &env, &res);
	} while (res.effect == HC_EFFECT_RESTART);

	/* The result is a success count/value or one of the ABI errors. */
	CHECK(res.ret >= 0 || is_error(res.ret));
	CHECK(res.effect == HC_EFFECT_NONE || res.effect == HC_EFFECT_YIELD ||
	      res.effect == HC_EFFECT_EXIT);

	/* Effects only for YIELD and EXIT from CPL 0. */
	CHECK((res.effect == HC_EFFECT_EXIT) ==
	      (call.nr == HC_EXIT && call.cpl == 0));
	CHECK((res.effect == HC_EFFECT_YIELD) ==
	      (call.nr == HC_YIELD && call.cpl == 0));
	if (res.effect == HC_EFFECT_EXIT)
		CHECK(res.exit_code == call.arg[0]);
	if (res.effect != HC_EFFECT_NONE)
		CHECK(res.ret == 0);

	/* Only a console write, a report or a lifecycle call (with a
	 * mechanism) at CPL 0 reads memory; only a report or a successful
	 * QUERY, CONSOLE_READ or STOP writes it; only a console write touches
	 * the console. A refused lifecycle call leaves the frames as they were. */
	bool lc = call.nr >= HC_LIFECYCLE_FIRST && call.nr <= HC_LIFECYCLE_LAST &&
		  env.lc != NULL;
	bool lc_writes = lc && res.ret >= 0 && (call.nr == HC_VM_QUERY ||
		call.nr == HC_VM_CONSOLE_READ || call.nr == HC_VM_STOP ||
		call.nr == HC_VM_STOP_STREAM || call.nr == HC_VM_START_STREAM);
	if (lc && res.ret < 0 && !stream_open)
		CHECK(fake_free == free_before);
	if (lc && res.ret < 0 && stream_open)
		CHECK(fake_free >= free_before); /* a failed resume gives back */
	if ((call.nr != HC_CONSOLE_WRITE && call.nr != HC_REPORT && !lc) ||
	    call.cpl != 0)
		CHECK(f.reads == 0);
	if ((call.nr != HC_REPORT && !lc_writes) || call.cpl != 0) {
		CHECK(f.writes == 0);
		CHECK(memcmp(before, f.mem, f.mem_size) == 0);
	}
	if (call.nr != HC_CONSOLE_WRITE || call.cpl != 0)
		CHECK(f.console_len == 0);

	if (call.cpl != 0) {
		CHECK(res.ret == HC_E_DENIED);
	} else if (call.nr == HC_VERSION) {
		CHECK(res.ret == CUSTOS_ABI_VERSION);
	} else if (call.nr == HC_YIELD || call.nr == HC_EXIT) {
		CHECK(res.ret == 0);
	} else if (call.nr == HC_CONSOLE_WRITE) {
		uint64_t gpa = call.arg[0], len = call.arg[1];

		if (len > HC_CONSOLE_WRITE_MAX) {
			CHECK(res.ret == HC_E_INVAL);
		} else if (gpa > f.mem_size || len > f.mem_size - gpa) {
			CHECK(res.ret == HC_E_FAULT);
		} else if (!f.fail) {
			CHECK(res.ret == (int64_t)len);
		} else {
			/* A failing read may cut the write short, or fail it. */
			CHECK(res.ret == HC_E_FAULT ||
			      (res.ret >= 0 && (uint64_t)res.ret <= len));
			if (len == 0 || gpa + len <= f.fail_at)
				CHECK(res.ret == (int64_t)len);
		}
		if (res.ret < 0) {
			CHECK(f.console_len == 0);
		} else {
			CHECK(f.console_len == (size_t)res.ret);
			CHECK(memcmp(f.console, f.mem + gpa, f.console_len) == 0);
		}
	} else if (call.nr == HC_REPORT) {
		check_report(&f, &env, &call, before, res.ret);
	} else if (call.nr >= HC_LIFECYCLE_FIRST && call.nr <= HC_LIFECYCLE_LAST) {
		CHECK(env.is_tpgvm ? res.ret != HC_E_DENIED : res.ret == HC_E_DENIED);
		CHECK(f.console_len == 0);
		if (!env.lc)
			CHECK(f.reads == 0 && (res.ret == HC_E_DENIED ||
					       res.ret == HC_E_NOSYS));
	} else {
		CHECK(res.ret == HC_E_NOSYS);
	}

	free(f.mem);
	return 0;
}
