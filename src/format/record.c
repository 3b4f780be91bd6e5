/* SPDX-License-Identifier: MIT */
/* The recording format (record.h): a buffered varint encoder fed by the store observer, and
 * a bounds-checked decoder that never trusts the file. */
#include "src/format/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/hash.h"
#include "src/base/hmap.h"
#include "src/base/xalloc.h"
#include "src/model/matrix.h"

#define RECORD_BUF_BYTES (256U * 1024U) /* one fwrite per this much: keeps up with the ring */
/* The buffer starts this small and doubles up to RECORD_BUF_BYTES before the first write:
 * a short recording (a converted log, a test) never takes the whole of it. */
#define RECORD_BUF_FIRST 4096U
#define RECORD_MAX_FIXED 256U /* bound of a record without its string and path */

struct record_writer {
    FILE *f;
    unsigned char *buf;
    size_t len;
    size_t cap;
    uint64_t prev_ts; /* the time deltas are relative to */
    int error;        /* first write error, -errno */
    uint64_t records;
    uint64_t bytes;
    uint64_t lost; /* records not written after an error */

    const struct store_proc **procs; /* index = file process number */
    uint32_t nprocs;
    uint32_t procs_cap;
    uint32_t last_proc;  /* the most recent hit: events come in runs per process */
    struct hmap threads; /* hash_u64(thread pointer) -> key: the mix is one-to-one, so equal
                          * hashes are the same pointer */
    uint32_t next_thread;
};

struct record_reader {
    const unsigned char *p;
    size_t len;
    size_t off;
    uint64_t prev_ts;
    uint64_t mono_ns;
    uint64_t real_ns;
    uint32_t version; /* of the file: version 1 has no request id in STEP */
    bool clean_end;
    bool done;
    uint32_t path[RECORD_MAX_DEPTH];
    uint64_t values[RECORD_MAX_DEPTH];
    struct store_gpu_dev *gpus; /* GPUS: STORE_GPU_MAX of them, made at the first one */
    struct matrix *matrix;      /* MATRIX: the last one decoded (owned, reused while it fits) */
};

/* --- the format: one table, walked by the encoder, the decoder and record_describe ------- */

/* How a field is written. */
enum record_kind {
    RK_U,      /* unsigned varint */
    RK_S,      /* zigzag varint */
    RK_T,      /* time: zigzag delta from the previous time of the file */
    RK_STR,    /* varint length, bytes */
    RK_OSTR,   /* varint length + 1, bytes; 0: no string */
    RK_PATH,   /* varint depth, then depth varints (name ids) */
    RK_STATS,  /* count, total, last, mean, min, max, p50, p95, p99 (ns), share_valid | absent
                * << 1, [f64] */
    RK_SCHED,  /* on-CPU, run queue, blocked (ns), voluntary and involuntary switches, faults,
                * minor and major faults: eight varints */
    RK_GPUS,   /* varint n, then n devices: index, str? name, flags (1: utilization, 2: memory),
                * utilization %, memory used, memory total */
    RK_VALUES, /* depth varints (the depth of the path before it) */
    RK_PARTS,  /* 3 x (s bytes, s peak): pool, KV pool, KV cache */
    RK_MATRIX, /* u rows, u cols (1..256), rows + cols labels (str, at most 15 bytes), then u
                * encoding: 0 dense (rows * cols f32 LE, row-major), 1 sparse (u n, then n x
                * (u index delta from the previous entry's index + 1, f32 LE); the others 0) */
};

/* Which member of struct record_ev a field is. */
enum record_member {
    RM_NONE,
    RM_PROC,   /* uint32_t */
    RM_THREAD, /* uint32_t */
    RM_ID,     /* uint32_t */
    RM_AUX,    /* uint32_t */
    RM_LEVEL,  /* uint16_t */
    RM_TS,     /* uint64_t */
    RM_I,      /* int64_t */
    RM_A,      /* uint64_t */
    RM_B,      /* uint64_t */
    RM_C,      /* uint64_t */
};

struct record_field {
    const char *name; /* in record_describe */
    uint8_t kind;     /* enum record_kind */
    uint8_t member;   /* enum record_member */
    uint8_t since;    /* the first format version with this field; before it, 0 */
    bool names;       /* it holds name ids of the process (NAME records say what they are) */
};

#define RECORD_MAX_FIELDS 8

struct record_layout {
    const char *name; /* NULL: not a record type */
    struct record_field f[RECORD_MAX_FIELDS];
    uint8_t since; /* the first format version with this type (0: 1) */
};

#define RECORD_TYPES (RECORD_END + 1U)

#define RF(n, k, m)                                                                                \
    {                                                                                              \
        n, k, m, 1, false                                                                          \
    }
#define RN(n, k, m) /* a field of name ids */                                                      \
    {                                                                                              \
        n, k, m, 1, true                                                                           \
    }
#define PROC RF("proc", RK_U, RM_PROC)
#define THREAD RF("thread", RK_U, RM_THREAD)
#define NAME RN("name", RK_U, RM_ID)
#define TIME RF("time", RK_T, RM_TS)

