/*
 * libFuzzer target for the virtual platform (vdev/): the input is a
 * sequence of guest port accesses, APIC MSR and page reads and writes, time steps,
 * interrupt acknowledgements, console input and save/load round trips on
 * one platform.
 *
 * Input: a byte choosing the TSC rate and where the TSC starts, then
 * operations (one byte each, then their arguments; past the end every
 * byte reads 0 and the run stops).
 * Properties, besides no crash and no undefined behaviour (ASan, UBSan):
 *  - an IN's value fits its size, all ones when unclaimed; VIO_TX only
 *    for an OUT to the UART's THR;
 *  - a vector is -1, a line of one of the two PICs' vector ranges, or one
 *    the local APIC had requested (IRR) and now has in service (ISR);
 *  - a refused RDMSR or APIC page read returns nothing; IA32_APIC_BASE
 *    reads one of its three states;
 *  - the next deadline is exact: channel 0's OUT does not rise before it
 *    and does at it, and the APIC timer does not fire before it and does
 *    at it (checked on a copy);
 *  - save, load and save again give the same bytes, and the loaded copy
 *    answers the next access as the original does;
 *  - the quiet cache (quiet_until) never changes an answer: whether an
 *    interrupt is pending is what the devices say with the cache cleared
 *    (on a copy), whatever the operations since it was filled.
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

static bool bit(const uint32_t *r, int v)
{
	return r[v / 32] >> (v % 32) & 1;
}

/* before: the platform as it was just before the acknowledgement. */
static void check_vector(const struct vplatform *before, int v)
{
	int m = before->pic.chip[0].base, s = before->pic.chip[1].base;

	if (v == -1 || (v >= m && v < m + 8) || (v >= s && v < s + 8))
		return;
	require(v >= 16 && v <= 255 && bit(before->lapic.irr, v) &&
		!bit(p.lapic.irr, v) && bit(p.lapic.isr, v));
}

static void ack(uint64_t now)
{
	/* What the APIC requests once its timer has caught up with now. */
	copy = p;
	vlapic_advance(&copy.lapic, now < p.last_now ? p.last_now : now);
	check_vector(&copy, vplatform_intr_ack(&p, now));
}

/* MSRs worth hitting often; an index past the table takes four bytes. */
static const uint32_t msrs[] = {
	0x1b, 0x6e0, 0x802, 0x803, 0x808, 0x80a, 0x80b, 0x80d, 0x80f, 0x817,
	0x827, 0x828, 0x830, 0x832, 0x833, 0x835, 0x836, 0x837, 0x838, 0x839,
	0x83e, 0x83f,
};

static void msr_access(struct input *in, uint64_t now)
{
	unsigned int i = (unsigned int)take(in, 1);
	uint32_t msr = i < ARRAY_SIZE(msrs) ? msrs[i] :
		       i < 200 ? 0x800 + (uint32_t)take(in, 1) : (uint32_t)take(in, 4);
	bool write = take(in, 1) & 1;
	uint64_t v = take(in, 1) & 1 ? take(in, 1) : take(in, 8), before = v;
	bool ok = vplatform_msr(&p, msr, write, &v, now);

	if (!write && !ok)
		require(v == before);
	if (!write && ok && msr == 0x1b)
		require(v == 0xfee00900 || v == 0xfee00d00 || v == 0xfee00100);
}

/* A 32-bit access of the xAPIC page: a refused one (not in xAPIC mode,
 * not a register's start) changes nothing the guest could see, a read
 * returns nothing. */
static void mmio_access(struct input *in, uint64_t now)
{
	uint32_t offset = (uint32_t)take(in, 2) & (take(in, 1) & 1 ? 0x3f0 : 0x1fff);
	bool write = take(in, 1) & 1;
	uint32_t v = (uint32_t)take(in, 4), before = v;

	if (!vplatform_apic_mmio(&p, offset, write, &v, now))
		require(v == before);
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

static bool lapic_timer_moved(const struct vlapic *a, const struct vlapic *b)
{
	return a->timer_next != b->timer_next || a->tsc_deadline != b->tsc_deadline;
}

static void check_deadline(uint64_t now)
{
	uint64_t d = vpit_next_deadline(&p.pit, now < p.last_now ? p.last_now : now);
	uint64_t l = vlapic_next_deadline(&p.lapic, now < p.last_now ? p.last_now : now);

	require(vplatform_next_deadline(&p, now) == (d < l ? d : l));
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
	if (l == UINT64_MAX || l <= now)
		return;
	copy = p;
	vlapic_advance(&copy.lapic, l - 1);
	require(!lapic_timer_moved(&copy.lapic, &p.lapic));
	vlapic_advance(&copy.lapic, l);
	require(lapic_timer_moved(&copy.lapic, &p.lapic));
}

static void round_trip(uint64_t now)
{
	struct vio_access a = { .port = 0x40, .size = 1, .in = true };
	struct vio_access b = a;
	uint64_t at = now < p.last_now ? p.last_now : now;
	struct vlapic t;

	vplatform_save(&p, now, s1);
	vplatform_set_tsc_offset(&copy, p.lapic.tsc_offset);
	require(vplatform_load(&copy, s1, sizeof(s1), p.tsc_hz, now));
	vplatform_save(&copy, now, s2);
	require(memcmp(s1, s2, sizeof(s1)) == 0);
	/* The PIT's overdue edge is kept as it was; the APIC's saved state
	 * is as at now, with a due event already in IRR. */
	t = p.lapic;
	vlapic_advance(&t, at);
	require(vpit_next_deadline(&copy.pit, at) == vpit_next_deadline(&p.pit, at));
	require(vlapic_next_deadline(&copy.lapic, at) == vlapic_next_deadline(&t, at));
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
	bool pending;

	vplatform_init(&p, rates[setup & 7], take(&in, 8), now);
	vplatform_set_tsc_offset(&p, take(&in, 8));
	while (in.left) {
		switch (take(&in, 1) % 12) {
		case 0:
		case 1:
			port_access(&in, now);
			break;
		case 2:
			step = take(&in, 4) << (take(&in, 1) % 40);
			now = vtime_add_sat(now, step);
			break;
		case 3:
			copy = p;
			copy.quiet_until = 0;
			pending = vplatform_intr_pending(&p, now);
			require(pending == vplatform_intr_pending(&copy, now));
			/* Nothing pending: the next event, cached or not, is
			 * the one the devices name now. */
			require(pending || p.quiet_until == copy.quiet_until);
			if (pending)
				ack(now);
			break;
		case 4:
			ack(now);
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
		case 7:
		case 8:
			msr_access(&in, now);
			break;
		case 9:
		case 10:
			mmio_access(&in, now);
			break;
		default:
			round_trip(now);
			break;
		}
	}
	return 0;
}
