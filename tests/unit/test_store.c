/* SPDX-License-Identifier: MIT */
/* Unit tests of the store: the latency tree from span stacks, threads, unmatched spans,
 * rolling windows, per-scope memory deltas, kernels, step markers, rates and bounds. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "src/model/compile.h"
#include "src/model/hist.h"
#include "src/model/rows.h"
#include "src/model/store.h"
#include "src/model/store_internal.h"

#define MS 1000000ULL
#define SEC 1000000000ULL

/* The extremes since start of a series (its two parts). */
static uint64_t series_min(const struct store_series *s)
{
    uint64_t lo, hi;

    store_series_extremes(s, &lo, &hi);
    return lo;
}

static uint64_t series_max(const struct store_series *s)
{
    uint64_t lo, hi;

    store_series_extremes(s, &lo, &hi);
    return hi;
}

/* The node at a '/'-separated path of names, or STORE_NONE. */
static uint32_t find_node(const struct store_proc *p, const char *path)
{
    char buf[256];
    char *save = NULL;
    char *tok;
    uint32_t cur = STORE_ROOT;

    snprintf(buf, sizeof(buf), "%s", path);
    for (tok = strtok_r(buf, "/", &save); tok != NULL; tok = strtok_r(NULL, "/", &save)) {
        uint32_t c;

        for (c = p->nodes[cur].first_child; c != STORE_NONE; c = p->nodes[c].next_sibling) {
            if (strcmp(store_proc_name(p, p->nodes[c].name), tok) == 0) {
                break;
            }
        }
        if (c == STORE_NONE) {
            return STORE_NONE;
        }
        cur = c;
    }
    return cur;
}

static const struct store_node *node_at(const struct store_proc *p, const char *path)
{
    uint32_t i = find_node(p, path);

    assert_int_not_equal(i, STORE_NONE);
    return &p->nodes[i];
}

static void test_intern(void **state)
{
    struct store_config cfg = {.max_names = 3};
    struct store *st = store_new(&cfg);
    struct store_proc *p = store_proc_add(st, 42, "w");
    uint32_t a = store_proc_intern(p, "alpha");
    uint32_t b = store_proc_intern(p, "beta");
    char name[32];
    int i;

    (void)state;
    assert_int_equal(a, 1);
    assert_int_equal(b, 2);
    assert_int_equal(store_proc_intern(p, "alpha"), a);
    assert_string_equal(store_proc_name(p, b), "beta");
    assert_null(store_proc_name(p, 0));
    assert_null(store_proc_name(p, 99));
    assert_int_equal(store_proc_intern(p, "gamma"), 3);
    /* The table is full: 0, counted. Known names still resolve. */
    assert_int_equal(store_proc_intern(p, "delta"), 0);
    assert_int_equal(p->invalid, 1);
    assert_string_equal(p->invalid_reason, "name table full");
    assert_int_equal(store_proc_intern(p, "beta"), b);
    assert_ptr_equal(store_proc_find(st, 42), p);
    assert_null(store_proc_find(st, 43));
    /* A reason longer than the buffer is cut to it; several at once add up. */
    {
        char longer[STORE_REASON_MAX + 40];

        memset(longer, 'r', sizeof(longer) - 1U);
        longer[sizeof(longer) - 1U] = '\0';
        store_proc_add_invalid(p, 3, longer);
        assert_int_equal(p->invalid, 4);
        assert_int_equal(strlen(p->invalid_reason), STORE_REASON_MAX - 1);
        assert_int_equal(p->invalid_reason[0], 'r');
        store_proc_add_invalid(p, 1, "short");
        assert_string_equal(p->invalid_reason, "short");
    }
    store_free(st);

    /* Many names through several rehashes keep their ids. */
    st = store_new(NULL);
    p = store_proc_add(st, 1, "w");
    for (i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        assert_int_equal(store_proc_intern(p, name), (uint32_t)i + 1U);
    }
    for (i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "n%d", i);
        assert_int_equal(store_proc_intern(p, name), (uint32_t)i + 1U);
    }
    store_free(st);
}

static void test_nested_tree(void **state)
{
    static const char *names[5] = {"step", "forward", "block", "attn", "matmul"};
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct store_thread *t = store_thread_add(p, 10, "main");
    uint32_t id[5];
    uint64_t ts = 1 * SEC;
    int rep;
    int d;

    (void)state;
    for (d = 0; d < 5; d++) {
        id[d] = store_proc_intern(p, names[d]);
    }
    /* Three repetitions of a depth-5 nest: span d lasts 2 * (5 - d) ms plus rep ms at the
     * innermost level; every level begins 1 ms after its parent. */
    for (rep = 0; rep < 3; rep++) {
        uint64_t begin[5];

        for (d = 0; d < 5; d++) {
            begin[d] = ts + (uint64_t)d * MS;
            store_span_begin(t, id[d], begin[d]);
        }
        for (d = 4; d >= 0; d--) {
            store_span_end(t, id[d], begin[d] + (uint64_t)(2 * (5 - d) + rep) * MS);
        }
        ts += 20 * MS;
    }
    assert_int_equal(p->invalid, 0);
    assert_int_equal(p->nnodes, 6); /* root + 5 */
    {
        const struct store_node *n = node_at(p, "step/forward/block/attn/matmul");

        assert_int_equal(n->level, 4);
        assert_int_equal(store_series_count(&n->s), 3);
        assert_int_equal(series_min(&n->s), 2 * MS);
        assert_int_equal(series_max(&n->s), 4 * MS);
        assert_int_equal(store_series_sum(&n->s), 9 * MS);
        assert_int_equal(n->s.last_ns, 4 * MS);
        assert_int_equal(n->nchildren, 0);
    }
    {
        const struct store_node *n = node_at(p, "step");

        assert_int_equal(n->level, 0);
        assert_int_equal(n->nchildren, 1);
        assert_int_equal(store_series_count(&n->s), 3);
        assert_int_equal(store_series_sum(&n->s), (10 + 11 + 12) * MS);
    }
    assert_int_equal(store_series_sum(&node_at(p, "step/forward/block")->s), (6 + 7 + 8) * MS);
    assert_int_equal(p->nodes[STORE_ROOT].nchildren, 1);
    store_thread_exit(t, ts);
    assert_int_equal(p->nthreads, 0);
    assert_int_equal(p->invalid, 0);
    store_free(st);
}

static void test_threads_interleaved(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct store_thread *a = store_thread_add(p, 10, "a");
    struct store_thread *b = store_thread_add(p, 11, "b");
    uint32_t step = store_proc_intern(p, "step");
    uint32_t mlp = store_proc_intern(p, "mlp");
    uint32_t io = store_proc_intern(p, "io");

    (void)state;
    assert_int_equal(p->nthreads, 2);
    /* Both threads run step/mlp, interleaved event by event; b also has step/io. */
    store_span_begin(a, step, 100);
    store_span_begin(b, step, 105);
    store_span_begin(a, mlp, 110);
    store_span_begin(b, io, 112);
    store_span_end(b, io, 120);
    store_span_begin(b, mlp, 121);
    store_span_end(a, mlp, 150);
    store_span_end(b, mlp, 171);
    store_span_end(a, step, 200);
    store_span_end(b, step, 305);

    assert_int_equal(p->invalid, 0);
    assert_int_equal(p->nodes[STORE_ROOT].nchildren, 1);
    assert_int_equal(store_series_count(&node_at(p, "step")->s), 2);
    assert_int_equal(store_series_sum(&node_at(p, "step")->s), 100 + 200);
    assert_int_equal(store_series_count(&node_at(p, "step/mlp")->s), 2);
    assert_int_equal(store_series_sum(&node_at(p, "step/mlp")->s), 40 + 50);
    assert_int_equal(store_series_sum(&node_at(p, "step/io")->s), 8);
    /* Children in first-seen order: mlp (thread a) before io (thread b). */
    assert_int_equal(node_at(p, "step")->first_child, find_node(p, "step/mlp"));
    assert_int_equal(node_at(p, "step")->nchildren, 2);

    store_thread_exit(a, 400);
    assert_int_equal(p->nthreads, 1);
    assert_ptr_equal(p->threads[0], b);
    store_thread_exit(b, 400);
    assert_int_equal(p->nthreads, 0);
    store_free(st);
}

static void test_unmatched(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct store_thread *t = store_thread_add(p, 10, NULL);
    uint32_t outer = store_proc_intern(p, "outer");
    uint32_t inner = store_proc_intern(p, "inner");
    uint32_t deep = store_proc_intern(p, "deep");

    (void)state;
    /* An end right after attaching: its begin was never seen. Normal, not invalid, but
     * still counted apart. */
    store_span_end(t, inner, 50);
    assert_int_equal(p->invalid, 0);
    assert_int_equal(p->late_ends, 1);
    assert_int_equal(p->nnodes, 1);

    /* With a span open, an end that matches nothing is the workload's bug. */
    store_span_begin(t, outer, 60);
    store_span_end(t, deep, 70);
    assert_int_equal(p->invalid, 1);
    assert_string_equal(p->invalid_reason, "span end without a begin");
    assert_int_equal(t->depth, 1);
    store_span_end(t, outer, 80);
    assert_int_equal(store_series_count(&node_at(p, "outer")->s), 1);

    /* outer ends while inner and deep are still open: they are discarded, outer counts. */
    store_span_begin(t, outer, 100);
    store_span_begin(t, inner, 110);
    store_span_begin(t, deep, 120);
    store_span_end(t, outer, 300);
    assert_int_equal(p->invalid, 3);
    assert_string_equal(p->invalid_reason, "unmatched span");
    assert_int_equal(t->depth, 0);
    assert_int_equal(store_series_count(&node_at(p, "outer")->s), 2);
    assert_int_equal(store_series_sum(&node_at(p, "outer")->s), 20 + 200);
    assert_int_equal(store_series_count(&node_at(p, "outer/inner")->s), 0);
    assert_int_equal(store_series_count(&node_at(p, "outer/inner/deep")->s), 0);

    /* An end earlier than its begin is dropped (and the frame popped). */
    store_span_begin(t, outer, 500);
    store_span_end(t, outer, 400);
    assert_int_equal(p->invalid, 4);
    assert_string_equal(p->invalid_reason, "span ends before it begins");
    assert_int_equal(t->depth, 0);
    assert_int_equal(store_series_count(&node_at(p, "outer")->s), 2);

    /* Unknown name ids are refused. */
    store_span_begin(t, 77, 600);
    assert_int_equal(p->invalid, 5);
    assert_int_equal(t->depth, 0);

    /* A begin without an end, then the thread exits: the span is discarded and counted. */
    store_span_begin(t, outer, 700);
    store_span_begin(t, inner, 710);
    store_thread_exit(t, 800);
    assert_int_equal(p->invalid, 7);
    assert_string_equal(p->invalid_reason, "span still open at thread exit");
    assert_int_equal(p->nthreads, 0);
    assert_int_equal(store_series_count(&node_at(p, "outer")->s), 2);
    assert_int_equal(store_series_count(&node_at(p, "outer/inner")->s), 0);

    /* Functions taking a thread ignore NULL (what store_thread_add gives beyond the bound). */
    store_span_begin(NULL, outer, 900);
    store_span_end(NULL, outer, 901);
    store_mem_delta(NULL, 5, 902);
    store_thread_exit(NULL, 903);
    store_free(st);
}

