/* SPDX-License-Identifier: MIT */
/* OTLP/JSON rendering. The JSON mapping of OTLP: lowerCamelCase field names, 64-bit integers
 * (counts, asInt, timestamps in ns since the epoch) as decimal strings, enums as numbers.
 * Every point is cumulative (aggregationTemporality 2) from start_real_ns, as the Prometheus
 * counters are since nctop attached; histograms use the Prometheus bucket bounds, so the two
 * exporters agree bucket for bucket. Names follow the OpenTelemetry semantic conventions where
 * one exists (gen_ai.server.*, process.*, hw.*), nctop.* otherwise. */
#include "src/output/otlp.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/hash.h"
#include "src/base/xalloc.h"
#include "src/model/hist.h"
#include "src/model/rows.h"
#include "src/model/rows_power.h"
#include "src/model/store.h"
#include "src/output/prom.h"

#define OTLP_TEMPORALITY_CUMULATIVE 2
#define OTLP_SPAN_KIND_INTERNAL 1
#define OTLP_STATUS_OK 1
#define OTLP_STATUS_ERROR 2
#define OTLP_NEURO_LAYERS 32 /* layers with points of their own, as in Prometheus */

/* One rendering: its times and bounds. */
struct otlp_ctx {
    const struct otlp_opts *o;
    char start[24]; /* startTimeUnixNano */
    char now[24];   /* timeUnixNano */
    const uint64_t *bounds_ns;
    size_t nbounds;
    size_t max_paths;
};

/* A histogram point under construction: counts per bucket (not cumulative). */
struct otlp_hist {
    uint64_t *buckets; /* nbounds + 1 */
    uint64_t count;
    uint64_t sum_ns;
    uint64_t min_ns;
    uint64_t max_ns;
};

static void otlp_u64(char *buf, size_t len, uint64_t v)
{
    snprintf(buf, len, "%llu", (unsigned long long)v);
}

/* attributes[] += {"key": k, "value": {"stringValue": v}} */
static void otlp_attr_str(cJSON *attrs, const char *k, const char *v)
{
    cJSON *a = cJSON_CreateObject();
    cJSON *val = cJSON_CreateObject();

    cJSON_AddStringToObject(a, "key", k);
    cJSON_AddStringToObject(val, "stringValue", v != NULL ? v : "");
    cJSON_AddItemToObject(a, "value", val);
    cJSON_AddItemToArray(attrs, a);
}

static void otlp_attr_int(cJSON *attrs, const char *k, int64_t v)
{
    cJSON *a = cJSON_CreateObject();
    cJSON *val = cJSON_CreateObject();
    char buf[24];

    snprintf(buf, sizeof(buf), "%lld", (long long)v);
    cJSON_AddStringToObject(a, "key", k);
    cJSON_AddStringToObject(val, "intValue", buf);
    cJSON_AddItemToObject(a, "value", val);
    cJSON_AddItemToArray(attrs, a);
}

/* A metric of a kind ("sum", "gauge", "histogram"); returns its dataPoints array. */
static cJSON *otlp_metric(cJSON *metrics, const char *name, const char *unit, const char *desc,
                          const char *kind, bool monotonic)
{
    cJSON *m = cJSON_CreateObject();
    cJSON *data = cJSON_CreateObject();
    cJSON *points = cJSON_CreateArray();

    cJSON_AddStringToObject(m, "name", name);
    cJSON_AddStringToObject(m, "description", desc);
    cJSON_AddStringToObject(m, "unit", unit);
    cJSON_AddItemToObject(data, "dataPoints", points);
    if (strcmp(kind, "gauge") != 0) {
        cJSON_AddNumberToObject(data, "aggregationTemporality", OTLP_TEMPORALITY_CUMULATIVE);
    }
    if (strcmp(kind, "sum") == 0) {
        cJSON_AddBoolToObject(data, "isMonotonic", monotonic);
    }
    cJSON_AddItemToObject(m, kind, data);
    cJSON_AddItemToArray(metrics, m);
    return points;
}

/* A number point; attrs (taken, may be NULL). Cumulative points carry the start time. */
static cJSON *otlp_point(const struct otlp_ctx *c, cJSON *points, cJSON *attrs, bool cumulative)
{
    cJSON *p = cJSON_CreateObject();

    cJSON_AddItemToObject(p, "attributes", attrs != NULL ? attrs : cJSON_CreateArray());
    if (cumulative) {
        cJSON_AddStringToObject(p, "startTimeUnixNano", c->start);
    }
    cJSON_AddStringToObject(p, "timeUnixNano", c->now);
    cJSON_AddItemToArray(points, p);
    return p;
}

static void otlp_point_int(const struct otlp_ctx *c, cJSON *points, cJSON *attrs, bool cumulative,
                           uint64_t v)
{
    char buf[24];

    otlp_u64(buf, sizeof(buf), v);
    cJSON_AddStringToObject(otlp_point(c, points, attrs, cumulative), "asInt", buf);
}

static void otlp_point_double(const struct otlp_ctx *c, cJSON *points, cJSON *attrs,
                              bool cumulative, double v)
{
    cJSON_AddNumberToObject(otlp_point(c, points, attrs, cumulative), "asDouble", v);
}

