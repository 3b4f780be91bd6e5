/* SPDX-License-Identifier: MIT */
/* The health document. A workload is unwell when it failed (its source is in error), exited,
 * is read by another nctop (this one sees none of its events), went silent (stale: no event
 * for HEALTH_STALE_NS or the window, whichever is longer), or lost
 * or sent invalid records within the last window; a GPU when NVML reports an error; a
 * neuromorphic (or any named) target when one of its workloads is unwell or an error counter
 * of theirs rises. Rates over the window compare with the figures seen at earlier renders
 * (kept per process, a few per window): until nctop has rendered for a window, since start. */
#include "src/output/health.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/model/alerts.h"
#include "src/model/rows.h"
#include "src/model/store.h"

#define HEALTH_SAMPLES 16 /* figures kept per process: the window in 8 steps, with room */

struct health_sample {
    uint64_t t_ns;
    uint64_t dropped;
    uint64_t events;
    uint64_t invalid;
};

struct health_proc {
    const struct store_proc *p; /* identity only, never dereferenced after it is gone */
    int32_t pid;
    bool seen; /* in this render (mark and sweep) */
    size_t n;
    struct health_sample s[HEALTH_SAMPLES]; /* oldest first */
};

struct health {
    struct health_proc *v;
    size_t n, cap;
};

struct health *health_new(void)
{
    return xcalloc(1, sizeof(struct health));
}

void health_free(struct health *h)
{
    if (h != NULL) {
        free(h->v);
        free(h);
    }
}

static struct health_proc *health_find(struct health *h, const struct store_proc *p, int32_t pid)
{
    for (size_t i = 0; i < h->n; i++) {
        if (h->v[i].p == p && h->v[i].pid == pid) {
            return &h->v[i];
        }
    }
    if (h->n == h->cap) {
        h->cap = h->cap != 0 ? h->cap * 2 : 8;
        h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
    }
    memset(&h->v[h->n], 0, sizeof(h->v[h->n]));
    h->v[h->n].p = p;
    h->v[h->n].pid = pid;
    return &h->v[h->n++];
}

/* Record now's figures and return the base to measure the window from: the newest sample at
 * least a window old, else the oldest kept; zeros (since start) at the first render. */
static struct health_sample health_base(struct health_proc *hp, const struct health_sample *now,
                                        uint64_t window_ns)
{
    struct health_sample zero = {0, 0, 0, 0}, base;
    uint64_t step = window_ns / 8 > UTIL_NS_PER_SEC ? window_ns / 8 : UTIL_NS_PER_SEC;

    hp->seen = true;
    /* Forget samples older than needed: keep one at or before now - window. */
    while (hp->n >= 2 && now->t_ns - hp->s[1].t_ns >= window_ns) {
        memmove(&hp->s[0], &hp->s[1], (hp->n - 1) * sizeof(hp->s[0]));
        hp->n--;
    }
    base = hp->n > 0 ? hp->s[0] : zero;
    if (hp->n == 0 || now->t_ns - hp->s[hp->n - 1].t_ns >= step) {
        if (hp->n == HEALTH_SAMPLES) {
            memmove(&hp->s[0], &hp->s[1], (hp->n - 1) * sizeof(hp->s[0]));
            hp->n--;
        }
        hp->s[hp->n++] = *now;
    }
    /* Counters only grow; a smaller figure (a reused pid) starts from zero. */
    if (base.dropped > now->dropped || base.events > now->events || base.invalid > now->invalid) {
        base = zero;
    }
    return base;
}

