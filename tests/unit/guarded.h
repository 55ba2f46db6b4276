/*
 * Test helper: a buffer whose neighbours on both sides are PROT_NONE pages,
 * so a parser reading one byte before or after its input faults, with or
 * without a sanitizer. Used by the truncation tests of the envelope,
 * policy and TCB module parsers. Include after <cmocka.h>.
 */
#ifndef CUSTOS_TEST_GUARDED_H
#define CUSTOS_TEST_GUARDED_H

#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guarded {
	uint8_t *map;
	size_t map_len;
	uint8_t *buf;
};

static inline void guarded_init(struct guarded *g, size_t cap)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t data = (cap + page - 1) / page * page;

	g->map_len = data + 2 * page;
	g->map = mmap(NULL, g->map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map + page, data, PROT_READ | PROT_WRITE), 0);
	g->buf = g->map + page;
}

/* Copy len bytes against the front guard (at_end 0) or the back one. */
static inline uint8_t *guarded_fill(struct guarded *g, const uint8_t *src,
				    size_t len, int at_end)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	uint8_t *dst = at_end ? g->map + g->map_len - page - len : g->buf;

	memcpy(dst, src, len);
	return dst;
}

static inline void guarded_free(struct guarded *g)
{
	munmap(g->map, g->map_len);
}

#endif
