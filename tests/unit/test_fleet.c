/* SPDX-License-Identifier: MIT */
/* Unit tests of the fleet source without a network: Prometheus' answers decoded from canned
 * JSON (success, its errors, what is not its API), addresses, and rounds
 * of answers put into a store: members and the fleet, their imported trees, the spread of
 * p99 with the slowest named, departures, a down instance, a restart, a failed round. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "collectors/fleet.h"
#include "collectors/fleet_http.h"
#include "collectors/fleet_json.h"
#include "src/model/rows.h"
#include "src/model/store.h"

#define SEC 1000000000ULL
#define T0 (1000 * SEC)

/* --- decoding ------------------------------------------------------------------------------ */

static void test_decode_vector(void **state)
{
    static const char body[] =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
        "{\"metric\":{\"__name__\":\"nctop_workload_info\",\"instance\":\"h:1\",\"job\":\"j\","
        "\"workload\":\"w\",\"pid\":\"42\",\"state\":\"live\",\"other\":\"x\"},"
        "\"value\":[1700000000.5,\"1\"]},"
        "{\"metric\":{\"path\":\"step\"},\"value\":[1700000000.5,\"NaN\"]},"
        "{\"metric\":{},\"value\":[1700000000.5,\"+Inf\"]}]}}";
    struct fleet_vector v;
    char *err = NULL;

    (void)state;
    assert_int_equal(fleet_json_decode(200, body, strlen(body), &v, &err), 0);
    assert_null(err);
    assert_int_equal(v.n, 3);
    assert_string_equal(v.v[0].label[FLEET_L_NAME], "nctop_workload_info");
    assert_string_equal(v.v[0].label[FLEET_L_INSTANCE], "h:1");
    assert_string_equal(v.v[0].label[FLEET_L_JOB], "j");
    assert_string_equal(v.v[0].label[FLEET_L_WORKLOAD], "w");
    assert_string_equal(v.v[0].label[FLEET_L_PID], "42");
    assert_string_equal(v.v[0].label[FLEET_L_STATE], "live");
    assert_true(v.v[0].value == 1.0);
    assert_null(v.v[1].label[FLEET_L_INSTANCE]);
    assert_string_equal(v.v[1].label[FLEET_L_PATH], "step");
    assert_true(isnan(v.v[1].value));
    assert_true(isinf(v.v[2].value) && v.v[2].value > 0);
    fleet_vector_done(&v);
    assert_int_equal(v.n, 0);
}

static void test_decode_empty(void **state)
{
    static const char body[] =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";
    struct fleet_vector v;
    char *err = NULL;

    (void)state;
    assert_int_equal(fleet_json_decode(200, body, strlen(body), &v, &err), 0);
    assert_int_equal(v.n, 0);
    fleet_vector_done(&v);
}

/* Every way an answer fails says so in one line. */
static void test_decode_errors(void **state)
{
    static const struct {
        int status;
        const char *body;
        const char *want; /* in the message */
    } cases[] = {
        {400,
         "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"1:1: parse error: "
         "unexpected\"}",
         "Prometheus answers bad_data: 1:1: parse error: unexpected"},
        {503, "{\"status\":\"error\",\"errorType\":\"timeout\",\"error\":\"query timed out\"}",
         "Prometheus answers timeout: query timed out"},
        {502, "<html>Bad Gateway</html>", "HTTP 502, and no answer of Prometheus' API"},
        {200, "not json", "not JSON"},
        {404, "{\"code\":404}", "HTTP 404, and no answer of Prometheus' API"},
        {200, "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":[]}}",
         "not an instant vector (resultType matrix)"},
        {200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{}]}}",
         "sample 1 of the answer"},
        {200,
         "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
         "{\"metric\":{},\"value\":[1,\"1\"]},{\"metric\":{},\"value\":[1,\"x\"]}]}}",
         "sample 2 of the answer"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct fleet_vector v;
        char *err = NULL;

        assert_int_equal(
            fleet_json_decode(cases[i].status, cases[i].body, strlen(cases[i].body), &v, &err),
            -EINVAL);
        assert_non_null(err);
        if (strstr(err, cases[i].want) == NULL) {
            fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].want);
        }
        assert_null(strchr(err, '\n'));
        assert_int_equal(v.n, 0);
        free(err);
    }
}

