/* SPDX-License-Identifier: MIT */
/* JSONL inputs of replay: nctop and seed logs (rows with label and level, the tree rebuilt
 * from the levels) and ProfileRecord lines, converted line by line into recording records. */
#include "collectors/replay_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record.h"
#include "store.h"
#include "util.h"
#include "xalloc.h"

#define REPLAY_MAX_LEVEL 255U /* deepest tree level read from a log */
/* The bounds of numbers that become integers: inside them every conversion is defined (a
 * double outside an integer type's range has no conversion: undefined behaviour). */
#define REPLAY_MAX_BYTES 9.0e18 /* byte counts (int64) */
#define REPLAY_MAX_MB 8.5e12    /* megabytes, so that MB * 2^20 stays under REPLAY_MAX_BYTES */
#define REPLAY_MAX_COUNT 1.0e18 /* call counts */
#define REPLAY_MAX_TS_MS 9.0e12 /* ProfileRecord times: ms since the epoch (year 2255) */
#define REPLAY_MAX_VALUE 1.0e12 /* ProfileRecord values: ms or events per second */

struct replay_centry {
    uint64_t hash;
    uint32_t proc;
    uint32_t id; /* 0: empty slot */
    char *s;
};

struct replay_cproc {
    int32_t pid;
    char *label;
    uint32_t nnames;
    uint64_t line_cleared;  /* the log line whose memory rows replaced this process's */
    uint64_t counter_ts[2]; /* ProfileRecord: last time of tokens/spikes per second */
    double counter_val[2];
};

struct replay_cthread {
    uint32_t proc;
    int64_t tid;
};

/* A slot of the open-addressing indexes over processes and threads (0: empty). */
struct replay_cslot {
    uint64_t hash;
    uint32_t idx1; /* index + 1 */
};

struct replay_conv {
    struct record_writer *w;
    struct replay_cproc *procs;
    uint32_t nprocs;
    struct replay_centry *names; /* open addressing over (proc, string) */
    uint32_t names_cap;
    uint32_t names_n;
    struct replay_cthread *threads;
    uint32_t nthreads;
    uint32_t procs_cap, threads_cap;
    /* (pid, label) -> process and (proc, tid) -> thread, so each lookup is O(1): traces can
     * hold tens of thousands of threads or processes. */
    struct replay_cslot *proc_ix, *thread_ix;
    uint32_t proc_ix_cap, thread_ix_cap;
    bool ticked;
    uint64_t last_tick;
};

struct replay_conv *replay_conv_new(struct record_writer *w)
{
    struct replay_conv *c = xcalloc(1, sizeof(*c));

    c->w = w;
    c->names_cap = 1024;
    c->names = xcalloc(c->names_cap, sizeof(*c->names));
    return c;
}

void replay_conv_free(struct replay_conv *c)
{
    if (c == NULL) {
        return;
    }
    for (uint32_t i = 0; i < c->names_cap; i++) {
        free(c->names[i].s);
    }
    for (uint32_t i = 0; i < c->nprocs; i++) {
        free(c->procs[i].label);
    }
    free(c->names);
    free(c->procs);
    free(c->threads);
    free(c->proc_ix);
    free(c->thread_ix);
    free(c);
}

struct record_writer *replay_conv_writer(struct replay_conv *c)
{
    return c->w;
}

static uint64_t replay_hash(uint32_t proc, const char *s);

/* Find the slot of hash h in an index whose entries eq() tells apart; returns the empty slot
 * where it belongs when absent. The index is kept at most half full. */
static struct replay_cslot *replay_ix_find(struct replay_cslot *ix, uint32_t cap, uint64_t h,
                                           bool (*eq)(const struct replay_conv *, uint32_t,
                                                      const void *),
                                           const struct replay_conv *c, const void *key)
{
    uint32_t i = (uint32_t)h & (cap - 1U);

    while (ix[i].idx1 != 0 && !(ix[i].hash == h && eq(c, ix[i].idx1 - 1U, key))) {
        i = (i + 1U) & (cap - 1U);
    }
    return &ix[i];
}

