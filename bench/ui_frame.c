/* SPDX-License-Identifier: MIT */
/* make bench: the time to build the rows of a 10 000-row latency tree and draw one frame of
 * the display (flatten, sort, every window, doupdate) into an off-screen 200x60 terminal.
 * --fan F builds a tree of 4 levels of F children (F + F^2 + F^3 + F^4 rows) instead of 10. */
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
#define UF_SEC 1000000000ULL

static int uf_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* A tree of 4 levels of UF_FAN children each, one span per node, in one step at 100 s. */
static struct store *uf_store(struct store_proc **out, int fan)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "bench");
    struct store_thread *t = store_thread_add(p, 1, "main");
    uint32_t ids[UF_MAX_FAN];
    uint64_t ts = 100 * UF_SEC;
    char name[24];

    for (int i = 0; i < fan; i++) {
        snprintf(name, sizeof(name), "node %d", i);
        ids[i] = store_proc_intern(p, name);
    }
    for (int a = 0; a < fan; a++) {
        store_span_begin(t, ids[a], ts++);
        for (int b = 0; b < fan; b++) {
            store_span_begin(t, ids[b], ts++);
            for (int c = 0; c < fan; c++) {
                store_span_begin(t, ids[c], ts++);
                for (int d = 0; d < fan; d++) {
                    store_span_begin(t, ids[d], ts);
                    ts += 1000 + (uint64_t)(a * 7 + b * 5 + c * 3 + d) * 10;
                    store_span_end(t, ids[d], ts++);
                }
                store_span_end(t, ids[c], ts++);
            }
            store_span_end(t, ids[b], ts++);
        }
        store_span_end(t, ids[a], ts++);
    }
    *out = p;
    return st;
}

/* The thread's CPU time: on a loaded machine, time spent descheduled is not the frame's. */
static uint64_t uf_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    struct store_proc *p;
    struct store *st;
    int fan = UF_FAN;
    FILE *in = fopen("/dev/null", "r"), *out = fopen("/dev/null", "w");
    struct ui_opts o = {.sort_col = LAYOUT_COL_P99,
                        .collapse_depth = 64,
                        .in = in,
                        .out = out,
                        .allow_not_tty = true,
                        .delay_ns = UF_SEC};
    uint64_t t[UF_RUNS], now = 101 * UF_SEC;
    struct rows rows, mem;
    struct rows_summary sum;
    struct ui *u;
    char *err = NULL;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--fan") == 0 && i + 1 < argc) {
            fan = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            i++; /* bench/run gives every bench this; the frame count is fixed */
        }
    }
    if (fan < 1 || fan > UF_MAX_FAN) {
        fprintf(stderr, "ui_frame: --fan: 1 to %d\n", UF_MAX_FAN);
        return 2;
    }
    if (in == NULL || out == NULL) {
        perror("ui_frame: /dev/null");
        return 1;
    }
    st = uf_store(&p, fan);
    setenv("TERM", "xterm-256color", 1);
    u = ui_new(&o, &err);
    if (u == NULL) {
        fprintf(stderr, "ui_frame: %s\n", err);
        return 1;
    }
    ui_set_size(u, 200, 60);
    rows_init(&rows);
    rows_init(&mem);
    for (int r = 0; r < UF_RUNS; r++) {
        uint64_t t0 = uf_cpu_ns();
        struct ui_frame f = {
            .rows = &rows, .memory = &mem, .procs = &sum, .nprocs = 1, .window_ns = 10 * UF_SEC};

        rows_clear(&rows);
        rows_clear(&mem);
        rows_build_summary(&sum, p, now);
        rows_build_latency(&rows, p, now);
        rows_build_memory(&mem, p, now);
        ui_draw(u, &f);
        t[r] = uf_cpu_ns() - t0;
        rows_summary_done(&sum);
    }
    qsort(t, UF_RUNS, sizeof(t[0]), uf_cmp);
    if (fan == UF_FAN) {
        printf("BENCH ui_frame_10k_rows %.3f ms median of %d (rows build + flatten + sort + "
               "draw, %zu rows, 200x60) target=2\n",
               (double)t[UF_RUNS / 2] / 1e6, UF_RUNS, rows.n);
    } else {
        printf("BENCH ui_frame_rows %zu rows %.3f ms median of %d (min %.3f max %.3f)\n", rows.n,
               (double)t[UF_RUNS / 2] / 1e6, UF_RUNS, (double)t[0] / 1e6,
               (double)t[UF_RUNS - 1] / 1e6);
    }
    ui_free(u);
    rows_done(&rows);
    rows_done(&mem);
    store_free(st);
    fclose(in);
    fclose(out);
    return 0;
}
