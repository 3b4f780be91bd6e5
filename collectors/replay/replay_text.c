/* SPDX-License-Identifier: MIT */
/* JSONL inputs of replay: nctop and seed logs (rows with label and level, the tree rebuilt
 * from the levels) and ProfileRecord lines, converted line by line into recording records. */
#include "collectors/replay/replay_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/base/hash.h"
#include "src/base/hmap.h"
#include "src/base/strtab.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/format/record.h"
#include "src/model/store.h"

#define REPLAY_MAX_LEVEL 255U /* deepest tree level read from a log */
/* The bounds of numbers that become integers: inside them every conversion is defined (a
 * double outside an integer type's range has no conversion: undefined behaviour). */
#define REPLAY_MAX_BYTES 9.0e18 /* byte counts (int64) */
#define REPLAY_MAX_MB 8.5e12    /* megabytes, so that MB * 2^20 stays under REPLAY_MAX_BYTES */
#define REPLAY_MAX_COUNT 1.0e18 /* call counts */
#define REPLAY_MAX_MS 1.0e12    /* durations in a log (32 years) */
#define REPLAY_PARENT_HOPS 64   /* rows one level up a log row's parent is looked for among */
#define REPLAY_MAX_TS_MS 9.0e12 /* ProfileRecord times: ms since the epoch (year 2255) */
#define REPLAY_MAX_VALUE 1.0e12 /* ProfileRecord values: ms or events per second */

struct replay_cproc {
    int32_t pid;
    char *label;
    struct strtab names;    /* the process's string table: ids 1, 2, ... as NAME records say */
    uint64_t line_cleared;  /* the log line whose memory rows replaced this process's */
    uint64_t counter_ts[2]; /* ProfileRecord: last time of tokens/spikes per second */
    double counter_val[2];
};

struct replay_cthread {
    uint32_t proc;
    int64_t tid;
};

struct replay_conv {
    struct record_writer *w;
    struct replay_cproc *procs;
    uint32_t nprocs;
    struct replay_cthread *threads;
    uint32_t nthreads;
    uint32_t procs_cap, threads_cap;
    /* (pid, label) -> process and (proc, tid) -> thread, so each lookup is O(1): traces can
     * hold tens of thousands of threads or processes. */
    struct hmap proc_ix, thread_ix;
    bool ticked;
    uint64_t last_tick;
};

struct replay_conv *replay_conv_new(struct record_writer *w)
{
    struct replay_conv *c = xcalloc(1, sizeof(*c));

    c->w = w;
    c->proc_ix = (struct hmap)HMAP_INIT;
    c->thread_ix = (struct hmap)HMAP_INIT;
    return c;
}

void replay_conv_free(struct replay_conv *c)
{
    if (c == NULL) {
        return;
    }
    for (uint32_t i = 0; i < c->nprocs; i++) {
        free(c->procs[i].label);
        strtab_free(&c->procs[i].names);
    }
    free(c->procs);
    free(c->threads);
    hmap_free(&c->proc_ix);
    hmap_free(&c->thread_ix);
    free(c);
}

struct record_writer *replay_conv_writer(struct replay_conv *c)
{
    return c->w;
}

/* The key a lookup compares with the stored entries. */
struct replay_ckey {
    const struct replay_conv *c;
    int32_t pid;
    const char *label;
    struct replay_cthread thread;
};

static bool replay_proc_eq(const void *ctx, uint32_t i)
{
    const struct replay_ckey *k = ctx;

    return k->c->procs[i].pid == k->pid && strcmp(k->c->procs[i].label, k->label) == 0;
}

static bool replay_thread_eq(const void *ctx, uint32_t i)
{
    const struct replay_ckey *k = ctx;

    return k->c->threads[i].proc == k->thread.proc && k->c->threads[i].tid == k->thread.tid;
}

uint32_t replay_conv_proc(struct replay_conv *c, int32_t pid, const char *label)
{
    struct record_ev ev = {.type = STORE_EV_PROC_ADD};
    struct replay_ckey key = {.c = c, .pid = pid, .label = label};
    uint64_t h = hash_bytes(hash_u64((uint64_t)(uint32_t)pid), label, strlen(label));
    uint32_t i = hmap_find(&c->proc_ix, h, replay_proc_eq, &key);

    if (i != HMAP_NONE) {
        return i;
    }
    if (c->nprocs == c->procs_cap) {
        c->procs_cap = c->procs_cap != 0 ? c->procs_cap * 2U : 16U;
        c->procs = xreallocarray(c->procs, c->procs_cap, sizeof(*c->procs));
    }
    memset(&c->procs[c->nprocs], 0, sizeof(c->procs[0]));
    c->procs[c->nprocs].pid = pid;
    c->procs[c->nprocs].label = xstrdup(label);
    strtab_init(&c->procs[c->nprocs].names, HASH_SEED);
    hmap_insert(&c->proc_ix, h, c->nprocs);
    ev.i = pid;
    ev.str = label;
    ev.str_len = strlen(label);
    record_writer_put(c->w, &ev);
    return c->nprocs++;
}

