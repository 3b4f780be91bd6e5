/* SPDX-License-Identifier: MIT */
/* The fleet source: one round of PromQL queries on a worker thread (sample), its answers put
 * into the store on the loop thread (publish). What nctop exports (src/output/prom.c) is read
 * back: nctop_workload_info{workload,pid,state} names each workload of each instance, the
 * counters give tokens, events, drops, RSS and CPU, and the span histograms
 * (nctop_span_duration_seconds{workload,path}) give every path's quantiles and rates over the
 * range, per workload and for the whole fleet. Instances are told apart by the label
 * Prometheus gives each target (instance). */
#include "collectors/fleet.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collectors/collector.h"
#include "collectors/fleet_http.h"
#include "collectors/fleet_json.h"
#include "src/base/hash.h"
#include "src/base/hmap.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/config.h"
#include "src/model/store.h"

/* One workload of one instance, or the fleet itself (instance NULL). */
struct fleet_member {
    char *instance; /* owned; NULL: the fleet */
    char *workload; /* owned */
    int32_t pid;
    struct store_proc *p;
    bool seen;          /* in this round's answer */
    uint64_t gone_ns;   /* when it left the answers (0: it is there) */
    uint64_t tokens;    /* the latest nctop_generation_tokens_total */
    double tokens_rate; /* this round's rate of it over the range, NAN when none */
    bool tokens_seeded; /* its rate's first point was given to the store */
    bool has_tokens;    /* this round had its counter */
    uint64_t events;    /* the latest nctop_events_total */
    bool events_valid;  /* events holds one */
    uint64_t dropped;   /* the latest nctop_events_dropped_total */
    double rss, cpu_s;  /* this round's, NAN when none */
    uint64_t rss_peak;  /* the largest RSS seen */
    char **paths;       /* the paths imported last round, in fleet_path_cmp order (owned) */
    size_t npaths;
    bool imported; /* this round had paths for it */
};

/* One figure of one path of one member, as an answer gives it. */
struct fleet_fig {
    uint32_t member;  /* index into members, or FLEET_ALL */
    const char *path; /* borrowed from the answer */
    enum fleet_query q;
    double value;
};
#define FLEET_ALL UINT32_MAX

/* The merged figures of one path. */
struct fleet_stat {
    const char *path;
    double q[3];  /* p50, p95, p99 in seconds; NAN when none */
    double sum;   /* rate of the spans' seconds */
    double count; /* rate of spans */
    bool rated;   /* sum and count are known */
};

struct fleet {
    struct store *st;
    char *url_text;
    struct fleet_url url;
    unsigned range_s;
    uint64_t timeout_ms;
    uint64_t every_ms;
    char *promql[FLEET_NQUERIES];
    char *target[FLEET_NQUERIES]; /* "/api/v1/query?query=..." */

    /* Filled by sample on the worker, taken by publish on the loop. */
    struct fleet_vector answers[FLEET_NQUERIES];
    char *error;

    /* The loop's. */
    struct fleet_member all;
    struct fleet_member *m;
    size_t nm, mcap;
    struct hmap index; /* hash of instance and workload -> index into m */
    uint64_t refused;  /* workloads beyond FLEET_MAX_MEMBERS */
    char problem[384];
    char shown[384];
    bool failed;
};

/* --- the store side ------------------------------------------------------------------------ */

static uint64_t fleet_key_hash(const char *instance, const char *workload)
{
    uint64_t h = hash_bytes(HASH_SEED, instance, strlen(instance));

    h = hash_bytes(h, "\x1f", 1);
    return hash_bytes(h, workload, strlen(workload));
}

struct fleet_key {
    const struct fleet *f;
    const char *instance;
    const char *workload;
};

static bool fleet_key_eq(const void *ctx, uint32_t val)
{
    const struct fleet_key *k = ctx;
    const struct fleet_member *m = &k->f->m[val];

    return strcmp(m->instance, k->instance) == 0 && strcmp(m->workload, k->workload) == 0;
}

static struct fleet_member *fleet_find(const struct fleet *f, const char *instance,
                                       const char *workload)
{
    struct fleet_key k = {f, instance, workload};
    uint32_t i;

    if (instance == NULL || workload == NULL) {
        return NULL;
    }
    i = hmap_find(&f->index, fleet_key_hash(instance, workload), fleet_key_eq, &k);
    return i == HMAP_NONE ? NULL : &f->m[i];
}

