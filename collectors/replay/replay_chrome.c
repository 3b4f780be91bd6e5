/* SPDX-License-Identifier: MIT */
/* Chrome trace event JSON (PyTorch's export_chrome_trace, Perfetto): complete (X) and
 * begin/end (B/E) events become spans nested by time containment per thread, GPU kernels
 * become kernel records, counter (C) events counters, metadata (M) names. */
#include "collectors/replay/replay_internal.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/hash.h"
#include "src/base/hmap.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/format/record.h"
#include "src/model/store.h"

#define CHROME_TICK_NS (10ULL * UTIL_NS_PER_MS) /* replay pacing granularity */
#define CHROME_MAX_EVENTS (1U << 24)
/* Bounds of the numbers that become integers (beyond a type's range a conversion is undefined):
 * times within 4e15 us of zero (epoch-based traces sit near 1.8e15) keep every rebased ns time
 * under 8e18; durations up to 1e12 us (11 days); counter values and tids within int64. */
#define CHROME_MAX_TS_US 4.0e15
#define CHROME_MAX_DUR_US 1.0e12
#define CHROME_MAX_INT 9.0e18

/* One trace event, copied out of the JSON. */
struct chrome_ev {
    char ph;
    bool kernel; /* a device kernel or copy: not part of the thread's nesting */
    int32_t pid;
    int64_t tid;
    double ts_us;
    double dur_us;
    double value; /* C events: the value */
    char *name;   /* owned */
    size_t index; /* position in the trace, for messages and a stable order */
};

/* One record to write, in time order. */
struct chrome_out {
    uint64_t ts_ns;
    size_t seq;
    int type; /* STORE_EV_SPAN_BEGIN, _END, _KERNEL or _COUNTER */
    const struct chrome_ev *ev;
    uint64_t dur_ns;
};

struct chrome_meta {
    int32_t pid;
    int64_t tid;
    bool thread; /* thread_name, else process_name */
    bool weak;   /* from a string pid: process_name metadata replaces it */
    char *name;
};

/* A slot of the (kind, pid, tid) index: a map to an event or metadata index, so that every
 * lookup is O(1) however many threads and processes a trace holds. */
enum chrome_kind {
    CHROME_K_PROC_FIRST = 1, /* first process metadata of a pid */
    CHROME_K_PROC_NAME,      /* latest non-empty process name */
    CHROME_K_THREAD_NAME,    /* latest non-empty thread name */
    CHROME_K_OPEN,           /* innermost open B event of a thread */
};

/* (kind, pid, tid) -> an index: entries found through the one hash map. */
struct chrome_entry {
    int64_t tid;
    int32_t pid;
    uint8_t kind;
    size_t val; /* while free: the next free entry */
};

struct chrome_map {
    struct hmap idx; /* hash of the key -> entry */
    struct chrome_entry *v;
    size_t n, cap;
    size_t free; /* first free entry, SIZE_MAX: none */
};

struct chrome_doc {
    struct chrome_ev *ev;
    size_t n, cap;
    struct chrome_meta *meta;
    size_t nmeta, meta_cap;
    struct chrome_map ix;
    bool clang; /* clang -ftime-trace: its "Total ..." summaries are left out, its
                 * ExecuteCompiler is a compilation */
    double min_ts;
    bool any_ts;
};

/* pid and tid are numbers in Chrome traces, strings in some Perfetto exports (hashed), absent
 * in some events (0). A number outside [-max - 1, max] is refused: false. */
static bool chrome_id(const cJSON *v, double max, int64_t *out)
{
    uint64_t h = HASH_SEED;

    *out = 0;
    if (cJSON_IsNumber(v)) {
        if (!(v->valuedouble >= -max - 1.0 && v->valuedouble <= max)) {
            return false;
        }
        *out = (int64_t)v->valuedouble;
    } else if (cJSON_IsString(v)) {
        h = hash_bytes(h, v->valuestring, strlen(v->valuestring));
        *out = (int64_t)(h & 0x7FFFFFFF);
    }
    return true;
}

