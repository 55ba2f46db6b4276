/*
 * lcdrive: drives the TCB's lifecycle hypercalls as the TPGVM would
 * (tests/integration/test_lifecycle_tcb.py packages it AS the TPGVM).
 * Creates, loads, starts, stops (seals), restarts and destroys a counter
 * VM, and checks every refusal the ABI promises; a hello VM, which halts,
 * is EXITED with its memory kept and can be sealed and resumed. Prints
 *   lcdrive: PASS <what>
 *   lcdrive: FAIL <what>: got <ret>, want <ret>
 * and at the end "lcdrive: done, N failures".
 */
#include <string.h>
#include "guests/common/hold.h"
#include "guests/runtime/guest.h"
#include "tcb/byteorder.h"

extern const uint8_t counter_image[], counter_image_end[];
extern const uint8_t hello_image[], hello_image_end[];

#define BLOB_CAP (512u << 10)
static uint8_t blob1[BLOB_CAP], blob2[BLOB_CAP], scratch[BLOB_CAP];
static char console[8192];
static unsigned failures;

static const char init_data[] = "init-data-for-counter";
static const char secrets[] = "PASSWORD=hunter2\0ROLE=test\0";
static uint8_t salt[HC_SALT_LEN];
static uint8_t owner_a[HC_OWNER_LEN], owner_b[HC_OWNER_LEN];

static void check(const char *what, long got, long want)
{
	if (got == want) {
		con_printf("lcdrive: PASS %s\n", what);
		return;
	}
	failures++;
	con_printf("lcdrive: FAIL %s: got %ld, want %ld\n", what, got, want);
}

static void ok(const char *what, bool cond)
{
	check(what, cond, 1);
}

static struct hc_vm_ref ref(uint32_t id, const uint8_t *owner)
{
	struct hc_vm_ref r = { .vm_id = id };

	memcpy(r.owner, owner, HC_OWNER_LEN);
	return r;
}

static long create(const char *name, uint64_t mem, const uint8_t *owner)
{
	struct hc_vm_create c = { .ref = ref(0, owner), .mem_size = mem };

	strncpy(c.name, name, sizeof(c.name) - 1);
	return hc_vm_create(&c);
}

static long load(uint32_t id, const uint8_t *owner, const void *sec,
		 size_t sec_len)
{
	struct hc_vm_load l = {
		.ref = ref(id, owner),
		.image_gpa = (uint64_t)counter_image,
		.image_len = (uint64_t)(counter_image_end - counter_image),
		.init_gpa = (uint64_t)init_data,
		.init_len = sizeof(init_data) - 1,
		.secrets_gpa = (uint64_t)sec,
		.secrets_len = sec_len,
	};

	memcpy(l.secrets_salt, salt, sizeof(salt));
	return hc_vm_load(&l);
}

static long start(uint32_t id, const uint8_t *owner, const void *blob, size_t len)
{
	struct hc_vm_start s = { .ref = ref(id, owner), .blob_gpa = (uint64_t)blob,
				 .blob_len = len };

	return hc_vm_start(&s);
}

static long stop(uint32_t id, const uint8_t *owner, void *out, size_t cap)
{
	struct hc_vm_stop s = { .ref = ref(id, owner), .out_gpa = (uint64_t)out,
				.out_cap = cap };

	return hc_vm_stop(&s);
}

/*
 * A seal and a resume run in the TCB on this VM's behalf (it is the caller),
 * and the TCB's AES-NI code needs vector registers for them
 * (hv/simd_window.c). Every XMM/YMM register this VM holds across such a
 * call must come back as it was: it is made with all of them loaded.
 */
struct lifecycle_call {
	bool resume;
	uint32_t id;
	void *blob;
	size_t len;
};

static long lifecycle_call(void *p)
{
	const struct lifecycle_call *c = p;

	return c->resume ? start(c->id, owner_a, c->blob, c->len)
			 : stop(c->id, owner_a, c->blob, c->len);
}

static long holding_vectors(const char *what, struct lifecycle_call c)
{
	bool avx = cpu_avx_usable();
	unsigned lanes = avx ? 4 : 2, changed = 0;
	long ret;

	for (unsigned r = 0; r < HOLD_NVEC; r++)
		for (unsigned q = 0; q < 4; q++)
			hold_in.vec[r][q] = 0x1cd71e0000000000ull | r << 8 | q;
	ret = hold_vec_call(lifecycle_call, &c, avx);
	for (unsigned r = 0; r < HOLD_NVEC; r++)
		for (unsigned q = 0; q < lanes; q++)
			changed += hold_out.vec[r][q] != hold_in.vec[r][q];
	con_printf("lcdrive: %s with %s held\n", what, avx ? "ymm0-15" : "xmm0-15");
	check(what, changed, 0);
	return ret;
}

