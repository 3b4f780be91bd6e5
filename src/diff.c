/* SPDX-License-Identifier: MIT */
/* nctop diff. Each side becomes a list of rows: a snapshot (--once --json) is parsed, any
 * other file is played through the replay collector into a store of its own to its end and
 * read back through the row builder (the figures since start, with the histograms). Rows are
 * aligned by kind and path (with the process label when a side holds several processes).
 *
 * A change of a timed figure is significant when both sides have enough samples and their
 * intervals do not overlap. Each side's interval is its figure's own uncertainty: for the
 * mean, DIFF_Z standard errors (the spread from the histogram, or from the quantiles a
 * snapshot gives); for a percentile p, the values at ranks p -+ DIFF_Z * sqrt(p (1 - p) / n)
 * (the binomial spread of the rank of a sample quantile, distribution-free), read from the
 * histogram or from the quantiles a snapshot gives, joined linearly. Each is then widened by
 * the histogram's relative precision. No p-value is claimed: two disjoint intervals of DIFF_Z
 * standard errors are strong evidence, overlapping ones are "noise". Memory, RSS and values
 * are single measurements, not samples: a change is reported as significant when it exceeds
 * DIFF_SIZE_REL of the first side (and a page for memory), and --fail-on compares them
 * directly. */
#include "src/diff.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/replay/replay.h"
#include "src/base/diag.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/model/hist.h"
#include "src/model/rows.h"
#include "src/model/store.h"

#define DIFF_PRECISION (1.0 / 128) /* a histogram bucket's midpoint is this close (hist.h) */
#define DIFF_SIZE_REL 0.01         /* memory and values: changes below 1 % are not flagged */
#define DIFF_PAGE_BYTES 4096.0
#define DIFF_MAX_FILE (1ULL << 30) /* a snapshot larger than this is refused */

enum diff_kind {
    DIFF_LATENCY = 0,
    DIFF_KERNEL,
    DIFF_MEMORY,
    DIFF_HOST,
    DIFF_ENERGY,
    DIFF_VALUE,
};
static const char *const diff_kind_names[] = {"latency", "kernel", "memory",
                                              "host",    "energy", "value"};

/* The timed figures of a row, in the order of struct diff_row.st. */
enum diff_stat { DIFF_MIN, DIFF_P50, DIFF_P95, DIFF_P99, DIFF_MAX, DIFF_MEAN, DIFF_NSTATS };

/* What is compared: the metric names of the output and of --fail-on. */
enum diff_metric {
    DIFF_M_COUNT = 0,
    DIFF_M_MEAN,
    DIFF_M_P50,
    DIFF_M_P99,
    DIFF_M_PEAK,   /* memory rows: the peak when known, else the current bytes */
    DIFF_M_RSS,    /* host: the peak resident set */
    DIFF_M_ENERGY, /* a value in joules */
    DIFF_M_VALUE,  /* any other value */
    DIFF_NMETRICS,
};
static const char *const diff_metric_names[] = {"count", "mean", "p50",    "p99",
                                                "peak",  "rss",  "energy", "value"};

struct diff_row {
    char *proc; /* the process's label (owned) */
    char *name; /* the path, kernel "name (backend)", "rss" or value name (owned) */
    enum diff_kind kind;
    /* latency and kernel rows: figures since start, ns */
    uint64_t count;
    bool have[DIFF_NSTATS];
    double st[DIFF_NSTATS];
    struct hist *hist; /* owned copy of the since-start histogram, or NULL (snapshots, logs) */
    /* memory and host rows */
    bool size_valid;
    double size; /* bytes: peak when known, else current */
    /* values */
    double value;
    char *unit; /* owned; "" when none */
};

struct diff_side {
    const char *path; /* borrowed from argv */
    const char *format;
    struct diff_row *v;
    size_t n, cap;
    size_t nprocs;
};

/* One --fail-on threshold per metric (negative: none). */
struct diff_limits {
    double pct[DIFF_NMETRICS];
};

enum diff_verdict {
    DIFF_V_NONE = 0, /* nothing to say (count lines) */
    DIFF_V_UP,       /* significant increase */
    DIFF_V_DOWN,     /* significant decrease */
    DIFF_V_NOISE,    /* within the sides' intervals */
    DIFF_V_FEW,      /* too few samples or no spread to judge */
    DIFF_V_ONLY_A,
    DIFF_V_ONLY_B,
    DIFF_V_ABSENT, /* a side lacks the figure */
    DIFF_V_SAME,   /* exactly equal */
};

struct diff_cmp {
    const struct diff_row *a, *b; /* either may be NULL */
    enum diff_metric metric;
    bool a_valid, b_valid;
    double va, vb;
    enum diff_verdict verdict;
    const char *why; /* for DIFF_V_FEW: what was missing; static */
    bool fails;      /* passes its --fail-on threshold */
};

/* --- loading --------------------------------------------------------------------------- */

static struct diff_row *diff_side_add(struct diff_side *s, const char *proc, const char *name,
                                      enum diff_kind kind)
{
    struct diff_row *r;

    if (s->n == s->cap) {
        s->cap = s->cap != 0 ? s->cap * 2 : 64;
        s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
    }
    r = &s->v[s->n++];
    memset(r, 0, sizeof(*r));
    r->proc = xstrdup(proc != NULL ? proc : "");
    r->name = xstrdup(name);
    r->kind = kind;
    r->unit = xstrdup("");
    return r;
}

static void diff_side_done(struct diff_side *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].proc);
        free(s->v[i].name);
        free(s->v[i].unit);
        if (s->v[i].hist != NULL) {
            hist_done(s->v[i].hist);
            free(s->v[i].hist);
        }
    }
    free(s->v);
}

/* A value is energy when its unit is joules or its name says so (nctop.h: "energy_j"). */
static enum diff_kind diff_value_kind(const char *name, const char *unit)
{
    size_t n = strlen(name);