static bool chrome_is_kernel(const char *cat)
{
    return cat != NULL && (strcmp(cat, "kernel") == 0 || strcmp(cat, "gpu_memcpy") == 0 ||
                           strcmp(cat, "gpu_memset") == 0 || strcmp(cat, "Kernel") == 0);
}

struct chrome_key {
    const struct chrome_map *m;
    int64_t tid;
    int32_t pid;
    uint8_t kind;
};

static uint64_t chrome_key_hash(enum chrome_kind kind, int32_t pid, int64_t tid)
{
    return hash_u64((uint64_t)tid ^ hash_u64((uint64_t)(uint32_t)pid << 8 | (uint64_t)kind));
}

static bool chrome_key_eq(const void *ctx, uint32_t e)
{
    const struct chrome_key *k = ctx;
    const struct chrome_entry *v = &k->m->v[e];

    return v->kind == k->kind && v->pid == k->pid && v->tid == k->tid;
}

/* The entry of the key, or HMAP_NONE. */
static uint32_t chrome_map_find(const struct chrome_map *m, enum chrome_kind kind, int32_t pid,
                                int64_t tid)
{
    struct chrome_key k = {.m = m, .tid = tid, .pid = pid, .kind = (uint8_t)kind};

    return hmap_find(&m->idx, chrome_key_hash(kind, pid, tid), chrome_key_eq, &k);
}

static bool chrome_map_get(const struct chrome_map *m, enum chrome_kind kind, int32_t pid,
                           int64_t tid, size_t *val)
{
    uint32_t e = chrome_map_find(m, kind, pid, tid);

    if (e == HMAP_NONE) {
        return false;
    }
    *val = m->v[e].val;
    return true;
}

static void chrome_map_put(struct chrome_map *m, enum chrome_kind kind, int32_t pid, int64_t tid,
                           size_t val)
{
    uint32_t e = chrome_map_find(m, kind, pid, tid);

    if (e == HMAP_NONE) {
        if (m->free != SIZE_MAX) {
            e = (uint32_t)m->free;
            m->free = m->v[e].val;
        } else {
            if (m->n == m->cap) {
                m->cap = m->cap != 0 ? m->cap * 2U : 64U;
                m->v = xreallocarray(m->v, m->cap, sizeof(*m->v));
            }
            e = (uint32_t)m->n++;
        }
        m->v[e].kind = (uint8_t)kind;
        m->v[e].pid = pid;
        m->v[e].tid = tid;
        hmap_insert(&m->idx, chrome_key_hash(kind, pid, tid), e);
    }
    m->v[e].val = val;
}

static void chrome_map_del(struct chrome_map *m, enum chrome_kind kind, int32_t pid, int64_t tid)
{
    struct chrome_key k = {.m = m, .tid = tid, .pid = pid, .kind = (uint8_t)kind};
    uint32_t e = hmap_remove(&m->idx, chrome_key_hash(kind, pid, tid), chrome_key_eq, &k);

    if (e != HMAP_NONE) {
        m->v[e].val = m->free;
        m->free = e;
    }
}

static void chrome_map_free(struct chrome_map *m)
{
    hmap_free(&m->idx);
    free(m->v);
}

/* Append a metadata entry and index it. */
static void chrome_meta_add(struct chrome_doc *d, int32_t pid, int64_t tid, bool thread, bool weak,
                            const char *name)
{
    size_t i = d->nmeta;

    if (d->nmeta == d->meta_cap) {
        d->meta_cap = d->meta_cap != 0 ? d->meta_cap * 2U : 16U;
        d->meta = xreallocarray(d->meta, d->meta_cap, sizeof(*d->meta));
    }
    d->meta[i].pid = pid;
    d->meta[i].tid = thread ? tid : 0;
    d->meta[i].thread = thread;
    d->meta[i].weak = weak;
    d->meta[i].name = xstrdup(name);
    d->nmeta++;
    if (!thread && !chrome_map_get(&d->ix, CHROME_K_PROC_FIRST, pid, 0, &(size_t){0})) {
        chrome_map_put(&d->ix, CHROME_K_PROC_FIRST, pid, 0, i);
    }
    /* The last one wins: a process renamed later in the trace keeps its latest name. */
    if (name[0] != '\0') {
        chrome_map_put(&d->ix, thread ? CHROME_K_THREAD_NAME : CHROME_K_PROC_NAME, pid,
                       thread ? tid : 0, i);
    }
}

