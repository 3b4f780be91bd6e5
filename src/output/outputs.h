/* SPDX-License-Identifier: MIT */
/* What nctop writes while it runs, apart from the display: the JSONL logs and the
 * ProfileRecord file (one interval), the snapshot file of the 'e' key, the --once print and
 * the recording of nctop record. The loop decides when; this module does the writing and
 * says in words what went wrong (the loop shows it on the status line or on stderr). */
#ifndef NCTOP_SRC_OUTPUTS_H
#define NCTOP_SRC_OUTPUTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct alerts;
struct config;
struct otlp_stats;
struct record_writer;
struct store;

struct outputs;

/* A problem, in words (borrowed for the call). */
typedef void (*outputs_warn_fn)(void *ctx, const char *msg);

/* The outputs of cfg: out is where --once prints (borrowed), rec the recording (borrowed, may
 * be NULL). Nothing is opened yet. */
struct outputs *outputs_new(const struct config *cfg, FILE *out, struct record_writer *rec);
void outputs_free(struct outputs *o);

/* --baseline: the earlier run's store (borrowed until outputs_free) that the snapshots and
 * the --once text compare their latency rows with; NULL: none. */
void outputs_set_baseline(struct outputs *o, const struct store *baseline);

/* The alerts the snapshots and the latency log carry (borrowed until outputs_free; NULL:
 * none). */
void outputs_set_alerts(struct outputs *o, const struct alerts *a);

/* Open what the settings ask for from the start (the logs with METRICS_LOG_ENABLED or --log,
 * the ProfileRecord file); each problem goes to warn. Returns false when logs were asked for
 * and none could be opened. */
bool outputs_start(struct outputs *o, uint64_t real_ns, outputs_warn_fn warn, void *ctx);

/* The interval of the logs, in ms (at least 1). */
uint64_t outputs_interval_ms(const struct outputs *o);

/* One interval: a line in each log and the ProfileRecord file, from the rows at now. */
void outputs_interval(struct outputs *o, const struct store *st, uint64_t now_ns, uint64_t real_ns,
                      outputs_warn_fn warn, void *ctx);

/* The latency log's name while logging, else NULL (the header shows it). */
const char *outputs_log_name(const struct outputs *o);

/* 'l': start or stop the logs. msg gets what happened; returns whether it is an error. */
bool outputs_toggle_log(struct outputs *o, uint64_t real_ns, char *msg, size_t len);

/* 'e': the snapshot JSON of every process in nctop-snapshot-<UTC>.json in the working
 * directory. msg gets the name or the problem; returns whether it is an error. */
bool outputs_snapshot_file(struct outputs *o, const struct store *st, uint64_t now_ns,
                           uint64_t real_ns, char *msg, size_t len);

/* --once: the snapshot as JSON or the text tables, as the settings say. 0 or -errno. */
int outputs_print(struct outputs *o, const struct store *st, uint64_t now_ns, uint64_t real_ns);

/* The OTLP exporter's figures for the JSON snapshots (borrowed until the next call; NULL:
 * none, the snapshots then have no "otlp" key). */
void outputs_set_otlp(struct outputs *o, const struct otlp_stats *stats);

/* nctop record: mark the drain time, and write the buffer out (0 or -errno). */
void outputs_record_tick(struct outputs *o, uint64_t now_ns);
int outputs_record_flush(struct outputs *o);
bool outputs_recording(const struct outputs *o);

#endif /* NCTOP_SRC_OUTPUTS_H */
