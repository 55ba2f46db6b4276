/*
 * Hex test vectors for the unit tests (known answers, recorded TPM bytes):
 * unhex() and assert_hex(), which fail the current cmocka test on a
 * malformed vector rather than compare against garbage. Include after
 * <cmocka.h>, <stdio.h> and <string.h>.
 */
#ifndef CUSTOS_TESTS_UNIT_HEX_H
#define CUSTOS_TESTS_UNIT_HEX_H

/* len bytes from exactly 2 * len hex digits. */
static inline void unhex(const char *hex, uint8_t *out, size_t len)
{
	assert_int_equal(strlen(hex), 2 * len);
	for (size_t i = 0; i < len; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* buf's len bytes (at most 256) are the ones hex spells. */
static inline void assert_hex(const uint8_t *buf, size_t len, const char *hex)
{
	uint8_t want[256];

	assert_true(len <= sizeof(want));
	unhex(hex, want, len);
	assert_memory_equal(buf, want, len);
}

#endif
