/*
 * Parsers of the TCB key and certificate modules (tcb/tcb_keys.h,
 * docs/pki.md). Boot-module input: hostile until checked. Byte-wise loads,
 * every length checked before use; only memcmp, memcpy, memset and
 * tcb/errmsg.c from the C library. Error messages never include key bytes:
 * the serial log is not a safe place for them.
 */
#include "tcb/tcb_keys.h"
#include "tcb/der.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"

#include <string.h>

/* Magic, then (once the 12-byte header is known to be there) the version. */
static int check_module_header(const uint8_t *b, size_t len,
			       const char *magic, uint32_t want_version,
			       const char *what, char *err, size_t err_len)
{
	uint32_t version;

	if (len < TCB_MODULE_MAGIC_LEN ||
	    memcmp(b, magic, TCB_MODULE_MAGIC_LEN) != 0)
		return errmsg(err, err_len, "not a TCB %s module (no \"%s\" magic)",
			    what, magic);
	if (len < TCB_CERTS_HDR_LEN)
		return errmsg(err, err_len,
			    "TCB %s module of %zu bytes is shorter than its 12-byte header",
			    what, len);
	version = load_le32(b + TCB_MODULE_MAGIC_LEN);
	if (version != want_version)
		return errmsg(err, err_len,
			    "TCB %s module version %u is not supported (only %u)",
			    what, version, want_version);
	return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

int tcb_keys_parse(const void *buf, size_t len, struct tcb_keys *out,
		   char *err, size_t err_len)
{
	const uint8_t *b = buf;
	const uint8_t *sign, *kex;

	if (err && err_len)
		err[0] = '\0';
	if (check_module_header(b, len, TCB_KEYS_MAGIC, TCB_KEYS_VERSION, "key",
				err, err_len))
		return -1;
	if (len != TCB_KEYS_LEN)
		return errmsg(err, err_len,
			    "TCB key module is %zu bytes, not %u", len,
			    TCB_KEYS_LEN);
	sign = b + TCB_CERTS_HDR_LEN;
	kex = sign + TCB_PRIV_LEN;
	if (all_zero(sign, TCB_PRIV_LEN))
		return errmsg(err, err_len, "TCB signing private key is zero");
	if (all_zero(kex, TCB_PRIV_LEN))
		return errmsg(err, err_len,
			    "TCB key-agreement private key is zero");
	/* One key for both uses would undo the key separation the design
	 * asks for: refuse it even though either key alone would work. */
	if (memcmp(sign, kex, TCB_PRIV_LEN) == 0)
		return errmsg(err, err_len,
			    "TCB signing and key-agreement private keys are the same key");
	memcpy(out->sign_priv, sign, TCB_PRIV_LEN);
	memcpy(out->kex_priv, kex, TCB_PRIV_LEN);
	return 0;
}

/* One length-prefixed certificate at *off; advances *off past it. */
static int take_cert(const uint8_t *b, size_t len, size_t *off,
		     const char *what, const uint8_t **der, size_t *der_len,
		     char *err, size_t err_len)
{
	size_t left = len - *off;
	uint32_t n;

	if (left < 4)
		return errmsg(err, err_len,
			    "TCB certificate module truncated before the %s length",
			    what);
	n = load_le32(b + *off);
	if (n == 0 || n > TCB_CERT_MAX)
		return errmsg(err, err_len, "%s length %u is not in 1..%u", what,
			    n, TCB_CERT_MAX);
	if (n > left - 4)
		return errmsg(err, err_len,
			    "TCB certificate module truncated: %s of %u bytes, %zu present",
			    what, n, left - 4);
	if (der_check_sequence(b + *off + 4, n, what, err, err_len))
		return -1;
	*der = b + *off + 4;
	*der_len = n;
	*off += 4 + (size_t)n;
	return 0;
}

int tcb_certs_parse(const void *buf, size_t len, struct tcb_certs *out,
		    char *err, size_t err_len)
{
	const uint8_t *b = buf;
	struct tcb_certs c;
	size_t off = TCB_CERTS_HDR_LEN;

	if (err && err_len)
		err[0] = '\0';
	if (check_module_header(b, len, TCB_CERTS_MAGIC, TCB_CERTS_VERSION,
				"certificate", err, err_len))
		return -1;
	if (len > TCB_CERTS_MAX_SIZE)
		return errmsg(err, err_len,
			    "TCB certificate module of %zu bytes is over the %u-byte limit",
			    len, (unsigned)TCB_CERTS_MAX_SIZE);
	if (take_cert(b, len, &off, "TCB signing certificate", &c.sign_cert,
		      &c.sign_cert_len, err, err_len) ||
	    take_cert(b, len, &off, "TCB key-agreement certificate",
		      &c.kex_cert, &c.kex_cert_len, err, err_len))
		return -1;
	if (off != len)
		return errmsg(err, err_len,
			    "TCB certificate module has %zu trailing bytes",
			    len - off);
	if (c.sign_cert_len == c.kex_cert_len &&
	    memcmp(c.sign_cert, c.kex_cert, c.sign_cert_len) == 0)
		return errmsg(err, err_len,
			    "TCB signing and key-agreement certificates are the same certificate");
	*out = c;
	return 0;
}