static void chrome_push(struct chrome_doc *d, const struct chrome_ev *e)
{
    if (d->n == d->cap) {
        d->cap = d->cap != 0 ? d->cap * 2U : 1024U;
        d->ev = xreallocarray(d->ev, d->cap, sizeof(*d->ev));
    }
    d->ev[d->n++] = *e;
    if (!d->any_ts || e->ts_us < d->min_ts) {
        d->min_ts = e->ts_us;
        d->any_ts = true;
    }
}

/* A pid given as a string ("CPU functions" in PyTorch's traces) names its process unless
 * process_name metadata does. */
static void chrome_pid_name(struct chrome_doc *d, const cJSON *pid, int32_t id)
{
    size_t first;

    if (!cJSON_IsString(pid) || chrome_map_get(&d->ix, CHROME_K_PROC_FIRST, id, 0, &first)) {
        return;
    }
    chrome_meta_add(d, id, 0, false, true, pid->valuestring);
}

/* Copy one event we use out of the parsed document (cJSON is freed by the caller); i is its
 * position. Returns false when no more events are taken. */
static bool chrome_copy_one(struct chrome_doc *d, const cJSON *o, size_t i, const char *file,
                            struct replay_problems *pr)
{
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(o, "ph");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *cat = cJSON_GetObjectItemCaseSensitive(o, "cat");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(o, "args");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "ts");
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(o, "dur");
    struct chrome_ev e;
    int64_t pid;

    if (d->n >= CHROME_MAX_EVENTS) {
        replay_problem(pr, file, 0, "more than %u events: the rest is skipped", CHROME_MAX_EVENTS);
        return false;
    }
    if (!cJSON_IsObject(o) || !cJSON_IsString(ph) || ph->valuestring[0] == '\0') {
        replay_problem(pr, file, 0, "event %zu: not an object with a phase (ph)", i);
        return true;
    }
    memset(&e, 0, sizeof(e));
    e.ph = ph->valuestring[0];
    if (!chrome_id(cJSON_GetObjectItemCaseSensitive(o, "pid"), INT32_MAX, &pid) ||
        !chrome_id(cJSON_GetObjectItemCaseSensitive(o, "tid"), CHROME_MAX_INT, &e.tid)) {
        replay_problem(pr, file, 0, "event %zu: pid or tid out of range", i);
        return true;
    }
    e.pid = (int32_t)pid;
    chrome_pid_name(d, cJSON_GetObjectItemCaseSensitive(o, "pid"), e.pid);
    e.index = i;
    if (e.ph == 'M') {
        const cJSON *an = cJSON_GetObjectItemCaseSensitive(args, "name");
        bool thread = cJSON_IsString(name) && strcmp(name->valuestring, "thread_name") == 0;
        bool proc = cJSON_IsString(name) && strcmp(name->valuestring, "process_name") == 0;

        if ((thread || proc) && cJSON_IsString(an)) {
            size_t k;

            /* The name a string pid gave its process yields to process_name metadata. */
            if (proc && chrome_map_get(&d->ix, CHROME_K_PROC_FIRST, e.pid, 0, &k) &&
                d->meta[k].weak) {
                free(d->meta[k].name);
                d->meta[k].name = xstrdup(an->valuestring);
                d->meta[k].weak = false;
                if (an->valuestring[0] != '\0' &&
                    !chrome_map_get(&d->ix, CHROME_K_PROC_NAME, e.pid, 0, &(size_t){0})) {
                    chrome_map_put(&d->ix, CHROME_K_PROC_NAME, e.pid, 0, k);
                }
                return true;
            }
            chrome_meta_add(d, e.pid, e.tid, thread, false, an->valuestring);
        }
        return true;
    }
    if (e.ph != 'X' && e.ph != 'B' && e.ph != 'E' && e.ph != 'C') {
        return true; /* instants, flows, async and object events: not shown by nctop */
    }
    if (!cJSON_IsNumber(ts) ||
        !(ts->valuedouble >= -CHROME_MAX_TS_US && ts->valuedouble <= CHROME_MAX_TS_US)) {
        replay_problem(pr, file, 0, "event %zu: '%c' event without a numeric ts in range", i, e.ph);
        return true;
    }
    e.ts_us = ts->valuedouble;
    if (e.ph == 'X') {
        if (!cJSON_IsNumber(dur) ||
            !(dur->valuedouble >= 0 && dur->valuedouble <= CHROME_MAX_DUR_US)) {
            replay_problem(pr, file, 0, "event %zu: complete event without a valid dur", i);
            return true;
        }
        e.dur_us = dur->valuedouble;
        e.kernel = chrome_is_kernel(cJSON_IsString(cat) ? cat->valuestring : NULL);
    }
    if (e.ph != 'E' && !cJSON_IsString(name)) {
        replay_problem(pr, file, 0, "event %zu: no name", i);
        return true;
    }
    if (e.ph == 'C') {
        /* One counter track per argument: "name" alone, or "name.arg" for several. */
        const cJSON *a;
        int nargs = cJSON_GetArraySize(args);

        cJSON_ArrayForEach(a, args)
        {
            if (!cJSON_IsNumber(a) || a->string == NULL) {
                continue;
            }
            if (!(a->valuedouble >= -CHROME_MAX_INT && a->valuedouble <= CHROME_MAX_INT)) {
                replay_problem(pr, file, 0, "event %zu: counter value out of range", i);
                continue;
            }
            e.value = a->valuedouble;
            e.name = nargs > 1 ? xasprintf("%s.%s", name->valuestring, a->string)
                               : xstrdup(name->valuestring);
            chrome_push(d, &e);
        }
        return true;
    }
    if (e.ph == 'X' && strcmp(name->valuestring, "ExecuteCompiler") == 0) {
        d->clang = true; /* a clang -ftime-trace file: one compilation */
    }
    /* An LLVM codegen pass says which it is in its detail. */
    if (e.ph == 'X' && strcmp(name->valuestring, "RunPass") == 0 &&
        cJSON_IsString(cJSON_GetObjectItemCaseSensitive(args, "detail"))) {
        e.name = xstrdup(cJSON_GetObjectItemCaseSensitive(args, "detail")->valuestring);
    } else {
        e.name = xstrdup(cJSON_IsString(name) ? name->valuestring : "");
    }
    chrome_push(d, &e);
    return true;
}

