/* SPDX-License-Identifier: MIT */
/* The OTLP/HTTP transport on the libuv loop: a bounded queue of JSON batches POSTed one at a
 * time (plain http://, one connection per request), each with a deadline; retries with
 * exponential backoff on 429/502/503/504 and on connection failures, honouring Retry-After;
 * every batch given up is counted. It never blocks the loop. */
#ifndef NCTOP_SRC_OTLP_CLIENT_H
#define NCTOP_SRC_OTLP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "src/output/otlp.h"

struct otlp_client;

#define OTLP_QUEUE_MAX 8               /* batches queued; a new one drops the oldest */
#define OTLP_MAX_ATTEMPTS 4            /* tries of one batch before it is dropped */
#define OTLP_BACKOFF_FIRST_MS 1000     /* first retry delay, doubled each time */
#define OTLP_BACKOFF_MAX_MS 30000      /* cap of the backoff (Retry-After may ask more) */
#define OTLP_RETRY_AFTER_MAX_MS 300000 /* a longer Retry-After is cut to this */
#define OTLP_DEFAULT_TIMEOUT_MS 10000  /* per request (OTEL_EXPORTER_OTLP_TIMEOUT) */
#define OTLP_DEFAULT_INTERVAL_MS 60000 /* between batches (OTEL_METRIC_EXPORT_INTERVAL) */
#define OTLP_MAX_RESPONSE_BYTES 65536  /* a longer response body is an error */
#define OTLP_MAX_HEADERS_BYTES 4096    /* OTEL_EXPORTER_OTLP_HEADERS, as request lines */
#define OTLP_MAX_RESOURCE_BYTES 4096   /* OTEL_RESOURCE_ATTRIBUTES, decoded */

/* Where a signal goes: http://HOST[:PORT]PATH. */
struct otlp_endpoint {
    char host[256]; /* a name or a numeric address (without the brackets of IPv6) */
    uint16_t port;
    char path[512];
    char authority[300]; /* the Host header */
};

struct otlp_client_opts {
    struct otlp_endpoint metrics;
    struct otlp_endpoint traces;
    bool traces_on;                         /* NC_OTLP_TRACES */
    uint64_t interval_ms;                   /* OTEL_METRIC_EXPORT_INTERVAL */
    uint64_t timeout_ms;                    /* OTEL_EXPORTER_OTLP_TIMEOUT */
    char headers[OTLP_MAX_HEADERS_BYTES];   /* extra request header lines, "K: V\r\n" each */
    char resource[OTLP_MAX_RESOURCE_BYTES]; /* OTEL_RESOURCE_ATTRIBUTES, decoded: nresource
                                             * keys and values, each NUL-terminated in turn */
    size_t nresource;
    const char *service_name; /* OTEL_SERVICE_NAME, or NULL (borrowed: environ) */
};

/* Parse an http:// URL. base: a base endpoint, to which "v1/<signal>" is appended (as
 * OTEL_EXPORTER_OTLP_ENDPOINT is); else the URL is the signal's own. Returns 0, or -EINVAL
 * and *err (owned) saying why (https: TLS is not built in). */
int otlp_endpoint_parse(const char *url, bool base, const char *signal, struct otlp_endpoint *out,
                        char **err);

/* Parse OTEL_EXPORTER_OTLP_HEADERS ("k1=v1,k2=v2", values percent-encoded) into request
 * header lines. Returns 0 or -EINVAL with *err (owned). */
int otlp_headers_parse(const char *spec, char *out, size_t len, char **err);

/* Parse OTEL_RESOURCE_ATTRIBUTES (the same form) into *n keys and values, each NUL-terminated
 * in turn, in len bytes at out. Returns 0 or -EINVAL with *err (owned). */
int otlp_resource_parse(const char *spec, char *out, size_t len, size_t *n, char **err);

/* The settings from cli_url (--otlp, or NULL) and the environment: NC_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_{METRICS,TRACES}_ENDPOINT,
 * OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_METRIC_EXPORT_INTERVAL,
 * OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, NC_OTLP_TRACES. Returns 1 when export is asked for,
 * 0 when not, or -EINVAL with *err (owned). */
int otlp_client_opts_env(const char *cli_url, struct otlp_client_opts *out, char **err);

/* Start the client on loop (nothing is sent yet). Owned: end with otlp_client_close. */
struct otlp_client *otlp_client_new(uv_loop_t *loop, const struct otlp_client_opts *o);

/* Queue a batch for the metrics or the traces endpoint; takes ownership of body (free). A
 * full queue drops its oldest waiting batch (counted). Loop context. */
void otlp_client_submit(struct otlp_client *c, bool traces, char *body, size_t len);

/* Count n spans sent in a traces batch (the snapshot's "spans"). */
void otlp_client_note_spans(struct otlp_client *c, size_t n);

/* The figures so far (borrowed, updated in place as batches go). */
const struct otlp_stats *otlp_client_stats(const struct otlp_client *c);

/* Send what is queued for at most grace_ms more (no backoff waits), then drop the rest
 * (counted), close the handles and free c once they are closed. NULL is a no-op. */
void otlp_client_close(struct otlp_client *c, uint64_t grace_ms);

#endif /* NCTOP_SRC_OTLP_CLIENT_H */
