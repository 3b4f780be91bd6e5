/* SPDX-License-Identifier: MIT */
/* The JSONL logger: rows from the row builder, rendered by the snapshot's row converters, so
 * the log holds exactly what the screen shows. Each line is flushed; errors stop one file. */
#include "src/output/logger.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "src/base/diag.h"
#include "src/base/fileio.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/model/alerts.h"
#include "src/model/rows.h"
#include "src/model/store.h"
#include "src/output/snapshot.h"

#define LOGGER_DEFAULT_INTERVAL_NS (5ULL * UTIL_NS_PER_SEC)
#define LOGGER_KEEP_MAX 1000 /* pairs remembered for deletion */

enum logger_kind {
    LOGGER_LATENCY = 0,
    LOGGER_MEMORY = 1,
};

struct logger_file {
    FILE *f; /* NULL when stopped or failed */
    char *path;
    uint64_t bytes; /* size of the file, as far as we wrote it */
};

struct logger_seen {
    int32_t pid;
    uint64_t logged; /* compilations of pid logged: the first logged-1 are */
};

struct logger {
    char *dir;
    struct logger_file file[2];
    uint64_t max_bytes; /* a file this large starts a new pair; 0: no cap */
    unsigned keep;      /* pairs kept on disk (older ones of this run are deleted); 0: all */
    char **made;        /* paths of the files this logger created, oldest first */
    size_t nmade;
    char last_stamp[32]; /* the stamp of the current pair, to name a rotation in one second */
    unsigned seq;        /* rotations within last_stamp's second */
    struct rows rows;
    /* Per process, the compilations already logged (its count since start at the last
     * line): each compilation goes to the latency log once. Rebuilt over the store's
     * processes at every line, so it never outgrows them. */
    struct logger_seen *seen;
    size_t nseen;
    const struct alerts *alerts; /* borrowed (logger_set_alerts), or NULL */
    uint64_t lines;
    char warning[320];
};

static const char *const logger_kind_name[2] = {"latency", "memory"};

struct logger *logger_new(const char *dir)
{
    struct logger *lg = xcalloc(1, sizeof(*lg));

    lg->dir = dir != NULL ? xstrdup(dir) : NULL;
    rows_init(&lg->rows);
    return lg;
}

void logger_free(struct logger *lg)
{
    if (lg == NULL) {
        return;
    }
    logger_stop(lg);
    for (int k = 0; k < 2; k++) {
        free(lg->file[k].path);
    }
    for (size_t i = 0; i < lg->nmade; i++) {
        free(lg->made[i]);
    }
    free(lg->made);
    free(lg->seen);
    rows_done(&lg->rows);
    free(lg->dir);
    free(lg);
}

static void logger_fail(struct logger *lg, enum logger_kind k, const char *why)
{
    size_t used = strlen(lg->warning);

    /* Both files may fail at once: the warning names each. */
    snprintf(lg->warning + used, sizeof(lg->warning) - used, "%s%s log %s: %s; that log is stopped",
             used > 0 ? "; " : "", logger_kind_name[k], lg->file[k].path, why);
    if (lg->file[k].f != NULL) {
        /* The close may fail again on the same error: it is already reported. */
        fclose(lg->file[k].f);
        lg->file[k].f = NULL;
    }
}

/* One line: {"timestamp":"...","rows":[...]}; rows NULL writes empty rows; neuro and comps
 * (owned) are added when not NULL. */
static int logger_put(struct logger *lg, enum logger_kind k, const char *stamp, cJSON *rows,
                      cJSON *neuro, cJSON *comps, cJSON *alerts)
{
    cJSON *root = cJSON_CreateObject();
    char *text;
    FILE *f = lg->file[k].f;
    int rc = 0;

    if (f == NULL) {
        cJSON_Delete(rows);
        cJSON_Delete(neuro);
        cJSON_Delete(comps);
        cJSON_Delete(alerts);
        cJSON_Delete(root);
        return 0;
    }
    cJSON_AddStringToObject(root, "timestamp", stamp);
    cJSON_AddItemToObject(root, "rows", rows != NULL ? rows : cJSON_CreateArray());
    if (neuro != NULL) {
        cJSON_AddItemToObject(root, "neuro", neuro);
    }
    if (comps != NULL) {
        cJSON_AddItemToObject(root, "compilations", comps);
    }
    if (alerts != NULL) {
        cJSON_AddItemToObject(root, "alerts", alerts);
    }
    text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (text == NULL) {
        return -ENOMEM;
    }
    errno = 0;
    if (fputs(text, f) == EOF || fputc('\n', f) == EOF || fflush(f) == EOF) {
        rc = errno != 0 ? -errno : -EIO;
        logger_fail(lg, k, strerror(-rc));
    } else {
        lg->lines++;
        lg->file[k].bytes += strlen(text) + 1U;
    }
    cJSON_free(text);
    return rc;
}

