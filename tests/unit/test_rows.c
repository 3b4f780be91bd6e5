/* SPDX-License-Identifier: MIT */
/* Unit tests of the row builder: the latency, memory and kernel rows and the summary of a
 * known store, string stability across builds, and a 10 000-node tree. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "src/base/hash.h"
#include "src/model/rows.h"
#include "src/model/store.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

static uint64_t fnv1a(const char *s)
{
    return hash_bytes(HASH_SEED, s, strlen(s));
}

static const struct row *find_row(const struct rows *r, const char *path)
{
    size_t i;

    for (i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].path, path) == 0) {
            return &r->v[i];
        }
    }
    fail_msg("no row %s", path);
    return NULL;
}

/* One span on thread t from begin_ns to end_ns. */
static void span(struct store_thread *t, uint32_t id, uint64_t begin_ns, uint64_t end_ns)
{
    store_span_begin(t, id, begin_ns);
    store_span_end(t, id, end_ns);
}

/*
 * A known store. At 100 s + i * 100 ms (i < 10) one step of 60 ms:
 *   step [0, 60) { forward [0, 50) { block0 [0, 20) { attn [0, 15), mlp [15, 20) },
 *                                    block1 [20, 50) },
 *                  sample [50, 60) }
 * and "load" once at 10 s (out of the window at 101 s), 500 ms long.
 */
static struct store *make_store(struct store_proc **out)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 7, "tinylm");
    struct store_thread *t = store_thread_add(p, 7, "main");
    uint32_t load = store_proc_intern(p, "load");
    uint32_t step = store_proc_intern(p, "step");
    uint32_t fwd = store_proc_intern(p, "forward");
    uint32_t b0 = store_proc_intern(p, "block0");
    uint32_t b1 = store_proc_intern(p, "block1");
    uint32_t attn = store_proc_intern(p, "attn");
    uint32_t mlp = store_proc_intern(p, "mlp");
    uint32_t smp = store_proc_intern(p, "sample");
    int i;

    span(t, load, 10 * SEC, 10 * SEC + 500 * MS);
    for (i = 0; i < 10; i++) {
        uint64_t s0 = 100 * SEC + (uint64_t)i * 100 * MS;

        store_span_begin(t, step, s0);
        store_span_begin(t, fwd, s0);
        store_span_begin(t, b0, s0);
        store_span_begin(t, attn, s0);
        store_mem_delta(t, 4096, s0 + MS);
        store_span_end(t, attn, s0 + 15 * MS);
        span(t, mlp, s0 + 15 * MS, s0 + 20 * MS);
        store_span_end(t, b0, s0 + 20 * MS);
        span(t, b1, s0 + 20 * MS, s0 + 50 * MS);
        store_span_end(t, fwd, s0 + 50 * MS);
        span(t, smp, s0 + 50 * MS, s0 + 60 * MS);
        store_span_end(t, step, s0 + 60 * MS);
    }
    *out = p;
    return st;
}

static void test_latency_rows(void **state)
{
    static const char *paths[] = {
        "load",
        "step",
        "step/forward",
        "step/forward/block0",
        "step/forward/block0/attn",
        "step/forward/block0/mlp",
        "step/forward/block1",
        "step/sample",
    };
    static const uint16_t levels[] = {0, 0, 1, 2, 3, 3, 2, 1};
    static const uint32_t nchildren[] = {0, 2, 2, 2, 0, 0, 0, 0};
    struct store_proc *p;
    struct store *st = make_store(&p);
    uint64_t now = 101 * SEC;
    struct rows r;
    const struct row *row;
    size_t i;

    (void)state;
    rows_init(&r);
    rows_build_latency(&r, p, now);
    assert_int_equal(r.n, 8);
    for (i = 0; i < r.n; i++) {
        const char *slash = strrchr(paths[i], '/');

        assert_string_equal(r.v[i].path, paths[i]);
        assert_string_equal(r.v[i].label, slash != NULL ? slash + 1 : paths[i]);
        assert_int_equal(r.v[i].level, levels[i]);
        assert_int_equal(r.v[i].nchildren, nchildren[i]);
        assert_int_equal(r.v[i].kind, ROW_LATENCY);
        assert_int_equal(r.v[i].path_hash, fnv1a(paths[i]));
    }

    /* load ran long before the window: since-start stats only, no window, share 0 % (its
     * parent, the top level, has window time). */
    row = find_row(&r, "load");
    assert_int_equal(row->flags & (ROW_F_WIN | ROW_F_ALL), ROW_F_ALL);
    assert_int_equal(row->all.count, 1);
    assert_int_equal(row->all.total_ns, 500 * MS);
    assert_int_equal(row->all.last_ns, 500 * MS);
    assert_int_equal(row->win.count, 0);
    assert_true((row->flags & ROW_F_SHARE) != 0);
    assert_true(row->share_pct == 0.0);

    row = find_row(&r, "step");
    assert_int_equal(row->flags & (ROW_F_WIN | ROW_F_ALL | ROW_F_SHARE),
                     ROW_F_WIN | ROW_F_ALL | ROW_F_SHARE);
    assert_int_equal(row->win.count, 10);
    assert_int_equal(row->win.total_ns, 600 * MS);
    assert_int_equal(row->win.mean_ns, 60 * MS);
    assert_int_equal(row->win.min_ns, 60 * MS);
    assert_int_equal(row->win.max_ns, 60 * MS);
    assert_int_equal(row->win.p50_ns, 60 * MS);
    assert_int_equal(row->win.p99_ns, 60 * MS);
    assert_int_equal(row->all.count, 10);
    assert_true(row->share_pct > 99.999 && row->share_pct < 100.001);

    /* Children that cover their parent share 100 % between them. */
    {
        double fw = find_row(&r, "step/forward")->share_pct;
        double sa = find_row(&r, "step/sample")->share_pct;
        double b0 = find_row(&r, "step/forward/block0")->share_pct;
        double b1 = find_row(&r, "step/forward/block1")->share_pct;
        double at = find_row(&r, "step/forward/block0/attn")->share_pct;
        double ml = find_row(&r, "step/forward/block0/mlp")->share_pct;

        assert_true(fw > 83.33 && fw < 83.34);
        assert_true(sa > 16.66 && sa < 16.67);
        assert_true(fabs(fw + sa - 100.0) < 1e-9);
        assert_true(fabs(b0 + b1 - 100.0) < 1e-9);
        assert_true(fabs(at + ml - 100.0) < 1e-9);
        assert_true(fabs(at - 75.0) < 1e-9);
    }

    /* Far later, nothing is in the window: no WIN and no SHARE bits, never fake zeros. */
    rows_clear(&r);
    rows_build_latency(&r, p, 500 * SEC);
    assert_int_equal(r.n, 8);
    for (i = 0; i < r.n; i++) {
        assert_int_equal(r.v[i].flags, ROW_F_ALL);
    }
    rows_done(&r);
    store_free(st);
}