/* Add (h, idx) to an index of n entries (n counts the new one), growing it when half full. */
static void replay_ix_add(struct replay_cslot **ix, uint32_t *cap, uint32_t n, uint64_t h,
                          uint32_t idx)
{
    uint32_t i;

    if (n * 2U > *cap) {
        struct replay_cslot *old = *ix;
        uint32_t ocap = *cap;

        *cap = ocap != 0 ? ocap * 2U : 64U;
        *ix = xcalloc(*cap, sizeof(**ix));
        for (uint32_t k = 0; k < ocap; k++) {
            if (old[k].idx1 != 0) {
                for (i = (uint32_t)old[k].hash & (*cap - 1U); (*ix)[i].idx1 != 0;
                     i = (i + 1U) & (*cap - 1U)) {
                    continue;
                }
                (*ix)[i] = old[k];
            }
        }
        free(old);
    }
    for (i = (uint32_t)h & (*cap - 1U); (*ix)[i].idx1 != 0; i = (i + 1U) & (*cap - 1U)) {
        continue;
    }
    (*ix)[i].hash = h;
    (*ix)[i].idx1 = idx + 1U;
}

struct replay_pkey {
    int32_t pid;
    const char *label;
};

static bool replay_proc_eq(const struct replay_conv *c, uint32_t i, const void *key)
{
    const struct replay_pkey *k = key;

    return c->procs[i].pid == k->pid && strcmp(c->procs[i].label, k->label) == 0;
}

static bool replay_thread_eq(const struct replay_conv *c, uint32_t i, const void *key)
{
    const struct replay_cthread *k = key;

    return c->threads[i].proc == k->proc && c->threads[i].tid == k->tid;
}

uint32_t replay_conv_proc(struct replay_conv *c, int32_t pid, const char *label)
{
    struct record_ev ev = {.type = STORE_EV_PROC_ADD};
    struct replay_pkey key = {.pid = pid, .label = label};
    uint64_t h = replay_hash((uint32_t)pid, label);

    if (c->proc_ix != NULL) {
        struct replay_cslot *slot =
            replay_ix_find(c->proc_ix, c->proc_ix_cap, h, replay_proc_eq, c, &key);

        if (slot->idx1 != 0) {
            return slot->idx1 - 1U;
        }
    }
    if (c->nprocs == c->procs_cap) {
        c->procs_cap = c->procs_cap != 0 ? c->procs_cap * 2U : 16U;
        c->procs = xreallocarray(c->procs, c->procs_cap, sizeof(*c->procs));
    }
    memset(&c->procs[c->nprocs], 0, sizeof(c->procs[0]));
    c->procs[c->nprocs].pid = pid;
    c->procs[c->nprocs].label = xstrdup(label);
    replay_ix_add(&c->proc_ix, &c->proc_ix_cap, c->nprocs + 1U, h, c->nprocs);
    ev.i = pid;
    ev.str = label;
    ev.str_len = strlen(label);
    record_writer_put(c->w, &ev);
    return c->nprocs++;
}

static uint64_t replay_hash(uint32_t proc, const char *s)
{
    uint64_t h = 1469598103934665603ULL ^ proc;

    while (*s != '\0') {
        h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
    }
    return h;
}

uint32_t replay_conv_name(struct replay_conv *c, uint32_t proc, const char *name)
{
    uint64_t h = replay_hash(proc, name);
    uint32_t i = (uint32_t)h & (c->names_cap - 1U);
    struct record_ev ev = {.type = STORE_EV_NAME, .proc = proc};

    while (c->names[i].id != 0) {
        if (c->names[i].hash == h && c->names[i].proc == proc && strcmp(c->names[i].s, name) == 0) {
            return c->names[i].id;
        }
        i = (i + 1U) & (c->names_cap - 1U);
    }
    c->names[i].hash = h;
    c->names[i].proc = proc;
    c->names[i].id = ++c->procs[proc].nnames;
    c->names[i].s = xstrdup(name);
    ev.id = c->names[i].id;
    ev.str = name;
    ev.str_len = strlen(name);
    record_writer_put(c->w, &ev);
    if (++c->names_n * 2U > c->names_cap) {
        /* Grow: keep the table at most half full. */
        struct replay_centry *old = c->names;
        uint32_t ocap = c->names_cap;

        c->names_cap *= 2U;
        c->names = xcalloc(c->names_cap, sizeof(*c->names));
        for (uint32_t k = 0; k < ocap; k++) {
            if (old[k].id != 0) {
                uint32_t j = (uint32_t)old[k].hash & (c->names_cap - 1U);

                while (c->names[j].id != 0) {
                    j = (j + 1U) & (c->names_cap - 1U);
                }
                c->names[j] = old[k];
            }
        }
        free(old);
    }
    return ev.id;
}