/* A file this logger created, in order, for logger_prune. */
static void logger_remember(struct logger *lg, const char *path)
{
    for (size_t i = 0; i < lg->nmade; i++) {
        if (strcmp(lg->made[i], path) == 0) {
            return; /* started again in the same second: the same file */
        }
    }
    if (lg->nmade == 2U * LOGGER_KEEP_MAX) {
        free(lg->made[0]);
        memmove(lg->made, lg->made + 1, (lg->nmade - 1U) * sizeof(*lg->made));
        lg->nmade--;
    }
    lg->made = xreallocarray(lg->made, lg->nmade + 1U, sizeof(*lg->made));
    lg->made[lg->nmade++] = xstrdup(path);
}

/* Keep the newest `keep` pairs on disk: delete older files, but only files this logger made
 * in this run (a name someone else put in the directory is never touched). */
static void logger_prune(struct logger *lg)
{
    size_t keep_files = 2U * lg->keep;

    if (lg->keep == 0 || lg->nmade <= keep_files) {
        return;
    }
    for (size_t i = 0; i < lg->nmade - keep_files; i++) {
        if (unlink(lg->made[i]) != 0 && errno != ENOENT) {
            diag_warn("old log %s: %s", lg->made[i], strerror(errno));
        }
        free(lg->made[i]);
    }
    memmove(lg->made, lg->made + (lg->nmade - keep_files), keep_files * sizeof(*lg->made));
    lg->nmade = keep_files;
}

/* Open a pair named after real_ns. A rotation within the second of the current pair gets the
 * next ".N" name; a plain start in the same second appends to the same files. */
