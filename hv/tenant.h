/* The mechanism behind the tenant VM lifecycle (tcb/lifecycle.h). */
#ifndef CUSTOS_HV_TENANT_H
#define CUSTOS_HV_TENANT_H

#include "tcb/lifecycle.h"

/* The ops for hc_env.lc; their context (hc_env.lc_ctx) is the calling VM,
 * whose vCPU is made current again after each op that loads another. */
const struct lc_ops *tenant_ops(void);

#endif
