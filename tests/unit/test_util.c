/* SPDX-License-Identifier: MIT */
/* Unit tests of the util helpers of issue 10: names from a workload or a file reach the
 * terminal with their control characters escaped (the helper and the text report), and the
 * check of which processes this user may watch. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "src/base/util.h"
#include "src/model/store.h"
#include "src/output/report.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

static void test_issue_10_escape_controls(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(util_escape("plain name", buf, sizeof(buf)), "plain name");
    assert_string_equal(util_escape("\x1b[2J", buf, sizeof(buf)), "\\x1b[2J");
    assert_string_equal(util_escape("a\nb\tc\rd\x7f", buf, sizeof(buf)),
                        "a\\x0ab\\x09c\\x0dd\\x7f");
    /* UTF-8 stays; its C1 controls (U+009B is a CSI) and broken sequences do not. */
    assert_string_equal(util_escape("caf\xc3\xa9 \xe2\x86\x92", buf, sizeof(buf)),
                        "caf\xc3\xa9 \xe2\x86\x92");
    assert_string_equal(util_escape("\xc2\x9b"
                                    "2J",
                                    buf, sizeof(buf)),
                        "\\xc2\\x9b2J");
    assert_string_equal(util_escape("\x9b\xff\xc3", buf, sizeof(buf)), "\\x9b\\xff\\xc3");
    assert_string_equal(util_escape("\xed\xa0\x80", buf, sizeof(buf)), "\\xed\\xa0\\x80");
    assert_string_equal(util_escape("\xc0\xaf", buf, sizeof(buf)), "\\xc0\\xaf");
    /* Cut to fit, never in the middle of an escape or a character. */
    assert_string_equal(util_escape("ab\x1b", buf, 5), "ab");
    assert_string_equal(util_escape("a\xc3\xa9", buf, 3), "a");
    assert_string_equal(util_escape("abc", buf, 1), "");
}

/* A span named with an escape sequence prints escaped in the text report (--once). */
static void test_issue_10_report_escapes_names(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 77, "lm\x1b]0;owned\x07");
    uint32_t evil = store_proc_intern(p, "\x1b[2J\x1b[31mred");
    uint32_t kern = store_proc_intern(p, "k\x1b[1m"), be = store_proc_intern(p, "cpu\x1b[5m");
    struct store_thread *t = store_thread_add(p, 77, "main");
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    (void)state;
    for (uint64_t i = 0; i < 5; i++) {
        store_span_begin(t, evil, SEC + i * 20 * MS);
        store_span_end(t, evil, SEC + i * 20 * MS + 5 * MS);
    }
    store_kernel(p, kern, be, 2 * SEC, 3 * MS);
    assert_int_equal(report_write(out, st, 3 * SEC, 1795000000ULL * SEC), 0);
    fclose(out);
    assert_null(strchr(text, '\x1b'));
    assert_null(strchr(text, '\x07'));
    assert_non_null(strstr(text, "\\x1b[2J\\x1b[31mred"));
    assert_non_null(strstr(text, "lm\\x1b]0;owned\\x07 [pid 77]"));
    assert_non_null(strstr(text, "k\\x1b[1m"));
    assert_non_null(strstr(text, "cpu\\x1b[5m"));
    free(text);
    store_free(st);
}

/* In a child that became nobody: its own process yes, root's (its parent, init) no, and not
 * itself once it is undumpable. Returns the number of the first failed check, 0 if none. */
static int may_trace_as_nobody(void)
{
    pid_t root_pid = getppid();

    if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) {
        return 100;
    }
    /* Changing uids made us undumpable; a process started by nobody is dumpable. */
    prctl(PR_SET_DUMPABLE, 1);
    if (!util_may_trace(getpid())) {
        return 1;
    }
    if (util_may_trace(root_pid)) {
        return 2;
    }
    if (util_may_trace(1)) {
        return 3;
    }
    prctl(PR_SET_DUMPABLE, 0);
    if (util_may_trace(getpid())) {
        return 4;
    }
    if (util_may_trace(0) || util_may_trace(-1) || util_may_trace(INT32_MAX)) {
        return 5;
    }
    return 0;
}

static void test_issue_10_may_trace(void **state)
{
    int status = 0;
    pid_t pid;

    (void)state;
    if (getuid() != 0) {
        skip(); /* needs root to become nobody */
    }
    /* Root may watch anything. */
    assert_true(util_may_trace(getpid()));
    assert_true(util_may_trace(1));
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        _exit(may_trace_as_nobody());
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_10_escape_controls),
        cmocka_unit_test(test_issue_10_report_escapes_names),
        cmocka_unit_test(test_issue_10_may_trace),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