static long destroy(uint32_t id, const uint8_t *owner)
{
	struct hc_vm_ref r = ref(id, owner);

	return hc_vm_destroy(&r);
}

static long query(uint32_t id, const uint8_t *owner, struct hc_vm_info *out,
		  size_t cap)
{
	struct hc_vm_query q = { .ref = ref(id, owner), .out_gpa = (uint64_t)out,
				 .out_cap = cap };

	return hc_vm_query(&q);
}

static long console_read(uint32_t id, const uint8_t *owner, char *out, size_t cap)
{
	struct hc_vm_console_read c = { .ref = ref(id, owner),
					.out_gpa = (uint64_t)out, .out_cap = cap };

	return hc_vm_console_read(&c);
}

/* The highest "counter: N" value in text. */
static uint64_t last_value(const char *text, size_t len)
{
	uint64_t best = 0;

	for (size_t i = 0; i + 9 < len; i++) {
		if (memcmp(text + i, "counter: ", 9) != 0)
			continue;
		const char *p = text + i + 9;
		uint64_t v;
		if (*p >= '0' && *p <= '9' && parse_u64(&p, &v) && v > best)
			best = v;
	}
	return best;
}

/*
 * The counter's console arrives in pieces as small as a byte: a slice is
 * wall time with exits charged, and where exits are slow (QEMU) it ends
 * after a few of the counter's one-byte writes. So values come from whole
 * lines only; the bytes after the last newline wait in `partial` for the
 * rest of their line. Returns the highest value read (0 if none).
 */
static char partial[64];
static size_t partial_len;

static uint64_t read_counter(uint32_t id)
{
	long n;
	size_t len, end;
	uint64_t v;

	memcpy(console, partial, partial_len);
	n = console_read(id, owner_a, console + partial_len,
			 sizeof(console) - 1 - partial_len);
	len = partial_len + (n > 0 ? (size_t)n : 0);
	for (end = len; end > 0 && console[end - 1] != '\n'; end--)
		;
	v = last_value(console, end);
	partial_len = len - end <= sizeof(partial) ? len - end : 0;
	memcpy(partial, console + end, partial_len);
	return v;
}

/* Let the VM run until it has printed a value above 'above' (or give up),
 * and return the highest value seen. */
static uint64_t run_until_above(uint32_t id, uint64_t above, unsigned lines)
{
	uint64_t best = 0;
	unsigned seen = 0;

	for (unsigned tries = 0; tries < 4000 && seen < lines; tries++) {
		hc_yield();
		uint64_t v = read_counter(id);
		if (v > above) {
			seen++;
			if (v > best)
				best = v;
		}
	}
	return best;
}

static void flip_and_start(uint32_t id, const uint8_t *blob, size_t len,
			   size_t off, const char *what)
{
	memcpy(scratch, blob, len);
	scratch[off] ^= 0x01;
	check(what, start(id, owner_a, scratch, len), HC_E_VERIFY);
}

static void tamper(uint32_t id, const uint8_t *blob, size_t len)
{
	uint32_t pages = load_le32(blob + 128), ctx = load_le32(blob + 132);
	size_t ctx_off = 152, list_off = ctx_off + ((ctx + 15) & ~15u);
	size_t page_off = list_off + (((size_t)pages * 8 + 15) & ~(size_t)15);

	con_printf("lcdrive: blob %lu bytes: %u pages, context %u bytes\n",
		   (unsigned long)len, pages, ctx);
	ok("blob size is the sum of its regions",
	   page_off + (size_t)pages * 4096 + 16 == len);
	flip_and_start(id, blob, len, 20, "flipped header byte refused");
	flip_and_start(id, blob, len, ctx_off + 40, "flipped context byte refused");
	flip_and_start(id, blob, len, list_off + 1, "flipped page-list byte refused");
	flip_and_start(id, blob, len, page_off + 4096 + 77, "flipped page byte refused");
	flip_and_start(id, blob, len, len - 3, "flipped tag byte refused");
	check("truncated blob refused", start(id, owner_a, blob, len - 16), HC_E_VERIFY);
}

