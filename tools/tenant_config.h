/*
 * The tenant CLI's connection settings from a file (docs/tenant-cli.md,
 * "Configuration file and profiles"): ~/.config/custos/config (or
 * $XDG_CONFIG_HOME/custos/config, or the file CUSTOS_CONFIG names), in
 * profiles:
 *
 *     # lines starting with # are comments
 *     [default]
 *     relay = 127.0.0.1:4433
 *     ca = /etc/custos/root.pem
 *     cert = alice.pem          (relative: to the file's folder)
 *     key = alice.key
 *     reference = reference.json
 *     allow-dev = no
 *
 * A command line option wins over its CUSTOS_* variable, which wins over
 * the selected profile. Host-only code; its unit test compiles it in.
 */
#ifndef CUSTOS_TOOLS_TENANT_CONFIG_H
#define CUSTOS_TOOLS_TENANT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define TENANT_CONFIG_MAX_SIZE   65536u
#define TENANT_CONFIG_MAX_LINE   1024u
#define TENANT_CONFIG_MAX_NAME   32u   /* a profile name: 1..32 of a-z 0-9 _ - */
#define TENANT_CONFIG_DEFAULT    "default"

/* One profile's settings; a NULL string (or allow_dev -1) is not set.
 * Paths are made absolute against the file's folder. */
struct tenant_config {
	char *relay, *ca, *cert, *key, *reference;
	int allow_dev;     /* -1 not set, 0 no, 1 yes */
	bool found;        /* the profile is in the file */
};

/*
 * Parse a whole config file's text (len bytes; path is its name, for
 * messages and as the base of relative paths) and take the settings of
 * profile. Every line is checked, not only the selected profile's: a
 * malformed file is refused whichever profile is asked for. 0, or -1 with
 * one line in err ("FILE line N: why"; never a value). Free with
 * tenant_config_free() either way.
 */
int tenant_config_parse(const char *text, size_t len, const char *path,
			const char *profile, struct tenant_config *out,
			char *err, size_t err_len);

/*
 * The file and profile a run uses: path NULL means CUSTOS_CONFIG or the
 * default path; profile NULL means CUSTOS_PROFILE or "default". A missing
 * file is no settings, unless it was named (path, CUSTOS_CONFIG) or a
 * profile other than "default" was asked for; a profile asked for by name
 * must be in the file. 0, or -1 with one line in err.
 */
int tenant_config_load(const char *path, const char *profile,
		       struct tenant_config *out, char *err, size_t err_len);

void tenant_config_free(struct tenant_config *c);

#endif