static const struct record_layout record_layouts[RECORD_TYPES] = {
    [STORE_EV_PROC_ADD] = {"PROC_ADD", {RF("pid", RK_S, RM_I), RF("label", RK_STR, RM_NONE)}, 0},
    [STORE_EV_LABEL] = {"LABEL", {PROC, RF("label", RK_STR, RM_NONE)}, 0},
    [STORE_EV_STATE] = {"STATE",
                        {PROC, RF("state", RK_U, RM_ID), TIME, RF("reason", RK_OSTR, RM_NONE)},
                        0},
    [STORE_EV_INVALID] = {"INVALID",
                          {PROC, RF("n", RK_U, RM_A), RF("reason", RK_OSTR, RM_NONE)},
                          0},
    [STORE_EV_NAME] = {"NAME", {PROC, RF("id", RK_U, RM_ID), RF("name", RK_STR, RM_NONE)}, 0},
    [STORE_EV_DROPPED] = {"DROPPED", {PROC, RF("n", RK_U, RM_A)}, 0},
    [STORE_EV_HOST] = {"HOST",
                       {PROC, TIME, RF("rss", RK_U, RM_A), RF("peak", RK_U, RM_B),
                        RF("cpu_ns", RK_U, RM_C)},
                       0},
    [STORE_EV_GAUGE] = {"GAUGE",
                        {PROC, NAME, RF("kind|flags<<16", RK_U, RM_AUX), RF("used", RK_U, RM_A),
                         RF("capacity", RK_U, RM_B), RF("peak", RK_U, RM_C)},
                        0},
    [STORE_EV_WEIGHT] = {"WEIGHT",
                         {PROC, RN("path", RK_U, RM_ID), RF("flags", RK_U, RM_AUX),
                          RF("bytes", RK_U, RM_A)},
                         0},
    [STORE_EV_COUNTER] = {"COUNTER", {PROC, NAME, RF("value", RK_U, RM_A), TIME}, 0},
    [STORE_EV_EVENTS] = {"EVENTS", {PROC, RF("n", RK_U, RM_A)}, 0},
    [STORE_EV_THREAD_ADD] = {"THREAD_ADD",
                             {PROC, THREAD, RF("tid", RK_S, RM_I), RF("name", RK_OSTR, RM_NONE)},
                             0},
    [STORE_EV_THREAD_NAME] = {"THREAD_NAME", {THREAD, RF("name", RK_OSTR, RM_NONE)}, 0},
    [STORE_EV_THREAD_EXIT] = {"THREAD_EXIT", {THREAD, TIME}, 0},
    [STORE_EV_THREAD_GAP] = {"THREAD_GAP", {THREAD}, 0},
    [STORE_EV_SPAN_BEGIN] = {"SPAN_BEGIN", {THREAD, NAME, TIME}, 0},
    [STORE_EV_SPAN_END] = {"SPAN_END", {THREAD, NAME, TIME}, 0},
    [STORE_EV_MEM_DELTA] = {"MEM_DELTA", {THREAD, RF("bytes", RK_S, RM_I), TIME}, 0},
    [STORE_EV_KERNEL] = {"KERNEL",
                         {PROC, NAME, RN("backend", RK_U, RM_AUX), RF("start", RK_T, RM_TS),
                          RF("duration_ns", RK_U, RM_A)},
                         0},
    [STORE_EV_STEP] = {"STEP",
                       {PROC,
                        RF("kind", RK_U, RM_ID),
                        RF("n", RK_U, RM_A),
                        TIME,
                        {"request", RK_U, RM_B, 2, false}},
                       0},
    [STORE_EV_NODE_IMPORT] = {"NODE_IMPORT",
                              {PROC, TIME, RN("names", RK_PATH, RM_NONE),
                               RF("statistics", RK_STATS, RM_NONE)},
                              0},
    [STORE_EV_MEM_IMPORT_CLEAR] = {"MEM_IMPORT_CLEAR", {PROC}, 0},
    [STORE_EV_LOSS] = {"LOSS", {PROC, RF("cause", RK_U, RM_ID), RF("n", RK_U, RM_A)}, 3},
    [STORE_EV_SYS_THREAD] = {"SYS_THREAD",
                             {PROC, RF("tid", RK_S, RM_I), RF("name", RK_OSTR, RM_NONE),
                              RF("exited", RK_U, RM_AUX), RF("sched", RK_SCHED, RM_NONE)},
                             3},
    [STORE_EV_SYS_CALL] = {"SYS_CALL",
                           {PROC, RF("nr", RK_U, RM_ID), RF("name", RK_OSTR, RM_NONE),
                            RF("count", RK_U, RM_A), RF("total_ns", RK_U, RM_B)},
                           3},
    [STORE_EV_SYS_MAPPED] = {"SYS_MAPPED",
                             {PROC, RF("mmap", RK_U, RM_A), RF("munmap", RK_U, RM_B),
                              RF("brk", RK_S, RM_I)},
                             3},
    [STORE_EV_SYS_DROPPED] = {"SYS_DROPPED", {PROC, RF("n", RK_U, RM_A)}, 3},
    [STORE_EV_GPUS] = {"GPUS", {RF("devices", RK_GPUS, RM_NONE), RF("error", RK_OSTR, RM_NONE)}, 3},
    [STORE_EV_PROC_GPU] = {"PROC_GPU",
                           {PROC, RF("devices", RK_PATH, RM_NONE), RF("bytes", RK_VALUES, RM_NONE)},
                           3},
    [STORE_EV_MEM_IMPORT] = {"MEM_IMPORT",
                             {PROC, RF("level", RK_U, RM_LEVEL), RN("label", RK_U, RM_ID),
                              RF("flags", RK_U, RM_AUX), RF("bytes", RK_S, RM_I),
                              RF("peak", RK_S, RM_A), RF("capacity", RK_U, RM_B)},
                             0},
    [STORE_EV_MEM_IMPORT_PARTS] = {"MEM_IMPORT_PARTS", {PROC, RF("parts", RK_PARTS, RM_NONE)}, 3},
    [STORE_EV_PROBE_BEGIN] = {"PROBE_BEGIN", {THREAD, NAME, TIME}, 4},
    [STORE_EV_PROBE_END] = {"PROBE_END", {THREAD, NAME, TIME}, 4},
    [STORE_EV_THREAD_GAP_ALL] = {"THREAD_GAP_ALL", {THREAD}, 4},
    [STORE_EV_VALUE] = {"VALUE",
                        {PROC, NAME, RN("unit", RK_U, RM_AUX), RF("f64 bits", RK_U, RM_A), TIME},
                        4},
    [STORE_EV_ATTR] = {"ATTR", {PROC, RN("key", RK_U, RM_ID), RN("value", RK_U, RM_AUX)}, 4},
    [STORE_EV_SPAN_STATUS] = {"SPAN_STATUS", {THREAD, NAME, TIME, RN("status", RK_U, RM_AUX)}, 4},
    [STORE_EV_SPAN_ATTR] = {"SPAN_ATTR",
                            {THREAD, RN("key", RK_U, RM_ID), RN("value", RK_U, RM_AUX), TIME},
                            4},
    [STORE_EV_PARENT] = {"PARENT", {PROC, RF("ppid", RK_S, RM_I)}, 5},
    [STORE_EV_EXIT] = {"EXIT", {PROC, RF("status", RK_S, RM_I), RF("signal", RK_U, RM_AUX)}, 5},
    /* The GPUs' power facts are a type of their own, not fields of GPUS: they have a time
     * (their power is over the window) and GPUS records of versions 3 to 5 stay as they are. */
    [STORE_EV_GPU_POWER] = {"GPU_POWER",
                            {RF("gpu", RK_U, RM_ID), RF("flags", RK_U, RM_AUX),
                             RF("power_mw", RK_U, RM_A), RF("energy_mj", RK_U, RM_B),
                             RF("procs", RK_U, RM_C), TIME},
                            5},
    [STORE_EV_RAPL_ZONE] = {"RAPL_ZONE",
                            {RF("zone", RK_STR, RM_NONE), RF("energy_uj", RK_U, RM_A), TIME},
                            5},
    [STORE_EV_RAPL_STATE] = {"RAPL_STATE", {RF("state", RK_OSTR, RM_NONE)}, 5},
    [STORE_EV_MATRIX] = {"MATRIX",
                         {PROC, NAME, RN("unit", RK_U, RM_AUX), TIME,
                          RF("matrix", RK_MATRIX, RM_NONE)},
                         6},
    [RECORD_TICK] = {"TICK", {TIME}, 0},
    [RECORD_END] = {"END", {{NULL, 0, 0, 0, false}}, 0},
};