uint32_t replay_conv_name(struct replay_conv *c, uint32_t proc, const char *name)
{
    struct strtab *t = &c->procs[proc].names;
    size_t len = strlen(name);
    uint32_t id = strtab_find(t, name, len);
    struct record_ev ev = {.type = STORE_EV_NAME, .proc = proc};

    if (id != 0) {
        return id;
    }
    id = strtab_intern(t, name, len);
    ev.id = id;
    ev.str = name;
    ev.str_len = len;
    record_writer_put(c->w, &ev);
    return id;
}

uint32_t replay_conv_thread(struct replay_conv *c, uint32_t proc, int64_t tid, const char *name)
{
    struct record_ev ev = {.type = STORE_EV_THREAD_ADD, .proc = proc};
    struct replay_ckey key = {.c = c, .thread = {.proc = proc, .tid = tid}};
    uint64_t h = hash_u64((uint64_t)tid ^ hash_u64(proc));
    uint32_t i = hmap_find(&c->thread_ix, h, replay_thread_eq, &key);

    if (i != HMAP_NONE) {
        return i;
    }
    if (c->nthreads == c->threads_cap) {
        c->threads_cap = c->threads_cap != 0 ? c->threads_cap * 2U : 16U;
        c->threads = xreallocarray(c->threads, c->threads_cap, sizeof(*c->threads));
    }
    c->threads[c->nthreads] = key.thread;
    hmap_insert(&c->thread_ix, h, c->nthreads);
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

/* --- log lines ---------------------------------------------------------------------------- */

/* A log line being read: its rows as placed so far, so that each row finds its parent. */
struct replay_lrow {
    uint32_t proc;
    uint32_t name;  /* name id */
    int32_t parent; /* index of the parent row, -1 at level 0 */
    uint16_t level;
    bool mem;
    bool refused; /* not imported: rows under it are refused too */
    bool has_avg, has_last;
    double avg_ms, last_ms;
    char *path;        /* owned: labels from the top joined by '/' (NULL when refused) */
    int32_t prev_same; /* the row before it at its level (same workload and kind), or -1 */
    int32_t first_kid; /* memory rows: the tree, emitted depth-first at the end of the line */
    int32_t last_kid;
    int32_t next;
    struct record_ev ev; /* the import (memory rows) */
    bool has_parts;
    struct store_mem_parts parts;
};

struct replay_line {
    struct replay_conv *c;
    const char *file;
    size_t line;
    struct replay_problems *pr;
    struct replay_log_info *info;
    struct replay_lrow *v;
    size_t n, cap;
    /* The last row at each level of the workload now being read (latency, memory), or -1;
     * a row resets the levels below it. The nearest candidate parent in O(1). */
    uint32_t at_proc;
    int32_t last_at[2][REPLAY_MAX_LEVEL + 1U];
    int32_t last_any[2][REPLAY_MAX_LEVEL + 1U]; /* the same, never reset by a row above */
    size_t depth;                               /* levels [depth, max] are -1 in both */
};

/* How a JSON value is named in a problem. */
static const char *replay_json_type(const cJSON *v)
{
    if (cJSON_IsString(v)) {
        return "a string";
    }
    if (cJSON_IsBool(v)) {
        return "a boolean";
    }
    if (cJSON_IsNumber(v)) {
        return "a number";
    }
    if (cJSON_IsArray(v)) {
        return "an array";
    }
    return cJSON_IsObject(v) ? "an object" : "not a value";
}

/* A problem of row k of the line, named by its label when it has one. */
static void replay_row_problem(struct replay_line *ln, size_t k, const char *label, const char *fmt,
                               ...) __attribute__((format(printf, 4, 5)));

static void replay_row_problem(struct replay_line *ln, size_t k, const char *label, const char *fmt,
                               ...)
{
    char msg[192];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (label != NULL) {
        replay_problem(ln->pr, ln->file, ln->line, "row %zu (%.60s): %s", k, label, msg);
    } else {
        replay_problem(ln->pr, ln->file, ln->line, "row %zu: %s", k, msg);
    }
}

/* A number field of a row within [lo, hi]: 1 with *out set; 0 when absent or null; -1 when
 * of another type or out of range, noted as a problem of the row. Nothing is read as 0. */
static int replay_field(struct replay_line *ln, size_t k, const char *label, const cJSON *row,
                        const char *key, double lo, double hi, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);

    if (v == NULL || cJSON_IsNull(v)) {
        return 0;
    }
    if (!cJSON_IsNumber(v)) {
        replay_row_problem(ln, k, label, "%s is %s, not a number", key, replay_json_type(v));
        return -1;
    }
    if (!(v->valuedouble >= lo && v->valuedouble <= hi)) {
        replay_row_problem(ln, k, label, "%s %g out of range", key, v->valuedouble);
        return -1;
    }
    *out = v->valuedouble;
    return 1;
}

