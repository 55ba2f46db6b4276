/*
 * The heap (see include/heap.h for the contract).
 *
 * Layout: the region is tiled by blocks. Each block starts with a 16-byte
 * header (its whole size, and a tag saying used or free, mixed with the
 * block's own address so that a header copied or left over elsewhere does
 * not look valid there), followed by its payload. A free block's payload
 * starts with the pointer to the next free block (in address order); the
 * rest of it is zero. Sizes are multiples of 16, the smallest block is 32.
 *
 * A bitmap at the start of the region has one bit per 16-byte granule,
 * set where a block starts. heap_free() takes a pointer only if a block
 * starts right before it (the bit) and that block is in use (the tag): a
 * foreign pointer or a double free is recognised for certain, not by luck,
 * and in constant time. The bitmap costs 1/128 of the region. Builds for
 * the host too: no libc calls.
 */
#include <stddef.h>
#include <stdint.h>

#include "include/heap.h"

#define HEAP_ALIGN 16u
#define HEAP_HDR 16u
#define HEAP_MIN_BLOCK 32u
/* Tags: arbitrary constants, xor'd with the block's address. */
#define HEAP_TAG_USED ((uintptr_t)0x75736564b10c4b1dull)
#define HEAP_TAG_FREE ((uintptr_t)0x66726565b10c4b1eull)

struct heap_block {
	size_t size;    /* the whole block, header included */
	uintptr_t tag;  /* HEAP_TAG_USED or HEAP_TAG_FREE ^ the block's address */
	struct heap_block *next; /* free blocks only: the next free block */
};

_Static_assert(offsetof(struct heap_block, next) == HEAP_HDR,
	       "the header is 16 bytes; next is the first payload word");
_Static_assert(sizeof(struct heap_block) <= HEAP_MIN_BLOCK,
	       "a free block holds its list link");

static struct {
	uint8_t *starts;          /* bitmap: bit i <=> a block starts at start + 16 * i */
	uintptr_t start, end;     /* the tiled region, both 16-byte aligned */
	struct heap_block *free;  /* free list, address order */
	size_t free_bytes;        /* payload bytes of the free blocks */
	size_t min_free_bytes;
	size_t errors;
} heap;

static uintptr_t tag_of(const struct heap_block *b, uintptr_t kind)
{
	return kind ^ (uintptr_t)b;
}

static struct heap_block *block_at(uintptr_t a)
{
	return (struct heap_block *)a;
}

/* Zero [a, a + len): both 8-byte aligned. Volatile so the stores happen
 * even where the memory is not read again. */
static void heap_zero(uintptr_t a, size_t len)
{
	volatile uint64_t *w = (volatile uint64_t *)a;

	for (size_t i = 0; i < len / 8; i++)
		w[i] = 0;
}

static size_t granule(uintptr_t a)
{
	return (a - heap.start) / HEAP_ALIGN;
}

static void mark_start(uintptr_t a, int on)
{
	size_t g = granule(a);

	if (on)
		heap.starts[g / 8] |= (uint8_t)(1u << (g % 8));
	else
		heap.starts[g / 8] &= (uint8_t)~(1u << (g % 8));
}

static int is_start(uintptr_t a)
{
	size_t g = granule(a);

	return (heap.starts[g / 8] >> (g % 8)) & 1;
}

static void note_free_bytes(void)
{
	if (heap.free_bytes < heap.min_free_bytes)
		heap.min_free_bytes = heap.free_bytes;
}

void heap_init(void *base, size_t size)
{
	uintptr_t b = (uintptr_t)base;
	uintptr_t start = (b + HEAP_ALIGN - 1) & ~(uintptr_t)(HEAP_ALIGN - 1);
	uintptr_t end;
	size_t map;

	heap.starts = NULL;
	heap.start = heap.end = 0;
	heap.free = NULL;
	heap.free_bytes = heap.min_free_bytes = 0;
	heap.errors = 0;
	if (base == NULL || start < b || size > UINTPTR_MAX - b)
		return;
	end = (b + size) & ~(uintptr_t)(HEAP_ALIGN - 1);
	if (end < start)
		return;
	/* The bitmap first: one bit per granule of what follows it. */
	map = ((end - start) / (8 * HEAP_ALIGN) + HEAP_ALIGN) & ~(size_t)(HEAP_ALIGN - 1);
	if (end - start < map + HEAP_MIN_BLOCK)
		return;
	heap_zero(start, end - start);
	heap.starts = (uint8_t *)start;
	heap.start = start + map;
	heap.end = end;
	mark_start(heap.start, 1);
	heap.free = block_at(heap.start);
	heap.free->size = end - heap.start;
	heap.free->tag = tag_of(heap.free, HEAP_TAG_FREE);
	heap.free->next = NULL;
	heap.free_bytes = heap.min_free_bytes = end - heap.start - HEAP_HDR;
}

void *heap_alloc(size_t size)
{
	struct heap_block **link, *b;
	size_t need;

	if (heap.start == 0 || size > heap.end - heap.start)
		return NULL;
	if (size < HEAP_MIN_BLOCK - HEAP_HDR)
		size = HEAP_MIN_BLOCK - HEAP_HDR;
	need = HEAP_HDR + ((size + HEAP_ALIGN - 1) & ~(size_t)(HEAP_ALIGN - 1));

	for (link = &heap.free; (b = *link) != NULL; link = &b->next) {
		if (b->size < need)
			continue;
		if (b->size - need >= HEAP_MIN_BLOCK) {
			/* Split: the tail stays free, in b's place in the list. */
			struct heap_block *rest = block_at((uintptr_t)b + need);

			rest->size = b->size - need;
			rest->tag = tag_of(rest, HEAP_TAG_FREE);
			rest->next = b->next;
			*link = rest;
			mark_start((uintptr_t)rest, 1);
			b->size = need;
			heap.free_bytes -= need;
		} else {
			*link = b->next;
			heap.free_bytes -= b->size - HEAP_HDR;
		}
		note_free_bytes();
		b->tag = tag_of(b, HEAP_TAG_USED);
		b->next = NULL; /* the payload is now all zero */
		return (void *)((uintptr_t)b + HEAP_HDR);
	}
	return NULL;
}

