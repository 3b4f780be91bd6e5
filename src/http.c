/* SPDX-License-Identifier: MIT */
/* The HTTP side of the Prometheus exporter. Every connection is a heap struct holding its TCP
 * handle and a deadline timer; it is freed when both are closed. A request is read until its
 * blank line (bounded), answered once with Connection: close, then the connection closes. */
#include "http.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "util.h"
#include "xalloc.h"

struct http_conn {
    uv_tcp_t tcp;     /* first: handles point back to the conn */
    uv_timer_t timer; /* the deadline */
    uv_write_t write;
    struct http_server *srv;
    struct http_conn *prev, *next;
    char req[HTTP_MAX_REQUEST_BYTES];
    size_t len;
    char *resp;  /* owned until the write completes */
    int closing; /* handles still to close */
    bool answered;
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t *listener;
    http_metrics_fn fn;
    void *arg;
    struct http_conn *conns; /* live connections */
    size_t nconns;
    struct http_stats stats;
};

static void http_conn_close(struct http_conn *c);

int http_parse_listen(const char *spec, struct sockaddr_storage *out)
{
    char host[64];
    const char *port_s = spec, *colon;
    uint64_t port;
    size_t hlen;

    memset(out, 0, sizeof(*out));
    snprintf(host, sizeof(host), "127.0.0.1");
    if (spec[0] == '[') {
        /* [IPv6]:port */
        const char *end = strchr(spec, ']');

        if (end == NULL || end[1] != ':' || (size_t)(end - spec - 1) >= sizeof(host)) {
            return -EINVAL;
        }
        hlen = (size_t)(end - spec - 1);
        memcpy(host, spec + 1, hlen);
        host[hlen] = '\0';
        port_s = end + 2;
    } else if ((colon = strrchr(spec, ':')) != NULL) {
        hlen = (size_t)(colon - spec);
        if (hlen == 0 || hlen >= sizeof(host) || memchr(spec, ':', hlen) != NULL) {
            return -EINVAL;
        }
        memcpy(host, spec, hlen);
        host[hlen] = '\0';
        port_s = colon + 1;
    }
    if (util_parse_u64(port_s, 1, 65535, &port) != 0) {
        return -EINVAL;
    }
    if (strchr(host, ':') != NULL) {
        return uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)out) == 0 ? 0 : -EINVAL;
    }
    return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)out) == 0 ? 0 : -EINVAL;
}

static void http_on_handle_closed(uv_handle_t *h)
{
    struct http_conn *c = h->data;

    if (--c->closing > 0) {
        return;
    }
    free(c->resp);
    free(c);
}

static void http_conn_close(struct http_conn *c)
{
    struct http_server *srv = c->srv;

    if (c->closing > 0) {
        return;
    }
    /* Unlink now: the server must not touch a connection that is closing. */
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        srv->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    srv->nconns--;
    c->closing = 2;
    uv_close((uv_handle_t *)&c->tcp, http_on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, http_on_handle_closed);
}

static void http_on_deadline(uv_timer_t *t)
{
    struct http_conn *c = t->data;

    c->srv->stats.errors++;
    http_conn_close(c);
}

static void http_on_written(uv_write_t *w, int status)
{
    struct http_conn *c = w->data;

    (void)status;
    http_conn_close(c);
}

/* Answer and close. body may be NULL (then the reason phrase is the body). */
static void http_respond(struct http_conn *c, int code, const char *reason, const char *ctype,
                         const char *extra_headers, const char *body, size_t body_len,
                         bool head_only)
{
    char hdr[512];
    int hlen;
    uv_buf_t buf;

    if (body == NULL) {
        body = reason;
        body_len = strlen(reason);
    }
    hlen = snprintf(hdr, sizeof(hdr),
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                    "Connection: close\r\n\r\n",
                    code, reason, ctype, body_len, extra_headers);
    c->resp = xmalloc((size_t)hlen + body_len + 1);
    memcpy(c->resp, hdr, (size_t)hlen);
    if (!head_only) {
        memcpy(c->resp + hlen, body, body_len);
    }
    buf = uv_buf_init(c->resp, (unsigned)((size_t)hlen + (head_only ? 0 : body_len)));
    c->answered = true;
    c->srv->stats.requests++;
    if (code >= 400) {
        c->srv->stats.errors++;
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1, http_on_written) != 0) {
        http_conn_close(c);
    }
}

