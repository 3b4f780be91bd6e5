/* SPDX-License-Identifier: MIT */
/* make bench: the time to build the rows of a 10 000-row latency tree and draw one frame of
 * the display (flatten, sort, every window, doupdate) into an off-screen 200x60 terminal.
 * Static: the same store frame after frame. Live: before each frame every node of the tree
 * gets one more span, a second later than the last (as a workload stepping once per refresh),
 * so every node's figures change and the window, full, loses its oldest slot. Key: the redraw
 * a keypress causes (the loop draws the frame it has, rows unchanged).
 * --fan F builds a tree of 4 levels of F children (F + F^2 + F^3 + F^4 rows) instead of 10;
 * --mode static|live runs only that variant (for callgrind --toggle-collect=uf_frame). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/base/util.h"
#include "src/model/rows.h"
#include "src/model/store.h"
#include "ui/ui.h"

#define UF_FAN 10 /* 10 x 10 x 10 x 10 = 10 000 leaves, 11 110 rows */
#define UF_MAX_FAN 32
#define UF_RUNS 15
#define UF_LIVE_WARM 10U /* live steps before the timed ones: the 10 s window full */
#define UF_SEC 1000000000ULL

static int uf_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

struct uf_tree {
    struct store *st;
    struct store_proc *p;
    struct store_thread *t;
    uint32_t ids[UF_MAX_FAN];
    int fan;
};

/* One step of the workload from ts: one span per node of a tree of 4 levels of fan children,
 * the leaves' durations varying with their place and with the step number. Returns the time
 * of its last event. */
static uint64_t uf_step(struct uf_tree *w, uint64_t ts, unsigned step)
{
    const uint32_t *ids = w->ids;
    struct store_thread *t = w->t;
    int fan = w->fan;

    for (int a = 0; a < fan; a++) {
        store_span_begin(t, ids[a], ts++);
        for (int b = 0; b < fan; b++) {
            store_span_begin(t, ids[b], ts++);
            for (int c = 0; c < fan; c++) {
                store_span_begin(t, ids[c], ts++);
                for (int d = 0; d < fan; d++) {
                    store_span_begin(t, ids[d], ts);
                    ts += 1000 + (uint64_t)(a * 7 + b * 5 + c * 3 + d) * 10 +
                          (uint64_t)(step * (131U + (unsigned)(a + b + c + d) * 17U) % 997U);
                    store_span_end(t, ids[d], ts++);
                }
                store_span_end(t, ids[c], ts++);
            }
            store_span_end(t, ids[b], ts++);
        }
        store_span_end(t, ids[a], ts++);
    }
    return ts;
}

/* The store with one step at 100 s. */
static void uf_tree_init(struct uf_tree *w, int fan)
{
    char name[24];

    w->st = store_new(NULL);
    w->p = store_proc_add(w->st, 1, "bench");
    w->t = store_thread_add(w->p, 1, "main");
    w->fan = fan;
    for (int i = 0; i < fan; i++) {
        snprintf(name, sizeof(name), "node %d", i);
        w->ids[i] = store_proc_intern(w->p, name);
    }
    uf_step(w, 100 * UF_SEC, 0);
}

/* The thread's CPU time: on a loaded machine, time spent descheduled is not the frame's. */
static uint64_t uf_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct uf_ctx {
    struct ui *u;
    struct store_proc *p;
    struct rows rows, mem;
    struct rows_summary sum;
    bool have_sum;
};

/* One frame as the loop makes it on a tick: rows built from the store, then drawn. The
 * summary stays for the redraws until the next frame (as the loop keeps its frame). */
__attribute__((noinline)) static void uf_frame(struct uf_ctx *c, uint64_t now)
{
    struct ui_frame f = {.rows = &c->rows,
                         .memory = &c->mem,
                         .procs = &c->sum,
                         .nprocs = 1,
                         .window_ns = 10 * UF_SEC};
    struct rows_sort sort;

    if (c->have_sum) {
        rows_summary_done(&c->sum);
    }
    rows_clear(&c->mem);
    rows_build_summary(&c->sum, c->p, now);
    c->have_sum = true;
    /* As src/frame.c: the rows kept while the tree keeps its shape, without what the display
     * does not show. */
    ui_rows_sort(c->u, &sort);
    rows_want_keys(&c->rows, &sort);
    rows_update_latency(&c->rows, c->p, now, ui_omit(c->u));
    rows_build_memory(&c->mem, c->p, now);
    ui_draw(c->u, &f);
}

/* The redraw after a keypress: the last frame drawn again. */
__attribute__((noinline)) static void uf_redraw(struct uf_ctx *c)
{
    struct ui_frame f = {.rows = &c->rows,
                         .memory = &c->mem,
                         .procs = &c->sum,
                         .nprocs = 1,
                         .window_ns = 10 * UF_SEC};

    ui_draw(c->u, &f);
}

