/*
 * The VM lifecycle service (docs/lifecycle.md, docs/tpgvm.md "VM
 * lifecycle"): tenant requests become lifecycle hypercalls, images are
 * staged here until the TCB loads them, and sealed blobs go to and come
 * from the relay's storage (tpgvm/storage.c).
 *
 * The TCB is the one source of truth about VMs: a tenant's VM names are
 * mapped to VM ids by asking it for the tenant's list (HC_VM_QUERY with
 * vm_id 0), so another tenant's VM is simply not there (NOT_FOUND, no
 * existence leak), and nothing here can drift from the TCB's records.
 *
 * What the TPGVM itself holds: the upload state of one VM being created
 * (image, init data, the secrets until HC_VM_LOAD has taken them) and two
 * windows of BLOB_WIN bytes. Sealed blobs never pass whole through the
 * TPGVM: a stop streams the seal (HC_VM_STOP_STREAM) a window at a time
 * into a streamed put, a start streams a streamed get into
 * HC_VM_START_STREAM (docs/lifecycle.md, "Streams"). Storage failing
 * before the TCB commits aborts the stream (the VM runs on, or stays
 * SEALED). The TCB commits at the call that hands out the last window,
 * before the relay has it: if that window's PUT or the COMMIT fails, the
 * window is "kept" (the second window; the relay's part file holds the
 * rest) and PUT + COMMIT again before another VM is stopped or that VM
 * started, so a stop never loses a VM's state silently.
 *
 * Starts and stops of sealed VMs wait for the relay: they run as the one
 * job at a time, driven from the main loop (service_step), while the
 * session that asked waits in its own state (tpgvm/session.c) and every
 * other session and the transport go on.
 *
 * Console lines (never secrets, images, blob contents or VM names):
 *   tpgvm: <tenant> vm #<label>: created | loaded | started | sealed vN
 *          (B bytes) stored | resumed | destroyed | refused: <why> | ...
 */
#include "tpgvm/vm_service.h"
#include "tpgvm/answer.h"
#include "tpgvm/deadline.h"
#include "tpgvm/storage.h"
#include "guests/runtime/guest.h"
#include "crypto/crypto.h"
#include "tcb/byteorder.h"

#include <heap.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Staging and blob memory lives above our image and init data, below the
 * stack (it grows down from mem_size). */
#define STACK_RESERVE    (1ull << 20)
#define PAGE             0x1000ull
#define STAGE_SIZE       ((uint64_t)HC_VM_IMAGE_MAX + HC_VM_INIT_MAX + HC_VM_SECRETS_MAX)
/* A Linux VM's bzImage and initrd share the room of an ELF image and its
 * init data: the kernel at stage_image, the initrd page-aligned after it,
 * both together at most this (the TCB would take 16 + 32 MiB; the TPGVM's
 * staging area is this much). */
#define STAGE_LINUX_MAX  ((uint64_t)HC_VM_IMAGE_MAX + HC_VM_INIT_MAX)
/* A stream's window (>= HC_STREAM_MIN): the TCB seals into it, or takes
 * a piece of a blob from it, per call; 146 STORAGE_CHUNK requests. */
#define BLOB_WIN         (128u << 10)
_Static_assert(BLOB_WIN >= HC_STREAM_MIN, "a stream's window is at least HC_STREAM_MIN");
/* VMs of one owner that one query returns (PROTO_VM_LIST_MAX are listed). */
#define QUERY_MAX        32
/* Owners whose VMs are checked for self-stopped ones. */
#define OWNERS_MAX       32
#define TICKETS_MAX      SESSION_MAX
/* Seconds (tpgvm/deadline.h): an upload with no chunk for this long (plus
 * our own work meanwhile) is abandoned when someone else wants to create
 * (or at the next sweep); EXITED VMs are looked for this often, and a
 * kept blob is stored again before another seal at most this often. */
#define UPLOAD_IDLE_S    120u
/* An upload with no chunk for this long (plus a little of our own work)
 * gives way to another tenant's create: the TPGVM stages one image at a
 * time, and a tenant that stalls must not hold every other one up. A
 * client sends its next chunk as soon as the last is answered, so a live
 * upload is never this quiet. */
#define UPLOAD_STALE_S   15u
#define UPLOAD_STALE_WORK (TPGVM_WORK_CYCLES / 4)
/* Uploads abandoned lately, so that their owners hear why the VM is gone. */
#define ABANDONED_MAX    8
#define SWEEP_S          10u
#define KEPT_RETRY_S     150u

/* ---- State ----------------------------------------------------------------- */

static uint8_t *stage_image, *stage_init, *stage_secrets;
/* win_buf[0]: the job's window; win_buf[1]: a kept blob's last window. */
static uint8_t *win_buf[2];
static bool have_memory;

/* The one VM being created: what the tenant said, what has arrived. */
static struct staging {
	bool active;
	uint8_t owner[HC_OWNER_LEN];
	char tenant[64];
	char name[PROTO_VM_NAME_MAX];
	uint32_t vm_id;
	uint64_t mem_size, image_len, init_len, image_rx, init_rx;
	uint64_t initrd_len, initrd_rx;  /* a Linux VM's, at stage_initrd() */
	uint32_t boot_protocol;          /* PROTO_BOOT_* */
	uint32_t cmdline_len;            /* bytes of cmdline, with the NUL */
	char cmdline[HC_VM_CMDLINE_MAX];
	uint32_t secrets_len;
	uint8_t salt[PROTO_SALT_LEN];
	uint64_t abandon_at;   /* TSC: no chunk by then, the upload goes */
	uint64_t stale_at;     /* TSC: no chunk by then, another create may
	                        * take the staging area */
	uint32_t session;      /* the session that creates it (struct tenant) */
} stg;

/* An upload abandoned (and its VM destroyed) for its owner's next
 * request about that name: NOT_FOUND, with the reason. */
static struct abandoned {
	bool used;
	uint8_t owner[HC_OWNER_LEN];
	char name[PROTO_VM_NAME_MAX];
	char why[80];
	uint64_t when;
} abandoned[ABANDONED_MAX];

/* A sealed blob whose last window the relay did not store (or whose
 * COMMIT failed): that window is in win_buf[1], bytes [off, off + len)
 * of the total; the relay's part file holds the bytes before off. */
static struct kept {
	bool used;
	uint8_t owner[HC_OWNER_LEN];
	char tenant[64];
	char name[PROTO_VM_NAME_MAX];
	uint32_t vm_id;
	uint8_t measurement[48]; /* with owner: its blob's name */
	uint64_t version;
	uint64_t total, off;
	size_t len;
} kept;

/* A request whose answer comes later. */
struct ticket {
	uint32_t id;        /* 0: free */
	uint32_t seq;       /* queue order */
	bool started, done;
	uint16_t type;      /* PROTO_VM_START or PROTO_VM_STOP */
	uint32_t mode;      /* START: enum proto_start_mode */
	struct tenant who;
	char name[PROTO_VM_NAME_MAX];
	uint8_t *out;
	size_t out_len;
};

static struct ticket tickets[TICKETS_MAX];
static uint32_t next_ticket = 1, next_seq = 1;

enum job_kind { JOB_NONE, JOB_START, JOB_STOP, JOB_SEAL_EXITED };
enum job_phase { PH_GET, PH_FLUSH_KEPT, PH_CHECK_KEPT, PH_PUT };

/* The one start or stop in progress. */
static struct job {
	enum job_kind kind;
	enum job_phase phase;
	uint32_t ticket;    /* 0: nobody waits for the answer */
	uint32_t mode;      /* START: enum proto_start_mode */
	/* The stream is of the VM's boot copy (HC_STREAM_BOOT_COPY): sealing
	 * it at a LOADED VM's first start, or booting afresh from it. */
	bool boot;
	/* A start that seals first: a LOADED VM's boot copy, or an EXITED
	 * VM's state (its start then opens a blob like a SEALED one's). */
	bool seal_first;
	uint8_t owner[HC_OWNER_LEN];
	char tenant[64];
	char name[PROTO_VM_NAME_MAX];
	uint32_t vm_id;
	uint8_t measurement[48]; /* with owner: its blob's name */
	uint64_t version;
	uint64_t total;     /* the blob's length, once known */
	uint64_t off;       /* blob offset of win_buf[0]'s first byte */
	size_t have;        /* bytes of the blob in win_buf[0] */
	bool open;          /* a stream of the TCB's is open */
	bool sealed;        /* the TCB committed the seal (stop) */
	int st;             /* storage handle */
} job;

static struct owner_rec {
	bool used;
	uint8_t id[HC_OWNER_LEN];
	char tenant[64];
	uint64_t seen;
} owners[OWNERS_MAX];

