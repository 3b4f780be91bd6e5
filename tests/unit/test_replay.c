/* SPDX-License-Identifier: MIT */
/* Unit tests of the replay readers: seed and nctop logs rebuilt into trees from levels,
 * ProfileRecord lines, Chrome traces (X, B/E, C, M; nesting by containment), problems
 * reported with their line, and random bytes and truncations of each format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "collectors/replay/replay.h"
#include "src/model/rows.h"
#include "src/model/store.h"
#include "src/output/snapshot.h"

#define SEC 1000000000ULL

static char *save(const char *data, size_t len)
{
    char *path = strdup("/tmp/nctop-test-replay.XXXXXX");
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

/* Load text into a fresh store and play it to the end. */
static struct replay_source *load(struct store *st, const char *text, int *rc)
{
    struct replay_source *rs = replay_source_new(st);
    char *path = save(text, strlen(text)), *err = NULL;

    *rc = replay_source_add(rs, path, &err);
    free(err);
    unlink(path);
    free(path);
    if (*rc == 0) {
        replay_source_advance(rs, replay_source_end_ns(rs));
    }
    return rs;
}

static const struct row *find(const struct rows *r, const char *path)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].path, path) == 0) {
            return &r->v[i];
        }
    }
    return NULL;
}

static bool problem_has(const struct replay_source *rs, const char *what)
{
    for (size_t i = 0; i < replay_source_nkept(rs); i++) {
        if (strstr(replay_source_problem(rs, i), what) != NULL) {
            return true;
        }
    }
    return false;
}

/* The seed's four fields only: the tree comes back from the levels. */
static void test_seed_log(void **state)
{
    static const char log[] =
        "{\"timestamp\":\"2026-11-22T10:15:30.123Z\",\"rows\":[]}\n"
        "{\"timestamp\":\"2026-11-22T10:15:35.123Z\",\"rows\":["
        "{\"label\":\"Generation\",\"level\":0,\"last_ms\":40.5,\"average_ms\":41.0},"
        "{\"label\":\"Forward\",\"level\":1,\"last_ms\":30.0,\"average_ms\":31.0},"
        "{\"label\":\"Block 0\",\"level\":2,\"last_ms\":3.0,\"average_ms\":3.5},"
        "{\"label\":\"Sampling\",\"level\":1,\"last_ms\":2.0,\"average_ms\":2.5}]}\n"
        "this is not json\n"
        "{\"timestamp\":\"2026-11-22T10:15:40.123Z\",\"rows\":["
        "{\"label\":\"Generation\",\"level\":0,\"last_ms\":50.0,\"average_ms\":45.0},"
        "{\"label\":\"Deep\",\"level\":3,\"last_ms\":1.0,\"average_ms\":1.0}]}\n"
        "{\"something\":1}\n"
        "{\"timestamp\":\"2026-11-22T10:15:45";
    struct store *st = store_new(NULL);
    int rc;
    struct replay_source *rs = load(st, log, &rc);
    struct rows r;
    const struct row *gen, *blk;

    (void)state;
    assert_int_equal(rc, 0);
    assert_int_equal(replay_source_format(rs, 0), REPLAY_LOG);
    assert_int_equal(store_nprocs(st), 1);
    rows_init(&r);
    rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_int_equal(r.n, 4);
    gen = find(&r, "Generation");
    blk = find(&r, "Generation/Forward/Block 0");
    assert_non_null(gen);
    assert_non_null(blk);
    assert_true(gen->win.last_ns == 50000000ULL && gen->win.mean_ns == 45000000ULL);
    assert_true((gen->flags & ROW_F_IMPORTED) != 0);
    assert_int_equal(blk->level, 2);
    assert_int_equal(find(&r, "Generation/Sampling")->level, 1);
    /* Four problems, each with its line: not JSON, a level jump, an unknown line, a cut. */
    assert_int_equal(replay_source_nproblems(rs), 4);
    assert_true(problem_has(rs, ":3: not a JSON object"));
    assert_true(problem_has(rs, ":4: row 2 (Deep): level 3 under level 0"));
    assert_true(problem_has(rs, ":5: unknown line"));
    assert_true(problem_has(rs, ":6: last line cut short"));
    /* The replay's wall clock is the log's. */
    assert_true(replay_source_real_ns(rs, replay_source_end_ns(rs)) / SEC == 1795342540ULL);
    rows_done(&r);
    replay_source_free(rs);
    store_free(st);
}