    if (strcmp(unit, "J") == 0 || (n >= 8 && strcmp(name + n - 8, "energy_j") == 0)) {
        return DIFF_ENERGY;
    }
    return DIFF_VALUE;
}

/* A timed row from the row builder's since-start statistics. */
static void diff_add_timed(struct diff_side *s, const char *proc, const char *name,
                           enum diff_kind kind, const struct row *r)
{
    const struct row_stats *a = &r->all;
    struct diff_row *d;
    static const uint32_t bits[DIFF_NSTATS] = {ROW_S_MIN, ROW_S_P50, ROW_S_P95,
                                               ROW_S_P99, ROW_S_MAX, ROW_S_MEAN};
    const uint64_t vals[DIFF_NSTATS] = {a->min_ns, a->p50_ns, a->p95_ns,
                                        a->p99_ns, a->max_ns, a->mean_ns};

    if ((r->flags & ROW_F_ALL) == 0 || (a->absent & ROW_S_COUNT) != 0) {
        return;
    }
    d = diff_side_add(s, proc, name, kind);
    d->count = a->count;
    for (int k = 0; k < DIFF_NSTATS; k++) {
        d->have[k] = (a->absent & bits[k]) == 0;
        d->st[k] = (double)vals[k];
    }
    /* The histogram of the row, when it is this row's own samples (not an imported log's). */
    if (r->hist_all != NULL &&
        r->hist_all->count + (r->hist_open != NULL ? r->hist_open->count : 0) == a->count &&
        a->count > 0 && (r->flags & ROW_F_IMPORTED) == 0) {
        d->hist = xcalloc(1, sizeof(*d->hist));
        hist_init(d->hist);
        hist_merge(d->hist, r->hist_all);
        if (r->hist_open != NULL) {
            hist_merge(d->hist, r->hist_open);
        }
    }
}

static void diff_add_size(struct diff_side *s, const char *proc, const char *name,
                          enum diff_kind kind, double bytes)
{
    struct diff_row *d = diff_side_add(s, proc, name, kind);

    d->size_valid = true;
    d->size = bytes;
}

/* Everything of one store process, since start, at now_ns. */
static void diff_load_proc(struct diff_side *s, const struct store_proc *p, uint64_t now_ns,
                           struct rows *rows)
{
    struct rows_summary sum;
    const char *label;

    rows_build_summary(&sum, p, now_ns);
    label = sum.label != NULL ? sum.label : "";
    rows_clear(rows);
    rows_build_latency(rows, p, now_ns);
    for (size_t i = 0; i < rows->n; i++) {
        diff_add_timed(s, label, rows->v[i].path, DIFF_LATENCY, &rows->v[i]);
    }
    rows_clear(rows);
    rows_build_kernels(rows, p, now_ns);
    for (size_t i = 0; i < rows->n; i++) {
        const struct row *r = &rows->v[i];
        char *name = xasprintf("%s (%s)", r->label, r->backend != NULL ? r->backend : "");

        diff_add_timed(s, label, name, DIFF_KERNEL, r);
        free(name);
    }
    rows_clear(rows);
    rows_build_memory(rows, p, now_ns);
    for (size_t i = 0; i < rows->n; i++) {
        const struct row *r = &rows->v[i];

        diff_add_size(s, label, r->path, DIFF_MEMORY,
                      (double)((r->flags & ROW_F_PEAK) ? r->peak_bytes : r->bytes));
    }
    if (sum.host_valid) {
        diff_add_size(s, label, "rss", DIFF_HOST, (double)sum.rss_peak_bytes);
    }
    for (size_t i = 0; i < sum.nvalues; i++) {
        const struct rows_value *v = &sum.values[i];
        struct diff_row *d;

        if (!isfinite(v->value)) {
            continue;
        }
        d = diff_side_add(s, label, v->name, diff_value_kind(v->name, v->unit));
        d->value = v->value;
        free(d->unit);
        d->unit = xstrdup(v->unit);
    }
    rows_summary_done(&sum);
}

/* A recording or a log played to its end into a store of its own (*out, owned), every
 * process kept; *end: the time it ends at. Any problem the replay finds (a file cut short, a
 * malformed line) fails: a comparison of damaged input says nothing reliable. Returns 0, or
 * -EINVAL with *err (owned). */
static int diff_replay_store(const char *path, struct store **out, const char **format,
                             uint64_t *end, char **err)
{
    struct store_config scfg;
    struct store *st;
    struct replay_source *rs;
    int rc = -EINVAL;

    memset(&scfg, 0, sizeof(scfg));
    scfg.exited_keep_ns = UINT64_MAX / 4; /* every process stays to the end */
    st = store_new(&scfg);
    rs = replay_source_new(st);
    if (replay_source_add(rs, path, err) != 0) {
        goto out;
    }
    switch (replay_source_format(rs, 0)) {
    case REPLAY_RECORDING:
        *format = "recording";
        break;
    case REPLAY_LOG:
        *format = "log";
        break;
    case REPLAY_PROFILE:
        *format = "profile";
        break;
    default:
        *format = "chrome trace";
        break;
    }
    *end = replay_source_end_ns(rs);
    replay_source_advance(rs, *end);
    if (replay_source_nproblems(rs) > 0) {
        *err = xasprintf("%s%s", replay_source_problem(rs, 0),
                         replay_source_nproblems(rs) > 1 ? " (and more problems)" : "");
        goto out;
    }
    rc = 0;
out:
    replay_source_free(rs);
    if (rc != 0) {
        store_free(st);
        st = NULL;
    }
    *out = st;
    return rc;
}

/* A recording or a log, read back through the row builder. Returns 0, or -1 with *err. */
static int diff_load_replay(struct diff_side *s, char **err)
{
    struct store *st = NULL;
    struct rows rows;
    uint64_t end = 0;

    if (diff_replay_store(s->path, &st, &s->format, &end, err) != 0) {
        return -1;
    }
    rows_init(&rows);
    for (size_t i = 0; i < store_nprocs(st); i++) {
        diff_load_proc(s, store_proc_at(st, i), end, &rows);
    }
    s->nprocs = store_nprocs(st);
    rows_done(&rows);
    store_free(st);
    return 0;
}