static void fleet_attr(struct store_proc *p, const char *key, const char *value)
{
    store_attr_set(p, store_proc_intern(p, key), store_proc_intern(p, value));
}

/* The fleet's own process, made before the first member so that it comes first. */
static void fleet_all_proc(struct fleet *f)
{
    if (f->all.p != NULL) {
        return;
    }
    f->all.p = store_proc_add(f->st, 0, FLEET_FLEET_LABEL);
    store_proc_set_fleet(f->all.p, STORE_FLEET_ALL);
    fleet_attr(f->all.p, "prometheus", f->url_text);
}

/* A member's process: "INSTANCE/WORKLOAD", the instance first so that a cut label still
 * says where it runs. */
static struct store_proc *fleet_member_proc(struct fleet *f, const struct fleet_member *m,
                                            const char *job)
{
    char *label = xasprintf("%s/%s", m->instance, m->workload);
    struct store_proc *p = store_proc_add(f->st, m->pid, label);

    free(label);
    store_proc_set_fleet(p, STORE_FLEET_MEMBER);
    fleet_attr(p, "instance", m->instance);
    if (job != NULL) {
        fleet_attr(p, "job", job);
    }
    return p;
}

static void fleet_paths_free(struct fleet_member *m)
{
    for (size_t i = 0; i < m->npaths; i++) {
        free(m->paths[i]);
    }
    free(m->paths);
    m->paths = NULL;
    m->npaths = 0;
}

/* The member of a workload_info sample: found, or added (a new pid of a known workload is a
 * restart: the old process is marked exited and a new one follows). NULL beyond the cap. */
static struct fleet_member *fleet_member_get(struct fleet *f, const struct fleet_sample *s,
                                             uint64_t now_ns)
{
    const char *instance = s->label[FLEET_L_INSTANCE], *workload = s->label[FLEET_L_WORKLOAD];
    struct fleet_member *m = fleet_find(f, instance, workload);
    uint64_t pid = 0;

    if (s->label[FLEET_L_PID] != NULL) {
        util_parse_u64(s->label[FLEET_L_PID], 1, INT32_MAX, &pid);
    }
    if (m != NULL) {
        /* Another pid (or back after it left the store): a process of its own. */
        if (m->pid != (int32_t)pid || m->p == NULL) {
            char why[64];

            snprintf(why, sizeof(why), "restarted as pid %d", (int)pid);
            if (m->p != NULL) {
                store_proc_set_state(m->p, STORE_PROC_EXITED, why, now_ns);
            }
            m->pid = (int32_t)pid;
            m->p = fleet_member_proc(f, m, s->label[FLEET_L_JOB]);
            m->events_valid = false;
            m->tokens_seeded = false;
            m->rss_peak = 0;
            fleet_paths_free(m);
        }
        return m;
    }
    if (f->nm >= FLEET_MAX_MEMBERS) {
        f->refused++;
        return NULL;
    }
    fleet_all_proc(f);
    if (f->nm == f->mcap) {
        f->mcap = f->mcap > 0 ? f->mcap * 2 : 16;
        f->m = xreallocarray(f->m, f->mcap, sizeof(*f->m));
    }
    m = &f->m[f->nm];
    memset(m, 0, sizeof(*m));
    m->instance = xstrdup(instance);
    m->workload = xstrdup(workload);
    m->pid = (int32_t)pid;
    m->p = fleet_member_proc(f, m, s->label[FLEET_L_JOB]);
    hmap_insert(&f->index, fleet_key_hash(instance, workload), (uint32_t)f->nm);
    f->nm++;
    return m;
}

/* Path order: digits compare as numbers ("block 2" before "block 10"), so that a tree read
 * back comes in the order a workload runs its blocks. */
static int fleet_path_cmp(const char *a, const char *b)
{
    while (*a != '\0' && *b != '\0') {
        if (*a >= '0' && *a <= '9' && *b >= '0' && *b <= '9') {
            const char *ea = a, *eb = b;
            int d;

            while (*a == '0') {
                a++;
            }
            while (*b == '0') {
                b++;
            }
            for (ea = a; *ea >= '0' && *ea <= '9'; ea++) {
            }
            for (eb = b; *eb >= '0' && *eb <= '9'; eb++) {
            }
            if (ea - a != eb - b) {
                return ea - a < eb - b ? -1 : 1;
            }
            d = strncmp(a, b, (size_t)(ea - a));
            if (d != 0) {
                return d;
            }
            a = ea;
            b = eb;
            continue;
        }
        if (*a != *b) {
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        }
        a++;
        b++;
    }
    return *a == *b ? 0 : *a == '\0' ? -1 : 1;
}

