/* SPDX-License-Identifier: MIT */
/* Fuzz the HTTP request handling of the Prometheus exporter (src/http.c) through its real
 * server on a loopback port: the input's first byte sets the size of the pieces the rest is
 * sent in (slow clients), the client then half-closes and reads. Every connection must end
 * with the server closing it, and every answer must start with an HTTP/1.1 status line. */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "src/http.h"
#include "tests/fuzz/fuzz_isolate.h"

#define FUZZ_HTTP_ROUNDS 20000 /* loop turns per request before it counts as a hang */

static uv_loop_t fuzz_loop;
static struct http_server *fuzz_srv;
static struct sockaddr_in fuzz_addr;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *fuzz_metrics(void *arg, size_t *len)
{
    static const char body[] = "# TYPE nctop_up gauge\nnctop_up 1\n";
    char *p = malloc(sizeof(body));

    (void)arg;
    if (p == NULL) {
        abort();
    }
    memcpy(p, body, sizeof(body));
    *len = sizeof(body) - 1;
    return p;
}

/* Listen on a free loopback port: a private one where allowed (fuzz_isolate.h), else the
 * machine's, where tests run side by side (try a few ports). */
static void fuzz_http_start(void)
{
    char spec[32];
    int rc = -1;

    /* As nctop's main does: a client that closes while the server writes is a write error
     * (EPIPE), not a SIGPIPE that kills the process. Without this, runs on a loaded machine
     * died now and then of a "deadly signal" whose input replays clean. */
    signal(SIGPIPE, SIG_IGN);
    if (!fuzz_isolate_net()) {
        fprintf(stderr, "fuzz_http: no private network: listening on the shared loopback\n");
    }
    if (uv_loop_init(&fuzz_loop) != 0) {
        abort();
    }
    for (int i = 0; i < 200 && rc != 0; i++) {
        int port = 20000 + (int)((getpid() * 7 + i * 131) % 40000);

        snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
        rc = http_server_start(&fuzz_loop, spec, fuzz_metrics, NULL, &fuzz_srv);
        if (rc == 0) {
            uv_ip4_addr("127.0.0.1", port, &fuzz_addr);
        }
    }
    if (rc != 0) {
        fprintf(stderr, "fuzz_http: no free port: %s\n", uv_strerror(rc));
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    char resp[1024], scratch[4096];
    size_t piece, sent = 0, got = 0;
    bool eof = false;
    int fd, rounds = 0;

    if (fuzz_srv == NULL) {
        fuzz_http_start();
    }
    if (size == 0) {
        return 0;
    }
    piece = (size_t)data[0] + 1U;
    data++;
    size--;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        abort();
    }
    /* Close with a reset: no TIME_WAIT left behind by millions of connections. */
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    if (connect(fd, (const struct sockaddr *)&fuzz_addr, sizeof(fuzz_addr)) != 0 &&
        errno != EINPROGRESS) {
        abort();
    }
    if (size == 0) {
        shutdown(fd, SHUT_WR); /* nothing to send: a client that says nothing */
    }
    while (!eof && rounds++ < FUZZ_HTTP_ROUNDS) {
        ssize_t n;

        if (sent < size) {
            size_t len = size - sent < piece ? size - sent : piece;

            n = send(fd, data + sent, len, MSG_NOSIGNAL);
            if (n > 0) {
                sent += (size_t)n;
                if (sent == size) {
                    shutdown(fd, SHUT_WR);
                }
            } else if (n < 0 && errno != EAGAIN && errno != ENOTCONN) {
                /* The server answered and closed before reading it all. */
                sent = size;
            }
        }
        /* One turn of the server's loop: it reads what came, answers, closes. Nothing waits
         * (the recv below neither): an answer not there yet is read on a later turn. A poll
         * of the client socket with no timeout here waited for nothing, a fifth of the
         * system calls of a run. */
        uv_run(&fuzz_loop, UV_RUN_NOWAIT);
        if (got < sizeof(resp) - 1) {
            n = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
        } else {
            n = recv(fd, scratch, sizeof(scratch), 0); /* a long answer: keep its start */
        }
        if (n > 0) {
            got += got < sizeof(resp) - 1 ? (size_t)n : 0;
        } else if (n == 0 || (n < 0 && errno != EAGAIN)) {
            eof = true;
        }
    }
    if (!eof) {
        fprintf(stderr, "fuzz_http: the server neither answered nor closed\n");
        abort();
    }
    resp[got] = '\0';
    if (got > 0 && (strncmp(resp, "HTTP/1.1 ", 9) != 0 || got < 12)) {
        fprintf(stderr, "fuzz_http: a malformed answer: %.40s\n", resp);
        abort();
    }
    close(fd);
    uv_run(&fuzz_loop, UV_RUN_NOWAIT);
    return 0;
}
