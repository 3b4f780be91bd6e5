/* SPDX-License-Identifier: MIT */
/* Benchmark: memory the store holds per timed row (since-start and window histograms) for a
 * tree shaped like the soak's tinylm (2 layers), fed for many window rotations, quiet and with
 * a preemption tail that spreads durations over four more decades. */
#include <malloc.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/model/hist.h"
#include "src/model/store.h"

#define BENCH_LAYERS 2
#define BENCH_PHASES 6
#define BENCH_STEPS_PER_SEC 4000U /* what tinylm does in the soak */
#define BENCH_SLOT_NS 1000000000ULL
#define BENCH_NSLOTS 10U
#define BENCH_GAP_NS 50U
#define BENCH_MAX_ROWS 32U
#define BENCH_TAIL_MAX 20000.0 /* a tail sample is up to this many times its median */

/* The same samples, kept beside the store the way the store keeps a row: one since-start
 * histogram and a ring of window slots (recycled when their second comes round again). */
struct bench_row {
    struct hist all;
    struct hist slot[BENCH_NSLOTS];
    uint64_t epoch[BENCH_NSLOTS];
};

struct bench {
    struct store_thread *t;
    struct bench_row rows[BENCH_MAX_ROWS];
    uint32_t nrows;
    uint64_t rng;
    double tail; /* probability that a leaf sample is in the tail */
    bool shadow; /* feed the shadow rows instead of the store (same samples) */
    size_t peak_win_bytes;
    size_t peak_all_bytes;
};

static const char *bench_phases[BENCH_PHASES] = {"attn_norm", "qkv",      "sdpa",
                                                 "o_proj",    "mlp_norm", "mlp"};
static const double bench_phase_ns[BENCH_PHASES] = {300, 8000, 6000, 3000, 300, 15000};

static double bench_unit(struct bench *b)
{
    /* xorshift64*: reproducible, no libc state. */
    b->rng ^= b->rng >> 12;
    b->rng ^= b->rng << 25;
    b->rng ^= b->rng >> 27;
    return (double)((b->rng * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* A leaf duration: log-normal around median_ns (sigma 0.25), sometimes a preemption tail. */
static uint64_t bench_draw(struct bench *b, double median_ns)
{
    double u1 = bench_unit(b) + 1e-12;
    double u2 = bench_unit(b);
    double z = sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
    double v = median_ns * exp(0.25 * z);

    if (bench_unit(b) < b->tail) {
        v *= exp(bench_unit(b) * log(BENCH_TAIL_MAX));
    }
    return v < 1.0 ? 1U : (uint64_t)v;
}

static void bench_row_add(struct bench *b, uint32_t row, uint64_t at_ns, uint64_t v_ns)
{
    struct bench_row *r = &b->rows[row];
    uint64_t ep = at_ns / BENCH_SLOT_NS;
    uint32_t i = (uint32_t)(ep % BENCH_NSLOTS);

    hist_add(&r->all, v_ns);
    if (r->epoch[i] != ep) {
        hist_reset(&r->slot[i]);
        r->epoch[i] = ep;
    }
    hist_add(&r->slot[i], v_ns);
}

/* One span that ends at begin + d: in the store and in the shadow rows. */
static void bench_span(struct bench *b, uint32_t name, uint32_t row, uint64_t begin_ns,
                       uint64_t end_ns)
{
    if (b->shadow) {
        bench_row_add(b, row, end_ns, end_ns - begin_ns);
    } else {
        store_span_end(b->t, name, end_ns);
    }
}

static void bench_leaf(struct bench *b, uint32_t name, uint32_t row, double median_ns, uint64_t *ts)
{
    uint64_t begin = *ts;

    if (!b->shadow) {
        store_span_begin(b->t, name, begin);
    }
    *ts += bench_draw(b, median_ns);
    bench_span(b, name, row, begin, *ts);
    *ts += BENCH_GAP_NS;
}

/* This process's resident anonymous memory (KiB), or 0 when /proc says nothing. */
static long bench_rss_anon_kib(void)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[128];
    long kib = 0;

    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "RssAnon: %ld", &kib) == 1) {
            break;
        }
    }
    fclose(f);
    return kib;
}

static void bench_sample_peaks(struct bench *b)
{
    size_t w = 0;
    size_t a = 0;

    for (uint32_t r = 0; r < b->nrows; r++) {
        a += hist_bytes(&b->rows[r].all);
        for (uint32_t i = 0; i < BENCH_NSLOTS; i++) {
            w += hist_bytes(&b->rows[r].slot[i]);
        }
    }
    if (w > b->peak_win_bytes) {
        b->peak_win_bytes = w;
    }
    if (a > b->peak_all_bytes) {
        b->peak_all_bytes = a;
    }
}

