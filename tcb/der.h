/*
 * The one structural check Custos' parsers make on a DER certificate before
 * handing it to the crypto layer: that the bytes are exactly one DER
 * SEQUENCE (tag 0x30, definite length in its shortest form, content filling
 * the rest). It catches a truncated, padded or mislabelled field early, with
 * a precise message, in code that has no crypto and is cheap to fuzz; the
 * real X.509 check is crypto_x509_verify().
 */
#ifndef CUSTOS_TCB_DER_H
#define CUSTOS_TCB_DER_H

#include <custos/types.h>

/* 0 if buf[0, len) is exactly one DER SEQUENCE, else -1 with a reason
 * ("what" names the field in the message). */
int der_check_sequence(const uint8_t *buf, size_t len, const char *what,
		       char *err, size_t err_len);

#endif