/* --- addresses and responses ---------------------------------------------------------------- */

static void test_url_parse(void **state)
{
    struct fleet_url u;
    char *err = NULL;
    static const char *const bad[] = {"https://h:9090", "127.0.0.1:9090", "http://",
                                      "http://:9090",   "http://h:0",     "http://h:99999",
                                      "http://h:x",     "http://[::1",    "http://h:9090?q=1"};

    (void)state;
    assert_int_equal(fleet_url_parse("http://127.0.0.1:9090", &u, &err), 0);
    assert_string_equal(u.host, "127.0.0.1");
    assert_string_equal(u.port, "9090");
    assert_string_equal(u.prefix, "");
    assert_int_equal(fleet_url_parse("http://[::1]:9091/prom/", &u, &err), 0);
    assert_string_equal(u.host, "::1");
    assert_string_equal(u.port, "9091");
    assert_string_equal(u.prefix, "/prom");
    assert_int_equal(fleet_url_parse("HTTP://prometheus.local", &u, &err), 0);
    assert_string_equal(u.host, "prometheus.local");
    assert_string_equal(u.port, "80");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        if (fleet_url_parse(bad[i], &u, &err) != -EINVAL || err == NULL) {
            fail_msg("'%s' was taken", bad[i]);
        }
        free(err);
    }
}

static void test_url_encode(void **state)
{
    char *e = fleet_url_encode("sum by (le) (rate(x{a=\"b c\"}[60s]))~._-");

    (void)state;
    assert_string_equal(
        e, "sum%20by%20%28le%29%20%28rate%28x%7Ba%3D%22b%20c%22%7D%5B60s%5D%29%29~._-");
    free(e);
}

/* --- rounds of answers into the store ------------------------------------------------------- */

/* A canned answer: the samples given as JSON items. */
static void answer(struct fleet_vector *v, const char *items)
{
    char *body = NULL, *err = NULL;
    size_t n = strlen(items) + 128;

    body = malloc(n);
    snprintf(body, n,
             "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[%s]}}",
             items);
    if (fleet_json_decode(200, body, strlen(body), v, &err) != 0) {
        fail_msg("canned answer: %s", err);
    }
    free(body);
}

#define INFO(inst, pid, state)                                                                     \
    "{\"metric\":{\"__name__\":\"nctop_workload_info\",\"instance\":\"" inst                       \
    "\",\"job\":\"nctop\",\"workload\":\"tinylm\",\"pid\":\"" pid "\",\"state\":\"" state          \
    "\"},\"value\":[1,\"1\"]}"
#define SERIES(name, inst, v)                                                                      \
    "{\"metric\":{\"__name__\":\"" name "\",\"instance\":\"" inst                                  \
    "\",\"workload\":\"tinylm\"},\"value\":[1,\"" v "\"]}"
#define PATHV(inst, path, v)                                                                       \
    "{\"metric\":{\"instance\":\"" inst "\",\"workload\":\"tinylm\",\"path\":\"" path              \
    "\"},\"value\":[1,\"" v "\"]}"
#define ALLV(path, v) "{\"metric\":{\"path\":\"" path "\"},\"value\":[1,\"" v "\"]}"

