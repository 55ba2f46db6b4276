/*
 * timeshare: how much CPU this VM gets, and how long it ever waits for it.
 *
 * mode=spin: a loop that never leaves the VM. mode=cpuid: the same loop
 * with a CPUID -- a VM exit the TCB handles -- in every iteration.
 * mode=hcall: the same loop with the null hypercall HC_VERSION, which the
 * TCB answers without leaving the VM's slice. mode=yield: the same loop
 * with HC_YIELD, which ends the slice: the scheduler runs the next
 * runnable VM, the same one again when it is alone (bench/exits.py derives
 * the TCB's per-exit costs from these modes' iteration costs).
 * Each iteration also reads the TSC, so the VM sees every gap: the longest
 * stretch between two of its iterations is the longest it was kept from
 * running (other VMs' slices, TCB work nobody preempts).
 *
 * The CPU it got is counted in iterations. What one iteration costs is
 * calibrated at the start as the shortest of 256 runs of many iterations
 * (a run that was preempted is longer, so the minimum is an uninterrupted
 * one); for mode=cpuid that includes the exit and the TCB's handling of
 * it, which is what the VM causes. iterations x cost is the CPU it
 * consumed, comparable between the two modes
 * (tests/integration/test_timeshare.py).
 *
 * Output, every `report` TSC cycles of CPU consumed (default 4000000):
 *   timeshare: <mode> cpu <iterations x cost> iterations <n> cost <c>/1024 gap <g>
 * where gap is the longest wait since the previous line. limit=K ends the
 * VM after K lines (default 0: never).
 */
#include <string.h>
#include "guests/runtime/guest.h"

#define BURST 64u

enum work { WORK_SPIN, WORK_CPUID, WORK_HCALL, WORK_YIELD };

struct run {
	enum work work;
	uint64_t prev, gap;
};

/* n iterations; the longest gap between two is kept in r->gap. Not
 * inlined: calibrate() must time the very loop the VM then runs. Inlined
 * into it, the compiler dropped the gap's stores, dead there, and the
 * calibrated spin iteration came out at half the real one. */
__attribute__((noinline)) static void iterate(struct run *r, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t = rdtsc();
		if (t - r->prev > r->gap)
			r->gap = t - r->prev;
		r->prev = t;
		if (r->work == WORK_CPUID) {
			uint32_t regs[4];
			cpuid(0x40000000u, 0, regs); /* the Custos leaf */
		} else if (r->work == WORK_HCALL) {
			hc_version();
		} else if (r->work == WORK_YIELD) {
			hc_yield();
		}
	}
}

/* The shortest of 256 runs of n iterations, in TSC cycles. */
static uint64_t shortest_run(struct run *r, uint64_t n)
{
	uint64_t best = UINT64_MAX;

	for (unsigned i = 0; i < 256; i++) {
		uint64_t t0 = rdtsc();
		iterate(r, n);
		uint64_t t = rdtsc() - t0;
		if (t < best)
			best = t;
	}
	return best;
}

/* Cycles per iteration, x 1024. Bochs advances the TSC a few hundred
 * instructions at a time, so a run must be long next to that: first a
 * rough figure from runs of BURST, then runs of about CALIB_CYCLES (well
 * below a slice, so that many of them are not preempted). */
#define CALIB_CYCLES 40000u

static uint64_t calibrate(struct run *r)
{
	uint64_t rough = shortest_run(r, BURST) / BURST;
	uint64_t n = CALIB_CYCLES / (rough ? rough : 1);

	if (n < BURST)
		n = BURST;
	return shortest_run(r, n) * 1024 / n;
}

int guest_main(const struct custos_boot_info *bi)
{
	char mode[8];
	struct run r = { .prev = rdtsc() };

	static const char *const modes[] = {
		[WORK_SPIN] = "spin", [WORK_CPUID] = "cpuid",
		[WORK_HCALL] = "hcall", [WORK_YIELD] = "yield",
	};
	unsigned w;

	guest_init(bi, "timeshare");
	if (!cmdline_get(bi, "mode", mode, sizeof(mode)))
		mode[0] = '\0';
	for (w = 0; w < sizeof(modes) / sizeof(modes[0]); w++)
		if (strcmp(mode, modes[w]) == 0)
			break;
	if (w == sizeof(modes) / sizeof(modes[0])) {
		con_printf("timeshare: mode=spin, cpuid, hcall or yield, please\n");
		return 2;
	}
	r.work = (enum work)w;
	uint64_t report = cmdline_u64(bi, "report", 4000000);
	uint64_t limit = cmdline_u64(bi, "limit", 0);
	uint64_t cost = calibrate(&r), n = 0, lines = 0;
	uint64_t next = report;

	r.gap = 0;
	r.prev = rdtsc();
	for (;;) {
		iterate(&r, BURST);
		n += BURST;
		if (n * cost / 1024 < next)
			continue;
		con_printf("timeshare: %s cpu %lu iterations %lu cost %lu/1024 gap %lu\n",
			   mode, n * cost / 1024, n, cost, r.gap);
		next += report;
		r.gap = 0;
		r.prev = rdtsc(); /* the line's own exits are not a wait */
		if (limit && ++lines == limit)
			return 0;
	}
}
