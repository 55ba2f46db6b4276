/*
 * New files whole or not at all (crypto/new_file.c): the contents and the
 * exact mode, never replacing a file or a symlink (even one that appears
 * between prepare and commit), and no temporary file left in any case.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/new_file.h"

static char dir[] = "/tmp/custos-test-new-file-XXXXXX";

static const char *in_dir(const char *name)
{
	static char buf[4][256];
	static int next;

	next = (next + 1) % 4;
	snprintf(buf[next], sizeof(buf[next]), "%s/%s", dir, name);
	return buf[next];
}

/* The number of entries in dir (without . and ..). */
static int entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_writes_whole_file_with_exact_mode(void **state)
{
	char err[256], got[16] = { 0 };
	struct stat st;
	mode_t old = umask(077);
	FILE *f;

	(void)state;
	assert_int_equal(new_file_write(in_dir("a"), "hello", 5, 0644, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(in_dir("a"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	f = fopen(in_dir("a"), "rb");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, sizeof(got), f), 5);
	fclose(f);
	assert_string_equal(got, "hello");
	assert_int_equal(entries(), 1);
}

static void test_never_replaces(void **state)
{
	char err[256];
	struct new_file nf;

	(void)state;
	assert_int_equal(new_file_write(in_dir("b"), "one", 3, 0600, err, sizeof(err)), 0);
	assert_int_equal(new_file_write(in_dir("b"), "two", 3, 0600, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refusing to overwrite"));
	/* A symlink is not followed, its target not created. */
	assert_int_equal(symlink(in_dir("victim"), in_dir("link")), 0);
	assert_int_equal(new_file_write(in_dir("link"), "x", 1, 0600, err, sizeof(err)), -1);
	assert_int_equal(access(in_dir("victim"), F_OK), -1);
	/* A file that appears between prepare and commit wins. */
	assert_int_equal(new_file_prepare(&nf, in_dir("c"), "late", 4, 0600, err, sizeof(err)), 0);
	assert_int_equal(new_file_write(in_dir("c"), "first", 5, 0600, err, sizeof(err)), 0);
	assert_int_equal(new_file_commit(&nf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "refusing to overwrite"));
	/* b, link, c: no temporary file anywhere. */
	assert_int_equal(entries(), 4);
}

static void test_discard_and_failures_leave_nothing(void **state)
{
	char err[256];
	struct new_file nf;
	int before = entries();

	(void)state;
	assert_int_equal(new_file_prepare(&nf, in_dir("d"), "x", 1, 0600, err, sizeof(err)), 0);
	assert_int_equal(entries(), before + 1); /* the temporary file */
	new_file_discard(&nf);
	assert_int_equal(entries(), before);
	assert_int_equal(new_file_write(in_dir("nodir/e"), "x", 1, 0600, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot create a temporary file"));
	/* What a signal handler calls while a temporary file exists. */
	assert_int_equal(new_file_prepare(&nf, in_dir("f"), "x", 1, 0600, err, sizeof(err)), 0);
	new_file_abandon();
	assert_int_equal(entries(), before);
	new_file_discard(&nf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes_whole_file_with_exact_mode),
		cmocka_unit_test(test_never_replaces),
		cmocka_unit_test(test_discard_and_failures_leave_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
