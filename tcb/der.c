/*
 * DER SEQUENCE shape check (X.690 8.1.2-8.1.3 and the DER rules of 10.1:
 * definite length, shortest encoding). Lengths above 2^32 are refused: no
 * certificate Custos carries is larger than 4 KiB.
 */
#include "tcb/der.h"
#include "tcb/errmsg.h"

#define DER_SEQUENCE 0x30u

int der_check_sequence(const uint8_t *buf, size_t len, const char *what,
		       char *err, size_t err_len)
{
	size_t hdr, content = 0;

	if (len < 2)
		return errmsg(err, err_len, "%s of %zu bytes is too short for DER",
			    what, len);
	if (buf[0] != DER_SEQUENCE)
		return errmsg(err, err_len,
			    "%s does not start with a DER SEQUENCE (tag 0x%02x)",
			    what, buf[0]);
	if (buf[1] < 0x80) {
		hdr = 2;
		content = buf[1];
	} else {
		/* 0x80 is the BER indefinite form, 0xff reserved; DER allows
		 * neither, and more than 4 length bytes is not a certificate. */
		size_t nlen = buf[1] & 0x7fu;

		if (nlen == 0 || nlen > 4)
			return errmsg(err, err_len,
				    "%s has a DER length of form 0x%02x (indefinite or over 4 bytes)",
				    what, buf[1]);
		if (len < 2 + nlen)
			return errmsg(err, err_len,
				    "%s is truncated inside its DER length", what);
		for (size_t i = 0; i < nlen; i++)
			content = content << 8 | buf[2 + i];
		if (buf[2] == 0 || content < 0x80)
			return errmsg(err, err_len,
				    "%s has a DER length not in its shortest form",
				    what);
		hdr = 2 + nlen;
	}
	if (content != len - hdr)
		return errmsg(err, err_len,
			    "%s: DER SEQUENCE of %zu content bytes in a field of %zu bytes",
			    what, content, len - hdr);
	return 0;
}
