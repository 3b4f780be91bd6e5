/* SPDX-License-Identifier: MIT */
/* OTLP export (issue 17): the JSON payloads of a known store (field names and types,
 * histogram invariants, the Prometheus buckets, folding), and the endpoint and header
 * settings (http:// only; no header injection). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "src/model/store.h"
#include "src/otlp_client.h"
#include "src/output/otlp.h"
#include "src/output/prom.h"

#define MS 1000000ULL
#define REAL0 1790000000000000000ULL /* a wall-clock instant, ns since the epoch */

static struct store *test_store(void)
{
    struct store *st = store_new(NULL);
    struct store_proc *p = store_proc_add(st, 42, "eng");
    struct store_thread *t = store_thread_add(p, 42, "main");
    uint32_t step = store_proc_intern(p, "step"), fwd = store_proc_intern(p, "forward");
    uint32_t tokens = store_proc_intern(p, "tokens"), kv = store_proc_intern(p, "kv");
    uint32_t mm = store_proc_intern(p, "matmul"), cpu = store_proc_intern(p, "cpu");
    uint32_t key = store_proc_intern(p, "target"), val = store_proc_intern(p, "loihi2");
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
    store_attr_set(p, key, val);
    return st;
}

static const char *test_attr(const cJSON *attrs, const char *key)
{
    const cJSON *a;

    cJSON_ArrayForEach(a, attrs)
    {
        if (strcmp(cJSON_GetObjectItem(a, "key")->valuestring, key) == 0) {
            const cJSON *v = cJSON_GetObjectItem(a, "value")->child;
            return v->valuestring;
        }
    }
    return NULL;
}

static const cJSON *test_metric(const cJSON *rm, const char *name)
{
    const cJSON *sm = cJSON_GetArrayItem(cJSON_GetObjectItem(rm, "scopeMetrics"), 0);
    const cJSON *m;

    cJSON_ArrayForEach(m, cJSON_GetObjectItem(sm, "metrics"))
    {
        if (strcmp(cJSON_GetObjectItem(m, "name")->valuestring, name) == 0) {
            return m;
        }
    }
    return NULL;
}

/* The histogram invariants of every point of m; returns the total count. */
static uint64_t test_check_hist(const cJSON *m, size_t nbounds)
{
    const cJSON *h = cJSON_GetObjectItem(m, "histogram"), *p;
    uint64_t total = 0;

    assert_non_null(h);
    assert_int_equal(cJSON_GetObjectItem(h, "aggregationTemporality")->valueint, 2);
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(h, "dataPoints"))
    {
        const cJSON *bc = cJSON_GetObjectItem(p, "bucketCounts");
        const cJSON *eb = cJSON_GetObjectItem(p, "explicitBounds");
        const cJSON *x;
        uint64_t sum = 0, count;

        assert_true(cJSON_IsString(cJSON_GetObjectItem(p, "count")));
        assert_true(cJSON_IsString(cJSON_GetObjectItem(p, "timeUnixNano")));
        assert_true(cJSON_IsString(cJSON_GetObjectItem(p, "startTimeUnixNano")));
        count = strtoull(cJSON_GetObjectItem(p, "count")->valuestring, NULL, 10);
        assert_int_equal(cJSON_GetArraySize(eb), nbounds);
        assert_int_equal(cJSON_GetArraySize(bc), nbounds + 1);
        cJSON_ArrayForEach(x, bc)
        {
            assert_true(cJSON_IsString(x));
            sum += strtoull(x->valuestring, NULL, 10);
        }
        assert_int_equal(sum, count);
        if (count > 0) {
            assert_true(cJSON_GetObjectItem(p, "min")->valuedouble <=
                        cJSON_GetObjectItem(p, "max")->valuedouble);
        }
        total += count;
    }
    return total;
}

