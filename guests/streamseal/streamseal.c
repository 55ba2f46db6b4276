/*
 * streamseal: packaged AS the TPGVM (tests/integration/test_streamseal.py),
 * it stops and resumes a 128 MiB tenant VM whose memory is all non-zero
 * through a bounded window (docs/lifecycle.md, "Streams"): the TCB seals
 * into a 64 KiB window, a window per HC_VM_STOP_STREAM, and streamseal
 * moves each into its blob store (its own memory: a .bss of 129 MiB, so the
 * TCB gives this TPGVM image that much more memory, hv/tpgvm.c), then
 * feeds the blob back a 64 KiB piece per HC_VM_START_STREAM. The tenant
 * (guests/memfill) fills its memory with a pattern and checks all of it
 * over and over; after the resume it must go on passing. Also: a stop
 * abandoned after a few windows (the VM runs on) and a resume abandoned
 * after a few pieces (SEALED again). Prints
 *   streamseal: <step> ok ... | streamseal: FAIL <step> ...
 *   streamseal: vm: <each line of the tenant's console>
 * and at the end "streamseal: done, N failures".
 */
#include <string.h>
#include "guests/runtime/guest.h"

extern const uint8_t memfill_image[], memfill_image_end[];

#define MEM       (128ull << 20)
#define WIN       (64u << 10)
#define STORE_CAP (MEM + (1u << 20)) /* the blob of every page, and more */
#define HDR_PAGE_COUNT 128            /* docs/seal.md: page_count, u32 */

static uint8_t store[STORE_CAP];
static uint8_t win[WIN];
static const uint8_t owner[HC_OWNER_LEN] = { 0x57, 0x5e };
static unsigned failures;

static struct hc_vm_ref ref(uint32_t id)
{
	struct hc_vm_ref r = { .vm_id = id };

	memcpy(r.owner, owner, HC_OWNER_LEN);
	return r;
}

static void check(bool ok, const char *step, long rc)
{
	if (ok) {
		con_printf("streamseal: %s ok (%ld)\n", step, rc);
	} else {
		con_printf("streamseal: FAIL %s (%ld)\n", step, rc);
		failures++;
	}
}

static bool query(uint32_t id, struct hc_vm_info *info)
{
	struct hc_vm_query q = { .ref = ref(id), .out_gpa = (uint64_t)info,
				 .out_cap = sizeof(*info) };

	return hc_vm_query(&q) == 1;
}

/* ---- the tenant's console ---- */

static char line[256];
static size_t line_len;
static unsigned last_pass; /* the latest "pass N ok" */
static unsigned bad_lines;

static void take_line(void)
{
	const char *p = line;
	uint64_t n;

	line[line_len] = '\0';
	con_printf("streamseal: vm: %s\n", line);
	if (strncmp(line, "memfill: pass ", 14) == 0) {
		p += 14;
		if (parse_u64(&p, &n) && strncmp(p, " ok", 3) == 0)
			last_pass = (unsigned)n;
		else
			bad_lines++;
	}
	line_len = 0;
}

static void drain(uint32_t id)
{
	static char buf[512];
	struct hc_vm_console_read c = { .ref = ref(id), .out_gpa = (uint64_t)buf,
					.out_cap = sizeof(buf) };
	long n;

	while ((n = hc_vm_console_read(&c)) > 0)
		for (long i = 0; i < n; i++) {
			if (buf[i] == '\n' || line_len == sizeof(line) - 1)
				take_line();
			if (buf[i] != '\n')
				line[line_len++] = buf[i];
		}
}

/* Until the tenant says "pass N ok" with N >= pass (it runs meanwhile). */
static bool wait_pass(uint32_t id, unsigned pass)
{
	for (unsigned long i = 0; i < 50000000ul; i++) {
		drain(id);
		if (last_pass >= pass || bad_lines)
			return !bad_lines;
		hc_yield();
	}
	return false;
}

/* ---- the streams ---- */

/* Stop id through the window into the store; after max_calls calls (0:
 * none) leave it open and return 0. The blob's length, or HC_E_*, or
 * -100.. for a window that broke the protocol. */
static long stop_streamed(uint32_t id, unsigned max_calls, unsigned *calls)
{
	static struct hc_vm_stream s;
	uint64_t off = 0;

	*calls = 0;
	for (;;) {
		s = (struct hc_vm_stream){ .ref = ref(id), .buf_gpa = (uint64_t)win,
					   .buf_len = WIN, .offset = off };
		long n = hc_vm_stop_stream(&s);

		if (n < 0)
			return n;
		if ((uint64_t)n > WIN || off + (uint64_t)n > STORE_CAP)
			return -100;
		memcpy(store + off, win, (size_t)n);
		off += (uint64_t)n;
		++*calls;
		if (s.done)
			return s.blob_len == off ? (long)off : -101;
		if (n == 0)
			return -102;
		if (max_calls && *calls == max_calls)
			return 0;
	}
}

/* Resume id from the store's len bytes, a piece of at most WIN bytes per
 * call; after max_calls calls leave it open and return 1. 0 when resumed,
 * or HC_E_*, or -100.. */
