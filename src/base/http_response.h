/* SPDX-License-Identifier: MIT */
/* An incremental HTTP/1.1 response parser for nctop's clients (OTLP export, the fleet view):
 * status, headers, Content-Length, chunked bodies, Retry-After; bounded, any bytes in. Pure:
 * no I/O, libc only. */
#ifndef NCTOP_SRC_BASE_HTTP_RESPONSE_H
#define NCTOP_SRC_BASE_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_response;

#define HTTP_RESPONSE_MAX_HEAD 16384      /* status line plus headers (also the trailers) */
#define HTTP_RESPONSE_MAX_HEADERS 96      /* header fields kept; more is an error */
#define HTTP_RESPONSE_MAX_CHUNK_LINE 1024 /* a chunk-size line with its extensions */

/* A parser for one response at a time; max_body bounds the body kept (0: none may come).
 * Owned: free with http_response_free. */
struct http_response *http_response_new(size_t max_body);
void http_response_free(struct http_response *r); /* NULL is a no-op */

/* Forget the response parsed so far (keep the limits) to parse the next one on a kept-alive
 * connection. head_request: the response answers a HEAD request (it has no body). */
void http_response_reset(struct http_response *r, bool head_request);

/* Feed the next len bytes of the connection (any bytes; len may be 0). *used (may be NULL)
 * gets how many were consumed: past a complete response the rest belongs to the next one.
 * Interim 1xx responses are skipped. Returns 1 when the response is complete, 0 while more
 * bytes are needed, or an error that sticks: -EBADMSG (malformed), -EMSGSIZE (the head or
 * trailers over HTTP_RESPONSE_MAX_HEAD, or too many headers), -E2BIG (body over max_body). */
int http_response_feed(struct http_response *r, const void *buf, size_t len, size_t *used);

/* The peer closed the connection. Returns 1 if that completes the response (a body delimited
 * by the close), the same as a feed otherwise: -EPIPE when the response is cut short. */
int http_response_eof(struct http_response *r);

/* Accessors, valid once the status line and headers are in (http_response_head_done). */
bool http_response_head_done(const struct http_response *r);
int http_response_status(const struct http_response *r); /* 100..999, or 0 before the head */
/* The value of the first header named name (any case), trimmed; borrowed until the next
 * reset; NULL when absent. */
const char *http_response_header(const struct http_response *r, const char *name);
size_t http_response_header_count(const struct http_response *r);
/* Header i (0 <= i < count): its name and value, borrowed until the next reset. */
void http_response_header_at(const struct http_response *r, size_t i, const char **name,
                             const char **value);
bool http_response_content_length(const struct http_response *r, uint64_t *out);
bool http_response_chunked(const struct http_response *r);
/* The connection may be reused after this response: HTTP/1.1 without "Connection: close",
 * or HTTP/1.0 with "keep-alive", and a body not delimited by the close. */
bool http_response_keep_alive(const struct http_response *r);
/* The body received so far (chunks joined), NUL-terminated; borrowed until the next reset. */
const char *http_response_body(const struct http_response *r, size_t *len);

/* Parse a Retry-After value: delay seconds ("120") or an HTTP-date (IMF-fixdate, RFC 850 or
 * asctime form, always GMT) against now_s (seconds since the epoch). A date in the past is a
 * 0 s delay. *delay_s is capped at UINT32_MAX. Returns 0 or -EINVAL. */
int http_retry_after_parse(const char *value, int64_t now_s, uint64_t *delay_s);

/* The response's Retry-After as a delay in seconds. Returns 0, -ENOENT (absent) or -EINVAL. */
int http_response_retry_after(const struct http_response *r, int64_t now_s, uint64_t *delay_s);

#endif /* NCTOP_SRC_BASE_HTTP_RESPONSE_H */