static void otlp_hist_init(const struct otlp_ctx *c, struct otlp_hist *oh)
{
    memset(oh, 0, sizeof(*oh));
    oh->buckets = xcalloc(c->nbounds + 1, sizeof(*oh->buckets));
}

/* Add h: its samples in the Prometheus buckets (<= bound, at the histogram's resolution, as
 * the Prometheus exporter counts them), so the two exports agree. */
static void otlp_hist_add1(const struct otlp_ctx *c, struct otlp_hist *oh, const struct hist *h)
{
    uint64_t below = 0;

    if (h == NULL || h->count == 0) {
        return;
    }
    for (size_t i = 0; i < c->nbounds; i++) {
        uint64_t le = hist_count_le(h, c->bounds_ns[i]);

        le = le > h->count ? h->count : le < below ? below : le;
        oh->buckets[i] += le - below;
        below = le;
    }
    oh->buckets[c->nbounds] += h->count - below;
    oh->min_ns = oh->count == 0 || h->min_ns < oh->min_ns ? h->min_ns : oh->min_ns;
    oh->max_ns = oh->count == 0 || h->max_ns > oh->max_ns ? h->max_ns : oh->max_ns;
    oh->count += h->count;
    oh->sum_ns += h->sum_ns;
}

/* A since-start histogram in its two parts (struct row.hist_all and hist_open). */
static void otlp_hist_add(const struct otlp_ctx *c, struct otlp_hist *oh, const struct hist *h,
                          const struct hist *open)
{
    otlp_hist_add1(c, oh, h);
    otlp_hist_add1(c, oh, open);
}

/* The histogram point (in seconds); frees oh's buckets. */
static void otlp_hist_emit(const struct otlp_ctx *c, cJSON *points, cJSON *attrs,
                           struct otlp_hist *oh)
{
    cJSON *p = otlp_point(c, points, attrs, true);
    cJSON *counts = cJSON_CreateArray();
    cJSON *bounds = cJSON_CreateArray();
    char buf[24];

    otlp_u64(buf, sizeof(buf), oh->count);
    cJSON_AddStringToObject(p, "count", buf);
    cJSON_AddNumberToObject(p, "sum", (double)oh->sum_ns / 1e9);
    for (size_t i = 0; i <= c->nbounds; i++) {
        otlp_u64(buf, sizeof(buf), oh->buckets[i]);
        cJSON_AddItemToArray(counts, cJSON_CreateString(buf));
    }
    for (size_t i = 0; i < c->nbounds; i++) {
        cJSON_AddItemToArray(bounds, cJSON_CreateNumber((double)c->bounds_ns[i] / 1e9));
    }
    cJSON_AddItemToObject(p, "bucketCounts", counts);
    cJSON_AddItemToObject(p, "explicitBounds", bounds);
    if (oh->count > 0) {
        cJSON_AddNumberToObject(p, "min", (double)oh->min_ns / 1e9);
        cJSON_AddNumberToObject(p, "max", (double)oh->max_ns / 1e9);
    }
    free(oh->buckets);
    oh->buckets = NULL;
}

/* One histogram of a single source as a point. */
static void otlp_hist_point(const struct otlp_ctx *c, cJSON *points, cJSON *attrs,
                            const struct hist *h, const struct hist *open)
{
    struct otlp_hist oh;

    otlp_hist_init(c, &oh);
    otlp_hist_add(c, &oh, h, open);
    otlp_hist_emit(c, points, attrs, &oh);
}

static cJSON *otlp_attrs1(const char *k, const char *v)
{
    cJSON *a = cJSON_CreateArray();

    otlp_attr_str(a, k, v);
    return a;
}

/* A resourceMetrics entry; returns its metrics array. */
static cJSON *otlp_resource(cJSON *rms, cJSON *rattrs)
{
    cJSON *rm = cJSON_CreateObject();
    cJSON *res = cJSON_CreateObject();
    cJSON *sms = cJSON_CreateArray();
    cJSON *sm = cJSON_CreateObject();
    cJSON *scope = cJSON_CreateObject();
    cJSON *metrics = cJSON_CreateArray();

    cJSON_AddItemToObject(res, "attributes", rattrs);
    cJSON_AddItemToObject(rm, "resource", res);
    cJSON_AddStringToObject(scope, "name", "nctop");
    cJSON_AddStringToObject(scope, "version", NCTOP_VERSION);
    cJSON_AddItemToObject(sm, "scope", scope);
    cJSON_AddItemToObject(sm, "metrics", metrics);
    cJSON_AddItemToArray(sms, sm);
    cJSON_AddItemToObject(rm, "scopeMetrics", sms);
    cJSON_AddItemToArray(rms, rm);
    return metrics;
}

/* The value of key in the user's resource attributes (OTEL_RESOURCE_ATTRIBUTES), or NULL. */
static const char *otlp_user_attr(const struct otlp_opts *o, const char *key)
{
    const char *k = o->resource;

    for (size_t i = 0; i < o->nresource; i++) {
        const char *v = k + strlen(k) + 1U;

        if (strcmp(k, key) == 0) {
            return v;
        }
        k = v + strlen(v) + 1U;
    }
    return NULL;
}