static uint64_t chrome_ns(const struct chrome_doc *d, double ts_us)
{
    double ns = (ts_us - d->min_ts) * 1000.0;

    /* A second of headroom keeps every time positive after rebasing. */
    return UTIL_NS_PER_SEC + (ns > 0 ? (uint64_t)llround(ns) : 0);
}

static int chrome_cmp_thread(const void *a, const void *b)
{
    const struct chrome_ev *x = *(const struct chrome_ev *const *)a;
    const struct chrome_ev *y = *(const struct chrome_ev *const *)b;

    if (x->pid != y->pid) {
        return x->pid < y->pid ? -1 : 1;
    }
    if (x->tid != y->tid) {
        return x->tid < y->tid ? -1 : 1;
    }
    if (x->ts_us != y->ts_us) {
        return x->ts_us < y->ts_us ? -1 : 1;
    }
    /* Same start: the longer one is the parent. */
    if (x->dur_us != y->dur_us) {
        return x->dur_us > y->dur_us ? -1 : 1;
    }
    return x->index < y->index ? -1 : (x->index > y->index);
}

static int chrome_cmp_out(const void *a, const void *b)
{
    const struct chrome_out *x = a;
    const struct chrome_out *y = b;

    if (x->ts_ns != y->ts_ns) {
        return x->ts_ns < y->ts_ns ? -1 : 1;
    }
    return x->seq < y->seq ? -1 : (x->seq > y->seq);
}

