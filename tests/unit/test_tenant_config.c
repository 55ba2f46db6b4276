/*
 * The tenant CLI's configuration file (tools/tenant_config.c, compiled in
 * here): a good file's selected profile is read, relative paths made
 * absolute against the file's folder and "~/" against HOME; other profiles
 * are not taken but still checked; every malformed line is refused with
 * its line number and without its value; a missing file is no settings
 * unless it was named or a non-default profile was asked for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tools/tenant_config.c"

static const char good[] =
	"# Alice's platforms\n"
	"[default]\n"
	"relay = 127.0.0.1:4433\n"
	"ca=/etc/custos/root.pem\n"
	"\tcert = alice.pem  \r\n"
	"key = ~/keys/alice.key\n"
	"reference = ref/reference.json\n"
	"allow-dev = yes\n"
	"\n"
	"[lab-2]\n"
	"relay = [::1]:5555\n"
	"allow-dev = false\n";

static void parse_ok(const char *text, const char *profile, struct tenant_config *c)
{
	char err[256] = "";
	int rc = tenant_config_parse(text, strlen(text), "/home/alice/.config/custos/config",
				     profile, c, err, sizeof(err));

	if (rc != 0)
		print_error("unexpected refusal: %s\n", err);
	assert_int_equal(rc, 0);
}

static void test_default_profile(void **state)
{
	struct tenant_config c;

	(void)state;
	setenv("HOME", "/home/alice", 1);
	parse_ok(good, "default", &c);
	assert_true(c.found);
	assert_string_equal(c.relay, "127.0.0.1:4433");
	assert_string_equal(c.ca, "/etc/custos/root.pem");
	assert_string_equal(c.cert, "/home/alice/.config/custos/alice.pem");
	assert_string_equal(c.key, "/home/alice/keys/alice.key");
	assert_string_equal(c.reference, "/home/alice/.config/custos/ref/reference.json");
	assert_int_equal(c.allow_dev, 1);
	tenant_config_free(&c);
}

static void test_named_profile_takes_only_its_own(void **state)
{
	struct tenant_config c;

	(void)state;
	parse_ok(good, "lab-2", &c);
	assert_true(c.found);
	assert_string_equal(c.relay, "[::1]:5555");
	assert_null(c.ca);
	assert_null(c.cert);
	assert_null(c.key);
	assert_null(c.reference);
	assert_int_equal(c.allow_dev, 0);
	tenant_config_free(&c);
	parse_ok(good, "other", &c);
	assert_false(c.found);
	assert_null(c.relay);
	assert_int_equal(c.allow_dev, -1);
	tenant_config_free(&c);
}

static void test_empty_and_comments(void **state)
{
	struct tenant_config c;

	(void)state;
	parse_ok("", "default", &c);
	assert_false(c.found);
	tenant_config_free(&c);
	parse_ok("# nothing\n\n   \n[default]\n# still nothing", "default", &c);
	assert_true(c.found);
	assert_null(c.relay);
	tenant_config_free(&c);
}

struct bad_case {
	const char *text;
	const char *reason; /* a part of the message */
};

static const struct bad_case bad_cases[] = {
	{ "relay = 1.2.3.4:5\n", "line 1: relay comes before any [profile] line" },
	{ "[default]\nrelay 1.2.3.4:5\n", "line 2: not NAME = VALUE (no '=')" },
	{ "[default]\nrelais = x\n", "line 2: unknown setting 'relais'" },
	{ "[default]\nSECRET_TOKEN!=x\n", "line 2: unknown setting (relay" },
	{ "[default]\nrelay = a:1\nrelay = b:2\n", "line 3: relay is given twice" },
	{ "[default]\nca =\n", "line 2: ca has no value" },
	{ "[default]\nallow-dev = maybe\n", "line 2: allow-dev wants yes or no" },
	{ "[Default]\n", "line 1: a profile line is [NAME]" },
	{ "[]\n", "line 1: a profile line is [NAME]" },
	{ "[default\n", "line 1: a profile line is [NAME]" },
	{ "[a]\n[b]\n[a]\n", "line 3: profile [a] is given twice" },
	{ "[default]\nrelay = a\x1b:1\n", "line 2: holds a control character" },
	/* A malformed line in another profile is refused all the same. */
	{ "[default]\nrelay = a:1\n[other]\nkey\n", "line 4: not NAME = VALUE" },
};

static void test_malformed_lines_are_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct tenant_config c;
		char err[256] = "";
		int rc = tenant_config_parse(bad_cases[i].text, strlen(bad_cases[i].text),
					     "cfg", "default", &c, err, sizeof(err));

		tenant_config_free(&c);
		if (rc != -1 || !strstr(err, bad_cases[i].reason))
			print_error("case %zu: rc %d, err '%s', want '%s'\n", i, rc, err,
				    bad_cases[i].reason);
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err, bad_cases[i].reason));
		assert_non_null(strstr(err, "cfg"));
	}
}