static uint64_t next_sweep;

/* Hypercall arguments and results live here (our memory, gpa == va). */
static struct hc_vm_info qbuf[QUERY_MAX];
static uint8_t console_buf[PROTO_CHUNK_MAX];

/* ---- Small helpers ------------------------------------------------------------ */

/* A VM's name in our console lines: 8 hex digits of an HMAC under a key
 * of this boot, the same for a tenant's VM on every line and never the
 * name its tenant chose, which the development build's mirror mode would
 * otherwise copy to the host's COM1 (docs/architecture.md, "What the host
 * learns"). */
static void vm_label(const char *tenant, const char *name, char out[9])
{
	static uint8_t key[32];
	static bool keyed;
	static const char hex[] = "0123456789abcdef";
	uint8_t buf[64 + PROTO_VM_NAME_MAX], mac[CRYPTO_SHA384_LEN];
	size_t t = strnlen(tenant, 63), n = strnlen(name, PROTO_VM_NAME_MAX - 1);

	if (!keyed)
		keyed = crypto_random(key, sizeof(key)) == CRYPTO_OK;
	memcpy(buf, tenant, t);
	buf[t] = 0;
	memcpy(buf + t + 1, name, n);
	if (!keyed || crypto_hmac_sha384(key, sizeof(key), buf, t + 1 + n, mac)) {
		memcpy(out, "????????", 9);
		return;
	}
	for (int i = 0; i < 4; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 15];
	}
	out[8] = '\0';
}