static void test_metrics_payload(void **state)
{
    struct store *st = test_store();
    struct otlp_stats stats = {.exported = 3, .dropped = 1, .retries = 2};
    struct otlp_opts o = {
        .host_name = "h1", .self_pid = 7, .start_real_ns = REAL0 - 5000 * MS, .stats = &stats};
    size_t len = 0;
    char *text = otlp_render_metrics(st, 1200 * MS, REAL0, &o, &len);
    cJSON *root = cJSON_Parse(text);
    const cJSON *rms = cJSON_GetObjectItem(root, "resourceMetrics");
    const cJSON *rm = cJSON_GetArrayItem(rms, 0), *self = cJSON_GetArrayItem(rms, 1);
    const cJSON *ra = cJSON_GetObjectItem(cJSON_GetObjectItem(rm, "resource"), "attributes");
    const cJSON *m, *p;

    (void)state;
    assert_int_equal(strlen(text), len);
    assert_non_null(root);
    assert_int_equal(cJSON_GetArraySize(rms), 2);
    assert_string_equal(test_attr(ra, "service.name"), "eng");
    assert_string_equal(test_attr(ra, "host.name"), "h1");
    assert_string_equal(test_attr(ra, "process.pid"), "42");
    assert_string_equal(test_attr(ra, "nctop.workload"), "eng");
    assert_string_equal(test_attr(ra, "nctop.target"), "loihi2");

    /* Spans: one point per path, the default Prometheus bounds, counts exact. */
    m = test_metric(rm, "nctop.span.duration");
    assert_non_null(m);
    assert_string_equal(cJSON_GetObjectItem(m, "unit")->valuestring, "s");
    assert_int_equal(test_check_hist(m, 71), 20);
    p = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "histogram"), "dataPoints"),
                           0);
    assert_string_equal(test_attr(cJSON_GetObjectItem(p, "attributes"), "nctop.path"), "step");
    assert_string_equal(cJSON_GetObjectItem(p, "count")->valuestring, "10");
    assert_true(fabs(cJSON_GetObjectItem(p, "sum")->valuedouble - 0.020) < 1e-12);
    assert_true(fabs(cJSON_GetObjectItem(p, "min")->valuedouble - 0.002) < 1e-12);
    assert_string_equal(cJSON_GetObjectItem(p, "startTimeUnixNano")->valuestring,
                        "1789999995000000000");
    assert_string_equal(cJSON_GetObjectItem(p, "timeUnixNano")->valuestring, "1790000000000000000");
    /* 2 ms lands in the bucket (1.6 ms, 2 ms]: bounds[23] is 0.002 s. */
    assert_true(fabs(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "explicitBounds"), 23)->valuedouble -
                     0.002) < 1e-15);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "bucketCounts"), 23)->valuestring,
                        "10");
    assert_int_equal(test_check_hist(test_metric(rm, "nctop.kernel.duration"), 71), 10);

    /* Counters are cumulative monotonic sums with int64 as strings; gauges have no start. */
    m = test_metric(rm, "nctop.tokens");
    assert_non_null(m);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "sum"), "isMonotonic")));
    p = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "sum"), "dataPoints"), 0);
    assert_string_equal(cJSON_GetObjectItem(p, "asInt")->valuestring, "10");
    assert_string_equal(test_attr(cJSON_GetObjectItem(p, "attributes"), "gen_ai.token.type"),
                        "output");
    m = test_metric(rm, "nctop.kv_cache.usage");
    assert_non_null(m);
    p = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "gauge"), "dataPoints"), 0);
    assert_null(cJSON_GetObjectItem(p, "startTimeUnixNano"));
    assert_true(fabs(cJSON_GetObjectItem(p, "asDouble")->valuedouble - 0.25) < 1e-12);

    /* The exporter's own resource and counters. */
    ra = cJSON_GetObjectItem(cJSON_GetObjectItem(self, "resource"), "attributes");
    assert_string_equal(test_attr(ra, "service.name"), "nctop");
    assert_string_equal(test_attr(ra, "process.pid"), "7");
    m = test_metric(self, "nctop.otlp.batches");
    assert_non_null(m);
    p = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "sum"), "dataPoints"), 1);
    assert_string_equal(test_attr(cJSON_GetObjectItem(p, "attributes"), "nctop.outcome"),
                        "dropped");
    assert_string_equal(cJSON_GetObjectItem(p, "asInt")->valuestring, "1");

    cJSON_Delete(root);
    free(text);
    store_free(st);
}

