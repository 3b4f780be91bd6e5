/* SPDX-License-Identifier: MIT */
/* The JSON forms of rows and of the snapshot. Only here do ns become the contract's ms and
 * bytes its MB; absent values are null, never zeros. */
#include "src/output/snapshot.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/model/alerts.h"
#include "src/model/rows.h"
#include "src/model/rows_power.h"
#include "src/model/store.h"
#include "src/output/otlp.h"

static const char *snapshot_state_name(enum rows_state state, bool replayed)
{
    switch (state) {
    case ROWS_STATE_LIVE:
        return replayed ? "replay" : "live";
    case ROWS_STATE_EXITED:
        return "exited";
    default:
        return "error";
    }
}

/* A float of a matrix as JSON: 7 significant digits (what a float holds), null when not
 * finite. */
static cJSON *snapshot_float(float v)
{
    char buf[32];

    if (!isfinite(v)) {
        return cJSON_CreateNull();
    }
    snprintf(buf, sizeof(buf), "%.7g", (double)v);
    return cJSON_CreateNumber(strtod(buf, NULL));
}

static cJSON *snapshot_labels(const char *labels, uint32_t n)
{
    cJSON *arr = cJSON_CreateArray();

    for (uint32_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(arr, cJSON_CreateString(labels + (size_t)i * ROWS_MATRIX_LABEL));
    }
    return arr;
}

/* The process's matrices (nctop_matrix_publish): the latest snapshot of each, values as one
 * array per row. */
static cJSON *snapshot_matrices(const struct rows_summary *sum)
{
    cJSON *arr = cJSON_CreateArray();

    for (size_t i = 0; i < sum->nmatrices; i++) {
        const struct rows_matrix *m = &sum->matrices[i];
        cJSON *jm = cJSON_CreateObject(), *rows;

        cJSON_AddStringToObject(jm, "name", m->name);
        cJSON_AddStringToObject(jm, "unit", m->unit);
        cJSON_AddNumberToObject(jm, "rows", m->rows);
        cJSON_AddNumberToObject(jm, "cols", m->cols);
        cJSON_AddNumberToObject(jm, "updates", (double)m->updates);
        cJSON_AddItemToObject(jm, "min",
                              m->range_valid ? snapshot_float(m->lo) : cJSON_CreateNull());
        cJSON_AddItemToObject(jm, "max",
                              m->range_valid ? snapshot_float(m->hi) : cJSON_CreateNull());
        cJSON_AddItemToObject(jm, "row_labels", snapshot_labels(m->row_labels, m->rows));
        cJSON_AddItemToObject(jm, "col_labels", snapshot_labels(m->col_labels, m->cols));
        rows = cJSON_AddArrayToObject(jm, "values");
        for (uint32_t r = 0; r < m->rows; r++) {
            cJSON *row = cJSON_CreateArray();

            for (uint32_t c = 0; c < m->cols; c++) {
                cJSON_AddItemToArray(row, snapshot_float(m->values[(size_t)r * m->cols + c]));
            }
            cJSON_AddItemToArray(rows, row);
        }
        cJSON_AddItemToArray(arr, jm);
    }
    return arr;
}

static void snapshot_add_ms(cJSON *o, const char *key, bool valid, uint64_t ns)
{
    if (valid) {
        cJSON_AddNumberToObject(o, key, rows_ms(ns));
    } else {
        cJSON_AddNullToObject(o, key);
    }
}

/* The statistics of one period: count, average, min, max and percentiles. A figure a
 * replayed file lacked is null (a count of no samples is a true 0). */
static void snapshot_add_stats(cJSON *o, const struct row_stats *s, bool valid)
{
    if ((s->absent & ROW_S_COUNT) != 0) {
        cJSON_AddNullToObject(o, "count");
    } else {
        cJSON_AddNumberToObject(o, "count", valid ? (double)s->count : 0);
    }
    snapshot_add_ms(o, "average_ms", rows_stat_known(s, valid, ROW_S_MEAN), s->mean_ns);
    snapshot_add_ms(o, "min_ms", rows_stat_known(s, valid, ROW_S_MIN), s->min_ns);
    snapshot_add_ms(o, "max_ms", rows_stat_known(s, valid, ROW_S_MAX), s->max_ns);
    snapshot_add_ms(o, "p50_ms", rows_stat_known(s, valid, ROW_S_P50), s->p50_ns);
    snapshot_add_ms(o, "p95_ms", rows_stat_known(s, valid, ROW_S_P95), s->p95_ns);
    snapshot_add_ms(o, "p99_ms", rows_stat_known(s, valid, ROW_S_P99), s->p99_ns);
    snapshot_add_ms(o, "total_ms", rows_stat_known(s, valid, ROW_S_TOTAL), s->total_ns);
}

static cJSON *snapshot_timed_row(const struct row *r)
{
    cJSON *o = cJSON_CreateObject(), *all;
    bool win = r->flags & ROW_F_WIN, any = r->flags & (ROW_F_WIN | ROW_F_ALL);

    cJSON_AddStringToObject(o, "label", r->label);
    cJSON_AddNumberToObject(o, "level", r->level);
    /* last is the latest sample whatever the period. */
    snapshot_add_ms(o, "last_ms", rows_stat_known(&r->all, any, ROW_S_LAST),
                    win ? r->win.last_ns : r->all.last_ns);
    snapshot_add_stats(o, &r->win, win);
    cJSON_AddStringToObject(o, "path", r->path);
    if (r->flags & ROW_F_SHARE) {
        cJSON_AddNumberToObject(o, "share_pct", r->share_pct);
    } else {
        cJSON_AddNullToObject(o, "share_pct");
    }
    all = cJSON_AddObjectToObject(o, "total");
    snapshot_add_stats(all, &r->all, r->flags & ROW_F_ALL);
    return o;
}

