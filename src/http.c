/* SPDX-License-Identifier: MIT */
/* The HTTP side of the Prometheus exporter. Every connection is a heap struct holding its TCP
 * handle and a deadline timer; it is freed when both are closed. A request is read until its
 * blank line (bounded, within a header deadline), answered once with Connection: close (FIN
 * after the answer), and closed once the client's side has acknowledged all of it (the kernel's
 * send queue is empty, looked at every HTTP_SETTLE_POLL_MS). Closing earlier would leave the
 * unsent rest to the kernel, which goes on sending it to a socket nobody owns for minutes,
 * outside every limit here, and resets such sockets when they take the host's TCP memory, a
 * legitimate scrape's too. A connection given up with an answer still unsent (evicted, or past
 * its deadline) is therefore reset, which drops that answer at once. The limits are
 * made so that hostile clients cost a bounded amount and cannot keep legitimate scrapes out:
 *  - a client gets HTTP_HEADER_DEADLINE_MS for its whole request, then HTTP_WRITE_DEADLINE_MS
 *    to take the answer;
 *  - when all slots (or all of one address's slots) are taken, the new connection is kept and
 *    the oldest one still sending its request goes (503), else one whose answer is all
 *    delivered, else the oldest still being answered: a trickling or silent client loses its
 *    slot to anyone who asks properly;
 *  - one render of /metrics is shared by reference between connections, made at most once per
 *    HTTP_RENDER_MIN_MS, and a new one is made only while the renders still held by unfinished
 *    writes stay under HTTP_MAX_HELD_BYTES (else the current one is reused). Memory is thus
 *    bounded by HTTP_MAX_HELD_BYTES plus one render, however many clients never read. */
#include "src/http.h"

#include <errno.h>
#include <linux/sockios.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "src/base/diag.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"

/* One render of /metrics, shared by the connections writing it and by the server's cache. */
struct http_body {
    size_t refs;
    size_t len;
    uint64_t made_ms; /* uv_now when rendered */
    char *data;       /* owned (from the render function) */
};

struct http_conn {
    uv_tcp_t tcp;     /* first: handles point back to the conn */
    uv_timer_t timer; /* the header deadline, then the write deadline */
    uv_write_t write;
    uv_shutdown_t shutdown;
    struct http_server *srv;
    struct http_conn *prev, *next; /* in accept order: the oldest first */
    struct sockaddr_storage peer;  /* the client's address (the port is ignored) */
    char req[HTTP_MAX_REQUEST_BYTES];
    size_t len;
    char hdr[512];          /* the answer's status line and headers */
    struct http_body *body; /* a reference, held until the write ends; NULL for fixed texts */
    int closing;            /* handles still to close */
    bool answered;
    bool written;         /* the whole answer is in the kernel and the FIN queued after it */
    uint64_t deadline_ms; /* uv_now by which the answer must be taken */
    size_t queued;        /* bytes of the answer not yet sent when last looked at */
    uint64_t progress_ms; /* uv_now when the answer last moved (or was made) */
};

struct http_server {
    uv_loop_t *loop;
    uv_tcp_t *listener;
    http_metrics_fn fn;
    void *arg;
    http_health_fn health;
    void *health_arg;
    struct http_conn *conns, *last; /* live connections, the oldest first */
    size_t nconns;
    struct http_body *cur; /* the latest render (the server holds one reference) */
    size_t held_bytes;     /* bytes of every live render, cur included */
    struct http_stats stats;
};

static const char http_text[] = "text/plain; charset=utf-8";
static const char http_busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; "
                                "charset=utf-8\r\nContent-Length: 20\r\nRetry-After: 1\r\n"
                                "Connection: close\r\n\r\nService Unavailable\n";

static void http_conn_close(struct http_conn *c, bool reset);
static size_t http_conn_unsent(struct http_conn *c);

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

/* Drop one reference; held (NULL once the server is gone) counts the bytes of live renders. */
static void http_body_unref(struct http_body *b, size_t *held)
{
    if (b == NULL || --b->refs > 0) {
        return;
    }
    if (held != NULL) {
        *held -= b->len;
    }
    free(b->data);
    free(b);
}

/* A reference to a render of /metrics: the current one while it is fresh, or while a new one
 * would take the renders held past HTTP_MAX_HELD_BYTES; else a new one. */
static struct http_body *http_body_get(struct http_server *srv)
{
    uint64_t now = uv_now(srv->loop);
    struct http_body *b;

