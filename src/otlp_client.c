/* SPDX-License-Identifier: MIT */
/* The OTLP/HTTP client. One request is in flight at a time, on a connection of its own
 * ("Connection: close"): batches come once per export interval, so keeping connections alive
 * would save little and cost a state machine. A connection given up (its deadline passed, the
 * client closing) is detached from the client and frees itself when libuv is done with its
 * handle and its name lookup, so nothing waits for a dead or silent collector. */
#include "src/otlp_client.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "src/base/diag.h"
#include "src/base/http_response.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"

struct otlp_batch {
    bool traces;
    char *body; /* owned */
    size_t len;
    unsigned attempts;
    uint64_t not_before_ms; /* uv_now time before which it is not tried (a backoff) */
};

struct otlp_conn {
    struct otlp_client *c; /* NULL once given up */
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_write_t write;
    uv_getaddrinfo_t gai;
    bool gai_pending;
    bool tcp_open;
    int refs;  /* the tcp handle, and the lookup while it is pending */
    char *req; /* the whole request, head and body: owned */
    size_t req_len;
    struct http_response *resp;
    char rbuf[4096];
};

struct otlp_client {
    uv_loop_t *loop;
    struct otlp_client_opts o;
    struct otlp_batch q[OTLP_QUEUE_MAX]; /* oldest first; q[0] is the one tried */
    size_t nq;
    struct otlp_conn *conn; /* in flight for q[0], or NULL */
    uv_timer_t *retry;      /* wakes the queue after a backoff */
    uv_timer_t *deadline;   /* the request's timeout */
    uv_timer_t *grace;      /* closing: the end of the grace period */
    int open_handles;
    bool closing;
    bool closed;
    struct otlp_stats stats;
};

static void otlp_kick(struct otlp_client *c);

/* --- parsing: endpoints, headers, the environment ---------------------------------------- */

int otlp_endpoint_parse(const char *url, bool base, const char *signal, struct otlp_endpoint *out,
                        char **err)
{
    const char *s = url, *host, *host_end, *p;
    uint64_t port = 80;

    memset(out, 0, sizeof(*out));
    for (const char *q = url; *q != '\0'; q++) {
        if ((unsigned char)*q <= 0x20 || *q == 0x7f) {
            *err =
                xasprintf("OTLP endpoint '%s': spaces and control characters are not allowed", url);
            return -EINVAL;
        }
    }
    if (strncasecmp(s, "https://", 8) == 0) {
        *err = xasprintf("OTLP endpoint '%s': https is not supported (nctop has no TLS built "
                         "in): send to a local OpenTelemetry Collector over http:// and let it "
                         "forward over TLS",
                         url);
        return -EINVAL;
    }
    if (strncasecmp(s, "http://", 7) != 0) {
        *err = xasprintf("OTLP endpoint '%s': want http://HOST[:PORT][/PATH]", url);
        return -EINVAL;
    }
    s += 7;
    if (*s == '[') {
        host = s + 1;
        host_end = strchr(host, ']');
        if (host_end == NULL) {
            goto bad;
        }
        p = host_end + 1;
    } else {
        host = s;
        host_end = host + strcspn(host, ":/?#");
        p = host_end;
    }
    if (host_end == host || (size_t)(host_end - host) >= sizeof(out->host) ||
        memchr(host, '@', (size_t)(host_end - host)) != NULL) {
        goto bad;
    }
    memcpy(out->host, host, (size_t)(host_end - host));
    if (*p == ':') {
        char num[8];
        size_t n = strcspn(p + 1, "/?#");

        if (n == 0 || n >= sizeof(num)) {
            goto bad;
        }
        memcpy(num, p + 1, n);
        num[n] = '\0';
        if (util_parse_u64(num, 1, 65535, &port) != 0) {
            goto bad;
        }
        p += 1 + n;
    }
    if ((*p != '\0' && *p != '/') || strpbrk(p, "?#") != NULL) {
        goto bad; /* a query or fragment on an OTLP endpoint */
    }
    out->port = (uint16_t)port;
    if (base) {
        size_t l = strlen(p);
        snprintf(out->path, sizeof(out->path), "%s%sv1/%s", p, l > 0 && p[l - 1] == '/' ? "" : "/",
                 signal);
    } else {
        snprintf(out->path, sizeof(out->path), "%s", *p != '\0' ? p : "/");
    }
    if (strchr(out->host, ':') != NULL) {
        snprintf(out->authority, sizeof(out->authority), "[%s]:%u", out->host, (unsigned)port);
    } else {
        snprintf(out->authority, sizeof(out->authority), "%s:%u", out->host, (unsigned)port);
    }
    return 0;
bad:
    *err = xasprintf("OTLP endpoint '%s': want http://HOST[:PORT][/PATH] (an IPv6 address in "
                     "brackets, a port 1..65535)",
                     url);
    return -EINVAL;
}