/* A resource's service.name (OTEL_SERVICE_NAME, else the user's, else dflt) and host.name
 * (the user's, else this machine's). */
static void otlp_attrs_identity(const struct otlp_ctx *c, cJSON *a, const char *dflt)
{
    const char *svc = c->o->service_name, *host = otlp_user_attr(c->o, "host.name");

    if (svc == NULL) {
        svc = otlp_user_attr(c->o, "service.name");
    }
    otlp_attr_str(a, "service.name", svc != NULL ? svc : dflt);
    otlp_attr_str(a, "host.name", host != NULL ? host : c->o->host_name);
}

/* The user's resource attributes a does not have yet (nctop's own come first and stay). */
static void otlp_attrs_user(const struct otlp_ctx *c, cJSON *a)
{
    const char *k = c->o->resource;

    for (size_t i = 0; i < c->o->nresource; i++) {
        const char *v = k + strlen(k) + 1U;
        bool have = false;
        const cJSON *e;

        cJSON_ArrayForEach(e, a)
        {
            const cJSON *ek = cJSON_GetObjectItemCaseSensitive(e, "key");

            if (cJSON_IsString(ek) && strcmp(ek->valuestring, k) == 0) {
                have = true;
                break;
            }
        }
        if (!have) {
            otlp_attr_str(a, k, v);
        }
        k = v + strlen(v) + 1U;
    }
}

/* The resource of a workload: who it is (service, host, pid, label, target). */
static cJSON *otlp_proc_attrs(const struct otlp_ctx *c, const struct store_proc *p,
                              const struct rows_summary *s)
{
    cJSON *a = cJSON_CreateArray();
    const char *target = store_proc_attr(p, "target");
    const char *model = store_proc_attr(p, "model");

    otlp_attrs_identity(c, a, s->label);
    otlp_attr_int(a, "process.pid", s->pid);
    if (s->ppid > 0) {
        otlp_attr_int(a, "process.parent_pid", s->ppid);
    }
    otlp_attr_str(a, "nctop.workload", s->label);
    if (target != NULL) {
        otlp_attr_str(a, "nctop.target", target);
    }
    if (model != NULL) {
        otlp_attr_str(a, "gen_ai.request.model", model);
    }
    otlp_attrs_user(c, a);
    return a;
}

/* Latency rows with a point of their own: the shallowest first, at most max_paths, as the
 * Prometheus exporter keeps them; the rest fold into nctop.path="other". */
static size_t otlp_choose_paths(const struct rows *lat, size_t max_paths, bool *keep)
{
    size_t kept = 0;
    uint16_t deepest = 0;

    for (size_t i = 0; i < lat->n; i++) {
        deepest = lat->v[i].level > deepest ? lat->v[i].level : deepest;
    }
    for (uint16_t level = 0; level <= deepest; level++) {
        for (size_t i = 0; i < lat->n; i++) {
            bool dup = false;

            if (lat->v[i].level != level || kept == max_paths) {
                continue;
            }
            for (size_t j = 0; j < i && !dup; j++) {
                dup = keep[j] && lat->v[j].path_hash == lat->v[i].path_hash &&
                      strcmp(lat->v[j].path, lat->v[i].path) == 0;
            }
            if (!dup) {
                keep[i] = true;
                kept++;
            }
        }
    }
    return lat->n - kept;
}

static void otlp_emit_spans(const struct otlp_ctx *c, cJSON *metrics, const struct rows *lat)
{
    bool *keep = xcalloc(lat->n ? lat->n : 1, sizeof(*keep));
    size_t folded = otlp_choose_paths(lat, c->max_paths, keep);
    cJSON *pts = NULL;
    struct otlp_hist other;

    if (lat->n > 0) {
        pts = otlp_metric(metrics, "nctop.span.duration", "s",
                          "Duration of spans by latency tree path, since nctop attached.",
                          "histogram", false);
    }
    otlp_hist_init(c, &other);
    for (size_t i = 0; i < lat->n; i++) {
        if (!keep[i]) {
            otlp_hist_add(c, &other, lat->v[i].hist_all, lat->v[i].hist_open);
            continue;
        }
        otlp_hist_point(c, pts, otlp_attrs1("nctop.path", lat->v[i].path), lat->v[i].hist_all,
                        lat->v[i].hist_open);
    }
    if (folded > 0) {
        otlp_hist_emit(c, pts, otlp_attrs1("nctop.path", "other"), &other);
    } else {
        free(other.buckets);
    }
    if (lat->n > 0) {
        cJSON *f = otlp_metric(metrics, "nctop.exporter.folded_paths", "{path}",
                               "Latency tree paths beyond the cap, folded into \"other\".", "gauge",
                               false);
        otlp_point_int(c, f, NULL, false, folded);
    }
    free(keep);
}