    if (srv->cur != NULL) {
        /* What stays held if cur is replaced: everything but cur, unless a write holds it. */
        size_t kept = srv->held_bytes - (srv->cur->refs == 1 ? srv->cur->len : 0);

        if (now - srv->cur->made_ms < HTTP_RENDER_MIN_MS || kept > HTTP_MAX_HELD_BYTES) {
            if (now - srv->cur->made_ms >= HTTP_RENDER_MIN_MS) {
                srv->stats.reused++;
            }
            srv->cur->refs++;
            return srv->cur;
        }
    }
    b = xcalloc(1, sizeof(*b));
    b->data = srv->fn(srv->arg, &b->len);
    b->made_ms = now;
    b->refs = 2; /* the cache's and the caller's */
    srv->held_bytes += b->len;
    srv->stats.renders++;
    if (srv->cur != NULL) {
        http_body_unref(srv->cur, &srv->held_bytes);
    }
    srv->cur = b;
    return b;
}

static void http_on_handle_closed(uv_handle_t *h)
{
    struct http_conn *c = h->data;

    if (--c->closing > 0) {
        return;
    }
    /* Both handles are closed, so the write (if any) has ended: its callback ran first. */
    http_body_unref(c->body, c->srv != NULL ? &c->srv->held_bytes : NULL);
    free(c);
}

/* Read what the client already sent, so that closing sends FIN rather than a reset that could
 * destroy an answer still in flight. Never blocks. */
static void http_conn_drain(struct http_conn *c)
{
    uv_os_fd_t fd;
    char scratch[4096];

    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) {
        return;
    }
    for (int i = 0; i < 4; i++) {
        if (recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT) <= 0) {
            break;
        }
    }
}

/* Close c. reset: with a RST, so that the kernel drops what it still holds of the answer
 * instead of sending it on to a socket nobody owns any more. */
static void http_conn_close(struct http_conn *c, bool reset)
{
    struct http_server *srv = c->srv;
    uv_os_fd_t fd;

    if (c->closing > 0) {
        return;
    }
    if (reset && uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};

        (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    }
    /* Unlink now: the server must not touch a connection that is closing. */
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        srv->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    } else {
        srv->last = c->prev;
    }
    c->prev = c->next = NULL;
    srv->nconns--;
    c->closing = 2;
    uv_close((uv_handle_t *)&c->tcp, http_on_handle_closed);
    uv_close((uv_handle_t *)&c->timer, http_on_handle_closed);
}

static void http_on_deadline(uv_timer_t *t)
{
    struct http_conn *c = t->data;

    c->srv->stats.timeouts++;
    c->srv->stats.errors++;
    if (!c->answered) {
        http_conn_drain(c);
    }
    http_conn_close(c, c->answered);
}

static void http_on_shutdown(uv_shutdown_t *req, int status)
{
    struct http_conn *c = req->data;

    if (status != 0 && status != UV_ECANCELED) {
        http_conn_close(c, true);
    }
}

/* The answer is all in the kernel: close once the client's side has acknowledged all of it
 * (what it sent since is read first, so that the close is a FIN), reset at the deadline. */
static void http_conn_settle(struct http_conn *c)
{
    if (http_conn_unsent(c) == 0) {
        http_conn_drain(c);
        http_conn_close(c, false);
    } else if (uv_now(c->srv->loop) >= c->deadline_ms) {
        c->srv->stats.timeouts++;
        c->srv->stats.errors++;
        http_conn_close(c, true);
    }
}

static void http_on_settle(uv_timer_t *t)
{
    http_conn_settle(t->data);
}

static void http_on_written(uv_write_t *w, int status)
{
    struct http_conn *c = w->data;

    if (c->closing > 0) {
        return;
    }
    if (status != 0) {
        http_conn_close(c, true);
        return;
    }
    c->written = true;
    c->shutdown.data = c;
    if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, http_on_shutdown) != 0) {
        http_conn_close(c, http_conn_unsent(c) > 0);
        return;
    }
    uv_timer_start(&c->timer, http_on_settle, HTTP_SETTLE_POLL_MS, HTTP_SETTLE_POLL_MS);
    http_conn_settle(c);
}

/* Bytes of c's answer not sent yet: queued in the loop, plus unsent in the kernel. */
static size_t http_conn_unsent(struct http_conn *c)
{
    size_t q = uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp);
    uv_os_fd_t fd;
    int outq = 0;

    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) == 0 && ioctl(fd, SIOCOUTQ, &outq) == 0 &&
        outq > 0) {
        q += (size_t)outq;
    }
    return q;
}

/* Answer and close. body may be NULL (then the reason phrase is the body); shared, when not
 * NULL, is a reference to a render that the connection now holds and body is its text. */