uint32_t replay_conv_thread(struct replay_conv *c, uint32_t proc, int64_t tid, const char *name)
{
    struct record_ev ev = {.type = STORE_EV_THREAD_ADD, .proc = proc};
    struct replay_cthread key = {.proc = proc, .tid = tid};
    uint64_t h = ((uint64_t)tid * 0x9E3779B97F4A7C15ULL) ^ ((uint64_t)proc * 0xC2B2AE3D27D4EB4FULL);

    if (c->thread_ix != NULL) {
        struct replay_cslot *slot =
            replay_ix_find(c->thread_ix, c->thread_ix_cap, h, replay_thread_eq, c, &key);

        if (slot->idx1 != 0) {
            return slot->idx1 - 1U;
        }
    }
    if (c->nthreads == c->threads_cap) {
        c->threads_cap = c->threads_cap != 0 ? c->threads_cap * 2U : 16U;
        c->threads = xreallocarray(c->threads, c->threads_cap, sizeof(*c->threads));
    }
    c->threads[c->nthreads] = key;
    replay_ix_add(&c->thread_ix, &c->thread_ix_cap, c->nthreads + 1U, h, c->nthreads);
    ev.thread = c->nthreads;
    ev.i = tid;
    ev.str = name;
    ev.str_len = name != NULL ? strlen(name) : 0;
    record_writer_put(c->w, &ev);
    return c->nthreads++;
}

void replay_conv_tick(struct replay_conv *c, uint64_t ts_ns, uint64_t min_step_ns)
{
    if (c->ticked && ts_ns < c->last_tick + min_step_ns) {
        return;
    }
    c->ticked = true;
    c->last_tick = ts_ns;
    record_writer_tick(c->w, ts_ns);
}

/* --- field helpers ------------------------------------------------------------------------ */

/* A duration in ms as ns; 0 when absent, null, negative or not a number. */
static uint64_t replay_ms(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0 ||
        v->valuedouble > 1e12) {
        return 0;
    }
    return (uint64_t)llround(v->valuedouble * 1e6);
}

/* A number field within [lo, hi]: 1 with *out set, 0 when absent (or not a number), -1 when
 * present but infinite or out of range, which callers refuse with a problem. */
static int replay_num_in(const cJSON *o, const char *key, double lo, double hi, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsNumber(v)) {
        return 0;
    }
    if (!(v->valuedouble >= lo && v->valuedouble <= hi)) {
        return -1;
    }
    *out = v->valuedouble;
    return 1;
}

static bool replay_num(const cJSON *o, const char *key, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        return false;
    }
    *out = v->valuedouble;
    return true;
}

/* "2026-11-22T10:15:30.123Z" (fraction optional, any number of digits) as ns since the
 * epoch; false when it is not that. */
static bool replay_parse_utc(const char *s, uint64_t *out)
{
    struct tm tm;
    int n = 0;
    uint64_t frac = 0, scale = UTIL_NS_PER_SEC;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6) {
        return false;
    }
    s += n;
    if (*s == '.') {
        s++;
        while (*s >= '0' && *s <= '9') {
            if (scale > 1) {
                scale /= 10;
                frac += (uint64_t)(*s - '0') * scale;
            }
            s++;
        }
    }
    if (strcmp(s, "Z") != 0 || tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12) {
        return false;
    }
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    t = timegm(&tm);
    if (t < 0) {
        return false;
    }
    *out = (uint64_t)t * UTIL_NS_PER_SEC + frac;
    return true;
}

/* The workload a log row belongs to: its pid and process fields (nctop logs), else the run
 * named by the file (seed logs: "<stamp>-latency.jsonl" and "<stamp>-memory.jsonl" join). */