/* A duration field in ms as ns; a figure the row lacks sets its bit in *absent. */
static uint64_t replay_field_ms(struct replay_line *ln, size_t k, const char *label,
                                const cJSON *row, const char *key, uint32_t bit, uint32_t *absent)
{
    double ms;

    if (replay_field(ln, k, label, row, key, 0, REPLAY_MAX_MS, &ms) <= 0) {
        *absent |= bit;
        return 0;
    }
    return (uint64_t)llround(ms * 1e6);
}

/* A string field: the string, or NULL when absent or null (another type is a problem). */
static const char *replay_field_str(struct replay_line *ln, size_t k, const char *label,
                                    const cJSON *row, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);

    if (v == NULL || cJSON_IsNull(v)) {
        return NULL;
    }
    if (!cJSON_IsString(v)) {
        replay_row_problem(ln, k, label, "%s is %s, not a string", key, replay_json_type(v));
        return NULL;
    }
    return v->valuestring;
}

/* The workload a log row belongs to: its pid and process fields (nctop logs), else the run
 * named by the file (seed logs: "<stamp>-latency.jsonl" and "<stamp>-memory.jsonl"). */
static uint32_t replay_row_proc(struct replay_line *ln, bool has_pid, double pid,
                                const char *process)
{
    char name[128];
    const char *base = strrchr(ln->file, '/');
    char *dash;

    if (has_pid && process != NULL) {
        return replay_conv_proc(ln->c, (int32_t)pid, process);
    }
    snprintf(name, sizeof(name), "%s", base != NULL ? base + 1 : ln->file);
    dash = strstr(name, "-latency.jsonl");
    if (dash == NULL) {
        dash = strstr(name, "-memory.jsonl");
    }
    if (dash != NULL) {
        *dash = '\0';
    }
    if (ln->info != NULL && !has_pid) {
        ln->info->seed = true;
        snprintf(ln->info->label, sizeof(ln->info->label), "%s", name);
    }
    return replay_conv_proc(ln->c, has_pid ? (int32_t)pid : 0, name);
}

/* Whether child's time fits inside parent's: a span's children run inside it. Undecided
 * (true) when they do not have the same figure. */
static bool replay_fits(const struct replay_lrow *parent, const struct replay_lrow *child)
{
    double c, p;

    if (child->has_avg && parent->has_avg) {
        c = child->avg_ms;
        p = parent->avg_ms;
    } else if (child->has_last && parent->has_last) {
        c = child->last_ms;
        p = parent->last_ms;
    } else {
        return true;
    }
    return c <= p * 1.01 + 0.001; /* rounding of the writer */
}

enum replay_orphan {
    REPLAY_ORPHAN_NONE,    /* no row of its tree at the level above */
    REPLAY_ORPHAN_REFUSED, /* the row above it was refused */
    REPLAY_ORPHAN_PATH,    /* no row above has the parent path it names */
};

/*
 * The parent of row me (level > 0) among the rows of the line before it: a row one level up
 * in the same tree (same workload, latency or memory), after the last row two or more levels
 * up. A row with a path (nctop's logs) takes the row whose path is its own but the label.
 * Without one (the seed's rows, which have only levels), the nearest such row is the parent,
 * unless its time cannot hold the row's: the seed writes flat level-0 rows (each softmax
 * backend) between Forward Step and the Block rows that are Forward Step's, and a block does
 * not fit in a softmax. Returns the index, or -1 with *why and *above (the level that ended the
 * search, -1 when none).
 */
static bool replay_path_is(const char *path, const struct replay_lrow *parent, const char *label)
{
    size_t pl = strlen(parent->path);

    return strncmp(path, parent->path, pl) == 0 && path[pl] == '/' &&
           strcmp(path + pl + 1U, label) == 0;
}

