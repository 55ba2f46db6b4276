/*
 * The TPM 2.0 command marshaller and response parsers (tcb/tpm2_cmd.c).
 * The builders' bytes are compared with commands swtpm 0.7.1 (libtpms)
 * accepted; the parsers accept what that swtpm answered (the vectors
 * below, captured over its TCP data channel) and refuse, with a reason,
 * each truncation (against a guard page at both ends), trailing bytes,
 * wrong tags and sizes, error codes, and the fields a hostile bus could
 * change. The caller's outputs are untouched on refusal.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "crypto/crypto.h"
#include "tcb/tpm2_cmd.h"
#include "guarded.h"

/* Startup(CLEAR) a second time: TPM_RC_INITIALIZE. */
static const uint8_t rsp_startup_initialize[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x00,
};
/* GetRandom(32). */
static const uint8_t rsp_get_random_32[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20,
	0xce, 0xd2, 0x31, 0x1f, 0x1e, 0x4d, 0x7d, 0x2d, 0xb8, 0xae, 0x5f, 0x08,
	0x24, 0x6b, 0x1d, 0xf8, 0x48, 0x59, 0x8a, 0x4d, 0x63, 0x6d, 0x9c, 0x3d,
	0x9a, 0x9c, 0x65, 0x05, 0xcb, 0xd5, 0x36, 0x3d,
};
/* GetRandom(65): swtpm gives at most 64 bytes. */
static const uint8_t rsp_get_random_64[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x4c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40,
	0xfb, 0x77, 0xf1, 0x1f, 0x7f, 0x38, 0xb6, 0x90, 0x79, 0xfb, 0xcc, 0x8e,
	0x13, 0xc1, 0xa3, 0x59, 0x54, 0x3a, 0x95, 0x46, 0x5d, 0x5e, 0xc3, 0x85,
	0x09, 0x90, 0x05, 0x7d, 0xb7, 0x95, 0xa2, 0xda, 0xf7, 0xa7, 0xfe, 0xa5,
	0x9e, 0x64, 0x46, 0x40, 0xa3, 0x5d, 0xf9, 0x82, 0x09, 0x19, 0x44, 0x98,
	0x55, 0x4d, 0x01, 0x3f, 0x90, 0xd6, 0x8f, 0x4c, 0xf2, 0x05, 0x18, 0xa2,
	0x31, 0xb6, 0x36, 0xb8,
};
/* GetCapability(TPM_CAP_PCRS), fresh state: SHA-1, -256, -384, -512 all allocated. */
static const uint8_t rsp_banks_default[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x04, 0x00, 0x04, 0x03, 0xff, 0xff,
	0xff, 0x00, 0x0b, 0x03, 0xff, 0xff, 0xff, 0x00, 0x0c, 0x03, 0xff, 0xff,
	0xff, 0x00, 0x0d, 0x03, 0xff, 0xff, 0xff,
};
/* The same after swtpm_setup --pcr-banks sha256,sha384: every bank listed, the others empty. */
static const uint8_t rsp_banks_sha256_384[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x04, 0x00, 0x04, 0x03, 0x00, 0x00,
	0x00, 0x00, 0x0b, 0x03, 0xff, 0xff, 0xff, 0x00, 0x0c, 0x03, 0xff, 0xff,
	0xff, 0x00, 0x0d, 0x03, 0x00, 0x00, 0x00,
};
/* ... and --pcr-banks sha256: no SHA-384 PCRs. */
static const uint8_t rsp_banks_sha256[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x04, 0x00, 0x04, 0x03, 0x00, 0x00,
	0x00, 0x00, 0x0b, 0x03, 0xff, 0xff, 0xff, 0x00, 0x0c, 0x03, 0x00, 0x00,
	0x00, 0x00, 0x0d, 0x03, 0x00, 0x00, 0x00,
};
/* PCR_Extend(12): parameterSize 0, empty nonce, continueSession set, empty hmac. */
static const uint8_t rsp_pcr_extend[] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x13, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
};
/* PCR_Read(SHA-384, PCR 12) after Startup: zeros, pcrUpdateCounter 20. */
static const uint8_t rsp_pcr_read_12_before[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x4e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x14, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0c, 0x03, 0x00, 0x10, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* ... after extend_cmd: SHA-384(zeros || 00 01 .. 2f), counter 21. */
static const uint8_t rsp_pcr_read_12_after[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x4e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x15, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0c, 0x03, 0x00, 0x10, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x30, 0xfe, 0x83, 0xf7, 0x42, 0xd1, 0xca,
	0xb5, 0xc7, 0x09, 0xa0, 0xc4, 0x24, 0x72, 0x98, 0x31, 0xfb, 0xff, 0x9b,
	0x5b, 0xb9, 0x74, 0x8a, 0x61, 0x8f, 0x0b, 0x6e, 0xa0, 0x4f, 0xe1, 0xfd,
	0xe4, 0xd5, 0x46, 0xf4, 0x04, 0x0e, 0x7f, 0xc9, 0x58, 0x7b, 0x2e, 0x6b,
	0xad, 0xad, 0xa6, 0xc9, 0x41, 0xb0,
};
/* PCR_Read(SHA-384, PCR 12) with only SHA-256 allocated: an empty selection, no digests. */
static const uint8_t rsp_pcr_read_unallocated[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x14, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0c, 0x03, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00,
};
/* PCR_Extend(17) at locality 0. */
static const uint8_t rsp_locality[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x09, 0x07,
};
/* PCR_Extend(12) with the password "x". */
static const uint8_t rsp_bad_auth[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x09, 0xa2,
};

/* CreatePrimary of the AK (tpm2_build_create_ak) on a fresh state: handle
 * 0x80000000 and the same bytes on every call (the key is the seed's and the
 * template's); tpm2_createprimary -C e -g sha384 -G ecc384:ecdsa-sha384:null
 * -a 'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|restricted|sign'
 * makes the same key. */
static const uint8_t rsp_create_ak[] = {
	0x80, 0x02, 0x00, 0x00, 0x01, 0x88, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x71, 0x00, 0x78, 0x00, 0x23, 0x00, 0x0c,
	0x00, 0x05, 0x00, 0x72, 0x00, 0x00, 0x00, 0x10, 0x00, 0x18, 0x00, 0x0c,
	0x00, 0x04, 0x00, 0x10, 0x00, 0x30, 0x21, 0x47, 0x4a, 0xd7, 0x3f, 0x2b,
	0xff, 0x86, 0x9c, 0x43, 0x69, 0x9a, 0x20, 0xc8, 0x65, 0x5c, 0x69, 0xd0,
	0x85, 0x31, 0x8a, 0xb7, 0x3b, 0xaf, 0x08, 0x61, 0x23, 0xac, 0xc3, 0x30,
	0xee, 0x5f, 0x27, 0xda, 0xc7, 0xa0, 0x2c, 0x6b, 0xed, 0xc3, 0x43, 0x7a,
	0xfb, 0xa3, 0xd3, 0xce, 0x9c, 0x05, 0x00, 0x30, 0x65, 0x3e, 0xfd, 0xeb,
	0xa0, 0x1b, 0x26, 0x13, 0x23, 0xa3, 0x17, 0xe3, 0x2e, 0xd6, 0x03, 0xf6,
	0x18, 0xb5, 0x74, 0x6f, 0xd9, 0x5c, 0xec, 0x20, 0xca, 0x2a, 0x1a, 0x15,
	0x44, 0x40, 0x96, 0xfd, 0x78, 0x88, 0x65, 0xef, 0x8f, 0x0c, 0x62, 0x2a,
	0x7e, 0xb7, 0x24, 0x31, 0xa8, 0xe2, 0xe3, 0x9f, 0x00, 0x47, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x30, 0x38, 0xb0, 0x60, 0xa7, 0x51, 0xac, 0x96, 0x38,
	0x4c, 0xd9, 0x32, 0x7e, 0xb1, 0xb1, 0xe3, 0x6a, 0x21, 0xfd, 0xb7, 0x11,
	0x14, 0xbe, 0x07, 0x43, 0x4c, 0x0c, 0xc7, 0xbf, 0x63, 0xf6, 0xe1, 0xda,
	0x27, 0x4e, 0xde, 0xbf, 0xe7, 0x6f, 0x65, 0xfb, 0xd5, 0x1a, 0xd2, 0xf1,
	0x48, 0x98, 0xb9, 0x5b, 0x01, 0x00, 0x10, 0x00, 0x04, 0x40, 0x00, 0x00,
	0x0b, 0x00, 0x04, 0x40, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x30, 0x47,
	0x65, 0x58, 0xf7, 0xd9, 0xcf, 0x1b, 0xfc, 0x16, 0x35, 0x5c, 0x06, 0x6a,
	0x0f, 0x70, 0xd2, 0x34, 0xe8, 0x30, 0xf7, 0x06, 0xba, 0x19, 0xe4, 0x4f,
	0xe4, 0x72, 0xec, 0xf1, 0x15, 0x95, 0x6c, 0xc1, 0x40, 0xc2, 0x73, 0x4f,
	0x1f, 0x13, 0x9c, 0xa1, 0x70, 0x79, 0x48, 0x2f, 0x1a, 0x26, 0xc1, 0x80,
	0x21, 0x40, 0x00, 0x00, 0x0b, 0x00, 0x40, 0xc2, 0xb4, 0xfd, 0xa6, 0x55,
	0xf3, 0xdf, 0xde, 0x23, 0xe7, 0x65, 0x68, 0xfb, 0xfd, 0x8f, 0x15, 0xd0,
	0x94, 0xd5, 0x42, 0x65, 0x78, 0x48, 0x6e, 0x4a, 0xf4, 0x5d, 0x00, 0xf7,
	0xc3, 0xb0, 0x75, 0xfc, 0xbc, 0xa5, 0x56, 0x57, 0x25, 0x07, 0x96, 0x32,
	0xef, 0xf3, 0xb8, 0x6f, 0xf4, 0xa1, 0xaa, 0xdb, 0x5f, 0x27, 0x4e, 0x73,
	0xd7, 0x18, 0x6d, 0xfc, 0xc4, 0x33, 0xbd, 0x95, 0x47, 0x8c, 0x2b, 0x00,
	0x32, 0x00, 0x0c, 0x2f, 0x30, 0xf4, 0x7a, 0xdd, 0x13, 0x52, 0xd2, 0xd3,
	0x1b, 0xfc, 0xc5, 0x2c, 0xb7, 0x78, 0x41, 0x56, 0x02, 0x25, 0x50, 0xfd,
	0xfa, 0x0d, 0x97, 0x76, 0x74, 0xc3, 0x58, 0xa8, 0x1a, 0x90, 0x2e, 0x06,
	0xfd, 0xfe, 0x28, 0xdd, 0xd9, 0x1d, 0x3c, 0xe5, 0xd4, 0x8f, 0x23, 0x9a,
	0x8e, 0x31, 0xca, 0x00, 0x00, 0x01, 0x00, 0x00,
};

/* Quote of SHA-384 PCRs 0, 7, 12 by that AK, qualifying data a0 a1 .. bf
 * (quote_qualifying), after extend_cmd into PCR 12 and 48 bytes 0x77 into
 * PCR 7 (quote_pcr7). tpm2_checkquote accepts it. */
static const uint8_t rsp_quote[] = {
	0x80, 0x02, 0x00, 0x00, 0x01, 0x2e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x01, 0x1b, 0x00, 0xb1, 0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0x00, 0x32,
	0x00, 0x0c, 0x64, 0x26, 0xdc, 0x53, 0xc0, 0xbc, 0x35, 0xfb, 0x52, 0xc7,
	0x3c, 0xf4, 0x5f, 0xfd, 0xbc, 0x59, 0x58, 0xdb, 0xca, 0xf5, 0xb8, 0x21,
	0x81, 0x8b, 0x3c, 0x64, 0x6b, 0x6a, 0x26, 0xab, 0x45, 0x47, 0xdb, 0x81,
	0xf3, 0x11, 0xfd, 0x96, 0x16, 0xa4, 0xa0, 0xb2, 0x0a, 0xa7, 0xfa, 0x3c,
	0xcb, 0xf1, 0x00, 0x20, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
	0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3,
	0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x72, 0x00, 0x00, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x19, 0x10, 0x23, 0x00, 0x16, 0x36,
	0x36, 0x00, 0x00, 0x00, 0x01, 0x00, 0x0c, 0x03, 0x81, 0x10, 0x00, 0x00,
	0x30, 0xc8, 0x4c, 0x90, 0x9b, 0x9f, 0x2b, 0x5a, 0x63, 0xfb, 0xa8, 0x14,
	0x92, 0x79, 0x98, 0x8b, 0x72, 0x3c, 0xfb, 0xd4, 0x19, 0x4f, 0x10, 0x55,
	0x4d, 0x95, 0x5f, 0xfa, 0xe9, 0x2e, 0x6c, 0x6c, 0x9b, 0x1e, 0xa1, 0x10,
	0x04, 0x2d, 0xbf, 0xc2, 0x31, 0x50, 0x41, 0x02, 0xa6, 0x2b, 0xea, 0x9b,
	0x46, 0x00, 0x18, 0x00, 0x0c, 0x00, 0x30, 0x07, 0x37, 0xe5, 0xe4, 0x5c,
	0xfa, 0xea, 0x28, 0x57, 0x3c, 0xbd, 0x96, 0x08, 0xb5, 0xab, 0xc5, 0xcd,
	0x04, 0xcc, 0x27, 0x02, 0x27, 0x9a, 0x6f, 0x82, 0x5a, 0x24, 0xfa, 0x27,
	0x71, 0x5e, 0x24, 0xfb, 0x57, 0x4f, 0x1e, 0x6a, 0xab, 0x73, 0xb5, 0x26,
	0xf0, 0x40, 0x99, 0xd3, 0xf6, 0x1b, 0x4e, 0x00, 0x30, 0x16, 0x1d, 0x31,
	0xf5, 0x4d, 0x53, 0x77, 0x12, 0x05, 0x6c, 0x49, 0x6c, 0x91, 0x72, 0x67,
	0x3b, 0x68, 0x4d, 0xf9, 0x30, 0xfb, 0x09, 0x2e, 0x82, 0x44, 0x7e, 0x04,
	0x56, 0x95, 0x09, 0x36, 0x93, 0xe5, 0xcc, 0xa2, 0xe6, 0x7c, 0x06, 0xb2,
	0xbd, 0x88, 0xce, 0x1d, 0xb3, 0x39, 0xbc, 0x0f, 0xfe, 0x00, 0x00, 0x01,
	0x00, 0x00,
};
/* The first Quote after Startup: TPM_RC_RETRY (libtpms, every fresh start;
 * the same command then succeeds). */
static const uint8_t rsp_quote_retry[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x09, 0x22,
};
/* Quote with the AK flushed: TPM_RC_REFERENCE_H0. */
static const uint8_t rsp_quote_flushed[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x09, 0x10,
};
/* FlushContext of the AK, and of it again: TPM_RC_HANDLE, parameter 1. */
static const uint8_t rsp_flush[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t rsp_flush_again[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0xcb,
};

/*
 * Credential activation against swtpm 0.7.1 whose state swtpm_setup
 * --create-ek-cert made (an RSA EK certificate at 0x01c00002, 1016 bytes,
 * an ECC one at 0x01c00016), driven over its TCP data channel with these
 * commands (the builders' bytes) in this order: GetCapability
 * (TPM_PT_NV_BUFFER_MAX), NV_ReadPublic, NV_Read, CreatePrimary of the AK
 * and of the EK, StartAuthSession, PolicySecret, ActivateCredential.
 */
/* CreatePrimary of the EK: template L-1, unique 256 zero bytes. */
static const uint8_t cmd_create_ek[] = {
	0x80, 0x02, 0x00, 0x00, 0x01, 0x63, 0x00, 0x00, 0x01, 0x31, 0x40, 0x00,
	0x00, 0x0b, 0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x3a, 0x00,
	0x01, 0x00, 0x0b, 0x00, 0x03, 0x00, 0xb2, 0x00, 0x20, 0x83, 0x71, 0x97,
	0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7,
	0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda,
	0x1b, 0x33, 0x14, 0x69, 0xaa, 0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00,
	0x10, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
/* ActivateCredential(AK 0x80000000, EK 0x80000001, policy session
 * 0x03000000) of cred_blob and cred_secret. */
static const uint8_t cmd_activate[] = {
	0x80, 0x02, 0x00, 0x00, 0x01, 0x70, 0x00, 0x00, 0x01, 0x47, 0x80, 0x00,
	0x00, 0x00, 0x80, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x12, 0x40, 0x00,
	0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x44, 0x00, 0x20, 0xe8, 0xe5, 0x67, 0x30,
	0x35, 0x84, 0x1f, 0x26, 0xe0, 0xa3, 0xc5, 0x42, 0x75, 0x99, 0x0f, 0x33,
	0xbe, 0xd1, 0x29, 0x5e, 0xb4, 0xdd, 0x4c, 0xc5, 0xa8, 0xc3, 0x3a, 0x06,
	0x79, 0x1b, 0x27, 0x5b, 0x81, 0x5b, 0xba, 0x7c, 0xe7, 0x05, 0x0f, 0x2f,
	0x4c, 0xca, 0xec, 0xf4, 0xac, 0xe6, 0x87, 0x37, 0xb7, 0xdb, 0x47, 0x7d,
	0xb3, 0xb5, 0xb6, 0x09, 0x8c, 0x32, 0xf4, 0x90, 0xbe, 0x67, 0xb9, 0x42,
	0xcd, 0x41, 0x01, 0x00, 0x9e, 0x31, 0x1c, 0xf0, 0xa3, 0x07, 0x16, 0xae,
	0x22, 0x31, 0x22, 0x45, 0x82, 0x34, 0x69, 0x8e, 0x62, 0x38, 0xb9, 0x8e,
	0x94, 0x6f, 0xc1, 0x69, 0xba, 0xb6, 0x3e, 0xda, 0x92, 0xa8, 0x6b, 0x81,
	0x75, 0x58, 0xbb, 0x0e, 0x39, 0x1a, 0xd1, 0x14, 0x5b, 0xf7, 0x4d, 0xfd,
	0xab, 0xbb, 0xf2, 0x3b, 0xf5, 0xb2, 0xc2, 0x5e, 0xe7, 0x03, 0x9d, 0x2a,
	0xcc, 0x21, 0xa8, 0xa8, 0x5e, 0x9a, 0x07, 0x1f, 0x54, 0xa8, 0x35, 0x40,
	0x29, 0xcd, 0x04, 0x9d, 0x4e, 0x03, 0xb0, 0x00, 0xca, 0x63, 0xd9, 0x43,
	0x21, 0xb6, 0x24, 0x52, 0x2a, 0x4b, 0x1d, 0x48, 0x4b, 0x06, 0x24, 0xbb,
	0x2f, 0x23, 0x24, 0x46, 0xf6, 0xe0, 0x1d, 0x17, 0xa2, 0xe1, 0xb7, 0x66,
	0x74, 0xf3, 0xdc, 0x65, 0xa6, 0xc5, 0xac, 0x76, 0x69, 0xb7, 0xf2, 0xd5,
	0x1e, 0x44, 0x27, 0x06, 0xaa, 0xe4, 0xb4, 0xf0, 0xa5, 0x19, 0x34, 0x11,
	0x23, 0x76, 0xad, 0xb9, 0x55, 0x23, 0x6b, 0xb9, 0xbb, 0xd6, 0x68, 0x58,
	0xbc, 0x05, 0x21, 0x84, 0x60, 0x11, 0x66, 0x78, 0x3f, 0x0c, 0xd1, 0x04,
	0xf2, 0x49, 0x0c, 0x2f, 0xc4, 0xfc, 0xea, 0x84, 0xf1, 0x70, 0x1d, 0xc2,
	0x15, 0xee, 0x02, 0xee, 0x6b, 0xf7, 0xf6, 0xf7, 0x6d, 0xb0, 0x5b, 0x5e,
	0x1a, 0xe7, 0xd9, 0x2e, 0xb9, 0xb2, 0x51, 0x14, 0x48, 0x72, 0x43, 0xd8,
	0xa3, 0xc0, 0xa6, 0x2c, 0x41, 0x29, 0x4f, 0xfb, 0x4e, 0x4f, 0x54, 0x2f,
	0xfe, 0x2e, 0xe9, 0xa3, 0xa4, 0x44, 0xba, 0xef, 0x38, 0x24, 0x9f, 0x57,
	0x9f, 0x3b, 0xd1, 0x07, 0xaf, 0x1f, 0xeb, 0xdd, 0x87, 0xd6, 0x8d, 0x98,
	0xe3, 0xda, 0x2d, 0x24, 0x65, 0x63, 0xb0, 0x39, 0xf1, 0x3e, 0xe8, 0x17,
	0xe5, 0x41, 0x4c, 0x70, 0xfb, 0xba, 0x2b, 0xc4, 0x27, 0x3d, 0x8e, 0x6a,
	0xe2, 0xda, 0x8d, 0x82, 0xa3, 0x0f, 0xae, 0x7d,
};
/* GetCapability(TPM_PT_NV_BUFFER_MAX, 1): 1024, moreData set. */
static const uint8_t rsp_get_nv_buffer[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x1b, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x01, 0x2c, 0x00,
	0x00, 0x04, 0x00,
};
/* ... with propertyCount 2: TPM_PT_NV_BUFFER_MAX and TPM_PT_NV_INDEX_MAX (0). */
static const uint8_t rsp_get_nv_buffer_2[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x23, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x2c, 0x00,
	0x00, 0x04, 0x00, 0x00, 0x00, 0x01, 0x2d, 0x00, 0x00, 0x00, 0x00,
};
/* NV_ReadPublic(0x01c00002): nameAlg SHA-256, attributes 0x62072001
 * (PPWRITE, WRITEDEFINE, PPREAD, OWNERREAD, AUTHREAD, NO_DA, WRITTEN,
 * PLATFORMCREATE), no authPolicy, dataSize 1016, the 34-byte name. */
static const uint8_t rsp_nv_public_rsa[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e,
	0x01, 0xc0, 0x00, 0x02, 0x00, 0x0b, 0x62, 0x07, 0x20, 0x01, 0x00, 0x00,
	0x03, 0xf8, 0x00, 0x22, 0x00, 0x0b, 0x03, 0xf3, 0xac, 0x44, 0x67, 0x31,
	0x6d, 0x2d, 0x26, 0xa0, 0xac, 0x4b, 0xba, 0xf1, 0x23, 0x6a, 0x9c, 0xae,
	0x50, 0xfb, 0x1f, 0x70, 0xcf, 0x2e, 0x42, 0xe4, 0x22, 0xcd, 0x21, 0x08,
	0xb5, 0xd2,
};
/* NV_ReadPublic(0x01c00016): the ECC EK certificate's, 842 bytes. */
static const uint8_t rsp_nv_public_ecc[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0e,
	0x01, 0xc0, 0x00, 0x16, 0x00, 0x0b, 0x62, 0x07, 0x20, 0x01, 0x00, 0x00,
	0x03, 0x4a, 0x00, 0x22, 0x00, 0x0b, 0xc6, 0x78, 0x2c, 0x5d, 0xc8, 0xb8,
	0xe2, 0x79, 0x7d, 0x60, 0xf4, 0x4b, 0xd6, 0x93, 0x0b, 0x7d, 0xac, 0x87,
	0x72, 0x3e, 0x3b, 0x77, 0x2b, 0x35, 0xa1, 0x09, 0x5c, 0xad, 0x59, 0x99,
	0x71, 0x03,
};
/* NV_ReadPublic(0x01c0000a), no such index: TPM_RC_HANDLE, handle 1. */
static const uint8_t rsp_nv_public_missing[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x8b,
};
/* NV_Read(0x01c00002, 32 bytes at 0): the certificate's DER start. */
static const uint8_t rsp_nv_read_32[] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x35, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x22, 0x00, 0x20, 0x30, 0x82, 0x03, 0xf4, 0x30, 0x82, 0x02, 0x5c,
	0xa0, 0x03, 0x02, 0x01, 0x02, 0x02, 0x01, 0x04, 0x30, 0x0d, 0x06, 0x09,
	0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00, 0x30,
	0x00, 0x00, 0x01, 0x00, 0x00,
};
/* NV_Read(0x01c00002, 16 bytes at 1000): its last bytes. */
static const uint8_t rsp_nv_read_16[] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x25, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x12, 0x00, 0x10, 0x34, 0xaf, 0x53, 0x6f, 0xac, 0x80, 0x0e, 0xed,
	0x03, 0xf4, 0x15, 0x74, 0x4c, 0xf1, 0xee, 0x4e, 0x00, 0x00, 0x01, 0x00,
	0x00,
};
/* NV_Read(0x01c00002, 32 bytes at 1000): past dataSize, TPM_RC_NV_RANGE. */
static const uint8_t rsp_nv_range[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0x46,
};
/* CreatePrimary of the AK in that state: handle 0x80000000; its Name is
 * ak_name. */
static const uint8_t rsp_ekx_create_ak[] = {
	0x80, 0x02, 0x00, 0x00, 0x01, 0x88, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x71, 0x00, 0x78, 0x00, 0x23, 0x00, 0x0c,
	0x00, 0x05, 0x00, 0x72, 0x00, 0x00, 0x00, 0x10, 0x00, 0x18, 0x00, 0x0c,
	0x00, 0x04, 0x00, 0x10, 0x00, 0x30, 0xf9, 0x0b, 0x40, 0xf6, 0x06, 0x1d,
	0x2d, 0x1a, 0x04, 0x90, 0xed, 0x02, 0xce, 0x97, 0xdf, 0xa5, 0x9f, 0xc1,
	0x52, 0x1b, 0x16, 0x6a, 0x09, 0x2e, 0x40, 0x01, 0xce, 0xf8, 0x2d, 0x9d,
	0x37, 0x95, 0xbb, 0xe2, 0x30, 0x58, 0x64, 0x87, 0x59, 0x8d, 0xfd, 0x84,
	0x0b, 0x9e, 0x5d, 0x2c, 0x61, 0xee, 0x00, 0x30, 0xaf, 0xb4, 0xb9, 0xb4,
	0xfc, 0xda, 0x4e, 0x6a, 0xb4, 0x10, 0x49, 0x0c, 0xa6, 0xad, 0xd1, 0xf0,
	0x9a, 0x4d, 0x7c, 0x52, 0xee, 0xa2, 0x3d, 0x83, 0x34, 0x9a, 0x7a, 0x2b,
	0x54, 0x9d, 0xfb, 0x08, 0x12, 0x47, 0x84, 0xd0, 0x94, 0x09, 0xd6, 0x01,
	0x16, 0x99, 0xb3, 0x0b, 0xb8, 0x2b, 0xe6, 0x2b, 0x00, 0x47, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x30, 0x38, 0xb0, 0x60, 0xa7, 0x51, 0xac, 0x96, 0x38,
	0x4c, 0xd9, 0x32, 0x7e, 0xb1, 0xb1, 0xe3, 0x6a, 0x21, 0xfd, 0xb7, 0x11,
	0x14, 0xbe, 0x07, 0x43, 0x4c, 0x0c, 0xc7, 0xbf, 0x63, 0xf6, 0xe1, 0xda,
	0x27, 0x4e, 0xde, 0xbf, 0xe7, 0x6f, 0x65, 0xfb, 0xd5, 0x1a, 0xd2, 0xf1,
	0x48, 0x98, 0xb9, 0x5b, 0x01, 0x00, 0x10, 0x00, 0x04, 0x40, 0x00, 0x00,
	0x0b, 0x00, 0x04, 0x40, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x30, 0x47,
	0x65, 0x58, 0xf7, 0xd9, 0xcf, 0x1b, 0xfc, 0x16, 0x35, 0x5c, 0x06, 0x6a,
	0x0f, 0x70, 0xd2, 0x34, 0xe8, 0x30, 0xf7, 0x06, 0xba, 0x19, 0xe4, 0x4f,
	0xe4, 0x72, 0xec, 0xf1, 0x15, 0x95, 0x6c, 0xc1, 0x40, 0xc2, 0x73, 0x4f,
	0x1f, 0x13, 0x9c, 0xa1, 0x70, 0x79, 0x48, 0x2f, 0x1a, 0x26, 0xc1, 0x80,
	0x21, 0x40, 0x00, 0x00, 0x0b, 0x00, 0x40, 0xde, 0x29, 0x99, 0xac, 0x72,
	0xc2, 0x70, 0x34, 0x1a, 0x0c, 0xfa, 0xf8, 0x0c, 0x72, 0x49, 0xbb, 0x4c,
	0x5e, 0x2f, 0x98, 0x81, 0xe8, 0x3d, 0x4c, 0xb8, 0xd1, 0x7f, 0x0b, 0x40,
	0x65, 0x07, 0xdc, 0xc1, 0x51, 0xc3, 0x80, 0xd0, 0x34, 0xfa, 0x73, 0xcc,
	0x82, 0x8d, 0x0d, 0x0f, 0xda, 0xaf, 0x09, 0x4a, 0xd3, 0xc6, 0x23, 0x90,
	0xfb, 0x9c, 0x9c, 0x65, 0x63, 0x19, 0x5e, 0x79, 0xa1, 0x0b, 0x51, 0x00,
	0x32, 0x00, 0x0c, 0xe2, 0xd3, 0xd6, 0x4d, 0x84, 0xd3, 0x90, 0x0f, 0x2e,
	0xec, 0x0a, 0x59, 0x2a, 0xec, 0x15, 0x40, 0xb4, 0xff, 0x73, 0x65, 0x05,
	0x2e, 0x9a, 0x29, 0xf2, 0x2f, 0xd2, 0x1e, 0x24, 0x46, 0xb9, 0xb3, 0x82,
	0x72, 0xf1, 0x6f, 0xc2, 0xc4, 0xb5, 0x74, 0x5c, 0x3d, 0x2a, 0x52, 0x74,
	0xad, 0x71, 0xda, 0x00, 0x00, 0x01, 0x00, 0x00,
};
/* CreatePrimary of the EK: handle 0x80000001; tpm2_createek -G rsa -u
 * ek.pub against the same swtpm writes the same TPM2B_PUBLIC. */
static const uint8_t rsp_create_ek[] = {
	0x80, 0x02, 0x00, 0x00, 0x02, 0x1a, 0x00, 0x00, 0x00, 0x00, 0x80, 0x00,
	0x00, 0x01, 0x00, 0x00, 0x02, 0x03, 0x01, 0x3a, 0x00, 0x01, 0x00, 0x0b,
	0x00, 0x03, 0x00, 0xb2, 0x00, 0x20, 0x83, 0x71, 0x97, 0x67, 0x44, 0x84,
	0xb3, 0xf8, 0x1a, 0x90, 0xcc, 0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52,
	0xd7, 0x6e, 0x06, 0x52, 0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14,
	0x69, 0xaa, 0x00, 0x06, 0x00, 0x80, 0x00, 0x43, 0x00, 0x10, 0x08, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0xaa, 0x2f, 0x4b, 0xfb, 0x06, 0x3e,
	0xb5, 0x41, 0xa2, 0x00, 0x04, 0x04, 0x79, 0x98, 0x0a, 0x34, 0x35, 0x47,
	0x1b, 0x43, 0x49, 0xc5, 0x2f, 0x70, 0x56, 0xcf, 0x9d, 0x41, 0x69, 0x81,
	0xdf, 0x31, 0x97, 0x43, 0x7d, 0x13, 0xf6, 0x74, 0xa4, 0x5f, 0x44, 0xf7,
	0xff, 0x95, 0xec, 0x51, 0x6f, 0x30, 0xc7, 0x7f, 0xaa, 0x2b, 0x0c, 0x0c,
	0x70, 0x50, 0xe2, 0x90, 0x0e, 0xf9, 0xa7, 0xe5, 0x36, 0x79, 0xdb, 0xb3,
	0x8c, 0x36, 0x34, 0x20, 0x52, 0xbf, 0x72, 0x02, 0xbb, 0xed, 0x2a, 0x29,
	0x6f, 0x37, 0xfa, 0x86, 0xd9, 0xeb, 0x2a, 0xd9, 0x1b, 0x68, 0x89, 0xc0,
	0xa4, 0x8c, 0xe1, 0xc2, 0xd5, 0xe7, 0xd7, 0x20, 0xc0, 0xdb, 0xe2, 0x25,
	0x9c, 0xa9, 0xd1, 0x06, 0xd3, 0xe7, 0x1a, 0x4f, 0xb8, 0x9a, 0x10, 0x88,
	0x62, 0x2d, 0x1e, 0x04, 0xdf, 0x26, 0x06, 0x85, 0xf1, 0x79, 0xad, 0xed,
	0x9e, 0xcd, 0xe9, 0x28, 0xd3, 0xe5, 0x17, 0xed, 0x69, 0x84, 0xcd, 0x14,
	0x98, 0xff, 0x65, 0xbf, 0xfb, 0x2b, 0x48, 0x8e, 0x96, 0x2e, 0xb6, 0x59,
	0x5c, 0x37, 0x44, 0x4a, 0x8e, 0xf1, 0x1d, 0x5f, 0xbe, 0x72, 0x0f, 0x67,
	0x15, 0x00, 0x5f, 0x48, 0xf7, 0xb9, 0xf1, 0x6c, 0xf7, 0x63, 0xd0, 0xf4,
	0xda, 0xf0, 0x45, 0x68, 0x63, 0xf7, 0x10, 0x81, 0xc8, 0xd9, 0xb0, 0x91,
	0x9a, 0xa6, 0x40, 0x55, 0x21, 0xb1, 0x7e, 0x2a, 0xc0, 0x5a, 0xb1, 0xe7,
	0xda, 0x46, 0x79, 0x06, 0xd3, 0xcc, 0xd7, 0x5e, 0x91, 0x11, 0xe3, 0x77,
	0xd5, 0xa8, 0x95, 0x58, 0x3d, 0x98, 0x55, 0xc2, 0x0f, 0x1d, 0x6a, 0x8a,
	0x7b, 0x55, 0x98, 0xf7, 0xd4, 0xdf, 0x23, 0x77, 0xef, 0x6f, 0xbc, 0xb6,
	0x42, 0x05, 0x1f, 0x1e, 0x66, 0x88, 0x0d, 0x24, 0x37, 0x8e, 0x41, 0xe8,
	0xac, 0x04, 0xea, 0xe6, 0x0f, 0xb9, 0xce, 0xe7, 0x2b, 0x2d, 0x00, 0x37,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x20, 0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc,
	0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24, 0x27, 0xae,
	0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52,
	0xb8, 0x55, 0x01, 0x00, 0x10, 0x00, 0x04, 0x40, 0x00, 0x00, 0x0b, 0x00,
	0x04, 0x40, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x00, 0x20, 0x28, 0xd0, 0x26,
	0xfa, 0xfd, 0x74, 0x91, 0x06, 0x74, 0x3e, 0x27, 0xc4, 0x28, 0x05, 0x51,
	0x58, 0x5e, 0x5d, 0x17, 0x66, 0x8e, 0xb5, 0x21, 0x83, 0x5e, 0xd6, 0x01,
	0x27, 0xef, 0xfc, 0x05, 0xd4, 0x80, 0x21, 0x40, 0x00, 0x00, 0x0b, 0x00,
	0x40, 0x83, 0x41, 0xd0, 0xd3, 0x3a, 0xfb, 0x0c, 0xaa, 0x23, 0xd1, 0xb5,
	0x33, 0x03, 0x3a, 0x33, 0x0f, 0xf0, 0xd7, 0x23, 0x9d, 0x4a, 0xf1, 0x56,
	0xda, 0xeb, 0xbe, 0xac, 0xd6, 0xb5, 0x91, 0x38, 0x4d, 0xc3, 0xac, 0xe2,
	0x0c, 0xa5, 0xae, 0xcc, 0x52, 0x1f, 0x9d, 0x2b, 0xbd, 0xe8, 0xec, 0xe4,
	0xdb, 0xda, 0x00, 0xaf, 0x04, 0x7f, 0xcc, 0x2d, 0x04, 0xc9, 0x28, 0xb8,
	0x70, 0xa4, 0xea, 0x03, 0xe4, 0x00, 0x22, 0x00, 0x0b, 0xc4, 0x4d, 0x49,
	0xe8, 0xa0, 0x89, 0xf7, 0x50, 0x36, 0x7d, 0xc5, 0xaf, 0x25, 0xee, 0xf7,
	0x01, 0xf5, 0x57, 0xc1, 0x5f, 0xbd, 0x17, 0x2c, 0x1c, 0x47, 0x4b, 0xde,
	0x80, 0xea, 0x0d, 0x12, 0x4d, 0x00, 0x00, 0x01, 0x00, 0x00,
};
/* StartAuthSession (policy, nonce_caller): handle 0x03000000, and a
 * nonceTPM of 16 bytes: libtpms makes it nonceCaller's size, not
 * SHA-256's. */
static const uint8_t rsp_start_session[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00,
	0x00, 0x00, 0x00, 0x10, 0x6a, 0xce, 0x62, 0x78, 0x2e, 0x4d, 0xb8, 0x60,
	0x97, 0x8c, 0xaa, 0x17, 0xfc, 0x42, 0x53, 0x32,
};
/* PolicySecret(TPM_RH_ENDORSEMENT, 0x03000000): empty timeout, a NULL
 * ticket (TPM_ST_AUTH_SECRET, TPM_RH_NULL, empty digest). */
static const uint8_t rsp_policy_secret[] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x0a, 0x00, 0x00, 0x80, 0x23, 0x40, 0x00, 0x00, 0x07, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x00,
};
/* The first ActivateCredential: TPM_RC_RETRY (libtpms; the same command
 * again, same policy session, then succeeds). */
