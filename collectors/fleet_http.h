/* SPDX-License-Identifier: MIT */
/* The fleet source's HTTP side: the address of a Prometheus (http://HOST[:PORT][/PREFIX]) and
 * one GET of its query API with a deadline, on plain sockets and poll(). Blocking: for the
 * source's sample, on a worker thread, never on the loop. */
#ifndef NCTOP_COLLECTORS_FLEET_HTTP_H
#define NCTOP_COLLECTORS_FLEET_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define FLEET_HTTP_MAX_BYTES (64U << 20) /* the largest answer read (64 MiB) */

/* A Prometheus' address. */
struct fleet_url {
    char host[256];   /* a name or a numeric address (an IPv6 one without its brackets) */
    char port[8];     /* 80 when the URL names none */
    char prefix[512]; /* the path before /api/v1 ("" or "/prometheus"), without a last '/' */
};

/* Read an http:// URL into out. Returns 0, or -EINVAL with *err an owned one-line reason. */
int fleet_url_parse(const char *url, struct fleet_url *out, char **err);

/* The query string value of s, percent-encoded (unreserved characters as they are). Owned. */
char *fleet_url_encode(const char *s);

/* GET u's prefix + target ("/api/v1/query?query=..."), everything done by deadline_ns
 * (CLOCK_MONOTONIC). On 0: *status the HTTP status, *body the body (owned, NUL-terminated,
 * *len bytes). Else -errno (-ETIMEDOUT, -ECONNREFUSED, -EBADMSG: not HTTP, -E2BIG: over
 * FLEET_HTTP_MAX_BYTES) with *err an owned one-line reason. Blocks: worker threads only. */
int fleet_http_get(const struct fleet_url *u, const char *target, uint64_t deadline_ns, int *status,
                   char **body, size_t *len, char **err);

#endif /* NCTOP_COLLECTORS_FLEET_HTTP_H */