static int32_t replay_find_parent(const struct replay_line *ln, const struct replay_lrow *me,
                                  const char *label, const char *path, enum replay_orphan *why,
                                  long *above)
{
    const int32_t *last = ln->last_at[me->mem];
    int32_t nearest = -1, boundary = -1;
    int32_t j0 = ln->at_proc == me->proc ? last[me->level - 1U] : -1;

    *why = path != NULL ? REPLAY_ORPHAN_PATH : REPLAY_ORPHAN_NONE;
    *above = -1;
    if (j0 < 0) {
        /* No row one level up since the last row further up (or at all). */
        for (long l = (long)me->level - 2; l >= 0 && ln->at_proc == me->proc; l--) {
            if (last[l] >= 0) {
                *above = l;
                break;
            }
        }
        return -1;
    }
    /* The nearest row one level up is almost always the parent: try it first. */
    if (!ln->v[j0].refused &&
        (path != NULL ? replay_path_is(path, &ln->v[j0], label) : replay_fits(&ln->v[j0], me))) {
        return j0;
    }
    /* The other rows one level up since the last row further up, nearest first, along the
     * chain of rows of that level; a bounded number of them (a crafted line of many flat rows
     * costs no quadratic time). */
    for (long l = (long)me->level - 2; l >= 0; l--) {
        if (last[l] > boundary) {
            boundary = last[l];
        }
    }
    for (int32_t j = j0, hops = 0; j > boundary && hops < REPLAY_PARENT_HOPS;
         j = ln->v[j].prev_same, hops++) {
        const struct replay_lrow *r = &ln->v[j];

        if (path != NULL) {
            if (!r->refused && replay_path_is(path, r, label)) {
                return j;
            }
            continue;
        }
        if (r->refused) {
            if (nearest < 0) {
                *why = REPLAY_ORPHAN_REFUSED;
                return -1;
            }
            continue;
        }
        if (nearest < 0) {
            nearest = j;
        }
        if (replay_fits(r, me)) {
            return j;
        }
    }
    /* Nothing holds it: the nearest row, as the levels say. */
    return nearest;
}

static struct replay_lrow *replay_line_add(struct replay_line *ln)
{
    struct replay_lrow *r;

    if (ln->n == ln->cap) {
        ln->cap = ln->cap ? ln->cap * 2U : 64U;
        ln->v = xreallocarray(ln->v, ln->cap, sizeof(*ln->v));
    }
    r = &ln->v[ln->n++];
    memset(r, 0, sizeof(*r));
    r->parent = r->first_kid = r->last_kid = r->next = -1;
    return r;
}

/* Row idx (proc, level, kind) is now the last of its level: the levels below start over. */
static void replay_line_mark(struct replay_line *ln, size_t idx)
{
    const struct replay_lrow *r = &ln->v[idx];

    if (r->proc != ln->at_proc) {
        memset(ln->last_at, 0xff, sizeof(ln->last_at)); /* all -1 */
        memset(ln->last_any, 0xff, sizeof(ln->last_any));
        ln->at_proc = r->proc;
        ln->depth = 0;
    }
    ln->v[idx].prev_same = ln->last_any[r->mem][r->level];
    ln->last_any[r->mem][r->level] = (int32_t)idx;
    ln->last_at[r->mem][r->level] = (int32_t)idx;
    for (size_t l = (size_t)r->level + 1U; l < ln->depth; l++) {
        ln->last_at[r->mem][l] = -1;
    }
    if (r->level >= ln->depth) {
        ln->depth = r->level + 1U;
    }
}

/* A refused row stays in the line so that the rows under it are refused with it. */
static void replay_line_refuse(struct replay_line *ln, uint32_t proc, long level, bool mem)
{
    struct replay_lrow *r = replay_line_add(ln);

    r->proc = proc;
    r->level = level >= 0 && level <= (long)REPLAY_MAX_LEVEL ? (uint16_t)level : 0;
    r->mem = mem;
    r->refused = true;
    replay_line_mark(ln, ln->n - 1U);
}

/* The seed's pool, kv and kv-cache figures of a memory row (MB), when it has all three. */
static bool replay_mem_parts(struct replay_line *ln, size_t k, const char *label, const cJSON *row,
                             struct store_mem_parts *out)
{
    static const char *const keys[STORE_NPARTS][2] = {
        [STORE_PART_POOL] = {"current_pool_mb", "peak_pool_mb"},
        [STORE_PART_KV] = {"current_kv_mb", "peak_kv_mb"},
        [STORE_PART_KV_CACHE] = {"current_kv_cache_mb", "peak_kv_cache_mb"},
    };
    int have = 0, bad = 0;

    for (int i = 0; i < STORE_NPARTS; i++) {
        double cur, peak;
        int rc = replay_field(ln, k, label, row, keys[i][0], -REPLAY_MAX_MB, REPLAY_MAX_MB, &cur);

        have += rc > 0;
        bad += rc < 0;
        if (rc <= 0) {
            continue;
        }
        out->bytes[i] = llround(cur * 1048576.0);
        /* Like peak_total_mb: without a peak figure, the peak is the current one. */
        rc = replay_field(ln, k, label, row, keys[i][1], -REPLAY_MAX_MB, REPLAY_MAX_MB, &peak);
        out->peak_bytes[i] = rc > 0 ? llround(peak * 1048576.0) : out->bytes[i];
    }
    if (have > 0 && have + bad < STORE_NPARTS) {
        replay_row_problem(ln, k, label, "pool, kv and kv-cache figures incomplete");
    }
    return have == STORE_NPARTS;
}

