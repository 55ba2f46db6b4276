/*
 * The firmware's TCG event log (tcb/fw_log.h). Every length is compared
 * with what is left of the buffer before a byte behind it is read, in
 * 64-bit arithmetic on values below 2^32 (or on len itself), so no field
 * can wrap an offset or make a read run past the log. The caller's outputs
 * are written only once the whole log has been accepted.
 *
 * Built freestanding into the hypervisor and hosted into the tests and
 * fuzzer; uses only memcmp/memcpy/memset and tcb/errmsg.c.
 */
#include "tcb/fw_log.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"

#include <string.h>

/* errmsg's -1 as an expression, so gcc -O2 sees every return's value. */
#define refuse(...) (errmsg(__VA_ARGS__), -1)

#define HEADER_FIXED_LEN  32u  /* pcrIndex, eventType, SHA-1 digest, eventSize */
#define SPEC_ID_FIXED_LEN 28u  /* signature .. numberOfAlgorithms */
#define RECORD_FIXED_LEN  12u  /* pcrIndex, eventType, digests.count */
#define LOCALITY_DATA_LEN 17u  /* "StartupLocality\0" and the locality */

static const uint8_t spec_id_sig[16] = "Spec ID Event03";
static const uint8_t locality_sig[16] = "StartupLocality";

/* The digest size an algorithm must have, or 0 when we do not know it. */
static uint16_t known_size(uint16_t alg)
{
	switch (alg) {
	case FW_LOG_ALG_SHA1: return 20;
	case FW_LOG_ALG_SHA256: return 32;
	case FW_LOG_ALG_SHA384: return 48;
	case FW_LOG_ALG_SHA512: return 64;
	case FW_LOG_ALG_SM3_256: return 32;
	default: return 0;
	}
}

/* The Spec ID event: fills info's algorithms and header_len. */
static int parse_header(const uint8_t *log, size_t len,
			struct fw_log_info *info, char *err, size_t err_len)
{
	const uint8_t *e = log + HEADER_FIXED_LEN;
	uint32_t size, n, want;

	if (len < HEADER_FIXED_LEN)
		return refuse(err, err_len,
			      "event log truncated: %zu bytes, shorter than its header event",
			      len);
	if (load_le32(log) != 0 || load_le32(log + 4) != FW_LOG_EV_NO_ACTION)
		return refuse(err, err_len,
			      "not a crypto-agile TCG event log: first event is PCR %u type 0x%x, not PCR 0 EV_NO_ACTION",
			      load_le32(log), load_le32(log + 4));
	for (unsigned int i = 8; i < 28; i++)
		if (log[i] != 0)
			return refuse(err, err_len,
				      "not a crypto-agile TCG event log: header event's digest is not zero");
	size = load_le32(log + 28);
	if ((uint64_t)size > len - HEADER_FIXED_LEN)
		return refuse(err, err_len,
			      "event log truncated in its header event (%u bytes of data, %zu left)",
			      size, len - HEADER_FIXED_LEN);
	if (size < SPEC_ID_FIXED_LEN || memcmp(e, spec_id_sig, 16) != 0)
		return refuse(err, err_len,
			      "not a crypto-agile TCG event log (no Spec ID Event03 header)");
	if (e[21] != 2 || e[20] != 0)
		return refuse(err, err_len,
			      "Spec ID event: spec version %u.%u, expected 2.0",
			      e[21], e[20]);
	if (e[23] != 1 && e[23] != 2)
		return refuse(err, err_len,
			      "Spec ID event: uintnSize %u (must be 1 or 2)", e[23]);
	n = load_le32(e + 24);
	if (n == 0 || n > FW_LOG_MAX_ALGS)
		return refuse(err, err_len,
			      "Spec ID event: %u algorithms (must be 1..%u)", n,
			      FW_LOG_MAX_ALGS);
	/* n <= 8: no overflow below. */
	if (size < SPEC_ID_FIXED_LEN + 4 * n + 1)
		return refuse(err, err_len,
			      "Spec ID event: %u bytes, too short for %u algorithms",
			      size, n);
	want = SPEC_ID_FIXED_LEN + 4 * n + 1 + e[SPEC_ID_FIXED_LEN + 4 * n];
	if (size != want)
		return refuse(err, err_len,
			      "Spec ID event: %u bytes, its fields and vendor info make %u",
			      size, want);
	for (uint32_t i = 0; i < n; i++) {
		uint16_t alg = load_le16(e + SPEC_ID_FIXED_LEN + 4 * i);
		uint16_t dsize = load_le16(e + SPEC_ID_FIXED_LEN + 4 * i + 2);
		uint16_t known = known_size(alg);

		if (known ? dsize != known : dsize == 0 || dsize > FW_LOG_DIGEST_MAX)
			return refuse(err, err_len,
				      "Spec ID event: algorithm 0x%04x with %u-byte digests",
				      alg, dsize);
		for (uint32_t j = 0; j < i; j++)
			if (info->algs[j] == alg)
				return refuse(err, err_len,
					      "Spec ID event: algorithm 0x%04x listed twice",
					      alg);
		info->algs[i] = alg;
		info->sizes[i] = dsize;
	}
	info->alg_count = n;
	info->header_len = HEADER_FIXED_LEN + size;
	return 0;
}

