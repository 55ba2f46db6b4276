/*
 * A small heap for the freestanding world (mbedTLS's calloc/free in the
 * hypervisor; see docs/crypto.md). Implemented in lib/heap.c, which also
 * builds on the host for the unit tests.
 *
 * One region given to heap_init(); an address-ordered first-fit free list;
 * a freed block is merged with free neighbours at once. Every payload is
 * 16-byte aligned. Freed memory is zeroed before it goes back on the list
 * (keys and plaintext must not linger), and heap_init() zeroes the region.
 *
 * heap_free() checks that the pointer is the start of a block that is in
 * use (a bitmap of block starts, 1/128 of the region, says where blocks
 * are): a double free or a pointer that heap_alloc() did not return is
 * refused without touching the heap, and counted in heap_errors(). All
 * operations but heap_check() are constant time apart from the walk along
 * the free list. Not thread-safe: one CPU at a time.
 */
#ifndef CUSTOS_LIB_HEAP_H
#define CUSTOS_LIB_HEAP_H

#include <stddef.h>

/* Use [base, base + size) as the heap, forgetting any previous one. The
 * region is zeroed. Too small a region gives a heap that cannot allocate.
 * heap_free_bytes() right after tells how much is usable. */
void heap_init(void *base, size_t size);
/* NULL when no free block is large enough. heap_alloc(0) returns a unique
 * minimal block. */
void *heap_alloc(size_t size);
/* Zeroed; NULL also when n * size overflows. */
void *heap_calloc(size_t n, size_t size);
/* heap_free(NULL) does nothing. */
void heap_free(void *p);

/* Bytes in free blocks, not counting block headers: with a single free
 * block, exactly the largest request heap_alloc() can satisfy. */
size_t heap_free_bytes(void);
/* The largest request heap_alloc() could satisfy now. */
size_t heap_largest_free(void);
/* The lowest heap_free_bytes() since heap_init(): sizes the heap. */
size_t heap_min_free_bytes(void);
/* Refused heap_free() calls (double frees, foreign pointers) since
 * heap_init(). */
size_t heap_errors(void);

/*
 * Walk the whole heap and check its invariants: blocks tile the region
 * exactly; every header is intact; the bitmap marks exactly the block
 * starts; no two free blocks are adjacent (they
 * would have been merged); the free list holds exactly the free blocks, in
 * address order; heap_free_bytes() is their total; free memory is zero.
 * 0 if all hold, else one of the negative values below (the first broken
 * invariant found).
 */
enum heap_check_err {
	HEAP_CHECK_OK = 0,
	HEAP_CHECK_BAD_SIZE = -1,      /* a block size is impossible */
	HEAP_CHECK_BAD_TAG = -2,       /* a block header is corrupt */
	HEAP_CHECK_NOT_MERGED = -3,    /* two adjacent free blocks */
	HEAP_CHECK_BAD_END = -4,       /* blocks do not end at the heap's end */
	HEAP_CHECK_LIST = -5,          /* free list is not the free blocks in order */
	HEAP_CHECK_ACCOUNTING = -6,    /* heap_free_bytes() is wrong */
	HEAP_CHECK_NOT_ZERO = -7,      /* free memory holds old data */
	HEAP_CHECK_BITMAP = -8,        /* the block-start bitmap is wrong */
};
int heap_check(void);

#endif