/* The figures of a memory row into r->ev; false (a problem noted) when it has no usable
 * current figure. */
static bool replay_mem_row(struct replay_line *ln, size_t k, const char *label, const cJSON *row,
                           struct replay_lrow *r)
{
    double bytes = 0, mb = 0, peak = 0, cap = 0;
    int has_bytes =
        replay_field(ln, k, label, row, "bytes", -REPLAY_MAX_BYTES, REPLAY_MAX_BYTES, &bytes);
    int has_mb = has_bytes != 0 ? 0
                                : replay_field(ln, k, label, row, "current_total_mb",
                                               -REPLAY_MAX_MB, REPLAY_MAX_MB, &mb);
    int has_peak;

    if (has_bytes < 0 || has_mb < 0) {
        return false;
    }
    if (has_bytes == 0 && has_mb == 0) {
        replay_row_problem(ln, k, label, "no current_total_mb or bytes");
        return false;
    }
    r->ev.type = STORE_EV_MEM_IMPORT;
    r->ev.proc = r->proc;
    r->ev.level = r->level;
    r->ev.id = r->name;
    r->ev.i = has_bytes > 0 ? (int64_t)llround(bytes) : (int64_t)llround(mb * 1048576.0);
    /* nctop writes peak_bytes (null when unknown); the seed only peak_total_mb. */
    if (cJSON_GetObjectItemCaseSensitive(row, "peak_bytes") != NULL) {
        has_peak = replay_field(ln, k, label, row, "peak_bytes", -REPLAY_MAX_BYTES,
                                REPLAY_MAX_BYTES, &peak);
    } else {
        has_peak =
            replay_field(ln, k, label, row, "peak_total_mb", -REPLAY_MAX_MB, REPLAY_MAX_MB, &peak);
        peak *= 1048576.0;
    }
    if (has_peak > 0) {
        r->ev.a = (uint64_t)(int64_t)llround(peak);
        r->ev.aux |= STORE_IMPORT_PEAK;
    }
    if (replay_field(ln, k, label, row, "capacity_bytes", -REPLAY_MAX_BYTES, REPLAY_MAX_BYTES,
                     &cap) > 0 &&
        cap > 0) {
        r->ev.b = (uint64_t)llround(cap);
    }
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(row, "device"))) {
        r->ev.aux |= STORE_MEM_DEVICE;
    }
    r->has_parts = replay_mem_parts(ln, k, label, row, &r->parts);
    return true;
}

/* The statistics of a latency row; figures it lacks (or has wrongly) are absent. */
static void replay_lat_row(struct replay_line *ln, size_t k, const char *label, const cJSON *row,
                           struct replay_lrow *r, struct store_import_stats *st)
{
    double n, share;
    uint32_t *ab = &st->absent;

    memset(st, 0, sizeof(*st));
    if (replay_field(ln, k, label, row, "count", 0, REPLAY_MAX_COUNT, &n) > 0) {
        st->count = (uint64_t)n;
    } else {
        *ab |= STORE_STAT_COUNT;
    }
    st->last_ns = replay_field_ms(ln, k, label, row, "last_ms", STORE_STAT_LAST, ab);
    st->mean_ns = replay_field_ms(ln, k, label, row, "average_ms", STORE_STAT_MEAN, ab);
    st->min_ns = replay_field_ms(ln, k, label, row, "min_ms", STORE_STAT_MIN, ab);
    st->max_ns = replay_field_ms(ln, k, label, row, "max_ms", STORE_STAT_MAX, ab);
    st->p50_ns = replay_field_ms(ln, k, label, row, "p50_ms", STORE_STAT_P50, ab);
    st->p95_ns = replay_field_ms(ln, k, label, row, "p95_ms", STORE_STAT_P95, ab);
    st->p99_ns = replay_field_ms(ln, k, label, row, "p99_ms", STORE_STAT_P99, ab);
    st->total_ns = replay_field_ms(ln, k, label, row, "total_ms", STORE_STAT_TOTAL, ab);
    if (replay_field(ln, k, label, row, "share_pct", -1e9, 1e9, &share) > 0) {
        st->share_valid = true;
        st->share_pct = share;
    }
    r->has_avg = (*ab & STORE_STAT_MEAN) == 0;
    r->avg_ms = (double)st->mean_ns / 1e6;
    r->has_last = (*ab & STORE_STAT_LAST) == 0;
    r->last_ms = (double)st->last_ns / 1e6;
}