/* One round: three instances (a:1 fast, b:1, c:1 slow), each with step and step/forward. */
static void round_of_three(struct fleet_vector *ans)
{
    answer(
        &ans[FLEET_Q_SERIES],
        INFO("c:1", "30", "live") "," INFO("a:1", "10", "live") "," INFO("b:1", "20", "live") "," SERIES(
            "nctop_generation_tokens_total", "a:1",
            "1000") "," SERIES("nctop_generation_tokens_total", "b:1",
                               "500") "," SERIES("nctop_generation_tokens_total", "c:1",
                                                 "10") "," SERIES("nctop_events_dropped_total",
                                                                  "c:1",
                                                                  "7") "," SERIES("nctop_resident_"
                                                                                  "memory_bytes",
                                                                                  "a:1",
                                                                                  "1048576") "," SERIES("nctop_cpu_seconds_total",
                                                                                                        "a:1",
                                                                                                        "2.5"));
    answer(&ans[FLEET_Q_UP], "");
    answer(&ans[FLEET_Q_TOKENS],
           PATHV("a:1", "x", "100") "," PATHV("b:1", "x", "50") "," PATHV("c:1", "x", "1"));
    answer(&ans[FLEET_Q_P50], PATHV("a:1", "step", "0.001") "," PATHV(
                                  "b:1", "step", "0.002") "," PATHV("c:1", "step", "0.01"));
    answer(&ans[FLEET_Q_P95], "");
    answer(&ans[FLEET_Q_P99],
           PATHV("a:1", "step", "0.004") "," PATHV("b:1", "step", "0.008") "," PATHV(
               "c:1", "step", "0.1") "," PATHV("a:1", "step/forward",
                                               "0.003") "," PATHV("b:1", "step/forward",
                                                                  "0.005") "," PATHV("c:1",
                                                                                     "step/forward",
                                                                                     "NaN"));
    answer(&ans[FLEET_Q_SUM],
           PATHV("a:1", "step", "0.5") "," PATHV("b:1", "step", "0.5") "," PATHV(
               "c:1", "step",
               "0.5") "," PATHV("a:1", "step/forward",
                                "0.25") "," PATHV("b:1", "step/forward",
                                                  "0.4") "," PATHV("c:1", "step/forward", "0.1"));
    answer(&ans[FLEET_Q_COUNT],
           PATHV("a:1", "step", "250") "," PATHV("b:1", "step", "100") "," PATHV(
               "c:1", "step",
               "5") "," PATHV("a:1", "step/forward",
                              "250") "," PATHV("b:1", "step/forward",
                                               "100") "," PATHV("c:1", "step/forward", "0"));
    answer(&ans[FLEET_Q_ALL_P50], ALLV("step", "0.0015"));
    answer(&ans[FLEET_Q_ALL_P95], "");
    answer(&ans[FLEET_Q_ALL_P99], ALLV("step", "0.09") "," ALLV("step/forward", "0.005"));
}

static const struct row *find_row(const struct rows *r, const char *path)
{
    for (size_t i = 0; i < r->n; i++) {
        if (strcmp(r->v[i].path, path) == 0) {
            return &r->v[i];
        }
    }
    return NULL;
}

static struct store_proc *find_proc(struct store *st, const char *label)
{
    for (size_t i = 0; i < store_nprocs(st); i++) {
        struct rows_summary s;
        struct store_proc *p = store_proc_at(st, i);
        bool same;

        rows_build_summary(&s, p, T0);
        same = strcmp(s.label, label) == 0;
        rows_summary_done(&s);
        if (same) {
            return p;
        }
    }
    return NULL;
}

static double tokens_rate(const struct store_proc *p, uint64_t now)
{
    struct rows_summary s;
    double r = -1;

    rows_build_summary(&s, p, now);
    for (size_t i = 0; i < s.ncounters; i++) {
        if (strcmp(s.counters[i].name, "tokens") == 0 && s.counters[i].rate_valid) {
            r = s.counters[i].per_sec;
        }
    }
    rows_summary_done(&s);
    return r;
}

