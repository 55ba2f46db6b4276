/*
 * Tests of a VM's console ring (tcb/console_ring.c): order, unread counts,
 * wrap-around at exactly CONSOLE_RING_SIZE, overwrite-oldest with the lost
 * counter, partial reads, and scrubbing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "tcb/console_ring.h"

/* The byte put as number i (a pattern that differs across a ring length). */
static char pattern(uint64_t i)
{
	return (char)('a' + (i * 7 + i / CONSOLE_RING_SIZE) % 26);
}

static struct console_ring *new_ring(void)
{
	struct console_ring *r = malloc(sizeof(*r));

	assert_non_null(r);
	memset(r, 0x5a, sizeof(*r)); /* garbage: init must clear it all */
	console_ring_init(r);
	return r;
}

static void test_init_is_empty(void **state)
{
	struct console_ring *r = new_ring();
	char out[8] = { 0 };

	(void)state;
	assert_int_equal(console_ring_unread(r), 0);
	assert_int_equal(r->written, 0);
	assert_int_equal(r->read, 0);
	assert_int_equal(r->lost, 0);
	for (size_t i = 0; i < CONSOLE_RING_SIZE; i++)
		assert_int_equal(r->buf[i], 0);
	assert_int_equal(console_ring_read(r, out, sizeof(out)), 0);
	free(r);
}

static void test_put_read_order(void **state)
{
	struct console_ring *r = new_ring();
	char out[16];

	(void)state;
	console_ring_put(r, 'h');
	console_ring_put(r, 'e');
	console_ring_put(r, 'y');
	assert_int_equal(console_ring_unread(r), 3);
	memset(out, 0, sizeof(out));
	assert_int_equal(console_ring_read(r, out, sizeof(out)), 3);
	assert_memory_equal(out, "hey", 3);
	assert_int_equal(out[3], 0); /* nothing beyond the count was written */
	assert_int_equal(console_ring_unread(r), 0);
	assert_int_equal(console_ring_read(r, out, sizeof(out)), 0);

	console_ring_put(r, '!');
	assert_int_equal(console_ring_unread(r), 1);
	assert_int_equal(console_ring_read(r, out, sizeof(out)), 1);
	assert_int_equal(out[0], '!');
	assert_int_equal(r->lost, 0);
	free(r);
}

static void test_read_fewer_than_unread(void **state)
{
	struct console_ring *r = new_ring();
	char out[4];

	(void)state;
	for (int i = 0; i < 10; i++)
		console_ring_put(r, (char)('0' + i));
	assert_int_equal(console_ring_read(r, out, 0), 0);
	assert_int_equal(console_ring_unread(r), 10);

	memset(out, 'X', sizeof(out));
	assert_int_equal(console_ring_read(r, out, 3), 3);
	assert_memory_equal(out, "012X", 4); /* out[3] untouched */
	assert_int_equal(console_ring_unread(r), 7);
	assert_int_equal(console_ring_read(r, out, 4), 4);
	assert_memory_equal(out, "3456", 4);
	assert_int_equal(console_ring_read(r, out, 4), 3);
	assert_memory_equal(out, "789", 3);
	assert_int_equal(console_ring_unread(r), 0);
	assert_int_equal(r->lost, 0);
	free(r);
}

static void test_full_ring_exactly(void **state)
{
	struct console_ring *r = new_ring();
	char *out = malloc(CONSOLE_RING_SIZE + 1);

	(void)state;
	assert_non_null(out);
	for (uint64_t i = 0; i < CONSOLE_RING_SIZE; i++)
		console_ring_put(r, pattern(i));
	/* Exactly full: nothing lost yet. */
	assert_int_equal(console_ring_unread(r), CONSOLE_RING_SIZE);
	assert_int_equal(r->lost, 0);
	assert_int_equal(console_ring_read(r, out, CONSOLE_RING_SIZE + 1),
			 CONSOLE_RING_SIZE);
	for (uint64_t i = 0; i < CONSOLE_RING_SIZE; i++)
		assert_int_equal(out[i], pattern(i));
	assert_int_equal(console_ring_unread(r), 0);
	free(out);
	free(r);
}

