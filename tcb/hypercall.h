/*
 * Hypercall semantics (include/custos/guest_abi.h has the ABI). Decode checks
 * every argument and may fail; execute only then touches anything (the seL4
 * discipline), so an error never leaves half-done state. Execute fails only
 * when the TCB itself does (HC_REPORT's signature needs the RNG), and then
 * it has written nothing. The mechanism (reading registers, advancing RIP)
 * is the caller's.
 */
#ifndef CUSTOS_TCB_HYPERCALL_H
#define CUSTOS_TCB_HYPERCALL_H

#include <custos/types.h>
#include <custos/guest_abi.h>

struct measure_log;
struct lc_ops;

/* What the TCB puts into a platform report besides the request
 * (docs/report.md). Everything here lives as long as the TCB. */
struct report_source {
	const struct measure_log *log; /* the live measurement log */
	const char *platform_id;       /* NUL-terminated, from the TPGVM policy */
	const uint8_t *sign_cert;      /* the TCB signing certificate, DER */
	size_t sign_cert_len;
	const uint8_t *sign_priv;      /* its private key, RPT_PRIV_LEN bytes, */
	const struct report_signer *signer; /* or, NULL above, its signer (TPM) */
	uint32_t key_protection;       /* enum report_key_protection */
	uint32_t launch_mode;          /* enum report_launch_mode */
	uint32_t debug;                /* REPORT_DEBUG_* in effect */
	/* The TPM's evidence, where there is a TPM (struct report_contents):
	 * its exact length, fixed for this boot, and its writer. */
	size_t tpm_len;
	int (*tpm_evidence)(void *ctx, const uint8_t quoted[48], uint8_t *out,
			    size_t len);
	void *tpm_ctx;
};

struct hc_call {
	uint64_t nr;
	uint64_t arg[4]; /* RDI, RSI, RDX, RCX */
	unsigned cpl;    /* the caller's privilege level */
};

/* What the TCB offers a hypercall: the caller's memory and console, and
 * for the TPGVM what a report is made of. */
struct hc_env {
	uint64_t mem_size; /* the caller's guest-physical RAM is [0, mem_size) */
	bool is_tpgvm;
	/* Copy len bytes of the caller's memory at gpa; false if any part is
	 * not mapped readable (cannot happen inside mem_size, but is checked). */
	bool (*read_guest)(void *ctx, uint64_t gpa, void *buf, size_t len);
	/* Copy len bytes into the caller's memory at gpa; false if any part is
	 * not mapped writable (same: checked, not expected). */
	bool (*write_guest)(void *ctx, uint64_t gpa, const void *buf, size_t len);
	void (*console_put)(void *ctx, char c);
	/* NULL unless the caller is the TPGVM and the TCB can sign reports. */
	const struct report_source *report;
	/* NULL unless the caller is the TPGVM: the lifecycle mechanism
	 * (tcb/lifecycle.h) and its context. */
	const struct lc_ops *lc;
	void *lc_ctx;
	void *ctx;
};

enum hc_effect {
	HC_EFFECT_NONE,  /* resume the caller with ret in RAX */
	HC_EFFECT_YIELD, /* ret in RAX, then schedule someone else */
	HC_EFFECT_EXIT,  /* the caller stops with exit_code */
	/* Not finished (a long lifecycle call, tcb/lifecycle.h): leave RAX
	 * and RIP alone, so the caller executes the same instruction again;
	 * that continues the call. The scheduler may run others first. */
	HC_EFFECT_RESTART,
};

struct hc_result {
	int64_t ret;
	enum hc_effect effect;
	uint64_t exit_code;
};

void hypercall_handle(const struct hc_call *call, const struct hc_env *env,
		      struct hc_result *res);

#endif
