/* SPDX-License-Identifier: MIT */
/* OTLP/JSON payloads (the JSON mapping of the OTLP protobuf messages) of the store: the
 * Prometheus instruments as OpenTelemetry metrics, cumulative, one resource per workload; and
 * the span instances the store keeps, as traces. Pure rendering: the transport is elsewhere. */
#ifndef NCTOP_SRC_OUTPUT_OTLP_H
#define NCTOP_SRC_OUTPUT_OTLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

#define OTLP_MAX_SPANS 256 /* spans per traces payload: the newest ended since the last one */

/* The exporter's own figures, exported as nctop.otlp.* and shown in the snapshot. */
struct otlp_stats {
    uint64_t exported;    /* batches the collector accepted (2xx) */
    uint64_t dropped;     /* batches given up: queue full, refused, out of retries, at exit */
    uint64_t retries;     /* attempts repeated after a retryable failure */
    uint64_t spans;       /* spans sent in traces batches */
    size_t queued;        /* batches waiting or in flight */
    char last_error[160]; /* the latest failure in words, "" if none */
};

struct otlp_opts {
    const char *service_name; /* OTEL_SERVICE_NAME, or NULL: each workload's label */
    const char *host_name;    /* host.name */
    /* OTEL_RESOURCE_ATTRIBUTES: nresource keys and values, each NUL-terminated in turn
     * (borrowed). Every resource has them; the user's service.name (unless service_name) and
     * host.name are taken, while what nctop measures of a process stays its own. */
    const char *resource;
    size_t nresource;
    int32_t self_pid;          /* nctop's pid, of the exporter's own resource */
    uint64_t start_real_ns;    /* startTimeUnixNano of every cumulative point */
    const uint64_t *bounds_ns; /* borrowed: histogram bounds (ns), NULL: the Prometheus default */
    size_t nbounds;
    size_t max_paths;               /* span paths per workload (0: the Prometheus default) */
    const struct otlp_stats *stats; /* borrowed, may be NULL: no nctop.otlp.* metrics */
};

/* An ExportMetricsServiceRequest of every process of st at now_ns (CLOCK_MONOTONIC or the
 * replay clock) stamped real_ns. Returns an owned NUL-terminated string (free) and *len. */
char *otlp_render_metrics(const struct store *st, uint64_t now_ns, uint64_t real_ns,
                          const struct otlp_opts *o, size_t *len);

/* An ExportTraceServiceRequest of the kept span instances that ended after *since_ns (the
 * newest OTLP_MAX_SPANS of them; more are counted in *skipped), moving *since_ns to the newest
 * end. Returns NULL when there is none, else an owned string (free), *len and *nspans. */
char *otlp_render_traces(const struct store *st, uint64_t now_ns, uint64_t real_ns,
                         const struct otlp_opts *o, uint64_t *since_ns, size_t *nspans,
                         uint64_t *skipped, size_t *len);

#endif /* NCTOP_SRC_OUTPUT_OTLP_H */