/* Lost events: the open spans are forgotten, later ends are ignored, nothing is invalid. */
static void test_gap(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct store_thread *t = store_thread_add(p, 10, NULL);
    uint32_t outer = store_proc_intern(p, "outer");
    uint32_t inner = store_proc_intern(p, "inner");

    (void)state;
    store_span_begin(t, outer, 100);
    store_span_begin(t, inner, 110); /* its end is among the lost events */
    store_thread_gap(t);
    store_span_end(t, outer, 200);
    assert_int_equal(p->invalid, 0);
    assert_int_equal(t->depth, 0);
    assert_int_equal(store_series_count(&node_at(p, "outer")->s), 0);
    store_span_begin(t, outer, 300);
    store_span_end(t, outer, 350);
    assert_int_equal(store_series_count(&node_at(p, "outer")->s), 1);
    assert_int_equal(store_series_sum(&node_at(p, "outer")->s), 50);
    store_thread_gap(NULL);
    store_free(st);
}

static void test_window(void **state)
{
    struct store *st = store_new(NULL); /* 10 slots of 1 s */
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct store_thread *t = store_thread_add(p, 10, NULL);
    uint32_t step = store_proc_intern(p, "step");
    const struct store_node *n;
    struct hist w;
    uint64_t cnt;
    uint64_t sec;

    (void)state;
    assert_int_equal(store_config(st)->window_ns, 10 * SEC);
    hist_init(&w);
    /* One span per second, ending at s + 0.5 s, lasting s ms, for s = 100 .. 129. */
    for (sec = 100; sec < 130; sec++) {
        store_span_begin(t, step, sec * SEC + SEC / 2 - sec * MS);
        store_span_end(t, step, sec * SEC + SEC / 2);
    }
    n = node_at(p, "step");
    assert_int_equal(store_series_count(&n->s), 30);

    /* The window ending at 129.9 s covers slots 120..129: ten samples of 120..129 ms. */
    store_series_window(p, &n->s, 129 * SEC + 900 * MS, &w);
    assert_int_equal(w.count, 10);
    assert_int_equal(w.min_ns, 120 * MS);
    assert_int_equal(w.max_ns, 129 * MS);
    assert_int_equal(store_series_window_sum(p, &n->s, 129 * SEC + 900 * MS, &cnt),
                     (120 + 129) * 5 * MS);
    assert_int_equal(cnt, 10);

    /* As now advances without new samples, old slots drop out one by one. */
    store_series_window(p, &n->s, 135 * SEC, &w);
    assert_int_equal(w.count, 4);
    assert_int_equal(w.min_ns, 126 * MS);
    store_series_window(p, &n->s, 139 * SEC + 999 * MS, &w);
    assert_int_equal(w.count, 0);
    /* Since-start statistics do not move. */
    assert_int_equal(store_series_count(&n->s), 30);

    /* Only the slots still in the ingest window keep memory: the older ones were recycled. */
    {
        uint32_t held = 0;
        uint32_t i;

        for (i = 0; i < st->nslots; i++) {
            held += n->s.win[i] != NULL;
        }
        assert_int_equal(held, 10);
    }
    /* A sample in a later slot (far ahead) makes every old slot expire and be freed. */
    store_span_begin(t, step, 500 * SEC);
    store_span_end(t, step, 500 * SEC + 7 * MS);
    {
        uint32_t held = 0;
        uint32_t i;

        for (i = 0; i < st->nslots; i++) {
            held += n->s.win[i] != NULL;
        }
        assert_int_equal(held, 1);
        assert_non_null(p->free_slots);
    }
    store_series_window(p, &n->s, 500 * SEC + 8 * MS, &w);
    assert_int_equal(w.count, 1);
    assert_int_equal(w.sum_ns, 7 * MS);
    hist_done(&w);
    store_free(st);
}

/* Deltas that overflow int64 (a fuzzed recording): the sums hold at the limits instead of
 * wrapping (undefined behaviour in C). */
static void test_issue_10_mem_delta_saturates(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct store_thread *t = store_thread_add(p, 10, NULL);
    uint32_t step = store_proc_intern(p, "step");
    uint32_t attn = store_proc_intern(p, "attn");

    (void)state;
    store_span_begin(t, step, 10);
    store_mem_delta(t, INT64_MAX, 11);
    store_span_begin(t, attn, 12);
    store_mem_delta(t, INT64_MAX, 13);
    store_mem_delta(t, INT64_MAX, 14);
    store_span_end(t, attn, 15);
    store_span_end(t, step, 19);
    assert_int_equal(node_at(p, "step/attn")->mem_last_bytes, INT64_MAX);
    assert_int_equal(node_at(p, "step")->mem_last_bytes, INT64_MAX);
    store_span_begin(t, step, 20);
    store_mem_delta(t, INT64_MIN, 21);
    store_mem_delta(t, -1, 22);
    store_span_end(t, step, 23);
    assert_int_equal(node_at(p, "step")->mem_last_bytes, INT64_MIN);
    store_free(st);
}

static void test_mem_deltas(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct store_thread *t = store_thread_add(p, 10, NULL);
    uint32_t step = store_proc_intern(p, "step");
    uint32_t attn = store_proc_intern(p, "attn");
    uint32_t mlp = store_proc_intern(p, "mlp");

    (void)state;
    /* step { +100; attn { +1000, -200 }; mlp { +50 } } */
    store_span_begin(t, step, 10);
    store_mem_delta(t, 100, 11);
    store_span_begin(t, attn, 12);
    store_mem_delta(t, 1000, 13);
    store_mem_delta(t, -200, 14);
    store_span_end(t, attn, 15);
    store_span_begin(t, mlp, 16);
    store_mem_delta(t, 50, 17);
    store_span_end(t, mlp, 18);
    store_span_end(t, step, 19);

    assert_true(node_at(p, "step/attn")->mem_seen);
    assert_int_equal(node_at(p, "step/attn")->mem_last_bytes, 800);
    assert_int_equal(node_at(p, "step/mlp")->mem_last_bytes, 50);
    /* Inclusive: step's own +100 plus its children's 800 and 50. */
    assert_int_equal(node_at(p, "step")->mem_last_bytes, 950);
    assert_int_equal(node_at(p, "step")->mem_peak_bytes, 950);

    /* A second instance frees memory: last = the net delta, peak = the largest. */
    store_span_begin(t, step, 20);
    store_span_begin(t, attn, 21);
    store_mem_delta(t, -300, 22);
    store_span_end(t, attn, 23);
    store_span_end(t, step, 24);
    assert_int_equal(node_at(p, "step/attn")->mem_last_bytes, -300);
    assert_int_equal(node_at(p, "step/attn")->mem_peak_bytes, 800);
    assert_int_equal(node_at(p, "step")->mem_last_bytes, -300);
    assert_int_equal(node_at(p, "step")->mem_peak_bytes, 950);
    /* mlp did not run again: its last instance stands. */
    assert_int_equal(node_at(p, "step/mlp")->mem_last_bytes, 50);

    /* Allocations and releases that cancel out: the scope and its ancestors show net 0
     * with a known peak of 0, not "no data". */
    {
        struct store_thread *u = store_thread_add(p, 11, NULL);
        uint32_t top = store_proc_intern(p, "top");
        uint32_t tmp = store_proc_intern(p, "tmp");

        store_span_begin(u, top, 40);
        store_span_begin(u, tmp, 41);
        store_mem_delta(u, 64, 42);
        store_mem_delta(u, -64, 43);
        store_span_end(u, tmp, 44);
        store_span_end(u, top, 45);
        assert_true(node_at(p, "top/tmp")->mem_seen);
        assert_int_equal(node_at(p, "top/tmp")->mem_last_bytes, 0);
        assert_int_equal(node_at(p, "top/tmp")->mem_peak_bytes, 0);
        assert_true(node_at(p, "top")->mem_seen);
        assert_int_equal(node_at(p, "top")->mem_last_bytes, 0);
        /* A node that never saw a delta event stays without memory data. */
        store_span_begin(u, tmp, 50);
        store_span_end(u, tmp, 51);
        assert_false(node_at(p, "tmp")->mem_seen);
        store_thread_exit(u, 60);
    }

    /* A delta outside any span is not attributed anywhere. */
    store_mem_delta(t, 12345, 30);
    assert_int_equal(node_at(p, "step")->mem_last_bytes, -300);
    store_free(st);
}