static void vlog(const char *tenant, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void vlog(const char *tenant, const char *name, const char *fmt, ...)
{
	char msg[160], label[9];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	vm_label(tenant, name, label);
	con_printf("tpgvm: %s vm #%s: %s\n", tenant, label, msg);
}

static long vm_hc(unsigned long nr, void *req)
{
	return hypercall(nr, (unsigned long)req, 0, 0, 0);
}

static void ref_set(struct hc_vm_ref *r, const uint8_t owner[HC_OWNER_LEN],
		    uint32_t vm_id)
{
	memset(r, 0, sizeof(*r));
	r->vm_id = vm_id;
	memcpy(r->owner, owner, HC_OWNER_LEN);
}

static bool same_name(const char *a, const char *b)
{
	return strncmp(a, b, PROTO_VM_NAME_MAX) == 0;
}

/* Every VM of owner into qbuf: how many, or an HC_E_* error. */
static long query_owner(const uint8_t owner[HC_OWNER_LEN])
{
	static struct hc_vm_query q;
	long n;

	ref_set(&q.ref, owner, 0);
	q.out_gpa = (uint64_t)(uintptr_t)qbuf;
	q.out_cap = sizeof(qbuf);
	n = vm_hc(HC_VM_QUERY, &q);
	if (n > QUERY_MAX)
		n = QUERY_MAX;
	for (long i = 0; i < n; i++) {
		qbuf[i].name[HC_VM_NAME_MAX - 1] = '\0';
		qbuf[i].stop_reason[sizeof(qbuf[i].stop_reason) - 1] = '\0';
	}
	return n;
}

/* owner's VM called name: 1 (and *out), 0 if there is none, or HC_E_*. */
static long find_vm(const uint8_t owner[HC_OWNER_LEN], const char *name,
		    struct hc_vm_info *out)
{
	long n = query_owner(owner);

	for (long i = 0; i < n; i++) {
		if (same_name(qbuf[i].name, name)) {
			*out = qbuf[i];
			return 1;
		}
	}
	return n < 0 ? n : 0;
}

static long query_one(const uint8_t owner[HC_OWNER_LEN], uint32_t vm_id,
		      struct hc_vm_info *out)
{
	static struct hc_vm_query q;
	static struct hc_vm_info one;
	long n;

	ref_set(&q.ref, owner, vm_id);
	q.out_gpa = (uint64_t)(uintptr_t)&one;
	q.out_cap = sizeof(one);
	n = vm_hc(HC_VM_QUERY, &q);
	if (n == 1) {
		one.name[HC_VM_NAME_MAX - 1] = '\0';
		one.stop_reason[sizeof(one.stop_reason) - 1] = '\0';
		*out = one;
	}
	return n == 1 ? 1 : n < 0 ? n : HC_E_NOTFOUND;
}

/* What the tenant sees: a VM that stopped itself is EXITED whether or not
 * its state is sealed away yet (docs/protocol.md, "VM states and
 * commands"); extra is PROTO_VM_INFO_AFRESH or _RESUMED in a start's
 * answer. */
static void to_info(const struct hc_vm_info *h, uint32_t extra,
		    struct proto_vm_info *p)
{
	memset(p, 0, sizeof(*p));
	memcpy(p->name, h->name, sizeof(p->name));
	p->name[PROTO_VM_NAME_MAX - 1] = '\0';
	p->state = h->state;
	p->flags = extra;
	if (h->state == HC_VM_SEALED) {
		p->flags |= PROTO_VM_INFO_SEALED;
		if (h->flags & HC_VM_INFO_STOPPED_ITSELF)
			p->state = HC_VM_EXITED;
	}
	p->mem_size = h->mem_size;
	p->version = h->version;
	memcpy(p->measurement, h->measurement, sizeof(p->measurement));
	memcpy(p->stop_reason, h->stop_reason, sizeof(p->stop_reason));
	p->stop_reason[sizeof(p->stop_reason) - 1] = '\0';
	if (h->state == HC_VM_CREATED && stg.active && stg.vm_id == h->vm_id) {
		p->image_len = stg.image_len;
		p->image_received = stg.image_rx;
		p->init_len = stg.init_len;
		p->init_received = stg.init_rx;
		p->initrd_len = stg.initrd_len;
		p->initrd_received = stg.initrd_rx;
	}
}

static void answer_info(const struct hc_vm_info *h, uint32_t extra,
			uint8_t **out, size_t *out_len)
{
	struct proto_vm_info info;

	to_info(h, extra, &info);
	answer_msg(PROTO_VM_INFO, &info, sizeof(info), out, out_len);
}

/* A TCB error as the tenant's error code and words. */
static uint32_t hc_error(long rc, const char **text)
{
	switch (rc) {
	case HC_E_NOTFOUND:
		*text = "no VM of that name";
		return PROTO_ERR_NOT_FOUND;
	case HC_E_NOMEM:
		*text = "the platform has not enough free memory";
		return PROTO_ERR_NO_MEMORY;
	case HC_E_STATE:
		*text = "not possible in the VM's current state";
		return PROTO_ERR_STATE;
	case HC_E_VERIFY:
		*text = "the VM's sealed state does not verify "
			"(altered, or another VM's)";
		return PROTO_ERR_VERIFY;
	case HC_E_ROLLBACK:
		*text = "the stored sealed state is older than the latest one "
			"sealed for this VM (rollback)";
		return PROTO_ERR_ROLLBACK;
	case HC_E_INVAL:
		*text = "the TCB refused the request's values";
		return PROTO_ERR_BAD_REQUEST;
	default:
		*text = "the TCB failed";
		return PROTO_ERR_INTERNAL;
	}
}

/* Remember who has VMs, to look for ones that stopped themselves: the
 * table keeps the owners seen most recently. */
static void owner_seen(const struct tenant *who)
{
	struct owner_rec *o = NULL;

	for (int i = 0; i < OWNERS_MAX && !o; i++)
		if (owners[i].used && !memcmp(owners[i].id, who->id, HC_OWNER_LEN))
			o = &owners[i];
	for (int i = 0; i < OWNERS_MAX && !o; i++)
		if (!owners[i].used)
			o = &owners[i];
	if (!o) {
		o = &owners[0];
		for (int i = 1; i < OWNERS_MAX; i++)
			if (owners[i].seen < o->seen)
				o = &owners[i];
	}
	o->used = true;
	memcpy(o->id, who->id, HC_OWNER_LEN);
	snprintf(o->tenant, sizeof(o->tenant), "%s", who->name);
	o->seen = rdtsc();
}

static void refuse(const struct tenant *who, const char *name, uint32_t code,
		   const char *text, uint8_t **out, size_t *out_len)
{
	vlog(who->name, name, "refused: %s", text);
	answer_error(code, text, out, out_len);
}

/* ---- Staging: the VM being created -------------------------------------- */

static void staging_clear(void)
{
	if (stage_secrets)
		crypto_wipe(stage_secrets, HC_VM_SECRETS_MAX);
	crypto_wipe(&stg, sizeof(stg));
}

static struct abandoned *abandoned_find(const uint8_t owner[HC_OWNER_LEN],
					const char *name)
{
	for (int i = 0; i < ABANDONED_MAX; i++)
		if (abandoned[i].used && same_name(abandoned[i].name, name) &&
		    !memcmp(abandoned[i].owner, owner, HC_OWNER_LEN))
			return &abandoned[i];
	return NULL;
}

/* Remember why owner's VM name went; the oldest record makes room. */
static void abandoned_note(const uint8_t owner[HC_OWNER_LEN], const char *name,
			   const char *why)
{
	struct abandoned *a = abandoned_find(owner, name);

	for (int i = 0; i < ABANDONED_MAX && !a; i++)
		if (!abandoned[i].used)
			a = &abandoned[i];
	if (!a) {
		a = &abandoned[0];
		for (int i = 1; i < ABANDONED_MAX; i++)
			if (abandoned[i].when < a->when)
				a = &abandoned[i];
	}
	a->used = true;
	memcpy(a->owner, owner, HC_OWNER_LEN);
	memcpy(a->name, name, sizeof(a->name));
	snprintf(a->why, sizeof(a->why), "%s", why);
	a->when = rdtsc();
}

/* The answer to a request about a VM the tenant does not have: why, if
 * its upload was abandoned. */
static void answer_not_found(const uint8_t owner[HC_OWNER_LEN], const char *name,
			     char *text, size_t cap)
{
	const struct abandoned *a = abandoned_find(owner, name);

	if (a)
		snprintf(text, cap, "no VM of that name: its upload was abandoned "
			 "(%s) and the half-created VM destroyed; create it again",
			 a->why);
	else
		snprintf(text, cap, "no VM of that name");
}

static void not_found(const struct tenant *who, const char *name, uint8_t **out,
		      size_t *out_len)
{
	char text[PROTO_ERROR_TEXT_MAX];

	answer_not_found(who->id, name, text, sizeof(text));
	answer_error(PROTO_ERR_NOT_FOUND, text, out, out_len);
}

/* An upload that cannot go on: its half-created VM goes, and its owner
 * hears why at its next request about it. */
static void staging_abandon(const char *why)
{
	static struct hc_vm_ref ref;

	ref_set(&ref, stg.owner, stg.vm_id);
	(void)vm_hc(HC_VM_DESTROY, &ref);
	vlog(stg.tenant, stg.name, "upload abandoned (%s); destroyed", why);
	abandoned_note(stg.owner, stg.name, why);
	staging_clear();
}

/* A chunk arrived (or the create): the upload is alive. */
static void staging_touch(void)
{
	stg.abandon_at = deadline_in(UPLOAD_IDLE_S, TPGVM_WORK_CYCLES);
	stg.stale_at = deadline_in(UPLOAD_STALE_S, UPLOAD_STALE_WORK);
}

static void staging_check_idle(void)
{
	if (stg.active && rdtsc() > stg.abandon_at)
		staging_abandon("no chunk for 120 s");
}

void vm_service_session_closed(uint32_t session)
{
	if (stg.active && stg.session == session)
		staging_abandon("its session closed before the upload ended");
}

/* A create wants the staging area: the upload in it gives way if its own
 * session moved on, or if it stalled. */
static void staging_make_room(const struct tenant *who)
{
	if (!stg.active)
		return;
	if (stg.session == who->session)
		staging_abandon("its session sent another create");
	else if (rdtsc() > stg.stale_at)
		staging_abandon("no chunk for 15 s while another create waited");
}

/* Why a create cannot have the staging area now (stg.active). */
static void staging_busy(const struct tenant *who, const char *name,
			 uint8_t **out, size_t *out_len)
{
	if (!memcmp(stg.owner, who->id, HC_OWNER_LEN) && same_name(stg.name, name)) {
		char text[PROTO_ERROR_TEXT_MAX];

		snprintf(text, sizeof(text), "you already have a VM of that name: "
			 "created, its upload under way on another session (%llu "
			 "of %llu bytes); it is abandoned if it stalls for 15 s",
			 (unsigned long long)(stg.image_rx + stg.init_rx + stg.initrd_rx),
			 (unsigned long long)(stg.image_len + stg.init_len + stg.initrd_len));
		refuse(who, name, PROTO_ERR_EXISTS, text, out, out_len);
		return;
	}
	refuse(who, name, PROTO_ERR_BUSY, "another VM's image is being uploaded "
	       "(the TPGVM stages one at a time); an upload that stalls for 15 s "
	       "gives way: try again in a moment", out, out_len);
}

/* ---- Requests answered at once -------------------------------------------- */

/* VM_INFO of the VM being created, from what the tenant said (while the
 * TCB has not loaded it, or when it cannot be asked). */
/* Where a Linux VM's initrd is staged: page-aligned after its kernel. */
static uint8_t *stage_initrd(void)
{
	return stage_image + ((stg.image_len + PAGE - 1) & ~(PAGE - 1));
}

static void staged_info(struct hc_vm_info *info)
{
	memset(info, 0, sizeof(*info));
	info->vm_id = stg.vm_id;
	info->state = HC_VM_CREATED;
	memcpy(info->name, stg.name, sizeof(info->name));
	info->mem_size = stg.mem_size;
}

/* VM_CREATE: req is the body's struct (copied out); the secrets follow it
 * in m. */
static void create(const struct tenant *who, const struct proto_vm_create *req,
		   const struct proto_msg *m, uint8_t **out, size_t *out_len)
{
	static struct hc_vm_create c;
	struct hc_vm_info info;
	struct abandoned *forget;
	const char *text = "";
	long rc;

	if (!proto_vm_name_ok(req->name) ||
	    (uint64_t)req->secrets_len + req->cmdline_len != m->len - sizeof(*req) ||
	    req->secrets_len > HC_VM_SECRETS_MAX ||
	    req->cmdline_len > HC_VM_CMDLINE_MAX ||
	    (req->boot_protocol != PROTO_BOOT_ELF &&
	     req->boot_protocol != PROTO_BOOT_LINUX64)) {
		answer_error(PROTO_ERR_BAD_REQUEST, "malformed VM_CREATE", out, out_len);
		return;
	}
	if (req->boot_protocol == PROTO_BOOT_LINUX64) {
		/* proto_parse checked the TCB's limits; here the staging room */
		if (req->image_len < 1 || req->image_len > HC_VM_KERNEL_MAX ||
		    req->initrd_len > HC_VM_INITRD_MAX ||
		    ((req->image_len + PAGE - 1) & ~(PAGE - 1)) + req->initrd_len >
			    STAGE_LINUX_MAX) {
			refuse(who, req->name, PROTO_ERR_TOO_LARGE,
			       "kernel and initrd together beyond the 9 MiB the "
			       "TPGVM can stage", out, out_len);
			return;
		}
	} else if (req->image_len < 1 || req->image_len > HC_VM_IMAGE_MAX ||
		   req->init_len > HC_VM_INIT_MAX) {
		refuse(who, req->name, PROTO_ERR_TOO_LARGE,
		       "image (1..8 MiB) or init data (0..1 MiB) beyond the limits",
		       out, out_len);
		return;
	}
	if (!have_memory) {
		refuse(who, req->name, PROTO_ERR_NO_MEMORY,
		       "the TPGVM has no memory to stage VM images", out, out_len);
		return;
	}
	staging_check_idle();
	staging_make_room(who);
	if (stg.active) {
		staging_busy(who, req->name, out, out_len);
		return;
	}
	rc = find_vm(who->id, req->name, &info);
	if (rc > 0) {
		char exists[PROTO_ERROR_TEXT_MAX];

		snprintf(exists, sizeof(exists), "you already have a VM of that "
			 "name (state %s)", proto_vm_state_name(info.state));
		refuse(who, req->name, PROTO_ERR_EXISTS, exists, out, out_len);
		return;
	}
	memset(&c, 0, sizeof(c));
	ref_set(&c.ref, who->id, 0);
	memcpy(c.name, req->name, sizeof(c.name));
	c.mem_size = req->mem_size;
	rc = vm_hc(HC_VM_CREATE, &c);
	if (rc <= 0) {
		uint32_t code = rc == 0 ? PROTO_ERR_INTERNAL : hc_error(rc, &text);

		if (rc == HC_E_INVAL)
			text = "the TCB refused it (memory size, or no free VM slot)";
		else if (rc == 0)
			text = "the TCB failed";
		refuse(who, req->name, code, text, out, out_len);
		return;
	}
	memset(&stg, 0, sizeof(stg));
	stg.active = true;
	stg.session = who->session;
	memcpy(stg.owner, who->id, HC_OWNER_LEN);
	snprintf(stg.tenant, sizeof(stg.tenant), "%s", who->name);
	memcpy(stg.name, req->name, sizeof(stg.name));
	stg.vm_id = (uint32_t)rc;
	stg.mem_size = req->mem_size;
	stg.image_len = req->image_len;
	stg.init_len = req->init_len;
	stg.secrets_len = req->secrets_len;
	stg.boot_protocol = req->boot_protocol;
	stg.initrd_len = req->boot_protocol == PROTO_BOOT_LINUX64 ? req->initrd_len : 0;
	stg.cmdline_len = req->cmdline_len;
	memcpy(stg.cmdline, m->body + sizeof(*req) + req->secrets_len, req->cmdline_len);
	memcpy(stg.salt, req->salt, sizeof(stg.salt));
	memcpy(stage_secrets, m->body + sizeof(*req), req->secrets_len);
	staging_touch();
	forget = abandoned_find(who->id, req->name);
	if (forget)
		forget->used = false; /* a new VM of that name */
	vlog(who->name, req->name, "created (%llu MiB)",
	     (unsigned long long)(req->mem_size >> 20));
	if (query_one(who->id, stg.vm_id, &info) != 1)
		staged_info(&info);
	answer_info(&info, 0, out, out_len);
}

static void vm_create(const struct tenant *who, const struct proto_msg *m,
		      uint8_t **out, size_t *out_len)
{
	struct proto_vm_create req;

	if (m->len < sizeof(req)) {
		answer_error(PROTO_ERR_BAD_REQUEST, "short VM_CREATE", out, out_len);
		return;
	}
	memcpy(&req, m->body, sizeof(req));
	create(who, &req, m, out, out_len);
	/* Its salt is what keeps the secrets' hash in the launch measurement
	 * from being guessed: kept in the staging state only (wiped there). */
	crypto_wipe(&req, sizeof(req));
}

/* Image and init data have all arrived: the TCB loads and measures. */
static void vm_load(const struct tenant *who, uint8_t **out, size_t *out_len)
{
	static struct hc_vm_load l;
	struct hc_vm_info info;
	const char *text = "";
	uint32_t vm_id = stg.vm_id;
	char name[PROTO_VM_NAME_MAX];
	bool stg_linux;
	long rc;

	memset(&l, 0, sizeof(l));
	ref_set(&l.ref, stg.owner, stg.vm_id);
	l.image_gpa = (uint64_t)(uintptr_t)stage_image;
	l.image_len = stg.image_len;
	l.init_gpa = (uint64_t)(uintptr_t)stage_init;
	l.init_len = stg.init_len;
	l.secrets_gpa = (uint64_t)(uintptr_t)stage_secrets;
	l.secrets_len = stg.secrets_len;
	memcpy(l.secrets_salt, stg.salt, sizeof(l.secrets_salt));
	l.boot_protocol = stg.boot_protocol;
	if (stg.boot_protocol == PROTO_BOOT_LINUX64) {
		l.init_gpa = l.secrets_gpa = 0;
		l.initrd_gpa = (uint64_t)(uintptr_t)stage_initrd();
		l.initrd_len = stg.initrd_len;
		l.cmdline_gpa = (uint64_t)(uintptr_t)stg.cmdline;
		l.cmdline_len = stg.cmdline_len;
	}
	rc = vm_hc(HC_VM_LOAD, &l);
	stg_linux = stg.boot_protocol == PROTO_BOOT_LINUX64;
	/* The secrets are in the VM now (or refused): not here any more. */
	memcpy(name, stg.name, sizeof(name));
	crypto_wipe(&l, sizeof(l));
	staging_clear();
	if (rc < 0) {
		static struct hc_vm_ref ref;
		uint32_t code = hc_error(rc, &text);

		if (rc == HC_E_INVAL) {
			code = PROTO_ERR_BAD_REQUEST;
			text = stg_linux ?
			       "the TCB refused the kernel (not a 64-bit bzImage it "
			       "can boot, or it and the initrd do not fit the memory "
			       "size); the VM was destroyed" :
			       "the TCB refused the image (not a loadable ELF, does "
			       "not fit the memory size, or bad secrets); the VM "
			       "was destroyed";
		}
		ref_set(&ref, who->id, vm_id);
		(void)vm_hc(HC_VM_DESTROY, &ref);
		refuse(who, name, code, text, out, out_len);
		return;
	}
	if (query_one(who->id, vm_id, &info) != 1) {
		refuse(who, name, PROTO_ERR_INTERNAL, "the TCB lost the VM",
		       out, out_len);
		return;
	}
	vlog(who->name, name, "loaded");
	answer_info(&info, 0, out, out_len);
}

static void vm_upload(const struct tenant *who, const struct proto_msg *m,
		      uint8_t **out, size_t *out_len)
{
	struct proto_vm_upload req;
	struct hc_vm_info info;
	uint64_t *rx, want;
	uint8_t *dst;
	size_t n;

	if (m->len <= sizeof(req)) {
		answer_error(PROTO_ERR_BAD_REQUEST, "short VM_UPLOAD", out, out_len);
		return;
	}
	memcpy(&req, m->body, sizeof(req));
	n = m->len - sizeof(req);
	if (!proto_vm_name_ok(req.name) || n > PROTO_CHUNK_MAX) {
		answer_error(PROTO_ERR_BAD_REQUEST, "malformed VM_UPLOAD", out, out_len);
		return;
	}
	if (!stg.active || memcmp(stg.owner, who->id, HC_OWNER_LEN) ||
	    !same_name(stg.name, req.name)) {
		long rc = find_vm(who->id, req.name, &info);

		if (rc <= 0)
			not_found(who, req.name, out, out_len);
		else if (info.state == HC_VM_CREATED)
			refuse(who, req.name, PROTO_ERR_STATE,
			       "its upload was abandoned; destroy it and create it again",
			       out, out_len);
		else
			refuse(who, req.name, PROTO_ERR_STATE,
			       "the VM is loaded already", out, out_len);
		return;
	}
	if (req.part == PROTO_PART_IMAGE) {
		rx = &stg.image_rx;
		want = stg.image_len;
		dst = stage_image;
	} else if (req.part == PROTO_PART_INIT_DATA) {
		rx = &stg.init_rx;
		want = stg.init_len;
		dst = stage_init;
	} else if (req.part == PROTO_PART_INITRD &&
		   stg.boot_protocol == PROTO_BOOT_LINUX64) {
		rx = &stg.initrd_rx;
		want = stg.initrd_len;
		dst = stage_initrd();
	} else {
		answer_error(PROTO_ERR_BAD_REQUEST, "unknown upload part", out, out_len);
		return;
	}
	if (req.offset != *rx) {
		char text[96];

		snprintf(text, sizeof(text), "chunk at offset %llu, but %llu bytes "
			 "of that part have arrived", (unsigned long long)req.offset,
			 (unsigned long long)*rx);
		answer_error(PROTO_ERR_BAD_REQUEST, text, out, out_len);
		return;
	}
	if (n > want - *rx) {
		answer_error(PROTO_ERR_TOO_LARGE,
			     "chunk beyond the length given at create",
			     out, out_len);
		return;
	}
	memcpy(dst + *rx, m->body + sizeof(req), n);
	*rx += n;
	staging_touch();
	if (stg.image_rx == stg.image_len && stg.init_rx == stg.init_len &&
	    stg.initrd_rx == stg.initrd_len) {
		vm_load(who, out, out_len);
		return;
	}
	staged_info(&info);
	answer_info(&info, 0, out, out_len);
}

static void job_end(void);

static bool job_on(const uint8_t owner[HC_OWNER_LEN], uint32_t vm_id)
{
	return job.kind != JOB_NONE && job.vm_id == vm_id &&
	       !memcmp(job.owner, owner, HC_OWNER_LEN);
}

static void vm_destroy(const struct tenant *who, const char *name,
		       uint8_t **out, size_t *out_len)
{
	static struct hc_vm_ref ref;
	struct hc_vm_info info;
	char blob[STORAGE_NAME_MAX + 1];
	const char *text = "";
	long rc = find_vm(who->id, name, &info);

	if (rc <= 0) {
		not_found(who, name, out, out_len);
		return;
	}
	/* A VM that stopped itself is sealed and stored for nobody's request
	 * (minutes for a large one): its owner's destroy need not wait. */
	if (job_on(who->id, info.vm_id) && job.kind != JOB_SEAL_EXITED) {
		refuse(who, name, PROTO_ERR_BUSY,
		       "the VM is being started or stopped; try again later",
		       out, out_len);
		return;
	}
	ref_set(&ref, who->id, info.vm_id);
	rc = vm_hc(HC_VM_DESTROY, &ref);
	if (rc < 0) {
		uint32_t code = hc_error(rc, &text);

		refuse(who, name, code, text, out, out_len);
		return; /* a seal in flight goes on: its blob is all there is */
	}
	/* Destroyed: the store in flight is dead; abandoned before the
	 * delete below, which removes what the relay has of it. */
	if (job_on(who->id, info.vm_id)) {
		vlog(who->name, name, "its seal is abandoned: destroyed by its owner");
		job_end();
	}
	if (stg.active && stg.vm_id == info.vm_id)
		staging_clear();
	if (kept.used && kept.vm_id == info.vm_id &&
	    !memcmp(kept.owner, who->id, HC_OWNER_LEN))
		memset(&kept, 0, sizeof(kept));
	/* Its key is gone, so any stored blob is dead: delete it, best effort. */
	storage_blob_name(who->id, info.measurement, blob);
	storage_release(storage_delete(blob));
	storage_boot_name(who->id, info.measurement, blob);
	storage_release(storage_delete(blob));
	vlog(who->name, name, "destroyed");
	info.state = 0;
	answer_info(&info, 0, out, out_len);
}

static void vm_status(const struct tenant *who, const char *name,
		      uint8_t **out, size_t *out_len)
{
	struct hc_vm_info info;

	if (find_vm(who->id, name, &info) <= 0) {
		not_found(who, name, out, out_len);
		return;
	}
	answer_info(&info, 0, out, out_len);
}

static void vm_list(const struct tenant *who, uint8_t **out, size_t *out_len)
{
	static struct proto_vm_info list[PROTO_VM_LIST_MAX];
	long n = query_owner(who->id);

	if (n < 0) {
		answer_error(PROTO_ERR_INTERNAL, "the TCB failed", out, out_len);
		return;
	}
	if (n > (long)PROTO_VM_LIST_MAX)
		n = PROTO_VM_LIST_MAX;
	for (long i = 0; i < n; i++)
		to_info(&qbuf[i], 0, &list[i]);
	answer_msg(PROTO_VM_INFO, list, (size_t)n * sizeof(list[0]), out, out_len);
}

static void vm_console(const struct tenant *who, const char *name,
		       uint8_t **out, size_t *out_len)
{
	static struct hc_vm_console_read r;
	struct hc_vm_info info;
	long n;

	if (find_vm(who->id, name, &info) <= 0) {
		not_found(who, name, out, out_len);
		return;
	}
	ref_set(&r.ref, who->id, info.vm_id);
	r.out_gpa = (uint64_t)(uintptr_t)console_buf;
	r.out_cap = sizeof(console_buf);
	n = vm_hc(HC_VM_CONSOLE_READ, &r);
	if (n < 0 || n > (long)sizeof(console_buf)) {
		const char *text = "";
		uint32_t code = hc_error(n < 0 ? n : HC_E_INTERNAL, &text);

		answer_error(code, text, out, out_len);
		return;
	}
	answer_msg(PROTO_VM_CONSOLE_DATA, console_buf, (size_t)n, out, out_len);
	crypto_wipe(console_buf, (size_t)n); /* the tenant's output: in the answer only */
}

/* The owner's keystrokes for its running VM's UART; the answer says how
 * many it took. */
static void vm_console_input(const struct tenant *who, const struct proto_msg *m,
			     uint8_t **out, size_t *out_len)
{
	static struct hc_vm_console_input r;
	static uint8_t input[PROTO_CONSOLE_INPUT_MAX];
	struct proto_vm_name nm;
	struct hc_vm_info info;
	size_t len = m->len - sizeof(nm);
	uint8_t taken[4];
	long n;

	memcpy(&nm, m->body, sizeof(nm));
	if (!proto_vm_name_ok(nm.name)) {
		answer_error(PROTO_ERR_BAD_REQUEST, "bad VM name", out, out_len);
		return;
	}
	if (find_vm(who->id, nm.name, &info) <= 0) {
		not_found(who, nm.name, out, out_len);
		return;
	}
	memcpy(input, m->body + sizeof(nm), len);
	ref_set(&r.ref, who->id, info.vm_id);
	r.in_gpa = (uint64_t)(uintptr_t)input;
	r.in_len = len;
	n = vm_hc(HC_VM_CONSOLE_INPUT, &r);
	crypto_wipe(input, len); /* the tenant's keystrokes: in the VM only */
	if (n < 0 || n > (long)len) {
		const char *text = "";
		uint32_t code = hc_error(n < 0 ? n : HC_E_INTERNAL, &text);

		answer_error(code, text, out, out_len);
		return;
	}
	store_le32(taken, (uint32_t)n);
	answer_msg(PROTO_VM_INPUT_TAKEN, taken, sizeof(taken), out, out_len);
}

/* ---- Jobs: starts and stops that wait for the relay ------------------------ */

static struct ticket *ticket_find(uint32_t id)
{
	for (int i = 0; id && i < TICKETS_MAX; i++)
		if (tickets[i].id == id)
			return &tickets[i];
	return NULL;
}

static void ticket_free(struct ticket *t)
{
	heap_free(t->out);
	memset(t, 0, sizeof(*t));
}

/* The job's answer goes to whoever waits for it (if anyone still does). */
static void job_answer_error(uint32_t code, const char *text)
{
	struct ticket *t = ticket_find(job.ticket);

	if (t) {
		answer_error(code, text, &t->out, &t->out_len);
		t->done = true;
	}
}

static void job_answer_info(const struct hc_vm_info *h, uint32_t extra)
{
	struct ticket *t = ticket_find(job.ticket);

	if (t) {
		answer_info(h, extra, &t->out, &t->out_len);
		t->done = true;
	}
}

static void job_end(void)
{
	if (job.st >= 0)
		storage_release(job.st);
	memset(&job, 0, sizeof(job));
	job.st = -1;
}

static void job_fail(uint32_t code, const char *text)
{
	vlog(job.tenant, job.name, "refused: %s", text);
	job_answer_error(code, text);
	job_end();
}

/* Abandon the job's open stream in the TCB: a stopping VM runs on (or
 * stays EXITED), a resuming one is SEALED again. */
static void job_abort_stream(void)
{
	static struct hc_vm_stream s;

	if (!job.open)
		return;
	memset(&s, 0, sizeof(s));
	ref_set(&s.ref, job.owner, job.vm_id);
	s.flags = HC_STREAM_ABORT;
	/* A start may seal first (a boot copy, an EXITED VM): the phase says
	 * which stream is open. */
	(void)vm_hc(job.phase == PH_GET ? HC_VM_START_STREAM : HC_VM_STOP_STREAM, &s);
	job.open = false;
}

/* The job is over; its answer is the VM's info (extra: _AFRESH, _RESUMED). */
static void job_done_info(uint32_t extra)
{
	struct hc_vm_info info;

	if (query_one(job.owner, job.vm_id, &info) == 1)
		job_answer_info(&info, extra);
	else
		job_answer_error(PROTO_ERR_INTERNAL, "the TCB lost the VM");
	job_end();
}

/* HC_VM_START of a LOADED VM (no blob). */
static void job_hc_start_loaded(void)
{
	static struct hc_vm_start s;
	const char *text = "";
	long rc;

	memset(&s, 0, sizeof(s));
	ref_set(&s.ref, job.owner, job.vm_id);
	rc = vm_hc(HC_VM_START, &s);
	if (rc < 0) {
		uint32_t code = hc_error(rc, &text);

		job_fail(code, text);
		return;
	}
	vlog(job.tenant, job.name, "started");
	job_done_info(0);
}

/* A stream call failed (rc < 0) or broke the protocol (rc >= 0). */
static void job_stream_failed(long rc, const char *broken)
{
	const char *text = broken;
	uint32_t code = PROTO_ERR_INTERNAL;

	job_abort_stream(); /* refused calls leave it open; a no-op otherwise */
	if (rc < 0)
		code = hc_error(rc, &text);
	job_fail(code, text);
}

/* ---- Stop: HC_VM_STOP_STREAM a window at a time into a streamed put ---- */

/* The relay has every byte so far (or nothing is out yet): the next
 * window from the TCB, and its put. */
static void job_stop_call(void)
{
	static struct hc_vm_stream s;
	struct hc_vm_info info;
	long rc;

	memset(&s, 0, sizeof(s));
	ref_set(&s.ref, job.owner, job.vm_id);
	s.buf_gpa = (uint64_t)(uintptr_t)win_buf[0];
	s.buf_len = BLOB_WIN;
	s.offset = job.off;
	s.flags = job.boot ? HC_STREAM_BOOT_COPY : 0;
	rc = vm_hc(HC_VM_STOP_STREAM, &s);
	if (rc >= 0)
		job.open = !s.done;
	if (rc < 0 || rc > (long)BLOB_WIN || (rc == 0 && !s.done) ||
	    (s.done && s.blob_len != job.off + (uint64_t)rc)) {
		job_stream_failed(rc, "the TCB's seal stream broke its protocol");
		return;
	}
	job.have = (size_t)rc;
	job.total = s.blob_len;
	if (s.done && job.boot) {
		job.sealed = true;
		vlog(job.tenant, job.name, "boot copy sealed (%llu bytes)",
		     (unsigned long long)job.total);
	} else if (s.done) {
		job.sealed = true;
		job.version = query_one(job.owner, job.vm_id, &info) == 1 ?
			      info.version : job.version + 1;
		vlog(job.tenant, job.name, "sealed v%llu (%llu bytes)%s",
		     (unsigned long long)job.version, (unsigned long long)job.total,
		     job.kind == JOB_SEAL_EXITED ? " (it had stopped itself)" : "");
	}
	if (storage_put_piece(job.st, win_buf[0], job.have, s.done) < 0) {
		/* cannot happen (a piece under way, > 4 GiB): as a failed put */
		storage_release(job.st);
		job.st = -1;
	}
}

/* The VM is RUNNING or EXITED and nothing is kept: open the put, seal. */
static void job_seal(void)
{
	struct hc_vm_info info;
	char blob[STORAGE_NAME_MAX + 1];

	if (query_one(job.owner, job.vm_id, &info) != 1) {
		job_fail(PROTO_ERR_NOT_FOUND, "no VM of that name");
		return;
	}
	/* No check of info.seal_size first: the stream counts the pages and
	 * the window bounds nothing but a piece. */
	job.version = info.version;
	if (job.boot)
		storage_boot_name(job.owner, job.measurement, blob);
	else
		storage_blob_name(job.owner, job.measurement, blob);
	job.st = storage_put_stream(blob);
	job.phase = PH_PUT;
	job.off = 0;
	if (job.st < 0) {
		job_fail(PROTO_ERR_BUSY, "the TPGVM's storage requests are all in "
			 "use; not stopped, try again later");
		return;
	}
	job_stop_call();
}

/* The seal is committed in the TCB but its last window (and COMMIT) did
 * not reach the relay: keep the window, store it again later. */
static void job_keep(const char *why)
{
	kept.used = true;
	memcpy(kept.owner, job.owner, HC_OWNER_LEN);
	memcpy(kept.tenant, job.tenant, sizeof(kept.tenant));
	memcpy(kept.name, job.name, sizeof(kept.name));
	kept.vm_id = job.vm_id;
	memcpy(kept.measurement, job.measurement, sizeof(kept.measurement));
	kept.version = job.version;
	kept.total = job.total;
	kept.off = job.off;
	kept.len = job.have;
	memcpy(win_buf[1], win_buf[0], job.have);
	vlog(job.tenant, job.name, "sealed v%llu, its last %zu bytes kept in the "
	     "TPGVM: the relay did not store them (%s)",
	     (unsigned long long)job.version, job.have, why);
	job_answer_error(PROTO_ERR_STORAGE, "sealed, but the relay did not store "
			 "the end of it; the TPGVM keeps that and stores it "
			 "again at the next stop/start attempt");
	job_end();
}

/* ---- Start: a streamed get a window at a time into HC_VM_START_STREAM ---- */

static void job_get_next(void);

/* win_buf[0] holds job.have bytes of the blob from job.off: give them to
 * the TCB, keep what it did not take, get the next. */
static void job_start_call(void)
{
	static struct hc_vm_stream s;
	long rc;

	memset(&s, 0, sizeof(s));
	ref_set(&s.ref, job.owner, job.vm_id);
	s.buf_gpa = (uint64_t)(uintptr_t)win_buf[0];
	s.buf_len = job.have;
	s.offset = job.off;
	s.blob_len = job.total;
	s.flags = job.boot ? HC_STREAM_BOOT_COPY : 0;
	rc = vm_hc(HC_VM_START_STREAM, &s);
	if (rc >= 0)
		job.open = !s.done;
	if (rc < 0 || (uint64_t)rc > job.have || (rc == 0 && !s.done)) {
		job_stream_failed(rc, "the TCB's resume stream broke its protocol");
		return;
	}
	if (s.done) {
		vlog(job.tenant, job.name, "%s (%llu bytes)", job.boot ?
		     "booted afresh from its boot copy" : "resumed",
		     (unsigned long long)job.total);
		job_done_info(job.boot ? PROTO_VM_INFO_AFRESH : PROTO_VM_INFO_RESUMED);
		return;
	}
	job.have -= (size_t)rc;
	memmove(win_buf[0], win_buf[0] + rc, job.have);
	job.off += (uint64_t)rc;
	job_get_next();
}

/* The next piece after what win_buf[0] holds, into its free end. */
static void job_get_next(void)
{
	uint64_t at = job.off + job.have;
	size_t cap = BLOB_WIN - job.have;

	if (job.total - at < cap)
		cap = (size_t)(job.total - at);
	if (!cap) { /* the window holds the rest of the blob */
		job_start_call();
		return;
	}
	if (storage_get_piece(job.st, at, win_buf[0] + job.have, cap) < 0) {
		job_abort_stream();
		job_fail(PROTO_ERR_INTERNAL, "the TPGVM's storage client refused a piece");
	}
}

/* Open the streamed get of the job's (SEALED) VM. */
static void job_get(void)
{
	char blob[STORAGE_NAME_MAX + 1];

	if (job.boot)
		storage_boot_name(job.owner, job.measurement, blob);
	else
		storage_blob_name(job.owner, job.measurement, blob);
	job.st = storage_get_stream(blob);
	job.phase = PH_GET;
	job.off = job.have = 0;
	job.total = 0;
	if (job.st < 0 || storage_get_piece(job.st, 0, win_buf[0], BLOB_WIN) < 0)
		job_fail(PROTO_ERR_BUSY, "the TPGVM's storage requests are all in "
			 "use; try again later");
}

/* ---- A kept window --------------------------------------------------------- */

static bool kept_is_job(void)
{
	return kept.used && kept.vm_id == job.vm_id &&
	       !memcmp(kept.owner, job.owner, HC_OWNER_LEN);
}

/* PUT the kept window again where it belongs, then COMMIT. */
static bool job_flush_kept(void)
{
	char blob[STORAGE_NAME_MAX + 1];

	if (!kept.used)
		return false;
	storage_blob_name(kept.owner, kept.measurement, blob);
	job.phase = PH_FLUSH_KEPT;
	job.st = kept.off ? storage_put_stream_at(blob, kept.off)
			  : storage_put_stream(blob);
	if (job.st >= 0 && storage_put_piece(job.st, win_buf[1], kept.len, true) < 0) {
		storage_release(job.st);
		job.st = -1;
	}
	return true;
}

/* The kept blob is stored (or lost): the job goes on. */
static void job_after_kept(void)
{
	memset(&kept, 0, sizeof(kept));
	if (job.kind == JOB_START && !job.seal_first)
		job_get();
	else
		job_seal();
}

static void job_kept_failed(const char *why)
{
	char text[PROTO_ERROR_TEXT_MAX];

	if (job.kind == JOB_START)
		snprintf(text, sizeof(text), "its sealed state is not stored in "
			 "full yet and the relay's storage fails again (%s); "
			 "try again later", why);
	else
		snprintf(text, sizeof(text), "the relay's storage fails (%s) and "
			 "the TPGVM still keeps the end of a sealed VM it could "
			 "not store; not stopped", why);
	job_fail(PROTO_ERR_STORAGE, text);
}

/* The relay has no part file to go on with: it may have committed the
 * blob (its answer lost), so read back the kept window's range. */
static void job_check_kept(void)
{
	char blob[STORAGE_NAME_MAX + 1];

	storage_blob_name(kept.owner, kept.measurement, blob);
	job.phase = PH_CHECK_KEPT;
	job.st = storage_get_stream(blob);
	if (job.st >= 0 &&
	    storage_get_piece(job.st, kept.off, win_buf[0], kept.len ? kept.len : 1) < 0) {
		storage_release(job.st);
		job.st = -1;
	}
}

/* The read-back of the kept window: the same bytes (its tag among them),
 * so committed; or the blob's start is gone for good. */
static void job_checked_kept(enum storage_result r, size_t len)
{
	uint64_t total = 0;

	if (r == STORAGE_PIECE && storage_stream_total(job.st, &total) &&
	    total == kept.total && len == kept.len &&
	    !memcmp(win_buf[0], win_buf[1], len)) {
		storage_release(job.st);
		job.st = -1;
		vlog(kept.tenant, kept.name, "sealed v%llu (%llu bytes) stored "
		     "(the relay had committed it)", (unsigned long long)kept.version,
		     (unsigned long long)kept.total);
		job_after_kept();
		return;
	}
	if (r == STORAGE_FAILED) {
		job_kept_failed("reading back the kept blob's end failed");
		return;
	}
	storage_release(job.st);
	job.st = -1;
	vlog(kept.tenant, kept.name, "sealed v%llu lost: the relay no longer has "
	     "the part of its blob before the end the TPGVM kept; it cannot be "
	     "resumed", (unsigned long long)kept.version);
	if (kept_is_job()) {
		memset(&kept, 0, sizeof(kept));
		job_fail(PROTO_ERR_STORAGE, "its latest sealed state was lost: the "
			 "relay lost the part stored before its end; it cannot be "
			 "resumed (destroy it)");
		return;
	}
	job_after_kept();
}

/* Whether a start of this VM boots it afresh from its boot copy (else:
 * resumes its latest sealed state). */
static bool starts_afresh(const struct hc_vm_info *info)
{
	if (job.mode == PROTO_START_DEFAULT)
		return info->state == HC_VM_EXITED ||
		       (info->flags & HC_VM_INFO_STOPPED_ITSELF);
	return job.mode == PROTO_START_AFRESH;
}

/* A start, by the VM's state and the mode asked for (docs/protocol.md,
 * "VM states and commands"). */
static void job_begin_start(const struct hc_vm_info *info)
{
	switch (info->state) {
	case HC_VM_LOADED:
		if (job.mode == PROTO_START_RESUME) {
			job_fail(PROTO_ERR_STATE, "the VM has never run: nothing to "
				 "resume");
			return;
		}
		break;
	case HC_VM_SEALED:
	case HC_VM_EXITED:
		break;
	case HC_VM_RUNNING:
		job_fail(PROTO_ERR_STATE, "the VM is running already");
		return;
	default:
		job_fail(PROTO_ERR_STATE, "the VM's upload is not complete");
		return;
	}
	if (!have_memory) {
		job_fail(PROTO_ERR_NO_MEMORY, "the TPGVM has no memory for sealed state");
		return;
	}
	if (info->state == HC_VM_LOADED) {
		/* Its first start: the boot copy goes to storage first, so that
		 * it can always boot afresh later. */
		job.boot = job.seal_first = true;
		job_seal();
		return;
	}
	if (info->state == HC_VM_EXITED) {
		/* Sealed and stored first, as a stop would; then opened. */
		job.seal_first = true;
		if (!job_flush_kept())
			job_seal();
		return;
	}
	job.boot = starts_afresh(info);
	/* Its blob's end is kept here: stored first, then read. */
	if (kept_is_job())
		(void)job_flush_kept();
	else
		job_get();
}

/* The start's seal is stored: a boot copy's VM starts, an EXITED VM's
 * blob (or its boot copy) is opened. */
static void job_start_after_seal(void)
{
	struct hc_vm_info info;

	storage_release(job.st);
	job.st = -1;
	if (job.boot) {
		vlog(job.tenant, job.name, "boot copy (%llu bytes) stored",
		     (unsigned long long)job.total);
		job_hc_start_loaded();
		return;
	}
	vlog(job.tenant, job.name, "sealed v%llu (%llu bytes) stored",
	     (unsigned long long)job.version, (unsigned long long)job.total);
	if (query_one(job.owner, job.vm_id, &info) != 1) {
		job_fail(PROTO_ERR_INTERNAL, "the TCB lost the VM");
		return;
	}
	job.seal_first = job.sealed = false;
	job.boot = starts_afresh(&info);
	job_get();
}

/* Begin a job for owner's VM name; it may finish at once. */
static void job_begin(enum job_kind kind, const uint8_t owner[HC_OWNER_LEN],
		      const char *tenant, const char *name, uint32_t ticket,
		      uint32_t mode)
{
	struct hc_vm_info info;

	memset(&job, 0, sizeof(job));
	job.st = -1;
	job.kind = kind;
	job.ticket = ticket;
	job.mode = mode;
	memcpy(job.owner, owner, HC_OWNER_LEN);
	snprintf(job.tenant, sizeof(job.tenant), "%s", tenant);
	memcpy(job.name, name, sizeof(job.name));
	job.name[PROTO_VM_NAME_MAX - 1] = '\0';
	if (find_vm(owner, job.name, &info) <= 0) {
		char text[PROTO_ERROR_TEXT_MAX];

		answer_not_found(owner, job.name, text, sizeof(text));
		job_answer_error(PROTO_ERR_NOT_FOUND, text);
		job_end();
		return;
	}
	job.vm_id = info.vm_id;
	memcpy(job.measurement, info.measurement, sizeof(job.measurement));
	if (kind == JOB_START) {
		job_begin_start(&info);
		return;
	}
	if (!have_memory) {
		job_fail(PROTO_ERR_NO_MEMORY, "the TPGVM has no memory for sealed state");
		return;
	}
	/* Stop, or seal one that stopped itself. A sealed VM is not stopped
	 * again: refused, as docs/protocol.md says, so that a script sees the
	 * stop did nothing. */
	if (info.state == HC_VM_SEALED && kind == JOB_STOP &&
	    (info.flags & HC_VM_INFO_STOPPED_ITSELF) && !kept_is_job()) {
		/* EXITED to its owner, and its state stored: stopped already. */
		job_done_info(0);
		return;
	}
	if (info.state == HC_VM_SEALED && kind == JOB_STOP) {
		if (kept_is_job())
			job_fail(PROTO_ERR_STORAGE, "sealed, but the relay did not "
				 "store the end of it; the TPGVM keeps that and "
				 "stores it again at the next stop/start attempt");
		else
			job_fail(PROTO_ERR_STATE, "the VM is sealed already (stopped); "
				 "nothing to stop");
		return;
	}
	if (info.state != HC_VM_RUNNING && info.state != HC_VM_EXITED) {
		job_fail(PROTO_ERR_STATE, "the VM is not running");
		return;
	}
	if (!job_flush_kept())
		job_seal();
}

/* The put of the job's seal failed (why). Before the commit nothing is
 * lost: abandoned. After it, a stop's blob end is kept to store again; a
 * boot copy is simply not there, and the VM stays LOADED. */
static void job_put_failed(const char *why)
{
	char text[PROTO_ERROR_TEXT_MAX];

	if (job.sealed && !job.boot) {
		job_keep(why);
		return;
	}
	job_abort_stream(); /* a no-op after the commit */
	if (job.boot)
		snprintf(text, sizeof(text), "%s; its boot copy is not stored, "
			 "so it was not started; try again", why);
	else
		snprintf(text, sizeof(text), "%s; not %s, the VM %s", why,
			 job.kind == JOB_START ? "sealed" : "stopped",
			 job.kind == JOB_STOP ? "runs on" : "stays stopped");
	job_fail(PROTO_ERR_STORAGE, text);
}

/* The job's storage piece or operation is over (or the job waits on). */
static bool job_continue(void)
{
	enum storage_result r;
	const char *why = "";
	size_t len = 0;
	char text[PROTO_ERROR_TEXT_MAX];

	if (job.st < 0) {
		/* No storage slot, or the client refused a piece. */
		switch (job.phase) {
		case PH_PUT:
			job_put_failed("the TPGVM's storage client refused a piece");
			break;
		case PH_FLUSH_KEPT:
		case PH_CHECK_KEPT:
			job_kept_failed("no storage request slot");
			break;
		default:
			job_fail(PROTO_ERR_BUSY, "the TPGVM's storage requests are "
				 "all in use; try again later");
		}
		return true;
	}
	r = storage_poll(job.st, &len, &why);
	if (r == STORAGE_PENDING)
		return false;
	switch (job.phase) {
	case PH_GET:
		if (r == STORAGE_PIECE) {
			job.have += len;
			if (!job.open && !storage_stream_total(job.st, &job.total)) {
				job_fail(PROTO_ERR_INTERNAL, "the storage client lost the "
					 "blob's size");
				break;
			}
			if (!job.total || (!len && job.off + job.have < job.total)) {
				job_abort_stream();
				job_fail(PROTO_ERR_STORAGE, "the relay's stored sealed "
					 "state is empty or ends early");
				break;
			}
			job_start_call();
			break;
		}
		job_abort_stream(); /* the VM stays SEALED */
		if (r == STORAGE_MISSING && job.boot) {
			job_fail(PROTO_ERR_STORAGE, "the relay's storage has no "
				 "boot copy of it, so it cannot boot afresh; "
				 "'start --resume' resumes its sealed state");
		} else if (r == STORAGE_MISSING) {
			job_fail(PROTO_ERR_STORAGE, "the relay's storage has no "
				 "sealed state for it");
		} else {
			snprintf(text, sizeof(text), "the relay's storage did not "
				 "give the sealed state: %s; still sealed", why);
			job_fail(PROTO_ERR_STORAGE, text);
		}
		break;
	case PH_FLUSH_KEPT:
		if (r == STORAGE_PIECE)
			return false; /* its one piece is given: COMMIT comes */
		storage_release(job.st);
		job.st = -1;
		if (r == STORAGE_MISSING && kept.off) {
			job_check_kept();
			break;
		}
		if (r != STORAGE_OK) {
			job_kept_failed(why);
			break;
		}
		vlog(kept.tenant, kept.name, "sealed v%llu (%llu bytes) stored "
		     "(its end kept until now)", (unsigned long long)kept.version,
		     (unsigned long long)kept.total);
		job_after_kept();
		break;
	case PH_CHECK_KEPT:
		job_checked_kept(r, len);
		break;
	case PH_PUT:
		if (r == STORAGE_PIECE) {
			if (job.sealed)
				return false; /* the last piece: COMMIT comes */
			job.off += job.have;
			job_stop_call();
			break;
		}
		if (r == STORAGE_OK && job.sealed && job.kind == JOB_START) {
			job_start_after_seal();
			break;
		}
		if (r == STORAGE_OK && job.sealed) {
			vlog(job.tenant, job.name, "sealed v%llu (%llu bytes) stored",
			     (unsigned long long)job.version,
			     (unsigned long long)job.total);
			job_done_info(0);
			break;
		}
		snprintf(text, sizeof(text), "the relay's storage failed (%s)", why);
		job_put_failed(text);
		break;
	}
	return true;
}

/* The oldest waiting start or stop, if the job is free. */
static bool job_next(void)
{
	struct ticket *t = NULL;

	for (int i = 0; i < TICKETS_MAX; i++)
		if (tickets[i].id && !tickets[i].started &&
		    (!t || tickets[i].seq < t->seq))
			t = &tickets[i];
	if (!t)
		return false;
	t->started = true;
	job_begin(t->type == PROTO_VM_START ? JOB_START : JOB_STOP, t->who.id,
		  t->who.name, t->name, t->id, t->mode);
	return true;
}

/* Seal one VM of owner that stopped itself, if any (and the job is free). */
static bool seal_exited(const uint8_t owner[HC_OWNER_LEN], const char *tenant)
{
	/* While a blob is kept (the relay's storage failed), sealing another
	 * VM first stores the kept one again: not at every sweep. */
	static uint64_t retry_at;
	long n;

	if (job.kind != JOB_NONE || !have_memory ||
	    (kept.used && rdtsc() < retry_at))
		return false;
	n = query_owner(owner);
	for (long i = 0; i < n; i++) {
		if (qbuf[i].state != HC_VM_EXITED)
			continue;
		if (kept.used)
			retry_at = deadline_in(KEPT_RETRY_S, 0);
		job_begin(JOB_SEAL_EXITED, owner, tenant, qbuf[i].name, 0,
			  PROTO_START_DEFAULT);
		return true;
	}
	return false;
}

/* ---- Interface (tpgvm/service.h) -------------------------------------------- */

bool vm_service_handle(const struct tenant *who, const struct proto_msg *m,
		       uint8_t **out, size_t *out_len, uint32_t *ticket)
{
	struct proto_vm_name nm;
	struct ticket *t = NULL;

	owner_seen(who);
	(void)seal_exited(who->id, who->name);
	switch (m->type) {
	case PROTO_VM_CREATE:
		vm_create(who, m, out, out_len);
		return false;
	case PROTO_VM_UPLOAD:
		vm_upload(who, m, out, out_len);
		return false;
	case PROTO_VM_LIST:
		vm_list(who, out, out_len);
		return false;
	case PROTO_VM_CONSOLE_INPUT:
		vm_console_input(who, m, out, out_len);
		return false;
	default:
		break;
	}
	/* VM_START's body is a name and a mode (proto_check has checked it). */
	if (m->len != (m->type == PROTO_VM_START ? sizeof(struct proto_vm_start)
						 : sizeof(nm))) {
		answer_error(PROTO_ERR_BAD_REQUEST, "malformed request", out, out_len);
		return false;
	}
	memcpy(&nm, m->body, sizeof(nm));
	if (!proto_vm_name_ok(nm.name)) {
		answer_error(PROTO_ERR_BAD_REQUEST, "bad VM name", out, out_len);
		return false;
	}
	switch (m->type) {
	case PROTO_VM_DESTROY:
		vm_destroy(who, nm.name, out, out_len);
		return false;
	case PROTO_VM_STATUS:
		vm_status(who, nm.name, out, out_len);
		return false;
	case PROTO_VM_CONSOLE:
		vm_console(who, nm.name, out, out_len);
		return false;
	case PROTO_VM_START:
	case PROTO_VM_STOP:
		break;
	default:
		answer_error(PROTO_ERR_BAD_REQUEST, "not a request", out, out_len);
		return false;
	}
	for (int i = 0; i < TICKETS_MAX && !t; i++)
		if (!tickets[i].id)
			t = &tickets[i];
	if (!t) {
		answer_error(PROTO_ERR_BUSY, "too many VM starts and stops "
			     "waiting; try again later", out, out_len);
		return false;
	}
	memset(t, 0, sizeof(*t));
	t->id = next_ticket++;
	if (!next_ticket)
		next_ticket = 1;
	t->seq = next_seq++;
	t->type = m->type;
	if (m->type == PROTO_VM_START)
		t->mode = load_le32(m->body + offsetof(struct proto_vm_start, mode));
	t->who = *who;
	memcpy(t->name, nm.name, sizeof(t->name));
	/* Started at once if the job is free; it may even finish now. */
	if (job.kind == JOB_NONE)
		(void)job_next();
	if (t->done) {
		*out = t->out;
		*out_len = t->out_len;
		t->out = NULL;
		ticket_free(t);
		return false;
	}
	*ticket = t->id;
	return true;
}

bool vm_service_poll(uint32_t id, uint8_t **out, size_t *out_len)
{
	struct ticket *t = ticket_find(id);

	if (!t) { /* cannot happen: say so rather than hang */
		answer_error(PROTO_ERR_INTERNAL, "request lost", out, out_len);
		return true;
	}
	if (!t->done)
		return false;
	*out = t->out;
	*out_len = t->out_len;
	t->out = NULL;
	ticket_free(t);
	return true;
}

void vm_service_forget(uint32_t id)
{
	struct ticket *t = ticket_find(id);

	if (!t)
		return;
	if (job.ticket == id)
		job.ticket = 0; /* the job goes on: a stop still stores */
	ticket_free(t);
}

bool vm_service_step(void)
{
	bool progress = false;
	uint64_t now = rdtsc();

	if (job.kind != JOB_NONE)
		progress |= job_continue();
	if (job.kind == JOB_NONE)
		progress |= job_next();
	if (now > next_sweep) {
		next_sweep = deadline_in(SWEEP_S, 0);
		staging_check_idle();
		for (int i = 0; i < OWNERS_MAX && job.kind == JOB_NONE; i++)
			if (owners[i].used)
				progress |= seal_exited(owners[i].id, owners[i].tenant);
	}
	return progress;
}

void vm_service_init(const struct custos_boot_info *bi)
{
	uint64_t base = bi->image_end, top, left;

	if ((uint64_t)(uintptr_t)__image_end > base)
		base = (uint64_t)(uintptr_t)__image_end;
	if (bi->init_data_size && bi->init_data_gpa + bi->init_data_size > base)
		base = bi->init_data_gpa + bi->init_data_size;
	if (bi->secrets_size && bi->secrets_gpa + bi->secrets_size > base)
		base = bi->secrets_gpa + bi->secrets_size;
	base = (base + PAGE - 1) & ~(PAGE - 1);
	top = bi->mem_size > STACK_RESERVE ? bi->mem_size - STACK_RESERVE : 0;
	job.st = -1;
	left = top > base ? top - base : 0;
	if (left < STAGE_SIZE + 2 * BLOB_WIN + PAGE) {
		con_printf("tpgvm: %llu MiB free above the image: too little to "
			   "stage VMs; VM requests will be refused\n",
			   (unsigned long long)(left >> 20));
		return;
	}
	stage_image = (uint8_t *)(uintptr_t)base;
	stage_init = stage_image + HC_VM_IMAGE_MAX;
	stage_secrets = stage_init + HC_VM_INIT_MAX;
	win_buf[0] = (uint8_t *)(uintptr_t)((base + STAGE_SIZE + PAGE - 1) & ~(PAGE - 1));
	win_buf[1] = win_buf[0] + BLOB_WIN;
	have_memory = true;
	con_printf("tpgvm: VM staging %llu MiB, 2 blob windows of %u KiB\n",
		   (unsigned long long)(STAGE_SIZE >> 20), BLOB_WIN >> 10);
}