/* A number of a snapshot object in the given scale (ms to ns: 1e6), or false when absent. */
static bool diff_json_num(const cJSON *o, const char *key, double scale, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
        return false;
    }
    *out = v->valuedouble * scale;
    return true;
}

static const char *diff_json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A timed row of a snapshot: its "total" (since start) figures. */
static void diff_json_timed(struct diff_side *s, const char *proc, const char *name,
                            enum diff_kind kind, const cJSON *row)
{
    static const char *const keys[DIFF_NSTATS] = {"min_ms", "p50_ms", "p95_ms",
                                                  "p99_ms", "max_ms", "average_ms"};
    const cJSON *tot = cJSON_GetObjectItemCaseSensitive(row, "total");
    struct diff_row *d;
    double n;

    if (name == NULL || !cJSON_IsObject(tot) || !diff_json_num(tot, "count", 1, &n) || n < 0) {
        return;
    }
    d = diff_side_add(s, proc, name, kind);
    d->count = (uint64_t)n;
    for (int k = 0; k < DIFF_NSTATS; k++) {
        d->have[k] = diff_json_num(tot, keys[k], 1e6, &d->st[k]);
    }
}

/* A snapshot (nctop --once --json). Returns 0, or -1 with *err (owned). */
static int diff_load_snapshot(struct diff_side *s, const char *text, char **err)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, true), *procs, *p;

    if (root == NULL) {
        *err = xasprintf("%s: not a whole snapshot: the JSON breaks off or is malformed at "
                         "byte %zu",
                         s->path, end != NULL ? (size_t)(end - text) : (size_t)0);
        return -1;
    }
    procs = cJSON_GetObjectItemCaseSensitive(root, "processes");
    if (!cJSON_IsArray(procs)) {
        *err = xasprintf("%s: JSON without \"processes\": not a snapshot of nctop --once --json",
                         s->path);
        cJSON_Delete(root);
        return -1;
    }
    s->format = "snapshot";
    cJSON_ArrayForEach(p, procs)
    {
        const char *label = diff_json_str(p, "label");
        const cJSON *arr, *r, *host = cJSON_GetObjectItemCaseSensitive(p, "host");
        double v;

        s->nprocs++;
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "latency"))
        {
            diff_json_timed(s, label, diff_json_str(r, "path"), DIFF_LATENCY, r);
        }
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "kernels"))
        {
            const char *name = diff_json_str(r, "name"), *be = diff_json_str(r, "backend");
            char *key;

            if (name != NULL) {
                key = xasprintf("%s (%s)", name, be != NULL ? be : "");
                diff_json_timed(s, label, key, DIFF_KERNEL, r);
                free(key);
            }
        }
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "memory"))
        {
            const char *path = diff_json_str(r, "path");

            if (path != NULL &&
                (diff_json_num(r, "peak_bytes", 1, &v) || diff_json_num(r, "bytes", 1, &v))) {
                diff_add_size(s, label, path, DIFF_MEMORY, v);
            }
        }
        if (cJSON_IsObject(host) && diff_json_num(host, "rss_peak_bytes", 1, &v)) {
            diff_add_size(s, label, "rss", DIFF_HOST, v);
        }
        arr = cJSON_GetObjectItemCaseSensitive(p, "values");
        cJSON_ArrayForEach(r, arr)
        {
            const char *name = diff_json_str(r, "name"), *unit = diff_json_str(r, "unit");
            struct diff_row *d;

            if (name == NULL || !diff_json_num(r, "value", 1, &v)) {
                continue;
            }
            d = diff_side_add(s, label, name, diff_value_kind(name, unit != NULL ? unit : ""));
            d->value = v;
            free(d->unit);
            d->unit = xstrdup(unit != NULL ? unit : "");
        }
    }
    cJSON_Delete(root);
    return 0;
}

/* Whether text looks like a snapshot: one JSON object whose first key is nctop's. */
static bool diff_is_snapshot(const char *text, size_t len)
{
    size_t i = 0;

    while (i < len && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r')) {
        i++;
    }
    if (i == len || text[i] != '{') {
        return false;
    }
    /* The logs start with "timestamp" too, but every line of theirs has "rows". */
    return memmem(text, len < 4096 ? len : 4096, "\"nctop_version\"", 15) != NULL;
}