static void test_kernel_rows(void **state)
{
    struct store_proc *p;
    struct store *st = make_store(&p);
    uint32_t gemm = store_proc_intern(p, "gemm");
    uint32_t cpu = store_proc_intern(p, "cpu");
    uint32_t cuda = store_proc_intern(p, "cuda");
    struct rows r;
    int i;

    (void)state;
    /* 150 ms of gemm on cpu in the window: 25 % of the 600 ms of top-level time. */
    for (i = 0; i < 10; i++) {
        store_kernel(p, gemm, cpu, 100 * SEC + (uint64_t)i * 100 * MS, 15 * MS);
    }
    store_kernel(p, gemm, cuda, 5 * SEC, 2 * MS);
    rows_init(&r);
    rows_build_kernels(&r, p, 101 * SEC);
    assert_int_equal(r.n, 2);
    assert_string_equal(r.v[0].label, "gemm");
    assert_string_equal(r.v[0].path, "cpu/gemm");
    assert_string_equal(r.v[0].backend, "cpu");
    assert_int_equal(r.v[0].level, 0);
    assert_int_equal(r.v[0].kind, ROW_KERNEL);
    assert_int_equal(r.v[0].path_hash, fnv1a("cpu/gemm"));
    assert_int_equal(r.v[0].win.count, 10);
    assert_int_equal(r.v[0].win.total_ns, 150 * MS);
    assert_true(fabs(r.v[0].share_pct - 25.0) < 1e-9);
    assert_string_equal(r.v[1].path, "cuda/gemm");
    assert_string_equal(r.v[1].backend, "cuda");
    assert_int_equal(r.v[1].flags & (ROW_F_WIN | ROW_F_ALL), ROW_F_ALL);
    assert_int_equal(r.v[1].all.total_ns, 2 * MS);
    rows_done(&r);
    store_free(st);
}

static void test_memory_rows(void **state)
{
    struct store_proc *p;
    struct store *st = make_store(&p);
    struct rows r;
    const struct row *row;
    static const char *order[] = {
        "Model Weights",
        "Model Weights/embed",
        "Model Weights/layers",
        "Model Weights/layers/0",
        "Model Weights/layers/0/mlp",
        "Model Weights/layers/0/mlp/up_proj",
        "Model Weights/layers/0/mlp/down_proj",
        "Model Weights/layers/1",
        "Model Weights/layers/1/mlp",
        "Model Weights/layers/1/mlp/up_proj",
        "Memory Pools",
        "Memory Pools/arena",
        "Memory Pools/gpu pool",
        "KV Cache",
        "KV Cache/kv",
        "Host Memory",
        "Host Memory/Tracked Host Memory",
        "Host Memory/Unattributed Host Memory",
        "Scope Deltas",
        "Scope Deltas/step",
        "Scope Deltas/step/forward",
        "Scope Deltas/step/forward/block0",
        "Scope Deltas/step/forward/block0/attn",
    };
    size_t i;

    (void)state;
    store_weight_set(p, store_proc_intern(p, "embed"), 0, 1000);
    store_weight_set(p, store_proc_intern(p, "layers.0.mlp.up_proj"), 0, 200);
    store_weight_set(p, store_proc_intern(p, "layers.0.mlp.down_proj"), 0, 300);
    store_weight_set(p, store_proc_intern(p, "layers.1.mlp.up_proj"), STORE_MEM_DEVICE, 400);
    store_weight_set(p, store_proc_intern(p, "gone"), 0, 50);
    store_weight_set(p, store_proc_intern(p, "gone"), 0, 0);
    store_gauge_set(p, store_proc_intern(p, "arena"), STORE_MEM_POOL, 0, 3000, 8000, 5000);
    store_gauge_set(p, store_proc_intern(p, "gpu pool"), STORE_MEM_POOL, STORE_MEM_DEVICE, 7000, 0,
                    0);
    store_gauge_set(p, store_proc_intern(p, "kv"), STORE_MEM_KV_CACHE, 0, 2000, 0, 2500);
    store_proc_set_host(p, 100000, 150000, 0, 100 * SEC);

    rows_init(&r);
    rows_build_memory(&r, p, 101 * SEC);
    assert_int_equal(r.n, sizeof(order) / sizeof(order[0]));
    for (i = 0; i < r.n; i++) {
        assert_string_equal(r.v[i].path, order[i]);
        assert_int_equal(r.v[i].kind, ROW_MEMORY);
        assert_int_equal(r.v[i].path_hash, fnv1a(order[i]));
    }

    /* Interior weight nodes are sums. */
    row = find_row(&r, "Model Weights");
    assert_int_equal(row->bytes, 1900);
    assert_int_equal(row->level, 0);
    assert_int_equal(row->nchildren, 2);
    assert_int_equal(row->flags & ROW_F_PEAK, 0);
    assert_int_equal(find_row(&r, "Model Weights/layers")->bytes, 900);
    assert_int_equal(find_row(&r, "Model Weights/layers/0/mlp")->bytes, 500);
    assert_int_equal(find_row(&r, "Model Weights/layers/0/mlp")->nchildren, 2);
    row = find_row(&r, "Model Weights/layers/0/mlp/down_proj");
    assert_int_equal(row->level, 4);
    assert_string_equal(row->label, "down_proj");
    assert_int_equal(row->bytes, 300);
    assert_true((find_row(&r, "Model Weights/layers/1")->flags & ROW_F_DEVICE) != 0);
    assert_int_equal(find_row(&r, "Model Weights/layers")->flags & ROW_F_DEVICE, 0);

    /* Pools: sums of used and capacity; each gauge with used, peak, capacity. */
    row = find_row(&r, "Memory Pools");
    assert_int_equal(row->bytes, 10000);
    assert_int_equal(row->capacity_bytes, 8000);
    assert_int_equal(row->flags & (ROW_F_CAPACITY | ROW_F_PEAK | ROW_F_DEVICE), ROW_F_CAPACITY);
    row = find_row(&r, "Memory Pools/arena");
    assert_int_equal(row->bytes, 3000);
    assert_int_equal(row->peak_bytes, 5000);
    assert_int_equal(row->capacity_bytes, 8000);
    assert_int_equal(row->flags, ROW_F_PEAK | ROW_F_CAPACITY);
    row = find_row(&r, "Memory Pools/gpu pool");
    assert_int_equal(row->flags, ROW_F_PEAK | ROW_F_DEVICE);
    assert_int_equal(row->peak_bytes, 7000);
    assert_int_equal(find_row(&r, "KV Cache/kv")->peak_bytes, 2500);

    /* Host (issue 11.2): tracked = host weights (1000 + 200 + 300) + arena used 3000 + kv used
     * 2000, what is resident; its capacity is what is reserved (the arena's 8000 instead of
     * its 3000); the device pool and the device weight are not in RSS. */
    row = find_row(&r, "Host Memory");
    assert_int_equal(row->bytes, 100000);
    assert_int_equal(row->peak_bytes, 150000);
    assert_true((row->flags & ROW_F_PEAK) != 0);
    assert_int_equal(row->nchildren, 2);
    row = find_row(&r, "Host Memory/Tracked Host Memory");
    assert_int_equal(row->bytes, 6500);
    assert_int_equal(row->capacity_bytes, 11500);
    assert_true((row->flags & ROW_F_CAPACITY) != 0);
    assert_int_equal(find_row(&r, "Host Memory/Unattributed Host Memory")->bytes, 100000 - 6500);

    /* Scope deltas mirror the latency tree where deltas were seen, inclusive upward. */
    row = find_row(&r, "Scope Deltas/step/forward/block0/attn");
    assert_int_equal(row->bytes, 4096);
    assert_int_equal(row->peak_bytes, 4096);
    assert_int_equal(row->level, 4);
    assert_int_equal(find_row(&r, "Scope Deltas/step")->bytes, 4096);
    assert_int_equal(find_row(&r, "Scope Deltas/step")->nchildren, 1);
    assert_int_equal(find_row(&r, "Scope Deltas")->nchildren, 1);

    /* Issue 11.2: RSS between used and reserved: still a real difference. RSS below the
     * tracked total: no unattributed row at all, never a clamped 0. */
    store_proc_set_host(p, 8000, 8000, 0, 101 * SEC);
    rows_clear(&r);
    rows_build_memory(&r, p, 101 * SEC);
    assert_int_equal(find_row(&r, "Host Memory/Unattributed Host Memory")->bytes, 1500);
    store_proc_set_host(p, 5000, 5000, 0, 101 * SEC);
    rows_clear(&r);
    rows_build_memory(&r, p, 101 * SEC);
    assert_int_equal(find_row(&r, "Host Memory")->nchildren, 1);
    for (i = 0; i < r.n; i++) {
        assert_string_not_equal(r.v[i].path, "Host Memory/Unattributed Host Memory");
    }
    rows_done(&r);
    store_free(st);
}

