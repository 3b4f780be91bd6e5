/* SPDX-License-Identifier: MIT */
/* Prometheus exposition: every family once with HELP and TYPE, then its series for every
 * process. Names follow Prometheus conventions (nctop_ prefix, base units, _total counters,
 * _ratio for 0..1) and, where they fit, the names serving users know (time to first token,
 * inter-token latency, KV cache usage). Label values are escaped; cardinality is capped. */
#include "src/output/prom.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/xalloc.h"
#include "src/model/alerts.h"
#include "src/model/hist.h"
#include "src/model/rows.h"
#include "src/model/rows_power.h"
#include "src/model/store.h"
#include "src/output/otlp.h"

#define PROM_BOUND_CHARS 24                   /* "123456.123456789" and a NUL */
#define PROM_MAX_BOUND_NS 1000000000000000ULL /* 1e6 s */
#define PROM_NEURO_LAYERS                                                                          \
    32 /* layers with series of their own; the rest fold                                           \
        * into layer="other" */

/* The output and the histogram bounds of this rendering (in ns and as printed, seconds). */
struct prom_buf {
    char *s;
    size_t len;
    size_t cap;
    const uint64_t *bounds_ns;
    char (*bounds_s)[PROM_BOUND_CHARS];
    size_t nbounds;
};

/* One process's rows, built once per scrape. */
#define PROM_MAX_ALERTS 64 /* nctop_alert_firing series */

struct prom_proc {
    const struct store_proc *p;
    bool kept;        /* exported (prom_workload_label) */
    char labels[512]; /* workload=".." already escaped */
    struct rows latency;
    struct rows memory;
    struct rows kernels;
    struct rows neuro;
    struct rows_summary sum;
    size_t kept_paths;   /* latency rows exported under their own path */
    size_t folded_paths; /* latency rows folded into path="other" */
};

/* Cumulative counts of one histogram (or of several folded together). */
struct prom_hist {
    uint64_t le[PROM_MAX_BUCKETS];
    uint64_t count;
    uint64_t sum_ns;
};

