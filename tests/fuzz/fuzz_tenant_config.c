/*
 * The tenant CLI's configuration file reader (tools/tenant_config.c) over
 * arbitrary bytes: a config file is edited by hand and copied around.
 * Properties: no crash, no read beyond the input (ASan: the input is in an
 * exact-size heap buffer, not NUL-terminated), and an accepted file's
 * settings are one line each, without control characters, no longer than
 * a line (plus the folder of the file for a path), and the refusal is one
 * line.
 */
#include "tools/tenant_config.h"
#include "tests/fuzz/fuzz_util.h"

#include <stdlib.h>
#include <string.h>

static void check_value(const char *v)
{
	if (!v)
		return;
	const char *home = getenv("HOME");

	/* A path is made absolute with the file's folder or HOME. */
	require(strlen(v) <= TENANT_CONFIG_MAX_LINE + sizeof("/etc/custos/") +
		(home ? strlen(home) : 0));
	for (const char *c = v; *c; c++)
		require((unsigned char)*c >= 0x20 || *c == '\t');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const profiles[] = { "default", "lab" };
	char *text = malloc(size ? size : 1);

	require(text != NULL);
	memcpy(text, data, size);
	for (size_t i = 0; i < 2; i++) {
		struct tenant_config c;
		char err[256] = "";

		if (tenant_config_parse(text, size, "/etc/custos/config", profiles[i], &c, err,
					sizeof(err)) == 0) {
			check_value(c.relay);
			check_value(c.ca);
			check_value(c.cert);
			check_value(c.key);
			check_value(c.reference);
			require(c.allow_dev >= -1 && c.allow_dev <= 1);
		} else {
			require(err[0] != '\0' && !strchr(err, '\n'));
		}
		tenant_config_free(&c);
	}
	free(text);
	return 0;
}