/* A number, or null when it is not known or not finite. */
static void snapshot_add_num(cJSON *o, const char *key, bool valid, double v)
{
    if (valid && isfinite(v)) {
        cJSON_AddNumberToObject(o, key, v);
    } else {
        cJSON_AddNullToObject(o, key);
    }
}

/* --baseline: the baseline's since-start figures of the row's path and the changes of the
 * row's since-start figures against them; {"new": true} when the baseline lacks the path. */
static void snapshot_add_baseline(cJSON *o, const struct row *r)
{
    cJSON *b;
    double d, pct;
    bool ok;

    if ((r->flags & (ROW_F_BASE | ROW_F_BASE_NEW)) == 0) {
        return;
    }
    b = cJSON_AddObjectToObject(o, "baseline");
    cJSON_AddBoolToObject(b, "new", (r->flags & ROW_F_BASE) == 0);
    if ((r->flags & ROW_F_BASE) == 0) {
        return;
    }
    snapshot_add_num(b, "count", (r->base_absent & ROW_S_COUNT) == 0, (double)r->base_count);
    snapshot_add_num(b, "mean_ms", (r->base_absent & ROW_S_MEAN) == 0, rows_ms(r->base_mean_ns));
    snapshot_add_num(b, "p99_ms", (r->base_absent & ROW_S_P99) == 0, rows_ms(r->base_p99_ns));
    ok = rows_base_delta(r, &r->all, (r->flags & ROW_F_ALL) != 0, ROW_S_MEAN, &d, &pct);
    snapshot_add_num(b, "dmean_ms", ok, d / 1e6);
    snapshot_add_num(b, "dmean_pct", ok, pct);
    ok = rows_base_delta(r, &r->all, (r->flags & ROW_F_ALL) != 0, ROW_S_P99, &d, &pct);
    snapshot_add_num(b, "dp99_ms", ok, d / 1e6);
    snapshot_add_num(b, "dp99_pct", ok, pct);
}

cJSON *snapshot_latency_row(const struct row *r)
{
    cJSON *o = snapshot_timed_row(r);

    cJSON_AddNumberToObject(o, "children", r->nchildren);
    if (r->flags & ROW_F_SPREAD) {
        /* A fleet's row: the window's p99 across its members, and the slowest. */
        cJSON *sp = cJSON_AddObjectToObject(o, "spread");

        cJSON_AddNumberToObject(sp, "instances", r->spread_n);
        cJSON_AddNumberToObject(sp, "p99_min_ms", rows_ms(r->spread_min_ns));
        cJSON_AddNumberToObject(sp, "p99_median_ms", rows_ms(r->spread_median_ns));
        cJSON_AddNumberToObject(sp, "p99_max_ms", rows_ms(r->spread_max_ns));
        cJSON_AddStringToObject(sp, "slowest", r->slowest != NULL ? r->slowest : "");
    }
    if (r->ok + r->failed > 0) {
        cJSON_AddNumberToObject(o, "ok", (double)r->ok);
        cJSON_AddNumberToObject(o, "failed", (double)r->failed);
        if (r->last_error != NULL) {
            cJSON_AddStringToObject(o, "last_error", r->last_error);
        } else {
            cJSON_AddNullToObject(o, "last_error");
        }
    }
    snapshot_add_baseline(o, r);
    return o;
}

cJSON *snapshot_compilation(const struct rows_instance *r, uint64_t number)
{
    static const char *const status[] = {
        [ROWS_INST_NONE] = NULL, [ROWS_INST_OK] = "ok", [ROWS_INST_FAILED] = "error"};
    cJSON *o = cJSON_CreateObject(), *attrs, *passes;
    bool energy = false;

    cJSON_AddNumberToObject(o, "number", (double)number);
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddStringToObject(o, "path", r->path);
    if (status[r->status] != NULL) {
        cJSON_AddStringToObject(o, "status", status[r->status]);
    } else {
        cJSON_AddNullToObject(o, "status");
    }
    if (r->message != NULL) {
        cJSON_AddStringToObject(o, "message", r->message);
    } else {
        cJSON_AddNullToObject(o, "message");
    }
    cJSON_AddNumberToObject(o, "wall_ms", (double)r->dur_ns / 1e6);
    cJSON_AddNumberToObject(o, "mem_net_bytes", (double)r->mem_net);
    cJSON_AddNumberToObject(o, "mem_peak_bytes", (double)r->mem_peak);
    attrs = cJSON_AddObjectToObject(o, "attributes");
    for (size_t a = 0; a < r->nattrs; a++) {
        char *end = NULL;
        double j;

        cJSON_AddStringToObject(attrs, r->attrs[a].key, r->attrs[a].value);
        if (strcmp(r->attrs[a].key, "energy_j") == 0) {
            j = strtod(r->attrs[a].value, &end);
            if (end != r->attrs[a].value && *end == '\0' && j >= 0.0 && j < 1e300) {
                cJSON_AddNumberToObject(o, "energy_j", j);
                energy = true;
            }
        }
    }
    if (!energy) {
        cJSON_AddNullToObject(o, "energy_j");
    }
    passes = cJSON_AddArrayToObject(o, "passes");
    for (size_t c = 0; c < r->nchildren; c++) {
        const struct rows_inst_child *ch = &r->children[c];
        cJSON *po = cJSON_CreateObject();

        cJSON_AddStringToObject(po, "name", ch->name);
        cJSON_AddStringToObject(po, "path", ch->path);
        cJSON_AddNumberToObject(po, "level", ch->level);
        cJSON_AddNumberToObject(po, "start_ms", (double)(ch->begin_ns - r->begin_ns) / 1e6);
        cJSON_AddNumberToObject(po, "wall_ms", (double)ch->dur_ns / 1e6);
        cJSON_AddNumberToObject(po, "mem_bytes", (double)ch->mem_bytes);
        cJSON_AddItemToArray(passes, po);
    }
    cJSON_AddNumberToObject(o, "passes_lost", r->children_lost);
    return o;
}