static void prom_printf(struct prom_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void prom_printf(struct prom_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    for (;;) {
        size_t room = b->cap - b->len;

        va_start(ap, fmt);
        n = vsnprintf(b->s + b->len, room, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (n > 0 ? (size_t)n : 0);
        b->s = xreallocarray(b->s, b->cap, 1);
    }
}

/* Escape a label value: backslash, double quote and newline, per the text format. */
static void prom_escape(char *dst, size_t len, const char *src)
{
    size_t j = 0;

    for (size_t i = 0; src != NULL && src[i] != '\0' && j + 3 < len; i++) {
        char c = src[i];

        if (c == '\\' || c == '"') {
            dst[j++] = '\\';
            dst[j++] = c;
        } else if (c == '\n') {
            dst[j++] = '\\';
            dst[j++] = 'n';
        } else {
            dst[j++] = c;
        }
    }
    dst[j] = '\0';
}

static void prom_family(struct prom_buf *b, const char *name, const char *type, const char *help)
{
    prom_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void prom_hist_add1(const struct prom_buf *b, struct prom_hist *ph, const struct hist *h)
{
    if (h == NULL || h->count == 0) {
        return;
    }
    for (size_t i = 0; i < b->nbounds; i++) {
        ph->le[i] += hist_count_le(h, b->bounds_ns[i]);
    }
    ph->count += h->count;
    ph->sum_ns += h->sum_ns;
}

/* A since-start histogram in its two parts (struct row.hist_all and hist_open). */
static void prom_hist_add(const struct prom_buf *b, struct prom_hist *ph, const struct hist *h,
                          const struct hist *open)
{
    prom_hist_add1(b, ph, h);
    prom_hist_add1(b, ph, open);
}

/* One histogram series: buckets, sum and count. extra: more labels (",k=\"v\"") or "". */
static void prom_hist_emit(struct prom_buf *b, const char *name, const char *labels,
                           const char *extra, const struct prom_hist *ph)
{
    for (size_t i = 0; i < b->nbounds; i++) {
        prom_printf(b, "%s_bucket{%s%s,le=\"%s\"} %llu\n", name, labels, extra, b->bounds_s[i],
                    (unsigned long long)ph->le[i]);
    }
    prom_printf(b, "%s_bucket{%s%s,le=\"+Inf\"} %llu\n", name, labels, extra,
                (unsigned long long)ph->count);
    prom_printf(b, "%s_sum{%s%s} %.9f\n", name, labels, extra, (double)ph->sum_ns / 1e9);
    prom_printf(b, "%s_count{%s%s} %llu\n", name, labels, extra, (unsigned long long)ph->count);
}

static const char *prom_state(enum rows_state state)
{
    return state == ROWS_STATE_LIVE ? "live" : state == ROWS_STATE_EXITED ? "exited" : "error";
}

/* Latency rows kept under their own path: the shallowest first (a tree's top is what a
 * dashboard needs), at most max_paths; the rest are folded. Marks kept rows in keep[]. */
static void prom_choose_paths(struct prom_proc *pp, size_t max_paths, bool *keep)
{
    size_t kept = 0;
    uint16_t level = 0, deepest = 0;

    for (size_t i = 0; i < pp->latency.n; i++) {
        deepest = pp->latency.v[i].level > deepest ? pp->latency.v[i].level : deepest;
    }
    for (level = 0; level <= deepest; level++) {
        for (size_t i = 0; i < pp->latency.n; i++) {
            const struct row *r = &pp->latency.v[i];
            bool dup = false;

            if (r->level != level || kept == max_paths) {
                continue;
            }
            /* Labels may contain '/', so two nodes can share a path: keep the first. */
            for (size_t j = 0; j < i && !dup; j++) {
                dup = keep[j] && pp->latency.v[j].path_hash == r->path_hash &&
                      strcmp(pp->latency.v[j].path, r->path) == 0;
            }
            if (!dup) {
                keep[i] = true;
                kept++;
            }
        }
    }
    pp->kept_paths = kept;
    pp->folded_paths = pp->latency.n - kept;
}

static void prom_emit_spans(struct prom_buf *b, struct prom_proc *pp, size_t max_paths)
{
    bool *keep = xcalloc(pp->latency.n ? pp->latency.n : 1, sizeof(*keep));
    struct prom_hist other;
    char path[1024], extra[1100];

    memset(&other, 0, sizeof(other));
    prom_choose_paths(pp, max_paths, keep);
    for (size_t i = 0; i < pp->latency.n; i++) {
        const struct row *r = &pp->latency.v[i];
        struct prom_hist ph;

        if (!keep[i]) {
            prom_hist_add(b, &other, r->hist_all, r->hist_open);
            continue;
        }
        memset(&ph, 0, sizeof(ph));
        prom_hist_add(b, &ph, r->hist_all, r->hist_open);
        prom_escape(path, sizeof(path), r->path);
        snprintf(extra, sizeof(extra), ",path=\"%s\"", path);
        prom_hist_emit(b, "nctop_span_duration_seconds", pp->labels, extra, &ph);
    }
    if (pp->folded_paths > 0) {
        prom_hist_emit(b, "nctop_span_duration_seconds", pp->labels, ",path=\"other\"", &other);
    }
    free(keep);
}

static void prom_emit_kernels(struct prom_buf *b, const struct prom_proc *pp)
{
    char name[512], backend[256], extra[900];

    for (size_t i = 0; i < pp->kernels.n; i++) {
        const struct row *r = &pp->kernels.v[i];
        struct prom_hist ph;

        memset(&ph, 0, sizeof(ph));
        prom_hist_add(b, &ph, r->hist_all, r->hist_open);
        prom_escape(name, sizeof(name), r->label);
        prom_escape(backend, sizeof(backend), r->backend);
        snprintf(extra, sizeof(extra), ",kernel=\"%s\",backend=\"%s\"", name, backend);
        prom_hist_emit(b, "nctop_kernel_duration_seconds", pp->labels, extra, &ph);
    }
}

static void prom_emit_marker(struct prom_buf *b, const struct prom_proc *pp,
                             const struct rows_marker *m, const char *name)
{
    struct prom_hist ph;

    if (!m->valid) {
        return;
    }
    memset(&ph, 0, sizeof(ph));
    prom_hist_add(b, &ph, m->hist_all, m->hist_open);
    prom_hist_emit(b, name, pp->labels, "", &ph);
}

static const struct row *prom_memory_row(const struct prom_proc *pp, const char *path)
{
    for (size_t i = 0; i < pp->memory.n; i++) {
        if (strcmp(pp->memory.v[i].path, path) == 0) {
            return &pp->memory.v[i];
        }
    }
    return NULL;
}

/* Gauges of the memory sections: one series per pool, KV cache or other gauge. */
static void prom_emit_gauges(struct prom_buf *b, const struct prom_proc *pp, bool capacity)
{
    static const char *const sections[] = {"Memory Pools", "KV Cache", "Other Memory"};
    static const char *const kinds[] = {"pool", "kv_cache", "other"};
    char name[512];

    for (size_t s = 0; s < 3; s++) {
        size_t plen = strlen(sections[s]);

        for (size_t i = 0; i < pp->memory.n; i++) {
            const struct row *r = &pp->memory.v[i];

            if (r->level != 1 || strncmp(r->path, sections[s], plen) != 0 || r->path[plen] != '/') {
                continue;
            }
            if (capacity && !(r->flags & ROW_F_CAPACITY)) {
                continue;
            }
            prom_escape(name, sizeof(name), r->label);
            prom_printf(b, "nctop_memory_%s_bytes{%s,kind=\"%s\",name=\"%s\"} %llu\n",
                        capacity ? "capacity" : "used", pp->labels, kinds[s], name,
                        (unsigned long long)(capacity ? r->capacity_bytes
                                                      : (uint64_t)(r->bytes > 0 ? r->bytes : 0)));
        }
    }
}

/* Compilations (span instances with a status or attributes): every one ever ended, by target,
 * model and result, their durations and their passes' durations. Bounded: the store folds
 * label pairs beyond its cap (64 per process) into target="other", model="other", and passes
 * beyond 15 per pair into pass="other". Families only when some process has any. */
static void prom_emit_compilations(struct prom_buf *b, const struct prom_proc *pp, size_t n)
{
    static const char *const result[3] = {"none", "ok", "error"};
    struct rows_instances *in = xcalloc(n + 1U, sizeof(*in));
    bool any = false;

    for (size_t i = 0; i < n; i++) {
        rows_build_instances(&in[i], pp[i].p);
        any = any || in[i].nstats > 0;
    }
    if (any) {
        prom_family(b, "nctop_compilations_total", "counter",
                    "Compilations (spans ended with a status or carrying attributes) by target, "
                    "model and result.");
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < in[i].nstats; k++) {
                const struct rows_inst_stat *s = &in[i].stats[k];
                char t[128], m[128];

                prom_escape(t, sizeof(t), s->target != NULL ? s->target : "");
                prom_escape(m, sizeof(m), s->model != NULL ? s->model : "");
                for (int r = 0; r < 3; r++) {
                    if (s->n[r] > 0 || r > 0) {
                        prom_printf(b,
                                    "nctop_compilations_total{%s,target=\"%s\",model=\"%s\","
                                    "result=\"%s\"} %llu\n",
                                    pp[i].labels, t, m, result[r], (unsigned long long)s->n[r]);
                    }
                }
            }
        }
        prom_family(b, "nctop_compile_duration_seconds", "histogram",
                    "Wall time of compilations by target and model.");
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < in[i].nstats; k++) {
                const struct rows_inst_stat *s = &in[i].stats[k];
                struct prom_hist ph;
                char t[128], m[128], extra[300];

                memset(&ph, 0, sizeof(ph));
                prom_hist_add(b, &ph, s->dur, NULL);
                prom_escape(t, sizeof(t), s->target != NULL ? s->target : "");
                prom_escape(m, sizeof(m), s->model != NULL ? s->model : "");
                snprintf(extra, sizeof(extra), ",target=\"%s\",model=\"%s\"", t, m);
                prom_hist_emit(b, "nctop_compile_duration_seconds", pp[i].labels, extra, &ph);
            }
        }
        prom_family(b, "nctop_compile_pass_duration_seconds", "histogram",
                    "Wall time of the passes (the spans right inside a compilation) by target, "
                    "model and pass: at most 15 passes per target and model, the rest in "
                    "pass=\"other\".");
        for (size_t i = 0; i < n; i++) {
            for (size_t k = 0; k < in[i].nstats; k++) {
                const struct rows_inst_stat *s = &in[i].stats[k];
                char t[128], m[128], ps[128], extra[420];

                prom_escape(t, sizeof(t), s->target != NULL ? s->target : "");
                prom_escape(m, sizeof(m), s->model != NULL ? s->model : "");
                for (size_t j = 0; j < s->npasses; j++) {
                    struct prom_hist ph;

                    memset(&ph, 0, sizeof(ph));
                    prom_hist_add(b, &ph, s->passes[j].dur, NULL);
                    prom_escape(ps, sizeof(ps), s->passes[j].name);
                    snprintf(extra, sizeof(extra), ",target=\"%s\",model=\"%s\",pass=\"%s\"", t, m,
                             ps);
                    prom_hist_emit(b, "nctop_compile_pass_duration_seconds", pp[i].labels, extra,
                                   &ph);
                }
            }
        }
    }
    for (size_t i = 0; i < n; i++) {
        rows_instances_done(&in[i]);
    }
    free(in);
}

