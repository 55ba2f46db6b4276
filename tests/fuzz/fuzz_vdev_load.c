/*
 * libFuzzer target for vplatform_load (vdev/vplatform.c): a VM's saved
 * device state comes back inside a sealed blob, untrusted until checked.
 *
 * Input: one byte choosing the TSC rate and value of the loading
 * platform, then the state.
 * Properties: no crash or undefined behaviour (ASan, UBSan) in load or
 * in running what it accepted (ports, APIC MSRs, an interrupt and its EOI); a refusal leaves the platform untouched;
 * an accepted state saves to bytes that load again and save the same.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <custos/types.h>

#include "vdev/vplatform.h"
#include "fuzz_util.h"

static const uint64_t rates[] = {
	2500000000ull, 1000000ull, 10000000000ull, VTIME_MIN_HZ,
};
static const uint64_t starts[] = { 1000000, 0, 1ull << 62, UINT64_MAX - 5 };

static struct vplatform p, q, untouched;
static uint8_t s1[VPLATFORM_SAVE_SIZE], s2[VPLATFORM_SAVE_SIZE];

/* Every port of the platform read once, the interrupt taken, a second on. */
static void exercise(struct vplatform *pl, uint64_t now)
{
	static const uint16_t ports[] = {
		0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x61,
		0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x71,
		0x60, 0x64, 0x92, 0xcf9,
	};
	uint64_t later = vtime_add_sat(now, pl->tsc_hz);

	for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
		struct vio_access a = { .port = ports[i], .size = 1, .in = true };

		vplatform_io(pl, &a, now);
		require(a.value <= 0xff);
	}
	static const uint32_t msrs[] = { 0x1b, 0x6e0, 0x808, 0x80a, 0x80f, 0x839 };
	uint64_t v = 0;

	for (size_t i = 0; i < ARRAY_SIZE(msrs); i++)
		vplatform_msr(pl, msrs[i], false, &v, now);
	if (vplatform_intr_pending(pl, later))
		vplatform_intr_ack(pl, later);
	vplatform_msr(pl, 0x80b, true, &v, later); /* EOI (v: 0 or refused) */
	v = 0;
	vplatform_msr(pl, 0x80b, true, &v, later);
	(void)vplatform_next_deadline(pl, later);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t hz, now;
	uint8_t *blob;

	if (size < 1)
		return 0;
	hz = rates[data[0] & 3];
	now = starts[(data[0] >> 2) & 3];
	blob = malloc(size - 1 ? size - 1 : 1);  /* exactly: ASan sees overreads */
	require(blob != NULL);
	memcpy(blob, data + 1, size - 1);
	memset(&p, 0x6b, sizeof(p));
	untouched = p;
	if (!vplatform_load(&p, blob, size - 1, hz, now)) {
		require(memcmp(&p, &untouched, sizeof(p)) == 0);
		free(blob);
		return 0;
	}
	vplatform_save(&p, now, s1);
	vplatform_set_tsc_offset(&q, p.lapic.tsc_offset);
	require(vplatform_load(&q, s1, sizeof(s1), hz, now));
	vplatform_save(&q, now, s2);
	require(memcmp(s1, s2, sizeof(s1)) == 0);
	exercise(&p, now);
	free(blob);
	return 0;
}