/* Feed seconds of workload time to a store (shadow false: its heap growth is measured) or to
 * the shadow rows (their histograms' bytes are measured), with the same samples. */
static void bench_run(const char *label, double tail, unsigned seconds, bool shadow)
{
    struct bench *b = calloc(1, sizeof(*b));
    struct store *st;
    struct store_proc *p;
    uint32_t step, emb, fwd, head, smp, blk[BENCH_LAYERS], ph[BENCH_PHASES];
    uint64_t ts = 1000000000ULL;
    uint64_t slot = ts / BENCH_SLOT_NS;
    size_t heap0;
    size_t heap1;
    char name[32];

    if (b == NULL) {
        fprintf(stderr, "hist_mem: out of memory\n");
        exit(1);
    }
    b->rng = 0x9e3779b97f4a7c15ULL;
    b->tail = tail;
    b->shadow = shadow;
    b->nrows = 5U + BENCH_LAYERS * (1U + BENCH_PHASES);
    for (uint32_t r = 0; r < b->nrows; r++) {
        hist_init(&b->rows[r].all);
        for (uint32_t i = 0; i < BENCH_NSLOTS; i++) {
            hist_init(&b->rows[r].slot[i]);
        }
    }
    st = store_new(NULL);
    p = store_proc_add(st, 1, "bench");
    b->t = store_thread_add(p, 1, "main");
    step = store_proc_intern(p, "step");
    emb = store_proc_intern(p, "embedding");
    fwd = store_proc_intern(p, "forward");
    head = store_proc_intern(p, "lm_head");
    smp = store_proc_intern(p, "sample");
    for (int l = 0; l < BENCH_LAYERS; l++) {
        snprintf(name, sizeof(name), "block %d", l);
        blk[l] = store_proc_intern(p, name);
    }
    for (int k = 0; k < BENCH_PHASES; k++) {
        ph[k] = store_proc_intern(p, bench_phases[k]);
    }
    heap0 = mallinfo2().uordblks;

    /* Rows: 0 step, 1 embedding, 2 forward, 3 lm_head, 4 sample, then per layer the block
     * and its phases. */
    for (uint64_t s = 0; s < (uint64_t)seconds * BENCH_STEPS_PER_SEC; s++) {
        uint64_t sched = 1000000000ULL + s * (BENCH_SLOT_NS / BENCH_STEPS_PER_SEC);
        uint64_t step_begin = ts > sched ? ts : sched;
        uint64_t fwd_begin;

        ts = step_begin;
        if (!b->shadow) {
            store_span_begin(b->t, step, ts);
        }
        ts += BENCH_GAP_NS;
        bench_leaf(b, emb, 1, 450, &ts);
        fwd_begin = ts;
        if (!b->shadow) {
            store_span_begin(b->t, fwd, ts);
        }
        for (uint32_t l = 0; l < BENCH_LAYERS; l++) {
            uint32_t brow = 5U + l * (1U + BENCH_PHASES);
            uint64_t blk_begin = ts;

            if (!b->shadow) {
                store_span_begin(b->t, blk[l], ts);
            }
            for (uint32_t k = 0; k < BENCH_PHASES; k++) {
                bench_leaf(b, ph[k], brow + 1U + k, bench_phase_ns[k], &ts);
            }
            bench_span(b, blk[l], brow, blk_begin, ts);
            ts += BENCH_GAP_NS;
        }
        bench_span(b, fwd, 2, fwd_begin, ts);
        ts += BENCH_GAP_NS;
        bench_leaf(b, head, 3, 20000, &ts);
        bench_leaf(b, smp, 4, 2000, &ts);
        bench_span(b, step, 0, step_begin, ts);
        ts += BENCH_GAP_NS;
        if (ts / BENCH_SLOT_NS != slot) {
            slot = ts / BENCH_SLOT_NS;
            bench_sample_peaks(b);
        }
    }
    bench_sample_peaks(b);
    heap1 = mallinfo2().uordblks;

    if (!shadow) {
        printf("BENCH hist_mem_%s_store_heap_per_row %zu B (%u rows, %u s at %u steps/s, "
               "tail %.1f %%)\n",
               label, heap1 > heap0 ? (heap1 - heap0) / b->nrows : 0, b->nrows, seconds,
               BENCH_STEPS_PER_SEC, tail * 100.0);
    } else {
        printf("BENCH hist_mem_%s_window_bytes_per_row %zu B (peak, %u slots)\n", label,
               b->peak_win_bytes / b->nrows, BENCH_NSLOTS);
        printf("BENCH hist_mem_%s_since_start_bytes_per_row %zu B (peak)\n", label,
               b->peak_all_bytes / b->nrows);
    }

    if (!shadow) {
        /* What the allocator gives back when a workload's statistics go (an exited workload
         * aged out), and so what the next run starts from. */
        long before = bench_rss_anon_kib();

        store_free(st);
        printf("BENCH hist_mem_%s_rss_anon_after_free %ld KiB (before the free %ld KiB, "
               "heap in use %zu KiB)\n",
               label, bench_rss_anon_kib(), before, mallinfo2().uordblks / 1024);
    } else {
        store_free(st);
    }
    for (uint32_t r = 0; r < b->nrows; r++) {
        hist_done(&b->rows[r].all);
        for (uint32_t i = 0; i < BENCH_NSLOTS; i++) {
            hist_done(&b->rows[r].slot[i]);
        }
    }
    free(b);
}

