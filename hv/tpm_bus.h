/*
 * How the TPM drivers (hv/tpm_tis.c, hv/tpm_crb.c) reach a TPM: byte and
 * dword accesses at offsets into the 0xFED40000 window, and a clock. The
 * hypervisor passes real MMIO and the TSC (hv/tpm.c); the unit tests a
 * simulated device that can stall, lie about sizes or never answer, which
 * is why the drivers themselves are portable.
 *
 * Everything read through the bus is untrusted: a register value, a
 * buffer address, a response's length. The drivers wait for nothing
 * without a deadline and copy nothing without a bound.
 */
#ifndef CUSTOS_HV_TPM_BUS_H
#define CUSTOS_HV_TPM_BUS_H

#include <custos/types.h>

#define TPM_WINDOW_BASE 0xfed40000ull /* TIS and CRB, PC Client PTP */
#define TPM_WINDOW_LEN  0x5000u       /* localities 0-4, 4 KiB each */

struct tpm_bus {
	void *ctx;
	uint8_t (*read8)(void *ctx, uint32_t off);
	uint32_t (*read32)(void *ctx, uint32_t off);
	void (*write8)(void *ctx, uint32_t off, uint8_t v);
	void (*write32)(void *ctx, uint32_t off, uint32_t v);
	uint64_t (*now_us)(void *ctx); /* microseconds, monotonic */
};

/* Deadlines (PC Client PTP 1.05, "Timeouts": A 750 ms, B 2 s, C 200 ms,
 * D 30 ms). A command may run much longer than any of them: key creation
 * takes seconds on a slow TPM, so a response gets TPM_CMD_TIMEOUT_US. */
#define TPM_TIMEOUT_A_US   750000u
#define TPM_TIMEOUT_B_US  2000000u
#define TPM_TIMEOUT_C_US   200000u
#define TPM_CMD_TIMEOUT_US 30000000u

enum tpm_interface {
	TPM_IF_NONE = 0,
	TPM_IF_TIS,  /* FIFO interface (TIS 1.3 or PTP FIFO), TPM 2.0 family */
	TPM_IF_CRB,  /* Command Response Buffer */
};

/*
 * What answers at locality 0: TIS, CRB or nothing (all-ones or all-zero
 * registers: no device; a TIS of the TPM 1.2 family: refused). On NONE,
 * err says why (for the console).
 */
enum tpm_interface tpm_detect(const struct tpm_bus *b, char *err, size_t err_len);

/*
 * One command and its response at locality 0: take the locality, send,
 * wait, read at most rsp_cap bytes, give the locality back. The response's
 * length comes from its header and must lie in [10, rsp_cap]; every byte
 * the TPM offers beyond it, or a stall past a deadline, is an error (-1,
 * err says which step). The response's contents are the caller's to check
 * (tcb/tpm2_cmd.h).
 */
int tpm_tis_transmit(const struct tpm_bus *b, const uint8_t *cmd, size_t cmd_len,
		     uint8_t *rsp, size_t rsp_cap, size_t *rsp_len,
		     char *err, size_t err_len);
int tpm_crb_transmit(const struct tpm_bus *b, const uint8_t *cmd, size_t cmd_len,
		     uint8_t *rsp, size_t rsp_cap, size_t *rsp_len,
		     char *err, size_t err_len);

#endif