static const uint8_t rsp_activate_retry[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x09, 0x22,
};
/* ... and the second: certInfo is cred_plain, then the password session's
 * auth area and the policy session's (a 16-byte nonceTPM, attributes 0,
 * empty hmac). */
static const uint8_t rsp_activate[] = {
	0x80, 0x02, 0x00, 0x00, 0x00, 0x4a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x22, 0x00, 0x20, 0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47,
	0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53,
	0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
	0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x10, 0x92, 0x5a, 0x71, 0x26, 0xb0,
	0xb4, 0x0f, 0x68, 0xb3, 0xb3, 0xb5, 0x91, 0x12, 0x66, 0xed, 0x95, 0x00,
	0x00, 0x00,
};
/* tpm2_makecredential --tcti none -e ek.pub -s secret.bin -n <ak_name hex>
 * -o cred.out (tpm2-tools 5.4), secret.bin cred_plain: cred.out is
 * be32 0xbadcc0de, be32 1, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET; these
 * are the two TPM2Bs' contents. */
static const uint8_t cred_blob[] = {
	0x00, 0x20, 0xe8, 0xe5, 0x67, 0x30, 0x35, 0x84, 0x1f, 0x26, 0xe0, 0xa3,
	0xc5, 0x42, 0x75, 0x99, 0x0f, 0x33, 0xbe, 0xd1, 0x29, 0x5e, 0xb4, 0xdd,
	0x4c, 0xc5, 0xa8, 0xc3, 0x3a, 0x06, 0x79, 0x1b, 0x27, 0x5b, 0x81, 0x5b,
	0xba, 0x7c, 0xe7, 0x05, 0x0f, 0x2f, 0x4c, 0xca, 0xec, 0xf4, 0xac, 0xe6,
	0x87, 0x37, 0xb7, 0xdb, 0x47, 0x7d, 0xb3, 0xb5, 0xb6, 0x09, 0x8c, 0x32,
	0xf4, 0x90, 0xbe, 0x67, 0xb9, 0x42, 0xcd, 0x41,
};
static const uint8_t cred_secret[] = {
	0x9e, 0x31, 0x1c, 0xf0, 0xa3, 0x07, 0x16, 0xae, 0x22, 0x31, 0x22, 0x45,
	0x82, 0x34, 0x69, 0x8e, 0x62, 0x38, 0xb9, 0x8e, 0x94, 0x6f, 0xc1, 0x69,
	0xba, 0xb6, 0x3e, 0xda, 0x92, 0xa8, 0x6b, 0x81, 0x75, 0x58, 0xbb, 0x0e,
	0x39, 0x1a, 0xd1, 0x14, 0x5b, 0xf7, 0x4d, 0xfd, 0xab, 0xbb, 0xf2, 0x3b,
	0xf5, 0xb2, 0xc2, 0x5e, 0xe7, 0x03, 0x9d, 0x2a, 0xcc, 0x21, 0xa8, 0xa8,
	0x5e, 0x9a, 0x07, 0x1f, 0x54, 0xa8, 0x35, 0x40, 0x29, 0xcd, 0x04, 0x9d,
	0x4e, 0x03, 0xb0, 0x00, 0xca, 0x63, 0xd9, 0x43, 0x21, 0xb6, 0x24, 0x52,
	0x2a, 0x4b, 0x1d, 0x48, 0x4b, 0x06, 0x24, 0xbb, 0x2f, 0x23, 0x24, 0x46,
	0xf6, 0xe0, 0x1d, 0x17, 0xa2, 0xe1, 0xb7, 0x66, 0x74, 0xf3, 0xdc, 0x65,
	0xa6, 0xc5, 0xac, 0x76, 0x69, 0xb7, 0xf2, 0xd5, 0x1e, 0x44, 0x27, 0x06,
	0xaa, 0xe4, 0xb4, 0xf0, 0xa5, 0x19, 0x34, 0x11, 0x23, 0x76, 0xad, 0xb9,
	0x55, 0x23, 0x6b, 0xb9, 0xbb, 0xd6, 0x68, 0x58, 0xbc, 0x05, 0x21, 0x84,
	0x60, 0x11, 0x66, 0x78, 0x3f, 0x0c, 0xd1, 0x04, 0xf2, 0x49, 0x0c, 0x2f,
	0xc4, 0xfc, 0xea, 0x84, 0xf1, 0x70, 0x1d, 0xc2, 0x15, 0xee, 0x02, 0xee,
	0x6b, 0xf7, 0xf6, 0xf7, 0x6d, 0xb0, 0x5b, 0x5e, 0x1a, 0xe7, 0xd9, 0x2e,
	0xb9, 0xb2, 0x51, 0x14, 0x48, 0x72, 0x43, 0xd8, 0xa3, 0xc0, 0xa6, 0x2c,
	0x41, 0x29, 0x4f, 0xfb, 0x4e, 0x4f, 0x54, 0x2f, 0xfe, 0x2e, 0xe9, 0xa3,
	0xa4, 0x44, 0xba, 0xef, 0x38, 0x24, 0x9f, 0x57, 0x9f, 0x3b, 0xd1, 0x07,
	0xaf, 0x1f, 0xeb, 0xdd, 0x87, 0xd6, 0x8d, 0x98, 0xe3, 0xda, 0x2d, 0x24,
	0x65, 0x63, 0xb0, 0x39, 0xf1, 0x3e, 0xe8, 0x17, 0xe5, 0x41, 0x4c, 0x70,
	0xfb, 0xba, 0x2b, 0xc4, 0x27, 0x3d, 0x8e, 0x6a, 0xe2, 0xda, 0x8d, 0x82,
	0xa3, 0x0f, 0xae, 0x7d,
};
/* 0x000c || SHA-384 of rsp_ekx_create_ak's TPMT_PUBLIC. */
static const uint8_t ak_name[] = {
	0x00, 0x0c, 0xe2, 0xd3, 0xd6, 0x4d, 0x84, 0xd3, 0x90, 0x0f, 0x2e, 0xec,
	0x0a, 0x59, 0x2a, 0xec, 0x15, 0x40, 0xb4, 0xff, 0x73, 0x65, 0x05, 0x2e,
	0x9a, 0x29, 0xf2, 0x2f, 0xd2, 0x1e, 0x24, 0x46, 0xb9, 0xb3, 0x82, 0x72,
	0xf1, 0x6f, 0xc2, 0xc4, 0xb5, 0x74, 0x5c, 0x3d, 0x2a, 0x52, 0x74, 0xad,
	0x71, 0xda,
};
/* ActivateCredential with the policy session not satisfied (no
 * PolicySecret), and with a credential blob changed. */
