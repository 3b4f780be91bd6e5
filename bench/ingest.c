/* SPDX-License-Identifier: MIT */
/* nctop's ingest: records decoded from a real libnctop ring and aggregated into the store per
 * second on one core, and the drops while a producer emits 5 M events/s with the reader
 * draining at the period nctop's ring source chooses (ring_cadence_next). */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collectors/ring.h"
#include "nctop.h"
#include "src/base/util.h"
#include "src/libnctop/segment.h"
#include "src/model/rows.h"
#include "src/model/store.h"

#define BENCH_RUNS 7
#define BENCH_LAYERS 8
#define BENCH_PHASES 7

static uint32_t bench_ids[3 + BENCH_LAYERS + BENCH_PHASES];

static void bench_names(void)
{
    static const char *const phases[BENCH_PHASES] = {"attn_norm", "qkv",      "rope", "sdpa",
                                                     "o_proj",    "mlp_norm", "mlp"};
    char name[32];

    bench_ids[0] = nctop_name("step");
    bench_ids[1] = nctop_name("forward");
    bench_ids[2] = nctop_name("output");
    for (int i = 0; i < BENCH_LAYERS; i++) {
        snprintf(name, sizeof(name), "block %d", i);
        bench_ids[3 + i] = nctop_name(name);
    }
    for (int i = 0; i < BENCH_PHASES; i++) {
        bench_ids[3 + BENCH_LAYERS + i] = nctop_name(phases[i]);
    }
}

/* One tinylm-shaped step: 2 * (2 + 8 * (1 + 7) + 1) = 134 span events. */
static uint64_t bench_step(void)
{
    nctop_span_begin(bench_ids[0]);
    nctop_span_begin(bench_ids[1]);
    for (int b = 0; b < BENCH_LAYERS; b++) {
        nctop_span_begin(bench_ids[3 + b]);
        for (int p = 0; p < BENCH_PHASES; p++) {
            nctop_span_begin(bench_ids[3 + BENCH_LAYERS + p]);
            nctop_span_end(bench_ids[3 + BENCH_LAYERS + p]);
        }
        nctop_span_end(bench_ids[3 + b]);
    }
    nctop_span_end(bench_ids[1]);
    nctop_span_begin(bench_ids[2]);
    nctop_span_end(bench_ids[2]);
    nctop_span_end(bench_ids[0]);
    return 2 * (2 + BENCH_LAYERS * (1 + BENCH_PHASES) + 1);
}

static int bench_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* The thread's CPU time: a drain's cost, not the time others ran meanwhile. */
static uint64_t bench_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Decode throughput: fill the ring (not timed), drain it (timed in CPU time), many times. */
static double bench_decode_rate(struct ring_source *rs, uint64_t ring_events)
{
    uint64_t records = 0, ns = 0;

    for (int round = 0; round < 20; round++) {
        uint64_t t0, n = 0;

        while (n + 200 < ring_events) {
            n += bench_step();
        }
        t0 = bench_cpu_ns();
        records += ring_source_drain(rs, util_mono_ns());
        ns += bench_cpu_ns() - t0;
    }
    return (double)records / ((double)ns / 1e9);
}

/* The realistic mix: the same spans (4 deep), a kernel record inside each phase (its name
 * and a backend) and a KV-cache gauge update per block (gauges are segment facts, not
 * records: they cost the drain nothing per event). 134 span + 56 kernel records. */
static uint32_t bench_kernel_ids[BENCH_PHASES], bench_backend, bench_gauge;

static void bench_mix_names(void)
{
    char name[32];

    for (int i = 0; i < BENCH_PHASES; i++) {
        snprintf(name, sizeof(name), "gemm_%d", i);
        bench_kernel_ids[i] = nctop_name(name);
    }
    bench_backend = nctop_name("cpu");
    bench_gauge = nctop_gauge("kv cache", NCTOP_MEM_KV_CACHE, 0);
}

#define BENCH_MIX_RECORDS                                                                          \
    (2 * (2 + BENCH_LAYERS * (1 + BENCH_PHASES) + 1) + BENCH_LAYERS * BENCH_PHASES)
