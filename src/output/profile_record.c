/* SPDX-License-Identifier: MIT */
/* ProfileRecord lines, built from rows (never from the store directly) so that they agree
 * with the screen and the JSONL log. */
#include "src/output/profile_record.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/fileio.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/model/rows.h"
#include "src/model/store.h"

/* Per process, its compilations already written (its count since start). */
struct profile_record_seen {
    int32_t pid;
    uint64_t written;
};

struct profile_record {
    char *path;
    FILE *f;
    struct rows rows;
    struct profile_record_seen *seen; /* rebuilt over the store's processes at each write */
    size_t nseen;
    uint64_t lines;
    char warning[320];
};

struct profile_record *profile_record_new(const char *path, char **err)
{
    char why[96];
    FILE *f = fileio_fopen(path, FILEIO_APPEND, 0644, why, sizeof(why));
    struct profile_record *pr;

    if (f == NULL) {
        *err = xasprintf("NC_PROFILE_JSONL=%s: %s", path, why);
        return NULL;
    }
    pr = xcalloc(1, sizeof(*pr));
    pr->path = xstrdup(path);
    pr->f = f;
    rows_init(&pr->rows);
    return pr;
}

void profile_record_free(struct profile_record *pr)
{
    if (pr == NULL) {
        return;
    }
    if (pr->f != NULL) {
        fclose(pr->f);
    }
    rows_done(&pr->rows);
    free(pr->seen);
    free(pr->path);
    free(pr);
}

bool profile_record_active(const struct profile_record *pr)
{
    return pr->f != NULL;
}

const char *profile_record_warning(const struct profile_record *pr)
{
    return pr->warning[0] != '\0' ? pr->warning : NULL;
}

uint64_t profile_record_lines(const struct profile_record *pr)
{
    return pr->lines;
}

/* One line; labels is consumed. */
static int profile_record_put(struct profile_record *pr, uint64_t ts_ms, const char *metric,
                              double value, cJSON *labels)
{
    cJSON *o = cJSON_CreateObject();
    char *text;
    int rc = 0;

    cJSON_AddNumberToObject(o, "ts_ms", (double)ts_ms);
    cJSON_AddStringToObject(o, "metric", metric);
    cJSON_AddNumberToObject(o, "value", value);
    cJSON_AddItemToObject(o, "labels", labels);
    text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text == NULL) {
        return -ENOMEM;
    }
    errno = 0;
    if (fputs(text, pr->f) == EOF || fputc('\n', pr->f) == EOF || fflush(pr->f) == EOF) {
        rc = errno != 0 ? -errno : -EIO;
        snprintf(pr->warning, sizeof(pr->warning), "ProfileRecord file %s: %s; it is stopped",
                 pr->path, strerror(-rc));
        fclose(pr->f);
        pr->f = NULL;
    } else {
        pr->lines++;
    }
    cJSON_free(text);
    return rc;
}

static cJSON *profile_record_labels(const struct rows_summary *s, const char *target,
                                    const char *path)
{
    cJSON *l = cJSON_CreateObject();
    char pid[16];

    snprintf(pid, sizeof(pid), "%d", (int)s->pid);
    cJSON_AddStringToObject(l, "pid", pid);
    cJSON_AddStringToObject(l, "label", s->label != NULL ? s->label : "");
    cJSON_AddStringToObject(l, "target", target);
    if (s->neuro.chip != NULL) {
        cJSON_AddStringToObject(l, "chip", s->neuro.chip);
    }
    if (path != NULL) {
        cJSON_AddStringToObject(l, "path", path);
    }
    return l;
}

/* A line compile_ms per compilation of p that ended since the last write (at the first, every
 * one kept), oldest first, at the real time it ended: its wall time, labelled by its target
 * (else the process's) and model (else the span's name) and result. *written: the count of
 * compilations written before, updated. */
static int profile_record_compilations(struct profile_record *pr, const struct store_proc *p,
                                       const struct rows_summary *s, const char *target,
                                       uint64_t now_ns, uint64_t real_ns, uint64_t *written)
{
    static const char *const result[3] = {"none", "ok", "error"};
    struct rows_instances in;
    size_t fresh;
    int rc = 0;

    rows_build_instances(&in, p);
    fresh = in.total > *written ? (size_t)(in.total - *written) : 0;
    fresh = fresh < in.n ? fresh : in.n;
    *written = in.total;
    for (size_t k = fresh; k-- > 0 && rc == 0;) {
        const struct rows_instance *r = &in.v[k];
        const char *t = target, *model = r->name;
        uint64_t end_ns = r->begin_ns + r->dur_ns, ago = now_ns > end_ns ? now_ns - end_ns : 0;
        cJSON *l;

        for (size_t a = 0; a < r->nattrs && a < ROWS_INST_ATTRS; a++) {
            if (strcmp(r->attrs[a].key, "target") == 0) {
                t = r->attrs[a].value;
            } else if (strcmp(r->attrs[a].key, "model") == 0) {
                model = r->attrs[a].value;
            }
        }
        l = profile_record_labels(s, t, NULL);
        cJSON_AddStringToObject(l, "model", model);
        cJSON_AddStringToObject(l, "result", result[r->status]);
        rc = profile_record_put(pr, (real_ns > ago ? real_ns - ago : 0) / UTIL_NS_PER_MS,
                                "compile_ms", rows_ms(r->dur_ns), l);
    }
    rows_instances_done(&in);
    return rc;
}