static void test_empty_sections(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "idle");
    struct rows_summary s;
    struct rows r;

    (void)state;
    rows_init(&r);
    rows_build_latency(&r, p, 10 * SEC);
    rows_build_memory(&r, p, 10 * SEC);
    rows_build_kernels(&r, p, 10 * SEC);
    assert_int_equal(r.n, 0);

    rows_build_summary(&s, p, 10 * SEC);
    assert_int_equal(s.pid, 1);
    assert_string_equal(s.label, "idle");
    assert_false(s.host_valid);
    assert_false(s.cpu_valid);
    assert_false(s.ttft.valid);
    assert_false(s.itl.valid);
    assert_false(s.step.valid);
    assert_int_equal(s.ncounters, 0);
    assert_null(s.counters);
    assert_null(s.invalid_reason);
    rows_summary_done(&s);
    rows_done(&r);
    store_free(st);
}

static void test_summary(void **state)
{
    struct store_proc *p;
    struct store *st = make_store(&p);
    uint32_t tokens = store_proc_intern(p, "tokens");
    struct rows_summary s;
    uint64_t t;

    (void)state;
    store_step(p, STORE_STEP_REQUEST_BEGIN, 0, 100 * SEC);
    store_step(p, STORE_STEP_TOKEN, 1, 100 * SEC + 40 * MS);
    store_step(p, STORE_STEP_TOKEN, 1, 100 * SEC + 60 * MS);
    for (t = 0; t <= 10; t++) {
        store_counter_set(p, tokens, t * 20, 91 * SEC + t * SEC);
        store_proc_set_host(p, 1 << 20, 2 << 20, t * SEC / 4, 91 * SEC + t * SEC);
    }
    store_proc_add_invalid(p, 2, "bad record");
    store_proc_set_dropped(p, 17);
    store_proc_set_state(p, STORE_PROC_EXITED, "exited", 101 * SEC);

    rows_build_summary(&s, p, 101 * SEC);
    assert_int_equal(s.pid, 7);
    assert_string_equal(s.label, "tinylm");
    assert_int_equal(s.state, ROWS_STATE_EXITED);
    assert_string_equal(s.reason, "exited");
    assert_int_equal(s.dropped, 17);
    assert_int_equal(s.invalid, 2);
    assert_string_equal(s.invalid_reason, "bad record");
    assert_int_equal(s.nthreads, 1);
    assert_true(s.host_valid);
    assert_int_equal(s.rss_bytes, 1 << 20);
    assert_true(s.cpu_valid);
    assert_true(fabs(s.cpu_pct - 25.0) < 0.01);
    /* step: the top-level span with most window samples ("step", not "load"). */
    assert_true(s.step.valid);
    assert_int_equal(s.step.win.count, 10);
    assert_int_equal(s.step.win.mean_ns, 60 * MS);
    assert_true(s.ttft.valid);
    assert_int_equal(s.ttft.all.last_ns, 40 * MS);
    assert_true(s.itl.valid);
    assert_int_equal(s.itl.win.total_ns, 20 * MS);
    assert_int_equal(s.ncounters, 1);
    assert_string_equal(s.counters[0].name, "tokens");
    assert_int_equal(s.counters[0].value, 200);
    assert_true(s.counters[0].rate_valid);
    assert_true(fabs(s.counters[0].per_sec - 20.0) < 1e-9);
    /* Sparkline: the steps all fell in slot 100; the current slot (101) has none. */
    assert_int_equal(s.nrecent, 10);
    assert_int_equal(s.step_recent_ns[8], 60 * MS);
    assert_int_equal(s.step_recent_ns[9], 0);
    assert_int_equal(s.step_recent_ns[0], 0);
    assert_int_equal(s.nthread_list, 1);
    assert_int_equal(s.threads[0].tid, 7);
    assert_string_equal(s.threads[0].name, "main");
    rows_summary_done(&s);
    store_free(st);

    /* Without spans, the ITERATION series is the step. */
    st = store_new(NULL);
    p = store_proc_add(st, 8, "sim");
    for (t = 0; t < 5; t++) {
        store_step(p, STORE_STEP_ITERATION, 1, 50 * SEC + t * 25 * MS);
    }
    rows_build_summary(&s, p, 51 * SEC);
    assert_true(s.step.valid);
    assert_int_equal(s.step.win.count, 4);
    assert_int_equal(s.step.win.p50_ns, 25 * MS);
    rows_summary_done(&s);
    store_free(st);
}