static void otlp_emit_kernels(const struct otlp_ctx *c, cJSON *metrics, const struct rows *k)
{
    cJSON *pts;

    if (k->n == 0) {
        return;
    }
    pts = otlp_metric(metrics, "nctop.kernel.duration", "s",
                      "Duration of kernel executions by kernel and backend, since nctop attached.",
                      "histogram", false);
    for (size_t i = 0; i < k->n; i++) {
        cJSON *a = otlp_attrs1("nctop.kernel", k->v[i].label);

        otlp_attr_str(a, "nctop.backend", k->v[i].backend);
        otlp_hist_point(c, pts, a, k->v[i].hist_all, k->v[i].hist_open);
    }
}

static void otlp_emit_marker(const struct otlp_ctx *c, cJSON *metrics, const struct rows_marker *m,
                             const char *name, const char *desc)
{
    if (m->valid) {
        otlp_hist_point(c, otlp_metric(metrics, name, "s", desc, "histogram", false), NULL,
                        m->hist_all, m->hist_open);
    }
}

static const struct row *otlp_memory_row(const struct rows *mem, const char *path)
{
    for (size_t i = 0; i < mem->n; i++) {
        if (strcmp(mem->v[i].path, path) == 0) {
            return &mem->v[i];
        }
    }
    return NULL;
}

/* Pools, KV caches and other gauges: used and capacity bytes by kind and name. */
static void otlp_emit_memory(const struct otlp_ctx *c, cJSON *metrics, const struct rows *mem)
{
    static const char *const sections[] = {"Memory Pools", "KV Cache", "Other Memory"};
    static const char *const kinds[] = {"pool", "kv_cache", "other"};
    cJSON *used = NULL, *cap = NULL;

    for (size_t s = 0; s < 3; s++) {
        size_t plen = strlen(sections[s]);

        for (size_t i = 0; i < mem->n; i++) {
            const struct row *r = &mem->v[i];
            cJSON *a;

            if (r->level != 1 || strncmp(r->path, sections[s], plen) != 0 || r->path[plen] != '/') {
                continue;
            }
            if (used == NULL) {
                used = otlp_metric(metrics, "nctop.memory.used", "By",
                                   "Bytes used of a memory pool, KV cache or other tracked memory.",
                                   "gauge", false);
            }
            a = otlp_attrs1("nctop.memory.kind", kinds[s]);
            otlp_attr_str(a, "nctop.memory.name", r->label);
            otlp_point_int(c, used, a, false, (uint64_t)(r->bytes > 0 ? r->bytes : 0));
            if ((r->flags & ROW_F_CAPACITY) == 0) {
                continue;
            }
            if (cap == NULL) {
                cap = otlp_metric(metrics, "nctop.memory.capacity", "By",
                                  "Bytes reserved by a memory pool, KV cache or other memory.",
                                  "gauge", false);
            }
            a = otlp_attrs1("nctop.memory.kind", kinds[s]);
            otlp_attr_str(a, "nctop.memory.name", r->label);
            otlp_point_int(c, cap, a, false, r->capacity_bytes);
        }
    }
    const struct row *kv = otlp_memory_row(mem, "KV Cache");
    if (kv != NULL && (kv->flags & ROW_F_CAPACITY) && kv->capacity_bytes > 0) {
        otlp_point_double(c,
                          otlp_metric(metrics, "nctop.kv_cache.usage", "1",
                                      "KV cache used bytes over capacity, 0 to 1.", "gauge", false),
                          NULL, false,
                          (double)(kv->bytes > 0 ? kv->bytes : 0) / (double)kv->capacity_bytes);
    }
    const struct row *w = otlp_memory_row(mem, "Model Weights");
    if (w != NULL) {
        otlp_point_int(c,
                       otlp_metric(metrics, "nctop.weights.size", "By",
                                   "Bytes of the model weights registered.", "gauge", false),
                       NULL, false, (uint64_t)(w->bytes > 0 ? w->bytes : 0));
    }
    const struct row *u = otlp_memory_row(mem, "Host Memory/Unattributed Host Memory");
    if (u != NULL) {
        otlp_point_int(c,
                       otlp_metric(metrics, "nctop.memory.unattributed", "By",
                                   "Host RSS minus what the workload tracks as used.", "gauge",
                                   false),
                       NULL, false, (uint64_t)(u->bytes > 0 ? u->bytes : 0));
    }
}