/* The next token of the request line, delimited by one space (or the line's end): [*pos, end). */
static bool http_token(const char *line, size_t n, size_t *pos, const char **tok, size_t *tlen)
{
    size_t i = *pos;

    while (i < n && line[i] != ' ') {
        i++;
    }
    if (i == *pos) {
        return false;
    }
    *tok = line + *pos;
    *tlen = i - *pos;
    *pos = i < n ? i + 1 : i;
    return true;
}

static bool http_tok_is(const char *tok, size_t tlen, const char *word)
{
    return tlen == strlen(word) && memcmp(tok, word, tlen) == 0;
}

int http_parse_request(const char *buf, size_t len, struct http_request *out)
{
    const char *crlf, *lf, *end, *method, *target, *version;
    size_t head_len, line_len, pos = 0, mlen, tlen, vlen, plen;

    memset(out, 0, sizeof(*out));
    if (len > HTTP_MAX_REQUEST_BYTES - 1) {
        len = HTTP_MAX_REQUEST_BYTES - 1;
    }
    /* The end of the headers: the first blank line, with or without carriage returns. */
    crlf = memmem(buf, len, "\r\n\r\n", 4);
    lf = memmem(buf, len, "\n\n", 2);
    if (crlf != NULL && (lf == NULL || crlf < lf)) {
        head_len = (size_t)(crlf - buf) + 4;
    } else if (lf != NULL) {
        head_len = (size_t)(lf - buf) + 2;
    } else if (len >= HTTP_MAX_REQUEST_BYTES - 1) {
        out->status = 431;
        return 1;
    } else {
        return 0;
    }
    out->header_bytes = head_len;
    out->status = 400;

    /* The request line: METHOD SP TARGET SP HTTP/1.x, nothing else, no NUL anywhere. */
    if (memchr(buf, '\0', head_len) != NULL) {
        return 1;
    }
    end = memchr(buf, '\n', head_len);
    line_len = (size_t)(end - buf);
    if (line_len > 0 && buf[line_len - 1] == '\r') {
        line_len--;
    }
    if (!http_token(buf, line_len, &pos, &method, &mlen) ||
        !http_token(buf, line_len, &pos, &target, &tlen) ||
        !http_token(buf, line_len, &pos, &version, &vlen) || pos != line_len ||
        version + vlen != buf + line_len || vlen != 8 || memcmp(version, "HTTP/1.", 7) != 0 ||
        target[0] != '/') {
        return 1;
    }
    out->head = http_tok_is(method, mlen, "HEAD");
    if (!out->head && !http_tok_is(method, mlen, "GET")) {
        out->status = 405;
        return 1;
    }
    /* The path, without a query string. */
    plen = 0;
    while (plen < tlen && target[plen] != '?') {
        plen++;
    }
    out->status = 200;
    if (http_tok_is(target, plen, "/metrics")) {
        out->route = HTTP_ROUTE_METRICS;
    } else if (http_tok_is(target, plen, "/")) {
        out->route = HTTP_ROUTE_INDEX;
    } else {
        out->status = 404;
    }
    return 1;
}

