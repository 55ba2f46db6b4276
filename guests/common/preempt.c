/* Preemption detection around holds (hold.h). General registers only. */
#include "guests/runtime/guest.h"
#include "guests/common/hold.h"

#define CALIBRATION_RUNS 8
#define CALIBRATION_SPIN 1024

/* The fastest of several holds of 'spin' iterations. */
static uint64_t fastest_hold(uint64_t spin, bool avx)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < CALIBRATION_RUNS; i++) {
		uint64_t t0 = rdtsc();
		hold_run(spin, avx);
		uint64_t t = rdtsc() - t0;
		if (t < best)
			best = t;
	}
	return best;
}

void preempt_calibrate(struct preempt_meter *m, uint64_t spin,
		       uint64_t tsc_per_tick, bool avx)
{
	uint64_t one = fastest_hold(1, avx);
	uint64_t many = fastest_hold(1 + CALIBRATION_SPIN, avx);
	uint64_t per_iter_x1024 = many > one ? many - one : 0;

	m->spin = spin ? spin : 1;
	m->expected = one + per_iter_x1024 * (m->spin - 1) / CALIBRATION_SPIN;
	if (m->expected == 0)
		m->expected = 1;
	m->tsc_per_tick = tsc_per_tick;
	m->count = 0;
}

bool preempt_timed_hold(struct preempt_meter *m, bool avx)
{
	uint64_t t0 = rdtsc();
	hold_run(m->spin, avx);
	uint64_t t = rdtsc() - t0;

	/* An undisturbed hold faster than the estimate refines it. */
	if (t < m->expected) {
		m->expected = t ? t : 1;
		return false;
	}
	uint64_t margin = m->expected / 2;
	if (m->tsc_per_tick && m->tsc_per_tick / 2 < margin)
		margin = m->tsc_per_tick / 2 > m->expected / 8 ?
			 m->tsc_per_tick / 2 : m->expected / 8;
	if (t - m->expected > margin) {
		m->count++;
		return true;
	}
	return false;
}
