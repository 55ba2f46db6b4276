/*
 * Tests of the VM configuration parser (tcb/vm_config.c): the module command
 * line "vm.NAME [mem=SIZE] [ARGS...]" is untrusted text, so most cases here
 * are malformed ones that must be refused with a reason.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tcb/vm_config.h"
#include <custos/guest_abi.h>

#define KIB (1ull << 10)
#define MIB (1ull << 20)
#define GIB (1ull << 30)

static void expect_ok(const char *cmdline, const char *name, uint64_t mem,
		      const char *args)
{
	struct vm_config cfg;
	char err[128] = "untouched";

	memset(&cfg, 0x5a, sizeof(cfg));
	if (vm_config_parse(cmdline, &cfg, err, sizeof(err)) != 0)
		fail_msg("\"%s\" refused: %s", cmdline, err);
	assert_string_equal(cfg.name, name);
	/* NUL-padded: nothing of the garbage remains after the name. */
	for (size_t i = strlen(name); i < VM_NAME_MAX; i++)
		assert_int_equal(cfg.name[i], 0);
	if (cfg.mem_size != mem)
		fail_msg("\"%s\": mem_size %#llx, expected %#llx", cmdline,
			 (unsigned long long)cfg.mem_size,
			 (unsigned long long)mem);
	assert_string_equal(cfg.args, args);
}

static void expect_bad(const char *cmdline)
{
	struct vm_config cfg;
	char err[128] = "";

	if (vm_config_parse(cmdline, &cfg, err, sizeof(err)) != -1)
		fail_msg("\"%s\" accepted (name \"%.32s\", mem %#llx)",
			 cmdline ? cmdline : "(null)", cfg.name,
			 (unsigned long long)cfg.mem_size);
	/* A reason, NUL-terminated inside err. */
	assert_true(err[0] != '\0');
	assert_true(strnlen(err, sizeof(err)) < sizeof(err));
}

static void test_valid_defaults(void **state)
{
	(void)state;
	expect_ok("vm.hello", "hello", VM_DEFAULT_MEM, "");
	assert_int_equal(VM_DEFAULT_MEM, 4 * MIB);
	expect_ok("vm.a", "a", 4 * MIB, "");
	expect_ok("vm.web-1_b", "web-1_b", 4 * MIB, "");
	expect_ok("vm.0", "0", 4 * MIB, "");
	expect_ok("vm.hello ", "hello", 4 * MIB, "");
	expect_ok("vm.hello   \t ", "hello", 4 * MIB, "");
}

static void test_valid_mem(void **state)
{
	(void)state;
	expect_ok("vm.a mem=2M", "a", 2 * MIB, "mem=2M");
	expect_ok("vm.a mem=64M", "a", 64 * MIB, "mem=64M");
	expect_ok("vm.a mem=1G", "a", GIB, "mem=1G");
	expect_ok("vm.a mem=1024M", "a", GIB, "mem=1024M");
	expect_ok("vm.a mem=4096K", "a", 4 * MIB, "mem=4096K");
	expect_ok("vm.a mem=1048576K", "a", GIB, "mem=1048576K");
	expect_ok("vm.a mem=2097152", "a", 2 * MIB, "mem=2097152");
	expect_ok("vm.a mem=1073741824", "a", GIB, "mem=1073741824");
	expect_ok("vm.a mem=0002M", "a", 2 * MIB, "mem=0002M");
	expect_ok("vm.a\tmem=6M", "a", 6 * MIB, "mem=6M");
}

static void test_args_verbatim(void **state)
{
	(void)state;
	expect_ok("vm.srv mem=8M foo=1  bar\tbaz ", "srv", 8 * MIB,
		  "mem=8M foo=1  bar\tbaz ");
	expect_ok("vm.srv   foo mem=16M", "srv", 16 * MIB, "foo mem=16M");
	expect_ok("vm.srv x=\"q w\" y", "srv", 4 * MIB, "x=\"q w\" y");
	/* The last mem= wins, as for any command-line key. */
	expect_ok("vm.srv mem=2M mem=64M", "srv", 64 * MIB, "mem=2M mem=64M");
	/* Other keys that merely contain "mem" are arguments, not sizes. */
	expect_ok("vm.srv xmem=3M memory=5 mem.x=1", "srv", 4 * MIB,
		  "xmem=3M memory=5 mem.x=1");
}