static void test_wrap_after_partial_read(void **state)
{
	struct console_ring *r = new_ring();
	char *out = malloc(CONSOLE_RING_SIZE);
	uint64_t next = 0;

	(void)state;
	assert_non_null(out);
	/* Read position in the middle, then fill to exactly full across the
	 * end of the buffer: order is kept and nothing is lost. */
	for (; next < 100; next++)
		console_ring_put(r, pattern(next));
	assert_int_equal(console_ring_read(r, out, 100), 100);
	for (; next < 100 + CONSOLE_RING_SIZE; next++)
		console_ring_put(r, pattern(next));
	assert_int_equal(console_ring_unread(r), CONSOLE_RING_SIZE);
	assert_int_equal(r->lost, 0);
	assert_int_equal(console_ring_read(r, out, CONSOLE_RING_SIZE),
			 CONSOLE_RING_SIZE);
	for (uint64_t i = 0; i < CONSOLE_RING_SIZE; i++)
		assert_int_equal(out[i], pattern(100 + i));
	free(out);
	free(r);
}

static void test_overflow_drops_oldest(void **state)
{
	struct console_ring *r = new_ring();
	char *out = malloc(CONSOLE_RING_SIZE);
	const uint64_t extra = 5;

	(void)state;
	assert_non_null(out);
	for (uint64_t i = 0; i < CONSOLE_RING_SIZE + extra; i++)
		console_ring_put(r, pattern(i));
	assert_int_equal(r->lost, extra);
	assert_int_equal(r->written, CONSOLE_RING_SIZE + extra);
	assert_int_equal(console_ring_unread(r), CONSOLE_RING_SIZE);
	assert_int_equal(console_ring_read(r, out, CONSOLE_RING_SIZE),
			 CONSOLE_RING_SIZE);
	/* The first 'extra' bytes are gone; the rest come oldest first. */
	for (uint64_t i = 0; i < CONSOLE_RING_SIZE; i++)
		assert_int_equal(out[i], pattern(extra + i));
	assert_int_equal(console_ring_unread(r), 0);
	assert_int_equal(r->lost, extra); /* reading does not count as lost */
	free(out);
	free(r);
}

static void test_overflow_many_laps(void **state)
{
	struct console_ring *r = new_ring();
	char *out = malloc(CONSOLE_RING_SIZE);
	const uint64_t total = 3 * CONSOLE_RING_SIZE + 17;

	(void)state;
	assert_non_null(out);
	for (uint64_t i = 0; i < total; i++)
		console_ring_put(r, pattern(i));
	assert_int_equal(r->lost, total - CONSOLE_RING_SIZE);
	assert_int_equal(console_ring_unread(r), CONSOLE_RING_SIZE);
	/* Partial read, then more puts overflow again from the new position. */
	assert_int_equal(console_ring_read(r, out, 10), 10);
	for (uint64_t i = 0; i < 10; i++)
		assert_int_equal(out[i], pattern(total - CONSOLE_RING_SIZE + i));
	for (uint64_t i = total; i < total + 12; i++)
		console_ring_put(r, pattern(i));
	/* 10 slots were free; 2 more bytes pushed out. */
	assert_int_equal(r->lost, total - CONSOLE_RING_SIZE + 2);
	assert_int_equal(console_ring_unread(r), CONSOLE_RING_SIZE);
	assert_int_equal(console_ring_read(r, out, CONSOLE_RING_SIZE),
			 CONSOLE_RING_SIZE);
	for (uint64_t i = 0; i < CONSOLE_RING_SIZE; i++)
		assert_int_equal(out[i],
				 pattern(total + 12 - CONSOLE_RING_SIZE + i));
	free(out);
	free(r);
}

static void test_scrub_zeroes(void **state)
{
	struct console_ring *r = new_ring();
	char out[4];

	(void)state;
	for (uint64_t i = 0; i < CONSOLE_RING_SIZE + 3; i++)
		console_ring_put(r, (char)0xa5);
	assert_int_not_equal(r->lost, 0);
	console_ring_scrub(r);
	assert_int_equal(r->written, 0);
	assert_int_equal(r->read, 0);
	assert_int_equal(r->lost, 0);
	assert_int_equal(console_ring_unread(r), 0);
	for (size_t i = 0; i < CONSOLE_RING_SIZE; i++)
		assert_int_equal(r->buf[i], 0);
	assert_int_equal(console_ring_read(r, out, sizeof(out)), 0);
	/* Usable again afterwards. */
	console_ring_put(r, 'z');
	assert_int_equal(console_ring_read(r, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'z');
	free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_is_empty),
		cmocka_unit_test(test_put_read_order),
		cmocka_unit_test(test_read_fewer_than_unread),
		cmocka_unit_test(test_full_ring_exactly),
		cmocka_unit_test(test_wrap_after_partial_read),
		cmocka_unit_test(test_overflow_drops_oldest),
		cmocka_unit_test(test_overflow_many_laps),
		cmocka_unit_test(test_scrub_zeroes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
