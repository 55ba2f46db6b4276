/*
 * Unit tests for a sealed VM's NV record (tcb/vm_record.c): the layout in
 * tcb/vm_record.h byte by byte, the round trip, and every slot a TPM (or
 * an earlier, buggy boot) could hand back that must be refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "tcb/vm_record.h"
#include "tcb/byteorder.h"

static uint8_t slot[VM_RECORD_LEN];
static struct vm_record rec;
static char err[160];

static struct vm_record sample(void)
{
	struct vm_record r = { .in_use = true, .writes = 7, .vm_id = 3,
			       .version = 5, .mem_size = 16ull << 20 };

	strcpy(r.name, "web-1");
	memset(r.owner, 0xa1, sizeof(r.owner));
	memset(r.key, 0x5c, sizeof(r.key));
	memset(r.measurement, 0x3e, sizeof(r.measurement));
	return r;
}

static int parse(uint32_t id)
{
	memset(&rec, 0xee, sizeof(rec));
	return vm_record_parse(slot, id, &rec, err, sizeof(err));
}

static void test_layout(void **state)
{
	struct vm_record r = sample();

	(void)state;
	vm_record_encode(&r, slot);
	assert_memory_equal(slot, "CVMR", 4);
	assert_int_equal(load_le16(slot + 4), 1);
	assert_int_equal(load_le16(slot + 6), 1);
	assert_int_equal(load_le32(slot + 8), 7);
	assert_int_equal(load_le32(slot + 12), 3);
	assert_string_equal((const char *)slot + 16, "web-1");
	assert_int_equal(slot[48], 0xa1);
	assert_int_equal(slot[96], 0x5c);
	assert_int_equal(load_le64(slot + 128), 5);
	assert_int_equal(load_le64(slot + 136), 16ull << 20);
	assert_int_equal(slot[144], 0x3e);
	assert_int_equal(slot[191], 0x3e);
}

static void test_round_trip(void **state)
{
	struct vm_record r = sample();

	(void)state;
	vm_record_encode(&r, slot);
	assert_int_equal(parse(3), 0);
	assert_true(rec.in_use);
	assert_int_equal(rec.writes, 7);
	assert_int_equal(rec.vm_id, 3);
	assert_string_equal(rec.name, "web-1");
	assert_memory_equal(rec.owner, r.owner, sizeof(r.owner));
	assert_memory_equal(rec.key, r.key, sizeof(r.key));
	assert_int_equal(rec.version, 5);
	assert_int_equal(rec.mem_size, 16ull << 20);
	assert_memory_equal(rec.measurement, r.measurement, sizeof(r.measurement));
	assert_false(rec.stopped_itself);
	assert_int_equal(slot[6], 1);

	/* a VM that stopped itself stays one across a reboot */
	r.stopped_itself = true;
	vm_record_encode(&r, slot);
	assert_int_equal(slot[6], 3);
	assert_int_equal(parse(3), 0);
	assert_true(rec.stopped_itself);
}

static void test_free_and_never_written(void **state)
{
	struct vm_record r = sample();

	(void)state;
	memset(slot, 0, sizeof(slot));
	assert_int_equal(parse(9), 0);
	assert_false(rec.in_use);
	assert_int_equal(rec.writes, 0);
	assert_int_equal(rec.vm_id, 9);

	r.in_use = false;
	r.writes = 12;
	vm_record_encode(&r, slot);   /* a free slot keeps no name, no key */
	for (size_t i = 16; i < VM_RECORD_LEN; i++)
		assert_int_equal(slot[i], 0);
	assert_int_equal(parse(3), 0);
	assert_false(rec.in_use);
	assert_int_equal(rec.writes, 12);
}

/* Change one thing in a valid slot; the parser must refuse and say so,
 * and leave the caller's record alone. */
static void refused(void (*change)(void), uint32_t id, const char *why)
{
	struct vm_record r = sample();

	vm_record_encode(&r, slot);
	change();
	memset(&rec, 0xee, sizeof(rec));
	assert_int_equal(vm_record_parse(slot, id, &rec, err, sizeof(err)), -1);
	assert_non_null(strstr(err, why));
	assert_int_equal(rec.vm_id, 0xeeeeeeeeu);
	assert_null(strstr(err, "5c5c"));
}

static void bad_magic(void) { slot[0] = 'X'; }
static void bad_format(void) { store_le16(slot + 4, 2); }
static void bad_flags(void) { store_le16(slot + 6, 5); }
/* "stopped itself" without "in use" */
static void lone_flag(void) { store_le16(slot + 6, 2); }
static void bad_id(void) { store_le32(slot + 12, 4); }
static void bad_name(void) { slot[16] = 'W'; }
static void empty_name(void) { memset(slot + 16, 0, 32); }
static void name_trailer(void) { slot[40] = 'x'; }
static void bad_version(void) { store_le64(slot + 128, 0); }
static void bad_mem(void) { store_le64(slot + 136, 12345); }
static void zero_key(void) { memset(slot + 96, 0, 32); }
static void free_with_key(void) { store_le16(slot + 6, 0); }

static void test_refusals(void **state)
{
	(void)state;
	refused(bad_magic, 3, "magic");
	refused(bad_format, 3, "format 2");
	refused(bad_flags, 3, "flags");
	refused(lone_flag, 3, "flags");
	refused(bad_id, 3, "names VM 4");
	refused(bad_name, 3, "name");
	refused(empty_name, 3, "name");
	refused(name_trailer, 3, "name");
	refused(bad_version, 3, "version 0");
	refused(bad_mem, 3, "memory size");
	refused(zero_key, 3, "all zero");
	refused(free_with_key, 3, "free, but not empty");
	refused(bad_version, 0, "no VM has id 0");
	refused(bad_version, 17, "no VM has id 17");
}

/* Every single-bit change of a valid slot is either refused or parses to
 * a record that encodes back to exactly the changed bytes. */
static void test_bit_flips(void **state)
{
	struct vm_record r = sample();
	uint8_t again[VM_RECORD_LEN];

	(void)state;
	for (size_t bit = 0; bit < 8 * VM_RECORD_LEN; bit++) {
		vm_record_encode(&r, slot);
		slot[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (parse(3) != 0)
			continue;
		vm_record_encode(&rec, again);
		assert_memory_equal(again, slot, VM_RECORD_LEN);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_free_and_never_written),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_bit_flips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
