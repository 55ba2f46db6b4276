/*
 * libFuzzer target for phys_find_hole().
 *
 * The input is decoded into usable and excluded ranges, a size, an alignment
 * and a minimum address. Two modes:
 *  - raw: full 64-bit values; the result is checked against the definition
 *    (aligned, >= min_addr, inside one usable range, clear of every excluded
 *    range, no wrap), and the aligned address one step lower must not have
 *    been a valid answer;
 *  - window: all values in a 4 KiB window at the bottom, middle or top of
 *    the address space, where a brute-force search gives the exact answer.
 * Any disagreement aborts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcb/phys_hole.h"
#include "fuzz_util.h"

#define MAX_RANGES 8
#define WINDOW 4096u
#define UNTOUCHED 0x0bad0bad0bad0badull

struct query {
	struct phys_range u[MAX_RANGES], x[MAX_RANGES];
	size_t nu, nx;
	uint64_t size, align, min_addr;
};

/* The definition, with 128-bit ends; the address space is [0, UINT64_MAX). */
static int valid_hole(const struct query *q, uint64_t a)
{
	unsigned __int128 end = (unsigned __int128)a + q->size;
	int inside = 0;
	size_t i;

	if (a < q->min_addr || (a & (q->align - 1)) || end > UINT64_MAX)
		return 0;
	for (i = 0; i < q->nu && !inside; i++)
		inside = q->u[i].len && q->u[i].base <= a &&
			 end <= (unsigned __int128)q->u[i].base + q->u[i].len;
	if (!inside)
		return 0;
	for (i = 0; i < q->nx; i++)
		if (q->x[i].len && q->x[i].base < end &&
		    a < (unsigned __int128)q->x[i].base + q->x[i].len)
			return 0;
	return 1;
}

static int args_ok(const struct query *q)
{
	return q->size && q->align && !(q->align & (q->align - 1));
}

static void check_raw(const struct query *q, int rc, uint64_t out)
{
	uint64_t first = q->min_addr + ((q->align - (q->min_addr & (q->align - 1))) &
					(q->align - 1));

	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1) {
		if (out != UNTOUCHED)
			abort();
		/* the lowest aligned address >= min_addr, if it did not wrap */
		if (args_ok(q) && first >= q->min_addr && valid_hole(q, first))
			abort();
		return;
	}
	if (!args_ok(q) || !valid_hole(q, out))
		abort();
	/* local minimality: the aligned address just below was no answer */
	if (out >= q->align && valid_hole(q, out - q->align))
		abort();
}

static void check_window(const struct query *q, uint64_t w, int rc,
			 uint64_t out)
{
	uint64_t a;

	if (!args_ok(q)) {
		if (rc != -1 || out != UNTOUCHED)
			abort();
		return;
	}
	for (a = w; ; a++) {
		if (valid_hole(q, a)) {
			if (rc != 0 || out != a)
				abort();
			return;
		}
		if (a == w + (WINDOW - 1))
			break;
	}
	if (rc != -1 || out != UNTOUCHED)
		abort();
}

/* Window mode values: an offset in the window, or occasionally anything. */
static uint64_t window_value(struct input *in, uint64_t w)
{
	uint64_t v = take(in, 2);

	if (v >> 15)
		return UINT64_MAX - (v & 0xff); /* lengths that run off the end */
	return w + (v % WINDOW);
}

static struct phys_range window_range(struct input *in, uint64_t w, int usable)
{
	struct phys_range r;

	r.base = w + take(in, 2) % WINDOW;
	r.len = window_value(in, 0);
	/* below the top, usable ranges stay in the window so that any hole
	 * lies in it and the brute-force search is exhaustive */
	if (usable && w < UINT64_MAX - (WINDOW - 1) &&
	    r.len > w + WINDOW - r.base)
		r.len = w + WINDOW - r.base;
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t windows[] = {
		0, 0x100000, (1ull << 63) - WINDOW / 2, UINT64_MAX - (WINDOW - 1),
	};
	struct input in = { data, size };
	struct query q;
	uint64_t flags = take(&in, 1), w, out = UNTOUCHED;
	size_t i;
	int rc;

	memset(&q, 0, sizeof(q));
	q.nu = take(&in, 1) % (MAX_RANGES + 1);
	q.nx = take(&in, 1) % (MAX_RANGES + 1);
	if (flags & 1) {
		w = windows[(flags >> 1) & 3];
		q.size = window_value(&in, 0) % (WINDOW + 1);
		q.align = take(&in, 1);
		q.align = q.align < 13 ? 1ull << q.align : q.align; /* some bad */
		q.min_addr = window_value(&in, w);
		for (i = 0; i < q.nu; i++)
			q.u[i] = window_range(&in, w, 1);
		for (i = 0; i < q.nx; i++)
			q.x[i] = window_range(&in, w, 0);
	} else {
		w = 0;
		q.size = take(&in, 8);
		q.align = take(&in, 1);
		q.align = q.align < 64 ? 1ull << q.align : take(&in, 8);
		q.min_addr = take(&in, 8);
		for (i = 0; i < q.nu; i++) {
			q.u[i].base = take(&in, 8);
			q.u[i].len = take(&in, 8);
		}
		for (i = 0; i < q.nx; i++) {
			q.x[i].base = take(&in, 8);
			q.x[i].len = take(&in, 8);
		}
	}
	rc = phys_find_hole(q.u, q.nu, q.x, q.nx, q.size, q.align, q.min_addr,
			    &out);
	if (flags & 1)
		check_window(&q, w, rc, out);
	else
		check_raw(&q, rc, out);
	return 0;
}