static int profile_record_proc(struct profile_record *pr, const struct store_proc *p,
                               uint64_t now_ns, uint64_t real_ns, uint64_t *written)
{
    uint64_t ts_ms = real_ns / UTIL_NS_PER_MS;
    struct rows_summary s;
    const char *target = "cpu";
    int rc = 0;

    rows_build_summary(&s, p, now_ns);
    /* The target is the one the workload declares, else the backend its kernels ran on, else
     * the host CPU. */
    rows_clear(&pr->rows);
    rows_build_kernels(&pr->rows, p, now_ns);
    char *backend =
        pr->rows.n > 0 && pr->rows.v[0].backend != NULL ? xstrdup(pr->rows.v[0].backend) : NULL;
    if (s.neuro.target != NULL) {
        target = s.neuro.target;
    } else if (backend != NULL) {
        target = backend;
    }
    rows_clear(&pr->rows);
    rows_build_latency(&pr->rows, p, now_ns);
    for (size_t i = 0; i < pr->rows.n && rc == 0; i++) {
        const struct row *r = &pr->rows.v[i];

        if (r->level != 0 || !rows_stat_known(&r->win, (r->flags & ROW_F_WIN) != 0, ROW_S_MEAN)) {
            continue;
        }
        rc = profile_record_put(pr, ts_ms, "latency_ms", rows_ms(r->win.mean_ns),
                                profile_record_labels(&s, target, r->path));
    }
    for (size_t i = 0; i < s.ncounters && rc == 0; i++) {
        const struct rows_counter *c = &s.counters[i];

        if (!c->rate_valid) {
            continue;
        }
        /* a spiking workload that makes no tokens has no tokens/s, not 0 */
        if (strcmp(c->name, "tokens") == 0 && !(s.neuro.spiking && c->value == 0)) {
            rc = profile_record_put(pr, ts_ms, "tokens_per_sec", c->per_sec,
                                    profile_record_labels(&s, target, NULL));
        }
    }
    /* Spikes of the whole network (its total counter, else the sum of its layers or cores). */
    if (rc == 0 && (s.neuro.net.rated & 1U << ROW_NF_SPIKES) != 0) {
        rc = profile_record_put(pr, ts_ms, "spikes_per_sec", s.neuro.net.per_sec[ROW_NF_SPIKES],
                                profile_record_labels(&s, target, NULL));
    }
    if (rc == 0 && (s.neuro.net.have & ROW_N_ENERGY) != 0) {
        cJSON *l = profile_record_labels(&s, target, NULL);

        cJSON_AddStringToObject(
            l, "source", (s.neuro.net.have & ROW_N_MEASURED) != 0 ? "measured" : "estimated");
        rc = profile_record_put(pr, ts_ms, "energy_mj", s.neuro.net.energy_j * 1e3, l);
    }
    rows_clear(&pr->rows);
    rows_build_memory(&pr->rows, p, now_ns);
    for (size_t i = 0; i < pr->rows.n && rc == 0; i++) {
        const struct row *r = &pr->rows.v[i];

        /* The KV cache section (the buffer whose occupancy bounds a decoder's context), and
         * every other gauge with a capacity (pools, a spiking network's spike queues). */
        if ((r->flags & ROW_F_CAPACITY) == 0 || r->capacity_bytes == 0) {
            continue;
        }
        if ((r->level == 0 && strcmp(r->label, "KV Cache") == 0) ||
            (r->level == 1 && (strncmp(r->path, "Memory Pools/", 13) == 0 ||
                               strncmp(r->path, "Other Memory/", 13) == 0))) {
            rc = profile_record_put(pr, ts_ms, "buffer_occupancy_pct",
                                    (double)r->bytes * 100.0 / (double)r->capacity_bytes,
                                    profile_record_labels(&s, target, r->path));
        }
    }
    if (rc == 0) {
        rc = profile_record_compilations(pr, p, &s, target, now_ns, real_ns, written);
    }
    free(backend);
    rows_summary_done(&s);
    return rc;
}

int profile_record_write(struct profile_record *pr, const struct store *st, uint64_t now_ns,
                         uint64_t real_ns)
{
    size_t n = store_nprocs(st);
    struct profile_record_seen *seen = n > 0 ? xcalloc(n, sizeof(*seen)) : NULL;
    int rc = 0;

    for (size_t i = 0; i < n; i++) {
        seen[i].pid = store_proc_pid(store_proc_at(st, i));
        for (size_t k = 0; k < pr->nseen; k++) {
            if (pr->seen[k].pid == seen[i].pid) {
                seen[i].written = pr->seen[k].written;
            }
        }
    }
    for (size_t i = 0; i < n && pr->f != NULL && rc == 0; i++) {
        rc = profile_record_proc(pr, store_proc_at(st, i), now_ns, real_ns, &seen[i].written);
    }
    free(pr->seen);
    pr->seen = seen;
    pr->nseen = n;
    return rc;
}