static void test_strings_stable(void **state)
{
    struct store_proc *p;
    struct store *st = make_store(&p);
    struct rows r;
    const char *path;
    int k;

    (void)state;
    rows_init(&r);
    rows_build_latency(&r, p, 101 * SEC);
    path = r.v[4].path;
    assert_string_equal(path, "step/forward/block0/attn");
    /* Appending many more rows grows the storage; earlier strings must stay valid. */
    for (k = 0; k < 2000; k++) {
        rows_build_latency(&r, p, 101 * SEC);
    }
    assert_int_equal(r.n, 8 * 2001);
    assert_ptr_equal(r.v[4].path, path);
    assert_string_equal(path, "step/forward/block0/attn");
    assert_string_equal(r.v[8 * 2000 + 4].path, "step/forward/block0/attn");
    rows_clear(&r);
    assert_int_equal(r.n, 0);
    rows_build_latency(&r, p, 101 * SEC);
    assert_string_equal(r.v[7].path, "step/sample");
    rows_done(&r);
    store_free(st);
}

static double now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_10k_nodes(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "big");
    struct store_thread *t = store_thread_add(p, 1, NULL);
    uint32_t step = store_proc_intern(p, "step");
    uint32_t blk[100];
    uint32_t op[99];
    char name[32];
    struct rows r;
    double t0;
    double dt;
    int i;
    int j;
    int k;

    (void)state;
    for (i = 0; i < 100; i++) {
        snprintf(name, sizeof(name), "block %d", i);
        blk[i] = store_proc_intern(p, name);
    }
    for (i = 0; i < 99; i++) {
        snprintf(name, sizeof(name), "op%d", i);
        op[i] = store_proc_intern(p, name);
    }
    /* step + 100 blocks + 100 * 99 ops = 10 001 nodes, two rounds of samples. */
    for (k = 0; k < 2; k++) {
        uint64_t ts = 100 * SEC + (uint64_t)k * SEC;

        store_span_begin(t, step, ts);
        for (i = 0; i < 100; i++) {
            store_span_begin(t, blk[i], ts);
            for (j = 0; j < 99; j++) {
                span(t, op[j], ts, ts + 1000);
                ts += 1000;
            }
            store_span_end(t, blk[i], ts);
        }
        store_span_end(t, step, ts);
    }

    rows_init(&r);
    t0 = now_sec();
    for (k = 0; k < 10; k++) {
        rows_clear(&r);
        rows_build_latency(&r, p, 102 * SEC);
    }
    dt = (now_sec() - t0) / 10.0;
    print_message("10001-row latency build: %.2f ms\n", dt * 1e3);
    assert_int_equal(r.n, 10001);
    assert_string_equal(r.v[10000].path, "step/block 99/op98");
    assert_int_equal(r.v[10000].level, 2);
    assert_int_equal(r.v[10000].win.count, 2);
    assert_int_equal(r.v[1].nchildren, 99);
    rows_done(&r);
    store_free(st);
}

/* Imported memory rows whose levels skip one (0, 2, 3, then 1): the rows under the skipped
 * level have no parent and are left out, and the row builder never reads a path it did not
 * set (the fuzzer's reproducer read a wild length). */
static void test_issue_10_imported_level_skip(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 7, "log");
    struct rows r;

    (void)state;
    store_mem_import(p, 0, store_proc_intern(p, "Model Weights"), 0, 100, -1, 0);
    store_mem_import(p, 2, store_proc_intern(p, "orphan"), 0, 10, -1, 0);
    store_mem_import(p, 3, store_proc_intern(p, "orphan child"), 0, 5, -1, 0);
    store_mem_import(p, 1, store_proc_intern(p, "layers"), 0, 90, -1, 0);
    store_mem_import(p, 2, store_proc_intern(p, "0"), 0, 90, -1, 0);
    store_mem_import(p, 5, store_proc_intern(p, "too deep"), 0, 1, -1, 0);
    rows_init(&r);
    rows_build_memory(&r, p, 1 * SEC);
    assert_non_null(find_row(&r, "Model Weights"));
    assert_non_null(find_row(&r, "Model Weights/layers/0"));
    for (size_t i = 0; i < r.n; i++) {
        assert_null(strstr(r.v[i].path, "orphan"));
        assert_null(strstr(r.v[i].path, "too deep"));
    }
    rows_done(&r);
    store_free(st);
}

/* n spans name (each dur_ns) on thread t from time at_ns, dur_ns apart; returns the end. */
static uint64_t spans(struct store_thread *t, uint32_t name, int n, uint64_t at_ns, uint64_t dur_ns)
{
    for (int i = 0; i < n; i++) {
        store_span_begin(t, name, at_ns);
        at_ns += dur_ns;
        store_span_end(t, name, at_ns);
    }
    return at_ns;
}

/* Issue 16.3: --baseline. A row is compared with the baseline's row of the same path (not of
 * the same place in the tree), the baseline's since-start figures; a path the baseline lacks
 * is new; without a baseline the rows are untouched. */