static void test_kernels(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    uint32_t gemm = store_proc_intern(p, "gemm");
    uint32_t cpu = store_proc_intern(p, "cpu");
    uint32_t cuda = store_proc_intern(p, "cuda");
    struct hist w;
    int i;

    (void)state;
    hist_init(&w);
    for (i = 0; i < 10; i++) {
        store_kernel(p, gemm, cpu, 5 * SEC + (uint64_t)i * 100 * MS, (uint64_t)(i + 1) * MS);
    }
    store_kernel(p, gemm, cuda, 5 * SEC, 3 * MS);
    store_kernel(p, gemm, 999, 5 * SEC, 3 * MS); /* unknown backend id */
    assert_int_equal(p->invalid, 1);
    assert_int_equal(p->nkernels, 2);
    assert_int_equal(p->kernels[0].name, gemm);
    assert_int_equal(p->kernels[0].backend, cpu);
    assert_int_equal(store_series_count(&p->kernels[0].s), 10);
    assert_int_equal(store_series_sum(&p->kernels[0].s), 55 * MS);
    assert_int_equal(p->kernels[0].s.last_ns, 10 * MS);
    assert_int_equal(store_series_count(&p->kernels[1].s), 1);

    /* Window placement by start + duration: a kernel that started in slot 5 but ended in
     * slot 7 belongs to slot 7. */
    store_kernel(p, gemm, cuda, 5 * SEC + 900 * MS, 1200 * MS);
    store_series_window(p, &p->kernels[1].s, 16 * SEC + 500 * MS, &w);
    assert_int_equal(w.count, 1);
    assert_int_equal(w.sum_ns, 1200 * MS);

    /* Bounded table. */
    {
        struct store_config cfg = {.max_kernels = 1};
        struct store *st2 = store_new(&cfg);
        struct store_proc *p2 = store_proc_add(st2, 2, "w");
        uint32_t a = store_proc_intern(p2, "a");
        uint32_t b = store_proc_intern(p2, "b");

        store_kernel(p2, a, b, 0, 1);
        store_kernel(p2, b, b, 0, 1);
        assert_int_equal(p2->nkernels, 1);
        assert_int_equal(p2->invalid, 1);
        store_free(st2);
    }
    hist_done(&w);
    store_free(st);
}

static void test_markers(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");

    (void)state;
    /* A token before any request (attached mid-request): no TTFT, but it starts ITL. */
    store_step(p, STORE_STEP_TOKEN, 1, 1 * SEC);
    store_step(p, STORE_STEP_TOKEN, 1, 1 * SEC + 20 * MS);
    assert_int_equal(store_series_count(&p->ttft), 0);
    assert_int_equal(store_series_count(&p->itl), 1);
    assert_int_equal(p->itl.last_ns, 20 * MS);
    store_step(p, STORE_STEP_REQUEST_END, 0, 1 * SEC + 30 * MS);

    /* Request 1: TTFT 150 ms, then tokens 10 ms apart. */
    store_step(p, STORE_STEP_REQUEST_BEGIN, 0, 2 * SEC);
    store_step(p, STORE_STEP_TOKEN, 1, 2 * SEC + 150 * MS);
    store_step(p, STORE_STEP_TOKEN, 1, 2 * SEC + 160 * MS);
    store_step(p, STORE_STEP_TOKEN, 1, 2 * SEC + 170 * MS);
    /* A batch of 4 tokens 40 ms later: 10 ms per token. */
    store_step(p, STORE_STEP_TOKEN, 4, 2 * SEC + 210 * MS);
    store_step(p, STORE_STEP_REQUEST_END, 0, 2 * SEC + 220 * MS);
    /* After the end, a token makes no ITL sample from the previous request's last token. */
    store_step(p, STORE_STEP_TOKEN, 1, 2 * SEC + 500 * MS);
    assert_int_equal(store_series_count(&p->itl), 4);
    /* Request 2 begins without an END of anything: TTFT 80 ms. */
    store_step(p, STORE_STEP_REQUEST_BEGIN, 0, 3 * SEC);
    store_step(p, STORE_STEP_TOKEN, 1, 3 * SEC + 80 * MS);
    store_step(p, STORE_STEP_REQUEST_BEGIN, 0, 4 * SEC);
    store_step(p, STORE_STEP_TOKEN, 1, 4 * SEC + 90 * MS);

    assert_int_equal(store_series_count(&p->ttft), 3);
    assert_int_equal(series_min(&p->ttft), 80 * MS);
    assert_int_equal(series_max(&p->ttft), 150 * MS);
    assert_int_equal(store_series_sum(&p->ttft), (150 + 80 + 90) * MS);
    assert_int_equal(store_series_count(&p->itl), 4);
    assert_int_equal(store_series_sum(&p->itl), (20 + 10 + 10 + 10) * MS);

    /* Iterations: the gaps between ITERATION markers. */
    store_step(p, STORE_STEP_ITERATION, 1, 10 * SEC);
    store_step(p, STORE_STEP_ITERATION, 1, 10 * SEC + 33 * MS);
    store_step(p, STORE_STEP_ITERATION, 1, 10 * SEC + 66 * MS);
    assert_int_equal(store_series_count(&p->iter), 2);
    assert_int_equal(store_series_sum(&p->iter), 66 * MS);

    store_step(p, (enum store_step_kind)9, 0, 11 * SEC);
    assert_int_equal(p->invalid, 1);
    store_free(st);
}

/* Issue 11: two requests in flight at once, each with its own id, interleaved as two threads
 * would emit them. Request state is per id, so each has its own TTFT and token gaps. */
static void test_issue_11_concurrent_requests(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct rows_summary sum;

    (void)state;
    store_request_step(p, STORE_STEP_REQUEST_BEGIN, 7, 0, 1 * SEC);
    store_request_step(p, STORE_STEP_PROMPT_TOKENS, 7, 30, 1 * SEC);
    store_request_step(p, STORE_STEP_REQUEST_BEGIN, 8, 0, 1 * SEC + 5 * MS);
    store_request_step(p, STORE_STEP_PROMPT_TOKENS, 8, 50, 1 * SEC + 5 * MS);
    for (uint64_t k = 0; k <= 10; k++) {
        store_request_step(p, STORE_STEP_TOKEN, 7, 1, 1 * SEC + (100 + 20 * k) * MS);
        store_request_step(p, STORE_STEP_TOKEN, 8, 1, 1 * SEC + (105 + 20 * k) * MS);
    }
    assert_int_equal(p->reqs.n, 2);
    store_request_step(p, STORE_STEP_REQUEST_END, 7, 0, 1 * SEC + 400 * MS);
    store_request_step(p, STORE_STEP_REQUEST_END, 8, 1, 1 * SEC + 405 * MS);

    assert_int_equal(store_series_count(&p->ttft), 2);
    assert_int_equal(series_min(&p->ttft), 100 * MS);
    assert_int_equal(series_max(&p->ttft), 100 * MS);
    assert_int_equal(store_series_count(&p->itl), 20);
    assert_int_equal(series_min(&p->itl), 20 * MS);
    assert_int_equal(series_max(&p->itl), 20 * MS);
    assert_int_equal(store_series_count(&p->e2e), 2);
    assert_int_equal(store_series_sum(&p->e2e), 800 * MS);

    rows_build_summary(&sum, p, 2 * SEC);
    assert_true(sum.requests.valid);
    assert_int_equal(sum.requests.running, 0);
    assert_int_equal(sum.requests.finished[STORE_REQ_OK], 1);
    assert_int_equal(sum.requests.finished[STORE_REQ_FAILED], 1);
    assert_int_equal(sum.requests.prompt_tokens, 80);
    assert_int_equal(sum.requests.generation_tokens, 22);
    assert_int_equal(sum.requests.prompt.count, 2);
    assert_int_equal(sum.requests.prompt.sum, 80);
    assert_int_equal(sum.requests.generation.max, 11);
    assert_int_equal(sum.ttft.win.p50_ns, 100 * MS);
    assert_int_equal(sum.itl.win.p50_ns, 20 * MS);
    rows_summary_done(&sum);
    store_free(st);
}

/* A request's events may come from two threads whose rings are read in either order: tokens
 * read before their BEGIN still give the TTFT. An END of a request never seen counts. */
static void test_issue_11_request_order_and_unknown(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");

    (void)state;
    store_request_step(p, STORE_STEP_TOKEN, 5, 1, 1 * SEC + 120 * MS);
    store_request_step(p, STORE_STEP_TOKEN, 5, 1, 1 * SEC + 140 * MS);
    store_request_step(p, STORE_STEP_REQUEST_BEGIN, 5, 0, 1 * SEC);
    assert_int_equal(store_series_count(&p->ttft), 1);
    assert_int_equal(series_max(&p->ttft), 120 * MS);
    assert_int_equal(store_series_count(&p->itl), 1);
    store_request_step(p, STORE_STEP_REQUEST_END, 5, 0, 1 * SEC + 150 * MS);
    assert_int_equal(series_max(&p->e2e), 150 * MS);

    /* Begun before attaching: counted as finished, not timed. */
    store_request_step(p, STORE_STEP_REQUEST_END, 99, 2, 2 * SEC);
    assert_int_equal(p->req_finished[STORE_REQ_CANCELLED], 1);
    assert_int_equal(store_series_count(&p->e2e), 1);
    assert_int_equal(p->reqs.n, 0);
    store_free(st);
}

/* Requests in flight are bounded: past max_requests the least recently active one is
 * forgotten and counted as a loss; the table's index stays consistent through removals. */