static const uint8_t rsp_activate_policy_fail[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x0a, 0x9d,
};
static const uint8_t rsp_activate_integrity[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x01, 0xdf,
};

/* PCR_Extend(12) of this digest is the command swtpm accepted. */
static const uint8_t extend_digest[TPM2_SHA384_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
	0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
	0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23,
	0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
};

static const uint8_t rsp_startup_success[] = {
	0x80, 0x01, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00,
};

/* The qualifying data of rsp_quote. */
static const uint8_t quote_qualifying[32] = {
	0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
	0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
	0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
};

/* Where rsp_create_ak's fields are: parameterSize, the TPMT_PUBLIC, its
 * coordinates (after their sizes), creationData. */
#define AK_PARAMS   14
#define AK_PUB      20
#define AK_PUB_LEN  120
#define AK_X        (AK_PUB + 22)
#define AK_Y        (AK_PUB + 72)
#define AK_CREATION (AK_PUB + AK_PUB_LEN)
/* ... and rsp_quote's: parameterSize, quoted, the signature's fields. */
#define Q_PARAMS     10
#define Q_ATTEST     16
#define Q_ATTEST_LEN 177
#define Q_SIG_ALG    (Q_ATTEST + Q_ATTEST_LEN)
#define Q_R          (Q_SIG_ALG + 6)
#define Q_S          (Q_R + 50)

enum parser {
	STARTUP, GET_RANDOM, PCR_BANKS, PCR_EXTEND, PCR_READ, CREATE_AK, QUOTE,
	FLUSH, GET_PROPERTY, NV_PUBLIC, NV_READ32, NV_READ16, CREATE_EK,
	START_SESSION, POLICY_SECRET, ACTIVATE,
	PARSERS /* their count */
};

static const struct vector {
	enum parser parser;
	const uint8_t *rsp;
	size_t len;
} good[] = {
	{ STARTUP, rsp_startup_success, sizeof(rsp_startup_success) },
	{ STARTUP, rsp_startup_initialize, sizeof(rsp_startup_initialize) },
	{ GET_RANDOM, rsp_get_random_32, sizeof(rsp_get_random_32) },
	{ GET_RANDOM, rsp_get_random_64, sizeof(rsp_get_random_64) },
	{ PCR_BANKS, rsp_banks_default, sizeof(rsp_banks_default) },
	{ PCR_BANKS, rsp_banks_sha256_384, sizeof(rsp_banks_sha256_384) },
	{ PCR_BANKS, rsp_banks_sha256, sizeof(rsp_banks_sha256) },
	{ PCR_EXTEND, rsp_pcr_extend, sizeof(rsp_pcr_extend) },
	{ PCR_READ, rsp_pcr_read_12_before, sizeof(rsp_pcr_read_12_before) },
	{ PCR_READ, rsp_pcr_read_12_after, sizeof(rsp_pcr_read_12_after) },
	{ CREATE_AK, rsp_create_ak, sizeof(rsp_create_ak) },
	{ QUOTE, rsp_quote, sizeof(rsp_quote) },
	{ FLUSH, rsp_flush, sizeof(rsp_flush) },
	{ GET_PROPERTY, rsp_get_nv_buffer, sizeof(rsp_get_nv_buffer) },
	{ NV_PUBLIC, rsp_nv_public_rsa, sizeof(rsp_nv_public_rsa) },
	{ NV_READ32, rsp_nv_read_32, sizeof(rsp_nv_read_32) },
	{ NV_READ16, rsp_nv_read_16, sizeof(rsp_nv_read_16) },
	{ CREATE_AK, rsp_ekx_create_ak, sizeof(rsp_ekx_create_ak) },
	{ CREATE_EK, rsp_create_ek, sizeof(rsp_create_ek) },
	{ START_SESSION, rsp_start_session, sizeof(rsp_start_session) },
	{ POLICY_SECRET, rsp_policy_secret, sizeof(rsp_policy_secret) },
	{ ACTIVATE, rsp_activate, sizeof(rsp_activate) },
};

#define N_GOOD (sizeof(good) / sizeof(good[0]))

static uint8_t m[TPM2_BUFFER_MAX + 16]; /* a vector to change */

/* Any parser, with PCR 12, room for 64 random bytes, the RSA EK
 * certificate's index, reads of 32 and 16 bytes. */
static int parse(enum parser p, const uint8_t *rsp, size_t len, char *err,
		 size_t err_len)
{
	uint8_t out[64];
	uint32_t map;
	uint16_t size;
	size_t got;
	struct tpm2_ak ak;
	struct tpm2_quote q;
	struct tpm2_ek ek;
	struct tpm2_policy_session s;

	switch (p) {
	case STARTUP:
		return tpm2_parse_startup(rsp, len, err, err_len);
	case GET_RANDOM:
		return tpm2_parse_get_random(rsp, len, out, sizeof(out), &got,
					     err, err_len);
	case PCR_BANKS:
		return tpm2_parse_get_pcr_banks(rsp, len, &map, err, err_len);
	case PCR_EXTEND:
		return tpm2_parse_pcr_extend(rsp, len, err, err_len);
	case PCR_READ:
		return tpm2_parse_pcr_read_sha384(rsp, len, 12, out, err, err_len);
	case CREATE_AK:
		return tpm2_parse_create_ak(rsp, len, &ak, err, err_len);
	case QUOTE:
		return tpm2_parse_quote(rsp, len, &q, err, err_len);
	case FLUSH:
		return tpm2_parse_flush_context(rsp, len, err, err_len);
	case GET_PROPERTY:
		return tpm2_parse_get_property(rsp, len, TPM2_PT_NV_BUFFER_MAX,
					       &map, err, err_len);
	case NV_PUBLIC:
		return tpm2_parse_nv_read_public(rsp, len, TPM2_NV_EK_CERT_RSA,
						 &size, &map, err, err_len);
	case NV_READ32:
		return tpm2_parse_nv_read(rsp, len, out, 32, err, err_len);
	case NV_READ16:
		return tpm2_parse_nv_read(rsp, len, out, 16, err, err_len);
	case CREATE_EK:
		return tpm2_parse_create_ek(rsp, len, &ek, err, err_len);
	case START_SESSION:
		return tpm2_parse_start_policy_session(rsp, len, &s, err, err_len);
	case POLICY_SECRET:
		return tpm2_parse_policy_secret(rsp, len, err, err_len);
	case ACTIVATE:
		return tpm2_parse_activate_credential(rsp, len, out, &got, err,
						      err_len);
	case PARSERS:
		break;
	}
	return 99;
}

static void set_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void set_be32(uint8_t *p, uint32_t v)
{
	set_be16(p, (uint16_t)(v >> 16));
	set_be16(p + 2, (uint16_t)v);
}

/* A response into m: tag, rc and body, its size field right. */
static size_t make_rsp(uint16_t tag, uint32_t rc, const uint8_t *body,
		       size_t body_len)
{
	set_be16(m, tag);
	set_be32(m + 2, (uint32_t)(TPM2_HEADER_LEN + body_len));
	set_be32(m + 6, rc);
	if (body_len) /* memcpy from NULL is undefined even for 0 bytes */
		memcpy(m + TPM2_HEADER_LEN, body, body_len);
	return TPM2_HEADER_LEN + body_len;
}

/* The first len bytes of src (zeros past its end) into m, the size field
 * saying len. */
static size_t resized(const uint8_t *src, size_t src_len, size_t len)
{
	memset(m, 0, sizeof(m));
	memcpy(m, src, src_len < len ? src_len : len);
	set_be32(m + 2, (uint32_t)len);
	return len;
}

static void expect_refused(enum parser p, const uint8_t *rsp, size_t len,
			   const char *want)
{
	char err[200];

	memset(err, 'x', sizeof(err));
	assert_int_equal(parse(p, rsp, len, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("refused with '%s', expected '%s'", err, want);
	assert_int_equal(parse(p, rsp, len, NULL, 0), -1);
}

/* --- Builders ----------------------------------------------------------- */

/* The command of len bytes fits cap == len exactly (at the end of a
 * guarded page) and nothing is written with one byte less. */
static void check_cap(size_t (*build)(uint8_t *, size_t), size_t len)
{
	struct guarded g;
	uint8_t *p;

	guarded_init(&g, len);
	memset(m, 0xa5, len);
	p = guarded_fill(&g, m, len, 1);
	assert_int_equal(build(p, len), len);
	p = guarded_fill(&g, m, len - 1, 1);
	assert_int_equal(build(p, len - 1), 0);
	for (size_t i = 0; i < len - 1; i++)
		assert_int_equal(p[i], 0xa5);
	assert_int_equal(build(p, 0), 0);
	guarded_free(&g);
}

static size_t startup_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_startup_clear(buf, cap);
}

static size_t random_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_get_random(buf, cap, 32);
}

static size_t banks_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_get_pcr_banks(buf, cap);
}

static size_t extend_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_pcr_extend_sha384(buf, cap, 12, extend_digest);
}

static size_t read_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_pcr_read_sha384(buf, cap, 12);
}