static uint32_t replay_row_proc(struct replay_conv *c, const cJSON *row, const char *file)
{
    const cJSON *pid = cJSON_GetObjectItemCaseSensitive(row, "pid");
    const cJSON *label = cJSON_GetObjectItemCaseSensitive(row, "process");
    char name[128];
    const char *base = strrchr(file, '/');
    char *dash;

    /* The caller checked that a numeric pid fits an int32. */
    if (cJSON_IsNumber(pid) && cJSON_IsString(label)) {
        return replay_conv_proc(c, (int32_t)pid->valuedouble, label->valuestring);
    }
    snprintf(name, sizeof(name), "%s", base != NULL ? base + 1 : file);
    dash = strstr(name, "-latency.jsonl");
    if (dash == NULL) {
        dash = strstr(name, "-memory.jsonl");
    }
    if (dash != NULL) {
        *dash = '\0';
    }
    return replay_conv_proc(c, cJSON_IsNumber(pid) ? (int32_t)pid->valuedouble : 0, name);
}

/* One log line: latency rows become node imports, memory rows replace the process's
 * imported memory rows. Returns false when the line is not a log line. */
static bool replay_log_line(struct replay_conv *c, const cJSON *root, const char *file, size_t line,
                            struct replay_problems *pr, uint64_t lineno)
{
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "timestamp");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "rows");
    const cJSON *row;
    uint32_t path[REPLAY_MAX_LEVEL + 1U];
    uint64_t t;
    long prev_level[2] = {-1, -1}; /* latency rows, memory rows: two trees, two level chains */
    uint32_t prev_proc = UINT32_MAX;
    size_t k = 0;

    if (!cJSON_IsString(ts) || !cJSON_IsArray(rows)) {
        return false;
    }
    if (!replay_parse_utc(ts->valuestring, &t)) {
        replay_problem(pr, file, line, "bad timestamp '%.40s'", ts->valuestring);
        return true;
    }
    cJSON_ArrayForEach(row, rows)
    {
        const cJSON *label = cJSON_GetObjectItemCaseSensitive(row, "label");
        double level, num, n = 0, mb = 0, bytes = 0, peak = 0, cap = 0;
        int has_bytes, has_mb, has_peak, has_peak_mb, has_cap;
        bool mem;
        uint32_t proc;
        struct record_ev ev;

        k++;
        if (!cJSON_IsString(label) || !replay_num(row, "level", &level) || level < 0 ||
            level > REPLAY_MAX_LEVEL || level != floor(level)) {
            replay_problem(pr, file, line, "row %zu: no label or level", k);
            continue;
        }
        /* Every number that becomes an integer is checked before anything is made of it. */
        has_bytes = replay_num_in(row, "bytes", -REPLAY_MAX_BYTES, REPLAY_MAX_BYTES, &bytes);
        has_mb = replay_num_in(row, "current_total_mb", -REPLAY_MAX_MB, REPLAY_MAX_MB, &mb);
        has_peak = replay_num_in(row, "peak_bytes", -REPLAY_MAX_BYTES, REPLAY_MAX_BYTES, &peak);
        has_peak_mb = replay_num_in(row, "peak_total_mb", -REPLAY_MAX_MB, REPLAY_MAX_MB, &num);
        has_cap = replay_num_in(row, "capacity_bytes", -REPLAY_MAX_BYTES, REPLAY_MAX_BYTES, &cap);
        if (replay_num_in(row, "pid", INT32_MIN, INT32_MAX, &num) < 0 ||
            replay_num_in(row, "count", -REPLAY_MAX_COUNT, REPLAY_MAX_COUNT, &n) < 0 ||
            has_bytes < 0 || has_mb < 0 || has_peak < 0 || has_peak_mb < 0 || has_cap < 0) {
            replay_problem(pr, file, line, "row %zu: a number out of range", k);
            continue;
        }
        proc = replay_row_proc(c, row, file);
        mem = cJSON_GetObjectItemCaseSensitive(row, "current_total_mb") != NULL ||
              cJSON_GetObjectItemCaseSensitive(row, "bytes") != NULL;
        if (proc != prev_proc) {
            prev_level[0] = prev_level[1] = -1;
            prev_proc = proc;
        }
        /* A memory row's parent is the memory row above it, never a latency row. */
        if ((long)level > prev_level[mem] + 1) {
            replay_problem(pr, file, line, "row %zu: level %d under level %ld", k, (int)level,
                           prev_level[mem]);
            continue;
        }
        prev_level[mem] = (long)level;
        path[(size_t)level] = replay_conv_name(c, proc, label->valuestring);
        memset(&ev, 0, sizeof(ev));
        ev.proc = proc;
        if (mem) {
            if (c->procs[proc].line_cleared != lineno) {
                struct record_ev clr = {.type = STORE_EV_MEM_IMPORT_CLEAR, .proc = proc};

                record_writer_put(c->w, &clr);
                c->procs[proc].line_cleared = lineno;
            }
            ev.type = STORE_EV_MEM_IMPORT;
            ev.level = (uint16_t)level;
            ev.id = path[(size_t)level];
            if (has_bytes == 0) {
                bytes = mb * 1048576.0;
            }
            ev.i = (int64_t)llround(bytes);
            /* nctop writes peak_bytes (null when unknown); the seed only peak_total_mb. */
            if (cJSON_GetObjectItemCaseSensitive(row, "peak_bytes") != NULL
                    ? has_peak > 0
                    : (replay_num(row, "peak_total_mb", &peak) && (peak *= 1048576.0, true))) {
                ev.a = (uint64_t)(int64_t)llround(peak);
                ev.aux |= STORE_IMPORT_PEAK;
            }
            if (has_cap > 0 && cap > 0) {
                ev.b = (uint64_t)llround(cap);
            }
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "device"))) {
                ev.aux |= STORE_MEM_DEVICE;
            }
        } else {
            double share;

            ev.type = STORE_EV_NODE_IMPORT;
            ev.ts_ns = t;
            ev.depth = (uint32_t)level + 1U;
            ev.path = path;
            if (n > 0) {
                ev.stats.count = (uint64_t)n;
            }
            ev.stats.last_ns = replay_ms(row, "last_ms");
            ev.stats.mean_ns = replay_ms(row, "average_ms");
            ev.stats.min_ns = replay_ms(row, "min_ms");
            ev.stats.max_ns = replay_ms(row, "max_ms");
            ev.stats.p50_ns = replay_ms(row, "p50_ms");
            ev.stats.p95_ns = replay_ms(row, "p95_ms");
            ev.stats.p99_ns = replay_ms(row, "p99_ms");
            ev.stats.total_ns = replay_ms(row, "total_ms");
            if (replay_num(row, "share_pct", &share)) {
                ev.stats.share_valid = true;
                ev.stats.share_pct = share;
            }
        }
        record_writer_put(c->w, &ev);
    }
    replay_conv_tick(c, t, 0);
    return true;
}