#define BENCH_MIX_BYTES                                                                            \
    (2 * (2 + BENCH_LAYERS * (1 + BENCH_PHASES) + 1) * 16 + BENCH_LAYERS * BENCH_PHASES * 32)

static uint64_t bench_mix_step(void)
{
    nctop_span_begin(bench_ids[0]);
    nctop_span_begin(bench_ids[1]);
    for (int b = 0; b < BENCH_LAYERS; b++) {
        nctop_span_begin(bench_ids[3 + b]);
        for (int p = 0; p < BENCH_PHASES; p++) {
            uint64_t t0 = nctop_now_ns();

            nctop_span_begin(bench_ids[3 + BENCH_LAYERS + p]);
            nctop_kernel(bench_kernel_ids[p], bench_backend, t0, 100 + (uint64_t)p * 37);
            nctop_span_end(bench_ids[3 + BENCH_LAYERS + p]);
        }
        nctop_gauge_set(bench_gauge, (uint64_t)(b + 1) << 20, 64ULL << 20);
        nctop_span_end(bench_ids[3 + b]);
    }
    nctop_span_end(bench_ids[1]);
    nctop_span_begin(bench_ids[2]);
    nctop_span_end(bench_ids[2]);
    nctop_span_end(bench_ids[0]);
    return BENCH_MIX_RECORDS;
}

/* The second workload thread of the mix: fills its own ring when asked. */
struct bench_mix_worker {
    pthread_barrier_t go, done;
    uint64_t steps;
    atomic_bool stop;
};

static void *bench_mix_thread(void *arg)
{
    struct bench_mix_worker *w = arg;

    nctop_thread_name("bench-mix-2");
    for (;;) {
        pthread_barrier_wait(&w->go);
        if (atomic_load(&w->stop)) {
            return NULL;
        }
        for (uint64_t i = 0; i < w->steps; i++) {
            bench_mix_step();
        }
        pthread_barrier_wait(&w->done);
    }
}

/* The mix on 2 threads: both rings filled (not timed), then drained (timed in CPU time). */
static double bench_mix_rate(struct ring_source *rs, struct bench_mix_worker *w)
{
    uint64_t records = 0, ns = 0;

    for (int round = 0; round < 20; round++) {
        uint64_t t0;

        pthread_barrier_wait(&w->go);
        for (uint64_t i = 0; i < w->steps; i++) {
            bench_mix_step();
        }
        pthread_barrier_wait(&w->done);
        t0 = bench_cpu_ns();
        records += ring_source_drain(rs, util_mono_ns());
        ns += bench_cpu_ns() - t0;
    }
    return (double)records / ((double)ns / 1e9);
}

struct bench_paced {
    atomic_bool stop;
    double rate; /* events per second */
    uint64_t emitted;
};