static int otlp_hexval(char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    if (ch >= 'A' && ch <= 'F') {
        return ch - 'A' + 10;
    }
    return -1;
}

/* One "k1=v1,k2=v2" list (keys tokens, values percent-encoded, blanks around either
 * ignored, no control characters), each pair handed to fn, which returns 0 or -1 when the
 * result has no room. what names the variable in the errors. */
typedef int (*otlp_pair_fn)(void *ctx, const char *key, const char *val);

static int otlp_pairs_parse(const char *spec, const char *what, size_t room, otlp_pair_fn fn,
                            void *ctx, char **err)
{
    const char *s = spec;

    while (*s != '\0') {
        const char *end = s + strcspn(s, ",");
        const char *eq = memchr(s, '=', (size_t)(end - s));
        char key[128], val[1024];
        size_t kl = 0, vl = 0;

        if (eq == NULL) {
            goto bad;
        }
        const char *k0 = s, *k1 = eq;
        while (k0 < k1 && (*k0 == ' ' || *k0 == '\t')) {
            k0++;
        }
        while (k1 > k0 && (k1[-1] == ' ' || k1[-1] == '\t')) {
            k1--;
        }
        for (const char *k = k0; k < k1; k++) {
            if (!((*k >= '0' && *k <= '9') || (*k >= 'a' && *k <= 'z') ||
                  (*k >= 'A' && *k <= 'Z') || strchr("!#$%&'*+-.^_`|~", *k) != NULL) ||
                kl + 1 >= sizeof(key)) {
                goto bad;
            }
            key[kl++] = *k;
        }
        key[kl] = '\0';
        for (const char *v = eq + 1; v < end; v++) {
            int ch = (unsigned char)*v;

            if (*v == '%' && v + 2 < end && otlp_hexval(v[1]) >= 0 && otlp_hexval(v[2]) >= 0) {
                ch = otlp_hexval(v[1]) * 16 + otlp_hexval(v[2]);
                v += 2;
            }
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f || vl + 1 >= sizeof(val)) {
                goto bad;
            }
            val[vl++] = (char)ch;
        }
        while (vl > 0 && (val[vl - 1] == ' ' || val[vl - 1] == '\t')) {
            vl--;
        }
        val[vl] = '\0';
        size_t skip = strspn(val, " \t");
        if (kl == 0) {
            goto bad;
        }
        if (fn(ctx, key, val + skip) != 0) {
            *err = xasprintf("%s: longer than %zu bytes", what, room - 1);
            return -EINVAL;
        }
        s = *end == ',' ? end + 1 : end;
    }
    return 0;
bad:
    *err = xasprintf("%s '%s': want key=value pairs separated by commas (values "
                     "percent-encoded, no control characters)",
                     what, spec);
    return -EINVAL;
}

/* Where a list of pairs goes: len bytes at out, used so far. */
struct otlp_pairs_out {
    char *out;
    size_t len;
    size_t used;
    size_t n;
};

static int otlp_header_line(void *ctx, const char *key, const char *val)
{
    struct otlp_pairs_out *o = ctx;
    int n = snprintf(o->out + o->used, o->len - o->used, "%s: %s\r\n", key, val);

    if (n < 0 || (size_t)n >= o->len - o->used) {
        return -1;
    }
    o->used += (size_t)n;
    o->n++;
    return 0;
}

int otlp_headers_parse(const char *spec, char *out, size_t len, char **err)
{
    struct otlp_pairs_out o = {.out = out, .len = len};

    out[0] = '\0';
    return otlp_pairs_parse(spec, "OTEL_EXPORTER_OTLP_HEADERS", len, otlp_header_line, &o, err);
}

/* A resource attribute: its key and value, each NUL-terminated, one after the other. */
static int otlp_resource_pair(void *ctx, const char *key, const char *val)
{
    struct otlp_pairs_out *o = ctx;
    size_t kl = strlen(key) + 1U, vl = strlen(val) + 1U;

    if (kl + vl >= o->len - o->used) {
        return -1;
    }
    memcpy(o->out + o->used, key, kl);
    memcpy(o->out + o->used + kl, val, vl);
    o->used += kl + vl;
    o->out[o->used] = '\0';
    o->n++;
    return 0;
}

