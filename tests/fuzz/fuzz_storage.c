/*
 * The TPGVM's storage client (tpgvm/storage.c) against a hostile relay: the
 * fuzzer plays the relay, answering the client's STORE frames with STORED
 * payloads (docs/relay.md, "Storage") of its choosing, late ids, restarts
 * and timeouts. Properties: a get never writes beyond its buffer (ASan:
 * the buffer is exactly cap bytes on the heap), a finished get reports at
 * most cap bytes, a finished operation stays finished, at most one request
 * per whole-blob operation is out at a time and at most STORAGE_WINDOW
 * (and a COMMIT) per streamed one, a streamed get's piece reports at most
 * its buffer's bytes, and nothing crashes or loops.
 *
 * Input: a script of 1-byte commands, each followed by its own bytes:
 *   0: start a get (1 byte: cap)     1: start a put (1 byte: length)
 *   2: step the client               3: answer the last request
 *                                       (1 byte: length n, then n bytes)
 *   4: answer with another id (2 bytes: delta)   5: relay restarted
 *   6: time passes (past every deadline)         7: poll and release all
 *   8: open a streamed put     9: its next piece (1 byte: length, 1 byte:
 *                                 bit 0 last)
 *  10: open a streamed get    11: its next piece (1 byte: offset / 16,
 *                                 1 byte: cap / 16; a heap buffer of
 *                                 exactly cap)
 *  12: answer the last request as a relay holding a blob would (2 bytes:
 *      its total / 16): ok, the total, and the up to STORAGE_CHUNK bytes
 *      from the request's offset (zeros)
 * (9's length is 16 times its byte too: pieces of several chunks.)
 */
#include "tpgvm/storage.c"
#include "tests/fuzz/fuzz_util.h"
#include <custos/frame.h>

#include <stdlib.h>

static uint64_t now;
static uint16_t last_id;
static uint32_t last_off; /* the last request's offset */
static unsigned queued;

static bool fake_store(uint16_t id, const uint8_t *payload, size_t len)
{
	require(len > 0 && len <= FRAME_MAX_PAYLOAD);
	require(len >= 6 && len >= 6u + payload[1]);
	last_off = (uint32_t)le(payload + 2 + payload[1], 4) ;
	last_id = id;
	queued++;
	return true;
}

static const struct transport fake_transport = { .store = fake_store };

uint64_t tpgvm_now(void)
{
	return now;
}

struct fz_op {
	int h;
	uint8_t *buf;
	size_t cap;
	bool done;
	bool stream, get;
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
			require(r != STORAGE_PENDING && r != STORAGE_PIECE); /* finished stays finished */
		if ((r == STORAGE_OK || r == STORAGE_PIECE) && ops[i].buf)
			require(len <= ops[i].cap);
		require(r != STORAGE_PIECE || ops[i].stream);
		require(!ops[i].stream || ops[i].get || r != STORAGE_OK ||
			len <= 0xffffffffu);
		if (r != STORAGE_PENDING && r != STORAGE_PIECE)
			ops[i].done = true;
		if (release) {
			storage_release(ops[i].h);
			free(ops[i].buf);
			ops[i] = (struct fz_op){ .h = -1 };
		}
	}
}

/* The client's operation slot k (the harness's ops[] below is another). */
static const struct op *client_op(int k)
{
	return &ops[k];
}

static struct fz_op *last_stream(struct fz_op *f, size_t n, bool get)
{
	while (n--)
		if (f[n].h >= 0 && f[n].stream && f[n].get == get)
			return &f[n];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t put_src[255 * 16];
	struct fz_op ops[STORAGE_OPS + 4];
	size_t nops = 0, i = 0;

	for (size_t k = 0; k < sizeof(ops) / sizeof(ops[0]); k++)
		ops[k] = (struct fz_op){ .h = -1 };
	storage_init(&fake_transport);
	storage_relay_restarted(); /* a clean client for every input */
	now = 0;
	timebase_set(2000000); /* Bochs at the platform tests' ips */
	while (i < size) {
		uint8_t cmd = data[i++] % 13;
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
			require(queued - before <= STORAGE_OPS * (STORAGE_WINDOW + 1));
			for (int k = 0; k < STORAGE_OPS; k++) {
				const struct op *o = client_op(k);
				require(chunks_out(o) <= STORAGE_WINDOW);
				require(streamed(o) || !chunks_out(o));
			}
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
		} else if ((cmd == 8 || cmd == 10) && nops < sizeof(ops) / sizeof(ops[0])) {
			int h = cmd == 10 ? storage_get_stream("0011223344556677-vm.sealed")
				: i < size && (data[i] & 1)
				? storage_put_stream_at("0011223344556677-vm.sealed", data[i] * 901u)
				: storage_put_stream("0011223344556677-vm.sealed");
			if (h >= 0)
				ops[nops++] = (struct fz_op){ .h = h, .stream = true,
							      .get = cmd == 10 };
		} else if (cmd == 9 && i + 2 <= size) {
			struct fz_op *f = last_stream(ops, nops, false);
			if (f)
				(void)storage_put_piece(f->h, put_src, data[i] * 16u,
							data[i + 1] & 1);
			i += 2;
		} else if (cmd == 12 && i + 2 <= size) {
			static uint8_t ans[5 + STORAGE_CHUNK];
			uint32_t total = (uint32_t)le(data + i, 2) * 16u;
			size_t n = last_off < total ? total - last_off : 0;
			if (n > STORAGE_CHUNK)
				n = STORAGE_CHUNK;
			memset(ans, 0, sizeof(ans));
			store_le32(ans + 1, total);
			storage_on_stored(last_id, ans, 5 + n);
			i += 2;
		} else if (cmd == 11 && i + 2 <= size) {
			struct fz_op *f = last_stream(ops, nops, true);
			size_t cap = data[i + 1] * 16u;
			uint8_t *buf = malloc(cap ? cap : 1);
			if (f && storage_get_piece(f->h, data[i] * 16u, buf, cap) == 0) {
				free(f->buf); /* its piece is done: -1 otherwise */
				f->buf = buf;
				f->cap = cap;
			} else {
				free(buf);
			}
			i += 2;
		}
		poll_all(ops, nops, false);
	}
	poll_all(ops, nops, true);
	return 0;
}