static char *diff_slurp(const char *path, size_t *len, char **err)
{
    FILE *f = fopen(path, "rbe");
    size_t cap = 1 << 16, n = 0, got;
    char *buf;

    if (f == NULL) {
        *err = xasprintf("%s: %s", path, strerror(errno));
        return NULL;
    }
    buf = xmalloc(cap);
    while ((got = fread(buf + n, 1, cap - 1 - n, f)) > 0) {
        n += got;
        if (n == cap - 1) {
            if (cap >= DIFF_MAX_FILE) {
                break;
            }
            cap *= 2;
            buf = xreallocarray(buf, cap, 1);
        }
    }
    if (ferror(f)) {
        *err = xasprintf("%s: %s", path, strerror(errno));
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int diff_side_load(struct diff_side *s, char **err)
{
    size_t len = 0;
    char *text = diff_slurp(s->path, &len, err);
    int rc;

    if (text == NULL) {
        return -1;
    }
    if (len > 0 && memchr(text, '\0', len) == NULL && diff_is_snapshot(text, len)) {
        rc = diff_load_snapshot(s, text, err);
    } else {
        rc = diff_load_replay(s, err);
    }
    free(text);
    if (rc == 0 && s->n == 0) {
        *err = xasprintf("%s: no rows to compare (an empty %s)", s->path, s->format);
        rc = -1;
    }
    return rc;
}

/* The since-start figures of a snapshot's latency row as a replayed log's statistics. */
static void diff_json_import(const cJSON *row, struct store_import_stats *st)
{
    static const char *const keys[] = {"count",  "total_ms", "last_ms", "average_ms", "min_ms",
                                       "max_ms", "p50_ms",   "p95_ms",  "p99_ms"};
    static const uint32_t bits[] = {STORE_STAT_COUNT, STORE_STAT_TOTAL, STORE_STAT_LAST,
                                    STORE_STAT_MEAN,  STORE_STAT_MIN,   STORE_STAT_MAX,
                                    STORE_STAT_P50,   STORE_STAT_P95,   STORE_STAT_P99};
    uint64_t *const dst[] = {&st->count,  &st->total_ns, &st->last_ns, &st->mean_ns, &st->min_ns,
                             &st->max_ns, &st->p50_ns,   &st->p95_ns,  &st->p99_ns};
    const cJSON *tot = cJSON_GetObjectItemCaseSensitive(row, "total");

    memset(st, 0, sizeof(*st));
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        /* last_ms is the row's own; the others are the since-start object's. */
        double v;
        bool ok = diff_json_num(k == 2 ? row : tot, keys[k], k == 0 ? 1 : 1e6, &v) && v >= 0 &&
                  v < 1.8e19;

        *dst[k] = ok ? (uint64_t)llround(v) : 0;
        st->absent |= ok ? 0 : bits[k];
    }
}

/* A snapshot's processes and their latency trees into st, as a replayed log's rows (what a
 * baseline compares). Returns 0, or -EINVAL with *err (owned). */
static int diff_snapshot_store(const char *path, const char *text, struct store *st, char **err)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, true), *procs, *p;
    uint32_t ids[256];

    if (root == NULL) {
        *err = xasprintf("%s: not a whole snapshot: the JSON breaks off or is malformed at "
                         "byte %zu",
                         path, end != NULL ? (size_t)(end - text) : (size_t)0);
        return -EINVAL;
    }
    procs = cJSON_GetObjectItemCaseSensitive(root, "processes");
    if (!cJSON_IsArray(procs)) {
        *err = xasprintf("%s: JSON without \"processes\": not a snapshot of nctop --once --json",
                         path);
        cJSON_Delete(root);
        return -EINVAL;
    }
    cJSON_ArrayForEach(p, procs)
    {
        const char *label = diff_json_str(p, "label");
        struct store_proc *sp;
        const cJSON *r;
        size_t depth = 0;
        double pid = 0;

        diff_json_num(p, "pid", 1, &pid);
        sp = store_proc_add(st, pid > 0 && pid < 2147483647.0 ? (int32_t)pid : 0,
                            label != NULL ? label : "");
        store_proc_set_replayed(sp);
        cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(p, "latency"))
        {
            const char *name = diff_json_str(r, "label");
            struct store_import_stats stats;
            double level = -1;

            /* Rows are depth-first: a row's level says where it hangs (a jump is clamped). */
            if (name == NULL || !diff_json_num(r, "level", 1, &level) || level < 0) {
                continue;
            }
            depth = level < (double)depth ? (size_t)level : depth;
            if (depth >= sizeof(ids) / sizeof(ids[0]) ||
                (ids[depth] = store_proc_intern(sp, name)) == 0) {
                continue;
            }
            diff_json_import(r, &stats);
            store_node_import(sp, ids, ++depth, &stats, 1);
        }
    }
    cJSON_Delete(root);
    return 0;
}

int diff_load(const char *path, struct store **out, char **err)
{
    const char *format = "";
    struct store *st = NULL;
    uint64_t end = 0;
    size_t len = 0, nrows = 0;
    char *text = diff_slurp(path, &len, err);
    struct rows rows;
    int rc;

    *out = NULL;
    if (text == NULL) {
        return -EIO;
    }
    if (len > 0 && memchr(text, '\0', len) == NULL && diff_is_snapshot(text, len)) {
        format = "snapshot";
        st = store_new(NULL);
        rc = diff_snapshot_store(path, text, st, err);
    } else {
        rc = diff_replay_store(path, &st, &format, &end, err);
    }
    free(text);
    if (rc != 0) {
        store_free(st);
        return rc;
    }
    rows_init(&rows);
    for (size_t i = 0; i < store_nprocs(st); i++) {
        const struct store_proc *p = store_proc_at(st, i);

        rows_clear(&rows);
        rows_build_latency(&rows, p, store_proc_last_event_ns(p) + 1);
        nrows += rows.n;
    }
    rows_done(&rows);
    if (nrows == 0) {
        *err = xasprintf("%s: no latency rows to compare with (an empty %s)", path, format);
        store_free(st);
        return -EINVAL;
    }
    *out = st;
    return 0;
}

/* --- significance ------------------------------------------------------------------------ */

/* The quantile function of a row (u in 0..1): the histogram's when the row has one, else the
 * line through the quantiles the file gave (0: min, .5: p50, .95: p95, .99: p99, 1: max).
 * Returns NAN when the row lacks them. */
static double diff_quantile(const struct diff_row *r, double u)
{
    static const double at[] = {0, 0.5, 0.95, 0.99, 1};
    static const enum diff_stat which[] = {DIFF_MIN, DIFF_P50, DIFF_P95, DIFF_P99, DIFF_MAX};

    u = u < 0 ? 0 : u > 1 ? 1 : u;
    if (r->hist != NULL) {
        return (double)hist_percentile(r->hist, u * 100);
    }
    for (size_t k = 0; k < 5; k++) {
        if (!r->have[which[k]]) {
            return NAN;
        }
    }
    for (size_t k = 1; k < 5; k++) {
        if (u <= at[k]) {
            double f = (u - at[k - 1]) / (at[k] - at[k - 1]);

            return r->st[which[k - 1]] + f * (r->st[which[k]] - r->st[which[k - 1]]);
        }
    }
    return r->st[DIFF_MAX];
}

/* The standard deviation of a row's samples: from the histogram's buckets (midpoints), else
 * from the line through its quantiles (each piece uniform in rank); NAN when unknown. */