#undef RF
#undef RN
#undef PROC
#undef THREAD
#undef NAME
#undef TIME

static uint64_t record_member_get(const struct record_ev *ev, unsigned m)
{
    switch (m) {
    case RM_PROC:
        return ev->proc;
    case RM_THREAD:
        return ev->thread;
    case RM_ID:
        return ev->id;
    case RM_AUX:
        return ev->aux;
    case RM_LEVEL:
        return ev->level;
    case RM_TS:
        return ev->ts_ns;
    case RM_I:
        return (uint64_t)ev->i;
    case RM_A:
        return ev->a;
    case RM_B:
        return ev->b;
    case RM_C:
        return ev->c;
    default:
        return 0;
    }
}

/* Store v into member m; false when it does not fit the member's width. */
static bool record_member_set(struct record_ev *ev, unsigned m, uint64_t v)
{
    uint64_t max = m == RM_LEVEL ? UINT16_MAX : m <= RM_AUX ? UINT32_MAX : UINT64_MAX;

    if (v > max) {
        return false;
    }
    switch (m) {
    case RM_PROC:
        ev->proc = (uint32_t)v;
        break;
    case RM_THREAD:
        ev->thread = (uint32_t)v;
        break;
    case RM_ID:
        ev->id = (uint32_t)v;
        break;
    case RM_AUX:
        ev->aux = (uint32_t)v;
        break;
    case RM_LEVEL:
        ev->level = (uint16_t)v;
        break;
    case RM_TS:
        ev->ts_ns = v;
        break;
    case RM_I:
        ev->i = (int64_t)v;
        break;
    case RM_A:
        ev->a = v;
        break;
    case RM_B:
        ev->b = v;
        break;
    case RM_C:
        ev->c = v;
        break;
    default:
        break;
    }
    return true;
}

unsigned record_fields(uint32_t type)
{
    const struct record_layout *l;
    unsigned out = 0;

    if (type >= RECORD_TYPES || record_layouts[type].name == NULL) {
        return 0;
    }
    l = &record_layouts[type];
    for (unsigned k = 0; k < RECORD_MAX_FIELDS && l->f[k].name != NULL; k++) {
        const struct record_field *f = &l->f[k];

        if (f->member == RM_PROC) {
            out |= RECORD_HAS_PROC;
        } else if (f->member == RM_THREAD) {
            out |= RECORD_HAS_THREAD;
        } else if (f->names) {
            out |= f->kind == RK_PATH   ? RECORD_NAMES_PATH
                   : f->member == RM_ID ? RECORD_NAMES_ID
                                        : RECORD_NAMES_AUX;
        }
    }
    return out;
}

static const char *const record_kind_names[] = {
    [RK_U] = "u",       [RK_S] = "s",           [RK_T] = "t",         [RK_STR] = "str",
    [RK_OSTR] = "str?", [RK_PATH] = "path",     [RK_STATS] = "stats", [RK_SCHED] = "sched",
    [RK_GPUS] = "gpus", [RK_VALUES] = "values", [RK_PARTS] = "parts", [RK_MATRIX] = "matrix",
};