/* The span instances kept one by one (compilations), newest first, with their passes. */
static cJSON *snapshot_instances(const struct store_proc *p, uint64_t *total)
{
    struct rows_instances in;
    cJSON *arr = cJSON_CreateArray();

    rows_build_instances(&in, p);
    *total = in.total;
    for (size_t k = 0; k < in.n; k++) {
        cJSON_AddItemToArray(arr, snapshot_compilation(&in.v[k], in.total - (uint64_t)k));
    }
    rows_instances_done(&in);
    return arr;
}

cJSON *snapshot_kernel_row(const struct row *r)
{
    cJSON *o = snapshot_timed_row(r);

    /* The docs/DESIGN.md kernel fields, beside the row fields. */
    cJSON_AddStringToObject(o, "name", r->label);
    cJSON_AddStringToObject(o, "backend", r->backend != NULL ? r->backend : "");
    snapshot_add_ms(o, "mean_ms", rows_stat_known(&r->win, r->flags & ROW_F_WIN, ROW_S_MEAN),
                    r->win.mean_ns);
    return o;
}

/* The seed's per-row figures, under its names: the row's pool, KV-pool and KV-cache MB now
 * and at peak (the peak as peak_total_mb has it: the current figure when none is known);
 * null when the row's source did not say. */
static void snapshot_add_parts(cJSON *o, const struct row *r)
{
    static const char *const names[ROW_NPARTS][2] = {
        [ROW_PART_POOL] = {"current_pool_mb", "peak_pool_mb"},
        [ROW_PART_KV] = {"current_kv_mb", "peak_kv_mb"},
        [ROW_PART_KV_CACHE] = {"current_kv_cache_mb", "peak_kv_cache_mb"},
    };
    bool peak = r->flags & ROW_F_PEAK;

    for (int k = 0; k < ROW_NPARTS; k++) {
        if ((r->flags & ROW_F_PARTS_ABSENT) == 0) {
            cJSON_AddNumberToObject(o, names[k][0], rows_mb(r->part_bytes[k]));
            cJSON_AddNumberToObject(o, names[k][1],
                                    rows_mb(peak ? r->part_peak_bytes[k] : r->part_bytes[k]));
        } else {
            cJSON_AddNullToObject(o, names[k][0]);
            cJSON_AddNullToObject(o, names[k][1]);
        }
    }
}

cJSON *snapshot_memory_row(const struct row *r)
{
    cJSON *o = cJSON_CreateObject();
    bool peak = r->flags & ROW_F_PEAK;

    cJSON_AddStringToObject(o, "label", r->label);
    cJSON_AddNumberToObject(o, "level", r->level);
    cJSON_AddNumberToObject(o, "current_total_mb", rows_mb(r->bytes));
    cJSON_AddNumberToObject(o, "peak_total_mb", rows_mb(peak ? r->peak_bytes : r->bytes));
    cJSON_AddStringToObject(o, "path", r->path);
    cJSON_AddNumberToObject(o, "bytes", (double)r->bytes);
    if (peak) {
        cJSON_AddNumberToObject(o, "peak_bytes", (double)r->peak_bytes);
    } else {
        cJSON_AddNullToObject(o, "peak_bytes");
    }
    cJSON_AddNumberToObject(o, "capacity_bytes",
                            (r->flags & ROW_F_CAPACITY) ? (double)r->capacity_bytes : 0);
    if (r->flags & ROW_F_DEVICE) {
        cJSON_AddTrueToObject(o, "device");
    }
    snapshot_add_parts(o, r);
    cJSON_AddNumberToObject(o, "children", r->nchildren);
    return o;
}

static void snapshot_add_marker(cJSON *o, const char *key, const struct rows_marker *m)
{
    cJSON *s;

    if (!m->valid) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    s = cJSON_AddObjectToObject(o, key);
    snapshot_add_ms(s, "last_ms", true, m->all.last_ns);
    snapshot_add_stats(s, &m->win, m->win.count > 0);
    snapshot_add_stats(cJSON_AddObjectToObject(s, "total"), &m->all, m->all.count > 0);
}

static void snapshot_add_tokens(cJSON *o, const char *key, const struct rows_tokens *t)
{
    cJSON *s;

    if (t->count == 0) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    s = cJSON_AddObjectToObject(o, key);
    cJSON_AddNumberToObject(s, "count", (double)t->count);
    cJSON_AddNumberToObject(s, "total", (double)t->sum);
    cJSON_AddNumberToObject(s, "average", (double)t->sum / (double)t->count);
    cJSON_AddNumberToObject(s, "p50", (double)t->p50);
    cJSON_AddNumberToObject(s, "p99", (double)t->p99);
    cJSON_AddNumberToObject(s, "max", (double)t->max);
}