/* Serving figures of the workloads that mark requests (nctop_request_*, nctop_step). */
static void prom_emit_requests(struct prom_buf *b, const struct prom_proc *pp, size_t n)
{
    prom_family(b, "nctop_requests_running", "gauge",
                "Requests in flight: begun (or first seen) and not ended.");
    for (size_t i = 0; i < n; i++) {
        if (pp[i].sum.requests.valid) {
            prom_printf(b, "nctop_requests_running{%s} %llu\n", pp[i].labels,
                        (unsigned long long)pp[i].sum.requests.running);
        }
    }
    prom_family(b, "nctop_requests_finished_total", "counter",
                "Requests ended since nctop attached, by result (ok, failed, cancelled).");
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; pp[i].sum.requests.valid && k < ROWS_REQUEST_RESULTS; k++) {
            prom_printf(b, "nctop_requests_finished_total{%s,result=\"%s\"} %llu\n", pp[i].labels,
                        rows_request_results[k],
                        (unsigned long long)pp[i].sum.requests.finished[k]);
        }
    }
    prom_family(b, "nctop_request_duration_seconds", "histogram",
                "End-to-end latency of a request, from its begin to its end.");
    for (size_t i = 0; i < n; i++) {
        prom_emit_marker(b, &pp[i], &pp[i].sum.requests.e2e, "nctop_request_duration_seconds");
    }
    prom_family(b, "nctop_prompt_tokens_total", "counter",
                "Prompt (prefill) tokens of the requests, since nctop attached.");
    for (size_t i = 0; i < n; i++) {
        if (pp[i].sum.requests.valid) {
            prom_printf(b, "nctop_prompt_tokens_total{%s} %llu\n", pp[i].labels,
                        (unsigned long long)pp[i].sum.requests.prompt_tokens);
        }
    }
}

/* One count of a spiking workload per layer: the first PROM_NEURO_LAYERS layers by number
 * under their own layer label, the rest summed into layer="other"; a workload that publishes
 * only totals has one series, layer="all". */
static void prom_emit_neuro_count(struct prom_buf *b, const struct prom_proc *pp, const char *name,
                                  enum row_neuro_field k)
{
    const struct rows *r = &pp->neuro;
    uint64_t other = 0;
    size_t layers = 0;
    bool folded = false;

    for (size_t i = 0; i < r->n; i++) {
        const struct row_neuro *f = rows_neuro_of(r, &r->v[i]);

        if (f == NULL || f->layer < 0 || f->core >= 0 || (f->counted & 1U << k) == 0) {
            continue;
        }
        if (layers++ < PROM_NEURO_LAYERS) {
            prom_printf(b, "%s{%s,layer=\"%d\"} %llu\n", name, pp->labels, (int)f->layer,
                        (unsigned long long)f->count[k]);
        } else {
            other += f->count[k];
            folded = true;
        }
    }
    if (folded) {
        prom_printf(b, "%s{%s,layer=\"other\"} %llu\n", name, pp->labels,
                    (unsigned long long)other);
    }
    if (layers == 0 && (pp->sum.neuro.net.counted & 1U << k) != 0) {
        prom_printf(b, "%s{%s,layer=\"all\"} %llu\n", name, pp->labels,
                    (unsigned long long)pp->sum.neuro.net.count[k]);
    }
}