int otlp_resource_parse(const char *spec, char *out, size_t len, size_t *n, char **err)
{
    struct otlp_pairs_out o = {.out = out, .len = len};
    int rc;

    out[0] = '\0';
    rc = otlp_pairs_parse(spec, "OTEL_RESOURCE_ATTRIBUTES", len, otlp_resource_pair, &o, err);
    *n = rc == 0 ? o.n : 0;
    return rc;
}

static const char *otlp_env(const char *name)
{
    const char *v = secure_getenv(name);

    return v != NULL && *v != '\0' ? v : NULL;
}

static int otlp_env_ms(const char *name, uint64_t min, uint64_t *out, char **err)
{
    const char *v = otlp_env(name);

    if (v == NULL) {
        return 0;
    }
    if (util_parse_u64(v, min, 86400000, out) != 0) {
        *err = xasprintf("%s '%s': want milliseconds, %llu to 86400000", name, v,
                         (unsigned long long)min);
        return -EINVAL;
    }
    return 0;
}

int otlp_client_opts_env(const char *cli_url, struct otlp_client_opts *out, char **err)
{
    const char *base = cli_url != NULL ? cli_url : otlp_env("NC_OTLP_ENDPOINT");
    const char *m = otlp_env("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT");
    const char *t = otlp_env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    const char *h = otlp_env("OTEL_EXPORTER_OTLP_HEADERS");
    const char *ra = otlp_env("OTEL_RESOURCE_ATTRIBUTES");
    const char *tr = otlp_env("NC_OTLP_TRACES");
    int rc;

    memset(out, 0, sizeof(*out));
    if (base == NULL) {
        base = otlp_env("OTEL_EXPORTER_OTLP_ENDPOINT");
    }
    if (base == NULL && m == NULL) {
        return 0;
    }
    rc = m != NULL ? otlp_endpoint_parse(m, false, "metrics", &out->metrics, err)
                   : otlp_endpoint_parse(base, true, "metrics", &out->metrics, err);
    if (rc != 0) {
        return rc;
    }
    out->traces_on = tr != NULL && (strcmp(tr, "1") == 0 || strcasecmp(tr, "true") == 0 ||
                                    strcasecmp(tr, "yes") == 0 || strcasecmp(tr, "on") == 0);
    if (out->traces_on) {
        if (t != NULL) {
            rc = otlp_endpoint_parse(t, false, "traces", &out->traces, err);
        } else if (base != NULL) {
            rc = otlp_endpoint_parse(base, true, "traces", &out->traces, err);
        } else {
            *err = xstrdup("NC_OTLP_TRACES: no endpoint for traces (set "
                           "OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)");
            rc = -EINVAL;
        }
        if (rc != 0) {
            return rc;
        }
    }
    out->interval_ms = OTLP_DEFAULT_INTERVAL_MS;
    out->timeout_ms = OTLP_DEFAULT_TIMEOUT_MS;
    if (otlp_env_ms("OTEL_METRIC_EXPORT_INTERVAL", 100, &out->interval_ms, err) != 0 ||
        otlp_env_ms("OTEL_EXPORTER_OTLP_TIMEOUT", 10, &out->timeout_ms, err) != 0) {
        return -EINVAL;
    }
    if (h != NULL && otlp_headers_parse(h, out->headers, sizeof(out->headers), err) != 0) {
        return -EINVAL;
    }
    if (ra != NULL &&
        otlp_resource_parse(ra, out->resource, sizeof(out->resource), &out->nresource, err) != 0) {
        return -EINVAL;
    }
    out->service_name = otlp_env("OTEL_SERVICE_NAME");
    return 1;
}

/* --- connections --------------------------------------------------------------------------- */

static void otlp_conn_unref(struct otlp_conn *k)
{
    if (--k->refs > 0) {
        return;
    }
    http_response_free(k->resp);
    free(k->req);
    free(k);
}

static void otlp_on_tcp_close(uv_handle_t *h)
{
    otlp_conn_unref(h->data);
}

/* Detach k from its client: its callbacks do nothing more, and it frees itself. */
static void otlp_conn_abandon(struct otlp_conn *k)
{
    if (k == NULL) {
        return;
    }
    k->c = NULL;
    if (k->gai_pending) {
        uv_cancel((uv_req_t *)&k->gai); /* may be too late: its callback then frees */
    }
    if (k->tcp_open) {
        k->tcp_open = false;
        uv_close((uv_handle_t *)&k->tcp, otlp_on_tcp_close);
    }
}

