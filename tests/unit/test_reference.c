/*
 * The reference.json reader and comparison (tools/reference.c, compiled in
 * here): the format mkreference.py writes is read back exactly; unknown
 * keys are skipped; every malformed, oversized, truncated or incomplete
 * input is refused with a reason (and every prefix of a valid file, against
 * a guard page); and the comparison names the first difference in words.
 * Boot-module VMs: the "boot_vms" list is read and checked, and every boot
 * VM event is judged by name and digest wherever it sits in the log, an
 * unknown one always a failure. Several accepted values (a roll-out): any
 * one matches; an empty, duplicated or overlong list is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tools/reference.c"
#include "tcb/tcg_log.h"
#include "guarded.h"

static const char good[] =
	"{\n"
	"  \"format\": \"custos-reference-1\",\n"
	"  \"platform_id\": \"custos-dev\",\n"
	"  \"measurements\": [\n"
	"    {\"pcr\": 12, \"type\": \"EV_IPL\", \"description\": \"custos.elf text+rodata\",\n"
	"     \"sha384\": \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f\"},\n"
	"    {\"pcr\": 14, \"type\": \"EV_IPL\", \"description\": \"tpgvm image\",\n"
	"     \"sha384\": \"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\"}\n"
	"  ]\n"
	"}\n";

static struct reference ref;

static void expect_bad(const char *json, const char *want)
{
	char err[256];

	memset(&ref, 0x5a, sizeof(ref));
	assert_int_equal(reference_parse(json, strlen(json), &ref, err, sizeof(err)), -1);
	if (!strstr(err, want))
		fail_msg("refused with '%s', expected '%s'", err, want);
	for (size_t i = 0; i < sizeof(ref); i++)
		assert_int_equal(((uint8_t *)&ref)[i], 0x5a);
}

static void test_good(void **state)
{
	char err[256] = "x";

	(void)state;
	assert_int_equal(reference_parse(good, strlen(good), &ref, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(ref.platform_id, "custos-dev");
	assert_int_equal(ref.count, 2);
	assert_int_equal(ref.events[0].pcr, 12);
	assert_int_equal(ref.events[0].event_type, TCG_EV_IPL);
	assert_string_equal(ref.events[0].desc, "custos.elf text+rodata");
	for (int i = 0; i < 48; i++) {
		assert_int_equal(ref.events[0].values.sha384[0][i], i);
		assert_int_equal(ref.events[1].values.sha384[0][i], 0xff);
	}
	assert_int_equal(ref.events[1].pcr, 14);
}

static void test_unknown_keys_and_escapes(void **state)
{
	static const char j[] =
		"{\"comment\": {\"a\": [1, 2.5e3, -3, true, false, null, \"x\"]},"
		" \"format\": \"custos-reference-1\", \"platform_id\": \"a\\u0062\\/c\","
		" \"measurements\": [{\"pcr\": 0, \"type\": \"EV_NO_ACTION\","
		" \"description\": \"q\\\"uo\\\\te\", \"note\": [],"
		" \"sha384\": \"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"}],"
		" \"more\": {}}";

	(void)state;
	assert_int_equal(reference_parse(j, strlen(j), &ref, NULL, 0), 0);
	assert_string_equal(ref.platform_id, "ab/c");
	assert_string_equal(ref.events[0].desc, "q\"uo\\te");
	assert_int_equal(ref.events[0].event_type, TCG_EV_NO_ACTION);
	assert_int_equal(ref.events[0].pcr, 0);
}

static void test_refusals(void **state)
{
	char big[REFERENCE_MAX_SIZE + 2];

	(void)state;
	expect_bad("", "expected '{'");
	expect_bad("[]", "expected '{'");
	expect_bad("{}", "lacks \"format\"");
	expect_bad("{\"format\": \"custos-reference-2\"}", "format is not");
	expect_bad("{\"format\": \"custos-reference-1\", \"format\": \"custos-reference-1\"}",
		   "appears twice");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"a b\", \"measurements\": []}",
		   "platform_id must be");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"\", \"measurements\": []}",
		   "platform_id must be");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": "
		   "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}",
		   "longer than 64");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\"}",
		   "lacks \"measurements\"");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{}]}",
		   "lacks \"pcr\"");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"pcr\": 24}]}",
		   "PCR 24 does not exist");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"pcr\": 08}]}",
		   "leading zero");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"pcr\": -1}]}",
		   "unsigned integer");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"pcr\": 1.5}]}",
		   "unsigned integer");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"pcr\": 1234567890}]}",
		   "too large");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"type\": \"EV_FOO\"}]}",
		   "unknown event type");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"sha384\": \"00\"}]}",
		   "not 96 hex digits");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"sha384\": "
		   "\"zz0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"}]}",
		   "not hex");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"description\": \"a\\tb\"}]}",
		   "not printable");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [{\"description\": "
		   "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}]}",
		   "longer than 63");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [], "
		   "\"boot_vms\": [{\"name\": \"Hello\"}]}", "boot VM name must be 1..31 of a-z 0-9 _ -");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [], "
		   "\"boot_vms\": [{\"name\": \"\"}]}", "boot VM name must be");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [], "
		   "\"boot_vms\": [{\"name\": \"a b\"}]}", "boot VM name must be");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [], "
		   "\"boot_vms\": [{\"name\": \"abcdefghijklmnopqrstuvwxyz012345\"}]}", "longer than 31");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [], "
		   "\"boot_vms\": [{\"name\": \"hello\"}]}", "boot VM 0 lacks \"sha384\"");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [], "
		   "\"boot_vms\": [{\"sha384\": \"00\"}]}", "not 96 hex digits");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [], "
		   "\"boot_vms\": [{}]}", "boot VM 0 lacks \"name\"");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [], "
		   "\"boot_vms\": [{\"name\": \"a\", \"name\": \"b\"}]}", "appears twice");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [], "
		   "\"boot_vms\": [], \"boot_vms\": []}", "appears twice");
	expect_bad("{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [], "
		   "\"boot_vms\": {}}", "expected '['");
	expect_bad("{\"format\": \"custos-reference-1\", \"boot_vms\": []}", "lacks \"platform_id\"");
	expect_bad("{\"format\": \"custos-reference-1\"} x", "unexpected bytes after");
	expect_bad("{\"format\": \"custos\xc3\xa9\"}", "non-ASCII");
	expect_bad("{\"format\": \"a\nb\"}", "control");
	expect_bad("{\"format\": \"\\u0000\"}", "outside ASCII");
	expect_bad("{\"format\": \"\\u00e9\"}", "outside ASCII");
	expect_bad("{\"format\": \"\\x\"}", "bad escape");
	expect_bad("{\"format\" \"x\"}", "expected ':'");
	expect_bad("{\"format\": \"custos-reference-1\",}", "expected a key");
	expect_bad("{\"x\": [[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]}", "nested too deeply");
	expect_bad("{\"x\": tru}", "unexpected value");
	expect_bad("{\"x\": @}", "expected a value");
	memset(big, ' ', sizeof(big));
	big[0] = '{';
	big[sizeof(big) - 2] = '}';
	big[sizeof(big) - 1] = '\0';
	expect_bad(big, "larger than");
	{
		char many[8192];
		size_t n = (size_t)snprintf(many, sizeof(many),
			"{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [");

		for (int i = 0; i < 33; i++)
			n += (size_t)snprintf(many + n, sizeof(many) - n,
				"%s{\"pcr\": 8, \"type\": \"EV_IPL\", \"description\": \"d\", \"sha384\": "
				"\"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"}",
				i ? ", " : "");
		snprintf(many + n, sizeof(many) - n, "]}");
		expect_bad(many, "more than 32 measurements");
		n = (size_t)snprintf(many, sizeof(many),
			"{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [], \"boot_vms\": [");
		for (int i = 0; i < 33; i++)
			n += (size_t)snprintf(many + n, sizeof(many) - n,
				"%s{\"name\": \"v%d\", \"sha384\": "
				"\"000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"}",
				i ? ", " : "", i);
		snprintf(many + n, sizeof(many) - n, "]}");
		expect_bad(many, "more than 32 boot VMs");
	}
}

/* Every proper prefix of the good file is refused, without overreading. */
static void test_truncations(void **state)
{
	struct guarded g;
	size_t len = strlen(good);

	(void)state;
	guarded_init(&g, len);
	for (size_t n = 0; n < len; n++) {
		const char *p = (const char *)guarded_fill(&g, (const uint8_t *)good, n, 1);
		int rc = reference_parse(p, n, &ref, NULL, 0);

		/* Only the trailing newline may go. */
		assert_int_equal(rc, n == len - 1 ? 0 : -1);
	}
	guarded_free(&g);
}

