/*
 * The TPM's FIFO interface (TCG PC Client Platform TPM Profile, "FIFO
 * Interface"; TIS 1.3 for the registers), locality 0 only, polled. And
 * tpm_detect, which tells it from CRB. Portable: see hv/tpm_bus.h.
 */
#include "hv/tpm_bus.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"
#include "tcb/tpm2_cmd.h"

/* Locality 0's registers. */
#define TIS_ACCESS       0x000u
#define TIS_STS          0x018u
#define TIS_DATA_FIFO    0x024u
#define TIS_INTERFACE_ID 0x030u
#define TIS_DID_VID      0xf00u

#define ACCESS_REQUEST_USE    0x02u
#define ACCESS_ACTIVE_LOCALITY 0x20u
#define ACCESS_VALID          0x80u

#define STS_VALID         0x80u
#define STS_COMMAND_READY 0x40u
#define STS_GO            0x20u
#define STS_DATA_AVAIL    0x10u
#define STS_EXPECT        0x08u
#define STS_FAMILY(s)     (((s) >> 26) & 3u)
#define STS_FAMILY_TPM2   1u
#define STS_BURST(s)      (((s) >> 8) & 0xffffu)

/* INTERFACE_ID bits 3:0 (PTP) */
#define IF_TYPE_FIFO     0x0u
#define IF_TYPE_CRB      0x1u
#define IF_TYPE_TIS13    0xfu

static bool wait_access(const struct tpm_bus *b, uint8_t mask, uint8_t want,
			uint32_t timeout_us)
{
	uint64_t end = b->now_us(b->ctx) + timeout_us;

	do {
		if ((b->read8(b->ctx, TIS_ACCESS) & mask) == want)
			return true;
	} while (b->now_us(b->ctx) < end);
	return false;
}

/* STS with every bit of mask as in want; *sts gets it. stsValid only
 * vouches for Expect and dataAvail, so only waits on those include it. */
static bool wait_sts(const struct tpm_bus *b, uint32_t mask, uint32_t want,
		     uint32_t timeout_us, uint32_t *sts)
{
	uint64_t end = b->now_us(b->ctx) + timeout_us;

	do {
		*sts = b->read32(b->ctx, TIS_STS);
		if ((*sts & mask) == want)
			return true;
	} while (b->now_us(b->ctx) < end);
	return false;
}

/* A non-zero burst count, which says how many bytes the FIFO takes or
 * holds now. */
static uint32_t wait_burst(const struct tpm_bus *b, uint32_t timeout_us)
{
	uint64_t end = b->now_us(b->ctx) + timeout_us;

	do {
		uint32_t burst = STS_BURST(b->read32(b->ctx, TIS_STS));

		if (burst)
			return burst;
	} while (b->now_us(b->ctx) < end);
	return 0;
}

enum tpm_interface tpm_detect(const struct tpm_bus *b, char *err, size_t err_len)
{
	uint32_t did_vid = b->read32(b->ctx, TIS_DID_VID);
	uint32_t iface = b->read32(b->ctx, TIS_INTERFACE_ID);
	uint32_t sts;

	if (did_vid == 0xffffffffu || did_vid == 0) {
		/* A CRB need not implement DID_VID at 0xf00; its INTF_ID says. */
		if (iface != 0xffffffffu && (iface & 0xfu) == IF_TYPE_CRB)
			return TPM_IF_CRB;
		errmsg(err, err_len, "no TPM at %#llx (DID_VID reads %#x)",
		       (unsigned long long)TPM_WINDOW_BASE, did_vid);
		return TPM_IF_NONE;
	}
	switch (iface & 0xfu) {
	case IF_TYPE_CRB:
		return TPM_IF_CRB;
	case IF_TYPE_FIFO:
	case IF_TYPE_TIS13:
		sts = b->read32(b->ctx, TIS_STS);
		if (sts != 0xffffffffu && STS_FAMILY(sts) != STS_FAMILY_TPM2 &&
		    (iface & 0xfu) == IF_TYPE_TIS13) {
			errmsg(err, err_len, "the TIS TPM %#x is not of the TPM 2.0 "
			       "family (TPM_STS %#x)", did_vid, sts);
			return TPM_IF_NONE;
		}
		return TPM_IF_TIS;
	default:
		errmsg(err, err_len, "TPM %#x has an unknown interface type %#x",
		       did_vid, iface & 0xfu);
		return TPM_IF_NONE;
	}
}

static int request_locality(const struct tpm_bus *b, char *err, size_t err_len)
{
	uint8_t want = ACCESS_VALID | ACCESS_ACTIVE_LOCALITY;

	if ((b->read8(b->ctx, TIS_ACCESS) & want) == want)
		return 0;
	b->write8(b->ctx, TIS_ACCESS, ACCESS_REQUEST_USE);
	if (!wait_access(b, want, want, TPM_TIMEOUT_A_US))
		return errmsg(err, err_len, "TIS: locality 0 not granted within "
			      "%u ms", TPM_TIMEOUT_A_US / 1000);
	return 0;
}