static void otlp_set_error(struct otlp_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void otlp_set_error(struct otlp_client *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->stats.last_error, sizeof(c->stats.last_error), fmt, ap);
    va_end(ap);
    diag_warn("otlp: %s", c->stats.last_error);
}

static void otlp_pop(struct otlp_client *c)
{
    free(c->q[0].body);
    memmove(&c->q[0], &c->q[1], (c->nq - 1) * sizeof(c->q[0]));
    c->nq--;
    c->stats.queued = c->nq;
}

static const struct otlp_endpoint *otlp_ep(const struct otlp_client *c, const struct otlp_batch *b)
{
    return b->traces ? &c->o.traces : &c->o.metrics;
}

/* The request of q[0] ended: status (the HTTP status, 0 when none came) and, without a 2xx,
 * why. retry_ms: a Retry-After the answer carried (0: none). */
static void otlp_done(struct otlp_client *c, int status, uint64_t retry_ms, const char *why)
{
    struct otlp_batch *b = &c->q[0];
    const struct otlp_endpoint *ep = otlp_ep(c, b);
    bool retryable =
        status == 0 || status == 429 || status == 502 || status == 503 || status == 504;

    otlp_conn_abandon(c->conn);
    c->conn = NULL;
    uv_timer_stop(c->deadline);
    if (status >= 200 && status < 300) {
        c->stats.exported++;
        otlp_pop(c);
        otlp_kick(c);
        return;
    }
    if (status != 0) {
        otlp_set_error(c, "HTTP %d from http://%s%s", status, ep->authority, ep->path);
    } else {
        otlp_set_error(c, "%s (http://%s%s)", why, ep->authority, ep->path);
    }
    if (retryable && !c->closing && b->attempts < OTLP_MAX_ATTEMPTS) {
        uint64_t delay = OTLP_BACKOFF_FIRST_MS << (b->attempts - 1);

        delay = delay > OTLP_BACKOFF_MAX_MS ? OTLP_BACKOFF_MAX_MS : delay;
        if (retry_ms > delay) {
            delay = retry_ms > OTLP_RETRY_AFTER_MAX_MS ? OTLP_RETRY_AFTER_MAX_MS : retry_ms;
        }
        c->stats.retries++;
        b->not_before_ms = uv_now(c->loop) + delay;
    } else {
        c->stats.dropped++;
        otlp_pop(c);
    }
    otlp_kick(c);
}

static void otlp_on_deadline(uv_timer_t *t)
{
    struct otlp_client *c = t->data;
    char why[64];

    if (c->conn == NULL) {
        return;
    }
    snprintf(why, sizeof(why), "no answer within %llu ms", (unsigned long long)c->o.timeout_ms);
    otlp_done(c, 0, 0, why);
}

static void otlp_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct otlp_conn *k = h->data;

    (void)suggested;
    *buf = uv_buf_init(k->rbuf, sizeof(k->rbuf));
}

static void otlp_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct otlp_conn *k = s->data;
    struct otlp_client *c = k->c;
    char why[128];
    int rc;

    (void)buf;
    if (c == NULL || nread == 0) {
        return;
    }
    if (nread == UV_EOF) {
        rc = http_response_eof(k->resp);
    } else if (nread < 0) {
        snprintf(why, sizeof(why), "reading the answer: %s", uv_strerror((int)nread));
        otlp_done(c, 0, 0, why);
        return;
    } else {
        rc = http_response_feed(k->resp, k->rbuf, (size_t)nread, NULL);
    }
    if (rc == 0) {
        return;
    }
    if (rc < 0) {
        snprintf(why, sizeof(why), "%s",
                 rc == -EPIPE ? "the connection closed before a whole answer"
                              : "an answer that is not HTTP/1.1 or over the limits");
        otlp_done(c, 0, 0, why);
        return;
    }
    uint64_t ra = 0;
    int status = http_response_status(k->resp);
    if (http_response_retry_after(k->resp, (int64_t)(util_real_ns() / UTIL_NS_PER_SEC), &ra) != 0) {
        ra = 0;
    }
    otlp_done(c, status, ra * 1000, NULL);
}

static void otlp_on_write(uv_write_t *w, int status)
{
    struct otlp_conn *k = w->data;
    char why[128];

    if (k->c == NULL || status == 0) {
        return;
    }
    snprintf(why, sizeof(why), "sending: %s", uv_strerror(status));
    otlp_done(k->c, 0, 0, why);
}

