/* SPDX-License-Identifier: MIT */
/* The Prometheus exposition over a known store: exact histogram buckets, escaping, the series
 * cap, one instance per pid, and the listen-address parser. */
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

#include "src/http.h"
#include "src/model/store.h"
#include "src/output/prom.h"

#define MS 1000000ULL

/* The value of the series whose text (name{labels}) is exactly key, or -1. */
static double test_value(const char *text, const char *key)
{
    size_t klen = strlen(key);

    for (const char *p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 : p) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
            return strtod(p + klen + 1, NULL);
        }
    }
    return -1;
}

static size_t test_count(const char *text, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(text, needle); p != NULL; p = strstr(p + 1, needle)) {
        n++;
    }
    return n;
}

static struct store *test_store(void)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 42, "eng \"x\"\n");
    struct store_thread *t = store_thread_add(p, 42, "main");
    uint32_t step = store_proc_intern(p, "step"), fwd = store_proc_intern(p, "forward");
    uint32_t tokens = store_proc_intern(p, "tokens"), kv = store_proc_intern(p, "kv");
    uint32_t mm = store_proc_intern(p, "matmul"), cpu = store_proc_intern(p, "cpu");
    uint64_t t0 = 1000 * MS;

    /* 10 steps of 2 ms, each with a 1 ms forward; kernels of 3 us. */
    for (int i = 0; i < 10; i++) {
        uint64_t b = t0 + (uint64_t)i * 10 * MS;

        store_span_begin(t, step, b);
        store_span_begin(t, fwd, b);
        store_span_end(t, fwd, b + MS);
        store_span_end(t, step, b + 2 * MS);
        store_kernel(p, mm, cpu, b, 3000);
    }
    store_counter_set(p, tokens, 10, t0 + 100 * MS);
    store_gauge_set(p, kv, STORE_MEM_KV_CACHE, 0, 250, 1000, 250);
    return st;
}

static void test_histograms(void **state)
{
    struct store *st = test_store();
    size_t len;
    char *text = prom_render(st, 1200 * MS, 0, &len);
    const char *lab = "workload=\"eng \\\"x\\\"\\n\"";
    char key[512];

    (void)state;
    assert_int_equal(strlen(text), len);
    snprintf(key, sizeof(key), "nctop_span_duration_seconds_count{%s,path=\"step\"}", lab);
    assert_true(test_value(text, key) == 10);
    snprintf(key, sizeof(key), "nctop_span_duration_seconds_bucket{%s,path=\"step\",le=\"0.0016\"}",
             lab);
    assert_true(test_value(text, key) == 0);
    snprintf(key, sizeof(key), "nctop_span_duration_seconds_bucket{%s,path=\"step\",le=\"0.002\"}",
             lab);
    assert_true(test_value(text, key) == 10);
    snprintf(key, sizeof(key),
             "nctop_span_duration_seconds_bucket{%s,path=\"step/forward\",le=\"0.001\"}", lab);
    assert_true(test_value(text, key) == 10);
    snprintf(key, sizeof(key), "nctop_span_duration_seconds_sum{%s,path=\"step\"}", lab);
    assert_true(test_value(text, key) > 0.019999 && test_value(text, key) < 0.020001);
    snprintf(key, sizeof(key),
             "nctop_kernel_duration_seconds_bucket{%s,kernel=\"matmul\",backend=\"cpu\","
             "le=\"0.00001\"}",
             lab);
    assert_true(test_value(text, key) == 10);
    snprintf(key, sizeof(key), "nctop_generation_tokens_total{%s}", lab);
    assert_true(test_value(text, key) == 10);
    snprintf(key, sizeof(key), "nctop_kv_cache_usage_ratio{%s}", lab);
    assert_true(test_value(text, key) == 0.25);
    /* Every family is declared once. */
    assert_int_equal(test_count(text, "# TYPE nctop_span_duration_seconds histogram"), 1);
    assert_int_equal(test_count(text, "# TYPE nctop_generation_tokens_total counter"), 1);
    free(text);
    store_free(st);
}

