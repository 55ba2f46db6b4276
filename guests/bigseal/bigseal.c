/*
 * bigseal: packaged AS the TPGVM (tests/integration/test_timeshare.py), it
 * lets the other VMs run for 300 slices each, then creates a big tenant
 * VM (mem=N MiB, default 256), loads hello into it,
 * starts it, waits until it has halted, then seals it, resumes it from the
 * blob and destroys it. Every one of those calls runs in bounded steps
 * (docs/lifecycle.md, "Long calls"), so the other VMs keep running; the
 * test reads how long they waited. Prints, around each call,
 *   bigseal: <call> begin
 *   bigseal: <call> end <result>
 * and at the end "bigseal: done, N failures".
 */
#include <string.h>
#include "guests/runtime/guest.h"

extern const uint8_t hello_image[], hello_image_end[];

#define BLOB_CAP (1u << 20)
static uint8_t blob[BLOB_CAP];
static const uint8_t owner[HC_OWNER_LEN] = { 0x5e, 0xa1 };
static unsigned failures;

static struct hc_vm_ref ref(uint32_t id)
{
	struct hc_vm_ref r = { .vm_id = id };

	memcpy(r.owner, owner, HC_OWNER_LEN);
	return r;
}

/* want: the result the call must give, or 1 for "any positive value". */
static long report(const char *call, long rc, long want)
{
	bool ok = want == 1 ? rc > 0 : rc == want;

	con_printf("bigseal: %s end %ld%s\n", call, rc, ok ? "" : " FAIL");
	failures += !ok;
	return rc;
}

static uint32_t state_of(uint32_t id)
{
	static struct hc_vm_info info;
	struct hc_vm_query q = { .ref = ref(id), .out_gpa = (uint64_t)&info,
				 .out_cap = sizeof(info) };

	return hc_vm_query(&q) == 1 ? info.state : 0;
}

int guest_main(const struct custos_boot_info *bi)
{
	guest_init(bi, "bigseal");
	uint64_t mem = cmdline_u64(bi, "mem", 256) << 20;
	/* The others first: each yield gives them a slice apiece, enough to
	 * calibrate and start reporting before the long calls begin. */
	for (unsigned i = 0; i < 300; i++)
		hc_yield();
	struct hc_vm_create c = { .ref = ref(0), .mem_size = mem };

	memcpy(c.name, "big", 4);
	con_printf("bigseal: create begin\n");
	long id = report("create", hc_vm_create(&c), 1);
	if (id <= 0)
		return 1;
	struct hc_vm_load l = {
		.ref = ref((uint32_t)id),
		.image_gpa = (uint64_t)hello_image,
		.image_len = (uint64_t)(hello_image_end - hello_image),
	};
	con_printf("bigseal: load begin\n");
	report("load", hc_vm_load(&l), 0);
	struct hc_vm_start s = { .ref = ref((uint32_t)id) };
	con_printf("bigseal: start begin\n");
	report("start", hc_vm_start(&s), 0);
	for (unsigned i = 0; i < 1000 && state_of((uint32_t)id) != HC_VM_EXITED; i++)
		hc_yield();
	struct hc_vm_stop st = { .ref = ref((uint32_t)id), .out_gpa = (uint64_t)blob,
				 .out_cap = sizeof(blob) };
	con_printf("bigseal: stop begin\n");
	long len = report("stop", hc_vm_stop(&st), 1);
	struct hc_vm_start re = { .ref = ref((uint32_t)id), .blob_gpa = (uint64_t)blob,
				  .blob_len = len > 0 ? (uint64_t)len : 0 };
	con_printf("bigseal: resume begin\n");
	report("resume", hc_vm_start(&re), 0);
	struct hc_vm_ref d = ref((uint32_t)id);
	con_printf("bigseal: destroy begin\n");
	report("destroy", hc_vm_destroy(&d), 0);
	con_printf("bigseal: done, %u failures\n", failures);
	return 0;
}