/* Yield until the VM is EXITED (or give up); its info in *out. */
static bool wait_exited(uint32_t id, struct hc_vm_info *out)
{
	for (unsigned tries = 0; tries < 2000; tries++) {
		hc_yield();
		if (query(id, owner_a, out, sizeof(*out)) == 1 &&
		    out->state == HC_VM_EXITED)
			return true;
	}
	return false;
}

/* hello halts after one line: EXITED, memory kept; sealed and resumed it
 * halts again where it was. */
static void exited_vm(void)
{
	static struct hc_vm_info in;
	struct hc_vm_load l = {
		.image_gpa = (uint64_t)hello_image,
		.image_len = (uint64_t)(hello_image_end - hello_image),
	};
	long id = create("hello", 2u << 20, owner_a), n, len;

	l.ref = ref((uint32_t)id, owner_a);
	ok("create hello", id > 0);
	check("load hello", hc_vm_load(&l), 0);
	check("start hello", start((uint32_t)id, owner_a, NULL, 0), 0);
	ok("hello exited by itself", wait_exited((uint32_t)id, &in));
	ok("stop reason halted", strcmp(in.stop_reason, "halted") == 0);
	ok("exited VM can be sealed", in.seal_size > 0);
	n = console_read((uint32_t)id, owner_a, console, sizeof(console) - 1);
	console[n > 0 ? n : 0] = '\0';
	ok("hello's console kept", n > 0 && strstr(console, "hello from a Custos guest"));
	check("exited VM cannot be started", start((uint32_t)id, owner_a, NULL, 0),
	      HC_E_STATE);
	len = stop((uint32_t)id, owner_a, blob1, BLOB_CAP);
	ok("stop exited VM", len > 0);
	check("start exited VM from its blob", start((uint32_t)id, owner_a, blob1,
						    (size_t)len), 0);
	ok("resumed hello halts again", wait_exited((uint32_t)id, &in));
	n = console_read((uint32_t)id, owner_a, console, sizeof(console) - 1);
	check("resumed hello did not start over", n, 0);
	check("destroy hello", destroy((uint32_t)id, owner_a), 0);
}