static void test_refusals_never_quote_a_value(void **state)
{
	static const char text[] = "[default]\nrelay = secret-host:1\nrelay = secret-host:2\n";
	struct tenant_config c;
	char err[256] = "";

	(void)state;
	assert_int_equal(tenant_config_parse(text, strlen(text), "cfg", "default", &c, err,
					     sizeof(err)), -1);
	tenant_config_free(&c);
	assert_null(strstr(err, "secret"));
}

static void test_nul_long_line_and_size(void **state)
{
	static char big[TENANT_CONFIG_MAX_SIZE + 2];
	struct tenant_config c;
	char err[256] = "";
	char line[TENANT_CONFIG_MAX_LINE + 20];

	(void)state;
	assert_int_equal(tenant_config_parse("[default]\0", 10, "cfg", "default", &c, err,
					     sizeof(err)), -1);
	tenant_config_free(&c);
	assert_non_null(strstr(err, "NUL"));
	memset(line, 'x', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	memcpy(line, "[default]\nca = ", 15);
	assert_int_equal(tenant_config_parse(line, strlen(line), "cfg", "default", &c, err,
					     sizeof(err)), -1);
	tenant_config_free(&c);
	assert_non_null(strstr(err, "line 2: longer than"));
	memset(big, '#', sizeof(big));
	assert_int_equal(tenant_config_parse(big, sizeof(big), "cfg", "default", &c, err,
					     sizeof(err)), -1);
	tenant_config_free(&c);
	assert_non_null(strstr(err, "larger than"));
}

/* tenant_config_load on real files: which missing file is an error. */
static void test_load_missing_and_named(void **state)
{
	char dir[] = "/tmp/custos-config-XXXXXX", path[128], err[256];
	struct tenant_config c;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	unsetenv("CUSTOS_CONFIG");
	unsetenv("CUSTOS_PROFILE");
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", dir, 1);
	/* No file at the default place: no settings, no error. */
	assert_int_equal(tenant_config_load(NULL, NULL, &c, err, sizeof(err)), 0);
	assert_null(c.relay);
	tenant_config_free(&c);
	/* ... but a profile asked for by name needs it. */
	assert_int_equal(tenant_config_load(NULL, "lab", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot read configuration file"));
	tenant_config_free(&c);
	/* CUSTOS_CONFIG names a file that must exist. */
	snprintf(path, sizeof(path), "%s/cfg", dir);
	setenv("CUSTOS_CONFIG", path, 1);
	assert_int_equal(tenant_config_load(NULL, NULL, &c, err, sizeof(err)), -1);
	tenant_config_free(&c);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[default]\nrelay = h:1\n[lab]\nrelay = l:2\ncert = t.pem\n", f);
	fclose(f);
	assert_int_equal(tenant_config_load(NULL, NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.relay, "h:1");
	tenant_config_free(&c);
	/* CUSTOS_PROFILE selects, an explicit profile wins over it. */
	setenv("CUSTOS_PROFILE", "lab", 1);
	assert_int_equal(tenant_config_load(NULL, NULL, &c, err, sizeof(err)), 0);
	assert_string_equal(c.relay, "l:2");
	snprintf(path, sizeof(path), "%s/t.pem", dir);
	assert_string_equal(c.cert, path);
	tenant_config_free(&c);
	assert_int_equal(tenant_config_load(NULL, "default", &c, err, sizeof(err)), 0);
	assert_string_equal(c.relay, "h:1");
	tenant_config_free(&c);
	assert_int_equal(tenant_config_load(NULL, "nope", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "has no profile [nope]"));
	tenant_config_free(&c);
	assert_int_equal(tenant_config_load(NULL, "Bad Name", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "profile name must be"));
	tenant_config_free(&c);
	/* A directory is not a configuration file. */
	assert_int_equal(tenant_config_load(dir, NULL, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	tenant_config_free(&c);
	unsetenv("CUSTOS_CONFIG");
	unsetenv("CUSTOS_PROFILE");
	snprintf(path, sizeof(path), "%s/cfg", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_profile),
		cmocka_unit_test(test_named_profile_takes_only_its_own),
		cmocka_unit_test(test_empty_and_comments),
		cmocka_unit_test(test_malformed_lines_are_refused),
		cmocka_unit_test(test_refusals_never_quote_a_value),
		cmocka_unit_test(test_nul_long_line_and_size),
		cmocka_unit_test(test_load_missing_and_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