static void test_args_length_limit(void **state)
{
	char line[8 + VM_ARGS_MAX + 8];
	char args[VM_ARGS_MAX + 1];

	(void)state;
	/* VM_ARGS_MAX - 1 characters fit with their NUL... */
	memset(args, 'x', VM_ARGS_MAX - 1);
	args[VM_ARGS_MAX - 1] = '\0';
	snprintf(line, sizeof(line), "vm.a %s", args);
	expect_ok(line, "a", 4 * MIB, args);
	/* ...leading blanks are not part of the arguments... */
	snprintf(line, sizeof(line), "vm.a    %s", args);
	expect_ok(line, "a", 4 * MIB, args);
	/* ...VM_ARGS_MAX do not. */
	memset(args, 'x', VM_ARGS_MAX);
	args[VM_ARGS_MAX] = '\0';
	snprintf(line, sizeof(line), "vm.a %s", args);
	expect_bad(line);
	memcpy(args, "mem=2M ", 7);
	snprintf(line, sizeof(line), "vm.a %s", args);
	expect_bad(line);
}

static void test_name_length(void **state)
{
	char line[8 + VM_NAME_MAX + 8];
	char name[VM_NAME_MAX + 1];

	(void)state;
	memset(name, 'n', VM_NAME_MAX - 1);
	name[VM_NAME_MAX - 1] = '\0';
	snprintf(line, sizeof(line), "vm.%s", name);
	expect_ok(line, name, 4 * MIB, "");
	snprintf(line, sizeof(line), "vm.%s mem=2M", name);
	expect_ok(line, name, 2 * MIB, "mem=2M");

	memset(name, 'n', VM_NAME_MAX);
	name[VM_NAME_MAX] = '\0';
	snprintf(line, sizeof(line), "vm.%s", name);
	expect_bad(line);
	snprintf(line, sizeof(line), "vm.%s mem=2M", name);
	expect_bad(line);
}

static void test_bad_prefix_and_name(void **state)
{
	(void)state;
	expect_bad(NULL);
	expect_bad("");
	expect_bad("hello");
	expect_bad("vm");
	expect_bad("vm.");
	expect_bad("vm. ");
	expect_bad("vm. mem=2M");
	expect_bad("vm.\tx");
	expect_bad("VM.hello");
	expect_bad("vm-hello");
	expect_bad(" vm.hello");
	expect_bad("xvm.hello");
	expect_bad("vm.Hello");
	expect_bad("vm.helLo");
	expect_bad("vm.a/b");
	expect_bad("vm./");
	expect_bad("vm.../etc");
	expect_bad("vm.a.b");
	expect_bad("vm.a=b");
	expect_bad("vm.a\nmem=2M");
	expect_bad("vm.a\rb");
	expect_bad("vm.caf\xc3\xa9");
	expect_bad("vm.a\x7f");
	expect_bad("vm.a\x01");
}

static void test_bad_mem_syntax(void **state)
{
	(void)state;
	expect_bad("vm.a mem=");
	expect_bad("vm.a mem");
	expect_bad("vm.a mem=M");
	expect_bad("vm.a mem=K");
	expect_bad("vm.a mem=12X");
	expect_bad("vm.a mem=1MM");
	expect_bad("vm.a mem=2MB");
	expect_bad("vm.a mem=2m");
	expect_bad("vm.a mem=2g");
	expect_bad("vm.a mem=-2M");
	expect_bad("vm.a mem=+2M");
	expect_bad("vm.a mem=0x200000");
	expect_bad("vm.a mem=2.0M");
	expect_bad("vm.a mem= 2M");
	expect_bad("vm.a mem=2M=");
	expect_bad("vm.a mem=64M mem=x");
}

static void test_bad_mem_overflow(void **state)
{
	(void)state;
	expect_bad("vm.a mem=99999999999999999999G");
	expect_bad("vm.a mem=99999999999999999999");
	expect_bad("vm.a mem=18446744073709551616");  /* 2^64 */
	expect_bad("vm.a mem=18446744073709551615");  /* 2^64 - 1 */
	expect_bad("vm.a mem=17179869184G");          /* 2^64 after the shift */
	expect_bad("vm.a mem=17592186044416M");       /* 2^64 after the shift */
	expect_bad("vm.a mem=18014398509481984K");    /* 2^64 after the shift */
	expect_bad("vm.a mem=17179869185G");          /* wraps to 1G if unchecked */
	expect_bad("vm.a mem=16777217G");             /* 2^24+1 G: 1G mod 2^54 */
}