static void log_from_ref(struct tcg_log_parsed *log)
{
	log->count = ref.count;
	for (size_t i = 0; i < ref.count; i++) {
		log->events[i].pcr = ref.events[i].pcr;
		log->events[i].event_type = ref.events[i].event_type;
		memcpy(log->events[i].digest, ref.events[i].values.sha384[0], 48);
		memcpy(log->events[i].desc, ref.events[i].desc, sizeof(log->events[i].desc));
	}
}

static void expect_diff(const struct tcg_log_parsed *log, const char *pid,
			const char *want)
{
	char err[300];

	assert_int_equal(reference_compare(&ref, pid, strlen(pid), log, err,
					   sizeof(err)), -1);
	if (strcmp(err, want) != 0)
		fail_msg("difference '%s', expected '%s'", err, want);
}

static void test_compare(void **state)
{
	static struct tcg_log_parsed log;
	char err[300] = "x";

	(void)state;
	assert_int_equal(reference_parse(good, strlen(good), &ref, NULL, 0), 0);
	log_from_ref(&log);
	assert_int_equal(reference_compare(&ref, "custos-dev", 10, &log, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	expect_diff(&log, "custos-de", "platform id: reported \"custos-de\" but reference says \"custos-dev\"");
	expect_diff(&log, "custos-devx", "platform id: reported \"custos-devx\" but reference says \"custos-dev\"");
	log.events[1].digest[0] = 0xab;
	log.events[1].digest[1] = 0x12;
	expect_diff(&log, "custos-dev",
		    "tpgvm image: reported sha384 ab12ffffffffffff.. but reference says ffffffffffffffff..");
	log_from_ref(&log);
	log.events[1].pcr = 15;
	expect_diff(&log, "custos-dev", "tpgvm image: reported in PCR 15 but reference says PCR 14");
	log_from_ref(&log);
	log.events[0].event_type = 6;
	expect_diff(&log, "custos-dev",
		    "custos.elf text+rodata: reported event type 0x00000006 but reference says EV_IPL");
	log_from_ref(&log);
	strcpy(log.events[1].desc, "evil image");
	expect_diff(&log, "custos-dev",
		    "measurement 2: the platform logged \"evil image\" where the reference has \"tpgvm image\"");
	log_from_ref(&log);
	log.count = 1;
	expect_diff(&log, "custos-dev",
		    "the platform logged 1 measurements, the reference has 2: \"tpgvm image\" (measurement 2) is missing");
	log_from_ref(&log);
	log.count = 3;
	strcpy(log.events[2].desc, "extra");
	expect_diff(&log, "custos-dev",
		    "the platform logged 3 measurements, the reference has 2: \"extra\" (measurement 3) is not in the reference");
}

#define D_HELLO "0c4f22aa00000000000000000000000000000000000000000000000000000000000000000000000000000000000000ff"
#define D_OTHER "77000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000e"

static const char allowing[] =
	"{\"format\": \"custos-reference-1\", \"platform_id\": \"custos-dev\",\n"
	" \"measurements\": [\n"
	"  {\"pcr\": 12, \"type\": \"EV_IPL\", \"description\": \"custos.elf text+rodata\",\n"
	"   \"sha384\": \"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f\"},\n"
	"  {\"pcr\": 14, \"type\": \"EV_IPL\", \"description\": \"tpgvm image\",\n"
	"   \"sha384\": \"FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF\"}],\n"
	" \"boot_vms\": [{\"name\": \"hello\", \"sha384\": \"" D_HELLO "\", \"note\": [1]},\n"
	"  {\"sha384\": \"" D_OTHER "\", \"name\": \"a-b_9\"}]}\n";

static void test_boot_vms_parsed(void **state)
{
	char err[256] = "x";

	(void)state;
	assert_int_equal(reference_parse(allowing, strlen(allowing), &ref, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(ref.count, 2);
	assert_int_equal(ref.boot_vm_count, 2);
	assert_string_equal(ref.boot_vms[0].name, "hello");
	assert_int_equal(ref.boot_vms[0].values.sha384[0][0], 0x0c);
	assert_int_equal(ref.boot_vms[0].values.sha384[0][47], 0xff);
	assert_string_equal(ref.boot_vms[1].name, "a-b_9");
	assert_int_equal(ref.boot_vms[1].values.sha384[0][47], 0x0e);
	/* Absent: none allowed. */
	assert_int_equal(reference_parse(good, strlen(good), &ref, NULL, 0), 0);
	assert_int_equal(ref.boot_vm_count, 0);
}

static void put_boot_vm(struct tcg_event *e, unsigned pcr, const char *desc,
			const char *hex)
{
	memset(e, 0, sizeof(*e));
	e->pcr = pcr;
	e->event_type = TCG_EV_IPL;
	snprintf(e->desc, sizeof(e->desc), "%s", desc);
	for (int i = 0; i < 48; i++)
		assert_int_equal(sscanf(hex + 2 * i, "%2hhx", &e->digest[i]), 1);
}

/* The log of the reference with one more event at index 'at'. */
static void log_with(struct tcg_log_parsed *log, size_t at, const struct tcg_event *extra)
{
	log_from_ref(log);
	memmove(&log->events[at + 1], &log->events[at],
		(log->count - at) * sizeof(log->events[0]));
	log->events[at] = *extra;
	log->count++;
}

static void test_boot_vm_name(void **state)
{
	struct tcg_event e;

	(void)state;
	put_boot_vm(&e, TCG_PCR_BOOT_VM, "boot vm hello", D_HELLO);
	assert_string_equal(reference_boot_vm_name(&e), "hello");
	put_boot_vm(&e, TCG_PCR_BOOT_VM, "boot vm abcdefghijklmnopqrstuvwxyz01234", D_HELLO);
	assert_string_equal(reference_boot_vm_name(&e), "abcdefghijklmnopqrstuvwxyz01234");
	put_boot_vm(&e, TCG_PCR_BOOT_VM, "boot vm abcdefghijklmnopqrstuvwxyz012345", D_HELLO);
	assert_null(reference_boot_vm_name(&e));
	put_boot_vm(&e, TCG_PCR_TPGVM, "boot vm hello", D_HELLO);
	assert_null(reference_boot_vm_name(&e));
	put_boot_vm(&e, TCG_PCR_BOOT_VM, "boot vm Hello", D_HELLO);
	assert_null(reference_boot_vm_name(&e));
	put_boot_vm(&e, TCG_PCR_BOOT_VM, "boot vm ", D_HELLO);
	assert_null(reference_boot_vm_name(&e));
	put_boot_vm(&e, TCG_PCR_BOOT_VM, "boot vmhello", D_HELLO);
	assert_null(reference_boot_vm_name(&e));
	put_boot_vm(&e, TCG_PCR_BOOT_VM, "boot vm hello", D_HELLO);
	e.event_type = TCG_EV_NO_ACTION;
	assert_null(reference_boot_vm_name(&e));
}

/* A boot VM is allowed or refused by its name and digest alone, wherever
 * it sits in the log; what the verifier does not know always fails. */
static void test_compare_boot_vms(void **state)
{
	static struct tcg_log_parsed log;
	struct tcg_event hello, other;
	char err[300] = "x";

	(void)state;
	put_boot_vm(&hello, TCG_PCR_BOOT_VM, "boot vm hello", D_HELLO);
	assert_int_equal(reference_parse(good, strlen(good), &ref, NULL, 0), 0);
	for (size_t at = 0; at <= ref.count; at++) {
		log_with(&log, at, &hello);
		expect_diff(&log, "custos-dev",
			    "boot VM 'hello' (sha384 0c4f22aa00000000..) runs beside the TPGVM, "
			    "and the reference allows no boot VM 'hello'");
	}
	assert_int_equal(reference_parse(allowing, strlen(allowing), &ref, NULL, 0), 0);
	for (size_t at = 0; at <= ref.count; at++) {
		log_with(&log, at, &hello);
		assert_int_equal(reference_compare(&ref, "custos-dev", 10, &log, err,
						   sizeof(err)), 0);
		assert_string_equal(err, "");
	}
	/* Allowed, but not with that digest. */
	put_boot_vm(&other, TCG_PCR_BOOT_VM, "boot vm hello", D_OTHER);
	log_with(&log, 1, &other);
	expect_diff(&log, "custos-dev",
		    "boot VM 'hello': reported sha384 7700000000000000.. but the reference "
		    "allows it only as 0c4f22aa00000000..");
	/* Another name with the allowed digest. */
	put_boot_vm(&other, TCG_PCR_BOOT_VM, "boot vm evil", D_HELLO);
	log_with(&log, 2, &other);
	expect_diff(&log, "custos-dev",
		    "boot VM 'evil' (sha384 0c4f22aa00000000..) runs beside the TPGVM, "
		    "and the reference allows no boot VM 'evil'");
	/* The second allowed VM, and both at once, anywhere. */
	put_boot_vm(&other, TCG_PCR_BOOT_VM, "boot vm a-b_9", D_OTHER);
	log_with(&log, 0, &other);
	assert_int_equal(reference_compare(&ref, "custos-dev", 10, &log, NULL, 0), 0);
	log.events[log.count++] = hello;
	assert_int_equal(reference_compare(&ref, "custos-dev", 10, &log, NULL, 0), 0);
	/* The same VM twice. */
	log_with(&log, 0, &hello);
	log.events[log.count++] = hello;
	expect_diff(&log, "custos-dev",
		    "boot VM 'hello' is logged twice (measurements 1 and 4)");
	/* Not a boot VM event (another PCR, a malformed name): unknown, so a
	 * failure even where a boot VM would be allowed. */
	put_boot_vm(&other, TCG_PCR_TPGVM, "boot vm hello", D_HELLO);
	log_with(&log, 2, &other);
	expect_diff(&log, "custos-dev",
		    "the platform logged 3 measurements, the reference has 2: \"boot vm hello\" "
		    "(measurement 3) is not in the reference");
	put_boot_vm(&other, TCG_PCR_BOOT_VM, "boot vm Hello", D_HELLO);
	log_with(&log, 0, &other);
	expect_diff(&log, "custos-dev",
		    "measurement 1: the platform logged \"boot vm Hello\" where the reference "
		    "has \"custos.elf text+rodata\"");
	/* Allowed boot VMs do not stand in for a missing measurement. */
	log_with(&log, 1, &hello);
	log.count--;
	expect_diff(&log, "custos-dev",
		    "the platform logged 1 measurements, the reference has 2: \"tpgvm image\" "
		    "(measurement 2) is missing");
}

/* The optional launch object: all three keys, an absolute path,
 * printable strings; without it nothing about the launch is expected. */
#define LAUNCH_HEAD "{\"format\": \"custos-reference-1\", \"platform_id\": \"x\", \"measurements\": [], \"launch\": "
#define OLD_HEX "111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111111"
#define ELF_HEX "27c6c3db5738fd252af0a9167764ac3fb6d7a797f0b39be0086074a0144e843d8254de8cf8d0fe1744fe0a46d85bcfad"

static void test_launch_parsed(void **state)
{
	static const char json[] = LAUNCH_HEAD "{\"kernel\": \"/boot/custos.elf\", "
		"\"kernel_sha384\": \"" ELF_HEX "\", \"kernel_cmdline\": \"a=b c\", \"x\": 1}}";
	char err[256] = "x";

	(void)state;
	assert_int_equal(reference_parse(json, strlen(json), &ref, err, sizeof(err)), 0);
	assert_true(ref.launch.present);
	assert_string_equal(ref.launch.kernel, "/boot/custos.elf");
	assert_string_equal(ref.launch.kernel_cmdline, "a=b c");
	assert_int_equal(ref.launch.kernel_sha384.count, 1);
	assert_int_equal(ref.launch.kernel_sha384.sha384[0][0], 0x27);
	assert_int_equal(ref.launch.kernel_sha384.sha384[0][47], 0xad);
	/* a roll-out: the old build's kernel too */
	static const char two[] = LAUNCH_HEAD "{\"kernel\": \"/boot/custos.elf\", "
		"\"kernel_sha384\": [\"" ELF_HEX "\", \"" OLD_HEX "\"], "
		"\"kernel_cmdline\": \"\"}}";
	assert_int_equal(reference_parse(two, strlen(two), &ref, err, sizeof(err)), 0);
	assert_int_equal(ref.launch.kernel_sha384.count, 2);
	assert_int_equal(ref.launch.kernel_sha384.sha384[1][0], 0x11);
	expect_bad(LAUNCH_HEAD "{\"kernel\": \"/k\", \"kernel_sha384\": [\"" ELF_HEX
		   "\", \"" ELF_HEX "\"], \"kernel_cmdline\": \"\"}}", "listed twice");
	assert_int_equal(reference_parse(good, strlen(good), &ref, err, sizeof(err)), 0);
	assert_false(ref.launch.present);
	expect_bad(LAUNCH_HEAD "{\"kernel\": \"/k\", \"kernel_sha384\": \"" ELF_HEX "\"}}",
		   "launch lacks \"kernel_cmdline\"");
	expect_bad(LAUNCH_HEAD "{\"kernel\": \"boot/k\", \"kernel_sha384\": \"" ELF_HEX
		   "\", \"kernel_cmdline\": \"\"}}", "absolute path");
	expect_bad(LAUNCH_HEAD "{\"kernel\": \"/a b\", \"kernel_sha384\": \"" ELF_HEX
		   "\", \"kernel_cmdline\": \"\"}}", "absolute path");
	expect_bad(LAUNCH_HEAD "{\"kernel\": \"/k\", \"kernel_sha384\": \"00\", "
		   "\"kernel_cmdline\": \"\"}}", "");
	expect_bad(LAUNCH_HEAD "{\"kernel\": \"/k\", \"kernel_sha384\": \"" ELF_HEX
		   "\", \"kernel_cmdline\": \"\\t\"}}", "printable");
	expect_bad(LAUNCH_HEAD "{\"kernel\": \"/k\", \"kernel\": \"/k\"}}", "appears twice");
	expect_bad(LAUNCH_HEAD "[]}", "");
}

/* Roll-outs: "sha384" may list several accepted values; a measurement or
 * boot VM matches if it equals any of them, and the list is strict. */
#define H_A "aa0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000001"
#define H_B "bb0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000002"
#define H_C "cc0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000003"
#define LIST_HEAD "{\"format\": \"custos-reference-1\", \"platform_id\": \"custos-dev\", " \
	"\"measurements\": [{\"pcr\": 14, \"type\": \"EV_IPL\", \"description\": \"tpgvm image\", \"sha384\": "

static void test_several_values_parsed(void **state)
{
	static const char json[] = LIST_HEAD "[\"" H_A "\", \"" H_B "\"]}], "
		"\"boot_vms\": [{\"name\": \"hello\", \"sha384\": [\"" H_C "\"]}]}";
	char err[256] = "x";

	(void)state;
	assert_int_equal(reference_parse(json, strlen(json), &ref, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(ref.events[0].values.count, 2);
	assert_int_equal(ref.events[0].values.sha384[0][0], 0xaa);
	assert_int_equal(ref.events[0].values.sha384[1][0], 0xbb);
	assert_int_equal(ref.events[0].values.sha384[1][47], 0x02);
	assert_int_equal(ref.boot_vms[0].values.count, 1);
	assert_int_equal(ref.boot_vms[0].values.sha384[0][0], 0xcc);
	/* A single string is one value. */
	assert_int_equal(reference_parse(good, strlen(good), &ref, NULL, 0), 0);
	assert_int_equal(ref.events[0].values.count, 1);
}

static void test_several_values_refused(void **state)
{
	char many[2048];
	size_t n;

	(void)state;
	expect_bad(LIST_HEAD "[]}]}", "an empty list of sha384 values accepts nothing");
	expect_bad(LIST_HEAD "[\"" H_A "\", \"" H_A "\"]}]}", "listed twice");
	expect_bad(LIST_HEAD "[\"" H_A "\", \"" H_B "\", \"" H_A "\"]}]}", "listed twice");
	expect_bad(LIST_HEAD "[\"" H_A "\",]}]}", "expected '\"'");
	expect_bad(LIST_HEAD "[\"" H_A "\" \"" H_B "\"]}]}", "expected ']'");
	expect_bad(LIST_HEAD "[\"" H_A "\"", "expected ']'");
	expect_bad(LIST_HEAD "[1]}]}", "expected '\"'");
	expect_bad(LIST_HEAD "[[\"" H_A "\"]]}]}", "expected '\"'");
	expect_bad(LIST_HEAD "[\"00\"]}]}", "not 96 hex digits");
	expect_bad(LIST_HEAD "{}}]}", "expected '\"'");
	expect_bad(LIST_HEAD "null}]}", "expected '\"'");
	/* At most REFERENCE_VALUES_MAX values. */
	n = (size_t)snprintf(many, sizeof(many), LIST_HEAD "[");
	for (int i = 0; i <= REFERENCE_VALUES_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n,
			"%s\"%02x0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"",
			i ? ", " : "", i);
	snprintf(many + n, sizeof(many) - n, "]}]}");
	expect_bad(many, "more than 8 sha384 values");
	/* Exactly the maximum is fine. */
	n = (size_t)snprintf(many, sizeof(many), LIST_HEAD "[");
	for (int i = 0; i < REFERENCE_VALUES_MAX; i++)
		n += (size_t)snprintf(many + n, sizeof(many) - n,
			"%s\"%02x0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\"",
			i ? ", " : "", i);
	snprintf(many + n, sizeof(many) - n, "]}]}");
	assert_int_equal(reference_parse(many, strlen(many), &ref, NULL, 0), 0);
	assert_int_equal(ref.events[0].values.count, REFERENCE_VALUES_MAX);
}

static void test_several_values_compared(void **state)
{
	static const char json[] = LIST_HEAD "[\"" H_A "\", \"" H_B "\"]}], "
		"\"boot_vms\": [{\"name\": \"hello\", \"sha384\": [\"" H_C "\", \"" H_A "\"]}]}";
	static struct tcg_log_parsed log;
	struct tcg_event vm;

	(void)state;
	assert_int_equal(reference_parse(json, strlen(json), &ref, NULL, 0), 0);
	log_from_ref(&log);                       /* the first value */
	assert_int_equal(reference_compare(&ref, "custos-dev", 10, &log, NULL, 0), 0);
	log.events[0].digest[0] = 0xbb;           /* the second: H_B but its last byte */
	log.events[0].digest[47] = 0x02;
	assert_int_equal(reference_compare(&ref, "custos-dev", 10, &log, NULL, 0), 0);
	log.events[0].digest[47] = 0x01;          /* neither */
	expect_diff(&log, "custos-dev",
		    "tpgvm image: reported sha384 bb00000000000000.. but reference says one of "
		    "aa00000000000000.., bb00000000000000..");
	put_boot_vm(&vm, TCG_PCR_BOOT_VM, "boot vm hello", H_A);
	log_with(&log, 0, &vm);
	assert_int_equal(reference_compare(&ref, "custos-dev", 10, &log, NULL, 0), 0);
	put_boot_vm(&vm, TCG_PCR_BOOT_VM, "boot vm hello", H_B);
	log_with(&log, 1, &vm);
	expect_diff(&log, "custos-dev",
		    "boot VM 'hello': reported sha384 bb00000000000000.. but the reference "
		    "allows it only as one of cc00000000000000.., aa00000000000000..");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_unknown_keys_and_escapes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_boot_vms_parsed),
		cmocka_unit_test(test_launch_parsed),
		cmocka_unit_test(test_boot_vm_name),
		cmocka_unit_test(test_compare_boot_vms),
		cmocka_unit_test(test_several_values_parsed),
		cmocka_unit_test(test_several_values_refused),
		cmocka_unit_test(test_several_values_compared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