static void health_reason(cJSON *reasons, cJSON *all, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* One reason, in the item's list and, prefixed with whose it is, in the overall list. */
static void health_reason(cJSON *reasons, cJSON *all, const char *who, const char *fmt, ...)
{
    char text[512], full[700];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    cJSON_AddItemToArray(reasons, cJSON_CreateString(text));
    snprintf(full, sizeof(full), "%s: %s", who, text);
    cJSON_AddItemToArray(all, cJSON_CreateString(full));
}

/* One workload; returns whether it is well. */
static bool health_proc(struct health *h, const struct store_proc *p, uint64_t now_ns,
                        uint64_t window_ns, cJSON *arr, cJSON *all)
{
    static const char *const states[] = {"live", "exited", "error"};
    struct rows_summary sum;
    struct health_sample now, base;
    cJSON *o = cJSON_CreateObject(), *reasons;
    uint64_t last = store_proc_last_event_ns(p), stale_ns, dropped, events, invalid;
    double age_s = last != 0 && now_ns > last ? (double)(now_ns - last) / 1e9 : 0;
    char who[128];

    rows_build_summary(&sum, p, now_ns);
    snprintf(who, sizeof(who), "workload %s (pid %d)", sum.label != NULL ? sum.label : "",
             (int)sum.pid);
    now = (struct health_sample){now_ns, sum.dropped, sum.events, sum.invalid};
    base = health_base(health_find(h, p, sum.pid), &now, window_ns);
    dropped = now.dropped - base.dropped;
    events = now.events - base.events;
    invalid = now.invalid - base.invalid;
    stale_ns = window_ns > HEALTH_STALE_NS ? window_ns : HEALTH_STALE_NS;

    cJSON_AddNumberToObject(o, "pid", sum.pid);
    cJSON_AddStringToObject(o, "label", sum.label != NULL ? sum.label : "");
    cJSON_AddStringToObject(
        o, "state", sum.replayed && sum.state == ROWS_STATE_LIVE ? "replay" : states[sum.state]);
    reasons = cJSON_AddArrayToObject(o, "reasons");
    if (sum.state == ROWS_STATE_ERROR) {
        health_reason(reasons, all, who, "failed: %s", sum.reason != NULL ? sum.reason : "error");
    } else if (sum.state == ROWS_STATE_EXITED) {
        health_reason(reasons, all, who, "exited%s%s", sum.reason != NULL ? ": " : "",
                      sum.reason != NULL ? sum.reason : "");
    } else if (sum.reason != NULL) {
        /* Live but not ours to judge: its events go to another reader. */
        health_reason(reasons, all, who, "unwatched: %s", sum.reason);
    } else if (!sum.replayed && last != 0 && now_ns > last && now_ns - last > stale_ns) {
        health_reason(reasons, all, who, "stale: no event for %.1f s (more than %.0f s)", age_s,
                      (double)stale_ns / 1e9);
    }
    if (dropped > 0) {
        health_reason(reasons, all, who, "%llu events lost in the last %.0f s (%.2f %%)",
                      (unsigned long long)dropped, (double)window_ns / 1e9,
                      100.0 * (double)dropped / (double)(dropped + events));
    }
    if (invalid > 0) {
        health_reason(reasons, all, who, "%llu invalid records in the last %.0f s%s%s",
                      (unsigned long long)invalid, (double)window_ns / 1e9,
                      sum.invalid_reason != NULL ? ": " : "",
                      sum.invalid_reason != NULL ? sum.invalid_reason : "");
    }
    cJSON_AddBoolToObject(o, "healthy", cJSON_GetArraySize(reasons) == 0);
    if (last != 0) {
        cJSON_AddNumberToObject(o, "last_event_age_s", age_s);
    } else {
        cJSON_AddNullToObject(o, "last_event_age_s");
    }
    cJSON_AddNumberToObject(o, "events", (double)sum.events);
    cJSON_AddNumberToObject(o, "dropped", (double)sum.dropped);
    cJSON_AddNumberToObject(o, "invalid", (double)sum.invalid);
    cJSON_AddNumberToObject(o, "dropped_window", (double)dropped);
    cJSON_AddNumberToObject(o, "invalid_window", (double)invalid);
    cJSON_AddNumberToObject(
        o, "drop_rate_pct",
        dropped + events > 0 ? 100.0 * (double)dropped / (double)(dropped + events) : 0);
    cJSON_AddItemToArray(arr, o);
    rows_summary_done(&sum);
    return cJSON_GetArraySize(reasons) == 0;
}

/* The machine's GPUs as targets: unwell when NVML reports an error. */
static bool health_gpus(const struct store *st, cJSON *arr, cJSON *all)
{
    struct rows_gpus g;
    bool ok = true;

    rows_build_gpus(&g, st);
    for (size_t i = 0; i < g.n; i++) {
        const struct rows_gpu *d = &g.v[i];
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "kind", "gpu");
        cJSON_AddStringToObject(o, "name", d->name);
        cJSON_AddNumberToObject(o, "index", d->index);
        cJSON_AddBoolToObject(o, "healthy", g.error == NULL);
        cJSON_AddArrayToObject(o, "reasons");
        if (d->mem_valid && d->mem_total_bytes > 0) {
            cJSON_AddNumberToObject(o, "memory_used_pct",
                                    100.0 * (double)d->mem_used_bytes / (double)d->mem_total_bytes);
        } else {
            cJSON_AddNullToObject(o, "memory_used_pct");
        }
        cJSON_AddItemToArray(arr, o);
    }
    if (g.error != NULL) {
        cJSON *o = cJSON_CreateObject();

        cJSON_AddStringToObject(o, "kind", "gpu");
        cJSON_AddStringToObject(o, "name", "NVML");
        cJSON_AddBoolToObject(o, "healthy", false);
        health_reason(cJSON_AddArrayToObject(o, "reasons"), all, "gpu", "%s", g.error);
        cJSON_AddItemToArray(arr, o);
        ok = false;
    }
    rows_gpus_done(&g);
    return ok;
}

