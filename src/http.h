/* SPDX-License-Identifier: MIT */
/* A small, strict HTTP/1.1 server on the libuv loop for GET /metrics: bounded requests,
 * bounded connections, deadlines for slow or silent clients; it never blocks the loop. */
#ifndef NCTOP_SRC_HTTP_H
#define NCTOP_SRC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct http_server;

#define HTTP_MAX_REQUEST_BYTES 8192     /* request line and headers; more gets 431 */
#define HTTP_MAX_CONNECTIONS 64         /* beyond: the oldest incomplete (else slowest) goes */
#define HTTP_MAX_PER_PEER 32            /* connections from one address; beyond: the same */
#define HTTP_HEADER_DEADLINE_MS 2000    /* from accept to the whole request line and headers */
#define HTTP_WRITE_DEADLINE_MS 10000    /* from the answer to its last byte, slow readers too */
#define HTTP_SETTLE_POLL_MS 20          /* written answers: how often their close is looked at */
#define HTTP_RENDER_MIN_MS 100          /* scrapes this close together share one render */
#define HTTP_MAX_HELD_BYTES (32U << 20) /* renders kept for unfinished writes; beyond: reuse */

/* What a request asks for, as http_parse_request decides it. */
enum http_route {
    HTTP_ROUTE_NONE,    /* an error status: answer it with its reason phrase */
    HTTP_ROUTE_INDEX,   /* "/" */
    HTTP_ROUTE_METRICS, /* "/metrics" */
    HTTP_ROUTE_HEALTHZ, /* "/healthz" */
};

struct http_request {
    int status;            /* the status to answer: 200, 400, 404, 405 or 431 */
    enum http_route route; /* HTTP_ROUTE_NONE unless status is 200 */
    bool head;             /* HEAD: headers only */
    size_t header_bytes;   /* bytes up to and including the blank line (0 with 431) */
};

/* Decide what the bytes received so far ask for. buf need not be NUL-terminated and may hold
 * any bytes; len is at most what arrived. Returns 1 with *out filled when the request is
 * complete (its blank line arrived) or can never be (over HTTP_MAX_REQUEST_BYTES - 1 bytes:
 * 431), and 0 while more bytes are needed. Pure: no allocation, no I/O; any context. */
int http_parse_request(const char *buf, size_t len, struct http_request *out);

/* Produce the body of GET /metrics: an owned buffer (freed with free) and its length. One
 * render is shared by every connection that asks within HTTP_RENDER_MIN_MS. */
typedef char *(*http_metrics_fn)(void *arg, size_t *len);

/* Produce the body of GET /healthz: an owned buffer (freed with free), its length and the
 * status to answer (200 or 503). Rendered for each request (it is small). */
typedef char *(*http_health_fn)(void *arg, size_t *len, int *status);

struct http_stats {
    uint64_t requests; /* requests answered, any status */
    uint64_t scrapes;  /* 200 answers to /metrics */
    uint64_t renders;  /* calls of the render function */
    uint64_t reused;   /* scrapes answered with an older render: HTTP_MAX_HELD_BYTES was held */
    uint64_t evicted;  /* connections closed to make room for a new one (see the limits) */
    uint64_t timeouts; /* connections closed at a deadline */
    uint64_t errors;   /* 4xx/5xx answers and connection errors */
};

/* Parse "[ADDR:]PORT" ("9464", "127.0.0.1:9464", "[::1]:9464") into a socket address. The
 * default address is 127.0.0.1: all interfaces only when asked ("0.0.0.0:PORT").
 * Returns 0 or -EINVAL. */
int http_parse_listen(const char *spec, struct sockaddr_storage *out);

/* Listen on spec. fn(arg) renders /metrics. Returns 0 and the owned server, or a libuv error
 * code (uv_strerror) with *out NULL. Loop context. */
int http_server_start(uv_loop_t *loop, const char *spec, http_metrics_fn fn, void *arg,
                      struct http_server **out);

/* Close the listener and every connection; the memory goes when the loop runs the close
 * callbacks. NULL is a no-op. */
void http_server_stop(struct http_server *srv);

void http_server_stats(const struct http_server *srv, struct http_stats *out);

/* Serve GET /healthz with fn(arg) (NULL: /healthz is a 404). Loop context. */
void http_server_set_health(struct http_server *srv, http_health_fn fn, void *arg);

#endif /* NCTOP_SRC_HTTP_H */
