#include "tcb/hypercall.h"

/* A decoded request: arguments checked, ready to execute. */
struct hc_request {
	uint64_t nr;
	uint64_t gpa;
	size_t len;
	uint64_t code;
};

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
	default:
		break;
	}
	if (c->nr >= HC_LIFECYCLE_FIRST && c->nr <= HC_LIFECYCLE_LAST)
		return env->is_tpgvm ? HC_E_NOSYS : HC_E_DENIED;
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

static void execute(const struct hc_request *rq, const struct hc_env *env,
		    struct hc_result *res)
{
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
	default:
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
		execute(&rq, env, res);
}
