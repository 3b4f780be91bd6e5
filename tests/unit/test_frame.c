/* SPDX-License-Identifier: MIT */
/* Unit tests of the frame builder (src/frame.c): which message the status line shows, by the
 * rule table's order, and the frame of a store (the shown process, its rows, its status). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "src/frame.h"
#include "src/model/rows.h"
#include "src/model/store.h"
#include "ui/ui.h"
#include "ui/ui_internal.h"

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

/* The display's frames leave the window's percentiles for later (ui_omit): a redraw finds
 * them while the store holds the same samples; one that needs some the store no longer has
 * (a sort by another after a sample came) is cut short (ui_stale), and the new frame has
 * them. Frozen, a frame has everything. */
static void test_issue_13_lazy_frame(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 300, "lazy");
    struct store_thread *t = store_thread_add(p, 300, "main");
    uint32_t ids[4];
    FILE *in_f = fopen("/dev/null", "r"), *out_f = fopen("/dev/null", "w");
    struct ui_opts o = {.sort_col = LAYOUT_COL_P99,
                        .collapse_depth = 8,
                        .in = in_f,
                        .out = out_f,
                        .allow_not_tty = true,
                        .delay_ns = SEC};
    struct frame f;
    struct frame_input in = {.view = LAYOUT_VIEW_LATENCY, .now_ns = 3 * SEC};
    struct rows fresh;
    char *err = NULL;
    struct ui *u;

    (void)state;
    assert_non_null(in_f);
    assert_non_null(out_f);
    for (int i = 0; i < 4; i++) {
        char name[16];

        snprintf(name, sizeof(name), "n%d", i);
        ids[i] = store_proc_intern(p, name);
    }
    for (uint64_t k = 0; k < 40; k++) {
        for (int i = 0; i < 4; i++) {
            uint64_t b = 2 * SEC + k * 10000000ULL + (uint64_t)i * 1000000ULL;

            store_span_begin(t, ids[i], b);
            store_span_end(t, ids[i], b + 1000 + (k * 7919 + (uint64_t)i * 104729) % 50000);
        }
    }
    setenv("TERM", "xterm-256color", 1);
    u = ui_new(&o, &err);
    assert_non_null(u);
    ui_set_size(u, 200, 40);
    frame_init(&f);
    rows_init(&fresh);
    in.omit = ui_omit(u);
    assert_int_equal(in.omit, ROWS_LAZY_WIN_PCT | ROWS_OMIT_ALL_PCT | ROWS_OMIT_ALL);
    frame_build(&f, st, &in);
    assert_non_null(f.ui.rows->src);
    ui_draw(u, &f.ui);
    assert_false(ui_stale(u));
    /* Drawn: every row's figures, as a build gives them. */
    rows_build_latency(&fresh, p, in.now_ns);
    assert_int_equal(f.ui.rows->n, 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(f.ui.rows->v[i].win.pending, 0);
        assert_memory_equal(&f.ui.rows->v[i].win, &fresh.v[i].win, sizeof(fresh.v[i].win));
        /* Nothing since start while the window is shown: marked so. */
        assert_int_equal(f.ui.rows->v[i].flags & ROW_F_ALL, 0);
        assert_true((fresh.v[i].flags & ROW_F_ALL) != 0);
    }
    /* The same frame drawn again: nothing needed. */
    ui_draw(u, &f.ui);
    assert_false(ui_stale(u));
    /* A new frame of the same samples keeps what was found. */
    frame_build(&f, st, &in);
    assert_int_equal(f.ui.rows->v[0].win.pending, 0);
    /* The same samples a second later: another window slot, figures left for later again;
     * then a sample comes and a sort by p50 needs them all. */
    in.now_ns = 4 * SEC;
    frame_build(&f, st, &in);
    assert_int_equal(f.ui.rows->v[0].win.pending, ROW_S_P50 | ROW_S_P95);
    store_span_begin(t, ids[0], 3 * SEC + 500000000ULL);
    store_span_end(t, ids[0], 3 * SEC + 500001000ULL);
    ui_current(u)->sort_col = LAYOUT_COL_P50;
    ui_draw(u, &f.ui);
    assert_true(ui_stale(u));
    frame_build(&f, st, &in);
    ui_draw(u, &f.ui);
    assert_false(ui_stale(u));
    assert_int_equal(f.ui.rows->v[0].win.pending, 0);
    rows_clear(&fresh);
    rows_build_latency(&fresh, p, in.now_ns);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(f.ui.rows->v[i].win.p50_ns, fresh.v[i].win.p50_ns);
    }
    /* Since start shown (the w key): the frame lacks it, and the next has all of it. */
    u->since_start = true;
    assert_true(ui_frame_lacks(u));
    in.omit = ui_omit(u);
    frame_build(&f, st, &in);
    assert_false(ui_frame_lacks(u));
    for (size_t i = 0; i < 4; i++) {
        assert_true((f.ui.rows->v[i].flags & ROW_F_ALL) != 0);
        assert_int_equal(f.ui.rows->v[i].all.count, fresh.v[i].all.count);
        assert_int_equal(f.ui.rows->v[i].all.total_ns, fresh.v[i].all.total_ns);
        assert_int_equal(f.ui.rows->v[i].all.max_ns, fresh.v[i].all.max_ns);
        assert_ptr_equal(f.ui.rows->v[i].hist_all, fresh.v[i].hist_all);
    }
    u->since_start = false;
    /* Long after the last sample: an empty window, and the latest sample still there for
     * the LAST column (the same in both periods), though nothing since start is set. */
    in.omit = ui_omit(u);
    in.now_ns = 60 * SEC;
    frame_build(&f, st, &in);
    rows_clear(&fresh);
    rows_build_latency(&fresh, p, in.now_ns);
    for (size_t i = 0; i < 4; i++) {
        const struct row *r = &f.ui.rows->v[i];

        assert_int_equal(r->win.count, 0);
        assert_int_equal(r->flags & (ROW_F_WIN | ROW_F_ALL), 0);
        assert_true((r->flags & ROW_F_LAST) != 0);
        assert_true(r->win.last_ns > 0);
        assert_int_equal(r->win.last_ns, fresh.v[i].all.last_ns);
        assert_int_equal(fresh.v[i].win.last_ns, fresh.v[i].all.last_ns);
    }
    /* Frozen: built whole. */
    u->frozen = true;
    assert_int_equal(ui_omit(u), 0);
    in.omit = ui_omit(u);
    in.now_ns = 5 * SEC;
    frame_build(&f, st, &in);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(f.ui.rows->v[i].win.pending, 0);
        assert_int_equal(f.ui.rows->v[i].all.absent, 0);
    }
    ui_free(u);
    rows_done(&fresh);
    frame_done(&f);
    store_free(st);
    fclose(in_f);
    fclose(out_f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_12_status_rules_in_order),
        cmocka_unit_test(test_issue_12_frame_of_a_store),
        cmocka_unit_test(test_issue_13_lazy_frame),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