/*
 * A mem= value too long for the parser's value buffer must be refused like
 * any other malformed size, not silently replaced by the default.
 */
static void test_bad_mem_overlong_value(void **state)
{
	struct vm_config cfg;
	int rc;

	(void)state;
	expect_bad("vm.a mem=999999999999999999999999999999G");
	expect_bad("vm.a mem=2Mxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	expect_bad("vm.a mem=64M mem=2Mxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	/* Well-formed but long (leading zeros): refusing it is fine, using
	 * any size other than the one written is not. */
	rc = vm_config_parse("vm.a mem=00000000000000000000000000000002M",
			     &cfg, NULL, 0);
	assert_true(rc == -1 || (rc == 0 && cfg.mem_size == 2 * MIB));
}

static void test_bad_mem_range(void **state)
{
	(void)state;
	expect_bad("vm.a mem=0");
	expect_bad("vm.a mem=0M");
	expect_bad("vm.a mem=0G");
	expect_bad("vm.a mem=1M");
	expect_bad("vm.a mem=1K");
	expect_bad("vm.a mem=1");
	expect_bad("vm.a mem=3M");
	expect_bad("vm.a mem=63M");
	expect_bad("vm.a mem=2097151");
	expect_bad("vm.a mem=2097153");
	expect_bad("vm.a mem=2049K");
	expect_bad("vm.a mem=2G");
	expect_bad("vm.a mem=1026M");
	expect_bad("vm.a mem=1050624K");      /* 1G + 2M */
	expect_bad("vm.a mem=1075838976");    /* 1G + 2M in bytes */
	expect_bad("vm.a mem=4G");            /* 1G mod 2^32 would be 0 */
	expect_bad("vm.a mem=4294967296");
}

static void test_err_buffer(void **state)
{
	struct vm_config cfg;
	char err[4];

	(void)state;
	/* No error buffer at all. */
	assert_int_equal(vm_config_parse("vm.A", &cfg, NULL, 0), -1);
	assert_int_equal(vm_config_parse("vm.a mem=3M", &cfg, NULL, 0), -1);
	assert_int_equal(vm_config_parse("vm.a", &cfg, NULL, 0), 0);
	/* A tiny one is cut and NUL-terminated. */
	memset(err, 'Z', sizeof(err));
	assert_int_equal(vm_config_parse("bad", &cfg, err, sizeof(err)), -1);
	assert_int_equal(err[sizeof(err) - 1], '\0');
	assert_int_equal(strlen(err), sizeof(err) - 1);
	/* err_len 0 never writes. */
	memset(err, 'Z', sizeof(err));
	assert_int_equal(vm_config_parse("bad", &cfg, err, 0), -1);
	assert_int_equal(err[0], 'Z');
}

static void test_is_vm_module(void **state)
{
	(void)state;
	assert_true(vm_config_is_vm_module("vm.a"));
	assert_true(vm_config_is_vm_module("vm.hello mem=2M"));
	assert_true(vm_config_is_vm_module("vm.."));
	assert_true(vm_config_is_vm_module("vm.A")); /* parse refuses it later */
	assert_false(vm_config_is_vm_module("vm."));
	assert_false(vm_config_is_vm_module("vm"));
	assert_false(vm_config_is_vm_module("v"));
	assert_false(vm_config_is_vm_module(""));
	assert_false(vm_config_is_vm_module("VM.a"));
	assert_false(vm_config_is_vm_module("vm-a"));
	assert_false(vm_config_is_vm_module("xvm.a"));
	assert_false(vm_config_is_vm_module(" vm.a"));
	assert_false(vm_config_is_vm_module("initrd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_defaults),
		cmocka_unit_test(test_valid_mem),
		cmocka_unit_test(test_args_verbatim),
		cmocka_unit_test(test_args_length_limit),
		cmocka_unit_test(test_name_length),
		cmocka_unit_test(test_bad_prefix_and_name),
		cmocka_unit_test(test_bad_mem_syntax),
		cmocka_unit_test(test_bad_mem_overflow),
		cmocka_unit_test(test_bad_mem_overlong_value),
		cmocka_unit_test(test_bad_mem_range),
		cmocka_unit_test(test_err_buffer),
		cmocka_unit_test(test_is_vm_module),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
