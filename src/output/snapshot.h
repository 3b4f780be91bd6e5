/* SPDX-License-Identifier: MIT */
/* Rows as JSON (docs/DESIGN.md schemas) and the whole-store snapshot written by --once --json.
 * The JSONL logger and the exporters reuse the row converters, so every output agrees. */
#ifndef NCTOP_SRC_SNAPSHOT_H
#define NCTOP_SRC_SNAPSHOT_H

#include <stdint.h>
#include <stdio.h>

struct alerts;
struct cJSON;
struct otlp_stats;
struct row;
struct rows;
struct rows_instance;
struct rows_summary;
struct store;

/* One row as a JSON object (owned by the caller: cJSON_Delete). */
struct cJSON *snapshot_latency_row(const struct row *r);
struct cJSON *snapshot_memory_row(const struct row *r);
/* A neuro row of rows (rows_build_neuro) flat, as the latency log's "neuro" lines carry it:
 * label, level, path, layer, core (null for the network and layers) and its figures. */
struct cJSON *snapshot_neuro_row(const struct rows *rows, const struct row *r);
struct cJSON *snapshot_kernel_row(const struct row *r);
/* One compilation (a span instance kept one by one), the number-th of its process since start
 * (the Compile view's #number), as the snapshot's compilations[] and the latency log's
 * "compilations" carry it. Owned by the caller. */
struct cJSON *snapshot_compilation(const struct rows_instance *r, uint64_t number);

/* The snapshot of every process of st at now_ns (CLOCK_MONOTONIC) and real_ns (wall clock of
 * the timestamp). Owned by the caller. */
struct cJSON *snapshot_build(const struct store *st, uint64_t now_ns, uint64_t real_ns);

/* Write the snapshot as one JSON document and a newline. Returns 0 or -errno. */
int snapshot_write(FILE *out, const struct store *st, uint64_t now_ns, uint64_t real_ns);

/* --baseline: the earlier run's store (diff_load) and its file name, both borrowed. */
struct snapshot_baseline {
    const struct store *store; /* NULL: no comparison */
    const char *file;
};

/* snapshot_build and snapshot_write with each latency row compared with the baseline's row of
 * its path ("baseline" in the row, and a top-level "baseline"); base NULL: none. */
struct cJSON *snapshot_build_against(const struct store *st, const struct snapshot_baseline *base,
                                     uint64_t now_ns, uint64_t real_ns);
int snapshot_write_against(FILE *out, const struct store *st, const struct snapshot_baseline *base,
                           uint64_t now_ns, uint64_t real_ns);
/* snapshot_write_against plus the OTLP exporter's figures as "otlp" (borrowed; NULL: no
 * key). */
int snapshot_write_otlp(FILE *out, const struct store *st, const struct snapshot_baseline *base,
                        uint64_t now_ns, uint64_t real_ns, const struct otlp_stats *otlp);

/* The pending and firing alerts of a (borrowed; NULL: none) as the snapshot's "alerts" array,
 * their "since" as UTC times from real_ns (the wall clock of now_ns). Owned by the caller. */
struct cJSON *snapshot_alerts(const struct alerts *a, uint64_t now_ns, uint64_t real_ns);
/* snapshot_write_otlp with an "alerts" array (a NULL: without one). */
int snapshot_write_full(FILE *out, const struct store *st, const struct snapshot_baseline *base,
                        const struct alerts *a, uint64_t now_ns, uint64_t real_ns,
                        const struct otlp_stats *otlp);

#endif /* NCTOP_SRC_SNAPSHOT_H */