/* Spikes, synaptic operations, timesteps and energy of spiking (or energy-measuring)
 * workloads. */
static void prom_emit_neuro(struct prom_buf *b, const struct prom_proc *pp, size_t n)
{
    prom_family(b, "nctop_spikes_total", "counter",
                "Spikes of a spiking workload per layer (layers beyond the cap in \"other\").");
    for (size_t i = 0; i < n; i++) {
        prom_emit_neuro_count(b, &pp[i], "nctop_spikes_total", ROW_NF_SPIKES);
    }
    prom_family(
        b, "nctop_synaptic_ops_total", "counter",
        "Synaptic operations of a spiking workload per layer (beyond the cap in \"other\").");
    for (size_t i = 0; i < n; i++) {
        prom_emit_neuro_count(b, &pp[i], "nctop_synaptic_ops_total", ROW_NF_SYNOPS);
    }
    prom_family(b, "nctop_timesteps_total", "counter",
                "Timesteps of a spiking workload (its iteration markers since nctop attached).");
    for (size_t i = 0; i < n; i++) {
        if (pp[i].sum.neuro.timesteps_valid && pp[i].sum.neuro.spiking) {
            prom_printf(b, "nctop_timesteps_total{%s} %llu\n", pp[i].labels,
                        (unsigned long long)pp[i].sum.neuro.timesteps);
        }
    }
    prom_family(b, "nctop_energy_joules_total", "counter",
                "Energy of a workload since start: its own measurement (source=\"measured\") or "
                "its target's model applied to its counts (source=\"estimated\").");
    for (size_t i = 0; i < n; i++) {
        const struct row_neuro *f = &pp[i].sum.neuro.net;

        if ((f->have & ROW_N_ENERGY) != 0 && isfinite(f->energy_j)) {
            prom_printf(b, "nctop_energy_joules_total{%s,source=\"%s\"} %.9g\n", pp[i].labels,
                        (f->have & ROW_N_MEASURED) != 0 ? "measured" : "estimated", f->energy_j);
        }
    }
    prom_family(b, "nctop_power_watts", "gauge",
                "Power of a workload over the window, measured or estimated (source).");
    for (size_t i = 0; i < n; i++) {
        const struct row_neuro *f = &pp[i].sum.neuro.net;

        if ((f->have & ROW_N_POWER) != 0 && isfinite(f->power_w)) {
            prom_printf(b, "nctop_power_watts{%s,source=\"%s\"} %.9g\n", pp[i].labels,
                        (f->have & ROW_N_MEASURED) != 0 ? "measured" : "estimated", f->power_w);
        }
    }
}

