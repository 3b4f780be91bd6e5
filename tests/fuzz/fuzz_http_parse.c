/* SPDX-License-Identifier: MIT */
/* Fuzz the exporter's request parser (http_parse_request in src/http.c) on any bytes, not
 * NUL-terminated. Its answer must be one of the statuses the server sends, decided by the
 * head alone (the same on the bytes up to the blank line), and not before the blank line. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_http_fail(const char *why, size_t len, const struct http_request *r)
{
    fprintf(stderr, "http_parse_request: %s (len %zu: status %d route %d head %d bytes %zu)\n", why,
            len, r->status, (int)r->route, (int)r->head, r->header_bytes);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct http_request req, again;
    int rc = http_parse_request(buf, size, &req);

    if (rc == 0) {
        if (size >= HTTP_MAX_REQUEST_BYTES - 1) {
            fuzz_http_fail("still waiting past the request size limit", size, &req);
        }
        return 0;
    }
    if (rc != 1) {
        fuzz_http_fail("neither complete nor incomplete", size, &req);
    }
    switch (req.status) {
    case 200:
    case 400:
    case 404:
    case 405:
    case 431:
        break;
    default:
        fuzz_http_fail("a status the server does not send", size, &req);
    }
    if ((req.status == 200) != (req.route != HTTP_ROUTE_NONE)) {
        fuzz_http_fail("a route without a 200, or a 200 without one", size, &req);
    }
    if (req.status == 431) {
        if (req.header_bytes != 0 || size < HTTP_MAX_REQUEST_BYTES - 1) {
            fuzz_http_fail("431 for a request that fits", size, &req);
        }
        return 0;
    }
    if (req.header_bytes == 0 || req.header_bytes > size ||
        req.header_bytes > HTTP_MAX_REQUEST_BYTES - 1) {
        fuzz_http_fail("a head longer than what arrived", size, &req);
    }
    /* The head decides: the bytes up to the blank line give the same answer ... */
    if (http_parse_request(buf, req.header_bytes, &again) != 1 ||
        memcmp(&again, &req, sizeof(req)) != 0) {
        fuzz_http_fail("the head alone reads differently", req.header_bytes, &again);
    }
    /* ... and one byte fewer is not a whole request yet. */
    if (http_parse_request(buf, req.header_bytes - 1, &again) != 0) {
        fuzz_http_fail("complete before its blank line", req.header_bytes - 1, &again);
    }
    return 0;
}
