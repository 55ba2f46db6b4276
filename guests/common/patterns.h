/*
 * Value patterns shared by secretkeeper and regspy, so that regspy can
 * recognise a secretkeeper value wherever it turns up.
 *
 * A pattern value is  family << 40 | (vm_id & 0xffff) << 24 | slot:
 * the top 24 bits name the program (0x5ec7e7 "secret", 0x5b5b5b regspy), the
 * next 16 the VM it came from (so two instances of one guest differ), the
 * low 24 bits the place it was put (one slot per register lane and per
 * memory word), so a value that moved from one place to another is caught
 * too, not only a value that changed.
 */
#ifndef GUESTS_COMMON_PATTERNS_H
#define GUESTS_COMMON_PATTERNS_H

#include <stdbool.h>
#include <stdint.h>

#define SECRETKEEPER_FAMILY 0x5ec7e7ull
#define REGSPY_FAMILY       0x5b5b5bull

/* Slot numbers. */
#define SLOT_GPR(i)        (0x000100u + (i))                /* i < 16 */
#define SLOT_VEC(reg, q)   (0x000200u + (reg) * 4u + (q))   /* q: 64-bit lane 0-3 */
#define SLOT_MEM(word)     (0x100000u + (word))             /* word < 0xf00000 */

/* CR8 (the TPR) holds only 4 bits: in round n each guest puts one of its
 * own range there, the two ranges disjoint (and neither 0, the value every
 * VM starts with). */
#define SECRETKEEPER_CR8(n) (8u + (unsigned)((n) % 8))  /* 8..15 */
#define REGSPY_CR8(n)       (1u + (unsigned)((n) % 7))  /* 1..7 */

static inline bool cr8_is_secretkeepers(uint64_t v)
{
	return v >= 8 && v <= 15;
}

static inline uint64_t pattern_value(uint64_t family, uint32_t vm_id,
				     uint32_t slot)
{
	return family << 40 | (uint64_t)(vm_id & 0xffff) << 24 |
	       (slot & 0xffffff);
}

static inline bool pattern_is_family(uint64_t v, uint64_t family)
{
	return v >> 40 == family;
}

#endif