/* B/E pairs of each thread become X events (an E closes the innermost open B of its thread).
 * Each thread's open B events form a chain through prev, its head in the index: O(1) each. */
static void chrome_pair(struct chrome_doc *d, const char *file, struct replay_problems *pr)
{
    size_t *prev = xcalloc(d->n + 1U, sizeof(*prev)); /* open B below this one, + 1 (0: none) */

    for (size_t i = 0; i < d->n; i++) {
        struct chrome_ev *e = &d->ev[i];
        size_t top = 0;

        if (e->ph == 'B') {
            prev[i] = chrome_map_get(&d->ix, CHROME_K_OPEN, e->pid, e->tid, &top) ? top + 1U : 0;
            chrome_map_put(&d->ix, CHROME_K_OPEN, e->pid, e->tid, i);
        } else if (e->ph == 'E') {
            if (!chrome_map_get(&d->ix, CHROME_K_OPEN, e->pid, e->tid, &top)) {
                replay_problem(pr, file, 0, "event %zu: end (E) without a begin", e->index);
            } else {
                struct chrome_ev *b = &d->ev[top];

                b->ph = 'X';
                b->dur_us = e->ts_us >= b->ts_us ? e->ts_us - b->ts_us : 0;
                if (prev[top] != 0) {
                    chrome_map_put(&d->ix, CHROME_K_OPEN, e->pid, e->tid, prev[top] - 1U);
                } else {
                    chrome_map_del(&d->ix, CHROME_K_OPEN, e->pid, e->tid);
                }
            }
        }
    }
    for (size_t i = 0; i < d->n; i++) {
        if (d->ev[i].ph == 'B') {
            replay_problem(pr, file, 0, "event %zu: begin (B) never ended: skipped",
                           d->ev[i].index);
        }
    }
    free(prev);
}

static const char *chrome_meta_name(const struct chrome_doc *d, int32_t pid, int64_t tid,
                                    bool thread)
{
    size_t i;

    if (!chrome_map_get(&d->ix, thread ? CHROME_K_THREAD_NAME : CHROME_K_PROC_NAME, pid,
                        thread ? tid : 0, &i)) {
        return NULL;
    }
    return d->meta[i].name[0] != '\0' ? d->meta[i].name : NULL;
}

