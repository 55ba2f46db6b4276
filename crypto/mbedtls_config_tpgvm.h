/*
 * mbedTLS 2.28 configuration of the TPGVM, freestanding: the hypervisor's
 * (crypto/mbedtls_config_kernel.h, included at the end) plus what only the
 * TPGVM runs: its TLS 1.2 server for tenant sessions, PEM, and the writing
 * of its self-signed TLS certificate (crypto/tls.c). crypto/crypto.mk
 * builds the TPGVM's mbedTLS with this file (CRYPTO_GUEST_OBJS) and the
 * hypervisor's without it: none of this is in build/custos.elf
 * (make tcb-size; docs/tcb-size.md).
 */
#ifndef CUSTOS_MBEDTLS_CONFIG_TPGVM_H
#define CUSTOS_MBEDTLS_CONFIG_TPGVM_H

/* ---- PEM ----------------------------------------------------------------- */
#define MBEDTLS_PEM_PARSE_C
#define MBEDTLS_BASE64_C

/* ---- TLS 1.2 server, ECDHE-ECDSA with AES-GCM only ----------------------- */
#define MBEDTLS_SSL_TLS_C
#define MBEDTLS_SSL_SRV_C
#define MBEDTLS_SSL_PROTO_TLS1_2
#define MBEDTLS_KEY_EXCHANGE_ECDHE_ECDSA_ENABLED
#define MBEDTLS_SSL_EXTENDED_MASTER_SECRET
#define MBEDTLS_SSL_KEEP_PEER_CERTIFICATE /* the tenant's certificate, after the handshake */
#define MBEDTLS_SSL_CIPHERSUITES \
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384

/* ---- The TPGVM's self-signed TLS certificate (crypto/tls.c) -------------- */
#define MBEDTLS_PK_WRITE_C
#define MBEDTLS_X509_CREATE_C
#define MBEDTLS_X509_CRT_WRITE_C

/* Everything the hypervisor has, and mbedtls/check_config.h. */
#include "crypto/mbedtls_config_kernel.h"

#endif
