/* SPDX-License-Identifier: MIT */
/* The exporter's HTTP side: the pure request parser over good, bad, partial and hostile bytes,
 * and a live server on the loop (shared responses, limits, deadlines). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "src/http.h"

static int test_parse(const char *s, struct http_request *r)
{
    return http_parse_request(s, strlen(s), r);
}

static void test_parse_routes(void **state)
{
    struct http_request r;

    (void)state;
    assert_int_equal(test_parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r), 1);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.route, HTTP_ROUTE_METRICS);
    assert_false(r.head);
    assert_int_equal(r.header_bytes, strlen("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));

    assert_int_equal(test_parse("HEAD /metrics?x=1 HTTP/1.0\n\n", &r), 1);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.route, HTTP_ROUTE_METRICS);
    assert_true(r.head);

    assert_int_equal(test_parse("GET / HTTP/1.1\r\n\r\n", &r), 1);
    assert_int_equal(r.route, HTTP_ROUTE_INDEX);
    assert_int_equal(test_parse("GET /metricsx HTTP/1.1\r\n\r\n", &r), 1);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.route, HTTP_ROUTE_NONE);
    assert_int_equal(test_parse("POST /metrics HTTP/1.1\r\n\r\n", &r), 1);
    assert_int_equal(r.status, 405);
}

/* /healthz is a route of its own (a query string is ignored), /health and /healthzx are not. */
static void test_issue_16_healthz_route(void **state)
{
    struct http_request r;

    (void)state;
    assert_int_equal(test_parse("GET /healthz HTTP/1.1\r\n\r\n", &r), 1);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.route, HTTP_ROUTE_HEALTHZ);
    assert_int_equal(test_parse("HEAD /healthz?verbose=1 HTTP/1.0\n\n", &r), 1);
    assert_int_equal(r.route, HTTP_ROUTE_HEALTHZ);
    assert_true(r.head);
    assert_int_equal(test_parse("GET /health HTTP/1.1\r\n\r\n", &r), 1);
    assert_int_equal(r.status, 404);
    assert_int_equal(test_parse("GET /healthzx HTTP/1.1\r\n\r\n", &r), 1);
    assert_int_equal(r.status, 404);
}

static void test_parse_bad_and_partial(void **state)
{
    static const char *const bad[] = {
        "garbage\r\n\r\n",
        "GET /metrics\r\n\r\n",
        "GET metrics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/2.0\r\n\r\n",
        "GET /metrics HTTP/1.1 x\r\n\r\n",
        "GET  /metrics HTTP/1.1\r\n\r\n",
        "GET /metrics HTTP/1.11\r\n\r\n",
        "\r\n\r\n",
    };
    static const char nul[] = "GET /metrics\0 HTTP/1.1\r\n\r\n";
    struct http_request r;
    char *big;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(test_parse(bad[i], &r), 1);
        assert_int_equal(r.status, 400);
    }
    assert_int_equal(http_parse_request(nul, sizeof(nul) - 1, &r), 1);
    assert_int_equal(r.status, 400);

    /* Every proper prefix of a good request needs more bytes. */
    {
        const char *good = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";

        for (size_t n = 0; n < strlen(good); n++) {
            assert_int_equal(http_parse_request(good, n, &r), 0);
        }
    }

    /* Headers that never end: 431 once the bound is reached, never a read past len. */
    big = malloc(HTTP_MAX_REQUEST_BYTES * 2);
    assert_non_null(big);
    memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
    memset(big + 26, 'a', HTTP_MAX_REQUEST_BYTES * 2 - 26);
    assert_int_equal(http_parse_request(big, HTTP_MAX_REQUEST_BYTES - 2, &r), 0);
    assert_int_equal(http_parse_request(big, HTTP_MAX_REQUEST_BYTES - 1, &r), 1);
    assert_int_equal(r.status, 431);
    assert_int_equal(http_parse_request(big, HTTP_MAX_REQUEST_BYTES * 2, &r), 1);
    assert_int_equal(r.status, 431);
    free(big);
}

/* --- a live server ----------------------------------------------------------------------- */

#define TEST_BODY_BYTES (1U << 20)

static char *test_render(void *arg, size_t *len)
{
    char *b = malloc(TEST_BODY_BYTES);

    (void)arg;
    assert_non_null(b);
    memset(b, 'x', TEST_BODY_BYTES);
    *len = TEST_BODY_BYTES;
    return b;
}