/* Serving figures: null when the workload never marked a request. */
static void snapshot_add_requests(cJSON *o, const struct rows_requests *r)
{
    cJSON *q;

    if (!r->valid) {
        cJSON_AddNullToObject(o, "requests");
        return;
    }
    q = cJSON_AddObjectToObject(o, "requests");
    cJSON_AddNumberToObject(q, "running", (double)r->running);
    for (size_t k = 0; k < ROWS_REQUEST_RESULTS; k++) {
        cJSON_AddNumberToObject(q, k == 0 ? "finished" : rows_request_results[k],
                                (double)r->finished[k]);
    }
    cJSON_AddNumberToObject(q, "evicted", (double)r->evicted);
    cJSON_AddNumberToObject(q, "prompt_tokens", (double)r->prompt_tokens);
    cJSON_AddNumberToObject(q, "generation_tokens", (double)r->generation_tokens);
    snapshot_add_marker(q, "e2e_ms", &r->e2e);
    snapshot_add_tokens(q, "prompt_tokens_per_request", &r->prompt);
    snapshot_add_tokens(q, "generation_tokens_per_request", &r->generation);
}

/* The eBPF collector's view of a process: per-thread scheduler time, faults, syscalls. */
static void snapshot_add_bpf(cJSON *o, const struct rows_summary *sum)
{
    cJSON *b, *arr;

    if (!sum->sys_valid) {
        return; /* no eBPF collector: the key is left out, as before it existed */
    }
    b = cJSON_AddObjectToObject(o, "bpf");
    cJSON_AddNumberToObject(b, "dropped", (double)sum->bpf_dropped);
    cJSON_AddNumberToObject(b, "page_faults", (double)sum->faults);
    cJSON_AddNumberToObject(b, "minor_faults", (double)sum->minor_faults);
    cJSON_AddNumberToObject(b, "major_faults", (double)sum->major_faults);
    arr = cJSON_AddArrayToObject(b, "threads");
    for (size_t i = 0; i < sum->nthread_list; i++) {
        const struct rows_thread *t = &sum->threads[i];
        cJSON *th;

        if (!t->sched_valid) {
            continue;
        }
        th = cJSON_CreateObject();
        cJSON_AddNumberToObject(th, "tid", t->tid);
        cJSON_AddStringToObject(th, "name", t->name != NULL ? t->name : "");
        cJSON_AddBoolToObject(th, "exited", t->exited);
        cJSON_AddNumberToObject(th, "on_cpu_ms", rows_ms(t->oncpu_ns));
        cJSON_AddNumberToObject(th, "run_queue_ms", rows_ms(t->runq_ns));
        cJSON_AddNumberToObject(th, "blocked_ms", rows_ms(t->blocked_ns));
        cJSON_AddNumberToObject(th, "voluntary_switches", (double)t->vol_switches);
        cJSON_AddNumberToObject(th, "involuntary_switches", (double)t->invol_switches);
        cJSON_AddNumberToObject(th, "page_faults", (double)t->faults);
        cJSON_AddNumberToObject(th, "minor_faults", (double)t->minor_faults);
        cJSON_AddNumberToObject(th, "major_faults", (double)t->major_faults);
        cJSON_AddItemToArray(arr, th);
    }
    arr = cJSON_AddArrayToObject(b, "syscalls");
    for (size_t i = 0; i < sum->nsyscalls; i++) {
        const struct rows_syscall *c = &sum->syscalls[i];
        cJSON *sc = cJSON_CreateObject();

        cJSON_AddStringToObject(sc, "name", c->name);
        cJSON_AddNumberToObject(sc, "nr", c->nr);
        cJSON_AddNumberToObject(sc, "count", (double)c->count);
        cJSON_AddNumberToObject(sc, "total_ms", rows_ms(c->total_ns));
        cJSON_AddItemToArray(arr, sc);
    }
}

/* A number, or null when it is not known. */
static void snapshot_power_num(cJSON *o, const char *key, bool valid, double v)
{
    if (valid) {
        cJSON_AddNumberToObject(o, key, v);
    } else {
        cJSON_AddNullToObject(o, key);
    }
}

/* "gpu_energy": the energy per token of a workload on GPUs, measured on the devices when it is
 * alone on them; null for a workload on no GPU. */
static void snapshot_add_gpu_energy(cJSON *o, const struct store_proc *p, uint64_t now_ns)
{
    struct rows_gpu_energy e;
    cJSON *g, *devs;

    rows_build_gpu_energy(&e, p, now_ns);
    if (!e.on_gpu) {
        cJSON_AddNullToObject(o, "gpu_energy");
        return;
    }
    g = cJSON_AddObjectToObject(o, "gpu_energy");
    devs = cJSON_AddArrayToObject(g, "devices");
    for (uint32_t k = 0; k < e.ndevs; k++) {
        cJSON_AddItemToArray(devs, cJSON_CreateNumber(e.devs[k]));
    }
    snapshot_power_num(g, "power_w", e.power_valid, e.power_w);
    snapshot_power_num(g, "j_per_token", e.jpt_valid, e.j_per_token);
    if (e.jpt_valid) {
        cJSON_AddStringToObject(g, "source", "measured (device)");
        cJSON_AddNullToObject(g, "reason");
    } else {
        cJSON_AddNullToObject(g, "source");
        cJSON_AddStringToObject(g, "reason", e.reason);
    }
}

