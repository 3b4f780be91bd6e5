/* SPDX-License-Identifier: MIT */
/* Benchmark: nctop record's cost. Span events per second through the store with the record
 * writer observing (to a real file) next to the store alone, for a tinylm-shaped tree, and
 * the bytes per event. The ring drains at most some M events/s: recording must outrun it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "src/format/record.h"
#include "src/model/store.h"

#define BENCH_LAYERS 12
#define BENCH_PHASES 6
#define BENCH_STEPS 3000
#define BENCH_RUNS 5
#define BENCH_GAP_NS 50

/* The thread's CPU time: on a loaded machine, time spent descheduled is not the recorder's. */
static double bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* One run: events per second; with record, the bytes written go to *bytes. */
static double bench_run(bool record, uint64_t *events, uint64_t *bytes)
{
    struct store *st = store_new(NULL);
    FILE *f = record ? tmpfile() : NULL;
    struct record_writer *w = record ? record_writer_new(f, 0, 0) : NULL;
    struct store_proc *p;
    struct store_thread *t;
    uint32_t step, fwd, blk[BENCH_LAYERS], ph[BENCH_PHASES];
    uint64_t ts = 1000000000ULL, n = 0;
    double t0, t1;
    char name[32];

    if (w != NULL) {
        store_set_observer(st, record_writer_observe, w);
    }
    p = store_proc_add(st, 1, "bench");
    t = store_thread_add(p, 1, "main");
    step = store_proc_intern(p, "step");
    fwd = store_proc_intern(p, "forward");
    for (int i = 0; i < BENCH_LAYERS; i++) {
        snprintf(name, sizeof(name), "block %d", i);
        blk[i] = store_proc_intern(p, name);
    }
    for (int i = 0; i < BENCH_PHASES; i++) {
        snprintf(name, sizeof(name), "phase %d", i);
        ph[i] = store_proc_intern(p, name);
    }
    t0 = bench_now();
    for (int s = 0; s < BENCH_STEPS; s++) {
        store_span_begin(t, step, ts += BENCH_GAP_NS);
        store_span_begin(t, fwd, ts += BENCH_GAP_NS);
        for (int b = 0; b < BENCH_LAYERS; b++) {
            store_span_begin(t, blk[b], ts += BENCH_GAP_NS);
            for (int k = 0; k < BENCH_PHASES; k++) {
                store_span_begin(t, ph[k], ts += BENCH_GAP_NS);
                store_span_end(t, ph[k], ts += BENCH_GAP_NS);
                n += 2;
            }
            store_span_end(t, blk[b], ts += BENCH_GAP_NS);
            n += 2;
        }
        store_span_end(t, fwd, ts += BENCH_GAP_NS);
        store_span_end(t, step, ts += BENCH_GAP_NS);
        n += 4;
        if (w != NULL && s % 16 == 0) {
            record_writer_tick(w, ts); /* the loop ticks at each drain */
        }
    }
    if (w != NULL) {
        *bytes = record_writer_bytes(w);
        if (record_writer_free(w) != 0) {
            fprintf(stderr, "bench record: write error\n");
            exit(1);
        }
        fclose(f);
    }
    t1 = bench_now();
    store_free(st);
    *events = n;
    return (double)n / (t1 - t0);
}

int main(void)
{
    double with[BENCH_RUNS], without[BENCH_RUNS];
    uint64_t events = 0, bytes = 0;

    for (int r = 0; r < BENCH_RUNS; r++) {
        without[r] = bench_run(false, &events, &bytes);
        with[r] = bench_run(true, &events, &bytes);
    }
    qsort(with, BENCH_RUNS, sizeof(with[0]), bench_cmp);
    qsort(without, BENCH_RUNS, sizeof(without[0]), bench_cmp);
    printf("BENCH record_events_per_sec %.0f events/s baseline=%.0f (store only) ratio=%.3f\n",
           with[BENCH_RUNS / 2], without[BENCH_RUNS / 2],
           with[BENCH_RUNS / 2] / without[BENCH_RUNS / 2]);
    printf("BENCH record_bytes_per_event %.2f bytes\n", (double)bytes / (double)events);
    return 0;
}
