/* SPDX-License-Identifier: MIT */
/* The rule engine. Each evaluation measures every enabled rule's condition over the rows of
 * every live workload (and the machine's GPUs) and matches what holds with the alerts of the
 * previous evaluation by (rule, pid, object): a match keeps its pending time (and fires once
 * it held for the rule's for-duration), a new one is pending from now, an alert not matched
 * is resolved. Figures over the window that the rows do not give (losses, XID errors) are
 * deltas against samples of earlier evaluations; energy keeps its own history for the
 * rolling median. Everything is bounded: rules, alerts, tracks. */
#include "src/model/alerts.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/model/rows.h"
#include "src/model/rows_power.h"
#include "src/model/store.h"
#include "src/model/store_gpu.h"

#define ALERTS_TRACK_SAMPLES 64 /* samples of one figure kept */
#define ALERTS_MAX_TRACKS 512   /* figures followed over time */
#define ALERTS_ENERGY_MIN 5     /* samples before the median means anything */
#define ALERTS_P99_MIN_COUNT 10 /* window samples before a p99 is compared */
#define ALERTS_KEY_LEN 48

/* One figure over time (a loss count, a device's XID count, an energy per step). */
struct alerts_track {
    int32_t pid;
    char key[ALERTS_KEY_LEN];
    bool seen;
    size_t n;
    uint64_t t[ALERTS_TRACK_SAMPLES]; /* oldest first */
    double v[ALERTS_TRACK_SAMPLES];
};

struct alerts {
    struct alert_rule rules[ALERTS_MAX_RULES];
    size_t nrules;
    struct alert *v; /* ALERTS_MAX: the live ones, then the new ones of an evaluation */
    size_t n;
    size_t overflow;
    struct alerts_track *tracks;
    size_t ntracks;
    struct alert fired[ALERTS_FIRED_KEPT];
    size_t nfired;
    bool ever[2]; /* by severity */
    struct rows rows;
    struct rows base_rows;
};

static const char *const alerts_kinds[ALERT_NKINDS] = {
    [ALERT_KIND_MEMORY] = "memory",   [ALERT_KIND_LOSS] = "loss",
    [ALERT_KIND_COMPILE] = "compile", [ALERT_KIND_HW] = "hw",
    [ALERT_KIND_ENERGY] = "energy",   [ALERT_KIND_P99] = "p99",
};

static const char *const alerts_units[ALERT_NKINDS] = {
    [ALERT_KIND_MEMORY] = "%",  [ALERT_KIND_LOSS] = "events", [ALERT_KIND_COMPILE] = "%",
    [ALERT_KIND_HW] = "errors", [ALERT_KIND_ENERGY] = "x",    [ALERT_KIND_P99] = "%",
};

/* The built-in rules and their defaults. Levels and counts over the window fire at once;
 * the energy ratio, from samples a second apart, must hold for 10 s. */
static const struct alert_rule alerts_builtin[] = {
    {"memory_high", ALERT_KIND_MEMORY, 90, 0, ALERT_CRITICAL, false},
    {"events_lost", ALERT_KIND_LOSS, 0, 0, ALERT_WARNING, false},
    {"compile_failures", ALERT_KIND_COMPILE, 5, 0, ALERT_WARNING, false},
    {"hw_errors", ALERT_KIND_HW, 0, 0, ALERT_CRITICAL, false},
    {"energy_anomaly", ALERT_KIND_ENERGY, 2, 10 * UTIL_NS_PER_SEC, ALERT_WARNING, false},
    {"p99_regression", ALERT_KIND_P99, 20, 0, ALERT_WARNING, false},
};

const char *alerts_kind_name(enum alert_kind k)
{
    return (unsigned)k < ALERT_NKINDS ? alerts_kinds[k] : "?";
}

const char *alerts_kind_unit(enum alert_kind k)
{
    return (unsigned)k < ALERT_NKINDS ? alerts_units[k] : "";
}

const char *alerts_severity_name(enum alert_severity s)
{
    return s == ALERT_CRITICAL ? "critical" : "warning";
}

struct alerts *alerts_new(void)
{
    struct alerts *a = xcalloc(1, sizeof(*a));