/* The figures of one network, layer or core: counts since start, rates over the window,
 * neurons, firing rate, queue occupancy, energy and its source (null: absent). */
static void snapshot_neuro_figures(cJSON *o, const struct row_neuro *f, const struct row *row)
{
    char key[64];

    snapshot_add_num(o, "neurons", (f->have & ROW_N_NEURONS) != 0, (double)f->neurons);
    snapshot_add_num(o, "firing_hz", (f->have & ROW_N_FIRING) != 0, f->firing_hz);
    for (int k = 0; k < ROW_NFIELDS; k++) {
        snapshot_add_num(o, rows_neuro_fields[k], (f->counted & 1U << k) != 0, (double)f->count[k]);
        snprintf(key, sizeof(key), "%s_per_sec", rows_neuro_fields[k]);
        snapshot_add_num(o, key, (f->rated & 1U << k) != 0, f->per_sec[k]);
    }
    snapshot_add_num(o, "buffer_occupancy_pct", (f->have & ROW_N_BUFFER) != 0, f->buffer_pct);
    snapshot_add_num(o, "energy_j", (f->have & ROW_N_ENERGY) != 0, f->energy_j);
    snapshot_add_num(o, "power_w", (f->have & ROW_N_POWER) != 0, f->power_w);
    snapshot_add_num(o, "energy_per_timestep_j", (f->have & ROW_N_STEP) != 0, f->step_j);
    if ((f->have & (ROW_N_ENERGY | ROW_N_POWER)) != 0) {
        cJSON_AddStringToObject(o, "energy_source",
                                (f->have & ROW_N_MEASURED) != 0 ? "measured" : "estimated");
    } else {
        cJSON_AddNullToObject(o, "energy_source");
    }
    if (row != NULL) {
        snapshot_add_num(o, "share_pct", (row->flags & ROW_F_SHARE) != 0, row->share_pct);
    }
}

cJSON *snapshot_neuro_row(const struct rows *rows, const struct row *r)
{
    const struct row_neuro *f = rows_neuro_of(rows, r);
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "label", r->label);
    cJSON_AddNumberToObject(o, "level", r->level);
    cJSON_AddStringToObject(o, "path", r->path);
    if (f != NULL) {
        snapshot_add_num(o, "layer", f->layer >= 0, f->layer);
        snapshot_add_num(o, "core", f->core >= 0, f->core);
        snapshot_neuro_figures(o, f, r);
    }
    return o;
}

/* "neuro": the network of a spiking workload (layers[] with cores[], totals), its timesteps
 * and its energy; null for a workload with neither spikes nor an energy figure. */
static void snapshot_add_neuro(cJSON *o, const struct store_proc *p, uint64_t now_ns,
                               const struct rows_summary *sum, struct rows *rows)
{
    const struct rows_neuro_sum *ns = &sum->neuro;
    const struct row_neuro *net = &ns->net;
    cJSON *n, *layers, *layer = NULL, *cores = NULL, *e;

    rows_clear(rows);
    rows_build_neuro(rows, p, now_ns);
    if (rows->n == 0 && !ns->spiking && (net->have & (ROW_N_ENERGY | ROW_N_POWER)) == 0) {
        cJSON_AddNullToObject(o, "neuro");
        return;
    }
    n = cJSON_AddObjectToObject(o, "neuro");
    if (ns->target != NULL) {
        cJSON_AddStringToObject(n, "target", ns->target);
    } else {
        cJSON_AddNullToObject(n, "target");
    }
    if (ns->chip != NULL) {
        cJSON_AddStringToObject(n, "chip", ns->chip);
    } else {
        cJSON_AddNullToObject(n, "chip");
    }
    snapshot_add_num(n, "timesteps", ns->timesteps_valid, (double)ns->timesteps);
    snapshot_add_num(n, "timesteps_per_sec", ns->timesteps_per_sec_valid, ns->timesteps_per_sec);
    snapshot_neuro_figures(cJSON_AddObjectToObject(n, "totals"), net, NULL);
    layers = cJSON_AddArrayToObject(n, "layers");
    for (size_t i = 0; i < rows->n; i++) {
        const struct row *row = &rows->v[i];
        const struct row_neuro *f = rows_neuro_of(rows, row);
        cJSON *x;

        if (f == NULL || f->layer < 0) {
            continue;
        }
        x = cJSON_CreateObject();
        if (f->core < 0) {
            cJSON_AddNumberToObject(x, "index", f->layer);
            snapshot_neuro_figures(x, f, row);
            cores = cJSON_AddArrayToObject(x, "cores");
            cJSON_AddItemToArray(layers, x);
            layer = x;
        } else if (layer != NULL) {
            cJSON_AddNumberToObject(x, "core", f->core);
            snapshot_neuro_figures(x, f, row);
            cJSON_AddItemToArray(cores, x);
        } else {
            cJSON_Delete(x);
        }
    }
    e = cJSON_AddObjectToObject(n, "energy");
    snapshot_add_num(e, "joules", (net->have & ROW_N_ENERGY) != 0, net->energy_j);
    snapshot_add_num(e, "watts", (net->have & ROW_N_POWER) != 0, net->power_w);
    snapshot_add_num(e, "per_timestep_j", (net->have & ROW_N_STEP) != 0, net->step_j);
    if ((net->have & (ROW_N_ENERGY | ROW_N_POWER)) != 0) {
        cJSON_AddStringToObject(e, "source",
                                (net->have & ROW_N_MEASURED) != 0 ? "measured" : "estimated");
        cJSON_AddBoolToObject(e, "lower_bound", (net->have & ROW_N_PARTIAL) != 0);
    } else {
        cJSON_AddNullToObject(e, "source");
        cJSON_AddNullToObject(e, "lower_bound");
    }
    if (ns->basis != NULL) {
        cJSON_AddStringToObject(e, "basis", ns->basis);
    } else {
        cJSON_AddNullToObject(e, "basis");
    }
}