static void test_issue_16_baseline_by_path(void **state)
{
    struct store *base = store_new(NULL), *live = store_new(NULL);
    struct store_proc *bp = store_proc_add(base, 1, "tinylm");
    struct store_proc *lp = store_proc_add(live, 2, "tinylm");
    struct store_thread *bt = store_thread_add(bp, 1, "main");
    struct store_thread *lt = store_thread_add(lp, 2, "main");
    uint32_t bs = store_proc_intern(bp, "step"), ba = store_proc_intern(bp, "a");
    uint32_t ls = store_proc_intern(lp, "step"), lb = store_proc_intern(lp, "b");
    uint32_t la = store_proc_intern(lp, "a");
    uint64_t at = 1000000000ULL;
    struct rows r;
    const struct row *a, *b, *top;
    double d = 0, pct = 0;
    char buf[32];

    (void)state;
    /* Baseline: step { a } with a at 1 ms, 100 times. Live: step { b, a } with a at 3 ms. */
    for (int i = 0; i < 100; i++, at += 10000000ULL) {
        store_span_begin(bt, bs, at);
        span(bt, ba, at, at + 1000000ULL);
        store_span_end(bt, bs, at + 2000000ULL);
        store_span_begin(lt, ls, at);
        span(lt, lb, at, at + 1000000ULL);
        span(lt, la, at + 1000000ULL, at + 4000000ULL);
        store_span_end(lt, ls, at + 5000000ULL);
    }
    rows_init(&r);
    rows_build_latency(&r, lp, at);
    rows_compare_baseline(&r, 0, NULL, "tinylm");
    for (size_t i = 0; i < r.n; i++) {
        assert_int_equal(r.v[i].flags & (ROW_F_BASE | ROW_F_BASE_NEW), 0);
    }
    rows_compare_baseline(&r, 0, base, "tinylm");
    a = find_row(&r, "step/a");
    b = find_row(&r, "step/b");
    top = find_row(&r, "step");
    assert_true(a->flags & ROW_F_BASE);
    assert_int_equal(a->base_count, 100);
    assert_true(a->base_mean_ns > 990000 && a->base_mean_ns < 1010000);
    assert_true(rows_base_delta(a, &a->all, true, ROW_S_MEAN, &d, &pct));
    assert_true(d > 1.9e6 && d < 2.1e6);
    assert_true(pct > 190 && pct < 210);
    assert_true(rows_base_delta(a, &a->all, true, ROW_S_P99, &d, &pct) && pct > 150);
    rows_format_delta(a, &a->all, true, ROW_S_MEAN, buf, sizeof(buf));
    assert_string_equal(buf, "+2.00ms +200%");
    assert_true(b->flags & ROW_F_BASE_NEW);
    assert_false(rows_base_delta(b, &b->all, true, ROW_S_P99, &d, &pct));
    rows_format_delta(b, &b->all, true, ROW_S_P99, buf, sizeof(buf));
    assert_string_equal(buf, "new");
    assert_true(top->flags & ROW_F_BASE);
    /* The widest cell fits the columns' 15: a sign, a compact time, a clamped percent. */
    {
        struct row w = {.flags = ROW_F_ALL | ROW_F_BASE, .base_p99_ns = 1000};

        w.all.count = 1;
        w.all.p99_ns = 999900000ULL;
        rows_format_delta(&w, &w.all, true, ROW_S_P99, buf, sizeof(buf));
        assert_string_equal(buf, "+999.90ms >999%");
        w.all.p99_ns = 0;
        w.base_p99_ns = 123450000000ULL;
        rows_format_delta(&w, &w.all, true, ROW_S_P99, buf, sizeof(buf));
        assert_true(strlen(buf) <= 15);
    }
    /* The only process of a baseline stands for a workload of another name. */
    rows_compare_baseline(&r, 0, base, "other");
    assert_true(find_row(&r, "step/a")->flags & ROW_F_BASE);
    rows_done(&r);
    store_free(base);
    store_free(live);
}

/* Issue 11.3: the step figure is what the workload says a step is (a span named "step", the
 * ITERATION markers, or the step_span option), never the most frequent top-level span; with
 * none of them there is no step figure. */
static void test_issue_11_step_is_declared(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct store_thread *t = store_thread_add(p, 1, "main");
    uint32_t zeros = store_proc_intern(p, "aten::zeros"), step = store_proc_intern(p, "step");
    uint32_t train = store_proc_intern(p, "train"), iter = store_proc_intern(p, "iter");
    struct rows_summary sum;
    uint64_t at;

    (void)state;
    /* Many tiny top-level spans: no step figure rather than theirs. */
    at = spans(t, zeros, 100, 1 * SEC, 10000);
    rows_build_summary(&sum, p, 2 * SEC);
    assert_false(sum.step.valid);
    assert_null(sum.step_source);
    rows_summary_done(&sum);

    /* ITERATION markers 40 ms apart. */
    for (int i = 0; i < 5; i++) {
        store_step(p, STORE_STEP_ITERATION, 1, at + (uint64_t)i * 40 * MS);
    }
    rows_build_summary(&sum, p, 2 * SEC);
    assert_true(sum.step.valid);
    assert_string_equal(sum.step_source, "iteration");
    assert_int_equal(sum.step.all.p50_ns, 40 * MS);
    rows_summary_done(&sum);

    /* A span named step wins over the markers and over the 100 zeros. */
    spans(t, step, 3, 3 * SEC, 25 * MS);
    rows_build_summary(&sum, p, 4 * SEC);
    assert_string_equal(sum.step_source, "step");
    assert_int_equal(sum.step.all.count, 3);
    assert_int_equal(sum.step.all.p50_ns, 25 * MS);
    rows_summary_done(&sum);
    store_free(st);

    /* The option names a span by path; absent, there is no figure (not the markers). */
    {
        struct store_config cfg = {.step_span = "train/iter"};

        st = store_new(&cfg);
    }
    p = store_proc_add(st, 1, "w");
    t = store_thread_add(p, 1, "main");
    train = store_proc_intern(p, "train");
    iter = store_proc_intern(p, "iter");
    step = store_proc_intern(p, "step");
    spans(t, step, 3, 1 * SEC, 5 * MS);
    store_step(p, STORE_STEP_ITERATION, 1, 1 * SEC);
    store_step(p, STORE_STEP_ITERATION, 1, 1 * SEC + MS);
    rows_build_summary(&sum, p, 2 * SEC);
    assert_false(sum.step.valid);
    rows_summary_done(&sum);
    store_span_begin(t, train, 3 * SEC);
    spans(t, iter, 4, 3 * SEC, 7 * MS);
    store_span_end(t, train, 3 * SEC + 30 * MS);
    spans(t, iter, 9, 4 * SEC, 1 * MS); /* a top-level "iter" is another path */
    rows_build_summary(&sum, p, 5 * SEC);
    assert_string_equal(sum.step_source, "train/iter");
    assert_int_equal(sum.step.all.count, 4);
    assert_int_equal(sum.step.all.p50_ns, 7 * MS);
    rows_summary_done(&sum);
    store_free(st);
}

/* The labels of r in the order of ord, joined by ',' with the level as a prefix ("0step"). */
static const char *ordered(const struct rows *r, const uint32_t *ord)
{
    static char buf[512];
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < r->n; i++) {
        len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u%s", i > 0 ? "," : "",
                                (unsigned)r->v[ord[i]].level, r->v[ord[i]].label);
    }
    return buf;
}

/* Issue 11.10: one sort for the display and --once: siblings sorted within their parent (the
 * tree stays a tree), figures largest first, absent figures last in both directions, ties in
 * execution order, the window's figures or those since start. */
