#include "tcb/measure.h"

#include <string.h>

void measure_log_init(struct measure_log *log)
{
	memset(log, 0, sizeof(*log));
}

int measure_log_append(struct measure_log *log, enum measure_type type,
		       const uint8_t digest[MEASURE_DIGEST_LEN], const char *desc)
{
	struct measure_event *e;
	size_t n;

	if (log->count >= MEASURE_MAX_EVENTS)
		return -1;
	if (log->extend && log->extend((uint32_t)type, digest) != 0)
		return -1;
	e = &log->events[log->count];
	memset(e, 0, sizeof(*e));
	e->type = (uint32_t)type;
	memcpy(e->digest, digest, MEASURE_DIGEST_LEN);
	n = desc ? strnlen(desc, MEASURE_DESC_MAX - 1) : 0;
	memcpy(e->desc, desc ? desc : "", n);
	log->count++;
	return 0;
}

const char *measure_type_name(uint32_t type)
{
	switch (type) {
	case MEASURE_HV_IMAGE:     return "hypervisor";
	case MEASURE_HV_CMDLINE:   return "cmdline";
	case MEASURE_CA_ROOT:      return "ca-root";
	case MEASURE_TPGVM_IMAGE:  return "tpgvm-image";
	case MEASURE_TPGVM_POLICY: return "tpgvm-policy";
	case MEASURE_BOOT_VM:      return "boot-vm";
	default:                   return "unknown";
	}
}

bool measure_log_full(const struct measure_log *log)
{
	return log->count >= MEASURE_MAX_EVENTS;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void measure_boot_vm_digest(void (*sha384)(const void *data, size_t len,
					   uint8_t out[MEASURE_DIGEST_LEN]),
			    const char *cmdline, const void *image,
			    size_t image_len, uint8_t out[MEASURE_DIGEST_LEN])
{
	/* tag || H(cmdline) || len || H(image) || len: fixed offsets, so no
	 * two (cmdline, image) pairs encode alike. */
	uint8_t buf[sizeof(MEASURE_BOOT_VM_TAG) - 1 + 2 * (MEASURE_DIGEST_LEN + 8)];
	size_t tag = sizeof(MEASURE_BOOT_VM_TAG) - 1, n = strlen(cmdline);
	uint8_t *p = buf + tag;

	memcpy(buf, MEASURE_BOOT_VM_TAG, tag);
	sha384(cmdline, n, p);
	put_le64(p + MEASURE_DIGEST_LEN, n);
	p += MEASURE_DIGEST_LEN + 8;
	sha384(image, image_len, p);
	put_le64(p + MEASURE_DIGEST_LEN, image_len);
	sha384(buf, sizeof(buf), out);
}

void measure_boot_vm_desc(const char *name, char desc[MEASURE_DESC_MAX])
{
	size_t pre = sizeof(MEASURE_BOOT_VM_DESC_PREFIX) - 1;
	size_t n = strnlen(name, MEASURE_DESC_MAX - 1 - pre);

	memcpy(desc, MEASURE_BOOT_VM_DESC_PREFIX, pre);
	memcpy(desc + pre, name, n);
	desc[pre + n] = '\0';
}