static void test_issue_11_request_table_bounded(void **state)
{
    struct store_config cfg = {.max_requests = 64};
    struct store *st = store_new(&cfg);
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct rows_summary sum;

    (void)state;
    for (uint64_t i = 0; i < 1000; i++) {
        store_request_step(p, STORE_STEP_REQUEST_BEGIN, i * 0x9e3779b97f4a7c15ULL, 0,
                           1 * SEC + i * MS);
        /* Keep request 0 active: it is never the one evicted. */
        store_request_step(p, STORE_STEP_TOKEN, 0, 1, 1 * SEC + i * MS);
    }
    assert_int_equal(p->reqs.n, 64);
    assert_int_equal(p->req_evicted, 1000 - 64);
    /* The newest 63 and request 0 are still known: their ends are timed. */
    for (uint64_t i = 1000 - 63; i < 1000; i++) {
        store_request_step(p, STORE_STEP_REQUEST_END, i * 0x9e3779b97f4a7c15ULL, 0, 3 * SEC);
    }
    store_request_step(p, STORE_STEP_REQUEST_END, 0, 0, 3 * SEC);
    assert_int_equal(store_series_count(&p->e2e), 64);
    assert_int_equal(p->reqs.n, 0);
    rows_build_summary(&sum, p, 3 * SEC);
    assert_int_equal(sum.losses[STORE_LOSS_REQUEST_EVICTED], 1000 - 64);
    assert_true(sum.dropped >= 1000 - 64);
    rows_summary_done(&sum);
    store_free(st);
}

static void test_counters(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    uint32_t tokens = store_proc_intern(p, "tokens");
    double rate;
    uint64_t t;

    (void)state;
    /* 50 tokens/s, polled every 10 ms for 20 s: samples are thinned to >= 100 ms apart. */
    for (t = 0; t <= 2000; t++) {
        store_counter_set(p, tokens, t / 2, 100 * SEC + t * 10 * MS);
    }
    assert_int_equal(p->ncounters, 1);
    assert_int_equal(p->counters[0].value, 1000);
    assert_true(p->counters[0].rate.n <= p->counters[0].rate.cap);
    assert_true(store_rate_per_sec(&p->counters[0].rate, 120 * SEC, 10 * SEC, &rate));
    assert_true(rate > 49.0 && rate < 51.0);

    /* The rate changes within a window: 200/s for the last 5 s makes the window's average
     * (50 * 5 + 200 * 5) / 10 = 125/s. */
    for (t = 1; t <= 500; t++) {
        store_counter_set(p, tokens, 1000 + t * 2, 120 * SEC + t * 10 * MS);
    }
    assert_true(store_rate_per_sec(&p->counters[0].rate, 125 * SEC, 10 * SEC, &rate));
    assert_true(rate > 120.0 && rate < 130.0);

    /* No point within the window: no rate. */
    assert_false(store_rate_per_sec(&p->counters[0].rate, 200 * SEC, 10 * SEC, &rate));

    /* CPU time: 0.5 s of CPU per second of wall time. */
    for (t = 0; t <= 10; t++) {
        store_proc_set_host(p, 100 << 20, 120 << 20, t * SEC / 2, 300 * SEC + t * SEC);
    }
    assert_true(p->host_valid);
    assert_int_equal(p->rss_peak_bytes, 120 << 20);
    assert_true(store_rate_per_sec(&p->cpu, 310 * SEC, 10 * SEC, &rate));
    assert_true(rate > 0.49e9 && rate < 0.51e9);
    store_free(st);
}

static void test_bounds(void **state)
{
    struct store_config cfg = {.max_nodes = 3, .max_depth = 4, .max_threads = 2};
    struct store *st = store_new(&cfg);
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct store_thread *t = store_thread_add(p, 10, NULL);
    uint32_t id[8];
    char name[16];
    int i;

    (void)state;
    for (i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        id[i] = store_proc_intern(p, name);
    }
    /* Depth 6 on a max_depth of 4: the two innermost begins are refused and counted; their
     * ends are absorbed, and the outer spans still close correctly. */
    for (i = 0; i < 6; i++) {
        store_span_begin(t, id[i], 100 + (uint64_t)i);
    }
    assert_int_equal(t->depth, 4);
    assert_int_equal(t->overflow, 2);
    /* max_nodes 3: s0, s1, s2 get nodes; s3 is folded into the top-level "(other)" node (made
     * past the cap) and counted, not invalid. */
    assert_int_equal(p->nnodes, 5);
    assert_int_equal(p->invalid, 2);
    assert_int_equal(p->folded, 1);
    for (i = 5; i >= 0; i--) {
        store_span_end(t, id[i], 200 + (uint64_t)(5 - i));
    }
    assert_int_equal(t->depth, 0);
    assert_int_equal(t->overflow, 0);
    assert_int_equal(p->invalid, 2);
    assert_int_equal(store_series_count(&node_at(p, "s0")->s), 1);
    assert_int_equal(store_series_sum(&node_at(p, "s0")->s), 205 - 100);
    assert_int_equal(store_series_sum(&node_at(p, "s0/s1/s2")->s), 203 - 102);
    assert_int_equal(find_node(p, "s0/s1/s2/s3"), STORE_NONE);
    assert_int_equal(store_series_count(&node_at(p, STORE_OTHER_NAME)->s), 1);
    assert_int_equal(store_series_sum(&node_at(p, STORE_OTHER_NAME)->s), 202 - 103);

    /* A new top-level span folds too; a span inside a folded one gets no node of its own (its
     * time is in the folded one's), counted as well. */
    store_span_begin(t, id[7], 300);
    store_span_begin(t, id[6], 301);
    store_span_begin(t, id[5], 302);
    assert_int_equal(p->nnodes, 5);
    assert_int_equal(p->folded, 4);
    store_span_end(t, id[5], 303);
    store_span_end(t, id[6], 304);
    store_span_end(t, id[7], 310);
    assert_int_equal(t->depth, 0);
    assert_int_equal(p->invalid, 2);
    assert_int_equal(store_series_count(&node_at(p, STORE_OTHER_NAME)->s), 2);
    assert_int_equal(store_series_sum(&node_at(p, STORE_OTHER_NAME)->s), 99 + 10);
    /* the nodes made before the tree was full are still found */
    store_span_begin(t, id[0], 400);
    store_span_end(t, id[0], 401);
    assert_int_equal(store_series_count(&node_at(p, "s0")->s), 2);
    assert_int_equal(p->folded, 4);

    /* max_threads 2. */
    assert_non_null(store_thread_add(p, 11, NULL));
    assert_null(store_thread_add(p, 12, NULL));
    assert_int_equal(p->nthreads, 2);
    assert_int_equal(p->invalid, 3);
    store_free(st);

    /* A workload's own top-level "(other)" span is the row the fold uses: one node, not two. */
    st = store_new(&cfg);
    p = store_proc_add(st, 1, "w");
    t = store_thread_add(p, 10, NULL);
    id[0] = store_proc_intern(p, STORE_OTHER_NAME);
    for (i = 1; i < 4; i++) {
        snprintf(name, sizeof(name), "s%d", i);
        id[i] = store_proc_intern(p, name);
    }
    for (i = 0; i < 4; i++) { /* (other), s1, s2 make the tree full; s3 folds */
        store_span_begin(t, id[i], 100 + (uint64_t)i);
        store_span_end(t, id[i], 110 + (uint64_t)i);
    }
    assert_int_equal(p->nnodes, 4);
    assert_int_equal(p->folded, 1);
    assert_int_equal(store_series_count(&node_at(p, STORE_OTHER_NAME)->s), 2);
    store_free(st);
}

static void test_gauges_weights(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    uint32_t pool = store_proc_intern(p, "pool");
    uint32_t w = store_proc_intern(p, "layers.0.w");

    (void)state;
    store_gauge_set(p, pool, STORE_MEM_POOL, 0, 100, 200, 0);
    store_gauge_set(p, pool, STORE_MEM_POOL, 0, 50, 200, 0);
    assert_int_equal(p->ngauges, 1);
    assert_int_equal(p->gauges[0].used_bytes, 50);
    assert_int_equal(p->gauges[0].peak_bytes, 100);
    store_gauge_set(p, pool, (enum store_mem_kind)7, 0, 1, 1, 1);
    assert_int_equal(p->invalid, 1);

    store_weight_set(p, w, 0, 4096);
    assert_int_equal(p->nweights, 1);
    store_weight_set(p, w, 0, 0);
    assert_int_equal(p->weights[0].bytes, 0);

    store_proc_set_state(p, STORE_PROC_EXITED, "exited with status 0", 5);
    assert_int_equal(p->state, STORE_PROC_EXITED);
    assert_int_equal(store_proc_state(p), STORE_PROC_EXITED);
    assert_int_equal(store_proc_pid(p), 1);
    assert_string_equal(p->reason, "exited with status 0");
    store_proc_set_label(p, "renamed");
    assert_string_equal(p->label, "renamed");
    store_free(st);
}

/* Issue 10: span ends without a begin were counted and never shown; every loss cause reaches
 * the summary, and the display's "dropped" figure includes the refusals. */
static void test_issue_10_losses_in_summary(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct store_thread *t = store_thread_add(p, 1, "main");
    uint32_t a = store_proc_intern(p, "a");
    struct rows_summary sum;

    (void)state;
    store_span_end(t, a, 5 * MS); /* begun before we attached */
    store_span_end(t, a, 6 * MS);
    store_proc_set_dropped(p, 7);
    store_proc_set_loss(p, STORE_LOSS_RING_FULL, 3);
    store_proc_set_loss(p, STORE_LOSS_READER_STALL, 4);
    store_proc_set_loss(p, STORE_LOSS_REGISTRATION, 934466);
    store_proc_set_loss(p, STORE_LOSS_LIMIT, 10);
    rows_build_summary(&sum, p, 10 * MS);
    assert_int_equal(sum.late_ends, 2);
    assert_int_equal(sum.invalid, 0);
    assert_int_equal(sum.losses[STORE_LOSS_RING_FULL], 3);
    assert_int_equal(sum.losses[STORE_LOSS_READER_STALL], 4);
    assert_int_equal(sum.losses[STORE_LOSS_REGISTRATION], 934466);
    assert_int_equal(sum.dropped, 7 + 934466 + 10);
    assert_string_equal(rows_loss_names[STORE_LOSS_READER_STALL], "reader_stall");
    rows_summary_done(&sum);
    store_free(st);
}