/* Requests, tokens and compilations. */
static void otlp_emit_serving(const struct otlp_ctx *c, cJSON *metrics, const struct store_proc *p,
                              const struct rows_summary *s)
{
    const struct rows_requests *rq = &s->requests;
    cJSON *pts;
    bool gen = false;
    uint64_t gen_tokens = 0;

    for (size_t k = 0; k < s->ncounters; k++) {
        if (strcmp(s->counters[k].name, "tokens") == 0) {
            gen = true;
            gen_tokens = s->counters[k].value;
        }
    }
    if (rq->valid) {
        otlp_point_int(c,
                       otlp_metric(metrics, "nctop.requests.running", "{request}",
                                   "Requests in flight: begun (or first seen) and not ended.",
                                   "sum", false),
                       NULL, true, rq->running);
        pts = otlp_metric(metrics, "nctop.requests.finished", "{request}",
                          "Requests ended since nctop attached, by result.", "sum", true);
        for (size_t k = 0; k < ROWS_REQUEST_RESULTS; k++) {
            otlp_point_int(c, pts, otlp_attrs1("nctop.result", rows_request_results[k]), true,
                           rq->finished[k]);
        }
        otlp_emit_marker(c, metrics, &rq->e2e, "gen_ai.server.request.duration",
                         "End-to-end latency of a request, from its begin to its end.");
    }
    if (rq->valid || gen) {
        pts = otlp_metric(metrics, "nctop.tokens", "{token}",
                          "Tokens since nctop attached: prompt (input) and generated (output).",
                          "sum", true);
        if (rq->valid) {
            otlp_point_int(c, pts, otlp_attrs1("gen_ai.token.type", "input"), true,
                           rq->prompt_tokens);
        }
        if (gen) {
            otlp_point_int(c, pts, otlp_attrs1("gen_ai.token.type", "output"), true, gen_tokens);
        }
    }

    struct rows_instances in;
    rows_build_instances(&in, p);
    if (in.nstats > 0) {
        static const char *const result[3] = {"none", "ok", "error"};
        cJSON *n = otlp_metric(metrics, "nctop.compilations", "{compilation}",
                               "Compilations (spans ended with a status or carrying attributes) "
                               "by target, model and result.",
                               "sum", true);
        cJSON *d =
            otlp_metric(metrics, "nctop.compile.duration", "s",
                        "Wall time of compilations by target and model.", "histogram", false);
        for (size_t k = 0; k < in.nstats; k++) {
            const struct rows_inst_stat *st = &in.stats[k];

            for (int r = 0; r < 3; r++) {
                if (st->n[r] > 0 || r > 0) {
                    cJSON *a = otlp_attrs1("nctop.target", st->target != NULL ? st->target : "");
                    otlp_attr_str(a, "nctop.model", st->model != NULL ? st->model : "");
                    otlp_attr_str(a, "nctop.result", result[r]);
                    otlp_point_int(c, n, a, true, st->n[r]);
                }
            }
            cJSON *a = otlp_attrs1("nctop.target", st->target != NULL ? st->target : "");
            otlp_attr_str(a, "nctop.model", st->model != NULL ? st->model : "");
            otlp_hist_point(c, d, a, st->dur, NULL);
        }
    }
    rows_instances_done(&in);
}

/* Counters of the workload, events, losses, and the spiking figures. */
static void otlp_emit_counts(const struct otlp_ctx *c, cJSON *metrics, const struct rows_summary *s)
{
    cJSON *pts = NULL;

    for (size_t k = 0; k < s->ncounters; k++) {
        if (strcmp(s->counters[k].name, "tokens") == 0 || rows_neuro_counter(s->counters[k].name)) {
            continue;
        }
        if (pts == NULL) {
            pts = otlp_metric(metrics, "nctop.workload.count", "1",
                              "The workload's other monotonic counters, by name.", "sum", true);
        }
        otlp_point_int(c, pts, otlp_attrs1("nctop.counter", s->counters[k].name), true,
                       s->counters[k].value);
    }
    otlp_point_int(c,
                   otlp_metric(metrics, "nctop.events", "{event}", "Events read from the workload.",
                               "sum", true),
                   NULL, true, s->events);
    otlp_point_int(c,
                   otlp_metric(metrics, "nctop.events.dropped", "{event}",
                               "Events the workload dropped because its ring was full.", "sum",
                               true),
                   NULL, true, s->dropped);
    otlp_point_int(c,
                   otlp_metric(metrics, "nctop.events.invalid", "{event}",
                               "Invalid records or entries nctop rejected.", "sum", true),
                   NULL, true, s->invalid);
    if (s->neuro.timesteps_valid && s->neuro.spiking) {
        otlp_point_int(c,
                       otlp_metric(metrics, "nctop.timesteps", "{timestep}",
                                   "Timesteps of a spiking workload since nctop attached.", "sum",
                                   true),
                       NULL, true, s->neuro.timesteps);
    }
    const struct row_neuro *f = &s->neuro.net;
    const char *source = (f->have & ROW_N_MEASURED) != 0 ? "measured" : "estimated";
    if ((f->have & ROW_N_ENERGY) != 0 && isfinite(f->energy_j)) {
        otlp_point_double(c,
                          otlp_metric(metrics, "nctop.energy", "J",
                                      "Energy of a workload since start, measured or estimated.",
                                      "sum", true),
                          otlp_attrs1("nctop.source", source), true, f->energy_j);
    }
    if ((f->have & ROW_N_POWER) != 0 && isfinite(f->power_w)) {
        otlp_point_double(c,
                          otlp_metric(metrics, "nctop.power", "W",
                                      "Power of a workload over the window.", "gauge", false),
                          otlp_attrs1("nctop.source", source), false, f->power_w);
    }
}

/* Spikes and synaptic operations per layer, as the Prometheus exporter has them: the first
 * OTLP_NEURO_LAYERS layers by number under their own nctop.layer, the rest summed into
 * "other"; a workload that publishes totals only has nctop.layer="all". Never per core. */
