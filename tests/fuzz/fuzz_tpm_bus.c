/*
 * libFuzzer target for the TPM drivers (hv/tpm_tis.c, hv/tpm_crb.c): the
 * device is the input. Every register read returns the next bytes of the
 * input (past its end: 0), so the fuzzer plays a TPM that answers anything
 * at any time - status bits, burst counts, buffer addresses and sizes,
 * response bytes. Whatever it does, a driver must finish (the clock
 * advances with every look at it, so each deadline passes), write no byte
 * of the response beyond the caller's buffer (ASan), report a length only
 * on success and then one within [10, cap] equal to the header's size
 * field, and touch no register outside the TPM window.
 *
 * The first input byte picks TIS or CRB and the response buffer's size.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/tpm_bus.h"
#include "fuzz_util.h"

static struct input in;
static uint64_t clock_us;

static void in_window(uint32_t off)
{
	require(off < TPM_WINDOW_LEN);
}

static uint8_t rd8(void *ctx, uint32_t off)
{
	(void)ctx;
	in_window(off);
	return (uint8_t)take(&in, 1);
}

static uint32_t rd32(void *ctx, uint32_t off)
{
	(void)ctx;
	in_window(off);
	require(off % 4 == 0);
	return (uint32_t)take(&in, 4);
}

static void wr8(void *ctx, uint32_t off, uint8_t v)
{
	(void)ctx;
	(void)v;
	in_window(off);
}

static void wr32(void *ctx, uint32_t off, uint32_t v)
{
	(void)ctx;
	(void)v;
	in_window(off);
	require(off % 4 == 0);
}

/* Coarse steps keep a run short: 50 ms per look at the clock. */
static uint64_t now(void *ctx)
{
	(void)ctx;
	clock_us += 50000;
	return clock_us;
}

static const struct tpm_bus bus = {
	.read8 = rd8, .read32 = rd32, .write8 = wr8, .write32 = wr32, .now_us = now,
};

static const uint8_t cmd[12] = { 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[160];
	size_t cap, len = 12345;
	uint8_t *rsp;
	int rc;

	if (size < 1)
		return 0;
	in = (struct input){ data + 1, size - 1 };
	clock_us = 0;
	cap = 8 + (data[0] >> 1) * 4; /* 8..516: some below the header's 10 */
	rsp = malloc(cap);
	require(rsp != NULL);
	if (data[0] & 1)
		rc = tpm_crb_transmit(&bus, cmd, sizeof(cmd), rsp, cap, &len, err, sizeof(err));
	else
		rc = tpm_tis_transmit(&bus, cmd, sizeof(cmd), rsp, cap, &len, err, sizeof(err));
	if (rc == 0) {
		uint32_t claimed = (uint32_t)rsp[2] << 24 | (uint32_t)rsp[3] << 16 |
				   (uint32_t)rsp[4] << 8 | rsp[5];

		require(len >= 10 && len <= cap && len == claimed);
	} else {
		require(rc == -1 && len == 0 && memchr(err, 0, sizeof(err)));
	}
	(void)tpm_detect(&bus, err, sizeof(err));
	free(rsp);
	return 0;
}