static int test_port_of(int fd, bool peer)
{
    struct sockaddr_in a;
    socklen_t n = sizeof(a);

    assert_int_equal(peer ? getpeername(fd, (struct sockaddr *)&a, &n)
                          : getsockname(fd, (struct sockaddr *)&a, &n),
                     0);
    return ntohs(a.sin_port);
}

/* The kernel's view of the server's end of the connection to client port cport: 0 and its
 * inode (0 once nobody owns it) and send queue, or -1 when it is gone (or in TIME_WAIT). */
static int test_server_side(int sport, int cport, unsigned long *inode, unsigned long *txq)
{
    char line[512];
    FILE *f = fopen("/proc/net/tcp", "r");
    int rc = -1;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f) != NULL) {
        unsigned lport, rport, st;
        unsigned long tx, ino;

        if (sscanf(line, " %*d: %*x:%x %*x:%x %x %lx:%*x %*x:%*x %*x %*u %*d %lu", &lport, &rport,
                   &st, &tx, &ino) == 5 &&
            (int)lport == sport && (int)rport == cport && st != 6) {
            *inode = ino;
            *txq = tx;
            rc = 0;
        }
    }
    fclose(f);
    return rc;
}

/* test_issue_10: a written answer the client has not taken yet stays nctop's until the client
 * has it all: closing at once made the socket an orphan that the kernel kept sending, outside
 * nctop's limits, and reset under memory pressure. */
static void test_issue_10_answer_kept_until_taken(void **state)
{
    uv_loop_t loop;
    struct http_server *srv = NULL;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t n = sizeof(a);
    static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    char spec[32], buf[65536];
    int fd, sport, cport, rcvbuf = 4096;
    unsigned long inode = 0, txq = 0;
    size_t got = 0;
    ssize_t r;

    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    /* A free port: the kernel's choice for a socket bound to port 0, then given back. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &n), 0);
    sport = ntohs(a.sin_port);
    close(fd);
    snprintf(spec, sizeof(spec), "127.0.0.1:%d", sport);
    assert_int_equal(http_server_start(&loop, spec, test_render, NULL, &srv), 0);

    fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    cport = test_port_of(fd, false);
    assert_int_equal(test_port_of(fd, true), sport);
    assert_int_equal(send(fd, req, sizeof(req) - 1, 0), (ssize_t)(sizeof(req) - 1));

    /* The server answers; the client reads nothing, so most of the answer waits in the
     * kernel's send queue (bounded: 2 s of loop). */
    for (int i = 0; i < 400 && txq < TEST_BODY_BYTES / 2; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        if (test_server_side(sport, cport, &inode, &txq) != 0) {
            txq = 0;
        }
        usleep(5000);
    }
    assert_true(txq >= TEST_BODY_BYTES / 2);
    /* Time for the write to end and the close to be looked at, several times over. */
    for (int i = 0; i < 20; i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(10000);
    }
    assert_int_equal(test_server_side(sport, cport, &inode, &txq), 0);
    assert_true(txq > 0);
    assert_int_not_equal(inode, 0); /* still nctop's socket, not an orphan */

    /* The client takes it all, to the server's FIN; then the server lets the socket go. */
    for (int i = 0; i < 20000; i++) {
        struct pollfd p = {.fd = fd, .events = POLLIN};

        uv_run(&loop, UV_RUN_NOWAIT);
        if (poll(&p, 1, 1) <= 0) {
            continue;
        }
        r = recv(fd, buf, sizeof(buf), 0);
        assert_true(r >= 0);
        if (r == 0) {
            break;
        }
        got += (size_t)r;
    }
    assert_true(got > TEST_BODY_BYTES);
    for (int i = 0; i < 100 && test_server_side(sport, cport, &inode, &txq) == 0 && inode != 0;
         i++) {
        uv_run(&loop, UV_RUN_NOWAIT);
        usleep(5000);
    }
    assert_true(test_server_side(sport, cport, &inode, &txq) != 0 || (inode == 0 && txq == 0));
    close(fd);
    http_server_stop(srv);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_routes),
        cmocka_unit_test(test_parse_bad_and_partial),
        cmocka_unit_test(test_issue_16_healthz_route),
        cmocka_unit_test(test_issue_10_answer_kept_until_taken),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