static void otlp_emit_neuro(const struct otlp_ctx *c, cJSON *metrics, const struct rows *nr,
                            const struct rows_summary *s)
{
    static const struct {
        enum row_neuro_field k;
        const char *name;
        const char *unit;
        const char *desc;
    } counts[] = {
        {ROW_NF_SPIKES, "nctop.spikes", "{spike}", "Spikes of a spiking workload per layer."},
        {ROW_NF_SYNOPS, "nctop.synaptic_ops", "{operation}",
         "Synaptic operations of a spiking workload per layer."},
    };
    char layer[16];

    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        enum row_neuro_field k = counts[i].k;
        cJSON *pts = NULL;
        uint64_t other = 0;
        size_t layers = 0;

        for (size_t j = 0; j < nr->n; j++) {
            const struct row_neuro *f = rows_neuro_of(nr, &nr->v[j]);

            if (f == NULL || f->layer < 0 || f->core >= 0 || (f->counted & 1U << k) == 0) {
                continue;
            }
            if (layers++ >= OTLP_NEURO_LAYERS) {
                other += f->count[k];
                continue;
            }
            if (pts == NULL) {
                pts = otlp_metric(metrics, counts[i].name, counts[i].unit, counts[i].desc, "sum",
                                  true);
            }
            snprintf(layer, sizeof(layer), "%d", (int)f->layer);
            otlp_point_int(c, pts, otlp_attrs1("nctop.layer", layer), true, f->count[k]);
        }
        if (layers > OTLP_NEURO_LAYERS) {
            otlp_point_int(c, pts, otlp_attrs1("nctop.layer", "other"), true, other);
        }
        if (layers == 0 && (s->neuro.net.counted & 1U << k) != 0) {
            otlp_point_int(
                c,
                otlp_metric(metrics, counts[i].name, counts[i].unit, counts[i].desc, "sum", true),
                otlp_attrs1("nctop.layer", "all"), true, s->neuro.net.count[k]);
        }
    }
}

static void otlp_emit_proc(const struct otlp_ctx *c, cJSON *rms, const struct store_proc *p,
                           uint64_t now_ns)
{
    struct rows_summary s;
    struct rows lat, mem, ker, neuro;
    cJSON *metrics;

    rows_build_summary(&s, p, now_ns);
    rows_init(&lat);
    rows_init(&mem);
    rows_init(&ker);
    rows_init(&neuro);
    rows_build_neuro(&neuro, p, now_ns);
    rows_build_latency(&lat, p, now_ns);
    rows_build_memory(&mem, p, now_ns);
    rows_build_kernels(&ker, p, now_ns);
    metrics = otlp_resource(rms, otlp_proc_attrs(c, p, &s));

    otlp_emit_spans(c, metrics, &lat);
    otlp_emit_kernels(c, metrics, &ker);
    otlp_emit_marker(c, metrics, &s.ttft, "gen_ai.server.time_to_first_token",
                     "Time from a request's start to its first generated token.");
    otlp_emit_marker(c, metrics, &s.itl, "gen_ai.server.time_per_output_token",
                     "Time between consecutive generated tokens of a request.");
    otlp_emit_serving(c, metrics, p, &s);
    otlp_emit_counts(c, metrics, &s);
    otlp_emit_neuro(c, metrics, &neuro, &s);
    otlp_emit_memory(c, metrics, &mem);
    if (s.host_valid) {
        otlp_point_int(c,
                       otlp_metric(metrics, "process.memory.usage", "By",
                                   "Host resident set size (RSS).", "sum", false),
                       NULL, true, s.rss_bytes);
        otlp_point_double(
            c,
            otlp_metric(metrics, "process.cpu.time", "s", "User and system CPU time.", "sum", true),
            NULL, true, (double)s.cpu_time_ns / 1e9);
    }
    rows_done(&lat);
    rows_done(&mem);
    rows_done(&ker);
    rows_done(&neuro);
    rows_summary_done(&s);
}