static double diff_sd(const struct diff_row *r)
{
    static const double at[] = {0, 0.5, 0.95, 0.99, 1};
    static const enum diff_stat which[] = {DIFF_MIN, DIFF_P50, DIFF_P95, DIFF_P99, DIFF_MAX};
    double m1 = 0, m2 = 0;

    if (r->hist != NULL) {
        const struct hist *h = r->hist;
        double mean = (double)h->sum_ns / (double)h->count, ss = 0;
        uint64_t below = 0;

        /* Bucket by bucket through the public counts: samples up to a bucket's low end are
         * every sample up to and in that bucket. */
        for (uint32_t i = hist_index(h->min_ns); i <= hist_index(h->max_ns); i++) {
            uint64_t upto = hist_count_le(h, hist_bucket_low(i)), c = upto - below;

            if (c != 0) {
                double d = (double)hist_bucket_mid(i) - mean;

                ss += (double)c * d * d;
            }
            below = upto;
        }
        return sqrt(ss / (double)h->count);
    }
    for (size_t k = 0; k < 5; k++) {
        if (!r->have[which[k]]) {
            return NAN;
        }
    }
    for (size_t k = 1; k < 5; k++) {
        double w = at[k] - at[k - 1], a = r->st[which[k - 1]], b = r->st[which[k]];

        m1 += w * (a + b) / 2;
        m2 += w * (a * a + a * b + b * b) / 3;
    }
    return sqrt(fmax(0, m2 - m1 * m1));
}

/* The interval of one side's figure (the file header explains it), or false with *why. */
static bool diff_interval(const struct diff_row *r, enum diff_metric m, double v, double *lo,
                          double *hi, const char **why)
{
    double n = (double)r->count;

    if (n < DIFF_MIN_SAMPLES) {
        *why = "fewer than 30 samples";
        return false;
    }
    if (m == DIFF_M_MEAN) {
        double sd = diff_sd(r);

        if (isnan(sd)) {
            *why = "no spread in the file";
            return false;
        }
        *lo = v - DIFF_Z * sd / sqrt(n);
        *hi = v + DIFF_Z * sd / sqrt(n);
    } else {
        double p = m == DIFF_M_P50 ? 0.5 : 0.99, d = DIFF_Z * sqrt(p * (1 - p) / n);

        if (n * fmin(p, 1 - p) < DIFF_MIN_TAIL) {
            *why = m == DIFF_M_P99 ? "fewer than 500 samples for p99" : "too few samples";
            return false;
        }
        *lo = diff_quantile(r, p - d);
        *hi = diff_quantile(r, p + d);
        if (isnan(*lo) || isnan(*hi)) {
            *why = "no spread in the file";
            return false;
        }
        /* The figure itself lies inside (a histogram estimate may sit at a bucket edge). */
        *lo = fmin(*lo, v);
        *hi = fmax(*hi, v);
    }
    *lo *= 1 - DIFF_PRECISION;
    *hi *= 1 + DIFF_PRECISION;
    return true;
}

static bool diff_figure(const struct diff_row *r, enum diff_metric m, double *v)
{
    switch (m) {
    case DIFF_M_COUNT:
        *v = (double)r->count;
        return true;
    case DIFF_M_MEAN:
        *v = r->st[DIFF_MEAN];
        return r->have[DIFF_MEAN] && r->count > 0;
    case DIFF_M_P50:
        *v = r->st[DIFF_P50];
        return r->have[DIFF_P50] && r->count > 0;
    case DIFF_M_P99:
        *v = r->st[DIFF_P99];
        return r->have[DIFF_P99] && r->count > 0;
    case DIFF_M_PEAK:
    case DIFF_M_RSS:
        *v = r->size;
        return r->size_valid;
    default:
        *v = r->value;
        return true;
    }
}

/* Judge one metric of a pair of rows. */
static void diff_judge(struct diff_cmp *c, const struct diff_limits *lim)
{
    double alo, ahi, blo, bhi, rel;
    const char *why = NULL;

    c->a_valid = c->a != NULL && diff_figure(c->a, c->metric, &c->va);
    c->b_valid = c->b != NULL && diff_figure(c->b, c->metric, &c->vb);
    if (c->a == NULL || c->b == NULL) {
        c->verdict = c->a == NULL ? DIFF_V_ONLY_B : DIFF_V_ONLY_A;
        return;
    }
    if (!c->a_valid || !c->b_valid) {
        c->verdict = DIFF_V_ABSENT;
        return;
    }
    if (c->metric == DIFF_M_COUNT) {
        c->verdict = DIFF_V_NONE;
        return;
    }
    if (c->va == c->vb) {
        c->verdict = DIFF_V_SAME;
        return;
    }
    rel = c->va != 0 ? (c->vb - c->va) / fabs(c->va) : (c->vb != 0 ? INFINITY : 0);
    if (c->metric == DIFF_M_MEAN || c->metric == DIFF_M_P50 || c->metric == DIFF_M_P99) {
        if (!diff_interval(c->a, c->metric, c->va, &alo, &ahi, &why) ||
            !diff_interval(c->b, c->metric, c->vb, &blo, &bhi, &why)) {
            c->verdict = DIFF_V_FEW;
            c->why = why;
            return;
        }
        c->verdict = blo > ahi ? DIFF_V_UP : bhi < alo ? DIFF_V_DOWN : DIFF_V_NOISE;
    } else if (fabs(rel) > DIFF_SIZE_REL &&
               (c->metric != DIFF_M_PEAK || fabs(c->vb - c->va) >= DIFF_PAGE_BYTES)) {
        c->verdict = c->vb > c->va ? DIFF_V_UP : DIFF_V_DOWN;
    } else {
        c->verdict = DIFF_V_NOISE;
    }
    /* A regression passes its threshold: significant, upwards, by more than the limit. */
    c->fails =
        lim->pct[c->metric] >= 0 && c->verdict == DIFF_V_UP && rel * 100 > lim->pct[c->metric];
}

