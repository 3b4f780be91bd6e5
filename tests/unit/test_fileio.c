/* SPDX-License-Identifier: MIT */
/* Unit tests of the output-file helper (issue 10): new files are created exclusively, and an
 * existing name is written only when it is a regular file of this user with one link, never
 * through a symbolic link; a FIFO does not block the caller. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "src/base/fileio.h"

struct fx {
    char dir[64];
    char target[128]; /* a file of ours the tests must never change */
    char name[128];   /* the name handed to the helper */
};

static int fx_setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    FILE *t;

    snprintf(f->dir, sizeof(f->dir), "/tmp/nctop-test-fileio.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->target, sizeof(f->target), "%s/target", f->dir);
    snprintf(f->name, sizeof(f->name), "%s/out", f->dir);
    t = fopen(f->target, "w");
    assert_non_null(t);
    fputs("precious\n", t);
    fclose(t);
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;

    unlink(f->name);
    unlink(f->target);
    rmdir(f->dir);
    free(f);
    return 0;
}

static char *slurp(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    size_t n;

    assert_non_null(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void put(int fd, const char *s)
{
    assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
    close(fd);
}

static void test_issue_10_fileio_new_is_exclusive(void **state)
{
    struct fx *f = *state;
    char why[128];
    struct stat st;
    mode_t mask = umask(022);
    int fd;

    fd = fileio_open(f->name, FILEIO_NEW, 0600, why, sizeof(why));
    assert_true(fd >= 0);
    assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
    put(fd, "one\n");
    assert_int_equal(stat(f->name, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* The same name again: refused, and the file is untouched. */
    assert_int_equal(fileio_open(f->name, FILEIO_NEW, 0600, why, sizeof(why)), -EEXIST);
    assert_non_null(strstr(why, "exists"));
    assert_string_equal(slurp(f->name), "one\n");
    umask(mask);
}

static void test_issue_10_fileio_append_and_replace(void **state)
{
    struct fx *f = *state;
    char why[128];
    int fd;

    fd = fileio_open(f->name, FILEIO_APPEND, 0644, why, sizeof(why));
    assert_true(fd >= 0);
    put(fd, "a\n");
    fd = fileio_open(f->name, FILEIO_APPEND, 0644, why, sizeof(why));
    assert_true(fd >= 0);
    put(fd, "b\n");
    assert_string_equal(slurp(f->name), "a\nb\n");
    fd = fileio_open(f->name, FILEIO_REPLACE, 0644, why, sizeof(why));
    assert_true(fd >= 0);
    put(fd, "c\n");
    assert_string_equal(slurp(f->name), "c\n");
}

/* A link planted at the name (to a file of ours, or dangling): never followed, in every mode. */
static void test_issue_10_fileio_symlink_not_followed(void **state)
{
    static const enum fileio_how hows[] = {FILEIO_NEW, FILEIO_APPEND, FILEIO_REPLACE};
    struct fx *f = *state;
    char why[128], dangling[160];
    FILE *fp;

    assert_int_equal(symlink(f->target, f->name), 0);
    for (size_t i = 0; i < 3; i++) {
        why[0] = '\0';
        assert_true(fileio_open(f->name, hows[i], 0644, why, sizeof(why)) < 0);
        assert_non_null(strstr(why, "symbolic link"));
    }
    fp = fileio_fopen(f->name, FILEIO_APPEND, 0644, why, sizeof(why));
    assert_null(fp);
    assert_non_null(strstr(why, "symbolic link"));
    assert_string_equal(slurp(f->target), "precious\n");
    unlink(f->name);

    snprintf(dangling, sizeof(dangling), "%s/absent", f->dir);
    assert_int_equal(symlink(dangling, f->name), 0);
    assert_true(fileio_open(f->name, FILEIO_APPEND, 0644, why, sizeof(why)) < 0);
    assert_int_equal(access(dangling, F_OK), -1);
}

/* A second name of a file (a hard link, e.g. to one of root's files) is refused. */
static void test_issue_10_fileio_hardlink_refused(void **state)
{
    struct fx *f = *state;
    char why[128];

    assert_int_equal(link(f->target, f->name), 0);
    assert_true(fileio_open(f->name, FILEIO_APPEND, 0644, why, sizeof(why)) < 0);
    assert_non_null(strstr(why, "links"));
    assert_true(fileio_open(f->name, FILEIO_REPLACE, 0644, why, sizeof(why)) < 0);
    assert_string_equal(slurp(f->target), "precious\n");
}

/* Not a regular file: a FIFO (which must not block the open), a directory, a device. */
static void test_issue_10_fileio_not_regular_refused(void **state)
{
    struct fx *f = *state;
    char why[128];

    assert_int_equal(mkfifo(f->name, 0644), 0);
    assert_true(fileio_open(f->name, FILEIO_APPEND, 0644, why, sizeof(why)) < 0);
    assert_non_null(strstr(why, "not a regular file"));
    unlink(f->name);
    assert_true(fileio_open(f->dir, FILEIO_APPEND, 0644, why, sizeof(why)) < 0);
}

/* A character device named on purpose is fine: -o /dev/null is a common way to drop output,
 * and nobody but root can make a device node to plant. */
static void test_issue_11_fileio_dev_null_accepted(void **state)
{
    char why[128];
    int fd;

    (void)state;
    fd = fileio_open("/dev/null", FILEIO_REPLACE, 0644, why, sizeof(why));
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "x", 1), 1);
    close(fd);
}

/* A file of another user is refused even to root (who could write it). */
static void test_issue_10_fileio_other_owner_refused(void **state)
{
    struct fx *f = *state;
    char why[128];

    if (geteuid() != 0) {
        skip();
    }
    assert_int_equal(chown(f->target, 65534, 65534), 0);
    assert_true(fileio_open(f->target, FILEIO_APPEND, 0644, why, sizeof(why)) < 0);
    assert_non_null(strstr(why, "another user"));
    assert_string_equal(slurp(f->target), "precious\n");
}

static void test_issue_10_fileio_missing_dir(void **state)
{
    char why[128];

    (void)state;
    assert_int_equal(fileio_open("/nonexistent-dir/x", FILEIO_APPEND, 0644, why, sizeof(why)),
                     -ENOENT);
    assert_string_equal(why, strerror(ENOENT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_issue_10_fileio_new_is_exclusive, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_issue_10_fileio_append_and_replace, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_issue_10_fileio_symlink_not_followed, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_issue_10_fileio_hardlink_refused, fx_setup,
                                        fx_teardown),
        cmocka_unit_test(test_issue_11_fileio_dev_null_accepted),
        cmocka_unit_test_setup_teardown(test_issue_10_fileio_not_regular_refused, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_issue_10_fileio_other_owner_refused, fx_setup,
                                        fx_teardown),
        cmocka_unit_test(test_issue_10_fileio_missing_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