/* 100 000 distinct span paths (1000 parents of 100 leaves each, under one root span), each
 * leaf sampled 20 times over 20 s of workload time with a log-normal spread: the store's heap
 * per path, for issue 13's statement of memory at that many paths. */
static void bench_paths(void)
{
    enum { PARENTS = 1000, LEAVES = 100, ROUNDS = 20 };
    struct store_config cfg = {.max_nodes = 1U + 1U + PARENTS * (1U + LEAVES)};
    struct bench b = {.rng = 0x9e3779b97f4a7c15ULL};
    struct store *st = store_new(&cfg);
    struct store_proc *p = store_proc_add(st, 1, "bench");
    struct store_thread *t = store_thread_add(p, 1, "main");
    uint32_t root = store_proc_intern(p, "serve");
    uint32_t *par = malloc(PARENTS * sizeof(*par));
    uint32_t *leaf = malloc(LEAVES * sizeof(*leaf));
    uint64_t ts = 1000000000ULL;
    char name[32];
    size_t heap0;
    size_t heap1;

    if (par == NULL || leaf == NULL) {
        fprintf(stderr, "hist_mem: out of memory\n");
        exit(1);
    }
    for (int i = 0; i < PARENTS; i++) {
        snprintf(name, sizeof(name), "route %d", i);
        par[i] = store_proc_intern(p, name);
    }
    for (int i = 0; i < LEAVES; i++) {
        snprintf(name, sizeof(name), "op %d", i);
        leaf[i] = store_proc_intern(p, name);
    }
    heap0 = mallinfo2().uordblks;
    for (int r = 0; r < ROUNDS; r++) {
        /* One round a second of workload time: every path once. */
        uint64_t gap = 1000000000ULL / ((uint64_t)PARENTS * LEAVES);

        ts = 1000000000ULL * (uint64_t)(r + 1);
        store_span_begin(t, root, ts);
        for (int i = 0; i < PARENTS; i++) {
            store_span_begin(t, par[i], ts);
            for (int k = 0; k < LEAVES; k++) {
                uint64_t d = bench_draw(&b, 5000.0) % gap + 1U;

                store_span_begin(t, leaf[k], ts);
                store_span_end(t, leaf[k], ts + d);
                ts += gap;
            }
            store_span_end(t, par[i], ts);
        }
        store_span_end(t, root, ts);
    }
    heap1 = mallinfo2().uordblks;
    printf("BENCH hist_mem_paths_store_heap_per_path %zu B (%d paths, %d samples each over "
           "%d s)\n",
           (heap1 - heap0) / ((size_t)PARENTS * LEAVES), PARENTS * LEAVES, ROUNDS, ROUNDS);
    store_free(st);
    free(par);
    free(leaf);
}

int main(int argc, char **argv)
{
    unsigned seconds = 300;

    /* --seconds N: seconds of workload time fed (each one a window slot). */
    if (argc == 3 && strcmp(argv[1], "--seconds") == 0) {
        seconds = (unsigned)strtoul(argv[2], NULL, 10);
    }
    if (seconds < 2 * BENCH_NSLOTS) {
        seconds = 2 * BENCH_NSLOTS;
    }
    bench_run("quiet", 0.001, seconds, false);
    bench_run("quiet", 0.001, seconds, true);
    bench_run("loaded", 0.05, seconds, false);
    bench_run("loaded", 0.05, seconds, true);
    bench_paths();
    /* What a trim would return on top of that (nctop does not trim: freed blocks are
     * reused, as the second store's resident memory shows). */
    malloc_trim(0);
    printf("BENCH hist_mem_rss_anon_after_trim %ld KiB\n", bench_rss_anon_kib());
    return 0;
}
