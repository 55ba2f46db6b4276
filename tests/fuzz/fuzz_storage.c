/*
 * The TPGVM's storage client (tpgvm/storage.c) against a hostile relay: the
 * fuzzer plays the relay, answering the client's STORE frames with STORED
 * payloads (docs/relay.md, "Storage") of its choosing, late ids, restarts
 * and timeouts. Properties: a get never writes beyond its buffer (ASan:
 * the buffer is exactly cap bytes on the heap), a finished get reports at
 * most cap bytes, a finished operation stays finished, at most one request
 * per operation is out at a time, and nothing crashes or loops.
 *
 * Input: a script of 1-byte commands, each followed by its own bytes:
 *   0: start a get (1 byte: cap)     1: start a put (1 byte: length)
 *   2: step the client               3: answer the last request
 *                                       (1 byte: length n, then n bytes)
 *   4: answer with another id (2 bytes: delta)   5: relay restarted
 *   6: time passes (past every deadline)         7: poll and release all
 */
#include "tpgvm/storage.c"
#include "tests/fuzz/fuzz_util.h"
#include "tpgvm/frame.h"

#include <stdlib.h>

static uint64_t now;
static uint16_t last_id;
static unsigned queued;

bool transport_store(uint16_t id, const uint8_t *payload, size_t len)
{
	require(len > 0 && len <= FRAME_MAX_PAYLOAD);
	(void)payload;
	last_id = id;
	queued++;
	return true;
}

uint64_t tpgvm_now(void)
{
	return now;
}

struct fz_op {
	int h;
	uint8_t *buf;
	size_t cap;
	bool done;
};

static void poll_all(struct fz_op *ops, size_t n, bool release)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = 0;
		const char *why = NULL;
		enum storage_result r;

		if (ops[i].h < 0)
			continue;
		r = storage_poll(ops[i].h, &len, &why);
		if (ops[i].done)
			require(r != STORAGE_PENDING); /* finished stays finished */
		if (r == STORAGE_OK && ops[i].buf)
			require(len <= ops[i].cap);
		if (r != STORAGE_PENDING)
			ops[i].done = true;
		if (release) {
			storage_release(ops[i].h);
			free(ops[i].buf);
			ops[i] = (struct fz_op){ .h = -1 };
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t put_src[256];
	struct fz_op ops[STORAGE_OPS + 4];
	size_t nops = 0, i = 0;

	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		ops[k] = (struct fz_op){ .h = -1 };
	storage_relay_restarted(); /* a clean client for every input */
	now = 0;
	timebase_set(2000000); /* Bochs at the platform tests' ips */
	while (i < size) {
		uint8_t cmd = data[i++] % 8;
		if (cmd <= 1 && i < size && nops < sizeof(ops) / sizeof(ops[0])) {
			size_t n = data[i++];
			uint8_t *buf = cmd == 0 ? malloc(n ? n : 1) : NULL;
			int h = cmd == 0 ? storage_get("0011223344556677-vm.sealed", buf, n)
					 : storage_put("0011223344556677-vm.sealed", put_src, n);
			if (h >= 0)
				ops[nops++] = (struct fz_op){ .h = h, .buf = buf, .cap = n };
			else
				free(buf);
		} else if (cmd == 2) {
			unsigned before = queued;
			for (int k = 0; k < 16 && storage_step(); k++)
				;
			require(queued - before <= STORAGE_OPS);
		} else if (cmd == 3 && i < size) {
			size_t n = data[i++];
			if (n > size - i)
				n = size - i;
			storage_on_stored(last_id, data + i, n);
			i += n;
		} else if (cmd == 4 && i + 2 <= size) {
			storage_on_stored((uint16_t)(last_id + le(data + i, 2)),
					  (const uint8_t *)"\0\0\0\0\0", 5);
			i += 2;
		} else if (cmd == 5) {
			storage_relay_restarted();
		} else if (cmd == 6) {
			now += timebase_span(timebase_tsc_hz(), STORAGE_REQ_S,
					     TPGVM_WORK_CYCLES) + 1;
			storage_step();
		} else if (cmd == 7) {
			poll_all(ops, nops, true);
			nops = 0;
		}
		poll_all(ops, nops, false);
	}
	poll_all(ops, nops, true);
	return 0;
}