/* Emit the memory rows of the line depth-first (the store rebuilds their tree from the order
 * and the levels), each process's replacing the rows of its previous line. */
static void replay_line_emit_mem(struct replay_line *ln, uint64_t lineno)
{
    int32_t *stack; /* every row is pushed at most once */

    if (ln->n == 0) {
        return;
    }
    stack = xcalloc(ln->n, sizeof(*stack));
    for (size_t i = 0; i < ln->n; i++) {
        struct replay_lrow *root = &ln->v[i];
        size_t sp = 0;

        if (!root->mem || root->refused || root->parent >= 0) {
            continue;
        }
        if (ln->c->procs[root->proc].line_cleared != lineno) {
            struct record_ev clr = {.type = STORE_EV_MEM_IMPORT_CLEAR, .proc = root->proc};

            record_writer_put(ln->c->w, &clr);
            ln->c->procs[root->proc].line_cleared = lineno;
        }
        stack[sp++] = (int32_t)i;
        while (sp > 0) {
            struct replay_lrow *r = &ln->v[stack[--sp]];
            size_t nk = 0, at;

            record_writer_put(ln->c->w, &r->ev);
            if (r->has_parts) {
                struct record_ev pe = {.type = STORE_EV_MEM_IMPORT_PARTS, .proc = r->proc};

                pe.parts = r->parts;
                record_writer_put(ln->c->w, &pe);
            }
            /* The children go on the stack last first, so they come off in their order. */
            for (int32_t kid = r->first_kid; kid >= 0; kid = ln->v[kid].next) {
                nk++;
            }
            sp += nk;
            at = sp;
            for (int32_t kid = r->first_kid; kid >= 0; kid = ln->v[kid].next) {
                stack[--at] = kid;
            }
        }
    }
    free(stack);
}

/* One log line: latency rows become node imports, memory rows replace the process's
 * imported memory rows. Returns false when the line is not a log line. */