static void otlp_on_connect(uv_connect_t *req, int status)
{
    struct otlp_conn *k = req->data;
    struct otlp_client *c = k->c;
    char why[128];
    uv_buf_t buf;
    int rc;

    if (c == NULL) {
        return;
    }
    if (status != 0) {
        snprintf(why, sizeof(why), "connect: %s", uv_strerror(status));
        otlp_done(c, 0, 0, why);
        return;
    }
    buf = uv_buf_init(k->req, (unsigned)k->req_len);
    rc = uv_write(&k->write, (uv_stream_t *)&k->tcp, &buf, 1, otlp_on_write);
    if (rc == 0) {
        rc = uv_read_start((uv_stream_t *)&k->tcp, otlp_on_alloc, otlp_on_read);
    }
    if (rc != 0) {
        snprintf(why, sizeof(why), "sending: %s", uv_strerror(rc));
        otlp_done(c, 0, 0, why);
    }
}

static void otlp_connect(struct otlp_conn *k, const struct sockaddr *sa)
{
    char why[128];
    int rc = uv_tcp_connect(&k->connect, &k->tcp, sa, otlp_on_connect);

    if (rc != 0) {
        snprintf(why, sizeof(why), "connect: %s", uv_strerror(rc));
        otlp_done(k->c, 0, 0, why);
    }
}

static void otlp_on_gai(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    struct otlp_conn *k = req->data;
    char why[300];

    k->gai_pending = false;
    if (k->c != NULL) {
        if (status != 0 || res == NULL) {
            snprintf(why, sizeof(why), "cannot resolve %s: %s", otlp_ep(k->c, &k->c->q[0])->host,
                     uv_strerror(status != 0 ? status : UV_EAI_NONAME));
            otlp_done(k->c, 0, 0, why);
        } else {
            /* The first IPv4 address, else the first one: "localhost" may list ::1 first
             * for a collector that listens on 127.0.0.1 only. */
            const struct addrinfo *ai = res;
            for (const struct addrinfo *x = res; x != NULL; x = x->ai_next) {
                if (x->ai_family == AF_INET) {
                    ai = x;
                    break;
                }
            }
            otlp_connect(k, ai->ai_addr);
        }
    }
    uv_freeaddrinfo(res);
    otlp_conn_unref(k);
}

/* Try q[0] now. */
static void otlp_start(struct otlp_client *c)
{
    struct otlp_batch *b = &c->q[0];
    const struct otlp_endpoint *ep = otlp_ep(c, b);
    struct otlp_conn *k = xcalloc(1, sizeof(*k));
    struct sockaddr_storage ss;
    char *head;
    size_t hlen;

    b->attempts++;
    k->c = c;
    k->resp = http_response_new(OTLP_MAX_RESPONSE_BYTES);
    head = xasprintf("POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: nctop/%s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n%s\r\n",
                     ep->path, ep->authority, NCTOP_VERSION, b->len, c->o.headers);
    hlen = strlen(head);
    k->req_len = hlen + b->len;
    k->req = xmalloc(k->req_len);
    memcpy(k->req, head, hlen);
    memcpy(k->req + hlen, b->body, b->len);
    free(head);
    uv_tcp_init(c->loop, &k->tcp);
    k->tcp.data = k;
    k->connect.data = k;
    k->write.data = k;
    k->gai.data = k;
    k->tcp_open = true;
    k->refs = 1;
    c->conn = k;
    uv_timer_start(c->deadline, otlp_on_deadline, c->o.timeout_ms, 0);

    if (uv_ip4_addr(ep->host, ep->port, (struct sockaddr_in *)&ss) == 0 ||
        uv_ip6_addr(ep->host, ep->port, (struct sockaddr_in6 *)&ss) == 0) {
        otlp_connect(k, (const struct sockaddr *)&ss);
        return;
    }
    /* A name: looked up on libuv's worker threads, so the loop never waits for DNS. */
    struct addrinfo hints;
    char port[8];
    int rc;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%u", (unsigned)ep->port);
    k->gai_pending = true;
    k->refs++;
    rc = uv_getaddrinfo(c->loop, &k->gai, otlp_on_gai, ep->host, port, &hints);
    if (rc != 0) {
        char why[320];

        k->gai_pending = false;
        k->refs--;
        snprintf(why, sizeof(why), "cannot resolve %s: %s", ep->host, uv_strerror(rc));
        otlp_done(c, 0, 0, why);
    }
}