int fw_log_next(const uint8_t *log, size_t len, const struct fw_log_info *info,
		size_t *off, struct fw_log_event *ev, char *err,
		size_t err_len)
{
	size_t at = *off;
	uint64_t left;
	uint32_t count, size;
	unsigned int seen = 0;

	if (at >= len)
		return 0;
	left = (uint64_t)len - at;
	if (left < RECORD_FIXED_LEN)
		return refuse(err, err_len,
			      "event log truncated in the event at offset %zu (%llu bytes left)",
			      at, (unsigned long long)left);
	ev->pcr = load_le32(log + at);
	ev->type = load_le32(log + at + 4);
	count = load_le32(log + at + 8);
	if (ev->pcr >= FW_LOG_PCRS)
		return refuse(err, err_len,
			      "event at offset %zu: PCR %u does not exist", at,
			      ev->pcr);
	if (count != info->alg_count)
		return refuse(err, err_len,
			      "event at offset %zu: %u digests, the header lists %zu algorithms",
			      at, count, info->alg_count);
	at += RECORD_FIXED_LEN;
	left -= RECORD_FIXED_LEN;
	for (uint32_t i = 0; i < count; i++) {
		uint16_t alg;
		size_t k;

		if (left < 2)
			return refuse(err, err_len,
				      "event log truncated in a digest at offset %zu",
				      at);
		alg = load_le16(log + at);
		for (k = 0; k < info->alg_count && info->algs[k] != alg; k++)
			;
		if (k == info->alg_count)
			return refuse(err, err_len,
				      "event at offset %zu: digest algorithm 0x%04x is not in the header",
				      at, alg);
		if (seen & 1u << k)
			return refuse(err, err_len,
				      "event at offset %zu: two digests of algorithm 0x%04x",
				      at, alg);
		seen |= 1u << k;
		if (left - 2 < info->sizes[k])
			return refuse(err, err_len,
				      "event log truncated in a digest at offset %zu",
				      at);
		ev->digests[k] = log + at + 2;
		at += 2 + (size_t)info->sizes[k];
		left -= 2 + (uint64_t)info->sizes[k];
	}
	if (left < 4)
		return refuse(err, err_len,
			      "event log truncated in an event size at offset %zu",
			      at);
	size = load_le32(log + at);
	if ((uint64_t)size > left - 4)
		return refuse(err, err_len,
			      "event log truncated in the event at offset %zu: %u bytes of data, %llu left in the log",
			      at, size, (unsigned long long)(left - 4));
	ev->data = log + at + 4;
	ev->data_len = size;
	*off = at + 4 + (size_t)size;
	return 1;
}

