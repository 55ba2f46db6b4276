#include "tcb/hypercall.h"
#include "tcb/lifecycle.h"
#include <custos/report.h>
#include "crypto/crypto.h"

#include <string.h>

/* The ABI spells these sizes as numbers; they must be the report's. */
_Static_assert(sizeof(((struct custos_report_request *)0)->nonce) ==
	       REPORT_NONCE_MAX, "HC_REPORT nonce size");
_Static_assert(sizeof(((struct custos_report_request *)0)->tls_key_hash) ==
	       RPT_TLS_HASH_LEN, "HC_REPORT TLS key hash size");

/* A decoded request: arguments checked, ready to execute. */
struct hc_request {
	uint64_t nr;
	uint64_t gpa;
	size_t len;
	uint64_t code;
	/* HC_REPORT: the caller's request, copied once so that the caller
	 * cannot change it between decode and execute. */
	struct custos_report_request report;
};

/* HC_REPORT builds here, then copies out: the guest's pages need not be
 * contiguous in host memory. One CPU, so one buffer; wiped after use. */
static uint8_t report_buf[REPORT_MAX_SIZE];

static bool in_guest_memory(const struct hc_env *env, uint64_t gpa, uint64_t len)
{
	return gpa <= env->mem_size && len <= env->mem_size - gpa;
}

static int64_t decode_console_write(const struct hc_call *c,
				    const struct hc_env *env,
				    struct hc_request *rq)
{
	if (c->arg[1] > HC_CONSOLE_WRITE_MAX)
		return HC_E_INVAL;
	if (!in_guest_memory(env, c->arg[0], c->arg[1]))
		return HC_E_FAULT;
	rq->gpa = c->arg[0];
	rq->len = (size_t)c->arg[1];
	return HC_OK;
}

static void report_contents_of(const struct report_source *src,
			       const struct custos_report_request *req,
			       struct report_contents *c)
{
	*c = (struct report_contents){
		.nonce = req->nonce,
		.nonce_len = req->nonce_len,
		.tls_key_hash = req->tls_key_hash,
		.log = src->log,
		.key_protection = src->key_protection,
		.launch_mode = src->launch_mode,
		.debug = src->debug,
		.platform_id = src->platform_id,
		.sign_cert = src->sign_cert,
		.sign_cert_len = src->sign_cert_len,
		.tpm_len = src->tpm_len,
		.tpm_evidence = src->tpm_evidence,
		.tpm_ctx = src->tpm_ctx,
	};
}

/* Everything that can be refused is refused here, before a byte of the
 * caller's memory is written: the capacity too, since the report's size
 * is known before it is built. */
static int64_t decode_report(const struct hc_call *c, const struct hc_env *env,
			     struct hc_request *rq)
{
	struct custos_report_request *req = &rq->report;
	struct report_contents contents;
	size_t need;

	if (!env->is_tpgvm)
		return HC_E_DENIED;
	if (!env->report)
		return HC_E_INTERNAL; /* this TCB has no signing identity */
	if (!in_guest_memory(env, c->arg[0], sizeof(*req)) ||
	    !in_guest_memory(env, c->arg[1], c->arg[2]))
		return HC_E_FAULT;
	if (!env->read_guest(env->ctx, c->arg[0], req, sizeof(*req)))
		return HC_E_FAULT;
	if (req->reserved != 0 || req->nonce_len < REPORT_NONCE_MIN ||
	    req->nonce_len > REPORT_NONCE_MAX)
		return HC_E_INVAL;
	report_contents_of(env->report, req, &contents);
	need = report_size(&contents);
	if (need == 0)
		return HC_E_INTERNAL; /* the TCB's own part is unusable */
	if (c->arg[2] < need)
		return HC_E_INVAL;
	rq->gpa = c->arg[1];
	return HC_OK;
}