    a->nrules = sizeof(alerts_builtin) / sizeof(alerts_builtin[0]);
    memcpy(a->rules, alerts_builtin, sizeof(alerts_builtin));
    a->v = xcalloc(ALERTS_MAX, sizeof(*a->v));
    a->tracks = xcalloc(ALERTS_MAX_TRACKS, sizeof(*a->tracks));
    rows_init(&a->rows);
    rows_init(&a->base_rows);
    return a;
}

void alerts_free(struct alerts *a)
{
    if (a == NULL) {
        return;
    }
    rows_done(&a->rows);
    rows_done(&a->base_rows);
    free(a->v);
    free(a->tracks);
    free(a);
}

size_t alerts_nrules(const struct alerts *a)
{
    return a->nrules;
}

const struct alert_rule *alerts_rule_at(const struct alerts *a, size_t i)
{
    return i < a->nrules ? &a->rules[i] : NULL;
}

/* --- rule lines ------------------------------------------------------------------------------ */

/* A duration: a number of seconds, or with a unit ms, s, m, h. */
static int alerts_parse_for(const char *s, uint64_t *out)
{
    char *end;
    double v, mul = 1e9;

    errno = 0;
    v = strtod(s, &end);
    if (end == s || errno != 0 || !(v >= 0)) {
        return -EINVAL;
    }
    if (strcmp(end, "ms") == 0) {
        mul = 1e6;
    } else if (strcmp(end, "m") == 0) {
        mul = 60e9;
    } else if (strcmp(end, "h") == 0) {
        mul = 3600e9;
    } else if (*end != '\0' && strcmp(end, "s") != 0) {
        return -EINVAL;
    }
    if (v * mul > 86400e9 * 366) {
        return -EINVAL;
    }
    *out = (uint64_t)(v * mul + 0.5);
    return 0;
}

static int alerts_parse_num(const char *s, double *out)
{
    char *end;

    errno = 0;
    *out = strtod(s, &end);
    return end != s && *end == '\0' && errno == 0 && isfinite(*out) && *out >= 0 ? 0 : -EINVAL;
}

