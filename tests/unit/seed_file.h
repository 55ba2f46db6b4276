/*
 * Test helper for `test_* --write DIR`: one fuzzer seed file, DIR/NAME
 * holding a leading selector byte (the fuzz target's mode) and then the
 * data. Used by the seal and vCPU-context tests.
 */
#ifndef CUSTOS_TEST_SEED_FILE_H
#define CUSTOS_TEST_SEED_FILE_H

#include <stdint.h>
#include <stdio.h>

static inline int write_seed(const char *dir, const char *name, uint8_t mode,
			     const uint8_t *data, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fputc(mode, f) == EOF || fwrite(data, 1, len, f) != len ||
	    fclose(f) != 0) {
		perror(path);
		return 1;
	}
	return 0;
}

#endif