size_t record_describe(char *buf, size_t len)
{
    size_t n = 0;

    for (unsigned t = 0; t < RECORD_TYPES; t++) {
        const struct record_layout *l = &record_layouts[t];

        if (l->name == NULL) {
            continue;
        }
        n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "%s", l->name);
        if (l->since > 1) {
            n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0,
                                  " (from version %u):", l->since);
        }
        for (unsigned k = 0; k < RECORD_MAX_FIELDS && l->f[k].name != NULL; k++) {
            const struct record_field *f = &l->f[k];
            char since[24] = "";

            if (f->since > 1) {
                snprintf(since, sizeof(since), " (from version %u)", f->since);
            }
            n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "%s %s %s%s",
                                  k == 0 ? "" : ",", record_kind_names[f->kind], f->name, since);
        }
        n += (size_t)snprintf(buf + (n < len ? n : len), n < len ? len - n : 0, "\n");
    }
    return n;
}

/* --- encoding ----------------------------------------------------------------------------- */

static unsigned char *record_put_u(unsigned char *d, uint64_t v)
{
    while (v >= 0x80) {
        *d++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *d++ = (unsigned char)v;
    return d;
}

static unsigned char *record_put_s(unsigned char *d, int64_t v)
{
    /* Zigzag: small magnitudes of either sign take few bytes. */
    return record_put_u(d, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static unsigned char *record_put_t(struct record_writer *w, unsigned char *d, uint64_t ts)
{
    d = record_put_s(d, (int64_t)(ts - w->prev_ts));
    w->prev_ts = ts;
    return d;
}

static unsigned char *record_put_str(unsigned char *d, const char *s, size_t len, bool optional)
{
    if (s == NULL) {
        return record_put_u(d, 0);
    }
    if (len > RECORD_MAX_STR) {
        len = RECORD_MAX_STR;
    }
    d = record_put_u(d, optional ? len + 1U : len);
    memcpy(d, s, len);
    return d + len;
}

static void record_put_le(unsigned char *d, uint64_t v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        d[i] = (unsigned char)(v >> (8 * i));
    }
}

int record_writer_flush(struct record_writer *w)
{
    if (w->error == 0 && w->len > 0) {
        if (fwrite(w->buf, 1, w->len, w->f) != w->len || fflush(w->f) != 0) {
            w->error = errno != 0 ? -errno : -EIO;
        }
    }
    w->len = 0;
    return w->error;
}

struct record_writer *record_writer_new(FILE *f, uint64_t mono_ns, uint64_t real_ns)
{
    struct record_writer *w = xcalloc(1, sizeof(*w));

    w->f = f;
    w->cap = RECORD_BUF_FIRST;
    w->buf = xmalloc(w->cap);
    memcpy(w->buf, RECORD_MAGIC, 8);
    record_put_le(w->buf + 8, RECORD_VERSION, 4);
    record_put_le(w->buf + 12, 0, 4);
    record_put_le(w->buf + 16, mono_ns, 8);
    record_put_le(w->buf + 24, real_ns, 8);
    w->len = RECORD_HEADER_BYTES;
    w->bytes = RECORD_HEADER_BYTES;
    w->prev_ts = mono_ns;
    return w;
}

int record_writer_free(struct record_writer *w)
{
    struct record_ev end = {.type = RECORD_END};
    int rc;

    if (w == NULL) {
        return 0;
    }
    record_writer_put(w, &end);
    rc = record_writer_flush(w);
    free(w->buf);
    free(w->procs);
    hmap_free(&w->threads);
    free(w);
    return rc;
}

/* A matrix: its sizes, labels, then its values dense or sparse, whichever is shorter (a spike
 * raster is mostly zeros). */
static unsigned char *record_put_matrix(unsigned char *d, const struct matrix *m)
{
    size_t n = (size_t)m->rows * m->cols, nz = 0;

    d = record_put_u(d, m->rows);
    d = record_put_u(d, m->cols);
    for (uint32_t r = 0; r < m->rows; r++) {
        const char *l = matrix_row_label(m, r);

        d = record_put_str(d, l, strlen(l), false);
    }
    for (uint32_t c = 0; c < m->cols; c++) {
        const char *l = matrix_col_label(m, c);

        d = record_put_str(d, l, strlen(l), false);
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;

        memcpy(&bits, &m->values[i], sizeof(bits));
        nz += bits != 0 ? 1 : 0;
    }
    d = record_put_u(d, nz * 6 < n * 4 ? 1 : 0);
    if (nz * 6 < n * 4) {
        size_t prev = 0;

        d = record_put_u(d, nz);
        for (size_t i = 0; i < n; i++) {
            uint32_t bits;

            memcpy(&bits, &m->values[i], sizeof(bits));
            if (bits == 0) {
                continue;
            }
            d = record_put_u(d, i - prev);
            record_put_le(d, bits, 4);
            d += 4;
            prev = i + 1;
        }
        return d;
    }
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;

        memcpy(&bits, &m->values[i], sizeof(bits));
        record_put_le(d, bits, 4);
        d += 4;
    }
    return d;
}

/* The fields of ev as layout l says, at d. Returns the end. */
static unsigned char *record_encode(struct record_writer *w, unsigned char *d,
                                    const struct record_layout *l, const struct record_ev *ev)
{
    for (unsigned k = 0; k < RECORD_MAX_FIELDS && l->f[k].name != NULL; k++) {
        const struct record_field *f = &l->f[k];
        const struct store_import_stats *st = &ev->stats;

        switch (f->kind) {
        case RK_U:
            d = record_put_u(d, record_member_get(ev, f->member));
            break;
        case RK_S:
            d = record_put_s(d, (int64_t)record_member_get(ev, f->member));
            break;
        case RK_T:
            d = record_put_t(w, d, record_member_get(ev, f->member));
            break;
        case RK_STR:
        case RK_OSTR:
            d = record_put_str(d, ev->str, ev->str_len, f->kind == RK_OSTR);
            break;
        case RK_PATH:
            d = record_put_u(d, ev->depth);
            for (uint32_t i = 0; i < ev->depth; i++) {
                d = record_put_u(d, ev->path[i]);
            }
            break;
        case RK_SCHED:
            d = record_put_u(d, ev->sched.oncpu_ns);
            d = record_put_u(d, ev->sched.runq_ns);
            d = record_put_u(d, ev->sched.blocked_ns);
            d = record_put_u(d, ev->sched.vol_switches);
            d = record_put_u(d, ev->sched.invol_switches);
            d = record_put_u(d, ev->sched.faults);
            d = record_put_u(d, ev->sched.minor_faults);
            d = record_put_u(d, ev->sched.major_faults);
            break;
        case RK_GPUS:
            d = record_put_u(d, ev->depth);
            for (uint32_t i = 0; i < ev->depth; i++) {
                const struct store_gpu_dev *g = &ev->gpus[i];

                d = record_put_u(d, g->index);
                d = record_put_str(d, g->name, strnlen(g->name, sizeof(g->name) - 1), true);
                d = record_put_u(d, (g->util_valid ? 1U : 0U) | (g->mem_valid ? 2U : 0U));
                d = record_put_u(d, g->util_pct);
                d = record_put_u(d, g->mem_used_bytes);
                d = record_put_u(d, g->mem_total_bytes);
            }
            break;
        case RK_VALUES:
            for (uint32_t i = 0; i < ev->depth; i++) {
                d = record_put_u(d, ev->values[i]);
            }
            break;
        case RK_MATRIX:
            d = record_put_matrix(d, ev->matrix);
            break;
        case RK_PARTS:
            for (int i = 0; i < STORE_NPARTS; i++) {
                d = record_put_s(d, ev->parts.bytes[i]);
                d = record_put_s(d, ev->parts.peak_bytes[i]);
            }
            break;
        default: /* RK_STATS */
            d = record_put_u(d, st->count);
            d = record_put_u(d, st->total_ns);
            d = record_put_u(d, st->last_ns);
            d = record_put_u(d, st->mean_ns);
            d = record_put_u(d, st->min_ns);
            d = record_put_u(d, st->max_ns);
            d = record_put_u(d, st->p50_ns);
            d = record_put_u(d, st->p95_ns);
            d = record_put_u(d, st->p99_ns);
            /* Bit 0: share_valid; the bits above: the STORE_STAT_* figures the log lacked. */
            d = record_put_u(d, (uint64_t)st->share_valid | (uint64_t)(st->absent & STORE_STAT_ALL)
                                                                << 1);
            if (st->share_valid) {
                uint64_t bits;

                memcpy(&bits, &st->share_pct, sizeof(bits));
                record_put_le(d, bits, 8);
                d += 8;
            }
            break;
        }
    }
    return d;
}

void record_writer_put(struct record_writer *w, const struct record_ev *ev)
{
    /* A path or values take at most 10 bytes an entry; a device at most 10 varints and its
     * name. */
    size_t need = RECORD_MAX_FIXED + (ev->str != NULL ? ev->str_len : 0) +
                  ev->depth * (ev->type == STORE_EV_GPUS ? 60U + STORE_GPU_NAME_LEN : 20U);

    /* A matrix: a label takes at most 16 bytes, a sparse value 4 and a delta at most 3. */
    if (ev->type == STORE_EV_MATRIX && ev->matrix != NULL) {
        need += (size_t)ev->matrix->rows * ev->matrix->cols * 7U +
                ((size_t)ev->matrix->rows + ev->matrix->cols) * MATRIX_LABEL_BYTES;
    } else if (ev->type == STORE_EV_MATRIX) {
        w->lost++;
        return;
    }
    unsigned char *d;

    if (w->error != 0) {
        w->lost++;
        return;
    }
    if (w->cap - w->len < need && w->cap < RECORD_BUF_BYTES) {
        size_t cap = w->cap;

        while (cap < RECORD_BUF_BYTES && cap - w->len < need) {
            cap *= 2U;
        }
        w->cap = cap;
        w->buf = xreallocarray(w->buf, 1, w->cap);
    }
    if (w->cap - w->len < need && record_writer_flush(w) != 0) {
        w->lost++;
        return;
    }
    if (w->cap < need) {
        w->cap = need;
        w->buf = xreallocarray(w->buf, 1, w->cap);
    }
    d = w->buf + w->len;
    *d++ = (unsigned char)ev->type;
    if (ev->type < RECORD_TYPES) {
        d = record_encode(w, d, &record_layouts[ev->type], ev);
    }
    w->bytes += (size_t)(d - (w->buf + w->len));
    w->len = (size_t)(d - w->buf);
    w->records++;
}

void record_writer_tick(struct record_writer *w, uint64_t now_ns)
{
    struct record_ev ev = {.type = RECORD_TICK, .ts_ns = now_ns};

    record_writer_put(w, &ev);
}

int record_writer_error(const struct record_writer *w)
{
    return w->error;
}

uint64_t record_writer_records(const struct record_writer *w)
{
    return w->records;
}

uint64_t record_writer_bytes(const struct record_writer *w)
{
    return w->bytes;
}

/* --- the observer: store pointers to file numbers --------------------------------------- */

static uint32_t record_proc_index(struct record_writer *w, const struct store_proc *p)
{
    if (w->last_proc < w->nprocs && w->procs[w->last_proc] == p) {
        return w->last_proc;
    }
    for (uint32_t i = 0; i < w->nprocs; i++) {
        if (w->procs[i] == p) {
            w->last_proc = i;
            return i;
        }
    }
    return UINT32_MAX; /* added before recording started: cannot happen with our loop */
}

static uint64_t record_thread_hash(const struct store_thread *t)
{
    return hash_u64((uint64_t)(uintptr_t)t);
}

/* Spans are nearly every event: no more than their three fields are filled in. */
static void record_writer_span(struct record_writer *w, const struct store_event *sev)
{
    struct record_ev ev;

    ev.type = sev->type;
    ev.thread = hmap_find(&w->threads, record_thread_hash(sev->thread), NULL, NULL);
    ev.id = sev->id;
    ev.ts_ns = sev->ts_ns;
    ev.str = NULL;
    ev.depth = 0;
    if (ev.thread == HMAP_NONE) {
        w->lost++;
        return;
    }
    record_writer_put(w, &ev);
}

void record_writer_observe(void *ctx, const struct store_event *sev)
{
    struct record_writer *w = ctx;
    struct record_ev ev;

    if (sev->type == STORE_EV_SPAN_BEGIN || sev->type == STORE_EV_SPAN_END ||
        sev->type == STORE_EV_PROBE_BEGIN || sev->type == STORE_EV_PROBE_END) {
        record_writer_span(w, sev);
        return;
    }

    memset(&ev, 0, sizeof(ev));
    ev.type = sev->type;
    ev.id = sev->id;
    ev.aux = sev->aux;
    ev.level = sev->level;
    ev.ts_ns = sev->ts_ns;
    ev.i = sev->i;
    ev.a = sev->a;
    ev.b = sev->b;
    ev.c = sev->c;
    ev.str = sev->str;
    ev.str_len = sev->str != NULL ? strlen(sev->str) : 0;
    ev.depth = sev->depth > RECORD_MAX_DEPTH ? RECORD_MAX_DEPTH : (uint32_t)sev->depth;
    ev.path = sev->path;
    if (sev->stats != NULL) {
        ev.stats = *sev->stats;
    }
    if (sev->parts != NULL) {
        ev.parts = *sev->parts;
    }
    if (sev->sched != NULL) {
        ev.sched = *sev->sched;
    }
    ev.gpus = sev->gpus;
    ev.values = sev->values;
    ev.matrix = sev->matrix;
    if (sev->type == STORE_EV_GPU_POWER || sev->type == STORE_EV_RAPL_ZONE ||
        sev->type == STORE_EV_RAPL_STATE) {
        record_writer_put(w, &ev); /* the machine's: no process number */
        return;
    }
    if (sev->type == STORE_EV_GPUS) {
        /* The machine's, not a process's: no process number. */
        ev.depth = sev->depth > STORE_GPU_MAX ? STORE_GPU_MAX : (uint32_t)sev->depth;
        record_writer_put(w, &ev);
        return;
    }
    if (sev->type == STORE_EV_PROC_ADD) {
        if (w->nprocs == w->procs_cap) {
            w->procs_cap = w->procs_cap ? w->procs_cap * 2U : 8U;
            w->procs = xreallocarray(w->procs, w->procs_cap, sizeof(*w->procs));
        }
        w->procs[w->nprocs++] = sev->proc;
        record_writer_put(w, &ev);
        return;
    }
    ev.proc = record_proc_index(w, sev->proc);
    if (ev.proc == UINT32_MAX) {
        w->lost++;
        return;
    }
    if (sev->thread != NULL) {
        uint64_t key = record_thread_hash(sev->thread);

        if (sev->type == STORE_EV_THREAD_ADD) {
            ev.thread = w->next_thread++;
            if (!hmap_replace(&w->threads, key, NULL, NULL, ev.thread)) {
                hmap_insert(&w->threads, key, ev.thread);
            }
        } else {
            ev.thread = sev->type == STORE_EV_THREAD_EXIT
                            ? hmap_remove(&w->threads, key, NULL, NULL)
                            : hmap_find(&w->threads, key, NULL, NULL);
            if (ev.thread == HMAP_NONE) {
                w->lost++;
                return;
            }
        }
    }
    record_writer_put(w, &ev);
}

/* --- decoding ----------------------------------------------------------------------------- */

static uint64_t record_get_le(const unsigned char *s, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)s[i] << (8 * i);
    }
    return v;
}