/* A StartupLocality event, or 0 for any other: fills info on success. */
static int check_locality(const struct fw_log_event *ev, bool pcr0_extended,
			  struct fw_log_info *info, size_t index, char *err,
			  size_t err_len)
{
	if (ev->type != FW_LOG_EV_NO_ACTION || ev->data_len < 16 ||
	    memcmp(ev->data, locality_sig, 16) != 0)
		return 0;
	if (ev->pcr != 0 || ev->data_len != LOCALITY_DATA_LEN)
		return refuse(err, err_len,
			      "event %zu: StartupLocality event on PCR %u with %u bytes of data",
			      index, ev->pcr, ev->data_len);
	if (info->has_startup_locality || pcr0_extended)
		return refuse(err, err_len,
			      "event %zu: StartupLocality event after %s",
			      index, pcr0_extended ? "PCR 0 was extended" :
			      "another one");
	if (ev->data[16] != 0 && ev->data[16] != 3 && ev->data[16] != 4)
		return refuse(err, err_len,
			      "event %zu: startup locality %u (must be 0, 3 or 4)",
			      index, ev->data[16]);
	info->startup_locality = ev->data[16];
	info->has_startup_locality = true;
	return 0;
}

int fw_log_parse(const uint8_t *log, size_t len, struct fw_log_info *info,
		 char *err, size_t err_len)
{
	struct fw_log_info in;
	struct fw_log_event ev;
	bool pcr0_extended = false;
	size_t off;
	int rc;

	memset(&in, 0, sizeof(in));
	if (parse_header(log, len, &in, err, err_len) != 0)
		return -1;
	off = in.header_len;
	while ((rc = fw_log_next(log, len, &in, &off, &ev, err, err_len)) == 1) {
		if (check_locality(&ev, pcr0_extended, &in, in.events, err,
				   err_len) != 0)
			return -1;
		if (ev.pcr == 0 && ev.type != FW_LOG_EV_NO_ACTION)
			pcr0_extended = true;
		in.events++;
	}
	if (rc != 0)
		return -1;
	*info = in;
	if (err && err_len)
		err[0] = '\0';
	return 0;
}

int fw_log_replay(const uint8_t *log, size_t len, uint16_t alg,
		  void (*hash)(const void *data, size_t len, uint8_t *out),
		  uint8_t (*pcrs)[FW_LOG_DIGEST_MAX], char *err,
		  size_t err_len)
{
	uint8_t buf[2 * FW_LOG_DIGEST_MAX];
	struct fw_log_info info;
	struct fw_log_event ev;
	size_t k, dsize, off;

	if (fw_log_parse(log, len, &info, err, err_len) != 0)
		return -1;
	for (k = 0; k < info.alg_count && info.algs[k] != alg; k++)
		;
	if (k == info.alg_count)
		return refuse(err, err_len,
			      "event log has no bank of algorithm 0x%04x", alg);
	dsize = info.sizes[k];
	for (uint32_t i = 0; i < FW_LOG_PCRS; i++) {
		memset(pcrs[i], 0, FW_LOG_DIGEST_MAX);
		if (i >= 17 && i <= 22)
			memset(pcrs[i], 0xff, dsize);
	}
	pcrs[0][dsize - 1] = info.startup_locality;
	off = info.header_len;
	while (fw_log_next(log, len, &info, &off, &ev, NULL, 0) == 1) {
		if (ev.type == FW_LOG_EV_NO_ACTION)
			continue;
		memcpy(buf, pcrs[ev.pcr], dsize);
		memcpy(buf + dsize, ev.digests[k], dsize);
		hash(buf, 2 * dsize, pcrs[ev.pcr]);
	}
	return 0;
}

#define GRUB_KERNEL_CMDLINE "kernel_cmdline: "

bool fw_log_loader_measured_kernel(const uint8_t *log, size_t len)
{
	const size_t prefix = sizeof(GRUB_KERNEL_CMDLINE) - 1;
	struct fw_log_info info;
	struct fw_log_event ev;
	bool cmdline = false, file = false;
	size_t off;

	if (fw_log_parse(log, len, &info, NULL, 0) != 0)
		return false;
	off = info.header_len;
	while (fw_log_next(log, len, &info, &off, &ev, NULL, 0) == 1) {
		if (ev.type == FW_LOG_EV_NO_ACTION)
			continue;
		if (ev.pcr == 8 && ev.data_len >= prefix &&
		    memcmp(ev.data, GRUB_KERNEL_CMDLINE, prefix) == 0)
			cmdline = true;
		file |= ev.pcr == 9;
	}
	return cmdline && file;
}
