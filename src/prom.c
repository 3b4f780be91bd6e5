/* SPDX-License-Identifier: MIT */
/* Prometheus exposition: every family once with HELP and TYPE, then its series for every
 * process. Names follow Prometheus conventions (nctop_ prefix, base units, _total counters,
 * _ratio for 0..1) and, where they fit, the names serving users know (time to first token,
 * inter-token latency, KV cache usage). Label values are escaped; cardinality is capped. */
#include "prom.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hist.h"
#include "rows.h"
#include "store.h"
#include "xalloc.h"

#define PROM_NBOUNDS 20

/* Histogram bounds in ns and as printed (seconds); +Inf follows. */
static const uint64_t prom_bounds_ns[PROM_NBOUNDS] = {
    1000,      5000,      10000,      50000,      100000,     250000,      500000,
    1000000,   2500000,   5000000,    10000000,   25000000,   50000000,    100000000,
    250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};
static const char *const prom_bounds_s[PROM_NBOUNDS] = {
    "0.000001", "0.000005", "0.00001", "0.00005", "0.0001", "0.00025", "0.0005",
    "0.001",    "0.0025",   "0.005",   "0.01",    "0.025",  "0.05",    "0.1",
    "0.25",     "0.5",      "1",       "2.5",     "5",      "10",
};

struct prom_buf {
    char *s;
    size_t len;
    size_t cap;
};

/* One process's rows, built once per scrape. */
struct prom_proc {
    char labels[512]; /* pid="..",label=".." already escaped */
    struct rows latency;
    struct rows memory;
    struct rows kernels;
    struct rows_summary sum;
    size_t kept_paths;   /* latency rows exported under their own path */
    size_t folded_paths; /* latency rows folded into path="other" */
};

/* Cumulative counts of one histogram (or of several folded together). */
struct prom_hist {
    uint64_t le[PROM_NBOUNDS];
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

static void prom_hist_add(struct prom_hist *ph, const struct hist *h)
{
    if (h == NULL || h->count == 0) {
        return;
    }
    for (size_t i = 0; i < PROM_NBOUNDS; i++) {
        ph->le[i] += hist_count_le(h, prom_bounds_ns[i]);
    }
    ph->count += h->count;
    ph->sum_ns += h->sum_ns;
}

/* One histogram series: buckets, sum and count. extra: more labels (",k=\"v\"") or "". */
static void prom_hist_emit(struct prom_buf *b, const char *name, const char *labels,
                           const char *extra, const struct prom_hist *ph)
{
    for (size_t i = 0; i < PROM_NBOUNDS; i++) {
        prom_printf(b, "%s_bucket{%s%s,le=\"%s\"} %llu\n", name, labels, extra, prom_bounds_s[i],
                    (unsigned long long)ph->le[i]);
    }
    prom_printf(b, "%s_bucket{%s%s,le=\"+Inf\"} %llu\n", name, labels, extra,
                (unsigned long long)ph->count);
    prom_printf(b, "%s_sum{%s%s} %.9f\n", name, labels, extra, (double)ph->sum_ns / 1e9);
    prom_printf(b, "%s_count{%s%s} %llu\n", name, labels, extra, (unsigned long long)ph->count);
}

static const char *prom_state(int state)
{
    return state == STORE_PROC_LIVE ? "live" : state == STORE_PROC_EXITED ? "exited" : "error";
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
            prom_hist_add(&other, r->hist_all);
            continue;
        }
        memset(&ph, 0, sizeof(ph));
        prom_hist_add(&ph, r->hist_all);
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
        prom_hist_add(&ph, r->hist_all);
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
    prom_hist_add(&ph, m->hist_all);
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

static void prom_emit_all(struct prom_buf *b, struct prom_proc *pp, size_t n, size_t max_paths)
{
    prom_family(b, "nctop_workload_info", "gauge",
                "A watched workload (always 1): its pid, label and state.");
    for (size_t i = 0; i < n; i++) {
        prom_printf(b, "nctop_workload_info{%s,state=\"%s\"} 1\n", pp[i].labels,
                    prom_state(pp[i].sum.state));
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
    prom_family(b, "nctop_workload_counter_total", "counter",
                "The workload's other monotonic counters (spikes, ...), by name.");
    for (size_t i = 0; i < n; i++) {
        for (size_t c = 0; c < pp[i].sum.ncounters; c++) {
            char name[256];

            if (strcmp(pp[i].sum.counters[c].name, "tokens") == 0) {
                continue;
            }
            prom_escape(name, sizeof(name), pp[i].sum.counters[c].name);
            prom_printf(b, "nctop_workload_counter_total{%s,counter=\"%s\"} %llu\n", pp[i].labels,
                        name, (unsigned long long)pp[i].sum.counters[c].value);
        }
    }

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
                "Host RSS minus everything the workload tracks (weights, pools, caches).");
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

char *prom_render(const struct store *st, uint64_t now_ns, size_t max_paths, size_t *len)
{
    struct prom_buf b = {.s = NULL, .len = 0, .cap = 65536};
    size_t nprocs = store_nprocs(st), n = 0;
    struct prom_proc *pp = xcalloc(nprocs ? nprocs : 1, sizeof(*pp));
    char label[256];

    b.s = xmalloc(b.cap);
    b.s[0] = '\0';
    if (max_paths == 0) {
        max_paths = PROM_DEFAULT_MAX_PATHS;
    }
    for (size_t i = 0; i < nprocs; i++) {
        const struct store_proc *p = store_proc_at(st, i);

        /* A pid seen twice (a program that exec'd): only its newest instance, so no series
         * is duplicated. */
        if (store_proc_find(st, store_proc_pid(p)) != p) {
            continue;
        }
        rows_init(&pp[n].latency);
        rows_init(&pp[n].memory);
        rows_init(&pp[n].kernels);
        rows_build_latency(&pp[n].latency, p, now_ns);
        rows_build_memory(&pp[n].memory, p, now_ns);
        rows_build_kernels(&pp[n].kernels, p, now_ns);
        rows_build_summary(&pp[n].sum, p, now_ns);
        prom_escape(label, sizeof(label), pp[n].sum.label);
        snprintf(pp[n].labels, sizeof(pp[n].labels), "pid=\"%d\",label=\"%s\"", (int)pp[n].sum.pid,
                 label);
        n++;
    }

    prom_family(&b, "nctop_build_info", "gauge", "nctop's version (always 1).");
    prom_printf(&b, "nctop_build_info{version=\"%s\"} 1\n", NCTOP_VERSION);
    prom_emit_all(&b, pp, n, max_paths);
    prom_emit_gpus(&b, st);

    for (size_t i = 0; i < n; i++) {
        rows_done(&pp[i].latency);
        rows_done(&pp[i].memory);
        rows_done(&pp[i].kernels);
        rows_summary_done(&pp[i].sum);
    }
    free(pp);
    *len = b.len;
    return b.s;
}
