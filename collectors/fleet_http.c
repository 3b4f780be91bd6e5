/* SPDX-License-Identifier: MIT */
/* One GET with a deadline: a non-blocking socket, poll() until the time left runs out, the
 * answer read by the response parser of src/base/http_response. The exchange is HTTP/1.0 with
 * the connection closed by the server; one connection per query (a Prometheus is near and
 * queries are few). */
#include "collectors/fleet_http.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/base/http_response.h"
#include "src/base/util.h"
#include "src/base/xalloc.h"

int fleet_url_parse(const char *url, struct fleet_url *out, char **err)
{
    const char *p = url, *host, *hend, *slash;
    size_t hlen, plen;
    uint64_t port = 80;

    memset(out, 0, sizeof(*out));
    if (strncasecmp(p, "https://", 8) == 0) {
        *err = xasprintf("'%s': https is not supported (nctop speaks plain http to Prometheus: "
                         "use an http:// address, a local proxy for TLS)",
                         url);
        return -EINVAL;
    }
    if (strncasecmp(p, "http://", 7) != 0) {
        *err = xasprintf("'%s' is not an http://HOST[:PORT] address", url);
        return -EINVAL;
    }
    p += 7;
    slash = p + strcspn(p, "/?#");
    host = p;
    if (*p == '[') {
        /* [v6 address]:port */
        hend = memchr(p, ']', (size_t)(slash - p));
        if (hend == NULL) {
            *err = xasprintf("'%s': an IPv6 address without its closing ']'", url);
            return -EINVAL;
        }
        host = p + 1;
        hlen = (size_t)(hend - host);
        p = hend + 1;
    } else {
        hend = memchr(p, ':', (size_t)(slash - p));
        hlen = (size_t)((hend != NULL ? hend : slash) - host);
        p = hend != NULL ? hend : slash;
    }
    if (hlen == 0 || hlen >= sizeof(out->host) || memchr(host, '@', hlen) != NULL) {
        *err = xasprintf("'%s': no host name (http://HOST[:PORT])", url);
        return -EINVAL;
    }
    memcpy(out->host, host, hlen);
    if (*p == ':') {
        char digits[8];
        size_t dlen = (size_t)(slash - p - 1);

        if (dlen == 0 || dlen >= sizeof(digits)) {
            *err = xasprintf("'%s': not a port number", url);
            return -EINVAL;
        }
        memcpy(digits, p + 1, dlen);
        digits[dlen] = '\0';
        if (util_parse_u64(digits, 1, 65535, &port) != 0) {
            *err = xasprintf("'%s': '%s' is not a port number", url, digits);
            return -EINVAL;
        }
    } else if (p != slash) {
        *err = xasprintf("'%s' is not an http://HOST[:PORT] address", url);
        return -EINVAL;
    }
    snprintf(out->port, sizeof(out->port), "%u", (unsigned)port);
    if (*slash == '?' || *slash == '#') {
        *err = xasprintf("'%s': a query or fragment has no place in the address", url);
        return -EINVAL;
    }
    /* A path prefix (a Prometheus behind a proxy at /prometheus), without its last '/'. */
    plen = strlen(slash);
    while (plen > 0 && slash[plen - 1] == '/') {
        plen--;
    }
    if (plen >= sizeof(out->prefix) || strpbrk(slash, " \r\n\t") != NULL) {
        *err = xasprintf("'%s': the path is too long or holds blanks", url);
        return -EINVAL;
    }
    memcpy(out->prefix, slash, plen);
    return 0;
}

char *fleet_url_encode(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = xmalloc(3 * n + 1), *d = out;

    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            *d++ = (char)*p;
        } else {
            *d++ = '%';
            *d++ = hex[*p >> 4];
            *d++ = hex[*p & 15];
        }
    }
    *d = '\0';
    return out;
}

/* Wait for events on fd until deadline_ns. Returns 0, or -ETIMEDOUT. */
static int fleet_http_wait(int fd, short events, uint64_t deadline_ns)
{
    for (;;) {
        uint64_t now = util_mono_ns();
        struct pollfd pfd = {.fd = fd, .events = events};
        int ms, rc;

        if (now >= deadline_ns) {
            return -ETIMEDOUT;
        }
        ms = (int)((deadline_ns - now + UTIL_NS_PER_MS - 1) / UTIL_NS_PER_MS);
        rc = poll(&pfd, 1, ms);
        if (rc > 0) {
            return 0;
        }
        if (rc < 0 && errno != EINTR) {
            return -errno;
        }
    }
}