/* Whether a counter counts errors: its name says so. */
static bool health_error_counter(const char *name)
{
    return strstr(name, "error") != NULL || strstr(name, "fault") != NULL;
}

/* The targets named by the workloads' "target" attribute: unwell when a workload on it is, or
 * an error counter of one of them rose within the window. */
static bool health_targets(const struct store *st, uint64_t now_ns, const cJSON *workloads,
                           cJSON *arr, cJSON *all)
{
    bool all_ok = true;

    for (size_t i = 0; i < store_nprocs(st); i++) {
        const char *target = store_proc_attr(store_proc_at(st, i), "target");
        cJSON *o, *pids, *reasons;
        bool done = false, ok = true;
        char who[96];

        if (target == NULL) {
            continue;
        }
        for (size_t j = 0; j < i && !done; j++) {
            const char *t = store_proc_attr(store_proc_at(st, j), "target");

            done = t != NULL && strcmp(t, target) == 0;
        }
        if (done) {
            continue; /* listed with the first process on it */
        }
        snprintf(who, sizeof(who), "target %s", target);
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kind", "target");
        cJSON_AddStringToObject(o, "name", target);
        pids = cJSON_AddArrayToObject(o, "workloads");
        reasons = cJSON_AddArrayToObject(o, "reasons");
        for (size_t j = i; j < store_nprocs(st); j++) {
            const struct store_proc *p = store_proc_at(st, j);
            const char *t = store_proc_attr(p, "target");
            const cJSON *w = cJSON_GetArrayItem(workloads, (int)j);
            struct rows_summary sum;

            if (t == NULL || strcmp(t, target) != 0) {
                continue;
            }
            cJSON_AddItemToArray(pids, cJSON_CreateNumber(store_proc_pid(p)));
            if (w != NULL && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(w, "healthy"))) {
                health_reason(reasons, all, who, "workload pid %d is not healthy",
                              (int)store_proc_pid(p));
            }
            rows_build_summary(&sum, p, now_ns);
            for (size_t k = 0; k < sum.ncounters; k++) {
                const struct rows_counter *c = &sum.counters[k];

                if (health_error_counter(c->name) && c->rate_valid && c->per_sec > 0) {
                    health_reason(reasons, all, who, "%s rises (%.3g/s, pid %d)", c->name,
                                  c->per_sec, (int)store_proc_pid(p));
                }
            }
            rows_summary_done(&sum);
        }
        ok = cJSON_GetArraySize(reasons) == 0;
        cJSON_AddBoolToObject(o, "healthy", ok);
        cJSON_AddItemToArray(arr, o);
        all_ok = all_ok && ok;
    }
    return all_ok;
}

