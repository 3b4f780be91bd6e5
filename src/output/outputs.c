/* SPDX-License-Identifier: MIT */
#include "src/output/outputs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "src/base/fileio.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"
#include "src/config.h"
#include "src/format/record.h"
#include "src/output/logger.h"
#include "src/output/profile_record.h"
#include "src/output/report.h"
#include "src/output/snapshot.h"

struct outputs {
    const struct config *cfg;
    FILE *out;                 /* --once prints here (borrowed) */
    struct record_writer *rec; /* nctop record (borrowed), or NULL */
    struct logger *logger;     /* exists from the start, so that 'l' can start it */
    struct profile_record *profile;
    struct snapshot_baseline base; /* --baseline (borrowed), or a NULL store */
    const struct otlp_stats *otlp; /* borrowed, or NULL */
    const struct alerts *alerts;   /* borrowed (outputs_set_alerts), or NULL */
};

struct outputs *outputs_new(const struct config *cfg, FILE *out, struct record_writer *rec)
{
    struct outputs *o = xcalloc(1, sizeof(*o));

    o->cfg = cfg;
    o->out = out;
    o->rec = rec;
    o->logger = logger_new(cfg->log_dir);
    logger_set_limits(o->logger, cfg->log_max_bytes, cfg->log_keep);
    return o;
}

void outputs_set_baseline(struct outputs *o, const struct store *baseline)
{
    o->base.store = baseline;
    o->base.file = o->cfg->baseline;
}

void outputs_free(struct outputs *o)
{
    if (o == NULL) {
        return;
    }
    logger_free(o->logger);
    profile_record_free(o->profile);
    free(o);
}

void outputs_set_alerts(struct outputs *o, const struct alerts *a)
{
    o->alerts = a;
    logger_set_alerts(o->logger, a);
}

bool outputs_start(struct outputs *o, uint64_t real_ns, outputs_warn_fn warn, void *ctx)
{
    bool ok = true;
    char *err = NULL;

    if (o->cfg->log_enabled && logger_start(o->logger, real_ns) != 0) {
        warn(ctx, logger_warning(o->logger));
        ok = logger_active(o->logger);
    }
    if (o->cfg->profile_path != NULL) {
        o->profile = profile_record_new(o->cfg->profile_path, &err);
        if (o->profile == NULL) {
            warn(ctx, err);
            free(err);
        }
    }
    return ok;
}

uint64_t outputs_interval_ms(const struct outputs *o)
{
    uint64_t ms = o->cfg->log_interval_ns / UTIL_NS_PER_MS;

    return ms > 0 ? ms : 1;
}

void outputs_interval(struct outputs *o, const struct store *st, uint64_t now_ns, uint64_t real_ns,
                      outputs_warn_fn warn, void *ctx)
{
    if (logger_active(o->logger) && logger_write(o->logger, st, now_ns, real_ns) != 0) {
        warn(ctx, logger_warning(o->logger));
    }
    if (o->profile != NULL && profile_record_active(o->profile) &&
        profile_record_write(o->profile, st, now_ns, real_ns) != 0) {
        warn(ctx, profile_record_warning(o->profile));
    }
}

const char *outputs_log_name(const struct outputs *o)
{
    return o != NULL && logger_active(o->logger) ? logger_latency_path(o->logger) : NULL;
}

bool outputs_toggle_log(struct outputs *o, uint64_t real_ns, char *msg, size_t len)
{
    if (logger_active(o->logger)) {
        logger_stop(o->logger);
        snprintf(msg, len, "logging stopped: %s, %s", logger_latency_path(o->logger),
                 logger_memory_path(o->logger));
        return false;
    }
    if (logger_start(o->logger, real_ns) != 0) {
        snprintf(msg, len, "%s", logger_warning(o->logger));
        return true;
    }
    snprintf(msg, len, "logging to %s and %s", logger_latency_path(o->logger),
             logger_memory_path(o->logger));
    return false;
}

bool outputs_snapshot_file(struct outputs *o, const struct store *st, uint64_t now_ns,
                           uint64_t real_ns, char *msg, size_t len)
{
    char stamp[40], name[80], why[96];
    FILE *f;
    int rc;

    util_format_utc_ms(real_ns, stamp, sizeof(stamp));
    /* 2026-11-22T10:15:30.123Z -> 20261122T101530.123Z: no ':' in file names. */
    for (size_t i = 0, k = 0; k < sizeof(stamp); i++) {
        if (stamp[i] != '-' && stamp[i] != ':') {
            stamp[k++] = stamp[i];
        }
        if (stamp[i] == '\0') {
            break;
        }
    }
    snprintf(name, sizeof(name), "nctop-snapshot-%s.json", stamp);
    f = fileio_fopen(name, FILEIO_NEW, 0644, why, sizeof(why));
    if (f == NULL) {
        snprintf(msg, len, "snapshot %s: %s", name, why);
        return true;
    }
    rc = snapshot_write_full(f, st, &o->base, o->alerts, now_ns, real_ns, o->otlp);
    if (fclose(f) != 0 && rc == 0) {
        rc = -errno;
    }
    if (rc != 0) {
        snprintf(msg, len, "snapshot %s: %s", name, strerror(-rc));
        return true;
    }
    snprintf(msg, len, "snapshot written to %s", name);
    return false;
}

int outputs_print(struct outputs *o, const struct store *st, uint64_t now_ns, uint64_t real_ns)
{
    const struct config *cfg = o->cfg;
    struct report_view v = {0};

    if (cfg->output == CONFIG_OUT_NONE) {
        return 0;
    }
    if (cfg->output == CONFIG_OUT_JSON) {
        return snapshot_write_full(o->out, st, &o->base, o->alerts, now_ns, real_ns, o->otlp);
    }
    /* The tables as the display would show them: its sort and its columns. */
    v.sort_col = cfg->sort_col;
    v.sort_reverse = cfg->sort_ascending;
    v.columns = cfg->columns;
    memcpy(v.view_columns, cfg->view_columns, sizeof(v.view_columns));
    v.baseline = o->base.store;
    return report_write_view(o->out, st, now_ns, real_ns, &v);
}

void outputs_set_otlp(struct outputs *o, const struct otlp_stats *stats)
{
    o->otlp = stats;
}

void outputs_record_tick(struct outputs *o, uint64_t now_ns)
{
    if (o->rec != NULL) {
        record_writer_tick(o->rec, now_ns);
    }
}

int outputs_record_flush(struct outputs *o)
{
    return o->rec != NULL ? record_writer_flush(o->rec) : 0;
}

bool outputs_recording(const struct outputs *o)
{
    return o->rec != NULL;
}