static bool replay_log_line(struct replay_conv *c, const cJSON *root, const char *file, size_t line,
                            struct replay_problems *pr, struct replay_log_info *info)
{
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(root, "timestamp");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "rows");
    const cJSON *row;
    struct replay_line ln = {
        .c = c, .file = file, .line = line, .pr = pr, .info = info, .at_proc = UINT32_MAX};
    uint32_t path[REPLAY_MAX_LEVEL + 1U];
    uint32_t prev_proc = UINT32_MAX;
    uint64_t t;
    size_t k = 0;

    if (!cJSON_IsString(ts) || !cJSON_IsArray(rows)) {
        return false;
    }
    if (!replay_parse_utc(ts->valuestring, &t)) {
        replay_problem(pr, file, line, "bad timestamp '%.40s'", ts->valuestring);
        return true;
    }
    if (info != NULL && !info->has_first) {
        info->has_first = true;
        info->first_real_ns = t;
    }
    cJSON_ArrayForEach(row, rows)
    {
        const cJSON *lv = cJSON_GetObjectItemCaseSensitive(row, "level");
        const cJSON *lb = cJSON_GetObjectItemCaseSensitive(row, "label");
        const char *label = cJSON_IsString(lb) ? lb->valuestring : NULL;
        const char *rpath, *process;
        bool mem = cJSON_GetObjectItemCaseSensitive(row, "current_total_mb") != NULL ||
                   cJSON_GetObjectItemCaseSensitive(row, "bytes") != NULL;
        double level = -1, pid = 0;
        int has_pid;
        enum replay_orphan why;
        long above;
        struct replay_lrow me, *r;
        struct store_import_stats st;

        k++;
        /* A row without a place in the tree is refused, and the rows under it with it. */
        if (label == NULL) {
            replay_row_problem(&ln, k, NULL, lb == NULL ? "no label" : "label is %s, not a string",
                               replay_json_type(lb));
        }
        if (lv == NULL || cJSON_IsNull(lv)) {
            replay_row_problem(&ln, k, label, "no level");
            level = -1;
        } else if (!cJSON_IsNumber(lv)) {
            replay_row_problem(&ln, k, label, "level is %s, not a number", replay_json_type(lv));
            level = -1;
        } else if (!(lv->valuedouble >= 0 && lv->valuedouble <= REPLAY_MAX_LEVEL) ||
                   lv->valuedouble != floor(lv->valuedouble)) {
            replay_row_problem(&ln, k, label, "level %g out of range", lv->valuedouble);
            level = -1;
        } else {
            level = lv->valuedouble;
        }
        has_pid = replay_field(&ln, k, label, row, "pid", INT32_MIN, INT32_MAX, &pid);
        process = replay_field_str(&ln, k, label, row, "process");
        rpath = replay_field_str(&ln, k, label, row, "path");
        if (label == NULL || level < 0 || has_pid < 0) {
            /* Unknown level: the rows after it, but level-0 rows, may be its own. */
            replay_line_refuse(&ln, prev_proc, level < 0 ? 0 : (long)level, mem);
            continue;
        }
        memset(&me, 0, sizeof(me));
        me.proc = replay_row_proc(&ln, has_pid > 0, pid, process);
        me.level = (uint16_t)level;
        me.mem = mem;
        me.parent = -1;
        prev_proc = me.proc;
        if (!mem) {
            replay_lat_row(&ln, k, label, row, &me, &st);
        }
        if (me.level > 0) {
            me.parent = replay_find_parent(&ln, &me, label, rpath, &why, &above);
            if (me.parent < 0) {
                if (why == REPLAY_ORPHAN_REFUSED) {
                    replay_row_problem(&ln, k, label, "under a row that was refused");
                } else if (why == REPLAY_ORPHAN_PATH) {
                    const char *slash = strrchr(rpath, '/');

                    replay_row_problem(&ln, k, label, "no row above it has the path '%.*s'",
                                       slash != NULL ? (int)(slash - rpath) : 0, rpath);
                } else if (above >= 0) {
                    replay_row_problem(&ln, k, label, "level %u under level %ld", me.level, above);
                } else {
                    replay_row_problem(&ln, k, label, "level %u with no row above it", me.level);
                }
                replay_line_refuse(&ln, me.proc, me.level, mem);
                continue;
            }
        }
        me.name = replay_conv_name(c, me.proc, label);
        if (mem && !replay_mem_row(&ln, k, label, row, &me)) {
            replay_line_refuse(&ln, me.proc, me.level, mem);
            continue;
        }
        me.first_kid = me.last_kid = me.next = -1;
        me.path = me.parent >= 0 ? xasprintf("%s/%s", ln.v[me.parent].path, label) : xstrdup(label);
        r = replay_line_add(&ln);
        *r = me;
        replay_line_mark(&ln, ln.n - 1U);
        if (r->parent >= 0) {
            struct replay_lrow *pa = &ln.v[r->parent];
            int32_t self = (int32_t)(ln.n - 1U);

            if (pa->last_kid >= 0) {
                ln.v[pa->last_kid].next = self;
            } else {
                pa->first_kid = self;
            }
            pa->last_kid = self;
        }
        if (info != NULL && has_pid == 0) {
            info->memory |= mem;
            info->latency |= !mem;
        }
        if (!mem) {
            struct record_ev ev;
            int32_t at = (int32_t)(ln.n - 1U);

            /* The path of name ids, from the row up through its parents. */
            for (long l = r->level; l >= 0; l--) {
                path[l] = ln.v[at].name;
                at = ln.v[at].parent;
            }
            memset(&ev, 0, sizeof(ev));
            ev.type = STORE_EV_NODE_IMPORT;
            ev.proc = r->proc;
            ev.ts_ns = t;
            ev.depth = (uint32_t)r->level + 1U;
            ev.path = path;
            ev.stats = st;
            record_writer_put(c->w, &ev);
        }
    }
    replay_line_emit_mem(&ln, line);
    for (size_t i = 0; i < ln.n; i++) {
        free(ln.v[i].path);
    }
    free(ln.v);
    replay_conv_tick(c, t, 0);
    return true;
}

#define REPLAY_PROFILE_DEPTH 32 /* path levels of a latency line */
#define REPLAY_PROFILE_NAME 256 /* bytes of a series name */

/* Labels that say which process or where, not which series. */
static bool replay_profile_meta_label(const char *key)
{
    return strcmp(key, "pid") == 0 || strcmp(key, "label") == 0 || strcmp(key, "target") == 0 ||
           strcmp(key, "chip") == 0 || strcmp(key, "unit") == 0;
}

/* The series of a metric: "metric" alone, or "metric{k=v,...}" with the labels that are not
 * about the process (a path or buffer name, a layer), in the file's order. */
static void replay_profile_series(char *out, size_t len, const char *metric, const cJSON *labels)
{
    const cJSON *l;
    size_t n = (size_t)snprintf(out, len, "%s", metric);
    bool first = true;

    cJSON_ArrayForEach(l, labels)
    {
        if (l->string == NULL || !cJSON_IsString(l) || replay_profile_meta_label(l->string)) {
            continue;
        }
        n += (size_t)snprintf(out + (n < len ? n : len), n < len ? len - n : 0, "%s%s=%s",
                              first ? "{" : ",", l->string, l->valuestring);
        first = false;
    }
    if (!first) {
        snprintf(out + (n < len ? n : len), n < len ? len - n : 0, "}");
    }
}