/* The firing alerts: a critical one makes nctop unhealthy (a reason each), a warning one only
 * degraded; every firing one is listed. Returns whether none is critical. */
static bool health_alerts(const struct alerts *a, cJSON *arr, cJSON *all, bool *degraded)
{
    bool ok = true;
    char text[512];

    for (size_t i = 0; i < alerts_count(a); i++) {
        const struct alert *al = alerts_at(a, i);
        cJSON *o;

        if (al->state != ALERT_FIRING) {
            continue;
        }
        alerts_describe(al, text, sizeof(text));
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", al->rule);
        cJSON_AddStringToObject(o, "severity", alerts_severity_name(al->severity));
        if (al->pid != 0) {
            cJSON_AddNumberToObject(o, "pid", al->pid);
        } else {
            cJSON_AddNullToObject(o, "pid");
        }
        cJSON_AddStringToObject(o, "object", al->object);
        cJSON_AddNumberToObject(o, "value", al->value);
        cJSON_AddNumberToObject(o, "threshold", al->threshold);
        cJSON_AddStringToObject(o, "text", text);
        cJSON_AddItemToArray(arr, o);
        if (al->severity == ALERT_CRITICAL) {
            char full[600];

            snprintf(full, sizeof(full), "alert %s", text);
            cJSON_AddItemToArray(all, cJSON_CreateString(full));
            ok = false;
        } else {
            *degraded = true;
        }
    }
    return ok;
}

char *health_render(struct health *h, const struct store *st, const struct alerts *alerts,
                    uint64_t now_ns, size_t *len, int *status)
{
    cJSON *root = cJSON_CreateObject(), *all, *workloads, *targets, *firing;
    bool degraded = false;
    uint64_t window_ns = store_config(st)->window_ns;
    bool ok = true;
    char *text;
    size_t kept = 0;

    if (window_ns == 0) {
        window_ns = 10 * UTIL_NS_PER_SEC;
    }
    for (size_t i = 0; i < h->n; i++) {
        h->v[i].seen = false;
    }
    all = cJSON_CreateArray();
    workloads = cJSON_CreateArray();
    targets = cJSON_CreateArray();
    for (size_t i = 0; i < store_nprocs(st); i++) {
        ok = health_proc(h, store_proc_at(st, i), now_ns, window_ns, workloads, all) && ok;
    }
    ok = health_gpus(st, targets, all) && ok;
    ok = health_targets(st, now_ns, workloads, targets, all) && ok;
    firing = cJSON_CreateArray();
    ok = health_alerts(alerts, firing, all, &degraded) && ok;
    /* Processes gone from the store take their figures with them. */
    for (size_t i = 0; i < h->n; i++) {
        if (h->v[i].seen) {
            h->v[kept++] = h->v[i];
        }
    }
    h->n = kept;

    cJSON_AddBoolToObject(root, "healthy", ok);
    cJSON_AddStringToObject(root, "status", !ok ? "unhealthy" : degraded ? "degraded" : "ok");
    cJSON_AddItemToObject(root, "reasons", all);
    cJSON_AddNumberToObject(root, "window_s", (double)window_ns / 1e9);
    cJSON_AddItemToObject(root, "workloads", workloads);
    cJSON_AddItemToObject(root, "targets", targets);
    cJSON_AddItemToObject(root, "alerts", firing);
    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (text == NULL) {
        text = xstrdup("{\"healthy\":false,\"status\":\"unhealthy\",\"reasons\":[\"out of "
                       "memory\"]}");
        ok = false;
    } else {
        /* Owned by the caller, who frees with free(): copy out of cJSON's allocator. */
        char *copy = xasprintf("%s\n", text);

        cJSON_free(text);
        text = copy;
    }
    *len = strlen(text);
    *status = ok ? 200 : 503;
    return text;
}