/* Nest the spans of each thread by containment and write everything in time order. */
static void chrome_emit(struct chrome_doc *d, struct replay_conv *c, const char *file)
{
    const struct chrome_ev **v = xcalloc(d->n + 1U, sizeof(*v));
    const struct chrome_ev **stack = xcalloc(d->n + 1U, sizeof(*stack));
    uint64_t *stack_end = xcalloc(d->n + 1U, sizeof(*stack_end));
    struct chrome_out *out = xcalloc(2U * d->n + 1U, sizeof(*out));
    size_t nv = 0, nout = 0, depth = 0;
    const char *base = strrchr(file, '/');

    for (size_t i = 0; i < d->n; i++) {
        if (d->clang && d->ev[i].ph == 'X' && strncmp(d->ev[i].name, "Total ", 6) == 0) {
            continue; /* clang's per-name sums of the spans themselves, on tracks of their own */
        }
        if (d->ev[i].ph == 'X' && !d->ev[i].kernel) {
            v[nv++] = &d->ev[i];
        } else if (d->ev[i].ph == 'X' || d->ev[i].ph == 'C') {
            out[nout].ts_ns = chrome_ns(d, d->ev[i].ts_us);
            out[nout].type = d->ev[i].ph == 'C' ? STORE_EV_COUNTER : STORE_EV_KERNEL;
            out[nout].dur_ns = (uint64_t)llround(d->ev[i].dur_us * 1000.0);
            out[nout].ev = &d->ev[i];
            nout++;
        }
    }
    qsort(v, nv, sizeof(*v), chrome_cmp_thread);
    for (size_t i = 0; i <= nv; i++) {
        const struct chrome_ev *e = i < nv ? v[i] : NULL;
        uint64_t b = e != NULL ? chrome_ns(d, e->ts_us) : 0, end;

        /* Close what ended before this event starts, or everything at a new thread. */
        while (depth > 0 && (e == NULL || e->pid != stack[depth - 1]->pid ||
                             e->tid != stack[depth - 1]->tid || stack_end[depth - 1] <= b)) {
            depth--;
            out[nout].ts_ns = stack_end[depth];
            out[nout].type = STORE_EV_SPAN_END;
            out[nout].ev = stack[depth];
            nout++;
        }
        if (e == NULL) {
            break;
        }
        end = b + (uint64_t)llround(e->dur_us * 1000.0);
        /* A span that overlaps its parent's end without being inside it is clipped. */
        if (depth > 0 && end > stack_end[depth - 1]) {
            end = stack_end[depth - 1];
        }
        stack[depth] = e;
        stack_end[depth] = end;
        depth++;
        out[nout].ts_ns = b;
        out[nout].type = STORE_EV_SPAN_BEGIN;
        out[nout].ev = e;
        nout++;
    }
    for (size_t i = 0; i < nout; i++) {
        out[i].seq = i;
    }
    qsort(out, nout, sizeof(*out), chrome_cmp_out);

    for (size_t i = 0; i < nout; i++) {
        const struct chrome_ev *e = out[i].ev;
        const char *pname = chrome_meta_name(d, e->pid, 0, false);
        uint32_t proc = replay_conv_proc(c, e->pid,
                                         pname != NULL  ? pname
                                         : base != NULL ? base + 1
                                                        : file);
        struct record_ev r;

        memset(&r, 0, sizeof(r));
        r.type = (uint32_t)out[i].type;
        r.proc = proc;
        r.ts_ns = out[i].ts_ns;
        r.id = replay_conv_name(c, proc, e->name);
        if (out[i].type == STORE_EV_KERNEL) {
            r.aux = replay_conv_name(c, proc, "gpu");
            r.a = out[i].dur_ns;
        } else if (out[i].type == STORE_EV_COUNTER) {
            r.a = e->value > 0 ? (uint64_t)llround(e->value) : 0; /* bounded when read */
        } else {
            r.thread =
                replay_conv_thread(c, proc, e->tid, chrome_meta_name(d, e->pid, e->tid, true));
        }
        /* clang's compilation: ended ok (a failed compile writes no trace), labelled with the
         * compiler and the file, its passes kept with it. */
        if (d->clang && out[i].type == STORE_EV_SPAN_END &&
            strcmp(e->name, "ExecuteCompiler") == 0) {
            r.type = STORE_EV_SPAN_STATUS;
            r.aux = 0;
        }
        record_writer_put(replay_conv_writer(c), &r);
        if (d->clang && out[i].type == STORE_EV_SPAN_BEGIN &&
            strcmp(e->name, "ExecuteCompiler") == 0) {
            const char *fname = base != NULL ? base + 1 : file;
            size_t flen = strlen(fname);
            char *model = xstrndup(
                fname, flen > 5 && strcmp(fname + flen - 5, ".json") == 0 ? flen - 5 : flen);

            r.type = STORE_EV_SPAN_ATTR;
            r.id = replay_conv_name(c, proc, "compiler");
            r.aux = replay_conv_name(c, proc, "clang");
            record_writer_put(replay_conv_writer(c), &r);
            r.id = replay_conv_name(c, proc, "model");
            r.aux = replay_conv_name(c, proc, model);
            record_writer_put(replay_conv_writer(c), &r);
            free(model);
        }
        replay_conv_tick(c, out[i].ts_ns, CHROME_TICK_NS);
    }
    if (nout > 0) {
        replay_conv_tick(c, out[nout - 1].ts_ns, 0);
    }
    free(out);
    free(stack_end);
    free(stack);
    free(v);
}