static void test_observer_nop(void *ctx, const struct store_event *ev)
{
    (void)ctx;
    (void)ev;
}

/* Issue 10: exited processes can be forgotten; what rows borrowed stays readable for the
 * grace period; a live process or a recording store refuses. */
static void test_issue_10_proc_remove(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p1 = store_proc_add(st, 1, "one");
    struct store_proc *p2 = store_proc_add(st, 2, "two");
    struct store_proc *p3 = store_proc_add(st, 3, "three");
    const char *label;

    (void)state;
    assert_int_equal(store_config(st)->exited_keep_ns, 300 * SEC);
    assert_int_equal(store_proc_remove(p1, 1 * SEC), -EINVAL); /* live */
    store_proc_set_state(p1, STORE_PROC_EXITED, "gone", 1 * SEC);
    store_proc_set_state(p2, STORE_PROC_ERROR, "bad", 1 * SEC);
    store_set_observer(st, test_observer_nop, NULL);
    assert_int_equal(store_proc_remove(p1, 2 * SEC), -EBUSY);
    store_set_observer(st, NULL, NULL);

    label = p1->label;
    assert_int_equal(store_proc_remove(p1, 2 * SEC), 0);
    assert_int_equal(store_nprocs(st), 2);
    assert_ptr_equal(store_proc_at(st, 0), p2); /* order kept */
    assert_ptr_equal(store_proc_at(st, 1), p3);
    assert_null(store_proc_find(st, 1));
    assert_string_equal(label, "one");                         /* still valid within the grace */
    assert_int_equal(store_proc_remove(p1, 3 * SEC), -EINVAL); /* not in the list any more */
    /* p1 is freed by a later removal once the grace is over (ASan checks the rest). */
    assert_int_equal(store_proc_remove(p2, 2 * SEC + STORE_REMOVED_GRACE_NS), 0);
    assert_int_equal(store_nprocs(st), 1);
    store_free(st);
}

/* test_issue_11: a probe's spans nest in the spans of the thread's own source, in time order,
 * whichever stream reaches the store first; nothing is applied before both sources are past
 * an event's time. Spans of the two may cross, and a probe's end without its begin (a call
 * entered while the probe was being attached) is not invalid. */
static void test_issue_11_probe_spans_nest(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    uint32_t step = store_proc_intern(p, "step"), rope = store_proc_intern(p, "rope");
    uint32_t kr = store_proc_intern(p, "kernels_rope"), f = store_proc_intern(p, "f");
    struct store_thread *t, *u;

    (void)state;
    store_probe_source(st, true, NULL, NULL);
    store_proc_own_source(p, true);
    t = store_thread_share(p, 7, "main", STORE_SRC_OWN);
    u = store_thread_share(p, 7, NULL, STORE_SRC_PROBE);
    assert_ptr_equal(t, u);
    /* The ring's drain first, the probes' events after. */
    store_span_begin(t, step, 10);
    store_span_begin(t, rope, 20);
    store_span_end(t, rope, 50);
    store_span_end(t, step, 100);
    store_proc_own_time(p, 200);
    assert_int_equal(find_node(p, "step"), STORE_NONE); /* waits for the probes */
    store_probe_begin(u, kr, 25);
    store_probe_end(u, kr, 30);
    store_probe_begin(u, kr, 35);
    store_probe_end(u, kr, 40);
    store_probe_time(st, 200);
    assert_int_equal(store_series_count(&node_at(p, "step/rope/kernels_rope")->s), 2);
    assert_int_equal(store_series_count(&node_at(p, "step/rope")->s), 1);
    assert_int_equal(find_node(p, "kernels_rope"), STORE_NONE);
    /* The probes' events first this time. */
    store_probe_begin(u, kr, 225);
    store_probe_end(u, kr, 230);
    store_probe_time(st, 300);
    store_span_begin(t, step, 210);
    store_span_begin(t, rope, 220);
    store_span_end(t, rope, 250);
    store_span_end(t, step, 260);
    store_proc_own_time(p, 300);
    assert_int_equal(store_series_count(&node_at(p, "step/rope/kernels_rope")->s), 3);
    /* Crossing: f (probed) begins, a span begins inside, f returns, the span ends. */
    store_probe_begin(u, f, 310);
    store_span_begin(t, step, 320);
    store_probe_end(u, f, 330);
    store_span_end(t, step, 340);
    /* A return without its call, inside a span. */
    store_span_begin(t, rope, 350);
    store_probe_end(u, kr, 360);
    store_span_end(t, rope, 370);
    store_probe_time(st, 400);
    store_proc_own_time(p, 400);
    assert_int_equal(store_series_count(&node_at(p, "f")->s), 1);
    assert_int_equal(store_series_count(&node_at(p, "f/step")->s), 1);
    assert_int_equal(store_series_count(&node_at(p, "rope")->s), 1);
    assert_int_equal(p->invalid, 0);
    assert_int_equal(p->late_ends, 1);
    /* The thread goes once both sources let it go and are past that time. */
    store_thread_unshare(t, STORE_SRC_OWN, 450);
    assert_int_equal(p->nthreads, 1);
    store_thread_unshare(u, STORE_SRC_PROBE, 460);
    store_proc_own_time(p, 500);
    store_probe_time(st, 500);
    assert_int_equal(p->nthreads, 0);
    store_free(st);
}

/* test_issue_11: a thread whose place in its stack is unknown (attached late) counts neither
 * the spans whose begin it did not see nor what ran inside them after the attach, and makes
 * no root of them; it is back at its top level when its loop's span begins again. */
static void test_issue_11_resync_drops_orphans(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 1, "w");
    uint32_t step = store_proc_intern(p, "step"), fwd = store_proc_intern(p, "forward");
    uint32_t blk0 = store_proc_intern(p, "block 0"), blk = store_proc_intern(p, "block 1");
    uint32_t out = store_proc_intern(p, "output");
    struct store_thread *t = store_thread_add(p, 1, "main");
    uint64_t ts = 0;

    (void)state;
    store_thread_resync(t, ++ts);
    store_span_end(t, blk0, ++ts); /* inside step/forward/block 0 when attached */
    store_span_begin(t, blk, ++ts);
    store_mem_delta(t, 64, ++ts);
    store_span_end(t, blk, ++ts);
    store_span_end(t, fwd, ++ts);
    store_span_begin(t, out, ++ts);
    store_span_end(t, out, ++ts);
    store_span_end(t, step, ++ts);
    for (int k = 0; k < 3; k++) {
        store_span_begin(t, step, ++ts);
        store_span_begin(t, fwd, ++ts);
        store_span_end(t, fwd, ++ts);
        store_span_end(t, step, ++ts);
    }
    assert_int_equal(store_series_count(&node_at(p, "step")->s), 3);
    assert_int_equal(store_series_count(&node_at(p, "step/forward")->s), 3);
    assert_int_equal(find_node(p, "block 1"), STORE_NONE);
    assert_int_equal(find_node(p, "output"), STORE_NONE);
    assert_int_equal(p->invalid, 0);
    assert_int_equal(p->late_ends, 3);

    /* Attached at the top level: what was held counts, once the loop shows. */
    store_thread_resync(t, ++ts);
    store_span_begin(t, out, ++ts);
    store_span_end(t, out, ++ts);
    store_span_begin(t, step, ++ts);
    store_span_end(t, step, ++ts);
    assert_int_equal(find_node(p, "output"), STORE_NONE);
    store_span_begin(t, step, ++ts);
    store_span_end(t, step, ++ts);
    assert_int_equal(store_series_count(&node_at(p, "output")->s), 1);
    assert_int_equal(store_series_count(&node_at(p, "step")->s), 5);
    store_free(st);
}

/* Issue 10: the passes of an instance with empty names (a fuzzed trace) get paths with a
 * separator between every two levels; the path builder once wrote before its buffer. */
static void test_issue_10_instance_empty_names(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 78, "snnc");
    struct store_thread *t = store_thread_add(p, 78, "main");
    uint32_t compile = store_proc_intern(p, "compile"), empty = store_proc_intern(p, "");
    uint32_t o = store_proc_intern(p, "o"), model = store_proc_intern(p, "model");
    struct rows_instances in;
    uint64_t b = 100 * SEC;

    (void)state;
    assert_int_not_equal(empty, 0);
    store_span_begin(t, compile, b);
    store_span_attr(t, model, o, b);
    store_span_begin(t, empty, b + 1 * MS);
    store_span_begin(t, o, b + 2 * MS);
    store_span_end(t, o, b + 3 * MS);
    store_span_end(t, empty, b + 4 * MS);
    store_span_begin(t, o, b + 5 * MS);
    store_span_begin(t, empty, b + 6 * MS);
    store_span_end(t, empty, b + 7 * MS);
    store_span_end(t, o, b + 8 * MS);
    store_span_end_status(t, compile, 0, b + 9 * MS);

    rows_build_instances(&in, p);
    assert_int_equal(in.n, 1);
    assert_int_equal(in.v[0].nchildren, 4);
    assert_string_equal(in.v[0].children[0].path, "");
    assert_string_equal(in.v[0].children[1].path, "/o");
    assert_string_equal(in.v[0].children[2].path, "o");
    assert_string_equal(in.v[0].children[3].path, "o/");
    rows_instances_done(&in);
    store_free(st);
}

/* test_issue_15: spans that end with a status or carry attributes are kept one by one (a
 * compilation), with their passes, memory peak and status; each path counts ok and failed. */