static void http_respond(struct http_conn *c, int code, const char *reason, const char *ctype,
                         const char *extra_headers, const char *body, size_t body_len,
                         bool head_only, struct http_body *shared)
{
    int hlen;
    uv_buf_t buf[2];

    if (body == NULL) {
        body = reason;
        body_len = strlen(reason);
    }
    hlen = snprintf(c->hdr, sizeof(c->hdr),
                    "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                    "Connection: close\r\n\r\n",
                    code, reason, ctype, body_len, extra_headers);
    c->body = shared;
    buf[0] = uv_buf_init(c->hdr, (unsigned)hlen);
    /* The body is written from where it lives: a static text or the shared render. */
    buf[1] = uv_buf_init((char *)(uintptr_t)body, (unsigned)body_len);
    c->answered = true;
    c->srv->stats.requests++;
    if (code >= 400) {
        c->srv->stats.errors++;
    }
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->deadline_ms = uv_now(c->srv->loop) + HTTP_WRITE_DEADLINE_MS;
    uv_timer_start(&c->timer, http_on_deadline, HTTP_WRITE_DEADLINE_MS, 0);
    c->write.data = c;
    if (uv_write(&c->write, (uv_stream_t *)&c->tcp, buf, head_only ? 1 : 2, http_on_written) != 0) {
        http_conn_close(c, true);
        return;
    }
    c->queued = http_conn_unsent(c);
    c->progress_ms = uv_now(c->srv->loop);
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
    } else if (http_tok_is(target, plen, "/healthz")) {
        out->route = HTTP_ROUTE_HEALTHZ;
    } else if (http_tok_is(target, plen, "/")) {
        out->route = HTTP_ROUTE_INDEX;
    } else {
        out->status = 404;
    }
    return 1;
}

/* GET /healthz: a render of its own (small, made per request), held by the connection like a
 * render of /metrics and counted with them. */
static void http_health(struct http_conn *c, const struct http_request *req)
{
    struct http_server *srv = c->srv;
    struct http_body *b;
    int status = 503;

    if (srv->health == NULL) {
        http_respond(c, 404, "Not Found", http_text, "", NULL, 0, req->head, NULL);
        return;
    }
    b = xcalloc(1, sizeof(*b));
    b->data = srv->health(srv->health_arg, &b->len, &status);
    b->made_ms = uv_now(srv->loop);
    b->refs = 1; /* the connection's */
    srv->held_bytes += b->len;
    http_respond(c, status, status == 200 ? "OK" : "Service Unavailable",
                 "application/json; charset=utf-8", "Cache-Control: no-store\r\n", b->data, b->len,
                 req->head, b);
}

/* The request is complete: answer what http_parse_request made of it. */
static void http_handle(struct http_conn *c, const struct http_request *req)
{
    static const char index_body[] = "nctop: the Prometheus metrics are at /metrics\n";

    switch (req->status) {
    case 200:
        break;
    case 405:
        http_respond(c, 405, "Method Not Allowed", http_text, "Allow: GET, HEAD\r\n", NULL, 0,
                     false, NULL);
        return;
    case 404:
        http_respond(c, 404, "Not Found", http_text, "", NULL, 0, req->head, NULL);
        return;
    case 431:
        http_respond(c, 431, "Request Header Fields Too Large", http_text, "", NULL, 0, false,
                     NULL);
        return;
    default:
        http_respond(c, 400, "Bad Request", http_text, "", NULL, 0, false, NULL);
        return;
    }
    if (req->route == HTTP_ROUTE_HEALTHZ) {
        http_health(c, req);
        return;
    }
    if (req->route == HTTP_ROUTE_METRICS) {
        struct http_body *b = http_body_get(c->srv);

        c->srv->stats.scrapes++;
        http_respond(c, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", "", b->data, b->len,
                     req->head, b);
    } else {
        http_respond(c, 200, "OK", http_text, "", index_body, sizeof(index_body) - 1, req->head,
                     NULL);
    }
}

/* n more bytes arrived in the request buffer: answer once the request is whole. */
static void http_conn_got(struct http_conn *c, size_t n)
{
    struct http_request req;

    c->len += n;
    if (http_parse_request(c->req, c->len, &req) == 1) {
        http_handle(c, &req);
    }
}

static void http_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct http_conn *c = h->data;

    (void)suggested;
    /* Read straight into the request buffer; keep one byte spare. */
    *buf = uv_buf_init(c->req + c->len, (unsigned)(sizeof(c->req) - 1 - c->len));
}

static void http_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct http_conn *c = s->data;

    (void)buf;
    if (n < 0) {
        /* EOF before a whole request (a half-closed client), or an error. */
        if (!c->answered) {
            http_conn_close(c, false);
        }
        return;
    }
    if (c->answered || n == 0) {
        return;
    }
    http_conn_got(c, (size_t)n);
}