/* One ProfileRecord line. Returns false when the line is not one. */
static bool replay_profile_line(struct replay_conv *c, const cJSON *root, const char *file,
                                size_t line, struct replay_problems *pr)
{
    const cJSON *metric = cJSON_GetObjectItemCaseSensitive(root, "metric");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(root, "labels");
    const cJSON *v;
    double ts_ms, value;
    int32_t pid = 0;
    const char *label = "profile", *path = NULL;
    uint32_t proc;
    uint64_t t;
    struct record_ev ev;

    if (!cJSON_IsString(metric) || !replay_num(root, "ts_ms", &ts_ms)) {
        return false;
    }
    if (!replay_num(root, "value", &value) || ts_ms < 0 || ts_ms > REPLAY_MAX_TS_MS) {
        replay_problem(pr, file, line, "ProfileRecord without a numeric value or time");
        return true;
    }
    if (value < -REPLAY_MAX_VALUE || value > REPLAY_MAX_VALUE) {
        replay_problem(pr, file, line, "ProfileRecord value out of range");
        return true;
    }
    t = (uint64_t)llround(ts_ms * 1e6);
    if (cJSON_IsObject(labels)) {
        v = cJSON_GetObjectItemCaseSensitive(labels, "pid");
        if (cJSON_IsString(v)) {
            long n = strtol(v->valuestring, NULL, 10);

            if (n < INT32_MIN || n > INT32_MAX) {
                replay_problem(pr, file, line, "ProfileRecord pid out of range");
                return true;
            }
            pid = (int32_t)n;
        } else if (cJSON_IsNumber(v)) {
            if (!(v->valuedouble >= INT32_MIN && v->valuedouble <= INT32_MAX)) {
                replay_problem(pr, file, line, "ProfileRecord pid out of range");
                return true;
            }
            pid = (int32_t)v->valuedouble;
        }
        v = cJSON_GetObjectItemCaseSensitive(labels, "label");
        if (cJSON_IsString(v)) {
            label = v->valuestring;
        }
        v = cJSON_GetObjectItemCaseSensitive(labels, "path");
        if (cJSON_IsString(v)) {
            path = v->valuestring;
        }
    }
    proc = replay_conv_proc(c, pid, label);
    memset(&ev, 0, sizeof(ev));
    ev.proc = proc;
    if (strcmp(metric->valuestring, "latency_ms") == 0) {
        uint64_t d = value > 0 && value < 1e9 ? (uint64_t)llround(value * 1e6) : 0;

        /* One sample of a top-level span: a span that ended at ts, on a thread of its own. */
        ev.thread = replay_conv_thread(c, proc, pid, NULL);
        ev.id = replay_conv_name(c, proc, path != NULL ? path : "latency");
        ev.type = STORE_EV_SPAN_BEGIN;
        ev.ts_ns = t >= d ? t - d : 0;
        record_writer_put(c->w, &ev);
        ev.type = STORE_EV_SPAN_END;
        ev.ts_ns = t;
        record_writer_put(c->w, &ev);
    } else if (strcmp(metric->valuestring, "tokens_per_sec") == 0 ||
               strcmp(metric->valuestring, "spikes_per_sec") == 0) {
        /* Rates back into counters: the store derives the rate again over its window. */
        int k = metric->valuestring[0] == 't' ? 0 : 1;
        struct replay_cproc *cp = &c->procs[proc];

        if (cp->counter_ts[k] != 0 && t > cp->counter_ts[k] && value > 0) {
            cp->counter_val[k] += value * (double)(t - cp->counter_ts[k]) / 1e9;
        }
        if (cp->counter_val[k] > REPLAY_MAX_BYTES) {
            /* A counter past int64 has no integer: keep it at the last one that had. */
            cp->counter_val[k] = REPLAY_MAX_BYTES;
        }
        cp->counter_ts[k] = t;
        ev.type = STORE_EV_COUNTER;
        ev.id = replay_conv_name(c, proc, k == 0 ? "tokens" : "spikes");
        ev.a = (uint64_t)llround(cp->counter_val[k]);
        ev.ts_ns = t;
        record_writer_put(c->w, &ev);
    }
    /* Other metrics (buffer occupancy, energy) have no store fact yet: read and skipped. */
    replay_conv_tick(c, t, 0);
    return true;
}