/* A connected socket to u by deadline_ns, or -errno. */
static int fleet_http_connect(const struct fleet_url *u, uint64_t deadline_ns, char **err)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG}, *res = NULL;
    int rc, fd = -1, last = -ECONNREFUSED;

    rc = getaddrinfo(u->host, u->port, &hints, &res);
    if (rc != 0) {
        *err = xasprintf("%s: %s", u->host, gai_strerror(rc));
        return -EHOSTUNREACH;
    }
    for (const struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
        int soerr = 0;
        socklen_t sl = sizeof(soerr);

        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            last = -errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            break;
        }
        if (errno == EINPROGRESS) {
            rc = fleet_http_wait(fd, POLLOUT, deadline_ns);
            if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) {
                break;
            }
            last = rc != 0 ? rc : -(soerr != 0 ? soerr : ECONNREFUSED);
        } else {
            last = -errno;
        }
        close(fd);
        fd = -1;
        if (last == -ETIMEDOUT) {
            break; /* no time left for the other addresses */
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        *err = last == -ETIMEDOUT ? xasprintf("connecting: no answer in time")
                                  : xasprintf("connecting: %s", strerror(-last));
        return last;
    }
    return fd;
}

int fleet_http_get(const struct fleet_url *u, const char *target, uint64_t deadline_ns, int *status,
                   char **body, size_t *len, char **err)
{
    struct http_response *resp = NULL;
    char *req = NULL, *buf = NULL;
    size_t sent = 0, rlen, cap = 65536;
    int fd, rc = 0;
    bool v6 = strchr(u->host, ':') != NULL;

    *body = NULL;
    *len = 0;
    fd = fleet_http_connect(u, deadline_ns, err);
    if (fd < 0) {
        return fd;
    }
    req =
        xasprintf("GET %s%s HTTP/1.0\r\nHost: %s%s%s:%s\r\nAccept: application/json\r\n"
                  "User-Agent: nctop/%s\r\nConnection: close\r\n\r\n",
                  u->prefix, target, v6 ? "[" : "", u->host, v6 ? "]" : "", u->port, NCTOP_VERSION);
    rlen = strlen(req);
    while (sent < rlen) {
        ssize_t w = send(fd, req + sent, rlen - sent, MSG_NOSIGNAL);

        if (w > 0) {
            sent += (size_t)w;
        } else if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
            if ((rc = fleet_http_wait(fd, POLLOUT, deadline_ns)) != 0) {
                goto out;
            }
        } else {
            rc = -errno;
            goto out;
        }
    }
    /* The answer, fed to the response parser as it comes, within the deadline and the size
     * bound; an HTTP/1.0 exchange, so the body ends with the close. */
    resp = http_response_new(FLEET_HTTP_MAX_BYTES);
    buf = xmalloc(cap);
    for (;;) {
        ssize_t r = recv(fd, buf, cap, 0);
        int done;

        if (r > 0) {
            done = http_response_feed(resp, buf, (size_t)r, NULL);
        } else if (r == 0) {
            done = http_response_eof(resp);
        } else if (errno == EAGAIN || errno == EINTR) {
            if ((rc = fleet_http_wait(fd, POLLIN, deadline_ns)) != 0) {
                goto out;
            }
            continue;
        } else {
            rc = -errno;
            goto out;
        }
        if (done < 0) {
            rc = done == -E2BIG ? -E2BIG : -EBADMSG;
            goto out;
        }
        if (done == 1) {
            break;
        }
    }
    {
        size_t blen = 0;
        const char *b = http_response_body(resp, &blen);

        *status = http_response_status(resp);
        *len = blen;
        *body = xmalloc(blen + 1);
        memcpy(*body, b, blen);
        (*body)[blen] = '\0';
    }
out:
    if (rc != 0) {
        *err = rc == -ETIMEDOUT ? xasprintf("no answer in time")
               : rc == -E2BIG
                   ? xasprintf("the answer is larger than %u MiB", FLEET_HTTP_MAX_BYTES >> 20)
               : rc == -EBADMSG ? xasprintf("the answer is not HTTP (is this Prometheus' address?)")
                                : xasprintf("%s", strerror(-rc));
    }
    http_response_free(resp);
    free(req);
    free(buf);
    close(fd);
    return rc;
}
