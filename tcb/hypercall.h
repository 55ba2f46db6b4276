/*
 * Hypercall semantics (include/custos/guest_abi.h has the ABI). Decode checks
 * every argument and may fail; execute cannot fail and only then touches
 * anything (the seL4 discipline), so an error never leaves half-done state.
 * The mechanism (reading registers, advancing RIP) is the caller's.
 */
#ifndef CUSTOS_TCB_HYPERCALL_H
#define CUSTOS_TCB_HYPERCALL_H

#include <custos/types.h>
#include <custos/guest_abi.h>

struct hc_call {
	uint64_t nr;
	uint64_t arg[4]; /* RDI, RSI, RDX, RCX */
	unsigned cpl;    /* the caller's privilege level */
};

/* What the TCB offers a hypercall: the caller's memory and console. */
struct hc_env {
	uint64_t mem_size; /* the caller's guest-physical RAM is [0, mem_size) */
	bool is_tpgvm;
	/* Copy len bytes of the caller's memory at gpa; false if any part is
	 * not mapped readable (cannot happen inside mem_size, but is checked). */
	bool (*read_guest)(void *ctx, uint64_t gpa, void *buf, size_t len);
	void (*console_put)(void *ctx, char c);
	void *ctx;
};

enum hc_effect {
	HC_EFFECT_NONE,  /* resume the caller with ret in RAX */
	HC_EFFECT_YIELD, /* ret in RAX, then schedule someone else */
	HC_EFFECT_EXIT,  /* the caller stops with exit_code */
};

struct hc_result {
	int64_t ret;
	enum hc_effect effect;
	uint64_t exit_code;
};

void hypercall_handle(const struct hc_call *call, const struct hc_env *env,
		      struct hc_result *res);

#endif
