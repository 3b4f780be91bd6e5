/* SPDX-License-Identifier: MIT */
/* Unit tests of the nctoprc parser: entries, comments, quoting, errors with line numbers,
 * a missing file, and the XDG path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "src/nctoprc.h"

static void test_entries(void **state)
{
    char *err = NULL;
    struct nctoprc *rc = nctoprc_parse("# nctop settings\n"
                                       "\n"
                                       "view = memory\n"
                                       "  sort=p99   # slowest first\n"
                                       "columns = \"last,p99 # not a comment\"\n"
                                       "empty =\n"
                                       "collapse-depth\t=\t3\r\n",
                                       &err);

    (void)state;
    assert_non_null(rc);
    assert_null(err);
    assert_int_equal(nctoprc_count(rc), 5);
    assert_string_equal(nctoprc_key(rc, 0), "view");
    assert_string_equal(nctoprc_value(rc, 0), "memory");
    assert_int_equal(nctoprc_line(rc, 0), 3);
    assert_string_equal(nctoprc_key(rc, 1), "sort");
    assert_string_equal(nctoprc_value(rc, 1), "p99");
    assert_string_equal(nctoprc_value(rc, 2), "last,p99 # not a comment");
    assert_string_equal(nctoprc_value(rc, 3), "");
    assert_string_equal(nctoprc_key(rc, 4), "collapse-depth");
    assert_string_equal(nctoprc_value(rc, 4), "3");
    assert_int_equal(nctoprc_line(rc, 4), 7);
    nctoprc_free(rc);
}

static void expect_error(const char *text, const char *msg)
{
    char *err = NULL;
    struct nctoprc *rc = nctoprc_parse(text, &err);

    assert_null(rc);
    assert_non_null(err);
    assert_string_equal(err, msg);
    free(err);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("view\n", "line 1: expected '=' after the key");
    expect_error("a = 1\n= 2\n", "line 2: expected a key (lower-case letters, digits, '_' or '-')");
    expect_error("View = x", "line 1: expected a key (lower-case letters, digits, '_' or '-')");
    expect_error("a = \"x", "line 1: unterminated quoted value");
    expect_error("a = \"x\" y", "line 1: text after the quoted value");
}

static void test_load(void **state)
{
    char dir[] = "/tmp/nctoprc-test.XXXXXX", path[64], *err = NULL;
    struct nctoprc *rc;
    FILE *f;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/nctoprc", dir);
    rc = nctoprc_load(path, &err);
    assert_non_null(rc); /* missing: empty */
    assert_null(err);
    assert_int_equal(nctoprc_count(rc), 0);
    nctoprc_free(rc);

    f = fopen(path, "w");
    assert_non_null(f);
    fputs("delay = 0.5\n", f);
    fclose(f);
    rc = nctoprc_load(path, &err);
    assert_non_null(rc);
    assert_int_equal(nctoprc_count(rc), 1);
    assert_string_equal(nctoprc_value(rc, 0), "0.5");
    nctoprc_free(rc);

    f = fopen(path, "w");
    assert_non_null(f);
    fputs("ok = 1\nbad\n", f);
    fclose(f);
    rc = nctoprc_load(path, &err);
    assert_null(rc);
    assert_string_equal(err, "line 2: expected '=' after the key");
    free(err);
    unlink(path);
    rmdir(dir);
    nctoprc_free(NULL);
}

static void test_default_path(void **state)
{
    char *p;

    (void)state;
    setenv("XDG_CONFIG_HOME", "/x/cfg", 1);
    setenv("HOME", "/x/home", 1);
    p = nctoprc_default_path();
    assert_string_equal(p, "/x/cfg/nctop/nctoprc");
    free(p);
    setenv("XDG_CONFIG_HOME", "relative", 1); /* ignored, as XDG says */
    p = nctoprc_default_path();
    assert_string_equal(p, "/x/home/.config/nctop/nctoprc");
    free(p);
    unsetenv("XDG_CONFIG_HOME");
    unsetenv("HOME");
    assert_null(nctoprc_default_path());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entries),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_load),
        cmocka_unit_test(test_default_path),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