/* Emit at a fixed rate, in bursts of one step, sleeping between bursts. */
static void *bench_paced_producer(void *arg)
{
    struct bench_paced *bp = arg;
    uint64_t start = util_mono_ns();

    nctop_thread_name("bench-producer");
    while (!atomic_load(&bp->stop)) {
        uint64_t due = start + (uint64_t)((double)bp->emitted / bp->rate * 1e9);
        uint64_t now = util_mono_ns();

        if (now < due) {
            struct timespec ts = {0, (long)(due - now < 200000 ? due - now : 200000)};

            nanosleep(&ts, NULL);
            continue;
        }
        bp->emitted += bench_step();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    double seconds = 30, rates[BENCH_RUNS];
    char pid[32];
    int32_t self;
    struct ring_source_opts opts;
    struct store *st;
    struct ring_source *rs;
    struct rows_summary sum;
    struct bench_paced bp;
    pthread_t th;
    uint64_t period_ms, last, periods = 0, drains = 0;
    struct ring_cadence cad;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            seconds = atof(argv[++i]);
        }
    }
    /* This process is both the workload and its reader: hand the segment to ourselves. */
    snprintf(pid, sizeof(pid), "%d", (int)getpid());
    setenv("NCTOP_READER", pid, 1);
    bench_names();
    self = (int32_t)getpid();
    opts = (struct ring_source_opts){.pids = &self, .npids = 1};

    for (int run = 0; run < BENCH_RUNS; run++) {
        st = store_new(NULL);
        rs = ring_source_new(st, &opts);
        ring_source_scan(rs, util_mono_ns());
        rates[run] = bench_decode_rate(rs, NCTOP_SEG_DEFAULT_RING_BYTES / 16);
        ring_source_free(rs);
        store_free(st);
    }
    qsort(rates, BENCH_RUNS, sizeof(rates[0]), bench_cmp);
    printf("BENCH ingest_events_per_sec %.0f events/s (median of %d; min %.0f max %.0f)\n",
           rates[BENCH_RUNS / 2], BENCH_RUNS, rates[0], rates[BENCH_RUNS - 1]);

    /* The realistic mix: spans 4 deep, kernels, gauge updates, 2 threads. */
    {
        struct bench_mix_worker w;
        pthread_t wt;

        memset(&w, 0, sizeof(w));
        bench_mix_names();
        /* Each thread fills its ring to 3/4: nothing dropped. */
        w.steps = NCTOP_SEG_DEFAULT_RING_BYTES * 3 / 4 / BENCH_MIX_BYTES;
        pthread_barrier_init(&w.go, NULL, 2);
        pthread_barrier_init(&w.done, NULL, 2);
        if (pthread_create(&wt, NULL, bench_mix_thread, &w) != 0) {
            perror("pthread_create");
            return 1;
        }
        for (int run = 0; run < BENCH_RUNS; run++) {
            st = store_new(NULL);
            rs = ring_source_new(st, &opts);
            ring_source_scan(rs, util_mono_ns());
            rates[run] = bench_mix_rate(rs, &w);
            ring_source_free(rs);
            store_free(st);
        }
        atomic_store(&w.stop, true);
        pthread_barrier_wait(&w.go);
        pthread_join(wt, NULL);
        pthread_barrier_destroy(&w.go);
        pthread_barrier_destroy(&w.done);
        qsort(rates, BENCH_RUNS, sizeof(rates[0]), bench_cmp);
        printf("BENCH ingest_mix_events_per_sec %.0f events/s (median of %d; min %.0f max %.0f; "
               "spans 4 deep, kernels, gauge updates, 2 threads)\n",
               rates[BENCH_RUNS / 2], BENCH_RUNS, rates[0], rates[BENCH_RUNS - 1]);
    }

    /* Drops at 5 M events/s with nctop's adaptive drain period and the default ring. */
    st = store_new(NULL);
    rs = ring_source_new(st, &opts);
    ring_source_scan(rs, util_mono_ns());
    memset(&bp, 0, sizeof(bp));
    bp.rate = 5e6;
    if (pthread_create(&th, NULL, bench_paced_producer, &bp) != 0) {
        perror("pthread_create");
        return 1;
    }
    ring_cadence_init(&cad);
    period_ms = cad.period_ms;
    last = util_mono_ns();
    for (uint64_t end = last + (uint64_t)(seconds * 1e9); util_mono_ns() < end;) {
        struct timespec ts = {0, (long)(period_ms * 1000 * 1000)};
        uint64_t now;

        nanosleep(&ts, NULL);
        now = util_mono_ns();
        ring_source_drain(rs, now);
        period_ms = ring_cadence_next(&cad, now - last, ring_source_fill(rs));
        last = now;
        periods += period_ms;
        drains++;
    }
    atomic_store(&bp.stop, true);
    pthread_join(th, NULL);
    ring_source_drain(rs, util_mono_ns());
    rows_build_summary(&sum, store_proc_at(st, 0), util_mono_ns());
    printf("BENCH ingest_paced_5M_drops %llu events (of %llu emitted in %.0f s; target 0)\n",
           (unsigned long long)sum.dropped, (unsigned long long)bp.emitted, seconds);
    printf("BENCH ingest_paced_5M_rate %.0f events/s (mean drain period %.1f ms)\n",
           (double)bp.emitted / seconds, drains > 0 ? (double)periods / (double)drains : 0.0);
    rows_summary_done(&sum);
    ring_source_free(rs);
    store_free(st);
    return 0;
}
