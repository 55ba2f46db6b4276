/*
 * The one structural parser of TPGVM envelopes (include/custos/envelope.h,
 * docs/envelope.md), and of the payload inside once it is decrypted.
 *
 * Envelopes arrive as a boot module: anyone who controls the boot media
 * controls these bytes, so the buffer is hostile. Every field is read byte
 * by byte (no struct overlay: no misaligned access, no host byte order),
 * every length is checked against what is left before anything is formed
 * from it, and sums are done in 64 bits from values bounded to 32 bits, so
 * nothing can wrap. No cryptography here: envelope_open() does that on the
 * result, so this file stays small enough to fuzz exhaustively.
 *
 * Built freestanding into the hypervisor and hosted into the tests and the
 * fuzzer; uses only memcmp and tcb/errmsg.c.
 */
#include <custos/envelope.h>
#include "tcb/der.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"

#include <string.h>

/* ---- Envelope -------------------------------------------------------------- */

static int check_fixed_header(const uint8_t *b, size_t len, char *err,
			      size_t err_len)
{
	uint32_t version;

	if (len < ENVELOPE_MAGIC_LEN ||
	    memcmp(b, ENVELOPE_MAGIC, ENVELOPE_MAGIC_LEN) != 0)
		return errmsg(err, err_len,
			    "not a Custos envelope (no \"CUSTENV1\" magic)");
	if (len < ENV_FIXED_LEN)
		return errmsg(err, err_len,
			    "envelope of %zu bytes is shorter than its %u-byte fixed header",
			    len, ENV_FIXED_LEN);
	version = load_le32(b + ENV_OFF_VERSION);
	if (version != ENVELOPE_VERSION)
		return errmsg(err, err_len,
			    "envelope format version %u is not supported (only %u)",
			    version, ENVELOPE_VERSION);
	if (b[ENV_OFF_EPH_PUB] != 0x04)
		return errmsg(err, err_len,
			    "ephemeral key is not an uncompressed point (first byte 0x%02x, not 0x04)",
			    b[ENV_OFF_EPH_PUB]);
	return 0;
}

/* The lengths in the header must add up to exactly len. */
static int check_lengths(size_t len, uint32_t cert_len, uint32_t payload_len,
			 char *err, size_t err_len)
{
	/* Both terms are < 2^32, the constant is small: no 64-bit wrap. */
	uint64_t total = (uint64_t)ENV_OVERHEAD + cert_len + payload_len;

	if (cert_len == 0 || cert_len > ENVELOPE_CERT_MAX)
		return errmsg(err, err_len,
			    "station certificate length %u is not in 1..%u",
			    cert_len, ENVELOPE_CERT_MAX);
	if (payload_len == 0)
		return errmsg(err, err_len, "envelope payload is empty");
	if (len > ENVELOPE_MAX_SIZE)
		return errmsg(err, err_len,
			    "envelope of %zu bytes is over the %u-byte limit",
			    len, ENVELOPE_MAX_SIZE);
	if (total > ENVELOPE_MAX_SIZE)
		return errmsg(err, err_len,
			    "envelope would be %lu bytes, over the %u-byte limit",
			    (unsigned long)total, ENVELOPE_MAX_SIZE);
	if (total > len)
		return errmsg(err, err_len,
			    "envelope truncated: header says %lu bytes, only %zu present",
			    (unsigned long)total, len);
	if (total < len)
		return errmsg(err, err_len,
			    "envelope has %lu trailing bytes after its signature",
			    (unsigned long)(len - total));
	return 0;
}

int envelope_parse(const void *buf, size_t len, struct envelope *out,
		   char *err, size_t err_len)
{
	const uint8_t *b = buf;
	struct envelope e;
	uint32_t cert_len, payload_len;

	if (err && err_len)
		err[0] = '\0';
	if (check_fixed_header(b, len, err, err_len))
		return -1;
	cert_len = load_le32(b + ENV_OFF_CERT_LEN);
	payload_len = load_le32(b + ENV_OFF_PAYLOAD_LEN);
	if (check_lengths(len, cert_len, payload_len, err, err_len))
		return -1;
	/* From here every offset below len is known to be in bounds. */
	if (der_check_sequence(b + ENV_OFF_CERT, cert_len, "station certificate",
			       err, err_len))
		return -1;
	e.version = ENVELOPE_VERSION;
	e.tcb_fpr = b + ENV_OFF_TCB_FPR;
	e.eph_pub = b + ENV_OFF_EPH_PUB;
	e.iv = b + ENV_OFF_IV;
	e.station_cert = b + ENV_OFF_CERT;
	e.station_cert_len = cert_len;
	e.header_len = ENV_FIXED_LEN + (size_t)cert_len;
	e.ciphertext = b + e.header_len;
	e.payload_len = payload_len;
	e.tag = e.ciphertext + payload_len;
	e.signed_len = e.header_len + payload_len + ENV_TAG_LEN;
	e.signature = b + e.signed_len;
	*out = e;
	return 0;
}

/* ---- Payload --------------------------------------------------------------- */

/* One item of the expected type at *off; advances *off past it. */
static int take_item(const uint8_t *b, size_t len, size_t *off, uint16_t want,
		     const char *name, const uint8_t **val, size_t *val_len,
		     char *err, size_t err_len)
{
	size_t left = len - *off;
	uint16_t type;
	uint32_t n;

	if (left < PAYLOAD_ITEM_HDR)
		return errmsg(err, err_len,
			    "payload truncated: no room for the %s item header at offset %zu",
			    name, *off);
	type = load_le16(b + *off);
	n = load_le32(b + *off + 2);
	if (type != want)
		return errmsg(err, err_len,
			    "payload item at offset %zu has type %u, expected %u (%s)",
			    *off, type, want, name);
	if (n == 0)
		return errmsg(err, err_len, "payload %s item is empty", name);
	if (n > left - PAYLOAD_ITEM_HDR)
		return errmsg(err, err_len,
			    "payload %s item of %u bytes overruns the %zu-byte payload",
			    name, n, len);
	*val = b + *off + PAYLOAD_ITEM_HDR;
	*val_len = n;
	*off += PAYLOAD_ITEM_HDR + (size_t)n;
	return 0;
}

int envelope_payload_parse(const void *buf, size_t len,
			   struct envelope_payload *out, char *err,
			   size_t err_len)
{
	const uint8_t *b = buf;
	struct envelope_payload p;
	size_t off = 0;

	if (err && err_len)
		err[0] = '\0';
	if (take_item(b, len, &off, PAYLOAD_ITEM_IMAGE, "image", &p.image,
		      &p.image_len, err, err_len) ||
	    take_item(b, len, &off, PAYLOAD_ITEM_POLICY, "policy", &p.policy,
		      &p.policy_len, err, err_len))
		return -1;
	if (off != len)
		return errmsg(err, err_len,
			    "payload has %zu trailing bytes after the policy",
			    len - off);
	*out = p;
	return 0;
}