/* --- the queue ---------------------------------------------------------------------------- */

static void otlp_on_timer_close(uv_handle_t *h)
{
    struct otlp_client *c = h->data;

    free(h);
    if (--c->open_handles == 0) {
        free(c);
    }
}

static void otlp_close_handles(struct otlp_client *c)
{
    if (c->closed) {
        return;
    }
    c->closed = true;
    otlp_conn_abandon(c->conn);
    c->conn = NULL;
    while (c->nq > 0) {
        otlp_pop(c);
    }
    uv_close((uv_handle_t *)c->retry, otlp_on_timer_close);
    uv_close((uv_handle_t *)c->deadline, otlp_on_timer_close);
    uv_close((uv_handle_t *)c->grace, otlp_on_timer_close);
}

static void otlp_on_retry(uv_timer_t *t)
{
    otlp_kick(t->data);
}

/* Start the next request if none is in flight and q[0] is due. */
static void otlp_kick(struct otlp_client *c)
{
    while (c->conn == NULL && c->nq > 0) {
        uint64_t now = uv_now(c->loop);

        if (c->q[0].not_before_ms <= now) {
            otlp_start(c);
            return;
        }
        if (!c->closing) {
            uv_timer_start(c->retry, otlp_on_retry, c->q[0].not_before_ms - now, 0);
            return;
        }
        /* Closing: no backoff is waited for. */
        c->stats.dropped++;
        otlp_set_error(c, "a batch waiting for a retry was dropped at exit");
        otlp_pop(c);
    }
    if (c->closing && c->conn == NULL && c->nq == 0) {
        otlp_close_handles(c);
    }
}

static void otlp_on_grace(uv_timer_t *t)
{
    struct otlp_client *c = t->data;

    if (c->nq > 0) {
        c->stats.dropped += c->nq;
        otlp_set_error(c, "%zu batch(es) not sent before exit", c->nq);
    }
    otlp_close_handles(c);
}

static uv_timer_t *otlp_timer(struct otlp_client *c)
{
    uv_timer_t *t = xcalloc(1, sizeof(*t));

    uv_timer_init(c->loop, t);
    t->data = c;
    c->open_handles++;
    return t;
}

struct otlp_client *otlp_client_new(uv_loop_t *loop, const struct otlp_client_opts *o)
{
    struct otlp_client *c = xcalloc(1, sizeof(*c));

    c->loop = loop;
    c->o = *o;
    c->retry = otlp_timer(c);
    c->deadline = otlp_timer(c);
    c->grace = otlp_timer(c);
    return c;
}

void otlp_client_submit(struct otlp_client *c, bool traces, char *body, size_t len)
{
    if (c->closing) {
        free(body);
        c->stats.dropped++;
        return;
    }
    if (c->nq == OTLP_QUEUE_MAX) {
        /* The oldest batch not in flight goes: newer figures supersede it. */
        size_t victim = c->conn != NULL ? 1 : 0;

        free(c->q[victim].body);
        memmove(&c->q[victim], &c->q[victim + 1], (c->nq - victim - 1) * sizeof(c->q[0]));
        c->nq--;
        c->stats.dropped++;
        /* The cause of a full queue (a failing collector) says more than the queue does. */
        if (c->stats.last_error[0] == '\0') {
            otlp_set_error(c, "queue full (%d batches): the oldest was dropped", OTLP_QUEUE_MAX);
        } else {
            diag_warn("otlp: queue full (%d batches): the oldest was dropped", OTLP_QUEUE_MAX);
        }
    }
    c->q[c->nq] = (struct otlp_batch){.traces = traces, .body = body, .len = len};
    c->nq++;
    c->stats.queued = c->nq;
    otlp_kick(c);
}

void otlp_client_note_spans(struct otlp_client *c, size_t n)
{
    c->stats.spans += n;
}

const struct otlp_stats *otlp_client_stats(const struct otlp_client *c)
{
    return &c->stats;
}

void otlp_client_close(struct otlp_client *c, uint64_t grace_ms)
{
    if (c == NULL || c->closing) {
        return;
    }
    c->closing = true;
    uv_timer_stop(c->retry);
    if (c->conn == NULL) {
        otlp_kick(c); /* drops what waits for a backoff; closes when nothing is left */
    }
    if (!c->closed) {
        uv_timer_start(c->grace, otlp_on_grace, grace_ms, 0);
    }
}
