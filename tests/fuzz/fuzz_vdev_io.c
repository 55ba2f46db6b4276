/*
 * libFuzzer target for the virtual platform (vdev/): the input is a
 * sequence of guest port accesses, time steps, interrupt acknowledgements,
 * console input and save/load round trips on one platform.
 *
 * Input: a byte choosing the TSC rate and where the TSC starts, then
 * operations (one byte each, then their arguments; past the end every
 * byte reads 0 and the run stops).
 * Properties, besides no crash and no undefined behaviour (ASan, UBSan):
 *  - an IN's value fits its size, all ones when unclaimed; VIO_TX only
 *    for an OUT to the UART's THR;
 *  - a vector is -1 or a line of one of the two PICs' vector ranges;
 *  - the next deadline is exact: channel 0's OUT does not rise before it
 *    and does at it (checked on a copy);
 *  - save, load and save again give the same bytes, and the loaded copy
 *    answers the next access as the original does.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <custos/types.h>

#include "vdev/vplatform.h"
#include "fuzz_util.h"

static const uint64_t rates[] = {
	1000000ull, 1193182ull, 2500000000ull, 3000000007ull, 10000000000ull,
	VTIME_MIN_HZ, VTIME_MAX_HZ, 0,
};
static const uint64_t starts[] = {
	0, 1000, 1ull << 40, UINT64_MAX - 10000000000000ull,
};
/* Ports worth hitting often; an index past the table takes two bytes. */
static const uint16_t ports[] = {
	0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43, 0x61,
	0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x70, 0x71,
	0x60, 0x64, 0x80, 0x92, 0xcf8, 0xcf9, 0xcfc, 0xcfd, 0xcfe, 0xcff,
};
static const uint8_t sizes[] = { 1, 1, 1, 1, 1, 2, 4, 3 };

static struct vplatform p, copy;
static uint8_t s1[VPLATFORM_SAVE_SIZE], s2[VPLATFORM_SAVE_SIZE];

static void check_vector(const struct vplatform *pl, int v)
{
	int m = pl->pic.chip[0].base, s = pl->pic.chip[1].base;

	require(v == -1 || (v >= m && v < m + 8) || (v >= s && v < s + 8));
}

static void port_access(struct input *in, uint64_t now)
{
	struct vio_access a, b;
	unsigned int i = (unsigned int)take(in, 1);
	enum vio_result r;
	uint32_t ones;

	a.port = i < ARRAY_SIZE(ports) ? ports[i] : (uint16_t)take(in, 2);
	a.size = sizes[take(in, 1) & 7];
	a.in = i & 1 ? take(in, 1) & 1 : take(in, 1) & 3;
	a.value = (uint32_t)take(in, 4);
	b = a;
	ones = a.size == 4 ? 0xffffffffu : a.size == 2 ? 0xffff :
	       a.size == 1 ? 0xff : 0xffffffffu;
	r = vplatform_io(&p, &a, now);
	require(r <= VIO_RESET);
	if (a.in)
		require(!(a.value & ~ones) &&
			(r != VIO_UNCLAIMED || a.value == ones));
	if (r == VIO_TX)
		require(!b.in && b.port == 0x3f8 && b.size == 1 &&
			a.value == (b.value & 0xff));
}

static void check_deadline(uint64_t now)
{
	uint64_t d = vplatform_next_deadline(&p, now);

	/* UINT64_MAX: none armed, or beyond the TSC's end (saturated). */
	copy = p;
	if (d == UINT64_MAX) {
		if (now < UINT64_MAX)
			require(!vpit_advance(&copy.pit, UINT64_MAX - 1));
	} else if (d <= now) {
		require(vpit_advance(&copy.pit, now));
	} else {
		require(!vpit_advance(&copy.pit, d - 1));
		require(vpit_advance(&copy.pit, d));
	}
}

static void round_trip(uint64_t now)
{
	struct vio_access a = { .port = 0x40, .size = 1, .in = true };
	struct vio_access b = a;

	vplatform_save(&p, now, s1);
	require(vplatform_load(&copy, s1, sizeof(s1), p.tsc_hz, now));
	vplatform_save(&copy, now, s2);
	require(memcmp(s1, s2, sizeof(s1)) == 0);
	require(vplatform_next_deadline(&copy, now) ==
		vplatform_next_deadline(&p, now));
	require(vplatform_io(&p, &a, now) == vplatform_io(&copy, &b, now));
	require(a.value == b.value);
	p = copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	unsigned int setup = (unsigned int)take(&in, 1);
	uint64_t now = starts[setup >> 6], step;
	uint8_t rx[16];
	int v;

	vplatform_init(&p, rates[setup & 7], take(&in, 8), now);
	while (in.left) {
		switch (take(&in, 1) % 8) {
		case 0:
		case 1:
			port_access(&in, now);
			break;
		case 2:
			step = take(&in, 4) << (take(&in, 1) % 40);
			now = vtime_add_sat(now, step);
			break;
		case 3:
			if (vplatform_intr_pending(&p, now)) {
				v = vplatform_intr_ack(&p, now);
				check_vector(&p, v);
			}
			break;
		case 4:
			check_vector(&p, vplatform_intr_ack(&p, now));
			break;
		case 5:
			step = take(&in, 1) % sizeof(rx);
			for (size_t i = 0; i < step; i++)
				rx[i] = (uint8_t)take(&in, 1);
			require(vplatform_rx(&p, rx, step, now) <= step);
			break;
		case 6:
			check_deadline(now);
			break;
		default:
			round_trip(now);
			break;
		}
	}
	return 0;
}