static void test_cap_and_pid_once(void **state)
{
    struct store *st = test_store();
    struct store_proc *again = store_proc_add(st, 42, "after exec");
    size_t len;
    char *text;

    (void)state;
    (void)again;
    text = prom_render(st, 1200 * MS, 0, &len);
    /* The newest instance has no spans yet: no path series at all. */
    assert_int_equal(test_count(text, ",path=\""), 0);
    /* The older instance of pid 42 is not exported: the newest only. */
    assert_int_equal(test_count(text, "workload=\"eng"), 0);
    assert_true(test_value(text, "nctop_workload_info{workload=\"after exec\",pid=\"42\","
                                 "state=\"live\"}") == 1);
    free(text);
    store_free(st);

    /* A cap of 1: "step" keeps its series, "step/forward" folds into "other". */
    st = test_store();
    text = prom_render(st, 1200 * MS, 1, &len);
    assert_int_equal(test_count(text, "path=\"step/forward\""), 0);
    assert_true(test_count(text, "path=\"other\"") > 0);
    assert_true(test_value(text, "nctop_exporter_folded_paths{workload=\"eng "
                                 "\\\"x\\\"\\n\"}") == 1);
    free(text);
    store_free(st);
}

/* Issue 11.15: the default buckets are 10 per decade from 10 us to 100 s (a 12 s TTFT has a
 * bucket, not +Inf); a spec sets others; bad specs are refused with a reason. */