/* The unit of a value: a "unit" label, else what the metric's name ends with. */
static const char *replay_profile_unit(const char *metric, const cJSON *labels)
{
    static const char *const ends[][2] = {{"_mj", "mJ"},   {"_j", "J"},   {"_pct", "%"},
                                          {"_ms", "ms"},   {"_w", "W"},   {"_per_sec", "/s"},
                                          {"_bytes", "B"}, {"_hz", "Hz"}, {"_c", "C"}};
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(labels, "unit");
    size_t n = strlen(metric);

    if (cJSON_IsString(u) && u->valuestring[0] != '\0') {
        return u->valuestring;
    }
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
        size_t k = strlen(ends[i][0]);

        if (n > k && strcmp(metric + n - k, ends[i][0]) == 0) {
            return ends[i][1];
        }
    }
    return "";
}

/* The "target" and "chip" labels are the process's attributes. */
static void replay_profile_attrs(struct replay_conv *c, uint32_t proc, const cJSON *labels,
                                 uint64_t t)
{
    static const char *const keys[] = {"target", "chip"};
    struct record_ev ev;

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(labels, keys[i]);

        if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
            continue;
        }
        memset(&ev, 0, sizeof(ev));
        ev.type = STORE_EV_ATTR;
        ev.proc = proc;
        ev.id = replay_conv_name(c, proc, keys[i]);
        ev.aux = replay_conv_name(c, proc, v->valuestring);
        ev.ts_ns = t;
        record_writer_put(c->w, &ev);
    }
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
    replay_profile_attrs(c, proc, labels, t);
    if (strcmp(metric->valuestring, "latency_ms") == 0) {
        uint64_t d = value > 0 && value < 1e9 ? (uint64_t)llround(value * 1e6) : 0;
        const char *seg = path != NULL ? path : "latency";
        const char *names[REPLAY_PROFILE_DEPTH];
        size_t depth = 0;
        char *copy = xstrdup(seg);

        /* One sample of a span that ended at ts, on a thread of its own: a path "a/b" is a
         * span b inside a span a, so the path is a tree (a's row then also holds the time of
         * b's samples, as a parent holds its children's). */
        for (char *tok = copy, *slash; tok != NULL && depth < REPLAY_PROFILE_DEPTH; tok = slash) {
            slash = strchr(tok, '/');
            if (slash != NULL) {
                *slash++ = '\0';
            }
            if (*tok != '\0') {
                names[depth++] = tok;
            }
        }
        if (depth == 0) {
            names[depth++] = "latency";
        }
        ev.thread = replay_conv_thread(c, proc, pid, NULL);
        ev.type = STORE_EV_SPAN_BEGIN;
        ev.ts_ns = t >= d ? t - d : 0;
        for (size_t k = 0; k < depth; k++) {
            ev.id = replay_conv_name(c, proc, names[k]);
            record_writer_put(c->w, &ev);
        }
        ev.type = STORE_EV_SPAN_END;
        ev.ts_ns = t;
        for (size_t k = depth; k > 0; k--) {
            ev.id = replay_conv_name(c, proc, names[k - 1]);
            record_writer_put(c->w, &ev);
        }
        free(copy);
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
    } else {
        /* Every other metric (energy_mj, buffer_occupancy_pct, anything a tool writes) is a
         * value, one series per label set: the metric, then the labels that tell series
         * apart. */
        char name[REPLAY_PROFILE_NAME];
        const char *unit;

        replay_profile_series(name, sizeof(name), metric->valuestring, labels);
        ev.type = STORE_EV_VALUE;
        ev.id = replay_conv_name(c, proc, name);
        unit = replay_profile_unit(metric->valuestring, labels);
        ev.aux = unit[0] != '\0' ? replay_conv_name(c, proc, unit) : 0;
        memcpy(&ev.a, &value, sizeof(value));
        ev.ts_ns = t;
        record_writer_put(c->w, &ev);
    }
    replay_conv_tick(c, t, 0);
    return true;
}

size_t replay_jsonl_convert(const char *file, const char *data, size_t len, struct record_writer *w,
                            struct replay_problems *pr, bool *profile)
{
    return replay_jsonl_convert_stream(file, data, len, w, pr, profile, NULL, NULL);
}

size_t replay_jsonl_convert_stream(const char *file, const char *data, size_t len,
                                   struct record_writer *w, struct replay_problems *pr,
                                   bool *profile, struct replay_release *rel,
                                   struct replay_log_info *info)
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
        if (replay_log_line(c, root, file, line, pr, info)) {
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