static void test_apply_round(void **state)
{
    struct store_config cfg = {.window_ns = 10 * SEC};
    struct store *st = store_new(&cfg);
    char *err = NULL;
    struct fleet *f = fleet_new(st, "http://127.0.0.1:9090", 10, &err);
    struct fleet_vector ans[FLEET_NQUERIES];
    struct rows rows;
    const struct row *r;
    struct store_proc *a, *c, *all;
    uint64_t rss, peak, cpu;

    (void)state;
    assert_non_null(f);
    assert_non_null(strstr(fleet_promql(f, FLEET_Q_P99), "histogram_quantile(0.99, sum by "
                                                         "(instance, workload, path, le) "
                                                         "(rate(nctop_span_duration_seconds_"
                                                         "bucket[10s])))"));
    memset(ans, 0, sizeof(ans));
    round_of_three(ans);
    fleet_apply(f, ans, T0);
    assert_false(fleet_failed(f));
    assert_null(fleet_problem(f));
    for (int q = 0; q < FLEET_NQUERIES; q++) {
        assert_int_equal(ans[q].n, 0); /* taken */
    }

    /* The fleet first, then the members in the order of their instances. */
    assert_int_equal(store_nprocs(st), 4);
    all = store_proc_at(st, 0);
    assert_int_equal(store_proc_pid(all), 0);
    assert_int_equal(store_proc_fleet(all), STORE_FLEET_ALL);
    a = store_proc_at(st, 1);
    c = store_proc_at(st, 3);
    assert_ptr_equal(a, find_proc(st, "a:1/tinylm"));
    assert_ptr_equal(store_proc_at(st, 2), find_proc(st, "b:1/tinylm"));
    assert_ptr_equal(c, find_proc(st, "c:1/tinylm"));
    assert_int_equal(store_proc_pid(a), 10);
    assert_int_equal(store_proc_pid(c), 30);
    assert_int_equal(store_proc_fleet(c), STORE_FLEET_MEMBER);
    assert_int_equal(store_proc_state(c), STORE_PROC_LIVE);
    assert_string_equal(store_proc_attr(c, "instance"), "c:1");
    assert_string_equal(store_proc_attr(c, "job"), "nctop");
    assert_true(store_proc_host(a, &rss, &peak, &cpu));
    assert_int_equal(rss, 1048576);
    assert_int_equal(cpu, 2500000000ULL);

    /* A member's own tree: its quantiles and its rates over the range. */
    rows_init(&rows);
    rows_build_latency(&rows, c, T0);
    r = find_row(&rows, "step");
    assert_non_null(r);
    assert_true(r->flags & ROW_F_IMPORTED);
    assert_int_equal(r->win.p99_ns, 100000000ULL);
    assert_int_equal(r->win.p50_ns, 10000000ULL);
    assert_true(r->win.absent & ROW_S_P95);
    assert_true(r->win.absent & ROW_S_MAX);
    assert_int_equal(r->win.count, 50);             /* 5/s over 10 s */
    assert_int_equal(r->win.mean_ns, 100000000ULL); /* 0.5 s/s over 5/s */
    assert_false(r->flags & ROW_F_SPREAD);
    r = find_row(&rows, "step/forward");
    assert_non_null(r);
    assert_true(r->win.absent & ROW_S_P99); /* NaN: no span in the range */
    assert_true(r->flags & ROW_F_SHARE);
    assert_true(fabs(r->share_pct - 20.0) < 1e-9); /* 0.1 of 0.5 */

    /* The fleet's tree: the fleet's quantiles, the members' rates summed, and the spread. */
    rows_clear(&rows);
    rows_build_latency(&rows, all, T0);
    r = find_row(&rows, "step");
    assert_non_null(r);
    assert_int_equal(r->win.p99_ns, 90000000ULL);
    assert_int_equal(r->win.count, 3550);
    assert_true(r->flags & ROW_F_SPREAD);
    assert_int_equal(r->spread_n, 3);
    assert_int_equal(r->spread_min_ns, 4000000ULL);
    assert_int_equal(r->spread_median_ns, 8000000ULL);
    assert_int_equal(r->spread_max_ns, 100000000ULL);
    assert_string_equal(r->slowest, "c:1/tinylm");
    /* Two members have a p99 of step/forward: the median is the mean of the two. */
    r = find_row(&rows, "step/forward");
    assert_non_null(r);
    assert_int_equal(r->spread_n, 2);
    assert_int_equal(r->spread_min_ns, 3000000ULL);
    assert_int_equal(r->spread_median_ns, 4000000ULL);
    assert_int_equal(r->spread_max_ns, 5000000ULL);
    assert_string_equal(r->slowest, "b:1/tinylm");

    /* tokens/s from the first round (the rate Prometheus gives), and the fleet's sum. */
    assert_true(fabs(tokens_rate(a, T0) - 100.0) < 0.5);
    assert_true(fabs(tokens_rate(c, T0) - 1.0) < 0.5);
    assert_true(fabs(tokens_rate(all, T0) - 151.0) < 1.0);

    rows_done(&rows);
    fleet_free(f);
    store_free(st);
}