static cJSON *snapshot_proc(const struct store_proc *p, uint64_t now_ns, struct rows *rows,
                            const struct store *baseline)
{
    cJSON *o = cJSON_CreateObject(), *arr, *counters, *rates, *host, *losses;
    struct rows_summary sum;

    rows_build_summary(&sum, p, now_ns);
    cJSON_AddNumberToObject(o, "pid", sum.pid);
    if (sum.ppid > 0) {
        cJSON_AddNumberToObject(o, "ppid", sum.ppid);
    } else {
        cJSON_AddNullToObject(o, "ppid");
    }
    cJSON_AddStringToObject(o, "label", sum.label != NULL ? sum.label : "");
    cJSON_AddStringToObject(o, "state", snapshot_state_name(sum.state, sum.replayed));
    if (sum.reason != NULL) {
        cJSON_AddStringToObject(o, "reason", sum.reason);
    } else {
        cJSON_AddNullToObject(o, "reason");
    }
    if (sum.exit_valid && sum.exit_signal == 0) {
        cJSON_AddNumberToObject(o, "exit_status", sum.exit_status);
    } else {
        cJSON_AddNullToObject(o, "exit_status");
    }
    if (sum.exit_valid && sum.exit_signal != 0) {
        cJSON_AddNumberToObject(o, "exit_signal", sum.exit_signal);
    } else {
        cJSON_AddNullToObject(o, "exit_signal");
    }
    if (sum.clock != NULL) {
        cJSON_AddStringToObject(o, "clock", sum.clock);
    } else {
        cJSON_AddNullToObject(o, "clock");
    }
    cJSON_AddNumberToObject(o, "dropped", (double)sum.dropped);
    losses = cJSON_AddObjectToObject(o, "losses");
    for (size_t k = 0; k < ROWS_LOSS_KINDS; k++) {
        cJSON_AddNumberToObject(losses, rows_loss_names[k], (double)sum.losses[k]);
    }
    cJSON_AddNumberToObject(losses, "late_span_ends", (double)sum.late_ends);
    cJSON_AddNumberToObject(o, "folded_spans", (double)sum.folded);
    cJSON_AddNumberToObject(o, "invalid", (double)sum.invalid);
    if (sum.invalid_reason != NULL) {
        cJSON_AddStringToObject(o, "invalid_reason", sum.invalid_reason);
    }
    cJSON_AddNumberToObject(o, "events", (double)sum.events);
    cJSON_AddNumberToObject(o, "events_per_sec", sum.events_per_sec);
    cJSON_AddNumberToObject(o, "threads", (double)sum.nthreads);
    host = cJSON_AddObjectToObject(o, "host");
    if (sum.host_valid) {
        cJSON_AddNumberToObject(host, "rss_bytes", (double)sum.rss_bytes);
        cJSON_AddNumberToObject(host, "rss_peak_bytes", (double)sum.rss_peak_bytes);
    } else {
        cJSON_AddNullToObject(host, "rss_bytes");
        cJSON_AddNullToObject(host, "rss_peak_bytes");
    }
    if (sum.cpu_valid) {
        cJSON_AddNumberToObject(host, "cpu_pct", sum.cpu_pct);
    } else {
        cJSON_AddNullToObject(host, "cpu_pct");
    }
    if (sum.host_valid) {
        cJSON_AddNumberToObject(host, "cpu_time_ms", rows_ms(sum.cpu_time_ns));
    } else {
        cJSON_AddNullToObject(host, "cpu_time_ms");
    }

    rows_clear(rows);
    rows_build_latency(rows, p, now_ns);
    rows_compare_baseline(rows, 0, baseline, sum.label);
    arr = cJSON_AddArrayToObject(o, "latency");
    for (size_t i = 0; i < rows->n; i++) {
        cJSON_AddItemToArray(arr, snapshot_latency_row(&rows->v[i]));
    }
    rows_clear(rows);
    rows_build_memory(rows, p, now_ns);
    arr = cJSON_AddArrayToObject(o, "memory");
    for (size_t i = 0; i < rows->n; i++) {
        cJSON_AddItemToArray(arr, snapshot_memory_row(&rows->v[i]));
    }
    rows_clear(rows);
    rows_build_kernels(rows, p, now_ns);
    arr = cJSON_AddArrayToObject(o, "kernels");
    for (size_t i = 0; i < rows->n; i++) {
        cJSON_AddItemToArray(arr, snapshot_kernel_row(&rows->v[i]));
    }
    {
        uint64_t total = 0;

        cJSON_AddItemToObject(o, "compilations", snapshot_instances(p, &total));
        cJSON_AddNumberToObject(o, "compilations_total", (double)total);
    }

    arr = cJSON_AddObjectToObject(o, "attributes");
    for (size_t i = 0; i < sum.nattrs; i++) {
        cJSON_AddStringToObject(arr, sum.attrs[i].key, sum.attrs[i].value);
    }
    arr = cJSON_AddArrayToObject(o, "values");
    for (size_t i = 0; i < sum.nvalues; i++) {
        const struct rows_value *v = &sum.values[i];
        cJSON *jv = cJSON_CreateObject();

        cJSON_AddStringToObject(jv, "name", v->name);
        if (isfinite(v->value)) {
            cJSON_AddNumberToObject(jv, "value", v->value);
        } else {
            cJSON_AddNullToObject(jv, "value");
        }
        cJSON_AddStringToObject(jv, "unit", v->unit);
        cJSON_AddItemToArray(arr, jv);
    }

    cJSON_AddItemToObject(o, "matrices", snapshot_matrices(&sum));

    counters = cJSON_AddObjectToObject(o, "counters");
    rates = cJSON_AddObjectToObject(o, "rates");
    for (size_t i = 0; i < sum.ncounters; i++) {
        const struct rows_counter *c = &sum.counters[i];
        char key[160];

        cJSON_AddNumberToObject(counters, c->name, (double)c->value);
        snprintf(key, sizeof(key), "%s_per_sec", c->name);
        if (c->rate_valid) {
            cJSON_AddNumberToObject(rates, key, c->per_sec);
        } else {
            cJSON_AddNullToObject(rates, key);
        }
    }
    snapshot_add_marker(o, "step_ms", &sum.step);
    if (sum.step_source != NULL) {
        cJSON_AddStringToObject(o, "step_source", sum.step_source);
    } else {
        cJSON_AddNullToObject(o, "step_source");
    }
    snapshot_add_marker(o, "ttft_ms", &sum.ttft);
    snapshot_add_marker(o, "itl_ms", &sum.itl);
    snapshot_add_requests(o, &sum.requests);
    snapshot_add_neuro(o, p, now_ns, &sum, rows);
    snapshot_add_bpf(o, &sum);
    snapshot_add_gpu_energy(o, p, now_ns);
    rows_summary_done(&sum);
    return o;
}