static long start_streamed(uint32_t id, uint64_t len, unsigned max_calls,
			   unsigned *calls)
{
	static struct hc_vm_stream s;
	uint64_t off = 0;

	*calls = 0;
	for (;;) {
		uint64_t piece = len - off < WIN ? len - off : WIN;

		memcpy(win, store + off, (size_t)piece);
		s = (struct hc_vm_stream){ .ref = ref(id), .buf_gpa = (uint64_t)win,
					   .buf_len = piece, .offset = off,
					   .blob_len = len };
		long n = hc_vm_start_stream(&s);

		if (n < 0)
			return n;
		if ((uint64_t)n > piece)
			return -100;
		off += (uint64_t)n;
		++*calls;
		if (s.done)
			return off == len ? 0 : -101;
		if (n == 0)
			return -102;
		if (max_calls && *calls == max_calls)
			return 1;
	}
}

static long abort_stream(uint32_t id, bool resume)
{
	static struct hc_vm_stream s;

	s = (struct hc_vm_stream){ .ref = ref(id), .flags = HC_STREAM_ABORT };
	return resume ? hc_vm_start_stream(&s) : hc_vm_stop_stream(&s);
}

int guest_main(const struct custos_boot_info *bi)
{
	struct hc_vm_create c = { .ref = ref(0), .mem_size = MEM };
	struct hc_vm_info info;
	unsigned calls, pass;
	uint64_t t;
	long rc, len;

	guest_init(bi, "streamseal");
	memcpy(c.name, "fill", 5);
	long id = hc_vm_create(&c);
	check(id > 0, "create 128 MiB", id);
	if (id <= 0)
		goto out;
	struct hc_vm_load l = {
		.ref = ref((uint32_t)id),
		.image_gpa = (uint64_t)memfill_image,
		.image_len = (uint64_t)(memfill_image_end - memfill_image),
	};
	rc = hc_vm_load(&l);
	check(rc == 0, "load memfill", rc);
	struct hc_vm_start s = { .ref = ref((uint32_t)id) };
	rc = hc_vm_start(&s);
	check(rc == 0, "start", rc);
	check(wait_pass((uint32_t)id, 1), "memory filled and checked", last_pass);

	/* A stop abandoned after three windows: the VM runs on. */
	rc = stop_streamed((uint32_t)id, 3, &calls);
	check(rc == 0 && calls == 3, "stop stream open after 3 windows", rc);
	rc = abort_stream((uint32_t)id, false);
	check(rc == 0, "stop stream abandoned", rc);
	check(query((uint32_t)id, &info) && info.state == HC_VM_RUNNING &&
	      info.version == 0, "still running, version 0", (long)info.state);
	drain((uint32_t)id);
	pass = last_pass;
	check(wait_pass((uint32_t)id, pass + 2), "runs on after the abandoned stop",
	      last_pass);

	/* The whole stop through the window. */
	t = rdtsc();
	len = stop_streamed((uint32_t)id, 0, &calls);
	t = rdtsc() - t;
	check(len > (long)MEM - (long)(1u << 20), "stop streamed", len);
	con_printf("streamseal: sealed %ld bytes in %u calls of a %u-byte window, "
		   "%llu TSC cycles\n", len, calls, WIN, (unsigned long long)t);
	uint32_t page_count;
	memcpy(&page_count, store + HDR_PAGE_COUNT, sizeof(page_count));
	check(page_count >= MEM / 4096 - 16, "every page but a few in the blob",
	      (long)page_count);
	check(query((uint32_t)id, &info) && info.state == HC_VM_SEALED &&
	      info.version == 1, "sealed v1", (long)info.state);
	/* Everything it wrote before the seal (its ring outlives it): the
	 * pass under way then ends after the resume, the one after it runs
	 * wholly after the resume. */
	drain((uint32_t)id);
	pass = last_pass;

	/* A resume abandoned after three pieces: sealed again. */
	rc = len > 0 ? start_streamed((uint32_t)id, (uint64_t)len, 3, &calls) : -1;
	check(rc == 1 && calls == 3, "resume stream open after 3 pieces", rc);
	rc = abort_stream((uint32_t)id, true);
	check(rc == 0, "resume stream abandoned", rc);
	check(query((uint32_t)id, &info) && info.state == HC_VM_SEALED,
	      "still sealed", (long)info.state);

	/* The whole resume, a piece at a time; then its memory checks out. */
	t = rdtsc();
	rc = len > 0 ? start_streamed((uint32_t)id, (uint64_t)len, 0, &calls) : -1;
	t = rdtsc() - t;
	check(rc == 0, "resume streamed", rc);
	con_printf("streamseal: resumed from %u pieces of at most %u bytes, "
		   "%llu TSC cycles\n", calls, WIN, (unsigned long long)t);
	check(query((uint32_t)id, &info) && info.state == HC_VM_RUNNING,
	      "running", (long)info.state);
	check(wait_pass((uint32_t)id, pass + 2), "memory intact after the resume",
	      last_pass);

	struct hc_vm_ref d = ref((uint32_t)id);
	rc = hc_vm_destroy(&d);
	check(rc == 0, "destroy", rc);
out:
	con_printf("streamseal: done, %u failures\n", failures);
	return 0;
}