/* --- alignment and output ------------------------------------------------------------- */

static bool diff_same(const struct diff_row *x, const struct diff_row *y, bool by_proc)
{
    return x->kind == y->kind && strcmp(x->name, y->name) == 0 &&
           (!by_proc || strcmp(x->proc, y->proc) == 0);
}

static size_t diff_metrics_of(const struct diff_row *r, enum diff_metric *out)
{
    switch (r->kind) {
    case DIFF_LATENCY:
    case DIFF_KERNEL:
        out[0] = DIFF_M_COUNT;
        out[1] = DIFF_M_MEAN;
        out[2] = DIFF_M_P50;
        out[3] = DIFF_M_P99;
        return 4;
    case DIFF_MEMORY:
        out[0] = DIFF_M_PEAK;
        return 1;
    case DIFF_HOST:
        out[0] = DIFF_M_RSS;
        return 1;
    case DIFF_ENERGY:
        out[0] = DIFF_M_ENERGY;
        return 1;
    default:
        out[0] = DIFF_M_VALUE;
        return 1;
    }
}

/* Every comparison, in the first side's order, then the rows only the second side has. */
static struct diff_cmp *diff_align(const struct diff_side *a, const struct diff_side *b,
                                   const struct diff_limits *lim, bool by_proc, size_t *ncmp)
{
    size_t cap = (a->n + b->n) * 4 + 1, n = 0;
    struct diff_cmp *v = xcalloc(cap, sizeof(*v));
    bool *matched = xcalloc(b->n + 1, sizeof(*matched));
    enum diff_metric ms[4];

    for (size_t i = 0; i < a->n; i++) {
        const struct diff_row *other = NULL;
        size_t k;

        for (size_t j = 0; j < b->n && other == NULL; j++) {
            if (!matched[j] && diff_same(&a->v[i], &b->v[j], by_proc)) {
                other = &b->v[j];
                matched[j] = true;
            }
        }
        k = diff_metrics_of(&a->v[i], ms);
        for (size_t m = 0; m < k; m++) {
            v[n] = (struct diff_cmp){.a = &a->v[i], .b = other, .metric = ms[m]};
            diff_judge(&v[n++], lim);
        }
    }
    for (size_t j = 0; j < b->n; j++) {
        size_t k;

        if (matched[j]) {
            continue;
        }
        k = diff_metrics_of(&b->v[j], ms);
        for (size_t m = 0; m < k; m++) {
            v[n] = (struct diff_cmp){.a = NULL, .b = &b->v[j], .metric = ms[m]};
            diff_judge(&v[n++], lim);
        }
    }
    free(matched);
    *ncmp = n;
    return v;
}

static const char *diff_verdict_word(const struct diff_cmp *c)
{
    bool timed = c->metric == DIFF_M_MEAN || c->metric == DIFF_M_P50 || c->metric == DIFF_M_P99;
    bool size = c->metric == DIFF_M_PEAK || c->metric == DIFF_M_RSS;

    switch (c->verdict) {
    case DIFF_V_UP:
        return timed ? "slower" : size ? "larger" : "higher";
    case DIFF_V_DOWN:
        return timed ? "faster" : size ? "smaller" : "lower";
    case DIFF_V_NOISE:
        return "noise";
    case DIFF_V_FEW:
        return "few samples";
    case DIFF_V_ONLY_A:
        return "only in A";
    case DIFF_V_ONLY_B:
        return "only in B";
    case DIFF_V_ABSENT:
        return "absent";
    case DIFF_V_SAME:
        return "same";
    default:
        return "";
    }
}

/* A figure as text: durations and sizes in their units, counts and values as numbers. */
static void diff_format(enum diff_metric m, double v, const char *unit, bool sign, char *buf,
                        size_t len)
{
    char tmp[48];
    const char *s = sign ? (v < 0 ? "-" : "+") : "";
    double a = sign ? fabs(v) : v;

    if (m == DIFF_M_MEAN || m == DIFF_M_P50 || m == DIFF_M_P99) {
        util_format_ns((uint64_t)llround(fmax(0, a)), false, tmp, sizeof(tmp));
    } else if (m == DIFF_M_PEAK || m == DIFF_M_RSS) {
        util_format_bytes((int64_t)llround(fmin(a, 9e18)), false, tmp, sizeof(tmp));
    } else if (m == DIFF_M_COUNT) {
        snprintf(tmp, sizeof(tmp), "%.0f", a);
    } else {
        snprintf(tmp, sizeof(tmp), "%.6g%s%s", a, unit[0] != '\0' ? " " : "", unit);
    }
    snprintf(buf, len, "%s%s", s, tmp);
}

static const struct diff_row *diff_any(const struct diff_cmp *c)
{
    return c->a != NULL ? c->a : c->b;
}

static char *diff_row_name(const struct diff_cmp *c, bool by_proc)
{
    const struct diff_row *r = diff_any(c);

    return by_proc ? xasprintf("%s: %s", r->proc, r->name) : xstrdup(r->name);
}

