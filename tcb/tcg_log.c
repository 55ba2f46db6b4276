/*
 * TCG crypto-agile event log encoding (TCG PC Client Platform Firmware
 * Profile, section "Event Logging"). All integers are little-endian, as the
 * profile requires, whatever the host; every field is written byte by byte
 * so no structure padding or alignment can leak into the log.
 */
#include "tcb/tcg_log.h"

#include <string.h>

/* "Spec ID Event03" and its NUL: the signature of TCG_EfiSpecIdEvent that
 * tells a parser the rest of the log is TCG_PCR_EVENT2 (crypto agile). */
static const char specid_signature[16] = "Spec ID Event03";

/* TCG_EfiSpecIdEvent fields: a PC Client platform class, spec version 2.0
 * errata 0, UINTN of 64 bits (uintnSize 2 counts UINT32 units). */
#define SPECID_PLATFORM_CLASS 0u
#define SPECID_VERSION_MINOR  0u
#define SPECID_VERSION_MAJOR  2u
#define SPECID_ERRATA         0u
#define SPECID_UINTN_SIZE     2u

/* Where the writer is; stays inside buf because every caller checked the
 * total size first. */
struct out {
	uint8_t *p;
};

static void put_u8(struct out *o, uint8_t v)
{
	*o->p++ = v;
}

static void put_u16(struct out *o, uint16_t v)
{
	put_u8(o, (uint8_t)v);
	put_u8(o, (uint8_t)(v >> 8));
}

static void put_u32(struct out *o, uint32_t v)
{
	put_u16(o, (uint16_t)v);
	put_u16(o, (uint16_t)(v >> 16));
}

static void put_bytes(struct out *o, const void *src, size_t n)
{
	memcpy(o->p, src, n);
	o->p += n;
}

static void put_zeros(struct out *o, size_t n)
{
	memset(o->p, 0, n);
	o->p += n;
}

/*
 * PCRs 8-15 are for the OS / loaded code (the PC Client profile leaves them
 * to whatever runs after the boot loader) and an ordinary locality-0 TCB can
 * extend them. GRUB takes 8 and 9 (its commands and every file it opens),
 * so the TCB's are 12 the hypervisor itself, 13 what it trusts, 14 the
 * TPGVM, 15 the boot-module VMs beside it.
 */
int tcg_log_pcr(uint32_t measure_type)
{
	switch (measure_type) {
	case MEASURE_HV_IMAGE:
	case MEASURE_HV_CMDLINE:   return TCG_PCR_HV;
	case MEASURE_CA_ROOT:      return TCG_PCR_TRUST;
	case MEASURE_TPGVM_IMAGE:
	case MEASURE_TPGVM_POLICY: return TCG_PCR_TPGVM;
	case MEASURE_BOOT_VM:      return TCG_PCR_BOOT_VM;
	default:                   return -1;
	}
}

/* EV_IPL for all: code and data loaded by a boot loader, the role the TCB
 * plays; its event data is a string, which tpm2_eventlog prints as text. */
uint32_t tcg_log_event_type(uint32_t measure_type)
{
	(void)measure_type;
	return TCG_EV_IPL;
}

/* The event data: the description and its NUL. strnlen bounds it even in
 * a description that lost its terminator. */
static size_t desc_len(const struct measure_event *e)
{
	return strnlen(e->desc, MEASURE_DESC_MAX - 1);
}

static size_t event2_len(const struct measure_event *e)
{
	return TCG_EVENT2_FIXED_LEN + desc_len(e) + 1;
}

static bool log_valid(const struct measure_log *log)
{
	if (log->count > MEASURE_MAX_EVENTS)
		return false;
	for (size_t i = 0; i < log->count; i++) {
		if (tcg_log_pcr(log->events[i].type) < 0)
			return false;
	}
	return true;
}

size_t tcg_log_size(const struct measure_log *log)
{
	size_t n = TCG_HEADER_LEN;

	if (!log_valid(log))
		return 0;
	for (size_t i = 0; i < log->count; i++)
		n += event2_len(&log->events[i]);
	return n;
}

/* TCG_PCClientPCREvent in the SHA-1 layout, which every parser reads, with
 * EV_NO_ACTION (so nothing is extended) and a TCG_EfiSpecIdEvent naming the
 * one bank this log carries. */
static void put_header(struct out *o)
{
	put_u32(o, 0);                        /* pcrIndex */
	put_u32(o, TCG_EV_NO_ACTION);         /* eventType */
	put_zeros(o, 20);                     /* digest (SHA-1 sized, zero) */
	put_u32(o, TCG_SPECID_EVENT_LEN);     /* eventDataSize */
	put_bytes(o, specid_signature, sizeof(specid_signature));
	put_u32(o, SPECID_PLATFORM_CLASS);
	put_u8(o, SPECID_VERSION_MINOR);
	put_u8(o, SPECID_VERSION_MAJOR);
	put_u8(o, SPECID_ERRATA);
	put_u8(o, SPECID_UINTN_SIZE);
	put_u32(o, 1);                        /* numberOfAlgorithms */
	put_u16(o, TCG_ALG_SHA384);           /* digestSizes[0].algorithmId */
	put_u16(o, MEASURE_DIGEST_LEN);       /* digestSizes[0].digestSize */
	put_u8(o, 0);                         /* vendorInfoSize */
}

/* TCG_PCR_EVENT2 with a TPML_DIGEST_VALUES of one SHA-384 digest. */
static void put_event2(struct out *o, const struct measure_event *e)
{
	size_t n = desc_len(e);

	put_u32(o, (uint32_t)tcg_log_pcr(e->type));
	put_u32(o, tcg_log_event_type(e->type));
	put_u32(o, 1);                        /* digests.count */
	put_u16(o, TCG_ALG_SHA384);           /* digests[0].hashAlg */
	put_bytes(o, e->digest, MEASURE_DIGEST_LEN);
	put_u32(o, (uint32_t)(n + 1));        /* eventSize */
	put_bytes(o, e->desc, n);
	put_u8(o, 0);
}

int tcg_log_encode(const struct measure_log *log, uint8_t *buf, size_t cap,
		   size_t *len)
{
	size_t need = tcg_log_size(log);
	struct out o = { buf };

	*len = 0;
	if (need == 0 || need > cap)
		return -1;
	put_header(&o);
	for (size_t i = 0; i < log->count; i++)
		put_event2(&o, &log->events[i]);
	*len = (size_t)(o.p - buf);
	return 0;
}

/* TPM2_PCR_Extend on a SHA-384 bank: the new value hashes the old one
 * followed by the event's digest (TPM 2.0 Library, Part 1, "Extend of a PCR"). */
static void extend(void (*sha384)(const void *, size_t, uint8_t[48]),
		   uint8_t pcr[48], const uint8_t digest[48])
{
	uint8_t cat[2 * MEASURE_DIGEST_LEN];

	memcpy(cat, pcr, MEASURE_DIGEST_LEN);
	memcpy(cat + MEASURE_DIGEST_LEN, digest, MEASURE_DIGEST_LEN);
	sha384(cat, sizeof(cat), pcr);
}

int tcg_log_replay(const struct measure_log *log,
		   void (*sha384)(const void *data, size_t len, uint8_t out[48]),
		   unsigned pcr, uint8_t out[48])
{
	memset(out, 0, MEASURE_DIGEST_LEN);
	if (!log_valid(log))
		return -1;
	for (size_t i = 0; i < log->count; i++) {
		const struct measure_event *e = &log->events[i];

		if ((unsigned)tcg_log_pcr(e->type) == pcr)
			extend(sha384, out, e->digest);
	}
	return 0;
}
