/* SPDX-License-Identifier: MIT */
/* Unit tests of the incremental HTTP/1.1 response parser (issue 17): framing by length, by
 * chunks and by the close, split anywhere; headers; bounds; malformed input; Retry-After. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "src/base/http_response.h"

/* Feed a whole string in one call. */
static int feed_str(struct http_response *r, const char *s, size_t *used)
{
    return http_response_feed(r, s, strlen(s), used);
}

static void test_content_length(void **state)
{
    struct http_response *r = http_response_new(1024);
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                       "Content-Length: 11\r\n\r\n{\"ok\":true}";
    size_t used = 0, len = 0;
    uint64_t cl = 0;

    (void)state;
    assert_int_equal(feed_str(r, resp, &used), 1);
    assert_int_equal(used, strlen(resp));
    assert_true(http_response_head_done(r));
    assert_int_equal(http_response_status(r), 200);
    assert_string_equal(http_response_header(r, "content-type"), "application/json");
    assert_null(http_response_header(r, "Retry-After"));
    assert_true(http_response_content_length(r, &cl));
    assert_int_equal(cl, 11);
    assert_false(http_response_chunked(r));
    assert_true(http_response_keep_alive(r));
    assert_string_equal(http_response_body(r, &len), "{\"ok\":true}");
    assert_int_equal(len, 11);
    assert_int_equal(http_response_header_count(r), 2);
    http_response_free(r);
}

/* Every split of the bytes into two feeds, and one byte at a time, parse the same. */
static void check_splits(const char *resp, int status, const char *body)
{
    size_t n = strlen(resp);

    for (size_t cut = 0; cut <= n; cut++) {
        struct http_response *r = http_response_new(4096);
        size_t used = 0, len = 0;
        int rc = http_response_feed(r, resp, cut, &used);
        assert_true(rc == 0 || (rc == 1 && cut == n));
        assert_int_equal(used, cut);
        rc = http_response_feed(r, resp + cut, n - cut, &used);
        assert_int_equal(rc, 1);
        assert_int_equal(used, n - cut);
        assert_int_equal(http_response_status(r), status);
        assert_string_equal(http_response_body(r, &len), body);
        assert_int_equal(len, strlen(body));
        http_response_free(r);
    }

    struct http_response *r = http_response_new(4096);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rc, 0);
        rc = http_response_feed(r, resp + i, 1, NULL);
    }
    assert_int_equal(rc, 1);
    assert_string_equal(http_response_body(r, NULL), body);
    http_response_free(r);
}