static void diff_print_text(FILE *out, const struct diff_side *a, const struct diff_side *b,
                            const struct diff_cmp *v, size_t n, bool by_proc)
{
    const struct diff_row *last = NULL;
    size_t width = 3, nslow = 0;
    char esc[512];

    for (size_t i = 0; i < n; i++) {
        char *name = diff_row_name(&v[i], by_proc);

        util_escape(name, esc, sizeof(esc));
        width = strlen(esc) > width ? strlen(esc) : width;
        free(name);
    }
    width = width > 60 ? 60 : width;
    util_escape(a->path, esc, sizeof(esc));
    fprintf(out, "A: %s (%s)\n", esc, a->format);
    util_escape(b->path, esc, sizeof(esc));
    fprintf(out, "B: %s (%s)\n", esc, b->format);
    fprintf(out, "%-8s %-*s %-6s %12s %12s %13s %10s  %s\n", "KIND", (int)width, "ROW", "METRIC",
            "A", "B", "CHANGE", "%", "VERDICT");
    for (size_t i = 0; i < n; i++) {
        const struct diff_cmp *c = &v[i];
        const struct diff_row *r = diff_any(c);
        char fa[64] = "-", fb[64] = "-", fd[64] = "", fp[24] = "";
        char *name = diff_row_name(c, by_proc);

        if (c->a_valid) {
            diff_format(c->metric, c->va, r->unit, false, fa, sizeof(fa));
        }
        if (c->b_valid) {
            diff_format(c->metric, c->vb, r->unit, false, fb, sizeof(fb));
        }
        if (c->a_valid && c->b_valid) {
            diff_format(c->metric, c->vb - c->va, r->unit, true, fd, sizeof(fd));
            if (c->va != 0) {
                snprintf(fp, sizeof(fp), "%+.1f%%", (c->vb - c->va) / fabs(c->va) * 100);
            }
        }
        util_escape(name, esc, sizeof(esc));
        fprintf(out, "%-8s %-*s %-6s %12s %12s %13s %10s  %s%s%s%s\n", diff_kind_names[r->kind],
                (int)width, esc, diff_metric_names[c->metric], fa, fb, fd, fp, diff_verdict_word(c),
                c->why != NULL ? " (" : "", c->why != NULL ? c->why : "",
                c->why != NULL ? ")" : "");
        if (c->verdict == DIFF_V_UP && (r->kind == DIFF_LATENCY || r->kind == DIFF_KERNEL)) {
            nslow++;
        }
        free(name);
    }
    /* The rows that slowed, by name (their metrics after it): what a reader looks for. */
    fprintf(out, "slower:%s", nslow > 0 ? "" : " none");
    for (size_t i = 0, k = 0; i < n; i++) {
        const struct diff_row *r = diff_any(&v[i]);
        char *name;

        if (v[i].verdict != DIFF_V_UP || (r->kind != DIFF_LATENCY && r->kind != DIFF_KERNEL)) {
            continue;
        }
        /* A row's metrics are next to each other: a new row opens a new group. */
        if (r != last) {
            name = diff_row_name(&v[i], by_proc);
            util_escape(name, esc, sizeof(esc));
            fprintf(out, "%s %s (", k++ > 0 ? ")," : "", esc);
            free(name);
            last = r;
        } else {
            fputs(", ", out);
        }
        fprintf(out, "%s %+.1f%%", diff_metric_names[v[i].metric],
                (v[i].vb - v[i].va) / fabs(v[i].va) * 100);
    }
    fputs(nslow > 0 ? ")\n" : "\n", out);
}

static void diff_json_side(cJSON *root, const char *key, const struct diff_side *s)
{
    cJSON *o = cJSON_AddObjectToObject(root, key);

    cJSON_AddStringToObject(o, "path", s->path);
    cJSON_AddStringToObject(o, "format", s->format);
    cJSON_AddNumberToObject(o, "processes", (double)s->nprocs);
}

static void diff_json_fig(cJSON *o, const char *key, bool valid, double v)
{
    if (valid && isfinite(v)) {
        cJSON_AddNumberToObject(o, key, v);
    } else {
        cJSON_AddNullToObject(o, key);
    }
}

static int diff_print_json(FILE *out, const struct diff_side *a, const struct diff_side *b,
                           const struct diff_cmp *v, size_t n)
{
    static const char *const verdicts[] = {
        [DIFF_V_NONE] = NULL,       [DIFF_V_UP] = "up",           [DIFF_V_DOWN] = "down",
        [DIFF_V_NOISE] = "noise",   [DIFF_V_FEW] = "few_samples", [DIFF_V_ONLY_A] = "only_a",
        [DIFF_V_ONLY_B] = "only_b", [DIFF_V_ABSENT] = "absent",   [DIFF_V_SAME] = "same"};
    cJSON *root = cJSON_CreateObject(), *rows, *regs;
    char *text;
    int rc = 0;

    diff_json_side(root, "a", a);
    diff_json_side(root, "b", b);
    rows = cJSON_AddArrayToObject(root, "rows");
    regs = cJSON_AddArrayToObject(root, "regressions");
    for (size_t i = 0; i < n; i++) {
        const struct diff_cmp *c = &v[i];
        const struct diff_row *r = diff_any(c);
        bool both = c->a_valid && c->b_valid;
        bool timed = c->metric == DIFF_M_MEAN || c->metric == DIFF_M_P50 || c->metric == DIFF_M_P99;
        double scale = timed ? 1e-6 : 1; /* ns to the contract's ms */
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "kind", diff_kind_names[r->kind]);
        cJSON_AddStringToObject(o, "process", r->proc);
        cJSON_AddStringToObject(o, "path", r->name);
        cJSON_AddStringToObject(o, "metric", diff_metric_names[c->metric]);
        cJSON_AddStringToObject(o, "unit",
                                timed                                                 ? "ms"
                                : c->metric == DIFF_M_PEAK || c->metric == DIFF_M_RSS ? "bytes"
                                : c->metric == DIFF_M_COUNT                           ? ""
                                                                                      : r->unit);
        diff_json_fig(o, "a", c->a_valid, c->va * scale);
        diff_json_fig(o, "b", c->b_valid, c->vb * scale);
        diff_json_fig(o, "change", both, (c->vb - c->va) * scale);
        diff_json_fig(o, "change_pct", both && c->va != 0, (c->vb - c->va) / fabs(c->va) * 100);
        if (c->a != NULL && (r->kind == DIFF_LATENCY || r->kind == DIFF_KERNEL)) {
            cJSON_AddNumberToObject(o, "count_a", (double)c->a->count);
        }
        if (c->b != NULL && (r->kind == DIFF_LATENCY || r->kind == DIFF_KERNEL)) {
            cJSON_AddNumberToObject(o, "count_b", (double)c->b->count);
        }
        cJSON_AddBoolToObject(o, "significant",
                              c->verdict == DIFF_V_UP || c->verdict == DIFF_V_DOWN);
        if (verdicts[c->verdict] != NULL) {
            cJSON_AddStringToObject(o, "verdict", verdicts[c->verdict]);
        } else {
            cJSON_AddNullToObject(o, "verdict");
        }
        if (c->why != NULL) {
            cJSON_AddStringToObject(o, "why", c->why);
        }
        cJSON_AddBoolToObject(o, "fails", c->fails);
        if (c->fails) {
            cJSON_AddItemToArray(regs, cJSON_Duplicate(o, true));
        }
        cJSON_AddItemToArray(rows, o);
    }
    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (text == NULL) {
        return -ENOMEM;
    }
    if (fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) == EOF) {
        rc = -EIO;
    }
    cJSON_free(text);
    return rc;
}