static void test_issue_11_buckets(void **state)
{
    struct store *st = test_store();
    struct store_proc *p = store_proc_at(st, 0);
    uint64_t *b = NULL;
    size_t n = 0, len;
    char *err = NULL, *text;
    struct prom_opts o = {0};
    const char *lab = "workload=\"eng \\\"x\\\"\\n\"";
    char key[512];

    (void)state;
    assert_int_equal(prom_buckets_parse(PROM_DEFAULT_BUCKETS, &b, &n, &err), 0);
    assert_int_equal(n, 71);
    assert_int_equal(b[0], 10000);
    assert_int_equal(b[1], 12500);
    assert_int_equal(b[5], 31500);
    assert_int_equal(b[n - 1], 100 * 1000 * MS);
    free(b);

    store_request_step(p, STORE_STEP_REQUEST_BEGIN, 1, 0, 2000 * MS);
    store_request_step(p, STORE_STEP_TOKEN, 1, 1, 14000 * MS);
    text = prom_render(st, 15000 * MS, 0, &len);
    snprintf(key, sizeof(key), "nctop_time_to_first_token_seconds_bucket{%s,le=\"12.5\"}", lab);
    assert_true(test_value(text, key) == 1);
    snprintf(key, sizeof(key), "nctop_time_to_first_token_seconds_bucket{%s,le=\"10\"}", lab);
    assert_true(test_value(text, key) == 0);
    /* 71 bounds and +Inf per histogram series. */
    assert_int_equal(test_count(text, "nctop_time_to_first_token_seconds_bucket{"), 72);
    free(text);

    assert_int_equal(prom_buckets_parse("0.001:1:3", &b, &n, &err), 0);
    assert_int_equal(n, 10); /* 1 2 5 10 20 50 100 200 500 1000 ms */
    assert_int_equal(b[2], 5 * MS);
    o.bounds_ns = b;
    o.nbounds = n;
    text = prom_render_opts(st, 15000 * MS, &o, &len);
    snprintf(key, sizeof(key), "nctop_span_duration_seconds_bucket{%s,path=\"step\",le=\"0.002\"}",
             lab);
    assert_true(test_value(text, key) == 10);
    assert_int_equal(test_count(text, "nctop_time_to_first_token_seconds_bucket{"), 11);
    free(text);
    free(b);

    assert_int_equal(prom_buckets_parse("0.0005,0.001,0.25", &b, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(b[0], 500000);
    free(b);
    static const char *const bad[] = {"",          "1,1",          "2,1",         "x",
                                      "0.001:1:0", "1:0.5:10",     "0.001:1:101", "0,1",
                                      "1e9",       "0.001:1:10:1", "1,"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err = NULL;
        assert_int_equal(prom_buckets_parse(bad[i], &b, &n, &err), -EINVAL);
        assert_non_null(err);
        assert_null(b);
        free(err);
    }
    store_free(st);
}

/* Issue 11.15: series are labelled by workload, not pid: a restarted workload (a new pid of
 * the same label, the old one exited) continues the same series; pid is in the info metric.
 * Two live workloads of one label stay apart. */
static void test_issue_11_workload_label(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *a = store_proc_add(st, 100, "engine");
    struct store_proc *b;
    size_t len;
    char *text;

    (void)state;
    store_counter_set(a, store_proc_intern(a, "tokens"), 5, 1000 * MS);
    store_proc_set_state(a, STORE_PROC_EXITED, "exited", 2000 * MS);
    b = store_proc_add(st, 200, "engine");
    store_counter_set(b, store_proc_intern(b, "tokens"), 7, 3000 * MS);
    text = prom_render(st, 3000 * MS, 0, &len);
    assert_int_equal(test_count(text, "pid=\""), 1);
    assert_true(test_value(text, "nctop_workload_info{workload=\"engine\",pid=\"200\","
                                 "state=\"live\"}") == 1);
    assert_true(test_value(text, "nctop_generation_tokens_total{workload=\"engine\"}") == 7);
    assert_int_equal(test_count(text, "nctop_generation_tokens_total{"), 1);
    free(text);

    /* A second live instance of the label: its own series, the first keeps the plain label. */
    store_proc_add(st, 300, "engine");
    text = prom_render(st, 3000 * MS, 0, &len);
    assert_true(test_value(text, "nctop_workload_info{workload=\"engine\",pid=\"200\","
                                 "state=\"live\"}") == 1);
    assert_true(test_value(text, "nctop_workload_info{workload=\"engine/300\",pid=\"300\","
                                 "state=\"live\"}") == 1);
    free(text);
    store_free(st);
}

/* Issue 11.1: the serving families: requests running, finished by result, end-to-end
 * duration, prompt tokens. */
static void test_issue_11_serving_families(void **state)
{
    struct store *st = test_store();
    struct store_proc *p = store_proc_at(st, 0);
    const char *lab = "workload=\"eng \\\"x\\\"\\n\"";
    char key[512];
    size_t len;
    char *text;

    (void)state;
    for (uint64_t r = 1; r <= 3; r++) {
        store_request_step(p, STORE_STEP_REQUEST_BEGIN, r, 0, 2000 * MS);
        store_request_step(p, STORE_STEP_PROMPT_TOKENS, r, 10 * r, 2000 * MS);
        store_request_step(p, STORE_STEP_TOKEN, r, 1, 2100 * MS);
    }
    store_request_step(p, STORE_STEP_REQUEST_END, 1, 0, 2300 * MS);
    store_request_step(p, STORE_STEP_REQUEST_END, 2, 1, 2400 * MS);
    text = prom_render(st, 3000 * MS, 0, &len);
    snprintf(key, sizeof(key), "nctop_requests_running{%s}", lab);
    assert_true(test_value(text, key) == 1);
    snprintf(key, sizeof(key), "nctop_requests_finished_total{%s,result=\"ok\"}", lab);
    assert_true(test_value(text, key) == 1);
    snprintf(key, sizeof(key), "nctop_requests_finished_total{%s,result=\"failed\"}", lab);
    assert_true(test_value(text, key) == 1);
    snprintf(key, sizeof(key), "nctop_requests_finished_total{%s,result=\"cancelled\"}", lab);
    assert_true(test_value(text, key) == 0);
    snprintf(key, sizeof(key), "nctop_request_duration_seconds_count{%s}", lab);
    assert_true(test_value(text, key) == 2);
    snprintf(key, sizeof(key), "nctop_request_duration_seconds_bucket{%s,le=\"0.315\"}", lab);
    assert_true(test_value(text, key) == 1);
    snprintf(key, sizeof(key), "nctop_prompt_tokens_total{%s}", lab);
    assert_true(test_value(text, key) == 60);
    assert_int_equal(test_count(text, "# TYPE nctop_requests_finished_total counter"), 1);
    assert_int_equal(test_count(text, "# TYPE nctop_request_duration_seconds histogram"), 1);
    free(text);
    store_free(st);
}

/* test_issue_15: compilations by target, model and result, their durations and their passes'
 * durations; the failure rate is what the workload's own ends say (3 of 8 here). */
static void test_issue_15_compilations(void **state)
{
    struct store *st = test_store();
    struct store_proc *p = store_proc_at(st, 0);
    struct store_thread *t = store_thread_add(p, 9999, "compiler");
    const char *lab = "workload=\"eng \\\"x\\\"\\n\"";
    uint32_t c = store_proc_intern(p, "compile"), err = store_proc_intern(p, "does not fit");
    uint32_t tk = store_proc_intern(p, "target"), mk = store_proc_intern(p, "model");
    uint32_t loihi = store_proc_intern(p, "loihi2"), tn = store_proc_intern(p, "truenorth");
    uint32_t brunel = store_proc_intern(p, "brunel"), parse = store_proc_intern(p, "parse");
    char key[512];
    size_t len;
    char *text;

    (void)state;
    for (uint64_t i = 0; i < 8; i++) {
        uint64_t b = 2000 * MS + i * 10 * MS;

        store_span_begin(t, c, b);
        store_span_attr(t, tk, i < 5 ? loihi : tn, b);
        store_span_attr(t, mk, brunel, b);
        store_span_begin(t, parse, b);
        store_span_end(t, parse, b + (i + 1) * MS / 2);
        store_span_end_status(t, c, i >= 5 ? err : 0, b + (i + 1) * MS);
    }
    text = prom_render(st, 3000 * MS, 0, &len);
    snprintf(key, sizeof(key),
             "nctop_compilations_total{%s,target=\"loihi2\",model=\"brunel\",result=\"ok\"}", lab);
    assert_true(test_value(text, key) == 5);
    snprintf(key, sizeof(key),
             "nctop_compilations_total{%s,target=\"truenorth\",model=\"brunel\",result=\"error\"}",
             lab);
    assert_true(test_value(text, key) == 3);
    snprintf(key, sizeof(key),
             "nctop_compilations_total{%s,target=\"truenorth\",model=\"brunel\",result=\"ok\"}",
             lab);
    assert_true(test_value(text, key) == 0);
    snprintf(key, sizeof(key),
             "nctop_compile_duration_seconds_count{%s,target=\"loihi2\",model=\"brunel\"}", lab);
    assert_true(test_value(text, key) == 5);
    snprintf(key, sizeof(key),
             "nctop_compile_duration_seconds_sum{%s,target=\"truenorth\",model=\"brunel\"}", lab);
    assert_true(fabs(test_value(text, key) - 0.021) < 1e-9); /* 6 + 7 + 8 ms */
    assert_int_equal(test_count(text, "# TYPE nctop_compilations_total counter"), 1);
    /* Each pass of them, by target, model and pass. */
    snprintf(key, sizeof(key),
             "nctop_compile_pass_duration_seconds_count{%s,target=\"truenorth\",model=\"brunel\","
             "pass=\"parse\"}",
             lab);
    assert_true(test_value(text, key) == 3);
    snprintf(key, sizeof(key),
             "nctop_compile_pass_duration_seconds_sum{%s,target=\"truenorth\",model=\"brunel\","
             "pass=\"parse\"}",
             lab);
    assert_true(fabs(test_value(text, key) - 0.0105) < 1e-9); /* 3 + 3.5 + 4 ms */
    assert_int_equal(test_count(text, "# TYPE nctop_compile_pass_duration_seconds histogram"), 1);
    free(text);
    store_free(st);
}

static void test_listen_parse(void **state)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;

    (void)state;
    assert_int_equal(http_parse_listen("9464", &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohl(in4->sin_addr.s_addr), 0x7f000001); /* loopback by default */
    assert_int_equal(ntohs(in4->sin_port), 9464);
    assert_int_equal(http_parse_listen("0.0.0.0:80", &ss), 0);
    assert_int_equal(in4->sin_addr.s_addr, 0);
    assert_int_equal(http_parse_listen("[::1]:9464", &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(http_parse_listen("0", &ss), -EINVAL);
    assert_int_equal(http_parse_listen("65536", &ss), -EINVAL);
    assert_int_equal(http_parse_listen("host:", &ss), -EINVAL);
    assert_int_equal(http_parse_listen("not-an-ip:9464", &ss), -EINVAL);
    assert_int_equal(http_parse_listen("::1:9464", &ss), -EINVAL);
    assert_int_equal(http_parse_listen("[::1]9464", &ss), -EINVAL);
}

/* A spiking workload with 40 layers of 3 cores: spikes and synaptic ops per layer, the first
 * 32 layers by name and the rest summed into layer="other", never a core label; energy and
 * power with their source; per-core counters stay out of the generic counter family. */
static void test_issue_14_neuro_families(void **state)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 5, "snn");
    uint64_t other = 0;
    size_t len;
    char name[64], key[160], *text;

    (void)state;
    store_attr_set(p, store_proc_intern(p, "target"), store_proc_intern(p, "loihi2"));
    for (int l = 0; l < 40; l++) {
        for (int c = 0; c < 3; c++) {
            snprintf(name, sizeof(name), "layers.%d.core.%d.spikes", l, 3 * l + c);
            store_counter_set(p, store_proc_intern(p, name), 0, 1000 * MS);
            store_counter_set(p, store_proc_intern(p, name), (uint64_t)(l + 1), 2000 * MS);
            snprintf(name, sizeof(name), "layers.%d.core.%d.synops", l, 3 * l + c);
            store_counter_set(p, store_proc_intern(p, name), 0, 1000 * MS);
            store_counter_set(p, store_proc_intern(p, name), (uint64_t)(100 * (l + 1)), 2000 * MS);
        }
        if (l >= 32) {
            other += 3 * (uint64_t)(l + 1);
        }
    }
    text = prom_render(st, 2000 * MS, 0, &len);
    assert_true(test_value(text, "nctop_spikes_total{workload=\"snn\",layer=\"0\"}") == 3);
    assert_true(test_value(text, "nctop_spikes_total{workload=\"snn\",layer=\"31\"}") == 96);
    assert_true(test_value(text, "nctop_spikes_total{workload=\"snn\",layer=\"32\"}") == -1);
    assert_true(test_value(text, "nctop_spikes_total{workload=\"snn\",layer=\"other\"}") ==
                (double)other);
    assert_true(test_value(text, "nctop_synaptic_ops_total{workload=\"snn\",layer=\"1\"}") == 600);
    assert_int_equal(test_count(text, "nctop_spikes_total{"), 33);
    assert_int_equal(test_count(text, "core"), 0);
    /* 3 x (1 + ... + 40) x 100 synops x 23.6 pJ, estimated */
    snprintf(key, sizeof(key), "nctop_energy_joules_total{workload=\"snn\",source=\"estimated\"}");
    assert_true(fabs(test_value(text, key) - 3.0 * 820.0 * 100.0 * 23.6e-12) < 1e-15);
    snprintf(key, sizeof(key), "nctop_power_watts{workload=\"snn\",source=\"estimated\"}");
    assert_true(fabs(test_value(text, key) - 3.0 * 820.0 * 100.0 * 23.6e-12) < 1e-15);
    free(text);

    /* The workload's own measurement wins. */
    store_value_set(p, store_proc_intern(p, "energy_j"), 0, 12.5, 2000 * MS);
    text = prom_render(st, 2000 * MS, 0, &len);
    assert_true(
        test_value(text, "nctop_energy_joules_total{workload=\"snn\",source=\"measured\"}") ==
        12.5);
    assert_int_equal(test_count(text, "source=\"estimated\"} "), 0);
    free(text);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histograms),
        cmocka_unit_test(test_cap_and_pid_once),
        cmocka_unit_test(test_listen_parse),
        cmocka_unit_test(test_issue_11_buckets),
        cmocka_unit_test(test_issue_11_workload_label),
        cmocka_unit_test(test_issue_11_serving_families),
        cmocka_unit_test(test_issue_15_compilations),
        cmocka_unit_test(test_issue_14_neuro_families),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