static void test_issue_11_sort_siblings(void **state)
{
    struct store_proc *p;
    struct store *st = make_store(&p);
    struct rows r;
    uint32_t ord[16];
    struct rows_sort s = {.key = ROWS_SORT_P95};

    (void)state;
    rows_init(&r);
    rows_build_latency(&r, p, 101 * SEC);
    assert_int_equal(r.n, 8);
    rows_sort(&r, NULL, ord);
    assert_string_equal(ordered(&r, ord),
                        "0load,0step,1forward,2block0,3attn,3mlp,2block1,1sample");
    /* load has no window figure: after step, also when the order is reversed. */
    rows_sort(&r, &s, ord);
    assert_string_equal(ordered(&r, ord),
                        "0step,1forward,2block1,2block0,3attn,3mlp,1sample,0load");
    s.reverse = true;
    rows_sort(&r, &s, ord);
    assert_string_equal(ordered(&r, ord),
                        "0step,1sample,1forward,2block0,3mlp,3attn,2block1,0load");
    /* Since start, load (500 ms) leads. */
    s.reverse = false;
    s.since_start = true;
    rows_sort(&r, &s, ord);
    assert_string_equal(ordered(&r, ord),
                        "0load,0step,1forward,2block1,2block0,3attn,3mlp,1sample");
    /* Counts tie everywhere but at the top: execution order. */
    s.key = ROWS_SORT_COUNT;
    rows_sort(&r, &s, ord);
    assert_string_equal(ordered(&r, ord),
                        "0step,1forward,2block0,3attn,3mlp,2block1,1sample,0load");
    s.key = ROWS_SORT_LABEL;
    rows_sort(&r, &s, ord);
    assert_string_equal(ordered(&r, ord),
                        "0load,0step,1forward,2block0,3attn,3mlp,2block1,1sample");
    s.reverse = true;
    rows_sort(&r, &s, ord);
    assert_string_equal(ordered(&r, ord),
                        "0step,1sample,1forward,2block1,2block0,3mlp,3attn,0load");
    s.key = ROWS_SORT_SHARE;
    s.reverse = false;
    rows_sort(&r, &s, ord);
    assert_string_equal(ordered(&r, ord),
                        "0step,1forward,2block1,2block0,3attn,3mlp,1sample,0load");

    /* A level that jumps (a malformed set) hangs off the deepest open row and is sorted with
     * its siblings there; nothing is lost or repeated. */
    r.v[6].level = 4; /* block1 under mlp */
    s.key = ROWS_SORT_P95;
    s.since_start = false;
    {
        uint32_t par[16];

        rows_parents(&r, par);
        assert_int_equal(par[0], ROWS_NO_PARENT);
        assert_int_equal(par[1], ROWS_NO_PARENT);
        assert_int_equal(par[5], 3);
        assert_int_equal(par[6], 5);
        assert_int_equal(par[7], 1);
    }
    rows_sort(&r, &s, ord);
    assert_string_equal(ordered(&r, ord),
                        "0step,1forward,2block0,3attn,3mlp,4block1,1sample,0load");
    rows_done(&r);
    store_free(st);
}

/* Consecutive siblings a then b of a figure sort (window p95 or count): a has the figure and
 * b not, or a's is larger (smaller when reversed), or they tie and a came first. */
static bool sorted_pair(const struct rows *r, const struct rows_sort *s, uint32_t a, uint32_t b)
{
    bool ha = (r->v[a].flags & ROW_F_WIN) != 0, hb = (r->v[b].flags & ROW_F_WIN) != 0;
    uint64_t ka = s->key == ROWS_SORT_COUNT ? r->v[a].win.count : r->v[a].win.p95_ns;
    uint64_t kb = s->key == ROWS_SORT_COUNT ? r->v[b].win.count : r->v[b].win.p95_ns;

    if (s->key == ROWS_SORT_COUNT) {
        ha = hb = true; /* no samples in the window: a count of 0 */
    }
    if (ha != hb) {
        return ha;
    }
    if (ha && ka != kb) {
        return s->reverse ? ka < kb : ka > kb;
    }
    return a < b;
}

/* Siblings are sorted in groups: small ones inline, names and groups of more than 32
 * through qsort_r. Both give the order of the figure, absent figures last and ties in
 * execution order, for groups of 1 to 40 with many ties and rows without window figures. */
static void test_issue_13_sort_groups(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 7, "w");
    struct store_thread *t = store_thread_add(p, 7, "main");
    static const int fans[] = {1, 2, 7, 20, 32, 33, 40};
    uint64_t ts = 1 * SEC;
    uint64_t seed = 12345;
    uint32_t ids[40];
    char name[16];
    struct rows r;

    (void)state;
    for (int i = 0; i < 40; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        ids[i] = store_proc_intern(p, name);
    }
    /* An old run (before the window) of every child, then a recent one of most. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t f = 0; f < sizeof(fans) / sizeof(fans[0]); f++) {
            store_span_begin(t, ids[f], ts);
            for (int c = 0; c < fans[f]; c++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                if (pass == 1 && seed >> 60 == 0) {
                    continue; /* absent from the window */
                }
                ts = spans(t, ids[c], 1 + (int)(seed >> 62), ts, (1 + (seed >> 58) % 4) * MS);
            }
            store_span_end(t, ids[f], ++ts);
        }
        ts = 100 * SEC;
    }
    rows_init(&r);
    rows_build_latency(&r, p, 101 * SEC);
    {
        uint32_t *ord = calloc(r.n, sizeof(*ord));
        uint32_t *par = calloc(r.n, sizeof(*par));
        uint32_t *last = calloc(r.n + 1, sizeof(*last));
        static const enum rows_sort_key keys[] = {ROWS_SORT_P95, ROWS_SORT_COUNT};

        assert_non_null(ord);
        assert_non_null(par);
        assert_non_null(last);
        rows_parents(&r, par);
        for (size_t k = 0; k < 4; k++) {
            struct rows_sort s = {.key = keys[k / 2], .reverse = k % 2 == 1};
            bool *seen = calloc(r.n, sizeof(*seen));

            assert_non_null(seen);
            rows_sort(&r, &s, ord);
            for (size_t i = 0; i <= r.n; i++) {
                last[i] = UINT32_MAX;
            }
            for (size_t i = 0; i < r.n; i++) {
                uint32_t g = par[ord[i]] == ROWS_NO_PARENT ? (uint32_t)r.n : par[ord[i]];

                assert_false(seen[ord[i]]);
                seen[ord[i]] = true;
                if (last[g] != UINT32_MAX && !sorted_pair(&r, &s, last[g], ord[i])) {
                    fail_msg("key %d%s: %s before %s", (int)s.key, s.reverse ? " reversed" : "",
                             r.v[last[g]].path, r.v[ord[i]].path);
                }
                last[g] = ord[i];
            }
            free(seen);
        }
        free(ord);
        free(par);
        free(last);
    }
    rows_done(&r);
    store_free(st);
}