static int alerts_bad(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int alerts_bad(char **err, const char *fmt, ...)
{
    char buf[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    *err = xstrdup(buf);
    return -EINVAL;
}

int alerts_set_rule(struct alerts *a, const char *line, char **err)
{
    char buf[256], *tok[8], *save = NULL, *hash;
    struct alert_rule r;
    size_t n = 0, i = 0, at;
    double num;
    int k;

    *err = NULL;
    snprintf(buf, sizeof(buf), "%s", line);
    if ((hash = strchr(buf, '#')) != NULL) {
        *hash = '\0';
    }
    for (char *t = strtok_r(buf, " \t\r\n", &save); t != NULL;
         t = strtok_r(NULL, " \t\r\n", &save)) {
        if (n == sizeof(tok) / sizeof(tok[0])) {
            return alerts_bad(err, "too many fields after '%s' (NAME KIND THRESHOLD FOR SEVERITY)",
                              tok[n - 1]);
        }
        tok[n++] = t;
    }
    if (n == 0) {
        return 0;
    }
    if (strlen(tok[0]) >= ALERTS_NAME_LEN ||
        strspn(tok[0], "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(tok[0])) {
        return alerts_bad(err, "'%s' is not a rule name (a-z, 0-9, _; at most 31)", tok[0]);
    }
    for (at = 0; at < a->nrules && strcmp(a->rules[at].name, tok[0]) != 0; at++) {
    }
    if (n == 2 && (strcmp(tok[1], "off") == 0 || strcmp(tok[1], "on") == 0)) {
        if (at == a->nrules) {
            return alerts_bad(err, "no rule named '%s' to turn off or on", tok[0]);
        }
        a->rules[at].off = strcmp(tok[1], "off") == 0;
        return 0;
    }
    memset(&r, 0, sizeof(r));
    if (at < a->nrules) {
        r = a->rules[at];
        r.off = false;
    }
    snprintf(r.name, sizeof(r.name), "%s", tok[0]);
    i = 1;
    if (n > 1 && alerts_parse_num(tok[1], &num) != 0) {
        for (k = 0; k < ALERT_NKINDS && strcmp(alerts_kinds[k], tok[1]) != 0; k++) {
        }
        if (k == ALERT_NKINDS) {
            return alerts_bad(err,
                              "'%s' is not a kind (memory, loss, compile, hw, energy, p99) nor "
                              "a threshold",
                              tok[1]);
        }
        r.kind = (enum alert_kind)k;
        i = 2;
        if (at == a->nrules) {
            r.severity = ALERT_WARNING;
        }
    } else if (at == a->nrules) {
        return alerts_bad(err, "a new rule '%s' needs a kind: NAME KIND THRESHOLD [FOR [SEVERITY]]",
                          tok[0]);
    }
    if (i >= n) {
        return alerts_bad(err, "rule '%s' needs a threshold", tok[0]);
    }
    if (alerts_parse_num(tok[i], &r.threshold) != 0) {
        return alerts_bad(err, "'%s' is not a threshold (a number >= 0)", tok[i]);
    }
    if (++i < n && alerts_parse_for(tok[i], &r.for_ns) != 0) {
        return alerts_bad(err, "'%s' is not a for-duration (5, 5s, 500ms, 2m, 1h)", tok[i]);
    }
    if (++i < n) {
        if (strcmp(tok[i], "warning") == 0) {
            r.severity = ALERT_WARNING;
        } else if (strcmp(tok[i], "critical") == 0) {
            r.severity = ALERT_CRITICAL;
        } else {
            return alerts_bad(err, "'%s' is not a severity (warning, critical)", tok[i]);
        }
    }
    if (++i < n) {
        return alerts_bad(err, "unexpected '%s' (NAME KIND THRESHOLD FOR SEVERITY)", tok[i]);
    }
    if (at == a->nrules) {
        if (a->nrules == ALERTS_MAX_RULES) {
            return alerts_bad(err, "too many rules (at most %d)", ALERTS_MAX_RULES);
        }
        a->nrules++;
    }
    a->rules[at] = r;
    return 0;
}

int alerts_load(struct alerts *a, const char *text, const char *file, char **err)
{
    unsigned line = 1;

    *err = NULL;
    while (*text != '\0') {
        const char *nl = strchr(text, '\n');
        size_t len = nl != NULL ? (size_t)(nl - text) : strlen(text);
        char buf[256], *why = NULL;

        if (len >= sizeof(buf)) {
            *err =
                xasprintf("%s:%u: line too long (at most %zu bytes)", file, line, sizeof(buf) - 1);
            return -EINVAL;
        }
        memcpy(buf, text, len);
        buf[len] = '\0';
        if (alerts_set_rule(a, buf, &why) != 0) {
            *err = xasprintf("%s:%u: %s", file, line, why);
            free(why);
            return -EINVAL;
        }
        text += len + (nl != NULL ? 1 : 0);
        line++;
    }
    return 0;
}

/* --- tracks: figures over time ------------------------------------------------------------ */

static struct alerts_track *alerts_track(struct alerts *a, int32_t pid, const char *key)
{
    struct alerts_track *t;

    for (size_t i = 0; i < a->ntracks; i++) {
        if (a->tracks[i].pid == pid && strcmp(a->tracks[i].key, key) == 0) {
            a->tracks[i].seen = true;
            return &a->tracks[i];
        }
    }
    if (a->ntracks == ALERTS_MAX_TRACKS) {
        return NULL;
    }
    t = &a->tracks[a->ntracks++];
    memset(t, 0, sizeof(*t));
    t->pid = pid;
    snprintf(t->key, sizeof(t->key), "%s", key);
    t->seen = true;
    return t;
}

static void alerts_track_push(struct alerts_track *t, uint64_t now_ns, double v)
{
    if (t->n == ALERTS_TRACK_SAMPLES) {
        memmove(&t->t[0], &t->t[1], (t->n - 1) * sizeof(t->t[0]));
        memmove(&t->v[0], &t->v[1], (t->n - 1) * sizeof(t->v[0]));
        t->n--;
    }
    t->t[t->n] = now_ns;
    t->v[t->n] = v;
    t->n++;
}

/* How much a growing count rose within the window: against the newest sample at least a
 * window old; until there is one, since start (the count itself), so a first look at a
 * workload that already lost events says so, for one window, as /healthz does. Samples are
 * kept a sixteenth of the window apart. A count that went down (a restarted source) starts
 * over. */
static double alerts_track_delta(struct alerts_track *t, uint64_t now_ns, uint64_t window_ns,
                                 double v)
{
    size_t base = 0;
    bool old = false;
    double d;

    if (t->n > 0 && v < t->v[t->n - 1]) {
        t->n = 0;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (now_ns >= t->t[i] && now_ns - t->t[i] >= window_ns) {
            base = i;
            old = true;
        }
    }
    /* Forget what lies before the base. */
    if (base > 0) {
        memmove(&t->t[0], &t->t[base], (t->n - base) * sizeof(t->t[0]));
        memmove(&t->v[0], &t->v[base], (t->n - base) * sizeof(t->v[0]));
        t->n -= base;
    }
    d = old ? v - t->v[0] : v;
    if (t->n == 0 || now_ns - t->t[t->n - 1] >= window_ns / 16) {
        alerts_track_push(t, now_ns, v);
    }
    return d;
}

static int alerts_cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return a < b ? -1 : a > b ? 1 : 0;
}

/* The median of the samples, or NAN with fewer than ALERTS_ENERGY_MIN. */
static double alerts_track_median(const struct alerts_track *t)
{
    double s[ALERTS_TRACK_SAMPLES];

    if (t->n < ALERTS_ENERGY_MIN) {
        return NAN;
    }
    memcpy(s, t->v, t->n * sizeof(s[0]));
    qsort(s, t->n, sizeof(s[0]), alerts_cmp_double);
    return t->n % 2 == 1 ? s[t->n / 2] : (s[t->n / 2 - 1] + s[t->n / 2]) / 2;
}

/* --- matching conditions with alerts ------------------------------------------------------ */

/* What holds for one object at this evaluation. */
struct alerts_hit {
    const struct alert_rule *rule;
    int32_t pid;
    const char *workload;
    const char *object;
    bool row;
    double value;
    const char *detail; /* may be NULL */
};

static void alerts_hold(struct alerts *a, const struct alerts_hit *h, uint64_t now_ns)
{
    struct alert *al = NULL;

    for (size_t i = 0; i < a->n; i++) {
        struct alert *x = &a->v[i];

        if (x->rule == h->rule->name && x->pid == h->pid && strcmp(x->object, h->object) == 0) {
            al = x;
            break;
        }
    }
    if (al == NULL) {
        if (a->n == ALERTS_MAX) {
            a->overflow++;
            return;
        }
        al = &a->v[a->n++];
        memset(al, 0, sizeof(*al));
        al->rule = h->rule->name;
        al->pid = h->pid;
        snprintf(al->object, sizeof(al->object), "%s", h->object);
        al->pending_ns = now_ns;
        al->state = ALERT_PENDING;
    }
    snprintf(al->workload, sizeof(al->workload), "%s", h->workload != NULL ? h->workload : "");
    al->kind = h->rule->kind;
    al->severity = h->rule->severity;
    al->row = h->row;
    al->value = h->value;
    al->threshold = h->rule->threshold;
    snprintf(al->detail, sizeof(al->detail), "%s", h->detail != NULL ? h->detail : "");
    al->seen = true;
    if (al->state == ALERT_PENDING && now_ns - al->pending_ns >= h->rule->for_ns) {
        al->state = ALERT_FIRING;
        al->since_ns = now_ns;
        a->ever[al->severity] = true;
        if (a->nfired < ALERTS_FIRED_KEPT) {
            a->fired[a->nfired++] = *al;
        }
    }
}

/* --- the conditions ------------------------------------------------------------------------ */

static void alerts_memory(struct alerts *a, const struct alert_rule *r,
                          const struct rows_summary *s, uint64_t now_ns)
{
    char detail[96], used[32], cap[32];

    (void)now_ns;
    for (size_t i = 0; i < a->rows.n; i++) {
        const struct row *row = &a->rows.v[i];
        double pct;

        /* The rows that hold memory, not the groups that sum them (a group with a capacity
         * is full when its members are, and those are named): pools, the KV cache, other
         * gauges with a capacity. */
        if ((row->flags & ROW_F_CAPACITY) == 0 || row->capacity_bytes == 0 || row->bytes < 0 ||
            row->nchildren > 0 || strncmp(row->path, "Host Memory/", 12) == 0) {
            continue; /* Tracked Host Memory's "capacity" is what was reserved: no limit */
        }
        pct = 100.0 * (double)row->bytes / (double)row->capacity_bytes;
        if (pct > r->threshold) {
            snprintf(used, sizeof(used), "%.1f MiB", rows_mb(row->bytes));
            snprintf(cap, sizeof(cap), "%.1f MiB", rows_mb((int64_t)row->capacity_bytes));
            snprintf(detail, sizeof(detail), "%s of %s", used, cap);
            alerts_hold(a, &(struct alerts_hit){r, s->pid, s->label, row->path, true, pct, detail},
                        now_ns);
        }
    }
}

static void alerts_gpu_memory(struct alerts *a, const struct alert_rule *r, const struct store *st,
                              uint64_t now_ns)
{
    for (size_t i = 0; i < store_gpu_count(st); i++) {
        const struct store_gpu_dev *d = store_gpu_at(st, i);
        char obj[32], detail[96];
        double pct;

        if (!d->mem_valid || d->mem_total_bytes == 0) {
            continue;
        }
        pct = 100.0 * (double)d->mem_used_bytes / (double)d->mem_total_bytes;
        if (pct > r->threshold) {
            snprintf(obj, sizeof(obj), "GPU%u", (unsigned)d->index);
            snprintf(detail, sizeof(detail), "%.40s: %.1f of %.1f GiB", d->name,
                     (double)d->mem_used_bytes / 1073741824.0,
                     (double)d->mem_total_bytes / 1073741824.0);
            alerts_hold(a, &(struct alerts_hit){r, 0, "", obj, false, pct, detail}, now_ns);
        }
    }
}

static void alerts_loss(struct alerts *a, const struct alert_rule *r, const struct rows_summary *s,
                        uint64_t now_ns, uint64_t window_ns)
{
    static const char *const keys[2] = {"dropped", "invalid"};
    const double figures[2] = {(double)s->dropped, (double)s->invalid};

    for (int k = 0; k < 2; k++) {
        struct alerts_track *t = alerts_track(a, s->pid, keys[k]);
        double d = t != NULL ? alerts_track_delta(t, now_ns, window_ns, figures[k]) : 0;
        char detail[96];

        if (d > r->threshold) {
            snprintf(detail, sizeof(detail), "%.0f in the last %.0f s%s%s", d,
                     (double)window_ns / 1e9, k == 1 && s->invalid_reason != NULL ? ": " : "",
                     k == 1 && s->invalid_reason != NULL ? s->invalid_reason : "");
            alerts_hold(a, &(struct alerts_hit){r, s->pid, s->label, keys[k], false, d, detail},
                        now_ns);
        }
    }
}

static void alerts_compile(struct alerts *a, const struct alert_rule *r, const struct store_proc *p,
                           const struct rows_summary *s, uint64_t now_ns, uint64_t window_ns)
{
    struct rows_instances in;
    uint64_t ok = 0, failed = 0;
    char detail[96];
    double pct;

    rows_build_instances(&in, p);
    for (size_t i = 0; i < in.n; i++) {
        uint64_t end = in.v[i].begin_ns + in.v[i].dur_ns;

        /* Ended within the window: what the rate is over. */
        if (end > now_ns || now_ns - end > window_ns) {
            continue;
        }
        ok += in.v[i].status == ROWS_INST_OK ? 1U : 0U;
        failed += in.v[i].status == ROWS_INST_FAILED ? 1U : 0U;
    }
    rows_instances_done(&in);
    if (ok + failed == 0) {
        return;
    }
    pct = 100.0 * (double)failed / (double)(ok + failed);
    if (pct > r->threshold) {
        snprintf(detail, sizeof(detail), "%llu of %llu failed in the last %.0f s",
                 (unsigned long long)failed, (unsigned long long)(ok + failed),
                 (double)window_ns / 1e9);
        alerts_hold(a,
                    &(struct alerts_hit){r, s->pid, s->label, "compilations", false, pct, detail},
                    now_ns);
    }
}

/* Whether a counter counts errors: its name ends in "errors". */
static bool alerts_error_counter(const char *name)
{
    size_t n = strlen(name);

    return n >= 6 && strcmp(name + n - 6, "errors") == 0;
}

static void alerts_hw_counters(struct alerts *a, const struct alert_rule *r,
                               const struct rows_summary *s, uint64_t now_ns, uint64_t window_ns)
{
    for (size_t i = 0; i < s->ncounters; i++) {
        const struct rows_counter *c = &s->counters[i];
        char key[ALERTS_KEY_LEN], detail[96];
        struct alerts_track *t;
        double d;

        if (!alerts_error_counter(c->name)) {
            continue;
        }
        snprintf(key, sizeof(key), "counter:%s", c->name);
        t = alerts_track(a, s->pid, key);
        d = t != NULL ? alerts_track_delta(t, now_ns, window_ns, (double)c->value) : 0;
        if (d > r->threshold) {
            snprintf(detail, sizeof(detail), "rose by %.0f in the last %.0f s (now %llu)", d,
                     (double)window_ns / 1e9, (unsigned long long)c->value);
            alerts_hold(a, &(struct alerts_hit){r, s->pid, s->label, c->name, false, d, detail},
                        now_ns);
        }
    }
}

static void alerts_hw_gpus(struct alerts *a, const struct alert_rule *r, const struct store *st,
                           uint64_t now_ns, uint64_t window_ns)
{
    for (size_t i = 0; i < store_gpu_count(st); i++) {
        const struct store_gpu_dev *dev = store_gpu_at(st, i);
        char obj[32], key[ALERTS_KEY_LEN], detail[96];
        struct alerts_track *t;
        double d;

        if (!dev->xid_valid) {
            continue;
        }
        snprintf(obj, sizeof(obj), "GPU%u", (unsigned)dev->index);
        snprintf(key, sizeof(key), "xid:%s", obj);
        t = alerts_track(a, 0, key);
        d = t != NULL ? alerts_track_delta(t, now_ns, window_ns, (double)dev->xid_errors) : 0;
        if (d > r->threshold) {
            snprintf(detail, sizeof(detail),
                     "%.0f XID error(s) in the last %.0f s, the last XID %u", d,
                     (double)window_ns / 1e9, (unsigned)dev->xid_last);
            alerts_hold(a, &(struct alerts_hit){r, 0, "", obj, false, d, detail}, now_ns);
        }
    }
}

/* Energy per step (a spiking workload's per timestep) or per token (a workload alone on its
 * GPUs), one sample a second, against the median of the samples before it. */
static void alerts_energy(struct alerts *a, const struct alert_rule *r, const struct store_proc *p,
                          const struct rows_summary *s, uint64_t now_ns)
{
    struct rows_gpu_energy ge;
    struct alerts_track *t;
    const char *what;
    double v, med;
    char detail[96];

    if ((s->neuro.net.have & ROW_N_STEP) != 0 && s->neuro.net.step_j > 0) {
        v = s->neuro.net.step_j;
        what = "energy per step";
    } else {
        rows_build_gpu_energy(&ge, p, now_ns);
        if (!ge.jpt_valid || !(ge.j_per_token > 0)) {
            return;
        }
        v = ge.j_per_token;
        what = "energy per token";
    }
    t = alerts_track(a, s->pid, what);
    if (t == NULL) {
        return;
    }
    med = alerts_track_median(t);
    if (t->n == 0 || now_ns - t->t[t->n - 1] >= UTIL_NS_PER_SEC) {
        alerts_track_push(t, now_ns, v);
    }
    if (isnan(med) || !(med > 0) || v <= r->threshold * med) {
        return;
    }
    snprintf(detail, sizeof(detail), "%.3g J, the median %.3g J", v, med);
    alerts_hold(a, &(struct alerts_hit){r, s->pid, s->label, what, false, v / med, detail}, now_ns);
}

/* The baseline's process for a live one: the same label, else the only one. */
static const struct store_proc *alerts_base_proc(const struct store *base, const char *label)
{
    for (size_t i = 0; i < store_nprocs(base); i++) {
        struct rows_summary s;
        const struct store_proc *p = store_proc_at(base, i);
        bool same;

        rows_build_summary(&s, p, 0);
        same = s.label != NULL && label != NULL && strcmp(s.label, label) == 0;
        rows_summary_done(&s);
        if (same) {
            return p;
        }
    }
    return store_nprocs(base) == 1 ? store_proc_at(base, 0) : NULL;
}

/* A baseline row's p99: since start (a whole run), else its window's. */
static bool alerts_base_p99(const struct row *b, uint64_t *p99)
{
    if ((b->flags & ROW_F_ALL) != 0 && rows_stat_known(&b->all, true, ROW_S_P99)) {
        *p99 = b->all.p99_ns;
        return true;
    }
    if ((b->flags & ROW_F_WIN) != 0 && rows_stat_known(&b->win, true, ROW_S_P99)) {
        *p99 = b->win.p99_ns;
        return true;
    }
    return false;
}

static void alerts_p99(struct alerts *a, const struct alert_rule *r, const struct rows_summary *s,
                       const struct store *baseline, uint64_t now_ns)
{
    const struct store_proc *bp = alerts_base_proc(baseline, s->label);

    if (bp == NULL) {
        return;
    }
    rows_clear(&a->base_rows);
    rows_build_latency(&a->base_rows, bp, now_ns);
    for (size_t i = 0; i < a->rows.n; i++) {
        const struct row *row = &a->rows.v[i];
        uint64_t base = 0;
        double pct;
        char detail[96];

        if ((row->flags & ROW_F_WIN) == 0 || row->win.count < ALERTS_P99_MIN_COUNT ||
            !rows_stat_known(&row->win, true, ROW_S_P99)) {
            continue;
        }
        for (size_t j = 0; j < a->base_rows.n; j++) {
            const struct row *b = &a->base_rows.v[j];

            if (b->path_hash == row->path_hash && strcmp(b->path, row->path) == 0) {
                if (!alerts_base_p99(b, &base)) {
                    base = 0;
                }
                break;
            }
        }
        if (base == 0) {
            continue;
        }
        pct = 100.0 * ((double)row->win.p99_ns - (double)base) / (double)base;
        if (pct > r->threshold) {
            snprintf(detail, sizeof(detail), "p99 %.3f ms, the baseline's %.3f ms",
                     rows_ms(row->win.p99_ns), rows_ms(base));
            alerts_hold(a, &(struct alerts_hit){r, s->pid, s->label, row->path, true, pct, detail},
                        now_ns);
        }
    }
}

/* --- evaluation ------------------------------------------------------------------------------ */

/* Firing first, then critical before warning, then the oldest first. */
static int alerts_cmp(const void *x, const void *y)
{
    const struct alert *a = x, *b = y;

    if (a->state != b->state) {
        return a->state == ALERT_FIRING ? -1 : 1;
    }
    if (a->severity != b->severity) {
        return a->severity == ALERT_CRITICAL ? -1 : 1;
    }
    if (a->pending_ns != b->pending_ns) {
        return a->pending_ns < b->pending_ns ? -1 : 1;
    }
    return strcmp(a->object, b->object);
}

static void alerts_eval_proc(struct alerts *a, const struct store_proc *p,
                             const struct store *baseline, uint64_t now_ns, uint64_t window_ns)
{
    struct rows_summary s;

    rows_build_summary(&s, p, now_ns);
    for (size_t k = 0; k < a->nrules; k++) {
        const struct alert_rule *r = &a->rules[k];

        if (r->off) {
            continue;
        }
        switch (r->kind) {
        case ALERT_KIND_MEMORY:
            rows_clear(&a->rows);
            rows_build_memory(&a->rows, p, now_ns);
            alerts_memory(a, r, &s, now_ns);
            break;
        case ALERT_KIND_LOSS:
            alerts_loss(a, r, &s, now_ns, window_ns);
            break;
        case ALERT_KIND_COMPILE:
            alerts_compile(a, r, p, &s, now_ns, window_ns);
            break;
        case ALERT_KIND_HW:
            alerts_hw_counters(a, r, &s, now_ns, window_ns);
            break;
        case ALERT_KIND_ENERGY:
            alerts_energy(a, r, p, &s, now_ns);
            break;
        case ALERT_KIND_P99:
            if (baseline != NULL) {
                rows_clear(&a->rows);
                rows_build_latency(&a->rows, p, now_ns);
                alerts_p99(a, r, &s, baseline, now_ns);
            }
            break;
        default:
            break;
        }
    }
    rows_summary_done(&s);
}

void alerts_eval(struct alerts *a, const struct store *st, const struct store *baseline,
                 uint64_t now_ns)
{
    uint64_t window_ns = store_config(st)->window_ns;
    size_t kept = 0;

    if (window_ns == 0) {
        window_ns = 10 * UTIL_NS_PER_SEC;
    }
    a->overflow = 0;
    for (size_t i = 0; i < a->n; i++) {
        a->v[i].seen = false;
    }
    for (size_t i = 0; i < a->ntracks; i++) {
        a->tracks[i].seen = false;
    }
    /* Workloads that are live (or replayed): an exited one keeps its last figures, which
     * describe nothing that is still going on. */
    for (size_t i = 0; i < store_nprocs(st); i++) {
        const struct store_proc *p = store_proc_at(st, i);

        if (store_proc_state(p) == STORE_PROC_LIVE) {
            alerts_eval_proc(a, p, baseline, now_ns, window_ns);
        }
    }
    for (size_t k = 0; k < a->nrules; k++) {
        const struct alert_rule *r = &a->rules[k];

        if (!r->off && r->kind == ALERT_KIND_MEMORY) {
            alerts_gpu_memory(a, r, st, now_ns);
        } else if (!r->off && r->kind == ALERT_KIND_HW) {
            alerts_hw_gpus(a, r, st, now_ns, window_ns);
        }
    }
    /* What no longer holds is resolved; figures no longer followed are forgotten. */
    for (size_t i = 0; i < a->n; i++) {
        if (a->v[i].seen) {
            a->v[kept++] = a->v[i];
        }
    }
    a->n = kept;
    kept = 0;
    for (size_t i = 0; i < a->ntracks; i++) {
        if (a->tracks[i].seen) {
            if (kept != i) {
                a->tracks[kept] = a->tracks[i];
            }
            kept++;
        }
    }
    a->ntracks = kept;
    qsort(a->v, a->n, sizeof(a->v[0]), alerts_cmp);
}

size_t alerts_count(const struct alerts *a)
{
    return a != NULL ? a->n : 0;
}

const struct alert *alerts_at(const struct alerts *a, size_t i)
{
    return a != NULL && i < a->n ? &a->v[i] : NULL;
}

size_t alerts_firing(const struct alerts *a, enum alert_severity min)
{
    size_t n = 0;

    for (size_t i = 0; a != NULL && i < a->n; i++) {
        n += a->v[i].state == ALERT_FIRING && a->v[i].severity >= min ? 1U : 0U;
    }
    return n;
}

size_t alerts_overflow(const struct alerts *a)
{
    return a != NULL ? a->overflow : 0;
}

bool alerts_ever_fired(const struct alerts *a, enum alert_severity min)
{
    return a != NULL &&
           (a->ever[ALERT_CRITICAL] || (min == ALERT_WARNING && a->ever[ALERT_WARNING]));
}

size_t alerts_nfired(const struct alerts *a)
{
    return a != NULL ? a->nfired : 0;
}

const struct alert *alerts_fired_at(const struct alerts *a, size_t i)
{
    return a != NULL && i < a->nfired ? &a->fired[i] : NULL;
}

char *alerts_describe(const struct alert *al, char *buf, size_t len)
{
    char who[ALERTS_LABEL_LEN + 32];
    const char *unit = alerts_kind_unit(al->kind);

    if (al->pid != 0) {
        snprintf(who, sizeof(who), "%s (pid %d) ", al->workload, (int)al->pid);
    } else {
        who[0] = '\0';
    }
    snprintf(buf, len, "%s: %s%s at %.4g%s%s (> %.4g%s%s)%s%s", al->rule, who, al->object,
             al->value, unit[0] == '%' || unit[0] == 'x' ? "" : " ", unit, al->threshold,
             unit[0] == '%' || unit[0] == 'x' ? "" : " ", unit, al->detail[0] != '\0' ? ": " : "",
             al->detail);
    return buf;
}
