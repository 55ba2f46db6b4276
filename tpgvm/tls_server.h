/*
 * The TPGVM's TLS server identity and configuration (crypto/tls.h has the
 * profile): a P-384 key generated here at start, which never leaves the
 * TPGVM, its self-signed certificate, and client authentication against
 * the tenant CA roots of the signed policy, requiring the tenant role.
 */
#ifndef CUSTOS_TPGVM_TLS_SERVER_H
#define CUSTOS_TPGVM_TLS_SERVER_H

#include "crypto/tls.h"
#include "tcb/policy.h"

/* Set everything up; 0, or -1 with a reason in err. */
int tls_server_init(const struct tpgvm_policy *policy, char *err, size_t err_len);

/* The configuration every session is set up with. */
const mbedtls_ssl_config *tls_server_conf(void);

/* SHA-384 of our TLS key's SubjectPublicKeyInfo: what reports vouch for. */
const uint8_t *tls_server_key_hash(void);

#endif