/* The memory share of the parent, the figure the display shows and sorts by. */
static void test_issue_11_memory_shares(void **state)
{
    struct store_proc *p;
    struct store *st = make_store(&p);
    struct rows r;
    double pct[64];
    uint32_t ord[64];
    struct rows_sort s = {.key = ROWS_SORT_CURRENT};
    size_t w = SIZE_MAX, e = SIZE_MAX, l = SIZE_MAX;

    (void)state;
    store_weight_set(p, store_proc_intern(p, "embed"), 0, 1000);
    store_weight_set(p, store_proc_intern(p, "layers.0.up"), 0, 3000);
    rows_init(&r);
    rows_build_memory(&r, p, 101 * SEC);
    assert_true(r.n <= 64);
    rows_memory_shares(&r, pct);
    for (size_t i = 0; i < r.n; i++) {
        if (strcmp(r.v[i].path, "Model Weights") == 0) {
            w = i;
        } else if (strcmp(r.v[i].path, "Model Weights/embed") == 0) {
            e = i;
        } else if (strcmp(r.v[i].path, "Model Weights/layers") == 0) {
            l = i;
        }
    }
    assert_true(w < r.n && e < r.n && l < r.n);
    assert_true(pct[w] == -1);
    assert_true(fabs(pct[e] - 25.0) < 1e-9);
    assert_true(fabs(pct[l] - 75.0) < 1e-9);
    /* By bytes: layers (3000) before embed (1000) under Model Weights. */
    rows_sort(&r, &s, ord);
    for (size_t k = 0; k + 1 < r.n; k++) {
        if (ord[k] == w) {
            assert_int_equal(ord[k + 1], l);
        }
    }
    rows_done(&r);
    store_free(st);
}

/* Issue 15: the Workloads view's order: children right after their parent (and its earlier
 * children's subtrees), roots and siblings in the given order, orphans at the top level, a
 * loop of parents cut. */
static void test_issue_15_proc_tree(void **state)
{
    /* make(1) -> cc(2) -> cc1(3), as(5); make -> cc(4) -> cc1(6); 7 and 8 point at each
     * other; 9's parent is not listed. Listed in the order the sources met them. */
    static const int32_t pid[] = {3, 2, 1, 5, 9, 4, 6, 7, 8};
    static const int32_t ppid[] = {2, 1, 0, 2, 77, 1, 4, 8, 7};
    static const uint32_t want[] = {2, 1, 0, 3, 5, 6, 4, 7, 8};
    static const uint16_t want_depth[] = {0, 1, 2, 2, 1, 2, 0, 0, 1};
    struct rows_summary sums[9];
    uint32_t order[9];
    uint16_t depth[9];

    (void)state;
    memset(sums, 0, sizeof(sums));
    for (size_t i = 0; i < 9; i++) {
        sums[i].pid = pid[i];
        sums[i].ppid = ppid[i];
    }
    rows_proc_tree(sums, 9, order, depth);
    for (size_t k = 0; k < 9; k++) {
        assert_int_equal(order[k], want[k]);
        assert_int_equal(depth[k], want_depth[k]);
    }
    /* A reused pid: of the two processes of pid 1 (the first exited), the live one is 2's
     * parent. */
    sums[0].pid = 1;
    sums[0].ppid = 0;
    sums[0].state = ROWS_STATE_EXITED;
    rows_proc_tree(sums, 3, order, depth);
    assert_int_equal(order[0], 0);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 1);
    assert_int_equal(depth[0], 0);
    assert_int_equal(depth[1], 0);
    assert_int_equal(depth[2], 1);
    rows_proc_tree(sums, 0, order, depth);
}

/* The same figures in two sets of latency rows (the second built afresh). */
static void assert_same_rows(const struct rows *a, const struct rows *b)
{
    assert_int_equal(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct row *x = &a->v[i], *y = &b->v[i];

        assert_string_equal(x->path, y->path);
        assert_string_equal(x->label, y->label);
        assert_int_equal(x->path_hash, y->path_hash);
        assert_int_equal(x->level, y->level);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->nchildren, y->nchildren);
        assert_int_equal(x->flags, y->flags);
        assert_memory_equal(&x->win, &y->win, sizeof(x->win));
        assert_memory_equal(&x->all, &y->all, sizeof(x->all));
        assert_true(x->share_pct == y->share_pct);
        assert_ptr_equal(x->hist_all, y->hist_all);
        assert_int_equal(x->ok, y->ok);
        assert_int_equal(x->failed, y->failed);
    }
}

/* rows_update_latency keeps the rows of a tree that kept its shape (their strings too) and
 * sets every figure as a fresh build does; a changed tree, or rows of another kind, are built
 * anew; omitted since-start percentiles are absent, the rest as built. */