static void prom_emit_all(struct prom_buf *b, struct prom_proc *pp, size_t n, size_t max_paths)
{
    prom_family(b, "nctop_workload_info", "gauge",
                "A watched workload (always 1): its current pid and state.");
    for (size_t i = 0; i < n; i++) {
        prom_printf(b, "nctop_workload_info{%s,pid=\"%d\",state=\"%s\"} 1\n", pp[i].labels,
                    (int)pp[i].sum.pid, prom_state(pp[i].sum.state));
    }
    prom_family(b, "nctop_span_duration_seconds", "histogram",
                "Duration of spans by latency tree path, since nctop attached.");
    for (size_t i = 0; i < n; i++) {
        prom_emit_spans(b, &pp[i], max_paths);
    }
    prom_family(b, "nctop_exporter_folded_paths", "gauge",
                "Latency tree paths beyond the series cap, folded into path=\"other\".");
    for (size_t i = 0; i < n; i++) {
        prom_printf(b, "nctop_exporter_folded_paths{%s} %zu\n", pp[i].labels, pp[i].folded_paths);
    }
    prom_family(b, "nctop_kernel_duration_seconds", "histogram",
                "Duration of kernel executions by kernel and backend, since nctop attached.");
    for (size_t i = 0; i < n; i++) {
        prom_emit_kernels(b, &pp[i]);
    }
    prom_family(b, "nctop_time_to_first_token_seconds", "histogram",
                "Time from a request's start to its first generated token.");
    for (size_t i = 0; i < n; i++) {
        prom_emit_marker(b, &pp[i], &pp[i].sum.ttft, "nctop_time_to_first_token_seconds");
    }
    prom_family(b, "nctop_inter_token_latency_seconds", "histogram",
                "Time between consecutive generated tokens of a request.");
    for (size_t i = 0; i < n; i++) {
        prom_emit_marker(b, &pp[i], &pp[i].sum.itl, "nctop_inter_token_latency_seconds");
    }

    prom_emit_requests(b, pp, n);
    prom_emit_compilations(b, pp, n);

    prom_family(b, "nctop_generation_tokens_total", "counter",
                "Tokens generated (the workload's \"tokens\" counter).");
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < pp[i].sum.ncounters; c++) {
            if (strcmp(pp[i].sum.counters[c].name, "tokens") == 0) {
                prom_printf(b, "nctop_generation_tokens_total{%s} %llu\n", pp[i].labels,
                            (unsigned long long)pp[i].sum.counters[c].value);
            }
        }
    }
    prom_family(b, "nctop_workload_count_total", "counter",
                "The workload's other monotonic counters (spikes, ...), by name.");
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < pp[i].sum.ncounters; c++) {
            char name[256];

            if (strcmp(pp[i].sum.counters[c].name, "tokens") == 0 ||
                rows_neuro_counter(pp[i].sum.counters[c].name)) {
                continue;
            }
            prom_escape(name, sizeof(name), pp[i].sum.counters[c].name);
            prom_printf(b, "nctop_workload_count_total{%s,counter=\"%s\"} %llu\n", pp[i].labels,
                        name, (unsigned long long)pp[i].sum.counters[c].value);
        }
    }

    prom_emit_neuro(b, pp, n);

    prom_family(b, "nctop_events_total", "counter", "Events read from the workload.");
    for (size_t i = 0; i < n; i++) {
        prom_printf(b, "nctop_events_total{%s} %llu\n", pp[i].labels,
                    (unsigned long long)pp[i].sum.events);
    }
    prom_family(b, "nctop_events_dropped_total", "counter",
                "Events the workload dropped because its ring was full.");
    for (size_t i = 0; i < n; i++) {
        prom_printf(b, "nctop_events_dropped_total{%s} %llu\n", pp[i].labels,
                    (unsigned long long)pp[i].sum.dropped);
    }
    prom_family(b, "nctop_events_invalid_total", "counter",
                "Invalid records or entries nctop rejected.");
    for (size_t i = 0; i < n; i++) {
        prom_printf(b, "nctop_events_invalid_total{%s} %llu\n", pp[i].labels,
                    (unsigned long long)pp[i].sum.invalid);
    }

    prom_family(b, "nctop_memory_used_bytes", "gauge",
                "Bytes used of a memory pool, KV cache or other tracked memory.");
    for (size_t i = 0; i < n; i++) {
        prom_emit_gauges(b, &pp[i], false);
    }
    prom_family(b, "nctop_memory_capacity_bytes", "gauge",
                "Bytes reserved by a memory pool, KV cache or other tracked memory.");
    for (size_t i = 0; i < n; i++) {
        prom_emit_gauges(b, &pp[i], true);
    }
    prom_family(b, "nctop_kv_cache_usage_ratio", "gauge",
                "KV cache used bytes over capacity, 0 to 1.");
    for (size_t i = 0; i < n; i++) {
        const struct row *r = prom_memory_row(&pp[i], "KV Cache");

        if (r != NULL && (r->flags & ROW_F_CAPACITY) && r->capacity_bytes > 0) {
            prom_printf(b, "nctop_kv_cache_usage_ratio{%s} %.6f\n", pp[i].labels,
                        (double)(r->bytes > 0 ? r->bytes : 0) / (double)r->capacity_bytes);
        }
    }
    prom_family(b, "nctop_weights_bytes", "gauge", "Bytes of the model weights registered.");
    for (size_t i = 0; i < n; i++) {
        const struct row *r = prom_memory_row(&pp[i], "Model Weights");

        if (r != NULL) {
            prom_printf(b, "nctop_weights_bytes{%s} %lld\n", pp[i].labels, (long long)r->bytes);
        }
    }
    prom_family(b, "nctop_resident_memory_bytes", "gauge", "Host resident set size (RSS).");
    for (size_t i = 0; i < n; i++) {
        if (pp[i].sum.host_valid) {
            prom_printf(b, "nctop_resident_memory_bytes{%s} %llu\n", pp[i].labels,
                        (unsigned long long)pp[i].sum.rss_bytes);
        }
    }
    prom_family(b, "nctop_unattributed_memory_bytes", "gauge",
                "Host RSS minus what the workload tracks as used (weights, pools, caches); absent "
                "while that is above RSS.");
    for (size_t i = 0; i < n; i++) {
        const struct row *r = prom_memory_row(&pp[i], "Host Memory/Unattributed Host Memory");

        if (r != NULL) {
            prom_printf(b, "nctop_unattributed_memory_bytes{%s} %lld\n", pp[i].labels,
                        (long long)r->bytes);
        }
    }
    prom_family(b, "nctop_cpu_seconds_total", "counter", "User and system CPU time.");
    for (size_t i = 0; i < n; i++) {
        if (pp[i].sum.host_valid) {
            prom_printf(b, "nctop_cpu_seconds_total{%s} %.3f\n", pp[i].labels,
                        (double)pp[i].sum.cpu_time_ns / 1e9);
        }
    }
}

/* The machine's GPUs, labelled by index and name; no GPU: no family at all. */
static void prom_emit_gpus(struct prom_buf *b, const struct store *st)
{
    struct rows_gpus g;
    char name[256];

    rows_build_gpus(&g, st);
    if (g.n > 0) {
        prom_family(b, "nctop_gpu_utilization_ratio", "gauge",
                    "Share of the driver's last sample period a GPU kernel ran, 0 to 1.");
        for (size_t i = 0; i < g.n; i++) {
            if (g.v[i].util_valid) {
                prom_escape(name, sizeof(name), g.v[i].name);
                prom_printf(b, "nctop_gpu_utilization_ratio{gpu=\"%u\",name=\"%s\"} %.2f\n",
                            (unsigned)g.v[i].index, name, g.v[i].util_pct / 100.0);
            }
        }
        prom_family(b, "nctop_gpu_memory_used_bytes", "gauge", "GPU memory in use.");
        for (size_t i = 0; i < g.n; i++) {
            if (g.v[i].mem_valid) {
                prom_escape(name, sizeof(name), g.v[i].name);
                prom_printf(b, "nctop_gpu_memory_used_bytes{gpu=\"%u\",name=\"%s\"} %llu\n",
                            (unsigned)g.v[i].index, name,
                            (unsigned long long)g.v[i].mem_used_bytes);
            }
        }
        prom_family(b, "nctop_gpu_memory_total_bytes", "gauge", "GPU memory in all.");
        for (size_t i = 0; i < g.n; i++) {
            if (g.v[i].mem_valid) {
                prom_escape(name, sizeof(name), g.v[i].name);
                prom_printf(b, "nctop_gpu_memory_total_bytes{gpu=\"%u\",name=\"%s\"} %llu\n",
                            (unsigned)g.v[i].index, name,
                            (unsigned long long)g.v[i].mem_total_bytes);
            }
        }
    }
    rows_gpus_done(&g);
}

