/*
 * The enrollment module's structure (tcb/tpm_enroll.h). Read as every
 * Custos format: byte by byte, each length bounded before it is used,
 * nothing trailing. No crypto here, so the fuzzer takes it alone
 * (tcb/tpm_enroll_open.c decrypts).
 */
#include "tcb/tpm_enroll.h"
#include "tcb/byteorder.h"
#include "tcb/errmsg.h"

#include <string.h>

/* errmsg() returns -1, but the compiler cannot see it across files. */
#define refuse(...) (errmsg(__VA_ARGS__), -1)

struct reader {
	const uint8_t *b;
	size_t len, off;
};

/* A u16 length in lo..hi, then that many bytes. */
static int take(struct reader *r, size_t lo, size_t hi, const char *what,
		const uint8_t **field, size_t *n, char *err, size_t err_len)
{
	if (r->len - r->off < 2)
		return refuse(err, err_len, "enrollment module ends before the %s", what);
	*n = load_le16(r->b + r->off);
	if (*n < lo || *n > hi)
		return refuse(err, err_len, "enrollment %s of %zu bytes (%zu..%zu)",
			      what, *n, lo, hi);
	if (*n > r->len - r->off - 2)
		return refuse(err, err_len, "enrollment module ends inside the %s", what);
	*field = r->b + r->off + 2;
	r->off += 2 + *n;
	return 0;
}

static int take_fixed(struct reader *r, size_t n, const char *what,
		      const uint8_t **field, char *err, size_t err_len)
{
	if (r->len - r->off < n)
		return refuse(err, err_len, "enrollment module ends inside the %s", what);
	*field = r->b + r->off;
	r->off += n;
	return 0;
}

int tpm_enrollment_parse(const uint8_t *buf, size_t len,
			 struct tpm_enrollment *out, char *err, size_t err_len)
{
	struct reader r = { buf, len, 12 };
	struct tpm_enrollment e;
	size_t name_len;

	if (err && err_len)
		err[0] = '\0';
	if (len < 12 || memcmp(buf, ENROLL_MAGIC, 8) != 0)
		return refuse(err, err_len, "not an enrollment module (no \"%s\" magic)",
			      ENROLL_MAGIC);
	if (load_le32(buf + 8) != 1)
		return refuse(err, err_len, "enrollment module version %u (only 1)",
			      load_le32(buf + 8));
	if (take(&r, ENROLL_AK_NAME_LEN, ENROLL_AK_NAME_LEN, "attestation key name",
		 &e.ak_name, &name_len, err, err_len) ||
	    take(&r, 1, ENROLL_BLOB_MAX, "credential", &e.blob, &e.blob_len,
		 err, err_len) ||
	    take(&r, 1, ENROLL_SECRET_MAX, "encrypted secret", &e.secret,
		 &e.secret_len, err, err_len))
		return -1;
	e.aad_len = r.off;
	if (take_fixed(&r, ENROLL_NONCE_LEN, "nonce", &e.nonce, err, err_len) ||
	    take(&r, 1, ENROLL_CERT_MAX, "certificate", &e.cert_enc, &e.cert_len,
		 err, err_len) ||
	    take_fixed(&r, ENROLL_TAG_LEN, "tag", &e.tag, err, err_len))
		return -1;
	if (r.off != len)
		return refuse(err, err_len, "enrollment module has %zu trailing bytes",
			      len - r.off);
	*out = e;
	return 0;
}