void *heap_calloc(size_t n, size_t size)
{
	uint8_t *p;

	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	p = heap_alloc(n * size);
	if (p != NULL) {
		/* Free memory is kept zero, but do not bet a secret on it. */
		struct heap_block *b = block_at((uintptr_t)p - HEAP_HDR);

		heap_zero((uintptr_t)p, b->size - HEAP_HDR);
	}
	return p;
}

/* The in-use block whose payload is p, or NULL if there is none. */
static struct heap_block *find_used(void *p)
{
	uintptr_t a = (uintptr_t)p - HEAP_HDR;

	if ((uintptr_t)p < heap.start + HEAP_HDR || (uintptr_t)p >= heap.end ||
	    ((uintptr_t)p & (HEAP_ALIGN - 1)) != 0)
		return NULL;
	if (!is_start(a) || block_at(a)->tag != tag_of(block_at(a), HEAP_TAG_USED))
		return NULL;
	return block_at(a);
}

/* b absorbs the free block n that follows it directly. */
static void merge_next(struct heap_block *b, struct heap_block *n)
{
	b->size += n->size;
	b->next = n->next;
	mark_start((uintptr_t)n, 0);
	heap_zero((uintptr_t)n, HEAP_MIN_BLOCK); /* header, link, zeros */
	heap.free_bytes += HEAP_HDR;
}

void heap_free(void *p)
{
	struct heap_block *b, *prev = NULL, *next = heap.free;

	if (p == NULL)
		return;
	b = find_used(p);
	if (b == NULL) {
		heap.errors++;
		return;
	}
	heap_zero((uintptr_t)p, b->size - HEAP_HDR);
	b->tag = tag_of(b, HEAP_TAG_FREE);
	heap.free_bytes += b->size - HEAP_HDR;

	while (next != NULL && next < b) {
		prev = next;
		next = next->next;
	}
	b->next = next;
	if (prev != NULL)
		prev->next = b;
	else
		heap.free = b;
	if (next != NULL && (uintptr_t)b + b->size == (uintptr_t)next)
		merge_next(b, next);
	if (prev != NULL && (uintptr_t)prev + prev->size == (uintptr_t)b)
		merge_next(prev, b);
}

size_t heap_free_bytes(void)
{
	return heap.free_bytes;
}

size_t heap_largest_free(void)
{
	size_t best = 0;

	for (const struct heap_block *b = heap.free; b != NULL; b = b->next)
		if (b->size - HEAP_HDR > best)
			best = b->size - HEAP_HDR;
	return best;
}

size_t heap_min_free_bytes(void)
{
	return heap.min_free_bytes;
}

size_t heap_errors(void)
{
	return heap.errors;
}

/* Is a free block's payload zero apart from its list link? */
static int free_payload_zero(const struct heap_block *b)
{
	const volatile uint64_t *w = (const volatile uint64_t *)((uintptr_t)b + HEAP_HDR);

	for (size_t i = 1; i < (b->size - HEAP_HDR) / 8; i++)
		if (w[i] != 0)
			return 0;
	return 1;
}

int heap_check(void)
{
	const struct heap_block *list = heap.free;
	size_t free_sum = 0;
	int prev_free = 0;
	uintptr_t a = heap.start;

	if (heap.start == 0)
		return heap.free == NULL && heap.free_bytes == 0 ? HEAP_CHECK_OK
								 : HEAP_CHECK_LIST;
	while (a < heap.end) {
		const struct heap_block *b = block_at(a);
		int is_free;

		if (b->size < HEAP_MIN_BLOCK || (b->size & (HEAP_ALIGN - 1)) != 0 ||
		    b->size > heap.end - a)
			return HEAP_CHECK_BAD_SIZE;
		/* The bitmap marks this start and nothing inside the block. */
		if (!is_start(a))
			return HEAP_CHECK_BITMAP;
		for (uintptr_t g = a + HEAP_ALIGN; g < a + b->size; g += HEAP_ALIGN)
			if (is_start(g))
				return HEAP_CHECK_BITMAP;
		if (b->tag == tag_of(b, HEAP_TAG_FREE))
			is_free = 1;
		else if (b->tag == tag_of(b, HEAP_TAG_USED))
			is_free = 0;
		else
			return HEAP_CHECK_BAD_TAG;
		if (is_free) {
			if (prev_free)
				return HEAP_CHECK_NOT_MERGED;
			/* The list must hold exactly the free blocks, in order. */
			if (list != b)
				return HEAP_CHECK_LIST;
			list = list->next;
			if (!free_payload_zero(b))
				return HEAP_CHECK_NOT_ZERO;
			free_sum += b->size - HEAP_HDR;
		}
		prev_free = is_free;
		a += b->size;
	}
	if (a != heap.end)
		return HEAP_CHECK_BAD_END;
	if (list != NULL)
		return HEAP_CHECK_LIST;
	if (free_sum != heap.free_bytes || heap.min_free_bytes > heap.free_bytes)
		return HEAP_CHECK_ACCOUNTING;
	return HEAP_CHECK_OK;
}
