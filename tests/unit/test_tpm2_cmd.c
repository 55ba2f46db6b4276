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
	FLUSH,
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
};

#define N_GOOD (sizeof(good) / sizeof(good[0]))

static uint8_t m[TPM2_BUFFER_MAX + 16]; /* a vector to change */

/* Any parser, with PCR 12 and room for 64 random bytes. */
static int parse(enum parser p, const uint8_t *rsp, size_t len, char *err,
		 size_t err_len)
{
	uint8_t out[64];
	uint32_t map;
	size_t got;
	struct tpm2_ak ak;
	struct tpm2_quote q;

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
		for (int p = STARTUP; p <= FLUSH; p++) {
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
		for (int p = STARTUP; p <= FLUSH; p++) {
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
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_trailing_byte),
		cmocka_unit_test(test_err_buffers),
		cmocka_unit_test(test_cross_and_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
