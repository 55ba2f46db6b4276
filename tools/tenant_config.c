/*
 * The tenant CLI's configuration file (tools/tenant_config.h).
 *
 * Strict on purpose: a file that says something we do not understand is
 * refused with its line number, never half-used, because a silently
 * ignored "relay =" line would send a tenant's secrets somewhere else than
 * it meant. Messages name the line and the setting, never a value.
 */
#include "tcb/errmsg.h"
#include "tools/tenant_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void tenant_config_free(struct tenant_config *c)
{
	free(c->relay);
	free(c->ca);
	free(c->cert);
	free(c->key);
	free(c->reference);
	memset(c, 0, sizeof(*c));
	c->allow_dev = -1;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool profile_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static bool valid_profile_name(const char *s, size_t n)
{
	if (n == 0 || n > TENANT_CONFIG_MAX_NAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!profile_char(s[i]))
			return false;
	return true;
}

/* A path setting made absolute: "~/x" under $HOME, "x" under the config
 * file's folder (so a profile can name files beside it). NULL on ENOMEM. */
static char *resolve_path(const char *value, size_t n, const char *config_path)
{
	const char *base = "";
	size_t base_len = 0;
	char *out;

	if (n >= 2 && value[0] == '~' && value[1] == '/') {
		base = getenv("HOME");
		if (!base)
			base = "";
		base_len = strlen(base);
		value++;
		n--;
	} else if (value[0] != '/') {
		const char *slash = strrchr(config_path, '/');

		if (slash) {
			base = config_path;
			base_len = (size_t)(slash - config_path) + 1;
		}
	}
	out = malloc(base_len + n + 1);
	if (!out)
		return NULL;
	memcpy(out, base, base_len);
	memcpy(out + base_len, value, n);
	out[base_len + n] = '\0';
	return out;
}

enum setting { S_RELAY, S_CA, S_CERT, S_KEY, S_REFERENCE, S_ALLOW_DEV, S_COUNT };

static const char *const setting_names[S_COUNT] = {
	"relay", "ca", "cert", "key", "reference", "allow-dev",
};

static int setting_of(const char *s, size_t n)
{
	for (int i = 0; i < S_COUNT; i++)
		if (strlen(setting_names[i]) == n && memcmp(setting_names[i], s, n) == 0)
			return i;
	return -1;
}

static int yes_no(const char *s, size_t n)
{
	static const char *const yes[] = { "yes", "true", "1" }, *const no[] = { "no", "false", "0" };

	for (size_t i = 0; i < 3; i++) {
		if (strlen(yes[i]) == n && memcmp(yes[i], s, n) == 0)
			return 1;
		if (strlen(no[i]) == n && memcmp(no[i], s, n) == 0)
			return 0;
	}
	return -1;
}

/* One "name = value" line of the selected profile into out. */
static int take_setting(int which, const char *v, size_t vn, const char *path,
			struct tenant_config *out)
{
	char **slot = which == S_RELAY ? &out->relay : which == S_CA ? &out->ca :
		      which == S_CERT ? &out->cert : which == S_KEY ? &out->key :
		      &out->reference;

	if (which == S_ALLOW_DEV) {
		out->allow_dev = yes_no(v, vn);
		return 0;
	}
	*slot = which == S_RELAY ? strndup(v, vn) : resolve_path(v, vn, path);
	return *slot ? 0 : -1;
}

int tenant_config_parse(const char *text, size_t len, const char *path,
			const char *profile, struct tenant_config *out,
			char *err, size_t err_len)
{
	/* Which profiles were seen (for duplicates), as "name\0name\0". */
	char seen[TENANT_CONFIG_MAX_SIZE / 2];
	size_t seen_len = 0, line_no = 0, pos = 0;
	bool in_profile = false, selected = false;
	unsigned given = 0; /* settings of the current profile, by bit */

	memset(out, 0, sizeof(*out));
	out->allow_dev = -1;
	if (len > TENANT_CONFIG_MAX_SIZE)
		return errmsg(err, err_len, "%s is larger than %u bytes", path,
			    TENANT_CONFIG_MAX_SIZE);
	if (memchr(text, '\0', len))
		return errmsg(err, err_len, "%s holds a NUL byte: not a text file", path);
	while (pos < len) {
		const char *line = text + pos, *nl = memchr(line, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - line) : len - pos;
		const char *eq;
		size_t kn, vn;
		int which;

		pos += n + (nl != NULL);
		line_no++;
		if (n > TENANT_CONFIG_MAX_LINE)
			return errmsg(err, err_len, "%s line %zu: longer than %u bytes",
				    path, line_no, TENANT_CONFIG_MAX_LINE);
		if (n && line[n - 1] == '\r')
			n--;
		for (size_t i = 0; i < n; i++)
			if (((unsigned char)line[i] < 0x20 && line[i] != '\t') ||
			    line[i] == 0x7f)
				return errmsg(err, err_len,
					    "%s line %zu: holds a control character",
					    path, line_no);
		while (n && is_blank(*line)) {
			line++;
			n--;
		}
		while (n && is_blank(line[n - 1]))
			n--;
		if (n == 0 || line[0] == '#')
			continue;
		if (line[0] == '[') {
			size_t name_len = n - 2;

			if (n < 3 || line[n - 1] != ']' ||
			    !valid_profile_name(line + 1, name_len))
				return errmsg(err, err_len,
					    "%s line %zu: a profile line is [NAME], NAME 1..%u of a-z 0-9 _ -",
					    path, line_no, TENANT_CONFIG_MAX_NAME);
			for (size_t i = 0; i < seen_len; i += strlen(seen + i) + 1)
				if (strlen(seen + i) == name_len &&
				    memcmp(seen + i, line + 1, name_len) == 0)
					return errmsg(err, err_len,
						    "%s line %zu: profile [%.*s] is given twice",
						    path, line_no, (int)name_len, line + 1);
			memcpy(seen + seen_len, line + 1, name_len);
			seen_len += name_len;
			seen[seen_len++] = '\0';
			in_profile = true;
			selected = strlen(profile) == name_len &&
				   memcmp(profile, line + 1, name_len) == 0;
			out->found |= selected;
			given = 0;
			continue;
		}
		eq = memchr(line, '=', n);
		if (!eq)
			return errmsg(err, err_len, "%s line %zu: not NAME = VALUE (no '=')",
				    path, line_no);
		kn = (size_t)(eq - line);
		while (kn && is_blank(line[kn - 1]))
			kn--;
		which = setting_of(line, kn);
		if (which < 0) {
			bool plain = kn > 0 && kn <= 32;

			for (size_t i = 0; plain && i < kn; i++)
				plain = profile_char(line[i]);
			if (plain)
				return errmsg(err, err_len,
					    "%s line %zu: unknown setting '%.*s' (relay, ca, cert, key, reference, allow-dev)",
					    path, line_no, (int)kn, line);
			return errmsg(err, err_len,
				    "%s line %zu: unknown setting (relay, ca, cert, key, reference, allow-dev)",
				    path, line_no);
		}
		if (!in_profile)
			return errmsg(err, err_len,
				    "%s line %zu: %s comes before any [profile] line (start with [%s])",
				    path, line_no, setting_names[which], TENANT_CONFIG_DEFAULT);
		if (given & (1u << which))
			return errmsg(err, err_len, "%s line %zu: %s is given twice in this profile",
				    path, line_no, setting_names[which]);
		given |= 1u << which;
		eq++;
		vn = n - (size_t)(eq - line);
		while (vn && is_blank(*eq)) {
			eq++;
			vn--;
		}
		if (vn == 0)
			return errmsg(err, err_len, "%s line %zu: %s has no value", path,
				    line_no, setting_names[which]);
		if (which == S_ALLOW_DEV && yes_no(eq, vn) < 0)
			return errmsg(err, err_len,
				    "%s line %zu: allow-dev wants yes or no (or true/false, 1/0)",
				    path, line_no);
		if (selected && take_setting(which, eq, vn, path, out) != 0)
			return errmsg(err, err_len, "out of memory reading %s", path);
	}
	return 0;
}

static bool env_set(const char *name)
{
	const char *v = getenv(name);

	return v && *v;
}

int tenant_config_load(const char *path, const char *profile,
		       struct tenant_config *out, char *err, size_t err_len)
{
	char default_path[4096];
	bool must_exist = path != NULL || env_set("CUSTOS_CONFIG");
	struct stat st;
	char *text;
	size_t got;
	FILE *f;
	int rc;

	memset(out, 0, sizeof(*out));
	out->allow_dev = -1;
	if (!profile && env_set("CUSTOS_PROFILE"))
		profile = getenv("CUSTOS_PROFILE");
	if (!profile)
		profile = TENANT_CONFIG_DEFAULT;
	if (!valid_profile_name(profile, strlen(profile)))
		return errmsg(err, err_len, "profile name must be 1..%u of a-z 0-9 _ -",
			    TENANT_CONFIG_MAX_NAME);
	if (strcmp(profile, TENANT_CONFIG_DEFAULT) != 0)
		must_exist = true;
	if (!path && env_set("CUSTOS_CONFIG"))
		path = getenv("CUSTOS_CONFIG");
	if (!path) {
		const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

		if (xdg && xdg[0] == '/')
			snprintf(default_path, sizeof(default_path), "%s/custos/config", xdg);
		else if (home && *home)
			snprintf(default_path, sizeof(default_path), "%s/.config/custos/config",
				 home);
		else
			return must_exist ? errmsg(err, err_len,
						 "profile '%s': no configuration file (set HOME, XDG_CONFIG_HOME or CUSTOS_CONFIG)",
						 profile) : 0;
		path = default_path;
	}
	f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT && !must_exist)
			return 0;
		return errmsg(err, err_len, "cannot read configuration file '%s': %s", path,
			    strerror(errno));
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return errmsg(err, err_len, "configuration file '%s' is not a regular file",
			    path);
	}
	if ((unsigned long long)st.st_size > TENANT_CONFIG_MAX_SIZE) {
		fclose(f);
		return errmsg(err, err_len, "%s is larger than %u bytes", path,
			    TENANT_CONFIG_MAX_SIZE);
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		fclose(f);
		return errmsg(err, err_len, "out of memory reading %s", path);
	}
	got = fread(text, 1, (size_t)st.st_size, f);
	rc = ferror(f);
	fclose(f);
	if (rc || got != (size_t)st.st_size) {
		free(text);
		return errmsg(err, err_len, "cannot read configuration file '%s'", path);
	}
	rc = tenant_config_parse(text, got, path, profile, out, err, err_len);
	free(text);
	if (rc == 0 && !out->found && strcmp(profile, TENANT_CONFIG_DEFAULT) != 0)
		return errmsg(err, err_len, "%s has no profile [%s]", path, profile);
	return rc;
}