static int logger_open(struct logger *lg, uint64_t real_ns, bool rotation)
{
    time_t secs = (time_t)(real_ns / UTIL_NS_PER_SEC);
    char stamp[32], ts[40];
    struct tm tm;
    char why[96];
    int rc = 0;

    if (logger_active(lg)) {
        return 0;
    }
    if (!rotation) {
        lg->nseen = 0; /* a new start logs every kept compilation again */
    }
    gmtime_r(&secs, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
    util_format_utc_ms(real_ns, ts, sizeof(ts));
    lg->warning[0] = '\0';
    if (strcmp(stamp, lg->last_stamp) == 0) {
        lg->seq += rotation ? 1U : 0U;
        if (lg->seq > 0) {
            snprintf(stamp + strlen(stamp), sizeof(stamp) - strlen(stamp), ".%u", lg->seq);
        }
    } else {
        snprintf(lg->last_stamp, sizeof(lg->last_stamp), "%s", stamp);
        lg->seq = 0;
    }
    rc = lg->dir != NULL ? fileio_mkdirs(lg->dir, 0755, why, sizeof(why)) : 0;
    if (rc != 0) {
        snprintf(lg->warning, sizeof(lg->warning),
                 "log directory %s: %s; neither the latency nor the memory log is written", lg->dir,
                 why);
        return rc;
    }
    for (int k = 0; k < 2; k++) {
        free(lg->file[k].path);
        lg->file[k].bytes = 0;
        if (lg->dir != NULL) {
            lg->file[k].path = xasprintf("%s/%s-%s.jsonl", lg->dir, stamp, logger_kind_name[k]);
        } else {
            lg->file[k].path = xasprintf("%s-%s.jsonl", stamp, logger_kind_name[k]);
        }
        /* Never through a link planted at the name (the names are predictable). */
        lg->file[k].f = fileio_fopen(lg->file[k].path, FILEIO_APPEND, 0644, why, sizeof(why));
        if (lg->file[k].f == NULL) {
            rc = rc != 0 ? rc : -errno;
            logger_fail(lg, (enum logger_kind)k, why);
            continue;
        }
        logger_remember(lg, lg->file[k].path);
        if (logger_put(lg, (enum logger_kind)k, ts, NULL, NULL, NULL, NULL) != 0 && rc == 0) {
            rc = -EIO;
        }
    }
    logger_prune(lg);
    return rc;
}

void logger_set_alerts(struct logger *lg, const struct alerts *a)
{
    lg->alerts = a;
}

int logger_start(struct logger *lg, uint64_t real_ns)
{
    return logger_open(lg, real_ns, false);
}

void logger_set_limits(struct logger *lg, uint64_t max_bytes, unsigned keep)
{
    lg->max_bytes = max_bytes;
    lg->keep = keep;
}

void logger_stop(struct logger *lg)
{
    for (int k = 0; k < 2; k++) {
        if (lg->file[k].f != NULL) {
            if (fclose(lg->file[k].f) != 0) {
                snprintf(lg->warning, sizeof(lg->warning), "%s log %s: %s", logger_kind_name[k],
                         lg->file[k].path, strerror(errno));
            }
            lg->file[k].f = NULL;
        }
    }
}

bool logger_active(const struct logger *lg)
{
    return lg->file[0].f != NULL || lg->file[1].f != NULL;
}

const char *logger_latency_path(const struct logger *lg)
{
    return lg->file[LOGGER_LATENCY].path;
}

const char *logger_memory_path(const struct logger *lg)
{
    return lg->file[LOGGER_MEMORY].path;
}

const char *logger_warning(const struct logger *lg)
{
    return lg->warning[0] != '\0' ? lg->warning : NULL;
}

uint64_t logger_lines(const struct logger *lg)
{
    return lg->lines;
}

/* Every row of one kind for every process, each tagged with its workload (pid, process):
 * with several workloads, one pair of files holds them all and the rows tell them apart. */
static cJSON *logger_rows(struct logger *lg, const struct store *st, enum logger_kind k,
                          uint64_t now_ns)
{
    cJSON *arr = cJSON_CreateArray();

    for (size_t i = 0; i < store_nprocs(st); i++) {
        const struct store_proc *p = store_proc_at(st, i);
        struct rows_summary sum;

        rows_build_summary(&sum, p, now_ns);
        rows_clear(&lg->rows);
        if (k == LOGGER_LATENCY) {
            rows_build_latency(&lg->rows, p, now_ns);
        } else {
            rows_build_memory(&lg->rows, p, now_ns);
        }
        for (size_t r = 0; r < lg->rows.n; r++) {
            cJSON *o = k == LOGGER_LATENCY ? snapshot_latency_row(&lg->rows.v[r])
                                           : snapshot_memory_row(&lg->rows.v[r]);

            cJSON_AddNumberToObject(o, "pid", sum.pid);
            cJSON_AddStringToObject(o, "process", sum.label != NULL ? sum.label : "");
            cJSON_AddItemToArray(arr, o);
        }
        rows_summary_done(&sum);
    }
    return arr;
}

/* The network, layer and core rows of every spiking workload, tagged like the rows; NULL
 * when there are none (the lines of other workloads stay as they were). */
static cJSON *logger_neuro(struct logger *lg, const struct store *st, uint64_t now_ns)
{
    cJSON *arr = NULL;

    for (size_t i = 0; i < store_nprocs(st); i++) {
        const struct store_proc *p = store_proc_at(st, i);
        struct rows_summary sum;

        rows_clear(&lg->rows);
        rows_build_neuro(&lg->rows, p, now_ns);
        if (lg->rows.n == 0) {
            continue;
        }
        rows_build_summary(&sum, p, now_ns);
        for (size_t r = 0; r < lg->rows.n; r++) {
            cJSON *o = snapshot_neuro_row(&lg->rows, &lg->rows.v[r]);

            cJSON_AddNumberToObject(o, "pid", sum.pid);
            cJSON_AddStringToObject(o, "process", sum.label != NULL ? sum.label : "");
            if (arr == NULL) {
                arr = cJSON_CreateArray();
            }
            cJSON_AddItemToArray(arr, o);
        }
        rows_summary_done(&sum);
    }
    return arr;
}

/* The compilations of every process that ended since the last latency line (at the first,
 * every one kept), oldest first, tagged like the rows; NULL when there are none. */
static cJSON *logger_compilations(struct logger *lg, const struct store *st, uint64_t now_ns)
{
    size_t n = store_nprocs(st);
    struct logger_seen *seen = n > 0 ? xcalloc(n, sizeof(*seen)) : NULL;
    cJSON *arr = NULL;

    for (size_t i = 0; i < n; i++) {
        const struct store_proc *p = store_proc_at(st, i);
        struct rows_instances in;
        struct rows_summary sum;
        uint64_t logged = 0;
        size_t fresh;

        seen[i].pid = store_proc_pid(p);
        for (size_t k = 0; k < lg->nseen; k++) {
            if (lg->seen[k].pid == seen[i].pid) {
                logged = lg->seen[k].logged;
            }
        }
        rows_build_instances(&in, p);
        seen[i].logged = in.total;
        if (in.n > 0 && in.total > logged) {
            rows_build_summary(&sum, p, now_ns);
        }
        /* newest first: the first total - logged are new (at most the kept ones) */
        fresh = in.total > logged ? (size_t)(in.total - logged) : 0;
        fresh = fresh < in.n ? fresh : in.n;
        for (size_t k = fresh; k-- > 0;) {
            cJSON *o = snapshot_compilation(&in.v[k], in.total - (uint64_t)k);

            cJSON_AddNumberToObject(o, "pid", seen[i].pid);
            cJSON_AddStringToObject(o, "process", sum.label != NULL ? sum.label : "");
            if (arr == NULL) {
                arr = cJSON_CreateArray();
            }
            cJSON_AddItemToArray(arr, o);
        }
        if (in.n > 0 && in.total > logged) {
            rows_summary_done(&sum);
        }
        rows_instances_done(&in);
    }
    free(lg->seen);
    lg->seen = seen;
    lg->nseen = n;
    return arr;
}

int logger_write(struct logger *lg, const struct store *st, uint64_t now_ns, uint64_t real_ns)
{
    char ts[40];
    int rc = 0;

    util_format_utc_ms(real_ns, ts, sizeof(ts));
    for (int k = 0; k < 2; k++) {
        int r;

        if (lg->file[k].f == NULL) {
            continue;
        }
        r = logger_put(lg, (enum logger_kind)k, ts,
                       logger_rows(lg, st, (enum logger_kind)k, now_ns),
                       k == LOGGER_LATENCY ? logger_neuro(lg, st, now_ns) : NULL,
                       k == LOGGER_LATENCY ? logger_compilations(lg, st, now_ns) : NULL,
                       k == LOGGER_LATENCY && alerts_count(lg->alerts) > 0
                           ? snapshot_alerts(lg->alerts, now_ns, real_ns)
                           : NULL);
        if (r != 0 && rc == 0) {
            rc = r;
        }
    }
    /* The size cap: a file that reached it ends its pair and a new pair begins. */
    if (lg->max_bytes > 0 && ((lg->file[0].f != NULL && lg->file[0].bytes >= lg->max_bytes) ||
                              (lg->file[1].f != NULL && lg->file[1].bytes >= lg->max_bytes))) {
        logger_stop(lg);
        if (logger_open(lg, real_ns, true) != 0 && rc == 0) {
            rc = -EIO;
        }
    }
    return rc;
}

bool logger_env(uint64_t *interval_ns, char *warn, size_t len)
{
    const char *en = getenv("METRICS_LOG_ENABLED");
    const char *iv = getenv("METRICS_LOG_INTERVAL_SECS");
    static const char *const yes[] = {"1", "true", "yes", "on"};
    bool enabled = false;
    uint64_t secs;

    warn[0] = '\0';
    *interval_ns = LOGGER_DEFAULT_INTERVAL_NS;
    for (size_t i = 0; en != NULL && i < sizeof(yes) / sizeof(yes[0]); i++) {
        enabled = enabled || strcasecmp(en, yes[i]) == 0;
    }
    if (iv != NULL) {
        if (util_parse_u64(iv, 1, 86400ULL * 365, &secs) == 0) {
            *interval_ns = secs * UTIL_NS_PER_SEC;
        } else {
            snprintf(warn, len,
                     "METRICS_LOG_INTERVAL_SECS='%.32s' is not a whole number of seconds > 0: "
                     "using 5",
                     iv);
        }
    }
    return enabled;
}
