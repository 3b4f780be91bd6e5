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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_routes),
        cmocka_unit_test(test_parse_bad_and_partial),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