static void test_issue_15_instances(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 77, "snnc");
    struct store_thread *t = store_thread_add(p, 77, "main");
    uint32_t compile = store_proc_intern(p, "compile"), parse = store_proc_intern(p, "parse");
    uint32_t place = store_proc_intern(p, "place"), anneal = store_proc_intern(p, "anneal");
    uint32_t model = store_proc_intern(p, "model"), target = store_proc_intern(p, "target");
    uint32_t brunel = store_proc_intern(p, "brunel"), loihi = store_proc_intern(p, "loihi2");
    uint32_t why = store_proc_intern(p, "does not fit: 9000 neurons > 8192 per core");
    struct rows_instances in;
    struct rows r;
    uint64_t b = 100 * SEC;

    (void)state;
    /* One that works: parse (+4 MB, -1 MB), place > anneal (+8 MB, -8 MB), ok. */
    store_span_begin(t, compile, b);
    store_span_attr(t, model, brunel, b);
    store_span_attr(t, target, loihi, b);
    store_span_begin(t, parse, b + 1 * MS);
    store_mem_delta(t, 4 << 20, b + 2 * MS);
    store_mem_delta(t, -(1 << 20), b + 3 * MS);
    store_span_end(t, parse, b + 5 * MS);
    store_span_begin(t, place, b + 5 * MS);
    store_span_begin(t, anneal, b + 6 * MS);
    store_mem_delta(t, 8 << 20, b + 7 * MS);
    store_mem_delta(t, -(8 << 20), b + 8 * MS);
    store_span_end(t, anneal, b + 9 * MS);
    store_span_end(t, place, b + 10 * MS);
    store_span_end_status(t, compile, 0, b + 12 * MS);
    /* One that fails in place, without attributes: kept for its status. */
    store_span_begin(t, compile, b + 20 * MS);
    store_span_begin(t, place, b + 21 * MS);
    store_span_end(t, place, b + 22 * MS);
    store_span_end_status(t, compile, why, b + 23 * MS);
    /* A plain span is not an instance. */
    store_span_begin(t, parse, b + 30 * MS);
    store_span_end(t, parse, b + 31 * MS);

    rows_build_instances(&in, p);
    assert_int_equal(in.n, 2);
    assert_int_equal(in.total, 2);
    assert_int_equal(in.ok, 1);
    assert_int_equal(in.failed, 1);
    /* Newest first. */
    assert_string_equal(in.v[0].path, "compile");
    assert_int_equal(in.v[0].status, ROWS_INST_FAILED);
    assert_string_equal(in.v[0].message, "does not fit: 9000 neurons > 8192 per core");
    assert_int_equal(in.v[0].dur_ns, 3 * MS);
    assert_int_equal(in.v[0].nattrs, 0);
    assert_int_equal(in.v[0].nchildren, 0); /* nothing asked for its passes */
    assert_int_equal(in.v[1].status, ROWS_INST_OK);
    assert_null(in.v[1].message);
    assert_int_equal(in.v[1].dur_ns, 12 * MS);
    assert_int_equal(in.v[1].nattrs, 2);
    assert_string_equal(in.v[1].attrs[0].key, "model");
    assert_string_equal(in.v[1].attrs[0].value, "brunel");
    assert_string_equal(in.v[1].attrs[1].value, "loihi2");
    assert_int_equal(in.v[1].mem_peak, 11 << 20); /* 4 - 1 + 8 at the anneal's height */
    assert_int_equal(in.v[1].mem_net, 3 << 20);
    assert_int_equal(in.v[1].nchildren, 3);
    assert_string_equal(in.v[1].children[0].path, "parse");
    assert_int_equal(in.v[1].children[0].dur_ns, 4 * MS);
    assert_int_equal(in.v[1].children[0].mem_bytes, 3 << 20);
    assert_string_equal(in.v[1].children[1].path, "place");
    assert_int_equal(in.v[1].children[1].level, 1);
    assert_string_equal(in.v[1].children[2].path, "place/anneal");
    assert_int_equal(in.v[1].children[2].level, 2);
    assert_int_equal(in.v[1].children[2].begin_ns - in.v[1].begin_ns, 6 * MS);
    rows_instances_done(&in);

    /* The latency row of compile counts both ends and keeps the message. */
    rows_init(&r);
    rows_build_latency(&r, p, b + SEC);
    assert_string_equal(r.v[0].path, "compile");
    assert_int_equal(r.v[0].ok, 1);
    assert_int_equal(r.v[0].failed, 1);
    assert_string_equal(r.v[0].last_error, "does not fit: 9000 neurons > 8192 per core");
    rows_done(&r);
    store_free(st);
}

/* test_issue_15: the Compile view's rows: a compilation per instance, newest first, with its
 * target, result, message, memory, peak, energy attribute and its pass tree (time, share,
 * memory delta); the totals and the window's histogram; the per-pass histograms per label
 * pair and their bound; sorting by result and energy. */
static void test_issue_15_compile_rows(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 79, "snnc");
    struct store_thread *t = store_thread_add(p, 79, "main");
    uint32_t compile = store_proc_intern(p, "compile"), parse = store_proc_intern(p, "parse");
    uint32_t place = store_proc_intern(p, "place"), anneal = store_proc_intern(p, "anneal");
    uint32_t model = store_proc_intern(p, "model"), target = store_proc_intern(p, "target");
    uint32_t energy = store_proc_intern(p, "energy_j"), e1 = store_proc_intern(p, "7.59e-06");
    uint32_t ff = store_proc_intern(p, "ff"), tn = store_proc_intern(p, "truenorth");
    uint32_t why = store_proc_intern(p, "partition: does not fit");
    struct rows_instances in;
    struct rows_summary sum;
    struct rows_sort sort = {.key = ROWS_SORT_FAILED};
    uint32_t order[16];
    struct rows r;
    uint64_t b = 100 * SEC;

    (void)state;
    store_span_begin(t, compile, b);
    store_span_attr(t, model, ff, b);
    store_span_attr(t, target, tn, b);
    store_span_begin(t, parse, b + 1 * MS);
    store_mem_delta(t, 4 << 20, b + 2 * MS);
    store_span_end(t, parse, b + 3 * MS);
    store_span_begin(t, place, b + 3 * MS);
    store_span_begin(t, anneal, b + 4 * MS);
    store_mem_delta(t, -(1 << 20), b + 5 * MS);
    store_span_end(t, anneal, b + 6 * MS);
    store_span_end(t, place, b + 8 * MS);
    store_span_attr(t, energy, e1, b + 9 * MS);
    store_span_end_status(t, compile, 0, b + 10 * MS);
    store_span_begin(t, compile, b + 20 * MS);
    store_span_attr(t, model, ff, b + 20 * MS);
    store_span_attr(t, target, tn, b + 20 * MS);
    store_span_begin(t, parse, b + 21 * MS);
    store_span_end(t, parse, b + 22 * MS);
    store_span_end_status(t, compile, why, b + 30 * MS);

    rows_init(&r);
    rows_build_compile(&r, p, b + SEC);
    assert_int_equal(r.n, 6); /* #2 > parse, #1 > parse, place > anneal */
    assert_string_equal(r.v[0].label, "#2 ff");
    assert_int_equal(r.v[0].kind, ROW_COMPILE);
    assert_int_equal(r.v[0].level, 0);
    assert_int_equal(r.v[0].failed, 1);
    assert_int_equal(r.v[0].ok, 0);
    assert_string_equal(r.v[0].last_error, "partition: does not fit");
    assert_string_equal(r.v[0].backend, "truenorth");
    assert_int_equal(r.v[0].win.last_ns, 10 * MS);
    assert_int_equal(r.v[0].nchildren, 1);
    assert_false(r.v[0].flags & ROW_F_ENERGY);
    assert_string_equal(r.v[1].path, "#2 ff/parse");
    assert_int_equal(r.v[1].level, 1);
    assert_true(r.v[1].flags & ROW_F_SHARE);
    assert_true(r.v[1].share_pct > 9.99 && r.v[1].share_pct < 10.01);
    assert_string_equal(r.v[2].label, "#1 ff");
    assert_int_equal(r.v[2].ok, 1);
    assert_null(r.v[2].last_error);
    assert_true(r.v[2].flags & ROW_F_ENERGY);
    assert_true(r.v[2].energy_j > 7.589e-6 && r.v[2].energy_j < 7.591e-6);
    assert_true(r.v[2].flags & ROW_F_PEAK);
    assert_int_equal(r.v[2].peak_bytes, 4 << 20);
    assert_int_equal(r.v[2].bytes, 3 << 20);
    assert_int_equal(r.v[2].nchildren, 2);
    assert_string_equal(r.v[3].label, "parse");
    assert_int_equal(r.v[3].bytes, 4 << 20);
    assert_int_equal(r.v[3].all.last_ns, 2 * MS);
    assert_string_equal(r.v[4].path, "#1 ff/place");
    assert_string_equal(r.v[5].path, "#1 ff/place/anneal");
    assert_int_equal(r.v[5].level, 2);
    assert_int_equal(r.v[4].nchildren, 1);
    assert_true(r.v[5].share_pct > 19.99 && r.v[5].share_pct < 20.01);
    /* Sorted by result, the failed one first; by energy, the one with it first. */
    rows_sort(&r, &sort, order);
    assert_int_equal(order[0], 0);
    sort.key = ROWS_SORT_STEP_ENERGY;
    rows_sort(&r, &sort, order);
    assert_int_equal(order[0], 2);
    rows_done(&r);

    /* The totals, and the window's histogram: the shortest in bin 0, the longest last. */
    rows_build_summary(&sum, p, b + SEC);
    assert_int_equal(sum.compile.total, 2);
    assert_int_equal(sum.compile.ok, 1);
    assert_int_equal(sum.compile.failed, 1);
    assert_int_equal(sum.compile.win_n, 2);
    assert_int_equal(sum.compile.win_min_ns, 10 * MS);
    assert_int_equal(sum.compile.win_max_ns, 10 * MS);
    assert_int_equal(sum.compile.bins[0], 2);
    rows_summary_done(&sum);
    rows_build_summary(&sum, p, b + 100 * SEC);
    assert_int_equal(sum.compile.total, 2);
    assert_int_equal(sum.compile.win_n, 0); /* both ended before the window */
    rows_summary_done(&sum);
    assert_int_equal(compile_bin(MS, MS, 1000 * MS), 0);
    assert_int_equal(compile_bin(1000 * MS, MS, 1000 * MS), ROWS_COMPILE_BINS - 1);
    assert_int_equal(compile_bin(31622777, MS, 1000 * MS), ROWS_COMPILE_BINS / 2);
    assert_int_equal(compile_bin(5, 0, 10), ROWS_COMPILE_BINS / 2);

    /* Per-pass histograms of the pair: parse twice, place once (anneal is not a pass). */
    rows_build_instances(&in, p);
    assert_int_equal(in.nstats, 1);
    assert_int_equal(in.stats[0].npasses, 2);
    assert_string_equal(in.stats[0].passes[0].name, "parse");
    assert_int_equal(in.stats[0].passes[0].dur->count, 2);
    assert_int_equal(in.stats[0].passes[0].dur->sum_ns, 3 * MS);
    assert_string_equal(in.stats[0].passes[1].name, "place");
    assert_int_equal(in.stats[0].passes[1].dur->count, 1);
    rows_instances_done(&in);

    /* Bounded: 20 distinct passes keep 15 names and "other" for the rest. */
    store_span_begin(t, compile, b + 40 * MS);
    store_span_attr(t, model, ff, b + 40 * MS);
    store_span_attr(t, target, tn, b + 40 * MS);
    for (int i = 0; i < 20; i++) {
        char name[16];
        uint32_t id;

        snprintf(name, sizeof(name), "pass%d", i);
        id = store_proc_intern(p, name);
        store_span_begin(t, id, b + 41 * MS + (uint64_t)i * 1000);
        store_span_end(t, id, b + 41 * MS + (uint64_t)i * 1000 + 500);
    }
    store_span_end_status(t, compile, 0, b + 50 * MS);
    rows_build_instances(&in, p);
    assert_int_equal(in.stats[0].npasses, 16);
    assert_string_equal(in.stats[0].passes[15].name, "other");
    assert_int_equal(in.stats[0].passes[15].dur->count, 7); /* pass13 .. pass19 */
    rows_instances_done(&in);
    store_free(st);
}