static void test_split_anywhere(void **state)
{
    (void)state;
    check_splits("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "hello");
    check_splits("HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3\r\nContent-Length: 0\r\n\r\n",
                 429, "");
    check_splits("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 "5;name=val\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n"
                 "X-Trailer: 1\r\n\r\n",
                 200, "helloabcdefghijklmnopqrstuvwxyz");
    /* Bare LF line ends are taken too. */
    check_splits("HTTP/1.1 503 Unavailable\nContent-Length: 2\n\nno", 503, "no");
}

static void test_chunked(void **state)
{
    struct http_response *r = http_response_new(64);
    const char *resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
                       "Content-Length: 999\r\n\r\n3\r\nabc\r\n0\r\n\r\nHTTP/1.1";
    size_t used = 0;
    uint64_t cl = 0;

    (void)state;
    /* A Transfer-Encoding overrides the Content-Length; the next response's bytes stay. */
    assert_int_equal(feed_str(r, resp, &used), 1);
    assert_int_equal(used, strlen(resp) - strlen("HTTP/1.1"));
    assert_true(http_response_chunked(r));
    assert_false(http_response_content_length(r, &cl));
    assert_string_equal(http_response_body(r, NULL), "abc");
    assert_true(http_response_keep_alive(r));

    /* Reuse for the next response on the connection. */
    http_response_reset(r, false);
    assert_int_equal(http_response_status(r), 0);
    assert_int_equal(feed_str(r, "HTTP/1.1 204 No Content\r\n\r\n", NULL), 1);
    assert_int_equal(http_response_status(r), 204);
    assert_string_equal(http_response_body(r, NULL), "");
    http_response_free(r);
}

static void test_until_close(void **state)
{
    struct http_response *r = http_response_new(64);

    (void)state;
    assert_int_equal(feed_str(r, "HTTP/1.0 200 OK\r\n\r\nsome", NULL), 0);
    assert_int_equal(feed_str(r, " body", NULL), 0);
    assert_int_equal(http_response_eof(r), 1);
    assert_string_equal(http_response_body(r, NULL), "some body");
    assert_false(http_response_keep_alive(r));
    http_response_free(r);

    /* A final coding other than chunked: the body ends with the connection. */
    r = http_response_new(64);
    assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxy", NULL), 0);
    assert_int_equal(http_response_eof(r), 1);
    assert_string_equal(http_response_body(r, NULL), "xy");
    http_response_free(r);
}

static void test_cut_short(void **state)
{
    static const char *const cuts[] = {
        "",
        "HTTP/1.1 200 OK\r\nContent-Le",
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        struct http_response *r = http_response_new(64);
        assert_int_equal(feed_str(r, cuts[i], NULL), 0);
        assert_int_equal(http_response_eof(r), -EPIPE);
        /* The error sticks. */
        assert_int_equal(feed_str(r, "more", NULL), -EPIPE);
        http_response_free(r);
    }
}

static void test_no_body(void **state)
{
    struct http_response *r = http_response_new(64);
    size_t used = 0;

    (void)state;
    /* Interim responses are skipped; 304 and HEAD answers have no body whatever they say. */
    const char *resp = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n"
                       "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n";
    assert_int_equal(feed_str(r, resp, &used), 1);
    assert_int_equal(used, strlen(resp));
    assert_int_equal(http_response_status(r), 304);
    assert_null(http_response_header(r, "Link"));
    http_response_reset(r, true);
    assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n", NULL), 1);
    assert_string_equal(http_response_body(r, NULL), "");
    http_response_free(r);
}

static void test_connection(void **state)
{
    struct http_response *r = http_response_new(64);

    (void)state;
    assert_int_equal(
        feed_str(r, "HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n", NULL), 1);
    assert_false(http_response_keep_alive(r));
    http_response_reset(r, false);
    assert_int_equal(feed_str(r,
                              "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                              "Content-Length: 0\r\n\r\n",
                              NULL),
                     1);
    assert_true(http_response_keep_alive(r));
    http_response_reset(r, false);
    assert_int_equal(feed_str(r, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", NULL), 1);
    assert_false(http_response_keep_alive(r));
    http_response_free(r);
}

static void test_headers(void **state)
{
    struct http_response *r = http_response_new(64);
    const char *name = NULL, *value = NULL;
    uint64_t cl = 0;

    (void)state;
    assert_int_equal(feed_str(r,
                              "HTTP/1.1 200\r\nX-A:   padded value \t\r\nX-Empty:\r\n"
                              "Content-Length: 2, 2\r\n\r\nok",
                              NULL),
                     1);
    assert_int_equal(http_response_status(r), 200);
    assert_string_equal(http_response_header(r, "x-a"), "padded value");
    assert_string_equal(http_response_header(r, "X-EMPTY"), "");
    assert_true(http_response_content_length(r, &cl));
    assert_int_equal(cl, 2);
    assert_int_equal(http_response_header_count(r), 3);
    http_response_header_at(r, 0, &name, &value);
    assert_string_equal(name, "X-A");
    assert_string_equal(value, "padded value");
    http_response_free(r);
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
        "HTTP/2 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 2000 OK\r\n\r\n",
        "HTTP/1.1 099 OK\r\n\r\n",
        "http/1.1 200 OK\r\n\r\n",
        "\r\nHTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nName : x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: x\r\n folded\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: x\ry\r\n\r\n",
        "HTTP/1.1 200 OK\r\nA: x\x01y\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\rX",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT\r: 1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNoColon\r\n\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct http_response *r = http_response_new(1024);
        int rc = feed_str(r, bad[i], NULL);
        if (rc != -EBADMSG) {
            print_error("case %zu: rc %d\n", i, rc);
        }
        assert_int_equal(rc, -EBADMSG);
        assert_int_equal(http_response_eof(r), -EBADMSG);
        http_response_free(r);
    }
    /* A NUL byte in the head. */
    struct http_response *r = http_response_new(64);
    static const char nul[] = "HTTP/1.1 200 OK\r\nA: \0\r\n\r\n";
    assert_int_equal(http_response_feed(r, nul, sizeof(nul) - 1, NULL), -EBADMSG);
    http_response_free(r);
}

static void test_bounds(void **state)
{
    struct http_response *r = http_response_new(8);
    char *big = NULL;

    (void)state;
    /* Bodies over max_body: announced, chunked, and delimited by the close. */
    assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", NULL), -E2BIG);
    http_response_reset(r, false);
    assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n12345678", NULL), 1);
    http_response_reset(r, false);
    assert_int_equal(feed_str(r,
                              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "5\r\n12345\r\n4\r\n",
                              NULL),
                     -E2BIG);
    http_response_reset(r, false);
    assert_int_equal(feed_str(r,
                              "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "ffffffffffffffffff\r\n",
                              NULL),
                     -E2BIG);
    http_response_reset(r, false);
    assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\n\r\n1234", NULL), 0);
    assert_int_equal(feed_str(r, "56789", NULL), -E2BIG);
    http_response_free(r);

    /* A head over the bound, and too many headers. */
    r = http_response_new(8);
    big = malloc(HTTP_RESPONSE_MAX_HEAD + 64);
    assert_non_null(big);
    memset(big, 'a', HTTP_RESPONSE_MAX_HEAD + 63);
    memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
    big[HTTP_RESPONSE_MAX_HEAD + 63] = '\0';
    assert_int_equal(feed_str(r, big, NULL), -EMSGSIZE);
    http_response_reset(r, false);
    assert_int_equal(feed_str(r, "HTTP/1.1 200 OK\r\n", NULL), 0);
    int rc = 0;
    for (int i = 0; i <= HTTP_RESPONSE_MAX_HEADERS && rc == 0; i++) {
        rc = feed_str(r, "A: b\r\n", NULL);
    }
    assert_int_equal(rc, 0);
    assert_int_equal(feed_str(r, "\r\n", NULL), -EMSGSIZE);
    /* Trailers are bounded too. */
    http_response_reset(r, false);
    assert_int_equal(
        feed_str(r, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", NULL), 0);
    memset(big, 'a', HTTP_RESPONSE_MAX_HEAD + 63);
    big[HTTP_RESPONSE_MAX_HEAD + 63] = '\0';
    assert_int_equal(feed_str(r, big, NULL), -EMSGSIZE);
    free(big);
    http_response_free(r);
}

/* Random bytes, and random mutations of a good response: always an answer, never a crash. */
static void test_any_bytes(void **state)
{
    const char *good = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n"
                       "\r\n3\r\nabc\r\n0\r\n\r\n";
    unsigned seed = 17;
    char buf[256];

    (void)state;
    for (int iter = 0; iter < 20000; iter++) {
        struct http_response *r = http_response_new(64);
        size_t n = strlen(good);
        memcpy(buf, good, n);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245U + 12345U;
            size_t at = (seed >> 8) % n;
            seed = seed * 1103515245U + 12345U;
            buf[at] = iter < 10000 ? (char)((seed >> 16) & 0xff) : "\r\n:0 ;a"[(seed >> 16) % 7];
        }
        if (iter % 3 == 0) {
            for (size_t i = 0; i < n; i++) {
                seed = seed * 1103515245U + 12345U;
                buf[i] = (char)((seed >> 16) & 0xff);
            }
        }
        size_t off = 0;
        int rc = 0;
        while (off < n && rc == 0) {
            size_t used = 0;
            seed = seed * 1103515245U + 12345U;
            size_t step = 1 + (seed >> 16) % 7;
            if (step > n - off) {
                step = n - off;
            }
            rc = http_response_feed(r, buf + off, step, &used);
            assert_true(used <= step);
            off += used;
        }
        assert_true(rc == 0 || rc == 1 || rc == -EBADMSG || rc == -EMSGSIZE || rc == -E2BIG);
        rc = http_response_eof(r);
        assert_true(rc == 1 || rc < 0);
        size_t blen = 0;
        const char *body = http_response_body(r, &blen);
        assert_true(blen <= 64);
        assert_int_equal(body[blen], '\0');
        http_response_free(r);
    }
}

static void test_retry_after(void **state)
{
    /* 1994-11-06 08:49:37 UTC */
    const int64_t when = 784111777;
    uint64_t d = 0;

    (void)state;
    assert_int_equal(http_retry_after_parse("120", 0, &d), 0);
    assert_int_equal(d, 120);
    assert_int_equal(http_retry_after_parse(" 0 ", 0, &d), 0);
    assert_int_equal(d, 0);
    assert_int_equal(http_retry_after_parse("99999999999999999999999", 0, &d), 0);
    assert_int_equal(d, UINT32_MAX);
    assert_int_equal(http_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", when - 30, &d), 0);
    assert_int_equal(d, 30);
    assert_int_equal(http_retry_after_parse("Sunday, 06-Nov-94 08:49:37 GMT", when - 5, &d), 0);
    assert_int_equal(d, 5);
    assert_int_equal(http_retry_after_parse("Sun Nov  6 08:49:37 1994", when - 7, &d), 0);
    assert_int_equal(d, 7);
    /* A date in the past is no wait. */
    assert_int_equal(http_retry_after_parse("Sun, 06 Nov 1994 08:49:37 GMT", when + 100, &d), 0);
    assert_int_equal(d, 0);
    /* Leap years and the end of the year. */
    assert_int_equal(http_retry_after_parse("Thu, 29 Feb 2024 00:00:00 GMT", 0, &d), 0);
    assert_int_equal(d, 1709164800);
    assert_int_equal(http_retry_after_parse("Thu, 31 Dec 2026 23:59:59 GMT", 0, &d), 0);
    assert_int_equal(d, 1798761599);

    static const char *const bad[] = {
        "",
        "soon",
        "12s",
        "-5",
        "1.5",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Funday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 94",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(http_retry_after_parse(bad[i], 0, &d), -EINVAL);
    }

    struct http_response *r = http_response_new(64);
    assert_int_equal(
        feed_str(r, "HTTP/1.1 503 x\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n", NULL), 1);
    assert_int_equal(http_response_retry_after(r, 0, &d), 0);
    assert_int_equal(d, 2);
    http_response_reset(r, false);
    assert_int_equal(feed_str(r, "HTTP/1.1 503 x\r\nContent-Length: 0\r\n\r\n", NULL), 1);
    assert_int_equal(http_response_retry_after(r, 0, &d), -ENOENT);
    http_response_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length), cmocka_unit_test(test_split_anywhere),
        cmocka_unit_test(test_chunked),        cmocka_unit_test(test_until_close),
        cmocka_unit_test(test_cut_short),      cmocka_unit_test(test_no_body),
        cmocka_unit_test(test_connection),     cmocka_unit_test(test_headers),
        cmocka_unit_test(test_malformed),      cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_any_bytes),      cmocka_unit_test(test_retry_after),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
