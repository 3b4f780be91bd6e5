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

struct profile_record {
    char *path;
    FILE *f;
    struct rows rows;
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

static int profile_record_proc(struct profile_record *pr, const struct store_proc *p,
                               uint64_t now_ns, uint64_t ts_ms)
{
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
    free(backend);
    rows_summary_done(&s);
    return rc;
}

int profile_record_write(struct profile_record *pr, const struct store *st, uint64_t now_ns,
                         uint64_t real_ns)
{
    uint64_t ts_ms = real_ns / UTIL_NS_PER_MS;
    int rc = 0;

    for (size_t i = 0; i < store_nprocs(st) && pr->f != NULL && rc == 0; i++) {
        rc = profile_record_proc(pr, store_proc_at(st, i), now_ns, ts_ms);
    }
    return rc;
}