/* The second round: b is gone (its instance down), c restarted with another pid, a exited. */
static void test_apply_changes(void **state)
{
    struct store_config cfg = {.window_ns = 10 * SEC};
    struct store *st = store_new(&cfg);
    char *err = NULL;
    struct fleet *f = fleet_new(st, "http://127.0.0.1:9090", 10, &err);
    struct fleet_vector ans[FLEET_NQUERIES];
    struct rows rows;
    const struct row *r;
    struct store_proc *b, *c_old, *c_new;

    (void)state;
    memset(ans, 0, sizeof(ans));
    round_of_three(ans);
    fleet_apply(f, ans, T0);
    b = find_proc(st, "b:1/tinylm");
    c_old = find_proc(st, "c:1/tinylm");

    answer(&ans[FLEET_Q_SERIES], INFO("a:1", "10", "exited") "," INFO("c:1", "31", "live"));
    answer(&ans[FLEET_Q_UP], "{\"metric\":{\"instance\":\"b:1\"},\"value\":[1,\"0\"]},"
                             "{\"metric\":{\"instance\":\"c:1\"},\"value\":[1,\"1\"]}");
    answer(&ans[FLEET_Q_P99], PATHV("c:1", "step", "0.2") "," PATHV("a:1", "step", "0.004"));
    answer(&ans[FLEET_Q_ALL_P99], ALLV("step", "0.2"));
    fleet_apply(f, ans, T0 + SEC);
    assert_false(fleet_failed(f));

    assert_int_equal(store_proc_state(b), STORE_PROC_ERROR);
    assert_int_equal(store_proc_state(find_proc(st, "a:1/tinylm")), STORE_PROC_EXITED);
    /* A restart: the old process exited, a new one with the new pid. */
    assert_int_equal(store_proc_state(c_old), STORE_PROC_EXITED);
    assert_int_equal(store_nprocs(st), 5);
    c_new = store_proc_at(st, 4);
    assert_int_equal(store_proc_pid(c_new), 31);
    assert_int_equal(store_proc_state(c_new), STORE_PROC_LIVE);

    /* Only live members count: the spread is c's alone. */
    rows_init(&rows);
    rows_build_latency(&rows, store_proc_at(st, 0), T0 + SEC);
    r = find_row(&rows, "step");
    assert_non_null(r);
    assert_int_equal(r->spread_n, 1);
    assert_int_equal(r->spread_max_ns, 200000000ULL);
    assert_string_equal(r->slowest, "c:1/tinylm");
    /* A path the fleet no longer has: no figures, not the old ones. */
    r = find_row(&rows, "step/forward");
    assert_non_null(r);
    assert_true(r->win.absent & ROW_S_P99);
    assert_false(r->flags & ROW_F_SPREAD);
    rows_done(&rows);

    /* b's old figures are gone too. */
    rows_init(&rows);
    rows_build_latency(&rows, b, T0 + SEC);
    r = find_row(&rows, "step");
    assert_non_null(r);
    assert_true(r->win.absent & ROW_S_P99);
    assert_int_equal(r->win.count, 0);
    rows_done(&rows);
    fleet_free(f);
    store_free(st);
}