/* nctop's memory rows (with pid and process) join the latency rows of the same workload. */
static void test_memory_log(void **state)
{
    static const char log[] =
        "{\"timestamp\":\"2026-11-22T10:15:30.000Z\",\"rows\":["
        "{\"label\":\"Model Weights\",\"level\":0,\"current_total_mb\":2,\"peak_total_mb\":2,"
        "\"bytes\":2097152,\"peak_bytes\":null,\"capacity_bytes\":0,\"pid\":9,\"process\":\"lm\"},"
        "{\"label\":\"embed\",\"level\":1,\"current_total_mb\":1,\"peak_total_mb\":1.5,"
        "\"pid\":9,\"process\":\"lm\"},"
        "{\"label\":\"KV Cache\",\"level\":0,\"current_total_mb\":1,\"peak_total_mb\":1,"
        "\"bytes\":1048576,\"capacity_bytes\":4194304,\"pid\":9,\"process\":\"lm\"}]}\n";
    struct store *st = store_new(NULL);
    int rc;
    struct replay_source *rs = load(st, log, &rc);
    struct rows r;
    const struct row *w, *e, *kv;

    (void)state;
    assert_int_equal(rc, 0);
    assert_int_equal(store_proc_pid(store_proc_at(st, 0)), 9);
    rows_init(&r);
    rows_build_memory(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_int_equal(r.n, 3);
    w = find(&r, "Model Weights");
    e = find(&r, "Model Weights/embed");
    kv = find(&r, "KV Cache");
    assert_true(w != NULL && e != NULL && kv != NULL);
    assert_int_equal(w->bytes, 2097152);
    assert_int_equal(w->nchildren, 1);
    assert_true((w->flags & ROW_F_PEAK) == 0);
    assert_int_equal(e->peak_bytes, 1572864);
    assert_int_equal(kv->capacity_bytes, 4194304);
    rows_done(&r);
    replay_source_free(rs);
    store_free(st);
}

static void test_profile_lines(void **state)
{
    static const char log[] =
        "{\"ts_ms\":1000,\"metric\":\"latency_ms\",\"value\":4,\"labels\":{\"pid\":\"5\","
        "\"label\":\"lm\",\"path\":\"step\",\"target\":\"cpu\"}}\n"
        "{\"ts_ms\":1000,\"metric\":\"tokens_per_sec\",\"value\":100,\"labels\":{\"pid\":\"5\","
        "\"label\":\"lm\"}}\n"
        "{\"ts_ms\":2000,\"metric\":\"latency_ms\",\"value\":6,\"labels\":{\"pid\":\"5\","
        "\"label\":\"lm\",\"path\":\"step\"}}\n"
        "{\"ts_ms\":2000,\"metric\":\"tokens_per_sec\",\"value\":100,\"labels\":{\"pid\":\"5\","
        "\"label\":\"lm\"}}\n"
        "{\"ts_ms\":2000,\"metric\":\"energy_mj\",\"value\":1,\"labels\":{}}\n"
        "{\"ts_ms\":\"x\",\"metric\":\"latency_ms\",\"value\":1}\n";
    struct store *st = store_new(NULL);
    int rc;
    struct replay_source *rs = load(st, log, &rc);
    struct rows r;
    struct rows_summary s;
    const struct row *step;

    (void)state;
    assert_int_equal(rc, 0);
    assert_int_equal(replay_source_format(rs, 0), REPLAY_PROFILE);
    rows_init(&r);
    rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    step = find(&r, "step");
    assert_non_null(step);
    assert_int_equal(step->all.count, 2);
    assert_true(step->all.mean_ns == 5000000ULL);
    rows_build_summary(&s, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_int_equal(s.ncounters, 1);
    assert_int_equal(s.counters[0].value, 100);
    rows_summary_done(&s);
    assert_int_equal(replay_source_nproblems(rs), 1);
    assert_true(problem_has(rs, ":6: unknown line"));
    rows_done(&r);
    replay_source_free(rs);
    store_free(st);
}

/* Perfetto style: an object with traceEvents, B/E pairs, metadata, counters, a kernel. */
static void test_chrome(void **state)
{
    static const char trace[] =
        "{\"traceEvents\":[\n"
        "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":3,\"args\":{\"name\":\"trainer\"}},\n"
        "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":3,\"tid\":4,\"args\":{\"name\":\"main\"}},"
        "\n"
        "{\"ph\":\"X\",\"name\":\"step\",\"pid\":3,\"tid\":4,\"ts\":100,\"dur\":1000},\n"
        "{\"ph\":\"X\",\"name\":\"fwd\",\"pid\":3,\"tid\":4,\"ts\":150,\"dur\":400},\n"
        "{\"ph\":\"X\",\"name\":\"matmul\",\"pid\":3,\"tid\":4,\"ts\":200,\"dur\":100},\n"
        "{\"ph\":\"B\",\"name\":\"bwd\",\"pid\":3,\"tid\":4,\"ts\":600},\n"
        "{\"ph\":\"E\",\"pid\":3,\"tid\":4,\"ts\":1000},\n"
        "{\"ph\":\"X\",\"name\":\"gemm_kernel\",\"cat\":\"kernel\",\"pid\":3,\"tid\":9,"
        "\"ts\":210,\"dur\":50},\n"
        "{\"ph\":\"C\",\"name\":\"tokens\",\"pid\":3,\"ts\":900,\"args\":{\"n\":12}},\n"
        "{\"ph\":\"X\",\"name\":\"nodur\",\"pid\":3,\"tid\":4,\"ts\":5},\n"
        "{\"ph\":\"E\",\"pid\":3,\"tid\":5,\"ts\":7},\n"
        "{\"ph\":\"i\",\"name\":\"instant\",\"pid\":3,\"tid\":4,\"ts\":7}\n"
        "]}\n";
    struct store *st = store_new(NULL);
    int rc;
    struct replay_source *rs = load(st, trace, &rc);
    struct rows r;
    struct rows_summary s;

    (void)state;
    assert_int_equal(rc, 0);
    assert_int_equal(replay_source_format(rs, 0), REPLAY_CHROME);
    assert_int_equal(store_nprocs(st), 1);
    rows_init(&r);
    rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_non_null(find(&r, "step/fwd/matmul"));
    assert_non_null(find(&r, "step/bwd"));
    assert_true(find(&r, "step")->all.total_ns == 1000000ULL);
    assert_true(find(&r, "step/bwd")->all.total_ns == 400000ULL);
    rows_clear(&r);
    rows_build_kernels(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_int_equal(r.n, 1);
    assert_string_equal(r.v[0].label, "gemm_kernel");
    rows_build_summary(&s, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_string_equal(s.label, "trainer");
    assert_int_equal(s.ncounters, 1);
    assert_int_equal(s.counters[0].value, 12);
    rows_summary_done(&s);
    assert_int_equal(replay_source_nproblems(rs), 2);
    assert_true(problem_has(rs, "event 10: complete event without a valid dur"));
    assert_true(problem_has(rs, "event 11: end (E) without a begin"));
    rows_done(&r);
    replay_source_free(rs);
    store_free(st);
}

/* A bare array (PyTorch's legacy export) cut in the middle loads up to the cut. */
static void test_chrome_truncated(void **state)
{
    static const char trace[] =
        "[{\"name\":\"step\",\"ph\":\"X\",\"ts\":1,\"dur\":10,\"tid\":1,\"pid\":\"CPU "
        "functions\"},\n"
        "{\"name\":\"op\",\"ph\":\"X\",\"ts\":2,\"dur\":3,\"tid\":1,\"pid\":\"CPU functions\"},\n"
        "{\"name\":\"op2\",\"ph\":\"X\",\"ts\":6,\"du";
    struct store *st = store_new(NULL);
    int rc;
    struct replay_source *rs = load(st, trace, &rc);
    struct rows r;

    (void)state;
    assert_int_equal(rc, 0);
    rows_init(&r);
    rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_int_equal(r.n, 2);
    assert_non_null(find(&r, "step/op"));
    assert_true(problem_has(rs, ":3: trace cut short"));
    rows_done(&r);
    replay_source_free(rs);
    store_free(st);
}

static void test_unreadable(void **state)
{
    struct store *st = store_new(NULL);
    struct replay_source *rs = replay_source_new(st);
    char *err = NULL;
    int rc;

    (void)state;
    assert_true(replay_source_add(rs, "/nonexistent/file", &err) < 0);
    assert_non_null(strstr(err, "No such file"));
    free(err);
    replay_source_free(rs);
    rs = load(st, "plain text, no format\n", &rc);
    assert_true(rc < 0);
    replay_source_free(rs);
    store_free(st);
}

/* Issue 10: numbers no integer can hold (1e300, -1e300, 1e400 which reads as infinity) in
 * every field of every text format are refused with a problem, never converted (under
 * -fsanitize=float-cast-overflow a conversion aborts). The good lines still load. */
static void test_issue_10_float_overflow(void **state)
{
    static const char *const huge[] = {"1e300", "-1e300", "1e400", "-1e400"};
    char text[4096];

    (void)state;
    for (size_t h = 0; h < sizeof(huge) / sizeof(huge[0]); h++) {
        const char *x = huge[h];
        struct store *st;
        struct replay_source *rs;
        struct rows r;
        int rc;

        /* A log: pid, count, bytes, peak and capacity out of range, one row each. */
        snprintf(
            text, sizeof(text),
            "{\"timestamp\":\"2026-11-22T10:15:30.000Z\",\"rows\":["
            "{\"label\":\"ok\",\"level\":0,\"count\":3,\"average_ms\":1,\"pid\":7,"
            "\"process\":\"lm\"},"
            "{\"label\":\"a\",\"level\":0,\"count\":1,\"pid\":%s,\"process\":\"lm\"},"
            "{\"label\":\"b\",\"level\":0,\"count\":%s,\"pid\":7,\"process\":\"lm\"},"
            "{\"label\":\"c\",\"level\":0,\"bytes\":%s,\"pid\":7,\"process\":\"lm\"},"
            "{\"label\":\"d\",\"level\":0,\"current_total_mb\":%s,\"pid\":7,\"process\":\"lm\"},"
            "{\"label\":\"e\",\"level\":0,\"bytes\":1,\"peak_bytes\":%s,\"pid\":7,"
            "\"process\":\"lm\"},"
            "{\"label\":\"f\",\"level\":0,\"bytes\":1,\"peak_total_mb\":%s,\"pid\":7,"
            "\"process\":\"lm\"},"
            "{\"label\":\"g\",\"level\":0,\"bytes\":1,\"capacity_bytes\":%s,\"pid\":7,"
            "\"process\":\"lm\"}]}\n",
            x, x, x, x, x, x, x);
        st = store_new(NULL);
        rs = load(st, text, &rc);
        assert_int_equal(rc, 0);
        assert_int_equal(store_nprocs(st), 1);
        assert_int_equal(store_proc_pid(store_proc_at(st, 0)), 7);
        assert_int_equal(replay_source_nproblems(rs), 7);
        assert_true(problem_has(rs, "row 2 (a): pid "));
        assert_true(problem_has(rs, "row 8 (g): capacity_bytes "));
        rows_init(&r);
        rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
        assert_non_null(find(&r, "ok"));
        /* Issue 11: a statistic out of range is absent; the row stays. */
        assert_non_null(find(&r, "b"));
        assert_false(rows_stat_known(&find(&r, "b")->win, true, ROW_S_COUNT));
        rows_clear(&r);
        rows_build_memory(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
        /* A current figure out of range refuses the row (c, d); a peak or a capacity is
         * absent (e, f, g). */
        assert_int_equal(r.n, 3);
        assert_int_equal(find(&r, "e")->flags & ROW_F_PEAK, 0);
        assert_int_equal(find(&r, "g")->flags & ROW_F_CAPACITY, 0);
        rows_done(&r);
        replay_source_free(rs);
        store_free(st);

        /* ProfileRecord lines: time, value and pid out of range. */
        snprintf(text, sizeof(text),
                 "{\"ts_ms\":1000,\"metric\":\"latency_ms\",\"value\":4,\"labels\":{\"pid\":5,"
                 "\"label\":\"lm\",\"path\":\"step\"}}\n"
                 "{\"ts_ms\":%s,\"metric\":\"latency_ms\",\"value\":4,\"labels\":{\"pid\":5,"
                 "\"label\":\"lm\",\"path\":\"step\"}}\n"
                 "{\"ts_ms\":1001,\"metric\":\"latency_ms\",\"value\":4,\"labels\":{\"pid\":%s,"
                 "\"label\":\"lm\",\"path\":\"step\"}}\n"
                 "{\"ts_ms\":1002,\"metric\":\"tokens_per_sec\",\"value\":%s,\"labels\":{\"pid\":5,"
                 "\"label\":\"lm\"}}\n"
                 "{\"ts_ms\":1003,\"metric\":\"tokens_per_sec\",\"value\":%s,\"labels\":{\"pid\":5,"
                 "\"label\":\"lm\"}}\n"
                 "{\"ts_ms\":1004,\"metric\":\"latency_ms\",\"value\":%s,\"labels\":{\"pid\":5,"
                 "\"label\":\"lm\",\"path\":\"step\"}}\n",
                 x, x, x, x, x);
        st = store_new(NULL);
        rs = load(st, text, &rc);
        assert_int_equal(rc, 0);
        assert_int_equal(store_nprocs(st), 1);
        assert_int_equal(store_proc_pid(store_proc_at(st, 0)), 5);
        assert_int_equal(replay_source_nproblems(rs), 5);
        assert_true(problem_has(rs, ":2: "));
        assert_true(problem_has(rs, ":6: "));
        rows_init(&r);
        rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
        assert_non_null(find(&r, "step"));
        assert_int_equal(find(&r, "step")->all.count, 1);
        rows_done(&r);
        replay_source_free(rs);
        store_free(st);

        /* A Chrome trace: ts, dur, pid, tid and a counter out of range. */
        snprintf(text, sizeof(text),
                 "{\"traceEvents\":["
                 "{\"ph\":\"X\",\"name\":\"ok\",\"pid\":1,\"tid\":1,\"ts\":10,\"dur\":5},"
                 "{\"ph\":\"X\",\"name\":\"a\",\"pid\":1,\"tid\":1,\"ts\":%s,\"dur\":5},"
                 "{\"ph\":\"X\",\"name\":\"b\",\"pid\":1,\"tid\":1,\"ts\":20,\"dur\":%s},"
                 "{\"ph\":\"X\",\"name\":\"c\",\"pid\":%s,\"tid\":1,\"ts\":30,\"dur\":5},"
                 "{\"ph\":\"X\",\"name\":\"d\",\"pid\":1,\"tid\":%s,\"ts\":40,\"dur\":5},"
                 "{\"ph\":\"C\",\"name\":\"n\",\"pid\":1,\"ts\":50,\"args\":{\"v\":%s}},"
                 "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%s,\"args\":{\"name\":\"x\"}}"
                 "]}",
                 x, x, x, x, x, x);
        st = store_new(NULL);
        rs = load(st, text, &rc);
        assert_int_equal(rc, 0);
        assert_int_equal(store_nprocs(st), 1);
        assert_int_equal(replay_source_nproblems(rs), 6);
        assert_true(problem_has(rs, "event 2: "));
        assert_true(problem_has(rs, "event 7: "));
        rows_init(&r);
        rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
        assert_int_equal(r.n, 1);
        assert_non_null(find(&r, "ok"));
        rows_done(&r);
        replay_source_free(rs);
        store_free(st);
    }
}

/* Issue 10: traces with thousands of threads and processes convert through indexes rather
 * than scans; this checks the indexed lookups give what the scans gave: B/E pairs interleaved
 * over 3000 threads, and process names by pid over 2000 processes (the last name wins). */
static void test_issue_10_chrome_many_threads(void **state)
{
    enum { NT = 3000, NP = 2000 };
    size_t cap = (size_t)(NT * 4 + NP * 2) * 128, len = 0;
    char *text = malloc(cap);
    struct store *st;
    struct replay_source *rs;
    struct rows r;
    const struct row *outer, *inner;
    int rc;

    (void)state;
    assert_non_null(text);
    len += (size_t)snprintf(text + len, cap - len, "{\"traceEvents\":[");
    for (int i = 0; i < NT; i++) {
        len += (size_t)snprintf(text + len, cap - len,
                                "{\"ph\":\"B\",\"name\":\"outer\",\"pid\":1,\"tid\":%d,\"ts\":%d},",
                                i, 10 + i);
    }
    for (int i = 0; i < NT; i++) {
        len += (size_t)snprintf(text + len, cap - len,
                                "{\"ph\":\"B\",\"name\":\"inner\",\"pid\":1,\"tid\":%d,\"ts\":%d},",
                                i, 10000 + i);
    }
    for (int i = NT - 1; i >= 0; i--) {
        len += (size_t)snprintf(text + len, cap - len,
                                "{\"ph\":\"E\",\"pid\":1,\"tid\":%d,\"ts\":%d},"
                                "{\"ph\":\"E\",\"pid\":1,\"tid\":%d,\"ts\":%d},",
                                i, 10000 + i + 5, i, 20000 + i);
    }
    for (int i = 0; i < NP; i++) {
        len += (size_t)snprintf(text + len, cap - len,
                                "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,"
                                "\"args\":{\"name\":\"old\"}},"
                                "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,"
                                "\"args\":{\"name\":\"p%d\"}},"
                                "{\"ph\":\"X\",\"name\":\"x\",\"pid\":%d,\"tid\":1,\"ts\":%d,"
                                "\"dur\":1},",
                                100 + i, 100 + i, 100 + i, 100 + i, 30000 + i);
    }
    len += (size_t)snprintf(text + len, cap - len, "{\"ph\":\"E\",\"pid\":1,\"tid\":0,\"ts\":1}]}");
    assert_true(len < cap);

    st = store_new(NULL);
    rs = load(st, text, &rc);
    assert_int_equal(rc, 0);
    assert_int_equal(store_nprocs(st), 1 + NP);
    assert_int_equal(replay_source_nproblems(rs), 1);
    assert_true(problem_has(rs, "end (E) without a begin"));
    rows_init(&r);
    rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    outer = find(&r, "outer");
    inner = find(&r, "outer/inner");
    assert_true(outer != NULL && inner != NULL);
    assert_int_equal(outer->all.count, NT);
    assert_int_equal(inner->all.count, NT);
    /* Each thread's inner span lasts 5 us, its outer one 20000 - 10 = 19990 us. */
    assert_true(inner->all.total_ns == (uint64_t)NT * 5000ULL);
    assert_true(outer->all.total_ns == (uint64_t)NT * 19990000ULL);
    rows_done(&r);
    for (size_t i = 1; i < store_nprocs(st); i++) {
        struct rows_summary sum;
        char want[16];

        rows_build_summary(&sum, store_proc_at(st, i), replay_source_end_ns(rs));
        snprintf(want, sizeof(want), "p%d", (int)store_proc_pid(store_proc_at(st, i)));
        assert_string_equal(sum.label, want);
        rows_summary_done(&sum);
    }
    replay_source_free(rs);
    store_free(st);
    free(text);
}

/* Memory rows nest under memory rows only: one under a latency row's level is refused, not
 * imported without its parent (a reproducer of the replay fuzzer crashed the row builder). */
static void test_memory_rows_own_levels(void **state)
{
    static const char log[] =
        "{\"timestamp\":\"2026-11-22T03:14:07.014Z\",\"rows\":[{\"label\":\"step\",\"level\":0,"
        "\"pid\":1,\"process\":\"p\"},{\"label\":\"embedding\",\"level\":1,\"pid\":1,"
        "\"process\":\"p\"},{\"label\":\"w\",\"level\":2,\"bytes\":1024,\"pid\":1,"
        "\"process\":\"p\"},{\"label\":\"attn\",\"level\":3,\"bytes\":2048,\"pid\":1,"
        "\"process\":\"p\"},{\"label\":\"kv\",\"level\":0,\"bytes\":4096,\"pid\":1,"
        "\"process\":\"p\"}]}\n";
    struct store *st = store_new(NULL);
    int rc;
    struct replay_source *rs = load(st, log, &rc);
    struct rows r;

    (void)state;
    assert_int_equal(rc, 0);
    assert_int_equal(replay_source_nproblems(rs), 2);
    assert_true(problem_has(rs, "row 3 (w): level 2 with no row above it"));
    rows_init(&r);
    rows_build_memory(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_int_equal(r.n, 1);
    assert_non_null(find(&r, "kv"));
    rows_clear(&r);
    rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_non_null(find(&r, "step/embedding"));
    rows_done(&r);
    replay_source_free(rs);
    store_free(st);
}

/* Random bytes, random edits and every truncation of each format: no crash (ASan), the
 * source always finishes. */
static void test_fuzz(void **state)
{
    static const char *const seeds[] = {
        "{\"timestamp\":\"2026-11-22T10:15:35.123Z\",\"rows\":[{\"label\":\"a\",\"level\":0,"
        "\"last_ms\":1,\"average_ms\":2},{\"label\":\"b\",\"level\":1,\"current_total_mb\":3}]}\n",
        "{\"ts_ms\":1000,\"metric\":\"latency_ms\",\"value\":4,\"labels\":{\"pid\":\"5\"}}\n",
        "{\"traceEvents\":[{\"ph\":\"X\",\"name\":\"s\",\"pid\":1,\"tid\":1,\"ts\":1,\"dur\":9},"
        "{\"ph\":\"B\",\"name\":\"b\",\"pid\":1,\"tid\":1,\"ts\":2},{\"ph\":\"E\",\"pid\":1,"
        "\"tid\":1,\"ts\":3},{\"ph\":\"C\",\"name\":\"c\",\"pid\":1,\"ts\":4,\"args\":{\"x\":1}}]}",
    };
    char buf[512];

    (void)state;
    srand(11);
    for (size_t k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
        size_t len = strlen(seeds[k]);

        for (int round = 0; round < 200; round++) {
            struct store *st = store_new(NULL);
            struct replay_source *rs;
            int rc;

            memcpy(buf, seeds[k], len + 1);
            if (round < 100) {
                buf[(size_t)round * len / 100] = '\0'; /* truncation */
            } else {
                for (int e = 0; e < 1 + round % 5; e++) {
                    buf[(size_t)rand() % len] = (char)(rand() % 256 ? rand() % 256 : 1);
                }
                if (round % 10 == 0) {
                    for (size_t i = 0; i < len; i++) {
                        buf[i] = (char)(1 + rand() % 255);
                    }
                }
            }
            rs = load(st, buf, &rc);
            if (rc == 0) {
                assert_true(replay_source_done(rs));
            }
            replay_source_free(rs);
            store_free(st);
        }
    }
}

/* A recording cut short on disk while it is replayed (mapped, read again when played): the
 * pages past the cut read as zeros instead of killing nctop with SIGBUS, and the problem is
 * named. */
static void test_issue_10_recording_cut_while_replayed(void **state)
{
    FILE *in = fopen("sample-data/tinylm.nctrec", "rb");
    struct store *st = store_new(NULL);
    struct replay_source *rs = replay_source_new(st);
    static char buf[4 << 20];
    char *path, *err = NULL;
    size_t len;

    (void)state;
    assert_non_null(in);
    len = fread(buf, 1, sizeof(buf), in);
    fclose(in);
    assert_true(len > 8192);
    path = save(buf, len);
    assert_int_equal(replay_source_add(rs, path, &err), 0);
    assert_int_equal(truncate(path, 0), 0);
    replay_source_advance(rs, replay_source_end_ns(rs));
    assert_true(problem_has(rs, "cut short while it was read"));
    unlink(path);
    free(path);
    replay_source_free(rs);
    store_free(st);
}

/* --- issue 11 point 6: the seed's own logs ------------------------------------------------ */

/* A file named name in a fresh directory (dir, 64 bytes); unsave removes both. */
static char *save_as(char *dir, const char *name, const char *text)
{
    static int seq;
    char *path;
    FILE *f;

    snprintf(dir, 64, "/tmp/nctop-test-replay-%d-%d", (int)getpid(), seq++);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
    f = fopen(path, "w");
    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    fclose(f);
    return path;
}

static void unsave(const char *dir, char *path)
{
    unlink(path);
    rmdir(dir);
    free(path);
}

/* Load the files (name, text pairs) into st through one source played to its end. */
static struct replay_source *load_named(struct store *st, size_t n, const char *const *files)
{
    struct replay_source *rs = replay_source_new(st);

    for (size_t i = 0; i < n; i++) {
        char dir[64];
        char *path = save_as(dir, files[2 * i], files[2 * i + 1]), *err = NULL;

        assert_int_equal(replay_source_add(rs, path, &err), 0);
        free(err);
        unsave(dir, path);
    }
    replay_source_advance(rs, replay_source_end_ns(rs));
    return rs;
}

/* The value of key in a row's JSON: 1 a number (*out set), 0 null, -1 absent or other. */
static int json_num(const struct cJSON *o, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return 1;
    }
    return cJSON_IsNull(v) ? 0 : -1;
}

/* A seed row has last_ms and average_ms only: every other statistic is absent (null in the
 * JSON), never 0; the two it has are numbers. */
static void test_issue_11_seed_absent_stats(void **state)
{
    static const char log[] =
        "{\"timestamp\":\"2026-11-22T03:14:05.016Z\",\"rows\":[]}\n"
        "{\"timestamp\":\"2026-11-22T03:14:10.016Z\",\"rows\":["
        "{\"label\":\"Embedding\",\"last_ms\":0.5,\"average_ms\":0.4,\"level\":0}]}\n";
    static const char *const keys[] = {"count",  "min_ms", "max_ms",  "p50_ms",
                                       "p95_ms", "p99_ms", "total_ms"};
    struct store *st = store_new(NULL);
    int rc;
    struct replay_source *rs = load(st, log, &rc);
    struct rows r;
    const struct row *e;
    cJSON *o;
    double v;

    (void)state;
    assert_int_equal(rc, 0);
    rows_init(&r);
    rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    e = find(&r, "Embedding");
    assert_non_null(e);
    assert_true(rows_stat_known(&e->win, true, ROW_S_LAST));
    assert_true(rows_stat_known(&e->win, true, ROW_S_MEAN));
    assert_false(rows_stat_known(&e->win, true, ROW_S_COUNT));
    assert_false(rows_stat_known(&e->win, true, ROW_S_P95));
    assert_false(rows_stat_known(&e->all, true, ROW_S_P99));
    o = snapshot_latency_row(e);
    assert_int_equal(json_num(o, "last_ms", &v), 1);
    assert_true(v == 0.5);
    assert_int_equal(json_num(o, "average_ms", &v), 1);
    assert_true(v == 0.4);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        assert_int_equal(json_num(o, keys[i], &v), 0);
        assert_int_equal(json_num(cJSON_GetObjectItemCaseSensitive(o, "total"), keys[i], &v), 0);
    }
    cJSON_Delete(o);
    assert_int_equal(replay_source_nproblems(rs), 0);
    rows_done(&r);
    replay_source_free(rs);
    store_free(st);
}

/* The seed's latency rows: Softmax rows are flat level-0 rows written between Forward Step and
 * the Block rows of Forward Step; the blocks (times inside Forward Step's, not inside a
 * softmax's) are Forward Step's, never the softmax's. Rows with no times go to the nearest
 * row above; a level-1 row with no row above at all is refused, and so is its child. */
static void test_issue_11_seed_flat_rows(void **state)
{
    static const char log[] =
        "{\"timestamp\":\"2026-11-22T03:14:10.016Z\",\"rows\":["
        "{\"label\":\"Orphan\",\"last_ms\":1,\"average_ms\":1,\"level\":1},"
        "{\"label\":\"Orphan phase\",\"last_ms\":1,\"average_ms\":1,\"level\":2},"
        "{\"label\":\"Embedding\",\"last_ms\":0.5,\"average_ms\":0.4,\"level\":0},"
        "{\"label\":\"Forward Step\",\"last_ms\":20.0,\"average_ms\":21.0,\"level\":0},"
        "{\"label\":\"Softmax (Kernel)\",\"last_ms\":0.3,\"average_ms\":0.2,\"level\":0},"
        "{\"label\":\"Softmax (MPS)\",\"last_ms\":0.4,\"average_ms\":0.3,\"level\":0},"
        "{\"label\":\"Block 1\",\"last_ms\":9.0,\"average_ms\":9.5,\"level\":1},"
        "{\"label\":\"attention\",\"last_ms\":4.0,\"average_ms\":4.5,\"level\":2},"
        "{\"label\":\"Block 2\",\"last_ms\":10.0,\"average_ms\":10.5,\"level\":1},"
        "{\"label\":\"Output\",\"last_ms\":1.0,\"average_ms\":1.1,\"level\":0},"
        "{\"label\":\"P1\",\"level\":0},{\"label\":\"P2\",\"level\":0},"
        "{\"label\":\"C1\",\"level\":1},{\"label\":\"C2\",\"level\":1},"
        "{\"label\":\"Sampling\",\"last_ms\":0.1,\"average_ms\":0.1,\"level\":0}]}\n";
    struct store *st = store_new(NULL);
    int rc;
    struct replay_source *rs = load(st, log, &rc);
    struct rows r;

    (void)state;
    assert_int_equal(rc, 0);
    rows_init(&r);
    rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_non_null(find(&r, "Forward Step/Block 1"));
    assert_non_null(find(&r, "Forward Step/Block 1/attention"));
    assert_non_null(find(&r, "Forward Step/Block 2"));
    assert_int_equal(find(&r, "Forward Step")->nchildren, 2);
    assert_int_equal(find(&r, "Softmax (Kernel)")->nchildren, 0);
    assert_int_equal(find(&r, "Softmax (MPS)")->nchildren, 0);
    assert_int_equal(find(&r, "Output")->nchildren, 0);
    /* Two parents, children after the second: the second's. */
    assert_non_null(find(&r, "P2/C1"));
    assert_non_null(find(&r, "P2/C2"));
    assert_int_equal(find(&r, "P1")->nchildren, 0);
    /* The orphan and its child: refused with their line, adopted by nobody. */
    assert_null(find(&r, "Orphan"));
    assert_null(find(&r, "Embedding/Orphan"));
    for (size_t i = 0; i < r.n; i++) {
        assert_null(strstr(r.v[i].path, "Orphan"));
    }
    assert_int_equal(r.n, 13);
    assert_true(problem_has(rs, ":1: row 1 (Orphan): level 1 with no row above it"));
    assert_true(problem_has(rs, ":1: row 2 (Orphan phase): under a row that was refused"));
    assert_int_equal(replay_source_nproblems(rs), 2);
    rows_done(&r);
    replay_source_free(rs);
    store_free(st);
}

/* The seed's memory rows keep their parents too: flat level-0 rows (host overheads) before
 * Host Memory never take its children; rows with a path (nctop's logs) go where it says. */
static void test_issue_11_memory_flat_rows(void **state)
{
    static const char log[] =
        "{\"timestamp\":\"2026-11-22T03:14:11.016Z\",\"rows\":["
        "{\"label\":\"Model Weights\",\"level\":0,\"current_total_mb\":100,\"peak_total_mb\":100},"
        "{\"label\":\"Runtime\",\"level\":0,\"current_total_mb\":5,\"peak_total_mb\":5},"
        "{\"label\":\"Host Memory (MB)\",\"level\":0,\"current_total_mb\":300,"
        "\"peak_total_mb\":310},"
        "{\"label\":\"Tensor Pool (Reserved)\",\"level\":1,\"current_total_mb\":64,"
        "\"peak_total_mb\":64},"
        "{\"label\":\"pool\",\"level\":2,\"current_total_mb\":8,\"peak_total_mb\":8},"
        "{\"label\":\"A\",\"level\":0,\"bytes\":1,\"path\":\"A\",\"pid\":3,\"process\":\"x\"},"
        "{\"label\":\"B\",\"level\":0,\"bytes\":1,\"path\":\"B\",\"pid\":3,\"process\":\"x\"},"
        "{\"label\":\"a1\",\"level\":1,\"bytes\":1,\"path\":\"A/a1\",\"pid\":3,"
        "\"process\":\"x\"},"
        "{\"label\":\"b1\",\"level\":1,\"bytes\":1,\"path\":\"C/b1\",\"pid\":3,"
        "\"process\":\"x\"}]}\n";
    struct store *st = store_new(NULL);
    int rc;
    struct replay_source *rs = load(st, log, &rc);
    struct rows r;

    (void)state;
    assert_int_equal(rc, 0);
    assert_int_equal(store_nprocs(st), 2);
    rows_init(&r);
    rows_build_memory(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_non_null(find(&r, "Host Memory (MB)/Tensor Pool (Reserved)/pool"));
    assert_int_equal(find(&r, "Runtime")->nchildren, 0);
    rows_clear(&r);
    rows_build_memory(&r, store_proc_at(st, 1), replay_source_end_ns(rs));
    assert_non_null(find(&r, "A/a1"));
    assert_int_equal(find(&r, "B")->nchildren, 0);
    assert_null(find(&r, "B/b1"));
    assert_true(problem_has(rs, ":1: row 9 (b1): no row above it has the path 'C'"));
    rows_done(&r);
    replay_source_free(rs);
    store_free(st);
}

/* A value of the wrong type is a problem with file and line naming the field: a statistic
 * becomes null, a row without a usable label, level or current figure is refused (with its
 * children), and nothing else is lost. */
static void test_issue_11_wrong_types(void **state)
{
    static const char log[] =
        "{\"timestamp\":\"2026-11-22T03:14:10.016Z\",\"rows\":["
        "{\"label\":\"A\",\"last_ms\":\"12\",\"average_ms\":3,\"level\":0},"
        "{\"label\":\"B\",\"last_ms\":2,\"average_ms\":true,\"level\":0},"
        "{\"label\":\"C\",\"last_ms\":2,\"average_ms\":2,\"level\":\"x\"},"
        "{\"label\":\"C1\",\"last_ms\":1,\"average_ms\":1,\"level\":1},"
        "{\"label\":7,\"last_ms\":1,\"average_ms\":1,\"level\":0},"
        "{\"label\":\"D\",\"last_ms\":-4,\"average_ms\":1,\"count\":\"5\",\"level\":0},"
        "{\"label\":\"E\",\"last_ms\":1,\"average_ms\":1,\"level\":0}]}\n"
        "{\"timestamp\":\"2026-11-22T03:14:11.016Z\",\"rows\":["
        "{\"label\":\"M\",\"level\":0,\"current_total_mb\":\"3\",\"peak_total_mb\":3},"
        "{\"label\":\"M1\",\"level\":1,\"current_total_mb\":1,\"peak_total_mb\":1},"
        "{\"label\":\"N\",\"level\":0,\"current_total_mb\":2,\"peak_total_mb\":false}]}\n";
    struct store *st = store_new(NULL);
    int rc;
    struct replay_source *rs = load(st, log, &rc);
    struct rows r;
    const struct row *a, *b, *d, *n;

    (void)state;
    assert_int_equal(rc, 0);
    rows_init(&r);
    rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    a = find(&r, "A");
    b = find(&r, "B");
    d = find(&r, "D");
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(d);
    assert_non_null(find(&r, "E"));
    assert_false(rows_stat_known(&a->win, true, ROW_S_LAST));
    assert_true(rows_stat_known(&a->win, true, ROW_S_MEAN) && a->win.mean_ns == 3000000ULL);
    assert_false(rows_stat_known(&b->win, true, ROW_S_MEAN));
    assert_true(b->win.last_ns == 2000000ULL);
    assert_false(rows_stat_known(&d->win, true, ROW_S_LAST));
    assert_false(rows_stat_known(&d->win, true, ROW_S_COUNT));
    assert_null(find(&r, "C"));
    assert_null(find(&r, "B/C1"));
    assert_int_equal(r.n, 4);
    assert_true(problem_has(rs, ":1: row 1 (A): last_ms is a string, not a number"));
    assert_true(problem_has(rs, ":1: row 2 (B): average_ms is a boolean, not a number"));
    assert_true(problem_has(rs, ":1: row 3 (C): level is a string, not a number"));
    assert_true(problem_has(rs, ":1: row 4 (C1): under a row that was refused"));
    assert_true(problem_has(rs, ":1: row 5: label is a number, not a string"));
    assert_true(problem_has(rs, ":1: row 6 (D): last_ms -4 out of range"));
    assert_true(problem_has(rs, ":1: row 6 (D): count is a string, not a number"));
    rows_clear(&r);
    rows_build_memory(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_null(find(&r, "M"));
    assert_null(find(&r, "M1"));
    n = find(&r, "N");
    assert_non_null(n);
    assert_true(n->bytes == 2 << 20);
    assert_int_equal(n->flags & ROW_F_PEAK, 0);
    assert_int_equal(r.n, 1);
    assert_true(problem_has(rs, ":2: row 1 (M): current_total_mb is a string, not a number"));
    assert_true(problem_has(rs, ":2: row 2 (M1): under a row that was refused"));
    assert_true(problem_has(rs, ":2: row 3 (N): peak_total_mb is a boolean, not a number"));
    assert_int_equal(replay_source_nproblems(rs), 10);
    rows_done(&r);
    replay_source_free(rs);
    store_free(st);
}

/* The seed's pair, a latency log and a memory log written a second apart: one workload. Three
 * seconds apart, or two latency logs: two. Files renamed: their first lines' times decide.
 * Three logs: the closest stamps pair. */
static void test_issue_11_pair_one_workload(void **state)
{
    static const char lat[] =
        "{\"timestamp\":\"2026-11-22T03:14:05.016Z\",\"rows\":[]}\n"
        "{\"timestamp\":\"2026-11-22T03:14:10.016Z\",\"rows\":["
        "{\"label\":\"Forward Step\",\"last_ms\":20.0,\"average_ms\":21.0,\"level\":0}]}\n";
    static const char mem[] =
        "{\"timestamp\":\"2026-11-22T03:14:06.002Z\",\"rows\":[]}\n"
        "{\"timestamp\":\"2026-11-22T03:14:11.002Z\",\"rows\":["
        "{\"label\":\"Forward Step\",\"level\":0,\"current_total_mb\":12,\"peak_total_mb\":14}]}\n";
    static const char mem_late[] =
        "{\"timestamp\":\"2026-11-22T03:14:08.002Z\",\"rows\":[]}\n"
        "{\"timestamp\":\"2026-11-22T03:14:11.002Z\",\"rows\":["
        "{\"label\":\"Forward Step\",\"level\":0,\"current_total_mb\":12,\"peak_total_mb\":14}]}\n";
    const char *const pair[] = {"20261122031405-latency.jsonl", lat, "20261122031406-memory.jsonl",
                                mem};
    const char *const apart[] = {"20261122031405-latency.jsonl", lat, "20261122031408-memory.jsonl",
                                 mem_late};
    const char *const two_lat[] = {"20261122031405-latency.jsonl", lat,
                                   "20261122031406-latency.jsonl", lat};
    const char *const renamed[] = {"run-a.jsonl", lat, "run-b.jsonl", mem};
    /* Two memory logs near one latency log: the closer stamp is its pair. */
    const char *const closest[] = {"20261122031406-memory.jsonl",  mem,
                                   "20261122031405-latency.jsonl", lat,
                                   "20261122031405-memory.jsonl",  mem};
    struct store *st = store_new(NULL);
    struct replay_source *rs = load_named(st, 2, pair);
    struct rows r;

    (void)state;
    assert_int_equal(store_nprocs(st), 1);
    rows_init(&r);
    rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_non_null(find(&r, "Forward Step"));
    rows_clear(&r);
    rows_build_memory(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_non_null(find(&r, "Forward Step"));
    replay_source_free(rs);
    store_free(st);

    st = store_new(NULL);
    rs = load_named(st, 2, apart);
    assert_int_equal(store_nprocs(st), 2);
    replay_source_free(rs);
    store_free(st);

    st = store_new(NULL);
    rs = load_named(st, 2, two_lat);
    assert_int_equal(store_nprocs(st), 2);
    replay_source_free(rs);
    store_free(st);

    st = store_new(NULL);
    rs = load_named(st, 3, closest);
    assert_int_equal(store_nprocs(st), 2);
    rows_clear(&r);
    rows_build_latency(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_int_equal(r.n, 0);
    rows_build_latency(&r, store_proc_at(st, 1), replay_source_end_ns(rs));
    assert_non_null(find(&r, "Forward Step"));
    rows_clear(&r);
    replay_source_free(rs);
    store_free(st);

    st = store_new(NULL);
    rs = load_named(st, 2, renamed);
    assert_int_equal(store_nprocs(st), 1);
    rows_build_memory(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    assert_non_null(find(&r, "Forward Step"));
    rows_done(&r);
    replay_source_free(rs);
    store_free(st);
}

/* The seed's pool, kv and kv-cache figures of a memory row are read, kept and written back
 * under the seed's names; nctop's own rows carry them too (a pool's used bytes are pool
 * bytes, a KV cache's are kv-cache bytes), and they replay back from nctop's log. */
static void test_issue_11_memory_parts(void **state)
{
    static const char log[] =
        "{\"timestamp\":\"2026-11-22T03:14:11.016Z\",\"rows\":["
        "{\"label\":\"Forward Step\",\"level\":0,\"current_total_mb\":12.0,\"peak_total_mb\":14.0,"
        "\"current_pool_mb\":8.0,\"peak_pool_mb\":9.0,\"current_kv_mb\":3.0,\"peak_kv_mb\":4.0,"
        "\"current_kv_cache_mb\":1.0,\"peak_kv_cache_mb\":1.0,\"absolute_pool_mb\":0.0,"
        "\"absolute_kv_mb\":0.0,\"absolute_kv_cache_mb\":0.0,\"show_absolute\":false},"
        "{\"label\":\"Old\",\"level\":0,\"current_total_mb\":1,\"peak_total_mb\":1}]}\n";
    static const char *const keys[] = {"current_pool_mb",     "peak_pool_mb",
                                       "current_kv_mb",       "peak_kv_mb",
                                       "current_kv_cache_mb", "peak_kv_cache_mb"};
    static const double want[] = {8, 9, 3, 4, 1, 1};
    struct store *st = store_new(NULL);
    int rc;
    struct replay_source *rs = load(st, log, &rc);
    struct store_proc *p;
    struct rows r;
    const struct row *fs;
    cJSON *o, *arr;
    char *text, *line;
    double v;

    (void)state;
    assert_int_equal(rc, 0);
    rows_init(&r);
    rows_build_memory(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    fs = find(&r, "Forward Step");
    assert_non_null(fs);
    assert_int_equal(fs->flags & ROW_F_PARTS_ABSENT, 0);
    assert_true(fs->part_bytes[ROW_PART_POOL] == 8 << 20);
    assert_true(fs->part_peak_bytes[ROW_PART_KV] == 4 << 20);
    o = snapshot_memory_row(fs);
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(json_num(o, keys[i], &v), 1);
        assert_true(v == want[i]);
    }
    cJSON_Delete(o);
    /* A row of a file without them: null, not 0. */
    o = snapshot_memory_row(find(&r, "Old"));
    for (size_t i = 0; i < 6; i++) {
        assert_int_equal(json_num(o, keys[i], &v), 0);
    }
    cJSON_Delete(o);
    rows_clear(&r);
    replay_source_free(rs);
    store_free(st);

    /* nctop's own rows: a pool gauge and a KV cache gauge. */
    st = store_new(NULL);
    p = store_proc_add(st, 42, "lm");
    store_gauge_set(p, store_proc_intern(p, "tensor_pool"), STORE_MEM_POOL, 0, 3 << 20, 8 << 20,
                    5 << 20);
    store_gauge_set(p, store_proc_intern(p, "kv_cache"), STORE_MEM_KV_CACHE, 0, 2 << 20, 16 << 20,
                    2 << 20);
    store_weight_set(p, store_proc_intern(p, "embed"), 0, 1 << 20);
    rows_build_memory(&r, p, 0);
    arr = cJSON_CreateArray();
    for (size_t i = 0; i < r.n; i++) {
        cJSON *row = snapshot_memory_row(&r.v[i]);

        cJSON_AddNumberToObject(row, "pid", 42);
        cJSON_AddStringToObject(row, "process", "lm");
        cJSON_AddItemToArray(arr, row);
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "timestamp", "2026-11-22T03:14:11.016Z");
    cJSON_AddItemToObject(o, "rows", arr);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    assert_true(asprintf(&line, "%s\n", text) > 0);
    cJSON_free(text);
    o = snapshot_memory_row(find(&r, "Memory Pools/tensor_pool"));
    assert_int_equal(json_num(o, "current_pool_mb", &v), 1);
    assert_true(v == 3);
    assert_int_equal(json_num(o, "peak_pool_mb", &v), 1);
    assert_true(v == 5);
    assert_int_equal(json_num(o, "current_kv_cache_mb", &v), 1);
    assert_true(v == 0);
    cJSON_Delete(o);
    o = snapshot_memory_row(find(&r, "KV Cache/kv_cache"));
    assert_int_equal(json_num(o, "current_kv_cache_mb", &v), 1);
    assert_true(v == 2);
    assert_int_equal(json_num(o, "current_kv_mb", &v), 1);
    assert_true(v == 0);
    assert_int_equal(json_num(o, "current_pool_mb", &v), 1);
    assert_true(v == 0);
    cJSON_Delete(o);
    o = snapshot_memory_row(find(&r, "Model Weights"));
    assert_int_equal(json_num(o, "current_pool_mb", &v), 1);
    assert_true(v == 0);
    cJSON_Delete(o);
    rows_clear(&r);
    store_free(st);

    /* ... and they replay back from nctop's log line. */
    st = store_new(NULL);
    rs = load(st, line, &rc);
    free(line);
    assert_int_equal(rc, 0);
    assert_int_equal(replay_source_nproblems(rs), 0);
    rows_build_memory(&r, store_proc_at(st, 0), replay_source_end_ns(rs));
    fs = find(&r, "Memory Pools/tensor_pool");
    assert_non_null(fs);
    assert_int_equal(fs->flags & ROW_F_PARTS_ABSENT, 0);
    assert_true(fs->part_bytes[ROW_PART_POOL] == 3 << 20);
    assert_true(fs->part_peak_bytes[ROW_PART_POOL] == 5 << 20);
    fs = find(&r, "KV Cache/kv_cache");
    assert_non_null(fs);
    assert_true(fs->part_bytes[ROW_PART_KV_CACHE] == 2 << 20);
    assert_true(fs->part_bytes[ROW_PART_POOL] == 0);
    rows_done(&r);
    replay_source_free(rs);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_log),
        cmocka_unit_test(test_memory_log),
        cmocka_unit_test(test_profile_lines),
        cmocka_unit_test(test_chrome),
        cmocka_unit_test(test_chrome_truncated),
        cmocka_unit_test(test_unreadable),
        cmocka_unit_test(test_fuzz),
        cmocka_unit_test(test_issue_10_float_overflow),
        cmocka_unit_test(test_issue_10_chrome_many_threads),
        cmocka_unit_test(test_memory_rows_own_levels),
        cmocka_unit_test(test_issue_10_recording_cut_while_replayed),
        cmocka_unit_test(test_issue_11_seed_absent_stats),
        cmocka_unit_test(test_issue_11_seed_flat_rows),
        cmocka_unit_test(test_issue_11_memory_flat_rows),
        cmocka_unit_test(test_issue_11_wrong_types),
        cmocka_unit_test(test_issue_11_pair_one_workload),
        cmocka_unit_test(test_issue_11_memory_parts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