/* The GPUs' power and energy counters as their drivers measure them; a device without one has
 * no series, and no device that has one: no family. */
static void prom_emit_gpu_power(struct prom_buf *b, const struct store *st)
{
    struct rows_gpus g;
    bool power = false, energy = false;
    char name[256];

    rows_build_gpus(&g, st);
    for (size_t i = 0; i < g.n; i++) {
        power = power || g.v[i].power_valid;
        energy = energy || g.v[i].energy_valid;
    }
    if (power) {
        prom_family(b, "nctop_gpu_power_watts", "gauge",
                    "GPU board power, as its driver reads it.");
    }
    for (size_t i = 0; power && i < g.n; i++) {
        if (g.v[i].power_valid) {
            prom_escape(name, sizeof(name), g.v[i].name);
            prom_printf(b, "nctop_gpu_power_watts{gpu=\"%u\",name=\"%s\"} %.3f\n",
                        (unsigned)g.v[i].index, name, g.v[i].power_w);
        }
    }
    if (energy) {
        prom_family(b, "nctop_gpu_energy_joules_total", "counter",
                    "GPU energy since its driver loaded, as the driver counts it.");
    }
    for (size_t i = 0; energy && i < g.n; i++) {
        if (g.v[i].energy_valid) {
            prom_escape(name, sizeof(name), g.v[i].name);
            prom_printf(b, "nctop_gpu_energy_joules_total{gpu=\"%u\",name=\"%s\"} %.3f\n",
                        (unsigned)g.v[i].index, name, g.v[i].energy_j);
        }
    }
    rows_gpus_done(&g);
}

/* The two energy families, each once: the machine's RAPL zones (label zone) here; series of
 * other sources of these families (a workload's own figures) belong in this function too, as
 * a second HELP/TYPE of a family is invalid exposition. No series: no family. */
static void prom_emit_energy(struct prom_buf *b, const struct store *st, uint64_t now_ns)
{
    struct rows_power pw;
    bool power = false;
    char zone[128];

    rows_build_power(&pw, st, now_ns);
    for (size_t i = 0; i < pw.n; i++) {
        power = power || pw.v[i].power_valid;
    }
    if (power) {
        prom_family(b, "nctop_rapl_power_watts", "gauge",
                    "Power over the window, measured: RAPL zones (zone; a package includes its "
                    "subzones).");
    }
    for (size_t i = 0; power && i < pw.n; i++) {
        if (pw.v[i].power_valid) {
            prom_escape(zone, sizeof(zone), pw.v[i].zone);
            prom_printf(b, "nctop_rapl_power_watts{zone=\"%s\"} %.6f\n", zone, pw.v[i].power_w);
        }
    }
    if (pw.n > 0) {
        prom_family(b, "nctop_rapl_energy_joules_total", "counter",
                    "Energy, measured: RAPL zone counters (zone; a package includes its "
                    "subzones).");
    }
    for (size_t i = 0; i < pw.n; i++) {
        prom_escape(zone, sizeof(zone), pw.v[i].zone);
        prom_printf(b, "nctop_rapl_energy_joules_total{zone=\"%s\"} %.6f\n", zone,
                    pw.v[i].energy_j);
    }
    rows_power_done(&pw);
}

/* Print a bound of integer ns as seconds, exactly, without trailing zeros. */
static void prom_format_bound(char *out, uint64_t ns)
{
    size_t l;

    snprintf(out, PROM_BOUND_CHARS, "%llu.%09llu", (unsigned long long)(ns / 1000000000ULL),
             (unsigned long long)(ns % 1000000000ULL));
    l = strlen(out);
    while (out[l - 1] == '0') {
        out[--l] = '\0';
    }
    if (out[l - 1] == '.') {
        out[l - 1] = '\0';
    }
}

static int prom_cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Seconds (a decimal number) to whole ns within 1 ns .. PROM_MAX_BOUND_NS; false otherwise. */
static bool prom_seconds_ns(const char *s, char **end, uint64_t *ns)
{
    double v;

    errno = 0;
    v = strtod(s, end);
    if (*end == s || errno != 0 || !(v * 1e9 >= 0.5) || v * 1e9 > (double)PROM_MAX_BOUND_NS) {
        return false;
    }
    *ns = (uint64_t)llround(v * 1e9);
    return true;
}