static void release_locality(const struct tpm_bus *b)
{
	b->write32(b->ctx, TIS_STS, STS_COMMAND_READY); /* back to idle */
	b->write8(b->ctx, TIS_ACCESS, ACCESS_ACTIVE_LOCALITY);
}

static int send_command(const struct tpm_bus *b, const uint8_t *cmd,
			size_t len, char *err, size_t err_len)
{
	uint32_t sts;
	size_t sent = 0;

	b->write32(b->ctx, TIS_STS, STS_COMMAND_READY);
	if (!wait_sts(b, STS_COMMAND_READY, STS_COMMAND_READY,
		      TPM_TIMEOUT_B_US, &sts))
		return errmsg(err, err_len, "TIS: not ready for a command "
			      "(TPM_STS %#x)", sts);
	while (sent < len) {
		uint32_t burst = wait_burst(b, TPM_TIMEOUT_B_US);

		if (!burst)
			return errmsg(err, err_len, "TIS: burst count stayed 0 "
				      "after %zu of %zu bytes", sent, len);
		for (; burst && sent < len; burst--)
			b->write8(b->ctx, TIS_DATA_FIFO, cmd[sent++]);
		/* Until the last byte the TPM must still expect more. */
		if (!wait_sts(b, STS_VALID, STS_VALID, TPM_TIMEOUT_C_US, &sts))
			return errmsg(err, err_len, "TIS: status invalid after "
				      "%zu bytes", sent);
		if (sent < len && !(sts & STS_EXPECT))
			return errmsg(err, err_len, "TIS: the TPM took the command "
				      "as complete after %zu of %zu bytes", sent, len);
	}
	if (sts & STS_EXPECT)
		return errmsg(err, err_len, "TIS: the TPM expects more than the "
			      "%zu-byte command", len);
	b->write32(b->ctx, TIS_STS, STS_GO);
	return 0;
}

/* Read n bytes of the response into rsp, burst by burst. */
static int read_bytes(const struct tpm_bus *b, uint8_t *rsp, size_t n,
		      char *err, size_t err_len)
{
	size_t got = 0;

	while (got < n) {
		uint32_t burst = wait_burst(b, TPM_TIMEOUT_B_US);

		if (!burst)
			return errmsg(err, err_len, "TIS: burst count stayed 0 "
				      "after %zu of %zu response bytes", got, n);
		for (; burst && got < n; burst--)
			rsp[got++] = b->read8(b->ctx, TIS_DATA_FIFO);
	}
	return 0;
}

static int receive_response(const struct tpm_bus *b, uint8_t *rsp, size_t cap,
			    size_t *len, char *err, size_t err_len)
{
	uint32_t sts, size;

	if (!wait_sts(b, STS_VALID | STS_DATA_AVAIL, STS_VALID | STS_DATA_AVAIL,
		      TPM_CMD_TIMEOUT_US, &sts))
		return errmsg(err, err_len, "TIS: no response within %u s "
			      "(TPM_STS %#x)", TPM_CMD_TIMEOUT_US / 1000000, sts);
	if (cap < TPM2_HEADER_LEN || read_bytes(b, rsp, TPM2_HEADER_LEN, err, err_len))
		return -1;
	size = load_be32(rsp + 2);
	if (size < TPM2_HEADER_LEN || size > cap)
		return errmsg(err, err_len, "TIS: response claims %u bytes "
			      "(10..%zu)", size, cap);
	if (read_bytes(b, rsp + TPM2_HEADER_LEN, size - TPM2_HEADER_LEN, err, err_len))
		return -1;
	/* All of it read: the TPM must have nothing more to say. */
	if (!wait_sts(b, STS_VALID, STS_VALID, TPM_TIMEOUT_C_US, &sts))
		return errmsg(err, err_len, "TIS: status invalid after the response");
	if (sts & STS_DATA_AVAIL)
		return errmsg(err, err_len, "TIS: more data than the %u-byte "
			      "response", size);
	*len = size;
	return 0;
}

int tpm_tis_transmit(const struct tpm_bus *b, const uint8_t *cmd, size_t cmd_len,
		     uint8_t *rsp, size_t rsp_cap, size_t *rsp_len,
		     char *err, size_t err_len)
{
	int rc;

	*rsp_len = 0;
	if (cmd_len < TPM2_HEADER_LEN || cmd_len > TPM2_BUFFER_MAX)
		return errmsg(err, err_len, "TIS: a %zu-byte command", cmd_len);
	if (request_locality(b, err, err_len))
		return -1;
	rc = send_command(b, cmd, cmd_len, err, err_len);
	if (rc == 0)
		rc = receive_response(b, rsp, rsp_cap, rsp_len, err, err_len);
	release_locality(b);
	return rc;
}