bool record_is_recording(const void *data, size_t len)
{
    return len >= 8 && memcmp(data, RECORD_MAGIC, 8) == 0;
}

struct record_reader *record_reader_new(const void *data, size_t len, char **err)
{
    const unsigned char *p = data;
    struct record_reader *r;
    uint64_t version;

    if (len < RECORD_HEADER_BYTES || !record_is_recording(data, len)) {
        *err = xstrdup("not an nctop recording (bad header)");
        return NULL;
    }
    version = record_get_le(p + 8, 4);
    if (version < RECORD_OLDEST_VERSION || version > RECORD_VERSION) {
        *err = xasprintf("recording format version %llu is not supported (this nctop reads %u "
                         "to %u)",
                         (unsigned long long)version, RECORD_OLDEST_VERSION, RECORD_VERSION);
        return NULL;
    }
    r = xcalloc(1, sizeof(*r));
    r->version = (uint32_t)version;
    r->p = p;
    r->len = len;
    r->off = RECORD_HEADER_BYTES;
    r->mono_ns = record_get_le(p + 16, 8);
    r->real_ns = record_get_le(p + 24, 8);
    r->prev_ts = r->mono_ns;
    return r;
}

void record_reader_free(struct record_reader *r)
{
    if (r != NULL) {
        matrix_unref(r->matrix);
        free(r->gpus);
    }
    free(r);
}