int guest_main(const struct custos_boot_info *bi)
{
	static struct hc_vm_info info[4];
	uint64_t before, after;
	long id, len1, len2;

	guest_init(bi, "lcdrive");
	memset(owner_a, 0xa1, sizeof(owner_a));
	memset(owner_b, 0xb2, sizeof(owner_b));
	for (unsigned i = 0; i < sizeof(salt); i++)
		salt[i] = (uint8_t)(i * 7 + 1);

	/* Create, and what create refuses. */
	check("bad name refused", create("Bad!", 32u << 20, owner_a), HC_E_INVAL);
	check("bad mem_size refused", create("x", 3u << 20, owner_a), HC_E_INVAL);
	id = create("counter", 32u << 20, owner_a);
	ok("create counter 32 MiB", id > 0);
	con_printf("lcdrive: counter is vm %ld\n", id);
	check("same name, same owner refused", create("counter", 2u << 20, owner_a),
	      HC_E_INVAL);
	long other = create("counter", 2u << 20, owner_b);
	ok("same name, other owner allowed", other > 0);
	check("other owner's VM destroyed", destroy((uint32_t)other, owner_b), 0);

	/* Owner isolation: the other owner gets NOTFOUND for everything. */
	check("other owner: query", query((uint32_t)id, owner_b, info, sizeof(info)),
	      HC_E_NOTFOUND);
	check("other owner: load", load((uint32_t)id, owner_b, secrets, sizeof(secrets) - 1),
	      HC_E_NOTFOUND);
	check("other owner: start", start((uint32_t)id, owner_b, NULL, 0), HC_E_NOTFOUND);
	check("other owner: stop", stop((uint32_t)id, owner_b, blob1, BLOB_CAP),
	      HC_E_NOTFOUND);
	check("other owner: console", console_read((uint32_t)id, owner_b, console, 16),
	      HC_E_NOTFOUND);
	check("other owner: destroy", destroy((uint32_t)id, owner_b), HC_E_NOTFOUND);
	check("other owner: list is empty", query(0, owner_b, info, sizeof(info)), 0);

	/* State machine and load checks. */
	check("start before load", start((uint32_t)id, owner_a, NULL, 0), HC_E_STATE);
	check("stop before start", stop((uint32_t)id, owner_a, blob1, BLOB_CAP), HC_E_STATE);
	check("malformed secrets refused", load((uint32_t)id, owner_a, "NOVALUE\0", 8),
	      HC_E_INVAL);
	check("unterminated secret refused", load((uint32_t)id, owner_a, "A=b", 3),
	      HC_E_INVAL);
	check("load", load((uint32_t)id, owner_a, secrets, sizeof(secrets) - 1), 0);
	check("load twice", load((uint32_t)id, owner_a, secrets, sizeof(secrets) - 1),
	      HC_E_STATE);
	check("query", query((uint32_t)id, owner_a, info, sizeof(info)), 1);
	check("state loaded", info[0].state, HC_VM_LOADED);

	/* Start and run. */
	check("start", start((uint32_t)id, owner_a, NULL, 0), 0);
	check("start twice", start((uint32_t)id, owner_a, NULL, 0), HC_E_STATE);
	before = run_until_above((uint32_t)id, 0, 3);
	ok("counter runs", before > 0);
	con_printf("lcdrive: counter at %lu before stop\n", (unsigned long)before);

	/* Stop (seal) v1. */
	query((uint32_t)id, owner_a, info, sizeof(info));
	check("stop with too small a buffer", stop((uint32_t)id, owner_a, blob1, 100),
	      HC_E_INVAL);
	len1 = holding_vectors("vector registers kept across the seal",
			       (struct lifecycle_call){ false, (uint32_t)id, blob1, BLOB_CAP });
	ok("stop v1", len1 > 0);
	ok("blob v1 has the magic", memcmp(blob1, "CUSTSEAL", 8) == 0);
	{
		uint64_t v = read_counter((uint32_t)id);
		before = v > before ? v : before;
	}
	con_printf("lcdrive: sealed v1 %ld bytes, last value %lu\n", len1,
		   (unsigned long)before);
	check("query sealed", query((uint32_t)id, owner_a, info, sizeof(info)), 1);
	check("state sealed", info[0].state, HC_VM_SEALED);
	check("version 1", (long)info[0].version, 1);
	check("stop twice", stop((uint32_t)id, owner_a, blob2, BLOB_CAP), HC_E_STATE);

	/* Resume from v1: it continues above the last value. */
	check("start from v1",
	      holding_vectors("vector registers kept across the resume",
			      (struct lifecycle_call){ true, (uint32_t)id, blob1, (size_t)len1 }),
	      0);
	after = run_until_above((uint32_t)id, before, 2);
	con_printf("lcdrive: counter at %lu after resume\n", (unsigned long)after);
	ok("counter continues after resume", after > before);

	/* v2, then the old v1 is a rollback. */
	len2 = stop((uint32_t)id, owner_a, blob2, BLOB_CAP);
	ok("stop v2", len2 > 0);
	check("v1 after v2 is a rollback", start((uint32_t)id, owner_a, blob1, (size_t)len1),
	      HC_E_ROLLBACK);
	tamper((uint32_t)id, blob2, (size_t)len2);
	check("other owner: start with the blob", start((uint32_t)id, owner_b, blob2,
							(size_t)len2), HC_E_NOTFOUND);
	check("start from v2 after the refusals", start((uint32_t)id, owner_a, blob2,
							(size_t)len2), 0);
	after = run_until_above((uint32_t)id, after, 1);
	ok("counter continues after v2", after > 0);

	/* Destroy: the key is gone, and so is the VM. */
	check("destroy", destroy((uint32_t)id, owner_a), 0);
	check("start after destroy", start((uint32_t)id, owner_a, blob2, (size_t)len2),
	      HC_E_NOTFOUND);
	check("list after destroy", query(0, owner_a, info, sizeof(info)), 0);

	/* More memory than there is. */
	check("create 1 GiB: no memory", create("huge", 1u << 30, owner_a), HC_E_NOMEM);

	/* Cycles: nothing may stay behind. */
	unsigned good = 0;
	for (unsigned i = 0; i < 20; i++) {
		long c = create("cycle", 2u << 20, owner_a);
		if (c > 0 && load((uint32_t)c, owner_a, secrets, sizeof(secrets) - 1) == 0 &&
		    destroy((uint32_t)c, owner_a) == 0)
			good++;
	}
	check("20 create/load/destroy cycles", good, 20);
	exited_vm();
	con_printf("lcdrive: done, %u failures\n", failures);
	return 0;
}