/* Paths beyond max_paths fold into "other" (the shallowest kept); custom bounds apply. */
static void test_metrics_fold_and_bounds(void **state)
{
    struct store *st = test_store();
    const uint64_t bounds[] = {MS, 10 * MS};
    struct otlp_opts o = {.service_name = "svc",
                          .host_name = "h",
                          .start_real_ns = REAL0,
                          .max_paths = 1,
                          .bounds_ns = bounds,
                          .nbounds = 2};
    size_t len = 0;
    char *text = otlp_render_metrics(st, 1200 * MS, REAL0, &o, &len);
    cJSON *root = cJSON_Parse(text);
    const cJSON *rm = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "resourceMetrics"), 0);
    const cJSON *m = test_metric(rm, "nctop.span.duration"), *pts, *p;

    (void)state;
    assert_string_equal(
        test_attr(cJSON_GetObjectItem(cJSON_GetObjectItem(rm, "resource"), "attributes"),
                  "service.name"),
        "svc");
    assert_int_equal(test_check_hist(m, 2), 20);
    pts = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "histogram"), "dataPoints");
    assert_int_equal(cJSON_GetArraySize(pts), 2);
    p = cJSON_GetArrayItem(pts, 1);
    assert_string_equal(test_attr(cJSON_GetObjectItem(p, "attributes"), "nctop.path"), "other");
    /* The ten 1 ms forwards: <= 1 ms (the bound itself counts, as le does). */
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "bucketCounts"), 0)->valuestring,
                        "10");
    m = test_metric(rm, "nctop.exporter.folded_paths");
    p = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "gauge"), "dataPoints"), 0);
    assert_string_equal(cJSON_GetObjectItem(p, "asInt")->valuestring, "1");
    cJSON_Delete(root);
    free(text);
    store_free(st);
}

/* Without kept span instances there is no traces payload. */
static void test_traces_none(void **state)
{
    struct store *st = test_store();
    struct otlp_opts o = {.host_name = "h", .start_real_ns = REAL0};
    uint64_t since = 0, skipped = 0;
    size_t n = 1, len = 1;

    (void)state;
    assert_null(otlp_render_traces(st, 1200 * MS, REAL0, &o, &since, &n, &skipped, &len));
    assert_int_equal(n, 0);
    assert_int_equal(skipped, 0);
    store_free(st);
}

static void test_endpoints(void **state)
{
    struct otlp_endpoint ep;
    char *err = NULL;

    (void)state;
    assert_int_equal(otlp_endpoint_parse("http://127.0.0.1:4318", true, "metrics", &ep, &err), 0);
    assert_string_equal(ep.host, "127.0.0.1");
    assert_int_equal(ep.port, 4318);
    assert_string_equal(ep.path, "/v1/metrics");
    assert_string_equal(ep.authority, "127.0.0.1:4318");
    assert_int_equal(otlp_endpoint_parse("http://collector/otlp/", true, "traces", &ep, &err), 0);
    assert_int_equal(ep.port, 80);
    assert_string_equal(ep.path, "/otlp/v1/traces");
    assert_int_equal(otlp_endpoint_parse("HTTP://[::1]:9/x/y", false, "metrics", &ep, &err), 0);
    assert_string_equal(ep.host, "::1");
    assert_string_equal(ep.path, "/x/y");
    assert_string_equal(ep.authority, "[::1]:9");
    assert_int_equal(otlp_endpoint_parse("http://localhost:4318", false, "metrics", &ep, &err), 0);
    assert_string_equal(ep.path, "/");

    static const char *const bad[] = {
        "127.0.0.1:4318", "http://",      "http://:80",     "http://h:0",
        "http://h:65536", "http://h:x",   "http://h/a?b=1", "http://h/a b",
        "http://u@h/",    "http://[::1/", "ftp://h/",       "http://h/\r\nX: y",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(otlp_endpoint_parse(bad[i], true, "metrics", &ep, &err), -EINVAL);
        assert_non_null(err);
        free(err);
        err = NULL;
    }
    /* https: a clear refusal that names the way out. */
    assert_int_equal(otlp_endpoint_parse("https://h:4318", true, "metrics", &ep, &err), -EINVAL);
    assert_non_null(strstr(err, "TLS"));
    assert_non_null(strstr(err, "Collector"));
    free(err);
}

/* Header values are percent-decoded, and a decoded CR or LF cannot start a header of its own:
 * test_issue_17_headers_no_injection. */