int prom_buckets_parse(const char *spec, uint64_t **out, size_t *n, char **err)
{
    /* Mantissas in hundredths: the Renard series for 5, 10 and 20 per decade, 1-2-5 for 3. */
    static const uint16_t r3[] = {100, 200, 500};
    static const uint16_t r5[] = {100, 160, 250, 400, 630};
    static const uint16_t r10[] = {100, 125, 160, 200, 250, 315, 400, 500, 630, 800};
    static const uint16_t r20[] = {100, 112, 125, 140, 160, 180, 200, 224, 250, 280,
                                   315, 355, 400, 450, 500, 560, 630, 710, 800, 900};
    uint64_t *v = xcalloc(PROM_MAX_BUCKETS + 1, sizeof(*v));
    size_t k = 0;
    char *end;

    *out = NULL;
    *n = 0;
    if (strchr(spec, ':') != NULL) {
        uint64_t lo, hi;
        long per;
        uint16_t m[100];
        size_t nm = 0;

        if (!prom_seconds_ns(spec, &end, &lo) || *end != ':' ||
            !prom_seconds_ns(end + 1, &end, &hi) || *end != ':' || hi < lo) {
            goto bad;
        }
        errno = 0;
        per = strtol(end + 1, &end, 10);
        if (*end != '\0' || per < 1 || per > 100) {
            goto bad;
        }
        if (per == 3 || per == 5 || per == 10 || per == 20) {
            const uint16_t *t = per == 3 ? r3 : per == 5 ? r5 : per == 10 ? r10 : r20;

            nm = (size_t)per;
            memcpy(m, t, nm * sizeof(*m));
        } else {
            for (long i = 0; i < per; i++) {
                uint16_t x = (uint16_t)lround(pow(10.0, 2.0 + (double)i / (double)per));

                if (nm == 0 || x > m[nm - 1]) {
                    m[nm++] = x;
                }
            }
        }
        /* Bound = mantissa x 10^e / 100 ns, for every power of ten that reaches the range. */
        for (uint64_t p10 = 1; p10 <= PROM_MAX_BOUND_NS; p10 *= 10) {
            for (size_t i = 0; i < nm; i++) {
                uint64_t x = (uint64_t)m[i] * p10;

                if (x % 100 != 0 || x / 100 < lo || x / 100 > hi) {
                    continue;
                }
                if (k == PROM_MAX_BUCKETS) {
                    free(v);
                    *err = xasprintf("--prometheus-buckets '%s': more than %d bounds", spec,
                                     PROM_MAX_BUCKETS);
                    return -EINVAL;
                }
                v[k++] = x / 100;
            }
        }
    } else {
        const char *s = spec;

        for (;;) {
            if (k == PROM_MAX_BUCKETS || !prom_seconds_ns(s, &end, &v[k]) ||
                (k > 0 && v[k] <= v[k - 1])) {
                goto bad;
            }
            k++;
            if (*end == '\0') {
                break;
            }
            if (*end != ',') {
                goto bad;
            }
            s = end + 1;
        }
    }
    if (k == 0) {
        goto bad;
    }
    qsort(v, k, sizeof(*v), prom_cmp_u64);
    *out = v;
    *n = k;
    return 0;
bad:
    free(v);
    *err = xasprintf("--prometheus-buckets '%s': want LOW:HIGH:PER_DECADE (seconds, 1..100 per "
                     "decade) or ascending seconds separated by commas, at most %d, 1 ns to "
                     "1e6 s",
                     spec, PROM_MAX_BUCKETS);
    return -EINVAL;
}

/* The workload label value of each exported process: the process label, so that a restart
 * continues the same series. Of several processes with one label, a live one is kept over
 * exited ones (the oldest live one keeps the plain label; other live ones get "label/pid"),
 * and with none live the newest is kept. Returns false for a process left out. */
static bool prom_workload_label(const struct prom_proc *pp, size_t n, size_t i, char *out,
                                size_t outlen)
{
    const struct rows_summary *me = &pp[i].sum;
    bool live = me->state == ROWS_STATE_LIVE, plain = true;
    char esc[256];

    for (size_t j = 0; j < n; j++) {
        const struct rows_summary *o = &pp[j].sum;
        bool olive = o->state == ROWS_STATE_LIVE;

        if (j == i || strcmp(o->label, me->label) != 0) {
            continue;
        }
        if (live && olive) {
            plain = plain && i < j;
        } else if (!live && (olive || j > i)) {
            return false;
        }
    }
    prom_escape(esc, sizeof(esc), me->label);
    if (plain) {
        snprintf(out, outlen, "workload=\"%s\"", esc);
    } else {
        snprintf(out, outlen, "workload=\"%s/%d\"", esc, (int)me->pid);
    }
    return true;
}

/* The alerts: how many pend and fire by severity (four series, always), and one series per
 * firing alert, at most PROM_MAX_ALERTS (the rest are counted as folded): the label values
 * are the rule, its severity, the workload (as its other series have it; "" for the
 * machine's) and the object. */
static void prom_emit_alerts(struct prom_buf *b, const struct alerts *a, const struct prom_proc *pp,
                             size_t n)
{
    size_t count[2][2] = {{0, 0}, {0, 0}}, shown = 0, folded = 0;

    for (size_t i = 0; i < alerts_count(a); i++) {
        const struct alert *al = alerts_at(a, i);

        count[al->severity][al->state == ALERT_FIRING ? 1 : 0]++;
    }
    prom_family(b, "nctop_alerts", "gauge", "Alerts pending or firing, by severity and state.");
    for (int sv = 0; sv < 2; sv++) {
        for (int f = 0; f < 2; f++) {
            prom_printf(b, "nctop_alerts{severity=\"%s\",state=\"%s\"} %zu\n",
                        alerts_severity_name((enum alert_severity)sv), f ? "firing" : "pending",
                        count[sv][f]);
        }
    }
    prom_family(b, "nctop_alert_firing", "gauge",
                "1 for each alert firing, by rule, workload and object.");
    for (size_t i = 0; i < alerts_count(a); i++) {
        const struct alert *al = alerts_at(a, i);
        char obj[2 * ALERTS_OBJECT_LEN], wl[600], esc[2 * ALERTS_LABEL_LEN];

        if (al->state != ALERT_FIRING) {
            continue;
        }
        if (shown == PROM_MAX_ALERTS) {
            folded++;
            continue;
        }
        shown++;
        snprintf(wl, sizeof(wl), "workload=\"\"");
        if (al->pid != 0) {
            prom_escape(esc, sizeof(esc), al->workload);
            snprintf(wl, sizeof(wl), "workload=\"%s/%d\"", esc, (int)al->pid);
            for (size_t k = 0; k < n; k++) {
                if (store_proc_pid(pp[k].p) == al->pid) {
                    snprintf(wl, sizeof(wl), "%s", pp[k].labels);
                }
            }
        }
        prom_escape(obj, sizeof(obj), al->object);
        prom_printf(b, "nctop_alert_firing{alert=\"%s\",severity=\"%s\",%s,object=\"%s\"} 1\n",
                    al->rule, alerts_severity_name(al->severity), wl, obj);
    }
    prom_family(b, "nctop_alert_folded", "gauge",
                "Alerts firing beyond the series nctop_alert_firing shows.");
    prom_printf(b, "nctop_alert_folded %zu\n", folded + alerts_overflow(a));
}