/* A GPU's power and energy counter, measured by its driver; null when it gives none. */
static void snapshot_add_gpu_power(cJSON *o, const struct rows_gpu *d)
{
    snapshot_power_num(o, "power_w", d->power_valid, d->power_w);
    snapshot_power_num(o, "energy_j", d->energy_valid, d->energy_j);
}

/* "power": the machine's RAPL zones, measured; without them, "state" says why. */
static void snapshot_add_power(cJSON *root, const struct store *st, uint64_t now_ns)
{
    struct rows_power pw;
    cJSON *o = cJSON_AddObjectToObject(root, "power");
    cJSON *arr = cJSON_AddArrayToObject(o, "rapl");

    rows_build_power(&pw, st, now_ns);
    for (size_t i = 0; i < pw.n; i++) {
        cJSON *z = cJSON_CreateObject();

        cJSON_AddStringToObject(z, "zone", pw.v[i].zone);
        snapshot_power_num(z, "power_w", pw.v[i].power_valid, pw.v[i].power_w);
        cJSON_AddNumberToObject(z, "energy_j", pw.v[i].energy_j);
        cJSON_AddItemToArray(arr, z);
    }
    if (pw.n > 0) {
        cJSON_AddStringToObject(o, "source", "measured");
    } else {
        cJSON_AddNullToObject(o, "source");
    }
    if (pw.state != NULL) {
        cJSON_AddStringToObject(o, "state", pw.state);
    } else {
        cJSON_AddNullToObject(o, "state");
    }
    rows_power_done(&pw);
}

/* The machine's GPUs: "gpus" (empty without a GPU) and, when the probe fails, "gpu_error". */
static void snapshot_add_gpus(cJSON *root, const struct store *st)
{
    struct rows_gpus g;
    cJSON *arr = cJSON_AddArrayToObject(root, "gpus");

    rows_build_gpus(&g, st);
    for (size_t i = 0; i < g.n; i++) {
        const struct rows_gpu *d = &g.v[i];
        cJSON *o = cJSON_CreateObject();

        cJSON_AddNumberToObject(o, "index", d->index);
        cJSON_AddStringToObject(o, "name", d->name);
        if (d->util_valid) {
            cJSON_AddNumberToObject(o, "utilization_pct", d->util_pct);
        } else {
            cJSON_AddNullToObject(o, "utilization_pct");
        }
        if (d->mem_valid) {
            cJSON_AddNumberToObject(o, "memory_used_bytes", (double)d->mem_used_bytes);
            cJSON_AddNumberToObject(o, "memory_total_bytes", (double)d->mem_total_bytes);
        } else {
            cJSON_AddNullToObject(o, "memory_used_bytes");
            cJSON_AddNullToObject(o, "memory_total_bytes");
        }
        snapshot_add_gpu_power(o, d);
        cJSON_AddItemToArray(arr, o);
    }
    if (g.error != NULL) {
        cJSON_AddStringToObject(root, "gpu_error", g.error);
    }
    rows_gpus_done(&g);
}

cJSON *snapshot_build(const struct store *st, uint64_t now_ns, uint64_t real_ns)
{
    return snapshot_build_against(st, NULL, now_ns, real_ns);
}