size_t replay_jsonl_convert(const char *file, const char *data, size_t len, struct record_writer *w,
                            struct replay_problems *pr, bool *profile)
{
    return replay_jsonl_convert_stream(file, data, len, w, pr, profile, NULL);
}

size_t replay_jsonl_convert_stream(const char *file, const char *data, size_t len,
                                   struct record_writer *w, struct replay_problems *pr,
                                   bool *profile, struct replay_release *rel)
{
    struct replay_conv *c = replay_conv_new(w);
    const char *s = data, *end = data + len;
    size_t line = 0, good = 0, nprofile = 0;

    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl != NULL ? nl : end;
        const char *b = s;
        cJSON *root;

        line++;
        replay_release(rel, (size_t)(b - data));
        s = nl != NULL ? nl + 1 : end;
        while (b < e && (*b == ' ' || *b == '\t' || *b == '\r')) {
            b++;
        }
        if (b == e) {
            continue;
        }
        root = cJSON_ParseWithLength(b, (size_t)(e - b));
        if (root == NULL) {
            replay_problem(pr, file, line,
                           nl == NULL ? "last line cut short (not JSON)" : "not a JSON object");
            continue;
        }
        if (replay_log_line(c, root, file, line, pr, line)) {
            good++;
        } else if (replay_profile_line(c, root, file, line, pr)) {
            good++;
            nprofile++;
        } else {
            replay_problem(pr, file, line, "unknown line (neither a log line nor a ProfileRecord)");
        }
        cJSON_Delete(root);
    }
    replay_conv_free(c);
    *profile = nprofile > 0 && nprofile * 2 >= good;
    return good;
}