static void test_build_startup(void **state)
{
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x44,
		0x00, 0x00,
	};
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(tpm2_build_startup_clear(buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	check_cap(startup_in, sizeof(want));
}

static void test_build_get_random(void **state)
{
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x01, 0x7b,
		0x00, 0x20,
	};
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(tpm2_build_get_random(buf, sizeof(buf), 32), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(tpm2_build_get_random(buf, sizeof(buf), 0xffff), 12);
	assert_int_equal(buf[10], 0xff);
	assert_int_equal(buf[11], 0xff);
	assert_int_equal(tpm2_build_get_random(buf, sizeof(buf), 0), 0);
	check_cap(random_in, sizeof(want));
}

static void test_build_get_pcr_banks(void **state)
{
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x01, 0x7a,
		0x00, 0x00, 0x00, 0x05, /* TPM_CAP_PCRS */
		0x00, 0x00, 0x00, 0x00, /* property */
		0x00, 0x00, 0x00, 0x01, /* propertyCount */
	};
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(tpm2_build_get_pcr_banks(buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	check_cap(banks_in, sizeof(want));
}

static void test_build_pcr_extend(void **state)
{
	static const uint8_t want_head[] = {
		0x80, 0x02, 0x00, 0x00, 0x00, 0x51, 0x00, 0x00, 0x01, 0x82,
		0x00, 0x00, 0x00, 0x0c, /* pcrHandle: PCR 12 */
		0x00, 0x00, 0x00, 0x09, /* authorizationSize */
		0x40, 0x00, 0x00, 0x09, /* TPM_RS_PW */
		0x00, 0x00,             /* nonceCaller: empty */
		0x00,                   /* sessionAttributes */
		0x00, 0x00,             /* hmac: the empty password */
		0x00, 0x00, 0x00, 0x01, /* digests.count */
		0x00, 0x0c,             /* TPM_ALG_SHA384 */
	};
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(tpm2_build_pcr_extend_sha384(buf, sizeof(buf), 12,
						      extend_digest), 81);
	assert_memory_equal(buf, want_head, sizeof(want_head));
	assert_memory_equal(buf + sizeof(want_head), extend_digest,
			    TPM2_SHA384_LEN);
	assert_int_equal(tpm2_build_pcr_extend_sha384(buf, sizeof(buf), 0,
						      extend_digest), 81);
	assert_int_equal(buf[13], 0);
	assert_int_equal(tpm2_build_pcr_extend_sha384(buf, sizeof(buf), 23,
						      extend_digest), 81);
	assert_int_equal(buf[13], 23);
	assert_int_equal(tpm2_build_pcr_extend_sha384(buf, sizeof(buf), 24,
						      extend_digest), 0);
	assert_int_equal(tpm2_build_pcr_extend_sha384(buf, sizeof(buf), 0x40000009,
						      extend_digest), 0);
	check_cap(extend_in, 81);
}

static void test_build_pcr_read(void **state)
{
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x01, 0x7e,
		0x00, 0x00, 0x00, 0x01, /* pcrSelectionIn.count */
		0x00, 0x0c,             /* TPM_ALG_SHA384 */
		0x03, 0x00, 0x10, 0x00, /* sizeofSelect 3: PCR 12 */
	};
	static const struct { uint32_t pcr; uint8_t sel[3]; } bits[] = {
		{ 0, { 0x01, 0, 0 } }, { 7, { 0x80, 0, 0 } },
		{ 8, { 0, 0x01, 0 } }, { 23, { 0, 0, 0x80 } },
	};
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(tpm2_build_pcr_read_sha384(buf, sizeof(buf), 12), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		assert_int_equal(tpm2_build_pcr_read_sha384(buf, sizeof(buf),
							    bits[i].pcr), 20);
		assert_memory_equal(buf + 17, bits[i].sel, 3);
	}
	assert_int_equal(tpm2_build_pcr_read_sha384(buf, sizeof(buf), 24), 0);
	check_cap(read_in, sizeof(want));
}

static size_t ak_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_create_ak(buf, cap);
}

static size_t quote_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_quote(buf, cap, 0x80000000, quote_qualifying,
				sizeof(quote_qualifying), 0x001081);
}

static size_t flush_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_flush_context(buf, cap, 0x80000000);
}

static void test_build_create_ak(void **state)
{
	static const uint8_t want[] = {
		0x80, 0x02, 0x00, 0x00, 0x00, 0x41, 0x00, 0x00, 0x01, 0x31,
		0x40, 0x00, 0x00, 0x0b, /* TPM_RH_ENDORSEMENT */
		0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09, /* TPM_RS_PW */
		0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x04, 0x00, 0x00, 0x00, 0x00, /* inSensitive: all empty */
		0x00, 0x18,             /* inPublic.size */
		0x00, 0x23, 0x00, 0x0c, /* ECC, nameAlg SHA-384 */
		0x00, 0x05, 0x00, 0x72, /* objectAttributes */
		0x00, 0x00,             /* authPolicy */
		0x00, 0x10,             /* symmetric: NULL */
		0x00, 0x18, 0x00, 0x0c, /* ECDSA with SHA-384 */
		0x00, 0x04,             /* NIST P-384 */
		0x00, 0x10,             /* kdf: NULL */
		0x00, 0x00, 0x00, 0x00, /* unique: empty x and y */
		0x00, 0x00,             /* outsideInfo */
		0x00, 0x00, 0x00, 0x00, /* creationPCR: none */
	};
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(tpm2_build_create_ak(buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	/* The TPM echoes the template up to the point it fills in. */
	assert_memory_equal(buf + 35, rsp_create_ak + AK_PUB, 20);
	check_cap(ak_in, sizeof(want));
}

static void test_build_quote(void **state)
{
	static const uint8_t head[] = {
		0x80, 0x02, 0x00, 0x00, 0x00, 0x49, 0x00, 0x00, 0x01, 0x58,
		0x80, 0x00, 0x00, 0x00, /* signHandle */
		0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09, /* TPM_RS_PW */
		0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x20,             /* qualifyingData.size */
	};
	static const uint8_t tail[] = {
		0x00, 0x10,             /* inScheme: the key's own */
		0x00, 0x00, 0x00, 0x01, /* PCRselect.count */
		0x00, 0x0c, 0x03, 0x81, 0x10, 0x00, /* SHA-384: PCRs 0, 7, 12 */
	};
	uint8_t buf[TPM2_BUFFER_MAX], big[TPM2_QUALIFYING_MAX + 1] = { 0 };

	(void)state;
	assert_int_equal(quote_in(buf, sizeof(buf)), 73);
	assert_memory_equal(buf, head, sizeof(head));
	assert_memory_equal(buf + sizeof(head), quote_qualifying, 32);
	assert_memory_equal(buf + sizeof(head) + 32, tail, sizeof(tail));
	check_cap(quote_in, 73);

	assert_int_equal(tpm2_build_quote(buf, sizeof(buf), 0x81000001, NULL, 0,
					  0xffffff), 41);
	assert_int_equal(buf[5], 41);
	assert_memory_equal(buf + 10, "\x81\x00\x00\x01", 4);
	assert_memory_equal(buf + 27, "\x00\x00\x00\x10", 4);
	assert_memory_equal(buf + 37, "\x03\xff\xff\xff", 4);
	assert_int_equal(tpm2_build_quote(buf, sizeof(buf), 0x80000000, big,
					  TPM2_QUALIFYING_MAX, 1), 105);
	assert_int_equal(buf[28], TPM2_QUALIFYING_MAX);
	assert_int_equal(tpm2_build_quote(buf, sizeof(buf), 0x80000000, big,
					  TPM2_QUALIFYING_MAX + 1, 1), 0);
	assert_int_equal(tpm2_build_quote(buf, sizeof(buf), 0x80000000, NULL, 5, 1), 0);
	assert_int_equal(tpm2_build_quote(buf, sizeof(buf), 0x80000000, big, 4, 0), 0);
	assert_int_equal(tpm2_build_quote(buf, sizeof(buf), 0x80000000, big, 4,
					  1u << 24), 0);
	assert_int_equal(tpm2_build_quote(buf, sizeof(buf), 0x80000000, big, 4,
					  0x80000001), 0);
}

static void test_build_flush_context(void **state)
{
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x01, 0x65,
		0x80, 0x00, 0x00, 0x00,
	};
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(flush_in(buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	check_cap(flush_in, sizeof(want));
}

/* --- Credential activation: builders ------------------------------------ */

/* The credential tpm2_makecredential wrapped (secret.bin). */
static const uint8_t cred_plain[32] = {
	0x40, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b,
	0x4c, 0x4d, 0x4e, 0x4f, 0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57,
	0x58, 0x59, 0x5a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
};
/* The nonceCaller of the StartAuthSession swtpm accepted. */
static const uint8_t nonce_caller[TPM2_NONCE_LEN] = {
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
	0x1c, 0x1d, 0x1e, 0x1f,
};

static size_t property_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_get_property(buf, cap, TPM2_PT_NV_BUFFER_MAX);
}

static size_t nv_public_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_nv_read_public(buf, cap, TPM2_NV_EK_CERT_RSA);
}

static size_t nv_read_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_nv_read(buf, cap, TPM2_NV_EK_CERT_RSA, 16, 1000);
}

static size_t ek_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_create_ek(buf, cap);
}

static size_t session_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_start_policy_session(buf, cap, nonce_caller);
}

static size_t secret_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_policy_secret_endorsement(buf, cap, 0x03000000);
}

static size_t activate_in(uint8_t *buf, size_t cap)
{
	return tpm2_build_activate_credential(buf, cap, 0x80000000, 0x80000001,
					      0x03000000, cred_blob,
					      sizeof(cred_blob), cred_secret,
					      sizeof(cred_secret));
}