static int fleet_fig_cmp(const void *x, const void *y)
{
    const struct fleet_fig *a = x, *b = y;

    if (a->member != b->member) {
        return a->member < b->member ? -1 : 1;
    }
    return fleet_path_cmp(a->path, b->path);
}

static int fleet_sample_cmp(const void *x, const void *y)
{
    const struct fleet_sample *a = x, *b = y;
    const char *ka[2] = {a->label[FLEET_L_INSTANCE], a->label[FLEET_L_WORKLOAD]};
    const char *kb[2] = {b->label[FLEET_L_INSTANCE], b->label[FLEET_L_WORKLOAD]};

    for (int k = 0; k < 2; k++) {
        int d = fleet_path_cmp(ka[k] != NULL ? ka[k] : "", kb[k] != NULL ? kb[k] : "");

        if (d != 0) {
            return d;
        }
    }
    return 0;
}

/* Import one path's figures into p: its name ids from the top, the figures over the range
 * (absent what Prometheus has no figure for: last, min and max always). share: of the parent,
 * or negative when unknown. */
static void fleet_import(struct store_proc *p, const char *path, const struct fleet_stat *s,
                         unsigned range_s, double share, uint64_t now_ns)
{
    uint32_t ids[FLEET_MAX_DEPTH];
    size_t depth = 0;
    struct store_import_stats is;
    char name[FLEET_JSON_MAX_LABEL + 1];
    const char *q = path;

    while (*q != '\0') {
        size_t n = strcspn(q, "/");

        if (n == 0 || depth == FLEET_MAX_DEPTH) {
            return; /* an empty level ("a//b") or too deep: left out */
        }
        memcpy(name, q, n);
        name[n] = '\0';
        ids[depth] = store_proc_intern(p, name);
        if (ids[depth++] == 0) {
            return;
        }
        q += n + (q[n] == '/');
    }
    memset(&is, 0, sizeof(is));
    is.absent = STORE_STAT_LAST | STORE_STAT_MIN | STORE_STAT_MAX;
    if (s->rated && s->count >= 0 && s->sum >= 0) {
        is.count = (uint64_t)llround(s->count * range_s);
        is.total_ns = (uint64_t)llround(s->sum * range_s * 1e9);
        if (s->count > 0) {
            is.mean_ns = (uint64_t)llround(s->sum / s->count * 1e9);
        } else {
            is.absent |= STORE_STAT_MEAN;
        }
    } else {
        is.absent |= STORE_STAT_COUNT | STORE_STAT_TOTAL | STORE_STAT_MEAN;
    }
    for (int k = 0; k < 3; k++) {
        static const uint32_t bits[3] = {STORE_STAT_P50, STORE_STAT_P95, STORE_STAT_P99};
        uint64_t *out[3] = {&is.p50_ns, &is.p95_ns, &is.p99_ns};

        if (isfinite(s->q[k]) && s->q[k] >= 0) {
            *out[k] = (uint64_t)llround(s->q[k] * 1e9);
        } else {
            is.absent |= bits[k];
        }
    }
    if (share >= 0) {
        is.share_valid = true;
        is.share_pct = share;
    }
    store_node_import(p, ids, depth, &is, now_ns);
}

/* The paths of m imported last round that this round lacks: no figures now (a count of 0),
 * so no stale quantile stays on screen. */
static void fleet_forget_paths(struct fleet_member *m, char **now, size_t nnow, uint64_t now_ns)
{
    struct fleet_stat none = {.q = {NAN, NAN, NAN}, .rated = true};
    size_t j = 0;

    for (size_t i = 0; i < m->npaths; i++) {
        int d = 1;

        while (j < nnow && (d = fleet_path_cmp(now[j], m->paths[i])) < 0) {
            j++;
        }
        if (j == nnow || d != 0) {
            fleet_import(m->p, m->paths[i], &none, 1, -1, now_ns);
        }
    }
    fleet_paths_free(m);
    m->paths = now;
    m->npaths = nnow;
}