static void test_issue_17_headers_no_injection(void **state)
{
    char out[256];
    char *err = NULL;

    (void)state;
    assert_int_equal(otlp_headers_parse("a=b, c = d%20e ,api-key=x%3Dy", out, sizeof(out), &err),
                     0);
    assert_string_equal(out, "a: b\r\nc: d e\r\napi-key: x=y\r\n");
    static const char *const bad[] = {"noeq", "=v", "a b=c", "a=b%0d%0aX: y", "a=b%0aX", "a:b=c"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(otlp_headers_parse(bad[i], out, sizeof(out), &err), -EINVAL);
        free(err);
        err = NULL;
    }
    /* Bounded: too long for the room is an error, not a cut header. */
    assert_int_equal(otlp_headers_parse("key=0123456789", out, 12, &err), -EINVAL);
    free(err);
}

/* OTEL_RESOURCE_ATTRIBUTES: parsed as the headers are (percent-decoded, errors named), and
 * on every resource: the user's own keys added, the user's service.name unless
 * OTEL_SERVICE_NAME, the user's host.name, and nctop's own figures of a process kept. */
static void test_resource_attributes(void **state)
{
    char res[256];
    size_t n = 0, len = 0;
    char *err = NULL;
    struct store *st = test_store();
    struct otlp_opts o = {.host_name = "h", .start_real_ns = REAL0, .self_pid = 7};
    const cJSON *rms, *rm;
    cJSON *root;
    char *text;

    (void)state;
    assert_int_equal(otlp_resource_parse("deployment.environment=prod, team = ml%20infra,"
                                         "service.name=svc-env,process.pid=1,host.name=node-7",
                                         res, sizeof(res), &n, &err),
                     0);
    assert_int_equal(n, 5);
    assert_int_equal(otlp_resource_parse("a=b,noeq", res, sizeof(res), &n, &err), -EINVAL);
    assert_non_null(strstr(err, "OTEL_RESOURCE_ATTRIBUTES 'a=b,noeq'"));
    assert_int_equal(n, 0);
    free(err);
    err = NULL;
    assert_int_equal(otlp_resource_parse("key=0123456789", res, 12, &n, &err), -EINVAL);
    assert_non_null(strstr(err, "OTEL_RESOURCE_ATTRIBUTES: longer than"));
    free(err);
    err = NULL;
    assert_int_equal(otlp_resource_parse("deployment.environment=prod, team = ml%20infra,"
                                         "service.name=svc-env,process.pid=1,host.name=node-7",
                                         res, sizeof(res), &n, &err),
                     0);
    o.resource = res;
    o.nresource = n;
    text = otlp_render_metrics(st, 1200 * MS, REAL0, &o, &len);
    root = cJSON_Parse(text);
    rms = cJSON_GetObjectItem(root, "resourceMetrics");
    assert_true(cJSON_GetArraySize(rms) >= 2); /* the workload's and nctop's own */
    cJSON_ArrayForEach(rm, rms)
    {
        const cJSON *a = cJSON_GetObjectItem(cJSON_GetObjectItem(rm, "resource"), "attributes");
        const cJSON *e;
        size_t pids = 0;

        assert_string_equal(test_attr(a, "deployment.environment"), "prod");
        assert_string_equal(test_attr(a, "team"), "ml infra");
        assert_string_equal(test_attr(a, "service.name"), "svc-env");
        assert_string_equal(test_attr(a, "host.name"), "node-7");
        cJSON_ArrayForEach(e, a)
        {
            pids += strcmp(cJSON_GetObjectItem(e, "key")->valuestring, "process.pid") == 0;
        }
        assert_int_equal(pids, 1); /* nctop's, not the user's "1" */
    }
    cJSON_Delete(root);
    free(text);
    /* OTEL_SERVICE_NAME comes first. */
    o.service_name = "svc";
    text = otlp_render_metrics(st, 1200 * MS, REAL0, &o, &len);
    root = cJSON_Parse(text);
    rm = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "resourceMetrics"), 0);
    assert_string_equal(
        test_attr(cJSON_GetObjectItem(cJSON_GetObjectItem(rm, "resource"), "attributes"),
                  "service.name"),
        "svc");
    cJSON_Delete(root);
    free(text);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_payload),
        cmocka_unit_test(test_metrics_fold_and_bounds),
        cmocka_unit_test(test_traces_none),
        cmocka_unit_test(test_endpoints),
        cmocka_unit_test(test_issue_17_headers_no_injection),
        cmocka_unit_test(test_resource_attributes),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