/* --fail-on METRIC=PCT%,...: e.g. p99=10%,rss=5%. Returns NULL or why it is wrong. */
static const char *diff_parse_limits(const char *spec, struct diff_limits *lim)
{
    char *copy = xstrdup(spec), *save = NULL;
    const char *why = NULL;

    for (char *t = strtok_r(copy, ",", &save); t != NULL && why == NULL;
         t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '='), *end = NULL;
        double pct;
        size_t m;

        if (eq == NULL) {
            why = "not METRIC=PCT% (e.g. p99=10%,rss=5%)";
            break;
        }
        *eq = '\0';
        for (m = 1; m < DIFF_NMETRICS; m++) {
            if (strcmp(t, diff_metric_names[m]) == 0 ||
                (m == DIFF_M_PEAK && strcmp(t, "memory") == 0)) {
                break;
            }
        }
        pct = strtod(eq + 1, &end);
        if (m == DIFF_NMETRICS) {
            why = "an unknown metric (mean, p50, p99, memory, rss, energy, value)";
        } else if (end == eq + 1 || strcmp(end, "%") != 0 || !(pct >= 0) || pct > 1e6) {
            why = "a threshold is a percentage, e.g. 10%";
        } else {
            lim->pct[m] = pct;
        }
    }
    free(copy);
    return why;
}

static void diff_usage(FILE *f)
{
    fputs("usage: nctop diff [--json] [--fail-on METRIC=PCT%,...] A B\n"
          "  A, B: snapshots (nctop --once --json), recordings (nctop record) or JSONL logs\n"
          "  --fail-on: exit 3 when a metric (mean, p50, p99, memory, rss, energy, value)\n"
          "             of a row is significantly higher in B by more than PCT%\n",
          f);
}

int diff_main(int argc, char **argv)
{
    struct diff_side sides[2];
    struct diff_limits lim;
    struct diff_cmp *v;
    const char *files[2] = {NULL, NULL};
    size_t nfiles = 0, n;
    bool json = false, by_proc, fails = false;
    char *err = NULL;
    int status = 0;

    for (size_t m = 0; m < DIFF_NMETRICS; m++) {
        lim.pct[m] = -1;
    }
    for (int i = 1; i < argc; i++) {
        const char *why;

        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (strcmp(argv[i], "--fail-on") == 0 || strncmp(argv[i], "--fail-on=", 10) == 0) {
            const char *spec = argv[i][9] == '=' ? argv[i] + 10 : i + 1 < argc ? argv[++i] : "";

            if ((why = diff_parse_limits(spec, &lim)) != NULL) {
                die_usage("diff: --fail-on '%s': %s", spec, why);
            }
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            diff_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--") == 0 && i + 1 < argc) {
            while (++i < argc && nfiles < 3) {
                files[nfiles < 2 ? nfiles : 1] = argv[i];
                nfiles++;
            }
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            diff_usage(stderr);
            die_usage("diff: unknown option '%s'", argv[i]);
        } else {
            if (nfiles < 2) {
                files[nfiles] = argv[i];
            }
            nfiles++;
        }
    }
    if (nfiles != 2) {
        diff_usage(stderr);
        die_usage("diff: two files to compare (nctop diff A B)");
    }
    memset(sides, 0, sizeof(sides));
    for (int k = 0; k < 2; k++) {
        sides[k].path = files[k];
        if (diff_side_load(&sides[k], &err) != 0) {
            diag_print("diff: %s", err);
            free(err);
            diff_side_done(&sides[0]);
            diff_side_done(&sides[1]);
            return 1;
        }
    }
    by_proc = sides[0].nprocs > 1 || sides[1].nprocs > 1;
    v = diff_align(&sides[0], &sides[1], &lim, by_proc, &n);
    for (size_t i = 0; i < n; i++) {
        fails = fails || v[i].fails;
    }
    if (json) {
        if (diff_print_json(stdout, &sides[0], &sides[1], v, n) != 0) {
            diag_print("diff: writing the output failed");
            status = 1;
        }
    } else {
        diff_print_text(stdout, &sides[0], &sides[1], v, n, by_proc);
        if (fflush(stdout) != 0) {
            status = 1;
        }
    }
    /* Each passed threshold, one line on stderr, so that CI logs say why it failed. */
    for (size_t i = 0; i < n && status == 0; i++) {
        if (v[i].fails) {
            char *name = diff_row_name(&v[i], by_proc);

            diag_print("diff: %s of %s %s rose %+.1f%%, above --fail-on %s=%g%%",
                       diff_metric_names[v[i].metric], diff_kind_names[diff_any(&v[i])->kind], name,
                       (v[i].vb - v[i].va) / fabs(v[i].va) * 100,
                       diff_metric_names[v[i].metric] == diff_metric_names[DIFF_M_PEAK]
                           ? "memory"
                           : diff_metric_names[v[i].metric],
                       lim.pct[v[i].metric]);
            free(name);
        }
    }
    free(v);
    diff_side_done(&sides[0]);
    diff_side_done(&sides[1]);
    if (status == 0 && fails) {
        status = DIFF_EXIT_REGRESSED;
    }
    return status;
}