/* A failed round marks what was live, says why once, and the next answer clears it. */
static void test_apply_error(void **state)
{
    struct store_config cfg = {.window_ns = 10 * SEC};
    struct store *st = store_new(&cfg);
    char *err = NULL;
    struct fleet *f = fleet_new(st, "http://127.0.0.1:9090", 10, &err);
    struct fleet_vector ans[FLEET_NQUERIES];
    const char *msg;

    (void)state;
    memset(ans, 0, sizeof(ans));
    fleet_apply(f, ans, T0); /* Prometheus answers, but has no nctop */
    assert_true(fleet_failed(f));
    msg = fleet_problem(f);
    assert_non_null(msg);
    assert_non_null(strstr(msg, "no nctop series"));
    assert_null(fleet_problem(f)); /* once */
    assert_int_equal(store_nprocs(st), 0);

    round_of_three(ans);
    fleet_apply(f, ans, T0);
    assert_false(fleet_failed(f));
    assert_non_null(strstr(fleet_problem(f), "answering again"));
    fleet_apply_error(f, "connecting: Connection refused", T0 + SEC);
    assert_true(fleet_failed(f));
    msg = fleet_problem(f);
    assert_string_equal(msg, "--prometheus-url http://127.0.0.1:9090: connecting: Connection "
                             "refused");
    for (size_t i = 0; i < store_nprocs(st); i++) {
        assert_int_equal(store_proc_state(store_proc_at(st, i)), STORE_PROC_ERROR);
    }
    round_of_three(ans);
    fleet_apply(f, ans, T0 + 2 * SEC);
    assert_false(fleet_failed(f));
    for (size_t i = 0; i < store_nprocs(st); i++) {
        assert_int_equal(store_proc_state(store_proc_at(st, i)), STORE_PROC_LIVE);
    }
    fleet_free(f);
    store_free(st);
}

/* A workload gone for longer than keep-exited leaves the store; back again, it is a process
 * of its own (not the freed one). */
static void test_member_back_after_removal(void **state)
{
    struct store_config cfg = {.window_ns = 10 * SEC, .exited_keep_ns = SEC};
    struct store *st = store_new(&cfg);
    char *err = NULL;
    struct fleet *f = fleet_new(st, "http://127.0.0.1:9090", 10, &err);
    struct fleet_vector ans[FLEET_NQUERIES];

    (void)state;
    memset(ans, 0, sizeof(ans));
    round_of_three(ans);
    fleet_apply(f, ans, T0);
    assert_int_equal(store_nprocs(st), 4);
    answer(&ans[FLEET_Q_SERIES], INFO("a:1", "10", "live"));
    fleet_apply(f, ans, T0 + SEC);
    answer(&ans[FLEET_Q_SERIES], INFO("a:1", "10", "live"));
    fleet_apply(f, ans, T0 + 3 * SEC);
    assert_int_equal(store_nprocs(st), 2); /* b and c removed */
    answer(&ans[FLEET_Q_SERIES], INFO("a:1", "10", "live") "," INFO("b:1", "20", "live"));
    fleet_apply(f, ans, T0 + 4 * SEC);
    assert_int_equal(store_nprocs(st), 3);
    assert_int_equal(store_proc_state(find_proc(st, "b:1/tinylm")), STORE_PROC_LIVE);
    fleet_free(f);
    store_free(st);
}

static void test_bad_url(void **state)
{
    struct store *st = store_new(NULL);
    char *err = NULL;

    (void)state;
    assert_null(fleet_new(st, "ftp://x", 10, &err));
    assert_non_null(err);
    free(err);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_vector),
        cmocka_unit_test(test_decode_empty),
        cmocka_unit_test(test_decode_errors),
        cmocka_unit_test(test_url_parse),
        cmocka_unit_test(test_url_encode),

        cmocka_unit_test(test_apply_round),
        cmocka_unit_test(test_apply_changes),
        cmocka_unit_test(test_apply_error),
        cmocka_unit_test(test_bad_url),
        cmocka_unit_test(test_member_back_after_removal),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