/* The machine (GPUs, RAPL) and the exporter itself, under nctop's own resource. */
static void otlp_emit_machine(const struct otlp_ctx *c, cJSON *rms, const struct store *st,
                              uint64_t now_ns)
{
    cJSON *a = cJSON_CreateArray();
    cJSON *metrics, *pts;
    struct rows_gpus g;
    struct rows_power pw;
    char idx[16];

    otlp_attrs_identity(c, a, "nctop");
    otlp_attr_int(a, "process.pid", c->o->self_pid);
    otlp_attr_str(a, "process.executable.name", "nctop");
    otlp_attrs_user(c, a);
    metrics = otlp_resource(rms, a);

    rows_build_gpus(&g, st);
    static const char *const gname[] = {"hw.gpu.utilization", "hw.gpu.memory.usage",
                                        "hw.gpu.memory.limit", "hw.power", "hw.energy"};
    for (int m = 0; m < 5; m++) {
        pts = NULL;
        for (size_t i = 0; i < g.n; i++) {
            const struct rows_gpu *x = &g.v[i];
            bool ok = m == 0   ? x->util_valid
                      : m <= 2 ? x->mem_valid
                      : m == 3 ? x->power_valid
                               : x->energy_valid;
            if (!ok) {
                continue;
            }
            if (pts == NULL) {
                pts =
                    otlp_metric(metrics, gname[m],
                                m == 0   ? "1"
                                : m <= 2 ? "By"
                                : m == 3 ? "W"
                                         : "J",
                                "A GPU as its driver reports it.", m == 4 ? "sum" : "gauge", true);
            }
            snprintf(idx, sizeof(idx), "%u", (unsigned)x->index);
            cJSON *pa = otlp_attrs1("hw.id", idx);
            otlp_attr_str(pa, "hw.name", x->name);
            if (m == 0) {
                otlp_point_double(c, pts, pa, false, x->util_pct / 100.0);
            } else if (m <= 2) {
                otlp_point_int(c, pts, pa, false, m == 1 ? x->mem_used_bytes : x->mem_total_bytes);
            } else {
                otlp_point_double(c, pts, pa, m == 4, m == 3 ? x->power_w : x->energy_j);
            }
        }
    }
    rows_gpus_done(&g);

    rows_build_power(&pw, st, now_ns);
    pts = NULL;
    for (size_t i = 0; i < pw.n; i++) {
        if (pts == NULL) {
            pts = otlp_metric(metrics, "nctop.rapl.energy", "J",
                              "Energy, measured: RAPL zone counters.", "sum", true);
        }
        otlp_point_double(c, pts, otlp_attrs1("nctop.zone", pw.v[i].zone), true, pw.v[i].energy_j);
    }
    pts = NULL;
    for (size_t i = 0; i < pw.n; i++) {
        if (!pw.v[i].power_valid) {
            continue;
        }
        if (pts == NULL) {
            pts = otlp_metric(metrics, "nctop.rapl.power", "W",
                              "Power over the window, measured: RAPL zones.", "gauge", false);
        }
        otlp_point_double(c, pts, otlp_attrs1("nctop.zone", pw.v[i].zone), false, pw.v[i].power_w);
    }
    rows_power_done(&pw);

    if (c->o->stats != NULL) {
        const struct otlp_stats *x = c->o->stats;

        pts = otlp_metric(metrics, "nctop.otlp.batches", "{batch}",
                          "OTLP batches of this exporter by outcome.", "sum", true);
        otlp_point_int(c, pts, otlp_attrs1("nctop.outcome", "exported"), true, x->exported);
        otlp_point_int(c, pts, otlp_attrs1("nctop.outcome", "dropped"), true, x->dropped);
        otlp_point_int(c,
                       otlp_metric(metrics, "nctop.otlp.retries", "{attempt}",
                                   "OTLP requests repeated after a retryable failure.", "sum",
                                   true),
                       NULL, true, x->retries);
    }
}

static void otlp_ctx_init(struct otlp_ctx *c, const struct otlp_opts *o, uint64_t real_ns,
                          uint64_t **defaults)
{
    char *err = NULL;
    size_t n = 0;

    memset(c, 0, sizeof(*c));
    c->o = o;
    otlp_u64(c->start, sizeof(c->start), o->start_real_ns < real_ns ? o->start_real_ns : real_ns);
    otlp_u64(c->now, sizeof(c->now), real_ns);
    c->max_paths = o->max_paths > 0 ? o->max_paths : PROM_DEFAULT_MAX_PATHS;
    *defaults = NULL;
    if (o->bounds_ns != NULL && o->nbounds > 0 && o->nbounds <= PROM_MAX_BUCKETS) {
        c->bounds_ns = o->bounds_ns;
        c->nbounds = o->nbounds;
    } else if (prom_buckets_parse(PROM_DEFAULT_BUCKETS, defaults, &n, &err) == 0) {
        c->bounds_ns = *defaults;
        c->nbounds = n;
    } else {
        free(err); /* NOTREACHED: the default spec parses */
    }
}

/* Print root compactly into an owned malloc'd string. */
static char *otlp_print(cJSON *root, size_t *len)
{
    char *s = cJSON_PrintUnformatted(root);
    char *out;

    if (s == NULL) {
        *len = 0;
        return xstrdup("{}"); /* only on allocation failure inside cJSON */
    }
    *len = strlen(s);
    out = xstrdup(s);
    cJSON_free(s);
    return out;
}

char *otlp_render_metrics(const struct store *st, uint64_t now_ns, uint64_t real_ns,
                          const struct otlp_opts *o, size_t *len)
{
    struct otlp_ctx c;
    uint64_t *defaults = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *rms = cJSON_CreateArray();
    char *out;

    otlp_ctx_init(&c, o, real_ns, &defaults);
    cJSON_AddItemToObject(root, "resourceMetrics", rms);
    for (size_t i = 0; i < store_nprocs(st); i++) {
        const struct store_proc *p = store_proc_at(st, i);

        /* A pid seen twice (a program that exec'd): only its newest instance. */
        if (store_proc_find(st, store_proc_pid(p)) == p) {
            otlp_emit_proc(&c, rms, p, now_ns);
        }
    }
    otlp_emit_machine(&c, rms, st, now_ns);
    out = otlp_print(root, len);
    cJSON_Delete(root);
    free(defaults);
    return out;
}