/* The parent of path within stats[n] (sorted), or NULL for a top-level path. */
static const struct fleet_stat *fleet_parent(const struct fleet_stat *stats, size_t n,
                                             const char *path)
{
    const char *slash = strrchr(path, '/');
    char parent[4 * FLEET_JSON_MAX_LABEL];
    size_t lo = 0, hi = n;

    if (slash == NULL || (size_t)(slash - path) >= sizeof(parent)) {
        return NULL;
    }
    memcpy(parent, path, (size_t)(slash - path));
    parent[slash - path] = '\0';
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = fleet_path_cmp(stats[mid].path, parent);

        if (d == 0) {
            return &stats[mid];
        }
        if (d < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return NULL;
}

/* Import the merged paths of one member (stats[n], sorted by path), their shares of their
 * parents' time (of all top-level time at the top), then forget what it no longer has. */
static void fleet_import_member(struct fleet *f, struct fleet_member *m,
                                const struct fleet_stat *stats, size_t n, uint64_t now_ns)
{
    char **paths = n > 0 ? xcalloc(n, sizeof(*paths)) : NULL;
    double top = 0;

    for (size_t i = 0; i < n; i++) {
        if (strchr(stats[i].path, '/') == NULL && stats[i].rated) {
            top += stats[i].sum;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const struct fleet_stat *par = fleet_parent(stats, n, stats[i].path);
        double denom = par != NULL ? (par->rated ? par->sum : 0) : top, share = -1;

        if (stats[i].rated && denom > 0) {
            share = stats[i].sum * 100.0 / denom;
        }
        fleet_import(m->p, stats[i].path, &stats[i], f->range_s, share, now_ns);
        paths[i] = xstrdup(stats[i].path);
    }
    m->imported = true;
    fleet_forget_paths(m, paths, n, now_ns);
}

/* The figures of every path: each answer's samples by member and path, merged. */
static void fleet_apply_paths(struct fleet *f, struct fleet_vector *ans, uint64_t now_ns)
{
    static const enum fleet_query qs[] = {FLEET_Q_P50,     FLEET_Q_P95,    FLEET_Q_P99,
                                          FLEET_Q_SUM,     FLEET_Q_COUNT,  FLEET_Q_ALL_P50,
                                          FLEET_Q_ALL_P95, FLEET_Q_ALL_P99};
    struct fleet_fig *figs = NULL;
    struct fleet_stat *stats = NULL;
    size_t nf = 0, cap = 0, ns = 0, start = 0;

    for (size_t i = 0; i < f->nm; i++) {
        f->m[i].imported = false;
    }
    f->all.imported = false;

    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
        const struct fleet_vector *v = &ans[qs[k]];
        bool fleetwide = qs[k] >= FLEET_Q_ALL_P50;

        for (size_t i = 0; i < v->n; i++) {
            const struct fleet_sample *s = &v->v[i];
            const struct fleet_member *m = NULL;

            if (s->label[FLEET_L_PATH] == NULL || s->label[FLEET_L_PATH][0] == '\0') {
                continue;
            }
            if (!fleetwide) {
                m = fleet_find(f, s->label[FLEET_L_INSTANCE], s->label[FLEET_L_WORKLOAD]);
                if (m == NULL || !m->seen) {
                    continue;
                }
            }
            /* A member's rates also add up to the fleet's. */
            for (int twice = 0; twice < 2; twice++) {
                if (twice == 1 && (fleetwide || (qs[k] != FLEET_Q_SUM && qs[k] != FLEET_Q_COUNT))) {
                    break;
                }
                if (nf == cap) {
                    cap = cap > 0 ? cap * 2 : 256;
                    figs = xreallocarray(figs, cap, sizeof(*figs));
                }
                figs[nf].member = m != NULL && twice == 0 ? (uint32_t)(m - f->m) : FLEET_ALL;
                figs[nf].path = s->label[FLEET_L_PATH];
                figs[nf].q = qs[k];
                figs[nf].value = s->value;
                nf++;
            }
        }
    }
    if (nf > 0) {
        qsort(figs, nf, sizeof(*figs), fleet_fig_cmp);
        stats = xcalloc(nf, sizeof(*stats));
    }
    /* One group of figures per member (the fleet last), one stat per path of it. */
    for (size_t i = 0; i <= nf; i++) {
        struct fleet_stat *st;

        if (nf > 0 && (i == nf || (i > start && figs[i].member != figs[start].member))) {
            uint32_t who = figs[start].member;

            fleet_import_member(f, who == FLEET_ALL ? &f->all : &f->m[who], stats, ns, now_ns);
            ns = 0;
            start = i;
        }
        if (i == nf) {
            break;
        }
        if (ns == 0 || fleet_path_cmp(stats[ns - 1].path, figs[i].path) != 0) {
            st = &stats[ns++];
            st->path = figs[i].path;
            st->q[0] = st->q[1] = st->q[2] = NAN;
            st->sum = st->count = 0;
            st->rated = false;
        }
        st = &stats[ns - 1];
        switch (figs[i].q) {
        case FLEET_Q_P50:
        case FLEET_Q_ALL_P50:
            st->q[0] = figs[i].value;
            break;
        case FLEET_Q_P95:
        case FLEET_Q_ALL_P95:
            st->q[1] = figs[i].value;
            break;
        case FLEET_Q_P99:
        case FLEET_Q_ALL_P99:
            st->q[2] = figs[i].value;
            break;
        case FLEET_Q_SUM:
            st->sum += isfinite(figs[i].value) ? figs[i].value : 0;
            st->rated = true;
            break;
        default:
            st->count += isfinite(figs[i].value) ? figs[i].value : 0;
            st->rated = true;
            break;
        }
    }
    /* Members (and the fleet) with no path in this round forget theirs. */
    for (size_t i = 0; i < f->nm; i++) {
        if (!f->m[i].imported && f->m[i].npaths > 0 && f->m[i].p != NULL) {
            fleet_forget_paths(&f->m[i], NULL, 0, now_ns);
        }
    }
    if (!f->all.imported && f->all.npaths > 0) {
        fleet_forget_paths(&f->all, NULL, 0, now_ns);
    }
    free(stats);
    free(figs);
}

/* The value of the target health (up) of an instance: 1 up, 0 down, -1 not in the answer. */
static int fleet_up(const struct fleet_vector *up, const char *instance)
{
    for (size_t i = 0; i < up->n; i++) {
        if (up->v[i].label[FLEET_L_INSTANCE] != NULL &&
            strcmp(up->v[i].label[FLEET_L_INSTANCE], instance) == 0) {
            return up->v[i].value > 0.5 ? 1 : 0;
        }
    }
    return -1;
}

/* One counter or gauge sample of a member. */
static void fleet_apply_series(struct fleet_member *m, const char *name, double v)
{
    uint64_t u = isfinite(v) && v > 0 ? (uint64_t)llround(v) : 0;

    if (strcmp(name, "nctop_generation_tokens_total") == 0) {
        m->tokens = u;
        m->has_tokens = true;
    } else if (strcmp(name, "nctop_events_total") == 0) {
        /* Events come as a total: the store counts what is new (a reset starts again). */
        store_proc_add_events(m->p, !m->events_valid ? u : u >= m->events ? u - m->events : u);
        m->events = u;
        m->events_valid = true;
    } else if (strcmp(name, "nctop_events_dropped_total") == 0) {
        m->dropped = u;
        store_proc_set_dropped(m->p, u);
    } else if (strcmp(name, "nctop_resident_memory_bytes") == 0) {
        m->rss = (double)u;
    } else if (strcmp(name, "nctop_cpu_seconds_total") == 0 && isfinite(v) && v >= 0) {
        m->cpu_s = v;
    }
}

/* The tokens counter of a process at now_ns. Its first time, the store also gets the value
 * Prometheus' rate says it had half a range ago, so that tokens/s is there from the first
 * round (a --once snapshot has one). */
static void fleet_tokens(struct fleet_member *m, uint64_t value, double rate, unsigned range_s,
                         uint64_t now_ns)
{
    uint32_t id = store_proc_intern(m->p, "tokens");
    uint64_t half_ns = (uint64_t)range_s * UTIL_NS_PER_SEC / 2;

    if (!m->tokens_seeded && isfinite(rate) && rate >= 0 && now_ns > half_ns) {
        double before = (double)value - rate * range_s / 2;

        store_counter_set(m->p, id, before > 0 ? (uint64_t)llround(before) : 0, now_ns - half_ns);
    }
    m->tokens_seeded = true;
    store_counter_set(m->p, id, value, now_ns);
}

void fleet_apply(struct fleet *f, struct fleet_vector *ans, uint64_t now_ns)
{
    const struct fleet_vector *series = &ans[FLEET_Q_SERIES];
    uint64_t tokens = 0, dropped = 0, events = 0, keep = store_config(f->st)->exited_keep_ns;
    double rate = 0;
    bool any_live = false, any_tokens = false;

    f->refused = 0;
    for (size_t i = 0; i < f->nm; i++) {
        f->m[i].seen = false;
        f->m[i].rss = f->m[i].cpu_s = f->m[i].tokens_rate = NAN;
        f->m[i].has_tokens = false;
    }
    /* New workloads join in the order of their instance and label, whatever the answer's. */
    if (series->n > 1) {
        qsort(series->v, series->n, sizeof(*series->v), fleet_sample_cmp);
    }
    /* The workloads first: who is there, with which pid, in which state. */
    for (size_t i = 0; i < series->n; i++) {
        const struct fleet_sample *s = &series->v[i];
        struct fleet_member *m;
        const char *state = s->label[FLEET_L_STATE];

        if (s->label[FLEET_L_NAME] == NULL ||
            strcmp(s->label[FLEET_L_NAME], "nctop_workload_info") != 0 ||
            s->label[FLEET_L_INSTANCE] == NULL || s->label[FLEET_L_WORKLOAD] == NULL ||
            (m = fleet_member_get(f, s, now_ns)) == NULL) {
            continue;
        }
        m->seen = true;
        m->gone_ns = 0;
        if (state != NULL && strcmp(state, "exited") == 0) {
            store_proc_set_state(m->p, STORE_PROC_EXITED, "exited (its nctop says)", now_ns);
        } else if (state != NULL && strcmp(state, "error") == 0) {
            store_proc_set_state(m->p, STORE_PROC_ERROR, "failed (its nctop says)", now_ns);
        } else {
            store_proc_set_state(m->p, STORE_PROC_LIVE, NULL, now_ns);
        }
    }
    for (size_t i = 0; i < series->n; i++) {
        const struct fleet_sample *s = &series->v[i];
        struct fleet_member *m =
            fleet_find(f, s->label[FLEET_L_INSTANCE], s->label[FLEET_L_WORKLOAD]);

        if (m != NULL && m->seen && s->label[FLEET_L_NAME] != NULL) {
            fleet_apply_series(m, s->label[FLEET_L_NAME], s->value);
        }
    }
    for (size_t i = 0; i < ans[FLEET_Q_TOKENS].n; i++) {
        const struct fleet_sample *s = &ans[FLEET_Q_TOKENS].v[i];
        struct fleet_member *m =
            fleet_find(f, s->label[FLEET_L_INSTANCE], s->label[FLEET_L_WORKLOAD]);

        if (m != NULL && m->seen) {
            m->tokens_rate = s->value;
        }
    }
    /* Those not in the answer: their instance is down, or they are gone. */
    for (size_t i = 0; i < f->nm; i++) {
        struct fleet_member *m = &f->m[i];

        if (m->seen) {
            if (isfinite(m->rss)) {
                m->rss_peak = (uint64_t)m->rss > m->rss_peak ? (uint64_t)m->rss : m->rss_peak;
                store_proc_set_host(m->p, (uint64_t)m->rss, m->rss_peak,
                                    isfinite(m->cpu_s) ? (uint64_t)llround(m->cpu_s * 1e9) : 0,
                                    now_ns);
            }
            any_live = any_live || store_proc_state(m->p) == STORE_PROC_LIVE;
        } else if (m->gone_ns == 0) {
            m->gone_ns = now_ns;
            if (fleet_up(&ans[FLEET_Q_UP], m->instance) == 0) {
                store_proc_set_state(m->p, STORE_PROC_ERROR,
                                     "its instance is down (Prometheus cannot scrape it)", now_ns);
            } else {
                store_proc_set_state(m->p, STORE_PROC_EXITED, "no longer in Prometheus", now_ns);
            }
        }
        any_tokens = any_tokens || m->has_tokens;
        if (m->seen && m->p != NULL && m->has_tokens) {
            fleet_tokens(m, m->tokens, m->tokens_rate, f->range_s, now_ns);
            rate += isfinite(m->tokens_rate) ? m->tokens_rate : 0;
        }
        tokens += m->tokens;
        dropped += m->dropped;
        events += m->events;
    }
    fleet_apply_paths(f, ans, now_ns);
    /* The fleet's own figures: the sums of its members'. */
    if (f->all.p != NULL) {
        if (any_tokens) {
            fleet_tokens(&f->all, tokens, rate, f->range_s, now_ns);
        }
        store_proc_set_dropped(f->all.p, dropped);
        store_proc_add_events(f->all.p, events >= f->all.events ? events - f->all.events : 0);
        f->all.events = events;
        store_proc_set_state(f->all.p, any_live ? STORE_PROC_LIVE : STORE_PROC_EXITED,
                             any_live ? NULL : "no live workload in the fleet", now_ns);
    }
    /* Workloads gone for longer than --keep-exited leave the store. */
    for (size_t i = 0; i < f->nm; i++) {
        struct fleet_member *m = &f->m[i];

        if (m->gone_ns != 0 && now_ns - m->gone_ns > keep && m->p != NULL &&
            store_proc_remove(m->p, now_ns) == 0) {
            m->p = NULL;
        }
    }
    for (int q = 0; q < FLEET_NQUERIES; q++) {
        fleet_vector_done(&ans[q]);
    }
    if (f->nm == 0) {
        snprintf(f->problem, sizeof(f->problem),
                 "--prometheus-url %s: Prometheus has no nctop series (nctop_workload_info): "
                 "does it scrape an nctop --prometheus?",
                 f->url_text);
        f->failed = true;
    } else {
        if (f->refused > 0) {
            snprintf(f->problem, sizeof(f->problem),
                     "--prometheus-url %s: more than %d workloads: %llu not shown", f->url_text,
                     FLEET_MAX_MEMBERS, (unsigned long long)f->refused);
        } else if (f->failed) {
            snprintf(f->problem, sizeof(f->problem), "--prometheus-url %s: answering again",
                     f->url_text);
        }
        f->failed = false;
    }
}

void fleet_apply_error(struct fleet *f, const char *why, uint64_t now_ns)
{
    char reason[256];

    snprintf(f->problem, sizeof(f->problem), "--prometheus-url %s: %s", f->url_text, why);
    snprintf(reason, sizeof(reason), "Prometheus: %s", why);
    for (size_t i = 0; i < f->nm; i++) {
        if (f->m[i].p != NULL && store_proc_state(f->m[i].p) == STORE_PROC_LIVE) {
            store_proc_set_state(f->m[i].p, STORE_PROC_ERROR, reason, now_ns);
        }
    }
    if (f->all.p != NULL) {
        store_proc_set_state(f->all.p, STORE_PROC_ERROR, reason, now_ns);
    }
    f->failed = true;
}

const char *fleet_problem(struct fleet *f)
{
    if (f->problem[0] == '\0' || strcmp(f->problem, f->shown) == 0) {
        return NULL;
    }
    memcpy(f->shown, f->problem, sizeof(f->shown));
    return f->shown;
}

bool fleet_failed(const struct fleet *f)
{
    return f->failed;
}

/* --- the queries ---------------------------------------------------------------------------- */

const char *fleet_promql(const struct fleet *f, enum fleet_query q)
{
    return f->promql[q];
}

struct fleet *fleet_new(struct store *st, const char *url, unsigned range_s, char **err)
{
    static const char *const qs[] = {"0.5", "0.95", "0.99"};
    struct fleet *f = xcalloc(1, sizeof(*f));
    struct hmap init = HMAP_INIT;

    if (fleet_url_parse(url, &f->url, err) != 0) {
        free(f);
        return NULL;
    }
    f->st = st;
    f->url_text = xstrdup(url);
    f->range_s = range_s > 0 ? range_s : 60;
    f->index = init;
    f->problem[0] = f->shown[0] = '\0';
    f->promql[FLEET_Q_SERIES] =
        xstrdup("{__name__=~\"nctop_(workload_info|generation_tokens_total|events_total|"
                "events_dropped_total|resident_memory_bytes|cpu_seconds_total)\"}");
    f->promql[FLEET_Q_UP] = xstrdup("up");
    f->promql[FLEET_Q_TOKENS] = xasprintf("rate(nctop_generation_tokens_total[%us])", f->range_s);
    for (int k = 0; k < 3; k++) {
        f->promql[FLEET_Q_P50 + k] =
            xasprintf("histogram_quantile(%s, sum by (instance, workload, path, le) "
                      "(rate(nctop_span_duration_seconds_bucket[%us])))",
                      qs[k], f->range_s);
        f->promql[FLEET_Q_ALL_P50 + k] =
            xasprintf("histogram_quantile(%s, sum by (path, le) "
                      "(rate(nctop_span_duration_seconds_bucket[%us])))",
                      qs[k], f->range_s);
    }
    f->promql[FLEET_Q_SUM] = xasprintf("sum by (instance, workload, path) "
                                       "(rate(nctop_span_duration_seconds_sum[%us]))",
                                       f->range_s);
    f->promql[FLEET_Q_COUNT] = xasprintf("sum by (instance, workload, path) "
                                         "(rate(nctop_span_duration_seconds_count[%us]))",
                                         f->range_s);
    for (int q = 0; q < FLEET_NQUERIES; q++) {
        char *enc = fleet_url_encode(f->promql[q]);

        f->target[q] = xasprintf("/api/v1/query?query=%s", enc);
        free(enc);
    }
    return f;
}

void fleet_free(struct fleet *f)
{
    if (f == NULL) {
        return;
    }
    for (size_t i = 0; i < f->nm; i++) {
        free(f->m[i].instance);
        free(f->m[i].workload);
        fleet_paths_free(&f->m[i]);
    }
    fleet_paths_free(&f->all);
    free(f->m);
    hmap_free(&f->index);
    for (int q = 0; q < FLEET_NQUERIES; q++) {
        free(f->promql[q]);
        free(f->target[q]);
        fleet_vector_done(&f->answers[q]);
    }
    free(f->error);
    free(f->url_text);
    free(f);
}

/* --- the source ----------------------------------------------------------------------------- */

static void *fleet_collector_start(const struct collector_env *env, uint64_t now_ns, char **err)
{
    const struct config *cfg = env->cfg;
    struct fleet *f;

    (void)now_ns;
    if (cfg->prometheus_url == NULL) {
        return NULL; /* not asked for */
    }
    f = fleet_new(env->store, cfg->prometheus_url,
                  (unsigned)(store_config(env->store)->window_ns / UTIL_NS_PER_SEC), err);
    if (f == NULL) {
        return NULL;
    }
    f->every_ms = cfg->delay_ns / UTIL_NS_PER_MS;
    f->every_ms = f->every_ms > 0 ? f->every_ms : 1000;
    f->timeout_ms = f->every_ms > FLEET_TIMEOUT_MS ? f->every_ms : FLEET_TIMEOUT_MS;
    return f;
}

static void fleet_collector_stop(void *self)
{
    fleet_free(self);
}

/* Nothing to do on the loop: the round is the sample's; this sets its cadence (--delay). */
static uint64_t fleet_collector_run(void *self, uint64_t now_ns)
{
    (void)now_ns;
    return ((struct fleet *)self)->every_ms;
}

/* One round of queries, each within its deadline; the first failure ends the round, so a
 * Prometheus that does not answer costs one timeout (worker thread). */
static void fleet_collector_sample(void *self)
{
    struct fleet *f = self;

    for (int q = 0; q < FLEET_NQUERIES && f->error == NULL; q++) {
        uint64_t deadline = util_mono_ns() + f->timeout_ms * UTIL_NS_PER_MS;
        char *body = NULL, *err = NULL;
        size_t len = 0;
        int status = 0;

        if (fleet_http_get(&f->url, f->target[q], deadline, &status, &body, &len, &err) != 0 ||
            fleet_json_decode(status, body, len, &f->answers[q], &err) != 0) {
            f->error = err;
            err = NULL;
        }
        free(body);
        free(err);
    }
}

static void fleet_collector_publish(void *self)
{
    struct fleet *f = self;
    uint64_t now = util_mono_ns();

    if (f->error != NULL) {
        fleet_apply_error(f, f->error, now);
        free(f->error);
        f->error = NULL;
        for (int q = 0; q < FLEET_NQUERIES; q++) {
            fleet_vector_done(&f->answers[q]);
        }
        return;
    }
    fleet_apply(f, f->answers, now);
}

static const char *fleet_collector_problem(void *self)
{
    return fleet_problem(self);
}

static bool fleet_collector_failed(const void *self)
{
    return fleet_failed(self);
}

const struct collector_ops fleet_collector = {
    .name = "fleet",
    .start = fleet_collector_start,
    .stop = fleet_collector_stop,
    .run = fleet_collector_run,
    .sample = fleet_collector_sample,
    .publish = fleet_collector_publish,
    .problem = fleet_collector_problem,
    .failed = fleet_collector_failed,
};