static int64_t decode(const struct hc_call *c, const struct hc_env *env,
		      struct hc_request *rq)
{
	rq->nr = c->nr;
	if (c->cpl != 0)
		return HC_E_DENIED;
	switch (c->nr) {
	case HC_VERSION:
	case HC_YIELD:
		return HC_OK;
	case HC_EXIT:
		rq->code = c->arg[0];
		return HC_OK;
	case HC_CONSOLE_WRITE:
		return decode_console_write(c, env, rq);
	case HC_REPORT:
		return decode_report(c, env, rq);
	default:
		break;
	}
	if (c->nr >= HC_LIFECYCLE_FIRST && c->nr <= HC_LIFECYCLE_LAST) {
		if (!env->is_tpgvm)
			return HC_E_DENIED;
		if (!env->lc)
			return HC_E_NOSYS; /* no lifecycle mechanism */
		return HC_OK; /* the rest is tcb/lifecycle.c's */
	}
	return HC_E_NOSYS;
}

/* Copy through a small bounce buffer: the guest's pages need not be
 * contiguous in host memory, and read_guest handles one span at a time. */
static int64_t console_write(const struct hc_env *env, uint64_t gpa, size_t len)
{
	char chunk[256];
	size_t done = 0;

	while (done < len) {
		size_t n = len - done < sizeof(chunk) ? len - done : sizeof(chunk);
		if (!env->read_guest(env->ctx, gpa + done, chunk, n))
			return done ? (int64_t)done : HC_E_FAULT;
		for (size_t i = 0; i < n; i++)
			env->console_put(env->ctx, chunk[i]);
		done += n;
	}
	return (int64_t)len;
}

/* Signing needs the RNG, which can fail: then HC_E_INTERNAL, and the
 * caller's memory is untouched. write_guest cannot fail inside mem_size. */
static int64_t make_report(const struct hc_request *rq, const struct hc_env *env)
{
	struct report_contents contents;
	size_t len;
	int64_t ret;

	report_contents_of(env->report, &rq->report, &contents);
	if ((env->report->sign_priv
		     ? report_build(&contents, env->report->sign_priv, report_buf,
				    sizeof(report_buf), &len, NULL, 0)
		     : report_build_signed(&contents, env->report->signer, report_buf,
					   sizeof(report_buf), &len, NULL, 0)) != REPORT_OK)
		return HC_E_INTERNAL; /* report_build has zeroed report_buf */
	ret = env->write_guest(env->ctx, rq->gpa, report_buf, len) ?
		(int64_t)len : HC_E_FAULT;
	memset(report_buf, 0, len);
	return ret;
}

static void execute(const struct hc_call *c, const struct hc_request *rq,
		    const struct hc_env *env, struct hc_result *res)
{
	bool again;

	switch (rq->nr) {
	case HC_VERSION:
		res->ret = CUSTOS_ABI_VERSION;
		break;
	case HC_YIELD:
		res->effect = HC_EFFECT_YIELD;
		break;
	case HC_EXIT:
		res->effect = HC_EFFECT_EXIT;
		res->exit_code = rq->code;
		break;
	case HC_CONSOLE_WRITE:
		res->ret = console_write(env, rq->gpa, rq->len);
		break;
	case HC_REPORT:
		res->ret = make_report(rq, env);
		break;
	default:
		if (rq->nr >= HC_LIFECYCLE_FIRST && rq->nr <= HC_LIFECYCLE_LAST) {
			res->ret = lifecycle_call(c, env, &again);
			if (again)
				res->effect = HC_EFFECT_RESTART;
		}
		break;
	}
}

void hypercall_handle(const struct hc_call *call, const struct hc_env *env,
		      struct hc_result *res)
{
	struct hc_request rq;
	int64_t err = decode(call, env, &rq);

	*res = (struct hc_result){ .ret = err, .effect = HC_EFFECT_NONE };
	if (err == HC_OK)
		execute(call, &rq, env, res);
}
