/*
 * Read, without verifying anything, the few fields of an X.509 certificate
 * the tools show or need before a CA root is at hand: subject and issuer
 * common names, whether it is a CA, its Custos role, its P-384 key.
 *
 * Nothing read here is trusted: whenever the answer matters, the tools
 * check the certificate with crypto_x509_verify() against a root. This is
 * for messages ("signed by a tenant certificate", "subject CN=...") and for
 * `custos-station inspect` without --ca, whose signature check then only
 * says that the envelope matches the certificate inside it.
 */
#ifndef CUSTOS_TOOLS_X509_PEEK_H
#define CUSTOS_TOOLS_X509_PEEK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define X509_PEEK_CN_MAX 64

struct x509_peek {
	char subject_cn[X509_PEEK_CN_MAX + 1]; /* "" if none; sanitized */
	char issuer_cn[X509_PEEK_CN_MAX + 1];
	bool is_ca;         /* basicConstraints cA TRUE */
	int role;           /* enum crypto_role, 0 if none, -1 if several */
	bool have_pub;      /* the key is a P-384 EC key */
	uint8_t pub[97];    /* then: 04 || X || Y */
};

/* 0 and *out, or -1 with a one-line reason (not DER, not X.509 v3 shape). */
int x509_peek(const uint8_t *der, size_t len, struct x509_peek *out,
	      char *err, size_t err_len);

/* "station", "tcb-kex", ..., "none", "several roles". */
const char *x509_peek_role_name(int role);

#endif