/* At most STORE_MAX_INSTANCES are kept, the latest; the total counts them all. */
static void test_issue_15_instances_bounded(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 78, "loop");
    struct store_thread *t = store_thread_add(p, 78, "main");
    uint32_t c = store_proc_intern(p, "compile"), err = store_proc_intern(p, "boom");
    struct rows_instances in;

    (void)state;
    for (uint64_t i = 0; i < STORE_MAX_INSTANCES + 10; i++) {
        store_span_begin(t, c, SEC + i * MS);
        store_span_end_status(t, c, i % 2 == 0 ? 0 : err, SEC + i * MS + 1000);
    }
    rows_build_instances(&in, p);
    assert_int_equal(in.n, STORE_MAX_INSTANCES);
    assert_int_equal(in.total, STORE_MAX_INSTANCES + 10);
    assert_int_equal(in.v[0].begin_ns, SEC + (STORE_MAX_INSTANCES + 9) * MS);
    rows_instances_done(&in);
    store_free(st);
}

static void test_count_events(void *ctx, const struct store_event *ev)
{
    (void)ev;
    (*(int *)ctx)++;
}

/* Issue 15: a followed child knows its parent and how it ended, through the door (a set that
 * changes nothing is not seen); the summary carries both. */
static void test_issue_15_parent_and_exit(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *cc = store_proc_add(st, 100, "cc"), *cc1 = store_proc_add(st, 101, "cc1");
    struct rows_summary sum;
    uint64_t rss, peak, cpu;
    int seen = 0;

    (void)state;
    assert_int_equal(store_proc_ppid(cc1), 0);
    assert_false(store_proc_host(cc1, &rss, &peak, &cpu));
    store_set_observer(st, test_count_events, &seen);
    store_proc_set_parent(cc1, 100);
    store_proc_set_parent(cc1, 100); /* the same: not an event */
    assert_int_equal(seen, 1);
    assert_int_equal(store_proc_ppid(cc1), 100);
    store_proc_set_exit(cc1, 1, 0);
    store_proc_set_exit(cc1, 1, 0);
    assert_int_equal(seen, 2);
    store_proc_set_exit(cc, 0, 9); /* killed: the status does not count */
    store_proc_set_host(cc, 1 << 20, 3 << 20, 7 * MS, 5 * SEC);
    assert_true(store_proc_host(cc, &rss, &peak, &cpu));
    assert_true(rss == 1 << 20 && peak == 3 << 20 && cpu == 7 * MS);
    store_set_observer(st, NULL, NULL);

    rows_build_summary(&sum, cc1, 5 * SEC);
    assert_int_equal(sum.ppid, 100);
    assert_true(sum.exit_valid);
    assert_int_equal(sum.exit_status, 1);
    assert_int_equal(sum.exit_signal, 0);
    rows_summary_done(&sum);
    rows_build_summary(&sum, cc, 5 * SEC);
    assert_int_equal(sum.ppid, 0);
    assert_true(sum.exit_valid);
    assert_int_equal(sum.exit_signal, 9);
    assert_int_equal(sum.exit_status, 0);
    rows_summary_done(&sum);
    store_free(st);
}

/* The child hint (the child last looked up, its next sibling, the first child) must find the
 * same nodes the map does, whatever the order of the begins, on two threads and with names
 * that collide in the kernel hint: same tree and counts as the map alone would give. */
static void test_issue_13_hints(void **state)
{
    static const char *names[6] = {"step", "a", "b", "c", "d", "e"};
    struct store_config cfg = {.max_nodes = 8};
    struct store *st = store_new(&cfg);
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct store_thread *t[2] = {store_thread_add(p, 10, "x"), store_thread_add(p, 11, "y")};
    static const int order[5][5] = {
        {1, 2, 3, 4, 5}, {1, 2, 3, 4, 5}, {5, 4, 3, 2, 1}, {1, 3, 5, 2, 4}, {2, 2, 1, 1, 5}};
    uint32_t id[6];
    uint32_t k[3];
    uint64_t ts = SEC;
    uint64_t count[6] = {0};

    (void)state;
    for (int i = 0; i < 6; i++) {
        id[i] = store_proc_intern(p, names[i]);
    }
    for (int rep = 0; rep < 5; rep++) {
        for (int th = 0; th < 2; th++) {
            store_span_begin(t[th], id[0], ts++);
            for (int j = 0; j < 5; j++) {
                int c = order[(rep + th) % 5][j];

                store_span_begin(t[th], id[c], ts++);
                store_span_end(t[th], id[c], ts++);
                count[c]++;
            }
            store_span_end(t[th], id[0], ts++);
        }
    }
    assert_int_equal(p->invalid, 0);
    assert_int_equal(node_at(p, "step")->nchildren, 5);
    assert_int_equal(store_series_count(&node_at(p, "step")->s), 10);
    for (int c = 1; c < 6; c++) {
        char path[32];

        snprintf(path, sizeof(path), "step/%s", names[c]);
        assert_int_equal(store_series_count(&node_at(p, path)->s), count[c]);
        assert_int_equal(store_series_sum(&node_at(p, path)->s), count[c]);
    }
    /* A full tree: the begin of a new child is refused, the known ones still found. */
    store_span_begin(t[0], id[0], ts++);
    store_span_begin(t[0], id[1], ts++);
    store_span_begin(t[0], id[2], ts++); /* step/a/b: node 7 */
    store_span_begin(t[0], id[3], ts++); /* step/a/b/c: node 8, the last */
    store_span_begin(t[0], id[4], ts++); /* step/a/b/c/d: past max_nodes, folded */
    assert_int_equal(p->invalid, 0);
    assert_int_equal(p->folded, 1);
    store_span_end(t[0], id[4], ts++);
    store_span_end(t[0], id[3], ts++);
    store_span_end(t[0], id[2], ts++);
    store_span_begin(t[0], id[2], ts++);
    store_span_end(t[0], id[2], ts++);
    store_span_end(t[0], id[1], ts++);
    store_span_end(t[0], id[0], ts++);
    assert_int_equal(p->invalid, 0);
    assert_int_equal(p->folded, 1);
    assert_int_equal(store_series_count(&node_at(p, STORE_OTHER_NAME)->s), 1);
    assert_int_equal(store_series_count(&node_at(p, "step/a/b")->s), 2);
    assert_int_equal(store_series_count(&node_at(p, "step/a/b/c")->s), 1);
    assert_int_equal(find_node(p, "step/a/b/c/d"), STORE_NONE);

    /* Kernels whose names share a hint slot, and one name on two backends. */
    k[0] = store_proc_intern(p, "gemm");
    for (uint32_t i = 1; i < 3; i++) {
        char name[16];

        snprintf(name, sizeof(name), "k%u", i);
        do {
            k[i] = store_proc_intern(p, name);
            name[0]++;
        } while (k[i] % STORE_KERNEL_HINTS != k[0] % STORE_KERNEL_HINTS);
    }
    for (int rep = 0; rep < 4; rep++) {
        for (uint32_t i = 0; i < 3; i++) {
            store_kernel(p, k[i], id[1], ts, 10 + i);
            store_kernel(p, k[i], id[2], ts, 20 + i);
        }
    }
    assert_int_equal(p->nkernels, 6);
    for (uint32_t i = 0; i < p->nkernels; i++) {
        assert_int_equal(store_series_count(&p->kernels[i].s), 4);
        assert_int_equal(p->kernels[i].s.last_ns, (p->kernels[i].backend == id[1] ? 10 : 20) +
                                                      (p->kernels[i].name == k[0]   ? 0
                                                       : p->kernels[i].name == k[1] ? 1
                                                                                    : 2));
    }
    store_free(st);
}