/* Each getter returns false when the data ends or the field is malformed. */
static bool record_get_u(struct record_reader *r, uint64_t *out)
{
    uint64_t v = 0;

    for (unsigned shift = 0; shift < 64; shift += 7) {
        unsigned char b;

        if (r->off >= r->len) {
            return false;
        }
        b = r->p[r->off++];
        v |= (uint64_t)(b & 0x7F) << shift;
        if ((b & 0x80) == 0) {
            *out = v;
            return true;
        }
    }
    return false; /* more than ten bytes: not a varint we wrote */
}

static bool record_get_u32(struct record_reader *r, uint32_t *out)
{
    uint64_t v;

    if (!record_get_u(r, &v) || v > UINT32_MAX) {
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static bool record_get_s(struct record_reader *r, int64_t *out)
{
    uint64_t v;

    if (!record_get_u(r, &v)) {
        return false;
    }
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return true;
}

static bool record_get_t(struct record_reader *r, uint64_t *out)
{
    int64_t d;

    if (!record_get_s(r, &d)) {
        return false;
    }
    r->prev_ts += (uint64_t)d;
    *out = r->prev_ts;
    return true;
}

static bool record_get_str(struct record_reader *r, struct record_ev *ev, bool optional)
{
    uint64_t n;

    if (!record_get_u(r, &n)) {
        return false;
    }
    if (optional) {
        if (n == 0) {
            ev->str = NULL;
            ev->str_len = 0;
            return true;
        }
        n--;
    }
    if (n > RECORD_MAX_STR || n > r->len - r->off) {
        return false;
    }
    ev->str = (const char *)r->p + r->off;
    ev->str_len = (size_t)n;
    r->off += (size_t)n;
    return true;
}

static bool record_get_stats(struct record_reader *r, struct store_import_stats *st)
{
    uint64_t v;

    if (!record_get_u(r, &st->count) || !record_get_u(r, &st->total_ns) ||
        !record_get_u(r, &st->last_ns) || !record_get_u(r, &st->mean_ns) ||
        !record_get_u(r, &st->min_ns) || !record_get_u(r, &st->max_ns) ||
        !record_get_u(r, &st->p50_ns) || !record_get_u(r, &st->p95_ns) ||
        !record_get_u(r, &st->p99_ns) || !record_get_u(r, &v) || v >> 1 > STORE_STAT_ALL) {
        return false;
    }
    st->share_valid = (v & 1U) != 0;
    st->absent = (uint32_t)(v >> 1);
    if (st->share_valid) {
        uint64_t bits;

        if (r->len - r->off < 8) {
            return false;
        }
        bits = record_get_le(r->p + r->off, 8);
        r->off += 8;
        memcpy(&st->share_pct, &bits, sizeof(bits));
    }
    return true;
}

static bool record_get_sched(struct record_reader *r, struct store_sched *s)
{
    return record_get_u(r, &s->oncpu_ns) && record_get_u(r, &s->runq_ns) &&
           record_get_u(r, &s->blocked_ns) && record_get_u(r, &s->vol_switches) &&
           record_get_u(r, &s->invol_switches) && record_get_u(r, &s->faults) &&
           record_get_u(r, &s->minor_faults) && record_get_u(r, &s->major_faults);
}

/* The machine's devices into r->gpus; a name longer than a device name holds is malformed. */
static bool record_get_gpus(struct record_reader *r, struct record_ev *ev)
{
    struct record_ev name;
    uint64_t n, flags, util;

    if (!record_get_u(r, &n) || n > STORE_GPU_MAX) {
        return false;
    }
    if (r->gpus == NULL) {
        r->gpus = xcalloc(STORE_GPU_MAX, sizeof(*r->gpus));
    }
    for (uint32_t i = 0; i < n; i++) {
        struct store_gpu_dev *g = &r->gpus[i];

        memset(g, 0, sizeof(*g));
        memset(&name, 0, sizeof(name));
        if (!record_get_u32(r, &g->index) || !record_get_str(r, &name, true) ||
            name.str_len >= sizeof(g->name) || !record_get_u(r, &flags) || flags > 3 ||
            !record_get_u(r, &util) || util > 100 || !record_get_u(r, &g->mem_used_bytes) ||
            !record_get_u(r, &g->mem_total_bytes)) {
            return false;
        }
        if (name.str != NULL) {
            memcpy(g->name, name.str, name.str_len);
        }
        g->util_valid = (flags & 1U) != 0;
        g->mem_valid = (flags & 2U) != 0;
        g->util_pct = (uint32_t)util;
    }
    ev->gpus = r->gpus;
    ev->depth = (uint32_t)n;
    return true;
}

/* A matrix into r->matrix: sizes in range, labels no longer than a label holds, every index
 * inside the matrix, every byte inside the data. */
static bool record_get_matrix(struct record_reader *r, struct record_ev *ev)
{
    uint64_t rows, cols, enc, n, count, idx = 0, delta;
    struct record_ev label;

    if (!record_get_u(r, &rows) || !record_get_u(r, &cols) || rows == 0 || cols == 0 ||
        rows > MATRIX_DIM_MAX || cols > MATRIX_DIM_MAX) {
        return false;
    }
    if (r->matrix == NULL || r->matrix->rows != rows || r->matrix->cols != cols) {
        matrix_unref(r->matrix);
        r->matrix = matrix_new((uint32_t)rows, (uint32_t)cols);
    }
    n = rows * cols;
    for (uint64_t i = 0; i < rows + cols; i++) {
        char buf[MATRIX_LABEL_BYTES] = {0};
        char *dst = i < rows ? r->matrix->row_labels + i * MATRIX_LABEL_BYTES
                             : r->matrix->col_labels + (i - rows) * MATRIX_LABEL_BYTES;

        if (!record_get_str(r, &label, false) || label.str_len >= MATRIX_LABEL_BYTES) {
            return false;
        }
        memcpy(buf, label.str, label.str_len);
        matrix_set_label(dst, buf);
    }
    if (!record_get_u(r, &enc) || enc > 1) {
        return false;
    }
    if (enc == 0) {
        if (r->len - r->off < n * 4) {
            return false;
        }
        for (uint64_t i = 0; i < n; i++) {
            uint32_t bits = (uint32_t)record_get_le(r->p + r->off + i * 4, 4);

            memcpy(&r->matrix->values[i], &bits, sizeof(bits));
        }
        r->off += (size_t)(n * 4);
    } else {
        memset(r->matrix->values, 0, (size_t)n * sizeof(float));
        if (!record_get_u(r, &count) || count > n) {
            return false;
        }
        for (uint64_t k = 0; k < count; k++) {
            uint32_t bits;

            if (!record_get_u(r, &delta) || delta >= n - idx || r->len - r->off < 4) {
                return false;
            }
            idx += delta;
            bits = (uint32_t)record_get_le(r->p + r->off, 4);
            r->off += 4;
            memcpy(&r->matrix->values[idx], &bits, sizeof(bits));
            idx++;
        }
    }
    matrix_update_range(r->matrix);
    ev->matrix = r->matrix;
    return true;
}

/* The fields of ev->type as its layout says; false when one is malformed or cut short. */
static bool record_decode(struct record_reader *r, struct record_ev *ev)
{
    const struct record_layout *l;

    if (ev->type >= RECORD_TYPES || record_layouts[ev->type].name == NULL ||
        record_layouts[ev->type].since > r->version) {
        return false;
    }
    l = &record_layouts[ev->type];
    for (unsigned k = 0; k < RECORD_MAX_FIELDS && l->f[k].name != NULL; k++) {
        const struct record_field *f = &l->f[k];
        uint64_t v;
        int64_t sv;

        if (f->since > r->version) {
            continue; /* not in this file's version: the member stays 0 */
        }
        switch (f->kind) {
        case RK_U:
            if (!record_get_u(r, &v) || !record_member_set(ev, f->member, v)) {
                return false;
            }
            break;
        case RK_S:
            if (!record_get_s(r, &sv) || !record_member_set(ev, f->member, (uint64_t)sv)) {
                return false;
            }
            break;
        case RK_T:
            if (!record_get_t(r, &v) || !record_member_set(ev, f->member, v)) {
                return false;
            }
            break;
        case RK_STR:
        case RK_OSTR:
            if (!record_get_str(r, ev, f->kind == RK_OSTR)) {
                return false;
            }
            break;
        case RK_PATH:
            if (!record_get_u32(r, &ev->depth) || ev->depth > RECORD_MAX_DEPTH) {
                return false;
            }
            for (uint32_t i = 0; i < ev->depth; i++) {
                if (!record_get_u32(r, &r->path[i])) {
                    return false;
                }
            }
            ev->path = r->path;
            break;
        case RK_SCHED:
            if (!record_get_sched(r, &ev->sched)) {
                return false;
            }
            break;
        case RK_GPUS:
            if (!record_get_gpus(r, ev)) {
                return false;
            }
            break;
        case RK_VALUES:
            for (uint32_t i = 0; i < ev->depth; i++) {
                if (!record_get_u(r, &r->values[i])) {
                    return false;
                }
            }
            ev->values = r->values;
            break;
        case RK_MATRIX:
            if (!record_get_matrix(r, ev)) {
                return false;
            }
            break;
        case RK_PARTS:
            for (int i = 0; i < STORE_NPARTS; i++) {
                if (!record_get_s(r, &ev->parts.bytes[i]) ||
                    !record_get_s(r, &ev->parts.peak_bytes[i])) {
                    return false;
                }
            }
            break;
        default: /* RK_STATS */
            if (!record_get_stats(r, &ev->stats)) {
                return false;
            }
            break;
        }
    }
    return true;
}

int record_reader_next(struct record_reader *r, struct record_ev *ev)
{
    size_t start = r->off;

    if (r->done || r->off >= r->len) {
        return 0;
    }
    memset(ev, 0, sizeof(*ev));
    ev->type = r->p[r->off++];
    if (ev->type == RECORD_END) {
        r->clean_end = true;
        r->done = true;
        return 0;
    }
    if (!record_decode(r, ev)) {
        /* Nothing after a bad record can be framed: stop here. */
        r->off = start;
        r->done = true;
        return -EBADMSG;
    }
    return 1;
}

size_t record_reader_offset(const struct record_reader *r)
{
    return r->off;
}

bool record_reader_clean_end(const struct record_reader *r)
{
    return r->clean_end;
}

uint64_t record_reader_mono_ns(const struct record_reader *r)
{
    return r->mono_ns;
}

uint64_t record_reader_real_ns(const struct record_reader *r)
{
    return r->real_ns;
}