/* A lowercase hex id of n bytes from a seed. */
static void otlp_hex_id(char *out, size_t nbytes, uint64_t seed)
{
    for (size_t i = 0; i < nbytes; i += 8) {
        uint64_t h = hash_u64(seed + i * 0x9e3779b97f4a7c15ULL);

        for (size_t k = 0; k < 8 && i + k < nbytes; k++) {
            snprintf(out + 2 * (i + k), 3, "%02x", (unsigned)((h >> (8 * k)) & 0xff));
        }
    }
}

char *otlp_render_traces(const struct store *st, uint64_t now_ns, uint64_t real_ns,
                         const struct otlp_opts *o, uint64_t *since_ns, size_t *nspans,
                         uint64_t *skipped, size_t *len)
{
    struct otlp_ctx c;
    uint64_t *defaults = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *rss = cJSON_CreateArray();
    uint64_t newest = *since_ns;
    char *out = NULL;

    *nspans = 0;
    *len = 0;
    otlp_ctx_init(&c, o, real_ns, &defaults);
    cJSON_AddItemToObject(root, "resourceSpans", rss);
    for (size_t i = 0; i < store_nprocs(st); i++) {
        const struct store_proc *p = store_proc_at(st, i);
        struct rows_instances in;
        struct rows_summary s;
        cJSON *spans = NULL;

        if (store_proc_find(st, store_proc_pid(p)) != p) {
            continue;
        }
        rows_build_instances(&in, p);
        for (size_t k = 0; k < in.n; k++) {
            const struct rows_instance *x = &in.v[k];
            uint64_t end = x->begin_ns + x->dur_ns;
            char id[40], num[24];

            if (end <= *since_ns || end > now_ns) {
                continue;
            }
            newest = end > newest ? end : newest;
            if (*nspans == OTLP_MAX_SPANS) {
                (*skipped)++;
                continue;
            }
            if (spans == NULL) {
                cJSON *rs = cJSON_CreateObject(), *res = cJSON_CreateObject();
                cJSON *sss = cJSON_CreateArray(), *ss = cJSON_CreateObject();
                cJSON *scope = cJSON_CreateObject();

                rows_build_summary(&s, p, now_ns);
                cJSON_AddItemToObject(res, "attributes", otlp_proc_attrs(&c, p, &s));
                rows_summary_done(&s);
                cJSON_AddItemToObject(rs, "resource", res);
                cJSON_AddStringToObject(scope, "name", "nctop");
                cJSON_AddStringToObject(scope, "version", NCTOP_VERSION);
                cJSON_AddItemToObject(ss, "scope", scope);
                spans = cJSON_CreateArray();
                cJSON_AddItemToObject(ss, "spans", spans);
                cJSON_AddItemToArray(sss, ss);
                cJSON_AddItemToObject(rs, "scopeSpans", sss);
                cJSON_AddItemToArray(rss, rs);
            }
            cJSON *sp = cJSON_CreateObject();
            uint64_t seed = hash_bytes(hash_u64((uint64_t)store_proc_pid(p) ^ x->begin_ns), x->path,
                                       strlen(x->path));
            otlp_hex_id(id, 16, seed);
            cJSON_AddStringToObject(sp, "traceId", id);
            otlp_hex_id(id, 8, seed ^ 0x5bd1e995ULL);
            cJSON_AddStringToObject(sp, "spanId", id);
            cJSON_AddStringToObject(sp, "name", x->name);
            cJSON_AddNumberToObject(sp, "kind", OTLP_SPAN_KIND_INTERNAL);
            /* Monotonic instants to wall-clock ones through now. */
            otlp_u64(num, sizeof(num), real_ns - (now_ns - x->begin_ns));
            cJSON_AddStringToObject(sp, "startTimeUnixNano", num);
            otlp_u64(num, sizeof(num), real_ns - (now_ns - end));
            cJSON_AddStringToObject(sp, "endTimeUnixNano", num);
            cJSON *a = otlp_attrs1("nctop.path", x->path);
            for (size_t j = 0; j < x->nattrs; j++) {
                otlp_attr_str(a, x->attrs[j].key, x->attrs[j].value);
            }
            cJSON_AddItemToObject(sp, "attributes", a);
            cJSON *status = cJSON_CreateObject();
            if (x->status != ROWS_INST_NONE) {
                cJSON_AddNumberToObject(
                    status, "code", x->status == ROWS_INST_OK ? OTLP_STATUS_OK : OTLP_STATUS_ERROR);
            }
            if (x->message != NULL) {
                cJSON_AddStringToObject(status, "message", x->message);
            }
            cJSON_AddItemToObject(sp, "status", status);
            cJSON_AddItemToArray(spans, sp);
            (*nspans)++;
        }
        rows_instances_done(&in);
    }
    *since_ns = newest;
    if (*nspans > 0) {
        out = otlp_print(root, len);
    }
    cJSON_Delete(root);
    free(defaults);
    return out;
}