/* Deterministic generator (xorshift64*) for the window test, so a failure reproduces. */
static uint64_t w13_state = 0x2545f4914f6cdd1dULL;

static uint64_t w13_next(void)
{
    w13_state ^= w13_state >> 12;
    w13_state ^= w13_state << 25;
    w13_state ^= w13_state >> 27;
    return w13_state * 2685821657736338717ULL;
}

/* Everything a row shows of h equals what the reference r (a merge of the slots) gives. */
static void assert_hist_same(const struct hist *h, const struct hist *r)
{
    double pcts[201];
    uint64_t a[201];
    uint64_t b[201];

    assert_int_equal(h->count, r->count);
    assert_int_equal(h->sum_ns, r->sum_ns);
    if (r->count > 0) {
        assert_int_equal(h->min_ns, r->min_ns);
        assert_int_equal(h->max_ns, r->max_ns);
    }
    for (int i = 0; i <= 200; i++) {
        pcts[i] = i * 0.5;
    }
    hist_percentiles(h, pcts, 201, a);
    hist_percentiles(r, pcts, 201, b);
    assert_memory_equal(a, b, sizeof(a));
    for (int k = 0; k < 16; k++) {
        uint64_t v = w13_next() % (3 * SEC);

        assert_int_equal(hist_count_le(h, v), hist_count_le(r, v));
    }
}

/* A row's figures for one period equal those of the histogram h (last: the series' last). */
static void assert_row_stats(const struct row_stats *o, const struct hist *h, uint64_t last_ns)
{
    uint64_t p[3];

    assert_int_equal(o->count, h->count);
    if (h->count == 0) {
        return;
    }
    hist_percentiles(h, (const double[]){50.0, 95.0, 99.0}, 3, p);
    assert_int_equal(o->total_ns, h->sum_ns);
    assert_int_equal(o->mean_ns, h->sum_ns / h->count);
    assert_int_equal(o->min_ns, h->min_ns);
    assert_int_equal(o->max_ns, h->max_ns);
    assert_int_equal(o->last_ns, last_ns);
    assert_int_equal(o->p50_ns, p[0]);
    assert_int_equal(o->p95_ns, p[1]);
    assert_int_equal(o->p99_ns, p[2]);
}

/* The window a series keeps as samples come and slots expire (no merge) against the merge of
 * its slots, over thousands of slot expiries: steps a few hundred ms apart with idle gaps
 * longer than the window, kernels reported late (into older slots, some past the window),
 * windows ending before, at and after the ingest clock. Rows built between the steps (whose
 * percentiles are kept per series version) show what the merged window gives. */
/* The samples of one series as they came, with whether each came too late for any window:
 * older than every slot the window can hold when it came. */
#define W13_MAX_SAMPLES 4096
struct w13_samples {
    uint64_t t[W13_MAX_SAMPLES];
    uint64_t v[W13_MAX_SAMPLES];
    bool late[W13_MAX_SAMPLES];
    size_t n;
};

static void w13_note(struct w13_samples *m, uint64_t t, uint64_t v, uint64_t clock)
{
    assert_true(m->n < W13_MAX_SAMPLES);
    m->t[m->n] = t;
    m->v[m->n] = v;
    m->late[m->n] = t / SEC + 10 <= clock / SEC;
    m->n++;
}

/* The window ending at at, from the samples themselves: those of its 10 slots. */
static void w13_window(const struct w13_samples *m, uint64_t at, struct hist *out)
{
    uint64_t last = at / SEC;

    hist_reset(out);
    for (size_t i = 0; i < m->n; i++) {
        if (!m->late[i] && m->t[i] / SEC <= last && m->t[i] / SEC + 10 > last) {
            hist_add(out, m->v[i]);
        }
    }
}

static void test_issue_13_window_running_matches_merge(void **state)
{
    static struct w13_samples sam[4];
    struct hist model;
    struct store *st = store_new(NULL); /* 10 slots of 1 s */
    struct store_proc *p = store_proc_add(st, 1, "w");
    struct store_thread *t = store_thread_add(p, 10, NULL);
    uint32_t a = store_proc_intern(p, "a");
    uint32_t b = store_proc_intern(p, "b");
    uint32_t c = store_proc_intern(p, "c");
    uint32_t k = store_proc_intern(p, "gemm");
    uint32_t be = store_proc_intern(p, "cuda");
    static const int64_t offs[] = {0, -2, 1, 5, 9, 10, 11, 30};
    struct hist ref;
    struct hist scratch;
    struct rows rows;
    uint64_t now = 100 * SEC;
    uint64_t held = now;
    uint64_t n;

    (void)state;
    hist_init(&ref);
    hist_init(&scratch);
    hist_init(&model);
    memset(sam, 0, sizeof(sam));
    rows_init(&rows);
    for (int step = 0; step < 1500; step++) {
        const struct store_series *ser[4];
        uint64_t da = 1000 + w13_next() % (w13_next() % 8 == 0 ? 50 * MS : 200000);
        uint64_t db = da / 2 + w13_next() % (da / 2);

        /* Mostly a few steps a second; now and then idle for longer than the window. */
        now += w13_next() % 40 == 0 ? (3 + w13_next() % 15) * SEC : (50 + w13_next() % 400) * MS;
        store_span_begin(t, a, now - da);
        store_span_begin(t, b, now - da + 1);
        store_span_end(t, b, now - da + 1 + db);
        store_span_end(t, a, now);
        w13_note(&sam[1], now - da + 1 + db, db, now);
        w13_note(&sam[0], now, da, now);
        /* c: a span now and then, so that its slots expire while it gets nothing new. */
        if (step % 25 == 0) {
            store_span_begin(t, c, now - db);
            store_span_end(t, c, now);
            w13_note(&sam[2], now, db, now);
        }
        if (step == 0 || w13_next() % 3 != 0) {
            /* Out of order: a kernel timed by its caller ends up to 12 s before the clock. */
            uint64_t start = now - w13_next() % (12 * SEC), dur = 500 + w13_next() % 90000;

            store_kernel(p, k, be, start, dur);
            w13_note(&sam[3], start + dur, dur, now);
        }
        /* In the order of the rows: the tree depth first, then the kernels. */
        ser[0] = &node_at(p, "a")->s;
        ser[1] = &node_at(p, "a/b")->s;
        ser[2] = &node_at(p, "c")->s;
        ser[3] = &p->kernels[0].s;
        for (size_t i = 0; i < 4; i++) {
            for (size_t j = 0; j < sizeof(offs) / sizeof(offs[0]); j++) {
                uint64_t at = now + (uint64_t)(offs[j] * (int64_t)SEC);

                store_series_window(p, ser[i], at, &ref);
                assert_hist_same(store_series_window_hist(p, ser[i], at, &scratch), &ref);
                /* At the clock or after it, the window is exactly its slots' samples. */
                if (offs[j] >= 0) {
                    w13_window(&sam[i], at, &model);
                    assert_hist_same(&ref, &model);
                    assert_int_equal(store_series_window_sum(p, ser[i], at, &n), model.sum_ns);
                    assert_int_equal(n, model.count);
                }
            }
        }
        /* Rows at every step, at the clock, before it or after: every figure from the merged
         * window, including those of series that got nothing since the last rows. */
        if (step % 20 == 0) {
            held = now; /* rows at a time left behind as the clock moves on (a frozen frame) */
        }
        for (size_t j = 0; j < 5; j++) {
            /* held first and last: the last rows' memo meets the next step's samples */
            size_t o = (size_t)step % 3 == j ? 3 : j - 1;
            uint64_t at = j == 0 || j == 4 ? held : now + (uint64_t)(offs[o] * (int64_t)SEC);

            rows_clear(&rows);
            rows_build_latency(&rows, p, at);
            rows_build_kernels(&rows, p, at);
            assert_int_equal(rows.n, 4);
            for (size_t i = 0; i < 4; i++) {
                store_series_window(p, ser[i], at, &ref);
                assert_row_stats(&rows.v[i].win, &ref, ser[i]->last_ns);
                /* Since start: the closed part and the open slot, merged here. */
                hist_copy(&ref, &ser[i]->all_closed);
                if (store_series_open(ser[i]) != NULL) {
                    hist_merge(&ref, store_series_open(ser[i]));
                }
                assert_row_stats(&rows.v[i].all, &ref, ser[i]->last_ns);
            }
        }
    }
    rows_done(&rows);
    hist_done(&ref);
    hist_done(&scratch);
    hist_done(&model);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intern),
        cmocka_unit_test(test_nested_tree),
        cmocka_unit_test(test_threads_interleaved),
        cmocka_unit_test(test_unmatched),
        cmocka_unit_test(test_gap),
        cmocka_unit_test(test_window),
        cmocka_unit_test(test_mem_deltas),
        cmocka_unit_test(test_issue_10_mem_delta_saturates),
        cmocka_unit_test(test_kernels),
        cmocka_unit_test(test_markers),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_gauges_weights),
        cmocka_unit_test(test_issue_10_losses_in_summary),
        cmocka_unit_test(test_issue_10_proc_remove),
        cmocka_unit_test(test_issue_11_concurrent_requests),
        cmocka_unit_test(test_issue_11_request_order_and_unknown),
        cmocka_unit_test(test_issue_11_request_table_bounded),
        cmocka_unit_test(test_issue_11_probe_spans_nest),
        cmocka_unit_test(test_issue_11_resync_drops_orphans),
        cmocka_unit_test(test_issue_15_instances),
        cmocka_unit_test(test_issue_10_instance_empty_names),
        cmocka_unit_test(test_issue_15_instances_bounded),
        cmocka_unit_test(test_issue_15_compile_rows),
        cmocka_unit_test(test_issue_15_parent_and_exit),
        cmocka_unit_test(test_issue_13_hints),
        cmocka_unit_test(test_issue_13_window_running_matches_merge),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