static void uf_report(const char *name, const char *what, uint64_t *t, size_t nrows, int fan)
{
    qsort(t, UF_RUNS, sizeof(t[0]), uf_cmp);
    if (fan == UF_FAN) {
        printf("BENCH %s %.3f ms median of %d (%s, %zu rows, 200x60) target=2\n", name,
               (double)t[UF_RUNS / 2] / 1e6, UF_RUNS, what, nrows);
    } else {
        printf("BENCH %s %zu rows %.3f ms median of %d (min %.3f max %.3f)\n", name, nrows,
               (double)t[UF_RUNS / 2] / 1e6, UF_RUNS, (double)t[0] / 1e6,
               (double)t[UF_RUNS - 1] / 1e6);
    }
}

int main(int argc, char **argv)
{
    struct uf_tree w;
    struct uf_ctx c;
    int fan = UF_FAN;
    bool run_static = true, run_live = true;
    FILE *in = fopen("/dev/null", "r"), *out = fopen("/dev/null", "w");
    struct ui_opts o = {.sort_col = LAYOUT_COL_P99,
                        .collapse_depth = 64,
                        .in = in,
                        .out = out,
                        .allow_not_tty = true,
                        .delay_ns = UF_SEC};
    uint64_t t[UF_RUNS], tk[UF_RUNS], now = 101 * UF_SEC, ts;
    char *err = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fan") == 0 && i + 1 < argc) {
            fan = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
            i++;
            run_static = strcmp(argv[i], "static") == 0;
            run_live = strcmp(argv[i], "live") == 0;
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            i++; /* bench/run gives every bench this; the frame count is fixed */
        }
    }
    if (fan < 1 || fan > UF_MAX_FAN) {
        fprintf(stderr, "ui_frame: --fan: 1 to %d\n", UF_MAX_FAN);
        return 2;
    }
    if (!run_static && !run_live) {
        fprintf(stderr, "ui_frame: --mode: static or live\n");
        return 2;
    }
    if (in == NULL || out == NULL) {
        perror("ui_frame: /dev/null");
        return 1;
    }
    uf_tree_init(&w, fan);
    setenv("TERM", "xterm-256color", 1);
    c.u = ui_new(&o, &err);
    if (c.u == NULL) {
        fprintf(stderr, "ui_frame: %s\n", err);
        return 1;
    }
    c.p = w.p;
    c.have_sum = false;
    ui_set_size(c.u, 200, 60);
    rows_init(&c.rows);
    rows_init(&c.mem);
    if (run_static) {
        for (int r = 0; r < UF_RUNS; r++) {
            uint64_t t0 = uf_cpu_ns();

            uf_frame(&c, now);
            t[r] = uf_cpu_ns() - t0;
            t0 = uf_cpu_ns();
            uf_redraw(&c);
            tk[r] = uf_cpu_ns() - t0;
        }
        uf_report(fan == UF_FAN ? "ui_frame_10k_rows" : "ui_frame_rows",
                  "rows build + flatten + sort + draw", t, c.rows.n, fan);
        uf_report(fan == UF_FAN ? "ui_frame_10k_rows_key" : "ui_frame_rows_key",
                  "a keypress's redraw of the frame's rows", tk, c.rows.n, fan);
    }
    if (run_live) {
        /* A step a second, from where the static store ended. The first UF_LIVE_WARM steps
         * (not timed, no frame) fill the window: at every timed step its oldest slot expires,
         * as in a workload running for longer than the window. */
        ts = 101 * UF_SEC;
        for (unsigned k = 1; k <= UF_LIVE_WARM; k++) {
            uf_step(&w, ts, k);
            ts += UF_SEC;
        }
        for (int r = 0; r < UF_RUNS; r++) {
            uint64_t t0;

            now = uf_step(&w, ts, (unsigned)r + 1U + UF_LIVE_WARM);
            ts += UF_SEC;
            t0 = uf_cpu_ns();
            uf_frame(&c, now);
            t[r] = uf_cpu_ns() - t0;
        }
        uf_report(fan == UF_FAN ? "ui_frame_10k_rows_live" : "ui_frame_rows_live",
                  "every node one more span before each frame: rows build + flatten + sort + draw",
                  t, c.rows.n, fan);
    }
    ui_free(c.u);
    if (c.have_sum) {
        rows_summary_done(&c.sum);
    }
    rows_done(&c.rows);
    rows_done(&c.mem);
    store_free(w.st);
    fclose(in);
    fclose(out);
    return 0;
}