static bool http_same_peer(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family) {
        return false;
    }
    if (a->ss_family == AF_INET) {
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    }
    if (a->ss_family == AF_INET6) {
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
    }
    return false;
}

/* The connection to give up for a new one from peer (NULL: any peer): the oldest that has not
 * sent its whole request yet, else one whose answer is all delivered (it only waits for its
 * client to close), else the answer that has been stuck the longest (its queue has not shrunk
 * since): a client reading a large answer keeps its slot, one that never reads does not. */
static struct http_conn *http_victim(struct http_server *srv, const struct sockaddr_storage *peer)
{
    struct http_conn *writer = NULL;
    uint64_t now = uv_now(srv->loop);

    for (struct http_conn *c = srv->conns; c != NULL; c = c->next) {
        size_t q;

        if (peer != NULL && !http_same_peer(&c->peer, peer)) {
            continue;
        }
        if (!c->answered) {
            return c;
        }
        q = http_conn_unsent(c);
        if (c->written && q == 0) {
            return c;
        }
        if (q < c->queued) {
            c->progress_ms = now;
        }
        c->queued = q;
        if (writer == NULL || c->progress_ms < writer->progress_ms) {
            writer = c;
        }
    }
    return writer;
}

/* Make room for a connection from peer: evict while its address or the server is full. */
static void http_make_room(struct http_server *srv, const struct sockaddr_storage *peer)
{
    for (;;) {
        struct http_conn *victim = NULL;
        size_t same = 0;

        for (struct http_conn *c = srv->conns; c != NULL; c = c->next) {
            same += http_same_peer(&c->peer, peer);
        }
        if (same >= HTTP_MAX_PER_PEER) {
            victim = http_victim(srv, peer);
        } else if (srv->nconns >= HTTP_MAX_CONNECTIONS) {
            victim = http_victim(srv, NULL);
        }
        if (victim == NULL) {
            return;
        }
        srv->stats.evicted++;
        if (!victim->answered) {
            /* It has not asked yet: tell it to come back, without waiting for it to read. */
            uv_buf_t b = uv_buf_init((char *)(uintptr_t)http_busy, sizeof(http_busy) - 1);

            http_conn_drain(victim);
            uv_try_write((uv_stream_t *)&victim->tcp, &b, 1);
        }
        http_conn_close(victim, victim->answered && http_conn_unsent(victim) > 0);
    }
}

/* Whatever the client sent before we accepted (a scrape's whole request, usually): take it
 * now, so that a complete request is answered at once and never counts as incomplete. */
static void http_conn_read_now(struct http_conn *c)
{
    uv_os_fd_t fd;
    ssize_t n;

    if (uv_fileno((uv_handle_t *)&c->tcp, &fd) != 0) {
        return;
    }
    do {
        n = recv(fd, c->req + c->len, sizeof(c->req) - 1 - c->len, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        http_conn_got(c, (size_t)n);
    }
}

static void http_on_connection(uv_stream_t *listener, int status)
{
    struct http_server *srv = listener->data;
    struct http_conn *c;
    int namelen;

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
    namelen = (int)sizeof(c->peer);
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0 ||
        uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &namelen) != 0) {
        srv->stats.errors++;
        /* Not linked yet: close the handles directly. */
        c->srv = NULL;
        c->closing = 2;
        uv_close((uv_handle_t *)&c->tcp, http_on_handle_closed);
        uv_close((uv_handle_t *)&c->timer, http_on_handle_closed);
        return;
    }
    http_make_room(srv, &c->peer);
    c->prev = srv->last;
    if (srv->last != NULL) {
        srv->last->next = c;
    } else {
        srv->conns = c;
    }
    srv->last = c;
    srv->nconns++;
    uv_timer_start(&c->timer, http_on_deadline, HTTP_HEADER_DEADLINE_MS, 0);
    http_conn_read_now(c);
    if (!c->answered && c->closing == 0) {
        uv_read_start((uv_stream_t *)&c->tcp, http_on_alloc, http_on_read);
    }
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
    /* The connections outlive the server until their handles close: they forget it and
     * release their renders themselves. */
    while (srv->conns != NULL) {
        struct http_conn *c = srv->conns;

        http_conn_close(c, false);
        c->srv = NULL;
    }
    http_body_unref(srv->cur, NULL);
    uv_close((uv_handle_t *)srv->listener, http_on_listener_closed);
    free(srv);
}

void http_server_stats(const struct http_server *srv, struct http_stats *out)
{
    *out = srv->stats;
}

void http_server_set_health(struct http_server *srv, http_health_fn fn, void *arg)
{
    srv->health = fn;
    srv->health_arg = arg;
}