static size_t chrome_line_at(const char *data, const char *at)
{
    size_t line = 1;

    for (const char *s = data; s < at; s++) {
        line += *s == '\n';
    }
    return line;
}

static const char *chrome_skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
    }
    return p;
}

/* Where the event array starts: the document itself ("[...]") or the traceEvents member of
 * the top-level object, found by walking the members (each other value is parsed alone and
 * dropped). A document cut short or malformed before it falls back to the first
 * "traceEvents" key followed by '['. NULL: no event array. */
static const char *chrome_find_events(const char *data, size_t len)
{
    const char *end = data + len, *p = chrome_skip_ws(data, end), *key;

    if (p < end && *p == '[') {
        return p;
    }
    if (p == end || *p != '{') {
        return NULL;
    }
    p++;
    for (;;) {
        const char *after = NULL;
        cJSON *k, *v;
        bool match;

        p = chrome_skip_ws(p, end);
        if (p == end || *p != '"') {
            break;
        }
        k = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &after, false);
        match = cJSON_IsString(k) && strcmp(k->valuestring, "traceEvents") == 0;
        cJSON_Delete(k);
        if (after == NULL || after <= p) {
            break;
        }
        p = chrome_skip_ws(after, end);
        if (p == end || *p != ':') {
            break;
        }
        p = chrome_skip_ws(p + 1, end);
        if (match) {
            return p < end && *p == '[' ? p : NULL;
        }
        after = NULL;
        v = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &after, false);
        match = v != NULL && after != NULL && after > p;
        cJSON_Delete(v);
        if (!match) {
            break;
        }
        p = chrome_skip_ws(after, end);
        if (p == end || *p != ',') {
            return NULL; /* the object ended without traceEvents */
        }
        p++;
    }
    key = memmem(data, len, "\"traceEvents\"", 13);
    if (key == NULL) {
        return NULL;
    }
    p = chrome_skip_ws(key + 13, end);
    if (p < end && *p == ':') {
        p = chrome_skip_ws(p + 1, end);
    }
    return p < end && *p == '[' ? p : NULL;
}

long replay_chrome_convert(const char *file, const char *data, size_t len, struct record_writer *w,
                           struct replay_problems *pr)
{
    return replay_chrome_convert_stream(file, data, len, w, pr, NULL);
}

long replay_chrome_convert_stream(const char *file, const char *data, size_t len,
                                  struct record_writer *w, struct replay_problems *pr,
                                  struct replay_release *rel)
{
    const char *end = data + len, *p = chrome_find_events(data, len);
    struct chrome_doc d;
    struct replay_conv *c;
    size_t i = 0;
    long n;

    if (p == NULL) {
        return -1;
    }
    memset(&d, 0, sizeof(d));
    d.ix.idx = (struct hmap)HMAP_INIT;
    d.ix.free = SIZE_MAX;
    /* One event at a time: parsed, copied, dropped; a cut or a malformed event ends it. */
    for (p++;;) {
        const char *after = NULL;
        cJSON *item;
        bool more;

        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ',')) {
            p++;
        }
        if (p >= end || *p == ']') {
            break;
        }
        item = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), &after, false);
        if (item == NULL || after == NULL || after <= p) {
            cJSON_Delete(item);
            replay_problem(pr, file, chrome_line_at(data, p),
                           "trace cut short or malformed here: events up to this point loaded");
            break;
        }
        more = chrome_copy_one(&d, item, ++i, file, pr);
        cJSON_Delete(item);
        if (!more) {
            break;
        }
        p = after;
        replay_release(rel, (size_t)(p - data));
    }

    chrome_pair(&d, file, pr);
    c = replay_conv_new(w);
    chrome_emit(&d, c, file);
    replay_conv_free(c);
    n = (long)d.n;
    for (size_t k = 0; k < d.n; k++) {
        free(d.ev[k].name);
    }
    for (size_t k = 0; k < d.nmeta; k++) {
        free(d.meta[k].name);
    }
    free(d.ev);
    free(d.meta);
    chrome_map_free(&d.ix);
    return n;
}
