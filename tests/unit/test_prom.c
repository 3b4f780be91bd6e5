/* SPDX-License-Identifier: MIT */
/* The Prometheus exposition over a known store: exact histogram buckets, escaping, the series
 * cap, one instance per pid, and the listen-address parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "src/http.h"
#include "src/prom.h"
#include "src/store.h"

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
    const char *lab = "pid=\"42\",label=\"eng \\\"x\\\"\\n\"";
    char key[512];

    (void)state;
    assert_int_equal(strlen(text), len);
    snprintf(key, sizeof(key), "nctop_span_duration_seconds_count{%s,path=\"step\"}", lab);
    assert_true(test_value(text, key) == 10);
    snprintf(key, sizeof(key), "nctop_span_duration_seconds_bucket{%s,path=\"step\",le=\"0.001\"}",
             lab);
    assert_true(test_value(text, key) == 0);
    snprintf(key, sizeof(key), "nctop_span_duration_seconds_bucket{%s,path=\"step\",le=\"0.0025\"}",
             lab);
    assert_true(test_value(text, key) == 10);
    snprintf(key, sizeof(key),
             "nctop_span_duration_seconds_bucket{%s,path=\"step/forward\",le=\"0.001\"}", lab);
    assert_true(test_value(text, key) == 10);
    snprintf(key, sizeof(key), "nctop_span_duration_seconds_sum{%s,path=\"step\"}", lab);
    assert_true(test_value(text, key) > 0.019999 && test_value(text, key) < 0.020001);
    snprintf(key, sizeof(key),
             "nctop_kernel_duration_seconds_bucket{%s,kernel=\"matmul\",backend=\"cpu\","
             "le=\"0.000005\"}",
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
    assert_int_equal(test_count(text, "label=\"eng"), 0);
    assert_true(test_value(text, "nctop_workload_info{pid=\"42\",label=\"after exec\","
                                 "state=\"live\"}") == 1);
    free(text);
    store_free(st);

    /* A cap of 1: "step" keeps its series, "step/forward" folds into "other". */
    st = test_store();
    text = prom_render(st, 1200 * MS, 1, &len);
    assert_int_equal(test_count(text, "path=\"step/forward\""), 0);
    assert_true(test_count(text, "path=\"other\"") > 0);
    assert_true(test_value(text, "nctop_exporter_folded_paths{pid=\"42\",label=\"eng "
                                 "\\\"x\\\"\\n\"}") == 1);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_histograms),
        cmocka_unit_test(test_cap_and_pid_once),
        cmocka_unit_test(test_listen_parse),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