cJSON *snapshot_build_against(const struct store *st, const struct snapshot_baseline *base,
                              uint64_t now_ns, uint64_t real_ns)
{
    cJSON *root = cJSON_CreateObject(), *procs;
    struct rows rows;
    char ts[40];

    /* A replayed trace that carries no wall clock has no time of day: null, not 1970. */
    if (real_ns == 0) {
        cJSON_AddNullToObject(root, "timestamp");
    } else {
        util_format_utc_ms(real_ns, ts, sizeof(ts));
        cJSON_AddStringToObject(root, "timestamp", ts);
    }
    cJSON_AddStringToObject(root, "nctop_version", NCTOP_VERSION);
    cJSON_AddNumberToObject(root, "window_s",
                            (double)store_config(st)->window_ns / (double)UTIL_NS_PER_SEC);
    procs = cJSON_AddArrayToObject(root, "processes");
    rows_init(&rows);
    for (size_t i = 0; i < store_nprocs(st); i++) {
        cJSON_AddItemToArray(procs, snapshot_proc(store_proc_at(st, i), now_ns, &rows,
                                                  base != NULL ? base->store : NULL));
    }
    rows_done(&rows);
    if (base != NULL && base->store != NULL) {
        cJSON *b = cJSON_AddObjectToObject(root, "baseline");

        cJSON_AddStringToObject(b, "file", base->file != NULL ? base->file : "");
        cJSON_AddNumberToObject(b, "processes", (double)store_nprocs(base->store));
    }
    snapshot_add_gpus(root, st);
    snapshot_add_power(root, st, now_ns);
    return root;
}

/* The time of day of a moment of the run's clock: now's wall clock less the time since. */
static void snapshot_add_moment(cJSON *o, const char *key, uint64_t at_ns, uint64_t now_ns,
                                uint64_t real_ns)
{
    char ts[40];

    if (real_ns == 0 || at_ns == 0) {
        cJSON_AddNullToObject(o, key);
        return;
    }
    util_format_utc_ms(real_ns - (now_ns > at_ns ? now_ns - at_ns : 0), ts, sizeof(ts));
    cJSON_AddStringToObject(o, key, ts);
}

cJSON *snapshot_alerts(const struct alerts *a, uint64_t now_ns, uint64_t real_ns)
{
    cJSON *arr = cJSON_CreateArray();

    for (size_t i = 0; i < alerts_count(a); i++) {
        const struct alert *al = alerts_at(a, i);
        cJSON *o = cJSON_CreateObject();
        bool firing = al->state == ALERT_FIRING;

        cJSON_AddStringToObject(o, "name", al->rule);
        cJSON_AddStringToObject(o, "severity", alerts_severity_name(al->severity));
        cJSON_AddStringToObject(o, "state", firing ? "firing" : "pending");
        snapshot_add_moment(o, "since", firing ? al->since_ns : al->pending_ns, now_ns, real_ns);
        cJSON_AddNumberToObject(
            o, "active_s", now_ns > al->pending_ns ? (double)(now_ns - al->pending_ns) / 1e9 : 0);
        cJSON_AddStringToObject(o, "kind", alerts_kind_name(al->kind));
        if (al->pid != 0) {
            cJSON_AddNumberToObject(o, "pid", al->pid);
            cJSON_AddStringToObject(o, "workload", al->workload);
        } else {
            cJSON_AddNullToObject(o, "pid");
            cJSON_AddNullToObject(o, "workload");
        }
        cJSON_AddStringToObject(o, "object", al->object);
        cJSON_AddNumberToObject(o, "value", al->value);
        cJSON_AddNumberToObject(o, "threshold", al->threshold);
        cJSON_AddStringToObject(o, "unit", alerts_kind_unit(al->kind));
        cJSON_AddStringToObject(o, "detail", al->detail);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

int snapshot_write_against(FILE *out, const struct store *st, const struct snapshot_baseline *base,
                           uint64_t now_ns, uint64_t real_ns)
{
    return snapshot_write_full(out, st, base, NULL, now_ns, real_ns, NULL);
}

int snapshot_write_otlp(FILE *out, const struct store *st, const struct snapshot_baseline *base,
                        uint64_t now_ns, uint64_t real_ns, const struct otlp_stats *otlp)
{
    return snapshot_write_full(out, st, base, NULL, now_ns, real_ns, otlp);
}

int snapshot_write_full(FILE *out, const struct store *st, const struct snapshot_baseline *base,
                        const struct alerts *a, uint64_t now_ns, uint64_t real_ns,
                        const struct otlp_stats *otlp)
{
    cJSON *root = snapshot_build_against(st, base, now_ns, real_ns);
    char *text;
    int rc = 0;

    if (a != NULL) {
        cJSON_AddItemToObject(root, "alerts", snapshot_alerts(a, now_ns, real_ns));
    }
    if (otlp != NULL) {
        cJSON *o = cJSON_AddObjectToObject(root, "otlp");

        cJSON_AddNumberToObject(o, "exported", (double)otlp->exported);
        cJSON_AddNumberToObject(o, "dropped", (double)otlp->dropped);
        cJSON_AddNumberToObject(o, "retries", (double)otlp->retries);
        cJSON_AddNumberToObject(o, "queued", (double)otlp->queued);
        cJSON_AddNumberToObject(o, "spans", (double)otlp->spans);
        if (otlp->last_error[0] != '\0') {
            cJSON_AddStringToObject(o, "last_error", otlp->last_error);
        } else {
            cJSON_AddNullToObject(o, "last_error");
        }
    }
    text = cJSON_PrintUnformatted(root);

    cJSON_Delete(root);
    if (text == NULL) {
        return -ENOMEM;
    }
    if (fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) == EOF) {
        rc = -errno;
    }
    cJSON_free(text);
    return rc;
}

int snapshot_write(FILE *out, const struct store *st, uint64_t now_ns, uint64_t real_ns)
{
    return snapshot_write_full(out, st, NULL, NULL, now_ns, real_ns, NULL);
}
