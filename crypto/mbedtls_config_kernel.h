/*
 * mbedTLS 2.28 configuration of the hypervisor (the TCB), freestanding.
 * Selected with -DMBEDTLS_CONFIG_FILE=... : it replaces mbedtls/config.h
 * entirely, so everything not enabled here is off. The TPGVM builds with
 * crypto/mbedtls_config_tpgvm.h, which is this file plus its TLS server,
 * PEM and certificate writing (crypto/crypto.mk builds the two apart).
 *
 * Only what the TCB calls (see crypto/crypto.h and docs/crypto.md):
 * SHA-256, SHA-384, HMAC, HKDF, AES-256-GCM, AES-CFB, a CTR-DRBG, P-384
 * ECDSA and ECDH, and X.509 as far as the TCB verifies certificates: DER
 * parsing, the chain to the CA root, key usage and the role OIDs. No TLS
 * (the TPGVM's), no PEM, no writing of keys or certificates (make tcb-size
 * fails if one is linked in; docs/tcb-size.md).
 *
 * No clock (no HAVE_TIME / HAVE_TIME_DATE): certificate validity dates are
 * not checked, deliberately (crypto.h says why). No files, no sockets, no
 * platform entropy: mbedtls_hardware_poll() (crypto/crypto.c) draws from
 * crypto_platform_entropy(), which the hypervisor or the TPGVM provides.
 * No XMM registers: AES-NI and the SIMD paths are off (the kernel is built
 * -mgeneral-regs-only and must not touch a guest's vector state).
 */
#ifndef CUSTOS_MBEDTLS_CONFIG_KERNEL_H
#define CUSTOS_MBEDTLS_CONFIG_KERNEL_H

/* ---- System ------------------------------------------------------------- */
#define MBEDTLS_HAVE_ASM          /* x86-64 mul/add in bignum: general registers only */
#define MBEDTLS_NO_UDBL_DIVISION  /* no 128-bit division: it would need libgcc's __udivti3 */
#define MBEDTLS_DEPRECATED_REMOVED

/* ---- Platform: our allocator, our snprintf, no libc -------------------- */
#define MBEDTLS_PLATFORM_C
#define MBEDTLS_PLATFORM_MEMORY          /* calloc/free set by crypto_init() */
#define MBEDTLS_PLATFORM_NO_STD_FUNCTIONS
#define MBEDTLS_PLATFORM_SNPRINTF_MACRO snprintf   /* lib/fmt.c */
#define MBEDTLS_PLATFORM_VSNPRINTF_MACRO vsnprintf /* lib/fmt.c */
#include <stdio.h> /* declares them, for files that do not include it */

/* ---- Entropy and DRBG --------------------------------------------------- */
#define MBEDTLS_ENTROPY_C
#define MBEDTLS_NO_PLATFORM_ENTROPY
#define MBEDTLS_ENTROPY_HARDWARE_ALT     /* mbedtls_hardware_poll in crypto.c */
#define MBEDTLS_CTR_DRBG_C               /* AES-256 (CTR_DRBG_USE_128_BIT_KEY off) */

/* ---- Hashes, MAC, KDF ---------------------------------------------------- */
#define MBEDTLS_MD_C
#define MBEDTLS_SHA256_C
#define MBEDTLS_SHA512_C                 /* gives SHA-384 */
#define MBEDTLS_HKDF_C

/* ---- AES-256-GCM --------------------------------------------------------- */
#define MBEDTLS_AES_C
#define MBEDTLS_AES_ROM_TABLES           /* tables in .rodata, no runtime init */
#define MBEDTLS_CIPHER_C
#define MBEDTLS_GCM_C
#define MBEDTLS_CIPHER_MODE_CFB          /* TPM 2.0 parameter encryption (tcb/tpm2_session.c) */

/* ---- P-384 --------------------------------------------------------------- */
#define MBEDTLS_BIGNUM_C
#define MBEDTLS_ECP_C
#define MBEDTLS_ECP_DP_SECP384R1_ENABLED
#define MBEDTLS_ECP_NIST_OPTIM           /* fast reduction modulo p384 */
#define MBEDTLS_ECDSA_C
#define MBEDTLS_ECDSA_DETERMINISTIC      /* RFC 6979 k: no key leak through a weak RNG */
#define MBEDTLS_HMAC_DRBG_C              /* ...which needs it */
#define MBEDTLS_ECDH_C
#define MBEDTLS_ECP_MAX_BITS 384
#define MBEDTLS_MPI_MAX_SIZE 512         /* bytes; P-384 needs far less */

/* ---- ASN.1, keys, X.509 -------------------------------------------------- */
#define MBEDTLS_ASN1_PARSE_C
#define MBEDTLS_ASN1_WRITE_C             /* ECDSA signatures are DER inside mbedTLS */
#define MBEDTLS_OID_C
#define MBEDTLS_PK_C
#define MBEDTLS_PK_PARSE_C
#define MBEDTLS_X509_USE_C
#define MBEDTLS_X509_CRT_PARSE_C
#define MBEDTLS_X509_CHECK_KEY_USAGE
#define MBEDTLS_X509_CHECK_EXTENDED_KEY_USAGE /* role OIDs (crypto_x509_verify) */
/* DER only (crypto_x509_*): no PEM_PARSE_C and BASE64_C in the TCB. */
#include "mbedtls/check_config.h"

#endif