static void test_build_get_property(void **state)
{
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x16, 0x00, 0x00, 0x01, 0x7a,
		0x00, 0x00, 0x00, 0x06, /* TPM_CAP_TPM_PROPERTIES */
		0x00, 0x00, 0x01, 0x2c, /* TPM_PT_NV_BUFFER_MAX */
		0x00, 0x00, 0x00, 0x01,
	};
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(property_in(buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	check_cap(property_in, sizeof(want));
}

static void test_build_nv_read_public(void **state)
{
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x0e, 0x00, 0x00, 0x01, 0x69,
		0x01, 0xc0, 0x00, 0x02,
	};
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(nv_public_in(buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	check_cap(nv_public_in, sizeof(want));
	/* Only NV indices. */
	assert_int_equal(tpm2_build_nv_read_public(buf, sizeof(buf), 0x81010001), 0);
	assert_int_equal(tpm2_build_nv_read_public(buf, sizeof(buf), 0x01ffffff), 14);
}

static void test_build_nv_read(void **state)
{
	static const uint8_t want[] = {
		0x80, 0x02, 0x00, 0x00, 0x00, 0x23, 0x00, 0x00, 0x01, 0x4e,
		0x01, 0xc0, 0x00, 0x02, /* authHandle: the index */
		0x01, 0xc0, 0x00, 0x02, /* nvIndex */
		0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09, /* TPM_RS_PW */
		0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x10, 0x03, 0xe8, /* 16 bytes at 1000 */
	};
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(nv_read_in(buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	check_cap(nv_read_in, sizeof(want));
	/* The command of rsp_nv_read_32. */
	assert_int_equal(tpm2_build_nv_read(buf, sizeof(buf), TPM2_NV_EK_CERT_RSA,
					    32, 0), 35);
	assert_int_equal(buf[31] << 8 | buf[32], 32);
	assert_int_equal(buf[33] | buf[34], 0);
	assert_int_equal(tpm2_build_nv_read(buf, sizeof(buf), TPM2_NV_EK_CERT_RSA,
					    TPM2_NV_READ_MAX, 0xffff - TPM2_NV_READ_MAX), 35);
	assert_int_equal(tpm2_build_nv_read(buf, sizeof(buf), TPM2_NV_EK_CERT_RSA,
					    TPM2_NV_READ_MAX + 1, 0), 0);
	assert_int_equal(tpm2_build_nv_read(buf, sizeof(buf), TPM2_NV_EK_CERT_RSA,
					    0, 0), 0);
	assert_int_equal(tpm2_build_nv_read(buf, sizeof(buf), TPM2_NV_EK_CERT_RSA,
					    16, 0xfff0), 0);
	assert_int_equal(tpm2_build_nv_read(buf, sizeof(buf), 0x40000001, 16, 0), 0);
}

static void test_build_create_ek(void **state)
{
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(ek_in(buf, sizeof(buf)), sizeof(cmd_create_ek));
	assert_memory_equal(buf, cmd_create_ek, sizeof(cmd_create_ek));
	check_cap(ek_in, sizeof(cmd_create_ek));
	/* The TPM echoes the template up to the modulus it fills in. */
	assert_memory_equal(buf + 35, rsp_create_ek + 20, TPM2_EK_PUBLIC_LEN - 256);
}

static void test_build_start_policy_session(void **state)
{
	static const uint8_t want[] = {
		0x80, 0x01, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x00, 0x01, 0x76,
		0x40, 0x00, 0x00, 0x07, 0x40, 0x00, 0x00, 0x07, /* tpmKey, bind */
		0x00, 0x10, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
		0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, /* nonceCaller */
		0x00, 0x00,             /* encryptedSalt */
		0x01,                   /* TPM_SE_POLICY */
		0x00, 0x10,             /* symmetric: NULL */
		0x00, 0x0b,             /* authHash: SHA-256 */
	};
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(session_in(buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	check_cap(session_in, sizeof(want));
}

static void test_build_policy_secret(void **state)
{
	static const uint8_t want[] = {
		0x80, 0x02, 0x00, 0x00, 0x00, 0x29, 0x00, 0x00, 0x01, 0x51,
		0x40, 0x00, 0x00, 0x0b, /* authHandle: TPM_RH_ENDORSEMENT */
		0x03, 0x00, 0x00, 0x00, /* policySession */
		0x00, 0x00, 0x00, 0x09, 0x40, 0x00, 0x00, 0x09, /* TPM_RS_PW */
		0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* nonceTPM, cpHashA, policyRef */
		0x00, 0x00, 0x00, 0x00, /* expiration */
	};
	uint8_t buf[TPM2_BUFFER_MAX];

	(void)state;
	assert_int_equal(secret_in(buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	check_cap(secret_in, sizeof(want));
	/* An HMAC session, a transient object: not a policy session. */
	assert_int_equal(tpm2_build_policy_secret_endorsement(buf, sizeof(buf),
							      0x02000000), 0);
	assert_int_equal(tpm2_build_policy_secret_endorsement(buf, sizeof(buf),
							      0x80000000), 0);
}

static void test_build_activate_credential(void **state)
{
	static const uint8_t head[] = {
		0x80, 0x02, 0x00, 0x00, 0x01, 0x70, 0x00, 0x00, 0x01, 0x47,
		0x80, 0x00, 0x00, 0x00, /* activateHandle: the AK */
		0x80, 0x00, 0x00, 0x01, /* keyHandle: the EK */
		0x00, 0x00, 0x00, 0x12, /* authorizationSize: two sessions */
		0x40, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x44,             /* credentialBlob.size */
	};
	uint8_t buf[TPM2_BUFFER_MAX], big[TPM2_RSA2048_LEN + 1] = { 0 };

	(void)state;
	assert_int_equal(activate_in(buf, sizeof(buf)), sizeof(cmd_activate));
	assert_memory_equal(buf, cmd_activate, sizeof(cmd_activate));
	assert_memory_equal(buf, head, sizeof(head));
	check_cap(activate_in, sizeof(cmd_activate));

	assert_int_equal(tpm2_build_activate_credential(buf, sizeof(buf), 1, 2,
							0x03000001, big,
							TPM2_ID_OBJECT_MAX, big,
							TPM2_RSA2048_LEN),
			 44 + TPM2_ID_OBJECT_MAX + TPM2_RSA2048_LEN);
	assert_int_equal(tpm2_build_activate_credential(buf, sizeof(buf), 1, 2,
							0x03000001, big, 1, big, 1),
			 46);
	assert_int_equal(tpm2_build_activate_credential(buf, sizeof(buf), 1, 2,
							0x03000001, big,
							TPM2_ID_OBJECT_MAX + 1, big, 1), 0);
	assert_int_equal(tpm2_build_activate_credential(buf, sizeof(buf), 1, 2,
							0x03000001, big, 1, big,
							TPM2_RSA2048_LEN + 1), 0);
	assert_int_equal(tpm2_build_activate_credential(buf, sizeof(buf), 1, 2,
							0x03000001, big, 0, big, 1), 0);
	assert_int_equal(tpm2_build_activate_credential(buf, sizeof(buf), 1, 2,
							0x03000001, big, 1, big, 0), 0);
	assert_int_equal(tpm2_build_activate_credential(buf, sizeof(buf), 1, 2,
							0x03000001, NULL, 1, big, 1), 0);
	assert_int_equal(tpm2_build_activate_credential(buf, sizeof(buf), 1, 2,
							0x03000001, big, 1, NULL, 1), 0);
	assert_int_equal(tpm2_build_activate_credential(buf, sizeof(buf), 1, 2,
							TPM2_RS_PW, big, 1, big, 1), 0);
}

static void test_names(void **state)
{
	uint8_t digest[TPM2_SHA384_LEN], name[TPM2_AK_NAME_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(digest); i++)
		digest[i] = (uint8_t)(0xc0 + i);
	memset(name, 0xa5, sizeof(name));
	tpm2_ek_name(digest, name);
	assert_int_equal(name[0] << 8 | name[1], TPM2_ALG_SHA256);
	assert_memory_equal(name + 2, digest, TPM2_SHA256_LEN);
	assert_int_equal(name[TPM2_EK_NAME_LEN], 0xa5);
	tpm2_ak_name(digest, name);
	assert_int_equal(name[0] << 8 | name[1], TPM2_ALG_SHA384);
	assert_memory_equal(name + 2, digest, TPM2_SHA384_LEN);
}

/* --- Response codes and the header -------------------------------------- */

static void test_rc_name(void **state)
{
	static const struct { uint32_t rc; const char *name; } names[] = {
		{ 0x000, "TPM_RC_SUCCESS (0x000)" },
		{ 0x100, "TPM_RC_INITIALIZE (0x100)" },
		{ 0x101, "TPM_RC_FAILURE (0x101)" },
		{ 0x143, "TPM_RC_COMMAND_CODE (0x143)" },
		{ 0x907, "TPM_RC_LOCALITY (0x907)" },
		{ 0x908, "TPM_RC_YIELDED (0x908)" },
		{ 0x909, "TPM_RC_CANCELED (0x909)" },
		{ 0x90a, "TPM_RC_TESTING (0x90a)" },
		{ 0x920, "TPM_RC_NV_RATE (0x920)" },
		{ 0x921, "TPM_RC_LOCKOUT (0x921)" },
		{ 0x922, "TPM_RC_RETRY (0x922)" },
		{ 0x910, "TPM_RC_REFERENCE_H0 (0x910)" },
		{ 0x084, "TPM_RC_VALUE (0x084)" },
		{ 0x1c4, "TPM_RC_VALUE (0x1c4, parameter 1)" },
		{ 0x2c4, "TPM_RC_VALUE (0x2c4, parameter 2)" },
		{ 0x08b, "TPM_RC_HANDLE (0x08b)" },
		{ 0x18b, "TPM_RC_HANDLE (0x18b, handle 1)" },
		{ 0x98e, "TPM_RC_AUTH_FAIL (0x98e, session 1)" },
		{ 0x9a2, "TPM_RC_BAD_AUTH (0x9a2, session 1)" },
		{ 0x01e, "TPM_RC_BAD_TAG (0x01e)" },
		{ 0x0ff, "TPM response code 0x0ff" },
		{ 0x977, "TPM response code 0x977" },
		{ 0x1907, "TPM response code 0x1907" },
		{ 0x80000907, "TPM response code 0x80000907" },
		{ 0xffffffff, "TPM response code 0xffffffff" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_string_equal(tpm2_rc_name(names[i].rc), names[i].name);
}

static void header_refused(const uint8_t *rsp, size_t len, uint16_t tag,
			   const char *want)
{
	char err[200];
	uint32_t rc = 0xdead;

	assert_int_equal(tpm2_response_header(rsp, len, tag, &rc, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("refused with '%s', expected '%s'", err, want);
	assert_int_equal(rc, 0xdead);
	assert_int_equal(tpm2_response_header(rsp, len, tag, &rc, NULL, 0), -1);
}

static void test_header(void **state)
{
	static const uint8_t bad_tag_1_2[] = {
		0x00, 0xc4, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x1e,
	};
	char err[200] = "x";
	uint32_t rc = 0xdead;
	size_t len;

	(void)state;
	assert_int_equal(tpm2_response_header(rsp_pcr_extend, sizeof(rsp_pcr_extend),
					      TPM2_ST_SESSIONS, &rc, err, sizeof(err)), 0);
	assert_int_equal(rc, 0);
	assert_string_equal(err, "");
	assert_int_equal(tpm2_response_header(rsp_pcr_read_12_after,
					      sizeof(rsp_pcr_read_12_after),
					      TPM2_ST_NO_SESSIONS, &rc, NULL, 0), 0);
	assert_int_equal(rc, 0);
	/* An error answers a sessions command without sessions. */
	assert_int_equal(tpm2_response_header(rsp_locality, sizeof(rsp_locality),
					      TPM2_ST_SESSIONS, &rc, NULL, 0), 0);
	assert_int_equal(rc, 0x907);
	assert_int_equal(tpm2_response_header(rsp_startup_initialize, 10,
					      TPM2_ST_NO_SESSIONS, &rc, NULL, 0), 0);
	assert_int_equal(rc, TPM2_RC_INITIALIZE);
	assert_int_equal(tpm2_response_header(bad_tag_1_2, 10, TPM2_ST_NO_SESSIONS,
					      &rc, NULL, 0), 0);
	assert_int_equal(rc, 0x01e);
	expect_refused(STARTUP, bad_tag_1_2, 10, "Startup failed: TPM_RC_BAD_TAG (0x01e)");

	header_refused(rsp_pcr_extend, 9, TPM2_ST_SESSIONS,
		       "response of 9 bytes, shorter than its 10-byte header");
	header_refused(NULL, 10, TPM2_ST_SESSIONS, "shorter than");
	header_refused(rsp_pcr_extend, 0, TPM2_ST_SESSIONS, "shorter than");
	len = resized(rsp_get_random_64, sizeof(rsp_get_random_64), TPM2_BUFFER_MAX + 1);
	header_refused(m, len, TPM2_ST_NO_SESSIONS, "4097 bytes, longer than 4096");
	len = resized(rsp_get_random_64, sizeof(rsp_get_random_64), TPM2_BUFFER_MAX);
	assert_int_equal(tpm2_response_header(m, len, TPM2_ST_NO_SESSIONS, &rc,
					      NULL, 0), 0);
	memcpy(m, rsp_pcr_extend, sizeof(rsp_pcr_extend));
	m[5] = 0x14;
	header_refused(m, sizeof(rsp_pcr_extend), TPM2_ST_SESSIONS,
		       "size field says 20 bytes, 19 arrived");
	m[5] = 0x12;
	header_refused(m, sizeof(rsp_pcr_extend), TPM2_ST_SESSIONS,
		       "size field says 18 bytes, 19 arrived");
	m[2] = 0x01;
	m[5] = 0x13;
	header_refused(m, sizeof(rsp_pcr_extend), TPM2_ST_SESSIONS, "size field says 16777235");
	header_refused(rsp_pcr_extend, sizeof(rsp_pcr_extend), TPM2_ST_NO_SESSIONS,
		       "response tag 0x8002, expected 0x8001");
	header_refused(rsp_get_random_32, sizeof(rsp_get_random_32), TPM2_ST_SESSIONS,
		       "response tag 0x8001, expected 0x8002");
	memcpy(m, rsp_locality, 10);
	m[1] = 0x02;
	header_refused(m, 10, TPM2_ST_SESSIONS,
		       "error response with tag 0x8002 (TPM_RC_LOCALITY (0x907))");
	memcpy(m, bad_tag_1_2, 10);
	m[9] = 0x1f;
	header_refused(m, 10, TPM2_ST_NO_SESSIONS, "error response with tag 0x00c4");
	len = resized(rsp_locality, 10, 11);
	header_refused(m, len, TPM2_ST_SESSIONS,
		       "error response of 11 bytes, more than its header (TPM_RC_LOCALITY");
	header_refused(rsp_get_random_32, sizeof(rsp_get_random_32), 0x00c4,
		       "no such command tag 0x00c4");
}

/* --- Parsers ------------------------------------------------------------ */

static void test_startup(void **state)
{
	char err[200] = "x";
	size_t len;

	(void)state;
	assert_int_equal(tpm2_parse_startup(rsp_startup_success, 10, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(tpm2_parse_startup(rsp_startup_initialize, 10, err, sizeof(err)), 0);
	len = make_rsp(TPM2_ST_NO_SESSIONS, 0x101, NULL, 0);
	expect_refused(STARTUP, m, len, "Startup failed: TPM_RC_FAILURE (0x101)");
	len = make_rsp(TPM2_ST_NO_SESSIONS, 0x90a, NULL, 0);
	expect_refused(STARTUP, m, len, "Startup failed: TPM_RC_TESTING (0x90a)");
	len = make_rsp(TPM2_ST_SESSIONS, 0, NULL, 0);
	expect_refused(STARTUP, m, len, "response tag 0x8002, expected 0x8001");
	len = make_rsp(TPM2_ST_NO_SESSIONS, 0, (const uint8_t *)"\0", 1);
	expect_refused(STARTUP, m, len, "Startup response has 1 trailing bytes");
}

static void expect_random_refused(const uint8_t *rsp, size_t len, size_t want,
				  const char *why)
{
	uint8_t out[TPM2_BUFFER_MAX];
	size_t got = 0xdead;
	char err[200];

	memset(out, 0xa5, sizeof(out));
	assert_int_equal(tpm2_parse_get_random(rsp, len, out, want, &got, err,
					       sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("refused with '%s', expected '%s'", err, why);
	assert_int_equal(got, 0xdead);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xa5);
}

static void test_get_random(void **state)
{
	static const uint8_t size0[] = { 0x00, 0x00 };
	uint8_t out[65];
	char err[200] = "x";
	size_t got = 0, len;

	(void)state;
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(tpm2_parse_get_random(rsp_get_random_32, sizeof(rsp_get_random_32),
					       out, 32, &got, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(got, 32);
	assert_memory_equal(out, rsp_get_random_32 + 12, 32);
	assert_int_equal(out[32], 0xa5);
	assert_int_equal(tpm2_parse_get_random(rsp_get_random_32, sizeof(rsp_get_random_32),
					       out, 64, &got, NULL, 0), 0);
	assert_int_equal(got, 32);
	assert_int_equal(tpm2_parse_get_random(rsp_get_random_64, sizeof(rsp_get_random_64),
					       out, 65, &got, NULL, 0), 0);
	assert_int_equal(got, 64);
	assert_memory_equal(out, rsp_get_random_64 + 12, 64);

	expect_random_refused(rsp_get_random_32, sizeof(rsp_get_random_32), 31,
			      "GetRandom returned 32 bytes, asked for 31");
	expect_random_refused(rsp_get_random_32, sizeof(rsp_get_random_32), 0,
			      "GetRandom returned 32 bytes, asked for 0");
	len = make_rsp(TPM2_ST_NO_SESSIONS, 0, size0, sizeof(size0));
	expect_random_refused(m, len, 32, "GetRandom returned 0 bytes, asked for 32");
	memcpy(m, rsp_get_random_32, sizeof(rsp_get_random_32));
	m[11] = 0x21;
	expect_random_refused(m, sizeof(rsp_get_random_32), 64,
			      "GetRandom response truncated in randomBytes");
	m[11] = 0x1f;
	expect_random_refused(m, sizeof(rsp_get_random_32), 64,
			      "GetRandom response has 1 trailing bytes");
	len = make_rsp(TPM2_ST_NO_SESSIONS, 0, NULL, 0);
	expect_random_refused(m, len, 32, "GetRandom response truncated in randomBytes.size");
	len = make_rsp(TPM2_ST_NO_SESSIONS, 0x90a, NULL, 0);
	expect_random_refused(m, len, 32, "GetRandom failed: TPM_RC_TESTING (0x90a)");
}

static void expect_banks(const uint8_t *rsp, size_t len, uint32_t want)
{
	uint32_t map = 0xdeadbeef;
	char err[200] = "x";

	assert_int_equal(tpm2_parse_get_pcr_banks(rsp, len, &map, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(map, want);
}

/* A GetCapability(TPM_CAP_PCRS) response into m: count, then the raw
 * selections. */
static size_t banks_rsp(uint32_t count, const uint8_t *sel, size_t sel_len)
{
	uint8_t body[64] = { 0, 0, 0, 0, 5 };

	set_be32(body + 5, count);
	if (sel_len)
		memcpy(body + 9, sel, sel_len);
	return make_rsp(TPM2_ST_NO_SESSIONS, 0, body, 9 + sel_len);
}

static void banks_refused(const uint8_t *rsp, size_t len, const char *why)
{
	uint32_t map = 0xdeadbeef;

	expect_refused(PCR_BANKS, rsp, len, why);
	assert_int_equal(tpm2_parse_get_pcr_banks(rsp, len, &map, NULL, 0), -1);
	assert_int_equal(map, 0xdeadbeef);
}

static void test_get_pcr_banks(void **state)
{
	static const uint8_t wide[] = { 0x00, 0x0c, 0x04, 0xff, 0x00, 0x01, 0xff };
	static const uint8_t narrow[] = { 0x00, 0x0c, 0x01, 0x0f };
	static const uint8_t zero_len[] = { 0x00, 0x0c, 0x00 };
	static const uint8_t five[] = { 0x00, 0x0c, 0x05, 1, 2, 3, 4, 5 };
	static const uint8_t two256[] = {
		0x00, 0x0b, 0x03, 0xff, 0xff, 0xff, 0x00, 0x0b, 0x03, 0x01, 0, 0,
		0x00, 0x0c, 0x03, 0x0f, 0x00, 0x80,
	};
	static const uint8_t two384[] = {
		0x00, 0x0c, 0x03, 0xff, 0xff, 0xff, 0x00, 0x0c, 0x03, 0xff, 0xff, 0xff,
	};
	size_t len;

	(void)state;
	expect_banks(rsp_banks_default, sizeof(rsp_banks_default), 0xffffff);
	expect_banks(rsp_banks_sha256_384, sizeof(rsp_banks_sha256_384), 0xffffff);
	expect_banks(rsp_banks_sha256, sizeof(rsp_banks_sha256), 0);
	len = banks_rsp(1, wide, sizeof(wide));
	expect_banks(m, len, 0x0100ff);
	len = banks_rsp(1, narrow, sizeof(narrow));
	expect_banks(m, len, 0x0f);
	len = banks_rsp(0, NULL, 0);
	expect_banks(m, len, 0);
	len = banks_rsp(3, two256, sizeof(two256));
	expect_banks(m, len, 0x80000f);

	len = banks_rsp(2, two384, sizeof(two384));
	banks_refused(m, len, "the SHA-384 bank twice");
	len = banks_rsp(17, two384, sizeof(two384));
	banks_refused(m, len, "17 PCR banks (at most 16)");
	len = banks_rsp(0xffffffff, two384, sizeof(two384));
	banks_refused(m, len, "4294967295 PCR banks");
	len = banks_rsp(1, zero_len, sizeof(zero_len));
	banks_refused(m, len, "a PCR selection of 0 bytes (must be 1..4)");
	len = banks_rsp(1, five, sizeof(five));
	banks_refused(m, len, "a PCR selection of 5 bytes");
	len = banks_rsp(2, narrow, sizeof(narrow));
	banks_refused(m, len, "truncated in pcrSelections.hash");
	len = banks_rsp(1, two384, sizeof(two384));
	banks_refused(m, len, "GetCapability response has 6 trailing bytes");
	len = banks_rsp(1, narrow, 3);
	banks_refused(m, len, "truncated in pcrSelections.pcrSelect");
	len = banks_rsp(1, narrow, 2);
	banks_refused(m, len, "truncated in pcrSelections.sizeofSelect");
	memcpy(m, rsp_banks_default, sizeof(rsp_banks_default));
	m[18] = 5;
	banks_refused(m, sizeof(rsp_banks_default), "truncated in pcrSelections.hash");
	m[18] = 3;
	banks_refused(m, sizeof(rsp_banks_default), "6 trailing bytes");
	memcpy(m, rsp_banks_default, sizeof(rsp_banks_default));
	m[10] = 1;
	banks_refused(m, sizeof(rsp_banks_default), "moreData 1");
	memcpy(m, rsp_banks_default, sizeof(rsp_banks_default));
	m[14] = 6;
	banks_refused(m, sizeof(rsp_banks_default), "capability 6, asked for 5");
	len = make_rsp(TPM2_ST_NO_SESSIONS, 0x143, NULL, 0);
	banks_refused(m, len, "GetCapability failed: TPM_RC_COMMAND_CODE (0x143)");
}

static void test_pcr_extend(void **state)
{
	static const uint8_t params[] = { 0, 0, 0, 4, 1, 2, 3, 4, 0, 0, 1, 0, 0 };
	static const uint8_t nonce[] = { 0, 0, 0, 0, 0, 2, 1, 2, 1, 0, 0 };
	static const uint8_t hmac[] = { 0, 0, 0, 0, 0, 0, 1, 0, 1, 0x78 };
	static const uint8_t two_auths[] = {
		0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0,
	};
	char err[200] = "x";
	size_t len;

	(void)state;
	assert_int_equal(tpm2_parse_pcr_extend(rsp_pcr_extend, sizeof(rsp_pcr_extend),
					       err, sizeof(err)), 0);
	assert_string_equal(err, "");
	memcpy(m, rsp_pcr_extend, sizeof(rsp_pcr_extend));
	m[16] = 0; /* continueSession clear, as sent */
	assert_int_equal(tpm2_parse_pcr_extend(m, sizeof(rsp_pcr_extend), NULL, 0), 0);
	m[16] = 0x02;
	expect_refused(PCR_EXTEND, m, sizeof(rsp_pcr_extend),
		       "PCR_Extend response: session attributes 0x02");
	m[16] = 0x81;
	expect_refused(PCR_EXTEND, m, sizeof(rsp_pcr_extend), "session attributes 0x81");

	len = make_rsp(TPM2_ST_SESSIONS, 0, params, sizeof(params));
	expect_refused(PCR_EXTEND, m, len, "PCR_Extend response: 4 parameter bytes (it has none)");
	len = make_rsp(TPM2_ST_SESSIONS, 0, nonce, sizeof(nonce));
	expect_refused(PCR_EXTEND, m, len, "PCR_Extend response: nonceTPM of 2 bytes");
	len = make_rsp(TPM2_ST_SESSIONS, 0, hmac, sizeof(hmac));
	expect_refused(PCR_EXTEND, m, len, "PCR_Extend response: hmac of 1 bytes");
	len = make_rsp(TPM2_ST_SESSIONS, 0, two_auths, sizeof(two_auths));
	expect_refused(PCR_EXTEND, m, len, "PCR_Extend response has 5 trailing bytes");
	memcpy(m, rsp_pcr_extend, sizeof(rsp_pcr_extend));
	m[1] = 0x01;
	expect_refused(PCR_EXTEND, m, sizeof(rsp_pcr_extend),
		       "response tag 0x8001, expected 0x8002");
	expect_refused(PCR_EXTEND, rsp_locality, sizeof(rsp_locality),
		       "PCR_Extend failed: TPM_RC_LOCALITY (0x907)");
	expect_refused(PCR_EXTEND, rsp_bad_auth, sizeof(rsp_bad_auth),
		       "PCR_Extend failed: TPM_RC_BAD_AUTH (0x9a2, session 1)");
}

static void read_refused(const uint8_t *rsp, size_t len, uint32_t pcr,
			 const char *why)
{
	uint8_t out[TPM2_SHA384_LEN];
	char err[200];

	memset(out, 0xa5, sizeof(out));
	assert_int_equal(tpm2_parse_pcr_read_sha384(rsp, len, pcr, out, err,
						    sizeof(err)), -1);
	if (!strstr(err, why))
		fail_msg("refused with '%s', expected '%s'", err, why);
	for (size_t i = 0; i < sizeof(out); i++)
		assert_int_equal(out[i], 0xa5);
}

/* A PCR_Read response into m: the selection list and digest list given
 * raw after pcrUpdateCounter. */
static size_t read_rsp(const uint8_t *lists, size_t lists_len)
{
	uint8_t body[128] = { 0, 0, 0, 0x14 };

	memcpy(body + 4, lists, lists_len);
	return make_rsp(TPM2_ST_NO_SESSIONS, 0, body, 4 + lists_len);
}

static void test_pcr_read(void **state)
{
	/* SHA-384(48 zero bytes || extend_digest): PCR 12 after the extend. */
	static const uint8_t extended[TPM2_SHA384_LEN] = {
		0xfe, 0x83, 0xf7, 0x42, 0xd1, 0xca, 0xb5, 0xc7, 0x09, 0xa0, 0xc4, 0x24,
		0x72, 0x98, 0x31, 0xfb, 0xff, 0x9b, 0x5b, 0xb9, 0x74, 0x8a, 0x61, 0x8f,
		0x0b, 0x6e, 0xa0, 0x4f, 0xe1, 0xfd, 0xe4, 0xd5, 0x46, 0xf4, 0x04, 0x0e,
		0x7f, 0xc9, 0x58, 0x7b, 0x2e, 0x6b, 0xad, 0xad, 0xa6, 0xc9, 0x41, 0xb0,
	};
	static const uint8_t no_selection[] = { 0, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t wide[] = {
		0, 0, 0, 1, 0x00, 0x0c, 0x04, 0x00, 0x10, 0x00, 0x01, 0, 0, 0, 0,
	};
	uint8_t zeros_then_digest[2 * TPM2_SHA384_LEN] = { 0 };
	uint8_t out[TPM2_SHA384_LEN], want[TPM2_SHA384_LEN];
	char err[200] = "x";
	size_t len;

	(void)state;
	memcpy(zeros_then_digest + TPM2_SHA384_LEN, extend_digest, TPM2_SHA384_LEN);
	crypto_sha384(zeros_then_digest, sizeof(zeros_then_digest), want);
	assert_memory_equal(want, extended, TPM2_SHA384_LEN);

	memset(out, 0xa5, sizeof(out));
	assert_int_equal(tpm2_parse_pcr_read_sha384(rsp_pcr_read_12_before,
						    sizeof(rsp_pcr_read_12_before),
						    12, out, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_memory_equal(out, zeros_then_digest, TPM2_SHA384_LEN);
	assert_int_equal(tpm2_parse_pcr_read_sha384(rsp_pcr_read_12_after,
						    sizeof(rsp_pcr_read_12_after),
						    12, out, err, sizeof(err)), 0);
	assert_memory_equal(out, extended, TPM2_SHA384_LEN);

	read_refused(rsp_pcr_read_12_after, sizeof(rsp_pcr_read_12_after), 13,
		     "PCR_Read response: PCRs 0x001000, asked for PCR 13");
	read_refused(rsp_pcr_read_12_after, sizeof(rsp_pcr_read_12_after), 24,
		     "PCR 24 does not exist");
	read_refused(rsp_pcr_read_unallocated, sizeof(rsp_pcr_read_unallocated), 12,
		     "PCR_Read: PCR 12 is not allocated in the SHA-384 bank");
	len = read_rsp(no_selection, sizeof(no_selection));
	read_refused(m, len, 12, "PCR_Read: PCR 12 is not allocated in the SHA-384 bank");
	len = read_rsp(wide, sizeof(wide));
	read_refused(m, len, 12, "PCRs 0x1001000, asked for PCR 12");

	memcpy(m, rsp_pcr_read_12_after, sizeof(rsp_pcr_read_12_after));
	m[19] = 0x0b;
	read_refused(m, sizeof(rsp_pcr_read_12_after), 12,
		     "PCR_Read response: bank 0x000b, asked for SHA-384");
	memcpy(m, rsp_pcr_read_12_after, sizeof(rsp_pcr_read_12_after));
	m[17] = 2;
	read_refused(m, sizeof(rsp_pcr_read_12_after), 12,
		     "PCR_Read response: 2 selections, asked for one");
	memcpy(m, rsp_pcr_read_12_after, sizeof(rsp_pcr_read_12_after));
	m[22] = 0x30;
	read_refused(m, sizeof(rsp_pcr_read_12_after), 12,
		     "PCRs 0x003000, asked for PCR 12");
	memcpy(m, rsp_pcr_read_12_after, sizeof(rsp_pcr_read_12_after));
	m[27] = 2;
	read_refused(m, sizeof(rsp_pcr_read_12_after), 12,
		     "PCR_Read response: 2 digests, asked for one");
	m[27] = 0;
	read_refused(m, sizeof(rsp_pcr_read_12_after), 12, "0 digests");
	/* A SHA-256-sized value, every length consistent. */
	len = resized(rsp_pcr_read_12_after, sizeof(rsp_pcr_read_12_after),
		      sizeof(rsp_pcr_read_12_after) - 16);
	m[29] = 32;
	read_refused(m, len, 12, "PCR_Read response: a digest of 32 bytes, SHA-384's is 48");
	memcpy(m, rsp_pcr_read_12_after, sizeof(rsp_pcr_read_12_after));
	m[29] = 49;
	read_refused(m, sizeof(rsp_pcr_read_12_after), 12, "a digest of 49 bytes");
	len = make_rsp(TPM2_ST_NO_SESSIONS, TPM2_RC_INITIALIZE, NULL, 0);
	read_refused(m, len, 12, "PCR_Read failed: TPM_RC_INITIALIZE (0x100)");
}

/* --- The attestation key and its quotes --------------------------------- */

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* src into m with cut bytes at at replaced by ins_len bytes of ins; the
 * size field and the parameterSize at params follow, the sizes of the
 * structures around the change are the caller's. */
static size_t splice(const uint8_t *src, size_t len, size_t params, size_t at,
		     size_t cut, const uint8_t *ins, size_t ins_len)
{
	size_t n = len - cut + ins_len;

	memcpy(m, src, at);
	if (ins_len)
		memcpy(m + at, ins, ins_len);
	memcpy(m + at + ins_len, src + at + cut, len - at - cut);
	set_be32(m + 2, (uint32_t)n);
	set_be32(m + params, (uint32_t)(get_be32(src + params) - cut + ins_len));
	return n;
}

static void ak_refused(const uint8_t *rsp, size_t len, const char *why)
{
	struct tpm2_ak ak, blank;

	memset(&ak, 0xa5, sizeof(ak));
	memset(&blank, 0xa5, sizeof(blank));
	expect_refused(CREATE_AK, rsp, len, why);
	assert_int_equal(tpm2_parse_create_ak(rsp, len, &ak, NULL, 0), -1);
	assert_memory_equal(&ak, &blank, sizeof(ak));
}

/* rsp_create_ak with the n-byte field at off in its TPMT_PUBLIC set to v. */
static void ak_field_refused(size_t off, size_t n, uint32_t v, const char *why)
{
	memcpy(m, rsp_create_ak, sizeof(rsp_create_ak));
	if (n == 4)
		set_be32(m + AK_PUB + off, v);
	else
		set_be16(m + AK_PUB + off, (uint16_t)v);
	ak_refused(m, sizeof(rsp_create_ak), why);
}

static void test_create_ak(void **state)
{
	static const struct {
		size_t off, n;
		uint32_t v;
		const char *why;
	} fields[] = {
		{ 0, 2, 0x0001, "CreatePrimary response: type 0x0001, expected 0x0023" },
		{ 2, 2, 0x000b, "nameAlg 0x000b, expected 0x000c" },
		{ 4, 4, 0x00070072, "objectAttributes 0x00070072, expected 0x00050072" },
		{ 4, 4, 0x00040072, "objectAttributes 0x00040072" }, /* not restricted */
		{ 4, 4, 0x00050070, "objectAttributes 0x00050070" }, /* not fixedTPM */
		{ 8, 2, 0x0030, "authPolicy.size 0x0030, expected 0x0000" },
		{ 10, 2, 0x0006, "symmetric 0x0006, expected 0x0010" },
		{ 12, 2, 0x001c, "scheme 0x001c, expected 0x0018" },
		{ 14, 2, 0x000b, "scheme.hashAlg 0x000b, expected 0x000c" },
		{ 16, 2, 0x0003, "curveID 0x0003, expected 0x0004" },
		{ 18, 2, 0x0020, "kdf 0x0020, expected 0x0010" },
		{ 20, 2, 49, "unique.x of 49 bytes (P-384's are 1..48)" },
		{ 20, 2, 0, "unique.x of 0 bytes" },
		{ 70, 2, 49, "unique.y of 49 bytes" },
	};
	static const uint8_t extra = 0;
	struct tpm2_ak ak;
	char err[200] = "x";
	size_t len;

	(void)state;
	memset(&ak, 0xa5, sizeof(ak));
	assert_int_equal(tpm2_parse_create_ak(rsp_create_ak, sizeof(rsp_create_ak),
					      &ak, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(ak.handle, 0x80000000);
	assert_int_equal(ak.pub[0], 0x04);
	assert_memory_equal(ak.pub + 1, rsp_create_ak + AK_X, 48);
	assert_memory_equal(ak.pub + 49, rsp_create_ak + AK_Y, 48);
	assert_int_equal(ak.public_len, AK_PUB_LEN);
	assert_memory_equal(ak.public_area, rsp_create_ak + AK_PUB, AK_PUB_LEN);

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		ak_field_refused(fields[i].off, fields[i].n, fields[i].v, fields[i].why);

	/* Coordinates with a leading zero dropped: left-padded back. */
	len = splice(rsp_create_ak, sizeof(rsp_create_ak), AK_PARAMS, AK_X, 1, NULL, 0);
	set_be16(m + AK_PUB - 2, AK_PUB_LEN - 1);
	set_be16(m + AK_X - 2, 47);
	assert_int_equal(tpm2_parse_create_ak(m, len, &ak, NULL, 0), 0);
	assert_int_equal(ak.pub[1], 0);
	assert_memory_equal(ak.pub + 2, rsp_create_ak + AK_X + 1, 47);
	assert_memory_equal(ak.pub + 49, rsp_create_ak + AK_Y, 48);
	assert_int_equal(ak.public_len, AK_PUB_LEN - 1);
	assert_memory_equal(ak.public_area, m + AK_PUB, AK_PUB_LEN - 1);
	len = splice(rsp_create_ak, sizeof(rsp_create_ak), AK_PARAMS, AK_Y, 47, NULL, 0);
	set_be16(m + AK_PUB - 2, AK_PUB_LEN - 47);
	set_be16(m + AK_Y - 2, 1);
	assert_int_equal(tpm2_parse_create_ak(m, len, &ak, NULL, 0), 0);
	assert_memory_equal(ak.pub + 1, rsp_create_ak + AK_X, 48);
	for (size_t i = 49; i < 96; i++)
		assert_int_equal(ak.pub[i], 0);
	assert_int_equal(ak.pub[96], rsp_create_ak[AK_Y + 47]);

	/* The sizes around the public area and the parameters. */
	len = splice(rsp_create_ak, sizeof(rsp_create_ak), AK_PARAMS, AK_CREATION, 0,
		     &extra, 1);
	set_be16(m + AK_PUB - 2, AK_PUB_LEN + 1);
	ak_refused(m, len, "CreatePrimary response: 1 bytes left over in outPublic");
	memcpy(m, rsp_create_ak, sizeof(rsp_create_ak));
	set_be16(m + AK_PUB - 2, AK_PUB_LEN - 1);
	ak_refused(m, sizeof(rsp_create_ak), "CreatePrimary response truncated in unique.y");
	memcpy(m, rsp_create_ak, sizeof(rsp_create_ak));
	m[AK_PARAMS + 3]++;
	ak_refused(m, sizeof(rsp_create_ak), "1 bytes left over in parameters");
	m[AK_PARAMS + 3] -= 2;
	ak_refused(m, sizeof(rsp_create_ak), "truncated in name");
	memcpy(m, rsp_create_ak, sizeof(rsp_create_ak));
	set_be16(m + AK_CREATION, 0xffff);
	ak_refused(m, sizeof(rsp_create_ak), "truncated in creationData");

	memcpy(m, rsp_create_ak, sizeof(rsp_create_ak));
	m[10] = 0x81; /* a persistent handle */
	ak_refused(m, sizeof(rsp_create_ak),
		   "CreatePrimary response: handle 0x81000000 is not a transient object's");
	memcpy(m, rsp_create_ak, sizeof(rsp_create_ak));
	m[sizeof(rsp_create_ak) - 3] = 0x02;
	ak_refused(m, sizeof(rsp_create_ak),
		   "CreatePrimary response: session attributes 0x02");
	memcpy(m, rsp_create_ak, sizeof(rsp_create_ak));
	m[1] = 0x01;
	ak_refused(m, sizeof(rsp_create_ak), "response tag 0x8001, expected 0x8002");
	len = make_rsp(TPM2_ST_NO_SESSIONS, 0x902, NULL, 0);
	ak_refused(m, len, "CreatePrimary failed: TPM_RC_OBJECT_MEMORY (0x902)");
}

static void quote_refused(const uint8_t *rsp, size_t len, const char *why)
{
	struct tpm2_quote q, blank;

	memset(&q, 0xa5, sizeof(q));
	memset(&blank, 0xa5, sizeof(blank));
	expect_refused(QUOTE, rsp, len, why);
	assert_int_equal(tpm2_parse_quote(rsp, len, &q, NULL, 0), -1);
	assert_memory_equal(&q, &blank, sizeof(q));
}

/* rsp_quote with the 2-byte field at off set to v. */
static void quote_field_refused(size_t off, uint16_t v, const char *why)
{
	memcpy(m, rsp_quote, sizeof(rsp_quote));
	set_be16(m + off, v);
	quote_refused(m, sizeof(rsp_quote), why);
}

static void test_quote(void **state)
{
	struct tpm2_quote q;
	struct tpm2_ak ak;
	uint8_t digest[48];
	char err[200] = "x";
	size_t len;

	(void)state;
	memset(&q, 0xa5, sizeof(q));
	assert_int_equal(tpm2_parse_quote(rsp_quote, sizeof(rsp_quote), &q, err,
					  sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(q.attest_len, Q_ATTEST_LEN);
	assert_memory_equal(q.attest, rsp_quote + Q_ATTEST, Q_ATTEST_LEN);
	assert_memory_equal(q.sig, rsp_quote + Q_R, 48);
	assert_memory_equal(q.sig + 48, rsp_quote + Q_S, 48);
	/* The AK's point and the quote fit: ECDSA over SHA-384 of the attest. */
	assert_int_equal(tpm2_parse_create_ak(rsp_create_ak, sizeof(rsp_create_ak),
					      &ak, NULL, 0), 0);
	crypto_sha384(q.attest, q.attest_len, digest);
	assert_int_equal(crypto_ecdsa_p384_verify(ak.pub, digest, 48, q.sig), CRYPTO_OK);
	q.sig[95] ^= 1;
	assert_int_not_equal(crypto_ecdsa_p384_verify(ak.pub, digest, 48, q.sig),
			     CRYPTO_OK);

	quote_field_refused(Q_SIG_ALG, 0x0014,
			    "Quote response: signature.sigAlg 0x0014, expected 0x0018");
	quote_field_refused(Q_SIG_ALG + 2, 0x000b,
			    "Quote response: signature.hash 0x000b, expected 0x000c");
	quote_field_refused(Q_R - 2, 49,
			    "Quote response: signature.r of 49 bytes (P-384's are 1..48)");
	quote_field_refused(Q_S - 2, 0, "signature.s of 0 bytes");
	quote_field_refused(Q_S - 2, 49, "signature.s of 49 bytes");
	quote_field_refused(Q_ATTEST - 2, TPM2_ATTEST_MAX + 1,
			    "Quote response: quoted of 513 bytes (1..512)");
	quote_field_refused(Q_ATTEST - 2, 0, "quoted of 0 bytes");
	memcpy(m, rsp_quote, sizeof(rsp_quote));
	m[Q_PARAMS + 3]++;
	quote_refused(m, sizeof(rsp_quote), "Quote response: 1 bytes left over in parameters");
	m[Q_PARAMS + 3] -= 2;
	quote_refused(m, sizeof(rsp_quote), "truncated in signature.s");
	memcpy(m, rsp_quote, sizeof(rsp_quote));
	m[sizeof(rsp_quote) - 3] = 0x81;
	quote_refused(m, sizeof(rsp_quote), "Quote response: session attributes 0x81");
	memcpy(m, rsp_quote, sizeof(rsp_quote));
	m[1] = 0x01;
	quote_refused(m, sizeof(rsp_quote), "response tag 0x8001, expected 0x8002");
	quote_refused(rsp_quote_retry, sizeof(rsp_quote_retry),
		      "Quote failed: TPM_RC_RETRY (0x922)");
	quote_refused(rsp_quote_flushed, sizeof(rsp_quote_flushed),
		      "Quote failed: TPM_RC_REFERENCE_H0 (0x910)");

	/* r and s with leading zeros dropped: left-padded back. */
	len = splice(rsp_quote, sizeof(rsp_quote), Q_PARAMS, Q_R, 1, NULL, 0);
	set_be16(m + Q_R - 2, 47);
	assert_int_equal(tpm2_parse_quote(m, len, &q, NULL, 0), 0);
	assert_int_equal(q.sig[0], 0);
	assert_memory_equal(q.sig + 1, rsp_quote + Q_R + 1, 47);
	assert_memory_equal(q.sig + 48, rsp_quote + Q_S, 48);
	len = splice(rsp_quote, sizeof(rsp_quote), Q_PARAMS, Q_S, 2, NULL, 0);
	set_be16(m + Q_S - 2, 46);
	assert_int_equal(tpm2_parse_quote(m, len, &q, NULL, 0), 0);
	assert_memory_equal(q.sig, rsp_quote + Q_R, 48);
	assert_int_equal(q.sig[48] | q.sig[49], 0);
	assert_memory_equal(q.sig + 50, rsp_quote + Q_S + 2, 46);
}

static void test_flush_context(void **state)
{
	char err[200] = "x";
	size_t len;

	(void)state;
	assert_int_equal(tpm2_parse_flush_context(rsp_flush, sizeof(rsp_flush), err,
						  sizeof(err)), 0);
	assert_string_equal(err, "");
	expect_refused(FLUSH, rsp_flush_again, sizeof(rsp_flush_again),
		       "FlushContext failed: TPM_RC_HANDLE (0x1cb, parameter 1)");
	len = make_rsp(TPM2_ST_SESSIONS, 0, NULL, 0);
	expect_refused(FLUSH, m, len, "response tag 0x8002, expected 0x8001");
	expect_refused(FLUSH, rsp_pcr_extend, sizeof(rsp_pcr_extend),
		       "response tag 0x8002, expected 0x8001");
}

/* --- Credential activation: responses ----------------------------------- */

/* Where rsp_create_ek's fields are: parameterSize, the TPMT_PUBLIC, its
 * modulus, creationData. */
#define EK_PARAMS   14
#define EK_PUB      20
#define EK_MOD      (EK_PUB + 58)
#define EK_CREATION (EK_PUB + TPM2_EK_PUBLIC_LEN)
/* ... and rsp_activate's: certInfo, the two auth areas. */
#define ACT_INFO    16
#define ACT_PW      (ACT_INFO + 32)
#define ACT_POLICY  (ACT_PW + 5)

static void test_get_property(void **state)
{
	char err[200] = "x";
	uint32_t v = 0;
	size_t len;

	(void)state;
	assert_int_equal(tpm2_parse_get_property(rsp_get_nv_buffer,
						 sizeof(rsp_get_nv_buffer),
						 TPM2_PT_NV_BUFFER_MAX, &v, err,
						 sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(v, 1024);
	/* A TPM without the property answers with the next one. */
	v = 7;
	assert_int_equal(tpm2_parse_get_property(rsp_get_nv_buffer,
						 sizeof(rsp_get_nv_buffer), 0x12b,
						 &v, err, sizeof(err)), -1);
	assert_string_equal(err, "GetCapability response: tpmProperties.property 0x0000012c, expected 0x0000012b");
	assert_int_equal(v, 7);
	expect_refused(GET_PROPERTY, rsp_get_nv_buffer_2, sizeof(rsp_get_nv_buffer_2),
		       "GetCapability response: tpmProperties.count 0x00000002, expected 0x00000001");
	memcpy(m, rsp_get_nv_buffer, sizeof(rsp_get_nv_buffer));
	m[10] = 0;
	assert_int_equal(parse(GET_PROPERTY, m, sizeof(rsp_get_nv_buffer), NULL, 0), 0);
	m[10] = 2;
	expect_refused(GET_PROPERTY, m, sizeof(rsp_get_nv_buffer),
		       "GetCapability response: moreData 2 (a TPMI_YES_NO)");
	memcpy(m, rsp_get_nv_buffer, sizeof(rsp_get_nv_buffer));
	m[14] = 5;
	expect_refused(GET_PROPERTY, m, sizeof(rsp_get_nv_buffer),
		       "capability 0x00000005, expected 0x00000006");
	expect_refused(GET_PROPERTY, rsp_banks_default, sizeof(rsp_banks_default),
		       "capability 0x00000005");
	len = make_rsp(TPM2_ST_NO_SESSIONS, 0x1c4, NULL, 0);
	expect_refused(GET_PROPERTY, m, len,
		       "GetCapability failed: TPM_RC_VALUE (0x1c4, parameter 1)");
}

static void test_nv_read_public(void **state)
{
	char err[200] = "x";
	uint16_t size = 0;
	uint32_t attrs = 0;
	size_t len;

	(void)state;
	assert_int_equal(tpm2_parse_nv_read_public(rsp_nv_public_rsa,
						   sizeof(rsp_nv_public_rsa),
						   TPM2_NV_EK_CERT_RSA, &size,
						   &attrs, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(size, 1016);
	assert_int_equal(attrs, 0x62072001);
	assert_true(attrs & TPM2_NVA_AUTHREAD && attrs & TPM2_NVA_WRITTEN);
	assert_int_equal(tpm2_parse_nv_read_public(rsp_nv_public_ecc,
						   sizeof(rsp_nv_public_ecc),
						   TPM2_NV_EK_CERT_ECC, &size,
						   &attrs, NULL, 0), 0);
	assert_int_equal(size, 842);

	/* Another index than the one asked for. */
	size = 1;
	attrs = 2;
	assert_int_equal(tpm2_parse_nv_read_public(rsp_nv_public_ecc,
						   sizeof(rsp_nv_public_ecc),
						   TPM2_NV_EK_CERT_RSA, &size,
						   &attrs, err, sizeof(err)), -1);
	assert_string_equal(err, "NV_ReadPublic response: nvIndex 0x01c00016, expected 0x01c00002");
	assert_int_equal(size, 1);
	assert_int_equal(attrs, 2);
	expect_refused(NV_PUBLIC, rsp_nv_public_missing, sizeof(rsp_nv_public_missing),
		       "NV_ReadPublic failed: TPM_RC_HANDLE (0x18b, handle 1)");

	memcpy(m, rsp_nv_public_rsa, sizeof(rsp_nv_public_rsa));
	m[17] = 0x12; /* SM3-256: not known here */
	expect_refused(NV_PUBLIC, m, sizeof(rsp_nv_public_rsa),
		       "NV_ReadPublic response: nameAlg 0x0012 is not a hash known here");
	memcpy(m, rsp_nv_public_rsa, sizeof(rsp_nv_public_rsa));
	m[17] = 0x0c; /* SHA-384: the name's size no longer fits */
	expect_refused(NV_PUBLIC, m, sizeof(rsp_nv_public_rsa),
		       "NV_ReadPublic response: nvName of 34 bytes, nameAlg's is 50");
	memcpy(m, rsp_nv_public_rsa, sizeof(rsp_nv_public_rsa));
	m[29] = 0x0c;
	expect_refused(NV_PUBLIC, m, sizeof(rsp_nv_public_rsa),
		       "NV_ReadPublic response: nvName.hashAlg 0x000c, expected 0x000b");
	memcpy(m, rsp_nv_public_rsa, sizeof(rsp_nv_public_rsa));
	m[27] = 0x21;
	expect_refused(NV_PUBLIC, m, sizeof(rsp_nv_public_rsa), "nvName of 33 bytes");
	memcpy(m, rsp_nv_public_rsa, sizeof(rsp_nv_public_rsa));
	m[23] = 5;
	expect_refused(NV_PUBLIC, m, sizeof(rsp_nv_public_rsa),
		       "NV_ReadPublic response: authPolicy of 5 bytes (0 or 32)");
	memcpy(m, rsp_nv_public_rsa, sizeof(rsp_nv_public_rsa));
	m[11] = 0x0f;
	expect_refused(NV_PUBLIC, m, sizeof(rsp_nv_public_rsa),
		       "NV_ReadPublic response: 1 bytes left over in nvPublic");
	m[11] = 0x0d;
	expect_refused(NV_PUBLIC, m, sizeof(rsp_nv_public_rsa),
		       "NV_ReadPublic response truncated in dataSize");
	/* A 32-byte authPolicy, every size consistent. */
	memcpy(m, rsp_nv_public_rsa, 22);
	set_be16(m + 10, 14 + 32);
	set_be16(m + 22, 32);
	memset(m + 24, 0x5a, 32);
	memcpy(m + 56, rsp_nv_public_rsa + 24, sizeof(rsp_nv_public_rsa) - 24);
	len = sizeof(rsp_nv_public_rsa) + 32;
	set_be32(m + 2, (uint32_t)len);
	assert_int_equal(tpm2_parse_nv_read_public(m, len, TPM2_NV_EK_CERT_RSA,
						   &size, &attrs, NULL, 0), 0);
	assert_int_equal(size, 1016);
}

static void test_nv_read(void **state)
{
	char err[200] = "x";
	uint8_t out[TPM2_NV_READ_MAX + 1];

	(void)state;
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(tpm2_parse_nv_read(rsp_nv_read_32, sizeof(rsp_nv_read_32),
					    out, 32, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_memory_equal(out, rsp_nv_read_32 + 16, 32);
	assert_int_equal(out[0] << 8 | out[1], 0x3082); /* a DER SEQUENCE */
	assert_int_equal(out[32], 0xa5);
	assert_int_equal(tpm2_parse_nv_read(rsp_nv_read_16, sizeof(rsp_nv_read_16),
					    out, 16, NULL, 0), 0);
	assert_memory_equal(out, rsp_nv_read_16 + 16, 16);

	/* Not the size asked for, either way. */
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(tpm2_parse_nv_read(rsp_nv_read_32, sizeof(rsp_nv_read_32),
					    out, 16, err, sizeof(err)), -1);
	assert_string_equal(err, "NV_Read returned 32 bytes, asked for 16");
	assert_int_equal(out[0], 0xa5);
	expect_refused(NV_READ32, rsp_nv_read_16, sizeof(rsp_nv_read_16),
		       "NV_Read returned 16 bytes, asked for 32");
	assert_int_equal(tpm2_parse_nv_read(rsp_nv_read_32, sizeof(rsp_nv_read_32),
					    out, 0, err, sizeof(err)), -1);
	assert_string_equal(err, "NV_Read of 0 bytes (1..1024)");
	assert_int_equal(tpm2_parse_nv_read(rsp_nv_read_32, sizeof(rsp_nv_read_32),
					    out, TPM2_NV_READ_MAX + 1, err,
					    sizeof(err)), -1);
	assert_string_equal(err, "NV_Read of 1025 bytes (1..1024)");
	expect_refused(NV_READ32, rsp_nv_range, sizeof(rsp_nv_range),
		       "NV_Read failed: TPM_RC_NV_RANGE (0x146)");

	memcpy(m, rsp_nv_read_32, sizeof(rsp_nv_read_32));
	m[13]++;
	expect_refused(NV_READ32, m, sizeof(rsp_nv_read_32),
		       "NV_Read response: 1 bytes left over in parameters");
	m[13] -= 2;
	expect_refused(NV_READ32, m, sizeof(rsp_nv_read_32),
		       "NV_Read response truncated in data");
	memcpy(m, rsp_nv_read_32, sizeof(rsp_nv_read_32));
	m[sizeof(rsp_nv_read_32) - 3] = 0x20;
	expect_refused(NV_READ32, m, sizeof(rsp_nv_read_32),
		       "NV_Read response: session attributes 0x20");
}

static void ek_refused(const uint8_t *rsp, size_t len, const char *why)
{
	struct tpm2_ek ek, blank;

	memset(&ek, 0xa5, sizeof(ek));
	memset(&blank, 0xa5, sizeof(blank));
	expect_refused(CREATE_EK, rsp, len, why);
	assert_int_equal(tpm2_parse_create_ek(rsp, len, &ek, NULL, 0), -1);
	assert_memory_equal(&ek, &blank, sizeof(ek));
}

/* rsp_create_ek with the n-byte field at off in its TPMT_PUBLIC set to v. */
static void ek_field_refused(size_t off, size_t n, uint32_t v, const char *why)
{
	memcpy(m, rsp_create_ek, sizeof(rsp_create_ek));
	if (n == 4)
		set_be32(m + EK_PUB + off, v);
	else if (n == 2)
		set_be16(m + EK_PUB + off, (uint16_t)v);
	else
		m[EK_PUB + off] = (uint8_t)v;
	ek_refused(m, sizeof(rsp_create_ek), why);
}

static void test_create_ek(void **state)
{
	static const struct {
		size_t off, n;
		uint32_t v;
		const char *why;
	} fields[] = {
		{ 0, 2, 0x0023, "CreatePrimary response: type 0x0023, expected 0x0001" },
		{ 2, 2, 0x000c, "nameAlg 0x000c, expected 0x000b" },
		/* userWithAuth: usable without the policy */
		{ 4, 4, 0x000300f2, "objectAttributes 0x000300f2, expected 0x000300b2" },
		{ 4, 4, 0x00030032, "objectAttributes 0x00030032" }, /* adminWithPolicy */
		{ 4, 4, 0x000200b2, "objectAttributes 0x000200b2" }, /* not restricted */
		{ 8, 2, 0x0000, "authPolicy.size 0x0000, expected 0x0020" },
		{ 10, 1, 0x84, "CreatePrimary response: authPolicy is not the EK profile's" },
		{ 41, 1, 0xab, "authPolicy is not the EK profile's" },
		{ 42, 2, 0x0010, "symmetric.algorithm 0x0010, expected 0x0006" },
		{ 44, 2, 256, "symmetric.keyBits 0x0100, expected 0x0080" },
		{ 46, 2, 0x0044, "symmetric.mode 0x0044, expected 0x0043" },
		{ 48, 2, 0x0014, "scheme 0x0014, expected 0x0010" },
		{ 50, 2, 3072, "keyBits 0x0c00, expected 0x0800" },
		{ 52, 4, 3, "exponent 0x00000003, expected 0x00000000" },
		{ 56, 2, 255, "unique.size 0x00ff, expected 0x0100" },
		{ 58, 1, 0x7f, "CreatePrimary response: a modulus of fewer than 2048 bits" },
	};
	static const uint8_t extra = 0;
	struct tpm2_ek ek;
	char err[200] = "x";
	size_t len;

	(void)state;
	memset(&ek, 0xa5, sizeof(ek));
	assert_int_equal(tpm2_parse_create_ek(rsp_create_ek, sizeof(rsp_create_ek),
					      &ek, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(ek.handle, 0x80000001);
	assert_memory_equal(ek.modulus, rsp_create_ek + EK_MOD, TPM2_RSA2048_LEN);
	assert_memory_equal(ek.public_area, rsp_create_ek + EK_PUB, TPM2_EK_PUBLIC_LEN);

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		ek_field_refused(fields[i].off, fields[i].n, fields[i].v, fields[i].why);
	/* Another key's template: the AK's. */
	ek_refused(rsp_ekx_create_ak, sizeof(rsp_ekx_create_ak),
		   "CreatePrimary response: type 0x0023, expected 0x0001");

	len = splice(rsp_create_ek, sizeof(rsp_create_ek), EK_PARAMS, EK_CREATION, 0,
		     &extra, 1);
	set_be16(m + EK_PUB - 2, TPM2_EK_PUBLIC_LEN + 1);
	ek_refused(m, len, "CreatePrimary response: 1 bytes left over in outPublic");
	/* A short modulus, its sizes consistent. */
	len = splice(rsp_create_ek, sizeof(rsp_create_ek), EK_PARAMS, EK_MOD, 1, NULL, 0);
	set_be16(m + EK_PUB - 2, TPM2_EK_PUBLIC_LEN - 1);
	set_be16(m + EK_MOD - 2, 255);
	ek_refused(m, len, "unique.size 0x00ff, expected 0x0100");
	memcpy(m, rsp_create_ek, sizeof(rsp_create_ek));
	set_be16(m + EK_PUB - 2, TPM2_EK_PUBLIC_LEN - 1);
	ek_refused(m, sizeof(rsp_create_ek), "CreatePrimary response truncated in unique.rsa");
	memcpy(m, rsp_create_ek, sizeof(rsp_create_ek));
	m[EK_PARAMS + 3]++;
	ek_refused(m, sizeof(rsp_create_ek), "1 bytes left over in parameters");
	m[EK_PARAMS + 3] -= 2;
	ek_refused(m, sizeof(rsp_create_ek), "truncated in name");
	memcpy(m, rsp_create_ek, sizeof(rsp_create_ek));
	m[10] = 0x81;
	ek_refused(m, sizeof(rsp_create_ek),
		   "CreatePrimary response: handle 0x81000001 is not a transient object's");
	memcpy(m, rsp_create_ek, sizeof(rsp_create_ek));
	m[sizeof(rsp_create_ek) - 3] = 0x02;
	ek_refused(m, sizeof(rsp_create_ek), "session attributes 0x02");
	/* And the AK's parser the EK's response. */
	expect_refused(CREATE_AK, rsp_create_ek, sizeof(rsp_create_ek),
		       "CreatePrimary response: type 0x0001, expected 0x0023");
}

static void test_start_policy_session(void **state)
{
	struct tpm2_policy_session s;
	char err[200] = "x";
	size_t len;

	(void)state;
	assert_int_equal(tpm2_parse_start_policy_session(rsp_start_session,
							 sizeof(rsp_start_session),
							 &s, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(s.handle, 0x03000000);
	assert_memory_equal(s.nonce_tpm, rsp_start_session + 16, TPM2_NONCE_LEN);

	memset(&s, 0xa5, sizeof(s));
	memcpy(m, rsp_start_session, sizeof(rsp_start_session));
	m[10] = 0x02; /* an HMAC session */
	assert_int_equal(tpm2_parse_start_policy_session(m, sizeof(rsp_start_session),
							 &s, err, sizeof(err)), -1);
	assert_string_equal(err, "StartAuthSession response: handle 0x02000000 is not a policy session's");
	assert_int_equal(s.handle, 0xa5a5a5a5);
	assert_int_equal(s.nonce_tpm[0], 0xa5);
	/* A SHA-256-sized nonce, every size consistent: not what was sent. */
	len = resized(rsp_start_session, sizeof(rsp_start_session),
		      sizeof(rsp_start_session) + 16);
	m[15] = 32;
	expect_refused(START_SESSION, m, len,
		       "StartAuthSession response: nonceTPM of 32 bytes, nonceCaller's are 16");
	len = resized(rsp_start_session, sizeof(rsp_start_session), 16);
	m[15] = 0;
	expect_refused(START_SESSION, m, len, "nonceTPM of 0 bytes");
	memcpy(m, rsp_start_session, sizeof(rsp_start_session));
	m[1] = 0x02;
	expect_refused(START_SESSION, m, sizeof(rsp_start_session),
		       "response tag 0x8002, expected 0x8001");
	len = make_rsp(TPM2_ST_NO_SESSIONS, 0x903, NULL, 0);
	expect_refused(START_SESSION, m, len,
		       "StartAuthSession failed: TPM_RC_SESSION_MEMORY (0x903)");
}

static void test_policy_secret(void **state)
{
	char err[200] = "x";
	size_t len;

	(void)state;
	assert_int_equal(tpm2_parse_policy_secret(rsp_policy_secret,
						  sizeof(rsp_policy_secret), err,
						  sizeof(err)), 0);
	assert_string_equal(err, "");

	memcpy(m, rsp_policy_secret, sizeof(rsp_policy_secret));
	m[17] = 0x24;
	expect_refused(POLICY_SECRET, m, sizeof(rsp_policy_secret),
		       "PolicySecret response: policyTicket.tag 0x8024, expected 0x8023");
	/* The largest timeout and ticket digest, and one byte more of each. */
	memcpy(m, rsp_policy_secret, 14);
	set_be32(m + 10, 2 + 8 + 6 + 2 + 64);
	set_be16(m + 14, 8);
	memset(m + 16, 0x11, 8);
	memcpy(m + 24, rsp_policy_secret + 16, 6);
	set_be16(m + 30, 64);
	memset(m + 32, 0x22, 64);
	memcpy(m + 96, rsp_policy_secret + 24, 5);
	len = 101;
	set_be32(m + 2, (uint32_t)len);
	assert_int_equal(parse(POLICY_SECRET, m, len, NULL, 0), 0);
	set_be16(m + 14, 9);
	expect_refused(POLICY_SECRET, m, len,
		       "PolicySecret response: timeout of 9 bytes (0..8)");
	set_be16(m + 14, 8);
	set_be16(m + 30, 65);
	expect_refused(POLICY_SECRET, m, len,
		       "PolicySecret response: policyTicket.digest of 65 bytes (0..64)");
	memcpy(m, rsp_policy_secret, sizeof(rsp_policy_secret));
	m[13]++;
	expect_refused(POLICY_SECRET, m, sizeof(rsp_policy_secret),
		       "1 bytes left over in parameters");
	len = make_rsp(TPM2_ST_NO_SESSIONS, 0x98e, NULL, 0);
	expect_refused(POLICY_SECRET, m, len,
		       "PolicySecret failed: TPM_RC_AUTH_FAIL (0x98e, session 1)");
}

static void activate_refused(const uint8_t *rsp, size_t len, const char *why)
{
	uint8_t info[TPM2_DIGEST_MAX];
	size_t info_len = 0xdead;

	memset(info, 0xa5, sizeof(info));
	expect_refused(ACTIVATE, rsp, len, why);
	assert_int_equal(tpm2_parse_activate_credential(rsp, len, info, &info_len,
							NULL, 0), -1);
	assert_int_equal(info_len, 0xdead);
	assert_int_equal(info[0], 0xa5);
}

static void test_activate_credential(void **state)
{
	static const uint8_t pw_again[] = { 0x00, 0x00, 0x01, 0x00, 0x00 };
	uint8_t info[TPM2_DIGEST_MAX], ins[33];
	char err[200] = "x";
	size_t info_len = 0, len;

	(void)state;
	memset(info, 0xa5, sizeof(info));
	assert_int_equal(tpm2_parse_activate_credential(rsp_activate,
							sizeof(rsp_activate), info,
							&info_len, err,
							sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(info_len, sizeof(cred_plain));
	assert_memory_equal(info, cred_plain, sizeof(cred_plain));
	assert_int_equal(info[32], 0xa5);

	activate_refused(rsp_activate_retry, sizeof(rsp_activate_retry),
			 "ActivateCredential failed: TPM_RC_RETRY (0x922)");
	activate_refused(rsp_activate_policy_fail, sizeof(rsp_activate_policy_fail),
			 "ActivateCredential failed: TPM_RC_POLICY_FAIL (0xa9d, session 2)");
	activate_refused(rsp_activate_integrity, sizeof(rsp_activate_integrity),
			 "ActivateCredential failed: TPM_RC_INTEGRITY (0x1df, parameter 1)");

	/* certInfo of 0, 64 and 65 bytes, every size consistent. */
	len = splice(rsp_activate, sizeof(rsp_activate), 10, ACT_INFO, 32, NULL, 0);
	set_be16(m + ACT_INFO - 2, 0);
	activate_refused(m, len,
			 "ActivateCredential response: certInfo of 0 bytes (1..64)");
	memset(ins, 0x33, sizeof(ins));
	len = splice(rsp_activate, sizeof(rsp_activate), 10, ACT_PW, 0, ins, 32);
	set_be16(m + ACT_INFO - 2, 64);
	assert_int_equal(tpm2_parse_activate_credential(m, len, info, &info_len,
							NULL, 0), 0);
	assert_int_equal(info_len, 64);
	assert_memory_equal(info, cred_plain, 32);
	assert_memory_equal(info + 32, ins, 32);
	len = splice(rsp_activate, sizeof(rsp_activate), 10, ACT_PW, 0, ins, 33);
	set_be16(m + ACT_INFO - 2, 65);
	activate_refused(m, len, "certInfo of 65 bytes (1..64)");

	/* One auth area, three, and the two in the other order. */
	len = resized(rsp_activate, sizeof(rsp_activate), ACT_POLICY);
	activate_refused(m, len, "ActivateCredential response truncated in nonceTPM.size");
	len = resized(rsp_activate, sizeof(rsp_activate), sizeof(rsp_activate) + 5);
	memcpy(m + sizeof(rsp_activate), pw_again, sizeof(pw_again));
	activate_refused(m, len, "ActivateCredential response has 5 trailing bytes");
	memcpy(m, rsp_activate, ACT_PW);
	memcpy(m + ACT_PW, rsp_activate + ACT_POLICY, sizeof(rsp_activate) - ACT_POLICY);
	memcpy(m + ACT_PW + sizeof(rsp_activate) - ACT_POLICY, rsp_activate + ACT_PW, 5);
	activate_refused(m, sizeof(rsp_activate),
			 "ActivateCredential response: nonceTPM of 16 bytes (the password session's is empty)");

	memcpy(m, rsp_activate, sizeof(rsp_activate));
	m[ACT_POLICY + 18] = 0x01; /* continueSession: the session lives on */
	activate_refused(m, sizeof(rsp_activate),
			 "ActivateCredential response: policy session attributes 0x01 (sent 0x00)");
	len = resized(rsp_activate, sizeof(rsp_activate), sizeof(rsp_activate) + 32);
	m[sizeof(rsp_activate) - 1] = 32;
	activate_refused(m, len,
			 "ActivateCredential response: policy session hmac of 32 bytes (the policy needs none)");
	len = splice(rsp_activate, sizeof(rsp_activate), 10, ACT_POLICY + 2, 0, ins, 16);
	set_be32(m + 10, 0x22); /* the auth area is not in parameterSize */
	m[ACT_POLICY + 1] = 32;
	activate_refused(m, len,
			 "ActivateCredential response: nonceTPM of 32 bytes, nonceCaller's are 16");
	memcpy(m, rsp_activate, sizeof(rsp_activate));
	m[ACT_PW + 2] = 0x21;
	activate_refused(m, sizeof(rsp_activate), "session attributes 0x21");
	memcpy(m, rsp_activate, sizeof(rsp_activate));
	m[13]++;
	activate_refused(m, sizeof(rsp_activate), "1 bytes left over in parameters");
	m[13] -= 2;
	activate_refused(m, sizeof(rsp_activate), "truncated in certInfo");
}

/*
 * The whole exchange as a verifier sees it: the AK's Name (which
 * tpm2_makecredential bound the credential to) from the AK's public area,
 * the EK's Name equal to the one the TPM reported, the commands the
 * builders make are the ones swtpm answered, and certInfo is the secret.
 */
static void test_credential_activation(void **state)
{
	uint8_t buf[TPM2_BUFFER_MAX], digest[TPM2_SHA384_LEN];
	uint8_t ak_n[TPM2_AK_NAME_LEN], ek_n[TPM2_EK_NAME_LEN];
	uint8_t info[TPM2_DIGEST_MAX];
	struct tpm2_policy_session s;
	struct tpm2_ak ak;
	struct tpm2_ek ek;
	uint32_t v;
	uint16_t size;
	size_t info_len;

	(void)state;
	assert_int_equal(tpm2_parse_get_property(rsp_get_nv_buffer,
						 sizeof(rsp_get_nv_buffer),
						 TPM2_PT_NV_BUFFER_MAX, &v, NULL, 0), 0);
	assert_int_equal(v, TPM2_NV_READ_MAX);
	assert_int_equal(tpm2_parse_nv_read_public(rsp_nv_public_rsa,
						   sizeof(rsp_nv_public_rsa),
						   TPM2_NV_EK_CERT_RSA, &size,
						   &v, NULL, 0), 0);
	/* The certificate fits one read of TPM2_NV_READ_MAX, which the TPM
	 * allows; rsp_nv_read_32 and _16 are two of its chunks. */
	assert_true(size <= TPM2_NV_READ_MAX && v & TPM2_NVA_AUTHREAD);

	assert_int_equal(tpm2_parse_create_ak(rsp_ekx_create_ak,
					      sizeof(rsp_ekx_create_ak), &ak,
					      NULL, 0), 0);
	crypto_sha384(ak.public_area, ak.public_len, digest);
	tpm2_ak_name(digest, ak_n);
	assert_memory_equal(ak_n, ak_name, sizeof(ak_name));
	/* ... which is also the name the TPM returned, just before the auth area. */
	assert_memory_equal(ak_n, rsp_ekx_create_ak + sizeof(rsp_ekx_create_ak) - 5 -
			    TPM2_AK_NAME_LEN, TPM2_AK_NAME_LEN);

	assert_int_equal(tpm2_parse_create_ek(rsp_create_ek, sizeof(rsp_create_ek),
					      &ek, NULL, 0), 0);
	crypto_sha256(ek.public_area, TPM2_EK_PUBLIC_LEN, digest);
	tpm2_ek_name(digest, ek_n);
	assert_memory_equal(ek_n, rsp_create_ek + sizeof(rsp_create_ek) - 5 -
			    TPM2_EK_NAME_LEN, TPM2_EK_NAME_LEN);

	assert_int_equal(tpm2_parse_start_policy_session(rsp_start_session,
							 sizeof(rsp_start_session),
							 &s, NULL, 0), 0);
	assert_int_equal(tpm2_build_policy_secret_endorsement(buf, sizeof(buf),
							      s.handle), 41);
	assert_int_equal(tpm2_parse_policy_secret(rsp_policy_secret,
						  sizeof(rsp_policy_secret), NULL,
						  0), 0);
	assert_int_equal(tpm2_build_activate_credential(buf, sizeof(buf), ak.handle,
							ek.handle, s.handle,
							cred_blob, sizeof(cred_blob),
							cred_secret,
							sizeof(cred_secret)),
			 sizeof(cmd_activate));
	assert_memory_equal(buf, cmd_activate, sizeof(cmd_activate));
	assert_int_equal(tpm2_parse_activate_credential(rsp_activate,
							sizeof(rsp_activate), info,
							&info_len, NULL, 0), 0);
	assert_int_equal(info_len, sizeof(cred_plain));
	assert_memory_equal(info, cred_plain, sizeof(cred_plain));
}

/* --- Every parser ------------------------------------------------------- */

/*
 * Every proper prefix of every accepted response, against a guard page at
 * both ends, is refused: as it is (the size field no longer matches) and
 * with the size field saying the shorter length (the body runs out).
 */
static void test_truncations(void **state)
{
	struct guarded g;
	uint8_t copy[TPM2_BUFFER_MAX];

	(void)state;
	guarded_init(&g, TPM2_BUFFER_MAX);
	for (size_t v = 0; v < N_GOOD; v++) {
		const struct vector *t = &good[v];

		for (size_t n = 0; n < t->len; n++) {
			for (int end = 0; end < 2; end++) {
				const uint8_t *p = guarded_fill(&g, t->rsp, n, end);

				assert_int_equal(parse(t->parser, p, n, NULL, 0), -1);
				if (n < TPM2_HEADER_LEN)
					continue;
				memcpy(copy, t->rsp, n);
				set_be32(copy + 2, (uint32_t)n);
				p = guarded_fill(&g, copy, n, end);
				expect_refused(t->parser, p, n, "truncated");
			}
		}
		for (int end = 0; end < 2; end++)
			assert_int_equal(parse(t->parser, guarded_fill(&g, t->rsp, t->len, end),
					       t->len, NULL, 0), 0);
	}
	guarded_free(&g);
}

/* A byte after an accepted response, counted in its size or not. */
static void test_trailing_byte(void **state)
{
	(void)state;
	for (size_t v = 0; v < N_GOOD; v++) {
		size_t len = resized(good[v].rsp, good[v].len, good[v].len + 1);
		bool error_rsp = (good[v].rsp[8] | good[v].rsp[9]) != 0; /* INITIALIZE */

		expect_refused(good[v].parser, m, len, error_rsp ?
			       "error response of 11 bytes, more than its header" :
			       "has 1 trailing bytes");
		set_be32(m + 2, (uint32_t)good[v].len);
		expect_refused(good[v].parser, m, len, "size field says");
	}
}

/* The verdict does not depend on the error buffer; a short one is cut,
 * NUL-terminated. */
static void test_err_buffers(void **state)
{
	char tiny[4];

	(void)state;
	for (size_t v = 0; v < N_GOOD; v++) {
		size_t len = resized(good[v].rsp, good[v].len, good[v].len + 1);

		assert_int_equal(parse(good[v].parser, good[v].rsp, good[v].len,
				       tiny, sizeof(tiny)), 0);
		assert_int_equal(parse(good[v].parser, m, len, tiny, sizeof(tiny)), -1);
		assert_int_equal(strlen(tiny), 3);
		assert_int_equal(parse(good[v].parser, m, len, tiny, 1), -1);
		assert_string_equal(tiny, "");
	}
}

/* Whether parser p accepts vector v: its own parser, and a bare success
 * is both Startup's and FlushContext's. */
static bool accepts(int p, const struct vector *v)
{
	bool bare = v->len == TPM2_HEADER_LEN &&
		    memcmp(v->rsp, rsp_startup_success, TPM2_HEADER_LEN) == 0;

	return p == (int)v->parser || (bare && (p == STARTUP || p == FLUSH));
}

/* Each response offered to every other parser, and single-byte changes of
 * each: refused or accepted, never a crash (xorshift, fixed seed). */
static void test_cross_and_garbage(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15u;

	(void)state;
	for (size_t v = 0; v < N_GOOD; v++) {
		for (int p = STARTUP; p < PARSERS; p++) {
			int rc = parse((enum parser)p, good[v].rsp, good[v].len, NULL, 0);

			assert_int_equal(rc, accepts(p, &good[v]) ? 0 : -1);
		}
	}
	for (int round = 0; round < 20000; round++) {
		const struct vector *t = &good[round % N_GOOD];

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(m, t->rsp, t->len);
		m[x % t->len] ^= (uint8_t)(x >> 32 | 1);
		for (int p = STARTUP; p < PARSERS; p++) {
			int rc = parse((enum parser)p, m, t->len, NULL, 0);

			assert_true(rc == 0 || rc == -1);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_build_startup),
		cmocka_unit_test(test_build_get_random),
		cmocka_unit_test(test_build_get_pcr_banks),
		cmocka_unit_test(test_build_pcr_extend),
		cmocka_unit_test(test_build_pcr_read),
		cmocka_unit_test(test_build_create_ak),
		cmocka_unit_test(test_build_quote),
		cmocka_unit_test(test_build_flush_context),
		cmocka_unit_test(test_build_get_property),
		cmocka_unit_test(test_build_nv_read_public),
		cmocka_unit_test(test_build_nv_read),
		cmocka_unit_test(test_build_create_ek),
		cmocka_unit_test(test_build_start_policy_session),
		cmocka_unit_test(test_build_policy_secret),
		cmocka_unit_test(test_build_activate_credential),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_rc_name),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_startup),
		cmocka_unit_test(test_get_random),
		cmocka_unit_test(test_get_pcr_banks),
		cmocka_unit_test(test_pcr_extend),
		cmocka_unit_test(test_pcr_read),
		cmocka_unit_test(test_create_ak),
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_flush_context),
		cmocka_unit_test(test_get_property),
		cmocka_unit_test(test_nv_read_public),
		cmocka_unit_test(test_nv_read),
		cmocka_unit_test(test_create_ek),
		cmocka_unit_test(test_start_policy_session),
		cmocka_unit_test(test_policy_secret),
		cmocka_unit_test(test_activate_credential),
		cmocka_unit_test(test_credential_activation),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_trailing_byte),
		cmocka_unit_test(test_err_buffers),
		cmocka_unit_test(test_cross_and_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
