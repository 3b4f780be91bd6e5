/* SPDX-License-Identifier: MIT */
/* Unit tests of the frame builder (src/frame.c): which message the status line shows, by the
 * rule table's order, and the frame of a store (the shown process, its rows, its status). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "src/frame.h"
#include "src/model/store.h"

#define SEC 1000000000ULL

static void test_issue_12_status_rules_in_order(void **state)
{
    struct frame_status_in in = {0};
    char buf[256];
    bool error = true;

    (void)state;
    assert_null(frame_status(&in, &error, buf, sizeof(buf)));
    assert_false(error);
    /* Each rule, from the last to the first: every earlier one covers the later ones. */
    in.proc_invalid = "corrupt records in a ring";
    assert_string_equal(frame_status(&in, &error, buf, sizeof(buf)), "corrupt records in a ring");
    assert_true(error);
    in.gpu_error = "NVML: cannot start: Fake Unknown Error";
    assert_string_equal(frame_status(&in, &error, buf, sizeof(buf)), in.gpu_error);
    in.note = "--bpf: needs root";
    assert_string_equal(frame_status(&in, &error, buf, sizeof(buf)), in.note);
    in.replay = true;
    in.replay_done = true;
    assert_string_equal(frame_status(&in, &error, buf, sizeof(buf)), "replay: end of input");
    assert_false(error);
    in.replay_problems = 3;
    in.replay_problem = "a.jsonl:7: last_ms is a string";
    assert_string_equal(frame_status(&in, &error, buf, sizeof(buf)),
                        "replay: 3 problem(s): a.jsonl:7: last_ms is a string [end of input]");
    assert_true(error);
    in.message = "snapshot written to x.json";
    in.message_error = false;
    assert_string_equal(frame_status(&in, &error, buf, sizeof(buf)), in.message);
    assert_false(error); /* a fresh message has its own colour */
    in.message_error = true;
    frame_status(&in, &error, buf, sizeof(buf));
    assert_true(error);
    /* An empty note says nothing; a live source's problems are not a replay's. */
    memset(&in, 0, sizeof(in));
    in.note = "";
    in.replay_problems = 2;
    assert_null(frame_status(&in, &error, buf, sizeof(buf)));
}

static void test_issue_12_frame_of_a_store(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *a = store_proc_add(st, 100, "first"), *b = store_proc_add(st, 200, "second");
    struct store_thread *t = store_thread_add(b, 200, "main");
    uint32_t step = store_proc_intern(b, "step");
    struct frame f;
    struct frame_input in = {.view = LAYOUT_VIEW_LATENCY, .now_ns = 2 * SEC};

    (void)state;
    (void)a;
    store_span_begin(t, step, 1 * SEC);
    store_span_end(t, step, 1 * SEC + 5000000);
    store_proc_add_invalid(b, 1, "corrupt records in a ring");
    frame_init(&f);
    /* No choice: the first process, which has no rows and no complaint. */
    frame_build(&f, st, &in);
    assert_int_equal(f.ui.nprocs, 2);
    assert_int_equal(f.ui.sel_proc, 0);
    assert_int_equal(f.ui.rows->n, 0);
    assert_null(f.ui.status);
    assert_false(f.ui.uptime_valid); /* no uptime source given */
    /* The second, by pid: its step row and its complaint on the status line. */
    in.want_pid = 200;
    frame_build(&f, st, &in);
    assert_int_equal(f.ui.sel_proc, 1);
    assert_int_equal(f.ui.rows->n, 1);
    assert_string_equal(f.ui.status, "corrupt records in a ring");
    assert_true(f.ui.status_error);
    assert_ptr_equal(f.ui.memory, &f.mem_rows);
    /* The memory view shows the memory rows. */
    in.view = LAYOUT_VIEW_MEMORY;
    frame_build(&f, st, &in);
    assert_ptr_equal(f.ui.rows, &f.mem_rows);
    frame_done(&f);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_12_status_rules_in_order),
        cmocka_unit_test(test_issue_12_frame_of_a_store),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
