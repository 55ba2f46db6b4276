/*
 * The TPM's Command Response Buffer interface (TCG PC Client Platform TPM
 * Profile, "CRB Interface"), locality 0, polled. Portable: see
 * hv/tpm_bus.h.
 *
 * The TPM names where its command and response buffers lie. The hypervisor
 * maps only the 0xFED40000 window, and an address read from a register is
 * input like any other: a buffer that is not wholly inside locality 0's
 * page, after the registers, is refused rather than followed.
 */
#include "hv/tpm_bus.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"
#include "tcb/tpm2_cmd.h"

#define CRB_LOC_CTRL      0x08u
#define CRB_LOC_STS       0x0cu
#define CRB_CTRL_REQ      0x40u
#define CRB_CTRL_STS      0x44u
#define CRB_CTRL_START    0x4cu
#define CRB_CTRL_CMD_SIZE 0x58u
#define CRB_CTRL_CMD_LADDR 0x5cu
#define CRB_CTRL_CMD_HADDR 0x60u
#define CRB_CTRL_RSP_SIZE 0x64u
#define CRB_CTRL_RSP_ADDR 0x68u
#define CRB_DATA_BUFFER   0x80u
#define CRB_PAGE_END      0x1000u /* locality 0's page */

#define LOC_CTRL_REQUEST    0x1u
#define LOC_CTRL_RELINQUISH 0x2u
#define LOC_STS_GRANTED     0x1u
#define CTRL_REQ_CMD_READY  0x1u
#define CTRL_REQ_GO_IDLE    0x2u
#define CTRL_STS_ERROR      0x1u
#define CTRL_STS_IDLE       0x2u

/* reg & mask == want before the deadline. */
static bool wait_reg(const struct tpm_bus *b, uint32_t reg, uint32_t mask,
		     uint32_t want, uint32_t timeout_us)
{
	uint64_t end = b->now_us(b->ctx) + timeout_us;

	do {
		if ((b->read32(b->ctx, reg) & mask) == want)
			return true;
	} while (b->now_us(b->ctx) < end);
	return false;
}

/* A buffer as the TPM names it: its offset in the window, if all of
 * [addr, addr + size) lies in locality 0's page after the registers. */
static int buffer_offset(uint64_t addr, uint32_t size, const char *which,
			 uint32_t *off, char *err, size_t err_len)
{
	uint64_t lo = TPM_WINDOW_BASE + CRB_DATA_BUFFER;
	uint64_t hi = TPM_WINDOW_BASE + CRB_PAGE_END;

	if (addr < lo || addr > hi || size > hi - addr || size < TPM2_HEADER_LEN)
		return errmsg(err, err_len, "CRB: the %s buffer %#llx+%#x is "
			      "outside locality 0's page", which,
			      (unsigned long long)addr, size);
	*off = (uint32_t)(addr - TPM_WINDOW_BASE);
	return 0;
}

struct crb_buffers {
	uint32_t cmd_off, cmd_size, rsp_off, rsp_size;
};

static int read_buffers(const struct tpm_bus *b, struct crb_buffers *buf,
			char *err, size_t err_len)
{
	uint64_t cmd = (uint64_t)b->read32(b->ctx, CRB_CTRL_CMD_HADDR) << 32 |
		       b->read32(b->ctx, CRB_CTRL_CMD_LADDR);
	uint64_t rsp = (uint64_t)b->read32(b->ctx, CRB_CTRL_RSP_ADDR + 4) << 32 |
		       b->read32(b->ctx, CRB_CTRL_RSP_ADDR);

	buf->cmd_size = b->read32(b->ctx, CRB_CTRL_CMD_SIZE);
	buf->rsp_size = b->read32(b->ctx, CRB_CTRL_RSP_SIZE);
	if (buffer_offset(cmd, buf->cmd_size, "command", &buf->cmd_off, err, err_len) ||
	    buffer_offset(rsp, buf->rsp_size, "response", &buf->rsp_off, err, err_len))
		return -1;
	return 0;
}