/* The request is complete: answer what http_parse_request made of it. */
static void http_handle(struct http_conn *c, const struct http_request *req)
{
    static const char text[] = "text/plain; charset=utf-8";
    static const char index_body[] = "nctop: the Prometheus metrics are at /metrics\n";

    switch (req->status) {
    case 200:
        break;
    case 405:
        http_respond(c, 405, "Method Not Allowed", text, "Allow: GET, HEAD\r\n", NULL, 0, false);
        return;
    case 404:
        http_respond(c, 404, "Not Found", text, "", NULL, 0, req->head);
        return;
    case 431:
        http_respond(c, 431, "Request Header Fields Too Large", text, "", NULL, 0, false);
        return;
    default:
        http_respond(c, 400, "Bad Request", text, "", NULL, 0, false);
        return;
    }
    if (req->route == HTTP_ROUTE_METRICS) {
        size_t len = 0;
        char *body = c->srv->fn(c->srv->arg, &len);

        c->srv->stats.scrapes++;
        http_respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", "", body, len,
                     req->head);
        free(body);
    } else {
        http_respond(c, 200, "OK", text, "", index_body, sizeof(index_body) - 1, req->head);
    }
}

static void http_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct http_conn *c = h->data;

    (void)suggested;
    /* Read straight into the request buffer; keep one byte for the terminating NUL. */
    *buf = uv_buf_init(c->req + c->len, (unsigned)(sizeof(c->req) - 1 - c->len));
}

static void http_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct http_conn *c = s->data;
    struct http_request req;

    (void)buf;
    if (n < 0) {
        /* EOF before a whole request (a half-closed client), or an error. */
        if (!c->answered) {
            http_conn_close(c);
        }
        return;
    }
    if (c->answered || n == 0) {
        return;
    }
    c->len += (size_t)n;
    if (http_parse_request(c->req, c->len, &req) == 1) {
        http_handle(c, &req);
    }
}

static void http_on_connection(uv_stream_t *listener, int status)
{
    struct http_server *srv = listener->data;
    struct http_conn *c;

    if (status != 0) {
        srv->stats.errors++;
        diag_warn("accept: %s", uv_strerror(status));
        return;
    }
    c = xcalloc(1, sizeof(*c));
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->next = srv->conns;
    if (srv->conns != NULL) {
        srv->conns->prev = c;
    }
    srv->conns = c;
    srv->nconns++;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        srv->stats.errors++;
        http_conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, http_on_deadline, HTTP_DEADLINE_MS, 0);
    if (srv->nconns > HTTP_MAX_CONNECTIONS) {
        /* Too many at once: say so and close, rather than let them queue up. */
        srv->stats.rejected++;
        http_respond(c, 503, "Service Unavailable", "text/plain; charset=utf-8",
                     "Retry-After: 1\r\n", NULL, 0, false);
        return;
    }
    uv_read_start((uv_stream_t *)&c->tcp, http_on_alloc, http_on_read);
}

static void http_on_listener_closed(uv_handle_t *h)
{
    free(h);
}

int http_server_start(uv_loop_t *loop, const char *spec, http_metrics_fn fn, void *arg,
                      struct http_server **out)
{
    struct sockaddr_storage addr;
    struct http_server *srv;
    int rc;

    *out = NULL;
    if (http_parse_listen(spec, &addr) != 0) {
        return UV_EINVAL;
    }
    srv = xcalloc(1, sizeof(*srv));
    srv->loop = loop;
    srv->fn = fn;
    srv->arg = arg;
    srv->listener = xcalloc(1, sizeof(*srv->listener));
    uv_tcp_init(loop, srv->listener);
    srv->listener->data = srv;
    rc = uv_tcp_bind(srv->listener, (const struct sockaddr *)&addr, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)srv->listener, 128, http_on_connection);
    }
    if (rc != 0) {
        uv_close((uv_handle_t *)srv->listener, http_on_listener_closed);
        free(srv);
        return rc;
    }
    *out = srv;
    return 0;
}

void http_server_stop(struct http_server *srv)
{
    if (srv == NULL) {
        return;
    }
    while (srv->conns != NULL) {
        http_conn_close(srv->conns);
    }
    uv_close((uv_handle_t *)srv->listener, http_on_listener_closed);
    free(srv);
}

void http_server_stats(const struct http_server *srv, struct http_stats *out)
{
    *out = srv->stats;
}