static void test_issue_13_update_latency(void **state)
{
    struct store_proc *p;
    struct store *st = make_store(&p);
    struct store_thread *t = store_thread_add(p, 8, "other");
    uint32_t step = store_proc_intern(p, "step");
    uint32_t extra = store_proc_intern(p, "extra");
    struct rows r, fresh;
    const char *path;
    uint64_t shape, gen;

    (void)state;
    rows_init(&r);
    rows_init(&fresh);
    rows_build_kernels(&r, p, 101 * SEC); /* other rows first: none kept */
    rows_update_latency(&r, p, 101 * SEC, 0);
    rows_build_latency(&fresh, p, 101 * SEC);
    assert_same_rows(&r, &fresh);
    assert_int_equal(r.omitted, 0);
    path = r.v[4].path;
    shape = r.shape;
    gen = r.gen;

    /* More samples, the window a second later: the same tree, new figures. */
    span(t, step, 101 * SEC + 100 * MS, 101 * SEC + 190 * MS);
    rows_update_latency(&r, p, 102 * SEC, 0);
    rows_clear(&fresh);
    rows_build_latency(&fresh, p, 102 * SEC);
    assert_same_rows(&r, &fresh);
    assert_int_equal(r.shape, shape);
    assert_true(r.gen != gen);
    assert_ptr_equal(r.v[4].path, path);
    assert_int_equal(find_row(&r, "step")->all.count, 11);

    /* Since start's percentiles left out: absent, and nothing else changes. */
    rows_update_latency(&r, p, 102 * SEC, ROWS_OMIT_ALL_PCT);
    assert_int_equal(r.omitted, ROWS_OMIT_ALL_PCT);
    assert_int_equal(r.shape, shape);
    for (size_t i = 0; i < r.n; i++) {
        struct row_stats a = fresh.v[i].all;

        assert_memory_equal(&r.v[i].win, &fresh.v[i].win, sizeof(a));
        assert_int_equal(r.v[i].all.absent, ROW_S_P50 | ROW_S_P95 | ROW_S_P99);
        assert_int_equal(r.v[i].all.count, a.count);
        assert_int_equal(r.v[i].all.total_ns, a.total_ns);
        assert_int_equal(r.v[i].all.max_ns, a.max_ns);
        assert_int_equal(r.v[i].all.p99_ns, 0);
    }
    rows_update_latency(&r, p, 102 * SEC, 0);
    assert_same_rows(&r, &fresh);

    /* The window's percentiles left for later: pending where the window has samples (their
     * memos were walked above: a new slot has none) and the rank is not the first or the
     * last (those are the minimum and the maximum), resolved to what the build gives. */
    rows_update_latency(&r, p, 102 * SEC + 500 * MS, 0);
    rows_update_latency(&r, p, 103 * SEC, ROWS_LAZY_WIN_PCT);
    rows_clear(&fresh);
    rows_build_latency(&fresh, p, 103 * SEC);
    assert_ptr_equal(r.src, p);
    for (size_t i = 0; i < r.n; i++) {
        const struct row *x = &r.v[i];

        uint64_t c = x->win.count;

        assert_int_equal(x->win.pending, c > 2 ? ROW_S_P50 : 0); /* 95 % of c <= 19: the max */
        assert_true(c < 20);
        assert_int_equal(rows_stat_known(&x->win, c > 0, ROW_S_P50), c > 0 && c <= 2);
        assert_int_equal(x->win.p99_ns, fresh.v[i].win.p99_ns);
        assert_int_equal(x->win.p95_ns, fresh.v[i].win.p95_ns);
        assert_true(rows_resolve(&r, i, ROW_S_P50));
        assert_int_equal(x->win.p50_ns, fresh.v[i].win.p50_ns);
        assert_int_equal(x->win.pending, 0);
    }
    rows_update_latency(&r, p, 103 * SEC + 100 * MS, ROWS_LAZY_WIN_PCT); /* kept as resolved */
    assert_true(rows_resolve(&r, 0, ROW_S_P50 | ROW_S_P95 | ROW_S_P99));
    assert_memory_equal(&r.v[0].win, &fresh.v[0].win, sizeof(r.v[0].win));
    /* A sample since: the window of that time is gone, the figure stays pending. */
    assert_string_equal(r.v[1].path, "step");
    assert_int_equal(r.v[1].win.pending, 0);
    rows_update_latency(&r, p, 104 * SEC, ROWS_LAZY_WIN_PCT);
    assert_int_equal(r.v[1].win.pending, ROW_S_P50);
    span(t, step, 102 * SEC + 100 * MS, 102 * SEC + 150 * MS);
    assert_false(rows_resolve(&r, 1, ROW_S_P50));
    assert_int_equal(r.v[1].win.pending, ROW_S_P50);
    assert_true(rows_resolve(&r, 1, ROW_S_P99)); /* known at the build */
    rows_update_latency(&r, p, 103 * SEC, 0);
    rows_clear(&fresh);
    rows_build_latency(&fresh, p, 103 * SEC);
    assert_same_rows(&r, &fresh);

    /* A new path: another shape, built as afresh. */
    store_span_begin(t, step, 101 * SEC + 200 * MS);
    span(t, extra, 101 * SEC + 200 * MS, 101 * SEC + 210 * MS);
    store_span_end(t, step, 101 * SEC + 220 * MS);
    rows_update_latency(&r, p, 102 * SEC, 0);
    rows_clear(&fresh);
    rows_build_latency(&fresh, p, 102 * SEC);
    assert_same_rows(&r, &fresh);
    assert_true(r.shape != shape);
    assert_string_equal(find_row(&r, "step/extra")->label, "extra");
    rows_done(&r);
    rows_done(&fresh);
    store_free(st);
}

/* The sort keys rows_update_latency computes for the display's sort (rows_want_keys) give the
 * order the rows themselves give, pending keys resolved, for a lazy build and a kept one. */
static void test_issue_13_update_keys(void **state)
{
    struct store_proc *p;
    struct store *st = make_store(&p);
    struct store_thread *t = store_thread_add(p, 9, "more");
    uint32_t mlp = store_proc_intern(p, "mlp");
    struct rows r, fresh;
    uint32_t a[16], b[16];
    static const enum rows_sort_key keys[] = {ROWS_SORT_P50, ROWS_SORT_P99, ROWS_SORT_TOTAL,
                                              ROWS_SORT_LABEL};

    (void)state;
    rows_init(&r);
    rows_init(&fresh);
    for (uint64_t k = 0; k < 30; k++) {
        span(t, mlp, 101 * SEC + k * MS, 101 * SEC + k * MS + (k * 7919) % 500000);
    }
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        for (int rev = 0; rev < 2; rev++) {
            struct rows_sort s = {.key = keys[k], .reverse = rev != 0};

            rows_want_keys(&r, &s);
            for (int pass = 0; pass < 2; pass++) { /* built, then kept */
                rows_update_latency(&r, p, 102 * SEC, ROWS_LAZY_WIN_PCT | ROWS_OMIT_ALL_PCT);
                assert_int_equal(r.key_gen, r.gen);
                assert_true(r.n <= 16);
                rows_sort(&r, &s, a);
                rows_clear(&fresh);
                rows_build_latency(&fresh, p, 102 * SEC);
                rows_sort(&fresh, &s, b);
                assert_memory_equal(a, b, r.n * sizeof(a[0]));
            }
        }
    }
    rows_done(&r);
    rows_done(&fresh);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_latency_rows),
        cmocka_unit_test(test_kernel_rows),
        cmocka_unit_test(test_memory_rows),
        cmocka_unit_test(test_empty_sections),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_strings_stable),
        cmocka_unit_test(test_10k_nodes),
        cmocka_unit_test(test_issue_10_imported_level_skip),
        cmocka_unit_test(test_issue_11_step_is_declared),
        cmocka_unit_test(test_issue_11_sort_siblings),
        cmocka_unit_test(test_issue_13_sort_groups),
        cmocka_unit_test(test_issue_11_memory_shares),
        cmocka_unit_test(test_issue_15_proc_tree),
        cmocka_unit_test(test_issue_16_baseline_by_path),
        cmocka_unit_test(test_issue_13_update_latency),
        cmocka_unit_test(test_issue_13_update_keys),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