static int exchange(const struct tpm_bus *b, const uint8_t *cmd, size_t cmd_len,
		    uint8_t *rsp, size_t rsp_cap, size_t *rsp_len,
		    char *err, size_t err_len)
{
	struct crb_buffers buf = { 0 };
	uint32_t size;

	b->write32(b->ctx, CRB_CTRL_REQ, CTRL_REQ_CMD_READY);
	if (!wait_reg(b, CRB_CTRL_REQ, CTRL_REQ_CMD_READY, 0, TPM_TIMEOUT_C_US) ||
	    !wait_reg(b, CRB_CTRL_STS, CTRL_STS_IDLE, 0, TPM_TIMEOUT_C_US))
		return errmsg(err, err_len, "CRB: the TPM did not leave idle");
	if (read_buffers(b, &buf, err, err_len))
		return -1;
	if (cmd_len > buf.cmd_size)
		return errmsg(err, err_len, "CRB: a %zu-byte command does not fit "
			      "the %u-byte buffer", cmd_len, buf.cmd_size);
	for (size_t i = 0; i < cmd_len; i++)
		b->write8(b->ctx, buf.cmd_off + (uint32_t)i, cmd[i]);
	b->write32(b->ctx, CRB_CTRL_START, 1);
	if (!wait_reg(b, CRB_CTRL_START, 1, 0, TPM_CMD_TIMEOUT_US))
		return errmsg(err, err_len, "CRB: no response within %u s",
			      TPM_CMD_TIMEOUT_US / 1000000);
	if (b->read32(b->ctx, CRB_CTRL_STS) & CTRL_STS_ERROR)
		return errmsg(err, err_len, "CRB: the TPM reports a fatal error");
	if (rsp_cap < TPM2_HEADER_LEN)
		return errmsg(err, err_len, "CRB: no room for a response");
	for (uint32_t i = 0; i < TPM2_HEADER_LEN; i++)
		rsp[i] = b->read8(b->ctx, buf.rsp_off + i);
	size = load_be32(rsp + 2);
	if (size < TPM2_HEADER_LEN || size > rsp_cap || size > buf.rsp_size)
		return errmsg(err, err_len, "CRB: response claims %u bytes "
			      "(10..%zu)", size, rsp_cap < buf.rsp_size ?
			      rsp_cap : (size_t)buf.rsp_size);
	for (uint32_t i = TPM2_HEADER_LEN; i < size; i++)
		rsp[i] = b->read8(b->ctx, buf.rsp_off + i);
	*rsp_len = size;
	return 0;
}

int tpm_crb_transmit(const struct tpm_bus *b, const uint8_t *cmd, size_t cmd_len,
		     uint8_t *rsp, size_t rsp_cap, size_t *rsp_len,
		     char *err, size_t err_len)
{
	int rc;

	*rsp_len = 0;
	if (cmd_len < TPM2_HEADER_LEN || cmd_len > TPM2_BUFFER_MAX)
		return errmsg(err, err_len, "CRB: a %zu-byte command", cmd_len);
	b->write32(b->ctx, CRB_LOC_CTRL, LOC_CTRL_REQUEST);
	if (!wait_reg(b, CRB_LOC_STS, LOC_STS_GRANTED, LOC_STS_GRANTED,
		      TPM_TIMEOUT_A_US))
		return errmsg(err, err_len, "CRB: locality 0 not granted within "
			      "%u ms", TPM_TIMEOUT_A_US / 1000);
	rc = exchange(b, cmd, cmd_len, rsp, rsp_cap, rsp_len, err, err_len);
	b->write32(b->ctx, CRB_CTRL_REQ, CTRL_REQ_GO_IDLE);
	b->write32(b->ctx, CRB_LOC_CTRL, LOC_CTRL_RELINQUISH);
	return rc;
}