char *prom_render_opts(const struct store *st, uint64_t now_ns, const struct prom_opts *opts,
                       size_t *len)
{
    struct prom_buf b = {.s = NULL, .len = 0, .cap = 65536};
    size_t nprocs = store_nprocs(st), n = 0, m = 0;
    struct prom_proc *pp = xcalloc(nprocs ? nprocs : 1, sizeof(*pp));
    size_t max_paths =
        opts != NULL && opts->max_paths > 0 ? opts->max_paths : PROM_DEFAULT_MAX_PATHS;
    uint64_t *defaults = NULL;
    char *err = NULL;

    if (opts != NULL && opts->nbounds > 0 && opts->nbounds <= PROM_MAX_BUCKETS) {
        b.bounds_ns = opts->bounds_ns;
        b.nbounds = opts->nbounds;
    } else if (prom_buckets_parse(PROM_DEFAULT_BUCKETS, &defaults, &b.nbounds, &err) == 0) {
        b.bounds_ns = defaults;
    } else {
        free(err); /* NOTREACHED: the default spec parses */
    }
    b.bounds_s = xcalloc(b.nbounds ? b.nbounds : 1, sizeof(*b.bounds_s));
    for (size_t i = 0; i < b.nbounds; i++) {
        prom_format_bound(b.bounds_s[i], b.bounds_ns[i]);
    }
    b.s = xmalloc(b.cap);
    b.s[0] = '\0';
    for (size_t i = 0; i < nprocs; i++) {
        const struct store_proc *p = store_proc_at(st, i);

        /* A pid seen twice (a program that exec'd): only its newest instance, so no series
         * is duplicated. */
        if (store_proc_find(st, store_proc_pid(p)) != p) {
            continue;
        }
        pp[n].p = p;
        rows_build_summary(&pp[n].sum, p, now_ns);
        n++;
    }
    /* Label values first (they depend on the other processes), then the rows of those kept. */
    for (size_t i = 0; i < n; i++) {
        char labels[sizeof(pp[0].labels)];

        if (!prom_workload_label(pp, n, i, labels, sizeof(labels))) {
            continue;
        }
        memcpy(pp[i].labels, labels, sizeof(labels));
        pp[i].kept = true;
    }
    for (size_t i = 0; i < n; i++) {
        if (!pp[i].kept) {
            rows_summary_done(&pp[i].sum);
            continue;
        }
        if (m != i) {
            pp[m] = pp[i];
        }
        rows_init(&pp[m].latency);
        rows_init(&pp[m].memory);
        rows_init(&pp[m].kernels);
        rows_init(&pp[m].neuro);
        rows_build_neuro(&pp[m].neuro, pp[m].p, now_ns);
        rows_build_latency(&pp[m].latency, pp[m].p, now_ns);
        rows_build_memory(&pp[m].memory, pp[m].p, now_ns);
        rows_build_kernels(&pp[m].kernels, pp[m].p, now_ns);
        m++;
    }
    n = m;

    prom_family(&b, "nctop_build_info", "gauge", "nctop's version (always 1).");
    prom_printf(&b, "nctop_build_info{version=\"%s\"} 1\n", NCTOP_VERSION);
    prom_emit_all(&b, pp, n, max_paths);
    prom_emit_gpus(&b, st);
    prom_emit_gpu_power(&b, st);
    prom_emit_energy(&b, st, now_ns);
    if (opts != NULL && opts->otlp != NULL) {
        prom_family(&b, "nctop_otlp_batches_total", "counter",
                    "OTLP export batches by outcome (exported: accepted; dropped: given up).");
        prom_printf(&b, "nctop_otlp_batches_total{outcome=\"exported\"} %llu\n",
                    (unsigned long long)opts->otlp->exported);
        prom_printf(&b, "nctop_otlp_batches_total{outcome=\"dropped\"} %llu\n",
                    (unsigned long long)opts->otlp->dropped);
        prom_family(&b, "nctop_otlp_retries_total", "counter",
                    "OTLP export requests repeated after a retryable failure.");
        prom_printf(&b, "nctop_otlp_retries_total %llu\n", (unsigned long long)opts->otlp->retries);
    }
    if (opts != NULL && opts->alerts != NULL) {
        prom_emit_alerts(&b, opts->alerts, pp, n);
    }

    for (size_t i = 0; i < n; i++) {
        rows_done(&pp[i].latency);
        rows_done(&pp[i].memory);
        rows_done(&pp[i].kernels);
        rows_done(&pp[i].neuro);
        rows_summary_done(&pp[i].sum);
    }
    free(pp);
    free(b.bounds_s);
    free(defaults);
    *len = b.len;
    return b.s;
}

char *prom_render(const struct store *st, uint64_t now_ns, size_t max_paths, size_t *len)
{
    struct prom_opts o = {.max_paths = max_paths};

    return prom_render_opts(st, now_ns, &o, len);
}
