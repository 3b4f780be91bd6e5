/* SPDX-License-Identifier: MIT */
/* Benchmark: span begin/end events per second into the store on one core, for a tree shaped
 * like the tinylm decoder (step / forward / block i / phase). Prints the median of 7 runs. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "src/model/store.h"

#define BENCH_LAYERS 12
#define BENCH_PHASES 6
#define BENCH_STEPS 4000
#define BENCH_RUNS 7
#define BENCH_EVENT_GAP_NS 50 /* virtual time between events: 20 M events/s of workload */

struct bench_event {
    uint32_t name;
    uint32_t begin; /* 1: begin, 0: end */
    uint64_t ts_ns;
};

static const char *bench_phases[BENCH_PHASES] = {"attn_norm", "qkv",      "sdpa",
                                                 "o_proj",    "mlp_norm", "mlp"};

/* The thread's CPU time: on a loaded machine, time spent descheduled is not the store's. */
static double bench_now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void bench_push(struct bench_event *ev, size_t *n, uint32_t name, uint32_t begin,
                       uint64_t *ts)
{
    ev[*n].name = name;
    ev[*n].begin = begin;
    ev[*n].ts_ns = *ts;
    (*n)++;
    *ts += BENCH_EVENT_GAP_NS;
}

int main(void)
{
    size_t per_step = 2U * (2U + BENCH_LAYERS * (1U + BENCH_PHASES));
    size_t cap = per_step * BENCH_STEPS;
    struct bench_event *ev = malloc(cap * sizeof(*ev));
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "bench");
    struct store_thread *t = store_thread_add(p, 1, "main");
    uint32_t step = store_proc_intern(p, "step");
    uint32_t fwd = store_proc_intern(p, "forward");
    uint32_t blk[BENCH_LAYERS];
    uint32_t ph[BENCH_PHASES];
    double rate[BENCH_RUNS];
    uint64_t ts = 1000000000ULL;
    uint64_t span_ns;
    char name[32];
    size_t n = 0;
    size_t i;
    int run;
    int s;
    int l;
    int k;

    if (ev == NULL) {
        fprintf(stderr, "store_ingest: out of memory\n");
        return 1;
    }
    for (l = 0; l < BENCH_LAYERS; l++) {
        snprintf(name, sizeof(name), "block %d", l);
        blk[l] = store_proc_intern(p, name);
    }
    for (k = 0; k < BENCH_PHASES; k++) {
        ph[k] = store_proc_intern(p, bench_phases[k]);
    }
    /* Pre-generate the events so that only the store is timed. */
    for (s = 0; s < BENCH_STEPS; s++) {
        bench_push(ev, &n, step, 1, &ts);
        bench_push(ev, &n, fwd, 1, &ts);
        for (l = 0; l < BENCH_LAYERS; l++) {
            bench_push(ev, &n, blk[l], 1, &ts);
            for (k = 0; k < BENCH_PHASES; k++) {
                bench_push(ev, &n, ph[k], 1, &ts);
                bench_push(ev, &n, ph[k], 0, &ts);
            }
            bench_push(ev, &n, blk[l], 0, &ts);
        }
        bench_push(ev, &n, fwd, 0, &ts);
        bench_push(ev, &n, step, 0, &ts);
    }
    span_ns = ts;

    /* One untimed pass creates the nodes and window slots; then steady state. Each run
     * shifts time forward so the rolling window keeps turning over. */
    for (run = -1; run < BENCH_RUNS; run++) {
        uint64_t off = (uint64_t)(run + 1) * span_ns;
        double t0 = bench_now_sec();
        double dt;

        for (i = 0; i < n; i++) {
            if (ev[i].begin) {
                store_span_begin(t, ev[i].name, ev[i].ts_ns + off);
            } else {
                store_span_end(t, ev[i].name, ev[i].ts_ns + off);
            }
        }
        dt = bench_now_sec() - t0;
        if (run >= 0) {
            rate[run] = (double)n / dt;
        }
    }
    qsort(rate, BENCH_RUNS, sizeof(rate[0]), bench_cmp_double);
    printf("BENCH store_ingest_events_per_sec %.0f events/s\n", rate[BENCH_RUNS / 2]);
    store_free(st);
    free(ev);
    return 0;
}
