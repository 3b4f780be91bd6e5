/* SPDX-License-Identifier: MIT */
/* The Prometheus text exposition of the store, made from the same rows as every other output:
 * raw counters and since-start histograms, so any window can be computed in PromQL. */
#ifndef NCTOP_SRC_PROM_H
#define NCTOP_SRC_PROM_H

#include <stddef.h>
#include <stdint.h>

struct otlp_stats;
struct alerts;
struct store;

#define PROM_DEFAULT_MAX_PATHS 200 /* latency paths per process before folding into "other" */

/* The default histogram buckets: 10 per decade (1, 1.25, 1.6, 2, 2.5, 3.15, 4, 5, 6.3, 8)
 * from 10 us to 100 s, so a quantile interpolated inside a bucket is off by 12 % at most and
 * a multi-second TTFT still lands in a bucket. As a bucket spec (prom_buckets_parse): */
#define PROM_DEFAULT_BUCKETS "0.00001:100:10"
#define PROM_MAX_BUCKETS 256 /* bounds per histogram, +Inf excluded */

/* Options of a rendering. Zero fields take the defaults. */
struct prom_opts {
    size_t max_paths;              /* cap of distinct `path` label values per process */
    const uint64_t *bounds_ns;     /* borrowed: ascending histogram upper bounds (integer ns) */
    size_t nbounds;                /* 0: the default buckets */
    const struct otlp_stats *otlp; /* borrowed: the OTLP exporter's figures, NULL: none */
    const struct alerts *alerts;   /* borrowed: nctop_alert_firing and nctop_alerts; NULL: none */
};

/* Parse a bucket spec: either "LOW:HIGH:PER_DECADE" (seconds; bounds at PER_DECADE steps per
 * power of ten, rounded to 3 significant digits, 1..100 per decade; 10 gives the Renard
 * series above) or a comma list of ascending seconds ("0.001,0.01,0.1"). Bounds are whole
 * nanoseconds, 1 ns .. 1e6 s, at most PROM_MAX_BUCKETS. On success *out is owned (free) and
 * returns 0; else -EINVAL and *err (owned) says why. For a --prometheus-buckets option. */
int prom_buckets_parse(const char *spec, uint64_t **out, size_t *n, char **err);

/* Render every process of st at now_ns. Series are labelled by workload (the process label;
 * pid and state are in nctop_workload_info only, so a restarted workload continues its
 * series); two live workloads of one label are told apart by a "label/pid" workload value.
 * max_paths caps the distinct `path` label values per process; the rest fold into
 * path="other", counted in nctop_exporter_folded_paths. opts is borrowed, may be NULL.
 * Returns an owned NUL-terminated string (free) and its length. */
char *prom_render_opts(const struct store *st, uint64_t now_ns, const struct prom_opts *opts,
                       size_t *len);
/* prom_render_opts with max_paths (0 = the default) and the default buckets. */
char *prom_render(const struct store *st, uint64_t now_ns, size_t max_paths, size_t *len);

#endif /* NCTOP_SRC_PROM_H */
